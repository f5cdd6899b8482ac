#!/usr/bin/python3
# Shared folders (IMAP ACL, RFC 4314) with the extensions that name
# folders: QUOTA (RFC 9208: an APPEND, COPY or MOVE into another user's
# folder counts against the owner's quota root, which GETQUOTAROOT
# names), CATENATE (RFC 4469: URLs of folders others share, with "r";
# URLs relative to the selected mailbox), METADATA (RFC 5464 §3.3: a
# shared folder's /shared entries are everybody's, /private ones each
# user's own; "l" and one of r s w i p needed) and URLAUTH's URLMECH in
# SELECT (RFC 4467).  Real connections, three users of one domain.
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import IMAPRaw, TAP, Server  # noqa: E402

ANN, BOB, CAT = "ann@example.test", "bob@example.test", "cat@example.test"
PW = "shared-ext-pw"
ROOT = '"Other Users/ann@example.test"'
PROJ = '"Other Users/ann@example.test/Projects"'
NOTES = '"Other Users/ann@example.test/Notes"'
LOOK = '"Other Users/ann@example.test/Lookup"'
HIDDEN = '"Other Users/ann@example.test/Hidden"'
t = TAP()
srv = Server(services=("imap",),
             overrides=["auth.allow_plaintext=yes",
                        "auth.failure_delay_max=0",
                        "imapd.max_errors=1000"])
srv.setup(users=[(ANN, PW), (BOB, PW), (CAT, PW)])

MSG = (b"From: ann@example.test\r\nTo: bob@example.test\r\n"
       b"Subject: plan %d\r\n\r\nThe plan, part %d.\r\n")


def Imap(user):
    return IMAPRaw("127.0.0.1", srv.port("imap")).login(user, PW)


def ok(r):
    return re.match(rb"^t\d+ OK", r) is not None


def code(r, c):
    return re.match(rb"^t\d+ NO \[" + c + rb"[\] ]", r) is not None


def append(c, box, n):
    data = MSG % (n, n)
    return c.cmd(b"APPEND " + box.encode() + b" {%d+}\r\n" % len(data) +
                 data)[1]


def catenate(c, box, *parts):
    """APPEND box CATENATE (...): parts are ("URL", url) / ("TEXT", b)."""
    line = b"APPEND " + box.encode() + b" CATENATE ("
    for i, (kind, v) in enumerate(parts):
        line += b" " if i else b""
        if kind == "URL":
            line += b'URL "' + v.encode() + b'"'
        else:
            line += b"TEXT {%d+}\r\n" % len(v) + v
    return c.cmd(line + b")")


def last_message(c, box):
    c.cmd("EXAMINE " + box)
    un, r = c.cmd("FETCH * (BODY.PEEK[])")
    c.cmd("UNSELECT")
    m = re.search(rb"BODY\[\] \{(\d+)\}\r\n", b"".join(un))
    if not m:
        return None
    body = b"".join(un)[m.end():]
    return body[:int(m.group(1))]


def quota(un, root):
    """{resource: (usage, limit)} of the QUOTA response for root."""
    for l in un:
        if l.startswith(b"* QUOTA " + root.encode() + b" ("):
            w = l[l.index(b"(") + 1:l.rindex(b")")].split()
            return {w[i].decode(): (int(w[i + 1]), int(w[i + 2]))
                    for i in range(0, len(w), 3)}
    return None


try:
    srv.start()
    ann = Imap(ANN)
    for box, rights in (("Projects", "lrswi"), ("Notes", "lr"),
                        ("Lookup", "l"), ("Hidden", None)):
        t.ok(ok(ann.cmd("CREATE " + box)[1]), "ann creates " + box)
        if rights:
            r = ann.cmd("SETACL %s bob %s" % (box, rights))[1]
            t.ok(ok(r), "SETACL %s bob %s" % (box, rights), r)
    for n in (1, 2, 3):
        append(ann, "Projects", n)
    append(ann, "Notes", 9)
    append(ann, "Hidden", 8)
    append(ann, "Lookup", 7)
    bob = Imap(BOB)     # after the grants: they take effect at login
    cat = Imap(CAT)

    # ---- QUOTA: the owner's root (RFC 9208 §3) ----
    rc, out, err = srv.mailctl("user", "quota", ANN, "100000", "10")
    t.ok(rc == 0, "ann: at most 10 messages", out + err)
    rc, out, err = srv.mailctl("user", "quota", BOB, "100000", "1")
    t.ok(rc == 0, "bob: at most 1 message", out + err)
    t.ok(ok(append(bob, "INBOX", 1)), "bob's own APPEND: his one message")
    r = append(bob, "INBOX", 2)
    t.ok(code(r, rb"OVERQUOTA"), "bob's own quota holds: NO [OVERQUOTA]", r)
    r = append(bob, PROJ, 4)
    t.ok(ok(r), "bob over his quota may still APPEND to ann's folder, "
         "which has room (her quota, not his)", r)
    un, r = bob.cmd("GETQUOTAROOT " + PROJ)
    t.ok(ok(r) and un[0] == b"* QUOTAROOT " + PROJ.encode() + b" " +
         ROOT.encode() + b"\r\n",
         "GETQUOTAROOT of ann's folder names ann's root", un + [r])
    q = quota(un, ROOT)
    t.ok(q is not None and q["MESSAGE"] == (7, 10) and
         q["STORAGE"][1] == 100000,
         "and gives ann's figures: 7 of 10 messages (her 6, bob's 1)", un)
    un, r = bob.cmd("GETQUOTA " + ROOT)
    t.ok(ok(r) and quota(un, ROOT) == q, "GETQUOTA of ann's root", un)
    un, r = bob.cmd('GETQUOTAROOT INBOX')
    t.ok(ok(r) and un[0] == b'* QUOTAROOT INBOX ""\r\n' and
         quota(un, '""')["MESSAGE"] == (1, 1),
         "bob's INBOX: his own root, his own usage", un)

    rc, out, err = srv.mailctl("user", "quota", ANN, "100000", "7")
    t.ok(rc == 0, "ann: at most 7 messages (she has 7)", out + err)
    r = append(bob, PROJ, 5)
    t.ok(code(r, rb"OVERQUOTA"),
         "ann at her limit: bob's APPEND into her folder NO [OVERQUOTA]", r)
    r = bob.cmd("SELECT INBOX")[1]
    r = bob.cmd("COPY 1 " + PROJ)[1]
    t.ok(code(r, rb"OVERQUOTA"), "COPY into it: NO [OVERQUOTA]", r)
    r = bob.cmd("MOVE 1 " + PROJ)[1]
    t.ok(code(r, rb"OVERQUOTA"),
         "MOVE from bob's folders into hers adds to her root: NO "
         "[OVERQUOTA]", r)
    un, r = bob.cmd("FETCH 1 (FLAGS)")
    t.ok(ok(r) and len(un) == 1, "the MOVE left bob's message", un)
    bob.cmd("UNSELECT")
    un, r = bob.cmd('GETQUOTA ""')
    t.ok(quota(un, '""')["MESSAGE"] == (1, 1),
         "bob's own usage unaffected: 1 of 1", un)
    un, r = ann.cmd('GETQUOTA ""')
    t.ok(quota(un, '""')["MESSAGE"] == (7, 7),
         "ann's: 7 of 7, nothing added", un)
    un, r = ann.cmd("STATUS Projects (MESSAGES)")
    t.ok(b"MESSAGES 4" in b"".join(un), "Projects still has 4", un)
    un, r = bob.cmd("GETQUOTAROOT " + NOTES)
    t.ok(code(r, rb"NOPERM") and un == [],
         "GETQUOTAROOT of a folder bob may not add to (lr): NO [NOPERM]",
         un + [r])
    un, r = bob.cmd("GETQUOTAROOT " + HIDDEN)
    t.ok(code(r, rb"NONEXISTENT"), "of one he cannot see: NONEXISTENT", r)
    un, r = cat.cmd("GETQUOTA " + ROOT)
    t.ok(code(r, rb"NONEXISTENT") and un == [],
         "cat, whom ann shares nothing with: no such root", un + [r])
    un, r = bob.cmd('GETQUOTA "Other Users/nobody@example.test"')
    t.ok(code(r, rb"NONEXISTENT"), "an owner who shares nothing: none", r)
    srv.mailctl("user", "quota", ANN, "none")
    srv.mailctl("user", "quota", BOB, "none")
    r = append(bob, PROJ, 5)
    t.ok(ok(r), "quota removed: the APPEND goes in", r)

    # ---- CATENATE: URLs of shared folders (RFC 4469 §3) ----
    un, r = catenate(bob, "INBOX",
                     ("URL", "/Other%20Users/ann@example.test/Projects"
                      "/;UID=1/;SECTION=HEADER"),
                     ("TEXT", b"Bob's note.\r\n"))
    t.ok(ok(r), "CATENATE with a URL of ann's Projects (lrswi)", r)
    t.eq(last_message(bob, "INBOX"),
         b"From: ann@example.test\r\nTo: bob@example.test\r\n"
         b"Subject: plan 1\r\n\r\nBob's note.\r\n",
         "the message: her header and his text")
    un, r = catenate(bob, "INBOX",
                     ("URL", "/Other Users/ann@example.test/Notes/;UID=1"))
    t.ok(ok(r), "a URL of Notes (lr): r is enough", r)
    t.eq(last_message(bob, "INBOX"), MSG % (9, 9), "the whole message")
    for box, why in (("Lookup", "l alone"), ("Hidden", "no right")):
        url = "/Other Users/ann@example.test/%s/;UID=1" % box
        un, r = catenate(bob, "INBOX", ("URL", url))
        t.ok(code(r, rb"BADURL"), "a URL of %s (%s): NO [BADURL]" %
             (box, why), r)
    un, r = catenate(cat, "INBOX",
                     ("URL", "/Other Users/ann@example.test/Projects"
                      "/;UID=1"))
    t.ok(code(r, rb"BADURL"), "cat, shared nothing: NO [BADURL]", r)
    un, r = catenate(bob, PROJ,
                     ("URL", "/INBOX/;UID=1/;SECTION=TEXT"))
    t.ok(ok(r), "into ann's folder, from bob's own", r)

    # ---- CATENATE: relative URLs (RFC 4469 §3, RFC 5092 §7.1) ----
    un, r = catenate(bob, "INBOX", ("URL", ";UID=1"))
    t.ok(code(r, rb"BADURL"), "a relative URL with nothing selected: "
         "NO [BADURL]", r)
    bob.cmd("EXAMINE " + PROJ)
    un, r = catenate(bob, "Drafts",
                     ("URL", ";UID=2/;SECTION=HEADER"),
                     ("TEXT", b"Relative.\r\n"),
                     ("URL", ";uid=3/;section=TEXT/;PARTIAL=4.4"))
    t.ok(ok(r), "relative URLs while ann's Projects is selected", r)
    t.eq(last_message(bob, "Drafts"),
         b"From: ann@example.test\r\nTo: bob@example.test\r\n"
         b"Subject: plan 2\r\n\r\nRelative.\r\nplan",
         "the parts of the selected mailbox's messages 2 and 3")
    bob.cmd("SELECT INBOX")
    un, r = catenate(bob, "Drafts", ("URL", ";UID=1"))
    t.ok(ok(r), "relative to bob's own INBOX", r)
    t.eq(last_message(bob, "Drafts"), MSG % (1, 1), "his first message")
    for bad in (";UID=0", ";UID=99", ";UID=1/;SECTION=9",
                ";UIDVALIDITY=1/;UID=1", ";UID=1x"):
        un, r = catenate(bob, "Drafts", ("URL", bad))
        t.ok(code(r, rb"BADURL"), "relative %s: NO [BADURL]" % bad, r)
    bob.cmd("UNSELECT")

    # ---- URLMECH in SELECT (RFC 4467 §3) ----
    un, r = bob.cmd("SELECT INBOX")
    t.ok(b"* OK [URLMECH INTERNAL] URLAUTH mechanisms\r\n" in un,
         "SELECT of one's own mailbox: OK [URLMECH INTERNAL]", un)
    un, r = bob.cmd("EXAMINE Drafts")
    t.ok(any(u.startswith(b"* OK [URLMECH INTERNAL]") for u in un),
         "EXAMINE too", un)
    un, r = bob.cmd("EXAMINE " + PROJ)
    t.ok(ok(r) and b"* OK [URLMECH INTERNAL] URLAUTH mechanisms\r\n" in
         un, "and for ann's folder, whose URLs bob makes too (t/97)", un)
    bob.cmd("UNSELECT")

    # ---- METADATA of a shared folder (RFC 5464 §3.3) ----
    r = ann.cmd(b"SETMETADATA Projects (/shared/comment {4+}\r\nteam "
                b"/private/comment \"ann's own\")")[1]
    t.ok(ok(r), "ann annotates Projects, shared and private", r)
    un, r = bob.cmd("GETMETADATA " + PROJ +
                    " (/shared/comment /private/comment)")
    t.eq(un, [b"* METADATA " + PROJ.encode() +
              b' (/shared/comment "team" /private/comment NIL)\r\n'],
         "bob sees the shared entry, not ann's private one")
    # RFC 5464 §4.3's example, on ann's folder
    r = bob.cmd(b"SETMETADATA " + PROJ.encode() +
                b" (/private/comment {33+}\r\nMy new comment across\r\n"
                b"two lines.)")[1]
    t.ok(ok(r), "§4.3's example: bob sets his /private/comment", r)
    un, r = bob.cmd("GETMETADATA " + PROJ + " /private/comment")
    t.eq(un, [b"* METADATA " + PROJ.encode() + b" (/private/comment "
              b"{33}\r\nMy new comment across\r\ntwo lines.)\r\n"],
         "bob gets his own back")
    un, r = ann.cmd("GETMETADATA (DEPTH infinity) Projects /private")
    t.eq(un, [b"* METADATA Projects (/private/comment \"ann's own\")\r\n"],
         "ann's private entries are hers alone (DEPTH infinity)")
    un, r = bob.cmd("GETMETADATA (DEPTH infinity) " + PROJ + " /private")
    t.ok(len(un) == 1 and b"ann's own" not in un[0] and
         b"/private/comment {33}" in un[0] and b"/user" not in un[0],
         "and bob's his (DEPTH infinity)", un)
    r = bob.cmd("SETMETADATA " + PROJ + ' (/shared/comment "changed")')[1]
    t.ok(ok(r), "bob changes the shared entry", r)
    un, r = ann.cmd("GETMETADATA Projects /shared/comment")
    t.eq(un, [b'* METADATA Projects (/shared/comment "changed")\r\n'],
         "ann sees it changed")
    un, r = bob.cmd("GETMETADATA " + NOTES + " /shared/comment")
    t.ok(ok(r), "Notes (lr): GETMETADATA allowed", r)
    un, r = bob.cmd("GETMETADATA " + LOOK + " /shared/comment")
    t.ok(code(r, rb"NOPERM"), "Lookup (l alone): NO [NOPERM]", r)
    r = bob.cmd("SETMETADATA " + LOOK + ' (/private/x "y")')[1]
    t.ok(code(r, rb"NOPERM"), "SETMETADATA there too", r)
    un, r = bob.cmd("GETMETADATA " + HIDDEN + " /shared/comment")
    t.ok(code(r, rb"NONEXISTENT"), "Hidden: NO [NONEXISTENT]", r)
    un, r = cat.cmd("GETMETADATA " + PROJ + " /shared/comment")
    t.ok(code(r, rb"NONEXISTENT"), "cat: NO [NONEXISTENT]", r)
    r = ann.cmd("RENAME Projects Plans")[1]
    un, r = ann.cmd("GETMETADATA (DEPTH infinity) Plans /private")
    t.eq(un, [b"* METADATA Plans (/private/comment \"ann's own\")\r\n"],
         "after a RENAME, ann's entries go with the folder")
    un, r = bob.cmd('GETMETADATA "Other Users/ann@example.test/Plans" '
                    '/private/comment')
    t.ok(ok(r) and len(un) == 1 and b"{33}" in un[0],
         "and bob's too", un)

    for c in (ann, bob, cat):
        c.close()
finally:
    srv.stop()
    srv.cleanup()
t.done()
