#!/usr/bin/python3
# SMTP smuggling on the way out: mail from anyone to a forwarding alias
# carries bare CR and NUL variants of the end-of-data sequence; what goes
# to the next hop (a scripted peer that records the wire), what lands in
# the Maildir, and the bounce must hold no bare CR, no bare LF and no NUL,
# so no receiver can find a second transaction in it.
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import TAP, Server, SMTPRaw, free_port, wait_until  # noqa
from smtppeer import SMTPPeer  # noqa: E402
from testdns import TestDNS  # noqa: E402

t = TAP()
HOST = "127.0.0.2"
PEER = "127.0.0.5"
dns = TestDNS()
dns.start()
dns.set_zone({"h.test": [("MX", (10, "mx.h.test"))],
              "mx.h.test": [("A", PEER)]})
port = free_port(PEER)
peer = SMTPPeer(host=PEER, port=port, hostname="mx.h.test").start()
peer.on("RCPT", "550 5.1.1 no such user", match="<gone@h.test>")
srv = Server(host=HOST, hostname="mx.a.test", services=("smtp",),
             overrides=["dns.resolver=" + dns.address, "dns.timeout=1s",
                        "dns.attempts=1", "queue.remote_port=%d" % port,
                        "queue.tls=none", "queue.retry_min=1s"])
srv.setup(domains=["a.test"], users=[("local@a.test", "pw")],
          aliases=[("fwd@a.test", "x@h.test"), ("fwd@a.test", "local@a.test"),
                   ("dead@a.test", "gone@h.test")])
srv.start()

BARE_CR = re.compile(rb"\r(?!\n)")
BARE_LF = re.compile(rb"(?<!\r)\n")
VARIANTS = [("CR.CR", b"\r.\r"), ("CR.CRLF", b"\r.\r\n"),
            ("CRLF NUL.CRLF", b"\r\n\x00.\r\n"), ("NUL.CRLF", b"\r\n.\x00\r\n"),
            ("LF.CR", b"\n.\r")]


def smuggle(rcpt, name, eod, sender="x@remote.test", in_header=False):
    """One message whose body (or header) holds eod and then a second
    transaction for evil@h.test."""
    evil = (b"MAIL FROM:<admin@a.test>\r\nRCPT TO:<evil@h.test>\r\nDATA\r\n"
            b"Subject: smuggled\r\n\r\nevil\r\n.\r\n")
    c = SMTPRaw(HOST, srv.port())
    c.reply()
    c.cmd("EHLO client.test")
    c.cmd("MAIL FROM:<%s>" % sender)
    c.cmd("RCPT TO:<%s>" % rcpt)
    c.cmd("DATA")
    if in_header:
        msg = (b"Subject: smuggle " + name.encode() + b"\r\nX-Trick: a" +
               eod + evil + b"\r\n\r\nbody\r\n.\r\n")
    else:
        msg = (b"Subject: smuggle " + name.encode() + b"\r\n\r\nfirst" + eod +
               evil)
    c.send(msg)
    code, text = c.reply()
    c.cmd("QUIT")
    c.close()
    return code


def clean(data):
    """Why data is unsafe for a next hop, or None."""
    if BARE_CR.search(data):
        return "bare CR at %d" % BARE_CR.search(data).start()
    if BARE_LF.search(data):
        return "bare LF at %d" % BARE_LF.search(data).start()
    if b"\0" in data:
        return "NUL at %d" % data.index(b"\0")
    return None


try:
    for i, (name, eod) in enumerate(VARIANTS):
        t.eq(smuggle("fwd@a.test", name, eod), 250,
             "%s in the body: accepted" % name)
    peer.wait_messages(len(VARIANTS), timeout=30)
    wait_until(lambda: len(srv.messages("local@a.test")) >= len(VARIANTS), 20)
    out = [tr for s in peer.sessions for tr in s.transactions if tr.accepted]
    for name, _ in VARIANTS:
        mine = [tr for tr in out
                if ("smuggle %s\r\n" % name).encode() in tr.data]
        t.ok(len(mine) == 1 and clean(mine[0].data) is None and
             b"RCPT TO:<evil@h.test>" in mine[0].data,
             "%s: relayed as one message, the smuggled commands content, "
             "no bare CR/LF or NUL on the wire" % name,
             repr(mine[0].data if mine else out))
    t.ok(not any("evil@h.test" in r for tr in out for r in tr.rcpts),
         "the next hop saw no transaction for evil@h.test",
         [tr.rcpts for tr in out])
    local = [d for _, d in srv.messages("local@a.test")]
    for name, _ in VARIANTS:
        mine = [d for d in local if ("smuggle %s\n" % name).encode() in d]
        bad = mine and (b"\r" in mine[0] or b"\0" in mine[0])
        t.ok(len(mine) == 1 and not bad, "%s: the Maildir copy has no CR "
             "and no NUL (lines end in LF there)" % name, repr(mine))

    # the header's trick comes back in a bounce to a remote sender
    n = len(out)
    t.eq(smuggle("dead@a.test", "bounce", b"\r.\r", sender="s@h.test",
                 in_header=True), 250, "a message for a recipient the next "
         "hop refuses: accepted")
    peer.wait_messages(n + 1, timeout=30)
    dsn = [tr for s in peer.sessions for tr in s.transactions
           if tr.accepted and tr.mail_from == "" and b"smuggle bounce" in
           tr.data]
    t.ok(len(dsn) == 1 and clean(dsn[0].data) is None and
         b"X-Trick:" in dsn[0].data,
         "the bounce carrying the original header: no bare CR/LF or NUL",
         repr(dsn[0].data if dsn else peer.sessions))
finally:
    srv.cleanup()
    peer.stop()
    dns.stop()
t.done()
