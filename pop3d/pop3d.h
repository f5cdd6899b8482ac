/*
 * pop3d: the POP3 server (RFC 1939) with CAPA (RFC 2449), STLS (RFC 2595)
 * and AUTH (RFC 5034), on port 110 (STLS) and 995 (implicit TLS, RFC 8314).
 *
 * pop3d.c	main: a login or a post-login process of maild's pools
 * session.c	one connection: command table, states, authentication
 * maildrop.c	the INBOX as POP3 sees it: lock, snapshot, RETR/TOP, UPDATE
 */
#ifndef POP3D_H
#define POP3D_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../global/conf.h"
#include "../lib/conn.h"
#include "../lib/net.h"
#include "../lib/util.h"

struct mstore;
struct mbox;
struct pool_ctx;
struct pool_session;

/*
 * The maildrop: INBOX frozen at login (RFC 1939 §5: message numbers stay
 * fixed for the session; mail arriving meanwhile waits for the next one).
 */
struct pop3_msg {
	uint32_t	 uid;
	int64_t		 vsize;		/* octets as sent: CRLF line ends */
	int		 deleted;	/* DELE'd in this session */
};

struct maildrop {
	struct mstore	*store;
	struct mbox	*inbox;
	int		 lockfd;	/* flock'd while the session lasts */
	struct pop3_msg	*msgs;
	size_t		 nmsgs;
};

enum maildrop_open {
	MAILDROP_OK,
	MAILDROP_IN_USE,	/* another POP3 session holds it */
	MAILDROP_ERROR,
};

enum maildrop_open maildrop_open(struct maildrop *md, const char *data_dir,
	    const char *user, const char **err);
void	maildrop_close(struct maildrop *md);
/* Message n (1-based) if it exists and is not deleted, else NULL. */
struct pop3_msg *maildrop_get(struct maildrop *md, unsigned long n);
/*
 * Send message n with CRLF line ends and dot-stuffing, then ".".
 * body_lines < 0: the whole message (RETR); else the header, the empty
 * line and that many body lines (TOP).  Streams: never the whole message
 * in memory.  0; -2 if the message is gone (expunged through IMAP
 * meanwhile: nothing was sent); -1 on a read error.
 */
int	maildrop_send(struct maildrop *md, struct conn *c,
	    const struct pop3_msg *m, long body_lines);
/* UPDATE state (RFC 1939 §6): expunge what was DELE'd; 0 or -1. */
int	maildrop_update(struct maildrop *md, size_t *removed);
void	maildrop_uidl(struct maildrop *md, const struct pop3_msg *m,
	    char *out, size_t size);

/*
 * session.c: serve a client (fd closed after).  A login process runs the
 * AUTHORIZATION state and hands a client that logged in to a post-login
 * process (post == NULL); a post-login process serves the client it was
 * given (post), from TRANSACTION on.
 */
void	pop3_session_run(struct pool_ctx *env, int fd, const char *service,
	    const char *client_ip, int client_port,
	    const struct pool_session *post, void *unused);

#endif
