/*
 * The list page kept, for the session that asks for it again (a reload,
 * the list after an action, a phone polling it): a page costs the
 * folder pane (every folder opened and synced for its unread count),
 * the rows from the index and their HTML; a page kept costs a stamp of
 * the store (maildir/stamp.c: a statement and a stat of each folder's
 * directories) and a copy.
 *
 * A page is kept under everything it is made from: the request (path
 * and every parameter, so folder, page, sort, order, view), the
 * session's user and CSRF token, the day (a row shows today's time,
 * this year's date), and the store's stamp, which moves with every
 * commit to the index, by this process or another (an IMAP client's
 * flag, expunge or APPEND), and with every directory a delivery or a
 * Maildir client changes; the stamps of the stores of the owners who
 * share folders with the user after it (the pane shows their counts).
 * So a change shows at once, as without the cache.  A page is kept only when the stamp taken after it was made is
 * the stamp taken before (nothing changed while it was made; what the
 * page's own sync wrote is this process's and counted apart) and the
 * directories' mtimes were older than the coarse clock could hide a
 * change in (SYNC_MARGIN_NS of sync.c).  Only the plain list: no
 * message open, no search.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/util.h"
#include "../maildir/maildir.h"
#include "backend.h"

#define PAGECACHE_SLOTS		4
#define PAGECACHE_MAX		(512 * 1024)	/* octets of a page kept */
#define PAGECACHE_MARGIN_NS	100000000LL	/* as sync.c's */

static struct {
	struct buf	 key, stamp, body;
	int64_t		 own;
	int		 used;
}			 slots[PAGECACHE_SLOTS];	/* one session's */
static unsigned int	 slot_next;

static int
buf_same(const struct buf *a, const struct buf *b)
{
	return a->len == b->len && (a->len == 0 ||
	    memcmp(a->data, b->data, a->len) == 0);
}

static void
key_str(struct buf *k, const char *s)
{
	buf_append(k, s != NULL ? s : "", strlen(s != NULL ? s : "") + 1);
}

int
pagecache_get(struct backend *be, const struct web_request *r,
    struct pagecache_try *t, struct resp *rs)
{
	const char *f = web_param(r, "f"), *q = web_param(r, "q");
	char name[1024], day[16];
	time_t now = time(NULL);
	struct tm tm;
	size_t i;

	memset(t, 0, sizeof(*t));
	buf_init(&t->key, 0);
	buf_init(&t->stamp, 0);
	if (web_param(r, "u") != NULL || (q != NULL && q[0] != '\0'))
		return 0;
	gmtime_r(&now, &tm);
	snprintf(day, sizeof(day), "%d-%d", tm.tm_year, tm.tm_yday);
	key_str(&t->key, be->user);
	key_str(&t->key, r->csrf);
	key_str(&t->key, day);
	key_str(&t->key, r->path);
	for (i = 0; i < r->nparams; i++) {
		key_str(&t->key, r->params[i].name);
		key_str(&t->key, r->params[i].value);
	}
	t->start = util_now_nsec();
	if (mstore_stamp(be->st, &t->stamp, &t->own, &t->newest) == -1 ||
	    web_shared_stamp(be, &t->stamp, &t->own, &t->newest) == -1)
		return 0;
	t->ok = 1;
	/* A hit leaves be->mb as a page made would: the folder shown. */
	util_strcpy(name, f != NULL && f[0] != '\0' ? f : "INBOX",
	    sizeof(name));
	maildir_name_normalize(name);
	if (be->mb == NULL || strcmp(be->mb_name, name) != 0)
		return 0;
	for (i = 0; i < PAGECACHE_SLOTS; i++)
		if (slots[i].used && slots[i].own == t->own &&
		    buf_same(&slots[i].key, &t->key) &&
		    buf_same(&slots[i].stamp, &t->stamp)) {
			resp_init(rs, 200, "text/html; charset=utf-8");
			if (buf_append(&rs->body, slots[i].body.data,
			    slots[i].body.len) == -1) {
				buf_release(&rs->body);
				return 0;
			}
			return 1;
		}
	return 0;
}

void
pagecache_put(struct backend *be, struct pagecache_try *t,
    const struct resp *rs)
{
	struct buf after;
	int64_t own, newest;
	unsigned int i;

	if (!t->ok || rs->status != 200 || rs->nheaders != 0 ||
	    strcmp(rs->type, "text/html; charset=utf-8") != 0 ||
	    rs->body.len > PAGECACHE_MAX ||
	    t->newest + PAGECACHE_MARGIN_NS >= t->start)
		return;
	if (slots[0].key.max == 0)	/* static: not buf_init()ed yet */
		for (i = 0; i < PAGECACHE_SLOTS; i++) {
			buf_init(&slots[i].key, 0);
			buf_init(&slots[i].stamp, 0);
			buf_init(&slots[i].body, 0);
		}
	buf_init(&after, 0);
	if (mstore_stamp(be->st, &after, &own, &newest) == 0 &&
	    web_shared_stamp(be, &after, &own, &newest) == 0 &&
	    buf_same(&after, &t->stamp)) {
		for (i = 0; i < PAGECACHE_SLOTS; i++)
			if (slots[i].used && buf_same(&slots[i].key, &t->key))
				break;
		if (i == PAGECACHE_SLOTS) {
			i = slot_next;
			slot_next = (slot_next + 1) % PAGECACHE_SLOTS;
		}
		buf_reset(&slots[i].key);
		buf_reset(&slots[i].stamp);
		buf_reset(&slots[i].body);
		if (buf_append(&slots[i].key, t->key.data, t->key.len) == 0 &&
		    buf_append(&slots[i].stamp, after.data, after.len) == 0 &&
		    buf_append(&slots[i].body, rs->body.data,
		    rs->body.len) == 0) {
			slots[i].own = own;
			slots[i].used = 1;
		} else
			slots[i].used = 0;
	}
	buf_release(&after);
}

void
pagecache_done(struct pagecache_try *t)
{
	buf_release(&t->key);
	buf_release(&t->stamp);
}
