#!/usr/bin/python3
# BURL (RFC 4468) on the submission service: a message stored by IMAP
# (APPEND), signed by GENURLAUTH for submit+<user> (RFC 4467), sent by
# raw SMTP over a real connection (STARTTLS, AUTH, MAIL, RCPT, BURL ...
# LAST), arrives byte for byte; BURL in pieces (HEADER, then TEXT); the
# failures of RFC 4468 §6: no recipients yet, a URL that is not IMAP,
# not submit+, submit+ another user, another user's mailbox, a forged
# token, an expired URL, one made before RESETKEY, a message over the
# size limit; DATA while a BURL message is open; RSET drops it.  EHLO
# offers "BURL imap" on submission only, and only where IMAP runs.
import base64
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import (IMAPRaw, TAP, Server, SMTPRaw, client_tls,  # noqa
                       wait_until)

JOE, FRED, PW = "joe@example.com", "fred@example.com", "pw-4468"
HOST = "127.0.0.1"
t = TAP()
srv = Server(services=("smtp", "submission", "imap"),
             overrides=["auth.allow_plaintext=yes",
                        "auth.failure_delay_max=0",
                        "imapd.max_errors=1000", "smtpd.max_errors=1000",
                        "smtpd.max_message_size=16K"])
srv.setup(domains=("example.com",), users=[(JOE, PW), (FRED, PW)])
srv2 = Server(services=("submission",),
              overrides=["auth.allow_plaintext=yes"])
srv2.setup(domains=("example.com",), users=[(JOE, PW)])

MSG = (b"From: Joe <joe@example.com>\r\nTo: fred@example.com\r\n"
       b"Subject: sent by BURL\r\nMessage-ID: <burl-1@example.com>\r\n"
       b"\r\nSi vis pacem, para bellum.\r\n\r\n-- \r\njoe\r\n")
BIG = (b"From: joe@example.com\r\nSubject: big\r\n\r\n" +
       (b"x" * 70 + b"\r\n") * 300)     # 21 KiB > the 16 KiB limit


def lit(data):
    return b"{%d+}\r\n" % len(data) + data


def b64(s):
    return base64.b64encode(s.encode()).decode()


def imap(user=JOE):
    return IMAPRaw(HOST, srv.port("imap")).login(user, PW)


def gen(c, rump):
    un, r = c.cmd('GENURLAUTH "%s" INTERNAL' % rump)
    m = re.match(rb'^\* GENURLAUTH "([^"]+)"\r\n$', un[0]) if un else None
    assert m, (un, r)
    return m.group(1).decode()


def submit(user=JOE, server=None):
    """An SMTP session on 587, STARTTLS, EHLO, AUTH PLAIN: (conn, ehlo)."""
    server = server or srv
    c = SMTPRaw(HOST, server.port("submission"))
    c.reply()
    c.cmd("EHLO client.example.com")
    code, _ = c.cmd("STARTTLS")
    assert code == 220, c.log()
    c.sock = client_tls().wrap_socket(c.sock,
                                      server_hostname="mail.example.test")
    code, ehlo = c.cmd("EHLO client.example.com")
    code, text = c.cmd("AUTH PLAIN " + b64("\0%s\0%s" % (user, PW)))
    assert code == 235, c.log()
    return c, ehlo


def fred_messages():
    """fred's INBOX by IMAP: [BODY[] bytes]."""
    f = imap(FRED)
    un, r = f.cmd("SELECT INBOX")
    n = int(re.search(rb"\* (\d+) EXISTS", b"".join(un)).group(1))
    out = []
    for i in range(1, n + 1):
        un, r = f.cmd("FETCH %d BODY.PEEK[]" % i)
        m = re.search(rb"\{(\d+)\}\r\n", un[0])
        out.append(un[0][m.end():m.end() + int(m.group(1))])
    f.close()
    return out


def without_received(msg):
    """The message after what delivery (Return-Path:, Delivered-To:) and
    submission (one folded Received:) put before it."""
    m = re.match(rb"Return-Path: [^\r]*\r\nDelivered-To: [^\r]*\r\n"
                 rb"Received: [^\r]*\r\n(?:[ \t][^\r]*\r\n)*", msg)
    return msg[m.end():] if m else None


def transaction(c):
    code, _ = c.cmd("MAIL FROM:<joe@example.com>")
    assert code == 250, c.log()
    code, _ = c.cmd("RCPT TO:<fred@example.com>")
    assert code == 250, c.log()


try:
    srv.start()
    srv2.start()

    # ---- EHLO ----
    c = SMTPRaw(HOST, srv.port("smtp"))
    c.reply()
    code, text = c.cmd("EHLO client.example.com")
    t.ok(code == 250 and "BURL" not in text, "port 25: no BURL", text)
    c.close()
    c, ehlo = submit()
    t.ok("250-BURL imap" in ehlo, "587 after STARTTLS: BURL imap", ehlo)
    c.cmd("QUIT")
    c.close()
    c, ehlo = submit(server=srv2)
    t.ok("BURL" not in ehlo,
         "587 of a server without IMAP: no BURL (it could not work)", ehlo)
    c.cmd("QUIT")
    c.close()

    # ---- stored by IMAP, signed for the submission server ----
    i = imap()
    un, r = i.cmd(b"APPEND Sent (\\Seen) " + lit(MSG))
    t.ok(b"APPENDUID" in r, "APPEND to Sent", r)
    un, r = i.cmd(b"APPEND Drafts " + lit(BIG))
    t.ok(b"APPENDUID" in r, "a big message in Drafts", r)
    url = gen(i, "imap://joe@example.com/Sent/;uid=1;urlauth=submit+joe")
    t.ok(re.search(r":INTERNAL:[0-9a-f]{64}$", url) is not None,
         "GENURLAUTH submit+joe", url)

    # ---- BURL url LAST: the message arrives byte for byte ----
    c, _ = submit()
    transaction(c)
    code, text = c.cmd("BURL %s LAST" % url)
    t.ok(code == 250 and text.startswith("250 2.0.0"),
         "BURL url LAST: 250, queued", c.log())
    wait_until(lambda: len(srv.messages(FRED)) >= 1, 10)
    got = fred_messages()
    t.ok(len(got) == 1 and without_received(got[0]) == MSG,
         "fred's message is the stored one, byte for byte, after our "
         "Received:", got)
    t.ok(len(got) == 1 and b"(authenticated as joe@example.com)" in got[0],
         "its Received: names the authenticated user", got[:1])

    # ---- in two pieces: the header, then the text ----
    u_head = gen(i, "imap://joe@example.com/Sent/;uid=1/;section=HEADER;"
                 "urlauth=submit+joe")
    u_text = gen(i, "imap://joe@example.com/Sent/;uid=1/;section=TEXT;"
                 "urlauth=submit+joe")
    transaction(c)
    code, text = c.cmd("BURL " + u_head)
    t.ok(code == 250 and text.startswith("250 2.5.0"),
         "BURL without LAST: 250 2.5.0, waiting for more", text)
    code, text = c.cmd("DATA")
    t.ok(code == 503, "DATA while a BURL message is open: 503", text)
    code, text = c.cmd("BURL %s LAST" % u_text)
    t.ok(code == 250 and text.startswith("250 2.0.0"),
         "BURL text LAST: queued", c.log())
    wait_until(lambda: len(srv.messages(FRED)) >= 2, 10)
    got = fred_messages()
    t.ok(len(got) == 2 and without_received(got[1]) == MSG,
         "HEADER then TEXT make the same message", got[1:])

    # ---- RSET drops a BURL message under way ----
    transaction(c)
    code, text = c.cmd("BURL " + u_head)
    code, text = c.cmd("RSET")
    t.ok(code == 250, "RSET after BURL without LAST", text)
    code, text = c.cmd("BURL %s LAST" % url)
    t.ok(code == 503, "then BURL: 503, no transaction", text)

    # ---- RFC 4468 §6 failures ----
    code, _ = c.cmd("MAIL FROM:<joe@example.com>")
    code, text = c.cmd("BURL %s LAST" % url)
    t.ok(code == 554 and "5.5.0" in text,
         "BURL before any RCPT: 554 5.5.0", text)
    c.cmd("RSET")

    def refused(burl_url, want, name):
        transaction(c)
        code, text = c.cmd("BURL %s LAST" % burl_url)
        t.ok(text.startswith(want), name, (burl_url, text))
        code2, text2 = c.cmd("BURL %s LAST" % url)
        t.ok(code2 == 503, "  and the transaction is over", text2)

    refused("http://example.com/x", "554 5.7.0", "not an IMAP URL: 554 5.7.0")
    refused("imap://joe@example.com/Sent/;uid=1", "554 5.7.8",
            "no URLAUTH: 554 5.7.8")
    u_user = gen(i, "imap://joe@example.com/Sent/;uid=1;urlauth=user+joe")
    refused(u_user, "554 5.7.8", "user+joe, not submit+: 554 5.7.8")
    u_sfred = gen(i, "imap://joe@example.com/Sent/;uid=1;"
                  "urlauth=submit+fred")
    refused(u_sfred, "554 5.7.8",
            "submit+fred, joe authenticated: 554 5.7.8")
    f = imap(FRED)
    f.cmd(b"APPEND INBOX " + lit(b"Subject: fred's own\r\n\r\nmine\r\n"))
    u_fredbox = gen(f, "imap://fred@example.com/INBOX/;uid=1;"
                    "urlauth=submit+joe")
    f.close()
    refused(u_fredbox, "554 5.6.6",
            "fred's mailbox, signed by fred for submit+joe: 554 5.6.6 "
            "(joe's session reaches joe's store only)")
    tok = url[-64:]
    refused(url[:-64] + ("0" if tok[0] != "0" else "1") + tok[1:],
            "554 5.6.6", "a forged token: 554 5.6.6")
    past = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 5))
    u_exp = gen(i, "imap://joe@example.com/Sent/;uid=1;expire=%s;"
                "urlauth=submit+joe" % past)
    refused(u_exp, "554 5.6.6", "expired: 554 5.6.6")
    u_big = gen(i, "imap://joe@example.com/Drafts/;uid=1;urlauth=submit+joe")
    refused(u_big, "554 5.3.4",
            "over smtpd.max_message_size: 554 5.3.4")
    un, r = i.cmd("RESETKEY Sent")
    t.ok(b"OK" in r, "RESETKEY Sent", r)
    refused(url, "554 5.6.6", "a URL made before RESETKEY: 554 5.6.6")
    i.close()
    c.cmd("QUIT")
    c.close()
    time.sleep(1)
    t.eq(len(fred_messages()), 3,
         "none of the refused messages arrived (two sent, fred's own)")
    log = srv.log()
    t.ok("sandbox" not in log or "denied" not in log,
         "no sandbox denial in the log",
         [ln for ln in log.splitlines() if "denied" in ln][:3])
finally:
    srv.stop()
    srv.cleanup()
    srv2.stop()
    srv2.cleanup()
t.done()
