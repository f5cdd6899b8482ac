/*
 * maildir: the mail store.
 *
 * <data_dir>/mail/<domain>/<local>/ is the user's Maildir++ (INBOX);
 * folders are ".Name" subdirectories.  Delivery is the classic safe one:
 * write tmp/, fsync, rename into new/, fsync new/ (RFC-less but as
 * qmail's maildir(5) describes).
 *
 * File names: "<base>,S=<size>,W=<size with CRLF>" where base is chosen
 * by the caller.  The queue names a delivery after its queue id and
 * recipient index, so a delivery repeated after a crash finds the first
 * one instead of making a duplicate.
 */
#ifndef MAILDIR_H
#define MAILDIR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * The Maildir of a local address: checks that both parts are safe path
 * components (never trusts that the caller did).  0 or -1.
 */
int	maildir_user_path(const char *data_dir, const char *address,
	    char *path, size_t size);
/* Create dir and its cur/ new/ tmp/ (0700) if missing. 0 or -1. */
int	maildir_create(const char *dir);

/*
 * Writes the message to fd and returns 0 (or -1 with errno), setting
 * *vsize to its size with CRLF line ends.
 */
typedef int (*maildir_producer)(int fd, void *arg, off_t *vsize);

enum maildir_result {
	MAILDIR_DELIVERED,
	MAILDIR_DUPLICATE,	/* a file with this base is already there */
	MAILDIR_ERROR,		/* errno says why */
};

/*
 * Deliver into dir/new.  If look_in_cur, also count a file in cur/ with
 * the same base (moved there by a reader) as already delivered: used when
 * recovering after a crash.  path_r gets the new file's path.  The file
 * is on disk when this returns; its name in new/ only once new/ is
 * fsync'd: here with sync_new, else by the caller (maildir_sync_new),
 * once for several deliveries, before it counts any of them as done
 * (MAILDIR_DUPLICATE included: the file found may be an earlier try's
 * whose rename was never synced).
 */
enum maildir_result maildir_deliver(const char *dir, const char *base,
	    maildir_producer produce, void *arg, int look_in_cur,
	    int sync_new, char *path_r, size_t size);
/* Is a delivery named base in dir's new/ or cur/?  1 or 0. */
int	maildir_has_delivery(const char *dir, const char *base);
/* fsync dir/new.  0, or -1 with errno. */
int	maildir_sync_new(const char *dir);

/*
 * ---- Mailbox names (mutf7.c) ----
 *
 * IMAP names use '/' as the hierarchy separator and modified UTF-7
 * (RFC 3501 §5.1.3); on disk a folder is the Maildir++ directory
 * ".A.B" for "A/B", with a '.' inside a component written "&AC4-".
 */
#define MAILDIR_SEP		'/'
#define MAILDIR_NAME_MAX	512	/* octets of an IMAP mailbox name */
#define MAILDIR_COMPONENT_MAX	200	/* octets of one level */

/* 0, or -1 with *why: never a name that could leave the user's Maildir. */
int	maildir_name_valid(const char *name, const char **why);
/* "inbox/x" -> "INBOX/x" in place. */
void	maildir_name_normalize(char *name);
/* IMAP name -> directory below the Maildir ("" for INBOX); 0 or -1. */
int	maildir_name_to_dir(const char *name, char *dir, size_t size);
int	maildir_dir_to_name(const char *dir, char *name, size_t size);
int	mutf7_to_utf8(const char *in, char *out, size_t size);
int	utf8_to_mutf7(const char *in, char *out, size_t size);

/*
 * ---- The store: one user's Maildir++ and its index (store.c, index.c,
 * sync.c) ----
 *
 * <maildir>/index.db (SQLite, WAL) is the authority for UIDVALIDITY,
 * UIDNEXT, UIDs, keywords and mod-sequences (RFC 7162), caches what IMAP
 * FETCH needs, and keeps each message's summary for lists (msglist.c);
 * the files stay a valid Maildir (standard flags are mirrored in the
 * ":2,<letters>" of each name, and keywords too, as Dovecot does:
 * letters a..z through each folder's dovecot-keywords, 26 at most per
 * folder), and the index is rebuilt from them when missing.  Files
 * dropped into new/ by delivery or any other program are picked up by
 * mbox_sync(), which moves them to cur/.
 *
 * Every change runs in one SQLite write transaction (BEGIN IMMEDIATE),
 * which is the store's lock: sessions of the same user never see a half
 * made change, and one sync at a time assigns UIDs.
 */
struct mstore;			/* one user's store */
struct mbox;			/* one open mailbox (folder) */

/*
 * A keyword is an atom (RFC 3501 flag-keyword) of at most
 * MAILDIR_KEYWORD_MAX octets, without '\' (no system flag we do not
 * know; \Recent cannot be set): what imapd accepts and what the store
 * reads back from a folder's dovecot-keywords.  1 or 0.
 */
#define MAILDIR_KEYWORD_MAX	100
int	maildir_keyword_valid(const char *k, size_t len);

/* Message flags as stored; \Recent is per session and never stored. */
#define MF_SEEN		0x01	/* S */
#define MF_ANSWERED	0x02	/* R */
#define MF_FLAGGED	0x04	/* F */
#define MF_DELETED	0x08	/* T */
#define MF_DRAFT	0x10	/* D */
#define MF_ALL		0x1f

/* Folder attributes for LIST (RFC 3501, 3348, 5258, 6154). */
#define MFA_NOSELECT	0x001	/* a parent that does not exist itself */
#define MFA_CHILDREN	0x002
#define MFA_SUBSCRIBED	0x004
#define MFA_NONEXISTENT	0x008	/* subscribed but gone, or its parent */
#define MFA_SENT	0x010
#define MFA_DRAFTS	0x020
#define MFA_TRASH	0x040
#define MFA_JUNK	0x080
#define MFA_ARCHIVE	0x100
#define MFA_SPECIAL	(MFA_SENT | MFA_DRAFTS | MFA_TRASH | MFA_JUNK | \
			 MFA_ARCHIVE)

#define MAILDIR_UIDL_LEN 16	/* "%08X%08X" of UID and UIDVALIDITY */

struct mbox_status {
	uint32_t	messages;
	uint32_t	unseen;
	uint32_t	uidnext;
	uint32_t	uidvalidity;
	uint32_t	recent;		/* UIDs >= first_recent */
	uint32_t	first_recent;
	uint64_t	highestmodseq;
	uint64_t	size;		/* octets of all messages, with CRLF
					   line ends (the sum of RFC822.SIZE,
					   RFC 8438) */
	uint64_t	deleted;	/* messages with \Deleted */
};

/* One message as the index knows it (strings valid during a callback). */
struct mmsg {
	uint32_t	 uid;
	unsigned int	 flags;		/* MF_* */
	const char	*keywords;	/* "" or space-separated */
	uint64_t	 modseq;
	int64_t		 size;		/* octets on disk */
	int64_t		 vsize;		/* octets with CRLF line ends */
	int64_t		 internaldate;	/* seconds since the epoch */
	const char	*file;		/* name in cur/ */
	int		 hdr8;		/* 8-bit header octets: 1, 0, -1
					   not known (RFC 6532) */
	const char	*envelope;	/* cached FETCH items, or NULL */
	const char	*bodystructure;
	const char	*body;
};
/* Return 0 to go on, anything else stops and is returned. */
typedef int (*mbox_msg_cb)(const struct mmsg *m, void *arg);

/*
 * Open the store of the Maildir userdir (created if missing, with the
 * folders INBOX Sent Drafts Trash Junk Archive on first use).  An index
 * SQLite cannot read is set aside (index.db.broken) and rebuilt from the
 * files.  0 or -1 with *err.
 */
int	mstore_open(const char *userdir, struct mstore **st_r,
	    const char **err);
void	mstore_close(struct mstore **st);
/*
 * Why the last operation failed, as a class the callers map to their
 * protocol's replies (imapd to response codes, RFC 5530; the webmail to
 * HTTP statuses), each in one place; mstore_error() says it in words
 * (never a path).  The store decides the class where it fails: a full
 * disk or quota is one whether a file write or SQLite said so.
 */
enum mstore_err {
	MSTORE_OK,
	MSTORE_ENOTFOUND,	/* no such mailbox, or message (expunged) */
	MSTORE_EEXISTS,		/* a mailbox of that name exists */
	MSTORE_ENOSPACE,	/* the disk is full */
	MSTORE_EOVERQUOTA,	/* the file system's quota (EDQUOT) */
	MSTORE_ECHILDREN,	/* the mailbox has children (DELETE,
				 * RFC 3501 §6.3.4 lets us refuse) */
	MSTORE_EPERM,		/* never allowed (deleting the INBOX) */
	MSTORE_EINVAL,		/* a bad name or argument */
	MSTORE_ELIMIT,		/* more entries than the caller's maximum */
	MSTORE_EINTERNAL,	/* the index or the file system failed */
};
const char *mstore_error(struct mstore *st);
enum mstore_err mstore_errclass(struct mstore *st);
/* Give back the memory the index holds between uses (its page cache):
 * for a session about to wait for its client. */
void	mstore_shrink(struct mstore *st);
/* A stamp of what a reader of the store could see (stamp.c): equal
 * stamps, the first begun well after *newest (the newest directory
 * mtime in it, ns), mean nothing changed between them.  *own moves with
 * this connection's own changes only (compare it too).  0 or -1. */
struct buf;
int	mstore_stamp(struct mstore *st, struct buf *out, int64_t *own,
	    int64_t *newest);
/* Group changes in one transaction (nests); 0 or -1. */
int	mstore_begin(struct mstore *st);
int	mstore_commit(struct mstore *st);
void	mstore_rollback(struct mstore *st);

/*
 * The user's settings that belong to no message or folder (a name and a
 * text value each, in the index): 1 with value filled, 0 when not set,
 * -1; set with value NULL removes it.
 */
int	mstore_setting_get(struct mstore *st, const char *name, char *value,
	    size_t size);
int	mstore_setting_set(struct mstore *st, const char *name,
	    const char *value);

/* Folders.  Names are validated here again (maildir_name_valid). */
int	mstore_exists(struct mstore *st, const char *name);
int	mstore_create(struct mstore *st, const char *name);
int	mstore_delete(struct mstore *st, const char *name);
int	mstore_rename(struct mstore *st, const char *from, const char *to);
int	mstore_subscribe(struct mstore *st, const char *name, int on);
/* Every folder (and parents of nested ones, subscribed names that no
 * longer exist and their parents), sorted; cb(name, MFA_* flags, arg). */
int	mstore_list(struct mstore *st,
	    void (*cb)(const char *name, unsigned int attrs, void *arg),
	    void *arg);
/* The special-use attribute of a name (MFA_SENT ...), or 0. */
unsigned int mstore_special_use(const char *name);
/* What mstore_list() gives one folder that exists (MFA_CHILDREN, its
 * special uses; not MFA_SUBSCRIBED) without listing the others; -1 if
 * it does not exist. */
int	mstore_attrs(struct mstore *st, const char *name, unsigned int *attrs);
/* Status of a folder (synced first); 0, or -1 if it does not exist. */
int	mstore_status(struct mstore *st, const char *name,
	    struct mbox_status *s);

/* A mailbox: open (synced), close. */
int	mbox_open(struct mstore *st, const char *name, struct mbox **mb_r);
void	mbox_close(struct mbox **mb);
const char *mbox_name(const struct mbox *mb);
/* Its directory: the Maildir++ folder (with cur/ new/ tmp/). */
const char *mbox_dir(const struct mbox *mb);
struct mstore *mbox_store(struct mbox *mb);
/*
 * An inotify descriptor (non-blocking) that becomes readable when the
 * mailbox may have changed: a delivery, another session's change, a
 * file renamed by another program (watch.c); -1 on error.  Drain it
 * before looking again.
 */
int	mbox_watch(struct mbox *mb);
void	mbox_watch_drain(int fd);
/*
 * Watching the whole store (notify.c, for IMAP NOTIFY, RFC 5465): one
 * inotify descriptor on the Maildir itself (the index, folders made or
 * removed) and the INBOX's new/ (deliveries; *inbox_wd its watch), -1
 * on error; a mailbox's new/ and cur/ added to it and taken away again
 * (keep: a watch not to remove, the INBOX's new/).
 */
int	mstore_watch(struct mstore *st, int *inbox_wd);
/* The new/ of the folder name added to fd: files other programs drop
 * there (procmail, a sieve filter) wake it.  The watch, or -1. */
int	mstore_watch_new(struct mstore *st, int fd, const char *name);
/* Its cur/ (the same mask as mbox_watch_add()'s, so that one watch
 * serves both): a file renamed there (flags), moved out or removed. */
int	mstore_watch_cur(struct mstore *st, int fd, const char *name);
int	mbox_watch_add(struct mbox *mb, int fd, int wd[2]);
void	mbox_watch_remove(int fd, int wd[2], int keep);
/* Every folder's row as the index has it, in one query: any change to
 * its messages moves UIDNEXT or HIGHESTMODSEQ.  cb's return stops
 * (and is returned); 0, or -1 on error. */
struct mstamp {
	int64_t		 id;		/* the row: kept by a rename */
	const char	*name;
	uint32_t	 uidvalidity, uidnext;
	uint64_t	 highestmodseq;
};
int	mstore_stamps(struct mstore *st,
	    int (*cb)(const struct mstamp *, void *), void *arg);
/* Annotations changed (METADATA): start a log of them if there is none
 * and give its last number; then the entries changed after *seq (set
 * or removed; mailbox NULL for the server's), *seq moved on.  0; 1 when
 * changes were lost (the log keeps the last 1000; cb not called); -1. */
int	mstore_metadata_watch(struct mstore *st, int64_t *seq);
int	mstore_metadata_changes(struct mstore *st, int64_t *seq,
	    void (*cb)(const char *mailbox, const char *entry, void *),
	    void *arg);
/* Pick up what changed on disk (new/, files renamed or removed by other
 * programs).  Cheap when nothing did: two stat(2) calls. */
int	mbox_sync(struct mbox *mb);
int	mbox_get_status(struct mbox *mb, struct mbox_status *s);
/* Only UIDNEXT and HIGHESTMODSEQ: one row read, for "did anything
 * change?" after every IMAP command (every change bumps the latter). */
int	mbox_get_modseq(struct mbox *mb, uint32_t *uidnext,
	    uint64_t *highestmodseq);
/* \Recent (RFC 3501 §2.3.2): claim the messages no session saw yet:
 * UIDs from the returned one up to (not including) *end_r are \Recent
 * to this session and to no other. */
uint32_t mbox_claim_recent(struct mbox *mb, uint32_t *end_r);
/* The same range, left to the next claim: what a read-only session
 * (EXAMINE) shows as \Recent without taking it from the others. */
uint32_t mbox_peek_recent(struct mbox *mb, uint32_t *end_r);

/*
 * Messages with uid_min <= UID <= uid_max and MODSEQ > changedsince,
 * in UID order.  with_cache: also read the cached FETCH items.
 */
int	mbox_messages(struct mbox *mb, uint32_t uid_min, uint32_t uid_max,
	    uint64_t changedsince, int with_cache, mbox_msg_cb cb, void *arg);
/*
 * ---- Message lists (msglist.c, summary.c) ----
 *
 * What a list of messages shows, kept in the index so that drawing one
 * re-reads no message: taken from the header block (at most 64 KiB of
 * it) when the message enters the index (delivery picked up by a sync,
 * APPEND, COPY, a rebuild), or, for rows an older index made without
 * one, on the first mbox_summaries() that needs it.  Strings are UTF-8
 * (RFC 2047 decoded), without control characters, bounded (a subject
 * 1000 octets, names 200), valid during the callback only; those of the
 * header are "" when it has none, the message ids NULL.
 */
struct msummary {
	uint32_t	 uid;
	unsigned int	 flags;		/* MF_* */
	const char	*keywords;	/* "" or space-separated */
	int64_t		 sent;		/* Date:, else INTERNALDATE (RFC 5256) */
	int64_t		 internaldate;
	int64_t		 size;		/* octets with CRLF (RFC822.SIZE) */
	const char	*from_name;	/* the first From's display name */
	const char	*from_addr;	/* and its address, "local@domain" */
	const char	*to_text;	/* "Ann, bob@example.org, …" */
	const char	*subject;
	const char	*message_id;	/* "<id>" */
	const char	*in_reply_to;	/* its first "<id>" */
	const char	*references;	/* "<a> <b>": the first and the last
					 * ones when there were too many */
	int		 has_attachment;	/* top-level multipart/mixed, or
					 * an attachment itself (summary.c) */
};

/*
 * Orders of a list; ties by UID.  DATE is the sent date, as IMAP SORT's
 * (RFC 5256); FROM the first From's display name, else its address, as
 * a list shows it (RFC 5957's DISPLAYFROM); SUBJECT the base subject
 * (RFC 5256 §2.1: "Re:", "Fwd:", "[list]", "(fwd)" gone); both in their
 * i;unicode-casemap form (lib/casemap.h); SIZE as RFC822.SIZE.
 */
enum msort { MSORT_ARRIVAL, MSORT_DATE, MSORT_FROM, MSORT_SUBJECT,
	MSORT_SIZE };
/*
 * The messages of mb as the index has them (mbox_sync() first for new
 * mail): *total_r their number, then the page offset .. offset + limit
 * - 1 of them in that order (reverse: descending), one cb each (as
 * mbox_msg_cb: not 0 stops and is returned; cb must not change the
 * store).  limit 0: the count alone.  0 or -1.
 */
int	mbox_summaries(struct mbox *mb, enum msort sort, int reverse,
	    uint32_t offset, uint32_t limit,
	    int (*cb)(const struct msummary *, void *), void *arg,
	    uint32_t *total_r);
/*
 * The UIDs of mb in the order of sort whose decoded subject, or first
 * sender's name or address, holds folded (a casemap_fold()ed string), from
 * the summaries alone: 1 (*uids_r malloc'd), 0 when some rows have no
 * summary (the index cannot answer), -1 error.
 */
int	mbox_summaries_holding(struct mbox *mb, enum msort sort,
	    int reverse, const char *folded, uint32_t **uids_r, size_t *n_r);
/* One message's summary by UID: 1 (cb called), 0 no such message,
 * -1 error. */
int	mbox_summary(struct mbox *mb, uint32_t uid,
	    int (*cb)(const struct msummary *, void *), void *arg);

/*
 * ---- What IMAP SORT and THREAD read (sortkeys.c) ----
 *
 * Every message of the mailbox in UID order, with what SEARCH needs of
 * it and the keys of SORT (RFC 5256 §3, RFC 5957) and THREAD (RFC 5256
 * §3), from the index's summaries (made first for rows that have none):
 * no message file is opened for a mailbox whose summaries are there.
 * Strings valid during the callback only, "" when the header has none
 * (the message ids NULL).
 */
struct msortkeys {
	uint32_t	 uid;
	unsigned int	 flags;		/* MF_* */
	const char	*keywords;
	uint64_t	 modseq;
	int64_t		 size;		/* RFC822.SIZE */
	int64_t		 internaldate;
	int64_t		 sent;		/* Date: in UTC, else INTERNALDATE */
	/* the strings in their i;unicode-casemap form (lib/casemap.h);
	 * unfolded with MSK_RAW */
	const char	*from_mbox;	/* first address's addr-mailbox */
	const char	*to_mbox;
	const char	*cc_mbox;
	const char	*from_display;	/* DISPLAYFROM, DISPLAYTO: name, */
	const char	*to_display;	/* else addr-spec */
	const char	*base_subject;	/* RFC 5256 §2.1 */
	int		 reply;		/* the subject was a reply/forward */
	const char	*message_id;
	const char	*in_reply_to;
	const char	*references;
};
/*
 * What the caller needs beyond uid and sent: the columns of the
 * message row (flags, keywords, modseq, internaldate: for a search
 * other than ALL, and ARRIVAL), the string keys, the message ids.
 * Without MSK_MSG the rows come in no particular order unless
 * MSK_ORDERED is asked, and only what was asked is filled in; less
 * asked is less of the index read (a SORT (DATE) ALL reads one of its
 * indexes alone).
 */
#define MSK_MSG		0x01
#define MSK_TEXT	0x02	/* size, *_mbox, *_display, base_subject */
#define MSK_LINKS	0x04	/* reply, message_id, in_reply_to, references */
#define MSK_ORDERED	0x08	/* in UID order */
/* The strings of MSK_TEXT unfolded, as the message has them (cleaned),
 * for a comparator other than i;unicode-casemap (RFC 5255 §4.7). */
#define MSK_RAW		0x10
/* cb as mbox_msg_cb (not 0 stops; it must not change the store).  0 or
 * -1. */
int	mbox_sort_keys(struct mbox *mb, unsigned int need,
	    int (*cb)(const struct msortkeys *, void *), void *arg);

/*
 * ---- Threads (thread.c): RFC 5256 §3's algorithms over sort keys ----
 *
 * IMAP's THREAD and the webmail's conversations.  The messages in the
 * order that breaks ties (sequence, or UID, order); their ids as
 * mbox_sort_keys() gives them ("<a> <b>"), in_reply_to and references
 * in copies the builder cuts into ids in place.
 */
struct mthread_msg {
	int64_t		 sent;		/* RFC 5256 §2.2 */
	uint32_t	 seq;		/* ties: the lower first */
	const char	*subject;	/* base subject, casemap'd */
	int		 reply;		/* the subject was a reply/forward */
	const char	*message_id;	/* NULL: none */
	char		*in_reply_to;	/* NULL: none (cut in place) */
	char		*references;	/* NULL: none (cut in place) */
};

enum mthread_alg {
	MTHREAD_ORDEREDSUBJECT,
	MTHREAD_REFERENCES,		/* with step 5's subject merging */
	MTHREAD_REFS,			/* without; by latest message */
};

#define MTHREAD_NONE	((size_t)-1)

/* A node: a message (msg, its index) or a dummy (MTHREAD_NONE) that
 * holds a thread together; first-child / next-sibling links. */
struct mthread_node {
	size_t		 msg;
	size_t		 parent, child, next, last;
	int64_t		 date;		/* the builder's sort key */
	uint32_t	 seq;
};

/* The threads are v[root]'s children, in order. */
struct mthread {
	struct mthread_node *v;
	size_t		 n, root;
};

void	mthread_build(struct mthread_msg *msgs, size_t n,
	    enum mthread_alg alg, struct mthread *out);
/* The threads by their latest message instead (the newest first if
 * asked): what a mail client's conversation view shows. */
void	mthread_sort_latest(struct mthread *t, const struct mthread_msg *msgs,
	    int newest_first);
void	mthread_free(struct mthread *t);

/* All UIDs in order (malloc'd array, caller frees). */
int	mbox_uids(struct mbox *mb, uint32_t **uids_r, size_t *n_r);
/* UIDs expunged after modseq (for QRESYNC's VANISHED), ascending. */
int	mbox_vanished(struct mbox *mb, uint64_t since, void (*cb)(uint32_t uid,
	    void *arg), void *arg);
/* Open a message for reading (O_RDONLY); fd, or -1 (MSTORE_ENOTFOUND:
 * expunged). */
int	mbox_msg_open(struct mbox *mb, uint32_t uid);
/* The POP3 UIDL of a message: stable, and the same IMAP clients see. */
void	mbox_uidl(const struct mbox *mb, uint32_t uid,
	    char out[MAILDIR_UIDL_LEN + 1]);

/*
 * Set flags and keywords of one message.  unchangedsince (RFC 7162
 * §3.1.3): 0 for none.  Returns 1 changed (*modseq_r set), 0 already so,
 * 2 refused by unchangedsince, -1 error (MSTORE_ENOTFOUND: expunged).
 */
int	mbox_set_flags(struct mbox *mb, uint32_t uid, unsigned int flags,
	    const char *keywords, uint64_t unchangedsince, uint64_t *modseq_r);
/* Remove messages (files and index rows); recorded for VANISHED. */
int	mbox_expunge(struct mbox *mb, const uint32_t *uids, size_t n);
/* Store cached FETCH items for a message (any may be NULL). */
int	mbox_cache_put(struct mbox *mb, uint32_t uid, const char *envelope,
	    const char *bodystructure, const char *body);
/* Keep whether a message's header holds 8-bit octets (msg.hdr8, which
 * mmsg.hdr8 reads), found out by a reader where it was not known. */
int	mbox_hdr8_put(struct mbox *mb, uint32_t uid, int hdr8);
/* Every keyword used in the mailbox, space-separated (caller frees). */
char	*mbox_keywords(struct mbox *mb);

/*
 * Append: write the message to the fd mbox_append_begin() opens in tmp/,
 * then mbox_append_commit() makes it durable, names it, gives it a UID.
 */
int	mbox_append_begin(struct mbox *mb, char *tmppath, size_t size);
/* Write to that fd, close it: 0, or -1 with the store's error (a full
 * disk is MSTORE_ENOSPACE ...). */
int	mbox_append_write(struct mbox *mb, int fd, const void *data,
	    size_t len);
int	mbox_append_close(struct mbox *mb, int fd);
int	mbox_append_commit(struct mbox *mb, const char *tmppath,
	    unsigned int flags, const char *keywords, int64_t internaldate,
	    uint32_t *uid_r);
/* Several at once, all or none (IMAP MULTIAPPEND, RFC 3502): one
 * transaction; on failure no file is left in the mailbox (the tmp/
 * files stay, for the caller to remove).  Each gets its uid. */
struct mbox_append {
	const char	*tmppath;
	unsigned int	 flags;
	const char	*keywords;
	int64_t		 internaldate;
	uint32_t	 uid;		/* set */
};
int	mbox_append_commit_n(struct mbox *mb, struct mbox_append *msgs,
	    size_t n);
/* Copy one message into dst (a hard link when possible); *uid_r its UID
 * there. */
int	mbox_copy(struct mbox *src, uint32_t uid, struct mbox *dst,
	    uint32_t *uid_r);

/*
 * ---- What IMAP extensions keep in the index (ext.c) ----
 *
 * A message's save date (RFC 8514: when it came into this folder, by
 * delivery, APPEND, COPY or MOVE), its EMAILID (RFC 8474: kept by COPY
 * and MOVE) and its PREVIEW (RFC 8970, NULL until one is stored); a
 * folder's MAILBOXID (RFC 8474, kept by RENAME) and the special uses
 * CREATE gave it (RFC 6154 §3, shown by mstore_list()).
 */
#define MAILDIR_OBJECTID_MAX	32	/* octets of an EMAILID, MAILBOXID */
struct mmsg_ext {
	int64_t		 savedate;	/* seconds since the epoch */
	char		 emailid[MAILDIR_OBJECTID_MAX + 1];
	char		*preview;	/* malloc'd, or NULL */
};
/* 1 (e filled; free with mmsg_ext_free()), 0 no such message, -1. */
int	mbox_msg_ext(struct mbox *mb, uint32_t uid, struct mmsg_ext *e);
void	mmsg_ext_free(struct mmsg_ext *e);
int	mbox_preview_put(struct mbox *mb, uint32_t uid, const char *preview);
int	mbox_mailbox_id(struct mbox *mb, char id[MAILDIR_OBJECTID_MAX + 1]);
int	mstore_mailbox_id(struct mstore *st, const char *name,
	    char id[MAILDIR_OBJECTID_MAX + 1]);
/* Create a folder with special uses (MFA_SENT ...; others:
 * MSTORE_EINVAL). */
int	mstore_create_special(struct mstore *st, const char *name,
	    unsigned int uses);

/*
 * ---- Annotations (metadata.c; IMAP METADATA, RFC 5464) ----
 *
 * Entries of a folder (mailbox its name) or of the server (mailbox
 * NULL): name -> value, any octets.  Names are kept as given (the
 * caller checks them).  A folder renamed keeps its entries; deleted, it
 * loses them.  No such folder: -1 with MSTORE_ENOTFOUND.
 */
/* Names under this are one user's entries in another user's folder
 * (imapd/cmd_metadata.c): never a client's entry name, never told as a
 * change (mstore_metadata_changes()). */
#define MSTORE_META_USER	"/user/"
struct mmeta {
	char		*name;
	char		*value;		/* NUL-terminated too; NULL: remove */
	size_t		 len;
};
/* The entry name and, by depth (0; 1; -1: any), those below it,
 * ordered by name; free with mmeta_free().  0 or -1. */
int	mstore_metadata_get(struct mstore *st, const char *mailbox,
	    const char *name, int depth, struct mmeta **out, size_t *n);
void	mmeta_free(struct mmeta **m, size_t *n);
/* Set or remove each, all or none; more than max_entries left for the
 * owner: nothing done, -1 with MSTORE_ELIMIT. */
int	mstore_metadata_set(struct mstore *st, const char *mailbox,
	    const struct mmeta *set, size_t n, size_t max_entries);

/*
 * ---- What a user's mail takes, for quotas (quota.c) ----
 *
 * Octets (the sum of RFC822.SIZE) and messages of every folder, kept
 * in the index by triggers (one row read), plus deliveries still in
 * the INBOX's new/.  mstore_usage() for an open store; maildir_usage()
 * for a process that must not open one (local delivery): it reads the
 * index without changing it, or counts the files when there is none
 * yet.  0 or -1.
 */
int	mstore_usage(struct mstore *st, uint64_t *octets, uint64_t *messages);
int	maildir_usage(const char *userdir, uint64_t *octets,
	    uint64_t *messages);
/* Octets of a folder's messages with \Deleted: what EXPUNGE would give
 * back (RFC 9208 §4.2.1 DELETED-STORAGE).  0 or -1. */
int	mstore_deleted_storage(struct mstore *st, const char *name,
	    uint64_t *octets);

/*
 * ---- Access control lists (acl.c; IMAP ACL, RFC 4314) ----
 *
 * A folder's entries: identifier -> rights, as the caller gives them
 * (imapd checks both).  A folder renamed keeps its ACL; deleted, loses
 * it.  No such folder: -1 with MSTORE_ENOTFOUND.
 */
#define MACL_IDENT_MAX	320	/* octets of an identifier ("-" included) */
#define MACL_RIGHTS_MAX	31
struct macl {
	char		 ident[MACL_IDENT_MAX + 1];
	char		 rights[MACL_RIGHTS_MAX + 1];
};
/* Ordered by identifier; *out malloc'd (free()).  0 or -1. */
int	mstore_acl_get(struct mstore *st, const char *mailbox,
	    struct macl **out, size_t *n);
/* Set ident's rights (NULL or "": remove the entry); more than
 * max_entries left: nothing done, -1 with MSTORE_ELIMIT.  0 or -1. */
int	mstore_acl_set(struct mstore *st, const char *mailbox,
	    const char *ident, const char *rights, size_t max_entries);
/* Has ident an entry on any folder?  1, 0, -1. */
int	mstore_acl_used(struct mstore *st, const char *ident);

#endif
