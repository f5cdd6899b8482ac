/*
 * What a session that watches the whole store reads (IMAP NOTIFY, RFC
 * 5465): every folder's stamps in one query, the annotations changed
 * since it last looked, and one inotify descriptor for it all.
 *
 * Every change to a folder's messages moves its UIDNEXT or its
 * HIGHESTMODSEQ (store.c), so comparing the mailbox rows with what was
 * seen before tells which folders need counting again: no folder is
 * opened to learn that nothing happened.
 *
 * Annotations (metadata.c) keep no mod-sequence: a log, filled by
 * triggers on the metadata table, gives each change a number.  It is
 * made by the first session that asks (a store nobody watches pays
 * nothing), and keeps the last 1000 changes.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/inotify.h>

#include "../lib/db.h"
#include "../lib/util.h"
#include "store_int.h"

/* cur/: one mask for the selected mailbox's watch and NOTIFY's, which
 * share one watch when they name the same directory (inotify keeps one
 * watch a path, and a second inotify_add_watch() replaces its mask). */
#define WATCH_CUR_MASK	(IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | \
			    IN_DELETE)

static const char metadata_log_schema[] =
    "CREATE TABLE IF NOT EXISTS metadata_change("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  mailbox INTEGER NOT NULL, name TEXT NOT NULL);"
    "CREATE TRIGGER IF NOT EXISTS metadata_change_put AFTER INSERT"
    "  ON metadata BEGIN"
    "  INSERT INTO metadata_change(mailbox, name)"
    "  VALUES (NEW.mailbox, NEW.name);"
    "  DELETE FROM metadata_change WHERE seq <="
    "  (SELECT max(seq) FROM metadata_change) - 1000; END;"
    "CREATE TRIGGER IF NOT EXISTS metadata_change_del AFTER DELETE"
    "  ON metadata BEGIN"
    "  INSERT INTO metadata_change(mailbox, name)"
    "  VALUES (OLD.mailbox, OLD.name); END;";

int
mstore_stamps(struct mstore *st,
    int (*cb)(const struct mstamp *, void *), void *arg)
{
	sqlite3_stmt *s;
	struct mstamp m;
	int rc, r = 0;

	s = db_prepare(st->db, "SELECT id, name, uidvalidity, uidnext,"
	    " highestmodseq FROM mailbox");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		m.id = sqlite3_column_int64(s, 0);
		m.name = (const char *)sqlite3_column_text(s, 1);
		m.uidvalidity = (uint32_t)sqlite3_column_int64(s, 2);
		m.uidnext = (uint32_t)sqlite3_column_int64(s, 3);
		m.highestmodseq = (uint64_t)sqlite3_column_int64(s, 4);
		if (m.name != NULL && (r = cb(&m, arg)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = store_fail(st, "stamps");
	sqlite3_finalize(s);
	return r;
}

int
mstore_metadata_watch(struct mstore *st, int64_t *seq)
{
	sqlite3_stmt *s;
	const char *err;
	int rc;

	if (store_schema_add(st, "trigger", "metadata_change_del",
	    metadata_log_schema, NULL, &err) == -1)
		return store_refuse(st, MSTORE_EINTERNAL, err);
	s = db_prepare(st->db, "SELECT coalesce(max(seq), 0)"
	    " FROM metadata_change");
	rc = sqlite3_step(s);
	*seq = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : store_fail(st, "metadata log");
}

int
mstore_metadata_changes(struct mstore *st, int64_t *seq,
    void (*cb)(const char *mailbox, const char *entry, void *), void *arg)
{
	sqlite3_stmt *s;
	int64_t first = 0;
	int rc, lost;

	s = db_prepare(st->db, "SELECT coalesce(min(seq), 0)"
	    " FROM metadata_change");
	if (sqlite3_step(s) == SQLITE_ROW)
		first = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	/* Changes between the last one seen and the oldest kept are gone. */
	lost = first > *seq + 1;
	s = db_prepare(st->db, "SELECT c.seq, c.mailbox, m.name, c.name"
	    " FROM metadata_change c LEFT JOIN mailbox m ON m.id = c.mailbox"
	    " WHERE c.seq > ?1 ORDER BY c.seq");
	sqlite3_bind_int64(s, 1, *seq);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*seq = sqlite3_column_int64(s, 0);
		/* A folder's entry whose folder is gone: MailboxName's. */
		if (sqlite3_column_int64(s, 1) != 0 &&
		    sqlite3_column_type(s, 2) == SQLITE_NULL)
			continue;
		/* Another user's private entry: not the owner's news. */
		if (strncmp((const char *)sqlite3_column_text(s, 3),
		    MSTORE_META_USER, strlen(MSTORE_META_USER)) == 0)
			continue;
		if (!lost)
			cb(sqlite3_column_int64(s, 1) == 0 ? NULL :
			    (const char *)sqlite3_column_text(s, 2),
			    (const char *)sqlite3_column_text(s, 3), arg);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return store_fail(st, "metadata log");
	return lost;
}

int
mstore_watch(struct mstore *st, int *inbox_wd)
{
	char path[PATH_MAX + 8];
	int fd;

	if ((fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
		return -1;
	/* The index (every change a session makes: its WAL) and the
	 * folders themselves (made, removed or renamed by anyone). */
	if (inotify_add_watch(fd, st->dir, IN_MODIFY | IN_CLOSE_WRITE |
	    IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
	    IN_ONLYDIR) == -1) {
		close(fd);
		return -1;
	}
	/* Deliveries: the INBOX's new/ (the only folder they go to). */
	snprintf(path, sizeof(path), "%s/new", st->dir);
	*inbox_wd = inotify_add_watch(fd, path, IN_CREATE | IN_MOVED_TO);
	return fd;
}

static int
watch_sub(struct mstore *st, int fd, const char *name, const char *leaf,
    uint32_t mask)
{
	char sub[PATH_MAX], path[PATH_MAX];

	if (maildir_name_to_dir(name, sub, sizeof(sub)) == -1 ||
	    util_snprintf(path, sizeof(path), "%s%s%s/%s", st->dir,
	    sub[0] ? "/" : "", sub, leaf) == -1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return inotify_add_watch(fd, path, mask | IN_ONLYDIR);
}

int
mstore_watch_new(struct mstore *st, int fd, const char *name)
{
	return watch_sub(st, fd, name, "new", IN_CREATE | IN_MOVED_TO);
}

int
mstore_watch_cur(struct mstore *st, int fd, const char *name)
{
	return watch_sub(st, fd, name, "cur", WATCH_CUR_MASK);
}

int
mbox_watch_add(struct mbox *mb, int fd, int wd[2])
{
	char path[PATH_MAX + 8];

	snprintf(path, sizeof(path), "%s/new", mbox_dir(mb));
	wd[0] = inotify_add_watch(fd, path, IN_CREATE | IN_MOVED_TO);
	snprintf(path, sizeof(path), "%s/cur", mbox_dir(mb));
	wd[1] = inotify_add_watch(fd, path, WATCH_CUR_MASK);
	return wd[0] == -1 || wd[1] == -1 ? -1 : 0;
}

void
mbox_watch_remove(int fd, int wd[2], int keep)
{
	/* (A path watched twice is one watch: the INBOX's new/ stays.) */
	if (wd[0] != -1 && wd[0] != keep)
		inotify_rm_watch(fd, wd[0]);
	if (wd[1] != -1)
		inotify_rm_watch(fd, wd[1]);
	wd[0] = wd[1] = -1;
}
