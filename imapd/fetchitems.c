/*
 * fetchitems.c: what FETCH makes of a message (global/mime.h): ENVELOPE,
 * BODY and BODYSTRUCTURE (RFC 3501 §7.4.2) and BODY[section] (§6.4.5).
 *
 * Sections are exact byte ranges of the message's CRLF form, or for
 * HEADER.FIELDS[.NOT] the chosen fields exactly as they stand.  A part
 * that does not exist gives an empty result; one below the MIME caps is
 * an opaque application/octet-stream body.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../global/mime.h"
#include "../lib/log.h"
#include "imapd.h"

#define SECTION_MAX_PATH	64	/* numbers in a section-part */

static void	bs_write(struct buf *, struct mime_part *, int, int);

/* Write s upper-cased as an IMAP string (with dg, 8-bit octets as
 * encoded-words, as put_nstring() below). */
static void
put_upper(struct buf *b, const char *s, int dg)
{
	char *u;
	size_t i;

	u = util_strdup(s != NULL ? s : "");
	for (i = 0; u[i] != '\0'; i++)
		u[i] = toupper((unsigned char)u[i]);
	if (dg)
		imap_put_nstring_7bit(b, u);
	else
		imap_put_string(b, u, i);
	free(u);
}

/* An nstring; with dg (the session did not ENABLE UTF8=ACCEPT), 8-bit
 * octets go as encoded-words (downgrade.c). */
static void
put_nstring(struct buf *b, const char *s, int dg)
{
	if (dg)
		imap_put_nstring_7bit(b, s);
	else
		imap_put_nstring(b, s);
}

/* ---- ENVELOPE (RFC 3501 §7.4.2, addresses RFC 5322 §3.4) ---- */

struct env_out {
	struct buf	*b;
	int		 dg;
};

/* An address structure: (name adl mailbox host). */
static void
env_put_addr(struct buf *out, const char *name, const char *adl,
    const char *mailbox, const char *host, int dg)
{
	buf_putc(out, '(');
	put_nstring(out, name, dg);
	buf_putc(out, ' ');
	put_nstring(out, adl, dg);
	buf_putc(out, ' ');
	put_nstring(out, mailbox, dg);
	buf_putc(out, ' ');
	put_nstring(out, host, dg);
	buf_putc(out, ')');
}

/*
 * Downgraded, an address whose local part or domain is not ASCII cannot
 * be written as one (an encoded-word is no addr-spec, RFC 2047 §5): in
 * the spirit of RFC 6858, it becomes an empty group named by the encoded
 * form of "name <address>", which a reader sees and a reply cannot use.
 */
static void
env_put_intl(struct buf *out, const struct mime_addr *a)
{
	struct buf n;

	buf_init(&n, 0);
	if (a->name != NULL && *a->name != '\0')
		buf_printf(&n, "%s <", a->name);
	buf_printf(&n, "%s@%s", a->local, a->domain);
	if (a->name != NULL && *a->name != '\0')
		buf_putc(&n, '>');
	buf_putc(&n, '\0');
	env_put_addr(out, NULL, NULL, n.data, NULL, 1);
	env_put_addr(out, NULL, NULL, NULL, NULL, 1);
	buf_release(&n);
}

/*
 * A mailbox as an address structure, its name as written (RFC 3501
 * sends encoded words as they are).  A missing mailbox or host is named
 * as Dovecot does, since a NIL host would read as group syntax.  A
 * group is (NIL NIL "name" NIL), its members, then (NIL NIL NIL NIL).
 */
static void
env_put_mailbox(const struct mime_addr *a, void *arg)
{
	struct env_out *o = arg;
	struct buf *out = o->b;

	switch (a->kind) {
	case MIME_ADDR_MAILBOX:
		if (o->dg && a->local != NULL && a->domain != NULL &&
		    (imap_8bit(a->local) || imap_8bit(a->domain)))
			env_put_intl(out, a);
		else
			env_put_addr(out, a->name, a->route,
			    a->local != NULL ? a->local : "MISSING_MAILBOX",
			    a->domain != NULL ? a->domain : "MISSING_DOMAIN",
			    o->dg);
		break;
	case MIME_ADDR_GROUP:
		env_put_addr(out, NULL, NULL, a->name, NULL, o->dg);
		break;
	case MIME_ADDR_GROUP_END:
		env_put_addr(out, NULL, NULL, NULL, NULL, o->dg);
		break;
	}
}

/* The addresses of a field's value (NULL: none) as address structures,
 * without the outer parentheses (empty if none). */
static void
env_addresses(const char *v, struct buf *list, int dg)
{
	struct env_out o = { list, dg };

	if (v != NULL)
		mime_addr_parse(v, env_put_mailbox, &o);
}

static void
env_put_list(struct buf *b, const struct buf *list)
{
	if (list->len == 0)
		buf_puts(b, "NIL");
	else {
		buf_putc(b, '(');
		buf_append(b, list->data, list->len);
		buf_putc(b, ')');
	}
}

/* In-Reply-To, Message-ID: with dg, one with 8-bit octets is NIL, as
 * the surrogate header has none (only a Downgraded- field: surrogate.c,
 * RFC 6857): a msg-id has no ASCII form to give. */
static void
put_id(struct buf *b, const char *v, int dg)
{
	if (dg && v != NULL && imap_8bit(v))
		buf_puts(b, "NIL");
	else
		imap_put_nstring(b, v);
}

/*
 * ENVELOPE: (date subject from sender reply-to to cc bcc in-reply-to
 * message-id); sender and reply-to are from when absent or empty.
 * Fields are raw values (RFC 3501 sends encoded words as they are),
 * the first of each name, all found in one pass over the header.
 */
enum { ENV_DATE, ENV_SUBJECT, ENV_FROM, ENV_SENDER, ENV_REPLY_TO, ENV_TO,
	ENV_CC, ENV_BCC, ENV_IRT, ENV_MSGID, ENV_NFIELDS };

static void
env_write(struct buf *b, const struct mime_part *msg, int dg)
{
	static const char *const names[ENV_NFIELDS] = {
		[ENV_DATE] = "Date", [ENV_SUBJECT] = "Subject",
		[ENV_FROM] = "From", [ENV_SENDER] = "Sender",
		[ENV_REPLY_TO] = "Reply-To", [ENV_TO] = "To", [ENV_CC] = "Cc",
		[ENV_BCC] = "Bcc", [ENV_IRT] = "In-Reply-To",
		[ENV_MSGID] = "Message-ID",
	};
	char *v[ENV_NFIELDS];
	struct buf from, other;
	size_t i;

	mime_part_fields(msg, names, ENV_NFIELDS, v);
	buf_init(&from, 0);
	buf_init(&other, 0);
	buf_putc(b, '(');
	put_nstring(b, v[ENV_DATE], dg);
	buf_putc(b, ' ');
	put_nstring(b, v[ENV_SUBJECT], dg);
	buf_putc(b, ' ');
	env_addresses(v[ENV_FROM], &from, dg);
	env_put_list(b, &from);
	buf_putc(b, ' ');
	env_addresses(v[ENV_SENDER], &other, dg);
	env_put_list(b, other.len > 0 ? &other : &from);
	buf_putc(b, ' ');
	buf_reset(&other);
	env_addresses(v[ENV_REPLY_TO], &other, dg);
	env_put_list(b, other.len > 0 ? &other : &from);
	for (i = ENV_TO; i <= ENV_BCC; i++) {
		buf_putc(b, ' ');
		buf_reset(&other);
		env_addresses(v[i], &other, dg);
		env_put_list(b, &other);
	}
	buf_putc(b, ' ');
	put_id(b, v[ENV_IRT], dg);
	buf_putc(b, ' ');
	put_id(b, v[ENV_MSGID], dg);
	buf_putc(b, ')');
	buf_release(&from);
	buf_release(&other);
	for (i = 0; i < ENV_NFIELDS; i++)
		free(v[i]);
}

char *
imap_fetch_envelope(struct mime_msg *m)
{
	return imap_fetch_envelope_dg(m, 0);
}

char *
imap_fetch_envelope_dg(struct mime_msg *m, int dg)
{
	struct buf b;

	buf_init(&b, 0);
	env_write(&b, mime_msg_root(m), dg);
	return buf_take(&b);
}

/* ---- BODY and BODYSTRUCTURE (RFC 3501 §7.4.2, §9 "body") ---- */

/*
 * Type, subtype, encoding, parameter and disposition names are sent
 * upper-cased, as in RFC 3501's examples; values as they are (GMime
 * has already joined and decoded RFC 2231 continuations).
 */
static void
bs_put_params(struct buf *b, struct mime_part *p, enum mime_params which,
    int dg)
{
	const char *name, *value;
	size_t i;

	for (i = 0; mime_part_param(p, which, i, &name, &value) == 0; i++) {
		buf_putc(b, i == 0 ? '(' : ' ');
		put_upper(b, name, dg);
		buf_putc(b, ' ');
		put_nstring(b, value, dg);
	}
	buf_puts(b, i == 0 ? "NIL" : ")");
}

/* body-fld-dsp: ("ATTACHMENT" ("FILENAME" "x")) or NIL (RFC 2183). */
static void
bs_put_disposition(struct buf *b, struct mime_part *p, int dg)
{
	const char *d;

	if ((d = mime_part_disposition(p)) == NULL) {
		buf_puts(b, "NIL");
		return;
	}
	buf_putc(b, '(');
	put_upper(b, d, dg);
	buf_putc(b, ' ');
	bs_put_params(b, p, MIME_PARAMS_DISPOSITION, dg);
	buf_putc(b, ')');
}

/* body-fld-lang: one tag as a string, several as a list (RFC 3282). */
static void
bs_put_language(struct buf *b, char *v, int dg)
{
	struct buf tags;
	char *tag, *save = NULL;
	int n = 0;

	buf_init(&tags, 0);
	if (v != NULL)
		for (tag = strtok_r(v, ", \t", &save); tag != NULL;
		    tag = strtok_r(NULL, ", \t", &save)) {
			if (n++ > 0)
				buf_putc(&tags, ' ');
			put_nstring(&tags, tag, dg);
		}
	if (n == 0)
		buf_puts(b, "NIL");
	else if (n == 1)
		buf_append(b, tags.data, tags.len);
	else {
		buf_putc(b, '(');
		buf_append(b, tags.data, tags.len);
		buf_putc(b, ')');
	}
	buf_release(&tags);
}

/* The fields of a part BODYSTRUCTURE shows, found in one pass. */
enum { BS_ID, BS_DESCRIPTION, BS_ENCODING, BS_MD5, BS_LANGUAGE,
	BS_LOCATION, BS_NFIELDS };

static void
bs_fields(const struct mime_part *p, char **v)
{
	static const char *const names[BS_NFIELDS] = {
		[BS_ID] = "Content-ID",
		[BS_DESCRIPTION] = "Content-Description",
		[BS_ENCODING] = "Content-Transfer-Encoding",
		[BS_MD5] = "Content-MD5", [BS_LANGUAGE] = "Content-Language",
		[BS_LOCATION] = "Content-Location",
	};

	mime_part_fields(p, names, BS_NFIELDS, v);
}

static void
bs_fields_free(char **v)
{
	size_t i;

	for (i = 0; i < BS_NFIELDS; i++)
		free(v[i]);
}

/* A multipart without parts is not grammatical: show one empty part,
 * as Dovecot does. */
#define BS_EMPTY_PART \
	"(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 0 0)"

/* body-type-mpart: the parts, the subtype, then for BODYSTRUCTURE
 * params disposition language location (body-ext-mpart). */
static void
bs_write_multipart(struct buf *b, struct mime_part *p, int ext, int dg)
{
	size_t i, n = mime_part_nchildren(p);
	char *v[BS_NFIELDS];

	buf_putc(b, '(');
	for (i = 0; i < n; i++)
		bs_write(b, mime_part_child(p, i), ext, dg);
	if (n == 0)
		buf_puts(b, BS_EMPTY_PART);
	buf_putc(b, ' ');
	put_upper(b, mime_part_subtype(p), dg);
	if (ext) {
		bs_fields(p, v);
		buf_putc(b, ' ');
		bs_put_params(b, p, MIME_PARAMS_TYPE, dg);
		buf_putc(b, ' ');
		bs_put_disposition(b, p, dg);
		buf_putc(b, ' ');
		bs_put_language(b, v[BS_LANGUAGE], dg);
		buf_putc(b, ' ');
		put_nstring(b, v[BS_LOCATION], dg);
		bs_fields_free(v);
	}
	buf_putc(b, ')');
}

/*
 * body-type-basic/-text/-msg: type subtype params id description
 * encoding size, then lines for TEXT, envelope body lines for
 * MESSAGE/RFC822, and for BODYSTRUCTURE md5 disposition language
 * location (body-ext-1part).
 */
static void
bs_write(struct buf *b, struct mime_part *p, int ext, int dg)
{
	struct mime_part *msg;
	char *v[BS_NFIELDS], *enc;
	size_t len;

	if (mime_part_is(p, "multipart", "*")) {
		bs_write_multipart(b, p, ext, dg);
		return;
	}
	bs_fields(p, v);
	buf_putc(b, '(');
	put_upper(b, mime_part_type(p), dg);
	buf_putc(b, ' ');
	put_upper(b, mime_part_subtype(p), dg);
	buf_putc(b, ' ');
	bs_put_params(b, p, MIME_PARAMS_TYPE, dg);
	buf_putc(b, ' ');
	put_nstring(b, v[BS_ID], dg);
	buf_putc(b, ' ');
	put_nstring(b, v[BS_DESCRIPTION], dg);
	buf_putc(b, ' ');
	enc = v[BS_ENCODING];
	put_upper(b, enc != NULL && *enc != '\0' ? enc : "7BIT", dg);
	(void)mime_part_body(p, &len);
	buf_printf(b, " %zu", len);
	if (mime_part_is(p, "text", "*"))
		buf_printf(b, " %zu", mime_part_lines(p));
	else if ((msg = mime_part_message(p)) != NULL) {
		buf_putc(b, ' ');
		env_write(b, msg, dg);
		buf_putc(b, ' ');
		bs_write(b, msg, ext, dg);
		buf_printf(b, " %zu", mime_part_lines(p));
	}
	if (ext) {
		buf_putc(b, ' ');
		put_nstring(b, v[BS_MD5], dg);
		buf_putc(b, ' ');
		bs_put_disposition(b, p, dg);
		buf_putc(b, ' ');
		bs_put_language(b, v[BS_LANGUAGE], dg);
		buf_putc(b, ' ');
		put_nstring(b, v[BS_LOCATION], dg);
	}
	buf_putc(b, ')');
	bs_fields_free(v);
}

char *
imap_fetch_bodystructure(struct mime_msg *m, int extensible)
{
	return imap_fetch_bodystructure_dg(m, extensible, 0);
}

char *
imap_fetch_bodystructure_dg(struct mime_msg *m, int extensible, int dg)
{
	struct buf b;

	buf_init(&b, 0);
	bs_write(&b, mime_msg_root(m), extensible, dg);
	return buf_take(&b);
}

/* One part's structure (RFC 5524 §3.2's BODYPARTSTRUCTURE: urlauth.c). */
char *
imap_fetch_part_structure(struct mime_part *p)
{
	struct buf b;

	buf_init(&b, 0);
	bs_write(&b, p, 1, 0);
	return buf_take(&b);
}

/* ---- BODY[section] (RFC 3501 §6.4.5) ---- */

enum sec_text {
	SEC_BODY,		/* "" or a bare part number */
	SEC_HEADER,
	SEC_FIELDS,
	SEC_FIELDS_NOT,
	SEC_TEXT,
	SEC_MIME,
};

struct section {
	uint32_t	 path[SECTION_MAX_PATH];
	size_t		 npath;
	enum sec_text	 what;
	char		**fields;	/* HEADER.FIELDS[.NOT] names */
	size_t		 nfields;
};

static void
section_free(struct section *sec)
{
	size_t i;

	for (i = 0; i < sec->nfields; i++)
		free(sec->fields[i]);
	free(sec->fields);
}

/* ASTRING-CHAR (RFC 3501 §9) */
static int
is_astring_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("(){%*\"\\", c) == NULL;
}

/* header-list: "(" header-fld-name *(SP header-fld-name) ")", where a
 * name is an atom or a quoted string. */
static int
section_fields(const char *s, struct section *sec)
{
	struct buf f;
	char **nf;

	if (*s++ != '(')
		return -1;
	for (;;) {
		buf_init(&f, 0);
		if (*s == '"') {
			for (s++; *s != '\0' && *s != '"'; s++) {
				if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
					s++;
				buf_putc(&f, *s);
			}
			if (*s++ != '"') {
				buf_release(&f);
				return -1;
			}
		} else {
			while (is_astring_char(*s))
				buf_putc(&f, *s++);
			if (f.len == 0)
				return -1;
		}
		nf = reallocarray(sec->fields, sec->nfields + 1, sizeof(*nf));
		if (nf == NULL)
			fatal("reallocarray");
		sec->fields = nf;
		sec->fields[sec->nfields++] = buf_take(&f);
		if (*s == ' ')
			s++;
		else if (*s == ')' && s[1] == '\0')
			return 0;
		else
			return -1;
	}
}

/* section-spec = section-msgtext / (section-part ["." section-text]) */
static int
section_parse(const char *s, struct section *sec)
{
	uint64_t n;

	memset(sec, 0, sizeof(*sec));
	while (isdigit((unsigned char)*s)) {
		if (*s == '0' || sec->npath == SECTION_MAX_PATH)
			return -1;		/* nz-number */
		for (n = 0; isdigit((unsigned char)*s); s++)
			if ((n = n * 10 + (*s - '0')) > UINT32_MAX)
				return -1;
		sec->path[sec->npath++] = n;
		if (*s == '\0')
			return 0;
		if (*s++ != '.')
			return -1;
	}
	if (*s == '\0')
		return sec->npath == 0 ? 0 : -1;
	if (strcasecmp(s, "HEADER") == 0)
		sec->what = SEC_HEADER;
	else if (strcasecmp(s, "TEXT") == 0)
		sec->what = SEC_TEXT;
	else if (strcasecmp(s, "MIME") == 0 && sec->npath > 0)
		sec->what = SEC_MIME;
	else if (strncasecmp(s, "HEADER.FIELDS.NOT ", 18) == 0) {
		sec->what = SEC_FIELDS_NOT;
		return section_fields(s + 18, sec);
	} else if (strncasecmp(s, "HEADER.FIELDS ", 14) == 0) {
		sec->what = SEC_FIELDS;
		return section_fields(s + 14, sec);
	} else
		return -1;
	return 0;
}

static int
section_wants(const struct section *sec, const struct mime_field *f)
{
	size_t i;

	for (i = 0; i < sec->nfields; i++)
		if (mime_field_is(f, sec->fields[i]))
			return 1;
	return 0;
}

/* HEADER.FIELDS[.NOT]: the chosen fields exactly as they stand,
 * continuation lines included, then the CRLF that ends a header. */
static char *
section_filter(const struct mime_part *msg, const struct section *sec,
    size_t *len)
{
	struct mime_field f;
	struct buf b;
	size_t pos = 0;
	int keep;

	buf_init(&b, 0);
	while (mime_field_next(msg, &pos, &f)) {
		keep = section_wants(sec, &f);
		if (sec->what == SEC_FIELDS_NOT)
			keep = !keep;
		if (!keep)
			continue;
		buf_append(&b, f.line, f.linelen);
		if (f.line[f.linelen - 1] != '\n')
			buf_puts(&b, "\r\n");
	}
	buf_puts(&b, "\r\n");
	*len = b.len;
	return b.data;
}

int
imap_fetch_section(struct mime_msg *m, const char *section,
    const char **data, size_t *len, char **owned)
{
	struct section sec;
	struct mime_part *msg, *p;

	*data = "";
	*len = 0;
	*owned = NULL;
	if (section_parse(section, &sec) == -1) {
		section_free(&sec);
		return -1;
	}
	msg = mime_msg_root(m);
	if (sec.npath > 0) {
		if ((p = mime_part_at(m, sec.path, sec.npath)) == NULL)
			goto out;		/* no such part: empty */
		if (sec.what == SEC_BODY || sec.what == SEC_MIME) {
			msg = p;
			if (sec.what == SEC_MIME)
				sec.what = SEC_HEADER;
		} else if ((msg = mime_part_message(p)) == NULL)
			goto out;		/* not a message/rfc822 */
	} else if (sec.what == SEC_BODY) {
		*data = mime_msg_data(m, len);
		goto out;
	}
	switch (sec.what) {
	case SEC_HEADER:
		*data = mime_part_header(msg, len);
		break;
	case SEC_BODY:
	case SEC_TEXT:
		*data = mime_part_body(msg, len);
		break;
	case SEC_FIELDS:
	case SEC_FIELDS_NOT:
		*owned = section_filter(msg, &sec, len);
		*data = *owned;
		break;
	case SEC_MIME:
		break;
	}
out:
	section_free(&sec);
	return 0;
}
