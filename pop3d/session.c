/*
 * One POP3 session.  States (RFC 1939 §3): AUTHORIZATION until the user
 * is known and the maildrop locked, then TRANSACTION; QUIT there enters
 * UPDATE, the only place DELE takes effect.  A connection that drops
 * without QUIT deletes nothing.
 *
 * Every reply starts "+OK" or "-ERR", with RFC 2449/3206 response codes
 * in brackets where a client can act on them ([AUTH], [IN-USE],
 * [SYS/TEMP]).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "../global/login.h"
#include "../global/pool.h"
#include "../global/service.h"
#include "../lib/daemon.h"
#include "../lib/log.h"
#include "../lib/tls.h"
#include "../maildir/maildir.h"
#include "pop3d.h"

enum pop3_state { S_AUTH = 0x01, S_TRANS = 0x02 };
#define S_ANY	(S_AUTH | S_TRANS)

#define CMD_NEEDS_ARG	0x01
#define CMD_NO_ARG	0x02
#define CMD_SECRET	0x04	/* never log the argument */

struct pop3_session {
	struct conn	 conn;
	struct pool_ctx	*env;
	struct conf	*conf;
	char		 id[SESSION_ID_LEN + 1];
	char		 client_ip[NET_ADDRSTRLEN];
	enum pop3_state	 state;
	char		 user[320];	/* USER given, or authenticated */
	int		 authenticated;
	struct authc	*authc;		/* env's */
	struct login	 login;
	const char	*service;	/* where the client came in */
	int		 client_port;
	int		 handed_over;	/* to a post-login process */
	int		 errors;	/* bad commands, for max_errors */
	unsigned long	 nerr;		/* -ERR replies given */
	const char	*cmd_name;	/* of the command running (log) */
	int		 quit;
	int		 broken;	/* the stream is unusable */
	struct maildrop	 md;
	long		 nretr, ndele;
	uint64_t	 retr_octets;
};

struct pop3_cmd {
	const char	*name;
	unsigned int	 states;
	unsigned int	 flags;
	int		(*fn)(struct pop3_session *, char *);	/* 0 ok, -1 bad */
};

static void
pop3_reply(struct pop3_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
pop3_reply(struct pop3_session *s, const char *fmt, ...)
{
	size_t start = s->conn.out.len;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&s->conn.out, fmt, ap);
	va_end(ap);
	/* An -ERR leaves a trace (our text, never the command's
	 * arguments: PASS's is a password). */
	if (s->conn.out.len - start >= 4 &&
	    memcmp(s->conn.out.data + start, "-ERR", 4) == 0) {
		s->nerr++;
		log_info("sid=%s command=%s reply=%.*s", s->id,
		    s->cmd_name != NULL ? s->cmd_name : "-",
		    (int)(s->conn.out.len - start), s->conn.out.data + start);
	}
	buf_puts(&s->conn.out, "\r\n");
	/* Pipelined commands (RFC 2449 §6.6) get their replies together. */
	if (s->conn.out.len > 16384)
		conn_flush(&s->conn);
}

static void
pop3_set_state(struct pop3_session *s, enum pop3_state to)
{
	if (s->state != to)
		log_debug("sid=%s state %s -> %s", s->id,
		    s->state == S_AUTH ? "authorization" : "transaction",
		    to == S_AUTH ? "authorization" : "transaction");
	s->state = to;
}

static int
pop3_plaintext_ok(const struct pop3_session *s)
{
	return s->conn.tls != NULL || s->conf->auth.allow_plaintext;
}

static int
cmd_capa(struct pop3_session *s, char *arg)
{
	(void)arg;
	pop3_reply(s, "+OK Capability list follows");
	pop3_reply(s, "TOP");
	pop3_reply(s, "UIDL");
	pop3_reply(s, "RESP-CODES");
	pop3_reply(s, "AUTH-RESP-CODE");
	pop3_reply(s, "PIPELINING");
	if (s->state == S_AUTH) {
		if (pop3_plaintext_ok(s)) {
			pop3_reply(s, "USER");
			pop3_reply(s, "SASL " AUTH_MECHS);
		}
		if (s->conn.tls == NULL && s->env->tls != NULL)
			pop3_reply(s, "STLS");
	}
	pop3_reply(s, "IMPLEMENTATION maild");
	pop3_reply(s, ".");
	return 0;
}

static int
cmd_stls(struct pop3_session *s, char *arg)
{
	(void)arg;
	if (s->conn.tls != NULL) {
		pop3_reply(s, "-ERR TLS already active");
		return -1;
	}
	if (s->env->tls == NULL) {
		pop3_reply(s, "-ERR [SYS/PERM] TLS not available");
		return -1;
	}
	pop3_reply(s, "+OK Begin TLS negotiation");
	if (login_starttls(&s->conn, s->env->tls, s->id, s->client_ip,
	    "STLS") == -1) {
		s->broken = s->quit = 1;
		return 0;
	}
	s->user[0] = '\0';	/* nothing said in the clear carries over */
	return 0;
}

/* Authenticated as user: lock and open the maildrop. */
static int
pop3_login(struct pop3_session *s, const char *user)
{
	const char *err = "";

	util_strcpy(s->user, user, sizeof(s->user));
	switch (maildrop_open(&s->md, s->conf->server.data_dir, user, &err)) {
	case MAILDROP_OK:
		break;
	case MAILDROP_IN_USE:
		log_info("sid=%s user=%s login refused: maildrop in use",
		    s->id, s->user);
		pop3_reply(s, "-ERR [IN-USE] Mailbox is locked by another "
		    "POP3 session");
		s->user[0] = '\0';
		return -1;
	case MAILDROP_ERROR:
		log_err("sid=%s user=%s maildrop: %s", s->id, s->user, err);
		pop3_reply(s, "-ERR [SYS/TEMP] Cannot open the mailbox");
		s->user[0] = '\0';
		return -1;
	}
	s->conn.deadline = 0;	/* logged in: only the idle timeout now */
	s->authenticated = 1;
	pop3_set_state(s, S_TRANS);
	log_info("sid=%s client=[%s] login user=%s messages=%zu", s->id,
	    s->client_ip, s->user, s->md.nmsgs);
	pop3_reply(s, "+OK Logged in, %zu message(s)", s->md.nmsgs);
	return 0;
}

/* The login path for this session; NULL after replying. */
static struct login *
pop3_login_path(struct pop3_session *s)
{
	if (authc_broken(s->authc)) {
		pop3_reply(s, "-ERR [SYS/TEMP] Temporary authentication "
		    "failure");
		return NULL;
	}
	s->login.conn = &s->conn;
	s->login.authc = s->authc;
	s->login.service = "pop";
	s->login.challenge = "+ ";
	s->login.sid = s->id;
	s->login.client_ip = s->client_ip;
	s->login.max_failures = s->conf->auth.max_failures;
	return &s->login;
}

/* The protocol's answer to a login's outcome; 0, or -1 (a bad command). */
static int
pop3_login_result(struct pop3_session *s, enum login_result r)
{
	switch (r) {
	case LOGIN_OK:
		/* The post-login process answers (+OK, or [IN-USE]). */
		if (login_handoff(&s->login, &s->env->pool, s->service,
		    s->client_port, "") == 0) {
			s->handed_over = s->quit = s->broken = 1;
			return 0;
		}
		pop3_reply(s, "-ERR [SYS/TEMP] Cannot open the mailbox now");
		return 0;
	case LOGIN_FAIL:
		pop3_reply(s, "-ERR [AUTH] Authentication failed");
		if (login_exhausted(&s->login)) {
			pop3_reply(s, "-ERR Too many authentication failures");
			s->quit = 1;
		}
		return 0;
	case LOGIN_CANCELLED:
		pop3_reply(s, "-ERR Authentication cancelled");
		return -1;
	case LOGIN_NOMECH:
		pop3_reply(s, "-ERR Unsupported authentication mechanism");
		return -1;
	case LOGIN_BADPROTO:
		pop3_reply(s, "-ERR Malformed authentication data (bad "
		    "base64?)");
		return -1;
	case LOGIN_TOOLONG:
		pop3_reply(s, "-ERR Line too long");
		return -1;
	case LOGIN_GONE:
		s->quit = 1;
		return 0;
	default:
		pop3_reply(s, "-ERR [SYS/TEMP] Temporary authentication "
		    "failure");
		return 0;
	}
}

static int
cmd_user(struct pop3_session *s, char *arg)
{
	if (!pop3_plaintext_ok(s)) {
		pop3_reply(s, "-ERR [AUTH] Plaintext authentication disallowed "
		    "on non-secure connections: use STLS");
		return -1;
	}
	if (strlen(arg) >= sizeof(s->user)) {
		pop3_reply(s, "-ERR User name too long");
		return -1;
	}
	util_strcpy(s->user, arg, sizeof(s->user));
	pop3_reply(s, "+OK");
	return 0;
}

static int
cmd_pass(struct pop3_session *s, char *arg)
{
	struct login *l;
	char user[320];

	if (!pop3_plaintext_ok(s)) {
		pop3_reply(s, "-ERR [AUTH] Plaintext authentication disallowed "
		    "on non-secure connections: use STLS");
		return -1;
	}
	if (s->user[0] == '\0') {
		pop3_reply(s, "-ERR USER first");
		return -1;
	}
	util_strcpy(user, s->user, sizeof(user));
	s->user[0] = '\0';
	if ((l = pop3_login_path(s)) == NULL)
		return 0;
	return pop3_login_result(s, login_password(l, "pass", user, arg));
}

/* AUTH (RFC 5034): "+ base64" challenges, "*" cancels. */
static int
cmd_auth(struct pop3_session *s, char *arg)
{
	struct login *l;
	char *mech = arg, *initial;

	if (*arg == '\0') {		/* a listing, as many clients ask */
		pop3_reply(s, "+OK");
		if (pop3_plaintext_ok(s)) {
			pop3_reply(s, "PLAIN");
			pop3_reply(s, "LOGIN");
		}
		pop3_reply(s, ".");
		return 0;
	}
	if (!pop3_plaintext_ok(s)) {
		pop3_reply(s, "-ERR [AUTH] Authentication disallowed on "
		    "non-secure connections: use STLS");
		return -1;
	}
	if ((initial = strchr(mech, ' ')) != NULL)
		*initial++ = '\0';
	if ((l = pop3_login_path(s)) == NULL)
		return 0;
	return pop3_login_result(s, login_sasl(l, mech, initial));
}

/* A message number argument; NULL (after replying) if unusable. */
static struct pop3_msg *
pop3_msg_arg(struct pop3_session *s, const char *arg, unsigned long *n_r)
{
	struct pop3_msg *m;
	unsigned long n;
	char *end;

	errno = 0;
	n = strtoul(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || (*end != '\0' && *end != ' ') ||
	    errno != 0) {
		pop3_reply(s, "-ERR Invalid message number");
		return NULL;
	}
	if ((m = maildrop_get(&s->md, n)) == NULL) {
		pop3_reply(s, n >= 1 && n <= s->md.nmsgs ?
		    "-ERR Message %lu already deleted" :
		    "-ERR No such message %lu", n);
		return NULL;
	}
	*n_r = n;
	return m;
}

static int
cmd_stat(struct pop3_session *s, char *arg)
{
	uint64_t octets = 0;
	size_t i, n = 0;

	(void)arg;
	for (i = 0; i < s->md.nmsgs; i++)
		if (!s->md.msgs[i].deleted) {
			n++;
			octets += (uint64_t)s->md.msgs[i].vsize;
		}
	pop3_reply(s, "+OK %zu %llu", n, (unsigned long long)octets);
	return 0;
}

/* LIST and UIDL share their shape: one message, or all of them. */
static int
pop3_listing(struct pop3_session *s, char *arg, int uidl)
{
	char u[64];
	struct pop3_msg *m;
	unsigned long n;
	size_t i;

	if (*arg != '\0') {
		if ((m = pop3_msg_arg(s, arg, &n)) == NULL)
			return -1;
		if (uidl) {
			maildrop_uidl(&s->md, m, u, sizeof(u));
			pop3_reply(s, "+OK %lu %s", n, u);
		} else
			pop3_reply(s, "+OK %lu %lld", n, (long long)m->vsize);
		return 0;
	}
	pop3_reply(s, "+OK");
	for (i = 0; i < s->md.nmsgs; i++) {
		m = &s->md.msgs[i];
		if (m->deleted)
			continue;
		if (uidl) {
			maildrop_uidl(&s->md, m, u, sizeof(u));
			pop3_reply(s, "%zu %s", i + 1, u);
		} else
			pop3_reply(s, "%zu %lld", i + 1, (long long)m->vsize);
	}
	pop3_reply(s, ".");
	return 0;
}

static int
cmd_list(struct pop3_session *s, char *arg)
{
	return pop3_listing(s, arg, 0);
}

static int
cmd_uidl(struct pop3_session *s, char *arg)
{
	return pop3_listing(s, arg, 1);
}

static int
pop3_send(struct pop3_session *s, struct pop3_msg *m, unsigned long n,
    long body_lines)
{
	int r;

	pop3_reply(s, "+OK %lld octets", (long long)m->vsize);
	if ((r = maildrop_send(&s->md, &s->conn, m, body_lines)) == 0) {
		if (body_lines < 0) {
			s->nretr++;
			s->retr_octets += (uint64_t)m->vsize;
		}
		return 0;
	}
	/* Nothing of the message went out yet: take the +OK back. */
	buf_reset(&s->conn.out);
	if (r == -2) {
		pop3_reply(s, "-ERR Message %lu was removed by another session",
		    n);
		return -1;
	}
	log_err("sid=%s user=%s message %lu: %s", s->id, s->user, n,
	    strerror(errno));
	pop3_reply(s, "-ERR [SYS/TEMP] Cannot read message %lu", n);
	return -1;
}

static int
cmd_retr(struct pop3_session *s, char *arg)
{
	struct pop3_msg *m;
	unsigned long n;

	if ((m = pop3_msg_arg(s, arg, &n)) == NULL)
		return -1;
	return pop3_send(s, m, n, -1);
}

static int
cmd_top(struct pop3_session *s, char *arg)
{
	struct pop3_msg *m;
	unsigned long n;
	char *lines, *end;
	long nl;

	if ((lines = strchr(arg, ' ')) == NULL) {
		pop3_reply(s, "-ERR Syntax: TOP msg lines");
		return -1;
	}
	*lines++ = '\0';
	errno = 0;
	nl = strtol(lines, &end, 10);
	if (lines[0] < '0' || lines[0] > '9' || *end != '\0' || errno != 0) {
		pop3_reply(s, "-ERR Invalid number of lines");
		return -1;
	}
	if ((m = pop3_msg_arg(s, arg, &n)) == NULL)
		return -1;
	return pop3_send(s, m, n, nl);
}

static int
cmd_dele(struct pop3_session *s, char *arg)
{
	struct pop3_msg *m;
	unsigned long n;

	if ((m = pop3_msg_arg(s, arg, &n)) == NULL)
		return -1;
	m->deleted = 1;
	s->ndele++;
	pop3_reply(s, "+OK Message %lu deleted", n);
	return 0;
}

static int
cmd_rset(struct pop3_session *s, char *arg)
{
	size_t i;

	(void)arg;
	for (i = 0; i < s->md.nmsgs; i++)
		s->md.msgs[i].deleted = 0;
	s->ndele = 0;
	pop3_reply(s, "+OK");
	return 0;
}

static int
cmd_noop(struct pop3_session *s, char *arg)
{
	(void)arg;
	pop3_reply(s, "+OK");
	return 0;
}

static int
cmd_quit(struct pop3_session *s, char *arg)
{
	size_t removed = 0;

	(void)arg;
	s->quit = 1;
	if (s->state != S_TRANS) {
		pop3_reply(s, "+OK Bye");
		return 0;
	}
	/* UPDATE (RFC 1939 §6): only now do deletions take effect. */
	if (maildrop_update(&s->md, &removed) == -1) {
		log_err("sid=%s user=%s update: %s", s->id, s->user,
		    mstore_error(s->md.store));
		pop3_reply(s, "-ERR [SYS/TEMP] Some deleted messages not "
		    "removed");
		return 0;
	}
	log_info("sid=%s user=%s update removed=%zu", s->id, s->user,
	    removed);
	pop3_reply(s, "+OK Bye, %zu message(s) removed", removed);
	return 0;
}

static const struct pop3_cmd pop3_cmds[] = {
	{ "CAPA", S_ANY, CMD_NO_ARG, cmd_capa },
	{ "STLS", S_AUTH, CMD_NO_ARG, cmd_stls },
	{ "USER", S_AUTH, CMD_NEEDS_ARG, cmd_user },
	{ "PASS", S_AUTH, CMD_NEEDS_ARG | CMD_SECRET, cmd_pass },
	{ "AUTH", S_AUTH, CMD_SECRET, cmd_auth },
	{ "STAT", S_TRANS, CMD_NO_ARG, cmd_stat },
	{ "LIST", S_TRANS, 0, cmd_list },
	{ "UIDL", S_TRANS, 0, cmd_uidl },
	{ "RETR", S_TRANS, CMD_NEEDS_ARG, cmd_retr },
	{ "TOP", S_TRANS, CMD_NEEDS_ARG, cmd_top },
	{ "DELE", S_TRANS, CMD_NEEDS_ARG, cmd_dele },
	{ "RSET", S_TRANS, CMD_NO_ARG, cmd_rset },
	{ "NOOP", S_TRANS, CMD_NO_ARG, cmd_noop },
	{ "QUIT", S_ANY, CMD_NO_ARG, cmd_quit },
};

static const struct pop3_cmd *
pop3_cmd_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(pop3_cmds) / sizeof(pop3_cmds[0]); i++)
		if (strcasecmp(pop3_cmds[i].name, name) == 0)
			return &pop3_cmds[i];
	return NULL;
}

/* One complete, length-checked line in; its reply out. */
static void
pop3_dispatch(struct pop3_session *s, char *line)
{
	const struct pop3_cmd *cmd;
	char *args;

	if ((args = strchr(line, ' ')) != NULL)
		*args++ = '\0';
	cmd = pop3_cmd_find(line);
	s->cmd_name = cmd != NULL ? cmd->name : "unknown";
	if (cmd == NULL)
		pop3_reply(s, "-ERR Unknown command");
	else if ((cmd->states & s->state) == 0)
		pop3_reply(s, "-ERR Command not valid in this state");
	else if ((cmd->flags & CMD_NEEDS_ARG) && (args == NULL || *args == '\0'))
		pop3_reply(s, "-ERR Missing argument");
	else if ((cmd->flags & CMD_NO_ARG) && args != NULL && *args != '\0')
		pop3_reply(s, "-ERR %s takes no argument", cmd->name);
	else {
		log_debug("sid=%s command %s%s%s", s->id, cmd->name,
		    args && !(cmd->flags & CMD_SECRET) ? " " : "",
		    args && !(cmd->flags & CMD_SECRET) ? log_str(args) : "");
		if (cmd->fn(s, args != NULL ? args : (char *)"") == 0) {
			s->cmd_name = NULL;
			return;
		}
	}
	if (++s->errors >= s->conf->pop3d.max_errors) {
		log_info("sid=%s client=[%s] too many errors, disconnecting",
		    s->id, s->client_ip);
		pop3_reply(s, "-ERR Too many errors");
		s->quit = 1;
	}
	s->cmd_name = NULL;
}

/*
 * A post-login process: the user from the auth service (never from the
 * login process), this process confined to that user's Maildir, then the
 * maildrop (pop3_login answers the client).  0, or -1 (answered: end).
 */
static int
pop3_post_login(struct pop3_session *s, const struct pool_session *post)
{
	char user[320], dir[4096];

	if (login_redeem(&s->conn, s->authc, post, "pop", user,
	    sizeof(user)) == -1) {
		pop3_reply(s, "-ERR [SYS/TEMP] Temporary authentication "
		    "failure");
		return -1;
	}
	if (maildir_user_path(s->conf->server.data_dir, user, dir,
	    sizeof(dir)) == -1 || maildir_create(dir) == -1) {
		log_err("sid=%s user=%s no usable maildir", s->id, user);
		pop3_reply(s, "-ERR [SYS/TEMP] Cannot open the mailbox");
		return -1;
	}
	pool_confine_mail(dir);
	return pop3_login(s, user);
}

void
pop3_session_run(struct pool_ctx *env, int fd, const char *service,
    const char *client_ip, int client_port, const struct pool_session *post,
    void *unused)
{
	struct pop3_session sess, *s = &sess;
	enum conn_status st;
	char *line;
	size_t len;
	double start = util_now();

	(void)unused;
	memset(s, 0, sizeof(*s));
	s->md.lockfd = -1;
	s->env = env;
	s->conf = env->conf;
	s->authc = env->authc;
	s->service = service;
	s->client_port = client_port;
	s->state = S_AUTH;
	if (post != NULL)
		util_strcpy(s->id, post->sid, sizeof(s->id));
	else
		util_session_id(s->id);
	util_strcpy(s->client_ip, client_ip, sizeof(s->client_ip));
	conn_init(&s->conn, fd, (size_t)s->conf->pop3d.max_line_length,
	    (int)s->conf->pop3d.timeout);
	s->conn.stop = &daemon_term;

	if (post != NULL) {
		if (pop3_post_login(s, post) == -1)
			s->quit = 1;
	} else {
		/* A client has pop3d.login_timeout to log in. */
		s->conn.deadline = util_now_usec() +
		    (int64_t)s->conf->pop3d.login_timeout * 1000000;
		if (login_connect(&s->conn, env->tls, s->id, service,
		    client_ip, client_port) == -1) {
			s->broken = s->quit = 1;
		} else {
			pop3_reply(s, "+OK %s POP3 ready",
			    s->conf->server.hostname);
		}
	}
	while (!s->quit) {
		st = conn_getcmd(&s->conn, &line, &len);
		if (st == CONN_LINE)
			pop3_dispatch(s, line);
		else if (st == CONN_TOOLONG || st == CONN_NUL) {
			pop3_reply(s, st == CONN_NUL ? "-ERR NUL octet in "
			    "command" : "-ERR Line too long");
			if (++s->errors >= s->conf->pop3d.max_errors)
				s->quit = 1;
		} else {
			if (st == CONN_TIMEOUT && s->conn.deadline != 0)
				pop3_reply(s, "-ERR Too long without logging "
				    "in");
			else if (st == CONN_TIMEOUT)
				pop3_reply(s, "-ERR Autologout: idle for too "
				    "long");
			else if (st == CONN_ERROR && daemon_term)
				pop3_reply(s, "-ERR Server shutting down");
			/* Dropped without QUIT: nothing is deleted. */
			break;
		}
	}
	if (!s->broken)
		conn_flush(&s->conn);
	log_info("sid=%s %s client=[%s] user=%s retr=%ld octets=%llu dele=%ld "
	    "err=%lu time=%.3fs", s->id, s->handed_over ? "login done" :
	    "disconnect", s->client_ip, s->authenticated ? s->user : "-",
	    s->nretr, (unsigned long long)s->retr_octets, s->ndele, s->nerr,
	    util_now() - start);
	maildrop_close(&s->md);
	conn_free(&s->conn);
	close(fd);
	explicit_bzero(s, sizeof(*s));	/* nothing for the next client */
}
