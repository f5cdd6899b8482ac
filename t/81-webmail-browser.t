#!/usr/bin/python3
# The webmail in a real browser (Debian's chromium through playwright-core,
# t/browser/webmail.js): log in, the list, a hostile HTML mail opened (no
# script runs, nothing remote is fetched), marked read, deleted with the
# keyboard, a message delivered by SMTP appearing live, a drag to a
# folder, write, reply, forward (through the queue, back into the list),
# search, the phone layout, log out.  Then IMAP sees what the browser did.
# Screenshots: t/artefacts/81-webmail-browser.t/webmail.js/.
import imaplib
import os
import smtplib
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import TAP, Server, client_tls, wait_until  # noqa: E402
import browser  # noqa: E402

browser.skip_all_unless_available()
U, PW = "bea@example.test", "bea-pw-1"
t = TAP()
srv = Server(services=("smtp", "imaps", "webmail"),
             overrides=["auth.failure_delay_max=1s"])
srv.setup(users=[(U, PW)])
srv.start()

HOSTILE = "Your invoice (hostile HTML)"
PLAIN = "Lunch on Friday?"
hostile_html = """<html><head><script>window.__pwned=1</script>
<base href="https://remote.example/"><meta http-equiv="refresh"
content="0;url=https://remote.example/"></head>
<body onload="window.__pwned=2"><p>Dear customer,</p>
<img src="https://remote.example/track.png" width="1" height="1">
<img src=x onerror="window.__pwned=3">
<a href="javascript:window.__pwned=4">pay here</a>
<a href="jav&#x09;ascript:alert(1)">or here</a>
<svg onload="window.__pwned=5"><circle r="4"/></svg>
<iframe src="https://remote.example/frame"></iframe>
<form action="https://remote.example/steal"><input name=p></form>
<div style="background:url(https://remote.example/bg.png)">styled</div>
<a href="https://example.org/ok">a fine link</a></body></html>"""


def deliver(subject, body, ctype):
    msg = ("From: Shop <shop@example.org>\r\nTo: %s\r\nSubject: %s\r\n"
           "MIME-Version: 1.0\r\nContent-Type: %s; charset=utf-8\r\n\r\n%s"
           % (U, subject, ctype, body))
    with smtplib.SMTP("127.0.0.1", srv.port("smtp"), timeout=30) as s:
        s.sendmail("shop@example.org", [U], msg.encode())


try:
    deliver(PLAIN, "Noon at the usual place?\n", "text/plain")
    deliver(HOSTILE, hostile_html, "text/html")
    srv.wait_messages(U, 2, 15)
    url = "https://127.0.0.1:%d" % srv.port("webmail")
    r = browser.run(t, "webmail.js", {
        "url": url, "user": U, "password": PW,
        "smtp_port": srv.port("smtp"),
        "hostile_subject": HOSTILE, "plain_subject": PLAIN,
    }, timeout=150)
    for e in r.events:
        if e.get("t") == "data" and "login_to_rows_ms" in e.get("data", {}):
            t.diag("login click to rows visible: %d ms" %
                   e["data"]["login_to_rows_ms"])

    c = imaplib.IMAP4_SSL("127.0.0.1", srv.port("imaps"),
                          ssl_context=client_tls())
    c.login(U, PW)
    c.select("INBOX")
    typ, data = c.uid("SEARCH", "SUBJECT", "\"hostile HTML\"")
    uids = data[0].split()
    t.ok(len(uids) == 1, "IMAP: the hostile message is back in INBOX "
         "(dragged out of the Trash)", data)
    if uids:
        typ, data = c.uid("FETCH", uids[0], "(FLAGS)")
        t.ok(b"\\Seen" in data[0], "IMAP: it is \\Seen (opened in the "
             "browser)", data)
    typ, data = c.uid("SEARCH", "SUBJECT", "\"Arrived while you looked\"")
    t.ok(len(data[0].split()) == 1, "IMAP: the live message is there")
    typ, data = c.uid("SEARCH", "SUBJECT", "\"Written in the browser\"")
    first = data[0].split()[0] if data[0] else b"0"
    typ, data = c.uid("FETCH", first, "(BODY.PEEK[])")
    raw = data[0][1] if data and isinstance(data[0], tuple) else b""
    t.ok(b"multipart/alternative" in raw and b"<b>Bold words</b>" in raw
         and b"Typed in %s. Bold words" % browser.KIND.encode() in raw,
         "IMAP: written with the editor, it came as HTML and as text",
         raw[-800:])
    c.select("Sent")
    typ, data = c.uid("SEARCH", "ALL")
    t.ok(len(data[0].split()) == 3, "IMAP: Sent holds the three sent",
         data)
    c.select("INBOX")
    typ, data = c.uid("SEARCH", "ANSWERED")
    t.ok(len(data[0].split()) == 1, "IMAP: the message replied to is "
         "\\Answered", data)
    c.select("Trash")
    typ, data = c.uid("SEARCH", "ALL")
    t.ok(data[0] == b"", "IMAP: the Trash is empty again", data)
    c.logout()
    t.ok(not any(b"Delayed Mail" in data for _, data in srv.messages(U)),
        "no delay notice came back for mail sent from the web")
    t.ok("sandbox: system call" not in srv.log(),
         "no process of the webmail was killed by its sandbox")
finally:
    srv.cleanup()
t.done()
