#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lib/conn.h"
#include "../lib/daemon.h"
#include "../lib/log.h"
#include "../lib/net.h"
#include "../lib/privsep.h"
#include "../lib/sandbox.h"
#include "../lib/tls.h"
#include "../lib/util.h"
#include "authc.h"
#include "conf.h"
#include "layout.h"
#include "pool.h"
#include "service.h"
#include "spool.h"

/* maild answers at once; anything slower means it is gone or stuck. */
#define POOL_REPLY_MS	30000

#define POOL_REFUSE_TIMEOUT	5	/* seconds for a refusal's handshake */

#define POOL_CHILDREN_GRACE	10	/* seconds a stopped parent waits */

void
pool_init(struct pool *p, const struct prog_args *args,
    const struct conf *conf, const char *program, long long max_use,
    struct tls_ctx **tls_r)
{
	char tlserr[512];
	size_t i;

	memset(p, 0, sizeof(*p));
	p->spare_fd = -1;
	if (args->status_fd < 0)
		fatalx("not started by maild (no status channel, -S)");
	p->status = args->status_fd;
	p->fds = args->fds;
	p->nfds = args->nfds;
	p->max_use = max_use;
	*tls_r = NULL;
	for (i = 0; i < args->nfds; i++)
		if (!service_of_program(args->fds[i].service, program))
			fatalx("%s does not serve %s", program,
			    args->fds[i].service);
	/* Keys are read while we may still be root; a post-login process
	 * (no sockets) never speaks TLS itself. */
	if (args->nfds > 0 && conf->tls.cert[0] != '\0' &&
	    (*tls_r = tls_server_ctx(conf->tls.cert, conf->tls.key, tlserr,
	    sizeof(tlserr))) == NULL)
		fatalx("tls: %s", tlserr);
	for (i = 0; i < args->nfds; i++)
		if (service_find(args->fds[i].service)->implicit_tls &&
		    *tls_r == NULL)
			fatalx("%s (implicit TLS) needs tls.cert and tls.key",
			    args->fds[i].service);
}

static void
pool_confine(const struct conf *conf, const char *dir, const char *user,
    int seccomp)
{
	char path[PATH_MAX];
	const char *err;

	if (dir != NULL && layout_path(path, sizeof(path),
	    conf->server.data_dir, dir) == -1)
		fatalx("data_dir too long");
	if (sandbox_enter(dir != NULL ? path : NULL, user, &err) == -1)
		fatalx("cannot confine this process: %s", err);
	privsep_die_with_parent(prog_parent);
	daemon_signals();
	if (seccomp && sandbox_seccomp(SANDBOX_NET_SESSION, &err) == -1)
		fatalx("seccomp: %s", err);
}

void
pool_confine_login(const struct conf *conf)
{
	pool_confine(conf, LAYOUT_EMPTY, conf->server.login_user, 1);
}

void
pool_confine_post_login(const struct conf *conf)
{
	pool_confine(conf, NULL, conf->server.user, 0);
}

void
pool_confine_mail(const char *rw_dir)
{
	const char *rw[2] = { rw_dir, NULL };

	pool_confine_mail_dirs(rw);
}

void
pool_confine_mail_dirs(const char *const *rw_dirs)
{
	static const char *const ro[] = { "/usr", NULL };
	const char *err;
	int r;

	if ((r = sandbox_landlock_dirs(rw_dirs, ro, &err)) == -1)
		fatalx("landlock: %s", err);
	if (r == 1)
		log_warn("landlock: %s: this process is not confined to %s",
		    err, rw_dirs[0]);
	if (sandbox_seccomp(SANDBOX_MAIL_SESSION, &err) == -1)
		fatalx("seccomp: %s", err);
}

void
pool_refuse(int fd, const char *service, struct tls_ctx *tls,
    const char *reply)
{
	const struct service *svc = service_find(service);
	struct conn c;
	const char *err;
	ssize_t n;

	if (svc != NULL && svc->implicit_tls && tls != NULL) {
		net_set_nonblock(fd, 0);
		conn_init(&c, fd, 512, POOL_REFUSE_TIMEOUT);
		if (tls_accept(&c, tls, &err) == 0) {
			conn_write(&c, reply, strlen(reply));
			conn_flush(&c);
		}
		conn_free(&c);		/* close_notify */
	} else {	/* best effort, never blocking: fd is non-blocking */
		n = write(fd, reply, strlen(reply));
		(void)n;
	}
	close(fd);
}

static int
pool_send(struct pool *p, int fd)
{
	if (ipc_send(p->status, &p->out, fd) == -1) {
		log_err("pool: to maild: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* maild's answer: of type (or alt, when not 0). */
static int
pool_reply(struct pool *p, int type, int alt)
{
	for (;;) {
		if (ipc_recv(p->status, &p->in, POOL_REPLY_MS) != 1) {
			log_err("pool: maild did not answer: %s",
			    strerror(errno));
			return -1;
		}
		if (p->in.type == POOL_EXIT) {	/* after this session */
			p->exiting = 1;
			continue;
		}
		if (p->in.type == type || (alt != 0 && p->in.type == alt))
			return 0;
		fatalx("pool: maild sent %u where %u was due", p->in.type,
		    type);
	}
}

/* A request and maild's answer. */
static int
pool_call(struct pool *p, int fd, int type, int alt)
{
	if (pool_send(p, fd) == -1)
		return -1;
	return pool_reply(p, type, alt);
}

void
pool_ready(struct pool *p)
{
	ipc_begin(&p->out, POOL_READY);
	if (pool_send(p, -1) == -1)
		exit(1);
}

int
pool_accept(struct pool *p, volatile sig_atomic_t *stop,
    void (*refuse)(int, const char *, const char *, void *), void *arg,
    char *ip, size_t ipsize, int *port, const char **service)
{
	struct pollfd pfd[1 + PROG_MAX_FDS];
	struct sockaddr_storage ss;
	socklen_t sslen;
	const char *why;
	size_t i;
	int fd, one = 1;

	while (!p->exiting && (p->max_use <= 0 || p->served < p->max_use)) {
		pfd[0] = (struct pollfd){ p->status, POLLIN, 0 };
		for (i = 0; i < p->nfds; i++)
			pfd[1 + i] = (struct pollfd){ p->fds[i].fd, POLLIN, 0 };
		if (daemon_poll_unless(stop, pfd, 1 + p->nfds, -1) == -1) {
			if (errno == EINTR && !*stop)
				continue;
			return -1;
		}
		if (pfd[0].revents != 0) {	/* only POOL_EXIT, or EOF */
			if (ipc_recv(p->status, &p->in, 0) != 1 ||
			    p->in.type == POOL_EXIT)
				return -1;
			continue;
		}
		for (i = 0; i < p->nfds; i++) {
			if (!(pfd[1 + i].revents & POLLIN))
				continue;
			sslen = sizeof(ss);
			/* Another spare may have taken it: EAGAIN. */
			if ((fd = accept4(p->fds[i].fd, (struct sockaddr *)&ss,
			    &sslen, SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1)
				continue;
			net_addr_str((struct sockaddr *)&ss, ip, ipsize, port);
			ipc_begin(&p->out, POOL_CONN);
			ipc_put_str(&p->out, p->fds[i].service);
			ipc_put_str(&p->out, ip);
			if (pool_call(p, -1, POOL_GO, POOL_REFUSE) == -1) {
				close(fd);
				return -1;
			}
			p->served++;
			if (p->in.type == POOL_REFUSE) {
				why = ipc_get_str(&p->in);
				refuse(fd, p->fds[i].service, why != NULL ?
				    why : POOL_REFUSE_BUSY, arg);
				continue;
			}
			net_set_nonblock(fd, 0);
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one));
			*service = p->fds[i].service;
			return fd;
		}
	}
	return -1;
}

void
pool_idle(struct pool *p)
{
	ipc_begin(&p->out, POOL_IDLE);
	(void)pool_send(p, -1);
}

int
pool_spool_new(struct pool *p, char *id, size_t idsize, int *fd_r)
{
	const char *s;

	if (p->spare_fd != -1) {
		if (util_now() - p->spare_at <= POOL_SPARE_SECS &&
		    util_strcpy(id, p->spare_id, idsize) == 0) {
			*fd_r = p->spare_fd;
			p->spare_fd = -1;
			return 0;
		}
		close(p->spare_fd);
		p->spare_fd = -1;
		pool_spool_abort(p, p->spare_id);
	}
	ipc_begin(&p->out, POOL_SPOOL_NEW);
	if (pool_call(p, -1, POOL_SPOOL, 0) == -1)
		return -1;
	if ((s = ipc_get_str(&p->in)) == NULL || p->in.fd == -1 ||
	    util_strcpy(id, s, idsize) == -1) {
		if (p->in.fd != -1)
			close(p->in.fd);
		log_err("pool: maild made no spool file");
		return -1;
	}
	*fd_r = p->in.fd;
	return 0;
}

/* POOL_DONE's status: 0 for "ok", else -1 (logged). */
static int
pool_done(struct pool *p, const char *what)
{
	const char *s = ipc_get_str(&p->in);

	if (s != NULL && strcmp(s, "ok") == 0)
		return 0;
	log_err("pool: %s: %s", what, s != NULL ? s : "no reason given");
	return -1;
}

/*
 * The file is a slot of queue/msg/ (global/spool_slot.c) whose name is
 * durable already: its fsync writes the message and its inode, and no
 * directory.  Sealed, fsync'd and closed before maild hears of it: the
 * close is what tells the queue runner (inotify), and a process that
 * dies after the fsync leaves a message that is delivered, a duplicate
 * at worst (its client heard no "250").
 */
int
pool_spool_commit(struct pool *p, struct spool_writer *w, const char *id)
{
	const char *next;
	int r;

	if (spool_seal(w) == -1) {
		log_err("qid=%s queue file: %s", id, strerror(errno));
		pool_spool_abort(p, id);
		return -1;
	}
	if (spool_sync_close(w) == -1) {
		log_err("qid=%s queue file fsync: %s (queued, not confirmed)",
		    id, strerror(errno));
		pool_spool_abort(p, id);
		return -1;
	}
	ipc_begin(&p->out, POOL_SPOOL_COMMIT);
	ipc_put_str(&p->out, id);
	if (p->keep_spare && p->spare_fd == -1)
		ipc_put_str(&p->out, "next");
	if (pool_call(p, -1, POOL_DONE, 0) == -1)
		return -1;
	r = pool_done(p, "spool commit");
	if (p->in.fd != -1) {
		if ((next = ipc_get_str(&p->in)) != NULL && p->spare_fd == -1 &&
		    util_strcpy(p->spare_id, next, sizeof(p->spare_id)) == 0) {
			p->spare_fd = p->in.fd;
			p->spare_at = util_now();
		} else
			close(p->in.fd);
		p->in.fd = -1;
	}
	return r;
}

void
pool_spool_abort(struct pool *p, const char *id)
{
	ipc_begin(&p->out, POOL_SPOOL_ABORT);
	ipc_put_str(&p->out, id);
	if (pool_call(p, -1, POOL_DONE, 0) == 0)
		(void)pool_done(p, "spool abort");
}

int
pool_handoff(struct pool *p, const struct pool_session *s)
{
	if (pool_handoff_send(p, s) == -1 || pool_reply(p, POOL_DONE, 0) == -1)
		return -1;
	return pool_done(p, "handoff");
}

int
pool_handoff_send(struct pool *p, const struct pool_session *s)
{
	ipc_begin(&p->out, POOL_HANDOFF);
	ipc_put_str(&p->out, s->service);
	ipc_put_str(&p->out, s->token);
	ipc_put_str(&p->out, s->sid);
	ipc_put_str(&p->out, s->client_ip);
	ipc_put_u64(&p->out, (uint64_t)s->client_port);
	ipc_put_str(&p->out, s->relayed ? "1" : "0");
	ipc_put_str(&p->out, s->tag);
	ipc_put(&p->out, s->pending, s->npending);
	return pool_send(p, s->fd);
}

int
pool_session_wait(struct pool *p, volatile sig_atomic_t *stop,
    struct pool_session *s)
{
	const struct ipc_field *f;
	const char *v[7];
	uint64_t port;
	struct pollfd pfd;
	size_t i;
	int r;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	for (;;) {
		pfd = (struct pollfd){ p->status, POLLIN, 0 };
		if (daemon_poll_unless(stop, &pfd, 1, -1) == -1) {
			if (errno == EINTR && !*stop)
				continue;
			return -1;
		}
		if ((r = ipc_recv(p->status, &p->in, 0)) != 1)
			return -1;
		if (p->in.type == POOL_EXIT)
			return -1;
		if (p->in.type == POOL_SESSION)
			break;
		fatalx("pool: maild sent %u to a post-login process",
		    p->in.type);
	}
	for (i = 0; i < 4; i++)
		v[i] = ipc_get_str(&p->in);
	if (ipc_get_u64(&p->in, &port) == -1)
		port = 0;
	v[4] = ipc_get_str(&p->in);
	v[5] = ipc_get_str(&p->in);
	f = ipc_get(&p->in);
	for (i = 0; i < 6; i++)
		if (v[i] == NULL)
			break;
	if (i < 6 || f == NULL || p->in.fd == -1 ||
	    util_strcpy(s->service, v[0], sizeof(s->service)) == -1 ||
	    util_strcpy(s->token, v[1], sizeof(s->token)) == -1 ||
	    util_strcpy(s->sid, v[2], sizeof(s->sid)) == -1 ||
	    util_strcpy(s->client_ip, v[3], sizeof(s->client_ip)) == -1 ||
	    util_strcpy(s->tag, v[5], sizeof(s->tag)) == -1)
		fatalx("pool: a malformed session from maild");
	s->client_port = (int)port;
	s->relayed = strcmp(v[4], "1") == 0;
	s->fd = p->in.fd;
	if ((s->npending = f->len) > 0) {
		s->pending = util_calloc(1, f->len);
		memcpy(s->pending, f->data, f->len);
	}
	return 0;
}

/* Tell maild of each child that has ended; *n is how many are left. */
static void
pool_report_children(struct pool *p, long *n)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		(*n)--;
		ipc_begin(&p->out, POOL_REAPED);
		ipc_put_u64(&p->out, (uint64_t)pid);
		ipc_put_u64(&p->out, (uint64_t)(unsigned int)status);
		(void)pool_send(p, -1);
	}
}

/* One post-login process: 1 in it, 0 in the parent (maild told). */
static int
pool_fork_one(struct pool *p, pid_t self, long *n)
{
	int sv[2] = { -1, -1 };
	pid_t pid = -1;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		log_err("pool: socketpair: %s", strerror(errno));
	else if ((pid = fork()) == -1)
		log_err("pool: fork: %s", strerror(errno));
	if (pid == 0) {
		close(sv[0]);
		close(p->status);
		p->status = sv[1];
		daemon_signals_reset();
		daemon_signals();
		privsep_die_with_parent(self);
		return 1;
	}
	if (sv[1] != -1)
		close(sv[1]);
	ipc_begin(&p->out, POOL_FORKED);	/* pid 0: none this time */
	ipc_put_u64(&p->out, pid > 0 ? (uint64_t)pid : 0);
	if (pid > 0)
		(*n)++;
	(void)pool_send(p, pid > 0 ? sv[0] : -1);
	if (sv[0] != -1)
		close(sv[0]);
	return 0;
}

void
pool_fork_children(struct pool *p, volatile sig_atomic_t *stop)
{
	pid_t self = getpid();
	struct pollfd pfd;
	time_t deadline = 0;
	long n = 0;
	int stopping = 0, r;

	daemon_signals_block();
	for (;;) {
		daemon_chld = 0;
		pool_report_children(p, &n);
		if (*stop && deadline == 0) {
			stopping = 1;
			deadline = time(NULL) + POOL_CHILDREN_GRACE;
		}
		if (stopping && (n <= 0 || (deadline != 0 &&
		    time(NULL) >= deadline)))
			_exit(0);	/* the children left end with us */
		pfd = (struct pollfd){ p->status, POLLIN, 0 };
		if (daemon_poll(&pfd, 1, stopping ? 1000 : -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (pfd.revents == 0)
			continue;
		if ((r = ipc_recv(p->status, &p->in, 0)) != 1) {
			if (r == -1 && (errno == EAGAIN || errno == EINTR))
				continue;
			_exit(r == 0 ? 0 : 1);	/* maild is gone */
		}
		if (p->in.fd != -1)
			fatalx("pool: maild sent a descriptor to a post-login "
			    "parent");
		if (p->in.type == POOL_EXIT)
			stopping = 1;
		else if (p->in.type != POOL_FORK)
			fatalx("pool: maild sent %u to a post-login parent",
			    p->in.type);
		else if (!stopping && pool_fork_one(p, self, &n) == 1)
			return;
	}
}

void
pool_session_free(struct pool_session *s)
{
	free(s->pending);
	explicit_bzero(s, sizeof(*s));
	s->fd = -1;
}

long long
pool_max_use(const struct conf *conf, const char *program)
{
	if (strcmp(program, "smtpd") == 0)
		return conf->smtpd.max_use;
	if (strcmp(program, "pop3d") == 0)
		return conf->pop3d.max_use;
	return conf->imapd.max_use;
}

struct refuse_arg {
	const struct pool_program *pp;
	struct pool_ctx		*ctx;
};

static void
pool_main_refuse(int fd, const char *service, const char *why, void *arg)
{
	struct refuse_arg *ra = arg;

	pool_refuse(fd, service, ra->ctx->tls, strcmp(why, POOL_REFUSE_IP) ==
	    0 ? ra->pp->busy_ip : ra->pp->busy);
}

void
pool_main(int argc, char **argv, const struct pool_program *pp,
    struct pool_ctx *ctx, void *arg)
{
	struct refuse_arg ra = { pp, ctx };
	struct pool_session post;
	const char *service, *err;
	char ip[NET_ADDRSTRLEN];
	int fd, port, post_login;

	ctx->conf = prog_init(argc, argv, pp->name, &ctx->args, NULL);
	post_login = ctx->args.mail_role[0] != '\0';
	pool_init(&ctx->pool, &ctx->args, ctx->conf, pp->name, post_login ?
	    1 : pool_max_use(ctx->conf, pp->name), &ctx->tls);
	/* What needs a file is opened before the confinement (each
	 * post-login process connects on its own: see below). */
	if (!post_login && (ctx->authc = authc_connect(
	    ctx->conf->server.data_dir, &err)) == NULL)
		fatalx("auth service: %s", err);
	if (pp->setup != NULL)
		pp->setup(ctx, arg);
	if (post_login) {
		/* The parent, as server.user: it forks, and returns only in
		 * each child, which the auth service's socket lets in. */
		pool_confine_post_login(ctx->conf);
		pool_ready(&ctx->pool);
		pool_fork_children(&ctx->pool, &daemon_term);
		if ((ctx->authc = authc_connect(ctx->conf->server.data_dir,
		    &err)) == NULL)
			fatalx("auth service: %s", err);
		pool_ready(&ctx->pool);
		if (pool_session_wait(&ctx->pool, &daemon_term, &post) == 0) {
			pp->serve(ctx, post.fd, post.service, post.client_ip,
			    post.client_port, &post, arg);
			pool_session_free(&post);
		}
	} else {
		pool_confine_login(ctx->conf);
		pool_ready(&ctx->pool);
		while ((fd = pool_accept(&ctx->pool, &daemon_term,
		    pool_main_refuse, &ra, ip, sizeof(ip), &port,
		    &service)) != -1) {
			pp->serve(ctx, fd, service, ip, port, NULL, arg);
			pool_idle(&ctx->pool);
			if (authc_broken(ctx->authc))
				break;
		}
	}
	authc_close(&ctx->authc);
	/* _exit: exit(3)'s OpenSSL clean-up only copies pages to free them. */
	_exit(0);
}
