/*
 * sasl: the authentication exchanges of every protocol (SMTP AUTH, IMAP
 * AUTHENTICATE and LOGIN, POP3 AUTH and USER/PASS, the webmail's form),
 * run by Cyrus SASL's server API inside the auth service.  Cyrus's own
 * PLAIN and LOGIN mechanisms run the exchange; the password goes to the
 * verify function authd gives (SASL_CB_SERVER_USERDB_CHECKPASS), which
 * checks it against users.db's crypt(3) hashes, so no plain-text
 * password is stored anywhere.
 *
 * Not thread-safe by itself: authd calls it with its lock held, and the
 * verify function may let go of the lock while it hashes.
 */
#ifndef AUTHD_SASL_H
#define AUTHD_SASL_H

#include <stddef.h>

#include "../global/authc.h"

struct auth_session;

/* Once per process, before privileges are dropped (plugins are loaded
 * from a root-owned directory).  0, or -1 with *err. */
int	auth_init(const char **err);

/*
 * Does password belong to user?  1 yes, 0 no, -1 could not tell (the
 * database failed).
 */
typedef int (*auth_verify_fn)(void *arg, const char *user,
	    const char *password);

/*
 * A session for one authentication (or several, after failures) on one
 * connection.  service: "smtp", "imap", "pop", "web".
 */
struct auth_session *auth_session_new(const char *service,
	    auth_verify_fn verify, void *arg, const char **err);
void	auth_session_free(struct auth_session **a);
/* What the verify function is given from now on. */
void	auth_session_set_arg(struct auth_session *a, void *arg);

/*
 * Start with a mechanism.  initial: the client's initial response in
 * base64 ("=" for an empty one, RFC 4954 §4), or NULL if none.  On
 * AUTH_CONTINUE, *challenge_b64 is the base64 challenge to send (valid
 * until the next call).
 */
enum auth_result auth_start(struct auth_session *a, const char *mech,
	    const char *initial, const char **challenge_b64);
/* The client's next base64 line. */
enum auth_result auth_step(struct auth_session *a, const char *response,
	    const char **challenge_b64);
/* A user name and password given in the clear (POP3 USER/PASS, IMAP LOGIN). */
enum auth_result auth_password(struct auth_session *a, const char *user,
	    const char *password);
/* After AUTH_OK: the authenticated address (lower-case). */
const char *auth_user(const struct auth_session *a);
/* The user a failed attempt named (normalised), or "" if none was. */
const char *auth_attempted_user(const struct auth_session *a);

#endif
