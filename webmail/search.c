/*
 * The webmail's search: messages of a folder whose sender, recipients,
 * subject or text hold the words, as IMAP's
 * SEARCH OR FROM q OR TO q OR CC q OR SUBJECT q BODY q matches them (the
 * same decoding of the shared MIME module, the same comparator,
 * i;unicode-casemap: casemap_fold()).  The index's summaries answer most messages without
 * opening them; the others are read.  Hits come in the list's order.
 *
 * The narrower search of sender and subject (Roundcube's default) is
 * answered from the summaries alone: the decoded subject and the first
 * sender's name and address, so a second address in a From: with
 * several is not searched.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../global/conf.h"
#include "../global/mime.h"
#include "../lib/casemap.h"
#include "../lib/util.h"
#include "../maildir/maildir.h"
#include "backend.h"

#define MAX_HITS	5000	/* shown of one search */

struct scan {
	const char	*q;		/* folded */
	int		 head;		/* sender and subject only */
	uint32_t	*uids;		/* in the list's order */
	unsigned char	*hit;		/* 1 hit, 0 read the message */
	size_t		 n, cap;
};

static int
contains(const char *text, const char *q)
{
	char *f;
	int r;

	if (text == NULL || text[0] == '\0')
		return 0;
	f = casemap_fold(text);
	r = strstr(f, q) != NULL;
	free(f);
	return r;
}

static int
scan_cb(const struct msummary *m, void *arg)
{
	struct scan *sc = arg;

	if (sc->n == sc->cap) {
		sc->cap = sc->cap ? sc->cap * 2 : 256;
		sc->uids = util_reallocarray(sc->uids, sc->cap,
		    sizeof(*sc->uids));
		sc->hit = util_reallocarray(sc->hit, sc->cap, 1);
	}
	sc->uids[sc->n] = m->uid;
	sc->hit[sc->n] = contains(m->subject, sc->q) ||
	    contains(m->from_name, sc->q) || contains(m->from_addr, sc->q) ||
	    (!sc->head && contains(m->to_text, sc->q));
	sc->n++;
	return 0;
}

/* What the summary could not tell: the fields in full, and the text. */
static int
message_matches(struct backend *be, struct mbox *mb, uint32_t uid,
    const char *q)
{
	static const char *const fields[] = { "From", "To", "Cc", NULL };
	struct mime_msg *m;
	char *t;
	size_t i;
	int r = 0;

	if ((m = web_msg_load(be, mb, uid)) == NULL)
		return 0;
	for (i = 0; fields[i] != NULL && !r; i++) {
		t = mime_msg_address_text(m, fields[i]);
		r = contains(t, q);
		free(t);
	}
	if (!r) {
		t = mime_msg_header_text(m, "Subject");
		r = contains(t, q);
		free(t);
	}
	if (!r) {
		t = mime_msg_body_text(m);
		r = contains(t, q);
		free(t);
	}
	mime_msg_free(&m);
	return r;
}

int
web_search(struct backend *be, struct mbox *mb, const char *words,
    int head, enum msort sort, int reverse, uint32_t **uids_r, size_t *n_r)
{
	struct scan sc;
	uint32_t total = 0;
	size_t i, n = 0;
	char *q = casemap_fold(words);

	if (head) {
		/* the index answers, unless some rows lack a summary */
		int r = mbox_summaries_holding(mb, sort, reverse, q, uids_r,
		    n_r);

		if (r != 0) {
			free(q);
			if (r == 1 && *n_r > MAX_HITS)
				*n_r = MAX_HITS;
			return r == 1 ? 0 : -1;
		}
	}
	memset(&sc, 0, sizeof(sc));
	sc.q = q;
	sc.head = head;
	if (mbox_summaries(mb, sort, reverse, 0, UINT32_MAX, scan_cb, &sc,
	    &total) == -1) {
		free(q);
		free(sc.uids);
		free(sc.hit);
		return -1;
	}
	for (i = 0; i < sc.n && n < MAX_HITS; i++)
		if (sc.hit[i] || (!head &&
		    message_matches(be, mb, sc.uids[i], q)))
			sc.uids[n++] = sc.uids[i];
	free(q);
	free(sc.hit);
	*uids_r = sc.uids;
	*n_r = n;
	return 0;
}
