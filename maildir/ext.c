/*
 * What some IMAP extensions keep in the index beside the messages and
 * folders (issue 14): a message's save date (RFC 8514), its EMAILID
 * (RFC 8474) and its PREVIEW (RFC 8970); a folder's MAILBOXID (RFC
 * 8474) and the special uses given to it by CREATE (RFC 6154 §3).
 *
 * Two tables beside msg and mailbox, not columns of them (as summary):
 * what reads msg whole stays as it was, an index made before gets the
 * tables when opened, and a row follows its message or folder (a
 * folder renamed keeps its row, so its MAILBOXID; one deleted takes its
 * rows with it, ON DELETE CASCADE).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/db.h"
#include "../lib/util.h"
#include "store_int.h"

/* ==== Schema of issue 14 (the one place; store_open_once() runs it) ====
 * msg_ext: one row per msg row, made with it (store_add_row()); an
 * index made before these tables gets rows for its messages once, when
 * the tables are made, with INTERNALDATE as their save date.
 * mailbox_ext: one row per folder, made when its MAILBOXID is first
 * asked for or a special use is given. */
static const char *ext_schema =
    "CREATE TABLE IF NOT EXISTS msg_ext("
    "  msg INTEGER PRIMARY KEY REFERENCES msg(id) ON DELETE CASCADE,"
    "  savedate INTEGER NOT NULL,"		/* RFC 8514 */
    "  emailid TEXT NOT NULL,"			/* RFC 8474 */
    "  preview TEXT);"				/* RFC 8970; NULL: not yet */
    "CREATE TABLE IF NOT EXISTS mailbox_ext("
    "  mailbox INTEGER PRIMARY KEY REFERENCES mailbox(id) ON DELETE CASCADE,"
    "  mailboxid TEXT NOT NULL,"		/* RFC 8474 */
    "  uses INTEGER NOT NULL DEFAULT 0);";	/* MFA_*, RFC 6154 §3 */

/* Object ids (RFC 8474 §5: 1..255 of ALPHA / DIGIT / "-" / "_"): a
 * letter and 24 random hex digits; never reused, as nothing is
 * derived from a row that could come again. */
#define EXT_NEW_ID(letter) "'" letter "' || lower(hex(randomblob(12)))"

static const char *ext_sql[EXT_Q_COUNT] = {
	[EXT_ADD] = "INSERT OR REPLACE INTO msg_ext(msg, savedate, emailid)"
	    " SELECT id, ?3, coalesce(?4, " EXT_NEW_ID("M") ") FROM msg"
	    " WHERE mailbox = ?1 AND uid = ?2",
	/* A row just inserted: without a statement journal (Q_SUM_NEW). */
	[EXT_NEW] = "INSERT INTO msg_ext(msg, savedate, emailid)"
	    " VALUES (?1, ?2, " EXT_NEW_ID("M") ")",
	[EXT_COPY] = "UPDATE msg_ext SET (emailid, preview) = (SELECT"
	    " e.emailid, e.preview FROM msg m JOIN msg_ext e ON e.msg = m.id"
	    " WHERE m.mailbox = ?3 AND m.uid = ?4)"
	    " WHERE msg = (SELECT id FROM msg WHERE mailbox = ?1 AND uid = ?2)"
	    " AND EXISTS (SELECT 1 FROM msg m JOIN msg_ext e ON e.msg = m.id"
	    " WHERE m.mailbox = ?3 AND m.uid = ?4)",
	/* A row without msg_ext (made by an older program): its save date
	 * is its INTERNALDATE, its EMAILID one made of its row id. */
	[EXT_GET] = "SELECT coalesce(e.savedate, m.internaldate),"
	    " coalesce(e.emailid, 'R' || m.id), e.preview FROM msg m"
	    " LEFT JOIN msg_ext e ON e.msg = m.id"
	    " WHERE m.mailbox = ?1 AND m.uid = ?2",
	[EXT_PREVIEW] = "UPDATE msg_ext SET preview = ?3 WHERE msg ="
	    " (SELECT id FROM msg WHERE mailbox = ?1 AND uid = ?2)",
	[EXT_MBOX_ADD] = "INSERT OR IGNORE INTO mailbox_ext(mailbox, mailboxid)"
	    " VALUES (?1, " EXT_NEW_ID("F") ")",
	[EXT_MBOX_GET] = "SELECT mailboxid, uses FROM mailbox_ext"
	    " WHERE mailbox = ?1",
	[EXT_MBOX_USES] = "UPDATE mailbox_ext SET uses = ?2 WHERE mailbox = ?1",
	[EXT_USES_BY_NAME] = "SELECT e.uses FROM mailbox m JOIN mailbox_ext e"
	    " ON e.mailbox = m.id WHERE m.name = ?1",
};

static sqlite3_stmt *
ext_stmt(struct mstore *st, enum ext_sql q)
{
	sqlite3_stmt *s = st->ext_stmts[q];

	if (s == NULL)
		s = st->ext_stmts[q] = db_prepare(st->db, ext_sql[q]);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

int
store_ext_open(struct mstore *st, const char **err)
{
	/* The messages already there get their rows (OR IGNORE: another
	 * session may have been first). */
	return store_schema_add(st, "table", "msg_ext", ext_schema,
	    "INSERT OR IGNORE INTO msg_ext(msg, savedate, emailid)"
	    " SELECT id, internaldate, " EXT_NEW_ID("M") " FROM msg", err);
}

void
store_ext_close(struct mstore *st)
{
	size_t i;

	for (i = 0; i < EXT_Q_COUNT; i++) {
		sqlite3_finalize(st->ext_stmts[i]);
		st->ext_stmts[i] = NULL;
	}
}

int
store_ext_added(struct mbox *mb, int64_t msg, uint32_t uid)
{
	sqlite3_stmt *s = ext_stmt(mb->st, EXT_NEW);
	int rc;

	sqlite3_bind_int64(s, 1, msg);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)time(NULL));
	if ((rc = sqlite3_step(s)) == SQLITE_DONE)
		return 0;
	if (sqlite3_extended_errcode(mb->st->db) !=
	    SQLITE_CONSTRAINT_PRIMARYKEY)
		return store_fail(mb->st, "add message");
	/* A row of that id left over: replaced. */
	s = ext_stmt(mb->st, EXT_ADD);
	sqlite3_bind_int64(s, 1, mb->id);
	sqlite3_bind_int64(s, 2, uid);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)time(NULL));
	sqlite3_bind_null(s, 4);
	if (sqlite3_step(s) != SQLITE_DONE)
		return store_fail(mb->st, "add message");
	return 0;
}

/* RFC 8474 §5.1: a copy keeps the EMAILID; its save date is its own. */
int
store_ext_copied(struct mbox *src, uint32_t uid, struct mbox *dst,
    uint32_t nuid)
{
	sqlite3_stmt *s = ext_stmt(dst->st, EXT_COPY);

	sqlite3_bind_int64(s, 1, dst->id);
	sqlite3_bind_int64(s, 2, nuid);
	sqlite3_bind_int64(s, 3, src->id);
	sqlite3_bind_int64(s, 4, uid);
	if (sqlite3_step(s) != SQLITE_DONE)
		return store_fail(dst->st, "copy");
	return 0;
}

int
mbox_msg_ext(struct mbox *mb, uint32_t uid, struct mmsg_ext *e)
{
	sqlite3_stmt *s = ext_stmt(mb->st, EXT_GET);
	const char *id, *pv;
	int rc;

	memset(e, 0, sizeof(*e));
	sqlite3_bind_int64(s, 1, mb->id);
	sqlite3_bind_int64(s, 2, uid);
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		sqlite3_reset(s);
		return rc == SQLITE_DONE ? 0 : store_fail(mb->st, "message");
	}
	e->savedate = sqlite3_column_int64(s, 0);
	if ((id = (const char *)sqlite3_column_text(s, 1)) != NULL)
		util_strcpy(e->emailid, id, sizeof(e->emailid));
	if ((pv = (const char *)sqlite3_column_text(s, 2)) != NULL)
		e->preview = util_strdup(pv);
	sqlite3_reset(s);
	return 1;
}

void
mmsg_ext_free(struct mmsg_ext *e)
{
	free(e->preview);
	e->preview = NULL;
}

int
mbox_preview_put(struct mbox *mb, uint32_t uid, const char *preview)
{
	sqlite3_stmt *s = ext_stmt(mb->st, EXT_PREVIEW);

	sqlite3_bind_int64(s, 1, mb->id);
	sqlite3_bind_int64(s, 2, uid);
	sqlite3_bind_text(s, 3, preview, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		return store_fail(mb->st, "preview");
	return 0;
}

/* The folder's row of mailbox_ext, made if missing: its id and uses. */
static int
ext_mbox_row(struct mstore *st, int64_t id, char *mailboxid, size_t size,
    unsigned int *uses)
{
	sqlite3_stmt *s = ext_stmt(st, EXT_MBOX_ADD);

	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) != SQLITE_DONE)
		return store_fail(st, "mailbox id");
	s = ext_stmt(st, EXT_MBOX_GET);
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_reset(s);
		return store_fail(st, "mailbox id");
	}
	if (mailboxid != NULL)
		util_strcpy(mailboxid, (const char *)sqlite3_column_text(s, 0),
		    size);
	if (uses != NULL)
		*uses = (unsigned int)sqlite3_column_int(s, 1);
	sqlite3_reset(s);
	return 0;
}

int
mbox_mailbox_id(struct mbox *mb, char id[MAILDIR_OBJECTID_MAX + 1])
{
	return ext_mbox_row(mb->st, mb->id, id, MAILDIR_OBJECTID_MAX + 1,
	    NULL);
}

int
mstore_mailbox_id(struct mstore *st, const char *name,
    char id[MAILDIR_OBJECTID_MAX + 1])
{
	int64_t row;
	uint32_t uv;

	if (!mstore_exists(st, name))
		return store_refuse(st, MSTORE_ENOTFOUND,
		    "Mailbox does not exist");
	if (store_mbox_row(st, name, &row, &uv) == -1)
		return -1;
	return ext_mbox_row(st, row, id, MAILDIR_OBJECTID_MAX + 1, NULL);
}

unsigned int
store_ext_uses(struct mstore *st, const char *name)
{
	sqlite3_stmt *s = ext_stmt(st, EXT_USES_BY_NAME);
	unsigned int uses = 0;

	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		uses = (unsigned int)sqlite3_column_int(s, 0) & MFA_SPECIAL;
	sqlite3_reset(s);
	return uses;
}

int
mstore_create_special(struct mstore *st, const char *name,
    unsigned int uses)
{
	sqlite3_stmt *s;
	int64_t row;
	uint32_t uv;

	if ((uses & ~MFA_SPECIAL) != 0)
		return store_refuse(st, MSTORE_EINVAL, "Not a special use");
	if (mstore_begin(st) == -1)
		return -1;
	if (mstore_create(st, name) == -1 ||
	    store_mbox_row(st, name, &row, &uv) == -1 ||
	    ext_mbox_row(st, row, NULL, 0, NULL) == -1)
		goto fail;
	s = ext_stmt(st, EXT_MBOX_USES);
	sqlite3_bind_int64(s, 1, row);
	sqlite3_bind_int(s, 2, (int)uses);
	if (sqlite3_step(s) != SQLITE_DONE) {
		store_fail(st, "create");
		goto fail;
	}
	return mstore_commit(st);
fail:
	/* The directory a failed create may have made goes too. */
	{
		enum mstore_err e = mstore_errclass(st);
		char why[256];

		util_strcpy(why, mstore_error(st), sizeof(why));
		mstore_rollback(st);
		if (e != MSTORE_EEXISTS && mstore_exists(st, name))
			mstore_delete(st, name);
		return store_refuse(st, e, why);
	}
}
