/*
 * Search contexts (RFC 5267 §4): the PARTIAL result option (§4.4, with
 * RFC 9394's ranges counted from the last result), and the searches a
 * client keeps with RETURN (UPDATE) (§4.3): while the mailbox stays
 * selected, each message that enters or leaves the result is told in
 * "* ESEARCH (TAG "t") [UID] ADDTO (...)" or "REMOVEFROM (...)".
 *
 * A context keeps its search keys, parsed again from the command
 * (message numbers turned into the UIDs they named then), its sort
 * order and the result as the client has it: UIDs in result order.
 * An expunged message leaves it just before its EXPUNGE (§4.3.4).
 * Other changes (new messages, after their EXISTS; flags) are found
 * by running the search again once the view has caught up, and
 * comparing: a message's sort keys never change (its dates, size,
 * addresses, subject), so the messages that stay keep their order and
 * the comparison is one walk over both lists.  A SEARCH's positions
 * are 0 (§4.3.3: the client keeps mailbox order); a SORT's are real.
 * The cost is a search of the mailbox's rows per context and change:
 * README.md's IMAP section has the figures.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../global/mime.h"
#include "../lib/log.h"
#include "context.h"
#include "notify.h"

struct search_context {
	char		 tag[IMAP_TAG_MAX + 1];
	int		 uid;		/* UID SEARCH, UID SORT: UIDs */
	int		 sorted;	/* SORT: positions in sort order */
	struct search_key *key;
	struct sort_order order;	/* n 0: mailbox order */
	unsigned int	 need;		/* SORT_NEED_* */
	uint32_t	*uids;		/* the result the client has */
	size_t		 n;
	struct imap_arg	*fetch;		/* UPDATE's fetch-atts (RFC 5465 §7) */
};

struct search_contexts {
	struct search_context *c[CONTEXT_MAX];
	size_t		 n;
};

/* ---- PARTIAL ---- */

/* A PARTIAL endpoint: "-"? nz-number (RFC 9394 §4). */
static int
partial_number(const char *p, const char **end, int64_t *v)
{
	int neg = 0;
	uint64_t n = 0;

	if (*p == '-') {
		neg = 1;
		p++;
	}
	if (*p < '1' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++)
		if ((n = n * 10 + (uint64_t)(*p - '0')) > UINT32_MAX)
			return -1;
	*end = p;
	*v = neg ? -(int64_t)n : (int64_t)n;
	return 0;
}

int
partial_parse(const struct imap_arg *a, struct return_partial *p)
{
	const char *s;

	if (a->type != IMAP_ARG_ATOM)
		return -1;
	s = a->str;
	if (partial_number(s, &s, &p->first) == -1 || *s++ != ':' ||
	    partial_number(s, &s, &p->last) == -1 || *s != '\0')
		return -1;
	/* both from the first result or both from the last */
	return (p->first < 0) == (p->last < 0) ? 0 : -1;
}

void
partial_slice(const struct return_partial *p, size_t n, size_t *from,
    size_t *to)
{
	uint64_t a = (uint64_t)(p->first < 0 ? -p->first : p->first);
	uint64_t b = (uint64_t)(p->last < 0 ? -p->last : p->last);
	uint64_t lo = a < b ? a : b, hi = a < b ? b : a;

	*from = *to = 0;
	if (lo > n)
		return;
	if (hi > n)
		hi = n;
	if (p->first > 0) {		/* "1:500": the first 500 */
		*from = (size_t)lo - 1;
		*to = (size_t)hi;
	} else {			/* "-1:-100": the last 100 */
		*from = n - (size_t)hi;
		*to = n - (size_t)lo + 1;
	}
}

void
context_put_ordered(struct buf *b, const uint32_t *nums, size_t n)
{
	size_t i = 0, j;

	/* RFC 5267 §3.2: a range only where the numbers ascend, as its
	 * example "ALL 23,1:3,13,5:7,9,11" shows. */
	while (i < n) {
		for (j = i; j + 1 < n && nums[j + 1] == nums[j] + 1; j++)
			;
		if (i > 0)
			buf_putc(b, ',');
		sort_put_num(b, "", nums[i]);
		if (j > i)
			sort_put_num(b, ":", nums[j]);
		i = j + 1;
	}
}

void
partial_put(struct buf *b, const struct return_partial *p,
    const uint32_t *nums, size_t n, int ordered)
{
	size_t from, to;

	partial_slice(p, n, &from, &to);
	/* the range as asked (RFC 5267 §4.4), NIL when nothing is in it */
	buf_printf(b, " PARTIAL (%lld:%lld ", (long long)p->first,
	    (long long)p->last);
	if (from == to)
		buf_puts(b, "NIL");
	else if (ordered)
		context_put_ordered(b, nums + from, to - from);
	else
		seqset_format(b, nums + from, to - from);
	buf_putc(b, ')');
}

/* ---- the contexts ---- */

static struct search_context *
context_find(struct imap_session *s, const char *tag, size_t *idx)
{
	struct search_contexts *cs = s->contexts;
	size_t i;

	for (i = 0; cs != NULL && i < cs->n; i++)
		if (strcmp(cs->c[i]->tag, tag) == 0) {
			if (idx != NULL)
				*idx = i;
			return cs->c[i];
		}
	return NULL;
}

static void
context_free(struct search_context **cp)
{
	struct search_context *c = *cp;

	if (c == NULL)
		return;
	search_free(&c->key);
	free(c->uids);
	imap_arg_dup_free(&c->fetch);
	free(c);
	*cp = NULL;
}

void
context_fetch_atts(struct imap_session *s, const struct imap_arg *atts)
{
	struct search_context *c;

	if (atts != NULL && (c = context_find(s, s->tag, NULL)) != NULL &&
	    c->fetch == NULL)
		c->fetch = imap_arg_dup(atts);
}

/*
 * RFC 5465 §7: the attributes UPDATE asked for, of the new messages
 * (not those a flag change brings in) that enter c, after their EXISTS
 * and before the ESEARCH that adds them.
 */
static void
context_fetch_new(struct imap_session *s, const struct search_context *c,
    const uint32_t *uids, size_t n)
{
	uint32_t seq;
	size_t i;

	for (i = 0; c->fetch != NULL && i < n; i++)
		if (uids[i] >= s->view.uidnext &&
		    (seq = view_seq(&s->view, uids[i])) != 0 &&
		    imap_fetch_unsolicited(s, c->fetch, seq, seq) == -1)
			log_warn("sid=%s context fetch: %s", s->id,
			    mstore_error(s->store));
}

void
context_free_all(struct imap_session *s)
{
	struct search_contexts *cs = s->contexts;
	size_t i;

	if (cs == NULL)
		return;
	for (i = 0; i < cs->n; i++)
		context_free(&cs->c[i]);
	free(cs);
	s->contexts = NULL;
}

int
context_check(struct imap_session *s)
{
	struct buf *b;

	/* RFC 5267 §4.3: "SHALL result in ... a BAD response" */
	if (context_find(s, s->tag, NULL) != NULL) {
		imap_tagged(s, "BAD Tag reuse");
		return -1;
	}
	if ((s->contexts != NULL && s->contexts->n == CONTEXT_MAX) ||
	    strlen(s->tag) > IMAP_TAG_MAX) {
		/* §4.3.1: the search goes on, without updates */
		b = imap_out(s);
		buf_puts(b, "* NO [NOUPDATE ");
		imap_put_string(b, s->tag, strlen(s->tag));
		buf_puts(b, "] Too many contexts\r\n");
		imap_out_done(s);
		return 1;
	}
	return 0;
}

static uint32_t
context_uid_of(uint32_t seq, void *arg)
{
	const struct view *v = arg;

	return v->msgs[seq - 1].uid;
}

void
context_add(struct imap_session *s, const struct imap_arg *keys,
    size_t nkeys, const struct sort_order *o, unsigned int need,
    const uint32_t *nums, size_t n)
{
	struct search_context *c;
	struct search_key *key;
	const char *why;
	uint32_t max_uid = s->view.n ? s->view.msgs[s->view.n - 1].uid : 0;
	size_t i;

	/* The command parsed them already: this cannot fail. */
	if ((key = search_parse_cmp(keys, nkeys, (uint32_t)s->view.n, max_uid,
	    s->comparator, &why)) == NULL) {
		log_err("sid=%s context %s: %s", s->id, log_str(s->tag), why);
		return;
	}
	/* Message numbers name the messages they named when the command
	 * ran: later ones shift under expunges. */
	search_seqs_to_uids(key, (uint32_t)s->view.n, context_uid_of,
	    &s->view);
	c = util_calloc(1, sizeof(*c));
	(void)util_strcpy(c->tag, s->tag, sizeof(c->tag));
	c->uid = s->uid_cmd;
	c->sorted = o != NULL;
	c->key = key;
	if (o != NULL)
		c->order = *o;
	c->need = need;
	c->uids = util_reallocarray(NULL, n + 1, sizeof(*c->uids));
	for (i = 0; i < n; i++)
		c->uids[i] = s->uid_cmd ? nums[i] :
		    s->view.msgs[nums[i] - 1].uid;
	c->n = n;
	if (s->contexts == NULL)
		s->contexts = util_calloc(1, sizeof(*s->contexts));
	s->contexts->c[s->contexts->n++] = c;
	log_debug("sid=%s context %s kept (%zu results)", s->id,
	    log_str(c->tag), n);
}

/* "* ESEARCH (TAG "t")" and " UID" for a context's updates. */
static void
context_begin(struct buf *b, const struct search_context *c)
{
	buf_puts(b, "* ESEARCH (TAG ");
	imap_put_string(b, c->tag, strlen(c->tag));
	buf_putc(b, ')');
	if (c->uid)
		buf_puts(b, " UID");
}

/* What the client calls message uid in context c. */
static uint32_t
context_num(struct imap_session *s, const struct search_context *c,
    uint32_t uid)
{
	return c->uid ? uid : view_seq(&s->view, uid);
}

void
context_expunge(struct imap_session *s, uint32_t uid)
{
	struct search_contexts *cs = s->contexts;
	struct search_context *c;
	struct buf *b;
	size_t i, k;

	for (k = 0; cs != NULL && k < cs->n; k++) {
		c = cs->c[k];
		for (i = 0; i < c->n && c->uids[i] != uid; i++)
			;
		if (i == c->n)
			continue;
		b = imap_out(s);
		context_begin(b, c);
		sort_put_num(b, " REMOVEFROM (", c->sorted ? (uint32_t)i + 1 :
		    0);
		sort_put_num(b, " ", context_num(s, c, uid));
		buf_puts(b, ")\r\n");
		imap_out_done(s);
		memmove(&c->uids[i], &c->uids[i + 1], (c->n - i - 1) *
		    sizeof(*c->uids));
		c->n--;
	}
}

static int
uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The UIDs of list, sorted, to ask "is it in there?". */
static uint32_t *
context_sorted(const uint32_t *list, size_t n, int ascending)
{
	uint32_t *v = util_reallocarray(NULL, n + 1, sizeof(*v));

	if (n > 0)
		memcpy(v, list, n * sizeof(*v));
	if (!ascending && n > 1)
		qsort(v, n, sizeof(*v), uid_cmp);
	return v;
}

static int
context_has(const uint32_t *sorted, size_t n, uint32_t uid)
{
	return n > 0 && bsearch(&uid, sorted, n, sizeof(uid), uid_cmp) !=
	    NULL;
}

/*
 * The pairs of an ADDTO or REMOVEFROM (§4.3.2): "pos nums" for each
 * run of neighbours, all at position 0 in mailbox order for a SEARCH.
 */
struct pairs {
	struct buf	*b;
	const char	*word;		/* "ADDTO", "REMOVEFROM" */
	uint32_t	*nums;		/* the run being gathered */
	size_t		 n;
	uint32_t	 pos, next;	/* its position; the one after */
};

static void
pairs_flush(struct pairs *p, int sorted)
{
	if (p->n == 0)
		return;
	if (p->b->len == 0) {
		buf_printf(p->b, " %s (", p->word);
	} else
		buf_putc(p->b, ' ');
	sort_put_num(p->b, "", p->pos);
	buf_putc(p->b, ' ');
	if (sorted)
		context_put_ordered(p->b, p->nums, p->n);
	else
		seqset_format(p->b, p->nums, p->n);
	p->n = 0;
}

/* num joins at position pos (1-based; 0 for a SEARCH's). */
static void
pairs_add(struct pairs *p, int sorted, uint32_t pos, uint32_t num)
{
	if (sorted && p->n > 0 && pos != p->next)
		pairs_flush(p, sorted);
	if (p->n == 0)
		p->pos = pos;
	p->nums[p->n++] = num;
	p->next = pos + (strcmp(p->word, "ADDTO") == 0);
}

static void
pairs_init(struct pairs *rm, struct pairs *add, size_t nrm, size_t nadd)
{
	memset(rm, 0, sizeof(*rm));
	memset(add, 0, sizeof(*add));
	rm->b = buf_new(0);
	rm->word = "REMOVEFROM";
	rm->nums = util_reallocarray(NULL, nrm + 1, sizeof(*rm->nums));
	add->b = buf_new(0);
	add->word = "ADDTO";
	add->nums = util_reallocarray(NULL, nadd + 1, sizeof(*add->nums));
}

/* One ESEARCH with the REMOVEFROM and ADDTO gathered (flushed), if
 * any; and the pairs' memory given back. */
static void
pairs_send(struct imap_session *s, const struct search_context *c,
    struct pairs *rm, struct pairs *add)
{
	struct buf *b;

	if (rm->b->len > 0 || add->b->len > 0) {
		b = imap_out(s);
		context_begin(b, c);
		if (rm->b->len > 0) {
			buf_append(b, rm->b->data, rm->b->len);
			buf_putc(b, ')');
		}
		if (add->b->len > 0) {
			buf_append(b, add->b->data, add->b->len);
			buf_putc(b, ')');
		}
		buf_puts(b, "\r\n");
		imap_out_done(s);
	}
	free(rm->nums);
	free(add->nums);
	buf_free(&rm->b);
	buf_free(&add->b);
}

/*
 * The search c ran again gave nu (nn UIDs in result order); present[]
 * marks the view's messages still in the store (the others are
 * expunged, their EXPUNGE not sent yet: they stay until it is).  Tell
 * the client the difference, and keep nu as c's result.
 */
static void
context_diff(struct imap_session *s, struct search_context *c,
    const uint8_t *present, const uint32_t *nu, size_t nn)
{
	struct pairs rm, add;
	uint32_t *in_new, *in_old, *f, uid, seq;
	size_t i, j, w, nf = 0;

	in_new = context_sorted(nu, nn, !c->sorted);
	pairs_init(&rm, &add, c->n, nn);
	/* What left: removed from the list in place, in order. */
	for (i = w = 0; i < c->n; i++) {
		uid = c->uids[i];
		if ((seq = view_seq(&s->view, uid)) == 0)
			continue;		/* cannot be: told already */
		if (!present[seq - 1] || context_has(in_new, nn, uid)) {
			c->uids[w++] = uid;
			continue;
		}
		pairs_add(&rm, c->sorted, c->sorted ? (uint32_t)w + 1 : 0,
		    context_num(s, c, uid));
	}
	pairs_flush(&rm, c->sorted);
	c->n = w;
	/* What came: the two lists merged, the old one's order kept. */
	in_old = context_sorted(c->uids, c->n, !c->sorted);
	f = util_reallocarray(NULL, c->n + nn + 1, sizeof(*f));
	for (i = j = 0; i < c->n || j < nn; ) {
		if (i < c->n && !present[view_seq(&s->view, c->uids[i]) - 1])
			f[nf++] = c->uids[i++];
		else if (i < c->n && j < nn && c->uids[i] == nu[j]) {
			f[nf++] = c->uids[i++];
			j++;
		} else if (j < nn && !context_has(in_old, c->n, nu[j])) {
			pairs_add(&add, c->sorted, c->sorted ?
			    (uint32_t)nf + 1 : 0, context_num(s, c, nu[j]));
			f[nf++] = nu[j++];
		} else
			break;
	}
	if (i < c->n || j < nn) {
		/* The order changed, which the keys cannot do: start the
		 * client's list again rather than tell it wrong. */
		log_warn("sid=%s context %s out of order, sent again",
		    s->id, log_str(c->tag));
		buf_reset(rm.b);
		buf_reset(add.b);
		rm.n = add.n = 0;
		for (i = 0; i < c->n; i++)
			pairs_add(&rm, c->sorted, c->sorted ? 1 : 0,
			    context_num(s, c, c->uids[i]));
		pairs_flush(&rm, c->sorted);
		for (j = 0; j < nn; j++)
			pairs_add(&add, c->sorted, c->sorted ?
			    (uint32_t)j + 1 : 0, context_num(s, c, nu[j]));
		memcpy(f, nu, nn * sizeof(*f));
		nf = nn;
	}
	pairs_flush(&add, c->sorted);
	pairs_send(s, c, &rm, &add);
	free(c->uids);
	c->uids = f;
	c->n = nf;
	free(in_new);
	free(in_old);
}

/* Run c again over the whole mailbox and compare (context_diff()). */
static int
context_rerun(struct imap_session *s, struct search_context *c)
{
	uint8_t *present;
	uint32_t *nu;
	size_t nn;

	present = util_calloc(s->view.n + 1, sizeof(*present));
	if (sort_context_run(s, c->key, &c->order, c->need, present, &nu,
	    &nn) == -1) {
		free(present);
		return -1;
	}
	context_diff(s, c, present, nu, nn);
	free(nu);
	free(present);
	return 0;
}

/* What the changed messages do to each context: enter or leave. */
struct change_list {
	uint32_t	*uids;
	size_t		 n, cap;
};

struct refresh {
	struct imap_session *s;
	uint32_t	*members[CONTEXT_MAX];	/* each result, sorted */
	struct change_list add[CONTEXT_MAX], rm[CONTEXT_MAX];
};

static void
change_push(struct change_list *l, uint32_t uid)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->uids = util_reallocarray(l->uids, l->cap, sizeof(*l->uids));
	}
	l->uids[l->n++] = uid;
}

/* A message that changed: does each search still take it? */
static int
refresh_cb(const struct mmsg *m, void *arg)
{
	struct refresh *r = arg;
	struct imap_session *s = r->s;
	struct search_context *c;
	struct search_row row;
	struct search_msg sm;
	uint32_t seq = view_seq(&s->view, m->uid);
	size_t k;
	int hit, in;

	if (seq == 0)
		return 0;
	search_row_begin(&row, s, m, seq, &sm);
	for (k = 0; k < s->contexts->n; k++) {
		c = s->contexts->c[k];
		hit = search_match(c->key, &sm) == 1;
		in = context_has(r->members[k], c->n, m->uid);
		if (hit && !in)
			change_push(&r->add[k], m->uid);
		else if (!hit && in)
			change_push(&r->rm[k], m->uid);
	}
	search_row_end(&row);
	return 0;
}

/*
 * What left c (rm) and what came (add, sorted): a SEARCH's at position
 * 0, ascending; a SORT's removals at their places.  (A SORT that gains
 * messages is run again whole: their places need the others' keys.)
 */
static void
context_apply(struct imap_session *s, struct search_context *c,
    struct change_list *rm, struct change_list *add)
{
	struct pairs prm, padd;
	uint32_t *f;
	size_t i, j, w, nf = 0;

	if (rm->n > 1)
		qsort(rm->uids, rm->n, sizeof(*rm->uids), uid_cmp);
	if (add->n > 1)
		qsort(add->uids, add->n, sizeof(*add->uids), uid_cmp);
	pairs_init(&prm, &padd, rm->n, add->n);
	for (i = w = 0; i < c->n; i++) {
		if (!context_has(rm->uids, rm->n, c->uids[i])) {
			c->uids[w++] = c->uids[i];
			continue;
		}
		pairs_add(&prm, c->sorted, c->sorted ? (uint32_t)w + 1 : 0,
		    context_num(s, c, c->uids[i]));
	}
	pairs_flush(&prm, c->sorted);
	c->n = w;
	/* a SEARCH's result stays in mailbox order (UIDs ascending) */
	f = util_reallocarray(NULL, c->n + add->n + 1, sizeof(*f));
	for (i = j = 0; i < c->n || j < add->n; ) {
		if (j == add->n || (i < c->n && c->uids[i] < add->uids[j]))
			f[nf++] = c->uids[i++];
		else {
			pairs_add(&padd, 0, 0, context_num(s, c,
			    add->uids[j]));
			f[nf++] = add->uids[j++];
		}
	}
	pairs_flush(&padd, 0);
	pairs_send(s, c, &prm, &padd);
	free(c->uids);
	c->uids = f;
	c->n = nf;
}

int
context_refresh(struct imap_session *s)
{
	struct search_contexts *cs = s->contexts;
	struct search_context *c;
	struct refresh r;
	uint64_t since = s->view.modseq;
	size_t k;
	int ret = 0;

	if (cs == NULL || cs->n == 0)
		return 0;
	/*
	 * Only the messages changed since the client last heard (flags,
	 * and the new ones) can enter or leave a result: expunged ones
	 * left already (context_expunge()), and the keys of the others
	 * are what they were.  Unless "$" is a key: it changes alone.
	 */
	memset(&r, 0, sizeof(r));
	r.s = s;
	for (k = 0; k < cs->n; k++) {
		c = cs->c[k];
		r.members[k] = context_sorted(c->uids, c->n, !c->sorted);
		if (search_uses_saved(c->key))
			since = 0;
	}
	if (mbox_messages(s->mb, 1, UINT32_MAX, since, 0, refresh_cb, &r)
	    == -1)
		ret = -1;
	for (k = 0; k < cs->n; k++) {
		c = cs->c[k];
		if (ret == 0)
			context_fetch_new(s, c, r.add[k].uids, r.add[k].n);
		if (ret == 0 && c->sorted && r.add[k].n > 0)
			ret = context_rerun(s, c);
		else if (ret == 0 && (r.add[k].n > 0 || r.rm[k].n > 0))
			context_apply(s, c, &r.rm[k], &r.add[k]);
		free(r.members[k]);
		free(r.add[k].uids);
		free(r.rm[k].uids);
	}
	return ret;
}

/* CANCELUPDATE "tag" ... (RFC 5267 §4.3.5) */
int
cmd_cancelupdate(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	struct search_contexts *cs = s->contexts;
	const char *tag;
	size_t i, k;

	if (nargs == 0) {
		imap_tagged(s, "BAD Missing tags");
		return -1;
	}
	for (i = 0; i < nargs; i++) {
		if ((tag = imap_arg_astring(&args[i])) == NULL ||
		    args[i].type == IMAP_ARG_ATOM) {
			imap_tagged(s, "BAD Tags are quoted strings");
			return -1;
		}
		if (context_find(s, tag, NULL) == NULL) {
			imap_tagged(s, "BAD No context for that tag");
			return -1;
		}
	}
	for (i = 0; i < nargs; i++) {
		if (context_find(s, imap_arg_astring(&args[i]), &k) == NULL)
			continue;	/* named twice */
		context_free(&cs->c[k]);
		memmove(&cs->c[k], &cs->c[k + 1], (cs->n - k - 1) *
		    sizeof(cs->c[0]));
		cs->n--;
	}
	imap_tagged(s, "OK No further updates");
	return 0;
}
