/*
 * What the session's files (session.c: the command loop and literals;
 * reply.c, flags.c, view.c, slots.c) and the cmd_*.c files share; not for
 * use outside imapd/.
 */
#ifndef IMAP_SESSION_H
#define IMAP_SESSION_H

#include "../global/login.h"
#include "../maildir/maildir.h"
#include "imapd.h"

enum imap_state {		/* RFC 3501 §3 */
	ST_NOTAUTH = 0x01,
	ST_AUTH = 0x02,
	ST_SELECTED = 0x04,
	ST_LOGOUT = 0x08,	/* the session ends: no more commands */
};
#define ST_ANY	(ST_NOTAUTH | ST_AUTH | ST_SELECTED)
#define ST_LOGGEDIN (ST_AUTH | ST_SELECTED)

/*
 * The selected mailbox as this session has told the client about it:
 * message sequence numbers are indexes into msgs (RFC 3501 §2.3.1.2),
 * and they change only when the session reports EXPUNGE or EXISTS.
 */
struct view_msg {		/* 8 octets: an idle session's main cost */
	uint32_t	 uid;
	uint32_t	 flags;		/* MF_* as last reported */
};

/* A change this session made and reported itself (STORE): not to be
 * reported again as news when the view catches up. */
struct own_change {
	uint32_t	 uid;
	uint64_t	 modseq;
};

struct view {
	struct view_msg	*msgs;
	size_t		 n, cap;
	/* UIDs \Recent to this session: what its claims got (the store
	 * gives each new message to one session, RFC 3501 §2.3.2), or
	 * when read-only what it saw unclaimed (RFC 3501 §6.3.2) */
	struct seq_range recent[16];
	size_t		 nrecent;
	uint64_t	 modseq;	/* changes up to here are reported */
	struct own_change *own;		/* since then, by this session */
	size_t		 nown, capown;
	uint64_t	 expunge_modseq; /* expunges up to here are reported */
	uint32_t	 uidvalidity;
	uint32_t	 uidnext;
	char		*keywords;	/* the FLAGS list last sent */
};

struct imap_session {
	struct conn	 conn;
	struct pool_ctx	*env;
	struct conf	*conf;
	char		 id[SESSION_ID_LEN + 1];
	char		 client_ip[NET_ADDRSTRLEN];
	enum imap_state	 state;
	char		 user[320];
	char		 userdir[4096];
	struct authc	*authc;		/* env's */
	struct login	 login;
	const char	*service;	/* where the client came in */
	int		 client_port;
	int		 handed_over;	/* to a post-login process */
	int		 relayed;	/* post-login: a login process relays */
	int		 handed_back;	/* post-login: UNAUTHENTICATE done */
	struct mstore	*store;
	int		 userlock;	/* fd holding one session slot */
	int		 errors;
	int		 broken;	/* the stream is unusable */
	struct imap_parser *parser;
	const char	*tag;		/* of the command running */
	const char	*cmd_name;	/* and its name, for the log */
	int		 uid_cmd;	/* a CMD_UID command runs */
	/* RFC 5161 ENABLE */
	int		 condstore;	/* also on after a CONDSTORE use */
	int		 qresync;
	int		 utf8;		/* UTF8=ACCEPT (RFC 6855, utf8.c) */
	int		 rev2;		/* IMAP4rev2 (RFC 9051, rev2.c) */
	int		 comparator;	/* RFC 5255 §4.7: enum comparator
					   (lib/casemap.h), 0 the default */
	int		 submit;	/* the submission server fetching for
					   BURL (RFC 4468): URLFETCH only */
	/* The selected mailbox. */
	struct mbox	*mb;
	int		 readonly;
	unsigned int	 rights;	/* ACL_* on it (acl.h), all if own */
	struct shares	*shares;	/* owners sharing with us */
	struct view	 view;
	/* RFC 5182 SEARCHRES: the saved result ("$"), UIDs ascending */
	uint32_t	*saved;
	size_t		 nsaved;
	/* RFC 5267 §4.3: the searches kept up to date (context.c) */
	struct search_contexts *contexts;
	/* RFC 5465 NOTIFY (notify.c): NULL when none is set */
	struct notify	*notify;
	/* APPEND's message, written to a file as it arrived. */
	struct mbox	*append_mb;
	char		 append_tmp[4096];
	enum mstore_err	 append_err;	/* writing it failed: why (the
					 * store's class; MSTORE_OK: not) */
	/* Counters for the log. */
	unsigned long	 nfetch, nappend, nexpunge;
	unsigned long	 nno, nbad;	/* NO and BAD replies given */
};

/* What a command is, beyond where it is allowed (struct imap_cmd's
 * flags). */
#define CMD_UID		0x01	/* UID FETCH and friends: numbers are UIDs
				   (sets uid_cmd) */
#define CMD_NO_EXPUNGE	0x02	/* sequence numbers must not shift: no
				   EXPUNGE after it (RFC 3501 §7.4.1) */
#define CMD_SUBCOMMAND	0x04	/* its first argument names the command,
				   a row of its own ("UID FETCH") */
#define CMD_SYNC_FIRST	0x08	/* what changed is announced before it
				   runs too: a search answers for the
				   messages the client knows of */

struct imap_cmd {
	const char	*name;
	unsigned int	 states;	/* where it is allowed: ST_* */
	unsigned int	 flags;		/* CMD_* */
	/* 0 done (replied), -1 bad (replied; counts as an error). */
	int		(*fn)(struct imap_session *s, const struct imap_arg *args,
			    size_t nargs);
};

/* session.c: the command loop */
/* Every change of state, logged (the first, to ST_NOTAUTH, is set).
 * Logout is final (RFC 3501 §3.4). */
void	imap_set_state(struct imap_session *s, enum imap_state to);

/* reply.c: replies */
void	imap_untagged(struct imap_session *s, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	imap_tagged(struct imap_session *s, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Queue the tagged reply now (before a STARTTLS handshake). */
void	imap_tagged_now(struct imap_session *s);
/* Queue it at the command's end, after its untagged updates; a NO or BAD
 * is logged and counted. */
void	imap_tagged_send(struct imap_session *s);
void	imap_reply_init(void);		/* once per session */
void	imap_reply_free(void);
void	imap_continue(struct imap_session *s, const char *text);
/* For commands without arguments: 0, or -1 after a BAD. */
int	imap_no_args(struct imap_session *s, size_t nargs);
/* The out buffer for building a reply by pieces; end with CRLF. */
struct buf *imap_out(struct imap_session *s);
void	imap_out_done(struct imap_session *s);
/*
 * A failed operation as a NO with the response code that fits (RFC
 * 5530): the one place errors of the store become IMAP.  cls is the
 * store's class (mstore_errclass()), why the text (NULL: the class's);
 * what names the operation in the log, where a failure the client
 * cannot help (MSTORE_EINTERNAL, a full disk) goes as an error.
 * Returns 0 (the command was answered).
 */
int	imap_errclass_no(struct imap_session *s, const char *what,
	    enum mstore_err cls, const char *why);
/* The same for the store's last failure. */
int	imap_store_no(struct imap_session *s, const char *what);
/* Sleep, waking early only to stop (failure delays). */
void	imap_penalty(unsigned int seconds);

/* view.c: the selected mailbox */
/*
 * Report what changed in the selected mailbox since the client last
 * heard (EXISTS, RECENT, FETCH FLAGS, and EXPUNGE/VANISHED when
 * allow_expunge: never during FETCH, STORE or SEARCH by sequence number,
 * RFC 3501 §7.4.1).  0, or -1 on a store error.
 */
int	imap_view_update(struct imap_session *s, int allow_expunge);
/* Load the view for a newly selected mailbox. */
int	imap_view_load(struct imap_session *s);
void	imap_view_free(struct view *v);
/* Record a change this session has reported itself. */
void	view_own_change(struct view *v, uint32_t uid, uint64_t modseq);
/* Is the message \Recent to this session? */
int	view_is_recent(const struct view *v, uint32_t uid);
uint32_t view_recent(const struct view *v);	/* how many */
/* The sequence number of a UID in the view (1-based), or 0. */
uint32_t view_seq(const struct view *v, uint32_t uid);
/* The view's message list for a sequence set (or UID set when uid):
 * a malloc'd array of sequence numbers, ascending.  -1 with a BAD reply
 * given on a malformed set. */
int	imap_set_resolve(struct imap_session *s, const char *set, int uid,
	    uint32_t **seqs_r, size_t *n_r);
void	imap_unselect(struct imap_session *s);
/* The selected mailbox cannot be read (gone, or a store error): say
 * BYE and end the session. */
void	imap_mailbox_lost(struct imap_session *s);
/* Send FLAGS and PERMANENTFLAGS again if keywords were added. */
void	imap_view_keywords(struct imap_session *s, const char *added);
/* "* seq FETCH (UID FLAGS MODSEQ)" as the session's state wants it:
 * UID in UID commands (and unsolicited ones under CONDSTORE), FLAGS if
 * asked, MODSEQ once CONDSTORE is on. */
#define FETCH_WITH_FLAGS	0x01
#define FETCH_UNSOLICITED	0x02	/* not the answer to a command */
void	imap_fetch_flags(struct imap_session *s, uint32_t seq, uint32_t uid,
	    unsigned int flags, const char *keywords, uint64_t modseq,
	    unsigned int how);
/* "* VANISHED (EARLIER) ..." of the UIDs expunged after since (only
 * those in only, if given; RFC 7162 §3.2.5, §3.2.6).  0 or -1. */
int	imap_vanished_earlier(struct imap_session *s, uint64_t since,
	    const struct seqset *only);
/*
 * A CONDSTORE-enabling command (RFC 7162 §3.1: FETCH with MODSEQ or
 * CHANGEDSINCE, SEARCH MODSEQ, STORE UNCHANGEDSINCE, STATUS
 * HIGHESTMODSEQ ...) turns CONDSTORE on for the rest of the session; the
 * first one while a mailbox is selected tells its HIGHESTMODSEQ.
 */
void	imap_condstore_use(struct imap_session *s);

/* flags.c */
/* "\Seen \Answered $Label" for FETCH FLAGS (with \Recent when so). */
void	imap_put_flags(struct buf *b, unsigned int flags, const char *keywords,
	    int recent);
/* Is keyword k (len octets) in the space-separated list (any case)? */
int	keyword_in(const char *list, const char *k, size_t len);
/* Keyword lists: op '+' a with b, '-' a without b, '=' b (malloc'd). */
char	*keyword_combine(const char *a, const char *b, char op);
/* Parse a flag list (or a single flag) into MF_* and keywords ("" or
 * space-separated, malloc'd).  0, or -1 with *why. */
int	imap_parse_flags(const struct imap_arg *a, unsigned int *flags,
	    char **keywords, const char **why);

/* slots.c */
/* Authenticated as user: take a session slot, open the store.  0, or
 * -1 after a NO reply. */
int	imap_login(struct imap_session *s, const char *user);

/* cmd_any.c (any state) */
int	cmd_capability(struct imap_session *, const struct imap_arg *, size_t);
int	cmd_noop(struct imap_session *, const struct imap_arg *, size_t);
int	cmd_logout(struct imap_session *, const struct imap_arg *, size_t);
int	cmd_unauthenticate(struct imap_session *, const struct imap_arg *,
	    size_t);
int	cmd_id(struct imap_session *, const struct imap_arg *, size_t);
int	cmd_starttls(struct imap_session *, const struct imap_arg *, size_t);
int	cmd_login(struct imap_session *, const struct imap_arg *, size_t);
int	cmd_authenticate(struct imap_session *, const struct imap_arg *,
	    size_t);
int	cmd_enable(struct imap_session *, const struct imap_arg *, size_t);
int	cmd_namespace(struct imap_session *, const struct imap_arg *, size_t);
int	cmd_idle(struct imap_session *, const struct imap_arg *, size_t);
void	imap_capabilities(struct imap_session *s, struct buf *b);

/* cmd_mailbox.c (authenticated state) */
int	cmd_select(struct imap_session *, const struct imap_arg *, size_t);
int	cmd_examine(struct imap_session *, const struct imap_arg *, size_t);
int	cmd_create(struct imap_session *, const struct imap_arg *, size_t);
int	cmd_delete(struct imap_session *, const struct imap_arg *, size_t);
int	cmd_rename(struct imap_session *, const struct imap_arg *, size_t);
int	cmd_subscribe(struct imap_session *, const struct imap_arg *, size_t);
int	cmd_unsubscribe(struct imap_session *, const struct imap_arg *,
	    size_t);
int	cmd_list(struct imap_session *, const struct imap_arg *, size_t);
int	cmd_lsub(struct imap_session *, const struct imap_arg *, size_t);
int	cmd_status(struct imap_session *, const struct imap_arg *, size_t);
/* One attribute of a LIST reply, after *sep (" " once one is out). */
void	imap_put_attr(struct buf *b, const char **sep, const char *attr);
/* The special-use attributes (RFC 6154) of a folder's MFA_ bits. */
void	imap_put_use_attrs(struct buf *b, const char **sep,
	    unsigned int attrs);
/* "* LIST (attributes) "/" name" of one mailbox, as LIST gives it; 0,
 * or -1 when it is not there. */
int	imap_list_one(struct imap_session *s, const char *name);
/* A mailbox name argument, validated and normalised into name[]; -1
 * after a reply when unusable. */
int	imap_mailbox_arg(struct imap_session *s, const struct imap_arg *a,
	    char *name, size_t size);

/* cmd_append.c: APPEND, MULTIAPPEND, CATENATE */
int	cmd_append(struct imap_session *, const struct imap_arg *, size_t);
/* While APPEND's literals arrive: does this one go to a file of its own
 * (else memory)?  NULL if it may be taken, else the NO to give.  And
 * remove the files of a command that was refused or is over. */
int	imap_append_to_file(struct imap_session *s);
const char *imap_append_check(struct imap_session *s, size_t len);
/* Once the target is open: would this literal, with the command's
 * before it, pass the target's quota?  NULL, or the NO [OVERQUOTA]. */
const char *imap_append_quota_check(struct imap_session *s, size_t len);
void	imap_append_unlink(struct imap_session *s);

/* cmd_message.c (selected state) */
int	cmd_check(struct imap_session *, const struct imap_arg *, size_t);
int	cmd_close(struct imap_session *, const struct imap_arg *, size_t);
int	cmd_unselect(struct imap_session *, const struct imap_arg *, size_t);
int	cmd_expunge(struct imap_session *, const struct imap_arg *, size_t);
int	cmd_search(struct imap_session *, const struct imap_arg *, size_t);
int	cmd_store(struct imap_session *, const struct imap_arg *, size_t);
int	cmd_copy(struct imap_session *, const struct imap_arg *, size_t);
int	cmd_move(struct imap_session *, const struct imap_arg *, size_t);
int	cmd_uid(struct imap_session *, const struct imap_arg *, size_t);

/* cmd_fetch.c: message uid of mb parsed (bounded as APPEND's limit
 * says), or NULL: gone (expunged: *gone set, when not NULL), or
 * unreadable. */
struct mime_msg *imap_msg_load(struct imap_session *s, struct mbox *mb,
	    uint32_t uid, int *gone);

/*
 * cmd_message.c: a row of the selected mailbox as SEARCH matches it (for
 * SEARCH, SORT's and THREAD's search, and the kept searches of
 * context.c): sm filled from m, the message's text and what the index
 * keeps beside it loaded only when a key asks (search_row_end() gives
 * them back).
 */
struct search_row {
	struct imap_session *s;
	uint32_t	 uid;
	struct mime_msg	*msg;
	struct mmsg_ext	 ext;
	int		 have_ext;
};
void	search_row_begin(struct search_row *row, struct imap_session *s,
	    const struct mmsg *m, uint32_t seq, struct search_msg *sm);
void	search_row_end(struct search_row *row);

/* The result options of RETURN (...) (RFC 4731 §3.1, ESORT's of RFC
 * 5267 §3.1, SAVE of RFC 5182, CONTEXT, UPDATE and PARTIAL of RFC 5267
 * §4 and RFC 9394), those of allowed only; "()", or CONTEXT and UPDATE
 * alone, mean ALL.  PARTIAL's range goes to *partial.  0, or -1 for
 * anything else (PARTIAL with ALL, RFC 5267 §4.4). */
#define RETURN_MIN	0x01
#define RETURN_MAX	0x02
#define RETURN_ALL	0x04
#define RETURN_COUNT	0x08
#define RETURN_SAVE	0x10
#define RETURN_PARTIAL	0x20
#define RETURN_CONTEXT	0x40
#define RETURN_UPDATE	0x80
/* A PARTIAL range as given: 1-based positions, or negative ones
 * counting from the last result (-1, RFC 9394 §3.1); never 0. */
struct return_partial {
	int64_t		 first, last;
};
int	imap_return_options(const struct imap_arg *a, unsigned int allowed,
	    unsigned int *opts, struct return_partial *partial);
/* "* ESEARCH (TAG "t")" and " UID" for a UID command (RFC 4731 §3.1,
 * ESORT's too): what the data items follow. */
void	imap_esearch_begin(struct imap_session *s, struct buf *b);

/*
 * Change the flags of messages (sequence numbers, ascending): op '+',
 * '-' or '='.  Reports FETCH for each change (only the MODSEQ when
 * silent and CONDSTORE is on, RFC 7162 §3.1.3); numbers refused by
 * unchangedsince (0: none) go to modified.  0 or -1.
 */
int	imap_store_flags(struct imap_session *s, const uint32_t *seqs,
	    size_t n, char op, unsigned int flags, const char *keywords,
	    uint64_t unchangedsince, int silent, struct buf *modified);

/* ext.c: the small extensions of issue 14 */
/* SEARCHRES (RFC 5182): the saved result, emptied by a SELECT and by a
 * failed SEARCH that would have saved. */
void	searchres_clear(struct imap_session *s);
void	searchres_save(struct imap_session *s, const uint32_t *uids,
	    size_t n);
int	searchres_has(const struct imap_session *s, uint32_t uid);
/* "$" as sequence numbers of the view (ascending), or as a UID set. */
void	searchres_seqs(struct imap_session *s, uint32_t **seqs_r,
	    size_t *n_r);
void	searchres_uidset(struct imap_session *s, struct seqset *set);
/* CREATE's (USE (...)) as MFA_*: 0; -1 after a BAD, 1 after a NO
 * [USEATTR]. */
int	imap_create_uses(struct imap_session *s, const struct imap_arg *a,
	    unsigned int *uses);
/* PREVIEW (RFC 8970): up to 256 characters of the first text part,
 * blanks squeezed; "" when there is none.  malloc'd. */
char	*imap_preview(struct mime_msg *m);

/* compress.c: COMPRESS=DEFLATE (RFC 4978) */
int	cmd_compress(struct imap_session *, const struct imap_arg *, size_t);

/* utf8.c: UTF8=ACCEPT (RFC 6855) */
/* A mailbox name as the client sent it -> the store's (modified UTF-7)
 * in place, once UTF8=ACCEPT is on.  0, or -1 after a reply. */
int	imap_utf8_mailbox_in(struct imap_session *s, char *name, size_t size);
/* A mailbox name of the store as this client reads it. */
void	imap_put_mailbox(struct imap_session *s, struct buf *b,
	    const char *name);
/* The name LIST patterns are matched against (UTF-8 once on). */
const char *imap_mailbox_for_match(struct imap_session *s, const char *name,
	    char *buf, size_t size);
/* May SEARCH name a charset?  1, or 0 after a BAD (RFC 6855 §3). */
int	imap_utf8_charset_ok(struct imap_session *s);

/* rev2.c: IMAP4rev2 (RFC 9051) beside IMAP4rev1, once ENABLEd */
/* Are mailbox names UTF-8 on the wire (UTF8=ACCEPT or IMAP4rev2)? */
int	imap_names_utf8(const struct imap_session *s);
/* A command RFC 9051 removed (CHECK, LSUB): 1 after a BAD in a rev2
 * session, else 0 (the command runs as in IMAP4rev1). */
int	rev2_removed(struct imap_session *s, const char *instead);
/* SELECT/EXAMINE's untagged data that differs: rev1's RECENT and
 * [UNSEEN], or rev2's LIST of the mailbox (§6.3.2). */
void	rev2_select_data(struct imap_session *s, const char *name);
/* May a rev2 session create this name (the store's)?  1, or 0 after a
 * NO: not Net-Unicode (§5.1). */
int	rev2_name_ok(struct imap_session *s, const char *name);

/* cmd_fetch.c */
int	cmd_fetch(struct imap_session *, const struct imap_arg *, size_t);

/* cmd_quota.c: QUOTA (RFC 9208), one root "" per user (a shared
 * folder is in its owner's) */
int	cmd_getquota(struct imap_session *, const struct imap_arg *, size_t);
int	cmd_getquotaroot(struct imap_session *, const struct imap_arg *,
	    size_t);
int	cmd_setquota(struct imap_session *, const struct imap_arg *, size_t);
/* Would adding these octets (RFC822.SIZE) and messages to st (the
 * user's store or a sharing owner's) put its owner over its quota?  1
 * (logged) or 0 (also when the limits or the usage cannot be read just
 * now). */
int	imap_quota_over(struct imap_session *s, struct mstore *st,
	    uint64_t add_octets, uint64_t add_msgs);
/* APPEND's messages into st, before they are committed: 0, or -1 after
 * a NO [OVERQUOTA]. */
int	imap_quota_append(struct imap_session *s, struct mstore *st,
	    const struct mbox_append *adds, size_t n);

/* cmd_acl.c: ACL (RFC 4314), LIST-MYRIGHTS (RFC 8440) */
int	cmd_setacl(struct imap_session *, const struct imap_arg *, size_t);
int	cmd_deleteacl(struct imap_session *, const struct imap_arg *, size_t);
int	cmd_getacl(struct imap_session *, const struct imap_arg *, size_t);
int	cmd_listrights(struct imap_session *, const struct imap_arg *,
	    size_t);
int	cmd_myrights(struct imap_session *, const struct imap_arg *, size_t);

/* cmd_metadata.c: METADATA, METADATA-SERVER (RFC 5464) */
int	cmd_getmetadata(struct imap_session *, const struct imap_arg *,
	    size_t);
int	cmd_setmetadata(struct imap_session *, const struct imap_arg *,
	    size_t);

/* urlauth.c: URLAUTH (RFC 4467), URLAUTH=BINARY (RFC 5524) */
int	cmd_genurlauth(struct imap_session *, const struct imap_arg *, size_t);
int	cmd_resetkey(struct imap_session *, const struct imap_arg *, size_t);
int	cmd_urlfetch(struct imap_session *, const struct imap_arg *, size_t);
/* CATENATE's URL when it is URLAUTH-authorized (RFC 4469 §3), checked
 * as URLFETCH checks it, written to fd; *total counts the octets
 * against APPENDLIMIT.  0; -1 BADURL; -2 too big; -3 could not write
 * (the store of s->append_mb says why). */
int	imap_urlauth_catenate(struct imap_session *s, const char *url, int fd,
	    off_t *total);

#endif
