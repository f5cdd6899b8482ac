#!/usr/bin/python3
# Two corners of imapd's grammar against the real server, with a raw
# client on 143 (plain-text LOGIN allowed for the test):
# - '[' and ']' in atoms: RFC 3501 section 9 makes '[' an ATOM-CHAR and
#   ']' an ASTRING-CHAR, so a mailbox name written as an atom may hold
#   them; CREATE, SELECT, LIST, STATUS and APPEND take such a name, and
#   FETCH's BODY[...] and BODY.PEEK[...] sections still work;
# - SEARCH FROM, TO, CC and BCC find an address as ENVELOPE parses it
#   ("<user-from (comment)@ (comment) domain.org>" is user-from@domain.org,
#   RFC 5322 section 3.4) and a display name as a phrase, and still any
#   piece of the raw field.
import os
import re
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from maildtest import IMAPConn as Conn, TAP, Server  # noqa: E402

t = TAP()
HOST = "127.0.0.1"
U, PW = "pat@example.test", "pat-secret"


def astring(data, pos):
    """The astring at data[pos:] of a response: (value, next position)."""
    if data[pos:pos + 1] == b'"':
        out, pos = bytearray(), pos + 1
        while data[pos:pos + 1] != b'"':
            if data[pos:pos + 1] == b"\\":
                pos += 1
            out += data[pos:pos + 1]
            pos += 1
        return bytes(out), pos + 1
    m = re.match(rb"\{(\d+)\}\r\n", data[pos:])
    if m:
        start = pos + m.end()
        return data[start:start + int(m.group(1))], start + int(m.group(1))
    m = re.match(rb"[^ ()]+", data[pos:])
    return m.group(0), pos + m.end()


def listed(untagged):
    """The mailbox names of the untagged LIST responses."""
    out = []
    for r in untagged:
        m = re.match(rb'\* LIST \([^)]*\) (?:"."|NIL) ', r)
        if m:
            out.append(astring(r, m.end())[0].decode())
    return out


def append(c, box, msg):
    """APPEND with a non-synchronizing literal (RFC 7888)."""
    return c.cmd(b"APPEND %s {%d+}\r\n%s" % (box.encode(), len(msg), msg))


MSG = (b"From: Sender <sender@remote.test>\r\n"
       b"To: pat@example.test\r\n"
       b"Subject: brackets in names\r\n"
       b"Message-ID: <atoms-1@remote.test>\r\n"
       b"\r\n"
       b"the body of it\r\n")


def atoms(port):
    c = Conn(port)
    try:
        st, line, _ = c.cmd('LOGIN "%s" "%s"' % (U, PW))
        t.eq(st, "OK", "LOGIN")

        # Every ATOM-CHAR that is not a letter, '[' unclosed (and '}').
        # '&' would begin modified UTF-7 (RFC 3501 section 5.1.3), which
        # the server checks: "&'" is refused with a NO, while "&-" is how
        # the name holds an '&' itself.
        raw = "!#$&'+,-.0123456789:;<=>?@^_`|[}"
        st, line, _ = c.cmd("CREATE " + raw)
        t.ok(st == "NO" and b"modified UTF-7" in line,
             "CREATE %s: parsed, refused as not modified UTF-7" % raw,
             c.log())
        st, line, _ = c.cmd("SELECT " + raw)
        t.ok(st == "NO", "SELECT %s: NO, not BAD" % raw, c.log())
        st, line, unt = c.cmd('LIST "" ' + raw)
        t.ok(st == "OK" and listed(unt) == [], "LIST %s: OK, nothing" % raw,
             c.log())

        name = "!#$&-'+,-.0123456789:;<=>?@^_`|[}"
        st, line, _ = c.cmd("CREATE " + name)
        t.ok(st == "OK", "CREATE " + name, c.log())
        st, line, unt = c.cmd('LIST "" ' + name)
        t.ok(st == "OK" and listed(unt) == [name], "LIST gives it back",
             c.log())
        st, line, unt = c.cmd('LIST "" *')
        t.ok(st == "OK" and name in listed(unt), "LIST * holds it", c.log())
        st, line, unt = c.cmd("STATUS %s (MESSAGES)" % name)
        t.ok(st == "OK" and any(b"MESSAGES 0" in r for r in unt),
             "STATUS of it", c.log())
        st, line, _ = append(c, name, MSG)
        t.ok(st == "OK", "APPEND to it", c.log())
        st, line, unt = c.cmd("SELECT " + name)
        t.ok(st == "OK" and b"* 1 EXISTS" in unt, "SELECT it: 1 message",
             c.log())

        st, line, unt = c.cmd("FETCH 1 BODY[HEADER.FIELDS (SUBJECT)]")
        t.ok(st == "OK" and any(b"Subject: brackets in names\r\n\r\n" in r
                                and b"From:" not in r for r in unt),
             "FETCH BODY[HEADER.FIELDS (SUBJECT)] still works", c.log())
        st, line, unt = c.cmd("UID FETCH 1:* (BODY.PEEK[1] FLAGS)")
        t.ok(st == "OK" and any(b"BODY[1] {16}\r\nthe body of it\r\n" in r
                                for r in unt), "UID FETCH BODY.PEEK[1] "
             "still works", c.log())
        st, line, unt = c.cmd("FETCH 1 BODY[1")
        t.eq(st, "BAD", "FETCH BODY[1 without ']': BAD")

        # ']' is an ASTRING-CHAR, and '[' may come first
        other = "[a]b]c[d"
        st, line, _ = c.cmd("CREATE " + other)
        t.ok(st == "OK", "CREATE " + other, c.log())
        st, line, unt = c.cmd('LIST "" ' + other)
        t.ok(st == "OK" and listed(unt) == [other] and
             unt[0].endswith(b' "[a]b]c[d"'), "LIST gives it back "
             "(quoted, as ']' is no ATOM-CHAR)", c.log())
        st, line, _ = c.cmd("SELECT " + other)
        t.ok(st == "OK", "SELECT " + other, c.log())
        c.cmd("LOGOUT")
    finally:
        c.close()


def searched(unt):
    """The numbers of the untagged SEARCH response, sorted."""
    for r in unt:
        if r.startswith(b"* SEARCH"):
            return sorted(int(x) for x in r.split()[2:])
    return None


ADDR_MSGS = [
    b"From: <user-from (comment)@ (comment) domain.org>\r\n"
    b"To: Kim (the boss) \"Q.\" Example <kim @ example.net>\r\n"
    b"Cc: =?UTF-8?Q?Lee_Roe?= (x) <lee (y) @example.org>\r\n"
    b"Bcc: team: hidden.user@ (z) hidden.example;\r\n"
    b"Subject: comments inside addresses\r\n"
    b"\r\n"
    b"one\r\n",
    b"From: Someone <someone@else.test>\r\n"
    b"To: pat@example.test\r\n"
    b"Subject: another sender\r\n"
    b"\r\n"
    b"two\r\n",
    b"From: Robin (R.) \"van\" Roe <robin@roe.example>\r\n"
    b"To: pat@example.test\r\n"
    b"Subject: a display name with a comment\r\n"
    b"\r\n"
    b"three\r\n",
]


def address_search(port):
    c = Conn(port)
    try:
        c.cmd('LOGIN "%s" "%s"' % (U, PW))
        st, line, _ = c.cmd("CREATE Addr")
        t.eq(st, "OK", "CREATE Addr")
        for msg in ADDR_MSGS:
            st, line, _ = append(c, "Addr", msg)
            t.ok(st == "OK", "APPEND " + msg.split(b"\r\n")[0].decode(),
                 c.log())
        st, line, unt = c.cmd("SELECT Addr")
        t.ok(st == "OK" and b"* 3 EXISTS" in unt, "SELECT Addr: 3 messages",
             c.log())
        st, line, unt = c.cmd("FETCH 1 ENVELOPE")
        t.ok(st == "OK" and any(b'((NIL NIL "user-from" "domain.org"))' in r
                                for r in unt),
             "ENVELOPE: From is user-from@domain.org", c.log())

        for key, want in [
                ("FROM user-from@domain.org", [1]),
                ("FROM <user-from@domain.org>", [1]),
                ("FROM USER-FROM@DOMAIN.ORG", [1]),
                ('FROM "domain.org"', [1]),
                ('FROM "user-from"', [1]),
                ('FROM "(comment)@ (comment) domain"', [1]),
                ('FROM "Robin van Roe"', [3]),
                ('FROM "Robin (R.)"', [3]),
                ('TO "Kim Q. Example"', [1]),
                ("TO kim@example.net", [1]),
                ('CC "Lee Roe <lee@example.org>"', [1]),
                ("BCC hidden.user@hidden.example", [1]),
                ("FROM other@domain.org", []),
                ("FROM user-from@domain.net", []),
                ("FROM kim@example.net", []),
                ("NOT FROM user-from@domain.org", [2, 3]),
                ("OR FROM user-from@domain.org FROM robin@roe.example",
                 [1, 3])]:
            st, line, unt = c.cmd("SEARCH " + key)
            t.ok(st == "OK" and searched(unt) == want,
                 "SEARCH %s: %s" % (key, want), c.log())
        st, line, unt = c.cmd("UID SEARCH FROM user-from@domain.org")
        t.ok(st == "OK" and searched(unt) == [1],
             "UID SEARCH FROM user-from@domain.org", c.log())
        c.cmd("LOGOUT")
    finally:
        c.close()


def main():
    srv = Server(services=("imap",),
                 overrides=["auth.allow_plaintext=yes",
                            "auth.failure_delay_max=1s"])
    srv.setup(users=[(U, PW)])
    try:
        srv.start()
        for fn in (atoms, address_search):
            t.check(fn.__name__, fn, srv.port("imap"))
        srv.stop()
    finally:
        srv.cleanup()
    t.done()


main()
