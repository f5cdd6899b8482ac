/*
 * SORT, ESORT and THREAD (cmd_sort.c, thread.c): what the two share; not
 * for use outside imapd/.
 */
#ifndef IMAP_SORT_H
#define IMAP_SORT_H

#include "session.h"

#define SORT_MAX_CRITERIA	16	/* sort keys in one SORT, REVERSE
					   included (RFC 5256 names 8) */

/* What SORT and THREAD keep of each message that matched. */
struct sort_msg {
	uint32_t	 seq;
	uint32_t	 num;		/* what the reply says: seq or UID */
	int64_t		 sent;		/* RFC 5256 §2.2 */
	int64_t		 arrival;	/* INTERNALDATE */
	int64_t		 size;
	/* Copied only when asked for (SORT_NEED_*), else NULL. */
	char		*from_mbox, *to_mbox, *cc_mbox;
	char		*from_display, *to_display;
	char		*subject;	/* base subject */
	char		*message_id, *in_reply_to, *references;
	int		 reply;
};

#define SORT_NEED_FROM		0x001
#define SORT_NEED_TO		0x002
#define SORT_NEED_CC		0x004
#define SORT_NEED_DISPFROM	0x008
#define SORT_NEED_DISPTO	0x010
#define SORT_NEED_SUBJECT	0x020
#define SORT_NEED_LINKS		0x040	/* message ids (THREAD) */
#define SORT_NEED_SIZE		0x080
#define SORT_NEED_ARRIVAL	0x100
#define SORT_NEED_ORDER		0x200	/* in sequence order (THREAD) */

/* The strings of a sort_set, in blocks that never move. */
struct sort_chunk {
	struct sort_chunk *next;
	size_t		 used, cap;
	char		 data[];
};

struct sort_set {
	struct sort_msg	*v;		/* in sequence order */
	size_t		 n;
	struct sort_chunk *strings;
	uint64_t	 max_modseq;	/* of those, for CONDSTORE */
	int		 modseq;	/* the search used MODSEQ */
};

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

/* The commands (session.c's table). */
int	cmd_sort(struct imap_session *, const struct imap_arg *, size_t);
int	cmd_thread(struct imap_session *, const struct imap_arg *, size_t);

/* thread.c: the THREAD answer's threads ("(2)(3 6 (4 23)(44 7 96))")
 * of set by algorithm (ORDEREDSUBJECT, REFERENCES, REFS) into b. */
enum thread_alg { THREAD_ORDEREDSUBJECT, THREAD_REFERENCES, THREAD_REFS };
void	thread_build(struct sort_set *set, enum thread_alg alg,
	    struct buf *b);

#endif
