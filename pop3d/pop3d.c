/*
 * pop3d: the POP3 listener and its sessions.
 *
 * SECURITY: every byte from the network is hostile.  pop3d is started by
 * maild with its listening sockets bound; started as root, it reads the
 * TLS key and loads the SASL plugins, then drops to server.user before it
 * accepts anyone.  Each connection is its own process.  Command lines are
 * bounded (pop3d.max_line_length), passwords are accepted only over TLS
 * (unless auth.allow_plaintext), failures are answered after a growing
 * delay, and message numbers are checked against the snapshot taken at
 * login.  Messages are read from the store through its index: a client
 * never names a file.
 */
#include <string.h>

#include "../global/listener.h"
#include "../global/prog.h"
#include "../lib/daemon.h"
#include "../lib/log.h"
#include "pop3d.h"

int
main(int argc, char **argv)
{
	static struct pop3_env env;
	struct prog_args args;
	struct listener l;

	env.conf = prog_init(argc, argv, "pop3d", &args, NULL);
	listener_prepare(&args, env.conf, "pop3d", &env.tls);

	memset(&l, 0, sizeof(l));
	l.fds = args.fds;
	l.nfds = args.nfds;
	l.max_sessions = env.conf->pop3d.max_sessions;
	l.max_per_ip = env.conf->pop3d.max_sessions_per_ip;
	l.busy_reply = "-ERR [SYS/TEMP] Too many connections, try again "
	    "later\r\n";
	l.busy_reply_ip = "-ERR [SYS/TEMP] Too many connections from your "
	    "address\r\n";
	l.tls = env.tls;
	l.session = pop3_session_run;
	l.arg = &env;
	log_info("ready: %zu listening socket(s)", args.nfds);
	listener_run(&l);
	log_info("stopped");
	return 0;
}
