/*
 * imapurl.h: IMAP URLs as URLAUTH names them (RFC 5092 §11, RFC 4467
 * §9), imapurl.c; for urlauth.c, its unit test and fuzz target.  The
 * parser does no I/O.
 */
#ifndef IMAP_IMAPURL_H
#define IMAP_IMAPURL_H

#include <stddef.h>
#include <stdint.h>

#include "../maildir/maildir.h"
#include "../maildir/urlkey.h"

#define URLAUTH_URL_MAX		2048	/* octets of a URL */

enum urlauth_access {
	URLA_NONE,		/* no ;URLAUTH= */
	URLA_ANONYMOUS,
	URLA_AUTHUSER,
	URLA_USER,		/* user+<name> */
	URLA_SUBMIT,		/* submit+<name> */
};

struct urlauth_url {
	char		 user[320];	/* the URL's owner (enc-user) */
	char		 host[256];
	char		 mailbox[MAILDIR_NAME_MAX + 1];
	uint32_t	 uidvalidity;	/* 0: not given */
	uint32_t	 uid;
	char		 section[256];
	int		 partial;
	uint64_t	 offset, length;
	int64_t		 expire;	/* 0: none */
	enum urlauth_access access;
	char		 access_user[320];
	size_t		 rump_len;	/* the URL up to the access */
	int		 authorized;	/* ":mech:token" follows */
	char		 mech[32];
	unsigned char	 token[URLKEY_LEN];
	size_t		 token_len;
};

/*
 * A full IMAP URL naming a message or a part of one, with ;URLAUTH=
 * (and its ":mech:token" when it is an authorized URL, else a rump):
 *
 *	imap://user[;AUTH=x]@host[:port]/mailbox[;UIDVALIDITY=n]/;UID=n
 *	    [/;SECTION=s][/;PARTIAL=o[.l]][;EXPIRE=date-time]
 *	    ;URLAUTH=access[:mechanism:token]
 *
 * The mailbox is given in the store's form (imapurl_mailbox()).  0, or
 * -1 for anything else.
 */
int	imapurl_parse(const char *url, size_t len, struct urlauth_url *u);
/* %XX-decode [s, e) into out (RFC 3986 §2.1): 0, or -1 when malformed,
 * too long, or holding a NUL or control character.  CATENATE's URLs
 * (cmd_append.c) too. */
int	imapurl_pct_decode(const char *s, const char *e, char *out,
	    size_t size);
/* The mailbox of a URL, [s, e): %-decoded UTF-8 (RFC 5092 §3.2) into
 * the store's name (modified UTF-7, INBOX normalised), checked as the
 * store checks names.  0 or -1.  CATENATE's URLs (cmd_append.c) too. */
int	imapurl_mailbox(const char *s, const char *e, char *out, size_t size);
/* Is host (a URL's) one of this server's names: hostname (the config's
 * server.hostname) or the domain of login?  1 or 0.  IP literals and
 * ports are not taken as names (behind a port mapping or NAT a server
 * does not know the ones its clients see). */
int	imapurl_host_ours(const char *host, const char *hostname,
	    const char *login);
/*
 * URL-PARTIAL (RFC 5550 §5): the partial-range of "/;PARTIAL=" (RFC 5092
 * §11: number ["." nz-number]) from *p, at most up to e: the offset, and
 * the length (UINT64_MAX when none is given), each at most 2^32-1; *p
 * moved past it.  0, or -1 when malformed (a length of 0 included).
 * URLAUTH's URLs and CATENATE's (cmd_append.c).
 */
int	imapurl_partial_parse(const char **p, const char *e, uint64_t *offset,
	    uint64_t *length);
/* The range of [*data, *data + *len) the partial names: as FETCH's
 * BODY[]<offset.length> (RFC 5092 §6, RFC 3501 §6.4.5), empty when the
 * offset is at or beyond the end. */
void	imapurl_partial_apply(uint64_t offset, uint64_t length,
	    const char **data, size_t *len);
/* Is the name in a URL (its owner, or user+/submit+'s) this login?  The
 * full login, or its local part at the URL's host (RFC 4467 §7 writes
 * imap://joe@example.com/ for joe at example.com).  1 or 0. */
int	imapurl_is_user(const char *name, const char *host, const char *login);
/* RFC 3339 date-time in [s, e): 2006-05-01T12:00:00[.frac](Z|+hh:mm|
 * -hh:mm) as epoch seconds; -1. */
int64_t	imapurl_datetime(const char *s, const char *e);

#endif
