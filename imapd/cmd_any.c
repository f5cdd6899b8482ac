/*
 * Commands of any state and of login (RFC 3501 §6.1, §6.2), and the
 * small extensions: ID (RFC 2971), ENABLE (RFC 5161), NAMESPACE
 * (RFC 2342), IDLE (RFC 2177).
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/inotify.h>

#include "../global/login.h"
#include "../global/pool.h"
#include "../lib/daemon.h"
#include "../lib/log.h"
#include "../lib/tls.h"
#include "notify.h"
#include "session.h"
#include "acl.h"

static int
plaintext_ok(const struct imap_session *s)
{
	return s->conn.tls != NULL || s->conf->auth.allow_plaintext;
}

/*
 * Can this session give its client back to a login process?  Only when
 * one relays it (TLS, or more pipelined than a handoff holds): a client
 * whose socket came here has no login process left to go back to, and a
 * post-login process confined to one Maildir must not take the next
 * login itself.  Not after COMPRESS either: the login process would not
 * have the stream's compression state.
 */
static int
unauthenticate_ok(const struct imap_session *s)
{
	return s->state != ST_NOTAUTH && s->relayed && s->conn.z == NULL;
}

void
imap_capabilities(struct imap_session *s, struct buf *b)
{
	/* RFC 9051 Appendix A: both; rev2 after ENABLE IMAP4rev2 (rev2.c) */
	buf_puts(b, "CAPABILITY IMAP4rev1 IMAP4rev2 "
	    "LITERAL+ SASL-IR ID ENABLE IDLE "
	    "NAMESPACE UNSELECT CHILDREN SPECIAL-USE UIDPLUS MOVE CONDSTORE "
	    "QRESYNC LIST-EXTENDED LIST-STATUS ESEARCH");
	/* RFC 5256, 5957, 5267 (cmd_sort.c, thread.c) */
	buf_puts(b, " SORT SORT=DISPLAY ESORT THREAD=ORDEREDSUBJECT "
	    "THREAD=REFERENCES THREAD=REFS");
	/* RFC 5255 §4.3: the session's comparator (COMPARATOR,
	 * imapd/comparator.c; i;unicode-casemap unless chosen) for SEARCH,
	 * SORT and THREAD */
	buf_puts(b, " I18NLEVEL=2");
	/* RFC 5267 §4, RFC 9394: imapd/context.c */
	buf_puts(b, " CONTEXT=SEARCH CONTEXT=SORT PARTIAL");
	buf_printf(b, " APPENDLIMIT=%lld", s->conf->imapd.append_limit);
	/* issue 14 */
	buf_puts(b, " STATUS=SIZE WITHIN SEARCHRES CREATE-SPECIAL-USE SAVEDATE "
	    "OBJECTID PREVIEW");
	/* RFC 3516, 3502, 4469: imapd/binary.c, imapd/cmd_append.c */
	buf_puts(b, " BINARY MULTIAPPEND CATENATE");
	/* RFC 9208: imapd/cmd_quota.c */
	buf_puts(b, " QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE");
	/* RFC 5464: imapd/cmd_metadata.c */
	buf_puts(b, " METADATA METADATA-SERVER LIST-METADATA");
	buf_puts(b, " NOTIFY");		/* RFC 5465: imapd/notify.c */
	/* RFC 4314, RFC 8440: imapd/cmd_acl.c, imapd/acl.c */
	buf_puts(b, " ACL RIGHTS=texk LIST-MYRIGHTS");
	/* RFC 6855: imapd/utf8.c */
	buf_puts(b, " UTF8=ACCEPT");
	buf_puts(b, " URLAUTH URLAUTH=BINARY");	/* RFC 4467, 5524: urlauth.c */
	buf_puts(b, " URL-PARTIAL");	/* RFC 5550 §5: imapurl.c */
	/* RFC 8437 (cmd_unauthenticate()): a relayed client only */
	if (unauthenticate_ok(s))
		buf_puts(b, " UNAUTHENTICATE");
	/* RFC 4978 (imapd/compress.c): once compressed, no more */
	if (s->state != ST_NOTAUTH && s->conn.z == NULL)
		buf_puts(b, " COMPRESS=DEFLATE");
	if (s->state != ST_NOTAUTH)
		return;
	if (s->conn.tls == NULL && s->env->tls != NULL)
		buf_puts(b, " STARTTLS");
	if (plaintext_ok(s))
		buf_puts(b, " AUTH=PLAIN AUTH=LOGIN");
	else
		buf_puts(b, " LOGINDISABLED");
}

int
cmd_capability(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	struct buf *b = imap_out(s);

	(void)args;
	if (imap_no_args(s, nargs) == -1)
		return -1;
	buf_puts(b, "* ");
	imap_capabilities(s, b);
	buf_puts(b, "\r\n");
	imap_tagged(s, "OK Capability completed");
	return 0;
}

int
cmd_noop(struct imap_session *s, const struct imap_arg *args, size_t nargs)
{
	(void)args;
	if (imap_no_args(s, nargs) == -1)
		return -1;
	imap_tagged(s, "OK NOOP completed");
	return 0;
}

int
cmd_logout(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	(void)args;
	if (imap_no_args(s, nargs) == -1)
		return -1;
	imap_untagged(s, "BYE Logging out");
	imap_tagged(s, "OK Logout completed");
	imap_set_state(s, ST_LOGOUT);
	imap_unselect(s);
	return 0;
}

/*
 * RFC 8437: back to the not-authenticated state.  login_hand_back()
 * carries the tagged OK to the login process that relays, which takes
 * the client again, TLS and all, before passing the OK on; this process
 * ends as at a LOGOUT (its mailbox closed, its session slot given back).
 * A command the client pipelined behind UNAUTHENTICATE is lost with this
 * process.
 */
int
cmd_unauthenticate(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	(void)args;
	if (imap_no_args(s, nargs) == -1)
		return -1;
	if (!unauthenticate_ok(s)) {
		imap_tagged(s, "NO [CANNOT] UNAUTHENTICATE is only offered on "
		    "TLS connections without COMPRESS");
		return -1;
	}
	imap_unselect(s);
	if (!s->broken && conn_flush(&s->conn) == 0) {
		imap_tagged(s, "OK Not authenticated any more");
		imap_tagged_now(s);
		if (login_hand_back(s->conn.fd, s->conn.out.data,
		    s->conn.out.len) == -1)
			s->broken = 1;
		buf_reset(&s->conn.out);
	} else
		s->broken = 1;
	if (s->broken)
		log_err("sid=%s unauthenticate: cannot hand the client back: "
		    "%s", s->id, strerror(errno));
	s->handed_back = s->broken = 1;	/* nothing more from this process */
	imap_set_state(s, ST_LOGOUT);
	return 0;
}

/* RFC 2971: we say who we are; what the client says goes to the log. */
int
cmd_id(struct imap_session *s, const struct imap_arg *args, size_t nargs)
{
	struct buf line;
	size_t i;

	if (nargs != 1 || (!imap_arg_is_nil(&args[0]) &&
	    (args[0].type != IMAP_ARG_LIST || args[0].nlist % 2 != 0 ||
	    args[0].nlist > 60))) {
		imap_tagged(s, "BAD Usage: ID NIL or ID (\"name\" \"value\" "
		    "...)");
		return -1;
	}
	buf_init(&line, 1024);
	for (i = 0; args[0].type == IMAP_ARG_LIST && i < args[0].nlist;
	    i += 2)
		buf_printf(&line, "%s%s=%s", i ? " " : "",
		    log_str(imap_arg_astring(&args[0].list[i]) ?
		    imap_arg_astring(&args[0].list[i]) : "?"),
		    log_str(imap_arg_astring(&args[0].list[i + 1]) ?
		    imap_arg_astring(&args[0].list[i + 1]) : "NIL"));
	if (line.len > 0)
		log_info("sid=%s client id: %s", s->id, line.data);
	buf_release(&line);
	imap_untagged(s, "ID (\"name\" \"maild\" \"vendor\" \"maild\")");
	imap_tagged(s, "OK ID completed");
	return 0;
}

int
cmd_starttls(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	(void)args;
	if (imap_no_args(s, nargs) == -1)
		return -1;
	if (s->conn.tls != NULL) {
		imap_tagged(s, "BAD TLS is already active");
		return -1;
	}
	if (s->env->tls == NULL) {
		imap_tagged(s, "NO TLS is not available");
		return -1;
	}
	/* The OK goes out now, before the handshake (RFC 3501 §6.2.1). */
	imap_tagged(s, "OK Begin TLS negotiation now");
	imap_tagged_now(s);
	if (login_starttls(&s->conn, s->env->tls, s->id, s->client_ip,
	    "STARTTLS") == -1) {
		s->broken = 1;
		imap_set_state(s, ST_LOGOUT);
	}
	return 0;
}

/* The login path for this session; NULL after replying. */
static struct login *
login_path(struct imap_session *s)
{
	if (authc_broken(s->authc)) {
		imap_tagged(s, "NO [UNAVAILABLE] Temporary authentication "
		    "failure");
		return NULL;
	}
	s->login.conn = &s->conn;
	s->login.authc = s->authc;
	s->login.service = "imap";
	s->login.challenge = "+ ";
	s->login.sid = s->id;
	s->login.client_ip = s->client_ip;
	s->login.max_failures = s->conf->auth.max_failures;
	return &s->login;
}

/* The protocol's answer to a login's outcome. */
static int
login_result(struct imap_session *s, enum login_result r)
{
	switch (r) {
	case LOGIN_OK:
		/* The post-login process answers the command. */
		switch (login_handoff(&s->login, &s->env->pool, s->service,
		    s->client_port, s->tag)) {
		case 0:
			s->handed_over = s->broken = 1;
			imap_set_state(s, ST_LOGOUT);
			return 0;
		case 1:
			/* UNAUTHENTICATE: ours again, to log in anew (the
			 * post-login process answered every command). */
			s->conn.deadline = util_now_usec() +
			    (int64_t)s->conf->imapd.login_timeout * 1000000;
			return 0;
		}
		imap_tagged(s, "NO [UNAVAILABLE] Cannot open the mailbox now");
		return 0;
	case LOGIN_FAIL:
		imap_tagged(s, "NO [AUTHENTICATIONFAILED] Authentication "
		    "failed");
		if (login_exhausted(&s->login)) {
			imap_untagged(s, "BYE Too many authentication failures");
			imap_set_state(s, ST_LOGOUT);
		}
		return 0;
	case LOGIN_CANCELLED:
		imap_tagged(s, "BAD Authentication cancelled");
		return -1;
	case LOGIN_NOMECH:
		imap_tagged(s, "NO Unsupported authentication mechanism");
		return -1;
	case LOGIN_BADPROTO:
		imap_tagged(s, "BAD Malformed authentication data");
		return -1;
	case LOGIN_TOOLONG:
		imap_tagged(s, "BAD Line too long");
		return -1;
	case LOGIN_GONE:
		imap_set_state(s, ST_LOGOUT);
		return 0;
	default:
		imap_tagged(s, "NO [UNAVAILABLE] Temporary authentication "
		    "failure");
		return 0;
	}
}

int
cmd_login(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	struct login *l;
	const char *user, *pass;

	if (nargs != 2 || (user = imap_arg_astring(&args[0])) == NULL ||
	    (pass = imap_arg_astring(&args[1])) == NULL) {
		imap_tagged(s, "BAD Usage: LOGIN user password");
		return -1;
	}
	if (!plaintext_ok(s)) {
		imap_tagged(s, "NO [PRIVACYREQUIRED] LOGIN is disabled on "
		    "non-secure connections: use STARTTLS");
		return -1;
	}
	if ((l = login_path(s)) == NULL)
		return 0;
	return login_result(s, login_password(l, "login", user, pass));
}

/* RFC 3501 §6.2.2 with SASL-IR (RFC 4959): "+ base64" challenges,
 * "*" cancels. */
int
cmd_authenticate(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	struct login *l;
	const char *initial = NULL;

	if (nargs < 1 || nargs > 2 || args[0].type != IMAP_ARG_ATOM ||
	    (nargs == 2 && (initial = imap_arg_astring(&args[1])) == NULL)) {
		imap_tagged(s, "BAD Usage: AUTHENTICATE mechanism "
		    "[initial-response]");
		return -1;
	}
	if (!plaintext_ok(s)) {
		imap_tagged(s, "NO [PRIVACYREQUIRED] Authentication is "
		    "disabled on non-secure connections: use STARTTLS");
		return -1;
	}
	if ((l = login_path(s)) == NULL)
		return 0;
	return login_result(s, login_sasl(l, args[0].str, initial));
}

/* RFC 5161; QRESYNC implies CONDSTORE (RFC 7162 §3.2.3). */
int
cmd_enable(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	struct buf *b = imap_out(s);
	int condstore = 0, qresync = 0, utf8 = 0, rev2 = 0;
	size_t i;

	if (nargs == 0) {
		imap_tagged(s, "BAD Usage: ENABLE capability ...");
		return -1;
	}
	for (i = 0; i < nargs; i++) {
		if (args[i].type != IMAP_ARG_ATOM) {
			imap_tagged(s, "BAD Capabilities are atoms");
			return -1;
		}
		if (strcasecmp(args[i].str, "CONDSTORE") == 0)
			condstore = 1;
		else if (strcasecmp(args[i].str, "QRESYNC") == 0)
			qresync = 1;
		else if (strcasecmp(args[i].str, "UTF8=ACCEPT") == 0)
			utf8 = 1;	/* RFC 6855 §3 */
		else if (strcasecmp(args[i].str, "IMAP4rev2") == 0)
			rev2 = 1;	/* RFC 9051 §6.3.1 */
	}
	buf_puts(b, "* ENABLED");
	if (condstore && !s->condstore)
		buf_puts(b, " CONDSTORE");
	if (qresync && !s->qresync)
		buf_puts(b, " QRESYNC");
	if (utf8 && !s->utf8)
		buf_puts(b, " UTF8=ACCEPT");
	if (rev2 && !s->rev2)
		buf_puts(b, " IMAP4rev2");
	buf_puts(b, "\r\n");
	s->condstore |= condstore | qresync;
	s->qresync |= qresync;
	s->utf8 |= utf8;
	s->rev2 |= rev2;
	imap_tagged(s, "OK Enabled");
	return 0;
}

int
cmd_namespace(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	(void)args;
	if (imap_no_args(s, nargs) == -1)
		return -1;
	imap_acl_namespace(s);		/* with the other users' (acl.c) */
	imap_tagged(s, "OK Namespace completed");
	return 0;
}

/* What changes the selected mailbox (nothing when none is); with
 * NOTIFY (notify.c), whatever it watches. */
static int
idle_watch(struct imap_session *s)
{
	if (s->notify != NULL)
		return notify_idle_fd(s);
	if (s->mb == NULL)
		return inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	return mbox_watch(s->mb);
}

/* What changed, as NOTIFY says (RFC 5465 §4) or as RFC 2177 does. */
static int
idle_update(struct imap_session *s)
{
	if (s->notify != NULL)
		return notify_push(s, 1);
	return s->mb != NULL ? imap_view_update(s, 1) : 0;
}

static void
idle_unwatch(struct imap_session *s, int ifd)
{
	if (s->notify == NULL || ifd != notify_idle_fd(s))
		close(ifd);
}

/* RFC 2177: updates as they happen until "DONE". */
int
cmd_idle(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	struct pollfd pfd[2];
	enum conn_status st;
	char *line;
	size_t len;
	int ifd, r, timeout_ms = (int)s->conf->imapd.timeout * 1000;

	(void)args;
	if (imap_no_args(s, nargs) == -1)
		return -1;
	if ((ifd = idle_watch(s)) == -1) {
		imap_tagged(s, "NO [SERVERBUG] Cannot watch the mailbox");
		return 0;
	}
	imap_continue(s, "idling");
	for (;;) {
		if (idle_update(s) == -1) {
			imap_mailbox_lost(s);
			break;
		}
		if (conn_flush(&s->conn) == -1)
			break;
		if (conn_pending(&s->conn) == 0) {
			pfd[0].fd = s->conn.fd;
			pfd[0].events = POLLIN;
			pfd[1].fd = ifd;
			pfd[1].events = POLLIN;
			r = daemon_poll_unless(&daemon_term, pfd, 2,
			    timeout_ms);
			if (r == 0 || (r == -1 && (errno != EINTR ||
			    daemon_term))) {
				imap_untagged(s, "BYE %s", r == 0 ?
				    "Autologout; idle for too long" :
				    "Server shutting down");
				imap_set_state(s, ST_LOGOUT);
				break;
			}
			if (r <= 0)
				continue;
			if (pfd[1].revents && s->notify != NULL)
				notify_drain(s);
			else if (pfd[1].revents)
				mbox_watch_drain(ifd);
			if (!(pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
		}
		st = conn_getline(&s->conn, &line, &len);
		if (st == CONN_LINE && strcasecmp(line, "DONE") == 0) {
			idle_unwatch(s, ifd);
			imap_tagged(s, "OK IDLE terminated");
			return 0;
		}
		if (st == CONN_LINE || st == CONN_TOOLONG) {
			idle_unwatch(s, ifd);
			imap_tagged(s, "BAD Expected DONE");
			return -1;
		}
		imap_set_state(s, ST_LOGOUT);
		break;
	}
	idle_unwatch(s, ifd);
	return 0;
}
