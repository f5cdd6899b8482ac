/*
 * Spool slots: the names of spool files, which do not change while the
 * queue neither grows nor shrinks.
 *
 * A file in queue/msg/ is a slot.  It holds one message at a time, whose
 * queue id is its "id" line; its name is the id of the first message
 * written into it (or of a bounce, spool_create()).  When every
 * recipient of its message is done, its first line is written over with
 * SPOOL_FREE_MAGIC and a second name for it goes into queue/free/; maild
 * takes it from there for the next message (maild/spool.c), which a
 * session writes over the old one.
 *
 * Why: fsync() of a file that just got a new name in a directory also
 * writes that directory on ext4 without a journal (ext4_sync_parent(),
 * the inode's EXT4_STATE_NEWENTRY), and XFS and ext4 with a journal
 * commit the name with it.  A message whose file was renamed into msg/
 * (the first design) therefore wrote msg/'s directory block with its
 * fsync, and twenty sessions doing so at once queued behind each other
 * for that one block.  A slot's name has been durable since its first
 * message, and msg/ does not change, so a session's fsync writes the
 * message and its inode only.  (The link into free/ gives the inode a
 * new name too, but ext4 syncs only the directory of the name the file
 * has when it is synced, msg/: unchanged, nothing to write.)
 *
 * What a slot holds, as spool_load() tells (errno ENOMSG: no message):
 * a message (its "length" is written, spool_seal(): a message is never
 * empty, it has at least its Received: line), nothing yet (being
 * written, or its writer died before sealing it: "length" all zeros, or
 * an empty file), or nothing any more (SPOOL_FREE_MAGIC).  A writer holds
 * an exclusive flock(2) on it from maild's hand-out to its close; readers
 * take a shared one and leave a slot that is being written alone (EBUSY).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "../lib/util.h"
#include "layout.h"
#include "spool.h"

/* Delivered spool files up to this size are kept for reuse. */
#define SPOOL_REUSE_MAX		(128 * 1024)

int
spool_slot_paths(const char *data_dir, const char *name, char *msg,
    char *freep, size_t size)
{
	char dir[4096];

	if (spool_path(msg, size, data_dir, name) == -1 ||
	    layout_path(dir, sizeof(dir), data_dir, LAYOUT_QUEUE_FREE) == -1 ||
	    layout_path(freep, size, dir, name) == -1)
		return -1;
	return 0;
}

int
spool_slot_holds(int fd)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int r = SLOT_EMPTY, first = 1;
	FILE *fp;
	int dfd;

	if ((dfd = dup(fd)) == -1)
		return -1;
	if ((fp = fdopen(dfd, "r")) == NULL) {
		close(dfd);
		return -1;
	}
	rewind(fp);
	while ((n = getline(&line, &cap, fp)) > 0) {
		if (n > SPOOL_MAX_LINE || line[n - 1] != '\n')
			break;
		line[n - 1] = '\0';
		if (first) {
			if (strcmp(line, SPOOL_FREE_MAGIC) == 0)
				r = SLOT_FREE;
			else if (strcmp(line, SPOOL_MAGIC) == 0) {
				first = 0;
				continue;
			}
			break;
		}
		if (line[0] == '\0')
			break;
		if (strncmp(line, "length ", 7) == 0) {
			if (strspn(line + 7, "0") != strlen(line + 7))
				r = SLOT_MESSAGE;
			break;
		}
	}
	free(line);
	fclose(fp);
	return r;
}

int
spool_slot_mark_free(int fd)
{
	const char line[] = SPOOL_FREE_MAGIC "\n";
	const size_t n = sizeof(line) - 1;

	/* The same length as SPOOL_MAGIC's line: one write in place. */
	if (pwrite(fd, line, n, 0) != (ssize_t)n)
		return -1;
	return 0;
}

int
spool_slot_free(const char *data_dir, const char *name, int retire)
{
	char path[4096], freep[4096];
	struct stat st;
	int fd, wfd = -1, holds, r = 0, saved;

	if (spool_slot_paths(data_dir, name, path, freep, sizeof(path)) == -1)
		return -1;
	/* Read-only unless a write is needed: a close after writing is an
	 * event for the queue runner, which watches msg/. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK)) == -1)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	/* Named in free/ already: free (maild checks what it takes). */
	if (!retire && st.st_nlink == 2) {
		close(fd);
		return 0;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		close(fd);
		if (!retire) {
			errno = EBUSY;		/* a writer or reader: later */
			return -1;
		}
		/* Delivered, yet someone holds it: never hand it out. */
		(void)unlink(freep);
		return unlink(path) == -1 && errno != ENOENT ? -1 : 0;
	}
	holds = spool_slot_holds(fd);
	if (holds == -1 || (!retire && holds == SLOT_MESSAGE)) {
		saved = errno;
		close(fd);
		if (holds == -1) {
			errno = saved;
			return -1;
		}
		(void)unlink(freep);	/* a message is never a free slot */
		return 0;
	}
	if (st.st_size > SPOOL_REUSE_MAX) {
		(void)unlink(freep);
		r = unlink(path);
	} else if (holds != SLOT_FREE &&
	    ((wfd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)) == -1 ||
	    spool_slot_mark_free(wfd) == -1)) {
		r = -1;
	} else if (link(path, freep) == -1 && errno != EEXIST)
		r = -1;
	saved = errno;
	if (wfd != -1)
		close(wfd);
	close(fd);
	errno = saved;
	return r;
}

int
spool_slot_done(int fd, const char *data_dir, const char *name)
{
	char path[4096];
	struct stat st;

	if (fstat(fd, &st) == -1)
		return -1;
	if (st.st_size <= SPOOL_REUSE_MAX)
		return spool_slot_mark_free(fd);
	if (spool_path(path, sizeof(path), data_dir, name) == -1)
		return -1;
	return unlink(path);
}

int
spool_slot_link_free(const char *data_dir, const char *name)
{
	char path[4096], freep[4096];

	if (spool_slot_paths(data_dir, name, path, freep, sizeof(path)) == -1)
		return -1;
	if (link(path, freep) == -1 && errno != EEXIST && errno != ENOENT)
		return -1;
	return 0;
}

int
spool_slot_discard(const char *data_dir, const char *name)
{
	char path[4096], freep[4096];
	int fd, r;

	if (spool_slot_paths(data_dir, name, path, freep, sizeof(path)) == -1)
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK)) == -1) {
		/* A name in free/ for no slot: a crash took the slot. */
		return errno == ENOENT ? unlink(freep) : -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		close(fd);
		errno = EBUSY;
		return -1;
	}
	/* A slot that holds a message keeps it; only its name in free/,
	 * left by a crash, goes. */
	if (spool_slot_holds(fd) == SLOT_FREE)
		(void)unlink(path);
	r = unlink(freep);
	close(fd);
	return r;
}
