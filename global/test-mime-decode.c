/*
 * Unit tests for mime_decode.c: each encoding decoded whole, then fed
 * in pieces of every size down to one octet, must give the same
 * octets; line ends as RFC 3516 §4.3 wants them.
 */
#include <stdlib.h>
#include <string.h>

#include "../t/tap.h"
#include "mime.h"

/* in decoded with pieces of step octets (0: all at once). */
static char *
decode(enum mime_cte cte, int text, const char *in, size_t step,
    size_t *len)
{
	struct mime_decoder *d = mime_decoder_new(cte, text);
	size_t n = strlen(in), i, k;
	char *out = calloc(1, mime_decoder_outmax(n) + mime_decoder_outmax(0)
	    + n * 2 + 64);

	*len = 0;
	if (d == NULL || out == NULL) {
		free(out);
		mime_decoder_free(&d);
		return NULL;
	}
	for (i = 0; i < n; i += k) {
		k = step == 0 || step > n - i ? n - i : step;
		*len += mime_decoder_step(d, in + i, k, out + *len);
	}
	*len += mime_decoder_finish(d, out + *len);
	mime_decoder_free(&d);
	return out;
}

static void
check(const char *what, enum mime_cte cte, int text, const char *in,
    const char *want, size_t wantlen)
{
	size_t step, len;
	char *out;
	int good = 1;

	for (step = 0; step <= 9; step++) {
		out = decode(cte, text, in, step, &len);
		if (out == NULL || len != wantlen ||
		    memcmp(out, want, len) != 0)
			good = 0;
		free(out);
	}
	ok(good, "%s: whole and in pieces of 1 to 9 octets", what);
}

int
main(void)
{
	struct mime_decoder *d;

	ok(mime_cte_parse(NULL) == MIME_CTE_7BIT, "no field: 7bit");
	ok(mime_cte_parse(" BASE64 ") == MIME_CTE_BASE64 &&
	    mime_cte_parse("Quoted-Printable") == MIME_CTE_QP &&
	    mime_cte_parse("8bit (comment)") == MIME_CTE_8BIT &&
	    mime_cte_parse("binary") == MIME_CTE_BINARY,
	    "names in any case, comments after");
	ok(mime_cte_parse("x-uuencode") == MIME_CTE_UNKNOWN &&
	    mime_cte_parse("base64x") == MIME_CTE_UNKNOWN,
	    "anything else is unknown");
	d = mime_decoder_new(MIME_CTE_UNKNOWN, 0);
	ok(d == NULL, "no decoder for an unknown encoding");

	check("base64 of binary", MIME_CTE_BASE64, 0,
	    "AAEC/wAK\r\nDQ==\r\n", "\0\1\2\377\0\n\r", 7);
	check("base64 of text gets CRLF", MIME_CTE_BASE64, 1,
	    "YQpiDQpj\n", "a\r\nb\r\nc", 7);
	check("quoted-printable, soft breaks and =XX", MIME_CTE_QP, 1,
	    "caf=C3=A9 long=\r\nline\nnext=3D\r\n", "caf\303\251 longline"
	    "\r\nnext=\r\n", 23);
	check("7bit: LF becomes CRLF", MIME_CTE_7BIT, 0, "a\nb\r\nc",
	    "a\r\nb\r\nc", 7);
	check("binary: as it is", MIME_CTE_BINARY, 0, "a\nb\rc\r\n",
	    "a\nb\rc\r\n", 7);
	return done_testing();
}
