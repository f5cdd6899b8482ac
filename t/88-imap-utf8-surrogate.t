#!/usr/bin/python3
# UTF8=ACCEPT (RFC 6855 §7, §8): a client that did not ENABLE it gets a
# message whose header holds UTF-8 (RFC 6532) as a surrogate, against the
# real imapd over raw connections: BODY[], BODY[HEADER], HEADER.FIELDS,
# RFC822, RFC822.HEADER, a partial BODY[]<0.40>, BINARY[] and the sizes
# (RFC822.SIZE, BINARY.SIZE[]) all of the one surrogate: no 8-bit octet,
# every length the same, Python's email parser reads the Subject, names
# and file name back, the body unchanged; a non-ASCII Message-ID as
# Downgraded-Message-Id (RFC 6857's name) and NIL in the ENVELOPE.  A
# session that ENABLEd gets the message as stored; an all-ASCII message
# is the same octets to both; a row whose hdr8 the index does not know
# (made before it kept one) is found out and downgraded alike.
import os
import re
import sqlite3
import sys
from email import message_from_bytes
from email.policy import default

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import IMAPRaw, TAP, Server  # noqa: E402

HOST = "127.0.0.1"
U, PW = "sam@example.test", "sam-secret"
t = TAP()
srv = Server(services=("imap",),
             overrides=["auth.allow_plaintext=yes",
                        "auth.failure_delay_max=0"])
srv.setup(users=[(U, PW)])

LIT = re.compile(rb"([A-Z0-9.]+(?:\[[^\]]*\])?(?:<\d+>)?) ~?\{(\d+)\}\r\n")


def fetch(c, items, seq="*"):
    """{item: octets or atom} of one FETCH response, literals whole."""
    c.cmd("NOOP")
    unt, r = c.cmd("FETCH %s (%s)" % (seq, items))
    resp = b"".join(x for x in unt if b" FETCH (" in x)
    out = {}
    pos = 0
    while True:
        m = LIT.search(resp, pos)
        if m is None:
            break
        n = int(m.group(2))
        out[m.group(1).decode()] = resp[m.end():m.end() + n]
        pos = m.end() + n
    for m in re.finditer(rb"(RFC822\.SIZE|BINARY\.SIZE\[\]) (\d+)", resp):
        out[m.group(1).decode()] = int(m.group(2))
    return out, resp + r


def seven_bit(b):
    return all(c < 0x80 for c in b)


subject = "Grüße aus Köln ☕ — Rechnungen für März und April, bitte prüfen"
body = b"Hallo J\xc3\xb6rg,\r\nthe body keeps its octets: \xe2\x82\xac\r\n"
msg = ("From: Jörg Müller <joerg@example.test>\r\n"
       "To: José <josé@exämple.test>, kim@example.test\r\n"
       "Subject: " + subject + "\r\n"
       "Date: Sun, 6 Dec 2026 03:00:00 +0000\r\n"
       "Message-ID: <utf8-1@example.test>\r\n"
       "MIME-Version: 1.0\r\n"
       "Content-Type: text/plain; charset=utf-8\r\n\r\n").encode() + body
head_len = msg.index(b"\r\n\r\n") + 4
idmsg = ("From: pat@example.test\r\nSubject: id\r\n"
         "Message-ID: <grüße@example.test>\r\nMIME-Version: 1.0\r\n"
         "Content-Type: application/pdf\r\n"
         'Content-Disposition: attachment; filename="März.pdf"\r\n'
         "\r\n").encode() + b"JVBERi0=\r\n"
ascii_msg = (b"From: Pat <pat@example.test>\r\nTo: kim@example.test\r\n"
             b"Subject: plain =?UTF-8?Q?caf=C3=A9?=\r\n\r\nhi\r\n")


def append(c, data):
    _, r = c.cmd(b"APPEND INBOX {%d+}\r\n" % len(data) + data)
    return r


ALL = ("RFC822.SIZE BODY.PEEK[] BODY.PEEK[HEADER] RFC822.HEADER "
       "BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)] BODY.PEEK[]<0.40> "
       "BODY.PEEK[TEXT] BINARY.PEEK[] BINARY.SIZE[]")

try:
    srv.start()
    old = IMAPRaw(HOST, srv.port("imap"), timeout=30).login(U, PW)
    u = IMAPRaw(HOST, srv.port("imap"), timeout=30).login(U, PW)
    _, r = u.cmd("ENABLE UTF8=ACCEPT")
    t.ok(b" OK" in r, "ENABLE UTF8=ACCEPT", r)
    r = append(old, msg)
    t.ok(b" OK [APPENDUID" in r, "a message with UTF-8 headers", r)
    old.cmd("SELECT INBOX")
    u.cmd("EXAMINE INBOX")

    # ---- without ENABLE: the surrogate in every item ------------------
    f, resp = fetch(old, ALL)
    whole = f.get("BODY[]", b"")
    hdrs = [whole[:whole.find(b"\r\n\r\n")], f.get("BODY[HEADER]", b""),
            f.get("RFC822.HEADER", b""), f.get("BINARY[]", b"")[:300],
            f.get("BODY[HEADER.FIELDS (SUBJECT FROM)]", b"")]
    t.ok(whole and all(h and seven_bit(h) for h in hdrs) and
         seven_bit(resp.replace(body, b"")), "no 8-bit header octet on "
         "the wire in any item without ENABLE (the 8bit body is as "
         "stored)", resp)
    t.ok(f.get("RFC822.SIZE") == len(whole) == f.get("BINARY.SIZE[]") ==
         len(f.get("BINARY[]", b"")) and f.get("BINARY[]") == whole,
         "RFC822.SIZE, BINARY.SIZE[] and BINARY[] are the surrogate's, as "
         "long as BODY[]", (f.get("RFC822.SIZE"), len(whole),
                            f.get("BINARY.SIZE[]")))
    f1, _ = fetch(old, "RFC822.SIZE")
    t.ok(f1.get("RFC822.SIZE") == len(whole), "RFC822.SIZE alone "
         "(from the index) says the same", f1)
    hdr = whole[:whole.index(b"\r\n\r\n") + 4] if b"\r\n\r\n" in whole \
        else b""
    t.ok(f.get("BODY[HEADER]") == hdr and f.get("RFC822.HEADER") == hdr,
         "BODY[HEADER] and RFC822.HEADER: the surrogate's header", hdr)
    t.ok(whole[len(hdr):] == body and f.get("BODY[TEXT]") == body,
         "the body is the stored one, octet for octet", whole[len(hdr):])
    t.ok(f.get("BODY[]<0>") == whole[:40], "BODY[]<0.40>: the "
         "surrogate's first 40 octets", f.get("BODY[]<0>"))
    p = message_from_bytes(whole, policy=default)
    t.ok(str(p["Subject"]) == subject, "Python's email parser decodes the "
         "Subject back to the original", str(p["Subject"]))
    frm = p["From"].addresses[0] if p["From"] else None
    t.ok(frm is not None and frm.display_name == "Jörg Müller" and
         frm.addr_spec == "joerg@example.test",
         "From: the display name decodes, the ASCII address is kept",
         p["From"])
    to = p["To"]
    t.ok(to is not None and len(to.groups) == 2 and
         to.groups[0].display_name == "José <josé@exämple.test>" and
         to.groups[0].addresses == () and
         to.groups[1].addresses[0].addr_spec == "kim@example.test",
         "To: the UTF-8 address an empty group named by it, as in the "
         "ENVELOPE; the ASCII one kept", str(to))
    hf = f.get("BODY[HEADER.FIELDS (SUBJECT FROM)]", b"")
    ph = message_from_bytes(hf, policy=default)
    t.ok(seven_bit(hf) and hf.lower().startswith((b"from:", b"subject:"))
         and str(ph["Subject"]) == subject and len(ph.keys()) == 2 and
         hf.endswith(b"\r\n\r\n"), "HEADER.FIELDS (SUBJECT FROM): those "
         "two of the surrogate", hf)
    t.ok(b"Message-ID: <utf8-1@example.test>\r\n" in hdr and
         b"Date: Sun, 6 Dec 2026 03:00:00 +0000\r\n" in hdr,
         "ASCII fields as they stand", hdr)
    t.ok(all(len(line) <= 76 for line in hdr.split(b"\r\n")),
         "lines folded at 76 octets (RFC 2047 §2)", hdr)

    # ---- after ENABLE: the message as stored ----------------------------
    g, gresp = fetch(u, "RFC822.SIZE BODY.PEEK[] BINARY.SIZE[]")
    t.ok(g.get("BODY[]") == msg and g.get("RFC822.SIZE") == len(msg) ==
         g.get("BINARY.SIZE[]"), "after ENABLE: the raw message, its "
         "own size", gresp)

    # ---- a non-ASCII Message-ID, a UTF-8 file name at the top -----------
    append(old, idmsg)
    f2, resp2 = fetch(old, "BODY.PEEK[] RFC822.SIZE")
    w2 = f2.get("BODY[]", b"")
    p2 = message_from_bytes(w2, policy=default)
    t.ok(seven_bit(resp2) and p2["Message-ID"] is None and
         p2["Downgraded-Message-Id"] is not None and
         str(p2["Downgraded-Message-Id"]) == "<grüße@example.test>",
         "a UTF-8 Message-ID: Downgraded-Message-Id (RFC 6857), "
         "decodable, and no Message-ID", w2)
    _, e2 = fetch(old, "ENVELOPE")
    e2 = [x for x in e2.split(b"\r\n") if b" FETCH (" in x]
    t.ok(len(e2) == 1 and e2[0].endswith(b" NIL NIL))"),
         "... its ENVELOPE's message-id is NIL, as the header has none",
         e2)
    t.ok(p2.get_filename() == "März.pdf", "a UTF-8 file name at the top: "
         "RFC 2231, read back by Python", w2)
    t.ok(f2.get("RFC822.SIZE") == len(w2), "... and its size", f2)

    # ---- an all-ASCII message: the same octets to both -----------------
    append(old, ascii_msg)
    a1, _ = fetch(old, "RFC822.SIZE BODY.PEEK[]")
    a2, _ = fetch(u, "RFC822.SIZE BODY.PEEK[]")
    t.ok(a1 == a2 and a1.get("BODY[]") == ascii_msg and
         a1.get("RFC822.SIZE") == len(ascii_msg),
         "an all-ASCII message is byte-identical with and without ENABLE",
         (a1, a2))

    # ---- COPY keeps what the index knows -------------------------------
    old.cmd("CREATE Other")
    _, r = old.cmd("COPY 1 Other")
    db = sqlite3.connect(os.path.join(srv.maildir(U), "index.db"),
                         timeout=10)
    h = db.execute("SELECT msg.hdr8 FROM msg JOIN mailbox ON mailbox.id ="
                   " msg.mailbox WHERE mailbox.name = 'Other'").fetchall()
    o2 = IMAPRaw(HOST, srv.port("imap"), timeout=30).login(U, PW)
    o2.cmd("EXAMINE Other")
    fc, _ = fetch(o2, "RFC822.SIZE BODY.PEEK[]")
    o2.close()
    t.ok(b" OK" in r and h == [(1,)] and fc.get("BODY[]") == whole and
         fc.get("RFC822.SIZE") == len(whole),
         "a copy: its row says 8-bit too, the same surrogate", (r, h, fc))

    # ---- a row the index does not know hdr8 of (an older index) --------
    db.execute("UPDATE msg SET hdr8 = NULL")
    db.commit()
    inbox = " WHERE mailbox = (SELECT id FROM mailbox WHERE name = 'INBOX')"
    n = db.execute("SELECT count(*) FROM msg" + inbox +
                   " AND hdr8 IS NULL").fetchone()
    f3, _ = fetch(old, "RFC822.SIZE BODY.PEEK[]", "1")
    t.ok(n[0] == 3 and f3.get("BODY[]") == whole and
         f3.get("RFC822.SIZE") == len(whole),
         "hdr8 not known: the header is read, the same surrogate", f3)
    f3, _ = fetch(old, "RFC822.SIZE", "1:*")
    rows = dict(db.execute("SELECT uid, hdr8 FROM msg" + inbox).fetchall())
    t.ok(rows == {1: 1, 2: 1, 3: 0}, "... and what was found is kept",
         rows)
    db.close()
    old.close()
    u.close()

    # ---- imapd.surrogate=no: as stored, for backup tools ---------------
    srv.stop()
    srv.overrides.append("imapd.surrogate=no")
    srv.start()
    b = IMAPRaw(HOST, srv.port("imap"), timeout=30).login(U, PW)
    b.cmd("SELECT INBOX")
    fb, _ = fetch(b, "RFC822.SIZE BODY.PEEK[]", "1")
    b.close()
    t.ok(fb.get("BODY[]") == msg and fb.get("RFC822.SIZE") == len(msg),
         "imapd.surrogate=no: a client without ENABLE gets the message as "
         "stored, its own size", fb)
finally:
    srv.stop()
    srv.cleanup()
t.done()
