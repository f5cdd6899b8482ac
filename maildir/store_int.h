/*
 * What store.c, index.c and sync.c share; not for use outside maildir/.
 */
#ifndef STORE_INT_H
#define STORE_INT_H

#include <limits.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "maildir.h"

struct summary;

#define STORE_SORTS	(MSORT_SIZE + 1)	/* enum msort's values */
/* The summary column each order reads (store.c's pages, msglist.c's
 * search), as SQL text; each has an index (mailbox, key, uid). */
#define SUM_KEY_ARRIVAL	"uid"
#define SUM_KEY_DATE	"sent"
#define SUM_KEY_FROM	"from_key"
#define SUM_KEY_SUBJECT	"base_subject"
#define SUM_KEY_SIZE	"size"

/* Prepared statements, made once per store (see store_stmt()). */
enum store_sql {
	Q_MBOX_GET, Q_MBOX_ADD, Q_MBOX_DIRS, Q_MBOX_SET_DIRS, Q_MBOX_BUMP,
	Q_MBOX_UIDNEXT, Q_MBOX_MODSEQ, Q_MBOX_STATUS, Q_MBOX_RECENT, Q_MBOX_RECENT_SET,
	Q_MSG_RANGE, Q_MSG_RANGE_CACHE, Q_MSG_UIDS, Q_MSG_ONE, Q_MSG_ADD,
	Q_MSG_HDR8,
	Q_MSG_FLAGS, Q_MSG_DEL, Q_MSG_CACHE, Q_MSG_FILES, Q_MSG_FILE_FLAGS,
	Q_VANISH_ADD, Q_VANISHED,
	/* msglist.c: a page of summaries in each order (sort * 2 +
	 * reverse), from the summaries' indexes, or from msg when some
	 * rows have none */
	Q_SUM_PAGE,
	Q_SUM_SLOW = Q_SUM_PAGE + STORE_SORTS * 2,
	Q_SUM_COUNT = Q_SUM_SLOW + STORE_SORTS * 2, Q_SUM_MISSING,
	Q_SUM_RAW_MISSING, Q_SUM_RAW_SET, Q_SUM_ADD, Q_SUM_NEW,
	Q_SUM_ONE, Q_SORT_KEYS, Q_SORT_SUMMARY, Q_SORT_DATES,
	Q_SORT_KEYS_RAW, Q_SORT_SUMMARY_RAW,	/* sortkeys.c: MSK_RAW */
	Q_COUNTS_GET, Q_COUNTS_PUT, Q_MBOX_SET_UIDNEXT,
	Q_COUNT
};

/*
 * What counting a mailbox learnt, kept while the mailbox row's stamps
 * say it still holds, and kept by the store when the mailbox is closed
 * (a page that lists every folder's counts opens each one again).
 */
struct mbox_counts {
	/* the last status counted, good while its row's stamps hold */
	struct mbox_status status;
	int		 status_known;
	/* Every row had its summary at this UIDVALIDITY and UIDNEXT
	 * (0: not known); only a new message comes without one. */
	uint32_t	 summaries_uidvalidity;
	uint32_t	 summaries_uidnext;
};

#define STORE_MEMO	32		/* mailboxes whose counts are kept */

/* ext.c's statements (issue 14: SAVEDATE, OBJECTID, PREVIEW,
 * CREATE-SPECIAL-USE). */
enum ext_sql {
	EXT_ADD, EXT_NEW, EXT_COPY, EXT_GET, EXT_PREVIEW, EXT_MBOX_ADD, EXT_MBOX_GET,
	EXT_MBOX_USES, EXT_USES_BY_NAME, EXT_Q_COUNT
};

struct mstore {
	char		 dir[PATH_MAX];		/* the Maildir (INBOX) */
	struct {
		int64_t		 id;		/* mailbox row; 0: free */
		struct mbox_counts counts;
	}		 memo[STORE_MEMO];
	unsigned int	 memo_next;		/* the slot to reuse next */
	sqlite3		*db;
	sqlite3_stmt	*stmts[Q_COUNT];
	sqlite3_stmt	*ext_stmts[EXT_Q_COUNT];
	int		 txn;			/* nesting depth */
	int		 txn_failed;
	char		 err[256];
	enum mstore_err	 errclass;		/* see mstore_errclass() */
};

/*
 * Keyword letters, as Dovecot keeps them: the folder's dovecot-keywords
 * has lines "<i> <keyword>", and letter 'a' + i in a file name's info
 * (":2,FSa") sets keyword i.  Only 26 letters exist: keywords beyond
 * them stay in the index only (and do not survive its rebuild).
 */
#define STORE_KW_MAX	26

struct mbox {
	struct mstore	*st;
	char		 name[MAILDIR_NAME_MAX + 1];
	char		 dir[PATH_MAX];		/* folder directory */
	int64_t		 id;			/* mailbox row */
	uint32_t	 uidvalidity;
	/* dovecot-keywords as last read, and what stat(2) said of it */
	char		*kw[STORE_KW_MAX];	/* NULL: no usable name */
	uint32_t	 kw_used;		/* bit i: index i is taken */
	int		 kw_loaded;
	struct stat	 kw_sb;
	struct mbox_counts counts;
};

sqlite3_stmt *store_stmt(struct mstore *st, enum store_sql q);
/* store.c: a status from a row of Q_MBOX_STATUS or Q_COUNTS_GET
 * (uidvalidity, uidnext, highestmodseq, first_recent, messages, unseen,
 * recent, size, deleted). */
void	store_status_read(sqlite3_stmt *s, struct mbox_status *out);
/* store.c: keep mb->counts in the index for the next process to open
 * the mailbox (best effort: a failure only costs a count). */
void	store_counts_save(struct mbox *mb);
/* msglist.c: the SQL functions its statements use.  0 or -1. */
int	store_list_functions(sqlite3 *db);
/* Set st->err and st->errclass from errno or SQLite, return -1. */
int	store_fail(struct mstore *st, const char *what);
/* Refuse an operation for a reason of ours (MSTORE_EEXISTS ...): set
 * st->err to why and st->errclass to cls, return -1. */
int	store_refuse(struct mstore *st, enum mstore_err cls, const char *why);
/* Set them from errno alone (a file's failure: a transaction goes on),
 * return -1. */
int	store_fail_errno(struct mstore *st, const char *what);
/* The class of a system call's errno: the one place the store turns
 * one into the other. */
enum mstore_err store_errno_class(int e);
/* The mailbox row for a name, created if the folder exists on disk. */
int	store_mbox_row(struct mstore *st, const char *name, int64_t *id_r,
	    uint32_t *uidvalidity_r);
/* Next mod-sequence of a mailbox (inside a transaction). */
int	store_next_modseq(struct mstore *st, int64_t id, uint64_t *modseq_r);
/* ":2,<flag letters><keyword letters>" name of a message file in cur/
 * (letters: "" or NULL for none). */
int	store_file_name(const char *base, unsigned int flags,
	    const char *letters, char *out, size_t size);
/* Flags from a file name's ":2,<letters>" (0 if none). */
unsigned int store_name_flags(const char *name);
/* Keyword letters of a file name's info as bits (bit i: 'a' + i). */
uint32_t store_name_kwbits(const char *name);
/* Bits -> sorted letters ("ac"); out has room for STORE_KW_MAX + 1. */
void	store_kw_bits_letters(uint32_t bits, char *out);
uint32_t store_kw_letters_bits(const char *letters);

/* keywords.c: dovecot-keywords (inside the store's write transaction). */
/* The letters of a space-separated keyword list; keywords without one
 * get the next free index (appended to the file).  A file that cannot
 * be read or written leaves keywords without letters: never a failure. */
void	store_kw_letters(struct mbox *mb, const char *keywords,
	    char letters[STORE_KW_MAX + 1]);
/* The keywords a name's letters stand for (unknown letters ignored),
 * then those of old that have no letter at all (kept in the index
 * only); malloc'd. */
char	*store_kw_names(struct mbox *mb, uint32_t bits, const char *old);
void	store_kw_free(struct mbox *mb);

/* Insert the row of a file now in cur/, with the next UID; letters are
 * the keyword letters in its name; sum its summary (NULL: made later,
 * by msglist.c, when first asked for). */
int	store_add_row(struct mbox *mb, const char *base, unsigned int flags,
	    const char *keywords, const char *letters, int64_t size,
	    int64_t vsize, int64_t idate, const struct summary *sum,
	    uint32_t *uid_r);
/* The same with the UID and mod-sequence given: a sync adding many
 * rows takes UIDs from UIDNEXT itself and gives them one mod-sequence
 * (store_set_uidnext() after the last). */
int	store_add_row_as(struct mbox *mb, uint32_t uid, uint64_t modseq,
	    const char *base, unsigned int flags, const char *keywords,
	    const char *letters, int64_t size, int64_t vsize, int64_t idate,
	    const struct summary *sum);
int	store_set_uidnext(struct mbox *mb, uint32_t uidnext);
/* Open the file of a row (its base, flags and keyword letters), found
 * by its name or, renamed by another program, by its base; -1 with
 * errno (ENOENT: gone). */
int	store_msg_open_file(struct mbox *mb, const char *base,
	    unsigned int flags, const char *letters);

/* msglist.c */
/* Store the summary of a row (mailbox, uid); its sent date, when the
 * header had none, is the row's INTERNALDATE.  0 or -1. */
int	store_summary_put(struct mbox *mb, uint32_t uid,
	    const struct summary *sum);
/* The same for a row just inserted: msg (its rowid), uid, vsize and
 * INTERNALDATE as given (store_add_row_as()).  0 or -1. */
int	store_summary_put_new(struct mbox *mb, int64_t msg, uint32_t uid,
	    int64_t vsize, int64_t idate, const struct summary *sum);
/* Give every row of the mailbox without a summary one (read from its
 * file, outside the lock); raw: every summary without the keys unfolded
 * those (MSK_RAW, filled on first use).  0 or -1. */
int	store_summary_fill(struct mbox *mb, int raw);
/* Count the mailbox's rows and their summaries.  0 or -1. */
int	store_summary_count(struct mbox *mb, int64_t *msgs, int64_t *sums);
/* The summary of a row's file (an empty one if the file is gone).  0 or
 * -1. */
int	store_summary_read_file(struct mbox *mb, const char *base,
	    unsigned int flags, const char *letters, struct summary *sum);
/* The stored summary of a message into *sum: 1, 0 none stored (or no
 * such message), -1 error. */
int	store_summary_get(struct mbox *mb, uint32_t uid, struct summary *sum);
/* Record an expunged UID for VANISHED (RFC 7162 §3.2.10). */
int	store_forget(struct mbox *mb, uint32_t uid, uint64_t modseq);
/*
 * Our own changes to cur/ (under the transaction): the mtime before, and
 * after the change, so a scan that was up to date stays so and the next
 * mbox_sync() need not read the directory again.
 */
int64_t	store_cur_mtime(struct mbox *mb);
void	store_cur_changed(struct mbox *mb, int64_t before);
/* Octets with CRLF line ends of a file (counts bare LFs); -1 on error. */
int64_t	store_count_vsize(int fd, int64_t size);
/* The same from offset off on, bare LFs before it and the octet before
 * it (prev) given: for a caller that read the beginning already. */
int64_t	store_count_vsize_from(int fd, int64_t size, off_t off, int64_t bare,
	    char prev);
/* The bare LFs of p[0..n); *prev is the octet before p ('\0' at the
 * start), then p's last. */
int64_t	store_count_bare_lf(const char *p, size_t n, char *prev);

/*
 * Schema a later version added (ext.c, quota.c, metadata.c): made when
 * the index has no object of that type ("table", "trigger") and name,
 * then fill run (NULL: none), in one transaction; every statement
 * idempotent, as another process may have been first.  0 or -1, *err.
 */
int	store_schema_add(struct mstore *st, const char *type,
	    const char *name, const char *schema, const char *fill,
	    const char **err);

/* ext.c: what IMAP extensions keep beside messages and folders */
/* Its tables, made (and filled for the messages already there) when
 * missing; 0 or -1 with *err. */
int	store_ext_open(struct mstore *st, const char **err);
/* quota.c: the usage row and its triggers, made when missing.  0 or -1. */
int	store_quota_open(struct mstore *st, const char **err);
/* quota.c: many msg rows about to be added in this transaction: the
 * triggers are off until store_quota_bulk_end() adds their sums (to be
 * called whatever happened in between).  0 or -1. */
void	store_quota_bulk_begin(struct mstore *st);
int	store_quota_bulk_end(struct mstore *st, int64_t octets,
	    int64_t messages);
/* metadata.c: the annotations' table, made when missing.  0 or -1. */
int	store_metadata_open(struct mstore *st, const char **err);
/* acl.c: the ACLs' table, made when missing.  0 or -1. */
int	store_acl_open(struct mstore *st, const char **err);
void	store_ext_close(struct mstore *st);
/* A row just added (store_add_row()), msg its rowid: saved now, a
 * new EMAILID. */
int	store_ext_added(struct mbox *mb, int64_t msg, uint32_t uid);
/* A copy (dst, nuid) of (src, uid): the same EMAILID and PREVIEW. */
int	store_ext_copied(struct mbox *src, uint32_t uid, struct mbox *dst,
	    uint32_t nuid);
/* The special uses CREATE gave a folder (MFA_*), or 0. */
unsigned int store_ext_uses(struct mstore *st, const char *name);

#endif
