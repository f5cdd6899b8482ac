/*
 * listener: accept connections and fork one process per session.
 *
 * The listener enforces the session limits (all services together, and
 * per client address) before forking, answering over-limit clients with a
 * one-line refusal; on an implicit-TLS port the refusal goes inside TLS
 * (a client expecting a handshake would report "wrong version number"
 * for a plain one), from a short-lived process of its own, at most
 * LISTENER_MAX_REFUSING at once (beyond that the connection is just
 * closed).  A session process never returns: a crash or a hostile
 * client affects that one connection only.
 *
 * Signals: SIGTERM stops at once (sessions get SIGTERM too); SIGUSR1
 * stops accepting and returns when the last session has ended (maild uses
 * it on reload, while a new listener takes over the sockets).
 */
#ifndef LISTENER_H
#define LISTENER_H

#include "../lib/daemon.h"
#include "prog.h"

#define LISTENER_MAX_REFUSING	8	/* TLS refusals under way at once */
#define LISTENER_REFUSE_TIMEOUT	5	/* seconds for such a handshake */

struct tls_ctx;

struct listener {
	struct prog_fd *fds;
	size_t		 nfds;
	long		 max_sessions;
	long		 max_per_ip;
	const char	*busy_reply;	/* full line with CRLF */
	const char	*busy_reply_ip;
	/* For the services that speak TLS from the first octet: refusals
	 * there are sent inside TLS. */
	struct tls_ctx	*tls;
	/* In the child; must not return (exit instead). */
	void		(*session)(int fd, const char *service,
			    const char *client_ip, int client_port, void *arg);
	void		*arg;
};

void	listener_run(struct listener *l);

struct conf;

/*
 * What a network program (smtpd, pop3d, imapd) does before it accepts
 * anyone: check that the sockets maild handed over are of services it
 * serves (service.h), load the TLS key (required when one of them is an
 * implicit-TLS service) while it may still be root,
 * then drop privileges for good.  *tls_r is NULL when no certificate is
 * configured.  Exits with a message on any error.
 */
void	listener_prepare(const struct prog_args *args,
	    const struct conf *conf, const char *program,
	    struct tls_ctx **tls_r);

#endif
