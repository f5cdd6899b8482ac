/*
 * addr: mail addresses as RFC 5321 §4.1.2 defines them.
 *
 * Paths ("<user@example.org>", with an optional source route that is
 * parsed and ignored, §4.1.1.3 / Appendix C), the null reverse-path "<>",
 * and the ESMTP parameters that may follow.  Limits from §4.5.3.1: a local
 * part of 64 octets, a domain of 255, a path of 256.
 *
 * Domains are lower-cased; local parts keep their case (only the receiving
 * host may interpret them, §2.4), and quoted local parts keep their quotes.
 */
#ifndef ADDR_H
#define ADDR_H

#include <stddef.h>

#define ADDR_LOCAL_MAX	64
#define ADDR_DOMAIN_MAX	255
#define ADDR_PATH_MAX	256

struct mailaddr {
	char	local[ADDR_LOCAL_MAX * 2 + 1];	/* room for quoting */
	char	domain[ADDR_DOMAIN_MAX + 1];	/* "" only for <> and <postmaster> */
};

#define ADDR_ALLOW_NULL		0x01	/* "<>" is valid (MAIL FROM) */
#define ADDR_ALLOW_POSTMASTER	0x02	/* "<Postmaster>" (RCPT, §4.5.1) */
#define ADDR_ALLOW_BARE		0x04	/* tolerate a missing "<" ">" */

/*
 * Parse a path at s (leading blanks allowed).  On success returns 0, fills
 * a and sets *rest to what follows the path (the ESMTP parameters).  On
 * error returns -1 and a short reason in *why.
 */
int	addr_parse_path(const char *s, int flags, struct mailaddr *a,
	    const char **rest, const char **why);
/* Parse a plain "local@domain" (an administrator's input): 0 or -1. */
int	addr_parse(const char *s, struct mailaddr *a, const char **why);
/* Format as "local@domain" ("" for the null path). */
void	addr_format(const struct mailaddr *a, char *buf, size_t size);
int	addr_is_null(const struct mailaddr *a);
/* A syntactically valid domain name (LDH labels, §4.1.2 "Domain"). */
int	addr_domain_valid(const char *d);
/*
 * A local part we accept for our own mailboxes: a dot-atom of
 * [a-z0-9] and !#$%&'*+-/=?^_`{|}~ without '/', so it is always a safe
 * single path component.
 */
int	addr_local_is_mailbox_safe(const char *local);
/*
 * Next ESMTP parameter "KEYWORD[=value]" (§4.1.2 esmtp-param) from *p,
 * which is advanced.  Returns 1 with key/value set (value NULL if none),
 * 0 at the end, -1 on bad syntax.  Modifies the string.
 */
int	addr_next_param(char **p, char **key, char **value);

#endif
