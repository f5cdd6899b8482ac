#!/usr/bin/python3
# The auth service: the login cache, and the limits on password guessing
# per account, per address and per network, shared by every protocol.
#
# (Once, the delay counted per address only: every new address started
# again at 1 s, an attacker's own successful login reset its address's
# count, and a success answered at once while a failure waited, so a
# client could give up early and try again.)
import os
import re
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import TAP, Server, BINDIR, client_tls, wait_until  # noqa

t = TAP()
srv = Server(services=("imaps", "submissions"),
             overrides=["auth.failure_delay_max=2s", "auth.max_failures=50"])
srv.setup(users=[("alice@example.test", "alice-pw-1"),
                 ("bob@example.test", "bob-pw-1"),
                 ("mallory@example.test", "mallory-pw-1")])
srv.start()


def imap_login(user, password, source="127.0.0.1"):
    """LOGIN over IMAPS from a chosen loopback address: (status, secs)."""
    raw = socket.socket()
    raw.settimeout(60)
    raw.bind((source, 0))
    raw.connect(("127.0.0.1", srv.port("imaps")))
    s = client_tls().wrap_socket(raw, server_hostname="mail.example.test")
    f = s.makefile("rb")
    f.readline()
    start = time.monotonic()
    s.sendall(b'a LOGIN %s "%s"\r\n' % (user.encode(), password.encode()))
    while True:
        line = f.readline()
        if not line or line.startswith(b"a "):
            break
    took = time.monotonic() - start
    s.sendall(b"z LOGOUT\r\n")
    s.close()
    return line.split(b" ")[1].decode() if line else "EOF", took


def verdicts(user):
    return [(m.group(1), m.group(2), int(m.group(3)), bool(m.group(4)))
            for m in re.finditer(r"authd\[\d+\]: auth service=\w+ "
                                 r"client=\[([\d.]+)\] user=%s "
                                 r"result=(\w+) delay=(\d+)s( \(cached\))?"
                                 % re.escape(user), srv.log())]


def mailctl(*args, input=None):
    return srv.mailctl(*args, input=input)


try:
    # --- the cache ---
    t.eq(imap_login("alice@example.test", "alice-pw-1")[0], "OK",
         "first login: OK")
    t.eq(imap_login("alice@example.test", "alice-pw-1")[0], "OK",
         "second login: OK")
    v = verdicts("alice@example.test")
    t.ok(len(v) == 2 and not v[0][3] and v[1][3],
         "the second is answered from the cache (no yescrypt)", v)
    t.eq(imap_login("alice@example.test", "alice-pw-2")[0], "NO",
         "a wrong password after a cached login: still NO")
    v = verdicts("alice@example.test")
    t.ok(v[-1][1] == "failed" and not v[-1][3],
         "a wrong password is never answered from the cache", v)
    rc, out, err = mailctl("user", "passwd", "alice@example.test",
                           input="alice-pw-new\n")
    t.eq(rc, 0, "mailctl user passwd", )
    t.eq(imap_login("alice@example.test", "alice-pw-1")[0], "NO",
         "after passwd the old password fails at once (the cache forgot)")
    t.eq(imap_login("alice@example.test", "alice-pw-new")[0], "OK",
         "and the new one works")
    t.like(srv.log(), "cache: forgot the logins of alice@example.test",
           "authd logs the flush")

    # --- per account, across addresses ---
    sources = ["127.0.0.%d" % i for i in range(11, 16)]
    for src in sources[:3]:
        imap_login("bob@example.test", "guess", src)
    st, took = imap_login("bob@example.test", "bob-pw-1", sources[3])
    v = verdicts("bob@example.test")
    t.ok(st == "OK" and v[-1][1] == "ok" and v[-1][2] >= 1,
         "3 failures of an account from 3 addresses: a success from a 4th "
         "address waits too (the account is under attack)", v)

    # a success of one account does not clear another's, nor the address's
    src = "127.0.0.21"
    imap_login("bob@example.test", "guess-a", src)
    imap_login("bob@example.test", "guess-b", src)
    imap_login("mallory@example.test", "mallory-pw-1", src)
    imap_login("bob@example.test", "guess-c", src)
    v = [x for x in verdicts("bob@example.test") if x[0] == src]
    t.ok(len(v) == 3 and v[-1][2] >= v[-2][2] and v[-1][2] >= 1,
         "an attacker's own successful login from the same address does "
         "not reset its count", v)

    # parallel guesses on one account take turns
    before = len(verdicts("bob@example.test"))
    answers = []

    def guess(i):
        answers.append(imap_login("bob@example.test", "par-%d" % i,
                                  "127.0.0.%d" % (31 + i)))
    threads = [threading.Thread(target=guess, args=(i,)) for i in range(4)]
    start = time.monotonic()
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    took = time.monotonic() - start
    v = verdicts("bob@example.test")[before:]
    delays = sorted(x[2] for x in v)
    t.ok(len(v) == 4 and all(a[0] == "NO" for a in answers) and
         len(set(delays)) == 4,
         "4 parallel guesses on an account under attack are answered by "
         "turns, not together (delays %s, %.1fs in all)" % (delays, took),
         v)

    # --- the administrator sees it ---
    rc, out, err = mailctl("auth", "status")
    t.ok(rc == 0 and "limits:" in out and
         "account bob@example.test failures=" in out and
         "address 127.0.0.21 failures=" in out and
         "network 127.0.0.0/24 failures=" in out,
         "mailctl auth status shows the limits and what is under attack",
         out + err)
    # --- one protocol's failures count for the others ---
    before = len(verdicts("bob@example.test"))
    import smtplib
    with smtplib.SMTP_SSL("127.0.0.1", srv.port("submissions"),
                          context=client_tls(), timeout=60) as s:
        try:
            s.login("bob@example.test", "smtp-guess")
        except smtplib.SMTPAuthenticationError:
            pass
    v = verdicts("bob@example.test")[before:]
    # (smtplib tries PLAIN, then LOGIN)
    t.ok(v and all(x[1] == "failed" and x[2] >= 2 for x in v),
         "a guess over SMTP meets the same account's count", v)

    # --- users.db's WAL files gone while authd was down (the sqlite3
    # shell removes them as it closes): its next start has them again ---
    pid = [p for p in srv.descendants()
           if open("/proc/%d/comm" % p).read().strip() == "authd"]
    os.kill(pid[0], 9)
    db = os.path.join(srv.data_dir, "users.db")
    for suffix in ("-wal", "-shm"):
        try:
            os.unlink(db + suffix)
        except FileNotFoundError:
            pass
    def logs_in():
        try:
            return imap_login("mallory@example.test", "mallory-pw-1")[0] \
                == "OK"
        except OSError:
            return False
    t.ok(wait_until(logs_in, 40),
         "after authd was killed and users.db-wal/-shm removed, the "
         "restarted authd logs a user in")
    t.ok(os.stat(db + "-wal").st_uid == os.stat(db).st_uid,
         "the WAL file is the auth service's again")
finally:
    srv.cleanup()
t.done()
