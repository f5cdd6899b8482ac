#!/usr/bin/python3
# maild: privileges, restart of a crashed service, reload on SIGHUP, clean
# stop on SIGTERM, children gone with a killed maild, startup errors.
import os
import signal
import smtplib
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import (TAP, Server, SMTPRaw, BINDIR, free_port,  # noqa: E402
                       wait_until)

t = TAP()


def uid_of(pid):
    """[real, effective, saved, fs] uid, or None if the process is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("Uid:"):
                    return [int(x) for x in line.split()[1:]]
    except OSError:
        return None


def ppid_of(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
        return int(st[st.rindex(")") + 2:].split()[1])
    except (OSError, ValueError):
        return None


def alive(pid):
    """Running, not a zombie; a process may end between any two reads."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


def pids_named(srv, name):
    """maild's direct children of that name (not their sessions)."""
    return [p for p, c in srv.process_names().items()
            if c == name and ppid_of(p) == srv.proc.pid]


def smtp_ok(port):
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as s:
            return s.noop()[0] == 250
    except OSError:
        return False


srv = Server()
srv.setup(users=[("u@example.test", "pw")])
srv.start()
try:
    if os.geteuid() == 0:
        t.eq(uid_of(srv.proc.pid)[0], 0, "maild keeps root (to bind and "
             "fork)")
        # (who runs as which user and where: t/43-privsep.t)
        def dropped(pid):
            u = uid_of(pid)     # read once: the process may end meanwhile
            return u is None or (u == [u[0]] * 4 and u[0] != 0)
        t.ok(wait_until(lambda: all(dropped(p) for p in srv.descendants()),
                        10),
             "once set up, no process but maild runs as root",
             {p: uid_of(p) for p in srv.descendants()})
    else:
        t.diag("not root: privilege-drop checks skipped")

    # a session process that crashes is replaced; the service goes on
    c = SMTPRaw("127.0.0.1", srv.port())
    c.reply()
    victim = srv.session_pid(c.sock)
    t.ok(victim is not None, "a session process serves the client")
    os.kill(victim, signal.SIGKILL)
    t.ok(c.closed(), "killed, its client is cut off (that one only)")
    t.ok(wait_until(lambda: smtp_ok(srv.port()), 10), "the service serves "
         "the next client at once")
    t.ok(wait_until(lambda: "smtpd (pid %d) killed by signal 9" % victim
                    in srv.log(), 5), "the crash is logged")
    q = pids_named(srv, "queued")
    os.kill(q[0], signal.SIGKILL)
    t.ok(wait_until(lambda: pids_named(srv, "queued") not in ([], q), 10),
         "killed queued is restarted")
    with smtplib.SMTP("127.0.0.1", srv.port(), timeout=10) as s:
        s.sendmail("a@remote.test", ["u@example.test"], b"Subject: r\r\n\r\nr\r\n")
    t.eq(len(srv.wait_messages("u@example.test", 1)), 1,
         "mail flows after the restarts")

    # SIGTERM: a session in progress is told, everything stops
    c = SMTPRaw("127.0.0.1", srv.port())
    c.reply()
    c.cmd("EHLO x")
    kids = srv.descendants()
    start = time.monotonic()
    srv.proc.send_signal(signal.SIGTERM)
    code, text = c.reply()
    t.ok(code == 421 and "4.3.2" in text, "open session gets 421 4.3.2 on "
         "stop", text)
    rc = srv.proc.wait(20)
    t.ok(rc == 0 and time.monotonic() - start < 10, "maild exits 0 promptly "
         "on SIGTERM")
    t.ok(wait_until(lambda: not any(os.path.exists("/proc/%d" % p)
                                    for p in kids), 5),
         "every child is gone")
    srv.proc = None
    srv.logf.close()

    # maild killed with SIGKILL: the services notice and stop
    srv.start()
    kids = srv.descendants()
    os.kill(srv.proc.pid, signal.SIGKILL)
    srv.proc.wait(5)
    t.ok(wait_until(lambda: not any(alive(p) for p in kids), 15),
         "services stop when maild is killed (no orphans left serving)")
    srv.proc = None
    srv.logf.close()
finally:
    srv.cleanup()

# SIGHUP: reload a changed configuration file
srv = Server(services=())
conf = os.path.join(srv.tmp, "maild.conf")
p1, p2 = free_port(), free_port()


def write_conf(port, extra=""):
    with open(conf, "w") as f:
        f.write("[server]\nuser = maild\n[smtp]\nlisten = 127.0.0.1:%d\n"
                "[queue]\nscan_interval = 1m\n%s" % (port, extra))


write_conf(p1)
srv.conf = conf
srv.overrides = [o for o in srv.overrides if not o.startswith("smtp.")]
srv.setup()
srv.start(wait=False)
try:
    t.ok(wait_until(lambda: smtp_ok(p1), 15), "listening on the first port")
    # the first runner must be up, or its own "ready" would be taken for
    # the new one's below
    wait_until(lambda: any("queued[" in l and "ready:" in l
                           for l in srv.log().splitlines()), 15)
    held = SMTPRaw("127.0.0.1", p1)     # a session open across the reload
    held.reply()
    write_conf(p2)
    srv.proc.send_signal(signal.SIGHUP)
    t.ok(wait_until(lambda: smtp_ok(p2), 15), "after SIGHUP: the new port "
         "serves")
    t.ok(wait_until(lambda: not smtp_ok(p1), 5), "the old port is closed")
    t.eq(held.cmd("NOOP")[0], 250, "a session open across the reload "
         "carries on")
    held.cmd("QUIT")
    def runner_ready():
        return any("queued[" in l and "ready:" in l for l in
                   srv.log().split("reloading", 1)[1].splitlines())
    t.ok(wait_until(runner_ready, 10), "a new queue runner started after the "
         "reload")
    lines = srv.log().split("reloading", 1)[1].splitlines()
    stop_at = [i for i, l in enumerate(lines) if "queued[" in l and
               "stopping" in l]
    ready_at = [i for i, l in enumerate(lines) if "queued[" in l and
                "ready:" in l]
    t.ok(stop_at and ready_at and stop_at[0] < ready_at[0],
         "the old queue runner is gone before the new one starts "
         "(never two on one spool)", "\n".join(lines))
    write_conf(p2, "[smtpd]\nbogus = 1\n")
    srv.proc.send_signal(signal.SIGHUP)
    t.ok(wait_until(lambda: "reload failed, keeping the running "
                    "configuration" in srv.log(), 5) and smtp_ok(p2),
         "a broken file on reload: logged, old configuration kept")
    t.like(srv.log(), "maild.conf:8: unknown key 'bogus'",
           "the log names file and line")
finally:
    srv.cleanup()

# startup errors
srv = Server()
p = subprocess.run([os.path.join(BINDIR, "maild")] + srv.args() +
                   ["-o", "smtpd.timeout=soon"], capture_output=True,
                   text=True, timeout=20)
t.ok(p.returncode != 0 and "smtpd.timeout=soon: bad duration" in p.stderr,
     "bad -o value: maild refuses to start", p.stderr)
busy = socket.socket()
busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
busy.bind(("127.0.0.1", srv.port()))
busy.listen(1)
p = subprocess.run([os.path.join(BINDIR, "maild")] + srv.args(),
                   capture_output=True, text=True, timeout=20)
t.ok(p.returncode != 0 and "cannot listen on 127.0.0.1:%d" % srv.port()
     in p.stderr, "port in use: maild says so and exits", p.stderr)
busy.close()
srv.cleanup()
t.done()
