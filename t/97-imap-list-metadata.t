#!/usr/bin/python3
# IMAP LIST-METADATA (RFC 9590) over raw connections: LIST ... RETURN
# (METADATA (entry ...)) gives each listed mailbox's LIST, then its
# METADATA response, the same as GETMETADATA's (§3, in the shape of §4's
# examples); MAXSIZE (OK [METADATA LONGENTRIES n]) and DEPTH, as a list
# or bare; with STATUS; nothing for \NonExistent names; malformed and
# over-the-limit options BAD; shared folders (RFC 5464 §3.3: "l" and one
# of "r s w i p", else no METADATA), each user's /private its own; the
# budget of octets a command (NO [LIMIT]).
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import IMAPRaw, TAP, Server  # noqa: E402

ANN, BOB, PW = "ann@example.test", "bob@example.test", "lm-pw"
OU = "Other Users/ann@example.test"
t = TAP()
srv = Server(services=("imap",),
             overrides=["auth.allow_plaintext=yes",
                        "auth.failure_delay_max=0",
                        "imapd.max_errors=1000"])
srv.setup(users=[(ANN, PW), (BOB, PW)])


def Imap(user):
    return IMAPRaw("127.0.0.1", srv.port("imap")).login(user, PW)


def ok(r):
    return re.match(rb"^t\d+ OK", r) is not None


def bad(r):
    return re.match(rb"^t\d+ BAD", r) is not None


def lit(data):
    return b"{%d+}\r\n" % len(data) + data


def pairs(un):
    """{mailbox: METADATA line} and the check that every METADATA line
    follows its mailbox's LIST (and STATUS) lines."""
    meta, last, order = {}, None, True
    for line in un:
        m = re.match(rb'\* LIST \([^)]*\) "/" (.*)\r\n$', line)
        if m:
            last = m.group(1)
            continue
        m = re.match(rb"\* METADATA (\"[^\"]*\"|\S+) ", line)
        if m:
            if m.group(1) != last:
                order = False
            meta[m.group(1)] = line
    return meta, order


try:
    srv.start()
    ann = Imap(ANN)
    un, r = ann.cmd("CAPABILITY")
    t.ok(b"LIST-METADATA" in b"".join(un).split(),
         "CAPABILITY has LIST-METADATA", un)

    # ---- the shape of RFC 9590 §4's examples ----
    for cmd in ('SETMETADATA INBOX (/private/comment "My own comment")',
                "CREATE foo", "CREATE foo/bar", "CREATE baz",
                'SETMETADATA foo (/shared/comment "Shared comment" '
                '/private/comment "foo\'s")',
                'SETMETADATA foo/bar (/shared/comment "bar")'):
        r = ann.cmd(cmd)[1]
        t.ok(ok(r), cmd, r)
    un, r = ann.cmd('LIST "" (INBOX foo baz) RETURN (METADATA '
                    '(/shared/comment /private/comment))')
    t.eq(un, [b'* LIST (\\HasNoChildren) "/" INBOX\r\n',
              b'* METADATA INBOX (/shared/comment NIL /private/comment '
              b'"My own comment")\r\n',
              b'* LIST (\\HasNoChildren) "/" baz\r\n',
              b'* METADATA baz (/shared/comment NIL /private/comment '
              b'NIL)\r\n',
              b'* LIST (\\HasChildren) "/" foo\r\n',
              b'* METADATA foo (/shared/comment "Shared comment" '
              b'/private/comment "foo\'s")\r\n'],
         "§3: each LIST then its METADATA, NIL for what is not there")
    t.ok(r.startswith(b"t") and b" OK LIST completed" in r, "OK", r)
    un, r = ann.cmd('LIST "" * RETURN (METADATA (/shared/comment))')
    meta, order = pairs(un)
    lists = [x for x in un if x.startswith(b"* LIST ")]
    t.ok(ok(r) and order and len(meta) == len(lists) and len(lists) >= 4,
         "every listed mailbox has its METADATA right after its LIST", un)
    same = True
    for box, line in meta.items():
        g, r2 = ann.cmd(b"GETMETADATA " + box + b" (/shared/comment)")
        same = same and g == [line]
    t.ok(same, "each the same as GETMETADATA's")
    un, r = ann.cmd('LIST "" foo/% RETURN (CHILDREN METADATA '
                    '(/shared/comment))')
    t.ok(un == [b'* LIST (\\HasNoChildren) "/" foo/bar\r\n',
                b'* METADATA foo/bar (/shared/comment "bar")\r\n'] and
         ok(r), "one entry, with another return option", un)

    # ---- MAXSIZE (RFC 5464 §4.2.1) and DEPTH (§4.2.2) ----
    for opt in ("(MAXSIZE 10) /shared/comment /private/comment",
                "MAXSIZE 10 (/shared/comment /private/comment)"):
        un, r = ann.cmd('LIST "" (INBOX foo) RETURN (METADATA (%s))' % opt)
        t.eq(un, [b'* LIST (\\HasNoChildren) "/" INBOX\r\n',
                  b'* METADATA INBOX (/shared/comment NIL)\r\n',
                  b'* LIST (\\HasChildren) "/" foo\r\n',
                  b'* METADATA foo (/private/comment "foo\'s")\r\n'],
             "MAXSIZE 10 as %s: the longer values left out" % opt)
        t.ok(re.match(rb"t\d+ OK \[METADATA LONGENTRIES 14\]", r) is not None,
             "OK [METADATA LONGENTRIES 14] (the largest left out)", r)
    un, r = ann.cmd('LIST "" foo RETURN (METADATA ((DEPTH infinity) '
                    '/shared))')
    t.eq(un, [b'* LIST (\\HasChildren) "/" foo\r\n',
              b'* METADATA foo (/shared/comment "Shared comment")\r\n'],
         "DEPTH infinity under /shared: what exists, no NIL")
    un, r = ann.cmd('LIST "" baz RETURN (METADATA ((DEPTH 1) /private))')
    t.ok(un == [b'* LIST (\\HasNoChildren) "/" baz\r\n'] and ok(r),
         "DEPTH and nothing there: no METADATA response at all", un)

    # ---- with STATUS (RFC 5819): LIST, STATUS, METADATA ----
    un, r = ann.cmd('LIST "" INBOX RETURN (STATUS (MESSAGES) METADATA '
                    '(/private/comment))')
    t.eq(un, [b'* LIST (\\HasNoChildren) "/" INBOX\r\n',
              b'* STATUS INBOX (MESSAGES 0)\r\n',
              b'* METADATA INBOX (/private/comment "My own comment")\r\n'],
         "with STATUS: LIST, STATUS, METADATA")

    # ---- names that are not mailboxes ----
    for cmd in ("CREATE gone", "SUBSCRIBE gone", "DELETE gone"):
        r = ann.cmd(cmd)[1]
        t.ok(ok(r), cmd + " (the subscription stays)", r)
    un, r = ann.cmd('LIST (SUBSCRIBED) "" gone RETURN (METADATA '
                    '(/private/comment))')
    t.ok(ok(r) and len(un) == 1 and b"\\NonExistent" in un[0] and
         un[0].endswith(b' "/" gone\r\n'),
         "a \\NonExistent name has no METADATA", (un, r))
    un, r = ann.cmd('LIST "" "" RETURN (METADATA (/private/comment))')
    t.ok(ok(r) and len(un) == 1 and un[0].startswith(b"* LIST (\\Noselect)"),
         'LIST "" "": the separator, no METADATA', un)

    # ---- malformed ----
    many = " ".join("/private/e%d" % i for i in range(51))
    fifty = " ".join("/private/e%d" % i for i in range(50))
    for opt, why in (("METADATA", "no argument"),
                     ("METADATA ()", "no entry"),
                     ("METADATA /private/comment", "not a list"),
                     ("METADATA (/private/a*)", "a wildcard in a name"),
                     ("METADATA (/other/comment)", "another root"),
                     ("METADATA (/private/)", "a trailing /"),
                     ("METADATA ((MAXSIZE) /private/x)", "MAXSIZE alone"),
                     ("METADATA (MAXSIZE /private/x)", "MAXSIZE no number"),
                     ("METADATA ((MAXSIZE -1) /private/x)", "MAXSIZE -1"),
                     ("METADATA ((DEPTH 2) /private/x)", "DEPTH 2"),
                     ("METADATA ((COLOR 1) /private/x)", "an unknown option"),
                     ("METADATA (/private/x) METADATA (/private/y)",
                      "METADATA twice"),
                     ("METADATA (%s)" % many, "51 entries")):
        un, r = ann.cmd('LIST "" INBOX RETURN (%s)' % opt)
        t.ok(bad(r) and un == [], "BAD: %s" % why, r)
    un, r = ann.cmd('LIST "" INBOX RETURN (METADATA (%s))' % fifty)
    t.ok(ok(r) and len(un) == 2 and un[1].count(b" NIL") == 50,
         "50 entries: OK, each NIL", r)
    r = ann.cmd('LSUB "" * RETURN (METADATA (/private/x))')[1]
    t.ok(bad(r), "not on LSUB", r)

    # ---- shared folders (RFC 5464 §3.3) ----
    for box, rights in (("Projects", "lrswi"), ("Notes", "lr"),
                        ("Lookup", "l")):
        t.ok(ok(ann.cmd("CREATE " + box)[1]), "ann creates " + box)
        t.ok(ok(ann.cmd("SETACL %s bob %s" % (box, rights))[1]),
             "SETACL %s bob %s" % (box, rights))
        r = ann.cmd('SETMETADATA %s (/shared/comment "%s shared" '
                    '/private/comment "ann\'s")' % (box, box))[1]
        t.ok(ok(r), "ann annotates " + box, r)
    bob = Imap(BOB)
    r = bob.cmd('SETMETADATA "%s/Projects" (/private/comment "bob\'s")'
                % OU)[1]
    t.ok(ok(r), "bob's own /private entry on Projects", r)
    un, r = bob.cmd('LIST "" "Other Users/*" RETURN (METADATA '
                    '(/shared/comment /private/comment))')
    meta, order = pairs(un)
    q = b'"' + OU.encode()
    t.ok(ok(r) and order, "bob lists the shared folders", un)
    t.eq(meta.get(q + b'/Projects"'),
         b'* METADATA ' + q + b'/Projects" (/shared/comment '
         b'"Projects shared" /private/comment "bob\'s")\r\n',
         "Projects (lrswi): the shared entry and bob's own private one")
    t.eq(meta.get(q + b'/Notes"'),
         b'* METADATA ' + q + b'/Notes" (/shared/comment "Notes shared" '
         b'/private/comment NIL)\r\n',
         "Notes (lr): ann's /private entry is not bob's")
    t.ok(any(b"/Lookup" in x and x.startswith(b"* LIST") for x in un) and
         q + b'/Lookup"' not in meta,
         "Lookup (l alone): listed, no METADATA", un)
    t.ok(q + b'"' not in meta, "the owner's root: no METADATA", un)
    un, r = ann.cmd('LIST "" Projects RETURN (METADATA (/private/comment))')
    t.ok(un[1:] == [b'* METADATA Projects (/private/comment "ann\'s")\r\n'],
         "ann's own /private entry is hers", un)

    # ---- the budget: 4 MiB of values a command ----
    big = b"v" * 65536
    for box in ("big1", "big2"):
        ann.cmd("CREATE " + box)
        for k in range(3):
            r = ann.cmd(b"SETMETADATA " + box.encode() + b" (" + b" ".join(
                b"/private/b%d " % (k * 11 + i) + lit(big)
                for i in range(11)) + b")")[1]
            t.ok(ok(r), "%s: 11 values of 64 KiB" % box, r)
    names = " ".join("/private/b%d" % i for i in range(33))
    un, r = ann.cmd('LIST "" big%% RETURN (METADATA (%s))' % names)
    sent = sum(x.count(big) for x in un)
    t.ok(re.match(rb"t\d+ NO \[LIMIT\]", r) is not None,
         "66 values of 64 KiB: NO [LIMIT]", r)
    t.ok(sent == 64 and len([x for x in un if x.startswith(b"* LIST")]) == 2,
         "both LISTs, and the values up to 4 MiB only (%d)" % sent)
    un, r = ann.cmd('LIST "" big%% RETURN (METADATA (MAXSIZE 1000 (%s)))'
                    % names)
    t.ok(re.match(rb"t\d+ OK \[METADATA LONGENTRIES 65536\]", r) is not None
         and len(un) == 2, "with MAXSIZE 1000: OK [METADATA LONGENTRIES "
         "65536]", r)
    un, r = ann.cmd("NOOP")
    t.ok(ok(r), "the session goes on", r)
    for c in (ann, bob):
        c.close()
finally:
    srv.stop()
    srv.cleanup()
t.done()
