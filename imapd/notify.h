/*
 * NOTIFY (RFC 5465, notify*.c): what the session's files call.  A
 * session that never sends NOTIFY has s->notify NULL and pays one test
 * of it per command.
 */
#ifndef IMAP_NOTIFY_H
#define IMAP_NOTIFY_H

#include "session.h"

int	cmd_notify(struct imap_session *, const struct imap_arg *, size_t);
/* Forget the session's NOTIFY (NOTIFY NONE, logout). */
void	notify_free(struct imap_session *s);
/*
 * The view update after a command (imap_view_update()), which with
 * NOTIFY also gives new messages' FETCH of MessageNew's attributes
 * (RFC 5465 §5.2) and flag changes with their UID (§5.1).
 */
int	imap_view_notify(struct imap_session *s, int allow_expunge);
/* After a command ran: what this session did itself is not news to it
 * (RFC 5465 §5: the server SHOULD omit those). */
void	notify_own(struct imap_session *s, const char *cmd,
	    const struct imap_arg *args, size_t nargs);
/*
 * Between commands: send what happened, and (wait) go on until the
 * client says something (RFC 5465 §5: notifications come while no
 * command is in progress).  0 when input waits (or !wait), -1 when the
 * session ends (BYE given).
 */
int	notify_wait(struct imap_session *s, int wait);
/* IDLE with NOTIFY set: the descriptor to wait on (the session's), and
 * what to send when it wakes (§4: the same events as between commands,
 * EXPUNGE included).  0, or -1 when the selected mailbox is lost. */
int	notify_idle_fd(struct imap_session *s);
int	notify_push(struct imap_session *s, int idle);
void	notify_drain(struct imap_session *s);	/* after it woke */

/*
 * SEARCH and SORT's RETURN (...) (ret): the fetch-atts after UPDATE
 * into *atts (NULL: none; RFC 5465 §7).  0, or -1 after a BAD when
 * FETCH would not take them.
 */
int	notify_update_atts(struct imap_session *s, const struct imap_arg *ret,
	    const struct imap_arg **atts);
/* argcopy.c: a deep copy of an argument, kept past its command; and
 * its end. */
struct imap_arg *imap_arg_dup(const struct imap_arg *a);
void	imap_arg_dup_free(struct imap_arg **a);

/* cmd_fetch.c: MessageNew's fetch attributes (a list): would FETCH
 * take them (0, or -1)?  And their "* n FETCH" for the view's messages
 * first..last, unsolicited, never setting \Seen. */
int	imap_fetch_atts_check(struct imap_session *s,
	    const struct imap_arg *atts);
int	imap_fetch_unsolicited(struct imap_session *s,
	    const struct imap_arg *atts, uint32_t first, uint32_t last);

#endif
