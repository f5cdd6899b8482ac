/*
 * webmail: the web interface to the mail store.
 *
 * escape.c	HTML escaping for every template, plain text bodies as HTML
 * sanitize.c	HTML mail bodies through an allow-list (gumbo's HTML5 parser)
 */
#ifndef WEBMAIL_H
#define WEBMAIL_H

#include <stddef.h>

#include "../lib/buf.h"

/* ==== escape.c: HTML escaping ==== */
/*
 * Append s escaped for HTML text and for double- or single-quoted
 * attribute values: & < > " ' become entities, invalid UTF-8 and C0
 * controls other than tab, LF and CR become U+FFFD.  The one escaping
 * function every template uses.  0, or -1 when b's max would be passed
 * (b then holds a prefix of the escaped text).
 */
int	html_escape(struct buf *b, const char *s, size_t n);
int	html_escape_str(struct buf *b, const char *s);
/*
 * A plain text body as HTML: escaped, line breaks kept as they are (the
 * caller shows it in <pre> or with white-space: pre-wrap; no <br>), and
 * http://, https:// and mailto: URLs made links that open in a new
 * browsing context without a referrer; trailing punctuation (".", ",",
 * an unbalanced ")") stays outside the link.  No other scheme is ever
 * a link.  0 or -1 as html_escape().
 */
int	text_to_html(struct buf *b, const char *text, size_t n);
/* ==== end escape.c ==== */

/* ==== sanitize.c: HTML mail bodies ==== */
#define SANITIZE_MAX_DEPTH	256	/* deeper elements: their text only */
#define SANITIZE_MAX_TAGS	20000	/* gumbo's work: O(tags x depth) */
#define SANITIZE_MAX_PARSE_MEM	(64u << 20)	/* gumbo's tree, bytes */

struct html_policy {
	int	 allow_remote_images;	/* 0: <img src=http(s)://...> dropped
					 * (counted in remote_blocked) */
	/* cid: URLs (RFC 2392; cid is the Content-ID without <>, its
	 * %-escapes decoded): a malloc'd same-origin URL for the part, or
	 * NULL to drop the image.  NULL callback: cid: images dropped. */
	char	*(*cid_url)(const char *cid, void *arg);
	void	*arg;
};

struct html_report {
	unsigned int	remote_blocked;		/* remote images left out */
	unsigned int	dropped_elements;	/* elements not shown, with or
						 * without their content */
};

/*
 * Sanitize an HTML mail body (UTF-8) into b: body content only (no
 * html/head/body tags), safe to serve inside a sandboxed iframe.  The
 * output is written from gumbo's parse tree through an allow-list of
 * elements, attributes, URL schemes and CSS properties, never copied
 * from the source; bytes that are not UTF-8 become U+FFFD.  p NULL:
 * no remote images, no cid: images.  r may be NULL.  0, or -1 (b left
 * as it was) when b's max would be passed or the body is refused: more
 * than SANITIZE_MAX_TAGS tags, or a parse that needs more than
 * SANITIZE_MAX_PARSE_MEM.
 */
int	html_sanitize(const char *html, size_t len,
	    const struct html_policy *p, struct buf *b,
	    struct html_report *r);
/* ==== end sanitize.c ==== */

#endif
