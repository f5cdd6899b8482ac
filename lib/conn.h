/*
 * conn: one client connection: buffered, line-oriented, with a timeout on
 * every wait, over a plain socket or TLS (tls.h).
 *
 * Replies are buffered and go out when the reader is about to wait for
 * more input, so a pipelined group of commands gets its replies in one
 * packet (RFC 2920 §3.2) and nothing is ever left unsent before a wait.
 */
#ifndef CONN_H
#define CONN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "linereader.h"

struct zstream;

enum conn_status {
	CONN_LINE,	/* a line */
	CONN_TOOLONG,	/* a line over the cap (its tail is skipped) */
	CONN_EOF,	/* the client closed */
	CONN_TIMEOUT,	/* nothing for timeout seconds */
	CONN_ERROR,	/* I/O error, or interrupted by *stop */
	CONN_NUL,	/* conn_getcmd(): a line holding a NUL octet */
};

struct conn {
	int		 fd;
	void		*tls;		/* struct tls_conn *, NULL in clear */
	struct linereader lr;
	struct buf	 out;
	int		 timeout_ms;
	volatile sig_atomic_t *stop;	/* set by a signal: give up waiting */
	int64_t		 deadline;	/* util_now_usec() when every wait
					   times out (0: none) */
	uint64_t	 bytes_in, bytes_out;	/* on the wire */
	struct zstream	*z;		/* compressed both ways (zstream.h),
					   NULL: not */
	struct buf	 zout;		/* out, deflated */
};

void	conn_init(struct conn *c, int fd, size_t maxline, int timeout_sec);
void	conn_free(struct conn *c);
enum conn_status conn_getline(struct conn *c, char **line, size_t *len);
/*
 * A command line (or an answer in a SASL exchange): conn_getline(), but
 * a line holding NUL is CONN_NUL, never a string that NUL would cut
 * short ("USER a@b.test\0x" must not log in as a@b.test).
 */
enum conn_status conn_getcmd(struct conn *c, char **line, size_t *len);
/* Queue output; flushed before the next wait or by conn_flush(). */
void	conn_write(struct conn *c, const void *data, size_t len);
void	conn_printf(struct conn *c, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Send everything queued; 0 or -1. */
int	conn_flush(struct conn *c);
/* Octets received and not yet handed out as lines (TLS: decrypted or
 * not). */
size_t	conn_pending(const struct conn *c);
/*
 * Octets as they come (an IMAP literal): what is buffered first, else one
 * read.  Like conn_read_raw: >0, 0 at EOF, -1 error, -2 timeout.
 */
ssize_t	conn_read(struct conn *c, void *buf, size_t len);
/*
 * Octets read from this client by another process (a login process
 * handing the client over): they come first, before anything read from
 * fd.  At most the line reader's room; 0, or -1 if they do not fit.
 */
int	conn_feed(struct conn *c, const void *data, size_t len);
/* Raw read for callers that take over (e.g. a TLS handshake): as read(2)
 * with the timeout; -2 on timeout. */
ssize_t	conn_read_raw(struct conn *c, void *buf, size_t len);
/*
 * From now on, deflate what is sent and inflate what is read (IMAP
 * COMPRESS=DEFLATE, RFC 4978), above TLS when there is TLS.  Call it
 * when the last uncompressed reply has been flushed; whatever the peer
 * sent after the command that asked, already read, is compressed too.
 * 0, or -1 (memory, or already compressed).
 */
int	conn_compress(struct conn *c);
/* Wait until fd is readable (events POLLIN) or writable (POLLOUT). */
int	conn_wait(struct conn *c, short events);

#endif
