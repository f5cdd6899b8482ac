#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "../lib/conn.h"
#include "../lib/daemon.h"
#include "../lib/ipc.h"
#include "../lib/log.h"
#include "../lib/tls.h"
#include "../lib/util.h"
#include "login.h"
#include "pool.h"
#include "service.h"

static void login_log_tls(const struct conn *, const char *, const char *);

/* Pipelined input a handoff carries; more goes through the relay. */
#define LOGIN_PENDING_MAX	32768

static enum login_result
login_of(enum auth_result r)
{
	switch (r) {
	case AUTH_OK:
		return LOGIN_OK;
	case AUTH_FAIL:
		return LOGIN_FAIL;
	case AUTH_BADPROTO:
		return LOGIN_BADPROTO;
	case AUTH_NOMECH:
		return LOGIN_NOMECH;
	default:
		return LOGIN_TEMPFAIL;
	}
}

static const char *const login_words[] = {
	[LOGIN_OK] = "ok", [LOGIN_FAIL] = "failed",
	[LOGIN_CANCELLED] = "cancelled", [LOGIN_BADPROTO] = "malformed",
	[LOGIN_NOMECH] = "no-such-mechanism", [LOGIN_TOOLONG] = "too-long",
	[LOGIN_TEMPFAIL] = "tempfail", [LOGIN_GONE] = "client-gone",
};

/* The verdict: remembered, counted and logged. */
static enum login_result
login_done(struct login *l, enum login_result r)
{
	l->user[0] = l->token[0] = '\0';
	if (r == LOGIN_OK) {
		util_strcpy(l->user, authc_user(l->authc), sizeof(l->user));
		util_strcpy(l->token, authc_token(l->authc), sizeof(l->token));
	} else if (r == LOGIN_FAIL)
		l->failures++;
	log_info("sid=%s client=[%s] auth mech=%s user=%s result=%s "
	    "delay=%us", l->sid, l->client_ip, l->mech,
	    l->user[0] != '\0' ? l->user : "-", login_words[r],
	    r == LOGIN_FAIL ? authc_delay(l->authc) : 0);
	return r;
}

enum login_result
login_sasl(struct login *l, const char *mech, const char *initial)
{
	const char *challenge = NULL;
	enum auth_result r;
	char *line;
	size_t len;

	/* A name, never the client's line: the exchange reuses its buffer. */
	if (strlen(mech) > AUTH_MAX_MECH ||
	    mech[strspn(mech, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_")] != '\0') {
		util_strcpy(l->mech, "?", sizeof(l->mech));
		return login_done(l, LOGIN_NOMECH);
	}
	util_strcpy(l->mech, mech, sizeof(l->mech));
	util_upper(l->mech);
	r = authc_start(l->authc, l->service, l->client_ip,
	    l->conn->tls != NULL, l->mech, initial, &challenge);
	while (r == AUTH_CONTINUE) {
		conn_printf(l->conn, "%s%s\r\n", l->challenge, challenge);
		switch (conn_getcmd(l->conn, &line, &len)) {
		case CONN_LINE:
			break;
		case CONN_TOOLONG:
			authc_cancel(l->authc);
			return login_done(l, LOGIN_TOOLONG);
		case CONN_NUL:
			authc_cancel(l->authc);
			return login_done(l, LOGIN_BADPROTO);
		default:
			authc_cancel(l->authc);
			return login_done(l, LOGIN_GONE);
		}
		if (strcmp(line, "*") == 0) {	/* RFC 4954 §4, 3501 §6.2.2 */
			authc_cancel(l->authc);
			return login_done(l, LOGIN_CANCELLED);
		}
		r = authc_step(l->authc, line, &challenge);
	}
	return login_done(l, login_of(r));
}

enum login_result
login_password(struct login *l, const char *how, const char *user,
    const char *password)
{
	util_strcpy(l->mech, how, sizeof(l->mech));
	return login_done(l, login_of(authc_password(l->authc, l->service,
	    l->client_ip, l->conn->tls != NULL, user, password)));
}

int
login_exhausted(const struct login *l)
{
	return l->failures >= l->max_failures;
}

int
login_starttls(struct conn *c, struct tls_ctx *tls, const char *sid,
    const char *client_ip, const char *command)
{
	const char *err;
	char how[16];
	size_t discarded;

	if (tls_starttls(c, tls, &discarded, &err) == -1) {
		log_info("sid=%s client=[%s] %s failed: %s", sid, client_ip,
		    command, err);
		return -1;
	}
	if (discarded > 0)
		log_warn("sid=%s client=[%s] discarded %zu octets pipelined "
		    "after %s", sid, client_ip, discarded, command);
	util_strcpy(how, command, sizeof(how));
	util_lower(how);
	login_log_tls(c, sid, how);
	return 0;
}

static void
login_log_tls(const struct conn *c, const char *sid, const char *how)
{
	log_info("sid=%s %s version=%s cipher=%s bits=%d", sid, how,
	    tls_version(c), tls_cipher(c), tls_cipher_bits(c));
}

int
login_connect(struct conn *c, struct tls_ctx *tls, const char *sid,
    const char *service, const char *client_ip, int client_port)
{
	const char *err;

	log_info("sid=%s connect client=[%s]:%d service=%s", sid, client_ip,
	    client_port, service);
	if (!service_find(service)->implicit_tls)
		return 0;
	if (tls_accept(c, tls, &err) == -1) {
		log_info("sid=%s client=[%s] TLS handshake failed: %s", sid,
		    client_ip, err);
		return -1;
	}
	login_log_tls(c, sid, "tls");
	return 0;
}

int
login_redeem(struct conn *c, struct authc *a, const struct pool_session *post,
    const char *service, char *user, size_t size)
{
	if (conn_feed(c, post->pending, post->npending) == -1 ||
	    authc_redeem(a, post->token, service, user, size) != 1) {
		log_err("sid=%s the login token was not honoured", post->sid);
		return -1;
	}
	return 0;
}

/*
 * What the post-login process sent, into buf: the octets, 0 at its end,
 * -1 on error.  *back is set when the last octet was login_hand_back()'s
 * mark (left out of the count): the client is the login process's again.
 */
static ssize_t
relay_read(int pair, char *buf, size_t size, int *back)
{
	ssize_t n;
	int fd, extra, flags;

	if ((n = ipc_recvmsg(pair, buf, size, &fd, &extra, &flags)) <= 0)
		return n;
	/* A stream socket ends a read at the octet descriptors came with:
	 * the mark is the last one. */
	if (fd != -1) {
		close(fd);
		*back = 1;
	}
	if (extra)
		*back = 1;
	if (*back)
		n--;			/* the mark */
	return n;
}

/* Between the TLS session and the post-login process, until one ends:
 * 1 when the post-login process handed the client back, else 0. */
static int
login_relay(struct conn *c, int pair)
{
	char buf[16384];
	struct pollfd pfd[2];
	ssize_t n;
	int back = 0;

	for (;;) {
		pfd[0] = (struct pollfd){ c->fd, POLLIN, 0 };
		pfd[1] = (struct pollfd){ pair, POLLIN, 0 };
		/* What TLS has decrypted already, poll(2) cannot see. */
		if (conn_pending(c) == 0 &&
		    daemon_poll_unless(c->stop != NULL ? c->stop :
		    &daemon_term, pfd, 2, -1) == -1) {
			if (errno == EINTR && !daemon_term)
				continue;
			return 0;
		}
		if (conn_pending(c) > 0 || (pfd[0].revents & (POLLIN |
		    POLLHUP | POLLERR))) {
			if ((n = conn_read(c, buf, sizeof(buf))) <= 0 ||
			    util_write_all(pair, buf, (size_t)n) == -1)
				return 0;
		}
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			if ((n = relay_read(pair, buf, sizeof(buf), &back)) <
			    0 || (n == 0 && !back))
				return 0;
			conn_write(c, buf, (size_t)n);
			if (conn_flush(c) == -1)
				return 0;
			if (back)
				return 1;
		}
	}
}

int
login_hand_back(int fd, const void *last, size_t len)
{
	char mark = 'U';
	struct iovec iov[2] = { { (void *)last, len }, { &mark, 1 } };

	/* The mark is an octet that carries a descriptor (any: this one),
	 * which no octet of the client's stream does.  The last reply goes
	 * in the same message, so the login process has taken the client
	 * back before the client sees it and can say more. */
	return ipc_sendmsg(fd, iov, 2, fd) == (ssize_t)len + 1 ? 0 : -1;
}

int
login_handoff(struct login *l, struct pool *pool, const char *service,
    int client_port, const char *tag)
{
	struct pool_session s;
	char pending[LOGIN_PENDING_MAX];
	int pair[2] = { -1, -1 }, r;

	memset(&s, 0, sizeof(s));
	if (util_strcpy(s.service, service, sizeof(s.service)) == -1 ||
	    util_strcpy(s.token, l->token, sizeof(s.token)) == -1 ||
	    util_strcpy(s.sid, l->sid, sizeof(s.sid)) == -1 ||
	    util_strcpy(s.client_ip, l->client_ip, sizeof(s.client_ip)) ==
	    -1 || util_strcpy(s.tag, tag, sizeof(s.tag)) == -1) {
		log_err("sid=%s handoff: a field too long", l->sid);
		return -1;
	}
	s.client_port = client_port;
	/* With TLS, or more pipelined than one message holds: relay. */
	s.relayed = l->conn->tls != NULL ||
	    lr_pending(&l->conn->lr) > sizeof(pending);
	if (s.relayed) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
		    pair) == -1) {
			log_err("sid=%s handoff: socketpair: %s", l->sid,
			    strerror(errno));
			return -1;
		}
		s.fd = pair[1];
	} else {
		s.fd = l->conn->fd;
		s.npending = lr_take(&l->conn->lr, pending, sizeof(pending));
		s.pending = pending;
	}
	r = pool_handoff(pool, &s);
	if (s.relayed)
		close(pair[1]);
	if (r == -1) {
		if (s.relayed)
			close(pair[0]);
		return -1;
	}
	log_info("sid=%s user=%s handed to a post-login process%s", l->sid,
	    l->user, s.relayed ? " (TLS relayed)" : "");
	if (s.relayed) {
		r = login_relay(l->conn, pair[0]);
		close(pair[0]);
		if (r == 1) {
			log_info("sid=%s user=%s unauthenticated: the client "
			    "is back at the login", l->sid, l->user);
			l->user[0] = l->mech[0] = '\0';
			explicit_bzero(l->token, sizeof(l->token));
			return 1;
		}
	}
	return 0;
}
