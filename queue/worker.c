/*
 * Delivery processes.  Each is forked by the runner, shares its
 * privileges, and talks to it over a SOCK_SEQPACKET socketpair: one job
 * per message, one "done <id>" per job.  Messages are length-checked and
 * parsed strictly; a malformed one is a bug and kills the receiver.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "../lib/daemon.h"
#include "../lib/log.h"
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
	    !util_queue_id_valid(tok))
		return -1;
	memcpy(job->id, tok, QUEUE_ID_LEN + 1);
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

int
worker_send_job(struct worker *w, const struct job *job)
{
	char buf[QUEUE_JOB_MAX];
	int n;

	if ((n = job_encode(job, buf, sizeof(buf))) < 0)
		return -1;
	return send(w->fd, buf, (size_t)n, MSG_NOSIGNAL) == n ? 0 : -1;
}

void
worker_main(int fd, enum transport t, struct conf *conf)
{
	struct local_ctx lctx = { conf, NULL };
	char buf[QUEUE_JOB_MAX + 1], reply[64];
	struct job job;
	const char *err;
	ssize_t n;

	if ((lctx.db = userdb_open(conf->server.data_dir, 0, &err)) == NULL)
		fatalx("worker: users.db: %s", err);
	for (;;) {
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n == 0)
			break;			/* the runner is stopping */
		if (n < 0) {
			if (errno == EINTR && !daemon_term)
				continue;
			break;
		}
		buf[n] = '\0';
		if (job_decode(buf, &job) == -1)
			fatalx("worker: malformed job from the runner");
		if (t == T_LOCAL)
			local_deliver_job(&lctx, &job);
		free(job.idx);
		n = snprintf(reply, sizeof(reply), "done %s", job.id);
		if (send(fd, reply, (size_t)n, MSG_NOSIGNAL) != n)
			break;
	}
	userdb_close(&lctx.db);
	exit(0);
}

int
worker_start(struct worker *w, enum transport t, struct conf *conf)
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
		/* Keep only the socket to the runner: a worker holding
		 * another worker's end would hide the runner's exit. */
		if (sv[1] != 3 && dup2(sv[1], 3) == -1)
			_exit(1);
		close_range(4, ~0U, 0);
		daemon_signals_reset();
		/* SIGTERM is the runner's to handle: a worker finishes its
		 * job and exits when the runner's end of the socket closes
		 * (also when the runner is killed). */
		signal(SIGTERM, SIG_IGN);
		signal(SIGINT, SIG_IGN);
		worker_main(3, t, conf);
	}
	close(sv[1]);
	memset(w, 0, sizeof(*w));
	w->pid = pid;
	w->fd = sv[0];
	w->transport = t;
	return 0;
}
