/*
 * daemon: what every program started by maild does first.
 *
 *	prog -c FILE [-o section.key=value]... [-L service:fd]... [-p pid]
 *
 * maild binds the listening sockets and hands them over as inherited file
 * descriptors named by -L; -c and -o are passed on unchanged, so every
 * process sees the same configuration; -p is maild's own pid, so that a
 * service can tell that maild died before it asked to be told
 * (privsep_die_with_parent()).
 */
#ifndef DAEMON_H
#define DAEMON_H

#include <poll.h>
#include <signal.h>
#include <stddef.h>

#include "conf.h"

#define DAEMON_MAX_FDS		32
#define DAEMON_MAX_OVERRIDES	256

struct daemon_fd {
	char	service[32];
	int	fd;
};

struct daemon_args {
	const char	*conf_path;
	char		*overrides[DAEMON_MAX_OVERRIDES];
	size_t		 noverrides;
	struct daemon_fd fds[DAEMON_MAX_FDS];
	size_t		 nfds;
};

/*
 * Parse the arguments (the extra option letters in extra_opts are left
 * for the caller: the first unknown one stops parsing, its index is
 * returned in *optind_r), load the configuration and start logging.
 * Exits with a message on error.
 */
struct conf *daemon_init(int argc, char **argv, const char *progname,
	    struct daemon_args *args, int *optind_r);

/* The supervisor: -p, or else the parent as it was at the start. */
extern pid_t daemon_parent;

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
 * Create the data directory layout (queue/msg, queue/tmp, mail) owned by
 * server.user, and users.db with its schema, created by that user.
 * Exits with a message on failure.
 */
void	daemon_prepare_data_dir(const struct conf *conf);

/*
 * Take the lock that makes this process the only one of its kind on a
 * data directory: an flock(2) on path, which then holds our pid.  If
 * another process holds it, wait up to wait_s seconds (logging whom we
 * wait for), then exit with a message.  The lock lasts as long as the
 * returned descriptor is open in this process or any child that
 * inherited it; cloexec says whether programs we exec inherit it.
 */
int	daemon_lock(const char *path, const char *what, unsigned int wait_s,
	    int cloexec);

#endif
