/*
 * test-fetch: ENVELOPE, BODY/BODYSTRUCTURE and BODY[section] of
 * imapd/fetchitems.c on messages stored with LF line ends, checked
 * against the CRLF form IMAP reports (RFC 3501 §6.4.5, §7.4.2).  The
 * MIME reading under them, and SEARCH's texts, are global/test-mime.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../global/mime.h"
#include "imapd.h"
#include "../t/tap.h"
#include "../t/mime-msgs.h"

static const char msg_odd[] =
	"From: joe@example.com (Joe Q)\n"
	"Sender: \n"
	"To: Team: a@b.c, <d@e.f>;, solo\n"
	"Cc: <@route.x:r@s.t>, \"Q \\\" x\"@q.example\n"
	"Subject: Gr\xc3\xbc\xc3\x9f" "e 8bit\n"
	"\n"
	"no content type\n";

static const char msg_digest[] =
	"Content-Type: multipart/digest; boundary=d\n"
	"\n"
	"--d\n"
	"\n"
	"Subject: one\n"
	"\n"
	"first\n"
	"--d--\n";

/* BODY[section] as a C string (the sections tested hold no NULs). */
static char *
section(struct mime_msg *m, const char *sec, int *rc)
{
	const char *data;
	char *owned, *s;
	size_t len;

	*rc = imap_fetch_section(m, sec, &data, &len, &owned);
	if ((s = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(s, data, len);
	s[len] = '\0';
	free(owned);
	return s;
}

static void
is_section(struct mime_msg *m, const char *sec, const char *want)
{
	char name[128];
	int rc;

	snprintf(name, sizeof(name), "BODY[%s]", sec);
	is_str(section(m, sec, &rc), want, name);
	if (rc != 0)
		ok(0, "BODY[%s] returned %d", sec, rc);
}

/* Does the (malloc'd) text contain needle?  Frees text. */
static int
has(char *text, const char *needle, const char *what)
{
	int r;

	r = ok(text != NULL && strstr(text, needle) != NULL, "%s", what);
	if (!r)
		diag("text: %s", text != NULL ? text : "(null)");
	free(text);
	return r;
}

static void
test_simple(void)
{
	struct mime_msg *m;
	char *want;

	m = load_str(msg_simple);
	is_str(imap_fetch_envelope(m),
	    "(\"Mon, 7 Feb 1994 21:52:25 -0800\" \"Hello world\" "
	    "((\"John Doe\" NIL \"john\" \"example.com\")) "
	    "((\"John Doe\" NIL \"john\" \"example.com\")) "
	    "((\"John Doe\" NIL \"john\" \"example.com\")) "
	    "((NIL NIL \"jane\" \"example.org\")"
	    "(\"Smith, Bob\" NIL \"bob\" \"example.net\")) "
	    "NIL NIL NIL \"<1@example.com>\")", "simple: ENVELOPE");
	is_str(imap_fetch_bodystructure(m, 1),
	    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" "
	    "20 2 NIL NIL NIL NIL)", "simple: BODYSTRUCTURE defaults");
	is_str(imap_fetch_bodystructure(m, 0),
	    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" "
	    "20 2)", "simple: BODY");
	is_section(m, "1", "Line one\r\nLine two\r\n");
	is_section(m, "text", "Line one\r\nLine two\r\n");
	is_section(m, "HEADER.FIELDS (Subject FROM)",
	    "From: John Doe <john@example.com>\r\n"
	    "Subject: Hello\r\n world\r\n\r\n");
	is_section(m, "HEADER.FIELDS.NOT (Subject From To \"Date\")",
	    "Message-ID: <1@example.com>\r\n\r\n");
	is_section(m, "HEADER.FIELDS (X-None)", "\r\n");
	is_section(m, "2", "");
	is_section(m, "1.1", "");
	is_section(m, "1.HEADER", "");
	want = crlf(msg_simple);
	is_section(m, "", want);
	free(want);
	mime_msg_free(&m);
}

static void
test_mixed(void)
{
	struct mime_msg *m;
	const char *data;
	size_t len;
	char *text;

	m = load_str(msg_mixed);
	is_str(imap_fetch_envelope(m),
	    "(NIL \"=?utf-8?q?Gr=C3=BC=C3=9Fe?=\" "
	    "((NIL NIL \"a\" \"example.com\")) "
	    "((NIL NIL \"a\" \"example.com\")) "
	    "((NIL NIL \"a\" \"example.com\")) "
	    "((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) "
	    "NIL NIL NIL NIL)", "mixed: ENVELOPE, raw subject, empty group");
	is_str(imap_fetch_bodystructure(m, 1),
	    "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL "
	    "\"QUOTED-PRINTABLE\" 17 1 NIL NIL NIL NIL)"
	    "(\"APPLICATION\" \"OCTET-STREAM\" (\"NAME\" \"data.bin\") NIL NIL "
	    "\"BASE64\" 8 NIL (\"ATTACHMENT\" (\"FILENAME\" \"data.bin\")) "
	    "NIL NIL) \"MIXED\" (\"BOUNDARY\" \"XYZ\") NIL NIL NIL)",
	    "mixed: BODYSTRUCTURE");
	is_str(imap_fetch_bodystructure(m, 0),
	    "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL "
	    "\"QUOTED-PRINTABLE\" 17 1)"
	    "(\"APPLICATION\" \"OCTET-STREAM\" (\"NAME\" \"data.bin\") NIL NIL "
	    "\"BASE64\" 8) \"MIXED\")", "mixed: BODY");
	is_section(m, "1", "Caf=C3=A9 au lait");
	is_section(m, "2", "AAECAw==");
	is_section(m, "1.MIME", "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	is_section(m, "9", "");
	is_section(m, "2.1", "");
	text = section(m, "HEADER", &(int){ 0 });
	data = mime_msg_data(m, &len);
	ok(text != NULL && strncmp(data, text, strlen(text)) == 0 &&
	    strlen(text) > 4 &&
	    strcmp(text + strlen(text) - 4, "\r\n\r\n") == 0 &&
	    strstr(text, "preamble") == NULL,
	    "mixed: HEADER is the header, blank line included");
	is_section(m, "TEXT", data + strlen(text));
	free(text);
	mime_msg_free(&m);
}

static void
test_nested(void)
{
	struct mime_msg *m;

	m = load_str(msg_nested);
	is_str(imap_fetch_bodystructure(m, 0),
	    "(((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 10 1)"
	    "(\"TEXT\" \"HTML\" NIL NIL NIL \"7BIT\" 11 1) \"ALTERNATIVE\")"
	    "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 160 "
	    "(NIL \"inner subject\" "
	    "((\"Inner Sender\" NIL \"in\" \"example.com\")) "
	    "((\"Inner Sender\" NIL \"in\" \"example.com\")) "
	    "((\"Inner Sender\" NIL \"in\" \"example.com\")) "
	    "NIL NIL NIL NIL NIL) "
	    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"iso-8859-1\") NIL NIL "
	    "\"BASE64\" 16 1) 6)"
	    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"BASE64\" "
	    "12 1) \"MIXED\")", "nested: BODY");
	has(imap_fetch_bodystructure(m, 1),
	    "\"BASE64\" 12 1 NIL NIL (\"en\" \"de\") NIL) \"MIXED\" "
	    "(\"BOUNDARY\" \"outer\") NIL NIL NIL)",
	    "nested: BODYSTRUCTURE language list and multipart extension");
	is_section(m, "1.1", "plain text");
	is_section(m, "1.2", "<p>html</p>");
	is_section(m, "1.2.MIME", "Content-Type: text/html\r\n\r\n");
	is_section(m, "1", "--inner\r\nContent-Type: text/plain\r\n\r\n"
	    "plain text\r\n--inner\r\nContent-Type: text/html\r\n\r\n"
	    "<p>html</p>\r\n--inner--\r\n");
	is_section(m, "1.3", "");
	is_section(m, "1.HEADER", "");
	is_section(m, "2.TEXT", "SGVsbG8gaW5uZXIK");
	is_section(m, "2.1", "SGVsbG8gaW5uZXIK");
	is_section(m, "2.HEADER.FIELDS (subject)",
	    "Subject: inner subject\r\n\r\n");
	is_section(m, "2.1.MIME", "From: Inner Sender <in@example.com>\r\n"
	    "Subject: inner subject\r\n"
	    "Content-Type: text/plain; charset=iso-8859-1\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n");
	is_section(m, "2.2", "");
	is_section(m, "3", "w6nDqMOgCg==");
	mime_msg_free(&m);
}

static void
test_odd(void)
{
	struct mime_msg *m;

	m = load_str(msg_odd);
	is_str(imap_fetch_envelope(m),
	    "(NIL {12}\r\nGr\xc3\xbc\xc3\x9f" "e 8bit "
	    "((\"Joe Q\" NIL \"joe\" \"example.com\")) "
	    "((\"Joe Q\" NIL \"joe\" \"example.com\")) "
	    "((\"Joe Q\" NIL \"joe\" \"example.com\")) "
	    "((NIL NIL \"Team\" NIL)(NIL NIL \"a\" \"b.c\")"
	    "(NIL NIL \"d\" \"e.f\")(NIL NIL NIL NIL)"
	    "(NIL NIL \"solo\" \"MISSING_DOMAIN\")) "
	    "((NIL \"@route.x\" \"r\" \"s.t\")"
	    "(NIL NIL \"\\\"Q \\\\\\\" x\\\"\" \"q.example\")) "
	    "NIL NIL NIL)",
	    "odd: 8-bit subject as a literal, comment name, group members, "
	    "route, quoted local-part, empty Sender");
	is_str(imap_fetch_bodystructure(m, 0),
	    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" "
	    "17 1)", "odd: no Content-Type: text/plain us-ascii");
	is_section(m, "1.MIME", "From: joe@example.com (Joe Q)\r\n"
	    "Sender: \r\nTo: Team: a@b.c, <d@e.f>;, solo\r\n"
	    "Cc: <@route.x:r@s.t>, \"Q \\\" x\"@q.example\r\n"
	    "Subject: Gr\xc3\xbc\xc3\x9f" "e 8bit\r\n\r\n");
	mime_msg_free(&m);

	m = load_str(msg_digest);
	is_str(imap_fetch_bodystructure(m, 0),
	    "((\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 21 "
	    "(NIL \"one\" NIL NIL NIL NIL NIL NIL NIL NIL) "
	    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" "
	    "5 1) 3) \"DIGEST\")",
	    "digest: parts default to message/rfc822 (RFC 2046 §5.1.5)");
	is_section(m, "1.1", "first");
	mime_msg_free(&m);
}

static void
test_sections_malformed(void)
{
	static const char *const bad[] = {
		"0", "01", "1..2", "1.", ".1", "MIME", "1.MIMEX", "HEADERS",
		"HEADER.FIELDS", "HEADER.FIELDS ()", "HEADER.FIELDS (a",
		"HEADER.FIELDS (a) x", "HEADER.FIELDS  (a)", "1.HEADER.FIELDS",
		"99999999999", "TEXT.1",
	};
	struct mime_msg *m;
	const char *data;
	char *owned;
	size_t i, len;

	m = load_str(msg_simple);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(imap_fetch_section(m, bad[i], &data, &len, &owned) == -1 &&
		    owned == NULL, "malformed section \"%s\": -1", bad[i]);
	is_section(m, "header.fields (\"subject\" FROM)",
	    "From: John Doe <john@example.com>\r\n"
	    "Subject: Hello\r\n world\r\n\r\n");
	mime_msg_free(&m);
}

/* Malformed MIME gives some structure, never a crash or a loop. */
static void
test_robust(void)
{
	struct mime_msg *m;
	struct buf b;
	char *s;
	int i;

	m = load_str("Content-Type: multipart/mixed; boundary=b\n\n"
	    "--b\nContent-Type: text/plain\n\nunclosed\n");
	is_str(imap_fetch_bodystructure(m, 0),
	    "((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 10 1) \"MIXED\")",
	    "no close delimiter: the last part runs to the end");
	mime_msg_free(&m);

	m = load_str("Content-Type: multipart/mixed; boundary=b\n\nnone\n");
	is_str(imap_fetch_bodystructure(m, 0),
	    "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" "
	    "0 0) \"MIXED\")", "boundary never seen: one empty part");
	is_section(m, "1", "");
	mime_msg_free(&m);

	m = load_str("Subject: no body");
	is_section(m, "HEADER", "Subject: no body");
	is_section(m, "TEXT", "");
	is_str(imap_fetch_bodystructure(m, 0),
	    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" "
	    "0 0)", "no blank line: all header");
	mime_msg_free(&m);

	m = load_str("Content-Type: garbage\nDate: not a date\n\nx\n");
	has(imap_fetch_bodystructure(m, 0), "(\"TEXT\" \"PLAIN\" (\"CHARSET\" "
	    "\"US-ASCII\")", "invalid Content-Type: text/plain");
	mime_msg_free(&m);

	m = load_str("Content-Type: text/plain; "
	    "name*0=\"a\"; name*1=\"b.txt\"\n"
	    "Content-Transfer-Encoding: quoted-printable\n"
	    "Content-Type: text/html\n\ncaf=E9\n");
	has(imap_fetch_bodystructure(m, 0), "(\"TEXT\" \"PLAIN\" "
	    "(\"NAME\" \"ab.txt\") NIL NIL \"QUOTED-PRINTABLE\" 8 1)",
	    "RFC 2231 continuations joined; first Content-Type counts");
	mime_msg_free(&m);

	m = load_str("");
	ok(m != NULL, "empty message loads");
	is_section(m, "HEADER", "");
	free(imap_fetch_envelope(m));
	free(imap_fetch_bodystructure(m, 1));
	mime_msg_free(&m);

	/* A bare CR stays; an existing CRLF is not doubled. */
	m = load_str("Subject: x\r\n\nA\rB\r\nC\n");
	is_section(m, "", "Subject: x\r\n\r\nA\rB\r\nC\r\n");
	mime_msg_free(&m);

	buf_init(&b, 0);
	for (i = 0; i < 200; i++)
		buf_printf(&b, "Content-Type: multipart/mixed; boundary=b%d\n"
		    "\n--b%d\n", i, i);
	buf_puts(&b, "\ndeep\n");
	for (i = 199; i >= 0; i--)
		buf_printf(&b, "--b%d--\n", i);
	m = load(b.data, b.len, 1 << 20);
	s = imap_fetch_bodystructure(m, 1);
	ok(s != NULL && strstr(s, "\"APPLICATION\" \"OCTET-STREAM\"") != NULL,
	    "200 levels deep: below the limit the part is opaque");
	free(s);
	is_section(m, "1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1."
	    "1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1."
	    "1.1", "");
	mime_msg_free(&m);

	buf_reset(&b);
	buf_puts(&b, "Content-Type: multipart/mixed; boundary=b\n\n");
	for (i = 0; i < 20000; i++)
		buf_puts(&b, "--b\n\n");
	m = load(b.data, b.len, 1 << 20);
	s = imap_fetch_bodystructure(m, 0);
	ok(s != NULL, "20000 parts: capped, still a structure");
	free(s);
	mime_msg_free(&m);

	buf_release(&b);
}

/* downgrade.c: RFC 2047 encoded-words, 75 octets at most, whole
 * characters in each. */
static void
test_encoded_words(void)
{
	struct buf b;
	const char *p, *q;
	size_t n = 0;
	int ok_len = 1;

	buf_init(&b, 0);
	imap_encoded_words(&b, "caf\xc3\xa9");
	buf_putc(&b, '\0');
	is_str(util_strdup(b.data), "=?UTF-8?B?Y2Fmw6k=?=", "one word");
	buf_reset(&b);
	imap_encoded_words(&b, "caf\xe9");
	buf_putc(&b, '\0');
	is_str(util_strdup(b.data), "=?UNKNOWN-8BIT?B?Y2Fm6Q==?=",
	    "not UTF-8: UNKNOWN-8BIT");
	buf_reset(&b);
	/* 44 ASCII octets, then a 2-octet character that would straddle
	 * the 45-octet boundary: it starts the second word. */
	imap_encoded_words(&b,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9x");
	buf_putc(&b, '\0');
	for (p = b.data; (q = strstr(p, "?=")) != NULL; p = q + 2, n++)
		if (q + 2 - p > 75 + (n > 0))
			ok_len = 0;
	ok(n == 2 && ok_len, "two words of at most 75 octets: %s", b.data);
	ok(strstr(b.data, " =?UTF-8?B?w6l4?=") != NULL,
	    "a character is not split between words");
	buf_release(&b);
	ok(!imap_8bit("plain") && imap_8bit("\xc3\xa9"), "imap_8bit");
}

/* surrogate.c: a header downgraded field by field, the body kept. */
static void
test_surrogate(void)
{
	static const char in[] =
	    "Received: from a.example by b.example for <j\xc3\xb6rg@b.example>\n"
	    "From: Ren\xe9 <rene@example.test>\n"
	    "To: Gr\xc3\xbc\xc3\x9f" "e-Team: a@b.c, \"Kim \\\"K\\\" Lee\" "
	    "<k@b.c>;, plain@b.c\n"
	    "References: <a@b.c>\n <\xc3\xa9@b.c>\n"
	    "X-Plain: stays\n"
	    "Content-Type: text/plain; charset=utf-8; name=\"M\xc3\xa4rz\"\n"
	    "\n"
	    "body \xc3\xa9\n";
	struct mime_msg *m, *sg;
	const char *d, *line, *end;
	size_t len, longest = 0;
	char *h;

	m = mime_msg_from_mem(in, sizeof(in) - 1);
	sg = imap_surrogate(m);
	d = mime_msg_data(sg, &len);
	h = util_strdup(d);
	*strstr(h, "\r\n\r\n") = '\0';
	ok(!imap_header_8bit(h, strlen(h)), "no 8-bit octet in the header");
	ok(len > 9 && strcmp(d + len - 9, "body \xc3\xa9\r\n") == 0, "the body as it is");
	ok(strstr(h, "\r\nFrom: =?UNKNOWN-8BIT?B?UmVu6Q==?= "
	    "<rene@example.test>\r\n") != NULL, "raw Latin-1: UNKNOWN-8BIT");
	ok(strstr(h, "To: =?UTF-8?B?R3LDvMOfZS1UZWFt?=: a@b.c, "
	    "\"Kim \\\"K\\\" Lee\" <k@b.c>;, plain@b.c\r\n") != NULL,
	    "a group's 8-bit name encoded, quoted names quoted again");
	ok(strstr(h, "\r\nDowngraded-References: =?UTF-8?B?") != NULL &&
	    strstr(h, "\r\nReferences:") == NULL,
	    "a non-ASCII msg-id: Downgraded-References (RFC 6857)");
	ok(strstr(h, "Content-Type: text/plain; charset=\"utf-8\"; "
	    "name*=UTF-8''M%C3%A4rz") != NULL,
	    "an 8-bit parameter as RFC 2231 extended value");
	ok(strstr(h, "\r\nX-Plain: stays\r\n") != NULL &&
	    strncmp(h, "Received: =?UTF-8?B?", 20) == 0,
	    "an ASCII field as it stands, another 8-bit one encoded");
	for (line = h; (end = strstr(line, "\r\n")) != NULL; line = end + 2)
		if ((size_t)(end - line) > longest)
			longest = (size_t)(end - line);
	ok(longest <= 76, "lines of at most 76 octets (RFC 2047 §2): %zu",
	    longest);
	free(h);
	mime_msg_free(&sg);
	mime_msg_free(&m);
}

int
main(void)
{
	test_encoded_words();
	test_surrogate();
	test_simple();
	test_mixed();
	test_nested();
	test_odd();
	test_sections_malformed();
	test_robust();
	return done_testing();
}
