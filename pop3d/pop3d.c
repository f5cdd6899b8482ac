/*
 * pop3d: a POP3 process of maild's pools: a login process (the
 * AUTHORIZATION state, on port 110 or 995), or, with -M, a post-login
 * process (TRANSACTION and UPDATE for the one user a login process handed
 * over).
 *
 * SECURITY: every byte from the network is hostile.  Started by maild as
 * root, a login process loads the TLS key and connects to the auth
 * service, then chroots into an empty directory, becomes
 * server.login_user and closes itself under a seccomp filter before it
 * accepts anyone: it cannot read users.db, the spool or any Maildir.  It
 * serves up to pop3d.max_use clients in turn, nothing of one kept for the
 * next.  A client that logs in is handed over with the auth service's
 * token: the post-login process (server.user) learns the user from the
 * auth service, never from the login process, then confines itself to
 * that user's Maildir (Landlock) under a seccomp filter, and exits with
 * the session.  Command lines are bounded (pop3d.max_line_length), login
 * time too (pop3d.login_timeout), passwords are accepted only over TLS
 * (unless auth.allow_plaintext), and message numbers are checked against
 * the snapshot taken at login: a client never names a file.
 */
#include "../global/pool.h"
#include "pop3d.h"

int
main(int argc, char **argv)
{
	static const struct pool_program pp = {
		"pop3d",
		"-ERR [SYS/TEMP] Too many connections, try again later\r\n",
		"-ERR [SYS/TEMP] Too many connections from your address, try "
		"again later\r\n",
		NULL, pop3_session_run,
	};
	static struct pool_ctx ctx;

	pool_main(argc, argv, &pp, &ctx, NULL);
}
