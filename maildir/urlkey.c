/*
 * URLAUTH's mailbox access keys (RFC 4467 §4, §7: the INTERNAL
 * mechanism's "mailbox access key", at least 128 random bits per
 * mailbox).
 *
 * One file in the user's Maildir, urlauth-keys, 0600, a line per
 * mailbox that has a key: "<uidvalidity> <key in hex> <name>".  Only
 * the user's own post-login processes reach it (Landlock confines each
 * to its one Maildir), as they do the messages the keys open.  A key
 * remembers the UIDVALIDITY it was made under: when the mailbox's
 * changes (deleted and made again, index rebuilt) the key is dead, and
 * so are the URLs it signed, as RFC 4467 §2.4 wants of URLs whose
 * messages are no longer what they named.
 *
 * Changes are made under an flock of urlauth-keys.lock and written
 * whole: a new file, fsync'd, renamed over the old one.
 */
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "../lib/util.h"
#include "store_int.h"
#include "urlkey.h"

#define URLKEY_FILE_MAX	(1024 * 1024)	/* octets of the file */

static int
urlkey_path(char *out, size_t size, const char *userdir, const char *name)
{
	int n = snprintf(out, size, "%s/%s", userdir, name);

	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static int
hex_decode(const char *s, size_t n, unsigned char *out)
{
	size_t i;
	unsigned int v;

	for (i = 0; i < n; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return 0;
}

/* The whole file into *data (NUL-terminated); "" when it is not there. */
static int
urlkey_read(const char *userdir, char **data)
{
	char path[4096];
	struct stat sb;
	ssize_t n;
	size_t got = 0;
	int fd;

	*data = NULL;
	if (urlkey_path(path, sizeof(path), userdir, URLKEY_FILE) == -1)
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		if (errno != ENOENT)
			return -1;
		*data = util_calloc(1, 1);
		return 0;
	}
	if (fstat(fd, &sb) == -1 || sb.st_size > URLKEY_FILE_MAX) {
		if (errno == 0)
			errno = EFBIG;
		close(fd);
		return -1;
	}
	*data = util_calloc(1, (size_t)sb.st_size + 1);
	while (got < (size_t)sb.st_size &&
	    (n = read(fd, *data + got, (size_t)sb.st_size - got)) > 0)
		got += (size_t)n;
	(*data)[got] = '\0';
	close(fd);
	return 0;
}

/* Write the lines kept as the new file. */
static int
urlkey_write(const char *userdir, const struct buf *b)
{
	char path[4096], tmp[4096];
	int fd, dfd, r = -1;

	if (urlkey_path(path, sizeof(path), userdir, URLKEY_FILE) == -1 ||
	    urlkey_path(tmp, sizeof(tmp), userdir, URLKEY_FILE ".tmp") == -1)
		return -1;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1)
		return -1;
	if (util_write_all(fd, b->data != NULL ? b->data : "", b->len) == 0 &&
	    fsync(fd) == 0)
		r = 0;
	if (close(fd) == -1)
		r = -1;
	if (r == 0 && rename(tmp, path) == -1)
		r = -1;
	if (r == -1) {
		unlink(tmp);
		return -1;
	}
	if ((dfd = open(userdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
}

/*
 * Under the lock: read the file, keep every line but mailbox's (all of
 * them go when mailbox is NULL), and give mailbox's key when it is valid
 * for uidvalidity; make one when create.
 */
static int
urlkey_update(const char *userdir, const char *mailbox, uint32_t uidvalidity,
    int create, unsigned char *key)
{
	char lockpath[4096], *data = NULL, *line, *next, *name, *hex;
	struct buf out;
	unsigned char k[URLKEY_LEN];
	unsigned long uv;
	int lfd, found = 0, changed = 0, r = -1;

	if (mailbox != NULL && strchr(mailbox, '\n') != NULL) {
		errno = EINVAL;
		return -1;
	}
	if (urlkey_path(lockpath, sizeof(lockpath), userdir,
	    URLKEY_FILE ".lock") == -1)
		return -1;
	if ((lfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) == -1)
		return -1;
	if (flock(lfd, LOCK_EX) == -1 || urlkey_read(userdir, &data) == -1) {
		close(lfd);
		return -1;
	}
	buf_init(&out, URLKEY_FILE_MAX + 1024);
	for (line = data; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		/* "<uidvalidity> <hex> <name>"; a damaged line is dropped */
		uv = strtoul(line, &hex, 10);
		if (*hex != ' ' || strlen(hex + 1) < 2 * URLKEY_LEN + 2 ||
		    hex[1 + 2 * URLKEY_LEN] != ' ' ||
		    hex_decode(hex + 1, URLKEY_LEN, k) == -1) {
			changed = 1;
			continue;
		}
		name = hex + 2 + 2 * URLKEY_LEN;
		if (mailbox == NULL || strcmp(name, mailbox) == 0) {
			if (mailbox != NULL && key != NULL &&
			    uv == uidvalidity) {
				memcpy(key, k, URLKEY_LEN);
				found = 1;
				buf_printf(&out, "%s\n", line);
			} else
				changed = 1;	/* reset, or dead */
			continue;
		}
		buf_printf(&out, "%s\n", line);
	}
	if (mailbox != NULL && key != NULL && !found && create) {
		if (getrandom(key, URLKEY_LEN, 0) != URLKEY_LEN)
			goto out;
		buf_printf(&out, "%u ", uidvalidity);
		for (size_t i = 0; i < URLKEY_LEN; i++)
			buf_printf(&out, "%02x", key[i]);
		buf_printf(&out, " %s\n", mailbox);
		found = changed = 1;
	}
	if (out.len > URLKEY_FILE_MAX) {
		errno = E2BIG;		/* keys of some 10,000 mailboxes */
		goto out;
	}
	if (changed && urlkey_write(userdir, &out) == -1)
		goto out;
	r = found ? 0 : 1;
out:
	explicit_bzero(k, sizeof(k));
	if (data != NULL)
		explicit_bzero(data, strlen(data));
	free(data);
	if (out.data != NULL)
		explicit_bzero(out.data, out.len);
	buf_release(&out);
	close(lfd);		/* and the lock with it */
	return r;
}

/* What failed, as the store's classes say it. */
static int
urlkey_fail(enum mstore_err *err_r)
{
	*err_r = errno == E2BIG ? MSTORE_ELIMIT : store_errno_class(errno);
	if (*err_r == MSTORE_OK)
		*err_r = MSTORE_EINTERNAL;
	return -1;
}

int
urlkey_get(const char *userdir, const char *mailbox, uint32_t uidvalidity,
    int create, unsigned char key[URLKEY_LEN], enum mstore_err *err_r)
{
	int r;

	if ((r = urlkey_update(userdir, mailbox, uidvalidity, create,
	    key)) == -1)
		return urlkey_fail(err_r);
	return r;
}

int
urlkey_reset(const char *userdir, const char *mailbox,
    enum mstore_err *err_r)
{
	if (urlkey_update(userdir, mailbox, 0, 0, NULL) == -1)
		return urlkey_fail(err_r);
	return 0;
}
