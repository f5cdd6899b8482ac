/*
 * The IMAP URLs of URLAUTH (imapurl.c, RFC 5092 §11, RFC 4467 §9):
 * RFC 4467 §7's own URL, its rump and its authorized form, each part
 * (user, host and port, mailbox in UTF-8, UIDVALIDITY, SECTION,
 * PARTIAL and its ranges alone, EXPIRE with its time zones, the four
 * access identifiers), and what must be refused; every prefix of a good
 * URL fed alone.
 */
#include <string.h>

#include "imapurl.h"
#include "../t/tap.h"

static struct urlauth_url u;

static int
parse(const char *url)
{
	return imapurl_parse(url, strlen(url), &u);
}

int
main(void)
{
	/* RFC 4467 §7 */
	const char *rump = "imap://joe@example.com/INBOX/;uid=20/;section=1.2;"
	    "urlauth=submit+fred";
	const char *full = "imap://joe@example.com/INBOX/;uid=20/;section=1.2;"
	    "urlauth=submit+fred:internal:91354a473744909de610943775f92038";
	const char *bad[] = {
		"",
		"imap://",
		"http://joe@example.com/INBOX/;uid=20;urlauth=anonymous",
		"imap://example.com/INBOX/;uid=20;urlauth=anonymous",
		"imap://@example.com/INBOX/;uid=20;urlauth=anonymous",
		"imap://joe@/INBOX/;uid=20;urlauth=anonymous",
		"imap://joe@:143/INBOX/;uid=20;urlauth=anonymous",
		"imap://;joe@example.com/INBOX/;uid=20;urlauth=anonymous",
		"imap://jo;e@example.com/INBOX/;uid=20;urlauth=anonymous",
		"imap://joe@example.com/INBOX/;uid=20",
		"imap://joe@example.com/INBOX;uid=20;urlauth=anonymous",
		"imap://joe@example.com//;uid=20;urlauth=anonymous",
		"imap://joe@example.com/INBOX/;uid=0;urlauth=anonymous",
		"imap://joe@example.com/INBOX/;uid=4294967296;urlauth=anonymous",
		"imap://joe@example.com/INBOX/;uid=20x;urlauth=anonymous",
		"imap://joe@example.com/INBOX/;uid=20/;section=;urlauth=anonymous",
		"imap://joe@example.com/INBOX/;uid=20/;partial=;urlauth=anonymous",
		"imap://joe@example.com/INBOX/;uid=20/;partial=1.0;"
		    "urlauth=anonymous",
		"imap://joe@example.com/INBOX/;uid=20;urlauth=everyone",
		"imap://joe@example.com/INBOX/;uid=20;urlauth=user+",
		"imap://joe@example.com/INBOX/;uid=20;urlauth=anonymous:internal",
		"imap://joe@example.com/INBOX/;uid=20;urlauth=anonymous::"
		    "91354a473744909de610943775f92038",
		"imap://joe@example.com/INBOX/;uid=20;urlauth=anonymous:internal:"
		    "91354a473744909de610943775f9203",	/* odd */
		"imap://joe@example.com/INBOX/;uid=20;urlauth=anonymous:internal:"
		    "91354a473744909de610943775f920",	/* under 128 bits */
		"imap://joe@example.com/INBOX/;uid=20;urlauth=anonymous:internal:"
		    "91354a473744909de610943775f9203g",
		"imap://joe@example.com/INBOX/;uid=20;urlauth=anonymous:in/x:"
		    "91354a473744909de610943775f92038",
		"imap://joe@example.com/IN%00BOX/;uid=20;urlauth=anonymous",
		"imap://joe@example.com/IN%0aBOX/;uid=20;urlauth=anonymous",
		"imap://joe@example.com/IN%zzBOX/;uid=20;urlauth=anonymous",
		"imap://joe@example.com/../x/;uid=20;urlauth=anonymous",
		"imap://joe@example.com/a/../b/;uid=20;urlauth=anonymous",
		"imap://joe@example.com/INBOX;UIDVALIDITY=x/;uid=20;"
		    "urlauth=anonymous",
		"imap://joe@example.com/INBOX/;uid=20;expire=2006-05-01;"
		    "urlauth=anonymous",
		"imap://joe@example.com/INBOX/;uid=20;expire=2006-13-01T00:00:00Z;"
		    "urlauth=anonymous",
		"imap://joe@example.com/INBOX/;uid=20;expire=2006-05-01T12:00:00;"
		    "urlauth=anonymous",
		"imap://joe@example.com/INBOX/;uid=20;expire=+006-05-01T12:00:00Z;"
		    "urlauth=anonymous",
		"imap://joe@example.com/INBOX/;uid=20;expire=2006-05-01T12:00:00"
		    "+2:00;urlauth=anonymous",
	};
	size_t i, n, good;
	char buf[512];

	ok(parse(rump) == 0 && strcmp(u.user, "joe") == 0 &&
	    strcmp(u.host, "example.com") == 0 &&
	    strcmp(u.mailbox, "INBOX") == 0 && u.uid == 20 &&
	    u.uidvalidity == 0 && strcmp(u.section, "1.2") == 0 &&
	    u.access == URLA_SUBMIT && strcmp(u.access_user, "fred") == 0 &&
	    !u.authorized && u.rump_len == strlen(rump),
	    "§7's rump: joe, example.com, INBOX, UID 20, 1.2, submit+fred");
	ok(parse(full) == 0 && u.authorized && u.rump_len == strlen(rump) &&
	    strcmp(u.mech, "internal") == 0 && u.token_len == 16 &&
	    u.token[0] == 0x91 && u.token[15] == 0x38,
	    "§7's URL: mechanism and 128-bit token, rump up to the ':'");
	ok(parse("imap://joe%40example.test;AUTH=*@mail.example.test:143/"
	    "Sent;UIDVALIDITY=785799047/;UID=3/;SECTION=HEADER/;PARTIAL=0.100"
	    ";URLAUTH=authuser") == 0 &&
	    strcmp(u.user, "joe@example.test") == 0 &&
	    strcmp(u.host, "mail.example.test") == 0 &&
	    strcmp(u.mailbox, "Sent") == 0 && u.uidvalidity == 785799047 &&
	    u.uid == 3 && strcmp(u.section, "HEADER") == 0 && u.partial &&
	    u.offset == 0 && u.length == 100 && u.access == URLA_AUTHUSER,
	    "a %%-encoded user with ;AUTH=*, a port, UIDVALIDITY, PARTIAL");
	ok(parse("imap://joe@[::1]:993/inbox/;uid=1/;partial=5;"
	    "urlauth=anonymous") == 0 && strcmp(u.host, "[::1]") == 0 &&
	    strcmp(u.mailbox, "INBOX") == 0 && u.partial && u.offset == 5 &&
	    u.length == UINT64_MAX && u.access == URLA_ANONYMOUS,
	    "an IPv6 host with a port; inbox is INBOX; PARTIAL without length");
	ok(parse("imap://joe@example.com/%C3%84pfel/;uid=1;"
	    "urlauth=user+joe%40example.com") == 0 &&
	    strcmp(u.mailbox, "&AMQ-pfel") == 0 && u.access == URLA_USER &&
	    strcmp(u.access_user, "joe@example.com") == 0,
	    "a UTF-8 mailbox name becomes modified UTF-7 (RFC 5092 §3.2)");
	ok(parse("imap://joe@example.com/INBOX/;uid=20;expire="
	    "2006-05-01T12:00:00Z;urlauth=anonymous") == 0 &&
	    u.expire == 1146484800, "EXPIRE in UTC");
	ok(parse("imap://joe@example.com/INBOX/;uid=20;EXPIRE="
	    "2006-05-01T14:00:00.25+02:00;URLAUTH=anonymous") == 0 &&
	    u.expire == 1146484800, "EXPIRE with fractions and +02:00");
	n = strlen("2006-05-01t07:30:00-04:30");
	ok(imapurl_datetime("2006-05-01t07:30:00-04:30",
	    "2006-05-01t07:30:00-04:30" + n) == 1146484800,
	    "a lower-case t and -04:30");
	for (i = 0, good = 1; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i]) != -1) {
			diag("taken: %s", bad[i]);
			good = 0;
		}
	ok(good, "%zu malformed URLs refused", i);
	for (i = 0, good = 1, n = strlen(full); i < n; i++) {
		memcpy(buf, full, i);
		buf[i] = '\0';
		/* rumps only: submit+f, submit+fr ... submit+fred */
		if (parse(buf) != (i > strlen(rump) - 4 && i <= strlen(rump) ?
		    0 : -1)) {
			diag("prefix of %zu octets", i);
			good = 0;
		}
	}
	ok(good, "every prefix of §7's URL is refused but the rumps in it");
	ok(parse("imap://joe@example.com/R&D%20%26%20%C3%84/;uid=1;"
	    "urlauth=anonymous") == 0 &&
	    strcmp(u.mailbox, "R&-D &- &AMQ-") == 0 &&
	    parse("imap://joe@example.com/%26AMQ-/;uid=1;urlauth=anonymous") ==
	    0 && strcmp(u.mailbox, "&-AMQ-") == 0 &&
	    parse("imap://joe@example.com/%C3/;uid=1;urlauth=anonymous") == -1,
	    "every name is UTF-8: \"&\" is \"&-\", \"&AMQ-\" is no \"\\xc4\", "
	    "bad UTF-8 refused");
	ok(imapurl_host_ours("mail.example.test", "mail.example.test",
	    "joe@example.com") && imapurl_host_ours("EXAMPLE.com",
	    "mail.example.test", "joe@example.com") &&
	    !imapurl_host_ours("example.org", "mail.example.test",
	    "joe@example.com") && !imapurl_host_ours("127.0.0.1",
	    "mail.example.test", "joe@example.com") &&
	    !imapurl_host_ours("example.com", "mail.example.test", "joe"),
	    "the host: server.hostname or the login's domain");
	{
		/* URL-PARTIAL (RFC 5550 §5): the range alone */
		static const struct {
			const char *s;
			int r;
			uint64_t off, len;
		} pr[] = {
			{ "0.1024", 0, 0, 1024 },
			{ "007", 0, 7, UINT64_MAX },
			{ "4294967295.4294967295", 0, UINT32_MAX, UINT32_MAX },
			{ "4294967296", -1, 0, 0 },
			{ "0.4294967296", -1, 0, 0 },
			{ "99999999999999999999999", -1, 0, 0 },
			{ "1.0", -1, 0, 0 }, { "1.00", -1, 0, 0 },
			{ "1.", -1, 0, 0 }, { ".1", -1, 0, 0 },
			{ "", -1, 0, 0 },
			{ "-1", -1, 0, 0 },
		};
		const char *p, *d;
		uint64_t off, len;
		size_t dl;

		for (i = 0, good = 1; i < sizeof(pr) / sizeof(pr[0]); i++) {
			p = pr[i].s;
			if (imapurl_partial_parse(&p, p + strlen(p), &off,
			    &len) != pr[i].r || (pr[i].r == 0 &&
			    (off != pr[i].off || len != pr[i].len ||
			    *p != '\0'))) {
				diag("partial %s", pr[i].s);
				good = 0;
			}
		}
		ok(good, "%zu ranges: numbers up to 2^32-1, no length 0", i);
		d = "0123456789";
		dl = 10;
		imapurl_partial_apply(3, 4, &d, &dl);
		good = dl == 4 && memcmp(d, "3456", 4) == 0;
		d = "0123456789";
		dl = 10;
		imapurl_partial_apply(8, UINT64_MAX, &d, &dl);
		good = good && dl == 2 && memcmp(d, "89", 2) == 0;
		dl = 10;
		imapurl_partial_apply(10, 1, &d, &dl);
		good = good && dl == 0;
		dl = 10;
		imapurl_partial_apply(UINT32_MAX, UINT32_MAX, &d, &dl);
		ok(good && dl == 0, "a range, to the end, at and past the end");
	}
	ok(parse(full) == 0 && imapurl_is_user(u.user, u.host,
	    "joe@example.com") && !imapurl_is_user(u.user, u.host,
	    "joe@example.org") && imapurl_is_user("JOE@example.com", "x",
	    "joe@example.com") && !imapurl_is_user("jo", "example.com",
	    "joe@example.com") && !imapurl_is_user("joe@x", "example.com",
	    "joe@example.com"),
	    "the owner: the login, or its local part at the URL's host");
	return done_testing();
}
