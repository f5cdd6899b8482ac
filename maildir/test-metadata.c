/* Unit test: annotations in the index (metadata.c, RFC 5464): set and
 * remove, all or none, DEPTH, the server's apart from a folder's,
 * kept by RENAME, gone with DELETE, an index made before the table. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "../lib/log.h"
#include "maildir.h"
#include "../t/tap.h"
#include "test-index.h"

static char root[256];

/* The names got for (mailbox, name, depth), space-separated, or "-1". */
static const char *
names(struct mstore *st, const char *mailbox, const char *name, int depth)
{
	static char out[1024];
	struct mmeta *m;
	size_t n, i;

	if (mstore_metadata_get(st, mailbox, name, depth, &m, &n) == -1)
		return "-1";
	out[0] = '\0';
	for (i = 0; i < n; i++)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s",
		    i ? " " : "", m[i].name);
	mmeta_free(&m, &n);
	return out;
}

int
main(void)
{
	struct mstore *st;
	struct mmeta set[3], *m;
	const char *err;
	size_t n;

	log_init("test-metadata", LOG_LVL_ERR, 0);
	snprintf(root, sizeof(root), "/tmp/test-metadata.%ld",
	    (long)getpid());
	ok(mstore_open(root, &st, &err) == 0, "open creates the store");
	memset(set, 0, sizeof(set));
	set[0].name = "/private/a";
	set[0].value = "x\0y";
	set[0].len = 3;
	set[1].name = "/private/a/b";
	set[1].value = "1";
	set[1].len = 1;
	set[2].name = "/private/a/b/c";
	set[2].value = "2";
	set[2].len = 1;
	ok(mstore_metadata_set(st, "INBOX", set, 3, 10) == 0, "three set");
	ok(mstore_metadata_get(st, "INBOX", "/private/a", 0, &m, &n) == 0 &&
	    n == 1 && m[0].len == 3 && memcmp(m[0].value, "x\0y", 3) == 0,
	    "a value with a NUL comes back whole");
	mmeta_free(&m, &n);
	ok(strcmp(names(st, "INBOX", "/private/a", 1),
	    "/private/a /private/a/b") == 0, "depth 1");
	ok(strcmp(names(st, "INBOX", "/private/a", -1),
	    "/private/a /private/a/b /private/a/b/c") == 0, "depth infinity");
	ok(strcmp(names(st, "INBOX", "/private", -1),
	    "/private/a /private/a/b /private/a/b/c") == 0, "from the root");
	ok(strcmp(names(st, NULL, "/private", -1), "") == 0,
	    "the server's are others");
	set[0].value = NULL;		/* remove /private/a ... */
	set[1].name = "/private/new";	/* ... add one: 4 > 3 */
	ok(mstore_metadata_set(st, "INBOX", set, 2, 2) == -1 &&
	    mstore_errclass(st) == MSTORE_ELIMIT && strcmp(names(st, "INBOX",
	    "/private", -1), "/private/a /private/a/b /private/a/b/c") == 0,
	    "over the limit: MSTORE_ELIMIT, nothing changed");
	ok(mstore_metadata_set(st, "INBOX", set, 2, 3) == 0 &&
	    strcmp(names(st, "INBOX", "/private", -1),
	    "/private/a/b /private/a/b/c /private/new") == 0,
	    "at the limit: removed and added");
	ok(mstore_metadata_set(st, "Nowhere", set, 1, 3) == -1 &&
	    mstore_errclass(st) == MSTORE_ENOTFOUND && strcmp(names(st,
	    "Nowhere", "/p", 0), "-1") == 0, "no such folder: ENOTFOUND");
	ok(mstore_create(st, "A") == 0 && mstore_create(st, "A/B") == 0 &&
	    mstore_metadata_set(st, "A/B", &set[1], 1, 3) == 0 &&
	    mstore_rename(st, "A", "C") == 0 &&
	    strcmp(names(st, "C/B", "/private/new", 0), "/private/new") == 0,
	    "RENAME of the parent carries a child's");
	ok(mstore_delete(st, "C/B") == 0 && mstore_create(st, "C/B") == 0 &&
	    strcmp(names(st, "C/B", "/private/new", 0), "") == 0,
	    "DELETE takes them; a new folder of that name has none");
	mstore_close(&st);

	ok(index_sql(root, "DROP TRIGGER metadata_mailbox_del;"
	    " DROP TABLE metadata") == 0,
	    "an index of before");
	ok(mstore_open(root, &st, &err) == 0 &&
	    mstore_metadata_set(st, NULL, &set[1], 1, 3) == 0 &&
	    strcmp(names(st, NULL, "/private", 1), "/private/new") == 0,
	    "opened: the table is made");
	mstore_close(&st);
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
		if (system(cmd) != 0)
			diag("cleanup failed");
	}
	return done_testing();
}
