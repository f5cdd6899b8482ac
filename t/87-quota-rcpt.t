#!/usr/bin/python3
# Quotas at SMTP RCPT time (issue 14; RFC 3463 4.2.2 "mailbox full",
# RFC 5321's 452): a mailbox over its STORAGE or MESSAGES limit is
# refused with 452 4.2.2 while another recipient of the same transaction
# is accepted and gets the message; accepted again at once when the
# limit goes (mailctl) and within two seconds of an EXPUNGE that makes
# room; MAIL FROM's SIZE= (RFC 1870) that would not fit refused, one
# that fits accepted; submission (587) to a local user the same; a user
# without a quota never refused; and with the usage unknown (the queue's
# usage process stopped) accepted, then refused again once it is back.
import os
import re
import signal
import smtplib
import sys
import time
import base64

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import (IMAPRaw, TAP, Server, SMTPRaw, client_tls,  # noqa
                       wait_until)

U, PW = "kim@example.test", "kim-pw"
S, SPW = "ann@example.test", "ann-pw"
HOST = "127.0.0.1"
t = TAP()
srv = Server(services=("smtp", "submission", "imap"),
             overrides=["auth.allow_plaintext=yes",
                        "auth.failure_delay_max=0",
                        "smtpd.max_errors=1000"])
srv.setup(users=[(U, PW), (S, SPW)])
BODY = "x" * 1000


def deliver(to, subject):
    msg = "From: a@remote.test\r\nTo: %s\r\nSubject: %s\r\n\r\n%s\r\n" % (
        to, subject, BODY)
    with smtplib.SMTP(HOST, srv.port("smtp"), timeout=30) as c:
        c.sendmail("a@remote.test", [to], msg.encode())


def session(port="smtp", mail="MAIL FROM:<a@remote.test>"):
    c = SMTPRaw(HOST, srv.port(port))
    c.reply()
    c.cmd("EHLO client.example.org")
    code, _ = c.cmd(mail)
    assert code == 250, c.log()
    return c


def rcpt(to, mail="MAIL FROM:<a@remote.test>"):
    """A new session's reply to RCPT TO:<to>: (code, text)."""
    c = session(mail=mail)
    r = c.cmd("RCPT TO:<%s>" % to)
    c.cmd("QUIT")
    c.close()
    return r


def quota(*args):
    rc, out, err = srv.mailctl("user", "quota", U, *args)
    assert rc == 0, err


def usage_pid():
    pids = re.findall(r"queued\[(\d+)\]: usage: answering the auth service",
                      srv.log())
    return int(pids[-1]) if pids else None


def full(r):
    return r[0] == 452 and r[1].startswith("452 4.2.2 ")


srv.start()
try:
    # --- no quota: nothing changes ---
    deliver(U, "one")
    deliver(U, "two")
    t.ok(srv.wait_messages(U, 2), "two messages delivered without a quota")
    t.eq(rcpt(U)[0], 250, "no quota: RCPT accepted")

    # --- over STORAGE: 452 4.2.2 for it, the others accepted ---
    quota("1")
    c = session()
    r1 = c.cmd("RCPT TO:<%s>" % U)
    r2 = c.cmd("RCPT TO:<%s>" % S)
    t.ok(full(r1), "over the quota: RCPT answered 452 4.2.2", c.log())
    t.eq(r2[0], 250, "another recipient of the same transaction: 250")
    t.eq(c.cmd("DATA")[0], 354, "DATA for the one accepted")
    c.send("Subject: to both\r\n\r\nhello\r\n.\r\n")
    t.eq(c.reply()[0], 250, "the message is accepted")
    c.cmd("QUIT")
    t.ok(srv.wait_messages(S, 1) and len(srv.messages(U)) == 2,
         "delivered to the other recipient only")
    t.ok(re.search(r"rcpt to=<%s> rejected: mailbox full: user=%s "
                   r"storage=2/1 KiB messages=2/0" % (re.escape(U),
                                                       re.escape(U)),
                   srv.log()),
         "the log names the user, its usage and its limit")
    t.eq(rcpt(S)[0], 250, "a user without a quota: accepted")

    # --- the limit removed: accepted at once ---
    quota("none")
    t.eq(rcpt(U)[0], 250, "mailctl user quota ADDRESS none: accepted at "
         "once (a new session)")

    # --- room made by EXPUNGE: accepted within two seconds ---
    quota("1")
    t.ok(full(rcpt(U)), "over the quota again: 452 4.2.2")
    im = IMAPRaw(HOST, srv.port("imap")).login(U, PW)
    im.cmd("SELECT INBOX")
    im.cmd("STORE 1:* +FLAGS.SILENT (\\Deleted)")
    _, r = im.cmd("EXPUNGE")
    start = time.time()
    ok = wait_until(lambda: rcpt(U)[0] == 250, 5, 0.1)
    took = time.time() - start
    t.ok(ok and took <= 2.5, "after an EXPUNGE in IMAP: accepted again "
         "within two seconds (%.2fs)" % took, r)

    # --- MESSAGES ---
    quota("100000", "2")
    deliver(U, "three")
    deliver(U, "four")
    t.ok(srv.wait_messages(U, 2), "two messages in the mailbox again")
    time.sleep(1.1)             # past what authd keeps for a second
    t.ok(full(rcpt(U)), "at the MESSAGES limit: 452 4.2.2")
    quota("100000", "3")
    t.eq(rcpt(U)[0], 250, "one message of room: accepted")

    # --- SIZE= (RFC 1870) ---
    quota("100")
    t.ok(full(rcpt(U, "MAIL FROM:<a@remote.test> SIZE=200000")),
         "MAIL FROM SIZE= over what is left: 452 4.2.2 at RCPT")
    t.eq(rcpt(U, "MAIL FROM:<a@remote.test> SIZE=50000")[0], 250,
         "SIZE= that fits: accepted")
    t.eq(rcpt(U)[0], 250, "no SIZE=: accepted (delivery decides)")

    # --- submission (587) to a local user: the same rule ---
    quota("1")
    c = SMTPRaw(HOST, srv.port("submission"))
    c.reply()
    c.cmd("EHLO client.example.org")
    c.cmd("STARTTLS")
    c.sock = client_tls().wrap_socket(c.sock,
                                      server_hostname="mail.example.test")
    c.cmd("EHLO client.example.org")
    auth = base64.b64encode(("\0%s\0%s" % (S, SPW)).encode()).decode()
    t.eq(c.cmd("AUTH PLAIN " + auth)[0], 235, "submission: logged in")
    c.cmd("MAIL FROM:<%s>" % S)
    t.ok(full(c.cmd("RCPT TO:<%s>" % U)), "submission to a full local "
         "mailbox: 452 4.2.2", c.log())
    t.eq(c.cmd("RCPT TO:<someone@remote.test>")[0], 250,
         "and a remote recipient of the same transaction: 250")
    c.cmd("QUIT")

    # --- usage unknown: accepted, delivery decides ---
    pid = usage_pid()
    t.ok(pid is not None, "the queue's usage process is there", srv.log())
    time.sleep(1.1)
    os.kill(pid, signal.SIGSTOP)
    try:
        r = rcpt(U)
        t.eq(r[0], 250, "the usage process not answering: accepted")
        t.ok("usage process did not answer in time" in srv.log(),
             "and the log says why")
        t.eq(rcpt(S)[0], 250, "a user without a quota: accepted")
    finally:
        os.kill(pid, signal.SIGCONT)
    t.ok(wait_until(lambda: full(rcpt(U)), 10, 0.2),
         "once it is back: 452 4.2.2 again", srv.log()[-2000:])
finally:
    srv.cleanup()
t.done()
