/*
 * NOTIFY (RFC 5465): what changed, found.  One inotify descriptor
 * (maildir's notify.c) wakes the session when the index or the Maildir
 * changes; then the folders now are read and set against the folders
 * before, and notify_send.c tells the differences.  Also the selected
 * mailbox's watch, what the session's own commands did (no news to
 * it, §5), and the wait between commands and in IDLE (§4).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/inotify.h>

#include "../lib/daemon.h"
#include "../lib/log.h"
#include "notify_int.h"

/* ---- the folders now, against the folders before ---- */

void
notify_boxes_free(struct notify_box *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(b[i].name);
	free(b);
}

struct collect {
	struct notify_box *b;
	size_t		 n, cap;
};

static void
collect_cb(const char *name, unsigned int attrs, void *arg)
{
	struct collect *c = arg;

	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 32;
		if ((c->b = realloc(c->b, c->cap * sizeof(*c->b))) == NULL)
			fatal("realloc");
	}
	memset(&c->b[c->n], 0, sizeof(c->b[c->n]));
	c->b[c->n].name = util_strdup(name);
	c->b[c->n++].attrs = attrs;
}

static int
box_cmp(const void *a, const void *b)
{
	return strcmp(((const struct notify_box *)a)->name,
	    ((const struct notify_box *)b)->name);
}

struct notify_box *
notify_box_find(struct notify_box *b, size_t n, const char *name)
{
	struct notify_box key;

	key.name = (char *)name;
	return n == 0 ? NULL : bsearch(&key, b, n, sizeof(*b), box_cmp);
}

static int
stamp_cb(const struct mstamp *m, void *arg)
{
	struct collect *c = arg;
	struct notify_box *b = notify_box_find(c->b, c->n, m->name);

	if (b != NULL) {
		b->id = m->id;
		b->uidvalidity = m->uidvalidity;
		b->uidnext = m->uidnext;
		b->modseq = m->highestmodseq;
	}
	return 0;
}

/*
 * Every folder with its attributes and stamps, sorted; 0 or -1.  Under
 * the store's lock: a RENAME moves directories before its rows, in one
 * transaction, and the rows must name what is on disk.
 */
static int
boxes_read(struct imap_session *s, struct collect *c)
{
	memset(c, 0, sizeof(*c));
	if (mstore_begin(s->store) == -1)
		return -1;
	if (mstore_list(s->store, collect_cb, c) == -1)
		goto fail;
	if (c->n > 1)
		qsort(c->b, c->n, sizeof(*c->b), box_cmp);
	if (mstore_stamps(s->store, stamp_cb, c) == -1)
		goto fail;
	if (mstore_commit(s->store) == 0)
		return 0;
	goto out;
fail:
	mstore_rollback(s->store);
out:
	notify_boxes_free(c->b, c->n);
	c->b = NULL;
	c->n = 0;
	return -1;
}

/* Count a folder again; what happened since (NE_*), 0 the first time. */
static unsigned int
box_count(struct imap_session *s, struct notify_box *b)
{
	struct mbox_status st, *o = &b->st;
	unsigned int happened = 0;

	if (mstore_status(s->store, b->name, &st) == -1)
		return 0;
	if (b->counted) {
		if (st.uidvalidity != o->uidvalidity)
			happened = NE_NEW | NE_EXPUNGE | NE_FLAGS;
		if (st.uidnext != o->uidnext)
			happened |= NE_NEW;
		/* fewer than before plus what came: some went */
		if ((uint64_t)st.messages < (uint64_t)o->messages +
		    (st.uidnext - o->uidnext))
			happened |= NE_EXPUNGE;
		if (st.highestmodseq != o->highestmodseq &&
		    !(happened & (NE_NEW | NE_EXPUNGE)))
			happened |= NE_FLAGS;
		if (st.unseen != o->unseen)
			happened |= NE_FLAGS;
	}
	b->st = st;
	b->counted = 1;
	return happened;
}

/* The folders' LIST responses (when emit): made, gone, renamed,
 * (un)subscribed; and the counts of the folders before carried over to
 * the same folders now (a renamed one's too). */
static void
list_changes(struct imap_session *s, struct notify_box *old, size_t nold,
    struct notify_box *now, size_t nnow, int emit)
{
	struct notify *n = s->notify;
	struct notify_box *o, *b;
	unsigned char *renamed = util_calloc(nnow + 1, 1);
	size_t i, k;
	int sub_o, sub_b;

	for (i = 0; i < nold; i++) {
		o = &old[i];
		b = notify_box_find(now, nnow, o->name);
		sub_o = (o->attrs & MFA_SUBSCRIBED) != 0;
		sub_b = b != NULL && (b->attrs & MFA_SUBSCRIBED);
		if (notify_box_exists(o) && !notify_box_exists(b)) {
			/* gone, or renamed: its row has another name */
			for (k = 0; o->id != 0 && k < nnow; k++)
				if (now[k].id == o->id &&
				    notify_box_exists(&now[k]) &&
				    !notify_box_exists(notify_box_find(old,
				    nold, now[k].name)))
					break;
			if (o->id != 0 && k < nnow) {
				renamed[k] = 1;
				if (emit && ((notify_box_events(n, o->name,
				    o->attrs) | notify_box_events(n,
				    now[k].name, now[k].attrs)) & NE_NAME))
					notify_put_list(s, now[k].name,
					    now[k].attrs, 1, o->name);
				/* its counts go with it */
				now[k].st = o->st;
				now[k].counted = o->counted;
			} else if (emit && (notify_box_events(n, o->name,
			    o->attrs) & NE_NAME))
				notify_put_list(s, o->name, b != NULL ?
				    b->attrs : 0, 0, NULL);
		} else if (emit && sub_o != sub_b &&
		    ((notify_box_events(n, o->name, b != NULL ? b->attrs :
		    o->attrs) | notify_box_events(n, o->name, o->attrs)) &
		    NE_SUBSCRIPTION))
			notify_put_list(s, o->name, b != NULL ? b->attrs : 0,
			    notify_box_exists(b), NULL);
		if (b != NULL && notify_box_exists(o) &&
		    notify_box_exists(b)) {
			b->st = o->st;
			b->counted = o->counted;
			b->norow = o->norow;
		}
	}
	for (k = 0; k < nnow; k++) {
		b = &now[k];
		if (!notify_box_exists(b) || renamed[k] ||
		    notify_box_exists(notify_box_find(old, nold, b->name)))
			continue;
		if (emit && (notify_box_events(n, b->name, b->attrs) &
		    NE_NAME))
			notify_put_list(s, b->name, b->attrs, 1, NULL);
	}
	free(renamed);
}

/* ---- other folders' new/ and cur/ ---- */

/*
 * Files another program drops into a folder's new/ (procmail, a sieve
 * filter: not through the store) reach the index only when a process
 * syncs that folder.  The INBOX's new/ is watched from the start
 * (mstore_watch()); so is every other folder whose messages a filter
 * watches for MessageNew, and the folder is synced when its new/ wakes
 * (RFC 5465 §5.1: STATUS, as for a message APPENDed there).
 *
 * So too cur/, for a folder watched for FlagChange (§5.2): a program
 * that changes a message's flags renames its file there (mutt: ":2,S"
 * to ":2,SF"); the sync sees the new name and moves the folder's
 * HIGHESTMODSEQ, which gives its STATUS.  Our own renames (a STORE of
 * this session or another) wake it too, but the store marks cur/ up to
 * date after them (store_cur_changed()), so that sync is two stat()s
 * and a row; a sync's own renames (new/ into cur/) wake it once more
 * and find it up to date: no loop.
 *
 * And for MessageExpunge (§5.3), which every filter with message events
 * has (§5: MessageNew goes with it, FlagChange needs both): a program
 * that deletes a message removes its file from cur/ (or moves it out),
 * and the sync counts one fewer: STATUS.  Such a folder watched without
 * FlagChange wakes for flag renames too (inotify cannot tell a rename
 * within cur/ from a move out until the pair is read), is synced, and
 * tells nothing: box_count() says "flags", which it does not want.
 */

static void
dirs_free(struct notify_newdir **d, size_t *n)
{
	size_t i;

	for (i = 0; i < *n; i++)
		free((*d)[i].name);
	free(*d);
	*d = NULL;
	*n = 0;
}

void
notify_newdirs_free(struct notify *n)
{
	dirs_free(&n->newdirs, &n->nnewdirs);
	dirs_free(&n->curdirs, &n->ncurdirs);
}

static struct notify_newdir *
newdir_by_wd(struct notify_newdir *d, size_t n, int wd)
{
	size_t i;

	for (i = 0; wd != -1 && i < n; i++)
		if (d[i].wd == wd)
			return &d[i];
	return NULL;
}

/* Sync the folders whose new/ or cur/ woke: what was dropped there
 * enters the index, and moves the folder's stamps. */
static void
newdirs_sync(struct imap_session *s)
{
	struct notify *n = s->notify;
	struct mbox_status st;
	size_t i, k;

	for (i = 0; i < n->nnewdirs; i++)
		if (n->newdirs[i].pending) {
			n->newdirs[i].pending = 0;
			(void)mstore_status(s->store, n->newdirs[i].name, &st);
			/* one sync does both */
			for (k = 0; k < n->ncurdirs; k++)
				if (strcmp(n->curdirs[k].name,
				    n->newdirs[i].name) == 0)
					n->curdirs[k].pending = 0;
		}
	for (i = 0; i < n->ncurdirs; i++)
		if (n->curdirs[i].pending) {
			n->curdirs[i].pending = 0;
			(void)mstore_status(s->store, n->curdirs[i].name, &st);
		}
}

/*
 * Watch the new/ (cur 0) or the cur/ (cur 1) of each folder of now[]
 * whose messages are watched for MessageNew (new/; the INBOX's is
 * already) or FlagChange or MessageExpunge (cur/), at most
 * NOTIFY_MAX_NEW_WATCHES
 * (NOTIFY_MAX_CUR_WATCHES); stop watching those of folders gone,
 * renamed or out of the filters.  A directory watched twice is one
 * watch: one the INBOX's, the selected mailbox's or another entry's
 * shares is left in place.
 */
static void
dirs_update(struct imap_session *s, struct notify_box *now, size_t nnow,
    int cur)
{
	struct notify *n = s->notify;
	struct notify_newdir *keep, *d, **dirs;
	struct notify_box *b;
	size_t i, k, nkeep = 0, *ndirs, max;
	unsigned int want;
	int wd, *full, sel_wd;

	dirs = cur ? &n->curdirs : &n->newdirs;
	ndirs = cur ? &n->ncurdirs : &n->nnewdirs;
	full = cur ? &n->curdirs_full : &n->newdirs_full;
	max = cur ? NOTIFY_MAX_CUR_WATCHES : NOTIFY_MAX_NEW_WATCHES;
	want = cur ? NE_FLAGS | NE_EXPUNGE : NE_NEW;
	sel_wd = n->sel_wd[cur ? 1 : 0];
	keep = util_calloc(max + 1, sizeof(*keep));
	for (i = 0; i < nnow; i++) {
		b = &now[i];
		if (!notify_box_exists(b) || (!cur && strcmp(b->name,
		    "INBOX") == 0) || !notify_box_watched(s, b) ||
		    !(notify_box_events(n, b->name, b->attrs) & want))
			continue;
		if (nkeep == max) {
			if (!(*full)++)
				log_info("sid=%s notify: more than %zu folders'"
				    " %s/ to watch", s->id, max,
				    cur ? "cur" : "new");
			break;
		}
		for (k = 0; k < *ndirs; k++)
			if ((*dirs)[k].name != NULL && (*dirs)[k].wd != -1 &&
			    strcmp((*dirs)[k].name, b->name) == 0)
				break;
		if (k < *ndirs) {		/* watched already */
			keep[nkeep++] = (*dirs)[k];
			(*dirs)[k].name = NULL;
			continue;
		}
		wd = cur ? mstore_watch_cur(s->store, n->fd, b->name) :
		    mstore_watch_new(s->store, n->fd, b->name);
		if (wd == -1) {
			log_warn("sid=%s notify: cannot watch %s/%s: %s",
			    s->id, log_str(b->name), cur ? "cur" : "new",
			    strerror(errno));
			continue;
		}
		keep[nkeep].name = util_strdup(b->name);
		keep[nkeep].wd = wd;
		keep[nkeep++].pending = 0;
	}
	for (k = 0; k < *ndirs; k++) {
		d = &(*dirs)[k];
		if (d->name == NULL)
			continue;
		if (d->wd != -1 && d->wd != n->inbox_wd && d->wd != sel_wd &&
		    newdir_by_wd(keep, nkeep, d->wd) == NULL)
			inotify_rm_watch(n->fd, d->wd);
		free(d->name);
	}
	free(*dirs);
	*dirs = keep;
	*ndirs = nkeep;
}

/*
 * Look at every folder: emit_list says whether changes of the list are
 * news (not after this session's own CREATE ...); folders watched for
 * the first time are counted quietly.  STATUS for the others that
 * changed.  0 or -1 (store error: nothing sent).
 */
int
notify_boxes_refresh(struct imap_session *s, int emit_list, int emit_status)
{
	struct notify *n = s->notify;
	struct collect c;
	struct notify_box *b;
	unsigned int happened, ev;
	size_t i, watched = 0;

	/* Deliveries wait in the INBOX's new/ until a sync takes them. */
	b = notify_box_find(n->boxes, n->nboxes, "INBOX");
	if (n->inbox_new && b != NULL && notify_box_watched(s, b)) {
		struct mbox_status st;

		(void)mstore_status(s->store, "INBOX", &st);
	}
	n->inbox_new = 0;
	newdirs_sync(s);
	if (boxes_read(s, &c) == -1)
		return -1;
	list_changes(s, n->boxes, n->nboxes, c.b, c.n, emit_list &&
	    (n->events & (NE_NAME | NE_SUBSCRIPTION)));
	/* Before counting: a file dropped after the count wakes us. */
	dirs_update(s, c.b, c.n, 0);
	dirs_update(s, c.b, c.n, 1);
	for (i = 0; i < c.n; i++) {
		b = &c.b[i];
		if (!notify_box_watched(s, b)) {
			b->counted = 0;	/* counted again when watched */
			continue;
		}
		if (++watched > NOTIFY_MAX_WATCHED)
			break;
		/*
		 * No row yet: a CREATE between its directories and its row
		 * (store.c makes them one after the other), whose row comes
		 * with a UIDVALIDITY of its own; opening it now would make
		 * another.  A folder another program made has none until
		 * opened: it is, a second later.
		 */
		if (b->id == 0) {
			if (b->norow == 0)
				b->norow = util_now();
			if (util_now() - b->norow < 1.0)
				continue;
		}
		if (b->counted && b->uidvalidity == b->st.uidvalidity &&
		    b->uidnext == b->st.uidnext &&
		    b->modseq == b->st.highestmodseq)
			continue;	/* nothing moved */
		ev = notify_box_events(n, b->name, b->attrs);
		happened = box_count(s, b);
		if (emit_status && (happened & ev))
			notify_put_status(s, b->name, &b->st, ev);
	}
	notify_boxes_free(n->boxes, n->nboxes);
	n->boxes = c.b;
	n->nboxes = c.n;
	if (watched > NOTIFY_MAX_WATCHED && emit_status)
		notify_overflow(s, "Too many mailboxes to watch");
	return 0;
}

/* ---- the selected mailbox ---- */

/* Keep the selected mailbox's new/ and cur/ in the watch set; 1 when
 * another mailbox is selected now. */
static int
watch_selected(struct imap_session *s)
{
	struct notify *n = s->notify;
	struct mbox *want = n->sel_events != 0 ? s->mb : NULL;
	const char *name = want != NULL ? mbox_name(want) : "";

	if (strcmp(name, n->sel_name) == 0)
		return 0;
	/* (a folder's new/ watched for another program's files too is
	 * one watch, which that goes on using) */
	if (newdir_by_wd(n->newdirs, n->nnewdirs, n->sel_wd[0]) != NULL)
		n->sel_wd[0] = -1;
	if (newdir_by_wd(n->curdirs, n->ncurdirs, n->sel_wd[1]) != NULL)
		n->sel_wd[1] = -1;
	if (n->sel_name[0] != '\0')
		mbox_watch_remove(n->fd, n->sel_wd, n->inbox_wd);
	util_strcpy(n->sel_name, name, sizeof(n->sel_name));
	if (want != NULL && mbox_watch_add(want, n->fd, n->sel_wd) == -1)
		log_warn("sid=%s notify: cannot watch %s", s->id,
		    log_str(name));
	return 1;
}

static void
vanished_count_cb(uint32_t uid, void *arg)
{
	(void)uid;
	(*(size_t *)arg)++;
}

/* What changed in the selected mailbox, as the filter wants it; 0, or
 * -1 when the mailbox cannot be read. */
static int
push_selected(struct imap_session *s, int idle)
{
	struct notify *n = s->notify;
	uint64_t modseq;
	uint32_t uidnext;
	size_t vanished = 0;
	int allow_expunge = idle || !n->sel_delayed, r;

	if (s->mb == NULL || n->sel_events == 0)
		return 0;
	if (mbox_sync(s->mb) == -1 || mbox_get_modseq(s->mb, &uidnext,
	    &modseq) == -1)
		return -1;
	if (uidnext == s->view.uidnext && modseq <= s->view.modseq &&
	    (!allow_expunge || modseq <= s->view.expunge_modseq))
		return 0;
	if (!(n->sel_events & NE_FLAGS) && uidnext == s->view.uidnext) {
		/* flags alone are not asked for: only expunges */
		if (!allow_expunge || mbox_vanished(s->mb,
		    s->view.expunge_modseq, vanished_count_cb,
		    &vanished) == -1 || vanished == 0)
			return 0;
	}
	s->cmd_name = NULL;
	r = imap_view_notify(s, allow_expunge);
	return r;
}

/* ---- between commands and in IDLE ---- */

/*
 * Nothing is read unless the descriptor woke since the last look (a
 * command that changed nothing costs nothing), or another mailbox was
 * selected (the one before is watched now); in IDLE the selected
 * mailbox is looked at anyway: expunges selected-delayed kept back
 * may go now.
 */
int
notify_push(struct imap_session *s, int idle)
{
	struct notify *n = s->notify;

	if (n->off)	/* as NOTIFY NONE: IDLE as without NOTIFY */
		return idle && s->mb != NULL ? imap_view_update(s, 1) : 0;
	notify_drain(s);
	if (watch_selected(s))
		n->dirty = 1;
	if (!n->dirty && !idle)
		return 0;
	if (push_selected(s, idle) == -1)
		return -1;
	if (!n->dirty)
		return 0;
	n->dirty = 0;
	if (notify_boxes_refresh(s, 1, 1) == -1 || (!n->off &&
	    notify_meta_refresh(s, 1) == -1))
		log_warn("sid=%s notify: %s", s->id, mstore_error(s->store));
	return 0;
}

void
notify_drain(struct imap_session *s)
{
	struct notify *n = s->notify;
	char ev[4096] __attribute__((aligned(__alignof__(struct
	    inotify_event))));
	const struct inotify_event *e;
	struct notify_newdir *d;
	ssize_t len, i;
	size_t k;

	while ((len = read(n->fd, ev, sizeof(ev))) > 0) {
		n->dirty = 1;
		for (i = 0; i + (ssize_t)sizeof(*e) <= len;
		    i += (ssize_t)(sizeof(*e) + e->len)) {
			e = (const struct inotify_event *)(ev + i);
			if (e->wd == n->inbox_wd || (e->mask & IN_Q_OVERFLOW))
				n->inbox_new = 1;
			if ((d = newdir_by_wd(n->newdirs, n->nnewdirs,
			    e->wd)) != NULL ||
			    (d = newdir_by_wd(n->curdirs, n->ncurdirs,
			    e->wd)) != NULL) {
				if (e->mask & IN_IGNORED)
					d->wd = -1;	/* the folder went */
				else
					d->pending = 1;
			}
			if (e->mask & IN_Q_OVERFLOW) {
				for (k = 0; k < n->nnewdirs; k++)
					n->newdirs[k].pending = 1;
				for (k = 0; k < n->ncurdirs; k++)
					n->curdirs[k].pending = 1;
			}
		}
	}
}

int
notify_idle_fd(struct imap_session *s)
{
	watch_selected(s);
	return s->notify->fd;
}

int
notify_wait(struct imap_session *s, int wait)
{
	struct pollfd pfd[2];
	int64_t deadline = util_now_usec() +
	    (int64_t)s->conf->imapd.timeout * 1000000, left;
	int r;

	for (;;) {
		if (s->notify->off) {	/* §5.8: from now on, NONE */
			notify_free(s);
			return 0;
		}
		if (notify_push(s, 0) == -1) {
			imap_mailbox_lost(s);
			return -1;
		}
		if (conn_flush(&s->conn) == -1)
			return -1;
		if (!wait || conn_pending(&s->conn) > 0)
			return 0;
		if ((left = (deadline - util_now_usec()) / 1000) <= 0)
			left = 0;
		pfd[0].fd = s->conn.fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = s->notify->fd;
		pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		r = daemon_poll_unless(&daemon_term, pfd, 2, (int)left);
		if (r == 0 || (r == -1 && (errno != EINTR || daemon_term))) {
			imap_untagged(s, "BYE %s", r == 0 ?
			    "Autologout; idle for too long" :
			    "Server shutting down");
			imap_set_state(s, ST_LOGOUT);
			return -1;
		}
		if (r < 0)
			continue;
		if (pfd[1].revents)
			notify_drain(s);
		if (pfd[0].revents)
			return 0;
	}
}

/* ---- what this session did itself ---- */

/* A mailbox argument as the store names it, quietly (the command has
 * answered already); 0 or -1. */
static int
own_name(struct imap_session *s, const struct imap_arg *a, char *name,
    size_t size)
{
	const char *v = imap_arg_astring(a);

	if (v == NULL || util_strcpy(name, v, size) == -1)
		return -1;
	if (s->utf8 && utf8_to_mutf7(v, name, size) == -1)
		return -1;
	maildir_name_normalize(name);
	return 0;
}

void
notify_own(struct imap_session *s, const char *cmd,
    const struct imap_arg *args, size_t nargs)
{
	struct notify *n = s->notify;
	struct notify_box *b;
	char name[MAILDIR_NAME_MAX + 1];
	const struct imap_arg *target = NULL;

	if (n == NULL || n->off)
		return;
	if (strcasecmp(cmd, "APPEND") == 0 && nargs >= 1)
		target = &args[0];
	else if ((strcasecmp(cmd, "COPY") == 0 || strcasecmp(cmd, "MOVE") ==
	    0 || strcasecmp(cmd, "UID COPY") == 0 ||
	    strcasecmp(cmd, "UID MOVE") == 0) && nargs >= 2)
		target = &args[1];
	if (target != NULL) {
		if (own_name(s, target, name, sizeof(name)) == 0 &&
		    (b = notify_box_find(n->boxes, n->nboxes, name)) != NULL &&
		    b->counted)
			(void)box_count(s, b);
	} else if (strcasecmp(cmd, "CREATE") == 0 ||
	    strcasecmp(cmd, "DELETE") == 0 ||
	    strcasecmp(cmd, "RENAME") == 0 ||
	    strcasecmp(cmd, "SUBSCRIBE") == 0 ||
	    strcasecmp(cmd, "UNSUBSCRIBE") == 0)
		(void)notify_boxes_refresh(s, 0, 1);
	else if (strcasecmp(cmd, "SETMETADATA") == 0)
		(void)notify_meta_refresh(s, 0);
}
