/* Unit test: ACLs in the index (acl.c, RFC 4314): set, replace,
 * remove, the limit of entries, "used anywhere", kept by RENAME, gone
 * with DELETE, an index made before the table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/log.h"
#include "maildir.h"
#include "../t/tap.h"
#include "test-index.h"

static char root[256];

/* "ident rights ..." of a folder, or "-1". */
static const char *
acl(struct mstore *st, const char *mailbox)
{
	static char out[1024];
	struct macl *v;
	size_t n, i;

	if (mstore_acl_get(st, mailbox, &v, &n) == -1)
		return "-1";
	out[0] = '\0';
	for (i = 0; i < n; i++)
		snprintf(out + strlen(out), sizeof(out) - strlen(out),
		    "%s%s %s", i ? " " : "", v[i].ident, v[i].rights);
	free(v);
	return out;
}

int
main(void)
{
	struct mstore *st;
	const char *err;
	char id[64];
	int i, r;

	log_init("test-acl", LOG_LVL_ERR, 0);
	snprintf(root, sizeof(root), "/tmp/test-acl.%ld", (long)getpid());
	ok(mstore_open(root, &st, &err) == 0, "open creates the store");
	ok(strcmp(acl(st, "INBOX"), "") == 0, "no ACL at first");
	ok(mstore_acl_set(st, "INBOX", "b@x.test", "lr", 10) == 0 &&
	    mstore_acl_set(st, "INBOX", "-anyone", "w", 10) == 0 &&
	    strcmp(acl(st, "INBOX"), "-anyone w b@x.test lr") == 0,
	    "two entries, ordered by identifier");
	ok(mstore_acl_set(st, "INBOX", "b@x.test", "lrs", 10) == 0 &&
	    strcmp(acl(st, "INBOX"), "-anyone w b@x.test lrs") == 0,
	    "set again replaces");
	ok(mstore_acl_used(st, "b@x.test") == 1 &&
	    mstore_acl_used(st, "c@x.test") == 0, "used anywhere");
	ok(mstore_acl_set(st, "INBOX", "-anyone", NULL, 10) == 0 &&
	    strcmp(acl(st, "INBOX"), "b@x.test lrs") == 0,
	    "NULL removes an entry");
	ok(mstore_acl_set(st, "Nowhere", "b@x.test", "l", 10) == -1 &&
	    mstore_errclass(st) == MSTORE_ENOTFOUND &&
	    strcmp(acl(st, "Nowhere"), "-1") == 0, "no such folder");
	for (i = 0, r = 0; i < 3 && r == 0; i++) {
		snprintf(id, sizeof(id), "u%d@x.test", i);
		r = mstore_acl_set(st, "Sent", id, "l", 2);
	}
	ok(r == -1 && mstore_errclass(st) == MSTORE_ELIMIT &&
	    strcmp(acl(st, "Sent"), "u0@x.test l u1@x.test l") ==
	    0, "the entry over the limit is refused, nothing of it kept");
	ok(mstore_create(st, "A") == 0 && mstore_create(st, "A/B") == 0 &&
	    mstore_acl_set(st, "A/B", "b@x.test", "lrk", 10) == 0 &&
	    mstore_rename(st, "A", "C") == 0 &&
	    strcmp(acl(st, "C/B"), "b@x.test lrk") == 0,
	    "RENAME of the parent carries a child's ACL");
	ok(mstore_delete(st, "C/B") == 0 && mstore_create(st, "C/B") == 0 &&
	    strcmp(acl(st, "C/B"), "") == 0,
	    "DELETE takes it; a new folder of that name has none");
	mstore_close(&st);

	ok(index_sql(root, "DROP TRIGGER acl_mailbox_del; DROP TABLE acl") ==
	    0, "an index of before");
	ok(mstore_open(root, &st, &err) == 0 &&
	    mstore_acl_set(st, "INBOX", "b@x.test", "l", 10) == 0 &&
	    strcmp(acl(st, "INBOX"), "b@x.test l") == 0,
	    "opened: the table is made");
	mstore_close(&st);
	tap_remove_tree(root);
	return done_testing();
}
