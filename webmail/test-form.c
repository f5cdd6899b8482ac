/*
 * test-form: what the webmail's front reads of a request (form.c): the
 * session cookie, UTF-8 checks, URL encoding, the query and the form as
 * evhttp decodes them, the Origin and Sec-Fetch-Site check, the route,
 * the CSRF token, and the WB_REQUEST for the session's process, read
 * back through a socket pair as that process reads it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "../global/authproto.h"
#include "webmail.h"
#include "../t/tap.h"

#define CSRF	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define FORM	"application/x-www-form-urlencoded"

static struct evkeyvalq hdrs = TAILQ_HEAD_INITIALIZER(hdrs);
static struct evkeyvalq q = TAILQ_HEAD_INITIALIZER(q);
static struct ipc_out out;
static struct ipc_in in;
static int sv[2];

/* ---- helpers ---- */

static void
headers(const char *name, ...)
{
	va_list ap;
	const char *v;

	evhttp_clear_headers(&hdrs);
	va_start(ap, name);
	for (; name != NULL; name = va_arg(ap, const char *)) {
		v = va_arg(ap, const char *);
		evhttp_add_header(&hdrs, name, v);
	}
	va_end(ap);
}

static int
cookie(const char *header, const char *want)
{
	char v[70];
	int r = web_cookie_get(header, WEB_COOKIE, v, sizeof(v));

	if (want == NULL)
		return r == 0;
	return r == 1 && strcmp(v, want) == 0;
}

static int
utf8(const char *s)
{
	return web_utf8_valid(s, strlen(s));
}

static int
encoded(const char *s, const char *want)
{
	struct buf b;
	int r;

	buf_init(&b, 0);
	r = web_url_encode(&b, s) == 0 && buf_putc(&b, '\0') == 0 &&
	    strcmp(b.data, want) == 0;
	buf_release(&b);
	return r;
}

/* A session's GET (query only) or POST (query and form) through
 * web_request_params(), as the front reads it: its status. */
static int
params(int post, const char *query, const char *type, const char *body,
    size_t len)
{
	struct web_http h;

	evhttp_clear_headers(&q);
	if (type != NULL)
		headers("Content-Type", type, NULL);
	else
		headers(NULL);
	memset(&h, 0, sizeof(h));
	h.post = post;
	h.path = post ? "/act" : "/mail";
	h.query = query;
	h.headers = &hdrs;
	h.body = body;
	h.body_len = body != NULL ? (len != 0 ? len : strlen(body)) : 0;
	return web_request_params(&h, CSRF, &q);
}

/* q as "name=value;..." */
static const char *
qstr(void)
{
	static char s[4096];
	struct evkeyval *kv;
	size_t n = 0;

	s[0] = '\0';
	TAILQ_FOREACH(kv, &q, next)
		n += (size_t)snprintf(s + n, sizeof(s) - n, "%s=%s;", kv->key,
		    kv->value);
	return s;
}

static int
origin(const char *host, const char *orig, const char *site)
{
	evhttp_clear_headers(&hdrs);
	if (host != NULL)
		evhttp_add_header(&hdrs, "Host", host);
	if (orig != NULL)
		evhttp_add_header(&hdrs, "Origin", orig);
	if (site != NULL)
		evhttp_add_header(&hdrs, "Sec-Fetch-Site", site);
	return web_same_origin(&hdrs);
}

static enum web_route
route(int post, const char *path, int ours)
{
	struct web_http h;

	if (ours)
		headers("Host", "example.test", "Origin",
		    "https://example.test", NULL);
	else
		headers("Host", "example.test", "Origin",
		    "https://evil.example", NULL);
	memset(&h, 0, sizeof(h));
	h.post = post;
	h.path = path;
	h.headers = &hdrs;
	return web_request_route(&h);
}

/* o through the socket pair and web_request_decode(). */
static int
roundtrip(const struct ipc_out *o, struct web_request *r)
{
	if (ipc_send(sv[0], o, -1) == -1 || ipc_recv(sv[1], &in, 0) != 1)
		return -1;
	return web_request_decode(&in, r);
}

/* A WB_REQUEST "GET /mail" made by hand: pairs (len octets; NULL: no
 * such field), then extra if not NULL.  0, -1 if it did not fit. */
static int
request3(struct ipc_out *o, const char *pairs, size_t len,
    const char *extra, size_t elen)
{
	ipc_begin(o, WB_REQUEST);
	ipc_put_str(o, "GET");
	ipc_put_str(o, "/mail");
	ipc_put_str(o, CSRF);
	if (pairs != NULL)
		ipc_put(o, pairs, len);
	if (extra != NULL)
		ipc_put(o, extra, elen);
	return o->overflow ? -1 : 0;
}

/* ---- the tests ---- */

static void
test_cookie(void)
{
	char small[8], id[WEB_ID_LEN + 2];

	ok(cookie("a=1; __Host-maild=abc; b=2", "abc"),
	    "cookie: one of several");
	ok(cookie("__Host-maild=abc", "abc"), "cookie: the only one");
	ok(cookie("a=1;__Host-maild=abc;b=2", "abc"),
	    "cookie: no space after ';'");
	ok(cookie("__Host-maild=\"abc\"", "abc"), "cookie: quotes taken off");
	ok(cookie("__Host-maild=\"", "\""), "cookie: a lone quote is kept");
	ok(cookie("a=1;\t  __Host-maild=abc \t ; b=2", "abc"),
	    "cookie: spaces and tabs around the value");
	ok(cookie("__Host-maild=one; __Host-maild=two", "one"),
	    "cookie: the first of duplicates");
	ok(cookie("a=1; b=2", NULL), "cookie: missing");
	ok(cookie("", NULL), "cookie: empty header");
	ok(cookie(";;; ;", NULL), "cookie: only separators");
	ok(cookie("x__Host-maild=evil", NULL),
	    "cookie: a name that ends in ours is not ours");
	ok(cookie("x__Host-maild=evil; __Host-maild=good", "good"),
	    "cookie: ours after one whose name ends in it");
	ok(cookie("__Host-maildx=evil", NULL),
	    "cookie: a name that starts with ours is not ours");
	ok(cookie("__host-maild=abc", NULL), "cookie: names are case-sensitive");
	ok(cookie("__Host-maild; a=1", NULL), "cookie: the name without '='");
	ok(cookie("__Host-maild = abc", NULL),
	    "cookie: not with spaces around '='");
	ok(cookie("__Host-maild=", ""), "cookie: an empty value");
	ok(web_cookie_get("__Host-maild=1234567", WEB_COOKIE, small,
	    sizeof(small)) == 1 && strcmp(small, "1234567") == 0,
	    "cookie: the longest value that fits");
	ok(web_cookie_get("__Host-maild=12345678", WEB_COOKIE, small,
	    sizeof(small)) == -1, "cookie: too long for the buffer: -1");
	ok(web_cookie_get("__Host-maild=\"12345678\"", WEB_COOKIE, small,
	    sizeof(small)) == -1, "cookie: too long inside quotes: -1");

	headers("Cookie", "a=1", "cookie", "__Host-maild=abc", NULL);
	ok(web_cookie_id(&hdrs, id, sizeof(id)) != NULL &&
	    strcmp(id, "abc") == 0,
	    "cookie id: in the second Cookie header (any case)");
	headers("Cookie", "__Host-maild=0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef0123456789", "Cookie",
	    "__Host-maild=short", NULL);
	ok(web_cookie_id(&hdrs, id, sizeof(id)) != NULL &&
	    strcmp(id, "short") == 0,
	    "cookie id: an overlong one is passed over");
	headers("X-Cookie", "__Host-maild=abc", "Set-Cookie",
	    "__Host-maild=abc", NULL);
	ok(web_cookie_id(&hdrs, id, sizeof(id)) == NULL,
	    "cookie id: only from Cookie headers");
}

static void
test_utf8(void)
{
	ok(utf8("") && utf8("plain ASCII, 123 ~!"), "utf-8: ASCII");
	ok(utf8("caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80"),
	    "utf-8: two, three and four octets");
	ok(utf8("\xc2\x80") && utf8("\xf4\x8f\xbf\xbf"),
	    "utf-8: U+0080 and U+10FFFF");
	ok(utf8("a\tb\r\nc"), "utf-8: tab, CR and LF");
	ok(!utf8("\xc0\xaf") && !utf8("\xc1\xbf"),
	    "utf-8: overlong two-octet forms");
	ok(!utf8("\xe0\x80\xaf") && !utf8("\xe0\x9f\xbf"),
	    "utf-8: overlong three-octet forms");
	ok(!utf8("\xf0\x80\x80\xaf") && !utf8("\xf0\x8f\xbf\xbf"),
	    "utf-8: overlong four-octet forms");
	ok(!utf8("\xed\xa0\x80") && !utf8("\xed\xbf\xbf"),
	    "utf-8: surrogates");
	ok(utf8("\xed\x9f\xbf") && utf8("\xee\x80\x80"),
	    "utf-8: U+D7FF and U+E000 around them");
	ok(!utf8("\xf4\x90\x80\x80") && !utf8("\xf5\x80\x80\x80") &&
	    !utf8("\xf7\xbf\xbf\xbf"), "utf-8: beyond U+10FFFF");
	ok(!utf8("\xf8\x88\x80\x80\x80") && !utf8("\xfc\x84\x80\x80\x80\x80")
	    && !utf8("\xfe") && !utf8("\xff"), "utf-8: five, six octets, FE, FF");
	ok(!utf8("\xc3") && !utf8("\xe2\x9c") && !utf8("\xf0\x9f\x98") &&
	    !utf8("a\xc3"), "utf-8: truncated at the end");
	ok(!web_utf8_valid("\xc3\xa9", 1),
	    "utf-8: truncated by the length given");
	ok(!utf8("\xe2\x9cx") && !utf8("\xc3\xc3\xa9"),
	    "utf-8: a sequence cut short by another character");
	ok(!utf8("\x80") && !utf8("a\xbf"), "utf-8: a lone continuation octet");
	ok(!web_utf8_valid("a\0b", 3), "utf-8: NUL");
	ok(!utf8("\x01") && !utf8("\x1b[31m") && !utf8("a\x1f") &&
	    !utf8("\x0b") && !utf8("\x0c"), "utf-8: other C0 controls");
	ok(!utf8("\x7f"), "utf-8: DEL");
}

static void
test_url(void)
{
	struct buf b;

	ok(encoded("azAZ09-._~", "azAZ09-._~"), "url: unreserved kept");
	ok(encoded("a b+c&d=e/f?g#h%", "a%20b%2Bc%26d%3De%2Ff%3Fg%23h%25"),
	    "url: reserved and space encoded");
	ok(encoded("caf\xc3\xa9\x01\xff", "caf%C3%A9%01%FF"),
	    "url: non-ASCII and controls octet by octet, upper-case hex");
	ok(encoded("", ""), "url: empty");
	buf_init(&b, 0);
	web_url(&b, "/mail", "f", "Lists/a b", "page", "", "q", NULL, "uid",
	    "7", NULL);
	buf_putc(&b, '\0');
	ok(strcmp(b.data, "/mail?f=Lists%2Fa%20b&uid=7") == 0,
	    "url: empty and NULL values left out (%s)", b.data);
	b.len = 0;
	web_url(&b, "/mail", "page", "", NULL);
	buf_putc(&b, '\0');
	ok(strcmp(b.data, "/mail") == 0, "url: no pairs, no '?'");
	buf_release(&b);

	/* every octet but NUL, encoded and decoded again by evhttp */
	{
		char all[256], query[1024];
		const char *v;
		int i;

		for (i = 1; i < 256; i++)
			all[i - 1] = (char)i;
		all[255] = '\0';
		buf_init(&b, 0);
		buf_puts(&b, "v=");
		web_url_encode(&b, all);
		buf_putc(&b, '\0');
		snprintf(query, sizeof(query), "%s", b.data);
		buf_release(&b);
		evhttp_clear_headers(&q);
		ok(evhttp_parse_query_str(query, &q) == 0 &&
		    (v = evhttp_find_header(&q, "v")) != NULL &&
		    strcmp(v, all) == 0,
		    "url: octets 1-255 come back through evhttp's decoder");
	}
}

static void
test_params(void)
{
	char big[WEB_MAX_FORM + 2], *p;
	size_t i;

	ok(params(0, "f=INBOX&uid=1&uid=2", NULL, NULL, 0) == 0 &&
	    strcmp(qstr(), "f=INBOX;uid=1;uid=2;") == 0,
	    "query: repeated names kept, in order (%s)", qstr());
	ok(params(0, NULL, NULL, NULL, 0) == 0 && TAILQ_EMPTY(&q),
	    "query: none");
	ok(params(0, "", NULL, NULL, 0) == 0 && TAILQ_EMPTY(&q),
	    "query: empty");
	ok(params(0, "q=a+b%2Bc%20d", NULL, NULL, 0) == 0 &&
	    strcmp(qstr(), "q=a b+c d;") == 0, "query: '+' is a space, %%2B a "
	    "plus (%s)", qstr());
	ok(params(0, "q=caf%C3%a9", NULL, NULL, 0) == 0 &&
	    strcmp(qstr(), "q=caf\xc3\xa9;") == 0,
	    "query: escapes in either case");
	ok(params(0, "a=%zz&b=%4&c=%&d=100%&e=%%41", NULL, NULL, 0) == 0 &&
	    strcmp(qstr(), "a=%zz;b=%4;c=%;d=100%;e=%A;") == 0,
	    "query: invalid escapes stay as they are (%s)", qstr());
	ok(params(0, "a%20b=1", NULL, NULL, 0) == 0 &&
	    strcmp(qstr(), "a%20b=1;") == 0, "query: names are not decoded");
	ok(params(0, "f=Trash%00x", NULL, NULL, 0) == 400 && TAILQ_EMPTY(&q),
	    "query: %%00 refused (it would cut the value short)");
	ok(params(0, "f=INBOX&uid=1%00", NULL, NULL, 0) == 400,
	    "query: %%00 at the end refused");
	ok(params(0, "f", NULL, NULL, 0) == 400, "query: a name without '='");
	ok(params(0, "=x", NULL, NULL, 0) == 400, "query: an empty name");
	ok(params(0, "a=1&&b=2", NULL, NULL, 0) == 400,
	    "query: an empty pair");
	ok(params(0, "a=1&", NULL, NULL, 0) == 0 &&
	    strcmp(qstr(), "a=1;") == 0, "query: a trailing '&'");
	ok(params(0, "a=&b=x=y", NULL, NULL, 0) == 0 &&
	    strcmp(qstr(), "a=;b=x=y;") == 0,
	    "query: empty value, '=' in a value");

	ok(params(1, NULL, FORM, "csrf=" CSRF "&uid=1&uid=2", 0) == 0 &&
	    strcmp(qstr(), "csrf=" CSRF ";uid=1;uid=2;") == 0,
	    "form: read, in order");
	ok(params(1, "f=INBOX", FORM, "csrf=" CSRF "&uid=1", 0) == 0 &&
	    strcmp(qstr(), "f=INBOX;csrf=" CSRF ";uid=1;") == 0,
	    "form: after the query's parameters, which are kept (%s)",
	    qstr());
	ok(params(1, NULL, FORM "; charset=UTF-8", "csrf=" CSRF, 0) == 0,
	    "form: a charset parameter on its type");
	ok(params(1, NULL, "text/plain", "csrf=" CSRF, 0) == 400,
	    "form: another type refused");
	ok(params(1, NULL, "multipart/form-data; boundary=x", "csrf=" CSRF,
	    0) == 403, "a form with files is left unread: its body's token "
	    "does not count");
	ok(params(1, "csrf=" CSRF, "multipart/form-data; boundary=x",
	    "anything", 0) == 0 && strcmp(qstr(), "csrf=" CSRF ";") == 0,
	    "a form with files: the token in the query, only the query read");
	ok(params(1, "csrf=" CSRF "&upload=text/plain", FORM, "a=b", 0) ==
	    400, "a client's own 'upload' parameter: 400");
	ok(params(1, NULL, NULL, "csrf=" CSRF, 0) == 400,
	    "form: no Content-Type refused");
	ok(params(1, NULL, FORM, "csrf=" CSRF "&a=b\0c",
	    sizeof("csrf=" CSRF "&a=b\0c") - 1) == 400,
	    "form: a NUL octet refused");
	ok(params(1, NULL, FORM, "csrf=" CSRF "&f=x%00y", 0) == 400,
	    "form: %%00 refused");
	ok(params(1, "f=INBOX", FORM, "csrf=" CSRF "&bad", 0) == 400 &&
	    TAILQ_EMPTY(&q), "form: one that does not parse: 400, nothing kept");
	ok(params(1, "f=INBOX", FORM, "", 0) == 403,
	    "form: empty, so no token: 403");

	/* the size a form may have */
	memset(big, 'a', sizeof(big));
	memcpy(big, "csrf=" CSRF "&v=", 8 + WEB_ID_LEN);
	ok(params(1, NULL, FORM, big, WEB_MAX_FORM + 1) == 400,
	    "form: one octet over WEB_MAX_FORM refused");
	ok(params(1, NULL, FORM, big, WEB_MAX_FORM) == 0,
	    "form: WEB_MAX_FORM octets read");
	ok(web_request_build(&out, 1, "/act", CSRF, &q) == 413,
	    "form: but more than a message holds: 413");

	/* the CSRF token */
	ok(params(1, NULL, FORM, "uid=1", 0) == 403, "csrf: missing: 403");
	ok(params(1, NULL, FORM, "csrf=" CSRF "0", 0) == 403 &&
	    TAILQ_EMPTY(&q), "csrf: one character longer: 403");
	ok(params(1, NULL, FORM, "csrf=0123456789abcdef", 0) == 403,
	    "csrf: shorter: 403");
	p = strdup("csrf=" CSRF);
	p[5 + WEB_ID_LEN - 1] = '0';
	ok(params(1, NULL, FORM, p, 0) == 403, "csrf: the last character "
	    "differs: 403");
	free(p);
	ok(params(1, NULL, FORM, "csrf=&csrf=" CSRF, 0) == 403,
	    "csrf: the first one counts");
	ok(params(1, NULL, FORM, "csrf=" CSRF "&csrf=x", 0) == 0,
	    "csrf: later ones do not");
	ok(params(0, "f=INBOX", NULL, NULL, 0) == 0,
	    "csrf: a GET needs none");
	{
		struct web_http h;

		evhttp_clear_headers(&q);
		memset(&h, 0, sizeof(h));
		headers("Content-Type", FORM, NULL);
		h.post = 1;
		h.path = "/act";
		h.headers = &hdrs;
		h.body = "csrf=";
		h.body_len = 5;
		ok(web_request_params(&h, "", &q) == 403,
		    "csrf: a session without a token matches nothing");
	}

	/* how many parameters */
	evhttp_clear_headers(&q);
	for (i = 0; i < WEB_MAX_PARAMS; i++)
		evhttp_add_header(&q, "uid", "1");
	ok(web_request_build(&out, 0, "/mail", CSRF, &q) == 0,
	    "params: WEB_MAX_PARAMS (%d) pass", (int)WEB_MAX_PARAMS);
	evhttp_add_header(&q, "uid", "1");
	ok(web_request_build(&out, 0, "/mail", CSRF, &q) == 400,
	    "params: one more refused (400)");
	evhttp_clear_headers(&q);

	ok(params(0, "f=%C0%AF", NULL, NULL, 0) == 0 &&
	    web_request_build(&out, 0, "/mail", CSRF, &q) == 400,
	    "params: an overlong '/' decoded is refused (400)");
	ok(params(0, "f=%ED%A0%80", NULL, NULL, 0) == 0 &&
	    web_request_build(&out, 0, "/mail", CSRF, &q) == 400,
	    "params: a surrogate refused");
	ok(params(0, "f=a%0Db", NULL, NULL, 0) == 0 &&
	    web_request_build(&out, 0, "/mail", CSRF, &q) == 0,
	    "params: CR passes (text areas have lines)");
	ok(params(0, "f=a%1Bb", NULL, NULL, 0) == 0 &&
	    web_request_build(&out, 0, "/mail", CSRF, &q) == 400,
	    "params: ESC refused");
	ok(params(0, "f=a%7Fb", NULL, NULL, 0) == 0 &&
	    web_request_build(&out, 0, "/mail", CSRF, &q) == 400,
	    "params: DEL refused");
	ok(params(0, "f%FF=1", NULL, NULL, 0) == 0 &&
	    web_request_build(&out, 0, "/mail", CSRF, &q) == 0,
	    "params: a name's %%FF is three ASCII characters (not decoded)");
	ok(params(0, "f\xff=1", NULL, NULL, 0) == 0 &&
	    web_request_build(&out, 0, "/mail", CSRF, &q) == 400,
	    "params: a name with a raw octet FF refused");
	evhttp_clear_headers(&q);
}

static void
test_origin(void)
{
	static const char h[] = "mail.example.test:8443";
	static const char o[] = "https://mail.example.test:8443";
	char longhost[300], longorigin[310];

	ok(origin(h, o, NULL), "origin: https://<Host>");
	ok(origin(h, o, "same-origin"), "origin: and same-origin");
	ok(!origin(h, o, "same-site"), "origin: but same-site: refused");
	ok(!origin(h, o, "cross-site"), "origin: but cross-site: refused");
	ok(!origin(h, o, "none"), "origin: but none: refused");
	ok(!origin(h, "https://evil.example", NULL), "origin: another site");
	ok(!origin(h, "https://evil.example", "same-origin"),
	    "origin: another site, whatever Sec-Fetch-Site says");
	ok(!origin(h, "http://mail.example.test:8443", NULL),
	    "origin: http:// refused");
	ok(!origin(h, "https://mail.example.test", NULL),
	    "origin: another port refused");
	ok(!origin(h, "https://mail.example.test:8443/", NULL),
	    "origin: with a path refused");
	ok(!origin(h, "HTTPS://MAIL.EXAMPLE.TEST:8443", NULL),
	    "origin: compared exactly");
	ok(origin(h, "null", "same-origin"), "origin: null and same-origin");
	ok(!origin(h, "null", "same-site"), "origin: null and same-site");
	ok(!origin(h, "null", "cross-site"), "origin: null and cross-site");
	ok(!origin(h, "null", "none"), "origin: null and none");
	ok(!origin(h, "null", NULL), "origin: null alone");
	ok(origin(h, NULL, "same-origin"), "origin: none and same-origin");
	ok(!origin(h, NULL, "cross-site"), "origin: none and cross-site");
	ok(!origin(h, NULL, NULL), "origin: neither header");
	ok(!origin(NULL, o, "same-origin") && !origin(NULL, "null",
	    "same-origin"), "origin: no Host: refused");
	memset(longhost, 'a', 255);
	longhost[255] = '\0';
	snprintf(longorigin, sizeof(longorigin), "https://%s", longhost);
	ok(origin(longhost, longorigin, NULL), "origin: a Host of 255 octets");
	longhost[255] = 'a';
	longhost[256] = '\0';
	snprintf(longorigin, sizeof(longorigin), "https://%s", longhost);
	ok(!origin(longhost, longorigin, NULL), "origin: of 256 refused");
	headers("Host", h, "Origin", o, "Origin", "https://evil.example",
	    NULL);
	ok(web_same_origin(&hdrs), "origin: the first Origin counts");
	headers("host", h, "origin", "https://evil.example", "Origin", o,
	    NULL);
	ok(!web_same_origin(&hdrs), "origin: header names in any case");
}

static void
test_route(void)
{
	struct web_http h;

	memset(&h, 0, sizeof(h));
	headers(NULL);
	h.headers = &hdrs;
	ok(web_request_route(&h) == WEB_R_BAD, "route: no path: 400");
	ok(route(0, "", 1) == WEB_R_BAD && route(0, "mail", 1) == WEB_R_BAD,
	    "route: a relative path: 400");
	ok(route(0, "/", 1) == WEB_R_ROOT && route(1, "/", 1) == WEB_R_ROOT,
	    "route: /");
	ok(route(0, "/login", 1) == WEB_R_LOGIN &&
	    route(1, "/login", 1) == WEB_R_LOGIN, "route: /login");
	ok(route(1, "/login", 0) == WEB_R_FOREIGN,
	    "route: a login from elsewhere: 403");
	ok(route(0, "/mail", 0) == WEB_R_BACKEND &&
	    route(0, "/msg/body", 1) == WEB_R_BACKEND &&
	    route(0, "/msg/part", 1) == WEB_R_BACKEND &&
	    route(0, "/msg/raw", 1) == WEB_R_BACKEND,
	    "route: the session's GETs (Origin not asked)");
	ok(route(1, "/act", 1) == WEB_R_BACKEND &&
	    route(1, "/folder", 1) == WEB_R_BACKEND,
	    "route: the session's POSTs");
	ok(route(1, "/act", 0) == WEB_R_FOREIGN &&
	    route(1, "/nowhere", 0) == WEB_R_FOREIGN,
	    "route: a POST from elsewhere: 403 before 404");
	ok(route(0, "/act", 1) == WEB_R_OTHER &&
	    route(1, "/mail", 1) == WEB_R_OTHER,
	    "route: a GET route POSTed, a POST route got: 404");
	ok(route(1, "/logout", 1) == WEB_R_LOGOUT &&
	    route(0, "/logout", 1) == WEB_R_OTHER, "route: POST /logout only");
	ok(route(0, "/events", 1) == WEB_R_EVENTS &&
	    route(1, "/events", 1) == WEB_R_OTHER, "route: GET /events only");
	ok(route(0, "/mail/", 1) == WEB_R_OTHER &&
	    route(0, "/%6Dail", 1) == WEB_R_OTHER &&
	    route(0, "/MAIL", 1) == WEB_R_OTHER &&
	    route(0, "//mail", 1) == WEB_R_OTHER,
	    "route: compared as sent, not decoded");
	ok(route(0, "/static/app.css", 1) == WEB_R_OTHER,
	    "route: static files are the front's (WEB_R_OTHER)");
}

static void
test_message(void)
{
	struct web_request r;
	struct evhttp_uri *u;
	struct web_http h;
	int st;

	/* a POST as evhttp hands it over, all the way */
	u = evhttp_uri_parse_with_flags("https://x/act?f=Lists%2Fa",
	    EVHTTP_URI_NONCONFORMANT);
	headers("Host", "x", "Origin", "https://x", "Content-Type", FORM,
	    NULL);
	memset(&h, 0, sizeof(h));
	h.post = 1;
	h.path = evhttp_uri_get_path(u);
	h.query = evhttp_uri_get_query(u);
	h.headers = &hdrs;
	h.body = "csrf=" CSRF "&uid=4&uid=5&to=caf%C3%A9+%E2%9C%93";
	h.body_len = strlen(h.body);
	ok(web_request_route(&h) == WEB_R_BACKEND, "message: POST /act routed");
	st = web_request_params(&h, CSRF, &q);
	ok(st == 0 && web_request_build(&out, h.post, h.path, CSRF, &q) == 0,
	    "message: built");
	ok(roundtrip(&out, &r) == 0, "message: decoded");
	ok(strcmp(r.method, "POST") == 0 && strcmp(r.path, "/act") == 0 &&
	    strcmp(r.csrf, CSRF) == 0 && r.user == NULL,
	    "message: method, path, csrf");
	ok(r.nparams == 5 && strcmp(r.params[0].name, "f") == 0 &&
	    strcmp(r.params[0].value, "Lists/a") == 0 &&
	    strcmp(r.params[1].name, "csrf") == 0 &&
	    strcmp(r.params[2].value, "4") == 0 &&
	    strcmp(r.params[3].value, "5") == 0 &&
	    strcmp(r.params[4].name, "to") == 0 &&
	    strcmp(r.params[4].value, "caf\xc3\xa9 \xe2\x9c\x93") == 0,
	    "message: the parameters, decoded, in order");
	evhttp_clear_headers(&q);
	evhttp_uri_free(u);

	ok(web_request_build(&out, 0, "/mail", CSRF, &q) == 0 &&
	    roundtrip(&out, &r) == 0 && strcmp(r.method, "GET") == 0 &&
	    r.nparams == 0, "message: a GET (or HEAD) without parameters");

	ipc_begin(&out, WB_RESPONSE);
	ipc_put_str(&out, "GET");
	ipc_put_str(&out, "/mail");
	ipc_put_str(&out, CSRF);
	ok(roundtrip(&out, &r) == -1, "decode: another type refused");
	ipc_begin(&out, WB_REQUEST);
	ipc_put_str(&out, "GET");
	ipc_put_str(&out, "/mail");
	ok(roundtrip(&out, &r) == -1, "decode: no csrf field refused");
	ok(request3(&out, NULL, 0, NULL, 0) == 0 &&
	    roundtrip(&out, &r) == -1, "decode: no field of pairs refused");
	ok(request3(&out, "f\0INBOX", 7, NULL, 0) == 0 &&
	    roundtrip(&out, &r) == -1, "decode: a value without its NUL "
	    "refused");
	ok(request3(&out, "f\0INBOX\0odd\0", 12, NULL, 0) == 0 &&
	    roundtrip(&out, &r) == -1, "decode: a last name without a value "
	    "refused");
	ok(request3(&out, "f\0INBOX\0", 8, "more", 4) == 0 &&
	    roundtrip(&out, &r) == -1, "decode: a field after the pairs "
	    "refused");
	ok(request3(&out, "f\0\0\0x\0", 6, NULL, 0) == 0 &&
	    roundtrip(&out, &r) == 0 && r.nparams == 2 &&
	    strcmp(r.params[0].value, "") == 0 &&
	    strcmp(r.params[1].name, "") == 0 &&
	    strcmp(r.params[1].value, "x") == 0,
	    "decode: empty names and values are pairs too");
	{
		static char many[(WEB_MAX_PARAMS + 10) * 6];
		size_t k, len = 0;

		for (k = 0; k < WEB_MAX_PARAMS + 10; k++) {
			memcpy(many + len, "uid\0" "1\0", 6);
			len += 6;
		}
		ok(request3(&out, many, len, NULL, 0) == 0 &&
		    roundtrip(&out, &r) == 0 && r.nparams == WEB_MAX_PARAMS,
		    "decode: pairs beyond WEB_MAX_PARAMS (%d) are left out",
		    (int)WEB_MAX_PARAMS);
	}
}

int
main(void)
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == -1) {
		perror("socketpair");
		return 1;
	}
	test_cookie();
	test_utf8();
	test_url();
	test_params();
	test_origin();
	test_route();
	test_message();
	evhttp_clear_headers(&hdrs);
	evhttp_clear_headers(&q);
	close(sv[0]);
	close(sv[1]);
	return done_testing();
}
