/*
 * THREAD and UID THREAD (RFC 5256 §3): ORDEREDSUBJECT, REFERENCES (its
 * steps 1 to 7 as written, subject merging included) and REFS (as
 * Dovecot implements draft-ietf-morg-inthread's: REFERENCES without the
 * subject merging of step 5, the threads ordered by their latest
 * message).
 *
 * Every message and every id a References: names is a node of one
 * array; the tree is first-child / next-sibling links in it.  Nothing
 * here recurses: a hostile References: chain of thousands of ids costs
 * a long walk, never a deep stack.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <glib.h>

#include "../lib/log.h"
#include "sort.h"

#define T_NONE	((size_t)-1)

struct tnode {
	struct sort_msg	*m;		/* NULL: a dummy */
	size_t		 parent, child, next;	/* T_NONE: none */
	size_t		 last;		/* last child, for appending */
	int64_t		 date;		/* sort key (step 6; REFS: latest) */
	uint32_t	 seq;
};

struct tree {
	struct tnode	*v;
	size_t		 n, cap;
	size_t		 root;		/* the dummy over every thread */
	const struct sort_set *set;	/* the messages */
};

/* A message's strings and reply flag, by its node. */
static const char *
tmsg_str(const struct tree *t, const struct sort_msg *m, enum sort_str k)
{
	return sort_msg_str(t->set, (size_t)(m - t->set->v), k);
}

static int
tmsg_reply(const struct tree *t, const struct sort_msg *m)
{
	return t->set->reply != NULL && t->set->reply[m - t->set->v];
}

static size_t
tree_add(struct tree *t, struct sort_msg *m)
{
	struct tnode *x;

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->v = util_reallocarray(t->v, t->cap, sizeof(*t->v));
	}
	x = &t->v[t->n];
	memset(x, 0, sizeof(*x));
	x->m = m;
	x->parent = x->child = x->next = x->last = T_NONE;
	return t->n++;
}

static void
tree_append(struct tree *t, size_t parent, size_t kid)
{
	t->v[kid].parent = parent;
	t->v[kid].next = T_NONE;
	if (t->v[parent].child == T_NONE)
		t->v[parent].child = kid;
	else
		t->v[t->v[parent].last].next = kid;
	t->v[parent].last = kid;
}

static void
tree_unlink(struct tree *t, size_t kid)
{
	size_t p = t->v[kid].parent, c, prev = T_NONE;

	if (p == T_NONE)
		return;
	for (c = t->v[p].child; c != kid; c = t->v[c].next)
		prev = c;
	if (prev == T_NONE)
		t->v[p].child = t->v[kid].next;
	else
		t->v[prev].next = t->v[kid].next;
	if (t->v[p].last == kid)
		t->v[p].last = prev;
	t->v[kid].parent = t->v[kid].next = T_NONE;
}

/* Is a the same as d, or one of d's descendants? */
static int
tree_below(const struct tree *t, size_t a, size_t d)
{
	for (; a != T_NONE; a = t->v[a].parent)
		if (a == d)
			return 1;
	return 0;
}

/* ---- sorting siblings ---- */

static int
tnode_cmp(const void *pa, const void *pb, void *arg)
{
	const struct tree *t = arg;
	const struct tnode *a = &t->v[*(const size_t *)pa];
	const struct tnode *b = &t->v[*(const size_t *)pb];

	if (a->date != b->date)
		return a->date < b->date ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Sort the children of p by their date, then sequence number. */
static void
tree_sort_kids(struct tree *t, size_t p, size_t **tmp, size_t *tmpcap)
{
	size_t n = 0, c, i;

	for (c = t->v[p].child; c != T_NONE; c = t->v[c].next) {
		if (n == *tmpcap) {
			*tmpcap = *tmpcap ? *tmpcap * 2 : 64;
			*tmp = util_reallocarray(*tmp, *tmpcap, sizeof(**tmp));
		}
		(*tmp)[n++] = c;
	}
	if (n < 2)
		return;
	qsort_r(*tmp, n, sizeof(**tmp), tnode_cmp, t);
	t->v[p].child = (*tmp)[0];
	for (i = 0; i + 1 < n; i++)
		t->v[(*tmp)[i]].next = (*tmp)[i + 1];
	t->v[(*tmp)[n - 1]].next = T_NONE;
	t->v[p].last = (*tmp)[n - 1];
}

/* A node's sort key: a message its own; a dummy (only ever at the top)
 * its first child's, the children sorted first (RFC 5256 §3, steps 4
 * and 6). */
static void
tree_key(struct tree *t, size_t x)
{
	size_t c = t->v[x].child;

	if (t->v[x].m != NULL) {
		t->v[x].date = t->v[x].m->sent;
		t->v[x].seq = t->v[x].m->seq;
	} else if (c != T_NONE) {
		t->v[x].date = t->v[c].date;
		t->v[x].seq = t->v[c].seq;
	}
}

/* Step 6: every set of siblings by sent date; the top level last, as
 * its dummies sort by their (sorted) first child. */
static void
tree_sort_all(struct tree *t)
{
	size_t *tmp = NULL, cap = 0, i, c;

	for (i = 0; i < t->n; i++)
		if (t->v[i].m != NULL)
			tree_key(t, i);
	for (i = 0; i < t->n; i++)
		if (i != t->root && t->v[i].child != T_NONE)
			tree_sort_kids(t, i, &tmp, &cap);
	for (c = t->v[t->root].child; c != T_NONE; c = t->v[c].next)
		tree_key(t, c);
	tree_sort_kids(t, t->root, &tmp, &cap);
	free(tmp);
}

/* ---- the answer ---- */

/*
 * Each thread as a thread-list (RFC 5256 §4): a chain of single
 * children is "a b c", two or more children each their own
 * "(...)"; a dummy prints no number.  A stack of the siblings still
 * to print instead of recursion.
 */
static void
tree_print(const struct tree *t, struct buf *b)
{
	size_t *stack = NULL, depth = 0, cap = 0, top, cur, c;

	for (top = t->v[t->root].child; top != T_NONE; top = t->v[top].next) {
		buf_putc(b, '(');
		cur = top;
		for (;;) {
			if (t->v[cur].m != NULL)
				sort_put_num(b, "", t->v[cur].m->num);
			c = t->v[cur].child;
			if (c != T_NONE && t->v[c].next == T_NONE) {
				if (t->v[cur].m != NULL)
					buf_putc(b, ' ');
				cur = c;
				continue;
			}
			if (c != T_NONE) {
				if (t->v[cur].m != NULL)
					buf_putc(b, ' ');
				buf_putc(b, '(');
				if (depth == cap) {
					cap = cap ? cap * 2 : 16;
					stack = util_reallocarray(stack, cap,
					    sizeof(*stack));
				}
				stack[depth++] = t->v[c].next;
				cur = c;
				continue;
			}
			/* The end of a chain: close it, go on with the next
			 * sibling of the innermost group left. */
			buf_putc(b, ')');
			while (depth > 0 && stack[depth - 1] == T_NONE) {
				depth--;
				buf_putc(b, ')');
			}
			if (depth == 0)
				break;
			cur = stack[depth - 1];
			stack[depth - 1] = t->v[cur].next;
			buf_putc(b, '(');
		}
	}
	free(stack);
}

/* ---- ORDEREDSUBJECT (RFC 5256 §3) ---- */

static int
os_cmp(const void *pa, const void *pb, void *arg)
{
	const struct sort_set *set = arg;
	uint32_t ia = *(const uint32_t *)pa, ib = *(const uint32_t *)pb;
	const struct sort_msg *a = &set->v[ia], *b = &set->v[ib];
	int r = strcmp(sort_msg_str(set, ia, SS_SUBJECT),
	    sort_msg_str(set, ib, SS_SUBJECT));

	if (r != 0)
		return r;
	if (a->sent != b->sent)
		return a->sent < b->sent ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/*
 * Sorted by base subject, then sent date; a run of the same base
 * subject is a thread whose first message is the parent of the others
 * (siblings); the threads by the sent date of their first message.
 */
static void
thread_orderedsubject(struct sort_set *set, struct tree *t)
{
	uint32_t *v = util_reallocarray(NULL, set->n + 1, sizeof(*v));
	size_t i, head = T_NONE, x;

	for (i = 0; i < set->n; i++)
		v[i] = (uint32_t)i;
	qsort_r(v, set->n, sizeof(*v), os_cmp, set);
	for (i = 0; i < set->n; i++) {
		x = tree_add(t, &set->v[v[i]]);
		if (i > 0 && strcmp(sort_msg_str(set, v[i], SS_SUBJECT),
		    sort_msg_str(set, v[i - 1], SS_SUBJECT)) == 0)
			tree_append(t, head, x);
		else
			tree_append(t, t->root, head = x);
	}
	free(v);
	/* The children are in date order already; the threads by their
	 * first message. */
	tree_sort_all(t);
}

/* ---- REFERENCES and REFS (RFC 5256 §3) ---- */

/* The next "<id>" of a References: as the store keeps it ("<a> <b>"),
 * NUL-terminated in place; NULL at the end. */
static char *
next_id(char **pp)
{
	char *p = *pp, *q;

	while (*p == ' ')
		p++;
	if (*p == '\0')
		return NULL;
	if ((q = strchr(p, ' ')) != NULL) {
		*q = '\0';
		*pp = q + 1;
	} else
		*pp = strchr(p, '\0');
	return p;
}

/* The node of an id, a dummy made for it if none yet (step 1.A). */
static size_t
id_node(struct tree *t, GHashTable *ids, char *id)
{
	gpointer v;
	size_t x;

	if (g_hash_table_lookup_extended(ids, id, NULL, &v))
		return (size_t)GPOINTER_TO_SIZE(v) - 1;
	x = tree_add(t, NULL);
	g_hash_table_insert(ids, id, GSIZE_TO_POINTER(x + 1));
	return x;
}

/* Step 1: link the messages by their references. */
static void
refs_link(struct sort_set *set, struct tree *t, GHashTable *ids,
    size_t *node)
{
	char *p, *id;
	size_t i, x, parent, kid;
	gpointer v;

	/* Each message's own node; an id a message with a lower sequence
	 * number has already, or none, gives a node of its own. */
	for (i = 0; i < set->n; i++) {
		node[i] = tree_add(t, &set->v[i]);
		id = (char *)sort_msg_str(set, i, SS_MSGID);
		if (id != NULL && !g_hash_table_lookup_extended(ids, id, NULL,
		    &v))
			g_hash_table_insert(ids, id,
			    GSIZE_TO_POINTER(node[i] + 1));
	}
	for (i = 0; i < set->n; i++) {
		/* References, else the first id of In-Reply-To (the set's
		 * own copies: cut into ids in place). */
		if ((p = (char *)sort_msg_str(set, i, SS_REFS)) == NULL)
			p = (char *)sort_msg_str(set, i, SS_IRT);
		parent = T_NONE;
		while (p != NULL && (id = next_id(&p)) != NULL) {
			kid = id_node(t, ids, id);
			/* (A) each reference the parent of the next, unless
			 * the child has one, or it would make a loop */
			if (parent != T_NONE && t->v[kid].parent == T_NONE &&
			    !tree_below(t, parent, kid))
				tree_append(t, parent, kid);
			parent = kid;
		}
		/* (B) the last reference is the message's parent, in place
		 * of any it had (a truncated References: elsewhere). */
		x = node[i];
		if (parent != T_NONE && t->v[x].parent == parent)
			continue;	/* so already (no sibling scan) */
		tree_unlink(t, x);
		if (parent != T_NONE && !tree_below(t, parent, x))
			tree_append(t, parent, x);
	}
}

/*
 * Step 3, below the top: a dummy is replaced by its children (spliced
 * in its place, in order); one without children goes.  The children
 * spliced in are looked at again, so a dummy under a dummy goes too.
 */
static void
refs_splice(struct tree *t, size_t p)
{
	size_t c = t->v[p].child, prev = T_NONE, next, k, first, last;

	while (c != T_NONE) {
		if (t->v[c].m != NULL) {
			prev = c;
			c = t->v[c].next;
			continue;
		}
		next = t->v[c].next;
		first = t->v[c].child;
		last = t->v[c].last;
		for (k = first; k != T_NONE; k = t->v[k].next)
			t->v[k].parent = p;
		if (first == T_NONE) {
			first = next;
		} else
			t->v[last].next = next;
		if (prev == T_NONE)
			t->v[p].child = first;
		else
			t->v[prev].next = first;
		if (next == T_NONE)
			t->v[p].last = last != T_NONE ? last : prev;
		t->v[c].child = t->v[c].next = t->v[c].parent = T_NONE;
		c = first != next ? first : next;
	}
}

/* The top level as an array (for steps 3 and 5), and back. */
static size_t *
top_get(const struct tree *t, size_t *n_r)
{
	size_t n = 0, c, *v;

	for (c = t->v[t->root].child; c != T_NONE; c = t->v[c].next)
		n++;
	v = util_reallocarray(NULL, n + 1, sizeof(*v));
	n = 0;
	for (c = t->v[t->root].child; c != T_NONE; c = t->v[c].next)
		v[n++] = c;
	*n_r = n;
	return v;
}

static void
top_set(struct tree *t, const size_t *v, size_t n)
{
	size_t i;

	t->v[t->root].child = t->v[t->root].last = T_NONE;
	for (i = 0; i < n; i++)
		if (v[i] != T_NONE)
			tree_append(t, t->root, v[i]);
}

/*
 * Steps 2 and 3: every node without a parent under the root; dummies
 * pruned: below the top as refs_splice(); at the top, a dummy with no
 * children goes, one with a single child gives way to it (promoted to
 * the top only then), one with more stays.
 */
static void
refs_prune(struct tree *t)
{
	size_t i, n = t->n, *top, ntop, kid;

	for (i = 0; i < n; i++)
		if (i != t->root && t->v[i].parent == T_NONE)
			tree_append(t, t->root, i);
	for (i = 0; i < n; i++)
		if (i != t->root && t->v[i].child != T_NONE &&
		    (t->v[i].m != NULL || t->v[i].parent == t->root))
			refs_splice(t, i);
	top = top_get(t, &ntop);
	for (i = 0; i < ntop; i++) {
		if (t->v[top[i]].m != NULL)
			continue;
		kid = t->v[top[i]].child;
		if (kid == T_NONE)
			top[i] = T_NONE;
		else if (t->v[kid].next == T_NONE) {
			t->v[top[i]].child = T_NONE;
			top[i] = kid;
		}
	}
	top_set(t, top, ntop);
	free(top);
}

/* The subject of a thread (step 5.B.i): its top message's, or its
 * first child's when it is a dummy. */
static const char *
refs_subject(const struct tree *t, size_t x)
{
	const char *subj;

	if (t->v[x].m == NULL && t->v[x].child != T_NONE)
		x = t->v[x].child;
	if (t->v[x].m == NULL)
		return NULL;
	subj = tmsg_str(t, t->v[x].m, SS_SUBJECT);
	return subj != NULL && subj[0] != '\0' ? subj : NULL;
}

/* Step 5: threads of the same base subject gathered. */
static void
refs_merge_subjects(struct tree *t)
{
	GHashTable *table = g_hash_table_new(g_str_hash, g_str_equal);
	size_t *top, ntop, i, cur, old, d, k, next, *pos;
	const char *subj;
	gpointer v;
	int cur_dummy, old_dummy;

	top = top_get(t, &ntop);
	/* (B) one thread per subject: the first, but a dummy, or a
	 * thread that is no reply before one that is. */
	for (i = 0; i < ntop; i++) {
		cur = top[i];
		if ((subj = refs_subject(t, cur)) == NULL)
			continue;
		if (!g_hash_table_lookup_extended(table, subj, NULL, &v)) {
			g_hash_table_insert(table, (gpointer)subj,
			    GSIZE_TO_POINTER(cur + 1));
			continue;
		}
		old = GPOINTER_TO_SIZE(v) - 1;
		if (t->v[old].m != NULL && (t->v[cur].m == NULL ||
		    (tmsg_reply(t, t->v[old].m) &&
		    !tmsg_reply(t, t->v[cur].m))))
			g_hash_table_insert(table, (gpointer)subj,
			    GSIZE_TO_POINTER(cur + 1));
	}
	/* (C) the others merged into it.  pos: where each top node is in
	 * top[], for a dummy taking its place. */
	pos = util_reallocarray(NULL, t->n + ntop + 1, sizeof(*pos));
	for (i = 0; i < ntop; i++)
		pos[top[i]] = i;
	for (i = 0; i < ntop; i++) {
		if ((cur = top[i]) == T_NONE ||
		    (subj = refs_subject(t, cur)) == NULL)
			continue;
		old = GPOINTER_TO_SIZE(g_hash_table_lookup(table, subj)) - 1;
		if (old == cur)
			continue;
		cur_dummy = t->v[cur].m == NULL;
		old_dummy = t->v[old].m == NULL;
		top[i] = T_NONE;
		t->v[cur].parent = t->v[cur].next = T_NONE;
		if (cur_dummy && old_dummy) {
			/* Its children become the other's. */
			for (k = t->v[cur].child; k != T_NONE; k = next) {
				next = t->v[k].next;
				tree_append(t, old, k);
			}
			t->v[cur].child = t->v[cur].last = T_NONE;
		} else if (old_dummy || (!cur_dummy &&
		    tmsg_reply(t, t->v[cur].m) && !tmsg_reply(t, t->v[old].m)))
			tree_append(t, old, cur);
		else {
			/* A new thread of both under a dummy, in the
			 * other's place. */
			d = tree_add(t, NULL);
			top[pos[old]] = d;
			pos[d] = pos[old];
			t->v[old].parent = t->v[old].next = T_NONE;
			tree_append(t, d, old);
			tree_append(t, d, cur);
			g_hash_table_insert(table, (gpointer)subj,
			    GSIZE_TO_POINTER(d + 1));
		}
	}
	top_set(t, top, ntop);
	free(pos);
	free(top);
	g_hash_table_destroy(table);
}

/* REFS: each thread by its latest message (then as step 6). */
static void
refs_latest(struct tree *t)
{
	size_t *stack, depth, cap = 64, c, x;
	int64_t latest;

	stack = util_reallocarray(NULL, cap, sizeof(*stack));
	for (c = t->v[t->root].child; c != T_NONE; c = t->v[c].next) {
		latest = INT64_MIN;
		depth = 0;
		stack[depth++] = c;
		while (depth > 0) {
			x = stack[--depth];
			if (t->v[x].m != NULL && t->v[x].m->sent > latest)
				latest = t->v[x].m->sent;
			for (x = t->v[x].child; x != T_NONE; x = t->v[x].next) {
				if (depth == cap) {
					cap *= 2;
					stack = util_reallocarray(stack, cap,
					    sizeof(*stack));
				}
				stack[depth++] = x;
			}
		}
		t->v[c].date = latest;
	}
	free(stack);
}

void
thread_build(struct sort_set *set, enum thread_alg alg, struct buf *b)
{
	struct tree t;
	GHashTable *ids;
	size_t *node, *tmp = NULL, cap = 0;

	memset(&t, 0, sizeof(t));
	t.set = set;
	/* The messages, the root, and room for as many dummies. */
	t.cap = set->n * 2 + 16;
	t.v = util_reallocarray(NULL, t.cap, sizeof(*t.v));
	t.root = tree_add(&t, NULL);
	if (alg == THREAD_ORDEREDSUBJECT) {
		thread_orderedsubject(set, &t);
		tree_print(&t, b);
		free(t.v);
		return;
	}
	ids = g_hash_table_new(g_str_hash, g_str_equal);
	node = util_reallocarray(NULL, set->n + 1, sizeof(*node));
	refs_link(set, &t, ids, node);			/* 1 */
	refs_prune(&t);					/* 2, 3 */
	tree_sort_all(&t);				/* 4 */
	if (alg == THREAD_REFERENCES)
		refs_merge_subjects(&t);		/* 5 */
	tree_sort_all(&t);				/* 6 */
	if (alg == THREAD_REFS) {
		refs_latest(&t);
		tree_sort_kids(&t, t.root, &tmp, &cap);
		free(tmp);
	}
	tree_print(&t, b);				/* 7 */
	free(node);
	g_hash_table_destroy(ids);
	free(t.v);
}

/* THREAD algorithm charset search-key... */
int
cmd_thread(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	static const struct {
		const char	*name;
		enum thread_alg	 alg;
	} algs[] = {
		{ "ORDEREDSUBJECT",	THREAD_ORDEREDSUBJECT },
		{ "REFERENCES",		THREAD_REFERENCES },
		{ "REFS",		THREAD_REFS },
	};
	struct sort_set set;
	struct buf *b;
	size_t i;
	int bad;

	for (i = 0; nargs > 0 && i < sizeof(algs) / sizeof(algs[0]); i++)
		if (imap_arg_atom_is(&args[0], algs[i].name))
			break;
	if (nargs == 0 || i == sizeof(algs) / sizeof(algs[0])) {
		imap_tagged(s, "BAD Unknown threading algorithm");
		return -1;
	}
	if (sort_collect(s, args + 1, nargs - 1, SORT_NEED_SUBJECT |
	    SORT_NEED_ORDER | (algs[i].alg != THREAD_ORDEREDSUBJECT ?
	    SORT_NEED_LINKS : 0), &set, &bad) == -1)
		return bad ? -1 : 0;
	b = imap_out(s);
	buf_puts(b, set.n > 0 ? "* THREAD " : "* THREAD");
	thread_build(&set, algs[i].alg, b);
	buf_puts(b, "\r\n");
	imap_out_done(s);
	imap_tagged(s, "OK THREAD completed");
	sort_set_free(&set);
	return 0;
}
