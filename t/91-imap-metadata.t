#!/usr/bin/python3
# IMAP METADATA and METADATA-SERVER (RFC 5464) over a raw connection,
# with the RFC's own examples (§4.2.1 MAXSIZE, §4.2.2 DEPTH, §4.3
# SETMETADATA), entry-name checks (§3.2), the limits (MAXSIZE,
# TOOMANY), values that stay across sessions, go with RENAME and go
# with DELETE, 8-bit and literal8 values, and an older index.
import glob
import os
import re
import sqlite3
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import IMAPRaw, TAP, Server  # noqa: E402

U, PW = "meta@example.test", "meta-pw"
t = TAP()
srv = Server(services=("imap",),
             overrides=["auth.allow_plaintext=yes",
                        "auth.failure_delay_max=0",
                        "imapd.max_errors=1000"])
srv.setup(users=[(U, PW)])


def Imap():
    return IMAPRaw("127.0.0.1", srv.port("imap")).login(U, PW)


def ok(r):
    return re.match(rb"^t\d+ OK", r) is not None


def lit(data):
    """A non-synchronizing literal (RFC 7888) of bytes."""
    return b"{%d+}\r\n" % len(data) + data


try:
    srv.start()
    c = Imap()
    un, r = c.cmd("CAPABILITY")
    caps = b"".join(un).split()
    t.ok(b"METADATA" in caps and b"METADATA-SERVER" in caps,
         "CAPABILITY has METADATA and METADATA-SERVER", un)

    # ---- §4.3 SETMETADATA, the RFC's examples ----
    un, r = c.cmd(b"SETMETADATA INBOX (/private/comment " +
                  lit(b"My new comment across\r\ntwo lines.") + b")")
    t.ok(ok(r), "§4.3: SETMETADATA with a literal value", r)
    un, r = c.cmd("GETMETADATA INBOX /private/comment")
    t.eq(un, [b'* METADATA INBOX (/private/comment {33}\r\n'
              b'My new comment across\r\ntwo lines.)\r\n'],
         "GETMETADATA gives it back")
    un, r = c.cmd("SETMETADATA INBOX (/private/comment NIL)")
    t.ok(ok(r), "§4.3: NIL removes an entry", r)
    un, r = c.cmd("GETMETADATA INBOX /private/comment")
    t.eq(un, [b"* METADATA INBOX (/private/comment NIL)\r\n"],
         "removed: asked for by name, it is NIL")
    un, r = c.cmd('SETMETADATA INBOX (/private/comment "My new comment"'
                  ' /shared/comment "This one is for you!")')
    t.ok(ok(r), "§4.3: two entries in one SETMETADATA", r)
    un, r = c.cmd("GETMETADATA INBOX (/shared/comment /private/comment)")
    t.eq(un, [b'* METADATA INBOX (/shared/comment "This one is for you!"'
              b' /private/comment "My new comment")\r\n'],
         "§4.2: two entries, /private and /shared kept apart")
    un, r = c.cmd('SETMETADATA "" (/shared/comment "Shared comment")')
    t.ok(ok(r), "§4.3: a server annotation (mailbox \"\")", r)
    un, r = c.cmd('GETMETADATA "" /shared/comment')
    t.eq(un, [b'* METADATA "" (/shared/comment "Shared comment")\r\n'],
         "§4.2: GETMETADATA \"\" /shared/comment")
    un, r = c.cmd('GETMETADATA "" /private/comment')
    t.eq(un, [b'* METADATA "" (/private/comment NIL)\r\n'],
         "the server's /private/comment is another entry")
    un, r = c.cmd("GETMETADATA INBOX /SHARED/Comment")
    t.ok(ok(r) and len(un) == 1 and b"This one is for you!" in un[0],
         "entry names are case-insensitive", un)
    un, r = c.cmd("GETMETADATA INBOX (/private/none /shared/comment)")
    t.eq(un, [b'* METADATA INBOX (/private/none NIL /shared/comment '
              b'"This one is for you!")\r\n'],
         "one that exists and one that does not (NIL), in the order asked")

    # ---- §4.2.1 MAXSIZE ----
    long = b"x" * 2199
    un, r = c.cmd(b"SETMETADATA INBOX (/private/comment " + lit(long) +
                  b")")
    t.ok(ok(r), "a 2199-octet value set", r)
    un, r = c.cmd("GETMETADATA INBOX (MAXSIZE 1024) "
                  "(/shared/comment /private/comment)")
    t.eq(un, [b'* METADATA INBOX (/shared/comment '
              b'"This one is for you!")\r\n'],
         "§4.2.1: the longer entry is left out")
    t.ok(re.match(rb"^t\d+ OK \[METADATA LONGENTRIES 2199\]", r) is not None,
         "§4.2.1: OK [METADATA LONGENTRIES 2199]", r)
    un, r = c.cmd("GETMETADATA (MAXSIZE 4096) INBOX /private/comment")
    t.ok(len(un) == 1 and long in un[0] and b"LONGENTRIES" not in r,
         "options first (the ABNF's order); MAXSIZE large enough: given "
         "whole, no LONGENTRIES", r)

    # ---- §4.2.2 DEPTH ----
    un, r = c.cmd('SETMETADATA INBOX (/private/filters/values/small'
                  ' "SMALLER_THAN 100000" /private/filters/values/big'
                  ' "COMMENT \\"Larger than 100K\\""'
                  ' /private/filters/values/big/deeper "down")')
    t.ok(ok(r), "§4.2.2: the filters entries", r)
    un, r = c.cmd("GETMETADATA INBOX (DEPTH 1) (/private/filters/values)")
    t.eq(un, [b'* METADATA INBOX (/private/filters/values/big '
              b'"COMMENT \\"Larger than 100K\\"" '
              b'/private/filters/values/small "SMALLER_THAN 100000")\r\n'],
         "§4.2.2: DEPTH 1 gives the children, not their children")
    un, r = c.cmd("GETMETADATA INBOX (DEPTH infinity) /private/filters")
    t.ok(len(un) == 1 and un[0].count(b"/private/filters/") == 3,
         "DEPTH infinity gives every entry below", un)
    un, r = c.cmd("GETMETADATA INBOX /private/filters")
    t.eq(un, [b"* METADATA INBOX (/private/filters NIL)\r\n"],
         "DEPTH 0 (default): only the entry itself")
    un, r = c.cmd("GETMETADATA (DEPTH 1 MAXSIZE 10) INBOX "
                  "/private/filters/values")
    t.ok(un == [] and b"LONGENTRIES 26]" in r,
         "DEPTH and MAXSIZE together", (un, r))
    for opts in ("(DEPTH 2)", "(MAXSIZE)", "(FOO 1)", "()", "(MAXSIZE -1)"):
        un, r = c.cmd("GETMETADATA %s INBOX /private/comment" % opts)
        t.like(r, b" BAD ", "GETMETADATA %s: BAD" % opts)

    # ---- §3.2 entry names ----
    for bad in ("/private/co*", "/private/c%", "/private/comment/",
                "/private//comment", "/other/comment", "/private",
                "privatecomment", "/privatex/y", '"/private/a b"',
                '""'):
        un, r = c.cmd('SETMETADATA INBOX (%s "v")' % bad)
        t.like(r, b" BAD ", "SETMETADATA entry %s: BAD" % bad)
    un, r = c.cmd(b'SETMETADATA INBOX (' + lit(b"/private/\xc3\xa9") +
                  b' "v")')
    t.like(r, b" BAD ", "an 8-bit entry name: BAD")
    un, r = c.cmd("GETMETADATA INBOX /private/c*")
    t.like(r, b" BAD ", "GETMETADATA /private/c*: BAD")
    un, r = c.cmd('SETMETADATA INBOX (/shared/vendor/example.com/x "v")')
    t.ok(ok(r), "/shared/vendor/... accepted", r)
    un, r = c.cmd("SETMETADATA INBOX (/private/comment)")
    t.like(r, b" BAD ", "an entry without value: BAD")
    un, r = c.cmd("SETMETADATA INBOX (/private/comment FOO)")
    t.like(r, b" BAD ", "an atom value: BAD")
    un, r = c.cmd("SETMETADATA INBOX ()")
    t.like(r, b" BAD ", "an empty list: BAD")
    un, r = c.cmd('SETMETADATA Nowhere (/private/comment "v")')
    t.like(r, b" NO [NONEXISTENT]", "no such mailbox: NO [NONEXISTENT]")
    un, r = c.cmd("GETMETADATA Nowhere /private/comment")
    t.like(r, b" NO [NONEXISTENT]", "GETMETADATA on no mailbox: NO")

    # ---- 8-bit and literal8 values ----
    utf = "Grüße, ¡olé!".encode()
    un, r = c.cmd(b"SETMETADATA INBOX (/private/utf8 " + lit(utf) + b")")
    un, r = c.cmd("GETMETADATA INBOX /private/utf8")
    t.ok(len(un) == 1 and un[0].endswith(b"{%d}\r\n" % len(utf) + utf +
                                         b")\r\n"),
         "an 8-bit value comes back as a literal, the same octets", un)
    binv = b"a\x00b\x00\xffc"
    un, r = c.cmd(b"SETMETADATA INBOX (/private/bin ~" + lit(binv) + b")")
    t.ok(ok(r), "a literal8 value with NULs", r)
    un, r = c.cmd("GETMETADATA INBOX /private/bin")
    t.eq(un, [b"* METADATA INBOX (/private/bin ~{%d}\r\n" % len(binv) +
              binv + b")\r\n"], "it comes back as a literal8")
    un, r = c.cmd(b"SETMETADATA INBOX (/private/bin2 " + lit(b"a\x00b") +
                  b")")
    t.like(r, b" BAD ", "a NUL in a plain literal: BAD")

    # ---- limits: MAXSIZE and TOOMANY ----
    un, r = c.cmd(b"SETMETADATA INBOX (/private/ok \"small\" /private/big " +
                  lit(b"y" * 65537) + b")")
    t.like(r, b" NO [METADATA MAXSIZE 65536]",
           "a value over 64 KiB: NO [METADATA MAXSIZE 65536]")
    un, r = c.cmd("GETMETADATA INBOX /private/ok")
    t.eq(un, [b"* METADATA INBOX (/private/ok NIL)\r\n"],
         "and nothing of that command was set")
    un, r = c.cmd(b"SETMETADATA INBOX (/private/big " + lit(b"y" * 65536) +
                  b")")
    t.ok(ok(r), "a value of exactly 64 KiB is taken", r)
    c.cmd("CREATE Many")
    ents = " ".join('/private/e%d "%d"' % (i, i) for i in range(200))
    un, r = c.cmd("SETMETADATA Many (%s)" % ents)
    t.ok(ok(r), "200 entries on a folder", r)
    un, r = c.cmd('SETMETADATA Many (/private/one-more "x")')
    t.like(r, b" NO [METADATA TOOMANY]", "the 201st: NO [METADATA "
           "TOOMANY]")
    un, r = c.cmd('SETMETADATA Many (/private/e0 NIL /private/one-more "x")')
    t.ok(ok(r), "one removed, one added in one command: fine", r)
    un, r = c.cmd("GETMETADATA Many (DEPTH infinity) /private")
    t.ok(len(un) == 1 and un[0].count(b"/private/") == 200 and
         b"/private/one-more" in un[0] and b"/private/e0 " not in un[0],
         "200 entries, the new one among them", un[:1])
    ents = " ".join('/shared/s%d "%d"' % (i, i) for i in range(201))
    un, r = c.cmd('SETMETADATA "" (%s)' % ents)
    t.like(r, b" NO [METADATA TOOMANY]", "201 server entries: TOOMANY")
    un, r = c.cmd('GETMETADATA "" /shared/s0')
    t.eq(un, [b'* METADATA "" (/shared/s0 NIL)\r\n'],
         "and none of them set")

    # ---- RENAME carries them, DELETE removes them (§3.2) ----
    c.cmd("CREATE Old")
    c.cmd("CREATE Old/Child")
    un, r = c.cmd('SETMETADATA Old (/private/comment "old one")')
    un, r = c.cmd('SETMETADATA Old/Child (/shared/comment "the child")')
    un, r = c.cmd("RENAME Old New")
    t.ok(ok(r), "RENAME Old New", r)
    un, r = c.cmd("GETMETADATA New /private/comment")
    t.eq(un, [b'* METADATA New (/private/comment "old one")\r\n'],
         "the renamed folder keeps its annotation")
    un, r = c.cmd("GETMETADATA New/Child /shared/comment")
    t.eq(un, [b'* METADATA New/Child (/shared/comment "the child")\r\n'],
         "and so does the folder below it")
    c.cmd("CREATE Old")
    un, r = c.cmd("GETMETADATA Old /private/comment")
    t.eq(un, [b"* METADATA Old (/private/comment NIL)\r\n"],
         "a new folder with the old name has none")
    c.cmd("DELETE New/Child")
    un, r = c.cmd("DELETE New")
    t.ok(ok(r), "DELETE New", r)
    c.cmd("CREATE New")
    un, r = c.cmd("GETMETADATA New /private/comment")
    t.eq(un, [b"* METADATA New (/private/comment NIL)\r\n"],
         "DELETE took the annotations with it")
    c.close()

    # ---- kept across sessions ----
    c = Imap()
    un, r = c.cmd("GETMETADATA INBOX (/shared/comment /private/bin)")
    t.eq(un, [b'* METADATA INBOX (/shared/comment "This one is for you!"'
              b' /private/bin ~{%d}\r\n' % len(binv) + binv + b")\r\n"],
         "values survive logout and login")
    un, r = c.cmd('GETMETADATA "" /shared/comment')
    t.ok(len(un) == 1 and b"Shared comment" in un[0],
         "and so does the server's", un)
    un, r = c.cmd("SELECT INBOX")
    un, r = c.cmd("GETMETADATA INBOX /shared/comment")
    t.ok(ok(r) and len(un) == 1, "GETMETADATA in the selected state", un)
    c.close()

    # ---- an index made before the table: made when opened ----
    dbs = glob.glob(os.path.join(srv.maildir(U), "**", "index.db"),
                    recursive=True) or glob.glob(
        os.path.join(srv.data_dir, "**", "index.db"), recursive=True)
    t.ok(len(dbs) == 1, "the user's index found", dbs)
    if dbs:
        db = sqlite3.connect(dbs[0])
        db.execute("DROP TRIGGER metadata_mailbox_del")
        db.execute("DROP TABLE metadata")
        db.commit()
        db.close()
        c = Imap()
        un, r = c.cmd('SETMETADATA INBOX (/private/comment "again")')
        t.ok(ok(r), "an older index gets the table at login", r)
        un, r = c.cmd("GETMETADATA INBOX /private/comment")
        t.ok(len(un) == 1 and b'"again"' in un[0], "and it works", un)
        c.close()
finally:
    srv.stop()
    srv.cleanup()
t.done()
