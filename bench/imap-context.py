#!/usr/bin/python3
"""What a search context (RFC 5267 §4.3, imapd/context.c) costs: a
mailbox of BENCH_CONTEXT_MESSAGES (10,000) messages, one session with
contexts open, another flagging one message at a time; the time of the
first session's NOOP that reports the change (FETCH FLAGS, and ADDTO or
REMOVEFROM for each context), median of BENCH_CONTEXT_ROUNDS (50),
rounds that take \Seen off (the message enters an UNSEEN result) and
rounds that set it (it leaves) apart:

    make programs && MAILD_BINDIR=$PWD/bin bench/imap-context.py

Not part of make bench: a figure for the README, not a comparison.
"""
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "t", "lib"))
from maildtest import IMAPRaw, Server  # noqa: E402

N = int(os.environ.get("BENCH_CONTEXT_MESSAGES", "10000"))
ROUNDS = int(os.environ.get("BENCH_CONTEXT_ROUNDS", "50"))
U, PW = "ctx@example.test", "ctx-pw"

CASES = [
    ("no context", []),
    ("UID SEARCH UNSEEN", ["UID SEARCH RETURN (UPDATE) UNSEEN"]),
    ("UID SEARCH UNDELETED UNKEYWORD $Junk (not hit)",
     ["UID SEARCH RETURN (UPDATE) UNDELETED UNKEYWORD $Junk"]),
    ("UID SORT (REVERSE DATE) UNSEEN",
     ["UID SORT RETURN (UPDATE) (REVERSE DATE) UTF-8 UNSEEN"]),
    ("UID SORT (SUBJECT) UNSEEN",
     ["UID SORT RETURN (UPDATE) (SUBJECT) UTF-8 UNSEEN"]),
    ("10 contexts (5 SEARCH, 5 SORT)",
     ["UID SEARCH RETURN (UPDATE) UNSEEN"] * 5 +
     ["UID SORT RETURN (UPDATE) (REVERSE DATE) UTF-8 UNSEEN"] * 5),
]


def main():
    srv = Server(services=("imap",), overrides=[
        "auth.allow_plaintext=yes", "server.log_level=info"])
    srv.setup(users=[(U, PW)])
    srv.start()
    try:
        IMAPRaw("127.0.0.1", srv.port("imap")).login(U, PW).close()
        new = os.path.join(srv.maildir(U), "new")
        for i in range(N):
            with open(os.path.join(new, "%d.M%dP1.bench" %
                                   (1795000000 + i, i)), "w") as f:
                f.write("From: s%d@remote.test\nTo: %s\n"
                        "Subject: message %d\n"
                        "Date: Mon, 23 Nov 2026 12:%02d:%02d +0000\n\n"
                        "text\n" % (i % 97, U, (i * 7919) % N,
                                    i // 60 % 60, i % 60))
        print("%d messages, median of %d rounds, ms per NOOP that reports "
              "one flag change\n  %-46s %7s %7s" % (N, ROUNDS, "contexts",
                                                   "enters", "leaves"))
        for name, cmds in CASES:
            a = IMAPRaw("127.0.0.1", srv.port("imap"), timeout=300)
            a.login(U, PW)
            b = IMAPRaw("127.0.0.1", srv.port("imap"), timeout=300)
            b.login(U, PW)
            a.cmd("SELECT INBOX")
            b.cmd("SELECT INBOX")
            for c in cmds:
                a.cmd(c)
            times = []
            for r in range(ROUNDS):
                b.cmd("STORE %d %sFLAGS (\\Seen)" %
                      (1 + (r // 2) * 97 % N, "+" if r % 2 == 0 else "-"))
                t0 = time.monotonic()
                un, ok = a.cmd("NOOP")
                times.append((time.monotonic() - t0) * 1000)
                if "UNSEEN" in name and not any(b"ESEARCH" in x
                                                for x in un):
                    print("  (round %d: no update?)" % r)
            print("  %-46s %7.2f %7.2f" % (
                name, statistics.median(times[1::2]),
                statistics.median(times[0::2])))
            a.close()
            b.close()
    finally:
        srv.stop()
        srv.cleanup()


main()
