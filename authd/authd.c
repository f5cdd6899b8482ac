/*
 * authd: the auth service.
 *
 * SECURITY: the only process that opens users.db, and so the only one
 * that can read a password hash.  Started by maild as root, it binds its
 * two sockets (authd.sock for sessions, delivery and post-login
 * processes, group server.user, 0660; authd.control for mailctl, 0600),
 * loads the SASL plugins and drops to server.auth_user before it reads a
 * single request.  It trusts no client: every message is decoded by
 * lib/ipc's bounds-checked decoder, a client that breaks the protocol
 * (a malformed message, a second request before the first is answered,
 * a reply it does not read) is disconnected, and what a client may ask
 * depends on the socket it came in on.  Passwords are never logged;
 * each exchange and its verdict are (user, client address, mechanism,
 * delay), for the administrator and for fail2ban.
 *
 * One event loop answers lookups at once and hands SASL steps to the
 * work threads (work.c); a verdict is held back until policy.c says its
 * turn has come (an account or address under attack).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../global/authproto.h"
#include "../global/layout.h"
#include "../global/prog.h"
#include "../lib/daemon.h"
#include "../lib/log.h"
#include "../lib/privsep.h"
#include "../lib/util.h"
#include "authd.h"

#define AUTHD_MAX_CLIENTS	8192

struct conf	*authd_conf;
struct userdb	*authd_db;

static struct client	*clients;
static size_t		 nclients;
static struct ipc_in	 req;
static struct ipc_out	 rep;

/* Bind path as a SOCK_SEQPACKET socket owned by uid:gid with mode. */
static int
authd_listen(const char *name, uid_t uid, gid_t gid, mode_t mode)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (layout_path(sun.sun_path, sizeof(sun.sun_path),
	    authd_conf->server.data_dir, name) == -1)
		fatalx("data_dir too long for a UNIX socket path");
	unlink(sun.sun_path);	/* a stale one from an authd that died */
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fd, SOMAXCONN) == -1)
		fatal("%s", sun.sun_path);
	if ((geteuid() == 0 && chown(sun.sun_path, uid, gid) == -1) ||
	    chmod(sun.sun_path, mode) == -1)
		fatal("%s", sun.sun_path);
	return fd;
}

static void
authd_unlisten(int fd, const char *name)
{
	char path[PATH_MAX];

	close(fd);
	if (layout_path(path, sizeof(path), authd_conf->server.data_dir,
	    name) == 0)
		unlink(path);
}

static void
client_accept(int lfd, int control)
{
	struct client *c;
	int fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) != -1) {
		if (nclients >= AUTHD_MAX_CLIENTS) {
			log_warn("%d clients already: refusing one",
			    AUTHD_MAX_CLIENTS);
			close(fd);
			continue;
		}
		c = util_calloc(1, sizeof(*c));
		c->fd = fd;
		c->control = control;
		util_strcpy(c->ip, "?", sizeof(c->ip));
		c->next = clients;
		clients = c;
		nclients++;
	}
}

/* Forget a client; one with work in a thread goes when that returns. */
static void
client_close(struct client *c)
{
	if (c->fd != -1) {
		close(c->fd);
		c->fd = -1;
	}
	c->closing = 1;
	if (c->work != NULL)
		return;
	pthread_mutex_lock(&authd_lock);
	auth_session_free(&c->sasl);
	pthread_mutex_unlock(&authd_lock);
	free(c->held);
	c->held = NULL;
}

static void
clients_reap(void)
{
	struct client **pp, *c;

	for (pp = &clients; (c = *pp) != NULL;)
		if (c->closing && c->work == NULL) {
			*pp = c->next;
			free(c);
			nclients--;
		} else
			pp = &c->next;
}

/* Send o to c at once (a client that does not read is dropped). */
static void
client_send(struct client *c, const struct ipc_out *o)
{
	if (ipc_send(c->fd, o, -1) == -1) {
		log_warn("client: %s: disconnected", strerror(errno));
		client_close(c);
	}
}

static void
reply_error(struct client *c, const char *kind)
{
	ipc_begin(&rep, AR_ERROR);
	ipc_put_u64(&rep, c->conv);
	ipc_put_str(&rep, kind);
	client_send(c, &rep);
}

static int
service_valid(const char *s)
{
	return s != NULL && (strcmp(s, "smtp") == 0 ||
	    strcmp(s, "imap") == 0 || strcmp(s, "pop") == 0 ||
	    strcmp(s, "web") == 0);
}

/* AP_START, AP_STEP, AP_PASSWORD: a step for a work thread. */
static void
auth_request(struct client *c)
{
	const char *service = NULL, *ip = NULL, *secured = NULL;
	struct work *w;
	uint64_t conv;
	unsigned char a[16];

	if (ipc_get_u64(&req, &conv) == -1) {
		client_close(c);
		return;
	}
	c->conv = conv;
	w = util_calloc(1, sizeof(*w));
	w->client = c;
	if (req.type != AP_STEP) {
		service = ipc_get_str(&req);
		ip = ipc_get_str(&req);
		secured = ipc_get_str(&req);
		if (!service_valid(service) || ip == NULL || secured == NULL) {
			work_free(w);
			client_close(c);
			return;
		}
		util_strcpy(c->service, service, sizeof(c->service));
		/* a new login: the last one proves nothing more */
		explicit_bzero(c->submit_user, sizeof(c->submit_user));
		explicit_bzero(c->submit_proof, sizeof(c->submit_proof));
		/* The key of the address's counters: only a real address. */
		util_strcpy(c->ip, inet_pton(AF_INET, ip, a) == 1 ||
		    inet_pton(AF_INET6, ip, a) == 1 ? ip : "?", sizeof(c->ip));
		c->secured = strcmp(secured, "1") == 0;
	}
	switch (req.type) {
	case AP_START:
		w->op = WORK_START;
		if ((w->mech = util_strdup_null(ipc_get_str(&req))) == NULL)
			goto bad;
		if (ipc_left(&req) > 0 &&
		    (w->input = util_strdup_null(ipc_get_str(&req))) == NULL)
			goto bad;
		break;
	case AP_STEP:
		w->op = WORK_STEP;
		if ((w->input = util_strdup_null(ipc_get_str(&req))) == NULL)
			goto bad;
		break;
	default:
		w->op = WORK_PASSWORD;
		if ((w->user = util_strdup_null(ipc_get_str(&req))) == NULL ||
		    (w->password = util_strdup_null(ipc_get_str(&req))) ==
		    NULL)
			goto bad;
		break;
	}
	/* Passwords only over TLS, whatever a session offered. */
	if (req.type != AP_STEP && !c->secured &&
	    !authd_conf->auth.allow_plaintext) {
		work_free(w);
		reply_error(c, AUTH_ERR_NOMECH);
		return;
	}
	c->work = w;
	work_submit(w);
	return;
bad:
	work_free(w);
	reply_error(c, AUTH_ERR_BADPROTO);
}

/* A step came back from its thread: answer now, or at its turn. */
static void
auth_finish(struct client *c, struct work *w)
{
	const char *user = w->result == AUTH_OK ? w->authed : w->attempted;
	char token[AUTH_TOKEN_LEN + 1];
	unsigned int delay = 0;
	double at;
	int ok = w->result == AUTH_OK;

	switch (w->result) {
	case AUTH_CONTINUE:
		ipc_begin(&rep, AR_CONTINUE);
		ipc_put_u64(&rep, c->conv);
		ipc_put_str(&rep, w->challenge != NULL ? w->challenge : "");
		client_send(c, &rep);
		return;
	case AUTH_OK:
	case AUTH_FAIL:
		break;
	case AUTH_BADPROTO:
		reply_error(c, AUTH_ERR_BADPROTO);
		return;
	case AUTH_NOMECH:
		reply_error(c, AUTH_ERR_NOMECH);
		return;
	default:
		reply_error(c, AUTH_ERR_TEMPFAIL);
		return;
	}
	if ((at = policy_turn(user, c->ip, ok, &delay)) < 0) {
		policy_count(user, c->ip, ok);
		log_warn("auth service=%s client=[%s] user=%s result=refused "
		    "(too many attempts on this account or address: try "
		    "later)", c->service, c->ip, log_str(user));
		reply_error(c, AUTH_ERR_TEMPFAIL);
		return;
	}
	policy_count(user, c->ip, ok);
	/* One line per verdict, for the administrator and fail2ban. */
	log_info("auth service=%s client=[%s] user=%s result=%s delay=%us%s",
	    c->service, c->ip, user[0] != '\0' ? log_str(user) : "-",
	    ok ? "ok" : "failed", delay, w->cached ? " (cached)" : "");
	c->held = util_calloc(1, sizeof(*c->held));
	if (ok) {
		lookup_token_new(user, c->service, token);
		if (strcmp(c->service, "smtp") == 0) {
			util_strcpy(c->submit_user, user,
			    sizeof(c->submit_user));
			util_strcpy(c->submit_proof, token,
			    sizeof(c->submit_proof));
		}
		ipc_begin(c->held, AR_OK);
		ipc_put_u64(c->held, c->conv);
		ipc_put_str(c->held, user);
		ipc_put_str(c->held, token);
	} else {
		ipc_begin(c->held, AR_FAIL);
		ipc_put_u64(c->held, c->conv);
		ipc_put_u64(c->held, delay);
	}
	c->held_until = at;
}

static void
client_request(struct client *c)
{
	int r;

	if ((r = ipc_recv(c->fd, &req, -1)) != 1) {
		if (r == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r == -1)
			log_warn("client: %s: disconnected", strerror(errno));
		client_close(c);
		return;
	}
	if (req.fd != -1) {
		close(req.fd);
		req.fd = -1;
	}
	if (c->work != NULL || c->held != NULL) {
		log_warn("client: a request before the last was answered: "
		    "disconnected");
		client_close(c);
		return;
	}
	switch (req.type) {
	case AP_START:
	case AP_STEP:
	case AP_PASSWORD:
		if (c->control) {
			client_close(c);
			return;
		}
		auth_request(c);
		break;
	case AP_CANCEL:
		if (ipc_get_u64(&req, &c->conv) == -1) {
			client_close(c);
			return;
		}
		pthread_mutex_lock(&authd_lock);
		auth_session_free(&c->sasl);
		pthread_mutex_unlock(&authd_lock);
		reply_error(c, AUTH_ERR_BADPROTO);
		break;
	case AP_USAGE_SERVE:
		/* The queue's usage process: from now on authd asks on
		 * this connection (quota.c); it is no client's any more. */
		if (!quota_serve_allowed(c)) {
			client_close(c);
			return;
		}
		ipc_begin(&rep, AR_ANSWER);
		ipc_put_str(&rep, AA_YES);
		if (ipc_send(c->fd, &rep, -1) == 0) {
			quota_serve_take(c->fd);
			c->fd = -1;
		}
		client_close(c);
		break;
	default:
		lookup_answer(&req, c, &rep);
		client_send(c, &rep);
		break;
	}
}

/* Send the held answers whose turn has come; the wait until the next. */
static int
held_due(void)
{
	struct client *c;
	double now = policy_now(), next = -1;

	for (c = clients; c != NULL; c = c->next) {
		if (c->held == NULL || c->closing)
			continue;
		if (c->held_until <= now) {
			client_send(c, c->held);
			free(c->held);
			c->held = NULL;
		} else if (next < 0 || c->held_until < next)
			next = c->held_until;
	}
	return next < 0 ? -1 : (int)((next - now) * 1000) + 1;
}

/*
 * One auth service per data directory: an old one still winding down
 * (its maild was killed) must not unlink the sockets a new one bound.
 */
static void
lock_sockets(void)
{
	char path[PATH_MAX];

	if (layout_path(path, sizeof(path), authd_conf->server.data_dir,
	    LAYOUT_AUTHD_PID) == -1)
		fatalx("data_dir too long");
	(void)daemon_lock(path, "auth service", 20, 1);
}

int
main(int argc, char **argv)
{
	struct prog_args args;
	struct pollfd *pfd;
	struct client *c, **byidx;
	struct work *w, *next;
	const char *err;
	uid_t uid = 0;
	gid_t gid = 0, mail_gid = 0;
	int lfd, cfd, timeout, n;
	size_t i, np;

	authd_conf = prog_init(argc, argv, "authd", &args, NULL);
	lock_sockets();
	if (geteuid() == 0) {
		uid_t mail_uid;

		if (privsep_lookup(authd_conf->server.auth_user, &uid, &gid,
		    &err) == -1 || privsep_lookup(authd_conf->server.user,
		    &mail_uid, &mail_gid, &err) == -1)
			fatalx("%s", err);
		authd_mail_uid = mail_uid;
	} else
		authd_mail_uid = geteuid();	/* tests: one user for all */
	/* Sessions (and server.user's group: delivery, post-login) may
	 * connect to one; only root (mailctl) to the other. */
	lfd = authd_listen(LAYOUT_AUTHD_SOCK, uid, mail_gid, 0660);
	cfd = authd_listen(LAYOUT_AUTHD_CONTROL, uid, gid, 0600);
	if (auth_init(&err) == -1)
		fatalx("sasl: %s", err);
	if (privsep_drop(authd_conf->server.auth_user, &err) == -1)
		fatalx("cannot drop privileges: %s", err);
	privsep_die_with_parent(prog_parent);
	daemon_signals();
	daemon_signals_block();
	if ((authd_db = userdb_open(authd_conf->server.data_dir, 0,
	    &err)) == NULL)
		fatalx("users.db: %s", err);
	policy_init();
	if (websess_init(&err) == -1)
		fatalx("webmail sessions: %s", err);
	if (work_init((int)authd_conf->auth.workers, &err) == -1)
		fatalx("threads: %s", err);
	log_info("ready: %lld thread(s) for the exchanges, login cache %llds",
	    authd_conf->auth.workers, authd_conf->auth.cache_ttl);

	pfd = util_calloc(AUTHD_MAX_CLIENTS + 3, sizeof(*pfd));
	byidx = util_calloc(AUTHD_MAX_CLIENTS, sizeof(*byidx));
	while (!daemon_term) {
		timeout = held_due();
		clients_reap();
		pfd[0] = (struct pollfd){ lfd, POLLIN, 0 };
		pfd[1] = (struct pollfd){ cfd, POLLIN, 0 };
		pfd[2] = (struct pollfd){ work_done_fd(), POLLIN, 0 };
		for (np = 0, c = clients; c != NULL; c = c->next) {
			if (c->closing)
				continue;
			byidx[np] = c;
			pfd[3 + np++] = (struct pollfd){ c->fd, POLLIN, 0 };
		}
		if ((n = daemon_poll(pfd, 3 + np, timeout)) == -1) {
			if (errno != EINTR)
				fatal("poll");
			continue;
		}
		if (pfd[0].revents & POLLIN)
			client_accept(lfd, 0);
		if (pfd[1].revents & POLLIN)
			client_accept(cfd, 1);
		if (pfd[2].revents & POLLIN)
			for (w = work_done(); w != NULL; w = next) {
				next = w->next;
				c = w->client;
				c->work = NULL;
				if (!c->closing)
					auth_finish(c, w);
				else
					client_close(c);
				work_free(w);
			}
		for (i = 0; i < np; i++)
			if (pfd[3 + i].revents & (POLLIN | POLLHUP | POLLERR) &&
			    !byidx[i]->closing)
				client_request(byidx[i]);
	}
	/*
	 * Let go of the sockets first: no session may connect to a service
	 * on its way out (a new one, waiting for the lock, binds them).
	 */
	authd_unlisten(lfd, LAYOUT_AUTHD_SOCK);
	authd_unlisten(cfd, LAYOUT_AUTHD_CONTROL);
	log_info("stopping");
	free(pfd);
	free(byidx);
	return 0;
}
