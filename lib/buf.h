/*
 * buf: a growable byte buffer that refuses to grow past its maximum
 * (as Dovecot's buffer_t).  The data is always NUL-terminated, so text
 * can be used as a C string; binary data may hold NULs.
 */
#ifndef BUF_H
#define BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
	size_t	 max;		/* len never exceeds this; 0 = SIZE_MAX */
};

/* A buffer that may hold up to max bytes (0: no limit but memory). */
struct buf *buf_new(size_t max);
void	buf_init(struct buf *b, size_t max);
/* Free the buffer and set the caller's pointer to NULL. */
void	buf_free(struct buf **b);
void	buf_release(struct buf *b);	/* frees data of an embedded buf */
void	buf_reset(struct buf *b);
/* Keep only the first len bytes (no-op if there are not more). */
void	buf_truncate(struct buf *b, size_t len);
/* Hand the text to the caller (malloc'd, never NULL: "" if empty) and
 * leave the buffer empty. */
char	*buf_take(struct buf *b);
/* 0, or -1 when the result would pass max (nothing is appended). */
int	buf_append(struct buf *b, const void *data, size_t len);
int	buf_puts(struct buf *b, const char *s);
int	buf_putc(struct buf *b, char c);
int	buf_printf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Drop the first n bytes. */
void	buf_consume(struct buf *b, size_t n);

#endif
