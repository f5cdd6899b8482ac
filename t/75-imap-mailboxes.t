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


def gone_but_subscribed(c, name, parents=True):
    """name subscribed, then deleted, with the parents that have no other
    child when parents: a subscription outlives its mailbox (RFC 3501
    section 6.3.6)."""
    c.ok('CREATE "%s"' % name)
    c.ok('SUBSCRIBE "%s"' % name)
    c.ok('DELETE "%s"' % name)
    while parents and "/" in name:
        name = name.rsplit("/", 1)[0]
        if c.cmd('DELETE "%s"' % name)[0] != "OK":
            break


check = t.check


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


# ---------------------------------------------------------------------------
# LIST-EXTENDED (RFC 5258): the examples of its section 5 on the hierarchy
# each one sets up, with "/" as the separator.  Only the attributes that an
# example is about are compared: we always add \HasChildren or
# \HasNoChildren, and INBOX is not \NoInferiors here.

KEEP = {"\\SUBSCRIBED", "\\NONEXISTENT", "\\NOSELECT"}
CHILDREN = {"\\HASCHILDREN", "\\HASNOCHILDREN"}
CHILDINFO = [["CHILDINFO", ["SUBSCRIBED"]]]


def lst(c, command, keep=KEEP):
    """{name: ([attributes kept], CHILDINFO ("SUBSCRIBED") or not)}; a
    name listed twice is "twice"."""
    out = {}
    for name, attrs, ext in listing(c.ok(command)):
        if name in out:
            out[name] = "twice"
            continue
        out[name] = (sorted(attrs & keep), ext == CHILDINFO)
    return out


def E(*attrs, ci=False):
    """The expected value of one name in lst()."""
    return (sorted(a.upper() for a in attrs), ci)


def rfc5258_fruit(port):
    """Examples 1 to 6 (RFC 5258 sections 5.1 to 5.6): Fruit/Peach is
    subscribed but gone, Fruit is not subscribed but has two subscribed
    children, Vegetable is subscribed and so is one of its children.  We
    have no remote mailboxes: REMOTE changes nothing."""
    c = fresh(port, "fruit@example.test")
    for name in ("Fruit/Apple", "Fruit/Banana", "Tofu",
                 "Vegetable/Broccoli", "Vegetable/Corn"):
        c.ok('CREATE "%s"' % name)
    gone_but_subscribed(c, "Fruit/Peach")
    for name in ("INBOX", "Fruit/Banana", "Vegetable",
                 "Vegetable/Broccoli"):
        c.ok('SUBSCRIBE "%s"' % name)
    every = ["INBOX", "Fruit", "Fruit/Apple", "Fruit/Banana", "Tofu",
             "Vegetable", "Vegetable/Broccoli", "Vegetable/Corn"]
    t.eq(lst(c, 'LIST "" "*"'), {n: E() for n in every},
         'RFC 5258 5.1: LIST "" "*", every mailbox, Fruit/Peach not')
    subscribed = {"INBOX": E("\\Subscribed"),
                  "Fruit/Banana": E("\\Subscribed"),
                  "Fruit/Peach": E("\\Subscribed", "\\NonExistent"),
                  "Vegetable": E("\\Subscribed"),
                  "Vegetable/Broccoli": E("\\Subscribed")}
    t.eq(lst(c, 'LIST (SUBSCRIBED) "" "*"'), subscribed,
         'RFC 5258 5.2: LIST (SUBSCRIBED) "" "*", Fruit/Peach '
         '\\NonExistent')
    top = {"INBOX": E("\\HasNoChildren"), "Fruit": E("\\HasChildren"),
           "Tofu": E("\\HasNoChildren"), "Vegetable": E("\\HasChildren")}
    t.eq(lst(c, 'LIST () "" "%" RETURN (CHILDREN)', KEEP | CHILDREN), top,
         'RFC 5258 5.3: LIST () "" "%" RETURN (CHILDREN)')
    t.eq(lst(c, 'LIST (REMOTE) "" "%" RETURN (CHILDREN)', KEEP | CHILDREN),
         top, 'RFC 5258 5.4: LIST (REMOTE) "" "%" RETURN (CHILDREN)')
    t.eq(lst(c, 'LIST (REMOTE SUBSCRIBED) "" "*"'), subscribed,
         'RFC 5258 5.5: LIST (REMOTE SUBSCRIBED) "" "*"')
    want = {n: E() for n in every}
    for n in ("INBOX", "Fruit/Banana", "Vegetable", "Vegetable/Broccoli"):
        want[n] = E("\\Subscribed")
    t.eq(lst(c, 'LIST (REMOTE) "" "*" RETURN (SUBSCRIBED)'), want,
         'RFC 5258 5.6: LIST (REMOTE) "" "*" RETURN (SUBSCRIBED), not '
         'the gone Fruit/Peach')
    c.close()


def rfc5258_patterns(port):
    """Example 7 (RFC 5258 section 5.7): several patterns."""
    c = fresh(port, "sent@example.test")
    for name in ("Drafts", "Trash", "Sent/March2004", "Sent/December2003",
                 "Sent/August2004", "Sent/August2004/x"):
        c.ok('CREATE "%s"' % name)
    got = lst(c, 'LIST "" ("INBOX" "Drafts" "Sent/%")')
    t.eq(sorted(got), ["Drafts", "INBOX", "Sent/August2004",
                       "Sent/December2003", "Sent/March2004"],
         'RFC 5258 5.7: LIST "" ("INBOX" "Drafts" "Sent/%")')
    c.close()


def rfc5258_foo(port):
    """Example 8 (RFC 5258 section 5.8): \\HasNoChildren and CHILDINFO."""
    c = fresh(port, "foo@example.test")
    for name in ("Foo/Bar", "Foo/Baz", "Moo"):
        c.ok('CREATE "%s"' % name)
    rm = 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"'
    t.eq(lst(c, 'LIST "" "*"'), {n: E() for n in ("INBOX", "Foo",
                                                   "Foo/Bar", "Foo/Baz",
                                                   "Moo")},
         'RFC 5258 5.8: the hierarchy')
    t.eq(lst(c, 'LIST "" "%" RETURN (CHILDREN)', KEEP | CHILDREN),
         {"INBOX": E("\\HasNoChildren"), "Foo": E("\\HasChildren"),
          "Moo": E("\\HasNoChildren")},
         'RFC 5258 5.8: LIST "" "%" RETURN (CHILDREN)')
    c.ok('SUBSCRIBE "Foo/Baz"')
    t.eq(lst(c, 'LIST (SUBSCRIBED) "" "*"'), {"Foo/Baz": E("\\Subscribed")},
         'RFC 5258 5.8 A: LIST (SUBSCRIBED) "" "*", Foo/Baz alone')
    t.eq(lst(c, 'LIST (SUBSCRIBED) "" "%"'), {},
         'RFC 5258 5.8 A: LIST (SUBSCRIBED) "" "%", nothing')
    t.eq(lst(c, rm), {"Foo": E(ci=True)},
         'RFC 5258 5.8 A: %s, Foo with CHILDINFO' % rm)
    c.ok('SUBSCRIBE "Foo"')
    t.eq(lst(c, rm), {"Foo": E("\\Subscribed", ci=True)},
         'RFC 5258 5.8 A1: Foo subscribed too: \\Subscribed and CHILDINFO')
    # A2's Foo is not there and not subscribed: here another name, as Foo
    # has to stay for C
    c.ok('UNSUBSCRIBE "Foo"')
    c.ok('UNSUBSCRIBE "Foo/Baz"')
    gone_but_subscribed(c, "Xyzzy/Plugh")
    t.eq(lst(c, rm), {"Xyzzy": E("\\NonExistent", ci=True)},
         'RFC 5258 5.8 A2: a parent that is not there, \\NonExistent with '
         'CHILDINFO')
    c.ok('UNSUBSCRIBE "Xyzzy/Plugh"')
    t.eq(lst(c, rm), {}, 'RFC 5258 5.8 B: nothing subscribed, nothing '
         'listed')
    c.ok('SUBSCRIBE "Foo"')
    c.ok('SUBSCRIBE "Moo"')
    t.eq(lst(c, rm + " RETURN (CHILDREN)", KEEP | CHILDREN),
         {"Foo": E("\\HasChildren", "\\Subscribed"),
          "Moo": E("\\HasNoChildren", "\\Subscribed")},
         'RFC 5258 5.8 C: Foo and Moo subscribed: no CHILDINFO')
    c.close()


def rfc5258_two(port):
    """Example 9 (RFC 5258 section 5.9): CHILDINFO whether or not the
    children match the pattern, but a name that does not meet the
    selection criteria itself only when a child that does is not listed
    (section 3.5: redundant names are suppressed, as Dovecot does).  The
    example's second answer lists foo2, baz2 and qux2 too, and says that
    doing so breaks that SHOULD NOT: we do not.  qux2 exists here (CREATE
    makes the parents), which changes nothing: it is not subscribed."""
    c = fresh(port, "two@example.test")
    subs = ["foo2/bar1", "foo2/bar2", "baz2/bar2", "baz2/bar22",
            "baz2/bar222", "eps2", "eps2/mamba", "qux2/bar2"]
    for name in subs:
        if name != "eps2":
            c.ok('CREATE "%s"' % name)
    for name in subs:
        c.ok('SUBSCRIBE "%s"' % name)
    every = ["INBOX", "foo2", "baz2", "eps2", "qux2"] + subs
    t.eq(sorted(lst(c, 'LIST "" "*"')), sorted(set(every)),
         'RFC 5258 5.9: the hierarchy')
    t.eq(lst(c, 'LIST (SUBSCRIBED) "" "*"'),
         {n: E("\\Subscribed") for n in subs},
         'RFC 5258 5.9: the subscriptions')
    t.eq(lst(c, 'LIST (RECURSIVEMATCH SUBSCRIBED) "" "*2"'),
         {"foo2": E(ci=True), "foo2/bar2": E("\\Subscribed"),
          "baz2/bar2": E("\\Subscribed"), "baz2/bar22": E("\\Subscribed"),
          "baz2/bar222": E("\\Subscribed"),
          "eps2": E("\\Subscribed", ci=True),
          "qux2/bar2": E("\\Subscribed")},
         'RFC 5258 5.9: LIST (RECURSIVEMATCH SUBSCRIBED) "" "*2": foo2 '
         '(foo2/bar1 is not listed) and eps2 with CHILDINFO, not baz2 nor '
         'qux2 (their subscribed children are all listed)')
    want = {n: E("\\Subscribed") for n in subs}
    want["eps2"] = E("\\Subscribed", ci=True)
    t.eq(lst(c, 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "*"'), want,
         'RFC 5258 5.9: LIST (SUBSCRIBED RECURSIVEMATCH) "" "*": the '
         'subscriptions, eps2 with CHILDINFO, no redundant foo2, baz2, '
         'qux2')
    t.eq(lst(c, 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"'),
         {"foo2": E(ci=True), "baz2": E(ci=True),
          "eps2": E("\\Subscribed", ci=True), "qux2": E(ci=True)},
         'RFC 5258 5.9 with "%": every top name has subscribed children '
         'that are not listed')
    c.close()


def rfc5258_ten(port):
    """Example 10 (RFC 5258 section 5.10): CHILDINFO does not imply
    \\HasChildren (foo/bar is subscribed but gone).  Example 11 needs
    mailboxes that exist below names that do not, and remote ones: not
    for this server (CREATE makes the parents)."""
    c = fresh(port, "ten@example.test")
    c.ok('CREATE "foo"')
    gone_but_subscribed(c, "foo/bar", parents=False)
    t.eq(lst(c, 'LIST "" ("foo" "foo/*")'), {"foo": E()},
         'RFC 5258 5.10: LIST "" ("foo" "foo/*"), foo alone')
    t.eq(lst(c, 'LIST (SUBSCRIBED) "" "foo/*"'),
         {"foo/bar": E("\\Subscribed", "\\NonExistent")},
         'RFC 5258 5.10: LIST (SUBSCRIBED) "" "foo/*", foo/bar '
         '\\NonExistent')
    t.eq(lst(c, 'LIST (SUBSCRIBED RECURSIVEMATCH) "" foo RETURN '
             '(CHILDREN)', KEEP | CHILDREN),
         {"foo": E("\\HasNoChildren", ci=True)},
         'RFC 5258 5.10: foo \\HasNoChildren with CHILDINFO')
    c.close()


def recursivematch_patterns(port):
    """Several patterns (RFC 5258 section 3.5): a name that is not
    subscribed is listed with CHILDINFO only when a subscribed name below
    it is not listed itself."""
    c = fresh(port, "ext@example.test")
    c.ok('CREATE "a/b/c"')
    c.ok('SUBSCRIBE "a/b/c"')
    rm = 'LIST (SUBSCRIBED RECURSIVEMATCH) '
    t.eq(lst(c, rm + '"" (a/b a/b/c)'), {"a/b/c": E("\\Subscribed")},
         rm + '"" (a/b a/b/c): a/b/c alone, a/b would be redundant')
    t.eq(lst(c, rm + '"" "a/b"'), {"a/b": E(ci=True)},
         rm + '"" "a/b": a/b with CHILDINFO')
    t.eq(lst(c, rm + '"" (a/% a/b/%)'), {"a/b/c": E("\\Subscribed")},
         rm + '"" (a/% a/b/%): a/b/c alone')
    t.eq(lst(c, rm + '"" (% a/b/c)'), {"a/b/c": E("\\Subscribed")},
         rm + '"" (% a/b/c): a/b/c alone')
    t.eq(lst(c, rm + '"" (% a/%)'), {"a": E(ci=True), "a/b": E(ci=True)},
         rm + '"" (% a/%): a and a/b with CHILDINFO')
    t.eq(lst(c, rm + '"" "*"'), {"a/b/c": E("\\Subscribed")},
         rm + '"" "*": a/b/c alone')
    t.eq(lst(c, rm + '"a/" (b b/c)'), {"a/b/c": E("\\Subscribed")},
         rm + '"a/" (b b/c): the reference joins each pattern')
    c.close()


def error_codes(srv, port):
    """A refused mailbox command says why with the RFC 5530 code the
    store's error class maps to (imapd/reply.c); none of these is the
    server's fault, so none is logged as an error."""
    c = Conn(port, "codes@example.test")
    start = len(srv.log())

    def no(command, code, what):
        st, line, _ = c.cmd(command)
        t.ok(st == "NO" and (" NO [%s] " % code) in line,
             "%s: NO [%s]" % (what, code), c.log())

    c.ok('CREATE "Work/Sub"')
    c.ok('CREATE "Other"')
    no('CREATE "Work"', "ALREADYEXISTS", "CREATE of a name that exists")
    no('SELECT "Nowhere"', "NONEXISTENT", "SELECT of no such mailbox")
    no('DELETE "Nowhere"', "NONEXISTENT", "DELETE of no such mailbox")
    no('RENAME "Nowhere" "Else"', "NONEXISTENT",
       "RENAME of no such mailbox")
    no('RENAME "Work" "Other"', "ALREADYEXISTS",
       "RENAME onto a name that exists")
    no('RENAME "Other" "INBOX"', "ALREADYEXISTS", "RENAME onto INBOX")
    no('RENAME "Work" "Work/Sub/Deeper"', "CANNOT",
       "RENAME of a mailbox into itself")
    no('DELETE "INBOX"', "CANNOT", "DELETE INBOX")
    no('DELETE "Work"', "CANNOT", "DELETE of a mailbox with children "
       "(IMAP4rev1)")
    t.ok(sorted(names(c.ok('LIST "" "*"'))) ==
         ["Archive", "Drafts", "INBOX", "Junk", "Other", "Sent", "Trash",
          "Work", "Work/Sub"], "and nothing changed", c.log())
    c.close()
    errors = [line for line in srv.log()[start:].splitlines()
              if "error: " in line and "codes@" in line]
    t.ok(errors == [], "the refusals are not logged as errors", errors)


def main():
    srv = Server(services=("smtp", "imap"),
                 overrides=["auth.allow_plaintext=yes",
                            "auth.failure_delay_max=1s"])
    srv.setup(users=[(u + "@example.test", PW) for u in (
        "pat", "lee", "fruit", "sent", "foo", "two", "ten", "ext",
        "codes")])
    try:
        srv.start()
        port = srv.port("imap")
        check("EXAMINE and \\Recent", lambda: examine_recent(srv, port))
        check("LSUB and parents", lambda: lsub_parents(port))
        for fn in (rfc5258_fruit, rfc5258_patterns, rfc5258_foo,
                   rfc5258_two, rfc5258_ten, recursivematch_patterns):
            check(fn.__name__, lambda: fn(port))
        check("error codes", lambda: error_codes(srv, port))
    finally:
        srv.stop()
        srv.cleanup()
    t.done()


main()
