/*
 * Mailbox names: modified UTF-7 (RFC 3501 §5.1.3), validation, and the
 * mapping between IMAP names ("Lists/Work", separator '/') and Maildir++
 * folder directories (".Lists.Work").
 *
 * A name is accepted only in canonical form: what decodes to UTF-8 and
 * encodes back to the same octets.  So "&AC4-" (an encoded '.') is
 * refused from clients, which lets the on-disk form write a '.' inside a
 * name component as "&AC4-" without ambiguity.  No component may be
 * empty, "." or "..", or hold control characters or wildcards, so a
 * folder directory is always a single path component below the user's
 * Maildir.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "../lib/util.h"
#include "maildir.h"

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int
b64val(unsigned char c)
{
	const char *p;

	if (c == '\0' || (p = strchr(b64, c)) == NULL)
		return -1;
	return (int)(p - b64);
}

/* Append one code point as UTF-8; -1 if it does not fit. */
static int
put_utf8(char *out, size_t size, size_t *o, uint32_t cp)
{
	unsigned char b[4];
	size_t n, i;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = 0xc0 | (cp >> 6);
		b[1] = 0x80 | (cp & 0x3f);
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = 0xe0 | (cp >> 12);
		b[1] = 0x80 | ((cp >> 6) & 0x3f);
		b[2] = 0x80 | (cp & 0x3f);
		n = 3;
	} else {
		b[0] = 0xf0 | (cp >> 18);
		b[1] = 0x80 | ((cp >> 12) & 0x3f);
		b[2] = 0x80 | ((cp >> 6) & 0x3f);
		b[3] = 0x80 | (cp & 0x3f);
		n = 4;
	}
	if (*o + n >= size)
		return -1;
	for (i = 0; i < n; i++)
		out[(*o)++] = (char)b[i];
	return 0;
}

int
mutf7_to_utf8(const char *in, char *out, size_t size)
{
	size_t o = 0;
	const unsigned char *p = (const unsigned char *)in;

	while (*p != '\0') {
		uint32_t bits = 0, hi = 0;
		int nbits = 0, v, units = 0;

		if (*p < 0x20 || *p > 0x7e)
			return -1;
		if (*p != '&') {
			if (o + 1 >= size)
				return -1;
			out[o++] = (char)*p++;
			continue;
		}
		p++;
		if (*p == '-') {		/* "&-" is '&' */
			if (o + 1 >= size)
				return -1;
			out[o++] = '&';
			p++;
			continue;
		}
		for (; *p != '-'; p++) {
			if ((v = b64val(*p)) < 0)
				return -1;
			bits = (bits << 6) | (uint32_t)v;
			nbits += 6;
			if (nbits < 16)
				continue;
			nbits -= 16;
			uint32_t u = (bits >> nbits) & 0xffff;

			units++;
			if (hi != 0) {
				if (u < 0xdc00 || u > 0xdfff)
					return -1;
				if (put_utf8(out, size, &o, 0x10000 +
				    ((hi - 0xd800) << 10) + (u - 0xdc00)) == -1)
					return -1;
				hi = 0;
			} else if (u >= 0xd800 && u <= 0xdbff)
				hi = u;
			else if (u >= 0xdc00 && u <= 0xdfff)
				return -1;
			else if (u >= 0x20 && u <= 0x7e)
				return -1;	/* must be written directly */
			else if (put_utf8(out, size, &o, u) == -1)
				return -1;
		}
		/* Unused bits must be zero and fewer than 6; no lone
		 * surrogate; no empty "&-" run (that is '&'). */
		if (units == 0 || hi != 0 || nbits >= 6 ||
		    (bits & ((1u << nbits) - 1)) != 0)
			return -1;
		p++;
	}
	if (o >= size)
		return -1;
	out[o] = '\0';
	return 0;
}

/* Next code point of UTF-8 at *p; -1 if malformed. */
static int32_t
get_utf8(const unsigned char **pp)
{
	const unsigned char *p = *pp;
	uint32_t cp;
	int n, i;

	if (p[0] < 0x80) {
		*pp = p + 1;
		return p[0];
	}
	if ((p[0] & 0xe0) == 0xc0) {
		cp = p[0] & 0x1f;
		n = 1;
	} else if ((p[0] & 0xf0) == 0xe0) {
		cp = p[0] & 0x0f;
		n = 2;
	} else if ((p[0] & 0xf8) == 0xf0) {
		cp = p[0] & 0x07;
		n = 3;
	} else
		return -1;
	for (i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
	    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*pp = p + n + 1;
	return (int32_t)cp;
}

int
utf8_to_mutf7(const char *in, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t o = 0;

#define PUT(c) do { if (o + 1 >= size) return -1; out[o++] = (c); } while (0)
	while (*p != '\0') {
		uint32_t bits = 0;
		int nbits = 0;

		if (*p >= 0x20 && *p <= 0x7e) {
			PUT((char)*p);
			if (*p++ == '&')
				PUT('-');
			continue;
		}
		PUT('&');
		while (*p != '\0' && (*p < 0x20 || *p > 0x7e)) {
			int32_t cp = get_utf8(&p);
			uint32_t u[2];
			int nu, k;

			if (cp < 0)
				return -1;
			if (cp >= 0x10000) {
				u[0] = 0xd800 + (((uint32_t)cp - 0x10000) >> 10);
				u[1] = 0xdc00 + (((uint32_t)cp - 0x10000) & 0x3ff);
				nu = 2;
			} else {
				u[0] = (uint32_t)cp;
				nu = 1;
			}
			for (k = 0; k < nu; k++) {
				bits = (bits << 16) | u[k];
				nbits += 16;
				while (nbits >= 6) {
					nbits -= 6;
					PUT(b64[(bits >> nbits) & 0x3f]);
				}
			}
		}
		if (nbits > 0)
			PUT(b64[(bits << (6 - nbits)) & 0x3f]);
		PUT('-');
	}
#undef PUT
	if (o >= size)
		return -1;
	out[o] = '\0';
	return 0;
}

int
maildir_name_valid(const char *name, const char **why)
{
	char utf8[MAILDIR_NAME_MAX * 2], back[MAILDIR_NAME_MAX + 1];
	const char *c, *comp;
	size_t len = strlen(name);

	if (len == 0 || len > MAILDIR_NAME_MAX) {
		*why = len == 0 ? "empty mailbox name" : "mailbox name too long";
		return -1;
	}
	if (mutf7_to_utf8(name, utf8, sizeof(utf8)) == -1 ||
	    utf8_to_mutf7(utf8, back, sizeof(back)) == -1 ||
	    strcmp(back, name) != 0) {
		*why = "mailbox name is not valid modified UTF-7";
		return -1;
	}
	for (comp = name; ; comp = c + 1) {
		size_t n;

		c = strchr(comp, MAILDIR_SEP);
		n = c != NULL ? (size_t)(c - comp) : strlen(comp);
		if (n == 0 || (n == 1 && comp[0] == '.') ||
		    (n == 2 && comp[0] == '.' && comp[1] == '.')) {
			*why = "empty, \".\" or \"..\" component in mailbox name";
			return -1;
		}
		if (n > MAILDIR_COMPONENT_MAX) {
			*why = "mailbox name component too long";
			return -1;
		}
		if (c == NULL)
			break;
	}
	if (strpbrk(name, "%*\\\"") != NULL) {
		*why = "mailbox names may not contain % * \\ or \"";
		return -1;
	}
	return 0;
}

/* "inbox" and "Inbox/x" name the INBOX (RFC 3501 §5.1): canonical form. */
void
maildir_name_normalize(char *name)
{
	if (strncasecmp(name, "INBOX", 5) == 0 &&
	    (name[5] == '\0' || name[5] == MAILDIR_SEP))
		memcpy(name, "INBOX", 5);
}

int
maildir_name_to_dir(const char *name, char *dir, size_t size)
{
	size_t o = 0;
	const char *p;

	if (strcmp(name, "INBOX") == 0) {
		if (size < 1)
			return -1;
		dir[0] = '\0';
		return 0;
	}
	if (o + 1 >= size)
		return -1;
	dir[o++] = '.';
	for (p = name; *p != '\0'; p++) {
		const char *add;
		char one[2] = { *p, '\0' };

		if (*p == MAILDIR_SEP)
			add = ".";
		else if (*p == '.')
			add = "&AC4-";
		else if (*p == '/')
			return -1;
		else
			add = one;
		if (o + strlen(add) >= size)
			return -1;
		memcpy(dir + o, add, strlen(add));
		o += strlen(add);
	}
	dir[o] = '\0';
	return 0;
}

int
maildir_dir_to_name(const char *dir, char *name, size_t size)
{
	size_t o = 0;
	const char *p;

	if (dir[0] != '.' || dir[1] == '\0')
		return -1;
	for (p = dir + 1; *p != '\0'; ) {
		char c = *p;

		if (strncmp(p, "&AC4-", 5) == 0) {
			c = '.';
			p += 5;
		} else {
			if (c == '.')
				c = MAILDIR_SEP;
			p++;
		}
		if (o + 1 >= size)
			return -1;
		name[o++] = c;
	}
	name[o] = '\0';
	return 0;
}
