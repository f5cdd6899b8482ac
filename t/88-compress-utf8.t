#!/usr/bin/python3
# IMAP COMPRESS=DEFLATE (RFC 4978) and UTF8=ACCEPT (RFC 6855) against the
# real imapd.  COMPRESS is driven with Python's imaplib and a small
# wrapper that, after the tagged OK, deflates what it sends and inflates
# what it reads (zlib, raw deflate, windowBits -15), over STARTTLS on
# 143 and over 993: SELECT, a large FETCH, APPEND of a literal, IDLE
# woken by a delivery; a second COMPRESS, COMPRESS before login, and a
# deflate bomb (1 GB of zeros) that must end in a BYE with the serving
# process's memory bounded.  It also measures the octets on the wire of
# FETCH 1:* (FLAGS ENVELOPE) with and without compression.  UTF8=ACCEPT
# over a raw connection: RFC 6855's ENABLE, UTF-8 mailbox names both
# ways (modified UTF-7 for the others), APPEND's UTF8 ( ) form, SEARCH
# CHARSET refused, UTF-8 headers given as they are after ENABLE.
import imaplib
import io
import os
import re
import smtplib
import sys
import threading
import time
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import IMAPRaw, TAP, Server, client_tls  # noqa: E402

imaplib.Commands.setdefault("COMPRESS", ("AUTH", "SELECTED", "NONAUTH"))
HOST = "127.0.0.1"
U, PW = "pat@example.test", "pat-secret"
U2, PW2 = "kim@example.test", "kim-secret"
t = TAP()
srv = Server(services=("smtp", "imap", "imaps"),
             overrides=["auth.allow_plaintext=yes",
                        "auth.failure_delay_max=0",
                        "imapd.max_errors=1000"])
srv.setup(users=[(U, PW), (U2, PW2)])


# ---------------------------------------------------------------------------
# imaplib with COMPRESS DEFLATE, counting the octets on the wire

class _Wire(io.RawIOBase):
    """What imaplib reads: the socket's octets, inflated once on."""

    def __init__(self, owner):
        self.owner = owner
        self.pending = b""

    def readable(self):
        return True

    def readinto(self, b):
        o = self.owner
        while not self.pending:
            chunk = o.sock.recv(65536)
            if not chunk:
                return 0
            o.wire_in += len(chunk)
            self.pending = o.zin.decompress(chunk) if o.zin else chunk
        n = min(len(b), len(self.pending))
        b[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        return n


class ZMixin:
    zin = zout = None
    wire_in = wire_out = 0

    def _rewrap(self):
        self.file = io.BufferedReader(_Wire(self), 65536)

    def send(self, data):
        if self.zout is not None:
            data = self.zout.compress(data) + \
                self.zout.flush(zlib.Z_SYNC_FLUSH)
        self.wire_out += len(data)
        self.sock.sendall(data)

    def compress(self):
        """COMPRESS DEFLATE; on OK, everything after it is deflated."""
        typ, dat = self._simple_command("COMPRESS", "DEFLATE")
        if typ == "OK":
            self.zout = zlib.compressobj(6, zlib.DEFLATED, -15)
            self.zin = zlib.decompressobj(-15)
        return typ, dat

    def idle_until_exists(self, deliver_fn, timeout=20):
        """IDLE, deliver, wait for * n EXISTS, DONE; (exists, tagged)."""
        tag = self._new_tag()
        self.send(tag + b" IDLE\r\n")
        cont = self.readline()
        if not cont.startswith(b"+"):
            return None, cont
        deliver_fn()
        self.sock.settimeout(timeout)
        exists = None
        while exists is None:
            line = self.readline()
            if not line:
                return None, b""
            m = re.match(rb"\* (\d+) EXISTS", line)
            if m:
                exists = int(m.group(1))
        self.send(b"DONE\r\n")
        while True:
            line = self.readline()
            if not line or line.startswith(tag):
                return exists, line


class ZIMAP(ZMixin, imaplib.IMAP4):
    def open(self, host="", port=143, timeout=None):
        super().open(host, port, timeout)
        self._rewrap()

    def starttls(self, ssl_context=None):
        r = super().starttls(ssl_context=ssl_context)
        self._rewrap()
        return r


class ZIMAPS(ZMixin, imaplib.IMAP4_SSL):
    def open(self, host="", port=993, timeout=None):
        super().open(host, port, timeout)
        self._rewrap()


def deliver(body, to=U, subject="hello"):
    msg = ("From: a@remote.test\r\nTo: %s\r\nSubject: %s\r\n\r\n%s\r\n" %
           (to, subject, body))
    with smtplib.SMTP(HOST, srv.port("smtp"), timeout=30) as c:
        c.sendmail("a@remote.test", [to], msg.encode())


def status_kib(pid, field):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


srv.start()
try:
    # ---------------- the capability, before and after login ----------
    m = ZIMAP(HOST, srv.port("imap"), timeout=30)
    caps = m.capabilities
    t.ok("COMPRESS=DEFLATE" not in caps, "COMPRESS=DEFLATE not advertised "
         "before login", caps)
    t.ok("UTF8=ACCEPT" in caps, "UTF8=ACCEPT advertised", caps)
    try:
        typ, dat = m.compress()
    except imaplib.IMAP4.error as e:
        typ, dat = "BAD", [str(e).encode()]
    t.ok(typ != "OK" and m.zout is None, "COMPRESS before login refused",
         dat)
    typ, _ = m.login(U, PW)
    t.ok(typ == "OK", "LOGIN still works after the refused COMPRESS")
    typ, dat = m.capability()
    t.ok(b"COMPRESS=DEFLATE" in dat[-1], "COMPRESS=DEFLATE advertised after "
         "login", dat)
    m.logout()

    # a large message, and a few hundred small ones for the measure
    big = "".join("line %06d of a large message, compressible text\r\n" % i
                  for i in range(40000))      # about 2 MB
    deliver(big, subject="big one")
    with smtplib.SMTP(HOST, srv.port("smtp"), timeout=60) as c:
        for i in range(300):
            c.sendmail("a%d@remote.test" % i, [U],
                       ("From: Sender Number %d <a%d@remote.test>\r\n"
                        "To: Pat <%s>\r\nCc: Kim <%s>\r\n"
                        "Subject: report %d of the quarterly numbers\r\n"
                        "Message-ID: <m%d@remote.test>\r\n"
                        "Date: Mon, 7 Feb 1994 21:52:25 -0800\r\n\r\n"
                        "body %d\r\n" % (i, i, U, U2, i, i, i)).encode())
    srv.wait_messages(U, 301, timeout=60)

    # ---------------- one compressed session, over TLS ------------------
    def session(m, label):
        typ, _ = m.login(U, PW)
        typ, dat = m.compress()
        t.ok(typ == "OK" and m.zout is not None, "%s: COMPRESS DEFLATE OK"
             % label, dat)
        typ, dat = m.compress()
        t.ok(typ == "NO" and b"[COMPRESSIONACTIVE]" in dat[0],
             "%s: a second COMPRESS is NO [COMPRESSIONACTIVE]" % label, dat)
        typ, dat = m.capability()
        t.ok(typ == "OK" and b"COMPRESS=DEFLATE" not in dat[-1],
             "%s: CAPABILITY over the compressed stream, COMPRESS gone" %
             label, dat)
        typ, dat = m.select("INBOX")
        t.ok(typ == "OK" and int(dat[0]) >= 301, "%s: SELECT INBOX" % label,
             dat)
        typ, dat = m.uid("SEARCH", None, "SUBJECT", '"big one"')
        uid = dat[0].split()[0]
        typ, dat = m.uid("FETCH", uid, "(BODY.PEEK[TEXT])")
        got = dat[0][1] if typ == "OK" else b""
        t.ok(got == big.encode() + b"\r\n", "%s: FETCH of a 2 MB message "
             "whole through the stream (%d octets)" % (label, len(got)))
        msg = (b"From: pat@example.test\r\nSubject: appended\r\n\r\n" +
               b"appended text " * 5000 + b"\r\n")
        typ, dat = m.append("INBOX", None, None, msg)
        t.ok(typ == "OK" and b"APPENDUID" in dat[0], "%s: APPEND of a %d "
             "octet literal" % (label, len(msg)), dat)
        typ, dat = m.uid("SEARCH", None, "SUBJECT", "appended")
        last = dat[0].split()[-1]
        typ, dat = m.uid("FETCH", last, "(RFC822.SIZE BODY.PEEK[])")
        t.ok(typ == "OK" and dat[0][1] == msg, "%s: the appended message "
             "reads back the same" % label)
        typ, dat = m.select("INBOX")
        before = int(dat[0])
        exists, tagged = m.idle_until_exists(
            lambda: deliver("during idle " + label, subject="idle"))
        t.ok(exists is not None and exists > before and b"OK" in tagged,
             "%s: IDLE: a delivery is told (%s EXISTS), DONE ends it" %
             (label, exists), tagged)
        typ, dat = m.noop()
        t.ok(typ == "OK", "%s: NOOP after IDLE" % label)
        typ, dat = m.logout()
        t.ok(typ == "BYE", "%s: LOGOUT over the compressed stream" % label,
             dat)

    m = ZIMAP(HOST, srv.port("imap"), timeout=60)
    m.starttls(ssl_context=client_tls())
    session(m, "STARTTLS")
    m = ZIMAPS(HOST, srv.port("imaps"), ssl_context=client_tls(),
               timeout=60)
    session(m, "IMAPS")

    # ---------------- pipelined: the command behind COMPRESS ------------
    # RFC 4978 §3: the client compresses from the octet after COMPRESS's
    # CRLF; a command sent at once behind it is compressed already.
    c = IMAPRaw(HOST, srv.port("imap"), timeout=30).login(U, PW)
    zo = zlib.compressobj(6, zlib.DEFLATED, -15)
    zi = zlib.decompressobj(-15)
    c.sock.sendall(b"z1 COMPRESS DEFLATE\r\n" + zo.compress(b"z2 NOOP\r\n") +
                   zo.flush(zlib.Z_SYNC_FLUSH))
    ok_line = c.f.readline()
    rest = c.f.read1(65536) if hasattr(c.f, "read1") else b""
    out = zi.decompress(rest)
    c.sock.settimeout(10)
    while b"z2 " not in out:
        chunk = c.sock.recv(65536)
        if not chunk:
            break
        out += zi.decompress(chunk)
    t.ok(ok_line.startswith(b"z1 OK") and b"z2 OK" in out,
         "a command pipelined behind COMPRESS is read inflated",
         (ok_line, out))
    c.sock.close()

    # ---------------- bytes on the wire: FETCH 1:* (FLAGS ENVELOPE) -------
    def measure(compressed):
        m = ZIMAP(HOST, srv.port("imap"), timeout=60)
        m.login(U, PW)
        if compressed:
            m.compress()
        m.select("INBOX", readonly=True)
        i0, o0 = m.wire_in, m.wire_out
        typ, dat = m.fetch("1:*", "(FLAGS ENVELOPE)")
        n = len([d for d in dat if isinstance(d, (bytes, tuple))])
        size = m.wire_in - i0, m.wire_out - o0
        m.logout()
        return typ, n, size
    typ1, n1, plain = measure(False)
    typ2, n2, packed = measure(True)
    t.diag("FETCH 1:* (FLAGS ENVELOPE) of %d messages: %d octets from the "
           "server plain, %d with COMPRESS=DEFLATE (%.1f%%)" %
           (n1, plain[0], packed[0], 100.0 * packed[0] / plain[0]))
    t.ok(typ1 == typ2 == "OK" and n1 == n2 and n1 >= 301,
         "the same FETCH answer with and without compression", (n1, n2))
    t.ok(packed[0] * 3 < plain[0], "compressed, FETCH 1:* (FLAGS ENVELOPE) "
         "takes under a third of the octets (%d vs %d)" %
         (packed[0], plain[0]))

    # ---------------- a deflate bomb ------------------------------------
    c = IMAPRaw(HOST, srv.port("imap"), timeout=30).login(U, PW)
    _, r = c.cmd("COMPRESS DEFLATE")
    pid = srv.session_pid(c.sock)
    zo = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = bytes(1 << 20)
    bomb = [zo.compress(b"b1 NOOP ")]
    for _ in range(1024):                   # 1 GiB of zeros, inflated
        bomb.append(zo.compress(zeros))
    bomb.append(zo.flush(zlib.Z_SYNC_FLUSH))
    bomb = b"".join(bomb)
    peak = [status_kib(pid, "VmHWM") if pid else -1]
    start_hwm = peak[0]
    done = threading.Event()

    def watch():
        while not done.is_set():
            v = status_kib(pid, "VmHWM")
            if v < 0:
                break
            peak[0] = max(peak[0], v)
            time.sleep(0.005)
    w = threading.Thread(target=watch)
    w.start()
    t0 = time.time()
    try:
        c.sock.sendall(bomb)
    except OSError:
        pass                                # it hung up before the end
    zi = zlib.decompressobj(-15)
    got = b""
    c.sock.settimeout(20)
    try:
        while True:
            chunk = c.sock.recv(65536)
            if not chunk:
                break
            got += zi.decompress(chunk)
    except OSError:
        pass
    elapsed = time.time() - t0
    done.set()
    w.join()
    t.ok(b"BYE" in got or b"BAD" in got, "a 1 GiB deflate bomb ends in "
         "BYE or BAD (%.1f s, %d compressed octets sent)" %
         (elapsed, len(bomb)), got[:200])
    t.ok(pid is not None and start_hwm > 0 and
         peak[0] - start_hwm < 32 * 1024,
         "the serving process's peak memory grew by %d KiB, not by the "
         "inflated GiB" % (peak[0] - start_hwm), (pid, start_hwm, peak[0]))
    log = srv.log()
    m_in = re.findall(r"disconnect client=\[[^]]*\] user=%s .* in=(\d+) "
                      % re.escape(U), log)
    t.ok(m_in and int(m_in[-1]) < len(bomb) // 4,
         "the server stopped reading the bomb early (read %s of %d "
         "compressed octets)" % (m_in[-1] if m_in else "?", len(bomb)))
    m = ZIMAP(HOST, srv.port("imap"), timeout=30)
    typ, _ = m.login(U, PW)
    t.ok(typ == "OK", "the server serves the next client")
    m.logout()

    # ---------------- UTF8=ACCEPT (RFC 6855) ----------------------------
    u = IMAPRaw(HOST, srv.port("imap"), timeout=30).login(U, PW)
    old = IMAPRaw(HOST, srv.port("imap"), timeout=30).login(U, PW)
    # RFC 6855 §3's example
    unt, r = u.cmd("ENABLE UTF8=ACCEPT")
    t.ok(r.startswith(b"t1 OK") or b" OK" in r, "ENABLE UTF8=ACCEPT", r)
    t.ok(any(re.match(rb"\* ENABLED UTF8=ACCEPT\r\n", x) for x in unt),
         "* ENABLED UTF8=ACCEPT", unt)
    name = "Entwürfe".encode()
    _, r = u.cmd(b'CREATE "' + name + b'"')
    t.ok(b" OK" in r, "CREATE with a UTF-8 name", r)
    t.ok(os.path.isdir(os.path.join(srv.maildir(U), ".Entw&APw-rfe")),
         "kept as modified UTF-7 in the store")
    unt, r = u.cmd('LIST "" "*"')
    t.ok(any(x.rstrip().endswith(b'"' + name + b'"') for x in unt) and
         not any(b"&APw-" in x for x in unt),
         "LIST gives the UTF-8 name, no modified UTF-7", unt)
    unt, r = old.cmd('LIST "" "*"')
    t.ok(any(x.rstrip().endswith(b"Entw&APw-rfe") for x in unt) and
         not any(name in x for x in unt),
         "a client that did not ENABLE sees modified UTF-7", unt)
    unt, r = u.cmd(b'LIST "" "Entw' + "ü".encode() + b'*"')
    t.ok(len(unt) == 1 and name in unt[0], "a LIST pattern in UTF-8 "
         "matches", unt)
    unt, r = u.cmd(b'SELECT "' + name + b'"')
    t.ok(b" OK" in r, "SELECT the UTF-8 name", r)
    unt, r = u.cmd(b'STATUS "' + name + b'" (MESSAGES)')
    t.ok(any(x.startswith(b'* STATUS "' + name + b'" (MESSAGES 0)')
             for x in unt), "STATUS names it in UTF-8", unt)
    _, r = u.cmd(b'CREATE "A&B"')
    t.ok(b" OK" in r, "'&' is an ordinary character now", r)
    unt, _ = old.cmd('LIST "" "A*"')
    t.ok(any(x.rstrip().endswith(b"A&-B") for x in unt),
         "... the others see it as A&-B", unt)
    _, r = u.cmd(b'CREATE "bad\xff\xfe"')
    t.ok(b" BAD" in r, "malformed UTF-8 in a mailbox name is BAD", r)
    _, r = u.cmd(b'RENAME "A&B" "' + "Große".encode() + b'"')
    unt, _ = old.cmd('LIST "" "Gro*"')
    t.ok(b" OK" in r and any(b"Gro&AN8-e" in x for x in unt),
         "RENAME to a UTF-8 name", (r, unt))

    # APPEND's UTF8 ( ) form (RFC 6855 §4), a message with UTF-8 headers
    subj = "Grüße aus Köln ☕".encode()
    msg = (b"From: J\xc3\xb6rg <j\xc3\xb6rg@example.test>\r\n"
           b"To: pat@example.test\r\nSubject: " + subj +
           b"\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\n\r\nHallo!\r\n")
    _, r = u.cmd(b'APPEND "' + name + b'" UTF8 (~{%d+}\r\n' % len(msg) +
                 msg + b")")
    t.ok(b" OK [APPENDUID" in r, "APPEND mailbox UTF8 (~{n}...)", r)
    _, r = u.cmd(b'APPEND "' + name + b'" (\\Seen) UTF8 ({%d+}\r\n' %
                 len(msg) + msg + b") UTF8 (~{%d+}\r\n" % len(msg) + msg +
                 b")")
    t.ok(b" OK [APPENDUID" in r, "two UTF8 ( ) messages in a MULTIAPPEND",
         r)
    _, r = u.cmd(b'APPEND "' + name + b'" UTF8 (~{3+}\r\nabc def)')
    t.ok(b" BAD" in r, "UTF8 ( ) with more than one literal is BAD", r)
    one = b"Subject: x\r\n\r\ny\r\n"

    def utf8_append(box, n):
        return u.cmd(b"APPEND " + box + b"".join(
            b" UTF8 (~{%d+}\r\n" % len(one) + one + b")" for _ in range(n)))
    _, r = utf8_append(b"INBOX", 32)
    t.ok(re.search(rb" OK \[APPENDUID \d+ \d+:\d+\]", r),
         "32 UTF8 ( ) messages in one APPEND", r)
    _, r = utf8_append(b"INBOX", 33)
    t.ok(b" NO [LIMIT]" in r, "33 are NO [LIMIT], as other APPENDs", r)
    _, r = u.cmd(b"CREATE UTF8")
    _, r = utf8_append(b"UTF8", 32)
    t.ok(b" OK [APPENDUID" in r, "... into a mailbox named UTF8 too", r)
    u.cmd(b'SELECT "' + name + b'"')
    unt, r = u.cmd("FETCH 1 (ENVELOPE BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    t.ok(b" OK" in r and any(subj in x and b"J\xc3\xb6rg" in x
                             for x in unt),
         "ENVELOPE and the header give the UTF-8 headers as they are", unt)
    old.cmd(b'SELECT "Entw&APw-rfe"')
    unt, r = old.cmd("FETCH 1 (ENVELOPE)")
    t.ok(b" OK" in r and not any(subj in x for x in unt) and
         any(b"=?UTF-8?B?" in x for x in unt),
         "to a client that did not ENABLE as encoded-words (RFC 6855 "
         "\u00a77; t/88-imap-utf8-downgrade.t)", unt)
    unt, r = u.cmd(b'SEARCH CHARSET UTF-8 SUBJECT "K\xc3\xb6ln"')
    t.ok(b" BAD" in r, "SEARCH CHARSET after ENABLE UTF8=ACCEPT is BAD "
         "(RFC 6855 §3)", r)
    unt, r = u.cmd(b'SEARCH SUBJECT "K\xc3\xb6ln"')
    t.ok(b" OK" in r and any(re.match(rb"\* SEARCH 1 2 3", x)
                             for x in unt),
         "SEARCH with a UTF-8 quoted string, no CHARSET", unt)
    unt, r = old.cmd(b'SEARCH CHARSET UTF-8 SUBJECT "K\xc3\xb6ln"')
    t.ok(b" OK" in r and any(re.match(rb"\* SEARCH 1 2 3", x) for x in unt),
         "SEARCH CHARSET UTF-8 still works without ENABLE", (unt, r))
    # erratum 4029: SORT and THREAD, whose charset is mandatory, take
    # UTF-8 alone after ENABLE
    unt, r = u.cmd(b'SORT (SUBJECT) UTF-8 SUBJECT "K\xc3\xb6ln"')
    t.ok(b" OK" in r and any(re.match(rb"\* SORT 1 2 3", x) for x in unt),
         "SORT ... UTF-8 after ENABLE UTF8=ACCEPT works", (unt, r))
    _, r = u.cmd(b"SORT (SUBJECT) US-ASCII ALL")
    _, r2 = u.cmd(b"THREAD REFERENCES US-ASCII ALL")
    t.ok(b" BAD" in r and b" BAD" in r2, "SORT and THREAD with US-ASCII "
         "after ENABLE are BAD (RFC 6855 erratum 4029)", (r, r2))
    _, r = old.cmd(b"SORT (SUBJECT) US-ASCII ALL")
    t.ok(b" OK" in r, "and still OK without ENABLE", r)
    _, r = u.cmd(b'DELETE "' + "Große".encode() + b'"')
    t.ok(b" OK" in r, "DELETE of a UTF-8 name", r)
    u.close()
    old.close()
finally:
    srv.stop()
    srv.cleanup()
t.done()
