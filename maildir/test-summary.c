/*
 * Unit test: message summaries, from the header parser (RFC 2047,
 * folding, dates, RFC 5256 base subjects, hostile headers) to the
 * index (sorted pages, an index of the schema before summaries, a
 * rebuild, a store that cannot keep them).  With SUMMARY_BENCH=n it
 * also times lists of an n-message folder (diagnostics only).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "maildir.h"
#include "summary.h"
#include "../t/tap.h"

static char root[256];

/* ---- the parser ---- */

static struct summary sum;

static struct summary *
parse(const char *hdr)
{
	summary_free(&sum);
	summary_parse(hdr, strlen(hdr), &sum);
	return &sum;
}

static const char *
str(const char *s)
{
	return s != NULL ? s : "(null)";
}

/* Well-formed UTF-8 (no overlong forms or surrogates checked: what a
 * decoder would trip over is enough here). */
static int
utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int more;

	for (; *p != '\0'; p++) {
		if (*p < 0x80)
			continue;
		if ((*p & 0xe0) == 0xc0)
			more = 1;
		else if ((*p & 0xf0) == 0xe0)
			more = 2;
		else if ((*p & 0xf8) == 0xf0)
			more = 3;
		else
			return 0;
		while (more-- > 0)
			if ((*++p & 0xc0) != 0x80)
				return 0;
	}
	return 1;
}

static void
test_decoding(void)
{
	struct summary *s;

	s = parse("Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=\n"
	    "From: =?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>\n"
	    "\n"
	    "Subject: not the header\n");
	ok(strcmp(s->subject, "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln") == 0,
	    "UTF-8 B-encoded subject: %s", s->subject);
	ok(strcmp(s->from_name, "Andr\xc3\xa9 Pirard") == 0 &&
	    strcmp(s->from_addr, "PIRARD@vm1.ulg.ac.be") == 0,
	    "ISO-8859-1 Q-encoded name: %s <%s>", s->from_name, s->from_addr);
	ok(strcmp(s->from_key, "ANDRE\xcc\x81 PIRARD") == 0,
	    "FROM sorts by the name, casemap'd: %s", s->from_key);
	ok(s->sent == SUMMARY_NO_DATE, "no Date: none");

	s = parse("Subject: =?ISO-8859-1?Q?Caf=E9_cr=E8me?=\r\n"
	    "\t=?ISO-8859-1?Q?_br=FBl=E9e?=\r\n"
	    "From: bob@example.org\r\n"
	    "Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\n\r\n");
	ok(strcmp(s->subject, "Caf\xc3\xa9 cr\xc3\xa8me br\xc3\xbbl\xc3\xa9"
	    "e") == 0, "encoded words folded over lines (CRLF) join: %s",
	    s->subject);
	ok(s->sent == 760686745, "Date: in seconds since the epoch: %lld",
	    (long long)s->sent);
	ok(strcmp(s->from_name, "") == 0 &&
	    strcmp(s->from_key, "BOB@EXAMPLE.ORG") == 0,
	    "no name: FROM sorts by the address");

	s = parse("subject: a long\n subject\n\tfolded   twice\n"
	    "Subject: the second one\n"
	    "DATE: not a date at all\n"
	    "From: \"Doe, John\" <john@doe.example>, ann@example.org\n"
	    "To: Ann <ann@example.org>, carl@example.org,"
	    " undisclosed-recipients:;\n");
	ok(strcmp(s->subject, "a long subject folded   twice") == 0,
	    "folded plain subject, the first of two: [%s]", s->subject);
	ok(strcmp(s->base_subject, "A LONG SUBJECT FOLDED TWICE") == 0,
	    "base subject: white space packed: [%s]", s->base_subject);
	ok(s->sent == SUMMARY_NO_DATE, "an unparsable Date: none");
	ok(strcmp(s->from_name, "Doe, John") == 0 &&
	    strcmp(s->from_addr, "john@doe.example") == 0,
	    "the first From address");
	ok(strcmp(s->to_text, "Ann, carl@example.org, "
	    "undisclosed-recipients") == 0, "to_text: %s", s->to_text);

	s = parse("From: =?UTF-8?Q?=E2=98=83?= Snow <snow@example.org>\n"
	    "Subject: caf\xc3\xa9 8-bit, and \xff\xfe not UTF-8\n"
	    "Message-ID: <B27397-0100000@Blurdybloop.COM>\n"
	    "In-Reply-To: a comment <first@example.org>\n"
	    " <second@example.org>\n"
	    "References: <root@x> broken <no space@x> <a@x>\n\t<b@x>\n");
	ok(strcmp(s->from_name, "\xe2\x98\x83 Snow") == 0,
	    "an encoded word in a display name: %s", s->from_name);
	ok(strncmp(s->subject, "caf\xc3\xa9 8-bit, and ", 16) == 0 &&
	    utf8_valid(s->subject),
	    "undeclared 8-bit: kept as valid UTF-8: %s", s->subject);
	ok(strcmp(str(s->message_id), "<B27397-0100000@Blurdybloop.COM>")
	    == 0, "Message-ID: %s", str(s->message_id));
	ok(strcmp(str(s->in_reply_to), "<first@example.org>") == 0,
	    "In-Reply-To: its first id: %s", str(s->in_reply_to));
	ok(strcmp(str(s->references), "<root@x> <a@x> <b@x>") == 0,
	    "References: the valid ids: %s", str(s->references));

	s = parse("Subject: x\n");
	ok(s->message_id == NULL && s->in_reply_to == NULL &&
	    s->references == NULL && s->from_name[0] == '\0' &&
	    s->to_text[0] == '\0', "absent fields: NULL ids, empty text");
	s = parse("\nSubject: in the body\n");
	ok(s->subject[0] == '\0', "an empty first line: no header");
	s = parse("Subject: a\0b\nFrom: x@y\n");
	ok(strcmp(s->subject, "a") == 0, "a C string stops at NUL");
	{
		static const char h[] = "Subject: a\0b\tc\r\nX: y\n\n";

		summary_free(&sum);
		summary_parse(h, sizeof(h) - 1, &sum);
		ok(strcmp(sum.subject, "a b\tc") == 0 ||
		    strcmp(sum.subject, "a b c") == 0,
		    "NUL inside a field is a space: [%s]", sum.subject);
	}
	s = parse("Subject: =?UTF-8?Q?line=0Abreak=0D=07bell?=\n");
	ok(strchr(s->subject, '\n') == NULL && strchr(s->subject, '\a') ==
	    NULL, "encoded control characters are spaces: [%s]",
	    s->subject);
}

static void
test_attachment(void)
{
	static const struct {
		const char	*hdr;
		int		 has;
	} cases[] = {
		{ "Subject: plain\n", 0 },
		{ "Content-Type: text/plain; charset=utf-8\n", 0 },
		{ "Content-Type: Multipart/Mixed; boundary=\"x\"\n", 1 },
		{ "Content-Type: multipart/alternative; boundary=x\n", 0 },
		{ "Content-Type: multipart/related; boundary=x\n", 0 },
		{ "Content-Type: multipart/signed; boundary=x\n", 0 },
		{ "Content-Type: application/pdf; name=a.pdf\n", 1 },
		{ "Content-Type: image/png\n", 1 },
		{ "Content-Type: message/rfc822\n", 0 },
		{ "Content-Type: text/plain\n"
		  "Content-Disposition: attachment; filename=a.txt\n", 1 },
		{ "Content-Type: text/plain\n"
		  "Content-Disposition: inline\n", 0 },
		{ "Content-Type: garbage\n", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ok(parse(cases[i].hdr)->has_attachment == cases[i].has,
		    "attachment case %zu: %d", i, cases[i].has);
}

static void
test_base_subject(void)
{
	/* RFC 5256 §2.1, and what its ABNF says of each step; the third
	 * column: a reply or forward (a refwd, "(fwd)" or "[fwd:" taken). */
	static const struct {
		const char	*subject, *base;
		int		 reply;
	} cases[] = {
		{ "Re: [list] Fwd: Subject (fwd)", "SUBJECT", 1 },
		{ "Subject", "SUBJECT", 0 },
		{ "re: RE: Fw: FWD: fwd: hello", "HELLO", 1 },
		{ "Re:Re:hello", "HELLO", 1 },
		{ "Re [2]: hello", "HELLO", 1 },	/* blob in refwd */
		{ "Re[3]:hello", "HELLO", 1 },
		{ "[list] Re: hello", "HELLO", 1 },	/* blob, refwd */
		{ "[list] hello", "HELLO", 0 },		/* (4) */
		{ "[a] [b] hello", "HELLO", 0 },
		{ "[list]", "[LIST]", 0 },		/* (4): not if empty */
		{ "[a][b]", "[B]", 0 },			/* the last blob stays */
		{ "[a] [b]", "[B]", 0 },
		{ "Re: [list]", "[LIST]", 1 },
		{ "Fw: [x]", "[X]", 1 },
		{ "hello (fwd)", "HELLO", 1 },		/* (2) */
		{ "hello (FWD) (fwd)  ", "HELLO", 1 },
		{ "[fwd: hello]", "HELLO", 1 },		/* (6) */
		{ "[Fwd: Re: [list] hello (fwd)]", "HELLO", 1 },
		{ "Fwd: [fwd: re: x] (fwd)", "X", 1 },
		{ "[list] [fwd: x]", "X", 1 },		/* (4), then (6) */
		{ "[fwd: [fwd: x]]", "X", 1 },		/* (6) twice */
		{ "re: [fwd: hello] (fwd)", "HELLO", 1 },
		/* "(fwd)" is a trailer only: at the front it is text. */
		{ "Re: [foo] Fwd: (fwd) subj [fwd]", "(FWD) SUBJ [FWD]", 1 },
		{ "[PATCH v2] re: fix", "FIX", 1 },	/* *subj-blob refwd */
		{ "Re: (fwd)", "", 1 },
		{ "Re: Re: (fwd) (fwd)", "", 1 },
		{ "Fwd: ", "", 1 },
		{ "Re x", "RE X", 0 },			/* no colon: no leader */
		{ "Research: results", "RESEARCH: RESULTS", 0 },
		{ "Refwd: x", "REFWD: X", 0 },
		{ "Fwd", "FWD", 0 },
		{ "Re :x", "X", 1 },			/* "re" *WSP ":" */
		{ "Re; x", "RE; X", 0 },
		{ "Fwd : x", "X", 1 },
		{ "Re:\t\tfoo", "FOO", 1 },
		{ "  lots \t of\t\tspace  ", "LOTS OF SPACE", 0 },
		{ "[fwd: ]", "", 1 },
		{ "", "", 0 },
		/* casemap'd: ß has no titlecase, Ü decomposes */
		{ "RE: Gr\xc3\x9c\xc3\x9f" "E", "GRU\xcc\x88\xc3\x9f" "E", 1 },
	};
	size_t i;
	char *b;
	int reply;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		reply = -1;
		b = summary_base_subject(cases[i].subject, &reply);
		ok(strcmp(b, cases[i].base) == 0 && reply == cases[i].reply,
		    "base subject of \"%s\": \"%s\", %s", cases[i].subject,
		    b, reply ? "a reply" : "no reply");
		free(b);
	}
}

/* The keys of SORT's FROM, TO, CC and RFC 5957's DISPLAYFROM/TO. */
static void
test_sort_keys(void)
{
	struct summary *s;

	s = parse("From: \"Doe, John\" <John.Doe@Example.ORG>, x@y\n"
	    "To: =?UTF-8?Q?=C3=89mile?= <EMILE@example.org>\n"
	    "Cc: (a comment) \"Quoted Local\"@example.org\n"
	    "Subject: Re: hi\n");
	ok(strcmp(s->from_mbox, "JOHN.DOE") == 0 &&
	    strcmp(s->to_mbox, "EMILE") == 0 &&
	    strcmp(s->cc_mbox, "QUOTED LOCAL") == 0,
	    "FROM, TO, CC: the first addr-mailbox, casemap'd: %s %s %s",
	    s->from_mbox, s->to_mbox, s->cc_mbox);
	ok(strcmp(s->from_key, "DOE, JOHN") == 0 &&
	    strcmp(s->to_key, "E\xcc\x81MILE") == 0,
	    "DISPLAYFROM, DISPLAYTO: the names, casemap'd: %s, %s", s->from_key,
	    s->to_key);
	ok(s->reply == 1, "Re: is a reply");
	/* RFC 5255 §4.7: the other comparators fold the keys themselves */
	ok(strcmp(s->raw_from_mbox, "John.Doe") == 0 &&
	    strcmp(s->raw_to_mbox, "EMILE") == 0 &&
	    strcmp(s->raw_cc_mbox, "Quoted Local") == 0 &&
	    strcmp(s->raw_from_key, "Doe, John") == 0 &&
	    strcmp(s->raw_to_key, "\xc3\x89mile") == 0 &&
	    strcmp(s->raw_base_subject, "hi") == 0,
	    "the keys unfolded: %s %s %s, %s, %s, %s", s->raw_from_mbox,
	    s->raw_to_mbox, s->raw_cc_mbox, s->raw_from_key, s->raw_to_key,
	    s->raw_base_subject);
	s = parse("To: undisclosed-recipients:;\nCc: <Bob@Example.org>\n");
	ok(strcmp(s->to_mbox, "UNDISCLOSED-RECIPIENTS") == 0 &&
	    strcmp(s->to_key, "UNDISCLOSED-RECIPIENTS") == 0 &&
	    strcmp(s->cc_mbox, "BOB") == 0 && s->from_mbox[0] == '\0' &&
	    s->reply == 0,
	    "a group: its name; no From: empty; no name: the address: %s %s",
	    s->to_mbox, s->to_key);
	s = parse("To: Ann <ann@example.org>, carl@example.org\n"
	    "From: <Bob@Example.org>\n");
	ok(strcmp(s->to_key, "ANN") == 0 &&
	    strcmp(s->from_key, "BOB@EXAMPLE.ORG") == 0,
	    "DISPLAYFROM without a name: the addr-spec: %s", s->from_key);
}

/* A header far over every limit: the read, the row and the time stay
 * bounded. */
static void
test_hostile(void)
{
	size_t big = 1024 * 1024, n = 0, i;
	char *h = malloc(big + 1), path[300];
	int fd;

	n += snprintf(h + n, big - n, "References: <root@example.org>");
	for (i = 0; n < 200000; i++)
		n += snprintf(h + n, big - n, "\n <id%zu@example.org>", i);
	n += snprintf(h + n, big - n, "\nSubject: ");
	while (n < 400000)
		n += snprintf(h + n, big - n, "=?UTF-8?B?w6TDtsO8?= ");
	n += snprintf(h + n, big - n, "\nTo: ");
	while (n < 500000)
		n += snprintf(h + n, big - n, "Somebody <a@b>, ");
	n += snprintf(h + n, big - n, "\nFrom: ");
	while (n < big - 100)
		h[n++] = 'x';
	n += snprintf(h + n, big - n + 1, "\n\n");
	summary_free(&sum);
	summary_parse(h, n, &sum);
	ok(strlen(sum.subject) <= SUMMARY_SUBJECT_MAX &&
	    strlen(sum.subject) > 900 && utf8_valid(sum.subject),
	    "a huge subject: %zu octets, cut between characters",
	    strlen(sum.subject));
	ok(sum.references != NULL && strlen(sum.references) <=
	    SUMMARY_REFS_MAX && strncmp(sum.references, "<root@example.org> "
	    "<id", 22) == 0, "10,000s of references: %zu octets, the root "
	    "first", sum.references ? strlen(sum.references) : 0);
	ok(strlen(sum.to_text) <= SUMMARY_TO_MAX &&
	    strstr(sum.to_text, "\xe2\x80\xa6") != NULL,
	    "many recipients: %zu octets, ending in an ellipsis",
	    strlen(sum.to_text));
	ok(strlen(sum.from_name) <= SUMMARY_NAME_MAX &&
	    strlen(sum.from_key) <= SUMMARY_ADDR_MAX, "a huge From: bounded");
	/* From a file: only SUMMARY_HEADER_MAX octets are read; the
	 * subject beyond them is not seen. */
	snprintf(path, sizeof(path), "/tmp/test-summary-big.%ld",
	    (long)getpid());
	if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    write(fd, h, n) != (ssize_t)n)
		abort();
	summary_free(&sum);
	ok(summary_read(fd, &sum) == 0 && sum.subject[0] == '\0' &&
	    sum.references != NULL, "from a file: the first 64 KiB only");
	close(fd);
	unlink(path);
	free(h);
}

/* ---- in the index ---- */

static void
put_file(const char *folder, const char *sub, const char *name,
    const char *text, time_t mtime)
{
	char p[600];
	struct timespec ts[2];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/%s%s%s/%s", root, folder,
	    folder[0] ? "/" : "", sub, name);
	if ((fp = fopen(p, "w")) == NULL)
		abort();
	fputs(text, fp);
	fclose(fp);
	ts[0].tv_sec = ts[1].tv_sec = mtime;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	utimensat(AT_FDCWD, p, ts, 0);
}

/* The list as one string: "uid:subject|..." */
static char listed[8192];

static int
list_cb(const struct msummary *m, void *arg)
{
	size_t n = strlen(listed);

	(void)arg;
	snprintf(listed + n, sizeof(listed) - n, "%u:%s|", m->uid,
	    m->subject);
	return 0;
}

static const char *
page(struct mbox *mb, enum msort sort, int reverse, uint32_t off,
    uint32_t lim, uint32_t *total)
{
	listed[0] = '\0';
	if (mbox_summaries(mb, sort, reverse, off, lim, list_cb, NULL,
	    total) == -1)
		return "(error)";
	return listed;
}

static struct msummary one;
static char one_text[4][1024];

static int
one_cb(const struct msummary *m, void *arg)
{
	(void)arg;
	one = *m;
	snprintf(one_text[0], sizeof(one_text[0]), "%s", m->from_name);
	snprintf(one_text[1], sizeof(one_text[1]), "%s", m->subject);
	snprintf(one_text[2], sizeof(one_text[2]), "%s", m->to_text);
	snprintf(one_text[3], sizeof(one_text[3]), "%s",
	    str(m->message_id));
	one.from_name = one_text[0];
	one.subject = one_text[1];
	one.to_text = one_text[2];
	one.message_id = one_text[3];
	one.keywords = NULL;
	one.from_addr = one.in_reply_to = one.references = NULL;
	return 0;
}

static int64_t
db_count(const char *sql)
{
	char p[300];
	sqlite3 *db;
	sqlite3_stmt *s;
	int64_t n = -1;

	snprintf(p, sizeof(p), "%s/index.db", root);
	if (sqlite3_open(p, &db) != SQLITE_OK)
		return -1;
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			n = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
	}
	sqlite3_close(db);
	return n;
}

static int
db_do(const char *sql)
{
	char p[300];
	sqlite3 *db;
	int rc;

	snprintf(p, sizeof(p), "%s/index.db", root);
	if (sqlite3_open(p, &db) != SQLITE_OK)
		return -1;
	sqlite3_busy_timeout(db, 5000);
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

static void
rm_index(void)
{
	static const char *const sfx[] = { "", "-wal", "-shm" };
	char p[300];
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/index.db%s", root, sfx[i]);
		unlink(p);
	}
}

/* Four messages, arrival order 1..4 (names sort so). */
static void
put_four(void)
{
	put_file("", "new", "1000000001.a.host",
	    "From: Zed <zed@example.org>\n"
	    "Subject: Re: [list] Fwd: Banana (fwd)\n"
	    "Date: Tue, 02 Jan 2024 10:00:00 +0000\n"
	    "\nbody one\n", 1700000001);
	put_file("", "new", "1000000002.b.host",
	    "From: =?UTF-8?B?w4VzYQ==?= <asa@example.org>\n"
	    "Subject: apple\n"
	    "Date: Mon, 01 Jan 2024 10:00:00 +0000\n"
	    "Content-Type: multipart/mixed; boundary=x\n"
	    "\n--x--\nmore body, more body, more body, more body\n",
	    1700000002);
	put_file("", "new", "1000000003.c.host",
	    "From: bob@example.org\n"
	    "Subject: =?ISO-8859-1?Q?Cherry?=\n"
	    "\nno date here\n", 1600000000);		/* sent: 2020 */
	put_file("", "new", "1000000004.d.host",
	    "From: Carl <carl@example.org>\n"
	    "Subject: [fwd: apple]\n"
	    "Date: Wed, 03 Jan 2024 10:00:00 +0000\n"
	    "\nx\n", 1700000004);
}

static void
test_index(void)
{
	struct mstore *st;
	struct mbox *in, *arch;
	const char *err;
	uint32_t total, uid;
	char tmp[600];
	int fd;

	snprintf(root, sizeof(root), "/tmp/test-summary.%ld", (long)getpid());
	ok(mstore_open(root, &st, &err) == 0, "open a new store");
	put_four();
	ok(mbox_open(st, "INBOX", &in) == 0, "INBOX picks up 4 messages");
	ok(db_count("SELECT count(*) FROM summary") == 4,
	    "summaries made when the sync adds the rows");
	ok(strcmp(page(in, MSORT_ARRIVAL, 0, 0, 10, &total),
	    "1:Re: [list] Fwd: Banana (fwd)|2:apple|3:Cherry|"
	    "4:[fwd: apple]|") == 0 && total == 4, "arrival: %s", listed);
	ok(strcmp(page(in, MSORT_ARRIVAL, 1, 0, 10, &total),
	    "4:[fwd: apple]|3:Cherry|2:apple|"
	    "1:Re: [list] Fwd: Banana (fwd)|") == 0, "arrival reversed");
	ok(strcmp(page(in, MSORT_DATE, 0, 0, 10, &total),
	    "3:Cherry|2:apple|1:Re: [list] Fwd: Banana (fwd)|"
	    "4:[fwd: apple]|") == 0,
	    "date, INTERNALDATE without Date: %s", listed);
	ok(strcmp(page(in, MSORT_SUBJECT, 0, 0, 10, &total),
	    "2:apple|4:[fwd: apple]|1:Re: [list] Fwd: Banana (fwd)|"
	    "3:Cherry|") == 0, "subject: base subjects, ties by UID: %s",
	    listed);
	ok(strcmp(page(in, MSORT_SUBJECT, 1, 0, 10, &total),
	    "3:Cherry|1:Re: [list] Fwd: Banana (fwd)|4:[fwd: apple]|"
	    "2:apple|") == 0, "subject reversed: %s", listed);
	/* i;unicode-casemap: Å is A and a ring (RFC 5051), before B */
	ok(strcmp(page(in, MSORT_FROM, 0, 0, 10, &total),
	    "2:apple|3:Cherry|4:[fwd: apple]|1:Re: [list] Fwd: Banana (fwd)|")
	    == 0, "from: \xc3\x85sa, bob@, carl, zed: %s", listed);
	ok(strcmp(page(in, MSORT_SIZE, 1, 0, 1, &total),
	    "2:apple|") == 0, "size, the biggest: %s", listed);
	ok(strcmp(page(in, MSORT_DATE, 1, 1, 2, &total),
	    "1:Re: [list] Fwd: Banana (fwd)|2:apple|") == 0 && total == 4,
	    "a page: offset 1, limit 2, newest first: %s", listed);
	ok(strcmp(page(in, MSORT_DATE, 0, 4, 10, &total), "") == 0 &&
	    total == 4, "a page past the end: empty, total still 4");
	ok(strcmp(page(in, MSORT_DATE, 0, 0, 0, &total), "") == 0 &&
	    total == 4, "limit 0: the count alone");
	ok(mbox_summary(in, 2, one_cb, NULL) == 1 &&
	    strcmp(one.from_name, "\xc3\x85sa") == 0 && one.has_attachment &&
	    one.sent == 1704103200 && one.internaldate == 1700000002 &&
	    one.size > 0, "one by UID: %s, attachment, sent %lld",
	    one.from_name, (long long)one.sent);
	ok(mbox_summary(in, 3, one_cb, NULL) == 1 &&
	    one.sent == one.internaldate && one.sent == 1600000000,
	    "no Date: sent is INTERNALDATE");
	ok(mbox_summary(in, 99, one_cb, NULL) == 0, "no such UID: 0");

	/* APPEND and COPY add summaries too. */
	fd = mbox_append_begin(in, tmp, sizeof(tmp));
	ok(fd >= 0 && write(fd, "Subject: appended\r\nTo: x@y\r\n\r\nhi\r\n",
	    34) == 34, "append: write");
	close(fd);
	ok(mbox_append_commit(in, tmp, MF_SEEN, "", 1500000000, &uid) == 0 &&
	    uid == 5, "append: commit");
	ok(mbox_summary(in, 5, one_cb, NULL) == 1 &&
	    strcmp(one.subject, "appended") == 0 &&
	    strcmp(one.to_text, "x@y") == 0 && one.flags == MF_SEEN,
	    "appended message has its summary");
	ok(mbox_open(st, "Archive", &arch) == 0 &&
	    mbox_copy(in, 2, arch, &uid) == 0 && mbox_copy(in, 5, arch,
	    &uid) == 0, "copy two to Archive");
	ok(strcmp(page(arch, MSORT_SUBJECT, 0, 0, 10, &total),
	    "2:appended|1:apple|") == 0 && total == 2,
	    "copies are listed: %s", listed);
	ok(db_count("SELECT count(*) FROM summary") == 7, "7 summaries");
	/* Expunged: its summary goes with its row. */
	uid = 1;
	ok(mbox_expunge(in, &uid, 1) == 0 &&
	    strcmp(page(in, MSORT_ARRIVAL, 0, 0, 1, &total), "2:apple|") == 0
	    && total == 4 && db_count("SELECT count(*) FROM summary") == 6,
	    "expunge takes the summary");
	mbox_close(&arch);
	mbox_close(&in);
	mstore_close(&st);

	/* Rebuilt from the files: summaries at once. */
	rm_index();
	ok(mstore_open(root, &st, &err) == 0 && mbox_open(st, "INBOX",
	    &in) == 0, "index.db removed: rebuilt");
	ok(db_count("SELECT count(*) FROM summary s JOIN mailbox b ON"
	    " b.id = s.mailbox WHERE b.name = 'INBOX'") == 4,
	    "the rebuild made the summaries");
	ok(strcmp(page(in, MSORT_SUBJECT, 0, 0, 10, &total),
	    "4:appended|1:apple|3:[fwd: apple]|2:Cherry|") == 0,
	    "rebuilt, by subject: %s", listed);

	/* A store that cannot keep summaries still lists every message. */
	ok(db_do("DELETE FROM summary WHERE uid IN (1, 4);"
	    "DELETE FROM counts;"
	    "CREATE TRIGGER full BEFORE INSERT ON summary"
	    " BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;")
	    == 0, "summaries lost, and none can be stored");
	/* Rows are lost only behind the store's back (no code deletes
	 * one alone; a row that could not get one is never counted as
	 * having it): a store opened afterwards, without the counts kept
	 * in the index, counts again. */
	mbox_close(&in);
	mstore_close(&st);
	ok(mstore_open(root, &st, &err) == 0 && mbox_open(st, "INBOX",
	    &in) == 0, "opened again");
	ok(strcmp(page(in, MSORT_DATE, 0, 0, 10, &total),
	    "4:appended|2:Cherry|1:apple|3:[fwd: apple]|") == 0 &&
	    total == 4, "every message listed, missing ones by "
	    "INTERNALDATE: %s", listed);
	/* Those without one sort as if their subject were empty. */
	ok(strcmp(page(in, MSORT_SUBJECT, 0, 1, 2, &total),
	    "4:appended|3:[fwd: apple]|") == 0, "and paged: %s", listed);
	ok(mbox_summary(in, 1, one_cb, NULL) == 1 &&
	    strcmp(one.subject, "apple") == 0,
	    "one missing is read from its file");
	ok(db_do("DROP TRIGGER full") == 0 &&
	    strcmp(page(in, MSORT_SUBJECT, 0, 0, 10, &total),
	    "4:appended|1:apple|3:[fwd: apple]|2:Cherry|") == 0 &&
	    db_count("SELECT count(*) FROM summary") == 4,
	    "room again: the missing ones are stored: %s", listed);
	/* The counts the store keeps across a close and an open follow
	 * a message delivered meanwhile (by another process). */
	mbox_close(&in);
	put_file("", "new", "1000000009.e.host", "Subject: late\n\nx\n",
	    1700000009);
	ok(mbox_open(st, "INBOX", &in) == 0 &&
	    strcmp(page(in, MSORT_ARRIVAL, 1, 0, 1, &total), "5:late|") == 0
	    && total == 5, "a delivery after the counts were kept: %s, "
	    "total %u", listed, total);
	mbox_close(&in);
	mstore_close(&st);

	/* The counts table: what one process counted, the next one takes
	 * while the stamps hold (a value planted there shows it is read),
	 * and counts again when they move. */
	{
		struct mbox_status ms;
		const char *inbox = "(SELECT id FROM mailbox WHERE name ="
		    " 'INBOX')";
		char sql[300];
		long unseen;

		snprintf(sql, sizeof(sql), "SELECT count(*) FROM msg WHERE"
		    " mailbox = %s AND (flags & %d) = 0", inbox, MF_SEEN);
		unseen = db_count(sql);
		snprintf(sql, sizeof(sql), "UPDATE counts SET unseen = 77"
		    " WHERE mailbox = %s", inbox);
		ok(db_do(sql) == 0 && mstore_open(root, &st, &err) == 0 &&
		    mbox_open(st, "INBOX", &in) == 0 &&
		    mbox_get_status(in, &ms) == 0 && ms.unseen == 77 &&
		    ms.messages == 5, "a new process takes the counts kept in "
		    "the index: unseen %u", ms.unseen);
		mbox_close(&in);
		put_file("", "new", "1000000010.f.host",
		    "Subject: later\n\nx\n", 1700000010);
		ok(mbox_open(st, "INBOX", &in) == 0 &&
		    mbox_get_status(in, &ms) == 0 && ms.messages == 6 &&
		    ms.unseen == (uint32_t)unseen + 1, "a new message: counted "
		    "again (%u messages, %u unseen)", ms.messages, ms.unseen);
		mbox_close(&in);
		/* Rows of the next message's id left by a program that did
		 * not enforce the foreign keys: the next message's replace
		 * them. */
		ok(db_do("INSERT INTO summary(msg, mailbox, uid, size, sent,"
		    " from_name, from_addr, from_key, to_text, subject,"
		    " base_subject, attachment) SELECT max(id) + 1, 0, 0, 0, 0,"
		    " '', '', '', '', 'stale', 'stale', 0 FROM msg;"
		    "INSERT INTO msg_ext(msg, savedate, emailid)"
		    " SELECT max(id) + 1, 0, 'Mstale' FROM msg;") == 0,
		    "rows left over for the next message");
		put_file("", "new", "1000000011.g.host",
		    "Subject: fresh\n\nx\n", 1700000011);
		ok(mbox_open(st, "INBOX", &in) == 0 &&
		    strcmp(page(in, MSORT_ARRIVAL, 1, 0, 1, &total),
		    "7:fresh|") == 0 && total == 7 &&
		    db_count("SELECT count(*) FROM summary"
		    " WHERE subject = 'stale'") == 0 &&
		    db_count("SELECT count(*) FROM msg_ext"
		    " WHERE emailid = 'Mstale'") == 0,
		    "the next message replaced them: %s", listed);
		mbox_close(&in);
		mstore_close(&st);
	}
}

/* The schema before summaries, as it was made (store.c before them). */
static const char *old_schema =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER);"
    "CREATE TABLE IF NOT EXISTS mailbox("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT UNIQUE NOT NULL,"
    "  uidvalidity INTEGER NOT NULL,"
    "  uidnext INTEGER NOT NULL DEFAULT 1,"
    "  highestmodseq INTEGER NOT NULL DEFAULT 1,"
    "  first_recent INTEGER NOT NULL DEFAULT 1,"
    "  new_mtime INTEGER NOT NULL DEFAULT 0,"
    "  new_known INTEGER NOT NULL DEFAULT 0,"
    "  cur_mtime INTEGER NOT NULL DEFAULT 0,"
    "  cur_known INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS msg("
    "  id INTEGER PRIMARY KEY,"
    "  mailbox INTEGER NOT NULL REFERENCES mailbox(id) ON DELETE CASCADE,"
    "  uid INTEGER NOT NULL,"
    "  file TEXT NOT NULL,"
    "  flags INTEGER NOT NULL,"
    "  keywords TEXT NOT NULL DEFAULT '',"
    "  kwletters TEXT NOT NULL DEFAULT '',"
    "  modseq INTEGER NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  vsize INTEGER NOT NULL,"
    "  internaldate INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX IF NOT EXISTS msg_uid ON msg(mailbox, uid);"
    "CREATE UNIQUE INDEX IF NOT EXISTS msg_file ON msg(mailbox, file);"
    "CREATE TABLE IF NOT EXISTS cache("
    "  msg INTEGER PRIMARY KEY REFERENCES msg(id) ON DELETE CASCADE,"
    "  envelope TEXT, bodystructure TEXT, body TEXT);"
    "CREATE TABLE IF NOT EXISTS vanished("
    "  mailbox INTEGER NOT NULL REFERENCES mailbox(id) ON DELETE CASCADE,"
    "  uid INTEGER NOT NULL, modseq INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS vanished_mod ON vanished(mailbox, modseq);"
    "CREATE TABLE IF NOT EXISTS subscription(name TEXT PRIMARY KEY);";

static void
test_upgrade(void)
{
	struct mstore *st;
	struct mbox *in, *arch;
	const char *err;
	uint32_t total, uid;
	char cmd[400], name[100], text[100], file[100], *sql;
	size_t n;
	int i, r;

	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd) != 0)
		abort();
	snprintf(root, sizeof(root), "/tmp/test-summary-old.%ld",
	    (long)getpid());
	/* A Maildir whose index an older maild made: rows, no summaries. */
	ok(maildir_create(root) == 0, "old: a Maildir");
	put_file("", "cur", "1000000001.a.host,S=54,W=57:2,S",
	    "Subject: old one\nDate: Tue, 02 Jan 2024 10:00:00 +0000\n\nx\n",
	    1700000001);
	put_file("", "cur", "1000000002.b.host,S=40,W=43:2,",
	    "Subject: =?UTF-8?Q?=C3=A4lter?=\nFrom: a@b\n\nx\n", 1700000002);
	put_file("", "cur", "1000000003.c.host,S=20,W=22:2,",
	    "Subject: Re: aaa\n\nx\n", 1700000003);
	ok(db_do(old_schema) == 0 && db_do(
	    "INSERT INTO meta VALUES ('initialized', 1);"
	    "INSERT INTO mailbox(id, name, uidvalidity, uidnext, highestmodseq)"
	    " VALUES (1, 'INBOX', 1234, 4, 4);"
	    "INSERT INTO msg(mailbox, uid, file, flags, modseq, size, vsize,"
	    " internaldate) VALUES"
	    " (1, 1, '1000000001.a.host,S=54,W=57', 1, 2, 54, 57, 1700000001),"
	    " (1, 2, '1000000002.b.host,S=40,W=43', 0, 3, 40, 43, 1700000002),"
	    " (1, 3, '1000000003.c.host,S=20,W=22', 0, 4, 20, 22, 1700000003);")
	    == 0, "old: its index, of the schema before summaries");
	ok(mstore_open(root, &st, &err) == 0 && mbox_open(st, "INBOX", &in)
	    == 0, "old: opened by this store");
	ok(db_count("SELECT count(*) FROM summary") == 0,
	    "old: the table is there, rows are not summarised yet");
	ok(mbox_get_status(in, &(struct mbox_status){ 0 }) == 0 &&
	    strcmp(page(in, MSORT_SUBJECT, 0, 0, 10, &total),
	    "3:Re: aaa|2:\xc3\xa4lter|1:old one|") == 0 && total == 3,
	    "old: the first list summarises them: %s", listed);
	ok(db_count("SELECT count(*) FROM summary") == 3 &&
	    db_count("SELECT uidvalidity FROM mailbox WHERE name = 'INBOX'")
	    == 1234, "old: kept, and the UIDs are the same");
	ok(mbox_summary(in, 1, one_cb, NULL) == 1 && one.flags == MF_SEEN &&
	    one.sent == 1704189600, "old: flags and date");
	mbox_close(&in);
	mstore_close(&st);
	/* And again, one row at a time. */
	ok(db_do("DELETE FROM summary") == 0 && mstore_open(root, &st, &err)
	    == 0 && mbox_open(st, "INBOX", &in) == 0 &&
	    mbox_summary(in, 2, one_cb, NULL) == 1 &&
	    strcmp(one.subject, "\xc3\xa4lter") == 0 &&
	    db_count("SELECT count(*) FROM summary") == 1,
	    "old: mbox_summary() summarises its row");
	/* A copy of an old row reads the file for its summary. */
	ok(mstore_create(st, "Archive") == 0 && mbox_open(st, "Archive",
	    &arch) == 0 && mbox_copy(in, 3, arch, &uid) == 0 &&
	    db_count("SELECT count(*) FROM summary s JOIN mailbox b ON"
	    " b.id = s.mailbox WHERE b.name = 'Archive'") == 1 &&
	    mbox_summary(arch, uid, one_cb, NULL) == 1 &&
	    strcmp(one.subject, "Re: aaa") == 0,
	    "old: a copy has a summary at once");
	mbox_close(&arch);
	mbox_close(&in);
	mstore_close(&st);
	/* More rows than one batch fills. */
	if ((sql = malloc(600 * 200)) == NULL)
		abort();
	n = snprintf(sql, 200, "BEGIN; DELETE FROM summary;"
	    " UPDATE mailbox SET uidnext = 601 WHERE id = 1;");
	for (i = 4; i <= 600; i++) {
		snprintf(name, sizeof(name), "1000001%03d.x.host,S=30,W=32", i);
		snprintf(text, sizeof(text), "Subject: number %03d\n\nx\n", i);
		snprintf(file, sizeof(file), "%s:2,", name);
		put_file("", "cur", file, text, 1700000000 + i);
		n += snprintf(sql + n, 200, "INSERT INTO msg(mailbox, uid, file,"
		    " flags, modseq, size, vsize, internaldate) VALUES (1, %d,"
		    " '%s', 0, %d, 30, 32, %d);", i, name, i + 10,
		    1700000000 + i);
	}
	snprintf(sql + n, 200, "COMMIT;");
	r = db_do(sql);
	free(sql);
	ok(r == 0 && mstore_open(root, &st, &err) == 0 &&
	    mbox_open(st, "INBOX", &in) == 0, "old: 597 rows more");
	page(in, MSORT_SUBJECT, 0, 1, 2, &total);
	ok(strcmp(listed, "2:\xc3\xa4lter|4:number 004|") == 0 &&
	    total == 600 && db_count("SELECT count(*) FROM summary s JOIN"
	    " mailbox b ON b.id = s.mailbox WHERE b.name = 'INBOX'") == 600,
	    "old: 600 rows summarised in batches: %s", listed);
	mbox_close(&in);
	mstore_close(&st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd) != 0)
		abort();
}

/* The summary table as it was before SORT's keys. */
static const char *summary_v1 =
    "CREATE TABLE summary("
    "  msg INTEGER PRIMARY KEY REFERENCES msg(id) ON DELETE CASCADE,"
    "  mailbox INTEGER NOT NULL, uid INTEGER NOT NULL,"
    "  size INTEGER NOT NULL, sent INTEGER NOT NULL,"
    "  from_name TEXT NOT NULL, from_addr TEXT NOT NULL,"
    "  from_key TEXT NOT NULL, to_text TEXT NOT NULL,"
    "  subject TEXT NOT NULL, base_subject TEXT NOT NULL,"
    "  message_id TEXT, in_reply_to TEXT, refs TEXT,"
    "  attachment INTEGER NOT NULL);";

static char keys_seen[1024];

static int
keys_cb(const struct msortkeys *k, void *arg)
{
	size_t n = strlen(keys_seen);

	(void)arg;
	snprintf(keys_seen + n, sizeof(keys_seen) - n, "%u:%s,%s,%s,%s,%s,"
	    "%d,%lld|", k->uid, k->from_mbox, k->to_mbox, k->from_display,
	    k->base_subject, str(k->message_id), k->reply,
	    (long long)k->sent);
	return 0;
}

/* An index whose summaries have no SORT keys: they are made again. */
static void
test_sort_upgrade(void)
{
	struct mstore *st;
	struct mbox *in;
	const char *err;
	char cmd[400];

	snprintf(root, sizeof(root), "/tmp/test-summary-keys.%ld",
	    (long)getpid());
	ok(maildir_create(root) == 0, "keys: a Maildir");
	put_file("", "cur", "1000000001.a.host,S=80,W=84:2,S",
	    "From: Ann <ANN@x.org>\nTo: bob@y.org\nSubject: Re: one\n"
	    "Message-ID: <1@x>\n\nx\n", 1700000001);
	put_file("", "cur", "1000000002.b.host,S=20,W=22:2,",
	    "Subject: two\n\nx\n", 1700000002);
	ok(db_do(old_schema) == 0 && db_do(summary_v1) == 0 && db_do(
	    "INSERT INTO meta VALUES ('initialized', 1);"
	    "INSERT INTO mailbox(id, name, uidvalidity, uidnext, highestmodseq)"
	    " VALUES (1, 'INBOX', 1234, 3, 3);"
	    "INSERT INTO msg(id, mailbox, uid, file, flags, modseq, size,"
	    " vsize, internaldate) VALUES"
	    " (1, 1, 1, '1000000001.a.host,S=80,W=84', 1, 2, 80, 84,"
	    " 1700000001),"
	    " (2, 1, 2, '1000000002.b.host,S=20,W=22', 0, 3, 20, 22,"
	    " 1700000002);"
	    "INSERT INTO summary VALUES (1, 1, 1, 84, 1700000001, 'Ann',"
	    " 'ANN@x.org', 'ann', 'bob@y.org', 'Re: one', 'one', '<1@x>',"
	    " NULL, NULL, 0);") == 0, "keys: an index of the version before");
	ok(mstore_open(root, &st, &err) == 0 && mbox_open(st, "INBOX", &in)
	    == 0 && db_count("SELECT count(*) FROM summary") == 0,
	    "keys: opened, its summaries dropped");
	keys_seen[0] = '\0';
	ok(mbox_sort_keys(in, MSK_TEXT | MSK_LINKS | MSK_ORDERED, keys_cb,
	    NULL) == 0 && strcmp(keys_seen,
	    "1:ANN,BOB,ANN,ONE,<1@x>,1,1700000001|"
	    "2:,,,TWO,(null),0,1700000002|") == 0 &&
	    db_count("SELECT count(*) FROM summary WHERE reply IS NOT NULL")
	    == 2, "keys: made again, and kept: %s", keys_seen);
	keys_seen[0] = '\0';
	ok(mbox_sort_keys(in, MSK_MSG | MSK_TEXT | MSK_LINKS, keys_cb,
	    NULL) == 0 && strcmp(keys_seen,
	    "1:ANN,BOB,ANN,ONE,<1@x>,1,1700000001|"
	    "2:,,,TWO,(null),0,1700000002|") == 0,
	    "keys: the same with the rows' columns: %s", keys_seen);
	keys_seen[0] = '\0';
	ok(mbox_sort_keys(in, 0, keys_cb, NULL) == 0 && (strcmp(keys_seen,
	    "1:,,,,(null),0,1700000001|2:,,,,(null),0,1700000002|") == 0 ||
	    strcmp(keys_seen, "2:,,,,(null),0,1700000002|"
	    "1:,,,,(null),0,1700000001|") == 0),
	    "keys: the dates alone: %s", keys_seen);
	/* A row an older program summarised: read from its file. */
	ok(db_do("UPDATE summary SET reply = NULL, from_mbox = NULL"
	    " WHERE uid = 1") == 0, "keys: a row without them");
	keys_seen[0] = '\0';
	ok(mbox_sort_keys(in, MSK_TEXT | MSK_LINKS, keys_cb, NULL) == 0 &&
	    strncmp(keys_seen, "1:ANN,BOB,ANN,ONE,<1@x>,1,1700000001|", 37)
	    == 0, "keys: read from the file: %s", keys_seen);
	keys_seen[0] = '\0';
	ok(mbox_sort_keys(in, MSK_MSG | MSK_TEXT, keys_cb, NULL) == 0 &&
	    strncmp(keys_seen, "1:ANN,BOB,ANN,ONE,<1@x>,1,1700000001|", 37)
	    == 0, "keys: read from the file, with the rows: %s", keys_seen);
	mbox_close(&in);
	mstore_close(&st);
	/* An index whose keys were case-folded, before i;unicode-casemap:
	 * its summaries go once, and are made again in the new form. */
	ok(db_do("UPDATE summary SET from_key = lower(from_key),"
	    " base_subject = lower(base_subject);"
	    "DELETE FROM meta WHERE key = 'casemap_keys'") == 0 &&
	    db_count("SELECT count(*) FROM summary") == 2,
	    "keys: an index of case-folded keys");
	ok(mstore_open(root, &st, &err) == 0 && mbox_open(st, "INBOX", &in)
	    == 0 && db_count("SELECT count(*) FROM summary") == 0,
	    "keys: opened, its summaries dropped");
	keys_seen[0] = '\0';
	ok(mbox_sort_keys(in, MSK_TEXT | MSK_LINKS, keys_cb, NULL) == 0 &&
	    strncmp(keys_seen, "1:ANN,BOB,ANN,ONE,<1@x>,1,1700000001|", 37)
	    == 0 && db_count("SELECT count(*) FROM summary") == 2,
	    "keys: made again, casemap'd: %s", keys_seen);
	mbox_close(&in);
	mstore_close(&st);
	ok(mstore_open(root, &st, &err) == 0 &&
	    db_count("SELECT count(*) FROM summary") == 2,
	    "keys: the next open keeps them");
	/* MSK_RAW: the keys as the message has them, for COMPARATOR's
	 * i;octet and i;ascii-casemap (RFC 5255 §4.7) */
	ok(mbox_open(st, "INBOX", &in) == 0, "keys: INBOX again");
	keys_seen[0] = '\0';
	ok(mbox_sort_keys(in, MSK_TEXT | MSK_LINKS | MSK_RAW, keys_cb, NULL)
	    == 0 && strcmp(keys_seen, "1:ANN,bob,Ann,one,<1@x>,1,1700000001|"
	    "2:,,,two,(null),0,1700000002|") == 0,
	    "keys: unfolded: %s", keys_seen);
	keys_seen[0] = '\0';
	ok(mbox_sort_keys(in, MSK_MSG | MSK_TEXT | MSK_RAW, keys_cb, NULL)
	    == 0 && strncmp(keys_seen, "1:ANN,bob,Ann,one,<1@x>,1,1700000001|",
	    37) == 0, "keys: unfolded, with the rows: %s", keys_seen);
	ok(db_do("UPDATE summary SET raw_subject = NULL WHERE uid = 1") == 0,
	    "keys: a row without them unfolded");
	keys_seen[0] = '\0';
	ok(mbox_sort_keys(in, MSK_TEXT | MSK_LINKS | MSK_RAW, keys_cb, NULL)
	    == 0 && strncmp(keys_seen, "1:ANN,bob,Ann,one,<1@x>,1,1700000001|",
	    37) == 0, "keys: unfolded from the file: %s", keys_seen);
	keys_seen[0] = '\0';
	ok(mbox_sort_keys(in, MSK_TEXT | MSK_LINKS, keys_cb, NULL) == 0 &&
	    strncmp(keys_seen, "1:ANN,BOB,ANN,ONE,<1@x>,1,1700000001|", 37)
	    == 0, "keys: the folded ones still from the index: %s", keys_seen);
	mbox_close(&in);
	mstore_close(&st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd) != 0)
		abort();
}

/* ---- SUMMARY_BENCH=n: how long lists of n messages take ---- */

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
bench_cb(const struct msummary *m, void *arg)
{
	(*(size_t *)arg) += strlen(m->subject) + 1;
	return 0;
}

static int
dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One page, BENCH_RUNS times: the fastest and the median time. */
#define BENCH_RUNS	7
static void
bench_page(struct mbox *mb, enum msort sort, int rev, uint32_t off,
    uint32_t lim, const char *what)
{
	double t[BENCH_RUNS], t0;
	uint32_t total;
	size_t got;
	int i;

	for (i = 0; i < BENCH_RUNS; i++) {
		got = 0;
		t0 = now_ms();
		mbox_summaries(mb, sort, rev, off, lim, bench_cb, &got, &total);
		t[i] = now_ms() - t0;
	}
	qsort(t, BENCH_RUNS, sizeof(t[0]), dbl_cmp);
	diag("bench: %-34s %5.2f ms (median %5.2f)", what, t[0],
	    t[BENCH_RUNS / 2]);
}

static void
bench(int n)
{
	static const char *const sorts[] = { "arrival", "date", "from",
	    "subject", "size" };
	struct mstore *st;
	struct mbox *in;
	const char *err;
	char name[64], text[600], cmd[400], what[64];
	uint32_t total, offs[2];
	size_t got;
	double t0, t;
	int i, k, rev;

	snprintf(root, sizeof(root), "/tmp/test-summary-bench.%ld",
	    (long)getpid());
	if (maildir_create(root) == -1)
		abort();
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%010d.b.host", i);
		snprintf(text, sizeof(text),
		    "Return-Path: <s%d@example.org>\n"
		    "Received: from mx.example.org by mail.example.net with "
		    "ESMTPS id %d; Mon, 1 Jan 2024 00:00:00 +0000\n"
		    "From: =?UTF-8?Q?Sender_N=C2=B0%d?= <s%d@example.org>\n"
		    "To: Someone <me@example.net>\n"
		    "Subject: %sSubject number %d of the test\n"
		    "Date: %s, %d Jan 2024 %02d:%02d:00 +0100\n"
		    "Message-ID: <%d.%d@example.org>\n"
		    "Content-Type: text/plain; charset=utf-8\n\n"
		    "Body %d\n", i % 97, i, (i * 7919) % 1000, i % 97,
		    i % 3 == 0 ? "Re: " : "", (i * 104729) % n,
		    "Mon", 1 + (i * 31) % 28, (i * 13) % 24, i % 60, i, n, i);
		put_file("", "new", name, text, 1700000000 + i);
	}
	t0 = now_ms();
	if (mstore_open(root, &st, &err) == -1 ||
	    mbox_open(st, "INBOX", &in) == -1)
		abort();
	t = now_ms() - t0;
	diag("bench: %d messages: first sync (files to cur/, rows, "
	    "summaries): %.0f ms", n, t);
	offs[0] = 0;
	offs[1] = n > 50 ? (uint32_t)n - 50 : 0;
	bench_page(in, MSORT_DATE, 0, 0, 0, "the count alone (limit 0)");
	for (k = 0; k < 5; k++)
		for (rev = 0; rev < 2; rev++)
			for (i = 0; i < 2; i++) {
				snprintf(what, sizeof(what), "50 by %s %s at %u:",
				    sorts[k], rev ? "desc" : "asc", offs[i]);
				bench_page(in, (enum msort)k, rev, offs[i], 50,
				    what);
			}
	bench_page(in, MSORT_DATE, 1, 0, (uint32_t)n, "all, by date");
	mbox_close(&in);
	mstore_close(&st);
	/* An index made before summaries: the first list fills them. */
	if (db_do("DELETE FROM summary") == -1 ||
	    mstore_open(root, &st, &err) == -1 ||
	    mbox_open(st, "INBOX", &in) == -1)
		abort();
	t0 = now_ms();
	mbox_summaries(in, MSORT_DATE, 1, 0, 50, bench_cb, &got, &total);
	diag("bench: first list of an old index (%u summaries made): %.0f ms",
	    total, now_ms() - t0);
	bench_page(in, MSORT_DATE, 1, 0, 50, "and then 50 by date desc:");
	mbox_close(&in);
	mstore_close(&st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd) != 0)
		diag("cleanup failed");
}

int
main(void)
{
	const char *n = getenv("SUMMARY_BENCH");

	test_decoding();
	test_attachment();
	test_base_subject();
	test_sort_keys();
	test_hostile();
	summary_free(&sum);
	test_index();
	test_upgrade();
	test_sort_upgrade();
	if (n != NULL && atoi(n) > 0)
		bench(atoi(n));
	return done_testing();
}
