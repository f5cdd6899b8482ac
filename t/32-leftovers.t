#!/usr/bin/python3
# What crashes leave behind is cleaned up, and nothing that is alive is:
# a file left in queue/tmp/ is removed at start-up; the spool slot of an
# SMTP session killed during DATA is freed for the next message (marked
# free, named in queue/free/), one being written is not, however old; a
# data directory that existed with a loose mode is tightened (0711), and
# the log says so.
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


msgdir = os.path.join(srv.data_dir, "queue", "msg")
freedir = os.path.join(srv.data_dir, "queue", "free")


def slot_of(pid):
    """The spool slot (queue/msg/<name>) the process pid holds open."""
    fds = os.path.join("/proc", str(pid), "fd")
    for fd in os.listdir(fds):
        try:
            target = os.readlink(os.path.join(fds, fd))
        except OSError:
            continue
        if os.path.dirname(target) == msgdir:
            return target
    return None


def open_data(subject):
    """A session in the middle of DATA; returns it, its pid and the slot
    it writes."""
    c = SMTPRaw("127.0.0.1", srv.port())
    c.reply()
    c.cmd("EHLO client.test")
    c.cmd("MAIL FROM:<a@remote.test>")
    c.cmd("RCPT TO:<u@example.test>")
    c.cmd("DATA")
    c.send("Subject: %s\r\n\r\nhalf of it\r\n" % subject)
    pid = srv.session_pid(c.sock)
    slot = [None]
    wait_until(lambda: pid and slot.__setitem__(0, slot_of(pid)) is None
               and slot[0], 5)
    return c, pid, slot[0]


def first_line(path):
    with open(path, "rb") as f:
        return f.readline()


try:
    srv.start()
    # 0711: each service's user reaches its own part (users.db, the
    # spool, the Maildirs), none can list the directory
    t.eq(os.stat(srv.data_dir).st_mode & 0o777, 0o711,
         "a data directory that existed as 0755 is now 0711")
    t.like(srv.log(), "data was mode 0755: now 0711", "and the log says so")
    t.ok(wait_until(lambda: not os.path.exists(stale), 10),
         "a spool file left in queue/tmp/ before the start is removed")

    # a session killed during DATA leaves its slot; it is freed
    dead, victim, dead_slot = open_data("killed")
    t.ok(dead_slot and victim, "a session writing its spool slot",
         (dead_slot, victim))
    alive, alive_pid, alive_slot = open_data("alive")
    os.kill(victim, signal.SIGKILL)
    dead.close()
    # make both look old: only the lock may tell them apart
    for p in (dead_slot, alive_slot):
        os.utime(p, (time.time() - 3600, time.time() - 3600))
    name = os.path.basename(dead_slot or "none")
    t.ok(wait_until(lambda: os.path.exists(os.path.join(freedir, name)) and
                    first_line(dead_slot) == b"MAILD-FREED 1\n", 10),
         "the killed session's slot is freed for the next message (by "
         "maild, which saw its writer die, or by the queue runner's scan)")
    t.ok(re.search(r"not confirmed: its writer \(pid %d\) died" % victim,
                   srv.log()), "the log says so")
    time.sleep(2)       # two more scans
    aname = os.path.basename(alive_slot or "none")
    t.ok(alive_slot and os.path.exists(alive_slot) and
         not os.path.exists(os.path.join(freedir, aname)) and
         slot_of(alive_pid) == alive_slot,
         "a slot being written stays its writer's, however old it looks")
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
