#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "../t/tap.h"

static char path[64];

static struct conf *
load(const char *text, char *const *ov, size_t nov, char *err, size_t errsize)
{
	FILE *fp = fopen(path, "w");

	fputs(text, fp);
	fclose(fp);
	err[0] = '\0';
	return conf_load(path, ov, nov, err, errsize);
}

static int
fails_with(const char *text, const char *want)
{
	char err[512];
	struct conf *c = load(text, NULL, 0, err, sizeof(err));

	if (c != NULL) {
		conf_free(&c);
		diag("accepted: %s", text);
		return 0;
	}
	if (strstr(err, want) == NULL) {
		diag("error '%s' lacks '%s'", err, want);
		return 0;
	}
	return 1;
}

int
main(void)
{
	char err[512], val[256];
	struct conf *c;
	char *ov[3];

	snprintf(path, sizeof(path), "/tmp/test-conf.%ld", (long)getpid());

	c = load("", NULL, 0, err, sizeof(err));
	ok(c != NULL && c->smtpd.max_message_size == 35 * 1024 * 1024 &&
	    c->smtpd.timeout == 300 && strcmp(c->smtp.listen, "0.0.0.0:25") ==
	    0, "defaults from the key table");
	conf_free(&c);
	ok(c == NULL, "conf_free clears the pointer");

	c = load("# comment\n[server]\nhostname = mx.example.org  # trailing\n"
	    "data_dir = /srv/mail\n\n[smtpd]\nmax_message_size = 10M\n"
	    "timeout = 2m\nmax_recipients=7\n[queue]\nretry_max = 1d\n",
	    NULL, 0, err, sizeof(err));
	ok(c != NULL, "a valid file loads: %s", err);
	if (c != NULL) {
		ok(strcmp(c->server.hostname, "mx.example.org") == 0,
		    "trailing comment stripped");
		ok(c->smtpd.max_message_size == 10 * 1024 * 1024, "size suffix");
		ok(c->smtpd.timeout == 120, "time suffix m");
		ok(c->queue.retry_max == 86400, "time suffix d");
		ok(c->smtpd.max_recipients == 7, "no blanks around =");
		ok(conf_get(c, "server.data_dir", val, sizeof(val)) == 0 &&
		    strcmp(val, "/srv/mail") == 0, "conf_get");
		conf_free(&c);
	}

	/* (a path that does not exist: one that does is resolved, below) */
	c = load("[server]\ndata_dir = ./no-such-dir.test-conf\n", NULL, 0, err,
	    sizeof(err));
	{
		char cwd[512];

		ok(c != NULL && getcwd(cwd, sizeof(cwd)) != NULL &&
		    strncmp(c->server.data_dir, cwd, strlen(cwd)) == 0 &&
		    strcmp(c->server.data_dir + strlen(cwd),
		    "/no-such-dir.test-conf") == 0,
		    "relative path made absolute: %s", c ? c->server.data_dir :
		    err);
		conf_free(&c);
	}

	ok(fails_with("[server]\nbogus = 1\n", ":2: unknown key 'bogus'"),
	    "unknown key names file and line");
	ok(fails_with("[nosuch]\n", ":1: unknown section [nosuch]"),
	    "unknown section");
	ok(fails_with("hostname = x\n", ":1: key 'hostname' outside"),
	    "key outside a section");
	ok(fails_with("[smtpd]\ntimeout = 5x\n", ":2: smtpd.timeout"),
	    "bad duration");
	ok(fails_with("[smtpd]\nmax_recipients = 0\n", "out of range"),
	    "below minimum");
	ok(fails_with("[smtpd]\nmax_recipients = 99999999999999999999\n",
	    "out of range"), "overflow");
	ok(fails_with("[smtpd]\nmax_recipients = -1\n", "not a number"),
	    "negative");
	ok(fails_with("[server]\nlog_syslog = maybe\n", "expected yes or no"),
	    "bad boolean");
	ok(fails_with("[smtp]\nlisten = 127.0.0.1\n", "host:port"),
	    "listen without port");
	ok(fails_with("[smtp]\nlisten = 127.0.0.1:99999\n", "host:port"),
	    "listen with bad port");
	ok(fails_with("[smtp]\nlisten = ::1:25\n", "host:port"),
	    "bare IPv6 must be bracketed");
	ok(fails_with("[server]\nlog_level = loud\n", "debug, info"),
	    "checked value");
	ok(fails_with("[smtpd]\ntimeout = 1m\ntimeout = 2m\n",
	    ":3: duplicate key 'timeout'"), "duplicate key");
	ok(fails_with("[server\n", ":1: bad section header"),
	    "bad section header");
	ok(fails_with("[server]\njust words\n", ":2: expected key = value"),
	    "line without =");

	c = load("[smtp]\nlisten = 127.0.0.1:25, [::1]:25\n", NULL, 0, err,
	    sizeof(err));
	ok(c != NULL, "IPv4 and IPv6 listen list: %s", err);
	if (c != NULL) {
		const char *p = c->smtp.listen;
		char host[64], port[8];

		ok(conf_listen_next(&p, host, sizeof(host), port,
		    sizeof(port)) == 0 && !strcmp(host, "127.0.0.1") &&
		    !strcmp(port, "25"), "first listen address");
		ok(conf_listen_next(&p, host, sizeof(host), port,
		    sizeof(port)) == 0 && !strcmp(host, "::1"),
		    "second, brackets removed");
		ok(conf_listen_next(&p, host, sizeof(host), port,
		    sizeof(port)) == -1, "end of list");
		conf_free(&c);
	}

	ov[0] = "smtp.listen=127.0.0.1:2600";
	ov[1] = "pop3.listen=";
	c = load("[smtp]\nlisten = 127.0.0.1:25\n", ov, 2, err, sizeof(err));
	ok(c != NULL && strcmp(c->smtp.listen, "127.0.0.1:2600") == 0 &&
	    c->pop3.listen[0] == '\0', "-o overrides the file, empty allowed");
	conf_free(&c);
	ov[0] = "smtp.nosuch=1";
	c = load("", ov, 1, err, sizeof(err));
	ok(c == NULL && strstr(err, "-o smtp.nosuch=1: unknown key") != NULL,
	    "bad override named: %s", err);
	ov[0] = "nodot=1";
	c = load("", ov, 1, err, sizeof(err));
	ok(c == NULL && strstr(err, "expected section.key=value") != NULL,
	    "override syntax");
	ov[0] = "smtpd.timeout=forever";
	c = load("", ov, 1, err, sizeof(err));
	ok(c == NULL && strstr(err, "bad duration") != NULL,
	    "override value checked");

	/* imapd.admin_uri: a URI (RFC 5464 §3.2.1.1), or empty */
	c = load("[imapd]\nadmin_uri = mailto:postmaster@example.org\n", NULL,
	    0, err, sizeof(err));
	ok(c != NULL && strcmp(c->imapd.admin_uri,
	    "mailto:postmaster@example.org") == 0, "admin_uri: mailto: %s",
	    err);
	conf_free(&c);
	c = load("[imapd]\nadmin_uri = https://example.org/help?a=1%20b#x\n",
	    NULL, 0, err, sizeof(err));
	ok(c != NULL, "admin_uri: https with query, %%-escape, fragment: %s",
	    err);
	conf_free(&c);
	c = load("", NULL, 0, err, sizeof(err));
	ok(c != NULL && c->imapd.admin_uri[0] == '\0',
	    "admin_uri: empty by default");
	conf_free(&c);
	ok(fails_with("[imapd]\nadmin_uri = postmaster@example.org\n",
	    "must be a URI"), "admin_uri: no scheme");
	ok(fails_with("[imapd]\nadmin_uri = mailto:\n", "must be a URI"),
	    "admin_uri: nothing after the scheme");
	ok(fails_with("[imapd]\nadmin_uri = 1tel:+1\n", "must be a URI"),
	    "admin_uri: a scheme starts with a letter");
	ok(fails_with("[imapd]\nadmin_uri = mailto:a\"b@example.org\n",
	    "must be a URI"), "admin_uri: a quote");
	ok(fails_with("[imapd]\nadmin_uri = mailto:a%2@example.org\n",
	    "must be a URI"), "admin_uri: a short %%-escape");
	ok(fails_with("[imapd]\nadmin_uri = mailto:\xc3\xa9@example.org\n",
	    "must be a URI"), "admin_uri: 8-bit");
	{
		char big[700];

		memset(big, 'a', sizeof(big));
		memcpy(big, "[imapd]\nadmin_uri = mailto:", 27);
		memcpy(big + sizeof(big) - 2, "\n", 2);
		big[sizeof(big) - 1] = '\0';
		ok(fails_with(big, "at most 512"), "admin_uri: over 512 "
		    "octets");
	}

	c = conf_load("/nonexistent/maild.conf", NULL, 0, err, sizeof(err));
	ok(c == NULL && strstr(err, "/nonexistent/maild.conf: No such file")
	    != NULL, "missing file: %s", err);
	unlink(path);
	return done_testing();
}
