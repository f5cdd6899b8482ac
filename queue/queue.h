/*
 * queue: the queue runner (bin/queued) and its delivery agents.
 *
 * The spool files (lib/spool.h) are the truth; the runner keeps an index
 * of them in memory that a restart rebuilds by scanning the spool.
 *
 * queued.c	main loop: notifications, timers, workers, shutdown
 * sched.c	the in-memory index: messages by id, a heap by next attempt
 * worker.c	delivery processes and the job protocol between them
 * local.c	local delivery into Maildir
 * remote.c	remote delivery: one job = one message to one domain
 * mx.c		where a domain's mail goes (MX, RFC 5321 §5.1; RFC 7505)
 * smtpc.c	the SMTP client: one transaction with one server
 * bounce.c	delivery status notifications (RFC 3464) to the sender
 *
 * A message is handed to a worker as a job naming some of its recipients;
 * the worker delivers, appends what happened to the spool file's journal,
 * and answers "done".  The runner then reads the file again.  Only one job
 * per recipient is ever in flight, so a message is delivered once; after a
 * crash, jobs of recovered messages look for an earlier delivery in the
 * Maildir (named after queue id and recipient) before delivering again.
 */
#ifndef QUEUE_H
#define QUEUE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "../global/conf.h"
#include "../global/spool.h"
#include "../global/authc.h"
#include "../lib/conn.h"
#include "../lib/dns.h"
#include "../lib/tls.h"

#define QUEUE_JOB_MAX	65536		/* one job message, octets */

enum transport { T_LOCAL, T_REMOTE, T_NTRANSPORTS };

/* One message the runner knows about. */
struct qentry {
	char		 id[SPOOL_ID_LEN + 1];
	struct spool_env env;		/* as last read from the spool */
	unsigned char	*is_local;	/* per recipient */
	unsigned char	*busy;		/* per recipient: in a job now */
	int		 recovered;	/* may have been delivered before */
	int		 njobs;		/* jobs in flight */
	int		 gone;		/* deleted: forget after the last job */
	int		 admin_bounce;	/* mailctl queue bounce: return what
					   is left once no job is in flight */
	/* Earliest attempt per transport (0: none due), and the entry's
	 * place in that transport's heap (SIZE_MAX: not there). */
	time_t		 next[T_NTRANSPORTS];
	size_t		 heap_idx[T_NTRANSPORTS];
	struct qentry	*hnext;		/* hash chain */
};

/* queued.c: server.data_dir (spool_path() makes a message's path) */
extern const char *queue_data_dir;

/* sched.c */
struct qentry *sched_find(const char *id);
/* Read (or re-read) an entry's spool file; -1 if it is gone or bad. */
int	sched_load(struct qentry *e, struct authc *authc);
struct qentry *sched_add(const char *id, int recovered);
void	sched_remove(struct qentry *e);
/* Recompute e->next[] from its recipients and place it in the heaps. */
void	sched_update(struct qentry *e);
/* The entry due first for a transport, if due by now; NULL otherwise. */
struct qentry *sched_due(enum transport t, time_t now);
/* Seconds until the next entry is due for a transport (-1: none). */
long	sched_wait(enum transport t, time_t now);
size_t	sched_count(void);
/* Make everything due now (mailctl queue flush). */
void	sched_flush(void);
/* Call fn for every entry (fn must not add or remove entries). */
void	sched_foreach(void (*fn)(struct qentry *e, void *arg), void *arg);

/* Backoff for the n-th attempt (1-based): retry_min * 2^(n-1), capped. */
time_t	queue_backoff(const struct conf *conf, int attempts);
/*
 * A temporary failure of recipient idx at now, with text starting with
 * its enhanced status code: RCPT_PENDING and *next_r, or, once the
 * message is older than queue.max_lifetime, RCPT_FAILED with text
 * rewritten to say so (the last retry is made at that deadline).
 */
char	queue_defer(const struct conf *conf, const struct spool_env *env,
	    size_t idx, time_t now, time_t *next_r, char *text,
	    size_t textsize);

/* worker.c */
struct job {
	char		 id[SPOOL_ID_LEN + 1];
	enum transport	 transport;
	int		 recovered;
	int		 last;		/* covers every non-final recipient */
	size_t		 nidx;
	size_t		*idx;
};

/*
 * Jobs a local worker holds at once: it delivers what it holds, then
 * makes it durable with one fsync per Maildir (a remote worker: one).
 */
#define WORKER_BATCH	16

struct worker_job {
	struct qentry	*e;		/* the message being worked on */
	size_t		*idx;		/* its recipients in the job */
	size_t		 nidx;
};

struct worker {
	pid_t		 pid;
	int		 fd;		/* socketpair to the worker */
	enum transport	 transport;
	struct worker_job jobs[WORKER_BATCH];	/* in the order sent */
	size_t		 njobs;
};

/*
 * A child of the runner on a socket pair.  In the child (0): the socket
 * is fd 3, the runner's lock (unless lock_fd is -1) fd 4, nothing else
 * is open, SIGTERM and SIGINT are ignored (a child ends when the runner's
 * end of the socket closes).  In the runner: the child's pid and *fd_r,
 * the runner's end; -1 on failure.
 */
pid_t	queue_fork(int lock_fd, int *fd_r);
/*
 * Start a worker process for a transport. 0 or -1.  lock_fd: the
 * runner's lock on the spool, which the worker keeps, so that a new
 * runner waits for the old runner's workers too.
 */
int	worker_start(struct worker *w, enum transport t, struct conf *conf,
	    int lock_fd);
int	worker_send_job(struct worker *w, const struct job *job);
/* In a worker: the job loop, never returns. */
void	worker_main(int fd, enum transport t, struct conf *conf)
	    __attribute__((noreturn));
/* usage.c: fork the usage process (what a mailbox holds, for authd's
 * answers to smtpd's RCPT); its pid and *fd, the socket whose closing
 * ends it; -1. */
pid_t	usage_start(struct conf *conf, int *fd);
/* Encode / decode a job message. */
int	job_encode(const struct job *job, char *buf, size_t size);
int	job_decode(char *buf, struct job *job);

/* A Maildir of a local worker's batch: its user, looked up once,
 * exists with these limits; what it holds, once read, grows with each
 * delivery; its new/ is fsync'd once for all (local_sync). */
struct batch_maildir {
	char		 dir[PATH_MAX];
	uint64_t	 quota_kib, quota_messages;	/* 0: none */
	int		 usage_read;
	uint64_t	 octets, messages;	/* its usage, when read */
	int		 delivered;	/* new/ to fsync */
	int		 sync_failed;	/* errno of that fsync, or 0 */
};

/* What a delivery process keeps between jobs. */
struct worker_ctx {
	struct conf	*conf;
	struct authc	*authc;		/* local: the auth service's lookups */
	struct dns	*dns;		/* remote */
	struct tls_ctx	*tls;		/* remote: STARTTLS as a client */
	struct batch_maildir *batch;	/* local: this batch's Maildirs */
	size_t		 nbatch, batch_cap;
};

/* What became of one recipient of a job. */
struct rcpt_result {
	char		 state;		/* 0: not tried (already final) */
	time_t		 next;		/* RCPT_PENDING: next attempt */
	size_t		 sync;		/* local: 1 + its ctx->batch */
	char		 text[1024];	/* "<status code> what happened" */
};

/*
 * Log a result and turn a temporary failure into a retry or, past the
 * message's lifetime, a failure (queue_defer).
 */
void	job_result(struct worker_ctx *ctx, const struct spool_env *env,
	    size_t idx, const char *relay, struct rcpt_result *res);

/*
 * The transports: deliver the job's recipients of the loaded message
 * (fd open on its spool file) and fill res[i] for job->idx[i] (state 0:
 * not tried).  worker.c records the results.  A local worker delivers a
 * batch of jobs, then local_sync() makes their Maildirs' new/ durable,
 * one fsync each, and local_results() logs each job's results, a
 * delivery whose directory could not be synced to be tried again; only
 * then are they recorded.
 */
void	local_deliver_job(struct worker_ctx *ctx, const struct job *job,
	    int fd, const struct spool_env *env, struct rcpt_result *res);
void	local_sync(struct worker_ctx *ctx);
void	local_results(struct worker_ctx *ctx, const struct job *job,
	    const struct spool_env *env, struct rcpt_result *res);
void	remote_deliver_job(struct worker_ctx *ctx, const struct job *job,
	    int fd, const struct spool_env *env, struct rcpt_result *res);

/* mx.c: where a domain's mail goes */
#define MX_MAX_HOSTS	20

struct mx_host {
	char		 name[256];
	uint16_t	 pref;
	uint32_t	 shuffle;	/* random order among equal preferences */
	int		 implicit;	/* no MX: the domain itself (§5.1) */
};

enum mx_status {
	MX_OK,
	MX_NULL,	/* null MX (RFC 7505): permanent */
	MX_NODOMAIN,	/* the domain does not exist: permanent */
	MX_TEMP,	/* try later */
};

/* The hosts to try, in order.  why: "<status code> text" on failure. */
enum mx_status mx_lookup(struct dns *dns, const char *domain,
	    struct mx_host *hosts, size_t max, size_t *n_r, char *why,
	    size_t whysize);
/* A host's IPv4 then IPv6 addresses, numeric.  DNS_OK if there is one. */
enum dns_status mx_addresses(struct dns *dns, const char *host,
	    char addrs[][INET6_ADDRSTRLEN], size_t max, size_t *n_r,
	    char *why, size_t whysize);

/* smtpc.c: the SMTP client */
#define SMTPC_PIPELINING	0x01	/* RFC 2920 */
#define SMTPC_STARTTLS		0x02	/* RFC 3207 */
#define SMTPC_8BITMIME		0x04	/* RFC 6152 */
#define SMTPC_SIZE		0x08	/* RFC 1870 */

struct smtpc_reply {
	int		 code;		/* 0: none (connection trouble) */
	char		 text[1024];	/* the lines' text, escaped, joined */
};

struct smtpc {
	struct conn	 conn;
	int		 open;
	const char	*host;		/* the MX name: SNI, certificate */
	char		 relay[320];	/* "name[address]:port", for logs */
	unsigned int	 ext;		/* SMTPC_* the server offers */
	long long	 size_max;	/* its SIZE, 0: not said */
	int		 verified;	/* TLS: certificate verified for host */
	int		 tls_failed;	/* the handshake failed */
	char		 tls_info[200];	/* "" in clear */
	char		 lines[4096];	/* the last reply, a line each */
};

/*
 * Connect to addr (a numeric address of host), read the greeting, EHLO,
 * and STARTTLS when use_tls and offered.  0, or -1 with why: "<status>
 * text".  smtpc_close() in either case.
 */
int	smtpc_open(struct smtpc *c, const struct conf *conf,
	    struct tls_ctx *tls, const char *host, const char *addr,
	    int use_tls, char *why, size_t whysize);
/* Read one reply; -1 (r->code 0, r->text why) on connection trouble. */
int	smtpc_reply(struct smtpc *c, struct smtpc_reply *r);
/* Send one command line and read its reply. */
int	smtpc_command(struct smtpc *c, struct smtpc_reply *r,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A reply as "<enhanced status> host X said: <reply> (in reply to Y)". */
void	smtpc_describe(const struct smtpc *c, const struct smtpc_reply *r,
	    const char *context, char *out, size_t size);
/* The message, CRLF and dot-stuffed, and the final ".".  0 or -1. */
int	smtpc_send_message(struct smtpc *c, int spool_fd,
	    const struct spool_env *env);
/* QUIT (if quit) and close. */
void	smtpc_close(struct smtpc *c, int quit);

/* bounce.c */
enum dsn_action { DSN_FAILED, DSN_DELAYED };
/*
 * Queue a delivery status notification (RFC 3464) to env->sender about
 * the recipients idx[0..n-1]: the message read from spool_fd supplies the
 * original headers.  0 with the new queue id in newid, -1 with errno.
 */
int	bounce_queue(const struct conf *conf, int spool_fd,
	    const struct spool_env *env, const size_t *idx, size_t n,
	    enum dsn_action action, char newid[SPOOL_ID_LEN + 1]);

#endif
