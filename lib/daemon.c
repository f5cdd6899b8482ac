#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>

#include "daemon.h"
#include "log.h"

volatile sig_atomic_t daemon_term, daemon_hup, daemon_usr1, daemon_chld;

static const int daemon_sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGCHLD };

static void
daemon_on_signal(int sig)
{
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		daemon_term = 1;
		break;
	case SIGHUP:
		daemon_hup = 1;
		break;
	case SIGUSR1:
		daemon_usr1 = 1;
		break;
	case SIGCHLD:
		daemon_chld = 1;
		break;
	}
}

void
daemon_signals(void)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = daemon_on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;		/* no SA_RESTART: we want EINTR */
	for (i = 0; i < sizeof(daemon_sigs) / sizeof(daemon_sigs[0]); i++)
		sigaction(daemon_sigs[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void
daemon_signals_reset(void)
{
	size_t i;
	sigset_t none;

	for (i = 0; i < sizeof(daemon_sigs) / sizeof(daemon_sigs[0]); i++)
		signal(daemon_sigs[i], SIG_DFL);
	daemon_term = daemon_hup = daemon_usr1 = daemon_chld = 0;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

void
daemon_signals_block(void)
{
	sigset_t set;
	size_t i;

	sigemptyset(&set);
	for (i = 0; i < sizeof(daemon_sigs) / sizeof(daemon_sigs[0]); i++)
		sigaddset(&set, daemon_sigs[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

int
daemon_poll(struct pollfd *fds, nfds_t nfds, int timeout_ms)
{
	struct timespec ts, *tsp = NULL;
	sigset_t none;

	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000;
		tsp = &ts;
	}
	sigemptyset(&none);
	return ppoll(fds, nfds, tsp, &none);
}

int
daemon_poll_unless(volatile sig_atomic_t *stop, struct pollfd *fds,
    nfds_t nfds, int timeout_ms)
{
	struct timespec ts, *tsp = NULL;
	sigset_t set, old;
	size_t i;
	int r, saved;

	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000;
		tsp = &ts;
	}
	sigemptyset(&set);
	for (i = 0; i < sizeof(daemon_sigs) / sizeof(daemon_sigs[0]); i++)
		sigaddset(&set, daemon_sigs[i]);
	sigprocmask(SIG_BLOCK, &set, &old);
	if (*stop) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		errno = EINTR;
		return -1;
	}
	r = ppoll(fds, nfds, tsp, &old);
	saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return r;
}

int
daemon_lock(const char *path, const char *what, unsigned int wait_s,
    int cloexec)
{
	char pid[32], holder[32] = "?";
	ssize_t n;
	unsigned int waited_ms = 0;
	int fd, len;

	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW |
	    (cloexec ? O_CLOEXEC : 0), 0600);
	if (fd == -1)
		fatal("%s", path);
	while (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			fatal("flock %s", path);
		if (waited_ms == 0) {
			if ((n = pread(fd, holder, sizeof(holder) - 1, 0)) > 0)
				holder[strcspn(holder, "\n")] = '\0';
			if (wait_s > 0)
				log_warn("waiting up to %us for the %s that "
				    "holds %s (pid %s) to exit", wait_s, what,
				    path, holder);
		}
		if (waited_ms >= wait_s * 1000)
			fatalx("another %s (pid %s) is running on this data "
			    "directory (%s is locked)", what, holder, path);
		daemon_poll(NULL, 0, 100);	/* lets SIGTERM in */
		if (daemon_term) {
			log_info("stopping before the %s lock was free", what);
			exit(0);
		}
		waited_ms += 100;
	}
	len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, pid, (size_t)len, 0) != len)
		log_warn("%s: cannot record our pid: %s", path,
		    strerror(errno));
	return fd;
}
