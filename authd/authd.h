/*
 * authd: the auth service's parts.
 *
 *	authd.c		main, sockets, the event loop, requests and replies
 *	work.c		the SASL exchanges, run by a few threads (hashing a
 *			yescrypt password takes ~100 ms of one core)
 *	policy.c	failure counters per account, address and network,
 *			the delays and turns they impose, the login cache
 *	lookup.c	what an address means (users.db's domains, users and
 *			aliases), and login tokens
 *	websess.c	the webmail's sessions (cookies) and their tokens
 *	quota.c		what a mailbox holds, from the queue's usage
 *			process, for smtpd's RCPT (452 4.2.2)
 *
 * One lock (authd_lock) covers the SASL library, users.db and the cache:
 * the main thread takes it for lookups, a worker thread for an exchange
 * step; a worker lets go of it only while it hashes a password.
 */
#ifndef AUTHD_H
#define AUTHD_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>

#include "../global/authc.h"
#include "../global/authproto.h"
#include "../global/conf.h"
#include "../global/userdb.h"
#include "../lib/ipc.h"
#include "sasl.h"

extern struct conf	*authd_conf;
extern struct userdb	*authd_db;
extern pthread_mutex_t	 authd_lock;

/* A request an exchange is waiting on. */
enum work_op { WORK_START, WORK_STEP, WORK_PASSWORD };

struct client;

/* One exchange step, handed to a thread and back. */
struct work {
	struct client	*client;
	enum work_op	 op;
	char		*mech, *input, *user, *password;
	/* results */
	enum auth_result result;
	char		*challenge;	/* base64, on AUTH_CONTINUE */
	char		 authed[320];	/* on AUTH_OK */
	char		 attempted[320];	/* whom a check was for */
	int		 checked;	/* a password was checked */
	int		 cached;	/* the cache said it is good */
	struct work	*next;
};

/* A connection to authd. */
struct client {
	int		 fd;
	int		 control;	/* on the control socket */
	int		 closing;	/* gone; freed when its work returns */
	struct work	*work;		/* in a thread's hands */
	struct auth_session *sasl;
	char		 service[8];
	char		 ip[64];
	int		 secured;
	char		 user[320];	/* whom a redeemed token bound this
					   connection to (share.c), or "" */
	uint64_t	 conv;
	/* The last "smtp" login on this connection: its user and token,
	 * the proof AP_SUBMIT_TOKEN asks for (BURL, RFC 4468). */
	char		 submit_user[320];
	char		 submit_proof[AUTH_TOKEN_LEN + 1];
	/* An answer held back until its time (policy_turn()). */
	struct ipc_out	*held;
	double		 held_until;
	struct client	*next;
};

/* work.c */
int	work_init(int nthreads, const char **err);
/* Hand a step to a thread; its result comes back through work_done(). */
void	work_submit(struct work *w);
/* The descriptor that becomes readable when work is done. */
int	work_done_fd(void);
/* Take the finished steps (a list), or NULL. */
struct work *work_done(void);
void	work_free(struct work *w);
/* authd_lock held: users.db and the cache say whether the password is
 * user's (sasl.c's verify function). */
int	work_verify(void *arg, const char *user, const char *password);

/* policy.c */
void	policy_init(void);
/*
 * When may the verdict of an attempt on user from ip be told?  Returns
 * the time (monotonic seconds), or -1 when the turn would be too far
 * off: the account or address is under so heavy an attack that the
 * attempt is refused as "try later" (a tempfail that says nothing of the
 * verdict).  *delay_r: the seconds added.  user may be "" (unknown).
 */
double	policy_turn(const char *user, const char *ip, int ok,
	    unsigned int *delay_r);
/* Count the verdict: a failure counts for user, ip and ip's network; a
 * success clears user's count only. */
void	policy_count(const char *user, const char *ip, int ok);
/* The login cache (authd_lock held): is this user's password known
 * good?  Remember a good one; forget a user. */
int	policy_cache_hit(const char *user, const char *password);
void	policy_cache_put(const char *user, const char *password);
void	policy_cache_drop(const char *user);
/* Lines describing the limits and what is under attack now. */
void	policy_status(struct ipc_out *o);
double	policy_now(void);

/* lookup.c: answer a lookup request in o (authd_lock taken inside). */
void	lookup_answer(struct ipc_in *in, struct client *c,
	    struct ipc_out *o);
/* A token proving user logged in to service, for its post-login
 * process to redeem (once, within a minute). */
void	lookup_token_new(const char *user, const char *service,
	    char token[AUTH_TOKEN_LEN + 1]);
/* n octets as 2n hex digits (and a NUL) into out; hexlen random ones
 * (at most 128), fatal without randomness (what: for the message). */
void	authd_hex(const unsigned char *in, size_t n, char *out);
void	authd_random_hex(char *out, size_t hexlen, const char *what);
/* Once, for the service it was given for: whose login it proves (a
 * static buffer), or NULL. */
const char *lookup_token_redeem(const char *token, const char *service);

/* share.c: AP_SHARE_* and AP_SHARED_WITH for the user c is bound to
 * (authd_lock held; after AR_ANSWER's begin).  1, 0 or -1 as
 * answered. */
int	share_answer(int type, const char *grantee, const struct client *c,
	    struct ipc_out *o);

/* quota.c: quotas at RCPT time.  server.user's uid (offers from it
 * only); may c offer to serve usage (logged if not)?; take its
 * descriptor; what mailbox holds (kept a second): 0, or -1 unknown. */
extern uid_t	authd_mail_uid;
int	quota_serve_allowed(const struct client *c);
void	quota_serve_take(int fd);
int	quota_usage(const char *mailbox, uint64_t *octets,
	    uint64_t *messages);

/* websess.c: the webmail's sessions (authd_lock held). */
int	websess_init(const char **err);
/* Answer AP_WEB_* (after AR_ANSWER's begin); 1, 0 or -1 as answered. */
int	websess_answer(int type, const char *a1, const char *a2,
	    struct ipc_out *o);
/* End every session of user (password changed, user removed). */
void	websess_drop_user(const char *user);

#endif
