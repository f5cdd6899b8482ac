/*
 * smtpd: the SMTP server (RFC 5321) for port 25 (mail from the world),
 * 587 (submission, RFC 6409) and 465 (submission over TLS, RFC 8314).
 *
 * smtpd.c	main: set-up, confinement, the clients maild lets it serve
 * session.c	one connection: the command table and state machine
 * tls_auth.c	STARTTLS (RFC 3207) and AUTH (RFC 4954)
 * data.c	DATA: the message into the spool
 * burl.c	BURL (RFC 4468): the message fetched by URLFETCH from the
 *		user's IMAP post-login process
 * spf.c	SPF on port 25 (RFC 7208) and its headers
 */
#ifndef SMTPD_H
#define SMTPD_H

#include "../global/addr.h"
#include "../global/conf.h"
#include "../global/spool.h"
#include "../global/login.h"
#include "../lib/conn.h"
#include "../lib/net.h"
#include "../lib/util.h"

struct tls_ctx;
struct dns;
struct spf;

/* Session states: each command names the states it is allowed in. */
enum smtp_state {
	S_CONNECTED	= 0x01,	/* greeted, no HELO/EHLO yet */
	S_READY		= 0x02,	/* HELO/EHLO done, no transaction */
	S_MAIL		= 0x04,	/* MAIL accepted */
	S_RCPT		= 0x08,	/* at least one RCPT accepted */
};
#define S_ANY	(S_CONNECTED | S_READY | S_MAIL | S_RCPT)

struct pool;

struct smtpd_env {		/* what every session of this process shares */
	struct conf	*conf;
	struct tls_ctx	*tls;	/* NULL: no certificate configured */
	struct pool	*pool;	/* spool files come from maild */
	struct authc	*authc;	/* the auth service: logins, lookups */
	struct dns	*dns;	/* SPF's resolver */
	struct spf	*spf;
};

struct smtp_session {
	struct conn	 conn;
	struct smtpd_env *env;
	struct conf	*conf;
	const char	*service;	/* "smtp", "submission", "submissions" */
	int		 submission;	/* 587/465: AUTH required to send */
	char		 id[SESSION_ID_LEN + 1];
	char		 client_ip[NET_ADDRSTRLEN];
	int		 client_port;
	char		 helo[256];	/* escaped for logs and headers */
	int		 esmtp;
	enum smtp_state	 state;
	int		 errors;
	int		 quit;		/* close after the pending replies */
	int		 broken;	/* the stream is unusable: say nothing */
	struct authc	*authc;		/* env's */
	char		 auth_user[320];	/* "" until AUTH succeeds */
	struct login	 login;		/* AUTH's state in the session */


	/* The transaction (MAIL ... DATA). */
	struct spool_env txn;
	char		*spf_headers;	/* to prepend, or NULL */
	long long	 declared_size;
	long		 nrcpt_cmds;	/* accepted RCPT commands */
	struct spool_writer *burl;	/* BURL without LAST so far, or NULL */
	long long	 burl_size;	/* its octets (with CRLF) */
	/* The last recipient the auth service resolved, kept a second: a
	 * client sending one message after another to an address asks
	 * once (Postfix's resolve client keeps its last answer too). */
	struct {
		char		 addr[ADDR_PATH_MAX + 1];
		int		 r;	/* authc_resolve()'s */
		struct rcpt_list targets;
		double		 at;	/* util_now(); 0: none */
	} last_rcpt;

	/* Counters for the disconnect log line. */
	long		 nmessages;
	long		 ncommands;
};

/* session.c: serve the client on fd (closed after) */
void	smtp_session_run(int fd, const char *service, const char *client_ip,
	    int client_port, struct smtpd_env *env);
void	smtp_reply(struct smtp_session *s, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	smtp_set_state(struct smtp_session *s, enum smtp_state to);
void	smtp_txn_reset(struct smtp_session *s);

/* data.c: read the message after "354"; replies itself. -1: drop session */
int	smtp_data(struct smtp_session *s);
/* The transaction's spool file from maild, its trace headers written
 * (DATA's and BURL's); 0, or -1 (logged). */
int	smtp_spool_begin(struct smtp_session *s, struct spool_writer *w);
/* Durable in the queue (0), or given up (-1, logged). */
int	smtp_spool_commit(struct smtp_session *s, struct spool_writer *w);
void	smtp_spool_abort(struct smtp_session *s, struct spool_writer *w);

/* burl.c: BURL (RFC 4468) on the submission services */
int	smtp_cmd_burl(struct smtp_session *s, char *arg);
/* Is BURL offered (EHLO: "BURL imap")? */
int	smtp_burl_offered(const struct smtp_session *s);
/* Drop a BURL message begun and not finished (RSET, MAIL, the end). */
void	smtp_burl_abort(struct smtp_session *s);

/* spf.c: check MAIL FROM on port 25 (replies itself on refusal); 0 go on,
 * -1 refused. */
int	smtp_spf_check(struct smtp_session *s, const char *sender);

/* tls_auth.c */
int	smtp_cmd_starttls(struct smtp_session *s, char *arg);
int	smtp_cmd_auth(struct smtp_session *s, char *arg);
/* Is AUTH offered on this connection now (service, TLS, config)? */
int	smtp_auth_offered(const struct smtp_session *s);
/* Port 465: the handshake before the greeting.  -1: drop the session. */
struct authc *smtp_authc(struct smtp_session *s);

#endif
