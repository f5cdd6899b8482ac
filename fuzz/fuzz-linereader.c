/* libFuzzer target: the bounded line reader (lib/linereader.c), fed in
 * chunks whose sizes come from the input, as a network would. */
#include <stdint.h>
#include <string.h>

#include "../lib/linereader.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct linereader lr;
	char *p, *line;
	size_t room, len, off = 1, chunk;

	if (size < 1)
		return 0;
	lr_init(&lr, 8 + data[0] % 64);
	while (off < size) {
		chunk = 1 + data[off] % 17;
		off++;
		lr_space(&lr, &p, &room);
		if (chunk > room)
			chunk = room;
		if (chunk > size - off)
			chunk = size - off;
		memcpy(p, data + off, chunk);
		lr_filled(&lr, chunk);
		off += chunk;
		enum lr_status st;

		while ((st = lr_getline(&lr, &line, &len)) != LR_MORE)
			if (st == LR_LINE && (len >= lr.cap || line[len] != '\0'))
				__builtin_trap();
	}
	lr_free(&lr);
	return 0;
}
