/*
 * A message's summary from its header block: the fields a message list
 * shows and sorts by (see summary.h).  Our own scanner finds the fields
 * (RFC 5322 §2.2: a field is "name:" up to the next line that does not
 * begin with WSP) in at most SUMMARY_HEADER_MAX octets; the shared MIME
 * module (global/mime.h) decodes their values as it does for IMAP and
 * the webmail: RFC 2047 words to UTF-8, addresses (RFC 5322 §3.4, the
 * parser of ENVELOPE), dates (§3.3).  The first of a repeated field
 * counts, as for IMAP's ENVELOPE.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <glib.h>

#include "../global/mime.h"
#include "../lib/buf.h"
#include "../lib/casemap.h"
#include "../lib/util.h"
#include "summary.h"

#define SUMMARY_READ_CHUNK	8192	/* most headers fit in one read */

enum sum_field {
	H_DATE, H_FROM, H_TO, H_SUBJECT, H_MSGID, H_IRT, H_REFS, H_CTYPE,
	H_CDISP, H_CC, H_COUNT
};

static const char *const sum_names[H_COUNT] = {
	[H_DATE] = "Date", [H_FROM] = "From", [H_TO] = "To",
	[H_SUBJECT] = "Subject", [H_MSGID] = "Message-ID",
	[H_IRT] = "In-Reply-To", [H_REFS] = "References",
	[H_CTYPE] = "Content-Type", [H_CDISP] = "Content-Disposition",
	[H_CC] = "Cc",
};

/* Cut s to at most max octets, never inside a UTF-8 sequence. */
static void
sum_bound(char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	s[n] = '\0';
}

static char *
sum_trim(char *s)
{
	size_t a = 0, n = strlen(s);

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	while (a < n && (s[a] == ' ' || s[a] == '\t'))
		a++;
	memmove(s, s + a, n - a);
	s[n - a] = '\0';
	return s;
}

/*
 * A string from GLib (NULL: none) as ours: valid UTF-8 (undeclared
 * 8-bit text may not be), control characters as spaces (nothing a list
 * shows can break a line or a terminal), trimmed, at most max octets.
 */
static char *
sum_clean(char *g, size_t max)
{
	char *s = mime_from_glib(g), *p;

	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	sum_trim(s);
	sum_bound(s, max);
	return sum_trim(s);
}

/*
 * A sort key: a clean string (sum_clean()) in its i;unicode-casemap form
 * (RFC 5051), which SORT and THREAD compare as octets under I18NLEVEL=1
 * (RFC 5255 §4.1), at most max octets.  Not twice: the form of a form
 * differs where NFKD gives small letters ("ﬁ" -> "fi" -> "FI").
 */
static char *
sum_fold(const char *s, size_t max)
{
	char *f = casemap_fold(s);

	sum_bound(f, max);
	return f;
}

/* A field's text RFC 2047-decoded, as a GLib string for sum_clean(). */
static char *
sum_decoded(const char *raw)
{
	char *d = mime_decode_header(raw), *g = g_strdup(d);

	free(d);
	return g;
}

/*
 * A field's raw value unfolded (RFC 5322 §2.2.3: CRLF before WSP
 * removed), NUL made a space, at most SUMMARY_FIELD_MAX octets.
 */
static char *
sum_unfold(const char *v, size_t len)
{
	char *out = util_calloc(1, (len < SUMMARY_FIELD_MAX ? len :
	    SUMMARY_FIELD_MAX) + 1);
	size_t i, o = 0;

	for (i = 0; i < len && o < SUMMARY_FIELD_MAX; i++) {
		if (v[i] == '\r' || v[i] == '\n')
			continue;
		out[o++] = v[i] == '\0' ? ' ' : v[i];
	}
	out[o] = '\0';
	return sum_trim(out);
}

/* Where the header ends: at its empty line, or len. */
static size_t
sum_header_len(const char *p, size_t len)
{
	const char *nl, *end = p + len;

	if (len > 0 && (p[0] == '\n' || (p[0] == '\r' && len > 1 &&
	    p[1] == '\n')))
		return 0;
	for (nl = p; (nl = memchr(nl, '\n', end - nl)) != NULL; nl++)
		if (nl + 1 < end && (nl[1] == '\n' ||
		    (nl[1] == '\r' && nl + 2 < end && nl[2] == '\n')))
			return nl + 1 - p;
	return len;
}

/* Any 8-bit octet in the header of the len octets read?  -1 when what
 * was read ends within the header and is all the reader takes. */
static int
sum_hdr8(const char *p, size_t len)
{
	size_t i, hl = sum_header_len(p, len);

	for (i = 0; i < hl; i++)
		if ((unsigned char)p[i] >= 0x80)
			return 1;
	return hl == len && len >= SUMMARY_HEADER_MAX ? -1 : 0;
}

/* ---- addresses ---- */

/*
 * The beginning of an address list that is parsed: at most
 * SUMMARY_ADDRS addresses (top-level commas outside quotes, comments
 * and angle brackets) and SUMMARY_ADDR_RAW octets.  A list shows the
 * first few only: a hostile To: of thousands must not cost their parse.
 */
static char *
sum_addr_prefix(const char *raw)
{
	size_t i, n = 0, depth = 0;
	int quoted = 0, angle = 0;

	for (i = 0; raw[i] != '\0' && i < SUMMARY_ADDR_RAW; i++) {
		if (quoted) {
			if (raw[i] == '\\' && raw[i + 1] != '\0')
				i++;
			else if (raw[i] == '"')
				quoted = 0;
		} else if (raw[i] == '\\' && raw[i + 1] != '\0')
			i++;
		else if (raw[i] == '"' && depth == 0)
			quoted = 1;
		else if (raw[i] == '(')
			depth++;
		else if (raw[i] == ')' && depth > 0)
			depth--;
		else if (depth == 0 && raw[i] == '<')
			angle = 1;
		else if (depth == 0 && raw[i] == '>')
			angle = 0;
		else if (depth == 0 && !angle && raw[i] == ',' &&
		    ++n == SUMMARY_ADDRS)
			break;
	}
	return g_strndup(raw, i);
}

/* "local@domain" of a parsed mailbox, as a GLib string ("" if none). */
static char *
sum_addr_spec(const struct mime_addr *a)
{
	size_t l, d;
	char *s;

	if (a->local == NULL || a->domain == NULL)
		return g_strdup(a->local != NULL ? a->local : "");
	l = strlen(a->local);
	d = strlen(a->domain);
	s = g_malloc(l + 1 + d + 1);
	memcpy(s, a->local, l);
	s[l] = '@';
	memcpy(s + l + 1, a->domain, d + 1);
	return s;
}

/*
 * The sort keys of an address field (RFC 5256 §3, RFC 5957 §3.1): the
 * addr-mailbox of its first address as ENVELOPE gives it (a group's
 * start has the group's name there), and its display name (its first
 * mailbox's name, else its addr-spec); both in their i;unicode-casemap
 * form (sum_fold()).
 */
struct sum_key_acc {
	char	*mbox;		/* GLib strings, NULL until found */
	char	*display;
};

static void
sum_key_cb(const struct mime_addr *a, void *arg)
{
	struct sum_key_acc *acc = arg;
	const char *l;
	size_t n;

	if (acc->mbox == NULL && a->kind == MIME_ADDR_GROUP)
		acc->mbox = g_strdup(a->name_utf8 != NULL ? a->name_utf8 : "");
	if (a->kind != MIME_ADDR_MAILBOX)
		return;
	if (acc->mbox == NULL) {
		/* A quoted local part sorts by what it quotes. */
		l = a->local != NULL ? a->local : "";
		n = strlen(l);
		if (n >= 2 && l[0] == '"' && l[n - 1] == '"')
			acc->mbox = g_strndup(l + 1, n - 2);
		else
			acc->mbox = g_strdup(l);
	}
	if (acc->display == NULL)
		acc->display = a->name_utf8 != NULL && a->name_utf8[0] !=
		    '\0' ? g_strdup(a->name_utf8) : sum_addr_spec(a);
}

/* The keys from what the callbacks saw (raw: the field, NULL if none;
 * display_r NULL: not wanted), each folded and as it is (*_raw_r);
 * acc's strings are used up. */
static void
sum_keys_finish(struct sum_key_acc *acc, const char *raw, char **mbox_r,
    char **mbox_raw_r, char **display_r, char **display_raw_r)
{
	char *m, *f;

	m = sum_clean(acc->mbox, SUMMARY_ADDR_MAX);
	*mbox_r = sum_fold(m, SUMMARY_ADDR_MAX);
	*mbox_raw_r = m;
	if (display_r == NULL) {
		g_free(acc->display);
		return;
	}
	if (acc->display == NULL && acc->mbox == NULL && raw != NULL)
		acc->display = sum_decoded(raw);	/* not an address */
	else if (acc->display == NULL)
		acc->display = g_strdup(m);
	f = sum_clean(acc->display, SUMMARY_NAME_MAX);
	*display_r = sum_fold(f, SUMMARY_NAME_MAX);
	*display_raw_r = f;
}

/* Cc's, which nothing else parses. */
static void
sum_keys(const char *raw, char **mbox_r, char **mbox_raw_r)
{
	struct sum_key_acc acc = { NULL, NULL };
	char *prefix;

	if (raw != NULL) {
		prefix = sum_addr_prefix(raw);
		mime_addr_parse(prefix, sum_key_cb, &acc);
		g_free(prefix);
	}
	sum_keys_finish(&acc, raw, mbox_r, mbox_raw_r, NULL, NULL);
}

struct sum_from_acc {
	struct summary	*s;
	int		 done;
	struct sum_key_acc keys;
};

static void
sum_from_cb(const struct mime_addr *a, void *arg)
{
	struct sum_from_acc *acc = arg;

	sum_key_cb(a, &acc->keys);
	if (acc->done || a->kind != MIME_ADDR_MAILBOX)
		return;
	acc->s->from_name = sum_clean(g_strdup(a->name_utf8 != NULL ?
	    a->name_utf8 : ""), SUMMARY_NAME_MAX);
	acc->s->from_addr = sum_clean(sum_addr_spec(a), SUMMARY_ADDR_MAX);
	acc->done = 1;
}

static void
sum_from(const char *raw, struct summary *s)
{
	struct sum_from_acc acc = { s, 0, { NULL, NULL } };
	char *prefix = sum_addr_prefix(raw);

	mime_addr_parse(prefix, sum_from_cb, &acc);
	g_free(prefix);
	free(s->from_mbox);
	free(s->raw_from_mbox);
	sum_keys_finish(&acc.keys, raw, &s->from_mbox, &s->raw_from_mbox,
	    NULL, NULL);
	if (!acc.done) {
		/* Not an address: show what it says. */
		s->from_name = sum_clean(sum_decoded(raw), SUMMARY_NAME_MAX);
		s->from_addr = util_strdup("");
	}
}

/*
 * One recipient as a list shows it (text: its name, else its address;
 * freed here).  0 when it fits, -1 when the list is full: it ends in
 * ", …" then, or is the first recipient cut, and "…".
 */
static int
sum_to_one(struct buf *b, char *text)
{
	static const char more[] = ", \xe2\x80\xa6";	/* U+2026 */
	size_t room = SUMMARY_TO_MAX - (sizeof(more) - 1);
	int r = 0;

	if (text[0] == '\0')
		;
	else if (b->len == 0 && strlen(text) > room) {
		sum_bound(text, room);
		buf_puts(b, text);
		buf_puts(b, more + 2);
		r = -1;
	} else if (b->len > 0 && b->len + 2 + strlen(text) > room) {
		buf_puts(b, more);
		r = -1;
	} else {
		if (b->len > 0)
			buf_puts(b, ", ");
		buf_puts(b, text);
	}
	free(text);
	return r;
}

struct sum_to_acc {
	struct buf	*b;
	char		*group;		/* a group's name, until a member */
	int		 members, full;
	struct sum_key_acc keys;
};

/*
 * Each recipient by its name, else its address; a group by its members,
 * or, with none ("undisclosed-recipients:;"), by its name.
 */
static void
sum_to_cb(const struct mime_addr *a, void *arg)
{
	struct sum_to_acc *acc = arg;

	sum_key_cb(a, &acc->keys);
	if (acc->full)
		return;
	switch (a->kind) {
	case MIME_ADDR_GROUP:
		g_free(acc->group);
		acc->group = g_strdup(a->name_utf8 != NULL ? a->name_utf8 :
		    "");
		acc->members = 0;
		break;
	case MIME_ADDR_GROUP_END:
		if (acc->group != NULL && acc->members == 0) {
			if (sum_to_one(acc->b, sum_clean(acc->group,
			    SUMMARY_TO_MAX)) == -1)
				acc->full = 1;
		} else
			g_free(acc->group);
		acc->group = NULL;
		break;
	case MIME_ADDR_MAILBOX:
		acc->members++;
		if (sum_to_one(acc->b, sum_clean(a->name_utf8 != NULL &&
		    a->name_utf8[0] != '\0' ? g_strdup(a->name_utf8) :
		    sum_addr_spec(a), SUMMARY_TO_MAX)) == -1)
			acc->full = 1;
		break;
	}
}

static void
sum_to(const char *raw, struct summary *s)
{
	struct buf b;
	struct sum_to_acc acc;
	char *prefix = sum_addr_prefix(raw);

	buf_init(&b, 0);
	memset(&acc, 0, sizeof(acc));
	acc.b = &b;
	mime_addr_parse(prefix, sum_to_cb, &acc);
	g_free(acc.group);
	g_free(prefix);
	free(s->to_mbox);
	free(s->to_key);
	free(s->raw_to_mbox);
	free(s->raw_to_key);
	sum_keys_finish(&acc.keys, raw, &s->to_mbox, &s->raw_to_mbox,
	    &s->to_key, &s->raw_to_key);
	if (b.len == 0)
		s->to_text = sum_clean(sum_decoded(raw), SUMMARY_TO_MAX);
	else
		s->to_text = buf_take(&b);
	buf_release(&b);
}

/* ---- message ids (RFC 5322 §3.6.4) ---- */

/* The next "<id>" at or after *pp: its start (*len_r octets), or NULL.
 * One with white space or '<' inside, or too long, is no id. */
static const char *
sum_next_msgid(const char **pp, size_t *len_r)
{
	const char *p = *pp, *q;

	while ((p = strchr(p, '<')) != NULL) {
		for (q = p + 1; *q != '\0' && *q != '>' && *q != '<' &&
		    *q != ' ' && *q != '\t'; q++)
			;
		if (*q == '>' && q > p + 1 &&
		    (size_t)(q + 1 - p) <= SUMMARY_MSGID_MAX) {
			*pp = q + 1;
			*len_r = q + 1 - p;
			return p;
		}
		p = *q == '<' ? q : q + (*q != '\0');
	}
	*pp = strchr(*pp, '\0');
	return NULL;
}

static char *
sum_msgid(const char *raw)
{
	const char *id;
	size_t len;

	if ((id = sum_next_msgid(&raw, &len)) == NULL)
		return NULL;
	return sum_clean(g_strndup(id, len), SUMMARY_MSGID_MAX);
}

/*
 * References: every id, one space between.  When they do not fit, the
 * first (the thread's root) and as many of the last (the nearest
 * ancestors) as do, as RFC 5537 §3.4.4 trims them for Netnews.
 */
static char *
sum_references(const char *raw)
{
	const char **id = NULL;
	size_t *len = NULL, n = 0, cap = 0, total = 0, i, first;
	struct buf b;
	const char *p = raw, *one;
	char *joined, *r;
	size_t l;

	while ((one = sum_next_msgid(&p, &l)) != NULL) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			id = util_reallocarray(id, cap, sizeof(*id));
			len = util_reallocarray(len, cap, sizeof(*len));
		}
		id[n] = one;
		len[n++] = l;
		total += l + 1;
	}
	if (n == 0) {
		free(id);
		free(len);
		return NULL;
	}
	buf_init(&b, 0);
	buf_append(&b, id[0], len[0]);
	first = n;
	if (total - 1 <= SUMMARY_REFS_MAX)
		first = 1;
	else {
		total = len[0];
		for (i = n - 1; i > 0 && total + 1 + len[i] <=
		    SUMMARY_REFS_MAX; i--)
			total += 1 + len[i];
		first = i + 1;
	}
	for (i = first; i < n; i++) {
		buf_putc(&b, ' ');
		buf_append(&b, id[i], len[i]);
	}
	free(id);
	free(len);
	joined = buf_take(&b);
	r = sum_clean(g_strdup(joined), SUMMARY_REFS_MAX);
	free(joined);
	return r;
}

/* ---- attachments ---- */

/* The first token of a Content-* value ("multipart/mixed"), lower-case. */
static void
sum_token(const char *v, char *out, size_t size)
{
	size_t n = 0;

	while (*v == ' ' || *v == '\t')
		v++;
	for (; *v != '\0' && *v != ';' && *v != ' ' && *v != '\t' &&
	    *v != '(' && n + 1 < size; v++)
		out[n++] = (*v >= 'A' && *v <= 'Z') ? *v + ('a' - 'A') : *v;
	out[n] = '\0';
}

/*
 * Does the message have attachments?  A guess from the top-level header
 * alone, as list views make it (Roundcube looks at the top-level type
 * too): multipart/mixed is what mail programs make to attach files
 * (multipart/alternative is text and HTML, multipart/related HTML and its
 * inline images, multipart/signed only adds a signature); a top level
 * "Content-Disposition: attachment", or a single part that is not text,
 * multipart or message (a PDF sent bare), is one.  Wrong for a mixed
 * message of text parts only (a list footer), and for files under a
 * signature: the list shows the paper clip, the message says for sure.
 */
static int
sum_attachment(const char *ctype, const char *cdisp)
{
	char t[128];

	if (cdisp != NULL) {
		sum_token(cdisp, t, sizeof(t));
		if (strcmp(t, "attachment") == 0)
			return 1;
	}
	if (ctype == NULL)
		return 0;		/* text/plain (RFC 2045 §5.2) */
	sum_token(ctype, t, sizeof(t));
	if (strncmp(t, "multipart/", 10) == 0)
		return strcmp(t + 10, "mixed") == 0;
	if (strncmp(t, "text/", 5) == 0 || strncmp(t, "message/", 8) == 0)
		return 0;
	return strchr(t, '/') != NULL;
}

/* ---- the base subject (RFC 5256 §2.1) ---- */

/*
 * subj-blob = "[" *BLOBCHAR "]" *WSP: its length at p, or 0.  BLOBCHAR
 * is ASCII but '[' and ']'; octets of UTF-8 count as BLOBCHAR too (a
 * list's "[Liste für alle]", as Dovecot takes it).
 */
static size_t
sum_blob(const char *p, const char *end)
{
	const char *q;

	if (p >= end || *p != '[')
		return 0;
	for (q = p + 1; q < end && *q != ']'; q++)
		if (*q == '[')
			return 0;
	if (q >= end)
		return 0;
	for (q++; q < end && *q == ' '; q++)
		;
	return q - p;
}

/*
 * subj-leader = (*subj-blob subj-refwd) / WSP
 * subj-refwd  = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"
 * Its length at p, or 0; *refwd set when it is a subj-refwd.
 */
static size_t
sum_leader(const char *p, const char *end, int *refwd)
{
	const char *q = p;
	size_t n;

	if (p < end && *p == ' ')
		return 1;
	while ((n = sum_blob(q, end)) > 0)
		q += n;
	if (end - q >= 3 && strncasecmp(q, "fwd", 3) == 0)
		q += 3;
	else if (end - q >= 2 && (strncasecmp(q, "re", 2) == 0 ||
	    strncasecmp(q, "fw", 2) == 0))
		q += 2;
	else
		return 0;
	while (q < end && *q == ' ')
		q++;
	q += sum_blob(q, end);
	if (q < end && *q == ':') {
		*refwd = 1;
		return q + 1 - p;
	}
	return 0;
}

/* The base subject, clean, before folding (at most SUMMARY_FIELD_MAX). */
static char *
sum_base_subject(const char *subject, int *reply_r)
{
	char *t = util_calloc(1, strlen(subject) + 1), *clean;
	const char *start, *end;
	size_t n = 0, k;
	int found, reply = 0;

	/* (1) Decoded already; tabs and continuations (control characters
	 * are spaces by now) become a space, and runs of spaces one. */
	for (; *subject != '\0'; subject++) {
		char c = *subject == '\t' || *subject == '\r' ||
		    *subject == '\n' ? ' ' : *subject;

		if (c != ' ' || (n > 0 && t[n - 1] != ' '))
			t[n++] = c;
	}
	start = t;
	end = t + n;
	for (;;) {
		/* (2) Remove the trailers: "(fwd)" and WSP. */
		for (;;) {
			if (end > start && end[-1] == ' ')
				end--;
			else if (end - start >= 5 &&
			    strncasecmp(end - 5, "(fwd)", 5) == 0) {
				end -= 5;
				reply = 1;
			}
			else
				break;
		}
		do {
			found = 0;
			/* (3) Remove the leaders. */
			while ((k = sum_leader(start, end, &reply)) > 0) {
				start += k;
				found = 1;
			}
			/* (4) A blob, unless nothing would be left. */
			if ((k = sum_blob(start, end)) > 0 && start + k < end) {
				start += k;
				found = 1;
			}
		} while (found);	/* (5) */
		/* (6) "[fwd:" subject "]": unwrap, and again from (2). */
		if (end - start >= 6 && strncasecmp(start, "[fwd:", 5) == 0 &&
		    end[-1] == ']') {
			start += 5;
			end--;
			reply = 1;
			continue;
		}
		break;
	}
	clean = sum_clean(g_strndup(start, end - start), SUMMARY_FIELD_MAX);
	free(t);
	if (reply_r != NULL)
		*reply_r = reply;
	return clean;
}

char *
summary_base_subject(const char *subject, int *reply_r)
{
	char *clean = sum_base_subject(subject, reply_r), *r;

	r = sum_fold(clean, SUMMARY_SUBJECT_MAX);
	free(clean);
	return r;
}

char *
summary_base_subject_raw(const char *subject, int *reply_r)
{
	char *clean = sum_base_subject(subject, reply_r);

	sum_bound(clean, SUMMARY_SUBJECT_MAX);
	return clean;
}

/* ---- the whole ---- */

void
summary_empty(struct summary *s)
{
	memset(s, 0, sizeof(*s));
	s->sent = SUMMARY_NO_DATE;
	s->hdr8 = -1;
	s->from_name = util_strdup("");
	s->from_addr = util_strdup("");
	s->from_key = util_strdup("");
	s->to_text = util_strdup("");
	s->subject = util_strdup("");
	s->base_subject = util_strdup("");
	s->from_mbox = util_strdup("");
	s->to_mbox = util_strdup("");
	s->cc_mbox = util_strdup("");
	s->to_key = util_strdup("");
	s->raw_from_mbox = util_strdup("");
	s->raw_to_mbox = util_strdup("");
	s->raw_cc_mbox = util_strdup("");
	s->raw_from_key = util_strdup("");
	s->raw_to_key = util_strdup("");
	s->raw_base_subject = util_strdup("");
}

void
summary_free(struct summary *s)
{
	free(s->from_name);
	free(s->from_addr);
	free(s->from_key);
	free(s->to_text);
	free(s->subject);
	free(s->base_subject);
	free(s->message_id);
	free(s->in_reply_to);
	free(s->references);
	free(s->from_mbox);
	free(s->to_mbox);
	free(s->cc_mbox);
	free(s->to_key);
	free(s->raw_from_mbox);
	free(s->raw_to_mbox);
	free(s->raw_cc_mbox);
	free(s->raw_from_key);
	free(s->raw_to_key);
	free(s->raw_base_subject);
	memset(s, 0, sizeof(*s));
}

void
summary_parse(const char *hdr, size_t len, struct summary *s)
{
	const char *val[H_COUNT] = { NULL }, *line, *nl, *colon, *end;
	char *raw[H_COUNT] = { NULL }, *dec;
	size_t vlen[H_COUNT] = { 0 }, pos = 0, llen, namelen;
	int64_t t;
	int cur = -1, f;

	summary_empty(s);
	s->hdr8 = sum_hdr8(hdr, len);
	len = sum_header_len(hdr, len);
	while (pos < len) {
		line = hdr + pos;
		nl = memchr(line, '\n', len - pos);
		llen = nl != NULL ? (size_t)(nl - line) : len - pos;
		pos += llen + (nl != NULL);
		if (line[0] == ' ' || line[0] == '\t') {
			/* A continuation: the field goes on to here. */
			if (cur >= 0)
				vlen[cur] = line + llen - val[cur];
			continue;
		}
		cur = -1;
		if ((colon = memchr(line, ':', llen)) == NULL)
			continue;
		for (end = colon; end > line && (end[-1] == ' ' ||
		    end[-1] == '\t'); end--)
			;		/* obsolete "Name :" (RFC 5322 §4.5) */
		namelen = end - line;
		for (f = 0; f < H_COUNT; f++)
			if (val[f] == NULL && strlen(sum_names[f]) == namelen &&
			    strncasecmp(line, sum_names[f], namelen) == 0) {
				val[f] = colon + 1;
				vlen[f] = line + llen - val[f];
				cur = f;
				break;
			}
	}
	for (f = 0; f < H_COUNT; f++)
		if (val[f] != NULL)
			raw[f] = sum_unfold(val[f], vlen[f]);
	if (raw[H_DATE] != NULL && (t = mime_date_parse(raw[H_DATE])) != -1)
		s->sent = t;
	if (raw[H_FROM] != NULL) {
		free(s->from_name);
		free(s->from_addr);
		free(s->from_key);
		sum_from(raw[H_FROM], s);
		s->from_key = sum_fold(s->from_name[0] != '\0' ? s->from_name :
		    s->from_addr, SUMMARY_ADDR_MAX);
		free(s->raw_from_key);
		s->raw_from_key = util_strdup(s->from_name[0] != '\0' ?
		    s->from_name : s->from_addr);
		sum_bound(s->raw_from_key, SUMMARY_ADDR_MAX);
	}
	if (raw[H_TO] != NULL) {
		free(s->to_text);
		sum_to(raw[H_TO], s);
	}
	if (raw[H_CC] != NULL) {
		free(s->cc_mbox);
		free(s->raw_cc_mbox);
		sum_keys(raw[H_CC], &s->cc_mbox, &s->raw_cc_mbox);
	}
	if (raw[H_SUBJECT] != NULL) {
		/* The base subject from all of it: a long subject's
		 * trailer is past what is kept. */
		dec = sum_clean(sum_decoded(raw[H_SUBJECT]),
		    SUMMARY_FIELD_MAX);
		free(s->base_subject);
		free(s->raw_base_subject);
		s->raw_base_subject = sum_base_subject(dec, &s->reply);
		s->base_subject = sum_fold(s->raw_base_subject,
		    SUMMARY_SUBJECT_MAX);
		sum_bound(s->raw_base_subject, SUMMARY_SUBJECT_MAX);
		sum_bound(dec, SUMMARY_SUBJECT_MAX);
		free(s->subject);
		s->subject = sum_trim(dec);
	}
	if (raw[H_MSGID] != NULL)
		s->message_id = sum_msgid(raw[H_MSGID]);
	if (raw[H_IRT] != NULL)
		s->in_reply_to = sum_msgid(raw[H_IRT]);
	if (raw[H_REFS] != NULL)
		s->references = sum_references(raw[H_REFS]);
	s->has_attachment = sum_attachment(raw[H_CTYPE], raw[H_CDISP]);
	for (f = 0; f < H_COUNT; f++)
		free(raw[f]);
}

int
summary_read(int fd, struct summary *s)
{
	/* Not zeroed: only the len octets read are looked at. */
	char *buf = util_reallocarray(NULL, SUMMARY_HEADER_MAX, 1);
	size_t len = 0, want;
	ssize_t n;

	for (;;) {
		want = SUMMARY_HEADER_MAX - len;
		if (want > SUMMARY_READ_CHUNK)
			want = SUMMARY_READ_CHUNK;
		if ((n = pread(fd, buf + len, want, (off_t)len)) == -1) {
			if (errno == EINTR)
				continue;
			free(buf);
			summary_empty(s);
			return -1;
		}
		len += (size_t)n;
		/* Enough: the end of the file, of the header, or of what
		 * we read of a header (the rest is not looked at). */
		if (n == 0 || len == SUMMARY_HEADER_MAX ||
		    sum_header_len(buf, len) < len)
			break;
	}
	summary_parse(buf, len, s);
	free(buf);
	return 0;
}
