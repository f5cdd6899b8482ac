#!/usr/bin/python3
"""What NOTIFY (RFC 5465, imapd/notify.c) costs: one session with
NOTIFY SET (personal (...)) over BENCH_NOTIFY_FOLDERS (70) folders,
another appending to them and creating folders; the time from the
second session's command to the first session's STATUS or LIST
(median and worst of BENCH_NOTIFY_ROUNDS, 30); the same from another
session's STORE (a flag change: cur/ renamed) to the STATUS; a NOOP's
round trip in a session with and without NOTIFY, and a STORE's in the
NOTIFY session:

    make programs && MAILD_BINDIR=$PWD/bin bench/imap-notify.py

BENCH_NOTIFY_FLAGCHANGE=0: the filter without FlagChange (folders'
cur/ watched for MessageExpunge alone), and no STORE to STATUS.

Not part of make bench: a figure for the README, not a comparison.
"""
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "t", "lib"))
from maildtest import Server  # noqa: E402
from rawimap import RawImap  # noqa: E402

FOLDERS = int(os.environ.get("BENCH_NOTIFY_FOLDERS", "70"))
ROUNDS = int(os.environ.get("BENCH_NOTIFY_ROUNDS", "30"))
FLAGCHANGE = os.environ.get("BENCH_NOTIFY_FLAGCHANGE", "1") != "0"
U, PW = "bench@example.test", "bench-pw"


def Client(port):
    return RawImap(port, U, PW, prefix="b")


def ms(xs):
    return "median %.2f ms, worst %.1f ms" % (statistics.median(xs) * 1000,
                                            max(xs) * 1000)


srv = Server(services=("imap",), overrides=["auth.allow_plaintext=yes"])
srv.setup(users=[(U, PW)])
try:
    srv.start()
    a, b = Client(srv.port("imap")), Client(srv.port("imap"))
    for i in range(FOLDERS - 6):
        b.cmd("CREATE Box%d" % i)
    un, r = a.cmd("NOTIFY SET (personal (MessageNew MessageExpunge "
                  "%sMailboxName SubscriptionChange))"
                  % ("FlagChange " if FLAGCHANGE else ""))
    assert b" OK" in r, r
    data = "Subject: x\r\n\r\nx\r\n"
    lat = []
    for i in range(ROUNDS):
        t0 = time.time()
        b.cmd("APPEND Box%d {%d+}\r\n%s" % (i % (FOLDERS - 6), len(data),
                                            data))
        assert a.until(rb"^\* STATUS Box", 10)[1]
        lat.append(time.time() - t0)
        time.sleep(0.2)
    print("APPEND to STATUS, %d folders watched: %s" % (FOLDERS, ms(lat)))
    lat = []
    for i in range(ROUNDS):
        t0 = time.time()
        b.cmd("CREATE New%d" % i)
        assert a.until(rb"^\* LIST ", 10)[1]
        lat.append(time.time() - t0)
        time.sleep(0.2)
    print("CREATE to LIST, %d folders: %s" % (FOLDERS + ROUNDS, ms(lat)))
    lat = []
    for i in range(ROUNDS if FLAGCHANGE else 0):
        box = "Box%d" % (i % (FOLDERS - 6))
        b.cmd("SELECT %s" % box)
        t0 = time.time()
        b.cmd("STORE 1 %sFLAGS (\\Flagged)" % "+-"[i // (FOLDERS - 6) % 2])
        assert a.until(rb"^\* STATUS " + box.encode(), 10)[1]
        lat.append(time.time() - t0)
        time.sleep(0.2)
    b.cmd("UNSELECT")
    if FLAGCHANGE:
        print("STORE to STATUS, %d folders watched: %s" % (FOLDERS,
                                                          ms(lat)))
    a.cmd("SELECT Box1")
    lat = []
    for i in range(200):
        t0 = time.time()
        a.cmd("STORE 1 %sFLAGS (\\Seen)" % "+-"[i % 2])
        lat.append(time.time() - t0)
    a.cmd("UNSELECT")
    print("STORE, a session with NOTIFY: %s" % ms(lat))
    for who, c in (("without NOTIFY", b), ("with NOTIFY", a)):
        lat = []
        for i in range(200):
            t0 = time.time()
            c.cmd("NOOP")
            lat.append(time.time() - t0)
        print("NOOP, a session %s: %s" % (who, ms(lat)))
finally:
    srv.stop()
    srv.cleanup()
