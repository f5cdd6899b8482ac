#!/usr/bin/python3
"""What a RCPT costs: N RCPT commands on one SMTP connection, one at a
time (each waits for its reply), in one transaction that is then reset.

Cases: the same address each time (smtpd's one-second cache of its last
recipient answers); a new address each time (user+N: every RCPT asks the
auth service); the same with a quota on the user (the auth service also
asks the queue's usage process, at most once a second a mailbox); and
the user over its quota (every RCPT answered 452 4.2.2; 900 of them,
as each counts toward smtpd.max_errors).  Prints the
median and the best of BENCH_ROUNDS runs of each, in RCPTs a second
(the best is the one least disturbed by whatever else the machine does).

  MAILD_BINDIR=bin bench/smtp-rcpt.py       (BENCH_RCPTS, BENCH_ROUNDS)

Run it against an older build (MAILD_BINDIR) to see what a change
costs; a build that knows no quotas gives the last two cases as the
first two.
"""
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("MAILD_BINDIR", os.path.join(ROOT, "bin"))
sys.path.insert(0, os.path.join(ROOT, "t", "lib"))
from maildtest import Server, SMTPRaw  # noqa: E402

N = int(os.environ.get("BENCH_RCPTS", "2000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
USER = "u@bench.test"


def run(srv, addr, n=N):
    c = SMTPRaw("127.0.0.1", srv.port("smtp"), timeout=30)
    c.reply()
    c.cmd("EHLO bench.example")
    c.cmd("MAIL FROM:<b@sender.test>")
    start = time.perf_counter()
    for i in range(n):
        code, _ = c.cmd("RCPT TO:<%s>" % addr(i))
        if code not in (250, 452):
            raise SystemExit("RCPT %d: %s" % (i, c.log()[-500:]))
    took = time.perf_counter() - start
    c.cmd("RSET")
    c.cmd("QUIT")
    c.close()
    return n / took


srv = Server(services=("smtp",),
             overrides=["smtpd.max_recipients=100000",
                        "smtpd.max_errors=1000",
                        "server.log_level=info"])
srv.setup(domains=("bench.test",), users=[(USER, "pw")])
srv.start()
try:
    cases = [("same address", None, lambda i: USER),
             ("new address each time", None,
              lambda i: "u+%d@bench.test" % i),
             ("new address, quota (room)", ("1000000",),
              lambda i: "u+%d@bench.test" % i),
             ("new address, quota (full)", ("0", "0"), None)]
    print("%d RCPTs on one connection, median of %d, %s" %
          (N, ROUNDS, os.environ["MAILD_BINDIR"]))
    for name, quota, addr in cases:
        if quota == ("0", "0"):         # full: one message allowed, one there
            srv.mailctl("user", "quota", USER, "1000000", "1")
            c = SMTPRaw("127.0.0.1", srv.port("smtp"))
            c.reply()
            for line in ("EHLO b", "MAIL FROM:<b@sender.test>",
                         "RCPT TO:<%s>" % USER, "DATA"):
                c.cmd(line)
            c.cmd("Subject: one\r\n\r\nx\r\n.")
            c.cmd("QUIT")
            srv.wait_messages(USER, 1)
            time.sleep(1.1)
            addr = (lambda i: "u+%d@bench.test" % i)
        elif quota:
            srv.mailctl("user", "quota", USER, *quota)
        # a refusal counts as an error: at most smtpd.max_errors
        n = min(N, 900) if quota == ("0", "0") else N
        rates = [run(srv, addr, n) for _ in range(ROUNDS)]
        print("  %-28s %8.0f RCPT/s, best %6.0f  (%s)" % (
            name, statistics.median(rates), max(rates),
            " ".join("%.0f" % r for r in rates)))
finally:
    srv.cleanup()
