#!/usr/bin/python3
# SPF on port 25 (RFC 7208) against a real DNS server on loopback: pass,
# fail (550 5.7.23), softfail, neutral, none, temperror (451 4.7.24, with
# the DNS server stopped), permerror (accepted, or 550 5.7.24 by policy),
# the null sender's HELO identity, the Received-SPF: and
# Authentication-Results: headers of accepted mail, forged results
# removed, authenticated submission left alone, and "mailctl spf check".
#
# The client connects from chosen loopback addresses (127.0.0.5 and
# 127.0.0.6), so the SPF records can permit one and not the other.
import os
import re
import smtplib
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import TAP, Server, client_tls  # noqa
from testdns import TestDNS  # noqa

t = TAP()
GOOD, BAD = "127.0.0.5", "127.0.0.6"
ZONE = {
    "pass.test": [("TXT", "v=spf1 ip4:%s -all" % GOOD)],
    "soft.test": [("TXT", "v=spf1 ip4:%s ~all" % GOOD)],
    "neutral.test": [("TXT", "v=spf1 ?all")],
    "none.test": [("A", "192.0.2.1")],
    "broken.test": [("TXT", "v=spf1 ip4:300.1.1.1 -all")],
    "exp.test": [("TXT", "v=spf1 ip4:%s -all exp=why.exp.test" % GOOD)],
    "why.exp.test": [("TXT", "%{i} may not send mail for %{d}")],
    "helo.test": [("TXT", "v=spf1 ip4:%s -all" % GOOD)],
    "split.test": [("TXT", ["v=spf1 ip4:%s " % GOOD, "-all"])],
    "slow.test": "TIMEOUT",
}

dns = TestDNS()
dns.start()
dns.set_zone(ZONE)
common = ["dns.resolver=" + dns.address, "dns.timeout=1s", "dns.attempts=1",
          "spf.skip_loopback=no"]
srv = Server(services=("smtp", "submission"), overrides=common)
srv.setup(domains=["example.test"], users=[("demo@example.test", "pw")])
srv.start()
strict = Server(services=("smtp",),
                overrides=common + ["spf.permerror=reject"])
strict.setup(domains=["example.test"], users=[("demo@example.test", "pw")])
strict.start()
plain = Server(services=("smtp",),
               overrides=["dns.resolver=" + dns.address])   # skips loopback
plain.setup(domains=["example.test"], users=[("demo@example.test", "pw")])
plain.start()


def mail_from(sender, source, helo="client.test", server=srv):
    """(code, text) of MAIL FROM from a given client address."""
    with smtplib.SMTP(server.host, server.port(), timeout=30,
                      source_address=(source, 0)) as s:
        s.ehlo(helo)
        code, text = s.docmd("MAIL FROM:<%s>" % sender)
        s.docmd("RSET")
        return code, text.decode()


def deliver(sender, source, subject, body="hello\n", helo="client.test",
            server=srv):
    """Send a message; return the delivered file's text."""
    before = len(server.messages("demo@example.test"))
    with smtplib.SMTP(server.host, server.port(), timeout=30,
                      source_address=(source, 0)) as s:
        s.ehlo(helo)
        s.sendmail(sender, ["demo@example.test"],
                   "Subject: %s\n\n%s" % (subject, body))
    msgs = server.wait_messages("demo@example.test", before + 1)
    for name, data in msgs:
        if ("Subject: %s\n" % subject).encode() in data:
            return data.decode("utf-8", "replace")
    return ""


def header(msg, name):
    """The unfolded value of the first header field called name."""
    head = msg.split("\n\n", 1)[0]
    m = re.search(r"^%s:(.*(?:\n[ \t].*)*)" % re.escape(name), head,
                  re.M | re.I)
    return re.sub(r"\s+", " ", m.group(1)).strip() if m else None


try:
    # --- pass, fail, softfail, neutral, none ---
    msg = deliver("alice@pass.test", GOOD, "spf-pass")
    rs = header(msg, "Received-SPF")
    t.ok(rs is not None and rs.startswith("pass ") and
         "client-ip=%s;" % GOOD in rs and
         'envelope-from="alice@pass.test";' in rs and
         "identity=mailfrom;" in rs, "pass: accepted, Received-SPF: pass "
         "with client-ip, envelope-from and identity (RFC 7208 9.1)", msg)
    t.eq(header(msg, "Authentication-Results"),
         "mail.example.test; spf=pass smtp.mailfrom=pass.test",
         "pass: Authentication-Results: names this host and the domain "
         "(RFC 8601)")

    code, text = mail_from("alice@pass.test", BAD)
    t.ok(code == 550 and text.startswith("5.7.23") and BAD in text,
         "fail: 550 5.7.23 with an explanation naming the client (RFC 7372)",
         "%d %s" % (code, text))
    code, text = mail_from("bob@exp.test", BAD)
    t.eq((code, text), (550, "5.7.23 SPF fail: %s may not send mail for "
                        "exp.test" % BAD),
         "fail: the domain's own explanation (exp=, macros expanded)")
    code, text = mail_from("alice@split.test", BAD)
    t.ok(code == 550, "fail: a record split into two TXT strings is joined "
         "(RFC 7208 3.3)", "%d %s" % (code, text))
    msg = deliver("alice@split.test", GOOD, "spf-split")
    t.ok((header(msg, "Received-SPF") or "").startswith("pass "),
         "pass: the split record permits the right client", msg)

    msg = deliver("alice@soft.test", BAD, "spf-soft")
    t.ok((header(msg, "Received-SPF") or "").startswith("softfail ") and
         "spf=softfail smtp.mailfrom=soft.test" in
         (header(msg, "Authentication-Results") or ""),
         "softfail: accepted, with softfail in both headers", msg)
    msg = deliver("alice@neutral.test", BAD, "spf-neutral")
    t.ok((header(msg, "Received-SPF") or "").startswith("neutral "),
         "neutral: accepted with Received-SPF: neutral", msg)
    msg = deliver("alice@none.test", BAD, "spf-none")
    t.ok((header(msg, "Received-SPF") or "").startswith("none ") and
         "spf=none" in (header(msg, "Authentication-Results") or ""),
         "none (no SPF record): accepted with spf=none", msg)

    # --- permerror: accepted by default, refused by policy ---
    msg = deliver("alice@broken.test", GOOD, "spf-perm")
    t.ok((header(msg, "Received-SPF") or "").startswith("permerror ") and
         "problem=" in (header(msg, "Received-SPF") or ""),
         "permerror: accepted by default, the problem recorded", msg)
    code, text = mail_from("alice@broken.test", GOOD, server=strict)
    t.ok(code == 550 and text.startswith("5.7.24"),
         "permerror with spf.permerror=reject: 550 5.7.24",
         "%d %s" % (code, text))

    # --- the null sender: the HELO identity (RFC 7208 2.4) ---
    code, text = mail_from("", BAD, helo="helo.test")
    t.ok(code == 550 and text.startswith("5.7.23"), "null sender: the HELO "
         "domain's record decides (fail)", "%d %s" % (code, text))
    code, text = mail_from("", GOOD, helo="helo.test")
    t.eq(code, 250, "null sender from a permitted HELO host: accepted")

    # --- temperror: the DNS server does not answer ---
    code, text = mail_from("alice@slow.test", GOOD)
    t.ok(code == 451 and text.startswith("4.7.24"),
         "temperror (no answer for the domain): 451 4.7.24",
         "%d %s" % (code, text))
    dns.stop()
    code, text = mail_from("alice@pass.test", GOOD)
    t.ok(code == 451 and text.startswith("4.7.24"),
         "temperror (DNS server stopped): 451 4.7.24, the client retries",
         "%d %s" % (code, text))
    dns.start()
    code, text = mail_from("alice@pass.test", GOOD)
    t.eq(code, 250, "DNS server back: the same sender passes")

    # --- forged verdicts, authenticated senders, loopback ---
    msg = deliver("alice@pass.test", GOOD, "spf-forged",
                  body="x\n")
    with smtplib.SMTP(srv.host, srv.port(), timeout=30,
                      source_address=(BAD, 0)) as s:
        s.ehlo("client.test")
        s.sendmail("alice@none.test", ["demo@example.test"],
                   "Authentication-Results: mail.example.test; spf=pass "
                   "smtp.mailfrom=none.test\n"
                   "Authentication-Results: other.example; spf=pass\n"
                   "Subject: spf-forged2\n\nbody\n")
    msgs = srv.wait_messages("demo@example.test", 12)
    forged = [d.decode() for n, d in msgs if b"spf-forged2" in d]
    ar = re.findall(r"^Authentication-Results:.*(?:\n[ \t].*)*",
                    forged[0] if forged else "", re.M)
    t.ok(len(ar) == 2 and "spf=none" in ar[0] and "other.example" in ar[1],
         "a forged Authentication-Results: naming this host is removed, "
         "another host's is kept (RFC 8601 5)", ar)

    with smtplib.SMTP(srv.host, srv.port("submission"), timeout=30,
                      source_address=(BAD, 0)) as s:
        s.ehlo("client.test")
        s.starttls(context=client_tls())
        s.login("demo@example.test", "pw")
        s.sendmail("demo@example.test", ["demo@example.test"],
                   "Subject: spf-auth\n\nbody\n")
    msgs = srv.wait_messages("demo@example.test", 13)
    auth = [d.decode() for n, d in msgs if b"spf-auth" in d]
    t.ok(auth and header(auth[0], "Received-SPF") is None,
         "authenticated submission is not SPF-checked", auth)

    msg = deliver("alice@pass.test", BAD, "spf-loopback", server=plain)
    t.ok(msg and header(msg, "Received-SPF") is None,
         "spf.skip_loopback (the default): a loopback client is not "
         "checked, even from an address the record forbids", msg)
    t.ok("spf=" not in plain.log(), "... and no SPF lookup is logged",
         plain.log()[-2000:])

    # --- the administrator's view: the same code and resolver ---
    rc, out, err = srv.mailctl("spf", "check", BAD, "bob@exp.test",
                               "client.test")
    t.ok(rc == 0 and "result: fail\n" in out and
         "explanation: %s may not send mail for exp.test\n" % BAD in out and
         "header: Received-SPF: fail " in out,
         "mailctl spf check: verdict, explanation and header", out + err)
    rc, out, err = srv.mailctl("spf", "check", "::ffff:" + GOOD,
                               "alice@pass.test", "client.test")
    t.ok(rc == 0 and "result: pass\n" in out, "mailctl spf check: an "
         "IPv4-mapped IPv6 client is its IPv4 address", out + err)
    rc, out, err = srv.mailctl("spf", "check", "not-an-ip", "a@pass.test",
                               "h")
    t.ok(rc == 1 and "not an IPv4 or IPv6 address" in err,
         "mailctl spf check: a bad address is an error (status 1)",
         out + err)
    rc, out, err = srv.mailctl("spf", "check", GOOD)
    t.ok(rc == 2, "mailctl spf check: missing arguments: usage, status 2",
         out + err)

    log = srv.log()
    t.ok(re.search(r"sid=\S+ spf=fail domain=pass.test "
                   r"from=<alice@pass.test> client=" + re.escape(BAD), log),
         "the log has one line per verdict with domain, sender and client",
         log[-3000:])
finally:
    for s in (srv, strict, plain):
        s.cleanup()
    dns.stop()
t.done()
