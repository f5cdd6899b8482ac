/*
 * Commands of the selected state (RFC 3501 §6.4) but FETCH: CHECK,
 * CLOSE, UNSELECT (RFC 3691), EXPUNGE and UID EXPUNGE (RFC 4315),
 * SEARCH with ESEARCH (RFC 4731), STORE with UNCHANGEDSINCE (RFC 7162),
 * COPY and MOVE (RFC 6851) with COPYUID (RFC 4315), and UID.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../global/mime.h"
#include "../lib/log.h"
#include "context.h"
#include "notify.h"
#include "session.h"
#include "acl.h"

/* The current flags and keywords of some messages, from the index. */
struct cur_msg {
	uint32_t	 seq, uid;
	unsigned int	 flags;
	char		*keywords;
	uint64_t	 modseq;
};

struct cur_arg {
	struct imap_session *s;
	struct cur_msg	*v;
	size_t		 n;
	const uint32_t	*want;		/* sequence numbers, ascending */
	size_t		 nwant, next;
};

static int
cur_cb(const struct mmsg *m, void *arg)
{
	struct cur_arg *ca = arg;
	uint32_t seq = view_seq(&ca->s->view, m->uid);

	while (ca->next < ca->nwant && ca->want[ca->next] < seq)
		ca->next++;
	if (seq == 0 || ca->next == ca->nwant || ca->want[ca->next] != seq)
		return 0;
	ca->v[ca->n].seq = seq;
	ca->v[ca->n].uid = m->uid;
	ca->v[ca->n].flags = m->flags;
	ca->v[ca->n].keywords = util_strdup(m->keywords ? m->keywords : "");
	ca->v[ca->n].modseq = m->modseq;
	ca->n++;
	return 0;
}

static int
cur_load(struct imap_session *s, const uint32_t *seqs, size_t n,
    struct cur_msg **v_r, size_t *n_r)
{
	struct cur_arg ca = { s, NULL, 0, seqs, n, 0 };

	*v_r = NULL;
	*n_r = 0;
	if (n == 0)
		return 0;
	ca.v = util_calloc(n, sizeof(*ca.v));
	if (mbox_messages(s->mb, s->view.msgs[seqs[0] - 1].uid,
	    s->view.msgs[seqs[n - 1] - 1].uid, 0, 0, cur_cb, &ca) == -1) {
		free(ca.v);
		return -1;
	}
	*v_r = ca.v;
	*n_r = ca.n;
	return 0;
}

static void
cur_free(struct cur_msg *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].keywords);
	free(v);
}

/* ---- STORE ---- */

/*
 * Change the flags of messages: op '+', '-' or '='.  Reports FETCH for
 * each change (only MODSEQ when silent == 1 and CONDSTORE is on, RFC
 * 7162 §3.1.3; nothing when silent == 2); UIDs (or numbers) refused by
 * unchangedsince go to modified.
 */
int
imap_store_flags(struct imap_session *s, const uint32_t *seqs, size_t n,
    char op, unsigned int flags, const char *keywords,
    uint64_t unchangedsince, int silent, struct buf *modified)
{
	struct cur_msg *cur;
	struct view_msg *vm;
	unsigned int nf;
	uint64_t modseq;
	size_t ncur, i;
	char *nk;
	int r;

	if (cur_load(s, seqs, n, &cur, &ncur) == -1 ||
	    mstore_begin(mbox_store(s->mb)) == -1)	/* maybe shared */
		return -1;
	for (i = 0; i < ncur; i++) {
		nf = op == '+' ? cur[i].flags | flags : op == '-' ?
		    cur[i].flags & ~flags : flags;
		/* RFC 4314 §4: "=" leaves what the rights do not let this
		 * user change (all rights on one's own folders). */
		if (op == '=' && (s->rights & ACL_FLAG_RIGHTS) !=
		    ACL_FLAG_RIGHTS)
			nf = (cur[i].flags & ~imap_acl_flag_mask(s->rights)) |
			    (nf & imap_acl_flag_mask(s->rights));
		nk = op == '=' && !(s->rights & ACL_W) ?
		    util_strdup(cur[i].keywords) :
		    keyword_combine(cur[i].keywords, keywords, op);
		r = mbox_set_flags(s->mb, cur[i].uid, nf, nk, unchangedsince,
		    &modseq);
		if (r == -1 && mstore_errclass(mbox_store(s->mb)) ==
		    MSTORE_ENOTFOUND) {
			free(nk);
			continue;	/* expunged meanwhile */
		}
		if (r == -1) {
			free(nk);
			mstore_rollback(mbox_store(s->mb));
			cur_free(cur, ncur);
			return -1;
		}
		if (r == 2) {
			if (modified != NULL)
				buf_printf(modified, "%s%u", modified->len ?
				    "," : "", s->uid_cmd ? cur[i].uid :
				    cur[i].seq);
		} else if (r == 1 || !silent) {
			vm = &s->view.msgs[cur[i].seq - 1];
			vm->flags = nf;
			if (r == 1)
				view_own_change(&s->view, cur[i].uid, modseq);
			if (!silent || (s->condstore && silent == 1))
				imap_fetch_flags(s, cur[i].seq, cur[i].uid,
				    nf, nk, modseq, silent ? 0 :
				    FETCH_WITH_FLAGS);
		}
		free(nk);
	}
	cur_free(cur, ncur);
	return mstore_commit(mbox_store(s->mb));
}

int
cmd_store(struct imap_session *s, const struct imap_arg *args, size_t nargs)
{
	uint64_t unchangedsince = 0;
	unsigned int flags;
	char *keywords = NULL, op = '=', item[32];
	const char *why, *p;
	struct buf modified;
	uint32_t *seqs;
	size_t n, i = 1;
	int silent = 0, r;

	if (nargs < 3 || args[0].type != IMAP_ARG_ATOM)
		goto usage;
	if (args[1].type == IMAP_ARG_LIST) {	/* (UNCHANGEDSINCE n) */
		if (args[1].nlist != 2 || !imap_arg_atom_is(&args[1].list[0],
		    "UNCHANGEDSINCE") || imap_arg_number(&args[1].list[1],
		    INT64_MAX, &unchangedsince) == -1)
			goto usage;
		imap_condstore_use(s);
		i = 2;
	}
	if (nargs != i + 2 || args[i].type != IMAP_ARG_ATOM ||
	    util_strcpy(item, args[i].str, sizeof(item)) == -1)
		goto usage;
	p = item;
	if (*p == '+' || *p == '-')
		op = *p++;
	if (strncasecmp(p, "FLAGS", 5) != 0 || (p[5] != '\0' &&
	    strcasecmp(p + 5, ".SILENT") != 0))
		goto usage;
	silent = p[5] != '\0';
	if (imap_parse_flags(&args[i + 1], &flags, &keywords, &why) == -1) {
		imap_tagged(s, "BAD %s", why);
		return -1;
	}
	if (s->readonly) {
		free(keywords);
		imap_tagged(s, "NO [READ-ONLY] Mailbox is read-only");
		return 0;
	}
	/* RFC 4314 §4: "s" for \Seen, "t" for \Deleted, "w" for the rest
	 * (acl.c); what the rights do not allow is left as it is, and only
	 * a STORE that can change nothing fails. */
	if (imap_acl_store_filter(s, op, &flags, keywords) == -1) {
		free(keywords);
		imap_tagged(s, "NO [NOPERM] Permission denied");
		return 0;
	}
	if (imap_set_resolve(s, args[0].str, s->uid_cmd, &seqs, &n) == -1) {
		free(keywords);
		return -1;
	}
	buf_init(&modified, 0);
	buf_puts(&modified, "");
	if (args[1].type == IMAP_ARG_LIST && unchangedsince == 0) {
		/* UNCHANGEDSINCE 0: no message has a mod-sequence that low,
		 * so every one fails the test (RFC 7162 §3.1.3). */
		for (size_t k = 0; k < n; k++)
			buf_printf(&modified, "%s%u", k ? "," : "", s->uid_cmd ?
			    s->view.msgs[seqs[k] - 1].uid : seqs[k]);
		r = 0;
	} else {
		if (op != '-')
			imap_view_keywords(s, keywords);
		r = imap_store_flags(s, seqs, n, op, flags, keywords,
		    unchangedsince, silent, &modified);
	}
	free(seqs);
	free(keywords);
	if (r == -1)
		imap_store_no(s, "store");
	else if (modified.len > 0)
		imap_tagged(s, "OK [MODIFIED %s] Conditional STORE failed",
		    modified.data);
	else
		imap_tagged(s, "OK STORE completed");
	buf_release(&modified);
	return 0;
usage:
	imap_tagged(s, "BAD Usage: STORE set [(UNCHANGEDSINCE n)] "
	    "[+-]FLAGS[.SILENT] (flags)");
	return -1;
}

/* ---- EXPUNGE, CLOSE, UNSELECT, CHECK ---- */

struct deleted_arg {
	struct seqset	*only;		/* UID EXPUNGE's set, or NULL */
	uint32_t	*uids;
	size_t		 n, cap;
};

static int
deleted_cb(const struct mmsg *m, void *arg)
{
	struct deleted_arg *da = arg;

	if (!(m->flags & MF_DELETED) || (da->only != NULL &&
	    !seqset_contains(da->only, m->uid)))
		return 0;
	if (da->n == da->cap) {
		da->cap = da->cap ? da->cap * 2 : 64;
		if ((da->uids = realloc(da->uids, da->cap *
		    sizeof(*da->uids))) == NULL)
			fatal("realloc");
	}
	da->uids[da->n++] = m->uid;
	return 0;
}

/* Remove the \Deleted messages (of only, if given).  0 or -1. */
static int
expunge_deleted(struct imap_session *s, struct seqset *only)
{
	struct deleted_arg da = { only, NULL, 0, 0 };
	int r;

	if (mbox_messages(s->mb, 1, UINT32_MAX, 0, 0, deleted_cb, &da) == -1)
		return -1;
	r = mbox_expunge(s->mb, da.uids, da.n);
	if (r == 0 && da.n > 0)
		log_info("sid=%s user=%s expunge mailbox=%s count=%zu", s->id,
		    s->user, log_str(mbox_name(s->mb)), da.n);
	free(da.uids);
	return r;
}

int
cmd_expunge(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	struct seqset set;
	uint32_t star;
	int r;

	if (nargs != (s->uid_cmd ? 1u : 0u) || (s->uid_cmd &&
	    args[0].type != IMAP_ARG_ATOM)) {
		imap_tagged(s, "BAD Usage: %s", s->uid_cmd ?
		    "UID EXPUNGE uid-set" : "EXPUNGE");
		return -1;
	}
	if (s->readonly) {
		imap_tagged(s, "NO [READ-ONLY] Mailbox is read-only");
		return 0;
	}
	if (!(s->rights & ACL_E)) {		/* RFC 4314 §4 */
		imap_tagged(s, "NO [NOPERM] Permission denied");
		return 0;
	}
	if (s->uid_cmd && strcmp(args[0].str, "$") == 0)
		searchres_uidset(s, &set);	/* RFC 5182 §2.2 */
	else if (s->uid_cmd) {
		star = s->view.n ? s->view.msgs[s->view.n - 1].uid : 0;
		if (seqset_parse(args[0].str, star, &set) == -1) {
			imap_tagged(s, "BAD Invalid UID set");
			return -1;
		}
	}
	r = expunge_deleted(s, s->uid_cmd ? &set : NULL);
	if (s->uid_cmd)
		seqset_free(&set);
	if (r == -1)
		return imap_store_no(s, "expunge");
	imap_tagged(s, "OK EXPUNGE completed");
	return 0;
}

int
cmd_close(struct imap_session *s, const struct imap_arg *args, size_t nargs)
{
	(void)args;
	if (imap_no_args(s, nargs) == -1)
		return -1;
	/* RFC 3501 §6.4.2: expunge silently, unless read-only. */
	/* RFC 4314 §4: without "e" the expunge is skipped, silently. */
	if (!s->readonly && (s->rights & ACL_E) && expunge_deleted(s,
	    NULL) == -1)
		log_err("sid=%s close: %s", s->id,
		    mstore_error(mbox_store(s->mb)));
	imap_unselect(s);
	imap_tagged(s, "OK CLOSE completed");
	return 0;
}

int
cmd_unselect(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	(void)args;
	if (imap_no_args(s, nargs) == -1)
		return -1;
	imap_unselect(s);
	imap_tagged(s, "OK UNSELECT completed");
	return 0;
}

int
cmd_check(struct imap_session *s, const struct imap_arg *args, size_t nargs)
{
	(void)args;
	if (rev2_removed(s, "NOOP"))		/* RFC 9051 Appendix E */
		return -1;
	if (imap_no_args(s, nargs) == -1)
		return -1;
	imap_tagged(s, "OK CHECK completed");	/* every change is durable */
	return 0;
}

/* ---- COPY, MOVE ---- */

static int
copy_common(struct imap_session *s, const struct imap_arg *args,
    size_t nargs, int move)
{
	char name[MAILDIR_NAME_MAX + 1];
	struct mbox *dst = NULL;
	struct mbox_status st;
	uint32_t *seqs, *src_uids, *dst_uids;
	size_t n, i, done = 0;
	struct buf code;
	const char *no;
	unsigned int rights;
	int failed = 0;

	if (nargs != 2 || args[0].type != IMAP_ARG_ATOM) {
		imap_tagged(s, "BAD Usage: %s set mailbox", move ? "MOVE" :
		    "COPY");
		return -1;
	}
	if (imap_mailbox_arg(s, &args[1], name, sizeof(name)) == -1)
		return -1;
	if (move && s->readonly) {
		imap_tagged(s, "NO [READ-ONLY] Mailbox is read-only");
		return 0;
	}
	/* MOVE takes from the source what STORE \Deleted and EXPUNGE would
	 * (RFC 6851 §3.3, RFC 4314 §4: "t" and "e"). */
	if (move && (s->rights & (ACL_T | ACL_E)) != (ACL_T | ACL_E)) {
		imap_tagged(s, "NO [NOPERM] Permission denied");
		return 0;
	}
	if (imap_set_resolve(s, args[0].str, s->uid_cmd, &seqs, &n) == -1)
		return -1;
	/* RFC 4314 §4: "i" on the target (acl.c). */
	if (imap_acl_open(s, name, ACL_I, 1, &dst, &rights, &no) == -1) {
		free(seqs);
		imap_tagged(s, "%s", no);
		return 0;
	}
	src_uids = util_calloc(n + 1, sizeof(*src_uids));
	dst_uids = util_calloc(n + 1, sizeof(*dst_uids));
	for (i = 0; i < n; i++) {
		uint32_t uid = s->view.msgs[seqs[i] - 1].uid;

		if (mbox_copy(s->mb, uid, dst, &dst_uids[done]) == -1) {
			if (mstore_errclass(mbox_store(s->mb)) ==
			    MSTORE_ENOTFOUND)
				continue;	/* expunged meanwhile */
			log_err("sid=%s copy: %s", s->id,
			    mstore_error(s->store));
			failed = 1;
			break;
		}
		imap_acl_copy_flags(s, dst, rights, uid, dst_uids[done]);
		src_uids[done++] = uid;
	}
	/* RFC 9208 §4.3.1: a COPY that took the target's quota root (its
	 * owner's, for a shared folder) over its limits is undone; a MOVE
	 * within one owner's folders adds nothing to its usage. */
	if (!failed && done > 0 && (!move || mbox_store(dst) !=
	    mbox_store(s->mb)) && imap_quota_over(s, mbox_store(dst), 0, 0))
		failed = 2;
	buf_init(&code, 0);
	buf_puts(&code, "");
	if (!failed && done > 0 && mbox_get_status(dst, &st) == 0) {
		buf_printf(&code, "[COPYUID %u ", st.uidvalidity);
		seqset_format(&code, src_uids, done);
		buf_putc(&code, ' ');
		seqset_format(&code, dst_uids, done);
		buf_puts(&code, "] ");
	}
	if (failed == 2) {
		mbox_expunge(dst, dst_uids, done);
		imap_tagged(s, "NO [OVERQUOTA] Quota exceeded");
	} else if (failed) {
		/* RFC 3501 §6.4.7: COPY is all or nothing. */
		enum mstore_err e = mstore_errclass(s->store);
		char why[256];

		util_strcpy(why, mstore_error(s->store), sizeof(why));
		mbox_expunge(dst, dst_uids, done);
		imap_errclass_no(s, move ? "move" : "copy", e, why);
	} else if (move) {
		/* RFC 6851 §4.3: COPYUID first, then the expunges. */
		if (code.len > 0)
			imap_untagged(s, "OK %sMoved", code.data);
		if (mbox_expunge(s->mb, src_uids, done) == -1)
			log_err("sid=%s move: %s", s->id,
			    mstore_error(s->store));
		imap_tagged(s, "OK MOVE completed");
	} else
		imap_tagged(s, "OK %sCOPY completed", code.data);
	if (!failed && done > 0)
		log_info("sid=%s user=%s %s mailbox=%s to=%s count=%zu", s->id,
		    s->user, move ? "move" : "copy",
		    log_str(mbox_name(s->mb)), log_str(name), done);
	buf_release(&code);
	free(src_uids);
	free(dst_uids);
	free(seqs);
	mbox_close(&dst);
	return 0;
}

int
cmd_copy(struct imap_session *s, const struct imap_arg *args, size_t nargs)
{
	return copy_common(s, args, nargs, 0);
}

int
cmd_move(struct imap_session *s, const struct imap_arg *args, size_t nargs)
{
	return copy_common(s, args, nargs, 1);
}

/* ---- SEARCH ---- */


struct search_run {
	struct imap_session *s;
	struct search_key *key;
	uint32_t	*hits;		/* sequence numbers or UIDs */
	size_t		 n;
	uint64_t	 max_modseq;
	int		 failed;
};

static struct mime_msg *
search_row_load(void *arg)
{
	struct search_row *row = arg;

	if (row->msg == NULL)
		row->msg = imap_msg_load(row->s, row->s->mb, row->uid, NULL);
	return row->msg;
}

static const struct mmsg_ext *
search_row_ext(void *arg)
{
	struct search_row *row = arg;

	if (!row->have_ext && mbox_msg_ext(row->s->mb, row->uid,
	    &row->ext) == 1)
		row->have_ext = 1;
	return row->have_ext ? &row->ext : NULL;
}

void
search_row_begin(struct search_row *row, struct imap_session *s,
    const struct mmsg *m, uint32_t seq, struct search_msg *sm)
{
	memset(row, 0, sizeof(*row));
	row->s = s;
	row->uid = m->uid;
	memset(sm, 0, sizeof(*sm));
	sm->seq = seq;
	sm->uid = m->uid;
	sm->flags = m->flags;
	sm->recent = view_is_recent(&s->view, m->uid);
	sm->keywords = m->keywords != NULL ? m->keywords : "";
	sm->modseq = m->modseq;
	sm->vsize = m->vsize;
	sm->internaldate = m->internaldate;
	sm->saved = searchres_has(s, m->uid);
	sm->load = search_row_load;
	sm->ext = search_row_ext;
	sm->load_arg = row;
}

void
search_row_end(struct search_row *row)
{
	mime_msg_free(&row->msg);
	mmsg_ext_free(&row->ext);
	row->have_ext = 0;
}

static int
search_cb(const struct mmsg *m, void *arg)
{
	struct search_run *sr = arg;
	struct search_row row;
	struct search_msg sm;
	uint32_t seq = view_seq(&sr->s->view, m->uid);
	int r;

	if (seq == 0)
		return 0;
	search_row_begin(&row, sr->s, m, seq, &sm);
	r = search_match(sr->key, &sm);
	search_row_end(&row);
	if (r == 1) {
		sr->hits[sr->n++] = sr->s->uid_cmd ? m->uid : seq;
		if (m->modseq > sr->max_modseq)
			sr->max_modseq = m->modseq;
	}
	return 0;
}

int
imap_return_options(const struct imap_arg *a, unsigned int allowed,
    unsigned int *opts, struct return_partial *partial)
{
	static const struct {
		const char	*name;
		unsigned int	 bit;
	} names[] = {
		{ "MIN", RETURN_MIN }, { "MAX", RETURN_MAX },
		{ "ALL", RETURN_ALL }, { "COUNT", RETURN_COUNT },
		{ "SAVE", RETURN_SAVE }, { "PARTIAL", RETURN_PARTIAL },
		{ "CONTEXT", RETURN_CONTEXT }, { "UPDATE", RETURN_UPDATE },
	};
	size_t i, k;

	*opts = 0;
	if (a->type != IMAP_ARG_LIST)
		return -1;
	for (i = 0; i < a->nlist; i++) {
		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if ((names[k].bit & allowed) &&
			    imap_arg_atom_is(&a->list[i], names[k].name))
				break;
		if (k == sizeof(names) / sizeof(names[0]))
			return -1;
		if (names[k].bit == RETURN_PARTIAL) {
			/* RFC 5267 §4.4: one PARTIAL, with its range */
			if ((*opts & RETURN_PARTIAL) || ++i == a->nlist ||
			    partial_parse(&a->list[i], partial) == -1)
				return -1;
		}
		/* RFC 5465 §7: UPDATE (fetch-att ...), notify.c's */
		if (names[k].bit == RETURN_UPDATE && i + 1 < a->nlist &&
		    a->list[i + 1].type == IMAP_ARG_LIST)
			i++;
		*opts |= names[k].bit;
	}
	/* RFC 5267 §4.4, RFC 9394 §3.1: either PARTIAL or ALL */
	if ((*opts & RETURN_PARTIAL) && (*opts & RETURN_ALL))
		return -1;
	/* RFC 4731 §3.1: RETURN () means ALL; CONTEXT and UPDATE ask for
	 * no result of their own (RFC 5267 §4.1). */
	if ((*opts & ~(RETURN_CONTEXT | RETURN_UPDATE)) == 0)
		*opts |= RETURN_ALL;
	return 0;
}

void
imap_esearch_begin(struct imap_session *s, struct buf *b)
{
	buf_puts(b, "* ESEARCH (TAG ");
	imap_put_string(b, s->tag, strlen(s->tag));
	buf_putc(b, ')');
	if (s->uid_cmd)
		buf_puts(b, " UID");
}

static void
search_reply(struct imap_session *s, struct search_run *sr, int esearch,
    unsigned int opts, const struct return_partial *partial, int modseq)
{
	struct buf *b = imap_out(s);
	size_t i;

	if (!esearch) {
		buf_puts(b, "* SEARCH");
		for (i = 0; i < sr->n; i++)
			buf_printf(b, " %u", sr->hits[i]);
		if (modseq && sr->n > 0)
			buf_printf(b, " (MODSEQ %llu)",
			    (unsigned long long)sr->max_modseq);
		buf_puts(b, "\r\n");
		imap_out_done(s);
		return;
	}
	/* RFC 5182 §2.1: SAVE alone asks for no ESEARCH response. */
	if ((opts & ~(RETURN_CONTEXT | RETURN_UPDATE)) == RETURN_SAVE)
		return;
	imap_esearch_begin(s, b);
	if ((opts & RETURN_MIN) && sr->n > 0)
		buf_printf(b, " MIN %u", sr->hits[0]);
	if ((opts & RETURN_MAX) && sr->n > 0)
		buf_printf(b, " MAX %u", sr->hits[sr->n - 1]);
	if ((opts & RETURN_ALL) && sr->n > 0) {
		buf_puts(b, " ALL ");
		seqset_format(b, sr->hits, sr->n);
	}
	if (opts & RETURN_COUNT)
		buf_printf(b, " COUNT %zu", sr->n);
	if (opts & RETURN_PARTIAL)	/* RFC 5267 §4.4 */
		partial_put(b, partial, sr->hits, sr->n, 0);
	if (modseq && sr->n > 0)
		buf_printf(b, " MODSEQ %llu",
		    (unsigned long long)sr->max_modseq);
	buf_puts(b, "\r\n");
	imap_out_done(s);
}

/*
 * RETURN (SAVE): the result is "$" from now on (RFC 5182 §2.1): with
 * MIN, MAX or PARTIAL and neither ALL nor COUNT, those messages only
 * (RFC 9394 §3.2).
 */
static void
search_save(struct imap_session *s, struct search_run *sr,
    unsigned int opts, const struct return_partial *partial)
{
	uint32_t *uids;
	size_t i, n = 0, from = 0, to = 0;

	if (opts & RETURN_PARTIAL)
		partial_slice(partial, sr->n, &from, &to);
	uids = util_calloc(sr->n + 1, sizeof(*uids));
	for (i = 0; i < sr->n; i++) {
		if ((opts & (RETURN_MIN | RETURN_MAX | RETURN_PARTIAL)) &&
		    !(opts & (RETURN_ALL | RETURN_COUNT)) &&
		    !((opts & RETURN_MIN) && i == 0) &&
		    !((opts & RETURN_MAX) && i == sr->n - 1) &&
		    !(i >= from && i < to))
			continue;
		uids[n++] = s->uid_cmd ? sr->hits[i] :
		    s->view.msgs[sr->hits[i] - 1].uid;
	}
	searchres_save(s, uids, n);
	free(uids);
}

/* Does a SEARCH's RETURN list ask for SAVE (even a malformed one)? */
static int
search_asks_save(const struct imap_arg *args, size_t nargs)
{
	size_t i;

	if (nargs < 2 || !imap_arg_atom_is(&args[0], "RETURN") ||
	    args[1].type != IMAP_ARG_LIST)
		return 0;
	for (i = 0; i < args[1].nlist; i++)
		if (imap_arg_atom_is(&args[1].list[i], "SAVE"))
			return 1;
	return 0;
}

static int
uint32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int
search_common(struct imap_session *s, const struct imap_arg *args,
    size_t nargs, int *ok)
{
	struct search_run sr;
	struct return_partial partial;
	unsigned int opts = 0;
	const char *why, *charset;
	int esearch = 0, r;
	size_t i = 0;
	uint32_t max_uid = s->view.n ? s->view.msgs[s->view.n - 1].uid : 0;
	const struct imap_arg *update_atts = NULL;

	if (nargs >= 2 && imap_arg_atom_is(&args[0], "RETURN")) {
		if (imap_return_options(&args[1], RETURN_MIN | RETURN_MAX |
		    RETURN_ALL | RETURN_COUNT | RETURN_SAVE | RETURN_PARTIAL |
		    RETURN_CONTEXT | RETURN_UPDATE, &opts, &partial) == -1) {
			imap_tagged(s, "BAD Invalid RETURN options");
			return -1;
		}
		if (notify_update_atts(s, &args[1], &update_atts) == -1)
			return -1;
		esearch = 1;
		i = 2;
	} else if (s->rev2) {
		/* RFC 9051 §6.4.4: ESEARCH always, no RETURN meaning ALL */
		esearch = 1;
		opts = RETURN_ALL;
	}
	if (nargs >= i + 2 && imap_arg_atom_is(&args[i], "CHARSET")) {
		if (!imap_utf8_charset_ok(s))
			return -1;
		if ((charset = imap_arg_astring(&args[i + 1])) == NULL) {
			imap_tagged(s, "BAD Missing charset");
			return -1;
		}
		if (strcasecmp(charset, "UTF-8") != 0 &&
		    strcasecmp(charset, "US-ASCII") != 0) {
			imap_tagged(s, "NO [BADCHARSET (UTF-8 US-ASCII)] "
			    "Unsupported charset");
			return 0;
		}
		i += 2;
	}
	if (i >= nargs) {
		imap_tagged(s, "BAD Missing search keys");
		return -1;
	}
	memset(&sr, 0, sizeof(sr));
	sr.s = s;
	if ((sr.key = search_parse_cmp(args + i, nargs - i,
	    (uint32_t)s->view.n, max_uid, s->comparator, &why)) == NULL) {
		imap_tagged(s, "BAD %s", why);
		return -1;
	}
	if (search_uses_modseq(sr.key))
		imap_condstore_use(s);
	if ((opts & RETURN_UPDATE) && (r = context_check(s)) != 0) {
		if (r == -1) {
			search_free(&sr.key);
			return -1;
		}
		opts &= ~RETURN_UPDATE;
	}
	sr.hits = util_calloc(s->view.n + 1, sizeof(*sr.hits));
	if (s->view.n > 0 && mbox_messages(s->mb, 1, UINT32_MAX, 0, 0,
	    search_cb, &sr) == -1) {
		log_err("sid=%s search: %s", s->id, mstore_error(s->store));
		imap_tagged(s, "NO [SERVERBUG] Search failed");
	} else {
		qsort(sr.hits, sr.n, sizeof(*sr.hits), uint32_cmp);
		if (opts & RETURN_SAVE)
			search_save(s, &sr, opts, &partial);
		search_reply(s, &sr, esearch, opts, &partial,
		    search_uses_modseq(sr.key));
		if (opts & RETURN_UPDATE) {	/* RFC 5267 §4.3 */
			context_add(s, args + i, nargs - i, NULL,
			    SORT_NEED_NONE, sr.hits, sr.n);
			context_fetch_atts(s, update_atts);
		}
		imap_tagged(s, "OK SEARCH completed");
		*ok = 1;
	}
	search_free(&sr.key);
	free(sr.hits);
	return 0;
}

int
cmd_search(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	int ok = 0, r;

	r = search_common(s, args, nargs, &ok);
	/* RFC 5182 §2.1: a SEARCH that would save and fails (BAD or NO)
	 * leaves "$" empty, so that a command pipelined after it does not
	 * act on an older result. */
	if (!ok && search_asks_save(args, nargs))
		searchres_clear(s);
	return r;
}

/* ---- UID ---- */

/* UID alone or with a word that is no command: UID FETCH and the others
 * are rows of the command table. */
int
cmd_uid(struct imap_session *s, const struct imap_arg *args, size_t nargs)
{
	if (nargs < 1 || args[0].type != IMAP_ARG_ATOM) {
		imap_tagged(s, "BAD Usage: UID command arguments");
		return -1;
	}
	imap_tagged(s, "BAD Unknown UID command");
	return -1;
}
