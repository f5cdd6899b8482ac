#!/usr/bin/python3
"""What SEARCH's and SORT's string comparisons cost (i;unicode-casemap,
lib/casemap.c): a mailbox of BENCH_SEARCH_MESSAGES (10,000) messages,
half of them plain ASCII, half with German and Greek subjects, names and
bodies (UTF-8, about 1.5 KB of text each); the median of
BENCH_SEARCH_ROUNDS (5) runs of each command, after one that fills the
index's summaries; wall time, and the CPU time of the server's processes
(utime + stime from /proc, which a loaded machine disturbs less):

    make programs && MAILD_BINDIR=$PWD/bin bench/imap-search.py

BENCH_SEARCH_CASES=SORT keeps the cases whose name holds that word.
Where the server has COMPARATOR (RFC 5255 section 4.7), the SORT and
THREAD cases again under i;ascii-casemap and i;octet, whose keys the
index keeps unfolded beside i;unicode-casemap's.

Not part of make bench: a figure for the README, not a comparison.
"""
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "t", "lib"))
from maildtest import IMAPRaw, Server  # noqa: E402

N = int(os.environ.get("BENCH_SEARCH_MESSAGES", "10000"))
ROUNDS = int(os.environ.get("BENCH_SEARCH_ROUNDS", "5"))
ONLY = os.environ.get("BENCH_SEARCH_CASES", "")
U, PW = "srch@example.test", "srch-pw"

ASCII = ("The quick brown fox jumps over the lazy dog near the river bank "
         "while the committee reviews the quarterly figures again.\n")
OTHER = ("Gr\u00fc\u00dfe aus K\u00f6ln: die Stra\u00dfe ist \u00fcberall "
         "gesperrt, \u00c4rger im B\u00fcro. \u039a\u03b1\u03bb\u03b7"
         "\u03bc\u03ad\u03c1\u03b1 \u03ba\u03cc\u03c3\u03bc\u03b5.\n")


def lit(s):
    b = s.encode("utf-8")
    return b"{%d+}\r\n%s" % (len(b), b)


CASES = [
    ("SEARCH SUBJECT (ASCII, all read)", b"SEARCH SUBJECT nowhere"),
    ("SEARCH SUBJECT (UTF-8 needle)",
     b"SEARCH CHARSET UTF-8 SUBJECT " + lit("stra\u00dfe")),
    ("SEARCH FROM (ASCII)", b"SEARCH FROM someone"),
    ("SEARCH BODY (ASCII, no hit)", b"SEARCH BODY nowhere"),
    ("SEARCH BODY (UTF-8 needle)",
     b"SEARCH CHARSET UTF-8 BODY " + lit("\u00c4RGER IM")),
    ("SEARCH TEXT (ASCII, no hit)", b"SEARCH TEXT nowhere"),
    ("SORT (SUBJECT) ALL", b"SORT (SUBJECT) UTF-8 ALL"),
    ("SORT (DISPLAYFROM) ALL", b"SORT (DISPLAYFROM) UTF-8 ALL"),
    ("THREAD ORDEREDSUBJECT ALL", b"THREAD ORDEREDSUBJECT UTF-8 ALL"),
]


def message(i):
    if i % 2 == 0:
        return ("From: Sender %d <s%d@remote.test>\nTo: %s\n"
                "Subject: report number %d\n"
                "Date: Mon, 23 Nov 2026 12:%02d:%02d +0000\n\n%s" % (
                    i % 97, i % 97, U, i, i // 60 % 60, i % 60,
                    ASCII * 12)).encode()
    return ("From: =?UTF-8?Q?J=C3=B6rg_=CE=91=CE=BD=CE=BD=CE=B1_%d?= "
            "<j%d@remote.test>\nTo: %s\n"
            "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_der_Stra=C3=9Fe_%d?=\n"
            "Date: Mon, 23 Nov 2026 12:%02d:%02d +0000\n"
            "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
            "Content-Transfer-Encoding: 8bit\n\n" % (
                i % 89, i % 89, U, i, i // 60 % 60, i % 60)).encode() + (
                    OTHER * 12).encode("utf-8")


def cpu_ms(srv):
    """CPU time of maild and its descendants so far, in ms."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0
    for pid in [srv.proc.pid] + srv.descendants():
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total * 1000.0 / tick


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
                                   (1795000000 + i, i)), "wb") as f:
                f.write(message(i))
        a = IMAPRaw("127.0.0.1", srv.port("imap"), timeout=600)
        a.login(U, PW)
        a.cmd("SELECT INBOX")
        a.cmd("SORT (SUBJECT) UTF-8 ALL")	# the summaries, once
        print("%d messages, median of %d runs, ms: wall, server CPU; "
              "fastest wall" % (N, ROUNDS))
        cases = list(CASES)
        un, ok = a.cmd("COMPARATOR")
        if b" OK" in ok:
            for cmp in ("i;ascii-casemap", "i;octet"):
                cases.append(("COMPARATOR " + cmp, None))
                cases += [(name + ", " + cmp, cmd) for name, cmd in CASES
                          if not cmd.startswith(b"SEARCH")]
                cases.append(("SEARCH SUBJECT (ASCII), " + cmp,
                              b"SEARCH SUBJECT nowhere"))
        for name, cmd in cases:
            if cmd is not None and ONLY not in name:
                continue
            if cmd is None:
                a.cmd(name)
                continue
            times, cpu = [], []
            for r in range(ROUNDS):
                c0 = cpu_ms(srv)
                t0 = time.monotonic()
                un, ok = a.cmd(cmd)
                times.append((time.monotonic() - t0) * 1000)
                cpu.append(cpu_ms(srv) - c0)
                if b" OK" not in ok:
                    print("  %s: %r" % (name, ok))
                    break
            hits = sum(len(x.split()) - 2 for x in un
                       if x.startswith((b"* SEARCH", b"* SORT")))
            print("  %-36s %9.1f %9.1f %9.1f  (%d hits)" % (
                name, statistics.median(times), statistics.median(cpu),
                min(times), hits))
        a.close()
    finally:
        srv.stop()
        srv.cleanup()


main()
