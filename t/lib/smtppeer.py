"""A scripted SMTP server on loopback: the remote MX for outbound-delivery
tests.  Threads and plain sockets; every session is recorded.

    peer = SMTPPeer(tls=(cert, key))        # a free port on 127.0.0.1
    peer.on("RCPT", "451 4.3.0 try later", times=1)   # first RCPT only
    peer.on("RCPT", "550 5.1.1 no such user", match="<x@b.test>")
    peer.on("GREETING", "421 4.3.2 busy")   # a 421 also closes
    peer.on("MAIL", close=True)             # drop the connection, no reply
    peer.on("DOT", "250 2.0.0 ok", delay=5) # stall 5 s after the final "."
    peer.start()
    ... make maild deliver to 127.0.0.1:peer.port ...
    peer.wait_messages(1)                   # accepted messages, bounded wait
    s = peer.sessions[0]
    s.tls, s.ehlo, s.commands, s.replies, s.transactions
    t = s.transactions[0]
    t.mail_from, t.mail_params, t.rcpts, t.data, t.accepted
    peer.stop()                             # returns within a second

Verbs for on(): GREETING, EHLO, HELO, MAIL, RCPT, DATA (the 354 step),
DOT (the reply after the final "."), RSET, NOOP, QUIT, STARTTLS, and
UNKNOWN (any other command).  The first rule that applies wins; a rule
applies while its times (None: always) are not used up, counted over all
sessions, when match (a case-insensitive substring of the command's
argument, or a function of (session, argument)) and session (the
session's index) fit.  reply is a line or a list of lines (a multi-line
reply); None keeps the default reply.  delay waits that many seconds
first; close=True closes the connection instead of replying when reply
is None, else just after the reply.  Any 421 reply closes the connection
(RFC 5321 3.8).  A rule on MAIL or RCPT that answers 2xx still counts as
accepting the sender or recipient; on DOT, a 2xx marks the message
accepted.

Defaults follow RFC 5321: 220 greeting; EHLO advertises PIPELINING, SIZE
n, 8BITMIME and, when tls is given and the session is not yet in TLS,
STARTTLS (RFC 3207: the session starts over after the handshake, and
plaintext the client pipelined after STARTTLS is discarded and recorded
in session.plaintext_after_starttls); bad sequences get 503, a declared
SIZE over the limit 552 5.3.4, DATA without recipients 554 5.5.1.

Commands are read line by line from a buffered stream and answered in
order, so pipelined commands (RFC 2920) work.  Bounded: command and text
line length (over-long lines get 500 and are dropped), message size
(the excess is discarded, 552 after the dot), sessions in total and at
once (others get 421), idle time per session.  extensions replaces the
default EHLO keywords.  A stopped peer is not started again.
"""
import collections
import socket
import ssl
import threading
import time

CRLF = b"\r\n"


class Transaction:
    """One MAIL ... DATA exchange of a session."""

    def __init__(self, mail_from, mail_params):
        self.mail_from = mail_from      # the reverse-path, without <>
        self.mail_params = mail_params  # {"SIZE": "123", "BODY": "8BITMIME"}
        self.rcpts = []                 # accepted forward-paths, without <>
        self.rejected_rcpts = []        # (address, reply line)
        self.data = None                # the message, dot-stuffing undone
        self.too_big = False
        self.accepted = False           # the reply after "." was 2xx

    def __repr__(self):
        return "<Transaction from=%r rcpts=%r %d octets accepted=%r>" % (
            self.mail_from, self.rcpts, len(self.data or b""), self.accepted)


class Session:
    """What one connection did."""

    def __init__(self, index, peer):
        self.index = index
        self.client = peer              # (address, port)
        self.commands = []              # command lines as received (str)
        self.replies = []               # reply lines sent (str)
        self.ehlo = None                # the last EHLO/HELO argument
        self.tls = False
        self.tls_version = None
        self.tls_cipher = None
        self.plaintext_after_starttls = b""
        self.transactions = []
        self.closed_by = None           # "client", "server", "timeout"

    def __repr__(self):
        return "<Session %d tls=%r commands=%r>" % (self.index, self.tls,
                                                   self.commands)


Rule = collections.namedtuple("Rule", "verb reply match times session "
                              "delay close used")


class _Closed(Exception):
    pass


class SMTPPeer:
    """See the module docstring."""

    def __init__(self, host="127.0.0.1", port=0, hostname="peer.test",
                 size=10 * 1024 * 1024, tls=None, max_sessions=100,
                 max_concurrent=20, max_line=4096, idle_timeout=30,
                 extensions=None):
        self.host = host
        self.hostname = hostname
        self.size = size
        self.max_sessions = max_sessions
        self.max_concurrent = max_concurrent
        self.max_line = max_line
        self.idle_timeout = idle_timeout
        self.extensions = extensions      # None: the default EHLO list
        self.tls_context = None
        if isinstance(tls, ssl.SSLContext):
            self.tls_context = tls
        elif tls is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self.tls_context = ctx
        self.sessions = []
        self.refused = 0                  # connections over the limits
        self._rules = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = []
        self._socks = set()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._listen = socket.socket(family, socket.SOCK_STREAM)
        self._listen.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listen.bind((host, port))
        self._listen.listen(64)
        self.port = self._listen.getsockname()[1]
        self._acceptor = None

    @property
    def address(self):
        if ":" in self.host:
            return "[%s]:%d" % (self.host, self.port)
        return "%s:%d" % (self.host, self.port)

    # --- scripting ---
    def on(self, verb, reply=None, match=None, times=None, session=None,
           delay=0, close=False):
        """Add a rule (see the module docstring); returns self."""
        verb = verb.upper()
        if isinstance(reply, str):
            reply = [reply]
        with self._lock:
            self._rules.append(Rule(verb, reply, match, times, session,
                                    delay, close, [0]))
        return self

    def clear_rules(self):
        with self._lock:
            del self._rules[:]

    def _rule(self, verb, session, arg):
        with self._lock:
            for r in self._rules:
                if r.verb != verb:
                    continue
                if r.times is not None and r.used[0] >= r.times:
                    continue
                if r.session is not None and r.session != session.index:
                    continue
                if r.match is not None:
                    if callable(r.match):
                        if not r.match(session, arg):
                            continue
                    elif r.match.lower() not in arg.lower():
                        continue
                r.used[0] += 1
                return r
        return None

    # --- results ---
    def messages(self):
        """Every accepted transaction, in order of sessions."""
        with self._lock:
            return [t for s in self.sessions for t in s.transactions
                    if t.accepted]

    def wait_messages(self, count, timeout=10):
        deadline = time.monotonic() + timeout
        while len(self.messages()) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages()

    def wait_sessions(self, count, timeout=10):
        deadline = time.monotonic() + timeout
        while len(self.sessions) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.sessions)

    # --- running ---
    def start(self):
        self._listen.settimeout(0.2)
        self._acceptor = threading.Thread(target=self._accept_loop,
                                          daemon=True, name="smtppeer")
        self._acceptor.start()
        return self

    def stop(self):
        """Close the listener and every session; within about a second."""
        self._stop.set()
        deadline = time.monotonic() + 0.9
        if self._acceptor is not None:
            self._acceptor.join(0.5)
        with self._lock:
            socks = list(self._socks)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for th in list(self._threads):
            th.join(max(0.0, deadline - time.monotonic()))
        self._listen.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _accept_loop(self):
        while not self._stop.is_set():
            try:
                conn, addr = self._listen.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                active = sum(1 for th in self._threads if th.is_alive())
                over = (len(self.sessions) >= self.max_sessions or
                        active >= self.max_concurrent)
                if over:
                    self.refused += 1
                else:
                    sess = Session(len(self.sessions), addr)
                    self.sessions.append(sess)
                    self._socks.add(conn)
            if over:
                try:
                    conn.sendall(b"421 4.3.2 too many sessions\r\n")
                except OSError:
                    pass
                conn.close()
                continue
            th = threading.Thread(target=self._session, args=(conn, sess),
                                  daemon=True,
                                  name="smtppeer-%d" % sess.index)
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(th)
            th.start()

    # --- one session ---
    def _session(self, conn, sess):
        io = _LineIO(conn, self)
        try:
            self._converse(io, sess)
        except _Closed as e:
            sess.closed_by = str(e)
        except (OSError, ssl.SSLError):
            sess.closed_by = sess.closed_by or "client"
        finally:
            with self._lock:
                self._socks.discard(conn)
                self._socks.discard(io.sock)
            try:
                io.sock.close()
            except OSError:
                pass

    def _send(self, io, sess, lines, close_after=False):
        for line in lines:
            sess.replies.append(line)
        io.write("".join(l + "\r\n" for l in lines).encode())
        if close_after or lines[-1].startswith("421"):
            raise _Closed("server")

    def _answer(self, io, sess, verb, arg, default):
        """Reply per the rules, else default; returns the reply lines."""
        rule = self._rule(verb, sess, arg)
        if rule is None:
            self._send(io, sess, default)
            return default
        if rule.delay and self._stop.wait(rule.delay):
            raise _Closed("server")
        if rule.reply is None and rule.close:
            raise _Closed("server")
        lines = rule.reply or default
        self._send(io, sess, lines, close_after=rule.close)
        return lines

    def _ehlo_lines(self, sess):
        ext = self.extensions
        if ext is None:
            ext = ["PIPELINING", "SIZE %d" % self.size, "8BITMIME"]
            if self.tls_context is not None and not sess.tls:
                ext.append("STARTTLS")
        lines = [self.hostname] + list(ext)
        return ["250-" + l for l in lines[:-1]] + ["250 " + lines[-1]]

    def _converse(self, io, sess):
        self._answer(io, sess, "GREETING", "",
                     ["220 %s ESMTP smtppeer" % self.hostname])
        helo = False
        trans = None
        while True:
            line = io.readline(self.max_line)
            if line is None:
                self._send(io, sess, ["500 5.5.2 line too long"])
                continue
            text = line.rstrip(b"\r\n").decode("utf-8", "replace")
            sess.commands.append(text)
            verb, _, arg = text.partition(" ")
            verb = verb.upper()
            if verb in ("EHLO", "HELO"):
                helo = True
                trans = None
                sess.ehlo = arg.strip()
                self._answer(io, sess, verb, arg, self._ehlo_lines(sess)
                             if verb == "EHLO" else
                             ["250 " + self.hostname])
            elif verb == "STARTTLS":
                if self.tls_context is None or sess.tls:
                    self._answer(io, sess, verb, arg,
                                 ["502 5.5.1 STARTTLS not available"])
                    continue
                lines = self._answer(io, sess, verb, arg,
                                     ["220 2.0.0 ready to start TLS"])
                if lines[-1].startswith("220"):
                    sess.plaintext_after_starttls = io.starttls(
                        self.tls_context)
                    sess.tls = True
                    sess.tls_version = io.sock.version()
                    sess.tls_cipher = io.sock.cipher()[0]
                    helo, trans = False, None       # RFC 3207 4.2
            elif verb == "MAIL":
                if not helo:
                    self._answer(io, sess, verb, arg,
                                 ["503 5.5.1 send EHLO first"])
                    continue
                if trans is not None:
                    self._answer(io, sess, verb, arg,
                                 ["503 5.5.1 nested MAIL"])
                    continue
                path, params = _parse_path(arg, "FROM:")
                if path is None:
                    self._answer(io, sess, verb, arg, ["501 5.5.4 syntax"])
                    continue
                default = ["250 2.1.0 ok"]
                try:
                    if int(params.get("SIZE", "0")) > self.size:
                        default = ["552 5.3.4 message too big"]
                except ValueError:
                    default = ["501 5.5.4 bad SIZE"]
                lines = self._answer(io, sess, verb, arg, default)
                if lines[-1].startswith("2"):
                    trans = Transaction(path, params)
                    with self._lock:
                        sess.transactions.append(trans)
            elif verb == "RCPT":
                if trans is None:
                    self._answer(io, sess, verb, arg,
                                 ["503 5.5.1 need MAIL first"])
                    continue
                path, _ = _parse_path(arg, "TO:")
                if not path:
                    self._answer(io, sess, verb, arg, ["501 5.5.4 syntax"])
                    continue
                lines = self._answer(io, sess, verb, arg, ["250 2.1.5 ok"])
                if lines[-1].startswith("2"):
                    trans.rcpts.append(path)
                else:
                    trans.rejected_rcpts.append((path, lines[-1]))
            elif verb == "DATA":
                if trans is None or not trans.rcpts:
                    self._answer(io, sess, verb, arg,
                                 ["554 5.5.1 no valid recipients"
                                  if trans is not None else
                                  "503 5.5.1 need MAIL first"])
                    continue
                lines = self._answer(io, sess, verb, arg,
                                     ["354 end data with <CRLF>.<CRLF>"])
                if not lines[-1].startswith("354"):
                    continue
                trans.data, trans.too_big = self._read_data(io)
                lines = self._answer(
                    io, sess, "DOT", "",
                    ["552 5.3.4 message too big"] if trans.too_big else
                    ["250 2.0.0 ok: queued as %d.%d" % (
                        sess.index, len(sess.transactions))])
                trans.accepted = lines[-1].startswith("2")
                trans = None
            elif verb == "RSET":
                trans = None
                self._answer(io, sess, verb, arg, ["250 2.0.0 ok"])
            elif verb == "NOOP":
                self._answer(io, sess, verb, arg, ["250 2.0.0 ok"])
            elif verb == "QUIT":
                self._answer(io, sess, verb, arg, ["221 2.0.0 bye"],)
                raise _Closed("client")
            else:
                self._answer(io, sess, "UNKNOWN", text,
                             ["500 5.5.2 command not recognized"])

    def _read_data(self, io):
        """The message up to CRLF.CRLF, dot-stuffing undone (RFC 5321
        4.5.2); the part over the size limit is read and dropped."""
        out, total, too_big, at_start = [], 0, False, True
        while True:
            line = io.readline(1000 + 2, allow_long=True)
            if at_start:        # only a whole line can end the data
                if line == b".\r\n":
                    return b"".join(out), too_big
                if line.startswith(b"."):
                    line = line[1:]
            at_start = line.endswith(b"\n")
            total += len(line)
            if total > self.size:
                too_big = True
            else:
                out.append(line)


class _LineIO:
    """Buffered lines from a socket, with a bound and an idle timeout."""

    def __init__(self, sock, peer):
        self.sock = sock
        self.peer = peer
        self.buf = bytearray()
        sock.settimeout(0.2)

    def _fill(self):
        idle = time.monotonic() + self.peer.idle_timeout
        while True:
            if self.peer._stop.is_set():
                raise _Closed("server")
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                if time.monotonic() > idle:
                    raise _Closed("timeout")
                continue
            except ssl.SSLWantReadError:
                continue
            if not chunk:
                raise _Closed("client")
            self.buf += chunk
            return

    def readline(self, limit, allow_long=False):
        """One line with its LF; None for a command line over limit
        (read to its end and dropped); with allow_long, a text line over
        the limit is returned in pieces."""
        too_long = False
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line = bytes(self.buf[:i + 1])
                del self.buf[:i + 1]
                if too_long:
                    return None
                if len(line) > limit and not allow_long:
                    return None
                return line
            if len(self.buf) > limit:
                if allow_long:
                    line = bytes(self.buf)
                    self.buf.clear()
                    return line
                too_long = True
                self.buf.clear()
            self._fill()

    def write(self, data):
        self.sock.settimeout(10)
        try:
            self.sock.sendall(data)
        finally:
            self.sock.settimeout(0.2)

    def starttls(self, ctx):
        """Handshake; returns the plaintext that was already buffered
        (pipelined after STARTTLS), which is dropped."""
        leftover = bytes(self.buf)
        self.buf.clear()
        self.sock.settimeout(10)
        tls = ctx.wrap_socket(self.sock, server_side=True)
        with self.peer._lock:
            self.peer._socks.add(tls)
        self.sock = tls
        tls.settimeout(0.2)
        return leftover


def _parse_path(arg, prefix):
    """"FROM:<a@b> K=V ..." -> ("a@b", {"K": "V"}); (None, {}) if bad."""
    if not arg[:len(prefix)].upper() == prefix:
        return None, {}
    rest = arg[len(prefix):].lstrip()
    if not rest.startswith("<") or ">" not in rest:
        return None, {}
    path, _, params = rest[1:].partition(">")
    out = {}
    for p in params.split():
        k, _, v = p.partition("=")
        out[k.upper()] = v
    return path, out
