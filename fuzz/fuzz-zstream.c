/* libFuzzer target: the inflating side of a compressed connection
 * (lib/zstream.c, IMAP COMPRESS=DEFLATE), fed in chunks whose sizes come
 * from the input, inflated into small buffers: no call may give more
 * than its buffer holds, whatever the octets expand to. */
#include <stdint.h>
#include <string.h>

#include "../lib/zstream.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct zstream *z;
	char out[97], *p;
	size_t room, off = 1, chunk, total = 0;
	ssize_t r;

	if (size < 1 || (z = zstream_new()) == NULL)
		return 0;
	while (off < size) {
		chunk = 1 + data[off] % 61;
		off++;
		zstream_in_space(z, &p, &room);
		if (chunk > room)
			chunk = room;
		if (chunk > size - off)
			chunk = size - off;
		memcpy(p, data + off, chunk);
		zstream_in_filled(z, chunk);
		off += chunk;
		/* At most 1 MiB inflated per input: enough to see it bound. */
		while (total < (1 << 20) && (r = zstream_inflate(z, out,
		    1 + data[0] % sizeof(out))) > 0) {
			if ((size_t)r > 1 + data[0] % sizeof(out))
				__builtin_trap();
			total += (size_t)r;
		}
	}
	zstream_free(&z);
	return 0;
}
