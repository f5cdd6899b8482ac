/*
 * slots.c: a logged-in session takes one of its user's session slots
 * (imapd.max_sessions_per_user) and opens the user's store.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "../global/layout.h"
#include "../lib/log.h"
#include "session.h"

/* Lock one byte of <userdir>/imap-sessions.lock: a slot held for as long
 * as this process lives, released by the kernel however it ends. */
static int
session_slot(struct imap_session *s)
{
	char path[4200];
	struct flock fl;
	long i;
	int fd;

	if (layout_path(path, sizeof(path), s->userdir, LAYOUT_IMAP_LOCK) == -1 ||
	    (fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return -1;
	for (i = 0; i < s->conf->imapd.max_sessions_per_user; i++) {
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		fl.l_start = i;
		fl.l_len = 1;
		if (fcntl(fd, F_SETLK, &fl) == 0) {
			s->userlock = fd;
			return 0;
		}
	}
	close(fd);
	errno = EUSERS;
	return -1;
}

int
imap_login(struct imap_session *s, const char *user)
{
	const char *err = "";

	if (maildir_user_path(s->conf->server.data_dir, user, s->userdir,
	    sizeof(s->userdir)) == -1 || maildir_create(s->userdir) == -1) {
		log_err("sid=%s user=%s no usable maildir", s->id, user);
		imap_tagged(s, "NO [UNAVAILABLE] Mailbox unavailable");
		return -1;
	}
	if (session_slot(s) == -1) {
		log_info("sid=%s user=%s login refused: %s", s->id, user,
		    errno == EUSERS ? "too many sessions" : strerror(errno));
		imap_tagged(s, "NO [LIMIT] Too many sessions for this user");
		return -1;
	}
	if (mstore_open(s->userdir, &s->store, &err) == -1) {
		log_err("sid=%s user=%s store: %s", s->id, user, err);
		imap_tagged(s, "NO [UNAVAILABLE] Mailbox unavailable");
		close(s->userlock);
		s->userlock = -1;
		return -1;
	}
	util_strcpy(s->user, user, sizeof(s->user));
	imap_set_state(s, ST_AUTH);
	log_info("sid=%s client=[%s] login user=%s", s->id, s->client_ip,
	    s->user);
	return 0;
}
