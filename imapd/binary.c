/*
 * binary.c: FETCH BINARY[section]<partial>, BINARY.PEEK and BINARY.SIZE
 * (RFC 3516): a part's body with its Content-Transfer-Encoding undone.
 *
 * Bounded memory whatever the message's size: the part is found by
 * reading the file line by line (its headers parsed by global/mime.h,
 * the multipart delimiters found by the same rules as there, RFC 2046
 * §5.1.1), and its body is decoded 32 KB at a time straight into the
 * connection.  The decoded size (for BINARY.SIZE, for the literal's
 * length, and whether it holds a NUL, which needs a literal8, RFC 3516
 * §4.3) takes one decoding pass, remembered for the session.
 *
 * Offsets here are the file's, not its CRLF form's: a part stored as
 * binary (APPEND with literal8) comes back exactly as stored; textual
 * content gets CRLF line ends as RFC 3516 §4.3 wants.
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
#include "session.h"

#define BIN_CHUNK	32768
#define BIN_HEADER_MAX	(256 * 1024)	/* header octets parsed; the rest
					   of a longer one is skipped */
#define BIN_CACHE	32		/* sizes remembered per session */

/* A buffered reader of the file's range [.., end), line by line. */
struct rd {
	int	 fd;
	off_t	 end;
	off_t	 pos;			/* the next line's start */
	off_t	 base;			/* buf holds [base, base + len) */
	size_t	 len;
	char	 buf[65536];
	char	 skip[8192];
};

/* One entity (RFC 2045): a message or a body part. */
struct bin_ent {
	off_t		 boff, end;	/* its body */
	int		 depth;
	int		 multipart, message, digest, text;
	enum mime_cte	 cte;
	char		 boundary[2048];	/* RFC 2046 §5.1.1: 1 to 70
					   octets; a longer one than this
					   gives no parts */
};

static int
rd_fill(struct rd *r, off_t at)
{
	ssize_t n;
	size_t want = sizeof(r->buf);

	if ((off_t)want > r->end - at)
		want = (size_t)(r->end - at);
	if ((n = pread(r->fd, r->buf, want, at)) == -1)
		return -1;
	r->base = at;
	r->len = (size_t)n;
	return 0;
}

/*
 * The line at r->pos: *p and *n its octets (at most half the buffer of
 * a longer line, whose rest is skipped), *term the octets of its end
 * ("\n" 1, "\r\n" 2, none 0).  1, 0 at the end, -1 on a read error.
 */
static int
rd_line(struct rd *r, const char **p, size_t *n, int *term)
{
	const char *nl;
	size_t avail;
	ssize_t got;
	off_t at, lim;

	if (r->pos >= r->end)
		return 0;
	lim = r->base + (off_t)r->len;
	if (lim > r->end)
		lim = r->end;		/* the buffer may reach beyond */
	if (r->pos < r->base || r->pos >= lim || (lim < r->end &&
	    lim - r->pos < (off_t)sizeof(r->buf) / 2)) {
		if (rd_fill(r, r->pos) == -1)
			return -1;
		if (r->len == 0)
			return 0;	/* the file is shorter */
		lim = r->base + (off_t)r->len;
	}
	*p = r->buf + (r->pos - r->base);
	avail = (size_t)(lim - r->pos);
	if ((nl = memchr(*p, '\n', avail)) != NULL) {
		*n = (size_t)(nl - *p) + 1;
		*term = *n >= 2 && nl[-1] == '\r' ? 2 : 1;
		r->pos += (off_t)*n;
		return 1;
	}
	*n = avail;
	*term = 0;
	for (at = lim; at < r->end; at += got) {
		size_t want = sizeof(r->skip);

		if ((off_t)want > r->end - at)
			want = (size_t)(r->end - at);
		got = pread(r->fd, r->skip, want, at);
		if (got <= 0)
			break;
		if ((nl = memchr(r->skip, '\n', (size_t)got)) != NULL) {
			at += nl - r->skip + 1;
			*term = nl > r->skip && nl[-1] == '\r' ? 2 : 1;
			break;
		}
	}
	r->pos = at < r->end ? at : r->end;
	return 1;
}

/* A Content-Type as global/mime.c takes it: type "/" subtype. */
static int
type_valid(const char *v)
{
	size_t n = strcspn(v, "/;");

	return n > 0 && v[n] == '/' && v[n + 1] != '\0' && v[n + 1] != ';';
}

/* What the header says; its fields parsed by global/mime. */
static void
ent_header(struct bin_ent *e, const char *hdr, size_t len, int in_digest)
{
	struct mime_msg *m;
	struct mime_part *p;
	const char *b;
	char *v;
	int typed;

	e->cte = MIME_CTE_7BIT;
	e->text = 1;
	if ((m = mime_msg_from_mem(hdr, len)) == NULL)
		return;
	p = mime_msg_root(m);
	v = mime_part_field(p, "Content-Type");
	typed = v != NULL && type_valid(v);
	free(v);
	if (!typed && in_digest) {	/* RFC 2046 §5.1.5 */
		e->message = 1;
		e->text = 0;
	} else {
		e->text = mime_part_is(p, "text", "*");
		e->message = mime_part_is(p, "message", "rfc822");
		e->multipart = mime_part_is(p, "multipart", "*");
		e->digest = mime_part_is(p, "multipart", "digest");
	}
	/* A multipart without a usable boundary has no parts (and no
	 * part 1 either): e->boundary stays empty. */
	if (e->multipart &&
	    (b = mime_part_param_get(p, MIME_PARAMS_TYPE, "boundary")) != NULL &&
	    util_strcpy(e->boundary, b, sizeof(e->boundary)) == -1)
		e->boundary[0] = '\0';
	v = mime_part_field(p, "Content-Transfer-Encoding");
	e->cte = mime_cte_parse(v);
	free(v);
	mime_msg_free(&m);
}

/* The entity [off, end): its header, read up to the empty line
 * (RFC 5322 §2.1; without one it is all header). */
static int
ent_load(struct rd *r, off_t off, off_t end, int depth, int in_digest,
    struct bin_ent *e)
{
	struct buf h;
	const char *p;
	size_t n;
	int term, got;

	memset(e, 0, sizeof(*e));
	e->depth = depth;
	e->end = end;
	e->boff = end;
	r->pos = off;
	r->end = end;
	buf_init(&h, 0);
	while ((got = rd_line(r, &p, &n, &term)) == 1) {
		if (n == (size_t)term && term > 0) {	/* the empty line */
			buf_append(&h, p, n);
			e->boff = r->pos;
			break;
		}
		if (h.len + n <= BIN_HEADER_MAX)
			buf_append(&h, p, n);
		if (term == 0 && h.len + 2 <= BIN_HEADER_MAX)
			buf_puts(&h, "\r\n");
	}
	if (got == -1) {
		buf_release(&h);
		return -1;
	}
	if (e->boff == end)
		buf_puts(&h, "\r\n");
	ent_header(e, h.data != NULL ? h.data : "", h.len, in_digest);
	buf_release(&h);
	if (depth >= MIME_MAX_DEPTH && (e->multipart || e->message)) {
		/* Opaque, as global/mime.c makes it. */
		e->multipart = e->message = e->text = 0;
	}
	return 0;
}

/* Part k (from 1) of multipart e: 1 found, 0 none, -1 error. */
static int
ent_child(struct rd *r, const struct bin_ent *e, uint32_t k,
    struct bin_ent *c)
{
	const char *p;
	size_t n, blen = strlen(e->boundary);
	off_t start = 0, lstart;
	uint32_t seen = 0;
	int kind, term, open = 0, got, prevterm = 0;

	if (blen == 0)
		return 0;
	r->pos = e->boff;
	r->end = e->end;
	for (;;) {
		lstart = r->pos;
		if ((got = rd_line(r, &p, &n, &term)) != 1)
			break;
		kind = mime_delimiter(p, n, e->boundary, blen);
		if (kind == 0) {
			prevterm = term;
			continue;
		}
		if (seen >= MIME_MAX_PARTS)
			break;		/* the open part runs to the end */
		if (open && ++seen == k) {
			/* The line end before a delimiter is the
			 * delimiter's. */
			off_t cend = lstart - start >= prevterm ?
			    lstart - prevterm : start;

			return ent_load(r, start, cend, e->depth + 1,
			    e->digest, c) == -1 ? -1 : 1;
		}
		open = kind == 1;
		if (kind == 2)
			break;
		start = r->pos;
		prevterm = term;
	}
	if (got == -1)
		return -1;
	if (open && ++seen == k)
		return ent_load(r, start, e->end, e->depth + 1, e->digest, c) ==
		    -1 ? -1 : 1;
	return 0;
}

/* Part k of a message: its multipart's k-th part, or the message
 * itself as its only part 1 (RFC 3501 §6.4.5). */
static int
msg_part(struct rd *r, struct bin_ent *msg, uint32_t k, struct bin_ent *out)
{
	if (msg->multipart)
		return ent_child(r, msg, k, out);
	if (k != 1)
		return 0;
	*out = *msg;
	return 1;
}

/* Part k inside p: a multipart's k-th part, or part k of the message a
 * message/rfc822 part holds. */
static int
sub_part(struct rd *r, struct bin_ent *p, uint32_t k, struct bin_ent *out)
{
	struct bin_ent inner;

	if (p->multipart)
		return ent_child(r, p, k, out);
	if (!p->message)
		return 0;
	if (ent_load(r, p->boff, p->end, p->depth + 1, 0, &inner) == -1)
		return -1;
	return msg_part(r, &inner, k, out);
}

/* section-binary (RFC 3516 §4.2): "" or part numbers.  The count, or
 * -1 when malformed. */
static int
section_path(const char *s, uint32_t *path, size_t max)
{
	size_t n = 0;
	uint64_t v;

	if (*s == '\0')
		return 0;
	for (;;) {
		if (*s < '1' || *s > '9' || n == max)
			return -1;
		for (v = 0; *s >= '0' && *s <= '9'; s++)
			if ((v = v * 10 + (uint64_t)(*s - '0')) > UINT32_MAX)
				return -1;
		path[n++] = (uint32_t)v;
		if (*s == '\0')
			return (int)n;
		if (*s++ != '.')
			return -1;
	}
}

int
imap_binary_section_valid(const char *section)
{
	uint32_t path[BINARY_MAX_PATH];

	return section_path(section, path, BINARY_MAX_PATH) != -1;
}

/* ---- the decoded size, remembered ---- */

static struct bin_cache {
	char		 sid[SESSION_ID_LEN + 1];
	char		 dir[256];
	uint32_t	 uidvalidity, uid;
	char		 section[BINARY_SECTION_MAX];
	uint64_t	 size;
	int		 nul;
} cache[BIN_CACHE];
static size_t cache_next;

static struct bin_cache *
cache_find(struct imap_session *s, uint32_t uid, const char *section)
{
	size_t i;

	for (i = 0; i < BIN_CACHE; i++)
		if (cache[i].uid == uid &&
		    cache[i].uidvalidity == s->view.uidvalidity &&
		    strcmp(cache[i].sid, s->id) == 0 &&
		    strcmp(cache[i].section, section) == 0 &&
		    strncmp(cache[i].dir, mbox_dir(s->mb),
		    sizeof(cache[i].dir) - 1) == 0)
			return &cache[i];
	return NULL;
}

static void
cache_put(struct imap_session *s, uint32_t uid, const char *section,
    uint64_t size, int nul)
{
	struct bin_cache *c = &cache[cache_next++ % BIN_CACHE];

	memset(c, 0, sizeof(*c));
	util_strcpy(c->sid, s->id, sizeof(c->sid));
	snprintf(c->dir, sizeof(c->dir), "%s", mbox_dir(s->mb));
	c->uidvalidity = s->view.uidvalidity;
	c->uid = uid;
	util_strcpy(c->section, section, sizeof(c->section));
	c->size = size;
	c->nul = nul;
}

void
imap_binary_forget(void)
{
	explicit_bzero(cache, sizeof(cache));
	cache_next = 0;
}

/* ---- decoding ---- */

/*
 * Decode the part, handing each piece to out (NULL: only count).
 * *size the decoded octets, *nul whether one is NUL.  0 or -1.
 */
static int
bin_decode(const struct binary_part *bp,
    int (*out)(const char *, size_t, void *), void *arg, uint64_t *size,
    int *nul)
{
	struct mime_decoder *d;
	char *in, *dec;
	off_t off = bp->boff;
	ssize_t n;
	size_t o;
	int r = 0;

	*size = 0;
	*nul = 0;
	if ((d = mime_decoder_new(bp->cte, bp->text)) == NULL)
		return -1;
	in = util_calloc(1, BIN_CHUNK);
	dec = util_calloc(1, mime_decoder_outmax(BIN_CHUNK));
	for (;;) {
		size_t want = BIN_CHUNK;

		if ((off_t)want > bp->end - off)
			want = (size_t)(bp->end - off);
		if (want == 0)
			break;
		if ((n = pread(bp->fd, in, want, off)) <= 0) {
			r = n == 0 ? 0 : -1;
			break;
		}
		off += n;
		o = mime_decoder_step(d, in, (size_t)n, dec);
		*size += o;
		if (!*nul && memchr(dec, '\0', o) != NULL)
			*nul = 1;
		if (out != NULL && o > 0 && out(dec, o, arg) != 0) {
			r = -1;
			break;
		}
	}
	if (r == 0) {
		o = mime_decoder_finish(d, dec);
		*size += o;
		if (!*nul && memchr(dec, '\0', o) != NULL)
			*nul = 1;
		if (out != NULL && o > 0)
			(void)out(dec, o, arg);
	}
	free(in);
	free(dec);
	mime_decoder_free(&d);
	return r;
}

int
imap_binary_locate(int fd, const char *section, struct binary_part *bp)
{
	uint32_t path[BINARY_MAX_PATH];
	struct bin_ent root, cur, next;
	struct rd *r;
	off_t fsize;
	int n, i, got;

	bp->exists = 0;
	bp->boff = bp->end = 0;
	bp->cte = MIME_CTE_7BIT;
	bp->text = 0;
	if ((n = section_path(section, path, BINARY_MAX_PATH)) == -1 ||
	    (fsize = lseek(fd, 0, SEEK_END)) == -1)
		return -1;
	if (n == 0) {
		/* The whole message: no encoding of its own to undo, in
		 * its CRLF form as BODY[] gives it. */
		bp->end = fsize;
		bp->exists = 1;
		return 0;
	}
	r = util_calloc(1, sizeof(*r));
	r->fd = fd;
	r->base = -1;
	if (ent_load(r, 0, fsize, 0, 0, &root) == -1) {
		free(r);
		return -1;
	}
	got = msg_part(r, &root, path[0], &cur);
	for (i = 1; got == 1 && i < n; i++) {
		got = sub_part(r, &cur, path[i], &next);
		cur = next;
	}
	free(r);
	if (got == -1)
		return -1;
	if (got == 1) {
		bp->boff = cur.boff;
		bp->end = cur.end;
		bp->cte = cur.cte;
		bp->text = cur.text;
		bp->exists = 1;
	}
	return 0;
}

int
imap_binary_measure(struct binary_part *bp)
{
	bp->size = 0;
	bp->nul = 0;
	if (!bp->exists)
		return 0;
	return bin_decode(bp, NULL, NULL, &bp->size, &bp->nul);
}

enum binary_result
imap_binary_open(struct imap_session *s, uint32_t uid, const char *section,
    struct binary_part *bp)
{
	struct bin_cache *c;

	memset(bp, 0, sizeof(*bp));
	if ((bp->fd = mbox_msg_open(s->mb, uid)) == -1)
		return mstore_errclass(mbox_store(s->mb)) ==
		    MSTORE_ENOTFOUND ? BINARY_GONE : BINARY_ERROR;
	if (imap_binary_locate(bp->fd, section, bp) == -1)
		goto fail;
	if (!bp->exists)	/* no such part: empty, as for BODY */
		return BINARY_OK;
	if (bp->cte == MIME_CTE_UNKNOWN)
		return BINARY_UNKNOWN_CTE;
	if ((c = cache_find(s, uid, section)) != NULL) {
		bp->size = c->size;
		bp->nul = c->nul;
		return BINARY_OK;
	}
	if (imap_binary_measure(bp) == -1)
		goto fail;
	cache_put(s, uid, section, bp->size, bp->nul);
	return BINARY_OK;
fail:
	log_err("sid=%s binary uid=%u: %s", s->id, uid, strerror(errno));
	imap_binary_close(bp);
	return BINARY_ERROR;
}

void
imap_binary_close(struct binary_part *bp)
{
	if (bp->fd != -1)
		close(bp->fd);
	bp->fd = -1;
}

/* Sending: the octets [skip, skip + want) of the decoded data. */
struct bin_send {
	struct imap_session *s;
	uint64_t	 pos, skip, want, sent;
};

static int
bin_send_piece(const char *data, size_t n, void *arg)
{
	struct bin_send *bs = arg;
	uint64_t a, e;

	a = bs->skip > bs->pos ? bs->skip - bs->pos : 0;
	e = bs->skip + bs->want - bs->pos < n ? bs->skip + bs->want - bs->pos :
	    n;
	if (bs->skip + bs->want <= bs->pos)
		e = 0;
	if (a < e) {
		buf_append(imap_out(bs->s), data + a, (size_t)(e - a));
		bs->sent += e - a;
	}
	bs->pos += n;
	imap_out_done(bs->s);
	if (bs->s->broken)
		return -1;
	return bs->sent == bs->want ? 1 : 0;
}

void
imap_binary_send(struct imap_session *s, const char *label,
    const struct binary_part *bp, int partial, uint64_t offset,
    uint64_t length)
{
	struct buf *b = imap_out(s);
	struct bin_send bs;
	uint64_t size = bp->exists ? bp->size : 0, dummy;
	int nul;

	memset(&bs, 0, sizeof(bs));
	bs.s = s;
	bs.want = size;
	if (partial) {		/* as BODY's <partial> (RFC 3501 §6.4.5) */
		bs.skip = offset < size ? offset : size;
		bs.want = size - bs.skip < length ? size - bs.skip : length;
	}
	buf_printf(b, "%s %s{%llu}\r\n", label, bp->nul ? "~" : "",
	    (unsigned long long)bs.want);
	if (bs.want > 0 && bp->exists)
		(void)bin_decode(bp, bin_send_piece, &bs, &dummy, &nul);
	for (; bs.sent < bs.want && !s->broken; bs.sent++)
		buf_putc(imap_out(s), ' ');	/* keep the syntax */
}
