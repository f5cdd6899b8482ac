#!/usr/bin/python3
# SORT, ESORT and THREAD against the real server, with a raw client on
# 143 (plain-text LOGIN allowed for the test):
# - SORT (RFC 5256 section 3) by every key on a hand-made mailbox:
#   ARRIVAL, CC, DATE (the Date: in UTC, INTERNALDATE without one), FROM,
#   SIZE, SUBJECT (the base subject), TO, REVERSE, ties in mailbox
#   order, missing headers sorting first; RFC 5957's DISPLAYFROM and
#   DISPLAYTO; several keys; search keys; charsets (US-ASCII and UTF-8,
#   anything else NO [BADCHARSET]); UID SORT; malformed criteria BAD;
# - ESORT (RFC 5267 section 3): RETURN (MIN MAX ALL COUNT), ALL in sort
#   order with ascending runs as ranges;
# - THREAD ORDEREDSUBJECT, REFERENCES and REFS: RFC 5256's own example
#   of a thread tree "(2)(3 6 (4 23)(44 7 96))" and of a dummy "((3)(5))"
#   rebuilt as messages; the subject merging of REFERENCES (step 5) and
#   its absence in REFS; loops in references; UID THREAD; a thread
#   nested 1,500 deep (no recursion in the server may overflow).
import os
import re
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from maildtest import IMAPConn, TAP, Server  # noqa: E402

t = TAP()
HOST = "127.0.0.1"
U, PW = "pat@example.test", "pat-secret"


def Conn(port, timeout=60):
    """A raw IMAP connection with room for slow answers under ASan."""
    return IMAPConn(port, timeout=timeout)


def append(c, box, msg, date=None):
    """APPEND with a non-synchronizing literal (RFC 7888)."""
    d = b' "%s"' % date.encode() if date else b""
    return c.cmd(b"APPEND %s%s {%d+}\r\n%s" % (box.encode(), d, len(msg),
                                               msg))


def answer(unt, word):
    """The numbers of the untagged SORT response, in order; None if
    there was none."""
    for r in unt:
        if r.startswith(b"* " + word.encode()):
            return [int(x) for x in r.split()[2:] if x.isdigit()]
    return None


def threads(unt):
    for r in unt:
        if r == b"* THREAD" or r.startswith(b"* THREAD "):
            return r[9:].decode()
    return None


def esearch(unt):
    for r in unt:
        if r.startswith(b"* ESEARCH"):
            return r.decode()
    return None


def msg(**h):
    lines = []
    for k in ("From", "To", "Cc", "Subject", "Date", "Message_ID",
              "In_Reply_To", "References"):
        if k in h:
            lines.append("%s: %s" % (k.replace("_", "-"), h[k]))
    body = h.get("body", "text")
    return ("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode()


# The hand-made mailbox: (message, INTERNALDATE).  Sent dates in UTC:
# 1 Jan 2 10:00, 2 Jan 2 04:00, 3 none (INTERNALDATE Jan 3 00:00),
# 4 Jan 2 10:00 (a tie with 1), 5 Jan 3 11:00.
SORT_MSGS = [
    (msg(From='"Zed Zulu" <alice@a.test>', To="Bob <bob@b.test>",
         Cc="carol@c.test", Subject="Re: apple",
         Date="Tue, 02 Jan 2024 10:00:00 +0000", body="x" * 50),
     "05-Jan-2024 00:00:00 +0000"),
    (msg(From="bob@b.test", To='"Alan" <zoe@z.test>', Subject="banana",
         Date="Mon, 01 Jan 2024 23:00:00 -0500", body="x" * 10),
     "01-Jan-2024 00:00:00 +0000"),
    (msg(From="Carl <CARL@c.test>", Subject="[list] Apple",
         body="x" * 200),
     "03-Jan-2024 00:00:00 +0000"),
    (msg(To="undisclosed-recipients:;", Subject="Fwd: cherry (fwd)",
         Date="Tue, 02 Jan 2024 10:00:00 +0000", body="x" * 5),
     "02-Jan-2024 00:00:00 +0000"),
    (msg(From="alice@A.test", To="amy@z.test", Cc='"Bee" <bee@b.test>',
         Subject="banana", Date="Wed, 03 Jan 2024 12:00:00 +0100",
         body="x" * 70),
     "04-Jan-2024 00:00:00 +0000"),
]


def sizes_order():
    return [i + 1 for i in sorted(range(len(SORT_MSGS)),
                                  key=lambda i: (len(SORT_MSGS[i][0]), i))]


def sorting(port):
    c = Conn(port)
    try:
        st, line, _ = c.cmd('LOGIN "%s" "%s"' % (U, PW))
        t.eq(st, "OK", "LOGIN")
        st, line, unt = c.cmd("CAPABILITY")
        caps = b" ".join(unt).split()
        for cap in (b"SORT", b"SORT=DISPLAY", b"ESORT",
                    b"THREAD=ORDEREDSUBJECT", b"THREAD=REFERENCES",
                    b"THREAD=REFS"):
            t.ok(cap in caps, "CAPABILITY has %s" % cap.decode(), c.log())
        c.cmd("CREATE Sort")
        # a first message expunged: UIDs are sequence numbers + 1
        append(c, "Sort", msg(Subject="gone"))
        for m, d in SORT_MSGS:
            st, line, _ = append(c, "Sort", m, d)
            t.ok(st == "OK", "APPEND " + m.split(b"\r\n")[0].decode(),
                 c.log())
        c.cmd("SELECT Sort")
        c.cmd("STORE 1 +FLAGS (\\Deleted)")
        st, line, unt = c.cmd("EXPUNGE")
        t.ok(st == "OK" and b"* 1 EXPUNGE" in unt, "the first expunged",
             c.log())

        for crit, want in [
                ("DATE", [2, 1, 4, 3, 5]),
                ("REVERSE DATE", [5, 3, 1, 4, 2]),
                ("ARRIVAL", [2, 4, 3, 5, 1]),
                ("REVERSE ARRIVAL", [1, 5, 3, 4, 2]),
                ("FROM", [4, 1, 5, 2, 3]),
                ("TO", [3, 5, 1, 4, 2]),
                ("CC", [2, 3, 4, 5, 1]),
                ("REVERSE CC", [1, 5, 2, 3, 4]),
                ("SUBJECT", [1, 3, 2, 5, 4]),
                ("SUBJECT REVERSE DATE", [3, 1, 5, 2, 4]),
                ("SIZE", sizes_order()),
                ("REVERSE SIZE", list(reversed(sizes_order()))),
                ("DISPLAYFROM", [4, 5, 2, 3, 1]),
                ("DISPLAYTO", [3, 2, 5, 1, 4]),
                ("FROM DATE", [4, 1, 5, 2, 3]),
                ("FROM REVERSE DATE", [4, 5, 1, 2, 3]),
                ("REVERSE FROM ARRIVAL", [3, 2, 5, 1, 4])]:
            st, line, unt = c.cmd("SORT (%s) UTF-8 ALL" % crit)
            t.ok(st == "OK" and answer(unt, "SORT") == want,
                 "SORT (%s): %s" % (crit, want), c.log())
        st, line, unt = c.cmd("UID SORT (DATE) US-ASCII ALL")
        t.ok(st == "OK" and answer(unt, "SORT") == [3, 2, 5, 4, 6],
             "UID SORT (DATE) US-ASCII: UIDs", c.log())
        st, line, unt = c.cmd("sort (subject) utf-8 SUBJECT banana")
        t.ok(st == "OK" and answer(unt, "SORT") == [2, 5],
             "SORT with a search key (lower case command)", c.log())
        st, line, unt = c.cmd('SORT (DATE) UTF-8 FROM "alice" NOT SMALLER 1')
        t.ok(st == "OK" and answer(unt, "SORT") == [1, 5],
             "SORT with two search keys", c.log())
        st, line, unt = c.cmd("SORT (DATE) UTF-8 SUBJECT nothing")
        t.ok(st == "OK" and b"* SORT" in unt, "no match: a bare * SORT",
             c.log())
        st, line, unt = c.cmd("SORT (DATE) UTF-8 2:4")
        t.ok(st == "OK" and answer(unt, "SORT") == [2, 4, 3],
             "SORT of a sequence set", c.log())
        st, line, unt = c.cmd("SORT (DATE) KOI8-R ALL")
        t.ok(st == "NO" and b"[BADCHARSET" in line,
             "an unknown charset: NO [BADCHARSET]", c.log())
        for bad in ["SORT () UTF-8 ALL", "SORT (REVERSE) UTF-8 ALL",
                    "SORT (DATE REVERSE) UTF-8 ALL",
                    "SORT (REVERSE REVERSE DATE) UTF-8 ALL",
                    "SORT (FOO) UTF-8 ALL", "SORT (DATE) UTF-8",
                    "SORT (DATE) ALL", "SORT DATE UTF-8 ALL",
                    "SORT (DATE) UTF-8 NOSUCHKEY",
                    "SORT (%s) UTF-8 ALL" % " ".join(["DATE"] * 17),
                    "SORT RETURN (FOO) (DATE) UTF-8 ALL",
                    "SORT RETURN (DATE) UTF-8 ALL"]:
            st, line, unt = c.cmd(bad)
            t.ok(st == "BAD" and answer(unt, "SORT") is None,
                 "%s: BAD" % bad, c.log())
        st, line, unt = c.cmd("SORT (%s) UTF-8 ALL" % " ".join(["DATE"] * 16))
        t.ok(st == "OK", "16 sort keys are fine", c.log())
        st, line, unt = c.cmd("SORT (DATE) UTF-8 MODSEQ 1")
        t.ok(st == "OK" and re.search(rb"^\* SORT 2 1 4 3 5 \(MODSEQ \d+\)$",
                                      b"\n".join(unt), re.M),
             "SORT with MODSEQ: (MODSEQ n) at the end (RFC 7162)", c.log())

        # ESORT (RFC 5267)
        for ret, crit, want in [
                ("MIN MAX COUNT", "DATE", ' MIN 2 MAX 5 COUNT 5'),
                ("ALL", "DATE", " ALL 2,1,4,3,5"),
                ("", "CC", " ALL 2:5,1"),
                ("COUNT", "REVERSE CC", " COUNT 5"),
                ("MIN", "REVERSE DATE", " MIN 5")]:
            st, line, unt = c.cmd("SORT RETURN (%s) (%s) UTF-8 ALL" %
                                  (ret, crit))
            tag = line.split()[0].decode()
            t.ok(st == "OK" and esearch(unt) ==
                 '* ESEARCH (TAG "%s")%s' % (tag, want) and
                 answer(unt, "SORT") is None,
                 "SORT RETURN (%s) (%s): %s" % (ret, crit, want), c.log())
        st, line, unt = c.cmd("UID SORT RETURN (ALL MIN) (CC) UTF-8 ALL")
        tag = line.split()[0].decode()
        t.ok(st == "OK" and esearch(unt) ==
             '* ESEARCH (TAG "%s") UID MIN 3 ALL 3:6,2' % tag,
             "UID SORT RETURN (ALL MIN) (CC): UIDs", c.log())
        st, line, unt = c.cmd("SORT RETURN (MIN COUNT) (DATE) UTF-8 "
                              "SUBJECT nothing")
        tag = line.split()[0].decode()
        t.ok(st == "OK" and esearch(unt) == '* ESEARCH (TAG "%s") COUNT 0'
             % tag, "ESORT with no match: COUNT 0 alone", c.log())
        c.cmd("LOGOUT")
    finally:
        c.close()


# RFC 5256 section 4's example "(2)(3 6 (4 23)(44 7 96))" as messages of
# a 110-message mailbox, and the others: (seq, subject, references).
TREE = {2: ("alpha", []),
        3: ("beta", []),
        6: ("Re: beta", [3]),
        4: ("Re: beta", [3, 6]),
        23: ("Re: beta", [3, 6, 4]),
        44: ("Re: beta", [3, 6]),
        7: ("Re: beta", [3, 6, 44]),
        96: ("Re: beta", [3, 6, 44, 7]),
        # RFC 5256's dummy example, "((3)(5))": two replies to a message
        # that is not there
        10: ("gamma", ["gone"]),
        12: ("Re: gamma", ["gone"]),
        # step 5: a reply without references under its original
        20: ("delta", []),
        21: ("Re: delta", []),
        # two replies of one subject: a dummy over both
        30: ("Re: eps", []),
        31: ("Re: eps", []),
        # a reply before its original
        50: ("Re: sigma", []),
        51: ("sigma", []),
        # a loop: each names the other
        60: ("tau", [61]),
        61: ("Re: tau", [60]),
        # REFS orders threads by their latest message
        70: ("iota", []),
        71: ("kappa", []),
        90: ("Re: iota", [70]),
        }


def tree_msg(seq):
    subject, refs = TREE.get(seq, ("other %d" % seq, []))
    h = {"Subject": subject, "Message_ID": "<m%d@x>" % seq,
         "Date": "Mon, 1 Jan 2024 %02d:%02d:00 +0000" % (seq // 60,
                                                         seq % 60),
         "From": "f%d@x" % seq}
    if refs:
        h["References"] = " ".join("<m%s@x>" % r for r in refs)
    return msg(**h)


def threading(port):
    c = Conn(port)
    try:
        c.cmd('LOGIN "%s" "%s"' % (U, PW))
        c.cmd("CREATE Threads")
        for seq in range(1, 111):
            st, line, _ = append(c, "Threads", tree_msg(seq))
            if st != "OK":
                t.ok(False, "APPEND %d" % seq, c.log())
                return
        st, line, unt = c.cmd("SELECT Threads")
        t.ok(st == "OK" and b"* 110 EXISTS" in unt, "110 messages",
             c.log())
        for alg, key, want in [
                ("REFERENCES", "OR SUBJECT alpha SUBJECT beta",
                 "(2)(3 6 (4 23)(44 7 96))"),
                ("REFERENCES", "SUBJECT gamma", "((10)(12))"),
                ("REFERENCES", "SUBJECT delta", "(20 21)"),
                ("REFERENCES", "SUBJECT eps", "((30)(31))"),
                ("REFERENCES", "SUBJECT sigma", "(51 50)"),
                ("REFS", "SUBJECT sigma", "(50)(51)"),
                ("REFS", "SUBJECT delta", "(20)(21)"),
                ("REFERENCES", "SUBJECT tau", "(61 60)"),
                ("REFERENCES", "OR SUBJECT iota SUBJECT kappa",
                 "(70 90)(71)"),
                ("REFS", "OR SUBJECT iota SUBJECT kappa", "(71)(70 90)"),
                ("REFS", "OR SUBJECT alpha SUBJECT beta",
                 "(2)(3 6 (4 23)(44 7 96))"),
                ("ORDEREDSUBJECT", "OR SUBJECT alpha SUBJECT beta",
                 "(2)(3 (4)(6)(7)(23)(44)(96))"),
                ("ORDEREDSUBJECT", "SUBJECT delta", "(20 21)"),
                ("ORDEREDSUBJECT", "SUBJECT sigma", "(50 51)"),
                ("REFERENCES", "SUBJECT nothing", ""),
                ("REFERENCES", "3", "(3)")]:
            st, line, unt = c.cmd("THREAD %s UTF-8 %s" % (alg, key))
            t.ok(st == "OK" and threads(unt) == want,
                 "THREAD %s %s: %s" % (alg, key, want), c.log())
        st, line, unt = c.cmd("UID THREAD REFERENCES US-ASCII SUBJECT gamma")
        t.ok(st == "OK" and threads(unt) == "((10)(12))",
             "UID THREAD (UIDs are sequence numbers here)", c.log())
        c.cmd("STORE 1 +FLAGS (\\Deleted)")
        c.cmd("EXPUNGE")
        st, line, unt = c.cmd("UID THREAD REFERENCES US-ASCII SUBJECT gamma")
        t.ok(st == "OK" and threads(unt) == "((10)(12))",
             "UID THREAD gives UIDs", c.log())
        st, line, unt = c.cmd("THREAD REFERENCES US-ASCII SUBJECT gamma")
        t.ok(st == "OK" and threads(unt) == "((9)(11))",
             "THREAD gives sequence numbers", c.log())
        st, line, unt = c.cmd("THREAD REFERENCES BIG5 ALL")
        t.ok(st == "NO" and b"[BADCHARSET" in line,
             "THREAD with an unknown charset: NO [BADCHARSET]", c.log())
        for bad in ["THREAD FOO UTF-8 ALL", "THREAD REFERENCES UTF-8",
                    "THREAD", "THREAD (REFERENCES) UTF-8 ALL"]:
            st, line, unt = c.cmd(bad)
            t.ok(st == "BAD" and threads(unt) is None, "%s: BAD" % bad,
                 c.log())
        c.cmd("LOGOUT")
    finally:
        c.close()


def deep(srv, port):
    """A comb 1,500 deep: message c(i) replies to c(i-1), and so does a
    leaf l(i) dated after it; every c has two children, so the answer
    nests 1,500 levels.  Plus a References: of 10,000 ids."""
    n = 1500
    c = Conn(port, timeout=120)
    try:
        c.cmd('LOGIN "%s" "%s"' % (U, PW))
        c.cmd("CREATE Deep")
        new = os.path.join(srv.maildir(U), ".Deep", "new")
        seq = 0
        names = {}

        def put(mid, irt, minute):
            nonlocal seq
            seq += 1
            names[mid] = seq
            h = "Message-ID: <%s@x>\nSubject: deep\n" % mid
            h += "Date: %s\n" % (
                "Mon, 1 Jan 2024 %02d:%02d:%02d +0000" % (
                    minute // 3600, minute // 60 % 60, minute % 60))
            if irt:
                h += "In-Reply-To: <%s@x>\n" % irt
            with open(os.path.join(new, "17%08d.M%dP1.deep" % (seq, seq)),
                      "w") as f:
                f.write(h + "\nbody\n")
        put("c0", None, 0)
        for i in range(1, n + 1):
            put("c%d" % i, "c%d" % (i - 1), 2 * i)
            put("l%d" % i, "c%d" % (i - 1), 2 * i + 1)
        refs = " ".join("<r%d@x>" % i for i in range(10000))
        with open(os.path.join(new, "1799999999.M1P1.refs"), "w") as f:
            f.write("Message-ID: <many@x>\nSubject: many\nReferences: "
                    "%s\n\nbody\n" % refs)
        st, line, unt = c.cmd("SELECT Deep")
        total = 2 * n + 2
        t.ok(st == "OK" and (b"* %d EXISTS" % total) in unt,
             "Deep: %d messages" % total, c.log())
        # messages are numbered in the order of their names
        want = "(%d" % names["c0"]
        for i in range(1, n + 1):
            want += " (%d" % names["c%d" % i]
        want += ")"
        for i in range(n, 0, -1):
            want += "(%d))" % names["l%d" % i]
        st, line, unt = c.cmd("THREAD REFERENCES UTF-8 SUBJECT deep")
        got = threads(unt)
        t.ok(st == "OK" and got == want, "a thread nested %d deep" % n,
             "got %s ... %s\nwant %s ... %s" % (
                 (got or "")[:80], (got or "")[-80:], want[:80],
                 want[-80:]))
        st, line, unt = c.cmd("THREAD REFS UTF-8 SUBJECT deep")
        t.ok(st == "OK" and threads(unt) == want, "REFS: the same",
             c.log())
        st, line, unt = c.cmd("THREAD REFERENCES UTF-8 SUBJECT many")
        t.ok(st == "OK" and threads(unt) == "(%d)" % total,
             "a References: of 10,000 ids: one thread of its own",
             c.log())
        st, line, unt = c.cmd("SORT (REVERSE DATE) UTF-8 ALL")
        got = answer(unt, "SORT")
        t.ok(st == "OK" and got is not None and len(got) == total and
             got[0] == total and got[1] == names["l%d" % n] and
             got[-1] == names["c0"], "SORT (REVERSE DATE) of all of them:"
             " the one without Date: (INTERNALDATE now) first", c.log())
        c.cmd("LOGOUT")
    finally:
        c.close()


def main():
    srv = Server(services=("imap",),
                 overrides=["auth.allow_plaintext=yes",
                            "auth.failure_delay_max=1s"])
    srv.setup(users=[(U, PW)])
    try:
        srv.start()
        for name, fn in (("sorting", sorting), ("threading", threading),
                         ("deep", lambda p: deep(srv, p))):
            t.check(name, fn, srv.port("imap"))
        srv.stop()
    finally:
        srv.cleanup()
    t.done()


main()
