/*
 * test-mime: global/mime.h on messages stored with LF line ends: loading
 * into the CRLF form, the part tree and its limits, header fields,
 * address-lists, the texts SEARCH matches, and the parts by id as the
 * webmail reads them (RFC 2045-2047, RFC 2231, RFC 5322).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "../lib/buf.h"
#include "mime.h"
#include "../t/tap.h"
#include "../t/mime-msgs.h"

/* What the webmail reads: an alternative, attachments named by RFC 2231
 * and by RFC 2047, an attached message with parts of its own. */
static const char msg_webmail[] =
	"From: =?iso-8859-1?q?Andr=E9?= <andre@example.org>\n"
	"To: Bob <bob@example.net>\n"
	"Subject: =?utf-8?b?4oKsIGludm9pY2U=?=\n"
	"Date: Sat, 5 Dec 2026 10:00:00 +0000\n"
	"MIME-Version: 1.0\n"
	"Content-Type: Multipart/Mixed; boundary=\"=_m\"\n"
	"\n"
	"--=_m\n"
	"Content-Type: multipart/alternative; boundary=alt\n"
	"\n"
	"--alt\n"
	"Content-Type: text/plain; charset=ISO-8859-1\n"
	"Content-Transfer-Encoding: quoted-printable\n"
	"\n"
	"Caf=E9 cr=E8me, voil=E0=\n"
	" !\n"
	"--alt\n"
	"Content-Type: text/html; charset=utf-8\n"
	"Content-Transfer-Encoding: base64\n"
	"Content-ID: <body.html@example.org>\n"
	"\n"
	"PHA+Q2Fmw6k8L3A+\n"
	"--alt--\n"
	"--=_m\n"
	"Content-Type: application/pdf\n"
	"Content-Disposition: ATTACHMENT;\n"
	" filename*=UTF-8''%E2%82%ACuro.pdf\n"
	"Content-Transfer-Encoding: base64\n"
	"\n"
	"JVBERi0xLjQKAP8=\n"
	"--=_m\n"
	"Content-Type: text/plain; name=\"=?utf-8?q?r=C3=A9sum=C3=A9.txt?=\"\n"
	"Content-Disposition: inline\n"
	"\n"
	"plain\n"
	"--=_m\n"
	"Content-Type: message/rfc822\n"
	"\n"
	"From: Inner <in@example.com>\n"
	"Subject: =?utf-8?q?inner_=C3=A9t=C3=A9?=\n"
	"Content-Type: multipart/mixed; boundary=in\n"
	"\n"
	"--in\n"
	"Content-Type: text/plain\n"
	"\n"
	"inner text\n"
	"--in--\n"
	"--=_m--\n";

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
test_load(void)
{
	struct mime_msg *m, *m2;
	const char *data, *data2;
	char *want, out[64], prev = '\0';
	size_t len, len2, i, o = 0;
	const char *in = "a\r\nb\nc\rd\n\n";

	m = load_str(msg_simple);
	ok(m != NULL, "loaded from a file");
	want = crlf(msg_simple);
	data = mime_msg_data(m, &len);
	ok(len == strlen(want) && memcmp(data, want, len) == 0 &&
	    data[len] == '\0', "LF became CRLF (%zu octets)", len);
	m2 = mime_msg_from_mem(msg_simple, strlen(msg_simple));
	data2 = mime_msg_data(m2, &len2);
	ok(len2 == len && memcmp(data, data2, len) == 0,
	    "from memory: the same");
	free(want);
	mime_msg_free(&m);
	mime_msg_free(&m2);
	ok(m == NULL, "free NULLs the pointer");
	mime_msg_free(&m);

	m = load_str("Subject: x\r\n\nA\rB\r\nC\n");
	data = mime_msg_data(m, &len);
	ok(len == 22 && memcmp(data, "Subject: x\r\n\r\nA\rB\r\nC\r\n", len)
	    == 0, "a bare CR stays; an existing CRLF is not doubled");
	mime_msg_free(&m);

	/* The CRLF form made byte by byte is the same. */
	for (i = 0; in[i] != '\0'; i++)
		o += mime_crlf_piece(in + i, 1, out + o, &prev);
	ok(o == 13 && memcmp(out, "a\r\nb\r\nc\rd\r\n\r\n", o) == 0,
	    "crlf pieces of one octet: a CR before a cut is remembered");

	m = load_str("");
	ok(m != NULL && mime_msg_data(m, &len) != NULL && len == 0,
	    "empty message loads");
	ok(mime_part_lines(mime_msg_root(m)) == 0, "empty: no lines");
	mime_msg_free(&m);

	ok(load(msg_simple, strlen(msg_simple), 100) == NULL,
	    "over max_size: refused");
	m = load(msg_simple, strlen(msg_simple), strlen(msg_simple));
	ok(m != NULL, "exactly max_size: loaded");
	mime_msg_free(&m);
	ok(mime_msg_load(-1, 100) == NULL, "a bad descriptor: NULL");
}

static void
test_tree(void)
{
	struct mime_msg *m;
	struct mime_part *root, *p, *alt;
	struct mime_field f;
	const char *name, *value, *s;
	uint32_t path[3];
	size_t pos = 0, len, n = 0;
	char *v;

	m = load_str(msg_nested);
	root = mime_msg_root(m);
	ok(mime_part_nchildren(root) == 3 && mime_part_is(root, "MULTIPART",
	    "mixed"), "nested: three parts in a multipart/mixed");
	alt = mime_part_child(root, 0);
	ok(mime_part_nchildren(alt) == 2 &&
	    strcmp(mime_part_subtype(alt), "alternative") == 0,
	    "part 1: multipart/alternative of two");
	ok(mime_part_child(root, 3) == NULL, "no part 4");
	path[0] = 1;
	path[1] = 2;
	p = mime_part_at(m, path, 2);
	ok(p == mime_part_child(alt, 1) && mime_part_is(p, "text", "html"),
	    "part 1.2 is the html");
	s = mime_part_body(p, &len);
	ok(len == 11 && memcmp(s, "<p>html</p>", 11) == 0 &&
	    mime_part_lines(p) == 1, "its body: a slice, CRLF to the "
	    "delimiter excluded");
	s = mime_part_header(p, &len);
	ok(len == 27 && memcmp(s, "Content-Type: text/html\r\n\r\n", len) == 0,
	    "its header, blank line included");
	path[0] = 2;
	path[1] = 1;
	p = mime_part_at(m, path, 1);
	ok(p != NULL && mime_part_message(p) != NULL &&
	    mime_part_at(m, path, 2) == mime_part_message(p),
	    "2.1 of a message/rfc822 with a one-part message: that message");
	path[0] = 4;
	ok(mime_part_at(m, path, 1) == NULL && mime_part_at(m, path, 0) == NULL,
	    "no part 4, no empty path");
	p = mime_part_child(root, 2);
	ok(mime_part_param(p, MIME_PARAMS_TYPE, 0, &name, &value) == 0 &&
	    strcmp(name, "charset") == 0 && strcmp(value, "utf-8") == 0 &&
	    mime_part_param(p, MIME_PARAMS_TYPE, 1, &name, &value) == -1,
	    "part 3: one parameter");
	is_str(mime_part_field(p, "content-language"), "en, de",
	    "a field by name, any case");
	is_str(mime_part_field(p, "X-None"), NULL, "an absent field: NULL");
	while (mime_field_next(root, &pos, &f))
		n++;
	ok(n == 3, "the top-level header has 3 fields");
	mime_msg_free(&m);

	m = load_str("Content-Type: text/plain;\n"
	    " name*0=\"a\"; name*1=\"b.txt\"; charset=\"x\"\n"
	    "Content-Type: text/html\n"
	    "Content-Disposition: Attachment; filename=\"q.txt\"\n"
	    "No colon here\n"
	    "X-Folded: one\n\ttwo  \n"
	    "\n"
	    "body");
	p = mime_msg_root(m);
	ok(mime_part_is(p, "text", "plain"), "the first Content-Type counts");
	ok(mime_part_param(p, MIME_PARAMS_TYPE, 0, &name, &value) == 0 &&
	    strcmp(name, "name") == 0 && strcmp(value, "ab.txt") == 0,
	    "RFC 2231 continuations joined");
	s = mime_part_param_get(p, MIME_PARAMS_TYPE, "CHARSET");
	ok(s != NULL && strcmp(s, "x") == 0, "a parameter by name");
	s = mime_part_disposition(p);
	ok(s != NULL && strcmp(s, "Attachment") == 0, "disposition as written");
	s = mime_part_param_get(p, MIME_PARAMS_DISPOSITION, "filename");
	ok(s != NULL && strcmp(s, "q.txt") == 0, "disposition parameter");
	is_str(mime_part_field(p, "x-folded"), "one\ttwo", "unfolded, trimmed");
	pos = 0;
	n = 0;
	while (mime_field_next(p, &pos, &f))
		if (f.name == NULL && f.valuelen == 13)
			n++;
	ok(n == 1, "a line without a colon is a field without a name");
	v = NULL;
	pos = 0;
	while (mime_field_next(p, &pos, &f))
		if (mime_field_is(&f, "X-FOLDED"))
			v = mime_field_value(&f);
	is_str(v, "one\ttwo", "mime_field_value");
	mime_msg_free(&m);

	m = load_str("Content-Type: garbage\nDate: not a date\n\nx\n");
	p = mime_msg_root(m);
	ok(mime_part_is(p, "text", "plain") &&
	    strcmp(mime_part_param_get(p, MIME_PARAMS_TYPE, "charset"),
	    "US-ASCII") == 0 && mime_part_disposition(p) == NULL,
	    "an invalid Content-Type: text/plain; charset=US-ASCII");
	ok(mime_msg_date(m) == -1, "invalid Date: -1");
	mime_msg_free(&m);

	m = load_str("Content-Type: multipart/digest; boundary=d\n\n"
	    "--d\n\nSubject: one\n\nfirst\n--d--\n");
	p = mime_part_child(mime_msg_root(m), 0);
	ok(p != NULL && mime_part_is(p, "message", "rfc822") &&
	    mime_part_message(p) != NULL, "digest: parts default to "
	    "message/rfc822 (RFC 2046 §5.1.5)");
	mime_msg_free(&m);
}

/* mime_addr_parse() as one line: M(name|utf8|route|local|domain) G(x) E */
static void
addr_cb(const struct mime_addr *a, void *arg)
{
	struct buf *b = arg;

#define S(x) ((x) != NULL ? (x) : "-")
	switch (a->kind) {
	case MIME_ADDR_MAILBOX:
		buf_printf(b, "M(%s|%s|%s|%s|%s)", S(a->name), S(a->name_utf8),
		    S(a->route), S(a->local), S(a->domain));
		break;
	case MIME_ADDR_GROUP:
		buf_printf(b, "G(%s)", S(a->name));
		break;
	case MIME_ADDR_GROUP_END:
		buf_puts(b, a->name == NULL ? "E" : "E!");
		break;
	}
#undef S
}

static char *
addrs(const char *v)
{
	struct buf b;

	buf_init(&b, 0);
	mime_addr_parse(v, addr_cb, &b);
	return buf_take(&b);
}

static void
test_addr(void)
{
	is_str(addrs("John Doe <john@example.com>, jane@example.org"),
	    "M(John Doe|John Doe|-|john|example.com)M(-|-|-|jane|example.org)",
	    "name-addr and addr-spec");
	is_str(addrs("joe@example.com (Joe Q)"),
	    "M(Joe Q|Joe Q|-|joe|example.com)", "a comment serves as name");
	is_str(addrs("Team: a@b.c, <d@e.f>;, solo"),
	    "G(Team)M(-|-|-|a|b.c)M(-|-|-|d|e.f)EM(-|-|-|solo|-)",
	    "a group, its members, its end; no domain");
	is_str(addrs("undisclosed-recipients:;"), "G(undisclosed-recipients)E",
	    "an empty group");
	is_str(addrs("<@route.x,@r2:r@s.t>, \"Q \\\" x\"@q.example"),
	    "M(-|-|@route.x,@r2|r|s.t)M(-|-|-|\"Q \\\" x\"|q.example)",
	    "a route; a quoted local part keeps its quotes");
	is_str(addrs("=?iso-8859-1?q?Andr=E9?= \"Le Roi\" <a@b>"),
	    "M(=?iso-8859-1?q?Andr=E9?= Le Roi|Andr\xc3\xa9 Le Roi|-|a|b)",
	    "an encoded word: raw, and decoded to UTF-8");
	is_str(addrs("\"Smith, Bob\" <bob @ (c) example . net>"),
	    "M(Smith, Bob|Smith, Bob|-|bob|example.net)",
	    "blanks and comments inside an address");
	is_str(addrs("<>, ,,; @@ (unclosed"), "",
	    "junk gives nothing, and ends");
	is_str(addrs("\"unterminated"), "M(-|-|-|\"unterminated\"|-)",
	    "an unterminated quoted string ends at the end");
	is_str(addrs("G: a@b"), "G(G)M(-|-|-|a|b)E", "an unclosed group ends");
}

static void
test_search(void)
{
	struct mime_msg *m;
	char *text;
	struct buf b;
	int i;

	m = load_str(msg_simple);
	ok(mime_msg_date(m) == 760686745, "simple: Date as epoch");
	is_str(mime_msg_header_text(m, "subject"), "Hello world",
	    "simple: SEARCH SUBJECT text unfolded");
	is_str(mime_msg_header_text(m, "X-None"), "", "absent header: \"\"");
	is_str(mime_msg_address_text(m, "To"),
	    "jane@example.org, \"Smith, Bob\" <bob@example.net>\r\n"
	    "<jane@example.org>\r\nSmith, Bob <bob@example.net>",
	    "simple: address text, the field then its addresses");
	mime_msg_free(&m);

	m = load_str(msg_mixed);
	is_str(mime_msg_header_text(m, "Subject"), "Gr\xc3\xbc\xc3\x9f" "e",
	    "mixed: SEARCH decodes an encoded-word subject");
	has(mime_msg_body_text(m), "Caf\xc3\xa9 au lait",
	    "mixed: SEARCH BODY decodes quoted-printable");
	has(mime_msg_headers_text(m), "Subject: Gr\xc3\xbc\xc3\x9f" "e",
	    "mixed: SEARCH TEXT headers decoded");
	ok(mime_msg_date(m) == -1, "mixed: no Date: -1");
	mime_msg_free(&m);

	m = load_str(msg_nested);
	text = mime_msg_body_text(m);
	ok(strstr(text, "plain text") != NULL &&
	    strstr(text, "Hello inner") != NULL &&
	    strstr(text, "Subject: inner subject") != NULL,
	    "nested: SEARCH BODY walks parts and the attached message");
	has(text, "\xc3\xa9\xc3\xa8\xc3\xa0",
	    "nested: SEARCH BODY decodes base64 UTF-8");
	mime_msg_free(&m);

	buf_init(&b, 0);
	for (i = 0; i < 200; i++)
		buf_printf(&b, "Content-Type: multipart/mixed; boundary=b%d\n"
		    "\n--b%d\n", i, i);
	buf_puts(&b, "\ndeep\n");
	for (i = 199; i >= 0; i--)
		buf_printf(&b, "--b%d--\n", i);
	m = load(b.data, b.len, 1 << 20);
	has(mime_msg_body_text(m), "deep",
	    "text below the depth limit is still searched, as plain text");
	mime_msg_free(&m);
	buf_release(&b);

	is_str(mime_decode_header("=?utf-8?q?a=FF?= b \xff"), "a? b \xc3\xbf",
	    "decoded text is UTF-8: a bad octet in a word is '?', a raw one "
	    "Latin-1");
	ok(mime_date_parse("Thu, 1 Jan 1970 00:01:00 +0000") == 60,
	    "a date parsed");
}

/* mime_parts() as lines "depth id type/subtype [flags]". */
struct parts_seen {
	struct buf	 b;
	int		 stop_at;	/* stop after so many, if > 0 */
	int		 n;
	int		 max_depth;
	size_t		 max_id;
};

static int
parts_cb(const struct mime_part_info *i, void *arg)
{
	struct parts_seen *ps = arg;

	buf_printf(&ps->b, "%d %s %s/%s%s%s", i->depth, i->id, i->type,
	    i->subtype, i->is_multipart ? " container" : "",
	    i->is_message ? " message" : "");
	if (i->charset != NULL)
		buf_printf(&ps->b, " charset=%s", i->charset);
	if (i->filename != NULL)
		buf_printf(&ps->b, " filename=%s", i->filename);
	if (i->content_id != NULL)
		buf_printf(&ps->b, " cid=%s", i->content_id);
	if (i->disposition != NULL)
		buf_printf(&ps->b, " %s", i->disposition);
	buf_printf(&ps->b, " %zu\n", i->size);
	if (i->depth > ps->max_depth)
		ps->max_depth = i->depth;
	if (strlen(i->id) > ps->max_id)
		ps->max_id = strlen(i->id);
	return ++ps->n == ps->stop_at ? 42 : 0;
}

static char *
parts(struct mime_msg *m, struct parts_seen *ps)
{
	memset(ps, 0, sizeof(*ps));
	buf_init(&ps->b, 0);
	ok(mime_parts(m, parts_cb, ps) == 0, "mime_parts: all seen");
	return buf_take(&ps->b);
}

static void
test_webmail(void)
{
	struct parts_seen ps;
	struct mime_msg *m;
	char *s;
	size_t len;

	m = load_str(msg_webmail);
	is_str(parts(m, &ps),
	    "0 TEXT multipart/mixed container 833\n"
	    "1 1 multipart/alternative container 276\n"
	    "2 1.1 text/plain charset=ISO-8859-1 28\n"
	    "2 1.2 text/html charset=utf-8 cid=body.html@example.org 16\n"
	    "1 2 application/pdf filename=\xe2\x82\xac" "uro.pdf "
	    "attachment 16\n"
	    "1 3 text/plain filename=r\xc3\xa9sum\xc3\xa9.txt inline 5\n"
	    "1 4 message/rfc822 message 170\n"
	    "2 4.TEXT multipart/mixed container 52\n"
	    "3 4.1 text/plain 10\n",
	    "the parts: ids as BODY[id], types lower case, RFC 2231 and "
	    "RFC 2047 file names decoded, content-id without <>");

	s = mime_part_content(m, "1.1", &len);
	ok(s != NULL && len == 19 &&
	    memcmp(s, "Caf\xe9 cr\xe8me, voil\xe0 !", len) == 0,
	    "quoted-printable content decoded (soft line break joined)");
	free(s);
	is_str(mime_part_text(m, "1.1", &len), "Caf\xc3\xa9 cr\xc3\xa8me, "
	    "voil\xc3\xa0 !", "ISO-8859-1 text converted to UTF-8");
	is_str(mime_part_text(m, "1.2", &len), "<p>Caf\xc3\xa9</p>",
	    "base64 UTF-8 html text");
	s = mime_part_content(m, "2", &len);
	ok(s != NULL && len == 11 && memcmp(s, "%PDF-1.4\n\0\xff", 11) == 0 &&
	    s[len] == '\0', "base64 content: binary, NUL-terminated after");
	free(s);
	is_str(mime_part_text(m, "2", &len), NULL, "no text of a pdf");
	s = mime_part_content(m, "4.1", &len);
	ok(s != NULL && len == 10 && strcmp(s, "inner text") == 0,
	    "a part of the attached message");
	free(s);
	s = mime_part_content(m, "4", &len);
	ok(s != NULL && strncmp(s, "From: Inner", 11) == 0 && len == 170,
	    "the message/rfc822 part: the message as it stands");
	free(s);
	s = mime_part_content(m, "TEXT", &len);
	ok(s != NULL && len == 833 && strncmp(s, "--=_m\r\n", 7) == 0,
	    "TEXT: the top-level body");
	free(s);
	ok(mime_part_content(m, "5", &len) == NULL &&
	    mime_part_content(m, "0", &len) == NULL &&
	    mime_part_content(m, "1.3", &len) == NULL &&
	    mime_part_content(m, "1.x", &len) == NULL &&
	    mime_part_content(m, "", &len) == NULL &&
	    mime_part_content(m, "1.TEXT", &len) == NULL &&
	    mime_part_content(m, "4.2", &len) == NULL,
	    "no such part: NULL");
	ok(mime_part_find(m, "4.tExT") != NULL, "ids ignore case");

	is_str(mime_header(m, NULL, "Subject"), "\xe2\x82\xac invoice",
	    "top-level Subject decoded");
	is_str(mime_header(m, "", "from"), "Andr\xc3\xa9 <andre@example.org>",
	    "top-level From decoded");
	is_str(mime_header_raw(m, NULL, "From"),
	    "=?iso-8859-1?q?Andr=E9?= <andre@example.org>",
	    "raw: for the address parser");
	is_str(mime_header(m, "4", "Subject"), "inner \xc3\xa9t\xc3\xa9",
	    "the message/rfc822 part's Subject");
	is_str(mime_header(m, "4", "To"), NULL, "absent: NULL");
	is_str(mime_header(m, "1", "Subject"), NULL,
	    "not a message/rfc822 part: NULL");
	is_str(mime_header(m, "9", "Subject"), NULL, "no such part: NULL");

	memset(&ps, 0, sizeof(ps));
	buf_init(&ps.b, 0);
	ps.stop_at = 3;
	ok(mime_parts(m, parts_cb, &ps) == 42 && ps.n == 3,
	    "the callback stops the walk, and its value is returned");
	buf_release(&ps.b);
	mime_msg_free(&m);

	m = load_str(msg_simple);
	is_str(parts(m, &ps), "0 1 text/plain charset=US-ASCII 20\n",
	    "a one-part message: its body is part 1");
	is_str(mime_part_text(m, "1", &len), "Line one\r\nLine two\r\n",
	    "its text, CRLF as held");
	mime_msg_free(&m);

	m = load_str("Subject: empty\n\n");
	s = mime_part_content(m, "1", &len);
	ok(s != NULL && len == 0 && *s == '\0', "an empty body: \"\"");
	free(s);
	mime_msg_free(&m);

	m = load_str("Content-Type: message/rfc822\n\nSubject: in\n\nx\n");
	is_str(parts(m, &ps), "0 1 message/rfc822 message 18\n"
	    "1 1.1 text/plain charset=US-ASCII 3\n",
	    "a top-level message/rfc822 with a one-part message");
	is_str(mime_header(m, "1", "subject"), "in", "its header");
	mime_msg_free(&m);
}

/* The caps hold for the webmail's walk too. */
static void
test_caps(void)
{
	struct parts_seen ps;
	struct mime_msg *m;
	struct buf b;
	size_t len;
	char *s;
	int i;

	buf_init(&b, 0);
	for (i = 0; i < 60; i++)
		buf_printf(&b, "Content-Type: multipart/mixed; boundary=b%d\n"
		    "\n--b%d\n", i, i);
	buf_puts(&b, "\ndeep\n");
	for (i = 59; i >= 0; i--)
		buf_printf(&b, "--b%d--\n", i);
	m = load(b.data, b.len, 1 << 20);
	s = parts(m, &ps);
	ok(ps.n == MIME_MAX_DEPTH + 1 && ps.max_depth == MIME_MAX_DEPTH,
	    "60 levels: %d entities, the deepest at depth %d", ps.n,
	    ps.max_depth);
	buf_reset(&b);
	for (i = 0; i < MIME_MAX_DEPTH; i++)
		buf_puts(&b, i == 0 ? "1" : ".1");
	buf_printf(&b, " application/octet-stream");
	ok(strstr(s, b.data) != NULL,
	    "below the limit the part is opaque");
	free(s);
	buf_truncate(&b, 2 * MIME_MAX_DEPTH - 1);
	s = mime_part_content(m, b.data, &len);
	ok(s != NULL && strncmp(s, "--b50\r\n", 7) == 0,
	    "the opaque part's content: its octets");
	free(s);
	buf_puts(&b, ".1");
	ok(mime_part_find(m, b.data) == NULL, "nothing inside it");
	mime_msg_free(&m);

	/* message/rfc822 in message/rfc822 ...: the same depth cap */
	buf_reset(&b);
	for (i = 0; i < 60; i++)
		buf_puts(&b, "Content-Type: message/rfc822\n\n");
	buf_puts(&b, "Subject: deepest\n\nx\n");
	m = load(b.data, b.len, 1 << 20);
	s = parts(m, &ps);
	ok(ps.n == MIME_MAX_DEPTH + 1 && ps.max_depth == MIME_MAX_DEPTH &&
	    ps.max_id < MIME_PART_ID_MAX, "nested messages: capped at "
	    "depth %d, ids of %zu octets", ps.max_depth, ps.max_id);
	free(s);
	mime_msg_free(&m);

	buf_reset(&b);
	buf_puts(&b, "Content-Type: multipart/mixed; boundary=b\n\n");
	for (i = 0; i < 20000; i++)
		buf_puts(&b, "--b\n\n");
	m = load(b.data, b.len, 1 << 20);
	s = parts(m, &ps);
	ok(ps.n == MIME_MAX_PARTS + 1, "20000 parts: %d seen (the last "
	    "runs to the end)", ps.n);
	free(s);
	ok(mime_part_find(m, "10000") != NULL &&
	    mime_part_find(m, "10001") == NULL, "no part past the cap");
	mime_msg_free(&m);
	buf_release(&b);
}

/*
 * mime_decode_header() and mime_date_parse() answer the common cases
 * themselves (ASCII text without "=?"; "[Day, ]D Mon YYYY hh:mm:ss
 * +zzzz"), and mime_msg_from_mem() makes the CRLF form a line at a
 * time: the same as GMime and mime_crlf_piece() on random input.
 */
static uint64_t rnd_state = 88172645463325252ULL;

static unsigned
rnd(unsigned n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (unsigned)(rnd_state % n);
}

static int64_t
gmime_date(const char *v)
{
	GDateTime *dt;
	int64_t t = -1;

	if ((dt = g_mime_utils_header_decode_date(v)) != NULL) {
		t = g_date_time_to_unix(dt);
		g_date_time_unref(dt);
	}
	return t;
}

static void
test_fast_paths(void)
{
	static const char al[] = " \t\r\n\x01\x1f\x7f\"()<>,;:@.\\[]aZ09=?_-";
	static const char *const days[] = { "Mon", "Sun", "mon", "Xyz" };
	static const char *const mons[] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "jan", "Foo" };
	static const char lines[] = "ab\r\n\n\r";
	char s[128], out[256], prev;
	char *g, *d;
	const char *data;
	struct mime_msg *m;
	size_t len, o, j;
	int i, n, bad = 0, fast = 0;

	mime_init();
	for (i = 0; i < 100000; i++) {
		n = (int)rnd(30);
		for (j = 0; j < (size_t)n; j++)
			s[j] = al[rnd(sizeof(al) - 1)];
		s[n] = '\0';
		g = g_mime_utils_header_decode_text(NULL, s);
		d = mime_decode_header(s);
		bad += strcmp(g, d) != 0;
		g_free(g);
		free(d);
	}
	ok(bad == 0, "ASCII header text: as GMime decodes it (%d differ)",
	    bad);

	for (i = bad = 0; i < 200000; i++) {
		snprintf(s, sizeof(s), "%s%s%u %s %0*u %02u:%02u:%02u %c%02u%02u",
		    rnd(3) ? days[rnd(4)] : "", rnd(2) ? ", " : "", rnd(33),
		    mons[rnd(14)], (int)rnd(5), rnd(4) ? 1960 + rnd(100) :
		    rnd(10000), rnd(26), rnd(62), rnd(62), rnd(2) ? '+' : '-',
		    rnd(4) ? rnd(15) : rnd(100), rnd(4) ? rnd(60) : rnd(100));
		fast += mime_date_parse(s) != -1;
		bad += mime_date_parse(s) != gmime_date(s);
	}
	ok(bad == 0 && fast > 10000, "dates: as GMime reads them (%d "
	    "differ, %d valid)", bad, fast);
	ok(mime_date_parse("Tue, 29 Feb 2028 23:59:59 -1200") == 1835524799 &&
	    mime_date_parse("Tue, 29 Feb 2027 23:59:59 -1200") ==
	    gmime_date("Tue, 29 Feb 2027 23:59:59 -1200"),
	    "a leap day, and one that is not");

	for (i = bad = 0; i < 20000; i++) {
		n = (int)rnd(40);
		for (j = 0; j < (size_t)n; j++)
			s[j] = lines[rnd(sizeof(lines) - 1)];
		prev = '\0';
		o = mime_crlf_piece(s, (size_t)n, out, &prev);
		m = mime_msg_from_mem(s, (size_t)n);
		data = mime_msg_data(m, &len);
		bad += len != o || memcmp(data, out, o) != 0 || data[len] != 0;
		mime_msg_free(&m);
	}
	ok(bad == 0, "the CRLF form: as mime_crlf_piece() makes it (%d "
	    "differ)", bad);
}

int
main(void)
{
	test_load();
	test_fast_paths();
	test_tree();
	test_addr();
	test_search();
	test_webmail();
	test_caps();
	return done_testing();
}
