#!/usr/bin/python3
# No credential reaches the log: for every service and every way to log
# in (SMTP AUTH PLAIN with and without an initial response and LOGIN on
# 587 and 465; IMAP LOGIN and AUTHENTICATE; POP3 USER/PASS and AUTH), on
# success and on failure, the log holds neither the password nor any
# piece of what the client sent in base64 during the exchange.
#
# (Once, smtpd logged "mech=" from its line buffer after the 334
# exchange had overwritten it: "auth mech=mctZGVtbw== result=failed".)
import base64
import os
import re
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import TAP, Server, SMTPRaw, client_tls  # noqa: E402

t = TAP()
HOST = "127.0.0.1"
USER = "carol@example.test"
GOOD = "Kq7-Vt9!zR2pLw"
BAD = "Xn4+Hy8#wQ5mJd"
srv = Server(services=("submission", "submissions", "imap", "imaps",
                       "pop3", "pop3s"),
             overrides=["auth.failure_delay_max=0", "auth.max_failures=100"])
srv.setup(domains=["example.test"], users=[(USER, GOOD)])
srv.start()

sent = []       # every base64 line a client sent during an exchange


def b64(s):
    v = base64.b64encode(s.encode()).decode()
    sent.append(v)
    return v


def tls_wrap(sock):
    return client_tls().wrap_socket(sock, server_hostname="mail.example.test")


class Lines:
    """A line-oriented conversation over a (TLS) socket."""

    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def send(self, line):
        self.sock.sendall(line.encode() + b"\r\n")

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                return ""
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def until(self, prefix):
        """Lines up to the first starting with prefix; that line."""
        for _ in range(100):
            line = self.line()
            if line == "" or line.startswith(prefix):
                return line
        return ""


def smtp_session(port, implicit):
    c = SMTPRaw(HOST, port)
    if implicit:
        c.sock = tls_wrap(c.sock)
    c.reply()
    c.cmd("EHLO client.test")
    if not implicit:
        c.cmd("STARTTLS")
        c.sock = tls_wrap(c.sock)
        c.cmd("EHLO client.test")
    return c


def smtp_auth(port, implicit, how, password):
    c = smtp_session(port, implicit)
    plain = "\0%s\0%s" % (USER, password)
    if how == "PLAIN-IR":
        code, _ = c.cmd("AUTH PLAIN " + b64(plain))
    elif how == "PLAIN":
        c.cmd("AUTH PLAIN")
        code, _ = c.cmd(b64(plain))
    else:
        c.cmd("AUTH LOGIN")
        c.cmd(b64(USER))
        code, _ = c.cmd(b64(password))
    c.cmd("QUIT")
    c.close()
    return code


def imap_auth(port, how, password):
    raw = socket.create_connection((HOST, port), timeout=10)
    if port == srv.port("imaps"):
        raw = tls_wrap(raw)
    c = Lines(raw)
    c.line()
    if port != srv.port("imaps"):
        c.send("s STARTTLS")
        c.until("s ")
        c = Lines(tls_wrap(raw))
    plain = "\0%s\0%s" % (USER, password)
    if how == "LOGIN-CMD":
        c.send('a LOGIN %s "%s"' % (USER, password))
    elif how == "PLAIN-IR":
        c.send("a AUTHENTICATE PLAIN " + b64(plain))
    elif how == "PLAIN":
        c.send("a AUTHENTICATE PLAIN")
        c.until("+")
        c.send(b64(plain))
    else:
        c.send("a AUTHENTICATE LOGIN")
        c.until("+")
        c.send(b64(USER))
        c.until("+")
        c.send(b64(password))
    reply = c.until("a ")
    c.send("z LOGOUT")
    c.until("z ")
    raw.close()
    return reply.split(" ")[1] if " " in reply else reply


def pop3_auth(port, how, password):
    raw = socket.create_connection((HOST, port), timeout=10)
    if port == srv.port("pop3s"):
        raw = tls_wrap(raw)
    c = Lines(raw)
    c.line()
    if port != srv.port("pop3s"):
        c.send("STLS")
        c.line()
        c = Lines(tls_wrap(raw))
    plain = "\0%s\0%s" % (USER, password)
    if how == "USER-PASS":
        c.send("USER " + USER)
        c.line()
        c.send("PASS " + password)
    elif how == "PLAIN-IR":
        c.send("AUTH PLAIN " + b64(plain))
    elif how == "PLAIN":
        c.send("AUTH PLAIN")
        c.line()
        c.send(b64(plain))
    else:
        c.send("AUTH LOGIN")
        c.line()
        c.send(b64(USER))
        c.line()
        c.send(b64(password))
    reply = c.line()
    c.send("QUIT")
    c.line()
    raw.close()
    return reply.split(" ")[0]


try:
    for port, implicit, name in ((srv.port("submission"), False, "587"),
                                 (srv.port("submissions"), True, "465")):
        for how in ("PLAIN-IR", "PLAIN", "LOGIN"):
            t.eq(smtp_auth(port, implicit, how, GOOD), 235,
                 "SMTP %s AUTH %s, right password: 235" % (name, how))
            t.eq(smtp_auth(port, implicit, how, BAD), 535,
                 "SMTP %s AUTH %s, wrong password: 535" % (name, how))
    for port, name in ((srv.port("imaps"), "993"), (srv.port("imap"), "143")):
        for how in ("LOGIN-CMD", "PLAIN-IR", "PLAIN", "LOGIN"):
            t.eq(imap_auth(port, how, GOOD), "OK",
                 "IMAP %s %s, right password: OK" % (name, how))
            t.eq(imap_auth(port, how, BAD), "NO",
                 "IMAP %s %s, wrong password: NO" % (name, how))
    for port, name in ((srv.port("pop3s"), "995"), (srv.port("pop3"), "110")):
        for how in ("USER-PASS", "PLAIN-IR", "PLAIN", "LOGIN"):
            t.eq(pop3_auth(port, how, GOOD), "+OK",
                 "POP3 %s %s, right password: +OK" % (name, how))
            t.eq(pop3_auth(port, how, BAD), "-ERR",
                 "POP3 %s %s, wrong password: -ERR" % (name, how))

    srv.stop()
    log = srv.log()
    t.ok("result=failed" in log and "result=ok" in log,
         "the log records the successes and failures")
    for pw in (GOOD, BAD):
        t.ok(pw not in log, "the log holds no password in the clear",
             "found %r" % pw)
    # Any 8 consecutive characters of anything sent in base64 during an
    # exchange (the password alone, user and password, authzid, user
    # and password) would be a piece of a credential.
    leaks = sorted({v[i:i + 8] for v in sent
                    for i in range(0, len(v) - 7) if v[i:i + 8] in log})
    t.ok(not leaks, "the log holds no piece of the base64 exchanges "
         "(%d lines sent, every 8-character window checked)" % len(sent),
         "\n".join(l for l in log.splitlines()
                   if any(x in l for x in leaks))[:3000])
    mechs = [l for l in log.splitlines() if " auth mech=" in l]
    t.ok(mechs and all(re.search(r" auth mech=(PLAIN|LOGIN|login|pass) ", l)
                       for l in mechs),
         "every service names the mechanism (or command), nothing else, "
         "in mech=", "\n".join(mechs)[:3000])
finally:
    srv.cleanup()
t.done()
