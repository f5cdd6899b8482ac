/*
 * The webmail's front, its side of the sessions: the session a cookie
 * names (checked with the auth service, trusted for SESSION_RECHECK
 * seconds), the session's process (asked of maild with a token the
 * auth service gives for the session) and the requests queued for it,
 * its answers relayed to the browser, and the pages' live updates
 * (Server-Sent Events) fed by what the process reports.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <openssl/crypto.h>

#include "../global/authc.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "front.h"

/* ---- sessions ---- */

static struct wsess *
sess_find(const char *id)
{
	struct wsess *s;

	for (s = F.sessions; s != NULL; s = s->next)
		if (CRYPTO_memcmp(s->id, id, WEB_ID_LEN) == 0)
			return s;
	return NULL;
}

static void breq_fail(struct wsess *s, int status, const char *why);
static void stream_remove(struct stream *st, int end);

static void
sess_backend_close(struct wsess *s)
{
	if (s->ev != NULL)
		event_free(s->ev);
	s->ev = NULL;
	if (s->fd != -1)
		close(s->fd);
	s->fd = -1;
	s->sent = s->streaming = 0;
}

void
sess_free(struct wsess *s)
{
	struct wsess **pp;

	for (pp = &F.sessions; *pp != s; pp = &(*pp)->next)
		;
	*pp = s->next;
	F.nsessions--;
	while (s->streams != NULL)
		stream_remove(s->streams, 1);
	breq_fail(s, 503, "session ended");
	sess_backend_close(s);
	explicit_bzero(s, sizeof(*s));
	free(s);
}

/* The live session the request's cookie names (checked with the auth
 * service at most every SESSION_RECHECK seconds), or NULL. */
struct wsess *
sess_get(struct evhttp_request *req)
{
	char id[WEB_ID_LEN + 2], user[320], csrf[WEB_ID_LEN + 1];
	struct wsess *s, *old, *o;
	time_t now = time(NULL);
	int r;

	if (web_cookie_id(evhttp_request_get_input_headers(req), id,
	    sizeof(id)) == NULL || strlen(id) != WEB_ID_LEN)
		return NULL;
	if ((s = sess_find(id)) != NULL && now - s->checked < SESSION_RECHECK) {
		s->used = now;
		return s;
	}
	r = authc_web_check(F.lookup, id, user, sizeof(user), csrf,
	    sizeof(csrf));
	if (r != 1) {
		if (s != NULL)
			sess_free(s);
		return NULL;
	}
	if (s == NULL) {
		if (F.nsessions >= MAX_CACHED) {
			for (old = o = F.sessions; o != NULL; o = o->next)
				if (o->used < old->used)
					old = o;
			sess_free(old);
		}
		s = util_calloc(1, sizeof(*s));
		s->fd = -1;
		util_strcpy(s->id, id, sizeof(s->id));
		s->next = F.sessions;
		F.sessions = s;
		F.nsessions++;
	}
	util_strcpy(s->user, user, sizeof(s->user));
	util_strcpy(s->csrf, csrf, sizeof(s->csrf));
	s->checked = s->used = now;
	return s;
}

/* ---- requests for a session's process ---- */

static void breq_next(struct wsess *s);
static void backend_read(evutil_socket_t fd, short what, void *arg);
static void stream_event(struct wsess *s);
static void watch(struct wsess *s, const char *folder);

/*
 * A request's message to a session's process is 64 KiB (struct
 * ipc_out); calloc'ing and freeing one per request made glibc zero it
 * and give the top of the heap back to the kernel (brk) each time: a
 * quarter of the front's CPU under load.  A few are kept for reuse.
 */
#define MSG_SPARES	8

static struct ipc_out	*msg_spare[MSG_SPARES];
static size_t		 msg_nspare;

static struct ipc_out *
msg_get(void)
{
	if (msg_nspare > 0)
		return msg_spare[--msg_nspare];
	return util_calloc(1, sizeof(struct ipc_out));
}

static void
msg_put(struct ipc_out *o)
{
	if (o == NULL)
		return;
	if (msg_nspare < MSG_SPARES)
		msg_spare[msg_nspare++] = o;	/* ipc_begin() starts it over */
	else
		free(o);
}

static void
breq_pop(struct wsess *s)
{
	struct breq *b = s->head;

	if ((s->head = b->next) == NULL)
		s->tail = NULL;
	s->nqueued--;
	s->sent = s->streaming = 0;
	if (b->fd != -1)
		close(b->fd);
	msg_put(b->msg);
	free(b);
}

/* Answer every waiting request (the process is gone or never came). */
static void
breq_fail(struct wsess *s, int status, const char *why)
{
	while (s->head != NULL) {
		if (s->head->req == NULL)
			;		/* the front's own (watch) */
		else if (s->streaming)
			evhttp_send_reply_end(s->head->req);
		else
			reply_text(s->head->req, status, why);
		breq_pop(s);
	}
}

/* Ask maild for a process of the session's user (a token from the auth
 * service proves the session to it). */
static int
backend_start(struct wsess *s, const char *ip)
{
	struct pool_session ps;
	int sv[2];

	memset(&ps, 0, sizeof(ps));
	if (authc_web_token(F.lookup, s->id, ps.token, sizeof(ps.token)) != 1)
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		log_err("socketpair: %s", strerror(errno));
		return -1;
	}
	util_strcpy(ps.service, "webmail", sizeof(ps.service));
	snprintf(ps.sid, sizeof(ps.sid), "w%lx", ++F.nhandoffs);
	util_strcpy(ps.client_ip, ip, sizeof(ps.client_ip));
	ps.relayed = 1;
	ps.fd = sv[1];
	if (pool_handoff_send(&F.pool, &ps) == -1) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	close(sv[1]);
	explicit_bzero(ps.token, sizeof(ps.token));
	s->fd = sv[0];
	evutil_make_socket_nonblocking(s->fd);
	s->ev = event_new(F.base, s->fd, EV_READ | EV_PERSIST, backend_read,
	    s);
	event_add(s->ev, NULL);
	log_debug("webmail: user=%s: a process asked for (sid %s)",
	    log_str(s->user), ps.sid);
	return 0;
}

static void
breq_next(struct wsess *s)
{
	if (s->head == NULL || s->sent)
		return;
	if (ipc_send(s->fd, s->head->msg, s->head->fd) == -1) {
		log_err("webmail: user=%s: to its process: %s",
		    log_str(s->user), strerror(errno));
		sess_backend_close(s);
		breq_fail(s, 503, "Service unavailable, try again\n");
		return;
	}
	s->sent = 1;
}

/* What a session's process may add to a response's headers. */
static int
header_allowed(const char *name)
{
	return strcmp(name, "Content-Disposition") == 0 ||
	    strcmp(name, "Location") == 0;
}

/* The head request's response starts: status, type, headers, body. */
static int
backend_response(struct wsess *s)
{
	struct evhttp_request *req = s->head->req;
	struct evkeyvalq *h = req != NULL ?
	    evhttp_request_get_output_headers(req) : NULL;
	const char *status = ipc_get_str(&F.in), *type = ipc_get_str(&F.in);
	const char *more = ipc_get_str(&F.in), *name, *value;
	const struct ipc_field *body = ipc_get(&F.in);
	enum kind kind = K_APP;
	long st;

	if (status == NULL || type == NULL || more == NULL || body == NULL)
		return -1;
	st = strtol(status, NULL, 10);
	if (st < 200 || st > 599)
		return -1;
	if (req == NULL) {		/* the front's own: nothing to say */
		if (strcmp(more, "1") == 0)
			return -1;
		breq_pop(s);
		return 1;
	}
	if (strncmp(type, "frame:", 6) == 0) {	/* a mail's own document */
		kind = K_FRAME;
		type += 6;
	}
	headers(req, kind, type);
	evhttp_add_header(h, "Cache-Control", "no-store");
	while (ipc_left(&F.in) >= 2) {
		if ((name = ipc_get_str(&F.in)) == NULL ||
		    (value = ipc_get_str(&F.in)) == NULL ||
		    !header_allowed(name) || strpbrk(value, "\r\n") != NULL)
			return -1;
		evhttp_add_header(h, name, value);
	}
	if (strcmp(more, "1") != 0) {
		evbuffer_add(evhttp_request_get_output_buffer(req), body->data,
		    body->len);
		evhttp_send_reply(req, (int)st, NULL, NULL);
		breq_pop(s);
		return 1;
	}
	evhttp_send_reply_start(req, (int)st, NULL);
	s->streaming = 1;
	if (body->len > 0) {
		struct evbuffer *b = evbuffer_new();

		evbuffer_add(b, body->data, body->len);
		evhttp_send_reply_chunk(req, b);
		evbuffer_free(b);
	}
	return 0;
}

static void
backend_read(evutil_socket_t fd, short what, void *arg)
{
	struct wsess *s = arg;
	const struct ipc_field *f;
	struct evbuffer *b;
	int r;

	(void)what;
	if ((r = ipc_recv(fd, &F.in, 0)) != 1) {
		if (r == -1 && (errno == EAGAIN || errno == EINTR ||
		    errno == ETIMEDOUT))
			return;
		/* Gone (idle, or it failed): the next request starts
		 * another. */
		sess_backend_close(s);
		breq_fail(s, 503, "Service unavailable, try again\n");
		return;
	}
	if (F.in.fd != -1) {
		close(F.in.fd);
		F.in.fd = -1;
	}
	if (F.in.type == WB_EVENT) {
		stream_event(s);
		return;
	}
	if (s->head == NULL || !s->sent)
		goto bad;
	switch (F.in.type) {
	case WB_RESPONSE:
		if (s->streaming || (r = backend_response(s)) == -1)
			goto bad;
		break;
	case WB_BODY:
		if (!s->streaming || (f = ipc_get(&F.in)) == NULL)
			goto bad;
		b = evbuffer_new();
		evbuffer_add(b, f->data, f->len);
		evhttp_send_reply_chunk(s->head->req, b);
		evbuffer_free(b);
		return;
	case WB_END:
		if (!s->streaming)
			goto bad;
		evhttp_send_reply_end(s->head->req);
		breq_pop(s);
		break;
	default:
		goto bad;
	}
	breq_next(s);
	return;
bad:
	log_err("webmail: user=%s: its process said what it may not",
	    log_str(s->user));
	sess_backend_close(s);
	breq_fail(s, 502, "Bad gateway\n");
}

/* Queue o for the session's process (started if need be); req NULL
 * for the front's own requests.  0, or -1 (o freed, nothing answered). */
static int
breq_add(struct wsess *s, struct evhttp_request *req, struct ipc_out *o,
    const char *ip, int fd)
{
	struct breq *b;

	if (s->fd == -1) {
		if (backend_start(s, ip) == -1) {
			msg_put(o);
			if (fd != -1)
				close(fd);
			return -1;
		}
		if (s->nstreams > 0 && req != NULL)
			watch(s, s->watched);	/* a new process: again */
	}
	b = util_calloc(1, sizeof(*b));
	b->req = req;
	b->msg = o;
	b->fd = fd;
	if (s->tail != NULL)
		s->tail->next = b;
	else
		s->head = b;
	s->tail = b;
	s->nqueued++;
	breq_next(s);
	return 0;
}

/* Pass a request to the session's process. */
void
to_backend(struct evhttp_request *req, struct wsess *s, const char *path,
    const struct evkeyvalq *q, int fd)
{
	struct ipc_out *o;
	int st;

	if (s->nqueued >= MAX_QUEUED) {
		if (fd != -1)
			close(fd);
		reply_text(req, 503, "Too many requests at once\n");
		return;
	}
	o = msg_get();
	if ((st = web_request_build(o, evhttp_request_get_command(req) ==
	    EVHTTP_REQ_POST, path, s->csrf, q)) != 0) {
		msg_put(o);
		if (fd != -1)
			close(fd);
		reply_text(req, st, st == 413 ? "Request too large\n" :
		    "Bad request\n");
		return;
	}
	if (breq_add(s, req, o, client_ip(req), fd) == -1)
		reply_text(req, 503, "Service unavailable, try again\n");
}

/* ---- live updates ---- */

/* Ask the session's process to watch folder (and INBOX), or to stop
 * (folder NULL); its answer is the front's, not a browser's. */
static void
watch(struct wsess *s, const char *folder)
{
	struct ipc_out *o = msg_get();
	struct evkeyvalq q = TAILQ_HEAD_INITIALIZER(q);

	if (folder != NULL)
		evhttp_add_header(&q, "f", folder);
	if (web_request_build(o, 1, folder != NULL ? "/watch" : "/unwatch",
	    s->csrf, &q) == 0 && s->nqueued < MAX_QUEUED)
		(void)breq_add(s, NULL, o, "-", -1);
	else
		msg_put(o);
	evhttp_clear_headers(&q);
}

static void
stream_remove(struct stream *st, int end)
{
	struct wsess *s = st->s;
	struct stream **pp;

	for (pp = &s->streams; *pp != st; pp = &(*pp)->next)
		;
	*pp = st->next;
	s->nstreams--;
	if (end) {
		evhttp_connection_set_closecb(st->evcon, NULL, NULL);
		evhttp_send_reply_end(st->req);
	} else
		evhttp_send_reply_end(st->req);	/* frees it: no connection */
	free(st);
	if (!end && s->nstreams == 0 && s->fd != -1)
		watch(s, NULL);
}

static void
stream_closed(struct evhttp_connection *evcon, void *arg)
{
	(void)evcon;
	stream_remove(arg, 0);
}

static void
stream_write(struct stream *st, const char *text)
{
	struct evbuffer *b = evbuffer_new();

	evbuffer_add(b, text, strlen(text));
	evhttp_send_reply_chunk(st->req, b);
	evbuffer_free(b);
}

/* GET /events?f=<folder>: the page's EventSource. */
void
stream_open(struct evhttp_request *req, struct wsess *s,
    struct evkeyvalq *q)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	const char *f = evhttp_find_header(q, "f");
	struct stream *st;

	if (s->nstreams >= MAX_STREAMS || f == NULL || strlen(f) >=
	    sizeof(s->watched) || !web_utf8_valid(f, strlen(f))) {
		reply_text(req, s->nstreams >= MAX_STREAMS ? 429 : 400,
		    "No more live updates\n");
		return;
	}
	if (s->nstreams == 0 || strcmp(s->watched, f) != 0) {
		util_strcpy(s->watched, f, sizeof(s->watched));
		watch(s, f);
	}
	headers(req, K_APP, "text/event-stream");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_send_reply_start(req, 200, "OK");
	st = util_calloc(1, sizeof(*st));
	st->req = req;
	st->evcon = evhttp_request_get_connection(req);
	st->s = s;
	st->next = s->streams;
	s->streams = st;
	s->nstreams++;
	evhttp_connection_set_closecb(st->evcon, stream_closed, st);
	stream_write(st, "retry: 5000\n\n");
}

/* WB_EVENT folder unseen messages modseq: to every page of the session. */
static void
stream_event(struct wsess *s)
{
	const char *v[4];
	struct stream *st;
	struct buf b;
	size_t i;

	for (i = 0; i < 4; i++)
		if ((v[i] = ipc_get_str(&F.in)) == NULL ||
		    strlen(v[i]) > 1000 || strpbrk(v[i], "\"\\\r\n") != NULL)
			return;
	buf_init(&b, 0);
	buf_printf(&b, "event: mailbox\ndata: {\"folder\":\"%s\",\"unseen\":"
	    "%s,\"messages\":%s,\"modseq\":\"%s\"}\n\n", v[0], v[1], v[2],
	    v[3]);
	for (st = s->streams; st != NULL; st = st->next)
		stream_write(st, b.data);
	buf_release(&b);
}

/* Forget sessions unused for long (the auth service keeps them); keep
 * the live updates' connections open. */
void
sessions_tick(time_t now)
{
	struct wsess *s, *next;
	struct stream *st;

	for (s = F.sessions; s != NULL; s = next) {
		next = s->next;
		if (s->head == NULL && s->nstreams == 0 && now - s->used > 2 *
		    F.conf->web.backend_idle)
			sess_free(s);
		else if (now % STREAM_PING == 0)
			for (st = s->streams; st != NULL; st = st->next)
				stream_write(st, ": ping\n\n");
	}
}
