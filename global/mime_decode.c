/*
 * mime_decode.c: a body's Content-Transfer-Encoding undone piece by
 * piece (RFC 2045 §6), for IMAP BINARY (RFC 3516), so that a 50 MB
 * attachment is decoded in bounded memory.  GMime's state machines do
 * base64 and quoted-printable; the line ends of what comes out are
 * made CRLF where the content is line-oriented (RFC 3516 §4.3).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/log.h"
#include "../lib/util.h"
#include "mime_private.h"

struct mime_decoder {
	enum mime_cte	 cte;
	int		 crlf;		/* bare LF becomes CRLF */
	char		 prev;		/* last octet out, for crlf */
	GMimeEncoding	 state;
	char		*tmp;		/* decoded, before crlf */
	size_t		 tmpcap;
};

enum mime_cte
mime_cte_parse(const char *value)
{
	char word[32];
	size_t n;

	if (value == NULL)
		return MIME_CTE_7BIT;	/* RFC 2045 §6.1: the default */
	value += strspn(value, " \t");
	n = strcspn(value, " \t(;");
	if (n == 0)
		return MIME_CTE_7BIT;
	if (n >= sizeof(word))
		return MIME_CTE_UNKNOWN;
	memcpy(word, value, n);
	word[n] = '\0';
	if (strcasecmp(word, "7bit") == 0)
		return MIME_CTE_7BIT;
	if (strcasecmp(word, "8bit") == 0)
		return MIME_CTE_8BIT;
	if (strcasecmp(word, "binary") == 0)
		return MIME_CTE_BINARY;
	if (strcasecmp(word, "base64") == 0)
		return MIME_CTE_BASE64;
	if (strcasecmp(word, "quoted-printable") == 0)
		return MIME_CTE_QP;
	return MIME_CTE_UNKNOWN;
}

struct mime_decoder *
mime_decoder_new(enum mime_cte cte, int text)
{
	struct mime_decoder *d;

	if (cte == MIME_CTE_UNKNOWN)
		return NULL;
	mime_init();
	d = util_calloc(1, sizeof(*d));
	d->cte = cte;
	/* 7bit and 8bit are lines by definition (RFC 2045 §2.7, §2.8), and
	 * so are quoted-printable's hard line breaks (§6.7); binary and
	 * base64 content only when it is text. */
	d->crlf = text || cte == MIME_CTE_7BIT || cte == MIME_CTE_8BIT ||
	    cte == MIME_CTE_QP;
	if (cte == MIME_CTE_BASE64)
		g_mime_encoding_init_decode(&d->state,
		    GMIME_CONTENT_ENCODING_BASE64);
	else if (cte == MIME_CTE_QP)
		g_mime_encoding_init_decode(&d->state,
		    GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	return d;
}

void
mime_decoder_free(struct mime_decoder **d)
{
	if (*d == NULL)
		return;
	free((*d)->tmp);
	free(*d);
	*d = NULL;
}

size_t
mime_decoder_outmax(size_t n)
{
	/* Decoding never grows the text by more than a few octets of
	 * state (GMime's outlen); then room for a CR before every LF. */
	return 2 * (n + 16);
}

static size_t
decoder_run(struct mime_decoder *d, const char *in, size_t n, char *out,
    int last)
{
	size_t len, need;
	const char *src = in;

	if (d->cte == MIME_CTE_BASE64 || d->cte == MIME_CTE_QP) {
		need = g_mime_encoding_outlen(&d->state, n) + 16;
		if (d->tmpcap < need) {
			free(d->tmp);
			d->tmpcap = need;
			if ((d->tmp = malloc(d->tmpcap)) == NULL)
				fatal("malloc");
		}
		len = last ? g_mime_encoding_flush(&d->state, in, n, d->tmp) :
		    g_mime_encoding_step(&d->state, in, n, d->tmp);
		src = d->tmp;
	} else
		len = n;
	if (d->crlf)
		return mime_crlf_piece(src, len, out, &d->prev);
	if (len > 0)
		memmove(out, src, len);
	return len;
}

size_t
mime_decoder_step(struct mime_decoder *d, const char *in, size_t n,
    char *out)
{
	return decoder_run(d, in, n, out, 0);
}

size_t
mime_decoder_finish(struct mime_decoder *d, char *out)
{
	return decoder_run(d, "", 0, out, 1);
}
