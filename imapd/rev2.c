/*
 * IMAP4rev2 (RFC 9051) beside IMAP4rev1: both are advertised, and a
 * session is IMAP4rev1 until its client sends "ENABLE IMAP4rev2"
 * (Appendix A).  What then differs (Appendix E), and where:
 *
 * - mailbox names are UTF-8 both ways, as after ENABLE UTF8=ACCEPT
 *   (§5.1, item 16): utf8.c, through imap_names_utf8(); SEARCH still
 *   takes a CHARSET (§6.4.4), which UTF8=ACCEPT alone forbids;
 * - no RECENT response and no \Recent flag (item 12): the session takes
 *   no message as \Recent (view.c), so they stay \Recent for a session
 *   of IMAP4rev1; STATUS RECENT is not in rev2's grammar (cmd_mailbox.c);
 * - SELECT and EXAMINE give the mailbox's LIST and no UNSEEN code (items
 *   10, 11), and [CLOSED] when they close a selected mailbox (item 9);
 * - SEARCH answers with ESEARCH (item 4, §6.4.4): cmd_message.c;
 * - every unsolicited FETCH carries the UID (item 21): view.c;
 * - CHECK and LSUB are gone (items 17, 19): BAD;
 * - DELETE of a mailbox with children says [HASCHILDREN] (§6.3.5):
 *   reply.c's table of the store's errors;
 * - CREATE and RENAME make only Net-Unicode names (§5.1).
 *
 * The rest of what rev2 folds in (NAMESPACE, UNSELECT, UIDPLUS, ESEARCH,
 * SEARCHRES, ENABLE, IDLE, SASL-IR, LIST-EXTENDED, LIST-STATUS, MOVE,
 * LITERAL-, BINARY, SPECIAL-USE, STATUS SIZE and DELETED, the RFC 5530
 * codes) is the same in both.
 */
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "session.h"

int
imap_names_utf8(const struct imap_session *s)
{
	return s->utf8 || s->rev2;
}

int
rev2_removed(struct imap_session *s, const char *instead)
{
	if (!s->rev2)
		return 0;
	imap_tagged(s, "BAD %s is not in IMAP4rev2: use %s", s->cmd_name,
	    instead);
	return 1;
}

void
rev2_select_data(struct imap_session *s, const char *name)
{
	size_t i;

	if (s->rev2) {
		/* §6.3.2: "The server MUST return a LIST response with the
		 * mailbox name"; the attributes as LIST gives them. */
		imap_list_one(s, name);
		return;
	}
	imap_untagged(s, "%u RECENT", view_recent(&s->view));
	for (i = 0; i < s->view.n; i++)
		if (!(s->view.msgs[i].flags & MF_SEEN)) {
			imap_untagged(s, "OK [UNSEEN %zu] First unseen", i + 1);
			break;
		}
}

/*
 * RFC 5198 §2: Net-Unicode is UTF-8 in Normalization Form C without
 * control characters.  We do not normalize (SELECT would have to find
 * the NFC name from any other form, §5.1), so other forms are refused.
 */
int
rev2_name_ok(struct imap_session *s, const char *name)
{
	char utf8[MAILDIR_NAME_MAX * 2 + 1], *nfc;
	const char *p;
	int r;

	if (!s->rev2 || mutf7_to_utf8(name, utf8, sizeof(utf8)) == -1)
		return 1;	/* rev1, or the store says what is wrong */
	for (p = utf8, r = 1; *p != '\0' && r; p = g_utf8_next_char(p))
		r = !g_unichar_iscntrl(g_utf8_get_char(p));
	if (r && (nfc = g_utf8_normalize(utf8, -1, G_NORMALIZE_NFC)) !=
	    NULL) {
		r = strcmp(nfc, utf8) == 0;
		g_free(nfc);
	}
	if (!r)
		imap_tagged(s, "NO [CANNOT] Mailbox names are Net-Unicode: "
		    "NFC, no control characters (RFC 9051 5.1)");
	return r;
}
