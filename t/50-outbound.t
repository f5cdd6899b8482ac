#!/usr/bin/python3
# Outbound delivery between two instances of the server: "a.test" on
# 127.0.0.2 and "b.test" on 127.0.0.3, with a real DNS server on loopback
# serving MX, A and SPF records.  A user of a.test submits on 587; a.test
# looks up the MX and delivers over SMTP with STARTTLS; b.test judges it
# with SPF and files it.  Then MX preference and fallback, no MX, null MX,
# unknown domains, a temporary refusal that clears up, permanent refusals
# returned to the sender as RFC 3464 reports, a remote SIZE limit, delay
# warnings and giving up, and mailctl's queue commands.
import email
import email.policy
import os
import re
import smtplib
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import TAP, Server, client_tls, test_ca, wait_until  # noqa
from smtppeer import SMTPPeer  # noqa
from testdns import TestDNS  # noqa

t = TAP()
DOWN = "127.0.0.9"          # nothing listens here: connection refused

ZONE = {
    "a.test": [("MX", (10, "mx.a.test")),
               ("TXT", "v=spf1 ip4:127.0.0.2 ip4:127.0.0.12 -all")],
    "mx.a.test": [("A", "127.0.0.2")],
    "b.test": [("MX", (10, "mx.b.test")),
               ("TXT", "v=spf1 ip4:127.0.0.3 -all")],
    "mx.b.test": [("A", "127.0.0.3")],
    "mx2.b.test": [("A", "127.0.0.3")],
    # the worse preference listed first: order comes from the numbers
    "c.test": [("MX", (20, "mx.b.test")), ("MX", (10, "down.c.test"))],
    "down.c.test": [("A", DOWN)],
    "e.test": [("MX", (10, "mx.b.test")), ("MX", (10, "mx2.b.test"))],
    "f.test": [("A", "127.0.0.3")],                     # no MX at all
    "null.test": [("MX", (0, "."))],
    "loop.test": [("MX", (10, "mx.a.test"))],
    "down.test": [("MX", (10, "down.c.test"))],
    "v.test": [("MX", (10, "unnamed.v.test"))],          # not in the cert
    "unnamed.v.test": [("A", "127.0.0.3")],
    "noaddr.test": [("MX", (10, "gone.noaddr.test"))],
    "h.test": [("MX", (10, "mx.h.test"))],
    "mx.h.test": [("A", "127.0.0.5")],
    "i.test": [("MX", (10, "mx.i.test"))],
    "mx.i.test": [("A", "127.0.0.6")],
}

dns = TestDNS()
dns.start()
dns.set_zone(ZONE)
ca = test_ca()

B = Server(host="127.0.0.3", hostname="mx.b.test", services=("smtp",),
           overrides=["dns.resolver=" + dns.address, "dns.timeout=1s",
                      "dns.attempts=1", "spf.skip_loopback=no",
                      "smtpd.max_message_size=64k"])
B.setup(domains=["b.test", "c.test", "e.test", "f.test", "v.test"],
        users=[("bob@b.test", "pw"), ("bob2@b.test", "pw"),
               ("carol@c.test", "pw"), ("erin@e.test", "pw"),
               ("frank@f.test", "pw"), ("vic@v.test", "pw")])
B.start()
PORT = B.port()


def sender_instance(host, extra=()):
    s = Server(host=host, hostname="mx.a.test",
               services=("smtp", "submission"),
               overrides=["dns.resolver=" + dns.address, "dns.timeout=1s",
                          "dns.attempts=1", "queue.remote_port=%d" % PORT,
                          "queue.source_address=" + host,
                          "queue.tls_ca_file=" + ca["ca"],
                          "queue.retry_min=1s", "queue.retry_max=2s",
                          "queue.connect_timeout=3s"] + list(extra))
    s.setup(domains=["a.test"], users=[("alice@a.test", "pw")],
            aliases=[("fwd@a.test", "x@nx.test")])
    return s.start()


A = sender_instance("127.0.0.2")


def submit(server, rcpts, subject, body="hello\n", sender="alice@a.test",
           extra_headers=""):
    with smtplib.SMTP(server.host, server.port("submission"),
                      timeout=30) as s:
        s.starttls(context=client_tls(False))
        s.login("alice@a.test", "pw")
        s.sendmail(sender, rcpts, "From: <%s>\nSubject: %s\n%s\n%s" %
                   (sender, subject, extra_headers, body))


def find(server, address, subject, timeout=20):
    """The text of the message with this subject in address's INBOX."""
    def look():
        for name, data in server.messages(address):
            if ("Subject: %s\n" % subject).encode() in data or \
                    subject.encode() in data:
                return data.decode("utf-8", "replace")
        return None
    return wait_until(look, timeout)


def dsns(server, timeout=20, count=1):
    """Parsed DSNs (multipart/report) in alice's INBOX, oldest first."""
    def look():
        out = []
        for name, data in server.messages("alice@a.test"):
            m = email.message_from_bytes(data, policy=email.policy.default)
            if m.get_content_type() == "multipart/report":
                out.append(m)
        return out if len(out) >= count else None
    return wait_until(look, timeout) or []


def dsn_for(msgs, subject):
    """The DSN whose returned header has this subject."""
    for m in msgs:
        parts = list(m.iter_parts())
        if len(parts) == 3 and ("Subject: %s\n" % subject) in \
                parts[2].get_content():
            return m
    return None


def dsn_fields(m):
    """The per-recipient field groups of the message/delivery-status part
    (RFC 3464 2.3; the per-message group, 2.2, is left out)."""
    part = list(m.iter_parts())[1]
    groups = []
    for sub in part.get_payload():
        g = {k.lower(): str(v) for k, v in sub.items()}
        if "final-recipient" in g:
            groups.append(g)
    return groups


def queue_empty(server):
    return wait_until(lambda: server.queue_files() == [], 20)


try:
    # --- the main path: submission on a.test, MX lookup, SMTP to b.test ---
    submit(A, ["bob@b.test"], "first")
    msg = find(B, "bob@b.test", "first")
    t.ok(msg is not None, "alice@a.test -> bob@b.test: delivered into "
         "b.test's Maildir", A.log()[-3000:])
    msg = msg or ""
    t.ok(re.search(r"^Received-SPF: pass \(mx\.b\.test: domain of a\.test "
                   r"designates 127\.0\.0\.2 ", msg, re.M) and
         "spf=pass smtp.mailfrom=a.test" in msg,
         "b.test recorded SPF pass for a.test's address", msg)
    t.ok(re.search(r"Received: from mx\.a\.test \(\[127\.0\.0\.2\]\)\s+by "
                   r"mx\.b\.test \(maild\) with ESMTPS \(TLSv1\.[23]", msg),
         "a.test delivered from its source address over STARTTLS",
         msg)
    log = A.log()
    t.ok(re.search(r"relay=mx\.b\.test\[127\.0\.0\.3\]:%d tls=TLSv1\.[23] "
                   r"\S+ verified" % PORT, log) and
         re.search(r"to=<bob@b\.test> .*relay=mx\.b\.test\[127\.0\.0\.3\]:"
                   r"%d .*status=sent \(2\.0\.0 " % PORT, log),
         "a.test's log: the MX host, the verified TLS, status=sent",
         log[-3000:])
    t.ok(queue_empty(A), "a.test's queue is empty afterwards",
         A.queue_files())

    # --- one connection for every recipient at a domain ---
    submit(A, ["bob@b.test", "bob2@b.test", "frank@f.test"], "three")
    ok = find(B, "bob@b.test", "three") and find(B, "bob2@b.test", "three") \
        and find(B, "frank@f.test", "three")
    t.ok(ok, "a message to two domains: every recipient gets it",
         B.log()[-3000:])
    t.ok(re.search(r"queued from=<alice@a\.test> nrcpt=2 ", B.log()),
         "both b.test recipients went in one SMTP transaction",
         B.log()[-3000:])

    # --- MX preference and fallback, no MX ---
    submit(A, ["carol@c.test"], "fallback")
    t.ok(find(B, "carol@c.test", "fallback"),
         "first MX down: delivered through the second", A.log()[-3000:])
    log = A.log()
    m1 = log.find("relay=down.c.test[%s]:%d: 4.4.1" % (DOWN, PORT))
    m2 = log.find("to=<carol@c.test> orig_to=<carol@c.test> "
                  "relay=mx.b.test[127.0.0.3]")
    t.ok(0 <= m1 < m2, "the preference-10 MX was tried first, the "
         "preference-20 one after it (RFC 5321 5.1)", log[-3000:])

    submit(A, ["frank@f.test"], "implicit")
    t.ok(find(B, "frank@f.test", "implicit") and
         "relay=f.test[127.0.0.3]" in A.log(),
         "no MX record: the domain's A record is the host (implicit MX)",
         A.log()[-2000:])

    for i in range(12):
        submit(A, ["erin@e.test"], "equal %d" % i)
    wait_until(lambda: len(B.messages("erin@e.test")) >= 12, 30)
    firsts = re.findall(r"to=<erin@e\.test> .*relay=(mx2?\.b\.test)\[",
                        A.log())
    t.ok(len(B.messages("erin@e.test")) == 12 and
         {"mx.b.test", "mx2.b.test"} <= set(firsts),
         "two MX of equal preference: both are used (random order)",
         firsts)

    # --- permanent failures: returned to the sender at once ---
    submit(A, ["x@null.test", "nobody@b.test", "x@nx.test", "x@loop.test"],
           "failures")
    dsn = dsn_for(dsns(A), "failures")
    t.ok(dsn is not None, "one DSN for four failed recipients in alice's "
         "INBOX", A.log()[-3000:])
    if dsn is not None:
        parts = list(dsn.iter_parts())
        t.ok(dsn["From"].addresses[0].username == "MAILER-DAEMON" and
             dsn.get_param("report-type") == "delivery-status" and
             [p.get_content_type() for p in parts] ==
             ["text/plain", "message/delivery-status",
              "text/rfc822-headers"],
             "the DSN is multipart/report: text, delivery-status, "
             "headers (RFC 3464, RFC 6522)", dsn.as_string()[:2000])
        f = {g.get("final-recipient", ""): g for g in dsn_fields(dsn)}
        null = f.get("rfc822; x@null.test", {})
        t.ok(null.get("action") == "failed" and
             null.get("status") == "5.1.10",
             "null MX: failed, 5.1.10 (RFC 7505)", f)
        nob = f.get("rfc822; nobody@b.test", {})
        t.ok(nob.get("status") == "5.1.1" and
             nob.get("remote-mta") == "dns; mx.b.test" and
             nob.get("diagnostic-code", "").startswith("smtp; 550 5.1.1"),
             "unknown user at b.test: 5.1.1, Remote-MTA and the 550 as "
             "Diagnostic-Code", f)
        t.ok(f.get("rfc822; x@nx.test", {}).get("status") == "5.1.2",
             "a domain that does not exist: 5.1.2", f)
        t.ok(f.get("rfc822; x@loop.test", {}).get("status") == "5.4.6",
             "an MX pointing back at this host: 5.4.6 (mail loop)", f)
        t.ok(dsn.get("Auto-Submitted") == "auto-replied" and
             "Reporting-MTA: dns; mx.a.test" in parts[1].as_string(),
             "Auto-Submitted and Reporting-MTA are set",
             parts[1].as_string())
        raw = [d for n, d in A.messages("alice@a.test")
               if b"Subject: failures\n" in d]
        t.ok(raw and raw[0].startswith(b"Return-Path: <>\n"),
             "the DSN comes from the null sender <>", raw)
    t.ok(queue_empty(A), "after the DSN the message leaves the queue",
         A.queue_files())

    # a failure with the null sender as sender: no DSN, no loop
    before = len(dsns(A, timeout=1, count=0))
    with smtplib.SMTP(A.host, A.port("smtp"), timeout=30) as s:
        s.ehlo("client.test")
        s.sendmail("", ["fwd@a.test"], "Subject: from-null\n\nx\n")
    wait_until(lambda: "no DSN to the null sender" in A.log(), 15)
    t.ok("failed; no DSN to the null sender" in A.log() and
         len(dsns(A, timeout=1, count=0)) == before and queue_empty(A),
         "a failure for mail from <> is dropped without a DSN (RFC 5321 "
         "6.1)", A.log()[-2000:])

    # --- a remote SIZE limit (RFC 1870) ---
    submit(A, ["bob@b.test"], "too-big", body="x" * 100 + "\n" * 0 +
           ("y" * 70 + "\n") * 1200)
    dsn = dsn_for(dsns(A, count=2), "too-big")
    g = dsn_fields(dsn)[0] if dsn else {}
    t.ok(g.get("status") == "5.3.4" and find(B, "bob@b.test", "too-big",
                                              timeout=1) is None,
         "larger than b.test's SIZE: returned with 5.3.4, never sent", g)

    # --- a temporary refusal that clears up (451, then accepted) ---
    zone = dict(ZONE)
    zone["a.test"] = [("MX", (10, "mx.a.test")), "TIMEOUT"]
    dns.set_zone(zone)
    submit(A, ["bob@b.test"], "retried")
    wait_until(lambda: "451 4.7.24" in A.log(), 20)
    t.ok(re.search(r"to=<bob@b\.test> .*status=deferred \(4\.7\.24 host "
                   r"mx\.b\.test\[127\.0\.0\.3\]:\d+ said: 451 4\.7\.24",
                   A.log()),
         "b.test answers 451 (its SPF lookup times out): deferred",
         A.log()[-3000:])
    rc, out, err = A.mailctl("queue", "list")
    t.ok(rc == 0 and "to <bob@b.test>: pending, 1 attempt(s)" in out and
         "451 4.7.24" in out, "mailctl queue list shows the deferred "
         "recipient and its last error", out + err)
    dns.set_zone(ZONE)
    t.ok(find(B, "bob@b.test", "retried"), "after the retry (queue."
         "retry_min) the message arrives", A.log()[-3000:])
    t.ok(queue_empty(A), "and leaves the queue", A.queue_files())

    # --- scripted peers: what the client sends, and when ---
    # h.test offers PIPELINING and STARTTLS and refuses MAIL once: a
    # pipelining client has already sent RCPT and DATA (RFC 2920).
    hp = SMTPPeer(host="127.0.0.5", port=PORT, hostname="mx.h.test",
                  tls=(ca["cert"], ca["key"])).start()
    # i.test offers neither: a lock-step client sends nothing after a
    # refused MAIL, and the mail goes in clear.
    ip = SMTPPeer(host="127.0.0.6", port=PORT, hostname="mx.i.test",
                  extensions=["SIZE 1000000", "8BITMIME"]).start()
    try:
        hp.on("MAIL", "451 4.3.0 not now", times=1)
        hp.on("RCPT", "451 4.2.0 mailbox busy", match="<busy@h.test>",
              times=1)
        ip.on("MAIL", "451 4.3.0 not now", times=1)
        submit(A, ["x@h.test", "busy@h.test"], "peer-h")
        submit(A, ["y@i.test"], "peer-i")
        hp.wait_messages(2, timeout=20)
        ip.wait_messages(1, timeout=20)
        hs, is_ = hp.sessions, ip.sessions
        t.ok(len(hs) >= 1 and "RCPT TO:<x@h.test>" in hs[0].commands and
             "DATA" in hs[0].commands and hs[0].replies and
             "451 4.3.0" in " ".join(hs[0].replies),
             "PIPELINING offered: MAIL, RCPT and DATA went together, "
             "before MAIL's 451 came back", hs[0].commands if hs else hs)
        t.ok(len(is_) >= 1 and not any(c.startswith("RCPT")
                                      for c in is_[0].commands),
             "PIPELINING not offered: nothing sent after MAIL's 451",
             is_[0].commands if is_ else is_)
        got = [(tr.rcpts, tr.accepted) for s_ in hs for tr in
               s_.transactions if tr.accepted]
        t.ok(sorted(r for rc, a in got for r in rc) ==
             ["busy@h.test", "x@h.test"],
             "451 to MAIL, then 451 to one RCPT: each recipient is "
             "retried and delivered once", got)
        t.ok(all(s_.tls for s_ in hs if s_.transactions) and
             b"Subject: peer-h" in hp.messages()[0].data,
             "STARTTLS offered: used (queue.tls=may)",
             [(s_.tls, s_.ehlo) for s_ in hs])
        t.ok(ip.messages() and not any(s_.tls for s_ in is_) and
             b"Subject: peer-i" in ip.messages()[0].data,
             "no STARTTLS offered: delivered in clear",
             [(s_.tls, s_.commands) for s_ in is_])
        tr = [tr for s_ in is_ for tr in s_.transactions if tr.accepted]
        t.ok(tr and tr[0].mail_params.get("SIZE") and
             int(tr[0].mail_params["SIZE"]) > 0 and
             tr[0].mail_from == "alice@a.test",
             "MAIL FROM carries SIZE= when the server offers SIZE "
             "(RFC 1870)", tr[0].mail_params if tr else is_)
        t.ok(queue_empty(A), "both messages leave the queue",
             A.queue_files())
    finally:
        hp.stop()
        ip.stop()

    # --- opportunistic TLS with a name the certificate does not cover ---
    submit(A, ["vic@v.test"], "unverified")
    t.ok(find(B, "vic@v.test", "unverified") and
         re.search(r"relay=unnamed\.v\.test\[127\.0\.0\.3\]:\d+ "
                   r"tls=TLSv1\.[23] \S+ unverified \(", A.log()),
         "queue.tls=may: a certificate not valid for the MX name is "
         "logged as unverified and the mail still goes", A.log()[-2000:])

    # --- mailctl queue bounce / delete on mail that cannot go ---
    submit(A, ["x@down.test"], "held-1")
    submit(A, ["x@down.test"], "held-2")
    wait_until(lambda: len(A.queue_files()) == 2, 10)
    # held-1's id first: ids tell the time their spool file was made,
    # which for a session's second message precedes its arrival a little
    qdir = os.path.join(A.data_dir, "queue", "msg")
    ids = [A.queue_id(n) for n in sorted(
        A.queue_files(), key=lambda i: b"held-2" in open(
            os.path.join(qdir, i), "rb").read())]
    rc, out, err = A.mailctl("queue", "list")
    t.ok(rc == 0 and out.count("to <x@down.test>: pending") == 2 and
         "4.4.1 connect to down.c.test[%s]:%d" % (DOWN, PORT) in out,
         "two messages wait for a host that refuses connections", out)
    rc, out, err = A.mailctl("queue", "bounce", ids[0])
    dsn = dsn_for(dsns(A, count=3), "held-1")
    t.ok(rc == 0 and dsn is not None and
         dsn_fields(dsn)[0].get("status") == "5.0.0" and
         "returned to sender by the administrator" in
         list(dsn.iter_parts())[0].get_content(),
         "mailctl queue bounce: the sender gets a DSN at once", out + err)
    rc, out, err = A.mailctl("queue", "delete", ids[1])
    t.ok(rc == 0 and "deleted" in out and
         wait_until(lambda: A.queue_files() == [], 10) and
         dsn_for(dsns(A, timeout=1, count=0), "held-2") is None,
         "mailctl queue delete: gone, without a DSN", out + err)
    rc, out, err = A.mailctl("queue", "delete", ids[1])
    t.ok(rc == 1 and "no such message" in err,
         "mailctl queue delete of an unknown id: an error", out + err)
    rc, out, err = A.mailctl("queue", "bounce", "../../etc/passwd")
    t.ok(rc == 1 and "not a queue id" in err,
         "mailctl queue bounce refuses what is not a queue id", out + err)
    rc, out, err = A.mailctl("queue", "flush")
    t.ok(rc == 0 and "flush requested" in out, "mailctl queue flush",
         out + err)

    # --- an MX host without an address: wait, the DNS may be mending ---
    submit(A, ["x@noaddr.test"], "noaddr")
    wait_until(lambda: "4.4.3 no address for any MX host" in A.log(), 15)
    t.ok(re.search(r"to=<x@noaddr\.test> .*status=deferred \(4\.4\.3 no "
                   r"address for any MX host of noaddr\.test", A.log()),
         "an MX host with no A/AAAA record: deferred (4.4.3)",
         A.log()[-2000:])
    ids = [A.queue_id(n) for n in A.queue_files()]
    for i in ids:
        A.mailctl("queue", "delete", i)
    t.ok(wait_until(lambda: A.queue_files() == [], 10),
         "deleted again", A.queue_files())

    # --- queue.tls=verify: no delivery to a host it cannot verify ---
    V = sender_instance("127.0.0.12", ["queue.tls=verify"])
    try:
        submit(V, ["bob@b.test"], "verify-ok")
        t.ok(find(B, "bob@b.test", "verify-ok"),
             "queue.tls=verify: a verified host gets the mail",
             V.log()[-2000:])
        submit(V, ["vic@v.test"], "verify-bad")
        wait_until(lambda: "4.7.5 the certificate of" in V.log(), 15)
        t.ok(re.search(r"to=<vic@v\.test> .*status=deferred \(4\.7\.5 the "
                       r"certificate of unnamed\.v\.test\[127\.0\.0\.3\]:"
                       r"\d+ is not valid", V.log()) and
             find(B, "vic@v.test", "verify-bad", timeout=1) is None,
             "queue.tls=verify: a certificate not valid for the MX name "
             "defers the mail, nothing is sent", V.log()[-2000:])
    finally:
        V.cleanup()

    # --- delay warning, then giving up (queue.max_lifetime) ---
    S = sender_instance("127.0.0.2", ["queue.delay_warning=2s",
                                      "queue.max_lifetime=5s"])
    try:
        submit(S, ["x@down.test"], "doomed")
        dsn = dsn_for(dsns(S, count=1), "doomed")
        g = dsn_fields(dsn)[0] if dsn else {}
        t.ok(dsn is not None and dsn["Subject"].startswith("Delayed") and
             g.get("action") == "delayed" and g.get("status", "")
             .startswith("4.") and "will-retry-until" in g,
             "after queue.delay_warning: a 'delayed' DSN with "
             "Will-Retry-Until", dsn.as_string()[:1500] if dsn else
             S.log()[-2000:])
        both = dsns(S, count=2, timeout=20)
        final = [m for m in both if m["Subject"].startswith("Undelivered")]
        g = dsn_fields(final[0])[0] if final else {}
        t.ok(final and g.get("action") == "failed" and
             g.get("status") == "4.4.7" and len(both) == 2,
             "after queue.max_lifetime: given up, a 'failed' DSN with "
             "4.4.7 (and only one delay warning before it)", g)
        t.ok(queue_empty(S), "the expired message leaves the queue",
             S.queue_files())
    finally:
        S.cleanup()

finally:
    for s in (A, B):
        s.cleanup()
    dns.stop()
t.done()
