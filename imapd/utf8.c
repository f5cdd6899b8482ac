/*
 * UTF8=ACCEPT (RFC 6855): after ENABLE UTF8=ACCEPT, mailbox names are
 * UTF-8 both ways, never modified UTF-7 (§3), and quoted strings may
 * carry UTF-8.  The store keeps its names in modified UTF-7 as before
 * (maildir/mutf7.c), so a name is converted where it comes in and
 * where it goes out, and nowhere else.
 *
 * Messages with UTF-8 headers (RFC 6532) are given as they are after
 * ENABLE; to other sessions ENVELOPE and BODYSTRUCTURE go downgraded
 * (RFC 6855 §7: downgrade.c, cmd_fetch.c).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <glib.h>

#include "session.h"

/* Longest name we take in UTF-8: the store's limit is on its mUTF-7
 * form, checked after the conversion. */
#define UTF8_NAME_MAX	(MAILDIR_NAME_MAX * 2)

int
imap_utf8_mailbox_in(struct imap_session *s, char *name, size_t size)
{
	char mutf7[MAILDIR_NAME_MAX + 1];

	if (!imap_names_utf8(s))
		return 0;
	if (!g_utf8_validate(name, -1, NULL)) {
		/* RFC 6855 §3: malformed UTF-8 is a syntax error. */
		imap_tagged(s, "BAD Mailbox name is not valid UTF-8");
		return -1;
	}
	if (utf8_to_mutf7(name, mutf7, sizeof(mutf7)) == -1 ||
	    util_strcpy(name, mutf7, size) == -1) {
		imap_tagged(s, "NO [CANNOT] Mailbox name too long");
		return -1;
	}
	return 0;
}

/* As imap_put_astring(), with UTF-8 allowed in the quoted form. */
static void
put_utf8_astring(struct buf *b, const char *s)
{
	const unsigned char *p;
	int atom = *s != '\0' && strcasecmp(s, "NIL") != 0;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			imap_put_astring(b, s);		/* a literal */
			return;
		}
		if (*p >= 0x80 || strchr("(){ %*\"\\]", *p) != NULL)
			atom = 0;
	}
	if (atom) {
		buf_puts(b, s);
		return;
	}
	buf_putc(b, '"');
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			buf_putc(b, '\\');
		buf_putc(b, (char)*p);
	}
	buf_putc(b, '"');
}

void
imap_put_mailbox(struct imap_session *s, struct buf *b, const char *name)
{
	char utf8[UTF8_NAME_MAX + 1];

	if (imap_names_utf8(s) && mutf7_to_utf8(name, utf8, sizeof(utf8)) == 0)
		put_utf8_astring(b, utf8);
	else
		imap_put_astring(b, name);
}

const char *
imap_mailbox_for_match(struct imap_session *s, const char *name,
    char *buf, size_t size)
{
	if (imap_names_utf8(s) && mutf7_to_utf8(name, buf, size) == 0)
		return buf;
	return name;
}

int
imap_utf8_charset_ok(struct imap_session *s)
{
	if (!s->utf8)
		return 1;
	/* RFC 6855 §3 (and its erratum 4029): the charset is UTF-8 now;
	 * naming one is a conflict. */
	imap_tagged(s, "BAD CHARSET is not allowed after ENABLE UTF8=ACCEPT");
	return 0;
}
