#!/usr/bin/python3
# URL-PARTIAL (RFC 5550 §5): ";PARTIAL=offset[.length]" (RFC 5092) in
# GENURLAUTH, URLFETCH (with URLAUTH=BINARY's BINARY, BODY and
# BODYPARTSTRUCTURE, RFC 5524) and CATENATE (RFC 4469), RFC 5092's own
# example range, the bounds of the numbers, ranges past the end; and
# URLAUTH URLs of folders shared with the user (RFC 4314): made and
# fetched by the grantee under its own key and rights, NIL once the right
# to read is taken away, never fetched through the owner's name; BURL
# (RFC 4468) of such a URL on submission.  The URL's host: this server's
# name or the user's domain, else NO and NIL (a token made with the key
# from the Maildir shows the NIL is the host's); mailbox names in URLs
# as UTF-8 (RFC 5092 §3.2), "&" included, never as modified UTF-7.
import base64
import hashlib
import hmac
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import (IMAPRaw, TAP, Server, SMTPRaw,  # noqa: E402
                       client_tls)

JOE, ANN, BOB, CAT = ("joe@example.com", "ann@example.com",
                      "bob@example.com", "cat@example.com")
PW = "pw-5550"
t = TAP()
srv = Server(services=("submission", "imap"),
             overrides=["auth.allow_plaintext=yes",
                        "auth.failure_delay_max=0",
                        "imapd.max_errors=1000", "smtpd.max_errors=1000"])
srv.setup(domains=("example.com",),
          users=[(JOE, PW), (ANN, PW), (BOB, PW), (CAT, PW)])

SI_VIS = b"Si vis pacem, para bellum.\r\n"
BLOB = bytes(range(256)) * 3
BIG = b"".join(b"line %04d of the council's minutes\r\n" % i
               for i in range(60))                  # > 1024 octets
MSG1 = (b"From: joe@example.com\r\nTo: fred@example.com\r\n"
        b"Subject: ranges\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=outer\r\n\r\n"
        b"--outer\r\nContent-Type: multipart/alternative; boundary=inner"
        b"\r\n\r\n--inner\r\nContent-Type: text/plain\r\n\r\nfirst\r\n"
        b"--inner\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n" +
        SI_VIS + b"\r\n--inner--\r\n\r\n"
        b"--outer\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" +
        base64.encodebytes(BLOB).replace(b"\n", b"\r\n") +
        b"--outer--\r\n")
MSG2 = b"Subject: minutes\r\n\r\n" + BIG


def lit(data):
    return b"{%d+}\r\n" % len(data) + data


def ok(r):
    return re.match(rb"^t\d+ OK", r) is not None


def no(r, code=rb""):
    return re.match(rb"^t\d+ NO " + code, r) is not None


def gen(c, rump):
    """GENURLAUTH one rump: the authorized URL (str) or None, and r."""
    un, r = c.cmd('GENURLAUTH "%s" INTERNAL' % rump)
    m = re.match(rb'^\* GENURLAUTH "([^"]+)"\r\n$', un[0]) if un else None
    return (m.group(1).decode() if ok(r) and m else None), r


def fetch(c, url, params=""):
    """URLFETCH one URL: its data (bytes), None for NIL, else the reply;
    with params, the untagged line after the URL."""
    if params:
        un, r = c.cmd('URLFETCH ("%s" %s)' % (url, params))
    else:
        un, r = c.cmd('URLFETCH "%s"' % url)
    head = b'* URLFETCH "%s" ' % url.encode()
    if not ok(r) or len(un) != 1 or not un[0].startswith(head):
        return ("failed", un, r)
    rest = un[0][len(head):]
    if params:
        return rest
    if rest == b"NIL\r\n":
        return None
    m = re.match(rb"^\{(\d+)\}\r\n", rest)
    if not m:
        return ("other", un, r)
    return rest[m.end():m.end() + int(m.group(1))]


def Imap(user):
    return IMAPRaw("127.0.0.1", srv.port("imap")).login(user, PW)


def burl(user, url):
    """MAIL, RCPT cat, BURL url LAST on 587 as user: the BURL's reply."""
    c = SMTPRaw("127.0.0.1", srv.port("submission"))
    c.reply()
    c.cmd("EHLO client.example.com")
    c.cmd("STARTTLS")
    c.sock = client_tls().wrap_socket(c.sock,
                                      server_hostname="mail.example.test")
    c.cmd("EHLO client.example.com")
    auth = base64.b64encode(("\0%s\0%s" % (user, PW)).encode()).decode()
    code, text = c.cmd("AUTH PLAIN " + auth)
    c.cmd("MAIL FROM:<%s>" % user)
    c.cmd("RCPT TO:<%s>" % CAT)
    code, text = c.cmd("BURL %s LAST" % url)
    c.cmd("QUIT")
    c.close()
    return text


def last_message(c, box):
    c.cmd("EXAMINE " + box)
    un, r = c.cmd("FETCH * BODY.PEEK[]")
    c.cmd("UNSELECT")
    m = re.search(rb"\{(\d+)\}\r\n", un[-1]) if un else None
    return un[-1][m.end():m.end() + int(m.group(1))] if m else un


try:
    srv.start()
    c = Imap(JOE)
    un, r = c.cmd("CAPABILITY")
    t.ok(b"URL-PARTIAL" in b"".join(un).split(),
         "CAPABILITY has URL-PARTIAL", un)
    c.cmd("CREATE gray-council")
    c.cmd(b"APPEND gray-council " + lit(MSG1))
    un, r = c.cmd(b"APPEND gray-council " + lit(MSG2))
    uidv = re.search(rb"APPENDUID (\d+) 2\]", r)
    t.ok(uidv is not None, "gray-council: UIDs 1 and 2", r)
    uidv = uidv.group(1).decode() if uidv else "1"
    base = "imap://joe@example.com/gray-council;UIDVALIDITY=%s/;UID=" % uidv

    # ---- RFC 5092 §6's example: the first 1024 octets of a message ----
    u, r = gen(c, base + "2/;PARTIAL=0.1024;URLAUTH=user+joe")
    t.ok(u is not None, "GENURLAUTH of RFC 5092's /;PARTIAL=0.1024", r)
    got = fetch(c, u)
    t.ok(got == MSG2[:1024], "URLFETCH: the first 1024 octets", got)
    c.cmd("EXAMINE gray-council")
    un, r = c.cmd("UID FETCH 2 BODY.PEEK[]<0.1024>")
    c.cmd("UNSELECT")
    m = re.search(rb"\{(\d+)\}\r\n", un[0]) if un else None
    t.ok(m is not None and un[0][m.end():m.end() + 1024] == got,
         "the same octets as FETCH BODY[]<0.1024>", un)
    t.eq(fetch(c, u.replace("PARTIAL=0.1024", "PARTIAL=0.1025")), None,
         "the range changed after signing: NIL (the token covers it)")
    u, r = gen(c, base + "2/;partial=1000;urlauth=user+joe")
    t.eq(fetch(c, u), MSG2[1000:], "an offset alone: from there to the end")
    u, r = gen(c, base + "2/;PARTIAL=0007.5;URLAUTH=user+joe")
    t.eq(fetch(c, u), MSG2[7:12], "an offset with leading zeros (a number)")
    u, r = gen(c, base + "2/;PARTIAL=%d.10;URLAUTH=user+joe" %
               (len(MSG2) - 4))
    t.eq(fetch(c, u), MSG2[-4:], "a length past the end: up to the end")
    for off in (len(MSG2), len(MSG2) + 1, 4294967295):
        u, r = gen(c, base + "2/;PARTIAL=%d.10;URLAUTH=user+joe" % off)
        t.eq(fetch(c, u), b"",
             "offset %d, at or past the end: an empty string "
             "(RFC 3501 §6.4.5)" % off)
    un, r = c.cmd('URLFETCH "%s"' % u)
    t.eq(un, [b'* URLFETCH "%s" {0}\r\n\r\n' % u.encode()],
         "an empty range is {0}, not NIL")

    # ---- malformed ranges and bounds ----
    for rng, why in (("0.0", "a length of 0 (nz-number)"),
                     ("5.00", "a length of 0 with leading zeros"),
                     ("", "no range"), (".5", "no offset"),
                     ("5.", "a dot without a length"),
                     ("-1.5", "a negative offset"), ("1.2.3", "two dots"),
                     ("4294967296", "an offset past 2^32-1"),
                     ("0.4294967296", "a length past 2^32-1"),
                     ("99999999999999999999999", "an offset of 23 digits"),
                     ("1x", "a letter after the offset")):
        u, r = gen(c, base + "2/;PARTIAL=%s;URLAUTH=user+joe" % rng)
        t.ok(u is None and no(r), "GENURLAUTH /;PARTIAL=%s: NO, %s" %
             (rng, why), r)
    u, r = gen(c, base + "2/;PARTIAL=0.4294967295;URLAUTH=user+joe")
    t.eq(fetch(c, u), MSG2, "the largest length (2^32-1): all of it")
    good, r = gen(c, base + "2/;PARTIAL=0.5;URLAUTH=user+joe")
    bad0 = good.replace("PARTIAL=0.5", "PARTIAL=0.0")
    t.eq(fetch(c, bad0), None, "URLFETCH of a length of 0: NIL")

    # ---- a range of a section ----
    u, r = gen(c, base + "1/;SECTION=1.2/;PARTIAL=3.9;URLAUTH=user+joe")
    t.eq(fetch(c, u), SI_VIS[3:12], "/;SECTION=1.2/;PARTIAL=3.9")
    u, r = gen(c, base + "1/;SECTION=HEADER/;PARTIAL=0.20;URLAUTH=user+joe")
    t.eq(fetch(c, u), MSG1[:20], "a range of the HEADER")
    u, r = gen(c, base + "1/;SECTION=1.2/;PARTIAL=28.1;URLAUTH=user+joe")
    t.eq(fetch(c, u), b"", "a range just past the section's end: empty")

    # ---- RFC 5524: BINARY, BODY, BODYPARTSTRUCTURE of a range ----
    u_bin, r = gen(c, base + "1/;SECTION=2/;PARTIAL=254.4;URLAUTH=user+joe")
    got = fetch(c, u_bin, "BINARY")
    t.eq(got, b"(BINARY ~{4}\r\n" + BLOB[254:258] + b")\r\n",
         "BINARY of a base64 part's range: the decoded octets 254-257, a "
         "literal8 for their NUL (as FETCH BINARY[2]<254.4>)")
    c.cmd("EXAMINE gray-council")
    un, r = c.cmd("UID FETCH 1 BINARY.PEEK[2]<254.4>")
    c.cmd("UNSELECT")
    t.ok(len(un) == 1 and un[0].endswith(b"~{4}\r\n" + BLOB[254:258] +
                                         b")\r\n"),
         "FETCH BINARY[2]<254.4> gives the same", un)
    raw = base64.encodebytes(BLOB).replace(b"\n", b"\r\n")
    t.eq(fetch(c, u_bin, "BODY"), b"(BODY {4}\r\n" + raw[254:258] +
         b")\r\n", "BODY of the same URL: the range as stored (base64)")
    t.eq(fetch(c, u_bin), raw[254:258], "the plain form: as BODY")
    got = fetch(c, u_bin, "BODYPARTSTRUCTURE")
    t.ok(isinstance(got, bytes) and got.startswith(
        b'(BODYPARTSTRUCTURE ("APPLICATION" "OCTET-STREAM" NIL NIL NIL '
        b'"BASE64" '),
        "BODYPARTSTRUCTURE: the part's, whatever the range", got)
    u, r = gen(c, base + "1/;SECTION=2/;PARTIAL=760.100;URLAUTH=user+joe")
    t.eq(fetch(c, u, "BINARY"), b"(BINARY {8}\r\n" + BLOB[760:] + b")\r\n",
         "BINARY's range ends where the decoded content does (768)")
    u, r = gen(c, base + "1/;SECTION=2/;PARTIAL=800.1;URLAUTH=user+joe")
    t.eq(fetch(c, u, "BINARY"), b"(BINARY {0}\r\n)\r\n",
         "BINARY's range past the decoded end (though within the base64): "
         "empty")
    u, r = gen(c, base + "1/;SECTION=1.2/;PARTIAL=0.4;URLAUTH=user+joe")
    t.eq(fetch(c, u, "BODYPARTSTRUCTURE BINARY"),
         b'(BODYPARTSTRUCTURE ("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL '
         b'NIL "7BIT" 28 1 NIL NIL NIL NIL)) (BINARY {4}\r\nSi v)\r\n',
         "RFC 5524 §4's reply, for a range of part 1.2")

    # ---- CATENATE (RFC 4469) with ranges ----
    u_sec, r = gen(c, base + "1/;SECTION=1.2/;PARTIAL=0.14;URLAUTH=user+joe")
    un, r = c.cmd(b'APPEND Drafts CATENATE (TEXT ' +
                  lit(b"Subject: quoted\r\n\r\n") + b' URL "' +
                  u_sec.encode() + b'" URL "/gray-council;UIDVALIDITY=' +
                  uidv.encode() + b'/;UID=2/;PARTIAL=20.10" URL '
                  b'"/gray-council/;UID=1/;SECTION=1.2/;PARTIAL=14.999")')
    t.ok(ok(r), "CATENATE of a URLAUTH range and two absolute-path ranges",
         r)
    t.eq(last_message(c, "Drafts"), b"Subject: quoted\r\n\r\n" +
         SI_VIS[:14] + MSG2[20:30] + SI_VIS[14:],
         "the message is the text and the three ranges")
    c.cmd("EXAMINE gray-council")
    un, r = c.cmd(b'APPEND Drafts CATENATE (URL ";UID=2/;PARTIAL=0.18" '
                  b'URL ";UID=2/;PARTIAL=99999.5" TEXT ' +
                  lit(b"\r\nbody\r\n") + b')')
    c.cmd("UNSELECT")
    t.ok(ok(r), "CATENATE of relative ranges (one past the end)", r)
    t.eq(last_message(c, "Drafts"), b"Subject: minutes\r\n\r\nbody\r\n",
         "the first 18 octets, nothing, then the text")
    for url, why in (("/gray-council/;UID=2/;PARTIAL=0.0", "a length of 0"),
                     ("/gray-council/;UID=2/;PARTIAL=4294967296",
                      "an offset past 2^32-1"),
                     ("/gray-council/;UID=2/;PARTIAL=", "no range"),
                     (bad0, "a URLAUTH URL with a length of 0")):
        un, r = c.cmd(b'APPEND Drafts CATENATE (TEXT ' + lit(b"X: y\r\n\r\n")
                      + b' URL "' + url.encode() + b'")')
        t.ok(no(r, rb"\[BADURL"), "CATENATE, %s: NO [BADURL]" % why, r)

    # ---- the URL's host ----
    full = ("imap://joe%40example.com@{}/gray-council/;UID=2/;PARTIAL=0.5;"
            "URLAUTH=user+joe%40example.com")
    for host in ("mail.example.test", "MAIL.Example.TEST", "example.com",
                 "mail.example.test:143"):
        u, r = gen(c, full.format(host))
        t.ok(u is not None and fetch(c, u) == MSG2[:5],
             "host %s: this server's (server.hostname, the user's "
             "domain; a port is not checked)" % host, r)
    for host in ("evil.example", "127.0.0.1", "[::1]:143",
                 "mail.example.test.evil.example"):
        u, r = gen(c, full.format(host))
        t.ok(u is None and no(r), "GENURLAUTH with host %s: NO" % host, r)
    kf = os.path.join(srv.maildir(JOE), "urlauth-keys")
    keys = dict((ln.split(" ", 2)[2], ln.split(" ", 2)[1])
                for ln in open(kf).read().splitlines())
    key = bytes.fromhex(keys.get("gray-council", "00"))

    def sign(rump):
        return rump + ":INTERNAL:" + hmac.new(key, rump.encode(),
                                              hashlib.sha256).hexdigest()
    t.eq(fetch(c, sign(full.format("example.com"))), MSG2[:5],
         "a token made here with the key from the Maildir works")
    t.eq(fetch(c, sign(full.format("evil.example"))), None,
         "the same for host evil.example: NIL (the host, not the token)")

    # ---- mailbox names: UTF-8 in URLs, modified UTF-7 in IMAP ----
    for box in ("&AMQ-pfel &- Birnen", "R&-D"):
        c.cmd('CREATE "%s"' % box)
        c.cmd(b'APPEND "' + box.encode() + b'" ' + lit(b"Subject: " +
                                                       box.encode() +
                                                       b"\r\n\r\nx\r\n"))
    for name, box in (("%C3%84pfel%20%26%20Birnen", "&AMQ-pfel &- Birnen"),
                      ("%C3%84pfel &%20Birnen", "&AMQ-pfel &- Birnen"),
                      ("R&D", "R&-D"), ("R%26D", "R&-D")):
        u, r = gen(c, "imap://joe@example.com/%s/;UID=1;URLAUTH=user+joe" %
                   name)
        t.ok(u is not None and fetch(c, u) ==
             b"Subject: " + box.encode() + b"\r\n\r\nx\r\n",
             "the URL's %s is IMAP's %s" % (name, box), r)
    for name in ("%26AMQ-pfel%20%26-%20Birnen", "R%26-D", "%C3%84pfel%ff"):
        u, r = gen(c, "imap://joe@example.com/%s/;UID=1;URLAUTH=user+joe" %
                   name)
        t.ok(u is None and no(r),
             "%s (modified UTF-7, or not UTF-8) names no folder: NO" % name,
             r)
    un, r = c.cmd(b'APPEND Drafts CATENATE (URL "/%C3%84pfel%20%26%20Birnen'
                  b'/;UID=1/;SECTION=HEADER")')
    t.ok(ok(r), "CATENATE's absolute-path URL in UTF-8 too", r)
    un, r = c.cmd(b'APPEND Drafts CATENATE (URL "/%26AMQ-pfel%20%26-%20'
                  b'Birnen/;UID=1")')
    t.ok(no(r, rb"\[BADURL"), "and the modified UTF-7 one: BADURL", r)
    c.close()

    # ---- URLs of a shared folder (RFC 4314) ----
    ann = Imap(ANN)
    ann.cmd("CREATE Projects")
    ann.cmd(b"APPEND Projects " + lit(MSG2))
    ann.cmd("CREATE Notes")
    ann.cmd(b"APPEND Notes " + lit(b"Subject: note\r\n\r\nsecret\r\n"))
    t.ok(ok(ann.cmd("SETACL Projects bob lr")[1]) and
         ok(ann.cmd("SETACL Notes bob l")[1]) and
         ok(ann.cmd("SETACL Notes cat lr")[1]),
         "ann gives bob lr on Projects, l on Notes")
    bob = Imap(BOB)     # after the grant: its process may open ann's store
    shared = ("imap://bob@example.com/Other%20Users/ann@example.com/"
              "Projects/;UID=1")
    u_sh, r = gen(bob, shared + ";URLAUTH=user+bob")
    t.ok(u_sh is not None, "bob: GENURLAUTH of ann's Projects, shared with "
         "him (his URL: his user, the name in his namespace)", r)
    t.eq(fetch(bob, u_sh), MSG2, "bob: URLFETCH gives ann's message")
    u_shp, r = gen(bob, shared + "/;PARTIAL=20.10;URLAUTH=authuser")
    t.eq(fetch(bob, u_shp), MSG2[20:30], "and a range of it")
    u_up = u_sh.replace("ann@example.com", "ANN@EXAMPLE.COM")
    u_up2, r = gen(bob, shared.replace("ann@example.com", "ANN@EXAMPLE.COM")
                   + ";URLAUTH=user+bob")
    t.ok(u_up2 is not None and fetch(bob, u_up2) == MSG2,
         "the owner's name in another case: the same folder", r)
    t.eq(fetch(bob, u_up), None, "(a URL whose text changed is NIL)")
    kf = os.path.join(srv.maildir(BOB), "urlauth-keys")
    keys = open(kf).read().splitlines() if os.path.exists(kf) else []
    t.ok(len(keys) == 1 and keys[0].endswith(
        " Other Users/ann@example.com/Projects"),
        "one key, in bob's Maildir, for the folder's name in his "
        "namespace (whatever case the URL had)", keys)
    t.ok(not os.path.exists(os.path.join(srv.maildir(ANN), "urlauth-keys")),
         "none in ann's Maildir")
    un, r = bob.cmd("EXAMINE \"Other Users/ann@example.com/Projects\"")
    t.ok(b"* OK [URLMECH INTERNAL] URLAUTH mechanisms\r\n" in un,
         "EXAMINE of the shared folder says URLMECH INTERNAL", un)
    bob.cmd("UNSELECT")
    un, r = bob.cmd(b'APPEND INBOX CATENATE (TEXT ' + lit(b"X: fwd\r\n\r\n")
                    + b' URL "' + u_shp.encode() + b'")')
    t.ok(ok(r) and last_message(bob, "INBOX") == b"X: fwd\r\n\r\n" +
         MSG2[20:30], "bob: CATENATE of his URL of the shared folder", r)

    u_sub, r = gen(bob, shared + "/;SECTION=TEXT;URLAUTH=submit+bob")
    text = burl(BOB, u_sub)
    got = srv.wait_messages(CAT, 1)
    t.ok(text.startswith("250 2.0.0") and len(got) == 1 and
         got[0][1].endswith(BIG.replace(b"\r\n", b"\n")),
         "BURL (RFC 4468) of bob's submit+bob URL of the shared folder: "
         "cat gets its text", (text, got[:1]))

    u, r = gen(bob, "imap://bob@example.com/Other%20Users/ann@example.com/"
               "Notes/;UID=1;URLAUTH=user+bob")
    t.ok(u is None and no(r, rb"\[NOPERM\]"),
         "GENURLAUTH of a shared folder with l but no r: NO [NOPERM]", r)
    u, r = gen(bob, "imap://bob@example.com/Other%20Users/ann@example.com/"
               "INBOX/;UID=1;URLAUTH=user+bob")
    t.ok(u is None and no(r, rb"\[NONEXISTENT\]"),
         "of a folder not shared with him: NO [NONEXISTENT]", r)
    u, r = gen(bob, "imap://ann@example.com/Projects/;UID=1;"
               "URLAUTH=user+bob")
    t.ok(u is None and no(r), "of ann's folder under ann's name (ann's "
         "URL, not his to sign): NO", r)
    u_ann, r = gen(ann, "imap://ann@example.com/Projects/;UID=1;"
                   "URLAUTH=authuser")
    t.ok(u_ann is not None and fetch(ann, u_ann) == MSG2,
         "ann's own URL of Projects, fetched by ann")
    t.eq(fetch(bob, u_ann), None,
         "ann's authuser URL fetched by bob: NIL (ann's URLs are hers)")
    catc = Imap(CAT)
    t.eq(fetch(catc, u_sh), None, "bob's URL fetched by cat: NIL")
    u_cat, r = gen(catc, "imap://cat@example.com/Other%20Users/"
                   "ann@example.com/Notes/;UID=1;URLAUTH=user+cat")
    t.ok(u_cat is not None and fetch(catc, u_cat) ==
         b"Subject: note\r\n\r\nsecret\r\n",
         "cat (lr on Notes) makes and fetches hers", r)
    t.eq(fetch(bob, u_cat), None, "cat's URL fetched by bob: NIL")

    # ---- revocation, then RESETKEY ----
    t.ok(ok(ann.cmd("SETACL Projects bob -r")[1]), "ann takes bob's r")
    t.eq(fetch(bob, u_sh), None,
         "bob's URL, in the session he had: NIL at once")
    t.eq(fetch(bob, u_shp), None, "its range too")
    un, r = bob.cmd(b'APPEND INBOX CATENATE (URL "' + u_shp.encode() +
                    b'")')
    t.ok(no(r, rb"\[BADURL"), "CATENATE of it: NO [BADURL]", r)
    u, r = gen(bob, shared + ";URLAUTH=user+bob")
    t.ok(u is None and no(r, rb"\[NOPERM\]"),
         "GENURLAUTH now: NO [NOPERM]", r)
    text = burl(BOB, u_sub)
    t.ok(text.startswith("554 5.6.6"), "BURL of it: 554 5.6.6", text)
    bob2 = Imap(BOB)
    t.eq(fetch(bob2, u_sh), None, "in a new session: NIL")
    bob2.close()
    t.ok(ok(ann.cmd("SETACL Projects bob +r")[1]), "ann gives r back")
    t.eq(fetch(bob, u_sh), MSG2,
         "the URL works again: the key is bob's, the right is checked at "
         "each fetch")
    un, r = bob.cmd('RESETKEY "Other Users/ann@example.com/Projects"')
    t.ok(re.match(rb"^t\d+ OK \[URLMECH INTERNAL\]", r) is not None,
         "bob: RESETKEY of the shared folder", r)
    t.eq(fetch(bob, u_sh), None, "his URLs of it are NIL")
    t.eq(fetch(catc, u_cat), b"Subject: note\r\n\r\nsecret\r\n",
         "cat's key of Notes is hers: untouched")
    un, r = bob.cmd('RESETKEY "Other Users/ann@example.com/Nowhere"')
    t.ok(no(r, rb"\[NONEXISTENT\]"), "RESETKEY of no folder: NONEXISTENT",
         r)
    t.ok(ok(ann.cmd("DELETE Notes")[1]), "ann deletes Notes")
    t.eq(fetch(catc, u_cat), None, "cat's URL of it: NIL")
    catc.close()
    bob.close()
    ann.close()
finally:
    srv.stop()
    srv.cleanup()
t.done()
