/*
 * What context.c and search.c do for search contexts without a session:
 * PARTIAL ranges (RFC 5267 §4.4, RFC 9394 §3.1, §4) parsed, sliced and
 * written; results in sort order as sequence-sets (RFC 5267 §3.2); the
 * message numbers of a kept search turned into the UIDs they named.
 */
#include <stdlib.h>
#include <string.h>

#include "../lib/buf.h"
#include "context.h"
#include "../t/tap.h"

static int
parse(const char *text, struct return_partial *p)
{
	struct imap_arg a;

	memset(&a, 0, sizeof(a));
	a.type = IMAP_ARG_ATOM;
	a.str = (char *)text;
	a.len = strlen(text);
	return partial_parse(&a, p);
}

/* The slice of n results that text names, as "from-to". */
static const char *
slice(const char *text, size_t n)
{
	static char out[64];
	struct return_partial p;
	size_t from, to;

	if (parse(text, &p) == -1)
		return "bad";
	partial_slice(&p, n, &from, &to);
	snprintf(out, sizeof(out), "%zu-%zu", from, to);
	return out;
}

static const char *
put(const char *text, const uint32_t *nums, size_t n, int ordered)
{
	static char out[256];
	struct return_partial p;
	struct buf *b = buf_new(0);

	if (parse(text, &p) == -1) {
		buf_free(&b);
		return "bad";
	}
	partial_put(b, &p, nums, n, ordered);
	snprintf(out, sizeof(out), "%s", b->data);
	buf_free(&b);
	return out;
}

static uint32_t
ten_times(uint32_t seq, void *arg)
{
	(void)arg;
	return seq * 10;
}

static int
matches(const struct search_key *k, uint32_t seq, uint32_t uid)
{
	struct search_msg m;

	memset(&m, 0, sizeof(m));
	m.seq = seq;
	m.uid = uid;
	m.keywords = "";
	return search_match(k, &m);
}

int
main(void)
{
	static const char *bad[] = {
		"", "1", "1:", ":5", "0:5", "1:0", "-0:-5", "1:*", "*:5",
		"-1:5", "1:-5", "1:2:3", "1:5 ", " 1:5", "+1:5", "1:99999999999",
		"4294967296:1", "--1:-5", "1,5", "a:b", "1:5a", "-:-5",
	};
	struct return_partial p;
	struct imap_arg a;
	struct search_key *k;
	const char *why;
	struct buf *b;
	uint32_t nums[] = { 5, 6, 7, 1, 3, 9, 10, 11, 2 };
	uint32_t asc[] = { 2, 3, 4, 8, 10 };
	size_t i;

	/* ---- partial_parse ---- */
	ok(parse("1:500", &p) == 0 && p.first == 1 && p.last == 500,
	    "1:500");
	ok(parse("500:400", &p) == 0 && p.first == 500 && p.last == 400,
	    "500:400 kept as given");
	ok(parse("-1:-100", &p) == 0 && p.first == -1 && p.last == -100,
	    "-1:-100 (RFC 9394)");
	ok(parse("4294967295:4294967295", &p) == 0 &&
	    p.first == 4294967295LL, "the largest nz-number");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(parse(bad[i], &p) == -1, "\"%s\" refused", bad[i]);
	memset(&a, 0, sizeof(a));
	a.type = IMAP_ARG_STRING;
	a.str = (char *)"1:5";
	ok(partial_parse(&a, &p) == -1, "a quoted string refused");

	/* ---- partial_slice: [from, to) of n ---- */
	ok(strcmp(slice("1:5", 10), "0-5") == 0, "1:5 of 10");
	ok(strcmp(slice("5:1", 10), "0-5") == 0, "5:1 is 1:5");
	ok(strcmp(slice("8:20", 10), "7-10") == 0, "8:20 of 10: 3");
	ok(strcmp(slice("10:10", 10), "9-10") == 0, "10:10 of 10: the last");
	ok(strcmp(slice("11:20", 10), "0-0") == 0, "11:20 of 10: none");
	ok(strcmp(slice("1:5", 0), "0-0") == 0, "1:5 of none: none");
	ok(strcmp(slice("-1:-1", 10), "9-10") == 0, "-1:-1: the last");
	ok(strcmp(slice("-1:-3", 10), "7-10") == 0, "-1:-3: the last 3");
	ok(strcmp(slice("-3:-1", 10), "7-10") == 0, "-3:-1 is -1:-3");
	ok(strcmp(slice("-5:-20", 10), "0-6") == 0, "-5:-20 of 10: 1st-6th");
	ok(strcmp(slice("-11:-20", 10), "0-0") == 0, "-11:-20 of 10: none");
	ok(strcmp(slice("-1:-5", 0), "0-0") == 0, "-1:-5 of none: none");
	ok(strcmp(slice("1:4294967295", 3), "0-3") == 0, "1:max of 3: all");
	ok(strcmp(slice("-1:-4294967295", 3), "0-3") == 0,
	    "-1:-max of 3: all");

	/* ---- partial_put: the range as given, the set or NIL ---- */
	ok(strcmp(put("1:3", asc, 5, 0), " PARTIAL (1:3 2:4)") == 0,
	    "a SEARCH's page as a set: %s", put("1:3", asc, 5, 0));
	ok(strcmp(put("-2:-1", asc, 5, 0), " PARTIAL (-2:-1 8,10)") == 0,
	    "from the end: %s", put("-2:-1", asc, 5, 0));
	ok(strcmp(put("6:9", asc, 5, 0), " PARTIAL (6:9 NIL)") == 0,
	    "past the end: NIL");
	ok(strcmp(put("1:5", asc, 0, 0), " PARTIAL (1:5 NIL)") == 0,
	    "no results: NIL");
	ok(strcmp(put("2:7", nums, 9, 1), " PARTIAL (2:7 6:7,1,3,9:10)") ==
	    0, "a SORT's page in sort order: %s", put("2:7", nums, 9, 1));

	/* ---- results in sort order (RFC 5267 §3.2) ---- */
	b = buf_new(0);
	context_put_ordered(b, nums, 9);
	ok(strcmp(b->data, "5:7,1,3,9:11,2") == 0,
	    "ascending runs as ranges only: %s", b->data);
	buf_reset(b);
	{
		uint32_t down[] = { 23765, 23764, 23763, 23761 };

		context_put_ordered(b, down, 4);
		ok(strcmp(b->data, "23765,23764,23763,23761") == 0,
		    "RFC 5267 §3.3: a descending run number by number");
	}
	buf_free(&b);

	/* ---- message numbers of a kept search become UIDs ---- */
	memset(&a, 0, sizeof(a));
	a.type = IMAP_ARG_ATOM;
	a.str = (char *)"2:4,7,9:12";
	if ((k = search_parse(&a, 1, 10, 100, &why)) == NULL)
		diag("parse: %s", why);
	ok(k != NULL, "2:4,7,9:12 of 10 messages");
	if (k != NULL) {
		search_seqs_to_uids(k, 10, ten_times, NULL);
		/* the messages named keep matching whatever their number */
		ok(matches(k, 1, 20) == 1 && matches(k, 1, 40) == 1 &&
		    matches(k, 5, 70) == 1 && matches(k, 2, 90) == 1 &&
		    matches(k, 3, 100) == 1,
		    "the UIDs named match at any message number");
		ok(matches(k, 2, 50) == 0 && matches(k, 7, 80) == 0 &&
		    matches(k, 11, 110) == 0 && matches(k, 1, 10) == 0,
		    "others do not, nor a later arrival (11)");
		search_free(&k);
	}
	a.str = (char *)"11:20";
	if ((k = search_parse(&a, 1, 10, 100, &why)) != NULL) {
		search_seqs_to_uids(k, 10, ten_times, NULL);
		ok(matches(k, 11, 110) == 0 && matches(k, 1, 10) == 0,
		    "numbers past the last message name none");
		search_free(&k);
	} else
		ok(0, "11:20 parsed: %s", why);
	return done_testing();
}
