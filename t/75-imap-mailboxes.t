#!/usr/bin/python3
# imapd's mailbox commands against the real server, over plain IMAP on
# 143 with a raw client: EXAMINE gives SELECT's untagged data and leaves
# \Recent alone (RFC 3501 section 6.3.2), LSUB names unsubscribed parents
# of subscribed names as \Noselect (RFC 3501 section 6.3.9), and
# LIST-EXTENDED's RECURSIVEMATCH (RFC 5258) answers as the examples of RFC
# 5258 section 5 do, without the redundant CHILDINFO lines.
import os
import re
import smtplib
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from maildtest import TAP, Server, wait_until  # noqa: E402

t = TAP()
HOST = "127.0.0.1"
PW = "pw"
U = "pat@example.test"


# ---------------------------------------------------------------------------
# The wire: a raw client, and the few parts of the RFC 3501 response
# grammar that LIST, LSUB, STATUS and FETCH FLAGS need.

def parse(data):
    """Tokens of one response: lists, quoted strings and atoms as str,
    None for NIL."""
    stack = [[]]
    pos, n = 0, len(data)
    while pos < n:
        c = data[pos]
        if c in " \r\n":
            pos += 1
        elif c == "(":
            stack.append([])
            pos += 1
        elif c == ")":
            lst = stack.pop()
            stack[-1].append(lst)
            pos += 1
        elif c == '"':
            pos += 1
            out = ""
            while data[pos] != '"':
                if data[pos] == "\\":
                    pos += 1
                out += data[pos]
                pos += 1
            pos += 1
            stack[-1].append(out)
        else:
            start = pos
            while pos < n and data[pos] not in " ()\r\n":
                pos += 1
            atom = data[start:pos]
            stack[-1].append(None if atom.upper() == "NIL" else atom)
    return stack[0]


class Conn:
    """One IMAP connection in the clear (auth.allow_plaintext=yes); every
    read is bounded by a timeout."""

    def __init__(self, port, user=U, timeout=10):
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.buf = b""
        self.n = 0
        self.transcript = []
        self.line()
        if user is not None:
            self.ok('LOGIN "%s" "%s"' % (user, PW))

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        line = line.decode("utf-8", "replace")
        self.transcript.append("<< " + line)
        return line

    def cmd(self, text):
        """(status, tagged line, [untagged lines])"""
        self.n += 1
        tag = "t%d" % self.n
        self.transcript.append(">> %s %s" % (tag, text))
        self.sock.sendall(("%s %s\r\n" % (tag, text)).encode())
        untagged = []
        while True:
            r = self.line()
            if r.startswith(tag + " "):
                return r.split(" ", 2)[1].upper(), r, untagged
            untagged.append(r)

    def ok(self, text):
        st, line, unt = self.cmd(text)
        if st != "OK":
            raise RuntimeError("%s -> %s" % (text, line))
        return unt

    def log(self):
        return "\n".join(self.transcript[-30:])

    def close(self):
        try:
            self.cmd("LOGOUT")
        except (OSError, EOFError):
            pass
        self.sock.close()


def numbers(untagged, kind):
    """"* 3 EXISTS" style responses: [3, ...]."""
    return [int(m.group(1)) for m in
            (re.match(r"\* (\d+) " + kind + r"$", r, re.I)
             for r in untagged) if m]


def status_items(untagged):
    """{ITEM: n} of the first * STATUS response."""
    for r in untagged:
        if re.match(r"\* STATUS ", r, re.I):
            items = parse(r)[3]
            return {items[i].upper(): int(items[i + 1])
                    for i in range(0, len(items) - 1, 2)}
    return {}


def fetch_flags(untagged):
    """{seq: [FLAGS, upper case]} from * n FETCH (... FLAGS (...) ...)."""
    out = {}
    for r in untagged:
        m = re.match(r"\* (\d+) FETCH ", r, re.I)
        if not m:
            continue
        items = parse(r)[3]
        for i in range(0, len(items) - 1, 2):
            if items[i].upper() == "FLAGS":
                out[int(m.group(1))] = sorted(x.upper() for x in
                                              items[i + 1])
    return out


def listing(untagged, kind="LIST"):
    """[(name, {ATTRS}, [extended data])] of * LIST / * LSUB, in order."""
    out = []
    for r in untagged:
        if re.match(r"\* " + kind + " ", r, re.I):
            tok = parse(r)
            out.append((tok[4], {a.upper() for a in tok[2]}, tok[5:]))
    return out


def names(untagged, kind="LIST"):
    return sorted(x[0] for x in listing(untagged, kind))


def deliver(srv, subject, to=U):
    with smtplib.SMTP(HOST, srv.port("smtp"), timeout=10) as c:
        c.sendmail("sender@remote.test", [to],
                   ("From: <sender@remote.test>\r\nTo: <%s>\r\n"
                    "Subject: %s\r\nMessage-ID: <%s.%f@remote.test>\r\n"
                    "\r\nhello\r\n" % (to, subject, subject,
                                       time.time())).encode())


def fresh(port, user):
    """A session of user with INBOX only and nothing subscribed: the
    folders every new user gets (Sent, Drafts ...) deleted, so that the
    answers can be compared whole."""
    c = Conn(port, user)
    for name, attrs, _ in sorted(listing(c.ok('LIST "" "*"')),
                                 key=lambda x: -x[0].count("/")):
        if name != "INBOX":
            c.ok('DELETE "%s"' % name)
    for name in names(c.ok('LSUB "" "*"'), "LSUB"):
        c.ok('UNSUBSCRIBE "%s"' % name)
    return c


def gone_but_subscribed(c, name):
    """name subscribed, then deleted with its parents: a subscription
    outlives its mailbox (RFC 3501 section 6.3.4)."""
    c.ok('CREATE "%s"' % name)
    c.ok('SUBSCRIBE "%s"' % name)
    while True:
        c.ok('DELETE "%s"' % name)
        if "/" not in name:
            break
        name = name.rsplit("/", 1)[0]


def check(name, fn):
    """Run one group of checks; an exception is one failed test with the
    traceback, and the run goes on."""
    try:
        fn()
    except Exception as e:
        import traceback
        t.ok(False, name + ": raised " + type(e).__name__,
             traceback.format_exc()[-3000:])


# ---------------------------------------------------------------------------

def examine_recent(srv, port):
    """RFC 3501 section 6.3.2: EXAMINE answers as SELECT does (so with
    the \\Recent count) and, read-only, clears no \\Recent flag."""
    deliver(srv, "first")
    deliver(srv, "second")
    ok = wait_until(lambda: len(srv.messages(U)) == 2)
    t.ok(ok, "two messages delivered by SMTP", srv.messages(U))
    a = Conn(port)
    unt = a.ok('STATUS INBOX (MESSAGES RECENT)')
    t.eq(status_items(unt), {"MESSAGES": 2, "RECENT": 2},
         "STATUS before anyone selected: MESSAGES 2 RECENT 2")
    st, line, unt = a.cmd("EXAMINE INBOX")
    t.ok(st == "OK" and "[READ-ONLY]" in line, "EXAMINE: OK [READ-ONLY]",
         line)
    t.eq(numbers(unt, "EXISTS"), [2], "EXAMINE: * 2 EXISTS")
    t.eq(numbers(unt, "RECENT"), [2], "EXAMINE: * 2 RECENT, as SELECT "
         "would say (RFC 3501 section 6.3.2)")
    unt = a.ok("FETCH 1:* (FLAGS)")
    fl = fetch_flags(unt)
    t.ok(sorted(fl) == [1, 2] and all("\\RECENT" in f for f in
                                      fl.values()),
         "EXAMINE: FETCH FLAGS shows \\Recent on both", unt)
    unt = a.ok("SEARCH RECENT")
    t.ok("* SEARCH 1 2" in unt, "EXAMINE: SEARCH RECENT finds both", unt)
    b = Conn(port)
    unt = b.ok('STATUS INBOX (RECENT)')
    t.eq(status_items(unt), {"RECENT": 2}, "STATUS in another session "
         "after the EXAMINE: still RECENT 2")
    # a delivery while the mailbox is examined is \Recent there too
    deliver(srv, "third")
    wait_until(lambda: len(srv.messages(U)) == 3)
    unt = []
    for _ in range(50):
        unt += a.ok("NOOP")
        if numbers(unt, "EXISTS"):
            break
        time.sleep(0.1)
    t.ok(numbers(unt, "EXISTS") == [3] and numbers(unt, "RECENT") == [3],
         "EXAMINE: new mail on NOOP: * 3 EXISTS, * 3 RECENT", unt)
    st, line, unt = b.cmd("SELECT INBOX")
    t.ok(st == "OK" and "[READ-WRITE]" in line, "SELECT in another "
         "session: OK [READ-WRITE]", line)
    t.eq(numbers(unt, "RECENT"), [3], "SELECT after the EXAMINE: * 3 "
         "RECENT (the EXAMINE cleared none)")
    unt = b.ok("FETCH 1:* (FLAGS)")
    t.ok(all("\\RECENT" in f for f in fetch_flags(unt).values()),
         "SELECT: FETCH FLAGS shows \\Recent on all three", unt)
    c = Conn(port)
    st, line, unt = c.cmd("EXAMINE INBOX")
    t.eq(numbers(unt, "RECENT"), [0], "EXAMINE after a SELECT took them: "
         "* 0 RECENT")
    unt = c.ok('STATUS INBOX (RECENT)')
    t.eq(status_items(unt), {"RECENT": 0}, "STATUS after the SELECT: "
         "RECENT 0")
    for x in (a, b, c):
        x.close()


def lsub_parents(port):
    """RFC 3501 section 6.3.9: "if "foo/bar" is subscribed but "foo" is
    not, a "%" wildcard to LSUB must return foo, not foo/bar, and it will
    be flagged with the \\Noselect attribute"; "*" returns foo/bar."""
    c = fresh(port, "lee@example.test")

    def lsub(pattern):
        unt = c.ok('LSUB "" "%s"' % pattern)
        return [(n, sorted(a)) for n, a, _ in listing(unt, "LSUB")], unt

    c.ok('CREATE "a/b"')
    c.ok('SUBSCRIBE "a/b"')
    got, unt = lsub("%")
    t.eq(got, [("a", ["\\NOSELECT"])], 'LSUB "" %: the unsubscribed '
         'parent a of the subscribed a/b, \\Noselect')
    got, unt = lsub("a/%")
    t.eq(got, [("a/b", [])], 'LSUB "" a/%: a/b itself')
    got, unt = lsub("*")
    t.eq(got, [("a/b", [])], 'LSUB "" *: a/b, not a (it matches the '
         'pattern itself)')
    got, unt = lsub("a")
    t.eq(got, [("a", ["\\NOSELECT"])], 'LSUB "" a: a \\Noselect, as '
         'with %: the pattern reaches a but not a/b')
    got, unt = lsub("b")
    t.eq(got, [], 'LSUB "" b: nothing')
    got, unt = lsub("%/%")
    t.eq(got, [("a/b", [])], 'LSUB "" %/%: a/b')

    # one level further down: a/b/c subscribed, a/b no longer
    c.ok('CREATE "a/b/c"')
    c.ok('SUBSCRIBE "a/b/c"')
    got, unt = lsub("a/%")
    t.eq(got, [("a/b", [])], 'LSUB "" a/% with a/b and a/b/c subscribed: '
         'a/b, no \\Noselect')
    c.ok('UNSUBSCRIBE "a/b"')
    got, unt = lsub("a/%")
    t.eq(got, [("a/b", ["\\NOSELECT"])], 'LSUB "" a/% with only a/b/c '
         'subscribed: a/b \\Noselect')
    got, unt = lsub("%")
    t.eq(got, [("a", ["\\NOSELECT"])], 'LSUB "" % with only a/b/c '
         'subscribed: a \\Noselect')
    got, unt = lsub("*")
    t.eq(got, [("a/b/c", [])], 'LSUB "" * with only a/b/c subscribed: '
         'a/b/c alone')
    unt = c.ok('LSUB "a" "%"')
    t.eq([(n, sorted(a)) for n, a, _ in listing(unt, "LSUB")],
         [("a/b", ["\\NOSELECT"])], 'LSUB "a" "%": the reference joins '
         'the pattern (a/%)')

    # a subscribed parent is itself, without \Noselect
    c.ok('SUBSCRIBE "a"')
    got, unt = lsub("%")
    t.eq(got, [("a", [])], 'LSUB "" % with a subscribed too: a, no '
         '\\Noselect')
    c.ok('UNSUBSCRIBE "a"')

    # the parent of a subscribed name that is gone, and gone itself
    gone_but_subscribed(c, "x/y")
    got, unt = lsub("x%")
    t.eq(got, [("x", ["\\NOSELECT"])], 'LSUB "" x%: x, parent of the '
         'subscribed x/y, both deleted: \\Noselect')
    got, unt = lsub("x/*")
    t.eq(got, [("x/y", ["\\NOSELECT"])], 'LSUB "" x/*: x/y, subscribed '
         'but gone: \\Noselect')
    unt = c.ok('LIST "" "*"')
    t.ok("x" not in names(unt), 'LIST "" *: x is not there', unt)
    c.close()


def main():
    srv = Server(services=("smtp", "imap"),
                 overrides=["auth.allow_plaintext=yes",
                            "auth.failure_delay_max=1s"])
    srv.setup(users=[(u, PW) for u in (U, "lee@example.test")])
    try:
        srv.start()
        port = srv.port("imap")
        check("EXAMINE and \\Recent", lambda: examine_recent(srv, port))
        check("LSUB and parents", lambda: lsub_parents(port))
    finally:
        srv.stop()
        srv.cleanup()
    t.done()


main()
