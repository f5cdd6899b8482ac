#!/usr/bin/python3
# The webmail over HTTPS, as a browser's requests see it (Python's
# http.client over TLS): the security headers of every response, the
# session cookie, CSRF and Origin checks, the login delay shared with
# IMAP, limits (413), ids that never become paths, and the store shared
# with IMAP both ways (a flag or a move made on the web is what IMAP
# sees).  A real browser drives it in t/81-webmail-browser.t.
import email
import email.policy
import http.client
import imaplib
import os
import re
import smtplib
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import TAP, Server, client_tls, wait_until  # noqa: E402

U, PW = "wendy@example.test", "wendy-pw-1"
U2, PW2 = "otto@example.test", "otto-pw-1"
t = TAP()
srv = Server(services=("smtp", "imaps", "webmail", "webmail_http"),
             overrides=["auth.failure_delay_max=3s", "auth.max_failures=50",
                        "webmail.max_body=256k"])
srv.setup(users=[(U, PW), (U2, PW2)],
          aliases=[("sales@example.test", U), ("sales@example.test", U2)])
srv.start()
PORT = srv.port("webmail")
ORIGIN = "https://127.0.0.1:%d" % PORT

CSP_APP = ("default-src 'none'; script-src 'self'; style-src 'self'; "
           "img-src 'self' data:; connect-src 'self'; frame-src 'self'; "
           "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
CSP_FRAME = ("sandbox allow-popups allow-popups-to-escape-sandbox; "
             "default-src 'none'; img-src data: 'self'; "
             "style-src 'unsafe-inline'; font-src data:; base-uri 'none'; "
             "form-action 'none'; frame-ancestors 'self'")


class Resp:
    def __init__(self, r):
        self.status = r.status
        self.headers = r.getheaders()
        self.body = r.read()
        self.text = self.body.decode("utf-8", "replace")

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def headers_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]


class Browser:
    """One keep-alive HTTPS connection and a cookie jar of one cookie."""

    def __init__(self):
        self.cookie = None
        self.c = http.client.HTTPSConnection("127.0.0.1", PORT,
                                             context=client_tls(),
                                             timeout=30)

    def req(self, method, path, form=None, origin=ORIGIN, headers=None,
            body=None):
        h = dict(headers or {})
        if self.cookie:
            h["Cookie"] = "__Host-maild=" + self.cookie
        if origin is not None and method == "POST":
            h["Origin"] = origin
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            h["Content-Type"] = "application/x-www-form-urlencoded"
        self.c.request(method, path, body=body, headers=h)
        r = Resp(self.c.getresponse())
        for v in r.headers_all("Set-Cookie"):
            m = re.match(r"__Host-maild=([^;]*)", v)
            if m:
                self.cookie = m.group(1) or None
        return r

    def login(self, user=U, password=PW):
        return self.req("POST", "/login", {"user": user,
                                           "password": password})

    def csrf(self):
        r = self.req("GET", "/mail")
        m = re.search(r'<meta name="csrf" content="([0-9a-f]{64})">',
                      r.text)
        return m.group(1) if m else None


def send(subject, body="hello\n", to=U, ctype="text/plain"):
    msg = ("From: Sender Person <sender@example.org>\r\nTo: %s\r\n"
           "Message-ID: <%s@example.org>\r\n"
           "Subject: %s\r\nMIME-Version: 1.0\r\n"
           "Content-Type: %s; charset=utf-8\r\n\r\n%s" %
           (to, abs(hash(subject)), subject, ctype, body))
    with smtplib.SMTP("127.0.0.1", srv.port("smtp"), timeout=30) as s:
        s.sendmail("sender@example.org", [to], msg.encode())


def imap():
    c = imaplib.IMAP4_SSL("127.0.0.1", srv.port("imaps"),
                          ssl_context=client_tls())
    c.login(U, PW)
    return c


def uid_of(b, subject):
    """The UID of the row with this subject in the list of /mail."""
    r = b.req("GET", "/mail")
    m = re.search(r'<li data-uid="(\d+)"[^>]*>(?:(?!</li>).)*?%s' %
                  re.escape(subject), r.text, re.S)
    return int(m.group(1)) if m else None


try:
    # ---- headers of every response ----
    b = Browser()
    r = b.req("GET", "/login")
    t.ok(r.status == 200 and "<form" in r.text, "GET /login: the form",
         r.status)
    for name, want in (("Content-Security-Policy", CSP_APP),
                       ("Strict-Transport-Security", "max-age=31536000"),
                       ("X-Content-Type-Options", "nosniff"),
                       ("Referrer-Policy", "no-referrer"),
                       ("Cross-Origin-Opener-Policy", "same-origin"),
                       ("Cross-Origin-Resource-Policy", "same-origin")):
        t.ok(r.header(name) == want, "login page: %s" % name,
             r.header(name))
    t.ok("<script>" not in r.text and " on" not in
         re.sub(r"[^<]*(<[^>]*>)?", lambda m: m.group(1) or "", r.text)
         .replace("<button", ""), "login page: no inline script or "
         "event handler")
    r = b.req("GET", "/static/app.js")
    t.ok(r.status == 200 and r.header("Content-Type").startswith(
        "text/javascript") and r.header("X-Content-Type-Options") ==
        "nosniff", "static script served with its type and nosniff")
    r = b.req("GET", "/mail")
    t.ok(r.status == 303 and r.header("Location") == "/login",
         "not logged in: /mail sends to /login", (r.status, r.headers))

    # plain HTTP only redirects
    hc = http.client.HTTPConnection("127.0.0.1", srv.port("webmail_http"),
                                    timeout=30)
    hc.request("GET", "/mail?f=INBOX")
    hr = Resp(hc.getresponse())
    t.ok(hr.status == 301 and hr.header("Location") ==
         "https://127.0.0.1:%d/mail?f=INBOX" % PORT and
         hr.header("Strict-Transport-Security") is None and
         hr.header("Set-Cookie") is None, "plain HTTP: 301 to the same "
         "path over HTTPS, nothing else", (hr.status, hr.headers))
    hc.close()
    hc = http.client.HTTPConnection("127.0.0.1", srv.port("webmail_http"),
                                    timeout=30)
    hc.request("POST", "/login", body="user=x&password=y",
               headers={"Content-Type": "application/x-www-form-urlencoded"})
    hr = Resp(hc.getresponse())
    t.ok(hr.status == 301 and "password" not in hr.text,
         "plain HTTP: a POST is not taken either", hr.status)

    # ---- login ----
    r = b.req("POST", "/login", {"user": U, "password": PW}, origin=None)
    t.ok(r.status == 403 and b.cookie is None,
         "login without Origin or Referer: 403", r.status)
    r = b.req("POST", "/login", {"user": U, "password": PW},
              origin="https://evil.example")
    t.ok(r.status == 403 and b.cookie is None, "login from another "
         "site's form: 403", r.status)
    r = b.req("POST", "/login", {"user": U, "password": PW},
              origin="null", headers={"Sec-Fetch-Site": "cross-site"})
    t.ok(r.status == 403 and b.cookie is None, "Origin null from "
         "another site (Sec-Fetch-Site: cross-site): 403", r.status)
    r = b.req("POST", "/login", {"user": U, "password": PW},
              origin=ORIGIN, headers={"Sec-Fetch-Site": "same-site"})
    t.ok(r.status == 403 and b.cookie is None, "our Origin but "
         "Sec-Fetch-Site same-site (a sibling host): 403", r.status)
    r1 = b.login(U, "wrong")
    r2 = b.login("nobody@example.test", "wrong")
    t.ok(r1.status == 403 and "Login failed." in r1.text,
         "wrong password: refused", (r1.status, r1.text[-300:]))
    t.ok(r1.status == r2.status and
         re.sub(r"\s+", " ", r1.text) == re.sub(r"\s+", " ", r2.text),
         "an unknown user gets the same page as a wrong password")
    # the shared counters: the web's failures delay IMAP's next one
    start = time.monotonic()
    try:
        imaplib.IMAP4_SSL("127.0.0.1", srv.port("imaps"),
                          ssl_context=client_tls()).login(U, "wrong-again")
    except imaplib.IMAP4.error:
        pass
    took = time.monotonic() - start
    t.ok(took >= 0.9, "after web failures an IMAP failure of the same "
         "account waits (%.2fs)" % took)
    t.ok(re.search(r"auth service=web client=\[127\.0\.0\.1\] user=%s "
                   r"result=fail" % re.escape(U), srv.log()) is not None,
         "the auth service logs the web's failure like any other")
    t.ok(PW not in srv.log() and "wrong-again" not in srv.log(),
         "no password in the log")

    r = b.login()
    sc = r.header("Set-Cookie") or ""
    t.ok(r.status == 303 and r.header("Location") == "/mail",
         "right password: 303 to /mail", (r.status, r.text[-200:]))
    t.ok(re.fullmatch(r"__Host-maild=[0-9a-f]{64}; Secure; HttpOnly; "
                      r"SameSite=Strict; Path=/", sc) is not None,
         "session cookie: __Host-, 256 bits, Secure HttpOnly "
         "SameSite=Strict Path=/", sc)
    sid = b.cookie
    with open(os.path.join(srv.data_dir, "auth", "websessions.db"),
              "rb") as f:
        db = f.read()
    for name in ("-wal",):
        p = os.path.join(srv.data_dir, "auth", "websessions.db" + name)
        if os.path.exists(p):
            with open(p, "rb") as f:
                db += f.read()
    t.ok(sid is not None and sid.encode() not in db,
         "the session id is not stored as is (only its hash)")
    st = os.stat(os.path.join(srv.data_dir, "auth"))
    t.ok(st.st_mode & 0o077 == 0, "auth/ is closed to others (%o)" %
         (st.st_mode & 0o777))

    # ---- the mail page, from the store ----
    send("First web message", "Line one\nhttps://example.org/x\n")
    send("Second <b>tagged</b> message")
    srv.wait_messages(U, 2, 15)
    r = b.req("GET", "/mail")
    t.ok(r.status == 200 and "First web message" in r.text,
         "the list shows a message delivered by SMTP", r.text[-500:])
    t.ok("Second &lt;b&gt;tagged&lt;/b&gt; message" in r.text and
         "<b>tagged" not in r.text, "a subject is escaped in the page")
    t.ok(r.header("Cache-Control") == "no-store" and
         r.header("Content-Security-Policy") == CSP_APP,
         "mail pages: no-store and the app's CSP")
    t.ok(re.search(r'class="unread"', r.text) is not None,
         "unread messages are marked unread")
    t.ok("Inbox" in r.text and "Trash" in r.text and "Sent" in r.text,
         "the folders are listed")
    csrf = b.csrf()
    t.ok(csrf is not None, "the page carries the session's CSRF token")
    uid = uid_of(b, "First web message")
    t.ok(uid is not None, "the row has the message's UID")

    r = b.req("GET", "/mail?u=%d" % uid)
    t.ok(r.status == 200 and "<h2>First web message</h2>" in r.text and
         'sandbox="allow-popups allow-popups-to-escape-sandbox"' in r.text,
         "open: the message's headers and its sandboxed frame")
    r = b.req("GET", "/msg/body?f=INBOX&u=%d" % uid)
    t.ok(r.status == 200 and r.header("Content-Security-Policy") ==
         CSP_FRAME, "the mail's document has the sandbox CSP",
         r.header("Content-Security-Policy"))
    t.ok("Line one" in r.text and
         '<a href="https://example.org/x"' in r.text,
         "plain text shown with its link made clickable", r.text[-400:])

    # remote images: blocked, unless asked for this message
    send("Newsletter with pictures",
         '<p>News</p><img src="https://remote.example/pixel.png">'
         '<img src="https://remote.example/photo.jpg" alt="photo">',
         ctype="text/html")
    wait_until(lambda: uid_of(b, "Newsletter with pictures") is not None,
               15)
    nuid = uid_of(b, "Newsletter with pictures")
    r = b.req("GET", "/mail?u=%d" % nuid)
    t.ok("Remote images are blocked" in r.text and "images=1" in r.text,
         "a mail with remote images: the page says they are blocked")
    r = b.req("GET", "/msg/body?f=INBOX&u=%d" % nuid)
    t.ok("News" in r.text and "remote.example" not in r.text,
         "its document names no remote image", r.text[-300:])
    r = b.req("GET", "/msg/body?f=INBOX&u=%d&images=1" % nuid)
    t.ok('src="https://remote.example/pixel.png"' in r.text,
         "asked for: the document has them", r.text[-300:])

    # an inline cid: image becomes a data: URL (the frame sends no cookie)
    import base64
    png = bytes(range(200)) + b"\x00\xff" * 20
    related = (
        "From: Sender Person <sender@example.org>\r\nTo: %s\r\n"
        "Subject: Logo inside\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/related; boundary=R\r\n\r\n"
        "--R\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        '<p>Our logo</p><img src="cid:logo@x">\r\n'
        "--R\r\nContent-Type: image/png\r\nContent-ID: <logo@x>\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--R--\r\n" %
        (U, base64.encodebytes(png).decode().replace("\n", "\r\n")))
    with smtplib.SMTP("127.0.0.1", srv.port("smtp"), timeout=30) as sm:
        sm.sendmail("sender@example.org", [U], related.encode())
    wait_until(lambda: uid_of(b, "Logo inside") is not None, 15)
    r = b.req("GET", "/msg/body?f=INBOX&u=%d" % uid_of(b, "Logo inside"))
    t.ok('src="data:image/png;base64,%s"' %
         base64.b64encode(png).decode() in r.text,
         "a cid: image is in the document as a data: URL, byte for byte",
         r.text[-400:])

    # ... and always for a sender the user chose (kept in the index)
    m = re.search(r'<meta name="csrf" content="([0-9a-f]{64})">', r.text)
    tok = b.csrf()
    r = b.req("POST", "/act", {"csrf": tok, "f": "INBOX", "op": "trust",
                               "sender": "sender@example.org",
                               "back": "/mail?f=INBOX&u=%d" % nuid})
    t.ok(r.status == 303, "always show this sender's images: done",
         r.status)
    r = b.req("GET", "/mail?u=%d" % nuid)
    t.ok("Remote images are blocked" not in r.text and
         "/msg/body?f=INBOX&amp;u=%d&amp;images=1" % nuid in r.text and
         "Stop showing remote images from sender@example.org" in r.text,
         "then the message shows them at once, with a way to stop")
    r = b.req("POST", "/act", {"csrf": tok, "f": "INBOX", "op": "untrust",
                               "sender": "sender@example.org"})
    r = b.req("GET", "/mail?u=%d" % nuid)
    t.ok("Remote images are blocked" in r.text, "stopped: blocked again")
    r = b.req("POST", "/act", {"csrf": tok, "f": "INBOX", "op": "trust",
                               "sender": "a b@<evil>"})
    t.ok(r.status == 400, "a sender that is no address: 400", r.status)

    # the source, shown as text or downloaded
    r = b.req("GET", "/msg/raw?f=INBOX&u=%d" % uid)
    t.ok(r.status == 200 and r.header("Content-Type").startswith(
        "text/plain") and "Subject: First web message" in r.text and
         "Line one" in r.text, "the source as text", r.status)
    r = b.req("GET", "/msg/raw?f=INBOX&u=%d&dl=1" % uid)
    t.ok(r.status == 200 and r.header("Content-Type") == "message/rfc822"
         and r.header("Content-Disposition") ==
         'attachment; filename="message.eml"' and
         b"Subject: First web message" in r.body, "the source as .eml")

    # ---- CSRF ----
    form = {"op": "read", "f": "INBOX", "uid": str(uid)}
    r = b.req("POST", "/act", form)
    t.ok(r.status == 403, "POST without the CSRF token: 403", r.status)
    r = b.req("POST", "/act", dict(form, csrf="0" * 64))
    t.ok(r.status == 403, "POST with a wrong CSRF token: 403", r.status)
    r = b.req("POST", "/act", dict(form, csrf=csrf),
              origin="https://evil.example")
    t.ok(r.status == 403, "POST from a foreign Origin: 403", r.status)
    r = b.req("GET", "/act?op=read&f=INBOX&uid=%d&csrf=%s" % (uid, csrf))
    t.ok(r.status == 404, "a GET cannot change anything", r.status)
    c = imap()
    c.select("INBOX")
    typ, data = c.uid("FETCH", str(uid), "(FLAGS)")
    t.ok(b"\\Seen" not in data[0], "after the refused requests the "
         "message is still unread (IMAP)", data)

    r = b.req("POST", "/act", dict(form, csrf=csrf), origin="null",
              headers={"Sec-Fetch-Site": "same-origin"})
    t.ok(r.status == 303, "POST with the token, Origin null from our own "
         "page (Sec-Fetch-Site: same-origin): done", (r.status, r.text))
    c.noop()
    typ, data = c.uid("FETCH", str(uid), "(FLAGS)")
    t.ok(b"\\Seen" in data[0], "marked read on the web: IMAP sees \\Seen",
         data)
    # and the other way round
    c.uid("STORE", str(uid), "+FLAGS", "(\\Flagged)")
    r = b.req("GET", "/mail")
    t.ok(re.search(r'data-uid="%d"[^>]*>(?:(?!</li>).)*class="flagged"' %
                   uid, r.text, re.S) is not None,
         "flagged by IMAP: the web's list shows the flag")

    # delete = move to Trash
    r = b.req("POST", "/act", {"op": "delete", "f": "INBOX",
                               "uid": str(uid), "csrf": csrf})
    t.ok(r.status == 303, "delete: done", r.status)
    typ, data = c.select("Trash")
    t.ok(typ == "OK" and int(data[0]) == 1, "IMAP sees the message in "
         "Trash", data)
    c.select("INBOX")
    typ, data = c.uid("SEARCH", "SUBJECT", "\"First web message\"")
    t.ok(data[0] == b"", "and no longer in INBOX", data)
    c.logout()

    # ---- folders: a refusal says why (the store's error class) ----
    def folder(**form):
        form["csrf"] = csrf
        return b.req("POST", "/folder", form)
    r = folder(op="create", name="Errs")
    t.ok(r.status == 303, "create a folder", r.status)
    r = folder(op="create", name="Errs")
    t.ok(r.status == 409 and "exists already" in r.text,
         "create it again: 409, the name exists", (r.status, r.text))
    r = folder(op="create", name="Errs/Inner")
    r = folder(op="delete", f="Errs")
    t.ok(r.status == 409 and "folders inside" in r.text,
         "delete of a folder with folders inside: 409, says so",
         (r.status, r.text))
    r = folder(op="delete", f="Nowhere")
    t.ok(r.status == 404, "delete of no such folder: 404",
         (r.status, r.text))
    r = folder(op="delete", f="INBOX")
    t.ok(r.status == 403, "delete of the INBOX: 403", (r.status, r.text))
    r = folder(op="rename", f="Errs/Inner", name="Errs")
    t.ok(r.status == 303, "rename beside the old name", r.status)
    r = folder(op="rename", f="Errs/Errs", name="Inner")
    r = folder(op="create", name="Errs/Other")
    r = folder(op="rename", f="Errs/Other", name="Inner")
    t.ok(r.status == 409 and "exists already" in r.text,
         "rename onto a folder that exists: 409", (r.status, r.text))
    r = b.req("GET", "/mail?f=Nowhere")
    t.ok(r.status == 404, "the list of no such folder: 404", r.status)
    t.ok(" error: " not in srv.log(), "none of it logged as an error")

    # ---- writing: new, reply, draft; through the queue ----
    r = b.req("GET", "/compose")
    t.ok(r.status == 200 and 'name="to"' in r.text and
         'name="body"' in r.text and csrf in r.text,
         "the compose form, with the CSRF token")
    r = b.req("POST", "/send", {"csrf": csrf, "op": "send", "from": U,
                                "to": "Otto <%s>" % U2,
                                "subject": "Grüße from the web",
                                "body": "Hello Otto,\nline two\n"})
    t.ok(r.status == 303 and r.header("Location") == "/mail?sent=1",
         "send: queued, back to the list", (r.status, r.text[-300:]))

    def otto_has(subject_part):
        c2 = imaplib.IMAP4_SSL("127.0.0.1", srv.port("imaps"),
                               ssl_context=client_tls())
        c2.login(U2, PW2)
        c2.select("INBOX")
        typ, data = c2.uid("SEARCH", "CHARSET", "UTF-8", "SUBJECT",
                           subject_part)
        out = None
        if data[0]:
            typ, msg = c2.uid("FETCH", data[0].split()[-1], "(BODY[])")
            out = msg[0][1].decode("utf-8", "replace")
        c2.logout()
        return out

    got = None
    wait_until(lambda: otto_has('"from the web"') is not None, 20)
    got = otto_has('"from the web"')
    t.ok(got is not None and "Hello Otto," in got,
         "the message reached the other user (IMAP)", got)
    t.ok(got is not None and re.search(r"with HTTPSA \(webmail\)\s+"
                                      r"\(authenticated as %s\)" %
                                      re.escape(U), got) is not None,
         "its Received: says authenticated submission by the webmail")
    t.ok(got is not None and "=?utf-8?" in got.lower() and
         "Grüße" not in got.split("\r\n\r\n")[0],
         "the subject is RFC 2047-encoded in the header")
    m = re.search(r"qid=(\w+) sent from=<%s>" % re.escape(U), srv.log())
    d = m and re.search(r"qid=%s to=<%s> [^\n]* delay=([\d.]+)s "
                        r"status=sent" % (m.group(1), re.escape(U2)),
                        srv.log())
    t.ok(d is not None and float(d.group(1)) < 60, "the queue took it as "
         "just arrived (its envelope has the time)",
         d.group(0) if d else srv.log()[-1500:])
    c = imap()
    typ, data = c.select("Sent")
    t.ok(typ == "OK" and int(data[0]) == 1, "a copy is in Sent", data)
    c.logout()

    r = b.req("GET", "/compose")
    t.ok("<option>sales@example.test</option>" in r.text and
         "<option>%s</option>" % U in r.text and U2 not in r.text,
         "From offers the user and the aliases it may send as, no other")
    r = b.req("POST", "/send", {"csrf": csrf, "op": "send",
                                "from": "sales@example.test", "to": U2,
                                "subject": "From the sales desk",
                                "body": "Offer\n"})
    t.ok(r.status == 303, "sent as an alias of the user", r.status)
    wait_until(lambda: otto_has('"sales desk"') is not None, 20)
    t.ok("From: sales@example.test" in (otto_has('"sales desk"') or ""),
         "it arrives From: the alias")
    # written as HTML: sanitized like mail that comes in, sent with its
    # text as multipart/alternative
    r = b.req("POST", "/send", {
        "csrf": csrf, "op": "send", "from": U, "to": U2,
        "subject": "Rich hello", "body": "Hello bold\n",
        "html": '<div>Hello <b>bold</b></div><script>alert(1)</script>'
                '<img src=x onerror="alert(2)"><a href="javascript:x()">j</a>'
                '<a href="https://example.org/">ok</a>'})
    t.ok(r.status == 303, "rich text sent", r.status)
    wait_until(lambda: otto_has('"Rich hello"') is not None, 20)
    import email.policy as _pol
    em = email.message_from_string(otto_has('"Rich hello"') or "",
                                   policy=_pol.default)
    kinds = [p.get_content_type() for p in em.walk()]
    hp = em.get_body(("html",))
    hv = hp.get_content() if hp is not None else ""
    t.ok(kinds[:3] == ["multipart/alternative", "text/plain", "text/html"],
         "multipart/alternative: the text, then the HTML", kinds)
    t.ok("<b>bold</b>" in hv and "<script" not in hv and "onerror" not in
         hv and "javascript:" not in hv and 'href="https://example.org/"'
         in hv, "the HTML went through the sanitizer", hv)
    t.ok("Hello bold" in em.get_body(("plain",)).get_content(),
         "and the text is there for clients without HTML")

    r = b.req("POST", "/send", {"csrf": csrf, "op": "send",
                                "from": U2, "to": U2, "subject": "x",
                                "body": "forged"})
    t.ok(r.status == 400 and "may not send as" in r.text,
         "sending as another user's address: refused", r.status)
    r = b.req("POST", "/send", {"csrf": csrf, "op": "send", "from": U,
                                "to": "nobody-here@example.test",
                                "subject": "x", "body": "y"})
    t.ok(r.status == 400 and "No such recipient" in r.text,
         "an unknown local recipient: said, nothing queued", r.status)
    r = b.req("POST", "/send", {"csrf": csrf, "op": "send", "from": U,
                                "to": "not an address", "subject": "x",
                                "body": "y"})
    t.ok(r.status == 400, "a recipient that is no address: refused",
         r.status)

    # a reply: To, Re:, the quote; In-Reply-To from the original
    send("Question for Wendy", "Can you come?\n")
    wait_until(lambda: uid_of(b, "Question for Wendy") is not None, 15)
    quid = uid_of(b, "Question for Wendy")
    r = b.req("GET", "/compose?mode=reply&f=INBOX&u=%d" % quid)
    t.ok('value="Sender Person &lt;sender@example.org&gt;"' in r.text and
         'value="Re: Question for Wendy"' in r.text and
         "&gt; Can you come?" in r.text,
         "reply: the sender, Re: and the quoted text", r.text[-800:])
    r = b.req("POST", "/send", {"csrf": csrf, "op": "send", "from": U,
                                "to": U2, "subject": "Re: Question for "
                                "Wendy", "body": "Yes.\n", "mode":
                                "reply", "ref_f": "INBOX",
                                "ref_u": str(quid)})
    t.ok(r.status == 303, "reply sent", r.status)
    wait_until(lambda: otto_has('"Re: Question"') is not None, 20)
    got = otto_has('"Re: Question"') or ""
    orig_id = "<%d@example.org>" % abs(hash("Question for Wendy"))
    t.ok(("In-Reply-To: " + orig_id) in got and
         re.search(r"References: [^\r\n]*" + re.escape(orig_id), got)
         is not None, "the reply has In-Reply-To and References: the "
         "original's Message-ID (read from it, not from the form)",
         got[:700])
    c = imap()
    c.select("INBOX")
    typ, data = c.uid("FETCH", str(quid), "(FLAGS)")
    t.ok(b"\\Answered" in data[0], "the original is \\Answered", data)

    # attachments: a form with files (multipart/form-data)
    def multipart(fields, files):
        bnd = "----maildtest%d" % int(time.time() * 1000)
        out = b""
        for k, v in fields.items():
            out += (b"--%s\r\nContent-Disposition: form-data; "
                    b"name=\"%s\"\r\n\r\n%s\r\n" %
                    (bnd.encode(), k.encode(), v.encode()))
        for name, ctype, data in files:
            out += (b"--%s\r\nContent-Disposition: form-data; "
                    b"name=\"attach\"; filename=\"%s\"\r\n"
                    b"Content-Type: %s\r\n\r\n" %
                    (bnd.encode(), name.encode(), ctype.encode()))
            out += data + b"\r\n"
        out += b"--%s--\r\n" % bnd.encode()
        return out, "multipart/form-data; boundary=" + bnd

    pdf = bytes(range(256)) * 40          # binary, 10 KB
    body, ctype = multipart(
        {"csrf": csrf, "op": "send", "from": U, "to": U2, "cc": "",
         "subject": "Files for Otto", "body": "Two files.\n"},
        [("report.pdf", "application/pdf", pdf),
         ("notesé.txt", "text/plain", "ça va\n".encode())])
    r = b.req("POST", "/send", body=body, headers={"Content-Type": ctype})
    t.ok(r.status == 403, "a form with files without the token in its "
         "URL: 403 (the front does not parse it)", r.status)
    r = b.req("POST", "/send?csrf=" + csrf, body=body,
              headers={"Content-Type": ctype})
    t.ok(r.status == 303, "send with two files: queued", (r.status,
                                                          r.text[-300:]))
    wait_until(lambda: otto_has('"Files for Otto"') is not None, 20)
    import email
    import email.policy
    got = otto_has('"Files for Otto"') or ""
    em = email.message_from_string(got, policy=email.policy.default)
    parts = {p.get_filename(): p.get_payload(decode=True)
             for p in em.iter_attachments()}
    t.ok(parts.get("report.pdf") == pdf, "the binary file arrives byte "
         "for byte (base64)", list(parts))
    t.ok(parts.get("notesé.txt", b"").replace(b"\r\n", b"\n") ==
         "ça va\n".encode(), "the file with a non-ASCII name arrives by "
         "its name", parts.get("notesé.txt"))
    t.ok("Two files." in em.get_body(("plain",)).get_content(),
         "and the text")
    r = b.req("POST", "/act?csrf=" + csrf, body=body,
              headers={"Content-Type": ctype})
    t.ok(r.status == 400, "files are taken only by /send", r.status)
    r = b.req("POST", "/act?upload=text/plain", {"csrf": csrf, "op": "read",
                                                 "f": "INBOX"})
    t.ok(r.status == 400, "a parameter 'upload' of the client's: 400",
         r.status)

    # forwarding as an attachment: the original, whole, message/rfc822
    fuid = uid_of(b, "Question for Wendy")
    r = b.req("GET", "/compose?mode=forward&f=INBOX&u=%d" % fuid)
    t.ok('name="fwd_as"' in r.text, "the forward form offers to attach "
         "the original")
    body, ctype = multipart(
        {"csrf": csrf, "op": "send", "from": U, "to": U2,
         "subject": "Fwd: Question for Wendy", "body": "See attached.\n",
         "mode": "forward", "ref_f": "INBOX", "ref_u": str(fuid),
         "fwd_as": "attachment"}, [])
    r = b.req("POST", "/send?csrf=" + csrf, body=body,
              headers={"Content-Type": ctype})
    wait_until(lambda: otto_has('"Fwd: Question"') is not None, 20)
    em = email.message_from_string(otto_has('"Fwd: Question"') or "",
                                   policy=email.policy.default)
    inner = [p for p in em.walk() if p.get_content_type() ==
             "message/rfc822"]
    t.ok(r.status == 303 and len(inner) == 1 and
         inner[0].get_payload()[0]["Subject"] == "Question for Wendy",
         "forwarded as message/rfc822 with the original inside",
         [p.get_content_type() for p in em.walk()])

    # search: sender, subject, text, as IMAP's SEARCH matches them
    def found(q, scope=""):
        r = b.req("GET", "/mail?f=INBOX%s&q=%s" % (scope,
                  urllib.parse.quote(q)))
        return re.findall(r'<span class="subject"><a [^>]*>([^<]*)</a>',
                          r.text)
    hits = found("QUESTION for")
    t.ok("Question for Wendy" in hits and not any("tagged" in h or
                                                  "Newsletter" in h
                                                  for h in hits),
         "search: a subject, any case (and no message without it)", hits)
    t.ok(found("can you COME") == ["Question for Wendy"],
         "search: words of the text (not in the index: read)",
         found("can you COME"))
    t.ok(len(found("sender person")) >= 2 and "Question for Wendy" in
         found("sender@example.org"), "search: the sender's name and "
         "address")
    # sender and subject only (from the index): not the text
    head = "&in=head"
    t.ok(found("can you COME", head) == [] and
         found("QUESTION for", head) == found("QUESTION for") and
         sorted(found("sender person", head)) ==
         sorted(found("sender person")) and
         "Question for Wendy" in found("SENDER@example.ORG", head),
         "search of sender and subject: the same hits, but not the text",
         [found("can you COME", head), found("QUESTION for", head)])
    # i;unicode-casemap (RFC 5051), as IMAP's SEARCH: Ü is U and a mark
    # in any case, ß has no titlecase (ss is not ß)
    r = b.req("GET", "/mail?f=Sent&in=head&q=" + urllib.parse.quote(
              "GRU\u0308\u00dfE FROM"))
    r2 = b.req("GET", "/mail?f=Sent&in=head&q=" + urllib.parse.quote(
               "GRÜSSE FROM"))
    t.ok("Grüße from the web" in r.text and
         "Grüße from the web" not in r2.text, "sender and subject: "
         "i;unicode-casemap (GRU+U+0308ßE finds Grüße, GRÜSSE does not)",
         r.text.split('<ul class="messages">')[-1][:300])
    r = b.req("GET", "/mail?f=Sent&q=" + urllib.parse.quote("grüße FROM"))
    t.ok("Grüße from the web" in r.text, "the full search: the same "
         "comparator", r.text.split('<ul class="messages">')[-1][:300])
    r = b.req("GET", "/mail?f=INBOX&in=head&q=" + urllib.parse.quote(
              "QUESTION for"))
    t.ok('<option value="head" selected>' in r.text and
         re.search(r'href="/mail\?[^"]*in=head', r.text),
         "the scope stays chosen, and in the page's links")
    # every folder: the hit in Trash found from INBOX, opening in Trash
    r = b.req("GET", "/mail?f=INBOX&all=1&q=" +
              urllib.parse.quote("first web"))
    t.ok(re.search(r'data-href="/mail\?f=Trash&amp;u=\d+"', r.text) and
         '<span class="where">Trash</span>' in r.text and
         "First web message" in r.text and
         'name="uid" value=' not in r.text.split('<ul class="messages">')[1],
         "search of all folders: a hit in Trash, named and opened there, "
         "no checkbox", r.text.split('<ul class="messages">')[1][:600])
    t.ok("First web message" not in "".join(found("first web")),
         "the same words in INBOX alone: not there (it is in Trash)")
    r = b.req("GET", "/mail?f=INBOX&q=zzqqxx")
    t.ok("Nothing found" in r.text, "search: nothing found, said")

    # the conversation view: a reply under what it answers
    def raw_send(subject, extra):
        msg = ("From: Pat <pat@example.org>\r\nTo: %s\r\nSubject: %s\r\n"
               "%s\r\nhello\r\n" % (U, subject, extra))
        with smtplib.SMTP("127.0.0.1", srv.port("smtp"), timeout=30) as sm:
            sm.sendmail("pat@example.org", [U], msg.encode())
    raw_send("Thread start", "Message-ID: <start@example.org>\r\n"
             "Date: Mon, 30 Nov 2026 10:00:00 +0000\r\n")
    raw_send("Something else", "Message-ID: <other@example.org>\r\n"
             "Date: Tue, 01 Dec 2026 10:00:00 +0000\r\n")
    raw_send("Re: Thread start", "Message-ID: <reply@example.org>\r\n"
             "In-Reply-To: <start@example.org>\r\n"
             "References: <start@example.org>\r\n"
             "Date: Wed, 02 Dec 2026 10:00:00 +0000\r\n")
    wait_until(lambda: uid_of(b, "Re: Thread start") is not None, 15)

    def conversations():
        """The conversation view: its page, [(class, subject)], the
        subjects."""
        r = b.req("GET", "/mail?f=INBOX&t=1")
        rows = re.findall(r'<li data-uid="\d+" class="([^"]*)"[^>]*>'
                          r'(?:(?!</li>).)*?<span class="subject">'
                          r'<a [^>]*>([^<]*)</a>', r.text, re.S)
        return r, rows, [subj for _, subj in rows]

    r, rows, names = conversations()
    i = names.index("Thread start") if "Thread start" in names else -1
    t.ok(i >= 0 and i + 1 < len(names) and
         names[i + 1] == "Re: Thread start" and
         "thread-child" in rows[i + 1][0] and
         "thread-child" not in rows[i][0],
         "conversations: the reply right under what it answers, indented",
         names)
    t.ok(i >= 0 and names.index("Something else") > i,
         "conversations: the thread with the newest message first",
         names)
    t.ok('href="/mail?f=INBOX"' in r.text and ">List</a>" in r.text,
         "conversations: a link back to the plain list")
    # RFC 5256 step 5: a reply whose client sent no In-Reply-To or
    # References joins its thread by the base subject
    raw_send("Weekly report", "Message-ID: <wr1@example.org>\r\n"
             "Date: Thu, 03 Dec 2026 10:00:00 +0000\r\n")
    raw_send("RE: [list] Weekly report", "Message-ID: <wr2@example.org>\r\n"
             "Date: Fri, 04 Dec 2026 10:00:00 +0000\r\n")
    wait_until(lambda: uid_of(b, "RE: [list] Weekly report") is not None, 15)
    r, rows, names = conversations()
    i = names.index("Weekly report") if "Weekly report" in names else -1
    t.ok(i >= 0 and i + 1 < len(names) and
         names[i + 1] == "RE: [list] Weekly report" and
         "thread-child" in rows[i + 1][0] and
         names.index("Weekly report") < names.index("Thread start"),
         "conversations: a reply without references joins its thread by "
         "subject (RFC 5256 step 5); that conversation, newer, comes "
         "first", names)

    # paging: 50 rows a page, Newer/Older links; a message opened on
    # page 2 keeps the reader's links on page 2
    with smtplib.SMTP("127.0.0.1", srv.port("smtp"), timeout=30) as sm:
        for n in range(55):
            sm.sendmail("pat@example.org", [U], (
                "From: Pat <pat@example.org>\r\nTo: %s\r\nSubject: Filler "
                "%02d\r\nDate: Mon, 02 Nov 2026 10:%02d:00 +0000\r\n\r\n"
                "x\r\n" % (U, n, n)).encode())
    wait_until(lambda: uid_of(b, "Filler 54") is not None, 15)

    def page_rows(r):
        return re.findall(r'<li data-uid="(\d+)"', r.text)

    r1 = b.req("GET", "/mail?f=INBOX")
    r2 = b.req("GET", "/mail?f=INBOX&p=2")
    rows2 = page_rows(r2)
    t.ok(len(page_rows(r1)) == 50 and 'rel="next" href="/mail?f=INBOX&amp;'
         'p=2"' in r1.text and 'rel="prev"' not in r1.text,
         "paging: page 1 holds 50 rows and links to page 2",
         (len(page_rows(r1)), re.findall(r'rel="\w+" href="[^"]*"', r1.text)))
    t.ok(rows2 and not set(rows2) & set(page_rows(r1)) and
         'rel="prev" href="/mail?f=INBOX&amp;p=1"' in r2.text,
         "paging: page 2 holds the rest, and links back to page 1",
         re.findall(r'rel="\w+" href="[^"]*"', r2.text))
    # a whole page selected (the list's "select all"): one action on all
    rows1 = page_rows(r1)
    r = b.req("POST", "/act", {"csrf": csrf, "f": "INBOX", "op": "flag",
                               "uid": rows1})
    typ, data = c.select("INBOX")
    typ, data = c.uid("SEARCH", "FLAGGED")
    t.ok(r.status == 303 and set(data[0].decode().split()) == set(rows1),
         "a page's 50 rows selected and flagged at once: IMAP sees the 50",
         (r.status, len(data[0].split())))
    r = b.req("POST", "/act", {"csrf": csrf, "f": "INBOX", "op": "unflag",
                               "uid": rows1})
    typ, data = c.uid("SEARCH", "FLAGGED")
    t.ok(r.status == 303 and data[0] == b"", "and unflagged at once",
         (r.status, data))
    r = b.req("GET", "/mail?f=INBOX&p=2&u=%s" % rows2[0]) if rows2 else r2
    close = re.search(r'class="button close-msg" href="([^"]*)"', r.text)
    t.ok(close and "p=2" in close.group(1),
         "a message opened on page 2: its reader's links stay on page 2",
         close.group(1) if close else r.text[-400:])

    # a draft: saved in Drafts as \Draft, reopened for editing
    r = b.req("POST", "/send", {"csrf": csrf, "op": "draft", "from": U,
                                "to": U2, "subject": "Unfinished thoughts",
                                "body": "To be continued\n"})
    t.ok(r.status == 303, "draft saved", r.status)
    typ, data = c.select("Drafts")
    typ, flags = c.uid("FETCH", "1:*", "(FLAGS)")
    t.ok(int(data[0]) == 1 and b"\\Draft" in flags[0],
         "IMAP sees it in Drafts, \\Draft", (data, flags))
    duid = re.search(rb"UID (\d+)", flags[0]).group(1).decode()
    r = b.req("GET", "/compose?mode=draft&f=Drafts&u=%s" % duid)
    t.ok('value="Unfinished thoughts"' in r.text and "To be continued" in
         r.text and 'name="draft_u" value="%s"' % duid in r.text,
         "the draft reopens in the form")
    r = b.req("POST", "/send", {"csrf": csrf, "op": "send", "from": U,
                                "to": U2, "subject": "Finished thoughts",
                                "body": "Done\n", "draft_u": duid})
    c.noop()
    typ, data = c.select("Drafts")
    t.ok(r.status == 303 and int(data[0]) == 0,
         "sent: the draft left Drafts", (r.status, data))
    c.logout()

    # a draft with a file: reopened, the file is offered and kept
    body, ctype = multipart(
        {"csrf": csrf, "op": "draft", "from": U, "to": U2,
         "subject": "Draft with a file", "body": "See the file\n"},
        [("plan.txt", "text/plain", b"the plan\n")])
    r = b.req("POST", "/send?csrf=" + csrf, body=body,
              headers={"Content-Type": ctype})
    c = imap()
    c.select("Drafts")
    typ, data = c.uid("SEARCH", "SUBJECT", "\"Draft with a file\"")
    duid = data[0].split()[-1].decode() if data[0] else "0"
    c.logout()
    r = b.req("GET", "/compose?mode=draft&f=Drafts&u=" + duid)
    m = re.search(r'name="keep" checked value="([^"]+)"> <span class="clip" '
                  r'aria-hidden="true"></span> plan.txt',
                  r.text)
    t.ok(m is not None, "the reopened draft offers its file, kept",
         r.text[-900:])
    r = b.req("POST", "/send", {"csrf": csrf, "op": "send", "from": U,
                                "to": U2, "subject": "Sent with the plan",
                                "body": "Here\n", "draft_u": duid,
                                "keep": m.group(1) if m else "x"})
    wait_until(lambda: otto_has('"with the plan"') is not None, 20)
    em = email.message_from_string(otto_has('"with the plan"') or "",
                                   policy=email.policy.default)
    got_files = {p.get_filename(): p.get_payload(decode=True)
                 for p in em.iter_attachments()}
    t.ok(got_files.get("plan.txt", b"").replace(b"\r\n", b"\n") ==
         b"the plan\n", "sent from the draft, the file went with it",
         list(got_files))

    # ---- ids never become paths ----
    for path in ("/mail?f=../../../etc", "/mail?f=INBOX/../..",
                 "/msg/raw?f=INBOX&u=../../users.db",
                 "/msg/part?f=.%2F..&u=1&part=1",
                 "/static/../webmail.c", "/static/%2e%2e/x",
                 "/mail/../../etc/passwd"):
        r = b.req("GET", path)
        t.ok(r.status in (400, 404) and "root:" not in r.text and
             "SQLite" not in r.text, "GET %s: refused (%d)" %
             (path, r.status))

    # ---- limits ----
    # announced too large: refused before it is sent (as a browser that
    # waits for the answer to its head sees it)
    b.c.putrequest("POST", "/act")
    b.c.putheader("Cookie", "__Host-maild=" + sid)
    b.c.putheader("Origin", ORIGIN)
    b.c.putheader("Content-Type", "application/x-www-form-urlencoded")
    b.c.putheader("Content-Length", str(512 * 1024))
    b.c.endheaders()
    r = Resp(b.c.getresponse())
    t.ok(r.status == 413, "a body over webmail.max_body: 413", r.status)
    b = Browser()
    b.cookie = sid

    # ---- the list page kept (webmail/pagecache.c): every change shows
    # at once, whoever made it ----
    def warm():
        """The list made twice, well after the last change, so that the
        second is the page kept (the cache trusts a directory's mtime
        only 0.1 s after it)."""
        time.sleep(0.3)
        first = b.req("GET", "/mail").text
        time.sleep(0.3)
        return first, b.req("GET", "/mail").text

    def row_of(text, subject):
        m = re.search(r'<li data-uid="\d+" class="([^"]*)"(?:(?!</li>).)*?'
                      r'%s(?:(?!</li>).)*</li>' % re.escape(subject), text,
                      re.S)
        return m and m.group(0)

    def count_of(text, folder):
        m = re.search(r'data-folder="%s"(?:(?!</li>).)*?class="count">'
                      r'(\d*)<' % re.escape(folder), text, re.S)
        return m and m.group(1)

    send("Cache probe message")
    wait_until(lambda: "Cache probe message" in b.req("GET", "/mail").text,
               15)
    a, k = warm()
    t.ok(a == k and row_of(k, "Cache probe message") is not None,
         "the list asked twice: the same page")
    cuid = uid_of(b, "Cache probe message")
    c = imap()
    c.select("INBOX")
    a, k = warm()
    c.uid("STORE", str(cuid), "+FLAGS", "(\\Flagged)")
    r = b.req("GET", "/mail")
    t.ok('class="flagged"' in (row_of(r.text, "Cache probe message") or "")
         and 'class="flagged"' not in row_of(k, "Cache probe message"),
         "after the page was kept, a flag set by IMAP shows at once")
    a, k = warm()
    c.uid("STORE", str(cuid), "-FLAGS", "(\\Flagged)")
    r = b.req("GET", "/mail")
    t.ok('class="flagged"' not in (row_of(r.text, "Cache probe message")
                                   or "x class=\"flagged\""),
         "and one taken away by IMAP too")
    # no IMAP session open now: one would sync the change into the
    # index itself, and the page's stamp must see the files alone
    c.logout()
    a, k = warm()
    send("Cache probe delivered")
    wait_until(lambda: any(b"Cache probe delivered" in data
                           for _, data in srv.messages(U)), 15)
    r = b.req("GET", "/mail")
    t.ok(row_of(r.text, "Cache probe delivered") is not None and
         row_of(k, "Cache probe delivered") is None,
         "after the page was kept, a delivery shows at once")
    # a Maildir client marks it read by renaming its file in cur/
    a, k = warm()
    t.ok("unread" in row_of(k, "Cache probe message"),
         "the probe is unread in the page kept")
    cur = os.path.join(srv.maildir(U), "cur")
    for n in os.listdir(cur):
        with open(os.path.join(cur, n), "rb") as f:
            if b"Cache probe message" in f.read():
                base, _, fl = n.partition(":2,")
                os.rename(os.path.join(cur, n), os.path.join(
                    cur, base + ":2," + "".join(sorted(fl + "S"))))
    r = b.req("GET", "/mail")
    t.ok("unread" not in (row_of(r.text, "Cache probe message") or
                          "unread"),
         "a flag a Maildir client set in a file's name shows at once")
    # another folder's unread count, and a new folder, in the pane
    c = imap()
    a, k = warm()
    before = count_of(k, "Junk")
    c.append("Junk", None, None, b"Subject: junk probe\r\n\r\nx\r\n")
    r = b.req("GET", "/mail")
    t.ok(before == "" and count_of(r.text, "Junk") == "1",
         "an IMAP APPEND to another folder: its unread count at once",
         (before, count_of(r.text, "Junk")))
    a, k = warm()
    c.create("CacheProbe")
    r = b.req("GET", "/mail")
    t.ok('data-folder="CacheProbe"' in r.text and
         'data-folder="CacheProbe"' not in k,
         "a folder IMAP created shows at once")
    c.delete("CacheProbe")
    c.logout()

    # ---- another user's session cannot reach this one's mail ----
    b2 = Browser()
    b2.login(U2, PW2)
    r = b2.req("GET", "/mail")
    t.ok(r.status == 200 and "Second &lt;b&gt;tagged" not in r.text and
         "otto@example.test" in r.text, "another user sees only their "
         "own mailbox")

    # ---- logout ends the session on the server ----
    csrf = b.csrf()
    r = b.req("POST", "/logout", {"csrf": csrf})
    t.ok(r.status == 303 and r.header("Location") == "/login",
         "logout: back to the login page", r.status)
    b.cookie = sid
    r = b.req("GET", "/mail")
    t.ok(r.status == 303 and r.header("Location") == "/login",
         "the old cookie no longer opens the mailbox", r.status)
finally:
    srv.cleanup()
t.done()
