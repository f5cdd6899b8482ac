#!/usr/bin/python3
# UTF8=ACCEPT (RFC 6855) for clients that did not ENABLE it, against the
# real imapd over raw connections: a message with UTF-8 headers (RFC
# 6532) gives such a client ENVELOPE, BODYSTRUCTURE and BODY with no
# 8-bit octet, its 8-bit strings as RFC 2047 encoded-words (at most 75
# octets each) that Python's email.header decodes back to exactly the
# original; an address with a UTF-8 local part or domain as an empty
# group named by it (in the spirit of RFC 6858); raw Latin-1 as
# UNKNOWN-8BIT.  The same session after ENABLE UTF8=ACCEPT, and another
# one, get the raw UTF-8, and an all-ASCII message is the same for both.  CATENATE's
# UTF8 ( literal8 ) part (RFC 6855 §4) after ENABLE, NO before (§4), as
# the plain UTF8 ( ) form; APPEND of 8-bit headers without ENABLE is taken
# (README "IMAP" says why).
import os
import re
import sys
from email.header import decode_header

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import IMAPRaw, TAP, Server  # noqa: E402

HOST = "127.0.0.1"
U, PW = "pat@example.test", "pat-secret"
t = TAP()
srv = Server(services=("imap",),
             overrides=["auth.allow_plaintext=yes",
                        "auth.failure_delay_max=0",
                        "imapd.append_limit=64k"])
srv.setup(users=[(U, PW)])


def parse(data):
    """An IMAP response as nested lists: bytes for strings and atoms,
    None for NIL."""
    pos = 0

    def value():
        nonlocal pos
        while data[pos:pos + 1] == b" ":
            pos += 1
        c = data[pos:pos + 1]
        if c == b"(":
            pos += 1
            out = []
            while True:
                while data[pos:pos + 1] == b" ":
                    pos += 1
                if data[pos:pos + 1] == b")":
                    pos += 1
                    return out
                out.append(value())
        if c == b'"':
            pos += 1
            s = b""
            while data[pos:pos + 1] != b'"':
                if data[pos:pos + 1] == b"\\":
                    pos += 1
                s += data[pos:pos + 1]
                pos += 1
            pos += 1
            return s
        if c == b"{":
            m = re.match(rb"\{(\d+)\}\r\n", data[pos:])
            n = int(m.group(1))
            pos += m.end()
            s = data[pos:pos + n]
            pos += n
            return s
        m = re.match(rb"[^ ()\r\n]+", data[pos:])
        pos += m.end()
        return None if m.group(0) == b"NIL" else m.group(0)

    return value()


def fetch(c, items, uid=None):
    """FETCH items of the last message: {name: parsed value}, the raw
    response."""
    c.cmd("NOOP")               # to see messages others appended
    unt, r = c.cmd("FETCH %s (%s)" % (uid or "*", items))
    resp = b"".join(x for x in unt if b" FETCH (" in x)
    if b" OK" not in r or not resp:
        return {}, resp + r
    lst = parse(resp[resp.index(b"("):])
    return {lst[i].decode(): lst[i + 1]
            for i in range(0, len(lst), 2)}, resp


def decode(s):
    """An IMAP string of encoded-words as Python's email.header reads
    it: (octets, charset) pairs joined."""
    parts = decode_header(s.decode("ascii"))
    return (b"".join(p if isinstance(p, bytes) else p.encode()
                     for p, _ in parts), [c for _, c in parts])


EW = re.compile(rb"=\?[^?]+\?[BbQq]\?[^?]*\?=")


def words_ok(resp):
    words = EW.findall(resp)
    return words and all(len(w) <= 75 for w in words), words


def seven_bit(b):
    return all(c < 0x80 for c in b)


subject = ("Grüße aus Köln ☕ — Rechnungen für März und April, "
           "bitte bis Freitag prüfen").encode()
fname = "Rechnung März 2026 — Übersicht.pdf".encode()
intl = "José <josé@exämple.test>".encode()
msg = (b"From: J\xc3\xb6rg M\xc3\xbcller <joerg@example.test>\r\n"
       b"To: Jos\xc3\xa9 <jos\xc3\xa9@ex\xc3\xa4mple.test>, "
       b"kim@example.test\r\n"
       b"Subject: " + subject + b"\r\n"
       b"Date: Sun, 6 Dec 2026 03:00:00 +0000\r\n"
       b"Message-ID: <utf8-1@example.test>\r\n"
       b"MIME-Version: 1.0\r\n"
       b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
       b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
       b"Hallo J\xc3\xb6rg\r\n"
       b'--b\r\nContent-Type: application/pdf; name="' + fname + b'"\r\n'
       b'Content-Disposition: attachment; filename="' + fname + b'"\r\n'
       b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n")
ascii_msg = (b"From: Pat <pat@example.test>\r\nTo: kim@example.test\r\n"
             b"Subject: plain =?UTF-8?Q?caf=C3=A9?=\r\n"
             b"Content-Type: text/plain; charset=us-ascii\r\n\r\nhi\r\n")
latin1 = (b"From: Ren\xe9 <rene@example.test>\r\nSubject: Caf\xe9 cr\xe8me\r\n"
          b"\r\nold mail\r\n")
rfc2231 = (b"From: pat@example.test\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: application/octet-stream\r\n"
           b"Content-Disposition: attachment; "
           b"filename*=UTF-8''%E2%82%AC%20rates.txt\r\n\r\nx\r\n")


def append(c, data, box=b"INBOX"):
    _, r = c.cmd(b"APPEND " + box + b" {%d+}\r\n" % len(data) + data)
    return r


try:
    srv.start()
    old = IMAPRaw(HOST, srv.port("imap"), timeout=30).login(U, PW)
    u = IMAPRaw(HOST, srv.port("imap"), timeout=30).login(U, PW)
    _, r = u.cmd("ENABLE UTF8=ACCEPT")
    t.ok(b" OK" in r, "ENABLE UTF8=ACCEPT", r)

    # RFC 6855 §4's refusal is not done (README): migration tools
    # append old 8-bit mail without ENABLE.
    r = append(old, msg)
    t.ok(b" OK [APPENDUID" in r, "APPEND of UTF-8 headers without ENABLE "
         "is taken", r)
    old.cmd("SELECT INBOX")
    u.cmd("EXAMINE INBOX")

    # ---- the session that did not ENABLE: first FETCH, cache empty ----
    f, resp = fetch(old, "ENVELOPE BODYSTRUCTURE BODY")
    t.ok(f and seven_bit(resp), "no 8-bit octet in ENVELOPE, "
         "BODYSTRUCTURE and BODY without ENABLE", resp)
    ok, words = words_ok(resp)
    t.ok(ok, "every encoded-word is at most 75 octets (RFC 2047 §2)",
         words)
    env = f.get("ENVELOPE") or [None] * 10
    got, cs = decode(env[1] or b"")
    t.ok(got == subject and set(cs) == {"utf-8"},
         "the Subject decodes back to exactly the original", (env[1], got))
    t.ok(len(EW.findall(env[1] or b"")) > 1,
         "a long Subject is several encoded-words", env[1])
    frm = env[2][0] if env[2] else [None] * 4
    t.ok(decode(frm[0] or b"")[0] == "Jörg Müller".encode() and
         frm[2:] == [b"joerg", b"example.test"],
         "the From display name is encoded, its ASCII address kept", frm)
    to = env[5] or []
    t.ok(len(to) == 3 and to[0][0] is None and to[0][1] is None and
         to[0][3] is None and decode(to[0][2] or b"")[0] == intl and
         to[1] == [None, None, None, None] and
         to[2][2:] == [b"kim", b"example.test"],
         "an address with a UTF-8 local part and domain: an empty group "
         "named by it (as RFC 6858 would), the next address as it is", to)
    t.ok(env[0] == b"Sun, 6 Dec 2026 03:00:00 +0000" and
         env[9] == b"<utf8-1@example.test>", "ASCII fields as they are",
         env)
    bs = f.get("BODYSTRUCTURE") or [[], [None] * 12]
    att = bs[1] if len(bs) > 1 else [None] * 12
    params = att[2] or [b"", b""]
    disp = att[8] if len(att) > 8 else None
    t.ok(params[0] == b"NAME" and decode(params[1])[0] == fname,
         "a Content-Type parameter decodes back to the original", att)
    t.ok(disp and disp[0] == b"ATTACHMENT" and disp[1][0] == b"FILENAME" and
         decode(disp[1][1])[0] == fname,
         "the filename parameter decodes back to the original", disp)
    t.ok(f.get("BODY") and f["BODY"][1][2][0] == b"NAME" and
         decode(f["BODY"][1][2][1])[0] == fname,
         "BODY (non-extensible) is downgraded too", f.get("BODY"))
    _, raw = fetch(old, "BODY.PEEK[HEADER.FIELDS (SUBJECT)]")
    t.ok(subject not in raw and seven_bit(raw) and b"Subject: =?UTF-8?B?"
         in raw, "BODY[...] is the surrogate's, downgraded alike "
         "(t/88-imap-utf8-surrogate.t)", raw)

    # ---- the session that ENABLEd: raw UTF-8, from the cache ----------
    f2, resp2 = fetch(u, "ENVELOPE BODYSTRUCTURE")
    env2 = f2.get("ENVELOPE") or [None] * 10
    t.ok(env2[1] == subject and env2[2][0][0] == "Jörg Müller".encode() and
         env2[5][0][2:] == ["josé".encode(), "exämple.test".encode()],
         "after ENABLE: ENVELOPE gives the UTF-8 as it is", env2)
    t.ok(fname in resp2 and not EW.search(resp2),
         "after ENABLE: BODYSTRUCTURE gives the UTF-8 parameter", resp2)
    f3, resp3 = fetch(old, "ENVELOPE BODYSTRUCTURE")
    t.ok(seven_bit(resp3) and f3.get("ENVELOPE") == env,
         "without ENABLE again, from the cache now: the same downgrade",
         resp3)

    # ---- one session, before and after ENABLE -------------------------
    s3 = IMAPRaw(HOST, srv.port("imap"), timeout=30).login(U, PW)
    s3.cmd("EXAMINE INBOX")
    f4, resp4 = fetch(s3, "ENVELOPE")
    t.ok(seven_bit(resp4) and decode(f4["ENVELOPE"][1])[0] == subject,
         "a session before ENABLE: encoded-words", resp4)
    s3.cmd("UNSELECT")
    _, r = s3.cmd("ENABLE UTF8=ACCEPT")
    s3.cmd("EXAMINE INBOX")
    f5, resp5 = fetch(s3, "ENVELOPE")
    t.ok(b" OK" in r and f5["ENVELOPE"][1] == subject,
         "the same session after ENABLE: the raw UTF-8", (r, resp5))
    s3.close()

    # ---- an all-ASCII message: the same to both ------------------------
    append(old, ascii_msg)
    _, a1 = fetch(old, "ENVELOPE BODYSTRUCTURE")
    _, a2 = fetch(u, "ENVELOPE BODYSTRUCTURE")
    t.ok(a1 == a2 and b"=?UTF-8?Q?caf=C3=A9?=" in a1,
         "an all-ASCII message is the same with and without ENABLE (its "
         "own encoded-words as written)", (a1, a2))

    # ---- raw Latin-1 (old mail): UNKNOWN-8BIT, octets kept -------------
    append(old, latin1)
    f6, resp6 = fetch(old, "ENVELOPE")
    e6 = f6.get("ENVELOPE") or [None] * 10
    got, cs = decode(e6[1] or b"")
    t.ok(seven_bit(resp6) and got == b"Caf\xe9 cr\xe8me" and
         set(cs) == {"unknown-8bit"} and
         decode(e6[2][0][0])[0] == b"Ren\xe9",
         "headers that are not UTF-8: UNKNOWN-8BIT (RFC 1428), the "
         "octets round-trip", resp6)

    # ---- an RFC 2231 parameter, decoded to UTF-8 -----------------------
    append(old, rfc2231)
    f7, resp7 = fetch(old, "BODYSTRUCTURE")
    _, resp8 = fetch(u, "BODYSTRUCTURE")
    d7 = (f7.get("BODYSTRUCTURE") or [None] * 9)[8] or [None, [b"", b""]]
    t.ok(seven_bit(resp7) and decode(d7[1][1])[0] == "€ rates.txt".encode(),
         "an RFC 2231 parameter (decoded to UTF-8) is encoded-words "
         "without ENABLE", resp7)
    t.ok("€ rates.txt".encode() in resp8, "... and UTF-8 after", resp8)

    # ---- CATENATE's UTF8 ( literal8 ) part (RFC 6855 §4) ---------------
    head = b"From: J\xc3\xb6rg <joerg@example.test>\r\n"
    rest = b"Subject: K\xc3\xb6ln\r\n\r\nbody\r\n"
    _, r = u.cmd(b"APPEND INBOX CATENATE (TEXT {%d+}\r\n" % len(head) +
                 head + b" UTF8 (~{%d+}\r\n" % len(rest) + rest + b"))")
    t.ok(b" OK [APPENDUID" in r, "CATENATE (TEXT ... UTF8 (~{n}...)) "
         "after ENABLE", r)
    _, body = fetch(u, "BODY.PEEK[]")
    t.ok(head + rest in body, "... the message is the parts joined", body)
    _, r = u.cmd(b"APPEND INBOX CATENATE (UTF8 ({%d+}\r\n" % len(rest) +
                 rest + b") URL \"/INBOX;UIDVALIDITY=0/;UID=1\")")
    t.ok(b" NO [BADURL" in r, "a UTF8 part with a URL after it: the URL "
         "is checked as always", r)
    _, r = u.cmd(b"APPEND INBOX CATENATE (UTF8 (~{%d+}\r\n" % len(rest) +
                 rest + b" {1+}\r\nx))")
    t.ok(b" BAD" in r, "UTF8 ( ) with two literals in a CATENATE is BAD",
         r)
    big = b"x" * 40000
    _, r = u.cmd(b"APPEND INBOX CATENATE (TEXT {%d+}\r\n" % len(big) +
                 big + b" UTF8 (~{%d}\r\n" % len(big))
    t.ok(b"NO [TOOBIG]" in r, "a UTF8 part counts toward APPENDLIMIT "
         "with the TEXT before it (64k here)", r)
    _, r = u.cmd("NOOP")
    t.ok(b" OK" in r, "... and the session goes on", r)
    # RFC 6855 §4: before ENABLE, an APPEND of a message with 8-bit
    # header octets is refused with NO (not BAD: the command is well
    # formed), and nothing is stored.
    before, _ = old.cmd("STATUS INBOX (MESSAGES)")
    _, r = old.cmd(b"APPEND INBOX CATENATE (TEXT {%d+}\r\n" % len(head) +
                   head + b" UTF8 (~{%d+}\r\n" % len(rest) + rest + b"))")
    t.ok(re.search(rb"^t\d+ NO .*ENABLE", r, re.M) is not None,
         "CATENATE's UTF8 ( ) before ENABLE is NO (RFC 6855 §4)", r)
    _, r = old.cmd(b"APPEND INBOX UTF8 (~{%d+}\r\n" % len(rest) + rest +
                   b")")
    t.ok(re.search(rb"^t\d+ NO .*ENABLE", r, re.M) is not None,
         "so is APPEND's plain UTF8 ( ) form", r)
    after, _ = old.cmd("STATUS INBOX (MESSAGES)")
    before = [x for x in before if x.startswith(b"* STATUS")]
    after = [x for x in after if x.startswith(b"* STATUS")]
    t.ok(before == after and len(after) == 1,
         "neither was stored", (before, after))
    _, r = old.cmd("NOOP")
    t.ok(b" OK" in r, "the session goes on", r)
    old.close()
    u.close()
finally:
    srv.stop()
    srv.cleanup()
t.done()
