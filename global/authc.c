#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "../lib/ipc.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "authc.h"
#include "authproto.h"
#include "layout.h"

/* authd may hold an answer back (an account under attack): wait longer
 * than it ever does (authd answers "tempfail" beyond its own limit). */
#define AUTHC_AUTH_TIMEOUT_MS	(10 * 60 * 1000)
#define AUTHC_LOOKUP_TIMEOUT_MS	(60 * 1000)
#define AUTHC_CONNECT_TRIES	50	/* 100 ms apart */

struct authc {
	int		 fd;
	int		 broken;
	uint64_t	 conv;
	char		 user[320];
	char		 token[AUTH_TOKEN_LEN + 1];
	char		 challenge[AUTH_MAX_RESPONSE * 2];
	unsigned int	 delay;
	struct ipc_out	 out;
	struct ipc_in	 in;
};

static struct authc *
authc_open(const char *data_dir, const char *name, const char **err)
{
	static char msg[256];
	struct sockaddr_un sun;
	struct authc *a;
	int fd, tries;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (layout_path(sun.sun_path, sizeof(sun.sun_path), data_dir,
	    name) == -1) {
		*err = "data_dir too long for a UNIX socket path";
		return NULL;
	}
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1)
		goto fail;
	/* authd may be (re)starting: a few seconds, then give up. */
	for (tries = 0; connect(fd, (struct sockaddr *)&sun,
	    sizeof(sun)) == -1; tries++) {
		if ((errno != ENOENT && errno != ECONNREFUSED &&
		    errno != EINTR) || tries >= AUTHC_CONNECT_TRIES)
			goto fail;
		poll(NULL, 0, 100);
	}
	a = util_calloc(1, sizeof(*a));
	a->fd = fd;
	return a;
fail:
	snprintf(msg, sizeof(msg), "%s: %s", sun.sun_path, strerror(errno));
	*err = msg;
	if (fd != -1)
		close(fd);
	return NULL;
}

struct authc *
authc_connect(const char *data_dir, const char **err)
{
	return authc_open(data_dir, LAYOUT_AUTHD_SOCK, err);
}

struct authc *
authc_connect_control(const char *data_dir, const char **err)
{
	return authc_open(data_dir, LAYOUT_AUTHD_CONTROL, err);
}

void
authc_close(struct authc **a)
{
	if (*a == NULL)
		return;
	close((*a)->fd);
	explicit_bzero(*a, sizeof(**a));
	free(*a);
	*a = NULL;
}

int
authc_broken(const struct authc *a)
{
	return a->broken;
}

struct authc *
authc_ensure(struct authc **a, const char *data_dir)
{
	const char *err;

	if (*a != NULL && !(*a)->broken)
		return *a;
	authc_close(a);
	if ((*a = authc_connect(data_dir, &err)) == NULL)
		log_err("auth service: %s", err);
	return *a;
}

/*
 * Send a->out; then read the one reply into a->in.  0, or -1 (the
 * connection is then broken for good: authd never talks out of turn, so
 * a reply that does not decode or comes late leaves nothing to
 * resynchronise).
 */
static int
authc_send(struct authc *a)
{
	if (a->broken)
		return -1;
	if (ipc_send(a->fd, &a->out, -1) == -1) {
		log_err("authd: %s", strerror(errno));
		a->broken = 1;
		return -1;
	}
	return 0;
}

static int
authc_recv(struct authc *a, int timeout_ms)
{
	int r;

	if (a->broken)
		return -1;
	if ((r = ipc_recv(a->fd, &a->in, timeout_ms)) != 1) {
		log_err("authd: %s", r == 0 ? "closed the connection" :
		    errno == ETIMEDOUT ? "no answer" : strerror(errno));
		a->broken = 1;
		return -1;
	}
	if (a->in.fd != -1) {
		close(a->in.fd);
		a->in.fd = -1;
	}
	return 0;
}

static int
authc_call(struct authc *a, int timeout_ms)
{
	if (authc_send(a) == -1)
		return -1;
	return authc_recv(a, timeout_ms);
}

int
authc_fd(const struct authc *a)
{
	return a->fd;
}

/* Read an authentication reply for exchange a->conv (send: its request
 * first). */
static enum auth_result
authc_auth_reply(struct authc *a, int send, const char **challenge)
{
	const char *s, *kind;
	uint64_t conv, delay;

	if ((send && authc_send(a) == -1) ||
	    authc_recv(a, AUTHC_AUTH_TIMEOUT_MS) == -1)
		return AUTH_TEMPFAIL;
	if (ipc_get_u64(&a->in, &conv) == -1 || conv != a->conv)
		goto bad;
	switch (a->in.type) {
	case AR_CONTINUE:
		if ((s = ipc_get_str(&a->in)) == NULL ||
		    util_strcpy(a->challenge, s, sizeof(a->challenge)) == -1)
			goto bad;
		*challenge = a->challenge;
		return AUTH_CONTINUE;
	case AR_OK:
		if ((s = ipc_get_str(&a->in)) == NULL ||
		    util_strcpy(a->user, s, sizeof(a->user)) == -1 ||
		    (s = ipc_get_str(&a->in)) == NULL ||
		    util_strcpy(a->token, s, sizeof(a->token)) == -1)
			goto bad;
		return AUTH_OK;
	case AR_FAIL:
		if (ipc_get_u64(&a->in, &delay) == -1)
			goto bad;
		a->delay = delay > 3600 ? 3600 : (unsigned int)delay;
		return AUTH_FAIL;
	case AR_ERROR:
		if ((kind = ipc_get_str(&a->in)) == NULL)
			goto bad;
		if (strcmp(kind, AUTH_ERR_BADPROTO) == 0)
			return AUTH_BADPROTO;
		if (strcmp(kind, AUTH_ERR_NOMECH) == 0)
			return AUTH_NOMECH;
		return AUTH_TEMPFAIL;
	}
bad:
	log_err("authd: a reply that does not fit the request");
	a->broken = 1;
	return AUTH_TEMPFAIL;
}

static void
authc_begin_auth(struct authc *a, int type)
{
	a->user[0] = a->token[0] = '\0';
	a->delay = 0;
	ipc_begin(&a->out, (uint16_t)type);
	ipc_put_u64(&a->out, a->conv);
}

enum auth_result
authc_start(struct authc *a, const char *service, const char *client_ip,
    int secured, const char *mech, const char *initial,
    const char **challenge)
{
	a->conv++;
	authc_begin_auth(a, AP_START);
	ipc_put_str(&a->out, service);
	ipc_put_str(&a->out, client_ip);
	ipc_put_str(&a->out, secured ? "1" : "0");
	ipc_put_str(&a->out, mech);
	if (initial != NULL)
		ipc_put_str(&a->out, initial);
	return authc_auth_reply(a, 1, challenge);
}

enum auth_result
authc_step(struct authc *a, const char *response, const char **challenge)
{
	authc_begin_auth(a, AP_STEP);
	ipc_put_str(&a->out, response);
	return authc_auth_reply(a, 1, challenge);
}

int
authc_password_send(struct authc *a, const char *service,
    const char *client_ip, int secured, const char *user,
    const char *password)
{
	int r;

	a->conv++;
	authc_begin_auth(a, AP_PASSWORD);
	ipc_put_str(&a->out, service);
	ipc_put_str(&a->out, client_ip);
	ipc_put_str(&a->out, secured ? "1" : "0");
	ipc_put_str(&a->out, user);
	ipc_put_str(&a->out, password);
	r = authc_send(a);
	explicit_bzero(&a->out, sizeof(a->out));
	return r;
}

enum auth_result
authc_password_recv(struct authc *a)
{
	const char *unused;
	enum auth_result r = authc_auth_reply(a, 0, &unused);

	return r == AUTH_CONTINUE ? AUTH_TEMPFAIL : r;
}

enum auth_result
authc_password(struct authc *a, const char *service, const char *client_ip,
    int secured, const char *user, const char *password)
{
	if (authc_password_send(a, service, client_ip, secured, user,
	    password) == -1)
		return AUTH_TEMPFAIL;
	return authc_password_recv(a);
}

void
authc_cancel(struct authc *a)
{
	const char *unused;

	authc_begin_auth(a, AP_CANCEL);
	(void)authc_auth_reply(a, 1, &unused);
}

const char *
authc_user(const struct authc *a)
{
	return a->user;
}

const char *
authc_token(const struct authc *a)
{
	return a->token;
}

unsigned int
authc_delay(const struct authc *a)
{
	return a->delay;
}

/* Ask a lookup; the status word of the answer, or NULL on failure. */
static const char *
authc_ask(struct authc *a, int type, const char *arg1, const char *arg2)
{
	const char *status;

	ipc_begin(&a->out, (uint16_t)type);
	if (arg1 != NULL)
		ipc_put_str(&a->out, arg1);
	if (arg2 != NULL)
		ipc_put_str(&a->out, arg2);
	if (authc_call(a, AUTHC_LOOKUP_TIMEOUT_MS) == -1)
		return NULL;
	if (a->in.type != AR_ANSWER || (status = ipc_get_str(&a->in)) == NULL) {
		log_err("authd: a reply that does not fit the request");
		a->broken = 1;
		return NULL;
	}
	return status;
}

/* yes 1, no 0, anything else -1. */
static int
authc_yes_no(const char *status)
{
	if (status == NULL)
		return -1;
	if (strcmp(status, AA_YES) == 0)
		return 1;
	return strcmp(status, AA_NO) == 0 ? 0 : -1;
}

int
authc_domain_is_local(struct authc *a, const char *domain)
{
	return authc_yes_no(authc_ask(a, AP_DOMAIN_LOCAL, domain, NULL));
}

/* "Q kib messages octets count address" (AP_RESOLVE "quota"). */
static int
authc_quota_target(const char *s, struct rcpt_list *out)
{
	uint64_t v[4];
	struct rcpt_target *t;
	const char *end;
	size_t i;

	for (i = 0; i < 4; i++) {
		if ((end = util_decimal(s, &v[i])) == NULL || *end != ' ')
			return -1;
		s = end + 1;
	}
	if (*s == '\0')
		return -1;
	if (rcpt_list_add(out, s, 1) == 1) {
		t = &out->v[out->n - 1];
		t->quota_known = 1;
		t->quota_kib = v[0];
		t->quota_messages = v[1];
		t->used_octets = v[2];
		t->used_messages = v[3];
	}
	return 0;
}

static int
authc_resolve_ask(struct authc *a, const char *address, const char *flag,
    struct rcpt_list *out)
{
	const char *s;
	int r;

	if ((s = authc_ask(a, AP_RESOLVE, address, flag)) != NULL &&
	    strcmp(s, AA_REMOTE) == 0)
		r = 2;
	else if ((r = authc_yes_no(s)) != 1)
		return r;
	while (ipc_left(&a->in) > 0) {
		if ((s = ipc_get_str(&a->in)) == NULL || s[0] == '\0' ||
		    s[1] != ' ')
			return -1;
		if (s[0] == 'Q' && flag != NULL) {
			if (authc_quota_target(s + 2, out) == -1)
				return -1;
			continue;
		}
		if (s[0] != 'L' && s[0] != 'R')
			return -1;
		rcpt_list_add(out, s + 2, s[0] == 'L');
	}
	return r;
}

int
authc_resolve(struct authc *a, const char *address, struct rcpt_list *out)
{
	return authc_resolve_ask(a, address, NULL, out);
}

int
authc_resolve_quota(struct authc *a, const char *address,
    struct rcpt_list *out)
{
	return authc_resolve_ask(a, address, "quota", out);
}

int
authc_usage_serve(struct authc *a)
{
	return authc_yes_no(authc_ask(a, AP_USAGE_SERVE, NULL, NULL)) == 1 ?
	    1 : -1;
}

int
authc_usage_next(struct authc *a, int timeout_ms, char *mailbox,
    size_t size)
{
	const char *s;
	int r;

	if (a->broken)
		return -1;
	if ((r = ipc_recv(a->fd, &a->in, timeout_ms)) != 1) {
		if (r == 0 || errno != ETIMEDOUT)
			a->broken = 1;
		return r;
	}
	if (a->in.fd != -1) {
		close(a->in.fd);
		a->in.fd = -1;
	}
	if (a->in.type != AP_USAGE || (s = ipc_get_str(&a->in)) == NULL ||
	    util_strcpy(mailbox, s, size) == -1) {
		log_err("authd: a usage question that does not decode");
		a->broken = 1;
		return -1;
	}
	return 1;
}

int
authc_usage_answer(struct authc *a, int r, uint64_t octets,
    uint64_t messages)
{
	char n[24];

	ipc_begin(&a->out, AR_ANSWER);
	ipc_put_str(&a->out, r == 0 ? AA_YES : AA_NO);
	if (r == 0) {
		snprintf(n, sizeof(n), "%llu", (unsigned long long)octets);
		ipc_put_str(&a->out, n);
		snprintf(n, sizeof(n), "%llu", (unsigned long long)messages);
		ipc_put_str(&a->out, n);
	}
	return authc_send(a);
}

int
authc_postmaster(struct authc *a, char *domain, size_t size)
{
	const char *s;
	int r;

	if ((r = authc_yes_no(authc_ask(a, AP_POSTMASTER, NULL, NULL))) != 1)
		return r;
	if ((s = ipc_get_str(&a->in)) == NULL ||
	    util_strcpy(domain, s, size) == -1)
		return -1;
	return 1;
}

int
authc_sender_allowed(struct authc *a, const char *user, const char *sender)
{
	return authc_yes_no(authc_ask(a, AP_SENDER_ALLOWED, user, sender));
}

static int
authc_number(struct authc *a, uint64_t *v)
{
	const char *end = util_decimal(ipc_get_str(&a->in), v);

	return end != NULL && *end == '\0' ? 0 : -1;
}

int
authc_quota(struct authc *a, const char *address, uint64_t *storage_kib,
    uint64_t *messages)
{
	int r;

	*storage_kib = *messages = 0;
	if ((r = authc_yes_no(authc_ask(a, AP_QUOTA, address, NULL))) != 1)
		return r;
	if (authc_number(a, storage_kib) == -1 ||
	    authc_number(a, messages) == -1)
		return -1;
	return 1;
}

int
authc_identities(struct authc *a, const char *user,
    void (*cb)(const char *address, void *arg), void *arg)
{
	const char *s;
	int r;

	if ((r = authc_yes_no(authc_ask(a, AP_IDENTITIES, user, NULL))) != 1)
		return r;
	while ((s = ipc_get_str(&a->in)) != NULL)
		cb(s, arg);
	return 1;
}

int
authc_redeem(struct authc *a, const char *token, const char *service,
    char *user, size_t size)
{
	const char *s;
	int r;

	if ((r = authc_yes_no(authc_ask(a, AP_REDEEM, token, service))) != 1)
		return r;
	if ((s = ipc_get_str(&a->in)) == NULL ||
	    util_strcpy(user, s, size) == -1)
		return -1;
	return 1;
}

int
authc_submit_token(struct authc *a, const char *proof, char *token,
    size_t size)
{
	const char *s;
	int r;

	if ((r = authc_yes_no(authc_ask(a, AP_SUBMIT_TOKEN, proof, NULL))) !=
	    1)
		return r;
	if ((s = ipc_get_str(&a->in)) == NULL ||
	    util_strcpy(token, s, size) == -1)
		return -1;
	return 1;
}

int
authc_share_add(struct authc *a, const char *grantee)
{
	return authc_yes_no(authc_ask(a, AP_SHARE_ADD, grantee, NULL));
}

int
authc_share_drop(struct authc *a, const char *grantee)
{
	return authc_yes_no(authc_ask(a, AP_SHARE_DROP, grantee, NULL));
}

int
authc_shared_with(struct authc *a, void (*cb)(const char *owner, void *arg),
    void *arg)
{
	const char *s;
	int r;

	if ((r = authc_yes_no(authc_ask(a, AP_SHARED_WITH, NULL, NULL))) != 1)
		return r;
	while ((s = ipc_get_str(&a->in)) != NULL)
		cb(s, arg);
	return 0;
}

int
authc_flush(struct authc *a, const char *user)
{
	return authc_yes_no(authc_ask(a, AP_FLUSH, user, NULL)) == 1 ? 0 : -1;
}

int
authc_status(struct authc *a, void (*line)(const char *, void *), void *arg)
{
	const char *s;

	if (authc_yes_no(authc_ask(a, AP_STATUS, NULL, NULL)) != 1)
		return -1;
	while ((s = ipc_get_str(&a->in)) != NULL)
		line(s, arg);
	return 0;
}

/* After a "yes": the answer's next n values into the buffers given as
 * (char *, size_t) pairs.  1, or -1 when one is missing or too long. */
static int
authc_values(struct authc *a, int n, ...)
{
	const char *s;
	va_list ap;
	char *out;
	size_t size;
	int r = 1;

	va_start(ap, n);
	while (n-- > 0) {
		out = va_arg(ap, char *);
		size = va_arg(ap, size_t);
		if ((s = ipc_get_str(&a->in)) == NULL ||
		    util_strcpy(out, s, size) == -1)
			r = -1;
	}
	va_end(ap);
	return r;
}

int
authc_web_new(struct authc *a, const char *token, const char *client_ip,
    char *id, size_t idsize, char *csrf, size_t csize, char *user,
    size_t usize)
{
	int r = authc_yes_no(authc_ask(a, AP_WEB_NEW, token, client_ip));

	return r != 1 ? r : authc_values(a, 3, id, idsize, csrf, csize, user,
	    usize);
}

int
authc_web_check(struct authc *a, const char *id, char *user, size_t usize,
    char *csrf, size_t csize)
{
	int r = authc_yes_no(authc_ask(a, AP_WEB_CHECK, id, NULL));

	return r != 1 ? r : authc_values(a, 2, user, usize, csrf, csize);
}

int
authc_web_token(struct authc *a, const char *id, char *token, size_t size)
{
	char user[320];
	int r = authc_yes_no(authc_ask(a, AP_WEB_TOKEN, id, NULL));

	return r != 1 ? r : authc_values(a, 2, user, sizeof(user), token,
	    size);
}

int
authc_web_end(struct authc *a, const char *id)
{
	return authc_yes_no(authc_ask(a, AP_WEB_END, id, NULL));
}
