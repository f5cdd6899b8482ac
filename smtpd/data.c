/*
 * DATA (RFC 5321 §4.1.1.4): the message, from "354" to the final dot,
 * straight into a spool file.
 *
 * Only CRLF "." CRLF ends the message: a dot line after a bare LF, or a
 * bare LF/CR variant of the terminator, is message content ("SMTP
 * smuggling", CVE-2023-51764 and friends, works by making two servers
 * disagree on where a message ends).  Content lines ending in a bare LF
 * are kept as lines (as Postfix's "normalize" does); the spool writer
 * turns a bare CR into a line end too and drops NUL, so stored lines end
 * in LF and nowhere else, and every outgoing path (SMTP client, bounces,
 * Maildir, POP3, IMAP) writes CRLF and stuffs dots again: nothing
 * smuggled here can end a message later, whatever the next receiver
 * takes for a line end.
 *
 * "250" is said only after the commit: message and envelope are on disk,
 * fsync'd, file and name (§6.1).  This process cannot open the spool:
 * maild makes the file and passes it (pool_spool_new()), the message is
 * written here, maild renames it into queue/msg/, and then it is fsync'd
 * here (pool_spool_commit()); the rename is what wakes the queue runner
 * (inotify).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "../lib/log.h"
#include "../lib/tls.h"
#include "../global/pool.h"
#include "smtpd.h"

/*
 * The trace header, RFC 5321 §4.4: TLS details and the authenticated
 * user go in comments, "for" only when there is one recipient (so a
 * message's Bcc: recipients are not shown to each other).
 */
static void
smtp_received(struct smtp_session *s, struct spool_writer *w)
{
	struct buf b;
	char date[64];

	buf_init(&b, 4096);
	util_rfc5322_date(date, sizeof(date), time(NULL));
	buf_printf(&b, "Received: from %s ([%s])\n\tby %s (maild) with %s",
	    s->helo[0] ? s->helo : "unknown", s->client_ip,
	    s->conf->server.hostname, s->txn.protocol);
	if (s->conn.tls != NULL)
		buf_printf(&b, " (%s with cipher %s (%d/%d bits))",
		    tls_version(&s->conn), tls_cipher(&s->conn),
		    tls_cipher_bits(&s->conn), tls_cipher_bits(&s->conn));
	if (s->txn.auth != NULL)
		buf_printf(&b, "\n\t(authenticated as %s)", s->txn.auth);
	buf_printf(&b, "\n\tid %s", s->txn.id);
	if (s->txn.nrcpts == 1)
		buf_printf(&b, "\n\tfor <%s>", s->txn.rcpts[0].orcpt);
	buf_printf(&b, ";\n\t%s\n", date);
	spool_write(w, b.data, b.len);
	buf_release(&b);
}

/*
 * An Authentication-Results: header naming this host as the authserv-id
 * did not come from us: RFC 8601 §5 says to remove it, or a recipient
 * would trust a verdict the sender wrote.
 */
static int
smtp_forged_results(struct smtp_session *s, const char *line)
{
	const char *host = s->conf->server.hostname;
	size_t n = strlen(host);

	if (strncasecmp(line, "Authentication-Results:", 23) != 0)
		return 0;
	line += 23;
	while (*line == ' ' || *line == '\t')
		line++;
	return strncasecmp(line, host, n) == 0 &&
	    (line[n] == ';' || line[n] == ' ' || line[n] == '\t' ||
	    line[n] == '\0');
}

static const char *
smtp_protocol(struct smtp_session *s)
{
	/* RFC 3848: SMTP, ESMTP, ESMTPS, ESMTPA, ESMTPSA. */
	if (!s->esmtp)
		return "SMTP";
	if (s->conn.tls)
		return s->txn.auth ? "ESMTPSA" : "ESMTPS";
	return s->txn.auth ? "ESMTPA" : "ESMTP";
}

/* A spool file for the transaction, from maild; 0 or -1. */
static int
smtp_spool_open(struct smtp_session *s, struct spool_writer *w)
{
	char id[SPOOL_ID_LEN + 1];
	int fd;

	if (pool_spool_new(s->env->pool, id, sizeof(id), &fd) == -1)
		return -1;
	return spool_start(w, fd, id, &s->txn);
}

void
smtp_spool_abort(struct smtp_session *s, struct spool_writer *w)
{
	spool_abort(w);
	pool_spool_abort(s->env->pool, s->txn.id);
}

/* Durable in the queue when it returns 0. */
int
smtp_spool_commit(struct smtp_session *s, struct spool_writer *w)
{
	return pool_spool_commit(s->env->pool, w, s->txn.id);
}

int
smtp_spool_begin(struct smtp_session *s, struct spool_writer *w)
{
	spool_env_arrive(&s->txn);
	s->txn.client = util_strdup(s->client_ip);
	s->txn.helo = util_strdup(s->helo);
	s->txn.protocol = util_strdup(smtp_protocol(s));
	if (smtp_spool_open(s, w) == -1) {
		log_err("sid=%s cannot create queue file: %s", s->id,
		    strerror(errno));
		return -1;
	}
	if (s->spf_headers != NULL)
		spool_write(w, s->spf_headers, strlen(s->spf_headers));
	smtp_received(s, w);
	return 0;
}

int
smtp_data(struct smtp_session *s)
{
	struct spool_writer w;
	enum conn_status st;
	char *line;
	size_t len;
	long long size = 0, max = s->conf->smtpd.max_message_size;
	int first = 1, in_header = 1, hops = 0, dropping = 0;
	int too_big = 0, too_long = 0, write_failed = 0;
	int64_t session_deadline, data_deadline;
	double start = util_now();

	if (smtp_spool_begin(s, &w) == -1) {
		smtp_reply(s, "451 4.3.0 Error: queue file write error");
		return -1;
	}
	smtp_reply(s, "354 End data with <CR><LF>.<CR><LF>");
	/* However slowly it trickles, a message has smtpd.max_data_time. */
	session_deadline = s->conn.deadline;
	data_deadline = util_now_usec() +
	    (int64_t)s->conf->smtpd.max_data_time * 1000000;
	if (data_deadline < session_deadline)
		s->conn.deadline = data_deadline;

	for (;;) {
		st = conn_getline(&s->conn, &line, &len);
		if (st == CONN_TOOLONG) {
			too_long = 1;
			first = 0;
			continue;
		}
		if (st != CONN_LINE) {
			smtp_spool_abort(s, &w);
			log_info("sid=%s %s during DATA after %lld octets",
			    s->id, st == CONN_TIMEOUT ? "timeout" :
			    "lost connection", size);
			if (st == CONN_TIMEOUT)
				smtp_reply(s, "421 4.4.2 %s Error: timeout "
				    "exceeded", s->conf->server.hostname);
			s->quit = 1;
			smtp_txn_reset(s);
			return 0;
		}
		/* CRLF "." CRLF, and nothing else, ends the message. */
		if (len == 1 && line[0] == '.' && s->conn.lr.crlf &&
		    (first || s->conn.lr.prev_crlf))
			break;
		first = 0;
		if (line[0] == '.') {		/* dot-unstuffing, §4.5.2 */
			line++;
			len--;
		}
		if (in_header) {
			if (len == 0)
				in_header = 0;
			else if (strncasecmp(line, "Received:", 9) == 0)
				hops++;
			/* A forged verdict in our name goes, with its
			 * continuation lines (RFC 8601 §5). */
			if (line[0] != ' ' && line[0] != '\t')
				dropping = smtp_forged_results(s, line);
			if (dropping && len > 0) {
				size += (long long)len + 2;
				continue;
			}
		}
		size += (long long)len + 2;	/* as sent, with CRLF */
		if (size > max) {
			too_big = 1;
			continue;
		}
		if (too_long || write_failed)
			continue;
		line[len] = '\n';		/* the reader's NUL */
		if (spool_write(&w, line, len + 1) == -1)
			write_failed = errno;
	}

	s->conn.deadline = session_deadline;
	if (too_big || too_long || write_failed ||
	    hops >= s->conf->smtpd.max_hops) {
		smtp_spool_abort(s, &w);
		if (too_big)
			smtp_reply(s, "552 5.3.4 Message size exceeds fixed "
			    "limit of %lld octets", max);
		else if (too_long)
			smtp_reply(s, "554 5.6.0 Message has a line longer "
			    "than %lld octets (RFC 5321 4.5.3.1.6)",
			    s->conf->smtpd.max_line_length);
		else if (write_failed)
			smtp_reply(s, "451 4.3.0 Error: queue file write "
			    "error");
		else
			smtp_reply(s, "554 5.4.6 Too many hops (%d Received: "
			    "headers): mail loop?", hops);
		log_info("sid=%s from=<%s> rejected: %s size=%lld", s->id,
		    log_str(s->txn.sender), too_big ? "message too large" :
		    too_long ? "line too long" : write_failed ?
		    strerror(write_failed) : "too many hops", size);
		smtp_txn_reset(s);
		return too_big || too_long ? -1 : 0;
	}
	if (smtp_spool_commit(s, &w) == -1) {
		smtp_reply(s, "451 4.3.0 Error: queue file write error");
		smtp_txn_reset(s);
		return 0;
	}
	/* Durable now: only from here on may we say 250. */
	smtp_reply(s, "250 2.0.0 Ok: queued as %s", s->txn.id);
	log_info("sid=%s qid=%s queued from=<%s> nrcpt=%zu size=%lld "
	    "time=%.3fs", s->id, s->txn.id, log_str(s->txn.sender),
	    s->txn.nrcpts, size, util_now() - start);
	s->nmessages++;
	smtp_txn_reset(s);
	return 0;
}
