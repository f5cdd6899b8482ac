/*
 * NOTIFY (RFC 5465) SET and NONE (§3.1): the event groups a client
 * asks for, kept for the session, and which events a folder has.
 * How it is watched and told: notify_int.h.
 *
 * AnnotationChange needs ANNOTATE (RFC 5257), which we do not have:
 * NO [BADEVENT (...)] (§3.1), as for any event we do not know.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../lib/log.h"
#include "notify_int.h"

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
	imap_arg_dup_free(&n->fetch);
	notify_boxes_free(n->boxes, n->nboxes);
	notify_newdirs_free(n);
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

unsigned int
notify_box_events(const struct notify *n, const char *name, unsigned int attrs)
{
	size_t i;

	for (i = 0; i < n->ngroups; i++)
		if (group_matches(&n->groups[i], name, attrs))
			return n->groups[i].events;
	return 0;
}

int
notify_box_exists(const struct notify_box *b)
{
	return b != NULL && !(b->attrs & (MFA_NONEXISTENT | MFA_NOSELECT));
}

int
notify_box_watched(struct imap_session *s, const struct notify_box *b)
{
	return notify_box_exists(b) && (notify_box_events(s->notify,
	    b->name, b->attrs) & NE_MESSAGE) && (s->mb == NULL ||
	    strcmp(mbox_name(s->mb), b->name) != 0);
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
			imap_arg_dup_free(&p->n->fetch);
			p->n->fetch = imap_arg_dup(&a->list[i]);
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
	if (notify_boxes_refresh(s, 0, 0) == -1 || ((n->events & (NE_MBOX_META |
	    NE_SERVER_META)) && mstore_metadata_watch(s->store,
	    &n->meta_seq) == -1)) {
		imap_store_no(s, "notify");
		return -1;
	}
	for (i = 0; i < n->nboxes; i++)
		watched += notify_box_watched(s, &n->boxes[i]);
	if (watched > NOTIFY_MAX_WATCHED) {
		imap_tagged(s, "NO [NOTIFICATIONOVERFLOW] More than %d "
		    "mailboxes to watch", NOTIFY_MAX_WATCHED);
		return -1;
	}
	/* §3.1: STATUS for every folder whose messages are watched,
	 * before the OK */
	for (i = 0; status && i < n->nboxes; i++)
		if (notify_box_watched(s, &n->boxes[i]) && n->boxes[i].counted)
			notify_put_status(s, n->boxes[i].name, &n->boxes[i].st,
			    notify_box_events(n, n->boxes[i].name,
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
