#!/usr/bin/python3
# IMAP METADATA-SERVER's /shared/admin (RFC 5464 §3.2.1.1): "a method
# for contacting the server administrator", a URI, read-only.  Given by
# GETMETADATA "" from imapd.admin_uri (alone, with /shared/comment as in
# §4.2's example, under DEPTH, under MAXSIZE), NIL when the key is
# unset; SETMETADATA "" of it (or under it) NO [NOPERM] with nothing of
# the command kept; a value an older server stored is not it; a
# folder's /shared/admin is an entry as any other, which LIST-METADATA
# (RFC 9590, mailboxes only) gives; a configured value that is not a
# URI refused when the configuration is read.
import glob
import os
import re
import sqlite3
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import IMAPRaw, TAP, Server  # noqa: E402

U, PW = "admin@example.test", "admin-pw"
ADMIN = "mailto:postmaster@example.test"
t = TAP()


def server(extra):
    s = Server(services=("imap",),
               overrides=["auth.allow_plaintext=yes",
                          "auth.failure_delay_max=0"] + extra)
    s.setup(users=[(U, PW)])
    return s


def ok(r):
    return re.match(rb"^t\d+ OK", r) is not None


def no(r, code):
    return re.match(rb"^t\d+ NO \[%s\]" % code, r) is not None


def index_db(srv):
    dbs = glob.glob(os.path.join(srv.maildir(U), "**", "index.db"),
                    recursive=True) or glob.glob(
        os.path.join(srv.data_dir, "**", "index.db"), recursive=True)
    return dbs[0]


# ---- the key checked when the configuration is read ----
srv = server([])
rc, out, err = srv.mailctl("-o", "imapd.admin_uri=postmaster@example.test",
                           "config", "dump")
t.ok(rc != 0 and "imapd.admin_uri" in err and "must be a URI" in err,
     "an address without a scheme refused: %s" % err.strip())
rc, out, err = srv.mailctl("-o", "imapd.admin_uri=mailto:a b@example.test",
                           "config", "dump")
t.ok(rc != 0 and "must be a URI" in err, "a blank in it refused")
rc, out, err = srv.mailctl("-o", "imapd.admin_uri=" + ADMIN, "config",
                           "dump")
t.ok(rc == 0 and ("imapd.admin_uri = " + ADMIN) in out,
     "a mailto: URI taken", (out, err))
rc, out, err = srv.mailctl("config", "describe")
t.ok(rc == 0 and "\nadmin_uri = " in out and "/shared/admin" in out,
     "config describe documents it")

# ---- unset: NIL ----
try:
    srv.start()
    c = IMAPRaw("127.0.0.1", srv.port("imap")).login(U, PW)
    un, r = c.cmd('GETMETADATA "" /shared/admin')
    t.ok(ok(r) and un == [b'* METADATA "" (/shared/admin NIL)\r\n'],
         "unset: GETMETADATA \"\" /shared/admin is NIL", (un, r))
    un, r = c.cmd('SETMETADATA "" (/shared/admin "%s")' % ADMIN)
    t.ok(no(r, b"NOPERM"), "unset: still read-only (NO [NOPERM])", r)
    un, r = c.cmd('GETMETADATA "" (DEPTH infinity) /shared')
    t.ok(ok(r) and un == [], "unset: nothing under /shared", (un, r))
    c.cmd("LOGOUT")
except Exception as e:  # noqa: BLE001
    import traceback
    t.ok(False, "unexpected exception: %s" % e, traceback.format_exc() +
         "\n" + srv.log())
finally:
    srv.stop()
    srv.cleanup()

# ---- set ----
srv = server(["imapd.admin_uri=" + ADMIN])
try:
    srv.start()
    c = IMAPRaw("127.0.0.1", srv.port("imap")).login(U, PW)
    un, r = c.cmd("CAPABILITY")
    t.ok(b"METADATA-SERVER" in b"".join(un).split(),
         "CAPABILITY has METADATA-SERVER", un)
    un, r = c.cmd('GETMETADATA "" /shared/admin')
    t.ok(ok(r) and un == [b'* METADATA "" (/shared/admin "%s")\r\n' %
                          ADMIN.encode()],
         "GETMETADATA \"\" /shared/admin: the configured URI", (un, r))
    un, r = c.cmd('GETMETADATA "" /Shared/ADMIN')
    t.ok(ok(r) and un == [b'* METADATA "" (/shared/admin "%s")\r\n' %
                          ADMIN.encode()],
         "its name case-insensitive (§3.2)", un)

    # §4.2's example, with the admin entry beside it
    un, r = c.cmd('SETMETADATA "" (/shared/comment "Shared comment")')
    t.ok(ok(r), "§4.3: SETMETADATA \"\" /shared/comment", r)
    un, r = c.cmd('GETMETADATA "" /shared/comment')
    t.eq(un, [b'* METADATA "" (/shared/comment "Shared comment")\r\n'],
         "§4.2's example: GETMETADATA \"\" /shared/comment")
    un, r = c.cmd('GETMETADATA "" (/shared/comment /shared/admin)')
    t.eq(un, [b'* METADATA "" (/shared/comment "Shared comment" '
              b'/shared/admin "%s")\r\n' % ADMIN.encode()],
         "both server entries, in the order asked")

    # DEPTH (§4.2.2) and MAXSIZE (§4.2.1)
    un, r = c.cmd('GETMETADATA "" (DEPTH 1) /shared')
    t.ok(ok(r) and len(un) == 1 and
         (b'/shared/admin "%s"' % ADMIN.encode()) in un[0] and
         b'/shared/comment "Shared comment"' in un[0],
         "DEPTH 1 of /shared: the admin entry and the comment", un)
    un, r = c.cmd('GETMETADATA "" (DEPTH infinity) /shared/admin')
    t.eq(un, [b'* METADATA "" (/shared/admin "%s")\r\n' % ADMIN.encode()],
         "DEPTH infinity of /shared/admin: itself")
    un, r = c.cmd('GETMETADATA "" /shared')
    t.eq(un, [b'* METADATA "" (/shared NIL)\r\n'],
         "DEPTH 0 of /shared: not the admin entry")
    un, r = c.cmd('GETMETADATA "" (DEPTH infinity) /private')
    t.ok(ok(r) and un == [], "nothing under /private", un)
    un, r = c.cmd('GETMETADATA "" (MAXSIZE 20) (/shared/admin '
                  '/shared/comment)')
    t.ok(b"OK [METADATA LONGENTRIES %d]" % len(ADMIN) in r and
         un == [b'* METADATA "" (/shared/comment "Shared comment")\r\n'],
         "§4.2.1 MAXSIZE 20: the admin entry left out, OK [METADATA "
         "LONGENTRIES %d]" % len(ADMIN), (un, r))

    # read-only: SETMETADATA refused, all or nothing (§4.3)
    for cmd in ('SETMETADATA "" (/shared/admin "mailto:x@example.org")',
                'SETMETADATA "" (/shared/admin NIL)',
                'SETMETADATA "" (/SHARED/Admin "mailto:x@example.org")',
                'SETMETADATA "" (/shared/admin/phone "tel:+1-555-0100")',
                'SETMETADATA "" (/shared/comment "changed" '
                '/shared/admin "mailto:x@example.org")'):
        un, r = c.cmd(cmd)
        t.ok(no(r, b"NOPERM"), "%s: NO [NOPERM]" % cmd, r)
    un, r = c.cmd('GETMETADATA "" (DEPTH infinity) /shared')
    t.ok(ok(r) and len(un) == 1 and
         (b'/shared/admin "%s"' % ADMIN.encode()) in un[0] and
         b'/shared/comment "Shared comment"' in un[0] and
         b"phone" not in un[0],
         "nothing of them kept: the URI, the comment as it was", un)
    un, r = c.cmd('SETMETADATA "" (/private/admin "mine")')
    t.ok(ok(r), "the server's /private/admin is an entry as any other", r)

    # a folder's /shared/admin is the folder's
    un, r = c.cmd('SETMETADATA INBOX (/shared/admin "mailto:me@example.'
                  'test")')
    t.ok(ok(r), "SETMETADATA INBOX /shared/admin: a folder's entry, OK", r)
    un, r = c.cmd("GETMETADATA INBOX /shared/admin")
    t.eq(un, [b'* METADATA INBOX (/shared/admin "mailto:me@example.test")'
              b'\r\n'], "GETMETADATA INBOX gives the folder's")

    # LIST-METADATA (RFC 9590): mailboxes only, never the server's
    un, r = c.cmd('LIST "" "*" RETURN (METADATA (/shared/admin))')
    t.ok(ok(r) and b'* METADATA INBOX (/shared/admin '
         b'"mailto:me@example.test")\r\n' in un and
         not any(x.startswith(b'* METADATA ""') for x in un),
         "LIST-METADATA: the INBOX's, no METADATA \"\"", un)
    un, r = c.cmd('LIST "" "" RETURN (METADATA (/shared/admin))')
    t.ok(ok(r) and not any(b"METADATA" in x for x in un),
         "LIST \"\" \"\" RETURN METADATA: none", un)

    # an older server let a client store one: not the server's entry
    db = sqlite3.connect(index_db(srv), timeout=10)
    db.execute("INSERT OR REPLACE INTO metadata(mailbox, name, value) "
               "VALUES (0, '/shared/admin', 'mailto:old@example.org')")
    db.commit()
    db.close()
    un, r = c.cmd('GETMETADATA "" (DEPTH 1) (/shared /shared/admin)')
    t.ok(ok(r) and len(un) == 1 and b"old@example.org" not in un[0] and
         un[0].count(b'/shared/admin "%s"' % ADMIN.encode()) == 2,
         "one stored by an older server: the configured URI instead", un)
    c.cmd("LOGOUT")
except Exception as e:  # noqa: BLE001
    import traceback
    t.ok(False, "unexpected exception: %s" % e, traceback.format_exc() +
         "\n" + srv.log())
finally:
    srv.stop()
    srv.cleanup()
t.done()
