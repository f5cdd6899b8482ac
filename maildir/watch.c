/*
 * Watching a mailbox for changes (IMAP IDLE, the webmail's live
 * updates): inotify on its new/ (deliveries) and cur/ (flags in file
 * names, expunges, messages moved in) and on the Maildir itself, where
 * the index's WAL changes with every change another session makes
 * (keywords, other folders' counts).
 */
#include <limits.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/inotify.h>

#include "maildir.h"
#include "store_int.h"

int
mbox_watch(struct mbox *mb)
{
	char path[PATH_MAX + 8];
	int fd;

	if ((fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/new", mbox_dir(mb));
	inotify_add_watch(fd, path, IN_CREATE | IN_MOVED_TO);
	snprintf(path, sizeof(path), "%s/cur", mbox_dir(mb));
	inotify_add_watch(fd, path, IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM |
	    IN_DELETE);
	inotify_add_watch(fd, mbox_store(mb)->dir, IN_MODIFY | IN_CLOSE_WRITE);
	return fd;
}

void
mbox_watch_drain(int fd)
{
	char evbuf[4096];

	while (read(fd, evbuf, sizeof(evbuf)) > 0)
		;
}
