/*
 * mime.c: loading a message, its header fields and its part tree (see
 * mime.h).  Addresses are in mime_addr.c, decoding and the SEARCH
 * texts in mime_text.c, the parts by id (the webmail's view) in
 * mime_parts.c.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../lib/log.h"
#include "../lib/util.h"
#include "mime_private.h"

static void	mime_build(struct mime_msg *, struct mime_part *, size_t,
		    size_t, int, int);

/* ---- loading ---- */

void
mime_init(void)
{
	static int ready;

	if (!ready) {
		g_mime_init();
		ready = 1;
	}
}

size_t
mime_crlf_piece(const char *in, size_t n, char *out, char *prev)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (in[i] == '\n' && *prev != '\r')
			out[o++] = '\r';
		out[o++] = *prev = in[i];
	}
	return o;
}

/* Bare LF becomes CRLF; CRLF and a lone CR stay as they are. */
struct mime_msg *
mime_msg_from_mem(const char *in, size_t n)
{
	struct mime_msg *m;
	const char *p, *nl, *end = in + n;
	size_t bare = 0, o = 0, k;

	mime_init();
	/* Line by line (memchr), not octet by octet: a message is read
	 * whole for every FETCH of its structure. */
	for (p = in; (nl = memchr(p, '\n', end - p)) != NULL; p = nl + 1)
		if (nl == in || nl[-1] != '\r')
			bare++;
	if (n > SIZE_MAX - bare - 1)
		return NULL;
	m = util_calloc(1, sizeof(*m));
	if ((m->data = malloc(n + bare + 1)) == NULL) {
		free(m);
		return NULL;
	}
	for (p = in; (nl = memchr(p, '\n', end - p)) != NULL; p = nl + 1) {
		k = nl - p;
		memcpy(m->data + o, p, k);
		o += k;
		if (nl == in || nl[-1] != '\r')
			m->data[o++] = '\r';
		m->data[o++] = '\n';
	}
	memcpy(m->data + o, p, end - p);
	m->len = o + (end - p);
	m->data[m->len] = '\0';
	return m;
}

struct mime_msg *
mime_msg_load(int fd, size_t max_size)
{
	struct mime_msg *m;
	char *raw;
	size_t rawlen;

	if ((raw = util_read_fd(fd, max_size, &rawlen)) == NULL)
		return NULL;
	m = mime_msg_from_mem(raw, rawlen);
	free(raw);
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
	if (p->cd != NULL)
		g_object_unref(p->cd);
}

void
mime_msg_free(struct mime_msg **mp)
{
	struct mime_msg *m = *mp;

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
mime_msg_data(const struct mime_msg *m, size_t *len)
{
	*len = m->len;
	return m->data;
}

/* ---- header fields (RFC 5322 §2.2) ---- */

/* The next field of the header in [*pos, end); 0 at its end. */
static int
hdr_next(const char *data, size_t *pos, size_t end, struct mime_field *f)
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

int
mime_field_next(const struct mime_part *p, size_t *pos, struct mime_field *f)
{
	size_t abs = p->hoff + *pos;

	if (*pos > p->hlen || !hdr_next(p->data, &abs, p->hoff + p->hlen, f))
		return 0;
	*pos = abs - p->hoff;
	return 1;
}

int
mime_field_is(const struct mime_field *f, const char *name)
{
	size_t len = strlen(name);

	return f->name != NULL && f->namelen == len &&
	    strncasecmp(f->name, name, len) == 0;
}

char *
mime_field_value(const struct mime_field *f)
{
	char *s;
	size_t i, o = 0;

	s = util_calloc(1, f->valuelen + 1);
	for (i = 0; i < f->valuelen; i++)
		if (f->value[i] != '\r' && f->value[i] != '\n')
			s[o++] = f->value[i];
	while (o > 0 && (s[o - 1] == ' ' || s[o - 1] == '\t'))
		o--;
	s[o] = '\0';
	for (i = 0; s[i] == ' ' || s[i] == '\t'; i++)
		;
	memmove(s, s + i, o - i + 1);
	return s;
}

char *
mime_part_field(const struct mime_part *p, const char *name)
{
	struct mime_field f;
	size_t pos = 0;

	while (mime_field_next(p, &pos, &f))
		if (mime_field_is(&f, name))
			return mime_field_value(&f);
	return NULL;
}

void
mime_part_fields(const struct mime_part *p, const char *const *names,
    size_t n, char **values)
{
	struct mime_field f;
	size_t pos = 0, i, left = n, len[MIME_FIELDS_MAX];

	if (n > MIME_FIELDS_MAX)
		fatalx("mime_part_fields: %zu names", n);
	for (i = 0; i < n; i++) {
		values[i] = NULL;
		len[i] = strlen(names[i]);
	}
	while (left > 0 && mime_field_next(p, &pos, &f)) {
		if (f.name == NULL)
			continue;
		for (i = 0; i < n; i++)
			if (values[i] == NULL && len[i] == f.namelen &&
			    strncasecmp(f.name, names[i], f.namelen) == 0) {
				values[i] = mime_field_value(&f);
				left--;
				break;
			}
	}
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

/* The part's Content-Type, or the default (mime.h). */
static GMimeContentType *
mime_content_type(const struct mime_part *p, int in_digest)
{
	GMimeContentType *ct;
	char *v;

	if ((v = mime_part_field(p, "Content-Type")) != NULL) {
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

int
mime_delimiter(const char *p, size_t n, const char *b, size_t blen)
{
	size_t i;

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
mime_add_child(struct mime_msg *m, struct mime_part *p, size_t off,
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
mime_multipart(struct mime_msg *m, struct mime_part *p, int depth)
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
		kind = mime_delimiter(m->data + pos, end - pos, boundary, bl);
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
mime_build(struct mime_msg *m, struct mime_part *p, size_t off, size_t end,
    int depth, int in_digest)
{
	m->nparts++;
	p->data = m->data;
	p->depth = depth;
	mime_split(m->data, off, end, p);
	p->lines = mime_count_lines(m->data + p->boff, p->blen);
	p->ct = mime_content_type(p, in_digest);
	if (mime_part_is(p, "multipart", "*")) {
		if (depth >= MIME_MAX_DEPTH)
			mime_make_opaque(p);
		else
			mime_multipart(m, p, depth);
	} else if (mime_part_is(p, "message", "rfc822")) {
		if (depth >= MIME_MAX_DEPTH || m->nparts >= MIME_MAX_PARTS) {
			mime_make_opaque(p);
			return;
		}
		p->msg = util_calloc(1, sizeof(*p->msg));
		mime_build(m, p->msg, p->boff, p->boff + p->blen, depth + 1, 0);
	}
}

struct mime_part *
mime_msg_root(struct mime_msg *m)
{
	if (m->root == NULL) {
		m->root = util_calloc(1, sizeof(*m->root));
		mime_build(m, m->root, 0, m->len, 0, 0);
	}
	return m->root;
}

size_t
mime_part_nchildren(const struct mime_part *p)
{
	return p->nchild;
}

struct mime_part *
mime_part_child(const struct mime_part *p, size_t i)
{
	return i < p->nchild ? &p->child[i] : NULL;
}

struct mime_part *
mime_part_message(const struct mime_part *p)
{
	return p->msg;
}

int
mime_part_is_opaque(const struct mime_part *p)
{
	return p->opaque;
}

/* Part k of a message: its body parts if multipart, else the message
 * itself as the only part "1". */
static struct mime_part *
mime_msg_part(struct mime_part *msg, uint32_t k)
{
	if (mime_part_is(msg, "multipart", "*"))
		return k >= 1 && k <= msg->nchild ? &msg->child[k - 1] : NULL;
	return k == 1 ? msg : NULL;
}

/* Part k inside part p: a multipart's k-th part, or for a
 * message/rfc822 part, part k of the message it holds. */
static struct mime_part *
mime_sub_part(struct mime_part *p, uint32_t k)
{
	if (mime_part_is(p, "multipart", "*"))
		return k >= 1 && k <= p->nchild ? &p->child[k - 1] : NULL;
	if (p->msg != NULL)
		return mime_msg_part(p->msg, k);
	return NULL;
}

struct mime_part *
mime_part_at(struct mime_msg *m, const uint32_t *path, size_t n)
{
	struct mime_part *p;
	size_t i;

	if (n == 0)
		return NULL;
	p = mime_msg_part(mime_msg_root(m), path[0]);
	for (i = 1; p != NULL && i < n; i++)
		p = mime_sub_part(p, path[i]);
	return p;
}

/* ---- a part's fields ---- */

const char *
mime_part_type(const struct mime_part *p)
{
	return g_mime_content_type_get_media_type(p->ct);
}

const char *
mime_part_subtype(const struct mime_part *p)
{
	return g_mime_content_type_get_media_subtype(p->ct);
}

int
mime_part_is(const struct mime_part *p, const char *type, const char *subtype)
{
	return g_mime_content_type_is_type(p->ct, type, subtype);
}

/* The Content-Disposition, parsed once. */
static GMimeContentDisposition *
mime_part_cd(struct mime_part *p)
{
	char *v;

	if (!p->cd_done) {
		p->cd_done = 1;
		if ((v = mime_part_field(p, "Content-Disposition")) != NULL) {
			p->cd = g_mime_content_disposition_parse(NULL, v);
			free(v);
		}
	}
	return p->cd;
}

const char *
mime_part_disposition(struct mime_part *p)
{
	GMimeContentDisposition *cd;
	const char *d;

	if ((cd = mime_part_cd(p)) == NULL ||
	    (d = g_mime_content_disposition_get_disposition(cd)) == NULL ||
	    *d == '\0')
		return NULL;
	return d;
}

static GMimeParamList *
mime_part_params(struct mime_part *p, enum mime_params which)
{
	if (which == MIME_PARAMS_TYPE)
		return g_mime_content_type_get_parameters(p->ct);
	if (mime_part_disposition(p) == NULL)
		return NULL;
	return g_mime_content_disposition_get_parameters(p->cd);
}

int
mime_part_param(struct mime_part *p, enum mime_params which, size_t i,
    const char **name, const char **value)
{
	GMimeParamList *pl;
	GMimeParam *pa;

	if ((pl = mime_part_params(p, which)) == NULL ||
	    i >= (size_t)g_mime_param_list_length(pl) ||
	    (pa = g_mime_param_list_get_parameter_at(pl, (int)i)) == NULL)
		return -1;
	*name = g_mime_param_get_name(pa);
	if ((*value = g_mime_param_get_value(pa)) == NULL)
		*value = "";
	return 0;
}

const char *
mime_part_param_get(struct mime_part *p, enum mime_params which,
    const char *name)
{
	GMimeParamList *pl;
	GMimeParam *pa;

	if ((pl = mime_part_params(p, which)) == NULL ||
	    (pa = g_mime_param_list_get_parameter(pl, name)) == NULL)
		return NULL;
	return g_mime_param_get_value(pa);
}

const char *
mime_part_header(const struct mime_part *p, size_t *len)
{
	*len = p->hlen;
	return p->data + p->hoff;
}

const char *
mime_part_body(const struct mime_part *p, size_t *len)
{
	*len = p->blen;
	return p->data + p->boff;
}

size_t
mime_part_lines(const struct mime_part *p)
{
	return p->lines;
}
