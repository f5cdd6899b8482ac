/*
 * Delivery processes.  Each is forked by the runner, shares its
 * privileges, and talks to it over a SOCK_SEQPACKET socketpair: one job
 * per message, one "done <id>" per job, in the order of the jobs (a local
 * worker may hold up to WORKER_BATCH of them).  Messages are length-checked and
 * parsed strictly; a malformed one is a bug and kills the receiver.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include "../lib/daemon.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "queue.h"

int
job_encode(const struct job *job, char *buf, size_t size)
{
	size_t off, i;
	int n;

	n = snprintf(buf, size, "%c %s %d %d", job->transport == T_LOCAL ?
	    'L' : 'R', job->id, job->recovered, job->last);
	if (n < 0 || (size_t)n >= size)
		return -1;
	off = (size_t)n;
	for (i = 0; i < job->nidx; i++) {
		n = snprintf(buf + off, size - off, " %zu", job->idx[i]);
		if (n < 0 || (size_t)n >= size - off)
			return -1;
		off += (size_t)n;
	}
	return (int)off;
}

int
job_decode(char *buf, struct job *job)
{
	char *tok, *save, *end;
	unsigned long v;

	memset(job, 0, sizeof(*job));
	if ((tok = strtok_r(buf, " ", &save)) == NULL || tok[1] != '\0' ||
	    (tok[0] != 'L' && tok[0] != 'R'))
		return -1;
	job->transport = tok[0] == 'L' ? T_LOCAL : T_REMOTE;
	if ((tok = strtok_r(NULL, " ", &save)) == NULL ||
	    !spool_id_valid(tok))
		return -1;
	memcpy(job->id, tok, SPOOL_ID_LEN + 1);
	if ((tok = strtok_r(NULL, " ", &save)) == NULL ||
	    (tok[0] != '0' && tok[0] != '1') || tok[1] != '\0')
		return -1;
	job->recovered = tok[0] == '1';
	if ((tok = strtok_r(NULL, " ", &save)) == NULL ||
	    (tok[0] != '0' && tok[0] != '1') || tok[1] != '\0')
		return -1;
	job->last = tok[0] == '1';
	job->idx = util_calloc(QUEUE_JOB_MAX / 2, sizeof(*job->idx));
	while ((tok = strtok_r(NULL, " ", &save)) != NULL) {
		errno = 0;
		v = strtoul(tok, &end, 10);
		if (*end != '\0' || errno != 0 || v >= SPOOL_MAX_RCPTS ||
		    job->nidx >= QUEUE_JOB_MAX / 2) {
			free(job->idx);
			return -1;
		}
		job->idx[job->nidx++] = v;
	}
	if (job->nidx == 0) {
		free(job->idx);
		return -1;
	}
	return 0;
}

void
job_result(struct worker_ctx *ctx, const struct spool_env *env, size_t idx,
    const char *relay, struct rcpt_result *res)
{
	const struct spool_rcpt *r = &env->rcpts[idx];
	char state = res->state;

	if (state == RCPT_PENDING)
		state = queue_defer(ctx->conf, env, idx, time(NULL), &res->next,
		    res->text, sizeof(res->text));
	log_info("qid=%s to=<%s> orig_to=<%s> relay=%s delay=%.3fs "
	    "status=%s (%s)", env->id, log_str(r->addr), log_str(r->orcpt),
	    log_str(relay), util_now() - (double)env->arrival,
	    state == RCPT_DELIVERED ? "sent" : state == RCPT_FAILED ?
	    (res->state == RCPT_PENDING ? "expired" : "bounced") : "deferred",
	    log_str(res->text));
	res->state = state;
}

/*
 * Record what happened to a job's recipients (res[i] for job->idx[i]):
 * the worker's half of exactly-once.  Journal lines, synced once; or,
 * when the job covered every remaining recipient and all were delivered,
 * simply free the slot (spool_slot_done()): then 1, else 0.
 */
static int
job_finish(const struct job *job, int fd,
    struct spool_env *env, const struct rcpt_result *res)
{
	size_t i;
	int all_done = 1;

	for (i = 0; i < job->nidx; i++)
		if (res[i].state != 0 && res[i].state != RCPT_DELIVERED)
			all_done = 0;
	if (job->last && all_done) {
		/*
		 * Every recipient is done: the slot is marked free (the
		 * runner names it in free/, to be reused), and no journal
		 * is needed.  If that is lost in a crash, the recovery
		 * finds the Maildir files and delivers nothing twice.
		 */
		if (spool_slot_done(fd, queue_data_dir, job->id) == -1) {
			log_err("qid=%s queue file %s: %s", env->id, job->id,
			    strerror(errno));
			return 0;
		}
		log_info("qid=%s removed", env->id);
		return 1;
	}
	for (i = 0; i < job->nidx; i++) {
		if (res[i].state == 0)
			continue;
		if (spool_journal(fd, env, job->idx[i], res[i].state,
		    res[i].state == RCPT_PENDING ? res[i].next : 0,
		    res[i].text, 0) == -1)
			log_err("qid=%s journal: %s", env->id, strerror(errno));
	}
	if (fdatasync(fd) == -1)
		log_err("qid=%s journal sync: %s", env->id, strerror(errno));
	return 0;
}

int
worker_send_job(struct worker *w, const struct job *job)
{
	char buf[QUEUE_JOB_MAX];
	int n;

	if ((n = job_encode(job, buf, sizeof(buf))) < 0)
		return -1;
	return send(w->fd, buf, (size_t)n, MSG_NOSIGNAL) == n ? 0 : -1;
}

/* A job, its message loaded and delivered, waiting to be recorded. */
struct pending {
	struct job		 job;
	struct spool_env	 env;
	int			 fd;	/* the spool file; -1: unreadable */
	char			 path[PATH_MAX];
	struct rcpt_result	*res;
};

/* Load the message and hand it to the transport. */
static void
worker_deliver(struct worker_ctx *ctx, struct pending *p)
{
	int r;

	p->fd = -1;
	p->res = NULL;
	if (spool_path(p->path, sizeof(p->path), queue_data_dir,
	    p->job.id) == -1 || spool_load(p->path, &p->env, &p->fd) == -1) {
		/* ENOMSG: done and freed already (by a worker of the
		 * runner before a restart). */
		if (errno != ENOMSG)
			log_warn("queue file %s unreadable: %s", p->job.id,
			    strerror(errno));
		p->fd = -1;
		return;
	}
	/* Found after a restart: does it hold what was written?  (The
	 * runner saw every other file arrive whole in the page cache.) */
	if (p->job.recovered && (r = spool_verify(p->fd, &p->env)) != 1) {
		if (r == -1)
			log_warn("qid=%s queue file %s unreadable: %s",
			    p->env.id, p->job.id, strerror(errno));
		else if (spool_quarantine(queue_data_dir, p->job.id) == -1)
			log_err("qid=%s queue file fails its check, and "
			    "cannot be moved to queue/corrupt/: %s",
			    p->env.id, strerror(errno));
		else
			log_err("qid=%s queue file fails its check (written "
			    "over, never confirmed, before a crash): moved to "
			    "queue/corrupt/%s, not delivered", p->env.id,
			    p->job.id);
		close(p->fd);
		spool_env_free(&p->env);
		p->fd = -1;
		return;
	}
	p->res = util_calloc(p->job.nidx, sizeof(*p->res));
	if (p->job.transport == T_LOCAL)
		local_deliver_job(ctx, &p->job, p->fd, &p->env, p->res);
	else
		remote_deliver_job(ctx, &p->job, p->fd, &p->env, p->res);
}

/* Record a delivered job's results; tell the runner.  -1: it is gone. */
static int
worker_record(struct worker_ctx *ctx, struct pending *p, int sock)
{
	char reply[64];
	int n, gone = 0;

	if (p->fd != -1) {
		if (p->job.transport == T_LOCAL)
			local_results(ctx, &p->job, &p->env, p->res);
		gone = job_finish(&p->job, p->fd, &p->env, p->res);
		free(p->res);
		close(p->fd);
		spool_env_free(&p->env);
	}
	free(p->job.idx);
	/* "gone": the runner need not read the file again to learn it. */
	n = snprintf(reply, sizeof(reply), "done %s%s", p->job.id,
	    gone ? " gone" : "");
	return send(sock, reply, (size_t)n, MSG_NOSIGNAL) == n ? 0 : -1;
}

/* The next job from the runner: 1, 0 if none (flags: MSG_DONTWAIT) or
 * the runner is stopping, -1 on error. */
static int
worker_next(int sock, enum transport t, int flags, struct job *job)
{
	char buf[QUEUE_JOB_MAX + 1];
	ssize_t n;

	do
		n = recv(sock, buf, sizeof(buf) - 1, flags);
	while (n < 0 && errno == EINTR && !daemon_term);
	if (n <= 0)
		return n == 0 || errno == EAGAIN ? 0 : -1;
	buf[n] = '\0';
	if (job_decode(buf, job) == -1 || job->transport != t)
		fatalx("worker: malformed job from the runner");
	return 1;
}

void
worker_main(int fd, enum transport t, struct conf *conf)
{
	struct worker_ctx ctx;
	static struct pending batch[WORKER_BATCH];
	char err[256];
	size_t n, i;
	int more = 1;

	memset(&ctx, 0, sizeof(ctx));
	ctx.conf = conf;
	if (t == T_REMOTE) {
		if ((ctx.dns = conf_dns_open(conf, err, sizeof(err))) == NULL)
			fatalx("worker: resolver: %s", err);
		if ((ctx.tls = tls_client_ctx(conf->queue.tls_ca_file[0] ?
		    conf->queue.tls_ca_file : NULL, err, sizeof(err))) == NULL)
			fatalx("worker: TLS: %s", err);
	}
	while (more && worker_next(fd, t, 0, &batch[0].job) == 1) {
		/* A local worker takes every job the runner has sent so
		 * far (up to WORKER_BATCH): one fsync of each Maildir's
		 * new/ then makes all their deliveries durable. */
		n = 1;
		while (t == T_LOCAL && n < WORKER_BATCH &&
		    worker_next(fd, t, MSG_DONTWAIT, &batch[n].job) == 1)
			n++;
		for (i = 0; i < n; i++)
			worker_deliver(&ctx, &batch[i]);
		local_sync(&ctx);
		ctx.nbatch = 0;
		for (i = 0; i < n; i++)
			if (worker_record(&ctx, &batch[i], fd) == -1)
				more = 0;
	}
	tls_ctx_free(&ctx.tls);
	dns_close(&ctx.dns);
	authc_close(&ctx.authc);
	free(ctx.batch);
	exit(0);
}

pid_t
queue_fork(int lock_fd, int *fd_r)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		/* Keep only the socket to the runner (a child holding
		 * another child's end would hide the runner's exit) and
		 * the runner's lock, as 3 and 4. */
		int sock = fcntl(sv[1], F_DUPFD, 5);
		int lock = lock_fd == -1 ? -1 : fcntl(lock_fd, F_DUPFD, 5);

		if (sock == -1 || (lock_fd != -1 && lock == -1) ||
		    dup2(sock, 3) == -1 || (lock != -1 && dup2(lock, 4) == -1))
			_exit(1);
		close_range(lock != -1 ? 5 : 4, ~0U, 0);
		daemon_signals_reset();
		/* SIGTERM is the runner's to handle: a child finishes what
		 * it does and exits when the runner's end of the socket
		 * closes (also when the runner is killed). */
		signal(SIGTERM, SIG_IGN);
		signal(SIGINT, SIG_IGN);
		return 0;
	}
	close(sv[1]);
	*fd_r = sv[0];
	return pid;
}

int
worker_start(struct worker *w, enum transport t, struct conf *conf,
    int lock_fd)
{
	pid_t pid;
	int fd;

	if ((pid = queue_fork(lock_fd, &fd)) == -1)
		return -1;
	if (pid == 0)
		worker_main(3, t, conf);
	memset(w, 0, sizeof(*w));
	w->pid = pid;
	w->fd = fd;
	w->transport = t;
	return 0;
}
