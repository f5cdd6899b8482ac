#include <string.h>

#include "addr.h"
#include "../t/tap.h"

static int
path_ok(const char *in, int flags, const char *want, const char *want_rest)
{
	struct mailaddr a;
	const char *rest, *why = "";
	char got[600];

	if (addr_parse_path(in, flags, &a, &rest, &why) == -1) {
		diag("%s: rejected: %s", in, why);
		return 0;
	}
	addr_format(&a, got, sizeof(got));
	if (strcmp(got, want) != 0 || strcmp(rest, want_rest) != 0) {
		diag("%s: got '%s' rest '%s'", in, got, rest);
		return 0;
	}
	return 1;
}

static int
path_bad(const char *in, int flags)
{
	struct mailaddr a;
	const char *rest, *why;

	return addr_parse_path(in, flags, &a, &rest, &why) == -1;
}

int
main(void)
{
	char buf[400], *p, *k, *v;
	struct mailaddr a;
	const char *why;

	ok(path_ok("<User@Example.ORG>", 0, "User@example.org", ""),
	    "domain lower-cased, local part kept");
	ok(path_ok("<a@b.c> SIZE=100 BODY=8BITMIME", 0, "a@b.c",
	    " SIZE=100 BODY=8BITMIME"), "parameters left for the caller");
	ok(path_ok("<>", ADDR_ALLOW_NULL, "", ""), "null path");
	ok(path_bad("<>", 0), "null path refused where not allowed");
	ok(path_ok("<@relay.one,@relay.two:joe@x.org>", 0, "joe@x.org", ""),
	    "source route ignored (RFC 5321 Appendix C)");
	ok(path_ok("<\"john doe\"@x.org>", 0, "\"john doe\"@x.org", ""),
	    "quoted local part");
	ok(path_ok("<\"a\\\"b\"@x.org>", 0, "\"a\\\"b\"@x.org", ""),
	    "quoted pair");
	ok(path_ok("<u@[192.0.2.1]>", 0, "u@[192.0.2.1]", ""),
	    "address literal");
	ok(path_ok("<Postmaster>", ADDR_ALLOW_POSTMASTER, "postmaster", ""),
	    "bare postmaster (RFC 5321 §4.5.1)");
	ok(path_bad("<postmaster>", 0), "bare postmaster only where allowed");
	ok(path_ok(" u@x.org", ADDR_ALLOW_BARE, "u@x.org", ""),
	    "missing brackets tolerated when asked");
	ok(path_bad("u@x.org", 0), "missing brackets refused by default");
	ok(path_bad("<u@x.org", 0), "missing >");
	ok(path_bad("<u@>", 0), "empty domain");
	ok(path_bad("<@x.org>", 0), "empty local part");
	ok(path_bad("<u@-x.org>", 0), "label starting with hyphen");
	ok(path_bad("<u@x-.org>", 0), "label ending with hyphen");
	ok(path_bad("<u@x..org>", 0), "empty label");
	ok(path_bad("<a..b@x.org>", 0), "empty atom");
	ok(path_bad("<.a@x.org>", 0), "leading dot");
	ok(path_bad("<a b@x.org>", 0), "space in local part");
	ok(path_bad("<u@x.org>junk", 0), "garbage after >");
	ok(path_bad("<u\xc3\xa9@x.org>", 0), "8-bit local part (no SMTPUTF8)");
	ok(path_bad("<u@x.org\r>", 0), "CR inside");

	memset(buf, 'a', 64);
	strcpy(buf + 64, "@x.org");
	ok(addr_parse(buf, &a, &why) == 0, "local part of 64 octets");
	memset(buf, 'a', 65);
	strcpy(buf + 65, "@x.org");
	ok(addr_parse(buf, &a, &why) == -1, "local part of 65 refused");
	buf[0] = '<';
	memset(buf + 1, 'a', 10);
	buf[11] = '@';
	for (int i = 0; i < 5; i++)
		memcpy(buf + 12 + i * 50, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.", 50);
	strcpy(buf + 262, "org>");
	ok(path_bad(buf, 0), "path over 256 octets refused");

	ok(addr_domain_valid("example.test"), "valid domain");
	ok(!addr_domain_valid("exa_mple.test"), "underscore refused");
	ok(!addr_domain_valid("a/b"), "slash refused");
	ok(addr_local_is_mailbox_safe("john.doe+x"), "mailbox-safe local");
	ok(!addr_local_is_mailbox_safe(".."), "'..' is not");
	ok(!addr_local_is_mailbox_safe("a/b"), "'/' is not");
	ok(!addr_local_is_mailbox_safe("John"), "upper case is not");
	ok(!addr_local_is_mailbox_safe("a."), "trailing dot is not");

	strcpy(buf, " SIZE=1000  BODY=8BITMIME NOVAL");
	p = buf;
	ok(addr_next_param(&p, &k, &v) == 1 && !strcmp(k, "SIZE") &&
	    !strcmp(v, "1000"), "param 1");
	ok(addr_next_param(&p, &k, &v) == 1 && !strcmp(k, "BODY") &&
	    !strcmp(v, "8BITMIME"), "param 2");
	ok(addr_next_param(&p, &k, &v) == 1 && !strcmp(k, "NOVAL") &&
	    v == NULL, "param without value");
	ok(addr_next_param(&p, &k, &v) == 0, "end of params");
	strcpy(buf, "SIZE=");
	p = buf;
	ok(addr_next_param(&p, &k, &v) == -1, "empty value refused");
	strcpy(buf, "S_Z=1");
	p = buf;
	ok(addr_next_param(&p, &k, &v) == -1, "bad keyword refused");
	return done_testing();
}
