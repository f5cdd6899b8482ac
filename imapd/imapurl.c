/*
 * IMAP URLs as URLAUTH names them (RFC 5092 §11, RFC 4467 §9): parsed
 * without I/O, every part bounded; what they name is urlauth.c's to
 * find and check.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../lib/util.h"
#include "imapurl.h"

static const char *
find_ci(const char *s, const char *e, const char *needle)
{
	size_t n = strlen(needle);

	for (; s + n <= e; s++)
		if (strncasecmp(s, needle, n) == 0)
			return s;
	return NULL;
}

int
imapurl_pct_decode(const char *s, const char *e, char *out, size_t size)
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

int64_t
imapurl_datetime(const char *s, const char *e)
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
	for (p = t; p < t + 19; p++)	/* digits where digits go */
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

int
imapurl_partial_parse(const char **p, const char *e, uint64_t *offset,
    uint64_t *length)
{
	const char *s = *p;

	/* offset: "number", leading zeros allowed, at most 2^32-1 as every
	 * IMAP number (RFC 3501 §4.2) */
	if (s >= e || !isdigit((unsigned char)*s))
		return -1;
	for (*offset = 0; s < e && isdigit((unsigned char)*s); s++)
		if ((*offset = *offset * 10 + (uint64_t)(*s - '0')) >
		    UINT32_MAX)
			return -1;
	*length = UINT64_MAX;
	/* "." length: "nz-number", so a range of 0 octets is malformed */
	if (s < e && *s == '.') {
		s++;
		if (parse_number(&s, e, UINT32_MAX, length) == -1)
			return -1;
	}
	*p = s;
	return 0;
}

void
imapurl_partial_apply(uint64_t offset, uint64_t length, const char **data,
    size_t *len)
{
	if (offset >= *len) {	/* RFC 3501 §6.4.5: an empty string */
		*len = 0;
		return;
	}
	*data += offset;
	*len -= (size_t)offset;
	if (*len > length)
		*len = (size_t)length;
}

int
imapurl_mailbox(const char *s, const char *e, char *out, size_t size)
{
	char name[MAILDIR_NAME_MAX + 1];
	const char *why;

	/* RFC 5092 §3.2 (enc-mailbox): the name in UTF-8, %-encoded; the
	 * store's is IMAP's modified UTF-7, so every name is converted,
	 * ASCII ones too ("a%26b" is the folder IMAP calls "a&-b"; a
	 * modified UTF-7 "&AMQ-" in a URL is those five characters). */
	if (s == e || imapurl_pct_decode(s, e, name, sizeof(name)) == -1 ||
	    utf8_to_mutf7(name, out, size) == -1)
		return -1;
	maildir_name_normalize(out);
	if (strcmp(out, "INBOX") != 0 && maildir_name_valid(out, &why) == -1)
		return -1;
	return 0;
}

int
imapurl_host_ours(const char *host, const char *hostname, const char *login)
{
	const char *at = strrchr(login, '@');

	/* this server's configured name (server.hostname), or the domain
	 * of the login, the one other name RFC 4467 §7's example gives a
	 * server (imap://joe@example.com/) */
	return strcasecmp(host, hostname) == 0 ||
	    (at != NULL && strcasecmp(host, at + 1) == 0);
}

/* The message part: mailbox [;UIDVALIDITY=n] /;UID=n [/;SECTION=s]
 * [/;PARTIAL=o[.l]], in [p, e). */
static int
parse_messagepart(const char *p, const char *e, struct urlauth_url *u)
{
	const char *uid, *v, *end;
	uint64_t n;

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
	if (imapurl_mailbox(p, end, u->mailbox, sizeof(u->mailbox)) == -1)
		return -1;
	p = uid + 6;
	if (parse_number(&p, e, UINT32_MAX, &n) == -1)
		return -1;
	u->uid = (uint32_t)n;
	if (e - p >= 10 && strncasecmp(p, "/;SECTION=", 10) == 0) {
		p += 10;
		if ((end = find_ci(p, e, "/;PARTIAL=")) == NULL)
			end = e;
		if (end == p || imapurl_pct_decode(p, end, u->section,
		    sizeof(u->section)) == -1)
			return -1;
		p = end;
	}
	if (e - p >= 10 && strncasecmp(p, "/;PARTIAL=", 10) == 0) {
		p += 10;
		u->partial = 1;
		if (imapurl_partial_parse(&p, e, &u->offset, &u->length) == -1)
			return -1;
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

int
imapurl_parse(const char *url, size_t len, struct urlauth_url *u)
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
	/* enc-user [";AUTH=" ...]: a ';' only there */
	if ((c = memchr(srv, ';', (size_t)(at - srv))) == NULL)
		c = at;
	else if (find_ci(c, at, ";AUTH=") != c)
		return -1;
	if (c == srv ||
	    imapurl_pct_decode(srv, c, u->user, sizeof(u->user)) == -1)
		return -1;
	if ((n = (size_t)(slash - at - 1)) == 0 || n >= sizeof(host))
		return -1;
	memcpy(host, at + 1, n);
	host[n] = '\0';
	if (host[0] != '[' && (c = strrchr(host, ':')) != NULL)
		host[c - host] = '\0';	/* the port */
	else if (host[0] == '[' && (c = strstr(host, "]:")) != NULL)
		host[c + 1 - host] = '\0';
	if (host[0] == '\0' || strpbrk(host, "@/;") != NULL)
		return -1;
	util_strcpy(u->host, host, sizeof(u->host));
	/* [;EXPIRE=date-time] ;URLAUTH=access [":" mech ":" token] */
	if ((ua = find_ci(slash, e, ";URLAUTH=")) == NULL)
		return -1;
	if ((ex = find_ci(slash, ua, ";EXPIRE=")) != NULL) {
		if ((u->expire = imapurl_datetime(ex + 8, ua)) <= 0)
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
	    imapurl_pct_decode(a, c, u->access_user,
	    sizeof(u->access_user)) == -1)
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

int
imapurl_is_user(const char *name, const char *host, const char *login)
{
	size_t n = strlen(name);

	if (strcasecmp(name, login) == 0)
		return 1;
	return strchr(name, '@') == NULL && strncasecmp(login, name, n) == 0 &&
	    login[n] == '@' && strcasecmp(login + n + 1, host) == 0;
}

