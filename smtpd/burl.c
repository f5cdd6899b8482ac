/*
 * BURL (RFC 4468) on the submission services (587, 465): "BURL
 * imap-url [LAST]" after RCPT puts into the message what the URL names
 * in the user's own IMAP store, so a client that saved its message by
 * IMAP (APPEND, CATENATE) sends it without uploading it again.  The
 * URLs pieces of one message come in the order given; LAST ends it, as
 * the final dot ends DATA.  There is no BDAT (CHUNKING) to mix with.
 *
 * SECURITY: this process is chrooted, under seccomp, and can open no
 * Maildir (README "Design"), and stays so.  The one process that may
 * read the user's Maildir is an IMAP post-login process confined to it,
 * and it alone holds the URLAUTH keys.  So, for each BURL:
 *
 *  1. the auth service gives a one-time token for the service "submit"
 *     for the user this session logged in to, and only on the proof of
 *     that login (its own token, authc_submit_token());
 *  2. a socket pair, one end of which maild hands to an IMAP post-login
 *     process as it hands a client that logged in to IMAP
 *     (POOL_HANDOFF; maild lets submission sessions do that, for
 *     "imap" alone);
 *  3. that process redeems the token, so it learns the user from the
 *     auth service and never from us, confines itself to the user's
 *     Maildir, and takes URLFETCH and LOGOUT alone from this side
 *     (imapd/session.c); it checks the URLAUTH under the mailbox's key
 *     and gives "submit+<user>" URLs only to such a session (RFC 4468
 *     §5: the submit server must be authorised, and only for the user
 *     who authenticated, imapd/urlauth.c);
 *  4. we send "URLFETCH url" and read the literal it answers straight
 *     into the spool file, within smtpd.max_message_size.
 *
 * What we check first: an imap:// URL of printable ASCII within
 * BURL_URL_MAX octets, with ";URLAUTH=submit+<the authenticated
 * user>" (else 554 5.7.8, we have no trust relationship for it).
 */
#include <sys/socket.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../global/pool.h"
#include "../global/service.h"
#include "../lib/log.h"
#include "smtpd.h"

#define BURL_URL_MAX	2048		/* as imapd's URLAUTH_URL_MAX */
#define BURL_LINE_MAX	(BURL_URL_MAX + 256)	/* an IMAP reply line */
#define BURL_TIMEOUT	60		/* seconds for the IMAP side */

int
smtp_burl_offered(const struct smtp_session *s)
{
	const struct service *imap = service_find("imap");
	const struct service *imaps = service_find("imaps");

	/* Only where there is an IMAP service, whose post-login processes
	 * do the fetching, and for a client that may AUTH (RFC 4468 §3). */
	if (!s->submission || !smtp_auth_offered(s))
		return 0;
	return (imap != NULL && service_listen(s->conf, imap)[0] != '\0') ||
	    (imaps != NULL && service_listen(s->conf, imaps)[0] != '\0');
}

void
smtp_burl_abort(struct smtp_session *s)
{
	if (s->burl == NULL)
		return;
	smtp_spool_abort(s, s->burl);
	explicit_bzero(s->burl, sizeof(*s->burl));
	free(s->burl);
	s->burl = NULL;
	s->burl_size = 0;
}

/* %XX-decode [p, e) into out; -1 when malformed or too long. */
static int
burl_pct_decode(const char *p, const char *e, char *out, size_t size)
{
	size_t n = 0;
	unsigned int v;

	for (; p < e; p++) {
		if (n + 1 >= size)
			return -1;
		if (*p == '%') {
			if (e - p < 3 || !isxdigit((unsigned char)p[1]) ||
			    !isxdigit((unsigned char)p[2]) ||
			    sscanf(p + 1, "%2x", &v) != 1 || v == 0)
				return -1;
			out[n++] = (char)v;
			p += 2;
		} else
			out[n++] = *p;
	}
	out[n] = '\0';
	return 0;
}

/*
 * Is url one we may fetch for this session?  NULL, or the reply.  The
 * IMAP side checks it all again, and the token; this only spares it
 * URLs that could never be ours.
 */
static const char *
burl_url_check(struct smtp_session *s, const char *url)
{
	const char *p, *a, *e;
	char who[320];
	size_t n, i;

	n = strlen(url);
	if (n > BURL_URL_MAX || strncasecmp(url, "imap://", 7) != 0)
		return "554 5.7.0 Invalid URL: not an IMAP URL";
	for (i = 0; i < n; i++)
		if (url[i] <= ' ' || url[i] >= 0x7f || url[i] == '"' ||
		    url[i] == '\\')
			return "554 5.7.0 Invalid URL";
	for (p = url, a = NULL; (p = strchr(p, ';')) != NULL; p++)
		if (strncasecmp(p, ";URLAUTH=", 9) == 0)
			a = p + 9;
	if (a == NULL)
		return "554 5.7.8 URL resolution requires trust relationship "
		    "(no URLAUTH)";
	if (strncasecmp(a, "submit+", 7) != 0)
		return "554 5.7.8 URL resolution requires trust relationship "
		    "(submit+ URLs only)";
	a += 7;
	if ((e = strchr(a, ':')) == NULL)
		return "554 5.7.0 Invalid URL: not authorized (no token)";
	if (burl_pct_decode(a, e, who, sizeof(who)) == -1)
		return "554 5.7.0 Invalid URL";
	/* RFC 4468 §5: only for the user who authenticated here; the full
	 * login, or its local part (imap://joe@example.com/...) */
	n = strlen(who);
	if (strcasecmp(who, s->auth_user) != 0 && (strchr(who, '@') != NULL ||
	    strncasecmp(s->auth_user, who, n) != 0 ||
	    s->auth_user[n] != '@'))
		return "554 5.7.8 URL resolution requires trust relationship "
		    "(another user's submit+ URL)";
	return NULL;
}

/* The URL for the log: its token is a credential, so only the rump
 * (what comes before ":mechanism:token", RFC 4467 §2.3). */
static const char *
burl_log_url(const char *url, char *out, size_t size)
{
	const char *p, *a = NULL, *c;

	for (p = url; (p = strchr(p, ';')) != NULL; p++)
		if (strncasecmp(p, ";URLAUTH=", 9) == 0)
			a = p + 9;
	if (a != NULL && (c = strchr(a, ':')) != NULL)
		snprintf(out, size, "%.*s:...", (int)(c - url), url);
	else
		snprintf(out, size, "%s", url);
	return log_str(out);
}

/* An IMAP post-login process for this session's user, logged in on a
 * socket pair: its end in *fd.  NULL, or the reply. */
static const char *
burl_imap_open(struct smtp_session *s, int *fd)
{
	struct pool_session ps;
	int pair[2], r;

	*fd = -1;
	memset(&ps, 0, sizeof(ps));
	if (smtp_authc(s) == NULL || (r = authc_submit_token(s->authc,
	    s->login.token, ps.token, sizeof(ps.token))) == -1)
		return "451 4.4.1 IMAP server unavailable";
	if (r == 0) {
		log_warn("sid=%s burl: the auth service refused a submit "
		    "token for %s", s->id, s->auth_user);
		return "554 5.7.8 URL resolution requires trust relationship";
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == -1) {
		log_err("sid=%s burl: socketpair: %s", s->id, strerror(errno));
		return "451 4.4.1 IMAP server unavailable";
	}
	ps.fd = pair[1];
	util_strcpy(ps.service, s->service, sizeof(ps.service));
	util_strcpy(ps.sid, s->id, sizeof(ps.sid));
	util_strcpy(ps.client_ip, s->client_ip, sizeof(ps.client_ip));
	ps.client_port = s->client_port;
	ps.relayed = 1;		/* the client stays ours: so do its limits */
	util_strcpy(ps.tag, "B0", sizeof(ps.tag));
	r = pool_handoff(s->env->pool, &ps);
	close(pair[1]);
	explicit_bzero(ps.token, sizeof(ps.token));
	if (r == -1) {
		close(pair[0]);
		log_err("sid=%s burl: no IMAP post-login process", s->id);
		return "451 4.4.1 IMAP server unavailable";
	}
	*fd = pair[0];
	return NULL;
}

/* The next IMAP response line of the post-login process; NULL when it
 * failed or closed. */
static char *
burl_imap_line(struct conn *c, size_t *len)
{
	char *line;

	if (conn_getline(c, &line, len) != CONN_LINE)
		return NULL;
	return line;
}

/*
 * What url names, through the IMAP post-login process, into w;
 * *size counts the octets against the message size limit.  NULL, or
 * the reply.
 */
static const char *
burl_fetch(struct smtp_session *s, const char *url, struct spool_writer *w,
    long long *size)
{
	struct conn c;
	char *line, *end, head[BURL_URL_MAX + 32], buf[32768];
	const char *why = "451 4.4.1 IMAP server unavailable";
	size_t len, hlen;
	unsigned long long lit;
	long long max = s->conf->smtpd.max_message_size;
	ssize_t n;
	int fd;

	if ((why = burl_imap_open(s, &fd)) != NULL)
		return why;
	why = "451 4.4.1 IMAP server unavailable";
	conn_init(&c, fd, BURL_LINE_MAX, BURL_TIMEOUT);
	c.stop = s->conn.stop;
	c.deadline = s->conn.deadline;
	/* "B0 OK [CAPABILITY ...] Logged in" */
	if ((line = burl_imap_line(&c, &len)) == NULL ||
	    strncmp(line, "B0 OK", 5) != 0) {
		log_err("sid=%s burl: the IMAP post-login process said %s",
		    s->id, line != NULL ? log_str(line) : "nothing");
		goto out;
	}
	conn_printf(&c, "B1 URLFETCH \"%s\"\r\n", url);
	if (conn_flush(&c) == -1)
		goto out;
	hlen = (size_t)snprintf(head, sizeof(head), "* URLFETCH \"%s\" ", url);
	for (;;) {
		if ((line = burl_imap_line(&c, &len)) == NULL)
			goto out;
		if (strncmp(line, "B1 ", 3) == 0) {
			log_err("sid=%s burl: URLFETCH: %s", s->id,
			    log_str(line));
			goto out;	/* no URLFETCH data: not a NIL */
		}
		if (len >= hlen && strncmp(line, head, hlen) == 0)
			break;
		/* any other untagged response: not ours to mind */
	}
	line += hlen;
	if (strcmp(line, "NIL") == 0) {		/* RFC 4467 §3.3 */
		log_info("sid=%s burl: NIL for %s", s->id,
		    burl_log_url(url, head, sizeof(head)));
		why = "554 5.6.6 IMAP URL resolution failed";
		goto out;
	}
	errno = 0;
	if (line[0] != '{' || !isdigit((unsigned char)line[1]) ||
	    (lit = strtoull(line + 1, &end, 10), errno != 0) ||
	    strcmp(end, "}") != 0)
		goto out;
	if (lit > (unsigned long long)(max - *size)) {
		why = "554 5.3.4 Message too big for system";
		goto out;	/* not read: the connection goes with it */
	}
	/* The literal, straight into the spool file (CRLF becomes LF). */
	while (lit > 0) {
		if ((n = conn_read(&c, buf, lit < sizeof(buf) ? (size_t)lit :
		    sizeof(buf))) <= 0)
			goto out;
		if (spool_write(w, buf, (size_t)n) == -1) {
			why = "451 4.3.0 Error: queue file write error";
			goto out;
		}
		lit -= (unsigned long long)n;
		*size += n;
	}
	/* the rest of the response line, then "B1 OK" */
	if ((line = burl_imap_line(&c, &len)) == NULL || len != 0 ||
	    (line = burl_imap_line(&c, &len)) == NULL ||
	    strncmp(line, "B1 OK", 5) != 0)
		goto out;
	conn_printf(&c, "B2 LOGOUT\r\n");
	(void)conn_flush(&c);
	why = NULL;
out:
	conn_free(&c);
	close(fd);
	return why;
}

int
smtp_cmd_burl(struct smtp_session *s, char *arg)
{
	char *url = arg, *p, logurl[BURL_URL_MAX + 8];
	const char *why;
	int last = 0;

	if (!smtp_burl_offered(s) || s->auth_user[0] == '\0') {
		smtp_reply(s, "502 5.5.1 Error: BURL not available here");
		return -1;
	}
	/* "BURL" SP absolute-URI [SP end-marker] (RFC 4468 §3) */
	if ((p = strchr(url, ' ')) != NULL) {
		*p++ = '\0';
		if (strcasecmp(p, "LAST") != 0) {
			smtp_reply(s, "501 5.5.4 Syntax: BURL url [LAST]");
			return -1;
		}
		last = 1;
	}
	if ((why = burl_url_check(s, url)) != NULL) {
		log_info("sid=%s burl refused: %s", s->id, why);
		smtp_reply(s, "%s", why);
		smtp_txn_reset(s);
		return -1;
	}
	if (s->burl == NULL) {
		s->burl = util_calloc(1, sizeof(*s->burl));
		if (smtp_spool_begin(s, s->burl) == -1) {
			free(s->burl);
			s->burl = NULL;
			smtp_reply(s, "451 4.3.0 Error: queue file write error");
			return -1;
		}
		s->burl_size = 0;
	}
	if ((why = burl_fetch(s, url, s->burl, &s->burl_size)) != NULL) {
		log_info("sid=%s burl url=%s failed: %s", s->id,
		    burl_log_url(url, logurl, sizeof(logurl)), why);
		smtp_reply(s, "%s", why);
		smtp_txn_reset(s);	/* the message goes with it */
		return -1;
	}
	log_info("sid=%s burl url=%s size=%lld%s", s->id,
	    burl_log_url(url, logurl, sizeof(logurl)), s->burl_size,
	    last ? " last" : "");
	if (!last) {
		smtp_reply(s, "250 2.5.0 Waiting for additional BURL commands");
		return 0;
	}
	if (s->burl_size == 0) {
		smtp_reply(s, "554 5.6.0 Error: empty message");
		smtp_txn_reset(s);
		return -1;
	}
	if (smtp_spool_commit(s, s->burl) == -1) {
		free(s->burl);
		s->burl = NULL;
		smtp_reply(s, "451 4.3.0 Error: queue file write error");
		smtp_txn_reset(s);
		return 0;
	}
	free(s->burl);
	s->burl = NULL;
	/* Durable now (RFC 5321 §6.1). */
	smtp_reply(s, "250 2.0.0 Ok: queued as %s", s->txn.id);
	log_info("sid=%s qid=%s queued from=<%s> nrcpt=%zu size=%lld burl",
	    s->id, s->txn.id, log_str(s->txn.sender), s->txn.nrcpts,
	    s->burl_size);
	s->nmessages++;
	s->burl_size = 0;
	smtp_txn_reset(s);
	return 0;
}
