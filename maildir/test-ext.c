/* Unit test: what IMAP extensions keep in the index (ext.c): save
 * dates, EMAILIDs kept by a copy, previews, MAILBOXIDs kept by a
 * rename, special uses given at creation, and an index made before
 * the tables. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "../lib/log.h"
#include "maildir.h"
#include "../t/tap.h"
#include "test-index.h"

static char root[256];

static void
put_file(const char *name, const char *text)
{
	char p[512];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/new/%s", root, name);
	if ((fp = fopen(p, "w")) == NULL)
		abort();
	fputs(text, fp);
	fclose(fp);
}

static void
list_cb(const char *name, unsigned int attrs, void *arg)
{
	char *out = arg;

	if (attrs & MFA_SPECIAL)
		snprintf(out + strlen(out), 1024 - strlen(out), "%s:%x ", name,
		    attrs & MFA_SPECIAL);
}

int
main(void)
{
	struct mstore *st;
	struct mbox *in, *arch;
	struct mmsg_ext e1, e2, e3;
	char id1[MAILDIR_OBJECTID_MAX + 1], id2[MAILDIR_OBJECTID_MAX + 1];
	char list[1024] = "";
	const char *err;
	uint32_t uid;
	time_t now = time(NULL);

	log_init("test-ext", LOG_LVL_ERR, 0);
	snprintf(root, sizeof(root), "/tmp/test-ext.%ld", (long)getpid());
	ok(mstore_open(root, &st, &err) == 0, "open creates the store");
	put_file("1000.Qa.host", "Subject: a\n\nbody a\n");
	put_file("1001.Qb.host", "Subject: b\n\nbody b\n");
	ok(mbox_open(st, "INBOX", &in) == 0, "a delivery is picked up");
	ok(mbox_msg_ext(in, 1, &e1) == 1 && mbox_msg_ext(in, 2, &e2) == 1 &&
	    e1.savedate >= now - 5 && e1.savedate <= now + 5 &&
	    strlen(e1.emailid) == 25 && strcmp(e1.emailid, e2.emailid) != 0 &&
	    strspn(e1.emailid, "M0123456789abcdef") == 25 && e1.preview == NULL,
	    "saved now, distinct EMAILIDs (%s %s), no preview yet", e1.emailid,
	    e2.emailid);
	ok(mbox_msg_ext(in, 9, &e3) == 0, "no such message: 0");
	ok(mbox_preview_put(in, 1, "body a") == 0 && mbox_msg_ext(in, 1,
	    &e3) == 1 && e3.preview != NULL && strcmp(e3.preview, "body a") ==
	    0, "a preview is kept");
	mmsg_ext_free(&e3);
	ok(mbox_open(st, "Archive", &arch) == 0 && mbox_copy(in, 1, arch,
	    &uid) == 0 && mbox_msg_ext(arch, uid, &e3) == 1 &&
	    strcmp(e3.emailid, e1.emailid) == 0 && e3.preview != NULL,
	    "a copy keeps the EMAILID and the preview");
	mmsg_ext_free(&e3);
	mbox_close(&arch);
	ok(mstore_mailbox_id(st, "INBOX", id1) == 0 && id1[0] == 'F' &&
	    mbox_mailbox_id(in, id2) == 0 && strcmp(id1, id2) == 0,
	    "one MAILBOXID for INBOX (%s)", id1);
	ok(mstore_create(st, "A") == 0 && mstore_mailbox_id(st, "A", id1) ==
	    0 && mstore_rename(st, "A", "B/C") == 0 && mstore_mailbox_id(st,
	    "B/C", id2) == 0 && strcmp(id1, id2) == 0,
	    "RENAME keeps the MAILBOXID");
	ok(mstore_delete(st, "B/C") == 0 && mstore_create(st, "B/C") == 0 &&
	    mstore_mailbox_id(st, "B/C", id2) == 0 && strcmp(id1, id2) != 0,
	    "DELETE and CREATE: a new one");
	ok(mstore_create_special(st, "Mine", MFA_DRAFTS | MFA_JUNK) == 0,
	    "create with special uses");
	ok(mstore_create_special(st, "Mine", MFA_SENT) == -1 &&
	    mstore_exists(st, "Mine"), "again: refused, the folder stays");
	ok(mstore_create_special(st, "Odd", 0x1000) == -1 &&
	    !mstore_exists(st, "Odd"), "an unknown use: refused, no folder");
	ok(mstore_rename(st, "Mine", "Yours") == 0, "rename it");
	mstore_list(st, list_cb, list);
	ok(strstr(list, "Yours:a0 ") != NULL && strstr(list, "Mine") == NULL,
	    "LIST shows the uses under the new name: %s", list);
	mmsg_ext_free(&e1);
	mmsg_ext_free(&e2);
	mbox_close(&in);
	mstore_close(&st);

	/* An index made before the tables: they are made, and its
	 * messages get rows, saved at their INTERNALDATE. */
	ok(index_sql(root, "DROP TABLE msg_ext; DROP TABLE mailbox_ext;"
	    " UPDATE msg SET internaldate = 946684800") == 0,
	    "an index of before");
	ok(mstore_open(root, &st, &err) == 0 && mbox_open(st, "INBOX", &in) ==
	    0 && mbox_msg_ext(in, 2, &e1) == 1 && e1.savedate == 946684800 &&
	    e1.emailid[0] == 'M', "opened: its messages have rows (%s)",
	    e1.emailid);
	mmsg_ext_free(&e1);
	/* A row an older program added without one: still answered. */
	ok(index_sql(root, "DELETE FROM msg_ext WHERE msg = (SELECT id FROM"
	    " msg WHERE uid = 1 AND mailbox = (SELECT id FROM mailbox WHERE"
	    " name = 'INBOX'))") == 0 && mbox_msg_ext(in, 1, &e1) == 1 &&
	    e1.savedate == 946684800 && e1.emailid[0] == 'R',
	    "a row without one: INTERNALDATE, an id of its row (%s)",
	    e1.emailid);
	mmsg_ext_free(&e1);
	mbox_close(&in);
	mstore_close(&st);
	tap_remove_tree(root);
	return done_testing();
}
