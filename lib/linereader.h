/*
 * linereader: split a byte stream into lines with a hard length cap.
 *
 * The caller reads network bytes into the space lr_space() offers and
 * reports them with lr_filled(); lr_getline() hands out complete lines.
 * A line longer than the cap is reported once (LR_TOOLONG) and its tail
 * is discarded up to the next LF, so the stream resynchronises.
 * lr->prev_crlf tells how the line before the last one ended, even when
 * that line was an overlong one that was discarded.
 *
 * Lines end at LF.  Whether the LF was preceded by CR is recorded in
 * lr->crlf for the line just returned (or just discarded): the SMTP DATA
 * reader needs it, because only CRLF.CRLF may end a message (RFC 5321
 * §4.1.1.4; the "SMTP smuggling" attacks rely on readers that accept
 * bare LF there).
 */
#ifndef LINEREADER_H
#define LINEREADER_H

#include <stddef.h>

enum lr_status { LR_MORE, LR_LINE, LR_TOOLONG };

struct linereader {
	char	*buf;
	size_t	 cap;		/* longest line, terminator included */
	size_t	 len;		/* bytes in buf */
	size_t	 off;		/* start of unconsumed bytes */
	int	 skipping;	/* discarding the tail of an overlong line */
	int	 skip_cr;	/* last discarded byte was CR */
	int	 crlf;		/* the last line ended with CRLF */
	int	 prev_crlf;	/* the line before it did (discarded or not) */
};

void	lr_init(struct linereader *lr, size_t cap);
void	lr_free(struct linereader *lr);
/* Where to read to, and how much; n is never 0 when LR_MORE was returned. */
void	lr_space(struct linereader *lr, char **p, size_t *n);
void	lr_filled(struct linereader *lr, size_t n);
/* Next line, CR/LF stripped and NUL-terminated, valid until the next call. */
enum lr_status lr_getline(struct linereader *lr, char **line, size_t *linelen);
/* Bytes received but not yet returned as lines. */
size_t	lr_pending(const struct linereader *lr);
/* Hand out up to max buffered octets as they are (IMAP literals);
 * returns how many were copied to dst. */
size_t	lr_take(struct linereader *lr, void *dst, size_t max);
/* Forget everything buffered (after STARTTLS, RFC 3207 §4.2). */
void	lr_discard(struct linereader *lr);

#endif
