#!/usr/bin/python3
# The default comparator of I18NLEVEL=2 (RFC 5255 section 4; COMPARATOR
# itself: t/94-imap-comparator.t) against the real server, with a raw
# client on 143: SEARCH's string keys (SUBJECT, FROM, TO, CC, BCC, HEADER,
# BODY, TEXT), SORT's string keys and THREAD's base subjects compare
# under i;unicode-casemap (RFC 5051): each character's simple titlecase
# mapping, then NFKD, as octets.  What that makes of what clients search
# for, worked out character by character:
# - "stra\u00dfe" finds "STRA\u00dfE" but not "STRASSE" (sharp s has no
#   simple titlecase mapping and no decomposition);
# - Greek and Cyrillic case go (final sigma too); an accent decomposes to
#   a combining mark after its letter, so "\u03ac\u03bd\u03bd\u03b1"
#   finds "\u0386\u03bd\u03bd\u03b1" but "\u0391\u039d\u039d\u0391" does
#   not (the mark stands between A and N);
# - precomposed e-acute and e + U+0301 match each other, and "cafe" is in
#   both;
# - fullwidth letters are ASCII after NFKD: "abc" finds "\uff21\uff22\uff23";
# - the "fi" ligature decomposes after the titlecase step, to small
#   letters: "\ufb01nal" finds itself, "final" and "FINAL" do not;
# - RFC 2047 words (UTF-8 and ISO-8859-1) are decoded first;
# - SORT orders by the forms' octets: "AAB" before "A_B" (i;ascii-casemap
#   upper-cases too), "\u00c9mile" beside "Emile", not after "zebra";
# - the capability is there (I18NLEVEL=2, which includes =1's rules) and
#   a session starts with i;unicode-casemap.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from maildtest import IMAPConn, TAP, Server  # noqa: E402

t = TAP()
U, PW = "ina@example.test", "ina-secret"


def append(c, box, msg):
    return c.cmd(b"APPEND %s {%d+}\r\n%s" % (box.encode(), len(msg), msg))


def msg(headers, body="text", charset=None):
    h = "\r\n".join("%s: %s" % kv for kv in headers)
    if charset:
        h += ("\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; "
              "charset=%s\r\nContent-Transfer-Encoding: 8bit" % charset)
    return (h + "\r\n\r\n" + body + "\r\n").encode("utf-8")


def numbers(unt, word):
    for r in unt:
        if r.startswith(b"* " + word.encode()):
            return [int(x) for x in r.split()[2:] if x.isdigit()]
    return None


def search(c, key, value, cmd="SEARCH CHARSET UTF-8"):
    """cmd key {n+}value: the numbers found, or the status if not OK."""
    v = value.encode("utf-8") if isinstance(value, str) else value
    st, line, unt = c.cmd(b"%s %s {%d+}\r\n%s" % (cmd.encode(), key.encode(),
                                                   len(v), v))
    return numbers(unt, "SEARCH") if st == "OK" else st


# The mailbox "I18n", in this order (sequence numbers 1..9).
MSGS = [
    # 1: a UTF-8 RFC 2047 subject with sharp s; a Greek name, accented
    msg([("From", "=?UTF-8?B?zobOvc69zrEgzqDOsc+AzrHOtM6/z4DOv8+NzrvOv8+F?="
          " <anna@gr.test>"),
         ("Subject", "=?UTF-8?Q?Stra=C3=9Fe_5?=")],
        "\u039a\u03b1\u03bb\u03b7\u03bc\u03ad\u03c1\u03b1 \u03ba\u03cc\u03c3"
        "\u03bc\u03b5", "utf-8"),
    # 2: the ASCII spelling; Latin "ANNA"; a Cc with an umlaut; é
    #    precomposed in the body
    msg([("From", "ANNA <anna2@x.test>"),
         ("Cc", "=?ISO-8859-1?Q?J=F6rg?= <j@x.test>"),
         ("Subject", "STRASSE 7")],
        "caf\u00e9 au lait", "utf-8"),
    # 3: Cyrillic subject (RFC 2047 B), a Bcc; e + U+0301 and fullwidth
    #    letters in the body
    msg([("From", "=?UTF-8?B?0JjQstCw0L0=?= <ivan@ru.test>"),
         ("Bcc", "=?UTF-8?B?0IHQu9C60LA=?= <e@ru.test>"),
         ("Subject", "=?UTF-8?B?0J/RgNC40LLQtdGCINC80LjRgA==?=")],
        "cafe\u0301 \uff21\uff22\uff23", "utf-8"),
    # 4: the fi ligature; a Greek To: in capitals, final sigma; Grüße
    msg([("To", "=?UTF-8?B?zp/OlM6lzqPOo86VzqXOow==?= <od@gr.test>"),
         ("Subject", "=?UTF-8?B?76yBbmFsIHJlcG9ydA==?=")],
        "Gr\u00fc\u00dfe", "utf-8"),
    # 5: an ISO-8859-1 subject
    msg([("Subject", "=?ISO-8859-1?Q?Caf=E9?=")]),
    # 6..9: for SORT
    msg([("Subject", "a_b")]),
    msg([("Subject", "aab")]),
    msg([("Subject", "=?UTF-8?Q?=C3=89mile?=")]),
    msg([("Subject", "zebra")]),
]


def capabilities(port):
    c = IMAPConn(port, timeout=60)
    try:
        st, line, unt = c.cmd('LOGIN "%s" "%s"' % (U, PW))
        t.ok(st == "OK" and b" I18NLEVEL=2" in line,
             "LOGIN's capabilities: I18NLEVEL=2", c.log())
        st, line, unt = c.cmd("COMPARATOR")
        t.ok(st == "OK" and unt == [b"* COMPARATOR i;unicode-casemap"],
             "a session starts with i;unicode-casemap", c.log())
    finally:
        c.close()


def searching(port):
    c = IMAPConn(port, timeout=60)
    try:
        c.cmd('LOGIN "%s" "%s"' % (U, PW))
        c.cmd("CREATE I18n")
        for m in MSGS:
            st, line, _ = append(c, "I18n", m)
            t.ok(st == "OK", "APPEND %s" % m.split(b"\r\n")[0][:60].decode(),
                 c.log())
        st, line, unt = c.cmd("SELECT I18n")
        t.ok(st == "OK" and b"* 9 EXISTS" in unt, "SELECT: 9 messages",
             c.log())

        cases = [
            # sharp s (RFC 2047 decoded first)
            ("SUBJECT", "stra\u00dfe", [1], "straße finds Straße"),
            ("SUBJECT", "STRA\u00dfE", [1], "STRAßE finds Straße"),
            ("SUBJECT", "strasse", [2],
             "strasse finds STRASSE only: ß is not ss"),
            # Greek, accents and final sigma
            ("FROM", "\u03ac\u03bd\u03bd\u03b1", [1],
             "FROM άννα finds Άννα (both: Α U+0301 ΝΝΑ)"),
            ("FROM", "\u0391\u039d\u039d\u0391", [],
             "FROM ΑΝΝΑ finds nothing: Άννα has its accent after the "
             "Α, and ANNA is Latin"),
            ("FROM", "\u03bd\u03bd\u03b1 \u03c0\u03b1\u03c0\u03b1", [1],
             "FROM ννα παπα: the rest of the name, any case"),
            ("FROM", "anna", [1, 2],
             "FROM anna: the Latin ones (anna@gr.test, ANNA)"),
            ("TO", "\u03bf\u03b4\u03c5\u03c3\u03c3\u03b5\u03c5\u03c2", [4],
             "TO οδυσσευς finds ΟΔΥΣΣΕΥΣ (final sigma)"),
            # Cyrillic
            ("SUBJECT", "\u043f\u0440\u0438\u0432\u0435\u0442 "
             "\u043c\u0418\u0440", [3],
             "SUBJECT привет мИр finds Привет мир"),
            ("FROM", "\u0438\u0432\u0430\u043d", [3],
             "FROM иван finds Иван"),
            ("BCC", "\u0451\u043b\u043a\u0430", [3],
             "BCC ёлка finds Ёлка (Е and U+0308 both)"),
            ("BCC", "\u0435\u043b\u043a\u0430", [],
             "BCC елка does not: the diaeresis stands between"),
            ("CC", "J\u00d6RG", [2], "CC JÖRG finds Jörg (ISO-8859-1 word)"),
            # accents either way
            ("BODY", "CAF\u00c9", [2, 3],
             "BODY CAFÉ finds café and cafe+U+0301"),
            ("BODY", "cafe\u0301 au", [2],
             "BODY cafe+U+0301 au finds precomposed café au"),
            ("BODY", "cafe", [2, 3], "BODY cafe: the accent follows the e"),
            ("SUBJECT", "caf\u00e9", [5],
             "SUBJECT café finds an ISO-8859-1 RFC 2047 subject"),
            ("SUBJECT", "\u00e9MILE", [8], "SUBJECT éMILE finds Émile"),
            ("SUBJECT", "emile", [],
             "SUBJECT emile does not: the accent stands between"),
            # fullwidth letters
            ("BODY", "abc", [3], "BODY abc finds ＡＢＣ"),
            ("TEXT", "\uff41\uff42\uff43", [3],
             "TEXT ａｂｃ finds ＡＢＣ"),
            # the ligature
            ("SUBJECT", "\ufb01nal", [4], "SUBJECT ﬁnal finds ﬁnal"),
            ("SUBJECT", "final", [],
             "SUBJECT final: nothing (the ligature decomposes to small "
             "fi after the titlecase step)"),
            ("SUBJECT", "NAL REPORT", [4],
             "SUBJECT NAL REPORT finds ﬁnal report"),
            # TEXT, HEADER
            ("TEXT", "gr\u00fc\u00dfe", [4], "TEXT grüße: in the body"),
            ("TEXT", "\u03ba\u03b1\u03bb\u03b7\u03bc\u0388\u03c1\u03b1", [1],
             "TEXT καλημΈρα finds Καλημέρα"),
            ("HEADER Subject", "\u041f\u0420\u0418\u0412\u0415\u0422", [3],
             "HEADER Subject ПРИВЕТ"),
        ]
        for key, value, want, why in cases:
            got = search(c, key, value)
            t.ok(got == want, "SEARCH %s: %s -> %s" % (key, why, want),
                 "got %r\n%s" % (got, c.log()))
        got = search(c, "SUBJECT", "stra\u00dfe", "UID SEARCH CHARSET UTF-8")
        t.ok(got == [1], "UID SEARCH, the same comparator", c.log())
        st, line, unt = c.cmd(b"SEARCH CHARSET UTF-8 SUBJECT {2+}\r\na\xff")
        t.ok(st == "OK" and numbers(unt, "SEARCH") == [],
             "an octet that is not UTF-8 in the needle: OK, as an octet",
             c.log())
        st, line, unt = c.cmd("SEARCH SUBJECT STRASSE")
        t.ok(st == "OK" and numbers(unt, "SEARCH") == [2],
             "ASCII without CHARSET: the same comparator", c.log())

        # SORT (RFC 5256) by the forms' octets: AAB < A_B < CAFE\u0301 <
        # E\u0301MILE < STRASSE 7 < STRAßE 5 < ZEBRA < fiNAL REPORT (the
        # ligature's small letters) < ПРИВЕТ МИР
        order = [7, 6, 5, 8, 2, 1, 9, 4, 3]
        st, line, unt = c.cmd("SORT (SUBJECT) UTF-8 ALL")
        t.ok(st == "OK" and numbers(unt, "SORT") == order,
             "SORT (SUBJECT): %s" % order, c.log())
        st, line, unt = c.cmd("SORT (REVERSE SUBJECT) UTF-8 ALL")
        t.ok(st == "OK" and numbers(unt, "SORT") == order[::-1],
             "SORT (REVERSE SUBJECT)", c.log())
        # what is not UTF-8 compares as octets (RFC 5051 section 2)
        st, line, unt = c.cmd(b"SORT (SUBJECT) UTF-8 SUBJECT {5+}\r\n"
                              b"stra\xc3")
        t.ok(st == "OK" and numbers(unt, "SORT") == [1],
             "SORT with a cut UTF-8 needle: OK, its octets (STRA, 0xc3) "
             "are in STRAßE's", c.log())
        st, line, unt = c.cmd(b"SORT (SUBJECT) UTF-8 SUBJECT {4+}\r\nSTRA")
        t.ok(st == "OK" and numbers(unt, "SORT") == [2, 1],
             "SORT (SUBJECT) of a SEARCH: STRASSE before STRAßE", c.log())
        c.cmd("LOGOUT")
    finally:
        c.close()


def names(port):
    """DISPLAYFROM and FROM: names and mailboxes under the comparator."""
    c = IMAPConn(port, timeout=60)
    try:
        c.cmd('LOGIN "%s" "%s"' % (U, PW))
        c.cmd("CREATE Names")
        for frm in ["=?UTF-8?Q?Zo=C3=AB?= <zoe@x.test>",
                    "Bob <_bob@x.test>",
                    "=?UTF-8?Q?=C3=85sa?= <asa@x.test>",
                    "=?UTF-8?Q?=C3=89mile?= <Emile@x.test>",
                    "\"alan\" <ALAN@x.test>"]:
            append(c, "Names", msg([("From", frm), ("Subject", "x")]))
        c.cmd("SELECT Names")
        # ÅSA = A U+030A SA, so before ALAN?  "A" then U+030A (0xCC) is
        # after "AL": ALAN, A\u030aSA, BOB, E\u0301MILE, ZOE\u0308
        st, line, unt = c.cmd("SORT (DISPLAYFROM) UTF-8 ALL")
        t.ok(st == "OK" and numbers(unt, "SORT") == [5, 3, 2, 4, 1],
             "SORT (DISPLAYFROM): alan, Åsa, Bob, Émile, Zoë", c.log())
        # addr-mailbox: ALAN, ASA, EMILE, ZOE, _BOB ('_' after 'Z')
        st, line, unt = c.cmd("SORT (FROM) UTF-8 ALL")
        t.ok(st == "OK" and numbers(unt, "SORT") == [5, 3, 4, 1, 2],
             "SORT (FROM): ALAN ASA EMILE ZOE _BOB (upper case: '_' after "
             "'Z')", c.log())

        # THREAD=ORDEREDSUBJECT: base subjects equal under the comparator
        c.cmd("CREATE Thr")
        for subj, date in [
                ("=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=", "02"),
                ("=?UTF-8?Q?Re:_GR=C3=9C=C3=9FE?=", "03"),
                ("Gruesse", "04"),
                ("=?UTF-8?Q?Re:_cafe=CC=81?=", "05"),
                ("=?UTF-8?Q?CAF=C3=89?=", "01")]:
            append(c, "Thr", msg([("Subject", subj), (
                "Date", "Mon, %s Jan 2024 10:00:00 +0000" % date)]))
        c.cmd("SELECT Thr")
        st, line, unt = c.cmd("THREAD ORDEREDSUBJECT UTF-8 ALL")
        got = [r for r in unt if r.startswith(b"* THREAD")]
        t.ok(st == "OK" and got == [b"* THREAD (5 4)(1 2)(3)"],
             "THREAD ORDEREDSUBJECT: CAFÉ with Re: cafe+U+0301, Grüße with "
             "Re: GRÜßE, Gruesse alone", "got %r\n%s" % (got, c.log()))
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
        for fn in (capabilities, searching, names):
            t.check(fn.__name__, fn, srv.port("imap"))
        srv.stop()
    finally:
        srv.cleanup()
    t.done()


main()
