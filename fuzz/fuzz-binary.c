/* libFuzzer target: IMAP BINARY's part finder (imapd/binary.c), which
 * reads a message file line by line, and its decoding.  For every
 * section number it must agree with global/mime's part tree (the same
 * body in the CRLF form, or the same missing part), and decoding the
 * part must give what BINARY.SIZE said, never crash or loop. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../global/mime.h"
#include "../imapd/binary.h"
#include "../imapd/imapd.h"
#include "fuzz.h"

static const char *const sections[] = {
	"1", "2", "3", "1.1", "1.2", "2.1", "2.2", "3.1", "1.1.1", "2.1.1",
	"2.2.1", "1.2.1.1", "4",
};

static void
check(struct mime_msg *m, int fd, const char *section)
{
	struct binary_part bp;
	struct mime_part *p;
	uint32_t path[8];
	size_t n = 0, wlen, glen;
	const char *s, *want;
	char *in, *out, prev = '\0';

	for (s = section; *s != '\0'; s++)
		if (*s != '.')
			path[n++] = (uint32_t)(*s - '0');
	memset(&bp, 0, sizeof(bp));
	bp.fd = fd;
	if (imap_binary_locate(fd, section, &bp) == -1)
		abort();
	p = mime_part_at(m, path, n);
	if ((p == NULL) != !bp.exists) {
		fprintf(stderr, "section %s: exists %d, found %d\n", section,
		    p != NULL, bp.exists);
		abort();
	}
	if (p == NULL)
		return;
	want = mime_part_body(p, &wlen);
	in = calloc(1, (size_t)(bp.end - bp.boff) + 1);
	out = calloc(1, 2 * (size_t)(bp.end - bp.boff) + 1);
	if (in == NULL || out == NULL ||
	    pread(fd, in, (size_t)(bp.end - bp.boff), bp.boff) !=
	    bp.end - bp.boff)
		abort();
	glen = mime_crlf_piece(in, (size_t)(bp.end - bp.boff), out, &prev);
	if (glen != wlen || memcmp(out, want, glen) != 0) {
		fprintf(stderr, "section %s: [%.*s] vs [%.*s]\n", section,
		    (int)glen, out, (int)wlen, want);
		abort();
	}
	free(in);
	free(out);
	if (bp.cte != MIME_CTE_UNKNOWN && imap_binary_measure(&bp) == -1)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path;
	struct mime_msg *m;
	size_t i;
	int fd;

	if (size > 65536 || (path = fuzz_tmpfile("binary", data, size)) ==
	    NULL)
		return 0;
	if ((fd = open(path, O_RDONLY)) == -1)
		return 0;
	if ((m = mime_msg_from_mem((const char *)data, size)) != NULL) {
		for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
			check(m, fd, sections[i]);
		mime_msg_free(&m);
	}
	close(fd);
	return 0;
}
