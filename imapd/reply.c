/*
 * reply.c: what the session says.  Untagged data goes out as it is
 * made; the tagged reply waits for the command's untagged updates (RFC
 * 3501 §7), and a NO or BAD is logged as it goes.  Failures of the
 * store become NO with the response code that fits (RFC 5530).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../lib/daemon.h"
#include "../lib/log.h"
#include "session.h"

static struct buf tagged;	/* the tagged reply of the running command */

void
imap_untagged(struct imap_session *s, const char *fmt, ...)
{
	va_list ap;

	buf_puts(&s->conn.out, "* ");
	va_start(ap, fmt);
	buf_vprintf(&s->conn.out, fmt, ap);
	va_end(ap);
	buf_puts(&s->conn.out, "\r\n");
	imap_out_done(s);
}

/* Kept until the command's untagged updates are out (RFC 3501 §7). */
void
imap_tagged(struct imap_session *s, const char *fmt, ...)
{
	va_list ap;

	buf_reset(&tagged);
	buf_printf(&tagged, "%s ", s->tag != NULL ? s->tag : "*");
	va_start(ap, fmt);
	buf_vprintf(&tagged, fmt, ap);
	va_end(ap);
	buf_puts(&tagged, "\r\n");
}

void
imap_tagged_now(struct imap_session *s)
{
	buf_append(&s->conn.out, tagged.data, tagged.len);
	buf_reset(&tagged);
}

int
imap_no_args(struct imap_session *s, size_t nargs)
{
	if (nargs == 0)
		return 0;
	imap_tagged(s, "BAD Unexpected arguments");
	return -1;
}

void
imap_continue(struct imap_session *s, const char *text)
{
	conn_printf(&s->conn, "+ %s\r\n", text);
	conn_flush(&s->conn);
}

struct buf *
imap_out(struct imap_session *s)
{
	return &s->conn.out;
}

void
imap_out_done(struct imap_session *s)
{
	if (s->conn.out.len >= 65536 && conn_flush(&s->conn) == -1) {
		s->broken = 1;
		imap_set_state(s, ST_LOGOUT);
	}
}

/*
 * The one place the store's failures become IMAP: the response code
 * (RFC 5530; IMAP4rev2's [HASCHILDREN], RFC 9051 §6.3.5) and the text,
 * and whether an administrator must hear of it (what the client can do
 * nothing about); the NO itself is logged as every NO is.
 */
static const struct {
	const char	*code;
	const char	*rev2;		/* IMAP4rev2's, when it differs */
	const char	*text;		/* when the caller has none */
	int		 fixed;		/* text whatever the caller says */
	int		 log;
} errclass_reply[] = {
	[MSTORE_OK] =		{ "SERVERBUG", NULL, "Server error", 0, 1 },
	[MSTORE_ENOTFOUND] =	{ "NONEXISTENT", NULL, "No such mailbox or "
				    "message", 0, 0 },
	[MSTORE_EEXISTS] =	{ "ALREADYEXISTS", NULL, "Mailbox already "
				    "exists", 0, 0 },
	[MSTORE_ENOSPACE] =	{ "OVERQUOTA", NULL, "Not enough disk space",
				    1, 1 },
	[MSTORE_EOVERQUOTA] =	{ "OVERQUOTA", NULL, "Quota exceeded", 1, 0 },
	/* §6.3.4 of RFC 3501 lets us refuse; rev1 has no code of its own */
	[MSTORE_ECHILDREN] =	{ "CANNOT", "HASCHILDREN", "Mailbox has "
				    "children", 0, 0 },
	[MSTORE_EPERM] =	{ "CANNOT", NULL, "Not allowed", 0, 0 },
	[MSTORE_EINVAL] =	{ "CANNOT", NULL, "Invalid argument", 0, 0 },
	[MSTORE_ELIMIT] =	{ "LIMIT", NULL, "Too many", 0, 0 },
	[MSTORE_EINTERNAL] =	{ "SERVERBUG", NULL, "Server error", 0, 1 },
};

int
imap_errclass_no(struct imap_session *s, const char *what,
    enum mstore_err cls, const char *why)
{
	const char *code, *text;

	/* MSTORE_OK: a failure the store gave no class, a bug of ours */
	if ((size_t)cls >= sizeof(errclass_reply) / sizeof(errclass_reply[0]))
		cls = MSTORE_OK;
	code = s->rev2 && errclass_reply[cls].rev2 != NULL ?
	    errclass_reply[cls].rev2 : errclass_reply[cls].code;
	text = why == NULL || why[0] == '\0' || errclass_reply[cls].fixed ?
	    errclass_reply[cls].text : why;
	/* what is ours; why the store's words (never a path) */
	if (errclass_reply[cls].log)
		log_err("sid=%s user=%s %s: %s", s->id, s->user, what,
		    why != NULL ? why : text);
	imap_tagged(s, "NO [%s] %s", code, text);
	return 0;
}

int
imap_store_no(struct imap_session *s, const char *what)
{
	return imap_errclass_no(s, what, mstore_errclass(s->store),
	    mstore_error(s->store));
}

void
imap_penalty(unsigned int seconds)
{
	struct timespec ts = { (time_t)seconds, 0 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR && !daemon_term)
		;
}

/*
 * A NO or BAD is logged, with the command's name and our reply (never
 * the command's arguments: LOGIN's are a password), and counted: a
 * client's trouble with us must leave a trace an administrator can read.
 */
static void
session_log_reply(struct imap_session *s)
{
	const char *reply = memchr(tagged.data, ' ', tagged.len);
	int no;

	if (reply == NULL)
		return;
	reply++;
	if (!(no = strncmp(reply, "NO ", 3) == 0) &&
	    strncmp(reply, "BAD ", 4) != 0)
		return;
	if (no)
		s->nno++;
	else
		s->nbad++;
	log_info("sid=%s command=%s reply=%.*s", s->id,
	    s->cmd_name != NULL ? s->cmd_name : "?",
	    (int)(tagged.data + tagged.len - 2 - reply), reply);
}

/* Send the tagged reply (after the untagged updates), logging a NO or
 * BAD. */
void
imap_tagged_send(struct imap_session *s)
{
	if (tagged.len > 0) {
		session_log_reply(s);
		buf_append(&s->conn.out, tagged.data, tagged.len);
	}
	buf_reset(&tagged);
}

void
imap_reply_init(void)
{
	buf_init(&tagged, 0);
}

void
imap_reply_free(void)
{
	buf_release(&tagged);
}
