#!/usr/bin/python3
# Time limits a slow client cannot stretch: a busy SMTP session ends
# after smtpd.max_session_time, a message trickling in a byte at a time
# after smtpd.max_data_time (and is not delivered), and an IMAP or POP3
# client that keeps talking without logging in after *.login_timeout.
# Each client stays active all along, so the idle timeout never fires.
import imaplib
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import TAP, Server, SMTPRaw, client_tls  # noqa: E402

LIMIT = 3                       # seconds, each limit
t = TAP()
srv = Server(services=("smtp", "imap", "pop3"),
             overrides=["smtpd.max_session_time=%ds" % (2 * LIMIT),
                        "smtpd.max_data_time=%ds" % LIMIT,
                        "imapd.login_timeout=%ds" % LIMIT,
                        "pop3d.login_timeout=%ds" % LIMIT])
srv.setup(users=[("alice@example.test", "alice-pw")])
srv.start()


def keep_talking(sock, line, until_eof, every=0.3, cap=30):
    """Send line every `every` seconds until the server closes; returns
    (seconds until the close, everything received)."""
    sock.settimeout(every)
    got = b""
    start = time.monotonic()
    while time.monotonic() - start < cap:
        try:
            sock.sendall(line)
        except OSError:
            break
        try:
            chunk = sock.recv(65536)
            if not chunk:
                break
            got += chunk
        except socket.timeout:
            pass
        except OSError:
            break
    return time.monotonic() - start, got


try:
    # --- a busy SMTP session: NOOP after NOOP ---
    c = SMTPRaw("127.0.0.1", srv.port("smtp"))
    c.reply()
    took, got = keep_talking(c.sock, b"NOOP\r\n", True)
    t.ok(b"421 4.4.2" in got and 2 * LIMIT - 1 < took < 2 * LIMIT + 10,
         "a session that keeps sending NOOP ends with 421 4.4.2 after "
         "smtpd.max_session_time (%.1f s)" % took, got[-200:])
    c.close()

    # --- a message a byte at a time ---
    c = SMTPRaw("127.0.0.1", srv.port("smtp"))
    c.reply()
    c.cmd("EHLO slow.test")
    c.cmd("MAIL FROM:<slow@slow.test>")
    c.cmd("RCPT TO:<alice@example.test>")
    code, _ = c.cmd("DATA")
    took, got = keep_talking(c.sock, b"x", True)
    t.ok(code == 354 and b"421 4.4.2" in got and
         LIMIT - 1 < took < LIMIT + 10,
         "a message trickling a byte at a time ends with 421 4.4.2 after "
         "smtpd.max_data_time (%.1f s)" % took, got[-200:])
    c.close()
    time.sleep(1)
    t.eq(len(srv.messages("alice@example.test")), 0,
         "and nothing of it is delivered")
    t.like(srv.log(), "timeout during DATA", "the log says why")

    # --- IMAP and POP3 clients that never log in ---
    for svc, line, bye in (("imap", b"a NOOP\r\n",
                            b"* BYE Too long without logging in"),
                           ("pop3", b"CAPA\r\n",
                            b"-ERR Too long without logging in")):
        s = socket.create_connection(("127.0.0.1", srv.port(svc)), 10)
        s.recv(4096)
        took, got = keep_talking(s, line, True)
        t.ok(bye in got and LIMIT - 1 < took < LIMIT + 10,
             "%s: a client busy but not logged in is sent away after "
             "%sd.login_timeout (%.1f s)" % (svc, svc, took), got[-200:])
        s.close()

    # --- logged in, the login timeout no longer applies ---
    im = imaplib.IMAP4("127.0.0.1", srv.port("imap"), timeout=10)
    im.starttls(ssl_context=client_tls())
    im.login("alice@example.test", "alice-pw")
    start = time.monotonic()
    alive = True
    while alive and time.monotonic() - start < LIMIT + 2:
        time.sleep(0.5)
        try:
            alive = im.noop()[0] == "OK"
        except (imaplib.IMAP4.abort, OSError):
            alive = False
    t.ok(alive, "a logged-in IMAP client is still served %d s after "
         "connecting" % (LIMIT + 2))
    im.logout()
finally:
    srv.cleanup()
t.done()
