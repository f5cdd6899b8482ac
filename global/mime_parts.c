/*
 * mime_parts.c: a message's parts by id, as the webmail reads them:
 * the list of parts, a part's decoded content or text, and the header
 * of a message or of an attached one (see mime.h for the ids).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/util.h"
#include "mime_private.h"

/* "TEXT", or nz-numbers joined by dots and perhaps ".TEXT" (mime.h). */
struct mime_part *
mime_part_find(struct mime_msg *m, const char *id)
{
	uint32_t path[MIME_MAX_DEPTH + 1];
	struct mime_part *p;
	size_t n = 0;
	uint64_t k;

	if (strcasecmp(id, "TEXT") == 0)
		return mime_msg_root(m);
	for (;;) {
		if (!isdigit((unsigned char)*id) || *id == '0' ||
		    n == sizeof(path) / sizeof(path[0]))
			return NULL;
		for (k = 0; isdigit((unsigned char)*id); id++)
			if ((k = k * 10 + (*id - '0')) > UINT32_MAX)
				return NULL;
		path[n++] = (uint32_t)k;
		if (*id == '\0')
			return mime_part_at(m, path, n);
		if (*id++ != '.')
			return NULL;
		if (strcasecmp(id, "TEXT") == 0) {
			p = mime_part_at(m, path, n);
			return p != NULL ? p->msg : NULL;
		}
	}
}

static char *
mime_lower(const char *s)
{
	char *l;

	l = util_strdup(s != NULL ? s : "");
	util_lower(l);
	return l;
}

/* Content-ID without its angle brackets (RFC 2392). */
static char *
mime_content_id(const struct mime_part *p)
{
	char *v, *s;
	size_t n;

	if ((v = mime_part_field(p, "Content-ID")) == NULL)
		return NULL;
	s = v;
	n = strlen(s);
	if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
		s[n - 1] = '\0';
		s++;
	}
	if (*s == '\0') {
		free(v);
		return NULL;
	}
	memmove(v, s, strlen(s) + 1);
	return v;
}

/* A file name: the disposition's filename, else the type's name
 * (GMime has decoded RFC 2231 values and the RFC 2047 encoded words many
 * mailers put in quoted ones, against RFC 2047 §5), as valid UTF-8. */
static char *
mime_filename(struct mime_part *p)
{
	const char *v;

	if ((v = mime_part_param_get(p, MIME_PARAMS_DISPOSITION,
	    "filename")) == NULL || *v == '\0')
		v = mime_part_param_get(p, MIME_PARAMS_TYPE, "name");
	if (v == NULL || *v == '\0')
		return NULL;
	return mime_from_glib(g_strdup(v));
}

struct parts_walk {
	int	(*cb)(const struct mime_part_info *, void *);
	void	*arg;
};

static int
mime_walk(struct mime_part *p, const char *id, struct parts_walk *w)
{
	struct mime_part_info info;
	char *type, *subtype, *fname, *cid, *disp, sub[MIME_PART_ID_MAX];
	const char *d;
	size_t i, n;
	int r;

	memset(&info, 0, sizeof(info));
	if (util_strcpy(info.id, id, sizeof(info.id)) == -1)
		return 0;		/* cannot happen: MIME_PART_ID_MAX */
	info.type = type = mime_lower(mime_part_type(p));
	info.subtype = subtype = mime_lower(mime_part_subtype(p));
	info.charset = mime_part_param_get(p, MIME_PARAMS_TYPE, "charset");
	info.filename = fname = mime_filename(p);
	info.content_id = cid = mime_content_id(p);
	d = mime_part_disposition(p);
	info.disposition = disp = d != NULL ? mime_lower(d) : NULL;
	info.size = p->blen;
	info.lines = p->lines;
	info.depth = p->depth;
	info.is_multipart = mime_part_is(p, "multipart", "*");
	info.is_message = p->msg != NULL;
	r = w->cb(&info, w->arg);
	free(type);
	free(subtype);
	free(fname);
	free(cid);
	free(disp);
	if (r != 0)
		return r;
	/* The numbers of the parts below: "TEXT" has none, "2.TEXT" is
	 * the message in part 2, whose parts are 2.1, 2.2 ... */
	n = strlen(id);
	if (strcmp(id, "TEXT") == 0)
		n = 0;
	else if (n > 5 && strcmp(id + n - 5, ".TEXT") == 0)
		n -= 5;
	for (i = 0; i < p->nchild; i++) {
		snprintf(sub, sizeof(sub), "%.*s%s%zu", (int)n, id,
		    n > 0 ? "." : "", i + 1);
		if ((r = mime_walk(&p->child[i], sub, w)) != 0)
			return r;
	}
	if (p->msg != NULL) {
		snprintf(sub, sizeof(sub), "%s%s", id,
		    mime_part_is(p->msg, "multipart", "*") ? ".TEXT" : ".1");
		return mime_walk(p->msg, sub, w);
	}
	return 0;
}

int
mime_parts(struct mime_msg *m,
    int (*cb)(const struct mime_part_info *, void *), void *arg)
{
	struct parts_walk w = { cb, arg };
	struct mime_part *root = mime_msg_root(m);

	return mime_walk(root, mime_part_is(root, "multipart", "*") ?
	    "TEXT" : "1", &w);
}

char *
mime_part_content(struct mime_msg *m, const char *id, size_t *len)
{
	struct mime_part *p;
	GMimeStream *in, *out;
	GMimeDataWrapper *dw;
	GByteArray *ba;
	char *s;

	if ((p = mime_part_find(m, id)) == NULL)
		return NULL;
	in = g_mime_stream_mem_new_with_buffer(p->data + p->boff, p->blen);
	dw = g_mime_data_wrapper_new_with_stream(in, mime_part_encoding(p));
	out = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(dw, out);
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
	s = util_calloc(1, ba->len + 1);
	if (ba->len > 0)		/* an empty array may have no data */
		memcpy(s, ba->data, ba->len);
	*len = ba->len;
	g_object_unref(out);
	g_object_unref(dw);
	g_object_unref(in);
	return s;
}

char *
mime_part_text(struct mime_msg *m, const char *id, size_t *len)
{
	struct mime_part *p;
	char *s;

	if ((p = mime_part_find(m, id)) == NULL ||
	    !mime_part_is(p, "text", "*"))
		return NULL;
	s = mime_text_of(p);
	*len = strlen(s);
	return s;
}

/* The header of the top-level message or of a message/rfc822 part. */
static struct mime_part *
mime_header_of(struct mime_msg *m, const char *part_id)
{
	struct mime_part *p;

	if (part_id == NULL || *part_id == '\0')
		return mime_msg_root(m);
	if ((p = mime_part_find(m, part_id)) == NULL)
		return NULL;
	return p->msg;
}

char *
mime_header_raw(struct mime_msg *m, const char *part_id, const char *name)
{
	struct mime_part *p;

	if ((p = mime_header_of(m, part_id)) == NULL)
		return NULL;
	return mime_part_field(p, name);
}

char *
mime_header(struct mime_msg *m, const char *part_id, const char *name)
{
	char *raw, *s;

	if ((raw = mime_header_raw(m, part_id, name)) == NULL)
		return NULL;
	s = mime_decode_header(raw);
	free(raw);
	return s;
}
