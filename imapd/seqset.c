/*
 * seqset.c: sequence sets (RFC 3501 §9 sequence-set), parsed into
 * sorted, merged ranges with '*' resolved.
 */
#include <stdlib.h>
#include <string.h>

#include "../lib/log.h"
#include "imapd.h"

/* seq-number = nz-number / "*" (RFC 3501 §9); advances *s. */
static int
seq_number(const char **s, uint32_t star, uint32_t *n)
{
	uint64_t v = 0;
	const char *p = *s;

	if (*p == '*') {
		*n = star;
		*s = p + 1;
		return 0;
	}
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v > UINT32_MAX)
			return -1;
	}
	if (p == *s || v == 0)
		return -1;
	*n = v;
	*s = p;
	return 0;
}

static void
range_add(struct seqset *set, size_t *cap, uint32_t a, uint32_t b)
{
	struct seq_range *r;

	if (a > b) {		/* "5:3" is 3:5 (RFC 3501 §9 seq-range) */
		uint32_t t = a;

		a = b;
		b = t;
	}
	if (a == 0)		/* '*' of an empty mailbox */
		a = 1;
	if (b == 0)
		return;
	if (set->n == *cap) {
		*cap = *cap == 0 ? 4 : *cap * 2;
		if ((r = reallocarray(set->r, *cap, sizeof(*r))) == NULL)
			fatal("reallocarray");
		set->r = r;
	}
	set->r[set->n].lo = a;
	set->r[set->n].hi = b;
	set->n++;
}

static int
range_cmp(const void *a, const void *b)
{
	const struct seq_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sort and merge overlapping or adjacent ranges. */
static void
seqset_normalize(struct seqset *set)
{
	size_t i, n = 0;

	if (set->n == 0)
		return;
	qsort(set->r, set->n, sizeof(*set->r), range_cmp);
	for (i = 1; i < set->n; i++) {
		if (set->r[i].lo - 1 <= set->r[n].hi) {
			if (set->r[i].hi > set->r[n].hi)
				set->r[n].hi = set->r[i].hi;
		} else
			set->r[++n] = set->r[i];
	}
	set->n = n + 1;
}

int
seqset_parse(const char *s, uint32_t star, struct seqset *set)
{
	uint32_t a, b;
	size_t cap = 0;

	set->r = NULL;
	set->n = 0;
	for (;;) {
		if (seq_number(&s, star, &a) == -1)
			goto bad;
		b = a;
		if (*s == ':') {
			s++;
			if (seq_number(&s, star, &b) == -1)
				goto bad;
		}
		range_add(set, &cap, a, b);
		if (*s == '\0')
			break;
		if (*s++ != ',')
			goto bad;
	}
	seqset_normalize(set);
	return 0;
 bad:
	seqset_free(set);
	return -1;
}

void
seqset_free(struct seqset *set)
{
	free(set->r);
	set->r = NULL;
	set->n = 0;
}

int
seqset_contains(const struct seqset *set, uint32_t n)
{
	size_t lo = 0, hi = set->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (n < set->r[mid].lo)
			hi = mid;
		else if (n > set->r[mid].hi)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

void
seqset_format(struct buf *b, const uint32_t *nums, size_t n)
{
	size_t i = 0, j;

	while (i < n) {
		/* The run nums[i..j], skipping duplicates. */
		for (j = i; j + 1 < n && (nums[j + 1] == nums[j] ||
		    (nums[j] < UINT32_MAX && nums[j + 1] == nums[j] + 1)); j++)
			;
		if (i > 0)
			buf_putc(b, ',');
		if (nums[j] == nums[i])
			buf_printf(b, "%u", nums[i]);
		else
			buf_printf(b, "%u:%u", nums[i], nums[j]);
		i = j + 1;
	}
}
