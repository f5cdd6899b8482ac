/*
 * FETCH and UID FETCH (RFC 3501 §6.4.5, §7.4.2), with CONDSTORE's
 * CHANGEDSINCE and MODSEQ and QRESYNC's VANISHED (RFC 7162 §3.1.4,
 * §3.2.6).
 *
 * ENVELOPE, BODYSTRUCTURE and BODY come from the index's cache when it
 * has them; otherwise the message is read, parsed once (global/mime.h),
 * and the results are cached for next time.  Bodies are sent as literals of the
 * message with CRLF line ends, the form every size we report counts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../global/mime.h"
#include "../lib/log.h"
#include "binary.h"
#include "context.h"
#include "notify.h"
#include "acl.h"
#include "session.h"

enum fetch_kind {
	FI_UID, FI_FLAGS, FI_INTERNALDATE, FI_SIZE, FI_ENVELOPE,
	FI_BODYSTRUCTURE, FI_BODY, FI_MODSEQ, FI_SECTION,
	/* issue 14: from the index's msg_ext (maildir/ext.c) */
	FI_SAVEDATE, FI_EMAILID, FI_THREADID, FI_PREVIEW,
	FI_BINARY, FI_BINARY_SIZE,	/* RFC 3516, binary.c */
};

#define FETCH_MAX_ITEMS	64

struct fetch_item {
	enum fetch_kind	 kind;
	char		 label[600];	/* as the response names it */
	char		 section[560];	/* FI_SECTION: between [ and ] */
	int		 peek;		/* does not set \Seen */
	int		 partial;
	uint64_t	 offset, length;
};

struct fetch_req {
	struct fetch_item items[FETCH_MAX_ITEMS];
	size_t		 n;
	int		 need_cache;	/* ENVELOPE, BODYSTRUCTURE or BODY */
	int		 need_text;	/* a section */
	int		 part_text;	/* a section other than the whole
					 * message (else those stream) */
	int		 wants_modseq;	/* the MODSEQ item: a CONDSTORE use */
	int		 need_ext;	/* SAVEDATE, EMAILID, PREVIEW */
	int		 shows_raw;	/* header octets or the size: a
					 * section, RFC822.SIZE, BINARY[] */
	int		 preview_lazy;	/* PREVIEW (LAZY): NIL if not kept */
	int		 sets_seen;
	uint64_t	 changedsince;
	int		 have_changedsince;
	int		 vanished;
	struct return_partial partial;	/* RFC 9394 §3.3 */
	int		 have_partial;
};

static int
fetch_add(struct fetch_req *r, enum fetch_kind kind, const char *label)
{
	if (r->n == FETCH_MAX_ITEMS)
		return -1;
	memset(&r->items[r->n], 0, sizeof(r->items[r->n]));
	r->items[r->n].kind = kind;
	util_strcpy(r->items[r->n].label, label, sizeof(r->items[r->n].label));
	if (kind == FI_ENVELOPE || kind == FI_BODYSTRUCTURE || kind == FI_BODY)
		r->need_cache = 1;
	if (kind == FI_MODSEQ)
		r->wants_modseq = 1;
	if (kind == FI_SAVEDATE || kind == FI_EMAILID || kind == FI_PREVIEW)
		r->need_ext = 1;
	if (kind == FI_SIZE || kind == FI_SECTION)
		r->shows_raw = 1;
	r->n++;
	return 0;
}

/* A header-list: "(" 1*astring ")" with at least one field name. */
static int
section_header_list(const char *p)
{
	size_t n;

	if (*p++ != ' ' || *p++ != '(')
		return 0;
	n = strcspn(p, ")");
	return n > 0 && p[n] == ')' && p[n + 1] == '\0' &&
	    strspn(p, " ") < n;
}

/*
 * section-spec (RFC 3501 §9): [part *("." part) "."] text, where text is
 * HEADER, HEADER.FIELDS[.NOT] (names), TEXT, or MIME after a part only.
 * Checked here so a malformed one is a BAD before anything is sent.
 */
static int
section_valid(const char *sec)
{
	const char *p = sec;
	int parts = 0;

	while (*p >= '1' && *p <= '9') {
		size_t n = strspn(p, "0123456789");

		/* nz-number is 32-bit (RFC 3501 §9) */
		if (n > 10 || (n == 10 && strncmp(p, "4294967295", 10) > 0))
			return 0;
		p += n;
		parts++;
		if (*p == '\0')
			return 1;
		if (*p++ != '.')
			return 0;
	}
	if (*p == '\0')
		return parts == 0;
	if (strcasecmp(p, "HEADER") == 0 || strcasecmp(p, "TEXT") == 0)
		return 1;
	if (strcasecmp(p, "MIME") == 0)
		return parts > 0;
	if (strncasecmp(p, "HEADER.FIELDS.NOT", 17) == 0)
		return section_header_list(p + 17);
	if (strncasecmp(p, "HEADER.FIELDS", 13) == 0)
		return section_header_list(p + 13);
	return 0;
}

/* BODY[section]<o.l>, BODY.PEEK[...], and the RFC822 forms. */

/* A partial "<o.l>" of BODY[...] or BINARY[...] (RFC 3501 §6.4.5): a
 * length of 0 or a number out of range is refused.  0 or -1. */
static int
fetch_partial(struct fetch_item *it, const char *partial)
{
	unsigned long long o, l;
	char *end;

	errno = 0;
	o = strtoull(partial + 1, &end, 10);
	if (*end != '.' || errno != 0)
		return -1;
	l = strtoull(end + 1, &end, 10);
	if (strcmp(end, ">") != 0 || errno != 0 || l == 0)
		return -1;
	it->partial = 1;
	it->offset = o;
	it->length = l;
	return 0;
}

static int
fetch_add_section(struct fetch_req *r, const char *section, int peek,
    const char *partial, const char *label)
{
	struct fetch_item *it;

	if (!section_valid(section) || fetch_add(r, FI_SECTION, "") == -1 ||
	    strlen(section) >= sizeof(it->section))
		return -1;
	it = &r->items[r->n - 1];
	util_strcpy(it->section, section, sizeof(it->section));
	it->peek = peek;
	if (partial != NULL && fetch_partial(it, partial) == -1)
		return -1;
	if (label != NULL)
		util_strcpy(it->label, label, sizeof(it->label));
	else if (partial != NULL)
		snprintf(it->label, sizeof(it->label), "BODY[%s]<%llu>",
		    section, (unsigned long long)it->offset);
	else
		snprintf(it->label, sizeof(it->label), "BODY[%s]", section);
	r->need_text = 1;
	if (section[0] != '\0')
		r->part_text = 1;
	if (!peek)
		r->sets_seen = 1;
	return 0;
}

/* BINARY[part]<o.l>, BINARY.PEEK[...], BINARY.SIZE[part] (RFC 3516
 * §4.2): part numbers only, no HEADER, TEXT or MIME. */
static int
fetch_parse_binary(struct fetch_req *r, int size, int peek,
    const char *section, const char *partial)
{
	struct fetch_item *it;

	if (!imap_binary_section_valid(section) || (size && partial != NULL) ||
	    fetch_add(r, size ? FI_BINARY_SIZE : FI_BINARY, "") == -1)
		return -1;
	it = &r->items[r->n - 1];
	util_strcpy(it->section, section, sizeof(it->section));
	it->peek = peek;
	snprintf(it->label, sizeof(it->label), "%s[%s]", size ?
	    "BINARY.SIZE" : "BINARY", section);
	if (section[0] == '\0')	/* the whole message */
		r->shows_raw = 1;
	if (partial != NULL) {
		if (fetch_partial(it, partial) == -1)
			return -1;
		snprintf(it->label + strlen(it->label), sizeof(it->label) -
		    strlen(it->label), "<%llu>",
		    (unsigned long long)it->offset);
	}
	if (!peek)
		r->sets_seen = 1;
	return 0;
}

enum { BIN_FETCH = 2, BIN_PEEK, BIN_SIZE };	/* after BODY's 0 and 1 */

static int
fetch_parse_body(struct fetch_req *r, const char *atom)
{
	const char *open = strchr(atom, '['), *close = strrchr(atom, ']');
	char section[560];
	size_t plen, slen;
	int peek;

	if (open == NULL || close == NULL || close < open)
		return -1;
	plen = (size_t)(open - atom);
	if (plen == 4 && strncasecmp(atom, "BODY", 4) == 0)
		peek = 0;
	else if (plen == 9 && strncasecmp(atom, "BODY.PEEK", 9) == 0)
		peek = 1;
	else if (plen == 6 && strncasecmp(atom, "BINARY", 6) == 0)
		peek = BIN_FETCH;
	else if (plen == 11 && strncasecmp(atom, "BINARY.PEEK", 11) == 0)
		peek = BIN_PEEK;
	else if (plen == 11 && strncasecmp(atom, "BINARY.SIZE", 11) == 0)
		peek = BIN_SIZE;
	else
		return -1;
	slen = (size_t)(close - open - 1);
	if (slen >= sizeof(section))
		return -1;
	memcpy(section, open + 1, slen);
	section[slen] = '\0';
	if (close[1] != '\0' && close[1] != '<')
		return -1;
	if (peek >= BIN_FETCH)
		return fetch_parse_binary(r, peek == BIN_SIZE,
		    peek != BIN_FETCH, section, close[1] ? close + 1 : NULL);
	return fetch_add_section(r, section, peek, close[1] ? close + 1 : NULL,
	    NULL);
}

static int
fetch_parse_item(struct fetch_req *r, const struct imap_arg *a)
{
	static const struct {
		const char	*name;
		enum fetch_kind	 kind;
	} simple[] = {
		{ "UID", FI_UID }, { "FLAGS", FI_FLAGS },
		{ "INTERNALDATE", FI_INTERNALDATE }, { "RFC822.SIZE", FI_SIZE },
		{ "ENVELOPE", FI_ENVELOPE }, { "BODYSTRUCTURE", FI_BODYSTRUCTURE },
		{ "BODY", FI_BODY }, { "MODSEQ", FI_MODSEQ },
		{ "SAVEDATE", FI_SAVEDATE }, { "EMAILID", FI_EMAILID },
		{ "THREADID", FI_THREADID }, { "PREVIEW", FI_PREVIEW },
	};
	size_t i;

	if (a->type != IMAP_ARG_ATOM)
		return -1;
	for (i = 0; i < sizeof(simple) / sizeof(simple[0]); i++)
		if (strcasecmp(a->str, simple[i].name) == 0)
			return fetch_add(r, simple[i].kind, simple[i].name);
	if (strcasecmp(a->str, "RFC822") == 0)
		return fetch_add_section(r, "", 0, NULL, "RFC822");
	if (strcasecmp(a->str, "RFC822.HEADER") == 0)
		return fetch_add_section(r, "HEADER", 1, NULL, "RFC822.HEADER");
	if (strcasecmp(a->str, "RFC822.TEXT") == 0)
		return fetch_add_section(r, "TEXT", 0, NULL, "RFC822.TEXT");
	return fetch_parse_body(r, a->str);
}

/* The macros of RFC 3501 §6.4.5. */
static int
fetch_parse_macro(struct fetch_req *r, const char *m)
{
	if (strcasecmp(m, "FAST") != 0 && strcasecmp(m, "ALL") != 0 &&
	    strcasecmp(m, "FULL") != 0)
		return 1;
	fetch_add(r, FI_FLAGS, "FLAGS");
	fetch_add(r, FI_INTERNALDATE, "INTERNALDATE");
	fetch_add(r, FI_SIZE, "RFC822.SIZE");
	if (strcasecmp(m, "FAST") != 0)
		fetch_add(r, FI_ENVELOPE, "ENVELOPE");
	if (strcasecmp(m, "FULL") == 0)
		fetch_add(r, FI_BODY, "BODY");
	return 0;
}

/* (CHANGEDSINCE n [VANISHED]), and UID FETCH's PARTIAL range */
static int
fetch_parse_modifiers(struct imap_session *s, struct fetch_req *r,
    const struct imap_arg *a)
{
	size_t i;

	if (a->type != IMAP_ARG_LIST)
		return -1;
	for (i = 0; i < a->nlist; i++) {
		if (imap_arg_atom_is(&a->list[i], "CHANGEDSINCE") &&
		    i + 1 < a->nlist && imap_arg_number(&a->list[i + 1],
		    INT64_MAX, &r->changedsince) == 0) {
			r->have_changedsince = 1;
			i++;
		} else if (imap_arg_atom_is(&a->list[i], "VANISHED") &&
		    s->qresync && s->uid_cmd)
			r->vanished = 1;
		else if (imap_arg_atom_is(&a->list[i], "PARTIAL") &&
		    s->uid_cmd && !r->have_partial && i + 1 < a->nlist &&
		    partial_parse(&a->list[i + 1], &r->partial) == 0) {
			r->have_partial = 1;
			i++;
		} else
			return -1;
	}
	/* RFC 7162 §3.2.6: VANISHED only with CHANGEDSINCE. */
	if (r->vanished && !r->have_changedsince)
		return -1;
	return 0;
}

/*
 * PREVIEW's "(" preview-mod *(SP preview-mod) ")" (RFC 8970 §4) after
 * the item at a: 1 taken (LAZY is the one modifier), 0 none there, -1
 * malformed.
 */
static int
fetch_preview_mods(struct fetch_req *r, const struct imap_arg *a,
    const struct imap_arg *end)
{
	size_t i;

	if (a->type != IMAP_ARG_ATOM || strcasecmp(a->str, "PREVIEW") != 0 ||
	    a + 1 >= end || a[1].type != IMAP_ARG_LIST)
		return 0;
	for (i = 0; i < a[1].nlist; i++)
		if (!imap_arg_atom_is(&a[1].list[i], "LAZY"))
			return -1;
	if (a[1].nlist == 0)
		return -1;
	r->preview_lazy = 1;
	return 1;
}

static int
fetch_parse(struct imap_session *s, struct fetch_req *r,
    const struct imap_arg *args, size_t nargs)
{
	size_t i, first_mod = 2;
	int m;

	memset(r, 0, sizeof(*r));
	if (nargs < 2 || nargs > 4)
		return -1;
	/* FETCH set PREVIEW (LAZY) [(modifiers)]: the list is PREVIEW's. */
	if ((m = fetch_preview_mods(r, &args[1], args + nargs)) == -1)
		return -1;
	first_mod += (size_t)m;
	if (nargs > first_mod + 1 || (nargs == first_mod + 1 &&
	    fetch_parse_modifiers(s, r, &args[first_mod]) == -1))
		return -1;
	if (args[1].type == IMAP_ARG_ATOM) {
		if ((m = fetch_parse_macro(r, args[1].str)) == 0)
			return 0;
		if (fetch_parse_item(r, &args[1]) == -1)
			return -1;
	} else if (args[1].type == IMAP_ARG_LIST && args[1].nlist > 0) {
		for (i = 0; i < args[1].nlist; i++) {
			if (fetch_parse_item(r, &args[1].list[i]) == -1)
				return -1;
			if ((m = fetch_preview_mods(r, &args[1].list[i],
			    args[1].list + args[1].nlist)) == -1)
				return -1;
			i += (size_t)m;
		}
	} else
		return -1;
	return 0;
}

/* ---- running it ---- */

struct fetch_run {
	struct imap_session *s;
	struct fetch_req *req;
	const uint32_t	*seqs;		/* ascending */
	size_t		 nseqs, next;
	unsigned char	*seen_set;	/* by sequence number: \Seen just set */
	int		 failed;
	int		 unknown_cte;	/* a BINARY part's (RFC 3516) */
	size_t		 answered;	/* messages given a FETCH response */
	size_t		 gone;		/* of those, ones whose file was gone */
	int		 load_gone;	/* the last fetch_load() found none */
	/* cache entries to write when the iteration is over */
	struct cache_put {
		uint32_t uid;
		char	*env, *bs, *body;
	}		*puts;
	size_t		 nputs;
	/* msg.hdr8 found out, to keep likewise (fetch_hdr8()) */
	struct hdr8_put {
		uint32_t uid;
		int	 hdr8;
	}		*h8puts;
	size_t		 nh8puts;
	/* PREVIEWs made, to keep likewise (RFC 8970 §3.1) */
	struct preview_put {
		uint32_t uid;
		char	*text;
	}		*pvputs;
	size_t		 npvputs;
};

static void
put_literal(struct buf *b, const char *data, size_t len)
{
	buf_printf(b, "{%zu}\r\n", len);
	buf_append(b, data, len);
}

/* "label {n}" and data, or <offset.length> of it (RFC 3501 §6.4.5);
 * with lit8, "~{n}" when it holds a NUL (RFC 3516 §4.2). */
static void
put_item(struct buf *b, const struct fetch_item *it, const char *data,
    size_t len, int lit8)
{
	if (it->partial) {
		if (it->offset >= len)
			len = 0;
		else {
			data += it->offset;
			len -= (size_t)it->offset;
			if (len > it->length)
				len = (size_t)it->length;
		}
	}
	buf_printf(b, "%s ", it->label);
	if (lit8 && memchr(data, '\0', len) != NULL)
		buf_putc(b, '~');
	put_literal(b, data, len);
}

static void
fetch_section(struct buf *b, const struct fetch_item *it,
    struct mime_msg *msg)
{
	const char *data;
	char *owned = NULL;
	size_t len;

	/* The grammar was checked when the command was parsed; what the
	 * message parser still refuses (deeper than it nests) is a part
	 * that does not exist: empty, as RFC 3501 §6.4.5 says. */
	if (imap_fetch_section(msg, it->section, &data, &len, &owned) == -1) {
		data = "";
		len = 0;
	}
	put_item(b, it, data, len, 0);
	free(owned);
}

/*
 * A whole message (BODY[], RFC822, with <partial>) straight from its
 * file, as the CRLF form a parsed message would give, in pieces: a 50 MB
 * message costs a 64 KB buffer, not two copies of itself.  vsize (the
 * index's CRLF size, counted from this file) is the literal's length;
 * should the file disagree, the literal is still exactly that long.
 */
static void
fetch_stream(struct imap_session *s, const struct fetch_item *it, int fd,
    int64_t vsize)
{
	struct buf *b = imap_out(s);
	char in[32768], out[2 * sizeof(in)], prev = '\0';
	uint64_t start = 0, len = (uint64_t)vsize, pos = 0, sent = 0, a, e;
	off_t off = 0;
	ssize_t n;
	size_t o;

	if (it->partial) {	/* as fetch_section(): RFC 3501 §6.4.5 */
		start = it->offset < len ? it->offset : len;
		len = len - start < it->length ? len - start : it->length;
	}
	buf_printf(b, "%s {%llu}\r\n", it->label, (unsigned long long)len);
	while (sent < len && (n = pread(fd, in, sizeof(in), off)) > 0) {
		off += n;
		o = mime_crlf_piece(in, (size_t)n, out, &prev);
		a = start > pos ? start - pos : 0;	/* this piece's part */
		e = start + len - pos < o ? start + len - pos : o;
		if (a < e) {
			buf_append(b, out + a, (size_t)(e - a));
			sent += e - a;
		}
		pos += o;
		imap_out_done(s);
		if (s->broken)
			return;
	}
	for (; sent < len; sent++)	/* the file shrank: keep the syntax */
		buf_puts(b, " ");
}

struct mime_msg *
imap_msg_load(struct imap_session *s, struct mbox *mb, uint32_t uid,
    int *gone)
{
	int fd;
	struct mime_msg *m;

	if (gone != NULL)
		*gone = 0;
	if ((fd = mbox_msg_open(mb, uid)) == -1) {
		if (gone != NULL)
			*gone = mstore_errclass(mbox_store(mb)) ==
			    MSTORE_ENOTFOUND;
		return NULL;
	}
	m = mime_msg_load(fd, (size_t)s->conf->imapd.append_limit * 2);
	close(fd);
	return m;
}

static struct mime_msg *
fetch_load(struct fetch_run *fr, uint32_t uid)
{
	return imap_msg_load(fr->s, fr->s->mb, uid, &fr->load_gone);
}

/* ENVELOPE, BODYSTRUCTURE, BODY: cached, or made now (and cached). */
static void
fetch_cached(struct fetch_run *fr, const struct mmsg *m,
    struct mime_msg **msg, const char **env, const char **bs,
    const char **body)
{
	struct cache_put *cp;

	*env = m->envelope;
	*bs = m->bodystructure;
	*body = m->body;
	if (*env != NULL && *bs != NULL && *body != NULL)
		return;
	if (*msg == NULL && (*msg = fetch_load(fr, m->uid)) == NULL)
		return;
	fr->puts = realloc(fr->puts, (fr->nputs + 1) * sizeof(*fr->puts));
	if (fr->puts == NULL)
		fatal("realloc");
	cp = &fr->puts[fr->nputs++];
	cp->uid = m->uid;
	cp->env = imap_fetch_envelope(*msg);
	cp->bs = imap_fetch_bodystructure(*msg, 1);
	cp->body = imap_fetch_bodystructure(*msg, 0);
	*env = cp->env;
	*bs = cp->bs;
	*body = cp->body;
}

/*
 * The parts BINARY items want, found (and their decoded sizes known)
 * before the response begins: a part whose encoding is unknown fails
 * the message's response (RFC 3516 §4.3).  0, or -1 with fr saying why.
 */
static int
fetch_binary_open(struct fetch_run *fr, uint32_t uid,
    struct binary_part *bins)
{
	const struct fetch_item *it;
	size_t i;
	int gone = 0;

	for (i = 0; i < fr->req->n; i++)
		bins[i].fd = -1;
	for (i = 0; i < fr->req->n; i++) {
		it = &fr->req->items[i];
		if (it->kind != FI_BINARY && it->kind != FI_BINARY_SIZE)
			continue;
		switch (imap_binary_open(fr->s, uid, it->section, &bins[i])) {
		case BINARY_OK:
			continue;
		case BINARY_GONE:	/* NIL, as for BODY */
			gone = 1;
			continue;
		case BINARY_UNKNOWN_CTE:
			fr->unknown_cte = 1;
			break;
		case BINARY_ERROR:
			fr->failed = 1;
			break;
		}
		while (i > 0)
			imap_binary_close(&bins[i--]);
		imap_binary_close(&bins[0]);
		return -1;
	}
	fr->gone += gone;
	return 0;
}

static int
fetch_wants(const struct fetch_req *r, enum fetch_kind kind)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->items[i].kind == kind)
			return 1;
	return 0;
}

/*
 * RFC 6855 §7: a session that did not ENABLE UTF8=ACCEPT (nor
 * IMAP4rev2) gets no 8-bit octets in ENVELOPE, BODYSTRUCTURE or BODY.
 * The cache holds them as they are, for everyone; one that holds 8-bit
 * octets (one scan, which is all an all-ASCII one costs) is made again
 * from the message, downgraded (downgrade.c), into own[], not cached.
 * NIL if the message is gone meanwhile.
 */
static void
fetch_downgrade(struct fetch_run *fr, const struct mmsg *m,
    struct mime_msg **msg, const char **env, const char **bs,
    const char **body, char *own[3])
{
	const struct fetch_req *r = fr->req;
	const char **item[3] = { env, bs, body };
	static const enum fetch_kind kind[3] = {
		FI_ENVELOPE, FI_BODYSTRUCTURE, FI_BODY
	};
	size_t i;

	if (imap_names_utf8(fr->s))
		return;
	for (i = 0; i < 3; i++) {
		if (*item[i] == NULL || !fetch_wants(r, kind[i]) ||
		    !imap_8bit(*item[i]))
			continue;
		if (*msg == NULL && (*msg = fetch_load(fr, m->uid)) == NULL) {
			*item[i] = NULL;
			continue;
		}
		if (i == 0)
			own[i] = imap_fetch_envelope_dg(*msg, 1);
		else
			own[i] = imap_fetch_bodystructure_dg(*msg, i == 1, 1);
		*item[i] = own[i];
	}
}

/*
 * Does m's header hold an octet >= 0x80 (RFC 6532)?  The index knows for
 * the messages it took in since it keeps msg.hdr8; for the others the
 * header is read here, once: what is found is kept.  1 or 0 (0 too when
 * the file cannot be read: what follows finds that out).
 */
static int
fetch_hdr8(struct fetch_run *fr, const struct mmsg *m)
{
	struct hdr8_put *hp;
	unsigned char in[8192];
	ssize_t n = 0, i;
	off_t off = 0;
	int fd, bol = 1, r = -1;

	if (m->hdr8 != -1)
		return m->hdr8;
	if ((fd = mbox_msg_open(fr->s->mb, m->uid)) == -1)
		return 0;
	while (r == -1 && (n = pread(fd, in, sizeof(in), off)) > 0) {
		off += n;
		for (i = 0; i < n && r == -1; i++) {
			if (in[i] >= 0x80)
				r = 1;
			else if (in[i] == '\n' && bol)
				r = 0;		/* the empty line */
			else if (in[i] == '\n')
				bol = 1;
			else if (in[i] != '\r')
				bol = 0;
		}
	}
	close(fd);
	if (n < 0)
		return 0;	/* nothing kept: the next one tries again */
	if (r == -1)		/* no body: all of it was header */
		r = 0;
	hp = reallocarray(fr->h8puts, fr->nh8puts + 1, sizeof(*hp));
	if (hp == NULL)
		fatal("reallocarray");
	fr->h8puts = hp;
	hp[fr->nh8puts].uid = m->uid;
	hp[fr->nh8puts++].hdr8 = r;
	return r;
}

/*
 * RFC 6855 §7, §8: a session that did not ENABLE UTF8=ACCEPT (nor
 * IMAP4rev2) is given a message whose header holds 8-bit octets as a
 * surrogate (surrogate.c), in every item that shows the header's octets
 * or the size (unless imapd.surrogate is off, for backup tools).  NULL
 * for all others: the one look is at msg.hdr8.
 */
static struct mime_msg *
fetch_surrogate(struct fetch_run *fr, const struct mmsg *m,
    struct mime_msg **msg)
{
	struct mime_msg *sg;

	if (!fr->req->shows_raw || imap_names_utf8(fr->s) ||
	    !fr->s->conf->imapd.surrogate || fetch_hdr8(fr, m) != 1)
		return NULL;
	if (*msg == NULL && (*msg = fetch_load(fr, m->uid)) == NULL)
		return NULL;		/* gone: NIL, as below */
	if ((sg = imap_surrogate(*msg)) == NULL)
		fatal("surrogate");
	return sg;
}

/* PREVIEW (RFC 8970 §3): the one kept, else made now and kept (with
 * LAZY: NIL, it costs reading the message); NIL when it cannot be. */
static void
fetch_preview(struct fetch_run *fr, struct buf *b, uint32_t uid,
    const struct mmsg_ext *ext, struct mime_msg *msg)
{
	struct preview_put *pp;

	if (ext != NULL && ext->preview != NULL) {
		imap_put_string(b, ext->preview, strlen(ext->preview));
		return;
	}
	if (ext == NULL || msg == NULL || fr->req->preview_lazy) {
		buf_puts(b, "NIL");
		return;
	}
	fr->pvputs = realloc(fr->pvputs, (fr->npvputs + 1) *
	    sizeof(*fr->pvputs));
	if (fr->pvputs == NULL)
		fatal("realloc");
	pp = &fr->pvputs[fr->npvputs++];
	pp->uid = uid;
	pp->text = imap_preview(msg);
	imap_put_string(b, pp->text, strlen(pp->text));
}

static int
fetch_one(struct fetch_run *fr, uint32_t seq, const struct mmsg *m)
{
	struct imap_session *s = fr->s;
	struct fetch_req *r = fr->req;
	struct buf *b = imap_out(s);
	struct mime_msg *msg = NULL, *sg = NULL;
	const char *env = NULL, *bs = NULL, *body = NULL, *sep = "";
	char *own[3] = { NULL, NULL, NULL };
	char date[32];
	const char *sgdata = NULL;
	size_t sglen = 0;
	int flags_done = 0, uid_done = 0, modseq_done = 0, fd = -1, nocache;
	struct mmsg_ext ext;
	int have_ext = 0;
	size_t i;
	struct binary_part bins[FETCH_MAX_ITEMS];

	if (r->need_ext && (have_ext = mbox_msg_ext(s->mb, m->uid,
	    &ext)) == -1) {
		fr->failed = 1;
		return 0;
	}
	if (have_ext && ext.preview == NULL && fetch_wants(r, FI_PREVIEW) &&
	    !r->preview_lazy && msg == NULL)
		msg = fetch_load(fr, m->uid);	/* NULL: NIL (expunged) */
	if (r->need_cache)
		fetch_cached(fr, m, &msg, &env, &bs, &body);
	if ((sg = fetch_surrogate(fr, m, &msg)) != NULL)
		sgdata = mime_msg_data(sg, &sglen);
	nocache = r->need_cache && (env == NULL || bs == NULL || body == NULL);
	/* Only whole messages asked for: streamed from the file. */
	if (r->need_text && msg == NULL && !r->part_text && !nocache) {
		if ((fd = mbox_msg_open(s->mb, m->uid)) == -1 &&
		    mstore_errclass(mbox_store(s->mb)) != MSTORE_ENOTFOUND) {
			fr->failed = 1;
			return 0;
		}
		if (fd == -1)
			fr->gone++;
	} else if ((r->need_text && msg == NULL && (msg = fetch_load(fr,
	    m->uid)) == NULL) || nocache) {
		mime_msg_free(&sg);
		if (!fr->load_gone) {
			fr->failed = 1;
			mime_msg_free(&msg);
			return 0;
		}
		/* Expunged by another session since its row was read: what
		 * the index knows, NIL for the rest (RFC 2180 §4.1.3). */
		mime_msg_free(&msg);
		fr->gone++;
	}
	if (fetch_binary_open(fr, m->uid, bins) == -1) {
		mime_msg_free(&msg);
		mime_msg_free(&sg);
		if (fd != -1)
			close(fd);
		return 0;
	}
	if (r->need_cache && !nocache)
		fetch_downgrade(fr, m, &msg, &env, &bs, &body, own);
	fr->answered++;
	buf_printf(b, "* %u FETCH (", seq);
	if (s->uid_cmd) {
		buf_printf(b, "UID %u", m->uid);
		sep = " ";
		uid_done = 1;
	}
	for (i = 0; i < r->n; i++) {
		const struct fetch_item *it = &r->items[i];

		switch (it->kind) {
		case FI_UID:
			if (uid_done)
				continue;
			buf_printf(b, "%sUID %u", sep, m->uid);
			uid_done = 1;
			break;
		case FI_FLAGS:
			if (flags_done)
				continue;
			buf_printf(b, "%sFLAGS ", sep);
			imap_put_flags(b, m->flags, m->keywords, view_is_recent(&s->view, m->uid));
			flags_done = 1;
			break;
		case FI_INTERNALDATE:
			imap_format_datetime(m->internaldate, date);
			buf_printf(b, "%sINTERNALDATE \"%s\"", sep, date);
			break;
		case FI_SIZE:
			buf_printf(b, "%sRFC822.SIZE %lld", sep, sg != NULL ?
			    (long long)sglen : (long long)m->vsize);
			break;
		case FI_ENVELOPE:
			buf_printf(b, "%sENVELOPE %s", sep, env != NULL ? env :
			    "NIL");
			break;
		case FI_BODYSTRUCTURE:
			buf_printf(b, "%sBODYSTRUCTURE %s", sep, bs != NULL ?
			    bs : "NIL");
			break;
		case FI_BODY:
			buf_printf(b, "%sBODY %s", sep, body != NULL ? body :
			    "NIL");
			break;
		case FI_MODSEQ:
			if (modseq_done)
				continue;
			buf_printf(b, "%sMODSEQ (%llu)", sep,
			    (unsigned long long)m->modseq);
			modseq_done = 1;
			break;
		case FI_SAVEDATE:	/* RFC 8514 §4 */
			if (have_ext) {
				imap_format_datetime(ext.savedate, date);
				buf_printf(b, "%sSAVEDATE \"%s\"", sep, date);
			} else
				buf_printf(b, "%sSAVEDATE NIL", sep);
			break;
		case FI_EMAILID:	/* RFC 8474 §5.1 */
			if (have_ext)
				buf_printf(b, "%sEMAILID (%s)", sep,
				    ext.emailid);
			else
				buf_printf(b, "%sEMAILID NIL", sep);
			break;
		case FI_THREADID:	/* RFC 8474 §5.2: none kept */
			buf_printf(b, "%sTHREADID NIL", sep);
			break;
		case FI_PREVIEW:
			buf_printf(b, "%sPREVIEW ", sep);
			fetch_preview(fr, b, m->uid, have_ext ? &ext : NULL,
			    msg);
			break;
		case FI_SECTION:
			buf_puts(b, sep);
			if (sg != NULL)
				fetch_section(b, it, sg);
			else if (msg != NULL)
				fetch_section(b, it, msg);
			else if (fd != -1)
				fetch_stream(s, it, fd, m->vsize);
			else
				buf_printf(b, "%s NIL", it->label);
			break;
		case FI_BINARY:
			buf_puts(b, sep);
			if (sg != NULL && it->section[0] == '\0')
				put_item(b, it, sgdata, sglen, 1);
			else if (bins[i].fd == -1)
				buf_printf(b, "%s NIL", it->label);
			else
				imap_binary_send(s, it->label, &bins[i],
				    it->partial, it->offset, it->length);
			break;
		case FI_BINARY_SIZE:
			buf_printf(b, "%s%s %llu", sep, it->label,
			    sg != NULL && it->section[0] == '\0' ?
			    (unsigned long long)sglen :
			    (unsigned long long)bins[i].size);
			break;
		}
		sep = " ";
	}
	/* RFC 3501 §6.4.5: a \Seen set by this FETCH is reported in it. */
	if (!flags_done && fr->seen_set != NULL && fr->seen_set[seq]) {
		buf_printf(b, "%sFLAGS ", sep);
		imap_put_flags(b, m->flags, m->keywords, view_is_recent(&s->view, m->uid));
		flags_done = 1;
		sep = " ";
	}
	/* RFC 7162 §3.1.4.1: MODSEQ with FLAGS once CONDSTORE is on, and
	 * always with CHANGEDSINCE. */
	if (!modseq_done && ((flags_done && s->condstore) ||
	    r->have_changedsince))
		buf_printf(b, "%sMODSEQ (%llu)", sep,
		    (unsigned long long)m->modseq);
	buf_puts(b, ")\r\n");
	imap_out_done(s);
	if (have_ext)
		mmsg_ext_free(&ext);
	mime_msg_free(&msg);
	mime_msg_free(&sg);
	for (i = 0; i < 3; i++)
		free(own[i]);
	if (fd != -1)
		close(fd);
	for (i = 0; i < r->n; i++)
		imap_binary_close(&bins[i]);
	s->nfetch++;
	return s->broken ? 1 : 0;
}

static int
fetch_cb(const struct mmsg *m, void *arg)
{
	struct fetch_run *fr = arg;
	uint32_t seq = view_seq(&fr->s->view, m->uid);

	while (fr->next < fr->nseqs && fr->seqs[fr->next] < seq)
		fr->next++;
	if (seq == 0 || fr->next == fr->nseqs || fr->seqs[fr->next] != seq)
		return 0;
	return fetch_one(fr, seq, m);
}

static void
fetch_cache_flush(struct fetch_run *fr)
{
	size_t i;

	if (fr->nputs == 0 && fr->npvputs == 0 && fr->nh8puts == 0)
		return;
	if (mstore_begin(mbox_store(fr->s->mb)) == 0) {	/* maybe shared */
		for (i = 0; i < fr->nputs; i++)
			mbox_cache_put(fr->s->mb, fr->puts[i].uid,
			    fr->puts[i].env, fr->puts[i].bs, fr->puts[i].body);
		for (i = 0; i < fr->npvputs; i++)
			mbox_preview_put(fr->s->mb, fr->pvputs[i].uid,
			    fr->pvputs[i].text);
		for (i = 0; i < fr->nh8puts; i++)
			mbox_hdr8_put(fr->s->mb, fr->h8puts[i].uid,
			    fr->h8puts[i].hdr8);
		if (mstore_commit(mbox_store(fr->s->mb)) == -1)
			log_warn("sid=%s cache: %s", fr->s->id,
			    mstore_error(mbox_store(fr->s->mb)));
	}
	for (i = 0; i < fr->nputs; i++) {
		free(fr->puts[i].env);
		free(fr->puts[i].bs);
		free(fr->puts[i].body);
	}
	free(fr->puts);
	for (i = 0; i < fr->npvputs; i++)
		free(fr->pvputs[i].text);
	free(fr->pvputs);
	free(fr->h8puts);
}

/* Implicit \Seen (RFC 3501 §6.4.5) before the answers are made, so
 * they show it. */
static void
fetch_set_seen(struct fetch_run *fr)
{
	struct imap_session *s = fr->s;
	uint32_t *unseen;
	size_t i, n = 0;

	unseen = util_calloc(fr->nseqs + 1, sizeof(*unseen));
	fr->seen_set = util_calloc(s->view.n + 1, 1);
	for (i = 0; i < fr->nseqs; i++)
		if (!(s->view.msgs[fr->seqs[i] - 1].flags & MF_SEEN)) {
			unseen[n++] = fr->seqs[i];
			fr->seen_set[fr->seqs[i]] = 1;
		}
	if (n > 0 && imap_store_flags(s, unseen, n, '+', MF_SEEN, "", 0, 2,
	    NULL) == -1)
		log_err("sid=%s fetch \\Seen: %s", s->id,
		    mstore_error(s->store));
	free(unseen);
}

static void
fetch_vanished(struct imap_session *s, struct fetch_req *r,
    const char *set_text);

int
cmd_fetch(struct imap_session *s, const struct imap_arg *args, size_t nargs)
{
	struct fetch_req req;
	struct fetch_run fr;
	uint32_t *seqs, lo, hi;
	size_t n, from, to;
	int r;

	if (nargs < 2 || args[0].type != IMAP_ARG_ATOM ||
	    fetch_parse(s, &req, args, nargs) == -1) {
		imap_tagged(s, "BAD Invalid FETCH arguments");
		return -1;
	}
	if (req.have_changedsince || req.wants_modseq)
		imap_condstore_use(s);
	if (imap_set_resolve(s, args[0].str, s->uid_cmd, &seqs, &n) == -1)
		return -1;
	if (req.have_partial) {
		/* RFC 9394 §3.3: that page of the set's messages, in UID
		 * order ("-1:-50": the last 50) */
		partial_slice(&req.partial, n, &from, &to);
		memmove(seqs, seqs + from, (to - from) * sizeof(*seqs));
		n = to - from;
	}
	if (req.vanished)
		fetch_vanished(s, &req, args[0].str);
	memset(&fr, 0, sizeof(fr));
	fr.s = s;
	fr.req = &req;
	fr.seqs = seqs;
	fr.nseqs = n;
	/* RFC 4314 §4: \Seen is set only with "s". */
	if (req.sets_seen && !s->readonly && (s->rights & ACL_S) && n > 0)
		fetch_set_seen(&fr);
	r = 0;
	if (n > 0) {
		lo = s->view.msgs[seqs[0] - 1].uid;
		hi = s->view.msgs[seqs[n - 1] - 1].uid;
		r = mbox_messages(s->mb, lo, hi, req.have_changedsince ?
		    req.changedsince : 0, req.need_cache, fetch_cb, &fr);
	}
	fetch_cache_flush(&fr);
	free(fr.seen_set);
	free(seqs);
	if (fr.unknown_cte && r != -1 && !fr.failed) {
		imap_tagged(s, "NO [UNKNOWN-CTE] A part's "
		    "Content-Transfer-Encoding is unknown");
		return 0;
	}
	if (r == -1 || fr.failed) {
		log_err("sid=%s fetch: %s", s->id, r == -1 ?
		    mstore_error(s->store) : "cannot read a message");
		imap_tagged(s, "NO [SERVERBUG] Some messages could not be "
		    "fetched");
		return 0;
	}
	/* Rows gone before they were read, or files after: expunged by
	 * another session, which the client hears of after this command
	 * (RFC 3501 §7.4.1 forbids EXPUNGE during FETCH; RFC 5530). */
	if (fr.gone > 0 || (!req.have_changedsince && fr.answered < n))
		imap_tagged(s, "OK [EXPUNGEISSUED] Some messages were expunged "
		    "by another session");
	else
		imap_tagged(s, "OK FETCH completed");
	return 0;
}

/* RFC 7162 §3.2.6: UIDs in the set expunged since CHANGEDSINCE. */
static void
fetch_vanished(struct imap_session *s, struct fetch_req *r,
    const char *set_text)
{
	struct seqset set;

	if (strcmp(set_text, "$") == 0)		/* RFC 5182 */
		searchres_uidset(s, &set);
	else if (seqset_parse(set_text, UINT32_MAX, &set) == -1)
		return;
	if (imap_vanished_earlier(s, r->changedsince, &set) == -1)
		log_err("sid=%s vanished: %s", s->id, mstore_error(s->store));
	seqset_free(&set);
}

/* ---- NOTIFY's MessageNew attributes (RFC 5465 §5.2, notify.c) ---- */

/* FETCH's arguments for "1 atts". */
static int
fetch_parse_atts(struct imap_session *s, struct fetch_req *r,
    const struct imap_arg *atts)
{
	struct imap_arg args[2];

	memset(args, 0, sizeof(args));
	args[0].type = IMAP_ARG_ATOM;
	args[0].str = "1";
	args[0].len = 1;
	args[1] = *atts;
	return fetch_parse(s, r, args, 2);
}

int
imap_fetch_atts_check(struct imap_session *s, const struct imap_arg *atts)
{
	struct fetch_req *req = util_calloc(1, sizeof(*req));
	int r;

	r = atts->type == IMAP_ARG_LIST ? fetch_parse_atts(s, req, atts) : -1;
	free(req);
	return r;
}

int
imap_fetch_unsolicited(struct imap_session *s, const struct imap_arg *atts,
    uint32_t first, uint32_t last)
{
	struct fetch_req *req = util_calloc(1, sizeof(*req));
	struct fetch_run fr;
	uint32_t *seqs, i;
	int r = 0;

	if (first == 0 || first > last || last > s->view.n ||
	    fetch_parse_atts(s, req, atts) == -1) {
		free(req);
		return 0;
	}
	/* A notification never marks a message \Seen: every section is
	 * taken as BODY.PEEK (the client SHOULD NOT ask otherwise). */
	req->sets_seen = 0;
	seqs = util_calloc(last - first + 1, sizeof(*seqs));
	for (i = first; i <= last; i++)
		seqs[i - first] = i;
	memset(&fr, 0, sizeof(fr));
	fr.s = s;
	fr.req = req;
	fr.seqs = seqs;
	fr.nseqs = last - first + 1;
	if (mbox_messages(s->mb, s->view.msgs[first - 1].uid,
	    s->view.msgs[last - 1].uid, 0, req->need_cache, fetch_cb,
	    &fr) == -1)
		r = -1;
	fetch_cache_flush(&fr);
	free(seqs);
	free(req);
	return r;
}
