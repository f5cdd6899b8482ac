#!/usr/bin/python3
# IMAP NOTIFY (RFC 5465 section 5.2, FlagChange) for flags another
# program changes by renaming a file in a folder's cur/ (mutt: ":2,S" to
# ":2,FS"), not through the store: the session watches the cur/ of every
# folder its filters watch for FlagChange and sends that folder's STATUS
# (HIGHESTMODSEQ, UNSEEN) within a bounded time, between commands and in
# IDLE; nothing for a folder watched without FlagChange; our own STOREs
# give one STATUS (another session's) or none (the session's own), no
# storm; the selected folder's FETCH; a folder left again watched again;
# a file removed from cur/ an expunge; nothing after NOTIFY NONE.
# And RFC 5465 section 5.3, MessageExpunge without FlagChange: a file
# another program removes from (or moves out of) a folder's cur/ gives
# its STATUS, between commands and in IDLE, the selected folder's
# EXPUNGE; a flag rename there and another session's STORE nothing,
# another session's EXPUNGE one STATUS.
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import TAP, Server  # noqa: E402
from rawimap import RawImap  # noqa: E402

U, PW = "flags@example.test", "flags-pw"
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


def status_of(lines, box):
    for x in lines:
        m = re.match(rb"^\* STATUS \"?%s\"? \((.*)\)\r\n$" % box.encode(), x)
        if m:
            return dict(zip(*[iter(m.group(1).split())] * 2))
    return None


def cur_file(folder):
    """The one message file of folder's cur/."""
    d = os.path.join(srv.maildir(U), "." + folder, "cur")
    names = os.listdir(d)
    assert len(names) == 1, names
    return d, names[0]


def cur_files(folder):
    d = os.path.join(srv.maildir(U), "." + folder, "cur")
    return d, sorted(os.listdir(d))


def rename_flags(folder, flags):
    """What mutt does to change a message's flags: rename its file in
    cur/ to the same base with other flag letters."""
    d, name = cur_file(folder)
    base = name.split(":2,")[0]
    os.rename(os.path.join(d, name), os.path.join(d, base + ":2," + flags))


MSG = "From: x@example.org\r\nSubject: s\r\n\r\nbody\r\n"


try:
    srv.start()
    a, b = Client(), Client()
    for box in ("Sub", "Other"):
        un, r = b.cmd("CREATE %s" % box)
        t.ok(ok(r), "CREATE %s" % box, r)
        un, r = b.cmd("APPEND %s (\\Seen) {%d+}\r\n%s" % (box, len(MSG), MSG))
        t.ok(ok(r), "APPEND a \\Seen message to %s" % box, r)
        t.ok(cur_file(box)[1].endswith(":2,S"), "its file ends :2,S")

    for box, n in (("Exp", 4), ("Sel", 2)):
        un, r = b.cmd("CREATE %s" % box)
        for i in range(n):
            un, r = b.cmd("APPEND %s (\\Seen) {%d+}\r\n%s"
                          % (box, len(MSG), MSG))
        t.ok(ok(r) and len(cur_files(box)[1]) == n,
             "%s: %d messages in cur/" % (box, n), r)

    un, r = a.cmd("NOTIFY SET STATUS (mailboxes Sub (MessageNew "
                  "MessageExpunge FlagChange)) (mailboxes Other (MessageNew "
                  "MessageExpunge)) (mailboxes Exp (MessageNew "
                  "MessageExpunge))")
    st0 = status_of(un, "Sub")
    t.ok(ok(r) and st0 is not None and b"HIGHESTMODSEQ" in st0,
         "NOTIFY SET STATUS: Sub's STATUS with HIGHESTMODSEQ", un)

    # ---- §5.2 FlagChange, another program's rename in cur/ ----
    t0 = time.time()
    rename_flags("Sub", "FS")
    got, found = a.until(rb"^\* STATUS")
    st = status_of(got, "Sub")
    t.ok(found and st is not None and
         int(st[b"HIGHESTMODSEQ"]) > int(st0[b"HIGHESTMODSEQ"]) and
         st[b"MESSAGES"] == b"1" and st[b"UNSEEN"] == b"0",
         "a rename in .Sub/cur/ (:2,S to :2,FS): STATUS Sub, HIGHESTMODSEQ "
         "moved, between commands, in %.2f s" % (time.time() - t0), got)
    un, r = b.cmd("EXAMINE Sub")
    un, r = b.cmd("FETCH 1 FLAGS")
    t.ok(any(b"\\Flagged" in x and b"\\Seen" in x for x in un),
         "the index has \\Flagged \\Seen", un)
    b.cmd("UNSELECT")
    got = a.quiet()
    t.eq(got, [], "then nothing more (no storm)")

    rename_flags("Other", "FS")
    got = a.quiet()
    t.eq(got, [], "a rename in a folder watched without FlagChange: "
         "nothing")

    a.send("IDLE")
    got, found = a.until(rb"^\+ ")
    t.ok(found, "IDLE: continuation", got)
    rename_flags("Sub", "F")
    got, found = a.until(rb"^\* STATUS")
    st = status_of(got, "Sub")
    t.ok(found and st is not None and st[b"UNSEEN"] == b"1",
         "in IDLE: \\Seen taken away by a rename, STATUS Sub (UNSEEN 1)",
         got)
    a.sock.sendall(b"DONE\r\n")
    got, found = a.until(rb"^t\d+ OK")
    t.ok(found, "IDLE ends", got)

    # ---- §5.3 MessageExpunge without FlagChange ----
    d, names = cur_files("Exp")
    base = names[0].split(":2,")[0]
    os.rename(os.path.join(d, names[0]), os.path.join(d, base + ":2,FS"))
    got = a.quiet()
    t.eq(got, [], "a rename in Exp, watched for MessageNew and "
         "MessageExpunge (no FlagChange): nothing")
    t0 = time.time()
    os.unlink(os.path.join(d, names[1]))
    got, found = a.until(rb"^\* STATUS")
    st = status_of(got, "Exp")
    t.ok(found and st is not None and st[b"MESSAGES"] == b"3",
         "a file removed from .Exp/cur/ (MessageExpunge, no FlagChange): "
         "STATUS Exp (MESSAGES 3) between commands, in %.2f s"
         % (time.time() - t0), got)
    a.send("IDLE")
    got, found = a.until(rb"^\+ ")
    t0 = time.time()
    os.rename(os.path.join(d, names[2]),
              os.path.join(srv.maildir(U), ".Exp", "tmp", names[2]))
    got, found = a.until(rb"^\* STATUS")
    st = status_of(got, "Exp")
    t.ok(found and st is not None and st[b"MESSAGES"] == b"2",
         "in IDLE: a file moved out of .Exp/cur/: STATUS Exp (MESSAGES 2) "
         "in %.2f s" % (time.time() - t0), got)
    a.sock.sendall(b"DONE\r\n")
    got, found = a.until(rb"^t\d+ OK")
    t.ok(found, "IDLE ends", got)
    un, r = b.cmd("SELECT Exp")
    un, r = b.cmd("STORE 1 +FLAGS (\\Answered)")
    t.ok(ok(r), "another session STOREs in Exp", r)
    got = a.quiet(2.0)
    t.eq(got, [], "no STATUS for it (no FlagChange), nor a storm")
    un, r = b.cmd("STORE 1 +FLAGS (\\Deleted)")
    un, r = b.cmd("EXPUNGE")
    t.ok(ok(r), "another session EXPUNGEs in Exp", r)
    got = a.quiet(2.0)
    sts = [x for x in got if x.startswith(b"* STATUS")]
    t.ok(len(sts) == 1 and status_of(sts, "Exp")[b"MESSAGES"] == b"1",
         "one STATUS Exp (MESSAGES 1), no more", got)
    b.cmd("UNSELECT")

    # ---- our own changes: one STATUS each, no loop ----
    un, r = b.cmd("SELECT Sub")
    un, r = b.cmd("STORE 1 +FLAGS (\\Answered)")
    t.ok(ok(r), "another session STOREs \\Answered in Sub", r)
    got = a.quiet(2.0)
    n = len([x for x in got if x.startswith(b"* STATUS")])
    t.ok(n == 1, "one STATUS for it, no more (%d)" % n, got)
    b.cmd("UNSELECT")
    un, r = a.cmd("SELECT Other")
    un, r = a.cmd("STORE 1 -FLAGS (\\Flagged)")
    t.ok(ok(r) and len(un) == 1 and b"FETCH" in un[0],
         "the session's own STORE: its FETCH only", un)
    got = a.quiet()
    t.eq(got, [], "and nothing after it")
    un, r = a.cmd("UNSELECT")

    # ---- the selected mailbox without FlagChange (§5.3: EXPUNGE) ----
    un, r = a.cmd("NOTIFY SET (selected (MessageNew MessageExpunge)) "
                  "(personal (MessageNew MessageExpunge))")
    t.ok(ok(r), "NOTIFY SET selected, personal without FlagChange", r)
    un, r = a.cmd("SELECT Sel")
    t.ok(ok(r), "SELECT Sel", r)
    d, names = cur_files("Sel")
    t0 = time.time()
    os.unlink(os.path.join(d, names[1]))
    got, found = a.until(rb"EXPUNGE")
    # (which message: file names do not sort as UIDs do)
    t.ok(found and re.match(rb"^\* [12] EXPUNGE\r\n$", got[-1]),
         "selected: a file removed from its cur/ gives EXPUNGE in %.2f s"
         % (time.time() - t0), got)
    un, r = a.cmd("FETCH 1:* UID")
    t.ok(ok(r) and len([x for x in un if b"FETCH" in x]) == 1,
         "one message left in the view", (un, r))
    un, r = a.cmd("UNSELECT")
    t0 = time.time()
    os.unlink(os.path.join(d, names[0]))
    got, found = a.until(rb"^\* STATUS")
    st = status_of(got, "Sel")
    t.ok(found and st is not None and st[b"MESSAGES"] == b"0",
         "left again: personal without FlagChange watches its cur/, STATUS "
         "Sel (MESSAGES 0) in %.2f s" % (time.time() - t0), got)

    # ---- the selected mailbox (§5.2: FETCH) ----
    un, r = a.cmd("NOTIFY SET (selected (MessageNew MessageExpunge "
                  "FlagChange)) (personal (MessageNew MessageExpunge "
                  "FlagChange))")
    t.ok(ok(r), "NOTIFY SET selected, personal with FlagChange", r)
    un, r = a.cmd("SELECT Sub")
    t.ok(ok(r), "SELECT Sub", r)
    rename_flags("Sub", "RS")
    got, found = a.until(rb"FETCH")
    t.ok(found and re.search(rb"\* 1 FETCH \(.*FLAGS \((\\Answered "
                             rb"\\Seen|\\Seen \\Answered)\)", got[-1])
         is not None, "selected: a rename gives FETCH (FLAGS "
         "(\\Answered \\Seen))", got)
    un, r = a.cmd("UNSELECT")
    t0 = time.time()
    rename_flags("Sub", "S")
    got, found = a.until(rb"^\* STATUS")
    t.ok(found and status_of(got, "Sub") is not None,
         "left again: Sub's cur/ watched again, STATUS in %.2f s"
         % (time.time() - t0), got)
    rename_flags("Other", "")
    got, found = a.until(rb"^\* STATUS")
    st = status_of(got, "Other")
    t.ok(found and st is not None and st[b"UNSEEN"] == b"1",
         "personal with FlagChange: Other's cur/ watched too", got)

    # ---- a file removed from cur/: an expunge, seen the same way ----
    d, name = cur_file("Other")
    os.unlink(os.path.join(d, name))
    got, found = a.until(rb"^\* STATUS")
    st = status_of(got, "Other")
    t.ok(found and st is not None and st[b"MESSAGES"] == b"0",
         "a file removed from .Other/cur/: STATUS Other (MESSAGES 0)", got)

    un, r = a.cmd("NOTIFY NONE")
    t.ok(ok(r), "NOTIFY NONE", r)
    rename_flags("Sub", "FS")
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
