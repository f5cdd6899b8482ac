/*
 * The webmail's front: every browser's connection, in one event loop
 * (libevent's evhttp over bufferevent_openssl).  It serves the static
 * files and the login form itself, checks passwords and sessions with
 * the auth service, and passes each request of a logged-in session to
 * that session's process (webmail.h), which alone can read the user's
 * Maildir.  It runs chrooted into the empty directory, as
 * server.login_user, under seccomp: a request that subverts it finds no
 * file to open, and reaches a mailbox only with a session's cookie or a
 * password.
 *
 * Every response carries the security headers; POSTs must come from our
 * own pages (Origin names this host, or Sec-Fetch-Site says so: see
 * web_same_origin()) and, after login, carry the session's CSRF token; a
 * GET never changes anything.  What a request says is read in form.c.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/mman.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "../global/authc.h"
#include "../global/authproto.h"
#include "../global/conf.h"
#include "../global/pool.h"
#include "../global/prog.h"
#include "../lib/daemon.h"
#include "../lib/log.h"
#include "../lib/net.h"
#include "../lib/tls.h"
#include "../lib/util.h"
#include "webmail.h"

#define LOGIN_CONNS	8	/* passwords checked at once */
#define LOGIN_QUEUE	256	/* waiting for a connection beyond those */
#define SESSION_RECHECK	30	/* seconds a checked session is trusted */
#define MAX_CACHED	4096	/* sessions known at once */
#define MAX_QUEUED	32	/* requests of one session waiting */
#define MAX_PAGE	(4 * 1024 * 1024)	/* a page the front makes */
#define MAX_STREAMS	8	/* live-update connections of a session */
#define STREAM_PING	15	/* seconds between keep-alive comments */

static const char csp_app[] = "default-src 'none'; script-src 'self'; "
    "style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'";
/* A mail's own document, shown in the page's sandboxed frame. */
static const char csp_frame[] = "sandbox allow-popups "
    "allow-popups-to-escape-sandbox; default-src 'none'; img-src data: "
    "'self'; style-src 'unsafe-inline'; font-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'self'";

struct wsess;

/* A request waiting for its session's process. */
struct breq {
	struct evhttp_request	*req;
	struct ipc_out		*msg;
	int			 fd;	/* uploaded files (memfd), or -1 */
	struct breq		*next;
};

/* A page's live updates (Server-Sent Events), held open. */
struct stream {
	struct evhttp_request	*req;
	struct evhttp_connection *evcon;
	struct wsess		*s;
	struct stream		*next;
};

/* A logged-in session the front knows. */
struct wsess {
	char		 id[WEB_ID_LEN + 1];
	char		 user[320];
	char		 csrf[WEB_ID_LEN + 1];
	time_t		 checked, used;
	int		 fd;		/* its process, or -1 */
	struct event	*ev;
	struct breq	*head, *tail;
	size_t		 nqueued;
	int		 sent;		/* head went to the process */
	int		 streaming;	/* head's reply started */
	struct stream	*streams;
	size_t		 nstreams;
	char		 watched[1024];	/* the folder its process watches */
	struct wsess	*next;
};

/* A login waiting for the auth service's verdict. */
struct plogin {
	struct evhttp_request	*req;
	char		 ip[NET_ADDRSTRLEN];
	char		*user, *password;
	int		 conn;		/* login connection, or -1 */
	struct plogin	*next;
};

struct ipcount {
	char	 ip[NET_ADDRSTRLEN];
	long	 n;
};

static struct {
	struct conf	*conf;
	struct prog_args args;
	struct pool	 pool;
	struct tls_ctx	*tls;
	SSL_CTX		*ssl;
	int		 ssl_idx;
	struct event_base *base;
	struct evhttp	*http;
	struct authc	*lookup;
	struct authc	*login[LOGIN_CONNS];
	struct plogin	*login_busy[LOGIN_CONNS];
	struct event	*login_ev[LOGIN_CONNS];
	struct plogin	*waiting, **waiting_tail;
	size_t		 nwaiting;
	struct wsess	*sessions;
	size_t		 nsessions;
	struct ipcount	*ips;
	long		 nconns;
	unsigned long	 nhandoffs;
	struct ipc_in	 in;
} F;

/* ---- connections: counted per address, refused beyond the limits ---- */

static struct ipcount *
ip_slot(const char *ip, int add)
{
	struct ipcount *free_slot = NULL;
	long i;

	for (i = 0; i < F.conf->web.max_connections; i++) {
		if (F.ips[i].n > 0 && strcmp(F.ips[i].ip, ip) == 0)
			return &F.ips[i];
		if (F.ips[i].n == 0 && free_slot == NULL)
			free_slot = &F.ips[i];
	}
	if (add && free_slot != NULL)
		util_strcpy(free_slot->ip, ip, sizeof(free_slot->ip));
	return add ? free_slot : NULL;
}

/* OpenSSL frees a connection's SSL with its bufferevent: uncount it. */
static void
conn_gone(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
    void *argp)
{
	struct ipcount *c = ptr;

	(void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
	if (c == NULL)
		return;
	c->n--;
	F.nconns--;
}

static struct bufferevent *
conn_new(struct event_base *base, void *arg)
{
	SSL *ssl;

	(void)arg;
	if ((ssl = SSL_new(F.ssl)) == NULL)
		return NULL;
	/* evhttp sets the socket it accepted once this returns. */
	return bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE |
	    BEV_OPT_DEFER_CALLBACKS);
}

/*
 * evhttp gives the new socket to the bufferevent after conn_new; we see
 * it on the first request.  The count starts there (a connection that
 * never sends a request holds only request_timeout).
 */
static int
conn_admit(struct evhttp_request *req)
{
	static const int one = 1;
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char ip[NET_ADDRSTRLEN];
	struct ipcount *c;
	SSL *ssl;
	int fd;

	if (evcon == NULL || (bev = evhttp_connection_get_bufferevent(
	    evcon)) == NULL || (ssl = bufferevent_openssl_get_ssl(bev)) ==
	    NULL)
		return -1;
	if (SSL_get_ex_data(ssl, F.ssl_idx) != NULL)
		return 0;		/* counted already */
	fd = bufferevent_getfd(bev);
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == -1)
		util_strcpy(ip, "?", sizeof(ip));
	else
		net_addr_str((struct sockaddr *)&ss, ip, sizeof(ip), NULL);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (F.nconns >= F.conf->web.max_connections ||
	    (c = ip_slot(ip, 1)) == NULL) {
		log_warn("service=webmail client=[%s] refused: too many "
		    "connections (max_connections)", ip);
		return -1;
	}
	if (c->n >= F.conf->web.max_connections_per_ip) {
		log_warn("service=webmail client=[%s] refused: too many "
		    "connections from this address (max_connections_per_ip)",
		    ip);
		return -1;
	}
	c->n++;
	F.nconns++;
	SSL_set_ex_data(ssl, F.ssl_idx, c);
	return 0;
}

static const char *
client_ip(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev;
	struct ipcount *c;
	SSL *ssl;

	if (evcon != NULL && (bev = evhttp_connection_get_bufferevent(
	    evcon)) != NULL && (ssl = bufferevent_openssl_get_ssl(bev)) !=
	    NULL && (c = SSL_get_ex_data(ssl, F.ssl_idx)) != NULL)
		return c->ip;
	return "?";
}

/* ---- responses ---- */

enum kind { K_APP, K_FRAME, K_FILE };

static void
headers(struct evhttp_request *req, enum kind kind, const char *type)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Type", type);
	evhttp_add_header(h, "Strict-Transport-Security",
	    "max-age=31536000");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "Cross-Origin-Opener-Policy", "same-origin");
	evhttp_add_header(h, "Cross-Origin-Resource-Policy", "same-origin");
	evhttp_add_header(h, "Content-Security-Policy", kind == K_FRAME ?
	    csp_frame : csp_app);
	if (kind != K_FRAME)
		evhttp_add_header(h, "X-Frame-Options", "DENY");
}

static void
reply(struct evhttp_request *req, int status, const char *type,
    const char *body, size_t len)
{
	struct evbuffer *out = evhttp_request_get_output_buffer(req);

	headers(req, K_APP, type);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Cache-Control", "no-store");
	evbuffer_add(out, body, len);
	evhttp_send_reply(req, status, NULL, NULL);
}

static void
reply_text(struct evhttp_request *req, int status, const char *text)
{
	reply(req, status, "text/plain; charset=utf-8", text, strlen(text));
}

static void
reply_page(struct evhttp_request *req, int status, struct buf *b)
{
	reply(req, status, "text/html; charset=utf-8", b->data, b->len);
}

static void
redirect(struct evhttp_request *req, const char *to, const char *cookie)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Location", to);
	if (cookie != NULL)
		evhttp_add_header(h, "Set-Cookie", cookie);
	reply_text(req, 303, "See Other\n");
}

static void
reply_login(struct evhttp_request *req, int status, const char *error)
{
	struct buf b;

	buf_init(&b, MAX_PAGE);
	page_login(&b, error);
	reply_page(req, status, &b);
	buf_release(&b);
}

/* ---- what the request says ---- */

/* What form.c reads of req (evhttp parsed its framing): a POST's body
 * made contiguous when form.c may read it. */
static void
http_of(struct evhttp_request *req, struct web_http *h)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	struct evbuffer *in = evhttp_request_get_input_buffer(req);

	memset(h, 0, sizeof(*h));
	h->post = evhttp_request_get_command(req) == EVHTTP_REQ_POST;
	h->path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	h->query = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	h->headers = evhttp_request_get_input_headers(req);
	if (h->post && (h->body_len = evbuffer_get_length(in)) > 0 &&
	    h->body_len <= WEB_MAX_FORM)
		h->body = (const char *)evbuffer_pullup(in, -1);
}

/*
 * A form with files goes to the session's process as it came (it is
 * parsed there: see upload.c), in a memfd, with its Content-Type as the
 * parameter "upload"; its CSRF token is in the form's URL.  0 or -1.
 */
static int
upload_pass(struct evhttp_request *req, struct evkeyvalq *q, int *fd_r)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	const char *type = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Content-Type");
	size_t len = evbuffer_get_length(in);
	int fd;

	if (type == NULL || strlen(type) > 1000 ||
	    !web_utf8_valid(type, strlen(type)) ||
	    (fd = memfd_create("upload", MFD_CLOEXEC)) == -1)
		return -1;
	while (evbuffer_get_length(in) > 0)
		if (evbuffer_write(in, fd) <= 0) {
			close(fd);
			return -1;
		}
	(void)len;
	evhttp_add_header(q, "upload", type);
	*fd_r = fd;
	return 0;
}

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

static void
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
static struct wsess *
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
	free(b->msg);
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
			free(o);
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
static void
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
	o = util_calloc(1, sizeof(*o));
	if ((st = web_request_build(o, evhttp_request_get_command(req) ==
	    EVHTTP_REQ_POST, path, s->csrf, q)) != 0) {
		free(o);
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
	struct ipc_out *o = util_calloc(1, sizeof(*o));

	ipc_begin(o, WB_REQUEST);
	ipc_put_str(o, "POST");
	ipc_put_str(o, folder != NULL ? "/watch" : "/unwatch");
	ipc_put_str(o, s->csrf);
	if (folder != NULL) {
		ipc_put_str(o, "f");
		ipc_put_str(o, folder);
	}
	if (s->nqueued < MAX_QUEUED)
		(void)breq_add(s, NULL, o, "-", -1);
	else
		free(o);
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
static void
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

/* ---- login and logout ---- */

static void login_start(struct plogin *l, int conn);

static void
plogin_free(struct plogin *l)
{
	if (l->password != NULL) {
		explicit_bzero(l->password, strlen(l->password));
		free(l->password);
	}
	free(l->user);
	free(l);
}

static void
login_done(evutil_socket_t fd, short what, void *arg)
{
	struct plogin *l = F.login_busy[(intptr_t)arg];
	int conn = (int)(intptr_t)arg;
	char id[WEB_ID_LEN + 1], csrf[WEB_ID_LEN + 1], user[320], cookie[160];
	enum auth_result r;

	(void)fd;
	(void)what;
	if (l == NULL)
		return;
	F.login_busy[conn] = NULL;
	r = authc_password_recv(F.login[conn]);
	if (r == AUTH_OK && authc_web_new(F.lookup,
	    authc_token(F.login[conn]), l->ip, id, sizeof(id), csrf,
	    sizeof(csrf), user, sizeof(user)) == 1) {
		snprintf(cookie, sizeof(cookie), "%s=%s; Secure; HttpOnly; "
		    "SameSite=Strict; Path=/", WEB_COOKIE, id);
		redirect(l->req, "/mail", cookie);
		explicit_bzero(id, sizeof(id));
		explicit_bzero(cookie, sizeof(cookie));
	} else if (r == AUTH_FAIL)
		reply_login(l->req, 403, "Login failed.");
	else
		reply_login(l->req, 503, "The service is busy; try again "
		    "later.");
	plogin_free(l);
	if (authc_broken(F.login[conn])) {
		/* It cannot reconnect from the chroot: the front ends
		 * once the others are done, and maild starts a new one. */
		log_err("webmail: lost a connection to the auth service");
		event_del(F.login_ev[conn]);
		return;
	}
	if (F.waiting != NULL) {
		l = F.waiting;
		if ((F.waiting = l->next) == NULL)
			F.waiting_tail = &F.waiting;
		F.nwaiting--;
		login_start(l, conn);
	}
}

static void
login_start(struct plogin *l, int conn)
{
	F.login_busy[conn] = l;
	l->conn = conn;
	if (authc_password_send(F.login[conn], "web", l->ip, 1, l->user,
	    l->password) == -1) {
		F.login_busy[conn] = NULL;
		reply_login(l->req, 503, "The service is busy; try again "
		    "later.");
		plogin_free(l);
		return;
	}
	explicit_bzero(l->password, strlen(l->password));
}

static void
login_post(struct evhttp_request *req, const struct web_http *h)
{
	struct evkeyvalq q = TAILQ_HEAD_INITIALIZER(q);
	const char *user, *password;
	struct plogin *l;
	int i;

	if (web_form_parse(h, &q) == -1 ||
	    (user = evhttp_find_header(&q, "user")) == NULL ||
	    (password = evhttp_find_header(&q, "password")) == NULL ||
	    strlen(user) == 0 || strlen(user) > 256 || strlen(password) > 1024) {
		evhttp_clear_headers(&q);
		reply_login(req, 400, "Enter your address and password.");
		return;
	}
	l = util_calloc(1, sizeof(*l));
	l->req = req;
	l->conn = -1;
	util_strcpy(l->ip, client_ip(req), sizeof(l->ip));
	l->user = util_strdup(user);
	l->password = util_strdup(password);
	evhttp_clear_headers(&q);
	for (i = 0; i < LOGIN_CONNS; i++)
		if (F.login_busy[i] == NULL && !authc_broken(F.login[i])) {
			login_start(l, i);
			return;
		}
	if (F.nwaiting >= LOGIN_QUEUE) {
		reply_login(req, 503, "The service is busy; try again later.");
		plogin_free(l);
		return;
	}
	*F.waiting_tail = l;
	F.waiting_tail = &l->next;
	F.nwaiting++;
}

static void
logout(struct evhttp_request *req, struct wsess *s)
{
	char cookie[120];

	(void)authc_web_end(F.lookup, s->id);
	log_info("webmail session ended user=%s client=[%s]",
	    log_str(s->user), client_ip(req));
	sess_free(s);
	snprintf(cookie, sizeof(cookie), "%s=; Secure; HttpOnly; "
	    "SameSite=Strict; Path=/; Max-Age=0", WEB_COOKIE);
	redirect(req, "/login", cookie);
}

/* ---- routing ---- */

static void
serve_asset(struct evhttp_request *req, const struct asset *a)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	const char *inm = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "If-None-Match");

	headers(req, K_APP, a->type);
	evhttp_add_header(h, "Cache-Control", "max-age=3600");
	evhttp_add_header(h, "ETag", a->etag);
	if (inm != NULL && strcmp(inm, a->etag) == 0) {
		evhttp_send_reply(req, 304, NULL, NULL);
		return;
	}
	evbuffer_add_reference(evhttp_request_get_output_buffer(req),
	    a->data, a->len, NULL, NULL);
	evhttp_send_reply(req, 200, NULL, NULL);
}

static void
request(struct evhttp_request *req, void *arg)
{
	struct evkeyvalq q = TAILQ_HEAD_INITIALIZER(q);
	struct web_http h;
	enum web_route route;
	const struct asset *a;
	struct wsess *s;
	int st, files = -1;

	(void)arg;
	if (conn_admit(req) == -1) {
		evhttp_connection_free_on_completion(
		    evhttp_request_get_connection(req));
		reply_text(req, 503, "Too many connections\n");
		return;
	}
	http_of(req, &h);
	if ((route = web_request_route(&h)) == WEB_R_BAD) {
		reply_text(req, 400, "Bad request\n");
		return;
	}
	if (!h.post && (a = asset_find(h.path)) != NULL) {
		serve_asset(req, a);
		return;
	}
	if (route == WEB_R_FOREIGN) {
		reply_text(req, 403, "Forbidden: the request did not come "
		    "from this site\n");
		return;
	}
	if (route == WEB_R_LOGIN) {
		if (h.post)
			login_post(req, &h);
		else
			reply_login(req, 200, NULL);
		return;
	}
	s = sess_get(req);
	if (route == WEB_R_ROOT) {
		redirect(req, s != NULL ? "/mail" : "/login", NULL);
		return;
	}
	if (route == WEB_R_OTHER) {
		reply_text(req, 404, "Not found\n");
		return;
	}
	if (s == NULL) {
		if (h.post)
			reply_text(req, 403, "Forbidden: not logged in\n");
		else
			redirect(req, "/login", NULL);
		return;
	}
	if ((st = web_request_params(&h, s->csrf, &q)) != 0) {
		reply_text(req, st, st == 403 ? "Forbidden: the form has "
		    "expired; reload the page\n" : "Bad request\n");
		return;
	}
	/* A form with files: passed on as it came (see upload_pass()). */
	if (web_is_upload(&h) && (route != WEB_R_BACKEND ||
	    strcmp(h.path, "/send") != 0 || upload_pass(req, &q,
	    &files) == -1)) {
		evhttp_clear_headers(&q);
		reply_text(req, 400, "Bad request\n");
		return;
	}
	if (route == WEB_R_LOGOUT)
		logout(req, s);
	else if (route == WEB_R_EVENTS)
		stream_open(req, s, &q);
	else {
		to_backend(req, s, h.path, &q, files);
		files = -1;
	}
	if (files != -1)
		close(files);
	evhttp_clear_headers(&q);
}

/* ---- the process ---- */

static void
status_read(evutil_socket_t fd, short what, void *arg)
{
	int r;

	(void)what;
	(void)arg;
	if ((r = ipc_recv(fd, &F.pool.in, 0)) != 1) {
		if (r == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		event_base_loopexit(F.base, NULL);	/* maild is gone */
		return;
	}
	if (F.pool.in.fd != -1) {
		close(F.pool.in.fd);
		F.pool.in.fd = -1;
	}
	if (F.pool.in.type == POOL_EXIT)
		event_base_loopexit(F.base, NULL);
	/* POOL_DONE of a handoff: a failed one closed the socket pair. */
}

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	struct wsess *s, *next;
	struct stream *st;
	time_t now = time(NULL);

	(void)fd;
	(void)what;
	(void)arg;
	if (daemon_term || authc_broken(F.lookup)) {
		event_base_loopexit(F.base, NULL);
		return;
	}
	/* Forget sessions unused for long (the auth service keeps them);
	 * keep the live updates' connections open. */
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

void
front_main(int argc, char **argv)
{
	struct timeval tv = { 1, 0 };
	struct event *ev;
	const char *err;
	size_t i;

	signal(SIGPIPE, SIG_IGN);
	F.conf = prog_init(argc, argv, "webmail", &F.args, NULL);
	pool_init(&F.pool, &F.args, F.conf, "webmail", 1, &F.tls);
	if (F.tls == NULL)
		fatalx("the webmail needs a certificate ([tls] cert, key)");
	F.ssl = tls_ctx_ssl(F.tls);
	F.ssl_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, conn_gone);
	if ((F.lookup = authc_connect(F.conf->server.data_dir, &err)) == NULL)
		fatalx("auth service: %s", err);
	for (i = 0; i < LOGIN_CONNS; i++)
		if ((F.login[i] = authc_connect(F.conf->server.data_dir,
		    &err)) == NULL)
			fatalx("auth service: %s", err);
	F.waiting_tail = &F.waiting;
	F.ips = util_calloc((size_t)F.conf->web.max_connections,
	    sizeof(*F.ips));
	if ((F.base = event_base_new()) == NULL ||
	    (F.http = evhttp_new(F.base)) == NULL)
		fatalx("libevent: cannot set up");
	evhttp_set_bevcb(F.http, conn_new, NULL);
	evhttp_set_gencb(F.http, request, NULL);
	evhttp_set_timeout(F.http, (int)F.conf->web.request_timeout);
	evhttp_set_max_headers_size(F.http, F.conf->web.max_header);
	evhttp_set_max_body_size(F.http, F.conf->web.max_body);
	evhttp_set_allowed_methods(F.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD);
	for (i = 0; i < F.pool.nfds; i++) {
		evutil_make_socket_nonblocking(F.pool.fds[i].fd);
		if (evhttp_accept_socket(F.http, F.pool.fds[i].fd) == -1)
			fatalx("libevent: cannot accept on a socket");
	}
	for (i = 0; i < LOGIN_CONNS; i++) {
		F.login_ev[i] = event_new(F.base, authc_fd(F.login[i]),
		    EV_READ | EV_PERSIST, login_done, (void *)(intptr_t)i);
		event_add(F.login_ev[i], NULL);
	}
	evutil_make_socket_nonblocking(F.pool.status);
	ev = event_new(F.base, F.pool.status, EV_READ | EV_PERSIST,
	    status_read, NULL);
	event_add(ev, NULL);
	event_add(event_new(F.base, -1, EV_PERSIST, tick, NULL), &tv);
	pool_confine_login(F.conf);
	pool_ready(&F.pool);
	log_info("ready: HTTPS on %zu socket(s)", F.pool.nfds);
	event_base_dispatch(F.base);
	log_info("stopping");
	_exit(0);
}
