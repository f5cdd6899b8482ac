/*
 * One SMTP session, start to end, in its own process.  Every command line
 * is length-checked by the reader, then dispatched through one table that
 * says in which states it is allowed and whether it takes an argument;
 * every reply carries an enhanced status code (RFC 3463, RFC 2034).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "../global/service.h"
#include "../lib/daemon.h"
#include "../lib/log.h"
#include "smtpd.h"

#define CMD_NEEDS_ARG	0x01	/* refuse without an argument */
#define CMD_NO_ARG	0x02	/* refuse with one (RFC 5321 §4.1.1) */

struct smtp_cmd {
	const char	*name;
	unsigned int	 states;	/* where it is allowed */
	unsigned int	 flags;
	const char	*bad_state;	/* reply when not allowed */
	int		(*fn)(struct smtp_session *, char *);	/* 0 ok, -1 bad */
};

static int cmd_helo(struct smtp_session *, char *);
static int cmd_ehlo(struct smtp_session *, char *);
static int cmd_mail(struct smtp_session *, char *);
static int cmd_rcpt(struct smtp_session *, char *);
static int cmd_data(struct smtp_session *, char *);
static int cmd_rset(struct smtp_session *, char *);
static int cmd_noop(struct smtp_session *, char *);
static int cmd_quit(struct smtp_session *, char *);
static int cmd_help(struct smtp_session *, char *);
static int cmd_vrfy(struct smtp_session *, char *);
static int cmd_expn(struct smtp_session *, char *);

static const struct smtp_cmd smtp_cmds[] = {
	{ "HELO", S_ANY, CMD_NEEDS_ARG, NULL, cmd_helo },
	{ "EHLO", S_ANY, CMD_NEEDS_ARG, NULL, cmd_ehlo },
	{ "MAIL", S_READY, CMD_NEEDS_ARG,
	    NULL, cmd_mail },	/* bad_state chosen below: two cases */
	{ "RCPT", S_MAIL | S_RCPT, CMD_NEEDS_ARG,
	    "503 5.5.1 Error: need MAIL command", cmd_rcpt },
	{ "DATA", S_RCPT, CMD_NO_ARG, NULL, cmd_data },
	{ "RSET", S_ANY, CMD_NO_ARG, NULL, cmd_rset },
	{ "NOOP", S_ANY, 0, NULL, cmd_noop },
	{ "QUIT", S_ANY, CMD_NO_ARG, NULL, cmd_quit },
	{ "HELP", S_ANY, 0, NULL, cmd_help },
	{ "VRFY", S_ANY, CMD_NEEDS_ARG, NULL, cmd_vrfy },
	{ "EXPN", S_ANY, 0, NULL, cmd_expn },
	{ "STARTTLS", S_CONNECTED | S_READY, CMD_NO_ARG,
	    "503 5.5.1 Error: STARTTLS not allowed during a mail transaction",
	    smtp_cmd_starttls },
	{ "AUTH", S_READY, CMD_NEEDS_ARG, NULL, smtp_cmd_auth },
	{ "BURL", S_RCPT, CMD_NEEDS_ARG, NULL, smtp_cmd_burl },	/* 4468 */
};

/* Commands of other protocols: a browser or proxy abused to talk SMTP. */
static const char *forbidden_cmds[] = { "GET", "POST", "PUT", "HEAD",
    "CONNECT", "USER", "PASS", NULL };

static const char *
state_name(enum smtp_state st)
{
	switch (st) {
	case S_CONNECTED:	return "connected";
	case S_READY:		return "ready";
	case S_MAIL:		return "mail";
	case S_RCPT:		return "rcpt";
	}
	return "?";
}

void
smtp_set_state(struct smtp_session *s, enum smtp_state to)
{
	if (s->state != to)
		log_debug("sid=%s state %s -> %s", s->id, state_name(s->state),
		    state_name(to));
	s->state = to;
}

void
smtp_reply(struct smtp_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&s->conn.out, fmt, ap);
	va_end(ap);
	buf_puts(&s->conn.out, "\r\n");
	/*
	 * RFC 2920 §3.2: replies may wait while more pipelined commands are
	 * buffered; conn_getline() flushes before it waits for input.
	 */
	if (s->conn.out.len > 16384)
		conn_flush(&s->conn);
}

void
smtp_txn_reset(struct smtp_session *s)
{
	smtp_burl_abort(s);
	spool_env_free(&s->txn);
	free(s->spf_headers);
	s->spf_headers = NULL;
	s->declared_size = 0;
	s->nrcpt_cmds = 0;
	if (s->state & (S_MAIL | S_RCPT))
		smtp_set_state(s, S_READY);
}

/* HELO/EHLO argument: RFC 5321 wants a domain or address literal; we take
 * any printable text (many clients get it wrong) but bound and escape it. */
static int
smtp_set_helo(struct smtp_session *s, const char *arg)
{
	if (strlen(arg) > 255) {
		smtp_reply(s, "501 5.5.2 Error: HELO argument too long");
		return -1;
	}
	log_escape(s->helo, sizeof(s->helo), arg, strlen(arg));
	smtp_txn_reset(s);
	smtp_set_state(s, S_READY);
	log_info("sid=%s helo=%s", s->id, log_str(s->helo));
	return 0;
}

static int
cmd_helo(struct smtp_session *s, char *arg)
{
	if (smtp_set_helo(s, arg) == -1)
		return -1;
	s->esmtp = 0;
	smtp_reply(s, "250 %s", s->conf->server.hostname);
	return 0;
}

static int
cmd_ehlo(struct smtp_session *s, char *arg)
{
	if (smtp_set_helo(s, arg) == -1)
		return -1;
	s->esmtp = 1;
	smtp_reply(s, "250-%s", s->conf->server.hostname);
	smtp_reply(s, "250-PIPELINING");
	smtp_reply(s, "250-SIZE %lld", s->conf->smtpd.max_message_size);
	smtp_reply(s, "250-8BITMIME");
	if (s->env->tls != NULL && s->conn.tls == NULL)
		smtp_reply(s, "250-STARTTLS");
	if (smtp_auth_offered(s))
		smtp_reply(s, "250-AUTH " AUTH_MECHS);
	if (smtp_burl_offered(s))	/* RFC 4468 §3: burl.c */
		smtp_reply(s, "250-BURL imap");
	smtp_reply(s, "250 ENHANCEDSTATUSCODES");
	return 0;
}

/* "FROM:" / "TO:" prefix, case-insensitive, blanks after the colon
 * tolerated (a common client bug).  Returns the rest, or NULL. */
static char *
smtp_skip_prefix(char *arg, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncasecmp(arg, prefix, n) != 0)
		return NULL;
	arg += n;
	while (*arg == ' ')
		arg++;
	return arg;
}

static int
cmd_mail(struct smtp_session *s, char *arg)
{
	struct mailaddr a;
	const char *rest, *why;
	char sender[ADDR_PATH_MAX + 1], params[1024], *p, *key, *val;
	long long size = 0;
	int r, body8 = 0, seen_size = 0, seen_body = 0, seen_auth = 0;

	if (s->submission && s->auth_user[0] == '\0') {
		smtp_reply(s, "530 5.7.0 Authentication required");
		return -1;
	}
	if ((arg = smtp_skip_prefix(arg, "FROM:")) == NULL) {
		smtp_reply(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return -1;
	}
	if (addr_parse_path(arg, ADDR_ALLOW_NULL | ADDR_ALLOW_BARE, &a, &rest,
	    &why) == -1) {
		smtp_reply(s, "501 5.1.7 Bad sender address syntax: %s", why);
		return -1;
	}
	if (util_strcpy(params, rest, sizeof(params)) == -1) {
		smtp_reply(s, "501 5.5.4 Too many parameters");
		return -1;
	}
	p = params;
	while ((r = addr_next_param(&p, &key, &val)) == 1) {
		if (strcasecmp(key, "SIZE") == 0 && !seen_size++) {
			char *end;

			errno = 0;
			if (val == NULL || !isdigit((unsigned char)val[0]) ||
			    (size = strtoll(val, &end, 10), *end != '\0') ||
			    errno != 0) {
				smtp_reply(s, "501 5.5.4 Bad SIZE parameter");
				return -1;
			}
		} else if (strcasecmp(key, "BODY") == 0 && !seen_body++ &&
		    val != NULL && (strcasecmp(val, "8BITMIME") == 0 ||
		    strcasecmp(val, "7BIT") == 0)) {
			body8 = strcasecmp(val, "8BITMIME") == 0;
		} else if (strcasecmp(key, "AUTH") == 0 && !seen_auth++ &&
		    val != NULL && smtp_auth_offered(s)) {
			/* RFC 4954 §5: accepted; we trust only our own AUTH */
		} else {
			smtp_reply(s, "555 5.5.4 Unsupported or repeated "
			    "parameter %s", log_str(key));
			return -1;
		}
	}
	if (r == -1) {
		smtp_reply(s, "501 5.5.4 Bad parameter syntax");
		return -1;
	}
	/* RFC 1870 §6: refuse at once what will not fit. */
	if (size > s->conf->smtpd.max_message_size) {
		smtp_reply(s, "552 5.3.4 Message size exceeds fixed limit of "
		    "%lld octets", s->conf->smtpd.max_message_size);
		log_info("sid=%s mail from=<%s> size=%lld rejected: too large",
		    s->id, log_str(arg), size);
		return -1;
	}
	addr_format(&a, sender, sizeof(sender));
	if (s->auth_user[0] != '\0') {
		/* An authenticated user sends as itself or its aliases. */
		if (smtp_authc(s) == NULL || (r = authc_sender_allowed(
		    s->authc, s->auth_user, sender)) < 0) {
			smtp_reply(s, "451 4.3.0 Error: temporary lookup "
			    "failure");
			return -1;
		}
		if (r == 0) {
			log_info("sid=%s mail from=<%s> rejected: not owned by "
			    "%s", s->id, log_str(sender), s->auth_user);
			smtp_reply(s, "553 5.7.1 <%s>: Sender address not owned "
			    "by user %s", sender, s->auth_user);
			return -1;
		}
	}
	smtp_txn_reset(s);
	if (smtp_spf_check(s, sender) == -1) {
		log_info("sid=%s mail from=<%s> rejected by SPF policy", s->id,
		    log_str(sender));
		return -1;
	}
	s->txn.sender = util_strdup(sender);
	if (s->auth_user[0] != '\0')
		s->txn.auth = util_strdup(s->auth_user);
	s->txn.body = util_strdup(body8 ? "8bitmime" : "7bit");
	s->declared_size = size;
	smtp_set_state(s, S_MAIL);
	log_info("sid=%s mail from=<%s> size=%lld body=%s", s->id,
	    log_str(sender), size, s->txn.body);
	smtp_reply(s, "250 2.1.0 Ok");
	return 0;
}

/* authc_resolve_quota(), or its answer for the same address less than
 * a second ago (with the mailboxes' usage as it was then). */
static int
smtp_resolve(struct smtp_session *s, const char *rcpt,
    struct rcpt_list *targets)
{
	double now = util_now();
	int r;

	if (s->last_rcpt.at > 0 && now - s->last_rcpt.at < 1.0 &&
	    strcmp(s->last_rcpt.addr, rcpt) == 0) {
		rcpt_list_append(targets, &s->last_rcpt.targets);
		return s->last_rcpt.r;
	}
	rcpt_list_free(&s->last_rcpt.targets);
	s->last_rcpt.at = 0;
	if ((r = authc_resolve_quota(s->authc, rcpt, targets)) >= 0 &&
	    util_strcpy(s->last_rcpt.addr, rcpt,
	    sizeof(s->last_rcpt.addr)) == 0) {
		rcpt_list_append(&s->last_rcpt.targets, targets);
		s->last_rcpt.r = r;
		s->last_rcpt.at = now;
	}
	return r;
}

/*
 * Is every mailbox this recipient means full (RFC 3463 4.2.2)?  Only
 * when each is local with a known usage (authd/quota.c) over a limit:
 * one more message would pass MESSAGES, or its size (MAIL FROM's SIZE=,
 * RFC 1870; else at least an octet) STORAGE.  An alias with room left
 * in one of its mailboxes is accepted, and the full ones are left to
 * delivery, as is whatever is not known; so is a message whose size
 * shows only after DATA.  Logs the first full mailbox with its figures.
 */
static int
smtp_rcpt_full(struct smtp_session *s, const char *rcpt,
    const struct rcpt_list *targets)
{
	const struct rcpt_target *t;
	uint64_t size = s->declared_size > 0 ?
	    (uint64_t)s->declared_size : 1;
	size_t i;

	for (i = 0; i < targets->n; i++) {
		t = &targets->v[i];
		if (!t->local || !t->quota_known)
			return 0;
		if ((t->quota_kib == 0 || t->used_octets + size <=
		    t->quota_kib * 1024) && (t->quota_messages == 0 ||
		    t->used_messages + 1 <= t->quota_messages))
			return 0;
	}
	if (targets->n == 0)
		return 0;
	t = &targets->v[0];
	log_info("sid=%s rcpt to=<%s> rejected: mailbox full: user=%s "
	    "storage=%llu/%llu KiB messages=%llu/%llu size=%lld", s->id,
	    log_str(rcpt), log_str(t->address),
	    (unsigned long long)(t->used_octets / 1024),
	    (unsigned long long)t->quota_kib,
	    (unsigned long long)t->used_messages,
	    (unsigned long long)t->quota_messages, s->declared_size);
	return 1;
}

static int
cmd_rcpt(struct smtp_session *s, char *arg)
{
	struct rcpt_list targets = { 0 };
	struct mailaddr a;
	const char *rest, *why;
	char rcpt[ADDR_PATH_MAX + 1], *p, *key, *val;
	size_t i, j;
	int r;

	if ((arg = smtp_skip_prefix(arg, "TO:")) == NULL) {
		smtp_reply(s, "501 5.5.4 Syntax: RCPT TO:<address>");
		return -1;
	}
	if (addr_parse_path(arg, ADDR_ALLOW_POSTMASTER | ADDR_ALLOW_BARE, &a,
	    &rest, &why) == -1) {
		smtp_reply(s, "501 5.1.3 Bad recipient address syntax: %s",
		    why);
		return -1;
	}
	p = (char *)rest;
	if ((r = addr_next_param(&p, &key, &val)) != 0) {
		smtp_reply(s, "555 5.5.4 Unsupported parameter %s",
		    r == 1 ? log_str(key) : "");
		return -1;
	}
	if (s->nrcpt_cmds >= s->conf->smtpd.max_recipients) {
		smtp_reply(s, "452 4.5.3 Error: too many recipients");
		return -1;
	}
	if (smtp_authc(s) == NULL) {
		smtp_reply(s, "451 4.3.0 Error: temporary lookup failure");
		return -1;
	}
	/* The postmaster of the primary local domain (RFC 5321 §4.5.1). */
	if (a.domain[0] == '\0' && (r = authc_postmaster(s->authc, a.domain,
	    sizeof(a.domain))) != 1) {
		smtp_reply(s, r < 0 ? "451 4.3.0 Error: temporary lookup "
		    "failure" : "550 5.1.1 <postmaster>: no local domain");
		return -1;
	}
	addr_format(&a, rcpt, sizeof(rcpt));

	/* One request: the targets, and whether the domain is ours. */
	if ((r = smtp_resolve(s, rcpt, &targets)) == 2 &&
	    s->auth_user[0] == '\0') {
		/* Without AUTH, mail for the local domains only. */
		log_info("sid=%s rcpt to=<%s> rejected: relay denied", s->id,
		    log_str(rcpt));
		smtp_reply(s, "554 5.7.1 <%s>: Relay access denied", rcpt);
		rcpt_list_free(&targets);
		return -1;
	}
	if (r < 0) {
		log_err("sid=%s rcpt to=<%s>: lookup failed", s->id,
		    log_str(rcpt));
		smtp_reply(s, "451 4.3.0 <%s>: temporary lookup failure", rcpt);
		rcpt_list_free(&targets);
		return -1;
	}
	if (r == 0 || targets.n == 0) {
		log_info("sid=%s rcpt to=<%s> rejected: unknown user", s->id,
		    log_str(rcpt));
		smtp_reply(s, "550 5.1.1 <%s>: Recipient address rejected: "
		    "User unknown", rcpt);
		rcpt_list_free(&targets);
		return -1;
	}
	if (smtp_rcpt_full(s, rcpt, &targets)) {
		/* RFC 5321 §4.2.3's 452 with RFC 3463's 4.2.2: this
		 * recipient only, for now; the transaction goes on for
		 * the others. */
		smtp_reply(s, "452 4.2.2 <%s>: Recipient address rejected: "
		    "Mailbox full", rcpt);
		rcpt_list_free(&targets);
		return -1;
	}
	if (s->txn.nrcpts + targets.n > SPOOL_MAX_RCPTS) {
		smtp_reply(s, "452 4.5.3 Error: too many recipients");
		rcpt_list_free(&targets);
		return -1;
	}
	for (i = 0; i < targets.n; i++) {
		for (j = 0; j < s->txn.nrcpts; j++)
			if (strcmp(s->txn.rcpts[j].addr,
			    targets.v[i].address) == 0)
				break;
		if (j == s->txn.nrcpts)	/* one delivery per mailbox */
			spool_env_add_rcpt(&s->txn, targets.v[i].address, rcpt);
	}
	log_info("sid=%s rcpt to=<%s> accepted: %zu target(s)%s%s", s->id,
	    log_str(rcpt), targets.n, targets.n ? " first=" : "",
	    targets.n ? log_str(targets.v[0].address) : "");
	rcpt_list_free(&targets);
	s->nrcpt_cmds++;
	smtp_set_state(s, S_RCPT);
	smtp_reply(s, "250 2.1.5 Ok");
	return 0;
}

static int
cmd_data(struct smtp_session *s, char *arg)
{
	(void)arg;
	if (s->burl != NULL) {	/* RFC 4468 §3: BURL ... LAST ends it */
		smtp_reply(s, "503 5.5.1 Error: BURL without LAST under way");
		return -1;
	}
	return smtp_data(s);
}

static int
cmd_rset(struct smtp_session *s, char *arg)
{
	(void)arg;
	smtp_txn_reset(s);
	smtp_reply(s, "250 2.0.0 Ok");
	return 0;
}

static int
cmd_noop(struct smtp_session *s, char *arg)
{
	(void)arg;
	smtp_reply(s, "250 2.0.0 Ok");
	return 0;
}

static int
cmd_quit(struct smtp_session *s, char *arg)
{
	(void)arg;
	smtp_reply(s, "221 2.0.0 Bye");
	s->quit = 1;
	return 0;
}

static int
cmd_help(struct smtp_session *s, char *arg)
{
	(void)arg;
	smtp_reply(s, "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP "
	    "QUIT HELP VRFY STARTTLS AUTH");
	return 0;
}

static int
cmd_vrfy(struct smtp_session *s, char *arg)
{
	(void)arg;
	/* RFC 5321 §3.5.3: never tell who exists. */
	smtp_reply(s, "252 2.5.0 Cannot VRFY user, but will accept message "
	    "and attempt delivery");
	return 0;
}

static int
cmd_expn(struct smtp_session *s, char *arg)
{
	(void)arg;
	smtp_reply(s, "502 5.5.1 Error: EXPN not supported");
	return -1;
}

static const struct smtp_cmd *
smtp_cmd_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(smtp_cmds) / sizeof(smtp_cmds[0]); i++)
		if (strcasecmp(smtp_cmds[i].name, name) == 0)
			return &smtp_cmds[i];
	return NULL;
}

static const char *
smtp_bad_state_reply(struct smtp_session *s, const struct smtp_cmd *cmd)
{
	if (cmd->bad_state != NULL)
		return cmd->bad_state;
	if (cmd->fn == cmd_mail)
		return s->state == S_CONNECTED ?
		    "503 5.5.1 Error: send HELO/EHLO first" :
		    "503 5.5.1 Error: nested MAIL command";
	if (cmd->fn == smtp_cmd_auth)
		return s->state == S_CONNECTED ?
		    "503 5.5.1 Error: send EHLO first" :
		    "503 5.5.1 Error: AUTH not allowed during a mail transaction";
	if (cmd->fn == smtp_cmd_burl)	/* RFC 4468 §6 */
		return s->state == S_MAIL ?
		    "554 5.5.0 No recipients have been specified" :
		    "503 5.5.0 Valid RCPT TO required before BURL";
	if (cmd->fn == cmd_data)
		return s->state == S_MAIL ?
		    "554 5.5.1 Error: no valid recipients" :
		    "503 5.5.1 Error: need RCPT command";
	return "503 5.5.1 Error: bad sequence of commands";
}

/* One complete, length-checked line in; its replies out. */
static void
smtp_dispatch(struct smtp_session *s, char *line)
{
	const struct smtp_cmd *cmd;
	char *args;
	size_t i;

	s->ncommands++;
	if ((args = strchr(line, ' ')) != NULL) {
		*args++ = '\0';
		while (*args == ' ')
			args++;
		/* Trailing blanks are a common client habit. */
		for (i = strlen(args); i > 0 && args[i - 1] == ' '; i--)
			args[i - 1] = '\0';
	}
	for (i = 0; forbidden_cmds[i] != NULL; i++)
		if (strcasecmp(line, forbidden_cmds[i]) == 0) {
			log_warn("sid=%s client=[%s] sent %s: not an SMTP "
			    "client, disconnecting", s->id, s->client_ip,
			    forbidden_cmds[i]);
			smtp_reply(s, "421 4.7.0 %s Error: this is an SMTP "
			    "server", s->conf->server.hostname);
			s->quit = 1;
			return;
		}
	if ((cmd = smtp_cmd_find(line)) == NULL)
		smtp_reply(s, "500 5.5.2 Error: command not recognized");
	else if ((cmd->states & s->state) == 0)
		smtp_reply(s, "%s", smtp_bad_state_reply(s, cmd));
	else if ((cmd->flags & CMD_NEEDS_ARG) && (args == NULL || *args == '\0'))
		smtp_reply(s, "501 5.5.4 Syntax: %s needs an argument",
		    cmd->name);
	else if ((cmd->flags & CMD_NO_ARG) && args != NULL && *args != '\0')
		smtp_reply(s, "501 5.5.4 Syntax: %s takes no argument",
		    cmd->name);
	else if (cmd->fn(s, args != NULL ? args : (char *)"") == 0)
		return;
	if (++s->errors >= s->conf->smtpd.max_errors) {
		log_info("sid=%s client=[%s] too many errors, disconnecting",
		    s->id, s->client_ip);
		smtp_reply(s, "421 4.7.0 %s Error: too many errors",
		    s->conf->server.hostname);
		s->quit = 1;
	}
}

void
smtp_session_run(int fd, const char *service, const char *client_ip,
    int client_port, struct smtpd_env *env)
{
	struct smtp_session sess, *s = &sess;
	enum conn_status st;
	char *line;
	size_t len;
	double start = util_now();

	memset(s, 0, sizeof(*s));
	s->env = env;
	s->authc = env->authc;
	s->conf = env->conf;
	s->service = service;
	s->submission = strcmp(service, "smtp") != 0;
	util_session_id(s->id);
	util_strcpy(s->client_ip, client_ip, sizeof(s->client_ip));
	s->client_port = client_port;
	s->state = S_CONNECTED;
	conn_init(&s->conn, fd, (size_t)s->conf->smtpd.max_line_length,
	    (int)s->conf->smtpd.timeout);
	s->conn.stop = &daemon_term;
	s->conn.deadline = util_now_usec() +
	    (int64_t)s->conf->smtpd.max_session_time * 1000000;
	if (login_connect(&s->conn, env->tls, s->id, service, client_ip,
	    client_port) == -1)
		s->broken = s->quit = 1;
	else
		smtp_reply(s, "220 %s ESMTP", s->conf->server.hostname);
	while (!s->quit) {
		st = conn_getcmd(&s->conn, &line, &len);
		if (st == CONN_LINE) {
			smtp_dispatch(s, line);
			continue;
		}
		if (st == CONN_TOOLONG || st == CONN_NUL) {
			if (st == CONN_NUL)
				smtp_reply(s, "500 5.5.2 Error: NUL octet in "
				    "command");
			else
				smtp_reply(s, "500 5.5.2 Error: line too long "
				    "(limit %lld octets)",
				    s->conf->smtpd.max_line_length);
			if (++s->errors >= s->conf->smtpd.max_errors) {
				smtp_reply(s, "421 4.7.0 %s Error: too many "
				    "errors", s->conf->server.hostname);
				break;
			}
			continue;
		}
		if (st == CONN_TIMEOUT) {
			log_info("sid=%s timeout in state %s", s->id,
			    state_name(s->state));
			smtp_reply(s, "421 4.4.2 %s Error: timeout exceeded",
			    s->conf->server.hostname);
		} else if (st == CONN_ERROR && daemon_term)
			smtp_reply(s, "421 4.3.2 %s Service shutting down",
			    s->conf->server.hostname);
		else if (st == CONN_EOF && s->state != S_CONNECTED &&
		    s->state != S_READY)
			log_info("sid=%s lost connection in state %s", s->id,
			    state_name(s->state));
		break;
	}
	if (!s->broken)
		conn_flush(&s->conn);
	log_info("sid=%s disconnect client=[%s] commands=%ld messages=%ld "
	    "errors=%d in=%llu out=%llu time=%.3fs", s->id, s->client_ip,
	    s->ncommands, s->nmessages, s->errors,
	    (unsigned long long)s->conn.bytes_in,
	    (unsigned long long)s->conn.bytes_out, util_now() - start);
	smtp_txn_reset(s);
	free(s->spf_headers);
	rcpt_list_free(&s->last_rcpt.targets);
	conn_free(&s->conn);
	close(fd);
	explicit_bzero(s, sizeof(*s));	/* nothing for the next client */
}
