#!/usr/bin/python3
# POP3 (RFC 1939, 2449, 2595, 5034) with poplib over TLS and STLS, curl and
# fetchmail: listing, byte-exact retrieval, TOP, UIDL, DELE/QUIT/UPDATE,
# the IN-USE lock, authentication and its refusals.
import base64
import os
import poplib
import re
import smtplib
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import (TAP, Server, SMTPRaw, client_tls, test_ca,  # noqa
                       wait_until)

t = TAP()
HOST = "127.0.0.1"
U, PW = "pat@example.test", "pat-secret"
srv = Server(services=("smtp", "pop3", "pop3s"),
             overrides=["auth.failure_delay_max=1s", "auth.max_failures=2"])
srv.setup(users=[(U, PW), ("other@example.test", "o")])
srv.start()
P110, P995 = srv.port("pop3"), srv.port("pop3s")


def deliver(subject, body="hello\r\n", to=U):
    with smtplib.SMTP(HOST, srv.port(), timeout=10) as s:
        s.sendmail("sender@remote.test", [to],
                   ("Subject: %s\r\n\r\n%s" % (subject, body)).encode())


def pop():
    p = poplib.POP3_SSL(HOST, P995, context=client_tls(), timeout=20)
    p.user(U)
    p.pass_(PW)
    return p


def as_sent(data):
    """A stored message as POP3 must send it: CRLF line ends."""
    return re.sub(rb"(?<!\r)\n", b"\r\n", data)


try:
    # 100 KB of body lines, some starting with dots, one very long line
    big = "".join(".dot %d\r\n..two\r\nline %d\r\n" % (i, i) for i in range(3000))
    big += "x" * 1500 + "\r\n"
    deliver("first")
    deliver("second", big)
    deliver("third", "no final newline")
    srv.wait_messages(U, 3)

    # --- before authentication ---
    c = SMTPRaw(HOST, P110)
    code, text = c.sock.recv(4096), None
    t.ok(code.startswith(b"+OK"), "greeting on 110", code)
    c.send("CAPA\r\n")
    time.sleep(0.3)
    capa = c.sock.recv(4096).decode()
    t.ok("STLS" in capa and "USER" not in capa and "SASL" not in capa,
         "110 in the clear: STLS offered, USER/SASL not", capa)
    c.send("USER " + U + "\r\n")
    t.like(c.sock.recv(4096), b"-ERR [AUTH]", "USER before STLS refused with "
           "[AUTH]")
    c.send("STAT\r\n")
    t.like(c.sock.recv(4096), b"-ERR", "STAT before login refused")
    c.close()

    p = poplib.POP3(HOST, P110, timeout=20)
    p.stls(context=client_tls())
    t.ok("USER" in p.capa() and "SASL" in p.capa(), "after STLS: USER and "
         "SASL PLAIN LOGIN offered", p.capa())
    p.user(U)
    t.like(p.pass_(PW), b"+OK", "STLS then USER/PASS")
    p.quit()

    # STLS injection: what was pipelined in the clear is not executed
    c = SMTPRaw(HOST, P110)
    c.sock.recv(4096)
    c.send("STLS\r\nUSER %s\r\nPASS %s\r\n" % (U, PW))
    first = c.sock.recv(4096)
    c.sock = client_tls().wrap_socket(c.sock, server_hostname="mail.example.test")
    c.send("STAT\r\n")
    time.sleep(0.3)
    after = c.sock.recv(4096)
    t.ok(first.startswith(b"+OK Begin TLS") and after.startswith(b"-ERR"),
         "USER/PASS pipelined after STLS are discarded (STAT is still "
         "refused)", (first, after))
    c.close()

    # --- listing and retrieval on 995 ---
    p = pop()
    n, octets = p.stat()
    t.eq(n, 3, "STAT: 3 messages")
    files = [d for _, d in srv.messages(U)]
    listing = [int(l.split()[1]) for l in p.list()[1]]
    t.eq(sorted(listing), sorted(len(as_sent(d)) for d in files),
         "LIST sizes are the octets RETR sends (CRLF line ends)")
    t.eq(octets, sum(listing), "STAT total matches LIST")
    for i in (1, 2, 3):
        resp, lines, _ = p.retr(i)
        got = b"\r\n".join(lines) + b"\r\n"
        t.ok(got in [as_sent(d) for d in files] or
             got in [as_sent(d) + b"\r\n" for d in files],
             "RETR %d: byte-exact, dots stuffed and unstuffed" % i,
             got[-200:])
    resp, lines, _ = p.retr(2)
    t.ok(b"..two" in lines and b".dot 0" in lines, "dot-stuffing round trip")
    resp, lines, _ = p.top(2, 3)
    hdr_end = lines.index(b"")
    t.eq(lines[hdr_end + 1:], [b".dot 0", b"..two", b"line 0"],
         "TOP 2 3: header, empty line, 3 body lines")
    t.eq(p.top(1, 0)[1][-1], b"", "TOP n 0: header and the empty line only")
    uidl1 = p.uidl()[1]
    t.ok(len(uidl1) == 3 and all(re.match(rb"^\d+ [0-9A-F]{16}$", l)
                                 for l in uidl1), "UIDL: 3 unique ids", uidl1)
    t.eq(p.uidl(2)[4:].split()[0], b"2", "UIDL n")
    for cmd, want in (("RETR 9", b"-ERR"), ("RETR x", b"-ERR"),
                      ("TOP 1", b"-ERR"), ("DELE 0", b"-ERR"),
                      ("LIST 4", b"-ERR")):
        try:
            p._shortcmd(cmd)
            t.ok(False, cmd + " refused")
        except poplib.error_proto as e:
            t.like(e.args[0], want, cmd + ": -ERR")
    p.quit()

    p = pop()
    t.eq(p.uidl()[1], uidl1, "UIDL stable across sessions")

    # --- the IN-USE lock ---
    try:
        q = poplib.POP3_SSL(HOST, P995, context=client_tls(), timeout=20)
        q.user(U)
        q.pass_(PW)
        t.ok(False, "second session refused")
    except poplib.error_proto as e:
        t.like(e.args[0], b"-ERR [IN-USE]", "a second POP3 session gets "
               "-ERR [IN-USE]")

    # mail arriving during a session: not in it, not deleted by it
    deliver("arrived meanwhile")
    srv.wait_messages(U, 4)
    t.eq(p.stat()[0], 3, "the session keeps its snapshot")
    t.like(p.dele(1), b"+OK", "DELE 1")
    try:
        p.retr(1)
        t.ok(False, "RETR of a deleted message refused")
    except poplib.error_proto as e:
        t.like(e.args[0], b"already deleted", "RETR of a DELE'd message: -ERR")
    t.eq(p.stat()[0], 2, "STAT leaves it out")
    p.rset()
    t.eq(p.stat()[0], 3, "RSET undeletes")
    p.dele(1)
    p.quit()
    time.sleep(0.2)
    subjects = sorted(re.search(rb"Subject: (.*)", d).group(1).decode()
                      for _, d in srv.messages(U))
    t.eq(subjects, ["arrived meanwhile", "second", "third"],
         "DELE then QUIT removes it; mail that arrived meanwhile stays")

    # DELE then a dropped connection: nothing deleted
    p = pop()
    p.dele(1)
    p.dele(2)
    p.sock.shutdown(socket.SHUT_RDWR)   # the connection drops, no QUIT
    p.sock.close()
    p.file.close()
    wait_until(lambda: "dele=2" in srv.log(), 10)
    t.eq(len(srv.messages(U)), 3, "DELE then a dropped connection deletes "
         "nothing")
    p = pop()
    t.eq(p.stat()[0], 3, "and the lock is free again")
    p.quit()

    # --- authentication ---
    q = poplib.POP3_SSL(HOST, P995, context=client_tls(), timeout=20)
    q.user(U)
    try:
        q.pass_("wrong")
        t.ok(False, "bad password refused")
    except poplib.error_proto as e:
        t.like(e.args[0], b"-ERR [AUTH]", "bad password: -ERR [AUTH]")
    try:
        q.user(U)
        q.pass_("wrong again")
    except poplib.error_proto:
        pass
    t.like(srv.log(), "auth mech=pass user=- result=failed delay=1s", "failures are delayed "
           "(growing per address, capped at 1s here)")
    q.close()
    c = SMTPRaw(HOST, P995)
    c.sock = client_tls().wrap_socket(c.sock, server_hostname="mail.example.test")
    c.sock.recv(4096)
    c.send("AUTH PLAIN %s\r\n" % base64.b64encode(
        ("\0%s\0%s" % (U, PW)).encode()).decode())
    t.like(c.sock.recv(4096), b"+OK Logged in", "AUTH PLAIN with initial "
           "response (RFC 5034)")
    c.send("QUIT\r\n")
    c.sock.recv(4096)
    c.close()
    c = SMTPRaw(HOST, P995)
    c.sock = client_tls().wrap_socket(c.sock, server_hostname="mail.example.test")
    c.sock.recv(4096)
    c.send("AUTH LOGIN\r\n")
    r1 = c.sock.recv(4096)
    c.send(base64.b64encode(U.encode()).decode() + "\r\n")
    r2 = c.sock.recv(4096)
    c.send(base64.b64encode(PW.encode()).decode() + "\r\n")
    r3 = c.sock.recv(4096)
    t.ok(r1.startswith(b"+ ") and r2.startswith(b"+ ") and
         r3.startswith(b"+OK"), "AUTH LOGIN", (r1, r2, r3))
    c.send("QUIT\r\n")
    c.close()
    c = SMTPRaw(HOST, P995)
    c.sock = client_tls().wrap_socket(c.sock, server_hostname="mail.example.test")
    c.sock.recv(4096)
    c.send("AUTH PLAIN\r\n")
    c.sock.recv(4096)
    c.send("*\r\n")
    t.like(c.sock.recv(4096), b"-ERR", "'*' cancels AUTH")
    c.send("CAPA " + "x" * 2000 + "\r\n")
    t.like(c.sock.recv(4096), b"-ERR Line too long", "over-long line: -ERR")
    c.send("CAPA\r\nCAPA\r\n")             # pipelined (RFC 2449 PIPELINING)
    time.sleep(0.3)
    data = c.sock.recv(65536)
    t.eq(data.count(b"+OK Capability list follows"), 2, "pipelined commands "
         "each get their reply")
    c.close()

    # --- curl ---
    p = subprocess.run(["curl", "-s", "--cacert", test_ca()["ca"],
                        "--resolve", "mail.example.test:%d:127.0.0.1" % P995,
                        "-u", "%s:%s" % (U, PW),
                        "pop3s://mail.example.test:%d/" % P995],
                       capture_output=True, timeout=30)
    t.ok(p.returncode == 0 and len(p.stdout.splitlines()) == 3,
         "curl pop3s://: LIST of 3", p.stdout + p.stderr)
    p = subprocess.run(["curl", "-s", "--cacert", test_ca()["ca"],
                        "--resolve", "mail.example.test:%d:127.0.0.1" % P995,
                        "-u", "%s:%s" % (U, PW),
                        "pop3s://mail.example.test:%d/1" % P995],
                       capture_output=True, timeout=30)
    t.ok(p.returncode == 0 and p.stdout in [as_sent(d) for _, d in
                                            srv.messages(U)],
         "curl pop3s:// retrieves message 1 byte for byte", p.stdout[:300])

    # --- fetchmail, keep and delete ---
    out = os.path.join(srv.tmp, "fetched")
    rc = os.path.join(srv.tmp, "fetchmailrc")

    def fetchmail(keep):
        with open(rc, "w") as f:
            f.write('poll 127.0.0.1 service %d protocol pop3 uidl\n'
                    '  user "%s" password "%s" is root here\n'
                    '  ssl sslcertck sslcommonname "mail.example.test"\n'
                    '  sslcertfile "%s" sslcertpath "%s"\n'
                    '  %s mda "cat >> %s"\n'
                    % (P995, U, PW, test_ca()["ca"],
                       os.path.dirname(test_ca()["ca"]),
                       "keep" if keep else "fetchall nokeep", out))
        os.chmod(rc, 0o600)
        return subprocess.run(["fetchmail", "-f", rc, "--nosyslog", "-v",
                               "--idfile", os.path.join(srv.tmp, "fmids"),
                               "--pidfile", os.path.join(srv.tmp, "fmpid")],
                              capture_output=True, text=True, timeout=120,
                              env=dict(os.environ, HOME=srv.tmp))
    r = fetchmail(True)
    t.ok(r.returncode == 0 and open(out, "rb").read().count(b"Subject: ") == 3
         and len(srv.messages(U)) == 3, "fetchmail keep: 3 fetched, all "
         "still there", r.stdout[-1500:] + r.stderr[-500:])
    r = fetchmail(False)
    t.ok(r.returncode in (0, 1) and len(srv.messages(U)) == 0,
         "fetchmail nokeep: fetched and deleted", r.stdout[-1500:] +
         r.stderr[-500:])
finally:
    srv.cleanup()
t.done()
