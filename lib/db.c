#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/stat.h>

#include "db.h"
#include "log.h"

#define DB_BUSY_TIMEOUT_MS	10000

sqlite3 *
db_open(const char *path, int create, const char **err)
{
	sqlite3 *db = NULL;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
	    (create ? SQLITE_OPEN_CREATE : 0), persist = 1;

	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		*err = db != NULL ? sqlite3_errmsg(db) : "out of memory";
		/* The message lives in db: keep a copy before closing. */
		{
			static char msg[256];

			snprintf(msg, sizeof(msg), "%s: %s", path, *err);
			*err = msg;
		}
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, DB_BUSY_TIMEOUT_MS);
	sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
	/*
	 * temp_store=MEMORY: a sort or index build too large for the cache
	 * spills into memory, not a temporary file.  Finding a directory for
	 * one, SQLite calls access(2) on /var/tmp, /usr/tmp and /tmp, which
	 * a process confined to one Maildir may not (its sandbox kills it:
	 * a 10,000-message INBOX did that to IMAP and the webmail), and
	 * which a chrooted one could not reach anyway.
	 */
	if (db_exec(db, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;"
	    "PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY;",
	    err) == -1) {
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

int
db_step_nowait(sqlite3 *db, sqlite3_stmt *s)
{
	int rc;

	sqlite3_busy_timeout(db, 0);
	rc = sqlite3_step(s);
	sqlite3_busy_timeout(db, DB_BUSY_TIMEOUT_MS);
	return rc;
}

void
db_close(sqlite3 **db)
{
	if (*db == NULL)
		return;
	sqlite3_close_v2(*db);
	*db = NULL;
}

int
db_exec(sqlite3 *db, const char *sql, const char **err)
{
	static char msg[256];
	char *e = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &e) != SQLITE_OK) {
		snprintf(msg, sizeof(msg), "%s", e != NULL ? e :
		    sqlite3_errmsg(db));
		sqlite3_free(e);
		*err = msg;
		return -1;
	}
	return 0;
}

int
db_compiles(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_finalize(st);
	return 1;
}

sqlite3_stmt *
db_prepare(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fatalx("sqlite prepare '%s': %s", sql, sqlite3_errmsg(db));
	return st;
}

int
db_run(sqlite3 *db, sqlite3_stmt **stmt_r, const char *sql, ...)
{
	sqlite3_stmt *st = db_prepare(db, sql);
	const char *arg;
	va_list ap;
	int i = 1;

	va_start(ap, sql);
	while ((arg = va_arg(ap, const char *)) != NULL)
		sqlite3_bind_text(st, i++, arg, -1, SQLITE_TRANSIENT);
	va_end(ap);
	*stmt_r = st;
	return sqlite3_step(st);
}

void
db_reserve_wal(const char *path, off_t bytes)
{
	char wal[PATH_MAX];
	struct stat sb;
	int fd;

	if (snprintf(wal, sizeof(wal), "%s-wal", path) >= (int)sizeof(wal))
		return;
	/* Allocating beyond the end changes no octet SQLite reads. */
	if ((fd = open(wal, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) == -1)
		return;
	if (fstat(fd, &sb) == 0 && (off_t)sb.st_blocks * 512 < bytes)
		(void)fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, bytes);
	close(fd);
}
