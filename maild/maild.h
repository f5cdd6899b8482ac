/*
 * maild's parts.
 *
 *	maild.c		main: configuration, sockets, the long-lived
 *			programs (authd, queued), reload and stop
 *	pools.c		the pools of session processes: their start, their
 *			status channels, the session limits, handoffs
 *	spool.c		spool files made for the session processes, and
 *			renamed into the queue once written
 */
#ifndef MAILD_H
#define MAILD_H

#include <poll.h>
#include <sys/types.h>
#include <time.h>

#include "../global/conf.h"
#include "../global/pool.h"
#include "../global/prog.h"
#include "../global/service.h"
#include "../global/spool.h"

#define MAX_SOCKETS	64
#define SPARE_REFUSERS	2	/* processes beyond a limit, to refuse */
#define MEMBER_SPOOLS	4	/* spool files one process may hold */

/* A listening socket and the config section it came from. */
struct lsock {
	char	 service[32];
	char	 addr[300];	/* "host:port" as configured */
	int	 fd;
};

extern struct conf	*conf;
extern struct prog_args	 args;
extern char		 conf_path[];
extern struct lsock	 socks[MAX_SOCKETS];
extern size_t		 nsocks;

/* pools.c */
struct pool_def;
struct member;

/* Make the pools match the configuration (after a start or a reload):
 * processes of an older configuration finish their session and exit. */
void	pools_sync(void);
/* Start what is missing, shrink what is idle too long; the wait (ms)
 * until something is due, or -1. */
int	pools_tend(void);
/* Add the status channels to pfd (from *n on). */
void	pools_poll_fds(struct pollfd *pfd, size_t *n, size_t max);
/* A channel was readable: handle it. */
void	pools_channel(int fd);
/* After a round of channels: give waiting logins to post-login
 * processes. */
void	pools_round_end(void);
/* A child exited: 1 if it was a pool's process. */
int	pools_reaped(pid_t pid, int status);
/* SIGTERM to every process of the pools; how many are left. */
int	pools_signal(int sig);
size_t	pools_count(void);

/* spool.c: the spool files of session processes.  A slot of msg/ for a
 * new message: its queue id in id, its file name in name, the file
 * (write-only, locked) in *fd_r; 0, or -1 with *err. */
int	spool_make(char *id, char *name, size_t size, int *fd_r,
	    const char **err);
/* A slot given out and not committed (abort, the process died): free
 * it, now or, if it is still held, in a later spool_tend(). */
void	spool_drop(const char *name);
/* Once a second: the slots spool_drop() could not free yet. */
void	spool_tend(void);

/* maild.c: the argv of a program (its path first), for exec. */
void	program_argv(const char *name, char **argv, size_t max,
	    char *path, size_t pathsize);
/* util: which program file exists. */
int	program_built(const char *name);

#endif
