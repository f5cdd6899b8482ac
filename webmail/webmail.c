/*
 * webmail: the HTTPS web front end of maild (webmail.h).  Without -M it
 * is the front, one event loop for every browser; with -M web, the
 * post-login parent that forks a process for each session in use.
 *
 * SECURITY: every byte from the network is hostile.  Started by maild
 * as root, the front loads the TLS key and connects to the auth service,
 * then chroots into an empty directory, becomes server.login_user and
 * closes itself under a seccomp filter before it reads a request: it
 * cannot read users.db, the spool or any Maildir, and its static files
 * are in the program.  Request heads, bodies, connections (in all and
 * per address), a session's queued requests and the time a browser may
 * take are bounded (webmail.*).  Passwords go to the auth service, which
 * answers only after the growing delay it keeps for every protocol;
 * sessions are 256-bit random cookies (__Host-, Secure, HttpOnly,
 * SameSite=Strict) it keeps hashed.  A POST must come from our own
 * pages (Origin) and carry the session's CSRF token.  A session's
 * process learns its user from the auth service, never from the front,
 * and holds only that user's Maildir (Landlock, seccomp).  Mail HTML is
 * rebuilt from an allow-list (sanitize.c) and shown in a sandboxed frame
 * under its own CSP, without remote images unless asked.
 */
#include <string.h>

#include "../global/pool.h"
#include "webmail.h"

int
main(int argc, char **argv)
{
	static const struct pool_program pp = {
		"webmail", "", "", NULL, backend_serve,
	};
	static struct pool_ctx ctx;
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "-M") == 0)
			pool_main(argc, argv, &pp, &ctx, NULL);
	front_main(argc, argv);
}
