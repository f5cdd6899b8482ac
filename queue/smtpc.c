/*
 * The SMTP client (RFC 5321) of remote delivery: connect, greeting,
 * EHLO, opportunistic STARTTLS (RFC 3207), replies, and the message
 * itself with CRLF line ends and dot-stuffing (§4.5.2).
 *
 * Everything the server says is hostile: every reply line is bounded
 * (SMTPC_MAX_LINE), a reply has at most SMTPC_MAX_LINES lines, and every
 * wait has the timeout of queue.reply_timeout (RFC 5321 §4.5.3.2).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../lib/log.h"
#include "../lib/net.h"
#include "queue.h"

#define SMTPC_MAX_LINE	4096	/* octets of one reply line, CRLF included */
#define SMTPC_MAX_LINES	100	/* lines of one reply */

/* One reply line: "NNN-text" or "NNN text" (or "NNN"). */
static int
smtpc_parse_line(const char *line, size_t len, int *code, int *more)
{
	if (len < 3 || !isdigit((unsigned char)line[0]) ||
	    !isdigit((unsigned char)line[1]) ||
	    !isdigit((unsigned char)line[2]) ||
	    (len > 3 && line[3] != ' ' && line[3] != '-'))
		return -1;
	*code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + line[2] - '0';
	*more = len > 3 && line[3] == '-';
	return 0;
}

int
smtpc_reply(struct smtpc *c, struct smtpc_reply *r)
{
	enum conn_status st;
	char *line, esc[SMTPC_MAX_LINE];
	size_t len, o = 0, lo = 0, nlines;
	int code, more = 1;

	memset(r, 0, sizeof(*r));
	c->lines[0] = '\0';
	for (nlines = 0; more; nlines++) {
		st = conn_getline(&c->conn, &line, &len);
		if (st != CONN_LINE) {
			snprintf(r->text, sizeof(r->text), "%s",
			    st == CONN_TIMEOUT ? "timeout waiting for a reply" :
			    st == CONN_TOOLONG ? "reply line too long" :
			    st == CONN_EOF ? "connection closed by the server" :
			    "connection lost");
			return -1;
		}
		if (nlines >= SMTPC_MAX_LINES ||
		    smtpc_parse_line(line, len, &code, &more) == -1 ||
		    (nlines > 0 && code != r->code)) {
			snprintf(r->text, sizeof(r->text), "malformed reply: "
			    "%s", log_str(line));
			return -1;
		}
		r->code = code;
		if (len <= 4)
			continue;
		/* The text of every line, joined by a space, bounded and
		 * escaped: it goes into logs, the journal and bounces. */
		log_escape(esc, sizeof(esc), line + 4, len - 4);
		if (o + 2 < sizeof(r->text))
			o += (size_t)snprintf(r->text + o, sizeof(r->text) - o,
			    "%s%s", o > 0 ? " " : "", esc);
		if (o >= sizeof(r->text))
			o = sizeof(r->text) - 1;
		/* And line by line, for the EHLO keywords. */
		if (lo + 2 < sizeof(c->lines))
			lo += (size_t)snprintf(c->lines + lo,
			    sizeof(c->lines) - lo, "%s\n", esc);
		if (lo >= sizeof(c->lines))
			lo = sizeof(c->lines) - 1;
	}
	return 0;
}

/* "<code> <status> <rest>" as "<status> host X said: <reply>". */
void
smtpc_describe(const struct smtpc *c, const struct smtpc_reply *r,
    const char *context, char *out, size_t size)
{
	char status[16];
	const char *t = r->text;
	size_t n = strspn(t, "0123456789.");

	/* The enhanced status code of the reply (RFC 3463), if it has one
	 * of the right class; else the class alone. */
	if (n >= 5 && n < sizeof(status) && t[0] == '0' + r->code / 100 &&
	    t[1] == '.' && (t[n] == ' ' || t[n] == '\0')) {
		memcpy(status, t, n);
		status[n] = '\0';
	} else
		snprintf(status, sizeof(status), "%d.0.0", r->code / 100);
	snprintf(out, size, "%s host %s said: %d %s (in reply to %s)",
	    status, c->relay, r->code, r->text, context);
}

int
smtpc_command(struct smtpc *c, struct smtpc_reply *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&c->conn.out, fmt, ap);
	va_end(ap);
	buf_puts(&c->conn.out, "\r\n");
	if (conn_flush(&c->conn) == -1) {
		memset(r, 0, sizeof(*r));
		snprintf(r->text, sizeof(r->text), "connection lost while "
		    "sending");
		return -1;
	}
	return smtpc_reply(c, r);
}

/* The extensions the server offers, from its EHLO reply. */
static void
smtpc_extensions(struct smtpc *c)
{
	char *line, *save, *end;

	c->ext = 0;
	c->size_max = 0;
	/* The first line is the greeting part, not a keyword. */
	if ((line = strchr(c->lines, '\n')) == NULL)
		return;
	for (line = strtok_r(line + 1, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strcasecmp(line, "PIPELINING") == 0)
			c->ext |= SMTPC_PIPELINING;
		else if (strcasecmp(line, "STARTTLS") == 0)
			c->ext |= SMTPC_STARTTLS;
		else if (strcasecmp(line, "8BITMIME") == 0)
			c->ext |= SMTPC_8BITMIME;
		else if (strncasecmp(line, "SIZE", 4) == 0 &&
		    (line[4] == '\0' || line[4] == ' ')) {
			c->ext |= SMTPC_SIZE;
			c->size_max = line[4] ? strtoll(line + 5, &end, 10) : 0;
			if (c->size_max < 0)
				c->size_max = 0;
		}
	}
}

static int
smtpc_ehlo(struct smtpc *c, const char *helo, struct smtpc_reply *r)
{
	if (smtpc_command(c, r, "EHLO %s", helo) == -1)
		return -1;
	if (r->code / 100 == 2) {
		smtpc_extensions(c);
		return 0;
	}
	/* RFC 5321 §3.2: a server that does not know EHLO gets HELO. */
	c->ext = 0;
	if (smtpc_command(c, r, "HELO %s", helo) == -1)
		return -1;
	return r->code / 100 == 2 ? 0 : -1;
}

/* "4.x.x" text of a failure before any transaction. */
static int
smtpc_fail(struct smtpc *c, const struct smtpc_reply *r, const char *context,
    char *why, size_t whysize)
{
	if (r->code == 0)
		snprintf(why, whysize, "4.4.2 %s: %s (%s)", c->relay, r->text,
		    context);
	else
		smtpc_describe(c, r, context, why, whysize);
	return -1;
}

int
smtpc_open(struct smtpc *c, const struct conf *conf, struct tls_ctx *tls,
    const char *host, const char *addr, int use_tls, char *why,
    size_t whysize)
{
	struct smtpc_reply r;
	char port[16];
	const char *err;
	int fd;

	memset(c, 0, sizeof(*c));
	c->conn.fd = -1;
	c->host = host;
	snprintf(port, sizeof(port), "%lld", conf->queue.remote_port);
	snprintf(c->relay, sizeof(c->relay), "%s[%s]:%s", host, addr, port);
	fd = net_connect(addr, port, conf->queue.source_address,
	    (int)conf->queue.connect_timeout * 1000);
	if (fd == -1) {
		/* RFC 3463: 4.4.1, no answer from host. */
		snprintf(why, whysize, "4.4.1 connect to %s: %s", c->relay,
		    strerror(errno));
		return -1;
	}
	conn_init(&c->conn, fd, SMTPC_MAX_LINE,
	    (int)conf->queue.reply_timeout);
	c->open = 1;
	if (smtpc_reply(c, &r) == -1 || r.code != 220)
		return smtpc_fail(c, &r, "the greeting", why, whysize);
	if (smtpc_ehlo(c, conf->server.hostname, &r) == -1)
		return smtpc_fail(c, &r, "EHLO", why, whysize);
	if (!use_tls || !(c->ext & SMTPC_STARTTLS) || tls == NULL)
		return 0;
	if (smtpc_command(c, &r, "STARTTLS") == -1 || r.code != 220)
		return smtpc_fail(c, &r, "STARTTLS", why, whysize);
	/* Anything the server sent before the handshake is not part of
	 * the TLS session (the client side of CVE-2011-0411). */
	if (conn_pending(&c->conn) > 0)
		lr_discard(&c->conn.lr);
	if (tls_connect(&c->conn, tls, host, &err) == -1) {
		snprintf(why, whysize, "4.7.5 TLS handshake with %s failed: "
		    "%s", c->relay, err);
		c->tls_failed = 1;
		return -1;
	}
	c->verified = tls_peer_verified(&c->conn, &err);
	snprintf(c->tls_info, sizeof(c->tls_info), "%s %s %s%s%s",
	    tls_version(&c->conn), tls_cipher(&c->conn),
	    c->verified ? "verified" : "unverified (", c->verified ? "" : err,
	    c->verified ? "" : ")");
	/* RFC 3207 §4.2: forget what was learnt before, and ask again. */
	if (smtpc_ehlo(c, conf->server.hostname, &r) == -1)
		return smtpc_fail(c, &r, "EHLO after STARTTLS", why, whysize);
	return 0;
}

/* spool_read_body() callback: LF lines out as CRLF, dots stuffed. */
struct smtpc_stream {
	struct smtpc	*c;
	int		 bol;		/* at the beginning of a line */
	int		 failed;
};

static int
smtpc_put(const char *data, size_t len, void *arg)
{
	struct smtpc_stream *s = arg;
	struct buf *out = &s->c->conn.out;
	const char *p = data, *end = data + len, *nl;

	while (p < end) {
		if (s->bol && *p == '.')
			buf_putc(out, '.');
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL) {
			buf_append(out, p, (size_t)(end - p));
			s->bol = 0;
			break;
		}
		buf_append(out, p, (size_t)(nl - p));
		buf_puts(out, "\r\n");
		p = nl + 1;
		s->bol = 1;
	}
	if (out->len >= 65536 && conn_flush(&s->c->conn) == -1) {
		s->failed = 1;
		return -1;
	}
	return 0;
}

int
smtpc_send_message(struct smtpc *c, int spool_fd, const struct spool_env *env)
{
	struct smtpc_stream s = { c, 1, 0 };

	if (spool_read_body(spool_fd, env, smtpc_put, &s) == -1)
		return -1;
	/* A message not ending in a line end gets one (§4.1.1.4). */
	if (!s.bol)
		buf_puts(&c->conn.out, "\r\n");
	buf_puts(&c->conn.out, ".\r\n");
	return conn_flush(&c->conn);
}

void
smtpc_close(struct smtpc *c, int quit)
{
	struct smtpc_reply r;

	if (!c->open)
		return;
	if (quit) {
		/* A short wait: the message is already settled. */
		c->conn.timeout_ms = 5000;
		smtpc_command(c, &r, "QUIT");
	}
	close(c->conn.fd);
	conn_free(&c->conn);
	c->open = 0;
}
