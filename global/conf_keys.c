/*
 * Every configuration key, its default, bounds and meaning.
 * "mailctl config describe" prints this table; the README points there
 * instead of copying it, so the documentation cannot drift.
 */
#include <ctype.h>
#include <stddef.h>
#include <string.h>

#include "../lib/log.h"
#include "conf.h"

#define OFF(field)	offsetof(struct conf, field)
#define K		1024LL
#define DAY		86400LL

static int
check_log_level(const char *v, const char **why)
{
	enum log_level l;

	if (log_level_parse(v, &l) == -1) {
		*why = "must be debug, info, warn or error";
		return -1;
	}
	return 0;
}

static int
check_delimiter(const char *v, const char **why)
{
	if (strlen(v) > 1 || (v[0] != '\0' && strchr("+-_=", v[0]) == NULL)) {
		*why = "must be empty or one of + - _ =";
		return -1;
	}
	return 0;
}

/* A word from a fixed list: the list is in the key's documentation. */
static int
check_word(const char *v, const char *const *words, const char **why,
    const char *msg)
{
	for (; *words != NULL; words++)
		if (strcmp(v, *words) == 0)
			return 0;
	*why = msg;
	return -1;
}

static int
check_tls_policy(const char *v, const char **why)
{
	static const char *const w[] = { "none", "may", "encrypt", "verify",
	    NULL };

	return check_word(v, w, why, "must be none, may, encrypt or verify");
}

static int
check_reject_accept(const char *v, const char **why)
{
	static const char *const w[] = { "reject", "accept", NULL };

	return check_word(v, w, why, "must be reject or accept");
}

static int
check_defer_accept(const char *v, const char **why)
{
	static const char *const w[] = { "defer", "accept", NULL };

	return check_word(v, w, why, "must be defer or accept");
}

/*
 * A URI (RFC 3986 §3: a scheme, ":", then URI characters, a "%" only
 * before two hex digits), as RFC 5464 §3.2.1.1 wants /shared/admin;
 * empty: none.  Not a full parse: what a client is given is printable
 * and has a scheme ("mailto:", "tel:", "https:").
 */
#define ADMIN_URI_MAX	512

static int
check_admin_uri(const char *v, const char **why)
{
	static const char uric[] = "-._~:/?#[]@!$&'()*+,;=";
	const char *p = v;

	if (*v == '\0')
		return 0;
	*why = "must be a URI such as mailto:postmaster@example.org "
	    "(RFC 3986), at most 512 octets";
	if (strlen(v) > ADMIN_URI_MAX || !isalpha((unsigned char)*p))
		return -1;
	while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' ||
	    *p == '.')	/* the scheme */
		p++;
	if (*p++ != ':' || *p == '\0')
		return -1;
	for (; *p != '\0'; p++) {
		if (*p == '%') {
			if (!isxdigit((unsigned char)p[1]) ||
			    !isxdigit((unsigned char)p[2]))
				return -1;
			p += 2;
		} else if (!(*p >= 'a' && *p <= 'z') &&
		    !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9') &&
		    strchr(uric, *p) == NULL)
			return -1;
	}
	return 0;
}

/* Every row of the service table is a section with a listen key. */
#define SERVICE(sec, prog, port, tls, what) \
	{ #sec, "listen", CONF_LISTEN, port, OFF(sec.listen), 0, 0, NULL, \
	  "addresses to listen on for " what ", host:port separated by " \
	  "commas; empty: the service is not started" },

const struct conf_key conf_keys[] = {
	{ "server", "hostname", CONF_STR, NULL, OFF(server.hostname), 0, 0,
	  NULL, "this host's name in greetings and Received: headers "
	  "(default: the system host name)" },
	{ "server", "data_dir", CONF_PATH, "/var/lib/maild",
	  OFF(server.data_dir), 0, 0, NULL,
	  "users.db, the queue and the mail store live here" },
	{ "server", "user", CONF_STR, "maild", OFF(server.user), 0, 0, NULL,
	  "unprivileged user that owns the spool and the Maildirs: the queue "
	  "runner, delivery and post-login IMAP and POP3 run as it (when "
	  "started as root)" },
	{ "server", "auth_user", CONF_STR, "maild-auth", OFF(server.auth_user),
	  0, 0, NULL, "unprivileged user of the auth service, the only one "
	  "that can read users.db's password hashes (when started as root)" },
	{ "server", "login_user", CONF_STR, "maild-login",
	  OFF(server.login_user), 0, 0, NULL, "unprivileged user that "
	  "processes reading a client's bytes before login run as, "
	  "chrooted into an empty directory (when started as root)" },
	{ "server", "min_idle", CONF_INT, "2", OFF(server.min_idle), 1, 100,
	  NULL, "session processes each service keeps started and waiting "
	  "for the next clients (more start as clients come, up to the "
	  "service's max_sessions)" },
	{ "server", "log_level", CONF_STR, "info", OFF(server.log_level), 0, 0,
	  check_log_level, "debug, info, warn or error" },
	{ "server", "log_syslog", CONF_BOOL, "no", OFF(server.log_syslog), 0, 0,
	  NULL, "log to syslog (facility mail) instead of stderr" },
	{ "server", "recipient_delimiter", CONF_STR, "+",
	  OFF(server.recipient_delimiter), 0, 0, check_delimiter,
	  "user+tag@domain is delivered to user@domain; empty: off" },

	SERVICE_TABLE(SERVICE)

	{ "tls", "cert", CONF_PATH, "", OFF(tls.cert), 0, 0, NULL,
	  "certificate chain (PEM), read before privileges are dropped; "
	  "empty: no TLS (then STARTTLS is not offered and the implicit-TLS "
	  "services cannot start)" },
	{ "tls", "key", CONF_PATH, "", OFF(tls.key), 0, 0, NULL,
	  "private key (PEM) of tls.cert" },

	{ "auth", "allow_plaintext", CONF_BOOL, "no",
	  OFF(auth.allow_plaintext), 0, 0, NULL,
	  "accept passwords on connections without TLS: for development "
	  "only, never on a server others use" },
	{ "auth", "max_failures", CONF_INT, "3", OFF(auth.max_failures), 1,
	  100, NULL, "failed logins in one session before it is closed" },
	{ "auth", "failure_delay_max", CONF_TIME, "15s",
	  OFF(auth.failure_delay_max), 0, 300, NULL, "a failed login is "
	  "answered after 1, 2, 4 ... seconds, counting recent failures of "
	  "the account, the client address and its network, up to this; "
	  "under attack (3 failures of an account, 5 of an address, 20 of a "
	  "network) successes wait as long, and answers take turns" },
	{ "auth", "failure_window", CONF_TIME, "15m",
	  OFF(auth.failure_window), 60, 86400, NULL, "how long a failed "
	  "login is counted" },
	{ "auth", "cache_ttl", CONF_TIME, "1h", OFF(auth.cache_ttl), 0,
	  7 * DAY, NULL, "a successful login is remembered this long (a "
	  "keyed hash, in memory), so the same password is not hashed again; "
	  "mailctl user passwd/del forget it at once; 0: no cache" },
	{ "auth", "workers", CONF_INT, "2", OFF(auth.workers), 1, 64, NULL,
	  "threads of the auth service that hash passwords (yescrypt takes "
	  "about 0.1 s of a core): one per core" },

	{ "smtpd", "port25_auth", CONF_BOOL, "no", OFF(smtpd.port25_auth),
	  0, 0, NULL, "offer AUTH on port 25 too (submission belongs on 587 "
	  "and 465)" },
	{ "smtpd", "max_message_size", CONF_SIZE, "35M",
	  OFF(smtpd.max_message_size), 1 * K, 2048 * K * K, NULL,
	  "largest message accepted (SIZE, RFC 1870); larger: 552 5.3.4" },
	{ "smtpd", "max_recipients", CONF_INT, "100",
	  OFF(smtpd.max_recipients), 1, 100000, NULL,
	  "recipients per message; more: 452 4.5.3 (RFC 5321 §4.5.3.1.8)" },
	{ "smtpd", "max_line_length", CONF_INT, "2048",
	  OFF(smtpd.max_line_length), 1000, 65536, NULL,
	  "longest command or text line, CRLF included (RFC 5321 "
	  "§4.5.3.1 sets 512 and 1000; longer are accepted up to this)" },
	{ "smtpd", "timeout", CONF_TIME, "5m", OFF(smtpd.timeout), 1, DAY,
	  NULL, "idle time before 421 and disconnect (RFC 5321 §4.5.3.2.7)" },
	{ "smtpd", "max_sessions", CONF_INT, "100", OFF(smtpd.max_sessions),
	  1, 100000, NULL, "concurrent SMTP sessions of each service (port "
	  "25, 587, 465 each have their own: a flood on one leaves the "
	  "others served)" },
	{ "smtpd", "max_use", CONF_INT, "100", OFF(smtpd.max_use), 1, 100000,
	  NULL, "clients one session process serves in turn before it "
	  "exits (Postfix's max_use)" },
	{ "smtpd", "max_session_time", CONF_TIME, "1h",
	  OFF(smtpd.max_session_time), 2, DAY, NULL, "longest an SMTP "
	  "session may last, however busy (421 4.4.2 then)" },
	{ "smtpd", "max_data_time", CONF_TIME, "10m", OFF(smtpd.max_data_time),
	  2, DAY, NULL, "longest a message may take to arrive after DATA, "
	  "however slowly it trickles (421 4.4.2 then)" },
	{ "smtpd", "max_sessions_per_ip", CONF_INT, "20",
	  OFF(smtpd.max_sessions_per_ip), 1, 100000, NULL,
	  "concurrent SMTP sessions of each service from one client address" },
	{ "smtpd", "max_errors", CONF_INT, "10", OFF(smtpd.max_errors),
	  1, 1000, NULL, "bad commands in a session before 421 and disconnect" },
	{ "smtpd", "max_hops", CONF_INT, "50", OFF(smtpd.max_hops), 1, 1000,
	  NULL, "Received: headers in a message before it is refused as a "
	  "mail loop (554 5.4.6)" },

	{ "pop3d", "timeout", CONF_TIME, "10m", OFF(pop3d.timeout), 30, DAY,
	  NULL, "idle time before the session is closed (RFC 1939 §3: at "
	  "least 10 minutes)" },
	{ "pop3d", "max_line_length", CONF_INT, "1024",
	  OFF(pop3d.max_line_length), 255, 65536, NULL, "longest command "
	  "line, CRLF included (RFC 2449 §4 allows 255; AUTH lines need more)" },
	{ "pop3d", "max_sessions", CONF_INT, "100", OFF(pop3d.max_sessions),
	  1, 100000, NULL, "concurrent POP3 sessions of each port" },
	{ "pop3d", "max_use", CONF_INT, "100", OFF(pop3d.max_use), 1, 100000,
	  NULL, "clients one login process serves in turn before it exits" },
	{ "pop3d", "login_timeout", CONF_TIME, "2m", OFF(pop3d.login_timeout),
	  2, 3600, NULL, "longest a client may take to log in" },
	{ "pop3d", "max_sessions_per_ip", CONF_INT, "10",
	  OFF(pop3d.max_sessions_per_ip), 1, 100000, NULL,
	  "concurrent POP3 sessions of each port from one client address" },
	{ "pop3d", "max_errors", CONF_INT, "10", OFF(pop3d.max_errors), 1,
	  1000, NULL, "bad commands in a session before it is closed" },

	{ "imapd", "timeout", CONF_TIME, "30m", OFF(imapd.timeout), 10, DAY,
	  NULL, "idle time before the autologout (RFC 3501 §5.4: at least "
	  "30 minutes; IDLE sessions too, RFC 2177 §3)" },
	{ "imapd", "max_line_length", CONF_INT, "65536",
	  OFF(imapd.max_line_length), 1024, 1048576, NULL, "longest command "
	  "line, CRLF included (long UID sets need room: RFC 7162 §4)" },
	{ "imapd", "max_command", CONF_SIZE, "1M", OFF(imapd.max_command),
	  65536, 64 * 1048576LL, NULL, "octets one command may hold in memory, "
	  "its literals included (APPEND's message goes to a file instead)" },
	{ "imapd", "append_limit", CONF_SIZE, "50M", OFF(imapd.append_limit),
	  1024, 1024 * 1048576LL, NULL, "largest message APPEND accepts "
	  "(advertised as APPENDLIMIT, RFC 7889)" },
	{ "imapd", "max_sessions", CONF_INT, "500", OFF(imapd.max_sessions),
	  1, 100000, NULL, "concurrent IMAP sessions of each port" },
	{ "imapd", "max_use", CONF_INT, "100", OFF(imapd.max_use), 1, 100000,
	  NULL, "clients one login process serves in turn before it exits" },
	{ "imapd", "login_timeout", CONF_TIME, "2m", OFF(imapd.login_timeout),
	  2, 3600, NULL, "longest a client may take to log in" },
	{ "imapd", "max_sessions_per_ip", CONF_INT, "50",
	  OFF(imapd.max_sessions_per_ip), 1, 100000, NULL,
	  "concurrent IMAP sessions of each port from one client address" },
	{ "imapd", "max_sessions_per_user", CONF_INT, "20",
	  OFF(imapd.max_sessions_per_user), 1, 100000, NULL,
	  "concurrent IMAP sessions of one user (more log in with NO "
	  "[LIMIT])" },
	{ "imapd", "max_errors", CONF_INT, "20", OFF(imapd.max_errors), 1,
	  1000, NULL, "bad commands in a session before it is closed" },
	{ "imapd", "surrogate", CONF_BOOL, "yes", OFF(imapd.surrogate), 0, 0,
	  NULL, "give a client that did not ENABLE UTF8=ACCEPT a message with "
	  "8-bit header octets as a downgraded surrogate (RFC 6855 §8); no: "
	  "as stored, for backup tools that must copy it unchanged" },
	{ "imapd", "admin_uri", CONF_STR, "", OFF(imapd.admin_uri), 0, 0,
	  check_admin_uri, "how to reach the server's administrator, a URI "
	  "(mailto:postmaster@example.org), given to clients as the "
	  "read-only METADATA server entry /shared/admin (RFC 5464 "
	  "§3.2.1.1); empty: the entry is NIL" },

	{ "webmail", "max_connections", CONF_INT, "1000",
	  OFF(web.max_connections), 1, 100000, NULL, "concurrent HTTPS "
	  "connections to the webmail (browsers keep several open)" },
	{ "webmail", "max_connections_per_ip", CONF_INT, "64",
	  OFF(web.max_connections_per_ip), 1, 100000, NULL,
	  "concurrent webmail connections from one client address" },
	{ "webmail", "max_sessions", CONF_INT, "100", OFF(web.max_sessions),
	  1, 100000, NULL, "webmail sessions served at once (each has a "
	  "process with its user's Maildir while it is in use)" },
	{ "webmail", "max_sessions_per_user", CONF_INT, "10",
	  OFF(web.max_sessions_per_user), 1, 1000, NULL, "logged-in webmail "
	  "sessions of one user; a new login ends the oldest beyond it" },
	{ "webmail", "session_idle", CONF_TIME, "30m", OFF(web.session_idle),
	  60, DAY, NULL, "a webmail session unused this long ends" },
	{ "webmail", "session_lifetime", CONF_TIME, "12h",
	  OFF(web.session_lifetime), 300, 30 * DAY, NULL, "a webmail session "
	  "ends this long after its login, used or not" },
	{ "webmail", "request_timeout", CONF_TIME, "30s",
	  OFF(web.request_timeout), 2, 3600, NULL, "longest a browser may take "
	  "to send a request, and a connection may stay idle" },
	{ "webmail", "backend_idle", CONF_TIME, "5m", OFF(web.backend_idle),
	  5, DAY, NULL, "a session's Maildir process exits after this long "
	  "without a request (the next request starts another)" },
	{ "webmail", "max_body", CONF_SIZE, "35M", OFF(web.max_body), 65536,
	  1024 * 1048576LL, NULL, "largest request body (a message with its "
	  "attachments, as base64 makes them)" },
	{ "webmail", "max_header", CONF_SIZE, "16k", OFF(web.max_header),
	  4096, 1048576, NULL, "largest request header block" },

	{ "queue", "local_workers", CONF_INT, "8", OFF(queue.local_workers),
	  1, 64, NULL, "processes delivering into Maildirs in parallel (each "
	  "waits on an fsync a message: more of them keep the disk busy)" },
	{ "queue", "remote_workers", CONF_INT, "8", OFF(queue.remote_workers),
	  1, 256, NULL, "processes delivering to other mail servers in "
	  "parallel (one SMTP connection each)" },
	{ "queue", "scan_interval", CONF_TIME, "1m", OFF(queue.scan_interval),
	  1, DAY, NULL, "how often the spool is rescanned for messages a "
	  "lost notification left behind" },
	{ "queue", "retry_min", CONF_TIME, "5m", OFF(queue.retry_min),
	  1, DAY, NULL, "first retry after a temporary failure; each retry "
	  "waits twice as long" },
	{ "queue", "retry_max", CONF_TIME, "4h", OFF(queue.retry_max),
	  1, 7 * DAY, NULL, "longest wait between two retries" },
	{ "queue", "max_lifetime", CONF_TIME, "5d", OFF(queue.max_lifetime),
	  1, 100 * DAY, NULL, "a message that could not be delivered for this "
	  "long is returned to its sender (a bounce, RFC 3464)" },
	{ "queue", "delay_warning", CONF_TIME, "4h", OFF(queue.delay_warning),
	  0, 100 * DAY, NULL, "tell the sender once when a message has "
	  "waited this long (a \"delayed\" DSN); 0: never" },
	{ "queue", "over_quota_lifetime", CONF_TIME, "0",
	  OFF(queue.over_quota_lifetime), 0, 100 * DAY, NULL, "a message for "
	  "a mailbox over its quota is tried again (4.2.2) for this long, "
	  "then returned to its sender (5.2.2); 0: as long as any message "
	  "(max_lifetime), as Postfix does with Dovecot's "
	  "quota_full_tempfail" },
	{ "queue", "remote_port", CONF_INT, "25", OFF(queue.remote_port),
	  1, 65535, NULL, "TCP port of other mail servers (25; tests change "
	  "it)" },
	{ "queue", "source_address", CONF_STR, "", OFF(queue.source_address),
	  0, 0, NULL, "local address outbound connections come from (what "
	  "receivers check SPF against); empty: the system chooses" },
	{ "queue", "connect_timeout", CONF_TIME, "30s",
	  OFF(queue.connect_timeout), 1, 600, NULL, "wait for a TCP "
	  "connection to a remote server before trying the next one" },
	{ "queue", "reply_timeout", CONF_TIME, "5m",
	  OFF(queue.reply_timeout), 1, 3600, NULL, "wait for a remote "
	  "server's reply (RFC 5321 §4.5.3.2: 5 minutes); its answer to the "
	  "end of a message may take twice this" },
	{ "queue", "tls", CONF_STR, "may", OFF(queue.tls), 0, 0,
	  check_tls_policy, "STARTTLS to remote servers: none; may (when "
	  "offered; an unverified certificate is logged, not refused); "
	  "encrypt (required, any certificate); verify (required, and the "
	  "certificate must verify for the MX host name)" },
	{ "queue", "tls_ca_file", CONF_PATH, "", OFF(queue.tls_ca_file), 0, 0,
	  NULL, "CA certificates for verifying remote servers; empty: the "
	  "system's store" },

	{ "dns", "resolver", CONF_STR, "", OFF(dns.resolver), 0, 0, NULL,
	  "nameservers to ask, host:port separated by commas "
	  "(\"127.0.0.1:5353\", \"[::1]:53\"); empty: those of "
	  "/etc/resolv.conf" },
	{ "dns", "timeout", CONF_TIME, "5s", OFF(dns.timeout), 1, 60, NULL,
	  "wait for the first answer before asking again (c-ares doubles "
	  "the wait at each further attempt)" },
	{ "dns", "attempts", CONF_INT, "2", OFF(dns.attempts), 1, 10, NULL,
	  "times each nameserver is asked before a lookup fails "
	  "temporarily" },

	{ "spf", "check", CONF_BOOL, "yes", OFF(spf.check), 0, 0, NULL,
	  "check the sender of mail arriving on port 25 with SPF (RFC 7208); "
	  "authenticated submission is never checked" },
	{ "spf", "skip_loopback", CONF_BOOL, "yes", OFF(spf.skip_loopback),
	  0, 0, NULL, "do not check clients on 127.0.0.0/8 and ::1 (local "
	  "programs)" },
	{ "spf", "fail", CONF_STR, "reject", OFF(spf.fail), 0, 0,
	  check_reject_accept, "a \"fail\": reject (550 5.7.23, RFC 7372) "
	  "or accept" },
	{ "spf", "temperror", CONF_STR, "defer", OFF(spf.temperror), 0, 0,
	  check_defer_accept, "a DNS failure while checking: defer (451 "
	  "4.7.24, the client retries) or accept" },
	{ "spf", "permerror", CONF_STR, "accept", OFF(spf.permerror), 0, 0,
	  check_reject_accept, "a broken SPF record: accept, or reject "
	  "(550 5.7.24)" },
};

const size_t conf_nkeys = sizeof(conf_keys) / sizeof(conf_keys[0]);
