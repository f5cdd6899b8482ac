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

#include "../global/listener.h"
#include "../global/prog.h"
#include "../lib/daemon.h"
#include "../lib/log.h"
#include "smtpd.h"

int
main(int argc, char **argv)
{
	static struct smtpd_env env;
	struct prog_args args;
	struct listener l;

	env.conf = prog_init(argc, argv, "smtpd", &args, NULL);
	listener_prepare(&args, env.conf, "smtpd", &env.tls);

	memset(&l, 0, sizeof(l));
	l.fds = args.fds;
	l.nfds = args.nfds;
	l.max_sessions = env.conf->smtpd.max_sessions;
	l.max_per_ip = env.conf->smtpd.max_sessions_per_ip;
	l.busy_reply = "421 4.7.0 Too many connections, try again later\r\n";
	l.busy_reply_ip = "421 4.7.0 Too many connections from your address, "
	    "try again later\r\n";
	l.tls = env.tls;
	l.session = smtp_session_run;
	l.arg = &env;
	log_info("ready: %zu listening socket(s)", args.nfds);
	listener_run(&l);
	log_info("stopped");
	return 0;
}
