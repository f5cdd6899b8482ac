/*
 * db: SQLite the way every module uses it: WAL journal (readers never
 * wait for the writer), a busy timeout instead of SQLITE_BUSY errors,
 * foreign keys on, and prepared statements only (never SQL built from
 * input).
 */
#ifndef DB_H
#define DB_H

#include <sqlite3.h>
#include <sys/types.h>

/*
 * Open (creating if asked) and configure; NULL with *err set.  The WAL
 * and its index (-wal, -shm) stay on disk when the last connection
 * closes (SQLITE_FCNTL_PERSIST_WAL), so opening a database never has to
 * create a file: on a full disk, users can still log in.
 */
sqlite3	*db_open(const char *path, int create, const char **err);
/*
 * Reserve room for path's WAL (fallocate(2) beyond its end, the size
 * unchanged), so that small transactions (flags, expunges) commit even
 * when the disk is full: SQLite reuses the WAL from its start after each
 * checkpoint and never shrinks it.  Call before this process opens the
 * database (closing a descriptor drops the process's fcntl(2) locks on
 * that file); best effort.
 */
void	 db_reserve_wal(const char *path, off_t bytes);
void	 db_close(sqlite3 **db);
/* Run fixed SQL (schema, pragmas); 0 or -1 with *err. */
int	 db_exec(sqlite3 *db, const char *sql, const char **err);
/* Does sql prepare?  1 or 0: how a database made by a later version is
 * told from one made before ("SELECT new_column FROM t LIMIT 0"). */
int	 db_compiles(sqlite3 *db, const char *sql);
/* Prepare; fatal on failure, as the SQL is ours and must be valid. */
sqlite3_stmt *db_prepare(sqlite3 *db, const char *sql);
/* Step s once without waiting for another connection's lock (for a
 * write that is only worth making when it costs nothing, as a cache):
 * SQLITE_BUSY at once where sqlite3_step() would wait. */
int	 db_step_nowait(sqlite3 *db, sqlite3_stmt *s);
/* Bind text parameters 1..n from a NULL-terminated list; step once.
 * Returns the sqlite3_step result; the statement is left for reading
 * columns and must be finalized by the caller. */
int	 db_run(sqlite3 *db, sqlite3_stmt **stmt_r, const char *sql, ...);

#endif
