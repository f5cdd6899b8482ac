/*
 * The conversation view: a folder's messages in threads, from the
 * index's summaries (no message is opened).  Messages are linked as RFC
 * 5256's REFERENCES algorithm links them, by Message-ID, References and
 * In-Reply-To (each message joins the thread of every id it names;
 * without ids it stands alone); a thread comes in the order of its
 * newest message, newest first, its messages oldest first under the
 * first.  (Not yet: the subject merging of §2.2 step 5.)
 */
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "../lib/util.h"
#include "../maildir/maildir.h"
#include "backend.h"

struct tmsg {
	uint32_t	 uid;
	int64_t		 sent;
	size_t		 set;		/* union-find parent (an index) */
	int64_t		 newest;	/* the thread's, on its root */
};

struct tscan {
	struct tmsg	*v;
	size_t		 n, cap;
	GHashTable	*ids;		/* Message-ID -> index + 1 */
};

static size_t
find(struct tmsg *v, size_t i)
{
	while (v[i].set != i) {
		v[i].set = v[v[i].set].set;
		i = v[i].set;
	}
	return i;
}

static void
join(struct tmsg *v, size_t a, size_t b)
{
	a = find(v, a);
	b = find(v, b);
	if (a != b)
		v[b].set = a;
}

/* Each "<id>" in s: join message i with its owner, or claim it. */
static void
link_ids(struct tscan *ts, size_t i, const char *s, int own)
{
	const char *p = s, *q;
	gpointer got;
	char *id;

	while (p != NULL && (p = strchr(p, '<')) != NULL &&
	    (q = strchr(p, '>')) != NULL) {
		id = g_strndup(p, (gsize)(q - p + 1));
		if ((got = g_hash_table_lookup(ts->ids, id)) != NULL) {
			join(ts->v, (size_t)GPOINTER_TO_SIZE(got) - 1, i);
			g_free(id);
		} else
			g_hash_table_insert(ts->ids, id,
			    GSIZE_TO_POINTER(i + 1));
		p = q + 1;
		if (own)
			break;		/* a Message-ID has one id */
	}
}

static int
scan_cb(const struct msummary *m, void *arg)
{
	struct tscan *ts = arg;
	size_t i;

	if (ts->n == ts->cap) {
		ts->cap = ts->cap ? ts->cap * 2 : 256;
		ts->v = util_reallocarray(ts->v, ts->cap, sizeof(*ts->v));
	}
	i = ts->n++;
	ts->v[i].uid = m->uid;
	ts->v[i].sent = m->sent;
	ts->v[i].set = i;
	if (m->message_id != NULL)
		link_ids(ts, i, m->message_id, 1);
	if (m->references != NULL)
		link_ids(ts, i, m->references, 0);
	if (m->in_reply_to != NULL)
		link_ids(ts, i, m->in_reply_to, 0);
	return 0;
}

static struct tmsg *sort_base;

static int
thread_cmp(const void *a, const void *b)
{
	const size_t x = *(const size_t *)a, y = *(const size_t *)b;
	const struct tmsg *v = sort_base;
	size_t rx = find(sort_base, x), ry = find(sort_base, y);

	if (rx != ry) {
		if (v[rx].newest != v[ry].newest)
			return v[rx].newest > v[ry].newest ? -1 : 1;
		return rx < ry ? -1 : 1;
	}
	if (v[x].sent != v[y].sent)
		return v[x].sent < v[y].sent ? -1 : 1;
	return v[x].uid < v[y].uid ? -1 : 1;
}

int
web_threads(struct backend *be, uint32_t **uids_r, unsigned char **child_r,
    size_t *n_r)
{
	struct tscan ts;
	uint32_t total;
	size_t i, r, *order;

	memset(&ts, 0, sizeof(ts));
	ts.ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	if (mbox_summaries(be->mb, MSORT_DATE, 0, 0, UINT32_MAX, scan_cb, &ts,
	    &total) == -1) {
		g_hash_table_destroy(ts.ids);
		free(ts.v);
		return -1;
	}
	g_hash_table_destroy(ts.ids);
	for (i = 0; i < ts.n; i++)
		ts.v[i].newest = INT64_MIN;
	for (i = 0; i < ts.n; i++) {
		r = find(ts.v, i);
		if (ts.v[i].sent > ts.v[r].newest)
			ts.v[r].newest = ts.v[i].sent;
	}
	order = util_calloc(ts.n + 1, sizeof(*order));
	for (i = 0; i < ts.n; i++)
		order[i] = i;
	sort_base = ts.v;
	qsort(order, ts.n, sizeof(*order), thread_cmp);
	*uids_r = util_calloc(ts.n + 1, sizeof(**uids_r));
	*child_r = util_calloc(ts.n + 1, 1);
	for (i = 0; i < ts.n; i++) {
		(*uids_r)[i] = ts.v[order[i]].uid;
		(*child_r)[i] = i > 0 && find(ts.v, order[i]) ==
		    find(ts.v, order[i - 1]);
	}
	*n_r = ts.n;
	free(order);
	free(ts.v);
	return 0;
}
