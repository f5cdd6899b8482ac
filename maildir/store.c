/*
 * The store of one user: index.db, transactions, folders.
 *
 * Folders are what is on disk: the Maildir itself (INBOX) and every
 * ".Name" directory in it; the index holds a row per folder it has seen
 * (UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, what the last scan found) and the
 * subscriptions.  A folder made by another program is adopted on first
 * sight with a fresh UIDVALIDITY.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "../global/layout.h"
#include "../lib/db.h"
#include "../lib/util.h"
#include "store_int.h"

static const char *store_schema =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER);"
    "CREATE TABLE IF NOT EXISTS mailbox("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT UNIQUE NOT NULL,"
    "  uidvalidity INTEGER NOT NULL,"
    "  uidnext INTEGER NOT NULL DEFAULT 1,"
    "  highestmodseq INTEGER NOT NULL DEFAULT 1,"
    "  first_recent INTEGER NOT NULL DEFAULT 1,"
    "  new_mtime INTEGER NOT NULL DEFAULT 0,"	/* what the last scan saw */
    "  new_known INTEGER NOT NULL DEFAULT 0,"	/* and when (ns) */
    "  cur_mtime INTEGER NOT NULL DEFAULT 0,"
    "  cur_known INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS msg("
    "  id INTEGER PRIMARY KEY,"
    "  mailbox INTEGER NOT NULL REFERENCES mailbox(id) ON DELETE CASCADE,"
    "  uid INTEGER NOT NULL,"
    "  file TEXT NOT NULL,"			/* base name, without :2, */
    "  flags INTEGER NOT NULL,"
    "  keywords TEXT NOT NULL DEFAULT '',"
    "  kwletters TEXT NOT NULL DEFAULT '',"	/* in the name (keywords.c) */
    "  modseq INTEGER NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  vsize INTEGER NOT NULL,"
    "  internaldate INTEGER NOT NULL,"
    /* 8-bit octets in the header (RFC 6532): 1 or 0, NULL when not
     * known (imapd finds out when it needs to, and keeps it) */
    "  hdr8 INTEGER);"
    "CREATE UNIQUE INDEX IF NOT EXISTS msg_uid ON msg(mailbox, uid);"
    "CREATE UNIQUE INDEX IF NOT EXISTS msg_file ON msg(mailbox, file);"
    "CREATE TABLE IF NOT EXISTS cache("
    "  msg INTEGER PRIMARY KEY REFERENCES msg(id) ON DELETE CASCADE,"
    "  envelope TEXT, bodystructure TEXT, body TEXT);"
    "CREATE TABLE IF NOT EXISTS vanished("
    "  mailbox INTEGER NOT NULL REFERENCES mailbox(id) ON DELETE CASCADE,"
    "  uid INTEGER NOT NULL, modseq INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS vanished_mod ON vanished(mailbox, modseq);"
    /*
     * What a message list shows (msglist.c): a table beside msg, not
     * columns of it, so that msg stays narrow for what reads it whole
     * (every SELECT, every sync), an index made before gets the table by
     * this very statement (its rows get summaries when first listed),
     * and an older program that adds rows without summaries does no
     * harm.  mailbox, uid and size are msg's, repeated for the indexes:
     * a page of any order is read from one index.
     */
    "CREATE TABLE IF NOT EXISTS summary("
    "  msg INTEGER PRIMARY KEY REFERENCES msg(id) ON DELETE CASCADE,"
    "  mailbox INTEGER NOT NULL,"
    "  uid INTEGER NOT NULL,"
    "  size INTEGER NOT NULL,"			/* msg's vsize */
    "  sent INTEGER NOT NULL,"			/* else internaldate */
    "  from_name TEXT NOT NULL,"
    "  from_addr TEXT NOT NULL,"
    "  from_key TEXT NOT NULL,"		/* MSORT_FROM */
    "  to_text TEXT NOT NULL,"
    "  subject TEXT NOT NULL,"
    "  base_subject TEXT NOT NULL,"		/* MSORT_SUBJECT */
    "  message_id TEXT,"
    "  in_reply_to TEXT,"
    "  refs TEXT,"
    "  attachment INTEGER NOT NULL,"
    /* IMAP SORT's and THREAD's (sortkeys.c); NULL in a row an older
     * program wrote: such a row's keys are read from its file. */
    "  from_mbox TEXT, to_mbox TEXT, cc_mbox TEXT, to_key TEXT,"
    "  reply INTEGER,"
    /* The same keys unfolded, for the comparators other than
     * i;unicode-casemap (RFC 5255 §4.7; sortkeys.c); NULL likewise. */
    "  raw_from_mbox TEXT, raw_to_mbox TEXT, raw_cc_mbox TEXT,"
    "  raw_from_key TEXT, raw_to_key TEXT, raw_subject TEXT);"
    "CREATE INDEX IF NOT EXISTS summary_uid ON summary(mailbox, uid);"
    "CREATE INDEX IF NOT EXISTS summary_sent ON summary(mailbox, sent, uid);"
    "CREATE INDEX IF NOT EXISTS summary_from"
    "  ON summary(mailbox, from_key, uid);"
    "CREATE INDEX IF NOT EXISTS summary_subject"
    "  ON summary(mailbox, base_subject, uid);"
    "CREATE INDEX IF NOT EXISTS summary_size ON summary(mailbox, size, uid);"
    "CREATE TABLE IF NOT EXISTS subscription(name TEXT PRIMARY KEY);"
    /*
     * A mailbox's counts as last made (struct mbox_counts), with the
     * stamps they were made at: a process that opens the mailbox uses
     * them while the row's stamps are the same (every change moves
     * UIDNEXT or HIGHESTMODSEQ) instead of counting every message.
     */
    "CREATE TABLE IF NOT EXISTS counts("
    "  mailbox INTEGER PRIMARY KEY REFERENCES mailbox(id) ON DELETE CASCADE,"
    "  uidvalidity INTEGER NOT NULL, uidnext INTEGER NOT NULL,"
    "  highestmodseq INTEGER NOT NULL, first_recent INTEGER NOT NULL,"
    "  messages INTEGER NOT NULL, unseen INTEGER NOT NULL,"
    "  recent INTEGER NOT NULL, size INTEGER NOT NULL,"
    "  deleted INTEGER NOT NULL,"
    "  sum_uidvalidity INTEGER NOT NULL, sum_uidnext INTEGER NOT NULL);"
    /* The user's choices that are no message's (the webmail's senders
     * whose remote images are shown...): name -> value. */
    "CREATE TABLE IF NOT EXISTS setting(name TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL);";

/*
 * A page of summaries (msglist.c): the rows are chosen from one index
 * alone (mailbox, key, uid: the subquery reads no table, so an offset
 * skips index entries only), then joined for their columns and flags.
 */
#define SUM_COLS "uid, m.flags, m.keywords, s.sent, m.internaldate," \
	" s.size, s.from_name, s.from_addr, s.to_text, s.subject," \
	" s.message_id, s.in_reply_to, s.refs, s.attachment"
#define SUM_PAGE(key, order, dir) \
	"SELECT p." SUM_COLS " FROM (SELECT msg, " key " AS k, uid" \
	" FROM summary WHERE mailbox = ?1 ORDER BY " order \
	" LIMIT ?2 OFFSET ?3) p JOIN summary s ON s.msg = p.msg" \
	" JOIN msg m ON m.id = p.msg ORDER BY p.k " dir ", p.uid " dir
/* The same for an index where some rows have no summary yet (it could
 * not be stored): every row, sorted by SQLite, never one left out; a
 * row without one also gives its file (its summary is read for the
 * page) and sorts by INTERNALDATE and empty strings. */
#define SUM_SLOW(key, dir) \
	"SELECT m.uid, m.flags, m.keywords, coalesce(s.sent,"\
	" m.internaldate), m.internaldate, m.vsize, s.from_name,"\
	" s.from_addr, s.to_text, s.subject, s.message_id, s.in_reply_to,"\
	" s.refs, s.attachment, s.msg IS NOT NULL, m.file, m.kwletters"\
	" FROM msg m LEFT JOIN summary s"\
	" ON s.msg = m.id WHERE m.mailbox = ?1 ORDER BY " key " " dir \
	", m.uid " dir " LIMIT ?2 OFFSET ?3"
#define SUM_AT(q, sort, reverse) [(q) + (sort) * 2 + (reverse)]
/* key, then uid, both ASC or both DESC: the index's order. */
#define SUM_BOTH(sort, key, slow) \
	SUM_AT(Q_SUM_PAGE, sort, 0) = SUM_PAGE(key, key " ASC, uid ASC", \
	    "ASC"), \
	SUM_AT(Q_SUM_PAGE, sort, 1) = SUM_PAGE(key, key " DESC, uid DESC", \
	    "DESC"), \
	SUM_AT(Q_SUM_SLOW, sort, 0) = SUM_SLOW(slow, "ASC"), \
	SUM_AT(Q_SUM_SLOW, sort, 1) = SUM_SLOW(slow, "DESC")

static const char *store_sql_text[Q_COUNT] = {
	/* By UID alone: "ORDER BY uid, uid" would have SQLite sort. */
	SUM_AT(Q_SUM_PAGE, MSORT_ARRIVAL, 0) = SUM_PAGE(SUM_KEY_ARRIVAL,
	    "uid ASC", "ASC"),
	SUM_AT(Q_SUM_PAGE, MSORT_ARRIVAL, 1) = SUM_PAGE(SUM_KEY_ARRIVAL,
	    "uid DESC", "DESC"),
	SUM_AT(Q_SUM_SLOW, MSORT_ARRIVAL, 0) = SUM_SLOW("m.uid", "ASC"),
	SUM_AT(Q_SUM_SLOW, MSORT_ARRIVAL, 1) = SUM_SLOW("m.uid", "DESC"),
	SUM_BOTH(MSORT_DATE, SUM_KEY_DATE, "coalesce(s.sent, m.internaldate)"),
	SUM_BOTH(MSORT_FROM, SUM_KEY_FROM, "coalesce(s.from_key, '')"),
	SUM_BOTH(MSORT_SUBJECT, SUM_KEY_SUBJECT,
	    "coalesce(s.base_subject, '')"),
	SUM_BOTH(MSORT_SIZE, SUM_KEY_SIZE, "m.vsize"),
	[Q_SUM_COUNT] = "SELECT (SELECT count(*) FROM msg WHERE mailbox = ?1),"
	    " (SELECT count(*) FROM summary WHERE mailbox = ?1)",
	[Q_SUM_MISSING] = "SELECT uid, file, flags, kwletters FROM msg m"
	    " WHERE mailbox = ?1 AND uid > ?2 AND NOT EXISTS (SELECT 1"
	    " FROM summary WHERE msg = m.id) ORDER BY uid LIMIT ?3",
	/* Summaries without the keys unfolded, and those keys added (an
	 * empty subject marks the row as done). */
	[Q_SUM_RAW_MISSING] = "SELECT m.uid, m.file, m.flags, m.kwletters"
	    " FROM msg m JOIN summary s ON s.msg = m.id WHERE m.mailbox = ?1"
	    " AND m.uid > ?2 AND s.raw_subject IS NULL ORDER BY m.uid"
	    " LIMIT ?3",
	[Q_SUM_RAW_SET] = "UPDATE summary SET raw_from_mbox = ?3,"
	    " raw_to_mbox = ?4, raw_cc_mbox = ?5, raw_from_key = ?6,"
	    " raw_to_key = ?7, raw_subject = coalesce(?8, '')"
	    " WHERE mailbox = ?1 AND uid = ?2",
	[Q_SUM_ADD] = "INSERT OR REPLACE INTO summary(msg, mailbox, uid, size,"
	    " sent, from_name, from_addr, from_key, to_text, subject,"
	    " base_subject, message_id, in_reply_to, refs, attachment,"
	    " from_mbox, to_mbox, cc_mbox, to_key, reply, raw_from_mbox,"
	    " raw_to_mbox, raw_cc_mbox, raw_from_key, raw_to_key, raw_subject)"
	    " SELECT id, mailbox, uid, vsize, coalesce(?3, internaldate), ?4,"
	    " ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"
	    " ?19, ?20, ?21, ?22, ?23, ?24"
	    " FROM msg WHERE mailbox = ?1 AND uid = ?2",
	/*
	 * The same for a row just inserted, its values given: no SELECT
	 * and no REPLACE, so SQLite runs it without a statement journal
	 * (a copy of every page it first touches, kept to undo the
	 * statement alone: a third of a fresh index's build).  A
	 * conflict (a row left by a program that did not enforce the
	 * foreign keys) fails before anything is written; Q_SUM_ADD
	 * then replaces it.
	 */
	[Q_SUM_NEW] = "INSERT INTO summary(msg, mailbox, uid, size, sent,"
	    " from_name, from_addr, from_key, to_text, subject, base_subject,"
	    " message_id, in_reply_to, refs, attachment, from_mbox, to_mbox,"
	    " cc_mbox, to_key, reply) VALUES (?25, ?1, ?2, ?26,"
	    " coalesce(?3, ?27), ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
	    " ?14, ?15, ?16, ?17, ?18)",
	/* sortkeys.c: every message in UID order, with what SEARCH and
	 * SORT/THREAD need; the summary's key columns NULL when missing. */
	[Q_SORT_KEYS] = "SELECT m.uid, m.flags, m.keywords, m.modseq, m.vsize,"
	    " m.internaldate, s.sent, s.from_mbox, s.to_mbox, s.cc_mbox,"
	    " s.from_key, s.to_key, s.base_subject, s.reply, s.message_id,"
	    " s.in_reply_to, s.refs, m.file, m.kwletters"
	    " FROM msg m LEFT JOIN summary s ON s.msg = m.id"
	    " WHERE m.mailbox = ?1 ORDER BY m.uid",
	[Q_COUNTS_GET] = "SELECT uidvalidity, uidnext, highestmodseq,"
	    " first_recent, messages, unseen, recent, size, deleted,"
	    " sum_uidvalidity, sum_uidnext FROM counts WHERE mailbox = ?",
	[Q_COUNTS_PUT] = "INSERT OR REPLACE INTO counts(mailbox, uidvalidity,"
	    " uidnext, highestmodseq, first_recent, messages, unseen, recent,"
	    " size, deleted, sum_uidvalidity, sum_uidnext)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	/* The same without msg's columns, when every row has a summary
	 * (a row's file only for one without the keys). */
	[Q_SORT_SUMMARY] = "SELECT s.uid, 0, '', 0, s.size, 0, s.sent,"
	    " s.from_mbox, s.to_mbox, s.cc_mbox, s.from_key, s.to_key,"
	    " s.base_subject, s.reply, s.message_id, s.in_reply_to, s.refs,"
	    " CASE WHEN s.reply IS NULL THEN (SELECT file FROM msg"
	    " WHERE id = s.msg) END, CASE WHEN s.reply IS NULL THEN"
	    " (SELECT kwletters FROM msg WHERE id = s.msg) END,"
	    " CASE WHEN s.reply IS NULL THEN (SELECT flags FROM msg"
	    " WHERE id = s.msg) END"
	    " FROM summary s WHERE s.mailbox = ?1 ORDER BY s.uid",
	/* Q_SORT_KEYS and Q_SORT_SUMMARY with the keys unfolded (other
	 * comparators than i;unicode-casemap): a row without them is read
	 * from its file, as one without reply is above. */
	[Q_SORT_KEYS_RAW] = "SELECT m.uid, m.flags, m.keywords, m.modseq,"
	    " m.vsize, m.internaldate, s.sent, s.raw_from_mbox,"
	    " s.raw_to_mbox, s.raw_cc_mbox, s.raw_from_key, s.raw_to_key,"
	    " s.raw_subject, CASE WHEN s.raw_subject IS NOT NULL THEN"
	    " s.reply END, s.message_id, s.in_reply_to, s.refs, m.file,"
	    " m.kwletters FROM msg m LEFT JOIN summary s ON s.msg = m.id"
	    " WHERE m.mailbox = ?1 ORDER BY m.uid",
	[Q_SORT_SUMMARY_RAW] = "SELECT s.uid, 0, '', 0, s.size, 0, s.sent,"
	    " s.raw_from_mbox, s.raw_to_mbox, s.raw_cc_mbox, s.raw_from_key,"
	    " s.raw_to_key, s.raw_subject, CASE WHEN s.raw_subject IS NOT"
	    " NULL THEN s.reply END, s.message_id, s.in_reply_to, s.refs,"
	    " CASE WHEN s.raw_subject IS NULL THEN (SELECT file FROM msg"
	    " WHERE id = s.msg) END, CASE WHEN s.raw_subject IS NULL THEN"
	    " (SELECT kwletters FROM msg WHERE id = s.msg) END,"
	    " CASE WHEN s.raw_subject IS NULL THEN (SELECT flags FROM msg"
	    " WHERE id = s.msg) END"
	    " FROM summary s WHERE s.mailbox = ?1 ORDER BY s.uid",
	/* And the sent dates alone: from the index summary_sent. */
	[Q_SORT_DATES] = "SELECT uid, sent FROM summary WHERE mailbox = ?1",
	[Q_SUM_ONE] = "SELECT m.uid, m.flags, m.keywords, s.sent,"
	    " m.internaldate, m.vsize, s.from_name, s.from_addr, s.to_text,"
	    " s.subject, s.message_id, s.in_reply_to, s.refs, s.attachment,"
	    " s.from_key, s.base_subject, s.msg IS NOT NULL, m.file, m.flags,"
	    " m.kwletters, s.from_mbox, s.to_mbox, s.cc_mbox, s.to_key,"
	    " s.reply FROM msg m LEFT JOIN summary s ON s.msg = m.id"
	    " WHERE m.mailbox = ?1 AND m.uid = ?2",
	[Q_MBOX_GET] = "SELECT id, uidvalidity FROM mailbox WHERE name = ?",
	[Q_MBOX_ADD] = "INSERT INTO mailbox(name, uidvalidity) VALUES (?, ?)",
	/* What sync compares with the directories: one row, no count. */
	[Q_MBOX_DIRS] = "SELECT new_mtime, new_known, cur_mtime, cur_known"
	    " FROM mailbox WHERE id = ?",
	[Q_MBOX_SET_DIRS] = "UPDATE mailbox SET new_mtime = ?, new_known = ?,"
	    " cur_mtime = ?, cur_known = ? WHERE id = ?",
	[Q_MBOX_BUMP] = "UPDATE mailbox SET highestmodseq = highestmodseq + 1"
	    " WHERE id = ? RETURNING highestmodseq",
	[Q_MBOX_UIDNEXT] = "UPDATE mailbox SET uidnext = uidnext + 1"
	    " WHERE id = ? RETURNING uidnext - 1",
	[Q_MBOX_SET_UIDNEXT] = "UPDATE mailbox SET uidnext = max(uidnext, ?2)"
	    " WHERE id = ?1",
	[Q_MBOX_MODSEQ] = "SELECT uidnext, highestmodseq, first_recent,"
	    " uidvalidity FROM mailbox WHERE id = ?",
	/* The counts in one pass over the mailbox's messages (five
	 * subqueries read a 10,000-message INBOX five times). */
	/* (the columns in store_status_read()'s order) */
	[Q_MBOX_STATUS] = "SELECT m.uidvalidity, m.uidnext, m.highestmodseq,"
	    " m.first_recent, count(g.uid), total((g.flags & 1) = 0),"
	    " total(g.uid >= m.first_recent), total(g.vsize),"
	    " total((g.flags & 8) != 0)"
	    " FROM mailbox m LEFT JOIN msg g ON g.mailbox = m.id"
	    " WHERE m.id = ? GROUP BY m.id",
	/* Two statements: a RETURNING clause sees the updated row. */
	[Q_MBOX_RECENT] = "SELECT first_recent, uidnext FROM mailbox"
	    " WHERE id = ?",
	[Q_MBOX_RECENT_SET] = "UPDATE mailbox SET first_recent = uidnext"
	    " WHERE id = ?",
	[Q_MSG_RANGE] = "SELECT uid, flags, keywords, modseq, size, vsize,"
	    " internaldate, file, hdr8 FROM msg WHERE mailbox = ? AND"
	    " uid >= ? AND uid <= ? AND modseq > ? ORDER BY uid",
	[Q_MSG_RANGE_CACHE] = "SELECT uid, flags, keywords, modseq, size,"
	    " vsize, internaldate, file, hdr8, c.envelope, c.bodystructure,"
	    " c.body"
	    " FROM msg LEFT JOIN cache c ON c.msg = msg.id WHERE mailbox = ?"
	    " AND uid >= ? AND uid <= ? AND modseq > ? ORDER BY uid",
	[Q_MSG_UIDS] = "SELECT uid FROM msg WHERE mailbox = ? ORDER BY uid",
	[Q_MSG_ONE] = "SELECT id, file, flags, keywords, modseq, internaldate,"
	    " kwletters FROM msg WHERE mailbox = ? AND uid = ?",
	[Q_MSG_ADD] = "INSERT INTO msg(mailbox, uid, file, flags, keywords,"
	    " modseq, size, vsize, internaldate, kwletters, hdr8)"
	    " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
	[Q_MSG_HDR8] = "UPDATE msg SET hdr8 = ? WHERE mailbox = ? AND"
	    " uid = ?",
	[Q_MSG_FLAGS] = "UPDATE msg SET flags = ?, keywords = ?, kwletters = ?,"
	    " modseq = ? WHERE mailbox = ? AND uid = ?",
	[Q_MSG_DEL] = "DELETE FROM msg WHERE mailbox = ? AND uid = ?"
	    " RETURNING file, flags, kwletters",
	[Q_MSG_CACHE] = "INSERT OR REPLACE INTO cache(msg, envelope,"
	    " bodystructure, body) SELECT id, ?, ?, ? FROM msg"
	    " WHERE mailbox = ? AND uid = ?",
	[Q_MSG_FILES] = "SELECT file, uid, flags, keywords, kwletters FROM msg"
	    " WHERE mailbox = ? ORDER BY file",
	[Q_MSG_FILE_FLAGS] = "UPDATE msg SET flags = (flags & ~31) | ?,"
	    " keywords = ?, kwletters = ?, modseq = ?"
	    " WHERE mailbox = ? AND uid = ?",
	[Q_VANISH_ADD] = "INSERT INTO vanished(mailbox, uid, modseq)"
	    " VALUES (?, ?, ?)",
	[Q_VANISHED] = "SELECT uid FROM vanished WHERE mailbox = ? AND"
	    " modseq > ? ORDER BY uid",
};

/*
 * Room kept for the index's WAL: a session's flag changes and expunges
 * still commit on a full disk (a transaction changing a few messages
 * writes tens of KiB).
 */
#define STORE_WAL_RESERVE	(1024 * 1024)

/* The folders a new user gets (RFC 6154 special uses). */
static const struct {
	const char	*name;
	unsigned int	 attr;
} store_defaults[] = {
	{ "Sent", MFA_SENT }, { "Drafts", MFA_DRAFTS },
	{ "Trash", MFA_TRASH }, { "Junk", MFA_JUNK },
	{ "Archive", MFA_ARCHIVE },
};

sqlite3_stmt *
store_stmt(struct mstore *st, enum store_sql q)
{
	sqlite3_stmt *s = st->stmts[q];

	if (s == NULL)
		s = st->stmts[q] = db_prepare(st->db, store_sql_text[q]);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

enum mstore_err
store_errno_class(int e)
{
	switch (e) {
	case 0:
		return MSTORE_OK;
	case ENOENT:		/* removed meanwhile (another session) */
		return MSTORE_ENOTFOUND;
	case EEXIST:		/* made meanwhile */
		return MSTORE_EEXISTS;
	case ENOSPC:
		return MSTORE_ENOSPACE;
	case EDQUOT:
		return MSTORE_EOVERQUOTA;
	default:		/* EACCES, EIO ...: ours to fix */
		return MSTORE_EINTERNAL;
	}
}

int
store_fail(struct mstore *st, const char *what)
{
	int e = errno, rc = sqlite3_errcode(st->db);

	if (rc != SQLITE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE) {
		snprintf(st->err, sizeof(st->err), "%s: %s", what,
		    sqlite3_errmsg(st->db));
		/* A write the disk refused may reach us as an I/O error. */
		e = sqlite3_system_errno(st->db);
		if (rc == SQLITE_FULL)
			e = ENOSPC;
		else if (e != ENOSPC && e != EDQUOT)
			e = EIO;
	} else
		snprintf(st->err, sizeof(st->err), "%s: %s", what,
		    strerror(e));
	if ((st->errclass = store_errno_class(e)) == MSTORE_OK)
		st->errclass = MSTORE_EINTERNAL;	/* no reason given */
	if (st->txn > 0)
		st->txn_failed = 1;
	errno = e;
	return -1;
}

const char *
mstore_error(struct mstore *st)
{
	return st->err;
}

enum mstore_err
mstore_errclass(struct mstore *st)
{
	return st->errclass;
}

int
store_refuse(struct mstore *st, enum mstore_err cls, const char *why)
{
	snprintf(st->err, sizeof(st->err), "%s", why);
	st->errclass = cls;
	return -1;
}

int
store_fail_errno(struct mstore *st, const char *what)
{
	int e = errno;

	snprintf(st->err, sizeof(st->err), "%s: %s", what, strerror(e));
	if ((st->errclass = store_errno_class(e)) == MSTORE_OK)
		st->errclass = MSTORE_EINTERNAL;
	errno = e;
	return -1;
}

int
mbox_append_write(struct mbox *mb, int fd, const void *data, size_t len)
{
	if (util_write_all(fd, data, len) == -1)
		return store_fail_errno(mb->st, "write");
	return 0;
}

int
mbox_append_close(struct mbox *mb, int fd)
{
	/* A quota or NFS may tell of a failed write only now. */
	if (close(fd) == -1)
		return store_fail_errno(mb->st, "close");
	return 0;
}

int
mstore_begin(struct mstore *st)
{
	const char *err;

	if (st->txn++ > 0)
		return 0;
	st->txn_failed = 0;
	if (db_exec(st->db, "BEGIN IMMEDIATE", &err) == -1) {
		st->txn = 0;
		return store_fail(st, "begin");
	}
	return 0;
}

void
mstore_rollback(struct mstore *st)
{
	const char *err;

	if (st->txn == 0)
		return;
	st->txn_failed = 1;
	if (--st->txn > 0)
		return;
	db_exec(st->db, "ROLLBACK", &err);
}

int
mstore_commit(struct mstore *st)
{
	const char *err;

	if (st->txn == 0)
		return -1;
	if (--st->txn > 0)
		return st->txn_failed ? -1 : 0;
	if (st->txn_failed) {
		db_exec(st->db, "ROLLBACK", &err);
		return -1;
	}
	if (db_exec(st->db, "COMMIT", &err) == -1) {
		store_fail(st, "commit");
		db_exec(st->db, "ROLLBACK", &err);
		return -1;
	}
	return 0;
}

static int64_t
meta_get(struct mstore *st, const char *key)
{
	sqlite3_stmt *s;
	int64_t v = 0;

	s = db_prepare(st->db, "SELECT value FROM meta WHERE key = ?");
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static int
meta_set(struct mstore *st, const char *key, int64_t v)
{
	sqlite3_stmt *s;
	int r;

	s = db_prepare(st->db, "INSERT OR REPLACE INTO meta VALUES (?, ?)");
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, v);
	r = sqlite3_step(s);
	sqlite3_finalize(s);
	return r == SQLITE_DONE ? 0 : -1;
}

/* Full path of a folder's directory; 0 or -1. */
static int
store_folder_dir(struct mstore *st, const char *name, char *path,
    size_t size)
{
	char sub[PATH_MAX];

	if (maildir_name_to_dir(name, sub, sizeof(sub)) == -1 ||
	    util_snprintf(path, size, "%s%s%s", st->dir, sub[0] ? "/" : "",
	    sub) == -1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static int
store_is_folder(const char *path)
{
	char cur[PATH_MAX];
	struct stat sb;

	if (util_snprintf(cur, sizeof(cur), "%s/cur", path) == -1)
		return 0;
	return stat(cur, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/*
 * The last UIDVALIDITY given, kept also outside the index in
 * <maildir>/uidvalidity: an index rebuilt from the files (lost, or
 * removed by an administrator) renumbers UIDs, and RFC 3501 §2.3.1.1
 * then requires a UIDVALIDITY greater than any used before, which the
 * clock alone does not promise (folders made in a burst run ahead of it).
 */
static int64_t
uidvalidity_saved(struct mstore *st)
{
	char path[PATH_MAX], *text;
	int64_t v = 0;

	if (layout_path(path, sizeof(path), st->dir, LAYOUT_UIDVALIDITY) ==
	    -1 || (text = util_read_file(path, 64, NULL)) == NULL)
		return 0;
	v = strtoll(text, NULL, 10);
	free(text);
	return v > 0 ? v : 0;
}

static int
uidvalidity_save(struct mstore *st, int64_t v)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8], text[32];
	int fd, n;

	if (layout_path(path, sizeof(path), st->dir, LAYOUT_UIDVALIDITY) ==
	    -1 || util_snprintf(tmp, sizeof(tmp), "%s.tmp", path) == -1)
		return -1;
	n = snprintf(text, sizeof(text), "%lld\n", (long long)v);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600))
	    == -1)
		return -1;
	if (util_write_all(fd, text, (size_t)n) == -1 || fsync(fd) == -1) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	return rename(tmp, path);
}

int
store_mbox_row(struct mstore *st, const char *name, int64_t *id_r,
    uint32_t *uidvalidity_r)
{
	sqlite3_stmt *s = store_stmt(st, Q_MBOX_GET);
	int64_t v, saved;

	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		*id_r = sqlite3_column_int64(s, 0);
		*uidvalidity_r = (uint32_t)sqlite3_column_int64(s, 1);
		sqlite3_reset(s);	/* never hold a read snapshot open */
		return 0;
	}
	/* A folder seen for the first time: a UIDVALIDITY never used for
	 * this name before (RFC 3501 §2.3.1.1), time-based and rising. */
	if (mstore_begin(st) == -1)
		return -1;
	v = meta_get(st, "last_uidvalidity");
	if ((saved = uidvalidity_saved(st)) > v)
		v = saved;
	v++;
	if (v < (int64_t)time(NULL))
		v = (int64_t)time(NULL);
	if (v > 0xffffffffLL)
		v = 1;
	/* The file first: it is never behind a committed row. */
	if (uidvalidity_save(st, v) == -1) {
		store_fail(st, "uidvalidity");
		mstore_rollback(st);
		return -1;
	}
	s = store_stmt(st, Q_MBOX_ADD);
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, v);
	if (sqlite3_step(s) != SQLITE_DONE ||
	    (*id_r = sqlite3_last_insert_rowid(st->db)) <= 0 ||
	    meta_set(st, "last_uidvalidity", v) == -1) {
		store_fail(st, "mailbox row");
		mstore_rollback(st);
		return -1;
	}
	*uidvalidity_r = (uint32_t)v;
	return mstore_commit(st);
}

int
store_next_modseq(struct mstore *st, int64_t id, uint64_t *modseq_r)
{
	sqlite3_stmt *s = store_stmt(st, Q_MBOX_BUMP);

	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) != SQLITE_ROW)
		return store_fail(st, "modseq");
	*modseq_r = (uint64_t)sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return 0;
}

unsigned int
mstore_special_use(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(store_defaults) / sizeof(store_defaults[0]); i++)
		if (strcmp(name, store_defaults[i].name) == 0)
			return store_defaults[i].attr;
	return 0;
}

void
mstore_shrink(struct mstore *st)
{
	if (st != NULL && st->txn == 0)
		sqlite3_db_release_memory(st->db);
}

/*
 * An index SQLite cannot read (not a database, or a damaged one) is set
 * aside as index.db.broken and made again from the files: the user gets
 * a new UIDVALIDITY and loses only the keywords that had no letter in
 * the file names (keywords.c), never access to the mail.  Busy
 * or missing-permission errors are not damage and change nothing.
 */
static int
store_index_broken(const char *err)
{
	return err != NULL && (strstr(err, "file is not a database") != NULL ||
	    strstr(err, "database disk image is malformed") != NULL);
}

static void
store_set_aside(const char *path)
{
	static const char *const suffixes[] = { "", "-wal", "-shm" };
	char from[PATH_MAX + 8], to[PATH_MAX + 16];
	size_t i;

	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(from, sizeof(from), "%s%s", path, suffixes[i]);
		snprintf(to, sizeof(to), "%s.broken%s", path, suffixes[i]);
		rename(from, to);
	}
}

static int	store_open_once(const char *userdir, struct mstore **st_r,
		    const char **err);

int
store_schema_add(struct mstore *st, const char *type, const char *name,
    const char *schema, const char *fill, const char **err)
{
	sqlite3_stmt *s;
	const char *ignored;
	int had;

	s = db_prepare(st->db, "SELECT 1 FROM sqlite_master"
	    " WHERE type = ? AND name = ?");
	sqlite3_bind_text(s, 1, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	had = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_finalize(s);
	if (had)
		return 0;
	if (db_exec(st->db, "BEGIN IMMEDIATE", err) == -1)
		return -1;
	if (db_exec(st->db, schema, err) == -1 ||
	    (fill != NULL && db_exec(st->db, fill, err) == -1) ||
	    db_exec(st->db, "COMMIT", err) == -1) {
		db_exec(st->db, "ROLLBACK", &ignored);
		return -1;
	}
	return 0;
}

/*
 * An index made before keyword letters: its rows' names have none,
 * which the column's default says.  Their keywords get letters when next
 * changed.
 */
static int
store_upgrade(struct mstore *st, const char **err)
{
	const char *ignored;

	if (!db_compiles(st->db, "SELECT kwletters FROM msg LIMIT 0") &&
	    db_exec(st->db, "ALTER TABLE msg ADD COLUMN kwletters TEXT"
	    " NOT NULL DEFAULT ''", err) == -1)
		return -1;
	/* msg.hdr8: NULL in the rows made before, found out when needed */
	if (!db_compiles(st->db, "SELECT hdr8 FROM msg LIMIT 0") &&
	    db_exec(st->db, "ALTER TABLE msg ADD COLUMN hdr8 INTEGER",
	    err) == -1)
		return -1;
	/* SORT's keys: the summaries made before are dropped, to be made
	 * again with them when next needed (msglist.c). */
	if (db_compiles(st->db, "SELECT reply FROM summary LIMIT 0"))
		return 0;
	if (db_exec(st->db, "BEGIN IMMEDIATE", err) == -1)
		return -1;
	/* Another process may have done it while we waited for the lock. */
	if (!db_compiles(st->db, "SELECT reply FROM summary LIMIT 0") &&
	    db_exec(st->db, "ALTER TABLE summary ADD COLUMN from_mbox TEXT;"
	    "ALTER TABLE summary ADD COLUMN to_mbox TEXT;"
	    "ALTER TABLE summary ADD COLUMN cc_mbox TEXT;"
	    "ALTER TABLE summary ADD COLUMN to_key TEXT;"
	    "ALTER TABLE summary ADD COLUMN reply INTEGER;"
	    "DELETE FROM summary;"
	    /* (counts saying every row has its summary go with them) */
	    "DELETE FROM counts", err) == -1) {
		db_exec(st->db, "ROLLBACK", &ignored);
		return -1;
	}
	return db_exec(st->db, "COMMIT", err);
}

/*
 * The summaries' sort keys in their i;unicode-casemap form (RFC 5051;
 * summary.c) where an index made before has them case-folded: its
 * summaries are dropped as above, once (meta "casemap_keys").
 */
static int
store_upgrade_casemap(struct mstore *st, const char **err)
{
	const char *ignored;

	if (meta_get(st, "casemap_keys") != 0)
		return 0;
	if (db_exec(st->db, "BEGIN IMMEDIATE", err) == -1)
		return -1;
	/* Another process may have done it while we waited for the lock. */
	if (meta_get(st, "casemap_keys") != 0)
		return db_exec(st->db, "COMMIT", err);
	if (db_exec(st->db, "DELETE FROM summary; DELETE FROM counts",
	    err) == -1)
		goto fail;
	if (meta_set(st, "casemap_keys", 1) == -1) {
		*err = "cannot mark the index";
		goto fail;
	}
	return db_exec(st->db, "COMMIT", err);
fail:
	db_exec(st->db, "ROLLBACK", &ignored);
	return -1;
}

/*
 * The summaries' keys unfolded beside the folded ones (RFC 5255 §4.7's
 * comparators; sortkeys.c): an index made before gains the columns and
 * drops its summaries once, as above, to make them again with them.
 */
static int
store_upgrade_raw_keys(struct mstore *st, const char **err)
{
	const char *ignored;

	if (db_compiles(st->db, "SELECT raw_subject FROM summary LIMIT 0"))
		return 0;
	if (db_exec(st->db, "BEGIN IMMEDIATE", err) == -1)
		return -1;
	/* Another process may have done it while we waited for the lock. */
	if (!db_compiles(st->db, "SELECT raw_subject FROM summary LIMIT 0") &&
	    db_exec(st->db, "ALTER TABLE summary ADD COLUMN raw_from_mbox TEXT;"
	    "ALTER TABLE summary ADD COLUMN raw_to_mbox TEXT;"
	    "ALTER TABLE summary ADD COLUMN raw_cc_mbox TEXT;"
	    "ALTER TABLE summary ADD COLUMN raw_from_key TEXT;"
	    "ALTER TABLE summary ADD COLUMN raw_to_key TEXT;"
	    "ALTER TABLE summary ADD COLUMN raw_subject TEXT;"
	    "DELETE FROM summary; DELETE FROM counts", err) == -1) {
		db_exec(st->db, "ROLLBACK", &ignored);
		return -1;
	}
	return db_exec(st->db, "COMMIT", err);
}

int
mstore_open(const char *userdir, struct mstore **st_r, const char **err)
{
	char path[PATH_MAX];

	if (store_open_once(userdir, st_r, err) == 0)
		return 0;
	if (!store_index_broken(*err) || layout_path(path, sizeof(path),
	    userdir, LAYOUT_INDEX_DB) == -1)
		return -1;
	store_set_aside(path);
	return store_open_once(userdir, st_r, err);
}

static int
store_open_once(const char *userdir, struct mstore **st_r, const char **err)
{
	struct mstore *st;
	char path[PATH_MAX];
	size_t i;

	*st_r = NULL;
	st = util_calloc(1, sizeof(*st));
	if (util_strcpy(st->dir, userdir, sizeof(st->dir)) == -1 ||
	    layout_path(path, sizeof(path), userdir, LAYOUT_INDEX_DB) == -1) {
		*err = "path too long";
		free(st);
		return -1;
	}
	if (maildir_create(userdir) == -1) {
		snprintf(st->err, sizeof(st->err), "%s: %s", userdir,
		    strerror(errno));
		*err = st->err;
		free(st);
		return -1;
	}
	db_reserve_wal(path, STORE_WAL_RESERVE);
	if ((st->db = db_open(path, 1, err)) == NULL) {
		free(st);
		return -1;
	}
	if (db_exec(st->db, store_schema, err) == -1 ||
	    store_upgrade(st, err) == -1 ||
	    store_upgrade_casemap(st, err) == -1 ||
	    store_upgrade_raw_keys(st, err) == -1 ||
	    store_ext_open(st, err) == -1 ||
	    store_quota_open(st, err) == -1 ||
	    store_metadata_open(st, err) == -1 ||
	    store_acl_open(st, err) == -1)	/* acl.c: IMAP ACL */
		goto fail;
	if (store_list_functions(st->db) == -1) {
		*err = "cannot add SQL functions";
		goto fail;
	}
	if (meta_get(st, "initialized") == 0) {
		/* First use: the folders every client expects (RFC 6154). */
		if (mstore_begin(st) == -1)
			goto fail;
		for (i = 0; i < sizeof(store_defaults) /
		    sizeof(store_defaults[0]); i++) {
			if (!mstore_exists(st, store_defaults[i].name) &&
			    mstore_create(st, store_defaults[i].name) == -1)
				break;
			mstore_subscribe(st, store_defaults[i].name, 1);
		}
		mstore_subscribe(st, "INBOX", 1);
		meta_set(st, "initialized", 1);
		if (mstore_commit(st) == -1)
			goto fail;
	}
	*st_r = st;
	return 0;
fail:
	*err = st->err[0] ? st->err : *err;
	mstore_close(&st);
	return -1;
}

void
mstore_close(struct mstore **stp)
{
	struct mstore *st = *stp;
	size_t i;

	if (st == NULL)
		return;
	while (st->txn > 0)
		mstore_rollback(st);
	for (i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(st->stmts[i]);
	store_ext_close(st);
	db_close(&st->db);
	free(st);
	*stp = NULL;
}

static int
store_check_name(struct mstore *st, const char *name)
{
	const char *why;

	if (maildir_name_valid(name, &why) == -1)
		return store_refuse(st, MSTORE_EINVAL, why);
	return 0;
}

int
mstore_exists(struct mstore *st, const char *name)
{
	char path[PATH_MAX];

	if (strcmp(name, "INBOX") == 0)
		return 1;
	if (store_check_name(st, name) == -1 ||
	    store_folder_dir(st, name, path, sizeof(path)) == -1)
		return 0;
	return store_is_folder(path);
}

static int
store_create(struct mstore *st, const char *name)
{
	char path[PATH_MAX], parent[MAILDIR_NAME_MAX + 1], *slash;
	int64_t id;
	uint32_t uv;

	if (store_check_name(st, name) == -1)
		return -1;
	if (mstore_exists(st, name)) {
		return store_refuse(st, MSTORE_EEXISTS,
		    "Mailbox already exists");
	}
	/* RFC 3501 §6.3.3: create the parents too. */
	util_strcpy(parent, name, sizeof(parent));
	if ((slash = strrchr(parent, MAILDIR_SEP)) != NULL) {
		*slash = '\0';
		if (strcmp(parent, "INBOX") != 0 && !mstore_exists(st, parent) &&
		    mstore_create(st, parent) == -1)
			return -1;
	}
	if (store_folder_dir(st, name, path, sizeof(path)) == -1)
		return store_fail(st, "create");
	if (maildir_create(path) == -1)
		return store_fail(st, "create");
	/* Maildir++ marks a folder with an empty "maildirfolder" file. */
	{
		char mf[PATH_MAX];
		int fd;

		if (util_snprintf(mf, sizeof(mf), "%s/maildirfolder", path)
		    == 0 && (fd = open(mf, O_WRONLY | O_CREAT | O_CLOEXEC,
		    0600)) != -1)
			close(fd);
	}
	/* A fresh row: a name deleted and made again gets a new UIDVALIDITY. */
	{
		sqlite3_stmt *s = db_prepare(st->db,
		    "DELETE FROM mailbox WHERE name = ?");

		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
		sqlite3_step(s);
		sqlite3_finalize(s);
	}
	return store_mbox_row(st, name, &id, &uv);
}

/*
 * The directories and the row in one transaction, as RENAME and DELETE
 * do: whoever reads the folders and the rows under the lock (a NOTIFY
 * session, imapd/notify_watch.c) never sees a folder without its row,
 * which would leave it no way to tell a RENAME that follows from a
 * DELETE and a CREATE (RFC 5465 §5.4 wants LIST with OLDNAME).
 */
int
mstore_create(struct mstore *st, const char *name)
{
	if (mstore_begin(st) == -1)
		return -1;
	if (store_create(st, name) == -1) {
		mstore_rollback(st);
		return -1;
	}
	return mstore_commit(st);
}

/* Does any folder (on disk) lie below name? */
static int
store_has_children(struct mstore *st, const char *name)
{
	char sub[PATH_MAX];
	struct dirent *de;
	size_t n;
	DIR *d;
	int found = 0;

	if (maildir_name_to_dir(name, sub, sizeof(sub)) == -1)
		return 0;
	if (strcmp(name, "INBOX") == 0)
		util_strcpy(sub, ".INBOX", sizeof(sub));
	n = strlen(sub);
	if ((d = opendir(st->dir)) == NULL)
		return 0;
	while (!found && (de = readdir(d)) != NULL)
		found = strncmp(de->d_name, sub, n) == 0 &&
		    de->d_name[n] == '.';
	closedir(d);
	return found;
}

int
mstore_attrs(struct mstore *st, const char *name, unsigned int *attrs)
{
	if (!mstore_exists(st, name))
		return -1;
	*attrs = mstore_special_use(name) | store_ext_uses(st, name);
	if (store_has_children(st, name))
		*attrs |= MFA_CHILDREN;
	return 0;
}

/* Remove a folder directory: its messages, then the Maildir itself. */
static int
store_rmtree(const char *path)
{
	static const char *subs[] = { "cur", "new", "tmp" };
	char p[PATH_MAX], f[PATH_MAX];
	struct dirent *de;
	size_t i;
	DIR *d;

	for (i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", path, subs[i]);
		if ((d = opendir(p)) != NULL) {
			while ((de = readdir(d)) != NULL) {
				if (de->d_name[0] == '.')
					continue;
				snprintf(f, sizeof(f), "%s/%s", p, de->d_name);
				unlink(f);
			}
			closedir(d);
		}
		if (rmdir(p) == -1 && errno != ENOENT)
			return -1;
	}
	snprintf(p, sizeof(p), "%s/maildirfolder", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s/dovecot-uidlist", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s/%s", path, LAYOUT_DOVECOT_KEYWORDS);
	unlink(p);
	snprintf(p, sizeof(p), "%s/%s.tmp", path, LAYOUT_DOVECOT_KEYWORDS);
	unlink(p);
	return rmdir(path);
}

int
mstore_delete(struct mstore *st, const char *name)
{
	char path[PATH_MAX];
	sqlite3_stmt *s;

	if (strcmp(name, "INBOX") == 0) {
		return store_refuse(st, MSTORE_EPERM,
		    "INBOX cannot be deleted");
	}
	if (store_check_name(st, name) == -1)
		return -1;
	if (!mstore_exists(st, name)) {
		return store_refuse(st, MSTORE_ENOTFOUND,
		    "Mailbox does not exist");
	}
	if (store_has_children(st, name)) {
		/* RFC 3501 §6.3.4 lets us refuse; Dovecot does the same. */
		return store_refuse(st, MSTORE_ECHILDREN,
		    "Mailbox has children, delete them first");
	}
	if (store_folder_dir(st, name, path, sizeof(path)) == -1 ||
	    mstore_begin(st) == -1)
		return store_fail(st, "delete");
	s = db_prepare(st->db, "DELETE FROM mailbox WHERE name = ?");
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_step(s);
	sqlite3_finalize(s);
	if (store_rmtree(path) == -1) {
		store_fail(st, "delete");
		mstore_rollback(st);
		return -1;
	}
	return mstore_commit(st);
}

/* RENAME INBOX (RFC 3501 §6.3.5): its messages move to a new folder. */
static int
store_rename_inbox(struct mstore *st, const char *to)
{
	struct mbox *src = NULL, *dst = NULL;
	uint32_t *uids = NULL, nuid;
	size_t n, i;
	int r = -1;

	if (mstore_create(st, to) == -1)
		return -1;
	if (mbox_open(st, "INBOX", &src) == -1 ||
	    mbox_open(st, to, &dst) == -1 ||
	    mbox_uids(src, &uids, &n) == -1 || mstore_begin(st) == -1)
		goto out;
	for (i = 0; i < n; i++)
		if (mbox_copy(src, uids[i], dst, &nuid) == -1)
			break;
	if (i == n && mbox_expunge(src, uids, n) == 0) {
		r = mstore_commit(st);
	} else
		mstore_rollback(st);
out:
	free(uids);
	mbox_close(&src);
	mbox_close(&dst);
	return r;
}

int
mstore_rename(struct mstore *st, const char *from, const char *to)
{
	char pfrom[PATH_MAX], pto[PATH_MAX], dfrom[PATH_MAX], dto[PATH_MAX];
	char parent[MAILDIR_NAME_MAX + 1], *slash;
	struct dirent *de;
	sqlite3_stmt *s;
	size_t nfrom;
	DIR *d;

	if (store_check_name(st, to) == -1)
		return -1;
	if (strcmp(from, "INBOX") != 0 && store_check_name(st, from) == -1)
		return -1;
	if (!mstore_exists(st, from)) {
		return store_refuse(st, MSTORE_ENOTFOUND,
		    "Mailbox does not exist");
	}
	if (mstore_exists(st, to) || strcmp(to, "INBOX") == 0) {
		return store_refuse(st, MSTORE_EEXISTS,
		    "Mailbox already exists");
	}
	if (strcmp(from, "INBOX") == 0)
		return store_rename_inbox(st, to);
	nfrom = strlen(from);
	if (strncmp(to, from, nfrom) == 0 && to[nfrom] == MAILDIR_SEP) {
		return store_refuse(st, MSTORE_EINVAL,
		    "Cannot rename a mailbox into itself");
	}
	util_strcpy(parent, to, sizeof(parent));
	if ((slash = strrchr(parent, MAILDIR_SEP)) != NULL) {
		*slash = '\0';
		if (strcmp(parent, "INBOX") != 0 && !mstore_exists(st, parent) &&
		    mstore_create(st, parent) == -1)
			return -1;
	}
	if (maildir_name_to_dir(from, dfrom, sizeof(dfrom)) == -1 ||
	    maildir_name_to_dir(to, dto, sizeof(dto)) == -1 ||
	    mstore_begin(st) == -1)
		return store_fail(st, "rename");
	/* The folder and every folder below it, on disk and in the index:
	 * a renamed mailbox keeps its UIDVALIDITY and UIDs. */
	if ((d = opendir(st->dir)) == NULL) {
		store_fail(st, "rename");
		mstore_rollback(st);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t dn = strlen(dfrom);
		char name_from[MAILDIR_NAME_MAX + 1];
		char name_to[MAILDIR_NAME_MAX + 1];

		if (strncmp(de->d_name, dfrom, dn) != 0 ||
		    (de->d_name[dn] != '\0' && de->d_name[dn] != '.'))
			continue;
		if (util_snprintf(pfrom, sizeof(pfrom), "%s/%s", st->dir,
		    de->d_name) == -1 ||
		    util_snprintf(pto, sizeof(pto), "%s/%s%s", st->dir, dto,
		    de->d_name + dn) == -1 ||
		    maildir_dir_to_name(de->d_name, name_from,
		    sizeof(name_from)) == -1 ||
		    util_snprintf(name_to, sizeof(name_to), "%s%s", to,
		    name_from + nfrom) == -1 ||
		    renameat2(AT_FDCWD, pfrom, AT_FDCWD, pto,
		    RENAME_NOREPLACE) == -1) {
			store_fail(st, "rename");
			break;
		}
		s = db_prepare(st->db, "UPDATE mailbox SET name = ? "
		    "WHERE name = ?");
		sqlite3_bind_text(s, 1, name_to, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, name_from, -1, SQLITE_STATIC);
		sqlite3_step(s);
		sqlite3_finalize(s);
		s = db_prepare(st->db, "UPDATE subscription SET name = ? "
		    "WHERE name = ?");
		sqlite3_bind_text(s, 1, name_to, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, name_from, -1, SQLITE_STATIC);
		sqlite3_step(s);
		sqlite3_finalize(s);
	}
	closedir(d);
	return mstore_commit(st);
}

int
mstore_subscribe(struct mstore *st, const char *name, int on)
{
	sqlite3_stmt *s;
	int r;

	if (strcmp(name, "INBOX") != 0 && store_check_name(st, name) == -1)
		return -1;
	s = db_prepare(st->db, on ?
	    "INSERT OR IGNORE INTO subscription VALUES (?)" :
	    "DELETE FROM subscription WHERE name = ?");
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	r = sqlite3_step(s);
	sqlite3_finalize(s);
	return r == SQLITE_DONE ? 0 : store_fail(st, "subscribe");
}

int
mstore_setting_get(struct mstore *st, const char *name, char *value,
    size_t size)
{
	sqlite3_stmt *s = db_prepare(st->db, "SELECT value FROM setting "
	    "WHERE name = ?");
	int r;

	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if ((r = sqlite3_step(s)) == SQLITE_ROW)
		util_strcpy(value, (const char *)sqlite3_column_text(s, 0),
		    size);
	sqlite3_finalize(s);
	if (r == SQLITE_ROW)
		return 1;
	return r == SQLITE_DONE ? 0 : store_fail(st, "setting");
}

int
mstore_setting_set(struct mstore *st, const char *name, const char *value)
{
	sqlite3_stmt *s = db_prepare(st->db, value != NULL ?
	    "INSERT OR REPLACE INTO setting VALUES (?, ?)" :
	    "DELETE FROM setting WHERE name = ?");
	int r;

	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (value != NULL)
		sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	r = sqlite3_step(s);
	sqlite3_finalize(s);
	return r == SQLITE_DONE ? 0 : store_fail(st, "setting");
}

struct folder_list {
	char		**names;
	unsigned int	 *attrs;
	size_t		  n, cap;
};

static void
folder_add(struct folder_list *fl, const char *name, unsigned int attrs)
{
	size_t i;

	for (i = 0; i < fl->n; i++)
		if (strcmp(fl->names[i], name) == 0) {
			fl->attrs[i] |= attrs;
			return;
		}
	if (fl->n == fl->cap) {
		fl->cap = fl->cap ? fl->cap * 2 : 16;
		fl->names = realloc(fl->names, fl->cap * sizeof(*fl->names));
		fl->attrs = realloc(fl->attrs, fl->cap * sizeof(*fl->attrs));
		if (fl->names == NULL || fl->attrs == NULL)
			abort();
	}
	fl->names[fl->n] = util_strdup(name);
	fl->attrs[fl->n++] = attrs;
}

static int
folder_index(struct folder_list *fl, const char *name)
{
	size_t i;

	for (i = 0; i < fl->n; i++)
		if (strcmp(fl->names[i], name) == 0)
			return (int)i;
	return -1;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
mstore_list(struct mstore *st, void (*cb)(const char *, unsigned int, void *),
    void *arg)
{
	struct folder_list fl = { 0 };
	char name[MAILDIR_NAME_MAX + 1], path[PATH_MAX], **sorted;
	struct dirent *de;
	sqlite3_stmt *s;
	const char *why;
	size_t i, nreal;
	DIR *d;
	int k;

	folder_add(&fl, "INBOX", 0);
	if ((d = opendir(st->dir)) == NULL)
		return store_fail(st, "list");
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    maildir_dir_to_name(de->d_name, name, sizeof(name)) == -1 ||
		    maildir_name_valid(name, &why) == -1 ||
		    util_snprintf(path, sizeof(path), "%s/%s", st->dir,
		    de->d_name) == -1 || !store_is_folder(path))
			continue;
		folder_add(&fl, name, mstore_special_use(name) |
		    store_ext_uses(st, name));
	}
	closedir(d);
	/* Parents that do not exist themselves are \Noselect. */
	nreal = fl.n;
	for (i = 0; i < nreal; i++) {
		char *p;

		util_strcpy(name, fl.names[i], sizeof(name));
		while ((p = strrchr(name, MAILDIR_SEP)) != NULL) {
			*p = '\0';
			if (folder_index(&fl, name) < 0)
				folder_add(&fl, name, MFA_NOSELECT);
			fl.attrs[folder_index(&fl, name)] |= MFA_CHILDREN;
		}
	}
	s = db_prepare(st->db, "SELECT name FROM subscription");
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *sn = (const char *)sqlite3_column_text(s, 0);

		if ((k = folder_index(&fl, sn)) >= 0)
			fl.attrs[k] |= MFA_SUBSCRIBED;
		else
			folder_add(&fl, sn, MFA_SUBSCRIBED | MFA_NONEXISTENT |
			    MFA_NOSELECT);
	}
	sqlite3_finalize(s);
	/* The parents of subscribed names that are gone, when gone too:
	 * LSUB and RECURSIVEMATCH may have to name them (RFC 3501 §6.3.9,
	 * RFC 5258 §3.5). */
	nreal = fl.n;
	for (i = 0; i < nreal; i++) {
		char *p;

		if (!(fl.attrs[i] & MFA_NONEXISTENT))
			continue;
		util_strcpy(name, fl.names[i], sizeof(name));
		while ((p = strrchr(name, MAILDIR_SEP)) != NULL) {
			*p = '\0';
			if (folder_index(&fl, name) >= 0)
				break;
			folder_add(&fl, name, MFA_NONEXISTENT | MFA_NOSELECT);
		}
	}
	sorted = util_calloc(fl.n, sizeof(*sorted));
	memcpy(sorted, fl.names, fl.n * sizeof(*sorted));
	qsort(sorted, fl.n, sizeof(*sorted), name_cmp);
	for (i = 0; i < fl.n; i++)
		cb(sorted[i], fl.attrs[folder_index(&fl, sorted[i])], arg);
	for (i = 0; i < fl.n; i++)
		free(fl.names[i]);
	free(sorted);
	free(fl.names);
	free(fl.attrs);
	return 0;
}

int
mstore_status(struct mstore *st, const char *name, struct mbox_status *out)
{
	struct mbox *mb;
	int r;

	if (mbox_open(st, name, &mb) == -1)
		return -1;
	r = mbox_get_status(mb, out);
	mbox_close(&mb);
	return r;
}

/*
 * The counts of a mailbox closed earlier (a page with every folder's
 * unread count opens each one per request), else those the counts
 * table has from the last process that made them.  What is kept is
 * checked against the row's stamps before use (mbox_get_status()), so
 * a count made stale by another process, or a row id reused by a new
 * mailbox (which gets a new UIDVALIDITY), is never served.
 */
static void
memo_restore(struct mbox *mb)
{
	struct mstore *st = mb->st;
	struct mbox_status *c = &mb->counts.status;
	sqlite3_stmt *s;
	unsigned int i;

	for (i = 0; i < STORE_MEMO; i++)
		if (st->memo[i].id == mb->id) {
			mb->counts = st->memo[i].counts;
			return;
		}
	/* what another process counted last */
	s = store_stmt(st, Q_COUNTS_GET);
	sqlite3_bind_int64(s, 1, mb->id);
	if (sqlite3_step(s) == SQLITE_ROW) {
		store_status_read(s, c);
		mb->counts.summaries_uidvalidity =
		    (uint32_t)sqlite3_column_int64(s, 9);
		mb->counts.summaries_uidnext =
		    (uint32_t)sqlite3_column_int64(s, 10);
		mb->counts.status_known = 1;
	}
	sqlite3_reset(s);
}

void
store_status_read(sqlite3_stmt *s, struct mbox_status *out)
{
	memset(out, 0, sizeof(*out));
	out->uidvalidity = (uint32_t)sqlite3_column_int64(s, 0);
	out->uidnext = (uint32_t)sqlite3_column_int64(s, 1);
	out->highestmodseq = (uint64_t)sqlite3_column_int64(s, 2);
	out->first_recent = (uint32_t)sqlite3_column_int64(s, 3);
	out->messages = (uint32_t)sqlite3_column_int64(s, 4);
	out->unseen = (uint32_t)sqlite3_column_int64(s, 5);
	out->recent = (uint32_t)sqlite3_column_int64(s, 6);
	out->size = (uint64_t)sqlite3_column_int64(s, 7);
	out->deleted = (uint64_t)sqlite3_column_int64(s, 8);
}

void
store_counts_save(struct mbox *mb)
{
	const struct mbox_status *c = &mb->counts.status;
	sqlite3_stmt *s;

	if (!mb->counts.status_known)
		return;
	s = store_stmt(mb->st, Q_COUNTS_PUT);
	sqlite3_bind_int64(s, 1, mb->id);
	sqlite3_bind_int64(s, 2, c->uidvalidity);
	sqlite3_bind_int64(s, 3, c->uidnext);
	sqlite3_bind_int64(s, 4, (int64_t)c->highestmodseq);
	sqlite3_bind_int64(s, 5, c->first_recent);
	sqlite3_bind_int64(s, 6, c->messages);
	sqlite3_bind_int64(s, 7, c->unseen);
	sqlite3_bind_int64(s, 8, c->recent);
	sqlite3_bind_int64(s, 9, (int64_t)c->size);
	sqlite3_bind_int64(s, 10, (int64_t)c->deleted);
	sqlite3_bind_int64(s, 11, mb->counts.summaries_uidvalidity);
	sqlite3_bind_int64(s, 12, mb->counts.summaries_uidnext);
	/* Never waited for: a STATUS must not stall behind another
	 * process's write for a cache.  Busy, full: the next one counts. */
	(void)db_step_nowait(mb->st->db, s);
	sqlite3_reset(s);
}

static void
memo_keep(const struct mbox *mb)
{
	struct mstore *st = mb->st;
	unsigned int i;

	if (!mb->counts.status_known)
		return;
	for (i = 0; i < STORE_MEMO && st->memo[i].id != mb->id; i++)
		;
	if (i == STORE_MEMO) {
		i = st->memo_next;
		st->memo_next = (st->memo_next + 1) % STORE_MEMO;
	}
	st->memo[i].id = mb->id;
	st->memo[i].counts = mb->counts;
}

int
mbox_open(struct mstore *st, const char *name, struct mbox **mb_r)
{
	struct mbox *mb;

	*mb_r = NULL;
	if (!mstore_exists(st, name)) {
		return store_refuse(st, MSTORE_ENOTFOUND,
		    "Mailbox does not exist");
	}
	mb = util_calloc(1, sizeof(*mb));
	mb->st = st;
	util_strcpy(mb->name, name, sizeof(mb->name));
	if (store_folder_dir(st, name, mb->dir, sizeof(mb->dir)) == -1 ||
	    store_mbox_row(st, name, &mb->id, &mb->uidvalidity) == -1)
		goto fail;
	memo_restore(mb);
	if (mbox_sync(mb) == -1)
		goto fail;
	*mb_r = mb;
	return 0;
fail:
	store_kw_free(mb);
	free(mb);
	return -1;
}

void
mbox_close(struct mbox **mb)
{
	if (*mb != NULL) {
		memo_keep(*mb);
		store_kw_free(*mb);
	}
	free(*mb);
	*mb = NULL;
}

const char *
mbox_name(const struct mbox *mb)
{
	return mb->name;
}

const char *
mbox_dir(const struct mbox *mb)
{
	return mb->dir;
}

struct mstore *
mbox_store(struct mbox *mb)
{
	return mb->st;
}
