/*
 * The pools of session processes (global/pool.h has the protocol).
 *
 * One pool per listening service: its processes accept on that
 * service's sockets and serve one client at a time, up to max_use
 * clients each; maild counts the service's sessions and each client
 * address's, says which client may be served, and keeps min_idle
 * processes waiting, up to the limit and SPARE_REFUSERS beyond it (to
 * refuse clients over the limit in their own protocol).  A flood on one
 * service takes that service's processes and no other's.  One pool per
 * protocol of post-login processes (IMAP, POP3): each takes one logged-in
 * client from a login process and exits after it.  Those are forked by
 * the pool's post-login parent (global/pool.h), not by maild: the parent
 * reports their pids, channels and exits, and maild keeps them as members
 * like any other (with ->parent set).
 *
 * What a process says is trusted no further than its own session: a
 * message that does not fit the protocol, or a spool id it was not
 * given, ends that process.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "../lib/daemon.h"
#include "../lib/ipc.h"
#include "../lib/log.h"
#include "../lib/sandbox.h"
#include "../lib/util.h"
#include "maild.h"

#define MAX_POOLS	16
#define MAX_HANDOFFS	64	/* logged-in clients waiting for a process */
#define IDLE_SURPLUS	60	/* seconds a surplus idle process lives */

struct pool_def {
	char		 name[32];	/* the service, or "imap" / "pop3" */
	const char	*program;
	int		 post_login;	/* a pool of post-login processes */
	int		 event_loop;	/* each serves many clients at once */
	long long	 max_sessions, max_per_ip, max_use;
	long long	 min_idle;
	struct member	*parent;	/* post-login: the current parent */
	int		 active;	/* in the current configuration */
	int		 nprocs, nidle;
	long		 serving;	/* sessions counted in the limits */
	time_t		 hold_until;	/* starts keep failing: wait */
	int		 failures;
	int		 announced;	/* "ready" logged */
};

enum member_state { M_STARTING, M_IDLE, M_BUSY };

struct member {
	pid_t		 pid;
	int		 chan;		/* the status channel */
	struct pool_def	*pool;
	struct member	*parent;	/* who forked it, when not maild */
	int		 is_parent;	/* a post-login parent */
	int		 forks_asked;	/* a parent: forks not yet reported */
	int		 gen;
	enum member_state state;
	time_t		 since;		/* in this state */
	int		 exit_sent;
	/* The client it serves, in the limits of its service. */
	struct pool_def	*counted;
	char		 ip[64];
	/* Slots given out, not committed: queue id and file name. */
	char		 spool[MEMBER_SPOOLS][SPOOL_ID_LEN + 1];
	char		 slot[MEMBER_SPOOLS][SPOOL_ID_LEN + 1];
	int		 spare_fd;	/* made with a commit, for its reply */
	int		 spare_slot;
	struct member	*next;
};

/* A logged-in client for a post-login process. */
struct handoff {
	struct member	*from;
	char		 protocol[8];
	struct pool_session s;
};

static struct pool_def	 pools[MAX_POOLS];
static size_t		 npools;
static struct member	*members;
static int		 generation;
static struct handoff	 handoffs[MAX_HANDOFFS];
static size_t		 nhandoffs;
static struct ipc_in	 in;
static struct ipc_out	 out;

/* The protocol of a listening service's post-login processes. */
static const char *
post_login_protocol(const char *program)
{
	if (strcmp(program, "imapd") == 0)
		return "imap";
	if (strcmp(program, "pop3d") == 0)
		return "pop3";
	if (strcmp(program, "webmail") == 0)
		return "web";
	return NULL;
}

/*
 * Whose post-login processes a member may hand a client to: its
 * protocol's, and for a submission session the user's IMAP one, which
 * fetches the URLs of BURL for it (RFC 4468; smtpd/burl.c).
 */
static const char *
handoff_protocol(const struct member *m)
{
	if (strcmp(m->pool->program, "smtpd") == 0 &&
	    strcmp(m->pool->name, "smtp") != 0)
		return "imap";
	return post_login_protocol(m->pool->program);
}

static struct pool_def *
pool_find(const char *name, int post_login)
{
	size_t i;

	for (i = 0; i < npools; i++)
		if (pools[i].post_login == post_login &&
		    strcmp(pools[i].name, name) == 0)
			return &pools[i];
	return NULL;
}

static struct pool_def *
pool_add(const char *name, const char *program, int post_login)
{
	struct pool_def *p;

	if ((p = pool_find(name, post_login)) == NULL) {
		if (npools == MAX_POOLS)
			fatalx("too many pools");
		p = &pools[npools++];
		memset(p, 0, sizeof(*p));
		util_strcpy(p->name, name, sizeof(p->name));
		p->post_login = post_login;
	}
	p->program = program;
	p->active = 1;
	p->announced = 0;
	return p;
}

/* The limits of a program's services, from its section of the config. */
static void
pool_limits(struct pool_def *p)
{
	const char *prog = p->program;

	if (strcmp(prog, "smtpd") == 0) {
		p->max_sessions = conf->smtpd.max_sessions;
		p->max_per_ip = conf->smtpd.max_sessions_per_ip;
		p->max_use = conf->smtpd.max_use;
	} else if (strcmp(prog, "webmail") == 0) {
		/* One front process serves every browser (its event loop
		 * counts their connections); post-login processes serve one
		 * logged-in session each. */
		p->event_loop = !p->post_login;
		p->max_sessions = p->post_login ? conf->web.max_sessions : 1;
		p->max_per_ip = conf->web.max_connections_per_ip;
		p->max_use = 1;
	} else if (strcmp(prog, "pop3d") == 0) {
		p->max_sessions = conf->pop3d.max_sessions;
		p->max_per_ip = conf->pop3d.max_sessions_per_ip;
		p->max_use = conf->pop3d.max_use;
	} else {
		p->max_sessions = conf->imapd.max_sessions;
		p->max_per_ip = conf->imapd.max_sessions_per_ip;
		p->max_use = conf->imapd.max_use;
	}
	p->min_idle = p->event_loop ? 1 : conf->server.min_idle;
	if (p->post_login && strcmp(prog, "webmail") != 0) {
		/* Its clients are counted in the login services' limits. */
		p->max_sessions *= 2;
		p->max_use = 1;
	}
}

void
pools_sync(void)
{
	struct member *m;
	size_t i, k;

	generation++;
	for (i = 0; i < npools; i++)
		pools[i].active = 0;
	for (k = 0; k < nsocks; k++) {
		const struct service *svc = service_find(socks[k].service);
		const char *proto;

		if (svc == NULL || !program_built(svc->program))
			continue;
		pool_limits(pool_add(svc->name, svc->program, 0));
		if ((proto = post_login_protocol(svc->program)) != NULL)
			pool_limits(pool_add(proto, svc->program, 1));
	}
	/* The processes of an older configuration finish and go. */
	for (m = members; m != NULL; m = m->next)
		if (m->gen != generation && !m->exit_sent) {
			ipc_begin(&out, POOL_EXIT);
			(void)ipc_send(m->chan, &out, -1);
			m->exit_sent = 1;
		}
	for (i = 0; i < npools; i++)
		if (pools[i].parent != NULL && pools[i].parent->gen != generation)
			pools[i].parent = NULL;	/* a new one starts */
}

/* A new process of pool p, starting: in the list, in no count yet. */
static struct member *
member_new(struct pool_def *p, pid_t pid, int chan, int gen)
{
	struct member *m = util_calloc(1, sizeof(*m));

	m->pid = pid;
	m->chan = chan;
	m->pool = p;
	m->gen = gen;
	m->state = M_STARTING;
	m->since = time(NULL);
	m->spare_fd = -1;
	m->next = members;
	members = m;
	return m;
}

/* Fork and exec one process of pool p (its post-login parent, when
 * parent is set). */
static void
member_exec(struct pool_def *p, int parent)
{
	char path[PATH_MAX], *argv[16 + 2 * PROG_MAX_OVERRIDES +
	    2 * MAX_SOCKETS], fdargs[MAX_SOCKETS][64], chanarg[16];
	int fds[MAX_SOCKETS + 1], sv[2], tmp[MAX_SOCKETS + 1];
	size_t i, n, nfd = 0;
	struct member *m;
	pid_t pid;

	if (!p->post_login)
		for (i = 0; i < nsocks && nfd < MAX_SOCKETS; i++)
			if (strcmp(socks[i].service, p->name) == 0) {
				fds[nfd] = socks[i].fd;
				snprintf(fdargs[nfd], sizeof(fdargs[0]),
				    "%.31s:%zu", socks[i].service, nfd + 3);
				nfd++;
			}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		log_err("pool %s: socketpair: %s", p->name, strerror(errno));
		return;
	}
	program_argv(p->program, argv, sizeof(argv) / sizeof(argv[0]) - 2 *
	    nfd - 6, path, sizeof(path));
	for (n = 0; argv[n] != NULL; n++)
		;
	for (i = 0; i < nfd; i++) {
		argv[n++] = "-L";
		argv[n++] = fdargs[i];
	}
	snprintf(chanarg, sizeof(chanarg), "%zu", nfd + 3);
	argv[n++] = "-S";
	argv[n++] = chanarg;
	if (p->post_login) {
		argv[n++] = "-M";
		argv[n++] = p->name;
	}
	argv[n] = NULL;
	fds[nfd] = sv[1];
	if ((pid = fork()) == -1) {
		log_err("pool %s: fork: %s", p->name, strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return;
	}
	if (pid == 0) {
		daemon_signals_reset();
		/* The sockets to 3, 4 ..., then the channel. */
		for (i = 0; i <= nfd; i++)
			if ((tmp[i] = fcntl(fds[i], F_DUPFD_CLOEXEC,
			    4 + MAX_SOCKETS)) == -1)
				_exit(1);
		for (i = 0; i <= nfd; i++)
			if (dup2(tmp[i], (int)(3 + i)) == -1)
				_exit(1);
		close_range((unsigned)(4 + nfd), ~0U, 0);
		execv(path, argv);
		fprintf(stderr, "maild: exec %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	close(sv[1]);
	m = member_new(p, pid, sv[0], generation);
	if (parent) {
		m->is_parent = 1;
		p->parent = m;
	} else
		p->nprocs++;
	log_debug("pool %s: started %s%s (pid %ld)", p->name, p->program,
	    parent ? " (post-login parent)" : "", (long)pid);
}

static void member_stop(struct member *m, const char *why);

/* Post-login processes p's parent was asked for and has not reported. */
static int
forks_pending(const struct pool_def *p)
{
	return p->parent != NULL ? p->parent->forks_asked : 0;
}

/* One more process for pool p: exec'd, or forked by its parent. */
static void
member_start(struct pool_def *p)
{
	struct member *parent = p->parent;

	if (!p->post_login) {
		member_exec(p, 0);
		return;
	}
	if (parent == NULL) {
		member_exec(p, 1);
		return;
	}
	if (parent->state == M_STARTING || parent->exit_sent)
		return;			/* asked again once it is ready */
	ipc_begin(&out, POOL_FORK);
	if (ipc_send(parent->chan, &out, -1) == -1)
		member_stop(parent, "does not take its requests");
	else
		parent->forks_asked++;
}

static long
pool_count_ip(const struct pool_def *p, const char *ip)
{
	struct member *m;
	long n = 0;

	for (m = members; m != NULL; m = m->next)
		if (m->counted == p && strcmp(m->ip, ip) == 0)
			n++;
	return n;
}

/* Its client leaves the limits it was counted in. */
static void
member_uncount(struct member *m)
{
	if (m->counted == NULL)
		return;
	m->counted->serving--;
	m->counted = NULL;
	m->ip[0] = '\0';
}

static void
member_state(struct member *m, enum member_state to)
{
	if (m->state == M_IDLE)
		m->pool->nidle--;
	if (to == M_IDLE)
		m->pool->nidle++;
	m->state = to;
	m->since = time(NULL);
}

/* Tell m to finish and exit (a protocol error: at once). */
static void
member_stop(struct member *m, const char *why)
{
	log_err("pool %s: pid %ld %s: stopping it", m->pool->name,
	    (long)m->pid, why);
	kill(m->pid, SIGKILL);
}

/* POOL_DONE status, and the spare spool file made for it if any. */
static void
reply_done(struct member *m, const char *status)
{
	int fd = m->spare_fd;

	ipc_begin(&out, POOL_DONE);
	ipc_put_str(&out, status);
	if (fd != -1)
		ipc_put_str(&out, m->spool[m->spare_slot]);
	m->spare_fd = -1;
	if (ipc_send(m->chan, &out, fd) == -1)
		member_stop(m, "does not take its replies");
	if (fd != -1)
		close(fd);	/* the process holds it (and its lock) */
}

/* A spool file in a free slot of m: the slot, with *fd; or -1. */
static int
member_spool_make(struct member *m, int *fd)
{
	const char *err = NULL;
	int slot;

	for (slot = 0; slot < MEMBER_SPOOLS && m->spool[slot][0]; slot++)
		;
	if (slot == MEMBER_SPOOLS || spool_make(m->spool[slot],
	    m->slot[slot], sizeof(m->spool[slot]), fd, &err) == -1) {
		log_err("pool %s: cannot make a spool file: %s",
		    m->pool->name, err != NULL ? err : "too many held");
		if (slot < MEMBER_SPOOLS)
			m->spool[slot][0] = '\0';
		return -1;
	}
	return slot;
}

/* A post-login process of the protocol for a waiting client. */
static int
handoff_dispatch(struct handoff *h)
{
	struct pool_def *p = pool_find(h->protocol, 1);
	struct member *m;

	if (p == NULL)
		return -1;
	for (m = members; m != NULL; m = m->next)
		if (m->pool == p && m->state == M_IDLE && !m->exit_sent &&
		    m->gen == generation)
			break;
	if (m == NULL)
		return 0;
	ipc_begin(&out, POOL_SESSION);
	ipc_put_str(&out, h->s.service);
	ipc_put_str(&out, h->s.token);
	ipc_put_str(&out, h->s.sid);
	ipc_put_str(&out, h->s.client_ip);
	ipc_put_u64(&out, (uint64_t)h->s.client_port);
	ipc_put_str(&out, h->s.relayed ? "1" : "0");
	ipc_put_str(&out, h->s.tag);
	ipc_put(&out, h->s.pending, h->s.npending);
	if (ipc_send(m->chan, &out, h->s.fd) == -1) {
		member_stop(m, "cannot take a client");
		return 0;
	}
	member_state(m, M_BUSY);
	/* Without TLS the client itself moved: so do its limits. */
	if (!h->s.relayed && h->from != NULL && h->from->counted != NULL) {
		m->counted = h->from->counted;
		util_strcpy(m->ip, h->from->ip, sizeof(m->ip));
		h->from->counted = NULL;
		h->from->ip[0] = '\0';
	}
	if (h->from != NULL)
		reply_done(h->from, "ok");
	return 1;
}

static void
handoffs_run(void)
{
	size_t i = 0;
	int r;

	while (i < nhandoffs) {
		if ((r = handoff_dispatch(&handoffs[i])) == 0) {
			i++;
			continue;
		}
		if (r < 0 && handoffs[i].from != NULL)
			reply_done(handoffs[i].from, "no post-login service");
		close(handoffs[i].s.fd);
		pool_session_free(&handoffs[i].s);
		handoffs[i] = handoffs[--nhandoffs];
	}
}

static void
msg_conn(struct member *m)
{
	struct pool_def *p = m->pool;
	const char *svc = ipc_get_str(&in), *ip = ipc_get_str(&in);
	const char *why = NULL;

	if (svc == NULL || ip == NULL || strcmp(svc, p->name) != 0 ||
	    strlen(ip) >= sizeof(m->ip) || m->state != M_IDLE ||
	    p->post_login) {
		member_stop(m, "sent a malformed POOL_CONN");
		return;
	}
	if (p->serving >= p->max_sessions)
		why = POOL_REFUSE_BUSY;
	else if (pool_count_ip(p, ip) >= p->max_per_ip)
		why = POOL_REFUSE_IP;
	if (why != NULL) {
		log_warn("service=%s client=[%s] refused: %s", p->name, ip,
		    strcmp(why, POOL_REFUSE_BUSY) == 0 ? "too many sessions "
		    "(max_sessions)" : "too many sessions from this address "
		    "(max_sessions_per_ip)");
		ipc_begin(&out, POOL_REFUSE);
		ipc_put_str(&out, why);
	} else {
		ipc_begin(&out, POOL_GO);
		m->counted = p;
		util_strcpy(m->ip, ip, sizeof(m->ip));
		p->serving++;
		member_state(m, M_BUSY);
	}
	if (ipc_send(m->chan, &out, -1) == -1)
		member_stop(m, "does not take its replies");
}

static void
msg_spool(struct member *m)
{
	const char *id, *next;
	int fd = -1, slot;

	switch (in.type) {
	case POOL_SPOOL_NEW:
		ipc_begin(&out, POOL_SPOOL);
		if ((slot = member_spool_make(m, &fd)) == -1)
			ipc_put_str(&out, "");
		else
			ipc_put_str(&out, m->spool[slot]);
		if (ipc_send(m->chan, &out, fd) == -1)
			member_stop(m, "does not take its replies");
		if (fd != -1)
			close(fd);	/* the process holds it (and its lock) */
		return;
	case POOL_SPOOL_COMMIT:
	case POOL_SPOOL_ABORT:
		if ((id = ipc_get_str(&in)) == NULL || m->spare_fd != -1)
			break;
		next = ipc_get_str(&in);
		for (slot = 0; slot < MEMBER_SPOOLS; slot++)
			if (strcmp(m->spool[slot], id) == 0)
				break;
		if (slot == MEMBER_SPOOLS)
			break;
		m->spool[slot][0] = '\0';
		if (in.type == POOL_SPOOL_ABORT) {
			spool_drop(m->slot[slot]);
			reply_done(m, "ok");
			return;
		}
		/* Committed: written, fsync'd and closed by the session (the
		 * close told the queue runner).  The next message's file
		 * goes with the reply: one round trip a message, not two. */
		if (next != NULL && strcmp(next, "next") == 0 &&
		    (slot = member_spool_make(m, &fd)) != -1) {
			m->spare_fd = fd;
			m->spare_slot = slot;
		}
		reply_done(m, "ok");
		return;
	}
	member_stop(m, "named a spool file it was not given");
}

static void
msg_handoff(struct member *m)
{
	const struct ipc_field *f;
	struct handoff *h;
	const char *v[6];
	uint64_t port;
	size_t i;

	if (in.fd == -1 || (m->state != M_BUSY && !m->pool->event_loop) ||
	    m->pool->post_login || handoff_protocol(m) == NULL) {
		member_stop(m, "sent a malformed POOL_HANDOFF");
		return;
	}
	if (nhandoffs == MAX_HANDOFFS) {
		close(in.fd);
		reply_done(m, "too many logins waiting");
		return;
	}
	for (i = 0; i < 4; i++)
		v[i] = ipc_get_str(&in);
	if (ipc_get_u64(&in, &port) == -1)
		port = 0;
	v[4] = ipc_get_str(&in);
	v[5] = ipc_get_str(&in);
	f = ipc_get(&in);
	h = &handoffs[nhandoffs];
	memset(h, 0, sizeof(*h));
	for (i = 0; i < 6 && v[i] != NULL; i++)
		;
	if (i < 6 || f == NULL ||
	    util_strcpy(h->s.service, v[0], sizeof(h->s.service)) == -1 ||
	    util_strcpy(h->s.token, v[1], sizeof(h->s.token)) == -1 ||
	    util_strcpy(h->s.sid, v[2], sizeof(h->s.sid)) == -1 ||
	    util_strcpy(h->s.client_ip, v[3], sizeof(h->s.client_ip)) == -1 ||
	    util_strcpy(h->s.tag, v[5], sizeof(h->s.tag)) == -1) {
		close(in.fd);
		member_stop(m, "sent a malformed POOL_HANDOFF");
		return;
	}
	h->from = m;
	util_strcpy(h->protocol, handoff_protocol(m), sizeof(h->protocol));
	h->s.fd = in.fd;
	h->s.client_port = (int)port;
	h->s.relayed = strcmp(v[4], "1") == 0;
	if ((h->s.npending = f->len) > 0) {
		h->s.pending = util_calloc(1, f->len);
		memcpy(h->s.pending, f->data, f->len);
	}
	nhandoffs++;
	in.fd = -1;
}

/* A post-login process its parent forked: a member like the others. */
static void
msg_forked(struct member *parent)
{
	struct member *m;
	uint64_t pid;

	if (ipc_get_u64(&in, &pid) == -1 || pid > INT_MAX ||
	    parent->forks_asked == 0 || (pid != 0) != (in.fd != -1)) {
		member_stop(parent, "sent a malformed POOL_FORKED");
		return;
	}
	parent->forks_asked--;
	if (pid == 0) {			/* it could not: it logged why */
		parent->pool->failures++;
		parent->pool->hold_until = time(NULL) + 1;
		return;
	}
	m = member_new(parent->pool, (pid_t)pid, in.fd, parent->gen);
	in.fd = -1;
	m->parent = parent;
	m->pool->nprocs++;
}

static void member_gone(struct member *m, int status);

/* What a post-login parent may say: ready, forked, reaped. */
static void
msg_parent(struct member *parent)
{
	struct member *m;
	uint64_t pid, status;

	switch (in.type) {
	case POOL_READY:
		if (parent->state != M_STARTING)
			break;
		parent->state = M_BUSY;
		parent->pool->failures = 0;
		return;
	case POOL_FORKED:
		msg_forked(parent);
		return;
	case POOL_REAPED:
		if (ipc_get_u64(&in, &pid) == -1 || ipc_get_u64(&in,
		    &status) == -1 || status > UINT_MAX)
			break;
		for (m = members; m != NULL; m = m->next)
			if (m->parent == parent && (uint64_t)m->pid == pid)
				break;
		if (m == NULL)
			break;
		member_gone(m, (int)status);
		return;
	}
	member_stop(parent, "sent a message a post-login parent may not");
}

void
pools_channel(int fd)
{
	struct member *m;
	int r;

	for (m = members; m != NULL && m->chan != fd; m = m->next)
		;
	if (m == NULL)
		return;
	if ((r = ipc_recv(fd, &in, 0)) != 1) {
		if (r == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		/* ECONNRESET: it exited with a message of ours unread. */
		if (r == -1 && errno != ECONNRESET)
			member_stop(m, "sent a message that does not decode");
		close(m->chan);		/* gone: reaped soon */
		m->chan = -1;
		return;
	}
	if (m->is_parent)
		msg_parent(m);
	else switch (in.type) {
	case POOL_READY:
		if (m->state != M_STARTING) {
			member_stop(m, "said ready twice");
			break;
		}
		member_state(m, M_IDLE);
		m->pool->failures = 0;
		if (!m->pool->announced) {
			m->pool->announced = 1;
			log_info("pool %s: ready (%s)", m->pool->name,
			    m->pool->program);
		}
		break;
	case POOL_CONN:
		msg_conn(m);
		break;
	case POOL_IDLE:
		member_uncount(m);
		if (m->state == M_BUSY)
			member_state(m, M_IDLE);
		break;
	case POOL_SPOOL_NEW:
	case POOL_SPOOL_COMMIT:
	case POOL_SPOOL_ABORT:
		msg_spool(m);
		break;
	case POOL_HANDOFF:
		msg_handoff(m);
		break;
	default:
		member_stop(m, "sent an unknown message");
		break;
	}
	if (in.fd != -1) {
		close(in.fd);
		in.fd = -1;
	}
}

void
pools_round_end(void)
{
	handoffs_run();
}

void
pools_poll_fds(struct pollfd *pfd, size_t *n, size_t max)
{
	struct member *m;

	for (m = members; m != NULL && *n < max; m = m->next)
		if (m->chan != -1)
			pfd[(*n)++] = (struct pollfd){ m->chan, POLLIN, 0 };
}

int
pools_tend(void)
{
	struct pool_def *p;
	struct member *m;
	time_t now = time(NULL);
	long long cap;
	size_t i;
	int wait = -1, starting;

	spool_tend();

	for (i = 0; i < npools; i++) {
		p = &pools[i];
		if (!p->active || !program_built(p->program))
			continue;
		if (p->hold_until > now) {
			wait = (int)(p->hold_until - now) * 1000;
			continue;
		}
		starting = forks_pending(p);
		for (m = members; m != NULL; m = m->next)
			if (m->pool == p && m->state == M_STARTING &&
			    m->gen == generation && !m->is_parent)
				starting++;
		cap = p->max_sessions + (p->post_login || p->event_loop ? 0 :
		    SPARE_REFUSERS);
		/* Spares to take the next clients (and waiting logins). */
		while (p->nprocs + forks_pending(p) < cap && p->nidle +
		    starting < p->min_idle +
		    (p->post_login ? (long long)nhandoffs : 0)) {
			member_start(p);
			starting++;
		}
	}
	/* Idle beyond the spares for long: let them go. */
	for (m = members; m != NULL; m = m->next) {
		p = m->pool;
		if (m->state != M_IDLE || m->exit_sent ||
		    p->nidle <= p->min_idle)
			continue;
		if (now - m->since >= IDLE_SURPLUS) {
			ipc_begin(&out, POOL_EXIT);
			(void)ipc_send(m->chan, &out, -1);
			m->exit_sent = 1;
		} else if (wait < 0 || (now - m->since + 1) * 1000 < wait)
			wait = (int)(IDLE_SURPLUS - (now - m->since)) * 1000;
	}
	return wait;
}

/* m is gone (its status as waitpid(2) gives it): forget it. */
static void
member_gone(struct member *m, int status)
{
	struct member **pp, *c;
	struct pool_def *p = m->pool;
	pid_t pid = m->pid;
	size_t i;

	for (pp = &members; *pp != m; pp = &(*pp)->next)
		;
	*pp = m->next;
	if (m->is_parent) {
		/* Its children ended with it (they die with their parent). */
		for (;;) {
			for (c = members; c != NULL && c->parent != m;
			    c = c->next)
				;
			if (c == NULL)
				break;
			member_gone(c, SIGTERM);
		}
		if (p->parent == m)
			p->parent = NULL;
	} else {
		if (m->state == M_IDLE)
			p->nidle--;
		p->nprocs--;
	}
	member_uncount(m);
	if (m->spare_fd != -1) {
		close(m->spare_fd);
		m->spare_fd = -1;
	}
	for (i = 0; i < MEMBER_SPOOLS; i++)	/* never committed */
		if (m->spool[i][0] != '\0') {
			spool_drop(m->slot[i]);
			log_info("qid=%s not confirmed: its writer (pid %ld) "
			    "died", m->spool[i], (long)pid);
		}
	for (i = 0; i < nhandoffs; i++)
		if (handoffs[i].from == m)
			handoffs[i].from = NULL;
	if (WIFEXITED(status) && WEXITSTATUS(status) == SANDBOX_EXIT_DENIED)
		log_err("pool %s: %s (pid %ld) made a system call its sandbox "
		    "does not allow, and was ended", p->name, p->program,
		    (long)pid);
	else if (WIFSIGNALED(status) && WTERMSIG(status) != SIGTERM)
		log_warn("pool %s: %s (pid %ld) killed by signal %d", p->name,
		    p->program, (long)pid, WTERMSIG(status));
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		log_err("pool %s: %s (pid %ld) exited with status %d",
		    p->name, p->program, (long)pid, WEXITSTATUS(status));
	/* One that never got ready: do not start it in a loop. */
	if (m->state == M_STARTING && !daemon_term) {
		p->failures++;
		p->hold_until = time(NULL) + (p->failures < 6 ?
		    (1 << p->failures) : 60);
	}
	if (m->chan != -1)
		close(m->chan);
	free(m);
}

int
pools_reaped(pid_t pid, int status)
{
	struct member *m;

	for (m = members; m != NULL; m = m->next)
		if (m->pid == pid && m->parent == NULL)
			break;
	if (m == NULL)
		return 0;
	member_gone(m, status);
	return 1;
}

int
pools_signal(int sig)
{
	struct member *m;
	int n = 0;

	for (m = members; m != NULL; m = m->next, n++)
		kill(m->pid, sig);
	return n;
}

size_t
pools_count(void)
{
	struct member *m;
	size_t n = 0;

	for (m = members; m != NULL; m = m->next)
		n++;
	return n;
}
