/*
 * test-binary: imapd/binary.c finds a part by reading the file line by
 * line; global/mime.c builds the part tree in memory.  Both must agree
 * on every section number (RFC 3501 §6.4.5), existing or not: the same
 * body octets (in the CRLF form), encoding and text-ness, for messages
 * stored with LF and with CRLF line ends.  Then decoding through a
 * stored part.
 */
#include <sys/mman.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../global/mime.h"
#include "../lib/util.h"
#include "binary.h"
#include "imapd.h"
#include "../t/tap.h"
#include "../t/mime-msgs.h"

/* Shared helpers this test has no use for. */
static void __attribute__((unused))
unused_helpers(void)
{
	(void)load_str;
	(void)crlf;
	(void)is_str;
}

static const char msg_edges[] =
	"Subject: edges\n"
	"Content-Type: multipart/mixed; boundary=\"b c\"\n"
	"\n"
	"--b c \t\n"		/* transport padding */
	"\n"
	"first, no header\n"
	"--b c\n"
	"--b cx\n"		/* not a delimiter */
	"Content-Type: multipart/digest; boundary=d\n"
	"\n"
	"--d\n"
	"\n"
	"Subject: in digest\n"
	"Content-Transfer-Encoding: Base64\n"
	"\n"
	"aGk=\n"
	"--d\n"
	"Content-Type: text/plain\n"
	"\n"
	"typed\n"
	"--d--\n"
	"--b c\n"
	"Content-Type: message/rfc822\n"
	"\n"
	"Subject: inner\n"
	"Content-Type: multipart/alternative; boundary=i\n"
	"\n"
	"--i\n"
	"Content-Transfer-Encoding: x-weird\n"
	"\n"
	"odd\n"
	"--i\n"
	"\n"
	"--b c\n"
	"Content-Type: text/html\n"
	"\n"
	"no close delimiter: runs to the end\n";

static const char msg_noheader[] = "no blank line, all header\n";

/* Found by fuzz/fuzz-binary.c: a multipart without a boundary has no
 * part 1 (it is not a one-part message). */
static const char msg_noboundary[] =
	"Content-Type: multipart/mixed; charset=x\n"
	"\n"
	"--x\n"
	"\n"
	"body\n";

/* A file holding the message, with LF or CRLF line ends. */
static int
file_of(const char *msg, int crlf)
{
	char *out = calloc(1, 2 * strlen(msg) + 1), prev = '\0';
	size_t n;
	int fd = memfd_create("msg", 0);

	n = crlf ? mime_crlf_piece(msg, strlen(msg), out, &prev) :
	    strlen(msg);
	if (!crlf)
		memcpy(out, msg, n);
	if (fd == -1 || util_write_all(fd, out, n) == -1)
		fd = -1;
	free(out);
	return fd;
}

/* What a located part's range is in the CRLF form. */
static char *
range_crlf(int fd, const struct binary_part *bp, size_t *len)
{
	size_t n = (size_t)(bp->end - bp->boff);
	char *in = calloc(1, n + 1), *out = calloc(1, 2 * n + 1), prev = '\0';

	if (pread(fd, in, n, bp->boff) != (ssize_t)n)
		n = 0;
	*len = mime_crlf_piece(in, n, out, &prev);
	free(in);
	return out;
}

static int
agree(struct mime_msg *m, int fd, const uint32_t *path, size_t n,
    char *why, size_t whysize)
{
	struct binary_part bp;
	struct mime_part *p = mime_part_at(m, path, n);
	char sec[64] = "", *got, *cte;
	const char *want;
	size_t i, glen, wlen;
	int good;

	for (i = 0; i < n; i++)
		snprintf(sec + strlen(sec), sizeof(sec) - strlen(sec), "%s%u",
		    i ? "." : "", path[i]);
	memset(&bp, 0, sizeof(bp));
	if (imap_binary_locate(fd, sec, &bp) == -1) {
		snprintf(why, whysize, "%s: locate failed", sec);
		return 0;
	}
	if (p == NULL || !bp.exists) {
		snprintf(why, whysize, "%s: exists %d vs %d", sec, p != NULL,
		    bp.exists);
		return (p == NULL) == !bp.exists;
	}
	want = mime_part_body(p, &wlen);
	got = range_crlf(fd, &bp, &glen);
	cte = mime_part_field(p, "Content-Transfer-Encoding");
	good = glen == wlen && memcmp(got, want, glen) == 0 &&
	    bp.cte == mime_cte_parse(cte) &&
	    bp.text == mime_part_is(p, "text", "*");
	if (!good)
		snprintf(why, whysize, "%s: [%.*s] vs [%.*s], cte %d vs %s, "
		    "text %d", sec, (int)glen, got, (int)wlen, want, bp.cte,
		    cte ? cte : "-", bp.text);
	free(cte);
	free(got);
	return good;
}

/* Every section number of up to 4 levels, parts 1 to 5. */
static void
check(const char *name, const char *msg)
{
	uint32_t path[4];
	char why[512] = "";
	size_t n, i, tried = 0;
	int crlf, fd, good = 1, k;
	struct mime_msg *m;

	for (crlf = 0; crlf <= 1; crlf++) {
		fd = file_of(msg, crlf);
		m = mime_msg_from_mem(msg, strlen(msg));
		for (n = 1; n <= 4 && good; n++) {
			for (i = 0; i < n; i++)
				path[i] = 1;
			for (;;) {
				tried++;
				if (good && !agree(m, fd, path, n, why,
				    sizeof(why)))
					good = 0;
				for (k = (int)n - 1; k >= 0 && path[k] == 5; k--)
					path[k] = 1;
				if (k < 0)
					break;
				path[k]++;
			}
		}
		mime_msg_free(&m);
		close(fd);
	}
	ok(good, "%s: every section of %zu found alike (LF and CRLF)%s%s",
	    name, tried / 2, good ? "" : ": ", good ? "" : why);
}

static void
test_decode(void)
{
	struct binary_part bp;
	char *out;
	size_t len;

	memset(&bp, 0, sizeof(bp));
	bp.fd = file_of(msg_edges, 0);
	ok(imap_binary_locate(bp.fd, "2.1.1", &bp) == 0 && bp.exists &&
	    bp.cte == MIME_CTE_BASE64, "the digest's first message, its "
	    "body base64");
	ok(imap_binary_measure(&bp) == 0 && bp.size == 2 && !bp.nul,
	    "decoded: 2 octets");
	ok(imap_binary_locate(bp.fd, "3.1", &bp) == 0 && bp.exists &&
	    bp.cte == MIME_CTE_UNKNOWN, "an unknown encoding is told");
	ok(imap_binary_locate(bp.fd, "1.x", &bp) == -1 &&
	    imap_binary_locate(bp.fd, "0", &bp) == -1 &&
	    imap_binary_locate(bp.fd, "1.MIME", &bp) == -1,
	    "malformed sections refused");
	ok(imap_binary_locate(bp.fd, "", &bp) == 0 && bp.exists &&
	    bp.boff == 0 && bp.end == (off_t)strlen(msg_edges),
	    "the whole message");
	out = range_crlf(bp.fd, &bp, &len);
	free(out);
	close(bp.fd);
	ok(imap_binary_section_valid("1.22.3") &&
	    !imap_binary_section_valid("1..2") &&
	    !imap_binary_section_valid("4294967296") &&
	    !imap_binary_section_valid("TEXT"), "section-binary grammar");
}

/* The messages of t/data/imap/ (run from the top directory). */
static void
check_files(void)
{
	static const char *const names[] = {
		"8bit-header.eml", "encoded-words.eml", "mime-edge-cases.eml",
		"nested-multipart.eml", "rfc3501-fetch.eml",
		"rfc3501-multipart.eml",
	};
	char path[256], *data;
	size_t i, len;
	int fd;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "t/data/imap/%s", names[i]);
		data = NULL;
		if ((fd = open(path, O_RDONLY)) != -1) {
			data = util_read_fd(fd, 1 << 20, &len);
			close(fd);
		}
		if (data == NULL || memchr(data, '\0', len) != NULL) {
			ok(0, "%s: readable, no NUL", path);
			free(data);
			continue;
		}
		check(names[i], data);
		free(data);
	}
}

int
main(void)
{
	check("simple", msg_simple);
	check("mixed", msg_mixed);
	check("nested", msg_nested);
	check("edges", msg_edges);
	check("no body", msg_noheader);
	check("empty", "");
	check("multipart without boundary", msg_noboundary);
	check_files();
	test_decode();
	return done_testing();
}
