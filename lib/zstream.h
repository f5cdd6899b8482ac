/*
 * zstream: a raw deflate stream (RFC 1951, no zlib or gzip framing) in
 * each direction of a connection, as IMAP's COMPRESS=DEFLATE (RFC 4978
 * §3) wants it; zlib with windowBits -15.
 *
 * Inflated octets go only into the caller's buffer, never into one that
 * grows with them: what a few compressed octets expand to (a
 * "decompression bomb") is bounded by what the caller takes, so the
 * limits on lines and literals hold as they do without compression.
 */
#ifndef ZSTREAM_H
#define ZSTREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

struct zstream;

/* Both directions, or NULL when zlib cannot start (memory). */
struct zstream *zstream_new(void);
void	zstream_free(struct zstream **z);

/*
 * Compress len octets onto out.  With sync, end with an empty stored
 * block (Z_SYNC_FLUSH) so the peer can inflate everything given so far:
 * do so before waiting for the peer (RFC 4978 §4).  0, or -1.
 */
int	zstream_deflate(struct zstream *z, const void *data, size_t len,
	    int sync, struct buf *out);

/* Compressed input: where to read to, at most how much, and how much
 * came. */
void	zstream_in_space(struct zstream *z, char **p, size_t *n);
void	zstream_in_filled(struct zstream *z, size_t n);
/* Compressed octets that came before the stream began (read ahead):
 * 0, or -1 when more than 1 MiB. */
int	zstream_in_feed(struct zstream *z, const void *data, size_t len);
/*
 * Inflate into buf: the octets made (>0), 0 when more input is needed,
 * -1 when the input is not a deflate stream (or the peer ended it).
 */
ssize_t	zstream_inflate(struct zstream *z, void *buf, size_t len);
/* May zstream_inflate() give octets without more input? */
int	zstream_pending(const struct zstream *z);

/* Octets before compression and after, each way (for the log). */
void	zstream_counts(const struct zstream *z, uint64_t *plain_in,
	    uint64_t *wire_in, uint64_t *plain_out, uint64_t *wire_out);

#endif
