#!/usr/bin/python3
# Delivered spool files are reused: a small one stays in queue/msg/ under
# its name, marked free and named in queue/free/ too, once every recipient
# has it; maild makes it the next message's spool file (the session
# writes over it and cuts it at its own end), and nothing of the old
# message is left in the new one; a big one is removed; queue/free/ never
# keeps more than 2,048; what else is found in free/ is never handed out.
import os
import smtplib
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import TAP, Server, wait_until  # noqa: E402

t = TAP()
srv = Server()
srv.setup(users=[("u@example.test", "pw")])
free = os.path.join(srv.data_dir, "queue", "free")
ids = ["%018x" % (0xf00000000000 + i) for i in range(2100)]


def send(subject, body):
    with smtplib.SMTP("127.0.0.1", srv.port(), timeout=30) as s:
        s.sendmail("a@remote.test", ["u@example.test"],
                   ("Subject: %s\r\n\r\n%s" % (subject, body)).encode())


def free_files():
    return sorted(os.listdir(free)) if os.path.isdir(free) else []


try:
    srv.start()
    old = ("OLD-CONTENT " * 8 + "\r\n") * 1000     # about 96 KB
    send("first", old)
    srv.wait_messages("u@example.test", 1)
    t.ok(wait_until(lambda: len(free_files()) == 1, 10),
         "the delivered spool file is kept in queue/free/", free_files())
    kept = free_files()
    ino = os.stat(os.path.join(free, kept[0])).st_ino if kept else -1

    time.sleep(1.1)     # maild looks in free/ at most once a second
    msgdir = os.path.join(srv.data_dir, "queue", "msg")
    before = (sorted(os.listdir(msgdir)),)
    send("second", "short\r\n")
    msgs = srv.wait_messages("u@example.test", 2)
    second = [m for n, m in msgs if b"Subject: second" in m]
    t.ok(len(second) == 1 and b"short" in second[0] and
         b"OLD-CONTENT" not in second[0] and len(second[0]) < 2000,
         "the next message is delivered whole, with nothing of the old one",
         second[0][-300:] if second else msgs)
    t.ok(wait_until(lambda: len(free_files()) == 1, 10) and
         os.stat(os.path.join(free, free_files()[0])).st_ino == ino,
         "its spool file was the kept one (same inode), kept again after",
         (ino, free_files()))
    after = sorted(os.listdir(msgdir))
    t.ok(kept and kept[0] in before[0] and kept[0] in after and
         os.stat(os.path.join(msgdir, kept[0])).st_ino == ino,
         "the slot kept its name in queue/msg/ for the second message "
         "(same name, same inode)", (before, after))
    qid = [l for l in srv.log().splitlines() if "Subject" not in l and
           " removed" in l]
    t.ok(len(qid) == 2 and kept and kept[0] in qid[0] and
         kept[0] not in qid[1],
         "the second message has a queue id of its own, not the slot's "
         "name", qid)

    send("big", ("BIG " * 20 + "\r\n") * 4000)      # about 320 KB
    srv.wait_messages("u@example.test", 3)

    def holds_big(name):
        with open(os.path.join(free, name), "rb") as f:
            return b"Subject: big" in f.read()

    t.ok(wait_until(lambda: not srv.queue_files(), 10) and
         not any(holds_big(n) for n in free_files()),
         "a big spool file is removed, not kept", free_files())

    srv.stop()          # a new maild, which has not looked in free/ yet
    for i in ids:
        with open(os.path.join(free, i), "w") as f:
            f.write("junk\n")
    srv.start()
    send("third", "after the others\r\n")
    msgs = srv.wait_messages("u@example.test", 4)
    third = [m for n, m in msgs if b"Subject: third" in m]
    t.ok(len(third) == 1 and b"junk" not in third[0],
         "a message on a kept file of another's holds only its own text",
         third)
    t.ok(len(free_files()) <= 2048, "queue/free/ keeps at most 2,048 files",
         len(free_files()))

    # What the queue's user could put there: hard links to a file of its
    # own elsewhere, and FIFOs, and nothing else.  maild (root) must empty
    # none of them, nor wait on a FIFO.
    srv.stop()
    for name in free_files():
        os.unlink(os.path.join(free, name))
    canary = os.path.join(srv.data_dir, "queue", "canary")
    with open(canary, "w") as f:
        f.write("keep me\n")
    for i in range(20):
        if i % 2 == 0:
            os.link(canary, os.path.join(free, ids[i]))
        else:
            os.mkfifo(os.path.join(free, ids[i]))
    srv.start()
    for i in range(3):
        send("more %d" % i, "and more\r\n")
    msgs = srv.wait_messages("u@example.test", 7)
    with open(canary) as f:
        t.ok(f.read() == "keep me\n" and len(msgs) == 7,
             "hard links and FIFOs in free/ are never handed out: the "
             "linked file is intact, the messages went through on new "
             "files", len(msgs))
    log = srv.log()
    bad = [l for l in log.splitlines() if " error: " in l or
           " warning: " in l]
    t.ok(not bad, "no error or warning in the log", bad[:5])
finally:
    srv.stop()
    srv.cleanup()
t.done()
