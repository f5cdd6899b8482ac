#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "zstream.h"
#include "../t/tap.h"

/* Hand the peer's compressed octets to b, n at a time, inflating into
 * a buffer of outcap octets after each; what came out, or NULL. */
static char *
inflate_chunks(struct zstream *b, const char *in, size_t len, size_t n,
    size_t outcap, size_t *outlen, size_t *largest)
{
	struct buf got;
	char *p, *out = malloc(outcap);
	size_t off = 0, room, k;
	ssize_t r;

	buf_init(&got, 0);
	*largest = 0;
	for (;;) {
		while ((r = zstream_inflate(b, out, outcap)) > 0) {
			buf_append(&got, out, (size_t)r);
			if ((size_t)r > *largest)
				*largest = (size_t)r;
		}
		if (r < 0 || off == len)
			break;
		zstream_in_space(b, &p, &room);
		k = len - off < n ? len - off : n;
		if (k > room)
			k = room;
		memcpy(p, in + off, k);
		zstream_in_filled(b, k);
		off += k;
	}
	free(out);
	*outlen = got.len;
	if (r < 0) {
		buf_release(&got);
		return NULL;
	}
	return buf_take(&got);
}

int
main(void)
{
	struct zstream *a = zstream_new(), *b = zstream_new();
	struct buf wire;
	const char *lines[] = { "a1 SELECT INBOX\r\n", "a2 NOOP\r\n",
	    "a3 FETCH 1:* (FLAGS ENVELOPE)\r\n" };
	char *got, *zeros, *text;
	size_t i, len, largest, pos;
	uint64_t pi, wi, po, wo;

	ok(a != NULL && b != NULL, "two streams");
	buf_init(&wire, 0);

	/* Each reply sync-flushed: the peer reads all of it at once, byte
	 * by byte and into a 1-octet buffer alike. */
	for (i = 0; i < 3; i++)
		ok(zstream_deflate(a, lines[i], strlen(lines[i]), 1, &wire) ==
		    0 && wire.len >= 4 && memcmp(wire.data + wire.len - 4,
		    "\0\0\377\377", 4) == 0, "sync flush %zu ends 00 00 ff ff",
		    i);
	got = inflate_chunks(b, wire.data, wire.len, 1, 1, &len, &largest);
	ok(got != NULL && len == strlen(lines[0]) + strlen(lines[1]) +
	    strlen(lines[2]) && strncmp(got, "a1 SELECT INBOX\r\na2 NOOP\r\na3",
	    27) == 0, "byte by byte into one octet at a time: all of it");
	free(got);
	ok(!zstream_pending(b), "nothing pending after the flush");

	/* A bomb: 64 MiB of zeros is some 64 KiB compressed; inflated into
	 * a 64 KiB buffer, no call gives more than that. */
	zstream_free(&a);
	zstream_free(&b);
	a = zstream_new();
	b = zstream_new();
	buf_reset(&wire);
	zeros = calloc(1, 1 << 20);
	for (i = 0; i < 64; i++)
		zstream_deflate(a, zeros, 1 << 20, i == 63, &wire);
	ok(wire.len < 128 * 1024, "64 MiB of zeros deflate to %zu octets",
	    wire.len);
	got = inflate_chunks(b, wire.data, wire.len, 4096, 65536, &len,
	    &largest);
	ok(got != NULL && len == 64u << 20 && largest <= 65536,
	    "inflated in pieces of at most 64 KiB (largest %zu)", largest);
	free(got);
	free(zeros);

	/* What came before the stream (read ahead) counts as its start. */
	zstream_free(&a);
	zstream_free(&b);
	a = zstream_new();
	b = zstream_new();
	buf_reset(&wire);
	text = "z2 NOOP\r\n";
	zstream_deflate(a, text, strlen(text), 1, &wire);
	pos = wire.len / 2;
	ok(zstream_in_feed(b, wire.data, pos) == 0, "read-ahead fed");
	got = inflate_chunks(b, wire.data + pos, wire.len - pos, 3, 100, &len,
	    &largest);
	ok(got != NULL && len == strlen(text) && memcmp(got, text, len) == 0,
	    "read-ahead, then the rest");
	free(got);
	zstream_counts(b, &pi, &wi, &po, &wo);
	ok(pi == strlen(text) && wi == wire.len, "counts: %llu plain from "
	    "%llu on the wire", (unsigned long long)pi,
	    (unsigned long long)wi);

	/* Not deflate: an error, and it stays one. */
	zstream_free(&b);
	b = zstream_new();
	got = inflate_chunks(b, "\xff\xff\xff\xff garbage", 12, 12, 100, &len,
	    &largest);
	ok(got == NULL, "garbage is an error");
	ok(zstream_inflate(b, zeros = malloc(10), 10) == -1, "and stays one");
	free(zeros);

	zstream_free(&a);
	zstream_free(&b);
	ok(a == NULL && b == NULL, "freed and NULL");
	buf_release(&wire);
	return done_testing();
}
