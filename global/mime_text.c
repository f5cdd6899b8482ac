/*
 * mime_text.c: decoding (RFC 2047 header text, dates, bodies from their
 * transfer encoding and charset) and the text SEARCH matches (RFC 3501
 * §6.4.4): decoded headers, addresses as ENVELOPE parses them, and the
 * text of the body parts.
 */
#include <stdlib.h>
#include <string.h>

#include "../lib/buf.h"
#include "../lib/util.h"
#include "mime_private.h"

char *
mime_from_glib(char *g)
{
	char *valid, *s;

	if (g == NULL)
		return util_strdup("");
	if (!g_utf8_validate(g, -1, NULL)) {
		valid = g_utf8_make_valid(g, -1);
		g_free(g);
		g = valid;
	}
	s = util_strdup(g);
	g_free(g);
	return s;
}

/*
 * Text with no encoded word ("=?", RFC 2047 §2) and no 8-bit octet is
 * what GMime would give back unchanged: most Subjects and names, copied
 * without GMime's tokens and allocations.
 */
char *
mime_decode_header(const char *raw)
{
	const unsigned char *p;

	for (p = (const unsigned char *)raw; *p != '\0'; p++)
		if (*p >= 0x80 || (*p == '=' && p[1] == '?'))
			break;
	if (*p == '\0')
		return util_strdup(raw);
	mime_init();
	return mime_from_glib(g_mime_utils_header_decode_text(NULL, raw));
}

/* n digits at p as a number, or -1. */
static int
date_num(const char *p, int n)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

/*
 * The form nearly every Date: has, "[Mon, ]2 Jan 2006 15:04:05 -0700"
 * (RFC 5322 §3.3, single spaces, no comment), read here; 0 for any
 * other text, or a value out of range, which GMime reads instead.  The
 * day name is not checked against the date, as GMime does not.  Days
 * since 1970 as H. Hinnant's days_from_civil counts them.
 */
static int
date_fast(const char *p, int64_t *t_r)
{
	static const char days[] = "MonTueWedThuFriSatSun";
	static const char mons[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int d, m, y, hh, mi, ss, zh, zm, i, leap;
	int64_t yy, era, yoe, doy, doe;

	if (p[0] != '\0' && p[1] != '\0' && p[2] != '\0' && p[3] == ',') {
		for (i = 0; i < 7; i++)
			if (memcmp(p, days + 3 * i, 3) == 0)
				break;
		if (i == 7 || p[4] != ' ')
			return 0;
		p += 5;
	}
	if ((d = date_num(p, 1)) != -1 && p[1] == ' ')
		p += 2;
	else if ((d = date_num(p, 2)) != -1 && p[2] == ' ')
		p += 3;
	else
		return 0;
	for (m = 0; m < 12; m++)
		if (strncmp(p, mons + 3 * m, 3) == 0)
			break;
	if (m == 12 || p[3] != ' ')
		return 0;
	p += 4;
	if ((y = date_num(p, 4)) == -1 || p[4] != ' ' ||
	    (hh = date_num(p + 5, 2)) == -1 || p[7] != ':' ||
	    (mi = date_num(p + 8, 2)) == -1 || p[10] != ':' ||
	    (ss = date_num(p + 11, 2)) == -1 || p[13] != ' ' ||
	    (p[14] != '+' && p[14] != '-') ||
	    (zh = date_num(p + 15, 2)) == -1 ||
	    (zm = date_num(p + 17, 2)) == -1 || p[19] != '\0')
		return 0;
	leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
	if (y < 1970 || d < 1 || d > mdays[m] || (m == 1 && d == 29 &&
	    !leap) || hh > 23 || mi > 59 || ss > 59 || zh > 12 || zm > 59)
		return 0;
	yy = y - (m < 2);
	era = yy / 400;
	yoe = yy - era * 400;
	doy = (153 * (m < 2 ? m + 10 : m - 2) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	*t_r = (era * 146097 + doe - 719468) * 86400 + hh * 3600 + mi * 60 +
	    ss - (p[14] == '-' ? -1 : 1) * (zh * 3600 + zm * 60);
	return 1;
}

int64_t
mime_date_parse(const char *value)
{
	GDateTime *dt;
	int64_t t = -1;

	if (date_fast(value, &t))
		return t;
	mime_init();
	if ((dt = g_mime_utils_header_decode_date(value)) != NULL) {
		t = g_date_time_to_unix(dt);
		g_date_time_unref(dt);
	}
	return t;
}

int64_t
mime_msg_date(struct mime_msg *m)
{
	int64_t t;
	char *v;

	if ((v = mime_part_field(mime_msg_root(m), "Date")) == NULL)
		return -1;
	t = mime_date_parse(v);
	free(v);
	return t;
}

GMimeContentEncoding
mime_part_encoding(const struct mime_part *p)
{
	GMimeContentEncoding enc = GMIME_CONTENT_ENCODING_DEFAULT;
	char *cte;

	if ((cte = mime_part_field(p, "Content-Transfer-Encoding")) != NULL) {
		enc = g_mime_content_encoding_from_string(cte);
		free(cte);
	}
	return enc;
}

/* A text part's body, decoded from its transfer encoding and converted
 * from its charset to UTF-8 by GMime. */
char *
mime_text_of(const struct mime_part *p)
{
	GMimeTextPart *tp;
	GMimeStream *st;
	GMimeDataWrapper *dw;
	const char *charset;
	char *s;

	st = g_mime_stream_mem_new_with_buffer(p->data + p->boff, p->blen);
	dw = g_mime_data_wrapper_new_with_stream(st, mime_part_encoding(p));
	tp = g_mime_text_part_new();
	g_mime_part_set_content(GMIME_PART(tp), dw);
	charset = g_mime_content_type_get_parameter(p->ct, "charset");
	if (charset != NULL)
		g_mime_text_part_set_charset(tp, charset);
	s = mime_from_glib(g_mime_text_part_get_text(tp));
	g_object_unref(tp);
	g_object_unref(dw);
	g_object_unref(st);
	return s;
}

/* ---- SEARCH ---- */

/* A raw field value decoded (RFC 2047) to UTF-8, appended to b. */
static void
search_put_decoded(struct buf *b, const char *raw)
{
	char *s;

	s = mime_decode_header(raw);
	buf_puts(b, s);
	free(s);
}

/* Every field of a header as "Name: decoded value" lines. */
static void
search_headers(struct buf *b, const struct mime_part *p)
{
	struct mime_field f;
	size_t pos = 0;
	char *v;

	while (mime_field_next(p, &pos, &f)) {
		if (f.name == NULL)
			continue;
		buf_append(b, f.name, f.namelen);
		buf_puts(b, ": ");
		v = mime_field_value(&f);
		search_put_decoded(b, v);
		free(v);
		buf_puts(b, "\r\n");
	}
}

/*
 * One address for SEARCH, on a line of its own: "name <local@domain>",
 * as ENVELOPE has it (comments and blanks gone, RFC 5322 §3.4) with the
 * name decoded (RFC 2047).
 */
static void
search_put_mailbox(const struct mime_addr *a, void *arg)
{
	struct buf *b = arg;

	if (a->kind != MIME_ADDR_MAILBOX)
		return;
	buf_puts(b, "\r\n");
	if (a->name_utf8 != NULL) {
		buf_puts(b, a->name_utf8);
		buf_putc(b, ' ');
	}
	buf_putc(b, '<');
	if (a->local != NULL)
		buf_puts(b, a->local);
	if (a->domain != NULL) {
		buf_putc(b, '@');
		buf_puts(b, a->domain);
	}
	buf_putc(b, '>');
}

/* Every field called name, decoded; with addresses, each field's
 * addresses follow it (search_put_mailbox()). */
static char *
search_fields(struct mime_msg *m, const char *name, int addresses)
{
	struct mime_part *root = mime_msg_root(m);
	struct mime_field f;
	struct buf b;
	size_t pos = 0;
	char *v;

	buf_init(&b, 0);
	while (mime_field_next(root, &pos, &f)) {
		if (!mime_field_is(&f, name))
			continue;
		if (b.len > 0)
			buf_puts(&b, "\r\n");
		v = mime_field_value(&f);
		search_put_decoded(&b, v);
		if (addresses)
			mime_addr_parse(v, search_put_mailbox, &b);
		free(v);
	}
	return buf_take(&b);
}

char *
mime_msg_header_text(struct mime_msg *m, const char *name)
{
	return search_fields(m, name, 0);
}

char *
mime_msg_address_text(struct mime_msg *m, const char *name)
{
	return search_fields(m, name, 1);
}

char *
mime_msg_headers_text(struct mime_msg *m)
{
	struct buf b;

	buf_init(&b, 0);
	search_headers(&b, mime_msg_root(m));
	return buf_take(&b);
}

/*
 * The text parts, and the headers and text of attached messages.  What
 * lies below the depth cap is searched as it stands, as plain text:
 * hiding text from SEARCH by nesting it deep must not work.
 */
static void
body_text_append(struct buf *b, const struct mime_part *p)
{
	size_t i;
	char *s;

	if (p->opaque) {
		buf_append(b, p->data + p->boff, p->blen);
		buf_puts(b, "\r\n");
	} else if (mime_part_is(p, "multipart", "*"))
		for (i = 0; i < p->nchild; i++)
			body_text_append(b, &p->child[i]);
	else if (p->msg != NULL) {
		search_headers(b, p->msg);
		body_text_append(b, p->msg);
	} else if (mime_part_is(p, "text", "*")) {
		s = mime_text_of(p);
		buf_puts(b, s);
		buf_puts(b, "\r\n");
		free(s);
	}
}

char *
mime_msg_body_text(struct mime_msg *m)
{
	struct buf b;

	buf_init(&b, 0);
	body_text_append(&b, mime_msg_root(m));
	return buf_take(&b);
}
