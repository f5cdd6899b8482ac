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

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "../lib/conf.h"
#include "../lib/spool.h"
#include "../lib/userdb.h"

#define QUEUE_JOB_MAX	65536		/* one job message, octets */

enum transport { T_LOCAL, T_REMOTE };

/* One message the runner knows about. */
struct qentry {
	char		 id[QUEUE_ID_LEN + 1];
	struct spool_env env;		/* as last read from the spool */
	unsigned char	*is_local;	/* per recipient */
	unsigned char	*busy;		/* per recipient: in a job now */
	int		 recovered;	/* may have been delivered before */
	time_t		 next;		/* earliest attempt; 0: none due */
	size_t		 heap_idx;	/* position in the heap, or SIZE_MAX */
	struct qentry	*hnext;		/* hash chain */
};

/* queued.c: <data_dir>/queue/msg */
extern char queue_msgdir[];

/* sched.c */
struct qentry *sched_find(const char *id);
/* Read (or re-read) an entry's spool file; -1 if it is gone or bad. */
int	sched_load(struct qentry *e, struct userdb *db);
struct qentry *sched_add(const char *id, int recovered);
void	sched_remove(struct qentry *e);
/* Recompute e->next from its recipients and place it in the heap. */
void	sched_update(struct qentry *e);
/* The entry due first, if due by now; NULL otherwise. */
struct qentry *sched_due(time_t now);
/* Seconds until the next entry is due (-1: none). */
long	sched_wait(time_t now);
size_t	sched_count(void);
/* Make everything due now (mailctl queue flush). */
void	sched_flush(void);

/* Backoff for the n-th attempt (1-based): retry_min * 2^(n-1), capped. */
time_t	queue_backoff(const struct conf *conf, int attempts);

/* worker.c */
struct job {
	char		 id[QUEUE_ID_LEN + 1];
	enum transport	 transport;
	int		 recovered;
	int		 last;		/* covers every non-final recipient */
	size_t		 nidx;
	size_t		*idx;
};

struct worker {
	pid_t		 pid;
	int		 fd;		/* socketpair to the worker */
	enum transport	 transport;
	struct qentry	*job;		/* the message being worked on */
	size_t		*job_idx;	/* its recipients in the job */
	size_t		 job_nidx;
};

/* Start a worker process for a transport. 0 or -1. */
int	worker_start(struct worker *w, enum transport t, struct conf *conf);
int	worker_send_job(struct worker *w, const struct job *job);
/* In a worker: the job loop, never returns. */
void	worker_main(int fd, enum transport t, struct conf *conf)
	    __attribute__((noreturn));
/* Encode / decode a job message. */
int	job_encode(const struct job *job, char *buf, size_t size);
int	job_decode(char *buf, struct job *job);

/* local.c: deliver job recipients of one message; journals the results. */
struct local_ctx {
	struct conf	*conf;
	struct userdb	*db;
};
void	local_deliver_job(struct local_ctx *ctx, const struct job *job);

#endif
