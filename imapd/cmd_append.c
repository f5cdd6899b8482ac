/*
 * APPEND (RFC 3501 §6.3.11) with MULTIAPPEND (RFC 3502), CATENATE
 * (RFC 4469) and literal8 (RFC 3516 §4.4).
 *
 *	APPEND mailbox 1*( [(flags)] [date-time] message )
 *	message = literal / literal8 / CATENATE ( 1*part ) /
 *	    UTF8 ( literal8 )
 *	part = TEXT literal / URL "/mailbox;UIDVALIDITY=n/;UID=n/;SECTION=s"
 *	    / URL ";UID=n/;SECTION=s" (the selected mailbox)
 *	    / UTF8 ( literal8 )
 *
 * The UTF8 forms (RFC 6855 §4: utf8-literal = "UTF8" SP "(" literal8
 * ")", append-data =/ utf8-literal, cat-part =/ utf8-literal) are taken
 * after ENABLE UTF8=ACCEPT only (§3), and hold a plain literal too.
 *
 * Each message literal and each TEXT literal goes, as it arrives, into
 * a file of its own in the target mailbox's tmp/ (session.c reads it;
 * here is said which literals and within which limits).  Once the
 * command is whole, CATENATE's messages are put together (its URLs
 * name messages of mailboxes on this server the user may read: its
 * own, others' shared with it with "r", the selected one for a
 * relative URL; nothing else), and every message is added in one transaction of the store:
 * all of them or none (RFC 3502 §6.3.11).  A binary message (literal8)
 * is stored as it came, and so is one in RFC 6855 §4's UTF8 ( ... ).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "../global/mime.h"
#include "../lib/log.h"
#include "imapurl.h"
#include "acl.h"
#include "session.h"

#define APPEND_MAX_MESSAGES	32	/* in one APPEND (README) */
#define CATENATE_MAX_PARTS	64	/* in one CATENATE */
#define URL_MAX			1024	/* octets of a CATENATE URL */

/* One message of the command. */
struct append_msg {
	unsigned int	 flags;
	char		*keywords;
	int64_t		 idate;
	const struct imap_arg *data;	/* LITERAL_FILE, or CATENATE's list */
	int		 catenate;
	char		 tmp[4096];	/* CATENATE: the file made of it */
};

/* ---- while the literals arrive (session.c) ---- */

/* Is the list the part list of a CATENATE, open and waiting for the
 * value after TEXT or URL?  Then its last element is that word ("TEXT"
 * too for the literal of a UTF8 ( ) part, whose list is open, empty). */
static const char *
catenate_pending(const struct imap_arg *args, size_t n)
{
	const struct imap_arg *l, *last;

	if (n < 2 || args[n - 1].type != IMAP_ARG_LIST ||
	    !imap_arg_atom_is(&args[n - 2], "CATENATE"))
		return NULL;
	l = &args[n - 1];
	if (l->nlist == 0)
		return NULL;
	if (imap_arg_atom_is(&l->list[l->nlist - 1], "TEXT"))
		return "TEXT";
	if (imap_arg_atom_is(&l->list[l->nlist - 1], "URL"))
		return "URL";
	last = &l->list[l->nlist - 1];
	if (l->nlist >= 2 && last->type == IMAP_ARG_LIST &&
	    last->nlist == 0 && imap_arg_atom_is(&l->list[l->nlist - 2],
	    "UTF8"))
		return "TEXT";
	return NULL;
}

/* The octets of a CATENATE's literals so far, UTF8 ( ) parts' too. */
static off_t
catenate_literals(const struct imap_arg *l)
{
	const struct imap_arg *a;
	off_t sum = 0;
	size_t i;

	for (i = 0; i < l->nlist; i++) {
		a = &l->list[i];
		if (a->type == IMAP_ARG_LIST && a->nlist == 1)
			a = &a->list[0];
		if (a->type == IMAP_ARG_LITERAL_FILE)
			sum += (off_t)a->len;
	}
	return sum;
}

int
imap_append_to_file(struct imap_session *s)
{
	const struct imap_arg *args;
	const char *w;
	size_t n;

	args = imap_parser_args(s->parser, &n);
	/* A URL given as a literal is a string, held in memory. */
	return (w = catenate_pending(args, n)) == NULL || strcmp(w, "TEXT") ==
	    0;
}

/* Messages begun so far: literals and CATENATEs at the top level, and
 * UTF8 ( ) lists that hold their literal (RFC 6855 §4). */
static size_t
messages_so_far(const struct imap_arg *args, size_t n)
{
	size_t i, m = 0;

	for (i = 1; i < n; i++)	/* after the mailbox name */
		if (args[i].type == IMAP_ARG_LITERAL_FILE ||
		    imap_arg_atom_is(&args[i], "CATENATE") ||
		    (imap_arg_atom_is(&args[i], "UTF8") && i + 1 < n &&
		    args[i + 1].type == IMAP_ARG_LIST &&
		    args[i + 1].nlist > 0))
			m++;
	return m;
}

const char *
imap_append_check(struct imap_session *s, size_t len)
{
	const struct imap_arg *args, *l;
	size_t n;
	off_t sum = (off_t)len;

	args = imap_parser_args(s->parser, &n);
	if ((off_t)len > s->conf->imapd.append_limit)
		return "NO [TOOBIG] Message too large";
	if (catenate_pending(args, n) != NULL) {
		/* The TEXT parts of one message are within its limit
		 * together (RFC 4469 §3: APPENDLIMIT is the whole's). */
		l = &args[n - 1];
		sum += catenate_literals(l);
		if (sum > s->conf->imapd.append_limit)
			return "NO [TOOBIG] Message too large";
		if (l->nlist / 2 >= CATENATE_MAX_PARTS)
			return "NO [LIMIT] Too many CATENATE parts";
	} else if (len == 0)
		return "NO Empty message";
	else if (messages_so_far(args, n) >= APPEND_MAX_MESSAGES)
		return "NO [LIMIT] Too many messages in one APPEND";
	return NULL;
}

const char *
imap_append_quota_check(struct imap_session *s, size_t len)
{
	const struct imap_arg *args, *l;
	size_t n, i;
	uint64_t sum = len;

	/* RFC 9208 §4.3.1, before the client sends what cannot be kept:
	 * this literal with the messages before it (checked again at the
	 * end, with CATENATE's URLs), against the quota root of the
	 * target: its owner's when it is a shared folder. */
	args = imap_parser_args(s->parser, &n);
	if (catenate_pending(args, n) != NULL) {
		l = &args[n - 1];
		sum += (uint64_t)catenate_literals(l);
	}
	for (i = 0; i < n; i++)
		if (args[i].type == IMAP_ARG_LITERAL_FILE)
			sum += args[i].len;
	if (imap_quota_over(s, mbox_store(s->append_mb), sum,
	    messages_so_far(args, n) + (catenate_pending(args, n) == NULL)))
		return "NO [OVERQUOTA] Quota exceeded";
	return NULL;
}

static void
unlink_files(const struct imap_arg *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (a[i].type == IMAP_ARG_LITERAL_FILE)
			unlink(a[i].str);
		else if (a[i].type == IMAP_ARG_LIST)
			unlink_files(a[i].list, a[i].nlist);
	}
}

void
imap_append_unlink(struct imap_session *s)
{
	const struct imap_arg *args;
	size_t n;

	/* Only LITERAL_FILE arguments hold paths, and only the session
	 * makes them: names it chose in the mailbox's tmp/. */
	args = imap_parser_args(s->parser, &n);
	unlink_files(args, n);
}

/* ---- CATENATE's URLs (RFC 4469 §3, RFC 5092) ---- */

struct imap_url {
	char		 mailbox[MAILDIR_NAME_MAX + 1];
	uint32_t	 uidvalidity;	/* 0: not given */
	uint32_t	 uid;
	char		 section[256];
	int		 partial;
	uint64_t	 offset, length;
};

/* "name" -> value text up to the next "/" ... */
static int
url_number(const char **p, uint64_t max, uint64_t *v)
{
	const char *s = *p;

	*v = 0;
	if (*s < '1' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++)
		if ((*v = *v * 10 + (uint64_t)(*s - '0')) > max)
			return -1;
	*p = s;
	return 0;
}

static int url_parse_msg(const char *, struct imap_url *);

static const char *
strcasestr_n(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay != '\0'; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return hay;
	return NULL;
}

/*
 * The absolute-path form of an IMAP URL (RFC 5092 §6, as RFC 4469 §5's
 * examples use it): "/" enc-mailbox [";UIDVALIDITY=" n] "/;UID=" n
 * ["/;SECTION=" enc-section] ["/;PARTIAL=" o ["." l]].  A full
 * "imap://" URL, URLAUTH and anything else: -1.
 */
static int
url_parse(const char *url, struct imap_url *u)
{
	const char *p, *uid, *v, *e;
	uint64_t n;

	memset(u, 0, sizeof(u[0]));
	if (url[0] != '/' || strlen(url) > URL_MAX ||
	    (uid = strcasestr_n(url, "/;UID=")) == NULL)
		return -1;
	e = uid;
	if ((v = strcasestr_n(url, ";UIDVALIDITY=")) != NULL && v < uid) {
		e = v;
		p = v + 13;
		if (url_number(&p, UINT32_MAX, &n) == -1 || p != uid)
			return -1;
		u->uidvalidity = (uint32_t)n;
	}
	if (imapurl_mailbox(url + 1, e, u->mailbox, sizeof(u->mailbox)) ==
	    -1)
		return -1;
	return url_parse_msg(uid + 1, u);
}

/*
 * The message part of a URL, from ";UID=": ";UID=" n ["/;SECTION=" s]
 * ["/;PARTIAL=" o ["." l]].  Alone, it is a relative URL (RFC 5092 §7.1,
 * RFC 3986 §5.2), resolved against the selected mailbox (RFC 4469 §3).
 */
static int
url_parse_msg(const char *p, struct imap_url *u)
{
	const char *e;
	uint64_t n;

	if (strncasecmp(p, ";UID=", 5) != 0 || strlen(p) > URL_MAX)
		return -1;
	p += 5;
	if (url_number(&p, UINT32_MAX, &n) == -1)
		return -1;
	u->uid = (uint32_t)n;
	if (strncasecmp(p, "/;SECTION=", 10) == 0) {
		p += 10;
		if ((e = strcasestr_n(p, "/;PARTIAL=")) == NULL)
			e = p + strlen(p);
		if (imapurl_pct_decode(p, e, u->section,
		    sizeof(u->section)) == -1)
			return -1;
		p = e;
	}
	if (strncasecmp(p, "/;PARTIAL=", 10) == 0) {
		p += 10;
		u->partial = 1;
		if (imapurl_partial_parse(&p, p + strlen(p), &u->offset,
		    &u->length) == -1)
			return -1;
	}
	return *p == '\0' ? 0 : -1;
}

/* Does the section's part (its leading numbers) exist? */
static int
section_part_exists(struct mime_msg *m, const char *section)
{
	uint32_t path[64];
	size_t n = 0;
	uint64_t v;

	while (*section >= '1' && *section <= '9' && n < 64) {
		for (v = 0; *section >= '0' && *section <= '9'; section++)
			if ((v = v * 10 + (uint64_t)(*section - '0')) >
			    UINT32_MAX)
				return 0;
		path[n++] = (uint32_t)v;
		if (*section == '.')
			section++;
	}
	return n == 0 || mime_part_at(m, path, n) != NULL;
}

/*
 * What a URL names, written to fd (BODY[section] as FETCH gives it);
 * *total counts the octets against APPENDLIMIT.  0; -1 BADURL; -2 too
 * big; -3 could not write (the store of s->append_mb says why).
 */
static int
catenate_url(struct imap_session *s, const char *url, int fd, off_t *total)
{
	struct imap_url u;
	struct mbox *mb = NULL;
	struct mbox_status st;
	struct mime_msg *m = NULL;
	const char *data, *no;
	char *owned = NULL;
	size_t len;
	int r = -1;

	/* RFC 4469 §3: a URLAUTH-authorized URL, checked as URLFETCH
	 * checks it (urlauth.c) */
	if (strncasecmp(url, "imap://", 7) == 0)
		return imap_urlauth_catenate(s, url, fd, total);
	memset(&u, 0, sizeof(u));
	if (url[0] == ';') {
		/* RFC 4469 §3: relative to the selected mailbox, which the
		 * user may read (SELECT and EXAMINE needed "r"). */
		if (s->mb == NULL || !(s->rights & ACL_R) ||
		    url_parse_msg(url, &u) == -1 ||
		    mbox_open(mbox_store(s->mb), mbox_name(s->mb), &mb) == -1)
			return -1;
	} else {
		/* The user's own folder, or another user's it may read
		 * (RFC 4314 §4: "r"; acl.c); the store checks the name
		 * again before it becomes a path. */
		if (url_parse(url, &u) == -1 || imap_acl_open(s, u.mailbox,
		    ACL_R, 0, &mb, NULL, &no) == -1)
			return -1;
	}
	if (mbox_get_status(mb, &st) == -1 ||
	    (u.uidvalidity != 0 && u.uidvalidity != st.uidvalidity))
		goto out;
	m = imap_msg_load(s, mb, u.uid, NULL);
	if (m == NULL || !section_part_exists(m, u.section) ||
	    imap_fetch_section(m, u.section, &data, &len, &owned) == -1)
		goto out;
	if (u.partial)		/* URL-PARTIAL (RFC 5550 §5) */
		imapurl_partial_apply(u.offset, u.length, &data, &len);
	if ((off_t)len > s->conf->imapd.append_limit - *total) {
		r = -2;
		goto out;
	}
	*total += (off_t)len;
	r = mbox_append_write(s->append_mb, fd, data, len) == -1 ? -3 : 0;
out:
	free(owned);
	mime_msg_free(&m);
	mbox_close(&mb);
	return r;
}

/* A TEXT part's file, appended to fd: as catenate_url(), -4 when the
 * literal's file could not be read. */
static int
catenate_text(struct imap_session *s, const struct imap_arg *a, int fd,
    off_t *total)
{
	char buf[65536];
	ssize_t n;
	int in, r = 0;

	if ((off_t)a->len > s->conf->imapd.append_limit - *total)
		return -2;
	*total += (off_t)a->len;
	if ((in = open(a->str, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -4;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (mbox_append_write(s->append_mb, fd, buf, (size_t)n) ==
		    -1) {
			r = -3;
			break;
		}
	if (n == -1)
		r = -4;
	close(in);
	return r;
}

/* A URL safe to echo in [BADURL] (RFC 4469 §6 url-resp-text). */
static void
badurl_text(const char *url, char *out, size_t size)
{
	size_t i;

	snprintf(out, size, "%.200s", url);
	for (i = 0; out[i] != '\0'; i++)
		if ((unsigned char)out[i] < 0x21 || out[i] == ']' ||
		    (unsigned char)out[i] >= 0x7f)
			out[i] = '?';
}

/*
 * Put a CATENATE message together in a new file of the mailbox's tmp/.
 * 0, or -1 after a NO.
 */
static int
catenate_build(struct imap_session *s, struct append_msg *m)
{
	const struct imap_arg *l = m->data;
	const char *url;
	char text[256];
	off_t total = 0;
	size_t i;
	int fd, r = 0;

	if ((fd = mbox_append_begin(s->append_mb, m->tmp,
	    sizeof(m->tmp))) == -1) {
		m->tmp[0] = '\0';
		imap_acl_store_no(s, mbox_store(s->append_mb), "catenate");
		return -1;
	}
	for (i = 0; i + 1 < l->nlist && r == 0; i += 2) {
		if (imap_arg_atom_is(&l->list[i], "TEXT"))
			r = catenate_text(s, &l->list[i + 1], fd, &total);
		else if (imap_arg_atom_is(&l->list[i], "UTF8"))
			r = catenate_text(s, &l->list[i + 1].list[0], fd,
			    &total);
		else {
			url = imap_arg_astring(&l->list[i + 1]);
			r = catenate_url(s, url, fd, &total);
			if (r == -1) {
				badurl_text(url, text, sizeof(text));
				imap_tagged(s, "NO [BADURL %s] CATENATE URL "
				    "refused", text);
			}
		}
	}
	if (r == 0 && total == 0) {
		imap_tagged(s, "NO Empty message");
		r = -1;
	}
	if (mbox_append_close(s->append_mb, fd) == -1 && r == 0)
		r = -3;
	if (r == -2)
		imap_tagged(s, "NO [TOOBIG] Message too large");
	else if (r == -3)
		imap_acl_store_no(s, mbox_store(s->append_mb), "catenate");
	else if (r == -4)	/* our own file: a bug, or our disk */
		imap_errclass_no(s, "catenate", MSTORE_EINTERNAL,
		    "Cannot read a literal");
	return r == 0 ? 0 : -1;
}

/* ---- the command ---- */

/* UTF8 ( literal8 ), with a plain literal taken too. */
static int
utf8_literal(const struct imap_arg *a)
{
	return a->type == IMAP_ARG_LIST && a->nlist == 1 &&
	    a->list[0].type == IMAP_ARG_LITERAL_FILE;
}

/* Has a CATENATE a UTF8 ( ) part? */
static int
catenate_utf8(const struct imap_arg *l)
{
	size_t i;

	for (i = 0; i < l->nlist; i += 2)
		if (imap_arg_atom_is(&l->list[i], "UTF8"))
			return 1;
	return 0;
}

/* CATENATE ( TEXT literal / URL astring / UTF8 ( literal8 ) ... ): well
 * formed? */
static int
catenate_valid(const struct imap_arg *l)
{
	size_t i;

	if (l->type != IMAP_ARG_LIST || l->nlist == 0 || l->nlist % 2 != 0 ||
	    l->nlist / 2 > CATENATE_MAX_PARTS)
		return 0;
	for (i = 0; i < l->nlist; i += 2) {
		if (imap_arg_atom_is(&l->list[i], "TEXT")) {
			if (l->list[i + 1].type != IMAP_ARG_LITERAL_FILE)
				return 0;
		} else if (imap_arg_atom_is(&l->list[i], "UTF8")) {
			if (!utf8_literal(&l->list[i + 1]))
				return 0;
		} else if (!imap_arg_atom_is(&l->list[i], "URL") ||
		    imap_arg_astring(&l->list[i + 1]) == NULL)
			return 0;
	}
	return 1;
}

/* The messages of the command; -1 after a BAD. */
static int
append_parse(struct imap_session *s, const struct imap_arg *args,
    size_t nargs, struct append_msg *msgs, size_t *n_r)
{
	struct append_msg *m;
	const char *why;
	size_t i = 1, n = 0;

	while (i < nargs) {
		if (n == APPEND_MAX_MESSAGES) {
			imap_tagged(s, "BAD Too many messages");
			goto bad;
		}
		m = &msgs[n++];
		m->idate = (int64_t)time(NULL);
		if (args[i].type == IMAP_ARG_LIST) {
			if (imap_parse_flags(&args[i], &m->flags,
			    &m->keywords, &why) == -1) {
				imap_tagged(s, "BAD %s", why);
				goto bad;
			}
			i++;
		}
		if (i < nargs && args[i].type == IMAP_ARG_STRING) {
			if ((m->idate = imap_parse_datetime(args[i].str)) ==
			    -1) {
				imap_tagged(s, "BAD Invalid date-time");
				goto bad;
			}
			i++;
		}
		if (i < nargs && args[i].type == IMAP_ARG_LITERAL_FILE)
			m->data = &args[i++];
		else if (i + 1 < nargs &&
		    imap_arg_atom_is(&args[i], "CATENATE") &&
		    catenate_valid(&args[i + 1])) {
			if (!s->utf8 && catenate_utf8(&args[i + 1]))
				goto not_enabled;
			m->data = &args[i + 1];
			m->catenate = 1;
			i += 2;
		} else if (i + 1 < nargs && imap_arg_atom_is(&args[i], "UTF8") &&
		    utf8_literal(&args[i + 1])) {
			if (!s->utf8)
				goto not_enabled;
			/* RFC 6855 §4: a message with UTF-8 headers, kept
			 * as it came (a plain literal is taken too) */
			m->data = &args[i + 1].list[0];
			i += 2;
		} else {
			imap_tagged(s, "BAD Usage: APPEND mailbox [(flags)] "
			    "[date-time] {size} ...");
			goto bad;
		}
	}
	*n_r = n;
	if (n > 0)
		return 0;
	imap_tagged(s, "BAD Usage: APPEND mailbox [(flags)] [date-time] "
	    "{size} ...");
	goto bad;
not_enabled:
	/* RFC 6855 §4: "If an IMAP server supports UTF8=ACCEPT and the
	 * IMAP client has not issued the ENABLE UTF8=ACCEPT command, the
	 * server MUST reject, with a NO response, an APPEND command that
	 * includes any 8-bit character in message header fields."  A UTF8
	 * ( ) message is one the client says has them (§3: the client
	 * MUST ENABLE first), so NO, not BAD: the command is well formed. */
	imap_tagged(s, "NO UTF8 ( ) needs ENABLE UTF8=ACCEPT");
bad:
	*n_r = n;
	return -1;
}

static void
append_free(struct append_msg *msgs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(msgs[i].keywords);
		if (msgs[i].tmp[0] != '\0')
			unlink(msgs[i].tmp);
	}
}

int
cmd_append(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	struct append_msg msgs[APPEND_MAX_MESSAGES];
	struct mbox_append adds[APPEND_MAX_MESSAGES];
	struct mbox_status st;
	uint32_t uids[APPEND_MAX_MESSAGES];
	char name[MAILDIR_NAME_MAX + 1];
	struct buf set;
	const char *no;
	unsigned int rights;
	size_t n = 0, i;

	memset(msgs, 0, sizeof(msgs));
	memset(adds, 0, sizeof(adds));
	if (nargs < 2) {
		imap_tagged(s, "BAD Usage: APPEND mailbox [(flags)] "
		    "[date-time] {size}");
		return -1;
	}
	if (append_parse(s, args, nargs, msgs, &n) == -1) {
		append_free(msgs, n);
		return -1;
	}
	/* Opened by the first literal; a CATENATE of URLs alone has none. */
	if (s->append_mb == NULL) {
		if (imap_mailbox_arg(s, &args[0], name, sizeof(name)) == -1) {
			append_free(msgs, n);
			return -1;
		}
		/* RFC 4314 §4: "i" (acl.c). */
		if (imap_acl_open(s, name, ACL_I, 1, &s->append_mb, NULL,
		    &no) == -1) {
			append_free(msgs, n);
			imap_tagged(s, "%s", no);
			return 0;
		}
	}
	/* §4: flags the user may not set there are dropped, not refused. */
	rights = mbox_store(s->append_mb) == s->store ? ACL_ALL :
	    imap_acl_rights(mbox_store(s->append_mb),
	    mbox_name(s->append_mb), s->user);
	if (s->append_err != MSTORE_OK) {	/* writing a literal failed */
		append_free(msgs, n);
		return imap_errclass_no(s, "append", s->append_err,
		    mstore_error(mbox_store(s->append_mb)));
	}
	for (i = 0; i < n; i++) {
		if (msgs[i].catenate && catenate_build(s, &msgs[i]) == -1) {
			append_free(msgs, n);
			return 0;
		}
		adds[i].tmppath = msgs[i].catenate ? msgs[i].tmp :
		    msgs[i].data->str;
		adds[i].flags = msgs[i].flags & imap_acl_flag_mask(rights);
		adds[i].keywords = msgs[i].keywords && (rights & ACL_W) ?
		    msgs[i].keywords : "";
		adds[i].internaldate = msgs[i].idate;
	}
	if (imap_quota_append(s, mbox_store(s->append_mb), adds, n) == -1) {
		append_free(msgs, n);
		return 0;
	}
	if (mbox_append_commit_n(s->append_mb, adds, n) == -1 ||
	    mbox_get_status(s->append_mb, &st) == -1) {
		append_free(msgs, n);
		/* the mailbox's store: maybe another user's (acl.c) */
		return imap_acl_store_no(s, mbox_store(s->append_mb),
		    "append");
	}
	for (i = 0; i < n; i++) {
		msgs[i].tmp[0] = '\0';	/* in the mailbox now */
		uids[i] = adds[i].uid;
		log_info("sid=%s user=%s append mailbox=%s uid=%u%s", s->id,
		    s->user, log_str(mbox_name(s->append_mb)), uids[i],
		    msgs[i].catenate ? " catenate" : "");
	}
	append_free(msgs, n);
	s->nappend += n;
	mbox_close(&s->append_mb);
	/* RFC 4315 §3: the UIDs as a set, in the order given. */
	buf_init(&set, 0);
	seqset_format(&set, uids, n);
	imap_tagged(s, "OK [APPENDUID %u %s] APPEND completed",
	    st.uidvalidity, set.data);
	buf_release(&set);
	return 0;
}
