/*
 * The usage process: what a mailbox holds, for the auth service, which
 * tells smtpd at RCPT time (authd/quota.c; 452 4.2.2 for a full
 * mailbox).  smtpd is confined to an empty directory and authd reads no
 * Maildir; this process runs as server.user, as delivery does, and
 * reads what local delivery reads before it writes: the usage row of
 * the user's index, read only, and the names in new/ (maildir_usage()).
 *
 * SECURITY: forked by the runner, with its privileges and nothing of
 * its descriptors but a socket to it (closed: the runner is gone, so
 * this process goes).  It takes questions from authd only, on a
 * connection it made itself; an address is made a path only by
 * maildir_user_path(), which checks both of its parts.  It writes
 * nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "../global/authc.h"
#include "../lib/daemon.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "../maildir/maildir.h"
#include "queue.h"

/* Is the runner still there?  Waits up to ms for it to go. */
static int
usage_runner_alive(int runner, int ms)
{
	struct pollfd p = { runner, POLLIN, 0 };

	return poll(&p, 1, ms) == 0 || (p.revents & (POLLIN | POLLHUP)) == 0;
}

static void __attribute__((noreturn))
usage_main(int runner, struct conf *conf)
{
	char mailbox[320], dir[PATH_MAX];
	struct authc *a = NULL;
	const char *err;
	uint64_t octets = 0, messages = 0;
	int r;

	while (usage_runner_alive(runner, 0)) {
		if (a == NULL) {
			if ((a = authc_connect(conf->server.data_dir,
			    &err)) == NULL || authc_usage_serve(a) == -1) {
				if (a == NULL)
					log_err("usage: auth service: %s",
					    err);
				authc_close(&a);
				(void)usage_runner_alive(runner, 1000);
				continue;
			}
			log_info("usage: answering the auth service");
		}
		/* A second at most between looks at the runner. */
		if ((r = authc_usage_next(a, 1000, mailbox,
		    sizeof(mailbox))) == -1 && errno == ETIMEDOUT &&
		    !authc_broken(a))
			continue;
		if (r != 1) {
			authc_close(&a);	/* authd restarted: again */
			continue;
		}
		r = maildir_user_path(conf->server.data_dir, mailbox, dir,
		    sizeof(dir)) == -1 ? -1 :
		    maildir_usage(dir, &octets, &messages);
		if (r == -1)
			log_warn("usage: %s: unknown: %s", log_str(mailbox),
			    strerror(errno));
		if (authc_usage_answer(a, r, octets, messages) == -1)
			authc_close(&a);
	}
	authc_close(&a);
	exit(0);
}

pid_t
usage_start(struct conf *conf, int *fd)
{
	pid_t pid;

	if ((pid = queue_fork(-1, fd)) == 0)
		usage_main(3, conf);
	return pid;
}
