#!/usr/bin/python3
# One kind of client cannot lock out another: while 500 idle connections
# sit on port 25 (from 50 addresses, so the per-address limit is not what
# stops them), port 25 serves up to its own limit and refuses the rest,
# and a new client on submission and on IMAP is still served at once.
import imaplib
import os
import selectors
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import TAP, Server, SMTPRaw, client_tls  # noqa: E402

FLOOD = 500
ADDRESSES = 50
LIMIT = 100                     # smtpd.max_sessions, default

t = TAP()
srv = Server(services=("smtp", "submission", "imap"))
srv.setup(users=[("alice@example.test", "alice-pw")])
srv.start()
flood = []
try:
    sel = selectors.DefaultSelector()

    def connect(n):
        """n connections to port 25 from ADDRESSES addresses, silent."""
        for i in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.1.0.%d" % (1 + i % ADDRESSES), 0))
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", srv.port("smtp")))
            flood.append(s)
            sel.register(s, selectors.EVENT_READ, [b""])

    def first_lines(n):
        """Read until n of the flood have had their first line."""
        got = {"220": 0, "421": 0, "other": 0}
        deadline = time.monotonic() + 120
        while n > 0 and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=1):
                try:
                    chunk = key.fileobj.recv(4096)
                except OSError:
                    chunk = b""
                key.data[0] += chunk
                if b"\r\n" in key.data[0] or not chunk:
                    sel.unregister(key.fileobj)
                    n -= 1
                    code = key.data[0][:3].decode("ascii", "replace")
                    got[code if code in got else "other"] += 1
        return got

    # --- the flood: 500 connections that never send a byte ---
    connect(FLOOD)
    got = first_lines(FLOOD)
    t.eq(got["220"], LIMIT, "port 25 serves %d idle clients, its own limit"
         % LIMIT)
    t.eq(got["421"], FLOOD - LIMIT, "and tells the other %d it is busy"
         % (FLOOD - LIMIT))
    t.like(srv.log(), "refused: too many sessions (max_sessions)",
           "the refusals are logged")

    # --- the flood goes on; meanwhile, the users of the other ports ---
    connect(FLOOD - LIMIT)
    start = time.monotonic()
    c = SMTPRaw("127.0.0.1", srv.port("submission"), timeout=10)
    code, text = c.reply()
    took = time.monotonic() - start
    t.ok(code == 220, "submission greets a new client during the flood "
         "(%.2f s)" % took, text)
    code, text = c.cmd("EHLO client.test")
    t.ok(code == 250 and "STARTTLS" in text, "and answers its EHLO", text)
    c.cmd("STARTTLS")
    c.sock = client_tls().wrap_socket(c.sock,
                                      server_hostname="mail.example.test")
    c.cmd("EHLO client.test")
    code, _ = c.cmd("AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABhbGljZS1wdw==")
    t.eq(code, 235, "a user logs in on submission during the flood")
    c.cmd("QUIT")
    c.close()

    start = time.monotonic()
    im = imaplib.IMAP4("127.0.0.1", srv.port("imap"), timeout=10)
    im.starttls(ssl_context=client_tls())
    typ, _ = im.login("alice@example.test", "alice-pw")
    typ2, data = im.select("INBOX")
    took = time.monotonic() - start
    t.ok(typ == "OK" and typ2 == "OK", "IMAP serves a login and SELECT "
         "during the flood (%.2f s)" % took, data)
    im.logout()

    got = first_lines(FLOOD - LIMIT)
    t.eq(got["421"], FLOOD - LIMIT, "the flood's next wave is refused as "
         "well, the %d idle sessions still held" % LIMIT)
finally:
    for s in flood:
        s.close()
    srv.cleanup()
t.done()
