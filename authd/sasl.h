/*
 * auth: authentication for every protocol (SMTP AUTH, IMAP AUTHENTICATE
 * and LOGIN, POP3 AUTH and USER/PASS, the webmail), through Cyrus SASL's
 * server API.  Cyrus's own PLAIN and LOGIN mechanisms run the exchange;
 * the password is checked against users.db's crypt(3) hashes by a
 * SASL_CB_SERVER_USERDB_CHECKPASS callback, so no plain-text password is
 * stored anywhere.
 *
 * Failed attempts are counted per client address in <data_dir>/authfail.db
 * (shared by every service and session), and each failure is answered
 * only after a delay that doubles with the recent failures from that
 * address: auth_failure_delay().
 */
#ifndef AUTH_H
#define AUTH_H

#include <stddef.h>

struct userdb;
struct auth_session;

enum auth_result {
	AUTH_OK,	/* authenticated: auth_user() says who */
	AUTH_CONTINUE,	/* send the challenge, read the client's answer */
	AUTH_FAIL,	/* wrong credentials */
	AUTH_BADPROTO,	/* malformed base64 or exchange */
	AUTH_NOMECH,	/* mechanism not offered */
	AUTH_TEMPFAIL,	/* our side failed (database, memory) */
};

#define AUTH_MECHS	"PLAIN LOGIN"	/* what we offer, in this order */
#define AUTH_MAX_RESPONSE 4096		/* decoded octets a client may send */
#define AUTH_MAX_MECH	20		/* a SASL mechanism name (RFC 4422 §3.1) */

/* Once per process, before privileges are dropped (plugins are loaded
 * from a root-owned directory).  0, or -1 with *err. */
int	auth_init(const char **err);

/*
 * A session for one authentication (or several, after failures) on one
 * connection.  service: "smtp", "imap", "pop".  The database handle is
 * borrowed.
 */
struct auth_session *auth_session_new(const char *service,
	    struct userdb *db, const char **err);
void	auth_session_free(struct auth_session **a);

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

/*
 * Failures per client address.  auth_failure_delay() records a failure
 * and returns how many seconds to wait before saying so; auth_success()
 * clears the record.  data_dir holds authfail.db.
 */
unsigned int auth_failure_delay(const char *data_dir, const char *client_ip,
	    unsigned int max_delay);
void	auth_success(const char *data_dir, const char *client_ip);

#endif
