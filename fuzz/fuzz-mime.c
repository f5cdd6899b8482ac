/* libFuzzer target: a message as FETCH and SEARCH see it (imapd's FETCH
 * items on global/mime.h) and as the webmail reads it (its parts by id).
 * Messages come from anyone on the internet: no header, boundary or
 * nesting may crash, loop, exceed the caps, make a section that is not a
 * slice of the message, or list a part that cannot be found again. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "../global/mime.h"
#include "../imapd/imapd.h"
#include "fuzz.h"

static const char *const sections[] = {
	"", "HEADER", "TEXT", "1", "2", "1.MIME", "1.1", "2.1", "2.HEADER",
	"1.2.3", "HEADER.FIELDS (From Subject)", "2.HEADER.FIELDS.NOT (To)",
	"1.1.1.1.1", "3.TEXT", "2.1.MIME",
};

/* A downgraded item (RFC 6855 §7) has no 8-bit octet. */
static void
check_7bit(char *s)
{
	if (imap_8bit(s)) {
		fprintf(stderr, "8BIT: %s\n", s);
		abort();
	}
	free(s);
}

static void
check_section(struct mime_msg *m, const char *section)
{
	const char *data, *whole;
	char *owned = NULL;
	size_t len, wlen;

	if (imap_fetch_section(m, section, &data, &len, &owned) == 0 &&
	    owned == NULL && len > 0) {
		/* Not a copy: then it must lie inside the message. */
		whole = mime_msg_data(m, &wlen);
		if (data < whole || data + len > whole + wlen)
			abort();
	}
	free(owned);
}

static void
addr_cb(const struct mime_addr *a, void *arg)
{
	(void)arg;
	if (a->kind == MIME_ADDR_GROUP_END && a->name != NULL)
		abort();
	if (a->name != NULL && a->name_utf8 == NULL)
		abort();
}

/* Each part listed is found by its id, and its content is no longer
 * than its encoded body. */
static int
part_cb(const struct mime_part_info *i, void *arg)
{
	struct mime_msg *m = arg;
	size_t len;
	char *s;

	if (i->depth > MIME_MAX_DEPTH || strlen(i->id) >= sizeof(i->id) ||
	    mime_part_find(m, i->id) == NULL)
		abort();
	if ((s = mime_part_content(m, i->id, &len)) == NULL || len > i->size)
		abort();
	free(s);
	if (strcmp(i->type, "text") == 0) {
		if ((s = mime_part_text(m, i->id, &len)) == NULL)
			abort();
		free(s);
	}
	if (i->is_message)
		free(mime_header(m, i->id, "Subject"));
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_tmpfile("mime", data, size);
	struct mime_msg *m, *mem;
	const char *a, *b;
	size_t i, alen, blen;
	char *v;
	int fd;

	if (path == NULL || (fd = open(path, O_RDONLY)) == -1)
		return 0;
	m = mime_msg_load(fd, 1 << 20);
	close(fd);
	unlink(path);
	if (m == NULL)
		return 0;
	if ((mem = mime_msg_from_mem((const char *)data, size)) == NULL)
		abort();
	a = mime_msg_data(m, &alen);
	b = mime_msg_data(mem, &blen);
	if (alen != blen || memcmp(a, b, alen) != 0)
		abort();
	mime_msg_free(&mem);
	free(imap_fetch_envelope(m));
	free(imap_fetch_bodystructure(m, 1));
	free(imap_fetch_bodystructure(m, 0));
	check_7bit(imap_fetch_envelope_dg(m, 1));
	check_7bit(imap_fetch_bodystructure_dg(m, 1, 1));
	check_7bit(imap_fetch_bodystructure_dg(m, 0, 1));
	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		check_section(m, sections[i]);
	free(mime_msg_header_text(m, "Subject"));
	free(mime_msg_address_text(m, "To"));
	free(mime_msg_headers_text(m));
	free(mime_msg_body_text(m));
	(void)mime_msg_date(m);
	(void)mime_parts(m, part_cb, m);
	if ((v = mime_header_raw(m, NULL, "From")) != NULL) {
		mime_addr_parse(v, addr_cb, NULL);
		free(v);
	}
	free(mime_header(m, NULL, "Subject"));
	mime_msg_free(&m);
	return 0;
}
