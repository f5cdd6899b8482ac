#!/usr/bin/python3
# IMAP4rev1 (RFC 3501) and its extensions against the real imapd: imaplib
# over implicit TLS (993) and STARTTLS (143), and a raw client where
# imaplib cannot say it (literals, IDLE, pipelining, limits).  Answers are
# parsed with the RFC 3501 grammar; ENVELOPE and BODYSTRUCTURE are checked
# against the RFC's own examples (t/data/imap/rfc3501-*.eml reproduce the
# messages of RFC 3501 section 7.4.2 octet for octet) and against an
# independent MIME splitter for the other messages in t/data/imap/.
import base64
import email.header
import email.parser
import email.policy
import email.utils
import imaplib
import os
import re
import smtplib
import socket
import ssl
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from maildtest import (TAP, Server, client_tls, wait_until)  # noqa: E402

HOST = "127.0.0.1"
TLS_NAME = "mail.example.test"
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data",
                    "imap")
U, PW = "pat@example.test", "pat-secret"
U2, PW2 = "kim@example.test", "kim-secret"


# ---------------------------------------------------------------------------
# The wire: a raw IMAP client and a parser for the RFC 3501 response grammar

class Str(bytes):
    """An IMAP string; .literal says whether it came as {n} literal."""
    literal = False


def parse(data):
    """Tokens of one response: lists, Str, atoms (str), None for NIL."""
    if isinstance(data, str):
        data = data.encode()
    stack = [[]]
    pos, n = 0, len(data)
    while pos < n:
        c = data[pos:pos + 1]
        if c in (b" ", b"\r", b"\n"):
            pos += 1
        elif c == b"(":
            stack.append([])
            pos += 1
        elif c == b")":
            if len(stack) < 2:
                raise ValueError("unbalanced ) at %d in %r" % (pos, data))
            lst = stack.pop()
            stack[-1].append(lst)
            pos += 1
        elif c == b'"':
            pos += 1
            out = bytearray()
            while True:
                if pos >= n:
                    raise ValueError("unterminated quoted string")
                ch = data[pos:pos + 1]
                if ch == b"\\":
                    out += data[pos + 1:pos + 2]
                    pos += 2
                elif ch == b'"':
                    pos += 1
                    break
                else:
                    out += ch
                    pos += 1
            stack[-1].append(Str(bytes(out)))
        elif c == b"{" or data[pos:pos + 2] == b"~{":
            m = re.match(rb"~?\{(\d+)\+?\}\r\n", data[pos:])
            if not m:
                raise ValueError("bad literal at %d in %r" % (pos, data))
            size = int(m.group(1))
            start = pos + m.end()
            s = Str(data[start:start + size])
            s.literal = True
            stack[-1].append(s)
            pos = start + size
        else:
            start, depth = pos, 0
            while pos < n:
                ch = data[pos:pos + 1]
                if ch == b"[":
                    depth += 1
                elif ch == b"]":
                    depth -= 1
                elif depth == 0 and ch in (b" ", b"(", b")", b"\r", b"\n"):
                    break
                pos += 1
            atom = data[start:pos].decode("utf-8", "replace")
            stack[-1].append(None if atom.upper() == "NIL" else atom)
    if len(stack) != 1:
        raise ValueError("unbalanced ( in %r" % data)
    return stack[0]


def s(x):
    """A parsed string or atom as str (None stays None)."""
    if x is None:
        return None
    if isinstance(x, bytes):
        return x.decode("utf-8", "replace")
    return x


class Conn:
    """One raw IMAP connection; every read is bounded by a timeout."""

    def __init__(self, port, tls=True, timeout=10):
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        if tls:
            self.sock = client_tls().wrap_socket(self.sock,
                                                 server_hostname=TLS_NAME)
        self.timeout = timeout
        self.buf = b""
        self.n = 0
        self.transcript = []
        self.greeting = self.response()

    def starttls(self):
        self.sock = client_tls().wrap_socket(self.sock,
                                             server_hostname=TLS_NAME)

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.transcript.append(">> " + repr(data[:300]))
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise EOFError("connection closed")
        self.buf += chunk

    def line(self, timeout=None):
        self.sock.settimeout(timeout or self.timeout)
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def response(self, timeout=None):
        """One response, literals included (CRLF inside kept)."""
        self.sock.settimeout(timeout or self.timeout)
        data = self.line(timeout)
        while True:
            m = re.search(rb"\{(\d+)\+?\}$", data)
            if not m or data.startswith(b"+"):
                break
            size = int(m.group(1))
            while len(self.buf) < size:
                self._fill()
            data += b"\r\n" + self.buf[:size]
            self.buf = self.buf[size:]
            data += self.line(timeout)
        self.transcript.append("<< " + repr(data[:300]))
        return data

    def tag(self):
        self.n += 1
        return "t%d" % self.n

    def cmd(self, text, timeout=None):
        """Send a command; (status, tagged line, [untagged responses]).
        A synchronizing literal {n} in text is sent only after the
        server's "+" (RFC 3501 section 7.5)."""
        tag = self.tag()
        if isinstance(text, str):
            text = text.encode()
        text = tag.encode() + b" " + text
        pos, untagged = 0, []
        for m in re.finditer(rb"\{(\d+)\}\r\n", text):
            self.send(text[pos:m.end()])
            pos = m.end()
            while True:
                r = self.response(timeout)
                if r.startswith(b"+"):
                    break
                if r.startswith(tag.encode() + b" "):
                    return r.split(b" ", 2)[1].decode().upper(), r, untagged
                untagged.append(r)
        self.send(text[pos:] + b"\r\n")
        st, line, unt = self.wait(tag, timeout)
        return st, line, untagged + unt

    def wait(self, tag, timeout=None):
        untagged = []
        while True:
            r = self.response(timeout)
            if r.startswith(tag.encode() + b" "):
                st = r.split(b" ", 2)[1].decode().upper()
                return st, r, untagged
            untagged.append(r)

    def ok(self, text, timeout=None):
        st, line, unt = self.cmd(text, timeout)
        if st != "OK":
            raise RuntimeError("%s -> %r" % (text[:200] if isinstance(
                text, str) else text[:200], line))
        return unt

    def login(self, user=U, pw=PW):
        return self.cmd('LOGIN "%s" "%s"' % (user, pw))

    def closed(self, timeout=5):
        """True when the server closed the connection within timeout."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(1 << 16)
                if not chunk:
                    return True
                self.buf += chunk
        except socket.timeout:
            return False
        except (OSError, ssl.SSLError):
            return True

    def log(self):
        return "\n".join(self.transcript[-30:])

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def idle_wait(c, pattern, limit=5.0):
    """Untagged lines pushed during IDLE, until one matches (bounded)."""
    seen = []
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < limit:
            x = c.response(timeout=max(0.5, limit - (time.monotonic() - t0)))
            seen.append(x)
            if re.match(pattern, x):
                break
    except (socket.timeout, EOFError):
        pass
    return seen


def fetches(untagged):
    """{seq: {ITEM: value}} from untagged FETCH responses (merged)."""
    out = {}
    for r in untagged:
        m = re.match(rb"\* (\d+) FETCH ", r, re.I)
        if not m:
            continue
        tok = parse(r)
        items = tok[3]
        d = out.setdefault(int(tok[1]), {})
        for i in range(0, len(items) - 1, 2):
            d[items[i].upper()] = items[i + 1]
    return out


def by_uid(untagged):
    return {int(d["UID"]): d for d in fetches(untagged).values()
            if "UID" in d}


def untagged_kind(untagged, kind):
    """The parsed untagged responses "* KIND ..." (e.g. LIST, STATUS)."""
    out = []
    for r in untagged:
        if re.match(rb"\* " + kind.encode() + rb"\b", r, re.I):
            out.append(parse(r)[2:])
    return out


def numbers(untagged, kind):
    """"* 3 EXISTS" style responses: [3, ...]."""
    return [int(m.group(1)) for m in
            (re.match(rb"\* (\d+) " + kind.encode() + rb"$", r, re.I)
             for r in untagged) if m]


def search_result(untagged):
    for r in untagged:
        if re.match(rb"\* SEARCH\b", r, re.I):
            toks = parse(r)[2:]
            return sorted(int(x) for x in toks if isinstance(x, str) and
                          x.isdigit())
    return None


def code(line, name):
    """The response code [NAME args] in a response line, or None."""
    m = re.search(rb"\[" + name.encode() + rb"(?: ([^\]]*))?\]", line, re.I)
    if not m:
        return None
    return (m.group(1) or b"").decode()


def flags_of(f):
    """FLAGS of a FETCH, upper case, without \\Recent (session state)."""
    return sorted(x.upper() for x in f.get("FLAGS", [])
                  if x.upper() != "\\RECENT")


def seqset_nums(text):
    out = []
    for part in text.split(","):
        if ":" in part:
            a, b = part.split(":")
            a, b = int(a), int(b)
            out += list(range(min(a, b), max(a, b) + 1))
        elif part:
            out.append(int(part))
    return sorted(out)


# ---------------------------------------------------------------------------
# An independent MIME reference: split the fixtures as RFC 2045/2046 say and
# compute what BODYSTRUCTURE and BODY[section] must be.

def crlf(b):
    return re.sub(rb"(?<!\r)\n", b"\r\n", b)


def fixture(name):
    with open(os.path.join(DATA, name), "rb") as f:
        return crlf(f.read())


def split_hb(raw):
    if raw.startswith(b"\r\n"):         # no header lines at all
        return b"\r\n", raw[2:]
    i = raw.find(b"\r\n\r\n")
    if i < 0:
        return raw, b""
    return raw[:i + 4], raw[i + 4:]


class Part:
    pass


def hparse(header):
    return email.parser.BytesHeaderParser(
        policy=email.policy.compat32).parsebytes(header)


def mime_tree(header, body, default="text/plain"):
    p = Part()
    p.header, p.body, p.h = header, body, hparse(header)
    ct = p.h.get("Content-Type")
    if ct:
        full = p.h.get_content_type()
        params = p.h.get_params()[1:] or []
    else:
        full = default
        params = [("charset", "us-ascii")] if default == "text/plain" else []
    p.type, p.subtype = full.split("/", 1)
    p.params = [(k, email.utils.collapse_rfc2231_value(v)) for k, v in params]
    p.children, p.message = [], None
    if p.type == "multipart":
        b = dict((k.lower(), v) for k, v in p.params)["boundary"].encode()
        text = b"\r\n" + body
        marks = list(re.finditer(rb"\r\n--" + re.escape(b) + rb"(--)?", text))
        for i, m in enumerate(marks):
            if m.group(1):
                break
            start = text.index(b"\r\n", m.end()) + 2
            end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
            dflt = ("message/rfc822" if p.subtype == "digest"
                    else "text/plain")
            p.children.append(mime_tree(*split_hb(text[start:end]),
                                        default=dflt))
    elif (p.type, p.subtype) == ("message", "rfc822"):
        p.message = mime_tree(*split_hb(body))
    return p


def nlines(b):
    return b.count(b"\r\n") + (1 if b and not b.endswith(b"\r\n") else 0)


def sub_part(p, num):
    """Part `num` (1-based) of p in the BODY[section] numbering."""
    if p.type == "multipart":
        return p.children[num - 1]
    if p.message is not None:
        return sub_part(p.message, num)
    if num != 1:
        raise KeyError(num)
    return p


def ref_section(raw, section):
    """BODY[section] as RFC 3501 section 6.4.5 defines it."""
    root = mime_tree(*split_hb(raw))
    if section == "":
        return raw
    parts = section.split(".")
    p, msg = root, root          # msg: the message the part numbers index
    i = 0
    while i < len(parts) and parts[i].isdigit():
        p = sub_part(msg if i == 0 else p, int(parts[i]))
        i += 1
    rest = ".".join(parts[i:]).upper()
    if rest == "":
        return p.body
    if rest == "MIME":
        return p.header
    target = p.message if (i > 0 and p.message is not None) else p
    if rest == "HEADER":
        return target.header
    if rest == "TEXT":
        return target.body
    raise ValueError(section)


def env_addrs(value):
    if value is None:
        return None
    return [(n or None, None, a.split("@")[0], a.split("@")[1])
            for n, a in email.utils.getaddresses([value])]


def ref_envelope(p):
    """ENVELOPE of a simple message (no groups, ASCII headers)."""
    h = p.h

    def g(n):
        v = h.get(n)
        return None if v is None else re.sub(r"\r?\n[ \t]", " ", v)
    frm = env_addrs(g("From"))
    return [g("Date"), g("Subject"), frm,
            env_addrs(g("Sender")) or frm, env_addrs(g("Reply-To")) or frm,
            env_addrs(g("To")), env_addrs(g("Cc")), env_addrs(g("Bcc")),
            g("In-Reply-To"), g("Message-ID")]


def hval(p, name):
    v = p.h.get(name)
    return None if v is None else re.sub(r"\r?\n[ \t]", " ", v).strip()


def ref_params(p):
    return [x for kv in p.params for x in kv] or None


def ref_dsp(p):
    v = p.h.get("Content-Disposition")
    if v is None:
        return None
    kind = v.split(";")[0].strip()
    ps = p.h.get_params(header="content-disposition")[1:]
    return [kind, [x for k, val in ps for x in (k, val)] or None]


def ref_bs(p, ext=True):
    """Expected BODY / BODYSTRUCTURE of a part (RFC 3501 section 7.4.2)."""
    lang = hval(p, "Content-Language")
    lang = [x.strip() for x in lang.split(",")] if lang else None
    if p.type == "multipart":
        r = [ref_bs(c, ext) for c in p.children] + [p.subtype]
        if ext:
            r += [ref_params(p), ref_dsp(p), lang,
                  hval(p, "Content-Location")]
        return r
    r = [p.type, p.subtype, ref_params(p), hval(p, "Content-ID"),
         hval(p, "Content-Description"),
         hval(p, "Content-Transfer-Encoding") or "7BIT", len(p.body)]
    if p.message is not None:
        r += [ref_envelope(p.message), ref_bs(p.message, ext),
              nlines(p.body)]
    elif p.type == "text":
        r += [nlines(p.body)]
    if ext:
        r += [hval(p, "Content-MD5"), ref_dsp(p), lang,
              hval(p, "Content-Location")]
    return r


def dec2047(v):
    if v is None:
        return None
    if isinstance(v, bytes):
        v = v.decode("utf-8", "replace")
    try:
        return str(email.header.make_header(email.header.decode_header(v)))
    except Exception:
        return v


def norm_addr_list(lst):
    if lst is None:
        return None
    return [(dec2047(a[0]), s(a[1]), s(a[2]), s(a[3])) for a in lst]


def norm_env(e):
    """An ENVELOPE (parsed or reference) for comparison: encoded words
    decoded (a server may re-encode them), 10 fields."""
    if len(e) != 10:
        raise ValueError("ENVELOPE has %d fields, not 10" % len(e))
    return [s(e[0]), dec2047(e[1])] + \
        [norm_addr_list(x) for x in e[2:8]] + [s(e[8]), s(e[9])]


def up(x):
    return None if x is None else s(x).upper()


def norm_params(ps):
    if ps is None or ps == []:
        return None
    out = []
    for i in range(0, len(ps) - 1, 2):
        k, v = up(ps[i]), s(ps[i + 1])
        if k == "CHARSET":
            v = v.upper()
        out.append((k, v))
    return sorted(out)


def norm_dsp(d):
    if d is None:
        return None
    return [up(d[0]), norm_params(d[1])]


def norm_lang(x):
    if x is None:
        return None
    if isinstance(x, list):
        return [s(v).lower() for v in x]
    return [s(x).lower()]


def pad4(ext):
    ext = list(ext) + [None] * (4 - len(ext))
    return ext[:4] + list(ext[4:])


def norm_bs(b, ext):
    """A BODY/BODYSTRUCTURE for comparison: case of types, subtypes,
    encodings and parameter names folded; numbers as ints; missing
    trailing extension fields are NIL (the grammar lets them go)."""
    if isinstance(b[0], list):
        i, kids = 0, []
        while isinstance(b[i], list):
            kids.append(norm_bs(b[i], ext))
            i += 1
        r = kids + [up(b[i])]
        if ext:
            e = pad4(b[i + 1:])
            r += [norm_params(e[0]), norm_dsp(e[1]), norm_lang(e[2]),
                  s(e[3])]
        elif len(b) > i + 1:
            raise ValueError("BODY with extension data: %r" % (b[i + 1:],))
        return r
    r = [up(b[0]), up(b[1]), norm_params(b[2]), s(b[3]), s(b[4]), up(b[5]),
         int(b[6])]
    rest = b[7:]
    if r[0] == "MESSAGE" and r[1] == "RFC822":
        r += [norm_env(rest[0]), norm_bs(rest[1], ext), int(rest[2])]
        rest = rest[3:]
    elif r[0] == "TEXT":
        r += [int(rest[0])]
        rest = rest[1:]
    if ext:
        e = pad4(rest)
        r += [s(e[0]), norm_dsp(e[1]), norm_lang(e[2]), s(e[3])]
    elif rest:
        raise ValueError("BODY with extension data: %r" % (rest,))
    return r


def eight_bit_quoted(tok):
    """Strings with 8-bit octets sent as quoted strings (RFC 3501 section 9:
    quoted strings are 7-bit; 8-bit text needs a literal)."""
    bad = []
    if isinstance(tok, list):
        for x in tok:
            bad += eight_bit_quoted(x)
    elif isinstance(tok, Str) and not tok.literal and \
            any(c > 127 for c in tok):
        bad.append(bytes(tok))
    return bad


def imap_date(t):
    return time.strftime("%d-%b-%Y", time.gmtime(t))


def parse_internaldate(v):
    return email.utils.mktime_tz(email.utils.parsedate_tz(
        re.sub(r"^(\d+)-(\w+)-(\d+)", r"\1 \2 \3", s(v).strip())))


# ---------------------------------------------------------------------------

t = TAP()


check = t.check


def imap_ssl(port, user=U, pw=PW):
    m = imaplib.IMAP4_SSL(HOST, port, ssl_context=client_tls(), timeout=20)
    if user:
        m.login(user, pw)
    return m


def deliver(srv, subject, body="hello\r\n", to=U):
    with smtplib.SMTP(HOST, srv.port("smtp"), timeout=10) as c:
        c.sendmail("sender@remote.test", [to],
                   ("From: Sender <sender@remote.test>\r\nTo: %s\r\n"
                    "Subject: %s\r\nMessage-ID: <%s@remote.test>\r\n\r\n%s"
                    % (to, subject, re.sub(r"\W", "", subject) +
                       str(time.time()), body)).encode())


def files_outside(root, skip):
    """Every path under root, except the user's Maildir (skip)."""
    out = set()
    for d, dirs, files in os.walk(root):
        if d.startswith(skip):
            continue
        for n in dirs + files:
            out.add(os.path.join(d, n))
    return out


FIXTURES = ["rfc3501-fetch.eml", "rfc3501-multipart.eml",
            "nested-multipart.eml", "encoded-words.eml", "8bit-header.eml",
            "mime-edge-cases.eml"]
# RFC 3501 section 7.4.2, verbatim
RFC_ENVELOPE = parse(
    b'("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev1 WG mtg summary '
    b'and minutes" (("Terry Gray" NIL "gray" "cac.washington.edu")) '
    b'(("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL '
    b'"gray" "cac.washington.edu")) ((NIL NIL "imap" "cac.washington.edu"))'
    b' ((NIL NIL "minutes" "CNRI.Reston.VA.US") ("John Klensin" NIL '
    b'"KLENSIN" "MIT.EDU")) NIL NIL "<B27397-0100000@cac.washington.edu>")'
)[0]
RFC_BODY = parse(b'("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" '
                 b'3028 92)')[0]
RFC_MULTI_BODY = parse(
    b'(("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1152 23)'
    b'("TEXT" "PLAIN" ("CHARSET" "US-ASCII" "NAME" "cc.diff") '
    b'"<960723163407.20117h@cac.washington.edu>" "Compiler diff" '
    b'"BASE64" 4554 73) "MIXED")')[0]
# ENVELOPEs of the other fixtures, written from RFC 3501's rules by hand:
# groups are (NIL NIL "name" NIL) ... (NIL NIL NIL NIL), Sender and
# Reply-To default to From, values are the header text (encoded words are
# compared decoded, so re-encoding is allowed).
EW_ENVELOPE = [
    "Wed, 04 Nov 2026 10:00:00 +0000",
    "=?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_M=C3=BCnchen?= "
    "=?ISO-8859-1?Q?_und_K=F6ln?=",
    [("=?UTF-8?Q?J=C3=B6rg_Schr=C3=B6der?=", None, "joerg", "example.de")],
    [("Mailing list", None, "list-owner", "lists.example.org")],
    [("Doe, Jane", None, "jane", "example.net")],
    [(None, None, "Project team", None), (None, None, "alice", "example.org"),
     ("=?ISO-8859-1?Q?Andr=E9?=", None, "andre", "example.fr"),
     (None, None, None, None)],
    [("=?UTF-8?B?5bGx55Sw5aSq6YOO?=", None, "yamada", "example.jp"),
     (None, None, "plain", "example.com")],
    [(None, None, "hidden", "example.com")],
    "<prev-42@example.de>", "<ew-1@example.de>"]
# an empty group; Reply-To present but empty (defaults to From); two
# message ids in In-Reply-To, kept as they are
DANA = ("Dana", None, "dana", "example.org")
EDGE_ENVELOPE = [
    "Fri, 06 Nov 2026 07:00:00 -0500", "edge cases", [DANA], [DANA], [DANA],
    [(None, None, "undisclosed-recipients", None), (None, None, None, None)],
    None, None, "<a@example.org> <b@example.org>", "<edge-1@example.org>"]
JM = ("Jürgen Müller", None, "juergen", "example.de")
EIGHT_ENVELOPE = [
    "Thu, 05 Nov 2026 08:30:00 +0100", "Résumé für Jürgen – naïve café",
    [JM], [JM], [JM], [("Zoë", None, "zoe", "example.org")], None, None,
    None, "<8bit-1@example.de>"]


def main():
    srv = Server(services=("smtp", "imap", "imaps"),
                 overrides=["auth.failure_delay_max=1s",
                            "imapd.append_limit=4M"])
    srv.setup(users=[(U, PW), (U2, PW2),
                     ("lee@example.test", 'sp ace"q\\b')])
    try:
        srv.start()
        run(srv)
    finally:
        srv.cleanup()
    limits()
    t.done()


def run(srv):
    P143, P993 = srv.port("imap"), srv.port("imaps")

    # ---------------- port 143 before TLS ----------------
    def plain_143():
        c = Conn(P143, tls=False)
        t.ok(c.greeting.startswith(b"* OK"), "143: greeting * OK",
             c.greeting)
        st, line, unt = c.cmd("CAPABILITY")
        caps = b" ".join(unt).upper().split()
        t.ok(st == "OK" and b"IMAP4REV1" in caps and b"STARTTLS" in caps and
             b"LOGINDISABLED" in caps, "143 in the clear: CAPABILITY has "
             "IMAP4rev1 STARTTLS LOGINDISABLED", unt)
        st, line, _ = c.login()
        t.ok(st in ("NO", "BAD"), "LOGIN before STARTTLS refused (RFC 3501 "
             "section 6.2.3, LOGINDISABLED)", line)
        ir = base64.b64encode(("\0%s\0%s" % (U, PW)).encode()).decode()
        st, line, _ = c.cmd("AUTHENTICATE PLAIN " + ir)
        t.ok(st in ("NO", "BAD"), "AUTHENTICATE PLAIN before STARTTLS "
             "refused", line)
        st, line, _ = c.cmd("SELECT INBOX")
        t.ok(st in ("NO", "BAD"), "SELECT before login refused", line)
        st, line, _ = c.cmd("NOOP")
        t.eq(st, "OK", "NOOP works in the not-authenticated state")
        c.close()

        # STARTTLS command injection: what was pipelined in the clear after
        # STARTTLS must be thrown away (RFC 3501 section 6.2.1)
        c = Conn(P143, tls=False)
        c.send("s1 STARTTLS\r\ns2 LOGIN \"%s\" \"%s\"\r\n" % (U, PW))
        first = c.line()
        c.starttls()
        st, line, _ = c.cmd("SELECT INBOX")
        t.ok(first.startswith(b"s1 OK") and st in ("NO", "BAD"),
             "STARTTLS: a LOGIN pipelined in the clear is not executed",
             (first, line, c.log()))
        st, line, unt = c.cmd("CAPABILITY")
        caps = b" ".join(unt).upper().split()
        t.ok(b"STARTTLS" not in caps and b"LOGINDISABLED" not in caps and
             b"AUTH=PLAIN" in caps, "after STARTTLS: no STARTTLS, no "
             "LOGINDISABLED, AUTH=PLAIN", unt)
        st, line, _ = c.cmd("STARTTLS")
        t.ok(st in ("NO", "BAD"), "a second STARTTLS is refused", line)
        c.close()

        m = imaplib.IMAP4(HOST, P143, timeout=20)
        m.starttls(ssl_context=client_tls())
        typ, _ = m.login(U, PW)
        t.eq(typ, "OK", "imaplib: STARTTLS on 143, then LOGIN")
        typ, data = m.select("INBOX")
        t.eq(typ, "OK", "SELECT INBOX after STARTTLS")
        m.logout()
    check("port 143", plain_143)

    # ---------------- 993: capabilities and authentication ----------------
    def caps_993():
        c = Conn(P993)
        t.ok(c.greeting.startswith(b"* OK"), "993: greeting * OK",
             c.greeting)
        st, line, unt = c.cmd("CAPABILITY")
        caps = set(b" ".join(unt).decode().upper().split()[2:])
        want = {"IMAP4REV1", "SASL-IR", "AUTH=PLAIN", "AUTH=LOGIN",
                "LITERAL+", "ID"}
        t.eq(sorted(want - caps), [], "993 before login: CAPABILITY has "
             "IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=LOGIN LITERAL+ ID")
        t.ok("STARTTLS" not in caps and "LOGINDISABLED" not in caps,
             "993: no STARTTLS, no LOGINDISABLED", caps)
        d = Conn(P993)
        d.login()
        st, line, unt = d.cmd("CAPABILITY")
        caps = set(b" ".join(unt).decode().upper().split()[2:])
        want = {"IMAP4REV1", "IDLE", "UIDPLUS", "MOVE", "NAMESPACE", "ID",
                "ENABLE", "UNSELECT", "CHILDREN", "SPECIAL-USE", "LITERAL+",
                "CONDSTORE", "QRESYNC", "LIST-EXTENDED", "LIST-STATUS",
                "ESEARCH", "APPENDLIMIT=4194304"}
        t.eq(sorted(want - caps), [], "993 after login: CAPABILITY lists "
             "every extension of the issue (APPENDLIMIT = "
             "imapd.append_limit)")
        d.close()
        st, line, _ = c.cmd("STARTTLS")
        t.ok(st in ("NO", "BAD"), "STARTTLS on 993 refused", line)
        st, line, unt = c.cmd("NOOP")
        t.eq(st, "OK", "NOOP")
        st, line, unt = c.cmd("LOGOUT")
        t.ok(st == "OK" and any(r.startswith(b"* BYE") for r in unt),
             "LOGOUT: * BYE then tagged OK", (line, unt))
        t.ok(c.closed(), "LOGOUT closes the connection")
        c.close()

        m = imaplib.IMAP4_SSL(HOST, P993, ssl_context=client_tls(),
                              timeout=20)
        try:
            m.login(U, "wrong")
            t.ok(False, "LOGIN with a wrong password refused")
        except imaplib.IMAP4.error:
            t.ok(True, "LOGIN with a wrong password: NO")
        typ, _ = m.login(U, PW)
        t.eq(typ, "OK", "imaplib LOGIN over 993 (after one failure)")
        typ, caps = m.capability()
        t.ok(typ == "OK" and b"LOGINDISABLED" not in caps[0],
             "CAPABILITY after login", caps)
        m.logout()

        def sasl(lines, expect_cont):
            c = Conn(P993)
            tag = c.tag()
            c.send("%s %s\r\n" % (tag, lines[0]))
            conts = []
            for ln in lines[1:]:
                r = c.response()
                conts.append(r)
                if not r.startswith(b"+"):
                    break
                c.send(ln + "\r\n")
            st, line, _ = c.wait(tag)
            c.close()
            return st, line, conts
        b64 = lambda x: base64.b64encode(x.encode()).decode()  # noqa
        st, line, conts = sasl(["AUTHENTICATE PLAIN " +
                                b64("\0%s\0%s" % (U, PW))], 0)
        t.eq(st, "OK", "AUTHENTICATE PLAIN with SASL-IR (RFC 4959)")
        st, line, conts = sasl(["AUTHENTICATE PLAIN",
                                b64("\0%s\0%s" % (U, PW))], 1)
        t.ok(st == "OK" and len(conts) == 1 and conts[0].startswith(b"+"),
             "AUTHENTICATE PLAIN: '+' continuation, then the response",
             (line, conts))
        st, line, conts = sasl(["AUTHENTICATE PLAIN", "="], 1)
        t.ok(st in ("NO", "BAD"), "AUTHENTICATE PLAIN with an empty "
             "response refused", line)
        st, line, conts = sasl(["AUTHENTICATE LOGIN", b64(U), b64(PW)], 2)
        t.ok(st == "OK" and len(conts) == 2, "AUTHENTICATE LOGIN: two "
             "challenges", (line, conts))
        st, line, conts = sasl(["AUTHENTICATE PLAIN", "*"], 1)
        t.eq(st, "BAD", "'*' cancels AUTHENTICATE with a tagged BAD (RFC "
             "3501 section 6.2.2)")
        st, line, conts = sasl(["AUTHENTICATE PLAIN " +
                                b64("%s\0%s\0%s" % (U2, U, PW))], 0)
        t.eq(st, "NO", "AUTHENTICATE PLAIN as another user (authzid) "
             "refused")
        st, line, conts = sasl(["AUTHENTICATE PLAIN " +
                                b64("\0%s\0wrong" % U)], 0)
        t.eq(st, "NO", "AUTHENTICATE PLAIN with a wrong password: NO")
        st, line, conts = sasl(["AUTHENTICATE X-UNKNOWN"], 0)
        t.ok(st in ("NO", "BAD"), "unknown SASL mechanism refused", line)

        # LOGIN with literals: synchronizing ({n}: wait for "+") and
        # non-synchronizing ({n+}, LITERAL+ / RFC 7888)
        c = Conn(P993)
        tag = c.tag()
        c.send("%s LOGIN {%d}\r\n" % (tag, len(U)))
        r1 = c.response()
        c.send("%s {%d}\r\n" % (U, len(PW)))
        r2 = c.response()
        c.send(PW + "\r\n")
        st, line, _ = c.wait(tag)
        t.ok(r1.startswith(b"+") and r2.startswith(b"+") and st == "OK",
             "LOGIN with synchronizing literals", (r1, r2, line))
        c.close()
        c = Conn(P993)
        st, line, unt = c.cmd("LOGIN {%d+}\r\n%s {%d+}\r\n%s" %
                              (len(U), U, len(PW), PW))
        t.ok(st == "OK" and not any(r.startswith(b"+") for r in unt),
             "LOGIN with non-synchronizing literals: no continuation",
             (line, unt))
        st, line, _ = c.cmd("LOGIN x y")
        t.ok(st in ("NO", "BAD"), "LOGIN when already logged in refused",
             line)
        c.close()
    check("993 auth", caps_993)

    # ---------------- folders ----------------
    def folders():
        c = Conn(P993)
        c.login()
        unt = c.ok('LIST "" "*"')
        lst = untagged_kind(unt, "LIST")
        names = {s(x[2]): [a.upper() for a in x[0]] for x in lst}
        t.eq(sorted(names), sorted(["INBOX", "Sent", "Drafts", "Trash",
                                    "Junk", "Archive"]),
             "LIST \"\" \"*\" after first login: the six folders")
        t.ok(all(s(x[1]) == "/" for x in lst), "hierarchy separator is /",
             lst)
        for n, a in (("Sent", "\\SENT"), ("Drafts", "\\DRAFTS"),
                     ("Trash", "\\TRASH"), ("Junk", "\\JUNK"),
                     ("Archive", "\\ARCHIVE")):
            t.ok(a in names.get(n, []), "LIST: %s has %s (RFC 6154)" %
                 (n, a), names.get(n))
        unt = c.ok('LIST "" ""')
        lst = untagged_kind(unt, "LIST")
        t.ok(len(lst) == 1 and s(lst[0][1]) == "/" and s(lst[0][2]) == ""
             and "\\NOSELECT" in [a.upper() for a in lst[0][0]],
             'LIST "" "": the separator and root (\\Noselect)', unt)
        unt = c.ok("NAMESPACE")
        ns = untagged_kind(unt, "NAMESPACE")
        t.ok(ns and ns[0][0] and s(ns[0][0][0][0]) == "" and
             s(ns[0][0][0][1]) == "/", "NAMESPACE: personal (\"\" \"/\")",
             unt)
        unt = c.ok('ID ("name" "t/70-imap.t" "version" "1")')
        idr = untagged_kind(unt, "ID")
        t.ok(len(idr) == 1, "ID (RFC 2971): one * ID answer", unt)
        st, line, _ = c.cmd("ID NIL")
        t.eq(st, "OK", "ID NIL")

        # CREATE / hierarchy / CHILDREN
        t.eq(c.cmd('CREATE "Projects/2026"')[0], "OK",
             "CREATE Projects/2026")
        t.eq(c.cmd('CREATE "Projects/2026"')[0], "NO",
             "CREATE of an existing name: NO")
        t.eq(c.cmd('CREATE "INBOX"')[0], "NO", "CREATE INBOX: NO")
        t.eq(c.cmd('CREATE "v1.2"')[0], "OK", 'CREATE "v1.2" (a dot is '
             'not a separator here)')
        t.eq(c.cmd('CREATE "&AOk-t&AOk-"')[0], "OK",
             'CREATE "&AOk-t&AOk-" (modified UTF-7 for "été")')
        unt = c.ok('LIST "" "*"')
        names = {s(x[2]): [a.upper() for a in x[0]]
                 for x in untagged_kind(unt, "LIST")}
        t.ok("\\HASCHILDREN" in names.get("Projects", []) and
             "\\HASNOCHILDREN" in names.get("Projects/2026", []),
             "CHILDREN (RFC 3348): Projects \\HasChildren, Projects/2026 "
             "\\HasNoChildren", names)
        t.ok("v1.2" in names and "v1/2" not in names and "v1" not in names,
             "v1.2 listed as one name", names)
        t.ok("&AOk-t&AOk-" in names, "modified UTF-7 name listed "
             "unchanged", names)
        unt = c.ok('LIST "" "%"')
        top = {s(x[2]) for x in untagged_kind(unt, "LIST")}
        t.ok("Projects" in top and "Projects/2026" not in top,
             'LIST "" "%": % does not match the separator', top)
        unt = c.ok('LIST "Projects/" "%"')
        t.eq([s(x[2]) for x in untagged_kind(unt, "LIST")],
             ["Projects/2026"], "LIST with a reference name")
        unt = c.ok('LIST "" "inbox"')
        t.eq([s(x[2]) for x in untagged_kind(unt, "LIST")], ["INBOX"],
             "INBOX is case-insensitive")
        # the name on disk: inside the user's Maildir
        md = srv.maildir(U)
        t.ok(any("v1" in d for d in os.listdir(md)) and
             not os.path.exists(os.path.join(srv.data_dir, "v1.2")),
             "folders live inside the user's Maildir", os.listdir(md))
        st, line, unt = c.cmd('SELECT "&AOk-t&AOk-"')
        t.eq(st, "OK", "SELECT the modified UTF-7 name")
        st, line, _ = c.cmd('APPEND "&AOk-t&AOk-" {%d+}\r\n%s' % (
            len("Subject: x\r\n\r\nx\r\n"), "Subject: x\r\n\r\nx\r\n"))
        t.eq(st, "OK", "APPEND into it")
        c.cmd("UNSELECT")

        # bad names: never outside the Maildir
        before = files_outside(srv.tmp, md)
        before_md = set(os.listdir(md))
        for bad in ("../x", "a/../../b", "..", "a/..", "../../../../tmp/x",
                    "x/../../../y", "&AOk"):
            st, line, _ = c.cmd('CREATE "%s"' % bad)
            t.ok(st in ("NO", "BAD"), "CREATE %r refused" % bad, line)
        for cmd in ('SELECT "../x"', 'STATUS "../../mail" (MESSAGES)',
                    'RENAME "Projects" "../escaped"',
                    'RENAME "Projects" "a/../../b"',
                    'DELETE "../example.test"', 'SUBSCRIBE "../x"',
                    'EXAMINE "a/../../b"', 'APPEND "../x" {3+}\r\nx\r\n',
                    'NOOP'):
            try:
                st, line, _ = c.cmd(cmd)
            except (EOFError, OSError) as e:
                st, line = "closed", repr(e)
                c.close()
                c = Conn(P993)
                c.login()
            if cmd == "NOOP":
                t.eq(st, "OK", "the session goes on after the APPEND (its "
                     "{3+} literal read and dropped)")
                continue
            t.ok(st in ("NO", "BAD"), "%s refused" % cmd.split("{")[0],
                 (line, c.log()))
        after = files_outside(srv.tmp, md)
        new_out = sorted(p for p in after - before
                         if not p.endswith(".log") and "/queue/" not in p)
        t.eq(new_out, [], "nothing was created outside the Maildir")
        weird = [d for d in set(os.listdir(md)) - before_md
                 if d.startswith(".")]
        t.eq(weird, [], "and nothing new inside it either")
        unt = c.ok('LIST "" "*"')
        names = {s(x[2]) for x in untagged_kind(unt, "LIST")}
        t.ok(not any(".." in n for n in names), "no .. name in LIST",
             names)

        # RENAME with children, RENAME INBOX, DELETE
        c.ok('CREATE "Old/Sub"')
        c.ok('APPEND "Old/Sub" {%d+}\r\n%s' % (len(
            "Subject: old\r\n\r\nold\r\n"), "Subject: old\r\n\r\nold\r\n"))
        st, line, _ = c.cmd('RENAME "Old" "New"')
        unt = c.ok('LIST "" "*"')
        names = {s(x[2]) for x in untagged_kind(unt, "LIST")}
        t.ok(st == "OK" and "New/Sub" in names and "Old/Sub" not in names
             and "Old" not in names, "RENAME renames the inferior names "
             "too (RFC 3501 section 6.3.5)", (line, names))
        unt = c.ok('STATUS "New/Sub" (MESSAGES)')
        stt = untagged_kind(unt, "STATUS")
        t.ok(stt and int(stt[0][1][1]) == 1, "the message moved with it",
             unt)
        c.ok('CREATE "Solo"')
        t.eq(c.cmd('RENAME "Solo" "Sent"')[0], "NO",
             "RENAME onto an existing name: NO")
        t.eq(c.cmd('RENAME "Nonexistent" "Other"')[0], "NO",
             "RENAME of a missing name: NO")
        t.eq(c.cmd('DELETE "New/Sub"')[0], "OK", "DELETE New/Sub")
        t.eq(c.cmd('DELETE "New/Sub"')[0], "NO", "DELETE it again: NO")
        t.eq(c.cmd('DELETE "INBOX"')[0], "NO", "DELETE INBOX: NO")
        t.eq(c.cmd('SELECT "New/Sub"')[0], "NO", "SELECT a deleted "
             "folder: NO")

        # SUBSCRIBE / LSUB / LIST-EXTENDED / LIST-STATUS
        c.ok('SUBSCRIBE "Projects/2026"')
        unt = c.ok('LSUB "" "*"')
        lsub = {s(x[2]) for x in untagged_kind(unt, "LSUB")}
        t.ok("Projects/2026" in lsub, "SUBSCRIBE then LSUB", unt)
        unt = c.ok('LIST (SUBSCRIBED) "" "*"')
        sub = {s(x[2]): [a.upper() for a in x[0]]
               for x in untagged_kind(unt, "LIST")}
        t.ok("Projects/2026" in sub and "\\SUBSCRIBED" in
             sub["Projects/2026"] and "v1.2" not in sub,
             "LIST (SUBSCRIBED) (RFC 5258)", sub)
        c.ok('UNSUBSCRIBE "Projects/2026"')
        unt = c.ok('LSUB "" "*"')
        t.ok("Projects/2026" not in {s(x[2]) for x in
                                     untagged_kind(unt, "LSUB")},
             "UNSUBSCRIBE", unt)
        unt = c.ok('LIST (SPECIAL-USE) "" "*"')
        su = sorted(s(x[2]) for x in untagged_kind(unt, "LIST"))
        t.eq(su, sorted(["Sent", "Drafts", "Trash", "Junk", "Archive"]),
             "LIST (SPECIAL-USE) only the special folders (RFC 6154)")
        unt = c.ok('LIST "" "*" RETURN (SPECIAL-USE)')
        su = {s(x[2]): [a.upper() for a in x[0]]
              for x in untagged_kind(unt, "LIST")}
        t.ok("\\TRASH" in su.get("Trash", []) and "INBOX" in su and
             "Projects/2026" in su, "LIST RETURN (SPECIAL-USE): every folder, "
             "with the attributes", su)
        c.ok('SUBSCRIBE "Sent"')
        unt = c.ok('LIST "" "%" RETURN (SUBSCRIBED CHILDREN)')
        sc = {s(x[2]): [a.upper() for a in x[0]]
              for x in untagged_kind(unt, "LIST")}
        t.ok("\\SUBSCRIBED" in sc.get("Sent", []) and
             "\\HASCHILDREN" in sc.get("Projects", []) and
             "\\SUBSCRIBED" not in sc.get("Projects", []),
             "LIST RETURN (SUBSCRIBED CHILDREN)", sc)
        c.ok('UNSUBSCRIBE "Sent"')
        unt = c.ok('LIST "" ("INBOX" "Sent")')
        t.eq(sorted(s(x[2]) for x in untagged_kind(unt, "LIST")),
             ["INBOX", "Sent"], "LIST with several patterns (RFC 5258)")
        unt = c.ok('LIST "" "*" RETURN (STATUS (MESSAGES UIDNEXT))')
        stt = {s(x[0]): x[1] for x in untagged_kind(unt, "STATUS")}
        t.ok("INBOX" in stt and "&AOk-t&AOk-" in stt and
             int(dict(zip(stt["&AOk-t&AOk-"][::2],
                          stt["&AOk-t&AOk-"][1::2]))["MESSAGES"]) == 1,
             "LIST-STATUS (RFC 5819): STATUS for every listed folder",
             unt)
        nosel = [s(x[2]) for x in untagged_kind(unt, "LIST")
                 if "\\NOSELECT" in [a.upper() for a in x[0]]]
        t.ok(not any(n in stt for n in nosel) and "Fixtures" not in nosel,
             "LIST-STATUS: no STATUS for \\Noselect names", (nosel, stt))
        c.ok("LOGOUT")
        c.close()
    check("folders", folders)

    # ---------------- APPEND ----------------
    raws = {n: fixture(n) for n in FIXTURES}
    uids = {}
    dates = {"rfc3501-fetch.eml": '"17-Jul-1996 02:44:25 -0700"',
             "rfc3501-multipart.eml": '"23-Jul-1996 16:34:07 -0700"'}

    def append():
        c = Conn(P993)
        c.login()
        c.ok('CREATE "Fixtures"')
        unt = c.ok('STATUS "Fixtures" (UIDVALIDITY UIDNEXT)')
        st0 = untagged_kind(unt, "STATUS")[0][1]
        st0 = dict(zip([x.upper() for x in st0[::2]], st0[1::2]))
        for i, name in enumerate(FIXTURES):
            raw = raws[name]
            flags = "(\\Seen)" if i == 0 else "()"
            date = dates.get(name, "")
            tag = c.tag()
            # synchronizing literal: the server must say "+" first
            c.send(" ".join(x for x in (tag, 'APPEND "Fixtures"', flags,
                                         date, "{%d}" % len(raw)) if x) +
                   "\r\n")
            r = c.response()
            if not r.startswith(b"+"):
                t.ok(False, "APPEND %s: continuation" % name, r)
                continue
            c.send(raw + b"\r\n")
            st, line, _ = c.wait(tag)
            au = code(line, "APPENDUID")
            t.ok(st == "OK" and au is not None and
                 au.split()[0] == s(st0["UIDVALIDITY"]),
                 "APPEND %s: OK [APPENDUID uidvalidity uid] (RFC 4315)" %
                 name, line)
            if au:
                uids[name] = int(au.split()[1])
        t.eq(sorted(uids.values()), sorted(set(uids.values())),
             "APPENDUIDs are distinct")
        t.ok(min(uids.values() or [0]) >= int(st0["UIDNEXT"]),
             "APPENDUID >= the UIDNEXT before", (uids, st0))
        # non-synchronizing literal: no "+"
        msg = b"Subject: lit+\r\n\r\nnon-synchronizing\r\n"
        st, line, unt = c.cmd(b'APPEND "Fixtures" (\\Flagged $Work) {%d+}'
                              b'\r\n' % len(msg) + msg)
        t.ok(st == "OK" and not any(r.startswith(b"+") for r in unt),
             "APPEND with a non-synchronizing literal (LITERAL+)", (line,
                                                                    unt))
        if code(line, "APPENDUID"):
            uids["lit+"] = int(code(line, "APPENDUID").split()[1])
        raws["lit+"] = msg
        st, line, _ = c.cmd(b'APPEND "No/Such" {%d+}\r\n' % len(msg) + msg)
        t.ok(st == "NO" and code(line, "TRYCREATE") is not None,
             "APPEND to a missing folder: NO [TRYCREATE]", line)
        # the refused command's non-synchronizing literal was sent anyway:
        # the server reads it and goes on (RFC 7888 section 3)
        try:
            st, line, _ = c.cmd("NOOP")
        except (EOFError, OSError) as e:
            st, line = "closed", repr(e)
            c.close()
            c = Conn(P993)
            c.login()
        t.ok(st == "OK", "after a refused APPEND with a {n+} literal the "
             "session goes on", (line, c.log()))
        st, line, _ = c.cmd(b'APPEND "Fixtures" (\\Recent) {%d}\r\n' %
                            len(msg) + msg)
        t.ok(st in ("NO", "BAD"), "APPEND with \\Recent refused (RFC 3501 "
             "section 6.3.11: \\Recent cannot be set)", line)
        # over APPENDLIMIT: refused before the data (RFC 7889)
        tag = c.tag()
        c.send('%s APPEND "Fixtures" {%d}\r\n' % (tag, 5 * 1048576))
        r = c.response()
        t.ok(r.startswith(tag.encode() + b" NO") and
             code(r, "TOOBIG") is not None, "APPEND over APPENDLIMIT: NO "
             "[TOOBIG] instead of '+'", r)
        st, line, _ = c.cmd("NOOP")
        t.eq(st, "OK", "the session goes on after it")
        # imaplib's APPEND (Thunderbird saving a sent message)
        m = imap_ssl(P993)
        typ, data = m.append("Sent", "(\\Seen)",
                             imaplib.Time2Internaldate(time.time()),
                             raws["nested-multipart.eml"])
        t.ok(typ == "OK" and b"APPENDUID" in data[0].upper(),
             "imaplib APPEND to Sent with \\Seen", data)
        typ, data = m.select("Sent")
        t.eq(data, [b"1"], "Sent has 1 message")
        typ, data = m.fetch("1", "(FLAGS BODY.PEEK[])")
        t.ok(typ == "OK" and data[0][1] == raws["nested-multipart.eml"] and
             b"\\Seen" in data[0][0], "the appended message comes back "
             "byte for byte, \\Seen", data[0][0] if data else data)
        m.logout()
        c.close()
    check("append", append)

    # ---------------- SELECT / EXAMINE / FETCH ----------------
    def select_fetch():
        c = Conn(P993)
        c.login()
        st, line, unt = c.cmd('SELECT "Fixtures"')
        n = len(uids)
        t.ok(st == "OK" and code(line, "READ-WRITE") is not None,
             "SELECT: OK [READ-WRITE]", line)
        t.eq(numbers(unt, "EXISTS"), [n], "SELECT: * %d EXISTS" % n)
        t.eq(numbers(unt, "RECENT"), [n], "SELECT: * %d RECENT (first "
             "session to see them)" % n)
        joined = b"\n".join(unt)
        flags = [r for r in unt if r.upper().startswith(b"* FLAGS")]
        t.ok(flags and all(f in flags[0] for f in (b"\\Seen", b"\\Answered",
                                                   b"\\Flagged", b"\\Deleted",
                                                   b"\\Draft")),
             "SELECT: * FLAGS with the system flags", unt)
        t.ok(code(joined, "UIDVALIDITY") and code(joined, "UIDNEXT") and
             int(code(joined, "UIDNEXT")) > max(uids.values()),
             "SELECT: [UIDVALIDITY] and [UIDNEXT]", unt)
        pf = code(joined, "PERMANENTFLAGS")
        t.ok(pf is not None and "\\*" in pf and "\\Seen" in pf,
             "SELECT: [PERMANENTFLAGS (... \\*)]", pf)
        t.eq(code(joined, "UNSEEN"), "2", "SELECT: [UNSEEN 2] (first "
             "unseen message)")
        st2, line2, unt2 = c.cmd("CHECK")
        t.eq(st2, "OK", "CHECK")
        # the first session to select them: all \Recent
        unt = c.ok("SEARCH RECENT")
        t.eq(search_result(unt), list(range(1, n + 1)), "SEARCH RECENT: all "
             "(this session saw them first)")
        unt = c.ok("SEARCH NEW")
        t.eq(search_result(unt), list(range(2, n + 1)), "SEARCH NEW: recent "
             "and unseen (all but the \\Seen one)")
        unt = c.ok("SEARCH OLD")
        t.eq(search_result(unt), [], "SEARCH OLD: none")

        # every data item of the fixtures
        for name in FIXTURES:
            uid = uids.get(name)
            if uid is None:
                continue
            raw = raws[name]
            unt = c.ok("UID FETCH %d (UID FLAGS INTERNALDATE RFC822.SIZE "
                       "ENVELOPE BODY BODYSTRUCTURE BODY.PEEK[])" % uid)
            f = by_uid(unt).get(uid, {})
            rh = raw[:raw.find(b"\r\n\r\n") + 4]
            if all(c < 0x80 for c in rh):
                t.eq(f.get("BODY[]"), raw, "%s: BODY[] byte for byte" % name)
                t.eq(int(f.get("RFC822.SIZE", -1)), len(raw),
                     "%s: RFC822.SIZE" % name)
            else:
                # no ENABLE UTF8=ACCEPT: the surrogate (RFC 6855 §7,
                # t/88-imap-utf8-surrogate.t)
                got = f.get("BODY[]") or b""
                gh = got[:got.find(b"\r\n\r\n") + 4]
                t.ok(gh and all(c < 0x80 for c in gh) and
                     got[len(gh):] == raw[len(rh):],
                     "%s: BODY[] the surrogate: a 7-bit header, the body "
                     "byte for byte" % name, got)
                t.eq(int(f.get("RFC822.SIZE", -1)), len(got),
                     "%s: RFC822.SIZE the surrogate's" % name)
            root = mime_tree(*split_hb(raw))
            try:
                got = norm_bs(f["BODYSTRUCTURE"], True)
                want = norm_bs(ref_bs(root, True), True)
                t.eq(got, want, "%s: BODYSTRUCTURE" % name)
            except Exception as e:
                t.ok(False, "%s: BODYSTRUCTURE parses" % name,
                     "%s: %r" % (e, f.get("BODYSTRUCTURE")))
            try:
                got = norm_bs(f["BODY"], False)
                want = norm_bs(ref_bs(root, False), False)
                t.eq(got, want, "%s: BODY (no extension data)" % name)
            except Exception as e:
                t.ok(False, "%s: BODY parses" % name,
                     "%s: %r" % (e, f.get("BODY")))
            bad = eight_bit_quoted(f.get("ENVELOPE")) + \
                eight_bit_quoted(f.get("BODYSTRUCTURE"))
            t.eq(bad, [], "%s: no 8-bit octets in quoted strings" % name)
            if name == "rfc3501-fetch.eml":
                t.eq(norm_env(f.get("ENVELOPE", [])), norm_env(RFC_ENVELOPE),
                     "RFC 3501 example: ENVELOPE exactly as in section 7.4.2")
                t.eq(norm_bs(f.get("BODY"), False), norm_bs(RFC_BODY, False),
                     "RFC 3501 example: BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" "
                     "\"US-ASCII\") NIL NIL \"7BIT\" 3028 92)")
                t.eq(flags_of(f), ["\\SEEN"],
                     "RFC 3501 example: FLAGS (\\Seen)")
                t.eq(parse_internaldate(f.get("INTERNALDATE", "")),
                     parse_internaldate("17-Jul-1996 02:44:25 -0700"),
                     "INTERNALDATE is the APPEND date-time")
                t.eq(len(raw), 4286, "(fixture: RFC822.SIZE 4286 as in "
                     "the RFC)")
            elif name == "rfc3501-multipart.eml":
                t.eq(norm_bs(f.get("BODY"), False),
                     norm_bs(RFC_MULTI_BODY, False),
                     "RFC 3501 example: the multipart BODY of section 7.4.2")
            elif name == "encoded-words.eml":
                t.eq(norm_env(f.get("ENVELOPE", [])), norm_env(EW_ENVELOPE),
                     "ENVELOPE with encoded words, a group, Sender and "
                     "Reply-To")
                t.ok(s(f["ENVELOPE"][1]).startswith("=?"), "ENVELOPE "
                     "subject is the header text, not decoded",
                     f["ENVELOPE"][1])
            elif name == "mime-edge-cases.eml":
                t.eq(norm_env(f.get("ENVELOPE", [])), norm_env(EDGE_ENVELOPE),
                     "ENVELOPE with an empty group and an empty Reply-To")
                bs = f.get("BODYSTRUCTURE")
                try:
                    dig = bs[2][0]
                    ok = [up(dig[0]), up(dig[1])] == ["MESSAGE", "RFC822"]
                except (TypeError, IndexError, AttributeError):
                    ok = False
                t.ok(ok, "multipart/digest: a part without Content-Type is "
                     "message/rfc822 (RFC 2046 section 5.1.5)", bs)
            elif name == "8bit-header.eml":
                t.eq(norm_env(f.get("ENVELOPE", [])), norm_env(
                    EIGHT_ENVELOPE), "ENVELOPE of 8-bit (UTF-8) headers")
            else:
                t.eq(norm_env(f.get("ENVELOPE", [])),
                     norm_env(ref_envelope(root)), "%s: ENVELOPE" % name)
            t.eq(flags_of(f),
                 ["\\SEEN"] if name == "rfc3501-fetch.eml" else [],
                 "%s: BODY.PEEK[] left the flags alone" % name)

        # BODY[section]<partial> on the nested message
        uid = uids.get("nested-multipart.eml")
        raw = raws["nested-multipart.eml"]
        secs = ["HEADER", "TEXT", "1", "1.1", "1.2", "1.1.MIME", "1.2.MIME",
                "2", "2.MIME", "3", "4", "4.MIME", "4.HEADER", "4.TEXT",
                "4.1", "4.2", "4.2.MIME"]
        unt = c.ok("UID FETCH %d (%s)" % (uid, " ".join(
            "BODY.PEEK[%s]" % x for x in secs)))
        f = by_uid(unt).get(uid, {})
        for sec in secs:
            t.eq(f.get("BODY[%s]" % sec), ref_section(raw, sec),
                 "nested: BODY[%s]" % sec)
        unt = c.ok("UID FETCH %d (BODY.PEEK[1.1]<10.20> BODY.PEEK[]<0.30> "
                   "BODY.PEEK[TEXT]<5000.10> BODY.PEEK[HEADER.FIELDS "
                   "(Subject FROM x-none)] BODY.PEEK[HEADER.FIELDS.NOT "
                   "(Subject From Date To Message-ID MIME-Version)] "
                   "BODY.PEEK[4.HEADER.FIELDS (subject)] BODY.PEEK[9] "
                   "BODY.PEEK[2.3.4])" % uid)
        f = by_uid(unt).get(uid, {})
        t.eq(f.get("BODY[1.1]<10>"), ref_section(raw, "1.1")[10:30],
             "BODY[1.1]<10.20>: 20 octets from 10, labelled <10>")
        t.eq(f.get("BODY[]<0>"), raw[:30], "BODY[]<0.30>")
        t.eq(f.get("BODY[TEXT]<5000>"), b"", "partial past the end: "
             "empty string")
        hf = [k for k in f if k.startswith("BODY[HEADER.FIELDS (")]
        t.ok(hf and f[hf[0]] == b"From: Alice Example <alice@example.org>"
             b"\r\nSubject: Quarterly report (nested)\r\n\r\n",
             "BODY[HEADER.FIELDS (Subject FROM x-none)]: those lines in "
             "message order and the blank line", f.get(hf[0]) if hf else f)
        hf = [k for k in f if k.startswith("BODY[HEADER.FIELDS.NOT")]
        t.ok(hf and f[hf[0]] == b"Content-Type: multipart/mixed; "
             b"boundary=\"outer-boundary\"\r\n\r\n",
             "BODY[HEADER.FIELDS.NOT (...)]", f.get(hf[0]) if hf else f)
        hf = [k for k in f if k.startswith("BODY[4.HEADER.FIELDS")]
        t.ok(hf and f[hf[0]] == b"Subject: Inner subject\r\n\r\n",
             "BODY[4.HEADER.FIELDS (subject)]: the attached message's",
             f.get(hf[0]) if hf else f)
        t.ok(f.get("BODY[9]") in (b"", None) and "BODY[9]" in f,
             "BODY[9] of a message with 4 parts: empty string", f.keys())
        # a folded header keeps its continuation line
        ew = uids.get("encoded-words.eml")
        unt = c.ok("UID FETCH %d (BODY.PEEK[HEADER.FIELDS (SUBJECT TO)])" %
                   ew)
        f = by_uid(unt).get(ew, {})
        hf = [v for k, v in f.items() if k.startswith("BODY[HEADER.FIELDS")]
        t.eq(hf[0] if hf else f, b"To: Project team: alice@example.org,\r\n"
             b" =?ISO-8859-1?Q?Andr=E9?= <andre@example.fr>;\r\n"
             b"Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_M=C3=BCnchen?=\r\n"
             b" =?ISO-8859-1?Q?_und_K=F6ln?=\r\n\r\n",
             "BODY[HEADER.FIELDS (SUBJECT TO)] of folded headers: the "
             "lines as they are")
        # a message with no MIME headers and no Date/From: RFC 2045
        # defaults, NIL fields
        lu = uids.get("lit+")
        unt = c.ok("UID FETCH %d (ENVELOPE BODYSTRUCTURE BODY)" % lu)
        f = by_uid(unt).get(lu, {})
        t.eq(norm_env(f.get("ENVELOPE", [None] * 10)),
             norm_env([None, "lit+", None, None, None, None, None, None,
                       None, None]), "ENVELOPE of a message with only a "
             "Subject: NIL everywhere else")
        try:
            got = norm_bs(f["BODYSTRUCTURE"], True)
            want = norm_bs(ref_bs(mime_tree(*split_hb(raws["lit+"])), True),
                           True)
            t.eq(got, want, "BODYSTRUCTURE without Content-Type: TEXT "
                 "PLAIN (CHARSET US-ASCII) 7BIT (RFC 2045 section 5.2)")
        except Exception as e:
            t.ok(False, "BODYSTRUCTURE without Content-Type parses",
                 "%s: %r" % (e, f.get("BODYSTRUCTURE")))
        # the 8-bit and RFC example messages: BODY[1] of a single part
        u8 = uids.get("rfc3501-fetch.eml")
        unt = c.ok("UID FETCH %d (BODY.PEEK[1] BODY.PEEK[HEADER] "
                   "BODY.PEEK[TEXT] RFC822.HEADER RFC822.TEXT)" % u8)
        f = by_uid(unt).get(u8, {})
        r = raws["rfc3501-fetch.eml"]
        h, b = split_hb(r)
        t.ok(f.get("BODY[1]") == b and f.get("BODY[TEXT]") == b and
             f.get("BODY[HEADER]") == h, "single part: BODY[1] = "
             "BODY[TEXT] = the body; BODY[HEADER]", {k: (v or b"")[:60]
                                                    for k, v in f.items()})
        t.ok(f.get("RFC822.HEADER") == h and f.get("RFC822.TEXT") == b,
             "RFC822.HEADER and RFC822.TEXT")
        # macros
        unt = c.ok("UID FETCH %d ALL" % u8)
        f = by_uid(unt).get(u8) or list(fetches(unt).values())[0]
        t.eq(sorted(f), ["ENVELOPE", "FLAGS", "INTERNALDATE",
                         "RFC822.SIZE", "UID"], "FETCH ALL (with UID)")
        unt = c.ok("FETCH 1 FAST")
        t.eq(sorted(fetches(unt).get(1, {})), ["FLAGS", "INTERNALDATE",
                                               "RFC822.SIZE"], "FETCH FAST")
        unt = c.ok("FETCH 1 FULL")
        t.eq(sorted(fetches(unt).get(1, {})), ["BODY", "ENVELOPE", "FLAGS",
                                               "INTERNALDATE",
                                               "RFC822.SIZE"], "FETCH FULL")
        # implicit \Seen
        ew = uids.get("encoded-words.eml")
        unt = c.ok("UID FETCH %d (BODY[TEXT])" % ew)
        f = by_uid(unt).get(ew, {})
        t.ok("\\SEEN" in [x.upper() for x in f.get("FLAGS", [])],
             "FETCH BODY[TEXT] sets \\Seen and reports FLAGS (RFC 3501 "
             "section 6.4.5)", unt)
        unt = c.ok("UID FETCH %d (BODY.PEEK[])" % uids["8bit-header.eml"])
        peek = by_uid(unt).get(uids["8bit-header.eml"], {}).get("BODY[]")
        unt = c.ok("UID FETCH %d (RFC822)" % uids["8bit-header.eml"])
        f = by_uid(unt).get(uids["8bit-header.eml"], {})
        t.ok(peek and f.get("RFC822") == peek and
             "\\SEEN" in [x.upper() for x in f.get("FLAGS", [])],
             "FETCH RFC822: the message (as BODY[] gives it), and \\Seen "
             "set", f.keys())
        # sequence and UID ranges
        unt = c.ok("UID FETCH %d:* (FLAGS)" % (max(uids.values()) + 1000))
        got = list(by_uid(unt))
        t.eq(got, [max(uids.values())], "UID FETCH n:* with n above every "
             "UID: the last message (RFC 3501 section 6.4.8)")
        st, line, unt = c.cmd("FETCH %d FLAGS" % (len(uids) + 5))
        t.ok(st in ("BAD", "NO"), "FETCH of a sequence number beyond "
             "EXISTS refused", line)
        st, line, unt = c.cmd("UID FETCH 999999 FLAGS")
        t.ok(st == "OK" and not fetches(unt), "UID FETCH of a missing UID: "
             "OK, nothing", (line, unt))
        st, line, unt = c.cmd("FETCH 1 (BODY[HEADER.FIELDS])")
        t.eq(st, "BAD", "FETCH with a malformed section: BAD")
        st, line, unt = c.cmd("FETCH 1 (FLAGS")
        t.eq(st, "BAD", "FETCH with unbalanced parentheses: BAD")

        # EXAMINE: read-only, no implicit \Seen, no STORE
        c.ok("UNSELECT")
        d = Conn(P993)
        d.login()
        st, line, unt = d.cmd('EXAMINE "Fixtures"')
        t.ok(st == "OK" and code(line, "READ-ONLY") is not None,
             "EXAMINE: OK [READ-ONLY]", line)
        t.eq(numbers(unt, "RECENT"), [0], "a second session: * 0 RECENT")
        nu = uids["nested-multipart.eml"]
        unt = d.ok("UID FETCH %d (BODY[TEXT] FLAGS)" % nu)
        t.eq(flags_of(by_uid(unt).get(nu, {})), [],
             "EXAMINE: BODY[TEXT] does not set \\Seen")
        st, line, _ = d.cmd("UID STORE %d +FLAGS (\\Flagged \\Deleted)" %
                            nu)
        st2, line2, _ = d.cmd("EXPUNGE")
        e = Conn(P993)
        e.login()
        e.ok('EXAMINE "Fixtures"')
        unt = e.ok("UID FETCH %d (FLAGS)" % nu)
        e.close()
        t.ok(flags_of(by_uid(unt).get(nu, {})) == [],
             "EXAMINE: STORE changes nothing (RFC 3501 section 6.3.2)",
             (line, unt))
        t.ok(len(by_uid(unt)) == 1, "EXAMINE: EXPUNGE removed nothing",
             (line2, unt))
        d.ok("LOGOUT")
        d.close()
        c.ok("LOGOUT")
        c.close()
    check("select and fetch", select_fetch)

    # ---------------- SEARCH ----------------
    def search():
        c = Conn(P993)
        c.login()
        c.ok('SELECT "Fixtures"')
        n = {v: k for k, v in uids.items()}

        def q(keys, charset=None):
            """UID SEARCH; the fixture names found."""
            cmd = b"UID SEARCH "
            if charset:
                cmd += b"CHARSET " + charset.encode() + b" "
            if isinstance(keys, str):
                keys = keys.encode("utf-8")
            st, line, unt = c.cmd(cmd + keys)
            res = search_result(unt)
            if st != "OK" or res is None:
                return ("error", st, line)
            return sorted(n.get(u, u) for u in res)

        def lit(text):
            b = text.encode("utf-8")
            return b"{%d+}\r\n" % len(b) + b

        F, M, N, E, B, G, L = FIXTURES + ["lit+"]
        allf = sorted(uids)
        cases = [
            ("ALL", None, allf),
            ("SUBJECT \"imap4REV1 wg\"", None, [F]),
            ("FROM crispin", None, [M]),
            ("TO imap@cac.washington.edu", None, sorted([F, M])),
            ("CC klensin", None, [F]),
            ("BCC hidden", None, [E]),
            ("HEADER Message-ID ew-1", None, [E]),
            ("HEADER In-Reply-To \"\"", None, sorted([E, G])),
            ("HEADER X-Nothing-Here \"\"", None, []),
            ("BODY zebrafish", None, [N]),
            ("BODY kumquat", None, [N]),
            ("TEXT kumquat", None, [N]),
            ("TEXT \"Mailing list\"", None, [E]),
            ("BODY \"Terry Gray\"", None, []),
            ("SEEN", None, sorted([F, E, B])),
            ("UNSEEN", None, sorted([M, N, G, L])),
            ("FLAGGED", None, [L]),
            ("KEYWORD $Work", None, [L]),
            ("UNKEYWORD $Work", None, sorted(set(allf) - {L})),
            ("NOT SEEN", None, sorted([M, N, G, L])),
            ("OR FROM crispin FROM gray", None, sorted([F, M])),
            ("(OR SEEN FLAGGED) NOT FROM gray", None, sorted([E, B, L])),
            ("LARGER 4286", None, [M]),
            ("SMALLER 4286", None, sorted([N, E, B, G, L])),
            ("SENTBEFORE 1-Jan-2000", None, sorted([F, M])),
            ("SENTON 17-Jul-1996", None, [F]),
            ("SENTSINCE 4-Nov-2026 SENTBEFORE 6-Nov-2026", None,
             sorted([E, B])),
            ("BEFORE 1-Jan-2000", None, sorted([F, M])),
            ("ON 23-Jul-1996", None, [M]),
            ("SINCE %s" % imap_date(time.time() - 86400 * 2), None,
             sorted([N, E, B, G, L])),
            ("UID %d:%d" % (uids[M], uids[E]), None, sorted([M, N, E])),
            ("2:3", None, sorted([M, N])),
            ("NEW", None, []),    # \Recent claimed by the first SELECT
            ("RECENT", None, []),
            ("OLD", None, allf),
            ("UNANSWERED", None, allf),
            ("UNDELETED", None, allf),
            ("UNFLAGGED", None, sorted(set(allf) - {L})),
            ("ANSWERED", None, []),
            ("DELETED", None, []),
            ("DRAFT", None, []),
            ("UNDRAFT", None, allf),
            (b"SUBJECT " + lit("Grüße"), "UTF-8", [E]),
            (b"SUBJECT " + lit("Köln"), "UTF-8", [E]),
            (b"SUBJECT " + lit("München und Köln"), "UTF-8", [E]),
            (b"FROM " + lit("Schröder"), "UTF-8", [E]),
            (b"FROM " + lit("Müller"), "UTF-8", [B]),
            (b"SUBJECT " + lit("café"), "UTF-8", [B]),
            (b"TO " + lit("André"), "UTF-8", [E]),
            (b"CC " + lit("山田"), "UTF-8", [E]),
            (b"BODY " + lit("Köln"), "UTF-8", [E]),
            (b"BODY " + lit("Grüße"), "UTF-8", [N]),
            (b"BODY " + lit("Crème brûlée"), "UTF-8", [B]),
            (b"TEXT " + lit("Jürgen"), "UTF-8", [B]),
            ("SUBJECT nested", "US-ASCII", [N]),
        ]
        for keys, cs, want in cases:
            got = q(keys, cs)
            if isinstance(keys, str) and "SENT" in keys and \
                    isinstance(got, list):
                # a message without Date: is left out: RFC 3501 does not
                # say what its sent date is
                got = [x for x in got if x != "lit+"]
            label = keys if isinstance(keys, str) else \
                keys.decode("utf-8", "replace").replace("\r\n", " ")
            t.eq(got, want, "SEARCH %s%s" % ("CHARSET %s " % cs if cs else
                                             "", label))
        st, line, unt = c.cmd("SEARCH CHARSET X-UNKNOWN-8 SUBJECT x")
        t.ok(st == "NO" and code(line, "BADCHARSET") is not None,
             "SEARCH with an unknown charset: NO [BADCHARSET]", line)
        st, line, unt = c.cmd("SEARCH FROBNICATE")
        t.eq(st, "BAD", "SEARCH with an unknown key: BAD")
        st, line, unt = c.cmd("SEARCH 1:2")
        t.eq(search_result(unt), [1, 2], "SEARCH answers sequence numbers")
        # ESEARCH (RFC 4731)
        st, line, unt = c.cmd("UID SEARCH RETURN (MIN MAX COUNT ALL) UNSEEN")
        es = [parse(r) for r in unt if r.upper().startswith(b"* ESEARCH")]
        want = sorted(uids[x] for x in (M, N, G, L))
        ok = False
        if es:
            e = es[0]
            items = dict((str(e[i]).upper(), e[i + 1]) for i in
                         range(2, len(e) - 1) if isinstance(e[i], str) and
                         e[i].upper() in ("MIN", "MAX", "COUNT", "ALL"))
            ok = (isinstance(e[2], list) and s(e[2][1]) == s(line.split()[0])
                  and "UID" in [x.upper() for x in e if isinstance(x, str)]
                  and int(items["MIN"]) == want[0] and
                  int(items["MAX"]) == want[-1] and
                  int(items["COUNT"]) == len(want) and
                  seqset_nums(items["ALL"]) == want)
        t.ok(ok, "UID SEARCH RETURN (MIN MAX COUNT ALL): * ESEARCH (TAG ..) "
             "UID MIN MAX COUNT ALL", unt)
        st, line, unt = c.cmd("SEARCH RETURN (COUNT) DELETED")
        t.ok(any(re.search(rb"COUNT 0\b", r) for r in unt),
             "SEARCH RETURN (COUNT) with no match: COUNT 0", unt)
        c.ok("LOGOUT")
        c.close()
    check("search", search)

    # ---------------- STORE / CONDSTORE / QRESYNC ----------------
    def store():
        c = Conn(P993)
        c.login()
        unt = c.ok("ENABLE CONDSTORE")
        t.ok(any(re.match(rb"\* ENABLED CONDSTORE", r, re.I) for r in unt),
             "ENABLE CONDSTORE: * ENABLED CONDSTORE", unt)
        st, line, unt = c.cmd('SELECT "Fixtures"')
        hms = code(line + b"\n" + b"\n".join(unt), "HIGHESTMODSEQ")
        t.ok(hms is not None and int(hms) > 0, "SELECT after ENABLE "
             "CONDSTORE: [HIGHESTMODSEQ]", unt)
        hms = int(hms or 0)
        u = uids["rfc3501-multipart.eml"]
        unt = c.ok("UID STORE %d +FLAGS (\\Flagged $Important)" % u)
        f = by_uid(unt).get(u) or (list(fetches(unt).values()) or [{}])[0]
        fl = [x.upper() for x in f.get("FLAGS", [])]
        t.ok("\\FLAGGED" in fl and "$IMPORTANT" in fl and
             int((f.get("MODSEQ") or ["0"])[0]) > hms,
             "UID STORE +FLAGS: * FETCH (FLAGS .. MODSEQ (n)) with a "
             "higher MODSEQ", unt)
        unt = c.ok("UID STORE %d -FLAGS.SILENT ($Important)" % u)
        f = fetches(unt)
        t.ok(all("FLAGS" not in d for d in f.values()),
             "STORE .SILENT: no FLAGS sent back", unt)
        unt = c.ok("UID STORE %d FLAGS (\\Answered \\Flagged)" % u)
        unt = c.ok("UID FETCH %d (FLAGS MODSEQ)" % u)
        f = by_uid(unt).get(u, {})
        t.eq(sorted(x.upper() for x in f.get("FLAGS", [])),
             ["\\ANSWERED", "\\FLAGGED"], "STORE FLAGS replaces the flags")
        ms = int((f.get("MODSEQ") or ["0"])[0])
        # the store mirrors standard flags in the Maildir name (maildir.h)
        fd = os.path.join(srv.maildir(U), ".Fixtures", "cur")
        infos = [x.split(":2,")[1] for x in os.listdir(fd)
                 if ":2," in x] if os.path.isdir(fd) else []
        t.ok("FR" in infos, "the Maildir file name carries :2,FR", infos)
        # CONDSTORE: CHANGEDSINCE and UNCHANGEDSINCE
        unt = c.ok("UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d)" % (ms - 1))
        t.eq(list(by_uid(unt)), [u], "UID FETCH 1:* (FLAGS) (CHANGEDSINCE "
             "m): only the changed message (RFC 7162)")
        st, line, unt = c.cmd("UID STORE %d (UNCHANGEDSINCE %d) +FLAGS "
                              "(\\Seen)" % (u, ms - 1))
        t.ok(st == "OK" and code(line, "MODIFIED") is not None and
             seqset_nums(code(line, "MODIFIED")) == [u],
             "STORE (UNCHANGEDSINCE old) fails: OK [MODIFIED uid]", line)
        st, line, unt = c.cmd("UID STORE %d (UNCHANGEDSINCE %d) +FLAGS "
                              "(\\Seen)" % (u, ms))
        t.ok(st == "OK" and code(line, "MODIFIED") is None,
             "STORE (UNCHANGEDSINCE current) succeeds", (line, unt))
        st, line, unt = c.cmd("UID SEARCH MODSEQ %d" % ms)
        t.ok(st == "OK" and search_result(unt) == [u] and
             re.search(rb"\(MODSEQ \d+\)", b"\n".join(unt)),
             "SEARCH MODSEQ: the message and (MODSEQ n)", unt)
        st, line, unt = c.cmd("UID STORE %d +FLAGS (\\Recent)" % u)
        t.ok(st in ("NO", "BAD"), "STORE \\Recent refused", line)
        unt = c.ok('STATUS "Fixtures" (HIGHESTMODSEQ MESSAGES UNSEEN '
                   'RECENT UIDNEXT UIDVALIDITY)')
        stt = untagged_kind(unt, "STATUS")
        d = dict(zip([x.upper() for x in stt[0][1][::2]], stt[0][1][1::2])) \
            if stt else {}
        t.ok(int(d.get("HIGHESTMODSEQ", 0)) >= ms + 1 and
             int(d.get("MESSAGES", -1)) == len(uids) and
             int(d.get("UNSEEN", -1)) == 3, "STATUS (HIGHESTMODSEQ "
             "MESSAGES UNSEEN ...)", unt)
        c.ok("LOGOUT")
        c.close()

        # QRESYNC: expunge in one session, resync in another
        c = Conn(P993)
        c.login()
        unt = c.ok("ENABLE QRESYNC")
        t.ok(any(b"QRESYNC" in r.upper() for r in unt
                 if r.upper().startswith(b"* ENABLED")),
             "ENABLE QRESYNC: * ENABLED QRESYNC", unt)
        st, line, unt = c.cmd('SELECT "Fixtures"')
        j = b"\n".join(unt)
        uv, hm = code(j, "UIDVALIDITY"), code(j, "HIGHESTMODSEQ")
        c.ok("LOGOUT")
        c.close()
        d = Conn(P993)
        d.login()
        d.ok('SELECT "Fixtures"')
        lu = uids["lit+"]
        d.ok("UID STORE %d +FLAGS (\\Deleted)" % lu)
        unt = d.ok("UID EXPUNGE %d" % lu)
        t.eq(len(numbers(unt, "EXPUNGE")), 1, "UID EXPUNGE (RFC 4315): "
             "one * n EXPUNGE")
        ru = uids["rfc3501-fetch.eml"]
        d.ok("UID STORE %d +FLAGS ($Later)" % ru)
        d.ok("LOGOUT")
        d.close()
        c = Conn(P993)
        c.login()
        c.ok("ENABLE QRESYNC")
        st, line, unt = c.cmd('SELECT "Fixtures" (QRESYNC (%s %s))' %
                              (uv, hm))
        van = [r for r in unt if r.upper().startswith(b"* VANISHED")]
        t.ok(st == "OK" and van and b"(EARLIER)" in van[0].upper() and
             seqset_nums(van[0].split()[-1].decode()) == [lu],
             "SELECT (QRESYNC (uidvalidity modseq)): * VANISHED (EARLIER) "
             "uid (RFC 7162 section 3.2.5)", unt)
        f = by_uid(unt)
        t.ok(list(f) == [ru] and "$LATER" in [x.upper() for x in
                                               f[ru].get("FLAGS", [])],
             "... and * FETCH (UID FLAGS MODSEQ) of what changed", unt)
        # after ENABLE QRESYNC an expunge is VANISHED, not EXPUNGE
        c.ok("UID STORE %d +FLAGS (\\Deleted)" % ru)
        unt = c.ok("EXPUNGE")
        t.ok(any(r.upper().startswith(b"* VANISHED %d" % ru) for r in unt)
             and not numbers(unt, "EXPUNGE"), "QRESYNC: EXPUNGE reports "
             "* VANISHED uid", unt)
        c.ok("LOGOUT")
        c.close()
        for k in ("lit+", "rfc3501-fetch.eml"):
            uids.pop(k, None)
    check("store and condstore", store)

    # ---------------- COPY / MOVE / EXPUNGE / CLOSE / UNSELECT ----------
    def copy_move():
        c = Conn(P993)
        c.login()
        c.ok('CREATE "Work"')
        st, line, unt = c.cmd('SELECT "Fixtures"')
        uv_work = s(untagged_kind(c.ok('STATUS "Work" (UIDVALIDITY)'),
                                  "STATUS")[0][1][1])
        st, line, _ = c.cmd('UID COPY %d:%d "Work"' %
                            (min(uids.values()), max(uids.values())))
        cu = code(line, "COPYUID")
        t.ok(st == "OK" and cu is not None and
             cu.split()[0] == uv_work and
             seqset_nums(cu.split()[1]) == sorted(uids.values()) and
             len(seqset_nums(cu.split()[2])) == len(uids),
             "UID COPY: OK [COPYUID uidvalidity src dst] (RFC 4315)", line)
        unt = c.ok('STATUS "Work" (MESSAGES UIDVALIDITY)')
        stt = untagged_kind(unt, "STATUS")[0][1]
        t.eq(int(stt[1]), len(uids), "COPY: all in Work")
        st, line, _ = c.cmd('COPY 1 "No/Such"')
        t.ok(st == "NO" and code(line, "TRYCREATE") is not None,
             "COPY to a missing folder: NO [TRYCREATE]", line)
        # MOVE to Trash (RFC 6851)
        mu = uids["nested-multipart.eml"]
        st, line, unt = c.cmd('UID MOVE %d "Trash"' % mu)
        cu = [code(r, "COPYUID") for r in unt + [line]
              if code(r, "COPYUID")]
        t.ok(st == "OK" and cu and seqset_nums(cu[0].split()[1]) == [mu] and
             len(numbers(unt, "EXPUNGE")) == 1,
             "UID MOVE: [COPYUID ...] and * n EXPUNGE", (line, unt))
        st, line, unt = c.cmd("NOOP")
        unt = c.ok('STATUS "Trash" (MESSAGES)')
        t.eq(int(untagged_kind(unt, "STATUS")[0][1][1]), 1,
             "the message is in Trash")
        unt = c.ok("UID FETCH %d FLAGS" % mu)
        t.eq(by_uid(unt), {}, "and gone from the source")
        # EXPUNGE numbering: deleting messages 1 and 2 gives
        # "* 1 EXPUNGE" twice (each renumbers the rest)
        c.ok('SELECT "Work"')
        c.ok("STORE 1:2 +FLAGS.SILENT (\\Deleted)")
        st, line, unt0 = c.cmd("UID SEARCH ALL")
        view = search_result(unt0) or []
        unt = c.ok("EXPUNGE")
        for n in numbers(unt, "EXPUNGE"):
            if 1 <= n <= len(view):
                del view[n - 1]
            else:
                view.append("bad %d" % n)
        t.ok(len(numbers(unt, "EXPUNGE")) == 2 and
             view == (search_result(unt0) or [])[2:], "EXPUNGE of messages 1 "
             "and 2: two * n EXPUNGE, each numbered after the ones before",
             unt)
        st, line, unt = c.cmd("SEARCH ALL")
        left = len(search_result(unt) or [])
        t.eq(left, len(uids) - 2, "the rest stays")
        # CLOSE expunges silently; UNSELECT does not
        c.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
        st, line, unt = c.cmd("UNSELECT")
        t.ok(st == "OK" and not numbers(unt, "EXPUNGE"), "UNSELECT "
             "(RFC 3691)", unt)
        unt = c.ok('STATUS "Work" (MESSAGES)')
        t.eq(int(untagged_kind(unt, "STATUS")[0][1][1]), left,
             "UNSELECT expunged nothing")
        c.ok('EXAMINE "Work"')
        c.ok("CLOSE")
        unt = c.ok('STATUS "Work" (MESSAGES)')
        t.eq(int(untagged_kind(unt, "STATUS")[0][1][1]), left,
             "CLOSE after EXAMINE expunges nothing")
        c.ok('SELECT "Work"')
        st, line, unt = c.cmd("CLOSE")
        t.ok(st == "OK" and not numbers(unt, "EXPUNGE"),
             "CLOSE: no untagged EXPUNGE", unt)
        unt = c.ok('STATUS "Work" (MESSAGES)')
        t.eq(int(untagged_kind(unt, "STATUS")[0][1][1]), left - 1,
             "CLOSE expunged the \\Deleted message")
        st, line, _ = c.cmd("FETCH 1 FLAGS")
        t.ok(st in ("BAD", "NO"), "after CLOSE: back in authenticated "
             "state", line)
        # DELETE a folder with messages, and RENAME INBOX
        t.eq(c.cmd('DELETE "Work"')[0], "OK", "DELETE a folder with "
             "messages")
        deliver(srv, "for rename inbox")
        wait_until(lambda: len(srv.messages(U)) >= 1, 10)
        unt = c.ok('STATUS "INBOX" (MESSAGES)')
        nin = int(untagged_kind(unt, "STATUS")[0][1][1])
        st, line, _ = c.cmd('RENAME "INBOX" "Old-Inbox"')
        u1 = c.ok('STATUS "INBOX" (MESSAGES)')
        u2 = c.ok('STATUS "Old-Inbox" (MESSAGES)')
        t.ok(st == "OK" and nin >= 1 and
             int(untagged_kind(u1, "STATUS")[0][1][1]) == 0 and
             int(untagged_kind(u2, "STATUS")[0][1][1]) == nin,
             "RENAME INBOX moves its messages, INBOX stays, empty (RFC "
             "3501 section 6.3.5)", (line, u1, u2))
        c.ok("LOGOUT")
        c.close()
    check("copy and move", copy_move)

    # ---------------- Thunderbird's flows, IDLE, concurrency ----------------
    def thunderbird():
        m = imap_ssl(P993)
        typ, data = m.enable("CONDSTORE")
        typ2, data2 = m._simple_command("ENABLE", "QRESYNC")
        t.ok(typ == "OK" and typ2 == "OK", "imaplib: ENABLE CONDSTORE, "
             "ENABLE QRESYNC")
        for i in range(3):
            deliver(srv, "tb %d" % i)
        wait_until(lambda: len(srv.messages(U)) >= 3, 10)
        typ, data = m.select("INBOX")
        n = int(data[0])
        t.eq(n, 3, "SELECT INBOX: 3 delivered messages")
        typ, data = m.uid("FETCH", "1:*", "(FLAGS)")
        t.eq(len([d for d in data if d and b"FLAGS" in
                  (d if isinstance(d, bytes) else d[0])]), 3,
             "UID FETCH 1:* (FLAGS)")
        typ, data = m.uid("FETCH", "1:*", "(UID RFC822.SIZE FLAGS "
                          "BODY.PEEK[HEADER.FIELDS (From To Cc Bcc Subject "
                          "Date Message-ID Priority X-Priority References "
                          "Newsgroups In-Reply-To Content-Type "
                          "Reply-To)])")
        hdrs = [d[1] for d in data if isinstance(d, tuple)]
        t.ok(len(hdrs) == 3 and all(b"From: Sender" in h and
                                    b"Subject: tb " in h and
                                    b"Received:" not in h and
                                    h.endswith(b"\r\n\r\n") for h in hdrs),
             "Thunderbird's header-fields fetch", hdrs[:1])
        # a second session sees a MOVE to Trash as an EXPUNGE
        c = Conn(P993)
        c.login()
        c.ok("SELECT INBOX")
        typ, data = m.uid("SEARCH", None, "ALL")
        first = data[0].split()[0].decode()
        typ, data = m.uid("MOVE", first, "Trash")
        t.eq(typ, "OK", "imaplib: UID MOVE to Trash")
        unt = c.ok("NOOP")
        t.ok(numbers(unt, "EXPUNGE") == [1] or
             any(r.upper().startswith(b"* VANISHED") for r in unt),
             "the other session gets * 1 EXPUNGE on NOOP", unt)
        # flags changed elsewhere: * n FETCH (FLAGS ..) on NOOP
        typ, data = m.uid("SEARCH", None, "ALL")
        m.uid("STORE", data[0].split()[0].decode(), "+FLAGS", "(\\Flagged)")
        unt = c.ok("NOOP")
        f = fetches(unt)
        t.ok(1 in f and "\\FLAGGED" in [x.upper() for x in
                                        f[1].get("FLAGS", [])],
             "a flag set by another session: * 1 FETCH (FLAGS (\\Flagged))",
             unt)
        # delivery while selected: EXISTS on NOOP
        deliver(srv, "while selected")
        wait_until(lambda: len(srv.messages(U)) >= 3, 10)
        got = []
        wait_until(lambda: got.extend(c.ok("NOOP")) or
                   numbers(got, "EXISTS"), 10, 0.3)
        t.ok(numbers(got, "EXISTS") == [3] and numbers(got, "RECENT"),
             "new mail seen on NOOP: * 3 EXISTS, * n RECENT", got)

        # IDLE woken by an SMTP delivery (RFC 2177; inotify)
        tag = c.tag()
        c.send("%s IDLE\r\n" % tag)
        r = c.response()
        t.ok(r.startswith(b"+"), "IDLE: continuation", r)
        t0 = time.monotonic()
        deliver(srv, "while idling")
        seen = []
        try:
            while time.monotonic() - t0 < 8:
                x = c.response(timeout=max(0.5, 8 - (time.monotonic() - t0)))
                seen.append(x)
                if re.match(rb"\* \d+ EXISTS", x):
                    break
        except (socket.timeout, EOFError):
            pass
        dt = time.monotonic() - t0
        t.ok(numbers(seen, "EXISTS") == [4], "IDLE: * 4 EXISTS pushed "
             "after a delivery over SMTP (%.1fs)" % dt, seen)
        # a flag change and an expunge by another session, pushed in IDLE
        m.select("INBOX")
        m.store("1", "+FLAGS", "(\\Seen \\Deleted)")
        seen = idle_wait(c, rb"\* 1 FETCH")
        t.ok(b"\\Deleted" in b" ".join(seen), "IDLE: * 1 FETCH (FLAGS "
             "(\\Seen \\Deleted)) pushed", seen)
        m.expunge()
        seen = idle_wait(c, rb"\* 1 EXPUNGE")
        t.ok(numbers(seen, "EXPUNGE") == [1], "IDLE: * 1 EXPUNGE pushed",
             seen)
        c.send("DONE\r\n")
        st, line, unt = c.wait(tag)
        t.eq(st, "OK", "DONE ends IDLE with a tagged OK")
        st, line, unt = c.cmd("NOOP")
        t.eq(st, "OK", "commands work again after IDLE")
        c.ok("LOGOUT")
        c.close()
        m.logout()
    check("thunderbird", thunderbird)

    # ---------------- pipelining and limits of the wire ----------------
    def wire():
        c = Conn(P993)
        c.login()
        c.send("p1 NOOP\r\np2 CAPABILITY\r\np3 SELECT INBOX\r\n"
               "p4 FETCH 1 (FLAGS)\r\np5 UID SEARCH ALL\r\n")
        tagged = []
        try:
            while len(tagged) < 5:
                r = c.response()
                if re.match(rb"p\d ", r):
                    tagged.append(r.split()[0] + b" " + r.split()[1])
        except (socket.timeout, EOFError):
            pass
        t.eq(tagged, [b"p1 OK", b"p2 OK", b"p3 OK", b"p4 OK", b"p5 OK"],
             "five pipelined commands: five tagged OK in order")
        # a long but legal line (RFC 7162 section 4: at least 8192 octets)
        uidset = ",".join(str(i) for i in range(1, 4000, 2))[:8000]
        uidset = uidset[:uidset.rindex(",")]
        st, line, unt = c.cmd("UID FETCH %s (FLAGS)" % uidset)
        t.eq(st, "OK", "a %d-octet command line is accepted" %
             (len(uidset) + 30))
        # an over-long line: refused, never buffered without bound
        c.send("x1 NOOP " + "a" * 70000 + "\r\n")
        try:
            r = c.response(timeout=10)
            while not (r.startswith(b"x1 ") or r.startswith(b"* BAD") or
                       r.startswith(b"* BYE")):
                r = c.response(timeout=10)
        except (socket.timeout, EOFError) as e:
            r = repr(e).encode()
        t.ok(r.startswith(b"x1 BAD") or r.startswith(b"* BAD") or
             r.startswith(b"* BYE") or b"EOFError" in r,
             "a 70000-octet line (over imapd.max_line_length): BAD or BYE",
             r[:200])
        c.close()
        # a huge synchronizing literal: refused without a "+"
        for cmd in ('APPEND INBOX {999999999}', 'LOGIN {999999999}',
                    'SEARCH TEXT {999999999}'):
            c = Conn(P993)
            if not cmd.startswith("LOGIN"):
                c.login()
                c.ok("SELECT INBOX")
            c.send("h1 %s\r\n" % cmd)
            try:
                r = c.response(timeout=5)
            except (socket.timeout, EOFError) as e:
                r = repr(e).encode()
            t.ok(r.startswith(b"h1 NO") or r.startswith(b"h1 BAD") or
                 r.startswith(b"* BYE"), "%s: NO or BAD, no '+'" % cmd, r)
            if cmd.startswith("APPEND"):
                t.ok(code(r, "TOOBIG") is not None, "APPEND {999999999}: "
                     "[TOOBIG] (RFC 4469/7889)", r)
            c.close()
        # a huge non-synchronizing literal: refused, the connection is not
        # stuck reading a gigabyte
        c = Conn(P993)
        c.login()
        c.send("h2 APPEND INBOX {999999999+}\r\n" + "x" * 8192)
        try:
            r = c.response(timeout=5)
            while not (r.startswith(b"h2 ") or r.startswith(b"* BYE")):
                r = c.response(timeout=5)
        except (socket.timeout, EOFError, OSError) as e:
            r = repr(e).encode()
        t.ok(r.startswith(b"h2 NO") or r.startswith(b"h2 BAD") or
             r.startswith(b"* BYE") or b"EOFError" in r,
             "APPEND {999999999+}: refused at once (NO/BAD/BYE), not read",
             r[:200])
        c.close()
        # a literal bigger than imapd.max_command outside APPEND
        c = Conn(P993)
        c.login()
        c.send("h3 SEARCH TEXT {2000000}\r\n")
        try:
            r = c.response(timeout=5)
        except (socket.timeout, EOFError) as e:
            r = repr(e).encode()
        t.ok(r.startswith(b"h3 NO") or r.startswith(b"h3 BAD"),
             "SEARCH TEXT {2000000} (over imapd.max_command): NO/BAD", r)
        st, line, _ = c.cmd("NOOP")
        t.eq(st, "OK", "and the session is still usable")
        # a literal of exactly an allowed size in SEARCH works
        c.ok("SELECT INBOX")
        st, line, unt = c.cmd(b"SEARCH TEXT {5}\r\nhello")
        t.ok(st == "OK", "SEARCH with a synchronizing literal (via the "
             "'+' handshake in cmd)", line)
        c.close()
    check("wire", wire)

    def injection():
        # the parser's limit on literals in one command (imapd/imapd.h), so
        # that the injected literal is exactly the first one over it
        MAX_LITERALS = 64
        try:
            with open(os.path.join(os.path.dirname(DATA), "..", "..",
                                   "imapd", "imapd.h")) as f:
                MAX_LITERALS = int(re.search(
                    r"#define\s+IMAP_MAX_LITERALS\s+(\d+)", f.read()).group(1))
        except (OSError, AttributeError):
            pass
        # a command refused while its non-synchronizing literal is on the
        # way: the literal's octets are data, never a command (RFC 7888:
        # the client sends them without waiting; the server must skip them
        # or close the connection)
        shapes = [("a literal where the command name should be", b""),
                  ("too many literals", b"SEARCH " + b" ".join(
                      b"BODY {1+}\r\nx" for i in range(MAX_LITERALS)) +
                   b" BODY "),
                  ("lists nested too deep", b"SEARCH " + b"(" * 40 +
                   b"BODY "),
                  ("too many arguments", b"SEARCH " + b"ALL " * 5000 +
                   b"BODY "),
                  ("an unterminated section", b"FETCH 1 (BODY[HEADER."
                   b"FIELDS ("),
                  ("an unknown command", b"FROBNICATE "),
                  ("a command not allowed now", b"LOGIN ")]
        for i, (label, before) in enumerate(shapes):
            name = "Injected%d" % i
            inj = b'z CREATE "%s"' % name.encode()
            c = Conn(P993)
            c.login()
            c.ok("SELECT INBOX")
            try:
                c.send(b"q1 " + before + b"{%d+}\r\n" % len(inj) + inj +
                       b"\r\n")
            except OSError:
                pass
            out = []
            try:
                t0 = time.monotonic()
                while time.monotonic() - t0 < 3:
                    out.append(c.response(timeout=1.5))
            except (socket.timeout, EOFError, OSError):
                pass
            c.close()
            d = Conn(P993)
            d.login()
            unt = d.ok('LIST "" "%s"' % name)
            d.close()
            t.ok(not unt and not any(r.startswith(b"z ") for r in out),
                 "a refused command (%s) with a {n+} literal: the literal "
                 "is not run as a command" % label,
                 [r[:80] for r in out] + [b"LIST:"] + unt)
    check("literal injection", injection)

    # ---------------- more semantics: names, UIDVALIDITY, COPY, sync ------
    def names():
        c = Conn(P993)
        c.login()
        for name, why in (("v1&AC4-2", "'.' written in base64 (RFC 3501 "
                           "section 5.1.3: printable ASCII must stand for "
                           "itself)"),
                          ("x&AGE-y", "'a' written in base64"),
                          ("a//b", "an empty level"),
                          ("n" * 600, "600 octets")):
            st, line, _ = c.cmd('CREATE "%s"' % name)
            t.ok(st in ("NO", "BAD"), "CREATE refuses a name with %s" % why,
                 line)
        st, line, _ = c.cmd(b'CREATE {5}\r\ncaf\xc3\xa9')
        t.ok(st in ("NO", "BAD"), "CREATE refuses raw 8-bit (not modified "
             "UTF-7)", line)
        c.ok('CREATE "Tom &- Jerry"')
        c.ok('CREATE "Parent/"')
        c.ok('CREATE "&Jjo-/sp ace"')
        unt = c.ok('LIST "" "*"')
        names = {s(x[2]) for x in untagged_kind(unt, "LIST")}
        t.ok({"Tom &- Jerry", "Parent", "&Jjo-", "&Jjo-/sp ace"} <= names and
             "Parent/" not in names, "'&-', a trailing separator (RFC 3501 "
             "section 6.3.3), a space: listed as created", sorted(names))
        st, line, unt = c.cmd(b"SELECT {12}\r\nTom &- Jerry")
        t.eq(st, "OK", "SELECT with the name as a literal")
        # a new mailbox under an old name gets a new UIDVALIDITY (RFC 3501
        # section 2.3.1.1): after DELETE and after RENAME
        def status(box):
            unt = c.ok('STATUS "%s" (UIDVALIDITY UIDNEXT MESSAGES)' % box)
            x = untagged_kind(unt, "STATUS")[0][1]
            return {k.upper(): int(v) for k, v in zip(x[::2], x[1::2])}
        msg = b"Subject: recycle\r\n\r\nx\r\n"
        c.ok('CREATE "Recycle"')
        c.ok(b'APPEND "Recycle" {%d+}\r\n' % len(msg) + msg)
        old = status("Recycle")
        c.ok('DELETE "Recycle"')
        c.ok('CREATE "Recycle"')
        new = status("Recycle")
        t.ok(new["MESSAGES"] == 0 and (new["UIDVALIDITY"] !=
                                       old["UIDVALIDITY"] or
                                       new["UIDNEXT"] >= old["UIDNEXT"]),
             "DELETE then CREATE: a new UIDVALIDITY (UIDs never reused)",
             (old, new))
        c.ok('RENAME "Recycle" "Recycled"')
        c.ok(b'APPEND "Recycled" {%d+}\r\n' % len(msg) + msg)
        moved = status("Recycled")
        c.ok('CREATE "Recycle"')
        again = status("Recycle")
        t.ok(moved["UIDVALIDITY"] == new["UIDVALIDITY"] and
             again["UIDVALIDITY"] != new["UIDVALIDITY"],
             "RENAME keeps the UIDVALIDITY; a new folder under the old name "
             "gets another", (new, moved, again))
        c.ok("LOGOUT")
        c.close()
    check("names", names)

    def copy_flags():
        c = Conn(P993)
        c.login()
        c.ok('CREATE "Keep"')
        msg = b"Subject: keep flags\r\n\r\nkeep\r\n"
        st, line, _ = c.cmd(b'APPEND "Keep" (\\Seen \\Draft $Label1) '
                            b'"01-Feb-2001 10:20:30 +0200" {%d+}\r\n' %
                            len(msg) + msg)
        c.ok('SELECT "Keep"')
        c.ok('CREATE "Keep2"')
        c.ok('CREATE "Keep3"')
        c.ok('COPY 1 "Keep2"')
        c.ok('MOVE 1 "Keep3"')
        for box in ("Keep2", "Keep3"):
            c.ok('EXAMINE "%s"' % box)
            unt = c.ok("FETCH 1 (FLAGS INTERNALDATE BODY.PEEK[])")
            f = fetches(unt).get(1, {})
            t.ok(flags_of(f) == ["$LABEL1", "\\DRAFT", "\\SEEN"] and
                 parse_internaldate(f.get("INTERNALDATE", "x 1 1")) ==
                 parse_internaldate("01-Feb-2001 10:20:30 +0200") and
                 f.get("BODY[]") == msg, "%s keeps the flags, keywords, "
                 "internal date and octets (RFC 3501 section 6.4.7)" %
                 ("COPY" if box == "Keep2" else "MOVE"), f)
        # SELECT while selected closes without expunging (section 6.3.1)
        c.ok('SELECT "Keep2"')
        c.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
        c.ok('SELECT "Keep3"')
        unt = c.ok('STATUS "Keep2" (MESSAGES)')
        t.eq(int(untagged_kind(unt, "STATUS")[0][1][1]), 1,
             "SELECT of another folder does not expunge the first")
        st, line, unt = c.cmd('SELECT "Keep2" (CONDSTORE)')
        t.ok(st == "OK" and code(b"\n".join(unt), "HIGHESTMODSEQ"),
             "SELECT (CONDSTORE) (RFC 7162 section 3.1.8): "
             "[HIGHESTMODSEQ]", unt)
        unt = c.ok("FETCH 1:* (FLAGS)")
        unt2 = c.ok("FETCH *:1 (UID)")
        unt3 = c.ok("FETCH * (UID)")
        t.ok(len(fetches(unt2)) == 1 and list(fetches(unt3)) == [1],
             "FETCH *:1 and FETCH *", (unt2, unt3))
        c.ok("LOGOUT")
        c.close()

        # a message as delivered (LF line ends on disk): sizes and offsets
        # are those of the CRLF form
        deliver(srv, "crlf check", "".join("line %d of the body\r\n" % i
                                           for i in range(200)), to=U2)
        wait_until(lambda: len(srv.messages(U2)) >= 1, 10)
        c = Conn(P993)
        c.login(U2, PW2)
        c.ok("SELECT INBOX")
        unt = c.ok("FETCH 1 (RFC822.SIZE BODY.PEEK[] BODY.PEEK[TEXT] "
                   "BODY.PEEK[]<100.50> BODY.PEEK[TEXT]<3000.40>)")
        f = fetches(unt).get(1, {})
        full = f.get("BODY[]") or b""
        on_disk = srv.messages(U2)[0][1]
        t.ok(full == crlf(on_disk) and int(f.get("RFC822.SIZE", 0)) ==
             len(full) and b"\n" not in full.replace(b"\r\n", b""),
             "a delivered message: BODY[] is the file with CRLF, "
             "RFC822.SIZE its length", (len(full), f.get("RFC822.SIZE"),
                                        len(on_disk)))
        t.ok(f.get("BODY[]<100>") == full[100:150] and
             f.get("BODY[TEXT]<3000>") == split_hb(full)[1][3000:3040],
             "partial fetches count CRLF octets",
             (f.get("BODY[]<100>"), f.get("BODY[TEXT]<3000>")))
        c.ok("LOGOUT")
        c.close()
    check("copy keeps flags", copy_flags)

    def expunge_rules():
        # RFC 3501 section 7.4.1: no EXPUNGE while answering FETCH, STORE
        # or SEARCH (sequence numbers would go out of step); at NOOP yes
        a, b = Conn(P993), Conn(P993)
        a.login(U2, PW2)
        b.login(U2, PW2)
        msg = b"Subject: x\r\n\r\nx\r\n"
        a.ok('CREATE "Rules"')
        for i in range(3):
            a.ok(b'APPEND "Rules" {%d+}\r\n' % len(msg) + msg)
        a.ok('SELECT "Rules"')
        b.ok('SELECT "Rules"')
        b.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
        b.ok("EXPUNGE")
        during = []
        for cmd in ("FETCH 1:* (FLAGS)", "STORE 3 +FLAGS (\\Seen)",
                    "SEARCH ALL"):
            st, line, unt = a.cmd(cmd)
            during += [(cmd, st)] + unt
        t.ok(not numbers([x for x in during if isinstance(x, bytes)],
                         "EXPUNGE") and all(x[1] == "OK" for x in during
                                            if isinstance(x, tuple)),
             "another session's EXPUNGE is not announced during FETCH, "
             "STORE, SEARCH (RFC 3501 section 7.4.1)", during)
        unt = a.ok("NOOP")
        t.eq(numbers(unt, "EXPUNGE"), [1], "... and is at the next NOOP")
        unt = a.ok("FETCH 1:* (UID)")
        t.eq(len(fetches(unt)), 2, "then 2 messages are left")
        a.ok("LOGOUT")
        b.ok("LOGOUT")
        a.close()
        b.close()
    check("expunge rules", expunge_rules)

    def concurrent():
        # two sessions APPEND at once, a third watches, deliveries arrive
        import threading
        msgs = [b"Subject: c%d\r\n\r\nbody %d\r\n" % (i, i) for i in range(40)]
        c = Conn(P993)
        c.login(U2, PW2)
        c.ok('CREATE "Busy"')
        c.ok('SELECT "Busy"')
        got = {}

        def writer(k):
            w = Conn(P993, timeout=30)
            w.login(U2, PW2)
            # pipelined: every APPEND with a non-synchronizing literal
            tags = []
            data = b""
            for i in range(k, 40, 2):
                tag = w.tag()
                tags.append(tag)
                data += (b'%s APPEND "Busy" {%d+}\r\n' %
                         (tag.encode(), len(msgs[i])) + msgs[i] + b"\r\n")
            w.send(data)
            res = []
            for tag in tags:
                st, line, _ = w.wait(tag, 30)
                res.append((st, code(line, "APPENDUID")))
            got[k] = res
            w.close()
        th = [threading.Thread(target=writer, args=(k,)) for k in (0, 1)]
        for x in th:
            x.start()
        for x in th:
            x.join(60)
        res = got.get(0, []) + got.get(1, [])
        auids = [int(a.split()[1]) for st, a in res if st == "OK" and a]
        t.ok(len(res) == 40 and all(st == "OK" for st, _ in res) and
             len(set(auids)) == 40, "40 APPENDs from 2 sessions at once: "
             "all OK, 40 distinct UIDs", res)
        seen = []
        wait_until(lambda: seen.extend(c.ok("NOOP")) or
                   40 in numbers(seen, "EXISTS"), 10, 0.2)
        t.ok(numbers(seen, "EXISTS")[-1:] == [40], "the watching session "
             "reaches * 40 EXISTS", seen[-5:])
        unt = c.ok("UID SEARCH ALL")
        t.eq(search_result(unt), sorted(auids), "its UIDs are the "
             "APPENDUIDs")
        # SMTP deliveries while two sessions poll the INBOX
        st, line, unt = c.cmd("SELECT INBOX")
        n0 = numbers(unt, "EXISTS")[0]
        w = Conn(P993)
        w.login(U2, PW2)
        w.ok("SELECT INBOX")
        th = threading.Thread(target=lambda: [
            deliver(srv, "burst %d" % i, to=U2) for i in range(10)])
        th.start()
        seen_c, seen_w = [], []
        t0 = time.monotonic()
        while time.monotonic() - t0 < 20:
            seen_c += c.ok("NOOP")
            seen_w += w.ok("NOOP")
            if not th.is_alive() and n0 + 10 in numbers(seen_c, "EXISTS") \
                    and n0 + 10 in numbers(seen_w, "EXISTS"):
                break
            time.sleep(0.05)
        th.join(30)
        uc = search_result(c.ok("UID SEARCH ALL"))
        uw = search_result(w.ok("UID SEARCH ALL"))
        t.ok(uc == uw and len(uc) == n0 + 10 and len(set(uc)) == len(uc)
             and numbers(seen_c, "EXISTS")[-1:] == [n0 + 10],
             "10 deliveries while two sessions poll: both see all of them, "
             "same UIDs", (numbers(seen_c, "EXISTS"), numbers(seen_w,
                                                             "EXISTS"),
                           uc, uw))
        w.close()
        c.ok("LOGOUT")
        c.close()
    check("concurrent", concurrent)

    def qresync_more():
        c = Conn(P993)
        c.login(U2, PW2)
        c.ok("ENABLE QRESYNC")
        st, line, unt = c.cmd('SELECT "Rules"')
        hm = int(code(b"\n".join(unt), "HIGHESTMODSEQ") or 0)
        uids_before = search_result(c.ok("UID SEARCH ALL"))
        c.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
        c.ok("EXPUNGE")
        unt = c.ok("UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d VANISHED)" % hm)
        van = [r for r in unt if r.upper().startswith(b"* VANISHED (EARLIER)")]
        t.ok(van and seqset_nums(van[0].split()[-1].decode()) ==
             uids_before[:1], "UID FETCH (CHANGEDSINCE m VANISHED): "
             "* VANISHED (EARLIER) uid (RFC 7162 section 3.2.6)", unt)
        c.ok("LOGOUT")
        c.close()
    check("qresync vanished", qresync_more)

    def idle_qresync():
        # with QRESYNC enabled, changes pushed in IDLE are VANISHED (not
        # EXPUNGE) and FETCH with UID and MODSEQ (RFC 7162 section 3.2.10)
        msg = b"Subject: iq\r\n\r\nx\r\n"
        o = Conn(P993)
        o.login(U2, PW2)
        o.ok('CREATE "IdleQ"')
        for i in range(2):
            o.ok(b'APPEND "IdleQ" {%d+}\r\n' % len(msg) + msg)
        q = Conn(P993)
        q.login(U2, PW2)
        q.ok("ENABLE QRESYNC")
        q.ok('SELECT "IdleQ"')
        first = search_result(q.ok("UID SEARCH ALL"))
        tag = q.tag()
        q.send("%s IDLE\r\n" % tag)
        q.response()
        o.ok('SELECT "IdleQ"')
        o.ok("STORE 2 +FLAGS (\\Flagged)")
        o.ok("STORE 1 +FLAGS (\\Deleted)")
        o.ok("EXPUNGE")
        seen = []
        t0 = time.monotonic()
        try:
            while time.monotonic() - t0 < 5 and not (any(
                    r.upper().startswith(b"* VANISHED") for r in seen) and
                    fetches(seen)):
                seen.append(q.response(timeout=max(0.5, 5 - (
                    time.monotonic() - t0))))
        except (socket.timeout, EOFError, OSError):
            pass
        q.send("DONE\r\n")
        try:
            q.wait(tag)
        except (socket.timeout, EOFError, OSError):
            pass
        van = [r for r in seen if r.upper().startswith(b"* VANISHED")]
        f = [d for d in fetches(seen).values()
             if "\\FLAGGED" in flags_of(d)]
        t.ok(van and seqset_nums(van[0].split()[-1].decode()) == first[:1]
             and not numbers(seen, "EXPUNGE"), "QRESYNC + IDLE: * VANISHED "
             "uid, not EXPUNGE", seen)
        t.ok(f and "UID" in f[0] and "MODSEQ" in f[0], "QRESYNC + IDLE: the "
             "flag change comes with UID and MODSEQ", seen)
        o.close()
        q.close()
    check("idle with qresync", idle_qresync)

    def external():
        # the store is a Maildir: files another program drops in, renames
        # or removes are seen by a selected session (maildir.h, mbox_sync)
        U3, PW3 = "lee@example.test", 'sp ace"q\\b'
        c = Conn(P993)
        st, line, _ = c.cmd('LOGIN "%s" "%s"' % (
            U3, PW3.replace("\\", "\\\\").replace('"', '\\"')))
        t.eq(st, "OK", "LOGIN with a password holding a space, a quote and "
             "a backslash (quoted-string escapes)")
        c.ok("SELECT INBOX")
        md = srv.maildir(U3)
        with open(os.path.join(md, "new", "1795000000.ext1.host"), "w") as f:
            f.write("Subject: dropped in\n\nbody\n")
        seen = []
        wait_until(lambda: seen.extend(c.ok("NOOP")) or
                   numbers(seen, "EXISTS"), 5, 0.2)
        t.eq(numbers(seen, "EXISTS"), [1], "a file dropped into new/ by "
             "another program: * 1 EXISTS")
        cur = [n for n in os.listdir(os.path.join(md, "cur"))
               if "ext1" in n]
        t.eq(len(cur), 1, "... moved to cur/ by the server")
        if cur:
            base = cur[0].split(":2,")[0]
            os.rename(os.path.join(md, "cur", cur[0]),
                      os.path.join(md, "cur", base + ":2,FS"))
            seen = []
            wait_until(lambda: seen.extend(c.ok("NOOP")) or fetches(seen),
                       5, 0.2)
            f = fetches(seen).get(1, {})
            t.eq(flags_of(f), ["\\FLAGGED", "\\SEEN"], "flags changed in "
                 "the file name by another program: * 1 FETCH (FLAGS "
                 "(\\Flagged \\Seen))")
            os.unlink(os.path.join(md, "cur", base + ":2,FS"))
            seen = []
            wait_until(lambda: seen.extend(c.ok("NOOP")) or
                       numbers(seen, "EXPUNGE"), 5, 0.2)
            t.eq(numbers(seen, "EXPUNGE"), [1], "a file removed by another "
                 "program: * 1 EXPUNGE")
        # malformed sections are syntax errors (RFC 3501 section 9)
        msg = b"Subject: s\r\n\r\nx\r\n"
        c.ok(b"APPEND INBOX {%d+}\r\n" % len(msg) + msg)
        c.ok("NOOP")
        for sec in ("HEADER.FIELDS ()", "0", "1.MIMEX", "1.0",
                    "HEADER.FIELDS (Subject", "4294967296",
                    "99999999999999999999"):
            st, line, unt = c.cmd("FETCH 1 (BODY.PEEK[%s])" % sec)
            t.ok(st == "BAD" and not fetches(unt), "FETCH BODY[%s]: BAD "
                 "(not in the section grammar: nz-number is 32-bit), no "
                 "FETCH answer" % sec, (line, unt))
        # hierarchy rules
        c.ok('CREATE "top/kid"')
        c.ok(b'APPEND "top/kid" {%d+}\r\n' % len(msg) + msg)
        st, line, _ = c.cmd('DELETE "top"')
        unt = c.ok('STATUS "top/kid" (MESSAGES)')
        t.ok(int(untagged_kind(unt, "STATUS")[0][1][1]) == 1,
             "DELETE of a parent (%s) leaves its child and the child's "
             "messages" % st, (line, unt))
        st, line, _ = c.cmd('RENAME "top" "top/kid/deeper"')
        t.ok(st in ("NO", "BAD"), "RENAME of a folder into its own child "
             "refused", line)
        st, line, _ = c.cmd('RENAME "Sent" "inbox"')
        t.ok(st in ("NO", "BAD"), "RENAME onto inbox (any case) refused",
             line)
        c.ok("LOGOUT")
        c.close()
    check("external changes", external)

    def rebuild():
        # maildir.h: the index is rebuilt from the files when it is gone.
        # The messages and their flags come back; if the UIDs are not the
        # same as before, UIDVALIDITY must be greater (RFC 3501 section
        # 2.3.1.1), or clients would show the wrong message for a UID.
        U3, PW3 = "lee@example.test", 'sp ace"q\\b'
        quoted = PW3.replace("\\", "\\\\").replace('"', '\\"')
        c = Conn(P993)
        c.cmd('LOGIN "%s" "%s"' % (U3, quoted))
        c.ok('CREATE "Rebuild"')
        for i, fl in enumerate(("(\\Seen)", "(\\Flagged)", "()", "()")):
            msg = b"Subject: r%d\r\n\r\nbody %d\r\n" % (i, i)
            c.ok(b'APPEND "Rebuild" %s {%d+}\r\n' % (fl.encode(), len(msg)) +
                 msg)
        st, line, unt = c.cmd('SELECT "Rebuild"')
        uv = int(code(b"\n".join(unt), "UIDVALIDITY") or 0)
        c.ok("STORE 3 +FLAGS.SILENT (\\Deleted)")
        c.ok("EXPUNGE")
        before = by_uid(c.ok("UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS "
                             "(SUBJECT)])"))
        c.ok("LOGOUT")
        c.close()
        md = srv.maildir(U3)
        time.sleep(0.5)
        for n in os.listdir(md):
            if n.startswith("index.db"):
                os.unlink(os.path.join(md, n))
        c = Conn(P993)
        c.cmd('LOGIN "%s" "%s"' % (U3, quoted))
        st, line, unt = c.cmd('SELECT "Rebuild"')
        uv2 = int(code(b"\n".join(unt), "UIDVALIDITY") or 0)
        after = by_uid(c.ok("UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS "
                            "(SUBJECT)])"))
        c.ok("LOGOUT")
        c.close()

        def view(d):
            return sorted((v.get("BODY[HEADER.FIELDS (SUBJECT)]"),
                           flags_of(v)) for v in d.values())
        t.eq(view(after), view(before), "index removed: the messages and "
             "their flags come back from the Maildir")
        same = {u: v.get("BODY[HEADER.FIELDS (SUBJECT)]")
                for u, v in before.items()} == \
            {u: v.get("BODY[HEADER.FIELDS (SUBJECT)]")
             for u, v in after.items()}
        t.ok(same or uv2 > uv, "the UIDs are the same, or UIDVALIDITY is "
             "greater than before (RFC 3501 section 2.3.1.1)",
             "UIDVALIDITY %d -> %d, UIDs %s -> %s" % (
                 uv, uv2, sorted(before), sorted(after)))
    check("index rebuild", rebuild)

    def deleted_elsewhere():
        # RFC 2180 section 3: when another session deletes the selected
        # mailbox, the server refuses, says BYE, fails later commands, or
        # shows the messages as expunged; never carries on as if nothing
        # happened (OK to FETCH of a message it said EXISTS, with no data)
        c = Conn(P993)
        c.login(U2, PW2)
        msg = b"Subject: gone\r\n\r\nx\r\n"
        c.ok('CREATE "Doomed"')
        c.ok(b'APPEND "Doomed" {%d+}\r\n' % len(msg) + msg)
        a = Conn(P993)
        a.login(U2, PW2)
        a.ok('SELECT "Doomed"')
        st, line, _ = c.cmd('DELETE "Doomed"')
        seen = []
        try:
            for cmd in ("NOOP", "FETCH 1 (BODY.PEEK[])"):
                s2, l2, unt = a.cmd(cmd)
                seen.append((cmd, s2, l2, unt))
        except (EOFError, OSError, socket.timeout) as e:
            seen.append(("closed", repr(e)))
        told = (st != "OK" or any(x[0] == "closed" for x in seen) or
                any(r.startswith(b"* BYE") or numbers([r], "EXPUNGE") or
                    numbers([r], "EXISTS") == [0] or
                    r.upper().startswith(b"* VANISHED")
                    for x in seen if len(x) == 4 for r in x[3]) or
                any(len(x) == 4 and x[0].startswith("FETCH") and
                    (x[1] != "OK" or fetches(x[3])) for x in seen))
        t.ok(told, "a session whose mailbox another session deleted is "
             "told so (RFC 2180 section 3)", (line, seen))
        a.close()
        c.close()
    check("deleted elsewhere", deleted_elsewhere)


def limits():
    """A second server with small limits: sessions per user and per
    address, the autologout timer, max_errors, plaintext in development."""
    srv = Server(services=("smtp", "imap", "imaps"),
                 overrides=["imapd.max_sessions_per_user=3",
                            "imapd.max_sessions_per_ip=5",
                            "imapd.timeout=10s", "imapd.max_errors=3",
                            "imapd.append_limit=2k",
                            "imapd.max_line_length=2048",
                            "auth.allow_plaintext=yes",
                            "auth.failure_delay_max=1s"])
    srv.setup(users=[(U, PW), (U2, PW2)])
    try:
        srv.start()
        P143, P993 = srv.port("imap"), srv.port("imaps")

        def plaintext():
            c = Conn(P143, tls=False)
            st, line, unt = c.cmd("CAPABILITY")
            caps = b" ".join(unt).upper().split()
            t.ok(b"LOGINDISABLED" not in caps and b"STARTTLS" in caps,
                 "auth.allow_plaintext=yes: no LOGINDISABLED on 143", unt)
            st, line, _ = c.login()
            t.eq(st, "OK", "and LOGIN in the clear works")
            c.close()
            c = Conn(P993)
            c.login()
            st, line, unt = c.cmd("CAPABILITY")
            t.ok(b"APPENDLIMIT=2048" in b" ".join(unt).upper(),
                 "APPENDLIMIT=2048 with imapd.append_limit=2k", unt)
            body = b"Subject: big\r\n\r\n" + b"y" * 3000 + b"\r\n"
            tag = c.tag()
            c.send(b'%s APPEND INBOX {%d}\r\n' % (tag.encode(), len(body)))
            r = c.response()
            t.ok(r.startswith(tag.encode() + b" NO") and code(r, "TOOBIG")
                 is not None, "APPEND of 3 KB over a 2 KB limit: NO [TOOBIG]",
                 r)
            try:
                st, line, unt = c.cmd(b'APPEND INBOX {%d+}\r\n' % len(body) +
                                      body)
            except (socket.timeout, EOFError, OSError) as e:
                st, line = "closed", repr(e)
            t.ok(st in ("NO", "BAD", "closed"), "the same as a "
                 "non-synchronizing literal: NO/BAD (or BYE)", line)
            c.close()
            c = Conn(P993)
            c.login()
            c.send("l1 NOOP " + "z" * 3000 + "\r\n")
            try:
                r = c.response()
            except (socket.timeout, EOFError) as e:
                r = repr(e).encode()
            t.ok(r.startswith(b"l1 BAD") or r.startswith(b"* BAD") or
                 r.startswith(b"* BYE") or b"EOF" in r, "a 3000-octet line "
                 "with imapd.max_line_length=2048: BAD/BYE", r[:100])
            c.close()
        check("plaintext", plaintext)
        time.sleep(1)

        def sessions():
            conns = []
            for i in range(3):
                c = Conn(P993)
                st, line, _ = c.login()
                conns.append(c)
            t.ok(all(c.cmd("NOOP")[0] == "OK" for c in conns),
                 "3 sessions of one user (imapd.max_sessions_per_user=3)")
            c = Conn(P993)
            st, line, _ = c.login()
            t.ok(st == "NO" and code(line, "LIMIT") is not None,
                 "a 4th login of the same user: NO [LIMIT]", line)
            conns.append(c)
            c = Conn(P993)
            st, line, _ = c.login(U2, PW2)
            t.eq(st, "OK", "another user may still log in")
            conns.append(c)
            if conns[3].closed(0.5):     # the server closed the refused one
                conns.append(Conn(P993))
            # 5 connections from 127.0.0.1 are open now
            refused = False
            try:
                c = Conn(P993)
                refused = c.greeting.startswith(b"* BYE") or c.closed(2)
                conns.append(c)
            except (EOFError, OSError, ssl.SSLError):
                refused = True
            t.ok(refused, "a 6th connection from the address "
                 "(imapd.max_sessions_per_ip=5) is refused")
            for c in conns:
                c.close()
            time.sleep(1)
            c = Conn(P993)
            st, line, _ = c.login()
            t.eq(st, "OK", "after they closed, a login works again")
            c.close()
        check("sessions", sessions)

        def errors():
            c = Conn(P993)
            c.login()
            sts = [c.cmd("FROB%d" % i)[0] for i in range(2)]
            c.send("e3 FROB\r\n")
            rs = []
            try:
                while True:
                    rs.append(c.response(timeout=5))
            except (socket.timeout, EOFError, OSError):
                pass
            t.ok(sts == ["BAD", "BAD"] and any(r.startswith(b"* BYE")
                                               for r in rs) and c.closed(3),
                 "imapd.max_errors=3: the 3rd bad command ends the session "
                 "with * BYE", (sts, rs))
            c.close()
        check("errors", errors)

        def autologout():
            # before login too: a TLS connection that never logs in, and a
            # TCP connection that never starts its TLS handshake
            pre = Conn(P993)
            raw = socket.create_connection((HOST, P993), timeout=30)
            c = Conn(P993)
            c.login()
            c.ok("SELECT INBOX")
            t0 = time.monotonic()
            got = []
            try:
                while time.monotonic() - t0 < 25:
                    got.append(c.response(timeout=25))
            except (socket.timeout, EOFError, OSError):
                pass
            dt = time.monotonic() - t0
            t.ok(any(r.startswith(b"* BYE") for r in got) and 8 <= dt <= 20,
                 "imapd.timeout=10s: * BYE and close after about 10 s "
                 "(%.1fs)" % dt, got)
            c.close()
            t.ok(pre.closed(10), "a connection that never logs in is closed "
                 "too", pre.buf)
            pre.close()
            try:
                raw.settimeout(10)
                gone = raw.recv(100) == b""
            except socket.timeout:
                gone = False
            except OSError:
                gone = True
            t.ok(gone, "and one that never starts TLS on 993")
            raw.close()
            c = Conn(P993)
            c.login()
            c.ok("SELECT INBOX")
            tag = c.tag()
            c.send("%s IDLE\r\n" % tag)
            c.response()
            t0 = time.monotonic()
            got = []
            try:
                while time.monotonic() - t0 < 25:
                    got.append(c.response(timeout=25))
            except (socket.timeout, EOFError, OSError):
                pass
            dt = time.monotonic() - t0
            t.ok(any(r.startswith(b"* BYE") for r in got) and dt <= 20,
                 "an IDLE session is logged out too (RFC 2177 section 3) "
                 "(%.1fs)" % dt, got)
            c.close()
        check("autologout", autologout)
    finally:
        srv.cleanup()


if __name__ == "__main__":
    main()
