/*
 * Keywords in file names, as Dovecot's Maildir keeps them, so that they
 * survive a rebuild of the index and other tools see them.
 *
 * Each folder's directory holds "dovecot-keywords", lines "<i> <name>"
 * with 0 <= i < 26; a message with keyword i has the letter 'a' + i in
 * its name's info, after the flag letters (":2,FSa"; maildir(5) wants the
 * info sorted).  Indexes are only ever added, never reused: a letter
 * means the same keyword for as long as the file exists.  A folder with
 * 26 indexes taken keeps any further keyword in the index only.
 *
 * The file is another program's input too: names that are not IMAP atoms
 * are never read into the index (they would go out in FETCH FLAGS), but
 * their indexes stay taken and their lines are kept.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../global/layout.h"
#include "../lib/buf.h"
#include "../lib/util.h"
#include "store_int.h"

#define KW_FILE_MAX	65536	/* 26 lines of 100-octet names, and slack */

int
maildir_keyword_valid(const char *k, size_t len)
{
	size_t i;

	if (len == 0 || len > MAILDIR_KEYWORD_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)k[i] <= ' ' || (unsigned char)k[i] >= 0x7f ||
		    strchr("(){%*\"\\]", k[i]) != NULL)
			return 0;
	return 1;
}

static char *
kw_strndup(const char *s, size_t n)
{
	char *p = util_calloc(1, n + 1);

	memcpy(p, s, n);
	return p;
}

void
store_kw_free(struct mbox *mb)
{
	size_t i;

	for (i = 0; i < STORE_KW_MAX; i++) {
		free(mb->kw[i]);
		mb->kw[i] = NULL;
	}
	mb->kw_used = 0;
	mb->kw_loaded = 0;
}

static void
kw_parse(struct mbox *mb, const char *text)
{
	const char *p = text, *nl, *name;
	char *end;
	unsigned long i;

	for (; *p != '\0'; p = *nl == '\n' ? nl + 1 : nl) {
		nl = p + strcspn(p, "\n");
		i = strtoul(p, &end, 10);
		if (end == p || *end != ' ' || end > nl || i >= STORE_KW_MAX)
			continue;
		mb->kw_used |= 1U << i;
		name = end + 1;
		if (mb->kw[i] == NULL && maildir_keyword_valid(name, (size_t)(nl - name)))
			mb->kw[i] = kw_strndup(name, (size_t)(nl - name));
	}
}

/*
 * Read dovecot-keywords unless what we read is still current (force:
 * read it anyway).  A missing file is an empty one.  0, or -1 with errno
 * (and the map empty): the caller decides what that costs.
 */
static int
kw_load(struct mbox *mb, int force)
{
	char path[PATH_MAX], *text;
	struct stat sb;

	if (layout_path(path, sizeof(path), mb->dir,
	    LAYOUT_DOVECOT_KEYWORDS) == -1)
		return -1;
	if (stat(path, &sb) == -1) {
		store_kw_free(mb);
		if (errno != ENOENT)
			return -1;
		mb->kw_loaded = 1;
		memset(&mb->kw_sb, 0, sizeof(mb->kw_sb));
		return 0;
	}
	/* Our writers only append (the size grows) and rename (a new
	 * inode): stat(2) tells whether what we hold is current. */
	if (!force && mb->kw_loaded && sb.st_ino == mb->kw_sb.st_ino &&
	    sb.st_size == mb->kw_sb.st_size &&
	    sb.st_mtim.tv_sec == mb->kw_sb.st_mtim.tv_sec &&
	    sb.st_mtim.tv_nsec == mb->kw_sb.st_mtim.tv_nsec)
		return 0;
	store_kw_free(mb);
	if ((text = util_read_file(path, KW_FILE_MAX, NULL)) == NULL)
		return errno == ENOENT ? 0 : -1;
	kw_parse(mb, text);
	free(text);
	mb->kw_loaded = 1;
	mb->kw_sb = sb;
	return 0;
}

/* The index of a keyword (case-insensitive, RFC 3501 §2.3.2), or -1. */
static int
kw_find(struct mbox *mb, const char *k, size_t len)
{
	int i;

	for (i = 0; i < STORE_KW_MAX; i++)
		if (mb->kw[i] != NULL && strlen(mb->kw[i]) == len &&
		    strncasecmp(mb->kw[i], k, len) == 0)
			return i;
	return -1;
}

/*
 * Append lines to dovecot-keywords: the old text is kept as it is, the
 * new file written beside it and renamed over it, so a reader sees the
 * old file or the new one.  The caller holds the store's write
 * transaction: no other session of ours writes it meanwhile.  0, or -1
 * with errno.
 */
static int
kw_append(struct mbox *mb, const char *lines)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8], *old;
	size_t oldlen = 0;
	int fd, e;

	if (layout_path(path, sizeof(path), mb->dir,
	    LAYOUT_DOVECOT_KEYWORDS) == -1 ||
	    util_snprintf(tmp, sizeof(tmp), "%s.tmp", path) == -1)
		return -1;
	if ((old = util_read_file(path, KW_FILE_MAX, &oldlen)) == NULL &&
	    errno != ENOENT)
		return -1;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1) {
		free(old);
		return -1;
	}
	if ((oldlen > 0 && util_write_all(fd, old, oldlen) == -1) ||
	    (oldlen > 0 && old[oldlen - 1] != '\n' &&
	    util_write_all(fd, "\n", 1) == -1) ||
	    util_write_all(fd, lines, strlen(lines)) == -1 || fsync(fd) == -1) {
		e = errno;
		close(fd);
		unlink(tmp);
		free(old);
		errno = e;
		return -1;
	}
	free(old);
	if (close(fd) == -1 || rename(tmp, path) == -1) {
		e = errno;
		unlink(tmp);
		errno = e;
		return -1;
	}
	return 0;
}

/* Are all these keywords in the map we hold? */
static int
kw_all_known(struct mbox *mb, const char *keywords)
{
	const char *p;
	size_t n;

	for (p = keywords; *p != '\0'; p += strspn(p, " ")) {
		n = strcspn(p, " ");
		if (kw_find(mb, p, n) == -1)
			return 0;
		p += n;
	}
	return 1;
}

/*
 * The letters are a copy of what the index holds, kept for its rebuild:
 * when dovecot-keywords cannot be read or written (a full disk, a file
 * that is not ours), keywords without a letter stay in the index only
 * and the change itself goes on, as a flag change on a full disk must.
 */
void
store_kw_letters(struct mbox *mb, const char *keywords,
    char letters[STORE_KW_MAX + 1])
{
	struct buf add;
	const char *p;
	uint32_t bits = 0, fresh = 0;
	size_t n;
	int i;

	letters[0] = '\0';
	if (keywords == NULL || keywords[0] == '\0' || kw_load(mb, 0) == -1)
		return;
	/* About to give a new index: be sure no one else just did. */
	if (!kw_all_known(mb, keywords) && kw_load(mb, 1) == -1)
		return;
	buf_init(&add, KW_FILE_MAX);
	buf_puts(&add, "");
	for (p = keywords; *p != '\0'; p += strspn(p, " ")) {
		n = strcspn(p, " ");
		if ((i = kw_find(mb, p, n)) == -1 && maildir_keyword_valid(p, n) &&
		    (mb->kw_used | fresh) != (1U << STORE_KW_MAX) - 1) {
			for (i = 0; (mb->kw_used | fresh) & (1U << i); i++)
				;
			fresh |= 1U << i;
			mb->kw[i] = kw_strndup(p, n);
			buf_printf(&add, "%d %.*s\n", i, (int)n, p);
		}
		/* Else i == -1: no letter left, the index alone keeps it. */
		if (i >= 0)
			bits |= 1U << i;
		p += n;
	}
	if (fresh != 0) {
		mb->kw_used |= fresh;
		if (kw_append(mb, add.data) == -1)
			bits &= ~fresh;		/* index only, see above */
		mb->kw_loaded = 0;		/* read it again next time */
	}
	buf_release(&add);
	store_kw_bits_letters(bits, letters);
}

char *
store_kw_names(struct mbox *mb, uint32_t bits, const char *old)
{
	struct buf out;
	const char *p;
	size_t n;
	int i;

	/* No letter and no keyword (most mail): nothing to look up, and
	 * no stat(2) of the file per message of a sync. */
	if (bits == 0 && (old == NULL || *old == '\0'))
		return util_strdup("");
	/* Unreadable: no letter stands for anything (never a lock-out). */
	kw_load(mb, 0);
	buf_init(&out, 0);
	buf_puts(&out, "");
	for (i = 0; i < STORE_KW_MAX; i++)
		if ((bits & (1U << i)) && mb->kw[i] != NULL) {
			if (out.len > 0)
				buf_putc(&out, ' ');
			buf_puts(&out, mb->kw[i]);
		}
	for (p = old != NULL ? old : ""; *p != '\0'; p += strspn(p, " ")) {
		n = strcspn(p, " ");
		if (kw_find(mb, p, n) == -1) {
			if (out.len > 0)
				buf_putc(&out, ' ');
			buf_append(&out, p, n);
		}
		p += n;
	}
	return buf_take(&out);
}
