/*
 * SORT, ESORT and THREAD (cmd_sort.c, thread.c): what the two share; not
 * for use outside imapd/.
 */
#ifndef IMAP_SORT_H
#define IMAP_SORT_H

#include "session.h"

#define SORT_MAX_CRITERIA	16	/* sort keys in one SORT, REVERSE
					   included (RFC 5256 names 8) */

/*
 * What SORT and THREAD keep of each message that matched: 16 octets,
 * and what a command asks for beside it in arrays of the set, so that
 * SORT (DATE) of 10,000 messages touches 160 KiB, not a megabyte (the
 * session gives its memory back after each command: what a command
 * touches it pays again in page faults).
 */
struct sort_msg {
	uint32_t	 seq;
	uint32_t	 num;		/* what the reply says: seq or UID */
	int64_t		 sent;		/* RFC 5256 §2.2 */
};

/* The strings a message may have in its set (sort_msg_str()). */
enum sort_str {
	/* the strings in their form under the session's comparator
	 * (lib/casemap.h; the links as they are) */
	SS_FROM, SS_TO, SS_CC,		/* addr-mailbox */
	SS_DISPFROM, SS_DISPTO,		/* RFC 5957 */
	SS_SUBJECT,			/* base subject */
	SS_MSGID, SS_IRT, SS_REFS,	/* THREAD's links */
	SS_COUNT
};

#define SORT_NEED_FROM		(1U << SS_FROM)
#define SORT_NEED_TO		(1U << SS_TO)
#define SORT_NEED_CC		(1U << SS_CC)
#define SORT_NEED_DISPFROM	(1U << SS_DISPFROM)
#define SORT_NEED_DISPTO	(1U << SS_DISPTO)
#define SORT_NEED_SUBJECT	(1U << SS_SUBJECT)
#define SORT_NEED_LINKS		((1U << SS_MSGID) | (1U << SS_IRT) | \
				 (1U << SS_REFS) | 0x1000)	/* and reply */
#define SORT_NEED_SIZE		0x2000
#define SORT_NEED_ARRIVAL	0x4000
#define SORT_NEED_ORDER		0x8000	/* in sequence order (THREAD) */
#define SORT_NEED_STRINGS	((1U << SS_COUNT) - 1)
#define SORT_NEED_NONE		0x10000	/* no key: mailbox order (a
					   SEARCH's context) */

/* The strings of a sort_set, in blocks that never move. */
struct sort_chunk {
	struct sort_chunk *next;
	size_t		 used, cap;
	char		 data[];
};

struct sort_set {
	struct sort_msg	*v;		/* THREAD: in sequence order */
	size_t		 n;
	/* by index in v, each only when asked for (else NULL) */
	int64_t		*arrival;	/* INTERNALDATE */
	int64_t		*size;		/* RFC822.SIZE */
	uint8_t		*reply;		/* the subject says reply/forward */
	char		**str;		/* nstr a message: slot[] says which */
	int		 slot[SS_COUNT];	/* -1: not asked for */
	size_t		 nstr;
	struct sort_chunk *strings;
	uint64_t	 max_modseq;	/* of those, for CONDSTORE */
	int		 modseq;	/* the search used MODSEQ */
};

/* A string of message i (NULL: the header has none, or not asked). */
static inline const char *
sort_msg_str(const struct sort_set *set, size_t i, enum sort_str k)
{
	return set->slot[k] < 0 ? NULL :
	    set->str[i * set->nstr + (size_t)set->slot[k]];
}

/*
 * The messages of the selected mailbox that match "charset
 * search-key..." (args; RFC 5256 §3: the charset is required), with
 * the keys need asks for, from the index (mbox_sort_keys()).  0; or -1
 * after a tagged reply (BAD, NO [BADCHARSET], NO for a store error),
 * *bad set when it was a BAD.
 */
int	sort_collect(struct imap_session *s, const struct imap_arg *args,
	    size_t nargs, unsigned int need, struct sort_set *set, int *bad);
void	sort_set_free(struct sort_set *set);

/* SORT's criteria, parsed (cmd_sort.c). */
struct sort_crit {
	int		 key;		/* cmd_sort.c's enum sort_key */
	int		 reverse;
};

struct sort_order {
	struct sort_crit c[SORT_MAX_CRITERIA];
	size_t		 n;		/* 0: mailbox order */
};

/*
 * A kept search run again (context.c): the UIDs of the messages of
 * the view that match key (borrowed), in order o; the view's messages
 * still in the store are marked in present[seq - 1].  0, or -1 on a
 * store error (no reply given).
 */
int	sort_context_run(struct imap_session *s, const struct search_key *key,
	    const struct sort_order *o, unsigned int need, uint8_t *present,
	    uint32_t **uids, size_t *n);

/* The commands (session.c's table). */
int	cmd_sort(struct imap_session *, const struct imap_arg *, size_t);
int	cmd_thread(struct imap_session *, const struct imap_arg *, size_t);
/* comparator.c: COMPARATOR (RFC 5255 §4.7), the comparator that
 * SEARCH, SORT and THREAD compare strings with */
int	cmd_comparator(struct imap_session *, const struct imap_arg *, size_t);

/* " 123": a number as SORT and THREAD answer with thousands of them
 * (printf costs a tenth of a SORT of 10,000). */
void	sort_put_num(struct buf *b, const char *before, uint32_t n);

/* thread.c: the THREAD answer's threads ("(2)(3 6 (4 23)(44 7 96))")
 * of set by algorithm (ORDEREDSUBJECT, REFERENCES, REFS) into b. */
enum thread_alg { THREAD_ORDEREDSUBJECT, THREAD_REFERENCES, THREAD_REFS };
void	thread_build(struct sort_set *set, enum thread_alg alg,
	    struct buf *b);

#endif
