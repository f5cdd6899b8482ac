/*
 * What the MIME tests share (global/test-mime.c, imapd/test-fetch.c): a
 * simple message and a multipart/mixed with an attached message, and
 * how they load and compare them.  Included after t/tap.h.
 */
#ifndef T_MIME_MSGS_H
#define T_MIME_MSGS_H

static const char msg_simple[] =
	"From: John Doe <john@example.com>\n"
	"To: jane@example.org, \"Smith, Bob\" <bob@example.net>\n"
	"Subject: Hello\n"
	" world\n"
	"Date: Mon, 7 Feb 1994 21:52:25 -0800\n"
	"Message-ID: <1@example.com>\n"
	"\n"
	"Line one\n"
	"Line two\n";

static const char msg_mixed[] =
	"From: a@example.com\n"
	"To: undisclosed-recipients:;\n"
	"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/mixed; boundary=\"XYZ\"\n"
	"\n"
	"preamble\n"
	"--XYZ\n"
	"Content-Type: text/plain; charset=utf-8\n"
	"Content-Transfer-Encoding: quoted-printable\n"
	"\n"
	"Caf=C3=A9 au lait\n"
	"--XYZ\n"
	"Content-Type: application/octet-stream; name=\"data.bin\"\n"
	"Content-Transfer-Encoding: base64\n"
	"Content-Disposition: attachment; filename=\"data.bin\"\n"
	"\n"
	"AAECAw==\n"
	"--XYZ--\n"
	"epilogue\n";

static const char msg_nested[] =
	"From: x@y.z\n"
	"Subject: nested\n"
	"Content-Type: multipart/mixed; boundary=outer\n"
	"\n"
	"--outer\n"
	"Content-Type: multipart/alternative; boundary=inner\n"
	"\n"
	"--inner\n"
	"Content-Type: text/plain\n"
	"\n"
	"plain text\n"
	"--inner\n"
	"Content-Type: text/html\n"
	"\n"
	"<p>html</p>\n"
	"--inner--\n"
	"\n"
	"--outer\n"
	"Content-Type: message/rfc822\n"
	"\n"
	"From: Inner Sender <in@example.com>\n"
	"Subject: inner subject\n"
	"Content-Type: text/plain; charset=iso-8859-1\n"
	"Content-Transfer-Encoding: base64\n"
	"\n"
	"SGVsbG8gaW5uZXIK\n"
	"--outer\n"
	"Content-Type: text/plain; charset=utf-8\n"
	"Content-Transfer-Encoding: base64\n"
	"Content-Language: en, de\n"
	"\n"
	"w6nDqMOgCg==\n"
	"--outer--\n";


/* The message in a file with LF ends, loaded as imapd loads it. */
static struct mime_msg *
load(const char *text, size_t len, size_t max)
{
	char path[] = "/tmp/test-mime.XXXXXX";
	struct mime_msg *m;
	int fd;

	if ((fd = mkstemp(path)) == -1)
		return NULL;
	unlink(path);
	if (write(fd, text, len) != (ssize_t)len ||
	    lseek(fd, 0, SEEK_SET) == -1) {
		close(fd);
		return NULL;
	}
	m = mime_msg_load(fd, max);
	close(fd);
	return m;
}

static struct mime_msg *
load_str(const char *text)
{
	return load(text, strlen(text), 1 << 20);
}

/* The text with bare LF made CRLF. */
static char *
crlf(const char *s)
{
	char *out = malloc(2 * strlen(s) + 1), *o = out;

	for (; *s != '\0'; s++) {
		if (*s == '\n')
			*o++ = '\r';
		*o++ = *s;
	}
	*o = '\0';
	return out;
}

/* Compare and free got, showing both on a mismatch. */
static int
is_str(char *got, const char *want, const char *what)
{
	int r;

	if (want == NULL)
		r = ok(got == NULL, "%s", what);
	else
		r = ok(got != NULL && strcmp(got, want) == 0, "%s", what);
	if (!r) {
		diag("got:  %s", got != NULL ? got : "(null)");
		diag("want: %s", want != NULL ? want : "(null)");
	}
	free(got);
	return r;
}

#endif
