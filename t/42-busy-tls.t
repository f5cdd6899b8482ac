#!/usr/bin/python3
# Over the session limit (each port has its own), a client is told so in
# the protocol it speaks:
# on the implicit-TLS ports (465, 993, 995) the refusal comes inside TLS,
# so a client reports the reason, not "wrong version number"; on the
# others in clear, as before.
import os
import socket
import ssl
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import TAP, Server, client_tls  # noqa: E402

t = TAP()
HOST = "127.0.0.1"
srv = Server(services=("smtp", "submissions", "pop3", "pop3s", "imap",
                       "imaps"),
             overrides=["smtpd.max_sessions=1", "pop3d.max_sessions=1",
                        "imapd.max_sessions=1"])
srv.setup()
srv.start()


def first_line(sock):
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n")[0]


def tls_connect(port):
    s = socket.create_connection((HOST, port), timeout=10)
    return client_tls().wrap_socket(s, server_hostname="mail.example.test")


held = []
try:
    for tls_svc, plain_svc, refusal in (
            ("submissions", "smtp", b"421 4.7.0 Too many connections"),
            ("pop3s", "pop3", b"-ERR [SYS/TEMP] Too many connections"),
            ("imaps", "imap", b"* BYE [UNAVAILABLE] Too many connections")):
        h = tls_connect(srv.port(tls_svc))       # takes the one slot
        first_line(h)
        held.append(h)
        try:
            c = tls_connect(srv.port(tls_svc))
            line = first_line(c)
            c.close()
            err = None
        except (ssl.SSLError, OSError) as e:
            line, err = b"", e
        t.ok(line.startswith(refusal), "%s over the limit: the refusal "
             "comes inside TLS" % tls_svc, "%r %r" % (line, err))
        # each port has its own limit: take the plain one's too
        h2 = socket.create_connection((HOST, srv.port(plain_svc)),
                                      timeout=10)
        first_line(h2)
        held.append(h2)
        c = socket.create_connection((HOST, srv.port(plain_svc)), timeout=10)
        line = first_line(c)
        c.close()
        t.ok(line.startswith(refusal), "%s over the limit: refused in clear"
             % plain_svc, line)
        for h in held:
            h.close()
        held.clear()
finally:
    for h in held:
        h.close()
    srv.cleanup()
t.done()
