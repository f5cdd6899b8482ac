/*
 * parse.c: the IMAP4rev1 command parser (RFC 3501 §9), with LITERAL+
 * (RFC 7888) and literal8 (RFC 3516).  Pure: no I/O.  The session feeds
 * one line at a time (CRLF stripped) and, when a line ends in a literal
 * announcement, that literal's octets, then the next line.
 *
 * Everything a command holds in memory (its lines and in-memory
 * literals) is counted against max_command; a literal is allocated only
 * once its octets are handed over, so an announced size costs nothing.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/log.h"
#include "imapd.h"

#define IMAP_COMMAND_MAX	32	/* longest command name */
#define IMAP_LITERAL_MAX	UINT32_MAX	/* larger {n}: BAD */
#define IMAP_QUOTE_MAX		100	/* longer output: a literal */

enum parser_state {
	PS_TAG,		/* expecting the first line of a command */
	PS_ARGS,	/* inside the arguments */
	PS_LITERAL,	/* waiting for the announced literal */
	PS_DONE,
	PS_BAD,
};

/* One level of arguments: the top level or an open list. */
struct arg_level {
	struct imap_arg	*v;
	size_t		 n, cap;
};

struct imap_parser {
	size_t			 max_command;
	size_t			 used;	/* octets held so far */
	enum parser_state	 state;
	char			 tag[IMAP_TAG_MAX + 1];
	char			 command[IMAP_COMMAND_MAX + 1];
	struct arg_level	 level[IMAP_MAX_DEPTH + 1];
	size_t			 depth;	/* open lists */
	size_t			 nargs, nliterals;
	int			 need_sep;	/* after an argument */
	size_t			 lit_len;	/* announced literal */
	int			 lit_binary;
	const char		*error;	/* set by imap_parser_literal */
};

/* The line being parsed. */
struct cursor {
	const char	*s;
	size_t		 len, pos;
};

static void	args_free(struct imap_arg *v, size_t n);

/* ---- character classes (RFC 3501 §9) ---- */

/* ATOM-CHAR: any CHAR except atom-specials. */
static int
is_atom_char(unsigned char c)
{
	if (c <= 0x20 || c >= 0x7f)
		return 0;
	return strchr("(){%*\"\\]", c) == NULL;
}

/* ASTRING-CHAR = ATOM-CHAR / resp-specials; a tag also excludes '+'. */
static int
is_tag_char(unsigned char c)
{
	return c != '+' && (is_atom_char(c) || c == ']');
}

/*
 * What we accept in an atom argument, more than ATOM-CHAR: ']' (astring),
 * '*' and '%' (list-mailbox, sequence-set) and '\' to begin a flag.
 * '[' is an ATOM-CHAR too; only in FETCH may it open a section, which
 * the caller handles (see opens_section()).
 */
static int
is_arg_atom_char(unsigned char c, int first)
{
	if (c == '\\')
		return first;
	return is_atom_char(c) || c == ']' || c == '*' || c == '%';
}

/* ---- building the argument tree ---- */

size_t
imap_parser_room(const struct imap_parser *p)
{
	return p->used < p->max_command ? p->max_command - p->used : 0;
}

struct imap_parser *
imap_parser_new(size_t max_command)
{
	struct imap_parser *p;

	p = util_calloc(1, sizeof(*p));
	p->max_command = max_command;
	return p;
}

void
imap_parser_free(struct imap_parser **p)
{
	if (*p == NULL)
		return;
	imap_parser_reset(*p);
	free(*p);
	*p = NULL;
}

static void
args_free(struct imap_arg *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].str);
		if (v[i].type == IMAP_ARG_LIST)
			args_free(v[i].list, v[i].nlist);
	}
	free(v);
}

void
imap_parser_reset(struct imap_parser *p)
{
	/* Open lists are linked from their parent's last element. */
	args_free(p->level[0].v, p->level[0].n);
	memset(p->level, 0, sizeof(p->level));
	p->depth = p->nargs = p->nliterals = 0;
	p->used = 0;
	p->state = PS_TAG;
	p->tag[0] = p->command[0] = '\0';
	p->need_sep = 0;
	p->lit_len = 0;
	p->lit_binary = 0;
	p->error = NULL;
}

/*
 * Append an argument at the current level; it takes str.  The parent
 * list's element always points at this level's array, so the tree is
 * whole at any time (and imap_parser_reset() can free it).
 */
static int
arg_append(struct imap_parser *p, const struct imap_arg *a, const char **why)
{
	struct arg_level *l = &p->level[p->depth];
	struct imap_arg *v;
	size_t ncap;

	if (p->nargs >= IMAP_MAX_ARGS) {
		*why = "Too many arguments";
		return -1;
	}
	if (l->n == l->cap) {
		ncap = l->cap == 0 ? 8 : l->cap * 2;
		if ((v = reallocarray(l->v, ncap, sizeof(*v))) == NULL)
			fatal("reallocarray");
		l->v = v;
		l->cap = ncap;
	}
	l->v[l->n++] = *a;
	p->nargs++;
	if (p->depth > 0) {
		v = &p->level[p->depth - 1].v[p->level[p->depth - 1].n - 1];
		v->list = l->v;
		v->nlist = l->n;
	}
	return 0;
}

/* A copy of len octets, NUL-terminated. */
static char *
copy_octets(const char *s, size_t len)
{
	char *d;

	if ((d = malloc(len + 1)) == NULL)
		fatal("malloc");
	if (len > 0)
		memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

static int
arg_append_str(struct imap_parser *p, enum imap_arg_type type, char *str,
    size_t len, const char **why)
{
	struct imap_arg a;

	memset(&a, 0, sizeof(a));
	a.type = type;
	a.str = str;
	a.len = len;
	if (arg_append(p, &a, why) == -1) {
		free(str);
		return -1;
	}
	return 0;
}

/* ---- tokens ---- */

/* tag SP: RFC 3501 §9 "tag = 1*<any ASTRING-CHAR except "+">". */
static int
parse_tag(struct imap_parser *p, struct cursor *c, const char **why)
{
	size_t start = c->pos, n;

	while (c->pos < c->len && is_tag_char(c->s[c->pos]))
		c->pos++;
	n = c->pos - start;
	if (n == 0 || (c->pos < c->len && c->s[c->pos] != ' ')) {
		*why = c->len == 0 ? "Empty command" : "Invalid tag";
		return -1;
	}
	if (n > IMAP_TAG_MAX) {
		*why = "Tag too long";
		return -1;
	}
	memcpy(p->tag, c->s + start, n);
	p->tag[n] = '\0';
	if (c->pos == c->len) {
		*why = "Missing command";
		return -1;
	}
	c->pos++;
	return 0;
}

/* The command name: an atom, kept upper-cased. */
static int
parse_command(struct imap_parser *p, struct cursor *c, const char **why)
{
	size_t start = c->pos, n, i;

	while (c->pos < c->len && is_atom_char(c->s[c->pos]))
		c->pos++;
	n = c->pos - start;
	if (n == 0 || (c->pos < c->len && c->s[c->pos] != ' ')) {
		*why = n == 0 ? "Missing command" : "Invalid command name";
		return -1;
	}
	if (n > IMAP_COMMAND_MAX) {
		*why = "Unknown command";
		return -1;
	}
	for (i = 0; i < n; i++)
		p->command[i] = toupper((unsigned char)c->s[start + i]);
	p->command[n] = '\0';
	return 0;
}

/*
 * Find the end of a quoted string whose opening '"' is at c->pos; return
 * the position of the closing '"'.  RFC 3501 §9 quoted: only \" and \\
 * escapes; no CR, LF or NUL.  8-bit octets are accepted as RFC 6855
 * (UTF8=ACCEPT) clients send them.
 */
static int
quoted_end(const struct cursor *c, size_t *end, const char **why)
{
	size_t i;
	unsigned char ch;

	for (i = c->pos + 1; i < c->len; i++) {
		ch = c->s[i];
		if (ch == '"') {
			*end = i;
			return 0;
		}
		if (ch == '\0' || ch == '\r' || ch == '\n') {
			*why = "Invalid character in quoted string";
			return -1;
		}
		if (ch == '\\') {
			if (i + 1 == c->len)
				break;
			if (c->s[i + 1] != '"' && c->s[i + 1] != '\\') {
				*why = "Invalid escape in quoted string";
				return -1;
			}
			i++;
		}
	}
	*why = "Unterminated quoted string";
	return -1;
}

static int
parse_quoted(struct imap_parser *p, struct cursor *c, const char **why)
{
	size_t end, i, n = 0;
	char *d;

	if (quoted_end(c, &end, why) == -1)
		return -1;
	if ((d = malloc(end - c->pos)) == NULL)
		fatal("malloc");
	for (i = c->pos + 1; i < end; i++) {
		if (c->s[i] == '\\')
			i++;
		d[n++] = c->s[i];
	}
	d[n] = '\0';
	c->pos = end + 1;
	return arg_append_str(p, IMAP_ARG_STRING, d, n, why);
}

/*
 * Skip a '[' ... ']' section inside an atom, as in
 * BODY[HEADER.FIELDS (From "X-A")]: spaces, parentheses and quoted
 * strings belong to it (RFC 3501 §6.4.5 fetch-att section).
 */
static int
skip_section(struct cursor *c, const char **why)
{
	size_t nest = 0, end;
	unsigned char ch;

	for (; c->pos < c->len; c->pos++) {
		ch = c->s[c->pos];
		if (ch == '[')
			nest++;
		else if (ch == ']') {
			if (--nest == 0) {
				c->pos++;
				return 0;
			}
		} else if (ch == '"') {
			if (quoted_end(c, &end, why) == -1)
				return -1;
			c->pos = end;
		} else if (ch < 0x20 || ch >= 0x7f) {
			*why = "Invalid character in section";
			return -1;
		}
	}
	*why = "Unterminated section [";
	return -1;
}

/* Is this FETCH or UID FETCH?  Or a command that takes fetch-atts
 * since RFC 5465 §8: NOTIFY (MessageNew's), SEARCH and SORT (RETURN
 * (UPDATE (...)), §7); no SEARCH key is an atom with a '['. */
static int
in_fetch(const struct imap_parser *p)
{
	if (strcmp(p->command, "FETCH") == 0 ||
	    strcmp(p->command, "NOTIFY") == 0 ||
	    strcmp(p->command, "SEARCH") == 0 ||
	    strcmp(p->command, "SORT") == 0)
		return 1;
	return strcmp(p->command, "UID") == 0 && p->level[0].n > 0 &&
	    (imap_arg_atom_is(&p->level[0].v[0], "FETCH") ||
	    imap_arg_atom_is(&p->level[0].v[0], "SEARCH") ||
	    imap_arg_atom_is(&p->level[0].v[0], "SORT"));
}

/*
 * Does the '[' at c->pos, after the atom begun at start, open a section?
 * Only after a fetch-att that takes one (RFC 3501 §6.4.5 BODY[ and
 * BODY.PEEK[, RFC 3516 BINARY[, BINARY.PEEK[ and BINARY.SIZE[) in a
 * FETCH.  Elsewhere '[' is an ATOM-CHAR like any other (RFC 3501 §9),
 * as in the mailbox names "[Gmail]/Trash" or "a[b".
 */
static int
opens_section(const struct imap_parser *p, const struct cursor *c,
    size_t start)
{
	static const char *const atts[] = {
		"BODY", "BODY.PEEK", "BINARY", "BINARY.PEEK", "BINARY.SIZE",
	};
	size_t i, n = c->pos - start;

	if (!in_fetch(p))
		return 0;
	for (i = 0; i < sizeof(atts) / sizeof(atts[0]); i++)
		if (strlen(atts[i]) == n &&
		    strncasecmp(c->s + start, atts[i], n) == 0)
			return 1;
	return 0;
}

/* An atom, lenient as described at is_arg_atom_char(). */
static int
parse_atom(struct imap_parser *p, struct cursor *c, const char **why)
{
	size_t start = c->pos;

	while (c->pos < c->len) {
		if (c->s[c->pos] == '[' && opens_section(p, c, start)) {
			if (skip_section(c, why) == -1)
				return -1;
		} else if (is_arg_atom_char(c->s[c->pos], c->pos == start))
			c->pos++;
		else
			break;
	}
	if (c->pos == start || (c->pos < c->len && c->s[c->pos] != ' ' &&
	    c->s[c->pos] != ')')) {
		*why = "Invalid characters in atom";
		return -1;
	}
	return arg_append_str(p, IMAP_ARG_ATOM,
	    copy_octets(c->s + start, c->pos - start), c->pos - start, why);
}

/*
 * A literal announcement ending the line: "{" number ["+"] "}" (RFC 3501
 * §9 literal, RFC 7888 LITERAL+) or the same after "~" (RFC 3516
 * literal8).  Nothing is allocated until the octets arrive.
 */
static int
parse_literal(struct imap_parser *p, struct cursor *c, int *sync,
    const char **why)
{
	uint64_t n = 0;
	size_t digits = 0;

	p->lit_binary = c->s[c->pos] == '~';
	c->pos += p->lit_binary ? 2 : 1;
	for (; c->pos < c->len && isdigit((unsigned char)c->s[c->pos]);
	    c->pos++, digits++) {
		n = n * 10 + (c->s[c->pos] - '0');
		if (n > IMAP_LITERAL_MAX) {
			*why = "Literal too big";
			return -1;
		}
	}
	*sync = 1;
	if (c->pos < c->len && c->s[c->pos] == '+') {
		*sync = 0;
		c->pos++;
	}
	if (digits == 0 || c->pos + 1 != c->len || c->s[c->pos] != '}') {
		*why = "Invalid literal";
		return -1;
	}
	/* Refuse now rather than after the client sent the octets. */
	if (p->nargs >= IMAP_MAX_ARGS) {
		*why = "Too many arguments";
		return -1;
	}
	if (p->nliterals >= IMAP_MAX_LITERALS) {
		*why = "Too many literals";
		return -1;
	}
	p->lit_len = n;
	c->pos = c->len;
	return 0;
}

static int
list_open(struct imap_parser *p, const char **why)
{
	struct imap_arg a;

	if (p->depth == IMAP_MAX_DEPTH) {
		*why = "Too deeply nested lists";
		return -1;
	}
	memset(&a, 0, sizeof(a));
	a.type = IMAP_ARG_LIST;
	if (arg_append(p, &a, why) == -1)
		return -1;
	p->depth++;
	memset(&p->level[p->depth], 0, sizeof(p->level[p->depth]));
	return 0;
}

/*
 * The arguments on (the rest of) a line.  RFC 3501 §9 wants exactly one
 * SP between arguments; like most servers we accept more, but an
 * argument must not follow another one directly: "a"b, (a)(b).
 */
static enum imap_parse_status
parse_args(struct imap_parser *p, struct cursor *c, size_t *literal_len,
    int *literal_sync, const char **why)
{
	int r;
	char ch;

	while (c->pos < c->len) {
		ch = c->s[c->pos];
		if (ch == ' ') {
			c->pos++;
			p->need_sep = 0;
			continue;
		}
		if (ch == ')') {
			if (p->depth == 0) {
				*why = "Unexpected )";
				return IMAP_PARSE_BAD;
			}
			p->depth--;
			p->need_sep = 1;
			c->pos++;
			continue;
		}
		if (ch == '\0') {
			*why = "NUL in command";	/* only literals may */
			return IMAP_PARSE_BAD;
		}
		if (p->need_sep) {
			*why = "Missing space between arguments";
			return IMAP_PARSE_BAD;
		}
		if (ch == '(') {
			c->pos++;
			r = list_open(p, why);
		} else if (ch == '"') {
			r = parse_quoted(p, c, why);
			p->need_sep = 1;
		} else if (ch == '{' || (ch == '~' && c->pos + 1 < c->len &&
		    c->s[c->pos + 1] == '{')) {
			if (parse_literal(p, c, literal_sync, why) == -1)
				return IMAP_PARSE_BAD;
			*literal_len = p->lit_len;
			p->state = PS_LITERAL;
			return IMAP_PARSE_LITERAL;
		} else {
			r = parse_atom(p, c, why);
			p->need_sep = 1;
		}
		if (r == -1)
			return IMAP_PARSE_BAD;
	}
	if (p->depth > 0) {
		*why = "Missing )";
		return IMAP_PARSE_BAD;
	}
	p->state = PS_DONE;
	return IMAP_PARSE_DONE;
}

/* The first line starts with tag SP command. */
static int
parse_first(struct imap_parser *p, struct cursor *c, const char **why)
{
	if (parse_tag(p, c, why) == -1 || parse_command(p, c, why) == -1)
		return -1;
	p->need_sep = 1;
	p->state = PS_ARGS;
	return 0;
}

enum imap_parse_status
imap_parser_line(struct imap_parser *p, const char *line, size_t len,
    size_t *literal_len, int *literal_sync, const char **why)
{
	struct cursor c = { line, len, 0 };
	enum imap_parse_status st;

	*literal_len = 0;
	*literal_sync = 0;
	*why = NULL;
	if (p->state == PS_DONE || p->state == PS_BAD)
		imap_parser_reset(p);
	if (p->error != NULL) {
		*why = p->error;
		goto bad;
	}
	if (p->state == PS_LITERAL) {
		*why = "Literal expected";
		goto bad;
	}
	/* Parse the tag first so that even a BAD reply can carry it. */
	if (p->state == PS_TAG && parse_first(p, &c, why) == -1)
		goto bad;
	if (len > p->max_command - p->used) {
		*why = "Command too long";
		goto bad;
	}
	p->used += len;
	if ((st = parse_args(p, &c, literal_len, literal_sync, why)) ==
	    IMAP_PARSE_BAD)
		goto bad;
	return st;
 bad:
	p->state = PS_BAD;
	return IMAP_PARSE_BAD;
}

/* Check that a literal may be taken now; else remember why not. */
static int
literal_check(struct imap_parser *p, size_t len)
{
	if (p->state != PS_LITERAL)
		p->error = "Unexpected literal";
	else if (len != p->lit_len)
		p->error = "Literal size mismatch";
	if (p->error != NULL) {
		p->state = PS_ARGS;	/* the next line reports it */
		return -1;
	}
	p->state = PS_ARGS;
	p->need_sep = 1;
	p->nliterals++;
	return 0;
}

void
imap_parser_literal(struct imap_parser *p, const char *data, size_t len)
{
	const char *why;
	int binary = p->lit_binary;

	if (literal_check(p, len) == -1)
		return;
	if (len > p->max_command - p->used) {
		p->error = "Command too long";
		return;
	}
	p->used += len;
	if (arg_append_str(p, IMAP_ARG_LITERAL, copy_octets(data, len), len,
	    &why) == -1) {
		p->error = why;
		return;
	}
	p->level[p->depth].v[p->level[p->depth].n - 1].binary = binary;
}

void
imap_parser_literal_file(struct imap_parser *p, const char *path, size_t len)
{
	const char *why;
	int binary = p->lit_binary;

	if (literal_check(p, len) == -1)
		return;
	if (arg_append_str(p, IMAP_ARG_LITERAL_FILE, util_strdup(path), len,
	    &why) == -1) {
		p->error = why;
		return;
	}
	p->level[p->depth].v[p->level[p->depth].n - 1].binary = binary;
}

const char *
imap_parser_tag(const struct imap_parser *p)
{
	return p->tag[0] == '\0' ? NULL : p->tag;
}

const char *
imap_parser_command(const struct imap_parser *p)
{
	return p->command[0] == '\0' ? NULL : p->command;
}

const struct imap_arg *
imap_parser_args(const struct imap_parser *p, size_t *n)
{
	*n = p->level[0].n;
	return p->level[0].v;
}

/* ---- helpers over parsed arguments ---- */

int
imap_arg_is_string(const struct imap_arg *a)
{
	return a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_STRING ||
	    a->type == IMAP_ARG_LITERAL;
}

int
imap_arg_is_nil(const struct imap_arg *a)
{
	return imap_arg_atom_is(a, "NIL");
}

int
imap_arg_atom_is(const struct imap_arg *a, const char *word)
{
	return a->type == IMAP_ARG_ATOM && strcasecmp(a->str, word) == 0;
}

/*
 * RFC 3501 §9 astring.  An atom that took in a section with spaces or
 * parentheses is not one; nor is a string holding a NUL, which would
 * be cut short as a C string.
 */
const char *
imap_arg_astring(const struct imap_arg *a)
{
	if (a->type == IMAP_ARG_ATOM) {
		if (strpbrk(a->str, " ()\"") != NULL)
			return NULL;
		return a->str;
	}
	if (a->type != IMAP_ARG_STRING && a->type != IMAP_ARG_LITERAL)
		return NULL;
	if (memchr(a->str, '\0', a->len) != NULL)
		return NULL;
	return a->str;
}

int
imap_arg_number(const struct imap_arg *a, uint64_t max, uint64_t *n)
{
	uint64_t v = 0;
	size_t i;
	unsigned int d;

	if (a->type != IMAP_ARG_ATOM || a->len == 0)
		return -1;
	for (i = 0; i < a->len; i++) {
		if (!isdigit((unsigned char)a->str[i]))
			return -1;
		d = a->str[i] - '0';
		if (d > max || v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*n = v;
	return 0;
}

/* ---- output ---- */

/*
 * Can s go out as a quoted string?  RFC 3501 §9 QUOTED-CHAR is 7-bit
 * TEXT-CHAR: 8-bit text goes as a literal, which every client reads.
 * Control characters other than TAB also go as a literal.
 */
static int
quotable(const char *s, size_t len)
{
	size_t i;
	unsigned char c;

	if (len >= IMAP_QUOTE_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		c = s[i];
		if ((c < 0x20 && c != '\t') || c >= 0x7f)
			return 0;
	}
	return 1;
}

/* A quoted string, escaping quoted-specials (RFC 3501 §9). */
static void
put_quoted(struct buf *b, const char *s, size_t len)
{
	char q[2 * IMAP_QUOTE_MAX + 2];
	size_t i, n = 0;

	q[n++] = '"';
	for (i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			q[n++] = '\\';
		q[n++] = s[i];
	}
	q[n++] = '"';
	buf_append(b, q, n);
}

/* A literal (RFC 3501 §4.3); all or nothing when b is nearly full. */
static void
put_literal(struct buf *b, const char *s, size_t len)
{
	char hdr[32];
	size_t n;

	n = (size_t)snprintf(hdr, sizeof(hdr), "{%zu}\r\n", len);
	if (len > b->max - b->len || n > b->max - b->len - len)
		return;
	buf_append(b, hdr, n);
	buf_append(b, s, len);
}

void
imap_put_string(struct buf *b, const char *s, size_t len)
{
	if (s == NULL)
		buf_puts(b, "NIL");
	else if (quotable(s, len))
		put_quoted(b, s, len);
	else
		put_literal(b, s, len);
}

void
imap_put_nstring(struct buf *b, const char *s)
{
	if (s == NULL)
		buf_puts(b, "NIL");
	else
		imap_put_string(b, s, strlen(s));
}

void
imap_put_astring(struct buf *b, const char *s)
{
	const char *q;

	for (q = s; *q != '\0' && is_atom_char(*q); q++)
		;
	if (*s != '\0' && *q == '\0' && strcasecmp(s, "NIL") != 0)
		buf_puts(b, s);
	else
		imap_put_string(b, s, strlen(s));
}

/* ---- dates (RFC 3501 §9 date, date-time), all in UTC arithmetic ---- */

static const char *const months[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yoe + era * 400 + (*m <= 2);
}

static int
days_in_month(int64_t y, int m)
{
	static const int mdays[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
	};

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return mdays[m - 1];
}

/* Exactly n digits at *s, advancing it. */
static int
get_digits(const char **s, int n, int *v)
{
	*v = 0;
	for (; n > 0; n--, (*s)++) {
		if (!isdigit((unsigned char)**s))
			return -1;
		*v = *v * 10 + (**s - '0');
	}
	return 0;
}

/*
 * date-day "-" date-month "-" date-year, day as 1 or 2 digits or, in a
 * date-time, SP DIGIT (date-day-fixed).  Advances *s past it.
 */
static int64_t
parse_day_month_year(const char **s)
{
	int day, month, year;

	if (**s == ' ')
		(*s)++;
	if (get_digits(s, 1, &day) == -1)
		return -1;
	if (isdigit((unsigned char)**s))
		day = day * 10 + (*(*s)++ - '0');
	if (*(*s)++ != '-')
		return -1;
	for (month = 0; month < 12; month++)
		if (strncasecmp(*s, months[month], 3) == 0)
			break;
	if (month == 12)
		return -1;
	*s += 3;
	if (*(*s)++ != '-' || get_digits(s, 4, &year) == -1)
		return -1;
	if (day < 1 || day > days_in_month(year, month + 1))
		return -1;
	return days_from_civil(year, month + 1, day);
}

int64_t
imap_parse_date(const char *s)
{
	int64_t days;

	if (*s == ' ' || (days = parse_day_month_year(&s)) == -1 || *s != '\0')
		return -1;
	return days * 86400;
}

/* "dd-Mon-yyyy hh:mm:ss +zzzz" (RFC 3501 §9 date-time). */
int64_t
imap_parse_datetime(const char *s)
{
	int64_t days;
	int hh, mm, ss, zh, zm, sign;

	if ((days = parse_day_month_year(&s)) == -1 || *s++ != ' ')
		return -1;
	if (get_digits(&s, 2, &hh) == -1 || *s++ != ':' ||
	    get_digits(&s, 2, &mm) == -1 || *s++ != ':' ||
	    get_digits(&s, 2, &ss) == -1 || *s++ != ' ')
		return -1;
	if (*s != '+' && *s != '-')
		return -1;
	sign = *s++ == '-' ? -1 : 1;
	if (get_digits(&s, 2, &zh) == -1 || get_digits(&s, 2, &zm) == -1 ||
	    *s != '\0')
		return -1;
	if (hh > 23 || mm > 59 || ss > 60 || zm > 59)
		return -1;
	return days * 86400 + hh * 3600 + mm * 60 + ss -
	    sign * (zh * 3600 + zm * 60);
}

/* Years 1 to 9999 fit the four digits of date-year. */
#define DATETIME_MIN	(-62135596800LL)	/* 0001-01-01 */
#define DATETIME_MAX	253402300799LL		/* 9999-12-31 23:59:59 */

void
imap_format_datetime(int64_t t, char out[32])
{
	int64_t days, secs, y;
	int m, d;

	if (t < DATETIME_MIN)
		t = DATETIME_MIN;
	if (t > DATETIME_MAX)
		t = DATETIME_MAX;
	days = t / 86400;
	secs = t % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	snprintf(out, 32, "%02d-%s-%04d %02d:%02d:%02d +0000", d,
	    months[m - 1], (int)y, (int)(secs / 3600),
	    (int)(secs / 60 % 60), (int)(secs % 60));
}
