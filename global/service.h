/*
 * service: the network services of the mail system, in one table.  Each
 * row names the configuration section that sets where it listens
 * ([smtp] listen = ...), the program that serves it, its default
 * address, and whether TLS starts with the first octet (RFC 8314).
 * conf (the struct and the keys), maild (sockets and programs) and each
 * program read this table; nothing else lists the services.
 */
#ifndef SERVICE_H
#define SERVICE_H

#include <stddef.h>

/* X(section, program, default listen, implicit TLS, what it is) */
#define SERVICE_TABLE(X)						\
	X(smtp, "smtpd", "0.0.0.0:25", 0,				\
	    "SMTP from the world (port 25)")				\
	X(submission, "smtpd", "0.0.0.0:587", 0,			\
	    "mail submission (port 587)")				\
	X(submissions, "smtpd", "0.0.0.0:465", 1,			\
	    "mail submission over implicit TLS (port 465)")		\
	X(pop3, "pop3d", "0.0.0.0:110", 0, "POP3 (port 110)")		\
	X(pop3s, "pop3d", "0.0.0.0:995", 1,				\
	    "POP3 over implicit TLS (port 995)")			\
	X(imap, "imapd", "0.0.0.0:143", 0, "IMAP (port 143)")		\
	X(imaps, "imapd", "0.0.0.0:993", 1,				\
	    "IMAP over implicit TLS (port 993)")			\
	X(webmail, "webmail", "0.0.0.0:443", 1, "the HTTPS webmail")	\
	X(webmail_http, "webmail", "", 0,				\
	    "plain HTTP that only redirects to the webmail's HTTPS")

struct conf;

struct service {
	const char	*name;		/* the config section */
	const char	*program;	/* serves it */
	const char	*listen_default;
	int		 implicit_tls;
	const char	*what;
	size_t		 conf_off;	/* its struct conf_service in conf */
};

extern const struct service service_table[];
extern const size_t service_count;

/* The row of a section name, or NULL. */
const struct service *service_find(const char *name);
/* Does program serve this service? */
int	service_of_program(const char *name, const char *program);
/* Where the configuration says it listens ("" for not at all). */
const char *service_listen(const struct conf *conf,
	    const struct service *svc);

#endif
