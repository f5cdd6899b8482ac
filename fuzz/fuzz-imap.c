/* libFuzzer target: the IMAP command parser, sequence sets and dates
 * (imapd/parse.c, imapd/seqset.c).  The input is split at LF into
 * lines; when the parser asks for a literal, the octets that follow are
 * handed over, as the session would.  Results are checked, not just
 * survived: the argument tree, seqset order, date and string round
 * trips. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../imapd/imapd.h"
#include "fuzz.h"

#define FUZZ_MAX_COMMAND	4096

static void
check(int cond)
{
	if (!cond)
		__builtin_trap();
}

/* imap_put_string's output must parse back to the same octets. */
static void
check_string_round_trip(const char *s, size_t len)
{
	struct imap_parser *p;
	const struct imap_arg *a;
	struct buf out, cmd;
	const char *why, *nl;
	size_t lit, n;
	int sync;

	buf_init(&out, 0);
	buf_init(&cmd, 0);
	imap_put_string(&out, s, len);
	p = imap_parser_new(2 * len + 64);
	buf_puts(&cmd, "t X ");
	if (out.data[0] == '"') {
		buf_append(&cmd, out.data, out.len);
		check(imap_parser_line(p, cmd.data, cmd.len, &lit, &sync,
		    &why) == IMAP_PARSE_DONE);
	} else {
		nl = memchr(out.data, '\n', out.len);
		check(out.data[0] == '{' && nl != NULL);
		buf_append(&cmd, out.data, nl - 1 - out.data);
		check(imap_parser_line(p, cmd.data, cmd.len, &lit, &sync,
		    &why) == IMAP_PARSE_LITERAL && lit == len);
		imap_parser_literal(p, nl + 1, len);
		check(imap_parser_line(p, "", 0, &lit, &sync, &why) ==
		    IMAP_PARSE_DONE);
	}
	a = imap_parser_args(p, &n);
	check(n == 1 && a[0].len == len && memcmp(a[0].str, s, len) == 0);
	imap_parser_free(&p);
	buf_release(&out);
	buf_release(&cmd);
}

static void
check_seqset(const char *s)
{
	struct seqset set;
	size_t i;

	if (seqset_parse(s, 1000, &set) == -1) {
		check(set.r == NULL && set.n == 0);
		return;
	}
	for (i = 0; i < set.n; i++) {
		check(set.r[i].lo >= 1 && set.r[i].lo <= set.r[i].hi);
		/* sorted and merged: a gap between neighbours */
		check(i == 0 || set.r[i].lo > set.r[i - 1].hi + 1);
		check(seqset_contains(&set, set.r[i].lo) &&
		    seqset_contains(&set, set.r[i].hi));
		check(!seqset_contains(&set, set.r[i].lo - 1));
	}
	seqset_free(&set);
}

static void
check_dates(const char *s)
{
	char out[32];
	int64_t t;

	if ((t = imap_parse_datetime(s)) != -1 && t >= 0 &&
	    t < 253402300800LL) {
		imap_format_datetime(t, out);
		check(imap_parse_datetime(out) == t);
	}
	if ((t = imap_parse_date(s)) != -1)
		check(t % 86400 == 0);
}

/* Walk what the parser built; check it and feed it to the helpers. */
static void
check_args(const struct imap_arg *a, size_t n, size_t depth, size_t *count)
{
	const char *s;
	uint64_t num;
	size_t i;

	check(depth <= IMAP_MAX_DEPTH);
	for (i = 0; i < n; i++, (*count)++) {
		if (a[i].type == IMAP_ARG_LIST) {
			check(a[i].str == NULL);
			check_args(a[i].list, a[i].nlist, depth + 1, count);
			continue;
		}
		check(a[i].str != NULL);
		if (a[i].type == IMAP_ARG_LITERAL_FILE)
			continue;
		check(a[i].str[a[i].len] == '\0');
		if (a[i].type != IMAP_ARG_LITERAL)
			check(strlen(a[i].str) == a[i].len);
		if ((s = imap_arg_astring(&a[i])) != NULL)
			check(strlen(s) == a[i].len);
		if (imap_arg_number(&a[i], UINT32_MAX, &num) == 0)
			check(num <= UINT32_MAX);
		(void)imap_arg_is_nil(&a[i]);
		if (a[i].type == IMAP_ARG_ATOM)
			check_seqset(a[i].str);
		else if (a[i].len < 64)
			check_dates(a[i].str);
		if (a[i].len < 300)
			check_string_round_trip(a[i].str, a[i].len);
	}
}

static void
command_done(struct imap_parser *p)
{
	const struct imap_arg *a;
	size_t n, count = 0;

	check(imap_parser_tag(p) != NULL && imap_parser_command(p) != NULL);
	a = imap_parser_args(p, &n);
	check_args(a, n, 0, &count);
	check(count <= IMAP_MAX_ARGS);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_parser *p;
	const char *d = (const char *)data, *nl, *why;
	size_t off = 0, len, lit;
	char s[128];
	int sync;

	if (size > 65536)
		return 0;
	p = imap_parser_new(FUZZ_MAX_COMMAND);
	while (off < size) {
		nl = memchr(d + off, '\n', size - off);
		len = (nl != NULL ? (size_t)(nl - d) : size) - off;
		switch (imap_parser_line(p, d + off,
		    len > 0 && d[off + len - 1] == '\r' ? len - 1 : len,
		    &lit, &sync, &why)) {
		case IMAP_PARSE_DONE:
			command_done(p);
			break;
		case IMAP_PARSE_BAD:
			check(why != NULL);
			imap_parser_reset(p);
			break;
		case IMAP_PARSE_LITERAL:
			off += len + (nl != NULL);
			if (lit > size - off) {	/* as APPEND would */
				imap_parser_literal_file(p, "/tmp/x", lit);
				continue;
			}
			imap_parser_literal(p, d + off, lit);
			off += lit;
			continue;
		}
		off += len + (nl != NULL);
	}
	imap_parser_free(&p);

	len = size < sizeof(s) ? size : sizeof(s) - 1;
	memcpy(s, data, len);
	s[len] = '\0';
	check_seqset(s);
	check_dates(s);
	return 0;
}
