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
 * lib/auth (Cyrus SASL); a failure is answered after a delay that grows
 * with the recent failures from the client's address.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../lib/auth.h"
#include "../lib/daemon.h"
#include "../lib/log.h"
#include "../lib/tls.h"
#include "smtpd.h"

struct userdb *
smtp_db(struct smtp_session *s)
{
	const char *err;

	if (s->db == NULL &&
	    (s->db = userdb_open(s->conf->server.data_dir, 0, &err)) == NULL)
		log_err("sid=%s users.db: %s", s->id, err);
	return s->db;
}

static void
smtp_log_tls(struct smtp_session *s, const char *how)
{
	log_info("sid=%s %s version=%s cipher=%s bits=%d", s->id, how,
	    tls_version(&s->conn), tls_cipher(&s->conn),
	    tls_cipher_bits(&s->conn));
}

int
smtp_implicit_tls(struct smtp_session *s)
{
	const char *err;

	if (tls_accept(&s->conn, s->env->tls, &err) == -1) {
		log_info("sid=%s client=[%s] TLS handshake failed: %s", s->id,
		    s->client_ip, err);
		s->broken = 1;
		return -1;
	}
	smtp_log_tls(s, "tls");
	return 0;
}

int
smtp_cmd_starttls(struct smtp_session *s, char *arg)
{
	const char *err;
	size_t pending;

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
	if (tls_starttls(&s->conn, s->env->tls, &pending, &err) == -1) {
		log_info("sid=%s client=[%s] STARTTLS failed: %s", s->id,
		    s->client_ip, err);
		s->broken = s->quit = 1;
		return 0;
	}
	if (pending > 0)
		log_warn("sid=%s client=[%s] discarded %zu octets pipelined "
		    "after STARTTLS", s->id, s->client_ip, pending);
	smtp_log_tls(s, "starttls");
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

/* Sleep, waking early only to stop. */
static void
smtp_penalty(unsigned int seconds)
{
	struct timespec ts = { (time_t)seconds, 0 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR && !daemon_term)
		;
}

int
smtp_cmd_auth(struct smtp_session *s, char *arg)
{
	struct auth_session *a;
	enum auth_result r;
	enum conn_status st;
	const char *challenge = NULL, *err;
	char *mech = arg, *initial, *line, mech_name[AUTH_MAX_MECH + 1];
	size_t len;

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
	/*
	 * mech points into the connection's line buffer, which the 334
	 * exchange below overwrites with the client's base64 answers: the
	 * log lines must name the mechanism from a copy, or they would
	 * carry the credentials.
	 */
	util_strcpy(mech_name, mech, sizeof(mech_name));
	if (smtp_db(s) == NULL ||
	    (a = auth_session_new("smtp", s->db, &err)) == NULL) {
		smtp_reply(s, "454 4.7.0 Temporary authentication failure");
		return -1;
	}
	r = auth_start(a, mech, initial, &challenge);
	while (r == AUTH_CONTINUE) {
		smtp_reply(s, "334 %s", challenge);
		st = conn_getcmd(&s->conn, &line, &len);
		if (st == CONN_TOOLONG) {
			smtp_reply(s, "500 5.5.6 Authentication exchange line "
			    "is too long");
			auth_session_free(&a);
			return -1;
		}
		if (st == CONN_NUL) {
			smtp_reply(s, "501 5.5.2 Error: malformed "
			    "authentication data (NUL octet)");
			auth_session_free(&a);
			return -1;
		}
		if (st != CONN_LINE) {
			s->quit = 1;
			auth_session_free(&a);
			return 0;
		}
		if (strcmp(line, "*") == 0) {
			smtp_reply(s, "501 5.7.0 Authentication cancelled");
			auth_session_free(&a);
			return -1;
		}
		r = auth_step(a, line, &challenge);
	}
	switch (r) {
	case AUTH_OK:
		util_strcpy(s->auth_user, auth_user(a), sizeof(s->auth_user));
		auth_session_free(&a);
		auth_success(s->conf->server.data_dir, s->client_ip);
		log_info("sid=%s client=[%s] auth mech=%s user=%s result=ok",
		    s->id, s->client_ip, log_str(mech_name),
		    log_str(s->auth_user));
		smtp_reply(s, "235 2.7.0 Authentication successful");
		return 0;
	case AUTH_FAIL: {
		unsigned int delay = auth_failure_delay(
		    s->conf->server.data_dir, s->client_ip,
		    (unsigned int)s->conf->auth.failure_delay_max);

		auth_session_free(&a);
		log_info("sid=%s client=[%s] auth mech=%s result=failed "
		    "delay=%us", s->id, s->client_ip, log_str(mech_name),
		    delay);
		conn_flush(&s->conn);
		smtp_penalty(delay);
		smtp_reply(s, "535 5.7.8 Error: authentication failed");
		if (++s->auth_failures >= s->conf->auth.max_failures) {
			smtp_reply(s, "421 4.7.0 %s Error: too many "
			    "authentication failures", s->conf->server.hostname);
			s->quit = 1;
		}
		return 0;	/* counted apart from the syntax errors */
	}
	case AUTH_BADPROTO:
		smtp_reply(s, "501 5.5.2 Error: malformed authentication "
		    "data (bad base64?)");
		break;
	case AUTH_NOMECH:
		smtp_reply(s, "504 5.5.4 Unrecognized authentication type");
		break;
	default:
		smtp_reply(s, "454 4.7.0 Temporary authentication failure");
		break;
	}
	auth_session_free(&a);
	return -1;
}
