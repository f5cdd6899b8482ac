/*
 * Threads of messages, as RFC 5256 §3 builds them: ORDEREDSUBJECT,
 * REFERENCES (its steps 1 to 6 as written, subject merging included)
 * and REFS (as Dovecot implements draft-ietf-morg-inthread's:
 * REFERENCES without the subject merging of step 5, the threads ordered
 * by their latest message).  IMAP's THREAD prints the tree (imapd), the
 * webmail's conversation view lists it; both from the index's keys
 * (mbox_sort_keys()), so one algorithm serves both.
 *
 * Every message and every id a References: names is a node of one
 * array; the tree is first-child / next-sibling links in it.  Nothing
 * here recurses: a hostile References: chain of thousands of ids costs
 * a long walk, never a deep stack.
 */
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "../lib/util.h"
#include "maildir.h"

#define T_NONE	MTHREAD_NONE

struct tree {
	struct mthread_node *v;
	size_t		 n, cap;
	size_t		 root;		/* the dummy over every thread */
	const struct mthread_msg *msgs;
};

static const struct mthread_msg *
tmsg(const struct tree *t, size_t x)
{
	return t->v[x].msg == T_NONE ? NULL : &t->msgs[t->v[x].msg];
}

static size_t
tree_add(struct tree *t, size_t msg)
{
	struct mthread_node *x;

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->v = util_reallocarray(t->v, t->cap, sizeof(*t->v));
	}
	x = &t->v[t->n];
	memset(x, 0, sizeof(*x));
	x->msg = msg;
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
	const struct mthread_node *a = &t->v[*(const size_t *)pa];
	const struct mthread_node *b = &t->v[*(const size_t *)pb];

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
	const struct mthread_msg *m = tmsg(t, x);
	size_t c = t->v[x].child;

	if (m != NULL) {
		t->v[x].date = m->sent;
		t->v[x].seq = m->seq;
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
		if (t->v[i].msg != T_NONE)
			tree_key(t, i);
	for (i = 0; i < t->n; i++)
		if (i != t->root && t->v[i].child != T_NONE)
			tree_sort_kids(t, i, &tmp, &cap);
	for (c = t->v[t->root].child; c != T_NONE; c = t->v[c].next)
		tree_key(t, c);
	tree_sort_kids(t, t->root, &tmp, &cap);
	free(tmp);
}

/* ---- ORDEREDSUBJECT ---- */

static int
os_cmp(const void *pa, const void *pb, void *arg)
{
	const struct mthread_msg *v = arg;
	const struct mthread_msg *a = &v[*(const size_t *)pa];
	const struct mthread_msg *b = &v[*(const size_t *)pb];
	int r = strcmp(a->subject, b->subject);

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
thread_orderedsubject(struct tree *t, size_t n)
{
	size_t *v = util_reallocarray(NULL, n + 1, sizeof(*v));
	size_t i, head = T_NONE, x;

	for (i = 0; i < n; i++)
		v[i] = i;
	qsort_r(v, n, sizeof(*v), os_cmp, (void *)t->msgs);
	for (i = 0; i < n; i++) {
		x = tree_add(t, v[i]);
		if (i > 0 && strcmp(t->msgs[v[i]].subject,
		    t->msgs[v[i - 1]].subject) == 0)
			tree_append(t, head, x);
		else
			tree_append(t, t->root, head = x);
	}
	free(v);
	/* The children are in date order already; the threads by their
	 * first message. */
	tree_sort_all(t);
}

/* ---- REFERENCES and REFS ---- */

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
	x = tree_add(t, T_NONE);
	g_hash_table_insert(ids, id, GSIZE_TO_POINTER(x + 1));
	return x;
}

/* Step 1: link the messages by their references. */
static void
refs_link(struct mthread_msg *msgs, size_t n, struct tree *t,
    GHashTable *ids, size_t *node)
{
	char *p, *id;
	size_t i, x, parent, kid;
	gpointer v;

	/* Each message's own node; an id a message earlier in the set
	 * has already, or none, gives a node of its own. */
	for (i = 0; i < n; i++) {
		node[i] = tree_add(t, i);
		id = (char *)msgs[i].message_id;
		if (id != NULL && !g_hash_table_lookup_extended(ids, id, NULL,
		    &v))
			g_hash_table_insert(ids, id,
			    GSIZE_TO_POINTER(node[i] + 1));
	}
	for (i = 0; i < n; i++) {
		/* References, else the first id of In-Reply-To (cut into
		 * ids in place). */
		if ((p = msgs[i].references) == NULL)
			p = msgs[i].in_reply_to;
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
		if (t->v[c].msg != T_NONE) {
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
		    (t->v[i].msg != T_NONE || t->v[i].parent == t->root))
			refs_splice(t, i);
	top = top_get(t, &ntop);
	for (i = 0; i < ntop; i++) {
		if (t->v[top[i]].msg != T_NONE)
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
	const struct mthread_msg *m;

	if (t->v[x].msg == T_NONE && t->v[x].child != T_NONE)
		x = t->v[x].child;
	if ((m = tmsg(t, x)) == NULL)
		return NULL;
	return m->subject != NULL && m->subject[0] != '\0' ? m->subject :
	    NULL;
}

/* Is x a message whose subject says it is a reply or forward? */
static int
refs_reply(const struct tree *t, size_t x)
{
	const struct mthread_msg *m = tmsg(t, x);

	return m != NULL && m->reply;
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
		if (t->v[old].msg != T_NONE && (t->v[cur].msg == T_NONE ||
		    (refs_reply(t, old) && !refs_reply(t, cur))))
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
		cur_dummy = t->v[cur].msg == T_NONE;
		old_dummy = t->v[old].msg == T_NONE;
		top[i] = T_NONE;
		t->v[cur].parent = t->v[cur].next = T_NONE;
		if (cur_dummy && old_dummy) {
			/* Its children become the other's. */
			for (k = t->v[cur].child; k != T_NONE; k = next) {
				next = t->v[k].next;
				tree_append(t, old, k);
			}
			t->v[cur].child = t->v[cur].last = T_NONE;
		} else if (old_dummy || (!cur_dummy && refs_reply(t, cur) &&
		    !refs_reply(t, old)))
			tree_append(t, old, cur);
		else {
			/* A new thread of both under a dummy, in the
			 * other's place. */
			d = tree_add(t, T_NONE);
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

/* The threads by their latest message (each top node's date). */
static void
sort_latest(struct tree *t)
{
	size_t *stack, depth, cap = 64, c, x;
	const struct mthread_msg *m;
	int64_t latest;

	stack = util_reallocarray(NULL, cap, sizeof(*stack));
	for (c = t->v[t->root].child; c != T_NONE; c = t->v[c].next) {
		latest = INT64_MIN;
		depth = 0;
		stack[depth++] = c;
		while (depth > 0) {
			x = stack[--depth];
			if ((m = tmsg(t, x)) != NULL && m->sent > latest)
				latest = m->sent;
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
	stack = NULL;
	cap = 0;
	tree_sort_kids(t, t->root, &stack, &cap);
	free(stack);
}

void
mthread_build(struct mthread_msg *msgs, size_t n, enum mthread_alg alg,
    struct mthread *out)
{
	struct tree t;
	GHashTable *ids;
	size_t *node;

	memset(&t, 0, sizeof(t));
	t.msgs = msgs;
	/* The messages, the root, and room for as many dummies. */
	t.cap = n * 2 + 16;
	t.v = util_reallocarray(NULL, t.cap, sizeof(*t.v));
	t.root = tree_add(&t, T_NONE);
	if (alg == MTHREAD_ORDEREDSUBJECT)
		thread_orderedsubject(&t, n);
	else {
		ids = g_hash_table_new(g_str_hash, g_str_equal);
		node = util_reallocarray(NULL, n + 1, sizeof(*node));
		refs_link(msgs, n, &t, ids, node);	/* 1 */
		refs_prune(&t);				/* 2, 3 */
		tree_sort_all(&t);			/* 4 */
		if (alg == MTHREAD_REFERENCES)
			refs_merge_subjects(&t);	/* 5 */
		tree_sort_all(&t);			/* 6 */
		if (alg == MTHREAD_REFS)
			sort_latest(&t);		/* REFS */
		free(node);
		g_hash_table_destroy(ids);
	}
	out->v = t.v;
	out->n = t.n;
	out->root = t.root;
}

void
mthread_sort_latest(struct mthread *t, const struct mthread_msg *msgs,
    int newest_first)
{
	struct tree tt = { t->v, t->n, t->n, t->root, msgs };
	size_t c, next, prev = T_NONE;

	sort_latest(&tt);
	if (!newest_first)
		return;
	t->v[t->root].last = t->v[t->root].child;
	for (c = t->v[t->root].child; c != T_NONE; c = next) {
		next = t->v[c].next;
		t->v[c].next = prev;
		prev = c;
	}
	t->v[t->root].child = prev;
}

void
mthread_free(struct mthread *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}
