"""A raw IMAP connection for tests that read what comes unasked.

imaplib hides untagged responses that arrive between commands (NOTIFY,
IDLE); this client keeps every line, its literals inline, and lets a
test wait for one (until()) or check that nothing comes (quiet()).
"""
import re
import socket
import time


class RawImap:
    def __init__(self, port, user, password, host="127.0.0.1",
                 prefix="t", wait=5.0, quiet_for=1.0):
        """wait, quiet_for: until()'s and quiet()'s default seconds."""
        self.wait = wait
        self.quiet_for = quiet_for
        self.sock = socket.create_connection((host, port), timeout=30)
        self.buf = b""
        self.n = 0
        self.prefix = prefix.encode()
        self.line(10)
        _, r = self.cmd("LOGIN %s %s" % (user, password))
        assert b" OK" in r, r

    def _fill(self, deadline):
        left = deadline - time.time()
        if left <= 0:
            return False
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return False
        if not data:
            raise EOFError("server closed")
        self.buf += data
        return True

    def line(self, timeout):
        """One response (its literals inline), or None at the timeout."""
        deadline = time.time() + timeout
        out = b""
        while True:
            while b"\r\n" not in self.buf:
                if not self._fill(deadline):
                    return None
            i = self.buf.index(b"\r\n") + 2
            part, self.buf = self.buf[:i], self.buf[i:]
            out += part
            m = re.search(rb"\{(\d+)\}\r\n$", part)
            if not m:
                return out
            want = int(m.group(1))
            while len(self.buf) < want:
                if not self._fill(deadline):
                    return None
            out += self.buf[:want]
            self.buf = self.buf[want:]

    def send(self, text):
        self.n += 1
        tag = self.prefix + b"%d" % self.n
        self.sock.sendall(tag + b" " + text.encode() + b"\r\n")
        return tag

    def cmd(self, text, timeout=20):
        """(untagged lines, the tagged reply or b"(timeout)")."""
        tag = self.send(text)
        un = []
        while True:
            r = self.line(timeout)
            if r is None:
                return un, b"(timeout)"
            if r.startswith(tag + b" "):
                return un, r
            un.append(r)

    def until(self, pattern, timeout=None):
        """Unsolicited responses up to one matching pattern:
        (lines, whether it came)."""
        got = []
        deadline = time.time() + (self.wait if timeout is None else timeout)
        while time.time() < deadline:
            r = self.line(deadline - time.time())
            if r is None:
                break
            got.append(r)
            if re.search(pattern, r):
                return got, True
        return got, False

    def quiet(self, seconds=None):
        """What comes unasked within seconds (should be nothing)."""
        got = []
        deadline = time.time() + (self.quiet_for if seconds is None else
                                  seconds)
        while True:
            r = self.line(max(0.0, deadline - time.time()))
            if r is None:
                return got
            got.append(r)


def tagged_ok(r):
    return re.match(rb"^[a-z]+\d+ OK", r) is not None
