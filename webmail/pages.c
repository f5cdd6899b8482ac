/*
 * The frame of every page, and the login form.  Every text that is not
 * ours goes through html_escape (escape.c); no page holds a script or a
 * style of its own (the CSP allows only /static/).
 */
#include <string.h>

#include "webmail.h"

void
page_begin(struct buf *b, const char *title)
{
	buf_puts(b, "<!doctype html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">"
	    "<link rel=\"stylesheet\" href=\"/static/app.css\">"
	    "<title>");
	html_escape_str(b, title);
	buf_puts(b, "</title>");
}

void
page_body(struct buf *b, const char *body_class, const char *attrs)
{
	buf_puts(b, "</head><body class=\"");
	html_escape_str(b, body_class);
	buf_puts(b, "\"");
	if (attrs != NULL)
		buf_puts(b, attrs);	/* built with html_escape by the caller */
	buf_puts(b, ">\n");
}

void
page_end(struct buf *b)
{
	buf_puts(b, "<script src=\"/static/app.js\"></script>"
	    "</body></html>\n");
}

void
page_login(struct buf *b, const char *error)
{
	page_begin(b, "Log in · maild");
	page_body(b, "login", NULL);
	buf_puts(b, "<main class=\"login-box\"><h1><span class=\"logo\">"
	    "maild</span> webmail</h1>");
	if (error != NULL) {
		buf_puts(b, "<p class=\"error\" role=\"alert\">");
		html_escape_str(b, error);
		buf_puts(b, "</p>");
	}
	buf_puts(b, "<form method=\"post\" action=\"/login\">"
	    "<label for=\"user\">Address</label>"
	    "<input id=\"user\" name=\"user\" type=\"email\" "
	    "autocomplete=\"username\" required autofocus>"
	    "<label for=\"password\">Password</label>"
	    "<input id=\"password\" name=\"password\" type=\"password\" "
	    "autocomplete=\"current-password\" required>"
	    "<button class=\"primary\" type=\"submit\">Log in</button>"
	    "</form></main>");
	page_end(b);
}
