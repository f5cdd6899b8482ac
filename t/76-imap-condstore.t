#!/usr/bin/python3
# IMAP: CONDSTORE turned on by its first use (RFC 7162 §3.1): FETCH
# (MODSEQ), SEARCH MODSEQ and STORE (UNCHANGEDSINCE) answer with the
# mailbox's HIGHESTMODSEQ the first time, and later STOREs carry MODSEQ.
import os
import re
import smtplib
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import IMAPRaw, TAP, Server  # noqa: E402

U, PW = "pat@example.test", "pat-pw"
t = TAP()
srv = Server(services=("smtp", "imap"),
             overrides=["auth.allow_plaintext=yes",
                        "auth.failure_delay_max=0"])
srv.setup(users=[(U, PW)])


def Imap():
    """A raw client, logged in as U (maildtest.IMAPRaw)."""
    return IMAPRaw("127.0.0.1", srv.port("imap")).login(U, PW)


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
