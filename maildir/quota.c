/*
 * What a user's mail takes, for quotas (IMAP QUOTA, RFC 9208, and the
 * queue's local delivery).
 *
 * The index keeps the sum in one row, quota_usage, which triggers on
 * msg keep right: every process that adds or removes a message row
 * (a sync picking up a delivery, APPEND, COPY, EXPUNGE, a folder
 * deleted with its messages) moves it in the same transaction, so it
 * is never stale and costs one row read, whatever the number of
 * messages.  Octets are RFC822.SIZE's (with CRLF line ends), as RFC
 * 9208 §5.1 counts STORAGE.
 *
 * Deliveries not yet picked up by a sync are files in the INBOX's new/
 * that no row has: they are counted from their names (",W=<size with
 * CRLF>", maildir.c) by reading that one directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../global/layout.h"
#include "../lib/db.h"
#include "../lib/util.h"
#include "store_int.h"

static const char quota_schema[] =
    "CREATE TABLE IF NOT EXISTS quota_usage("
    "  id INTEGER PRIMARY KEY CHECK (id = 0),"
    "  octets INTEGER NOT NULL, messages INTEGER NOT NULL);"
    "INSERT OR IGNORE INTO quota_usage(id, octets, messages)"
    "  SELECT 0, coalesce(sum(vsize), 0), count(*) FROM msg;"
    "CREATE TRIGGER IF NOT EXISTS quota_msg_add AFTER INSERT ON msg BEGIN"
    "  UPDATE quota_usage SET octets = octets + NEW.vsize,"
    "  messages = messages + 1 WHERE id = 0; END;"
    "CREATE TRIGGER IF NOT EXISTS quota_msg_del AFTER DELETE ON msg BEGIN"
    "  UPDATE quota_usage SET octets = octets - OLD.vsize,"
    "  messages = messages - 1 WHERE id = 0; END;"
    "CREATE TRIGGER IF NOT EXISTS quota_msg_size AFTER UPDATE OF vsize"
    "  ON msg BEGIN"
    "  UPDATE quota_usage SET octets = octets - OLD.vsize + NEW.vsize"
    "  WHERE id = 0; END;";

/* Made once, with the sum of what is there (the schema's own). */
int
store_quota_open(struct mstore *st, const char **err)
{
	return store_schema_add(st, "trigger", "quota_msg_size", quota_schema,
	    NULL, err);
}

/*
 * Many rows at once (a Maildir opened for the first time): a trigger
 * makes each msg insert a statement of several writes, for which
 * SQLite keeps a statement journal (a copy of every page the statement
 * first touches, to undo it alone), a sixth of a build of 10,000 rows.
 * The connection's triggers are off meanwhile (this transaction adds
 * rows only: no other trigger would fire) and the sums are added once,
 * in the same transaction.  Changing the setting expires the prepared
 * statements, which SQLite prepares again at their next step.
 */
void
store_quota_bulk_begin(struct mstore *st)
{
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL);
}

int
store_quota_bulk_end(struct mstore *st, int64_t octets, int64_t messages)
{
	sqlite3_stmt *s;
	int r = 0;

	sqlite3_db_config(st->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 1, NULL);
	if (messages == 0)
		return 0;
	if ((s = db_prepare(st->db, "UPDATE quota_usage SET octets ="
	    " octets + ?1, messages = messages + ?2 WHERE id = 0")) == NULL)
		return store_fail(st, "quota");
	sqlite3_bind_int64(s, 1, octets);
	sqlite3_bind_int64(s, 2, messages);
	if (sqlite3_step(s) != SQLITE_DONE)
		r = store_fail(st, "quota");
	sqlite3_finalize(s);
	return r;
}

/* The ",W=<n>" of a Maildir file name, else its size on disk. */
static uint64_t
quota_file_vsize(int dfd, const char *name)
{
	const char *w = strstr(name, ",W=");
	unsigned long long v;
	struct stat sb;
	char *end;

	if (w != NULL) {
		errno = 0;
		v = strtoull(w + 3, &end, 10);
		if (errno == 0 && end != w + 3 && (*end == '\0' ||
		    *end == ',' || *end == ':'))
			return v;
	}
	if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(sb.st_mode))
		return (uint64_t)sb.st_size;
	return 0;	/* gone meanwhile: moved to cur/, counted there */
}

/* Add the messages of dir (new/ or cur/) to the sums. */
static void
quota_scan(const char *dir, uint64_t *octets, uint64_t *messages)
{
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		*octets += quota_file_vsize(dirfd(d), de->d_name);
		(*messages)++;
	}
	closedir(d);
}

/* The row, or (an index no session has opened since quotas came) the
 * sum itself.  0 or -1. */
static int
quota_read(sqlite3 *db, uint64_t *octets, uint64_t *messages)
{
	sqlite3_stmt *s;
	int r;

	if (sqlite3_prepare_v2(db, "SELECT octets, messages FROM quota_usage"
	    " WHERE id = 0", -1, &s, NULL) != SQLITE_OK)
		s = db_prepare(db, "SELECT coalesce(sum(vsize), 0), count(*)"
		    " FROM msg");
	if ((r = sqlite3_step(s)) == SQLITE_ROW) {
		*octets += (uint64_t)sqlite3_column_int64(s, 0);
		*messages += (uint64_t)sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	return r == SQLITE_ROW || r == SQLITE_DONE ? 0 : -1;
}

int
mstore_usage(struct mstore *st, uint64_t *octets, uint64_t *messages)
{
	char path[PATH_MAX];

	*octets = *messages = 0;
	if (quota_read(st->db, octets, messages) == -1)
		return store_fail(st, "quota usage");
	if (util_snprintf(path, sizeof(path), "%s/new", st->dir) == 0)
		quota_scan(path, octets, messages);
	return 0;
}

int
maildir_usage(const char *userdir, uint64_t *octets, uint64_t *messages)
{
	char path[PATH_MAX];
	const char *err;
	struct stat sb;
	sqlite3 *db;
	int r = 0;

	*octets = *messages = 0;
	if (layout_path(path, sizeof(path), userdir, LAYOUT_INDEX_DB) == -1)
		return -1;
	if (stat(path, &sb) == 0) {
		/* Read only: never made or changed from here. */
		if ((db = db_open(path, 0, &err)) == NULL)
			return -1;
		r = quota_read(db, octets, messages);
		db_close(&db);
	} else if (errno == ENOENT) {
		/* No index yet (never logged in): its cur/ is counted as
		 * the first sync will find it. */
		if (util_snprintf(path, sizeof(path), "%s/cur", userdir) == -1)
			return -1;
		quota_scan(path, octets, messages);
	} else
		return -1;
	if (util_snprintf(path, sizeof(path), "%s/new", userdir) == -1)
		return -1;
	quota_scan(path, octets, messages);
	return r;
}

int
mstore_deleted_storage(struct mstore *st, const char *name,
    uint64_t *octets)
{
	sqlite3_stmt *s;
	int r;

	*octets = 0;
	s = db_prepare(st->db, "SELECT coalesce(sum(vsize), 0) FROM msg"
	    " WHERE mailbox = (SELECT id FROM mailbox WHERE name = ?)"
	    " AND flags & ?");
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, MF_DELETED);
	if ((r = sqlite3_step(s)) == SQLITE_ROW)
		*octets = (uint64_t)sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return r == SQLITE_ROW ? 0 : store_fail(st, "deleted storage");
}
