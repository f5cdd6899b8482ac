/*
 * Commands of the authenticated state (RFC 3501 §6.3): mailboxes, with
 * CONDSTORE/QRESYNC at SELECT (RFC 7162), LIST-EXTENDED (RFC 5258),
 * LIST-STATUS (RFC 5819), SPECIAL-USE (RFC 6154), CHILDREN (RFC 3348),
 * UIDPLUS's APPENDUID (RFC 4315), LIST-METADATA (RFC 9590; cmd_metadata.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "../lib/log.h"
#include "session.h"
#include "acl.h"
#include "listmeta.h"

int
imap_mailbox_arg(struct imap_session *s, const struct imap_arg *a,
    char *name, size_t size)
{
	const char *v = imap_arg_astring(a), *why;

	if (v == NULL || a->len != strlen(v)) {
		imap_tagged(s, "BAD Missing or malformed mailbox name");
		return -1;
	}
	if (util_strcpy(name, v, size) == -1) {
		imap_tagged(s, "NO [CANNOT] Mailbox name too long");
		return -1;
	}
	if (imap_utf8_mailbox_in(s, name, size) == -1)
		return -1;
	maildir_name_normalize(name);
	if (strcmp(name, "INBOX") != 0 && maildir_name_valid(name, &why) ==
	    -1) {
		imap_tagged(s, "NO [CANNOT] Invalid mailbox name: %s", why);
		return -1;
	}
	return 0;
}

/* ---- SELECT / EXAMINE ---- */

struct qresync {
	uint32_t	 uidvalidity;
	uint64_t	 modseq;
	struct seqset	 known;		/* known-uids, or empty: all */
	int		 have_known;
};

static int
select_params(struct imap_session *s, const struct imap_arg *a,
    struct qresync *q, int *use_qresync)
{
	const struct imap_arg *p;
	uint64_t v;
	size_t i;

	for (i = 0; i < a->nlist; i++) {
		if (imap_arg_atom_is(&a->list[i], "CONDSTORE")) {
			s->condstore = 1;
			continue;
		}
		if (!imap_arg_atom_is(&a->list[i], "QRESYNC") ||
		    i + 1 >= a->nlist || a->list[i + 1].type != IMAP_ARG_LIST) {
			imap_tagged(s, "BAD Unknown SELECT parameter");
			return -1;
		}
		if (!s->qresync) {
			imap_tagged(s, "BAD QRESYNC is not enabled");
			return -1;
		}
		p = &a->list[++i];
		if (p->nlist < 2 || p->nlist > 4 ||
		    imap_arg_number(&p->list[0], UINT32_MAX, &v) == -1 ||
		    v == 0) {
			imap_tagged(s, "BAD Malformed QRESYNC parameter");
			return -1;
		}
		q->uidvalidity = (uint32_t)v;
		if (imap_arg_number(&p->list[1], INT64_MAX, &q->modseq) == -1) {
			imap_tagged(s, "BAD Malformed QRESYNC mod-sequence");
			return -1;
		}
		if (p->nlist >= 3 && p->list[2].type == IMAP_ARG_ATOM) {
			if (seqset_parse(p->list[2].str, UINT32_MAX,
			    &q->known) == -1) {
				imap_tagged(s, "BAD Malformed known-uids");
				return -1;
			}
			q->have_known = 1;
		}
		*use_qresync = 1;
	}
	return 0;
}

static int
qresync_changed_cb(const struct mmsg *m, void *arg)
{
	struct imap_session *s = arg;
	uint32_t seq = view_seq(&s->view, m->uid);

	/* QRESYNC is on, so CONDSTORE is: UID and MODSEQ come too. */
	if (seq != 0)
		imap_fetch_flags(s, seq, m->uid, m->flags, m->keywords,
		    m->modseq, FETCH_WITH_FLAGS | FETCH_UNSOLICITED);
	return 0;
}

/* RFC 7162 §3.2.5: what the client missed since its last session. */
static int
qresync_report(struct imap_session *s, struct qresync *q)
{
	if (q->uidvalidity != s->view.uidvalidity)
		return 0;
	if (imap_vanished_earlier(s, q->modseq, q->have_known ? &q->known :
	    NULL) == -1)
		return -1;
	return mbox_messages(s->mb, 1, UINT32_MAX, q->modseq, 0,
	    qresync_changed_cb, s);
}

static int
select_common(struct imap_session *s, const struct imap_arg *args,
    size_t nargs, int readonly)
{
	char name[MAILDIR_NAME_MAX + 1], mbid[MAILDIR_OBJECTID_MAX + 1];
	struct qresync q;
	const char *no;
	int use_qresync = 0, r = -1;

	memset(&q, 0, sizeof(q));
	if (nargs < 1 || nargs > 2 || (nargs == 2 &&
	    args[1].type != IMAP_ARG_LIST)) {
		imap_tagged(s, "BAD Usage: SELECT mailbox [(parameters)]");
		return -1;
	}
	/* A SELECT that fails leaves nothing selected (RFC 3501 §6.3.1). */
	if (s->mb != NULL) {
		imap_unselect(s);
		/* RFC 7162 §3.2.11, RFC 9051 §6.3.2 */
		if (s->qresync || s->rev2)
			imap_untagged(s, "OK [CLOSED] Previous mailbox closed");
	}
	if (imap_mailbox_arg(s, &args[0], name, sizeof(name)) == -1)
		return -1;
	if (nargs == 2 && select_params(s, &args[1], &q, &use_qresync) == -1)
		goto out;
	/* RFC 4314 §4: "r"; §5.2: READ-ONLY without a right to change. */
	if (imap_acl_open(s, name, ACL_R, 0, &s->mb, &s->rights, &no) ==
	    -1) {
		imap_tagged(s, "%s", no);
		r = 0;
		goto out;
	}
	s->readonly = readonly || !(s->rights & ACL_WRITE);
	if (imap_view_load(s) == -1) {
		/* the mailbox's store (maybe shared): gone meanwhile is
		 * [NONEXISTENT], the rest logged as the store's failure */
		struct mstore *st = mbox_store(s->mb);

		imap_unselect(s);
		imap_acl_store_no(s, st, "select");
		r = 0;
		goto out;
	}
	imap_set_state(s, ST_SELECTED);
	imap_untagged(s, "%zu EXISTS", s->view.n);
	rev2_select_data(s, name);	/* RECENT, UNSEEN or LIST */
	imap_untagged(s, "OK [UIDVALIDITY %u] UIDs valid",
	    s->view.uidvalidity);
	imap_untagged(s, "OK [UIDNEXT %u] Predicted next UID",
	    s->view.uidnext);
	imap_untagged(s, "OK [HIGHESTMODSEQ %llu] Highest",
	    (unsigned long long)s->view.modseq);
	if (mbox_mailbox_id(s->mb, mbid) == 0)		/* RFC 8474 §4.2 */
		imap_untagged(s, "OK [MAILBOXID (%s)] Ok", mbid);
	/* RFC 4467 §3's SHOULD: what GENURLAUTH takes for this mailbox,
	 * the user's own or a shared one it may read (urlauth.c) */
	imap_untagged(s, "OK [URLMECH INTERNAL] URLAUTH mechanisms");
	if (use_qresync && qresync_report(s, &q) == -1)
		log_err("sid=%s qresync: %s", s->id, mstore_error(s->store));
	imap_tagged(s, "OK [%s] %s completed", s->readonly ? "READ-ONLY" :
	    "READ-WRITE", readonly ? "EXAMINE" : "SELECT");
	r = 0;
out:
	if (q.have_known)
		seqset_free(&q.known);
	return r;
}

int
cmd_select(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	return select_common(s, args, nargs, 0);
}

int
cmd_examine(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	return select_common(s, args, nargs, 1);
}

/* ---- CREATE, DELETE, RENAME, SUBSCRIBE ---- */

static int
one_mailbox(struct imap_session *s, const struct imap_arg *args,
    size_t nargs, char *name, size_t size, const char *usage)
{
	if (nargs != 1) {
		imap_tagged(s, "BAD Usage: %s", usage);
		return -1;
	}
	return imap_mailbox_arg(s, &args[0], name, size);
}

int
cmd_create(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	char name[MAILDIR_NAME_MAX + 2], mbid[MAILDIR_OBJECTID_MAX + 1];
	struct imap_mbref ref;
	unsigned int uses = 0;
	size_t len;
	int r;

	/* CREATE-SPECIAL-USE (RFC 6154 §3): CREATE name (USE (...)). */
	if (nargs == 2) {
		if ((r = imap_create_uses(s, &args[1], &uses)) != 0)
			return r == 1 ? 0 : -1;
		nargs = 1;
	}
	if (nargs == 1 && (len = args[0].len) > 1 && args[0].str != NULL &&
	    args[0].str[len - 1] == MAILDIR_SEP) {
		/* "A trailing separator says the client intends to
		 * create names below it" (RFC 3501 §6.3.3): drop it. */
		if (len > sizeof(name) - 1) {
			imap_tagged(s, "NO [CANNOT] Mailbox name too long");
			return -1;
		}
		memcpy(name, args[0].str, len - 1);
		name[len - 1] = '\0';
		{
			struct imap_arg a = args[0];

			a.str = name;
			a.len = len - 1;
			if (imap_mailbox_arg(s, &a, name, sizeof(name)) == -1)
				return -1;
		}
	} else if (one_mailbox(s, args, nargs, name, sizeof(name),
	    "CREATE mailbox") == -1)
		return -1;
	if (strcmp(name, "INBOX") == 0) {
		imap_tagged(s, "NO [ALREADYEXISTS] INBOX always exists");
		return 0;
	}
	if (!rev2_name_ok(s, name))
		return 0;
	/* Another user's folder: "k" on the nearest parent (RFC 4314 §4). */
	if (imap_acl_manage(s, name, ACL_K, &ref) == -1)
		return 0;
	if ((uses != 0 ? mstore_create_special(ref.st, ref.name, uses) :
	    mstore_create(ref.st, ref.name)) == -1)
		return imap_acl_store_no(s, ref.st, "create");
	imap_acl_inherit(s, ref.st, ref.name);
	log_info("sid=%s user=%s create %s", s->id, s->user, log_str(name));
	/* RFC 8474 §4.1 */
	if (mstore_mailbox_id(ref.st, ref.name, mbid) == 0)
		imap_tagged(s, "OK [MAILBOXID (%s)] CREATE completed", mbid);
	else
		imap_tagged(s, "OK CREATE completed");
	return 0;
}

/* The selected mailbox was deleted or renamed by this session: it is
 * no longer selected, and the client is told (RFC 7162 §3.2.11's code,
 * harmless to clients that do not know it). */
static void
closed_if_selected(struct imap_session *s, const struct imap_mbref *ref)
{
	/* The same folder of the same user's store (acl.h). */
	if (s->mb == NULL || mbox_store(s->mb) != ref->st ||
	    strcmp(mbox_name(s->mb), ref->name) != 0)
		return;
	imap_unselect(s);
	imap_untagged(s, "OK [CLOSED] The selected mailbox is gone");
}

int
cmd_delete(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	char name[MAILDIR_NAME_MAX + 1];
	struct imap_mbref ref;
	struct macl *acl;
	size_t nacl;

	if (one_mailbox(s, args, nargs, name, sizeof(name),
	    "DELETE mailbox") == -1)
		return -1;
	if (imap_acl_manage(s, name, ACL_X, &ref) == -1)	/* RFC 4314 §4 */
		return 0;
	acl = imap_acl_take(s, &ref, &nacl);	/* its grantees (acl.c) */
	if (mstore_delete(ref.st, ref.name) == -1) {
		free(acl);
		return imap_acl_store_no(s, ref.st, "delete");
	}
	imap_acl_forget(s, acl, nacl);
	closed_if_selected(s, &ref);
	log_info("sid=%s user=%s delete %s", s->id, s->user, log_str(name));
	imap_tagged(s, "OK DELETE completed");
	return 0;
}

int
cmd_rename(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	char from[MAILDIR_NAME_MAX + 1], to[MAILDIR_NAME_MAX + 1];
	struct imap_mbref rf, rt;

	if (nargs != 2) {
		imap_tagged(s, "BAD Usage: RENAME from to");
		return -1;
	}
	if (imap_mailbox_arg(s, &args[0], from, sizeof(from)) == -1 ||
	    imap_mailbox_arg(s, &args[1], to, sizeof(to)) == -1)
		return -1;
	if (!rev2_name_ok(s, to))
		return 0;
	/* RFC 4314 §4: "x" on it, "k" on the new parent; within one
	 * owner's folders only. */
	if (imap_acl_manage(s, from, ACL_X, &rf) == -1 ||
	    imap_acl_manage(s, to, ACL_K, &rt) == -1)
		return 0;
	if (rf.st != rt.st) {
		imap_tagged(s, "NO [CANNOT] Cannot move a mailbox to "
		    "another user");
		return 0;
	}
	if (mstore_rename(rf.st, rf.name, rt.name) == -1)
		return imap_acl_store_no(s, rf.st, "rename");
	closed_if_selected(s, &rf);
	log_info("sid=%s user=%s rename %s to %s", s->id, s->user,
	    log_str(from), log_str(to));
	imap_tagged(s, "OK RENAME completed");
	return 0;
}

static int
subscribe(struct imap_session *s, const struct imap_arg *args,
    size_t nargs, int on)
{
	char name[MAILDIR_NAME_MAX + 1];

	if (one_mailbox(s, args, nargs, name, sizeof(name), on ?
	    "SUBSCRIBE mailbox" : "UNSUBSCRIBE mailbox") == -1)
		return -1;
	/* RFC 3501 §6.3.6: subscribing to a name that does not exist is
	 * allowed; we refuse it as most servers do, it only confuses. */
	if (on && !imap_acl_subscribable(s, name)) {	/* acl.c */
		imap_tagged(s, "NO [NONEXISTENT] No such mailbox");
		return 0;
	}
	if (mstore_subscribe(s->store, name, on) == -1)
		return imap_store_no(s, "subscribe");
	imap_tagged(s, "OK %s completed", on ? "SUBSCRIBE" : "UNSUBSCRIBE");
	return 0;
}

int
cmd_subscribe(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	return subscribe(s, args, nargs, 1);
}

int
cmd_unsubscribe(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	return subscribe(s, args, nargs, 0);
}

/* ---- STATUS ---- */

#define STATUS_MESSAGES		0x01
#define STATUS_RECENT		0x02
#define STATUS_UIDNEXT		0x04
#define STATUS_UIDVALIDITY	0x08
#define STATUS_UNSEEN		0x10
#define STATUS_HIGHESTMODSEQ	0x20
#define STATUS_SIZE		0x40	/* RFC 8438 */
#define STATUS_MAILBOXID	0x80	/* RFC 8474 §4.3 */
#define STATUS_DELETED		0x100	/* RFC 9208 §4.2.1 (QUOTA=RES-*) */
#define STATUS_DELETED_STORAGE	0x200

static const struct {
	const char	*name;
	unsigned int	 bit;
} status_items[] = {
	{ "MESSAGES", STATUS_MESSAGES }, { "RECENT", STATUS_RECENT },
	{ "UIDNEXT", STATUS_UIDNEXT }, { "UIDVALIDITY", STATUS_UIDVALIDITY },
	{ "UNSEEN", STATUS_UNSEEN }, { "HIGHESTMODSEQ", STATUS_HIGHESTMODSEQ },
	{ "SIZE", STATUS_SIZE }, { "MAILBOXID", STATUS_MAILBOXID },
	{ "DELETED", STATUS_DELETED },
	{ "DELETED-STORAGE", STATUS_DELETED_STORAGE },
};
#define NSTATUS (sizeof(status_items) / sizeof(status_items[0]))

static int
status_parse(const struct imap_session *s, const struct imap_arg *a,
    unsigned int *items)
{
	size_t i, k;

	*items = 0;
	if (a->type != IMAP_ARG_LIST || a->nlist == 0)
		return -1;
	for (i = 0; i < a->nlist; i++) {
		for (k = 0; k < NSTATUS; k++)
			if (imap_arg_atom_is(&a->list[i], status_items[k].name))
				break;
		/* RFC 9051 Appendix E item 12: not in rev2 */
		if (k == NSTATUS || (s->rev2 && status_items[k].bit ==
		    STATUS_RECENT))
			return -1;
		*items |= status_items[k].bit;
	}
	return 0;
}

/* "* STATUS name (...)"; 0, or -1 if the mailbox is not there. */
static int
status_reply(struct imap_session *s, const char *name, unsigned int items)
{
	struct mbox_status st;
	struct buf *b;
	const char *sep = "";
	char mbid[MAILDIR_OBJECTID_MAX + 1];
	uint64_t deleted_octets = 0;
	struct imap_mbref ref;
	size_t k;

	/* RFC 4314 §4: "r" (and a hidden folder stays hidden). */
	if (imap_mbref(s, name, &ref) == -1 || (ref.owner != NULL &&
	    !(ref.rights & ACL_R)))
		return -1;
	if (mstore_status(ref.st, ref.name, &st) == -1 ||
	    ((items & STATUS_MAILBOXID) && mstore_mailbox_id(ref.st, ref.name,
	    mbid) == -1) || ((items & STATUS_DELETED_STORAGE) &&
	    mstore_deleted_storage(ref.st, ref.name, &deleted_octets) == -1))
		return -1;
	b = imap_out(s);
	if (items & STATUS_HIGHESTMODSEQ)
		imap_condstore_use(s);	/* RFC 7162 §3.1 */
	buf_puts(b, "* STATUS ");
	imap_put_mailbox(s, b, name);
	buf_puts(b, " (");
	for (k = 0; k < NSTATUS; k++) {
		unsigned long long v;

		if (!(items & status_items[k].bit))
			continue;
		if (status_items[k].bit == STATUS_MAILBOXID) {
			buf_printf(b, "%sMAILBOXID (%s)", sep, mbid);
			sep = " ";
			continue;
		}
		switch (status_items[k].bit) {
		case STATUS_MESSAGES: v = st.messages; break;
		case STATUS_RECENT: v = st.recent; break;
		case STATUS_UIDNEXT: v = st.uidnext; break;
		case STATUS_UIDVALIDITY: v = st.uidvalidity; break;
		case STATUS_UNSEEN: v = st.unseen; break;
		case STATUS_HIGHESTMODSEQ: v = st.highestmodseq; break;
		case STATUS_DELETED: v = st.deleted; break;
		/* in QUOTA's STORAGE units, 1024 octets */
		case STATUS_DELETED_STORAGE: v = deleted_octets / 1024; break;
		default: v = st.size; break;
		}
		buf_printf(b, "%s%s %llu", sep, status_items[k].name, v);
		sep = " ";
	}
	buf_puts(b, ")\r\n");
	imap_out_done(s);
	return 0;
}

int
cmd_status(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	char name[MAILDIR_NAME_MAX + 1];
	unsigned int items;

	if (nargs != 2 || status_parse(s, &args[1], &items) == -1) {
		imap_tagged(s, "BAD Usage: STATUS mailbox (MESSAGES RECENT "
		    "UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ SIZE MAILBOXID "
		    "DELETED DELETED-STORAGE)");
		return -1;
	}
	if (imap_mailbox_arg(s, &args[0], name, sizeof(name)) == -1)
		return -1;
	/* The selected mailbox first catches up, so both agree. */
	if (s->mb != NULL && strcmp(mbox_name(s->mb), name) == 0)
		imap_view_update(s, 0);
	if (status_reply(s, name, items) == -1) {
		imap_tagged(s, "NO [NONEXISTENT] No such mailbox");
		return 0;
	}
	imap_tagged(s, "OK STATUS completed");
	return 0;
}

/* ---- LIST, LSUB ---- */

#define SEL_SUBSCRIBED	0x01
#define SEL_SPECIALUSE	0x02
#define SEL_RECURSIVE	0x04
#define RET_SUBSCRIBED	0x10
#define RET_CHILDREN	0x20
#define RET_SPECIALUSE	0x40
#define RET_STATUS	0x80
#define RET_MYRIGHTS	0x100	/* RFC 8440 */
#define RET_METADATA	0x200	/* RFC 9590 (cmd_metadata.c) */

struct list_ctx {
	struct imap_session *s;
	const char	*verb;		/* "LIST" or "LSUB" */
	char		**patterns;
	size_t		 npatterns;
	unsigned int	 opts;
	unsigned int	 status_items;
	struct imap_listmeta *meta;	/* RET_METADATA's entries */
	int		 lsub;
	char		**names;	/* every folder, sorted */
	unsigned int	*attrs;
	unsigned char	*matched;	/* names[i] matches a pattern */
	size_t		 n;
};

/*
 * '*' matches anything, '%' anything but the separator (§6.3.8).  By
 * rows of a table (pattern prefix x name prefix), so any number of
 * wildcards costs length(pattern) x length(name), never more: a
 * backtracking matcher is exponential on "*****b".
 */
static int
pattern_match(const char *p, const char *n)
{
	size_t nl = strlen(n), i, j;
	unsigned char *prev, *cur, *t;
	int r;

	prev = util_calloc(nl + 1, 1);
	cur = util_calloc(nl + 1, 1);
	prev[0] = 1;			/* "" matches "" */
	for (i = 0; p[i] != '\0'; i++) {
		cur[0] = prev[0] && (p[i] == '*' || p[i] == '%');
		for (j = 1; j <= nl; j++) {
			if (p[i] == '*')
				cur[j] = prev[j] || cur[j - 1];
			else if (p[i] == '%')
				cur[j] = prev[j] || (cur[j - 1] &&
				    n[j - 1] != MAILDIR_SEP);
			else
				cur[j] = prev[j - 1] && p[i] == n[j - 1];
		}
		t = prev;
		prev = cur;
		cur = t;
	}
	r = prev[nl];
	free(prev);
	free(cur);
	return r;
}

static int
list_matches(const struct list_ctx *lc, const char *name)
{
	char canon[MAILDIR_NAME_MAX * 2 + 2], utf8[MAILDIR_NAME_MAX * 2 + 1];
	size_t i;

	for (i = 0; i < lc->npatterns; i++) {
		util_strcpy(canon, lc->patterns[i], sizeof(canon));
		if (strncasecmp(canon, "INBOX", 5) == 0 && (canon[5] == '\0' ||
		    canon[5] == MAILDIR_SEP))
			memcpy(canon, "INBOX", 5);
		if (pattern_match(canon, imap_mailbox_for_match(lc->s, name,
		    utf8, sizeof(utf8))))
			return 1;
	}
	return 0;
}

void
imap_put_attr(struct buf *b, const char **sep, const char *attr)
{
	buf_printf(b, "%s%s", *sep, attr);
	*sep = " ";
}

void
imap_put_use_attrs(struct buf *b, const char **sep, unsigned int attrs)
{
	if (attrs & MFA_SENT)
		imap_put_attr(b, sep, "\\Sent");
	if (attrs & MFA_DRAFTS)
		imap_put_attr(b, sep, "\\Drafts");
	if (attrs & MFA_TRASH)
		imap_put_attr(b, sep, "\\Trash");
	if (attrs & MFA_JUNK)
		imap_put_attr(b, sep, "\\Junk");
	if (attrs & MFA_ARCHIVE)
		imap_put_attr(b, sep, "\\Archive");
}

/* Every folder, to look at them together (CHILDINFO needs children). */
static void
list_collect(const char *name, unsigned int attrs, void *arg)
{
	struct list_ctx *lc = arg;

	lc->names = realloc(lc->names, (lc->n + 1) * sizeof(*lc->names));
	lc->attrs = realloc(lc->attrs, (lc->n + 1) * sizeof(*lc->attrs));
	if (lc->names == NULL || lc->attrs == NULL)
		fatal("realloc");
	lc->names[lc->n] = util_strdup(name);
	lc->attrs[lc->n++] = attrs;
}

/* The user's own: names in the other users' namespace there are only
 * subscriptions, which imap_acl_list() gives with those folders. */
static void
list_collect_own(const char *name, unsigned int attrs, void *arg)
{
	if (!imap_acl_ns_name(name))
		list_collect(name, attrs, arg);
}

/*
 * Is names[i] listed?  The selection options pick the names (RFC 5258
 * §3.1); a name picked for its children only (CHILDINFO, or LSUB's
 * \Noselect parent) has to match a pattern too.
 */
static int
list_listed(const struct list_ctx *lc, size_t i, int childinfo)
{
	unsigned int attrs = lc->attrs[i];

	if (!lc->matched[i])
		return 0;
	if ((lc->opts & SEL_SPECIALUSE) && !(attrs & MFA_SPECIAL))
		return 0;
	if (lc->lsub || (lc->opts & SEL_SUBSCRIBED))
		return (attrs & MFA_SUBSCRIBED) || childinfo;
	return !(attrs & MFA_NONEXISTENT);
}

static int
list_below(const struct list_ctx *lc, size_t i, size_t j)
{
	size_t len = strlen(lc->names[i]);

	return strncmp(lc->names[j], lc->names[i], len) == 0 &&
	    lc->names[j][len] == MAILDIR_SEP;
}

/*
 * Has names[i] a subscribed name below it to tell of?  With
 * RECURSIVEMATCH that is CHILDINFO (RFC 5258 §3.5); for LSUB, a parent
 * that is not subscribed itself is listed as \Noselect: "if "foo/bar" is
 * subscribed but "foo" is not, a "%" wildcard to LSUB must return foo,
 * not foo/bar" (RFC 3501 §6.3.9).
 *
 * A subscribed name is listed anyway, and carries CHILDINFO whenever a
 * subscribed name is below it.  One that is not is listed for its
 * children only when one of them is not listed itself: RFC 5258 §3's
 * notes on RECURSIVEMATCH have servers suppress the redundant names (as
 * Dovecot does), so "*" or (a/b a/b/c) with only a/b/c subscribed list
 * a/b/c alone, and LSUB "" * gives foo/bar, not foo.
 */
static int
list_childinfo(const struct list_ctx *lc, size_t i)
{
	int self = (lc->attrs[i] & MFA_SUBSCRIBED) != 0;
	size_t j;

	if (!lc->lsub && (!(lc->opts & SEL_RECURSIVE) ||
	    !(lc->opts & SEL_SUBSCRIBED)))
		return 0;
	for (j = 0; j < lc->n; j++)
		if ((lc->attrs[j] & MFA_SUBSCRIBED) && list_below(lc, i, j) &&
		    (self || !list_listed(lc, j, 0)))
			return 1;
	return 0;
}

static void
list_reply(struct list_ctx *lc, size_t i, int childinfo)
{
	struct imap_session *s = lc->s;
	struct buf *b = imap_out(s);
	const char *sep = "", *name = lc->names[i];
	unsigned int attrs = lc->attrs[i];

	buf_printf(b, "* %s (", lc->verb);
	/* LSUB knows no more than \Noselect: not subscribed itself, or
	 * not there. */
	if (lc->lsub && ((attrs & (MFA_NONEXISTENT | MFA_NOSELECT)) ||
	    !(attrs & MFA_SUBSCRIBED)))
		imap_put_attr(b, &sep, "\\Noselect");
	else if (attrs & MFA_NONEXISTENT)
		imap_put_attr(b, &sep, "\\NonExistent");
	else if (attrs & MFA_NOSELECT)
		imap_put_attr(b, &sep, "\\Noselect");
	if (!lc->lsub && !(attrs & MFA_NONEXISTENT))
		imap_put_attr(b, &sep, attrs & MFA_CHILDREN ? "\\HasChildren" :
		    "\\HasNoChildren");
	if ((attrs & MFA_SUBSCRIBED) && !lc->lsub &&
	    (lc->opts & (RET_SUBSCRIBED | SEL_SUBSCRIBED)))
		imap_put_attr(b, &sep, "\\Subscribed");
	if (!lc->lsub)
		imap_put_use_attrs(b, &sep, attrs);
	buf_printf(b, ") \"%c\" ", MAILDIR_SEP);
	imap_put_mailbox(s, b, name);
	if (childinfo && !lc->lsub)
		buf_puts(b, " (\"CHILDINFO\" (\"SUBSCRIBED\"))");
	buf_puts(b, "\r\n");
	imap_out_done(s);
	/* RFC 5819: STATUS after the LIST line, for selectable ones. */
	if ((lc->opts & RET_STATUS) && !(attrs & (MFA_NOSELECT |
	    MFA_NONEXISTENT)))
		status_reply(s, name, lc->status_items);
	if ((lc->opts & RET_MYRIGHTS) && !(attrs & (MFA_NOSELECT |
	    MFA_NONEXISTENT)))
		imap_acl_list_myrights(s, name);	/* cmd_acl.c */
	if ((lc->opts & RET_METADATA) && !(attrs & (MFA_NOSELECT |
	    MFA_NONEXISTENT)))
		imap_listmeta_reply(s, lc->meta, name);
}

static int
list_selection(const struct imap_arg *a, unsigned int *opts)
{
	size_t i;

	for (i = 0; i < a->nlist; i++) {
		if (imap_arg_atom_is(&a->list[i], "SUBSCRIBED"))
			*opts |= SEL_SUBSCRIBED;
		else if (imap_arg_atom_is(&a->list[i], "SPECIAL-USE"))
			*opts |= SEL_SPECIALUSE;
		else if (imap_arg_atom_is(&a->list[i], "RECURSIVEMATCH"))
			*opts |= SEL_RECURSIVE;
		else if (!imap_arg_atom_is(&a->list[i], "REMOTE"))
			return -1;
	}
	/* RFC 5258 §3.1: RECURSIVEMATCH needs another option. */
	if ((*opts & SEL_RECURSIVE) && !(*opts & (SEL_SUBSCRIBED |
	    SEL_SPECIALUSE)))
		return -1;
	return 0;
}

static int
list_return(const struct imap_arg *a, struct list_ctx *lc)
{
	size_t i;

	if (a->type != IMAP_ARG_LIST)
		return -1;
	for (i = 0; i < a->nlist; i++) {
		if (imap_arg_atom_is(&a->list[i], "SUBSCRIBED"))
			lc->opts |= RET_SUBSCRIBED;
		else if (imap_arg_atom_is(&a->list[i], "CHILDREN"))
			lc->opts |= RET_CHILDREN;
		else if (imap_arg_atom_is(&a->list[i], "SPECIAL-USE"))
			lc->opts |= RET_SPECIALUSE;
		else if (imap_arg_atom_is(&a->list[i], "STATUS") &&
		    i + 1 < a->nlist &&
		    status_parse(lc->s, &a->list[i + 1], &lc->status_items) ==
		    0) {
			lc->opts |= RET_STATUS;
			i++;
		} else if (imap_arg_atom_is(&a->list[i], "MYRIGHTS"))
			lc->opts |= RET_MYRIGHTS;
		else if (imap_arg_atom_is(&a->list[i], "METADATA") &&
		    !(lc->opts & RET_METADATA) && i + 1 < a->nlist &&
		    imap_listmeta_parse(&a->list[i + 1], &lc->meta) == 0) {
			lc->opts |= RET_METADATA;
			i++;
		} else
			return -1;
	}
	return 0;
}

static void
list_free(struct list_ctx *lc)
{
	size_t i;

	for (i = 0; i < lc->npatterns; i++)
		free(lc->patterns[i]);
	free(lc->patterns);
	for (i = 0; i < lc->n; i++)
		free(lc->names[i]);
	free(lc->names);
	free(lc->attrs);
	free(lc->matched);
	if (lc->meta != NULL)
		imap_listmeta_free(&lc->meta);
}

/* ref + pattern, as RFC 3501 §6.3.8 joins them. */
static int
list_add_pattern(struct list_ctx *lc, const char *ref,
    const struct imap_arg *a)
{
	const char *pat = imap_arg_astring(a);
	char *joined;
	size_t len;

	if (pat == NULL || lc->npatterns >= 100 ||
	    strlen(pat) > MAILDIR_NAME_MAX || strlen(ref) > MAILDIR_NAME_MAX)
		return -1;
	len = strlen(ref) + strlen(pat) + 2;
	joined = util_calloc(1, len);
	if (ref[0] != '\0' && pat[0] != '\0' && ref[strlen(ref) - 1] !=
	    MAILDIR_SEP && pat[0] != MAILDIR_SEP)
		snprintf(joined, len, "%s%c%s", ref, MAILDIR_SEP, pat);
	else
		snprintf(joined, len, "%s%s", ref, pat);
	lc->patterns = realloc(lc->patterns, (lc->npatterns + 1) *
	    sizeof(*lc->patterns));
	if (lc->patterns == NULL)
		fatal("realloc");
	lc->patterns[lc->npatterns++] = joined;
	return 0;
}

static int
list_common(struct imap_session *s, const struct imap_arg *args,
    size_t nargs, int lsub)
{
	struct list_ctx lc;
	const char *ref;
	size_t i = 0, k;

	memset(&lc, 0, sizeof(lc));
	lc.s = s;
	lc.lsub = lsub;
	lc.verb = lsub ? "LSUB" : "LIST";
	if (!lsub && nargs > 0 && args[0].type == IMAP_ARG_LIST) {
		if (list_selection(&args[0], &lc.opts) == -1)
			goto bad;
		i = 1;
	}
	if (nargs < i + 2 || (ref = imap_arg_astring(&args[i])) == NULL)
		goto bad;
	if (args[i + 1].type == IMAP_ARG_LIST && !lsub) {
		for (k = 0; k < args[i + 1].nlist; k++)
			if (list_add_pattern(&lc, ref, &args[i + 1].list[k]) ==
			    -1)
				goto bad;
	} else if (list_add_pattern(&lc, ref, &args[i + 1]) == -1)
		goto bad;
	i += 2;
	if (i < nargs) {
		if (lsub || !imap_arg_atom_is(&args[i], "RETURN") ||
		    i + 2 != nargs || list_return(&args[i + 1], &lc) == -1)
			goto bad;
	}
	/* LIST "" "": the hierarchy separator and root (§6.3.8). */
	if (!lsub && lc.npatterns == 1 && lc.patterns[0][0] == '\0') {
		imap_untagged(s, "LIST (\\Noselect) \"%c\" \"\"", MAILDIR_SEP);
	} else if (mstore_list(s->store, list_collect_own, &lc) == -1) {
		list_free(&lc);
		return imap_store_no(s, "list");
	} else		/* other users' folders shared with us (acl.c) */
		imap_acl_list(s, list_collect, &lc);
	lc.matched = util_calloc(lc.n + 1, 1);
	for (k = 0; k < lc.n; k++)
		lc.matched[k] = list_matches(&lc, lc.names[k]);
	for (k = 0; k < lc.n; k++) {
		int childinfo = lc.matched[k] && list_childinfo(&lc, k);

		if (list_listed(&lc, k, childinfo))
			list_reply(&lc, k, childinfo);
	}
	if (lc.meta != NULL)
		imap_listmeta_tagged(s, lc.meta);
	else
		imap_tagged(s, "OK %s completed", lc.verb);
	list_free(&lc);
	return 0;
bad:
	list_free(&lc);
	imap_tagged(s, "BAD Usage: %s", lsub ? "LSUB reference pattern" :
	    "LIST [(options)] reference pattern [RETURN (options)]");
	return -1;
}

int
cmd_list(struct imap_session *s, const struct imap_arg *args, size_t nargs)
{
	return list_common(s, args, nargs, 0);
}

int
cmd_lsub(struct imap_session *s, const struct imap_arg *args, size_t nargs)
{
	if (rev2_removed(s, "LIST (SUBSCRIBED)"))	/* RFC 9051 */
		return -1;
	return list_common(s, args, nargs, 1);
}

int
imap_list_one(struct imap_session *s, const char *name)
{
	struct list_ctx lc;
	struct imap_mbref ref;
	unsigned int attrs;

	/* One folder's attributes, not all folders listed: a SELECT of a
	 * user with 500 folders took 10 ms more with mstore_list().  A
	 * shared folder's are in its owner's store. */
	if (imap_mbref(s, name, &ref) == -1 ||
	    mstore_attrs(ref.st, ref.name, &attrs) == -1)
		return -1;
	memset(&lc, 0, sizeof(lc));
	lc.s = s;
	lc.verb = "LIST";
	list_collect(name, attrs, &lc);
	list_reply(&lc, 0, 0);
	list_free(&lc);
	return 0;
}
