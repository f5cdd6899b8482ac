/*
 * URLAUTH (RFC 4467): GENURLAUTH, RESETKEY, URLFETCH, with URLFETCH's
 * BODYPARTSTRUCTURE, BINARY and BODY of URLAUTH=BINARY (RFC 5524); and
 * the check CATENATE makes of a URLAUTH-authorized URL (RFC 4469 §3).
 *
 *	imap://user@host/mailbox[;UIDVALIDITY=n]/;UID=n[/;SECTION=s]
 *	    [/;PARTIAL=o[.l]][;EXPIRE=date-time];URLAUTH=access:INTERNAL:token
 *
 * The one mechanism is INTERNAL: token = HMAC-SHA-256 under the
 * mailbox's access key of the "rump" URL, everything before the ':'
 * that precedes the mechanism (RFC 4467 §2.3, §7), in hex.  The keys
 * are maildir/urlkey.c's, 256 random bits per mailbox in the user's
 * Maildir, bound to the mailbox's UIDVALIDITY.
 *
 * What a URL may name: a post-login process reaches its own user's
 * Maildir and those of the owners who share folders with it (Landlock,
 * acl.c), so a URL is its user's, naming one of that user's folders or
 * a folder shared with it that it may read ("r" at the time of the
 * fetch; see urlauth_may() for whose key signs it); another user's URL
 * is NIL here even when its access identifier ("authuser",
 * "anonymous") would let this user read it.  "submit+<user>" URLs are
 * for the submission server alone (RFC 4467 §3, RFC 4468 §5): NIL to IMAP
 * clients, the owner included, and given only in a session smtpd's
 * BURL opened for that user (s->submit: a "submit" token from the auth
 * service, smtpd/burl.c), which may do nothing but URLFETCH.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "../global/mime.h"
#include "../lib/log.h"
#include "../maildir/urlkey.h"
#include "acl.h"
#include "imapurl.h"
#include "session.h"

#define URLFETCH_MAX_URLS	256	/* in one URLFETCH */
#define GENURLAUTH_MAX_URLS	64	/* in one GENURLAUTH */

/* The INTERNAL token of a rump URL, under key. */
static void
urlauth_mac(const unsigned char key[URLKEY_LEN], const char *rump,
    size_t len, unsigned char mac[URLKEY_LEN])
{
	unsigned int maclen = URLKEY_LEN;

	if (HMAC(EVP_sha256(), key, URLKEY_LEN, (const unsigned char *)rump,
	    len, mac, &maclen) == NULL || maclen != URLKEY_LEN)
		memset(mac, 0, URLKEY_LEN);	/* matches no token */
}

/* A URL as a quoted string whatever its length (clients match the
 * URLs they sent; a literal only for what cannot be quoted). */
static void
put_url(struct buf *b, const char *url, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)url[i] < 0x20 ||
		    (unsigned char)url[i] >= 0x7f) {
			imap_put_string(b, url, len);
			return;
		}
	buf_putc(b, '"');
	for (i = 0; i < len; i++) {
		if (url[i] == '"' || url[i] == '\\')
			buf_putc(b, '\\');
		buf_putc(b, url[i]);
	}
	buf_putc(b, '"');
}

/* ---- what a URL names ---- */

/* The content a URL gives, its message kept while it is used. */
struct urlauth_data {
	struct mime_msg	*msg;
	struct mime_part *part;		/* numbered part (or the whole
					   message): else NULL */
	int		 whole;		/* the whole message (section "") */
	const char	*data;		/* BODY[section], all of it */
	size_t		 len;
	char		*owned;
	int		 partial;	/* ;PARTIAL=offset.length */
	uint64_t	 offset, length;
};

/* What the URL gives of data: all of it, or its ;PARTIAL= range. */
static void
urlauth_slice(const struct urlauth_data *d, const char **data, size_t *len)
{
	if (d->partial)		/* URL-PARTIAL (RFC 5550 §5) */
		imapurl_partial_apply(d->offset, d->length, data, len);
}

static void
urlauth_data_free(struct urlauth_data *d)
{
	free(d->owned);
	mime_msg_free(&d->msg);
	memset(d, 0, sizeof(*d));
}

/*
 * Whose URL, whose key.  RFC 4467 §1 and RFC 5092 §3.1: the URL's user
 * is the authorization identity under whose rights the URL is fetched,
 * and its mailbox is named in that user's namespace; RFC 4467's RESETKEY
 * keeps the keys in "the user's mailbox access key table".  So a URL is
 * its maker's: imap://bob@host/Other%20Users/ann@example.com/Projects/
 * ;UID=5... is bob's URL of ann's folder Projects (named as bob's LIST
 * shows it), signed with bob's key for that name (in bob's Maildir;
 * ann's RESETKEY does not touch it, nor does bob's session write ann's
 * keys) and fetched under bob's rights there as they are at the time
 * of the fetch: without "r" (RFC 4314) it is NIL.  A URL whose user is
 * the folder's owner (imap://ann@...) is ann's, and NIL to bob's
 * session as every other user's URL.
 */

/* May this session read what u names (apart from the key)?  NULL, or
 * why not (for the log). */
static const char *
urlauth_may(struct imap_session *s, const struct urlauth_url *u)
{
	if (!u->authorized)
		return "not an authorized URL";
	if (strcasecmp(u->mech, "INTERNAL") != 0)
		return "unknown mechanism";
	if (!imapurl_is_user(u->user, u->host, s->user))
		return "another user's URL";
	if (!imapurl_host_ours(u->host, s->conf->server.hostname, s->user))
		return "another server's URL";
	if (u->expire != 0 && (int64_t)time(NULL) >= u->expire)
		return "expired";	/* RFC 4467 §3.3 */
	switch (u->access) {
	case URLA_ANONYMOUS:
	case URLA_AUTHUSER:
		return NULL;
	case URLA_USER:
		return imapurl_is_user(u->access_user, u->host, s->user) ?
		    NULL : "for another user";
	case URLA_SUBMIT:	/* RFC 4468 §5: the submission server's, for
				   the user it authenticated */
		if (!s->submit)
			return "for the submission server";
		return imapurl_is_user(u->access_user, u->host, s->user) ?
		    NULL : "for another user's submission";
	case URLA_NONE:
		break;
	}
	return "no access identifier";
}

/*
 * The name the key of mailbox name (normalised) has in the user's table:
 * the name of one of its own folders, or "Other Users/<owner as the
 * auth service names it>/<folder>" for a shared one, so that a folder
 * has one key whatever case its owner's name was written in.  0, or -1
 * when it is no folder this user can see (RFC 4314 §4: "l" or "r").
 */
static int
urlauth_keyname(struct imap_session *s, const char *name, char *keyname,
    size_t size)
{
	struct imap_mbref r;
	int k, n;

	if ((k = imap_mbref(s, name, &r)) == -1 ||
	    !mstore_exists(r.st, r.name) ||
	    (k == 1 && !(r.rights & (ACL_L | ACL_R))))
		return -1;
	if (k == 0)
		return util_strcpy(keyname, r.name, size);
	n = snprintf(keyname, size, "%s%c%s%c%s", ACL_NS, MAILDIR_SEP,
	    r.owner, MAILDIR_SEP, r.name);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* The mailbox of a URL of this user, opened for reading when the user
 * may read it now (its own, or a shared one with "r": acl.c), and its
 * key's name.  0, or -1 with *no_r the NO to give. */
static int
urlauth_open(struct imap_session *s, const char *name, struct mbox **mb,
    char *keyname, size_t size, const char **no_r)
{
	if (imap_acl_open(s, name, ACL_R, 0, mb, NULL, no_r) == -1)
		return -1;
	if (urlauth_keyname(s, name, keyname, size) == -1) {
		*no_r = "NO [NONEXISTENT] No such mailbox";
		mbox_close(mb);
		return -1;
	}
	return 0;
}

/* The section's part (its leading numbers), or the whole message for a
 * section without numbers that is the whole ("") ; NULL otherwise. */
static struct mime_part *
section_part(struct mime_msg *m, const char *section, int *exists)
{
	uint32_t path[64];
	size_t n = 0;
	uint64_t v;

	*exists = 1;
	while (*section >= '1' && *section <= '9' && n < 64) {
		for (v = 0; *section >= '0' && *section <= '9'; section++)
			if ((v = v * 10 + (uint64_t)(*section - '0')) >
			    UINT32_MAX) {
				*exists = 0;
				return NULL;
			}
		path[n++] = (uint32_t)v;
		if (*section == '.')
			section++;
		else
			break;
	}
	if (n == 0)
		return *section == '\0' ? mime_msg_root(m) : NULL;
	if (mime_part_at(m, path, n) == NULL) {
		*exists = 0;
		return NULL;
	}
	/* "1.2" names a part; "1.2.MIME", "1.HEADER" do not */
	return *section == '\0' ? mime_part_at(m, path, n) : NULL;
}

/*
 * Check a URLAUTH-authorized URL for this session and load what it
 * names.  0 (d filled), -1 NIL (RFC 4467 §3.3: whatever the reason; it
 * is logged).
 */
static int
urlauth_resolve(struct imap_session *s, const char *url, size_t len,
    struct urlauth_data *d)
{
	struct urlauth_url u;
	struct mbox *mb = NULL;
	struct mbox_status st;
	unsigned char key[URLKEY_LEN], mac[URLKEY_LEN];
	char keyname[MAILDIR_NAME_MAX + 1];
	enum mstore_err err;
	const char *why, *no;
	int exists, r = -1;

	memset(d, 0, sizeof(*d));
	if (imapurl_parse(url, len, &u) == -1) {
		why = "malformed";
		goto out;
	}
	if ((why = urlauth_may(s, &u)) != NULL)
		goto out;
	why = "no such mailbox, or no right to read it";
	if (urlauth_open(s, u.mailbox, &mb, keyname, sizeof(keyname),
	    &no) == -1)
		goto out;
	why = "UIDVALIDITY changed";
	if (mbox_get_status(mb, &st) == -1 ||
	    (u.uidvalidity != 0 && u.uidvalidity != st.uidvalidity))
		goto out;
	why = "no key";
	if (urlkey_get(s->userdir, keyname, st.uidvalidity, 0, key,
	    &err) != 0)
		goto out;
	urlauth_mac(key, url, u.rump_len, mac);
	explicit_bzero(key, sizeof(key));
	why = "bad token";
	if (u.token_len != URLKEY_LEN || CRYPTO_memcmp(mac, u.token,
	    URLKEY_LEN) != 0)
		goto out;
	why = "no such message";
	if ((d->msg = imap_msg_load(s, mb, u.uid, NULL)) == NULL)
		goto out;
	why = "no such part";
	d->part = section_part(d->msg, u.section, &exists);
	if (!exists || imap_fetch_section(d->msg, u.section, &d->data,
	    &d->len, &d->owned) == -1)
		goto out;
	d->whole = u.section[0] == '\0';
	d->partial = u.partial;
	d->offset = u.offset;
	d->length = u.length;
	r = 0;
out:
	mbox_close(&mb);
	if (r == -1) {
		log_info("sid=%s user=%s urlauth refused: %s", s->id, s->user,
		    why);
		urlauth_data_free(d);
	}
	return r;
}

int
imap_urlauth_catenate(struct imap_session *s, const char *url, int fd,
    off_t *total)
{
	struct urlauth_data d;
	const char *data;
	size_t len;
	int r;

	if (urlauth_resolve(s, url, strlen(url), &d) == -1)
		return -1;
	data = d.data;
	len = d.len;
	urlauth_slice(&d, &data, &len);
	if ((off_t)len > s->conf->imapd.append_limit - *total)
		r = -2;
	else {
		*total += (off_t)len;
		r = mbox_append_write(s->append_mb, fd, data, len) == -1 ?
		    -3 : 0;
	}
	urlauth_data_free(&d);
	return r;
}

/* ---- GENURLAUTH (RFC 4467 §3.2) ---- */

/* The authorized URL for one rump, into b; 0, or -1 after a NO. */
static int
genurlauth_one(struct imap_session *s, const struct imap_arg *ua,
    const struct imap_arg *ma, struct buf *b)
{
	struct urlauth_url u;
	struct mbox *mb = NULL;
	struct mbox_status st;
	unsigned char key[URLKEY_LEN], mac[URLKEY_LEN];
	char keyname[MAILDIR_NAME_MAX + 1];
	const char *url = imap_arg_astring(ua), *mech = imap_arg_astring(ma);
	const char *no;
	enum mstore_err err;
	struct buf full;
	size_t i;
	int r;

	if (mech == NULL || strcasecmp(mech, "INTERNAL") != 0) {
		imap_tagged(s, "NO Unsupported URLAUTH mechanism");
		return -1;
	}
	if (url == NULL || imapurl_parse(url, ua->len, &u) == -1) {
		imap_tagged(s, "NO Malformed URLAUTH URL");
		return -1;
	}
	if (u.authorized) {
		imap_tagged(s, "NO Not a rump URLAUTH URL");
		return -1;
	}
	if (!imapurl_is_user(u.user, u.host, s->user)) {
		imap_tagged(s, "NO URL of another user's mailbox");
		return -1;
	}
	if (!imapurl_host_ours(u.host, s->conf->server.hostname, s->user)) {
		imap_tagged(s, "NO URL of another server");
		return -1;
	}
	/* only a URL the user may fetch itself ("r", RFC 4314) */
	if (urlauth_open(s, u.mailbox, &mb, keyname, sizeof(keyname),
	    &no) == -1) {
		imap_tagged(s, "%s", no);
		return -1;
	}
	if ((r = mbox_get_status(mb, &st)) == -1)
		imap_acl_store_no(s, mbox_store(mb), "genurlauth");
	mbox_close(&mb);
	if (r == -1)
		return -1;
	if (u.uidvalidity != 0 && u.uidvalidity != st.uidvalidity) {
		imap_tagged(s, "NO UIDVALIDITY does not match");
		return -1;
	}
	if (urlkey_get(s->userdir, keyname, st.uidvalidity, 1, key,
	    &err) != 0) {
		imap_errclass_no(s, "genurlauth", err, "Cannot keep the key");
		return -1;
	}
	urlauth_mac(key, url, u.rump_len, mac);
	explicit_bzero(key, sizeof(key));
	buf_init(&full, 0);
	buf_append(&full, url, ua->len);
	buf_puts(&full, ":INTERNAL:");
	for (i = 0; i < URLKEY_LEN; i++)
		buf_printf(&full, "%02x", mac[i]);
	buf_putc(b, ' ');
	put_url(b, full.data, full.len);
	buf_release(&full);
	return 0;
}

int
cmd_genurlauth(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	struct buf b;
	size_t i;

	if (nargs == 0 || nargs % 2 != 0 || nargs / 2 > GENURLAUTH_MAX_URLS) {
		imap_tagged(s, "BAD Usage: GENURLAUTH url mechanism ...");
		return -1;
	}
	for (i = 0; i < nargs; i++)
		if (imap_arg_astring(&args[i]) == NULL) {
			imap_tagged(s, "BAD Usage: GENURLAUTH url mechanism "
			    "...");
			return -1;
		}
	/* All or nothing: the untagged reply only once every URL is made. */
	buf_init(&b, 0);
	buf_puts(&b, "GENURLAUTH");
	for (i = 0; i < nargs; i += 2)
		if (genurlauth_one(s, &args[i], &args[i + 1], &b) == -1) {
			buf_release(&b);
			return 0;
		}
	imap_untagged(s, "%s", b.data);
	buf_release(&b);
	imap_tagged(s, "OK GENURLAUTH completed");
	return 0;
}

/* ---- RESETKEY (RFC 4467 §3.1) ---- */

int
cmd_resetkey(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	char name[MAILDIR_NAME_MAX + 1], keyname[MAILDIR_NAME_MAX + 1];
	enum mstore_err err;
	const char *mech;
	size_t i;

	if (nargs == 0) {
		if (urlkey_reset(s->userdir, NULL, &err) == -1)
			return imap_errclass_no(s, "resetkey", err,
			    "Cannot remove the keys");
		log_info("sid=%s user=%s resetkey all", s->id, s->user);
		imap_tagged(s, "OK All keys removed");
		return 0;
	}
	if (imap_mailbox_arg(s, &args[0], name, sizeof(name)) == -1)
		return -1;
	for (i = 1; i < nargs; i++) {
		if ((mech = imap_arg_astring(&args[i])) == NULL ||
		    args[i].type != IMAP_ARG_ATOM) {
			imap_tagged(s, "BAD Usage: RESETKEY [mailbox "
			    "[mechanism ...]]");
			return -1;
		}
		if (strcasecmp(mech, "INTERNAL") != 0) {
			imap_tagged(s, "NO Unsupported URLAUTH mechanism");
			return 0;
		}
	}
	/* the user's key of that name: of its own folder or of one shared
	 * with it (the key is the user's, whatever its rights there now) */
	if (urlauth_keyname(s, name, keyname, sizeof(keyname)) == -1) {
		imap_tagged(s, "NO [NONEXISTENT] No such mailbox");
		return 0;
	}
	if (urlkey_reset(s->userdir, keyname, &err) == -1)
		return imap_errclass_no(s, "resetkey", err,
		    "Cannot remove the key");
	log_info("sid=%s user=%s resetkey mailbox=%s", s->id, s->user,
	    log_str(name));
	/* RFC 4467 §3.1: the mechanisms the mailbox has now */
	imap_tagged(s, "OK [URLMECH INTERNAL] Key removed");
	return 0;
}

/* ---- URLFETCH (RFC 4467 §3.3, RFC 5524 §3) ---- */

#define UF_BODYPARTSTRUCTURE	0x01
#define UF_BINARY		0x02
#define UF_BODY			0x04

/* An URLFETCH argument: url, or ( url *param ) (RFC 5524 §5).  0, or
 * -1 after a BAD. */
static int
urlfetch_arg(struct imap_session *s, const struct imap_arg *a,
    const struct imap_arg **url, unsigned int *params, int *ext)
{
	unsigned int p;
	size_t i;

	*params = 0;
	*ext = a->type == IMAP_ARG_LIST;
	*url = *ext ? (a->nlist > 0 ? &a->list[0] : NULL) : a;
	if (*url == NULL || imap_arg_astring(*url) == NULL ||
	    (*url)->type == IMAP_ARG_LIST)
		goto bad;
	for (i = 1; *ext && i < a->nlist; i++) {
		if (imap_arg_atom_is(&a->list[i], "BODYPARTSTRUCTURE"))
			p = UF_BODYPARTSTRUCTURE;
		else if (imap_arg_atom_is(&a->list[i], "BINARY"))
			p = UF_BINARY;
		else if (imap_arg_atom_is(&a->list[i], "BODY"))
			p = UF_BODY;
		else
			goto bad;
		if (*params & p)	/* §3.1: each once */
			goto bad;
		*params |= p;
	}
	/* §3.1: BINARY and BODY are not asked for together */
	if ((*params & (UF_BINARY | UF_BODY)) == (UF_BINARY | UF_BODY))
		goto bad;
	return 0;
bad:
	imap_tagged(s, "BAD Usage: URLFETCH url / (url [BODYPARTSTRUCTURE] "
	    "[BINARY / BODY]) ...");
	return -1;
}

/* A part with its Content-Transfer-Encoding undone (RFC 3516's BINARY),
 * or NULL (an encoding not known: NIL, RFC 5524 §3.2).  malloc'd. */
static char *
urlfetch_decode(struct mime_part *p, int whole, const char *data,
    size_t len, size_t *out_len)
{
	struct mime_decoder *dec;
	const char *body;
	char *cte, *out;
	enum mime_cte e;
	size_t blen, n;

	if (whole || mime_part_is(p, "multipart", "*") ||
	    mime_part_message(p) != NULL) {
		/* a message or a multipart: nothing to decode (RFC 2045
		 * §6.4: they are 7bit, 8bit or binary) */
		out = util_calloc(1, len + 1);
		memcpy(out, data, len);
		*out_len = len;
		return out;
	}
	cte = mime_part_field(p, "Content-Transfer-Encoding");
	e = mime_cte_parse(cte);
	free(cte);
	if (e == MIME_CTE_UNKNOWN ||
	    (dec = mime_decoder_new(e, mime_part_is(p, "text", "*"))) == NULL)
		return NULL;
	body = mime_part_body(p, &blen);
	out = util_calloc(1, mime_decoder_outmax(blen) +
	    mime_decoder_outmax(0) + 1);
	n = mime_decoder_step(dec, body, blen, out);
	n += mime_decoder_finish(dec, out + n);
	mime_decoder_free(&dec);
	*out_len = n;
	return out;
}

static void
put_literal(struct buf *b, const char *data, size_t len, int binary)
{
	buf_printf(b, "%s{%zu}\r\n", binary && memchr(data, '\0', len) !=
	    NULL ? "~" : "", len);
	buf_append(b, data, len);
}

static void
urlfetch_one(struct imap_session *s, const struct imap_arg *url,
    unsigned int params, int ext)
{
	struct buf *b = imap_out(s);
	struct urlauth_data d;
	const char *data, *bdata;
	char *bs, *bin;
	size_t len, blen;

	buf_puts(b, "* URLFETCH ");
	put_url(b, url->str, url->len);
	if (urlauth_resolve(s, url->str, url->len, &d) == -1) {
		buf_puts(b, " NIL\r\n");	/* RFC 4467 §3.3 */
		imap_out_done(s);
		return;
	}
	data = d.data;
	len = d.len;
	urlauth_slice(&d, &data, &len);
	if (!ext) {
		buf_putc(b, ' ');
		put_literal(b, data, len, 0);
	}
	/* RFC 5524 §3.2: each item in parentheses of its own.  With
	 * ;PARTIAL= the structure is still the part's (the range is of its
	 * content, the part what it is), BODY the range of the part as
	 * stored, and BINARY the range of its decoded content, as FETCH's
	 * BINARY[section]<partial> (RFC 3516 §4.2). */
	if (params & UF_BODYPARTSTRUCTURE) {
		bs = d.part != NULL ? imap_fetch_part_structure(d.part) : NULL;
		buf_printf(b, " (BODYPARTSTRUCTURE %s)", bs != NULL ? bs :
		    "NIL");
		free(bs);
	}
	if (params & UF_BODY) {
		buf_puts(b, " (BODY ");
		put_literal(b, data, len, 0);
		buf_putc(b, ')');
	}
	if (params & UF_BINARY) {
		buf_puts(b, " (BINARY ");
		bin = d.part != NULL ? urlfetch_decode(d.part, d.whole,
		    d.data, d.len, &blen) : NULL;
		if (bin == NULL)
			buf_puts(b, "NIL");
		else {
			bdata = bin;
			urlauth_slice(&d, &bdata, &blen);
			put_literal(b, bdata, blen, 1);
		}
		free(bin);
		buf_putc(b, ')');
	}
	buf_puts(b, "\r\n");
	urlauth_data_free(&d);
	imap_out_done(s);
}

int
cmd_urlfetch(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	const struct imap_arg *url;
	unsigned int params;
	size_t i;
	int ext;

	if (nargs == 0 || nargs > URLFETCH_MAX_URLS) {
		imap_tagged(s, "BAD Usage: URLFETCH url ...");
		return -1;
	}
	for (i = 0; i < nargs; i++)	/* all checked before any answer */
		if (urlfetch_arg(s, &args[i], &url, &params, &ext) == -1)
			return -1;
	for (i = 0; i < nargs && !s->broken; i++) {
		(void)urlfetch_arg(s, &args[i], &url, &params, &ext);
		urlfetch_one(s, url, params, ext);
	}
	imap_tagged(s, "OK URLFETCH completed");
	return 0;
}
