#!/usr/bin/python3
# IMAP4rev2 (RFC 9051) beside IMAP4rev1 over raw connections: both in
# CAPABILITY, a session is rev1 until "ENABLE IMAP4rev2" (Appendix A),
# and the same mailbox seen by a rev1 and a rev2 session side by side
# for each change Appendix E lists: RECENT and \Recent, SELECT's LIST,
# UNSEEN and [CLOSED], SEARCH's ESEARCH, UID in unsolicited FETCH, UTF-8
# mailbox names, STATUS, CHECK and LSUB gone, [HASCHILDREN].  The RFC's
# own examples where they apply (§6.3.1 ENABLE, §6.3.2 SELECT, §6.4.4
# SEARCH, §8 the sample session), and what rev2 folds in (NAMESPACE,
# UNSELECT, UIDPLUS, ESEARCH, SEARCHRES, ENABLE, IDLE, SASL-IR,
# LIST-EXTENDED, LIST-STATUS, MOVE, LITERAL-, BINARY, SPECIAL-USE,
# STATUS SIZE and DELETED, the RFC 5530 codes), used in a rev2 session.
import base64
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import IMAPRaw, TAP, Server  # noqa: E402

U, PW = "rev@example.test", "rev-secret"
t = TAP()
srv = Server(services=("imap",),
             overrides=["auth.allow_plaintext=yes",
                        "auth.failure_delay_max=0",
                        "imapd.max_errors=1000"])
srv.setup(users=[(U, PW)])


def Imap(rev2=False):
    c = IMAPRaw("127.0.0.1", srv.port("imap")).login(U, PW)
    if rev2:
        un, r = c.cmd("ENABLE IMAP4rev2")
        assert un == [b"* ENABLED IMAP4rev2\r\n"], un
    return c


def ok(r):
    return re.match(rb"^t\d+ OK", r) is not None


def bad(r):
    return re.match(rb"^t\d+ BAD", r) is not None


def lit(data):
    """A non-synchronizing literal (RFC 7888) of bytes."""
    return b"{%d+}\r\n" % len(data) + data


def has(un, pattern):
    """Is there an untagged response matching the regex?"""
    return any(re.search(pattern, u) for u in un)


def msg(frm, subject, body=b"Hello.\r\n", extra=b""):
    return (b"From: " + frm + b"\r\nTo: rev@example.test\r\n"
            b"Subject: " + subject + b"\r\n"
            b"Date: Wed, 17 Jul 1996 02:23:25 -0700\r\n"
            b"Message-ID: <" + subject.replace(b" ", b".") +
            b"@example.test>\r\n" + extra + b"\r\n" + body)


# The third message: a text part and an attachment whose name comes in
# RFC 2231 continuations (Appendix E item 6: the server decodes them).
M3 = msg(b"Bob <bob@example.test>", b"three",
         extra=b"MIME-Version: 1.0\r\n"
         b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n",
         body=b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n"
         b"Content-Transfer-Encoding: 8bit\r\n\r\n"
         b"Gr\xc3\xbc\xc3\x9fe aus M\xc3\xbcnchen\r\n"
         b"--b1\r\nContent-Type: application/octet-stream;\r\n"
         b" name*0=\"long-file\"; name*1=\"-name.bin\"\r\n"
         b"Content-Transfer-Encoding: base64\r\n\r\n" +
         base64.b64encode(b"\x00\x01binary\x02") +
         b"\r\n--b1--\r\n")

try:
    srv.start()

    # ---- CAPABILITY and ENABLE (§6.3.1, Appendix A) ----
    c = IMAPRaw("127.0.0.1", srv.port("imap"))
    t.like(c.greeting, b"IMAP4rev1", "greeting")
    un, r = c.cmd("CAPABILITY")
    caps = b"".join(un).split()
    t.ok(b"IMAP4rev1" in caps and b"IMAP4rev2" in caps,
         "CAPABILITY before login: IMAP4rev1 and IMAP4rev2", un)
    c.login(U, PW)
    un, r = c.cmd("CAPABILITY")
    before = b"".join(un)
    t.ok(b" IMAP4rev1 IMAP4rev2 " in before, "and after", un)
    # §6.3.1: unknown names ignored, the ENABLED response lists what
    # was enabled by this command only; CAPABILITY does not change.
    un, r = c.cmd("ENABLE X-GOOD-IDEA IMAP4rev2")
    t.eq(un, [b"* ENABLED IMAP4rev2\r\n"], "§6.3.1: ENABLE IMAP4rev2")
    t.ok(ok(r), "ENABLE OK", r)
    un, r = c.cmd("ENABLE IMAP4rev2")
    t.eq(un, [b"* ENABLED\r\n"], "§6.3.1: again: nothing newly enabled")
    un, r = c.cmd("CAPABILITY")
    t.eq(b"".join(un), before, "§6.3.1: CAPABILITY is the same after")
    c.close()

    # ---- the mailbox: three messages, two of them \Flagged ----
    c = Imap()
    for m, flags in ((msg(b"Smith <smith@example.test>", b"one"), b""),
                     (msg(b"Alice <alice@example.test>", b"two"),
                      b"(\\Flagged) "),
                     (M3, b"(\\Flagged) ")):
        un, r = c.cmd(b"APPEND INBOX " + flags + lit(m))
        t.ok(ok(r) and b"[APPENDUID " in r, "APPEND (rev1)", r)
    c.close()

    # ---- SELECT: RECENT/UNSEEN (rev1) against LIST (rev2) ----
    # The rev2 session takes no message as \Recent (item 12), so they
    # are still \Recent for the rev1 session that selects after it.
    v2 = Imap(rev2=True)
    un, r = v2.cmd("SELECT INBOX")
    t.ok(ok(r) and b"[READ-WRITE]" in r, "rev2 SELECT INBOX", r)
    t.ok(has(un, rb"^\* 3 EXISTS"), "rev2 SELECT: EXISTS", un)
    t.ok(not has(un, rb"RECENT"), "rev2 SELECT: no RECENT (item 12)", un)
    t.ok(not has(un, rb"\[UNSEEN"), "rev2 SELECT: no [UNSEEN] (item 11)",
         un)
    t.ok(has(un, rb'^\* LIST \([^)]*\\HasNoChildren[^)]*\) "/" INBOX\r\n$'),
         "§6.3.2: rev2 SELECT gives the mailbox's LIST", un)
    for code in (b"UIDVALIDITY", b"UIDNEXT", b"PERMANENTFLAGS"):
        t.ok(has(un, rb"^\* OK \[" + code), "rev2 SELECT: [%s]" %
             code.decode(), un)
    t.ok(has(un, rb"^\* FLAGS \("), "rev2 SELECT: FLAGS", un)
    un, r = v2.cmd("FETCH 1:* FLAGS")
    t.ok(ok(r) and len(un) == 3 and not has(un, rb"\\Recent"),
         "rev2 FETCH FLAGS: no \\Recent", un)

    v1 = Imap()
    un, r = v1.cmd("SELECT INBOX")
    t.ok(has(un, rb"^\* 3 RECENT"),
         "rev1 SELECT after it: the three are still RECENT", un)
    t.ok(has(un, rb"^\* OK \[UNSEEN 1\]"), "rev1 SELECT: [UNSEEN 1]", un)
    t.ok(not has(un, rb"^\* LIST"), "rev1 SELECT: no LIST", un)
    un, r = v1.cmd("FETCH 1 FLAGS")
    t.like(b"".join(un), b"\\Recent", "rev1 FETCH FLAGS: \\Recent")

    # §6.3.2's second example: SELECT while one is selected says
    # [CLOSED] first, then the new mailbox's data with its LIST.
    un, r = v2.cmd("SELECT Drafts")
    t.ok(un and un[0].startswith(b"* OK [CLOSED]"),
         "§6.3.2: rev2 SELECT of another: [CLOSED] first", un)
    t.ok(has(un, rb'^\* LIST \([^)]*\\Drafts[^)]*\) "/" Drafts\r\n$'),
         "§6.3.2: and Drafts' LIST, with its special use", un)
    un, r = v1.cmd("SELECT Drafts")
    t.ok(ok(r) and not has(un, rb"CLOSED"),
         "rev1 (no QRESYNC) SELECT of another: no [CLOSED]", un)
    # §6.3.3's example: EXAMINE, [READ-ONLY], LIST.
    un, r = v2.cmd("EXAMINE INBOX")
    t.ok(b"[READ-ONLY]" in r and has(un, rb"^\* OK \[CLOSED\]") and
         has(un, rb'^\* LIST \(.*\) "/" INBOX') and
         not has(un, rb"RECENT"), "§6.3.3: rev2 EXAMINE", un)
    un, r = v2.cmd("UNSELECT")
    t.ok(ok(r) and un == [], "UNSELECT: OK, nothing more", un)
    un, r = v2.cmd("SELECT INBOX")
    un, r = v1.cmd("SELECT INBOX")

    # ---- SEARCH: ESEARCH in rev2 (§6.4.4, item 4) ----
    q = 'FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"'
    un, r = v1.cmd("SEARCH " + q)
    t.eq(un, [b"* SEARCH 2 3\r\n"], "rev1 SEARCH: * SEARCH")
    un, r = v2.cmd("SEARCH " + q)
    t.eq(un, [b'* ESEARCH (TAG "t%d") ALL 2:3\r\n' % v2.n],
         "rev2 SEARCH: * ESEARCH ... ALL")
    un, r = v2.cmd("SEARCH RETURN (MIN COUNT) " + q)
    t.eq(un, [b'* ESEARCH (TAG "t%d") MIN 2 COUNT 2\r\n' % v2.n],
         "§6.4.4: SEARCH RETURN (MIN COUNT)")
    un, r = v2.cmd("SEARCH RETURN () " + q)
    t.eq(un, [b'* ESEARCH (TAG "t%d") ALL 2:3\r\n' % v2.n],
         "§6.4.4: SEARCH RETURN ()")
    un, r = v2.cmd('SEARCH TEXT "string not in mailbox"')
    t.eq(un, [b'* ESEARCH (TAG "t%d")\r\n' % v2.n],
         "§6.4.4: no match: ESEARCH with no ALL")
    t.ok(ok(r), "and OK", r)
    un, r = v2.cmd(b"SEARCH CHARSET UTF-8 TEXT " + lit(b"M\xc3\xbcnchen"))
    t.eq(un, [b'* ESEARCH (TAG "t%d") ALL 3\r\n' % v2.n],
         "§6.4.4: SEARCH CHARSET UTF-8 with a literal")
    un, r = v2.cmd('SEARCH CHARSET WHATEVER TEXT "Some text"')
    t.ok(re.match(rb"t\d+ NO \[BADCHARSET \(", r) is not None,
         "§6.4.4: unknown charset: NO [BADCHARSET (...)]", r)
    un, r = v2.cmd("UID FETCH 1:* UID")
    uids = [int(x) for x in re.findall(rb"UID (\d+)", b"".join(un))]
    un, r = v2.cmd("UID SEARCH " + q)
    t.eq(un, [b'* ESEARCH (TAG "t%d") UID ALL %d:%d\r\n' %
              (v2.n, uids[1], uids[2])], "rev2 UID SEARCH: ESEARCH UID")
    un, r = v1.cmd("UID SEARCH " + q)
    t.eq(un, [b"* SEARCH %d %d\r\n" % (uids[1], uids[2])],
         "rev1 UID SEARCH: * SEARCH")
    # SEARCHRES in rev2
    un, r = v2.cmd("SEARCH RETURN (SAVE) FLAGGED")
    t.ok(ok(r) and un == [], "SEARCHRES: RETURN (SAVE) alone, no ESEARCH",
         un)
    un, r = v2.cmd("FETCH $ (UID)")
    t.eq(len(un), 2, "SEARCHRES: FETCH $ gives the two saved")

    # ---- unsolicited FETCH carries the UID in rev2 (item 21) ----
    other = Imap()
    other.cmd("SELECT INBOX")
    un, r = other.cmd("STORE 1 +FLAGS.SILENT (\\Answered)")
    un2, r = v2.cmd("NOOP")
    t.ok(has(un2, rb"^\* 1 FETCH \(UID %d FLAGS \(" % uids[0]),
         "rev2: another's flag change comes with the UID", un2)
    un1, r = v1.cmd("NOOP")
    t.ok(has(un1, rb"^\* 1 FETCH \(FLAGS \(") and
         not has(un1, rb"UID"), "rev1: without it", un1)
    # A new message: EXISTS, and RECENT for rev1 only.
    un, r = other.cmd(b"APPEND INBOX " + lit(msg(b"d <d@example.test>",
                                                 b"four")))
    un2, r = v2.cmd("NOOP")
    t.ok(has(un2, rb"^\* 4 EXISTS") and not has(un2, rb"RECENT"),
         "rev2: a new message: EXISTS, no RECENT", un2)
    un1, r = v1.cmd("NOOP")
    t.ok(has(un1, rb"^\* 4 EXISTS") and has(un1, rb"^\* \d+ RECENT"),
         "rev1: EXISTS and RECENT", un1)
    other.close()

    # ---- keywords rev2 asks for (item 15): ordinary keywords ----
    kw = b"$Forwarded $MDNSent $Junk $NotJunk $Phishing"
    un, r = v2.cmd(b"STORE 4 +FLAGS (" + kw + b")")
    t.ok(ok(r) and all(k in b"".join(un) for k in kw.split()),
         "STORE +FLAGS of the five keywords", un)
    un, r = v2.cmd("SEARCH KEYWORD $Junk")
    t.eq(un, [b'* ESEARCH (TAG "t%d") ALL 4\r\n' % v2.n],
         "SEARCH KEYWORD $Junk")
    un, r = v2.cmd("SEARCH KEYWORD $Phishing UNKEYWORD $NotJunk")
    t.eq(un, [b'* ESEARCH (TAG "t%d")\r\n' % v2.n],
         "SEARCH UNKEYWORD $NotJunk")

    # ---- CHECK and LSUB are not in rev2 (items 17, 19) ----
    un, r = v2.cmd("CHECK")
    t.ok(bad(r), "rev2 CHECK: BAD (use NOOP)", r)
    un, r = v1.cmd("CHECK")
    t.ok(ok(r), "rev1 CHECK: OK", r)
    un, r = v2.cmd('LSUB "" "*"')
    t.ok(bad(r) and un == [], "rev2 LSUB: BAD", r)
    un, r = v1.cmd('LSUB "" "*"')
    t.ok(ok(r) and has(un, rb'^\* LSUB .* INBOX'), "rev1 LSUB: works", un)
    un, r = v2.cmd('LIST (SUBSCRIBED) "" "*"')
    t.ok(ok(r) and has(un, rb'^\* LIST \(.*\\Subscribed.*\) "/" INBOX'),
         "rev2 LIST (SUBSCRIBED) instead", un)

    # ---- STATUS: DELETED and SIZE; RECENT only in rev1 (item 3, 12) ----
    v2.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")
    un, r = v2.cmd("STATUS Drafts (MESSAGES UIDNEXT UIDVALIDITY UNSEEN "
                   "DELETED SIZE)")
    t.ok(ok(r) and has(un, rb"^\* STATUS Drafts \(MESSAGES 0 UIDNEXT \d+ "
                           rb"UIDVALIDITY \d+ UNSEEN 0 SIZE 0 DELETED 0\)"),
         "rev2 STATUS with DELETED and SIZE", un)
    un, r = v2.cmd("STATUS INBOX (DELETED MESSAGES)")
    t.ok(has(un, rb"MESSAGES 4 DELETED 1\)"), "STATUS DELETED counts", un)
    un, r = v2.cmd("STATUS INBOX (RECENT)")
    t.ok(bad(r), "rev2 STATUS RECENT: BAD", r)
    un, r = v1.cmd("STATUS INBOX (RECENT)")
    t.ok(ok(r) and has(un, rb"RECENT \d+"), "rev1 STATUS RECENT: OK", un)
    v2.cmd("STORE 1 -FLAGS.SILENT (\\Deleted)")

    # ---- LIST-EXTENDED, LIST-STATUS, SPECIAL-USE in rev2 ----
    un, r = v2.cmd('LIST "" "%" RETURN (STATUS (MESSAGES SIZE DELETED))')
    t.ok(ok(r) and has(un, rb"^\* STATUS INBOX \(MESSAGES 4 SIZE \d+ "
                           rb"DELETED 0\)"), "LIST-STATUS", un)
    un, r = v2.cmd('LIST (SPECIAL-USE) "" "*"')
    t.ok(ok(r) and has(un, rb"\\Sent") and not has(un, rb"INBOX"),
         "LIST (SPECIAL-USE)", un)
    un, r = v2.cmd('LIST "" ("INBOX" "Sent") RETURN (CHILDREN)')
    t.ok(ok(r) and len(un) == 2, "LIST with two patterns", un)

    # ---- UTF-8 mailbox names (§5.1, item 16) ----
    un, r = v2.cmd('CREATE "Entw\u00fcrfe/alt"')
    t.ok(ok(r), "rev2 CREATE with a UTF-8 name", r)
    un, r = v2.cmd('LIST "" "Entw*"')
    t.ok(has(un, '^\\* LIST \\(\\\\HasChildren\\) "/" "Entw\u00fcrfe"\r\n$'
             .encode()) and
         has(un, '"Entw\u00fcrfe/alt"'.encode()),
         "rev2 LIST: the names in UTF-8", un)
    un, r = v1.cmd('LIST "" "Entw*"')
    t.ok(has(un, rb'^\* LIST \(\\HasChildren\) "/" Entw&APw-rfe\r\n$'),
         "rev1 LIST: the same in modified UTF-7", un)
    un, r = v2.cmd('SELECT "Entw\u00fcrfe"')
    t.ok(ok(r) and has(un, '^\\* LIST \\(\\\\HasChildren\\) "/" '
                           '"Entw\u00fcrfe"\r\n$'.encode()),
         "rev2 SELECT of a parent: \\HasChildren in its LIST", un)
    un, r = v2.cmd('SELECT "Entw\u00fcrfe/alt"')
    t.ok(ok(r) and has(un, '^\\* LIST \\(\\\\HasNoChildren\\) "/" '
                           '"Entw\u00fcrfe/alt"'.encode()),
         "rev2 SELECT of a UTF-8 name: its LIST", un)
    un, r = v2.cmd(b'STATUS "Entw\xff" (MESSAGES)')
    t.ok(bad(r), "rev2: a name that is not UTF-8: BAD", r)
    # §5.1: only Net-Unicode names (RFC 5198: NFC, no controls) are
    # made; "u" + U+0308 is the decomposed form of U+00FC.
    un, r = v2.cmd('CREATE "Entwu\u0308rfe2"')
    t.like(r, b"NO [CANNOT]", "§5.1: rev2 CREATE of a name not in NFC: NO")
    un, r = v2.cmd(b"CREATE " + lit(b"Ctl\xc2\x85name"))
    t.like(r, b"NO [CANNOT]", "§5.1: nor with a control character (U+0085)")
    un, r = v2.cmd('RENAME "Entw\u00fcrfe/alt" "Entwu\u0308rfe/alt"')
    t.like(r, b"NO [CANNOT]", "§5.1: nor RENAME to one")
    un, r = v1.cmd("CREATE Entwu&Awg-rfe2")
    t.ok(ok(r), "rev1 CREATE of that name in modified UTF-7: as before", r)

    # ---- response codes (RFC 5530, §7.1) ----
    un, r = v2.cmd('DELETE "Entw\u00fcrfe"')
    t.ok(re.match(rb"t\d+ NO \[HASCHILDREN\]", r) is not None,
         "§6.3.5: rev2 DELETE of a parent: NO [HASCHILDREN]", r)
    un, r = v1.cmd("DELETE Entw&APw-rfe")
    t.ok(re.match(rb"t\d+ NO \[CANNOT\]", r) is not None,
         "rev1: NO [CANNOT]", r)
    un, r = v2.cmd("CREATE Trash")
    t.like(r, b"NO [ALREADYEXISTS]", "CREATE of one there: [ALREADYEXISTS]")
    un, r = v2.cmd("SELECT Nowhere")
    t.like(r, b"NO [NONEXISTENT]", "SELECT of none: [NONEXISTENT]")
    un, r = v2.cmd("SELECT INBOX")
    un, r = v2.cmd("COPY 1 Nowhere")
    t.like(r, b"NO [TRYCREATE]", "§6.4.7: COPY to none: [TRYCREATE]")
    un, r = v2.cmd("MOVE 1 Nowhere")
    t.like(r, b"NO [TRYCREATE]", "MOVE to none: [TRYCREATE] (item 8)")
    un, r = v2.cmd(b"APPEND Nowhere " + lit(b"Subject: x\r\n\r\nx\r\n"))
    t.like(r, b"NO [TRYCREATE]", "APPEND to none: [TRYCREATE]")
    un, r = v2.cmd('CREATE "a%b"')
    t.like(r, b"NO [CANNOT]", "CREATE of a bad name: [CANNOT]")

    # ---- MOVE and UIDPLUS (item 7: COPYUID for MOVE) ----
    un, r = v2.cmd("COPY 2 Trash")
    t.ok(re.match(rb"t\d+ OK \[COPYUID \d+ %d \d+\]" % uids[1], r)
         is not None, "COPY: [COPYUID]", r)
    un, r = v2.cmd("MOVE 2 Archive")
    t.ok(ok(r) and un and re.match(rb"\* OK \[COPYUID \d+ %d \d+\]" %
                                   uids[1], un[0]) is not None and
         has(un, rb"^\* 2 EXPUNGE"), "MOVE: [COPYUID] then EXPUNGE", un)

    # ---- LITERAL- (RFC 7888): {n+} up to 4096 ----
    big = msg(b"L <l@example.test>", b"literal", b"x" * 3800 + b"\r\n")
    t.ok(len(big) <= 4096, "a message of %d octets" % len(big))
    un, r = v2.cmd(b"APPEND Trash " + lit(big))
    t.ok(ok(r), "APPEND with a non-synchronizing literal", r)

    # ---- BINARY (the FETCH side, item 2) and RFC 2231 (item 6) ----
    un, r = v2.cmd("UID FETCH %d (BINARY.SIZE[2] BINARY.PEEK[2] "
                   "BODYSTRUCTURE)" % uids[2])
    all_ = b"".join(un)
    t.like(all_, b"BINARY.SIZE[2] 9", "BINARY.SIZE[2]")
    t.like(all_, b"BINARY[2] ~{9}\r\n\x00\x01binary\x02",
           "BINARY[2]: decoded, as a literal8")
    t.like(all_, b'"NAME" "long-file-name.bin"',
           "BODYSTRUCTURE: RFC 2231 continuations decoded")

    # ---- IDLE, NAMESPACE, ID ----
    un, r = v2.cmd("NAMESPACE")
    t.eq(un, [b'* NAMESPACE (("" "/")) (("Other Users/" "/")) NIL\r\n'],
         "NAMESPACE (the other users' one since ACL)")
    v2.sock.sendall(b"i1 IDLE\r\n")
    t.like(v2.f.readline(), b"+ ", "IDLE: continuation")
    v2.sock.sendall(b"DONE\r\n")
    t.like(v2.f.readline(), b"i1 OK", "IDLE: DONE")
    v1.close()
    v2.close()

    # ---- SASL-IR, then rev2 ----
    c = IMAPRaw("127.0.0.1", srv.port("imap"))
    ir = base64.b64encode(b"\0" + U.encode() + b"\0" + PW.encode())
    un, r = c.cmd(b"AUTHENTICATE PLAIN " + ir)
    t.ok(ok(r), "SASL-IR: AUTHENTICATE PLAIN with the initial response", r)
    un, r = c.cmd("ENABLE IMAP4rev2")
    t.eq(un, [b"* ENABLED IMAP4rev2\r\n"], "then ENABLE IMAP4rev2")
    c.close()

    # ---- §8: the sample session, in rev2 ----
    c = IMAPRaw("127.0.0.1", srv.port("imap"))
    un, r = c.cmd("login %s %s" % (U, PW))
    t.ok(ok(r), "§8 a001 login", r)
    c.cmd("enable IMAP4rev2")
    un, r = c.cmd("select inbox")
    t.ok(ok(r) and b"[READ-WRITE]" in r and has(un, rb"^\* 3 EXISTS") and
         has(un, rb'^\* LIST \(.*\) "/" INBOX') and
         has(un, rb"^\* OK \[UIDVALIDITY \d+\]") and
         has(un, rb"^\* FLAGS \(") and not has(un, rb"RECENT"),
         "§8 a002 select inbox", un)
    un, r = c.cmd("fetch 3 full")
    t.ok(ok(r) and re.match(rb"\* 3 FETCH \(FLAGS \([^)]*\) INTERNALDATE "
                            rb'"[^"]+" RFC822.SIZE \d+ ENVELOPE \(.*\) '
                            rb"BODY \(", un[0]) is not None,
         "§8 a003 fetch full", un)
    un, r = c.cmd("fetch 3 body[header]")
    t.ok(ok(r) and b"Subject: four" in b"".join(un),
         "§8 a004 fetch body[header]", un)
    un, r = c.cmd("store 1 +flags \\deleted")
    t.ok(ok(r) and has(un, rb"^\* 1 FETCH \(FLAGS \([^)]*\\Deleted"),
         "§8 a005 store +flags \\deleted", un)
    un, r = c.cmd("logout")
    t.ok(ok(r) and has(un, rb"^\* BYE"), "§8 a006 logout", un)
finally:
    srv.stop()
    srv.cleanup()
t.done()
