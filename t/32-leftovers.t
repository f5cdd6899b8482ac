#!/usr/bin/python3
# What crashes leave behind is cleaned up, and nothing that is alive is:
# a spool file in queue/tmp/ whose writer (an SMTP session) was killed is
# removed (at start-up and by the periodic scan), one being written is
# not, however old; a data directory that existed with a loose mode is
# tightened (0711), and the log says so.
import os
import re
import signal
import smtplib
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import TAP, Server, SMTPRaw, wait_until  # noqa: E402

t = TAP()
srv = Server(overrides=["queue.scan_interval=1s"])
srv.setup(users=[("u@example.test", "pw")])
os.chmod(srv.data_dir, 0o755)       # as an administrator might have made it
tmpdir = os.path.join(srv.data_dir, "queue", "tmp")
stale = os.path.join(tmpdir, "0000000000001abcde")     # a valid queue id
os.makedirs(tmpdir, exist_ok=True)
with open(stale, "w") as f:
    f.write("MAILD-SPOOL 1\nid 0000000000001abcde\n")
os.utime(stale, (time.time() - 3600, time.time() - 3600))


def open_data(subject):
    """A session in the middle of DATA; returns it and its tmp file."""
    before = set(os.listdir(tmpdir))
    c = SMTPRaw("127.0.0.1", srv.port())
    c.reply()
    c.cmd("EHLO client.test")
    c.cmd("MAIL FROM:<a@remote.test>")
    c.cmd("RCPT TO:<u@example.test>")
    c.cmd("DATA")
    c.send("Subject: %s\r\n\r\nhalf of it\r\n" % subject)
    wait_until(lambda: set(os.listdir(tmpdir)) - before, 5)
    new = sorted(set(os.listdir(tmpdir)) - before)
    return c, os.path.join(tmpdir, new[0]) if new else None


try:
    srv.start()
    # 0711: each service's user reaches its own part (users.db, the
    # spool, the Maildirs), none can list the directory
    t.eq(os.stat(srv.data_dir).st_mode & 0o777, 0o711,
         "a data directory that existed as 0755 is now 0711")
    t.like(srv.log(), "data was mode 0755: now 0711", "and the log says so")
    t.ok(wait_until(lambda: not os.path.exists(stale), 10),
         "a spool file left in queue/tmp/ before the start is removed")

    # a session killed during DATA leaves its file; it goes
    dead, dead_file = open_data("killed")
    victim = srv.session_pid(dead.sock)
    t.ok(dead_file and victim, "a session writing its spool file",
         (dead_file, victim))
    alive, alive_file = open_data("alive")
    os.kill(victim, signal.SIGKILL)
    dead.close()
    # make both look old: only the lock may tell them apart
    for p in (dead_file, alive_file):
        os.utime(p, (time.time() - 3600, time.time() - 3600))
    t.ok(wait_until(lambda: not os.path.exists(dead_file), 10),
         "the killed session's file is removed (by maild, which saw its "
         "writer die, or by the queue runner's next scan)")
    qid = os.path.basename(dead_file)
    t.ok(re.search(r"%s removed from queue/tmp: its writer|%s, left by a "
                   r"writer that died" % (qid, qid), srv.log()),
         "the log names it")
    time.sleep(2)       # two more scans
    t.ok(os.path.exists(alive_file), "a file being written stays, however "
         "old it looks")
    alive.send(".\r\n")
    code, text = alive.reply()
    alive.cmd("QUIT")
    t.eq(code, 250, "and its message is accepted")
    got = srv.wait_messages("u@example.test", 1)
    t.ok(len(got) == 1 and b"Subject: alive" in got[0][1],
         "and delivered", got)
finally:
    srv.cleanup()
t.done()
