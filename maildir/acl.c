/*
 * Access control lists of folders (IMAP ACL, RFC 4314), kept in the
 * owner's index: one table, acl, keyed by the folder's mailbox row and
 * the identifier, as metadata.c keeps annotations: a folder renamed
 * keeps its ACL (RFC 4314 §4: RENAME SHOULD NOT change it), one deleted
 * loses it (§4: DELETE MUST), by a trigger on mailbox.
 *
 * The store keeps identifiers and rights as the caller gives them
 * (imapd/acl.c checks and canonicalises both); it does not judge them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/db.h"
#include "../lib/util.h"
#include "store_int.h"

static const char acl_schema[] =
    "CREATE TABLE IF NOT EXISTS acl("
    "  mailbox INTEGER NOT NULL,"		/* mailbox(id) */
    "  ident TEXT NOT NULL,"
    "  rights TEXT NOT NULL,"
    "  PRIMARY KEY(mailbox, ident));"
    "CREATE INDEX IF NOT EXISTS acl_ident ON acl(ident);"
    "CREATE TRIGGER IF NOT EXISTS acl_mailbox_del AFTER DELETE"
    "  ON mailbox BEGIN"
    "  DELETE FROM acl WHERE mailbox = OLD.id; END;";

int
store_acl_open(struct mstore *st, const char **err)
{
	return store_schema_add(st, "trigger", "acl_mailbox_del", acl_schema,
	    NULL, err);
}

static int
acl_mailbox(struct mstore *st, const char *mailbox, int64_t *id)
{
	uint32_t uv;

	if (!mstore_exists(st, mailbox))
		return store_refuse(st, MSTORE_ENOTFOUND,
		    "Mailbox does not exist");
	return store_mbox_row(st, mailbox, id, &uv);
}

int
mstore_acl_get(struct mstore *st, const char *mailbox, struct macl **out,
    size_t *n)
{
	sqlite3_stmt *s;
	struct macl *v = NULL, *e;
	size_t cap = 0;
	int64_t id;
	int rc;

	*out = NULL;
	*n = 0;
	if (acl_mailbox(st, mailbox, &id) == -1)
		return -1;
	s = db_prepare(st->db, "SELECT ident, rights FROM acl"
	    " WHERE mailbox = ?1 ORDER BY ident");
	sqlite3_bind_int64(s, 1, id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			v = util_reallocarray(v, cap, sizeof(*v));
		}
		e = &v[(*n)++];
		util_strcpy(e->ident, (const char *)sqlite3_column_text(s, 0),
		    sizeof(e->ident));
		util_strcpy(e->rights, (const char *)sqlite3_column_text(s, 1),
		    sizeof(e->rights));
	}
	sqlite3_finalize(s);
	*out = v;
	if (rc != SQLITE_DONE) {
		free(*out);
		*out = NULL;
		*n = 0;
		return store_fail(st, "acl");
	}
	return 0;
}

int
mstore_acl_set(struct mstore *st, const char *mailbox, const char *ident,
    const char *rights, size_t max_entries)
{
	sqlite3_stmt *s;
	int64_t id, entries;
	int rc;

	if (strlen(ident) > MACL_IDENT_MAX || (rights != NULL &&
	    strlen(rights) > MACL_RIGHTS_MAX))
		return store_refuse(st, MSTORE_EINVAL,
		    "Identifier or rights too long");
	if (acl_mailbox(st, mailbox, &id) == -1 || mstore_begin(st) == -1)
		return -1;
	if (rights != NULL && rights[0] != '\0')
		s = db_prepare(st->db, "INSERT OR REPLACE INTO acl(mailbox,"
		    " ident, rights) VALUES (?1, ?2, ?3)");
	else
		s = db_prepare(st->db, "DELETE FROM acl"
		    " WHERE mailbox = ?1 AND ident = ?2");
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, ident, -1, SQLITE_STATIC);
	if (rights != NULL && rights[0] != '\0')
		sqlite3_bind_text(s, 3, rights, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_fail(st, "acl");
		mstore_rollback(st);
		return -1;
	}
	s = db_prepare(st->db, "SELECT count(*) FROM acl WHERE mailbox = ?1");
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	entries = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
	sqlite3_finalize(s);
	if (entries < 0 || entries > (int64_t)max_entries) {
		if (entries < 0)
			store_fail(st, "acl");
		mstore_rollback(st);
		return entries < 0 ? -1 : store_refuse(st, MSTORE_ELIMIT,
		    "Too many identifiers in this ACL");
	}
	return mstore_commit(st);
}

int
mstore_acl_used(struct mstore *st, const char *ident)
{
	sqlite3_stmt *s;
	int rc, r;

	s = db_prepare(st->db, "SELECT 1 FROM acl WHERE ident = ?1 LIMIT 1");
	sqlite3_bind_text(s, 1, ident, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	r = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
	if (r == -1)
		store_fail(st, "acl");
	return r;
}
