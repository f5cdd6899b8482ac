/* libFuzzer target: a message as FETCH and SEARCH see it (imapd/mime.c).
 * Messages come from anyone on the internet: no header, boundary or
 * nesting may crash imapd, loop, or make a section that is not a slice
 * of the message. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "../imapd/imapd.h"
#include "fuzz.h"

static const char *const sections[] = {
	"", "HEADER", "TEXT", "1", "2", "1.MIME", "1.1", "2.1", "2.HEADER",
	"1.2.3", "HEADER.FIELDS (From Subject)", "2.HEADER.FIELDS.NOT (To)",
	"1.1.1.1.1", "3.TEXT", "2.1.MIME",
};

static void
check_section(struct imap_msg *m, const char *section)
{
	const char *data, *whole;
	char *owned = NULL;
	size_t len, wlen;

	if (imap_msg_section(m, section, &data, &len, &owned) == 0 &&
	    owned == NULL && len > 0) {
		/* Not a copy: then it must lie inside the message. */
		whole = imap_msg_data(m, &wlen);
		if (data < whole || data + len > whole + wlen)
			abort();
	}
	free(owned);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_tmpfile("mime", data, size);
	struct imap_msg *m;
	size_t i;
	int fd;

	if (path == NULL || (fd = open(path, O_RDONLY)) == -1)
		return 0;
	m = imap_msg_load(fd, 1 << 20);
	close(fd);
	unlink(path);
	if (m == NULL)
		return 0;
	free(imap_msg_envelope(m));
	free(imap_msg_bodystructure(m, 1));
	free(imap_msg_bodystructure(m, 0));
	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		check_section(m, sections[i]);
	free(imap_msg_header_text(m, "Subject"));
	free(imap_msg_headers_text(m));
	free(imap_msg_body_text(m));
	(void)imap_msg_sent_date(m);
	imap_msg_free(&m);
	return 0;
}
