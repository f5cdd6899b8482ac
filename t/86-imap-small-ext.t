#!/usr/bin/python3
# IMAP: the small extensions of issue 14, over a raw connection, with
# the RFCs' examples where they have them: STATUS=SIZE (RFC 8438),
# WITHIN (RFC 5032), SEARCHRES (RFC 5182), CREATE-SPECIAL-USE (RFC 6154
# §3), SAVEDATE (RFC 8514), OBJECTID (RFC 8474), PREVIEW (RFC 8970).
import datetime
import os
import re
import smtplib
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import IMAPRaw, TAP, Server  # noqa: E402

U, PW = "kim@example.test", "kim-pw"
t = TAP()
srv = Server(services=("smtp", "imap"),
             overrides=["auth.allow_plaintext=yes",
                        "auth.failure_delay_max=0",
                        "imapd.max_errors=1000"])
srv.setup(users=[(U, PW)])


def Imap():
    return IMAPRaw("127.0.0.1", srv.port("imap")).login(U, PW)


def deliver(msgs):
    with smtplib.SMTP("127.0.0.1", srv.port("smtp"), timeout=30) as c:
        for m in msgs:
            c.sendmail("a@remote.test", [U], m.encode())


def has(lines, pattern):
    return [l for l in lines if re.search(pattern, l)]


def ok(resp):
    return re.match(rb"^t\d+ OK", resp) is not None


def append(c, box, msg, date=None, flags=""):
    data = msg.encode()
    d = ' "%s"' % date if date else ""
    un, r = c.cmd(b"APPEND %s %s%s {%d+}\r\n" % (
        box.encode(), flags.encode(), d.encode(), len(data)) + data)
    return r


def pipeline(c, lines):
    """Send every command in one write; the responses of each, in order:
    [(untagged, tagged)]."""
    tags = []
    out = b""
    for line in lines:
        c.n += 1
        tag = b"t%d" % c.n
        tags.append(tag)
        out += tag + b" " + line.encode() + b"\r\n"
    c.sock.sendall(out)
    res = []
    for tag in tags:
        un = []
        while True:
            r = c.f.readline()
            if not r:
                return res
            m = re.search(rb"\{(\d+)\}\r\n$", r)
            if m:
                r += c.f.read(int(m.group(1))) + c.f.readline()
            if r.startswith(tag + b" "):
                res.append((un, r))
                break
            un.append(r)
    return res


def fetch_ids(un, item):
    """{seq: value} of "* n FETCH (... ITEM (value) ...)"."""
    out = {}
    for l in un:
        m = re.match(rb"^\* (\d+) FETCH .*%s \(([^)]*)\)" % item, l)
        if m:
            out[int(m.group(1))] = m.group(2)
    return out


PLAIN = ("From: Ann <ann@remote.test>\r\nTo: %s\r\nSubject: plain\r\n"
         "\r\nHello  there,\r\n\r\nthe   quarterly report\tis attached."
         "\r\n" % U)
HTML = ("From: ann@remote.test\r\nSubject: html\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\n"
        "Content-Type: text/html; charset=utf-8\r\n\r\n<html><head>"
        "<style>p {color: red}</style></head><body><p>Caf=C3=A9 "
        "<b>bold</b> &amp; =C3=A9t=C3=A9</p></body></html>\r\n--b--\r\n")
HTML = HTML.replace("charset=utf-8\r\n", "charset=utf-8\r\n"
                    "Content-Transfer-Encoding: quoted-printable\r\n")
LONG = "Subject: long\r\n\r\n" + ("word " * 200) + "\r\n"

try:
    srv.start()
    deliver([PLAIN, HTML, LONG])
    srv.wait_messages(U, 3)

    a = Imap()
    un, r = a.cmd("CAPABILITY")
    caps = un[0].split() if un else []
    for cap in (b"STATUS=SIZE", b"WITHIN", b"SEARCHRES",
                b"CREATE-SPECIAL-USE", b"SAVEDATE", b"OBJECTID",
                b"PREVIEW"):
        t.ok(cap in caps, "CAPABILITY has %s" % cap.decode(), un)
    t.ok(b"UNAUTHENTICATE" not in caps,
         "UNAUTHENTICATE is not offered (see the README)", un)

    # ---- STATUS=SIZE (RFC 8438) ----
    un, r = a.cmd("SELECT INBOX")
    un, r = a.cmd("FETCH 1:* (RFC822.SIZE)")
    sizes = [int(x) for x in re.findall(rb"RFC822\.SIZE (\d+)", b"".join(un))]
    un, r = a.cmd("STATUS INBOX (MESSAGES UNSEEN SIZE)")
    m = has(un, rb"^\* STATUS INBOX \(MESSAGES 3 UNSEEN 3 SIZE (\d+)\)")
    t.ok(ok(r) and m and int(re.search(rb"SIZE (\d+)", m[0]).group(1)) ==
         sum(sizes), "RFC 8438 §3 example: STATUS (MESSAGES UNSEEN SIZE), "
         "SIZE the sum of RFC822.SIZE (%d)" % sum(sizes), un + [r])
    un, r = a.cmd('LIST "" "%" RETURN (STATUS (SIZE))')
    t.ok(ok(r) and has(un, rb"^\* STATUS INBOX \(SIZE %d\)" % sum(sizes))
         and has(un, rb"^\* STATUS Trash \(SIZE 0\)"),
         "LIST-STATUS with SIZE", un)
    un, r = a.cmd("STATUS INBOX (SIZE BOGUS)")
    t.ok(r.startswith(b"t") and b" BAD " in r,
         "STATUS with an unknown item: BAD", r)

    # ---- WITHIN (RFC 5032) ----
    old = ("Subject: old\r\n\r\nfrom another century\r\n")
    r = append(a, "INBOX", old, "01-Jan-2000 10:00:00 +0000")
    t.ok(ok(r), "APPEND with an internal date in 2000", r)
    a.cmd("NOOP")
    un, r = a.cmd("SEARCH YOUNGER 3600")
    t.ok(ok(r) and has(un, rb"^\* SEARCH 1 2 3\r\n"),
         "SEARCH YOUNGER 3600: the three delivered now", un)
    un, r = a.cmd("SEARCH OLDER 3600")
    t.ok(ok(r) and has(un, rb"^\* SEARCH 4\r\n"),
         "SEARCH OLDER 3600: the one of 2000", un)
    un, r = a.cmd("SEARCH UNSEEN YOUNGER 259200")
    t.ok(ok(r) and has(un, rb"^\* SEARCH 1 2 3\r\n"),
         "RFC 5032 §3 example: UNSEEN YOUNGER 259200", un)
    un, r = a.cmd("SEARCH NOT OLDER 3600")
    t.ok(ok(r) and has(un, rb"^\* SEARCH 1 2 3\r\n"),
         "NOT OLDER n is YOUNGER n", un)
    for bad in ("OLDER 0", "YOUNGER x", "OLDER", "YOUNGER -5"):
        un, r = a.cmd("SEARCH " + bad)
        t.ok(b" BAD " in r, "SEARCH %s: BAD" % bad, r)

    # ---- SEARCHRES (RFC 5182) ----
    a.cmd("STORE 2,4 +FLAGS (\\Flagged)")
    un, r = a.cmd("SEARCH RETURN (SAVE) FLAGGED")
    t.ok(ok(r) and not has(un, rb"ESEARCH|^\* SEARCH"),
         "RFC 5182 §2.1: SEARCH RETURN (SAVE) alone: no ESEARCH", un + [r])
    un, r = a.cmd("FETCH $ (UID FLAGS)")
    t.ok(ok(r) and sorted(int(x) for x in re.findall(
        rb"^\* (\d+) FETCH", b"".join(un), re.M)) == [2, 4],
        "FETCH $: the messages saved", un)
    un, r = a.cmd("STORE $ +FLAGS (\\Answered)")
    t.ok(ok(r) and len(has(un, rb"\\Answered")) == 2, "STORE $", un)
    un, r = a.cmd("UID FETCH $ (FLAGS)")
    t.ok(ok(r) and len(has(un, rb"UID [24]\b")) == 2,
         "UID FETCH $: the same messages", un)
    un, r = a.cmd("SEARCH $ SMALLER 10")
    t.ok(ok(r) and has(un, rb"^\* SEARCH\r\n"), "SEARCH $ SMALLER 10", un)
    un, r = a.cmd("SEARCH OR $ 1")
    t.ok(ok(r) and has(un, rb"^\* SEARCH 1 2 4\r\n"), "SEARCH OR $ 1", un)
    un, r = a.cmd("UID SEARCH UID $")
    t.ok(ok(r) and has(un, rb"^\* SEARCH 2 4\r\n"), "UID SEARCH UID $", un)
    un, r = a.cmd("FETCH $,1 FLAGS")
    t.ok(b" BAD " in r, "$ is not part of a set: BAD", r)
    # MIN and MAX: those messages only (§2.1)
    un, r = a.cmd("SEARCH RETURN (SAVE MIN) YOUNGER 3600")
    t.ok(ok(r) and has(un, rb"^\* ESEARCH \(TAG \"t\d+\"\) MIN 1\r\n"),
         "SEARCH RETURN (SAVE MIN): the ESEARCH of MIN", un)
    un, r = a.cmd("FETCH $ (UID)")
    t.ok(ok(r) and len(un) == 1 and has(un, rb"^\* 1 FETCH"),
         "$ holds the MIN message only", un)
    un, r = a.cmd("UID SEARCH RETURN (SAVE MIN MAX) ALL")
    un2, r2 = a.cmd("FETCH $ (UID)")
    t.ok(ok(r) and has(un, rb"MIN 1 MAX 4") and
         [int(x) for x in re.findall(rb"^\* (\d+) FETCH", b"".join(un2),
                                     re.M)] == [1, 4],
         "SAVE MIN MAX: the first and the last", un + un2)
    un, r = a.cmd("SEARCH RETURN (SAVE COUNT MIN) ALL")
    un2, r2 = a.cmd("FETCH $ (UID)")
    t.ok(ok(r) and len(un2) == 4, "SAVE with COUNT: every message", un2)
    # a failed SEARCH empties $ (§2.1), also when pipelined (§2.4)
    res = pipeline(a, ["SEARCH RETURN (SAVE) FLAGGED",
                       "FETCH $ (FLAGS)",
                       "SEARCH RETURN (SAVE) BOGUSKEY",
                       "FETCH $ (FLAGS)",
                       "SEARCH RETURN (SAVE) FLAGGED",
                       "SEARCH RETURN (SAVE) CHARSET KOI8-R TEXT x",
                       "UID FETCH $ (FLAGS)",
                       "SEARCH RETURN (SAVE) FLAGGED",
                       "SEARCH RETURN (SAVE BOGUS) ALL",
                       "FETCH $ (FLAGS)"])
    t.ok(len(res) == 10 and ok(res[0][1]) and len(res[1][0]) == 2 and
         ok(res[1][1]), "pipelined: FETCH $ after a SEARCH that saved", res)
    t.ok(len(res) == 10 and b" BAD " in res[2][1] and ok(res[3][1]) and
         res[3][0] == [], "a SEARCH with SAVE that fails (BAD): $ is empty",
         res[2:4])
    t.ok(len(res) == 10 and b" NO " in res[5][1] and ok(res[6][1]) and
         res[6][0] == [], "one that fails with NO (BADCHARSET): empty too",
         res[5:7])
    t.ok(len(res) == 10 and b" BAD " in res[8][1] and res[9][0] == [] and
         ok(res[9][1]), "and one with malformed RETURN options", res[7:])
    # COPY $, UID EXPUNGE $, expunged messages leave $, SELECT resets
    a.cmd("SEARCH RETURN (SAVE) FLAGGED")
    un, r = a.cmd("COPY $ Archive")
    t.ok(ok(r) and b"COPYUID" in r, "COPY $", r)
    un, r = a.cmd("MOVE $ Junk")
    t.ok(ok(r) and len(has(un, rb"EXPUNGE")) == 2, "MOVE $", un)
    un, r = a.cmd("FETCH $ (FLAGS)")
    t.ok(ok(r) and un == [], "expunged messages drop out of $", un)
    a.cmd("SELECT Junk")
    a.cmd("SEARCH RETURN (SAVE) ALL")
    a.cmd("STORE 1 +FLAGS (\\Deleted)")
    un, r = a.cmd("UID EXPUNGE $")
    t.ok(ok(r) and len(has(un, rb"EXPUNGE")) == 1, "UID EXPUNGE $", un)
    a.cmd("SEARCH RETURN (SAVE) ALL")
    a.cmd("SELECT Junk")
    un, r = a.cmd("FETCH $ (FLAGS)")
    t.ok(ok(r) and un == [], "SELECT empties $", un)
    a.cmd("SELECT INBOX")

    # ---- CREATE-SPECIAL-USE (RFC 6154 §3, §5.2 example) ----
    un, r = a.cmd("CREATE MySpecial (USE (\\Drafts \\Sent))")
    t.ok(ok(r), "RFC 6154 §5.2: CREATE MySpecial (USE (\\Drafts \\Sent))",
         r)
    un, r = a.cmd('LIST "" MySpecial')
    t.ok(has(un, rb"^\* LIST \(.*\\Sent.*\) \"/\" MySpecial") and
         has(un, rb"\\Drafts"), "LIST shows its uses", un)
    un, r = a.cmd('LIST (SPECIAL-USE) "" "*"')
    t.ok(has(un, rb"MySpecial") and has(un, rb"\\Trash"),
         "LIST (SPECIAL-USE) selects it", un)
    un, r = a.cmd("RENAME MySpecial Other/Special")
    un, r = a.cmd('LIST "" Other/Special')
    t.ok(has(un, rb"\\Drafts"), "RENAME keeps the uses", un)
    for use in ("\\All", "\\Flagged", "\\Bogus"):
        un, r = a.cmd("CREATE Nope (USE (%s))" % use)
        t.ok(b" NO [USEATTR]" in r, "CREATE (USE (%s)): NO [USEATTR]" % use,
             r)
    un, r = a.cmd('LIST "" Nope')
    t.ok(not has(un, rb"Nope"), "and it made no folder", un)
    for bad in ("CREATE Nope (USE)", "CREATE Nope (USE ())",
                "CREATE Nope (FOO (\\Drafts))", "CREATE Nope (USE (Drafts))"):
        un, r = a.cmd(bad)
        t.ok(b" BAD " in r, "%s: BAD" % bad, r)
    un, r = a.cmd("CREATE Other/Special (USE (\\Junk))")
    t.ok(b" NO " in r and b"USEATTR" not in r,
         "an existing name: NO, not USEATTR", r)
    un, r = a.cmd('LIST "" Other/Special')
    t.ok(has(un, rb"\\Drafts") and not has(un, rb"\\Junk"),
         "and its uses are unchanged", un)
    un, r = a.cmd("CREATE Plain")
    un, r = a.cmd('LIST "" Plain')
    t.ok(has(un, rb"^\* LIST \(\\HasNoChildren\) \"/\" Plain"),
         "a plain CREATE: no use", un)

    # ---- SAVEDATE (RFC 8514) ----
    a.cmd("SELECT Archive")         # copied there: the HTML one, 2000's
    now = time.time()
    un, r = a.cmd("FETCH 1:* (SAVEDATE INTERNALDATE)")
    dates = re.findall(rb'SAVEDATE "([^"]+)"', b"".join(un))

    def secs(d):
        return datetime.datetime.strptime(
            d.decode(), "%d-%b-%Y %H:%M:%S %z").timestamp()
    t.ok(ok(r) and len(dates) == 2 and all(abs(secs(d) - now) < 120
                                           for d in dates),
         "FETCH SAVEDATE: when saved, even for the APPEND dated 2000", un)
    today = time.strftime("%d-%b-%Y", time.gmtime())
    un, r = a.cmd("SEARCH SAVEDSINCE %s" % today)
    un2, r2 = a.cmd("SEARCH SAVEDBEFORE 1-Jan-2001")
    un3, r3 = a.cmd("SEARCH SAVEDON %s" % today)
    un4, r4 = a.cmd("SEARCH SAVEDATESUPPORTED")
    un5, r5 = a.cmd("SEARCH BEFORE 1-Jan-2001")
    t.ok(has(un, rb"^\* SEARCH 1 2\r\n") and has(un2, rb"^\* SEARCH\r\n")
         and has(un3, rb"^\* SEARCH 1 2\r\n") and
         has(un4, rb"^\* SEARCH 1 2\r\n") and has(un5, rb"^\* SEARCH 2\r\n"),
         "SAVEDSINCE, SAVEDBEFORE, SAVEDON, SAVEDATESUPPORTED "
         "(and BEFORE by internal date)", un + un2 + un3 + un4 + un5)
    un, r = a.cmd("SEARCH SAVEDBEFORE 32-Jan-2020")
    t.ok(b" BAD " in r, "SAVEDBEFORE with a bad date: BAD", r)

    # ---- OBJECTID (RFC 8474) ----
    un, r = a.cmd("SELECT INBOX")
    m = has(un, rb"^\* OK \[MAILBOXID \(([A-Za-z0-9_-]+)\)\]")
    inbox_id = re.search(rb"MAILBOXID \(([^)]+)\)", m[0]).group(1) if m \
        else None
    t.ok(inbox_id is not None, "RFC 8474 §4.2: SELECT says MAILBOXID", un)
    un, r = a.cmd("STATUS INBOX (MAILBOXID)")
    t.ok(has(un, rb"^\* STATUS INBOX \(MAILBOXID \(%s\)\)" % inbox_id),
         "STATUS (MAILBOXID) says the same", un)
    un, r = a.cmd("CREATE foo")
    m = re.search(rb"^t\d+ OK \[MAILBOXID \(([A-Za-z0-9_-]+)\)\]", r)
    t.ok(m is not None and m.group(1) != inbox_id,
         "RFC 8474 §4.1: CREATE's OK [MAILBOXID (...)]", r)
    foo_id = m.group(1) if m else b"?"
    a.cmd("RENAME foo bar")
    un, r = a.cmd("STATUS bar (MAILBOXID)")
    t.ok(has(un, rb"MAILBOXID \(%s\)" % foo_id),
         "RFC 8474 §4.1: RENAME keeps the MAILBOXID", un)
    a.cmd("DELETE bar")
    un, r = a.cmd("CREATE bar")
    t.ok(ok(r) and foo_id not in r, "a new bar has a new MAILBOXID", r)
    un, r = a.cmd("FETCH 1:2 (EMAILID THREADID)")
    ids = fetch_ids(un, b"EMAILID")
    t.ok(ok(r) and len(ids) == 2 and ids[1] != ids[2] and
         len(has(un, rb"THREADID NIL")) == 2,
         "RFC 8474 §5: FETCH (EMAILID THREADID): distinct ids, THREADID "
         "NIL", un)
    un, r = a.cmd("COPY 1 bar")
    un, r = a.cmd("STATUS bar (MAILBOXID MESSAGES)")
    b = Imap()
    b.cmd("SELECT bar")
    un, r = b.cmd("FETCH 1 (EMAILID)")
    t.ok(fetch_ids(un, b"EMAILID").get(1) == ids[1],
         "a copy has the same EMAILID", un)
    b.close()
    un, r = a.cmd("SEARCH EMAILID %s" % ids[2].decode())
    t.ok(has(un, rb"^\* SEARCH 2\r\n"), "SEARCH EMAILID", un)
    un, r = a.cmd("SEARCH THREADID T123")
    t.ok(ok(r) and has(un, rb"^\* SEARCH\r\n"), "SEARCH THREADID: none", un)
    un, r = a.cmd('SEARCH EMAILID "a b"')
    t.ok(b" BAD " in r, "SEARCH EMAILID with a bad objectid: BAD", r)

    # ---- PREVIEW (RFC 8970) ----
    un, r = a.cmd("FETCH 1 (PREVIEW (LAZY))")
    t.ok(ok(r) and has(un, rb"^\* 1 FETCH \(PREVIEW NIL\)"),
         "PREVIEW (LAZY) before one is made: NIL", un)
    un, r = a.cmd("FETCH 1 (PREVIEW)")
    t.ok(ok(r) and has(un, rb'^\* 1 FETCH \(PREVIEW "Hello there, the '
                       rb'quarterly report is attached\."\)'),
         "FETCH PREVIEW: the text part, blanks squeezed", un)
    un, r = a.cmd("FETCH 1 (PREVIEW (LAZY) FLAGS)")
    t.ok(ok(r) and has(un, rb'PREVIEW "Hello there') and
         not has(un, rb"\\Seen"),
         "then PREVIEW (LAZY) has it kept; PREVIEW sets no \\Seen", un)
    un, r = a.cmd("UID FETCH 1:* PREVIEW (LAZY)")
    t.ok(ok(r) and len(un) == 2, "FETCH set PREVIEW (LAZY) at top level",
         un)
    a.cmd("SELECT Archive")
    un, r = a.cmd("FETCH 1 (PREVIEW)")
    t.ok(ok(r) and has(un, rb"PREVIEW \{\d+\}\r\nCaf\xc3\xa9 bold & "
                           rb"\xc3\xa9t\xc3\xa9\)"),
         "an HTML-only message: its text, tags and <style> gone, "
         "entities and UTF-8 (a literal)", un)
    a.cmd("SELECT INBOX")
    un, r = a.cmd("FETCH 2 (PREVIEW)")
    m = re.search(rb'PREVIEW (?:"([^"]*)"|\{256\}\r\n(.{256})\))',
                  b"".join(un), re.S)
    text = (m.group(1) or m.group(2)) if m else b""
    t.ok(ok(r) and len(text) == 256 and text.startswith(b"word word"),
         "a long body: 256 characters", un)
    for bad in ("FETCH 1 (PREVIEW (FOO))", "FETCH 1 (PREVIEW ())",
                "FETCH 1 PREVIEW (LAZY) (FOO)"):
        un, r = a.cmd(bad)
        t.ok(b" BAD " in r, "%s: BAD" % bad, r)
    a.close()

    # ---- "$" with QRESYNC's VANISHED (RFC 7162 §3.2.6) ----
    q = Imap()
    q.cmd("ENABLE QRESYNC")
    un, r = q.cmd("SELECT INBOX")
    hms = int(re.search(rb"HIGHESTMODSEQ (\d+)", b"".join(un)).group(1))
    un, r = q.cmd("UID SEARCH RETURN (SAVE ALL) ALL")
    uids = re.search(rb"ALL (\S+)", b"".join(un)).group(1)
    first = int(re.split(rb"[:,]", uids)[0])
    q.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")
    q.cmd("EXPUNGE")
    un, r = q.cmd("UID FETCH $ (FLAGS) (CHANGEDSINCE %d VANISHED)" % hms)
    t.ok(ok(r) and has(un, rb"^\* VANISHED \(EARLIER\) %d\r\n" % first),
         "UID FETCH $ (CHANGEDSINCE n VANISHED): the expunged one of $", un)
    q.close()

finally:
    srv.stop()
    srv.cleanup()
t.done()
