#!/usr/bin/python3
# smtpd on port 25 (RFC 5321), driven by Python's smtplib, raw sockets and
# swaks; every check looks at replies and at what landed in the Maildir.
import os
import re
import smtplib
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import TAP, Server, SMTPRaw, wait_until  # noqa: E402

t = TAP()
srv = Server(overrides=["smtpd.max_message_size=64k",
                        "smtpd.max_recipients=5",
                        "smtpd.max_errors=8"])
srv.setup(domains=["example.test", "other.test"],
          users=[("alice@example.test", "pw-a"), ("bob@example.test", "pw-b"),
                 ("carol@example.test", "pw-c"), ("dave@other.test", "pw-d"),
                 ("copy@example.test", "pw-copy")],
          aliases=[("team@example.test", "alice@example.test"),
                   ("team@example.test", "bob@example.test"),
                   ("@other.test", "dave@other.test"),
                   ("copy@example.test", "copy@example.test"),
                   ("copy@example.test", "carol@example.test"),
                   ("postmaster@example.test", "alice@example.test")])
srv.start()
HOST, PORT = "127.0.0.1", srv.port()


def count(addr):
    return len(srv.messages(addr))


def send(sender, rcpts, data):
    with smtplib.SMTP(HOST, PORT, timeout=10) as s:
        return s.sendmail(sender, rcpts, data)


try:
    # --- greeting and EHLO ---
    c = SMTPRaw(HOST, PORT)
    code, text = c.reply()
    t.ok(code == 220 and "mail.example.test" in text, "220 greeting names "
         "the host", c.log())
    code, text = c.cmd("EHLO client.example")
    for ext in ("PIPELINING", "SIZE 65536", "8BITMIME", "ENHANCEDSTATUSCODES"):
        t.like(text, ext, "EHLO advertises " + ext)
    t.ok("AUTH" not in text, "no AUTH on port 25 by default", text)
    t.eq(c.cmd("VRFY alice")[0], 252, "VRFY: 252, never enumerates")
    t.eq(c.cmd("EXPN team")[0], 502, "EXPN: 502 not implemented")
    t.eq(c.cmd("HELP")[0], 214, "HELP: 214")
    t.eq(c.cmd("NOOP")[0], 250, "NOOP: 250")
    t.eq(c.cmd("RSET")[0], 250, "RSET: 250")
    code, text = c.cmd("QUIT")
    t.ok(code == 221 and c.closed(), "QUIT: 221 and close", c.log())

    # --- one recipient ---
    msg = (b"From: x@remote.test\r\nTo: alice@example.test\r\n"
           b"Subject: one\r\n\r\nHello Alice.\r\nSecond line.\r\n")
    send("x@remote.test", ["alice@example.test"], msg)
    m = srv.wait_messages("alice@example.test", 1)
    t.eq(len(m), 1, "single recipient: one message in alice's Maildir")
    name, data = m[0]
    t.ok(data.startswith(b"Return-Path: <x@remote.test>\nDelivered-To: "
                         b"alice@example.test\nReceived: from "),
         "Return-Path, Delivered-To, Received on top", data[:200])
    t.like(data, b"by mail.example.test (maild) with ESMTP", "Received: by")
    t.like(data, b"for <alice@example.test>;", "Received: for the recipient")
    t.ok(data.endswith(b"\nFrom: x@remote.test\nTo: alice@example.test\n"
                       b"Subject: one\n\nHello Alice.\nSecond line.\n"),
         "message stored exactly (LF line ends)", data)
    t.ok(re.match(r"^\d+\.M\d{6}Q[0-9a-f]{18}R0\.mail\.example\.test,"
                  r"S=%d,W=\d+$" % len(data), name), "Maildir name: time "
         "(seconds, microseconds), queue id, recipient, host, size", name)
    qfiles_left = wait_until(lambda: srv.queue_files() == [], 5)
    t.ok(qfiles_left, "queue file removed after delivery", srv.queue_files())

    # --- several recipients, aliases, catch-all, duplicates ---
    send("x@remote.test", ["bob@example.test", "carol@example.test"],
         b"Subject: two\r\n\r\nfor bob and carol\r\n")
    t.eq((len(srv.wait_messages("bob@example.test", 1)),
          len(srv.wait_messages("carol@example.test", 1))), (1, 1),
         "two recipients: one copy each")

    before = {a: count(a) for a in ("alice@example.test", "bob@example.test")}
    send("x@remote.test", ["team@example.test", "alice@example.test"],
         b"Subject: team\r\n\r\nteam mail\r\n")
    srv.wait_messages("bob@example.test", before["bob@example.test"] + 1)
    time.sleep(0.3)
    t.eq((count("alice@example.test") - before["alice@example.test"],
          count("bob@example.test") - before["bob@example.test"]), (1, 1),
         "alias to two users, plus one of them directly: one copy each")

    send("x@remote.test", ["anyone@other.test"], b"Subject: c\r\n\r\nx\r\n")
    m = srv.wait_messages("dave@other.test", 1)
    t.ok(len(m) == 1 and b"Delivered-To: dave@other.test" in m[0][1],
         "catch-all @other.test delivers to dave", m)

    send("x@remote.test", ["copy@example.test"], b"Subject: k\r\n\r\nx\r\n")
    srv.wait_messages("copy@example.test", 1)
    t.eq((len(srv.wait_messages("copy@example.test", 1)),
          len(srv.wait_messages("carol@example.test", 2))), (1, 2),
         "alias to itself and another keeps a copy")

    n = count("alice@example.test")
    send("x@remote.test", ["alice+lists@example.test"], b"Subject: p\r\n\r\np\r\n")
    t.eq(len(srv.wait_messages("alice@example.test", n + 1)), n + 1,
         "user+tag delivers to user")

    n = count("alice@example.test")
    send("x@remote.test", ["ALICE@Example.TEST"], b"Subject: u\r\n\r\nu\r\n")
    t.eq(len(srv.wait_messages("alice@example.test", n + 1)), n + 1,
         "address case does not matter for local users")

    n = count("alice@example.test")
    c = SMTPRaw(HOST, PORT)
    c.reply()
    c.cmd("HELO client")
    c.cmd("MAIL FROM:<>")
    code, _ = c.cmd("RCPT TO:<Postmaster>")
    t.eq(code, 250, "RCPT TO:<Postmaster> without domain accepted (RFC 5321 4.5.1)")
    c.cmd("DATA")
    c.send("Subject: bounce\r\n\r\nnull sender\r\n.\r\n")
    t.eq(c.reply()[0], 250, "null sender <> accepted")
    c.cmd("QUIT")
    m = srv.wait_messages("alice@example.test", n + 1)
    t.ok(any(d.startswith(b"Return-Path: <>\n") for _, d in m),
         "postmaster mail arrives via alias with Return-Path: <>")

    # --- refusals ---
    c = SMTPRaw(HOST, PORT)
    c.reply()
    c.cmd("EHLO client")
    c.cmd("MAIL FROM:<x@remote.test>")
    code, text = c.cmd("RCPT TO:<nobody@example.test>")
    t.ok(code == 550 and "5.1.1" in text, "unknown local user: 550 5.1.1", text)
    code, text = c.cmd("RCPT TO:<someone@gmail.test>")
    t.ok(code == 554 and "5.7.1" in text and "Relay access denied" in text,
         "relay attempt: 554 5.7.1", text)
    code, text = c.cmd("RCPT TO:<root@[127.0.0.1]>")
    t.ok(code == 554 and "5.7.1" in text, "address literal: relay denied", text)
    code, text = c.cmd("DATA")
    t.ok(code == 554 and "no valid recipients" in text,
         "DATA without valid recipients: 554", text)
    c.cmd("QUIT")

    # --- sequence and syntax ---
    c = SMTPRaw(HOST, PORT)
    c.reply()
    t.eq(c.cmd("MAIL FROM:<a@b.test>")[0], 503, "MAIL before HELO: 503")
    c.cmd("EHLO client")
    t.eq(c.cmd("RCPT TO:<alice@example.test>")[0], 503, "RCPT before MAIL: 503")
    t.eq(c.cmd("DATA")[0], 503, "DATA before MAIL: 503")
    c.cmd("QUIT")
    c = SMTPRaw(HOST, PORT)     # a fresh error count (max_errors=8 here)
    c.reply()
    c.cmd("EHLO client")
    t.eq(c.cmd("MAIL FROM:<a@b.test")[0], 501, "MAIL with broken path: 501")
    t.eq(c.cmd("MAIL FROM:<a@b.test> FOO=BAR")[0], 555, "unknown parameter: 555")
    t.eq(c.cmd("MAIL FROM:<a@b.test> SIZE=10 SIZE=10")[0], 555, "repeated SIZE: 555")
    t.eq(c.cmd("MAIL FROM:<a@b.test>")[0], 250, "MAIL: 250")
    t.eq(c.cmd("MAIL FROM:<a@b.test>")[0], 503, "nested MAIL: 503")
    t.eq(c.cmd("RCPT TO:<>")[0], 501, "RCPT TO:<>: 501")
    c.cmd("RCPT TO:<bob@example.test>")
    t.eq(c.cmd("DATA now")[0], 501, "DATA with an argument: 501")
    c.cmd("QUIT")

    c = SMTPRaw(HOST, PORT)
    c.reply()
    codes = [c.cmd("BOGUS %d" % i)[0] for i in range(8)]
    code, text = c.reply()
    t.ok(codes == [500] * 8 and code == 421 and c.closed(),
         "the 8th error (max_errors=8): its 500, then 421 and disconnect",
         c.log())

    c = SMTPRaw(HOST, PORT)
    c.reply()
    code, _ = c.cmd("GET / HTTP/1.1")
    t.ok(code == 421 and c.closed(), "an HTTP request gets 421 and is "
         "disconnected", c.log())

    # --- recipients limit ---
    c = SMTPRaw(HOST, PORT)
    c.reply()
    c.cmd("EHLO client")
    c.cmd("MAIL FROM:<x@remote.test>")
    codes = [c.cmd("RCPT TO:<alice@example.test>")[0] for _ in range(5)]
    code, text = c.cmd("RCPT TO:<bob@example.test>")
    t.ok(codes == [250] * 5 and code == 452 and "4.5.3" in text,
         "recipient 6 of max 5: 452 4.5.3", c.log())
    c.cmd("QUIT")

    # --- pipelining (RFC 2920): one packet, replies in order ---
    n_a, n_b = count("alice@example.test"), count("bob@example.test")
    c = SMTPRaw(HOST, PORT)
    c.reply()
    c.cmd("EHLO client")
    c.send("MAIL FROM:<x@remote.test>\r\nRCPT TO:<alice@example.test>\r\n"
           "RCPT TO:<nobody@example.test>\r\nRCPT TO:<bob@example.test>\r\n"
           "DATA\r\n")
    codes = [c.reply()[0] for _ in range(5)]
    t.eq(codes, [250, 250, 550, 250, 354], "pipelined MAIL/RCPT/RCPT/RCPT/DATA "
         "replies in order")
    c.send("Subject: piped\r\n\r\npipelined\r\n.\r\nMAIL FROM:<y@remote.test>\r\n"
           "RCPT TO:<bob@example.test>\r\nDATA\r\n")
    codes = [c.reply()[0] for _ in range(4)]
    t.eq(codes, [250, 250, 250, 354], "end of data pipelined with the next "
         "transaction")
    c.send("Subject: piped 2\r\n\r\nsecond\r\n.\r\nQUIT\r\n")
    t.eq([c.reply()[0] for _ in range(2)], [250, 221], "second message and QUIT")
    srv.wait_messages("bob@example.test", n_b + 2)
    t.eq((count("alice@example.test") - n_a, count("bob@example.test") - n_b),
         (1, 2), "pipelined messages delivered")

    # --- dot-stuffing round trip ---
    n = count("carol@example.test")
    body = ("Subject: dots\r\n\r\n.leading dot\r\n..two dots\r\n.\r\n"
            "middle . dot\r\n...\r\nend\r\n")
    send("x@remote.test", ["carol@example.test"], body.encode())
    m = srv.wait_messages("carol@example.test", n + 1)
    got = [d for _, d in m if b"Subject: dots" in d]
    t.ok(got and got[0].endswith(b"\n\n.leading dot\n..two dots\n.\nmiddle . "
                                 b"dot\n...\nend\n"),
         "dot-stuffing round trip: content exactly as the client meant it",
         got)

    # --- 8-bit body ---
    n = count("carol@example.test")
    eight = "Subject: 8bit\r\n\r\nGrüße aus Köln – ½ € ✓\r\n\xa0".encode("utf-8")
    eight += b"\xff\xfe raw octets\r\n"
    with smtplib.SMTP(HOST, PORT, timeout=10) as s:
        s.ehlo()
        s.sendmail("x@remote.test", ["carol@example.test"], eight,
                   mail_options=["BODY=8BITMIME"])
    m = srv.wait_messages("carol@example.test", n + 1)
    got = [d for _, d in m if b"Subject: 8bit" in d]
    t.ok(got and got[0].endswith(eight.split(b"\r\n\r\n", 1)[1]
                                 .replace(b"\r\n", b"\n")),
         "8-bit body stored byte for byte", got)

    # --- size limit (64k here) ---
    c = SMTPRaw(HOST, PORT)
    c.reply()
    c.cmd("EHLO client")
    code, text = c.cmd("MAIL FROM:<x@remote.test> SIZE=100000")
    t.ok(code == 552 and "5.3.4" in text, "declared SIZE over the limit: 552 "
         "5.3.4 at MAIL", text)
    c.cmd("MAIL FROM:<x@remote.test>")
    c.cmd("RCPT TO:<bob@example.test>")
    c.cmd("DATA")
    n = count("bob@example.test")
    big = "Subject: big\r\n\r\n" + ("x" * 998 + "\r\n") * 70
    c.send(big + ".\r\n")
    code, text = c.reply()
    t.ok(code == 552 and "5.3.4" in text, "70 KB message: 552 5.3.4 after "
         "DATA", text)
    t.eq(c.cmd("NOOP")[0], 250, "session still usable after 552")
    c.cmd("QUIT")
    time.sleep(0.3)
    t.eq(count("bob@example.test"), n, "oversized message not delivered")

    # --- over-long lines (RFC 5321 4.5.3.1) ---
    c = SMTPRaw(HOST, PORT)
    c.reply()
    code, text = c.cmd("EHLO " + "a" * 3000)
    t.ok(code == 500 and "too long" in text, "3000-octet command line: 500",
         text)
    t.eq(c.cmd("EHLO client")[0], 250, "session resynchronises after it")
    c.cmd("MAIL FROM:<x@remote.test>")
    c.cmd("RCPT TO:<bob@example.test>")
    c.cmd("DATA")
    c.send("Subject: long\r\n\r\n" + "y" * 5000 + "\r\nshort\r\n.\r\n")
    code, text = c.reply()
    t.ok(code == 554 and "5.6.0" in text, "5000-octet text line: 554 5.6.0",
         text)
    t.eq(c.cmd("RSET")[0], 250, "session still usable")
    c.cmd("QUIT")
    time.sleep(0.3)
    t.eq(count("bob@example.test"), n, "message with an over-long line not "
         "delivered")

    # --- SMTP smuggling: only CRLF.CRLF ends DATA ---
    for variant, eod in (("bare LF", "\n.\n"), ("LF.CRLF", "\n.\r\n"),
                         ("CR.CR", "\r.\r"), ("CRLF.LF", "\r\n.\n")):
        na, nb = count("alice@example.test"), count("bob@example.test")
        c = SMTPRaw(HOST, PORT)
        c.reply()
        c.cmd("EHLO client")
        c.cmd("MAIL FROM:<x@remote.test>")
        c.cmd("RCPT TO:<alice@example.test>")
        c.cmd("DATA")
        c.send("Subject: smuggle " + variant + "\r\n\r\nfirst" + eod +
               "MAIL FROM:<admin@example.test>\r\nRCPT TO:<bob@example.test>"
               "\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n.\r\n")
        code, text = c.reply()
        t.eq(code, 250, "smuggling (%s): one message accepted" % variant)
        code2, _ = c.cmd("QUIT")
        m = srv.wait_messages("alice@example.test", na + 1)
        time.sleep(0.3)
        mine = [d for _, d in m if ("smuggle " + variant).encode() in d]
        t.ok(code2 == 221 and count("bob@example.test") == nb and mine and
             b"evil" in mine[0] and b"RCPT TO:<bob@example.test>" in mine[0],
             "smuggling (%s): the smuggled commands are content, bob gets "
             "nothing" % variant, c.log() + "\n" + repr(mine))

    # --- loops: too many Received: headers ---
    hops = "".join("Received: from hop%d by hop%d; Mon, 1 Jan 2024 00:00:00 "
                   "+0000\r\n" % (i, i + 1) for i in range(60))
    try:
        send("x@remote.test", ["bob@example.test"],
             (hops + "Subject: loop\r\n\r\nx\r\n").encode())
        t.ok(False, "mail loop refused")
    except smtplib.SMTPDataError as e:
        t.ok(e.smtp_code == 554 and b"5.4.6" in e.smtp_error,
             "60 Received: headers: 554 5.4.6", e)

    # --- swaks ---
    n = count("carol@example.test")
    p = subprocess.run(["swaks", "--server", "%s:%d" % (HOST, PORT),
                        "--from", "swaks@remote.test", "--to",
                        "carol@example.test", "--header", "Subject: swaks",
                        "--body", "sent with swaks", "--pipeline"],
                       capture_output=True, text=True, timeout=30)
    t.ok(p.returncode == 0 and "250 2.0.0 Ok: queued as" in p.stdout,
         "swaks with PIPELINING: queued", p.stdout + p.stderr)
    m = srv.wait_messages("carol@example.test", n + 1)
    t.ok(any(b"sent with swaks" in d for _, d in m), "swaks message arrives")

    # --- the log lets an administrator follow a message ---
    qid = re.search(r"queued as ([0-9a-f]{18})", p.stdout).group(1)
    sid = re.search(r"sid=(\w+) qid=%s queued" % qid, srv.log())
    # the session's last line comes once it has seen swaks close
    wait_until(lambda: sid and "sid=%s disconnect" % sid.group(1)
               in srv.log(), 5)
    log = srv.log()
    t.ok(sid is not None, "log: session line names the queue id")
    if sid:
        lines = [l for l in log.splitlines() if "sid=" + sid.group(1) in l]
        text = "\n".join(lines)
        for what in ("connect client=[127.0.0.1]", "helo=", "mail from=<swaks"
                     "@remote.test>", "rcpt to=<carol@example.test> accepted",
                     "disconnect"):
            t.like(text, what, "log: session shows " + what)
    t.ok(wait_until(lambda: re.search(r"qid=%s to=<carol@example.test> "
                                      r".*status=sent" % qid, srv.log()), 5),
         "log: delivery line with the same queue id")

    # --- names in a Maildir sort in arrival order within a second ---
    # A session keeps the spool file for its next message from its last
    # commit, so that file's queue id can be older than another
    # session's message that arrived in between: "late" (on the first
    # connection, after "middle" on a second one) has the older id.
    def one(c, subject):
        c.cmd("MAIL FROM:<x@remote.test>")
        c.cmd("RCPT TO:<carol@example.test>")
        c.cmd("DATA")
        return c.cmd("Subject: %s\r\n\r\nx\r\n." % subject)[0]

    before = len(srv.messages("carol@example.test"))
    a, b = SMTPRaw(HOST, PORT), SMTPRaw(HOST, PORT)
    for c in (a, b):
        c.reply()
        c.cmd("EHLO client.example")
    while time.time() % 1 > 0.05:     # all three within one second
        time.sleep(0.01)
    codes = [one(a, "order early")]
    time.sleep(0.25)
    codes.append(one(b, "order middle"))
    time.sleep(0.25)
    codes.append(one(a, "order late"))
    for c in (a, b):
        c.cmd("QUIT")
    got = srv.wait_messages("carol@example.test", before + 3, 10)
    order = [re.search(rb"Subject: order (\w+)", d).group(1).decode()
             for _, d in got if b"Subject: order " in d]
    t.ok(codes == [250, 250, 250] and order == ["early", "middle", "late"],
         "three messages in one second, the last one's spool file older "
         "than the second's: their names sort as they arrived", (codes,
         [n for n, d in got if b"Subject: order " in d]))

    # --- a session remembers its last recipient for a second only ---
    c = SMTPRaw(HOST, PORT)
    c.reply()
    c.cmd("EHLO client.example")
    c.cmd("MAIL FROM:<x@remote.test>")
    first = c.cmd("RCPT TO:<bob@example.test>")[0]
    c.cmd("RSET")
    srv.mailctl("user", "del", "bob@example.test")
    time.sleep(1.2)
    c.cmd("MAIL FROM:<x@remote.test>")
    code, text = c.cmd("RCPT TO:<bob@example.test>")
    t.ok(first == 250 and code == 550, "a user deleted: the same session "
         "refuses him a second later (the last answer is not kept longer)",
         c.log())
    c.cmd("QUIT")
finally:
    srv.cleanup()

# --- timeouts and session limits (a second server) ---
srv = Server(overrides=["smtpd.timeout=2s", "smtpd.max_sessions_per_ip=2",
                        "smtpd.max_sessions=3"])
srv.setup()
srv.start()
try:
    c = SMTPRaw("127.0.0.1", srv.port())
    c.reply()
    c.sock.settimeout(10)
    code, text = c.reply()
    t.ok(code == 421 and "4.4.2" in text and c.closed(),
         "idle client: 421 4.4.2 after the timeout, then closed", c.log())
    time.sleep(0.5)     # its process exits just after closing the socket

    a = SMTPRaw("127.0.0.1", srv.port())
    b = SMTPRaw("127.0.0.1", srv.port())
    t.eq((a.reply()[0], b.reply()[0]), (220, 220), "two sessions from one address")
    c = SMTPRaw("127.0.0.1", srv.port())
    code, text = c.reply()
    t.ok(code == 421 and "your address" in text and c.closed(),
         "third from the same address: 421", c.log())
    a.cmd("QUIT")
    b.cmd("QUIT")
    a.close()
    b.close()
    time.sleep(0.5)
    c = SMTPRaw("127.0.0.1", srv.port())
    t.eq(c.reply()[0], 220, "after they leave, a new session is accepted")
    c.cmd("QUIT")
finally:
    srv.cleanup()
t.done()
