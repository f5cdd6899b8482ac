#!/usr/bin/python3
# IMAP search contexts (RFC 5267 §4: CONTEXT=SEARCH, CONTEXT=SORT) and
# PARTIAL (RFC 9394), over raw connections, with the RFCs' examples:
# - §4.2: RETURN (CONTEXT COUNT) answers as COUNT does;
# - §4.4 and RFC 9394 §3.1: PARTIAL ranges of SEARCH (mailbox order) and
#   SORT (sort order) results, a range past the end short or NIL, "500:400"
#   as "400:500", "-1:-100" from the last result; PARTIAL with ALL, twice,
#   0, "*" or mixed signs: BAD; SAVE with PARTIAL saves that page;
# - §4.3: RETURN (UPDATE): a second connection delivers (SMTP), flags,
#   expunges; the first sees ADDTO after the EXISTS, REMOVEFROM before the
#   EXPUNGE, on NOOP and during IDLE, as message numbers or UIDs, at
#   position 0 for SEARCH and at the sort position for SORT; the client's
#   copy kept by applying them equals a fresh SEARCH/SORT after every step;
#   tag reuse BAD; the 11th context NO [NOUPDATE "tag"] with its results;
#   CANCELUPDATE (§4.3.5) ends one; a new SELECT ends all;
# - RFC 9394 §3.3: UID FETCH ... (PARTIAL range).
import os
import random
import re
import smtplib
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import IMAPRaw, TAP, Server, wait_until  # noqa: E402

U, PW = "lee@example.test", "lee-pw"
t = TAP()
srv = Server(services=("smtp", "imap"),
             overrides=["auth.allow_plaintext=yes",
                        "auth.failure_delay_max=0",
                        "imapd.max_errors=1000"])
srv.setup(users=[(U, PW)])


class Conn(IMAPRaw):
    """IMAPRaw with commands under tags of our choosing (the RFC's
    "B01"), and the untagged responses that came meanwhile."""

    def tcmd(self, tag, line):
        if isinstance(line, str):
            line = line.encode()
        tag = tag.encode()
        self.sock.sendall(tag + b" " + line + b"\r\n")
        un = []
        while True:
            r = self.f.readline()
            if not r:
                return un, b""
            m = re.search(rb"\{(\d+)\}\r\n$", r)
            if m:
                r += self.f.read(int(m.group(1))) + self.f.readline()
            if r.startswith(tag + b" "):
                return [x.rstrip(b"\r\n").decode() for x in un], \
                    r.rstrip(b"\r\n").decode()
            un.append(r)

    def c(self, line):
        self.n += 1
        return self.tcmd("t%d" % self.n, line)


def Imap():
    return Conn("127.0.0.1", srv.port("imap")).login(U, PW)


def deliver(msgs):
    """Deliver by SMTP and wait until the messages are in the Maildir."""
    before = len(srv.messages(U))
    with smtplib.SMTP("127.0.0.1", srv.port("smtp"), timeout=30) as c:
        for m in msgs:
            c.sendmail("a@remote.test", [U], m.encode())
    if not wait_until(lambda: len(srv.messages(U)) >= before + len(msgs),
                      30):
        t.diag("delivery did not arrive")


def msg(subject, body="text"):
    return ("From: a@remote.test\r\nTo: %s\r\nSubject: %s\r\n"
            "Date: Mon, 2 Jan 2023 10:00:00 +0000\r\n\r\n%s\r\n"
            % (U, subject, body))


def append(c, subject, flags="()"):
    data = msg(subject).encode()
    un, r = c.c(b"APPEND INBOX %s {%d+}\r\n" % (flags.encode(), len(data))
                + data)
    return r


def esearch(un, tag):
    return [x for x in un if x.startswith('* ESEARCH (TAG "%s")' % tag)]


def seqset(text):
    """The numbers of a sequence-set, in the order written."""
    out = []
    for part in text.split(","):
        if ":" in part:
            a, b = (int(x) for x in part.split(":"))
            out += list(range(a, b + 1)) if a <= b else \
                list(range(a, b - 1, -1))
        else:
            out.append(int(part))
    return out


def result_all(line):
    m = re.search(r" ALL (\S+)", line or "")
    return seqset(m.group(1)) if m else []


def apply_updates(lst, un, tag, uid):
    """Apply the ADDTO and REMOVEFROM of tag in un to lst (§4.3.2: in
    order), and the EXPUNGEs to a list of message numbers; position 0
    keeps mailbox order (§4.3.3)."""
    for line in un:
        m = re.match(r"\* (\d+) EXPUNGE$", line)
        if m and not uid:
            n = int(m.group(1))
            lst[:] = [x - 1 if x > n else x for x in lst if x != n]
            continue
        if not line.startswith('* ESEARCH (TAG "%s")' % tag):
            continue
        for word, body in re.findall(r"(ADDTO|REMOVEFROM) \(([^)]*)\)",
                                     line):
            f = body.split()
            for i in range(0, len(f), 2):
                pos, nums = int(f[i]), seqset(f[i + 1])
                if word == "ADDTO":
                    if pos == 0:
                        lst[:] = sorted(set(lst) | set(nums))
                    else:
                        lst[pos - 1:pos - 1] = nums
                elif pos == 0:
                    lst[:] = [x for x in lst if x not in nums]
                else:
                    t.ok(lst[pos - 1:pos - 1 + len(nums)] == nums,
                         "REMOVEFROM (%d %s) names what is there" %
                         (pos, f[i + 1]), lst)
                    del lst[pos - 1:pos - 1 + len(nums)]
    return lst


try:
    srv.start()
    a = Imap()
    b = Imap()

    # ---- capabilities ----
    un, r = a.c("CAPABILITY")
    caps = un[0].split() if un else []
    for cap in ("CONTEXT=SEARCH", "CONTEXT=SORT", "ESORT", "PARTIAL"):
        t.ok(cap in caps, "CAPABILITY has %s" % cap, un)

    # 30 messages: 1..30, subjects "m01".."m30", every 5th \Deleted,
    # every 7th $Junk.
    for i in range(1, 31):
        fl = []
        if i % 5 == 0:
            fl.append("\\Deleted")
        if i % 7 == 0:
            fl.append("$Junk")
        append(a, "m%02d" % i, "(%s)" % " ".join(fl))
    a.c("SELECT INBOX")
    b.c("SELECT INBOX")
    good = [i for i in range(1, 31) if i % 5 and i % 7]     # UIDs = seqs

    # ---- §4.2: the CONTEXT hint ----
    un, r = a.tcmd("A01", "SEARCH RETURN (CONTEXT COUNT) UNDELETED "
                   "UNKEYWORD $Junk")
    t.eq(esearch(un, "A01"), ['* ESEARCH (TAG "A01") COUNT %d' % len(good)],
         "§4.2: SEARCH RETURN (CONTEXT COUNT): the COUNT")
    t.ok(r.startswith("A01 OK"), "§4.2: OK", r)

    # ---- §4.4: PARTIAL ----
    def fmt(nums):
        out, i = [], 0
        while i < len(nums):
            j = i
            while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
                j += 1
            out.append(str(nums[i]) if i == j else
                       "%d:%d" % (nums[i], nums[j]))
            i = j + 1
        return ",".join(out)

    # the RFC's pair, pipelined: a page and the count
    a.sock.sendall(b"A01 UID SEARCH RETURN (PARTIAL 1:5) UNDELETED "
                   b"UNKEYWORD $Junk\r\nA02 UID SEARCH RETURN (COUNT) "
                   b"UNDELETED UNKEYWORD $Junk\r\n")
    un1, r1 = a.tcmd("A00", "NOOP")
    t.ok('* ESEARCH (TAG "A01") UID PARTIAL (1:5 %s)' % fmt(good[:5])
         in un1, "§4.4: UID SEARCH RETURN (PARTIAL 1:5): the first five",
         un1)
    t.ok('* ESEARCH (TAG "A02") UID COUNT %d' % len(good) in un1,
         "§4.4: and the COUNT of all", un1)
    for rng, want, name in (
            ("6:10", good[5:10], "the second page"),
            ("10:6", good[5:10], "10:6 is 6:10"),
            ("15:30", good[14:], "a range past the end: what there is"),
            ("21:30", None, "a range wholly past the end: NIL"),
            ("-1:-3", good[-3:], "RFC 9394: -1:-3, the last three"),
            ("-3:-1", good[-3:], "RFC 9394: -3:-1 is -1:-3"),
            ("-20:-30", good[:1], "RFC 9394: from the end, past the start"),
            ("-21:-30", None, "RFC 9394: wholly before the start: NIL")):
        un, r = a.tcmd("A03", "UID SEARCH RETURN (PARTIAL %s) UNDELETED "
                       "UNKEYWORD $Junk" % rng)
        t.eq(esearch(un, "A03"), ['* ESEARCH (TAG "A03") UID PARTIAL '
                                  '(%s %s)' % (rng, fmt(want) if want
                                               else "NIL")],
             "PARTIAL %s: %s" % (rng, name))
    # by message number, with COUNT and MIN
    un, r = a.tcmd("A04", "SEARCH RETURN (MIN PARTIAL 2:3 COUNT) DELETED")
    t.eq(esearch(un, "A04"), ['* ESEARCH (TAG "A04") MIN 5 COUNT 6 '
                              'PARTIAL (2:3 10,15)'],
         "SEARCH RETURN (MIN PARTIAL 2:3 COUNT): beside the others")
    for bad in ("PARTIAL 1:5 ALL", "ALL PARTIAL 1:5", "PARTIAL 1:5 PARTIAL "
                "6:7", "PARTIAL", "PARTIAL 0:5", "PARTIAL 1:*",
                "PARTIAL -1:5", "PARTIAL 1:-5", "PARTIAL 1", "PARTIAL 1:2:3",
                "PARTIAL 1:99999999999", "PARTIAL (1:5)", "PARTIAL - 1:5"):
        un, r = a.c("UID SEARCH RETURN (%s) ALL" % bad)
        t.ok(" BAD " in r and not esearch(un, "t%d" % a.n),
             "RETURN (%s): BAD" % bad, r)
    # RFC 9394 §3.2: SAVE with PARTIAL saves that page
    un, r = a.c("UID SEARCH RETURN (SAVE PARTIAL -1:-2) UNDELETED")
    un, r = a.c("UID SEARCH UID $")
    t.eq([x for x in un if x.startswith("* SEARCH")],
         ["* SEARCH 28 29"], "SAVE with PARTIAL -1:-2: \"$\" is that page")
    un, r = a.c("UID SEARCH RETURN (SAVE COUNT PARTIAL 1:1) DELETED")
    un, r = a.c("UID SEARCH UID $")
    t.eq([x for x in un if x.startswith("* SEARCH")],
         ["* SEARCH 5 10 15 20 25 30"], "SAVE with COUNT and PARTIAL: all")
    # SORT: in sort order
    un, r = a.tcmd("A05", "UID SORT RETURN (PARTIAL 1:4) (REVERSE SUBJECT) "
                   "UTF-8 UNDELETED UNKEYWORD $Junk")
    t.eq(esearch(un, "A05"), ['* ESEARCH (TAG "A05") UID PARTIAL '
                              '(1:4 29,27,26,24)'],
         "SORT RETURN (PARTIAL 1:4): the first four in sort order")
    un, r = a.tcmd("A06", "SORT RETURN (PARTIAL -1:-4 COUNT) (SUBJECT) "
                   "UTF-8 UNDELETED UNKEYWORD $Junk")
    t.eq(esearch(un, "A06"), ['* ESEARCH (TAG "A06") COUNT %d PARTIAL '
                              '(-1:-4 24,26:27,29)' % len(good)],
         "SORT RETURN (PARTIAL -1:-4): the last four in sort order")
    un, r = a.c("SORT RETURN (PARTIAL 1:4 ALL) (SUBJECT) UTF-8 ALL")
    t.ok(" BAD " in r, "SORT RETURN (PARTIAL ALL): BAD", r)

    # ---- RFC 9394 §3.3: UID FETCH with PARTIAL ----
    un, r = a.c("UID FETCH 1:* (FLAGS) (PARTIAL -1:-3)")
    t.eq([re.match(r"\* (\d+) FETCH", x).group(1) for x in un
          if " FETCH " in x], ["28", "29", "30"],
         "UID FETCH 1:* (FLAGS) (PARTIAL -1:-3): the last three")
    un, r = a.c("UID FETCH 3:20 (UID) (PARTIAL 2:4)")
    t.eq([re.match(r"\* (\d+) FETCH", x).group(1) for x in un
          if " FETCH " in x], ["4", "5", "6"],
         "UID FETCH 3:20 (UID) (PARTIAL 2:4): the 2nd to 4th of the set")
    un, r = a.c("UID FETCH 3:20 (UID) (PARTIAL 30:40)")
    t.ok(r.startswith("t%d OK" % a.n) and not [x for x in un if " FETCH "
                                                in x],
         "UID FETCH ... (PARTIAL 30:40): nothing", un)
    for bad in ("UID FETCH 1:* (FLAGS) (PARTIAL 0:3)",
                "UID FETCH 1:* (FLAGS) (PARTIAL 1:3 PARTIAL 4:5)",
                "UID FETCH 1:* (FLAGS) (PARTIAL)",
                "FETCH 1:* (FLAGS) (PARTIAL 1:3)"):
        un, r = a.c(bad)
        t.ok(" BAD " in r, "%s: BAD" % bad, r)

    # ---- §4.3: UPDATE ----
    # B01 as the RFC's: UID SEARCH, mailbox order, position 0
    un, r = a.tcmd("B01", "UID SEARCH RETURN (UPDATE) UNDELETED "
                   "UNKEYWORD $Junk")
    b01 = result_all(esearch(un, "B01")[0] if esearch(un, "B01") else "")
    t.eq(b01, good, "UID SEARCH RETURN (UPDATE): ALL first")
    un, r = a.tcmd("B01", "UID SEARCH RETURN (UPDATE) FLAGGED")
    t.eq(r, "B01 BAD Tag reuse", "§4.3: UPDATE under a tag in use: BAD")
    # §4.3.3: two messages arrive
    deliver([msg("new1"), msg("new2")])
    un, r = a.c("NOOP")
    ex = [i for i, x in enumerate(un) if x == "* 32 EXISTS"]
    up = [i for i, x in enumerate(un) if x.startswith('* ESEARCH (TAG "B01")')]
    t.ok(ex and up and un[up[0]] == '* ESEARCH (TAG "B01") UID ADDTO '
         '(0 31:32)' and up[0] > ex[0],
         "§4.3.3: * ESEARCH (TAG \"B01\") UID ADDTO (0 31:32), after the "
         "EXISTS", un)
    # a flag set elsewhere takes one out
    b.c("STORE 2 +FLAGS (\\Deleted)")
    un, r = a.c("NOOP")
    t.ok('* ESEARCH (TAG "B01") UID REMOVEFROM (0 2)' in un,
         "§4.3.4: \\Deleted set by another session: REMOVEFROM (0 2)", un)
    # and back in
    b.c("STORE 2 -FLAGS (\\Deleted)")
    un, r = a.c("NOOP")
    t.ok('* ESEARCH (TAG "B01") UID ADDTO (0 2)' in un,
         "\\Deleted taken off: ADDTO (0 2)", un)
    # this session's own STORE too
    un, r = a.c("STORE 3 +FLAGS ($Junk)")
    t.ok('* ESEARCH (TAG "B01") UID REMOVEFROM (0 3)' in un,
         "this session's own STORE: REMOVEFROM (0 3) before its OK", un)
    # B02: message numbers, DELETED; expunged ones leave before EXPUNGE
    un, r = a.tcmd("B02", "SEARCH RETURN (UPDATE COUNT) DELETED")
    t.eq(esearch(un, "B02"), ['* ESEARCH (TAG "B02") COUNT 6'],
         "SEARCH RETURN (UPDATE COUNT): the COUNT alone")
    b.c("STORE 31 +FLAGS (\\Deleted)")
    un, r = a.c("NOOP")
    t.ok('* ESEARCH (TAG "B02") ADDTO (0 31)' in un and
         '* ESEARCH (TAG "B01") UID REMOVEFROM (0 31)' in un,
         "31 flagged \\Deleted: B02 ADDTO (0 31), B01 UID REMOVEFROM "
         "(0 31)", un)
    b.c("EXPUNGE")
    un, r = a.c("NOOP")
    # 5 10 15 20 25 30 31 go: each is n - k when its turn comes
    want = []
    for k, n in enumerate([5, 10, 15, 20, 25, 30, 31]):
        want += ['* ESEARCH (TAG "B02") REMOVEFROM (0 %d)' % (n - k),
                 "* %d EXPUNGE" % (n - k)]
    got = [x for x in un if "ESEARCH" in x or "EXPUNGE" in x]
    t.eq(got, want, "§4.3.4: REMOVEFROM (0 n) before each \"* n "
         "EXPUNGE\"")
    # B03: UID SORT, positions in sort order (CONTEXT=SORT)
    un, r = a.tcmd("C01", "UID SORT RETURN (UPDATE) (SUBJECT) UTF-8 "
                   "UNDELETED")
    c01 = result_all(esearch(un, "C01")[0] if esearch(un, "C01") else "")
    un, r = a.c("UID SORT (SUBJECT) UTF-8 UNDELETED")
    t.eq(c01, [int(x) for x in un[0].split()[2:]] if un else None,
         "UID SORT RETURN (UPDATE): ALL in sort order")
    # three arriving that sort first, in order: one pair, the preferred
    # form of §4.3.3's example
    deliver([msg("a1"), msg("a2"), msg("a3")])
    un, r = a.c("NOOP")
    t.ok('* ESEARCH (TAG "C01") UID ADDTO (1 33:35)' in un,
         "§4.3.3: three at the head: UID ADDTO (1 33:35)", un)
    deliver([msg("m085")])      # between m08 and m09
    un, r = a.c("NOOP")
    pos = c01.index(8) + 5      # after a1..a3 and m08
    t.ok('* ESEARCH (TAG "C01") UID ADDTO (%d 36)' % pos in un,
         "one in the middle: UID ADDTO (%d 36)" % pos, un)
    b.c("NOOP")
    b.c("UID STORE 36 +FLAGS (\\Deleted)")
    un, r = a.c("NOOP")
    t.ok('* ESEARCH (TAG "C01") UID REMOVEFROM (%d 36)' % pos in un,
         "and \\Deleted: UID REMOVEFROM (%d 36)" % pos, un)

    # ---- the client's copies follow a fresh search, step by step ----
    specs = [("D01", "UID SEARCH RETURN (UPDATE) UNSEEN", True, None),
             ("D02", "SEARCH RETURN (UPDATE) OR FLAGGED KEYWORD $Junk",
              False, None),
             ("D03", "UID SORT RETURN (UPDATE) (REVERSE SUBJECT) UTF-8 "
              "UNFLAGGED", True, None),
             ("D04", "SORT RETURN (UPDATE) (SIZE SUBJECT) UTF-8 NOT "
              "DELETED", False, None)]
    lists = {}
    for tag, cmd, uid, _ in specs:
        un, r = a.tcmd(tag, cmd)
        lists[tag] = result_all(esearch(un, tag)[0])
    rnd = random.Random(5267)
    flags = ["\\Seen", "\\Flagged", "\\Deleted", "$Junk"]
    mismatch = []
    for step in range(40):
        op = rnd.choice(["flag", "flag", "unflag", "deliver", "expunge"])
        b.c("NOOP")
        un, r = b.c("SEARCH ALL")
        nmsg = len(un[0].split()) - 2 if un else 0
        if op in ("flag", "unflag") and nmsg:
            m = rnd.randint(1, nmsg)
            b.c("STORE %d %sFLAGS (%s)" % (m, "+" if op == "flag" else "-",
                                            rnd.choice(flags)))
        elif op == "deliver":
            deliver([msg("r%03d" % rnd.randint(0, 999),
                          "x" * rnd.randint(1, 300))])
        elif nmsg:
            b.c("STORE %d +FLAGS (\\Deleted)" % rnd.randint(1, nmsg))
            if rnd.random() < 0.5:
                deliver([msg("e%03d" % rnd.randint(0, 999))])
            b.c("EXPUNGE")
        un = []
        if rnd.random() < 0.5:
            # expunges wait (RFC 3501 §7.4.1), the rest does not
            un, r = a.c("FETCH 1 (UID)")
        un2, r = a.c("NOOP")
        for tag, cmd, uid, _ in specs:
            apply_updates(lists[tag], un + un2, tag, uid)
        for tag, cmd, uid, _ in specs:
            fresh = re.sub(r"RETURN \(UPDATE\) ", "RETURN (ALL) ", cmd)
            un2, r2 = a.c(fresh)
            want = result_all(esearch(un2, "t%d" % a.n)[0]) \
                if esearch(un2, "t%d" % a.n) else []
            if lists[tag] != want:
                mismatch.append((step, op, tag, lists[tag], want))
    t.ok(not mismatch, "40 random changes (some seen first by a FETCH, "
         "which holds the EXPUNGEs back): each copy kept by ADDTO and "
         "REMOVEFROM equals a fresh search", mismatch[:3])

    # ---- during IDLE ----
    a.sock.sendall(b"I01 IDLE\r\n")
    t.ok(a.f.readline().startswith(b"+"), "IDLE")
    deliver([msg("idle")])
    got = []
    while True:
        line = a.f.readline().decode().rstrip("\r\n")
        got.append(line)
        if line.startswith('* ESEARCH (TAG "D01")') or not line:
            break
    a.sock.sendall(b"DONE\r\n")
    while not got[-1].startswith("I01 "):
        got.append(a.f.readline().decode().rstrip("\r\n"))
    t.ok([x for x in got if re.match(r'\* ESEARCH \(TAG "D01"\) UID ADDTO '
                                     r'\(0 \d+\)$', x)],
         "during IDLE: the ADDTO of a delivery", got)

    # ---- §4.3.1: too many contexts ----
    # B01 B02 C01 D01..D04: 7 kept; 3 more, then NOUPDATE
    for i in range(3):
        un, r = a.tcmd("E%02d" % i, "UID SEARCH RETURN (UPDATE) SEEN")
        t.ok(r.startswith("E%02d OK" % i) and
             not [x for x in un if "NOUPDATE" in x],
             "context %d of 10: kept" % (8 + i), un)
    un, r = a.tcmd("B11", "UID SEARCH RETURN (UPDATE COUNT) SEEN")
    t.ok(un and un[0].startswith('* NO [NOUPDATE "B11"]') and
         [x for x in un if x.startswith('* ESEARCH (TAG "B11") UID COUNT ')]
         and r.startswith("B11 OK"),
         "§4.3.1: the 11th: * NO [NOUPDATE \"B11\"], its COUNT, OK", un)
    b.c("STORE 1:* +FLAGS (\\Seen)")
    un, r = a.c("NOOP")
    t.ok(esearch(un, "E00") and not esearch(un, "B11"),
         "updates for the ten, none for B11", un)

    # ---- §4.3.5: CANCELUPDATE ----
    un, r = a.tcmd("B04", 'CANCELUPDATE "B01"')
    t.ok(r.startswith("B04 OK"), "§4.3.5: CANCELUPDATE \"B01\": OK", r)
    un, r = a.tcmd("B05", 'CANCELUPDATE "E00" "E01"')
    t.ok(r.startswith("B05 OK"), "CANCELUPDATE of two: OK", r)
    for bad in ('CANCELUPDATE "B01"', "CANCELUPDATE", "CANCELUPDATE E02",
                'CANCELUPDATE "nosuch"', 'CANCELUPDATE "E02" "B01"'):
        un, r = a.c(bad)
        t.ok(" BAD " in r, "%s: BAD" % bad, r)
    b.c("STORE 1:* -FLAGS (\\Seen)")
    b.c("STORE 1:* +FLAGS (\\Flagged)")
    un, r = a.c("NOOP")
    t.ok(not esearch(un, "B01") and not esearch(un, "E00") and
         not esearch(un, "E01") and esearch(un, "E02"),
         "no updates for the cancelled ones, still for E02", un)
    un, r = a.tcmd("B01", "UID SEARCH RETURN (UPDATE) FLAGGED")
    t.ok(r.startswith("B01 OK"), "the tag of a cancelled context: free", r)

    # ---- a new SELECT ends them ----
    a.c("SELECT INBOX")
    deliver([msg("after")])
    b.c("STORE 1:* -FLAGS (\\Flagged)")
    un, r = a.c("NOOP")
    t.ok(not [x for x in un if "ESEARCH" in x],
         "after SELECT: no updates", un)
    un, r = a.c('CANCELUPDATE "B01"')
    t.ok(" BAD " in r, "after SELECT: no context B01", r)
    un, r = a.c("UID SEARCH RETURN (UPDATE) ALL")
    a.c("UNSELECT")
    un, r = a.c('CANCELUPDATE "t%d"' % (a.n - 1))
    t.ok(" BAD " in r, "CANCELUPDATE without a mailbox: BAD", r)
    a.close()
    b.close()

finally:
    srv.stop()
    srv.cleanup()
t.done()
