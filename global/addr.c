#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../lib/util.h"
#include "addr.h"

/* RFC 5322 atext */
static int
is_atext(int c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

static int
is_letdig(int c)
{
	return isalnum(c);
}

/* Length of the Domain at s, or 0 if none starts there. */
static size_t
scan_domain(const char *s)
{
	size_t i = 0, label;

	for (;;) {
		if (!is_letdig((unsigned char)s[i]))
			return 0;
		label = 0;
		while (is_letdig((unsigned char)s[i]) || s[i] == '-') {
			i++;
			if (++label > 63)
				return 0;
		}
		if (s[i - 1] == '-')
			return 0;
		if (s[i] != '.')
			return i;
		i++;
	}
}

/* Length of an address literal "[...]" at s, or 0. */
static size_t
scan_literal(const char *s)
{
	size_t i;

	if (s[0] != '[')
		return 0;
	for (i = 1; s[i] != ']'; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '.' ||
		    s[i] == ':' || s[i] == '-'))
			return 0;
	return i > 1 ? i + 1 : 0;
}

int
addr_domain_valid(const char *d)
{
	size_t n = scan_domain(d);

	return n > 0 && d[n] == '\0' && n <= ADDR_DOMAIN_MAX;
}

/* Scan a Mailbox; fills a; returns its length or 0 with *why. */
static size_t
scan_mailbox(const char *s, struct mailaddr *a, const char **why)
{
	size_t i = 0, llen, dlen;

	if (s[0] == '"') {		/* Quoted-string */
		for (i = 1; s[i] != '"'; i++) {
			unsigned char c = (unsigned char)s[i];

			if (c == '\\') {
				c = (unsigned char)s[++i];
				if (c < 32 || c > 126) {
					*why = "bad quoted pair";
					return 0;
				}
			} else if (c < 32 || c > 126) {
				*why = "bad character in quoted local part";
				return 0;
			}
		}
		i++;
	} else {			/* Dot-string */
		for (;;) {
			size_t start = i;

			while (is_atext((unsigned char)s[i]))
				i++;
			if (i == start) {
				*why = "bad local part";
				return 0;
			}
			if (s[i] != '.')
				break;
			i++;
		}
	}
	llen = i;
	/* 64 octets; a quoted form may carry escapes, so allow for them. */
	if (llen > (s[0] == '"' ? ADDR_LOCAL_MAX * 2 : ADDR_LOCAL_MAX)) {
		*why = "local part too long";
		return 0;
	}
	if (s[i] != '@') {
		*why = "missing @domain";
		return 0;
	}
	i++;
	if ((dlen = scan_literal(s + i)) == 0 &&
	    (dlen = scan_domain(s + i)) == 0) {
		*why = "bad domain";
		return 0;
	}
	if (dlen > ADDR_DOMAIN_MAX) {
		*why = "domain too long";
		return 0;
	}
	memcpy(a->local, s, llen);
	a->local[llen] = '\0';
	memcpy(a->domain, s + i, dlen);
	a->domain[dlen] = '\0';
	util_lower(a->domain);
	return i + dlen;
}

int
addr_parse_path(const char *s, int flags, struct mailaddr *a,
    const char **rest, const char **why)
{
	const char *p = s, *start;
	size_t n;
	int bracket;

	memset(a, 0, sizeof(*a));
	while (*p == ' ')
		p++;
	start = p;
	bracket = *p == '<';
	if (!bracket && !(flags & ADDR_ALLOW_BARE)) {
		*why = "address must be in angle brackets";
		return -1;
	}
	if (bracket)
		p++;
	if (bracket && *p == '>') {
		if (!(flags & ADDR_ALLOW_NULL)) {
			*why = "null address not allowed here";
			return -1;
		}
		*rest = p + 1;
		return 0;
	}
	if (bracket && *p == '@') {	/* source route: parse, ignore */
		for (;;) {
			if (*p != '@' || (n = scan_domain(p + 1)) == 0) {
				*why = "bad source route";
				return -1;
			}
			p += 1 + n;
			if (*p == ':')
				break;
			if (*p != ',') {
				*why = "bad source route";
				return -1;
			}
			p++;
		}
		p++;
	}
	if ((flags & ADDR_ALLOW_POSTMASTER) && bracket &&
	    strncasecmp(p, "postmaster>", 11) == 0) {
		util_strcpy(a->local, "postmaster", sizeof(a->local));
		*rest = p + 11;
		return 0;
	}
	if ((n = scan_mailbox(p, a, why)) == 0)
		return -1;
	p += n;
	if (bracket) {
		if (*p != '>') {
			*why = "missing >";
			return -1;
		}
		p++;
	}
	if ((size_t)(p - start) > ADDR_PATH_MAX - (bracket ? 0 : 2)) {
		*why = "path too long";
		return -1;
	}
	if (*p != '\0' && *p != ' ') {
		*why = "garbage after address";
		return -1;
	}
	*rest = p;
	return 0;
}

int
addr_parse(const char *s, struct mailaddr *a, const char **why)
{
	size_t n;

	memset(a, 0, sizeof(*a));
	if ((n = scan_mailbox(s, a, why)) == 0)
		return -1;
	if (s[n] != '\0') {
		*why = "garbage after address";
		return -1;
	}
	return 0;
}

void
addr_format(const struct mailaddr *a, char *buf, size_t size)
{
	if (a->local[0] == '\0')
		snprintf(buf, size, "%s", "");
	else if (a->domain[0] == '\0')
		snprintf(buf, size, "%s", a->local);
	else
		snprintf(buf, size, "%s@%s", a->local, a->domain);
}

int
addr_is_null(const struct mailaddr *a)
{
	return a->local[0] == '\0';
}

int
addr_local_is_mailbox_safe(const char *l)
{
	size_t i;

	if (l[0] == '\0' || l[0] == '.' || strlen(l) > ADDR_LOCAL_MAX)
		return 0;
	for (i = 0; l[i] != '\0'; i++) {
		unsigned char c = (unsigned char)l[i];

		if (c == '/' || (c >= 'A' && c <= 'Z'))
			return 0;
		if (c == '.') {
			if (l[i + 1] == '.' || l[i + 1] == '\0')
				return 0;
		} else if (!is_atext(c))
			return 0;
	}
	return 1;
}

int
addr_next_param(char **pp, char **key, char **value)
{
	char *p = *pp, *k, *eq;

	while (*p == ' ')
		p++;
	if (*p == '\0') {
		*pp = p;
		return 0;
	}
	k = p;
	while (*p != '\0' && *p != ' ')
		p++;
	if (*p != '\0')
		*p++ = '\0';
	*pp = p;
	if (!isalnum((unsigned char)k[0]))
		return -1;
	if ((eq = strchr(k, '=')) != NULL) {
		*eq = '\0';
		*value = eq + 1;
		if (**value == '\0')
			return -1;
		for (char *v = *value; *v != '\0'; v++)	/* esmtp-value */
			if (*v < 33 || *v > 126 || *v == '=')
				return -1;
	} else
		*value = NULL;
	for (char *q = k; *q != '\0'; q++)
		if (!isalnum((unsigned char)*q) && *q != '-')
			return -1;
	*key = k;
	return 1;
}
