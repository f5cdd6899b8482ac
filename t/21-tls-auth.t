#!/usr/bin/python3
# TLS and authenticated submission: STARTTLS on 25 and 587 (RFC 3207),
# implicit TLS on 465 (RFC 8314), AUTH PLAIN and LOGIN through Cyrus SASL
# (RFC 4954), and what a client can and cannot do with and without them.
import base64
import os
import re
import smtplib
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import (TAP, Server, SMTPRaw, client_tls, test_ca,  # noqa
                       wait_until)

t = TAP()
HOST = "127.0.0.1"
srv = Server(services=("smtp", "submission", "submissions"),
             overrides=["auth.failure_delay_max=2s", "auth.max_failures=3"])
srv.setup(domains=["example.test"],
          users=[("alice@example.test", "alice-pw"),
                 ("bob@example.test", "bob-pw")],
          aliases=[("sales@example.test", "alice@example.test")])
srv.start()
P25, P587, P465 = (srv.port("smtp"), srv.port("submission"),
                   srv.port("submissions"))


def b64(s):
    return base64.b64encode(s.encode()).decode()


def tls_raw(port):
    """SMTPRaw whose socket is switched to TLS after STARTTLS."""
    c = SMTPRaw(HOST, port)
    c.reply()
    c.cmd("EHLO client.test")
    code, _ = c.cmd("STARTTLS")
    assert code == 220, c.log()
    c.sock = client_tls().wrap_socket(c.sock, server_hostname="mail.example.test")
    return c


try:
    # --- port 25 ---
    c = SMTPRaw(HOST, P25)
    c.reply()
    code, text = c.cmd("EHLO client.test")
    t.ok("STARTTLS" in text and "AUTH" not in text, "port 25: STARTTLS "
         "offered, AUTH not", text)
    c.cmd("QUIT")

    with smtplib.SMTP(HOST, P25, timeout=10) as s:
        s.ehlo()
        s.starttls(context=client_tls())
        t.ok(s.sock.version() in ("TLSv1.2", "TLSv1.3"),
             "port 25 STARTTLS: handshake verified against the test CA (%s)"
             % s.sock.version())
        code, text = s.ehlo()
        t.ok(b"STARTTLS" not in text and b"AUTH" not in text,
             "after STARTTLS: no STARTTLS again, still no AUTH on 25", text)
        code, text = s.docmd("MAIL FROM:<x@remote.test>")
        code, text = s.docmd("RCPT TO:<someone@elsewhere.test>")
        t.ok(code == 554 and b"5.7.1" in text, "relay from port 25 over TLS "
             "without AUTH: still refused", text)

    p = subprocess.run(["openssl", "s_client", "-starttls", "smtp",
                        "-connect", "%s:%d" % (HOST, P25), "-CAfile",
                        test_ca()["ca"], "-verify_hostname",
                        "mail.example.test", "-verify_return_error",
                        "-quiet", "-crlf"],
                       input="EHLO openssl.test\nQUIT\n", text=True,
                       capture_output=True, timeout=30)
    t.ok(p.returncode == 0 and "250-mail.example.test" in p.stdout and
         "221 2.0.0" in p.stdout, "openssl s_client -starttls smtp: "
         "verified handshake, EHLO, QUIT", p.stdout + p.stderr)
    t.ok("unexpected eof" not in p.stderr, "the server ends TLS with "
         "close_notify", p.stderr)

    # STARTTLS command injection (CVE-2011-0411): pipelined plaintext
    # after STARTTLS must be discarded, never executed.
    c = SMTPRaw(HOST, P25)
    c.reply()
    c.cmd("EHLO client.test")
    c.send("STARTTLS\r\nRSET\r\nHELP\r\n")
    code, _ = c.reply()
    c.sock = client_tls().wrap_socket(c.sock,
                                      server_hostname="mail.example.test")
    code2, text2 = c.cmd("NOOP")
    t.ok(code == 220 and code2 == 250 and "214" not in text2,
         "STARTTLS injection: RSET and HELP sent before the handshake are "
         "not executed", c.log())
    t.ok(wait_until(lambda: "octets pipelined after STARTTLS" in srv.log(),
                    5), "the discarded plaintext is logged")
    code, text = c.cmd("MAIL FROM:<x@remote.test>")
    t.eq(code, 503, "after STARTTLS a new EHLO is required (state reset)")
    t.eq(c.cmd("STARTTLS")[0], 503, "STARTTLS inside TLS: refused")
    c.cmd("QUIT")
    c = SMTPRaw(HOST, P25)
    c.reply()
    c.cmd("EHLO client.test")
    t.eq(c.cmd("STARTTLS now")[0], 501, "STARTTLS with an argument: 501")
    c.cmd("QUIT")

    # --- port 587 before TLS ---
    c = SMTPRaw(HOST, P587)
    c.reply()
    code, text = c.cmd("EHLO client.test")
    t.ok("STARTTLS" in text and "AUTH" not in text, "587 in the clear: "
         "STARTTLS offered, AUTH not", text)
    code, text = c.cmd("AUTH PLAIN " + b64("\0alice@example.test\0alice-pw"))
    t.ok(code == 538 and "5.7.11" in text, "AUTH before TLS: 538 5.7.11", text)
    code, text = c.cmd("MAIL FROM:<alice@example.test>")
    t.ok(code == 530 and "5.7.0" in text, "MAIL before AUTH on 587: 530 5.7.0",
         text)
    c.cmd("QUIT")

    # --- 587 with TLS ---
    c = tls_raw(P587)
    code, text = c.cmd("EHLO client.test")
    t.ok("AUTH PLAIN LOGIN" in text and "STARTTLS" not in text,
         "587 over TLS: AUTH PLAIN LOGIN offered", text)
    code, text = c.cmd("MAIL FROM:<alice@example.test>")
    t.eq(code, 530, "MAIL before AUTH over TLS: 530")
    code, text = c.cmd("AUTH PLAIN " + b64("\0alice@example.test\0alice-pw"))
    t.ok(code == 235 and "2.7.0" in text, "AUTH PLAIN with initial response: "
         "235 2.7.0", text)
    t.eq(c.cmd("AUTH PLAIN")[0], 503, "AUTH twice: 503")
    code, text = c.cmd("MAIL FROM:<bob@example.test>")
    t.ok(code == 553 and "5.7.1" in text, "sending as another user: 553 5.7.1",
         text)
    t.eq(c.cmd("MAIL FROM:<sales@example.test>")[0], 250, "sending as an "
         "alias of the user: 250")
    c.cmd("RSET")
    t.eq(c.cmd("MAIL FROM:<alice+news@example.test>")[0], 250,
         "sending as user+tag: 250")
    c.cmd("RSET")
    t.eq(c.cmd("MAIL FROM:<Alice@Example.test>")[0], 250, "own address in "
         "another case: 250")
    t.eq(c.cmd("RCPT TO:<friend@remote.test>")[0], 250,
         "authenticated: a remote recipient is accepted")
    t.eq(c.cmd("RCPT TO:<nobody@example.test>")[0], 550,
         "authenticated: an unknown local user is still 550")
    c.cmd("DATA")
    c.send("Subject: to a friend\r\n\r\nhello\r\n.\r\n")
    code, text = c.reply()
    t.eq(code, 250, "message to a remote recipient queued")
    c.cmd("QUIT")
    rc, out, err = srv.mailctl("queue", "list")
    t.ok(re.search(r"to <friend@remote\.test>: pending", out) and
         "from <Alice@example.test>" in out, "mailctl queue list shows the "
         "remote recipient waiting", out)

    # the three exchanges of RFC 4954 and Cyrus's mechanisms
    c = tls_raw(P587)
    c.cmd("EHLO client.test")
    code, text = c.cmd("AUTH PLAIN")
    t.eq(code, 334, "AUTH PLAIN without initial response: 334")
    code, text = c.cmd(b64("\0bob@example.test\0bob-pw"))
    t.eq(code, 235, "... then the credentials: 235")
    c.cmd("QUIT")
    c = tls_raw(P587)
    c.cmd("EHLO client.test")
    code, text = c.cmd("AUTH LOGIN")
    t.ok(code == 334 and base64.b64decode(text[4:]).lower().startswith(b"user"),
         "AUTH LOGIN asks for the user name", text)
    code, text = c.cmd(b64("bob@example.test"))
    t.ok(code == 334 and base64.b64decode(text[4:]).lower().startswith(b"pass"),
         "then for the password", text)
    t.eq(c.cmd(b64("bob-pw"))[0], 235, "AUTH LOGIN: 235")
    c.cmd("QUIT")

    c = tls_raw(P587)
    c.cmd("EHLO client.test")
    t.eq(c.cmd("AUTH CRAM-MD5")[0], 504, "a mechanism we do not offer: 504")
    code, _ = c.cmd("AUTH PLAIN")
    code, text = c.cmd("*")
    t.eq(code, 501, "'*' cancels the exchange: 501")
    code, text = c.cmd("AUTH PLAIN !!!notbase64")
    t.ok(code == 501 and "5.5.2" in text, "bad base64: 501 5.5.2", text)
    t.eq(c.cmd("AUTH PLAIN " + b64("\0alice@example.test\0wrong"))[0], 535,
         "wrong password: 535")
    code, text = c.cmd("AUTH PLAIN " + b64("\0nobody@example.test\0x"))
    t.ok(code == 535 and "5.7.8" in text, "unknown user: 535 5.7.8 (the same "
         "answer)", text)
    t.eq(c.cmd("AUTH PLAIN " + b64("\0alice@example.test\0x"))[0], 535,
         "third failure: 535 ...")
    t.ok(c.reply()[0] == 421 and c.closed(), "... then 421 and disconnect "
         "(auth.max_failures=3)", c.log())
    delays = re.findall(r"auth mech=PLAIN user=\S+ result=failed "
                        r"delay=(\d+)s",
                        srv.log())
    t.eq(delays[-3:], ["1", "2", "2"], "failures answered after a growing "
         "delay per client address (1s, 2s, capped at 2s here)")
    c = tls_raw(P587)
    c.cmd("EHLO client.test")
    code, text = c.cmd("AUTH PLAIN " + b64("alice@example.test\0bob@example.test"
                                           "\0bob-pw"))
    t.eq(code, 535, "bob may not authorize as alice (authzid)")
    c.cmd("QUIT")
    t.ok("alice-pw" not in srv.log() and "bob-pw" not in srv.log(),
         "no password in the log")

    # --- 465: implicit TLS; the Received header shows TLS and the user ---
    with smtplib.SMTP_SSL(HOST, P465, timeout=10,
                          context=client_tls()) as s:
        t.ok(s.sock.version() in ("TLSv1.2", "TLSv1.3"),
             "465: TLS from the first byte (%s)" % s.sock.version())
        code, text = s.ehlo()
        t.ok(b"AUTH PLAIN LOGIN" in text and b"STARTTLS" not in text,
             "465: AUTH offered, no STARTTLS", text)
        s.login("bob@example.test", "bob-pw")
        s.sendmail("bob@example.test", ["alice@example.test"],
                   b"Subject: over 465\r\n\r\nimplicit TLS\r\n")
    m = srv.wait_messages("alice@example.test", 1)
    got = [d for _, d in m if b"over 465" in d]
    t.ok(got and re.search(rb"with ESMTPSA \(TLSv1\.[23] with cipher \S+ "
                           rb"\(\d+/\d+ bits\)\)", got[0]) and
         b"(authenticated as bob@example.test)" in got[0],
         "Received: shows ESMTPSA, TLS version and cipher, and the user",
         got[0][:600] if got else m)
    t.ok(got and b"bob-pw" not in got[0], "and not the password")
    c = SMTPRaw(HOST, P465)
    c.sock.settimeout(10)
    c.send("EHLO plaintext.test\r\n")
    t.ok(c.closed(10) and b"250" not in c.buf, "465 spoken in plaintext: "
         "the handshake fails, nothing is served", c.buf)

    # --- swaks and openssl through 587 ---
    p = subprocess.run(["swaks", "--server", "%s:%d" % (HOST, P587), "--tls",
                        "--tls-ca-path", test_ca()["ca"],
                        "--auth", "LOGIN", "--auth-user", "alice@example.test",
                        "--auth-password", "alice-pw", "--from",
                        "alice@example.test", "--to", "bob@example.test",
                        "--header", "Subject: via swaks"],
                       capture_output=True, text=True, timeout=30)
    t.ok(p.returncode == 0 and "235 2.7.0" in p.stdout and "250 2.0.0 Ok: "
         "queued" in p.stdout, "swaks --tls --auth LOGIN on 587", p.stdout[-2000:])
    m = srv.wait_messages("bob@example.test", 1)
    t.ok(any(b"via swaks" in d and b"authenticated as alice@example.test" in d
             for _, d in m), "authenticated message arrives for bob")
    p = subprocess.run(["openssl", "s_client", "-connect",
                        "%s:%d" % (HOST, P465), "-CAfile", test_ca()["ca"],
                        "-verify_return_error", "-quiet", "-crlf"],
                       input="EHLO o.test\nAUTH PLAIN %s\nQUIT\n"
                       % b64("\0alice@example.test\0alice-pw"), text=True,
                       capture_output=True, timeout=30)
    t.ok("235 2.7.0" in p.stdout, "openssl s_client on 465: AUTH PLAIN",
         p.stdout + p.stderr)
finally:
    srv.cleanup()

# --- the development switch: AUTH without TLS only when configured ---
srv = Server(services=("submission",), overrides=["auth.allow_plaintext=yes"])
srv.setup(users=[("dev@example.test", "dev-pw")])
srv.start()
try:
    with smtplib.SMTP(HOST, srv.port("submission"), timeout=10) as s:
        code, text = s.ehlo()
        t.ok(b"AUTH PLAIN LOGIN" in text, "auth.allow_plaintext=yes: AUTH "
             "offered in the clear", text)
        s.login("dev@example.test", "dev-pw")
        s.sendmail("dev@example.test", ["dev@example.test"],
                   b"Subject: plain\r\n\r\nx\r\n")
    m = srv.wait_messages("dev@example.test", 1)
    t.ok(m and b"with ESMTPA\n" in m[0][1], "Received: says ESMTPA (no TLS)",
         m[0][1][:400] if m else "")
finally:
    srv.cleanup()
t.done()
