/*
 * What the front reads of a request beyond what evhttp parses: the
 * session cookie, and whether text is clean UTF-8.
 */
#include <stdarg.h>
#include <string.h>

#include "webmail.h"

int
web_cookie_get(const char *h, const char *name, char *out, size_t size)
{
	size_t nlen = strlen(name), vlen;
	const char *p = h, *end;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		if ((end = strchr(p, ';')) == NULL)
			end = p + strlen(p);
		if ((size_t)(end - p) > nlen && strncmp(p, name, nlen) == 0 &&
		    p[nlen] == '=') {
			p += nlen + 1;
			vlen = (size_t)(end - p);
			while (vlen > 0 && (p[vlen - 1] == ' ' ||
			    p[vlen - 1] == '\t'))
				vlen--;
			if (vlen >= 2 && p[0] == '"' && p[vlen - 1] == '"') {
				p++;
				vlen -= 2;
			}
			if (vlen >= size)
				return -1;
			memcpy(out, p, vlen);
			out[vlen] = '\0';
			return 1;
		}
		p = end;
	}
	return 0;
}

int
web_utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, k, need;
	unsigned int cp, min;

	while (i < n) {
		if (s[i] < 0x80) {
			if (s[i] < 0x20 && s[i] != '\t' && s[i] != '\r' &&
			    s[i] != '\n')
				return 0;
			if (s[i] == 0x7f)
				return 0;
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			need = 1; cp = s[i] & 0x1f; min = 0x80;
		} else if ((s[i] & 0xf0) == 0xe0) {
			need = 2; cp = s[i] & 0x0f; min = 0x800;
		} else if ((s[i] & 0xf8) == 0xf0) {
			need = 3; cp = s[i] & 0x07; min = 0x10000;
		} else
			return 0;
		for (k = 1; k <= need; k++) {
			if (i + k >= n || (s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

int
web_url_encode(struct buf *b, const char *s)
{
	static const char hexd[] = "0123456789ABCDEF";
	const unsigned char *p;
	int r = 0;

	for (p = (const unsigned char *)s; *p != '\0' && r == 0; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_' || *p == '~')
			r = buf_putc(b, (char)*p);
		else
			r = buf_printf(b, "%%%c%c", hexd[*p >> 4],
			    hexd[*p & 15]);
	}
	return r;
}

void
web_url_va(struct buf *b, const char *path, va_list ap)
{
	const char *name, *value;
	int first = 1;

	buf_puts(b, path);
	while ((name = va_arg(ap, const char *)) != NULL) {
		value = va_arg(ap, const char *);
		if (value == NULL || value[0] == '\0')
			continue;
		buf_putc(b, first ? '?' : '&');
		first = 0;
		buf_puts(b, name);
		buf_putc(b, '=');
		web_url_encode(b, value);
	}
}

void
web_url(struct buf *b, const char *path, ...)
{
	va_list ap;

	va_start(ap, path);
	web_url_va(b, path, ap);
	va_end(ap);
}
