/*
 * THREAD and UID THREAD (RFC 5256 §3): the messages that match, their
 * keys from the index (sort_collect()), threaded by the store's
 * mthread_build() (maildir/thread.c: ORDEREDSUBJECT, REFERENCES and
 * REFS, which the webmail's conversation view uses too), and the tree
 * printed as RFC 5256 §4's thread-list.
 */
#include <stdlib.h>
#include <string.h>

#include "../lib/log.h"
#include "sort.h"

#define T_NONE	MTHREAD_NONE

/* ---- the answer ---- */

/*
 * Each thread as a thread-list (RFC 5256 §4): a chain of single
 * children is "a b c", two or more children each their own
 * "(...)"; a dummy prints no number.  A stack of the siblings still
 * to print instead of recursion.
 */
static void
tree_print(const struct mthread *t, const struct sort_set *set,
    struct buf *b)
{
	size_t *stack = NULL, depth = 0, cap = 0, top, cur, c;

	for (top = t->v[t->root].child; top != T_NONE; top = t->v[top].next) {
		buf_putc(b, '(');
		cur = top;
		for (;;) {
			if (t->v[cur].msg != T_NONE)
				sort_put_num(b, "", set->v[t->v[cur].msg].num);
			c = t->v[cur].child;
			if (c != T_NONE && t->v[c].next == T_NONE) {
				if (t->v[cur].msg != T_NONE)
					buf_putc(b, ' ');
				cur = c;
				continue;
			}
			if (c != T_NONE) {
				if (t->v[cur].msg != T_NONE)
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

/* The set's messages as the store's threading takes them (the set's
 * own strings: the builder cuts the ids in place). */
void
thread_build(struct sort_set *set, enum thread_alg alg, struct buf *b)
{
	static const enum mthread_alg malg[] = {
		[THREAD_ORDEREDSUBJECT] = MTHREAD_ORDEREDSUBJECT,
		[THREAD_REFERENCES] = MTHREAD_REFERENCES,
		[THREAD_REFS] = MTHREAD_REFS,
	};
	struct mthread_msg *v;
	struct mthread t;
	size_t i;

	v = util_reallocarray(NULL, set->n + 1, sizeof(*v));
	for (i = 0; i < set->n; i++) {
		const char *subj = sort_msg_str(set, i, SS_SUBJECT);

		v[i].sent = set->v[i].sent;
		v[i].seq = set->v[i].seq;
		v[i].subject = subj != NULL ? subj : "";
		v[i].reply = set->reply != NULL && set->reply[i];
		v[i].message_id = sort_msg_str(set, i, SS_MSGID);
		v[i].in_reply_to = (char *)sort_msg_str(set, i, SS_IRT);
		v[i].references = (char *)sort_msg_str(set, i, SS_REFS);
	}
	mthread_build(v, set->n, malg[alg], &t);
	tree_print(&t, set, b);
	mthread_free(&t);
	free(v);
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
