/*
 * Spool files for the session processes, which cannot open the spool
 * themselves (they are chrooted into an empty directory): maild makes
 * each in queue/tmp/ (server.user's, locked so that the runner's clean-up
 * leaves it alone while it is written), passes it, and once the process
 * has written it, renames it into queue/msg/; the process then fsyncs it,
 * which makes the new name durable too (pool_spool_commit()).
 *
 * A new spool file is, when there is one, a delivered one from
 * queue/free/ (spool_retire()), written over: making a file is the dearest
 * step of accepting a message where the file system scans recently
 * deleted inodes for each new one (ext4 without a journal: a fifth of
 * all the CPU of a persistent-connection benchmark went there), and only
 * maild makes spool files, one at a time.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "../global/layout.h"
#include "../lib/log.h"
#include "../lib/privsep.h"
#include "../lib/util.h"
#include "maild.h"

/*
 * Files kept in queue/free/ (more go): as many as messages can be in
 * flight (accepted, not yet delivered) in a burst, about a thousand in
 * the persistent-connection benchmark.  With 256, maild made new files
 * all through a burst and deleted them after it, which is the cost reuse
 * is there to avoid.  At most 2,048 x 128 KiB (spool_retire()) = 256 MiB
 * of disk; 8 MiB for 4 KB messages.
 */
#define FREE_KEEP	2048
#define FREE_BATCH	64	/* names learnt per look */

static char	freeids[FREE_BATCH][SPOOL_ID_LEN + 1];
static size_t	nfreeids;
static time_t	free_none_at;	/* when the last look found none */

static int
spool_paths(const char *id, char *tmp, char *msg, size_t size)
{
	char dir[PATH_MAX];

	if (!spool_id_valid(id) ||
	    layout_path(dir, sizeof(dir), conf->server.data_dir,
	    LAYOUT_QUEUE_TMP) == -1 || layout_path(tmp, size, dir, id) == -1 ||
	    spool_path(msg, size, conf->server.data_dir, id) == -1)
		return -1;
	return 0;
}

/* Learn names in queue/free/ (and drop the files beyond FREE_KEEP). */
static void
free_look(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	size_t seen = 0;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!spool_id_valid(de->d_name))
			continue;
		if (++seen > FREE_KEEP) {
			if (layout_path(path, sizeof(path), dir,
			    de->d_name) == 0)
				unlink(path);
		} else if (nfreeids < FREE_BATCH)
			util_strcpy(freeids[nfreeids++], de->d_name,
			    sizeof(freeids[0]));
	}
	closedir(d);
}

/* server.user's ids: looked up once per name, as every service does
 * at its start, not for each message (a lookup reads the password
 * file).  0, or -1 with *err. */
static int
spool_owner(uid_t *uid, gid_t *gid, const char **err)
{
	static char name[256];
	static uid_t u;
	static gid_t g;

	if (strcmp(name, conf->server.user) != 0) {
		if (privsep_lookup(conf->server.user, &u, &g, err) == -1)
			return -1;
		util_strcpy(name, conf->server.user, sizeof(name));
	}
	*uid = u;
	*gid = g;
	return 0;
}

/* A delivered spool file as tmp (new): open (write-only), locked, with
 * its old octets (spool_seal() cuts them); or -1.
 * *ready: it is already server.user's and 0600. */
static int
spool_reuse(const char *tmp, int *ready)
{
	char dir[PATH_MAX], path[PATH_MAX];
	time_t now = time(NULL);
	const char *err;
	struct stat st;
	uid_t uid = geteuid();
	gid_t gid = getegid();
	int fd;

	if (layout_path(dir, sizeof(dir), conf->server.data_dir,
	    LAYOUT_QUEUE_FREE) == -1)
		return -1;
	if (nfreeids == 0 && free_none_at != now) {
		free_look(dir);
		if (nfreeids == 0)
			free_none_at = now;	/* look again in a second */
	}
	while (nfreeids > 0) {
		if (layout_path(path, sizeof(path), dir,
		    freeids[--nfreeids]) == -1 ||
		    (fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW |
		    O_NONBLOCK)) == -1)
			continue;
		/*
		 * free/ is the queue's user's: we, root, hand out only a
		 * plain file with no other name (not a FIFO, not a hard link
		 * to a file elsewhere).  Locked while still in free/, where
		 * the clean-up of tmp/ never looks.  Not emptied: freeing its
		 * blocks costs a synchronous discard on a file system mounted
		 * with "discard" and a new allocation when the next message
		 * is written.  The session writes over the old octets and
		 * cuts the file at its own end (spool_seal()); its
		 * descriptor is write-only, so it cannot read them.
		 */
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_nlink == 1 && fcntl(fd, F_SETFL, 0) == 0 &&
		    flock(fd, LOCK_EX | LOCK_NB) == 0 &&
		    renameat2(AT_FDCWD, path, AT_FDCWD, tmp,
		    RENAME_NOREPLACE) == 0) {
			/* As made last time: no fchown, fchmod (each a
			 * change of the inode to write back) or lock. */
			*ready = (uid != 0 ||
			    spool_owner(&uid, &gid, &err) == 0) &&
			    st.st_uid == uid && st.st_gid == gid &&
			    (st.st_mode & 07777) == 0600;
			return fd;
		}
		close(fd);
	}
	return -1;
}

int
spool_make(char *id, size_t idsize, int *fd_r, const char **err)
{
	char tmp[PATH_MAX], msg[PATH_MAX];
	uid_t uid;
	gid_t gid;
	int fd = -1, tries, ready = 0;

	*err = NULL;
	if (idsize < SPOOL_ID_LEN + 1) {
		*err = "id buffer too small";
		return -1;
	}
	for (tries = 0; tries < 10; tries++) {
		spool_id_new(id);
		if (spool_paths(id, tmp, msg, sizeof(tmp)) == -1) {
			*err = "data_dir too long";
			return -1;
		}
		if (access(msg, F_OK) == 0)	/* new in msg/ too */
			continue;
		if ((fd = spool_reuse(tmp, &ready)) != -1 ||
		    (fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
		    O_NOFOLLOW, 0600)) != -1 || errno != EEXIST)
			break;
	}
	if (fd == -1) {
		*err = strerror(errno);
		return -1;
	}
	/* The queue runner's (server.user's), and held: spool_tmp_clean()
	 * removes only what nobody holds (a reused file is held already). */
	if (!ready && ((geteuid() == 0 && (spool_owner(&uid, &gid, err) == -1 ||
	    fchown(fd, uid, gid) == -1)) ||
	    fchmod(fd, 0600) == -1 || flock(fd, LOCK_EX | LOCK_NB) == -1)) {
		if (*err == NULL || geteuid() != 0)
			*err = strerror(errno);
		close(fd);
		unlink(tmp);
		return -1;
	}
	*fd_r = fd;
	return 0;
}

int
spool_move(const char *id, const char **err)
{
	char tmp[PATH_MAX], msg[PATH_MAX];

	if (spool_paths(id, tmp, msg, sizeof(tmp)) == -1) {
		*err = "not a queue id";
		return -1;
	}
	if (rename(tmp, msg) == -1) {
		*err = strerror(errno);
		return -1;
	}
	return 0;
}

void
spool_drop(const char *id)
{
	char tmp[PATH_MAX], msg[PATH_MAX];

	if (spool_paths(id, tmp, msg, sizeof(tmp)) == 0)
		unlink(tmp);
}

