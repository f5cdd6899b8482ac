#!/usr/bin/python3
# server.sync = filesystem: the session processes write their spool files
# without an fsync each, and maild makes a round of commits durable with
# one syncfs(2) of data_dir's file system (group commit); local delivery
# likewise syncs the file system once a batch.  Mail must flow exactly as
# with an fsync per file: every message over persistent and per-message
# connections delivered once.  maild refuses the mode when a part of
# data_dir (here the store) is another file system, which one syncfs
# would not reach.
import os
import shutil
import smtplib
import subprocess
import sys
import threading
from collections import Counter

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import BINDIR, TAP, Server, wait_until  # noqa: E402

SESSIONS, PER_SESSION = 10, 15
USERS = ["u%d@example.test" % i for i in range(3)]
t = TAP()
srv = Server(overrides=["server.sync=filesystem"])
srv.setup(users=[(u, "pw") for u in USERS])
accepted, errors, lock = [], [], threading.Lock()


def client(n):
    conn = None
    try:
        for i in range(PER_SESSION):
            token = "msg-%02d-%02d" % (n, i)
            rcpt = USERS[(n + i) % len(USERS)]
            data = ("Subject: %s\r\n\r\n%s\r\n" % (token, token * 40)).encode()
            if conn is None:
                conn = smtplib.SMTP("127.0.0.1", srv.port(), timeout=60)
            conn.sendmail("load@remote.test", [rcpt], data)
            with lock:
                accepted.append((token, rcpt))
            if n % 2:           # odd sessions connect per message
                conn.quit()
                conn = None
        if conn is not None:
            conn.quit()
    except Exception as e:
        with lock:
            errors.append("%s: %r" % (n, e))


try:
    srv.start()
    t.like(srv.log(), "sync=filesystem", "maild says which mode it runs in")
    threads = [threading.Thread(target=client, args=(n,))
               for n in range(SESSIONS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(300)
    total = SESSIONS * PER_SESSION
    t.ok(not errors and len(accepted) == total,
         "%d messages over %d sessions all got 250" % (total, SESSIONS),
         "\n".join(errors[:10]))
    got = Counter()
    for u in USERS:
        want = sum(1 for _, r in accepted if r == u)
        for name, data in srv.wait_messages(u, want, timeout=120):
            for line in data.splitlines():
                if line.startswith(b"Subject: "):
                    got[(line[9:].decode(), u)] += 1
    t.eq(sorted(got), sorted(accepted), "each is in its Maildir")
    t.ok(all(v == 1 for v in got.values()), "exactly once",
         [k for k, v in got.items() if v > 1][:5])
    t.ok(wait_until(lambda: not srv.queue_files(), 30),
         "and the queue is empty", srv.queue_files()[:5])
    t.ok("syncfs" not in srv.log() and "error:" not in srv.log() and
         "delivery failed" not in srv.log(),
         "no error, sync or delivery failure in the log",
         [l for l in srv.log().splitlines() if "error" in l or
          "fail" in l][:5])
    srv.stop()

    # The store on a file system of its own (a tmpfs, in a private mount
    # namespace that ends with maild): the mode is refused at the start.
    unshare = shutil.which("unshare")
    if os.geteuid() != 0 or unshare is None:
        t.ok(True, "# SKIP needs root and unshare(1) to mount a file system")
    else:
        mail = os.path.join(srv.data_dir, "mail")
        cmd = 'mount -t tmpfs none "$1" && shift && exec "$@"'
        p = subprocess.run([unshare, "-m", "--propagation", "private",
                            "sh", "-c", cmd, "sh", mail,
                            os.path.join(BINDIR, "maild")] + srv.args(),
                           capture_output=True, text=True, timeout=60)
        t.ok(p.returncode != 0 and "is on another file system than "
             "data_dir" in p.stderr + p.stdout,
             "with the store on another file system maild refuses to "
             "start, and says why", (p.returncode, p.stderr[-500:]))
finally:
    srv.cleanup()
t.done()
