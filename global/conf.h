/*
 * conf: the one configuration file.
 *
 *	[section]
 *	key = value		# comment
 *
 * Every key is declared once in conf_keys.c with its type, default, bounds
 * and documentation; unknown sections or keys, bad values and duplicates
 * are errors naming the file and line.  Command-line overrides
 * ("-o section.key=value") are applied after the file, with the same
 * checks.  Relative paths are made absolute against the working directory
 * at load time, so every program agrees on them whatever it does later.
 */
#ifndef CONF_H
#define CONF_H

#include <stddef.h>
#include <stdio.h>

#include "service.h"

struct conf_service {
	char	*listen;	/* "host:port, host:port"; empty: not started */
};

struct conf {
	struct {
		char		*hostname;
		char		*data_dir;
		char		*user;
		char		*auth_user;
		char		*login_user;
		long long	 min_idle;
		char		*log_level;
		int		 log_syslog;
		char		*recipient_delimiter;
	} server;

#define CONF_SERVICE_FIELD(sec, prog, listen, tls, what) \
	struct conf_service sec;
	SERVICE_TABLE(CONF_SERVICE_FIELD)	/* service.h */

	struct {
		char		*cert;
		char		*key;
	} tls;

	struct {
		int		 allow_plaintext;
		long long	 max_failures;
		long long	 failure_delay_max;
		long long	 failure_window;
		long long	 cache_ttl;
		long long	 workers;
	} auth;

	struct {
		int		 port25_auth;
		long long	 max_use;
		long long	 max_session_time;
		long long	 max_data_time;
		long long	 max_message_size;
		long long	 max_recipients;
		long long	 max_line_length;
		long long	 timeout;
		long long	 max_sessions;
		long long	 max_sessions_per_ip;
		long long	 max_errors;
		long long	 max_hops;
	} smtpd;

	struct {
		long long	 timeout;
		long long	 max_use;
		long long	 login_timeout;
		long long	 max_line_length;
		long long	 max_sessions;
		long long	 max_sessions_per_ip;
		long long	 max_errors;
	} pop3d;

	struct {
		long long	 timeout;
		long long	 max_use;
		long long	 login_timeout;
		long long	 max_line_length;
		long long	 max_command;
		long long	 append_limit;
		long long	 max_sessions;
		long long	 max_sessions_per_ip;
		long long	 max_sessions_per_user;
		long long	 max_errors;
		char		*admin_uri;
		int		 surrogate;
	} imapd;

	/* [webmail]: besides its listen key (the service row) */
	struct {
		long long	 max_connections;
		long long	 max_connections_per_ip;
		long long	 max_sessions;
		long long	 max_sessions_per_user;
		long long	 session_idle;
		long long	 session_lifetime;
		long long	 request_timeout;
		long long	 backend_idle;
		long long	 max_body;
		long long	 max_header;
	} web;

	struct {
		long long	 local_workers;
		long long	 remote_workers;
		long long	 scan_interval;
		long long	 retry_min;
		long long	 retry_max;
		long long	 max_lifetime;
		long long	 delay_warning;
		long long	 over_quota_lifetime;
		long long	 remote_port;
		char		*source_address;
		long long	 connect_timeout;
		long long	 reply_timeout;
		char		*tls;
		char		*tls_ca_file;
	} queue;

	struct {
		char		*resolver;
		long long	 timeout;
		long long	 attempts;
	} dns;

	struct {
		int		 check;
		int		 skip_loopback;
		char		*fail;
		char		*temperror;
		char		*permerror;
	} spf;
};

enum conf_type {
	CONF_STR,	/* free text */
	CONF_PATH,	/* made absolute */
	CONF_INT,	/* decimal, within min..max */
	CONF_SIZE,	/* bytes; suffix k, M, G (powers of 1024) */
	CONF_TIME,	/* seconds; suffix s, m, h, d */
	CONF_BOOL,	/* yes/no, true/false, on/off, 1/0 */
	CONF_LISTEN,	/* list of host:port or [v6]:port */
};

struct conf_key {
	const char	*section;
	const char	*name;
	enum conf_type	 type;
	const char	*def;		/* "" for empty; NULL: computed */
	size_t		 off;
	long long	 min, max;	/* for INT, SIZE, TIME */
	int		(*check)(const char *value, const char **why);
	const char	*doc;
};

extern const struct conf_key conf_keys[];
extern const size_t conf_nkeys;

/*
 * Load the file (path may be NULL for defaults only), then apply the
 * overrides ("section.key=value").  On error returns NULL and writes a
 * message naming file and line into err.
 */
struct conf *conf_load(const char *path, char *const *overrides,
	    size_t noverrides, char *err, size_t errsize);
void	conf_free(struct conf **conf);
/* Print every key as "section.key = value" (the effective values). */
void	conf_dump(const struct conf *conf, FILE *fp);
/* Print every key with its default and documentation. */
void	conf_describe(FILE *fp);
/* The effective value of "section.key" as text; -1 if unknown. */
int	conf_get(const struct conf *conf, const char *name, char *buf,
	    size_t size);

/* The resolver the configuration describes ([dns]); as dns_open(). */
struct dns;
struct dns *conf_dns_open(const struct conf *conf, char *err, size_t errsize);

/* Parse one "host:port" of a listen list; 0 or -1. */
int	conf_listen_next(const char **p, char *host, size_t hostsize,
	    char *port, size_t portsize);

#endif
