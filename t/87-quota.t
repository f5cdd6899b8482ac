#!/usr/bin/python3
# Quotas (issue: QUOTA, RFC 9208) end to end: limits set with mailctl,
# GETQUOTAROOT / GETQUOTA figures that match what was delivered, the
# RFC's examples (GETQUOTAROOT INBOX, GETQUOTA of a root we do not have,
# SETQUOTA refused, STATUS DELETED DELETED-STORAGE), APPEND and COPY over
# the quota answered NO [OVERQUOTA] (MOVE still allowed), usage right
# after other sessions' changes, and local delivery over the quota
# deferred with 4.2.2 (a message whose size SMTP did not know: what it
# can see is full is refused at RCPT, t/87-quota-rcpt.t), then returned
# to its sender with 5.2.2; with the quota removed, the mail goes
# through.
import email
import email.policy
import os
import re
import smtplib
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import IMAPRaw, TAP, Server, wait_until  # noqa: E402

U, PW = "kim@example.test", "kim-pw"
S, SPW = "ann@example.test", "ann-pw"
t = TAP()
srv = Server(services=("smtp", "imap"),
             overrides=["auth.allow_plaintext=yes",
                        "auth.failure_delay_max=0",
                        "imapd.max_errors=1000",
                        "queue.retry_min=1s", "queue.retry_max=1s",
                        "queue.delay_warning=0",
                        "queue.over_quota_lifetime=4s"])
srv.setup(users=[(U, PW), (S, SPW)])


def Imap(user=U, pw=PW):
    return IMAPRaw("127.0.0.1", srv.port("imap")).login(user, pw)


def deliver(to, subject, body, sender="a@remote.test", size=True):
    """size=False: no SIZE= on MAIL FROM, so that only delivery learns
    that the message does not fit (t/87-quota-rcpt.t: SMTP refuses at
    RCPT what it can see will not)."""
    msg = "From: %s\r\nTo: %s\r\nSubject: %s\r\n\r\n%s\r\n" % (
        sender, to, subject, body)
    with smtplib.SMTP("127.0.0.1", srv.port("smtp"), timeout=30) as c:
        c.ehlo()
        if not size:
            c.esmtp_features.pop("size", None)
        c.sendmail(sender, [to], msg.encode())


def append(c, box, msg):
    data = msg.encode()
    return c.cmd(b"APPEND %s {%d+}\r\n" % (box.encode(), len(data)) + data)


def ok(resp):
    return re.match(rb"^t\d+ OK", resp) is not None


def quota_of(un):
    """{resource: (usage, limit)} of the first "* QUOTA" response."""
    for l in un:
        m = re.match(rb'\* QUOTA "" \(([^)]*)\)', l)
        if m:
            w = m.group(1).split()
            return {w[i].decode(): (int(w[i + 1]), int(w[i + 2]))
                    for i in range(0, len(w), 3)}
    return None


def sizes(c, box="INBOX"):
    """[RFC822.SIZE] of every message of box (selected, then closed)."""
    c.cmd("EXAMINE %s" % box)
    un, _ = c.cmd("FETCH 1:* (RFC822.SIZE)")
    c.cmd("CLOSE")
    return [int(m.group(1)) for l in un
            for m in [re.search(rb"RFC822\.SIZE (\d+)", l)] if m]


def usage(c):
    un, r = c.cmd('GETQUOTA ""')
    return quota_of(un)


def mailctl_quota(*args):
    return srv.mailctl("user", "quota", *args)


def inbox_of(user):
    """[email.message] in user's INBOX (new and cur)."""
    return [email.message_from_bytes(b, policy=email.policy.default)
            for _, b in srv.messages(user)]


try:
    # --- mailctl ---
    rc, out, err = mailctl_quota(U)
    t.ok(rc == 0 and out.strip() == U + "  no quota",
         "mailctl user quota ADDRESS: no quota to begin with", out + err)
    rc, out, err = srv.mailctl("user", "list")
    t.eq(out.split(), [S, U], "mailctl user list stays a plain list")
    rc, out, err = mailctl_quota(U, "abc")
    t.ok(rc == 2 and "usage" in err, "a limit that is no number: usage",
         err)
    rc, out, err = mailctl_quota("nobody@example.test", "10")
    t.ok(rc == 1 and "no such user" in err, "an unknown user: refused", err)

    srv.start()

    deliver(U, "small", "x" * 400)
    deliver(U, "big", "y\r\n" * 500)
    srv.wait_messages(U, 2)
    c = Imap()
    un, r = c.cmd("CAPABILITY")
    caps = un[0].split() if un else []
    t.ok(all(w in caps for w in (b"QUOTA", b"QUOTA=RES-STORAGE",
                                 b"QUOTA=RES-MESSAGE")),
         "CAPABILITY: QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE", un)

    # no quota: no quota root
    un, r = c.cmd("GETQUOTAROOT INBOX")
    t.ok(ok(r) and un == [b"* QUOTAROOT INBOX\r\n"],
         "no limit: GETQUOTAROOT INBOX names no root", un + [r])
    un, r = c.cmd('GETQUOTA ""')
    t.ok(r.split()[1] == b"NO" and un == [],
         "no limit: GETQUOTA \"\" is NO", r)

    rc, out, err = mailctl_quota(U, "3", "10")
    t.ok(rc == 0 and "storage 3 KiB" in out and "messages 10" in out,
         "mailctl user quota ADDRESS 3 10: set, and shown", out + err)
    rc, out, err = mailctl_quota("list")
    t.ok(rc == 0 and (S + "  no quota") in out and
         (U + "  storage 3 KiB  messages 10") in out,
         "mailctl user quota list: every user with its limits", out + err)

    # --- the figures match what was delivered (RFC 9208 §5.1, §5.2) ---
    sz = sizes(c)
    un, r = c.cmd("GETQUOTAROOT INBOX")      # RFC 9208 §4.1.2's example
    q = quota_of(un)
    t.ok(ok(r) and un[0] == b'* QUOTAROOT INBOX ""\r\n' and
         q == {"STORAGE": (sum(sz) // 1024, 3), "MESSAGE": (2, 10)},
         "GETQUOTAROOT INBOX: root \"\", STORAGE the delivered RFC822.SIZE "
         "sum in KiB (%d octets), MESSAGE 2" % sum(sz), un + [r])
    un, r = c.cmd('GETQUOTA ""')
    t.eq(quota_of(un), q, 'GETQUOTA "": the same figures')
    un, r = c.cmd("GETQUOTAROOT Archive")
    t.ok(ok(r) and un[0] == b'* QUOTAROOT Archive ""\r\n',
         "every mailbox is under the one root", un)
    un, r = c.cmd("GETQUOTAROOT Nowhere")
    t.ok(b"NO [NONEXISTENT]" in r, "GETQUOTAROOT of no mailbox: NO", r)
    # RFC 9208 §4.1.1's example names a root this server does not have
    un, r = c.cmd('GETQUOTA "!partition/sda4"')
    t.ok(r.split()[1] == b"NO" and un == [],
         "GETQUOTA \"!partition/sda4\" (§4.1.1): no such root, NO", r)
    # §4.1.3's example: users cannot set their quota
    un, r = c.cmd('SETQUOTA "" (STORAGE 510)')
    t.ok(b"NO [NOPERM]" in r, "SETQUOTA \"\" (STORAGE 510): NO [NOPERM]", r)
    un, r = c.cmd('SETQUOTA "" (STORAGE x)')
    t.ok(r.split()[1] == b"BAD", "SETQUOTA with no number: BAD", r)

    # --- STATUS DELETED, DELETED-STORAGE (§4.2.1's example) ---
    c.cmd("SELECT INBOX")
    c.cmd("STORE 2 +FLAGS.SILENT (\\Deleted)")
    un, r = c.cmd("STATUS INBOX (MESSAGES DELETED DELETED-STORAGE)")
    t.ok(ok(r) and un == [b"* STATUS INBOX (MESSAGES 2 DELETED 1 "
                          b"DELETED-STORAGE %d)\r\n" % (sz[1] // 1024)],
         "STATUS INBOX (MESSAGES DELETED DELETED-STORAGE)", un)
    c.cmd("STORE 2 -FLAGS.SILENT (\\Deleted)")

    # --- APPEND over the quota ---
    un, r = append(c, "INBOX", "Subject: too big\r\n\r\n" + "z" * 2000)
    t.ok(b"NO [OVERQUOTA]" in r, "APPEND that would pass STORAGE: NO "
         "[OVERQUOTA] (§4.3.1)", r)
    t.eq(len(sizes(c)), 2, "and nothing was added")
    c.sock.sendall(b"s1 APPEND INBOX {2000}\r\n")
    r = c.f.readline()
    t.ok(r.startswith(b"s1 NO [OVERQUOTA]"), "a synchronizing literal "
         "over the quota is refused before the client sends it", r)
    un, r = append(c, "INBOX", "Subject: fits\r\n\r\nsmall\r\n")
    t.ok(ok(r), "a message that fits is appended", r)
    t.eq(usage(c)["MESSAGE"][0], 3, "MESSAGE usage counts it")
    srv.mailctl("user", "quota", U, "100", "3")
    un, r = append(c, "Archive", "Subject: one more\r\n\r\nsmall\r\n")
    t.ok(b"NO [OVERQUOTA]" in r, "a new limit applies at once: a 4th "
         "message over MESSAGE 3 is refused", r)

    # --- COPY over the quota, all or nothing; MOVE still works ---
    c.cmd("SELECT INBOX")
    un, r = c.cmd("COPY 1:* Archive")
    t.ok(b"NO [OVERQUOTA]" in r, "COPY over the quota: NO [OVERQUOTA]", r)
    un, r = c.cmd("STATUS Archive (MESSAGES)")
    t.ok(b"MESSAGES 0" in un[0], "and Archive got none of them", un)
    un, r = c.cmd("MOVE 3 Archive")
    t.ok(ok(r), "MOVE adds nothing to the usage: allowed at the limit", r)
    t.eq(usage(c)["MESSAGE"], (3, 3), "the usage is the same after it")

    # --- other sessions' changes are counted at once ---
    srv.mailctl("user", "quota", U, "100", "0")
    octets = sum(sizes(c, "INBOX") + sizes(c, "Archive"))
    before = usage(c)["STORAGE"][0]
    c2 = Imap()
    c2.cmd("CREATE Big")
    big = "Subject: big\r\n\r\n" + "w" * 5000
    append(c2, "Big", big)
    t.eq(usage(c)["STORAGE"][0], (octets + len(big)) // 1024,
         "another session's APPEND is in this session's GETQUOTA")
    c2.cmd("DELETE Big")
    t.eq(usage(c)["STORAGE"][0], before, "and its DELETE of the folder "
         "gives the room back")
    c2.cmd("SELECT Archive")
    c2.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")
    c2.cmd("EXPUNGE")
    c2.close()
    q = usage(c)
    t.ok(q == {"STORAGE": (sum(sizes(c)) // 1024, 100)},
         "after another session's EXPUNGE: the INBOX's messages alone "
         "(MESSAGE not shown without a limit)", q)

    # --- delivery over the quota: 4.2.2, then 5.2.2 to the sender ---
    # under the limit by a few octets, so that SMTP accepts at RCPT a
    # message it does not know the size of, which then does not fit
    room = usage(c)["STORAGE"][0] + 1
    srv.mailctl("user", "quota", U, str(room))
    start = time.time()
    deliver(U, "no room", "v\r\n" * 1000, sender=S, size=False)
    deferred = wait_until(lambda: "4.2.2" in srv.mailctl("queue",
                                                         "list")[1], 10)
    t.ok(deferred and len(srv.messages(U)) == 2,
         "a delivery over the quota is deferred with 4.2.2",
         srv.mailctl("queue", "list")[1])
    bounced = wait_until(lambda: len(srv.messages(S)) >= 1, 30)
    dsn = inbox_of(S)[0] if bounced else None
    status = ""
    if dsn is not None:
        for part in dsn.walk():
            if part.get_content_type() == "message/delivery-status":
                status = str(part)
    # (the spool keeps the arrival in whole seconds: the 4 s can end up
    # to a second early by the clock of this test)
    t.ok(dsn is not None and re.search(r"Status: 5\.2\.2", status) and
         "Action: failed" in status and time.time() - start >= 3,
         "after queue.over_quota_lifetime (4s): returned to the sender "
         "with 5.2.2", status or srv.log()[-2000:])
    t.ok(wait_until(lambda: srv.queue_files() == [], 10) and
         len(srv.messages(U)) == 2, "and it is gone from the queue, never "
         "delivered")
    t.ok(re.search(r"to=<%s>.*status=deferred \(4\.2\.2 <%s>: mailbox "
                   r"full" % (re.escape(U), re.escape(U)), srv.log()),
         "the log says why it waited")

    # --- with the quota removed, delivery goes through ---
    deliver(U, "later", "u\r\n" * 1000, sender=S, size=False)
    wait_until(lambda: "4.2.2" in srv.mailctl("queue", "list")[1], 10)
    rc, out, err = mailctl_quota(U, "none")
    t.ok(rc == 0 and "no quota" in out, "mailctl user quota ADDRESS none",
         out + err)
    t.ok(wait_until(lambda: len(srv.messages(U)) == 3, 10),
         "the deferred message is delivered at its next try",
         srv.log()[-2000:])
    un, r = c.cmd("GETQUOTAROOT INBOX")
    t.ok(un == [b"* QUOTAROOT INBOX\r\n"], "and the user has no quota "
         "root again", un)
    c.close()
finally:
    srv.cleanup()
t.done()
