/*
 * sanitize.c: HTML mail bodies made safe to show, after the allow-list
 * sanitizers webmail clients rely on (Roundcube's washtml, DOMPurify).
 *
 * SECURITY: the body is written by anyone who can send mail.  It is
 * parsed by gumbo, an HTML5 parser, so the tree is the one a browser
 * builds from the same bytes (entities decoded, misnested tags fixed,
 * <svg> and <math> content in their own namespaces).  The output is
 * then written by us from that tree: element names from a fixed table,
 * attribute names from a fixed list, every text and attribute value
 * through html_escape(), no comment, no raw-text element (script,
 * style, textarea, title...) and no foreign content.  So what the
 * browser parses again holds text only where we wrote text and markup
 * only where we wrote markup.  URLs are checked the way the browser
 * reads them (tabs and newlines removed, controls trimmed, scheme case
 * folded) and the checked form is what is written.  CSS is kept only
 * in style attributes, declaration by declaration, after its escapes
 * are decoded, and written decoded.
 *
 * gumbo has no limits of its own: "in scope" looks walk the stack of
 * open elements (200 KB of "<div>" takes seconds), and reconstructing
 * formatting elements can clone each of N open <b a=i> at every one of
 * M closing tags (8 KB of input made 38 MB).  Bodies with more than
 * SANITIZE_MAX_TAGS tags are refused before parsing, and the parse
 * allocates from an arena of at most SANITIZE_MAX_PARSE_MEM that is
 * left with longjmp() when it is full (gumbo holds nothing but that
 * memory) and freed at once, without gumbo's recursive destructor.
 */
#include <setjmp.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gumbo.h>

#include "webmail.h"

/* ---- The parse's memory ---- */

struct blk {
	struct blk	*prev, *next;
	size_t		 size;
};
#define BLK_HDR	((sizeof(struct blk) + alignof(max_align_t) - 1) & \
		    ~(alignof(max_align_t) - 1))

struct arena {
	struct blk	 head;		/* circular list of live blocks */
	size_t		 used;
	jmp_buf		 full;
};

static void *
arena_alloc(void *arg, size_t size)
{
	struct arena *a = arg;
	struct blk *k;

	if (size > SANITIZE_MAX_PARSE_MEM - a->used ||
	    (k = malloc(BLK_HDR + size)) == NULL)
		longjmp(a->full, 1);
	k->size = size;
	a->used += size;
	k->prev = &a->head;
	k->next = a->head.next;
	a->head.next->prev = k;
	a->head.next = k;
	return (char *)k + BLK_HDR;
}

static void
arena_dealloc(void *arg, void *ptr)
{
	struct arena *a = arg;
	struct blk *k;

	if (ptr == NULL)
		return;
	k = (struct blk *)(void *)((char *)ptr - BLK_HDR);
	k->prev->next = k->next;
	k->next->prev = k->prev;
	a->used -= k->size;
	free(k);
}

static void
arena_release(struct arena *a)
{
	struct blk *k, *next;

	for (k = a->head.next; k != &a->head; k = next) {
		next = k->next;
		free(k);
	}
	a->head.next = a->head.prev = &a->head;
	a->used = 0;
}

/*
 * The body parsed as the content of <body> (the HTML5 fragment case),
 * so its own <html>, <head> and <body> tags are ignored and what we
 * write parses back the same way.  NULL if the arena filled up.
 */
static GumboOutput *
sanitize_parse(struct arena *a, const char *html, size_t len)
{
	GumboOptions opt = kGumboDefaultOptions;

	opt.allocator = arena_alloc;
	opt.deallocator = arena_dealloc;
	opt.userdata = a;
	opt.max_errors = 0;		/* we do not read them */
	opt.fragment_context = GUMBO_TAG_BODY;
	opt.fragment_namespace = GUMBO_NAMESPACE_HTML;
	if (setjmp(a->full) != 0)
		return NULL;
	return gumbo_parse_with_options(&opt, html, len);
}

/* Start tags, roughly: enough to bound gumbo's work before it starts. */
static size_t
count_tags(const char *s, size_t n)
{
	const char *p, *end = s + n;
	size_t tags = 0;

	while (s < end && (p = memchr(s, '<', end - s)) != NULL &&
	    p + 1 < end) {
		if (((p[1] | 0x20) >= 'a' && (p[1] | 0x20) <= 'z'))
			tags++;
		s = p + 1;
	}
	return tags;
}

/* ---- The allow-list ---- */

enum kind {
	K_UNWRAP = 0,	/* not shown; its content is (default) */
	K_DROP,		/* not shown, nor anything in it */
	K_KEEP,
	K_VOID,		/* kept; no content, no end tag */
};

static const unsigned char tag_kind[GUMBO_TAG_LAST + 1] = {
	/* Document structure, metadata, scripts, raw text, embedded
	 * content, forms' controls: dropped with their content. */
	[GUMBO_TAG_HTML] = K_UNWRAP,
	[GUMBO_TAG_HEAD] = K_DROP,	[GUMBO_TAG_TITLE] = K_DROP,
	[GUMBO_TAG_BASE] = K_DROP,	[GUMBO_TAG_LINK] = K_DROP,
	[GUMBO_TAG_META] = K_DROP,	[GUMBO_TAG_STYLE] = K_DROP,
	[GUMBO_TAG_SCRIPT] = K_DROP,	[GUMBO_TAG_NOSCRIPT] = K_DROP,
	[GUMBO_TAG_TEMPLATE] = K_DROP,	[GUMBO_TAG_IFRAME] = K_DROP,
	[GUMBO_TAG_EMBED] = K_DROP,	[GUMBO_TAG_OBJECT] = K_DROP,
	[GUMBO_TAG_PARAM] = K_DROP,	[GUMBO_TAG_VIDEO] = K_DROP,
	[GUMBO_TAG_AUDIO] = K_DROP,	[GUMBO_TAG_SOURCE] = K_DROP,
	[GUMBO_TAG_TRACK] = K_DROP,	[GUMBO_TAG_CANVAS] = K_DROP,
	[GUMBO_TAG_MAP] = K_DROP,	[GUMBO_TAG_AREA] = K_DROP,
	[GUMBO_TAG_MATH] = K_DROP,	[GUMBO_TAG_SVG] = K_DROP,
	[GUMBO_TAG_INPUT] = K_DROP,	[GUMBO_TAG_BUTTON] = K_DROP,
	[GUMBO_TAG_SELECT] = K_DROP,	[GUMBO_TAG_DATALIST] = K_DROP,
	[GUMBO_TAG_OPTGROUP] = K_DROP,	[GUMBO_TAG_OPTION] = K_DROP,
	[GUMBO_TAG_TEXTAREA] = K_DROP,	[GUMBO_TAG_KEYGEN] = K_DROP,
	[GUMBO_TAG_OUTPUT] = K_DROP,	[GUMBO_TAG_PROGRESS] = K_DROP,
	[GUMBO_TAG_METER] = K_DROP,	[GUMBO_TAG_APPLET] = K_DROP,
	[GUMBO_TAG_BGSOUND] = K_DROP,	[GUMBO_TAG_FRAME] = K_DROP,
	[GUMBO_TAG_FRAMESET] = K_DROP,	[GUMBO_TAG_NOFRAMES] = K_DROP,
	[GUMBO_TAG_ISINDEX] = K_DROP,	[GUMBO_TAG_NOEMBED] = K_DROP,
	[GUMBO_TAG_MENUITEM] = K_DROP,	[GUMBO_TAG_BASEFONT] = K_DROP,
	/* Text and tables, as newsletters use them. */
	[GUMBO_TAG_ARTICLE] = K_KEEP,	[GUMBO_TAG_SECTION] = K_KEEP,
	[GUMBO_TAG_NAV] = K_KEEP,	[GUMBO_TAG_ASIDE] = K_KEEP,
	[GUMBO_TAG_H1] = K_KEEP,	[GUMBO_TAG_H2] = K_KEEP,
	[GUMBO_TAG_H3] = K_KEEP,	[GUMBO_TAG_H4] = K_KEEP,
	[GUMBO_TAG_H5] = K_KEEP,	[GUMBO_TAG_H6] = K_KEEP,
	[GUMBO_TAG_HGROUP] = K_KEEP,	[GUMBO_TAG_HEADER] = K_KEEP,
	[GUMBO_TAG_FOOTER] = K_KEEP,	[GUMBO_TAG_ADDRESS] = K_KEEP,
	[GUMBO_TAG_P] = K_KEEP,		[GUMBO_TAG_HR] = K_VOID,
	[GUMBO_TAG_PRE] = K_KEEP,	[GUMBO_TAG_BLOCKQUOTE] = K_KEEP,
	[GUMBO_TAG_OL] = K_KEEP,	[GUMBO_TAG_UL] = K_KEEP,
	[GUMBO_TAG_LI] = K_KEEP,	[GUMBO_TAG_DL] = K_KEEP,
	[GUMBO_TAG_DT] = K_KEEP,	[GUMBO_TAG_DD] = K_KEEP,
	[GUMBO_TAG_FIGURE] = K_KEEP,	[GUMBO_TAG_FIGCAPTION] = K_KEEP,
	[GUMBO_TAG_MAIN] = K_KEEP,	[GUMBO_TAG_DIV] = K_KEEP,
	[GUMBO_TAG_A] = K_KEEP,		[GUMBO_TAG_EM] = K_KEEP,
	[GUMBO_TAG_STRONG] = K_KEEP,	[GUMBO_TAG_SMALL] = K_KEEP,
	[GUMBO_TAG_S] = K_KEEP,		[GUMBO_TAG_CITE] = K_KEEP,
	[GUMBO_TAG_Q] = K_KEEP,		[GUMBO_TAG_DFN] = K_KEEP,
	[GUMBO_TAG_ABBR] = K_KEEP,	[GUMBO_TAG_DATA] = K_KEEP,
	[GUMBO_TAG_TIME] = K_KEEP,	[GUMBO_TAG_CODE] = K_KEEP,
	[GUMBO_TAG_VAR] = K_KEEP,	[GUMBO_TAG_SAMP] = K_KEEP,
	[GUMBO_TAG_KBD] = K_KEEP,	[GUMBO_TAG_SUB] = K_KEEP,
	[GUMBO_TAG_SUP] = K_KEEP,	[GUMBO_TAG_I] = K_KEEP,
	[GUMBO_TAG_B] = K_KEEP,		[GUMBO_TAG_U] = K_KEEP,
	[GUMBO_TAG_MARK] = K_KEEP,	[GUMBO_TAG_RUBY] = K_KEEP,
	[GUMBO_TAG_RT] = K_KEEP,	[GUMBO_TAG_RP] = K_KEEP,
	[GUMBO_TAG_RB] = K_KEEP,	[GUMBO_TAG_RTC] = K_KEEP,
	[GUMBO_TAG_BDI] = K_KEEP,	[GUMBO_TAG_BDO] = K_KEEP,
	[GUMBO_TAG_SPAN] = K_KEEP,	[GUMBO_TAG_BR] = K_VOID,
	[GUMBO_TAG_WBR] = K_VOID,	[GUMBO_TAG_INS] = K_KEEP,
	[GUMBO_TAG_DEL] = K_KEEP,	[GUMBO_TAG_IMG] = K_VOID,
	[GUMBO_TAG_TABLE] = K_KEEP,	[GUMBO_TAG_CAPTION] = K_KEEP,
	[GUMBO_TAG_COLGROUP] = K_KEEP,	[GUMBO_TAG_COL] = K_VOID,
	[GUMBO_TAG_TBODY] = K_KEEP,	[GUMBO_TAG_THEAD] = K_KEEP,
	[GUMBO_TAG_TFOOT] = K_KEEP,	[GUMBO_TAG_TR] = K_KEEP,
	[GUMBO_TAG_TD] = K_KEEP,	[GUMBO_TAG_TH] = K_KEEP,
	[GUMBO_TAG_DETAILS] = K_KEEP,	[GUMBO_TAG_SUMMARY] = K_KEEP,
	[GUMBO_TAG_ACRONYM] = K_KEEP,	[GUMBO_TAG_STRIKE] = K_KEEP,
	[GUMBO_TAG_BIG] = K_KEEP,	[GUMBO_TAG_CENTER] = K_KEEP,
	[GUMBO_TAG_FONT] = K_KEEP,	[GUMBO_TAG_NOBR] = K_KEEP,
	[GUMBO_TAG_TT] = K_KEEP,
	/* Everything else (form, label, xmp, plaintext, marquee, unknown
	 * and custom elements) is unwrapped: its text still shows. */
};

/*
 * Attributes kept as they are (values escaped); href, src and style
 * are checked on their own.  None holds a URL or script: no on*,
 * srcset, background, action, formaction, xlink:href, srcdoc.
 */
static const char *const plain_attrs[] = {
	"abbr", "align", "alt", "bgcolor", "border", "cellpadding",
	"cellspacing", "clear", "color", "colspan", "datetime", "dir",
	"face", "height", "hspace", "lang", "noshade", "nowrap", "reversed",
	"rowspan", "scope", "size", "span", "start", "summary", "title",
	"type", "valign", "value", "vspace", "width",
};

static int
plain_attr(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(plain_attrs) / sizeof(plain_attrs[0]); i++)
		if (strcmp(name, plain_attrs[i]) == 0)
			return 1;
	return 0;
}

/* ---- URLs ---- */

/*
 * The URL as a browser's URL parser reads it (WHATWG URL: leading and
 * trailing C0 controls and spaces removed, tabs and newlines removed
 * everywhere) into u.  -1 if it does not fit.
 */
static int
url_clean(const char *s, struct buf *u)
{
	size_t n = strlen(s);
	size_t i;

	while (n > 0 && (unsigned char)s[n - 1] <= 0x20)
		n--;
	while (n > 0 && (unsigned char)*s <= 0x20) {
		s++;
		n--;
	}
	for (i = 0; i < n; i++)
		if (s[i] != '\t' && s[i] != '\n' && s[i] != '\r' &&
		    buf_putc(u, s[i]) == -1)
			return -1;
	return 0;
}

static int
url_has_scheme(const char *url, const char *scheme)
{
	size_t n = strlen(scheme);

	return strncasecmp(url, scheme, n) == 0 && url[n] == ':';
}

/* http: and https: with an authority ("http:/x" would be relative). */
static int
url_is_remote(const char *url)
{
	const char *p;

	if (url_has_scheme(url, "http"))
		p = url + 5;
	else if (url_has_scheme(url, "https"))
		p = url + 6;
	else
		return 0;
	return p[0] == '/' && p[1] == '/' && p[2] != '\0' && p[2] != '/' &&
	    p[2] != '\\';
}

static int
href_ok(const char *url)
{
	return url_is_remote(url) ||
	    (url_has_scheme(url, "mailto") && url[7] != '\0');
}

/* data:image/(png|gif|jpeg|webp);base64,<base64>: raster images only. */
static int
data_image_ok(const char *url)
{
	static const char *const types[] = { "png", "gif", "jpeg", "webp" };
	const char *p;
	size_t i, n;

	if (strncasecmp(url, "data:image/", 11) != 0)
		return 0;
	p = url + 11;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		n = strlen(types[i]);
		if (strncasecmp(p, types[i], n) == 0 &&
		    strncasecmp(p + n, ";base64,", 8) == 0)
			break;
	}
	if (i == sizeof(types) / sizeof(types[0]))
		return 0;
	p += n + 8;
	return p[strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/= ")] == '\0';
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* RFC 2392: cid:<Content-ID with %-escapes, without angle brackets>.
 * NULL if it decodes to nothing or to a NUL. */
static char *
cid_decode(const char *s)
{
	size_t n = strlen(s), i, j;
	char *out;
	int hi, lo;

	if ((out = malloc(n + 1)) == NULL)
		return NULL;
	for (i = j = 0; i < n; i++) {
		if (s[i] == '%' && (hi = hexval(s[i + 1])) != -1 &&
		    (lo = hexval(s[i + 2])) != -1) {
			out[j++] = (char)(hi << 4 | lo);
			i += 2;
		} else
			out[j++] = s[i];
		if (out[j - 1] == '\0')
			break;
	}
	if (j == 0 || out[j - 1] == '\0') {
		free(out);
		return NULL;
	}
	out[j] = '\0';
	if (out[0] == '<' && out[j - 1] == '>' && j > 2) {
		memmove(out, out + 1, j - 2);
		out[j - 2] = '\0';
	}
	return out;
}

/* ---- CSS in style attributes ---- */

static const char *const css_props[] = {
	"background", "background-color", "border-collapse",
	"border-spacing", "box-sizing", "caption-side", "clear", "color",
	"direction", "display", "empty-cells", "float", "height",
	"letter-spacing", "line-height", "max-height", "max-width",
	"min-height", "min-width", "opacity", "overflow", "overflow-wrap",
	"overflow-x", "overflow-y", "table-layout", "unicode-bidi",
	"vertical-align", "visibility", "white-space", "width",
	"word-break", "word-spacing", "word-wrap",
};
/* and their longhands ("border-top-color") */
static const char *const css_prefixes[] = {
	"border", "font", "list-style", "margin", "padding", "text",
};

/* Words that have meant script or a fetch in some browser's CSS. */
static int
css_bad_word(const char *s, size_t n)
{
	static const char *const bad[] = { "expression", "javascript",
	    "vbscript", "url", "behavior", "binding" };
	size_t i, j, k;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		k = strlen(bad[i]);
		for (j = 0; j + k <= n; j++)
			if (strncasecmp(s + j, bad[i], k) == 0)
				return 1;
	}
	return 0;
}

static int
css_prop_ok(const char *prop, size_t n)
{
	size_t i, k;

	if (n == 0 || n > 40 || strspn(prop, "abcdefghijklmnopqrstuvwxyz-") < n)
		return 0;
	for (i = 0; i + 5 <= n; i++)	/* border-image, list-style-image */
		if (strncmp(prop + i, "image", 5) == 0)
			return 0;
	if (css_bad_word(prop, n))
		return 0;
	for (i = 0; i < sizeof(css_props) / sizeof(css_props[0]); i++)
		if (strlen(css_props[i]) == n &&
		    strncmp(prop, css_props[i], n) == 0)
			return 1;
	for (i = 0; i < sizeof(css_prefixes) / sizeof(css_prefixes[0]); i++) {
		k = strlen(css_prefixes[i]);
		if (n >= k && strncmp(prop, css_prefixes[i], k) == 0 &&
		    (n == k || prop[k] == '-'))
			return 1;
	}
	return 0;
}

/*
 * A declaration's value (already decoded): words, numbers, colours,
 * quoted font names and the functions rgb(), rgba(), hsl(), hsla()
 * and calc().  No URL, no expression(), no escape, no ':' (so no
 * "javascript:"), nothing that could end the declaration or start a
 * comment, block or at-rule.
 */
static int
css_value_ok(const char *v, size_t n)
{
	static const char *const funcs[] = { "rgb", "rgba", "hsl", "hsla",
	    "calc" };
	char quote = 0;
	size_t i, k, w;
	int parens = 0;

	if (n == 0 || css_bad_word(v, n))
		return 0;
	for (i = 0; i < n; i++) {
		const unsigned char c = v[i];

		if (c < 0x20 || c == 0x7f || strchr("\\{}<>@:;&*=[]^$|~`", c))
			return 0;
		if (quote != 0) {
			if (c == (unsigned char)quote)
				quote = 0;
			continue;
		}
		if (c == '\'' || c == '"')
			quote = (char)c;
		else if (c == ')' && --parens < 0)
			return 0;
		else if (c == '(') {
			for (w = i; w > 0 && ((v[w - 1] | 0x20) >= 'a' &&
			    (v[w - 1] | 0x20) <= 'z'); w--)
				;
			for (k = 0; k < sizeof(funcs) / sizeof(funcs[0]); k++)
				if (strlen(funcs[k]) == i - w &&
				    strncasecmp(v + w, funcs[k], i - w) == 0)
					break;
			if (k == sizeof(funcs) / sizeof(funcs[0]))
				return 0;
			parens++;
		}
	}
	return quote == 0 && parens == 0;
}

static int
css_put_utf8(struct buf *d, uint32_t cp)
{
	char u[4];
	size_t n;

	if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		cp = 0xfffd;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return buf_append(d, u, n);
}

/*
 * The style attribute as CSS reads it: comments removed, escapes
 * ("\65 xpression", "\:") decoded (CSS Syntax §4.3.7), so the checks
 * see what the browser sees.
 */
static int
css_decode(const char *s, struct buf *d)
{
	uint32_t cp;
	int i, h;

	while (*s != '\0') {
		if (s[0] == '/' && s[1] == '*') {
			const char *e = strstr(s + 2, "*/");

			s = e == NULL ? s + strlen(s) : e + 2;
			if (buf_putc(d, ' ') == -1)
				return -1;
			continue;
		}
		if (*s != '\\') {
			if (buf_putc(d, *s++) == -1)
				return -1;
			continue;
		}
		s++;
		/* A backslash before a newline continues the line. */
		if (*s == '\n' || *s == '\f' || *s == '\r') {
			s += s[0] == '\r' && s[1] == '\n' ? 2 : 1;
			continue;
		}
		if (*s == '\0') {
			if (css_put_utf8(d, 0xfffd) == -1)
				return -1;
			continue;
		}
		if (hexval((unsigned char)*s) == -1) {
			if (buf_putc(d, *s++) == -1)
				return -1;
			continue;
		}
		for (cp = 0, i = 0; i < 6 && (h = hexval((unsigned char)*s))
		    != -1; i++, s++)
			cp = cp << 4 | (uint32_t)h;
		if (s[0] == '\r' && s[1] == '\n')
			s += 2;
		else if (*s == ' ' || *s == '\t' || *s == '\n' ||
		    *s == '\r' || *s == '\f')
			s++;
		if (css_put_utf8(d, cp) == -1)
			return -1;
	}
	return 0;
}

static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && strchr(" \t\n\r\f", (*s)[*n - 1]) != NULL)
		(*n)--;
	while (*n > 0 && strchr(" \t\n\r\f", **s) != NULL) {
		(*s)++;
		(*n)--;
	}
}

/* The declarations of style we keep, as "prop: value; ..." in out. */
static int
css_filter(const char *style, struct buf *out)
{
	struct buf d;
	const char *decl, *end, *colon, *v;
	char prop[41];
	size_t n, pn, vn, i;
	int rc = -1;

	buf_init(&d, 0);
	if (css_decode(style, &d) == -1 || d.data == NULL)
		goto out;
	for (decl = d.data; *decl != '\0'; decl = *end ? end + 1 : end) {
		if ((end = strchr(decl, ';')) == NULL)
			end = decl + strlen(decl);
		n = end - decl;
		if ((colon = memchr(decl, ':', n)) == NULL)
			continue;
		pn = colon - decl;
		trim(&decl, &pn);
		v = colon + 1;
		vn = end - v;
		trim(&v, &vn);
		if (pn == 0 || pn >= sizeof(prop))
			continue;
		for (i = 0; i < pn; i++)
			prop[i] = (char)((decl[i] >= 'A' && decl[i] <= 'Z') ?
			    decl[i] | 0x20 : decl[i]);
		prop[pn] = '\0';
		if (!css_prop_ok(prop, pn) || !css_value_ok(v, vn))
			continue;
		if ((out->len > 0 && buf_puts(out, "; ") == -1) ||
		    buf_printf(out, "%s: %.*s", prop, (int)vn, v) == -1)
			goto out;
	}
	rc = 0;
out:
	buf_release(&d);
	return rc;
}

/* ---- Writing the tree ---- */

struct san {
	const struct html_policy *p;
	struct buf		*b;
	struct html_report	*r;
	int			 in_a;	/* inside an <a> we wrote */
};

static int
put_attr(struct san *s, const char *name, const char *value)
{
	if (buf_printf(s->b, " %s=\"", name) == -1 ||
	    html_escape_str(s->b, value) == -1)
		return -1;
	return buf_putc(s->b, '"');
}

/*
 * The src we write for an <img> (malloc'd), or NULL to leave the image
 * out (counted).  -1 only if the URL alone passes b's max.
 */
static int
img_src(struct san *s, const GumboElement *e, char **src)
{
	const GumboAttribute *a;
	struct buf u;
	char *cid;

	*src = NULL;
	if ((a = gumbo_get_attribute(&e->attributes, "src")) == NULL)
		goto drop;
	buf_init(&u, s->b->max);
	if (url_clean(a->value, &u) == -1) {
		buf_release(&u);
		return -1;
	}
	if (u.data == NULL)
		goto drop;
	if (data_image_ok(u.data))
		*src = buf_take(&u);
	else if (url_is_remote(u.data)) {
		if (s->p->allow_remote_images)
			*src = buf_take(&u);
		else {
			s->r->remote_blocked++;
			buf_release(&u);
			return 0;
		}
	} else if (url_has_scheme(u.data, "cid") && s->p->cid_url != NULL &&
	    (cid = cid_decode(u.data + 4)) != NULL) {
		*src = s->p->cid_url(cid, s->p->arg);
		free(cid);
	}
	buf_release(&u);
	if (*src != NULL)
		return 0;
drop:
	s->r->dropped_elements++;
	return 0;
}

/* 0 written, 1 left out (an image with no src we keep), -1 b is full. */
static int
put_start_tag(struct san *s, const GumboNode *node)
{
	const GumboElement *e = &node->v.element;
	const GumboAttribute *a;
	struct buf v;
	char *src = NULL;
	int href = 0, rc = -1;
	unsigned int i;

	buf_init(&v, s->b->max);
	if (e->tag == GUMBO_TAG_IMG) {
		if (img_src(s, e, &src) == -1)
			return -1;
		if (src == NULL)
			return 1;		/* not shown */
	}
	if (buf_printf(s->b, "<%s", gumbo_normalized_tagname(e->tag)) == -1 ||
	    (src != NULL && put_attr(s, "src", src) == -1))
		goto out;
	for (i = 0; i < e->attributes.length; i++) {
		a = e->attributes.data[i];
		buf_reset(&v);
		if (a->attr_namespace != GUMBO_ATTR_NAMESPACE_NONE)
			continue;
		if (plain_attr(a->name)) {
			if (put_attr(s, a->name, a->value) == -1)
				goto out;
		} else if (strcmp(a->name, "style") == 0) {
			if (css_filter(a->value, &v) == -1)
				goto out;
			if (v.len > 0 && put_attr(s, "style", v.data) == -1)
				goto out;
		} else if (strcmp(a->name, "href") == 0 &&
		    e->tag == GUMBO_TAG_A && !href) {
			if (url_clean(a->value, &v) == -1)
				goto out;
			if (v.data != NULL && href_ok(v.data)) {
				if (put_attr(s, "href", v.data) == -1)
					goto out;
				href = 1;
			}
		}
	}
	if (href && buf_puts(s->b, " rel=\"noopener noreferrer\""
	    " target=\"_blank\"") == -1)
		goto out;
	rc = buf_putc(s->b, '>');
out:
	free(src);
	buf_release(&v);
	return rc;
}

static enum kind
node_kind(const GumboNode *n)
{
	if (n->type == GUMBO_NODE_TEMPLATE)
		return K_DROP;
	if (n->v.element.tag_namespace != GUMBO_NAMESPACE_HTML)
		return K_DROP;			/* SVG, MathML: all of it */
	return (enum kind)tag_kind[n->v.element.tag];
}

/*
 * Below SANITIZE_MAX_DEPTH only the text is written, walked without
 * recursion (gumbo's tree may be as deep as the body has tags).
 */
static int
put_text_only(struct san *s, const GumboNode *top)
{
	const GumboNode *n = top, *c;
	size_t i = 0;

	for (;;) {
		if (i < n->v.element.children.length) {
			c = n->v.element.children.data[i];
			if (c->type == GUMBO_NODE_TEXT ||
			    c->type == GUMBO_NODE_WHITESPACE) {
				if (html_escape_str(s->b, c->v.text.text) == -1)
					return -1;
				i++;
			} else if (c->type == GUMBO_NODE_ELEMENT) {
				s->r->dropped_elements++;
				if (node_kind(c) == K_DROP)
					i++;
				else {
					n = c;
					i = 0;
				}
			} else
				i++;
			continue;
		}
		if (n == top)
			return 0;
		i = n->index_within_parent + 1;
		n = n->parent;
	}
}

static int put_children(struct san *, const GumboNode *, unsigned int);

static int
put_node(struct san *s, const GumboNode *n, unsigned int depth)
{
	const GumboElement *e = &n->v.element;
	const GumboNode *first;
	enum kind k;
	int rc;

	switch (n->type) {
	case GUMBO_NODE_TEXT:
	case GUMBO_NODE_WHITESPACE:
		return html_escape_str(s->b, n->v.text.text);
	case GUMBO_NODE_ELEMENT:
	case GUMBO_NODE_TEMPLATE:
		break;
	default:			/* comments, CDATA (foreign only) */
		return 0;
	}
	/* The parser closes an <a> at the next <a> start tag, but it
	 * can build one inside another (through a table): write the
	 * inner one's content only, or it would read back differently. */
	if ((k = node_kind(n)) == K_KEEP && e->tag == GUMBO_TAG_A && s->in_a)
		k = K_UNWRAP;
	if (k == K_DROP || k == K_UNWRAP) {
		s->r->dropped_elements++;
		return k == K_DROP ? 0 : put_children(s, n, depth);
	}
	if (depth >= SANITIZE_MAX_DEPTH) {
		s->r->dropped_elements++;
		return put_text_only(s, n);
	}
	if ((rc = put_start_tag(s, n)) != 0)
		return rc == 1 ? 0 : -1;
	if (k == K_VOID)
		return 0;
	/* The parser drops a newline right after <pre>: write one more
	 * so a leading blank line survives (HTML §13.3, serializing). */
	if (e->tag == GUMBO_TAG_PRE && e->children.length > 0 &&
	    ((first = e->children.data[0])->type == GUMBO_NODE_TEXT ||
	    first->type == GUMBO_NODE_WHITESPACE) &&
	    first->v.text.text[0] == '\n' && buf_putc(s->b, '\n') == -1)
		return -1;
	if (e->tag == GUMBO_TAG_A)
		s->in_a = 1;
	rc = put_children(s, n, depth + 1);
	if (e->tag == GUMBO_TAG_A)
		s->in_a = 0;
	if (rc == -1)
		return -1;
	return buf_printf(s->b, "</%s>", gumbo_normalized_tagname(e->tag));
}

static int
put_children(struct san *s, const GumboNode *n, unsigned int depth)
{
	unsigned int i;

	for (i = 0; i < n->v.element.children.length; i++)
		if (put_node(s, n->v.element.children.data[i], depth) == -1)
			return -1;
	return 0;
}

int
html_sanitize(const char *html, size_t len, const struct html_policy *p,
    struct buf *b, struct html_report *r)
{
	static const struct html_policy strict;	/* no remote, no cid: */
	struct html_report dummy;
	struct arena *a;
	GumboOutput *out;
	struct san s;
	size_t start = b->len;
	int rc = -1;

	if (p == NULL)
		p = &strict;
	if (r == NULL)
		r = &dummy;
	memset(r, 0, sizeof(*r));
	if (count_tags(html, len) > SANITIZE_MAX_TAGS)
		return -1;
	/* On the heap: longjmp() must not find it in a register. */
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return -1;
	a->head.next = a->head.prev = &a->head;
	if ((out = sanitize_parse(a, html, len)) == NULL)
		goto out;
	s.p = p;
	s.b = b;
	s.r = r;
	s.in_a = 0;
	rc = put_children(&s, out->root, 0);
out:
	if (rc == -1)
		buf_truncate(b, start);
	arena_release(a);
	free(a);
	return rc;
}
