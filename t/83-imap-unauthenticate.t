#!/usr/bin/python3
# IMAP UNAUTHENTICATE (RFC 8437) against the real imapd, over raw
# connections: on 993 (TLS, relayed by the login process) a user logs in,
# selects, unauthenticates, and the same connection is back in the
# not-authenticated state (the login capabilities, SELECT refused), then
# logs in as another user and sees only that user's mail, and once more
# back again; each post-login process ended its session.  Where the client's
# socket itself went to the post-login process (no TLS, with
# auth.allow_plaintext) or after COMPRESS, it is not offered and is
# refused with NO [CANNOT].  The log has one line per hand-back.
import os
import smtplib
import socket
import sys
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import IMAPRaw, TAP, Server, client_tls, wait_until  # noqa

U1, PW1 = "ann@example.test", "ann-secret-1"
U2, PW2 = "bob@example.test", "bob-secret-2"

t = TAP()
srv = Server(services=("smtp", "imap", "imaps"),
             overrides=["auth.allow_plaintext=yes"])
srv.setup(users=[(U1, PW1), (U2, PW2)])
srv.start()


def imaps():
    """IMAPRaw over TLS (993)."""
    r = IMAPRaw.__new__(IMAPRaw)
    sock = socket.create_connection(("127.0.0.1", srv.port("imaps")),
                                    timeout=30)
    r.sock = client_tls().wrap_socket(sock,
                                      server_hostname="mail.example.test")
    r.f = r.sock.makefile("rb")
    r.n = 0
    r.greeting = r.f.readline()
    return r


def caps(c):
    u, ok = c.cmd("CAPABILITY")
    return b"".join(u).split() if b" OK" in ok else []


try:
    for who, subject in ((U1, "For Ann only"), (U2, "For Bob only")):
        with smtplib.SMTP("127.0.0.1", srv.port("smtp"), timeout=30) as s:
            s.sendmail("x@example.org", [who], ("Subject: %s\r\n\r\nhi\r\n"
                                                % subject).encode())
    srv.wait_messages(U1, 1, 15)
    srv.wait_messages(U2, 1, 15)

    c = imaps()
    t.ok(b"UNAUTHENTICATE" not in caps(c),
         "before login UNAUTHENTICATE is not advertised")
    c.login(U1, PW1)
    t.ok(b"UNAUTHENTICATE" in caps(c), "after login on 993 it is")
    u, ok = c.cmd("SELECT INBOX")
    t.ok(b" OK" in ok and any(b"1 EXISTS" in x for x in u),
         "ann selects her INBOX", (u, ok))
    u, ok = c.cmd("UNAUTHENTICATE")
    t.ok(b" OK" in ok, "UNAUTHENTICATE: OK", ok)
    cap = caps(c)
    t.ok(b"AUTH=PLAIN" in cap and b"UNAUTHENTICATE" not in cap and
         b"COMPRESS=DEFLATE" not in cap, "the same connection has the "
         "capabilities of the not-authenticated state again (AUTH=, no "
         "COMPRESS)", cap)
    u, ok = c.cmd("SELECT INBOX")
    t.ok(b" BAD" in ok, "SELECT is refused: not authenticated", ok)
    u, ok = c.cmd("LOGIN %s wrong-password" % U2)
    t.ok(b" NO" in ok, "a wrong password is a NO as at any login", ok)
    u, ok = c.cmd("LOGIN %s %s" % (U2, PW2))
    t.ok(b" OK" in ok, "bob logs in on the same connection", ok)
    u, ok = c.cmd("SELECT INBOX")
    u, ok = c.cmd("SEARCH SUBJECT \"only\"")
    u2, ok2 = c.cmd("FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    got = b"".join(u2)
    t.ok(b"For Bob only" in got and b"For Ann only" not in got,
         "and sees his mail, not ann's", got)
    u, ok = c.cmd("UNAUTHENTICATE")
    t.ok(b" OK" in ok, "a second UNAUTHENTICATE", ok)
    c.login(U1, PW1)
    u, ok = c.cmd("STATUS INBOX (MESSAGES)")
    t.ok(b" OK" in ok and any(b"MESSAGES 1" in x for x in u),
         "ann again, a third login on one connection", (u, ok))
    c.close()

    log = srv.log()
    t.ok(log.count("unauthenticated: the client is back at the login") == 2,
         "the login process logged each hand-back",
         [x for x in log.splitlines() if "unauth" in x])
    ended = [x for x in log.splitlines() if " unauthenticated client=" in x]
    t.ok(len(ended) == 2 and "user=%s" % U1 in ended[0] and
         "user=%s" % U2 in ended[1], "and each post-login process ended "
         "its session (ann's, then bob's)", ended)

    # the socket itself went to the post-login process: not offered
    c = IMAPRaw("127.0.0.1", srv.port("imap"))
    c.login(U1, PW1)
    t.ok(b"UNAUTHENTICATE" not in caps(c),
         "plain 143 (the socket handed over): not advertised")
    u, ok = c.cmd("UNAUTHENTICATE")
    t.ok(b" NO [CANNOT]" in ok, "and refused with NO [CANNOT]", ok)
    u, ok = c.cmd("NOOP")
    t.ok(b" OK" in ok, "the session goes on", ok)
    c.close()

    # after COMPRESS the login process could not take the stream over
    c = imaps()
    c.login(U1, PW1)
    u, ok = c.cmd("COMPRESS DEFLATE")
    t.ok(b" OK" in ok, "COMPRESS DEFLATE on 993", ok)
    comp = zlib.compressobj(wbits=-15)
    dec = zlib.decompressobj(wbits=-15)
    c.sock.sendall(comp.compress(b"u1 UNAUTHENTICATE\r\n") +
                   comp.flush(zlib.Z_SYNC_FLUSH))
    out = b""
    while b"u1 " not in out:
        chunk = c.sock.recv(4096)
        if not chunk:
            break
        out += dec.decompress(chunk)
    t.ok(b"u1 NO [CANNOT]" in out, "after COMPRESS: NO [CANNOT]", out)
    c.sock.close()

    t.ok("sandbox: system call" not in srv.log(),
         "no process was killed by its sandbox")
finally:
    srv.cleanup()
t.done()
