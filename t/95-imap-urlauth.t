#!/usr/bin/python3
# URLAUTH (RFC 4467) and URLAUTH=BINARY (RFC 5524) over raw IMAP
# connections: GENURLAUTH of RFC 4467 §7's own URL, URLFETCH of what
# it names, the access identifiers (anonymous, authuser, user+, submit+),
# ;EXPIRE=, RESETKEY with and without a mailbox, URLs of expunged
# messages and of a mailbox whose UIDVALIDITY changed, the extended
# URLFETCH (BODYPARTSTRUCTURE, BINARY, BODY; literal8), and CATENATE
# taking a URLAUTH-authorized URL (RFC 4469 §3).
import base64
import os
import re
import stat
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import IMAPRaw, TAP, Server  # noqa: E402

JOE, FRED, PW = "joe@example.com", "fred@example.com", "pw-4467"
t = TAP()
srv = Server(services=("imap",),
             overrides=["auth.allow_plaintext=yes",
                        "auth.failure_delay_max=0",
                        "imapd.max_errors=1000"])
srv.setup(domains=("example.com",), users=[(JOE, PW), (FRED, PW)])

SI_VIS = b"Si vis pacem, para bellum.\r\n"      # RFC 4467 §7's 28 octets
BLOB = bytes(range(256)) * 3                     # NULs and all
MSG20 = (b"From: joe@example.com\r\nTo: fred@example.com\r\n"
         b"Subject: part 1.2\r\nMIME-Version: 1.0\r\n"
         b"Content-Type: multipart/mixed; boundary=outer\r\n\r\n"
         b"--outer\r\nContent-Type: multipart/alternative; boundary=inner"
         b"\r\n\r\n--inner\r\nContent-Type: text/plain\r\n\r\nfirst\r\n"
         b"--inner\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n" +
         SI_VIS + b"\r\n--inner--\r\n\r\n"
         b"--outer\r\nContent-Type: application/octet-stream\r\n"
         b"Content-Transfer-Encoding: base64\r\n\r\n" +
         base64.encodebytes(BLOB).replace(b"\n", b"\r\n") +
         b"--outer--\r\n")
RUMP = ("imap://joe@example.com/INBOX/;uid=20/;section=1.2;"
        "urlauth=submit+fred")


def lit(data):
    return b"{%d+}\r\n" % len(data) + data


def ok(r):
    return re.match(rb"^t\d+ OK", r) is not None


def no(r):
    return re.match(rb"^t\d+ NO", r) is not None


def bad(r):
    return re.match(rb"^t\d+ BAD", r) is not None


def gen(c, rump, mech="INTERNAL"):
    """GENURLAUTH one rump: the authorized URL (str) or None."""
    un, r = c.cmd('GENURLAUTH "%s" %s' % (rump, mech))
    m = re.match(rb'^\* GENURLAUTH "([^"]+)"\r\n$', un[0]) if un else None
    return (m.group(1).decode() if ok(r) and m else None), un, r


def fetch(c, url):
    """URLFETCH one URL: its data (bytes), None for NIL, or the reply."""
    un, r = c.cmd('URLFETCH "%s"' % url)
    if not ok(r) or len(un) != 1:
        return ("failed", un, r)
    head = b'* URLFETCH "%s" ' % url.encode()
    if not un[0].startswith(head):
        return ("other", un, r)
    rest = un[0][len(head):]
    if rest == b"NIL\r\n":
        return None
    m = re.match(rb"^\{(\d+)\}\r\n", rest)
    if not m:
        return ("other", un, r)
    return rest[m.end():m.end() + int(m.group(1))]


def Imap(user=JOE):
    return IMAPRaw("127.0.0.1", srv.port("imap")).login(user, PW)


try:
    srv.start()
    c = Imap()
    un, r = c.cmd("CAPABILITY")
    caps = b"".join(un).split()
    t.ok(b"URLAUTH" in caps and b"URLAUTH=BINARY" in caps,
         "CAPABILITY has URLAUTH and URLAUTH=BINARY", un)
    for i in range(1, 20):
        c.cmd(b"APPEND INBOX " + lit(b"Subject: filler %d\r\n\r\nx\r\n" % i))
    un, r = c.cmd(b"APPEND INBOX " + lit(MSG20))
    t.ok(b"APPENDUID" in r and r.rstrip().split(b"]")[0].endswith(b" 20"),
         "message 20 of RFC 4467 §7 is UID 20", r)

    # ---- RFC 4467 §7: GENURLAUTH of the example's URL ----
    url, un, r = gen(c, RUMP)
    t.ok(url is not None and re.fullmatch(
        re.escape(RUMP) + ":INTERNAL:[0-9a-f]{64}", url) is not None,
        "§7: GENURLAUTH gives rump:INTERNAL:<256-bit token>", (un, r))
    t.ok(re.match(rb"^t\d+ OK GENURLAUTH completed", r) is not None,
         "GENURLAUTH completed", r)
    url2, un, r = gen(c, RUMP)
    t.eq(url2, url, "the same rump gives the same URL (one key per mailbox)")
    t.eq(fetch(c, url), None,
         "§3 submit+fred: for the submission server, NIL to an IMAP "
         "client (the owner too)")

    # ---- user+, authuser, anonymous ----
    u_joe, _, _ = gen(c, RUMP.replace("submit+fred", "user+joe"))
    t.eq(fetch(c, u_joe), SI_VIS,
         "user+joe: URLFETCH gives section 1.2's 28 octets")
    un, r = c.cmd('URLFETCH "%s"' % u_joe)
    t.eq(un, [b'* URLFETCH "' + u_joe.encode() + b'" {28}\r\n' + SI_VIS +
              b"\r\n"], "§7: the response as the RFC shows it")
    c2 = Imap()
    t.eq(fetch(c2, u_joe), SI_VIS, "another session of joe fetches it too")
    c2.close()
    uidv = re.search(rb"UIDVALIDITY (\d+)", c.cmd(
        "STATUS INBOX (UIDVALIDITY)")[0][0]).group(1).decode()
    u_full, _, _ = gen(c, "imap://joe%40example.com@mail.example.test/"
                       "INBOX;UIDVALIDITY=" + uidv +
                       "/;UID=20;URLAUTH=authuser")
    t.ok(u_full is not None, "a URL with the full login and UIDVALIDITY")
    got = fetch(c, u_full)
    t.ok(isinstance(got, bytes) and got == MSG20,
         "authuser, no section: the whole message, byte for byte", got)
    u_anon, _, _ = gen(c, RUMP.replace("submit+fred", "anonymous"))
    t.eq(fetch(c, u_anon), SI_VIS, "anonymous")
    u_fred, _, _ = gen(c, RUMP.replace("submit+fred", "user+fred"))
    t.eq(fetch(c, u_fred), None, "user+fred: NIL to joe")
    f = Imap(FRED)
    t.eq(fetch(f, u_fred), None,
         "user+fred fetched by fred: NIL (a session reaches its own "
         "Maildir only)")
    t.eq(fetch(f, u_anon), None, "anonymous, by another user: NIL too")
    url_f, un, r = gen(f, RUMP.replace("submit+fred", "user+fred"))
    t.ok(url_f is None and no(r),
         "GENURLAUTH of another user's mailbox is NO", (un, r))
    f.close()

    # ---- tokens that do not match ----
    tok = u_joe[-64:]
    forged = u_joe[:-64] + ("0" if tok[0] != "0" else "1") + tok[1:]
    t.eq(fetch(c, forged), None, "a token changed in one digit: NIL")
    t.eq(fetch(c, u_joe[:-64] + tok.upper()), SI_VIS,
         "the token's hex in upper case is the same token")
    other = u_joe.replace(";uid=20/", ";uid=19/")
    t.eq(fetch(c, other), None, "another UID with the token: NIL")
    t.eq(fetch(c, u_joe[:-64] + tok[:32]), None, "a shortened token: NIL")
    t.eq(fetch(c, "imap://joe@example.com/INBOX/;uid=20"), None,
         "a URL without URLAUTH: NIL")
    t.eq(fetch(c, "/INBOX/;UID=20"), None, "a relative URL: NIL")
    url, un, r = gen(c, u_joe)
    t.ok(url is None and no(r), "GENURLAUTH of an authorized URL: NO", r)
    url, un, r = gen(c, RUMP, "XSAMPLE")
    t.ok(url is None and no(r), "an unknown mechanism: NO", r)
    url, un, r = gen(c, RUMP.replace("INBOX", "Nowhere"))
    t.ok(url is None and no(r) and b"NONEXISTENT" in r,
         "a mailbox that does not exist: NO [NONEXISTENT]", r)
    url, un, r = gen(c, RUMP.replace("INBOX/", "INBOX;UIDVALIDITY=1/"))
    t.ok(url is None and no(r), "a UIDVALIDITY that is not the mailbox's: NO",
         r)
    un, r = c.cmd('GENURLAUTH "%s"' % RUMP)
    t.ok(bad(r), "GENURLAUTH without a mechanism: BAD", r)
    un, r = c.cmd("URLFETCH")
    t.ok(bad(r), "URLFETCH without a URL: BAD", r)

    # ---- PARTIAL ----
    u_part, _, _ = gen(c, RUMP.replace(";section=1.2;urlauth=submit+fred",
                                       ";section=1.2/;partial=3.9;"
                                       "urlauth=user+joe"))
    t.eq(fetch(c, u_part), SI_VIS[3:12], "/;PARTIAL=3.9: that slice")

    # ---- ;EXPIRE= ----
    past = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
    u_past, _, _ = gen(c, RUMP.replace(";urlauth=submit+fred",
                                       ";expire=%s;urlauth=user+joe" % past))
    t.ok(u_past is not None, "GENURLAUTH with an EXPIRE", u_past)
    t.eq(fetch(c, u_past), None, "expired a minute ago: NIL")
    soon = time.strftime("%Y-%m-%dT%H:%M:%S+00:00",
                         time.gmtime(time.time() + 3))
    u_soon, _, _ = gen(c, RUMP.replace(";urlauth=submit+fred",
                                       ";EXPIRE=%s;URLAUTH=user+joe" % soon))
    t.eq(fetch(c, u_soon), SI_VIS, "EXPIRE in 3 seconds: fetched now")
    time.sleep(4.2)
    t.eq(fetch(c, u_soon), None, "and NIL once that time has passed")
    u_bad = u_soon.replace(soon, soon.replace(":", "%3A", 1))
    t.eq(fetch(c, u_bad), None, "an EXPIRE changed after signing: NIL")

    # ---- RFC 5524: the extended URLFETCH ----
    un, r = c.cmd('URLFETCH ("%s" BODYPARTSTRUCTURE BINARY)' % u_joe)
    t.eq(un, [b'* URLFETCH "' + u_joe.encode() + b'" (BODYPARTSTRUCTURE '
              b'("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 28 1 '
              b'NIL NIL NIL NIL)) (BINARY {28}\r\n' + SI_VIS + b")\r\n"],
         "RFC 5524 §4: (url BODYPARTSTRUCTURE BINARY)")
    un, r = c.cmd('URLFETCH ("%s" BODY)' % u_joe)
    t.eq(un, [b'* URLFETCH "' + u_joe.encode() + b'" (BODY {28}\r\n' +
              SI_VIS + b")\r\n"], "(url BODY)")
    u_bin, _, _ = gen(c, RUMP.replace("section=1.2;urlauth=submit+fred",
                                      "section=2;urlauth=user+joe"))
    un, r = c.cmd('URLFETCH ("%s" BINARY) "%s"' % (u_bin, u_bin))
    want_bin = (b'* URLFETCH "' + u_bin.encode() + b'" (BINARY ~{%d}\r\n' %
                len(BLOB) + BLOB + b")\r\n")
    t.ok(ok(r) and len(un) == 2 and un[0] == want_bin,
         "BINARY of a base64 part: decoded, NULs in a literal8 ~{768}",
         un[:1])
    t.ok(len(un) == 2 and un[1].startswith(b'* URLFETCH "' + u_bin.encode() +
                                           b'" {') and b"AAECAwQF" in un[1],
         "the plain form of the same URL: as stored (base64)", un[1:])
    un, r = c.cmd('URLFETCH ("%s")' % u_bin)
    t.ok(ok(r) and un == [b'* URLFETCH "' + u_bin.encode() + b'"\r\n'],
         "(url) alone: the URL and no metadata", un)
    un, r = c.cmd('URLFETCH ("%s" BODYPARTSTRUCTURE BINARY)' % forged)
    t.eq(un, [b'* URLFETCH "' + forged.encode() + b'" NIL\r\n'],
         "extended form, a bad token: NIL")
    for args, why in ((u_joe + '" BINARY BODY', "BINARY with BODY"),
                      (u_joe + '" BODY BODY', "BODY twice"),
                      (u_joe + '" FOO', "an unknown parameter")):
        un, r = c.cmd('URLFETCH ("%s)' % args)
        t.ok(bad(r) and un == [], "§3.1: %s is BAD" % why, (un, r))

    # ---- CATENATE with a URLAUTH-authorized URL (RFC 4469 §3) ----
    un, r = c.cmd(b'APPEND Drafts CATENATE (TEXT ' +
                  lit(b"Subject: forwarded\r\n\r\n") + b' URL "' +
                  u_joe.encode() + b'")')
    t.ok(ok(r) and b"APPENDUID" in r, "CATENATE takes a URLAUTH URL", r)
    c.cmd("SELECT Drafts")
    un, r = c.cmd("FETCH 1 BODY.PEEK[]")
    t.ok(len(un) == 1 and un[0].endswith(
        b"{%d}\r\n" % len(b"Subject: forwarded\r\n\r\n" + SI_VIS) +
        b"Subject: forwarded\r\n\r\n" + SI_VIS + b")\r\n"),
        "the message is the text and the URL's part", un)
    un, r = c.cmd(b'APPEND Drafts CATENATE (TEXT ' + lit(b"X: y\r\n\r\n") +
                  b' URL "' + forged.encode() + b'")')
    t.ok(no(r) and b"[BADURL" in r, "a forged token: NO [BADURL]", r)
    un, r = c.cmd(b'APPEND Drafts CATENATE (URL "' + u_fred.encode() +
                  b'")')
    t.ok(no(r) and b"[BADURL" in r, "user+fred's URL: NO [BADURL]", r)
    c.cmd("UNSELECT")

    # ---- the key: in joe's Maildir, for joe alone ----
    kf = os.path.join(srv.maildir(JOE), "urlauth-keys")
    st = os.stat(kf) if os.path.exists(kf) else None
    t.ok(st is not None and stat.S_IMODE(st.st_mode) == 0o600,
         "the keys are in joe's Maildir, mode 0600",
         oct(st.st_mode) if st else "missing")
    if st is not None:
        with open(kf) as fh:
            lines = fh.read().splitlines()
        t.ok(len(lines) == 1 and re.fullmatch(r"\d+ [0-9a-f]{64} INBOX",
                                              lines[0]) is not None,
             "one INBOX key of 256 bits, with its UIDVALIDITY", lines)

    # ---- an expunged message ----
    u19, _, _ = gen(c, "imap://joe@example.com/INBOX/;uid=19;"
                    "urlauth=user+joe")
    t.ok(fetch(c, u19) == b"Subject: filler 19\r\n\r\nx\r\n",
         "message 19 before its expunge")
    c.cmd("SELECT INBOX")
    c.cmd("UID STORE 19 +FLAGS.SILENT (\\Deleted)")
    un, r = c.cmd("EXPUNGE")
    t.ok(ok(r), "message 19 expunged", r)
    t.eq(fetch(c, u19), None, "the URL of an expunged message: NIL")
    c.cmd("UNSELECT")

    # ---- a mailbox made again: another UIDVALIDITY ----
    c.cmd("CREATE Box")
    c.cmd(b"APPEND Box " + lit(b"Subject: first\r\n\r\nold\r\n"))
    u_box, _, _ = gen(c, "imap://joe@example.com/Box/;uid=1;"
                      "urlauth=user+joe")
    t.eq(fetch(c, u_box), b"Subject: first\r\n\r\nold\r\n", "Box's UID 1")
    c.cmd("DELETE Box")
    c.cmd("CREATE Box")
    un, r = c.cmd(b"APPEND Box " + lit(b"Subject: second\r\n\r\nnew\r\n"))
    t.ok(b"APPENDUID" in r and r.rstrip().split(b"]")[0].endswith(b" 1"),
         "a new Box, its message UID 1 again", r)
    t.eq(fetch(c, u_box), None,
         "the old URL (no UIDVALIDITY in it) names nothing now: NIL")
    u_box2, _, _ = gen(c, "imap://joe@example.com/Box/;uid=1;"
                       "urlauth=user+joe")
    t.ok(u_box2 is not None and u_box2 != u_box and
         fetch(c, u_box2) == b"Subject: second\r\n\r\nnew\r\n",
         "a new key for the new Box", u_box2)

    # ---- RESETKEY (RFC 4467 §3.1) ----
    un, r = c.cmd("RESETKEY INBOX")
    t.ok(re.match(rb"^t\d+ OK \[URLMECH INTERNAL\]", r) is not None,
         "RESETKEY INBOX: OK [URLMECH INTERNAL]", r)
    t.eq(fetch(c, u_joe), None, "the URL made before RESETKEY: NIL")
    t.eq(fetch(c, u_box2), b"Subject: second\r\n\r\nnew\r\n",
         "Box's key is untouched")
    u_new, _, _ = gen(c, RUMP.replace("submit+fred", "user+joe"))
    t.ok(u_new is not None and u_new != u_joe and
         fetch(c, u_new) == SI_VIS, "a new key, a new token", u_new)
    un, r = c.cmd("RESETKEY INBOX INTERNAL")
    t.ok(ok(r) and fetch(c, u_new) is None,
         "RESETKEY INBOX INTERNAL (a mechanism named)", r)
    un, r = c.cmd("RESETKEY INBOX XSAMPLE")
    t.ok(no(r), "RESETKEY with an unknown mechanism: NO", r)
    un, r = c.cmd("RESETKEY Nowhere")
    t.ok(no(r) and b"NONEXISTENT" in r, "RESETKEY of no mailbox: NO", r)
    un, r = c.cmd("RESETKEY")
    t.ok(re.match(rb"^t\d+ OK All keys removed", r) is not None,
         "RESETKEY: all keys removed", r)
    t.eq(fetch(c, u_box2), None, "Box's URL dies with them")
    c.close()

    c = IMAPRaw("127.0.0.1", srv.port("imap"))
    un, r = c.cmd('URLFETCH "%s"' % u_anon)
    t.ok(bad(r), "URLFETCH before login: BAD", r)
    c.sock.close()
finally:
    srv.stop()
    srv.cleanup()
t.done()
