/*
 * COMPARATOR (RFC 5255 §4.7, I18NLEVEL=2): which comparator the
 * session's SEARCH (the string keys BCC, BODY, CC, FROM, SUBJECT, TEXT,
 * TO and HEADER's value), SORT (CC, FROM, SUBJECT, TO, and SORT=DISPLAY's
 * DISPLAYFROM and DISPLAYTO) and THREAD (the base subjects) compare
 * strings with (§4.2).  Three are offered (lib/casemap.h):
 * i;unicode-casemap, the default, i;ascii-casemap and i;octet.
 *
 *	COMPARATOR			-> * COMPARATOR <active>
 *	COMPARATOR "cz;*" i;*	-> the first argument that names one of
 *					   ours decides; * COMPARATOR <it>
 *					   (<all that matched>) (§4.8)
 *	COMPARATOR "cz;*"		-> NO [BADCOMPARATOR] (§4.9)
 *
 * Each argument is a collation name in which '*' stands for any run of
 * characters (RFC 4790 §3.2), or "default" (§4.7).  Where one argument
 * matches several of ours, ours are taken in the order above.
 */
#include <string.h>
#include <strings.h>

#include "../lib/casemap.h"
#include "sort.h"

/* Arguments of one COMPARATOR: no client needs more than a few. */
#define COMPARATOR_MAX_ARGS	32

int
cmd_comparator(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	const char *name[COMPARATOR_MAX_ARGS];
	int matched[CMP_COUNT] = { 0 }, chosen = -1, nmatched = 0, c;
	size_t i;
	struct buf *b;

	if (nargs == 0) {
		imap_untagged(s, "COMPARATOR %s",
		    comparator_name(s->comparator));
		imap_tagged(s, "OK COMPARATOR completed");
		return 0;
	}
	if (nargs > COMPARATOR_MAX_ARGS) {
		imap_tagged(s, "BAD Too many comparators (at most %d)",
		    COMPARATOR_MAX_ARGS);
		return -1;
	}
	for (i = 0; i < nargs; i++) {
		if ((name[i] = imap_arg_astring(&args[i])) == NULL ||
		    name[i][0] == '\0') {
			imap_tagged(s, "BAD Invalid comparator name");
			return -1;
		}
		if (strlen(name[i]) > COMPARATOR_PATTERN_MAX) {
			imap_tagged(s, "BAD Comparator name too long");
			return -1;
		}
	}
	for (i = 0; i < nargs; i++)
		for (c = 0; c < CMP_COUNT; c++) {
			/* §4.7: "default" is the server's default */
			if (strcasecmp(name[i], "default") == 0 ?
			    c != CMP_DEFAULT : !comparator_match(name[i], c))
				continue;
			if (chosen == -1)
				chosen = c;	/* the first argument wins */
			if (!matched[c]++)
				nmatched++;
		}
	if (chosen == -1) {
		imap_tagged(s, "NO [BADCOMPARATOR] No such comparator");
		return 0;
	}
	s->comparator = chosen;
	b = imap_out(s);
	buf_printf(b, "* COMPARATOR %s", comparator_name(chosen));
	/* §4.8: the list only when more than one matched */
	if (nmatched > 1) {
		buf_puts(b, " (");
		for (c = 0, i = 0; c < CMP_COUNT; c++)
			if (matched[c])
				buf_printf(b, "%s%s", i++ ? " " : "",
				    comparator_name(c));
		buf_puts(b, ")");
	}
	buf_puts(b, "\r\n");
	imap_out_done(s);
	imap_tagged(s, "OK Will use %s for collation",
	    comparator_name(chosen));
	return 0;
}
