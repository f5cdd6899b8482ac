#!/usr/bin/python3
# Privilege separation, looked at from outside on the running processes:
# who runs as which user, chrooted where, under which filter, holding
# which files; and what a process can open, tried inside it with gdb.
# Also: nothing of one client is left for the next one a session process
# serves.
import base64
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import TAP, Server, SMTPRaw, client_tls, wait_until  # noqa

t = TAP()
if os.geteuid() != 0:
    print("1..0 # SKIP the separation needs maild started as root")
    sys.exit(0)
import pwd  # noqa: E402

UID = {u: pwd.getpwnam(u).pw_uid for u in ("maild", "maild-auth",
                                           "maild-login")}
srv = Server(services=("smtp", "submission", "imap", "imaps"),
             overrides=["auth.failure_delay_max=0", "server.min_idle=1"])
srv.setup(users=[("alice@example.test", "alice-pw"),
                 ("bob@example.test", "bob-pw")])
srv.start()
DATA = srv.data_dir


def status(pid):
    st = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            st[k] = v.split()
    return st


def uids(pid):
    return [int(x) for x in status(pid)["Uid"]]


def root_of(pid):
    return os.readlink("/proc/%d/root" % pid)


def files_of(pid):
    """The paths of the files a process holds open (but its standard
    input, output and error: the log)."""
    out = []
    for fd in os.listdir("/proc/%d/fd" % pid):
        if fd in ("0", "1", "2"):
            continue
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if target.startswith("/") and not target.startswith("/dev/"):
            out.append(target)
    return out


def gdb(pid, *exprs):
    """Evaluate C expressions inside the process; its output."""
    cmd = ["gdb", "-p", str(pid), "-batch", "-ex",
           "handle SIGSYS nostop noprint pass"]
    for e in exprs:
        cmd += ["-ex", "print " + e]
    cmd += ["-ex", "detach"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    return p.stdout + p.stderr


def gdb_values(out):
    return [int(v) for v in re.findall(r"^\$\d+ = (-?\d+)", out, re.M)]


def listening_inodes():
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            next(f)
            for line in f:
                fields = line.split()
                if fields[3] == "0A":
                    found.add("socket:[%s]" % fields[9])
    return found


def cmdline(pid):
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        return f.read().split(b"\0")


def imap_login(sock, user, pw):
    f = sock.makefile("rb")
    f.readline()
    sock.sendall(b"a LOGIN %s %s\r\n" % (user.encode(), pw.encode()))
    line = f.readline()
    return f, line


try:
    # --- who is root ---
    t.eq(uids(srv.proc.pid), [0] * 4, "maild runs as root")
    t.ok(wait_until(lambda: all(uids(p)[0] != 0 for p in srv.descendants()
                                if os.path.exists("/proc/%d" % p)), 10),
         "every other process has dropped root")

    # --- the auth service ---
    authd = [p for p, c in srv.process_names().items() if c == "authd"]
    t.ok(len(authd) == 1 and uids(authd[0]) == [UID["maild-auth"]] * 4,
         "authd runs as maild-auth")
    st = os.stat(os.path.join(DATA, "users.db"))
    t.ok(st.st_uid == UID["maild-auth"] and st.st_mode & 0o077 == 0,
         "users.db is maild-auth's alone (0600)")
    holders = [p for p in srv.descendants() if any(
        f.startswith(os.path.join(DATA, "users.db")) for f in files_of(p))]
    t.eq(holders, authd, "no process but authd holds users.db open")

    # --- the queue runner and delivery: not reachable from the network ---
    queue = [p for p, c in srv.process_names().items() if c == "queued"]
    listen = listening_inodes()
    t.ok(queue and all(uids(p) == [UID["maild"]] * 4 for p in queue) and
         not any(os.readlink("/proc/%d/fd/%s" % (p, fd)) in listen
                 for p in queue for fd in os.listdir("/proc/%d/fd" % p)),
         "queued and its workers run as maild and hold no listening socket")

    # --- an SMTP session process ---
    c = SMTPRaw("127.0.0.1", srv.port("smtp"))
    c.reply()
    c.cmd("EHLO client.test")
    pid = srv.session_pid(c.sock)
    st = status(pid)
    t.ok(pid and uids(pid) == [UID["maild-login"]] * 4 and
         int(st["Gid"][0]) == pwd.getpwnam("maild-login").pw_gid,
         "an SMTP session runs as maild-login", st.get("Uid"))
    t.eq(root_of(pid), os.path.join(DATA, "empty"),
         "chrooted into the empty directory")
    t.ok(st["Seccomp"] == ["2"] and st["NoNewPrivs"] == ["1"],
         "under a seccomp filter, without new privileges")
    t.eq(os.listdir(os.path.join(DATA, "empty")), [], "which is empty")
    c.cmd("MAIL FROM:<x@remote.test>")
    c.cmd("RCPT TO:<alice@example.test>")
    c.cmd("DATA")
    c.send("Subject: held\r\n\r\nhalf\r\n")
    time.sleep(0.5)
    held = files_of(pid)
    t.ok(len(held) == 1 and held[0].startswith(
         os.path.join(DATA, "queue", "msg") + "/"),
         "during DATA it holds one file: its own spool slot in queue/msg "
         "(passed by maild)", held)
    modes = []
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)) in held:
                with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                    modes.append(int(re.search(r"flags:\s+(\d+)",
                                               f.read()).group(1), 8) & 3)
        except OSError:
            continue
    t.ok(modes == [os.O_WRONLY], "write-only: it cannot read what the "
         "slot held before", modes)
    c.send(".\r\n")
    t.eq(c.reply()[0], 250, "and the message is accepted")
    c.cmd("QUIT")
    c.close()

    c = SMTPRaw("127.0.0.1", srv.port("smtp"))
    c.reply()
    pid = srv.session_pid(c.sock)
    out = gdb(pid, '(int)open("/etc/hostname", 0)')
    t.ok(wait_until(lambda: not os.path.exists("/proc/%d" % pid), 10),
         "an SMTP session that tries to open a file is ended", out[-800:])
    t.ok(wait_until(lambda: "smtpd (pid %d) made a system call its sandbox "
                    "does not allow" % pid in srv.log(), 5) and
         "system call 257 denied by the seccomp filter" in srv.log(),
         "and the violation is logged (openat: 257)")
    c.close()

    # --- IMAP before and after login ---
    raw = socket.create_connection(("127.0.0.1", srv.port("imap")),
                                   timeout=30)
    raw.recv(4096)
    pid = srv.session_pid(raw)
    st = status(pid)
    t.ok(uids(pid) == [UID["maild-login"]] * 4 and
         root_of(pid) == os.path.join(DATA, "empty") and
         st["Seccomp"] == ["2"],
         "an IMAP client before login: maild-login, chrooted, filtered")
    raw.close()

    # bob's mail, for alice's process to try
    srv.mailctl("user", "list")
    import smtplib
    with smtplib.SMTP("127.0.0.1", srv.port("smtp"), timeout=30) as s:
        s.sendmail("x@remote.test", ["bob@example.test"],
                   b"Subject: for bob\r\n\r\nsecret\r\n")
    bob = srv.wait_messages("bob@example.test", 1)
    alice_msgs = srv.wait_messages("alice@example.test", 1)
    bob_file = os.path.join(srv.maildir("bob@example.test"), "new",
                            bob[0][0])
    s = client_tls().wrap_socket(socket.create_connection(
        ("127.0.0.1", srv.port("imaps")), timeout=30),
        server_hostname="mail.example.test")
    f, line = imap_login(s, "alice@example.test", "alice-pw")
    t.ok(line.startswith(b"a OK"), "alice logs in over IMAPS", line)
    s.sendall(b"b SELECT INBOX\r\n")
    while not f.readline().startswith(b"b "):
        pass
    login_pid = srv.session_pid(s)
    post = [p for p in srv.descendants() if b"-M" in cmdline(p) and
            os.path.exists("/proc/%d" % p) and status(p)["Seccomp"] == ["2"]]
    t.ok(login_pid and len(post) == 1,
         "a post-login process serves her (the login process relays TLS)",
         (login_pid, post))
    pid = post[0] if post else 0
    st = status(pid)
    t.ok(uids(pid) == [UID["maild"]] * 4 and st["Seccomp"] == ["2"],
         "it runs as maild, filtered", st.get("Uid"))
    ppid = int(st["PPid"][0]) if pid else 0
    t.ok(ppid and ppid != srv.proc.pid and b"-M" in cmdline(ppid) and
         uids(ppid) == [UID["maild"]] * 4,
         "it was forked by IMAP's post-login parent, not started by maild",
         (ppid, cmdline(ppid) if ppid else None))
    socks = [os.readlink("/proc/%d/fd/%s" % (ppid, fd)) for fd in
             os.listdir("/proc/%d/fd" % ppid)] if ppid else []
    socks = [x for x in socks if x.startswith("socket:")]
    t.ok(ppid and files_of(ppid) == [] and len(socks) == 1,
         "the parent holds no file and one socket (its channel to maild)",
         (files_of(ppid), socks))
    own = os.path.join(srv.maildir("alice@example.test"), "index.db")
    out = gdb(pid, '(int)open("%s", 0)' % own,
              '(int)open("%s", 0)' % bob_file,
              "(int)*(int *)__errno_location()",
              '(int)open("%s", 0)' % os.path.join(DATA, "users.db"),
              '(int)open("%s", 0)' % os.path.join(DATA, "queue", "msg"),
              '(int)open("/etc/hostname", 0)')
    v = gdb_values(out)
    t.ok(len(v) == 6 and v[0] >= 0, "inside it, her own Maildir opens",
         out[-1500:])
    t.ok(len(v) == 6 and v[1] == -1 and v[2] == 13,
         "bob's mail does not (EACCES: Landlock)", v)
    t.ok(len(v) == 6 and v[3] == -1 and v[4] == -1 and v[5] == -1,
         "nor users.db, nor the spool, nor anything else", v)
    s.sendall(b"c FETCH 1 BODY[]\r\n")
    body = b""
    while True:
        line = f.readline()
        body += line
        if line.startswith(b"c ") or not line:
            break
    t.ok(line.startswith(b"c OK") and os.path.exists("/proc/%d" % pid),
         "and it goes on serving her", body[-300:])
    s.sendall(b"z LOGOUT\r\n")
    s.close()

    # --- the next client of a session process starts clean ---
    def submission():
        c = SMTPRaw("127.0.0.1", srv.port("submission"))
        c.reply()
        return c, srv.session_pid(c.sock)
    c, first = submission()
    c.cmd("EHLO one.test")
    c.cmd("STARTTLS")
    c.sock = client_tls().wrap_socket(c.sock,
                                      server_hostname="mail.example.test")
    c.cmd("EHLO one.test")
    plain = base64.b64encode(b"\0alice@example.test\0alice-pw").decode()
    code1, _ = c.cmd("AUTH PLAIN " + plain)
    c.cmd("MAIL FROM:<alice@example.test>")
    c.send("RCPT TO:<bob@example.test>\r\nQUIT\r\nMAIL FROM:<evil@x>\r\n")
    c.closed()
    c.close()
    same = None
    for _ in range(20):          # until the same process takes a client
        c, pid = submission()
        if pid == first:
            same = c
            break
        c.cmd("QUIT")
        c.close()
    t.ok(code1 == 235 and same is not None, "a second client is served by "
         "the process that served the first (pid %s)" % first)
    if same is not None:
        code, text = same.cmd("EHLO two.test")
        t.ok(code == 250 and "STARTTLS" in text and "AUTH" not in text,
             "it is offered STARTTLS again: no TLS state carried over",
             text)
        t.eq(same.cmd("MAIL FROM:<alice@example.test>")[0], 530,
             "MAIL needs AUTH again: no authentication carried over")
        t.eq(same.cmd("RCPT TO:<bob@example.test>")[0], 503,
             "RCPT before MAIL: no envelope carried over")
        t.eq(same.cmd("NOOP")[0], 250, "nothing the first client pipelined "
             "after QUIT was run for the second")
        same.cmd("QUIT")
        same.close()
finally:
    srv.cleanup()
t.done()
