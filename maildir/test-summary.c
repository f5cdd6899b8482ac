/*
 * Unit test: message summaries from the header parser (RFC 2047,
 * folding, dates, RFC 5256 base subjects, hostile headers).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "summary.h"
#include "../t/tap.h"

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
	ok(strcmp(s->from_key, "andr\xc3\xa9 pirard") == 0,
	    "FROM sorts by the case-folded name: %s", s->from_key);
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
	    strcmp(s->from_key, "bob@example.org") == 0,
	    "no name: FROM sorts by the address");

	s = parse("subject: a long\n subject\n\tfolded   twice\n"
	    "Subject: the second one\n"
	    "DATE: not a date at all\n"
	    "From: \"Doe, John\" <john@doe.example>, ann@example.org\n"
	    "To: Ann <ann@example.org>, carl@example.org,"
	    " undisclosed-recipients:;\n");
	ok(strcmp(s->subject, "a long subject folded   twice") == 0,
	    "folded plain subject, the first of two: [%s]", s->subject);
	ok(strcmp(s->base_subject, "a long subject folded twice") == 0,
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
	/* RFC 5256 §2.1, and what its ABNF says of each step. */
	static const char *const cases[][2] = {
		{ "Re: [list] Fwd: Subject (fwd)", "subject" },
		{ "Subject", "subject" },
		{ "re: RE: Fw: FWD: fwd: hello", "hello" },
		{ "Re:Re:hello", "hello" },
		{ "Re [2]: hello", "hello" },		/* blob in refwd */
		{ "Re[3]:hello", "hello" },
		{ "[list] Re: hello", "hello" },	/* blob, refwd */
		{ "[list] hello", "hello" },		/* (4) */
		{ "[a] [b] hello", "hello" },
		{ "[list]", "[list]" },			/* (4): not if empty */
		{ "Re: [list]", "[list]" },
		{ "hello (fwd)", "hello" },		/* (2) */
		{ "hello (FWD) (fwd)  ", "hello" },
		{ "[fwd: hello]", "hello" },		/* (6) */
		{ "[Fwd: Re: [list] hello (fwd)]", "hello" },
		{ "Fwd: [fwd: re: x] (fwd)", "x" },
		{ "Re: (fwd)", "" },
		{ "Re x", "re x" },			/* no colon: no leader */
		{ "Research: results", "research: results" },
		{ "Re :x", "x" },			/* "re" *WSP ":" */
		{ "Re; x", "re; x" },
		{ "Fwd : x", "x" },
		{ "  lots \t of\t\tspace  ", "lots of space" },
		{ "[fwd: ]", "" },
		{ "", "" },
		{ "RE: Gr\xc3\x9c\xc3\x9f" "E", "gr\xc3\xbcsse" },	/* fold */
	};
	size_t i;
	char *b;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		b = summary_base_subject(cases[i][0]);
		ok(strcmp(b, cases[i][1]) == 0, "base subject of \"%s\": "
		    "\"%s\"", cases[i][0], b);
		free(b);
	}
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

int
main(void)
{
	test_decoding();
	test_attachment();
	test_base_subject();
	test_hostile();
	summary_free(&sum);
	return done_testing();
}
