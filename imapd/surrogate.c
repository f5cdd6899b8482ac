/*
 * surrogate.c: the message a session that did not ENABLE UTF8=ACCEPT
 * (nor IMAP4rev2) is given in place of one whose header holds 8-bit
 * octets.  RFC 6855 §8 makes the server answer for RFC 5322 (ASCII)
 * header fields to such a client; §7 lets it send a surrogate, which
 * SHOULD follow RFC 6857 (post-delivery downgrading).  The body is kept
 * as it is; the top-level header is downgraded field by field with
 * downgrade.c's encoders, so that what a client parses of it agrees with
 * the ENVELOPE and BODYSTRUCTURE it is given:
 *   - a field without 8-bit octets: exactly as it stands;
 *   - an address field: display and group names as RFC 2047 words, an
 *     ASCII address kept, a non-ASCII one an empty group named by the
 *     encoded "name <address>" (an encoded-word is no addr-spec, RFC 2047
 *     §5; RFC 6857 likewise turns such an address into a group);
 *   - Message-ID, In-Reply-To, References: a non-ASCII msg-id has no
 *     ASCII form, so the field goes as Downgraded-Message-Id,
 *     -In-Reply-To or -References (the names RFC 6857 registers), its
 *     value as encoded-words: no reply threads on an id that is not one;
 *   - Content-Type, Content-Disposition: parameters with 8-bit values
 *     as RFC 2231 extended values (charset UTF-8), the rest quoted;
 *   - any other field: its unfolded value as encoded-words, as an
 *     unstructured one (RFC 2047 §5 (1)).
 * Lines are folded between words at 76 octets (RFC 2047 §2).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <glib.h>

#include "../global/mime.h"
#include "imapd.h"

/* RFC 2047 §2: a line with an encoded-word is at most 76 octets. */
#define FOLD_AT		76

struct sg_out {
	struct buf	*b;
	size_t		 col;		/* octets on the current line */
	int		 first;		/* no mailbox yet in this list */
};

/* One token, after a blank (a folding one if the line would be too
 * long). */
static void
sg_token(struct sg_out *o, const char *t, size_t len, int blank)
{
	if (blank && o->col + 1 + len > FOLD_AT && o->col > 1) {
		buf_puts(o->b, "\r\n ");
		o->col = 1;
	} else if (blank) {
		buf_putc(o->b, ' ');
		o->col++;
	}
	buf_append(o->b, t, len);
	o->col += len;
}

/* s as encoded-words (downgrade.c), each a token, the first one fitted
 * to what is left of the line (so that no field begins with a fold,
 * which some parsers keep as a leading blank). */
static void
sg_words(struct sg_out *o, const char *s, int blank)
{
	struct buf ew;
	char *p, *save = NULL;
	size_t room = o->col + 1 < FOLD_AT ? FOLD_AT - o->col - 1 : 0;

	buf_init(&ew, 0);
	imap_encoded_words_fit(&ew, s, room);
	buf_putc(&ew, '\0');
	for (p = strtok_r(ew.data, " ", &save); p != NULL;
	    p = strtok_r(NULL, " ", &save), blank = 1)
		sg_token(o, p, strlen(p), blank);
	buf_release(&ew);
}

/* A phrase (display or group name): 8-bit as encoded-words, else a
 * quoted string. */
static void
sg_phrase(struct sg_out *o, const char *name, int blank)
{
	struct buf q;
	const char *p;

	if (imap_8bit(name)) {
		sg_words(o, name, blank);
		return;
	}
	buf_init(&q, 0);
	buf_putc(&q, '"');
	for (p = name; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			buf_putc(&q, '\\');
		buf_putc(&q, *p);
	}
	buf_putc(&q, '"');
	sg_token(o, q.data, q.len, blank);
	buf_release(&q);
}

/* mime_addr_parse()'s callback: the list written again. */
static void
sg_addr(const struct mime_addr *a, void *arg)
{
	struct sg_out *o = arg;
	struct buf t;
	int named = a->name != NULL && *a->name != '\0';

	if (a->kind == MIME_ADDR_GROUP_END) {
		sg_token(o, ";", 1, 0);
		o->first = 0;
		return;
	}
	if (!o->first)
		sg_token(o, ",", 1, 0);
	if (a->kind == MIME_ADDR_GROUP) {
		sg_phrase(o, named ? a->name : "", 1);
		sg_token(o, ":", 1, 0);
		o->first = 1;
		return;
	}
	o->first = 0;
	buf_init(&t, 0);
	buf_printf(&t, "%s@%s", a->local != NULL ? a->local :
	    "MISSING_MAILBOX", a->domain != NULL ? a->domain :
	    "MISSING_DOMAIN");
	buf_putc(&t, '\0');
	if (imap_8bit(t.data)) {
		/* as the ENVELOPE has it (fetchitems.c): an empty group
		 * named by all of it */
		struct buf n;

		buf_init(&n, 0);
		if (named)
			buf_printf(&n, "%s <%s>", a->name, t.data);
		else
			buf_puts(&n, t.data);
		buf_putc(&n, '\0');
		sg_words(o, n.data, 1);
		sg_token(o, ":;", 2, 0);
		buf_release(&n);
	} else {
		if (named) {
			sg_phrase(o, a->name, 1);
			buf_reset(&t);
			buf_printf(&t, "<%s@%s>", a->local, a->domain);
		} else
			t.len--;	/* the NUL */
		sg_token(o, t.data, t.len, 1);
	}
	buf_release(&t);
}

/* Content-Type or Content-Disposition's parameters; 8-bit values as
 * RFC 2231 §4 extended values. */
static void
sg_params(struct sg_out *o, struct mime_part *p, enum mime_params which)
{
	const char *name, *value, *v;
	struct buf t;
	size_t i;

	for (i = 0; mime_part_param(p, which, i, &name, &value) == 0; i++) {
		sg_token(o, ";", 1, 0);
		buf_init(&t, 0);
		if (imap_8bit(value)) {
			buf_printf(&t, "%s*=%s''", name, g_utf8_validate(value,
			    -1, NULL) ? "UTF-8" : "UNKNOWN-8BIT");
			for (v = value; *v != '\0'; v++)
				if (g_ascii_isalnum(*v) || strchr("-._~", *v))
					buf_putc(&t, *v);
				else
					buf_printf(&t, "%%%02X",
					    (unsigned char)*v);
		} else {
			buf_printf(&t, "%s=\"", name);
			for (v = value; *v != '\0'; v++) {
				if (*v == '"' || *v == '\\')
					buf_putc(&t, '\\');
				buf_putc(&t, *v);
			}
			buf_putc(&t, '"');
		}
		sg_token(o, t.data, t.len, 1);
		buf_release(&t);
	}
}

static int
sg_is(const struct mime_field *f, const char *const *names)
{
	for (; *names != NULL; names++)
		if (mime_field_is(f, *names))
			return 1;
	return 0;
}

static const char *const sg_addr_fields[] = {
	"From", "Sender", "Reply-To", "To", "Cc", "Bcc",
	"Resent-From", "Resent-Sender", "Resent-To", "Resent-Cc",
	"Resent-Bcc", "Return-Path", NULL
};
static const char *const sg_id_fields[] = {
	"Message-ID", "In-Reply-To", "References", NULL
};

/* One field with 8-bit octets, downgraded. */
static void
sg_field(struct buf *b, struct mime_part *root, const struct mime_field *f)
{
	struct sg_out o = { b, 0, 1 };
	const char *d;
	char *v, *t;

	if (f->name == NULL)		/* no colon: no field; dropped */
		return;
	if (sg_is(f, sg_id_fields)) {
		buf_puts(b, "Downgraded-");
		o.col = 11;
	}
	buf_append(b, f->name, f->namelen);
	buf_putc(b, ':');
	o.col += f->namelen + 1;
	v = mime_field_value(f);
	if (sg_is(f, sg_addr_fields))
		mime_addr_parse(v, sg_addr, &o);
	else if (mime_field_is(f, "Content-Type")) {
		t = g_strdup_printf("%s/%s", mime_part_type(root),
		    mime_part_subtype(root));
		if (imap_8bit(t))
			sg_words(&o, t, 1);
		else
			sg_token(&o, t, strlen(t), 1);
		g_free(t);
		sg_params(&o, root, MIME_PARAMS_TYPE);
	} else if (mime_field_is(f, "Content-Disposition") &&
	    (d = mime_part_disposition(root)) != NULL && !imap_8bit(d)) {
		sg_token(&o, d, strlen(d), 1);
		sg_params(&o, root, MIME_PARAMS_DISPOSITION);
	} else
		sg_words(&o, v, 1);
	buf_puts(b, "\r\n");
	free(v);
}

int
imap_header_8bit(const char *h, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)h[i] >= 0x80)
			return 1;
	return 0;
}

struct mime_msg *
imap_surrogate(struct mime_msg *m)
{
	struct mime_part *root = mime_msg_root(m);
	struct mime_field f;
	struct mime_msg *sg;
	struct buf b;
	const char *data, *hdr;
	size_t len, hlen, pos = 0;

	data = mime_msg_data(m, &len);
	hdr = mime_part_header(root, &hlen);
	buf_init(&b, 0);
	while (mime_field_next(root, &pos, &f)) {
		if (!imap_header_8bit(f.line, f.linelen)) {
			buf_append(&b, f.line, f.linelen);
			if (f.line[f.linelen - 1] != '\n')
				buf_puts(&b, "\r\n");
		} else
			sg_field(&b, root, &f);
	}
	buf_puts(&b, "\r\n");
	/* then the body, exactly */
	hdr += hlen;
	buf_append(&b, hdr, len - (size_t)(hdr - data));
	sg = mime_msg_from_mem(b.data, b.len);
	buf_release(&b);
	return sg;
}
