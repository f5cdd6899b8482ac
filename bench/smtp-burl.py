#!/usr/bin/python3
"""What BURL (RFC 4468, smtpd/burl.c) costs against DATA: one
submission session (STARTTLS, AUTH once) sends BENCH_BURL_ROUNDS (10)
messages of each size by DATA, then the same message stored by IMAP
by "BURL url LAST"; the mean time from MAIL to the 250:

    make programs && MAILD_BINDIR=$PWD/bin bench/smtp-burl.py

Each BURL asks the auth service for a token and has maild hand a
socket pair to a new IMAP post-login process, which opens the store.
Not part of make bench: a figure for the README, not a comparison.
"""
import base64
import os
import re
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "t", "lib"))
from maildtest import IMAPRaw, Server, SMTPRaw, client_tls  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_BURL_ROUNDS", "10"))
JOE, FRED, PW = "joe@example.test", "fred@example.test", "burl-pw"
HOST = "127.0.0.1"

srv = Server(services=("submission", "imap"),
             overrides=["auth.allow_plaintext=yes",
                        "smtpd.max_message_size=20M",
                        "imapd.append_limit=20M"])
srv.setup(users=[(JOE, PW), (FRED, PW)])
srv.start()
try:
    i = IMAPRaw(HOST, srv.port("imap")).login(JOE, PW)
    c = SMTPRaw(HOST, srv.port("submission"), timeout=60)
    c.reply()
    c.cmd("EHLO bench.test")
    c.cmd("STARTTLS")
    c.sock = client_tls().wrap_socket(c.sock,
                                      server_hostname="mail.example.test")
    c.cmd("EHLO bench.test")
    code, _ = c.cmd("AUTH PLAIN " + base64.b64encode(
        ("\0%s\0%s" % (JOE, PW)).encode()).decode())
    assert code == 235, c.log()
    for size in (2000, 1000000):
        msg = (b"From: %s\r\nSubject: bench\r\n\r\n" % JOE.encode() +
               (b"y" * 76 + b"\r\n") * (size // 78))
        un, r = i.cmd(b"APPEND Sent {%d+}\r\n" % len(msg) + msg)
        uid = int(re.search(rb"APPENDUID \d+ (\d+)", r).group(1))
        un, r = i.cmd('GENURLAUTH "imap://%s@example.test/Sent/;uid=%d;'
                      'urlauth=submit+%s" INTERNAL' % ("joe", uid, "joe"))
        url = re.search(rb'"([^"]+)"', un[0]).group(1).decode()
        for how in ("DATA", "BURL"):
            t0 = time.time()
            for k in range(ROUNDS):
                c.cmd("MAIL FROM:<%s>" % JOE)
                c.cmd("RCPT TO:<%s>" % FRED)
                if how == "DATA":
                    c.cmd("DATA")
                    c.send(msg + b".\r\n")
                    code, text = c.reply()
                else:
                    code, text = c.cmd("BURL %s LAST" % url)
                assert code == 250, text
            print("%8d octets %s: %.1f ms a message" % (
                len(msg), how, (time.time() - t0) / ROUNDS * 1000))
    c.cmd("QUIT")
finally:
    srv.stop()
    srv.cleanup()
