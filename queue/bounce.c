/*
 * Delivery status notifications (RFC 3464): a multipart/report
 * (RFC 6522) with a text for people, a message/delivery-status part for
 * programs, and the original message's header (text/rfc822-headers), sent
 * from the null sender <> so that a DSN never causes another one
 * (RFC 5321 §4.5.5, §6.1).
 *
 * The journal text of each recipient starts with its enhanced status code
 * (RFC 3463); remote failures continue "host NAME[ADDR]:PORT said: REPLY
 * (in reply to COMMAND)", which gives Remote-MTA and Diagnostic-Code.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/buf.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "queue.h"

#define BOUNCE_MAX_HEADER	(64 * 1024)	/* of the original message */

/* spool_read_body() callback: the original header, up to the blank line
 * or BOUNCE_MAX_HEADER octets (cut at a line end). */
struct header_grab {
	struct buf	 b;
	int		 done;
};

static int
bounce_grab(const char *data, size_t len, void *arg)
{
	struct header_grab *g = arg;
	const char *end;
	size_t cut;

	if (g->done)
		return 0;
	buf_append(&g->b, data, len);
	if ((end = strstr(g->b.data, "\n\n")) != NULL) {
		g->b.len = (size_t)(end - g->b.data) + 1;
		g->b.data[g->b.len] = '\0';
		g->done = 1;
	} else if (g->b.len > BOUNCE_MAX_HEADER) {
		for (cut = BOUNCE_MAX_HEADER; cut > 0 &&
		    g->b.data[cut - 1] != '\n'; cut--)
			;
		g->b.len = cut;
		g->b.data[cut] = '\0';
		g->done = 1;
	}
	return 0;
}

/* The enhanced status code at the start of text ("5.1.1"), or dflt. */
static void
bounce_status(const char *text, char *out, size_t size, const char *dflt)
{
	size_t n = strspn(text, "0123456789.");

	if (n >= 5 && n < size && (text[0] == '2' || text[0] == '4' ||
	    text[0] == '5') && text[1] == '.' && (text[n] == ' ' ||
	    text[n] == '\0')) {
		memcpy(out, text, n);
		out[n] = '\0';
	} else
		snprintf(out, size, "%s", dflt);
}

/* Remote-MTA and Diagnostic-Code from "... host X[...]:P said: R (in
 * reply to C)"; 0 if the text is not a remote server's answer. */
static int
bounce_remote(const char *text, char *mta, size_t mtasize, char *diag,
    size_t diagsize)
{
	const char *h, *said, *end;
	size_t n;

	if ((h = strstr(text, " host ")) == NULL ||
	    (said = strstr(h, " said: ")) == NULL)
		return 0;
	h += 6;
	n = strcspn(h, "[ ");
	snprintf(mta, mtasize, "%.*s", (int)(n < 255 ? n : 255), h);
	said += 7;
	end = strstr(said, " (in reply to ");
	n = end != NULL ? (size_t)(end - said) : strlen(said);
	snprintf(diag, diagsize, "%.*s", (int)(n < 900 ? n : 900), said);
	return 1;
}

/* Anything but printable ASCII in a header of the DSN is replaced. */
static void
bounce_put_safe(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++)
		buf_putc(b, isprint((unsigned char)*s) ? *s : '?');
}

static int
bounce_has_8bit(const struct buf *b)
{
	size_t i;

	for (i = 0; i < b->len; i++)
		if ((unsigned char)b->data[i] & 0x80)
			return 1;
	return 0;
}

static void
bounce_compose(const struct conf *conf, const struct spool_env *env,
    const size_t *idx, size_t n, enum dsn_action action, const char *newid,
    const struct buf *orig, struct buf *b)
{
	const char *host = conf->server.hostname;
	char date[64], arrival[64], until[64], boundary[64], status[16];
	char mta[256], diag[1024];
	size_t i;

	util_rfc5322_date(date, sizeof(date), time(NULL));
	util_rfc5322_date(arrival, sizeof(arrival), env->arrival);
	util_rfc5322_date(until, sizeof(until), env->arrival +
	    (time_t)conf->queue.max_lifetime);
	snprintf(boundary, sizeof(boundary), "=_%s/%08x", newid,
	    util_random());

	buf_printf(b, "From: Mail Delivery System <MAILER-DAEMON@%s>\n", host);
	buf_printf(b, "To: <%s>\n", env->sender);
	buf_printf(b, "Subject: %s\n", action == DSN_FAILED ?
	    "Undelivered Mail Returned to Sender" :
	    "Delayed Mail (still being retried)");
	buf_printf(b, "Date: %s\n", date);
	buf_printf(b, "Message-ID: <%s.dsn@%s>\n", newid, host);
	/* RFC 3834 §5: machine-made, do not answer automatically. */
	buf_puts(b, "Auto-Submitted: auto-replied\n");
	buf_puts(b, "MIME-Version: 1.0\n");
	buf_printf(b, "Content-Type: multipart/report; "
	    "report-type=delivery-status;\n\tboundary=\"%s\"\n\n", boundary);
	buf_puts(b, "This is a MIME-encapsulated message.\n\n");

	/* For people. */
	buf_printf(b, "--%s\nContent-Type: text/plain; charset=us-ascii\n"
	    "Content-Description: Notification\n\n", boundary);
	buf_printf(b, "This is the mail system at %s.\n\n", host);
	if (action == DSN_FAILED)
		buf_puts(b, "Your message could not be delivered to the "
		    "recipients below, and the\nmail system has given up. "
		    "The header of your message is attached.\n\n");
	else
		buf_printf(b, "Your message has not been delivered yet to the "
		    "recipients below.\nThe mail system will go on trying "
		    "until %s;\nyou do not need to send it again.\n\n", until);
	for (i = 0; i < n; i++) {
		const struct spool_rcpt *r = &env->rcpts[idx[i]];

		buf_puts(b, "<");
		bounce_put_safe(b, r->orcpt);
		buf_puts(b, ">: ");
		bounce_put_safe(b, r->text != NULL ? r->text : "");
		buf_puts(b, "\n\n");
	}

	/* For programs: RFC 3464 §2.2 (per message), §2.3 (per
	 * recipient). */
	buf_printf(b, "--%s\nContent-Type: message/delivery-status\n"
	    "Content-Description: Delivery report\n\n", boundary);
	buf_printf(b, "Reporting-MTA: dns; %s\n", host);
	buf_printf(b, "X-Maild-Queue-ID: %s\n", env->id);
	buf_printf(b, "Arrival-Date: %s\n", arrival);
	for (i = 0; i < n; i++) {
		const struct spool_rcpt *r = &env->rcpts[idx[i]];
		const char *text = r->text != NULL ? r->text : "";

		buf_puts(b, "\n");
		buf_puts(b, "Final-Recipient: rfc822; ");
		bounce_put_safe(b, r->addr);
		if (strcmp(r->addr, r->orcpt) != 0) {
			buf_puts(b, "\nOriginal-Recipient: rfc822; ");
			bounce_put_safe(b, r->orcpt);
		}
		bounce_status(text, status, sizeof(status),
		    action == DSN_FAILED ? "5.0.0" : "4.0.0");
		buf_printf(b, "\nAction: %s\nStatus: %s\n", action ==
		    DSN_FAILED ? "failed" : "delayed", status);
		if (bounce_remote(text, mta, sizeof(mta), diag,
		    sizeof(diag))) {
			buf_puts(b, "Remote-MTA: dns; ");
			bounce_put_safe(b, mta);
			buf_puts(b, "\nDiagnostic-Code: smtp; ");
			bounce_put_safe(b, diag);
			buf_puts(b, "\n");
		}
		if (r->last_attempt > 0) {
			util_rfc5322_date(date, sizeof(date), r->last_attempt);
			buf_printf(b, "Last-Attempt-Date: %s\n", date);
		}
		if (action == DSN_DELAYED)
			buf_printf(b, "Will-Retry-Until: %s\n", until);
	}

	/* The original header (RFC 6522 §4: text/rfc822-headers). */
	buf_printf(b, "\n--%s\nContent-Type: text/rfc822-headers\n"
	    "Content-Description: Header of the message\n\n", boundary);
	buf_append(b, orig->data, orig->len);
	buf_printf(b, "\n--%s--\n", boundary);
}

int
bounce_queue(const struct conf *conf, int spool_fd,
    const struct spool_env *env, const size_t *idx, size_t n,
    enum dsn_action action, char newid[SPOOL_ID_LEN + 1])
{
	struct header_grab g;
	struct spool_env benv;
	struct spool_writer w;
	struct buf b;
	int r = -1, saved;

	memset(&g, 0, sizeof(g));
	buf_init(&g.b, 0);
	if (spool_read_body(spool_fd, env, bounce_grab, &g) == -1)
		goto out;
	if (g.b.data == NULL)
		buf_puts(&g.b, "");

	memset(&benv, 0, sizeof(benv));
	spool_env_arrive(&benv);
	benv.sender = util_strdup("");
	benv.client = util_strdup("127.0.0.1");
	benv.helo = util_strdup(conf->server.hostname);
	benv.protocol = util_strdup("local");
	benv.body = util_strdup(bounce_has_8bit(&g.b) ? "8bitmime" : "7bit");
	spool_env_add_rcpt(&benv, env->sender, env->sender);
	if (spool_create(&w, conf->server.data_dir, &benv) == -1) {
		spool_env_free(&benv);
		goto out;
	}
	buf_init(&b, 0);
	bounce_compose(conf, env, idx, n, action, benv.id, &g.b, &b);
	if (spool_write(&w, b.data, b.len) == -1) {
		spool_abort(&w);
		buf_release(&b);
		spool_env_free(&benv);
		goto out;
	}
	buf_release(&b);
	if (spool_commit(&w) == 0) {
		memcpy(newid, benv.id, SPOOL_ID_LEN + 1);
		r = 0;
	}
	spool_env_free(&benv);
out:
	saved = errno;
	buf_release(&g.b);
	errno = saved;
	return r;
}
