/*
 * login: the one way a client logs in, whatever the protocol (SMTP AUTH,
 * IMAP LOGIN and AUTHENTICATE, POP3 USER/PASS and AUTH, the webmail's
 * form): STARTTLS with what the client pipelined in the clear thrown
 * away (CVE-2011-0411), the SASL exchange in the protocol's framing
 * ("334 " or "+ " challenges, "*" to cancel), the count of failures in
 * the session, and one log line per attempt (user, mechanism, result,
 * delay: never a credential).  The verdict comes from the auth service
 * (authc), which also holds it back while an account or address is
 * under attack; a session never sleeps on its own.
 */
#ifndef LOGIN_H
#define LOGIN_H

#include "authc.h"

struct conn;
struct pool_session;
struct pool;
struct tls_ctx;

enum login_result {
	LOGIN_OK,		/* l->user, l->token are set */
	LOGIN_FAIL,		/* wrong credentials (counted) */
	LOGIN_CANCELLED,	/* "*" */
	LOGIN_BADPROTO,		/* bad base64, or an exchange out of order */
	LOGIN_NOMECH,		/* a mechanism we do not offer */
	LOGIN_TOOLONG,		/* an answer over the line limit */
	LOGIN_TEMPFAIL,		/* the auth service failed or said later */
	LOGIN_GONE,		/* the client left or timed out */
};

struct login {
	/* set by the caller */
	struct conn	*conn;
	struct authc	*authc;
	const char	*service;	/* "smtp", "imap", "pop", "web" */
	const char	*challenge;	/* "334 ", "+ " */
	const char	*sid;		/* for the log */
	const char	*client_ip;
	long long	 max_failures;
	/* the outcome */
	int		 failures;
	char		 mech[AUTH_MAX_MECH + 1];
	char		 user[320];
	char		 token[64];
};

/*
 * A SASL exchange: mech as the client named it, initial its initial
 * response in base64 (NULL if none).  Challenges go out and answers come
 * in on l->conn until a verdict.
 */
enum login_result login_sasl(struct login *l, const char *mech,
	    const char *initial);
/* A user name and password in the clear of the protocol (over TLS);
 * how names the command for the log ("login", "pass"). */
enum login_result login_password(struct login *l, const char *how,
	    const char *user, const char *password);
/* Has the session used up auth.max_failures? */
int	login_exhausted(const struct login *l);

/*
 * After LOGIN_OK: hand the client to a post-login process through maild
 * (global/pool.h), with the auth service's token and what the client has
 * sent beyond the login.  Without TLS the socket itself goes; with TLS
 * (or more pipelined input than a message holds) this process keeps the
 * client's connection and relays it over a socket pair, returning when
 * either side has closed.  service: where the client came in; tag: the
 * IMAP command's ("" for POP3).  0 when handed over (the connection is
 * no longer this session's to answer or flush), 1 when the post-login
 * process handed a relayed client back (login_hand_back(): the session
 * is this process's again, not authenticated, l's user and token
 * forgotten), -1 (logged): answer the client yourself.
 */
int	login_handoff(struct login *l, struct pool *pool, const char *service,
	    int client_port, const char *tag);
/*
 * A post-login process whose client is relayed (pool_session.relayed)
 * gives it back to the login process (IMAP's UNAUTHENTICATE, RFC 8437)
 * with its last reply (len octets, small), then writes nothing more and
 * ends.  0, or -1 with errno.
 */
int	login_hand_back(int fd, const void *last, size_t len);

/*
 * STARTTLS (RFC 3207, RFC 2595) once the protocol's go-ahead is queued:
 * what the client sent behind the command is discarded (and logged), then
 * the handshake.  0, or -1 (logged; the connection is unusable).  The
 * caller forgets what the session learnt in the clear.
 */
int	login_starttls(struct conn *c, struct tls_ctx *tls, const char *sid,
	    const char *client_ip, const char *command);
/*
 * A post-login process's first step: what the client sent beyond its
 * login back into c, then the user the auth service vouches for by
 * post's token (never what the login process says).  0 with user
 * filled, or -1 (logged: answer a temporary failure and end).
 */
int	login_redeem(struct conn *c, struct authc *a,
	    const struct pool_session *post, const char *service, char *user,
	    size_t size);

/*
 * A client connected: the log line, then on a port of implicit TLS (465,
 * 993, 995) the handshake before any greeting.  0, or -1 (logged; close
 * the connection without a word).
 */
int	login_connect(struct conn *c, struct tls_ctx *tls, const char *sid,
	    const char *service, const char *client_ip, int client_port);

#endif
