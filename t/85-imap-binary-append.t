#!/usr/bin/python3
# IMAP BINARY (RFC 3516), MULTIAPPEND (RFC 3502) and CATENATE (RFC 4469)
# against the real imapd, over a raw connection: decoded parts checked
# against Python's own decoders, literal8 both ways, all-or-nothing
# appends seen from another session, CATENATE's URLs, and a 20 MB
# base64 attachment fetched with BINARY while the serving process's
# peak memory stays bounded.
import base64
import binascii
import os
import random
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import IMAPRaw, TAP, Server  # noqa: E402

U, PW = "pat@example.test", "pat-pw"
U2, PW2 = "kim@example.test", "kim-pw"
t = TAP()
srv = Server(services=("imap",), overrides=["auth.allow_plaintext=yes"])
srv.setup(users=[(U, PW), (U2, PW2)])
rnd = random.Random(3516)


def crlf(s):
    if isinstance(s, str):
        s = s.encode()
    return re.sub(rb"(?<!\r)\n", b"\r\n", s)


def b64lines(data):
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def Imap(user=U, pw=PW):
    c = IMAPRaw("127.0.0.1", srv.port("imap"), timeout=120)
    c.login(user, pw)
    return c


def item(lines, label):
    """The value of a FETCH item: (octets, 'literal'|'literal8'|atom)."""
    data = b"".join(lines)
    i = data.find(label + b" ")
    if i < 0:
        return None, None
    j = i + len(label) + 1
    m = re.match(rb"(~?)\{(\d+)\}\r\n", data[j:])
    if m:
        n = int(m.group(2))
        start = j + m.end()
        return data[start:start + n], "literal8" if m.group(1) else "literal"
    m = re.match(rb"[^ )]+", data[j:])
    return m.group(0), "atom"


class Sync:
    """Pieces of one command sent as the server asks ("+" for each
    synchronizing literal); returns every line read and the tagged one."""

    def __init__(self, c):
        self.c = c

    def run(self, pieces):
        c = self.c
        c.n += 1
        tag = b"s%d" % c.n
        lines = []
        for k, p in enumerate(pieces):
            c.sock.sendall((tag + b" " if k == 0 else b"") + p)
            if k == len(pieces) - 1:
                break
            line = c.f.readline()
            lines.append(line)
            if not line.startswith(b"+"):
                return lines, line      # refused before the literal
        while True:
            line = c.f.readline()
            if not line:
                return lines, b""
            lines.append(line)
            if line.startswith(tag + b" "):
                return lines, line


def status(c, box, what="MESSAGES UIDNEXT"):
    un, ok = c.cmd("STATUS %s (%s)" % (box, what))
    m = re.search(rb"\((.*)\)", b"".join(un))
    toks = m.group(1).split() if m else []
    return dict(zip([x.decode() for x in toks[::2]],
                    [int(x) for x in toks[1::2]]))


def appenduid(ok):
    m = re.search(rb"\[APPENDUID (\d+) ([0-9:,]+)\]", ok)
    return (int(m.group(1)), m.group(2).decode()) if m else (None, None)


# ---------------------------------------------------------------------------
# A message with every kind of part

qp_text = ("Caf\u00e9 cr\u00e8me, one line that is long enough to be "
           "folded by the quoted-printable encoder, and more words after "
           "that\nsecond line =\ttab\nlast line").encode()
qp_enc = crlf(binascii.b2a_qp(qp_text))
blob = bytes(rnd.randrange(256) for _ in range(3000)) + b"\0\0tail"
html = b"<html><body><p>Hello \xc3\xa9</p>\r\n</body></html>\r\n"
inner = b"inner text\r\nsecond\r\n"
parts_msg = crlf(
    "From: a@remote.test\n"
    "To: pat@example.test\n"
    "Subject: parts\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"XX\"\n"
    "\n"
    "preamble\n"
    "--XX\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n") + qp_enc + crlf(
    "\n--XX\n"
    "Content-Type: application/octet-stream\n"
    "Content-Transfer-Encoding: BASE64\n"
    "\n") + b64lines(blob) + crlf(
    "--XX\n"
    "Content-Type: multipart/alternative; boundary=\"YY\"\n"
    "\n"
    "--YY\n"
    "Content-Type: text/plain\n"
    "\n"
    "plain 7bit\n"
    "--YY\n"
    "Content-Type: text/html\n"
    "Content-Transfer-Encoding: base64\n"
    "\n") + b64lines(html) + crlf(
    "--YY--\n"
    "--XX\n"
    "Content-Type: application/x-foo\n"
    "Content-Transfer-Encoding: x-uuencode\n"
    "\n"
    "begin 644 foo\n"
    "#86)C\n"
    "end\n"
    "--XX\n"
    "Content-Type: message/rfc822\n"
    "\n"
    "From: b@remote.test\n"
    "Subject: inner\n"
    "Content-Transfer-Encoding: base64\n"
    "\n") + b64lines(inner) + crlf("--XX--\n")

try:
    srv.start()
    c = Imap()
    _, ok = c.cmd("CAPABILITY")
    caps = c.cmd("CAPABILITY")[0][0]
    t.ok(all(x in caps.split() for x in (b"BINARY", b"MULTIAPPEND",
                                           b"CATENATE")),
         "BINARY, MULTIAPPEND and CATENATE are advertised", caps)

    # -- BINARY (RFC 3516) --------------------------------------------
    un, ok = c.cmd(b"APPEND INBOX {%d+}\r\n" % len(parts_msg) + parts_msg)
    t.ok(b" OK" in ok, "the message with every kind of part is appended",
         ok)
    c.cmd("SELECT INBOX")
    un, ok = c.cmd("FETCH 1 (BINARY.PEEK[1] BINARY.SIZE[1])")
    got, kind = item(un, b"BINARY[1]")
    want = binascii.a2b_qp(qp_enc)
    t.ok(b" OK" in ok and got == want and kind == "literal",
         "BINARY[1]: the quoted-printable part as Python decodes it, "
         "in a literal", (ok, got, want))
    size, _ = item(un, b"BINARY.SIZE[1]")
    t.eq(size, str(len(want)).encode(), "BINARY.SIZE[1] is its length")
    t.ok(not any(b"\\Seen" in l for l in un), "BINARY.PEEK sets no \\Seen",
         un)

    un, ok = c.cmd("FETCH 1 (BINARY.SIZE[2] BINARY.PEEK[2])")
    got, kind = item(un, b"BINARY[2]")
    t.ok(got == base64.b64decode(b64lines(blob)) == blob and
         kind == "literal8",
         "BINARY[2]: the base64 part decoded, in a literal8 (~{n}) since "
         "it holds NULs (RFC 3516 §4.3)", (ok, kind, got and got[:40]))
    size, _ = item(un, b"BINARY.SIZE[2]")
    t.eq(size, str(len(blob)).encode(), "BINARY.SIZE[2] is %d" % len(blob))

    un, ok = c.cmd("FETCH 1 (BINARY.PEEK[2]<10.100> "
                   "BINARY.PEEK[2]<2990.500> BINARY.PEEK[1]<5.7>)")
    t.eq(item(un, b"BINARY[2]<10>")[0], blob[10:110],
         "a partial <10.100> counts in decoded octets")
    t.eq(item(un, b"BINARY[2]<2990>")[0], blob[2990:],
         "a partial running past the end stops there")
    t.eq(item(un, b"BINARY[1]<5>")[0], want[5:12],
         "a partial of the quoted-printable part")
    un, ok = c.cmd("FETCH 1 (BINARY.PEEK[2]<99999.10>)")
    t.ok(b" OK" in ok and item(un, b"BINARY[2]<99999>")[0] == b"",
         "a partial beyond the end is empty", un)

    un, ok = c.cmd("FETCH 1 (BINARY.PEEK[3] BODY.PEEK[3] BINARY.PEEK[3.1] "
                   "BINARY.PEEK[3.2] BINARY.SIZE[3.2] BINARY.PEEK[5.1] "
                   "BINARY.PEEK[5])")
    t.ok(b" OK" in ok and item(un, b"BINARY[3]")[0] ==
         item(un, b"BODY[3]")[0] and b"--YY" in item(un, b"BINARY[3]")[0],
         "BINARY on a multipart section is its body as it stands "
         "(no encoding to undo), as BODY[3]", ok)
    t.eq(item(un, b"BINARY[3.1]")[0], b"plain 7bit",
         "BINARY[3.1]: a 7bit part as is")
    t.eq(item(un, b"BINARY[3.2]")[0], html,
         "BINARY[3.2]: a base64 part inside a nested multipart")
    t.eq(item(un, b"BINARY.SIZE[3.2]")[0], str(len(html)).encode(),
         "its BINARY.SIZE")
    t.eq(item(un, b"BINARY[5.1]")[0], inner,
         "BINARY[5.1]: the body of an attached message, decoded")
    t.ok(item(un, b"BINARY[5]")[0].startswith(b"From: b@remote.test\r\n"),
         "BINARY[5]: the attached message itself", un)

    un, ok = c.cmd("FETCH 1 (BINARY.PEEK[4])")
    t.ok(ok.startswith(b"t") and b" NO [UNKNOWN-CTE]" in ok and
         not any(b"FETCH" in l for l in un),
         "an unknown Content-Transfer-Encoding: NO [UNKNOWN-CTE], no "
         "response for it", (un, ok))
    un, ok = c.cmd("FETCH 1 (BINARY.SIZE[4])")
    t.ok(b" NO [UNKNOWN-CTE]" in ok, "BINARY.SIZE of it too", ok)
    un, ok = c.cmd("FETCH 1 (BINARY.PEEK[9] BINARY.SIZE[9])")
    t.ok(b" OK" in ok and item(un, b"BINARY[9]")[0] == b"" and
         item(un, b"BINARY.SIZE[9]")[0] == b"0",
         "a part that does not exist is empty, as for BODY", un)
    for bad in ("BINARY[HEADER]", "BINARY[1.MIME]", "BINARY[0]",
                "BINARY.SIZE[1]<0.5>", "BINARY[1]<5>"):
        _, ok = c.cmd("FETCH 1 (%s)" % bad)
        t.ok(b" BAD" in ok, "FETCH %s is BAD (RFC 3516 §4.2 grammar)" % bad,
             ok)
    un, ok = c.cmd("FETCH 1 (BINARY.PEEK[] BODY.PEEK[])")
    t.ok(item(un, b"BINARY[]")[0] == item(un, b"BODY[]")[0] == parts_msg,
         "BINARY[] is the whole message, as BODY[]", ok)
    un, ok = c.cmd("UID FETCH 1 (BINARY[1])")
    t.ok(b" OK" in ok and any(b"\\Seen" in l for l in un),
         "BINARY (not .PEEK) sets \\Seen and says so", un)

    # -- APPEND with literal8: binary content stored as it came ---------
    raw = bytes(range(256)) * 4 + b"\n\nbare\nLF\r\r\n\0"
    bmsg = (b"From: a@remote.test\r\nSubject: binary\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=b1\r\n\r\n"
            b"--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
            b"--b1\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Transfer-Encoding: binary\r\n\r\n" + raw +
            b"\r\n--b1--\r\n")
    un, ok = c.cmd(b"APPEND INBOX ~{%d+}\r\n" % len(bmsg) + bmsg)
    uv, uids = appenduid(ok)
    t.ok(b" OK" in ok and uids == "2",
         "APPEND with a non-synchronizing literal8 ~{n+}", ok)
    un, ok = Sync(c).run([b"APPEND INBOX ~{%d}\r\n" % len(bmsg),
                          bmsg + b"\r\n"])
    t.ok(un and un[0].startswith(b"+") and b" OK [APPENDUID" in ok,
         "and with a synchronizing one ~{n}", (un, ok))
    c.cmd("NOOP")
    un, ok = c.cmd("UID FETCH 2 (BINARY.PEEK[2] BINARY.SIZE[2])")
    got, kind = item(un, b"BINARY[2]")
    t.ok(got == raw and kind == "literal8",
         "the binary part comes back octet for octet (NULs, bare LF and "
         "CR kept), in a literal8", (kind, got and got[-20:]))
    t.eq(item(un, b"BINARY.SIZE[2]")[0], str(len(raw)).encode(),
         "its BINARY.SIZE")

    c9 = Imap()
    un, ok = Sync(c9).run([b"APPEND INBOX {%d}\r\n" % (60 * 1024 * 1024),
                           b"never sent\r\n"])
    t.ok(ok.startswith(b"s%d NO [TOOBIG]" % c9.n),
         "a too big literal in the session's first command: the NO "
         "carries its tag", ok)
    c9.close()

    # -- MULTIAPPEND (RFC 3502) -----------------------------------------
    c.cmd("CREATE saved-messages")
    m1 = crlf("Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\n"
              "From: Fred Foobar <foobar@Blurdybloop.example.COM>\n"
              "Subject: afternoon meeting\n"
              "To: mooch@owatagu.example.net\n"
              "Message-Id: <B27397-0100000@Blurdybloop.example.COM>\n"
              "MIME-Version: 1.0\n"
              "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\n"
              "\n"
              "Hello Joe, do you think we can meet at 3:30 tomorrow?\n")
    m2 = crlf("Date: Mon, 7 Feb 1994 22:43:04 -0800 (PST)\n"
              "From: Joe Mooch <mooch@OWaTaGu.example.net>\n"
              "Subject: Re: afternoon meeting\n"
              "To: foobar@blurdybloop.example.com\n"
              "Message-Id: <a0434793874930@OWaTaGu.example.net>\n"
              "MIME-Version: 1.0\n"
              "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\n"
              "\n"
              "3:30 is fine with me.\n")
    t.ok(len(m1) == 329 and len(m2) == 295,
         "RFC 3502 §6.3.11's messages are 329 and 295 octets",
         (len(m1), len(m2)))
    un, ok = Sync(c).run([
        b"APPEND saved-messages (\\Seen) {329}\r\n",
        m1 + b" (\\Seen) \" 1-Jul-2002 22:35:35 -0800\" {295}\r\n",
        m2 + b"\r\n"])
    uv, uids = appenduid(ok)
    t.ok(b" OK" in ok and len([l for l in un if l.startswith(b"+")]) == 2
         and uids == "1:2",
         "RFC 3502's example: two messages in one APPEND, APPENDUID "
         "1:2 (RFC 4315 §3)", (un, ok))
    c2 = Imap()
    un, ok = c2.cmd("EXAMINE saved-messages")
    un, ok = c2.cmd("FETCH 1:2 (FLAGS INTERNALDATE BODY.PEEK[])")
    t.ok(item(un[:1], b"BODY[]")[0] == m1 and
         item(un[1:], b"BODY[]")[0] == m2 and
         b'"02-Jul-2002 06:35:35 +0000"' in un[1] and
         all(b"\\Seen" in l for l in un),
         "both are there, with their flags and date", un)
    un, ok = Sync(c).run([b"APPEND bogusname (\\Flagged) {1023}\r\n",
                          b""])
    t.ok(b"NO [TRYCREATE]" in ok and not any(l.startswith(b"+")
                                             for l in un),
         "RFC 3502's example: no such mailbox, NO [TRYCREATE] before any "
         "literal", (un, ok))

    msgs = [crlf("From: x@remote.test\nSubject: multi %d\n\nbody %d\n" %
                 (i, i)) for i in range(3)]
    before = status(c2, "INBOX")
    cmd = b"APPEND INBOX"
    for i, m in enumerate(msgs):
        cmd += b" (\\Flagged) {%d+}\r\n" % len(m) + m
    un, ok = c.cmd(cmd)
    uv, uids = appenduid(ok)
    nx = before["UIDNEXT"]
    t.ok(b" OK" in ok and uids == "%d:%d" % (nx, nx + 2),
         "MULTIAPPEND of 3 messages: APPENDUID gives the set %d:%d" %
         (nx, nx + 2), ok)
    un, ok = c2.cmd("EXAMINE INBOX")
    un, ok = c2.cmd("UID FETCH %d:%d (FLAGS BODY.PEEK[])" % (nx, nx + 2))
    t.ok(len(un) == 3 and all(item([l], b"BODY[]")[0] == msgs[i] and
                              b"\\Flagged" in l for i, l in enumerate(un)),
         "another session sees all 3, in order, flagged", un)

    tmpdir = os.path.join(srv.maildir(U), "tmp")
    before = status(c2, "INBOX")
    un, ok = Sync(c).run([
        b"APPEND INBOX {%d}\r\n" % len(msgs[0]),
        msgs[0] + b" {%d}\r\n" % len(msgs[1]),
        msgs[1] + b" {%d}\r\n" % (60 * 1024 * 1024),
        b"never sent\r\n"])
    t.ok(b" NO [TOOBIG]" in ok and
         len([l for l in un if l.startswith(b"+")]) == 2,
         "a MULTIAPPEND whose 3rd literal is too big: NO [TOOBIG] before "
         "its \"+\"", (un, ok))
    _, ok = c.cmd("NOOP")
    t.ok(b" OK" in ok, "the session goes on", ok)
    after = status(c2, "INBOX")
    un, ok = c3 = None, None
    c3 = Imap()
    un, _ = c3.cmd("SELECT INBOX")
    t.ok(after == before and
         any(b"* %d EXISTS" % before["MESSAGES"] in l for l in un),
         "none of the 3 was added: STATUS and another session's SELECT "
         "see %d messages, UIDNEXT %d" % (before["MESSAGES"],
                                         before["UIDNEXT"]),
         (before, after, un))
    t.eq(sorted(os.listdir(tmpdir)), [], "and no file is left in tmp/")
    c3.close()

    _, ok = c.cmd(b"APPEND INBOX {%d+}\r\n" % len(msgs[0]) + msgs[0] +
                  b" (\\Bogus) {%d+}\r\n" % len(msgs[1]) + msgs[1])
    t.ok(b" BAD" in ok and status(c2, "INBOX") == before and
         os.listdir(tmpdir) == [],
         "a bad flag in the 2nd message: BAD, neither added", ok)
    big = b"APPEND INBOX"
    for i in range(33):
        big += b" {%d+}\r\n" % len(msgs[0]) + msgs[0]
    _, ok = c.cmd(big)
    t.ok(b" NO [LIMIT]" in ok and status(c2, "INBOX") == before and
         os.listdir(tmpdir) == [],
         "33 messages in one APPEND: NO [LIMIT] (32 at most), none added",
         ok)

    # -- CATENATE (RFC 4469) --------------------------------------------
    draft = crlf(
        "From: pat@example.test\n"
        "To: kim@example.test\n"
        "Subject: draft\n"
        "MIME-Version: 1.0\n"
        "Content-Type: multipart/mixed;\n"
        " boundary=\"------------030308070208000400050907\"\n"
        "\n"
        "--------------030308070208000400050907\n"
        "Content-Type: text/plain; charset=us-ascii\n"
        "Content-Transfer-Encoding: 7bit\n"
        "\n"
        "The draft's text.\n"
        "\n"
        "--------------030308070208000400050907--\n")
    fwd = crlf("From: kim@example.test\nSubject: forwarded\n\nold mail\n")
    c.cmd("CREATE Drafts2")
    _, ok1 = c.cmd(b"APPEND Drafts2 {%d+}\r\n" % len(draft) + draft)
    _, ok2 = c.cmd(b"APPEND Drafts2 {%d+}\r\n" % len(fwd) + fwd)
    uv, u1 = appenduid(ok1)
    _, u2 = appenduid(ok2)
    sep = b"\r\n--------------030308070208000400050907\r\n"
    end = b"\r\n--------------030308070208000400050907--\r\n"
    base = "/Drafts2;UIDVALIDITY=%d/;UID=" % uv
    # RFC 4469 §5's first example, with this mailbox's UIDVALIDITY and UIDs
    cmdl = (("A APPEND Drafts2 (\\Seen \\Draft $MDNSent) CATENATE ("
             "URL \"%s%s/;section=HEADER\" TEXT {42+}\r\n" %
             (base, u1)).encode() + sep +
            (" URL \"%s%s/;section=1.MIME\" URL \"%s%s/;section=1\" "
             "TEXT {42+}\r\n" % (base, u1, base, u1)).encode() + sep +
            (" URL \"%s%s\" TEXT {44+}\r\n" % (base, u2)).encode() +
            end + b")")
    _, ok = c.cmd(cmdl[2:])
    _, nu = appenduid(ok)
    un, _ = c2.cmd("EXAMINE Drafts2")
    un, _ = c2.cmd("UID FETCH %s (BODY.PEEK[HEADER] BODY.PEEK[1.MIME] "
                   "BODY.PEEK[1])" % u1)
    hdr = item(un, b"BODY[HEADER]")[0]
    mime1 = item(un, b"BODY[1.MIME]")[0]
    body1 = item(un, b"BODY[1]")[0]
    want = hdr + sep + mime1 + body1 + sep + fwd + end
    un, _ = c2.cmd("UID FETCH %s (FLAGS BODY.PEEK[])" % nu)
    t.ok(b" OK [APPENDUID %d " % uv in ok and
         item(un, b"BODY[]")[0] == want,
         "RFC 4469's example: the new message is the URLs' sections "
         "and the TEXT parts, in order", (ok, un))
    t.ok(all(f in un[0] for f in (b"\\Seen", b"\\Draft", b"$MDNSent")),
         "with the flags given", un)

    _, ok = c.cmd(b"APPEND INBOX CATENATE (TEXT {19+}\r\n"
                  b"Subject: quoted\r\n\r\n URL \"" +
                  ("%s%s/;SECTION=1" % (base, u1)).encode() + b"\")")
    _, nu = appenduid(ok)
    un, _ = c2.cmd("EXAMINE INBOX")
    un, _ = c2.cmd("UID FETCH %s (BODY.PEEK[])" % nu)
    t.eq(item(un, b"BODY[]")[0], b"Subject: quoted\r\n\r\n" + body1,
         "CATENATE into another mailbox: text and a part of an existing "
         "message")

    before = status(c2, "INBOX")
    inbox_uv = status(c2, "INBOX", "UIDVALIDITY")["UIDVALIDITY"]
    for url, why in (
            ("/INBOX;UIDVALIDITY=%d/;UID=1" % (inbox_uv + 1),
             "another mailbox's wrong UIDVALIDITY"),
            ("/INBOX;UIDVALIDITY=%d/;UID=999" % inbox_uv, "no such UID"),
            ("/INBOX/;UID=1/;SECTION=7", "no such part"),
            ("/Nowhere/;UID=1", "no such mailbox"),
            ("/../INBOX/;UID=1", "a name that leaves the Maildir"),
            ("imap://kim@localhost/INBOX/;UID=1", "another user's"),
            ("/INBOX/;UID=1/;URLAUTH=anonymous", "URLAUTH")):
        _, ok = c.cmd(b"APPEND INBOX CATENATE (TEXT {4+}\r\nab\r\n URL \"" +
                      url.encode() + b"\")")
        t.ok(b" NO [BADURL " in ok and status(c2, "INBOX") == before,
             "BADURL for %s, nothing added" % why, ok)
    _, ok = c.cmd("APPEND INBOX CATENATE (TEXT {60000000}")
    t.ok(b" NO [TOOBIG]" in ok, "a TEXT part beyond APPENDLIMIT: TOOBIG",
         ok)
    _, ok = c.cmd(b"APPEND INBOX CATENATE (URL {%d+}\r\n%s)" %
                  (len("/INBOX/;UID=1"), b"/INBOX/;UID=1"))
    t.ok(b" OK [APPENDUID" in ok, "a URL may come as a literal", ok)
    _, ok = c.cmd(b"APPEND INBOX CATENATE (TEXT {0+}\r\n URL "
                  b"\"/INBOX/;UID=1\")")
    t.ok(b" OK [APPENDUID" in ok, "an empty TEXT part is taken", ok)
    _, ok = c.cmd("APPEND INBOX CATENATE (URL \"/INBOX/;UID=1\" TEXT)")
    t.ok(b" BAD" in ok, "TEXT without its literal: BAD", ok)
    c2.close()

    # -- BINARY of a 20 MB base64 attachment, in bounded memory -------------
    att = os.urandom(20 * 1024 * 1024)
    bigmsg = (b"From: a@remote.test\nSubject: big\nMIME-Version: 1.0\n"
              b"Content-Type: multipart/mixed; boundary=zz\n\n--zz\n"
              b"Content-Type: text/plain\n\nsee attached\n--zz\n"
              b"Content-Type: application/octet-stream\n"
              b"Content-Transfer-Encoding: base64\n\n" +
              base64.encodebytes(att) + b"--zz--\n")
    cur = os.path.join(srv.maildir(U), ".big", "cur")
    c.cmd("CREATE big")
    os.makedirs(cur, exist_ok=True)
    with open(os.path.join(cur, "1796000000.big.host:2,"), "wb") as f:
        f.write(bigmsg)
    c.close()

    def status_kib(pid, key):
        with open("/proc/%d/status" % pid) as f:
            for l in f:
                if l.startswith(key + ":"):
                    return int(l.split()[1])
        return -1

    def cmdline(pid):
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                return f.read()
        except OSError:
            return b""
    c = Imap()
    un, ok = c.cmd("SELECT big")
    post = [p for p in srv.descendants() if b"-M" in cmdline(p) and
            status_kib(p, "Seccomp") == 2]
    pid = post[0] if len(post) == 1 else 0
    before = status_kib(pid, "VmHWM") if pid else -1
    t0 = time.time()
    un, ok = c.cmd("FETCH 1 (BINARY.SIZE[2] BINARY.PEEK[2])")
    t.diag("FETCH 1 (BINARY.SIZE[2] BINARY.PEEK[2]) of 20 MiB: %.2f s" %
           (time.time() - t0))
    got, kind = item(un, b"BINARY[2]")
    t.ok(b" OK" in ok and got == att and kind == "literal8" and
         item(un, b"BINARY.SIZE[2]")[0] == str(len(att)).encode(),
         "BINARY[2] of a 20 MB base64 attachment: decoded octet for octet, "
         "and BINARY.SIZE says its size", (ok, kind, got and len(got)))
    un, ok = c.cmd("FETCH 1 (BINARY.PEEK[2]<12345678.1000>)")
    t.eq(item(un, b"BINARY[2]<12345678>")[0], att[12345678:12346678],
         "a partial from its middle")
    grown = status_kib(pid, "VmHWM") - before if pid else -1
    t.ok(pid and 0 <= grown < 16 * 1024,
         "the serving process's peak memory grew by %d KiB for them "
         "(less than 16 MiB)" % grown, (pid, before, grown))
    c.close()
    srv.stop()
    log = srv.log()
    t.ok("Sanitizer" not in log and "runtime error" not in log,
         "no sanitizer report in the server's log",
         [l for l in log.splitlines() if "Sanitizer" in l or
          "runtime error" in l][:5])
finally:
    srv.stop()
    srv.cleanup()
t.done()
