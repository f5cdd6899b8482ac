/*
 * SPF on port 25 (RFC 7208): judge the MAIL FROM identity (postmaster@HELO
 * for the null sender, §2.4) against the client address, apply the
 * configured policy, and keep the headers that tell the recipient what
 * was found: Received-SPF: (§9.1) and Authentication-Results: (RFC 8601).
 * Authenticated senders are never checked: they are ours.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../global/spf.h"
#include "../lib/dns.h"
#include "../lib/log.h"
#include "smtpd.h"

static int
smtp_is_loopback(const char *ip)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, ip, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, ip, &a6) != 1)
		return 0;
	if (IN6_IS_ADDR_V4MAPPED(&a6))
		return a6.s6_addr[12] == 127;
	return IN6_IS_ADDR_LOOPBACK(&a6);
}

/* Write "Name: value" with folding before each "key=" so no line of a
 * long Received-SPF: passes RFC 5322's 998 octets. */
static void
smtp_spf_fold(struct buf *b, const char *name, const char *value)
{
	const char *p;

	buf_printf(b, "%s: ", name);
	for (p = value; *p != '\0'; p++) {
		if (p[0] == ';' && p[1] == ' ') {
			buf_puts(b, ";\n\t");
			p++;
		} else
			buf_putc(b, *p);
	}
	buf_puts(b, "\n");
}

int
smtp_spf_check(struct smtp_session *s, const char *sender)
{
	const struct conf *c = s->conf;
	struct spf_result r;
	struct buf b;

	free(s->spf_headers);
	s->spf_headers = NULL;
	if (s->submission || s->auth_user[0] != '\0' || !c->spf.check ||
	    (c->spf.skip_loopback && smtp_is_loopback(s->client_ip)))
		return 0;
	spf_check(s->env->spf, s->client_ip, s->helo, sender, &r);
	log_info("sid=%s spf=%s domain=%s from=<%s> client=%s", s->id,
	    spf_verdict_str(r.verdict), log_str(r.domain), log_str(sender),
	    s->client_ip);

	/* RFC 7372 §3.2 for the codes; the explanation is the domain's. */
	if (r.verdict == SPFV_FAIL && strcmp(c->spf.fail, "reject") == 0) {
		smtp_reply(s, "550 5.7.23 SPF fail: %s", r.explanation[0] ?
		    r.explanation : "sender not permitted");
		return -1;
	}
	if (r.verdict == SPFV_TEMPERROR &&
	    strcmp(c->spf.temperror, "defer") == 0) {
		smtp_reply(s, "451 4.7.24 SPF: temporary DNS error while "
		    "checking %s, try again later", r.domain);
		return -1;
	}
	if (r.verdict == SPFV_PERMERROR &&
	    strcmp(c->spf.permerror, "reject") == 0) {
		smtp_reply(s, "550 5.7.24 SPF: the SPF record of %s is "
		    "invalid", r.domain);
		return -1;
	}
	buf_init(&b, 4096);
	buf_printf(&b, "Authentication-Results: %s;\n\t%s\n",
	    c->server.hostname, r.auth_results);
	smtp_spf_fold(&b, "Received-SPF", r.received_spf);
	s->spf_headers = util_strdup(b.data);
	buf_release(&b);
	return 0;
}
