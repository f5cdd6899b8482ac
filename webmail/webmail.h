/*
 * webmail: the web interface to the mail store.
 *
 * escape.c	HTML escaping for every template, plain text bodies as HTML
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


#endif
