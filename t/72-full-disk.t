#!/usr/bin/python3
# A full data disk: users can still log in (IMAP and POP3), read, and
# delete mail to make room; APPEND says why it cannot store (NO
# [OVERQUOTA], the reason in the log), and works again once there is room.
# The data directory is on a small tmpfs of its own (needs root to mount).
#
# (Once, IMAP LOGIN answered NO [UNAVAILABLE] "store: disk I/O error" and
# POP3 -ERR [SYS/TEMP] on a full disk, and APPEND NO [SERVERBUG] with
# "append: Success" in the log.)
import imaplib
import os
import poplib
import shutil
import smtplib
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import TAP, Server, client_tls  # noqa: E402

t = TAP()
if os.geteuid() != 0:
    print("1..0 # SKIP mounting a small tmpfs needs root")
    sys.exit(0)

mnt = tempfile.mkdtemp(prefix="maildtest-full.")
if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=0755",
                   "tmpfs", mnt]).returncode != 0:
    os.rmdir(mnt)
    print("1..0 # SKIP cannot mount a tmpfs here")
    sys.exit(0)

USER = "u@example.test"
srv = Server(services=("smtp", "imaps", "pop3s"),
             data_dir=os.path.join(mnt, "data"),
             overrides=["auth.failure_delay_max=0"])
FILLER = os.path.join(mnt, "filler")


def fill():
    """Take every free block of the file system."""
    fd = os.open(FILLER, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    for chunk in (1 << 16, 4096, 512, 1):
        try:
            while True:
                os.write(fd, b"x" * chunk)
        except OSError:
            pass
    os.close(fd)
    st = os.statvfs(mnt)
    return st.f_bavail * st.f_frsize


def deliver(n, tag):
    for i in range(n):
        with smtplib.SMTP("127.0.0.1", srv.port(), timeout=10) as s:
            s.sendmail("a@remote.test", [USER],
                       ("Subject: %s%d\r\n\r\nbody %d\r\n" % (tag, i, i))
                       .encode())


def imap():
    return imaplib.IMAP4_SSL("127.0.0.1", srv.port("imaps"),
                             ssl_context=client_tls())


try:
    srv.setup(users=[(USER, "pw")])
    srv.start()
    deliver(5, "early")
    srv.wait_messages(USER, 5)
    m = imap()
    m.login(USER, "pw")
    m.select("INBOX")
    m.logout()
    deliver(2, "late")          # in new/, not yet seen by the index
    srv.wait_messages(USER, 7)

    t.eq(fill(), 0, "the data disk is full")
    m = imap()
    typ, data = m.login(USER, "pw")
    t.eq(typ, "OK", "IMAP LOGIN on a full disk")
    typ, data = m.select("INBOX")
    t.ok(typ == "OK" and int(data[0]) >= 5, "SELECT INBOX", data)
    typ, data = m.fetch("1", "(BODY[] ENVELOPE)")
    t.ok(typ == "OK" and b"Subject: early0" in data[0][1],
         "FETCH BODY[] reads a message", data)
    typ, data = m.store("1:2", "+FLAGS", "\\Deleted")
    t.eq(typ, "OK", "STORE +FLAGS \\Deleted")
    typ, data = m.expunge()
    t.ok(typ == "OK" and data == [b"1", b"1"], "EXPUNGE removes them", data)
    typ, data = m.append("INBOX", None, None, b"Subject: app\r\n\r\n" +
                         b"y" * 200000 + b"\r\n")
    t.ok(typ == "NO" and b"[OVERQUOTA]" in data[0] and
         b"disk space" in data[0],
         "APPEND of more than the room made: NO [OVERQUOTA] Not enough "
         "disk space", data)
    m.logout()

    p = poplib.POP3_SSL("127.0.0.1", srv.port("pop3s"),
                        context=client_tls())
    p.user(USER)
    r = p.pass_("pw")
    t.ok(r.startswith(b"+OK"), "POP3 login on a full disk", r)
    resp, lines, octets = p.retr(1)
    t.ok(resp.startswith(b"+OK") and any(b"Subject: " in l for l in lines),
         "RETR reads a message", resp)
    t.ok(p.dele(1).startswith(b"+OK") and p.quit().startswith(b"+OK"),
         "DELE and QUIT (the UPDATE state) work")

    os.unlink(FILLER)
    m = imap()
    m.login(USER, "pw")
    typ, data = m.append("INBOX", None, None, b"Subject: room\r\n\r\nok\r\n")
    t.ok(typ == "OK" and b"APPENDUID" in data[0], "with room again, APPEND "
         "works", data)
    m.logout()
    srv.stop()
    log = srv.log()
    t.like(log, "append: write: No space left on device", "the log says "
           "why APPEND failed")
    t.ok("append: Success" not in log and "disk I/O error" not in log,
         "no misleading reason in the log")
finally:
    srv.cleanup()
    subprocess.run(["umount", mnt])
    shutil.rmtree(mnt, ignore_errors=True)
t.done()
