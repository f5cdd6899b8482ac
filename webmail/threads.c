/*
 * The conversation view: a folder's messages in threads, from the
 * index's sort keys (no message is opened), threaded as IMAP's THREAD
 * REFERENCES threads them (the store's mthread_build(): RFC 5256 §3,
 * links by Message-ID, References and In-Reply-To, then step 5's
 * gathering of threads with the same base subject).  A conversation
 * comes in the order of its newest message, newest first, as mail
 * clients show them; within it, each message before its replies,
 * replies to one message oldest first.
 */
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "../lib/util.h"
#include "../maildir/maildir.h"
#include "backend.h"

struct tscan {
	struct mthread_msg *v;
	uint32_t	*uids;
	size_t		 n, cap;
	GStringChunk	*strings;	/* the keys' copies */
};

static char *
keep(struct tscan *ts, const char *s)
{
	return s != NULL ? g_string_chunk_insert(ts->strings, s) : NULL;
}

static int
scan_cb(const struct msortkeys *k, void *arg)
{
	struct tscan *ts = arg;
	struct mthread_msg *m;

	if (ts->n == ts->cap) {
		ts->cap = ts->cap ? ts->cap * 2 : 256;
		ts->v = util_reallocarray(ts->v, ts->cap, sizeof(*ts->v));
		ts->uids = util_reallocarray(ts->uids, ts->cap,
		    sizeof(*ts->uids));
	}
	ts->uids[ts->n] = k->uid;
	m = &ts->v[ts->n];
	m->sent = k->sent;
	m->seq = (uint32_t)ts->n + 1;	/* UID order */
	m->subject = keep(ts, k->base_subject != NULL ? k->base_subject : "");
	m->reply = k->reply;
	m->message_id = keep(ts, k->message_id);
	m->in_reply_to = keep(ts, k->in_reply_to);
	m->references = keep(ts, k->references);
	ts->n++;
	return 0;
}

int
web_threads(struct backend *be, uint32_t **uids_r, unsigned char **child_r,
    size_t *n_r)
{
	struct tscan ts;
	struct mthread t;
	size_t top, x, *stack, depth, o = 0;
	int first;

	memset(&ts, 0, sizeof(ts));
	ts.strings = g_string_chunk_new(65536);
	if (mbox_sort_keys(be->mb, MSK_TEXT | MSK_LINKS | MSK_ORDERED,
	    scan_cb, &ts) == -1) {
		g_string_chunk_free(ts.strings);
		free(ts.v);
		free(ts.uids);
		return -1;
	}
	mthread_build(ts.v, ts.n, MTHREAD_REFERENCES, &t);
	mthread_sort_latest(&t, ts.v, 1);
	*uids_r = util_calloc(ts.n + 1, sizeof(**uids_r));
	*child_r = util_calloc(ts.n + 1, 1);
	/* Each thread in preorder, with a stack rather than recursion (a
	 * References: chain may be thousands long). */
	stack = util_reallocarray(NULL, t.n + 1, sizeof(*stack));
	for (top = t.v[t.root].child; top != MTHREAD_NONE;
	    top = t.v[top].next) {
		first = 1;
		depth = 0;
		stack[depth++] = top;
		while (depth > 0) {
			x = stack[--depth];
			if (t.v[x].next != MTHREAD_NONE && x != top)
				stack[depth++] = t.v[x].next;
			if (t.v[x].child != MTHREAD_NONE)
				stack[depth++] = t.v[x].child;
			if (t.v[x].msg == MTHREAD_NONE || o == ts.n)
				continue;
			(*uids_r)[o] = ts.uids[t.v[x].msg];
			(*child_r)[o++] = !first;
			first = 0;
		}
	}
	*n_r = o;
	free(stack);
	mthread_free(&t);
	g_string_chunk_free(ts.strings);
	free(ts.v);
	free(ts.uids);
	return 0;
}
