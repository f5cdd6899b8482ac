#!/usr/bin/python3
# IMAP ACL (RFC 4314) and LIST-MYRIGHTS (RFC 8440) with folders shared
# between users of one domain, in the other users' namespace (RFC 2342):
# two users over real connections, each right allowing exactly its
# commands and NO [NOPERM] otherwise, the RFC's §3 examples, revocation,
# flags both users see, RETURN (MYRIGHTS), NAMESPACE; and a user who
# shares nothing stays out of reach, even when its own index says
# otherwise (the auth service's index decides which Maildirs a session
# can open at all).
import os
import re
import sqlite3
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import IMAPRaw, TAP, Server  # noqa: E402

ANN, BOB, CAT = "ann@example.test", "bob@example.test", "cat@example.test"
DAN = "dan@other.test"
PW = "acl-test-pw"
NS = "Other Users/ann@example.test/"
PROJ = '"Other Users/ann@example.test/Projects"'
t = TAP()
srv = Server(services=("imap",),
             overrides=["auth.allow_plaintext=yes",
                        "auth.failure_delay_max=0",
                        "imapd.max_errors=1000"])
srv.setup(domains=("example.test", "other.test"),
          users=[(ANN, PW), (BOB, PW), (CAT, PW), (DAN, PW)])

MSG = (b"From: ann@example.test\r\nTo: bob@example.test\r\n"
       b"Subject: plan %d\r\n\r\nThe plan, part %d.\r\n")


def Imap(user):
    return IMAPRaw("127.0.0.1", srv.port("imap")).login(user, PW)


def ok(r):
    return re.match(rb"^t\d+ OK", r) is not None


def code(r, c):
    return re.match(rb"^t\d+ NO \[" + c + rb"\]", r) is not None


def append(c, box, n, flags=""):
    data = MSG % (n, n)
    return c.cmd(b"APPEND " + box.encode() + b" " + flags.encode() +
                 b" {%d+}\r\n" % len(data) + data)


def flags_of(c, box, seq="1"):
    c.cmd("EXAMINE " + box)
    un, r = c.cmd("FETCH %s (FLAGS)" % seq)
    return b" ".join(un)


def listed(c, pattern='"" "*"', ret=""):
    un, r = c.cmd("LIST " + pattern + ret)
    return un, r


try:
    srv.start()
    ann = Imap(ANN)
    bob0 = Imap(BOB)    # logged in before anything is shared
    un, r = ann.cmd("CAPABILITY")
    caps = b"".join(un).split()
    t.ok(b"ACL" in caps and b"RIGHTS=texk" in caps and
         b"LIST-MYRIGHTS" in caps,
         "CAPABILITY has ACL, RIGHTS=texk and LIST-MYRIGHTS", un)
    un, r = ann.cmd("NAMESPACE")
    t.eq(un, [b'* NAMESPACE (("" "/")) (("Other Users/" "/")) NIL\r\n'],
         "NAMESPACE: personal, and the other users' (RFC 2342)")

    # ---- the owner ----
    t.ok(ok(ann.cmd("CREATE Projects")[1]), "ann creates Projects")
    for n in (1, 2, 3):
        append(ann, "Projects", n)
    un, r = ann.cmd("MYRIGHTS INBOX")
    t.eq(un, [b"* MYRIGHTS INBOX lrswipkxteacd\r\n"],
         "§3.5: the owner has every right (c and d virtual, §2.1.1)")
    un, r = ann.cmd("GETACL Projects")
    t.eq(un, [b"* ACL Projects ann@example.test lrswipkxteacd\r\n"],
         "§3.3: GETACL of a folder nobody else has rights on")

    # ---- §3.1 SETACL, the RFC's examples (identifiers of our domain) ----
    r = ann.cmd("SETACL Projects bob lrswi")[1]
    t.ok(ok(r), "SETACL Projects bob lrswi ('bob' is bob@example.test)",
         r)
    un, r = ann.cmd("GETACL Projects")
    t.eq(un, [b"* ACL Projects ann@example.test lrswipkxteacd "
              b"bob@example.test lrswi\r\n"],
         "GETACL gives the canonical identifier (§3.3)")
    r = ann.cmd("SETACL Projects bob@example.test +cd")[1]
    t.ok(ok(r), "§3.1: SETACL Projects Chris +cd (adds)", r)
    un, r = ann.cmd("GETACL Projects")
    t.ok(len(un) == 1 and un[0].endswith(b" bob@example.test lrswikxtecd"
                                         b"\r\n"),
         "§2.1.1: c is k and x, d is t and e; both shown again", un)
    r = ann.cmd("SETACL Projects bob lrQswicda")[1]
    t.ok(re.match(rb"^t\d+ BAD Uppercase rights are not allowed", r),
         "§3.1: an upper-case right is BAD", r)
    r = ann.cmd("SETACL Projects bob lrqswicda")[1]
    t.ok(re.match(rb"^t\d+ BAD The q right is not supported", r),
         "§3.1: an unknown right is BAD", r)
    r = ann.cmd("SETACL Projects bob +a")[1]
    t.ok(code(r, rb"CANNOT"), "a stays with the owner: NO [CANNOT]", r)
    r = ann.cmd("SETACL Projects dan@other.test lr")[1]
    t.ok(code(r, rb"CANNOT"), "an identifier of another domain: NO", r)
    r = ann.cmd("SETACL Projects nobody lr")[1]
    t.ok(code(r, rb"NONEXISTENT"), "a user the domain has not: NO", r)
    r = ann.cmd("SETACL Projects ann lr")[1]
    t.ok(code(r, rb"CANNOT"), "the owner's own rights cannot change", r)
    r = ann.cmd("SETACL Nowhere bob lr")[1]
    t.ok(code(r, rb"NONEXISTENT"), "SETACL of no mailbox: NONEXISTENT", r)

    # ---- §3.2 DELETEACL: negative rights ----
    r = ann.cmd("SETACL Projects -cat wetd")[1]
    t.ok(ok(r), "§3.2: a negative entry (-cat wetd)", r)
    un, r = ann.cmd("GETACL Projects")
    t.ok(len(un) == 1 and b" -cat@example.test wted" in un[0],
         "GETACL shows it", un)
    r = ann.cmd("DELETEACL Projects -cat")[1]
    t.ok(ok(r), "§3.2: DELETEACL -cat", r)
    un, r = ann.cmd("GETACL Projects")
    t.ok(len(un) == 1 and b"cat@" not in un[0], "gone", un)

    # ---- §3.4 LISTRIGHTS ----
    un, r = ann.cmd("LISTRIGHTS Projects smith")
    t.ok(code(r, rb"NONEXISTENT") is False and ok(r) and un ==
         [b'* LISTRIGHTS Projects smith "" l r s w i p k x t e c d\r\n'],
         "§3.4: LISTRIGHTS, the identifier as written, c and d alone",
         (un, r))
    un, r = ann.cmd("LISTRIGHTS Projects anyone")
    t.eq(un, [b'* LISTRIGHTS Projects anyone "" l r s w i p k x t e c d'
              b'\r\n'], "§3.4: LISTRIGHTS for anyone")
    un, r = ann.cmd("LISTRIGHTS Projects ann@example.test")
    t.eq(un, [b"* LISTRIGHTS Projects ann@example.test lrswipkxtea\r\n"],
         "the owner: every right, always")

    rc, out, err = srv.mailctl("user", "shares", BOB)
    t.ok(rc == 0 and out == "ann@example.test shares with bob@example.test\n",
         "mailctl user shares: the auth service's index", (rc, out, err))

    # ---- grants take effect at the grantee's next login ----
    un, r = listed(bob0)
    t.ok(not any(b"Other Users" in u for u in un),
         "a session that started before the grant sees nothing of it", un)
    r = bob0.cmd("SELECT " + PROJ)[1]
    t.ok(code(r, rb"NONEXISTENT"), "and cannot select it", r)
    bob0.close()

    bob = Imap(BOB)
    un, r = listed(bob)
    names = [u for u in un if b"Other Users" in u]
    t.eq(names, [b'* LIST (\\Noselect \\HasChildren) "/" "Other Users"\r\n',
                 b'* LIST (\\Noselect \\HasChildren) "/" '
                 b'"Other Users/ann@example.test"\r\n',
                 b'* LIST (\\HasNoChildren) "/" '
                 b'"Other Users/ann@example.test/Projects"\r\n'],
         "after login: the other users' namespace, ann's Projects only")
    un, r = listed(bob, '"" "Other Users/ann@example.test/%"',
                   " RETURN (MYRIGHTS)")
    t.eq(un, [b'* LIST (\\HasNoChildren) "/" '
              b'"Other Users/ann@example.test/Projects"\r\n',
              b'* MYRIGHTS "Other Users/ann@example.test/Projects" '
              b'lrswikxtecd\r\n'],
         "RFC 8440: LIST ... RETURN (MYRIGHTS)")
    un, r = listed(bob, '"" "%"', " RETURN (MYRIGHTS)")
    t.ok(b'* MYRIGHTS INBOX lrswipkxteacd\r\n' in un and
         not any(b"MYRIGHTS \"Other Users\"" in u for u in un),
         "RETURN (MYRIGHTS): own folders all rights, none for \\Noselect",
         un)
    r = bob.cmd("GETACL " + PROJ)[1]
    t.ok(code(r, rb"NOPERM"), "GETACL needs a: NO [NOPERM]", r)
    r = bob.cmd("SETACL " + PROJ + " cat lr")[1]
    t.ok(code(r, rb"NOPERM"), "SETACL needs a: NO [NOPERM]", r)
    r = bob.cmd('SELECT "Other Users/ann@example.test/INBOX"')[1]
    t.ok(code(r, rb"NONEXISTENT"),
         "ann's INBOX, not shared: as if it did not exist", r)

    def grant(rights):
        r = ann.cmd("SETACL Projects bob " + rights)[1]
        assert ok(r), r
        bob.cmd("UNSELECT")

    # ---- l alone ----
    grant("l")
    un, r = bob.cmd("MYRIGHTS " + PROJ)
    t.eq(un, [b'* MYRIGHTS "Other Users/ann@example.test/Projects" l\r\n'],
         "MYRIGHTS: l")
    r = bob.cmd("SELECT " + PROJ)[1]
    t.ok(code(r, rb"NOPERM"), "l: SELECT needs r: NO [NOPERM]", r)
    r = bob.cmd("STATUS " + PROJ + " (MESSAGES)")[1]
    t.ok(r.startswith(b"t") and b" NO " in r, "l: STATUS needs r: NO", r)
    un, r = listed(bob, '"" "Other Users/*"')
    t.ok(any(b"Projects" in u for u in un), "l: listed", un)

    # ---- r without l: selectable, not listed ----
    grant("r")
    un, r = listed(bob, '"" "Other Users/*"')
    t.ok(not any(b"Projects" in u for u in un), "r alone: not listed", un)
    un, r = bob.cmd("EXAMINE " + PROJ)
    t.ok(ok(r), "r alone: EXAMINE works", r)

    # ---- l r: read-only ----
    grant("lr")
    un, r = bob.cmd("SELECT " + PROJ)
    t.ok(ok(r) and b"[READ-ONLY]" in r,
         "lr: SELECT is READ-ONLY (§5.2)", r)
    t.ok(b"* 3 EXISTS\r\n" in un, "lr: bob sees ann's 3 messages", un)
    v2 = Imap(BOB)      # IMAP4rev2: SELECT gives the folder's LIST
    v2.cmd("ENABLE IMAP4rev2")
    un2, r2 = v2.cmd("SELECT " + PROJ)
    t.ok(ok(r2) and any(l.startswith(b"* LIST (") and
                        l.rstrip().endswith(PROJ.encode()) for l in un2),
         "IMAP4rev2: SELECT of a shared folder has its LIST line", un2)
    v2.close()
    un, r = bob.cmd("FETCH 1 (BODY[TEXT])")
    t.ok(ok(r) and b"The plan, part 1." in b"".join(un), "lr: FETCH", un)
    un, r = bob.cmd("SEARCH SUBJECT \"plan 2\"")
    t.eq(un, [b"* SEARCH 2\r\n"], "lr: SEARCH")
    t.ok(b"\\Seen" not in flags_of(ann, "Projects", "1"),
         "lr: FETCH BODY[] did not set \\Seen (no s)")
    bob.cmd("SELECT " + PROJ)
    r = bob.cmd("STORE 1 +FLAGS (\\Flagged)")[1]
    t.ok(re.match(rb"^t\d+ NO", r), "lr: STORE refused", r)
    r = bob.cmd("EXPUNGE")[1]
    t.ok(re.match(rb"^t\d+ NO", r), "lr: EXPUNGE refused", r)
    r = bob.cmd("COPY 1 INBOX")[1]
    t.ok(ok(r), "lr: COPY from the shared folder into bob's INBOX", r)
    r = bob.cmd("MOVE 2 INBOX")[1]
    t.ok(re.match(rb"^t\d+ NO", r), "lr: MOVE out needs t and e", r)
    r = append(bob, PROJ, 9)[1]
    t.ok(code(r, rb"NOPERM"), "lr: APPEND needs i: NO [NOPERM]", r)

    # ---- s: \Seen only ----
    grant("lrs")
    un, r = bob.cmd("SELECT " + PROJ)
    t.ok(ok(r) and b"[READ-WRITE]" in r, "lrs: READ-WRITE", r)
    t.ok(b"* OK [PERMANENTFLAGS (\\Seen)]" in b"".join(un),
         "lrs: PERMANENTFLAGS (\\Seen) (§5.1.1)", un)
    r = bob.cmd("STORE 1 +FLAGS (\\Flagged)")[1]
    t.ok(code(r, rb"NOPERM"), "lrs: \\Flagged needs w: NO [NOPERM]", r)
    r = bob.cmd("STORE 1 +FLAGS (\\Deleted)")[1]
    t.ok(code(r, rb"NOPERM"), "lrs: \\Deleted needs t: NO [NOPERM]", r)
    r = bob.cmd("STORE 1 +FLAGS (\\Seen \\Flagged)")[1]
    t.ok(ok(r), "lrs: STORE \\Seen \\Flagged is not refused (§4)", r)
    fl = flags_of(ann, "Projects", "1")
    t.ok(b"\\Seen" in fl and b"\\Flagged" not in fl,
         "ann sees the \\Seen bob set (flags are shared), no \\Flagged",
         fl)
    bob.cmd("FETCH 2 (BODY[])")
    t.ok(b"\\Seen" in flags_of(ann, "Projects", "2"),
         "lrs: FETCH BODY[] sets \\Seen")

    # ---- w: other flags and keywords ----
    grant("lrw")
    bob.cmd("SELECT " + PROJ)
    r = bob.cmd("STORE 3 +FLAGS (\\Flagged $Work)")[1]
    t.ok(ok(r), "lrw: STORE \\Flagged $Work", r)
    fl = flags_of(ann, "Projects", "3")
    t.ok(b"\\Flagged" in fl and b"$Work" in fl, "ann sees them", fl)
    r = bob.cmd("STORE 3 -FLAGS (\\Seen)")[1]
    t.ok(code(r, rb"NOPERM"), "lrw: \\Seen needs s", r)
    ann.cmd("SELECT Projects")
    ann.cmd("STORE 3 +FLAGS (\\Answered \\Seen)")
    un, r = bob.cmd("FETCH 3 (FLAGS)")
    t.ok(b"\\Answered" in b"".join(un), "bob sees ann's \\Answered", un)
    r = bob.cmd("STORE 3 FLAGS (\\Draft)")[1]
    t.ok(ok(r), "lrw: STORE FLAGS (replace)", r)
    fl = flags_of(ann, "Projects", "3")
    t.ok(b"\\Draft" in fl and b"\\Seen" in fl and b"\\Answered" not in
         fl and b"$Work" not in fl,
         "FLAGS replaces what w covers, \\Seen (s) stays (§4)", fl)

    # ---- subscriptions: the user's own, of what it may see ----
    r = bob.cmd("SUBSCRIBE " + PROJ)[1]
    t.ok(ok(r), "SUBSCRIBE to ann's Projects (l)", r)
    un, r = bob.cmd('LSUB "" "*"')
    t.ok(b'* LSUB () "/" "Other Users/ann@example.test/Projects"\r\n' in un,
         "LSUB lists it", un)
    un, r = bob.cmd('LIST (SUBSCRIBED) "" "Other Users/*"')
    t.eq(un, [b'* LIST (\\HasNoChildren \\Subscribed) "/" '
              b'"Other Users/ann@example.test/Projects"\r\n'],
         "LIST (SUBSCRIBED): once, \\Subscribed")
    un, r = ann.cmd('LSUB "" "Projects"')
    t.eq(un, [], "ann's own subscriptions are hers (Projects not in them)")
    r = bob.cmd('SUBSCRIBE "Other Users/cat@example.test/INBOX"')[1]
    t.ok(code(r, rb"NONEXISTENT"), "SUBSCRIBE to what is not shared: NO",
         r)

    # ---- t and e ----
    grant("lrt")
    bob.cmd("SELECT " + PROJ)
    r = bob.cmd("STORE 3 +FLAGS.SILENT (\\Deleted)")[1]
    t.ok(ok(r), "lrt: STORE \\Deleted", r)
    r = bob.cmd("EXPUNGE")[1]
    t.ok(code(r, rb"NOPERM"), "lrt: EXPUNGE needs e: NO [NOPERM]", r)
    r = bob.cmd("CLOSE")[1]
    t.ok(ok(r), "lrt: CLOSE is OK and expunges nothing (§4)", r)
    un, r = ann.cmd("STATUS Projects (MESSAGES)")
    t.ok(b"MESSAGES 3" in b"".join(un), "still 3 messages", un)
    grant("lrte")
    bob.cmd("SELECT " + PROJ)
    un, r = bob.cmd("EXPUNGE")
    t.ok(ok(r) and b"* 3 EXPUNGE\r\n" in un, "lrte: EXPUNGE", (un, r))
    un, r = ann.cmd("STATUS Projects (MESSAGES)")
    t.ok(b"MESSAGES 2" in b"".join(un), "ann sees it gone", un)

    # ---- i: APPEND and COPY into ----
    grant("lri")
    r = append(bob, PROJ, 4, "(\\Seen \\Flagged $Work)")[1]
    t.ok(ok(r) and b"APPENDUID" in r, "lri: APPEND into ann's folder", r)
    fl = flags_of(ann, "Projects", "3")
    t.ok(b"\\Seen" not in fl and b"\\Flagged" not in fl and
         b"$Work" not in fl,
         "§4: flags bob may not set are dropped, the APPEND not refused",
         fl)
    bob.cmd("SELECT INBOX")
    bob.cmd("STORE 1 +FLAGS (\\Flagged)")
    r = bob.cmd("COPY 1 " + PROJ)[1]
    t.ok(ok(r) and b"COPYUID" in r, "lri: COPY from bob's INBOX", r)
    fl = flags_of(ann, "Projects", "4")
    t.ok(b"\\Flagged" not in fl, "COPY drops \\Flagged without w", fl)
    grant("lr")
    bob.cmd("SELECT INBOX")
    r = bob.cmd("COPY 1 " + PROJ)[1]
    t.ok(code(r, rb"NOPERM"), "lr: COPY into needs i: NO [NOPERM]", r)
    grant("lrswite")
    bob.cmd("SELECT " + PROJ)
    r = bob.cmd("MOVE 1 INBOX")[1]
    t.ok(ok(r), "lrswite: MOVE out of ann's folder", r)

    # ---- k and x: folders below ----
    sub = '"Other Users/ann@example.test/Projects/Sub"'
    r = bob.cmd("CREATE " + sub)[1]
    t.ok(code(r, rb"NOPERM"), "CREATE below needs k: NO [NOPERM]", r)
    grant("lrk")
    r = bob.cmd("CREATE " + sub)[1]
    t.ok(ok(r), "lrk: CREATE below ann's Projects", r)
    un, r = ann.cmd('LIST "" "Projects/*"')
    t.ok(any(b"Projects/Sub" in u for u in un), "ann has Projects/Sub", un)
    un, r = bob.cmd("MYRIGHTS " + sub)
    t.ok(b" lrkc\r\n" in b"".join(un),
         "a new folder inherits its parent's ACL (§4)", un)
    r = bob.cmd("DELETE " + sub)[1]
    t.ok(code(r, rb"NOPERM"), "DELETE needs x: NO [NOPERM]", r)
    r = ann.cmd("SETACL Projects/Sub bob lrx")[1]
    r = bob.cmd("DELETE " + sub)[1]
    t.ok(ok(r), "lrx: DELETE", r)
    r = bob.cmd('RENAME ' + PROJ + ' INBOX/Stolen')[1]
    t.ok(re.match(rb"^t\d+ NO", r), "RENAME to another user's: NO", r)

    # ---- anyone (the same domain only) ----
    r = ann.cmd("SETACL INBOX anyone lr")[1]
    t.ok(ok(r), "SETACL INBOX anyone lr", r)
    append(ann, "INBOX", 7)
    cat = Imap(CAT)
    un, r = cat.cmd('SELECT "Other Users/ann@example.test/INBOX"')
    t.ok(ok(r) and b"READ-ONLY" in r, "cat (same domain) reads it", r)
    un, r = listed(cat, '"" "Other Users/*"')
    t.ok(not any(b"Projects" in u for u in un),
         "cat sees ann's INBOX, not Projects", un)
    cat.close()
    dan = Imap(DAN)
    un, r = listed(dan, '"" "*"')
    t.ok(not any(b"Other Users" in u for u in un),
         "dan (another domain) sees nothing of ann's", un)
    r = dan.cmd('SELECT "Other Users/ann@example.test/INBOX"')[1]
    t.ok(code(r, rb"NONEXISTENT"), "and cannot select it", r)
    dan.close()
    r = ann.cmd("SETACL INBOX -bob r")[1]
    t.ok(ok(r), "a negative entry for bob on INBOX", r)
    bob.close()
    bob = Imap(BOB)
    un, r = bob.cmd('MYRIGHTS "Other Users/ann@example.test/INBOX"')
    t.ok(b" l\r\n" in b"".join(un), "§2: anyone's lr less -bob's r: l", un)
    r = bob.cmd('SELECT "Other Users/ann@example.test/INBOX"')[1]
    t.ok(code(r, rb"NOPERM"), "so bob cannot select it", r)

    # ---- a user who shares nothing stays out of reach ----
    cat = Imap(CAT)
    cat.cmd("CREATE Private")
    append(cat, "Private", 1)
    cat.close()
    r = bob.cmd('SELECT "Other Users/cat@example.test/Private"')[1]
    t.ok(code(r, rb"NONEXISTENT"), "cat shares nothing: NONEXISTENT", r)
    un, r = listed(bob, '"" "*"')
    t.ok(not any(b"cat@" in u for u in un), "nothing of cat listed", un)
    # cat's own index "grants" bob (as a hostile session with write
    # access to it could): still out of reach, the auth service's index
    # never named cat for bob, so bob's process cannot open cat's
    # Maildir (Landlock) and does not try.
    db = sqlite3.connect(os.path.join(srv.maildir(CAT), "index.db"))
    db.execute("INSERT INTO acl(mailbox, ident, rights) SELECT id,"
               " 'bob@example.test', 'lrswite' FROM mailbox")
    db.commit()
    db.close()
    bob.close()
    bob = Imap(BOB)
    r = bob.cmd('SELECT "Other Users/cat@example.test/Private"')[1]
    t.ok(code(r, rb"NONEXISTENT"),
         "an ACL written into cat's index alone opens nothing", r)
    un, r = listed(bob, '"" "*"')
    t.ok(not any(b"cat@" in u for u in un), "nothing of cat listed", un)

    # ---- DELETE drops a folder's ACL, and its grantees' shares ----
    def shares():
        users = sqlite3.connect(os.path.join(srv.data_dir, "users.db"))
        rows = users.execute("SELECT owner, grantee FROM shares"
                             " ORDER BY 1, 2").fetchall()
        users.close()
        return rows

    ann.cmd("CREATE Temp")
    r = ann.cmd("SETACL Temp cat lr")[1]
    t.ok(ok(r) and (ANN, CAT) in shares(),
         "a grant tells the auth service (ann shares with cat)", shares())
    r = ann.cmd("DELETE Temp")[1]
    t.ok(ok(r) and (ANN, CAT) not in shares(),
         "DELETE of the folder: the share is forgotten", shares())
    ann.cmd("CREATE Temp")
    un, r = ann.cmd("GETACL Temp")
    t.eq(un, [b"* ACL Temp ann@example.test lrswipkxteacd\r\n"],
         "a folder made again under that name has no ACL (§4)")

    # ---- revocation ----
    r = ann.cmd("DELETEACL Projects bob")[1]
    t.ok(ok(r), "DELETEACL Projects bob", r)
    ann.cmd("DELETEACL Projects/Sub bob")
    r = bob.cmd("SELECT " + PROJ)[1]
    t.ok(code(r, rb"NONEXISTENT"),
         "revoked: at once, bob's session can no longer select it", r)
    un, r = listed(bob, '"" "Other Users/*"')
    t.ok(not any(b"Projects" in u for u in un), "nor list it", un)
    un, r = bob.cmd('LIST (SUBSCRIBED) "" "Other Users/*"')
    t.ok(b'* LIST (\\NonExistent \\Subscribed) "/" '
         b'"Other Users/ann@example.test/Projects"\r\n' in un,
         "its subscription stays, \\NonExistent (RFC 5258 §3)", un)
    r = bob.cmd("UNSUBSCRIBE " + PROJ)[1]
    t.ok(ok(r), "UNSUBSCRIBE needs no right (§4)", r)
    r = ann.cmd("DELETEACL INBOX -bob")[1]
    r = ann.cmd("DELETEACL INBOX anyone")[1]
    t.eq(shares(), [], "no grant left: the auth service's index is empty")
    bob.close()
    bob = Imap(BOB)
    un, r = listed(bob, '"" "*"')
    t.ok(not any(b"Other Users" in u for u in un),
         "bob's next session has no other users' folders", un)
    bob.close()
    ann.close()
finally:
    srv.stop()
    srv.cleanup()
t.done()
