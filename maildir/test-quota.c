/* Unit test: what a user's mail takes (quota.c): no index yet,
 * deliveries in new/, the index's row after a sync, APPEND, COPY,
 * EXPUNGE and a folder deleted with its messages, an index made before
 * the row, and DELETED-STORAGE. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "../lib/log.h"
#include "maildir.h"
#include "../t/tap.h"
#include "test-index.h"

static char root[256];

/* A delivery as the queue names it: ",S=<size>,W=<size with CRLF>". */
static void
deliver(const char *base, const char *text)
{
	char p[512];
	size_t n = strlen(text), lines = 0, i;
	FILE *fp;

	for (i = 0; i < n; i++)
		lines += text[i] == '\n' && (i == 0 || text[i - 1] != '\r');
	snprintf(p, sizeof(p), "%s/new/%s,S=%zu,W=%zu", root, base, n,
	    n + lines);
	if ((fp = fopen(p, "w")) == NULL)
		abort();
	fputs(text, fp);
	fclose(fp);
}

static int
usage_is(struct mstore *st, uint64_t octets, uint64_t messages)
{
	uint64_t o1, m1, o2, m2;

	if (mstore_usage(st, &o1, &m1) == -1 ||
	    maildir_usage(root, &o2, &m2) == -1)
		return 0;
	if (o1 != octets || m1 != messages || o2 != octets || m2 != messages)
		diag("store %llu/%llu, read-only %llu/%llu, want %llu/%llu",
		    (unsigned long long)o1, (unsigned long long)m1,
		    (unsigned long long)o2, (unsigned long long)m2,
		    (unsigned long long)octets, (unsigned long long)messages);
	return o1 == octets && m1 == messages && o2 == octets &&
	    m2 == messages;
}

int
main(void)
{
	static const char a[] = "Subject: a\n\nbody a\n";	/* 19 + 3 */
	static const char b[] = "Subject: b\r\n\r\nbody b\r\n"; /* 22 */
	struct mstore *st;
	struct mbox *in, *arch, *tmp;
	uint64_t octets, msgs, modseq;
	char path[512];
	uint32_t uid, uid2;
	const char *err;
	int fd, i;

	log_init("test-quota", LOG_LVL_ERR, 0);
	snprintf(root, sizeof(root), "/tmp/test-quota.%ld", (long)getpid());
	mkdir(root, 0700);
	snprintf(path, sizeof(path), "%s/new", root);
	mkdir(path, 0700);
	deliver("1000.Qa.host", a);
	ok(maildir_usage(root, &octets, &msgs) == 0 && octets == 22 &&
	    msgs == 1, "no index yet: the delivery in new/");

	ok(mstore_open(root, &st, &err) == 0, "open creates the store");
	ok(usage_is(st, 22, 1), "before a sync: still counted from new/");
	ok(mbox_open(st, "INBOX", &in) == 0 && usage_is(st, 22, 1),
	    "after the sync: the index's row, the same");
	deliver("1001.Qb.host", b);
	ok(usage_is(st, 44, 2), "a second delivery, not synced");
	ok(mbox_sync(in) == 0 && usage_is(st, 44, 2), "synced");

	ok((fd = mbox_append_begin(in, path, sizeof(path))) != -1 &&
	    write(fd, b, sizeof(b) - 1) == (ssize_t)sizeof(b) - 1 &&
	    close(fd) == 0 && mbox_append_commit(in, path, 0, "", 0, &uid) ==
	    0 && usage_is(st, 66, 3), "APPEND adds its size");
	ok(mbox_open(st, "Archive", &arch) == 0 && mbox_copy(in, uid, arch,
	    &uid2) == 0 && usage_is(st, 88, 4), "COPY too");
	ok(mbox_set_flags(in, 1, MF_DELETED, "", 0, &modseq) == 1 &&
	    mstore_deleted_storage(st, "INBOX", &octets) == 0 && octets == 22,
	    "DELETED-STORAGE: the \\Deleted message's 22 octets");
	ok(mbox_expunge(in, (uint32_t[]){ 1 }, 1) == 0 && usage_is(st, 66, 3),
	    "EXPUNGE gives them back");
	ok(mstore_deleted_storage(st, "INBOX", &octets) == 0 && octets == 0,
	    "and DELETED-STORAGE is 0");
	ok(mstore_create(st, "Tmp") == 0 && mbox_open(st, "Tmp", &tmp) == 0 &&
	    mbox_copy(in, uid, tmp, &uid2) == 0 && usage_is(st, 88, 4),
	    "a copy into a new folder");
	mbox_close(&tmp);
	ok(mstore_delete(st, "Tmp") == 0 && usage_is(st, 66, 3),
	    "deleting the folder takes its messages off");
	mbox_close(&arch);
	mbox_close(&in);
	mstore_close(&st);

	ok(index_sql(root, "DROP TRIGGER quota_msg_add;"
	    " DROP TRIGGER quota_msg_del; DROP TRIGGER quota_msg_size; DROP TABLE quota_usage") == 0 &&
	    maildir_usage(root, &octets, &msgs) == 0 && octets == 66 &&
	    msgs == 3, "an index of before: summed from its messages");
	ok(mstore_open(root, &st, &err) == 0 && usage_is(st, 66, 3),
	    "opened: the row is made with the sums");
	/* A thousand deliveries adopted at once, the triggers off
	 * meanwhile (sync.c): their sums added; then a trigger again. */
	for (i = 0; i < 1000; i++) {
		snprintf(path, sizeof(path), "%d.bulk%d.host",
		    1700001000 + i, i);
		deliver(path, a);
	}
	ok(mbox_open(st, "INBOX", &in) == 0 && usage_is(st, 22066, 1003),
	    "a thousand deliveries adopted at once: counted");
	deliver("1700003000.after.host", a);
	ok(mbox_sync(in) == 0 && usage_is(st, 22088, 1004),
	    "the next delivery: counted by the trigger");
	ok(mbox_set_flags(in, 2, MF_DELETED, "", 0, &modseq) == 1 &&
	    mbox_expunge(in, (uint32_t[]){ 2 }, 1) == 0 &&
	    usage_is(st, 22066, 1003), "an expunge: counted by the trigger");
	mbox_close(&in);
	mstore_close(&st);
	tap_remove_tree(root);
	return done_testing();
}
