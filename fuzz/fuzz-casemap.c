/* libFuzzer target: i;unicode-casemap (lib/casemap.c), which folds every
 * search needle and every text SEARCH reads.  What must hold of any
 * octets: the form is bounded, the same each time, valid UTF-8 when the
 * input is, and an ASCII octet cuts it in two (the NFKD filter is
 * flushed before one), so the forms of the two halves make the whole. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <unistr.h>

#include "../lib/casemap.h"
#include "fuzz.h"

#define BOUND(n)	((n) * CASEMAP_GROWTH + CASEMAP_SLACK)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char *f, *g, *a, *b;
	size_t n, m, na, nb, cut;

	if (size > 4096)
		return 0;
	f = casemap_fold_n(s, size, &n);
	if (n > BOUND(size) || f[n] != '\0')
		abort();
	g = casemap_fold_n(s, size, &m);
	if (m != n || memcmp(f, g, n) != 0)
		abort();
	if (u8_check(data, size) == NULL &&
	    u8_check((const uint8_t *)f, n) != NULL)
		abort();
	for (cut = size / 2; cut < size && data[cut] >= 0x80; cut++)
		;
	if (cut < size) {
		a = casemap_fold_n(s, cut, &na);
		b = casemap_fold_n(s + cut, size - cut, &nb);
		if (na < BOUND(cut) - 64 && nb < BOUND(size - cut) - 64 &&
		    n < BOUND(size) - 64 && (na + nb != n ||
		    memcmp(f, a, na) != 0 || memcmp(f + na, b, nb) != 0))
			abort();
		free(a);
		free(b);
	}
	free(f);
	free(g);
	return 0;
}
