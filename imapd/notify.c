/*
 * NOTIFY (RFC 5465): the events a client asks for, sent while it idles
 * and between its commands.
 *
 * The selected mailbox goes on being the view's (view.c): a change
 * found while no command runs is reported as after a NOOP, EXPUNGE
 * only where the filter allows it (§6.1.1 selected: at once;
 * §6.1.2 selected-delayed: only where RFC 3501 §7.4.1 allows one, as
 * after NOOP or during IDLE).  Every other folder is known by its row
 * in the index (mstore_stamps(): UIDNEXT and HIGHESTMODSEQ move with
 * every change) and the list of folders (mstore_list()): when the
 * index or the Maildir changes (one inotify descriptor, maildir's
 * notify.c), the rows are read in one query, the folders whose stamps
 * moved are counted again, and the differences become STATUS (§5.1 to
 * §5.3), LIST (§5.4, §5.5) and METADATA (§5.6, §5.7) responses.
 *
 * A folder takes the events of the first event group whose filter
 * matches it, so "(mailboxes Junk NONE) (personal (...))" leaves Junk
 * out.  "inboxes" is the INBOX: deliveries go nowhere else (§6.3).
 * Bounds: NOTIFY_MAX_NAMES mailbox names and NOTIFY_MAX_GROUPS groups
 * in one command, NOTIFY_MAX_WATCHED folders whose messages are
 * watched; beyond them NOTIFY is refused with NO
 * [NOTIFICATIONOVERFLOW] (§3.1), or, when folders are created later,
 * stopped with "* OK [NOTIFICATIONOVERFLOW]" (§5.8).
 *
 * AnnotationChange needs ANNOTATE (RFC 5257), which we do not have:
 * NO [BADEVENT (...)] (§3.1), as for any event we do not know.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/inotify.h>

#include "../lib/daemon.h"
#include "../lib/log.h"
#include "notify.h"

#define NOTIFY_MAX_NAMES	100
#define NOTIFY_MAX_GROUPS	32
#define NOTIFY_MAX_WATCHED	100

/* Events (RFC 5465 §5) */
#define NE_NEW		0x01
#define NE_EXPUNGE	0x02
#define NE_FLAGS	0x04
#define NE_ANNOTATION	0x08
#define NE_NAME		0x10
#define NE_SUBSCRIPTION	0x20
#define NE_MBOX_META	0x40
#define NE_SERVER_META	0x80
#define NE_UNKNOWN	0x100	/* a name we do not know */
#define NE_MESSAGE	(NE_NEW | NE_EXPUNGE | NE_FLAGS | NE_ANNOTATION)

static const struct {
	const char	*name;
	unsigned int	 bit;
	int		 supported;
} notify_events[] = {
	{ "MessageNew",			NE_NEW,		1 },
	{ "MessageExpunge",		NE_EXPUNGE,	1 },
	{ "FlagChange",			NE_FLAGS,	1 },
	{ "AnnotationChange",		NE_ANNOTATION,	0 },
	{ "MailboxName",		NE_NAME,	1 },
	{ "SubscriptionChange",		NE_SUBSCRIPTION, 1 },
	{ "MailboxMetadataChange",	NE_MBOX_META,	1 },
	{ "ServerMetadataChange",	NE_SERVER_META,	1 },
};
#define NEVENTS	(sizeof(notify_events) / sizeof(notify_events[0]))

enum notify_filter {		/* §6.2 to §6.6 */
	F_PERSONAL, F_INBOXES, F_SUBSCRIBED, F_SUBTREE, F_MAILBOXES,
};

struct notify_group {
	enum notify_filter filter;
	unsigned int	 events;
	char		**names;	/* F_SUBTREE, F_MAILBOXES */
	size_t		 nnames;
};

/* A folder as last told (or, for its messages, as last counted). */
struct notify_box {
	char		*name;
	unsigned int	 attrs;		/* MFA_*, mstore_list()'s */
	int64_t		 id;		/* its row (0: none yet) */
	uint32_t	 uidvalidity, uidnext;
	uint64_t	 modseq;
	struct mbox_status st;
	int		 counted;	/* st holds */
	double		 norow;		/* on disk without a row since */
};

struct notify {
	unsigned int	 sel_events;	/* for the selected mailbox */
	int		 sel_delayed;	/* §6.1.2 */
	struct imap_arg	*fetch;		/* MessageNew's attributes, a list */
	struct notify_group *groups;
	size_t		 ngroups;
	unsigned int	 events;	/* of every group */
	struct notify_box *boxes;	/* sorted by name */
	size_t		 nboxes;
	int64_t		 meta_seq;
	int		 fd, inbox_wd;
	int		 sel_wd[2];	/* the selected mailbox's watches */
	char		 sel_name[MAILDIR_NAME_MAX + 1];	/* of which
					   ("": none) */
	int		 off;		/* overflowed (§5.8): as NONE */
	int		 inbox_new;	/* the INBOX's new/ changed */
	int		 dirty;		/* the descriptor woke: look */
};

/* ---- arguments kept past the command ---- */

static void
arg_free(struct imap_arg *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->nlist; i++)
		arg_free(&a->list[i]);
	free(a->list);
	free(a->str);
}

static void
arg_copy(struct imap_arg *to, const struct imap_arg *from)
{
	size_t i;

	*to = *from;
	to->str = NULL;
	to->list = NULL;
	if (from->str != NULL) {
		to->str = util_calloc(1, from->len + 1);
		memcpy(to->str, from->str, from->len);
	}
	if (from->nlist > 0) {
		to->list = util_calloc(from->nlist, sizeof(*to->list));
		for (i = 0; i < from->nlist; i++)
			arg_copy(&to->list[i], &from->list[i]);
	}
}

struct imap_arg *
imap_arg_dup(const struct imap_arg *a)
{
	struct imap_arg *d = util_calloc(1, sizeof(*d));

	arg_copy(d, a);
	return d;
}

void
imap_arg_dup_free(struct imap_arg **a)
{
	if (*a != NULL) {
		arg_free(*a);
		free(*a);
	}
	*a = NULL;
}

int
notify_update_atts(struct imap_session *s, const struct imap_arg *ret,
    const struct imap_arg **atts)
{
	size_t i;

	*atts = NULL;
	for (i = 0; ret->type == IMAP_ARG_LIST && i + 1 < ret->nlist; i++)
		if (imap_arg_atom_is(&ret->list[i], "UPDATE") &&
		    ret->list[i + 1].type == IMAP_ARG_LIST) {
			if (imap_fetch_atts_check(s, &ret->list[i + 1]) ==
			    -1) {
				imap_tagged(s, "BAD Invalid fetch attributes "
				    "after UPDATE");
				return -1;
			}
			*atts = &ret->list[i + 1];
		}
	return 0;
}

static void
boxes_free(struct notify_box *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(b[i].name);
	free(b);
}

static void
notify_destroy(struct notify *n)
{
	size_t i, k;

	if (n == NULL)
		return;
	for (i = 0; i < n->ngroups; i++) {
		for (k = 0; k < n->groups[i].nnames; k++)
			free(n->groups[i].names[k]);
		free(n->groups[i].names);
	}
	free(n->groups);
	if (n->fetch != NULL) {
		arg_free(n->fetch);
		free(n->fetch);
	}
	boxes_free(n->boxes, n->nboxes);
	if (n->fd != -1)
		close(n->fd);
	free(n);
}

void
notify_free(struct imap_session *s)
{
	notify_destroy(s->notify);
	s->notify = NULL;
}

/* ---- which events a folder has ---- */

static int
group_matches(const struct notify_group *g, const char *name,
    unsigned int attrs)
{
	size_t k, len;

	switch (g->filter) {
	case F_PERSONAL:
		return 1;
	case F_INBOXES:
		return strcmp(name, "INBOX") == 0;
	case F_SUBSCRIBED:
		return (attrs & MFA_SUBSCRIBED) != 0;
	case F_SUBTREE:
		for (k = 0; k < g->nnames; k++) {
			len = strlen(g->names[k]);
			if (strncmp(name, g->names[k], len) == 0 &&
			    (name[len] == '\0' || name[len] == MAILDIR_SEP))
				return 1;
		}
		return 0;
	case F_MAILBOXES:	/* §6.6: no wildcards */
		for (k = 0; k < g->nnames; k++)
			if (strcmp(name, g->names[k]) == 0)
				return 1;
		return 0;
	}
	return 0;
}

static unsigned int
box_events(const struct notify *n, const char *name, unsigned int attrs)
{
	size_t i;

	for (i = 0; i < n->ngroups; i++)
		if (group_matches(&n->groups[i], name, attrs))
			return n->groups[i].events;
	return 0;
}

static int
box_exists(const struct notify_box *b)
{
	return b != NULL && !(b->attrs & (MFA_NONEXISTENT | MFA_NOSELECT));
}

/* Are this folder's messages watched (STATUS when they change)?  Not
 * the selected one's: the selected filter has those (§3.1). */
static int
box_watched(struct imap_session *s, const struct notify_box *b)
{
	return box_exists(b) && (box_events(s->notify, b->name, b->attrs) &
	    NE_MESSAGE) && (s->mb == NULL || strcmp(mbox_name(s->mb),
	    b->name) != 0);
}

/* ---- responses ---- */

/* "* LIST (attrs) "/" name", an extended one with OLDNAME for a rename
 * (§5.4, RFC 5258 §3.2); \NonExistent when it is gone. */
static void
put_list(struct imap_session *s, const char *name, unsigned int attrs,
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
static void
put_status(struct imap_session *s, const char *name,
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

/* ---- the folders now, against the folders before ---- */

struct collect {
	struct notify_box *b;
	size_t		 n, cap;
};

static void
collect_cb(const char *name, unsigned int attrs, void *arg)
{
	struct collect *c = arg;

	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 32;
		if ((c->b = realloc(c->b, c->cap * sizeof(*c->b))) == NULL)
			fatal("realloc");
	}
	memset(&c->b[c->n], 0, sizeof(c->b[c->n]));
	c->b[c->n].name = util_strdup(name);
	c->b[c->n++].attrs = attrs;
}

static int
box_cmp(const void *a, const void *b)
{
	return strcmp(((const struct notify_box *)a)->name,
	    ((const struct notify_box *)b)->name);
}

static struct notify_box *
box_find(struct notify_box *b, size_t n, const char *name)
{
	struct notify_box key;

	key.name = (char *)name;
	return n == 0 ? NULL : bsearch(&key, b, n, sizeof(*b), box_cmp);
}

static int
stamp_cb(const struct mstamp *m, void *arg)
{
	struct collect *c = arg;
	struct notify_box *b = box_find(c->b, c->n, m->name);

	if (b != NULL) {
		b->id = m->id;
		b->uidvalidity = m->uidvalidity;
		b->uidnext = m->uidnext;
		b->modseq = m->highestmodseq;
	}
	return 0;
}

/*
 * Every folder with its attributes and stamps, sorted; 0 or -1.  Under
 * the store's lock: a RENAME moves directories before its rows, in one
 * transaction, and the rows must name what is on disk.
 */
static int
boxes_read(struct imap_session *s, struct collect *c)
{
	memset(c, 0, sizeof(*c));
	if (mstore_begin(s->store) == -1)
		return -1;
	if (mstore_list(s->store, collect_cb, c) == -1)
		goto fail;
	if (c->n > 1)
		qsort(c->b, c->n, sizeof(*c->b), box_cmp);
	if (mstore_stamps(s->store, stamp_cb, c) == -1)
		goto fail;
	if (mstore_commit(s->store) == 0)
		return 0;
	goto out;
fail:
	mstore_rollback(s->store);
out:
	boxes_free(c->b, c->n);
	c->b = NULL;
	c->n = 0;
	return -1;
}

/* Count a folder again; what happened since (NE_*), 0 the first time. */
static unsigned int
box_count(struct imap_session *s, struct notify_box *b)
{
	struct mbox_status st, *o = &b->st;
	unsigned int happened = 0;

	if (mstore_status(s->store, b->name, &st) == -1)
		return 0;
	if (b->counted) {
		if (st.uidvalidity != o->uidvalidity)
			happened = NE_NEW | NE_EXPUNGE | NE_FLAGS;
		if (st.uidnext != o->uidnext)
			happened |= NE_NEW;
		/* fewer than before plus what came: some went */
		if ((uint64_t)st.messages < (uint64_t)o->messages +
		    (st.uidnext - o->uidnext))
			happened |= NE_EXPUNGE;
		if (st.highestmodseq != o->highestmodseq &&
		    !(happened & (NE_NEW | NE_EXPUNGE)))
			happened |= NE_FLAGS;
		if (st.unseen != o->unseen)
			happened |= NE_FLAGS;
	}
	b->st = st;
	b->counted = 1;
	return happened;
}

static void
overflow(struct imap_session *s, const char *why)
{
	log_info("sid=%s notify overflow: %s", s->id, why);
	imap_untagged(s, "OK [NOTIFICATIONOVERFLOW] %s", why);
	s->notify->off = 1;	/* §5.8: as if NOTIFY NONE came */
}

/* The folders' LIST responses (when emit): made, gone, renamed,
 * (un)subscribed; and the counts of the folders before carried over to
 * the same folders now (a renamed one's too). */
static void
list_changes(struct imap_session *s, struct notify_box *old, size_t nold,
    struct notify_box *now, size_t nnow, int emit)
{
	struct notify *n = s->notify;
	struct notify_box *o, *b;
	unsigned char *renamed = util_calloc(nnow + 1, 1);
	size_t i, k;
	int sub_o, sub_b;

	for (i = 0; i < nold; i++) {
		o = &old[i];
		b = box_find(now, nnow, o->name);
		sub_o = (o->attrs & MFA_SUBSCRIBED) != 0;
		sub_b = b != NULL && (b->attrs & MFA_SUBSCRIBED);
		if (box_exists(o) && !box_exists(b)) {
			/* gone, or renamed: its row has another name */
			for (k = 0; o->id != 0 && k < nnow; k++)
				if (now[k].id == o->id && box_exists(&now[k]) &&
				    !box_exists(box_find(old, nold,
				    now[k].name)))
					break;
			if (o->id != 0 && k < nnow) {
				renamed[k] = 1;
				if (emit && ((box_events(n, o->name,
				    o->attrs) | box_events(n, now[k].name,
				    now[k].attrs)) & NE_NAME))
					put_list(s, now[k].name, now[k].attrs,
					    1, o->name);
				/* its counts go with it */
				now[k].st = o->st;
				now[k].counted = o->counted;
			} else if (emit && (box_events(n, o->name, o->attrs) &
			    NE_NAME))
				put_list(s, o->name, b != NULL ? b->attrs : 0,
				    0, NULL);
		} else if (emit && sub_o != sub_b && ((box_events(n, o->name,
		    b != NULL ? b->attrs : o->attrs) | box_events(n, o->name,
		    o->attrs)) & NE_SUBSCRIPTION))
			put_list(s, o->name, b != NULL ? b->attrs : 0,
			    box_exists(b), NULL);
		if (b != NULL && box_exists(o) && box_exists(b)) {
			b->st = o->st;
			b->counted = o->counted;
			b->norow = o->norow;
		}
	}
	for (k = 0; k < nnow; k++) {
		b = &now[k];
		if (!box_exists(b) || renamed[k] ||
		    box_exists(box_find(old, nold, b->name)))
			continue;
		if (emit && (box_events(n, b->name, b->attrs) & NE_NAME))
			put_list(s, b->name, b->attrs, 1, NULL);
	}
	free(renamed);
}

/*
 * Look at every folder: emit_list says whether changes of the list are
 * news (not after this session's own CREATE ...); folders watched for
 * the first time are counted quietly.  STATUS for the others that
 * changed.  0 or -1 (store error: nothing sent).
 */
static int
boxes_refresh(struct imap_session *s, int emit_list, int emit_status)
{
	struct notify *n = s->notify;
	struct collect c;
	struct notify_box *b;
	unsigned int happened, ev;
	size_t i, watched = 0;

	/* Deliveries wait in the INBOX's new/ until a sync takes them. */
	b = box_find(n->boxes, n->nboxes, "INBOX");
	if (n->inbox_new && b != NULL && box_watched(s, b)) {
		struct mbox_status st;

		(void)mstore_status(s->store, "INBOX", &st);
	}
	n->inbox_new = 0;
	if (boxes_read(s, &c) == -1)
		return -1;
	list_changes(s, n->boxes, n->nboxes, c.b, c.n, emit_list &&
	    (n->events & (NE_NAME | NE_SUBSCRIPTION)));
	for (i = 0; i < c.n; i++) {
		b = &c.b[i];
		if (!box_watched(s, b)) {
			b->counted = 0;	/* counted again when watched */
			continue;
		}
		if (++watched > NOTIFY_MAX_WATCHED)
			break;
		/*
		 * No row yet: a CREATE between its directories and its row
		 * (store.c makes them one after the other), whose row comes
		 * with a UIDVALIDITY of its own; opening it now would make
		 * another.  A folder another program made has none until
		 * opened: it is, a second later.
		 */
		if (b->id == 0) {
			if (b->norow == 0)
				b->norow = util_now();
			if (util_now() - b->norow < 1.0)
				continue;
		}
		if (b->counted && b->uidvalidity == b->st.uidvalidity &&
		    b->uidnext == b->st.uidnext &&
		    b->modseq == b->st.highestmodseq)
			continue;	/* nothing moved */
		ev = box_events(n, b->name, b->attrs);
		happened = box_count(s, b);
		if (emit_status && (happened & ev))
			put_status(s, b->name, &b->st, ev);
	}
	boxes_free(n->boxes, n->nboxes);
	n->boxes = c.b;
	n->nboxes = c.n;
	if (watched > NOTIFY_MAX_WATCHED && emit_status)
		overflow(s, "Too many mailboxes to watch");
	return 0;
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
		b = box_find(n->boxes, n->nboxes, mailbox);
		if (!(box_events(n, mailbox, b != NULL ? b->attrs : 0) &
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

static int
meta_refresh(struct imap_session *s, int emit)
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
		overflow(s, "Annotation changes were lost");
	return r == -1 ? -1 : 0;
}

/* ---- the selected mailbox ---- */

/* Keep the selected mailbox's new/ and cur/ in the watch set; 1 when
 * another mailbox is selected now. */
static int
watch_selected(struct imap_session *s)
{
	struct notify *n = s->notify;
	struct mbox *want = n->sel_events != 0 ? s->mb : NULL;
	const char *name = want != NULL ? mbox_name(want) : "";

	if (strcmp(name, n->sel_name) == 0)
		return 0;
	if (n->sel_name[0] != '\0')
		mbox_watch_remove(n->fd, n->sel_wd, n->inbox_wd);
	util_strcpy(n->sel_name, name, sizeof(n->sel_name));
	if (want != NULL && mbox_watch_add(want, n->fd, n->sel_wd) == -1)
		log_warn("sid=%s notify: cannot watch %s", s->id,
		    log_str(name));
	return 1;
}

static void
vanished_count_cb(uint32_t uid, void *arg)
{
	(void)uid;
	(*(size_t *)arg)++;
}

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

/* What changed in the selected mailbox, as the filter wants it; 0, or
 * -1 when the mailbox cannot be read. */
static int
push_selected(struct imap_session *s, int idle)
{
	struct notify *n = s->notify;
	uint64_t modseq;
	uint32_t uidnext;
	size_t vanished = 0;
	int allow_expunge = idle || !n->sel_delayed, r;

	if (s->mb == NULL || n->sel_events == 0)
		return 0;
	if (mbox_sync(s->mb) == -1 || mbox_get_modseq(s->mb, &uidnext,
	    &modseq) == -1)
		return -1;
	if (uidnext == s->view.uidnext && modseq <= s->view.modseq &&
	    (!allow_expunge || modseq <= s->view.expunge_modseq))
		return 0;
	if (!(n->sel_events & NE_FLAGS) && uidnext == s->view.uidnext) {
		/* flags alone are not asked for: only expunges */
		if (!allow_expunge || mbox_vanished(s->mb,
		    s->view.expunge_modseq, vanished_count_cb,
		    &vanished) == -1 || vanished == 0)
			return 0;
	}
	s->cmd_name = NULL;
	r = imap_view_notify(s, allow_expunge);
	return r;
}

/* ---- sending ---- */

/*
 * Nothing is read unless the descriptor woke since the last look (a
 * command that changed nothing costs nothing), or another mailbox was
 * selected (the one before is watched now); in IDLE the selected
 * mailbox is looked at anyway: expunges selected-delayed kept back
 * may go now.
 */
int
notify_push(struct imap_session *s, int idle)
{
	struct notify *n = s->notify;

	if (n->off)	/* as NOTIFY NONE: IDLE as without NOTIFY */
		return idle && s->mb != NULL ? imap_view_update(s, 1) : 0;
	notify_drain(s);
	if (watch_selected(s))
		n->dirty = 1;
	if (!n->dirty && !idle)
		return 0;
	if (push_selected(s, idle) == -1)
		return -1;
	if (!n->dirty)
		return 0;
	n->dirty = 0;
	if (boxes_refresh(s, 1, 1) == -1 || (!n->off &&
	    meta_refresh(s, 1) == -1))
		log_warn("sid=%s notify: %s", s->id, mstore_error(s->store));
	return 0;
}

void
notify_drain(struct imap_session *s)
{
	struct notify *n = s->notify;
	char ev[4096] __attribute__((aligned(__alignof__(struct
	    inotify_event))));
	const struct inotify_event *e;
	ssize_t len, i;

	while ((len = read(n->fd, ev, sizeof(ev))) > 0) {
		n->dirty = 1;
		for (i = 0; i + (ssize_t)sizeof(*e) <= len;
		    i += (ssize_t)(sizeof(*e) + e->len)) {
			e = (const struct inotify_event *)(ev + i);
			if (e->wd == n->inbox_wd || (e->mask & IN_Q_OVERFLOW))
				n->inbox_new = 1;
		}
	}
}

int
notify_idle_fd(struct imap_session *s)
{
	watch_selected(s);
	return s->notify->fd;
}

int
notify_wait(struct imap_session *s, int wait)
{
	struct pollfd pfd[2];
	int64_t deadline = util_now_usec() +
	    (int64_t)s->conf->imapd.timeout * 1000000, left;
	int r;

	for (;;) {
		if (s->notify->off) {	/* §5.8: from now on, NONE */
			notify_free(s);
			return 0;
		}
		if (notify_push(s, 0) == -1) {
			imap_mailbox_lost(s);
			return -1;
		}
		if (conn_flush(&s->conn) == -1)
			return -1;
		if (!wait || conn_pending(&s->conn) > 0)
			return 0;
		if ((left = (deadline - util_now_usec()) / 1000) <= 0)
			left = 0;
		pfd[0].fd = s->conn.fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = s->notify->fd;
		pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		r = daemon_poll_unless(&daemon_term, pfd, 2, (int)left);
		if (r == 0 || (r == -1 && (errno != EINTR || daemon_term))) {
			imap_untagged(s, "BYE %s", r == 0 ?
			    "Autologout; idle for too long" :
			    "Server shutting down");
			imap_set_state(s, ST_LOGOUT);
			return -1;
		}
		if (r < 0)
			continue;
		if (pfd[1].revents)
			notify_drain(s);
		if (pfd[0].revents)
			return 0;
	}
}

/* ---- what this session did itself ---- */

/* A mailbox argument as the store names it, quietly (the command has
 * answered already); 0 or -1. */
static int
own_name(struct imap_session *s, const struct imap_arg *a, char *name,
    size_t size)
{
	const char *v = imap_arg_astring(a);

	if (v == NULL || util_strcpy(name, v, size) == -1)
		return -1;
	if (s->utf8 && utf8_to_mutf7(v, name, size) == -1)
		return -1;
	maildir_name_normalize(name);
	return 0;
}

void
notify_own(struct imap_session *s, const char *cmd,
    const struct imap_arg *args, size_t nargs)
{
	struct notify *n = s->notify;
	struct notify_box *b;
	char name[MAILDIR_NAME_MAX + 1];
	const struct imap_arg *target = NULL;

	if (n == NULL || n->off)
		return;
	if (strcasecmp(cmd, "APPEND") == 0 && nargs >= 1)
		target = &args[0];
	else if ((strcasecmp(cmd, "COPY") == 0 || strcasecmp(cmd, "MOVE") ==
	    0 || strcasecmp(cmd, "UID COPY") == 0 ||
	    strcasecmp(cmd, "UID MOVE") == 0) && nargs >= 2)
		target = &args[1];
	if (target != NULL) {
		if (own_name(s, target, name, sizeof(name)) == 0 &&
		    (b = box_find(n->boxes, n->nboxes, name)) != NULL &&
		    b->counted)
			(void)box_count(s, b);
	} else if (strcasecmp(cmd, "CREATE") == 0 ||
	    strcasecmp(cmd, "DELETE") == 0 ||
	    strcasecmp(cmd, "RENAME") == 0 ||
	    strcasecmp(cmd, "SUBSCRIBE") == 0 ||
	    strcasecmp(cmd, "UNSUBSCRIBE") == 0)
		(void)boxes_refresh(s, 0, 1);
	else if (strcasecmp(cmd, "SETMETADATA") == 0)
		(void)meta_refresh(s, 0);
}

/* ---- NOTIFY SET / NONE (§3.1) ---- */

struct parse {
	struct imap_session *s;
	struct notify	*n;
	int		 have_selected;
	size_t		 nnames;
	unsigned int	 used;		/* every event named */
	const char	*bad;		/* BAD text */
	int		 no;		/* a NO was given (mailbox name) */
};

/* An event list ("(" event *(SP event) ")" or NONE) into *events. */
static int
parse_events(struct parse *p, const struct imap_arg *a, int selected,
    unsigned int *events)
{
	size_t i, k;
	unsigned int bit;

	*events = 0;
	if (imap_arg_atom_is(a, "NONE"))
		return 0;
	if (a->type != IMAP_ARG_LIST || a->nlist == 0) {
		p->bad = "Expected a list of events or NONE";
		return -1;
	}
	for (i = 0; i < a->nlist; i++) {
		if (a->list[i].type != IMAP_ARG_ATOM) {
			p->bad = "Events are atoms";
			return -1;
		}
		bit = NE_UNKNOWN;	/* event-ext: a NO, not a BAD (§8) */
		for (k = 0; k < NEVENTS; k++)
			if (strcasecmp(a->list[i].str,
			    notify_events[k].name) == 0)
				bit = notify_events[k].bit;
		*events |= bit;
		/* MessageNew (fetch-att ...): the selected mailbox only */
		if (bit == NE_NEW && i + 1 < a->nlist &&
		    a->list[i + 1].type == IMAP_ARG_LIST) {
			i++;
			if (!selected) {
				p->bad = "Fetch attributes are for the "
				    "selected mailbox only";
				return -1;
			}
			if (imap_fetch_atts_check(p->s, &a->list[i]) == -1) {
				p->bad = "Invalid fetch attributes";
				return -1;
			}
			if (p->n->fetch != NULL) {
				arg_free(p->n->fetch);
				free(p->n->fetch);
			}
			p->n->fetch = util_calloc(1, sizeof(*p->n->fetch));
			arg_copy(p->n->fetch, &a->list[i]);
		}
	}
	/* §5: MessageNew and MessageExpunge together; FlagChange and
	 * AnnotationChange only with both. */
	if (((*events & NE_NEW) != 0) != ((*events & NE_EXPUNGE) != 0)) {
		p->bad = "MessageNew and MessageExpunge go together";
		return -1;
	}
	if ((*events & (NE_FLAGS | NE_ANNOTATION)) &&
	    !(*events & NE_NEW)) {
		p->bad = "FlagChange needs MessageNew and MessageExpunge";
		return -1;
	}
	/* §6.1: only message events for the selected mailbox */
	if (selected && (*events & ~NE_MESSAGE & ~NE_UNKNOWN)) {
		p->bad = "Only message events for the selected mailbox";
		return -1;
	}
	p->used |= *events;
	return 0;
}

/* One mailbox, or a list of them (one-or-more-mailbox). */
static int
parse_names(struct parse *p, const struct imap_arg *a,
    struct notify_group *g)
{
	const struct imap_arg *one = a;
	size_t i, n = 1;
	char name[MAILDIR_NAME_MAX + 1];

	if (a->type == IMAP_ARG_LIST) {
		if (a->nlist == 0) {
			p->bad = "Expected mailbox names";
			return -1;
		}
		one = a->list;
		n = a->nlist;
	}
	for (i = 0; i < n; i++) {
		if (one[i].type == IMAP_ARG_LIST) {
			p->bad = "Expected a mailbox name";
			return -1;
		}
		if (++p->nnames > NOTIFY_MAX_NAMES)
			return 0;	/* counted, refused after */
		if (imap_mailbox_arg(p->s, &one[i], name, sizeof(name)) == -1) {
			p->no = 1;	/* answered */
			return -1;
		}
		g->names = realloc(g->names, (g->nnames + 1) *
		    sizeof(*g->names));
		if (g->names == NULL)
			fatal("realloc");
		g->names[g->nnames++] = util_strdup(name);
	}
	return 0;
}

/* "(" filter-mailboxes SP events ")" */
static int
parse_group(struct parse *p, const struct imap_arg *a)
{
	static const struct {
		const char	*name;
		enum notify_filter filter;
		int		 names;
	} filters[] = {
		{ "personal", F_PERSONAL, 0 }, { "inboxes", F_INBOXES, 0 },
		{ "subscribed", F_SUBSCRIBED, 0 },
		{ "subtree", F_SUBTREE, 1 }, { "mailboxes", F_MAILBOXES, 1 },
	};
	struct notify *n = p->n;
	struct notify_group *g;
	size_t k;

	if (a->type != IMAP_ARG_LIST || a->nlist < 2 ||
	    a->list[0].type != IMAP_ARG_ATOM) {
		p->bad = "Expected (filter events)";
		return -1;
	}
	if (strcasecmp(a->list[0].str, "selected") == 0 ||
	    strcasecmp(a->list[0].str, "selected-delayed") == 0) {
		if (a->nlist != 2) {
			p->bad = "Expected (selected events)";
			return -1;
		}
		if (p->have_selected++) {	/* §6.1 */
			p->bad = "Only one of selected and selected-delayed";
			return -1;
		}
		n->sel_delayed = strcasecmp(a->list[0].str, "selected") != 0;
		return parse_events(p, &a->list[1], 1, &n->sel_events);
	}
	for (k = 0; k < sizeof(filters) / sizeof(filters[0]); k++)
		if (strcasecmp(a->list[0].str, filters[k].name) == 0)
			break;
	if (k == sizeof(filters) / sizeof(filters[0])) {
		p->bad = "Unknown mailbox filter";
		return -1;
	}
	if (a->nlist != 2u + (size_t)filters[k].names) {
		p->bad = filters[k].names ? "Expected (filter mailboxes "
		    "events)" : "Expected (filter events)";
		return -1;
	}
	if (n->ngroups == NOTIFY_MAX_GROUPS) {
		p->nnames = NOTIFY_MAX_NAMES + 1;	/* refused after */
		return 0;
	}
	n->groups = realloc(n->groups, (n->ngroups + 1) * sizeof(*n->groups));
	if (n->groups == NULL)
		fatal("realloc");
	g = &n->groups[n->ngroups++];
	memset(g, 0, sizeof(*g));
	g->filter = filters[k].filter;
	if (filters[k].names && parse_names(p, &a->list[1], g) == -1)
		return -1;
	if (parse_events(p, &a->list[1 + filters[k].names], 0,
	    &g->events) == -1)
		return -1;
	n->events |= g->events;
	return 0;
}

/* "NO [BADEVENT (what we can send)]" (§3.1) */
static void
refuse_events(struct imap_session *s)
{
	struct buf b;
	size_t k;
	const char *sep = "";

	buf_init(&b, 256);
	for (k = 0; k < NEVENTS; k++)
		if (notify_events[k].supported) {
			buf_printf(&b, "%s%s", sep, notify_events[k].name);
			sep = " ";
		}
	imap_tagged(s, "NO [BADEVENT (%s)] Unsupported event", b.data);
	buf_release(&b);
}

/* Start watching: the descriptor, what every folder is now (counted
 * quietly), the annotations' log.  0, or -1 after a NO. */
static int
notify_start(struct imap_session *s, int status)
{
	struct notify *n = s->notify;
	size_t i, watched = 0;

	if ((n->fd = mstore_watch(s->store, &n->inbox_wd)) == -1) {
		imap_tagged(s, "NO [SERVERBUG] Cannot watch the mailboxes");
		return -1;
	}
	if (boxes_refresh(s, 0, 0) == -1 || ((n->events & (NE_MBOX_META |
	    NE_SERVER_META)) && mstore_metadata_watch(s->store,
	    &n->meta_seq) == -1)) {
		imap_store_no(s, "notify");
		return -1;
	}
	for (i = 0; i < n->nboxes; i++)
		watched += box_watched(s, &n->boxes[i]);
	if (watched > NOTIFY_MAX_WATCHED) {
		imap_tagged(s, "NO [NOTIFICATIONOVERFLOW] More than %d "
		    "mailboxes to watch", NOTIFY_MAX_WATCHED);
		return -1;
	}
	/* §3.1: STATUS for every folder whose messages are watched,
	 * before the OK */
	for (i = 0; status && i < n->nboxes; i++)
		if (box_watched(s, &n->boxes[i]) && n->boxes[i].counted)
			put_status(s, n->boxes[i].name, &n->boxes[i].st,
			    box_events(n, n->boxes[i].name,
			    n->boxes[i].attrs));
	return 0;
}

int
cmd_notify(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	struct parse p;
	struct notify *n;
	size_t i = 1;
	int status = 0;

	if (nargs == 1 && imap_arg_atom_is(&args[0], "NONE")) {
		notify_free(s);
		imap_tagged(s, "OK NOTIFY completed");
		return 0;
	}
	if (nargs < 2 || !imap_arg_atom_is(&args[0], "SET")) {
		imap_tagged(s, "BAD Usage: NOTIFY NONE, or NOTIFY SET [STATUS] "
		    "(filter events) ...");
		return -1;
	}
	if (imap_arg_atom_is(&args[1], "STATUS")) {
		status = 1;
		i++;
	}
	memset(&p, 0, sizeof(p));
	p.s = s;
	p.n = n = util_calloc(1, sizeof(*n));
	n->fd = n->inbox_wd = -1;
	n->sel_wd[0] = n->sel_wd[1] = -1;
	if (i == nargs)
		p.bad = "Expected event groups";
	for (; p.bad == NULL && !p.no && i < nargs; i++)
		(void)parse_group(&p, &args[i]);
	if (p.bad != NULL || p.no) {
		if (!p.no)
			imap_tagged(s, "BAD %s", p.bad);
		notify_destroy(n);
		return p.no ? 0 : -1;
	}
	if (p.used & (NE_UNKNOWN | NE_ANNOTATION)) {
		refuse_events(s);
		notify_destroy(n);
		return 0;
	}
	if (p.nnames > NOTIFY_MAX_NAMES) {
		imap_tagged(s, "NO [NOTIFICATIONOVERFLOW] At most %d mailbox "
		    "names and %d event groups", NOTIFY_MAX_NAMES,
		    NOTIFY_MAX_GROUPS);
		notify_destroy(n);
		return 0;
	}
	/* It replaces the one before (§3.1). */
	notify_free(s);
	s->notify = n;
	if (notify_start(s, status) == -1) {
		notify_free(s);
		return 0;
	}
	imap_tagged(s, "OK NOTIFY completed");
	return 0;
}
