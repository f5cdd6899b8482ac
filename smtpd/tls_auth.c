/*
 * STARTTLS (RFC 3207) and AUTH (RFC 4954).
 *
 * STARTTLS: after "220 Ready to start TLS" everything the client sent in
 * the clear is thrown away, never executed (the STARTTLS command
 * injection of CVE-2011-0411), and the session starts over: a new EHLO
 * is required (§4.2).
 *
 * AUTH is offered on the submission ports (587 after STARTTLS, 465), on
 * port 25 only if smtpd.port25_auth says so, and never without TLS unless
 * auth.allow_plaintext says so (development).  The exchange runs through
 * global/login and the auth service (Cyrus SASL there), which answers a
 * failure only after the delay its counters impose.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../lib/log.h"
#include "../lib/tls.h"
#include "smtpd.h"

struct authc *
smtp_authc(struct smtp_session *s)
{
	return authc_broken(s->authc) ? NULL : s->authc;
}

int
smtp_cmd_starttls(struct smtp_session *s, char *arg)
{
	(void)arg;
	if (s->conn.tls != NULL) {
		smtp_reply(s, "503 5.5.1 Error: TLS already active");
		return -1;
	}
	if (s->env->tls == NULL) {
		smtp_reply(s, "454 4.7.0 TLS not available");
		return -1;
	}
	smtp_reply(s, "220 2.0.0 Ready to start TLS");
	if (login_starttls(&s->conn, s->env->tls, s->id, s->client_ip,
	    "STARTTLS") == -1) {
		s->broken = s->quit = 1;
		return 0;
	}
	/* A new session: forget HELO and any transaction (§4.2). */
	s->helo[0] = '\0';
	s->esmtp = 0;
	smtp_txn_reset(s);
	smtp_set_state(s, S_CONNECTED);
	return 0;
}

int
smtp_auth_offered(const struct smtp_session *s)
{
	if (!s->submission && !s->conf->smtpd.port25_auth)
		return 0;
	return s->conn.tls != NULL || s->conf->auth.allow_plaintext;
}

int
smtp_cmd_auth(struct smtp_session *s, char *arg)
{
	char *mech = arg, *initial;

	if (!s->submission && !s->conf->smtpd.port25_auth) {
		smtp_reply(s, "503 5.5.1 Error: authentication not enabled");
		return -1;
	}
	if (!smtp_auth_offered(s)) {
		smtp_reply(s, "538 5.7.11 Encryption required for requested "
		    "authentication mechanism");
		return -1;
	}
	if (s->auth_user[0] != '\0') {
		smtp_reply(s, "503 5.5.1 Error: already authenticated");
		return -1;
	}
	if ((initial = strchr(mech, ' ')) != NULL) {
		*initial++ = '\0';
		if (*initial == '\0' || strchr(initial, ' ') != NULL) {
			smtp_reply(s, "501 5.5.4 Syntax: AUTH mechanism "
			    "[initial-response]");
			return -1;
		}
	}
	if (smtp_authc(s) == NULL) {
		smtp_reply(s, "454 4.7.0 Temporary authentication failure");
		return -1;
	}
	s->login.conn = &s->conn;
	s->login.authc = s->authc;
	s->login.service = "smtp";
	s->login.challenge = "334 ";
	s->login.sid = s->id;
	s->login.client_ip = s->client_ip;
	s->login.max_failures = s->conf->auth.max_failures;
	switch (login_sasl(&s->login, mech, initial)) {
	case LOGIN_OK:
		util_strcpy(s->auth_user, s->login.user, sizeof(s->auth_user));
		smtp_reply(s, "235 2.7.0 Authentication successful");
		return 0;
	case LOGIN_FAIL:
		smtp_reply(s, "535 5.7.8 Error: authentication failed");
		if (login_exhausted(&s->login)) {
			smtp_reply(s, "421 4.7.0 %s Error: too many "
			    "authentication failures", s->conf->server.hostname);
			s->quit = 1;
		}
		return 0;	/* counted apart from the syntax errors */
	case LOGIN_CANCELLED:
		smtp_reply(s, "501 5.7.0 Authentication cancelled");
		return -1;
	case LOGIN_BADPROTO:
		smtp_reply(s, "501 5.5.2 Error: malformed authentication "
		    "data (bad base64?)");
		return -1;
	case LOGIN_NOMECH:
		smtp_reply(s, "504 5.5.4 Unrecognized authentication type");
		return -1;
	case LOGIN_TOOLONG:
		smtp_reply(s, "500 5.5.6 Authentication exchange line is too "
		    "long");
		return -1;
	case LOGIN_GONE:
		s->quit = 1;
		return 0;
	default:
		smtp_reply(s, "454 4.7.0 Temporary authentication failure");
		return -1;
	}
}
