#!/usr/bin/python3
# IMAP NOTIFY (RFC 5465 section 5.1) for messages that another program
# (procmail, a sieve filter) drops straight into a folder's new/, not
# through the store: the session watches the new/ of every folder its
# filters watch for MessageNew, and sends that folder's STATUS within a
# bounded time, between commands and in IDLE; nothing for a folder no
# filter names; a folder made after NOTIFY is watched too; a folder
# selected and then left is watched again.
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import TAP, Server  # noqa: E402
from rawimap import RawImap  # noqa: E402

U, PW = "drop@example.test", "drop-pw"
HOST = "127.0.0.1"
WAIT = 5.0		# seconds a STATUS may take
t = TAP()
srv = Server(services=("imap",),
             overrides=["auth.allow_plaintext=yes",
                        "auth.failure_delay_max=0"])
srv.setup(users=[(U, PW)])


def Client():
    return RawImap(srv.port("imap"), U, PW, wait=WAIT, quiet_for=1.5)


def ok(r):
    return re.match(rb"^t\d+ OK", r) is not None


seq = [0]


def drop(folder, subject):
    """Write a message as procmail does: into tmp/, then renamed into
    new/ of Maildir/.folder (the store never hears of it)."""
    seq[0] += 1
    base = os.path.join(srv.maildir(U), "." + folder)
    name = "%d.M%dP%d.dropper" % (int(time.time()), seq[0], os.getpid())
    tmp = os.path.join(base, "tmp", name)
    with open(tmp, "wb") as f:
        f.write(("From: proc@example.org\r\nTo: %s\r\nSubject: %s\r\n\r\n"
                 "dropped\r\n" % (U, subject)).encode())
    os.rename(tmp, os.path.join(base, "new", name))


def status_of(lines, box):
    for x in lines:
        m = re.match(rb"^\* STATUS \"?%s\"? \((.*)\)\r\n$" % box.encode(), x)
        if m:
            return dict(zip(*[iter(m.group(1).split())] * 2))
    return None


try:
    srv.start()
    a, b = Client(), Client()
    for box in ("Sub", "Other"):
        un, r = b.cmd("CREATE %s" % box)
        t.ok(ok(r), "CREATE %s" % box, r)

    un, r = a.cmd("NOTIFY SET STATUS (mailboxes Sub (MessageNew "
                  "MessageExpunge))")
    st = status_of(un, "Sub")
    t.ok(ok(r) and st is not None and st[b"MESSAGES"] == b"0",
         "NOTIFY SET STATUS: Sub's STATUS before the OK", un)

    t0 = time.time()
    drop("Sub", "one")
    got, found = a.until(rb"^\* STATUS")
    st = status_of(got, "Sub")
    t.ok(found and st is not None and st[b"MESSAGES"] == b"1" and
         st[b"UIDNEXT"] == b"2",
         "a file dropped into .Sub/new/: STATUS Sub (MESSAGES 1) between "
         "commands, in %.2f s" % (time.time() - t0), got)

    drop("Other", "elsewhere")
    got = a.quiet()
    t.eq(got, [], "a file dropped into a folder no filter names: nothing")

    a.send("IDLE")
    got, found = a.until(rb"^\+ ")
    t.ok(found, "IDLE: continuation", got)
    drop("Sub", "two")
    got, found = a.until(rb"^\* STATUS")
    st = status_of(got, "Sub")
    t.ok(found and st is not None and st[b"MESSAGES"] == b"2",
         "in IDLE: STATUS Sub (MESSAGES 2)", got)
    a.sock.sendall(b"DONE\r\n")
    got, found = a.until(rb"^t\d+ OK")
    t.ok(found, "IDLE ends", got)

    # personal: every folder, one made after NOTIFY too
    un, r = a.cmd("NOTIFY SET (selected (MessageNew MessageExpunge)) "
                  "(personal (MessageNew MessageExpunge MailboxName))")
    t.ok(ok(r), "NOTIFY SET selected, personal", r)
    b.cmd("CREATE Later")
    got, found = a.until(rb"^\* LIST .*Later")
    t.ok(found, "CREATE Later by another session: LIST", got)
    drop("Later", "later")
    got, found = a.until(rb"^\* STATUS")
    st = status_of(got, "Later")
    t.ok(found and st is not None and st[b"MESSAGES"] == b"1",
         "a folder made after NOTIFY: its new/ watched too", got)
    drop("Other", "other")
    got, found = a.until(rb"^\* STATUS")
    st = status_of(got, "Other")
    t.ok(found and st is not None and st[b"MESSAGES"] == b"2",
         "personal: Other's new/ watched (its earlier file counted too)",
         got)

    # selected: EXISTS; left again: STATUS
    un, r = a.cmd("SELECT Sub")
    t.ok(ok(r) and b"* 2 EXISTS\r\n" in un, "SELECT Sub: 2", un)
    drop("Sub", "three")
    got, found = a.until(rb"EXISTS")
    t.ok(found and got[-1] == b"* 3 EXISTS\r\n",
         "the selected folder: EXISTS", got)
    un, r = a.cmd("UNSELECT")
    t.ok(ok(r), "UNSELECT", r)
    drop("Sub", "four")
    got, found = a.until(rb"^\* STATUS")
    st = status_of(got, "Sub")
    t.ok(found and st is not None and st[b"MESSAGES"] == b"4",
         "left again: Sub's new/ watched again, STATUS (MESSAGES 4)", got)

    un, r = a.cmd("NOTIFY NONE")
    t.ok(ok(r), "NOTIFY NONE", r)
    drop("Sub", "five")
    got = a.quiet()
    t.eq(got, [], "after NOTIFY NONE: nothing")
    un, r = a.cmd("LOGOUT")
    t.ok(ok(r), "LOGOUT", r)
except Exception as e:  # noqa: BLE001
    import traceback
    t.ok(False, "unexpected exception: %s" % e, traceback.format_exc() +
         "\n" + srv.log())
finally:
    srv.stop()
    srv.cleanup()
t.done()
