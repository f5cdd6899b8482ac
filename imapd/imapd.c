/*
 * imapd: an IMAP process of maild's pools: a login process (the
 * not-authenticated state, on port 143 or 993), or, with -M, a post-login
 * process (everything after LOGIN for the one user a login process handed
 * over).
 *
 * SECURITY: every byte from the network is hostile.  Started by maild as
 * root, a login process loads the TLS key and connects to the auth
 * service, then chroots into an empty directory, becomes
 * server.login_user and closes itself under a seccomp filter before it
 * accepts anyone: it cannot read users.db, the spool or any Maildir.  It
 * serves up to imapd.max_use clients in turn, nothing of one kept for the
 * next.  A client that logs in is handed over with the auth service's
 * token: the post-login process (server.user) learns the user from the
 * auth service, never from the login process, then confines itself to
 * that user's Maildir (Landlock) under a seccomp filter, and exits with
 * the session.  The Maildirs of other users who share folders with the
 * user (ACL, RFC 4314) are added to that confinement only as the auth
 * service names them, asked on the connection that redeemed the token
 * (imapd/acl.c, authd/share.c); what each may do there is the owner's
 * ACL, checked by each command.  Command lines, commands held in memory and APPEND
 * literals are bounded (imapd.*), login time too (imapd.login_timeout),
 * passwords are accepted only over TLS (unless auth.allow_plaintext), and
 * mailbox names are checked by the store before they become paths.
 */
#include "../global/pool.h"
#include "imapd.h"

int
main(int argc, char **argv)
{
	static const struct pool_program pp = {
		"imapd",
		"* BYE [UNAVAILABLE] Too many connections, try again later\r\n",
		"* BYE [UNAVAILABLE] Too many connections from your address\r\n",
		NULL, imap_session_run,
	};
	static struct pool_ctx ctx;

	pool_main(argc, argv, &pp, &ctx, NULL);
}
