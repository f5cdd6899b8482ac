/*
 * What the front reads of a request beyond what evhttp parses: the
 * route, the Origin check, the session cookie, the query and the form,
 * the CSRF token, whether text is clean UTF-8, and the WB_REQUEST made
 * of it all.  No event loop and no state, so that the unit tests and
 * the fuzzer run the code the front runs.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <openssl/crypto.h>

#include "../global/authproto.h"
#include "../lib/util.h"
#include "webmail.h"

/* ---- the request ---- */

enum web_route
web_request_route(const struct web_http *h)
{
	static const char *const get[] = { "/mail", "/msg/body", "/msg/part",
	    "/msg/raw", "/compose", NULL };
	static const char *const posts[] = { "/act", "/folder", "/send",
	    NULL };
	const char *const *r;

	if (h->path == NULL || h->path[0] != '/')
		return WEB_R_BAD;
	if (h->post && !web_same_origin(h->headers))
		return WEB_R_FOREIGN;
	if (strcmp(h->path, "/login") == 0)
		return WEB_R_LOGIN;
	if (strcmp(h->path, "/") == 0)
		return WEB_R_ROOT;
	if (h->post && strcmp(h->path, "/logout") == 0)
		return WEB_R_LOGOUT;
	if (!h->post && strcmp(h->path, "/events") == 0)
		return WEB_R_EVENTS;
	for (r = h->post ? posts : get; *r != NULL; r++)
		if (strcmp(h->path, *r) == 0)
			return WEB_R_BACKEND;
	return WEB_R_OTHER;
}

/*
 * Origin must be https://<Host>: a form on another site cannot make a
 * browser send that.  Our pages' own Referrer-Policy (no-referrer) makes
 * browsers send "Origin: null" (the Fetch standard's rule for a non-CORS
 * POST under no-referrer), so then the Fetch metadata decides:
 * Sec-Fetch-Site "same-origin", which a browser sets itself and no page
 * can forge.  A request with neither (not from a browser of this decade)
 * is refused.
 */
int
web_same_origin(const struct evkeyvalq *h)
{
	const char *host = evhttp_find_header(h, "Host");
	const char *origin = evhttp_find_header(h, "Origin");
	const char *site = evhttp_find_header(h, "Sec-Fetch-Site");
	char want[300];

	if (host == NULL || strlen(host) > 255)
		return 0;
	snprintf(want, sizeof(want), "https://%s", host);
	if (origin != NULL && strcmp(origin, "null") != 0)
		return strcmp(origin, want) == 0 && (site == NULL ||
		    strcmp(site, "same-origin") == 0);
	return site != NULL && strcmp(site, "same-origin") == 0;
}

const char *
web_cookie_id(const struct evkeyvalq *h, char *out, size_t size)
{
	struct evkeyval *kv;

	TAILQ_FOREACH(kv, h, next) {
		if (evutil_ascii_strcasecmp(kv->key, "Cookie") != 0)
			continue;
		if (web_cookie_get(kv->value, WEB_COOKIE, out, size) == 1)
			return out;
	}
	return NULL;
}

/* evhttp_parse_query_str() starts its list afresh (TAILQ_INIT): the
 * form is parsed into a list of its own and moved behind the query's,
 * which would otherwise be lost, and leaked.  It decodes %00 into a NUL
 * that silently ends the value ("Trash%00x" would be "Trash"): a form
 * or query with one is refused instead, as one with a NUL is. */
int
web_form_parse(const struct web_http *h, struct evkeyvalq *q)
{
	const char *type = evhttp_find_header(h->headers, "Content-Type");
	struct evkeyvalq form;
	struct evkeyval *kv;
	char *body;
	int r;

	if (type == NULL || strncmp(type, "application/x-www-form-urlencoded",
	    33) != 0 || h->body_len > WEB_MAX_FORM)
		return -1;
	body = util_calloc(1, h->body_len + 1);
	if (h->body_len > 0)
		memcpy(body, h->body, h->body_len);
	r = memchr(body, '\0', h->body_len) != NULL ||
	    strstr(body, "%00") != NULL ? -1 :
	    evhttp_parse_query_str(body, &form);
	explicit_bzero(body, h->body_len);
	free(body);
	if (r == -1)
		return -1;
	while ((kv = TAILQ_FIRST(&form)) != NULL) {
		TAILQ_REMOVE(&form, kv, next);
		TAILQ_INSERT_TAIL(q, kv, next);
	}
	return 0;
}

int
web_is_upload(const struct web_http *h)
{
	const char *type = evhttp_find_header(h->headers, "Content-Type");

	return h->post && type != NULL &&
	    strncasecmp(type, "multipart/form-data", 19) == 0;
}

int
web_request_params(const struct web_http *h, const char *csrf,
    struct evkeyvalq *q)
{
	const char *token;

	TAILQ_INIT(q);
	/* A form with files is not parsed here: the front passes it on
	 * (upload.c), its token in the query.  "upload" names it: never a
	 * client's parameter. */
	if ((h->query != NULL && (strstr(h->query, "%00") != NULL ||
	    evhttp_parse_query_str(h->query, q) == -1)) ||
	    (h->post && !web_is_upload(h) && web_form_parse(h, q) == -1) ||
	    evhttp_find_header(q, "upload") != NULL) {
		evhttp_clear_headers(q);
		return 400;
	}
	if (h->post && ((token = evhttp_find_header(q, "csrf")) == NULL ||
	    strlen(token) != WEB_ID_LEN || strlen(csrf) != WEB_ID_LEN ||
	    CRYPTO_memcmp(token, csrf, WEB_ID_LEN) != 0)) {
		evhttp_clear_headers(q);
		return 403;
	}
	return 0;
}

int
web_request_build(struct ipc_out *o, int post, const char *path,
    const char *csrf, const struct evkeyvalq *q)
{
	static char pairs[IPC_MAX];	/* name NUL value NUL ... */
	struct evkeyval *kv;
	size_t n = 0, len = 0, klen, vlen;

	TAILQ_FOREACH(kv, q, next) {
		klen = strlen(kv->key);
		vlen = strlen(kv->value);
		if (++n > WEB_MAX_PARAMS || !web_utf8_valid(kv->key, klen) ||
		    !web_utf8_valid(kv->value, vlen))
			return 400;
		if (klen + vlen + 2 > sizeof(pairs) - len)
			return 413;
		memcpy(pairs + len, kv->key, klen + 1);
		len += klen + 1;
		memcpy(pairs + len, kv->value, vlen + 1);
		len += vlen + 1;
	}
	ipc_begin(o, WB_REQUEST);
	ipc_put_str(o, post ? "POST" : "GET");
	ipc_put_str(o, path);
	ipc_put_str(o, csrf);		/* for the forms of its pages */
	ipc_put(o, pairs, len);
	return o->overflow ? 413 : 0;
}

int
web_request_decode(struct ipc_in *in, struct web_request *r)
{
	const struct ipc_field *f;
	const char *p, *end, *name, *nul;

	memset(r, 0, sizeof(*r));
	if (in->type != WB_REQUEST || (r->method = ipc_get_str(in)) == NULL ||
	    (r->path = ipc_get_str(in)) == NULL ||
	    (r->csrf = ipc_get_str(in)) == NULL ||
	    (f = ipc_get(in)) == NULL || ipc_left(in) != 0)
		return -1;
	/* Every string ends in a NUL of its own: the last one too. */
	for (p = f->data, end = f->data + f->len; p < end; p = nul + 1) {
		name = p;
		if ((nul = memchr(name, '\0', (size_t)(end - name))) == NULL ||
		    nul + 1 == end ||
		    (nul = memchr(nul + 1, '\0', (size_t)(end - nul - 1))) ==
		    NULL)
			return -1;
		if (r->nparams == WEB_MAX_PARAMS)
			continue;
		r->params[r->nparams].name = name;
		r->params[r->nparams].value = name + strlen(name) + 1;
		r->nparams++;
	}
	return 0;
}

/* ---- cookies, text, URLs ---- */

int
web_cookie_get(const char *h, const char *name, char *out, size_t size)
{
	size_t nlen = strlen(name), vlen;
	const char *p = h, *end;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		if ((end = strchr(p, ';')) == NULL)
			end = p + strlen(p);
		if ((size_t)(end - p) > nlen && strncmp(p, name, nlen) == 0 &&
		    p[nlen] == '=') {
			p += nlen + 1;
			vlen = (size_t)(end - p);
			while (vlen > 0 && (p[vlen - 1] == ' ' ||
			    p[vlen - 1] == '\t'))
				vlen--;
			if (vlen >= 2 && p[0] == '"' && p[vlen - 1] == '"') {
				p++;
				vlen -= 2;
			}
			if (vlen >= size)
				return -1;
			memcpy(out, p, vlen);
			out[vlen] = '\0';
			return 1;
		}
		p = end;
	}
	return 0;
}

int
web_utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, len;

	while (i < n) {
		if ((s[i] < 0x20 && s[i] != '\t' && s[i] != '\r' &&
		    s[i] != '\n') || s[i] == 0x7f)
			return 0;
		if ((len = utf8_seqlen(s + i, n - i)) == 0)
			return 0;
		i += len;
	}
	return 1;
}

int
web_url_encode(struct buf *b, const char *s)
{
	static const char hexd[] = "0123456789ABCDEF";
	const unsigned char *p;
	int r = 0;

	for (p = (const unsigned char *)s; *p != '\0' && r == 0; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_' || *p == '~')
			r = buf_putc(b, (char)*p);
		else
			r = buf_printf(b, "%%%c%c", hexd[*p >> 4],
			    hexd[*p & 15]);
	}
	return r;
}

void
web_url_va(struct buf *b, const char *path, va_list ap)
{
	const char *name, *value;
	int first = 1;

	buf_puts(b, path);
	while ((name = va_arg(ap, const char *)) != NULL) {
		value = va_arg(ap, const char *);
		if (value == NULL || value[0] == '\0')
			continue;
		buf_putc(b, first ? '?' : '&');
		first = 0;
		buf_puts(b, name);
		buf_putc(b, '=');
		web_url_encode(b, value);
	}
}

void
web_url(struct buf *b, const char *path, ...)
{
	va_list ap;

	va_start(ap, path);
	web_url_va(b, path, ap);
	va_end(ap);
}
