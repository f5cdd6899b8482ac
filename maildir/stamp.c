/*
 * mstore_stamp(): what a reader of the store could see has changed, or
 * not, told cheaply: for a cache of something made from the store (the
 * webmail's list page), which must show an IMAP client's change, or a
 * delivery, at once.
 *
 * The stamp holds the index's two change counters (PRAGMA data_version
 * moves with every other connection's commit, sqlite3_total_changes64()
 * with this connection's rows) and the mtimes of the Maildir, of each
 * folder directory in it and of their new/ and cur/: where deliveries
 * and other programs (a Maildir client renaming a file to change its
 * flags) change what the index has not yet seen (sync.c), and where
 * folders come and go.  A directory's mtime has the coarse clock's
 * granularity, so a change in the same tick as an mtime could leave it
 * as it was: a caller trusts a stamp only when it began well after the
 * newest mtime in it (*newest), as sync.c trusts its records.
 */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "../lib/buf.h"
#include "../lib/db.h"
#include "../lib/util.h"
#include "store_int.h"

/* The mtime of sub, below the Maildir open as dfd (a path of one or two
 * names: no walk down the data directory's path each time). */
static void
stamp_mtime(struct buf *out, int dfd, const char *sub, int64_t *newest)
{
	struct stat sb;
	int64_t t = -1;

	if (fstatat(dfd, sub, &sb, 0) == 0)
		t = (int64_t)sb.st_mtim.tv_sec * 1000000000LL +
		    sb.st_mtim.tv_nsec;
	if (t > *newest)
		*newest = t;
	buf_append(out, &t, sizeof(t));
}

int
mstore_stamp(struct mstore *st, struct buf *out, int64_t *own,
    int64_t *newest)
{
	struct dirent *de;
	sqlite3_stmt *s;
	int64_t dv = -1;
	char sub[NAME_MAX + 8];
	DIR *d;
	int dfd;

	buf_reset(out);
	*newest = -1;
	if ((s = db_prepare(st->db, "PRAGMA data_version")) == NULL)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		dv = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (dv == -1)
		return -1;
	*own = (int64_t)sqlite3_total_changes64(st->db);
	buf_append(out, &dv, sizeof(dv));
	if ((d = opendir(st->dir)) == NULL)
		return -1;
	dfd = dirfd(d);
	stamp_mtime(out, dfd, ".", newest);
	stamp_mtime(out, dfd, "new", newest);
	stamp_mtime(out, dfd, "cur", newest);
	while ((de = readdir(d)) != NULL) {
		/* folders are ".Name" (Maildir++); others change nothing */
		if (de->d_name[0] != '.' || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		buf_append(out, de->d_name, strlen(de->d_name) + 1);
		stamp_mtime(out, dfd, de->d_name, newest);
		util_snprintf(sub, sizeof(sub), "%s/new", de->d_name);
		stamp_mtime(out, dfd, sub, newest);
		util_snprintf(sub, sizeof(sub), "%s/cur", de->d_name);
		stamp_mtime(out, dfd, sub, newest);
	}
	closedir(d);
	return 0;
}
