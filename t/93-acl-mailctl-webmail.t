#!/usr/bin/python3
# Shared folders (IMAP ACL, RFC 4314) outside IMAP: the administrator's
# `mailctl acl` (the same code path as SETACL and DELETEACL: what one
# does, the other sees), and the webmail, which lists the folders other
# users share with its user under a heading per owner, opens them and
# allows on them only what the rights allow (RFC 4314 §4), the rest
# refused with words, never a 500.
import http.client
import os
import re
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import IMAPRaw, TAP, Server, client_tls  # noqa: E402

ANN, BOB, CAT = "ann@example.test", "bob@example.test", "cat@example.test"
DAN = "dan@other.test"
PW = "acl-web-pw"
NS = "Other Users/ann@example.test/"
t = TAP()
srv = Server(services=("imap", "webmail"),
             overrides=["auth.allow_plaintext=yes",
                        "auth.failure_delay_max=0"])
srv.setup(domains=("example.test", "other.test"),
          users=[(ANN, PW), (BOB, PW), (CAT, PW), (DAN, PW)])
MSG = (b"From: Ann Owner <ann@example.test>\r\nTo: bob@example.test\r\n"
       b"Subject: %s\r\nMessage-ID: <%s@example.test>\r\n\r\n"
       b"The plan, in words.\r\n")


def Imap(user):
    return IMAPRaw("127.0.0.1", srv.port("imap")).login(user, PW)


def ok(r):
    return re.match(rb"^t\d+ OK", r) is not None


def append(c, box, subject, flags=""):
    data = MSG % (subject.encode(), subject.replace(" ", "-").encode())
    return c.cmd(b"APPEND " + box.encode() + b" " + flags.encode() +
                 b" {%d+}\r\n" % len(data) + data)[1]


def ctl(*args):
    return srv.mailctl("acl", *args)


class Web:
    """One user's browser: a keep-alive HTTPS connection, one cookie."""

    def __init__(self, user):
        self.port = srv.port("webmail")
        self.origin = "https://127.0.0.1:%d" % self.port
        self.cookie = None
        self.c = http.client.HTTPSConnection("127.0.0.1", self.port,
                                             context=client_tls(),
                                             timeout=30)
        r = self.req("POST", "/login", {"user": user, "password": PW})
        assert r[0] in (302, 303), r
        m = re.search(r'<meta name="csrf" content="([0-9a-f]{64})">',
                      self.req("GET", "/mail")[1])
        self.csrf = m.group(1)

    def req(self, method, path, form=None):
        h = {}
        body = None
        if self.cookie:
            h["Cookie"] = "__Host-maild=" + self.cookie
        if method == "POST":
            h["Origin"] = self.origin
            h["Content-Type"] = "application/x-www-form-urlencoded"
            body = urllib.parse.urlencode(form, doseq=True)
        self.c.request(method, path, body=body, headers=h)
        r = self.c.getresponse()
        for k, v in r.getheaders():
            m = re.match(r"__Host-maild=([^;]*)", v)
            if k.lower() == "set-cookie" and m:
                self.cookie = m.group(1) or None
        return r.status, r.read().decode("utf-8", "replace")

    def get(self, **params):
        return self.req("GET", "/mail?" + urllib.parse.urlencode(params))

    def act(self, folder, op, uids, **more):
        form = {"csrf": self.csrf, "f": folder, "op": op, "uid": uids,
                "js": "1"}
        form.update(more)
        return self.req("POST", "/act", form)


def seen_in(c, box, subject):
    c.cmd("SELECT " + box)
    un, r = c.cmd('UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
    for line in un:
        if subject.encode() in line:
            return b"\\Seen" in line
    return None


def uid_in(page, subject):
    m = re.search(r'<li data-uid="(\d+)"(?:(?!</li>).)*?%s' %
                  re.escape(subject), page, re.S)
    return m.group(1) if m else None


try:
    srv.start()
    ann = Imap(ANN)
    for box in ("Projects", "Private"):
        t.ok(ok(ann.cmd("CREATE " + box)[1]), "ann creates " + box)
    t.ok(ok(append(ann, "Projects", "plan one")) and
         ok(append(ann, "Projects", "plan two", "(\\Seen)")) and
         ok(append(ann, "Private", "diary")), "ann's messages")

    # ---- mailctl acl: refusals, each with a reason and exit 1 ----
    def refused(args, needle, name):
        rc, out, err = ctl(*args)
        t.ok(rc == 1 and needle in err, name, (rc, out, err))

    refused(("set", "nobody@example.test", "Projects", BOB, "lr"),
            "no such user", "set: an unknown owner is refused")
    refused(("set", ANN, "Nowhere", BOB, "lr"), "has no folder",
            "set: an unknown folder is refused")
    refused(("set", ANN, "Projects", "zed@example.test", "lr"),
            "no such user in example.test", "set: an unknown grantee")
    refused(("set", ANN, "Projects", DAN, "lr"), "owner's domain",
            "set: a grantee of another domain")
    refused(("set", ANN, "Projects", BOB, "lrQ"), "Uppercase",
            "set: upper-case rights (RFC 4314 §3.1)")
    refused(("set", ANN, "Projects", BOB, "lrz"), "z right",
            "set: a right that is not one of §2.1")
    refused(("set", ANN, "Projects", BOB, "la"), "a right stays",
            "set: the a right stays with the owner")
    refused(("set", ANN, "Projects", ANN, "lr"), "owner always",
            "set: the owner itself")
    refused(("list", "nobody@example.test"), "no such user",
            "list: an unknown owner")
    refused(("del", ANN, "Nowhere", BOB), "has no folder",
            "del: an unknown folder")
    rc, out, err = srv.mailctl("acl", "frob", ANN)
    t.ok(rc == 2 and "acl list OWNER" in err, "an unknown acl command: "
         "the usage", (rc, err))
    rc, out, err = ctl("list", ANN)
    t.eq((rc, out), (0, ""), "list: nothing shared yet")

    # ---- set via mailctl -> bob sees it over IMAP ----
    rc, out, err = ctl("set", ANN, "Projects", "bob", "lr")
    t.eq((rc, out), (0, "Projects: bob@example.test lr\n"),
         "set ann Projects bob lr ('bob' is bob@ the owner's domain)")
    rc, out, err = ctl("list", ANN)
    t.eq(out, "Projects  bob@example.test lr\n", "list shows the entry")
    top = os.stat(srv.maildir(ANN)).st_uid
    strays = [os.path.join(d, f) for d, _, fs in os.walk(srv.maildir(ANN))
              for f in fs if os.stat(os.path.join(d, f)).st_uid != top]
    t.eq(strays, [], "mailctl left no file in ann's Maildir that is not "
         "the daemons' user's")
    un, r = ann.cmd("GETACL Projects")
    t.eq(un, [b"* ACL Projects ann@example.test lrswipkxteacd "
              b"bob@example.test lr\r\n"], "ann's GETACL shows it")
    rc, out, err = srv.mailctl("user", "shares", BOB)
    t.ok("ann@example.test shares with bob@example.test" in out,
         "the index of shares has the pair (as SETACL adds it)", out)
    bob = Imap(BOB)
    un, r = bob.cmd('LIST "" "Other Users/*"')
    t.ok(any(b'"Other Users/ann@example.test/Projects"' in x for x in un)
         and not any(b"Private" in x for x in un),
         "bob's LIST: Projects in the other users' namespace, not "
         "Private", un)
    un, r = bob.cmd('MYRIGHTS "%sProjects"' % NS)
    t.eq(un, [b'* MYRIGHTS "Other Users/ann@example.test/Projects" lr\r\n'],
         "bob's MYRIGHTS: lr")
    rc, out, err = ctl("set", ANN, "Projects", BOB, "+sc")
    t.eq(out, "Projects: bob@example.test lrskx\n",
         "+sc adds s and c (= k x, §2.1.1)")
    rc, out, err = ctl("set", ANN, "Projects", BOB, "-kx")
    t.eq(out, "Projects: bob@example.test lrs\n", "-kx takes them away")
    rc, out, err = ctl("set", ANN, "Projects", BOB, "lr")
    bob.close()

    # ---- the webmail: bob sees ann's Projects (lr) ----
    web = Web(BOB)
    st, page = web.get()
    t.ok(st == 200 and 'class="heading others"' in page and
         '<li class="heading owner">ann@example.test</li>' in page and
         re.search(r'href="/mail\?f=Other[^"]*ann[^"]*Projects"', page)
         and "Private" not in page,
         "bob's folder pane: a heading for the other users, ann, and "
         "her Projects (not Private)", page[:3000])
    m = re.search(r'Projects</span><span class="count">(\d*)</span>', page)
    t.eq(m and m.group(1), "1", "its unread count: 1")
    st, page = web.get(f=NS + "Projects")
    t.ok(st == 200 and "plan one" in page and "plan two" in page,
         "the list of the shared folder", st)
    uid = uid_in(page, "plan one")
    t.ok('value="read"' not in page and 'value="delete"' not in page and
         'value="flag"' not in page,
         "with lr the toolbar offers no read, flag or delete")
    st, page = web.get(f=NS + "Projects", u=uid)
    t.ok(st == 200 and 'class="reader" data-uid="%s" data-unread="0"' % uid
         in page and "Ann Owner" in page,
         "the message opens; the page does not ask to mark it read (no s)")
    st, body = web.req("GET", "/msg/body?" + urllib.parse.urlencode(
        {"f": NS + "Projects", "u": uid}))
    t.ok(st == 200 and "The plan, in words." in body, "its text", st)
    st, body = web.act(NS + "Projects", "read", [uid])
    t.ok(st == 403 and "(s)" in body, "marking it seen without s: 403 "
         "that names the right", (st, body))
    t.eq(seen_in(ann, "Projects", "plan one"), False,
         "ann's IMAP: still not \\Seen")
    st, body = web.act(NS + "Projects", "delete", [uid])
    t.ok(st == 403 and "(t, e)" in body, "delete without t e: 403",
         (st, body))
    st, body = web.act("INBOX", "move", [uid], to=NS + "Projects")
    t.ok(st in (403, 409) and st != 500, "a move into it without i is "
         "refused", (st, body))
    st, page = web.get(f=NS + "Private")
    t.eq(st, 404, "ann's Private (no right): no such folder")
    st, body = web.req("POST", "/folder", {"csrf": web.csrf, "op": "delete",
                                           "f": NS + "Projects"})
    t.ok(st == 403 and "owners" in body, "deleting her folder: 403",
         (st, body))

    # ---- lrs: the same mark works, and ann sees \Seen ----
    rc, out, err = ctl("set", ANN, "Projects", BOB, "lrs")
    st, page = web.get(f=NS + "Projects", u=uid)
    t.ok('data-unread="1"' in page and 'value="unread"' in page,
         "with s: the page marks it read and offers unread")
    st, body = web.act(NS + "Projects", "read", [uid])
    t.eq(st, 204, "marking it seen with s")
    t.eq(seen_in(ann, "Projects", "plan one"), True,
         "ann's IMAP sees \\Seen")
    st, page = web.get()
    m = re.search(r'Projects</span><span class="count">(\d*)</span>', page)
    t.eq(m and m.group(1), "", "the pane's count: none unread")

    # ---- del via mailctl: gone for IMAP and the webmail ----
    rc, out, err = ctl("del", ANN, "Projects", BOB)
    t.eq((rc, out), (0, "Projects: bob@example.test has no entry now\n"),
         "del ann Projects bob")
    rc, out, err = ctl("list", ANN, "Projects")
    t.eq(out, "", "list: no entry left")
    rc, out, err = srv.mailctl("user", "shares", BOB)
    t.ok("ann@example.test" not in out, "the index of shares forgot it",
         out)
    st, page = web.get(f=NS + "Projects")
    t.eq(st, 404, "the webmail session: the folder is gone at once")
    bob = Imap(BOB)
    un, r = bob.cmd('LIST "" "Other Users/*"')
    t.eq(un, [], "bob's next IMAP session lists nothing of ann's")
    un, r = bob.cmd('MYRIGHTS "%sProjects"' % NS)
    t.ok(b"NO [NONEXISTENT]" in r, "MYRIGHTS: no such mailbox", r)
    bob.close()

    # ---- IMAP SETACL -> mailctl acl list ----
    r = ann.cmd("SETACL Private cat lrswi")[1]
    t.ok(ok(r), "ann's IMAP: SETACL Private cat lrswi", r)
    r = ann.cmd("SETACL Private -anyone w")[1]
    rc, out, err = ctl("list", ANN)
    t.eq(out, "Private  -anyone w\nPrivate  cat@example.test lrswi\n",
         "mailctl acl list shows what SETACL set")
    web_cat = Web(CAT)
    st, page = web_cat.get(f=NS + "Private")
    t.ok(st == 200 and "diary" in page, "cat's webmail opens Private")
    st, body = web_cat.act(NS + "Private", "flag", [uid_in(page, "diary")])
    t.ok(st == 403 and "(w)" in body,
         "flag: w taken away by -anyone (§2's negative entry)", (st, body))
    st, body = web_cat.act("INBOX", "move", ["999"], to=NS + "Private")
    t.ok(st != 403 and st != 500, "a move into it with i is allowed "
         "(here: no such message)", (st, body))
    t.ok(" 500 " not in srv.log() and "ERROR: AddressSanitizer"
         not in srv.log(), "no 500, no sanitizer report in the log")
finally:
    srv.stop()
    srv.cleanup()
t.done()
