/*
 * mbox_sync(): make the index agree with the files.
 *
 * new/ holds mail delivered since the last look (by queued, or any other
 * program): each file moves to cur/ with an empty ":2," info and gets the
 * next UID, in the order of its name (names begin with the arrival time).
 * cur/ is compared with the index when its mtime says it changed: a file
 * that went is an expunge, a file that came (a program other than ours
 * put it there) gets a UID, a name whose flag letters changed (mutt
 * marking a message read) changes the flags, and one whose keyword
 * letters changed changes the keywords (through dovecot-keywords, see
 * keywords.c; keywords that have no letter stay as they are).
 *
 * What a scan saw is remembered as (mtime, when).  A directory's mtime
 * has the granularity of the kernel's coarse clock, so a change made in
 * the same tick as the scan could leave the mtime unchanged: the record
 * is trusted only when the scan began well after that mtime
 * (SYNC_MARGIN_NS).  Everything runs inside the store's write
 * transaction, so one process at a time moves files and assigns UIDs.
 */
#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "../lib/db.h"
#include "../lib/util.h"
#include "store_int.h"
#include "summary.h"

#define SYNC_MARGIN_NS	100000000LL	/* 0.1 s: many coarse clock ticks */
#define SYNC_MANY	1000		/* new files that get a larger cache */
#define SYNC_MANY_CACHE	"-65536"	/* KiB: 64 MiB at most, while adopting */

struct sync_file {
	char		*name;		/* full name in cur/ */
	size_t		 baselen;	/* up to ":2," (or the whole name) */
	unsigned int	 flags;
	uint32_t	 kwbits;	/* keyword letters, bit i: 'a' + i */
};

static int64_t
sync_mtime(const char *dir, const char *sub)
{
	char p[PATH_MAX];
	struct stat sb;

	if (util_snprintf(p, sizeof(p), "%s/%s", dir, sub) == -1 ||
	    stat(p, &sb) == -1)
		return -1;
	return (int64_t)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec;
}

int64_t
store_cur_mtime(struct mbox *mb)
{
	return sync_mtime(mb->dir, "cur");
}

static int
sync_get_record(struct mbox *mb, int64_t rec[4])
{
	sqlite3_stmt *s = store_stmt(mb->st, Q_MBOX_DIRS);
	int i;

	sqlite3_bind_int64(s, 1, mb->id);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_reset(s);
		errno = ENOENT;
		return store_fail(mb->st, "mailbox row");
	}
	for (i = 0; i < 4; i++)
		rec[i] = sqlite3_column_int64(s, i);
	sqlite3_reset(s);
	return 0;
}

static int
sync_set_record(struct mbox *mb, const int64_t rec[4])
{
	sqlite3_stmt *s = store_stmt(mb->st, Q_MBOX_SET_DIRS);
	int i;

	for (i = 0; i < 4; i++)
		sqlite3_bind_int64(s, i + 1, rec[i]);
	sqlite3_bind_int64(s, 5, mb->id);
	if (sqlite3_step(s) != SQLITE_DONE)
		return store_fail(mb->st, "mailbox record");
	return 0;
}

static int
sync_trusted(int64_t mtime, int64_t rec_mtime, int64_t rec_known)
{
	return mtime == rec_mtime && rec_known > rec_mtime + SYNC_MARGIN_NS;
}

void
store_cur_changed(struct mbox *mb, int64_t before)
{
	int64_t rec[4], after;

	if (before < 0 || sync_get_record(mb, rec) == -1 ||
	    !sync_trusted(before, rec[2], rec[3]) ||
	    (after = store_cur_mtime(mb)) < 0)
		return;
	/* Only our change happened since the last scan: still up to date. */
	rec[2] = after;
	rec[3] = after + SYNC_MARGIN_NS + 1;
	sync_set_record(mb, rec);
}

static int
sync_file_cmp(const void *a, const void *b)
{
	const struct sync_file *x = a, *y = b;
	size_t n = x->baselen < y->baselen ? x->baselen : y->baselen;
	int c = memcmp(x->name, y->name, n);

	if (c != 0)
		return c;
	return x->baselen < y->baselen ? -1 : x->baselen > y->baselen;
}

/* Compare base names as SQLite's BINARY collation orders them. */
static int
sync_base_cmp(const struct sync_file *f, const char *base)
{
	size_t bl = strlen(base), n = f->baselen < bl ? f->baselen : bl;
	int c = memcmp(f->name, base, n);

	if (c != 0)
		return c;
	return f->baselen < bl ? -1 : f->baselen > bl;
}

/*
 * Move everything in new/ to cur/ ("name:2,"); the names moved are
 * returned sorted (arrival order).  -1 on error.
 */
static int
sync_new(struct mbox *mb, struct sync_file **moved_r, size_t *n_r)
{
	char dir[PATH_MAX], from[PATH_MAX], to[PATH_MAX];
	struct sync_file *v = NULL;
	struct dirent *de;
	size_t n = 0, cap = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/new", mb->dir);
	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		const char *info = strchr(de->d_name, ':');

		if (de->d_name[0] == '.')
			continue;
		if (util_snprintf(from, sizeof(from), "%s/%s", dir,
		    de->d_name) == -1 ||
		    util_snprintf(to, sizeof(to), "%s/cur/%s%s", mb->dir,
		    de->d_name, info ? "" : ":2,") == -1)
			continue;
		/* Never replace: a name already in cur/ stays as it is. */
		if (renameat2(AT_FDCWD, from, AT_FDCWD, to,
		    RENAME_NOREPLACE) == -1)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((v = realloc(v, cap * sizeof(*v))) == NULL)
				abort();
		}
		v[n].name = util_strdup(strrchr(to, '/') + 1);
		v[n].baselen = info ? (size_t)(info - de->d_name) :
		    strlen(de->d_name);
		v[n].flags = store_name_flags(v[n].name);
		v[n].kwbits = store_name_kwbits(v[n].name);
		n++;
	}
	closedir(d);
	if (n > 1)
		qsort(v, n, sizeof(*v), sync_file_cmp);
	*moved_r = v;
	*n_r = n;
	return 0;
}

static int
sync_read_cur(struct mbox *mb, struct sync_file **files_r, size_t *n_r)
{
	char dir[PATH_MAX];
	struct sync_file *v = NULL;
	struct dirent *de;
	size_t n = 0, cap = 0;
	const char *info;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/cur", mb->dir);
	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			if ((v = realloc(v, cap * sizeof(*v))) == NULL)
				abort();
		}
		v[n].name = util_strdup(de->d_name);
		info = strchr(de->d_name, ':');
		v[n].baselen = info != NULL ? (size_t)(info - de->d_name) :
		    strlen(de->d_name);
		v[n].flags = store_name_flags(de->d_name);
		v[n].kwbits = store_name_kwbits(de->d_name);
		n++;
	}
	closedir(d);
	if (n > 1)
		qsort(v, n, sizeof(*v), sync_file_cmp);
	*files_r = v;
	*n_r = n;
	return 0;
}

/*
 * A file read once for its row: the first read (at most
 * SUMMARY_HEADER_MAX octets, the whole of most messages) gives the
 * summary and the beginning of the vsize, the rest of a larger file is
 * only counted.  vsize >= 0 (from the name): not counted again.
 * 0, or -1 with errno.
 */
static int
sync_read_file(int fd, int64_t size, char *buf, int64_t *vsize,
    struct summary *sum)
{
	size_t len = 0, want = size < SUMMARY_HEADER_MAX ? (size_t)size :
	    SUMMARY_HEADER_MAX;
	ssize_t n;
	char prev = '\0';
	int64_t bare;

	while (len < want) {
		if ((n = pread(fd, buf + len, want - len, (off_t)len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;		/* shorter than it was */
		len += (size_t)n;
	}
	if (*vsize < 0) {
		bare = store_count_bare_lf(buf, len, &prev);
		*vsize = (int64_t)len < size ? store_count_vsize_from(fd, size,
		    (off_t)len, bare, prev) : size + bare;
		if (*vsize < 0)
			return -1;
	}
	summary_parse(buf, len, sum);
	return 0;
}

/*
 * A file the index does not know: size, vsize, date, its summary (the
 * header: read while the file is open anyway), then a UID.  Its
 * keywords are what its letters stand for in dovecot-keywords: this is
 * how they come back when the index is rebuilt.  buf: room for
 * SUMMARY_HEADER_MAX octets.  1 when it got uid, 0 when it is gone (or
 * unreadable), -1 on error.
 */
static int
sync_adopt(struct mbox *mb, const struct sync_file *f, char *buf,
    uint32_t uid, uint64_t modseq, int64_t *octets)
{
	char path[PATH_MAX], base[NAME_MAX + 1], letters[STORE_KW_MAX + 1];
	char *kw;
	const char *sz;
	long long a, b;
	struct summary sum;
	struct stat sb;
	int64_t vsize = -1;
	int fd, r;

	if (util_snprintf(path, sizeof(path), "%s/cur/%s", mb->dir,
	    f->name) == -1 || f->baselen >= sizeof(base))
		return 0;
	memcpy(base, f->name, f->baselen);
	base[f->baselen] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return 0;		/* gone meanwhile */
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return 0;
	}
	if ((sz = strstr(base, ",S=")) != NULL &&
	    sscanf(sz, ",S=%lld,W=%lld", &a, &b) == 2 && a == sb.st_size)
		vsize = b;
	if (sync_read_file(fd, sb.st_size, buf, &vsize, &sum) == -1) {
		close(fd);
		return 0;
	}
	close(fd);
	/* The flag letters of the name stand in the index as they are. */
	if (strstr(f->name, ":2,") == NULL) {
		char to[PATH_MAX];

		if (util_snprintf(to, sizeof(to), "%s:2,", path) == 0)
			rename(path, to);
	}
	/* Letters with no line in the file are no keyword, but stay in
	 * the name (the index records the name as it is). */
	store_kw_bits_letters(f->kwbits, letters);
	kw = store_kw_names(mb, f->kwbits, "");
	r = store_add_row_as(mb, uid, modseq, base, f->flags, kw, letters,
	    sb.st_size, vsize, sb.st_mtim.tv_sec, &sum);
	summary_free(&sum);
	free(kw);
	if (r == -1)
		return -1;
	*octets += vsize;
	return 1;
}

/*
 * Files the index does not know, in this order (arrival order): each
 * its row, UIDs from UIDNEXT on, all with the sync's one mod-sequence
 * (*modseq, taken now if 0), UIDNEXT written once after the last.
 * Many files (a Maildir opened for the first time) get a larger page
 * cache for the while: 10,000 rows with their summaries and indexes
 * are some 5 MB, which SQLite's default of 2 MB would write out to the
 * WAL and read back again within the transaction; and the quota's sums
 * are added once (store_quota_bulk_begin()).
 */
static int
sync_adopt_all(struct mbox *mb, struct sync_file **files, size_t n,
    uint64_t *modseq)
{
	char sql[64], *buf;
	const char *err;
	sqlite3_stmt *s;
	uint64_t highest;
	uint32_t uid, first;
	int64_t octets = 0;
	size_t i;
	int cache = 0, bulk = 0, r = 0;

	if (n == 0)
		return 0;
	if ((*modseq == 0 && store_next_modseq(mb->st, mb->id, modseq) ==
	    -1) || mbox_get_modseq(mb, &uid, &highest) == -1)
		return -1;
	if (n >= SYNC_MANY) {
		store_quota_bulk_begin(mb->st);
		bulk = 1;
		s = db_prepare(mb->st->db, "PRAGMA cache_size");
		if (sqlite3_step(s) == SQLITE_ROW)
			cache = sqlite3_column_int(s, 0);
		sqlite3_finalize(s);
		if (cache != 0)
			db_exec(mb->st->db, "PRAGMA cache_size = "
			    SYNC_MANY_CACHE, &err);
	}
	buf = util_reallocarray(NULL, SUMMARY_HEADER_MAX, 1);
	first = uid;
	for (i = 0; i < n && r != -1; i++)
		if ((r = sync_adopt(mb, files[i], buf, uid, *modseq,
		    &octets)) == 1)
			uid++;
	free(buf);
	/* The triggers back on in any case; the sums of rows added. */
	if (bulk && store_quota_bulk_end(mb->st, r == -1 ? 0 : octets,
	    r == -1 ? 0 : uid - first) == -1)
		r = -1;
	if (r != -1)
		r = store_set_uidnext(mb, uid);
	if (cache != 0) {
		snprintf(sql, sizeof(sql), "PRAGMA cache_size = %d", cache);
		db_exec(mb->st->db, sql, &err);
	}
	return r == -1 ? -1 : 0;
}

/* A known file renamed by another program: its letters win. */
static int
sync_rename_seen(struct mbox *mb, const struct sync_file *f, uint32_t uid,
    const char *oldkw, uint64_t *modseq)
{
	char letters[STORE_KW_MAX + 1], *kw;
	sqlite3_stmt *u;
	int r;

	store_kw_bits_letters(f->kwbits, letters);
	kw = store_kw_names(mb, f->kwbits, oldkw);
	if (store_next_modseq(mb->st, mb->id, modseq) == -1) {
		free(kw);
		return -1;
	}
	u = store_stmt(mb->st, Q_MSG_FILE_FLAGS);
	sqlite3_bind_int(u, 1, (int)f->flags);
	sqlite3_bind_text(u, 2, kw, -1, SQLITE_STATIC);
	sqlite3_bind_text(u, 3, letters, -1, SQLITE_STATIC);
	sqlite3_bind_int64(u, 4, (sqlite3_int64)*modseq);
	sqlite3_bind_int64(u, 5, mb->id);
	sqlite3_bind_int64(u, 6, uid);
	r = sqlite3_step(u) == SQLITE_DONE ? 0 : -1;
	sqlite3_reset(u);
	free(kw);
	return r;
}

static int
sync_cur(struct mbox *mb)
{
	struct sync_file *files = NULL, **fresh = NULL;
	size_t n = 0, i = 0, nfresh = 0, k;
	sqlite3_stmt *s;
	uint64_t modseq = 0;
	int rc, r = -1;

	if (sync_read_cur(mb, &files, &n) == -1)
		return store_fail(mb->st, "read cur");
	fresh = util_calloc(n + 1, sizeof(*fresh));
	/* Both lists are sorted by base name: merge them. */
	s = db_prepare(mb->st->db, "SELECT file, uid, flags, keywords, "
	    "kwletters FROM msg WHERE mailbox = ? ORDER BY file");
	sqlite3_bind_int64(s, 1, mb->id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW || i < n) {
		const char *base = rc == SQLITE_ROW ?
		    (const char *)sqlite3_column_text(s, 0) : NULL;
		uint32_t uid = base ? (uint32_t)sqlite3_column_int64(s, 1) : 0;
		unsigned int flags = base ?
		    (unsigned int)sqlite3_column_int(s, 2) : 0;
		int c = 0;

		/* Files the index does not know come before this row. */
		while (i < n && (base == NULL ||
		    (c = sync_base_cmp(&files[i], base)) < 0)) {
			if (nfresh == 0 || sync_file_cmp(fresh[nfresh - 1],
			    &files[i]) != 0)
				fresh[nfresh++] = &files[i];
			i++;
		}
		if (base == NULL)
			break;
		if (i < n && c == 0) {
			/* Known: flags in the name win over the index
			 * (another program renamed it). */
			if (((files[i].flags & MF_ALL) != (flags & MF_ALL) ||
			    files[i].kwbits != store_kw_letters_bits(
			    (const char *)sqlite3_column_text(s, 4))) &&
			    sync_rename_seen(mb, &files[i], uid, (const char *)
			    sqlite3_column_text(s, 3), &modseq) == -1)
				goto out;
			/* Skip duplicates of the same base. */
			for (k = i + 1; k < n && sync_file_cmp(&files[k],
			    &files[i]) == 0; k++)
				;
			i = k;
			continue;
		}
		/* In the index, not on disk: expunged behind our back. */
		{
			sqlite3_stmt *d = store_stmt(mb->st, Q_MSG_DEL);

			if (modseq == 0 && store_next_modseq(mb->st, mb->id,
			    &modseq) == -1)
				goto out;
			sqlite3_bind_int64(d, 1, mb->id);
			sqlite3_bind_int64(d, 2, uid);
			while (sqlite3_step(d) == SQLITE_ROW)
				;
			sqlite3_reset(d);
			if (store_forget(mb, uid, modseq) == -1)
				goto out;
		}
	}
	/* New files get UIDs in name order: arrival order. */
	if (sync_adopt_all(mb, fresh, nfresh, &modseq) == -1)
		goto out;
	r = 0;
out:
	if (r == -1)
		store_fail(mb->st, "sync");
	sqlite3_finalize(s);
	for (i = 0; i < n; i++)
		free(files[i].name);
	free(files);
	free(fresh);
	return r;
}

int
mbox_sync(struct mbox *mb)
{
	struct sync_file *moved = NULL;
	int64_t rec[4], mnew, mcur, start;
	size_t nmoved = 0, i;
	struct sync_file **pmoved = NULL;
	int cur_ok, r = -1;

	if (sync_get_record(mb, rec) == -1)
		return -1;
	mnew = sync_mtime(mb->dir, "new");
	mcur = sync_mtime(mb->dir, "cur");
	if (mnew < 0 || mcur < 0)
		return store_refuse(mb->st, MSTORE_ENOTFOUND,
		    "Mailbox does not exist");
	if (sync_trusted(mnew, rec[0], rec[1]) &&
	    sync_trusted(mcur, rec[2], rec[3]))
		return 0;
	if (mstore_begin(mb->st) == -1)
		return -1;
	/* Another session may have synced while we waited for the lock. */
	if (sync_get_record(mb, rec) == -1)
		goto out;
	start = util_now_nsec();
	mnew = sync_mtime(mb->dir, "new");
	mcur = sync_mtime(mb->dir, "cur");
	cur_ok = sync_trusted(mcur, rec[2], rec[3]);
	if (!sync_trusted(mnew, rec[0], rec[1]) &&
	    sync_new(mb, &moved, &nmoved) == -1) {
		store_fail(mb->st, "read new");
		goto out;
	}
	if (cur_ok) {
		/* cur/ was up to date: only what we moved is new there. */
		uint64_t modseq = 0;

		pmoved = util_calloc(nmoved + 1, sizeof(*pmoved));
		for (i = 0; i < nmoved; i++)
			pmoved[i] = &moved[i];
		if (sync_adopt_all(mb, pmoved, nmoved, &modseq) == -1)
			goto out;
	} else if (sync_cur(mb) == -1)
		goto out;
	rec[0] = sync_mtime(mb->dir, "new");
	rec[1] = start;
	rec[2] = sync_mtime(mb->dir, "cur");
	rec[3] = cur_ok ? rec[2] + SYNC_MARGIN_NS + 1 : start;
	if (sync_set_record(mb, rec) == -1)
		goto out;
	r = 0;
out:
	for (i = 0; i < nmoved; i++)
		free(moved[i].name);
	free(moved);
	free(pmoved);
	if (r == -1) {
		mstore_rollback(mb->st);
		return -1;
	}
	return mstore_commit(mb->st);
}
