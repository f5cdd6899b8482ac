#include <string.h>

#include "linereader.h"
#include "../t/tap.h"

static void
push(struct linereader *lr, const char *s)
{
	char *p;
	size_t n, len = strlen(s);

	lr_space(lr, &p, &n);
	if (len > n)
		len = n;
	memcpy(p, s, len);
	lr_filled(lr, len);
}

/* Feed a whole stream one byte at a time, collecting lines joined by '|'. */
static void
bytewise(const char *in, size_t cap, char *out, size_t outsize)
{
	struct linereader lr;
	enum lr_status st;
	char *line, c[2] = { 0, 0 };
	size_t len, i;

	lr_init(&lr, cap);
	out[0] = '\0';
	for (i = 0; in[i] != '\0'; i++) {
		c[0] = in[i];
		push(&lr, c);
		while ((st = lr_getline(&lr, &line, &len)) != LR_MORE) {
			if (st == LR_TOOLONG) {	/* its end is not known yet */
				strncat(out, "<LONG>", outsize - strlen(out) - 1);
				continue;
			}
			strncat(out, line, outsize - strlen(out) - 1);
			strncat(out, lr.crlf ? "|" : "~",
			    outsize - strlen(out) - 1);
		}
	}
	lr_free(&lr);
}

int
main(void)
{
	struct linereader lr;
	char *line, out[512];
	size_t len;

	lr_init(&lr, 8);
	push(&lr, "HELO x\r\n");
	ok(lr_getline(&lr, &line, &len) == LR_LINE &&
	    strcmp(line, "HELO x") == 0 && len == 6 && lr.crlf,
	    "line of exactly the cap, CRLF stripped");
	ok(lr_getline(&lr, &line, &len) == LR_MORE, "then nothing");

	push(&lr, "AB");
	ok(lr_getline(&lr, &line, &len) == LR_MORE, "partial line waits");
	push(&lr, "C\nD");
	ok(lr_getline(&lr, &line, &len) == LR_LINE &&
	    strcmp(line, "ABC") == 0 && !lr.crlf, "bare LF ends a line, crlf=0");
	ok(lr_pending(&lr) == 1, "one byte pending");

	lr_discard(&lr);
	push(&lr, "AAAAAAAA");			/* cap is 8 */
	ok(lr_getline(&lr, &line, &len) == LR_TOOLONG, "cap enforced");
	push(&lr, "AAAAAAAA");
	ok(lr_getline(&lr, &line, &len) == LR_MORE,
	    "overlong line reported only once");
	push(&lr, "A\r\n");
	ok(lr_getline(&lr, &line, &len) == LR_MORE, "tail discarded");
	push(&lr, "QUIT\r\n");
	ok(lr_getline(&lr, &line, &len) == LR_LINE &&
	    strcmp(line, "QUIT") == 0, "resyncs after overlong line");

	lr_discard(&lr);
	push(&lr, "AAAAAAA\r");
	ok(lr_getline(&lr, &line, &len) == LR_TOOLONG, "CR at the cap");
	push(&lr, "\n.\r\n");
	ok(lr_getline(&lr, &line, &len) == LR_LINE && lr.crlf &&
	    strcmp(line, ".") == 0, "dot line after overlong CRLF line");
	ok(lr.prev_crlf, "prev_crlf remembers the discarded line's CRLF");
	push(&lr, "x\n.\r\n");
	ok(lr_getline(&lr, &line, &len) == LR_LINE && !lr.crlf,
	    "bare-LF line");
	ok(lr_getline(&lr, &line, &len) == LR_LINE && lr.crlf &&
	    !lr.prev_crlf, "dot line after a bare-LF line: prev_crlf=0");

	lr_discard(&lr);
	push(&lr, "a\rb\r\n");
	ok(lr_getline(&lr, &line, &len) == LR_LINE &&
	    len == 3 && memcmp(line, "a\rb", 3) == 0,
	    "bare CR stays inside the line");
	lr_free(&lr);

	bytewise("EHLO a\r\nMAIL\nx\r\n", 16, out, sizeof(out));
	ok(strcmp(out, "EHLO a|MAIL~x|") == 0, "byte by byte: %s", out);
	bytewise("0123456789\r\nok\r\n", 8, out, sizeof(out));
	ok(strcmp(out, "<LONG>ok|") == 0, "byte by byte overlong: %s", out);
	bytewise("\r\n\n\r\r\n", 8, out, sizeof(out));
	ok(strcmp(out, "|~\r|") == 0, "empty lines byte by byte: %s", out);

	lr_init(&lr, 4);
	push(&lr, "abc\n");
	ok(lr_getline(&lr, &line, &len) == LR_LINE && len == 3,
	    "bare-LF line of exactly the cap");
	lr_free(&lr);
	return done_testing();
}
