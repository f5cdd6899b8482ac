/*
 * db: SQLite the way every module uses it: WAL journal (readers never
 * wait for the writer), a busy timeout instead of SQLITE_BUSY errors,
 * foreign keys on, and prepared statements only (never SQL built from
 * input).
 */
#ifndef DB_H
#define DB_H

#include <sqlite3.h>

/* Open (creating if asked) and configure; NULL with *err set. */
sqlite3	*db_open(const char *path, int create, const char **err);
void	 db_close(sqlite3 **db);
/* Run fixed SQL (schema, pragmas); 0 or -1 with *err. */
int	 db_exec(sqlite3 *db, const char *sql, const char **err);
/* Prepare; fatal on failure, as the SQL is ours and must be valid. */
sqlite3_stmt *db_prepare(sqlite3 *db, const char *sql);
/* Bind text parameters 1..n from a NULL-terminated list; step once.
 * Returns the sqlite3_step result; the statement is left for reading
 * columns and must be finalized by the caller. */
int	 db_run(sqlite3 *db, sqlite3_stmt **stmt_r, const char *sql, ...);

#endif
