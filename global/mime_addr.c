/*
 * mime_addr.c: address-lists in header fields (RFC 5322 §3.4), as
 * ENVELOPE (RFC 3501 §7.4.2), SEARCH and the webmail read them.
 *
 * A forgiving lexer, not a validator: whatever a sender wrote gives the
 * mailboxes that can be made of it, and junk is skipped.  Obsolete
 * syntax (RFC 5322 §4.4) is read: routes, blanks and comments anywhere,
 * a bare addr-spec's trailing comment as its name.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/buf.h"
#include "mime.h"

struct alex {
	const char	*p, *end;
	struct buf	 comment;	/* the last comment skipped */
};

/* Where one mailbox or group goes. */
struct addr_out {
	void	(*cb)(const struct mime_addr *, void *);
	void	*arg;
};

static int
is_atext(unsigned char c)
{
	/* RFC 5322 §3.2.3; 8-bit octets as RFC 6532 allows */
	return isalnum(c) || c >= 0x80 ||
	    (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* Skip blanks and comments (RFC 5322 §3.2.2), keeping the last
 * comment's text: "addr@host (Name)" has no other name. */
static void
alex_cfws(struct alex *lx)
{
	int depth;
	char c;

	for (;;) {
		while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t' ||
		    *lx->p == '\r' || *lx->p == '\n'))
			lx->p++;
		if (lx->p >= lx->end || *lx->p != '(')
			return;
		buf_reset(&lx->comment);
		lx->p++;
		for (depth = 1; lx->p < lx->end;) {
			c = *lx->p++;
			if (c == '\\' && lx->p < lx->end)
				c = *lx->p++;
			else if (c == '(')
				depth++;
			else if (c == ')' && --depth == 0)
				break;
			buf_putc(&lx->comment, c);
		}
	}
}

/* An atom (with dots when dots is set) appended to out; 0 if none. */
static int
alex_atom(struct alex *lx, struct buf *out, int dots)
{
	const char *s = lx->p;

	while (lx->p < lx->end && (is_atext(*lx->p) || (dots && *lx->p == '.')))
		lx->p++;
	buf_append(out, s, lx->p - s);
	return lx->p > s;
}

/* A quoted string: raw (quotes and escapes kept, for a local-part) or
 * its content (for a display name). */
static void
alex_quoted(struct alex *lx, struct buf *out, int raw)
{
	char c;

	lx->p++;
	if (raw)
		buf_putc(out, '"');
	while (lx->p < lx->end && (c = *lx->p++) != '"') {
		if (c == '\\' && lx->p < lx->end) {
			if (raw)
				buf_putc(out, c);
			c = *lx->p++;
		}
		buf_putc(out, c);
	}
	if (raw)
		buf_putc(out, '"');
}

/* A phrase (display name or group name): words joined by one space. */
static void
alex_phrase(struct alex *lx, struct buf *out)
{
	size_t mark;
	int n = 0;

	for (;;) {
		alex_cfws(lx);
		if (lx->p >= lx->end)
			return;
		mark = out->len;
		if (n > 0)
			buf_putc(out, ' ');
		if (*lx->p == '"')
			alex_quoted(lx, out, 0);
		else if (!alex_atom(lx, out, 1)) {
			buf_truncate(out, mark);
			return;
		}
		n++;
	}
}

/* local-part "@" domain, each kept as written (RFC 5322 §3.4.1). */
static void
alex_addr_spec(struct alex *lx, struct buf *local, struct buf *domain)
{
	for (;;) {
		alex_cfws(lx);
		if (lx->p >= lx->end)
			return;
		if (*lx->p == '"')
			alex_quoted(lx, local, 1);
		else if (*lx->p == '.')
			buf_putc(local, *lx->p++);
		else if (!alex_atom(lx, local, 0))
			break;
	}
	if (*lx->p != '@')
		return;
	lx->p++;
	for (;;) {
		alex_cfws(lx);
		if (lx->p >= lx->end)
			return;
		if (*lx->p == '[') {		/* domain-literal */
			while (lx->p < lx->end && *lx->p != ']')
				buf_putc(domain, *lx->p++);
			if (lx->p < lx->end)
				buf_putc(domain, *lx->p++);
		} else if (*lx->p == '.')
			buf_putc(domain, *lx->p++);
		else if (!alex_atom(lx, domain, 0))
			return;
	}
}

/* Hand one mailbox or group start or end on; name decoded for it. */
static void
addr_emit(const struct addr_out *out, enum mime_addr_kind kind,
    const struct buf *name, const struct buf *route, const struct buf *local,
    const struct buf *domain)
{
	struct mime_addr a;
	char *decoded = NULL;

	memset(&a, 0, sizeof(a));
	a.kind = kind;
	if (name != NULL && name->len > 0) {
		a.name = name->data;
		a.name_utf8 = decoded = mime_decode_header(name->data);
	}
	if (route != NULL && route->len > 0)
		a.route = route->data;
	if (local != NULL && local->len > 0)
		a.local = local->data;
	if (domain != NULL && domain->len > 0)
		a.domain = domain->data;
	out->cb(&a, out->arg);
	free(decoded);
}

/*
 * One mailbox: [phrase] "<" [route ":"] addr-spec ">" or a bare
 * addr-spec whose trailing comment serves as the name.  Nothing is
 * handed on for an empty address ("<>").
 */
static void
addr_mailbox(struct alex *lx, struct buf *name, const struct addr_out *out)
{
	struct buf route, local, domain;
	const char *start = lx->p;

	buf_init(&route, 0);
	buf_init(&local, 0);
	buf_init(&domain, 0);
	if (lx->p < lx->end && *lx->p == '<') {
		lx->p++;
		alex_cfws(lx);
		if (lx->p < lx->end && *lx->p == '@') {	/* obs-route */
			while (lx->p < lx->end && *lx->p != ':' &&
			    *lx->p != '>')
				buf_putc(&route, *lx->p++);
			if (lx->p < lx->end && *lx->p == ':')
				lx->p++;
		}
		alex_addr_spec(lx, &local, &domain);
		while (lx->p < lx->end && *lx->p != '>')
			lx->p++;
		if (lx->p < lx->end)
			lx->p++;
	} else {
		buf_reset(name);
		buf_reset(&lx->comment);
		alex_addr_spec(lx, &local, &domain);
		alex_cfws(lx);
		if (lx->comment.len > 0)
			buf_append(name, lx->comment.data, lx->comment.len);
	}
	if (local.len > 0 || domain.len > 0)
		addr_emit(out, MIME_ADDR_MAILBOX, name, &route, &local,
		    &domain);
	else if (lx->p == start)
		lx->p++;			/* junk: skip it */
	buf_release(&route);
	buf_release(&local);
	buf_release(&domain);
}

/* A group "name: a, b;" is its start, its members, its end. */
void
mime_addr_parse(const char *v, void (*cb)(const struct mime_addr *, void *),
    void *arg)
{
	const struct addr_out out = { cb, arg };
	struct alex lx;
	struct buf name;
	const char *start;
	int in_group = 0;

	lx.p = v;
	lx.end = v + strlen(v);
	buf_init(&lx.comment, 0);
	buf_init(&name, 0);
	for (;;) {
		alex_cfws(&lx);
		if (lx.p >= lx.end)
			break;
		if (*lx.p == ',' || *lx.p == ';') {
			if (*lx.p++ == ';' && in_group) {
				addr_emit(&out, MIME_ADDR_GROUP_END, NULL,
				    NULL, NULL, NULL);
				in_group = 0;
			}
			continue;
		}
		start = lx.p;
		buf_reset(&name);
		alex_phrase(&lx, &name);
		alex_cfws(&lx);
		if (lx.p < lx.end && *lx.p == ':' && !in_group &&
		    name.len > 0) {
			lx.p++;
			addr_emit(&out, MIME_ADDR_GROUP, &name, NULL, NULL,
			    NULL);
			in_group = 1;
			continue;
		}
		if (lx.p >= lx.end || *lx.p != '<')
			lx.p = start;		/* it was an addr-spec */
		addr_mailbox(&lx, &name, &out);
	}
	if (in_group)
		addr_emit(&out, MIME_ADDR_GROUP_END, NULL, NULL, NULL, NULL);
	buf_release(&lx.comment);
	buf_release(&name);
}
