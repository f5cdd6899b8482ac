/*
 * webmail: the HTTPS web front end, in two kinds of process.
 *
 *	webmail.c	main: the front, or (-M web) a session's process
 *	front.c		the front: TLS, HTTP (libevent's evhttp), static
 *			files, login and logout, routing (front.h: its parts)
 *	relay.c		the front's sessions: cookies checked, each
 *			session's process and the requests passed to it,
 *			the live updates
 *	form.c		what the front reads of a request: routes, the
 *			cookie, the form, the CSRF and origin checks
 *	backend.c	a session's process: one user's Maildir, the
 *			requests the front passes (backend.h: its parts)
 *	view.c		its mail page: folders, the list, the toolbar
 *	message.c	a message: the reader pane, its own document for
 *			the sandboxed frame, attachments, the source
 *	threads.c	the conversation view
 *	act.c		what it changes: flags, moves, folders
 *	compose.c	writing: the form, sending through the queue
 *	search.c	searching a folder as IMAP's SEARCH does
 *	upload.c	a form with files, parsed with GMime
 *	pages.c		the frame of every page, the login form
 *	assets.c	the static files, built into the program
 *	escape.c	HTML escaping for every template, plain text bodies
 *			as HTML
 *	sanitize.c	HTML mail bodies through an allow-list (gumbo's
 *			HTML5 parser)
 *
 * The front is one process of maild's webmail pool, chrooted into the
 * empty directory as server.login_user under seccomp: it parses every
 * request and can open nothing.  It asks the auth service to check
 * passwords and sessions.  Each logged-in session that makes requests
 * has a process of its own (a post-login process, as IMAP's) that holds
 * only its user's Maildir; the front talks to it over a socket pair in
 * the messages below.  Parsing of the HTTP request is done by then: the
 * session's process gets a route and its parameters, already checked.
 */
#ifndef WEBMAIL_H
#define WEBMAIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "../lib/buf.h"
#include "../lib/ipc.h"

struct pool_ctx;
struct pool_session;

/*
 * front -> session process (SOCK_SEQPACKET, lib/ipc), one request at a
 * time, each answered before the next:
 *
 *	WB_REQUEST	method path csrf pairs
 *
 * session process -> front:
 *
 *	WB_RESPONSE	status content-type more body (name value)...
 *	WB_BODY		octets			(while more was "1")
 *	WB_END
 *	WB_EVENT	folder unseen messages modseq	(between responses)
 *
 * The path is one of the routes below; the parameters come from the
 * query and, for a POST, the form, in order, as the front decoded them
 * (valid UTF-8, no NUL), in the one field pairs: name NUL value NUL ...
 * (one field, not two a parameter, so that a message's 64 fields do not
 * bound them: a page's 50 rows selected are 50 "uid" parameters).  A form with files (only /send takes one) comes
 * as it is in a memfd passed with the request and a parameter "upload"
 * naming its Content-Type; the session's process parses it (upload.c).  The headers named in a response are only
 * those the front lets a session set (header_allowed()).  The front's
 * own requests "/watch" (f) and "/unwatch" start and stop WB_EVENTs: a
 * change to the folder watched or to INBOX, for the pages' live updates.
 */
enum web_msg {
	WB_REQUEST = 1,
	WB_RESPONSE = 100,
	WB_BODY,
	WB_END,
	WB_EVENT,
};

#define WEB_MAX_PARAMS	512	/* of a request (a page has 50 rows) */
#define WEB_CHUNK	(IPC_MAX - 1024)	/* body octets a message */
#define WEB_COOKIE	"__Host-maild"
#define WEB_MAX_FILES	20	/* attachments of one message */

struct web_param {
	const char	*name, *value;
};

struct web_request {
	const char	*method;	/* "GET", "POST" */
	const char	*path;
	/* what the front sent, and an upload's fields (upload.c) */
	struct web_param params[WEB_MAX_PARAMS + WEB_MAX_FILES + 16];
	size_t		 nparams;
	const char	*csrf;		/* the session's, for its forms */
	const char	*user;		/* the session's */
};

/* The value of a parameter (the first of that name), or NULL. */
const char *web_param(const struct web_request *r, const char *name);

/* A session's process (-M web): serve the front's requests. */
void	backend_serve(struct pool_ctx *ctx, int fd, const char *service,
	    const char *client_ip, int client_port,
	    const struct pool_session *post, void *arg);

/* The front (never returns). */
void	front_main(int argc, char **argv) __attribute__((noreturn));

/* ==== form.c: what the front reads of a request ==== */
/*
 * Everything the front reads of a request once evhttp has parsed its
 * framing (request line, headers, body length), with no event loop and
 * no state: the session's process is only ever handed what these
 * accepted.  fuzz/fuzz-webreq.c runs them as the front does.
 */
struct evkeyvalq;

#define WEB_MAX_FORM	IPC_MAX		/* octets of a form body read */

/* A request as evhttp hands it over. */
struct web_http {
	int		 post;		/* POST; else GET or HEAD */
	const char	*path;		/* the URI's, as sent (not decoded) */
	const char	*query;		/* or NULL */
	const struct evkeyvalq *headers;
	const char	*body;		/* a POST's; NULL when empty or longer
					 * than WEB_MAX_FORM */
	size_t		 body_len;
};

/* Where a request goes, as far as its path and headers tell, in the
 * order the front decides. */
enum web_route {
	WEB_R_BAD,		/* no path, or not one from the root: 400 */
	WEB_R_FOREIGN,		/* a POST not from our pages: 403 */
	WEB_R_LOGIN,		/* /login, the form or its POST */
	WEB_R_ROOT,		/* / */
	WEB_R_LOGOUT,		/* POST /logout */
	WEB_R_EVENTS,		/* GET /events, the live updates */
	WEB_R_BACKEND,		/* one of the session's process's routes */
	WEB_R_OTHER,		/* a static file for a GET, else 404 */
};
enum web_route web_request_route(const struct web_http *h);

/*
 * Does the POST come from one of our pages?  Origin must be
 * https://<Host>, or, when it is absent or "null", Sec-Fetch-Site
 * "same-origin" (see front.c).  The first header of each name counts.
 */
int	web_same_origin(const struct evkeyvalq *headers);

/* The session id in the Cookie header(s) into out, or NULL. */
const char *web_cookie_id(const struct evkeyvalq *headers, char *out,
	    size_t size);

/* A POST's form (application/x-www-form-urlencoded, at most
 * WEB_MAX_FORM octets, no NUL and no %00) appended to q (initialised); 0, or -1
 * (q as it was). */
int	web_form_parse(const struct web_http *h, struct evkeyvalq *q);

/*
 * The parameters of a logged-in session's request into q (initialised
 * here; evhttp_clear_headers() it): the query's, then a POST's form, in
 * order, values decoded ('+' is a space); and a POST's CSRF check
 * against csrf, the session's token (WEB_ID_LEN characters).  0, or the
 * HTTP status to answer (q then empty): 400 (a query or form that does
 * not parse or holds %00, a POST that is not a form), 403 (a POST without the
 * session's token).
 */
int	web_request_params(const struct web_http *h, const char *csrf,
	    struct evkeyvalq *q);
/* Is it a POST of a form with files (multipart/form-data)?  Its body is
 * left to the session's process (upload.c); web_request_params() then
 * reads only the query. */
int	web_is_upload(const struct web_http *h);

/*
 * The WB_REQUEST for the session's process into o: method ("POST", or
 * "GET" for GET and HEAD), path, csrf, then q's pairs.  0, or the HTTP
 * status to answer: 400 (more than WEB_MAX_PARAMS parameters, or a name
 * or value that is not web_utf8_valid()), 413 (larger than a message).
 */
int	web_request_build(struct ipc_out *o, int post, const char *path,
	    const char *csrf, const struct evkeyvalq *q);

/*
 * A WB_REQUEST read back (the session's process's side) into r, whose
 * strings point into in; r->user is left NULL for the caller.  Pairs
 * beyond WEB_MAX_PARAMS are ignored; a string without its NUL (a last
 * name without a value) makes it malformed.
 * The session's process reads its requests with it; the fuzzer too.
 * 0, or -1 when in is not a WB_REQUEST.
 */
int	web_request_decode(struct ipc_in *in, struct web_request *r);

/* The value of cookie name in a Cookie header (RFC 6265 §5.4) into out:
 * 1, 0 when absent, -1 when too long for out. */
int	web_cookie_get(const char *header, const char *name, char *out,
	    size_t size);
/* Is s (n octets) UTF-8 (RFC 3629: no overlong forms, no surrogates)
 * without NUL or other C0 controls but tab, CR and LF? */
int	web_utf8_valid(const char *s, size_t n);
/* Append s percent-encoded for a URL's query (RFC 3986 unreserved kept). */
int	web_url_encode(struct buf *b, const char *s);
/* path, then "?name=value&..." from (name, value) pairs up to a NULL
 * name, values encoded; pairs whose value is NULL or "" are left out. */
void	web_url(struct buf *b, const char *path, ...);
void	web_url_va(struct buf *b, const char *path, va_list ap);

/* ==== upload.c: a form with files (in a session's process) ==== */

/*
 * A multipart/form-data body (RFC 7578) parsed with GMime: field() is
 * called for each text field (UTF-8, no NUL), its files (at most
 * WEB_MAX_FILES) are written into a new memfd, *fd_r, each named by a
 * field "att" = "<offset> <length> <type> <name>".  0, or -1.
 */
int	upload_parse(const char *content_type, const char *body, size_t len,
	    void (*field)(const char *name, const char *value, void *arg),
	    void *arg, int *fd_r);

/* ==== pages.c ==== */

/* The login form; error: a message to show, or NULL. */
void	page_login(struct buf *b, const char *error);
/* A page's frame: its head (title), the body's start (class, and more
 * attributes already escaped, or NULL), and its end. */
void	page_begin(struct buf *b, const char *title);
void	page_body(struct buf *b, const char *body_class, const char *attrs);
void	page_end(struct buf *b);

/* ==== assets.c ==== */

struct asset {
	const char	*path;		/* "/static/app.css" */
	const char	*type;
	const unsigned char *data;
	size_t		 len;
	const char	*etag;
};
const struct asset *asset_find(const char *path);

/* ==== escape.c: HTML escaping ==== */
/*
 * Append s escaped for HTML text and for double- or single-quoted
 * attribute values: & < > " ' become entities, invalid UTF-8 and C0
 * controls other than tab, LF and CR become U+FFFD.  The one escaping
 * function every template uses.  0, or -1 when b's max would be passed
 * (b then holds a prefix of the escaped text).
 */
int	html_escape(struct buf *b, const char *s, size_t n);
int	html_escape_str(struct buf *b, const char *s);
/* The length of the valid UTF-8 sequence at s (at most n octets): 1 to
 * 4, or 0 when it is not one (RFC 3629 §4: no overlong form, surrogate
 * or code point past U+10FFFF). */
size_t	utf8_seqlen(const unsigned char *s, size_t n);
/*
 * A plain text body as HTML: escaped, line breaks kept as they are (the
 * caller shows it in <pre> or with white-space: pre-wrap; no <br>), and
 * http://, https:// and mailto: URLs made links that open in a new
 * browsing context without a referrer; trailing punctuation (".", ",",
 * an unbalanced ")") stays outside the link.  No other scheme is ever
 * a link.  0 or -1 as html_escape().
 */
int	text_to_html(struct buf *b, const char *text, size_t n);
/* ==== end escape.c ==== */

/* ==== sanitize.c: HTML mail bodies ==== */
#define SANITIZE_MAX_DEPTH	256	/* deeper elements: their text only */
#define SANITIZE_MAX_TAGS	20000	/* gumbo's work: O(tags x depth) */
#define SANITIZE_MAX_PARSE_MEM	(64u << 20)	/* gumbo's tree, bytes */

struct html_policy {
	int	 allow_remote_images;	/* 0: <img src=http(s)://...> dropped
					 * (counted in remote_blocked) */
	/* cid: URLs (RFC 2392; cid is the Content-ID without <>, its
	 * %-escapes decoded): a malloc'd same-origin URL for the part, or
	 * NULL to drop the image.  NULL callback: cid: images dropped. */
	char	*(*cid_url)(const char *cid, void *arg);
	void	*arg;
};

struct html_report {
	unsigned int	remote_blocked;		/* remote images left out */
	unsigned int	dropped_elements;	/* elements not shown, with or
						 * without their content */
};

/*
 * Sanitize an HTML mail body (UTF-8) into b: body content only (no
 * html/head/body tags), safe to serve inside a sandboxed iframe.  The
 * output is written from gumbo's parse tree through an allow-list of
 * elements, attributes, URL schemes and CSS properties, never copied
 * from the source; bytes that are not UTF-8 become U+FFFD.  p NULL:
 * no remote images, no cid: images.  r may be NULL.  0, or -1 (b left
 * as it was) when b's max would be passed or the body is refused: more
 * than SANITIZE_MAX_TAGS tags, or a parse that needs more than
 * SANITIZE_MAX_PARSE_MEM.
 */
int	html_sanitize(const char *html, size_t len,
	    const struct html_policy *p, struct buf *b,
	    struct html_report *r);
/* ==== end sanitize.c ==== */

#endif
