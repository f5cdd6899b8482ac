#!/usr/bin/python3
# A NUL octet in a command or a SASL answer is refused by every protocol;
# it never cuts a user name short.  (Once, POP3 "USER demo@example.test\0x"
# with demo's password logged in as demo.)
import base64
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import TAP, Server, SMTPRaw, client_tls  # noqa: E402

t = TAP()
HOST = "127.0.0.1"
USER, PW = "demo@example.test", "demo-pw-1"
srv = Server(services=("smtp", "submissions", "imaps", "pop3s"),
             overrides=["auth.failure_delay_max=0", "auth.max_failures=100"])
srv.setup(domains=["example.test"], users=[(USER, PW)])
srv.start()


def tls(port):
    s = socket.create_connection((HOST, port), timeout=10)
    return client_tls().wrap_socket(s, server_hostname="mail.example.test")


class Lines:
    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def send(self, data):
        self.sock.sendall(data + b"\r\n")

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                return b""
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line


def b64(data):
    return base64.b64encode(data)


try:
    # POP3
    c = Lines(tls(srv.port("pop3s")))
    c.line()
    c.send(b"USER " + USER.encode() + b"\0x")
    r1 = c.line()
    c.send(b"PASS " + PW.encode())
    r2 = c.line()
    t.ok(r1.startswith(b"-ERR") and r2.startswith(b"-ERR"),
         "POP3 USER with a NUL: refused, and PASS does not log in",
         (r1, r2))
    c.send(b"USER " + USER.encode())
    c.line()
    c.send(b"PASS " + PW.encode() + b"\0junk")
    r = c.line()
    t.ok(r.startswith(b"-ERR"), "POP3 PASS with a NUL after the password: "
         "refused", r)
    c.send(b"AUTH PLAIN " + b64(b"\0" + USER.encode() + b"\0" + PW.encode())
           + b"\0x")
    r = c.line()
    t.ok(r.startswith(b"-ERR"), "POP3 AUTH with a NUL after the initial "
         "response: refused", r)
    c.send(b"AUTH PLAIN")
    c.line()
    c.send(b64(b"\0" + USER.encode() + b"\0" + PW.encode()) + b"\0")
    r = c.line()
    t.ok(r.startswith(b"-ERR"), "POP3 AUTH answer with a NUL: refused", r)
    c.send(b"USER " + USER.encode())
    c.line()
    c.send(b"PASS " + PW.encode())
    r = c.line()
    t.ok(r.startswith(b"+OK"), "the same session logs in without the NUL", r)
    c.send(b"QUIT")

    # IMAP
    c = Lines(tls(srv.port("imaps")))
    c.line()
    u = USER.encode() + b"\0x"
    c.send(b"a LOGIN {%d+}" % len(u))
    c.sock.sendall(u + b" " + PW.encode() + b"\r\n")
    r = c.line()
    t.ok(r.startswith(b"a BAD") or r.startswith(b"a NO"),
         "IMAP LOGIN with a NUL in a literal user name: refused", r)
    c.send(b"b AUTHENTICATE PLAIN")
    c.line()
    c.send(b64(b"\0" + USER.encode() + b"\0" + PW.encode()) + b"\0")
    r = c.line()
    t.ok(r.startswith(b"b BAD"), "IMAP AUTHENTICATE answer with a NUL: BAD",
         r)
    c.send(b"c LOGOUT")

    # SMTP
    s = SMTPRaw(HOST, srv.port("smtp"))
    s.reply()
    s.cmd("EHLO client.test")
    s.send(b"MAIL FROM:<a@remote.test>\0 x\r\n")
    code, text = s.reply()
    t.eq(code, 500, "SMTP command with a NUL: 500")
    code, _ = s.cmd("MAIL FROM:<a@remote.test>")
    t.eq(code, 250, "the session goes on")
    s.cmd("QUIT")
    s = SMTPRaw(HOST, srv.port("submissions"))
    s.sock = client_tls().wrap_socket(s.sock,
                                      server_hostname="mail.example.test")
    s.reply()
    s.cmd("EHLO client.test")
    s.cmd("AUTH PLAIN")
    s.send(b64(b"\0" + USER.encode() + b"\0" + PW.encode()) + b"\0\r\n")
    code, text = s.reply()
    t.eq(code, 501, "SMTP AUTH answer with a NUL: 501")
    s.cmd("QUIT")
finally:
    srv.cleanup()
t.done()
