/*
 * authc: the client side of the auth service (authd, authproto.h).
 *
 * Sessions authenticate through it (they never see a password hash, nor
 * open users.db), and smtpd and delivery ask it what an address means.
 * Every call waits for authd's answer, which for an authentication may
 * come only after the delay authd imposes on an account or address under
 * attack.  Once the connection to authd fails, every call fails
 * (AUTH_TEMPFAIL, -1) and authc_broken() says so: the process should
 * finish its session and exit, to be replaced by one that connects
 * afresh.
 */
#ifndef AUTHC_H
#define AUTHC_H

#include <stddef.h>

#include "userdb.h"

struct authc;

enum auth_result {
	AUTH_OK,	/* authenticated: authc_user() says who */
	AUTH_CONTINUE,	/* send the challenge, read the client's answer */
	AUTH_FAIL,	/* wrong credentials */
	AUTH_BADPROTO,	/* malformed base64 or exchange */
	AUTH_NOMECH,	/* mechanism not offered */
	AUTH_TEMPFAIL,	/* our side failed (database, memory, too busy) */
};

#define AUTH_MECHS	"PLAIN LOGIN"	/* what we offer, in this order */
#define AUTH_MAX_RESPONSE 4096		/* decoded octets a client may send */
#define AUTH_MAX_MECH	20		/* a SASL mechanism name (RFC 4422 §3.1) */

/* Connect to <data_dir>/authd.sock (or authd.control); NULL with *err. */
struct authc *authc_connect(const char *data_dir, const char **err);
struct authc *authc_connect_control(const char *data_dir, const char **err);
void	authc_close(struct authc **a);
int	authc_broken(const struct authc *a);
/*
 * For long-lived processes that may reconnect (delivery, the queue
 * runner): *a, connected (again) if it was not or its connection broke
 * (authd restarted).  NULL (logged) if authd cannot be reached.
 */
struct authc *authc_ensure(struct authc **a, const char *data_dir);

/*
 * Authentication.  service: "smtp", "imap", "pop", "web"; secured: the
 * client's connection is encrypted.  initial: the initial response in
 * base64 ("=" for an empty one), NULL if none.  On AUTH_CONTINUE,
 * *challenge is the base64 challenge to send, valid until the next call.
 * After AUTH_OK, authc_user() and authc_token() (for the post-login
 * process, authc_redeem()); after AUTH_FAIL, authc_delay() is how many
 * seconds authd held the answer back.
 */
enum auth_result authc_start(struct authc *a, const char *service,
	    const char *client_ip, int secured, const char *mech,
	    const char *initial, const char **challenge);
enum auth_result authc_step(struct authc *a, const char *response,
	    const char **challenge);
enum auth_result authc_password(struct authc *a, const char *service,
	    const char *client_ip, int secured, const char *user,
	    const char *password);
/*
 * The same check in two halves, for an event loop (the webmail's front,
 * which must not wait while authd holds a verdict back): send, then
 * read the verdict once authc_fd() is readable.  -1 or AUTH_TEMPFAIL
 * when the connection failed.
 */
int	authc_fd(const struct authc *a);
int	authc_password_send(struct authc *a, const char *service,
	    const char *client_ip, int secured, const char *user,
	    const char *password);
enum auth_result authc_password_recv(struct authc *a);
/* Abandon an exchange ("*" from the client). */
void	authc_cancel(struct authc *a);
const char *authc_user(const struct authc *a);
const char *authc_token(const struct authc *a);
unsigned int authc_delay(const struct authc *a);

/* Lookups, as userdb's functions of the same names: 1, 0, -1 (error). */
int	authc_domain_is_local(struct authc *a, const char *domain);
/* authc_resolve: 2 as well, for an address of another domain. */
int	authc_resolve(struct authc *a, const char *address,
	    struct rcpt_list *out);
/* The same, with each local mailbox's limits and usage where it has a
 * limit and the usage is known (quota_known; smtpd's RCPT). */
int	authc_resolve_quota(struct authc *a, const char *address,
	    struct rcpt_list *out);
/* The queue's usage process (authd/quota.c): offer this connection
 * (1 accepted, else -1); then the next address authd asks about into
 * mailbox (1, 0 closed, -1; timeout_ms as ipc_recv's), and the answer
 * (r: 0 with the figures, -1 unknown).  0 or -1. */
int	authc_usage_serve(struct authc *a);
int	authc_usage_next(struct authc *a, int timeout_ms, char *mailbox,
	    size_t size);
int	authc_usage_answer(struct authc *a, int r, uint64_t octets,
	    uint64_t messages);
/* The domain whose postmaster a bare RCPT TO:<postmaster> means. */
int	authc_postmaster(struct authc *a, char *domain, size_t size);
int	authc_sender_allowed(struct authc *a, const char *user,
	    const char *sender);
/* The aliases user may send as besides its own address (cb each): 1,
 * 0 none, -1. */
int	authc_identities(struct authc *a, const char *user,
	    void (*cb)(const char *address, void *arg), void *arg);
/* A user's quota (userdb_user_quota()): 1 with the limits (0: none),
 * 0 no such user, -1. */
int	authc_quota(struct authc *a, const char *address,
	    uint64_t *storage_kib, uint64_t *messages);
/* IMAP ACL (RFC 4314), for the user this connection redeemed a token
 * for: the owner shares with grantee ("anyone" or a user of its
 * domain), or no longer: 1, 0 refused, -1.  The owners who share with
 * this user (cb each, at most AUTH_SHARES_MAX): 0 or -1. */
int	authc_share_add(struct authc *a, const char *grantee);
int	authc_share_drop(struct authc *a, const char *grantee);
int	authc_shared_with(struct authc *a,
	    void (*cb)(const char *owner, void *arg), void *arg);
/* Whose login a token proves (once); 1 with user filled, 0, -1. */
int	authc_redeem(struct authc *a, const char *token, const char *service,
	    char *user, size_t size);
/* BURL (RFC 4468): for the user this connection last logged in to
 * "smtp", proof being that login's token, a "submit" token its IMAP
 * post-login process redeems.  1 with token filled, 0, -1. */
int	authc_submit_token(struct authc *a, const char *proof, char *token,
	    size_t size);

/*
 * The webmail's sessions (authproto.h): a "web" login's token becomes a
 * session (its id, CSRF token and user); a session id gives its user and
 * CSRF token, or a "web" token for a Maildir process; or ends.  1 (the
 * values filled), 0 (no such session or token), -1.
 */
int	authc_web_new(struct authc *a, const char *token,
	    const char *client_ip, char *id, size_t idsize, char *csrf,
	    size_t csize, char *user, size_t usize);
int	authc_web_check(struct authc *a, const char *id, char *user,
	    size_t usize, char *csrf, size_t csize);
int	authc_web_token(struct authc *a, const char *id, char *token,
	    size_t size);
int	authc_web_end(struct authc *a, const char *id);
/* Control: forget user's cached logins; print the limits' state. */
int	authc_flush(struct authc *a, const char *user);
int	authc_status(struct authc *a, void (*line)(const char *text,
	    void *arg), void *arg);

#endif
