/*
 * Spool files for the session processes, which cannot open the spool
 * themselves (they are chrooted into an empty directory): maild hands
 * each a slot of queue/msg/ (global/spool_slot.c), locked, write-only;
 * the session writes the message over what the slot held, fsyncs it and
 * closes it, and the queue runner learns of it from that close (inotify).
 *
 * A slot is, when there is one, a free one named in queue/free/: making
 * a file is the dearest step of accepting a message where the file
 * system scans recently deleted inodes for each new one (ext4 without a
 * journal: a fifth of all the CPU of a persistent-connection benchmark
 * went there), and a new name in msg/ makes the session's fsync write
 * the directory too.  Only when none is free does maild make one: in
 * queue/tmp/, made the queue's and locked before it is renamed into
 * msg/, so that no one else ever sees it unlocked and empty.
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
 * Free slots kept (more go): as many as messages can be in flight
 * (accepted, not yet delivered) in a burst, about a thousand in the
 * persistent-connection benchmark.  With 256, maild made new files all
 * through a burst and deleted them after it, which is the cost reuse is
 * there to avoid.  At most 2,048 x 128 KiB (spool_slot_free()) = 256 MiB
 * of disk; 8 MiB for 4 KB messages.
 */
#define FREE_KEEP	2048
#define FREE_BATCH	64	/* names learnt per look */
#define DROP_MAX	256	/* slots waiting to be freed */

static char	freeids[FREE_BATCH][SPOOL_ID_LEN + 1];
static size_t	nfreeids;
static time_t	free_none_at;	/* when the last look found none */
static char	drops[DROP_MAX][SPOOL_ID_LEN + 1];
static size_t	ndrops;

/*
 * Does the free slot fd (free/<name>, st) really hold nothing?  A name
 * given before this maild started is looked into once: a crash can undo
 * the removal of a name from free/ after its slot got a message that was
 * confirmed to its client; such a name goes, the message stays.  A name
 * given since (the link changed the inode's ctime) is the queue
 * runner's word.
 */
static int
free_slot_ok(const char *path, const char *name, const struct stat *st)
{
	static time_t started;
	int fd, holds;

	if (started == 0)
		started = time(NULL);
	if (st->st_ctime > started)
		return 1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK)) == -1)
		return 0;
	holds = spool_slot_holds(fd);
	close(fd);
	if (holds != SLOT_FREE) {
		log_warn("queue/free/%s names a slot that holds a message: "
		    "not free", name);
		(void)unlink(path);
		return 0;
	}
	return 1;
}

/* Learn names in queue/free/ (and drop the slots beyond FREE_KEEP). */
static void
free_look(const char *dir)
{
	struct dirent *de;
	size_t seen = 0;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!spool_id_valid(de->d_name))
			continue;
		if (++seen > FREE_KEEP)
			(void)spool_slot_discard(conf->server.data_dir,
			    de->d_name);
		else if (nfreeids < FREE_BATCH)
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

/* A free slot, taken out of queue/free/: open (write-only), locked, with
 * its old octets (spool_seal() cuts them), its name in name; or -1. */
static int
spool_reuse(char *name, size_t size)
{
	char dir[PATH_MAX], path[PATH_MAX], msg[PATH_MAX];
	time_t now = time(NULL);
	const char *err;
	struct stat st, fst;
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
		const char *id = freeids[--nfreeids];

		/* Opened by its name in msg/: the queue runner watches msg/
		 * for the close of a slot (inotify tells the directory of
		 * the name a file was opened by). */
		if (spool_slot_paths(conf->server.data_dir, id, msg, path,
		    sizeof(path)) == -1 || lstat(path, &fst) == -1)
			continue;
		if ((fd = open(msg, O_WRONLY | O_CLOEXEC | O_NOFOLLOW |
		    O_NONBLOCK)) == -1) {
			/* No slot of that name: a file of the design
			 * before slots, or a crash took the slot. */
			if (errno == ENOENT)
				(void)unlink(path);
			continue;
		}
		/*
		 * free/ is the queue's user's: we, root, hand out only a
		 * plain file whose other name is free/<the same> (not a
		 * FIFO, not a link to a file elsewhere), made as we make
		 * them (owner, mode).  Locked before its name in free/
		 * goes: a slot nobody holds and nobody names in free/ is
		 * one the queue runner may free (spool_slot_free()).  Not
		 * emptied: freeing its blocks costs a synchronous discard
		 * on a file system mounted with "discard" and a new
		 * allocation when the next message is written.  The
		 * session writes over the old octets and cuts the file at
		 * its own end (spool_seal()); its descriptor is
		 * write-only, so it cannot read them.
		 */
		if (fstat(fd, &st) == 0 && fst.st_dev == st.st_dev &&
		    fst.st_ino == st.st_ino && free_slot_ok(path, id, &st) &&
		    S_ISREG(st.st_mode) && st.st_nlink == 2 &&
		    (uid != 0 || spool_owner(&uid, &gid, &err) == 0) &&
		    st.st_uid == uid && st.st_gid == gid &&
		    (st.st_mode & 07777) == 0600 &&
		    fcntl(fd, F_SETFL, 0) == 0 &&
		    flock(fd, LOCK_EX | LOCK_NB) == 0 && unlink(path) == 0) {
			util_strcpy(name, id, size);
			return fd;
		}
		close(fd);
	}
	return -1;
}

/* A new slot: made in tmp/, the queue runner's (server.user's), locked,
 * then named in msg/.  The file, or -1 with errno or *err. */
static int
spool_new_slot(const char *id, const char **err)
{
	char dir[PATH_MAX], tmp[PATH_MAX], msg[PATH_MAX];
	uid_t uid;
	gid_t gid;
	int fd;

	if (layout_path(dir, sizeof(dir), conf->server.data_dir,
	    LAYOUT_QUEUE_TMP) == -1 || layout_path(tmp, sizeof(tmp), dir,
	    id) == -1 || spool_path(msg, sizeof(msg), conf->server.data_dir,
	    id) == -1) {
		*err = "data_dir too long";
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1)
		return -1;
	if ((geteuid() == 0 && (spool_owner(&uid, &gid, err) == -1 ||
	    fchown(fd, uid, gid) == -1)) || fchmod(fd, 0600) == -1 ||
	    flock(fd, LOCK_EX | LOCK_NB) == -1 ||
	    renameat2(AT_FDCWD, tmp, AT_FDCWD, msg, RENAME_NOREPLACE) == -1) {
		int saved = errno;

		close(fd);
		unlink(tmp);
		errno = saved;
		return -1;
	}
	return fd;
}

int
spool_make(char *id, char *name, size_t size, int *fd_r, const char **err)
{
	int fd = -1, tries;

	*err = NULL;
	if (size < SPOOL_ID_LEN + 1) {
		*err = "id buffer too small";
		return -1;
	}
	spool_id_new(id);
	if ((fd = spool_reuse(name, size)) != -1) {
		*fd_r = fd;
		return 0;
	}
	for (tries = 0; tries < 10; tries++) {
		if ((fd = spool_new_slot(id, err)) != -1 || *err != NULL ||
		    errno != EEXIST)
			break;
		spool_id_new(id);
	}
	if (fd == -1) {
		if (*err == NULL)
			*err = strerror(errno);
		return -1;
	}
	util_strcpy(name, id, size);
	*fd_r = fd;
	return 0;
}

void
spool_drop(const char *name)
{
	if (spool_slot_free(conf->server.data_dir, name, 0) == 0 ||
	    errno != EBUSY)
		return;
	if (ndrops < DROP_MAX)		/* else the runner's next scan */
		util_strcpy(drops[ndrops++], name, sizeof(drops[0]));
}

void
spool_tend(void)
{
	static time_t last;
	size_t i, n = ndrops;

	if (n == 0 || last == time(NULL))
		return;
	last = time(NULL);
	ndrops = 0;
	for (i = 0; i < n; i++)
		spool_drop(drops[i]);
}
