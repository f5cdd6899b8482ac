#!/usr/bin/python3
# IMAP: CONDSTORE turned on by its first use (RFC 7162 §3.1): FETCH
# (MODSEQ), SEARCH MODSEQ and STORE (UNCHANGEDSINCE) answer with the
# mailbox's HIGHESTMODSEQ the first time, and later STOREs carry MODSEQ.
import os
import re
import smtplib
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import TAP, Server  # noqa: E402

U, PW = "pat@example.test", "pat-pw"
t = TAP()
srv = Server(services=("smtp", "imap"),
             overrides=["auth.allow_plaintext=yes",
                        "auth.failure_delay_max=0"])
srv.setup(users=[(U, PW)])


class Imap:
    """A raw client: cmd() returns (untagged lines, tagged line)."""

    def __init__(self):
        self.s = socket.create_connection(("127.0.0.1", srv.port("imap")),
                                          timeout=30)
        self.f = self.s.makefile("rb")
        self.n = 0
        self.f.readline()
        _, ok = self.cmd("LOGIN %s %s" % (U, PW))
        assert b" OK" in ok, ok

    def cmd(self, line):
        self.n += 1
        tag = b"t%d" % self.n
        self.s.sendall(tag + b" " + line.encode() + b"\r\n")
        untagged = []
        while True:
            l = self.f.readline()
            if not l:
                return untagged, b""
            m = re.search(rb"\{(\d+)\}\r\n$", l)
            while m:                # a literal: read it and the rest
                l += self.f.read(int(m.group(1)))
                more = self.f.readline()
                l += more
                m = re.search(rb"\{(\d+)\}\r\n$", more)
            if l.startswith(tag + b" "):
                return untagged, l
            untagged.append(l)

    def close(self):
        try:
            self.cmd("LOGOUT")
        except OSError:
            pass
        self.s.close()


def deliver(subject, n=1):
    with smtplib.SMTP("127.0.0.1", srv.port("smtp"), timeout=30) as c:
        for i in range(n):
            c.sendmail("a@remote.test", [U], (
                "Subject: %s %d\r\nMessage-ID: <%s.%d@t>\r\n\r\n"
                "body of %s %d\r\n" % (subject, i, subject, i, subject, i)
            ).encode())


def has(lines, pattern):
    return [l for l in lines if re.search(pattern, l)]


try:
    srv.start()
    deliver("first", 3)
    srv.wait_messages(U, 3)

    # --- CONDSTORE turned on by FETCH (MODSEQ) ---
    a = Imap()
    a.cmd("SELECT INBOX")
    un, ok = a.cmd("FETCH 1 (MODSEQ)")
    t.ok(b" OK" in ok and has(un, rb"^\* OK \[HIGHESTMODSEQ \d+\]") and
         has(un, rb"^\* 1 FETCH \(MODSEQ \(\d+\)\)"),
         "FETCH (MODSEQ) turns CONDSTORE on: * OK [HIGHESTMODSEQ n] first",
         un + [ok])
    t.ok(un and un[0].startswith(b"* OK [HIGHESTMODSEQ"),
         "and before its FETCH data", un)
    un, ok = a.cmd("STORE 1 +FLAGS (\\Flagged)")
    t.ok(has(un, rb"^\* 1 FETCH \(.*MODSEQ \(\d+\)"),
         "a later STORE's FETCH carries MODSEQ", un)
    un, ok = a.cmd("FETCH 1 (MODSEQ)")
    t.ok(b" OK" in ok and not has(un, rb"HIGHESTMODSEQ"),
         "only the first use says HIGHESTMODSEQ", un)
    a.close()

    b = Imap()
    b.cmd("SELECT INBOX")
    un, ok = b.cmd("SEARCH MODSEQ 1")
    t.ok(has(un, rb"^\* OK \[HIGHESTMODSEQ \d+\]") and
         has(un, rb"^\* SEARCH 1 2 3 \(MODSEQ \d+\)"),
         "SEARCH MODSEQ turns it on and says HIGHESTMODSEQ", un)
    b.close()
    c = Imap()
    c.cmd("SELECT INBOX")
    un, ok = c.cmd("STORE 2 (UNCHANGEDSINCE 999999) +FLAGS (\\Seen)")
    t.ok(b" OK" in ok and has(un, rb"^\* OK \[HIGHESTMODSEQ \d+\]") and
         has(un, rb"^\* 2 FETCH \(.*MODSEQ"),
         "STORE (UNCHANGEDSINCE) turns it on and says HIGHESTMODSEQ",
         un + [ok])
    c.close()
    d = Imap()
    un, ok = d.cmd("SELECT INBOX")
    un2, ok2 = d.cmd("STORE 3 +FLAGS (\\Seen)")
    t.ok(has(un, rb"HIGHESTMODSEQ") and not has(un2, rb"MODSEQ"),
         "without a CONDSTORE use, STORE says no MODSEQ", un2)
    d.close()

finally:
    srv.stop()
    srv.cleanup()
t.done()
