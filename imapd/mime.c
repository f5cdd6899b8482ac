/*
 * mime.c: one message as FETCH and SEARCH see it: ENVELOPE, BODY and
 * BODYSTRUCTURE (RFC 3501 §7.4.2), BODY[section] (§6.4.5) and the
 * decoded text that SEARCH matches (§6.4.4).
 *
 * The message is held with CRLF line ends, because every size and
 * offset IMAP reports is on that form (RFC822.SIZE).  The MIME tree is
 * our own scan of header ends and multipart boundaries, so that every
 * part is an exact byte range of the message; GMime parses what is
 * inside a field (Content-Type and Content-Disposition parameters with
 * RFC 2231, RFC 2047 encoded words, dates) and decodes bodies for
 * SEARCH.  GMime's strings are copied to malloc'd memory before they
 * are handed out.
 *
 * Malformed MIME never fails: a missing close delimiter ends the last
 * part at the end of its parent, a boundary never seen gives no parts,
 * and nesting below MIME_MAX_DEPTH (or beyond MIME_MAX_PARTS parts) is
 * treated as an opaque application/octet-stream body (whose octets
 * SEARCH still reads as plain text).
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "../lib/log.h"
#include "imapd.h"

#define MIME_MAX_DEPTH	50	/* deeper multiparts/messages are opaque */
#define MIME_MAX_PARTS	10000	/* per message; later delimiters ignored */
#define MIME_MAX_PATH	64	/* numbers in a section-part */

struct mime_part {
	size_t			 hoff, hlen;	/* header and blank line */
	size_t			 boff, blen;	/* body */
	size_t			 lines;		/* text lines of the body */
	GMimeContentType	*ct;		/* never NULL once built */
	struct mime_part	*child;		/* multipart: the parts */
	size_t			 nchild;
	struct mime_part	*msg;		/* message/rfc822: inside */
	int			 opaque;	/* too deep: not looked into */
};

struct imap_msg {
	char			*data;		/* CRLF form, NUL-terminated */
	size_t			 len;
	struct mime_part	*root;		/* built on first need */
	size_t			 nparts;
};

/* One header field, as it stands in the message. */
struct hdr_field {
	const char	*name;		/* NULL when the line has no colon */
	size_t		 namelen;
	const char	*value;		/* after the colon, still folded */
	size_t		 valuelen;	/* without the final CRLF */
	const char	*line;		/* the whole field, CRLFs included */
	size_t		 linelen;
};

static void	mime_build(struct imap_msg *, struct mime_part *, size_t,
		    size_t, int, int);
static void	bs_write(struct imap_msg *, struct buf *,
		    const struct mime_part *, int);
static void	body_text_append(struct imap_msg *, struct buf *,
		    const struct mime_part *);

/* ---- small helpers ---- */

/* A GLib string copied to malloc'd memory as valid UTF-8; g_free'd. */
static char *
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

/* Write s upper-cased as an IMAP string. */
static void
put_upper(struct buf *b, const char *s)
{
	char *u;
	size_t i;

	u = util_strdup(s != NULL ? s : "");
	for (i = 0; u[i] != '\0'; i++)
		u[i] = toupper((unsigned char)u[i]);
	imap_put_string(b, u, i);
	free(u);
}

/* ---- loading ---- */

/* The whole file, refusing more than max octets. */
static char *
mime_read_all(int fd, size_t max, size_t *len)
{
	struct stat st;
	size_t cap = 8192, n = 0;
	ssize_t r;
	char *p, *np;

	if (max > SIZE_MAX / 2)
		max = SIZE_MAX / 2;	/* so that max + 1 cannot wrap */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size < max)
		cap = (size_t)st.st_size + 1;
	if ((p = malloc(cap)) == NULL)
		return NULL;
	for (;;) {
		if (n == cap) {
			if (cap > max) {
				free(p);
				return NULL;
			}
			cap = cap > max / 2 ? max + 1 : cap * 2;
			if ((np = realloc(p, cap)) == NULL) {
				free(p);
				return NULL;
			}
			p = np;
		}
		if ((r = read(fd, p + n, cap - n)) == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			free(p);
			return NULL;
		}
		if (r == 0)
			break;
		n += r;
	}
	if (n > max) {
		free(p);
		return NULL;
	}
	*len = n;
	return p;
}

/* Bare LF becomes CRLF; CRLF and a lone CR stay as they are. */
static char *
mime_to_crlf(const char *in, size_t n, size_t *outlen)
{
	size_t i, o, bare = 0;
	char *out, prev = '\0';

	for (i = 0; i < n; i++)
		if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r'))
			bare++;
	if ((out = malloc(n + bare + 1)) == NULL)
		return NULL;
	o = imap_crlf_piece(in, n, out, &prev);
	out[o] = '\0';
	*outlen = o;
	return out;
}

size_t
imap_crlf_piece(const char *in, size_t n, char *out, char *prev)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (in[i] == '\n' && *prev != '\r')
			out[o++] = '\r';
		out[o++] = *prev = in[i];
	}
	return o;
}

struct imap_msg *
imap_msg_load(int fd, size_t max_size)
{
	static int gmime_ready;
	struct imap_msg *m;
	char *raw;
	size_t rawlen;

	if (!gmime_ready) {
		g_mime_init();
		gmime_ready = 1;
	}
	if ((raw = mime_read_all(fd, max_size, &rawlen)) == NULL)
		return NULL;
	m = util_calloc(1, sizeof(*m));
	m->data = mime_to_crlf(raw, rawlen, &m->len);
	free(raw);
	if (m->data == NULL) {
		free(m);
		return NULL;
	}
	return m;
}

static void
mime_part_release(struct mime_part *p)
{
	size_t i;

	for (i = 0; i < p->nchild; i++)
		mime_part_release(&p->child[i]);
	free(p->child);
	if (p->msg != NULL) {
		mime_part_release(p->msg);
		free(p->msg);
	}
	if (p->ct != NULL)
		g_object_unref(p->ct);
}

void
imap_msg_free(struct imap_msg **mp)
{
	struct imap_msg *m = *mp;

	if (m == NULL)
		return;
	if (m->root != NULL) {
		mime_part_release(m->root);
		free(m->root);
	}
	free(m->data);
	free(m);
	*mp = NULL;
}

const char *
imap_msg_data(const struct imap_msg *m, size_t *len)
{
	*len = m->len;
	return m->data;
}

/* ---- header fields (RFC 5322 §2.2) ---- */

/* The next field of the header in [*pos, end); 0 at its end. */
static int
hdr_next(const char *data, size_t *pos, size_t end, struct hdr_field *f)
{
	const char *p = data + *pos, *e = data + end, *q, *nl, *colon;
	size_t n;

	if (p >= e || (e - p >= 2 && p[0] == '\r' && p[1] == '\n'))
		return 0;
	/* A field runs on over lines that start with WSP (folding). */
	for (q = p;;) {
		if ((nl = memchr(q, '\n', e - q)) == NULL) {
			q = e;
			break;
		}
		q = nl + 1;
		if (q >= e || (*q != ' ' && *q != '\t'))
			break;
	}
	f->line = p;
	f->linelen = q - p;
	n = f->linelen;
	if (n > 0 && p[n - 1] == '\n')
		n--;
	if (n > 0 && p[n - 1] == '\r')
		n--;
	if ((colon = memchr(p, ':', n)) == NULL) {
		f->name = NULL;
		f->namelen = 0;
		f->value = p;
		f->valuelen = n;
	} else {
		f->name = p;
		f->namelen = colon - p;
		while (f->namelen > 0 && (p[f->namelen - 1] == ' ' ||
		    p[f->namelen - 1] == '\t'))
			f->namelen--;		/* obs-optional WSP */
		f->value = colon + 1;
		f->valuelen = n - (colon + 1 - p);
	}
	*pos = q - data;
	return 1;
}

static int
hdr_name_is(const struct hdr_field *f, const char *name, size_t len)
{
	return f->name != NULL && f->namelen == len &&
	    strncasecmp(f->name, name, len) == 0;
}

/* A value unfolded (CRLF removed, RFC 5322 §2.2.3), blanks trimmed. */
static char *
hdr_unfold(const char *v, size_t len)
{
	char *s;
	size_t i, o = 0;

	s = util_calloc(1, len + 1);
	for (i = 0; i < len; i++)
		if (v[i] != '\r' && v[i] != '\n')
			s[o++] = v[i];
	while (o > 0 && (s[o - 1] == ' ' || s[o - 1] == '\t'))
		o--;
	s[o] = '\0';
	for (i = 0; s[i] == ' ' || s[i] == '\t'; i++)
		;
	memmove(s, s + i, o - i + 1);
	return s;
}

/* The first field called name in p's header, unfolded; NULL if none. */
static char *
hdr_get(const struct imap_msg *m, const struct mime_part *p,
    const char *name)
{
	struct hdr_field f;
	size_t pos = p->hoff, nlen = strlen(name);

	while (hdr_next(m->data, &pos, p->hoff + p->hlen, &f))
		if (hdr_name_is(&f, name, nlen))
			return hdr_unfold(f.value, f.valuelen);
	return NULL;
}

/* ---- the part tree ---- */

/* Header and body of [off, end) split at the first empty line
 * (RFC 5322 §2.1); without one, it is all header. */
static void
mime_split(const char *data, size_t off, size_t end, struct mime_part *p)
{
	const char *nl;
	size_t pos = off, body = end;

	while (pos < end) {
		if (end - pos >= 2 && data[pos] == '\r' &&
		    data[pos + 1] == '\n') {
			body = pos + 2;
			break;
		}
		if ((nl = memchr(data + pos, '\n', end - pos)) == NULL)
			break;
		pos = nl - data + 1;
	}
	p->hoff = off;
	p->hlen = body - off;
	p->boff = body;
	p->blen = end - body;
}

static size_t
mime_count_lines(const char *s, size_t len)
{
	const char *e = s + len, *nl;
	size_t n = 0;

	while (s < e && (nl = memchr(s, '\n', e - s)) != NULL) {
		n++;
		s = nl + 1;
	}
	/* A last line whose CRLF the next delimiter took is still a line
	 * (RFC 2046 §5.1.1), as UW IMAP and Cyrus count. */
	return s < e ? n + 1 : n;
}

/* type "/" subtype before any parameter; GMime would make a value
 * without it application/octet-stream. */
static int
mime_type_valid(const char *v)
{
	size_t n;

	n = strcspn(v, "/;");
	return n > 0 && v[n] == '/' && v[n + 1] != '\0' && v[n + 1] != ';';
}

/*
 * The part's Content-Type.  Without one it is text/plain;
 * charset=us-ascii (RFC 2045 §5.2), or message/rfc822 inside a
 * multipart/digest (RFC 2046 §5.1.5); an invalid one counts as absent,
 * as RFC 2045 §5.2 recommends.
 */
static GMimeContentType *
mime_content_type(const struct imap_msg *m, const struct mime_part *p,
    int in_digest)
{
	GMimeContentType *ct;
	char *v;

	if ((v = hdr_get(m, p, "Content-Type")) != NULL) {
		ct = mime_type_valid(v) ? g_mime_content_type_parse(NULL, v) :
		    NULL;
		free(v);
		if (ct != NULL)
			return ct;
	}
	if (in_digest)
		return g_mime_content_type_new("message", "rfc822");
	ct = g_mime_content_type_new("text", "plain");
	g_mime_content_type_set_parameter(ct, "charset", "US-ASCII");
	return ct;
}

static int
mime_is_multipart(const struct mime_part *p)
{
	return g_mime_content_type_is_type(p->ct, "multipart", "*");
}

/*
 * Is the line at pos a delimiter of boundary b (RFC 2046 §5.1.1)?
 * 1: "--b" and transport padding; 2: the close delimiter "--b--";
 * 0: any other line.
 */
static int
mime_delimiter(const char *data, size_t pos, size_t end, const char *b,
    size_t blen)
{
	const char *p = data + pos;
	size_t n = end - pos, i;

	if (n < 2 + blen || p[0] != '-' || p[1] != '-' ||
	    memcmp(p + 2, b, blen) != 0)
		return 0;
	i = 2 + blen;
	if (n - i >= 2 && p[i] == '-' && p[i + 1] == '-')
		return 2;
	for (; i < n && p[i] != '\r' && p[i] != '\n'; i++)
		if (p[i] != ' ' && p[i] != '\t')
			return 0;
	return 1;
}

static void
mime_add_child(struct imap_msg *m, struct mime_part *p, size_t off,
    size_t end, int depth, int digest)
{
	struct mime_part *c;
	size_t n = p->nchild;

	/* Room doubles at 4, 8, 16 ... parts: linear, not quadratic. */
	if (n == 0 || (n >= 4 && (n & (n - 1)) == 0)) {
		c = reallocarray(p->child, n == 0 ? 4 : 2 * n, sizeof(*c));
		if (c == NULL)
			fatal("reallocarray");
		p->child = c;
	}
	c = &p->child[p->nchild++];
	memset(c, 0, sizeof(*c));
	mime_build(m, c, off, end, depth, digest);
}

/* Split a multipart body at its delimiters; the CRLF before a
 * delimiter belongs to the delimiter (RFC 2046 §5.1.1), and the
 * preamble and epilogue belong to no part. */
static void
mime_multipart(struct imap_msg *m, struct mime_part *p, int depth)
{
	const char *boundary, *nl;
	size_t pos, next, start = 0, end = p->boff + p->blen, bl;
	int kind, open = 0, digest;

	boundary = g_mime_content_type_get_parameter(p->ct, "boundary");
	if (boundary == NULL || *boundary == '\0')
		return;
	bl = strlen(boundary);
	digest = g_mime_content_type_is_type(p->ct, "multipart", "digest");
	for (pos = p->boff; pos < end; pos = next) {
		nl = memchr(m->data + pos, '\n', end - pos);
		next = nl != NULL ? (size_t)(nl - m->data) + 1 : end;
		kind = mime_delimiter(m->data, pos, end, boundary, bl);
		if (kind == 0)
			continue;
		if (m->nparts >= MIME_MAX_PARTS)
			break;		/* the open part runs to the end */
		if (open)
			mime_add_child(m, p, start,
			    pos - start >= 2 ? pos - 2 : start,
			    depth + 1, digest);
		open = kind == 1;
		if (kind == 2)
			break;
		start = next;
	}
	if (open)
		mime_add_child(m, p, start, end, depth + 1, digest);
}

/* Too deep to look into: an opaque body. */
static void
mime_make_opaque(struct mime_part *p)
{
	g_object_unref(p->ct);
	p->ct = g_mime_content_type_new("application", "octet-stream");
	p->opaque = 1;
}

/* The entity [off, end): its header, body and, below it, its parts. */
static void
mime_build(struct imap_msg *m, struct mime_part *p, size_t off, size_t end,
    int depth, int in_digest)
{
	m->nparts++;
	mime_split(m->data, off, end, p);
	p->lines = mime_count_lines(m->data + p->boff, p->blen);
	p->ct = mime_content_type(m, p, in_digest);
	if (mime_is_multipart(p)) {
		if (depth >= MIME_MAX_DEPTH)
			mime_make_opaque(p);
		else
			mime_multipart(m, p, depth);
	} else if (g_mime_content_type_is_type(p->ct, "message", "rfc822")) {
		if (depth >= MIME_MAX_DEPTH || m->nparts >= MIME_MAX_PARTS) {
			mime_make_opaque(p);
			return;
		}
		p->msg = util_calloc(1, sizeof(*p->msg));
		mime_build(m, p->msg, p->boff, p->boff + p->blen, depth + 1, 0);
	}
}

/* The tree, built the first time something needs it. */
static struct mime_part *
mime_tree(struct imap_msg *m)
{
	if (m->root == NULL) {
		m->root = util_calloc(1, sizeof(*m->root));
		mime_build(m, m->root, 0, m->len, 0, 0);
	}
	return m->root;
}

/* ---- addresses for ENVELOPE (RFC 5322 §3.4, RFC 3501 §7.4.2) ---- */

struct alex {
	const char	*p, *end;
	struct buf	 comment;	/* the last comment skipped */
};

/* Where env_address_list() puts what it parses: ENVELOPE's address
 * structures, or the text SEARCH matches. */
struct addr_sink {
	/* one mailbox; local and domain are NULL when absent */
	void		(*mailbox)(struct buf *, const struct buf *name,
			    const struct buf *adl, const char *local,
			    const char *domain);
	/* a group begins (its name) or ends (NULL); may be NULL */
	void		(*group)(struct buf *, const char *name);
	struct buf	*out;
};

static int
is_atext(unsigned char c)
{
	/* RFC 5322 §3.2.3; 8-bit octets as RFC 6532 allows */
	return isalnum(c) || c >= 0x80 ||
	    (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* Skip blanks and comments (RFC 5322 §3.2.2), keeping the last
 * comment's text: "addr@host (Name)" has no other name. */
static void
alex_cfws(struct alex *lx)
{
	int depth;
	char c;

	for (;;) {
		while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t' ||
		    *lx->p == '\r' || *lx->p == '\n'))
			lx->p++;
		if (lx->p >= lx->end || *lx->p != '(')
			return;
		buf_reset(&lx->comment);
		lx->p++;
		for (depth = 1; lx->p < lx->end;) {
			c = *lx->p++;
			if (c == '\\' && lx->p < lx->end)
				c = *lx->p++;
			else if (c == '(')
				depth++;
			else if (c == ')' && --depth == 0)
				break;
			buf_putc(&lx->comment, c);
		}
	}
}

/* An atom (with dots when dots is set) appended to out; 0 if none. */
static int
alex_atom(struct alex *lx, struct buf *out, int dots)
{
	const char *s = lx->p;

	while (lx->p < lx->end && (is_atext(*lx->p) || (dots && *lx->p == '.')))
		lx->p++;
	buf_append(out, s, lx->p - s);
	return lx->p > s;
}

/* A quoted string: raw (quotes and escapes kept, for a local-part) or
 * its content (for a display name). */
static void
alex_quoted(struct alex *lx, struct buf *out, int raw)
{
	char c;

	lx->p++;
	if (raw)
		buf_putc(out, '"');
	while (lx->p < lx->end && (c = *lx->p++) != '"') {
		if (c == '\\' && lx->p < lx->end) {
			if (raw)
				buf_putc(out, c);
			c = *lx->p++;
		}
		buf_putc(out, c);
	}
	if (raw)
		buf_putc(out, '"');
}

/* A phrase (display name or group name): words joined by one space. */
static void
alex_phrase(struct alex *lx, struct buf *out)
{
	size_t mark;
	int n = 0;

	for (;;) {
		alex_cfws(lx);
		if (lx->p >= lx->end)
			return;
		mark = out->len;
		if (n > 0)
			buf_putc(out, ' ');
		if (*lx->p == '"')
			alex_quoted(lx, out, 0);
		else if (!alex_atom(lx, out, 1)) {
			buf_truncate(out, mark);
			return;
		}
		n++;
	}
}

/* local-part "@" domain, each kept as written (RFC 5322 §3.4.1). */
static void
alex_addr_spec(struct alex *lx, struct buf *local, struct buf *domain)
{
	for (;;) {
		alex_cfws(lx);
		if (lx->p >= lx->end)
			return;
		if (*lx->p == '"')
			alex_quoted(lx, local, 1);
		else if (*lx->p == '.')
			buf_putc(local, *lx->p++);
		else if (!alex_atom(lx, local, 0))
			break;
	}
	if (*lx->p != '@')
		return;
	lx->p++;
	for (;;) {
		alex_cfws(lx);
		if (lx->p >= lx->end)
			return;
		if (*lx->p == '[') {		/* domain-literal */
			while (lx->p < lx->end && *lx->p != ']')
				buf_putc(domain, *lx->p++);
			if (lx->p < lx->end)
				buf_putc(domain, *lx->p++);
		} else if (*lx->p == '.')
			buf_putc(domain, *lx->p++);
		else if (!alex_atom(lx, domain, 0))
			return;
	}
}

/* An address structure: (name adl mailbox host). */
static void
env_put_addr(struct buf *out, const struct buf *name, const struct buf *adl,
    const char *mailbox, const char *host)
{
	buf_putc(out, '(');
	imap_put_nstring(out, name->len > 0 ? name->data : NULL);
	buf_putc(out, ' ');
	imap_put_nstring(out, adl->len > 0 ? adl->data : NULL);
	buf_putc(out, ' ');
	imap_put_nstring(out, mailbox);
	buf_putc(out, ' ');
	imap_put_nstring(out, host);
	buf_putc(out, ')');
}

/*
 * One mailbox: [phrase] "<" [route ":"] addr-spec ">" or a bare
 * addr-spec whose trailing comment serves as the name.  Nothing is
 * handed on for an empty address ("<>").
 */
static void
env_mailbox(struct alex *lx, struct buf *name, const struct addr_sink *sink)
{
	struct buf adl, local, domain;
	const char *start = lx->p;

	buf_init(&adl, 0);
	buf_init(&local, 0);
	buf_init(&domain, 0);
	if (lx->p < lx->end && *lx->p == '<') {
		lx->p++;
		alex_cfws(lx);
		if (lx->p < lx->end && *lx->p == '@') {	/* obs-route */
			while (lx->p < lx->end && *lx->p != ':' &&
			    *lx->p != '>')
				buf_putc(&adl, *lx->p++);
			if (lx->p < lx->end && *lx->p == ':')
				lx->p++;
		}
		alex_addr_spec(lx, &local, &domain);
		while (lx->p < lx->end && *lx->p != '>')
			lx->p++;
		if (lx->p < lx->end)
			lx->p++;
	} else {
		buf_reset(name);
		buf_reset(&lx->comment);
		alex_addr_spec(lx, &local, &domain);
		alex_cfws(lx);
		if (lx->comment.len > 0)
			buf_append(name, lx->comment.data, lx->comment.len);
	}
	if (local.len > 0 || domain.len > 0)
		sink->mailbox(sink->out, name, &adl,
		    local.len > 0 ? local.data : NULL,
		    domain.len > 0 ? domain.data : NULL);
	else if (lx->p == start)
		lx->p++;			/* junk: skip it */
	buf_release(&adl);
	buf_release(&local);
	buf_release(&domain);
}

/* A group's start or end, if the sink wants it. */
static void
env_group(const struct addr_sink *sink, const char *name)
{
	if (sink->group != NULL)
		sink->group(sink->out, name);
}

/*
 * An address-list (RFC 5322 §3.4): its mailboxes and groups to sink, in
 * order.  A group "name: a, b;" is its start, its members, its end.
 */
static void
env_address_list(const char *v, const struct addr_sink *sink)
{
	struct alex lx;
	struct buf name;
	const char *start;
	int in_group = 0;

	lx.p = v;
	lx.end = v + strlen(v);
	buf_init(&lx.comment, 0);
	buf_init(&name, 0);
	for (;;) {
		alex_cfws(&lx);
		if (lx.p >= lx.end)
			break;
		if (*lx.p == ',' || *lx.p == ';') {
			if (*lx.p++ == ';' && in_group) {
				env_group(sink, NULL);
				in_group = 0;
			}
			continue;
		}
		start = lx.p;
		buf_reset(&name);
		alex_phrase(&lx, &name);
		alex_cfws(&lx);
		if (lx.p < lx.end && *lx.p == ':' && !in_group &&
		    name.len > 0) {
			lx.p++;
			env_group(sink, name.data);
			in_group = 1;
			continue;
		}
		if (lx.p >= lx.end || *lx.p != '<')
			lx.p = start;		/* it was an addr-spec */
		env_mailbox(&lx, &name, sink);
	}
	if (in_group)
		env_group(sink, NULL);
	buf_release(&lx.comment);
	buf_release(&name);
}

/*
 * A mailbox as an address structure.  A missing mailbox or host is
 * named as Dovecot does, since a NIL host would read as group syntax.
 */
static void
env_put_mailbox(struct buf *out, const struct buf *name,
    const struct buf *adl, const char *local, const char *domain)
{
	env_put_addr(out, name, adl, local != NULL ? local : "MISSING_MAILBOX",
	    domain != NULL ? domain : "MISSING_DOMAIN");
}

/* A group is (NIL NIL "name" NIL), its members, then (NIL NIL NIL NIL)
 * (RFC 3501 §7.4.2). */
static void
env_put_group(struct buf *out, const char *name)
{
	struct buf none;

	buf_init(&none, 0);
	env_put_addr(out, &none, &none, name, NULL);
}

/* The addresses of the first field called name as address structures,
 * without the outer parentheses (empty if none). */
static void
env_addresses(struct imap_msg *m, const struct mime_part *msg,
    const char *name, struct buf *list)
{
	const struct addr_sink sink = { env_put_mailbox, env_put_group, list };
	char *v;

	if ((v = hdr_get(m, msg, name)) != NULL) {
		env_address_list(v, &sink);
		free(v);
	}
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

/* A field's raw value (RFC 3501 sends encoded words as they are). */
static void
env_put_field(struct buf *b, struct imap_msg *m, const struct mime_part *msg,
    const char *name)
{
	char *v;

	v = hdr_get(m, msg, name);
	imap_put_nstring(b, v);
	free(v);
}

/*
 * ENVELOPE: (date subject from sender reply-to to cc bcc in-reply-to
 * message-id); sender and reply-to are from when absent or empty.
 */
static void
env_write(struct imap_msg *m, struct buf *b, const struct mime_part *msg)
{
	static const char *const lists[] = { "To", "Cc", "Bcc" };
	struct buf from, other;
	size_t i;

	buf_init(&from, 0);
	buf_init(&other, 0);
	buf_putc(b, '(');
	env_put_field(b, m, msg, "Date");
	buf_putc(b, ' ');
	env_put_field(b, m, msg, "Subject");
	buf_putc(b, ' ');
	env_addresses(m, msg, "From", &from);
	env_put_list(b, &from);
	buf_putc(b, ' ');
	env_addresses(m, msg, "Sender", &other);
	env_put_list(b, other.len > 0 ? &other : &from);
	buf_putc(b, ' ');
	buf_reset(&other);
	env_addresses(m, msg, "Reply-To", &other);
	env_put_list(b, other.len > 0 ? &other : &from);
	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		buf_putc(b, ' ');
		buf_reset(&other);
		env_addresses(m, msg, lists[i], &other);
		env_put_list(b, &other);
	}
	buf_putc(b, ' ');
	env_put_field(b, m, msg, "In-Reply-To");
	buf_putc(b, ' ');
	env_put_field(b, m, msg, "Message-ID");
	buf_putc(b, ')');
	buf_release(&from);
	buf_release(&other);
}

char *
imap_msg_envelope(struct imap_msg *m)
{
	struct buf b;

	buf_init(&b, 0);
	env_write(m, &b, mime_tree(m));
	return buf_take(&b);
}

/* ---- BODY and BODYSTRUCTURE (RFC 3501 §7.4.2, §9 "body") ---- */

/*
 * Type, subtype, encoding, parameter and disposition names are sent
 * upper-cased, as in RFC 3501's examples; values as they are (GMime
 * has already joined and decoded RFC 2231 continuations).
 */
static void
bs_put_params(struct buf *b, GMimeParamList *pl)
{
	GMimeParam *pa;
	const char *v;
	int i, n;

	n = pl != NULL ? g_mime_param_list_length(pl) : 0;
	if (n <= 0) {
		buf_puts(b, "NIL");
		return;
	}
	buf_putc(b, '(');
	for (i = 0; i < n; i++) {
		pa = g_mime_param_list_get_parameter_at(pl, i);
		if (i > 0)
			buf_putc(b, ' ');
		put_upper(b, g_mime_param_get_name(pa));
		buf_putc(b, ' ');
		v = g_mime_param_get_value(pa);
		if (v == NULL)
			v = "";
		imap_put_string(b, v, strlen(v));
	}
	buf_putc(b, ')');
}

/* body-fld-dsp: ("ATTACHMENT" ("FILENAME" "x")) or NIL (RFC 2183). */
static void
bs_put_disposition(struct imap_msg *m, struct buf *b,
    const struct mime_part *p)
{
	GMimeContentDisposition *cd;
	const char *d;
	char *v;

	if ((v = hdr_get(m, p, "Content-Disposition")) == NULL) {
		buf_puts(b, "NIL");
		return;
	}
	cd = g_mime_content_disposition_parse(NULL, v);
	free(v);
	if (cd == NULL || (d = g_mime_content_disposition_get_disposition(cd))
	    == NULL || *d == '\0')
		buf_puts(b, "NIL");
	else {
		buf_putc(b, '(');
		put_upper(b, d);
		buf_putc(b, ' ');
		bs_put_params(b, g_mime_content_disposition_get_parameters(cd));
		buf_putc(b, ')');
	}
	if (cd != NULL)
		g_object_unref(cd);
}

/* body-fld-lang: one tag as a string, several as a list (RFC 3282). */
static void
bs_put_language(struct imap_msg *m, struct buf *b, const struct mime_part *p)
{
	struct buf tags;
	char *v, *tag, *save = NULL;
	int n = 0;

	buf_init(&tags, 0);
	if ((v = hdr_get(m, p, "Content-Language")) != NULL)
		for (tag = strtok_r(v, ", \t", &save); tag != NULL;
		    tag = strtok_r(NULL, ", \t", &save)) {
			if (n++ > 0)
				buf_putc(&tags, ' ');
			imap_put_string(&tags, tag, strlen(tag));
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
	free(v);
	buf_release(&tags);
}

static void
bs_put_field(struct imap_msg *m, struct buf *b, const struct mime_part *p,
    const char *name)
{
	char *v;

	v = hdr_get(m, p, name);
	imap_put_nstring(b, v);
	free(v);
}

/* A multipart without parts is not grammatical: show one empty part,
 * as Dovecot does. */
#define BS_EMPTY_PART \
	"(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 0 0)"

/* body-type-mpart: the parts, the subtype, then for BODYSTRUCTURE
 * params disposition language location (body-ext-mpart). */
static void
bs_write_multipart(struct imap_msg *m, struct buf *b,
    const struct mime_part *p, int ext)
{
	size_t i;

	buf_putc(b, '(');
	for (i = 0; i < p->nchild; i++)
		bs_write(m, b, &p->child[i], ext);
	if (p->nchild == 0)
		buf_puts(b, BS_EMPTY_PART);
	buf_putc(b, ' ');
	put_upper(b, g_mime_content_type_get_media_subtype(p->ct));
	if (ext) {
		buf_putc(b, ' ');
		bs_put_params(b, g_mime_content_type_get_parameters(p->ct));
		buf_putc(b, ' ');
		bs_put_disposition(m, b, p);
		buf_putc(b, ' ');
		bs_put_language(m, b, p);
		buf_putc(b, ' ');
		bs_put_field(m, b, p, "Content-Location");
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
bs_write(struct imap_msg *m, struct buf *b, const struct mime_part *p,
    int ext)
{
	char *enc;

	if (mime_is_multipart(p)) {
		bs_write_multipart(m, b, p, ext);
		return;
	}
	buf_putc(b, '(');
	put_upper(b, g_mime_content_type_get_media_type(p->ct));
	buf_putc(b, ' ');
	put_upper(b, g_mime_content_type_get_media_subtype(p->ct));
	buf_putc(b, ' ');
	bs_put_params(b, g_mime_content_type_get_parameters(p->ct));
	buf_putc(b, ' ');
	bs_put_field(m, b, p, "Content-ID");
	buf_putc(b, ' ');
	bs_put_field(m, b, p, "Content-Description");
	buf_putc(b, ' ');
	enc = hdr_get(m, p, "Content-Transfer-Encoding");
	put_upper(b, enc != NULL && *enc != '\0' ? enc : "7BIT");
	free(enc);
	buf_printf(b, " %zu", p->blen);
	if (g_mime_content_type_is_type(p->ct, "text", "*"))
		buf_printf(b, " %zu", p->lines);
	else if (p->msg != NULL) {
		buf_putc(b, ' ');
		env_write(m, b, p->msg);
		buf_putc(b, ' ');
		bs_write(m, b, p->msg, ext);
		buf_printf(b, " %zu", p->lines);
	}
	if (ext) {
		buf_putc(b, ' ');
		bs_put_field(m, b, p, "Content-MD5");
		buf_putc(b, ' ');
		bs_put_disposition(m, b, p);
		buf_putc(b, ' ');
		bs_put_language(m, b, p);
		buf_putc(b, ' ');
		bs_put_field(m, b, p, "Content-Location");
	}
	buf_putc(b, ')');
}

char *
imap_msg_bodystructure(struct imap_msg *m, int extensible)
{
	struct buf b;

	buf_init(&b, 0);
	bs_write(m, &b, mime_tree(m), extensible);
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
	uint32_t	 path[MIME_MAX_PATH];
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
		if (*s == '0' || sec->npath == MIME_MAX_PATH)
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

/* Part k of a message: its body parts if multipart, else the message
 * itself as the only part "1". */
static struct mime_part *
section_msg_part(struct mime_part *msg, uint32_t k)
{
	if (mime_is_multipart(msg))
		return k <= msg->nchild ? &msg->child[k - 1] : NULL;
	return k == 1 ? msg : NULL;
}

/* Part k inside part p: a multipart's k-th part, or for a
 * message/rfc822 part, part k of the message it holds. */
static struct mime_part *
section_sub_part(struct mime_part *p, uint32_t k)
{
	if (mime_is_multipart(p))
		return k <= p->nchild ? &p->child[k - 1] : NULL;
	if (p->msg != NULL)
		return section_msg_part(p->msg, k);
	return NULL;
}

static struct mime_part *
section_find(struct mime_part *root, const struct section *sec)
{
	struct mime_part *p;
	size_t i;

	p = section_msg_part(root, sec->path[0]);
	for (i = 1; p != NULL && i < sec->npath; i++)
		p = section_sub_part(p, sec->path[i]);
	return p;
}

static int
section_wants(const struct section *sec, const struct hdr_field *f)
{
	size_t i;

	for (i = 0; i < sec->nfields; i++)
		if (hdr_name_is(f, sec->fields[i], strlen(sec->fields[i])))
			return 1;
	return 0;
}

/* HEADER.FIELDS[.NOT]: the chosen fields exactly as they stand,
 * continuation lines included, then the CRLF that ends a header. */
static char *
section_filter(const struct imap_msg *m, const struct mime_part *msg,
    const struct section *sec, size_t *len)
{
	struct hdr_field f;
	struct buf b;
	size_t pos = msg->hoff;
	int keep;

	buf_init(&b, 0);
	while (hdr_next(m->data, &pos, msg->hoff + msg->hlen, &f)) {
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
imap_msg_section(struct imap_msg *m, const char *section, const char **data,
    size_t *len, char **owned)
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
	msg = mime_tree(m);
	if (sec.npath > 0) {
		if ((p = section_find(msg, &sec)) == NULL)
			goto out;		/* no such part: empty */
		if (sec.what == SEC_BODY || sec.what == SEC_MIME) {
			msg = p;
			if (sec.what == SEC_MIME)
				sec.what = SEC_HEADER;
		} else if ((msg = p->msg) == NULL)
			goto out;		/* not a message/rfc822 */
	} else if (sec.what == SEC_BODY) {
		*data = m->data;
		*len = m->len;
		goto out;
	}
	switch (sec.what) {
	case SEC_HEADER:
		*data = m->data + msg->hoff;
		*len = msg->hlen;
		break;
	case SEC_BODY:
	case SEC_TEXT:
		*data = m->data + msg->boff;
		*len = msg->blen;
		break;
	case SEC_FIELDS:
	case SEC_FIELDS_NOT:
		*owned = section_filter(m, msg, &sec, len);
		*data = *owned;
		break;
	case SEC_MIME:
		break;
	}
out:
	section_free(&sec);
	return 0;
}

/* ---- text for SEARCH ---- */

/* A raw field value decoded (RFC 2047) to UTF-8, appended to b. */
static void
search_put_decoded(struct buf *b, const char *raw)
{
	char *s;

	s = mime_from_glib(g_mime_utils_header_decode_text(NULL, raw));
	buf_puts(b, s);
	free(s);
}

/* Every field of a header as "Name: decoded value" lines. */
static void
search_headers(struct imap_msg *m, struct buf *b, const struct mime_part *p)
{
	struct hdr_field f;
	size_t pos = p->hoff;
	char *v;

	while (hdr_next(m->data, &pos, p->hoff + p->hlen, &f)) {
		if (f.name == NULL)
			continue;
		buf_append(b, f.name, f.namelen);
		buf_puts(b, ": ");
		v = hdr_unfold(f.value, f.valuelen);
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
search_put_mailbox(struct buf *b, const struct buf *name,
    const struct buf *adl, const char *local, const char *domain)
{
	(void)adl;
	buf_puts(b, "\r\n");
	if (name->len > 0) {
		search_put_decoded(b, name->data);
		buf_putc(b, ' ');
	}
	buf_putc(b, '<');
	if (local != NULL)
		buf_puts(b, local);
	if (domain != NULL) {
		buf_putc(b, '@');
		buf_puts(b, domain);
	}
	buf_putc(b, '>');
}

/* Every field called name, decoded; with addresses, each field's
 * addresses follow it (search_put_mailbox()). */
static char *
search_fields(struct imap_msg *m, const char *name, int addresses)
{
	struct mime_part *root = mime_tree(m);
	struct hdr_field f;
	struct buf b;
	const struct addr_sink sink = { search_put_mailbox, NULL, &b };
	size_t pos = root->hoff, nlen = strlen(name);
	char *v;

	buf_init(&b, 0);
	while (hdr_next(m->data, &pos, root->hoff + root->hlen, &f)) {
		if (!hdr_name_is(&f, name, nlen))
			continue;
		if (b.len > 0)
			buf_puts(&b, "\r\n");
		v = hdr_unfold(f.value, f.valuelen);
		search_put_decoded(&b, v);
		if (addresses)
			env_address_list(v, &sink);
		free(v);
	}
	return buf_take(&b);
}

char *
imap_msg_header_text(struct imap_msg *m, const char *name)
{
	return search_fields(m, name, 0);
}

char *
imap_msg_address_text(struct imap_msg *m, const char *name)
{
	return search_fields(m, name, 1);
}

char *
imap_msg_headers_text(struct imap_msg *m)
{
	struct buf b;

	buf_init(&b, 0);
	search_headers(m, &b, mime_tree(m));
	return buf_take(&b);
}

/* A text part's body, decoded from its transfer encoding and converted
 * from its charset to UTF-8 by GMime. */
static void
body_text_part(struct imap_msg *m, struct buf *b, const struct mime_part *p)
{
	GMimeContentEncoding enc = GMIME_CONTENT_ENCODING_DEFAULT;
	GMimeTextPart *tp;
	GMimeStream *st;
	GMimeDataWrapper *dw;
	const char *charset;
	char *cte, *s;

	if ((cte = hdr_get(m, p, "Content-Transfer-Encoding")) != NULL) {
		enc = g_mime_content_encoding_from_string(cte);
		free(cte);
	}
	st = g_mime_stream_mem_new_with_buffer(m->data + p->boff, p->blen);
	dw = g_mime_data_wrapper_new_with_stream(st, enc);
	tp = g_mime_text_part_new();
	g_mime_part_set_content(GMIME_PART(tp), dw);
	charset = g_mime_content_type_get_parameter(p->ct, "charset");
	if (charset != NULL)
		g_mime_text_part_set_charset(tp, charset);
	s = mime_from_glib(g_mime_text_part_get_text(tp));
	buf_puts(b, s);
	buf_puts(b, "\r\n");
	free(s);
	g_object_unref(tp);
	g_object_unref(dw);
	g_object_unref(st);
}

/*
 * The text parts, and the headers and text of attached messages.  What
 * lies below the depth cap is searched as it stands, as plain text:
 * hiding text from SEARCH by nesting it deep must not work.
 */
static void
body_text_append(struct imap_msg *m, struct buf *b, const struct mime_part *p)
{
	size_t i;

	if (p->opaque) {
		buf_append(b, m->data + p->boff, p->blen);
		buf_puts(b, "\r\n");
	} else if (mime_is_multipart(p))
		for (i = 0; i < p->nchild; i++)
			body_text_append(m, b, &p->child[i]);
	else if (p->msg != NULL) {
		search_headers(m, b, p->msg);
		body_text_append(m, b, p->msg);
	} else if (g_mime_content_type_is_type(p->ct, "text", "*"))
		body_text_part(m, b, p);
}

char *
imap_msg_body_text(struct imap_msg *m)
{
	struct buf b;

	buf_init(&b, 0);
	body_text_append(m, &b, mime_tree(m));
	return buf_take(&b);
}

int64_t
imap_msg_sent_date(struct imap_msg *m)
{
	GDateTime *dt;
	int64_t t = -1;
	char *v;

	if ((v = hdr_get(m, mime_tree(m), "Date")) == NULL)
		return -1;
	if ((dt = g_mime_utils_header_decode_date(v)) != NULL) {
		t = g_date_time_to_unix(dt);
		g_date_time_unref(dt);
	}
	free(v);
	return t;
}
