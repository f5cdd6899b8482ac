/*
 * smtpd: the SMTP listener and its sessions.
 *
 * SECURITY: every byte from the network is hostile.  smtpd is started by
 * maild with its listening sockets already bound; if started as root it
 * reads its TLS key and then drops to server.user before accepting a
 * single connection.  Each connection is served by its own process
 * (lib/listener.c), so a hostile client can only ever affect its own
 * session.  Sessions read users.db and write spool files; they trust
 * nothing the client says: lines are bounded (smtpd.max_line_length),
 * messages are bounded (smtpd.max_message_size), recipients are bounded
 * (smtpd.max_recipients), and addresses are parsed strictly (lib/addr.c)
 * before they are looked up.
 */
#include <stdio.h>
#include <string.h>

#include "../lib/auth.h"
#include "../lib/daemon.h"
#include "../lib/listener.h"
#include "../lib/log.h"
#include "../lib/privsep.h"
#include "../lib/tls.h"
#include "smtpd.h"

int
main(int argc, char **argv)
{
	static struct smtpd_env env;
	struct daemon_args args;
	struct listener l;
	const char *err;
	size_t i;

	env.conf = daemon_init(argc, argv, "smtpd", &args, NULL);
	if (args.nfds == 0)
		fatalx("no listening sockets given (-L service:fd)");
	for (i = 0; i < args.nfds; i++)
		if (strcmp(args.fds[i].service, "smtp") != 0 &&
		    strcmp(args.fds[i].service, "submission") != 0 &&
		    strcmp(args.fds[i].service, "submissions") != 0)
			fatalx("unknown service %s", args.fds[i].service);
	/* Keys and plugins are read while we may still be root. */
	if (env.conf->tls.cert[0] != '\0') {
		char tlserr[512];

		if ((env.tls = tls_server_ctx(env.conf->tls.cert,
		    env.conf->tls.key, tlserr, sizeof(tlserr))) == NULL)
			fatalx("tls: %s", tlserr);
	}
	for (i = 0; i < args.nfds; i++)
		if (strcmp(args.fds[i].service, "submissions") == 0 &&
		    env.tls == NULL)
			fatalx("submissions (implicit TLS) needs tls.cert and "
			    "tls.key");
	if (auth_init(&err) == -1)
		fatalx("sasl: %s", err);
	if (privsep_drop(env.conf->server.user, &err) == -1)
		fatalx("cannot drop privileges: %s", err);
	privsep_die_with_parent(daemon_parent);
	daemon_signals();

	memset(&l, 0, sizeof(l));
	l.fds = args.fds;
	l.nfds = args.nfds;
	l.max_sessions = env.conf->smtpd.max_sessions;
	l.max_per_ip = env.conf->smtpd.max_sessions_per_ip;
	l.busy_reply = "421 4.7.0 Too many connections, try again later\r\n";
	l.busy_reply_ip = "421 4.7.0 Too many connections from your address, "
	    "try again later\r\n";
	l.session = smtp_session_run;
	l.arg = &env;
	log_info("ready: %zu listening socket(s)", args.nfds);
	listener_run(&l);
	log_info("stopped");
	return 0;
}
