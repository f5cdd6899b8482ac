"""Test harness: start the real maild on free loopback ports with a
temporary data dir, drive it with real clients, print TAP.

Only processes started here are ever signalled, by PID.  Every wait is
bounded in time.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINDIR = os.environ.get("MAILD_BINDIR", os.path.join(REPO, "bin"))
DEV_CONF = os.path.join(REPO, "etc", "dev.conf")
SERVICES = ["smtp", "submission", "submissions", "pop3", "pop3s", "imap",
            "imaps", "webmail", "webmail_http"]
# which program maild starts for a service (maild/maild.c)
PROGRAM_OF = {"smtp": "smtpd", "submission": "smtpd", "submissions": "smtpd",
              "pop3": "pop3d", "pop3s": "pop3d", "imap": "imapd",
              "imaps": "imapd", "webmail": "webmail",
              "webmail_http": "webmail"}


class TAP:
    """Minimal TAP producer; failures print what was sent and received."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, diag=None):
        self.n += 1
        if not cond:
            self.failed += 1
        print("%sok %d - %s" % ("" if cond else "not ", self.n, name))
        if not cond and diag is not None:
            for line in str(diag).splitlines() or [""]:
                print("#   " + line)
        sys.stdout.flush()
        return cond

    def eq(self, got, want, name):
        return self.ok(got == want, name,
                       "got:  %r\nwant: %r" % (got, want))

    def like(self, got, needle, name):
        if isinstance(needle, bytes) and isinstance(got, bytes):
            found = needle in got
        else:
            found = str(needle) in str(got)
        return self.ok(found, name,
                       "got:  %r\nwant something containing: %r" % (got, needle))

    def diag(self, msg):
        for line in str(msg).splitlines():
            print("# " + line)

    def check(self, name, fn, *args):
        """Run one group of checks, fn(*args); an exception is one failed
        test with its traceback, and the run goes on."""
        try:
            fn(*args)
        except Exception as e:      # noqa: BLE001 - reported as a failure
            import traceback
            self.ok(False, "%s: raised %s" % (name, type(e).__name__),
                    traceback.format_exc()[-3000:])

    def done(self):
        print("1..%d" % self.n)
        sys.exit(1 if self.failed else 0)


def free_port(host="127.0.0.1"):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def free_ports(n, host="127.0.0.1"):
    """n different free ports: each is bound until all are chosen, so the
    kernel cannot hand one out twice (it did: two services of one test
    given the same port, and maild could not listen)."""
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((host, 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def wait_until(pred, timeout=10.0, interval=0.02):
    """Poll pred() until it is true or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


_CA = None


def test_ca():
    """A throw-away CA and a certificate for mail.example.test and
    127.0.0.1 signed by it, made once per test process.  Returns a dict
    with paths: ca, cert, key."""
    global _CA
    if _CA is not None:
        return _CA
    d = tempfile.mkdtemp(prefix="maildtest-ca.")
    os.chmod(d, 0o755)

    def ossl(*args):
        subprocess.run(["openssl"] + list(args), check=True,
                       capture_output=True, timeout=60)
    ca_key, ca = os.path.join(d, "ca.key"), os.path.join(d, "ca.pem")
    key, csr = os.path.join(d, "key.pem"), os.path.join(d, "req.csr")
    cert, ext = os.path.join(d, "cert.pem"), os.path.join(d, "ext.cnf")
    ossl("req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj",
         "/CN=maild test CA", "-keyout", ca_key, "-out", ca)
    ossl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-subj", "/CN=mail.example.test", "-keyout", key,
         "-out", csr)
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:mail.example.test,DNS:a.test,"
                "DNS:b.test,DNS:mx.a.test,DNS:mx.b.test,"
                "IP:127.0.0.1,IP:127.0.0.2,IP:127.0.0.3\n")
    ossl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
         "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", cert)
    for p in (cert, ca):
        os.chmod(p, 0o644)     # the key stays 0600: read before the drop
    import atexit
    atexit.register(shutil.rmtree, d, True)
    _CA = {"ca": ca, "cert": cert, "key": key}
    return _CA


def client_tls(hostname_check=True):
    """An ssl.SSLContext trusting only the test CA."""
    import ssl
    ctx = ssl.create_default_context(cafile=test_ca()["ca"])
    ctx.check_hostname = hostname_check
    return ctx


class Server:
    """One maild instance with its own data dir and ports."""

    def __init__(self, host="127.0.0.1", hostname="mail.example.test",
                 services=("smtp",), overrides=(), data_dir=None,
                 conf=DEV_CONF):
        self.conf = conf
        self.host = host
        self.hostname = hostname
        if data_dir is None:
            self.tmp = tempfile.mkdtemp(prefix="maildtest.")
            os.chmod(self.tmp, 0o755)   # services may run as user maild
            data_dir = os.path.join(self.tmp, "data")
        else:
            self.tmp = None
        self.data_dir = data_dir
        self.ports = dict(zip(services, free_ports(len(services), host)))
        ca = test_ca()
        self.overrides = ["server.data_dir=" + data_dir,
                          "server.hostname=" + hostname,
                          "server.log_level=debug",
                          "tls.cert=" + ca["cert"], "tls.key=" + ca["key"],
                          # never the system's resolver: tests that look
                          # things up override this with their own server
                          "dns.resolver=127.0.0.1:9"]
        for s in SERVICES:
            listen = "%s:%d" % (host, self.ports[s]) if s in self.ports else ""
            self.overrides.append("%s.listen=%s" % (s, listen))
        self.overrides += list(overrides)
        self.proc = None
        self.log_path = os.path.join(self.tmp or data_dir + ".logs", "maild.log")
        os.makedirs(os.path.dirname(self.log_path), exist_ok=True)

    def args(self):
        a = ["-c", self.conf]
        for o in self.overrides:
            a += ["-o", o]
        return a

    def mailctl(self, *args, input=None):
        p = subprocess.run([os.path.join(BINDIR, "mailctl")] + self.args() +
                           list(args), input=input, capture_output=True,
                           text=True, timeout=60)
        return p.returncode, p.stdout, p.stderr

    def setup(self, domains=("example.test",), users=(), aliases=()):
        """users: [(address, password)], aliases: [(address, target)]"""
        for d in domains:
            rc, out, err = self.mailctl("domain", "add", d)
            assert rc == 0, err
        for u, pw in users:
            rc, out, err = self.mailctl("user", "add", u, input=pw + "\n")
            assert rc == 0, err
        for a, t in aliases:
            rc, out, err = self.mailctl("alias", "add", a, t)
            assert rc == 0, err

    def start(self, wait=True):
        self._log_size = len(self.log())
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen([os.path.join(BINDIR, "maild")] +
                                     self.args(), stdout=self.logf,
                                     stderr=subprocess.STDOUT)
        if wait:
            try:
                self._wait_ready()
            except RuntimeError:
                self.stop()     # a failed start leaves nothing running
                raise
        return self

    def _wait_ready(self):
        """Every port listening and every service "ready:"."""
        for s, port in self.ports.items():
            if not wait_until(lambda: self._can_connect(port), 15):
                raise RuntimeError("maild did not listen on %s:%d\n%s" %
                                   (self.host, port, self.log()))
        # the queue runner binds its socket after the listeners
        wait_until(lambda: os.path.exists(
            os.path.join(self.data_dir, "queue", "control")), 10)
        # the auth service and the queue runner say "ready:", and maild
        # says when a service's first session process is confined, ready
        progs = ["authd", "queued"]
        start = self._log_size

        def ready():
            lines = self.log()[start:].splitlines()
            return all(any(p + "[" in l and "ready:" in l for l in lines)
                       for p in progs) and \
                all(any("pool %s: ready" % s in l for l in lines)
                    for s in self.ports)
        if not wait_until(ready, 30):
            raise RuntimeError("maild services not ready\n" + self.log())

    def _can_connect(self, port):
        try:
            s = socket.create_connection((self.host, port), timeout=1)
            s.close()
            return True
        except OSError:
            return False

    def descendants(self):
        """PIDs of every process below maild (ours: we started maild)."""
        if self.proc is None:
            return []
        children = {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    st = f.read()
                ppid = int(st[st.rindex(")") + 2:].split()[1])
                children.setdefault(ppid, []).append(int(d))
            except (OSError, ValueError):
                pass
        out, todo = [], [self.proc.pid]
        while todo:
            p = todo.pop()
            for c in children.get(p, []):
                out.append(c)
                todo.append(c)
        return out

    def session_pid(self, sock):
        """The PID of the process serving our connected socket sock (the
        one of our processes holding the server's end of it)."""
        local_port = sock.getsockname()[1]
        inodes = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(table) as f:
                    next(f)
                    for line in f:
                        fields = line.split()
                        rport = int(fields[2].rsplit(":", 1)[1], 16)
                        if rport == local_port and fields[9] != "0":
                            inodes.add("socket:[%s]" % fields[9])
            except OSError:
                pass
        for pid in self.descendants():
            try:
                for fd in os.listdir("/proc/%d/fd" % pid):
                    if os.readlink("/proc/%d/fd/%s" % (pid, fd)) in inodes:
                        return pid
            except OSError:
                pass
        return None

    def process_names(self):
        """{pid: comm} for maild and every process below it."""
        names = {}
        for pid in [self.proc.pid] + self.descendants():
            try:
                with open("/proc/%d/comm" % pid) as f:
                    names[pid] = f.read().strip()
            except OSError:
                pass
        return names

    def _sigkill_tree(self):
        """SIGKILL maild and every process below it; returns their PIDs."""
        pids = [self.proc.pid] + self.descendants()
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return pids

    def kill9_all(self):
        """Crash: SIGKILL maild and everything it started, at once."""
        pids = self._sigkill_tree()
        self.proc.wait(10)
        # orphans reparent to init; wait for them to be gone
        wait_until(lambda: not any(os.path.exists("/proc/%d" % p)
                                   for p in pids), 10)
        self.proc = None

    def stop(self, timeout=20):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._sigkill_tree()
            rc = self.proc.wait(10)
        self.proc = None
        self.logf.close()
        return rc

    def cleanup(self):
        self.stop()
        if self.tmp and not os.environ.get("MAILD_KEEP_TMP"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def port(self, service="smtp"):
        return self.ports[service]

    # --- the store ---
    def maildir(self, address):
        local, domain = address.split("@")
        return os.path.join(self.data_dir, "mail", domain, local)

    def messages(self, address, sub=("new", "cur")):
        """[(name, bytes)] in the user's INBOX, sorted by name."""
        out = []
        for s in sub:
            d = os.path.join(self.maildir(address), s)
            if os.path.isdir(d):
                for n in os.listdir(d):
                    with open(os.path.join(d, n), "rb") as f:
                        out.append((n, f.read()))
        return sorted(out)

    def wait_messages(self, address, count, timeout=10):
        wait_until(lambda: len(self.messages(address)) >= count, timeout)
        return self.messages(address)

    def queue_files(self):
        """The files of queue/msg/ that hold a message: a slot whose
        message is done is kept there for the next one (its first line
        MAILD-FREED), and one being written has no length yet."""
        d = os.path.join(self.data_dir, "queue", "msg")
        out = []
        for n in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            try:
                with open(os.path.join(d, n), "rb") as f:
                    head = f.read(65536)
            except FileNotFoundError:
                continue
            m = re.search(rb"^length (\d+)$", head, re.M)
            if head.startswith(b"MAILD-SPOOL 1\n") and m and int(m.group(1)):
                out.append(n)
        return out

    def queue_id(self, name):
        """The queue id of the message in queue/msg/<name> (the file's
        name is the id of the first message the slot held)."""
        with open(os.path.join(self.data_dir, "queue", "msg", name),
                  "rb") as f:
            return re.search(rb"^id (\S+)$", f.read(65536),
                             re.M).group(1).decode()


class IMAPConn:
    """A raw IMAP connection; responses with their literals inline
    (each literal after its "{n}", the line going on after it), and a
    transcript of the last exchanges for a failing test's diagnostics."""

    def __init__(self, port, timeout=10, host="127.0.0.1"):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        self.n = 0
        self.transcript = []
        self.greeting = self.response()

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def response(self):
        data = self.line()
        while not data.startswith(b"+"):
            m = re.search(rb"\{(\d+)\+?\}$", data)
            if not m:
                break
            size = int(m.group(1))
            while len(self.buf) < size:
                chunk = self.sock.recv(1 << 16)
                if not chunk:
                    raise EOFError("connection closed")
                self.buf += chunk
            data += b"\r\n" + self.buf[:size]
            self.buf = self.buf[size:]
            data += self.line()
        self.transcript.append("<< " + repr(data[:300]))
        return data

    def cmd(self, text):
        """(status, tagged line, [untagged]); literals must be {n+}."""
        self.n += 1
        tag = b"t%d" % self.n
        if isinstance(text, str):
            text = text.encode()
        self.transcript.append(">> " + repr(text[:300]))
        self.sock.sendall(tag + b" " + text + b"\r\n")
        untagged = []
        while True:
            r = self.response()
            if r.startswith(tag + b" "):
                return r.split(b" ", 2)[1].decode().upper(), r, untagged
            untagged.append(r)

    def log(self):
        return "\n".join(self.transcript[-20:])

    def close(self):
        self.sock.close()


class IMAPRaw:
    """A raw IMAP conversation over a socket: cmd() sends one tagged
    command (str or bytes, literals written as {n+}) and returns (the
    untagged responses, the tagged line), each response with its literals
    inline; b"" as the tagged line if the server closed."""

    def __init__(self, host, port, timeout=30):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.f = self.sock.makefile("rb")
        self.n = 0
        self.greeting = self.f.readline()

    def cmd(self, line):
        self.n += 1
        tag = b"t%d" % self.n
        if isinstance(line, str):
            line = line.encode()
        self.sock.sendall(tag + b" " + line + b"\r\n")
        untagged = []
        while True:
            resp = self.f.readline()
            if not resp:
                return untagged, b""
            m = re.search(rb"\{(\d+)\}\r\n$", resp)
            while m:            # a literal: read it and the rest
                resp += self.f.read(int(m.group(1)))
                more = self.f.readline()
                resp += more
                m = re.search(rb"\{(\d+)\}\r\n$", more)
            if resp.startswith(tag + b" "):
                return untagged, resp
            untagged.append(resp)

    def login(self, user, password):
        _, ok = self.cmd("LOGIN %s %s" % (user, password))
        assert b" OK" in ok, ok
        return self

    def close(self):
        try:
            self.cmd("LOGOUT")
        except OSError:
            pass
        self.sock.close()


class SMTPRaw:
    """A raw SMTP conversation over a socket: send exact bytes, read replies."""

    def __init__(self, host, port, timeout=10):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        self.transcript = []

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.transcript.append(">> " + repr(data))
        self.sock.sendall(data)

    def reply(self):
        """One complete (possibly multi-line) reply: (code, text)."""
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    self.transcript.append("<< EOF")
                    return (None, "\n".join(lines))
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            line = line.decode("utf-8", "replace")
            self.transcript.append("<< " + line)
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return (int(line[:3]), "\n".join(lines))

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def closed(self, timeout=5):
        """True if the server closed the connection (EOF)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except socket.timeout:
            return False
        except OSError:
            return True

    def log(self):
        return "\n".join(self.transcript)

    def close(self):
        self.sock.close()
