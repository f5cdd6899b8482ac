#!/usr/bin/python3
# IMAP: FETCH of messages another session (or program) expunged meanwhile
# (RFC 2180 §4.1): never a server error, "OK [EXPUNGEISSUED]" (RFC 5530),
# what the index still knows and NIL for the rest; then the EXPUNGE.
import os
import re
import smtplib
import sys
import threading
import time

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

    # --- a row expunged by another session before FETCH ---
    a, b = Imap(), Imap()
    for tries in range(50):             # until the 3 are indexed
        un, _ = a.cmd("SELECT INBOX")
        if any(l.startswith(b"* 3 EXISTS") for l in un):
            break
        time.sleep(0.1)
    b.cmd("SELECT INBOX")
    b.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")
    b.cmd("EXPUNGE")
    un, ok = a.cmd("FETCH 1:3 (UID BODY.PEEK[TEXT])")
    t.ok(ok.startswith(b"t") and b" OK [EXPUNGEISSUED]" in ok,
         "FETCH of a message expunged by another session: "
         "OK [EXPUNGEISSUED]", ok)
    t.ok(len(has(un, rb"^\* [23] FETCH \(UID \d+ BODY\[TEXT\] \{")) == 2 and
         not has(un, rb"EXPUNGE"),
         "the others are given, and no EXPUNGE during FETCH", un)
    un, ok = a.cmd("NOOP")
    t.ok(has(un, rb"^\* 1 EXPUNGE"), "the EXPUNGE comes after it", un)

    # --- a file gone while its row is still in the index ---
    deliver("gone")
    srv.wait_messages(U, 3)             # 2 left of the first, and it
    un, ok = a.cmd("NOOP")
    exists = [int(x) for x in re.findall(rb"^\* (\d+) EXISTS", b"".join(un),
                                        re.M)]
    seq = exists[-1] if exists else 0
    a.cmd("FETCH %d (FLAGS)" % seq)     # now in cur/, in the index
    gone = []
    for sub in ("new", "cur"):
        d = os.path.join(srv.maildir(U), sub)
        for name in os.listdir(d):
            with open(os.path.join(d, name), "rb") as f:
                if b"Subject: gone 0" in f.read():
                    gone.append(os.path.join(d, name))
    for p in gone:
        os.unlink(p)                    # another program's doing
    un, ok = a.cmd("FETCH %d (UID FLAGS RFC822.SIZE BODY.PEEK[] ENVELOPE)"
                   % seq)
    t.ok(len(gone) == 1 and b" OK [EXPUNGEISSUED]" in ok and
         b"SERVERBUG" not in ok,
         "FETCH of a message whose file is gone: OK [EXPUNGEISSUED], not "
         "[SERVERBUG]", (gone, ok))
    t.ok(has(un, rb"^\* %d FETCH \(UID \d+ FLAGS \(.*\) RFC822\.SIZE \d+ "
             rb"BODY\[\] NIL ENVELOPE NIL\)" % seq),
         "what the index knows, NIL for the rest", un)
    un, ok = a.cmd("NOOP")
    t.ok(has(un, rb"^\* %d EXPUNGE" % seq), "then its EXPUNGE", un)
    a.close()
    b.close()

    # --- fetching while another session expunges, again and again ---
    deliver("busy", 40)
    srv.wait_messages(U, 43, timeout=20)
    fetcher, expunger = Imap(), Imap()
    fetcher.cmd("SELECT INBOX")
    expunger.cmd("SELECT INBOX")
    replies, stop = [], threading.Event()

    def expunge_loop():
        for _ in range(40):
            if stop.is_set():
                return
            expunger.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")
            expunger.cmd("EXPUNGE")

    th = threading.Thread(target=expunge_loop)
    th.start()
    deadline = time.monotonic() + 30
    while th.is_alive() and time.monotonic() < deadline:
        _, ok = fetcher.cmd("FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS "
                            "(SUBJECT)])")
        replies.append(ok)
        _, ok = fetcher.cmd("NOOP")
    stop.set()
    th.join(30)
    bad = [r for r in replies if b" OK" not in r]
    t.ok(replies and not bad,
         "%d FETCHes while another session expunged 40 messages: every "
         "one OK" % len(replies), bad[:3])
    fetcher.close()
    expunger.close()

    # --- a search answers for what the client is told of ---
    a, b = Imap(), Imap()
    un, _ = a.cmd("SELECT INBOX")
    n = int(has(un, rb"^\* \d+ EXISTS")[0].split()[1])
    b.cmd("SELECT INBOX")
    deliver("late")
    srv.wait_messages(U, n + 1, timeout=20)
    un, ok = a.cmd("UID SEARCH ALL")
    found = has(un, rb"^\* SEARCH")
    t.ok(ok.split()[1:2] == [b"OK"] and has(un, rb"^\* %d EXISTS" % (n + 1))
         and un.index(has(un, rb"EXISTS")[0]) < un.index(found[0]) and
         len(found[0].split()) - 2 == n + 1,
         "UID SEARCH ALL after another delivery: the EXISTS first, and "
         "the new message among the hits", un)
    b.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")
    b.cmd("EXPUNGE")
    deliver("later")
    srv.wait_messages(U, n + 1, timeout=20)
    un, ok = a.cmd("SEARCH ALL")
    found = has(un, rb"^\* SEARCH")
    t.ok(ok.split()[1:2] == [b"OK"] and not has(un, rb"EXPUNGE") and
         has(un, rb"^\* %d EXISTS" % (n + 2)) and
         un.index(has(un, rb"EXISTS")[0]) < un.index(found[0]),
         "SEARCH (no UID) then: the new EXISTS first, no EXPUNGE (RFC "
         "3501 §7.4.1)", un)
    un, ok = a.cmd("NOOP")
    t.ok(has(un, rb"^\* 1 EXPUNGE"), "the EXPUNGE at the next NOOP", un)
    a.close()
    b.close()
    log = srv.log()
    t.ok("SERVERBUG" not in log and "cannot read a message" not in log,
         "and the log has no server error for them",
         [l for l in log.splitlines() if "fetch" in l and "error" in l][:3])
finally:
    srv.stop()
    srv.cleanup()
t.done()
