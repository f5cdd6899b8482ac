/* libFuzzer target: HTML mail bodies through html_sanitize() and plain
 * text through text_to_html() (webmail/).  Bodies come from anyone on
 * the internet: none may crash or loop, and what comes out, parsed
 * again by gumbo as the browser will parse it, must hold only the
 * elements, attributes and URL schemes the sanitizer writes, and so
 * must the output of a second pass over that output.  The two passes
 * are not compared: a tree the parser built is not always one its
 * input can be written as (an <h1> inside an <h1> after the adoption
 * agency), so the second parse may nest differently; what matters
 * (mXSS) is that it never finds markup where we wrote text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gumbo.h>

#include "../webmail/webmail.h"
#include "fuzz.h"

static const GumboTag written[] = {
	GUMBO_TAG_ARTICLE, GUMBO_TAG_SECTION, GUMBO_TAG_NAV, GUMBO_TAG_ASIDE,
	GUMBO_TAG_H1, GUMBO_TAG_H2, GUMBO_TAG_H3, GUMBO_TAG_H4, GUMBO_TAG_H5,
	GUMBO_TAG_H6, GUMBO_TAG_HGROUP, GUMBO_TAG_HEADER, GUMBO_TAG_FOOTER,
	GUMBO_TAG_ADDRESS, GUMBO_TAG_P, GUMBO_TAG_HR, GUMBO_TAG_PRE,
	GUMBO_TAG_BLOCKQUOTE, GUMBO_TAG_OL, GUMBO_TAG_UL, GUMBO_TAG_LI,
	GUMBO_TAG_DL, GUMBO_TAG_DT, GUMBO_TAG_DD, GUMBO_TAG_FIGURE,
	GUMBO_TAG_FIGCAPTION, GUMBO_TAG_MAIN, GUMBO_TAG_DIV, GUMBO_TAG_A,
	GUMBO_TAG_EM, GUMBO_TAG_STRONG, GUMBO_TAG_SMALL, GUMBO_TAG_S,
	GUMBO_TAG_CITE, GUMBO_TAG_Q, GUMBO_TAG_DFN, GUMBO_TAG_ABBR,
	GUMBO_TAG_DATA, GUMBO_TAG_TIME, GUMBO_TAG_CODE, GUMBO_TAG_VAR,
	GUMBO_TAG_SAMP, GUMBO_TAG_KBD, GUMBO_TAG_SUB, GUMBO_TAG_SUP,
	GUMBO_TAG_I, GUMBO_TAG_B, GUMBO_TAG_U, GUMBO_TAG_MARK, GUMBO_TAG_RUBY,
	GUMBO_TAG_RT, GUMBO_TAG_RP, GUMBO_TAG_RB, GUMBO_TAG_RTC, GUMBO_TAG_BDI,
	GUMBO_TAG_BDO, GUMBO_TAG_SPAN, GUMBO_TAG_BR, GUMBO_TAG_WBR,
	GUMBO_TAG_INS, GUMBO_TAG_DEL, GUMBO_TAG_IMG, GUMBO_TAG_TABLE,
	GUMBO_TAG_CAPTION, GUMBO_TAG_COLGROUP, GUMBO_TAG_COL, GUMBO_TAG_TBODY,
	GUMBO_TAG_THEAD, GUMBO_TAG_TFOOT, GUMBO_TAG_TR, GUMBO_TAG_TD,
	GUMBO_TAG_TH, GUMBO_TAG_DETAILS, GUMBO_TAG_SUMMARY, GUMBO_TAG_ACRONYM,
	GUMBO_TAG_STRIKE, GUMBO_TAG_BIG, GUMBO_TAG_CENTER, GUMBO_TAG_FONT,
	GUMBO_TAG_NOBR, GUMBO_TAG_TT,
	/* what the parser adds around the fragment */
	GUMBO_TAG_HTML, GUMBO_TAG_HEAD, GUMBO_TAG_BODY,
};

static const char *const attrs[] = {
	"abbr", "align", "alt", "bgcolor", "border", "cellpadding",
	"cellspacing", "clear", "color", "colspan", "datetime", "dir",
	"face", "height", "hspace", "lang", "noshade", "nowrap", "reversed",
	"rowspan", "scope", "size", "span", "start", "summary", "title",
	"type", "valign", "value", "vspace", "width", "href", "src", "style",
	"rel", "target",
};
#define NATTRS	(sizeof(attrs) / sizeof(attrs[0]))

static int
url_ok(const char *name, const char *v)
{
	if (strcmp(name, "href") == 0)
		return strncasecmp(v, "https://", 8) == 0 ||
		    strncasecmp(v, "http://", 7) == 0 ||
		    strncasecmp(v, "mailto:", 7) == 0;
	if (strcmp(name, "src") == 0)
		return strncasecmp(v, "https://", 8) == 0 ||
		    strncasecmp(v, "http://", 7) == 0 ||
		    strncasecmp(v, "data:image/", 11) == 0 ||
		    strncmp(v, "/part/", 6) == 0;
	if (strcmp(name, "style") == 0)
		return strchr(v, '\\') == NULL && strchr(v, ':') != NULL &&
		    strcasestr(v, "url(") == NULL &&
		    strcasestr(v, "expression") == NULL;
	return 1;
}

/* Walked without recursion: the output nests at most 256 deep, but
 * the parse of text that is not ours might not. */
static void
check_tree(const GumboNode *top)
{
	const GumboNode *n = top, *c;
	const GumboAttribute *a;
	size_t i = 0, k, j;

	for (;;) {
		if (i < n->v.element.children.length) {
			c = n->v.element.children.data[i++];
			if (c->type == GUMBO_NODE_TEXT ||
			    c->type == GUMBO_NODE_WHITESPACE)
				continue;
			if (c->type != GUMBO_NODE_ELEMENT ||
			    c->v.element.tag_namespace != GUMBO_NAMESPACE_HTML)
				abort();
			for (k = 0; k < sizeof(written) / sizeof(written[0]);
			    k++)
				if (written[k] == c->v.element.tag)
					break;
			if (k == sizeof(written) / sizeof(written[0]))
				abort();
			for (j = 0; j < c->v.element.attributes.length; j++) {
				a = c->v.element.attributes.data[j];
				for (k = 0; k < NATTRS; k++)
					if (strcmp(attrs[k], a->name) == 0)
						break;
				if (k == NATTRS ||
				    !url_ok(a->name, a->value))
					abort();
			}
			n = c;
			i = 0;
			continue;
		}
		if (n == top)
			return;
		i = n->index_within_parent + 1;
		n = n->parent;
	}
}

static void
check_output(const struct buf *b)
{
	GumboOutput *g;

	g = gumbo_parse_with_options(&kGumboDefaultOptions, b->data, b->len);
	check_tree(g->root);
	gumbo_destroy_output(&kGumboDefaultOptions, g);
}

static char *
cid_url(const char *cid, void *arg)
{
	size_t n = strlen(cid);
	char *u;

	(void)arg;
	if ((u = malloc(n + 7)) == NULL)
		return NULL;
	memcpy(u, "/part/", 6);
	memcpy(u + 6, cid, n + 1);
	return u;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct html_policy p = { 0, cid_url, NULL };
	struct html_report r;
	struct buf b, again;

	if (size == 0 || size > 65536)
		return 0;
	p.allow_remote_images = data[0] & 1;
	buf_init(&b, 1 << 20);
	buf_init(&again, 1 << 20);
	if (html_sanitize((const char *)data + 1, size - 1, &p, &b, &r) == 0 &&
	    b.len > 0) {
		check_output(&b);
		/* -1 is possible: the parse may have cloned elements
		 * past SANITIZE_MAX_TAGS. */
		if (html_sanitize(b.data, b.len, &p, &again, NULL) == 0 &&
		    again.len > 0)
			check_output(&again);
	}
	buf_reset(&b);
	if (text_to_html(&b, (const char *)data + 1, size - 1) == 0 &&
	    b.len > 0)
		check_output(&b);
	buf_release(&b);
	buf_release(&again);
	return 0;
}
