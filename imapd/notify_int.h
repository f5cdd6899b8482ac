/*
 * NOTIFY (RFC 5465) inside imapd: what its files share.  Not for the
 * rest of imapd, which calls notify.h.
 *
 * notify.c		NOTIFY SET / NONE: the event groups a client asks
 *			for, and which events a folder has
 * notify_watch.c	what changed: the folders now against the folders
 *			before, the inotify descriptor, the session's own
 *			commands, the wait between commands and in IDLE
 * notify_send.c	the untagged responses: STATUS, LIST, METADATA,
 *			NOTIFICATIONOVERFLOW, and the selected mailbox's
 *			updates with MessageNew's FETCH
 * argcopy.c		arguments kept past their command
 *
 * The selected mailbox goes on being the view's (view.c): a change
 * found while no command runs is reported as after a NOOP, EXPUNGE
 * only where the filter allows it (§6.1.1 selected: at once;
 * §6.1.2 selected-delayed: only where RFC 3501 §7.4.1 allows one, as
 * after NOOP or during IDLE).  Every other folder is known by its row
 * in the index (mstore_stamps(): UIDNEXT and HIGHESTMODSEQ move with
 * every change) and the list of folders (mstore_list()): when the
 * index or the Maildir changes (one inotify descriptor, maildir's
 * notify.c), the rows are read in one query, the folders whose stamps
 * moved are counted again, and the differences become STATUS (§5.1 to
 * §5.3), LIST (§5.4, §5.5) and METADATA (§5.6, §5.7) responses.
 *
 * A folder takes the events of the first event group whose filter
 * matches it, so "(mailboxes Junk NONE) (personal (...))" leaves Junk
 * out.  "inboxes" is the INBOX: deliveries go nowhere else (§6.3).
 * Bounds: NOTIFY_MAX_NAMES mailbox names and NOTIFY_MAX_GROUPS groups
 * in one command, NOTIFY_MAX_WATCHED folders whose messages are
 * watched; beyond them NOTIFY is refused with NO
 * [NOTIFICATIONOVERFLOW] (§3.1), or, when folders are created later,
 * stopped with "* OK [NOTIFICATIONOVERFLOW]" (§5.8).
 */
#ifndef IMAP_NOTIFY_INT_H
#define IMAP_NOTIFY_INT_H

#include "notify.h"

#define NOTIFY_MAX_NAMES	100
#define NOTIFY_MAX_GROUPS	32
#define NOTIFY_MAX_WATCHED	100
/*
 * inotify watches on other folders' new/ (files other programs drop
 * there), each session at most this many: every post-login process
 * runs as one user, whose inotify watches the kernel bounds
 * (fs.inotify.max_user_watches) for all of them together.  A folder
 * beyond it, or whose watch the kernel refuses, is seen when a session
 * syncs it, as before.
 */
#define NOTIFY_MAX_NEW_WATCHES	NOTIFY_MAX_WATCHED
/* And on their cur/, for folders watched for FlagChange (another
 * program renaming a file there changes its flags) or MessageExpunge
 * (removing one expunges it), as many. */
#define NOTIFY_MAX_CUR_WATCHES	NOTIFY_MAX_WATCHED

/* Events (RFC 5465 §5) */
#define NE_NEW		0x01
#define NE_EXPUNGE	0x02
#define NE_FLAGS	0x04
#define NE_ANNOTATION	0x08
#define NE_NAME		0x10
#define NE_SUBSCRIPTION	0x20
#define NE_MBOX_META	0x40
#define NE_SERVER_META	0x80
#define NE_UNKNOWN	0x100	/* a name we do not know */
#define NE_MESSAGE	(NE_NEW | NE_EXPUNGE | NE_FLAGS | NE_ANNOTATION)

enum notify_filter {		/* §6.2 to §6.6 */
	F_PERSONAL, F_INBOXES, F_SUBSCRIBED, F_SUBTREE, F_MAILBOXES,
};

struct notify_group {
	enum notify_filter filter;
	unsigned int	 events;
	char		**names;	/* F_SUBTREE, F_MAILBOXES */
	size_t		 nnames;
};

/* A folder's new/ or cur/ watched (notify_watch.c). */
struct notify_newdir {
	char		*name;
	int		 wd;		/* -1: the kernel dropped it */
	int		 pending;	/* woke: sync it before looking */
};

/* A folder as last told (or, for its messages, as last counted). */
struct notify_box {
	char		*name;
	unsigned int	 attrs;		/* MFA_*, mstore_list()'s */
	int64_t		 id;		/* its row (0: none yet) */
	uint32_t	 uidvalidity, uidnext;
	uint64_t	 modseq;
	struct mbox_status st;
	int		 counted;	/* st holds */
	double		 norow;		/* on disk without a row since */
};

struct notify {
	unsigned int	 sel_events;	/* for the selected mailbox */
	int		 sel_delayed;	/* §6.1.2 */
	struct imap_arg	*fetch;		/* MessageNew's attributes, a list */
	struct notify_group *groups;
	size_t		 ngroups;
	unsigned int	 events;	/* of every group */
	struct notify_box *boxes;	/* sorted by name */
	size_t		 nboxes;
	int64_t		 meta_seq;
	int		 fd, inbox_wd;
	int		 sel_wd[2];	/* the selected mailbox's watches */
	char		 sel_name[MAILDIR_NAME_MAX + 1];	/* of which
					   ("": none) */
	int		 off;		/* overflowed (§5.8): as NONE */
	int		 inbox_new;	/* the INBOX's new/ changed */
	struct notify_newdir *newdirs;	/* other folders' new/ */
	size_t		 nnewdirs;
	int		 newdirs_full;	/* NOTIFY_MAX_NEW_WATCHES logged */
	struct notify_newdir *curdirs;	/* folders' cur/ (FlagChange,
					   MessageExpunge) */
	size_t		 ncurdirs;
	int		 curdirs_full;	/* NOTIFY_MAX_CUR_WATCHES logged */
	int		 dirty;		/* the descriptor woke: look */
};

/* notify.c: which events a folder has (the first group that matches). */
unsigned int notify_box_events(const struct notify *n, const char *name,
	    unsigned int attrs);
/* Is it there (not \NonExistent, not \Noselect)?  NULL is not. */
int	notify_box_exists(const struct notify_box *b);
/* Are this folder's messages watched (STATUS when they change)?  Not
 * the selected one's: the selected filter has those (§3.1). */
int	notify_box_watched(struct imap_session *s,
	    const struct notify_box *b);

/* notify_watch.c: the folders as last told, sorted by name. */
struct notify_box *notify_box_find(struct notify_box *b, size_t n,
	    const char *name);
void	notify_boxes_free(struct notify_box *b, size_t n);
/* Look at every folder again; LIST (emit_list) and STATUS
 * (emit_status) for what changed.  0 or -1 (store error). */
int	notify_boxes_refresh(struct imap_session *s, int emit_list,
	    int emit_status);
void	notify_newdirs_free(struct notify *n);

/* notify_send.c: the untagged responses. */
void	notify_put_list(struct imap_session *s, const char *name,
	    unsigned int attrs, int exists, const char *oldname);
void	notify_put_status(struct imap_session *s, const char *name,
	    const struct mbox_status *st, unsigned int events);
/* "* OK [NOTIFICATIONOVERFLOW]": from now on as NOTIFY NONE (§5.8). */
void	notify_overflow(struct imap_session *s, const char *why);
/* The annotations changed since the last look: METADATA (when emit),
 * or just skipped over.  0 or -1. */
int	notify_meta_refresh(struct imap_session *s, int emit);

#endif
