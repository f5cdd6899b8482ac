/*
 * queued: the queue runner.
 *
 * SECURITY: started by maild (as root or not), it drops to server.user
 * before touching the spool, and never reads the network.  It trusts the
 * spool files (written by smtpd as the same user) only as far as the
 * strict parser in lib/spool.c lets it, and the control socket's
 * datagrams not at all: only the commands it knows are obeyed.
 *
 * One long-lived process keeps the index of the spool in memory and
 * hands jobs to a pool of delivery processes.  It learns of new mail
 * through inotify on queue/msg/ (the close of a slot written by a
 * session, the rename of a bounce into msg/: global/spool_slot.c), so
 * local delivery starts within milliseconds and no
 * wake-up can be lost: the kernel queues the events, and if that queue
 * ever overflows it says so and the runner rescans the spool.  (A
 * datagram from smtpd per message was the first design; a burst of
 * mail overflowed the socket's queue, net.unix.max_dgram_qlen, and a
 * message waited for the periodic rescan.)  A restart rebuilds
 * everything from the spool.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "../global/layout.h"
#include "../global/prog.h"
#include "../lib/daemon.h"
#include "../lib/log.h"
#include "../lib/privsep.h"
#include "../lib/util.h"
#include "queue.h"

/* A file in tmp/ nobody writes any more (see spool_tmp_clean()) goes
 * once it is this old. */
#define STALE_TMP_SECONDS	60
#define SHUTDOWN_GRACE		30

const char *queue_data_dir;
static char queue_msgdir[PATH_MAX];

static struct conf	*conf;
static struct authc	*authc;	/* lookups */
static struct worker	*workers;
static size_t		 nworkers;
static int		 control_fd = -1;
static int		 lock_fd = -1;	/* queue/queued.pid */
static pid_t		 usage_pid;	/* the usage process (usage.c) */
static int		 usage_fd = -1;	/* its socket: closed, it exits */
static time_t		 usage_started;
static int		 inotify_fd = -1;

/*
 * Journal state for every recipient in idx[] (one fdatasync), with text,
 * or (text NULL) the recipient's last text followed by note.
 */
static int
queue_journal_all(int fd, struct qentry *e, const size_t *idx, size_t n,
    char state, const char *text, const char *note)
{
	char buf[2048];
	size_t i;

	for (i = 0; i < n; i++) {
		const char *old = e->env.rcpts[idx[i]].text;

		if (text == NULL)
			snprintf(buf, sizeof(buf), "%s%s", old ? old : "",
			    note);
		if (spool_journal(fd, &e->env, idx[i], state, 0,
		    text != NULL ? text : buf, 0) == -1)
			return -1;
	}
	return fdatasync(fd);
}

/*
 * Return failed recipients to the sender in one DSN, then mark them
 * bounced.  A crash between the two sends the DSN twice: better than
 * none.  The null sender gets no DSN (RFC 5321 §6.1: no loops).
 */
static void
queue_bounce(struct qentry *e, int fd, const size_t *idx, size_t n)
{
	char newid[SPOOL_ID_LEN + 1];

	if (e->env.sender[0] == '\0') {
		log_info("qid=%s %zu recipient(s) failed; no DSN to the null "
		    "sender", e->env.id, n);
		if (queue_journal_all(fd, e, idx, n, RCPT_BOUNCED, NULL,
		    " (no DSN: null sender)") == -1)
			log_err("qid=%s journal: %s", e->env.id, strerror(errno));
		return;
	}
	if (bounce_queue(conf, fd, &e->env, idx, n, DSN_FAILED, newid) == -1) {
		log_err("qid=%s cannot queue a DSN: %s", e->env.id,
		    strerror(errno));
		return;
	}
	log_info("qid=%s sender non-delivery notification: %s (%zu "
	    "recipient(s))", e->env.id, newid, n);
	if (queue_journal_all(fd, e, idx, n, RCPT_BOUNCED, NULL,
	    " (returned to sender)") == -1)
		log_err("qid=%s journal: %s", e->env.id, strerror(errno));
}

/* Tell the sender once that a message is late (RFC 3464 "delayed"). */
static void
queue_warn(struct qentry *e, int fd, const size_t *idx, size_t n)
{
	char newid[SPOOL_ID_LEN + 1];
	time_t now = time(NULL);

	if (bounce_queue(conf, fd, &e->env, idx, n, DSN_DELAYED, newid) == -1) {
		log_err("qid=%s cannot queue a delay DSN: %s", e->env.id,
		    strerror(errno));
		return;
	}
	log_info("qid=%s sender delay notification: %s (%zu recipient(s))",
	    e->env.id, newid, n);
	if (spool_journal_warned(fd, &e->env, now) == -1)
		log_err("qid=%s journal: %s", e->env.id, strerror(errno));
}

/*
 * Between jobs: act on what the journal says.  Failed recipients are
 * returned to the sender, a late message gets its delay warning, an
 * administrator's "bounce" is carried out, and a message whose every
 * recipient is final goes.  Returns e, or NULL once it is gone.
 */
static struct qentry *
queue_settle(struct qentry *e)
{
	char path[PATH_MAX];
	size_t *failed, *pending, nfailed = 0, npending = 0, i;
	time_t now = time(NULL);
	int fd = -1, warn;

	if (e->njobs > 0) {		/* a worker is on it: later */
		sched_update(e);
		return e;
	}
	if (spool_path(path, sizeof(path), queue_data_dir, e->id) == -1)
		return e;
	failed = util_calloc(e->env.nrcpts, sizeof(*failed));
	pending = util_calloc(e->env.nrcpts, sizeof(*pending));
	for (i = 0; i < e->env.nrcpts; i++) {
		if (e->env.rcpts[i].state == RCPT_FAILED)
			failed[nfailed++] = i;
		else if (e->env.rcpts[i].state == RCPT_PENDING)
			pending[npending++] = i;
	}
	warn = npending > 0 && conf->queue.delay_warning > 0 &&
	    e->env.warned == 0 && e->env.sender[0] != '\0' &&
	    now >= e->env.arrival + (time_t)conf->queue.delay_warning;
	/* The file is opened only to write: a DSN or the journal. */
	if ((nfailed > 0 || (npending > 0 && (e->admin_bounce || warn))) &&
	    (fd = open(path, O_RDWR | O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			log_err("qid=%s %s: %s", e->env.id, path, strerror(errno));
		goto out;
	}
	if (e->admin_bounce && npending > 0) {
		log_info("qid=%s returned to sender by the administrator",
		    e->env.id);
		if (queue_journal_all(fd, e, pending, npending, RCPT_FAILED,
		    "5.0.0 returned to sender by the administrator",
		    NULL) == -1)
			log_err("qid=%s journal: %s", e->env.id, strerror(errno));
		memcpy(failed + nfailed, pending, npending * sizeof(*failed));
		nfailed += npending;
		npending = 0;
	}
	e->admin_bounce = 0;
	if (nfailed > 0)
		queue_bounce(e, fd, failed, nfailed);
	else if (warn)
		queue_warn(e, fd, pending, npending);
out:
	if (fd != -1)
		close(fd);
	free(failed);
	free(pending);
	if (spool_all_final(&e->env)) {
		/* Gone from the index before its slot is free: a message
		 * written into it next is a new one (queue_learn()). */
		if (spool_slot_free(queue_data_dir, e->id, 1) == 0)
			log_info("qid=%s removed", e->env.id);
		else
			log_err("qid=%s queue file %s: %s", e->env.id, e->id,
			    strerror(errno));
		sched_remove(e);
		return NULL;
	}
	sched_update(e);
	return e;
}

/* Bring a message into the index (or refresh it); -1 if it is unusable. */
static struct qentry *queue_settle(struct qentry *e);

/* scan: from queue_scan(), which also frees what dead writers left;
 * recovered: found after a restart. */
static struct qentry *
queue_learn(const char *id, int scan, int recovered)
{
	struct qentry *e;

	if ((e = sched_find(id)) != NULL)
		return e;
	e = sched_add(id, recovered);
	if (sched_load(e, authc_ensure(&authc, conf->server.data_dir)) == -1) {
		int saved = errno;

		sched_remove(e);
		/* A slot with no message (ENOMSG) or one being written
		 * (EBUSY): its writer's close is the event to wait for.
		 * A scan frees what writers that died left. */
		if (saved == ENOMSG && scan &&
		    spool_slot_free(queue_data_dir, id, 0) == -1 &&
		    errno != EBUSY)
			log_err("queue file %s: cannot free it: %s", id,
			    strerror(errno));
		if (saved != ENOENT && saved != ENOMSG && saved != EBUSY)
			log_err("queue file %s unreadable: %s", id,
			    strerror(saved));
		return NULL;
	}
	return queue_settle(e);
}

static void
queue_tmp_removed(const char *path)
{
	log_info("removed %s, left by a writer that died", path);
}

static void
queue_scan(int recovered)
{
	struct dirent *de;
	size_t before = sched_count();
	DIR *d;

	if ((d = opendir(queue_msgdir)) == NULL) {
		log_err("%s: %s", queue_msgdir, strerror(errno));
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (spool_id_valid(de->d_name))
			queue_learn(de->d_name, 1, recovered);
	closedir(d);
	if (sched_count() != before || recovered)
		log_info("scan: %zu message(s) queued, %zu new", sched_count(),
		    sched_count() - before);

	/* tmp/ holds messages that never got "250": their writer died. */
	spool_tmp_clean(conf->server.data_dir, STALE_TMP_SECONDS,
	    queue_tmp_removed);
}

/* The worker of transport t that can take a job and holds the fewest:
 * alive (its socket not closed at its death, before SIGCHLD tells us)
 * and holding fewer than it may (a remote worker one). */
static struct worker *
queue_idle_worker(enum transport t)
{
	struct worker *best = NULL;
	size_t i, max = t == T_LOCAL ? WORKER_BATCH : 1;

	for (i = 0; i < nworkers; i++) {
		struct worker *w = &workers[i];

		if (w->transport == t && w->pid > 0 && w->fd != -1 &&
		    w->njobs < max && (best == NULL || w->njobs < best->njobs))
			best = w;
	}
	return best;
}

/* The domain of an address, for grouping remote recipients. */
static const char *
queue_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at != NULL ? at + 1 : "";
}

/*
 * Hand due messages to idle workers of transport t.  A local job takes
 * every due local recipient of a message; a remote job the due ones of
 * one domain, so that one connection carries them (and another domain
 * of the same message goes to another worker at the same time).
 */
static void
queue_dispatch(enum transport t)
{
	struct qentry *e;
	struct worker *w;
	struct job job;
	time_t now = time(NULL);
	const char *domain;
	size_t i, nonfinal;

	while ((w = queue_idle_worker(t)) != NULL &&
	    (e = sched_due(t, now)) != NULL) {
		memset(&job, 0, sizeof(job));
		memcpy(job.id, e->id, sizeof(job.id));
		job.transport = t;
		job.recovered = e->recovered;
		job.idx = util_calloc(e->env.nrcpts, sizeof(*job.idx));
		nonfinal = 0;
		domain = NULL;
		for (i = 0; i < e->env.nrcpts; i++) {
			struct spool_rcpt *r = &e->env.rcpts[i];

			if (r->state == RCPT_DELIVERED ||
			    r->state == RCPT_BOUNCED)
				continue;
			nonfinal++;
			if (r->state != RCPT_PENDING || e->busy[i] ||
			    r->next_attempt > now ||
			    e->is_local[i] != (t == T_LOCAL))
				continue;
			if (t == T_REMOTE) {
				if (domain == NULL)
					domain = queue_domain(r->addr);
				else if (strcasecmp(domain,
				    queue_domain(r->addr)) != 0)
					continue;
			}
			job.idx[job.nidx++] = i;
		}
		if (job.nidx == 0) {
			/* Cannot happen: sched_update() makes an entry due
			 * only for a recipient this loop would take. */
			free(job.idx);
			fatalx("qid=%s due with nothing to do", e->env.id);
		}
		job.last = job.nidx == nonfinal;
		if (worker_send_job(w, &job) == -1) {
			log_err("qid=%s cannot hand to worker %ld: %s", e->env.id,
			    (long)w->pid, strerror(errno));
			free(job.idx);
			break;
		}
		for (i = 0; i < job.nidx; i++)
			e->busy[job.idx[i]] = 1;
		e->njobs++;
		w->jobs[w->njobs].e = e;
		w->jobs[w->njobs].idx = job.idx;
		w->jobs[w->njobs].nidx = job.nidx;
		w->njobs++;
		sched_update(e);
	}
}

/* The worker finished its oldest job: read the spool file again,
 * unless the worker removed it. */
static void
queue_job_done(struct worker *w, int crashed, int removed)
{
	struct worker_job *j = &w->jobs[0];
	struct qentry *e = j->e;
	size_t i;

	for (i = 0; i < j->nidx; i++)
		e->busy[j->idx[i]] = 0;
	e->njobs--;
	if (crashed)
		e->recovered = 1;	/* it may have delivered some */
	if (e->gone) {
		if (e->njobs == 0)
			sched_remove(e);
		goto out;
	}
	if (removed || sched_load(e, authc_ensure(&authc,
	    conf->server.data_dir)) == -1) {
		/* ENOMSG: freed by a worker that died before it said so,
		 * or by one of a runner before us (a restart). */
		int freed = removed || errno == ENOMSG;

		if (!freed && errno != ENOENT)
			log_err("queue file %s unreadable: %s", e->id,
			    strerror(errno));
		if (e->njobs == 0) {
			char name[SPOOL_ID_LEN + 1];

			/* Out of the index before maild can hand the slot
			 * out again. */
			memcpy(name, e->id, sizeof(name));
			sched_remove(e);
			if (freed && (removed ?
			    spool_slot_link_free(queue_data_dir, name) :
			    spool_slot_free(queue_data_dir, name, 0)) == -1 &&
			    errno != EBUSY)
				log_err("queue file %s: cannot free it: %s",
				    name, strerror(errno));
		} else
			e->gone = 1;
		goto out;
	}
	if (crashed) {
		/* Whatever killed the worker would kill the next one at
		 * once: the job's recipients wait as after a failure (in
		 * memory; the journal has nothing to say). */
		for (i = 0; i < j->nidx; i++) {
			struct spool_rcpt *r = &e->env.rcpts[j->idx[i]];

			if (r->state == RCPT_PENDING)
				r->next_attempt = time(NULL) +
				    queue_backoff(conf, r->attempts + 1);
		}
		log_warn("qid=%s the worker died during delivery; retrying "
		    "later", e->env.id);
	}
	queue_settle(e);
out:
	free(j->idx);
	memmove(&w->jobs[0], &w->jobs[1], --w->njobs * sizeof(w->jobs[0]));
}

/* The worker's replies so far: a "done <id>" for each job finished, in
 * the order they were sent, "done <id> gone" when it removed the file. */
static void
queue_worker_reply(struct worker *w)
{
	char buf[128];
	ssize_t n;
	int gone;

	for (;;) {
		n = recv(w->fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (n <= 0) {
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return;
			/* EOF: the worker died; SIGCHLD handling
			 * restarts it. */
			close(w->fd);
			w->fd = -1;
			return;
		}
		buf[n] = '\0';
		if ((gone = n > 5 && strcmp(buf + n - 5, " gone") == 0))
			buf[n - 5] = '\0';
		if (w->njobs == 0 || strncmp(buf, "done ", 5) != 0 ||
		    strcmp(buf + 5, w->jobs[0].e->id) != 0)
			fatalx("worker %ld: unexpected message",
			    (long)w->pid);
		queue_job_done(w, 0, gone);
	}
}

/*
 * Is a close of msg/<name> worth a look?  Not if the slot is one we know
 * (a worker's journal) or one named in free/ (a worker's close after it
 * marked the slot free, which we then named in free/): one stat(2)
 * instead of reading it.
 */
static int
queue_slot_written(const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	if (sched_find(name) != NULL ||
	    spool_path(path, sizeof(path), queue_data_dir, name) == -1)
		return 0;
	return stat(path, &st) == 0 && st.st_nlink == 1;
}

/*
 * New messages: a session's close of the slot it wrote (IN_CLOSE_WRITE),
 * a bounce's rename into msg/ (IN_MOVED_TO).  Other closes (a worker's
 * journal, a slot freed) find the entry known or no message.  One read of a
 * hundred or so events per turn of the main loop, which hands out jobs
 * in between: draining the queue first would keep the workers idle for
 * as long as a burst of mail lasts.
 */
static void
queue_inotify(void)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct
	    inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;
	char *p;

	if ((n = read(inotify_fd, buf, sizeof(buf))) > 0)
		for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if (ev->mask & IN_Q_OVERFLOW) {
				log_warn("inotify queue overflowed: rescanning");
				queue_scan(0);
			} else if (ev->len > 0 && spool_id_valid(ev->name) &&
			    ((ev->mask & IN_MOVED_TO) ||
			    queue_slot_written(ev->name)))
				queue_learn(ev->name, 0, 0);
		}
}

/* mailctl queue delete (of the slot name): the file goes now, not to be
 * reused; a delivery already under way finishes, and the entry is
 * forgotten after it. */
static void
queue_admin_delete(const char *name)
{
	struct qentry *e = queue_learn(name, 0, 0);
	char path[PATH_MAX], id[SPOOL_ID_LEN + 1];

	util_strcpy(id, e != NULL ? e->env.id : name, sizeof(id));
	if (spool_path(path, sizeof(path), queue_data_dir, name) == -1 ||
	    unlink(path) == -1) {
		log_warn("qid=%s delete: %s", id, strerror(errno));
		return;
	}
	log_info("qid=%s deleted by the administrator", id);
	if (e == NULL)
		return;
	if (e->njobs > 0) {
		e->gone = 1;
		sched_update(e);
	} else
		sched_remove(e);
}

/* mailctl queue bounce: every recipient not yet delivered is returned
 * to the sender, once no delivery of the message is under way. */
static void
queue_admin_bounce(const char *name)
{
	struct qentry *e;

	if ((e = queue_learn(name, 0, 0)) == NULL) {
		log_warn("queue file %s: bounce: no message", name);
		return;
	}
	e->admin_bounce = 1;
	queue_settle(e);
}

/* Administrative commands from mailctl. */
static void
queue_control(void)
{
	char buf[64];
	ssize_t n;

	while ((n = recv(control_fd, buf, sizeof(buf) - 1, MSG_DONTWAIT)) > 0) {
		buf[n] = '\0';
		if (strcmp(buf, "flush") == 0) {
			log_info("flush requested: every message is due now");
			sched_flush();
			queue_scan(0);
		} else if (strncmp(buf, "delete ", 7) == 0 &&
		    spool_id_valid(buf + 7))
			queue_admin_delete(buf + 7);
		else if (strncmp(buf, "bounce ", 7) == 0 &&
		    spool_id_valid(buf + 7))
			queue_admin_bounce(buf + 7);
		else
			log_warn("control: ignoring an unknown command");
	}
}

static int
queue_bind_control(void)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (layout_path(sun.sun_path, sizeof(sun.sun_path),
	    conf->server.data_dir, LAYOUT_QUEUE_CONTROL) == -1)
		fatalx("data_dir too long for a UNIX socket path");
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	unlink(sun.sun_path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal("bind %s", sun.sun_path);
	chmod(sun.sun_path, 0600);
	return fd;
}

static void
queue_reap(void)
{
	pid_t pid;
	int status;
	size_t i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == usage_pid) {
			if (!daemon_term)
				log_err("usage process %ld ended (status %d)",
				    (long)pid, status);
			if (usage_fd != -1)
				close(usage_fd);
			usage_fd = -1;
			usage_pid = 0;
		}
		for (i = 0; i < nworkers; i++) {
			struct worker *w = &workers[i];

			if (w->pid != pid)
				continue;
			if (daemon_term)
				;
			else if (WIFSIGNALED(status))
				log_err("worker %ld killed by signal %d",
				    (long)pid, WTERMSIG(status));
			else
				log_err("worker %ld exited (status %d)",
				    (long)pid, WEXITSTATUS(status));
			while (w->njobs > 0)
				queue_job_done(w, 1, 0);
			if (w->fd != -1)
				close(w->fd);
			w->fd = -1;
			w->pid = 0;
		}
	}
}

static void
queue_start_workers(void)
{
	size_t i;

	/* The first local_workers are local, the rest remote. */
	for (i = 0; i < nworkers; i++)
		if (workers[i].pid == 0 && worker_start(&workers[i],
		    i < (size_t)conf->queue.local_workers ? T_LOCAL : T_REMOTE,
		    conf, lock_fd) == -1)
			log_err("cannot start a worker: %s", strerror(errno));
	/* Once a second at most, should it keep failing. */
	if (usage_pid == 0 && time(NULL) != usage_started) {
		usage_started = time(NULL);
		if ((usage_pid = usage_start(conf, &usage_fd)) == -1) {
			log_err("cannot start the usage process: %s",
			    strerror(errno));
			usage_pid = 0;
		}
	}
}

static void
queue_shutdown(void)
{
	time_t deadline = time(NULL) + SHUTDOWN_GRACE;
	size_t i, alive;

	/* Closing the sockets tells each worker to stop after its job,
	 * and the usage process to stop. */
	if (usage_fd != -1) {
		close(usage_fd);
		usage_fd = -1;
	}
	for (i = 0; i < nworkers; i++)
		if (workers[i].fd != -1) {
			close(workers[i].fd);
			workers[i].fd = -1;
		}
	do {
		queue_reap();
		for (alive = 0, i = 0; i < nworkers; i++)
			alive += workers[i].pid > 0;
		if (alive == 0)
			break;
		daemon_poll(NULL, 0, 100);
	} while (time(NULL) < deadline);
	if (alive > 0)
		log_warn("%zu worker(s) still busy at exit", alive);
}

/*
 * One runner per spool: two would deliver the same message at once.  The
 * workers inherit the lock, so a new runner (after a restart, or a maild
 * killed and started again) waits until the old runner and every one of
 * its workers are gone; the old ones finish their jobs first
 * (SHUTDOWN_GRACE).
 */
static int
queue_lock(void)
{
	char path[PATH_MAX];

	if (layout_path(path, sizeof(path), conf->server.data_dir,
	    LAYOUT_QUEUED_PID) == -1)
		fatalx("data_dir too long");
	return daemon_lock(path, "queue runner", SHUTDOWN_GRACE + 10, 1);
}

int
main(int argc, char **argv)
{
	struct prog_args args;
	struct pollfd *pfds;
	const char *err;
	enum transport t;
	time_t next_scan;
	long wait;
	size_t i;
	int n;

	conf = prog_init(argc, argv, "queued", &args, NULL);
	if (privsep_drop(conf->server.user, &err) == -1)
		fatalx("cannot drop privileges: %s", err);
	privsep_die_with_parent(prog_parent);
	daemon_signals();
	daemon_signals_block();
	queue_data_dir = conf->server.data_dir;
	if (layout_path(queue_msgdir, sizeof(queue_msgdir), queue_data_dir,
	    LAYOUT_QUEUE_MSG) == -1)
		fatalx("data_dir too long");
	lock_fd = queue_lock();
	control_fd = queue_bind_control();
	/* Watch before the first scan, so nothing falls between the two. */
	if ((inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1 ||
	    inotify_add_watch(inotify_fd, queue_msgdir, IN_MOVED_TO |
	    IN_CLOSE_WRITE) == -1)
		fatal("inotify on %s", queue_msgdir);
	nworkers = (size_t)(conf->queue.local_workers +
	    conf->queue.remote_workers);
	workers = util_calloc(nworkers, sizeof(*workers));
	for (i = 0; i < nworkers; i++)
		workers[i].fd = -1;
	queue_start_workers();
	queue_scan(1);
	next_scan = time(NULL) + conf->queue.scan_interval;
	log_info("ready: %lld local and %lld remote worker(s), %zu message(s) "
	    "queued", conf->queue.local_workers, conf->queue.remote_workers,
	    sched_count());

	pfds = util_calloc(nworkers + 2, sizeof(*pfds));
	while (!daemon_term) {
		if (daemon_chld) {
			daemon_chld = 0;
			queue_reap();
			queue_start_workers();
		}
		wait = next_scan - time(NULL);
		for (t = T_LOCAL; t < T_NTRANSPORTS; t++) {
			long tw;

			queue_dispatch(t);
			/* No idle worker: its reply will wake us. */
			if (queue_idle_worker(t) != NULL &&
			    (tw = sched_wait(t, time(NULL))) >= 0 && tw < wait)
				wait = tw;
		}
		if (wait < 0)
			wait = 0;
		pfds[0].fd = inotify_fd;
		pfds[0].events = POLLIN;
		pfds[1].fd = control_fd;
		pfds[1].events = POLLIN;
		for (i = 0; i < nworkers; i++) {
			pfds[i + 2].fd = workers[i].fd;
			pfds[i + 2].events = POLLIN;
		}
		n = daemon_poll(pfds, nworkers + 2, (int)(wait * 1000));
		if (n < 0) {
			if (errno != EINTR)
				fatal("poll");
			continue;
		}
		if (pfds[0].revents & POLLIN)
			queue_inotify();
		if (pfds[1].revents & POLLIN)
			queue_control();
		for (i = 0; i < nworkers; i++)
			if (workers[i].fd != -1 &&
			    (pfds[i + 2].revents & (POLLIN | POLLHUP)))
				queue_worker_reply(&workers[i]);
		if (time(NULL) >= next_scan) {
			queue_scan(0);
			next_scan = time(NULL) + conf->queue.scan_interval;
		}
	}
	log_info("stopping");
	queue_shutdown();
	close(control_fd);
	close(inotify_fd);
	free(pfds);
	free(workers);
	authc_close(&authc);
	return 0;
}
