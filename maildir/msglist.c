/*
 * Message lists from the index: every message's summary (summary.c) in
 * the table beside msg (store.c's schema), sorted by its indexes and
 * read a page at a time, so that a list of a large folder costs a page
 * of rows and no message file.
 *
 * Rows made before summaries existed (an older index, or an older
 * program writing this one) get theirs on the first mbox_summaries()
 * that finds some missing: read LIST_FILL_BATCH at a time outside the
 * store's lock, stored in one transaction per batch.  Where they cannot
 * be stored (a full disk), the page is sorted from msg by SQLite
 * instead: slower, but no message is ever missing from a list.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/casemap.h"
#include "../lib/util.h"
#include "store_int.h"
#include "summary.h"

/* Files read per transaction while filling in old rows: the lock is
 * held for the inserts only, a few milliseconds. */
#define LIST_FILL_BATCH	256

/* Run a statement that writes a summary.  0 or -1. */
static int
list_done(struct mbox *mb, sqlite3_stmt *s)
{
	int r = 0;

	if (sqlite3_step(s) != SQLITE_DONE)
		r = store_fail(mb->st, "summary");	/* before the reset */
	sqlite3_reset(s);
	return r;
}

/* ?1-?18 of Q_SUM_ADD and Q_SUM_NEW. */
static void
list_bind(struct mbox *mb, sqlite3_stmt *s, uint32_t uid,
    const struct summary *sum)
{
	sqlite3_bind_int64(s, 1, mb->id);
	sqlite3_bind_int64(s, 2, uid);
	if (sum->sent != SUMMARY_NO_DATE)
		sqlite3_bind_int64(s, 3, sum->sent);
	sqlite3_bind_text(s, 4, sum->from_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, sum->from_addr, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, sum->from_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, sum->to_text, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, sum->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 9, sum->base_subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 10, sum->message_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 11, sum->in_reply_to, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 12, sum->references, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 13, sum->has_attachment != 0);
	sqlite3_bind_text(s, 14, sum->from_mbox, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 15, sum->to_mbox, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 16, sum->cc_mbox, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 17, sum->to_key, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 18, sum->reply != 0);
	/* ?19-?24, the keys unfolded, stay NULL until COMPARATOR's other
	 * comparators first need them (store_summary_fill(mb, 1)): six
	 * more columns a row made a fresh index's build a fifth slower
	 * (bench/imap.py, cold). */
}

int
store_summary_put(struct mbox *mb, uint32_t uid, const struct summary *sum)
{
	sqlite3_stmt *s = store_stmt(mb->st, Q_SUM_ADD);

	list_bind(mb, s, uid, sum);
	return list_done(mb, s);
}

int
store_summary_put_new(struct mbox *mb, int64_t msg, uint32_t uid,
    int64_t vsize, int64_t idate, const struct summary *sum)
{
	sqlite3_stmt *s = store_stmt(mb->st, Q_SUM_NEW);
	int rc;

	list_bind(mb, s, uid, sum);
	sqlite3_bind_int64(s, 25, msg);
	sqlite3_bind_int64(s, 26, vsize);
	sqlite3_bind_int64(s, 27, idate);
	if ((rc = sqlite3_step(s)) != SQLITE_DONE)
		rc = sqlite3_extended_errcode(mb->st->db);
	if (rc != SQLITE_DONE && rc != SQLITE_CONSTRAINT_PRIMARYKEY)
		store_fail(mb->st, "summary");	/* before the reset */
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_CONSTRAINT_PRIMARYKEY)
		return -1;
	/* A summary of that id left over: replaced. */
	return store_summary_put(mb, uid, sum);
}

static char *
list_text(sqlite3_stmt *s, int col)
{
	return util_strdup_null((const char *)sqlite3_column_text(s, col));
}

int
store_summary_get(struct mbox *mb, uint32_t uid, struct summary *sum)
{
	sqlite3_stmt *s = store_stmt(mb->st, Q_SUM_ONE);
	int rc;

	memset(sum, 0, sizeof(*sum));
	sum->hdr8 = -1;		/* not in the summary table */
	sqlite3_bind_int64(s, 1, mb->id);
	sqlite3_bind_int64(s, 2, uid);
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		sqlite3_reset(s);
		return rc == SQLITE_DONE ? 0 : store_fail(mb->st, "summary");
	}
	/* None, or one an older program wrote without SORT's keys (the
	 * keys unfolded are not copied: store_summary_put() leaves them
	 * to be filled on first use). */
	if (!sqlite3_column_int(s, 16) ||
	    sqlite3_column_type(s, 24) == SQLITE_NULL) {
		sqlite3_reset(s);
		return 0;
	}
	sum->sent = sqlite3_column_int64(s, 3);
	sum->from_name = list_text(s, 6);
	sum->from_addr = list_text(s, 7);
	sum->to_text = list_text(s, 8);
	sum->subject = list_text(s, 9);
	sum->message_id = list_text(s, 10);
	sum->in_reply_to = list_text(s, 11);
	sum->references = list_text(s, 12);
	sum->has_attachment = sqlite3_column_int(s, 13);
	sum->from_key = list_text(s, 14);
	sum->base_subject = list_text(s, 15);
	sum->from_mbox = list_text(s, 20);
	sum->to_mbox = list_text(s, 21);
	sum->cc_mbox = list_text(s, 22);
	sum->to_key = list_text(s, 23);
	sum->reply = sqlite3_column_int(s, 24);
	sqlite3_reset(s);
	return 1;
}

/* A row's file, read for its summary; one that is gone gets an empty
 * one (the next sync expunges its row).  0 or -1. */
int
store_summary_read_file(struct mbox *mb, const char *base, unsigned int flags,
    const char *letters, struct summary *sum)
{
	int fd, r;

	if ((fd = store_msg_open_file(mb, base, flags, letters)) == -1) {
		if (errno != ENOENT)
			return -1;
		summary_empty(sum);
		return 0;
	}
	r = summary_read(fd, sum);
	close(fd);
	return r;
}

struct list_row {
	uint32_t	 uid;
	char		 base[NAME_MAX + 1];
	unsigned int	 flags;
	char		 letters[STORE_KW_MAX + 1];
	struct summary	 sum;
};

/* A row's keys unfolded (MSK_RAW).  0 or -1. */
static int
list_put_raw(struct mbox *mb, uint32_t uid, const struct summary *sum)
{
	sqlite3_stmt *s = store_stmt(mb->st, Q_SUM_RAW_SET);

	sqlite3_bind_int64(s, 1, mb->id);
	sqlite3_bind_int64(s, 2, uid);
	sqlite3_bind_text(s, 3, sum->raw_from_mbox, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, sum->raw_to_mbox, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, sum->raw_cc_mbox, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, sum->raw_from_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, sum->raw_to_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, sum->raw_base_subject, -1, SQLITE_STATIC);
	return list_done(mb, s);
}

/* Store a batch's summaries (raw: their keys unfolded) in one
 * transaction.  0 or -1. */
static int
list_store(struct mbox *mb, const struct list_row *rows, size_t n, int raw)
{
	size_t i;

	if (mstore_begin(mb->st) == -1)
		return -1;
	/* A row expunged meanwhile inserts nothing (Q_SUM_ADD selects
	 * from msg); one another session filled meanwhile gets the same
	 * again. */
	for (i = 0; i < n; i++)
		if ((raw ? list_put_raw(mb, rows[i].uid, &rows[i].sum) :
		    store_summary_put(mb, rows[i].uid, &rows[i].sum)) == -1) {
			mstore_rollback(mb->st);
			return -1;
		}
	return mstore_commit(mb->st);
}

int
store_summary_fill(struct mbox *mb, int raw)
{
	struct list_row *rows = util_calloc(LIST_FILL_BATCH, sizeof(*rows));
	uint32_t last = 0;
	size_t n, i, parsed;
	sqlite3_stmt *s;
	int rc = SQLITE_DONE, r = -1;

	do {
		s = store_stmt(mb->st, raw ? Q_SUM_RAW_MISSING : Q_SUM_MISSING);
		sqlite3_bind_int64(s, 1, mb->id);
		sqlite3_bind_int64(s, 2, last);
		sqlite3_bind_int(s, 3, LIST_FILL_BATCH);
		for (n = 0; n < LIST_FILL_BATCH &&
		    (rc = sqlite3_step(s)) == SQLITE_ROW; n++) {
			rows[n].uid = (uint32_t)sqlite3_column_int64(s, 0);
			util_strcpy(rows[n].base, (const char *)
			    sqlite3_column_text(s, 1), sizeof(rows[n].base));
			rows[n].flags = (unsigned int)sqlite3_column_int(s, 2);
			util_strcpy(rows[n].letters, (const char *)
			    sqlite3_column_text(s, 3), sizeof(rows[n].letters));
		}
		if (n < LIST_FILL_BATCH && rc != SQLITE_DONE) {
			store_fail(mb->st, "summaries");
			sqlite3_reset(s);
			goto out;
		}
		/* No read stays open while the files are read. */
		sqlite3_reset(s);
		if (n == 0)
			break;
		last = rows[n - 1].uid;
		for (parsed = 0; parsed < n; parsed++)
			if (store_summary_read_file(mb, rows[parsed].base,
			    rows[parsed].flags, rows[parsed].letters,
			    &rows[parsed].sum) == -1) {
				store_fail(mb->st, "summaries");
				break;
			}
		rc = parsed == n ? list_store(mb, rows, n, raw) : -1;
		for (i = 0; i < parsed; i++)
			summary_free(&rows[i].sum);
		if (rc == -1)
			goto out;
	} while (n == LIST_FILL_BATCH);
	r = 0;
out:
	free(rows);
	return r;
}

/* The columns every summary statement begins with (store.c). */
static void
list_row_msummary(sqlite3_stmt *s, struct msummary *m)
{
	m->uid = (uint32_t)sqlite3_column_int64(s, 0);
	m->flags = (unsigned int)sqlite3_column_int(s, 1);
	m->keywords = (const char *)sqlite3_column_text(s, 2);
	m->sent = sqlite3_column_int64(s, 3);
	m->internaldate = sqlite3_column_int64(s, 4);
	m->size = sqlite3_column_int64(s, 5);
	m->from_name = (const char *)sqlite3_column_text(s, 6);
	m->from_addr = (const char *)sqlite3_column_text(s, 7);
	m->to_text = (const char *)sqlite3_column_text(s, 8);
	m->subject = (const char *)sqlite3_column_text(s, 9);
	m->message_id = (const char *)sqlite3_column_text(s, 10);
	m->in_reply_to = (const char *)sqlite3_column_text(s, 11);
	m->references = (const char *)sqlite3_column_text(s, 12);
	m->has_attachment = sqlite3_column_int(s, 13);
}

/* A parsed summary in place of the missing columns of a row. */
static void
list_use_summary(struct msummary *m, const struct summary *sum)
{
	m->sent = sum->sent != SUMMARY_NO_DATE ? sum->sent : m->internaldate;
	m->from_name = sum->from_name;
	m->from_addr = sum->from_addr;
	m->to_text = sum->to_text;
	m->subject = sum->subject;
	m->message_id = sum->message_id;
	m->in_reply_to = sum->in_reply_to;
	m->references = sum->references;
	m->has_attachment = sum->has_attachment;
}

/*
 * A row of Q_SUM_SLOW without a summary: read from its file for this
 * page (nothing is stored: this is the path for a store that cannot).
 * A file that cannot be read shows as a message without a header.
 */
static int
list_slow_row(struct mbox *mb, sqlite3_stmt *s, struct msummary *m,
    int (*cb)(const struct msummary *, void *), void *arg)
{
	struct summary sum;
	int r;

	if (store_summary_read_file(mb, (const char *)sqlite3_column_text(s, 15),
	    m->flags, (const char *)sqlite3_column_text(s, 16), &sum) == -1)
		summary_empty(&sum);
	list_use_summary(m, &sum);
	r = cb(m, arg);
	summary_free(&sum);
	return r;
}

int
store_summary_count(struct mbox *mb, int64_t *msgs, int64_t *sums)
{
	sqlite3_stmt *s = store_stmt(mb->st, Q_SUM_COUNT);

	sqlite3_bind_int64(s, 1, mb->id);
	if (sqlite3_step(s) != SQLITE_ROW) {
		store_fail(mb->st, "count");
		sqlite3_reset(s);
		return -1;
	}
	*msgs = sqlite3_column_int64(s, 0);
	*sums = sqlite3_column_int64(s, 1);
	sqlite3_reset(s);
	return 0;
}

/*
 * The number of rows (*msgs_r) and whether every one has its summary
 * (returned: 1 yes, 0 no, -1 error), filling in those missing when
 * fill is set.
 *
 * Summaries go with their rows (ON DELETE CASCADE) and flag changes
 * keep them, so once every row had one, only a message with a new UID
 * can lack one: while UIDNEXT holds, the counts (two walks over the
 * mailbox, most of a warm page's time) are skipped and the number
 * comes from the cached status.
 */
static int
list_ready(struct mbox *mb, int fill, int64_t *msgs_r)
{
	struct mbox_status st;
	int64_t msgs, sums;

	if (mbox_get_status(mb, &st) == -1)
		return -1;
	if (mb->counts.summaries_uidnext != 0 &&
	    mb->counts.summaries_uidnext == st.uidnext &&
	    mb->counts.summaries_uidvalidity == st.uidvalidity) {
		*msgs_r = st.messages;
		return 1;
	}
	if (store_summary_count(mb, &msgs, &sums) == -1)
		return -1;
	/* as many summaries as rows: every row has one */
	if (sums < msgs && fill && (store_summary_fill(mb, 0) == -1 ||
	    store_summary_count(mb, &msgs, &sums) == -1))
		sums = -1;		/* serve the page anyway */
	*msgs_r = msgs;
	if (sums != msgs)
		return 0;
	if (mb->st->txn > 0)
		return 1;	/* not kept: see mbox_get_status() */
	/* UIDNEXT read before the count: a message that came in between
	 * makes the next page count again */
	mb->counts.summaries_uidvalidity = st.uidvalidity;
	mb->counts.summaries_uidnext = st.uidnext;
	store_counts_save(mb);
	return 1;
}

int
mbox_summaries(struct mbox *mb, enum msort sort, int reverse,
    uint32_t offset, uint32_t limit,
    int (*cb)(const struct msummary *, void *), void *arg,
    uint32_t *total_r)
{
	struct msummary m;
	sqlite3_stmt *s;
	int64_t msgs;
	int rc, r = 0, slow;

	if ((unsigned int)sort >= STORE_SORTS)
		return store_refuse(mb->st, MSTORE_EINVAL, "no such order");
	if ((rc = list_ready(mb, limit > 0, &msgs)) == -1)
		return -1;
	slow = rc == 0;
	*total_r = (uint32_t)msgs;
	if (limit == 0)
		return 0;
	s = store_stmt(mb->st, (slow ? Q_SUM_SLOW : Q_SUM_PAGE) +
	    (int)sort * 2 + (reverse != 0));
	sqlite3_bind_int64(s, 1, mb->id);
	sqlite3_bind_int64(s, 2, limit);
	sqlite3_bind_int64(s, 3, offset);
	memset(&m, 0, sizeof(m));
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		list_row_msummary(s, &m);
		if (slow && !sqlite3_column_int(s, 14))
			r = list_slow_row(mb, s, &m, cb, arg);
		else
			r = cb(&m, arg);
		if (r != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = store_fail(mb->st, "summaries");
	sqlite3_reset(s);
	return r;
}

int
mbox_summary(struct mbox *mb, uint32_t uid,
    int (*cb)(const struct msummary *, void *), void *arg)
{
	char base[NAME_MAX + 1], letters[STORE_KW_MAX + 1], *kw;
	struct summary sum;
	struct msummary m;
	sqlite3_stmt *s = store_stmt(mb->st, Q_SUM_ONE);
	unsigned int flags;
	int rc;

	sqlite3_bind_int64(s, 1, mb->id);
	sqlite3_bind_int64(s, 2, uid);
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		sqlite3_reset(s);
		return rc == SQLITE_DONE ? 0 : store_fail(mb->st, "summary");
	}
	memset(&m, 0, sizeof(m));
	list_row_msummary(s, &m);
	if (sqlite3_column_int(s, 16)) {
		cb(&m, arg);
		sqlite3_reset(s);
		return 1;
	}
	/* A row from before summaries: read it now, keep it if we can. */
	util_strcpy(base, (const char *)sqlite3_column_text(s, 17),
	    sizeof(base));
	flags = (unsigned int)sqlite3_column_int(s, 18);
	util_strcpy(letters, (const char *)sqlite3_column_text(s, 19),
	    sizeof(letters));
	kw = util_strdup(m.keywords);
	sqlite3_reset(s);
	if (store_summary_read_file(mb, base, flags, letters, &sum) == -1) {
		free(kw);
		return store_fail(mb->st, "summary");
	}
	if (mstore_begin(mb->st) == 0) {
		if (store_summary_put(mb, uid, &sum) == 0)
			mstore_commit(mb->st);
		else
			mstore_rollback(mb->st);
	}
	m.keywords = kw;
	list_use_summary(&m, &sum);
	cb(&m, arg);
	summary_free(&sum);
	free(kw);
	return 1;
}

/*
 * SQL fold_has(text, needle): whether text, folded as casemap_fold()
 * folds (i;unicode-casemap), holds needle, folded already.  ASCII text
 * needs no copy: its form is its upper case, and a needle with other
 * octets cannot be in it.
 */
static void
fold_has(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char *t = sqlite3_value_text(argv[0]);
	const unsigned char *n = sqlite3_value_text(argv[1]), *p, *q;
	char *folded;
	int ascii = 1;

	(void)argc;
	if (t == NULL || n == NULL) {
		sqlite3_result_int(ctx, 0);
		return;
	}
	for (p = t; *p != '\0' && ascii; p++)
		ascii = *p < 0x80;
	if (!ascii) {
		folded = casemap_fold((const char *)t);
		sqlite3_result_int(ctx, strstr(folded, (const char *)n) !=
		    NULL);
		free(folded);
		return;
	}
	for (; *t != '\0'; t++) {
		for (p = t, q = n; *q != '\0' && *p != '\0' &&
		    (*p >= 'a' && *p <= 'z' ? *p - 32 : *p) == *q; p++, q++)
			;
		if (*q == '\0') {
			sqlite3_result_int(ctx, 1);
			return;
		}
	}
	sqlite3_result_int(ctx, *n == '\0');
}

int
store_list_functions(sqlite3 *db)
{
	return sqlite3_create_function(db, "fold_has", 2, SQLITE_UTF8 |
	    SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, NULL, fold_has, NULL,
	    NULL) == SQLITE_OK ? 0 : -1;
}

int
mbox_summaries_holding(struct mbox *mb, enum msort sort, int reverse,
    const char *folded, uint32_t **uids_r, size_t *n_r)
{
	static const char *const keys[STORE_SORTS] = {
		[MSORT_ARRIVAL] = SUM_KEY_ARRIVAL, [MSORT_DATE] = SUM_KEY_DATE,
		[MSORT_FROM] = SUM_KEY_FROM, [MSORT_SUBJECT] = SUM_KEY_SUBJECT,
		[MSORT_SIZE] = SUM_KEY_SIZE,
	};
	const char *dir = reverse ? "DESC" : "ASC";
	char sql[512];
	sqlite3_stmt *s;
	uint32_t *uids = NULL;
	size_t n = 0, cap = 0;
	int64_t msgs;
	int rc;

	*uids_r = NULL;
	*n_r = 0;
	if ((unsigned int)sort >= STORE_SORTS)
		return store_refuse(mb->st, MSTORE_EINVAL, "no such order");
	if ((rc = list_ready(mb, 1, &msgs)) != 1)
		return rc;
	/* The key's index gives the order; the rows are read once. */
	snprintf(sql, sizeof(sql), "SELECT uid FROM summary"
	    " WHERE mailbox = ?1 AND (fold_has(subject, ?2)"
	    " OR fold_has(from_name, ?2) OR fold_has(from_addr, ?2))"
	    " ORDER BY %s %s, uid %s",
	    keys[sort], dir, dir);
	if (sqlite3_prepare_v2(mb->st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_fail(mb->st, "search");
	sqlite3_bind_int64(s, 1, mb->id);
	sqlite3_bind_text(s, 2, folded, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			uids = util_reallocarray(uids, cap, sizeof(*uids));
		}
		uids[n++] = (uint32_t)sqlite3_column_int64(s, 0);
	}
	if (rc != SQLITE_DONE) {
		store_fail(mb->st, "search");
		sqlite3_finalize(s);
		free(uids);
		return -1;
	}
	sqlite3_finalize(s);
	*uids_r = uids;
	*n_r = n;
	return 1;
}
