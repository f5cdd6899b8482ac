#!/usr/bin/python3
# "250" means durable: kill -9 every process of the server at any moment,
# restart, and every accepted message is delivered exactly once.
import os
import shutil
import signal
import smtplib
import sys
import threading
import time
from collections import Counter

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import TAP, Server, wait_until  # noqa: E402

t = TAP()
USER = "crash@example.test"
srv = Server(overrides=["smtpd.max_sessions_per_ip=100"])
srv.setup(users=[(USER, "pw"), ("other@example.test", "pw")])


def pid_of(name):
    for pid, comm in srv.process_names().items():
        if comm == name and pid != srv.proc.pid:
            return pid
    return None


def tokens(addr=USER):
    c = Counter()
    for _, data in srv.messages(addr):
        c[data.split(b"Subject: ", 1)[1].split(b"\n", 1)[0].decode()] += 1
    return c


def send(token, rcpts=(USER,)):
    with smtplib.SMTP("127.0.0.1", srv.port(), timeout=20) as s:
        s.sendmail("crash@remote.test", list(rcpts),
                   ("Subject: %s\r\n\r\n%s\r\n" % (token, token)).encode())


try:
    # 1. kill -9 of everything right after "250", before any delivery.
    srv.start()
    queued = pid_of("queued")
    os.kill(queued, signal.SIGSTOP)     # hold delivery (our own process)
    send("after-250")
    t.eq(len(srv.queue_files()), 1, "accepted message is in the spool")
    srv.kill9_all()
    t.eq(srv.messages(USER), [], "nothing delivered before the crash")
    srv.start()
    srv.wait_messages(USER, 1)
    time.sleep(0.5)
    t.eq(tokens(), Counter({"after-250": 1}), "after restart: delivered once")
    t.ok(wait_until(lambda: srv.queue_files() == [], 5), "spool empty")

    # 2. The crash window between delivery and removing the spool file:
    # put the spool file back as if its unlink never reached the disk.
    queued = pid_of("queued")
    os.kill(queued, signal.SIGSTOP)
    send("window", rcpts=(USER, "other@example.test"))
    qf = srv.queue_files()[0]
    saved = os.path.join(srv.tmp, "saved-" + qf)
    shutil.copy(os.path.join(srv.data_dir, "queue", "msg", qf), saved)
    os.kill(queued, signal.SIGCONT)
    srv.wait_messages(USER, 2)
    srv.wait_messages("other@example.test", 1)
    wait_until(lambda: srv.queue_files() == [], 5)
    # the reader moves one copy to cur/ with flags, as an IMAP client would
    box = srv.maildir("other@example.test")
    n = os.listdir(os.path.join(box, "new"))[0]
    os.rename(os.path.join(box, "new", n), os.path.join(box, "cur", n + ":2,S"))
    srv.kill9_all()
    shutil.copy(saved, os.path.join(srv.data_dir, "queue", "msg", qf))
    if os.geteuid() == 0:
        shutil.chown(os.path.join(srv.data_dir, "queue", "msg", qf), "maild",
                     "maild")
    srv.start()
    t.ok(wait_until(lambda: srv.queue_files() == [], 10),
         "recovered spool file processed and removed", srv.queue_files())
    time.sleep(0.3)
    t.eq(tokens()["window"], 1, "no second copy in new/")
    t.eq(tokens("other@example.test")["window"], 1,
         "no second copy after the reader moved it to cur/")
    t.like(srv.log(), "already in maildir", "log says it found the earlier "
           "delivery")

    # 3. kill -9 of the queue runner, repeatedly, while mail streams in.
    sent, failed, lock = [], [], threading.Lock()
    stop = threading.Event()

    def stream(n):
        i = 0
        # paced, so the stream is still running when the server dies
        while not stop.is_set() and i < 3000:
            time.sleep(0.01)
            tok = "s%d-%04d" % (n, i)
            i += 1
            try:
                send(tok)
                with lock:
                    sent.append(tok)
            except Exception:
                with lock:
                    failed.append(tok)
    threads = [threading.Thread(target=stream, args=(n,)) for n in range(4)]
    for th in threads:
        th.start()
    kills = 0
    for _ in range(4):
        time.sleep(0.4)
        q = pid_of("queued")
        if q:
            os.kill(q, signal.SIGKILL)
            kills += 1
            wait_until(lambda: pid_of("queued") not in (None, q), 10)
    # 4. ...and of the whole server, mid-stream.
    time.sleep(0.3)
    t.ok(any(th.is_alive() for th in threads), "clients still sending when "
         "the server is killed")
    srv.kill9_all()
    stop.set()
    for th in threads:
        th.join(60)
    srv.start()
    with lock:
        accepted = list(sent)
    t.diag("queue runner killed %d times, then the whole server; %d messages "
           "got 250, %d did not" % (kills, len(accepted), len(failed)))
    box = os.path.join(srv.maildir(USER), "new")
    # Until the queue is empty: messages that were killed between the
    # rename into the queue and their "250" are delivered too, so the
    # count alone can be reached while an accepted one still waits.
    wait_until(lambda: len(os.listdir(box)) >= len(accepted) + 2 and
               srv.queue_files() == [], 120, 0.5)
    got = tokens()
    missing = [tok for tok in accepted if got[tok] == 0]
    dups = [tok for tok, n in got.items() if n > 1]
    t.ok(len(accepted) > 50, "a real stream of mail was accepted (%d)"
         % len(accepted))
    t.eq(missing, [], "every message that got 250 was delivered")
    t.eq(dups, [], "no message delivered twice")
    stray = [tok for tok in got if tok.startswith("s") and tok not in accepted
             and tok not in failed]
    t.eq(stray, [], "nothing delivered that was never sent")
    t.ok(wait_until(lambda: srv.queue_files() == [], 30), "spool drained")
finally:
    srv.cleanup()
t.done()
