#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../global/mime.h"
#include "../maildir/maildir.h"
#include "imapd.h"
#include "../t/tap.h"

/*
 * Arguments from a C string: atoms, "quoted" strings and ( lists ), as
 * the parser would hand them over (no escapes; enough for the tests).
 */
static size_t
mkargs_list(const char **sp, struct imap_arg *out)
{
	const char *s = *sp, *e;
	struct imap_arg *a;
	size_t n = 0;

	while (*s != '\0') {
		if (*s == ' ') {
			s++;
			continue;
		}
		if (*s == ')') {
			s++;
			break;
		}
		a = &out[n++];
		memset(a, 0, sizeof(*a));
		if (*s == '(') {
			s++;
			a->type = IMAP_ARG_LIST;
			a->list = calloc(strlen(s) + 1, sizeof(*a));
			a->nlist = mkargs_list(&s, a->list);
		} else if (*s == '"') {
			e = strchr(++s, '"');
			a->type = IMAP_ARG_STRING;
			a->str = strndup(s, e - s);
			a->len = e - s;
			s = e + 1;
		} else {
			e = s + strcspn(s, " ()");
			a->type = IMAP_ARG_ATOM;
			a->str = strndup(s, e - s);
			a->len = e - s;
			s = e;
		}
	}
	*sp = s;
	return n;
}

static struct imap_arg *
mkargs(const char *s, size_t *n)
{
	struct imap_arg *a = calloc(strlen(s) + 1, sizeof(*a));

	*n = mkargs_list(&s, a);
	return a;
}

static void
freeargs(struct imap_arg *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (a[i].type == IMAP_ARG_LIST)
			freeargs(a[i].list, a[i].nlist);
		free(a[i].str);
	}
	free(a);
}

#define MAX_SEQ	3
#define MAX_UID	30

static struct search_key *
parse(const char *s, const char **why)
{
	struct search_key *k;
	struct imap_arg *a;
	size_t n;

	*why = NULL;
	a = mkargs(s, &n);
	k = search_parse(a, n, MAX_SEQ, MAX_UID, why);
	freeargs(a, n);
	return k;
}

/* 1 or 0 as search_match says, -1 for a read error, -2 for a bad key. */
static int
match(const char *s, const struct search_msg *m)
{
	struct search_key *k;
	const char *why;
	int r;

	if ((k = parse(s, &why)) == NULL) {
		diag("%s: %s", s, why);
		return -2;
	}
	r = search_match(k, m);
	search_free(&k);
	return r;
}

/* Does parsing fail with a message that starts with want? */
static int
fails(const char *s, const char *want)
{
	struct search_key *k;
	const char *why;

	if ((k = parse(s, &why)) != NULL) {
		search_free(&k);
		return 0;
	}
	if (strncmp(why, want, strlen(want)) != 0) {
		diag("%s: got \"%s\"", s, why);
		return 0;
	}
	return 1;
}

/* A message on disk for the keys that read the text. */
struct testmsg {
	const char	*text;
	struct mime_msg	*msg;
	int		 loads;
};

static struct mime_msg *
load(void *arg)
{
	struct testmsg *t = arg;
	char path[] = "/tmp/test-search.XXXXXX";
	int fd;

	t->loads++;
	if (t->msg != NULL)
		return t->msg;
	if ((fd = mkstemp(path)) == -1)
		return NULL;
	unlink(path);
	if (write(fd, t->text, strlen(t->text)) == (ssize_t)strlen(t->text) &&
	    lseek(fd, 0, SEEK_SET) == 0)
		t->msg = mime_msg_load(fd, 1 << 20);
	close(fd);
	return t->msg;
}

static int64_t
utc(int y, int mon, int d, int h, int min)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mon - 1, .tm_mday = d,
	    .tm_hour = h, .tm_min = min };

	return timegm(&tm);
}

static struct testmsg text_a = { .text =
	"Return-Path: <alice@example.com>\n"
	"From: Alice Liddell <alice@example.com>\n"
	"To: bob@example.org\n"
	"Cc: Carol <carol@example.net>\n"
	"Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=\n"
	"Date: Fri, 15 Mar 2024 23:30:00 -0500\n"
	"X-Empty:\n"
	"Message-ID: <a1@example.com>\n"
	"\n"
	"Hello World,\n"
	"the quick brown fox jumps over the lazy dog.\n"
};

static struct testmsg text_b = { .text =
	"From: Dave <dave@example.com>\n"
	"To: Erin <erin@example.com>\n"
	"Bcc: secret@example.com\n"
	"Subject: Zebra report\n"
	"Date: Sat, 16 Mar 2024 00:30:00 +0100 (CET)\n"
	"MIME-Version: 1.0\n"
	"Content-Type: text/plain; charset=utf-8\n"
	"Content-Transfer-Encoding: base64\n"
	"\n"	/* "STRASSE Crossing in Überlingen" */
	"U1RSQVNTRSBDcm9zc2luZyBpbiDDnGJlcmxpbmdlbgo=\n"
};

/* Addresses with comments and blanks inside (RFC 5322 §3.4, CFWS). */
static struct testmsg text_addr = { .text =
	"From: <user-from (comment)@ (comment) domain.org>\n"
	"To: Kim (the boss) \"Q.\" Example <kim @ example.net>,\n"
	"  lee (Lee) @example.org\n"
	"Cc: =?UTF-8?Q?J=C3=B6rg?= (x) <joerg (y) @example.de>\n"
	"Bcc: team: hidden.user@ (x) hidden.example;\n"
	"Subject: addresses\n"
	"\n"
	"body\n"
};

int
main(void)
{
	struct search_msg a = {
		.seq = 1, .uid = 10, .flags = MF_SEEN | MF_ANSWERED,
		.recent = 0, .keywords = "$Forwarded Work", .modseq = 100,
		.vsize = 1000, .internaldate = 0,
		.load = load, .load_arg = &text_a,
	};
	struct search_msg b = {
		.seq = 2, .uid = 20,
		.flags = MF_FLAGGED | MF_DELETED | MF_DRAFT,
		.recent = 1, .keywords = "", .modseq = 5,
		.vsize = 50000, .internaldate = 0,
		.load = load, .load_arg = &text_b,
	};
	struct search_msg d = {
		.seq = 1, .uid = 40, .keywords = "",
		.load = load, .load_arg = &text_addr,
	};
	struct search_msg c = {		/* cannot be read */
		.seq = 3, .uid = 30, .recent = 1, .keywords = NULL,
		.modseq = 7, .vsize = 10, .internaldate = 0,
	};
	struct search_key *k;
	struct imap_arg lit;
	const char *why;
	char *deep;
	size_t i;

	a.internaldate = utc(2024, 3, 15, 23, 59);
	b.internaldate = utc(2024, 3, 16, 0, 0);
	c.internaldate = utc(1969, 12, 30, 12, 0);

	/* flags */
	ok(match("ALL", &a) == 1 && match("all", &c) == 1, "ALL, any case");
	ok(match("ANSWERED", &a) == 1 && match("ANSWERED", &b) == 0,
	    "ANSWERED");
	ok(match("UNANSWERED", &a) == 0 && match("UNANSWERED", &b) == 1,
	    "UNANSWERED");
	ok(match("DELETED", &b) == 1 && match("DELETED", &a) == 0 &&
	    match("UNDELETED", &a) == 1 && match("UNDELETED", &b) == 0,
	    "DELETED, UNDELETED");
	ok(match("DRAFT", &b) == 1 && match("DRAFT", &a) == 0 &&
	    match("UNDRAFT", &a) == 1 && match("UNDRAFT", &b) == 0,
	    "DRAFT, UNDRAFT");
	ok(match("FLAGGED", &b) == 1 && match("FLAGGED", &a) == 0 &&
	    match("UNFLAGGED", &a) == 1 && match("UNFLAGGED", &b) == 0,
	    "FLAGGED, UNFLAGGED");
	ok(match("SEEN", &a) == 1 && match("SEEN", &b) == 0 &&
	    match("UNSEEN", &a) == 0 && match("UNSEEN", &b) == 1,
	    "SEEN, UNSEEN");
	ok(match("RECENT", &b) == 1 && match("RECENT", &a) == 0,
	    "RECENT");
	ok(match("OLD", &a) == 1 && match("OLD", &b) == 0, "OLD = NOT RECENT");
	c.flags = MF_SEEN;
	ok(match("NEW", &b) == 1 && match("NEW", &a) == 0 &&
	    match("NEW", &c) == 0, "NEW = RECENT UNSEEN");
	c.flags = 0;

	/* keywords */
	ok(match("KEYWORD work", &a) == 1 && match("KEYWORD $forwarded", &a)
	    == 1, "KEYWORD, case-insensitive");
	ok(match("KEYWORD Wor", &a) == 0 && match("KEYWORD Work", &b) == 0 &&
	    match("KEYWORD Work", &c) == 0, "KEYWORD: whole words only");
	ok(match("UNKEYWORD Work", &a) == 0 && match("UNKEYWORD Work", &b)
	    == 1 && match("UNKEYWORD Work", &c) == 1, "UNKEYWORD");

	/* sizes, mod-sequences */
	ok(match("LARGER 999", &a) == 1 && match("LARGER 1000", &a) == 0,
	    "LARGER is strictly larger");
	ok(match("SMALLER 1001", &a) == 1 && match("SMALLER 1000", &a) == 0,
	    "SMALLER is strictly smaller");
	ok(match("MODSEQ 100", &a) == 1 && match("MODSEQ 101", &a) == 0 &&
	    match("MODSEQ 0", &b) == 1, "MODSEQ: at least");
	ok(match("MODSEQ \"/flags/\\\\Seen\" all 50", &a) == 1 &&
	    match("MODSEQ \"/flags/$Work\" priv 50", &b) == 0,
	    "MODSEQ with an entry name and type");

	/* sequence sets and UIDs */
	ok(match("1", &a) == 1 && match("1", &b) == 0, "sequence number");
	ok(match("2:*", &b) == 1 && match("2:*", &a) == 0 &&
	    match("*", &c) == 1, "sequence set with *");
	ok(match("1,3", &c) == 1 && match("1,3", &b) == 0, "sequence list");
	ok(match("UID 10:15", &a) == 1 && match("UID 10:15", &b) == 0,
	    "UID range");
	ok(match("UID *", &c) == 1 && match("UID *", &b) == 0, "UID *");
	ok(match("UID 559:*", &c) == 1, "UID n:* holds the last UID "
	    "even when n is above it (RFC 3501 §6.4.8)");

	/* INTERNALDATE, by its UTC day */
	ok(match("ON 15-Mar-2024", &a) == 1 && match("ON 16-Mar-2024", &b)
	    == 1 && match("ON 15-Mar-2024", &b) == 0, "ON");
	ok(match("BEFORE 16-Mar-2024", &a) == 1 &&
	    match("BEFORE 16-Mar-2024", &b) == 0, "BEFORE");
	ok(match("SINCE 16-Mar-2024", &b) == 1 &&
	    match("SINCE 16-Mar-2024", &a) == 0 &&
	    match("SINCE 15-Mar-2024", &a) == 1, "SINCE includes the day");
	ok(match("ON \"30-Dec-1969\"", &c) == 1 &&
	    match("BEFORE 1-Jan-1970", &c) == 1, "quoted date; before 1970");

	/* no key needs the text yet */
	ok(text_a.loads == 0 && text_b.loads == 0, "nothing loaded so far");

	/* NOT, OR, lists */
	ok(match("NOT SEEN", &b) == 1 && match("NOT SEEN", &a) == 0, "NOT");
	ok(match("NOT NOT SEEN", &a) == 1, "NOT NOT");
	ok(match("OR SEEN FLAGGED", &a) == 1 && match("OR SEEN FLAGGED", &b)
	    == 1 && match("OR SEEN FLAGGED", &c) == 0, "OR");
	ok(match("SEEN ANSWERED", &a) == 1 && match("SEEN FLAGGED", &a) == 0,
	    "consecutive keys are ANDed");
	ok(match("(SEEN ANSWERED) UID 10", &a) == 1 &&
	    match("(SEEN FLAGGED)", &a) == 0, "a list is an AND");
	ok(match("OR (SEEN FLAGGED) (DELETED DRAFT)", &b) == 1 &&
	    match("OR (SEEN FLAGGED) (DELETED DRAFT)", &a) == 0,
	    "OR of lists");
	ok(match("NOT (OR 1 2) ALL", &c) == 1 && match("NOT (OR 1 2)", &a)
	    == 0, "NOT of a list");
	ok(match("OR OR 1 2 3", &c) == 1 && match("OR 1 OR 2 3", &b) == 1,
	    "nested OR");

	/* errors */
	ok(fails("FOO", "Unknown search key FOO"), "unknown key");
	ok(fails("SEEN FOO\x01", "Unknown search key FOO?"),
	    "unknown key: the reply is printable");
	ok(fails("", "Missing search key"), "no key at all");
	ok(fails("()", "Missing search key"), "empty list");
	ok(fails("SINCE", "Missing argument for SINCE"), "missing date");
	ok(fails("(FROM)", "Missing argument for FROM"), "missing string");
	ok(fails("HEADER Subject", "Missing argument for HEADER"),
	    "HEADER needs two");
	ok(fails("OR SEEN", "Missing argument for OR"), "OR needs two");
	ok(fails("NOT", "Missing argument for NOT"), "NOT needs one");
	ok(fails("SINCE 32-Mar-2024", "Invalid date"), "bad day");
	ok(fails("ON 1-Foo-2024", "Invalid date"), "bad month");
	ok(fails("BEFORE (1-Mar-2024)", "Invalid argument for BEFORE"),
	    "a list is not a date");
	ok(fails("LARGER x", "Invalid number for LARGER"), "bad number");
	ok(fails("SMALLER", "Missing argument for SMALLER"), "no number");
	ok(fails("MODSEQ \"/flags/x\" bogus 5", "Invalid entry type"),
	    "MODSEQ: bad entry type");
	ok(fails("MODSEQ", "Missing argument for MODSEQ"), "MODSEQ: nothing");
	ok(fails("UID x", "Invalid UID set"), "bad UID set");
	ok(fails("1:x", "Invalid sequence set"), "bad sequence set");
	ok(fails("\"SEEN\"", "Invalid search key"), "a key is an atom");
	ok(fails("UNCHANGEDSINCE 5", "Unknown search key"),
	    "UNCHANGEDSINCE is not a search key");

	/* limits */
	deep = malloc(32 * 4 + 16);
	for (deep[0] = '\0', i = 0; i < 32; i++)
		strcat(deep, "NOT ");
	strcat(deep, "SEEN");
	ok(match(deep, &a) == 1 && match(deep, &b) == 0, "32 levels of NOT");
	memmove(deep + 4, deep, strlen(deep) + 1);
	memcpy(deep, "NOT ", 4);
	ok(fails(deep, "Search keys nested too deeply"), "33 levels refused");
	free(deep);
	deep = malloc(40 * 2 + 16);
	for (deep[0] = '\0', i = 0; i < 33; i++)
		strcat(deep, "(");
	strcat(deep, "SEEN");
	for (i = 0; i < 33; i++)
		strcat(deep, ")");
	ok(fails(deep, "Search keys nested too deeply"), "33 levels of lists");
	free(deep);
	deep = malloc(1001 * 4 + 1);
	for (deep[0] = '\0', i = 0; i < 1000; i++)
		strcat(deep, "ALL ");
	ok(match(deep, &a) == 1, "1000 keys");
	strcat(deep, "ALL");
	ok(fails(deep, "Too many search keys"), "1001 keys refused");
	free(deep);

	/* needs text, uses MODSEQ */
	k = parse("OR SEEN NOT (FLAGGED BODY x)", &why);
	ok(k != NULL && search_needs_text(k) && !search_uses_modseq(k),
	    "needs text below OR/NOT/list");
	search_free(&k);
	k = parse("SEEN 1:* NOT (UID 3 MODSEQ 4)", &why);
	ok(k != NULL && !search_needs_text(k) && search_uses_modseq(k),
	    "MODSEQ below NOT/list; no text");
	search_free(&k);
	k = parse("SENTON 1-Jan-2020", &why);
	ok(k != NULL && search_needs_text(k), "SENTON needs the text");
	search_free(&k);

	/* a literal is a string */
	memset(&lit, 0, sizeof(lit));
	lit.type = IMAP_ARG_ATOM;
	lit.str = "FROM";
	k = search_parse(&lit, 1, 3, 30, &why);
	ok(k == NULL, "FROM alone");
	{
		struct imap_arg two[2] = { lit, lit };

		two[1].type = IMAP_ARG_LITERAL;
		two[1].str = "ALICE";
		two[1].len = 5;
		k = search_parse(two, 2, 3, 30, &why);
		ok(k != NULL && search_match(k, &a) == 1 &&
		    search_match(k, &b) == 0, "FROM {5} ALICE");
		search_free(&k);
	}

	/* headers */
	ok(match("FROM alice", &a) == 1 && match("FROM alice", &b) == 0,
	    "FROM");
	ok(match("FROM \"LIDDELL <ALICE@\"", &a) == 1,
	    "FROM: case-insensitive substring");
	ok(match("TO bob@example", &a) == 1 && match("TO erin", &b) == 1 &&
	    match("TO erin", &a) == 0, "TO");
	ok(match("CC carol", &a) == 1 && match("CC carol", &b) == 0, "CC");
	ok(match("BCC secret", &b) == 1 && match("BCC secret", &a) == 0,
	    "BCC");
	ok(match("SUBJECT zebra", &b) == 1 && match("SUBJECT zebra", &a) == 0,
	    "SUBJECT");
	ok(match("SUBJECT \"aus köln\"", &a) == 1,
	    "SUBJECT: RFC 2047 decoded");
	ok(match("SUBJECT \"GRÜßE\"", &a) == 1 &&
	    match("SUBJECT \"KÖLN\"", &a) == 1 &&
	    match("SUBJECT \"grüße AUS köln\"", &a) == 1,
	    "SUBJECT: i;unicode-casemap (RFC 5051)");
	ok(match("SUBJECT \"GRÜSSE\"", &a) == 0,
	    "SUBJECT: ß is not SS (no simple titlecase mapping)");
	ok(match("HEADER Message-ID a1@", &a) == 1 &&
	    match("HEADER message-id a1@", &b) == 0, "HEADER name value");
	ok(match("HEADER X-Empty \"\"", &a) == 1 &&
	    match("HEADER X-Empty \"\"", &b) == 0, "HEADER name \"\": exists");
	ok(match("HEADER Bcc \"\"", &b) == 1 && match("HEADER X-Emp \"\"", &a)
	    == 0, "HEADER name \"\": whole names only");
	ok(match("FROM \"\"", &a) == 1, "FROM \"\" matches anything");

	/* addresses as ENVELOPE parses them, and the raw text still */
	ok(match("FROM user-from@domain.org", &d) == 1,
	    "FROM local@domain, comments inside the addr-spec");
	ok(match("FROM <USER-FROM@DOMAIN.ORG>", &d) == 1,
	    "FROM <local@domain>, any case");
	ok(match("FROM domain.org", &d) == 1 && match("FROM user-from", &d)
	    == 1, "FROM domain, FROM local-part");
	ok(match("FROM \"(comment)@ (comment)\"", &d) == 1,
	    "FROM: a piece of the raw field");
	ok(match("FROM other@domain.org", &d) == 0 &&
	    match("FROM user-from@domain.com", &d) == 0 &&
	    match("FROM from@domain.org", &a) == 0, "FROM: other addresses");
	ok(match("TO \"Kim Q. Example\"", &d) == 1 &&
	    match("TO \"kim q. example <kim@example.net>\"", &d) == 1,
	    "TO: the display name as a phrase (comment and quotes gone)");
	ok(match("TO lee@example.org", &d) == 1 && match("TO \"Lee <lee@\"", &d)
	    == 1, "TO: second address; a trailing comment is the name");
	ok(match("CC \"jörg <joerg@example.de>\"", &d) == 1,
	    "CC: display name RFC 2047 decoded");
	ok(match("BCC hidden.user@hidden.example", &d) == 1 &&
	    match("BCC team:", &d) == 1, "BCC: group member; raw group");
	ok(match("TO joerg@example.de", &d) == 0 &&
	    match("CC kim@example.net", &d) == 0, "each key its own field");
	ok(match("HEADER From user-from@domain.org", &d) == 0 &&
	    match("HEADER From \"user-from (comment)@\"", &d) == 1,
	    "HEADER From: the raw field only");

	/* body and text */
	text_a.loads = 0;
	ok(match("BODY \"QUICK brown\"", &a) == 1 && match("BODY alice", &a)
	    == 0, "BODY");
	ok(match("BODY \"strasse crossing in überlingen\"", &b) == 1,
	    "BODY: base64 and UTF-8 decoded, folded");
	ok(match("BODY \"straße\"", &b) == 0 && match("BODY STRASSE", &b) == 1,
	    "BODY: ß is not ss, case is");
	ok(match("TEXT alice", &a) == 1 && match("TEXT lazy", &a) == 1 &&
	    match("TEXT zebra", &a) == 0, "TEXT: header or body");
	text_a.loads = 0;
	ok(match("TEXT fox BODY dog SUBJECT köln", &a) == 1 &&
	    text_a.loads == 1, "one load per match");
	text_a.loads = 0;
	ok(match("BODY fox UNSEEN", &a) == 0 && text_a.loads == 0,
	    "cheap keys first: UNSEEN before BODY");
	ok(match("OR BODY fox SEEN", &a) == 1 && text_a.loads == 0,
	    "cheap keys first in OR too");

	/* Date: in the header's own zone */
	ok(match("SENTON 15-Mar-2024", &a) == 1 &&
	    match("SENTON 16-Mar-2024", &a) == 0,
	    "SENTON: the day in the header's zone (-0500)");
	ok(match("SENTON 16-Mar-2024", &b) == 1,
	    "SENTON: zone before a comment (+0100 (CET))");
	ok(match("SENTBEFORE 16-Mar-2024", &a) == 1 &&
	    match("SENTBEFORE 16-Mar-2024", &b) == 0, "SENTBEFORE");
	ok(match("SENTSINCE 16-Mar-2024", &b) == 1 &&
	    match("SENTSINCE 16-Mar-2024", &a) == 0, "SENTSINCE");

	/* a message that cannot be read */
	ok(match("BODY x", &c) == -1 && match("SENTON 1-Jan-2020", &c) == -1 &&
	    match("HEADER X \"\"", &c) == -1, "unreadable: -1");
	ok(match("SEEN BODY x", &c) == 0, "unreadable, but a cheap key "
	    "decides");
	ok(match("NOT BODY x", &c) == -1 && match("OR BODY x ALL", &c) == 1,
	    "unreadable under NOT and OR");

	mime_msg_free(&text_a.msg);
	mime_msg_free(&text_b.msg);
	mime_msg_free(&text_addr.msg);
	return done_testing();
}
