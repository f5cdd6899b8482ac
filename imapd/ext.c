/*
 * The small extensions of issue 14 where they need more than a line in
 * the commands: SEARCHRES's saved result (RFC 5182), CREATE's USE
 * (RFC 6154 §3) and PREVIEW's text (RFC 8970).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../global/mime.h"
#include "session.h"

/* ---- SEARCHRES (RFC 5182) ---- */

void
searchres_clear(struct imap_session *s)
{
	free(s->saved);
	s->saved = NULL;
	s->nsaved = 0;
}

void
searchres_save(struct imap_session *s, const uint32_t *uids, size_t n)
{
	searchres_clear(s);
	s->saved = util_calloc(n + 1, sizeof(*s->saved));
	memcpy(s->saved, uids, n * sizeof(*uids));
	s->nsaved = n;
}

static int
uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int
searchres_has(const struct imap_session *s, uint32_t uid)
{
	return s->nsaved > 0 && bsearch(&uid, s->saved, s->nsaved,
	    sizeof(*s->saved), uid_cmp) != NULL;
}

/* RFC 5182 §2.1: messages expunged since drop out (view_seq() 0). */
void
searchres_seqs(struct imap_session *s, uint32_t **seqs_r, size_t *n_r)
{
	uint32_t *seqs, seq;
	size_t i, n = 0;

	seqs = util_calloc(s->nsaved + 1, sizeof(*seqs));
	for (i = 0; i < s->nsaved; i++)
		if ((seq = view_seq(&s->view, s->saved[i])) != 0)
			seqs[n++] = seq;
	*seqs_r = seqs;
	*n_r = n;
}

void
searchres_uidset(struct imap_session *s, struct seqset *set)
{
	size_t i;

	set->r = util_calloc(s->nsaved + 1, sizeof(*set->r));
	set->n = 0;
	for (i = 0; i < s->nsaved; i++) {
		if (set->n > 0 && set->r[set->n - 1].hi + 1 == s->saved[i])
			set->r[set->n - 1].hi = s->saved[i];
		else {
			set->r[set->n].lo = set->r[set->n].hi = s->saved[i];
			set->n++;
		}
	}
}

/* ---- CREATE (USE (...)) (RFC 6154 §3, RFC 4466 §2.2) ---- */

static const struct {
	const char	*name;
	unsigned int	 attr;
} use_attrs[] = {
	{ "\\Archive", MFA_ARCHIVE }, { "\\Drafts", MFA_DRAFTS },
	{ "\\Junk", MFA_JUNK }, { "\\Sent", MFA_SENT },
	{ "\\Trash", MFA_TRASH },
};

int
imap_create_uses(struct imap_session *s, const struct imap_arg *a,
    unsigned int *uses)
{
	const struct imap_arg *l;
	size_t i, k;

	*uses = 0;
	if (a->type != IMAP_ARG_LIST || a->nlist != 2 ||
	    !imap_arg_atom_is(&a->list[0], "USE") ||
	    a->list[1].type != IMAP_ARG_LIST || a->list[1].nlist == 0) {
		imap_tagged(s, "BAD Usage: CREATE mailbox [(USE (\\Drafts "
		    "...))]");
		return -1;
	}
	l = &a->list[1];
	for (i = 0; i < l->nlist; i++) {
		if (l->list[i].type != IMAP_ARG_ATOM ||
		    l->list[i].str[0] != '\\') {
			imap_tagged(s, "BAD Special uses are flags "
			    "(\\Drafts ...)");
			return -1;
		}
		for (k = 0; k < sizeof(use_attrs) / sizeof(use_attrs[0]); k++)
			if (strcasecmp(l->list[i].str, use_attrs[k].name) == 0)
				break;
		/* \All and \Flagged are views of other folders: this
		 * store has none, and no unknown use either. */
		if (k == sizeof(use_attrs) / sizeof(use_attrs[0])) {
			imap_tagged(s, "NO [USEATTR] %.40s is not a special "
			    "use a folder here can have", l->list[i].str);
			return 1;
		}
		*uses |= use_attrs[k].attr;
	}
	return 0;
}

/* ---- PREVIEW (RFC 8970) ---- */

#define PREVIEW_MAX	256	/* characters (RFC 8970 §3.1) */

struct pv_find {
	char	 plain[MIME_PART_ID_MAX];
	char	 html[MIME_PART_ID_MAX];
	int	 in_message;	/* depth of an attached message, or 0 */
};

/* The first text/plain and text/html that are not attachments, outside
 * attached messages. */
static int
pv_part_cb(const struct mime_part_info *pi, void *arg)
{
	struct pv_find *f = arg;
	char *which;

	if (f->in_message > 0 && pi->depth > f->in_message)
		return 0;
	f->in_message = 0;
	if (pi->is_message && pi->depth > 0) {
		f->in_message = pi->depth;
		return 0;
	}
	if (strcmp(pi->type, "text") != 0 || (pi->disposition != NULL &&
	    strcmp(pi->disposition, "attachment") == 0))
		return 0;
	which = strcmp(pi->subtype, "plain") == 0 ? f->plain :
	    strcmp(pi->subtype, "html") == 0 ? f->html : NULL;
	if (which != NULL && which[0] == '\0')
		util_strcpy(which, pi->id, MIME_PART_ID_MAX);
	return f->plain[0] != '\0';
}

/* HTML as text: no tags, nothing of <head>, <style>, <script>, the
 * common entities decoded (in place: never longer). */
static void
pv_unhtml(char *t)
{
	static const struct { const char *e; char c; } ent[] = {
		{ "&nbsp;", ' ' }, { "&amp;", '&' }, { "&lt;", '<' },
		{ "&gt;", '>' }, { "&quot;", '"' }, { "&#39;", '\'' },
	};
	char *o = t, *p = t;
	const char *skip = NULL;
	size_t k, n;

	while (*p != '\0') {
		if (*p == '<') {
			if (skip == NULL && (strncasecmp(p, "<style", 6) == 0 ||
			    strncasecmp(p, "<head", 5) == 0 ||
			    strncasecmp(p, "<script", 7) == 0))
				skip = strncasecmp(p, "<style", 6) == 0 ?
				    "</style" : strncasecmp(p, "<head", 5) ==
				    0 ? "</head" : "</script";
			else if (skip != NULL && strncasecmp(p, skip,
			    strlen(skip)) == 0)
				skip = NULL;
			n = strcspn(p, ">");
			p += n + (p[n] == '>');
			*o++ = ' ';
			continue;
		}
		if (skip != NULL) {
			p++;
			continue;
		}
		for (k = 0; *p == '&' && k < sizeof(ent) / sizeof(ent[0]); k++)
			if (strncasecmp(p, ent[k].e, strlen(ent[k].e)) == 0)
				break;
		if (*p == '&' && k < sizeof(ent) / sizeof(ent[0])) {
			*o++ = ent[k].c;
			p += strlen(ent[k].e);
			continue;
		}
		*o++ = *p++;
	}
	*o = '\0';
}

/* Blanks and controls as one space, at most PREVIEW_MAX characters of
 * UTF-8 (mime_part_text() gives valid UTF-8). */
static char *
pv_squeeze(const char *t)
{
	char *out = util_calloc(1, PREVIEW_MAX * 4 + 1), *o = out;
	const unsigned char *p = (const unsigned char *)t;
	size_t chars = 0, n;

	while (*p != '\0' && chars < PREVIEW_MAX) {
		if (*p <= ' ' || *p == 0x7f) {
			while (*p != '\0' && (*p <= ' ' || *p == 0x7f))
				p++;
			if (o > out && *p != '\0') {
				*o++ = ' ';
				chars++;
			}
			continue;
		}
		n = *p < 0x80 ? 1 : *p < 0xe0 ? 2 : *p < 0xf0 ? 3 : 4;
		if (strnlen((const char *)p, n) < n)
			break;
		memcpy(o, p, n);
		o += n;
		p += n;
		chars++;
	}
	*o = '\0';
	return out;
}

char *
imap_preview(struct mime_msg *m)
{
	struct pv_find f;
	char *text, *out;
	size_t len;
	int html;

	memset(&f, 0, sizeof(f));
	mime_parts(m, pv_part_cb, &f);
	html = f.plain[0] == '\0';
	if (html && f.html[0] == '\0')
		return util_strdup("");
	if ((text = mime_part_text(m, html ? f.html : f.plain, &len)) == NULL)
		return util_strdup("");
	if (html)
		pv_unhtml(text);
	out = pv_squeeze(text);
	free(text);
	return out;
}
