/* libFuzzer target: a webmail request as evhttp hands it to the front,
 * through what the front reads of it (webmail/form.c): the route and
 * Origin check, the session cookie, the login form, a session's query,
 * form and CSRF token, and the WB_REQUEST for the session's process,
 * which is sent over a socket pair, received with lib/ipc and decoded
 * as the session's process does; every field must come back as it was
 * sent, every parameter clean UTF-8.  The raw input also goes through
 * the socket pair as one message to that decoder.
 *
 * Input, as HTTP lays it out (LF or CRLF):
 *	method SP uri
 *	name: value		(headers, up to an empty line)
 *	body
 * The session's CSRF token is SESSION_CSRF below; the seeds use it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "../global/authproto.h"
#include "../webmail/webmail.h"
#include "fuzz.h"

#define SESSION_CSRF \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static int sv[2] = { -1, -1 };
static struct ipc_out out;
static struct ipc_in in;

/* The next line of [*p, end) (CR LF or LF stripped) as a string. */
static char *
next_line(const char **p, const char *end)
{
	const char *s = *p, *nl = memchr(s, '\n', (size_t)(end - s));
	size_t n = nl != NULL ? (size_t)(nl - s) : (size_t)(end - s);
	char *line;

	*p = nl != NULL ? nl + 1 : end;
	if (n > 0 && s[n - 1] == '\r')
		n--;
	line = malloc(n + 1);
	memcpy(line, s, n);
	line[n] = '\0';
	return line;
}

/* Send o and read it back as the session's process would. */
static void
roundtrip(const struct ipc_out *o, int post, const char *path,
    const struct evkeyvalq *q)
{
	struct web_request r;
	struct evkeyval *kv;
	size_t i = 0;

	if (ipc_send(sv[0], o, -1) == -1 || ipc_recv(sv[1], &in, 0) != 1)
		abort();
	if (web_request_decode(&in, &r) == -1 ||
	    strcmp(r.method, post ? "POST" : "GET") != 0 ||
	    strcmp(r.path, path) != 0 || strcmp(r.csrf, SESSION_CSRF) != 0)
		abort();
	TAILQ_FOREACH(kv, q, next) {
		if (i >= r.nparams || strcmp(r.params[i].name, kv->key) != 0 ||
		    strcmp(r.params[i].value, kv->value) != 0 ||
		    !web_utf8_valid(r.params[i].name,
		    strlen(r.params[i].name)) ||
		    !web_utf8_valid(r.params[i].value,
		    strlen(r.params[i].value)))
			abort();
		i++;
	}
	if (i != r.nparams)
		abort();
}

/* The raw input as a message from the front. */
static void
raw_message(const uint8_t *data, size_t size)
{
	struct web_request r;
	size_t i;

	if (size > IPC_MAX || send(sv[0], data, size, 0) != (ssize_t)size)
		return;
	if (ipc_recv(sv[1], &in, 0) != 1 || web_request_decode(&in, &r) == -1)
		return;
	if (r.method == NULL || r.path == NULL || r.csrf == NULL ||
	    r.nparams > WEB_MAX_PARAMS)
		abort();
	for (i = 0; i < r.nparams; i++)
		if (r.params[i].name == NULL || r.params[i].value == NULL)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	struct evkeyvalq headers = TAILQ_HEAD_INITIALIZER(headers);
	struct evkeyvalq q = TAILQ_HEAD_INITIALIZER(q);
	struct evhttp_uri *uri = NULL;
	char id[WEB_ID_LEN + 2], *line, *sp, *name, *value;
	const char *user, *password;
	struct web_http h;
	enum web_route route;
	int st;

	if (sv[0] == -1) {
		log_init("fuzz", LOG_LVL_ERR, 0);
		if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == -1)
			abort();
	}
	raw_message(data, size);

	/* The request line: evhttp refuses a URI it cannot parse. */
	memset(&h, 0, sizeof(h));
	line = next_line(&p, end);
	if ((sp = strchr(line, ' ')) != NULL) {
		*sp++ = '\0';
		uri = evhttp_uri_parse_with_flags(sp, EVHTTP_URI_NONCONFORMANT);
	}
	h.post = strcmp(line, "POST") == 0;
	free(line);
	if (uri == NULL)
		return 0;
	h.path = evhttp_uri_get_path(uri);
	h.query = evhttp_uri_get_query(uri);
	/* Headers: evhttp_add_header() refuses what evhttp's parser does
	 * (CR or LF in a value). */
	while (p < end) {
		line = next_line(&p, end);
		if (line[0] == '\0') {
			free(line);
			break;
		}
		if ((value = strchr(line, ':')) != NULL) {
			*value++ = '\0';
			value += strspn(value, " \t");
			name = line;
			(void)evhttp_add_header(&headers, name, value);
		}
		free(line);
	}
	h.headers = &headers;
	if (h.post && (h.body_len = (size_t)(end - p)) > 0 &&
	    h.body_len <= WEB_MAX_FORM)
		h.body = p;

	route = web_request_route(&h);
	if ((route == WEB_R_BAD) != (h.path == NULL || h.path[0] != '/') ||
	    (route == WEB_R_FOREIGN && !h.post) ||
	    (h.post && route > WEB_R_FOREIGN && !web_same_origin(&headers)))
		abort();
	if (web_cookie_id(&headers, id, sizeof(id)) != NULL &&
	    strlen(id) >= sizeof(id))
		abort();

	switch (route) {
	case WEB_R_LOGIN:
		if (!h.post)
			break;
		if (web_form_parse(&h, &q) == 0) {
			user = evhttp_find_header(&q, "user");
			password = evhttp_find_header(&q, "password");
			if (user != NULL && password != NULL &&
			    strlen(user) + strlen(password) > h.body_len)
				abort();
		}
		evhttp_clear_headers(&q);
		break;
	case WEB_R_LOGOUT:
	case WEB_R_EVENTS:
	case WEB_R_BACKEND:
		if ((st = web_request_params(&h, SESSION_CSRF, &q)) != 0) {
			if ((st != 400 && st != 403) || !TAILQ_EMPTY(&q))
				abort();
			break;
		}
		if (h.post && strcmp(evhttp_find_header(&q, "csrf"),
		    SESSION_CSRF) != 0)
			abort();
		/* %00 would cut a value short: never let through */
		if ((h.query != NULL && strstr(h.query, "%00") != NULL) ||
		    (h.body != NULL && memmem(h.body, h.body_len, "%00", 3)
		    != NULL))
			abort();
		st = web_request_build(&out, h.post, h.path, SESSION_CSRF, &q);
		if (st == 0)
			roundtrip(&out, h.post, h.path, &q);
		else if (st != 400 && st != 413)
			abort();
		evhttp_clear_headers(&q);
		break;
	default:
		break;
	}
	evhttp_clear_headers(&headers);
	evhttp_uri_free(uri);
	return 0;
}
