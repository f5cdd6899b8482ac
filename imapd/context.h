/*
 * Search contexts (RFC 5267 §4, context.c): PARTIAL results (§4.4 and
 * RFC 9394), and the searches RETURN (UPDATE) keeps current while the
 * mailbox stays selected (§4.3).  Not for use outside imapd/.
 */
#ifndef IMAP_CONTEXT_H
#define IMAP_CONTEXT_H

#include "sort.h"

#define CONTEXT_MAX	10	/* updating contexts a session keeps; more
				   get NO [NOUPDATE] (RFC 5267 §4.3.1) */

/* A PARTIAL range ("1:500", "-1:-100"): 0, or -1 when malformed. */
int	partial_parse(const struct imap_arg *a, struct return_partial *p);
/* The results [*from, *to) of n that p names (from == to: none). */
void	partial_slice(const struct return_partial *p, size_t n, size_t *from,
	    size_t *to);
/* " PARTIAL (range set)" of nums (the result, in its order); the set in
 * that order when ordered (SORT), else ascending (SEARCH). */
void	partial_put(struct buf *b, const struct return_partial *p,
	    const uint32_t *nums, size_t n, int ordered);
/* Numbers in the order given, ascending runs as ranges ("5:7,1,3"). */
void	context_put_ordered(struct buf *b, const uint32_t *nums, size_t n);

/*
 * Before a searching command with RETURN (UPDATE) runs: 0 go on; 1 it
 * goes on without updates (an untagged NO [NOUPDATE] given: too many
 * contexts); -1 a BAD given (the tag names a context already, §4.3).
 */
int	context_check(struct imap_session *s);
/*
 * After it answered: keep it under the command's tag.  keys are its
 * search keys (after the charset), o its sort order (NULL: SEARCH,
 * mailbox order) and need what sorting reads; nums the result in its
 * order, as the command gave it (UIDs or message numbers).
 */
void	context_add(struct imap_session *s, const struct imap_arg *keys,
	    size_t nkeys, const struct sort_order *o, unsigned int need,
	    const uint32_t *nums, size_t n);
/* RFC 5465 §7: the fetch-atts of its RETURN (UPDATE (...)) (NULL:
 * none), for the context just added. */
void	context_fetch_atts(struct imap_session *s,
	    const struct imap_arg *atts);
/* view.c: message uid is about to be reported expunged (REMOVEFROM
 * goes first, §4.3.4). */
void	context_expunge(struct imap_session *s, uint32_t uid);
/* view.c: the view caught up (its EXISTS sent): ADDTO and REMOVEFROM
 * for what entered or left each result (§4.3.3).  0, or -1 on a store
 * error. */
int	context_refresh(struct imap_session *s);
/* The mailbox is no longer selected: no more updates. */
void	context_free_all(struct imap_session *s);

int	cmd_cancelupdate(struct imap_session *, const struct imap_arg *,
	    size_t);

#endif
