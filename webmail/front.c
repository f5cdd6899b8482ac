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
#include "front.h"

static const char csp_app[] = "default-src 'none'; script-src 'self'; "
    "style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'";
/* A mail's own document, shown in the page's sandboxed frame. */
static const char csp_frame[] = "sandbox allow-popups "
    "allow-popups-to-escape-sandbox; default-src 'none'; img-src data: "
    "'self'; style-src 'unsafe-inline'; font-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'self'";

struct front F;

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

const char *
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

void
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

void
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
	time_t now = time(NULL);

	(void)fd;
	(void)what;
	(void)arg;
	if (daemon_term || (F.lookup != NULL && authc_broken(F.lookup))) {
		event_base_loopexit(F.base, NULL);
		return;
	}
	sessions_tick(now);
}

/*
 * Plain HTTP (the optional [webmail_http] port) says one thing: the
 * same path over HTTPS, on the webmail's port (its first listen
 * address's).  No cookie, no HSTS (RFC 6797 §7.2: not over HTTP), no
 * page.
 */
static char https_port[16];

static void
redirect_plain(struct evhttp_request *req, void *arg)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	const char *host = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Host");
	const char *uri = evhttp_request_get_uri(req);
	char name[256], to[2048];
	size_t n;

	(void)arg;
	if (host == NULL || (n = strcspn(host, ":")) == 0 || n >= sizeof(name)
	    || host[0] == '[' || strspn(host, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:") != strlen(host) ||
	    uri == NULL || uri[0] != '/' || strpbrk(uri, "\r\n") != NULL ||
	    strlen(uri) > 1024) {
		evhttp_add_header(h, "Content-Type",
		    "text/plain; charset=utf-8");
		evbuffer_add_printf(evhttp_request_get_output_buffer(req),
		    "Use HTTPS.\n");
		evhttp_send_reply(req, 400, NULL, NULL);
		return;
	}
	memcpy(name, host, n);
	name[n] = '\0';
	snprintf(to, sizeof(to), "https://%s%s%s%s", name,
	    strcmp(https_port, "443") == 0 ? "" : ":",
	    strcmp(https_port, "443") == 0 ? "" : https_port, uri);
	evhttp_add_header(h, "Location", to);
	evhttp_add_header(h, "Content-Type", "text/plain; charset=utf-8");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evbuffer_add_printf(evhttp_request_get_output_buffer(req),
	    "Moved to HTTPS\n");
	evhttp_send_reply(req, 301, NULL, NULL);
}

/* A process of the plain-HTTP pool: redirects only, then nothing. */
static void
redirect_main(void)
{
	struct timeval tv = { 1, 0 };
	const char *p = F.conf->webmail.listen;
	char host[256];
	size_t i;

	util_strcpy(https_port, "443", sizeof(https_port));
	if (conf_listen_next(&p, host, sizeof(host), https_port,
	    sizeof(https_port)) != 0)
		util_strcpy(https_port, "443", sizeof(https_port));
	if ((F.base = event_base_new()) == NULL ||
	    (F.http = evhttp_new(F.base)) == NULL)
		fatalx("libevent: cannot set up");
	evhttp_set_gencb(F.http, redirect_plain, NULL);
	evhttp_set_timeout(F.http, (int)F.conf->web.request_timeout);
	evhttp_set_max_headers_size(F.http, F.conf->web.max_header);
	evhttp_set_max_body_size(F.http, 65536);	/* read, then dropped */
	for (i = 0; i < F.pool.nfds; i++) {
		evutil_make_socket_nonblocking(F.pool.fds[i].fd);
		if (evhttp_accept_socket(F.http, F.pool.fds[i].fd) == -1)
			fatalx("libevent: cannot accept on a socket");
	}
	evutil_make_socket_nonblocking(F.pool.status);
	event_add(event_new(F.base, F.pool.status, EV_READ | EV_PERSIST,
	    status_read, NULL), NULL);
	event_add(event_new(F.base, -1, EV_PERSIST, tick, NULL), &tv);
	pool_confine_login(F.conf);
	pool_ready(&F.pool);
	log_info("ready: plain HTTP on %zu socket(s), redirecting to port %s",
	    F.pool.nfds, https_port);
	event_base_dispatch(F.base);
	_exit(0);
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
	if (F.pool.nfds > 0 && strcmp(F.pool.fds[0].service, "webmail_http") ==
	    0)
		redirect_main();
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
