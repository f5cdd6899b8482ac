/*
 * imapd: the IMAP4rev1 server (RFC 3501) with the extensions clients use
 * (IDLE, UIDPLUS, MOVE, NAMESPACE, ID, ENABLE, UNSELECT, CHILDREN,
 * SPECIAL-USE, LITERAL+, CONDSTORE/QRESYNC, LIST-EXTENDED, LIST-STATUS,
 * ESEARCH, SASL-IR, APPENDLIMIT, STATUS=SIZE, WITHIN, SEARCHRES,
 * CREATE-SPECIAL-USE, SAVEDATE, OBJECTID, PREVIEW, BINARY, MULTIAPPEND,
 * CATENATE, COMPRESS=DEFLATE, UTF8=ACCEPT, CONTEXT=SEARCH, CONTEXT=SORT,
 * PARTIAL, QUOTA, METADATA, NOTIFY), on port 143 (STARTTLS) and 993
 * (implicit TLS, RFC 8314),
 * over the store in maildir/.
 *
 * imapd.c	main: a login or a post-login process of maild's pools
 * parse.c	the command parser: pure (no I/O), fed line by line and
 *		literal by literal, so it can be fuzzed (fuzz/fuzz-imap.c)
 * seqset.c	sequence sets (RFC 3501 §9 sequence-set)
 * fetchitems.c	a message as FETCH sees it: ENVELOPE, BODYSTRUCTURE and
 *		BODY[section]<partial>, on global/mime.h (which also
 *		gives SEARCH its decoded text)
 * binary.c	FETCH BINARY: a part found and decoded from the file in
 *		bounded memory
 * search.c	SEARCH keys: parse and match
 * session.c	one connection: reading commands and literals, states,
 *		dispatch
 * reply.c	untagged and tagged replies, store errors as response codes
 * flags.c	flags and keywords
 * view.c	the selected mailbox as the client knows it: sequence
 *		numbers, untagged updates
 * slots.c	a logged-in session's slot (per-user limit) and store
 * ext.c	the small extensions of issue 14: SEARCHRES's saved result,
 *		CREATE's USE, PREVIEW's text
 * compress.c	COMPRESS=DEFLATE (RFC 4978), over lib/conn's deflate
 * utf8.c	UTF8=ACCEPT (RFC 6855): mailbox names in UTF-8
 * surrogate.c	the message a session without UTF8=ACCEPT is given when its
 *		header holds 8-bit octets (RFC 6855 §7; downgrade.c encodes)
 * rev2.c	IMAP4rev2 (RFC 9051) beside IMAP4rev1, once ENABLEd
 * context.c	search contexts (RFC 5267 §4): PARTIAL, and the searches
 *		RETURN (UPDATE) keeps current
 * notify*.c	NOTIFY (RFC 5465): events sent while idling and between
 *		commands (notify_int.h says which file does what)
 * argcopy.c	arguments kept past their command
 * urlauth.c	URLAUTH, URLAUTH=BINARY (RFC 4467, 5524): GENURLAUTH,
 *		RESETKEY, URLFETCH, CATENATE's and BURL's URLs
 * cmd_*.c	the commands, grouped by state
 */
#ifndef IMAPD_H
#define IMAPD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../global/conf.h"
#include "../lib/buf.h"
#include "../lib/conn.h"
#include "../lib/net.h"
#include "../lib/util.h"

struct mime_msg;
struct mmsg_ext;
struct mstore;
struct mbox;

/* ---- Limits ---- */
#define IMAP_MAX_ARGS		4096	/* arguments in one command, all
					   levels of lists together */
#define IMAP_MAX_DEPTH		16	/* nesting of parenthesised lists */
#define IMAP_MAX_LITERALS	64	/* literals in one command */
#define IMAP_TAG_MAX		64

/* ==== parse.c: the command parser ==== */

enum imap_arg_type {
	IMAP_ARG_ATOM,		/* atom, including NIL and sequence sets */
	IMAP_ARG_STRING,	/* quoted string (unescaped) */
	IMAP_ARG_LITERAL,	/* {n} literal held in memory */
	IMAP_ARG_LITERAL_FILE,	/* literal written to a file by the session
				   (APPEND); see imap_parser_literal_file() */
	IMAP_ARG_LIST,		/* ( ... ) */
};

struct imap_arg {
	enum imap_arg_type	 type;
	char			*str;	/* ATOM/STRING/LITERAL: NUL-terminated
					   (a literal may also hold NULs) */
	size_t			 len;	/* octets in str; LITERAL_FILE: size */
	struct imap_arg		*list;	/* LIST: the elements */
	size_t			 nlist;
	int			 binary; /* LITERAL: had ~{n} (RFC 3516) */
	/*
	 * ATOM only: in FETCH and UID FETCH, BODY, BODY.PEEK, BINARY,
	 * BINARY.PEEK and BINARY.SIZE may go on with a '[' ... ']' section
	 * and optional <partial>, as in BODY[HEADER.FIELDS (A B)]<0.100>:
	 * the whole text is kept in str exactly as the client sent it,
	 * lists inside the brackets included, so FETCH can parse it
	 * (fetch_att grammar).  Anywhere else '[' is an ordinary atom
	 * character (a mailbox name "a[b").
	 */
};

enum imap_parse_status {
	IMAP_PARSE_DONE,	/* a whole command: tag, name, args */
	IMAP_PARSE_LITERAL,	/* the line ended with {n} or {n+}: the
				   caller reads n octets and hands them to
				   imap_parser_literal(), then the next line
				   to imap_parser_line() */
	IMAP_PARSE_BAD,		/* syntax error: *why says what;
				   imap_parser_tag() is the tag, or NULL
				   if none could be read */
};

struct imap_parser;

/* A parser with a cap on the total octets a command may hold in memory
 * (lines and in-memory literals together). */
struct imap_parser *imap_parser_new(size_t max_command);
void	imap_parser_free(struct imap_parser **p);
/* Forget the current command and start a new one. */
void	imap_parser_reset(struct imap_parser *p);
/*
 * Feed one line (without CRLF; may contain anything, NULs included).
 * On IMAP_PARSE_LITERAL, *literal_len and *literal_sync (0 for the
 * non-synchronizing {n+} of RFC 7888, which needs no "+" continuation)
 * say what comes.
 */
enum imap_parse_status imap_parser_line(struct imap_parser *p,
	    const char *line, size_t len, size_t *literal_len,
	    int *literal_sync, const char **why);
/* Octets a command may still hold in memory (for [TOOBIG] up front). */
size_t	imap_parser_room(const struct imap_parser *p);
/* The octets of the announced literal (all of them, in one call). */
void	imap_parser_literal(struct imap_parser *p, const char *data,
	    size_t len);
/* Or: the session wrote the literal to a file itself (APPEND); the arg
 * becomes IMAP_ARG_LITERAL_FILE with str = the path. */
void	imap_parser_literal_file(struct imap_parser *p, const char *path,
	    size_t len);
/* What is known so far (valid until reset): tag and command name (NULL
 * if not parsed yet), and the top-level arguments parsed so far. */
const char *imap_parser_tag(const struct imap_parser *p);
const char *imap_parser_command(const struct imap_parser *p);
const struct imap_arg *imap_parser_args(const struct imap_parser *p,
	    size_t *n);

/* Helpers over parsed arguments. */
int	imap_arg_is_string(const struct imap_arg *a); /* atom|string|literal */
int	imap_arg_is_nil(const struct imap_arg *a);
int	imap_arg_atom_is(const struct imap_arg *a, const char *word);
/* The IMAP "astring" value (atom, quoted or literal), or NULL. */
const char *imap_arg_astring(const struct imap_arg *a);
/* A number (RFC 3501 number / nz-number); 0 or -1. */
int	imap_arg_number(const struct imap_arg *a, uint64_t max, uint64_t *n);

/*
 * Output: an IMAP string for any octets: a quoted string when it is
 * short and safe, else a literal (RFC 3501 §4.3), NIL for NULL.
 */
void	imap_put_string(struct buf *b, const char *s, size_t len);
void	imap_put_nstring(struct buf *b, const char *s);	/* NULL: NIL */
/* A mailbox name (astring, quoted when needed). */
void	imap_put_astring(struct buf *b, const char *s);

/* downgrade.c: any octet >= 0x80 in s?  s as RFC 2047 encoded-words;
 * an nstring with 8-bit octets as encoded-words. */
int	imap_8bit(const char *s);
void	imap_encoded_words(struct buf *b, const char *s);
#define IMAP_EW_MIN	28	/* room for a word of a few characters */
void	imap_encoded_words_fit(struct buf *b, const char *s, size_t first);
void	imap_put_nstring_7bit(struct buf *b, const char *s);

/* surrogate.c: any octet >= 0x80 in h[0..len)?  The message a session
 * without UTF8=ACCEPT is given for m, whose header holds 8-bit octets:
 * its header downgraded (RFC 6855 §7, RFC 6857), its body as it is;
 * NULL if memory runs out. */
struct mime_msg;
int	imap_header_8bit(const char *h, size_t len);
struct mime_msg *imap_surrogate(struct mime_msg *m);

/* ==== seqset.c: sequence sets ==== */

struct seq_range {
	uint32_t	lo, hi;		/* lo <= hi; '*' is resolved */
};

struct seqset {
	struct seq_range *r;		/* sorted, merged */
	size_t		  n;
};

/*
 * Parse "1:3,5,7:*" ("$", the saved search result of RFC 5182, is
 * refused: its callers take it first).  star is what '*' means (the highest message
 * number or UID; 0 when the mailbox is empty, which makes "*" match
 * nothing for UIDs per RFC 3501 §6.4.8 but still parse).  0 or -1.
 */
int	seqset_parse(const char *s, uint32_t star, struct seqset *set);
void	seqset_free(struct seqset *set);
int	seqset_contains(const struct seqset *set, uint32_t n);
/* Format ascending numbers as a compact set ("1:3,7"); into b. */
void	seqset_format(struct buf *b, const uint32_t *nums, size_t n);

/* ==== fetchitems.c: what FETCH makes of a message ==== */

/* FETCH items of a message (global/mime.h) as IMAP text (RFC 3501
 * §7.4.2), malloc'd: ENVELOPE, BODYSTRUCTURE (extensible) and BODY
 * (non-extensible). */
char	*imap_fetch_envelope(struct mime_msg *m);
char	*imap_fetch_bodystructure(struct mime_msg *m, int extensible);
/* The same with dg set for a session without UTF8=ACCEPT: 8-bit strings
 * as encoded-words (RFC 6855 §7, downgrade.c). */
char	*imap_fetch_envelope_dg(struct mime_msg *m, int dg);
char	*imap_fetch_bodystructure_dg(struct mime_msg *m, int extensible,
	    int dg);
/* The same (extensible) for one part: RFC 5524's BODYPARTSTRUCTURE. */
struct mime_part;
char	*imap_fetch_part_structure(struct mime_part *p);
/*
 * BODY[section]: section is the text between the brackets ("",
 * "HEADER", "1.2.MIME", "HEADER.FIELDS (From To)",
 * "1.TEXT", "HEADER.FIELDS.NOT (X)" ...), parsed case-insensitively.
 * On success *data and *len point into the message or into *owned (which
 * the caller frees; NULL when nothing was allocated).  A part that does
 * not exist gives an empty result, as RFC 3501 says.  0, or -1 when the
 * section text is malformed.
 */
int	imap_fetch_section(struct mime_msg *m, const char *section,
	    const char **data, size_t *len, char **owned);

/* ==== search.c: SEARCH keys ==== */

struct search_key;

/* What SEARCH can know of one message. */
struct search_msg {
	uint32_t	 seq, uid;
	unsigned int	 flags;		/* MF_* */
	int		 recent;
	const char	*keywords;	/* space-separated */
	uint64_t	 modseq;
	int64_t		 vsize;		/* RFC822.SIZE */
	int64_t		 internaldate;
	int		 saved;		/* in the saved result "$" */
	/* Loads the message when a key needs its text (NULL: cannot). */
	struct mime_msg *(*load)(void *arg);
	/* What the index keeps beside it (save date, EMAILID); NULL:
	 * cannot. */
	const struct mmsg_ext *(*ext)(void *arg);
	void		*load_arg;	/* of both */
};

/*
 * Parse search keys (RFC 3501 §6.4.4 and CONDSTORE's MODSEQ) from args
 * (everything after an optional CHARSET, which the caller handled).
 * max_seq / max_uid resolve '*'.  NULL with *why on error.
 */
struct search_key *search_parse(const struct imap_arg *args, size_t n,
	    uint32_t max_seq, uint32_t max_uid, const char **why);
/* The same with strings compared under cmp (enum comparator,
 * lib/casemap.h: RFC 5255 §4.2) instead of i;unicode-casemap. */
struct search_key *search_parse_cmp(const struct imap_arg *args, size_t n,
	    uint32_t max_seq, uint32_t max_uid, int cmp, const char **why);
/* The comparator k was parsed with. */
int	search_comparator(const struct search_key *k);
void	search_free(struct search_key **k);
/* 1 match, 0 no match, -1 error (message could not be read). */
int	search_match(const struct search_key *k, const struct search_msg *m);
/*
 * Turn the message numbers in k into the UIDs they name now, for a
 * search kept and run again later (RFC 5267 §4.3): uid_of(seq) gives
 * a message's UID, growing with seq (later arrivals have higher UIDs,
 * so a range of numbers becomes the range of their UIDs); numbers
 * beyond nseq, the last message, name none.
 */
void	search_seqs_to_uids(struct search_key *k, uint32_t nseq,
	    uint32_t (*uid_of)(uint32_t seq, void *arg), void *arg);
/* Does the search need the message text (so the caller may prefer a
 * cheaper path when not)? And does it use MODSEQ (for the reply)? */
int	search_needs_text(const struct search_key *k);
int	search_uses_modseq(const struct search_key *k);
/* Does it use "$" (RFC 5182), which changes without the messages? */
int	search_uses_saved(const struct search_key *k);

/* ==== date-time (parse.c) ==== */

/* "dd-Mon-yyyy" (RFC 3501 date) -> midnight UTC of that day; -1. */
int64_t	imap_parse_date(const char *s);
/* "dd-Mon-yyyy hh:mm:ss +zzzz" (date-time) -> epoch seconds; -1. */
int64_t	imap_parse_datetime(const char *s);
/* Format epoch seconds as a date-time (without quotes) into out[27]. */
void	imap_format_datetime(int64_t t, char out[32]);

/* ==== the process ==== */

struct pool_ctx;
struct pool_session;

/*
 * Serve a client (fd closed after).  A login process runs the
 * not-authenticated state and hands a client that logged in to a
 * post-login process (post == NULL); a post-login process serves the
 * client it was given (post), from the LOGIN's tagged OK on.
 */
void	imap_session_run(struct pool_ctx *env, int fd, const char *service,
	    const char *client_ip, int client_port,
	    const struct pool_session *post, void *unused);

#endif
