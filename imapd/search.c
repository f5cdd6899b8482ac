/*
 * SEARCH keys (RFC 3501 §6.4.4, MODSEQ of RFC 7162 §3.1.5, OLDER and
 * YOUNGER of RFC 5032, "$" of RFC 5182, the SAVED* keys of RFC 8514,
 * EMAILID and THREADID of RFC 8474): parsed
 * once into a small tree, then matched against each message.
 *
 * The tree: AND (a parenthesised list, or the whole command), OR, NOT,
 * and leaves.  A leaf may carry "neg" (UNSEEN is SEEN negated, OLD is
 * RECENT negated).  Each node knows whether it, or a key below it, needs
 * the message text; AND and OR try the cheap keys first, so a search
 * such as "UNSEEN BODY x" reads only the unseen messages.
 *
 * Strings match as substrings under the session's comparator (RFC 5255
 * §4.2; i;unicode-casemap, RFC 5051, unless COMPARATOR chose
 * i;ascii-casemap or i;octet): the needle is folded once when parsed,
 * each text when first read (comparator_fold(); the webmail's search
 * folds as i;unicode-casemap does).  HEADER's field name and KEYWORD
 * are not strings of the message and compare as before.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../global/mime.h"
#include "../lib/casemap.h"
#include "../maildir/maildir.h"
#include "imapd.h"

#define SEARCH_MAX_DEPTH	32	/* NOT, OR and lists, nested */
#define SEARCH_MAX_KEYS		1000	/* keys in one command */
#define DAY			86400

enum sk_type {
	SK_AND, SK_OR, SK_NOT,
	SK_ALL, SK_FLAG, SK_RECENT, SK_NEW, SK_KEYWORD,
	SK_LARGER, SK_SMALLER, SK_MODSEQ, SK_SEQ, SK_UID,
	SK_BEFORE, SK_ON, SK_SINCE,			/* INTERNALDATE */
	SK_SENTBEFORE, SK_SENTON, SK_SENTSINCE,		/* Date: */
	SK_HEADER, SK_ADDRESS, SK_BODY, SK_TEXT,
	/* issue 14 */
	SK_SAVED, SK_OLDER, SK_YOUNGER,			/* RFC 5182, 5032 */
	SK_SAVEDBEFORE, SK_SAVEDON, SK_SAVEDSINCE,	/* RFC 8514 */
	SK_SAVEDATESUPPORTED, SK_EMAILID, SK_THREADID,	/* RFC 8514, 8474 */
};

/* What follows the key's name. */
enum sk_arg {
	A_NONE, A_STRING, A_HEADER, A_DATE, A_NUMBER, A_KEYWORD, A_SET,
	A_MODSEQ, A_KEY, A_KEY2, A_INTERVAL, A_OBJECTID,
};

struct search_key {
	enum sk_type	 type;
	int		 neg;		/* leaf: invert the result */
	int		 text;		/* needs the message text */
	unsigned int	 flag;		/* SK_FLAG: MF_* */
	uint64_t	 num;		/* LARGER, SMALLER, MODSEQ */
	int64_t		 day;		/* dates: days since 1970 */
	int64_t		 when;		/* OLDER, YOUNGER: now - interval */
	char		*name;		/* HEADER field; KEYWORD */
	char		*str;		/* folded string (comparator_fold) */
	int		 cmp;		/* the root's: enum comparator */
	struct seqset	 set;		/* SEQ, UID */
	struct search_key *kids;	/* AND, OR, NOT */
	struct search_key *next;	/* sibling */
};

static const struct sk_def {
	const char	*name;
	enum sk_type	 type;
	enum sk_arg	 arg;
	unsigned int	 flag;		/* SK_FLAG */
	int		 neg;
	const char	*header;	/* BCC, CC, FROM, SUBJECT, TO */
} sk_defs[] = {
	{ "ALL",	SK_ALL,		A_NONE },
	{ "ANSWERED",	SK_FLAG,	A_NONE,	MF_ANSWERED },
	{ "BCC",	SK_ADDRESS,	A_STRING, 0, 0, "Bcc" },
	{ "BEFORE",	SK_BEFORE,	A_DATE },
	{ "BODY",	SK_BODY,	A_STRING },
	{ "CC",		SK_ADDRESS,	A_STRING, 0, 0, "Cc" },
	{ "DELETED",	SK_FLAG,	A_NONE,	MF_DELETED },
	{ "DRAFT",	SK_FLAG,	A_NONE,	MF_DRAFT },
	{ "EMAILID",	SK_EMAILID,	A_OBJECTID },
	{ "FLAGGED",	SK_FLAG,	A_NONE,	MF_FLAGGED },
	{ "FROM",	SK_ADDRESS,	A_STRING, 0, 0, "From" },
	{ "HEADER",	SK_HEADER,	A_HEADER },
	{ "KEYWORD",	SK_KEYWORD,	A_KEYWORD },
	{ "LARGER",	SK_LARGER,	A_NUMBER },
	{ "MODSEQ",	SK_MODSEQ,	A_MODSEQ },
	{ "NEW",	SK_NEW,		A_NONE },
	{ "NOT",	SK_NOT,		A_KEY },
	{ "OLD",	SK_RECENT,	A_NONE,	0, 1 },
	{ "OLDER",	SK_OLDER,	A_INTERVAL },
	{ "ON",		SK_ON,		A_DATE },
	{ "OR",		SK_OR,		A_KEY2 },
	{ "RECENT",	SK_RECENT,	A_NONE },
	{ "SAVEDATESUPPORTED", SK_SAVEDATESUPPORTED, A_NONE },
	{ "SAVEDBEFORE", SK_SAVEDBEFORE, A_DATE },
	{ "SAVEDON",	SK_SAVEDON,	A_DATE },
	{ "SAVEDSINCE",	SK_SAVEDSINCE,	A_DATE },
	{ "SEEN",	SK_FLAG,	A_NONE,	MF_SEEN },
	{ "SENTBEFORE",	SK_SENTBEFORE,	A_DATE },
	{ "SENTON",	SK_SENTON,	A_DATE },
	{ "SENTSINCE",	SK_SENTSINCE,	A_DATE },
	{ "SINCE",	SK_SINCE,	A_DATE },
	{ "SMALLER",	SK_SMALLER,	A_NUMBER },
	{ "SUBJECT",	SK_HEADER,	A_STRING, 0, 0, "Subject" },
	{ "TEXT",	SK_TEXT,	A_STRING },
	{ "THREADID",	SK_THREADID,	A_OBJECTID },
	{ "TO",		SK_ADDRESS,	A_STRING, 0, 0, "To" },
	{ "UID",	SK_UID,		A_SET },
	{ "UNANSWERED",	SK_FLAG,	A_NONE,	MF_ANSWERED, 1 },
	{ "UNDELETED",	SK_FLAG,	A_NONE,	MF_DELETED, 1 },
	{ "UNDRAFT",	SK_FLAG,	A_NONE,	MF_DRAFT, 1 },
	{ "UNFLAGGED",	SK_FLAG,	A_NONE,	MF_FLAGGED, 1 },
	{ "UNKEYWORD",	SK_KEYWORD,	A_KEYWORD, 0, 1 },
	{ "UNSEEN",	SK_FLAG,	A_NONE,	MF_SEEN, 1 },
	{ "YOUNGER",	SK_YOUNGER,	A_INTERVAL },
};

struct sk_parser {
	uint32_t	 max_seq, max_uid;
	size_t		 nkeys;
	const char	*why;
	enum comparator	 cmp;
};

/* The text of a "why", valid until the next search_parse(). */
static char sk_why[96];

static struct search_key *sk_parse_key(struct sk_parser *,
	    const struct imap_arg *, size_t, size_t *, int);

static void __attribute__((format(printf, 2, 3)))
sk_error(struct sk_parser *p, const char *fmt, ...)
{
	va_list ap;
	char *c;

	/* The text goes back to the client in a BAD: printable only. */
	va_start(ap, fmt);
	vsnprintf(sk_why, sizeof(sk_why), fmt, ap);
	va_end(ap);
	for (c = sk_why; *c != '\0'; c++)
		if (!isprint((unsigned char)*c))
			*c = '?';
	p->why = sk_why;
}

void
search_free(struct search_key **kp)
{
	struct search_key *k, *kid;

	if ((k = *kp) == NULL)
		return;
	while ((kid = k->kids) != NULL) {
		k->kids = kid->next;
		search_free(&kid);
	}
	free(k->name);
	free(k->str);
	seqset_free(&k->set);
	free(k);
	*kp = NULL;
}

static struct search_key *
sk_new(enum sk_type type)
{
	struct search_key *k;

	k = util_calloc(1, sizeof(*k));
	k->type = type;
	return k;
}

/* Append kid to k's children; the text flag goes up the tree. */
static void
sk_add(struct search_key *k, struct search_key *kid)
{
	struct search_key **pp;

	for (pp = &k->kids; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = kid;
	k->text |= kid->text;
}

/* The next argument as an astring, or NULL with an error. */
static const char *
sk_arg_string(struct sk_parser *p, const struct imap_arg *args, size_t n,
    size_t *i, const char *key)
{
	const char *s;

	if (*i >= n) {
		sk_error(p, "Missing argument for %s", key);
		return NULL;
	}
	if (!imap_arg_is_string(&args[*i]) ||
	    (s = imap_arg_astring(&args[*i])) == NULL) {
		sk_error(p, "Invalid argument for %s", key);
		return NULL;
	}
	(*i)++;
	return s;
}

static int
sk_arg_number(struct sk_parser *p, const struct imap_arg *args, size_t n,
    size_t *i, const char *key, uint64_t *num)
{
	if (*i >= n) {
		sk_error(p, "Missing argument for %s", key);
		return -1;
	}
	/* number64 (RFC 9051), and mod-sequence-valzer (RFC 7162 §7) */
	if (imap_arg_number(&args[*i], INT64_MAX, num) == -1) {
		sk_error(p, "Invalid number for %s", key);
		return -1;
	}
	(*i)++;
	return 0;
}

/*
 * MODSEQ [entry-name entry-type-req] mod-sequence-valzer (RFC 7162
 * §3.1.5): the entry (per-flag mod-sequences) is accepted and ignored,
 * as this server keeps one mod-sequence per message.
 */
static int
sk_arg_modseq(struct sk_parser *p, const struct imap_arg *args, size_t n,
    size_t *i, uint64_t *num)
{
	uint64_t dummy;

	if (*i + 1 < n && imap_arg_number(&args[*i], INT64_MAX, &dummy) == -1) {
		if (sk_arg_string(p, args, n, i, "MODSEQ") == NULL)
			return -1;
		if (!imap_arg_atom_is(&args[*i], "priv") &&
		    !imap_arg_atom_is(&args[*i], "shared") &&
		    !imap_arg_atom_is(&args[*i], "all")) {
			sk_error(p, "Invalid entry type for %s", "MODSEQ");
			return -1;
		}
		(*i)++;
	}
	return sk_arg_number(p, args, n, i, "MODSEQ", num);
}

/* The arguments of one key, by what the table says follows it. */
static int
sk_parse_args(struct sk_parser *p, const struct sk_def *d,
    struct search_key *k, const struct imap_arg *args, size_t n, size_t *i,
    int depth)
{
	struct search_key *kid;
	const char *s;
	int64_t t;
	int j;

	switch (d->arg) {
	case A_NONE:
		return 0;
	case A_HEADER:
		if ((s = sk_arg_string(p, args, n, i, d->name)) == NULL)
			return -1;
		k->name = util_strdup(s);
		/* FALLTHROUGH */
	case A_STRING:
		if ((s = sk_arg_string(p, args, n, i, d->name)) == NULL)
			return -1;
		if (d->header != NULL)
			k->name = util_strdup(d->header);
		k->str = comparator_fold(p->cmp, s);
		return 0;
	case A_KEYWORD:
		if ((s = sk_arg_string(p, args, n, i, d->name)) == NULL)
			return -1;
		k->name = util_strdup(s);
		return 0;
	case A_DATE:
		if ((s = sk_arg_string(p, args, n, i, d->name)) == NULL)
			return -1;
		if ((t = imap_parse_date(s)) == -1) {
			sk_error(p, "Invalid date for %s", d->name);
			return -1;
		}
		k->day = t / DAY;	/* midnight UTC: exact */
		return 0;
	case A_NUMBER:
		return sk_arg_number(p, args, n, i, d->name, &k->num);
	case A_MODSEQ:
		return sk_arg_modseq(p, args, n, i, &k->num);
	case A_INTERVAL:	/* RFC 5032 §3: nz-number of seconds */
		if (sk_arg_number(p, args, n, i, d->name, &k->num) == -1)
			return -1;
		if (k->num == 0) {
			sk_error(p, "Invalid interval for %s", d->name);
			return -1;
		}
		k->when = (int64_t)time(NULL) - (int64_t)k->num;
		return 0;
	case A_OBJECTID:	/* RFC 8474 §7: objectid */
		if ((s = sk_arg_string(p, args, n, i, d->name)) == NULL)
			return -1;
		if (strlen(s) == 0 || strlen(s) > 255 || strspn(s,
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789_-") != strlen(s)) {
			sk_error(p, "Invalid object id for %s", d->name);
			return -1;
		}
		k->name = util_strdup(s);
		return 0;
	case A_SET:
		if ((s = sk_arg_string(p, args, n, i, d->name)) == NULL)
			return -1;
		if (strcmp(s, "$") == 0) {	/* UID $ (RFC 5182 §2.2) */
			k->type = SK_SAVED;
			return 0;
		}
		if (seqset_parse(s, p->max_uid, &k->set) == -1) {
			sk_error(p, "Invalid UID set for %s", d->name);
			return -1;
		}
		return 0;
	case A_KEY:
	case A_KEY2:
		if (depth + 1 > SEARCH_MAX_DEPTH) {
			sk_error(p, "Search keys nested too deeply");
			return -1;
		}
		for (j = 0; j < (d->arg == A_KEY2 ? 2 : 1); j++) {
			if (*i >= n) {
				sk_error(p, "Missing argument for %s",
				    d->name);
				return -1;
			}
			kid = sk_parse_key(p, args, n, i, depth + 1);
			if (kid == NULL)
				return -1;
			sk_add(k, kid);
		}
		return 0;
	}
	return -1;
}

/* AND of every key in args[0..n), at the given nesting depth. */
static struct search_key *
sk_parse_list(struct sk_parser *p, const struct imap_arg *args, size_t n,
    int depth)
{
	struct search_key *k, *kid;
	size_t i = 0;

	if (n == 0) {
		sk_error(p, "Missing search key");
		return NULL;
	}
	k = sk_new(SK_AND);
	while (i < n) {
		if ((kid = sk_parse_key(p, args, n, &i, depth)) == NULL) {
			search_free(&k);
			return NULL;
		}
		sk_add(k, kid);
	}
	return k;
}

static int
sk_is_seqset(const char *s)
{
	return isdigit((unsigned char)s[0]) || s[0] == '*' || s[0] == '$';
}

static const struct sk_def *
sk_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(sk_defs) / sizeof(sk_defs[0]); i++)
		if (strcasecmp(sk_defs[i].name, name) == 0)
			return &sk_defs[i];
	return NULL;
}

/* One key at args[*i], with its arguments; *i moves past them. */
static struct search_key *
sk_parse_key(struct sk_parser *p, const struct imap_arg *args, size_t n,
    size_t *i, int depth)
{
	const struct imap_arg *a = &args[(*i)++];
	const struct sk_def *d;
	struct search_key *k;

	if (++p->nkeys > SEARCH_MAX_KEYS) {
		sk_error(p, "Too many search keys");
		return NULL;
	}
	if (a->type == IMAP_ARG_LIST) {
		if (depth + 1 > SEARCH_MAX_DEPTH) {
			sk_error(p, "Search keys nested too deeply");
			return NULL;
		}
		return sk_parse_list(p, a->list, a->nlist, depth + 1);
	}
	if (a->type != IMAP_ARG_ATOM) {
		sk_error(p, "Invalid search key");
		return NULL;
	}
	if (strcmp(a->str, "$") == 0)	/* RFC 5182 §2.2 */
		return sk_new(SK_SAVED);
	if (sk_is_seqset(a->str)) {
		k = sk_new(SK_SEQ);
		if (seqset_parse(a->str, p->max_seq, &k->set) == -1) {
			search_free(&k);
			sk_error(p, "Invalid sequence set %.40s", a->str);
			return NULL;
		}
		return k;
	}
	if ((d = sk_find(a->str)) == NULL) {
		sk_error(p, "Unknown search key %.40s", a->str);
		return NULL;
	}
	k = sk_new(d->type);
	k->flag = d->flag;
	k->neg = d->neg;
	if (sk_parse_args(p, d, k, args, n, i, depth) == -1) {
		search_free(&k);
		return NULL;
	}
	switch (k->type) {
	case SK_SENTBEFORE: case SK_SENTON: case SK_SENTSINCE:
	case SK_HEADER: case SK_ADDRESS: case SK_BODY: case SK_TEXT:
		k->text = 1;
		break;
	default:
		break;
	}
	return k;
}

struct search_key *
search_parse_cmp(const struct imap_arg *args, size_t n, uint32_t max_seq,
    uint32_t max_uid, int cmp, const char **why)
{
	struct sk_parser p = { max_seq, max_uid, 0, NULL, cmp };
	struct search_key *k;

	if ((unsigned int)cmp >= CMP_COUNT)
		p.cmp = CMP_DEFAULT;
	if ((k = sk_parse_list(&p, args, n, 0)) == NULL)
		*why = p.why;
	else
		k->cmp = p.cmp;
	return k;
}

struct search_key *
search_parse(const struct imap_arg *args, size_t n, uint32_t max_seq,
    uint32_t max_uid, const char **why)
{
	return search_parse_cmp(args, n, max_seq, max_uid, CMP_DEFAULT, why);
}

int
search_comparator(const struct search_key *k)
{
	return k->cmp;
}

void
search_seqs_to_uids(struct search_key *k, uint32_t nseq,
    uint32_t (*uid_of)(uint32_t seq, void *arg), void *arg)
{
	struct search_key *kid;
	size_t i, n = 0;

	if (k->type == SK_SEQ) {
		/* uid_of() grows with seq: the ranges stay in order. */
		for (i = 0; i < k->set.n; i++) {
			if (k->set.r[i].lo > nseq)
				break;
			if (k->set.r[i].hi > nseq)
				k->set.r[i].hi = nseq;
			k->set.r[n].lo = uid_of(k->set.r[i].lo, arg);
			k->set.r[n++].hi = uid_of(k->set.r[i].hi, arg);
		}
		k->set.n = n;
		k->type = SK_UID;
	}
	for (kid = k->kids; kid != NULL; kid = kid->next)
		search_seqs_to_uids(kid, nseq, uid_of, arg);
}

int
search_needs_text(const struct search_key *k)
{
	return k->text;
}

int
search_uses_saved(const struct search_key *k)
{
	const struct search_key *kid;

	if (k->type == SK_SAVED)
		return 1;
	for (kid = k->kids; kid != NULL; kid = kid->next)
		if (search_uses_saved(kid))
			return 1;
	return 0;
}

int
search_uses_modseq(const struct search_key *k)
{
	const struct search_key *kid;

	if (k->type == SK_MODSEQ)
		return 1;
	for (kid = k->kids; kid != NULL; kid = kid->next)
		if (search_uses_modseq(kid))
			return 1;
	return 0;
}

/* ---- Matching ---- */

/* What one search_match() call has loaded so far (freed at its end). */
struct sk_ctx {
	const struct search_msg *m;
	struct mime_msg	*msg;		/* owned by the caller */
	int		 failed;	/* load() gave nothing */
	enum comparator	 cmp;		/* the command's */
	char		*headers;	/* folded (comparator_fold) */
	char		*body;
	int		 sent_done;
	int		 has_sent;	/* a usable Date: */
	int64_t		 sent_day;
};

static int sk_match(const struct search_key *, struct sk_ctx *);

static struct mime_msg *
sk_load(struct sk_ctx *c)
{
	if (c->msg == NULL && !c->failed) {
		if (c->m->load != NULL)
			c->msg = c->m->load(c->m->load_arg);
		c->failed = c->msg == NULL;
	}
	return c->msg;
}

/* A malloc'd text from global/mime.h folded; NULL stays NULL. */
static char *
sk_fold_owned(const struct sk_ctx *c, char *s)
{
	char *f;

	if (s == NULL)
		return NULL;
	f = comparator_fold(c->cmp, s);
	free(s);
	return f;
}

/* Floor division, so that times before 1970 land on the right day. */
static int64_t
sk_day(int64_t t)
{
	return t >= 0 ? t / DAY : -((-t + DAY - 1) / DAY);
}

/*
 * The zone of a Date: value in seconds east of UTC: "+0200", and the
 * obsolete names of RFC 5322 §4.3; anything else counts as UTC.
 * A trailing comment, as in "+0200 (CEST)", is skipped.
 */
static int64_t
sk_zone(const char *date)
{
	static const struct { const char *name; int hours; } zones[] = {
		{ "UT", 0 }, { "GMT", 0 }, { "Z", 0 },
		{ "EST", -5 }, { "EDT", -4 }, { "CST", -6 }, { "CDT", -5 },
		{ "MST", -7 }, { "MDT", -6 }, { "PST", -8 }, { "PDT", -7 },
	};
	const char *end, *tok;
	size_t i, len;
	int depth;

	end = date + strlen(date);
	for (;;) {
		while (end > date && isspace((unsigned char)end[-1]))
			end--;
		if (end == date || end[-1] != ')')
			break;
		for (depth = 0; end > date; end--) {
			if (end[-1] == ')')
				depth++;
			else if (end[-1] == '(' && --depth == 0) {
				end--;
				break;
			}
		}
	}
	for (tok = end; tok > date && !isspace((unsigned char)tok[-1]); tok--)
		;
	len = end - tok;
	if (len == 5 && (tok[0] == '+' || tok[0] == '-') &&
	    strspn(tok + 1, "0123456789") >= 4)
		return (tok[0] == '-' ? -1 : 1) *
		    (((tok[1] - '0') * 10 + tok[2] - '0') * 3600 +
		    ((tok[3] - '0') * 10 + tok[4] - '0') * 60);
	for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
		if (strlen(zones[i].name) == len &&
		    strncasecmp(zones[i].name, tok, len) == 0)
			return zones[i].hours * 3600;
	return 0;
}

/*
 * The day of the Date: header in the header's own zone (RFC 3501
 * §6.4.4: "disregarding time and timezone"): 1 and *day, 0 when there
 * is no usable Date:, -1 when the message cannot be read.
 */
static int
sk_sent_day(struct sk_ctx *c, int64_t *day)
{
	struct mime_msg *msg;
	int64_t t;
	char *hdr;

	if (!c->sent_done) {
		if ((msg = sk_load(c)) == NULL)
			return -1;
		c->sent_done = 1;
		if ((t = mime_msg_date(msg)) != -1) {
			hdr = mime_msg_header_text(msg, "Date");
			if (hdr != NULL)
				t += sk_zone(hdr);
			c->sent_day = sk_day(t);
			c->has_sent = 1;
			free(hdr);
		}
	}
	*day = c->sent_day;
	return c->has_sent;
}

/* Is there a field called name in the header?  For HEADER name "". */
static int
sk_header_exists(struct mime_msg *msg, const char *name)
{
	const char *p, *end, *eol, *q;
	size_t len, nlen = strlen(name);

	if (nlen == 0)
		return 0;
	p = mime_msg_data(msg, &len);
	for (end = p + len; p < end; p = eol + 1) {
		if ((eol = memchr(p, '\n', end - p)) == NULL)
			eol = end;
		if (eol == p || (eol == p + 1 && *p == '\r'))
			break;			/* the blank line */
		if ((size_t)(eol - p) <= nlen ||
		    strncasecmp(p, name, nlen) != 0)
			continue;
		/* RFC 5322 §4.5.3 (obsolete): blanks before the colon */
		for (q = p + nlen; q < eol && (*q == ' ' || *q == '\t'); q++)
			;
		if (q < eol && *q == ':')
			return 1;
	}
	return 0;
}

/*
 * HEADER, SUBJECT: a substring of the field's text.  FROM, TO, CC, BCC
 * also look in its addresses as ENVELOPE parses them, since clients
 * search for "local@domain" or a display name, whatever comments and
 * blanks the field holds (RFC 5322 §3.4).
 */
static int
sk_match_header(const struct search_key *k, struct sk_ctx *c)
{
	struct mime_msg *msg;
	char *v;
	int r;

	if ((msg = sk_load(c)) == NULL)
		return -1;
	if (k->str[0] == '\0')			/* RFC 3501 §6.4.4 */
		return sk_header_exists(msg, k->name);
	if ((v = sk_fold_owned(c, k->type == SK_ADDRESS ?
	    mime_msg_address_text(msg, k->name) :
	    mime_msg_header_text(msg, k->name))) == NULL)
		return -1;
	r = strstr(v, k->str) != NULL;
	free(v);
	return r;
}

/* BODY and TEXT: the folded texts are kept for the other keys. */
static int
sk_match_text(const struct search_key *k, struct sk_ctx *c)
{
	struct mime_msg *msg;

	if ((msg = sk_load(c)) == NULL)
		return -1;
	if (k->type == SK_TEXT) {
		if (c->headers == NULL &&
		    (c->headers = sk_fold_owned(c, mime_msg_headers_text(msg)))
		    == NULL)
			return -1;
		if (strstr(c->headers, k->str) != NULL)
			return 1;
	}
	if (c->body == NULL &&
	    (c->body = sk_fold_owned(c, mime_msg_body_text(msg))) == NULL)
		return -1;
	return strstr(c->body, k->str) != NULL;
}

static int
sk_match_keyword(const char *keywords, const char *kw)
{
	size_t len = strlen(kw), n;
	const char *p;

	if (keywords == NULL || len == 0)
		return 0;
	for (p = keywords; *p != '\0'; p += n) {
		p += strspn(p, " ");
		n = strcspn(p, " ");
		if (n == len && strncasecmp(p, kw, len) == 0)
			return 1;
	}
	return 0;
}

static int
sk_match_date(enum sk_type type, int64_t day, int64_t key_day)
{
	switch (type) {
	case SK_BEFORE:
	case SK_SENTBEFORE:
		return day < key_day;
	case SK_ON:
	case SK_SENTON:
		return day == key_day;
	default:
		return day >= key_day;
	}
}

/*
 * Do all the children give want?  Cheap ones are asked first; the first
 * that does not ends it (0), a read error gives -1.  AND wants 1 of
 * each; NOT wants 0 of its one child, and so does OR, as a OR b is
 * NOT (NOT a AND NOT b).
 */
static int
sk_match_kids(const struct search_key *k, struct sk_ctx *c, int want)
{
	const struct search_key *kid;
	int pass, r;

	for (pass = 0; pass < 2; pass++) {
		for (kid = k->kids; kid != NULL; kid = kid->next) {
			if (kid->text != pass)
				continue;
			if ((r = sk_match(kid, c)) == -1)
				return -1;
			if (r != want)
				return 0;
		}
	}
	return 1;
}

/* Does message c->m match key k?  1, 0, or -1 when it cannot be read. */
static int
sk_match(const struct search_key *k, struct sk_ctx *c)
{
	const struct search_msg *m = c->m;
	const struct mmsg_ext *ext;
	int64_t day;
	int r;

	switch (k->type) {
	case SK_AND:
		return sk_match_kids(k, c, 1);
	case SK_OR:
		r = sk_match_kids(k, c, 0);
		return r == -1 ? -1 : !r;
	case SK_NOT:
		return sk_match_kids(k, c, 0);
	case SK_ALL:
		r = 1;
		break;
	case SK_FLAG:
		r = (m->flags & k->flag) != 0;
		break;
	case SK_RECENT:
		r = m->recent != 0;
		break;
	case SK_NEW:
		r = m->recent && (m->flags & MF_SEEN) == 0;
		break;
	case SK_KEYWORD:
		r = sk_match_keyword(m->keywords, k->name);
		break;
	case SK_LARGER:
		r = m->vsize > (int64_t)k->num;
		break;
	case SK_SMALLER:
		r = m->vsize < (int64_t)k->num;
		break;
	case SK_MODSEQ:
		r = m->modseq >= k->num;
		break;
	case SK_SEQ:
		r = seqset_contains(&k->set, m->seq);
		break;
	case SK_UID:
		r = seqset_contains(&k->set, m->uid);
		break;
	case SK_BEFORE:
	case SK_ON:
	case SK_SINCE:
		r = sk_match_date(k->type, sk_day(m->internaldate), k->day);
		break;
	case SK_SENTBEFORE:
	case SK_SENTON:
	case SK_SENTSINCE:
		if ((r = sk_sent_day(c, &day)) == -1)
			return -1;
		r = r && sk_match_date(k->type, day, k->day);
		break;
	case SK_SAVED:
		r = m->saved != 0;
		break;
	case SK_OLDER:
		r = m->internaldate <= k->when;
		break;
	case SK_YOUNGER:
		r = m->internaldate > k->when;
		break;
	case SK_SAVEDATESUPPORTED:	/* every folder has save dates */
		r = 1;
		break;
	case SK_THREADID:		/* THREADID is NIL here */
		r = 0;
		break;
	case SK_SAVEDBEFORE:
	case SK_SAVEDON:
	case SK_SAVEDSINCE:
	case SK_EMAILID:
		if ((ext = m->ext != NULL ? m->ext(m->load_arg) : NULL) == NULL)
			return -1;
		if (k->type == SK_EMAILID)
			r = strcmp(ext->emailid, k->name) == 0;
		else
			r = sk_match_date(k->type == SK_SAVEDBEFORE ?
			    SK_BEFORE : k->type == SK_SAVEDON ? SK_ON :
			    SK_SINCE, sk_day(ext->savedate), k->day);
		break;
	case SK_HEADER:
	case SK_ADDRESS:
		if ((r = sk_match_header(k, c)) == -1)
			return -1;
		break;
	case SK_BODY:
	case SK_TEXT:
		if ((r = sk_match_text(k, c)) == -1)
			return -1;
		break;
	default:
		return -1;
	}
	return k->neg ? !r : r;
}

int
search_match(const struct search_key *k, const struct search_msg *m)
{
	struct sk_ctx c;
	int r;

	memset(&c, 0, sizeof(c));
	c.m = m;
	c.cmp = k->cmp;
	r = sk_match(k, &c);
	free(c.headers);
	free(c.body);
	return r;
}
