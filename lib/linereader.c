#include <stdlib.h>
#include <string.h>

#include "linereader.h"
#include "log.h"

void
lr_init(struct linereader *lr, size_t cap)
{
	memset(lr, 0, sizeof(*lr));
	lr->cap = cap;
	/* One spare byte so a full buffer can still be NUL-terminated. */
	if ((lr->buf = malloc(cap + 1)) == NULL)
		fatal("malloc");
}

void
lr_free(struct linereader *lr)
{
	free(lr->buf);
	lr->buf = NULL;
}

void
lr_space(struct linereader *lr, char **p, size_t *n)
{
	if (lr->off > 0 && lr->off == lr->len)
		lr->off = lr->len = 0;
	*p = lr->buf + lr->len;
	*n = lr->cap - lr->len;
}

void
lr_filled(struct linereader *lr, size_t n)
{
	lr->len += n;
}

size_t
lr_pending(const struct linereader *lr)
{
	return lr->len - lr->off;
}

size_t
lr_take(struct linereader *lr, void *dst, size_t max)
{
	size_t n = lr->len - lr->off;

	if (n > max)
		n = max;
	memcpy(dst, lr->buf + lr->off, n);
	lr->off += n;
	return n;
}

void
lr_discard(struct linereader *lr)
{
	lr->len = lr->off = 0;
	lr->skipping = 0;
}

enum lr_status
lr_getline(struct linereader *lr, char **line, size_t *linelen)
{
	char *p, *nl;
	size_t n;

	while ((nl = memchr(p = lr->buf + lr->off, '\n',
	    lr->len - lr->off)) != NULL) {
		n = nl - p;
		lr->off += n + 1;
		lr->prev_crlf = lr->crlf;
		if (lr->skipping) {		/* tail of an overlong line */
			lr->skipping = 0;
			lr->crlf = n > 0 ? p[n - 1] == '\r' : lr->skip_cr;
			continue;
		}
		lr->crlf = n > 0 && p[n - 1] == '\r';
		if (lr->crlf)
			n--;
		p[n] = '\0';
		*line = p;
		*linelen = n;
		return LR_LINE;
	}
	/* No LF in what is buffered: compact, then see if the cap is hit. */
	if (lr->off > 0) {
		memmove(lr->buf, lr->buf + lr->off, lr->len - lr->off);
		lr->len -= lr->off;
		lr->off = 0;
	}
	if (lr->len < lr->cap)
		return LR_MORE;
	lr->skip_cr = lr->buf[lr->len - 1] == '\r';
	lr->len = 0;
	if (lr->skipping)
		return LR_MORE;
	lr->skipping = 1;
	return LR_TOOLONG;
}
