/*
 * Authentication failures per client address, shared by every process in
 * <data_dir>/authfail.db.  A failure is answered after 1, 2, 4, 8 ...
 * seconds (up to the configured maximum) counting the failures from that
 * address in the last AUTHFAIL_WINDOW seconds; a success forgets them.
 * Any database trouble degrades to the smallest delay, never to an error
 * the client could see.
 */
#include <limits.h>
#include <stdio.h>
#include <time.h>

#include "auth.h"
#include "db.h"
#include "log.h"
#include "util.h"

#define AUTHFAIL_WINDOW	900	/* seconds a failure is remembered */

static sqlite3 *
authfail_open(const char *data_dir)
{
	char path[PATH_MAX];
	const char *err;
	sqlite3 *db;

	if (util_snprintf(path, sizeof(path), "%s/authfail.db", data_dir) == -1)
		return NULL;
	if ((db = db_open(path, 1, &err)) == NULL) {
		log_warn("authfail.db: %s", err);
		return NULL;
	}
	if (db_exec(db, "CREATE TABLE IF NOT EXISTS failures ("
	    "ip TEXT PRIMARY KEY NOT NULL, count INTEGER NOT NULL, "
	    "last INTEGER NOT NULL) WITHOUT ROWID", &err) == -1) {
		log_warn("authfail.db: %s", err);
		db_close(&db);
	}
	return db;
}

unsigned int
auth_failure_delay(const char *data_dir, const char *client_ip,
    unsigned int max_delay)
{
	sqlite3 *db = authfail_open(data_dir);
	sqlite3_stmt *st;
	long long now = (long long)time(NULL), count = 1;
	unsigned int delay;

	if (db == NULL)
		return 1;
	st = db_prepare(db, "INSERT INTO failures(ip, count, last) "
	    "VALUES (?1, 1, ?2) ON CONFLICT(ip) DO UPDATE SET "
	    "count = CASE WHEN last < ?2 - ?3 THEN 1 ELSE count + 1 END, "
	    "last = ?2 RETURNING count");
	sqlite3_bind_text(st, 1, client_ip, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, AUTHFAIL_WINDOW);
	if (sqlite3_step(st) == SQLITE_ROW)
		count = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	db_close(&db);
	delay = count > 16 ? max_delay : 1u << (count - 1);
	return delay < max_delay ? delay : max_delay;
}

void
auth_success(const char *data_dir, const char *client_ip)
{
	sqlite3 *db = authfail_open(data_dir);
	sqlite3_stmt *st;

	if (db == NULL)
		return;
	st = db_prepare(db, "DELETE FROM failures WHERE ip = ?");
	sqlite3_bind_text(st, 1, client_ip, -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_finalize(st);
	db_close(&db);
}
