#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strings.h>

#include <sasl/sasl.h>
#include <sasl/saslplug.h>
#include <sasl/saslutil.h>

#include "../lib/log.h"
#include "../global/userdb.h"
#include "../lib/util.h"
#include "sasl.h"

/* Cyrus declares every callback as int (*)(void); going through
 * void (*)(void) tells the compiler the cast is meant. */
#define SASL_FN(f)	((int (*)(void))(void (*)(void))(f))

struct auth_session {
	sasl_conn_t	*conn;
	auth_verify_fn	 verify;
	void		*verify_arg;
	sasl_callback_t	 callbacks[4];
	char		 user[320];	/* authenticated address */
	char		 attempted[320];	/* whom the last check was for */
	int		 checked;	/* our checkpass said: SASL_OK, ... */
	char		 out[AUTH_MAX_RESPONSE * 2];	/* base64 challenge */
};

/* Options a sasl2 config file would give, fixed here. */
static int
auth_getopt(void *context, const char *plugin, const char *option,
    const char **result, unsigned *len)
{
	(void)context;
	(void)plugin;
	if (strcmp(option, "mech_list") == 0)
		*result = AUTH_MECHS;
	/*
	 * Our checkpass callback is the only verifier: should it fail, the
	 * library looks for another, and this name matches none.
	 */
	else if (strcmp(option, "pwcheck_method") == 0)
		*result = "maild-users-db-only";
	/* Only ours (below): nothing may read /etc/sasldb2 behind our back. */
	else if (strcmp(option, "auxprop_plugin") == 0)
		*result = "maild";
	else
		return SASL_FAIL;
	if (len != NULL)
		*len = (unsigned)strlen(*result);
	return SASL_OK;
}

static int
auth_log(void *context, int level, const char *message)
{
	(void)context;
	if (level <= SASL_LOG_ERR)
		log_debug("sasl: %s", log_str(message));
	else
		log_debug("sasl(%d): %s", level, log_str(message));
	return SASL_OK;
}

static const sasl_callback_t auth_global_callbacks[] = {
	{ SASL_CB_GETOPT, SASL_FN(auth_getopt), NULL },
	{ SASL_CB_LOG, SASL_FN(auth_log), NULL },
	{ SASL_CB_LIST_END, NULL, NULL },
};

/*
 * The library looks user properties up through an "auxprop" plugin when
 * it canonicalizes names.  Ours knows none: users.db is consulted by the
 * checkpass callback, and the default authorization rule (authzid, if
 * given, must equal the authenticated id) needs nothing more.
 */
static int
auth_auxprop_lookup(void *glob, sasl_server_params_t *sparams, unsigned flags,
    const char *user, unsigned ulen)
{
	(void)glob;
	(void)sparams;
	(void)flags;
	(void)user;
	(void)ulen;
	return SASL_OK;
}

static sasl_auxprop_plug_t auth_auxprop = {
	0, 0, NULL, NULL, auth_auxprop_lookup, "maild", NULL
};

static int
auth_auxprop_init(const sasl_utils_t *utils, int max_version,
    int *out_version, sasl_auxprop_plug_t **plug, const char *plugname)
{
	(void)utils;
	(void)plugname;
	if (max_version < SASL_AUXPROP_PLUG_VERSION)
		return SASL_BADVERS;
	*out_version = SASL_AUXPROP_PLUG_VERSION;
	*plug = &auth_auxprop;
	return SASL_OK;
}

int
auth_init(const char **err)
{
	int r;

	if ((r = sasl_server_init(auth_global_callbacks, "maild")) != SASL_OK ||
	    (r = sasl_auxprop_add_plugin("maild", auth_auxprop_init)) !=
	    SASL_OK) {
		*err = sasl_errstring(r, NULL, NULL);
		return -1;
	}
	return 0;
}

/* User names are addresses, compared lower-case, as users.db stores them. */
static int
auth_canon_user(sasl_conn_t *conn, void *context, const char *in,
    unsigned inlen, unsigned flags, const char *realm, char *out,
    unsigned out_max, unsigned *out_len)
{
	char buf[320], norm[320];
	const char *why;

	(void)conn;
	(void)context;
	(void)flags;
	(void)realm;
	if (inlen == 0 || inlen >= sizeof(buf) || memchr(in, '\0', inlen))
		return SASL_BADPROT;
	memcpy(buf, in, inlen);
	buf[inlen] = '\0';
	if (userdb_normalize(buf, norm, sizeof(norm), &why) == -1)
		return SASL_NOUSER;
	if (strlen(norm) >= out_max)
		return SASL_BUFOVER;
	memcpy(out, norm, strlen(norm) + 1);
	*out_len = (unsigned)strlen(norm);
	return SASL_OK;
}

static int
auth_checkpass(sasl_conn_t *conn, void *context, const char *user,
    const char *pass, unsigned passlen, struct propctx *propctx)
{
	struct auth_session *a = context;
	char pw[1025];
	int r;

	(void)conn;
	(void)propctx;
	util_strcpy(a->attempted, user, sizeof(a->attempted));
	if (passlen >= sizeof(pw) || memchr(pass, '\0', passlen) != NULL)
		return a->checked = SASL_BADAUTH;
	memcpy(pw, pass, passlen);
	pw[passlen] = '\0';
	r = a->verify(a->verify_arg, user, pw);
	explicit_bzero(pw, sizeof(pw));
	if (r < 0)
		return a->checked = SASL_UNAVAIL;
	return a->checked = r == 1 ? SASL_OK : SASL_BADAUTH;
}

struct auth_session *
auth_session_new(const char *service, auth_verify_fn verify, void *arg,
    const char **err)
{
	struct auth_session *a = util_calloc(1, sizeof(*a));
	sasl_security_properties_t secprops;
	int r;

	a->verify = verify;
	a->verify_arg = arg;
	a->callbacks[0] = (sasl_callback_t){ SASL_CB_SERVER_USERDB_CHECKPASS,
	    SASL_FN(auth_checkpass), a };
	a->callbacks[1] = (sasl_callback_t){ SASL_CB_CANON_USER,
	    SASL_FN(auth_canon_user), a };
	a->callbacks[2] = (sasl_callback_t){ SASL_CB_LIST_END, NULL, NULL };
	r = sasl_server_new(service, NULL, NULL, NULL, NULL, a->callbacks, 0,
	    &a->conn);
	if (r != SASL_OK) {
		*err = sasl_errstring(r, NULL, NULL);
		free(a);
		return NULL;
	}
	/*
	 * PLAIN and LOGIN send the password itself: the protocols offer
	 * them only over TLS (or where configured for development), so the
	 * library must not refuse them for being plain-text.
	 */
	memset(&secprops, 0, sizeof(secprops));
	secprops.maxbufsize = 0;
	secprops.security_flags = SASL_SEC_NOANONYMOUS;
	sasl_setprop(a->conn, SASL_SEC_PROPS, &secprops);
	return a;
}

void
auth_session_free(struct auth_session **a)
{
	if (*a == NULL)
		return;
	sasl_dispose(&(*a)->conn);
	explicit_bzero(*a, sizeof(**a));
	free(*a);
	*a = NULL;
}

/* Decode the client's base64 ("=" is the empty response). */
static int
auth_decode(const char *b64, char *out, unsigned *outlen)
{
	size_t n = strlen(b64);

	if (strcmp(b64, "=") == 0) {
		*outlen = 0;
		out[0] = '\0';
		return 0;
	}
	if (n == 0 || n > AUTH_MAX_RESPONSE * 4 / 3 + 4)
		return -1;
	return sasl_decode64(b64, (unsigned)n, out, AUTH_MAX_RESPONSE,
	    outlen) == SASL_OK ? 0 : -1;
}

static enum auth_result
auth_result(struct auth_session *a, int r, const char *out, unsigned outlen,
    const char **challenge)
{
	const void *user = NULL;
	unsigned len;

	/*
	 * When our verifier said no, the library goes on to look for another
	 * (there is none: pwcheck_method) and returns what that search gave:
	 * what counts is what ours said.
	 */
	if (r != SASL_OK && r != SASL_CONTINUE && a->checked != 0) {
		/* ours said yes and still it failed: authorization (authzid) */
		r = a->checked == SASL_OK ? SASL_NOAUTHZ : a->checked;
		a->checked = 0;
	}
	switch (r) {
	case SASL_OK:
		if (sasl_getprop(a->conn, SASL_USERNAME, &user) != SASL_OK ||
		    user == NULL)
			return AUTH_TEMPFAIL;
		util_strcpy(a->user, user, sizeof(a->user));
		return AUTH_OK;
	case SASL_CONTINUE:
		if (sasl_encode64(out != NULL ? out : "", outlen, a->out,
		    sizeof(a->out), &len) != SASL_OK)
			return AUTH_TEMPFAIL;
		*challenge = a->out;
		return AUTH_CONTINUE;
	case SASL_NOMECH:
	case SASL_TOOWEAK:
		return AUTH_NOMECH;
	case SASL_BADPROT:
	case SASL_BADPARAM:
		return AUTH_BADPROTO;
	case SASL_UNAVAIL:
	case SASL_NOMEM:
	case SASL_FAIL:
		return AUTH_TEMPFAIL;
	default:		/* BADAUTH, NOUSER, NOAUTHZ, NOVERIFY ... */
		return AUTH_FAIL;
	}
}

enum auth_result
auth_start(struct auth_session *a, const char *mech, const char *initial,
    const char **challenge)
{
	char in[AUTH_MAX_RESPONSE + 1];
	const char *out = NULL;
	unsigned inlen = 0, outlen = 0;
	int r;

	/* Only what we offer, whatever else a plugin directory holds. */
	if (strcasecmp(mech, "PLAIN") != 0 && strcasecmp(mech, "LOGIN") != 0)
		return AUTH_NOMECH;
	if (initial != NULL && auth_decode(initial, in, &inlen) == -1)
		return AUTH_BADPROTO;
	a->checked = 0;
	a->attempted[0] = '\0';
	r = sasl_server_start(a->conn, mech, initial != NULL ? in : NULL,
	    inlen, &out, &outlen);
	explicit_bzero(in, sizeof(in));
	return auth_result(a, r, out, outlen, challenge);
}

enum auth_result
auth_step(struct auth_session *a, const char *response,
    const char **challenge)
{
	char in[AUTH_MAX_RESPONSE + 1];
	const char *out = NULL;
	unsigned inlen = 0, outlen = 0;
	int r;

	if (auth_decode(response, in, &inlen) == -1)
		return AUTH_BADPROTO;
	r = sasl_server_step(a->conn, in, inlen, &out, &outlen);
	explicit_bzero(in, sizeof(in));
	return auth_result(a, r, out, outlen, challenge);
}

enum auth_result
auth_password(struct auth_session *a, const char *user, const char *password)
{
	int r;

	a->attempted[0] = '\0';
	if (strlen(user) > 319 || strlen(password) > 1024)
		return AUTH_FAIL;
	a->checked = 0;
	r = sasl_checkpass(a->conn, user, (unsigned)strlen(user), password,
	    (unsigned)strlen(password));
	return auth_result(a, r, NULL, 0, NULL);
}

const char *
auth_user(const struct auth_session *a)
{
	return a->user;
}

const char *
auth_attempted_user(const struct auth_session *a)
{
	return a->attempted;
}

void
auth_session_set_arg(struct auth_session *a, void *arg)
{
	a->verify_arg = arg;
}
