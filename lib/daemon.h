/*
 * daemon: what a long-running process needs from the system: signals
 * that set flags instead of doing work, a poll(2) that no such signal can
 * slip past, and a lock that makes a process the only one of its kind.
 * Nothing here knows of mail.
 */
#ifndef DAEMON_H
#define DAEMON_H

#include <poll.h>
#include <signal.h>
#include <stddef.h>
/* Flags set by the handlers daemon_signals() installs. */
extern volatile sig_atomic_t daemon_term;	/* SIGTERM, SIGINT */
extern volatile sig_atomic_t daemon_hup;	/* SIGHUP */
extern volatile sig_atomic_t daemon_usr1;	/* SIGUSR1 */
extern volatile sig_atomic_t daemon_chld;	/* SIGCHLD */

/*
 * Install flag-setting handlers without SA_RESTART, so blocking calls
 * return EINTR and the main loop notices.  SIGPIPE is ignored.
 */
void	daemon_signals(void);
/* Back to default dispositions and an empty signal mask (in a forked
 * child before its own setup, and before exec). */
void	daemon_signals_reset(void);
/*
 * For event loops: keep the signals above blocked except while waiting
 * in daemon_poll(), so a signal that arrives between checking the flags
 * and going to sleep still wakes the sleep (ppoll(2)).
 */
void	daemon_signals_block(void);
int	daemon_poll(struct pollfd *fds, nfds_t nfds, int timeout_ms);
/*
 * poll(2) that a signal setting *stop always ends, even one arriving
 * just before the wait: the signals are held back while *stop is
 * checked and let in by ppoll(2) itself.  As poll(2); -1 with EINTR
 * when *stop is (or becomes) set.  For code that otherwise runs with
 * the signals open (sessions).
 */
int	daemon_poll_unless(volatile sig_atomic_t *stop, struct pollfd *fds,
	    nfds_t nfds, int timeout_ms);

/*
 * Take the lock that makes this process the only one of its kind (on a
 * data directory, say): an flock(2) on path, which then holds our pid.  If
 * another process holds it, wait up to wait_s seconds (logging whom we
 * wait for), then exit with a message.  The lock lasts as long as the
 * returned descriptor is open in this process or any child that
 * inherited it; cloexec says whether programs we exec inherit it.
 */
int	daemon_lock(const char *path, const char *what, unsigned int wait_s,
	    int cloexec);

#endif
