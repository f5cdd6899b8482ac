/* Unit test: mailbox names, the index, sync with files changed behind
 * its back, and two handles on one store (two sessions). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "../lib/log.h"
#include "maildir.h"
#include "../t/tap.h"

static char root[256];

static void
put_file(const char *sub, const char *name, const char *text)
{
	char p[512];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/%s/%s", root, sub, name);
	if ((fp = fopen(p, "w")) == NULL)
		abort();
	fputs(text, fp);
	fclose(fp);
}

static int
count_cb(const struct mmsg *m, void *arg)
{
	(void)m;
	(*(int *)arg)++;
	return 0;
}

static unsigned int got_flags;
static char got_file[256];
static char got_kw[4096];
static long long got_vsize;

static int
one_cb(const struct mmsg *m, void *arg)
{
	(void)arg;
	got_flags = m->flags;
	got_vsize = m->vsize;
	snprintf(got_file, sizeof(got_file), "%s", m->file);
	snprintf(got_kw, sizeof(got_kw), "%s", m->keywords);
	return 0;
}

/* The keywords the index has for one message ("?" if none). */
static const char *
kw_of(struct mbox *mb, uint32_t uid)
{
	snprintf(got_kw, sizeof(got_kw), "?");
	mbox_messages(mb, uid, uid, 0, 0, one_cb, NULL);
	return got_kw;
}

/* The name in cur/ that begins with base ("" if none). */
static const char *
cur_name(const char *folder, const char *base)
{
	static char found[512];
	char p[512];
	struct dirent *de;
	DIR *d;

	found[0] = '\0';
	snprintf(p, sizeof(p), "%s/%s%scur", root, folder, folder[0] ? "/" :
	    "");
	if ((d = opendir(p)) == NULL)
		return found;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' &&
		    strncmp(de->d_name, base, strlen(base)) == 0)
			snprintf(found, sizeof(found), "%s", de->d_name);
	closedir(d);
	return found;
}

static char *
slurp(const char *rel)
{
	static char text[8192];
	char p[512];
	ssize_t n;
	int fd;

	text[0] = '\0';
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if ((fd = open(p, O_RDONLY)) == -1)
		return text;
	n = read(fd, text, sizeof(text) - 1);
	text[n > 0 ? n : 0] = '\0';
	close(fd);
	return text;
}

static void
list_cb(const char *name, unsigned int attrs, void *arg)
{
	char *out = arg;
	char one[600];

	snprintf(one, sizeof(one), "%s%s%s%s ", name,
	    attrs & MFA_NOSELECT ? "!" : "", attrs & MFA_CHILDREN ? "+" : "",
	    attrs & MFA_SENT ? "(sent)" : "");
	strcat(out, one);
}

static int
exists(const char *rel)
{
	char p[512];
	struct stat sb;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	return stat(p, &sb) == 0;
}

static void
test_names(void)
{
	char out[256];
	const char *why;

	ok(mutf7_to_utf8("Entw&APw-rfe", out, sizeof(out)) == 0 &&
	    strcmp(out, "Entw\xc3\xbcrfe") == 0, "mUTF-7 decodes");
	ok(utf8_to_mutf7("Entw\xc3\xbcrfe", out, sizeof(out)) == 0 &&
	    strcmp(out, "Entw&APw-rfe") == 0, "mUTF-7 encodes");
	ok(utf8_to_mutf7("~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5"
	    "\xe6\x9c\xac\xe8\xaa\x9e", out, sizeof(out)) == 0 &&
	    strcmp(out, "~peter/mail/&U,BTFw-/&ZeVnLIqe-") == 0,
	    "RFC 3501 example encodes: %s", out);
	ok(utf8_to_mutf7("A&B", out, sizeof(out)) == 0 &&
	    strcmp(out, "A&-B") == 0, "& is &-");
	ok(utf8_to_mutf7("\xf0\x9f\x98\x80", out, sizeof(out)) == 0 &&
	    mutf7_to_utf8(out, out + 100, 100) == 0 &&
	    strcmp(out + 100, "\xf0\x9f\x98\x80") == 0,
	    "astral plane round trip (surrogates)");
	ok(maildir_name_valid("Work/Projects", &why) == 0, "nested name ok");
	ok(maildir_name_valid("..", &why) == -1, ".. refused");
	ok(maildir_name_valid("a/../b", &why) == -1, "a/../b refused");
	ok(maildir_name_valid("a//b", &why) == -1, "empty component refused");
	ok(maildir_name_valid("/a", &why) == -1, "leading / refused");
	ok(maildir_name_valid("a\tb", &why) == -1, "control char refused");
	ok(maildir_name_valid("&AC4-", &why) == -1, "non-canonical mUTF-7 "
	    "refused (encoded '.')");
	ok(maildir_name_valid("&Jjo", &why) == -1, "unterminated mUTF-7");
	ok(maildir_name_valid("a*", &why) == -1, "wildcard refused");
	ok(maildir_name_valid("v1.2", &why) == 0 &&
	    maildir_name_to_dir("v1.2/x", out, sizeof(out)) == 0 &&
	    strcmp(out, ".v1&AC4-2.x") == 0, "'.' in a name is &AC4- on disk");
	ok(maildir_dir_to_name(".v1&AC4-2.x", out, sizeof(out)) == 0 &&
	    strcmp(out, "v1.2/x") == 0, "and back");
	strcpy(out, "inbox/Sub");
	maildir_name_normalize(out);
	ok(strcmp(out, "INBOX/Sub") == 0, "INBOX is case-insensitive");
}

static void
rm_index(void)
{
	static const char *const sfx[] = { "", "-wal", "-shm" };
	char p[512];
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/index.db%s", root, sfx[i]);
		unlink(p);
	}
}

/*
 * Keywords as Dovecot keeps them in a Maildir: letters in the name
 * through dovecot-keywords, so they come back when the index is rebuilt
 * (issue 14 item 8).
 */
static void
test_keywords(void)
{
	struct mstore *st;
	struct mbox *in, *work;
	char kw[1024], tmp[512], exp[1024];
	const char *err, *name;
	uint64_t modseq;
	uint32_t uid;
	int fd, i, nl;

	snprintf(root, sizeof(root), "/tmp/test-store-kw.%ld", (long)getpid());
	ok(mstore_open(root, &st, &err) == 0, "kw: open a new store");
	put_file("new", "2000.Qk.host,S=9,W=10", "S: k\n\nbody");
	put_file("new", "2001.Ql.host,S=9,W=10", "S: l\n\nbody");
	ok(mbox_open(st, "INBOX", &in) == 0, "kw: open INBOX");
	ok(mbox_set_flags(in, 1, MF_SEEN | MF_FLAGGED, "$Forwarded $label1",
	    0, &modseq) == 1, "kw: STORE $Forwarded $label1 \\Flagged");
	ok(strcmp(cur_name("", "2000.Qk"), "2000.Qk.host,S=9,W=10:2,FSab") ==
	    0, "kw: letters after the flags, sorted: %s", cur_name("",
	    "2000.Qk"));
	ok(strcmp(slurp("dovecot-keywords"), "0 $Forwarded\n1 $label1\n") ==
	    0, "kw: dovecot-keywords lists them");
	ok(mbox_set_flags(in, 2, 0, "$LABEL1 $Junk", 0, &modseq) == 1 &&
	    strcmp(cur_name("", "2001.Ql"), "2001.Ql.host,S=9,W=10:2,bc") == 0,
	    "kw: a known keyword (any case) keeps its letter, a new one the "
	    "next: %s", cur_name("", "2001.Ql"));
	ok((fd = mbox_msg_open(in, 2)) >= 0, "kw: the message opens");
	if (fd >= 0)
		close(fd);
	ok(mbox_set_flags(in, 2, 0, "$Junk", 0, &modseq) == 1 &&
	    strcmp(cur_name("", "2001.Ql"), "2001.Ql.host,S=9,W=10:2,c") == 0,
	    "kw: removing a keyword removes its letter");
	ok(strcmp(slurp("dovecot-keywords"), "0 $Forwarded\n1 $label1\n"
	    "2 $Junk\n") == 0, "kw: indexes are only added");

	/* Append and copy give letters of the target folder. */
	ok((fd = mbox_append_begin(in, tmp, sizeof(tmp))) >= 0, "kw: append");
	if (write(fd, "A: b\n\nc\n", 8) != 8)
		abort();
	close(fd);
	ok(mbox_append_commit(in, tmp, MF_SEEN, "$Junk NonJunk", 1700000000,
	    &uid) == 0 && uid == 3, "kw: APPEND with keywords");
	ok(strstr(slurp("dovecot-keywords"), "3 NonJunk\n") != NULL,
	    "kw: APPEND's new keyword listed");
	ok(mstore_create(st, "Work") == 0 && mbox_open(st, "Work", &work) ==
	    0 && mbox_copy(in, 1, work, &uid) == 0 && uid == 1,
	    "kw: COPY to Work");
	ok(strcmp(slurp(".Work/dovecot-keywords"), "0 $Forwarded\n"
	    "1 $label1\n") == 0, "kw: Work has its own dovecot-keywords");
	ok(strcmp(kw_of(work, 1), "$Forwarded $label1") == 0 &&
	    (fd = mbox_msg_open(work, 1)) >= 0, "kw: the copy has them and "
	    "opens");
	if (fd >= 0)
		close(fd);

	/* 26 letters: the 27th keyword and later stay in the index. */
	kw[0] = '\0';
	for (i = 0; i < 30; i++)
		snprintf(kw + strlen(kw), sizeof(kw) - strlen(kw), "%sk%02d",
		    i ? " " : "", i);
	ok(mbox_set_flags(work, 1, 0, kw, 0, &modseq) == 1 &&
	    strcmp(kw_of(work, 1), kw) == 0, "kw: 30 keywords in the index");
	name = cur_name(".Work", "");
	ok(strlen(strstr(name, ":2,")) == 3 + 24, "kw: 24 more letters "
	    "(2 taken by the old ones, not on this message now): %s", name);
	for (nl = 0, err = slurp(".Work/dovecot-keywords"); *err; err++)
		nl += *err == '\n';
	ok(nl == 26, "kw: dovecot-keywords full at 26 lines (%d)", nl);

	/* Another program renames a file's keyword letters. */
	{
		char from[600], to[600];

		snprintf(from, sizeof(from), "%s/cur/%s", root,
		    cur_name("", "2001.Ql"));
		snprintf(to, sizeof(to), "%s/cur/2001.Ql.host,S=9,W=10:2,Sac",
		    root);
		sleep(1);
		ok(rename(from, to) == 0 && mbox_sync(in) == 0 &&
		    strcmp(kw_of(in, 2), "$Forwarded $Junk") == 0,
		    "kw: letters changed by another program are picked up: %s",
		    got_kw);
		ok(mbox_msg_open(in, 2) >= 0, "kw: and the message opens");
	}
	/* Letters without a line, and lines we cannot use, are ignored. */
	put_file("cur", "2002.Qm.host,S=9,W=10:2,Sdz", "S: m\n\nbody");
	sleep(1);
	ok(mbox_sync(in) == 0 && strcmp(kw_of(in, 4), "NonJunk") == 0,
	    "kw: a letter without a line is no keyword: '%s'", got_kw);

	mbox_close(&in);
	mbox_close(&work);
	mstore_close(&st);
	rm_index();
	ok(mstore_open(root, &st, &err) == 0 && mbox_open(st, "INBOX", &in) ==
	    0 && mbox_open(st, "Work", &work) == 0, "kw: index removed, "
	    "rebuilt");
	/* Rebuilt in name order: the appended one (its name begins with
	 * today's time) is 1, then 2000 (2), 2001 (3), 2002 (4). */
	ok(strcmp(kw_of(in, 2), "$Forwarded $label1") == 0,
	    "kw: keywords back after the rebuild: '%s'", got_kw);
	ok(got_flags == (MF_SEEN | MF_FLAGGED), "kw: and the flags");
	ok(strcmp(kw_of(in, 3), "$Forwarded $Junk") == 0 &&
	    strcmp(kw_of(in, 4), "NonJunk") == 0 &&
	    strcmp(kw_of(in, 1), "$Junk NonJunk") == 0,
	    "kw: every message's keywords back");
	exp[0] = '\0';
	for (i = 0; i < 24; i++)
		snprintf(exp + strlen(exp), sizeof(exp) - strlen(exp), "%sk%02d",
		    i ? " " : "", i);
	ok(strcmp(kw_of(work, 1), exp) == 0, "kw: in Work the 24 with "
	    "letters come back, the 6 without do not: %s", got_kw);
	ok((fd = mbox_msg_open(work, 1)) >= 0, "kw: opens after rebuild");
	if (fd >= 0)
		close(fd);
	/* Changing them after the rebuild renames from the right name. */
	ok(mbox_set_flags(in, 2, MF_SEEN, "$label1", 0, &modseq) == 1 &&
	    strcmp(cur_name("", "2000.Qk"), "2000.Qk.host,S=9,W=10:2,Sb") == 0,
	    "kw: STORE after the rebuild: %s", cur_name("", "2000.Qk"));
	mbox_close(&in);
	mbox_close(&work);
	mstore_close(&st);
	/* A damaged index, and a dovecot-keywords with lines we ignore. */
	snprintf(tmp, sizeof(tmp), "%s/index.db", root);
	rm_index();
	put_file("", "index.db", "this is not SQLite at all, not even close..");
	put_file("", "dovecot-keywords", "0 $Forwarded\n1 $label1\n2 $Junk\n"
	    "3 NonJunk\n4 bad(name\n99 far\nx y\n");
	put_file("cur", "2003.Qn.host,S=9,W=10:2,e", "S: n\n\nbody");
	ok(mstore_open(root, &st, &err) == 0 && mbox_open(st, "INBOX", &in) ==
	    0 && strcmp(kw_of(in, 2), "$label1") == 0, "kw: a damaged index "
	    "is rebuilt with the keywords");
	ok(strcmp(kw_of(in, 5), "") == 0, "kw: a name that is no atom is "
	    "not read");
	ok(mbox_set_flags(in, 5, 0, "Fresh", 0, &modseq) == 1 &&
	    strstr(slurp("dovecot-keywords"), "x y\n5 Fresh\n") != NULL,
	    "kw: a new keyword takes a free index, other lines kept");
	/* A dovecot-keywords we cannot use: keywords in the index only,
	 * the change goes on (as a flag change on a full disk must). */
	ok(mstore_create(st, "Odd") == 0 && mbox_open(st, "Odd", &work) == 0 &&
	    mbox_copy(in, 2, work, &uid) == 0, "kw: COPY to Odd");
	snprintf(tmp, sizeof(tmp), "%s/.Odd/dovecot-keywords", root);
	unlink(tmp);
	ok(mkdir(tmp, 0700) == 0 && mbox_set_flags(work, uid, 0, "Other", 0,
	    &modseq) == 1 && strcmp(kw_of(work, uid), "Other") == 0,
	    "kw: dovecot-keywords unusable: STORE still works");
	name = cur_name(".Odd", "");
	ok(strcmp(strstr(name, ":2,"), ":2,") == 0, "kw: and the name has no "
	    "letters: %s", name);
	rmdir(tmp);
	mbox_close(&work);
	mbox_close(&in);
	mstore_close(&st);
	tap_remove_tree(root);
}

int
main(void)
{
	struct mstore *st, *st2;
	struct mbox *in, *in2, *sent, *other = NULL;
	struct mbox_status ms;
	uint32_t before_uv;
	const char *err;
	char list[2048] = "", tmp[512], uidl[MAILDIR_UIDL_LEN + 1];
	uint32_t *uids, uid;
	uint64_t modseq;
	size_t n;
	int fd, cnt;

	log_init("test-store", LOG_LVL_ERR, 0);
	test_names();
	test_keywords();

	snprintf(root, sizeof(root), "/tmp/test-store.%ld", (long)getpid());
	ok(mstore_open(root, &st, &err) == 0, "open creates the store");
	mstore_list(st, list_cb, list);
	ok(strcmp(list, "Archive Drafts INBOX Junk Sent(sent) Trash ") == 0,
	    "default folders with special use: %s", list);
	ok(exists(".Sent/cur") && exists(".Trash/maildirfolder"),
	    "Maildir++ folders on disk");
	/* A subscription outlives its folder; its parent is named too, for
	 * LSUB's \Noselect parents (RFC 3501 §6.3.9). */
	list[0] = '\0';
	mstore_subscribe(st, "Gone/Sub", 1);
	mstore_list(st, list_cb, list);
	ok(strstr(list, "Drafts Gone! Gone/Sub! INBOX") != NULL,
	    "a subscribed name that is gone, and its parent: %s", list);
	mstore_subscribe(st, "Gone/Sub", 0);

	put_file("new", "1000.Qa.host,S=10,W=12", "Subj: a\n\nb");
	put_file("new", "1001.Qb.host,S=4,W=5", "x\n\ny");
	put_file("cur", "0999.mutt:2,S", "From: z\r\n\r\nq\r\n");
	ok(mbox_open(st, "INBOX", &in) == 0, "open INBOX %s", mstore_error(st));
	ok(mbox_uids(in, &uids, &n) == 0 && n == 3 && uids[0] == 1 &&
	    uids[2] == 3, "three messages, UIDs 1..3");
	free(uids);
	ok(exists("cur/1000.Qa.host,S=10,W=12:2,") && !exists("new/"
	    "1000.Qa.host,S=10,W=12"), "new/ moved to cur/ with :2,");
	mbox_messages(in, 1, 1, 0, 0, one_cb, NULL);
	ok(got_flags == MF_SEEN && strcmp(got_file, "0999.mutt") == 0,
	    "flags read from the name of a file made by another program");
	mbox_messages(in, 2, 2, 0, 0, one_cb, NULL);
	ok(got_vsize == 12, "vsize from W= (%lld %s)", got_vsize, got_file);
	mbox_get_status(in, &ms);
	ok(ms.messages == 3 && ms.unseen == 2 && ms.uidnext == 4,
	    "status: 3 messages, 2 unseen, uidnext 4");
	mbox_uidl(in, 2, uidl);
	ok(strlen(uidl) == 16 && strncmp(uidl, "00000002", 8) == 0,
	    "UIDL is UID then UIDVALIDITY in hex: %s", uidl);

	/* A second session on the same store. */
	ok(mstore_open(root, &st2, &err) == 0 &&
	    mbox_open(st2, "INBOX", &in2) == 0, "second handle");
	ok(mbox_set_flags(in, 2, MF_SEEN | MF_FLAGGED, "$Label1", 0,
	    &modseq) == 1, "set flags");
	ok(exists("cur/1000.Qa.host,S=10,W=12:2,FSa"),
	    "standard flags mirrored in the name, then keyword letters");
	cnt = 0;
	mbox_messages(in2, 1, UINT32_MAX, modseq - 1, 0, count_cb, &cnt);
	ok(cnt == 1, "the other session sees the change by modseq");
	ok(mbox_set_flags(in2, 2, MF_SEEN, "", modseq - 1, &modseq) == 2,
	    "UNCHANGEDSINCE refuses a stale change");

	/* Another program: renames and deletes. */
	sleep(1);
	rename("/dev/null", "/dev/null");
	snprintf(tmp, sizeof(tmp), "%s/cur/1001.Qb.host,S=4,W=5:2,", root);
	{
		char to[600];

		snprintf(to, sizeof(to), "%s/cur/1001.Qb.host,S=4,W=5:2,T",
		    root);
		rename(tmp, to);
	}
	snprintf(tmp, sizeof(tmp), "%s/cur/0999.mutt:2,S", root);
	unlink(tmp);
	ok(mbox_sync(in2) == 0, "sync after outside changes");
	mbox_messages(in2, 3, 3, 0, 0, one_cb, NULL);
	ok(got_flags == MF_DELETED, "outside flag change seen");
	ok(mbox_uids(in2, &uids, &n) == 0 && n == 2 && uids[0] == 2,
	    "outside delete seen as expunge");
	free(uids);
	/* The first handle read the counts before all that: not again. */
	n = (size_t)mbox_get_status(in, &ms);
	ok(n == 0 && ms.messages == 2 && ms.deleted == 1 && ms.unseen == 1,
	    "status after another handle's changes: counted again (%u %llu "
	    "%u)", ms.messages, (unsigned long long)ms.deleted, ms.unseen);
	ok(mbox_get_status(in, &ms) == 0 && ms.messages == 2,
	    "and the same when nothing changed");
	cnt = 0;
	{
		struct { int n; } v = { 0 };

		(void)v;
	}

	/* \Recent (RFC 3501 §2.3.2): one session gets the new messages. */
	{
		uint32_t end0, end1, end2, peek, first, again;

		peek = mbox_peek_recent(in2, &end0);
		first = mbox_claim_recent(in, &end1);
		again = mbox_claim_recent(in2, &end2);
		ok(peek == first && end0 == end1,
		    "recent: a peek (EXAMINE) sees what the claim gets and "
		    "takes nothing");
		ok(first <= 3 && end1 == 4 && again == 4 && end2 == 4,
		    "recent: the first claim gets the new UIDs, the next one "
		    "none");
	}

	/* Append and copy. */
	ok((fd = mbox_append_begin(in, tmp, sizeof(tmp))) >= 0,
	    "append: temp file");
	if (write(fd, "A: b\n\nc\n", 8) != 8)
		abort();
	close(fd);
	ok(mbox_append_commit(in, tmp, MF_DRAFT, "", 1700000000, &uid) == 0 &&
	    uid == 4, "append gets UID 4");
	mbox_messages(in, 4, 4, 0, 0, one_cb, NULL);
	ok(got_vsize == 11 && got_flags == MF_DRAFT, "append: vsize counts "
	    "CRLF, flags kept");
	ok(mbox_open(st, "Sent", &sent) == 0 && mbox_copy(in, 4, sent, &uid)
	    == 0 && uid == 1, "copy to Sent gets UID 1 there");
	ok((fd = mbox_msg_open(sent, 1)) >= 0, "open the copy");
	if (fd >= 0)
		close(fd);
	ok(mbox_expunge(in, (uint32_t[]){ 3, 4 }, 2) == 0, "expunge 3 and 4");
	mbox_sync(in2);
	ok(mbox_uids(in2, &uids, &n) == 0 && n == 1 && uids[0] == 2,
	    "the other session sees the expunge");
	free(uids);

	/* Folders. */
	ok(mstore_create(st, "Work/Projects/2026") == 0 &&
	    mstore_exists(st, "Work"), "create makes parents");
	ok(mstore_create(st, "../x") == -1 && mstore_create(st, "a/./b") ==
	    -1 && mstore_errclass(st) == MSTORE_EINVAL,
	    "names that would escape are refused (EINVAL)");
	ok(mstore_create(st, "Work") == -1 &&
	    mstore_errclass(st) == MSTORE_EEXISTS, "create again: EEXISTS");
	ok(mstore_delete(st, "Nothing") == -1 &&
	    mstore_errclass(st) == MSTORE_ENOTFOUND &&
	    mstore_rename(st, "Nothing", "Else") == -1 &&
	    mstore_errclass(st) == MSTORE_ENOTFOUND &&
	    mbox_open(st, "Nothing", &other) == -1 &&
	    mstore_errclass(st) == MSTORE_ENOTFOUND,
	    "delete, rename, open of no such mailbox: ENOTFOUND");
	ok(mstore_rename(st, "Work", "Work/Projects") == -1 &&
	    mstore_errclass(st) == MSTORE_EEXISTS &&
	    mstore_rename(st, "Work", "Work/In") == -1 &&
	    mstore_errclass(st) == MSTORE_EINVAL,
	    "rename onto a name that exists, into itself");
	ok(mbox_msg_open(in, 999) == -1 &&
	    mstore_errclass(st) == MSTORE_ENOTFOUND,
	    "no such message: ENOTFOUND");
	ok(mstore_rename(st, "Work", "Jobs") == 0 &&
	    mstore_exists(st, "Jobs/Projects/2026") &&
	    !mstore_exists(st, "Work/Projects"), "rename moves children");
	ok(mstore_delete(st, "Jobs") == -1 &&
	    mstore_errclass(st) == MSTORE_ECHILDREN,
	    "delete with children refused (ECHILDREN)");
	ok(mstore_delete(st, "Jobs/Projects/2026") == 0 &&
	    mstore_delete(st, "Jobs/Projects") == 0 &&
	    mstore_delete(st, "Jobs") == 0, "delete leaf to root");
	ok(mstore_delete(st, "INBOX") == -1 &&
	    mstore_errclass(st) == MSTORE_EPERM, "INBOX cannot be deleted");
	ok(mstore_rename(st, "INBOX", "Old") == 0 &&
	    mstore_status(st, "Old", &ms) == 0 && ms.messages == 1,
	    "RENAME INBOX moves its messages");
	mbox_sync(in);
	ok(mbox_get_status(in, &ms) == 0 && ms.messages == 0,
	    "and leaves INBOX empty");

	mstore_status(st, "Old", &ms);
	before_uv = ms.uidvalidity;
	mbox_close(&sent);
	mbox_close(&in);
	mbox_close(&in2);
	mstore_close(&st);
	mstore_close(&st2);
	/* The index rebuilt from the files. */
	snprintf(tmp, sizeof(tmp), "%s/index.db", root);
	unlink(tmp);
	strcat(tmp, "-wal");
	unlink(tmp);
	ok(mstore_open(root, &st, &err) == 0 &&
	    mstore_status(st, "Old", &ms) == 0 && ms.messages == 1,
	    "index rebuilt from the Maildir");
	/* Its UIDs are new: RFC 3501 §2.3.1.1 wants a greater
	 * UIDVALIDITY, although the clock has not moved on. */
	ok(ms.uidvalidity > before_uv, "rebuilt: UIDVALIDITY %u > %u",
	    ms.uidvalidity, before_uv);
	mstore_close(&st);
	/* A damaged index is set aside and made again, never a lock-out. */
	snprintf(tmp, sizeof(tmp), "%s/index.db", root);
	if ((fd = open(tmp, O_WRONLY | O_TRUNC)) >= 0) {
		if (write(fd, "this is not SQLite at all, not even close..",
		    43) != 43)
			abort();
		close(fd);
	}
	snprintf(tmp, sizeof(tmp), "%s/index.db-wal", root);
	unlink(tmp);
	ok(mstore_open(root, &st, &err) == 0 &&
	    mstore_status(st, "Old", &ms) == 0 && ms.messages == 1,
	    "a damaged index is rebuilt from the Maildir");
	mstore_close(&st);
	tap_remove_tree(root);
	return done_testing();
}
