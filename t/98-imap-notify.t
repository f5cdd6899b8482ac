#!/usr/bin/python3
# IMAP NOTIFY (RFC 5465) with two real connections: one sets NOTIFY,
# the other (and an SMTP delivery) appends, stores, expunges, creates,
# renames, subscribes and annotates; the first must see the RFC's
# responses while it idles and between its commands.  Cases from the
# RFC: §3.1's example (STATUS before the OK, MessageNew's FETCH), §5's
# rules on event lists (BAD), §3.1's BADEVENT, §5.4's OLDNAME, §5.5's
# \Subscribed, §5.6/§5.7's METADATA, §6.1.2's delayed expunges, §5.8's
# overflow.
import os
import re
import smtplib
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import TAP, Server  # noqa: E402
from rawimap import RawImap  # noqa: E402

U, PW = "note@example.test", "note-pw"
HOST = "127.0.0.1"
t = TAP()
srv = Server(services=("smtp", "imap"),
             overrides=["auth.allow_plaintext=yes",
                        "auth.failure_delay_max=0",
                        "imapd.max_errors=1000"])
srv.setup(users=[(U, PW)])


def Client():
    return RawImap(srv.port("imap"), U, PW)


def ok(r):
    return re.match(rb"^t\d+ OK", r) is not None


def msg(subject, to=U):
    return ("From: alice@example.org\r\nTo: %s\r\nSubject: %s\r\n\r\n"
            "hello\r\n" % (to, subject)).encode()


def append(c, mailbox, subject):
    data = msg(subject)
    un, r = c.cmd('APPEND "%s" {%d+}\r\n%s' % (mailbox, len(data),
                                                  data.decode()))
    assert ok(r), r
    return int(re.search(rb"APPENDUID \d+ (\d+)", r).group(1))


def deliver(subject):
    with smtplib.SMTP(HOST, srv.port("smtp"), timeout=10) as s:
        s.sendmail("bob@remote.test", [U], msg(subject))


def expunge_first(c, mailbox):
    c.cmd('SELECT "%s"' % mailbox)
    c.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")
    un, r = c.cmd("EXPUNGE")
    assert ok(r), r
    c.cmd("UNSELECT")


def has(lines, pattern):
    return any(re.search(pattern, x) for x in lines)


try:
    srv.start()
    a, b = Client(), Client()
    un, r = a.cmd("CAPABILITY")
    t.ok(b" NOTIFY" in b"".join(un), "CAPABILITY has NOTIFY", un)

    # ---- syntax: BAD (§5, §6.1, §8) ----
    for text, why in [
            ("NOTIFY", "no arguments"),
            ("NOTIFY SET", "SET without event groups"),
            ("NOTIFY SET STATUS", "STATUS without event groups"),
            ("NOTIFY BOGUS", "neither SET nor NONE"),
            ("NOTIFY SET (selected (MessageNew))",
             "§5: MessageNew without MessageExpunge"),
            ("NOTIFY SET (personal (MessageExpunge))",
             "§5: MessageExpunge without MessageNew"),
            ("NOTIFY SET (selected (FlagChange))",
             "§5: FlagChange without MessageNew and MessageExpunge"),
            ("NOTIFY SET (selected (MessageNew MessageExpunge)) "
             "(selected-delayed (MessageNew MessageExpunge))",
             "§6.1: selected and selected-delayed together"),
            ("NOTIFY SET (selected (MailboxName))",
             "§6.1: a mailbox event for the selected mailbox"),
            ("NOTIFY SET (personal (MessageNew (UID) MessageExpunge))",
             "fetch attributes for another filter than selected"),
            ("NOTIFY SET (selected (MessageNew (BOGUS) MessageExpunge))",
             "a fetch attribute FETCH does not know"),
            ("NOTIFY SET (everything (MessageNew MessageExpunge))",
             "an unknown filter"),
            ("NOTIFY SET (subtree (MessageNew MessageExpunge))",
             "subtree without its mailboxes"),
            ("NOTIFY SET (personal ())", "an empty event list"),
            ("NOTIFY SET (personal MessageNew)", "events not in a list"),
            ("NOTIFY SET personal", "a group not in parentheses")]:
        un, r = a.cmd(text)
        t.ok(re.match(rb"^t\d+ BAD", r), "BAD: %s" % why, r)

    # ---- unsupported events: NO [BADEVENT (supported)] (§3.1) ----
    supported = (b"(MessageNew MessageExpunge FlagChange MailboxName "
                 b"SubscriptionChange MailboxMetadataChange "
                 b"ServerMetadataChange)")
    un, r = a.cmd("NOTIFY SET (personal (MessageNew MessageExpunge "
                  "AnnotationChange))")
    t.ok(re.match(rb"^t\d+ NO \[BADEVENT " + re.escape(supported) + rb"\]",
                  r), "AnnotationChange (no ANNOTATE): NO [BADEVENT "
         "(what we support)]", r)
    un, r = a.cmd("NOTIFY SET (selected (MessageNew MessageExpunge "
                  "SomethingNew))")
    t.ok(re.match(rb"^t\d+ NO \[BADEVENT ", r),
         "an event we do not know: NO [BADEVENT], not BAD (§8 event-ext)",
         r)

    # ---- bounds ----
    names = " ".join("f%d" % i for i in range(101))
    un, r = a.cmd("NOTIFY SET (mailboxes (%s) (MessageNew MessageExpunge))"
                  % names)
    t.ok(re.match(rb"^t\d+ NO \[NOTIFICATIONOVERFLOW\]", r),
         "101 mailbox names: NO [NOTIFICATIONOVERFLOW]", r)
    names = " ".join("f%d" % i for i in range(100))
    un, r = a.cmd("NOTIFY SET (mailboxes (%s) (MessageNew MessageExpunge))"
                  % names)
    t.ok(ok(r), "100 mailbox names (none of them there): OK", r)
    un, r = a.cmd("NOTIFY NONE")
    t.ok(ok(r), "NOTIFY NONE", r)

    # ---- §3.1's example, between commands ----
    b.cmd("CREATE Lists/Lemonade")
    append(b, "Lists/Lemonade", "one")
    append(b, "Lists/Lemonade", "two")
    append(b, "INBOX", "first")
    un, r = a.cmd("SELECT INBOX")
    un, r = a.cmd("NOTIFY SET STATUS (selected (MessageNew (uid "
                  "body.peek[header.fields (from to subject)]) "
                  "MessageExpunge)) (subtree Lists (MessageNew "
                  "MessageExpunge))")
    t.ok(ok(r), "§3.1: NOTIFY SET STATUS (selected (MessageNew (...) "
         "MessageExpunge)) (subtree Lists (...))", r)
    t.ok(has(un, rb"^\* STATUS Lists/Lemonade \(MESSAGES 2 UIDNEXT 3 "
             rb"UIDVALIDITY \d+ UNSEEN 2\)\r\n$"),
         "§3.1: STATUS of Lists/Lemonade before the OK", un)
    t.ok(has(un, rb"^\* STATUS Lists \(MESSAGES 0 "),
         "and of Lists, in the subtree too", un)
    t.ok(not has(un, rb"STATUS INBOX"),
         "none for the selected mailbox", un)

    uid = append(b, "INBOX", "good morning")
    got, found = a.until(rb"FETCH")
    t.ok(has(got, rb"^\* 2 EXISTS\r\n$") and found and re.match(
        rb"^\* 2 FETCH \(UID %d BODY\[HEADER\.FIELDS \(FROM TO SUBJECT\)\] "
        rb"\{\d+\}\r\nFrom: alice@example\.org\r\nTo: \S+\r\n"
        rb"Subject: good morning\r\n\r\n\)\r\n$" % uid, got[-1], re.I),
        "§5.2: another session's APPEND, with no command running: EXISTS "
        "then FETCH of the attributes asked for", got)
    un, r = a.cmd("FETCH 2 FLAGS")
    t.ok(ok(r) and has(un, rb"FLAGS \(\\Recent\)"),
         "MessageNew's FETCH did not set \\Seen", un)

    append(b, "Lists/Lemonade", "three")
    got, found = a.until(rb"STATUS Lists/Lemonade")
    t.ok(found and re.match(rb"^\* STATUS Lists/Lemonade \(MESSAGES 3 "
                            rb"UIDNEXT 4 UIDVALIDITY \d+ UNSEEN 3\)",
                            got[-1]),
         "§5.2: a message in another mailbox: STATUS (MESSAGES UIDNEXT)",
         got)
    expunge_first(b, "Lists/Lemonade")
    got, found = a.until(rb"STATUS Lists/Lemonade")
    t.ok(found and re.search(rb"MESSAGES 2 UIDNEXT 4 ", got[-1]),
         "§5.3: an expunge in another mailbox: STATUS (MESSAGES 2)", got)
    append(b, "Sent", "elsewhere")
    got = a.quiet()
    t.eq(got, [], "a mailbox no filter names: nothing")
    b.cmd("SELECT INBOX")
    b.cmd("STORE 1 +FLAGS.SILENT (\\Flagged)")
    got = a.quiet()
    t.eq(got, [], "a flag change without FlagChange: nothing at once")
    un, r = a.cmd("NOOP")
    t.ok(has(un, rb"^\* 1 FETCH \(.*FLAGS \(\\Flagged"),
         "... but NOOP tells it, as RFC 3501 does", un)
    b.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")
    b.cmd("EXPUNGE")
    got, found = a.until(rb"EXPUNGE")
    t.ok(found and got[-1] == b"* 1 EXPUNGE\r\n",
         "§6.1.1 selected: another session's EXPUNGE at once, no command "
         "running", got)
    b.cmd("UNSELECT")

    # ---- selected-delayed, IDLE and every mailbox event ----
    un, r = a.cmd("NOTIFY SET (selected-delayed (MessageNew MessageExpunge "
                  "FlagChange)) (personal (MessageNew MessageExpunge "
                  "FlagChange MailboxName SubscriptionChange "
                  "MailboxMetadataChange ServerMetadataChange))")
    t.ok(ok(r), "NOTIFY SET (selected-delayed (...)) (personal (...))", r)
    append(b, "INBOX", "another")
    a.until(rb"EXISTS")
    b.cmd("SELECT INBOX")
    b.cmd("STORE 2 +FLAGS.SILENT (\\Answered)")
    got, found = a.until(rb"FETCH")
    t.ok(found and re.match(rb"^\* 2 FETCH \(UID \d+ FLAGS "
                            rb"\(\\Answered.*\)\)\r\n$", got[-1]),
         "§5.1: FlagChange: FETCH with UID and FLAGS, no command running",
         got)
    b.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")
    b.cmd("EXPUNGE")
    got = a.quiet()
    t.ok(not has(got, rb"EXPUNGE"), "§6.1.2 selected-delayed: no EXPUNGE "
         "while no command runs", got)
    un, r = a.cmd("NOOP")
    t.ok(ok(r) and has(un, rb"^\* 1 EXPUNGE\r\n$"),
         "... it comes with NOOP", un)
    b.cmd("UNSELECT")

    a.send("IDLE")
    got, found = a.until(rb"^\+ ")
    t.ok(found, "IDLE: continuation", got)
    b.cmd("CREATE Projects")
    got, found = a.until(rb"LIST")
    t.ok(found and got[-1] == b'* LIST (\\HasNoChildren) "/" Projects\r\n',
         "§5.4: CREATE: LIST while idling", got)
    b.cmd("RENAME Projects Work")
    got, found = a.until(rb"LIST")
    t.ok(found and got[-1] == b'* LIST (\\HasNoChildren) "/" Work '
         b'("OLDNAME" (Projects))\r\n' and not has(got, rb"STATUS"),
         "§5.4: RENAME: LIST with OLDNAME (and no STATUS for the folder "
         "made just before: its UIDVALIDITY did not move)", got)
    b.cmd("SUBSCRIBE Work")
    got, found = a.until(rb"LIST")
    t.ok(found and got[-1] ==
         b'* LIST (\\HasNoChildren \\Subscribed) "/" Work\r\n',
         "§5.5: SUBSCRIBE: LIST with \\Subscribed", got)
    b.cmd("UNSUBSCRIBE Work")
    got, found = a.until(rb"LIST")
    t.ok(found and got[-1] == b'* LIST (\\HasNoChildren) "/" Work\r\n',
         "§5.5: UNSUBSCRIBE: LIST without it", got)
    b.cmd('SETMETADATA Work (/private/comment "hello")')
    got, found = a.until(rb"METADATA")
    t.ok(found and got[-1] == b"* METADATA Work /private/comment\r\n",
         "§5.6: SETMETADATA of a mailbox: METADATA with the entry", got)
    b.cmd('SETMETADATA "" (/shared/comment "hi" /private/comment "x")')
    got, found = a.until(rb"METADATA")
    t.ok(found and got[-1] ==
         b'* METADATA "" /private/comment /shared/comment\r\n' or
         got[-1] == b'* METADATA "" /shared/comment /private/comment\r\n',
         "§5.7: the server's: METADATA \"\" with both entries", got)
    b.cmd("DELETE Work")
    got, found = a.until(rb"LIST")
    t.ok(found and got[-1] == b'* LIST (\\NonExistent) "/" Work\r\n',
         "§5.4: DELETE: LIST \\NonExistent", got)
    append(b, "Sent", "sent one")
    got, found = a.until(rb"STATUS Sent")
    t.ok(found and re.match(rb"^\* STATUS Sent \(MESSAGES 2 UIDNEXT 3 "
                            rb"UIDVALIDITY \d+ UNSEEN 2 HIGHESTMODSEQ \d+\)",
                            got[-1]),
         "§5.2: another mailbox while idling: STATUS (with HIGHESTMODSEQ "
         "for FlagChange)", got)
    deliver("by smtp")
    got, found = a.until(rb"EXISTS", 10)
    t.ok(found, "§4: a delivery to the selected INBOX while idling", got)
    b.cmd("SELECT INBOX")
    b.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")
    b.cmd("EXPUNGE")
    b.cmd("UNSELECT")
    got, found = a.until(rb"EXPUNGE")
    t.ok(found and got[-1] == b"* 1 EXPUNGE\r\n",
         "§6.1.2: selected-delayed still gives EXPUNGE during IDLE", got)
    a.sock.sendall(b"DONE\r\n")
    got, found = a.until(rb"^t\d+ OK")
    t.ok(found, "IDLE ends with DONE", got)

    # ---- the selected mailbox is not another mailbox (§3.1) ----
    un, r = a.cmd("NOTIFY SET (personal (MessageNew MessageExpunge))")
    append(b, "INBOX", "quietly")
    got = a.quiet()
    t.eq(got, [], "without a selected filter: nothing for the selected "
         "mailbox, not even STATUS")
    un, r = a.cmd("NOOP")
    t.ok(has(un, rb"EXISTS"), "NOOP still tells of it (RFC 3501)", un)

    # ---- a delivery to an INBOX not selected ----
    a.cmd("SELECT Drafts")
    deliver("to the inbox")
    got, found = a.until(rb"STATUS INBOX", 10)
    t.ok(found and re.match(rb"^\* STATUS INBOX \(MESSAGES \d+ ", got[-1]),
         "a delivery to INBOX, Drafts selected: STATUS INBOX", got)

    # ---- what the session did itself is no news (§5) ----
    append(a, "Sent", "mine")
    a.cmd("CREATE Mine")
    got = a.quiet()
    t.eq(got, [], "own APPEND and CREATE: no STATUS, no LIST")

    # ---- §7: RETURN (UPDATE (fetch-att ...)), the RFC's example ----
    a.cmd("SELECT INBOX")
    un, r = a.cmd("SEARCH RETURN (UPDATE (BOGUS)) ALL")
    t.ok(re.match(rb"^t\d+ BAD", r), "§7: UPDATE with a fetch attribute "
         "FETCH does not know: BAD", r)
    un, r = a.cmd('SEARCH RETURN (COUNT UPDATE (UID BODY[HEADER.FIELDS '
                  '(TO FROM SUBJECT)])) FROM "boss"')
    t.ok(ok(r) and has(un, rb'^\* ESEARCH \(TAG "t\d+"\) COUNT 0\r\n$'),
         "§7: SEARCH RETURN (COUNT UPDATE (UID BODY[HEADER.FIELDS "
         "(TO FROM SUBJECT)])) FROM \"boss\"", un + [r])
    data = (b"From: boss@example.org\r\nTo: %s\r\nSubject: now\r\n\r\n"
            b"come\r\n" % U.encode())
    b.cmd('APPEND INBOX {%d+}\r\n%s' % (len(data), data.decode()))
    un, r = a.cmd("NOOP")
    kinds = [re.sub(rb"^\* (\d+ )?(\w+).*", rb"\2", x, flags=re.S)
             for x in un if not re.search(rb"RECENT", x)]
    t.ok(kinds == [b"EXISTS", b"FETCH", b"ESEARCH"] and re.search(
        rb"FETCH \(UID \d+ BODY\[HEADER\.FIELDS \(TO FROM SUBJECT\)\] "
        rb"\{\d+\}\r\nFrom: boss@example\.org\r\n", un[-2]) and
        re.search(rb"ADDTO \(0 \d+\)", un[-1]),
        "§7: a new message enters: EXISTS, its FETCH, then ESEARCH ADDTO",
        un)
    un, r = a.cmd("FETCH * FLAGS")
    t.ok(not has(un, rb"\\Seen"), "§7's FETCH did not set \\Seen", un)

    # ---- NOTIFY NONE ----
    un, r = a.cmd("NOTIFY NONE")
    append(b, "Sent", "after none")
    b.cmd("CREATE Later")
    got = a.quiet()
    t.eq(got, [], "after NOTIFY NONE: nothing between commands")

    # ---- too many mailboxes to watch: refused, then overflow (§5.8) ----
    a.cmd("UNSELECT")
    un, r = a.cmd("LIST \"\" *")
    count = len([x for x in un if b"\\Noselect" not in x and
                 b"\\NonExistent" not in x])
    for i in range(100 - count):
        b.cmd("CREATE Box%d" % i)
    un, r = a.cmd("NOTIFY SET (personal (MessageNew MessageExpunge))")
    t.ok(ok(r), "100 mailboxes to watch: OK", r)
    b.cmd("CREATE OneTooMany")
    got, found = a.until(rb"NOTIFICATIONOVERFLOW")
    t.ok(found and re.match(rb"^\* OK \[NOTIFICATIONOVERFLOW\]", got[-1]),
         "§5.8: the 101st: * OK [NOTIFICATIONOVERFLOW]", got)
    append(b, "Sent", "after overflow")
    got = a.quiet()
    t.eq(got, [], "... and then nothing, as after NOTIFY NONE")
    un, r = a.cmd("NOTIFY SET (personal (MessageNew MessageExpunge))")
    t.ok(re.match(rb"^t\d+ NO \[NOTIFICATIONOVERFLOW\]", r),
         "101 mailboxes to watch: NO [NOTIFICATIONOVERFLOW]", r)
    un, r = a.cmd("NOTIFY SET (inboxes (MessageNew MessageExpunge)) "
                  "(personal (MailboxName))")
    t.ok(ok(r), "inboxes with personal MailboxName: OK (only the INBOX's "
         "messages watched)", r)
    a.close = None
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
