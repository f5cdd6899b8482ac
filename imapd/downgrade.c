/*
 * downgrade.c: the strings of ENVELOPE and BODYSTRUCTURE for a session
 * that did not ENABLE UTF8=ACCEPT (RFC 6855 §7 and §8: what goes over
 * the wire to it follows RFC 3501 and RFC 5322, so no 8-bit octets).
 * A string that holds 8-bit octets is given as RFC 2047 encoded-words,
 * charset UTF-8 (UNKNOWN-8BIT, RFC 1428, when it is not UTF-8: old mail
 * with raw Latin-1 headers), base64; an all-ASCII one as it is.
 */
#include <string.h>

#include <glib.h>

#include "imapd.h"

/* RFC 2047 §2: an encoded-word is at most 75 octets. */
#define EW_MAX		75

int
imap_8bit(const char *s)
{
	const unsigned char *p;

	/* The one scan all-ASCII strings pay. */
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p >= 0x80)
			return 1;
	return 0;
}

/*
 * s as encoded-words separated by single spaces (which a decoder drops
 * between adjacent encoded-words, RFC 2047 §6.2), each at most EW_MAX
 * octets and, for UTF-8, holding whole characters only (§5).
 */
void
imap_encoded_words(struct buf *b, const char *s)
{
	imap_encoded_words_fit(b, s, EW_MAX);
}

/* The same, the first word at most first octets (IMAP_EW_MIN at least:
 * the rest of a header line, RFC 2047 §2's 76). */
void
imap_encoded_words_fit(struct buf *b, const char *s, size_t first)
{
	const char *charset;
	char *b64;
	size_t len = strlen(s), max, n, pos = 0;
	int utf8;

	utf8 = g_utf8_validate(s, (gssize)len, NULL);
	charset = utf8 ? "UTF-8" : "UNKNOWN-8BIT";
	if (first < IMAP_EW_MIN || first > EW_MAX)
		first = EW_MAX;
	while (pos < len) {
		/* "=?" charset "?B?" text "?=": 4 text octets carry 3. */
		max = ((pos == 0 ? first : EW_MAX) - strlen(charset) - 7) / 4 *
		    3;
		n = len - pos < max ? len - pos : max;
		if (utf8)
			while (pos + n < len &&
			    ((unsigned char)s[pos + n] & 0xc0) == 0x80)
				n--;	/* not within a character */
		if (pos > 0)
			buf_putc(b, ' ');
		b64 = g_base64_encode((const guchar *)s + pos, n);
		buf_printf(b, "=?%s?B?%s?=", charset, b64);
		g_free(b64);
		pos += n;
	}
}

void
imap_put_nstring_7bit(struct buf *b, const char *s)
{
	struct buf ew;

	if (s == NULL || !imap_8bit(s)) {
		imap_put_nstring(b, s);
		return;
	}
	buf_init(&ew, 0);
	imap_encoded_words(&ew, s);
	imap_put_string(b, ew.data, ew.len);
	buf_release(&ew);
}
