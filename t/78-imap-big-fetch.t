#!/usr/bin/python3
# IMAP FETCH of whole messages (BODY[], BODY.PEEK[]<partial>, RFC822)
# streams from the file: a 30 MB message is given byte for byte in its
# CRLF form, and the serving process's memory does not grow by the
# message's size (before, it held the file and its CRLF copy at once).
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import IMAPRaw, TAP, Server  # noqa: E402

U, PW = "pat@example.test", "pat-pw"
t = TAP()
srv = Server(services=("imap",), overrides=["auth.allow_plaintext=yes"])
srv.setup(users=[(U, PW)])

# LF line ends (as delivery writes them), with a few CRLF ones mixed in
# (as another program might): the CRLF form converts only bare LFs.
line = b"0123456789abcdefghijklmnopqrstuvwxyz" * 2 + b"\n"
raw = (b"From: a@remote.test\nSubject: big\r\n\n" +
       line * (30 * 1024 * 1024 // len(line)) + b"end\r\nlast line\n")
crlf = re.sub(rb"(?<!\r)\n", b"\r\n", raw)


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


def Imap():
    return IMAPRaw("127.0.0.1", srv.port("imap"), timeout=60)


def literal_of(lines, label):
    for l in lines:
        i = l.find(label + b" {")
        if i >= 0:
            j = l.index(b"}\r\n", i)
            n = int(l[i + len(label) + 2:j])
            return l[j + 3:j + 3 + n]
    return None


try:
    srv.start()
    c = Imap()
    _, ok = c.cmd("LOGIN %s %s" % (U, PW))
    t.ok(b" OK" in ok, "logged in", ok)
    cur = os.path.join(srv.maildir(U), "cur")
    os.makedirs(cur, exist_ok=True)
    with open(os.path.join(cur, "1796000000.big.host:2,"), "wb") as f:
        f.write(raw)
    un, ok = c.cmd("SELECT INBOX")
    t.ok(b" OK" in ok and any(b"* 1 EXISTS" in l for l in un),
         "the 30 MB message is in INBOX", un)
    post = [p for p in srv.descendants() if b"-M" in cmdline(p) and
            status_kib(p, "Seccomp") == 2]
    pid = post[0] if len(post) == 1 else 0
    before = status_kib(pid, "VmHWM") if pid else -1

    un, ok = c.cmd("FETCH 1 (RFC822.SIZE BODY.PEEK[])")
    body = literal_of(un, b"BODY[]")
    size = re.search(rb"RFC822\.SIZE (\d+)", b"".join(un))
    t.ok(b" OK" in ok and body == crlf, "BODY.PEEK[] is the message, byte "
         "for byte, in its CRLF form (%d octets)" % len(crlf),
         (ok, None if body is None else len(body)))
    t.ok(size and int(size.group(1)) == len(crlf),
         "RFC822.SIZE says as much", size and size.group(1))
    grown = status_kib(pid, "VmHWM") - before if pid else -1
    t.ok(pid and 0 <= grown < 16 * 1024,
         "the serving process's peak memory grew by %d KiB for it "
         "(less than 16 MiB)" % grown, (pid, before, grown))

    un, ok = c.cmd("FETCH 1 (BODY.PEEK[]<1000.5000> "
                   "BODY.PEEK[]<%d.100>)" % (len(crlf) - 10))
    t.ok(literal_of(un, b"BODY[]<1000>") == crlf[1000:6000] and
         literal_of(un, b"BODY[]<%d>" % (len(crlf) - 10)) == crlf[-10:],
         "partials from the middle and past the end", un[:1][:200])
    un, ok = c.cmd("FETCH 1 (BODY.PEEK[]<%d.10>)" % (len(crlf) + 5))
    t.ok(b" OK" in ok and b"{0}" in b"".join(un),
         "a partial beyond the end is empty", un)
    un, ok = c.cmd("FETCH 1 (RFC822)")
    t.ok(literal_of(un, b"RFC822") == crlf and
         any(b"\\Seen" in l for l in un),
         "RFC822 gives it too", ok)
    hdr = crlf.index(b"\r\n\r\n") + 4
    un, ok = c.cmd("FETCH 1 (BODY.PEEK[HEADER] BODY.PEEK[TEXT]<0.20>)")
    t.ok(literal_of(un, b"BODY[HEADER]") ==
         b"From: a@remote.test\r\nSubject: big\r\n\r\n" and
         literal_of(un, b"BODY[TEXT]<0>") == crlf[hdr:hdr + 20],
         "other sections still come from the parsed message", ok)
    c.cmd("LOGOUT")
finally:
    srv.stop()
    srv.cleanup()
t.done()
