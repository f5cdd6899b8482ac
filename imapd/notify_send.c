/*
 * NOTIFY (RFC 5465): the untagged responses for what notify_watch.c
 * found: STATUS for another folder's messages (§5.1 to §5.3), LIST for
 * its name and subscription (§5.4, §5.5), METADATA (§5.6, §5.7), the
 * overflow (§5.8), and the selected mailbox's updates with MessageNew's
 * FETCH (§5.2).
 */
#include <string.h>

#include "../lib/log.h"
#include "notify_int.h"

/* "* LIST (attrs) "/" name", an extended one with OLDNAME for a rename
 * (§5.4, RFC 5258 §3.2); \NonExistent when it is gone. */
void
notify_put_list(struct imap_session *s, const char *name, unsigned int attrs,
    int exists, const char *oldname)
{
	struct buf *b = imap_out(s);
	const char *sep = "";

	buf_puts(b, "* LIST (");
	if (!exists)
		imap_put_attr(b, &sep, "\\NonExistent");
	else {
		if (attrs & MFA_NOSELECT)
			imap_put_attr(b, &sep, "\\Noselect");
		imap_put_attr(b, &sep, attrs & MFA_CHILDREN ? "\\HasChildren" :
		    "\\HasNoChildren");
	}
	if (attrs & MFA_SUBSCRIBED)		/* §5.5 */
		imap_put_attr(b, &sep, "\\Subscribed");
	if (exists)
		imap_put_use_attrs(b, &sep, attrs);
	buf_printf(b, ") \"%c\" ", MAILDIR_SEP);
	imap_put_mailbox(s, b, name);
	if (oldname != NULL) {
		buf_puts(b, " (\"OLDNAME\" (");
		imap_put_mailbox(s, b, oldname);
		buf_puts(b, "))");
	}
	buf_puts(b, "\r\n");
	imap_out_done(s);
}

/*
 * "* STATUS": what §3.1 asks for every message event (MESSAGES,
 * UIDNEXT, UIDVALIDITY; HIGHESTMODSEQ for FlagChange, or once
 * CONDSTORE is on, §5.2), and UNSEEN, which clients show.
 */
void
notify_put_status(struct imap_session *s, const char *name,
    const struct mbox_status *st, unsigned int events)
{
	struct buf *b = imap_out(s);

	buf_puts(b, "* STATUS ");
	imap_put_mailbox(s, b, name);
	buf_printf(b, " (MESSAGES %u UIDNEXT %u UIDVALIDITY %u UNSEEN %u",
	    st->messages, st->uidnext, st->uidvalidity, st->unseen);
	if ((events & NE_FLAGS) || s->condstore)
		buf_printf(b, " HIGHESTMODSEQ %llu",
		    (unsigned long long)st->highestmodseq);
	buf_puts(b, ")\r\n");
	imap_out_done(s);
}

void
notify_overflow(struct imap_session *s, const char *why)
{
	log_info("sid=%s notify overflow: %s", s->id, why);
	imap_untagged(s, "OK [NOTIFICATIONOVERFLOW] %s", why);
	s->notify->off = 1;	/* §5.8: as if NOTIFY NONE came */
}

/* ---- annotations (§5.6, §5.7) ---- */

struct meta_out {
	struct imap_session *s;
	char		 last_mbox[MAILDIR_NAME_MAX + 1];
	int		 last_server, open;
};

static void
meta_end(struct meta_out *mo)
{
	if (mo->open) {
		buf_puts(imap_out(mo->s), "\r\n");
		imap_out_done(mo->s);
	}
	mo->open = 0;
}

/* One "* METADATA mailbox entry ..." (RFC 5464 §4.4.2) per folder and
 * run of changes. */
static void
meta_cb(const char *mailbox, const char *entry, void *arg)
{
	struct meta_out *mo = arg;
	struct imap_session *s = mo->s;
	struct notify *n = s->notify;
	struct notify_box *b;
	struct buf *out;

	if (mailbox == NULL) {
		if (!(n->events & NE_SERVER_META))
			return;
	} else {
		b = notify_box_find(n->boxes, n->nboxes, mailbox);
		if (!(notify_box_events(n, mailbox, b != NULL ? b->attrs : 0) &
		    NE_MBOX_META))
			return;
	}
	out = imap_out(s);
	if (!mo->open || (mailbox == NULL) != mo->last_server ||
	    (mailbox != NULL && strcmp(mailbox, mo->last_mbox) != 0)) {
		meta_end(mo);
		buf_puts(out, "* METADATA ");
		if (mailbox == NULL)
			buf_puts(out, "\"\"");
		else
			imap_put_mailbox(s, out, mailbox);
		mo->last_server = mailbox == NULL;
		util_strcpy(mo->last_mbox, mailbox != NULL ? mailbox : "",
		    sizeof(mo->last_mbox));
		mo->open = 1;
	}
	buf_puts(out, " ");
	imap_put_astring(out, entry);
}

static void
meta_skip(const char *mailbox, const char *entry, void *arg)
{
	(void)mailbox;
	(void)entry;
	(void)arg;
}

int
notify_meta_refresh(struct imap_session *s, int emit)
{
	struct notify *n = s->notify;
	struct meta_out mo;
	int r;

	if (!(n->events & (NE_MBOX_META | NE_SERVER_META)))
		return 0;
	memset(&mo, 0, sizeof(mo));
	mo.s = s;
	r = mstore_metadata_changes(s->store, &n->meta_seq, emit ? meta_cb :
	    meta_skip, &mo);
	meta_end(&mo);
	if (r == 1 && emit)
		notify_overflow(s, "Annotation changes were lost");
	return r == -1 ? -1 : 0;
}

/* ---- the selected mailbox ---- */

int
imap_view_notify(struct imap_session *s, int allow_expunge)
{
	struct notify *n = s->notify;
	uint32_t last_uid, first;
	int uid_cmd = s->uid_cmd, r;
	const char *cmd = s->cmd_name != NULL ? s->cmd_name : "";

	if (n == NULL || n->off || n->sel_events == 0 || s->mb == NULL)
		return imap_view_update(s, allow_expunge);
	last_uid = s->view.n > 0 ? s->view.msgs[s->view.n - 1].uid : 0;
	/* §5.1: a flag change's FETCH carries the UID */
	if (n->sel_events & NE_FLAGS)
		s->uid_cmd = 1;
	r = imap_view_update(s, allow_expunge);
	/* §5.2: the new messages' attributes after their EXISTS (not for
	 * the session's own APPEND or COPY: it knows them) */
	if (r == 0 && n->fetch != NULL && s->view.n > 0 &&
	    s->view.msgs[s->view.n - 1].uid > last_uid &&
	    strcmp(cmd, "APPEND") != 0 && strcmp(cmd, "COPY") != 0 &&
	    strcmp(cmd, "MOVE") != 0) {
		for (first = (uint32_t)s->view.n; first > 1 &&
		    s->view.msgs[first - 2].uid > last_uid; first--)
			;
		s->uid_cmd = 1;
		if (imap_fetch_unsolicited(s, n->fetch, first,
		    (uint32_t)s->view.n) == -1)
			log_warn("sid=%s notify fetch: %s", s->id,
			    mstore_error(s->store));
	}
	s->uid_cmd = uid_cmd;
	return r;
}
