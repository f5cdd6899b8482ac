#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "../global/addr.h"
#include "../global/layout.h"
#include "../lib/util.h"
#include "maildir.h"

int
maildir_user_path(const char *data_dir, const char *address, char *path,
    size_t size)
{
	char local[ADDR_LOCAL_MAX + 1];
	const char *at = strrchr(address, '@');

	if (at == NULL || (size_t)(at - address) > ADDR_LOCAL_MAX) {
		errno = EINVAL;
		return -1;
	}
	memcpy(local, address, at - address);
	local[at - address] = '\0';
	if (!addr_local_is_mailbox_safe(local) || !addr_domain_valid(at + 1)) {
		errno = EINVAL;
		return -1;
	}
	for (const char *d = at + 1; *d != '\0'; d++)
		if (*d >= 'A' && *d <= 'Z') {
			errno = EINVAL;
			return -1;
		}
	if (util_snprintf(path, size, "%s/" LAYOUT_MAIL "/%s/%s", data_dir,
	    at + 1, local) == -1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
maildir_create(const char *dir)
{
	static const char *subs[] = { "tmp", "new", "cur" };
	char p[PATH_MAX];
	size_t i;

	if (util_mkdir_p(dir, 0700) == -1)
		return -1;
	for (i = 0; i < 3; i++) {
		if (util_snprintf(p, sizeof(p), "%s/%s", dir, subs[i]) == -1) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (mkdir(p, 0700) == -1 && errno != EEXIST)
			return -1;
	}
	return 0;
}

/* Is there a file "<base>,..." or "<base>:..." in dir/sub? */
static int
maildir_has_base(const char *dir, const char *sub, const char *base)
{
	char p[PATH_MAX];
	struct dirent *de;
	size_t blen = strlen(base);
	DIR *d;
	int found = 0;

	snprintf(p, sizeof(p), "%s/%s", dir, sub);
	if ((d = opendir(p)) == NULL)
		return 0;
	while (!found && (de = readdir(d)) != NULL)
		found = strncmp(de->d_name, base, blen) == 0 &&
		    (de->d_name[blen] == ',' || de->d_name[blen] == ':' ||
		    de->d_name[blen] == '\0');
	closedir(d);
	return found;
}

int
maildir_has_delivery(const char *dir, const char *base)
{
	return maildir_has_base(dir, "new", base) ||
	    maildir_has_base(dir, "cur", base);
}

int
maildir_sync_new(const char *dir)
{
	char newdir[PATH_MAX];

	if (util_snprintf(newdir, sizeof(newdir), "%s/new", dir) == -1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return util_fsync_dir(newdir);
}

/*
 * The file a delivery writes: one without a name (O_TMPFILE, *anon set),
 * linked into new/ when it is whole and fsync'd, or, where the file
 * system cannot make one, tmp/<base> as Maildir has it.  A named file's
 * fsync also writes tmp/ (ext4 without a journal syncs the directory of
 * a new entry), an entry removed again at once: two writes to the disk a
 * message for nothing.  -1 with errno.
 */
static int
maildir_open_tmp(const char *dir, const char *tmp, int *anon)
{
	static int procfs = -1;		/* the link goes through /proc */
	char tmpdir[PATH_MAX];
	int fd;

	*anon = 0;
	if (util_snprintf(tmpdir, sizeof(tmpdir), "%s/tmp", dir) == -1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (procfs == -1)
		procfs = access("/proc/self/fd", X_OK) == 0;
	if (procfs &&
	    (fd = open(tmpdir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600)) != -1) {
		*anon = 1;
		return fd;
	}
	if (procfs && errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return -1;
	return open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
}

enum maildir_result
maildir_deliver(const char *dir, const char *base, maildir_producer produce,
    void *arg, int look_in_cur, int sync_new, char *path_r, size_t size)
{
	char tmp[PATH_MAX], newdir[PATH_MAX], final[PATH_MAX], self[64];
	struct stat st;
	off_t vsize = 0;
	int fd, saved, anon = 0;

	if (strchr(base, '/') != NULL || base[0] == '.') {
		errno = EINVAL;
		return MAILDIR_ERROR;
	}
	if (look_in_cur && (maildir_has_base(dir, "new", base) ||
	    maildir_has_base(dir, "cur", base)))
		goto duplicate;
	if (util_snprintf(tmp, sizeof(tmp), "%s/tmp/%s", dir, base) == -1 ||
	    util_snprintf(newdir, sizeof(newdir), "%s/new", dir) == -1) {
		errno = ENAMETOOLONG;
		return MAILDIR_ERROR;
	}
	if ((fd = maildir_open_tmp(dir, tmp, &anon)) == -1 && errno == ENOENT) {
		if (maildir_create(dir) == -1)	/* first delivery: make it */
			return MAILDIR_ERROR;
		fd = maildir_open_tmp(dir, tmp, &anon);
	}
	if (fd == -1)
		return MAILDIR_ERROR;
	if (produce(fd, arg, &vsize) == -1 || fstat(fd, &st) == -1 ||
	    fsync(fd) == -1)
		goto fail;
	if (util_snprintf(final, sizeof(final), "%s/%s,S=%lld,W=%lld", newdir,
	    base, (long long)st.st_size, (long long)vsize) == -1) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	if (anon) {
		/* Its first name; link() never replaces one. */
		snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
		if (linkat(AT_FDCWD, self, AT_FDCWD, final,
		    AT_SYMLINK_FOLLOW) == -1) {
			if (errno == EEXIST) {
				close(fd);
				goto duplicate;
			}
			goto fail;
		}
		if (close(fd) == -1)
			return MAILDIR_ERROR;
		goto delivered;
	}
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	/* Never replace: an existing file is the earlier delivery. */
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE) == -1) {
		if (errno == EEXIST) {
			unlink(tmp);
			goto duplicate;
		}
		if (errno != EINVAL || link(tmp, final) == -1) {
			if (errno == EEXIST) {
				unlink(tmp);
				goto duplicate;
			}
			goto fail;
		}
		unlink(tmp);
	}
delivered:
	if (sync_new && util_fsync_dir(newdir) == -1)
		return MAILDIR_ERROR;	/* rename done but not durable yet */
	if (path_r != NULL)
		util_strcpy(path_r, final, size);
	return MAILDIR_DELIVERED;
duplicate:
	if (sync_new && maildir_sync_new(dir) == -1)
		return MAILDIR_ERROR;
	return MAILDIR_DUPLICATE;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	if (!anon)
		unlink(tmp);
	errno = saved;
	return MAILDIR_ERROR;
}
