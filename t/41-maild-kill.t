#!/usr/bin/python3
# maild killed (SIGKILL) at any moment of its start or its work: no
# service outlives it, and a new maild started at once on the same data
# directory comes up, with one queue runner.  One maild and one queue
# runner at most per data directory.
#
# (Once, a service forked by maild recorded its parent only after exec:
# if maild died in between, the service recorded init as its parent and
# never got its death signal.  Killing maild 10-60 ms after its start
# orphaned a service in 26 of 40 tries, and the next maild failed with
# "Address already in use".)
import os
import signal
import smtplib
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import TAP, Server, BINDIR, wait_until  # noqa: E402

t = TAP()


def ours(srv):
    """{pid: comm} of every live process started for this data directory
    (services and sessions carry maild's arguments, the data dir among
    them), maild included, whoever their parent is now."""
    mark = ("server.data_dir=" + srv.data_dir).encode()
    found = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                if mark not in f.read().split(b"\0"):
                    continue
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
            if st[st.rindex(")") + 2] == "Z":
                continue
            with open("/proc/%s/comm" % d) as f:
                found[int(d)] = f.read().strip()
        except (OSError, ValueError):
            pass
    return found


def kill_maild(srv):
    os.kill(srv.proc.pid, signal.SIGKILL)
    srv.proc.wait(10)
    srv.proc = None
    srv.logf.close()


def send(srv, n):
    with smtplib.SMTP("127.0.0.1", srv.port(), timeout=20) as s:
        s.sendmail("a@remote.test", ["u@example.test"],
                   ("Subject: m%d\r\nMessage-ID: <m%d@t>\r\n\r\nbody\r\n"
                    % (n, n)).encode())


srv = Server(overrides=["queue.scan_interval=1s"])
srv.setup(users=[("u@example.test", "pw")])
try:
    # 1. killed during its start: at once, at moments up to 60 ms, and
    # right after it has forked a service (before that one has even
    # started): every process it had started is gone soon after.
    orphans = []
    moments = [i * 0.005 for i in range(13)] + \
        ["started queued", "started smtpd"] * 4
    for when in moments:
        log_at = len(srv.log())
        srv.start(wait=False)
        if isinstance(when, str):
            wait_until(lambda: when in srv.log()[log_at:], 10, 0.0005)
        else:
            time.sleep(when)
        kill_maild(srv)
        if not wait_until(lambda: not ours(srv), 20):
            orphans.append((when, ours(srv)))
            for p in ours(srv):         # ours: started by this test
                os.kill(p, signal.SIGKILL)
            wait_until(lambda: not ours(srv), 10)
    t.ok(not orphans, "maild killed during its start (%d times, up to 60 "
         "ms, and just after forking a service): no service or session "
         "outlives it by more than 20 s" % len(moments), repr(orphans))

    # 2. killed at any moment, then started again at once: the new one
    # comes up and the mail flows, each message delivered once.
    sent = 0
    bad = []
    for i, delay in enumerate((0.0, 0.02, 0.05, 0.1, 0.3, None)):
        srv.start(wait=delay is None)
        if delay is None:               # up and working: a message in
            send(srv, sent)             # flight, a session open
            sent += 1
            held = smtplib.SMTP("127.0.0.1", srv.port(), timeout=10)
            held.ehlo()
        else:
            time.sleep(delay)
        kill_maild(srv)
        try:
            srv.start()                 # at once, same ports and data
            send(srv, sent)
            sent += 1
        except Exception as e:         # noqa: BLE001 - reported below
            bad.append("after a kill at %s: %s" % (delay, e))
            if srv.proc is not None:
                srv.stop()
            continue
        runners = [p for p, c in ours(srv).items() if c == "queued"]
        srv.stop()
        wait_until(lambda: not ours(srv), 20)
    t.ok(not bad, "a new maild started right after each SIGKILL (during "
         "start-up and while working) comes up and takes mail",
         "\n".join(bad) + "\n" + srv.log()[-3000:])
    srv.start()
    got = srv.wait_messages("u@example.test", sent, 30)
    subjects = sorted(m.split(b"Subject: ", 1)[1].split(b"\r")[0]
                      .split(b"\n")[0] for _, m in got)
    t.eq(len(got), sent, "every accepted message is in the Maildir")
    t.eq(len(set(subjects)), len(subjects), "none of them twice")

    # 3. a second maild on the same data directory refuses to start
    other = Server(services=("smtp",), data_dir=srv.data_dir)
    p = subprocess.run([os.path.join(BINDIR, "maild")] + other.args(),
                       capture_output=True, text=True, timeout=20)
    t.ok(p.returncode != 0 and "another maild (pid %d) is running"
         % srv.proc.pid in p.stderr,
         "a second maild on the same data directory: refused, naming the "
         "first", p.stderr)
    t.ok(srv.proc.poll() is None and srv.port() and
         wait_until(lambda: send(srv, sent) is None, 5),
         "the first one is unharmed")
    sent += 1

    # 4. a second queue runner waits for the lock instead of running
    q = subprocess.Popen([os.path.join(BINDIR, "queued")] + srv.args(),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    runner = [p for p, c in ours(srv).items()
              if c == "queued" and p != q.pid]
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(q.stdout))
    reader.start()
    # Until it says it waits (a fixed 1.5 s was too short for a loaded
    # machine: the SIGTERM came before it had even looked at the lock),
    # then a little longer, in which it must not start.
    wait_until(lambda: any("waiting up to" in ln for ln in lines), 30)
    time.sleep(0.5)
    q.send_signal(signal.SIGTERM)
    q.wait(10)
    reader.join(10)
    out = "".join(lines)
    t.ok("waiting up to" in out and "queue runner" in out and
         "ready:" not in out, "a second queue runner on the same spool "
         "waits for the first instead of running", out)
    t.ok(q.returncode == 0 and "stopping before the queue runner lock" in
         out, "and stops at once when told to", out)
    t.ok(all(os.path.exists("/proc/%d" % p) for p in runner),
         "the first runner is unharmed")
finally:
    srv.cleanup()
t.done()
