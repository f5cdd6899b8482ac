#include <string.h>

#include "../lib/conn.h"
#include "../lib/log.h"
#include "../lib/tls.h"
#include "../lib/util.h"
#include "login.h"

static enum login_result
login_of(enum auth_result r)
{
	switch (r) {
	case AUTH_OK:
		return LOGIN_OK;
	case AUTH_FAIL:
		return LOGIN_FAIL;
	case AUTH_BADPROTO:
		return LOGIN_BADPROTO;
	case AUTH_NOMECH:
		return LOGIN_NOMECH;
	default:
		return LOGIN_TEMPFAIL;
	}
}

static const char *const login_words[] = {
	[LOGIN_OK] = "ok", [LOGIN_FAIL] = "failed",
	[LOGIN_CANCELLED] = "cancelled", [LOGIN_BADPROTO] = "malformed",
	[LOGIN_NOMECH] = "no-such-mechanism", [LOGIN_TOOLONG] = "too-long",
	[LOGIN_TEMPFAIL] = "tempfail", [LOGIN_GONE] = "client-gone",
};

/* The verdict: remembered, counted and logged. */
static enum login_result
login_done(struct login *l, enum login_result r)
{
	l->user[0] = l->token[0] = '\0';
	if (r == LOGIN_OK) {
		util_strcpy(l->user, authc_user(l->authc), sizeof(l->user));
		util_strcpy(l->token, authc_token(l->authc), sizeof(l->token));
	} else if (r == LOGIN_FAIL)
		l->failures++;
	log_info("sid=%s client=[%s] auth mech=%s user=%s result=%s "
	    "delay=%us", l->sid, l->client_ip, l->mech,
	    l->user[0] != '\0' ? l->user : "-", login_words[r],
	    r == LOGIN_FAIL ? authc_delay(l->authc) : 0);
	return r;
}

enum login_result
login_sasl(struct login *l, const char *mech, const char *initial)
{
	const char *challenge = NULL;
	enum auth_result r;
	char *line;
	size_t len;

	/* A name, never the client's line: the exchange reuses its buffer. */
	if (strlen(mech) > AUTH_MAX_MECH ||
	    mech[strspn(mech, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_")] != '\0') {
		util_strcpy(l->mech, "?", sizeof(l->mech));
		return login_done(l, LOGIN_NOMECH);
	}
	util_strcpy(l->mech, mech, sizeof(l->mech));
	util_upper(l->mech);
	r = authc_start(l->authc, l->service, l->client_ip,
	    l->conn->tls != NULL, l->mech, initial, &challenge);
	while (r == AUTH_CONTINUE) {
		conn_printf(l->conn, "%s%s\r\n", l->challenge, challenge);
		switch (conn_getcmd(l->conn, &line, &len)) {
		case CONN_LINE:
			break;
		case CONN_TOOLONG:
			authc_cancel(l->authc);
			return login_done(l, LOGIN_TOOLONG);
		case CONN_NUL:
			authc_cancel(l->authc);
			return login_done(l, LOGIN_BADPROTO);
		default:
			authc_cancel(l->authc);
			return login_done(l, LOGIN_GONE);
		}
		if (strcmp(line, "*") == 0) {	/* RFC 4954 §4, 3501 §6.2.2 */
			authc_cancel(l->authc);
			return login_done(l, LOGIN_CANCELLED);
		}
		r = authc_step(l->authc, line, &challenge);
	}
	return login_done(l, login_of(r));
}

enum login_result
login_password(struct login *l, const char *how, const char *user,
    const char *password)
{
	util_strcpy(l->mech, how, sizeof(l->mech));
	return login_done(l, login_of(authc_password(l->authc, l->service,
	    l->client_ip, l->conn->tls != NULL, user, password)));
}

int
login_exhausted(const struct login *l)
{
	return l->failures >= l->max_failures;
}

int
login_starttls(struct conn *c, struct tls_ctx *tls, const char *sid,
    const char *client_ip, const char *command)
{
	const char *err;
	char how[16];
	size_t discarded;

	if (tls_starttls(c, tls, &discarded, &err) == -1) {
		log_info("sid=%s client=[%s] %s failed: %s", sid, client_ip,
		    command, err);
		return -1;
	}
	if (discarded > 0)
		log_warn("sid=%s client=[%s] discarded %zu octets pipelined "
		    "after %s", sid, client_ip, discarded, command);
	util_strcpy(how, command, sizeof(how));
	util_lower(how);
	login_log_tls(c, sid, how);
	return 0;
}

void
login_log_tls(const struct conn *c, const char *sid, const char *how)
{
	log_info("sid=%s %s version=%s cipher=%s bits=%d", sid, how,
	    tls_version(c), tls_cipher(c), tls_cipher_bits(c));
}
