/*
 * view.c: the selected mailbox as this session has told the client
 * about it (RFC 3501 §2.3.1.2): message sequence numbers, \Recent, and
 * the catch-up that reports what other sessions changed (EXISTS,
 * EXPUNGE or VANISHED, FETCH FLAGS).
 */
#include <stdlib.h>
#include <string.h>

#include "../lib/log.h"
#include "context.h"
#include "session.h"
#include "acl.h"

void
imap_view_free(struct view *v)
{
	free(v->msgs);
	free(v->own);
	free(v->keywords);
	memset(v, 0, sizeof(*v));
}

uint32_t
view_seq(const struct view *v, uint32_t uid)
{
	size_t lo = 0, hi = v->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v->msgs[mid].uid == uid)
			return (uint32_t)mid + 1;
		if (v->msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

void
view_own_change(struct view *v, uint32_t uid, uint64_t modseq)
{
	if (v->nown == v->capown) {
		v->capown = v->capown ? v->capown * 2 : 16;
		v->own = realloc(v->own, v->capown * sizeof(*v->own));
		if (v->own == NULL)
			fatal("realloc");
	}
	v->own[v->nown].uid = uid;
	v->own[v->nown].modseq = modseq;
	v->nown++;
}

static int
own_cmp(const void *a, const void *b)
{
	const struct own_change *x = a, *y = b;

	if (x->uid != y->uid)
		return x->uid < y->uid ? -1 : 1;
	return x->modseq < y->modseq ? -1 : x->modseq > y->modseq;
}

static void
view_own_forget(struct view *v)
{
	free(v->own);
	v->own = NULL;
	v->nown = v->capown = 0;
}

static void
view_append(struct view *v, uint32_t uid, unsigned int flags)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 64;
		v->msgs = realloc(v->msgs, v->cap * sizeof(*v->msgs));
		if (v->msgs == NULL)
			fatal("realloc");
	}
	v->msgs[v->n].uid = uid;
	v->msgs[v->n].flags = flags;
	v->n++;
}

static void
view_remove(struct view *v, uint32_t seq)
{
	memmove(&v->msgs[seq - 1], &v->msgs[seq], (v->n - seq) *
	    sizeof(*v->msgs));
	v->n--;
}

struct load_arg {
	struct imap_session *s;
	uint32_t	 after;		/* only UIDs above this */
	int		 announce;	/* new keywords go out in FLAGS */
};

static int
load_cb(const struct mmsg *m, void *arg)
{
	struct load_arg *la = arg;

	if (m->uid <= la->after)
		return 0;
	view_append(&la->s->view, m->uid, m->flags);
	if (la->announce)
		imap_view_keywords(la->s, m->keywords);
	return 0;
}

/* Send FLAGS and PERMANENTFLAGS with these keywords (taken over). */
static void
view_flags_send(struct imap_session *s, char *kw)
{
	struct buf *b = imap_out(s);

	free(s->view.keywords);
	s->view.keywords = kw;
	buf_printf(b, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen "
	    "\\Draft%s%s)\r\n", kw[0] ? " " : "", kw);
	if (s->readonly)
		buf_puts(b, "* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n");
	else if ((s->rights & ACL_FLAG_RIGHTS) != ACL_FLAG_RIGHTS)
		imap_acl_permanentflags(s, b, kw);	/* RFC 4314 §5.1.1 */
	else
		buf_printf(b, "* OK [PERMANENTFLAGS (\\Answered \\Flagged "
		    "\\Deleted \\Seen \\Draft%s%s \\*)] Flags permitted\r\n",
		    kw[0] ? " " : "", kw);
}

/* FLAGS and PERMANENTFLAGS with every keyword the mailbox uses. */
static void
view_flags_reply(struct imap_session *s)
{
	char *kw = mbox_keywords(s->mb);

	view_flags_send(s, kw != NULL ? kw : util_strdup(""));
}

void
imap_view_keywords(struct imap_session *s, const char *added)
{
	const char *known = s->view.keywords ? s->view.keywords : "";
	char *kw;

	if (added == NULL || added[0] == '\0')
		return;
	kw = keyword_combine(known, added, '+');
	if (strcmp(kw, known) != 0)
		view_flags_send(s, kw);
	else
		free(kw);
}

/* Add UIDs first..last to the \Recent ones of the view, in order. */
static void
view_add_recent(struct view *v, uint32_t first, uint32_t last)
{
	struct seq_range *r;

	if (v->nrecent > 0) {
		r = &v->recent[v->nrecent - 1];
		/* A read-only view peeks again at what it saw before. */
		if (first <= r->hi + 1) {
			if (last > r->hi)
				r->hi = last;
			return;
		}
	}
	if (v->nrecent == sizeof(v->recent) / sizeof(v->recent[0])) {
		/* Forget the oldest: bounded memory beats perfect
		 * \Recent for a session that saw so many deliveries. */
		memmove(&v->recent[0], &v->recent[1], (v->nrecent - 1) *
		    sizeof(v->recent[0]));
		v->nrecent--;
	}
	v->recent[v->nrecent].lo = first;
	v->recent[v->nrecent].hi = last;
	v->nrecent++;
}

/*
 * Take the messages no session has seen yet as \Recent to this one.  A
 * read-only session sees them as \Recent too but leaves them to the next
 * SELECT: EXAMINE returns SELECT's untagged data and changes nothing, the
 * \Recent flags included (RFC 3501 §6.3.2).
 */
static void
view_claim_recent(struct imap_session *s)
{
	uint32_t first, end;

	/* RFC 9051 has no \Recent: leave them to a session of rev1. */
	if (s->rev2)
		return;
	if (s->readonly)
		first = mbox_peek_recent(s->mb, &end);
	else
		first = mbox_claim_recent(s->mb, &end);
	if (first < end)
		view_add_recent(&s->view, first, end - 1);
}

int
imap_view_load(struct imap_session *s)
{
	struct mbox_status st;
	struct load_arg la = { s, 0, 0 };

	imap_view_free(&s->view);
	if (mbox_get_status(s->mb, &st) == -1)
		return -1;
	s->view.uidvalidity = st.uidvalidity;
	s->view.uidnext = st.uidnext;
	s->view.modseq = s->view.expunge_modseq = st.highestmodseq;
	if (mbox_messages(s->mb, 1, UINT32_MAX, 0, 0, load_cb, &la) == -1)
		return -1;
	view_claim_recent(s);
	view_flags_reply(s);
	return 0;
}

int
view_is_recent(const struct view *v, uint32_t uid)
{
	size_t i;

	for (i = 0; i < v->nrecent; i++)
		if (uid >= v->recent[i].lo && uid <= v->recent[i].hi)
			return 1;
	return 0;
}

uint32_t
view_recent(const struct view *v)
{
	uint32_t n = 0;
	size_t i;

	for (i = 0; i < v->n; i++)
		n += view_is_recent(v, v->msgs[i].uid);
	return n;
}

static void
vanished_cb(uint32_t uid, void *arg)
{
	struct imap_session *s = arg;
	uint32_t seq = view_seq(&s->view, uid);

	if (seq == 0)
		return;
	context_expunge(s, uid);	/* RFC 5267 §4.3.4: before it */
	view_remove(&s->view, seq);
	if (s->qresync)
		imap_untagged(s, "VANISHED %u", uid);
	else
		imap_untagged(s, "%u EXPUNGE", seq);
	s->nexpunge++;
}


void
imap_fetch_flags(struct imap_session *s, uint32_t seq, uint32_t uid,
    unsigned int flags, const char *keywords, uint64_t modseq,
    unsigned int how)
{
	struct buf *b = imap_out(s);
	int with_flags = (how & FETCH_WITH_FLAGS) != 0;
	const char *sep = "";

	buf_printf(b, "* %u FETCH (", seq);
	/* Unsolicited ones carry the UID once mod-sequences are in play
	 * (RFC 7162 §3.2.4); answers to UID commands always do. */
	if (s->uid_cmd || ((how & FETCH_UNSOLICITED) && (s->condstore ||
	    s->rev2))) {	/* RFC 9051 §7.5.2 */
		buf_printf(b, "UID %u", uid);
		sep = " ";
	}
	if (with_flags) {
		buf_printf(b, "%sFLAGS ", sep);
		imap_put_flags(b, flags, keywords, view_is_recent(&s->view,
		    uid));
		sep = " ";
	}
	if (s->condstore)
		buf_printf(b, "%sMODSEQ (%llu)", sep,
		    (unsigned long long)modseq);
	buf_puts(b, ")\r\n");
	imap_out_done(s);
}

static int
changed_cb(const struct mmsg *m, void *arg)
{
	struct imap_session *s = arg;
	struct own_change key;
	uint32_t seq = view_seq(&s->view, m->uid);

	if (seq == 0)
		return 0;
	key.uid = m->uid;
	key.modseq = m->modseq;
	if (s->view.nown > 0 && bsearch(&key, s->view.own, s->view.nown,
	    sizeof(key), own_cmp) != NULL)
		return 0;	/* this session reported it already */
	s->view.msgs[seq - 1].flags = m->flags;
	/* New keywords are announced before a FETCH shows them (RFC 3501
	 * §7.2.6). */
	imap_view_keywords(s, m->keywords);
	imap_fetch_flags(s, seq, m->uid, m->flags, m->keywords, m->modseq,
	    FETCH_WITH_FLAGS | FETCH_UNSOLICITED);
	return 0;
}

int
imap_view_update(struct imap_session *s, int allow_expunge)
{
	uint64_t highestmodseq;
	uint32_t uidnext;
	struct load_arg la = { s, 0, 1 };
	uint32_t last_uid;
	size_t n_before;

	if (s->mb == NULL)
		return 0;
	if (mbox_sync(s->mb) == -1 || mbox_get_modseq(s->mb, &uidnext,
	    &highestmodseq) == -1)
		return -1;
	if (allow_expunge && highestmodseq > s->view.expunge_modseq) {
		if (mbox_vanished(s->mb, s->view.expunge_modseq, vanished_cb,
		    s) == -1)
			return -1;
		s->view.expunge_modseq = highestmodseq;
	}
	if (highestmodseq <= s->view.modseq && uidnext == s->view.uidnext)
		return 0;
	last_uid = s->view.n > 0 ? s->view.msgs[s->view.n - 1].uid : 0;
	if (s->view.nown > 1)
		qsort(s->view.own, s->view.nown, sizeof(*s->view.own),
		    own_cmp);
	if (s->view.n > 0 && mbox_messages(s->mb, 1, last_uid,
	    s->view.modseq, 0, changed_cb, s) == -1)
		return -1;
	n_before = s->view.n;
	la.after = last_uid;
	if (mbox_messages(s->mb, last_uid + 1, UINT32_MAX, 0, 0, load_cb,
	    &la) == -1)
		return -1;
	if (s->view.n != n_before) {
		view_claim_recent(s);
		imap_untagged(s, "%zu EXISTS", s->view.n);
		if (!s->rev2)	/* RFC 9051 Appendix E item 12 */
			imap_untagged(s, "%u RECENT", view_recent(&s->view));
	}
	/* RFC 5267 §4.3.3: ADDTO after the EXISTS */
	if (context_refresh(s) == -1)
		return -1;
	s->view.modseq = highestmodseq;
	s->view.uidnext = uidnext;
	view_own_forget(&s->view);
	return 0;
}

struct vanished_arg {
	const struct seqset *only;
	uint32_t	*uids;
	size_t		 n, cap;
};

static void
vanished_earlier_cb(uint32_t uid, void *arg)
{
	struct vanished_arg *va = arg;

	if (va->only != NULL && !seqset_contains(va->only, uid))
		return;
	if (va->n == va->cap) {
		va->cap = va->cap ? va->cap * 2 : 64;
		if ((va->uids = realloc(va->uids, va->cap * sizeof(*va->uids)))
		    == NULL)
			fatal("realloc");
	}
	va->uids[va->n++] = uid;
}

int
imap_vanished_earlier(struct imap_session *s, uint64_t since,
    const struct seqset *only)
{
	struct vanished_arg va = { only, NULL, 0, 0 };
	struct buf *b = imap_out(s);

	if (mbox_vanished(s->mb, since, vanished_earlier_cb, &va) == -1)
		return -1;
	if (va.n > 0) {
		buf_puts(b, "* VANISHED (EARLIER) ");
		seqset_format(b, va.uids, va.n);
		buf_puts(b, "\r\n");
		imap_out_done(s);
	}
	free(va.uids);
	return 0;
}

void
imap_mailbox_lost(struct imap_session *s)
{
	if (!mstore_exists(mbox_store(s->mb), mbox_name(s->mb))) {
		/* Deleted or renamed by another session: RFC 2180 §3
		 * lets us end this one. */
		log_info("sid=%s user=%s mailbox %s gone, disconnecting", s->id,
		    s->user, log_str(mbox_name(s->mb)));
		imap_untagged(s, "BYE The selected mailbox was deleted or "
		    "renamed by another session");
	} else {
		log_err("sid=%s mailbox update: %s", s->id,
		    mstore_error(mbox_store(s->mb)));
		imap_untagged(s, "BYE [SERVERBUG] Cannot read the mailbox");
	}
	imap_set_state(s, ST_LOGOUT);
}

void
imap_unselect(struct imap_session *s)
{
	if (s->mb != NULL)
		mbox_close(&s->mb);
	context_free_all(s);	/* RFC 5267 §4.3: updates end */
	imap_view_free(&s->view);
	searchres_clear(s);	/* RFC 5182 §2.1: no "$" in the next one */
	if (s->state == ST_SELECTED)
		imap_set_state(s, ST_AUTH);
}

int
imap_set_resolve(struct imap_session *s, const char *text, int uid,
    uint32_t **seqs_r, size_t *n_r)
{
	struct seqset set;
	struct view *v = &s->view;
	uint32_t *seqs, star, seq;
	size_t i, n = 0;

	if (strcmp(text, "$") == 0) {	/* RFC 5182 §2.2: the saved result */
		searchres_seqs(s, seqs_r, n_r);
		return 0;
	}
	star = uid ? (v->n > 0 ? v->msgs[v->n - 1].uid : 0) : (uint32_t)v->n;
	if (seqset_parse(text, star, &set) == -1) {
		imap_tagged(s, "BAD Invalid %s set", uid ? "UID" : "sequence");
		return -1;
	}
	seqs = util_calloc(v->n + 1, sizeof(*seqs));
	if (uid) {
		/* RFC 3501 §6.4.8: UIDs in the set that do not exist are
		 * ignored. */
		for (i = 0; i < v->n; i++)
			if (seqset_contains(&set, v->msgs[i].uid))
				seqs[n++] = (uint32_t)i + 1;
	} else {
		for (i = 0; i < set.n; i++) {
			if (set.r[i].hi > v->n) {
				seqset_free(&set);
				free(seqs);
				imap_tagged(s, "BAD Invalid message sequence "
				    "number");
				return -1;
			}
			for (seq = set.r[i].lo; seq <= set.r[i].hi; seq++)
				seqs[n++] = seq;
		}
	}
	seqset_free(&set);
	*seqs_r = seqs;
	*n_r = n;
	return 0;
}

void
imap_condstore_use(struct imap_session *s)
{
	if (s->condstore)
		return;
	s->condstore = 1;
	if (s->mb != NULL)
		imap_untagged(s, "OK [HIGHESTMODSEQ %llu] Highest",
		    (unsigned long long)s->view.modseq);
}
