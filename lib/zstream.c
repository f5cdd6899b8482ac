#define ZLIB_CONST
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "util.h"
#include "zstream.h"

#define ZIN_CAP		16384		/* compressed octets read at once */
#define ZIN_FEED_MAX	(1 << 20)	/* read ahead before the stream */

struct zstream {
	z_stream	 d;		/* ours, deflated */
	z_stream	 i;		/* the peer's, inflated */
	int		 d_ok, i_ok;
	unsigned char	*in;		/* compressed input not yet inflated */
	size_t		 in_cap, in_off, in_len;
	int		 more;		/* the last inflate filled its output */
	int		 ended;		/* the peer's stream ended or broke */
	uint64_t	 plain_in, wire_in, plain_out, wire_out;
};

struct zstream *
zstream_new(void)
{
	struct zstream *z = util_calloc(1, sizeof(*z));

	/* windowBits -15: raw deflate, a 32 KiB window (RFC 4978 §3). */
	z->d_ok = deflateInit2(&z->d, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15,
	    8, Z_DEFAULT_STRATEGY) == Z_OK;
	z->i_ok = inflateInit2(&z->i, -15) == Z_OK;
	z->in_cap = ZIN_CAP;
	z->in = util_calloc(1, z->in_cap);
	if (!z->d_ok || !z->i_ok)
		zstream_free(&z);
	return z;
}

void
zstream_free(struct zstream **zp)
{
	struct zstream *z = *zp;

	if (z == NULL)
		return;
	if (z->d_ok)
		deflateEnd(&z->d);
	if (z->i_ok)
		inflateEnd(&z->i);
	free(z->in);
	free(z);
	*zp = NULL;
}

int
zstream_deflate(struct zstream *z, const void *data, size_t len, int sync,
    struct buf *out)
{
	unsigned char chunk[16384];
	size_t have;
	int r;

	z->d.next_in = data;
	z->d.avail_in = (uInt)len;
	if ((size_t)z->d.avail_in != len)
		return -1;
	z->plain_out += len;
	do {
		z->d.next_out = chunk;
		z->d.avail_out = sizeof(chunk);
		r = deflate(&z->d, sync ? Z_SYNC_FLUSH : Z_NO_FLUSH);
		if (r != Z_OK && r != Z_BUF_ERROR)
			return -1;
		have = sizeof(chunk) - z->d.avail_out;
		if (buf_append(out, chunk, have) == -1)
			return -1;
		z->wire_out += have;
	} while (z->d.avail_out == 0);
	return z->d.avail_in == 0 ? 0 : -1;
}

/* Move what is left to the front: all the room at the end. */
static void
zstream_in_compact(struct zstream *z)
{
	if (z->in_off == 0)
		return;
	memmove(z->in, z->in + z->in_off, z->in_len - z->in_off);
	z->in_len -= z->in_off;
	z->in_off = 0;
}

void
zstream_in_space(struct zstream *z, char **p, size_t *n)
{
	zstream_in_compact(z);
	*p = (char *)z->in + z->in_len;
	*n = z->in_cap - z->in_len;
}

void
zstream_in_filled(struct zstream *z, size_t n)
{
	z->in_len += n;
	z->wire_in += n;
}

int
zstream_in_feed(struct zstream *z, const void *data, size_t len)
{
	zstream_in_compact(z);
	if (len > ZIN_FEED_MAX)
		return -1;
	if (len > z->in_cap - z->in_len) {
		z->in = util_reallocarray(z->in, 1, z->in_len + len);
		z->in_cap = z->in_len + len;
	}
	memcpy(z->in + z->in_len, data, len);
	zstream_in_filled(z, len);
	return 0;
}

ssize_t
zstream_inflate(struct zstream *z, void *buf, size_t len)
{
	size_t avail = z->in_len - z->in_off, made;
	int r;

	if (z->ended)
		return -1;
	if (len == 0 || (avail == 0 && !z->more))
		return 0;
	if (len > UINT32_MAX)
		len = UINT32_MAX;
	z->i.next_in = z->in + z->in_off;
	z->i.avail_in = (uInt)avail;
	z->i.next_out = buf;
	z->i.avail_out = (uInt)len;
	r = inflate(&z->i, Z_SYNC_FLUSH);
	z->in_off += avail - z->i.avail_in;
	if (z->in_off == z->in_len)
		z->in_off = z->in_len = 0;
	made = len - z->i.avail_out;
	z->more = z->i.avail_out == 0;
	z->plain_in += made;
	/* The peer never ends its stream (RFC 4978 §3: compression
	 * lasts as long as the connection). */
	if (r == Z_STREAM_END || (r != Z_OK && r != Z_BUF_ERROR)) {
		z->ended = 1;
		z->more = 0;
		return made > 0 ? (ssize_t)made : -1;
	}
	return (ssize_t)made;
}

int
zstream_pending(const struct zstream *z)
{
	return !z->ended && (z->in_len > z->in_off || z->more);
}

void
zstream_counts(const struct zstream *z, uint64_t *plain_in,
    uint64_t *wire_in, uint64_t *plain_out, uint64_t *wire_out)
{
	*plain_in = z->plain_in;
	*wire_in = z->wire_in;
	*plain_out = z->plain_out;
	*wire_out = z->wire_out;
}
