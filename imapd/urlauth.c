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
 * Maildir and no other (Landlock), so a URL of another user's mailbox
 * is NIL here even when its access identifier ("authuser", "anonymous")
 * would let this user read it.  "submit+<user>" URLs are for the
 * submission server alone (RFC 4467 §3, RFC 4468 §5): NIL to IMAP
 * clients, the owner included, and given only in a session smtpd's
 * BURL opened for that user (s->submit: a "submit" token from the auth
 * service, smtpd/burl.c), which may do nothing but URLFETCH.
 */
#include <ctype.h>
#include <errno.h>
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
#include "session.h"

#define URLAUTH_URL_MAX		2048	/* octets of a URL */
#define URLFETCH_MAX_URLS	256	/* in one URLFETCH */
#define GENURLAUTH_MAX_URLS	64	/* in one GENURLAUTH */

enum urlauth_access {
	URLA_NONE,		/* no ;URLAUTH= */
	URLA_ANONYMOUS,
	URLA_AUTHUSER,
	URLA_USER,		/* user+<name> */
	URLA_SUBMIT,		/* submit+<name> */
};

struct urlauth_url {
	char		 user[320];	/* the URL's owner (enc-user) */
	char		 host[256];
	char		 mailbox[MAILDIR_NAME_MAX + 1];
	uint32_t	 uidvalidity;	/* 0: not given */
	uint32_t	 uid;
	char		 section[256];
	int		 partial;
	uint64_t	 offset, length;
	int64_t		 expire;	/* 0: none */
	enum urlauth_access access;
	char		 access_user[320];
	size_t		 rump_len;	/* the URL up to the access */
	int		 authorized;	/* ":mech:token" follows */
	char		 mech[32];
	unsigned char	 token[URLKEY_LEN];
	size_t		 token_len;
};

/* ---- parsing (RFC 5092 §11, RFC 4467 §9) ---- */

static const char *
find_ci(const char *s, const char *e, const char *needle)
{
	size_t n = strlen(needle);

	for (; s + n <= e; s++)
		if (strncasecmp(s, needle, n) == 0)
			return s;
	return NULL;
}

/* %XX-decode [s, e) (RFC 3986 §2.1); -1 when malformed, too long, or
 * holding a control character. */
static int
pct_decode(const char *s, const char *e, char *out, size_t size)
{
	size_t n = 0;
	unsigned char c;
	int hi, lo;

	for (; s < e; s++) {
		c = (unsigned char)*s;
		if (c == '%') {
			if (e - s < 3 || !isxdigit((unsigned char)s[1]) ||
			    !isxdigit((unsigned char)s[2]))
				return -1;
			hi = isdigit((unsigned char)s[1]) ? s[1] - '0' :
			    (tolower((unsigned char)s[1]) - 'a' + 10);
			lo = isdigit((unsigned char)s[2]) ? s[2] - '0' :
			    (tolower((unsigned char)s[2]) - 'a' + 10);
			c = (unsigned char)(hi * 16 + lo);
			s += 2;
		}
		if (c < 0x20 || c == 0x7f || n + 1 >= size)
			return -1;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return 0;
}

static int
parse_number(const char **p, const char *e, uint64_t max, uint64_t *v)
{
	const char *s = *p;

	*v = 0;
	if (s >= e || *s < '1' || *s > '9')
		return -1;
	for (; s < e && *s >= '0' && *s <= '9'; s++)
		if ((*v = *v * 10 + (uint64_t)(*s - '0')) > max)
			return -1;
	*p = s;
	return 0;
}

/* RFC 3339 date-time: 2006-05-01T12:00:00[.frac](Z|+hh:mm|-hh:mm). */
static int64_t
parse_datetime(const char *s, const char *e)
{
	char t[64];
	struct tm tm;
	int Y, M, D, h, m, sec, oh, om, n = 0;
	const char *p;
	int64_t v;

	if (e - s >= (ptrdiff_t)sizeof(t))
		return -1;
	memcpy(t, s, (size_t)(e - s));
	t[e - s] = '\0';
	if (sscanf(t, "%4d-%2d-%2d%*1[Tt]%2d:%2d:%2d%n", &Y, &M, &D, &h, &m,
	    &sec, &n) != 6 || n != 19 || M < 1 || M > 12 || D < 1 || D > 31 ||
	    h > 23 || m > 59 || sec > 60)
		return -1;
	for (p = t + 2; p < t + 19; p++)	/* digits where digits go */
		if (p - t != 4 && p - t != 7 && p - t != 10 && p - t != 13 &&
		    p - t != 16 && !isdigit((unsigned char)*p))
			return -1;
	p = t + 19;
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++)
			;
		if (!isdigit((unsigned char)p[-1]))
			return -1;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = Y - 1900;
	tm.tm_mon = M - 1;
	tm.tm_mday = D;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	v = (int64_t)timegm(&tm);
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
		return v;
	if ((*p != '+' && *p != '-') || strlen(p) != 6 ||
	    sscanf(p + 1, "%2d:%2d", &oh, &om) != 2 || oh > 23 || om > 59 ||
	    !isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]) ||
	    p[3] != ':' || !isdigit((unsigned char)p[4]) ||
	    !isdigit((unsigned char)p[5]))
		return -1;
	return *p == '+' ? v - (oh * 3600 + om * 60) : v + (oh * 3600 +
	    om * 60);
}

/* The message part: mailbox [;UIDVALIDITY=n] /;UID=n [/;SECTION=s]
 * [/;PARTIAL=o[.l]], in [p, e). */
static int
parse_messagepart(const char *p, const char *e, struct urlauth_url *u)
{
	const char *uid, *v, *end;
	char name[MAILDIR_NAME_MAX + 1];
	const char *why;
	uint64_t n;
	int utf8 = 0;
	size_t i;

	if ((uid = find_ci(p, e, "/;UID=")) == NULL)
		return -1;
	end = uid;
	if ((v = find_ci(p, uid, ";UIDVALIDITY=")) != NULL) {
		end = v;
		v += 13;
		if (parse_number(&v, e, UINT32_MAX, &n) == -1 || v != uid)
			return -1;
		u->uidvalidity = (uint32_t)n;
	}
	if (end == p || pct_decode(p, end, name, sizeof(name)) == -1)
		return -1;
	for (i = 0; name[i] != '\0'; i++)
		if ((unsigned char)name[i] >= 0x80)
			utf8 = 1;
	/* RFC 5092 §3.2: the name in UTF-8, the store's in modified
	 * UTF-7. */
	if (utf8 && utf8_to_mutf7(name, u->mailbox, sizeof(u->mailbox)) == -1)
		return -1;
	if (!utf8)
		util_strcpy(u->mailbox, name, sizeof(u->mailbox));
	maildir_name_normalize(u->mailbox);
	if (strcmp(u->mailbox, "INBOX") != 0 &&
	    maildir_name_valid(u->mailbox, &why) == -1)
		return -1;
	p = uid + 6;
	if (parse_number(&p, e, UINT32_MAX, &n) == -1)
		return -1;
	u->uid = (uint32_t)n;
	if (e - p >= 10 && strncasecmp(p, "/;SECTION=", 10) == 0) {
		p += 10;
		if ((end = find_ci(p, e, "/;PARTIAL=")) == NULL)
			end = e;
		if (end == p || pct_decode(p, end, u->section,
		    sizeof(u->section)) == -1)
			return -1;
		p = end;
	}
	if (e - p >= 10 && strncasecmp(p, "/;PARTIAL=", 10) == 0) {
		p += 10;
		u->partial = 1;
		u->length = UINT64_MAX;
		if (p >= e || !isdigit((unsigned char)*p))
			return -1;
		for (u->offset = 0; p < e && *p >= '0' && *p <= '9'; p++)
			if ((u->offset = u->offset * 10 + (uint64_t)(*p -
			    '0')) > UINT32_MAX)
				return -1;
		if (p < e && *p == '.') {
			p++;
			if (parse_number(&p, e, UINT32_MAX, &u->length) == -1)
				return -1;
		}
	}
	return p == e ? 0 : -1;
}

static int
hex_decode(const char *s, size_t n, unsigned char *out, size_t size)
{
	size_t i;
	int hi, lo;

	if (n % 2 != 0 || n / 2 > size)
		return -1;
	for (i = 0; i < n; i += 2) {
		if (!isxdigit((unsigned char)s[i]) ||
		    !isxdigit((unsigned char)s[i + 1]))
			return -1;
		hi = isdigit((unsigned char)s[i]) ? s[i] - '0' :
		    tolower((unsigned char)s[i]) - 'a' + 10;
		lo = isdigit((unsigned char)s[i + 1]) ? s[i + 1] - '0' :
		    tolower((unsigned char)s[i + 1]) - 'a' + 10;
		out[i / 2] = (unsigned char)(hi * 16 + lo);
	}
	return 0;
}

/*
 * A full IMAP URL naming a message or a part of one, with ;URLAUTH=
 * (and its ":mech:token" when it is an authorized URL, else a rump).
 * 0, or -1 for anything else.
 */
static int
urlauth_parse(const char *url, size_t len, struct urlauth_url *u)
{
	const char *p, *e = url + len, *srv, *at, *slash, *ua, *ex, *c, *a,
	    *colon;
	char host[256];
	size_t n;

	memset(u, 0, sizeof(*u));
	if (len > URLAUTH_URL_MAX || strlen(url) != len ||
	    strncasecmp(url, "imap://", 7) != 0)
		return -1;
	srv = url + 7;
	if ((slash = memchr(srv, '/', (size_t)(e - srv))) == NULL)
		return -1;
	/* iuserinfo "@" host [":" port]: the user is required here */
	for (at = NULL, p = srv; p < slash; p++)
		if (*p == '@')
			at = p;
	if (at == NULL)
		return -1;
	if ((c = find_ci(srv, at, ";AUTH=")) == NULL)
		c = at;
	if (c == srv || pct_decode(srv, c, u->user, sizeof(u->user)) == -1)
		return -1;
	if ((n = (size_t)(slash - at - 1)) == 0 || n >= sizeof(host))
		return -1;
	memcpy(host, at + 1, n);
	host[n] = '\0';
	if (host[0] != '[' && (c = strrchr(host, ':')) != NULL)
		host[c - host] = '\0';	/* the port */
	else if (host[0] == '[' && (c = strstr(host, "]:")) != NULL)
		host[c + 1 - host] = '\0';
	util_strcpy(u->host, host, sizeof(u->host));
	/* [;EXPIRE=date-time] ;URLAUTH=access [":" mech ":" token] */
	if ((ua = find_ci(slash, e, ";URLAUTH=")) == NULL)
		return -1;
	if ((ex = find_ci(slash, ua, ";EXPIRE=")) != NULL) {
		if ((u->expire = parse_datetime(ex + 8, ua)) <= 0)
			return -1;
	} else
		ex = ua;
	if (parse_messagepart(slash + 1, ex, u) == -1)
		return -1;
	a = ua + 9;
	colon = memchr(a, ':', (size_t)(e - a));
	u->rump_len = (size_t)((colon != NULL ? colon : e) - url);
	c = colon != NULL ? colon : e;
	if ((size_t)(c - a) == 9 && strncasecmp(a, "anonymous", 9) == 0)
		u->access = URLA_ANONYMOUS;
	else if ((size_t)(c - a) == 8 && strncasecmp(a, "authuser", 8) == 0)
		u->access = URLA_AUTHUSER;
	else if (c - a > 5 && strncasecmp(a, "user+", 5) == 0) {
		u->access = URLA_USER;
		a += 5;
	} else if (c - a > 7 && strncasecmp(a, "submit+", 7) == 0) {
		u->access = URLA_SUBMIT;
		a += 7;
	} else
		return -1;
	if ((u->access == URLA_USER || u->access == URLA_SUBMIT) &&
	    pct_decode(a, c, u->access_user, sizeof(u->access_user)) == -1)
		return -1;
	if (colon == NULL)
		return 0;	/* a rump */
	/* ":" uauth-mechanism ":" enc-urlauth (32*HEXDIG) */
	p = colon + 1;
	if ((c = memchr(p, ':', (size_t)(e - p))) == NULL || c == p ||
	    (size_t)(c - p) >= sizeof(u->mech))
		return -1;
	memcpy(u->mech, p, (size_t)(c - p));
	u->mech[c - p] = '\0';
	for (p = u->mech; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
			return -1;
	p = c + 1;
	if (e - p < 32 || hex_decode(p, (size_t)(e - p), u->token,
	    sizeof(u->token)) == -1)
		return -1;
	u->token_len = (size_t)(e - p) / 2;
	u->authorized = 1;
	return 0;
}

/* Is the name in a URL (its owner, or user+/submit+'s) this login?  The
 * full login, or its local part at the URL's host (RFC 4467 §7 writes
 * imap://joe@example.com/ for joe at example.com). */
static int
urlauth_is_user(const char *name, const char *host, const char *login)
{
	size_t n = strlen(name);

	if (strcasecmp(name, login) == 0)
		return 1;
	return strchr(name, '@') == NULL && strncasecmp(login, name, n) == 0 &&
	    login[n] == '@' && strcasecmp(login + n + 1, host) == 0;
}

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
	const char	*data;		/* BODY[section]<partial> */
	size_t		 len;
	char		*owned;
};

static void
urlauth_data_free(struct urlauth_data *d)
{
	free(d->owned);
	mime_msg_free(&d->msg);
	memset(d, 0, sizeof(*d));
}

/* May this session read what u names (apart from the key)?  NULL, or
 * why not (for the log). */
static const char *
urlauth_may(struct imap_session *s, const struct urlauth_url *u)
{
	if (!u->authorized)
		return "not an authorized URL";
	if (strcasecmp(u->mech, "INTERNAL") != 0)
		return "unknown mechanism";
	if (!urlauth_is_user(u->user, u->host, s->user))
		return "another user's mailbox";
	if (u->expire != 0 && (int64_t)time(NULL) >= u->expire)
		return "expired";	/* RFC 4467 §3.3 */
	switch (u->access) {
	case URLA_ANONYMOUS:
	case URLA_AUTHUSER:
		return NULL;
	case URLA_USER:
		return urlauth_is_user(u->access_user, u->host, s->user) ?
		    NULL : "for another user";
	case URLA_SUBMIT:	/* RFC 4468 §5: the submission server's, for
				   the user it authenticated */
		if (!s->submit)
			return "for the submission server";
		return urlauth_is_user(u->access_user, u->host, s->user) ?
		    NULL : "for another user's submission";
	case URLA_NONE:
		break;
	}
	return "no access identifier";
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
	const char *why;
	int exists, r = -1;

	memset(d, 0, sizeof(*d));
	if (urlauth_parse(url, len, &u) == -1) {
		why = "malformed";
		goto out;
	}
	if ((why = urlauth_may(s, &u)) != NULL)
		goto out;
	why = "no such mailbox";
	if (!mstore_exists(s->store, u.mailbox) ||
	    mbox_open(s->store, u.mailbox, &mb) == -1)
		goto out;
	why = "UIDVALIDITY changed";
	if (mbox_get_status(mb, &st) == -1 ||
	    (u.uidvalidity != 0 && u.uidvalidity != st.uidvalidity))
		goto out;
	why = "no key";
	if (urlkey_get(s->userdir, u.mailbox, st.uidvalidity, 0, key) != 0)
		goto out;
	urlauth_mac(key, url, u.rump_len, mac);
	explicit_bzero(key, sizeof(key));
	why = "bad token";
	if (u.token_len != URLKEY_LEN || CRYPTO_memcmp(mac, u.token,
	    URLKEY_LEN) != 0)
		goto out;
	why = "no such message";
	if ((d->msg = imap_msg_load(s, mb, u.uid)) == NULL)
		goto out;
	why = "no such part";
	d->part = section_part(d->msg, u.section, &exists);
	if (!exists || imap_fetch_section(d->msg, u.section, &d->data,
	    &d->len, &d->owned) == -1)
		goto out;
	d->whole = u.section[0] == '\0';
	if (u.partial) {	/* RFC 5092 §6: as FETCH's <partial> */
		d->part = NULL;	/* a slice is no part */
		if (u.offset >= d->len)
			d->len = 0;
		else {
			d->data += u.offset;
			d->len -= (size_t)u.offset;
			if (d->len > u.length)
				d->len = (size_t)u.length;
		}
	}
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
	int r;

	if (urlauth_resolve(s, url, strlen(url), &d) == -1)
		return -1;
	if ((off_t)d.len > s->conf->imapd.append_limit - *total)
		r = -2;
	else {
		*total += (off_t)d.len;
		r = util_write_all(fd, d.data, d.len) == -1 ? -3 : 0;
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
	const char *url = imap_arg_astring(ua), *mech = imap_arg_astring(ma);
	struct buf full;
	size_t i;
	int r;

	if (mech == NULL || strcasecmp(mech, "INTERNAL") != 0) {
		imap_tagged(s, "NO Unsupported URLAUTH mechanism");
		return -1;
	}
	if (url == NULL || urlauth_parse(url, ua->len, &u) == -1 ||
	    u.authorized) {
		imap_tagged(s, "NO Not a rump URLAUTH URL");
		return -1;
	}
	if (!urlauth_is_user(u.user, u.host, s->user)) {
		imap_tagged(s, "NO URL of another user's mailbox");
		return -1;
	}
	if (!mstore_exists(s->store, u.mailbox) ||
	    mbox_open(s->store, u.mailbox, &mb) == -1) {
		imap_tagged(s, "NO [NONEXISTENT] No such mailbox");
		return -1;
	}
	r = mbox_get_status(mb, &st);
	mbox_close(&mb);
	if (r == -1) {
		imap_store_no(s, "genurlauth");
		return -1;
	}
	if (u.uidvalidity != 0 && u.uidvalidity != st.uidvalidity) {
		imap_tagged(s, "NO UIDVALIDITY does not match");
		return -1;
	}
	if (urlkey_get(s->userdir, u.mailbox, st.uidvalidity, 1, key) != 0) {
		imap_errno_no(s, "genurlauth", errno, strerror(errno));
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
	char name[MAILDIR_NAME_MAX + 1];
	const char *mech;
	size_t i;

	if (nargs == 0) {
		if (urlkey_reset(s->userdir, NULL) == -1)
			return imap_errno_no(s, "resetkey", errno,
			    strerror(errno));
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
	if (!mstore_exists(s->store, name)) {
		imap_tagged(s, "NO [NONEXISTENT] No such mailbox");
		return 0;
	}
	if (urlkey_reset(s->userdir, name) == -1)
		return imap_errno_no(s, "resetkey", errno, strerror(errno));
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
	char *bs, *bin;
	size_t blen;

	buf_puts(b, "* URLFETCH ");
	put_url(b, url->str, url->len);
	if (urlauth_resolve(s, url->str, url->len, &d) == -1) {
		buf_puts(b, " NIL\r\n");	/* RFC 4467 §3.3 */
		imap_out_done(s);
		return;
	}
	if (!ext) {
		buf_putc(b, ' ');
		put_literal(b, d.data, d.len, 0);
	}
	/* RFC 5524 §3.2: each item in parentheses of its own */
	if (params & UF_BODYPARTSTRUCTURE) {
		bs = d.part != NULL ? imap_fetch_part_structure(d.part) : NULL;
		buf_printf(b, " (BODYPARTSTRUCTURE %s)", bs != NULL ? bs :
		    "NIL");
		free(bs);
	}
	if (params & UF_BODY) {
		buf_puts(b, " (BODY ");
		put_literal(b, d.data, d.len, 0);
		buf_putc(b, ')');
	}
	if (params & UF_BINARY) {
		buf_puts(b, " (BINARY ");
		bin = d.part != NULL ? urlfetch_decode(d.part, d.whole,
		    d.data, d.len, &blen) : NULL;
		if (bin == NULL)
			buf_puts(b, "NIL");
		else
			put_literal(b, bin, blen, 1);
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
