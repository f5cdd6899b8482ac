/*
 * pool: a process of one of maild's pools, and what it says to maild.
 *
 * maild keeps, for each listening service (smtp, submission, imaps ...),
 * a pool of pre-forked session processes, and for IMAP and POP3 a pool of
 * post-login processes.  A session process serves one client at a time,
 * up to max_use clients in turn (Postfix's max_use), then exits; between
 * clients nothing of one is left for the next.  It accepts on the
 * listening sockets it inherited, but serves only after maild says so:
 * maild alone counts the sessions of each service and of each client
 * address, so the limits hold across the pool, and a flood on one
 * service never takes another's processes.  A spare process or two
 * beyond the limit accepts the clients over it, to refuse them in their
 * own protocol (inside TLS on implicit-TLS ports).
 *
 * The status channel (a SOCK_SEQPACKET socket, lib/ipc; fd given with
 * -S) carries:
 *
 *	process -> maild			maild -> process
 *	POOL_READY				POOL_GO | POOL_REFUSE why
 *	POOL_CONN client-ip			POOL_SPOOL id (+ fd)
 *	POOL_IDLE				POOL_DONE status
 *	POOL_SPOOL_NEW				POOL_SESSION ... (+ fd)
 *	POOL_SPOOL_COMMIT id [next]		POOL_EXIT
 *	POOL_SPOOL_ABORT id
 *	POOL_HANDOFF ... (+ fd)
 *	POOL_FORKED pid (+ fd)			POOL_FORK
 *	POOL_REAPED pid status
 *
 * Spool files: a process that reads a client's bytes before login runs
 * chrooted and cannot open the spool, so maild hands it a slot of
 * queue/msg/ (global/spool_slot.c), locked and write-only (POOL_SPOOL);
 * the process writes the message, fsyncs and closes the file, and tells
 * maild (POOL_SPOOL_COMMIT, POOL_DONE "ok", with the next message's file
 * when asked); then "250" may be said.  The process never names a path,
 * and can reach no spool file but the one it holds.
 *
 * Handoff: once a client has logged in to IMAP or POP3, the login
 * process hands it, with the auth service's token and what the client
 * already sent, to a post-login process (POOL_HANDOFF, POOL_SESSION),
 * which redeems the token with the auth service and confines itself to
 * that user's Maildir.  Without TLS the client's socket itself goes;
 * with TLS the login process keeps the TLS session and relays the
 * plaintext over a socket pair until either side closes, or until the
 * post-login process hands the client back (login_hand_back(), IMAP's
 * UNAUTHENTICATE).
 *
 * Post-login processes are not started with exec(2) each: maild starts
 * one post-login parent per protocol (-M), which loads the program once
 * and forks a post-login process each time maild asks (POOL_FORK).  A
 * child shares the parent's pages (the libraries, relocated once), so it
 * costs a fork instead of an exec and the dynamic loader's work, and
 * little memory of its own.  The parent gives maild the child's pid and
 * the maild end of a new status channel (POOL_FORKED), and each child's
 * exit status (POOL_REAPED), as waitpid(2) would have told maild.  The
 * parent never sees a client: it reads only maild's channel.  Its
 * children end with it (a parent told POOL_EXIT waits for them first).
 */
#ifndef POOL_H
#define POOL_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include "../lib/ipc.h"
#include "prog.h"

enum pool_msg {
	POOL_READY = 1,
	POOL_CONN,
	POOL_IDLE,
	POOL_SPOOL_NEW,
	POOL_SPOOL_COMMIT,
	POOL_SPOOL_ABORT,
	POOL_HANDOFF,
	POOL_FORKED,
	POOL_REAPED,
	POOL_GO = 100,
	POOL_REFUSE,
	POOL_SPOOL,
	POOL_DONE,
	POOL_SESSION,
	POOL_EXIT,
	POOL_FORK,
};

#define POOL_REFUSE_BUSY	"busy"	/* the service's limit */
#define POOL_REFUSE_IP		"ip"	/* the client address's limit */

/* What a post-login process is given with a client. */
struct pool_session {
	int		 fd;		/* the client, or a relay of it */
	char		 service[32];	/* where the client came in */
	char		 token[64];	/* the auth service's proof */
	char		 sid[16];	/* the session id, for the log */
	char		 client_ip[64];
	int		 client_port;
	int		 relayed;	/* a login process keeps its TLS */
	char		 tag[128];	/* IMAP: the LOGIN's tag */
	char		*pending;	/* what the client sent beyond login */
	size_t		 npending;
};

struct pool {
	int		 status;	/* the channel to maild */
	const struct prog_fd *fds;	/* listening sockets */
	size_t		 nfds;
	long long	 max_use;
	long		 served;
	int		 exiting;	/* maild said POOL_EXIT */
	int		 keep_spare;	/* ask for the next spool file with
					   each commit (smtpd) */
	int		 spare_fd;	/* that file, or -1 */
	char		 spare_id[32];
	double		 spare_at;	/* when it came */
	struct ipc_out	 out;
	struct ipc_in	 in;
};

struct conf;
struct spool_writer;
struct tls_ctx;

/*
 * What a session process does first, as root: check that the sockets
 * maild handed over are of services program serves (service.h), load
 * the TLS key (required when one is an implicit-TLS service) and take
 * the status channel (-S).  *tls_r is NULL when no certificate is
 * configured.  Exits with a message on any error.
 */
void	pool_init(struct pool *p, const struct prog_args *args,
	    const struct conf *conf, const char *program, long long max_use,
	    struct tls_ctx **tls_r);
/*
 * Then, when everything it will need from files is loaded: a login
 * process (a session process before login) chroots into the empty
 * directory and becomes server.login_user, under the seccomp filter of
 * network sessions; a post-login process becomes server.user, and
 * confines itself further once it knows its user (Landlock, in
 * pool_confine_mail()).  Both die with maild.  Exits on any error.
 */
void	pool_confine_login(const struct conf *conf);
void	pool_confine_post_login(const struct conf *conf);
/* rw_dir: the user's Maildir; everything else out of reach, then the
 * seccomp filter of Maildir work.  Exits on any error. */
void	pool_confine_mail(const char *rw_dir);
/* The same with several Maildirs (NULL-terminated, the user's first):
 * the user's and those of the owners who share folders with it (IMAP
 * ACL, as the auth service says), nothing else. */
void	pool_confine_mail_dirs(const char *const *rw_dirs);
/*
 * Answer a client over a limit in its own protocol (inside TLS on an
 * implicit-TLS service: a short handshake first), then close fd.
 */
void	pool_refuse(int fd, const char *service, struct tls_ctx *tls,
	    const char *reply);
/* Set up and confined: tell maild. */
void	pool_ready(struct pool *p);

/* What a session process shares between its sessions. */
struct pool_ctx {
	struct conf	*conf;
	struct prog_args args;
	struct tls_ctx	*tls;		/* NULL: no certificate */
	struct pool	 pool;
	struct authc	*authc;		/* the auth service */
};

/* A program of the pools, and what differs between them. */
struct pool_program {
	const char	*name;			/* smtpd, pop3d, imapd */
	const char	*busy;			/* refusals, with CRLF */
	const char	*busy_ip;
	/* As root, before the confinement: what needs files (may be NULL). */
	void		(*setup)(struct pool_ctx *ctx, void *arg);
	/* One client: a new one (post NULL), or one handed over after its
	 * login (post-login processes).  fd is closed by serve. */
	void		(*serve)(struct pool_ctx *ctx, int fd, const char *service,
			    const char *client_ip, int client_port,
			    const struct pool_session *post, void *arg);
};

/*
 * The life of a session process: its set-up (pool_init, the auth service,
 * pp->setup), its confinement (login or post-login, -M), then the
 * clients maild gives it, until max_use, POOL_EXIT, SIGTERM, or the auth
 * service gone (a confined process cannot reconnect; a new one can).
 */
void	pool_main(int argc, char **argv, const struct pool_program *pp,
	    struct pool_ctx *ctx, void *arg) __attribute__((noreturn));
/* The clients a process of program serves in turn ([*] max_use). */
long long pool_max_use(const struct conf *conf, const char *program);

/*
 * The next client maild lets us serve: its socket (blocking), address
 * and port, and which service it came in on.  Clients maild refuses are
 * handed to refuse(fd, service, why, arg), which answers them and
 * closes fd.  -1 when the process should end: max_use reached, maild
 * said POOL_EXIT or is gone, or stop became set (SIGTERM).
 */
int	pool_accept(struct pool *p, volatile sig_atomic_t *stop,
	    void (*refuse)(int fd, const char *service, const char *why,
	    void *arg), void *arg, char *ip, size_t ipsize, int *port,
	    const char **service);
/* The client served by pool_accept()'s socket is gone. */
void	pool_idle(struct pool *p);

/* Spool files through maild: 0, or -1 (logged).  With keep_spare, a
 * commit brings the next file along (POOL_DONE status id + fd), which
 * the next pool_spool_new() hands out without asking, unless it has
 * waited more than POOL_SPARE_SECS: a queue id tells when the message
 * came, within that. */
#define POOL_SPARE_SECS	1.0
int	pool_spool_new(struct pool *p, char *id, size_t idsize, int *fd_r);
/*
 * A message written with spool_start() into the queue, durable when it
 * returns 0: sealed, fsync'd and closed here, then maild told (see the
 * function).  On -1 (logged), w is closed; a failure after the fsync
 * leaves the message queued.
 */
int	pool_spool_commit(struct pool *p, struct spool_writer *w,
	    const char *id);
void	pool_spool_abort(struct pool *p, const char *id);

/* Give a logged-in client to a post-login process; 0 or -1. */
int	pool_handoff(struct pool *p, const struct pool_session *s);
/* The same without waiting for maild's POOL_DONE (an event loop reads it
 * later; when maild cannot place the client it closes its end of s->fd). */
int	pool_handoff_send(struct pool *p, const struct pool_session *s);
/*
 * In a post-login parent: fork a post-login process each time maild
 * asks, and report each one's exit, until maild says POOL_EXIT (then once
 * the children are gone), maild is gone, or stop (then at most 10 s
 * later).  Returns only in a child, whose p is its own channel to maild.
 */
void	pool_fork_children(struct pool *p, volatile sig_atomic_t *stop);
/* In a post-login process: wait for a client.  0, or -1 (exit). */
int	pool_session_wait(struct pool *p, volatile sig_atomic_t *stop,
	    struct pool_session *s);
void	pool_session_free(struct pool_session *s);

#endif
