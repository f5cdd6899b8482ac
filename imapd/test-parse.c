#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imapd.h"
#include "../t/tap.h"

#define MAXCMD	1024

static size_t	lit_len;
static int	lit_sync;
static const char *why;

/* Feed a line; a BAD is shown with its reason. */
static enum imap_parse_status
feed(struct imap_parser *p, const char *s, size_t len)
{
	enum imap_parse_status st;

	st = imap_parser_line(p, s, len, &lit_len, &lit_sync, &why);
	if (st == IMAP_PARSE_BAD)
		diag("BAD: %s", why);
	return st;
}

static enum imap_parse_status
line(struct imap_parser *p, const char *s)
{
	return feed(p, s, strlen(s));
}

/* Parse a one-line command from scratch. */
static enum imap_parse_status
cmd(struct imap_parser *p, const char *s)
{
	imap_parser_reset(p);
	return line(p, s);
}

static const struct imap_arg *
args(struct imap_parser *p, size_t *n)
{
	return imap_parser_args(p, n);
}

static int
is(const struct imap_arg *a, enum imap_arg_type type, const char *str)
{
	return a->type == type && a->len == strlen(str) &&
	    strcmp(a->str, str) == 0;
}

static void
test_simple(struct imap_parser *p)
{
	const struct imap_arg *a;
	size_t n;

	ok(cmd(p, "a1 noop") == IMAP_PARSE_DONE &&
	    strcmp(imap_parser_tag(p), "a1") == 0 &&
	    strcmp(imap_parser_command(p), "NOOP") == 0,
	    "tag and upper-cased command");
	a = args(p, &n);
	ok(n == 0, "no arguments");

	ok(cmd(p, "A2 LOGIN joe \"se\\\"c\\\\ret\"") == IMAP_PARSE_DONE,
	    "LOGIN with quoted escapes");
	a = args(p, &n);
	ok(n == 2 && is(&a[0], IMAP_ARG_ATOM, "joe") &&
	    is(&a[1], IMAP_ARG_STRING, "se\"c\\ret"), "escapes removed");
	ok(imap_arg_astring(&a[0]) != NULL && imap_arg_astring(&a[1]) != NULL,
	    "both are astrings");

	ok(cmd(p, "t] SELECT \"\" NIL \"caf\xc3\xa9\"") == IMAP_PARSE_DONE,
	    "']' in tag, empty and 8-bit quoted");
	a = args(p, &n);
	ok(n == 3 && is(&a[0], IMAP_ARG_STRING, "") && imap_arg_is_nil(&a[1]) &&
	    !imap_arg_is_nil(&a[0]) && is(&a[2], IMAP_ARG_STRING,
	    "caf\xc3\xa9"), "NIL is an atom, UTF-8 kept");

	ok(cmd(p, "a LIST \"\" *%") == IMAP_PARSE_DONE &&
	    is(&args(p, &n)[1], IMAP_ARG_ATOM, "*%"), "list wildcards in atom");
	ok(cmd(p, "a  NOOP") == IMAP_PARSE_BAD &&
	    strcmp(imap_parser_tag(p), "a") == 0, "two spaces after tag");
	ok(cmd(p, "a NOOP  x ") == IMAP_PARSE_DONE && args(p, &n) &&
	    n == 1, "extra spaces between arguments tolerated");
	ok(cmd(p, "a uid fetch 1:* (flags)") == IMAP_PARSE_DONE &&
	    strcmp(imap_parser_command(p), "UID") == 0 &&
	    imap_arg_atom_is(&args(p, &n)[0], "FETCH"), "UID FETCH");
}

static void
test_lists(struct imap_parser *p)
{
	const struct imap_arg *a;
	size_t n;

	ok(cmd(p, "a STORE 1 +FLAGS (\\Seen \\Deleted)") == IMAP_PARSE_DONE,
	    "STORE flag list");
	a = args(p, &n);
	ok(n == 3 && a[2].type == IMAP_ARG_LIST && a[2].nlist == 2 &&
	    is(&a[2].list[0], IMAP_ARG_ATOM, "\\Seen") &&
	    is(&a[2].list[1], IMAP_ARG_ATOM, "\\Deleted"), "flags in list");

	ok(cmd(p, "a X (a (b (c \"d\")) ()) e") == IMAP_PARSE_DONE,
	    "nested lists");
	a = args(p, &n);
	ok(n == 2 && a[0].nlist == 3 && a[0].list[1].nlist == 2 &&
	    a[0].list[1].list[1].nlist == 2 &&
	    is(&a[0].list[1].list[1].list[1], IMAP_ARG_STRING, "d") &&
	    a[0].list[2].type == IMAP_ARG_LIST && a[0].list[2].nlist == 0 &&
	    is(&a[1], IMAP_ARG_ATOM, "e"), "tree shape");

	ok(cmd(p, "a X (a b") == IMAP_PARSE_BAD &&
	    strcmp(why, "Missing )") == 0, "unclosed list");
	ok(cmd(p, "a X a b)") == IMAP_PARSE_BAD, "unopened list");
	ok(cmd(p, "a X (a)(b)") == IMAP_PARSE_BAD, "lists not separated");
	ok(cmd(p, "a X \"a\"b") == IMAP_PARSE_BAD, "strings not separated");
	ok(cmd(p, "a X a(b") == IMAP_PARSE_BAD, "'(' inside atom");
}

static void
test_fetch_atoms(struct imap_parser *p)
{
	const struct imap_arg *a;
	size_t n;

	ok(cmd(p, "a FETCH 1 (BODY.PEEK[HEADER.FIELDS (From To)]<0.100> "
	    "BINARY[1] BODY[1.2] BODY[] FLAGS)") == IMAP_PARSE_DONE,
	    "FETCH with sections");
	a = args(p, &n);
	ok(n == 2 && a[1].nlist == 5, "five items");
	ok(is(&a[1].list[0], IMAP_ARG_ATOM,
	    "BODY.PEEK[HEADER.FIELDS (From To)]<0.100>"), "section kept whole");
	ok(imap_arg_astring(&a[1].list[0]) == NULL, "but not an astring");
	ok(is(&a[1].list[1], IMAP_ARG_ATOM, "BINARY[1]") &&
	    is(&a[1].list[2], IMAP_ARG_ATOM, "BODY[1.2]") &&
	    is(&a[1].list[3], IMAP_ARG_ATOM, "BODY[]"), "simple sections");

	ok(cmd(p, "a FETCH 1 BODY[HEADER.FIELDS.NOT (\"X-]\" Y)]") ==
	    IMAP_PARSE_DONE && is(&args(p, &n)[1], IMAP_ARG_ATOM,
	    "BODY[HEADER.FIELDS.NOT (\"X-]\" Y)]"), "quoted ']' in section");
	ok(cmd(p, "a SELECT [Gmail]/Trash") == IMAP_PARSE_DONE &&
	    is(&args(p, &n)[0], IMAP_ARG_ATOM, "[Gmail]/Trash"),
	    "atom goes on after ']'");
	ok(cmd(p, "a FETCH 1 BODY[HEADER") == IMAP_PARSE_BAD,
	    "unterminated section");
}

/*
 * '[' is an ATOM-CHAR and ']' an ASTRING-CHAR (RFC 3501 §9): in a
 * mailbox name they are plain characters.  Only a fetch-att's section
 * (BODY[...], BODY.PEEK[...], BINARY[...]) gives '[' a meaning.
 */
static void
test_bracket_atoms(struct imap_parser *p)
{
	static const char name[] = "!#$&'+,-.0123456789:;<=>?@^_`|[}";
	const struct imap_arg *a;
	char buf[128];
	size_t n;

	snprintf(buf, sizeof(buf), "a SELECT %s", name);
	ok(cmd(p, buf) == IMAP_PARSE_DONE && (a = args(p, &n)) && n == 1 &&
	    is(&a[0], IMAP_ARG_ATOM, name) && imap_arg_astring(&a[0]) != NULL,
	    "SELECT with every atom-char, '[' unclosed");
	snprintf(buf, sizeof(buf), "a LIST \"\" %s", name);
	ok(cmd(p, buf) == IMAP_PARSE_DONE && (a = args(p, &n)) && n == 2 &&
	    is(&a[1], IMAP_ARG_ATOM, name), "LIST with it");
	snprintf(buf, sizeof(buf), "a CREATE %s", name);
	ok(cmd(p, buf) == IMAP_PARSE_DONE && (a = args(p, &n)) && n == 1 &&
	    is(&a[0], IMAP_ARG_ATOM, name), "CREATE with it");
	ok(cmd(p, "a STATUS x[y (MESSAGES)") == IMAP_PARSE_DONE &&
	    (a = args(p, &n)) && n == 2 && is(&a[0], IMAP_ARG_ATOM, "x[y") &&
	    a[1].type == IMAP_ARG_LIST, "'[' does not swallow what follows");
	ok(cmd(p, "a RENAME a]b [c") == IMAP_PARSE_DONE &&
	    (a = args(p, &n)) && n == 2 && is(&a[0], IMAP_ARG_ATOM, "a]b") &&
	    is(&a[1], IMAP_ARG_ATOM, "[c"), "']' and '[' anywhere");
	ok(cmd(p, "a CREATE BODY[x") == IMAP_PARSE_DONE &&
	    is(&args(p, &n)[0], IMAP_ARG_ATOM, "BODY[x"),
	    "BODY[ outside FETCH is a name");
	ok(cmd(p, "a FETCH 1 (FLAGS X[Y BODY.PEEK[1])") == IMAP_PARSE_DONE &&
	    (a = args(p, &n)) && n == 2 && a[1].nlist == 3 &&
	    is(&a[1].list[1], IMAP_ARG_ATOM, "X[Y") &&
	    is(&a[1].list[2], IMAP_ARG_ATOM, "BODY.PEEK[1]"),
	    "in FETCH, only a section-taking item opens a section");
	ok(cmd(p, "a UID FETCH 1 (body[header.fields (Subject)] "
	    "binary.peek[1] BINARY.SIZE[2])") == IMAP_PARSE_DONE &&
	    (a = args(p, &n)) && n == 3 && a[2].nlist == 3 &&
	    is(&a[2].list[0], IMAP_ARG_ATOM, "body[header.fields (Subject)]") &&
	    is(&a[2].list[1], IMAP_ARG_ATOM, "binary.peek[1]") &&
	    is(&a[2].list[2], IMAP_ARG_ATOM, "BINARY.SIZE[2]"),
	    "UID FETCH sections, any case");
	ok(cmd(p, "a UID FETCH 1 BODY[HEADER") == IMAP_PARSE_BAD &&
	    strcmp(why, "Unterminated section [") == 0,
	    "unterminated section in UID FETCH");
}

static void
test_literals(struct imap_parser *p)
{
	const struct imap_arg *a;
	size_t n;

	ok(cmd(p, "a LOGIN {3}") == IMAP_PARSE_LITERAL && lit_len == 3 &&
	    lit_sync == 1, "synchronizing literal announced");
	imap_parser_literal(p, "joe", 3);
	ok(line(p, " {4+}") == IMAP_PARSE_LITERAL && lit_len == 4 &&
	    lit_sync == 0, "LITERAL+ announced");
	imap_parser_literal(p, "a\r\n\0", 4);
	ok(line(p, "") == IMAP_PARSE_DONE, "then the end");
	a = args(p, &n);
	ok(n == 2 && is(&a[0], IMAP_ARG_LITERAL, "joe") &&
	    a[1].type == IMAP_ARG_LITERAL && a[1].len == 4 &&
	    memcmp(a[1].str, "a\r\n\0", 5) == 0, "CRLF and NUL in literal");
	ok(imap_arg_astring(&a[0]) != NULL && imap_arg_astring(&a[1]) == NULL,
	    "astring refuses a NUL");

	ok(cmd(p, "a APPEND box (\\Seen) ~{2}") == IMAP_PARSE_LITERAL,
	    "literal8");
	imap_parser_literal(p, "\0\1", 2);
	ok(line(p, "") == IMAP_PARSE_DONE && args(p, &n)[2].binary &&
	    args(p, &n)[2].len == 2, "binary flag set");

	ok(cmd(p, "a X ({1}") == IMAP_PARSE_LITERAL, "literal in a list");
	imap_parser_literal(p, ")", 1);
	ok(line(p, " b)") == IMAP_PARSE_DONE && (a = args(p, &n)) &&
	    n == 1 && a[0].nlist == 2 && is(&a[0].list[0], IMAP_ARG_LITERAL,
	    ")"), "list closed after literal");

	ok(cmd(p, "a X {0}") == IMAP_PARSE_LITERAL && lit_len == 0, "{0}");
	imap_parser_literal(p, NULL, 0);
	ok(line(p, "") == IMAP_PARSE_DONE && args(p, &n)[0].len == 0,
	    "empty literal");

	ok(cmd(p, "a APPEND box {99999999}") == IMAP_PARSE_LITERAL &&
	    lit_len == 99999999, "big literal still announced");
	imap_parser_literal_file(p, "/tmp/x", 99999999);
	ok(line(p, "") == IMAP_PARSE_DONE && (a = args(p, &n)) &&
	    a[1].type == IMAP_ARG_LITERAL_FILE && a[1].len == 99999999 &&
	    strcmp(a[1].str, "/tmp/x") == 0, "literal in a file");

	ok(cmd(p, "a X {3}") == IMAP_PARSE_LITERAL, "announced 3");
	imap_parser_literal(p, "ab", 2);
	ok(line(p, "") == IMAP_PARSE_BAD, "size mismatch");
	ok(cmd(p, "a X {3}") == IMAP_PARSE_LITERAL &&
	    line(p, "x") == IMAP_PARSE_BAD, "line instead of literal");

	ok(cmd(p, "a X {}") == IMAP_PARSE_BAD, "{}");
	ok(cmd(p, "a X {3} ") == IMAP_PARSE_BAD, "literal not at end");
	ok(cmd(p, "a X {3a}") == IMAP_PARSE_BAD, "{3a}");
	ok(cmd(p, "a X {-1}") == IMAP_PARSE_BAD, "{-1}");
	ok(cmd(p, "a X {4294967295}") == IMAP_PARSE_LITERAL &&
	    lit_len == 4294967295U, "2^32-1 announced");
	ok(cmd(p, "a X {4294967296}") == IMAP_PARSE_BAD,
	    "2^32 refused");
	ok(cmd(p, "a X {99999999999999999999999}") == IMAP_PARSE_BAD,
	    "no overflow");
	ok(cmd(p, "a X a{3}") == IMAP_PARSE_BAD, "'{' inside an atom");
}

static void
test_limits(struct imap_parser *p)
{
	struct imap_parser *big;
	char buf[MAXCMD * 2];
	size_t i, n;

	memcpy(buf, "a X", 3);
	for (i = 3; i < 3 + 2 * IMAP_MAX_DEPTH; i += 2)
		memcpy(buf + i, " (", 2);
	buf[i] = '\0';
	ok(cmd(p, buf) == IMAP_PARSE_BAD &&
	    strcmp(why, "Missing )") == 0, "depth %d allowed",
	    IMAP_MAX_DEPTH);
	strcpy(buf + i, " (");
	ok(cmd(p, buf) == IMAP_PARSE_BAD && strstr(why, "nested") != NULL,
	    "depth %d refused", IMAP_MAX_DEPTH + 1);

	/* Too many arguments, over lines joined by literals. */
	big = imap_parser_new(1024 * 1024);
	ok(line(big, "a X {1}") == IMAP_PARSE_LITERAL, "start");
	memset(buf, 0, sizeof(buf));
	for (i = 0; i < 250; i++)
		memcpy(buf + 2 * i, " y", 2);
	strcat(buf, " {1}");
	for (n = 0; n < 20; n++) {
		imap_parser_literal(big, "x", 1);
		if (line(big, buf) != IMAP_PARSE_LITERAL)
			break;
	}
	ok(n == IMAP_MAX_ARGS / 251 && why != NULL &&
	    strcmp(why, "Too many arguments") == 0,
	    "IMAP_MAX_ARGS enforced after %zu lines", n);
	imap_parser_free(&big);

	imap_parser_reset(p);
	ok(line(p, "a X {1}") == IMAP_PARSE_LITERAL, "start");
	for (n = 0; n < 100; n++) {
		imap_parser_literal(p, "x", 1);
		if (line(p, " {1}") != IMAP_PARSE_LITERAL)
			break;
	}
	ok(n == IMAP_MAX_LITERALS - 1 && strcmp(why, "Too many literals") == 0,
	    "IMAP_MAX_LITERALS enforced");

	memset(buf, 'x', MAXCMD);
	memcpy(buf, "tag X ", 6);
	buf[MAXCMD] = '\0';
	ok(cmd(p, buf) == IMAP_PARSE_DONE, "line of max_command");
	buf[MAXCMD] = 'x';
	buf[MAXCMD + 1] = '\0';
	ok(cmd(p, buf) == IMAP_PARSE_BAD &&
	    strcmp(imap_parser_tag(p), "tag") == 0,
	    "longer line refused, tag known");

	ok(cmd(p, "a X {2000}") == IMAP_PARSE_LITERAL && lit_len == 2000,
	    "literal beyond max_command announced");
	memset(buf, 'y', 2000);
	imap_parser_literal(p, buf, 2000);
	ok(line(p, "") == IMAP_PARSE_BAD, "but refused");

	ok(cmd(p, "a X {1000}") == IMAP_PARSE_LITERAL, "literal fits");
	imap_parser_literal(p, buf, 1000);
	ok(line(p, " {100}") == IMAP_PARSE_LITERAL, "second one announced");
	imap_parser_literal(p, buf, 100);
	ok(line(p, "") == IMAP_PARSE_BAD, "sum passes max_command");

	memset(buf, 't', IMAP_TAG_MAX + 1);
	strcpy(buf + IMAP_TAG_MAX + 1, " NOOP");
	ok(cmd(p, buf) == IMAP_PARSE_BAD && imap_parser_tag(p) == NULL,
	    "tag too long");
	strcpy(buf + IMAP_TAG_MAX, " NOOP");
	ok(cmd(p, buf) == IMAP_PARSE_DONE, "tag of IMAP_TAG_MAX");
}

static void
test_bad(struct imap_parser *p)
{
	static const char nul[] = "a X b\0c";

	ok(cmd(p, "") == IMAP_PARSE_BAD && imap_parser_tag(p) == NULL,
	    "empty line");
	ok(cmd(p, "a") == IMAP_PARSE_BAD &&
	    strcmp(imap_parser_tag(p), "a") == 0,
	    "no command, tag known");
	ok(cmd(p, "+ NOOP") == IMAP_PARSE_BAD, "'+' tag");
	ok(cmd(p, "* NOOP") == IMAP_PARSE_BAD, "'*' tag");
	ok(cmd(p, "a{1} NOOP") == IMAP_PARSE_BAD, "'{' in tag");
	ok(cmd(p, "a NO\"OP") == IMAP_PARSE_BAD, "bad command name");
	imap_parser_reset(p);
	ok(feed(p, nul, sizeof(nul) - 1) == IMAP_PARSE_BAD, "NUL in atom");
	imap_parser_reset(p);
	ok(feed(p, "a X \"b\0\"", 8) == IMAP_PARSE_BAD, "NUL in quoted");
	imap_parser_reset(p);
	ok(feed(p, "a X \0", 5) == IMAP_PARSE_BAD, "NUL alone");
	ok(cmd(p, "a X \"abc") == IMAP_PARSE_BAD &&
	    strcmp(why, "Unterminated quoted string") == 0,
	    "unterminated quoted string");
	ok(cmd(p, "a X \"a\\bc\"") == IMAP_PARSE_BAD, "bad escape");
	ok(cmd(p, "a X \"a\rb\"") == IMAP_PARSE_BAD, "CR in quoted");
	ok(cmd(p, "a X \"abc\\") == IMAP_PARSE_BAD, "escape at end");
	ok(cmd(p, "a X caf\xc3\xa9") == IMAP_PARSE_BAD, "8-bit atom");
	ok(cmd(p, "a X a\\b") == IMAP_PARSE_BAD, "'\\' inside atom");
	ok(line(p, "b NOOP") == IMAP_PARSE_DONE, "next line after BAD");
	ok(line(p, "c NOOP") == IMAP_PARSE_DONE &&
	    strcmp(imap_parser_tag(p), "c") == 0, "next line after DONE");
}

static void
test_helpers(void)
{
	struct imap_arg a = { .type = IMAP_ARG_ATOM };
	uint64_t n;

	a.str = "4294967295";
	a.len = strlen(a.str);
	ok(imap_arg_number(&a, UINT32_MAX, &n) == 0 && n == 4294967295U,
	    "number at max");
	a.str = "4294967296";
	ok(imap_arg_number(&a, UINT32_MAX, &n) == -1, "number above max");
	a.str = "18446744073709551616";
	a.len = strlen(a.str);
	ok(imap_arg_number(&a, UINT64_MAX, &n) == -1, "2^64 overflows");
	a.str = "5";
	a.len = 1;
	ok(imap_arg_number(&a, 0, &n) == -1, "5 above max 0");
	a.str = "1a";
	a.len = 2;
	ok(imap_arg_number(&a, 100, &n) == -1, "junk");
	a.type = IMAP_ARG_STRING;
	a.str = "12";
	ok(imap_arg_number(&a, 100, &n) == -1, "a string is no number");
	ok(imap_arg_is_string(&a) && !imap_arg_atom_is(&a, "12"), "string");
	a.type = IMAP_ARG_ATOM;
	a.str = "nil";
	ok(imap_arg_is_nil(&a) && imap_arg_atom_is(&a, "NiL"), "nil");
}

static int
put(void (*fn)(struct buf *, const char *), const char *s, const char *want)
{
	struct buf b;
	int r;

	buf_init(&b, 0);
	fn(&b, s);
	r = b.data != NULL && strcmp(b.data, want) == 0;
	if (!r)
		diag("got [%s] want [%s]", b.data ? b.data : "", want);
	buf_release(&b);
	return r;
}

static void
test_output(void)
{
	struct buf b;
	char big[120];

	ok(put(imap_put_nstring, "hello world", "\"hello world\""), "quoted");
	ok(put(imap_put_nstring, "a\"b\\c", "\"a\\\"b\\\\c\""),
	    "quoted-specials escaped");
	ok(put(imap_put_nstring, NULL, "NIL"), "NIL");
	ok(put(imap_put_nstring, "", "\"\""), "empty");
	ok(put(imap_put_nstring, "a\r\nb", "{4}\r\na\r\nb"), "CRLF: literal");
	ok(put(imap_put_nstring, "caf\xc3\xa9", "{5}\r\ncaf\xc3\xa9"),
	    "8-bit: literal");
	memset(big, 'x', 100);
	big[100] = '\0';
	ok(put(imap_put_nstring, big, "{100}\r\n" "xxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxx"), "100 octets: literal");
	ok(put(imap_put_astring, "INBOX", "INBOX"), "astring as atom");
	ok(put(imap_put_astring, "nil", "\"nil\""), "NIL quoted");
	ok(put(imap_put_astring, "", "\"\""), "empty quoted");
	ok(put(imap_put_astring, "a b", "\"a b\""), "space quoted");
	ok(put(imap_put_astring, "a*", "\"a*\""), "wildcard quoted");

	buf_init(&b, 8);
	imap_put_string(&b, "0123456789", 10);
	ok(b.len == 0, "literal not cut when buffer is full");
	imap_put_string(&b, NULL, 0);
	ok(b.len == 3 && strcmp(b.data, "NIL") == 0, "NIL for NULL");
	buf_release(&b);
}

static void
test_dates(void)
{
	char out[32];
	int64_t t;

	ok(imap_parse_date("1-Feb-1994") == 760060800, "1-Feb-1994");
	ok(imap_parse_date("01-feb-1994") == 760060800, "01-feb-1994");
	ok(imap_parse_date("1-Jan-1970") == 0, "epoch");
	ok(imap_parse_date("29-Feb-2000") == 951782400, "leap day 2000");
	ok(imap_parse_date("29-Feb-1900") == -1, "1900 no leap year");
	ok(imap_parse_date("31-Apr-2020") == -1, "31 April");
	ok(imap_parse_date("0-Jan-2020") == -1, "day 0");
	ok(imap_parse_date("1-Foo-2020") == -1, "bad month");
	ok(imap_parse_date("1-Jan-20") == -1, "two-digit year");
	ok(imap_parse_date("1-Jan-2020x") == -1, "trailing junk");
	ok(imap_parse_date("\"1-Jan-2020\"") == -1, "quotes are the caller's");
	ok(imap_parse_date("") == -1 && imap_parse_date("1") == -1 &&
	    imap_parse_date("1-") == -1 && imap_parse_date("1-Ja") == -1,
	    "truncated");

	ok(imap_parse_datetime("17-Jul-1996 02:44:25 -0700") == 837596665,
	    "RFC 3501 example");
	ok(imap_parse_datetime(" 7-Jul-1996 02:44:25 +0000") ==
	    imap_parse_datetime("07-Jul-1996 02:44:25 +0000"),
	    "day with leading space");
	ok(imap_parse_datetime("17-Jul-1996 24:00:00 +0000") == -1, "hour 24");
	ok(imap_parse_datetime("17-Jul-1996 02:44:25") == -1, "no zone");
	ok(imap_parse_datetime("17-Jul-1996 02:44:25 +07") == -1, "short zone");
	ok(imap_parse_datetime("17-Jul-1996 2:44:25 +0000") == -1,
	    "short hour");

	imap_format_datetime(837596665, out);
	ok(strcmp(out, "17-Jul-1996 09:44:25 +0000") == 0, "format: %s", out);
	imap_format_datetime(0, out);
	ok(strcmp(out, "01-Jan-1970 00:00:00 +0000") == 0, "format: %s", out);
	imap_format_datetime(-1, out);
	ok(strcmp(out, "31-Dec-1969 23:59:59 +0000") == 0, "format: %s", out);
	imap_format_datetime(INT64_MAX, out);
	ok(strcmp(out, "31-Dec-9999 23:59:59 +0000") == 0, "clamped: %s", out);
	for (t = -86400 * 366; t < 4102444800LL; t += 86400 * 17 + 3607) {
		imap_format_datetime(t, out);
		if (imap_parse_datetime(out) != t)
			break;
	}
	ok(t >= 4102444800LL, "round trip 1969..2100 (stopped at %lld)",
	    (long long)t);
}

static int
set_is(const char *s, uint32_t star, const char *want)
{
	struct seqset set;
	struct buf b;
	uint32_t nums[64];
	size_t i, n = 0;
	uint32_t v;
	int r;

	if (seqset_parse(s, star, &set) == -1)
		return want == NULL;
	if (want == NULL) {
		seqset_free(&set);
		return 0;
	}
	/* Expand the small ones through seqset_format, for a check. */
	for (i = 0; i < set.n; i++)
		for (v = set.r[i].lo; n < 64 && v <= set.r[i].hi; v++) {
			nums[n++] = v;
			if (v == UINT32_MAX)
				break;
		}
	buf_init(&b, 0);
	if (n < 64)
		seqset_format(&b, nums, n);
	else
		for (i = 0; i < set.n; i++)
			buf_printf(&b, "%s%u:%u", i ? "," : "",
			    set.r[i].lo, set.r[i].hi);
	r = strcmp(b.data != NULL ? b.data : "", want) == 0;
	if (!r)
		diag("%s: got [%s] want [%s]", s, b.data ? b.data : "", want);
	buf_release(&b);
	seqset_free(&set);
	return r;
}

static void
test_seqset(void)
{
	struct seqset set;
	uint32_t nums[] = { 1, 2, 3, 3, 7, 9, 10, 4294967294U, 4294967295U };
	struct buf b;

	ok(set_is("1", 10, "1"), "single");
	ok(set_is("5:3", 10, "3:5"), "reversed range");
	ok(set_is("*", 10, "10"), "star");
	ok(set_is("8:*", 5, "5:8"), "star below the start");
	ok(set_is("1:3,2:5,7,9,8", 10, "1:5,7:9"), "merged and sorted");
	ok(set_is("4,3,2,1", 10, "1:4"), "adjacent merged");
	ok(set_is("1:4294967295", 10, "1:4294967295"), "full range");
	ok(set_is("4294967295,1", 10, "1,4294967295"), "max number");
	ok(set_is("*", 0, ""), "star of an empty mailbox parses, empty");
	ok(set_is("0", 10, NULL), "0 refused");
	ok(set_is("0:5", 10, NULL), "0 in range refused");
	ok(set_is("4294967296", 10, NULL), "2^32 refused");
	ok(set_is("", 10, NULL), "empty refused");
	ok(set_is("1,", 10, NULL) && set_is(",1", 10, NULL) &&
	    set_is("1,,2", 10, NULL), "empty parts refused");
	ok(set_is("1:", 10, NULL) && set_is(":1", 10, NULL) &&
	    set_is("1:2:3", 10, NULL), "bad ranges refused");
	ok(set_is("$", 10, NULL), "$ refused");
	ok(set_is("1a", 10, NULL) && set_is("-1", 10, NULL) &&
	    set_is("1 ", 10, NULL), "junk refused");

	ok(seqset_parse("1:3,7,100:200,4000000000:*", 4000000005U, &set) == 0,
	    "parse for contains");
	ok(seqset_contains(&set, 1) && seqset_contains(&set, 3) &&
	    !seqset_contains(&set, 4) && seqset_contains(&set, 7) &&
	    seqset_contains(&set, 150) && !seqset_contains(&set, 201) &&
	    seqset_contains(&set, 4000000005U) &&
	    !seqset_contains(&set, 4000000006U) && !seqset_contains(&set, 0),
	    "contains");
	seqset_free(&set);
	ok(set.r == NULL && set.n == 0 && !seqset_contains(&set, 1),
	    "freed set is empty");

	buf_init(&b, 0);
	seqset_format(&b, nums, sizeof(nums) / sizeof(nums[0]));
	ok(strcmp(b.data, "1:3,7,9:10,4294967294:4294967295") == 0,
	    "format: %s", b.data);
	buf_release(&b);
}

int
main(void)
{
	struct imap_parser *p;

	p = imap_parser_new(MAXCMD);
	test_simple(p);
	test_lists(p);
	test_fetch_atoms(p);
	test_bracket_atoms(p);
	test_literals(p);
	test_limits(p);
	test_bad(p);
	imap_parser_free(&p);
	ok(p == NULL, "parser freed");
	test_helpers();
	test_output();
	test_dates();
	test_seqset();
	return done_testing();
}
