#!/usr/bin/python3
# COMPARATOR and I18NLEVEL=2 (RFC 5255 section 4) against the real server,
# with a raw client on 143:
# - the capability I18NLEVEL=2 (and not =1) once logged in; COMPARATOR
#   refused before LOGIN (section 4.7: authenticated and selected states);
# - COMPARATOR alone answers the active comparator, i;unicode-casemap at
#   first (section 4.7, 4.8); section 4.7's example, COMPARATOR "cz;*"
#   i;basic, names none of ours: NO [BADCOMPARATOR] (4.9), nothing
#   changed; "cz;*" i;octet takes i;octet; "default"; wildcards (RFC 4790
#   section 3.2) matching several give them all in the response, the
#   first argument deciding; bad input BAD;
# - SEARCH's string keys, SORT's string keys (SUBJECT, DISPLAYFROM, FROM)
#   and THREAD's base subjects under each of the three comparators, with
#   strings that tell them apart: i;octet keeps case ("b" after "B"),
#   i;ascii-casemap folds only a-z ("CAFÉ" does not find "café", "É"
#   sorts after "f"), i;unicode-casemap folds the rest (RFC 5051);
# - the comparator is the session's: SELECT keeps it, another connection
#   has the default.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from maildtest import IMAPConn, TAP, Server  # noqa: E402

t = TAP()
U, PW = "cmp@example.test", "cmp-secret"
ALL3 = b"(i;unicode-casemap i;ascii-casemap i;octet)"


def append(c, box, msg):
    return c.cmd(b"APPEND %s {%d+}\r\n%s" % (box.encode(), len(msg), msg))


def msg(headers, body="text"):
    h = "\r\n".join("%s: %s" % kv for kv in headers)
    h += ("\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; "
          "charset=utf-8\r\nContent-Transfer-Encoding: 8bit")
    return (h + "\r\n\r\n" + body + "\r\n").encode("utf-8")


def numbers(unt, word):
    for r in unt:
        if r.startswith(b"* " + word.encode()):
            return [int(x) for x in r.split()[2:] if x.isdigit()]
    return None


def search(c, key, value):
    v = value.encode("utf-8")
    st, line, unt = c.cmd(b"SEARCH CHARSET UTF-8 %s {%d+}\r\n%s" % (
        key.encode(), len(v), v))
    return numbers(unt, "SEARCH") if st == "OK" else st


def comparator(c, args):
    """(status, the * COMPARATOR line or None, tagged line)."""
    st, line, unt = c.cmd(b"COMPARATOR" + (b" " + args if args else b""))
    got = [r for r in unt if r.startswith(b"* COMPARATOR")]
    return st, got[0] if len(got) == 1 else (got or None), line


def capability_and_command(port):
    c = IMAPConn(port, timeout=60)
    try:
        st, line, unt = c.cmd("COMPARATOR")
        t.ok(st == "BAD", "COMPARATOR before LOGIN: BAD (section 4.7)",
             c.log())
        st, line, unt = c.cmd('LOGIN "%s" "%s"' % (U, PW))
        t.ok(st == "OK" and b" I18NLEVEL=2" in line and
             b"I18NLEVEL=1" not in line,
             "LOGIN's capabilities: I18NLEVEL=2, not =1", c.log())
        st, line, unt = c.cmd("CAPABILITY")
        caps = b" ".join(unt).split()
        t.ok(b"I18NLEVEL=2" in caps, "CAPABILITY: I18NLEVEL=2", c.log())

        st, got, _ = comparator(c, b"")
        t.ok(st == "OK" and got == b"* COMPARATOR i;unicode-casemap",
             "COMPARATOR: the default, i;unicode-casemap", c.log())
        # RFC 5255 section 4.7's example: neither is ours
        st, got, line = comparator(c, b'"cz;*" i;basic')
        t.ok(st == "NO" and b"[BADCOMPARATOR]" in line and got is None,
             'COMPARATOR "cz;*" i;basic: NO [BADCOMPARATOR] (section 4.9)',
             c.log())
        st, got, _ = comparator(c, b"")
        t.ok(got == b"* COMPARATOR i;unicode-casemap",
             "after the NO: unchanged", c.log())
        st, got, line = comparator(c, b'"cz;*" i;octet')
        t.ok(st == "OK" and got == b"* COMPARATOR i;octet",
             'COMPARATOR "cz;*" i;octet: i;octet', c.log())
        st, got, _ = comparator(c, b"")
        t.ok(got == b"* COMPARATOR i;octet", "COMPARATOR: now i;octet",
             c.log())
        st, got, _ = comparator(c, b'"default"')
        t.ok(st == "OK" and got == b"* COMPARATOR i;unicode-casemap",
             'COMPARATOR "default": i;unicode-casemap', c.log())
        st, got, _ = comparator(c, b"i;*")
        t.ok(st == "OK" and got == b"* COMPARATOR i;unicode-casemap " + ALL3,
             "COMPARATOR i;*: the first of ours, and all that matched "
             "(section 4.8)", c.log())
        st, got, _ = comparator(c, b'I;OCTET "*ASCII*"')
        t.ok(st == "OK" and got ==
             b"* COMPARATOR i;octet (i;ascii-casemap i;octet)",
             "COMPARATOR I;OCTET *ASCII*: the first argument wins, names "
             "without case", c.log())
        st, got, _ = comparator(c, b"{15+}\r\ni;ascii-casemap")
        t.ok(st == "OK" and got == b"* COMPARATOR i;ascii-casemap",
             "a literal argument", c.log())
        st, got, _ = comparator(c, b'"i;*casemap" "i;octet"')
        t.ok(st == "OK" and got == b"* COMPARATOR i;unicode-casemap "
             b"(i;unicode-casemap i;ascii-casemap i;octet)",
             "two arguments, three matches", c.log())
        for args, why in [(b" ".join([b"x"] * 33), "33 arguments"),
                          (b"(i;octet)", "a list"),
                          (b'""', "an empty name"),
                          (b"i;" + b"o" * 300, "a name of 302 octets"),
                          (b"i;octet (x)", "a list after a name")]:
            st, got, _ = comparator(c, args)
            t.ok(st == "BAD" and got is None, "COMPARATOR with %s: BAD" % why,
                 c.log())
        st, got, _ = comparator(c, b"")
        t.ok(got == b"* COMPARATOR i;unicode-casemap",
             "after the BADs: unchanged", c.log())
        c.cmd("LOGOUT")
    finally:
        c.close()


# Subjects and display names that the three comparators order three ways
# (sequence numbers 1..7): octets put "B" before "b" and "É" (0xC3) last;
# i;ascii-casemap has b and B equal, and "É" still after "f";
# i;unicode-casemap has "É" as E + U+0301, between "e" and "f".
NAMES = ["b", "A", "c", "\u00c9", "e", "B", "f"]
ORDER = {
    "i;octet": [2, 6, 1, 3, 5, 7, 4],
    "i;ascii-casemap": [2, 1, 6, 3, 5, 7, 4],
    "i;unicode-casemap": [2, 1, 6, 3, 5, 4, 7],
}
# REVERSE keeps ties (b and B) in mailbox order (RFC 5256 section 3)
REVERSE = {
    "i;octet": [4, 7, 5, 3, 1, 6, 2],
    "i;ascii-casemap": [4, 7, 5, 3, 1, 6, 2],
    "i;unicode-casemap": [7, 4, 5, 3, 1, 6, 2],
}
# addr-mailbox (SORT FROM): ASCII only, RFC 5321 local parts
LOCALS = ["b", "A", "c", "_x", "e", "B", "f"]
FROM_ORDER = {
    # A B _x b c e f
    "i;octet": [2, 6, 4, 1, 3, 5, 7],
    # A b=B C E F _x ('_' after 'Z' once folded)
    "i;ascii-casemap": [2, 1, 6, 3, 5, 7, 4],
    "i;unicode-casemap": [2, 1, 6, 3, 5, 7, 4],
}


def sorting(port):
    c = IMAPConn(port, timeout=60)
    try:
        c.cmd('LOGIN "%s" "%s"' % (U, PW))
        c.cmd("CREATE Cmp")
        for i, name in enumerate(NAMES):
            st, line, _ = append(c, "Cmp", msg([
                ("From", "%s <%s@x.test>" % (
                    "=?UTF-8?B?w4k=?=" if name == "\u00c9" else name,
                    LOCALS[i])),
                ("Subject", "=?UTF-8?B?w4k=?=" if name == "\u00c9"
                 else name)]))
            t.ok(st == "OK", "APPEND %d" % (i + 1), c.log())
        st, line, unt = c.cmd("SELECT Cmp")
        t.ok(st == "OK" and b"* 7 EXISTS" in unt, "SELECT: 7", c.log())
        for cmp in ("i;octet", "i;ascii-casemap", "i;unicode-casemap"):
            st, got, _ = comparator(c, cmp.encode())
            t.ok(st == "OK", "COMPARATOR %s" % cmp, c.log())
            for key in ("SUBJECT", "DISPLAYFROM"):
                st, line, unt = c.cmd("SORT (%s) UTF-8 ALL" % key)
                t.ok(st == "OK" and numbers(unt, "SORT") == ORDER[cmp],
                     "%s: SORT (%s) %s" % (cmp, key, ORDER[cmp]), c.log())
            st, line, unt = c.cmd("SORT (REVERSE SUBJECT) UTF-8 ALL")
            t.ok(st == "OK" and numbers(unt, "SORT") == REVERSE[cmp],
                 "%s: SORT (REVERSE SUBJECT) %s (ties in mailbox order)" % (
                     cmp, REVERSE[cmp]), c.log())
            st, line, unt = c.cmd("SORT (FROM) UTF-8 ALL")
            t.ok(st == "OK" and numbers(unt, "SORT") == FROM_ORDER[cmp],
                 "%s: SORT (FROM) %s" % (cmp, FROM_ORDER[cmp]), c.log())
            # a SORT whose search keys use the comparator too
            st, line, unt = c.cmd("SORT (SUBJECT) UTF-8 SUBJECT b")
            want = {"i;octet": [1]}.get(cmp, [1, 6])
            t.ok(st == "OK" and numbers(unt, "SORT") == want,
                 "%s: SORT (SUBJECT) UTF-8 SUBJECT b: %s" % (cmp, want),
                 c.log())
            st, line, unt = c.cmd("SORT RETURN (MIN MAX) (DISPLAYFROM) "
                                  "UTF-8 ALL")
            esearch = [r for r in unt if r.startswith(b"* ESEARCH")]
            t.ok(st == "OK" and esearch == [b"* ESEARCH (TAG \"t%d\") MIN %d "
                                            b"MAX %d" % (c.n, ORDER[cmp][0],
                                                         ORDER[cmp][-1])],
                 "%s: ESORT MIN and MAX" % cmp, c.log())
        c.cmd("LOGOUT")
    finally:
        c.close()


def searching(port):
    c = IMAPConn(port, timeout=60)
    try:
        c.cmd('LOGIN "%s" "%s"' % (U, PW))
        c.cmd("CREATE Srch")
        for subj, frm, body in [
                ("=?UTF-8?Q?Stra=C3=9Fe?=", "Anna <anna@x.test>",
                 "caf\u00e9 au lait"),
                ("STRASSE", "ANNA <a2@x.test>", "CAF\u00c9"),
                ("strasse", "=?UTF-8?Q?=C3=85sa?= <asa@x.test>",
                 "cafe\u0301")]:
            append(c, "Srch", msg([("From", frm), ("Subject", subj)], body))
        c.cmd("SELECT Srch")
        cases = {
            "i;octet": [
                ("SUBJECT", "Stra", [1]), ("SUBJECT", "stra", [3]),
                ("SUBJECT", "STRA", [2]), ("FROM", "anna", [1]),
                ("BODY", "caf\u00e9", [1]), ("BODY", "CAF\u00c9", [2]),
                ("TEXT", "Anna", [1]), ("HEADER Subject", "asse", [3]),
                ("FROM", "\u00c5sa", [3]), ("FROM", "\u00e5sa", [])],
            "i;ascii-casemap": [
                ("SUBJECT", "stra", [1, 2, 3]),
                ("SUBJECT", "STRA\u00dfE", [1]),
                ("SUBJECT", "strasse", [2, 3]),
                ("FROM", "anna", [1, 2]),
                ("BODY", "caf\u00e9", [1]), ("BODY", "CAF\u00c9", [2]),
                ("BODY", "Caf\u00e9", [1]),
                ("FROM", "\u00e5sa", []), ("FROM", "\u00c5SA", [3])],
            "i;unicode-casemap": [
                ("SUBJECT", "stra", [1, 2, 3]),
                ("BODY", "caf\u00e9", [1, 2, 3]),
                ("FROM", "\u00e5sa", [3]),
                ("SUBJECT", "stra\u00dfe", [1])],
        }
        for cmp in ("i;octet", "i;ascii-casemap", "i;unicode-casemap"):
            comparator(c, cmp.encode())
            for key, value, want in cases[cmp]:
                got = search(c, key, value)
                t.ok(got == want, "%s: SEARCH %s %s -> %s" % (
                    cmp, key, value, want), "got %r\n%s" % (got, c.log()))
        # the comparator stays with the session across SELECT
        comparator(c, b"i;octet")
        c.cmd("SELECT INBOX")
        c.cmd("SELECT Srch")
        st, got, _ = comparator(c, b"")
        t.ok(got == b"* COMPARATOR i;octet", "SELECT keeps the comparator",
             c.log())
        t.ok(search(c, "SUBJECT", "stra") == [3], "and SEARCH uses it",
             c.log())
        # another session has the default
        d = IMAPConn(port, timeout=60)
        try:
            d.cmd('LOGIN "%s" "%s"' % (U, PW))
            st, got, _ = comparator(d, b"")
            t.ok(got == b"* COMPARATOR i;unicode-casemap",
                 "another session: the default", d.log())
            d.cmd("LOGOUT")
        finally:
            d.close()
        c.cmd("LOGOUT")
    finally:
        c.close()


def threading(port):
    c = IMAPConn(port, timeout=60)
    try:
        c.cmd('LOGIN "%s" "%s"' % (U, PW))
        c.cmd("CREATE Thr")
        for subj, date in [("Hello", "01"), ("Re: HELLO", "02"),
                           ("=?UTF-8?Q?CAF=C3=89?=", "03"),
                           ("=?UTF-8?Q?Re:_caf=C3=A9?=", "04"),
                           ("=?UTF-8?Q?Re:_CAF=C3=89?=", "05"),
                           ("Re: hello", "06")]:
            append(c, "Thr", msg([("Subject", subj), (
                "Date", "Mon, %s Jan 2024 10:00:00 +0000" % date)]))
        c.cmd("SELECT Thr")
        want = {
            "i;octet": b"* THREAD (1)(2)(3 5)(4)(6)",
            "i;ascii-casemap": b"* THREAD (1 (2)(6))(3 5)(4)",
            "i;unicode-casemap": b"* THREAD (1 (2)(6))(3 (4)(5))",
        }
        for cmp in ("i;octet", "i;ascii-casemap", "i;unicode-casemap"):
            comparator(c, cmp.encode())
            st, line, unt = c.cmd("THREAD ORDEREDSUBJECT UTF-8 ALL")
            got = [r for r in unt if r.startswith(b"* THREAD")]
            t.ok(st == "OK" and got == [want[cmp]],
                 "%s: THREAD ORDEREDSUBJECT %s" % (cmp, want[cmp].decode()),
                 "got %r\n%s" % (got, c.log()))
            st, line, unt = c.cmd("THREAD REFERENCES UTF-8 ALL")
            got = [r for r in unt if r.startswith(b"* THREAD")]
            t.ok(st == "OK" and got == [want[cmp]],
                 "%s: THREAD REFERENCES merges by subject alike" % cmp,
                 "got %r\n%s" % (got, c.log()))
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
        for fn in (capability_and_command, sorting, searching, threading):
            t.check(fn.__name__, fn, srv.port("imap"))
        srv.stop()
    finally:
        srv.cleanup()
    t.done()


main()
