#!/usr/bin/python3
# A real sync client against imapd: mbsync (isync) over implicit TLS on
# 127.0.0.1, syncing the user's folders with a local Maildir both ways:
# far (the server) -> near (the local Maildir), near -> far, flag changes
# either side, expunges, new folders, and a run that finds nothing to do.
import imaplib
import os
import re
import smtplib
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from maildtest import TAP, Server, client_tls, test_ca  # noqa: E402

t = TAP()
HOST = "127.0.0.1"
U, PW = "pat@example.test", "pat-secret"
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data",
                    "imap")
srv = Server(services=("smtp", "imaps"),
             overrides=["auth.failure_delay_max=1s"])
srv.setup(users=[(U, PW)])
P993 = srv.port("imaps")
work = os.path.join(srv.tmp, "mbsync")
near = os.path.join(work, "near")
os.makedirs(near)


def crlf(b):
    return re.sub(rb"(?<!\r)\n", b"\r\n", b)


def untuid(b):
    """mbsync adds an X-TUID: header to every message it copies (its
    way of finding the copy again); compare without it, CRLF line ends."""
    return re.sub(rb"(?m)^X-TUID: [^\r\n]*\r?\n", b"", crlf(b), count=1)


def deliver(subject, body="hello\r\n"):
    with smtplib.SMTP(HOST, srv.port("smtp"), timeout=10) as c:
        c.sendmail("sender@remote.test", [U],
                   ("From: Sender <sender@remote.test>\r\nTo: %s\r\n"
                    "Subject: %s\r\nMessage-ID: <%s.%f@remote.test>\r\n\r\n"
                    "%s" % (U, subject, re.sub(r"\W", "", subject),
                            time.time(), body)).encode())


def imap():
    m = imaplib.IMAP4_SSL(HOST, P993, ssl_context=client_tls(), timeout=20)
    m.login(U, PW)
    return m


def far_messages(m, box):
    """{Subject: (flags, message)} of a server folder, or None."""
    typ, _ = m.select('"%s"' % box)
    if typ != "OK":
        return None
    flags, bodies = {}, {}
    typ, data = m.uid("FETCH", "1:*", "(FLAGS)")
    for d in data:
        line = d[0] if isinstance(d, tuple) else d
        mu = re.search(rb"UID (\d+)", line or b"")
        mf = re.search(rb"FLAGS \(([^)]*)\)", line or b"")
        if mu and mf:
            flags[int(mu.group(1))] = sorted(
                x for x in mf.group(1).decode().split() if x != "\\Recent")
    typ, data = m.uid("FETCH", "1:*", "(BODY.PEEK[])")
    for d in data:
        if isinstance(d, tuple):
            mu = re.search(rb"UID (\d+)", d[0])
            if mu:
                bodies[int(mu.group(1))] = d[1]
    out = {}
    for uid, body in bodies.items():
        subj = re.search(rb"^Subject: (.*?)\r?$", body, re.M | re.I)
        out[subj.group(1).decode() if subj else "?"] = (flags.get(uid, []),
                                                        body)
    return out


def near_messages(box):
    """{Subject: (maildir info flags, message)} of a local folder."""
    out = {}
    d = os.path.join(near, box)
    for sub in ("new", "cur"):
        p = os.path.join(d, sub)
        if not os.path.isdir(p):
            continue
        for n in os.listdir(p):
            with open(os.path.join(p, n), "rb") as f:
                data = f.read()
            subj = re.search(rb"^Subject: (.*?)\r?$", data, re.M | re.I)
            info = n.split(":2,")[1] if ":2," in n else ""
            out[subj.group(1).decode() if subj else "?"] = (info, data)
    return out


def near_file(box, subject):
    d = os.path.join(near, box)
    for sub in ("new", "cur"):
        for n in os.listdir(os.path.join(d, sub)):
            with open(os.path.join(d, sub, n), "rb") as f:
                if re.search(rb"^Subject: " + re.escape(subject.encode()) +
                             rb"\r?$", f.read(), re.M):
                    return os.path.join(d, sub, n)
    return None


# isync 1.4 checks a certificate's host name against DNS subjectAltNames
# only (not IP ones), so for a connection to 127.0.0.1 the server's own
# certificate goes into CertificateFile next to the test CA: isync trusts
# a certificate listed there directly.  Everything stays on loopback.
trust = os.path.join(work, "trust.pem")
with open(trust, "wb") as f:
    for p in (test_ca()["ca"], test_ca()["cert"]):
        with open(p, "rb") as g:
            f.write(g.read())
rc = os.path.join(work, "mbsyncrc")


def write_rc(auth):
    with open(rc, "w") as f:
        f.write("""IMAPAccount far
Host 127.0.0.1
Port %d
User %s
Pass %s
AuthMechs %s
SSLType IMAPS
CertificateFile %s
SystemCertificates no
Timeout 30

IMAPStore far
Account far

MaildirStore near
Path %s/
Inbox %s/INBOX
SubFolders Verbatim

Channel sync
Far :far:
Near :near:
Patterns *
Create Both
Remove Both
Expunge Both
Sync All
CopyArrivalDate yes
SyncState *
""" % (P993, U, PW, auth, trust, near, near))
    os.chmod(rc, 0o600)


def mbsync(label):
    p = subprocess.run(["mbsync", "-c", rc, "-V", "sync"],
                       capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, HOME=work))
    out = p.stdout + p.stderr
    ok = p.returncode == 0 and "Error" not in out
    t.ok(ok, "mbsync %s: exit 0, no errors" % label, out[-3000:])
    return out


try:
    srv.start()     # inside try: a server that fails to start is stopped
    # --- the server side to start with ---
    deliver("one")
    deliver("two")
    deliver("three")
    srv.wait_messages(U, 3)
    m = imap()
    m.create('"Lists/dev"')
    nested = crlf(open(os.path.join(DATA, "nested-multipart.eml"),
                       "rb").read())
    eight = crlf(open(os.path.join(DATA, "8bit-header.eml"), "rb").read())
    m.append('"Lists/dev"', "(\\Flagged)", None, nested)
    m.append('"Lists/dev"', "()", None, eight)
    m.select("INBOX")
    typ, data = m.search(None, 'SUBJECT "two"')
    m.store(data[0].decode(), "+FLAGS", "(\\Seen)")
    m.logout()

    # --- far -> near ---
    write_rc("PLAIN")
    mbsync("first run (AUTHENTICATE PLAIN)")
    inbox = near_messages("INBOX")
    t.eq(sorted(inbox), ["one", "three", "two"], "INBOX: 3 messages "
         "fetched")
    dev = near_messages("Lists/dev")
    t.eq(len(dev), 2, "Lists/dev: the folder and its 2 messages fetched")
    t.ok(dev and any(untuid(d) == nested for _, d in dev.values()),
         "the nested MIME message arrived byte for byte (line ends aside)")
    # mbsync does not ENABLE UTF8=ACCEPT: it is given the surrogate
    # (RFC 6855 §7; t/88-imap-utf8-surrogate.t), a 7-bit header over the
    # body as stored.
    ebody = eight[eight.index(b"\r\n\r\n"):]
    got8 = [untuid(d) for _, d in dev.values() if untuid(d) != nested]
    t.ok(len(got8) == 1 and got8[0].endswith(ebody) and
         all(c < 0x80 for c in got8[0][:-len(ebody)]) and
         b"Subject: =?UTF-8?B?" in got8[0],
         "the 8-bit header message too, as its surrogate (7-bit header, "
         "body byte for byte)", got8)
    t.ok("S" in inbox.get("two", ("", b""))[0] and
         "S" not in inbox.get("one", ("", b""))[0],
         "\\Seen on the server -> S on the near side",
         {k: v[0] for k, v in inbox.items()})
    t.ok(any("F" in info for info, _ in dev.values()),
         "\\Flagged -> F", {k: v[0] for k, v in dev.items()})
    for box in ("Sent", "Drafts", "Trash", "Junk", "Archive"):
        t.ok(os.path.isdir(os.path.join(near, box, "cur")),
             "folder %s created on the near side" % box)

    # --- near -> far: a new message, a new folder, a flag change ---
    def put(box, name, data, info=""):
        d = os.path.join(near, box)
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        path = os.path.join(d, "cur" if info else "new", name +
                            (":2," + info if info else ""))
        with open(path, "wb") as f:
            f.write(data)
    put("INBOX", "%d.local1.host" % time.time(),
        b"From: me@example.test\nSubject: written locally\n\nlocal body\n")
    put("Local/Notes", "%d.local2.host" % time.time(),
        b"From: me@example.test\nSubject: a note\n\nnote body\n", "FS")
    f = near_file("INBOX", "one")
    base, info = (f.split(":2,") + [""])[:2]
    os.rename(f, base + ":2," + "".join(sorted(set(info + "RS"))))
    mbsync("second run (near -> far)")
    m = imap()
    far = far_messages(m, "INBOX")
    t.ok(far is not None and "written locally" in far,
         "a message written into the near Maildir is on the server",
         sorted(far or {}))
    if far and "written locally" in far:
        t.eq(untuid(far["written locally"][1]),
             b"From: me@example.test\r\nSubject: written locally\r\n\r\n"
             b"local body\r\n", "... byte for byte (CRLF on the wire)")
    t.ok(far and "\\Seen" in far.get("one", ([], b""))[0] and
         "\\Answered" in far.get("one", ([], b""))[0],
         "S and R set locally -> \\Seen \\Answered on the server",
         far and far.get("one", ([], b""))[0])
    notes = far_messages(m, "Local/Notes")
    t.ok(notes is not None and list(notes) == ["a note"] and
         sorted(notes["a note"][0]) == ["\\Flagged", "\\Seen"],
         "a new local folder Local/Notes was created on the server with "
         "its message and flags", notes and {k: v[0] for k, v in
                                            notes.items()})
    typ, data = m.list('""', '"*"')
    t.ok(any(b'"Local/Notes"' in d or b" Local/Notes" in d for d in data),
         "LIST shows Local/Notes", data)

    # --- changes on the server: flags, expunge, new mail ---
    m.select("INBOX")
    typ, data = m.search(None, 'SUBJECT "three"')
    m.store(data[0].decode(), "+FLAGS", "(\\Flagged)")
    typ, data = m.search(None, 'SUBJECT "two"')
    m.store(data[0].decode(), "+FLAGS", "(\\Deleted)")
    m.expunge()
    m.logout()
    deliver("four")
    srv.wait_messages(U, 4)
    write_rc("LOGIN")
    mbsync("third run (IMAP LOGIN)")
    inbox = near_messages("INBOX")
    t.eq(sorted(inbox), ["four", "one", "three", "written locally"],
         "expunged on the server -> gone locally; new mail fetched")
    t.ok("F" in inbox.get("three", ("", b""))[0],
         "\\Flagged set on the server -> F locally",
         {k: v[0] for k, v in inbox.items()})

    # --- local deletion -> expunged on the server ---
    f = near_file("INBOX", "four")
    os.unlink(f)
    mbsync("fourth run (local delete)")
    m = imap()
    far = far_messages(m, "INBOX")
    t.eq(sorted(far or {}), ["one", "three", "written locally"],
         "deleted locally -> gone from the server")
    m.logout()

    # --- nothing to do ---
    before = {b: sorted(near_messages(b)) for b in ("INBOX", "Lists/dev")}
    out = mbsync("fifth run (nothing changed)")
    after = {b: sorted(near_messages(b)) for b in ("INBOX", "Lists/dev")}
    t.eq(after, before, "a run with nothing to do changes nothing")
    m = imap()
    t.eq(sorted(far_messages(m, "INBOX") or {}),
         ["one", "three", "written locally"], "... on either side")
    m.logout()
finally:
    srv.cleanup()
t.done()
