/*
 * What IMAP SORT and THREAD read of every message (maildir.h): one pass
 * over the mailbox's rows joined with their summaries (msglist.c keeps
 * them), or over the summaries alone when the caller needs nothing of
 * the rows, so that sorting or threading a large mailbox reads the
 * index and no message file.  A row without a summary, or with one an older
 * program wrote without SORT's keys, has its file read (nothing is
 * stored then: the statement is open; the summaries are made first, so
 * that is a store that cannot write).  MSK_RAW reads the keys as the
 * message has them, for IMAP's comparators other than
 * i;unicode-casemap (RFC 5255 §4.7), from columns of their own, filled
 * on its first use: a row without them has its file read as well.
 */
#include <string.h>

#include "../lib/util.h"
#include "store_int.h"
#include "summary.h"

static const char *
sk_text(sqlite3_stmt *s, int col)
{
	const char *t = (const char *)sqlite3_column_text(s, col);

	return t != NULL ? t : "";
}

/* A row whose keys come from its file (base, keyword letters, flags:
 * what names it). */
static int
sk_slow_row(struct mbox *mb, sqlite3_stmt *s, unsigned int flags, int raw,
    struct msortkeys *k, int (*cb)(const struct msortkeys *, void *),
    void *arg)
{
	struct summary sum;
	int r;

	if (store_summary_read_file(mb, sk_text(s, 17), flags,
	    sk_text(s, 18), &sum) == -1)
		summary_empty(&sum);
	if (sum.sent != SUMMARY_NO_DATE)
		k->sent = sum.sent;
	k->from_mbox = sum.from_mbox;
	k->to_mbox = sum.to_mbox;
	k->cc_mbox = sum.cc_mbox;
	k->from_display = sum.from_key;
	k->to_display = sum.to_key;
	k->base_subject = sum.base_subject;
	if (raw) {
		k->from_mbox = sum.raw_from_mbox;
		k->to_mbox = sum.raw_to_mbox;
		k->cc_mbox = sum.raw_cc_mbox;
		k->from_display = sum.raw_from_key;
		k->to_display = sum.raw_to_key;
		k->base_subject = sum.raw_base_subject;
	}
	k->reply = sum.reply;
	k->message_id = sum.message_id;
	k->in_reply_to = sum.in_reply_to;
	k->references = sum.references;
	r = cb(k, arg);
	summary_free(&sum);
	return r;
}

/* SORT (DATE) ALL: the sent dates from the index summary_sent. */
static int
sk_dates(struct mbox *mb, int (*cb)(const struct msortkeys *, void *),
    void *arg)
{
	struct msortkeys k;
	sqlite3_stmt *s = store_stmt(mb->st, Q_SORT_DATES);
	int rc, r = 0;

	sqlite3_bind_int64(s, 1, mb->id);
	memset(&k, 0, sizeof(k));
	k.keywords = k.from_mbox = k.to_mbox = k.cc_mbox = "";
	k.from_display = k.to_display = k.base_subject = "";
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		k.uid = (uint32_t)sqlite3_column_int64(s, 0);
		k.sent = sqlite3_column_int64(s, 1);
		if ((r = cb(&k, arg)) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = store_fail(mb->st, "sort keys");
	sqlite3_reset(s);
	return r;
}

int
mbox_sort_keys(struct mbox *mb, unsigned int need,
    int (*cb)(const struct msortkeys *, void *), void *arg)
{
	struct msortkeys k;
	sqlite3_stmt *s;
	int64_t msgs, sums;
	int rc, r = 0, whole, narrow, raw = (need & MSK_RAW) != 0;

	/* A summary is made for every row that has none; one that cannot
	 * be stored (a full disk) is read below instead, from msg's
	 * rows. */
	if (store_summary_count(mb, &msgs, &sums) == -1)
		return -1;
	if (sums < msgs && (store_summary_fill(mb, 0) == -1 ||
	    store_summary_count(mb, &msgs, &sums) == -1))
		sums = -1;
	/* The keys unfolded are stored on first use (failing that, the
	 * rows without them are read from their files below). */
	if (raw && sums == msgs)
		(void)store_summary_fill(mb, 1);
	whole = sums == msgs;
	if (whole && (need & (MSK_MSG | MSK_TEXT | MSK_LINKS |
	    MSK_ORDERED)) == 0)
		return sk_dates(mb, cb, arg);
	narrow = whole && !(need & MSK_MSG);
	if (raw)
		s = store_stmt(mb->st, narrow ? Q_SORT_SUMMARY_RAW :
		    Q_SORT_KEYS_RAW);
	else
		s = store_stmt(mb->st, narrow ? Q_SORT_SUMMARY : Q_SORT_KEYS);
	sqlite3_bind_int64(s, 1, mb->id);
	memset(&k, 0, sizeof(k));
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		k.uid = (uint32_t)sqlite3_column_int64(s, 0);
		k.flags = (unsigned int)sqlite3_column_int(s, 1);
		k.keywords = sk_text(s, 2);
		k.modseq = (uint64_t)sqlite3_column_int64(s, 3);
		k.size = sqlite3_column_int64(s, 4);
		k.internaldate = sqlite3_column_int64(s, 5);
		k.sent = sqlite3_column_type(s, 6) == SQLITE_NULL ?
		    k.internaldate : sqlite3_column_int64(s, 6);
		if (sqlite3_column_type(s, 13) == SQLITE_NULL) {
			r = sk_slow_row(mb, s, narrow ? (unsigned int)
			    sqlite3_column_int(s, 19) : k.flags, raw, &k, cb,
			    arg);
			if (r != 0)
				break;
			continue;
		}
		k.from_mbox = sk_text(s, 7);
		k.to_mbox = sk_text(s, 8);
		k.cc_mbox = sk_text(s, 9);
		k.from_display = sk_text(s, 10);
		k.to_display = sk_text(s, 11);
		k.base_subject = sk_text(s, 12);
		k.reply = sqlite3_column_int(s, 13);
		k.message_id = (const char *)sqlite3_column_text(s, 14);
		k.in_reply_to = (const char *)sqlite3_column_text(s, 15);
		k.references = (const char *)sqlite3_column_text(s, 16);
		if ((r = cb(&k, arg)) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = store_fail(mb->st, "sort keys");
	sqlite3_reset(s);
	return r;
}
