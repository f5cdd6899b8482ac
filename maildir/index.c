/*
 * Messages in the index: listing, flags (mirrored into file names),
 * expunge, append, copy, the FETCH cache.  Every change takes the store's
 * write transaction and gives the message a new mod-sequence (RFC 7162).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "../lib/buf.h"
#include "../lib/db.h"
#include "../lib/util.h"
#include "store_int.h"
#include "summary.h"

/* maildir(5) info letters, in the ASCII order the names must use. */
static const struct {
	char		 letter;
	unsigned int	 flag;
} store_letters[] = {
	{ 'D', MF_DRAFT }, { 'F', MF_FLAGGED }, { 'R', MF_ANSWERED },
	{ 'S', MF_SEEN }, { 'T', MF_DELETED },
};

/* Keyword letters ('a'...) sort after these: the flags come first. */
int
store_file_name(const char *base, unsigned int flags, const char *kwletters,
    char *out, size_t size)
{
	char letters[8];
	size_t i, n = 0;

	for (i = 0; i < sizeof(store_letters) / sizeof(store_letters[0]); i++)
		if (flags & store_letters[i].flag)
			letters[n++] = store_letters[i].letter;
	letters[n] = '\0';
	return util_snprintf(out, size, "%s:2,%s%s", base, letters,
	    kwletters != NULL ? kwletters : "");
}

/* Only lowercase letters count: the flag letters are uppercase. */
uint32_t
store_kw_letters_bits(const char *letters)
{
	uint32_t bits = 0;

	for (; letters != NULL && *letters != '\0'; letters++)
		if (*letters >= 'a' && *letters < 'a' + STORE_KW_MAX)
			bits |= 1U << (*letters - 'a');
	return bits;
}

uint32_t
store_name_kwbits(const char *name)
{
	const char *info = strstr(name, ":2,");

	return info != NULL ? store_kw_letters_bits(info + 3) : 0;
}

void
store_kw_bits_letters(uint32_t bits, char *out)
{
	int i;

	for (i = 0; i < STORE_KW_MAX; i++)
		if (bits & (1U << i))
			*out++ = 'a' + i;
	*out = '\0';
}

unsigned int
store_name_flags(const char *name)
{
	const char *info = strstr(name, ":2,");
	unsigned int flags = 0;
	size_t i;

	if (info == NULL)
		return 0;
	for (info += 3; *info != '\0'; info++)
		for (i = 0; i < sizeof(store_letters) /
		    sizeof(store_letters[0]); i++)
			if (*info == store_letters[i].letter)
				flags |= store_letters[i].flag;
	return flags;
}

int64_t
store_count_bare_lf(const char *p, size_t n, char *prev)
{
	const char *nl, *end = p + n;
	int64_t bare = 0;

	if (n == 0)
		return 0;
	for (nl = p; (nl = memchr(nl, '\n', end - nl)) != NULL; nl++)
		if ((nl > p ? nl[-1] : *prev) != '\r')
			bare++;
	*prev = end[-1];
	return bare;
}

int64_t
store_count_vsize_from(int fd, int64_t size, off_t off, int64_t bare,
    char prev)
{
	char buf[65536];
	ssize_t n;

	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		bare += store_count_bare_lf(buf, (size_t)n, &prev);
		off += n;
	}
	return n < 0 ? -1 : size + bare;
}

int64_t
store_count_vsize(int fd, int64_t size)
{
	return store_count_vsize_from(fd, size, 0, 0, '\0');
}

/*
 * Every change to a mailbox bumps its HIGHESTMODSEQ (new messages also
 * UIDNEXT, a claim of \Recent first_recent): while the row says the same,
 * the counts read last are still true, and a 10,000-message INBOX is not
 * counted again for every page or STATUS.
 */
int
mbox_get_status(struct mbox *mb, struct mbox_status *out)
{
	sqlite3_stmt *s = store_stmt(mb->st, Q_MBOX_MODSEQ);
	uint32_t uidnext, first_recent, uidvalidity;
	uint64_t modseq;

	sqlite3_bind_int64(s, 1, mb->id);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_reset(s);
		return store_fail(mb->st, "status");
	}
	uidnext = (uint32_t)sqlite3_column_int64(s, 0);
	modseq = (uint64_t)sqlite3_column_int64(s, 1);
	first_recent = (uint32_t)sqlite3_column_int64(s, 2);
	uidvalidity = (uint32_t)sqlite3_column_int64(s, 3);
	sqlite3_reset(s);
	if (mb->counts.status_known && mb->counts.status.uidnext == uidnext &&
	    mb->counts.status.highestmodseq == modseq &&
	    mb->counts.status.first_recent == first_recent &&
	    mb->counts.status.uidvalidity == uidvalidity) {
		*out = mb->counts.status;
		return 0;
	}
	s = store_stmt(mb->st, Q_MBOX_STATUS);
	sqlite3_bind_int64(s, 1, mb->id);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_reset(s);
		return store_fail(mb->st, "status");
	}
	store_status_read(s, out);
	sqlite3_reset(s);
	/* Counts made inside a transaction may be rolled back with it,
	 * and stamps moved again later could match them: not kept. */
	if (mb->st->txn == 0) {
		mb->counts.status = *out;
		mb->counts.status_known = 1;
		store_counts_save(mb);
	}
	return 0;
}

int
mbox_get_modseq(struct mbox *mb, uint32_t *uidnext, uint64_t *highestmodseq)
{
	sqlite3_stmt *s = store_stmt(mb->st, Q_MBOX_MODSEQ);

	sqlite3_bind_int64(s, 1, mb->id);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_reset(s);
		return store_fail(mb->st, "status");
	}
	*uidnext = (uint32_t)sqlite3_column_int64(s, 0);
	*highestmodseq = (uint64_t)sqlite3_column_int64(s, 1);
	sqlite3_reset(s);
	return 0;
}

uint32_t
mbox_peek_recent(struct mbox *mb, uint32_t *end_r)
{
	sqlite3_stmt *s = store_stmt(mb->st, Q_MBOX_RECENT);
	uint32_t first = UINT32_MAX;

	*end_r = 0;
	sqlite3_bind_int64(s, 1, mb->id);
	if (sqlite3_step(s) == SQLITE_ROW) {
		first = (uint32_t)sqlite3_column_int64(s, 0);
		*end_r = (uint32_t)sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	return first;
}

uint32_t
mbox_claim_recent(struct mbox *mb, uint32_t *end_r)
{
	sqlite3_stmt *s;
	uint32_t first;

	*end_r = 0;
	if (mstore_begin(mb->st) == -1)
		return UINT32_MAX;
	first = mbox_peek_recent(mb, end_r);
	s = store_stmt(mb->st, Q_MBOX_RECENT_SET);
	sqlite3_bind_int64(s, 1, mb->id);
	if (sqlite3_step(s) != SQLITE_DONE) {
		sqlite3_reset(s);
		mstore_rollback(mb->st);
		return UINT32_MAX;
	}
	sqlite3_reset(s);
	if (mstore_commit(mb->st) == -1)
		return UINT32_MAX;
	return first;
}

int
mbox_messages(struct mbox *mb, uint32_t uid_min, uint32_t uid_max,
    uint64_t changedsince, int with_cache, mbox_msg_cb cb, void *arg)
{
	sqlite3_stmt *s = store_stmt(mb->st, with_cache ? Q_MSG_RANGE_CACHE :
	    Q_MSG_RANGE);
	struct mmsg m;
	int r = 0, rc;

	sqlite3_bind_int64(s, 1, mb->id);
	sqlite3_bind_int64(s, 2, uid_min);
	sqlite3_bind_int64(s, 3, uid_max);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)changedsince);
	memset(&m, 0, sizeof(m));
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		m.uid = (uint32_t)sqlite3_column_int64(s, 0);
		m.flags = (unsigned int)sqlite3_column_int(s, 1);
		m.keywords = (const char *)sqlite3_column_text(s, 2);
		m.modseq = (uint64_t)sqlite3_column_int64(s, 3);
		m.size = sqlite3_column_int64(s, 4);
		m.vsize = sqlite3_column_int64(s, 5);
		m.internaldate = sqlite3_column_int64(s, 6);
		m.file = (const char *)sqlite3_column_text(s, 7);
		m.hdr8 = sqlite3_column_type(s, 8) == SQLITE_NULL ? -1 :
		    sqlite3_column_int(s, 8) != 0;
		if (with_cache) {
			m.envelope = (const char *)sqlite3_column_text(s, 9);
			m.bodystructure = (const char *)
			    sqlite3_column_text(s, 10);
			m.body = (const char *)sqlite3_column_text(s, 11);
		}
		if ((r = cb(&m, arg)) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = store_fail(mb->st, "messages");
	sqlite3_reset(s);
	return r;
}

int
mbox_uids(struct mbox *mb, uint32_t **uids_r, size_t *n_r)
{
	sqlite3_stmt *s = store_stmt(mb->st, Q_MSG_UIDS);
	uint32_t *v = NULL;
	size_t n = 0, cap = 0;
	int rc;

	sqlite3_bind_int64(s, 1, mb->id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			if ((v = realloc(v, cap * sizeof(*v))) == NULL)
				abort();
		}
		v[n++] = (uint32_t)sqlite3_column_int64(s, 0);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		free(v);
		return store_fail(mb->st, "uids");
	}
	*uids_r = v;
	*n_r = n;
	return 0;
}

int
mbox_vanished(struct mbox *mb, uint64_t since, void (*cb)(uint32_t, void *),
    void *arg)
{
	sqlite3_stmt *s = store_stmt(mb->st, Q_VANISHED);

	sqlite3_bind_int64(s, 1, mb->id);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)since);
	while (sqlite3_step(s) == SQLITE_ROW)
		cb((uint32_t)sqlite3_column_int64(s, 0), arg);
	sqlite3_reset(s);
	return 0;
}

void
mbox_uidl(const struct mbox *mb, uint32_t uid, char out[MAILDIR_UIDL_LEN + 1])
{
	/* As Dovecot's default pop3_uidl_format "%08Xu%08Xv". */
	snprintf(out, MAILDIR_UIDL_LEN + 1, "%08X%08X", uid, mb->uidvalidity);
}

/* One message's row: file base, flags and the keyword letters of its
 * name.  1 found, 0 not, -1 error. */
static int
store_msg_row(struct mbox *mb, uint32_t uid, char *base, size_t size,
    unsigned int *flags, char letters[STORE_KW_MAX + 1], char *kw,
    size_t kwsize, uint64_t *modseq, int64_t *idate)
{
	sqlite3_stmt *s = store_stmt(mb->st, Q_MSG_ONE);
	int rc;

	sqlite3_bind_int64(s, 1, mb->id);
	sqlite3_bind_int64(s, 2, uid);
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		sqlite3_reset(s);
		if (rc == SQLITE_DONE) {
			store_refuse(mb->st, MSTORE_ENOTFOUND,
			    "No such message");
			errno = ENOENT;
			return 0;
		}
		return store_fail(mb->st, "message");
	}
	util_strcpy(base, (const char *)sqlite3_column_text(s, 1), size);
	*flags = (unsigned int)sqlite3_column_int(s, 2);
	util_strcpy(letters, (const char *)sqlite3_column_text(s, 6),
	    STORE_KW_MAX + 1);
	if (kw != NULL)
		util_strcpy(kw, (const char *)sqlite3_column_text(s, 3),
		    kwsize);
	if (modseq != NULL)
		*modseq = (uint64_t)sqlite3_column_int64(s, 4);
	if (idate != NULL)
		*idate = sqlite3_column_int64(s, 5);
	sqlite3_reset(s);
	return 1;
}

/* The name is the index's: opening a message is a single open(2). */
static int
store_msg_path(struct mbox *mb, const char *base, unsigned int flags,
    const char *letters, char *path, size_t size)
{
	char name[NAME_MAX + 1];

	if (store_file_name(base, flags, letters, name, sizeof(name)) == -1 ||
	    util_snprintf(path, size, "%s/cur/%s", mb->dir, name) == -1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/*
 * base's file in cur/ whatever its flags (another program may have
 * renamed it): open, or -1 with errno ENOENT when it is gone.  Only the
 * directory is read: a caller may be in the middle of reading the index,
 * where a sync (a write) could not begin while another session writes.
 */
static int
store_msg_find(struct mbox *mb, const char *base)
{
	char dir[PATH_MAX], path[PATH_MAX];
	size_t blen = strlen(base);
	struct dirent *de;
	DIR *d;
	int fd = -1;

	if (util_snprintf(dir, sizeof(dir), "%s/cur", mb->dir) == -1 ||
	    (d = opendir(dir)) == NULL)
		return -1;
	while (fd == -1 && (de = readdir(d)) != NULL)
		if (strncmp(de->d_name, base, blen) == 0 &&
		    (de->d_name[blen] == '\0' || de->d_name[blen] == ':') &&
		    util_snprintf(path, sizeof(path), "%s/%s", dir,
		    de->d_name) == 0)
			fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	closedir(d);
	if (fd == -1)
		errno = ENOENT;
	return fd;
}

int
store_msg_open_file(struct mbox *mb, const char *base, unsigned int flags,
    const char *letters)
{
	char path[PATH_MAX];
	int fd;

	if (store_msg_path(mb, base, flags, letters, path, sizeof(path)) == -1)
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) != -1 ||
	    errno != ENOENT)
		return fd;
	/* Renamed by another program (its flags), or expunged. */
	return store_msg_find(mb, base);
}

int
mbox_msg_open(struct mbox *mb, uint32_t uid)
{
	char base[NAME_MAX + 1], letters[STORE_KW_MAX + 1];
	unsigned int flags;
	int r, fd;

	if ((r = store_msg_row(mb, uid, base, sizeof(base), &flags, letters,
	    NULL, 0, NULL, NULL)) != 1) {
		if (r == 0)		/* expunged */
			errno = ENOENT;
		return -1;
	}
	if ((fd = store_msg_open_file(mb, base, flags, letters)) == -1)
		store_fail_errno(mb->st, "message");
	return fd;
}

int
mbox_set_flags(struct mbox *mb, uint32_t uid, unsigned int flags,
    const char *keywords, uint64_t unchangedsince, uint64_t *modseq_r)
{
	char base[NAME_MAX + 1], oldp[PATH_MAX], newp[PATH_MAX], kw[4096];
	char oletters[STORE_KW_MAX + 1], letters[STORE_KW_MAX + 1];
	unsigned int oflags;
	uint64_t omodseq, modseq;
	int64_t before;
	sqlite3_stmt *s;
	int r, renamed = 0;

	flags &= MF_ALL;
	if (mstore_begin(mb->st) == -1)
		return -1;
	if ((r = store_msg_row(mb, uid, base, sizeof(base), &oflags, oletters,
	    kw, sizeof(kw), &omodseq, NULL)) != 1) {
		/* Expunged meanwhile: nothing done, and nothing that
		 * should undo the caller's other changes. */
		if (r == 0) {
			mstore_commit(mb->st);
			errno = ENOENT;
		} else
			mstore_rollback(mb->st);
		return -1;
	}
	if (unchangedsince != 0 && omodseq > unchangedsince) {
		mstore_commit(mb->st);
		return 2;
	}
	if (oflags == flags && strcmp(kw, keywords) == 0) {
		mstore_commit(mb->st);
		*modseq_r = omodseq;
		return 0;
	}
	/* Keywords go into the name too (as Dovecot does), so a rebuilt
	 * index finds them again. */
	store_kw_letters(mb, keywords, letters);
	if (oflags != flags || strcmp(oletters, letters) != 0) {
		before = store_cur_mtime(mb);
		if (store_msg_path(mb, base, oflags, oletters, oldp,
		    sizeof(oldp)) == -1 || store_msg_path(mb, base, flags,
		    letters, newp, sizeof(newp)) == -1 ||
		    rename(oldp, newp) == -1) {
			store_fail(mb->st, "rename");
			mstore_rollback(mb->st);
			return -1;
		}
		renamed = 1;
		store_cur_changed(mb, before);
	}
	if (store_next_modseq(mb->st, mb->id, &modseq) == -1) {
		mstore_rollback(mb->st);
		if (renamed)
			rename(newp, oldp);
		return -1;
	}
	s = store_stmt(mb->st, Q_MSG_FLAGS);
	sqlite3_bind_int(s, 1, (int)flags);
	sqlite3_bind_text(s, 2, keywords, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, letters, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)modseq);
	sqlite3_bind_int64(s, 5, mb->id);
	sqlite3_bind_int64(s, 6, uid);
	if (sqlite3_step(s) != SQLITE_DONE) {
		store_fail(mb->st, "flags");
		mstore_rollback(mb->st);
		if (renamed)
			rename(newp, oldp);
		return -1;
	}
	if (mstore_commit(mb->st) == -1)
		return -1;
	*modseq_r = modseq;
	return 1;
}

int
store_forget(struct mbox *mb, uint32_t uid, uint64_t modseq)
{
	sqlite3_stmt *s = store_stmt(mb->st, Q_VANISH_ADD);

	sqlite3_bind_int64(s, 1, mb->id);
	sqlite3_bind_int64(s, 2, uid);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)modseq);
	if (sqlite3_step(s) != SQLITE_DONE)
		return store_fail(mb->st, "vanished");
	return 0;
}

int
mbox_expunge(struct mbox *mb, const uint32_t *uids, size_t n)
{
	char base[NAME_MAX + 1], path[PATH_MAX], letters[STORE_KW_MAX + 1];
	unsigned int flags;
	uint64_t modseq;
	int64_t before;
	sqlite3_stmt *s;
	size_t i;

	if (n == 0)
		return 0;
	if (mstore_begin(mb->st) == -1)
		return -1;
	before = store_cur_mtime(mb);
	if (store_next_modseq(mb->st, mb->id, &modseq) == -1)
		goto fail;
	for (i = 0; i < n; i++) {
		s = store_stmt(mb->st, Q_MSG_DEL);
		sqlite3_bind_int64(s, 1, mb->id);
		sqlite3_bind_int64(s, 2, uids[i]);
		if (sqlite3_step(s) != SQLITE_ROW) {
			sqlite3_reset(s);
			continue;	/* already gone */
		}
		util_strcpy(base, (const char *)sqlite3_column_text(s, 0),
		    sizeof(base));
		flags = (unsigned int)sqlite3_column_int(s, 1);
		util_strcpy(letters, (const char *)sqlite3_column_text(s, 2),
		    sizeof(letters));
		sqlite3_step(s);
		sqlite3_reset(s);
		if (store_forget(mb, uids[i], modseq) == -1)
			goto fail;
		/*
		 * The row goes with the transaction; the file goes now.  A
		 * crash between the two leaves a row without a file, which
		 * the next scan of cur/ turns into an expunge: nothing is
		 * shown that does not exist, nothing is lost that was kept.
		 */
		if (store_msg_path(mb, base, flags, letters, path,
		    sizeof(path)) == 0 &&
		    unlink(path) == -1 && errno != ENOENT)
			goto fail;
	}
	store_cur_changed(mb, before);
	return mstore_commit(mb->st);
fail:
	store_fail(mb->st, "expunge");
	mstore_rollback(mb->st);
	return -1;
}

int
mbox_cache_put(struct mbox *mb, uint32_t uid, const char *envelope,
    const char *bodystructure, const char *body)
{
	sqlite3_stmt *s = store_stmt(mb->st, Q_MSG_CACHE);

	sqlite3_bind_text(s, 1, envelope, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, bodystructure, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, body, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, mb->id);
	sqlite3_bind_int64(s, 5, uid);
	if (sqlite3_step(s) != SQLITE_DONE)
		return store_fail(mb->st, "cache");
	return 0;
}

int
mbox_hdr8_put(struct mbox *mb, uint32_t uid, int hdr8)
{
	sqlite3_stmt *s = store_stmt(mb->st, Q_MSG_HDR8);

	sqlite3_bind_int(s, 1, hdr8 != 0);
	sqlite3_bind_int64(s, 2, mb->id);
	sqlite3_bind_int64(s, 3, uid);
	if (sqlite3_step(s) != SQLITE_DONE)
		return store_fail(mb->st, "hdr8");
	return 0;
}

char *
mbox_keywords(struct mbox *mb)
{
	struct buf b;
	sqlite3_stmt *s;

	buf_init(&b, 65536);
	buf_puts(&b, "");
	s = db_prepare(mb->st->db, "SELECT DISTINCT keywords FROM msg "
	    "WHERE mailbox = ? AND keywords != ''");
	sqlite3_bind_int64(s, 1, mb->id);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *kw = (const char *)sqlite3_column_text(s, 0);
		char *copy = util_strdup(kw), *w, *save = NULL;

		for (w = strtok_r(copy, " ", &save); w != NULL;
		    w = strtok_r(NULL, " ", &save)) {
			char pad[512];

			snprintf(pad, sizeof(pad), " %s ", w);
			b.data[b.len] = '\0';
			if (b.len > 0) {
				char *hay = NULL;

				if (asprintf(&hay, " %s ", b.data) == -1)
					abort();
				if (strstr(hay, pad) != NULL) {
					free(hay);
					continue;
				}
				free(hay);
			}
			if (b.len > 0)
				buf_putc(&b, ' ');
			buf_puts(&b, w);
		}
		free(copy);
	}
	sqlite3_finalize(s);
	return b.data != NULL ? b.data : util_strdup("");
}

/* A unique base name for a message we write (maildir(5)). */
static void
store_new_base(char *out, size_t size)
{
	static unsigned int counter;
	struct timespec ts;
	char host[64];
	size_t i;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (gethostname(host, sizeof(host)) == -1)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	for (i = 0; host[i] != '\0'; i++)
		if (host[i] == '/' || host[i] == ':' || host[i] == ',')
			host[i] = '_';
	snprintf(out, size, "%lld.M%ldP%ldQ%uR%08x.%s", (long long)ts.tv_sec,
	    ts.tv_nsec / 1000, (long)getpid(), ++counter, util_random(), host);
}

int
mbox_append_begin(struct mbox *mb, char *tmppath, size_t size)
{
	char base[NAME_MAX + 1];

	int fd;

	store_new_base(base, sizeof(base));
	if (util_snprintf(tmppath, size, "%s/tmp/%s", mb->dir, base) == -1) {
		errno = ENAMETOOLONG;
		return store_fail(mb->st, "append");
	}
	if ((fd = open(tmppath, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1)
		return store_fail(mb->st, "append");
	return fd;
}

/* Insert a row for a file now in cur/; the UID is the next one. */
int
store_add_row(struct mbox *mb, const char *base, unsigned int flags,
    const char *keywords, const char *letters, int64_t size, int64_t vsize,
    int64_t idate, const struct summary *sum, uint32_t *uid_r)
{
	sqlite3_stmt *s;
	uint64_t modseq;
	uint32_t uid;

	s = store_stmt(mb->st, Q_MBOX_UIDNEXT);
	sqlite3_bind_int64(s, 1, mb->id);
	if (sqlite3_step(s) != SQLITE_ROW)
		return store_fail(mb->st, "uidnext");
	uid = (uint32_t)sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (store_next_modseq(mb->st, mb->id, &modseq) == -1)
		return -1;
	if (store_add_row_as(mb, uid, modseq, base, flags, keywords, letters,
	    size, vsize, idate, sum) == -1)
		return -1;
	if (uid_r != NULL)
		*uid_r = uid;
	return 0;
}

int
store_add_row_as(struct mbox *mb, uint32_t uid, uint64_t modseq,
    const char *base, unsigned int flags, const char *keywords,
    const char *letters, int64_t size, int64_t vsize, int64_t idate,
    const struct summary *sum)
{
	sqlite3_stmt *s;
	int64_t msg;

	s = store_stmt(mb->st, Q_MSG_ADD);
	sqlite3_bind_int64(s, 1, mb->id);
	sqlite3_bind_int64(s, 2, uid);
	sqlite3_bind_text(s, 3, base, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 4, (int)(flags & MF_ALL));
	sqlite3_bind_text(s, 5, keywords != NULL ? keywords : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)modseq);
	sqlite3_bind_int64(s, 7, size);
	sqlite3_bind_int64(s, 8, vsize);
	sqlite3_bind_int64(s, 9, idate);
	sqlite3_bind_text(s, 10, letters != NULL ? letters : "", -1,
	    SQLITE_STATIC);
	if (sum != NULL && sum->hdr8 != -1)
		sqlite3_bind_int(s, 11, sum->hdr8);
	else
		sqlite3_bind_null(s, 11);
	if (sqlite3_step(s) != SQLITE_DONE)
		return store_fail(mb->st, "add message");
	/* The row's id, as the quota trigger leaves it. */
	msg = sqlite3_last_insert_rowid(mb->st->db);
	if (store_ext_added(mb, msg, uid) == -1)
		return -1;
	if (sum != NULL && store_summary_put_new(mb, msg, uid, vsize, idate,
	    sum) == -1)
		return -1;
	return 0;
}

int
store_set_uidnext(struct mbox *mb, uint32_t uidnext)
{
	sqlite3_stmt *s = store_stmt(mb->st, Q_MBOX_SET_UIDNEXT);

	sqlite3_bind_int64(s, 1, mb->id);
	sqlite3_bind_int64(s, 2, uidnext);
	if (sqlite3_step(s) != SQLITE_DONE)
		return store_fail(mb->st, "uidnext");
	return 0;
}

/* What mbox_append_commit_n() reads of a file before the store is
 * locked. */
struct append_prep {
	char		 base[NAME_MAX + 1];
	char		 final[PATH_MAX];
	char		 letters[STORE_KW_MAX + 1];
	struct summary	 sum;
	struct stat	 sb;
	int64_t		 vsize;
	int		 have_sum;
	int		 moved;		/* renamed into cur/ */
};

static int
append_prepare(struct mbox *mb, const struct mbox_append *a,
    struct append_prep *p)
{
	const char *slash = strrchr(a->tmppath, '/');
	struct timespec times[2];
	int fd;

	if (slash == NULL || (fd = open(a->tmppath, O_RDONLY |
	    O_CLOEXEC)) == -1)
		return store_fail(mb->st, "append");
	/* The summary is read here, before the store is locked. */
	if (fstat(fd, &p->sb) == -1 || fsync(fd) == -1 ||
	    (p->vsize = store_count_vsize(fd, p->sb.st_size)) < 0 ||
	    summary_read(fd, &p->sum) == -1) {
		close(fd);
		return store_fail(mb->st, "append");
	}
	close(fd);
	p->have_sum = 1;
	if (util_snprintf(p->base, sizeof(p->base), "%s,S=%lld,W=%lld",
	    slash + 1, (long long)p->sb.st_size, (long long)p->vsize) == -1)
		return store_fail(mb->st, "append");
	/* INTERNALDATE is the file's mtime (as for delivered mail). */
	times[0].tv_sec = times[1].tv_sec = (time_t)a->internaldate;
	times[0].tv_nsec = times[1].tv_nsec = 0;
	utimensat(AT_FDCWD, a->tmppath, times, 0);
	return 0;
}

int
mbox_append_commit_n(struct mbox *mb, struct mbox_append *msgs, size_t n)
{
	struct append_prep *p;
	int64_t before;
	size_t i;
	int r = -1;

	p = util_calloc(n + 1, sizeof(*p));
	for (i = 0; i < n; i++)
		if (append_prepare(mb, &msgs[i], &p[i]) == -1)
			goto out;
	if (mstore_begin(mb->st) == -1)
		goto out;
	for (i = 0; i < n; i++) {
		/* Letters are given under the transaction: one writer at a
		 * time. */
		store_kw_letters(mb, msgs[i].keywords, p[i].letters);
		if (store_msg_path(mb, p[i].base, msgs[i].flags, p[i].letters,
		    p[i].final, sizeof(p[i].final)) == -1) {
			store_fail(mb->st, "append");
			goto undo;
		}
		before = store_cur_mtime(mb);
		if (rename(msgs[i].tmppath, p[i].final) == -1) {
			store_fail(mb->st, "append");
			goto undo;
		}
		p[i].moved = 1;
		store_cur_changed(mb, before);
		if (store_add_row(mb, p[i].base, msgs[i].flags,
		    msgs[i].keywords, p[i].letters, p[i].sb.st_size,
		    p[i].vsize, msgs[i].internaldate, &p[i].sum,
		    &msgs[i].uid) == -1)
			goto undo;
	}
	if (mstore_commit(mb->st) == -1)
		goto moved_back;
	/* The reply says the messages are stored: make the names durable. */
	{
		char cur[PATH_MAX];

		snprintf(cur, sizeof(cur), "%s/cur", mb->dir);
		util_fsync_dir(cur);
	}
	r = 0;
	goto out;
undo:
	mstore_rollback(mb->st);
moved_back:
	/* All or none (RFC 3502 §6.3.11): no file stays in cur/ that the
	 * index does not have. */
	for (i = 0; i < n; i++)
		if (p[i].moved)
			rename(p[i].final, msgs[i].tmppath);
out:
	for (i = 0; i < n; i++)
		if (p[i].have_sum)
			summary_free(&p[i].sum);
	free(p);
	return r;
}

int
mbox_append_commit(struct mbox *mb, const char *tmppath, unsigned int flags,
    const char *keywords, int64_t internaldate, uint32_t *uid_r)
{
	struct mbox_append a;

	memset(&a, 0, sizeof(a));
	a.tmppath = tmppath;
	a.flags = flags;
	a.keywords = keywords;
	a.internaldate = internaldate;
	if (mbox_append_commit_n(mb, &a, 1) == -1)
		return -1;
	if (uid_r != NULL)
		*uid_r = a.uid;
	return 0;
}

/* A statement about a copy: ?1, ?2 its mailbox and UID, ?3, ?4 the
 * original's. */
static void
copy_exec(struct mbox *dst, uint32_t duid, struct mbox *src, uint32_t suid,
    const char *sql)
{
	sqlite3_stmt *s = db_prepare(dst->st->db, sql);

	sqlite3_bind_int64(s, 1, dst->id);
	sqlite3_bind_int64(s, 2, duid);
	sqlite3_bind_int64(s, 3, src->id);
	sqlite3_bind_int64(s, 4, suid);
	sqlite3_step(s);
	sqlite3_finalize(s);
}

int
mbox_copy(struct mbox *src, uint32_t uid, struct mbox *dst, uint32_t *uid_r)
{
	char base[NAME_MAX + 1], nbase[NAME_MAX + 1], from[PATH_MAX];
	char to[PATH_MAX], kw[4096], sletters[STORE_KW_MAX + 1];
	char letters[STORE_KW_MAX + 1];
	const char *sz;
	unsigned int flags;
	int64_t idate, size = 0, vsize = 0, before;
	long long a, b;
	struct summary sum;
	int r, fd;

	if ((r = store_msg_row(src, uid, base, sizeof(base), &flags, sletters,
	    kw, sizeof(kw), NULL, &idate)) != 1)
		return -1;
	/* The same message has the same summary: the source's, else one
	 * read now, before the store is locked. */
	if ((r = store_summary_get(src, uid, &sum)) == -1)
		return -1;
	if (r == 0) {
		if ((fd = store_msg_open_file(src, base, flags, sletters)) == -1)
			return store_fail(src->st, "copy");
		r = summary_read(fd, &sum);
		close(fd);
		if (r == -1)
			return store_fail(src->st, "copy");
	}
	/* Keep ",S=..,W=.." so sizes stay known without reading. */
	store_new_base(nbase, sizeof(nbase));
	if ((sz = strstr(base, ",S=")) != NULL &&
	    sscanf(sz, ",S=%lld,W=%lld", &a, &b) == 2) {
		size = a;
		vsize = b;
		strncat(nbase, sz, sizeof(nbase) - strlen(nbase) - 1);
	}
	if (store_msg_path(src, base, flags, sletters, from,
	    sizeof(from)) == -1) {
		summary_free(&sum);
		return store_fail(src->st, "copy");
	}
	if (mstore_begin(dst->st) == -1) {
		summary_free(&sum);
		return -1;
	}
	/* dst has letters of its own (its own dovecot-keywords). */
	store_kw_letters(dst, kw, letters);
	if (store_msg_path(dst, nbase, flags, letters, to, sizeof(to)) == -1) {
		store_fail(dst->st, "copy");
		summary_free(&sum);
		mstore_rollback(dst->st);
		return -1;
	}
	before = store_cur_mtime(dst);
	if (link(from, to) == -1) {
		store_fail(src->st, "copy");
		summary_free(&sum);
		mstore_rollback(dst->st);
		return -1;
	}
	store_cur_changed(dst, before);
	if (sz == NULL) {
		struct stat sb;

		fd = open(to, O_RDONLY | O_CLOEXEC);
		if (fd == -1 || fstat(fd, &sb) == -1) {
			if (fd != -1)
				close(fd);
			goto fail;
		}
		size = sb.st_size;
		vsize = store_count_vsize(fd, size);
		close(fd);
	}
	if (store_add_row(dst, nbase, flags, kw, letters, size, vsize, idate,
	    &sum, uid_r) == -1 || store_ext_copied(src, uid, dst, *uid_r) == -1)
		goto fail;
	/* The cached FETCH items are the same message's. */
	copy_exec(dst, *uid_r, src, uid, "INSERT OR REPLACE INTO cache SELECT "
	    "(SELECT id FROM msg WHERE mailbox = ?1 AND uid = ?2), envelope, "
	    "bodystructure, body FROM cache WHERE msg = (SELECT id FROM msg "
	    "WHERE mailbox = ?3 AND uid = ?4)");
	/* So is whether its header holds 8-bit octets, when the summary
	 * (the table's, which does not keep it) did not say. */
	if (sum.hdr8 == -1)
		copy_exec(dst, *uid_r, src, uid, "UPDATE msg SET hdr8 = (SELECT "
		    "hdr8 FROM msg WHERE mailbox = ?3 AND uid = ?4) WHERE "
		    "mailbox = ?1 AND uid = ?2");
	summary_free(&sum);
	if (mstore_commit(dst->st) == -1)
		return -1;
	snprintf(to, sizeof(to), "%s/cur", dst->dir);
	util_fsync_dir(to);
	return 0;
fail:
	unlink(to);
	store_fail(dst->st, "copy");
	summary_free(&sum);
	mstore_rollback(dst->st);
	return -1;
}
