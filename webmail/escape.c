/*
 * escape.c: the one HTML escaping every page and template goes through,
 * and plain text bodies as HTML.
 *
 * html_escape() serves both text and quoted attribute values, so a
 * template never has to know which one it writes.  Mail is untrusted
 * and often not valid UTF-8 whatever its charset says; a browser would
 * guess at such bytes, so they are replaced here (U+FFFD) and what the
 * page holds is always valid UTF-8.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "webmail.h"

#define REPLACEMENT	"\xef\xbf\xbd"		/* U+FFFD */

/*
 * The length of the valid UTF-8 sequence at s (at most n bytes): 1 to
 * 4, or 0 if it is not valid (overlong forms, surrogates and code
 * points past U+10FFFF are not, RFC 3629 §4).
 */
size_t
utf8_seqlen(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

int
html_escape(struct buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	const char *rep;
	size_t i = 0, run = 0, len;

	/* Runs of bytes that need nothing are appended at once. */
	while (i + run < n) {
		const unsigned char c = p[i + run];

		rep = NULL;
		len = 1;
		switch (c) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		case '\t':
		case '\n':
		case '\r':
			break;
		default:
			if (c < 0x20 || c == 0x7f)
				rep = REPLACEMENT;
			else if (c >= 0x80 && (len = utf8_seqlen(p + i + run,
			    n - i - run)) == 0) {
				rep = REPLACEMENT;
				len = 1;
			}
			break;
		}
		if (rep == NULL) {
			run += len;
			continue;
		}
		if (buf_append(b, p + i, run) == -1 || buf_puts(b, rep) == -1)
			return -1;
		i += run + len;
		run = 0;
	}
	return buf_append(b, p + i, run);
}

int
html_escape_str(struct buf *b, const char *s)
{
	return html_escape(b, s, strlen(s));
}

/* The schemes that become links; nothing else ever does. */
static const struct {
	const char	*prefix;
	size_t		 len;
} link_schemes[] = {
	{ "http://",	7 },
	{ "https://",	8 },
	{ "mailto:",	7 },
};

/* The length of the scheme prefix of a link at s, or 0. */
static size_t
link_scheme(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(link_schemes) / sizeof(link_schemes[0]); i++)
		if (n > link_schemes[i].len &&
		    strncasecmp(s, link_schemes[i].prefix,
		    link_schemes[i].len) == 0)
			return link_schemes[i].len;
	return 0;
}

static int
isalnum_ascii(unsigned char c)
{
	return (c >= '0' && c <= '9') ||
	    ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* Bytes that end a URL in running text. */
static int
url_end(unsigned char c)
{
	return c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '"' ||
	    c == '`';
}

/*
 * The length of the URL at s, whose scheme prefix is plen long: up to
 * a blank or a delimiter, less trailing punctuation that more likely
 * ends the sentence ("see https://a.example/x." or "(https://a.example)").
 * 0 if nothing is left after the scheme.
 */
static size_t
link_len(const char *s, size_t n, size_t plen)
{
	size_t len = plen, i;
	int open;

	while (len < n && !url_end((unsigned char)s[len]))
		len++;
	while (len > plen) {
		const char c = s[len - 1];

		if (strchr(".,;:!?'*", c) != NULL) {
			len--;
			continue;
		}
		if (c == ')' || c == ']' || c == '}') {
			const char o = c == ')' ? '(' : c == ']' ? '[' : '{';

			/* Keep a closing bracket the URL itself opened
			 * (https://en.wikipedia.org/wiki/C_(language)). */
			for (open = 0, i = plen; i < len - 1; i++) {
				if (s[i] == o)
					open++;
				else if (s[i] == c)
					open--;
			}
			if (open <= 0) {
				len--;
				continue;
			}
		}
		break;
	}
	return len > plen ? len : 0;
}

int
text_to_html(struct buf *b, const char *text, size_t n)
{
	size_t i = 0, start = 0, plen, len;

	while (i < n) {
		/* A link starts a word: "xhttp://" is not one. */
		if ((i == 0 || !isalnum_ascii((unsigned char)text[i - 1])) &&
		    (plen = link_scheme(text + i, n - i)) > 0 &&
		    (len = link_len(text + i, n - i, plen)) > 0) {
			if (html_escape(b, text + start, i - start) == -1 ||
			    buf_puts(b, "<a href=\"") == -1 ||
			    html_escape(b, text + i, len) == -1 ||
			    buf_puts(b, "\" rel=\"noopener noreferrer\" "
			    "target=\"_blank\">") == -1 ||
			    html_escape(b, text + i, len) == -1 ||
			    buf_puts(b, "</a>") == -1)
				return -1;
			i += len;
			start = i;
			continue;
		}
		i++;
	}
	return html_escape(b, text + start, n - start);
}
