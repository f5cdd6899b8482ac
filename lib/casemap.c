/*
 * i;unicode-casemap (RFC 5051 §2): see casemap.h.
 *
 * One pass over the octets.  An ASCII run is upper-cased straight into
 * the output; any other character goes through uc_totitle() into
 * libunistring's NFKD filter, which reorders combining marks as NFKD
 * wants and hands each character on when it is final.  An ASCII
 * character is a starter that decomposes to itself, so the filter is
 * flushed before one and nothing it holds can belong after it; the same
 * before an octet that is not UTF-8, which is copied as it is.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <unicase.h>
#include <uninorm.h>
#include <unistr.h>

#include "buf.h"
#include "casemap.h"
#include "log.h"
#include "util.h"

struct cm_out {
	struct buf	 b;
	int		 full;		/* a character did not fit: cut here */
};

/* What the NFKD filter gives: each character whole, or nothing more. */
static int
cm_put(void *arg, ucs4_t uc)
{
	struct cm_out *o = arg;
	uint8_t u[6];
	int n;

	if (o->full || (n = u8_uctomb(u, uc, sizeof(u))) <= 0)
		return 0;
	if (buf_append(&o->b, u, (size_t)n) == -1)
		o->full = 1;
	return 0;
}

static void
cm_flush(struct uninorm_filter *f)
{
	if (f != NULL && uninorm_filter_flush(f) == -1)
		fatal("uninorm_filter_flush");
}

/* Octets [p, end) onto the output, as many as fit, a-z upper-cased. */
static void
cm_octets(struct cm_out *o, const uint8_t *p, const uint8_t *end)
{
	size_t n = (size_t)(end - p), room = o->b.max - o->b.len, i;
	char *d;

	if (n > room) {
		n = room;
		o->full = 1;
	}
	if (n == 0 || buf_append(&o->b, p, n) == -1)
		return;
	d = o->b.data + o->b.len - n;
	for (i = 0; i < n; i++)
		if (d[i] >= 'a' && d[i] <= 'z')
			d[i] -= 'a' - 'A';
}

char *
casemap_fold_n(const char *s, size_t len, size_t *outlen)
{
	const uint8_t *p = (const uint8_t *)s, *end = p + len, *q;
	struct uninorm_filter *f = NULL;
	struct cm_out o;
	ucs4_t uc;
	int n;

	buf_init(&o.b, len > (SIZE_MAX / 2 - CASEMAP_SLACK) / CASEMAP_GROWTH ?
	    SIZE_MAX / 2 : len * CASEMAP_GROWTH + CASEMAP_SLACK);
	o.full = 0;
	while (p < end && !o.full) {
		if (*p < 0x80) {
			for (q = p; q < end && *q < 0x80; q++)
				;
			cm_flush(f);
			cm_octets(&o, p, q);
			p = q;
			continue;
		}
		if ((n = u8_mbtoucr(&uc, p, (size_t)(end - p))) < 0) {
			cm_flush(f);		/* not UTF-8: the octet itself */
			cm_octets(&o, p, p + 1);
			p++;
			continue;
		}
		/* RFC 5051 §2 step 2: titlecase, then decompose (NFKD) */
		if (f == NULL && (f = uninorm_filter_create(UNINORM_NFKD,
		    cm_put, &o)) == NULL)
			fatal("uninorm_filter_create");
		if (uninorm_filter_write(f, uc_totitle(uc)) == -1)
			fatal("uninorm_filter_write");
		p += n;
	}
	if (f != NULL) {
		cm_flush(f);
		uninorm_filter_free(f);
	}
	if (outlen != NULL)
		*outlen = o.b.len;
	return buf_take(&o.b);
}

char *
casemap_fold(const char *s)
{
	return casemap_fold_n(s, strlen(s), NULL);
}

/* ---- the comparators of RFC 5255 §4.7 ---- */

static const char *const cmp_names[CMP_COUNT] = {
	[CMP_UNICODE_CASEMAP] = "i;unicode-casemap",	/* RFC 5051 */
	[CMP_ASCII_CASEMAP] = "i;ascii-casemap",	/* RFC 4790 §9.2 */
	[CMP_OCTET] = "i;octet",			/* RFC 4790 §9.3 */
};

const char *
comparator_name(enum comparator c)
{
	return (unsigned int)c < CMP_COUNT ? cmp_names[c] : cmp_names[0];
}

static int
cmp_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Glob of p against n, '*' any run: iterative, one backtrack point, so
 * a pattern of many '*' costs len(p) * len(n) at worst. */
static int
cmp_glob(const char *p, const char *n)
{
	const char *star = NULL, *mark = NULL;

	while (*n != '\0') {
		if (*p == '*') {
			star = p++;
			mark = n;
		} else if (*p != '\0' && cmp_lower((unsigned char)*p) ==
		    cmp_lower((unsigned char)*n)) {
			p++;
			n++;
		} else if (star != NULL) {
			p = star + 1;
			n = ++mark;
		} else
			return 0;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

int
comparator_match(const char *pattern, enum comparator c)
{
	if ((unsigned int)c >= CMP_COUNT ||
	    strlen(pattern) > COMPARATOR_PATTERN_MAX)
		return 0;
	return cmp_glob(pattern, cmp_names[c]);
}

char *
comparator_fold_n(enum comparator c, const char *s, size_t len,
    size_t *outlen)
{
	char *d;
	size_t i;

	if (c == CMP_UNICODE_CASEMAP || (unsigned int)c >= CMP_COUNT)
		return casemap_fold_n(s, len, outlen);
	d = util_reallocarray(NULL, len + 1, 1);
	memcpy(d, s, len);
	d[len] = '\0';
	if (c == CMP_ASCII_CASEMAP)
		for (i = 0; i < len; i++)
			if (d[i] >= 'a' && d[i] <= 'z')
				d[i] -= 'a' - 'A';
	if (outlen != NULL)
		*outlen = len;
	return d;
}

char *
comparator_fold(enum comparator c, const char *s)
{
	return comparator_fold_n(c, s, strlen(s), NULL);
}
