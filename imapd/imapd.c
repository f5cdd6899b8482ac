/*
 * imapd: the IMAP listener and its sessions.
 *
 * SECURITY: every byte from the network is hostile.  imapd is started by
 * maild with its listening sockets bound; started as root, it reads the
 * TLS key and loads the SASL plugins, then drops to server.user before it
 * accepts anyone.  Each connection is its own process.  Command lines,
 * commands held in memory and APPEND literals are bounded (imapd.*),
 * passwords are accepted only over TLS (unless auth.allow_plaintext),
 * failures are answered after a growing delay, and mailbox names are
 * checked by the store before they become paths.
 */
#include <string.h>

#include "../global/listener.h"
#include "../global/prog.h"
#include "../lib/daemon.h"
#include "../lib/log.h"
#include "imapd.h"

int
main(int argc, char **argv)
{
	static struct imap_env env;
	struct prog_args args;
	struct listener l;

	env.conf = prog_init(argc, argv, "imapd", &args, NULL);
	listener_prepare(&args, env.conf, "imapd", &env.tls);

	memset(&l, 0, sizeof(l));
	l.fds = args.fds;
	l.nfds = args.nfds;
	l.max_sessions = env.conf->imapd.max_sessions;
	l.max_per_ip = env.conf->imapd.max_sessions_per_ip;
	l.busy_reply = "* BYE [UNAVAILABLE] Too many connections, try again "
	    "later\r\n";
	l.busy_reply_ip = "* BYE [UNAVAILABLE] Too many connections from "
	    "your address\r\n";
	l.tls = env.tls;
	l.session = imap_session_run;
	l.arg = &env;
	log_info("ready: %zu listening socket(s)", args.nfds);
	listener_run(&l);
	log_info("stopped");
	return 0;
}
