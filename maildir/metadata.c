/*
 * Annotations of folders and of the server (IMAP METADATA, RFC 5464).
 *
 * One table, metadata, keyed by the folder's mailbox row (0: the
 * server) and the entry's name: a folder renamed keeps its row, so its
 * annotations (§3.2: they go with it), and one deleted, or made again
 * under a deleted one's name (mstore_create() drops the old row), loses
 * them, by a trigger on mailbox.  Not a foreign key: the server's
 * entries have no mailbox row.
 *
 * The caller checks entry names (imapd/cmd_metadata.c); the store keeps
 * what it is given, values as blobs (any octets, NUL included).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/db.h"
#include "../lib/util.h"
#include "store_int.h"

static const char metadata_schema[] =
    "CREATE TABLE IF NOT EXISTS metadata("
    "  mailbox INTEGER NOT NULL,"		/* mailbox(id); 0: server */
    "  name TEXT NOT NULL,"
    "  value BLOB NOT NULL,"
    "  PRIMARY KEY(mailbox, name));"
    "CREATE TRIGGER IF NOT EXISTS metadata_mailbox_del AFTER DELETE"
    "  ON mailbox BEGIN"
    "  DELETE FROM metadata WHERE mailbox = OLD.id; END;";

int
store_metadata_open(struct mstore *st, const char **err)
{
	return store_schema_add(st, "trigger", "metadata_mailbox_del",
	    metadata_schema, NULL, err);
}

/* The owner of a folder's entries (its mailbox row), 0 for the server
 * (mailbox NULL). */
static int
metadata_owner(struct mstore *st, const char *mailbox, int64_t *id)
{
	uint32_t uv;

	*id = 0;
	if (mailbox == NULL)
		return 0;
	if (!mstore_exists(st, mailbox))
		return store_refuse(st, MSTORE_ENOTFOUND,
		    "Mailbox does not exist");
	return store_mbox_row(st, mailbox, id, &uv);
}

int
mstore_metadata_get(struct mstore *st, const char *mailbox,
    const char *name, int depth, struct mmeta **out, size_t *n)
{
	sqlite3_stmt *s;
	struct mmeta *m = NULL, *e;
	size_t cap = 0;
	int64_t id;
	int rc;

	*out = NULL;
	*n = 0;
	if (metadata_owner(st, mailbox, &id) == -1)
		return -1;
	/* The entry itself, and by depth its children (one more level) or
	 * every entry below it (RFC 5464 §4.2.2). */
	s = db_prepare(st->db, "SELECT name, value FROM metadata"
	    " WHERE mailbox = ?1 AND (name = ?2 OR (?3 != 0 AND"
	    " substr(name, 1, length(?2) + 1) = ?2 || '/' AND"
	    " (?3 < 0 OR instr(substr(name, length(?2) + 2), '/') = 0)))"
	    " ORDER BY name");
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, depth);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			m = util_reallocarray(m, cap, sizeof(*m));
		}
		e = &m[(*n)++];
		e->name = util_strdup((const char *)sqlite3_column_text(s, 0));
		e->len = (size_t)sqlite3_column_bytes(s, 1);
		e->value = util_calloc(1, e->len + 1);
		if (e->len > 0)
			memcpy(e->value, sqlite3_column_blob(s, 1), e->len);
	}
	sqlite3_finalize(s);
	*out = m;
	if (rc != SQLITE_DONE) {
		mmeta_free(out, n);
		return store_fail(st, "metadata");
	}
	return 0;
}

void
mmeta_free(struct mmeta **m, size_t *n)
{
	size_t i;

	for (i = 0; *m != NULL && i < *n; i++) {
		free((*m)[i].name);
		free((*m)[i].value);
	}
	free(*m);
	*m = NULL;
	*n = 0;
}

int
mstore_metadata_set(struct mstore *st, const char *mailbox,
    const struct mmeta *set, size_t n, size_t max_entries)
{
	sqlite3_stmt *put, *del, *count;
	int64_t id, entries = 0;
	size_t i;
	int r = -1;

	if (metadata_owner(st, mailbox, &id) == -1 || mstore_begin(st) == -1)
		return -1;
	put = db_prepare(st->db, "INSERT OR REPLACE INTO metadata(mailbox,"
	    " name, value) VALUES (?1, ?2, ?3)");
	del = db_prepare(st->db, "DELETE FROM metadata"
	    " WHERE mailbox = ?1 AND name = ?2");
	count = db_prepare(st->db, "SELECT count(*) FROM metadata"
	    " WHERE mailbox = ?1");
	for (i = 0; i < n; i++) {
		sqlite3_stmt *s = set[i].value != NULL ? put : del;

		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_text(s, 2, set[i].name, -1, SQLITE_STATIC);
		if (set[i].value != NULL)
			sqlite3_bind_blob(s, 3, set[i].value, (int)set[i].len,
			    SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE) {
			store_fail(st, "metadata");
			goto out;
		}
	}
	/* Counted after: all of a SETMETADATA or none (RFC 5464 §4.3). */
	sqlite3_bind_int64(count, 1, id);
	if (sqlite3_step(count) != SQLITE_ROW) {
		store_fail(st, "metadata");
		goto out;
	}
	entries = sqlite3_column_int64(count, 0);
	if (entries > (int64_t)max_entries) {
		store_refuse(st, MSTORE_ELIMIT, "Too many annotations");
		goto out;
	}
	r = 0;
out:
	sqlite3_finalize(put);
	sqlite3_finalize(del);
	sqlite3_finalize(count);
	if (r == -1) {
		enum mstore_err e = mstore_errclass(st);
		char why[256];

		util_strcpy(why, mstore_error(st), sizeof(why));
		mstore_rollback(st);
		return store_refuse(st, e, why);
	}
	return mstore_commit(st);
}
