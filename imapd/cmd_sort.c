/*
 * SORT and UID SORT (RFC 5256 §3) with the keys of SORT=DISPLAY (RFC
 * 5957) and the RETURN options of ESORT (RFC 5267 §3); and what THREAD
 * shares with them: the messages that match a search, with their keys.
 *
 * The keys come from the index (mbox_sort_keys(), maildir/sortkeys.c),
 * taken from each message's header when it entered the store, so a
 * SORT of a large mailbox opens no message file (unless its search
 * keys need the text).  The search keys are SEARCH's (search.c).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../global/mime.h"
#include "../lib/casemap.h"
#include "../lib/log.h"
#include "context.h"
#include "notify.h"
#include "sort.h"

/* ---- the messages that match, with their keys ---- */

struct collect {
	struct imap_session *s;
	const struct search_key *key;	/* NULL: ALL */
	struct sort_set	*set;
	uint8_t		*present;	/* a context's: in the store */
	/* The first pass's (over the messages' rows), by sequence number:
	 * did it match (NULL: all do), its INTERNALDATE (ARRIVAL). */
	uint8_t		*hit;
	int64_t		*arrival;
	size_t		 cursor;	/* where the last UID was in the view */
	enum comparator	 cmp;		/* RFC 5255 §4.2 */
};

/*
 * The sequence number of a UID (0: not in the view).  Rows mostly come
 * in UID order (or in date order, which is mostly the same): look a few
 * places after the last one first, then search.
 */
static uint32_t
collect_seq(struct collect *c, uint32_t uid)
{
	const struct view *v = &c->s->view;
	size_t i, end = c->cursor + 4 < v->n ? c->cursor + 4 : v->n;

	for (i = c->cursor; i < end && v->msgs[i].uid <= uid; i++)
		if (v->msgs[i].uid == uid) {
			c->cursor = i + 1;
			return (uint32_t)i + 1;
		}
	return view_seq(v, uid);
}

#define SORT_CHUNK	(64 * 1024)

/* A copy of s in the set's blocks (one malloc per 64 KiB, not one per
 * string: 10,000 messages' keys in a few); i;ascii-casemap's a-z
 * upper-cased there when fold says so. */
static char *
collect_copy(struct sort_set *set, const char *s, int fold)
{
	struct sort_chunk *c = set->strings;
	size_t len = strlen(s) + 1, cap, i;
	char *p;

	if (c == NULL || c->cap - c->used < len) {
		cap = len > SORT_CHUNK ? len : SORT_CHUNK;
		c = util_reallocarray(NULL, 1, sizeof(*c) + cap);
		c->used = 0;
		c->cap = cap;
		c->next = set->strings;
		set->strings = c;
	}
	p = c->data + c->used;
	memcpy(p, s, len);
	c->used += len;
	if (fold)			/* RFC 4790 §9.2 */
		for (i = 0; i < len; i++)
			if (p[i] >= 'a' && p[i] <= 'z')
				p[i] -= 'a' - 'A';
	return p;
}

/*
 * A string key the command needs into message i's slot.  The store
 * gives them in i;unicode-casemap's form, or unfolded (MSK_RAW) for the
 * other comparators: i;octet's form as it is, i;ascii-casemap's once its
 * a-z are upper-cased.  THREAD's message ids are never folded.
 */
static void
collect_str(struct collect *c, size_t i, enum sort_str k, const char *s)
{
	struct sort_set *set = c->set;

	if (set->slot[k] >= 0)
		set->str[i * set->nstr + (size_t)set->slot[k]] = s != NULL ?
		    collect_copy(set, s, c->cmp == CMP_ASCII_CASEMAP &&
		    k <= SS_SUBJECT) : NULL;
}

/* The first pass: the search over the messages' rows (as SEARCH's),
 * and what of them a sort key needs. */
static int
collect_msg_cb(const struct mmsg *mm, void *arg)
{
	struct collect *c = arg;
	struct search_row row;
	struct search_msg sm;
	uint32_t seq = collect_seq(c, mm->uid);
	int r = 1;

	if (seq == 0)		/* not known to the client yet */
		return 0;
	if (c->present != NULL)
		c->present[seq - 1] = 1;
	if (c->key != NULL) {
		search_row_begin(&row, c->s, mm, seq, &sm);
		r = search_match(c->key, &sm);
		search_row_end(&row);
	}
	if (r != 1)
		return 0;
	c->hit[seq] = 1;
	if (c->arrival != NULL)
		c->arrival[seq] = mm->internaldate;
	if (mm->modseq > c->set->max_modseq)
		c->set->max_modseq = mm->modseq;
	return 0;
}

/* The second pass: the keys of the messages that matched. */
static int
collect_cb(const struct msortkeys *k, void *arg)
{
	struct collect *c = arg;
	struct sort_msg *m;
	uint32_t seq = collect_seq(c, k->uid);
	size_t i;

	if (seq == 0 || (c->hit != NULL && !c->hit[seq]))
		return 0;
	i = c->set->n++;
	m = &c->set->v[i];
	m->seq = seq;
	m->num = c->s->uid_cmd ? k->uid : seq;
	m->sent = k->sent;
	if (c->set->arrival != NULL)
		c->set->arrival[i] = c->arrival[seq];
	if (c->set->size != NULL)
		c->set->size[i] = k->size;
	if (c->set->reply != NULL)
		c->set->reply[i] = k->reply != 0;
	collect_str(c, i, SS_FROM, k->from_mbox);
	collect_str(c, i, SS_TO, k->to_mbox);
	collect_str(c, i, SS_CC, k->cc_mbox);
	collect_str(c, i, SS_DISPFROM, k->from_display);
	collect_str(c, i, SS_DISPTO, k->to_display);
	collect_str(c, i, SS_SUBJECT, k->base_subject);
	collect_str(c, i, SS_MSGID, k->message_id);
	collect_str(c, i, SS_IRT, k->in_reply_to);
	collect_str(c, i, SS_REFS, k->references);
	return 0;
}

/*
 * The messages of the view that match key (NULL: all), with the keys
 * need asks for, into set (its memory given back by sort_set_free()
 * whatever the outcome).  0, or -1 on a store error (no reply given).
 */
static int
collect_run(struct imap_session *s, const struct search_key *key,
    unsigned int need, struct sort_set *set, uint8_t *present,
    enum comparator cmp)
{
	struct collect c;
	unsigned int mneed = 0;
	size_t i, seq;
	int r;

	if (need & (SORT_NEED_FROM | SORT_NEED_TO | SORT_NEED_CC |
	    SORT_NEED_DISPFROM | SORT_NEED_DISPTO | SORT_NEED_SUBJECT |
	    SORT_NEED_SIZE))
		mneed |= MSK_TEXT;
	/* The index's keys are i;unicode-casemap's: another comparator
	 * folds them itself from the keys as they are. */
	if (cmp != CMP_UNICODE_CASEMAP)
		mneed |= MSK_RAW;
	if ((need & SORT_NEED_LINKS) == SORT_NEED_LINKS)
		mneed |= MSK_LINKS;
	if (need & SORT_NEED_ORDER)
		mneed |= MSK_ORDERED;
	memset(&c, 0, sizeof(c));
	c.s = s;
	c.key = key;
	c.set = set;
	c.present = present;
	c.cmp = cmp;
	set->v = util_reallocarray(NULL, s->view.n + 1, sizeof(*set->v));
	for (i = 0; i < SS_COUNT; i++)
		set->slot[i] = (need & (1U << i)) ? (int)set->nstr++ : -1;
	if (set->nstr > 0)
		set->str = util_reallocarray(NULL, (s->view.n + 1) *
		    set->nstr, sizeof(*set->str));
	if (need & SORT_NEED_ARRIVAL)
		set->arrival = util_reallocarray(NULL, s->view.n + 1,
		    sizeof(*set->arrival));
	if (need & SORT_NEED_SIZE)
		set->size = util_reallocarray(NULL, s->view.n + 1,
		    sizeof(*set->size));
	if ((need & SORT_NEED_LINKS) == SORT_NEED_LINKS)
		set->reply = util_reallocarray(NULL, s->view.n + 1,
		    sizeof(*set->reply));
	r = 0;
	if (s->view.n > 0 && (key != NULL || present != NULL ||
	    (need & SORT_NEED_ARRIVAL))) {
		c.hit = util_calloc(s->view.n + 1, sizeof(*c.hit));
		if (need & SORT_NEED_ARRIVAL)
			c.arrival = util_calloc(s->view.n + 1,
			    sizeof(*c.arrival));
		r = mbox_messages(s->mb, 1, UINT32_MAX, 0, 0, collect_msg_cb,
		    &c);
	}
	c.cursor = 0;
	if (r == 0 && s->view.n > 0 && (need & SORT_NEED_NONE) &&
	    c.hit != NULL) {
		/* No key to read: the first pass's hits in mailbox order. */
		for (seq = 1; seq <= s->view.n; seq++)
			if (c.hit[seq]) {
				set->v[set->n].seq = (uint32_t)seq;
				set->v[set->n].num = s->uid_cmd ?
				    s->view.msgs[seq - 1].uid : (uint32_t)seq;
				set->v[set->n++].sent = 0;
			}
	} else if (r == 0 && s->view.n > 0)
		r = mbox_sort_keys(s->mb, mneed, collect_cb, &c);
	free(c.hit);
	free(c.arrival);
	return r;
}

int
sort_collect(struct imap_session *s, const struct imap_arg *args,
    size_t nargs, unsigned int need, struct sort_set *set, int *bad)
{
	struct search_key *key;
	const char *charset, *why;
	uint32_t max_uid = s->view.n ? s->view.msgs[s->view.n - 1].uid : 0;
	int r;

	memset(set, 0, sizeof(*set));
	*bad = 1;
	if (nargs < 2 || (charset = imap_arg_astring(&args[0])) == NULL) {
		imap_tagged(s, "BAD Missing charset or search keys");
		return -1;
	}
	/* RFC 6855 erratum 4029: after ENABLE UTF8=ACCEPT the strings are
	 * UTF-8; another label conflicts. */
	if (s->utf8 && strcasecmp(charset, "UTF-8") != 0) {
		imap_tagged(s, "BAD Only UTF-8 after ENABLE UTF8=ACCEPT");
		return -1;
	}
	/* Our search keys match decoded text as UTF-8 (search.c). */
	if (strcasecmp(charset, "UTF-8") != 0 &&
	    strcasecmp(charset, "US-ASCII") != 0) {
		*bad = 0;
		imap_tagged(s, "NO [BADCHARSET (UTF-8 US-ASCII)] "
		    "Unsupported charset");
		return -1;
	}
	if ((key = search_parse_cmp(args + 1, nargs - 1, (uint32_t)s->view.n,
	    max_uid, s->comparator, &why)) == NULL) {
		imap_tagged(s, "BAD %s", why);
		return -1;
	}
	*bad = 0;
	set->modseq = search_uses_modseq(key);
	if (set->modseq)
		imap_condstore_use(s);
	/*
	 * Two passes: the search over the messages' rows (as SEARCH
	 * reads them), then the keys from the summaries alone; ALL
	 * matches what the view has and needs no first pass (SORT (DATE)
	 * ALL reads one index of the summaries, nothing else).
	 */
	if (nargs == 2 && imap_arg_atom_is(&args[1], "ALL"))
		search_free(&key);
	r = collect_run(s, key, need, set, NULL, s->comparator);
	search_free(&key);
	if (r == -1) {
		log_err("sid=%s sort: %s", s->id, mstore_error(s->store));
		imap_tagged(s, "NO [SERVERBUG] Sort failed");
		sort_set_free(set);
		return -1;
	}
	return 0;
}

void
sort_put_num(struct buf *b, const char *before, uint32_t n)
{
	char tmp[16], *p = tmp + sizeof(tmp);

	do {
		*--p = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0);
	buf_puts(b, before);
	buf_append(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

void
sort_set_free(struct sort_set *set)
{
	struct sort_chunk *c, *next;

	for (c = set->strings; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(set->v);
	free(set->str);
	free(set->arrival);
	free(set->size);
	free(set->reply);
	memset(set, 0, sizeof(*set));
}

/* ---- SORT ---- */

enum sort_key {
	SK_ARRIVAL, SK_CC, SK_DATE, SK_FROM, SK_SIZE, SK_SUBJECT, SK_TO,
	SK_DISPLAYFROM, SK_DISPLAYTO
};

static const struct {
	const char	*name;
	enum sort_key	 key;
	unsigned int	 need;
} sort_keys[] = {
	{ "ARRIVAL",	 SK_ARRIVAL,	 SORT_NEED_ARRIVAL },
	{ "CC",		 SK_CC,		 SORT_NEED_CC },
	{ "DATE",	 SK_DATE,	 0 },
	{ "FROM",	 SK_FROM,	 SORT_NEED_FROM },
	{ "SIZE",	 SK_SIZE,	 SORT_NEED_SIZE },
	{ "SUBJECT",	 SK_SUBJECT,	 SORT_NEED_SUBJECT },
	{ "TO",		 SK_TO,		 SORT_NEED_TO },
	{ "DISPLAYFROM", SK_DISPLAYFROM, SORT_NEED_DISPFROM },	/* RFC 5957 */
	{ "DISPLAYTO",	 SK_DISPLAYTO,	 SORT_NEED_DISPTO },
};

/* (sort-criteria): 0, or -1 (malformed). */
static int
sort_parse_criteria(const struct imap_arg *a, struct sort_order *o,
    unsigned int *need)
{
	size_t i, k;
	int reverse = 0;

	o->n = 0;
	*need = 0;
	if (a->type != IMAP_ARG_LIST || a->nlist == 0)
		return -1;
	for (i = 0; i < a->nlist; i++) {
		if (imap_arg_atom_is(&a->list[i], "REVERSE")) {
			if (reverse)
				return -1;	/* "REVERSE REVERSE" */
			reverse = 1;
			continue;
		}
		for (k = 0; k < sizeof(sort_keys) / sizeof(sort_keys[0]); k++)
			if (imap_arg_atom_is(&a->list[i], sort_keys[k].name))
				break;
		if (k == sizeof(sort_keys) / sizeof(sort_keys[0]) ||
		    o->n == SORT_MAX_CRITERIA)
			return -1;
		o->c[o->n].key = sort_keys[k].key;
		o->c[o->n++].reverse = reverse;
		*need |= sort_keys[k].need;
		reverse = 0;
	}
	return reverse ? -1 : 0;	/* a trailing REVERSE */
}

static int
sort_int(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

/* Strings in their form under the session's comparator (collect_str()):
 * by octets, which is each comparator's ordering (RFC 5051 §2, RFC 4790
 * §9.2, §9.3; RFC 5255 §4.2); "" first. */
static int
sort_strcmp(const char *a, const char *b)
{
	int r = strcmp(a != NULL ? a : "", b != NULL ? b : "");

	return r < 0 ? -1 : r > 0;
}

struct sort_ctx {
	const struct sort_order	*o;
	const struct sort_set	*set;
};

static int
sort_cmp_str(const struct sort_set *set, size_t a, size_t b,
    enum sort_str k)
{
	return sort_strcmp(sort_msg_str(set, a, k), sort_msg_str(set, b, k));
}

/* Two messages by their index in the set. */
static int
sort_cmp(const void *pa, const void *pb, void *arg)
{
	const struct sort_ctx *ctx = arg;
	const struct sort_set *set = ctx->set;
	const struct sort_order *o = ctx->o;
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
	size_t i;
	int r = 0;

	for (i = 0; i < o->n && r == 0; i++) {
		switch (o->c[i].key) {
		case SK_ARRIVAL:
			r = sort_int(set->arrival[a], set->arrival[b]);
			break;
		case SK_DATE:
			r = sort_int(set->v[a].sent, set->v[b].sent);
			break;
		case SK_SIZE:
			r = sort_int(set->size[a], set->size[b]);
			break;
		case SK_CC:
			r = sort_cmp_str(set, a, b, SS_CC);
			break;
		case SK_FROM:
			r = sort_cmp_str(set, a, b, SS_FROM);
			break;
		case SK_TO:
			r = sort_cmp_str(set, a, b, SS_TO);
			break;
		case SK_SUBJECT:
			r = sort_cmp_str(set, a, b, SS_SUBJECT);
			break;
		case SK_DISPLAYFROM:
			r = sort_cmp_str(set, a, b, SS_DISPFROM);
			break;
		case SK_DISPLAYTO:
			r = sort_cmp_str(set, a, b, SS_DISPTO);
			break;
		}
		if (o->c[i].reverse)
			r = -r;
	}
	/* RFC 5256 §3: exact matches in mailbox order, REVERSE or not. */
	return r != 0 ? r : sort_int(set->v[a].seq, set->v[b].seq);
}

static void
sort_reply(struct imap_session *s, const struct sort_set *set,
    const uint32_t *nums, int esort, unsigned int opts,
    const struct return_partial *partial)
{
	struct buf *b = imap_out(s);
	size_t i;

	if (!esort) {
		buf_puts(b, "* SORT");
		for (i = 0; i < set->n; i++)
			sort_put_num(b, " ", nums[i]);
		/* RFC 7162 §3.1.5 */
		if (set->modseq && set->n > 0)
			buf_printf(b, " (MODSEQ %llu)",
			    (unsigned long long)set->max_modseq);
		buf_puts(b, "\r\n");
		imap_out_done(s);
		return;
	}
	imap_esearch_begin(s, b);
	/* RFC 5267 §3.2: MIN and MAX are the first and the last in sort
	 * order. */
	if ((opts & RETURN_MIN) && set->n > 0)
		buf_printf(b, " MIN %u", nums[0]);
	if ((opts & RETURN_MAX) && set->n > 0)
		buf_printf(b, " MAX %u", nums[set->n - 1]);
	if ((opts & RETURN_ALL) && set->n > 0) {
		buf_puts(b, " ALL ");
		context_put_ordered(b, nums, set->n);
	}
	if (opts & RETURN_COUNT)
		buf_printf(b, " COUNT %zu", set->n);
	if (opts & RETURN_PARTIAL)	/* RFC 5267 §4.4: in sort order */
		partial_put(b, partial, nums, set->n, 1);
	if (set->modseq && set->n > 0)
		buf_printf(b, " MODSEQ %llu",
		    (unsigned long long)set->max_modseq);
	buf_puts(b, "\r\n");
	imap_out_done(s);
}

/* The numbers of the set in the order of perm, into perm itself. */
static void
sort_numbers(const struct sort_set *set, uint32_t *perm, int uids,
    const struct view *v)
{
	size_t k;

	for (k = 0; k < set->n; k++)
		perm[k] = uids ? v->msgs[set->v[perm[k]].seq - 1].uid :
		    set->v[perm[k]].num;
}

static uint32_t *
sort_order_apply(const struct sort_set *set, const struct sort_order *o)
{
	struct sort_ctx ctx;
	uint32_t *perm;
	size_t k;

	/* The messages stay; their indexes are sorted (4 octets each). */
	perm = util_reallocarray(NULL, set->n + 1, sizeof(*perm));
	for (k = 0; k < set->n; k++)
		perm[k] = (uint32_t)k;
	if (o->n > 0) {
		ctx.o = o;
		ctx.set = set;
		qsort_r(perm, set->n, sizeof(*perm), sort_cmp, &ctx);
	}
	return perm;
}

int
sort_context_run(struct imap_session *s, const struct search_key *key,
    const struct sort_order *o, unsigned int need, uint8_t *present,
    uint32_t **uids, size_t *n)
{
	struct sort_set set;
	uint32_t *perm;

	memset(&set, 0, sizeof(set));
	/* The comparator of the command that made the context. */
	if (collect_run(s, key, need, &set, present, key != NULL ?
	    search_comparator(key) : s->comparator) == -1) {
		sort_set_free(&set);
		return -1;
	}
	perm = sort_order_apply(&set, o);
	sort_numbers(&set, perm, 1, &s->view);
	*uids = perm;
	*n = set.n;
	sort_set_free(&set);
	return 0;
}

/* SORT [RETURN (options)] (sort-criteria) charset search-key... */
int
cmd_sort(struct imap_session *s, const struct imap_arg *args, size_t nargs)
{
	struct sort_order order;
	struct sort_set set;
	struct return_partial partial;
	unsigned int opts = 0, need;
	uint32_t *nums;
	size_t i = 0;
	int esort = 0, bad;
	const struct imap_arg *update_atts = NULL;

	if (nargs >= 1 && imap_arg_atom_is(&args[0], "RETURN")) {
		if (nargs < 2 || imap_return_options(&args[1], RETURN_MIN |
		    RETURN_MAX | RETURN_ALL | RETURN_COUNT | RETURN_PARTIAL |
		    RETURN_CONTEXT | RETURN_UPDATE, &opts, &partial) == -1) {
			imap_tagged(s, "BAD Invalid RETURN options");
			return -1;
		}
		if (notify_update_atts(s, &args[1], &update_atts) == -1)
			return -1;
		esort = 1;
		i = 2;
	}
	if (i >= nargs || sort_parse_criteria(&args[i], &order, &need) == -1) {
		imap_tagged(s, "BAD Invalid sort criteria");
		return -1;
	}
	i++;
	if ((opts & RETURN_UPDATE) && (bad = context_check(s)) != 0) {
		if (bad == -1)
			return -1;
		opts &= ~RETURN_UPDATE;
	}
	if (sort_collect(s, args + i, nargs - i, need, &set, &bad) == -1)
		return bad ? -1 : 0;
	nums = sort_order_apply(&set, &order);
	sort_numbers(&set, nums, 0, NULL);
	sort_reply(s, &set, nums, esort, opts, &partial);
	if (opts & RETURN_UPDATE) {	/* RFC 5267 §4.3 */
		context_add(s, args + i + 1, nargs - i - 1, &order, need,
		    nums, set.n);
		context_fetch_atts(s, update_atts);	/* RFC 5465 §7 */
	}
	imap_tagged(s, "OK SORT completed");
	free(nums);
	sort_set_free(&set);
	return 0;
}
