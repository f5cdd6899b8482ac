#!/usr/bin/python3
"""A real DNS server on loopback for tests (UDP and TCP), built on dnslib.

It is authoritative for every name: a name in the zone is answered from
it, any other name is NXDOMAIN, and nothing is ever forwarded anywhere.

    dns = TestDNS()                 # binds a free port on 127.0.0.1
    dns.start()                     # serves from a thread of this process
    dns.address                     # "127.0.0.1:PORT" (for dns.resolver=)
    dns.set_zone({
        "a.test":     [("MX", (10, "mx.a.test")),
                       ("TXT", "v=spf1 ip4:127.0.0.2 -all")],
        "mx.a.test":  [("A", "127.0.0.2"), ("AAAA", "::2")],
        "null.test":  [("MX", (0, "."))],                # null MX, RFC 7505
        "long.test":  [("TXT", ["first string ", "second"])],
        "www.a.test": [("CNAME", "a.test")],
        "2.0.0.127.in-addr.arpa": [("PTR", "mx.a.test")],
        "empty.test": [],                 # exists, no records: NODATA
        "slow.test":  "TIMEOUT",          # no answer at all, to any query
        "broken.test": "SERVFAIL",
        "half.test":  [("TXT", "v=spf1 -all"), "TIMEOUT"],
        "t.test":     [("A", "192.0.2.1"), ("TXT", "TIMEOUT")],
    })
    dns.queries                     # [Query(name, qtype, proto), ...]
    dns.queried("a.test", "MX")     # how many such queries arrived
    dns.clear_queries()
    dns.answering = False           # drop every query (server hangs)
    dns.stop()                      # closes the sockets: port refuses
    dns.start()                     # serves again on the same port

Records are (TYPE, value) tuples (or {"TYPE": value} maps, the RFC 7208
suite's form): A and AAAA take an address, MX (preference, host), CNAME
and PTR and NS a host, TXT and SPF (type 99) a string or a list of
character-strings (str or bytes).  A str becomes octets as Latin-1 when
every character fits (so "\\x96" is the single octet 0x96, as the YAML
escapes of the RFC 7208 suite mean), else as UTF-8; a single string
longer than 255 octets is cut into 255-octet character-strings, the way
a zone file must carry it (SPF joins them without separator, RFC 7208
3.3).  TXT with an empty list is a record with no strings at all.

Failure markers: a name whose value is "TIMEOUT" or "SERVFAIL" answers
every query that way; the marker as an element of a record list applies
to the query types with no records at that name (the RFC 7208 suite's
meaning of TIMEOUT); (TYPE, "TIMEOUT") or (TYPE, "SERVFAIL") applies to
that type only.  TIMEOUT means no reply ever, so the client times out.

Answers carry the AA bit, TTL 0 and, when negative, an SOA in the
authority section (RFC 2308).  Names compare case-insensitively and are
answered in the case asked.  NXDOMAIN means that neither the name nor
anything below it is in the zone (an empty non-terminal is NODATA, RFC
8020).  A CNAME is answered together with the target's records of the
asked type, following up to 8 links.  A UDP answer larger than
udp_limit octets (512, RFC 1035 4.2.1, unless EDNS asks for more and
udp_limit allows it) is sent empty with the TC bit, and the full answer
is served over TCP (RFC 7766).  Unparsable queries get FORMERR when
their header can be read and are dropped otherwise; the server never
dies on what it receives.

Standalone, for trying things by hand:
    /usr/bin/python3 t/lib/testdns.py --port 5353 --zone zone.json
where zone.json holds the same mapping (lists for the tuples).
"""
import collections
import ipaddress
import json
import selectors
import socket
import struct
import threading
import time

from dnslib import (AAAA, CNAME, DNSHeader, DNSLabel, DNSQuestion, DNSRecord,
                    EDNS0, MX, NS, PTR, QTYPE, RCODE, RR, SOA, TXT, A)
from dnslib.dns import DNSError

Query = collections.namedtuple("Query", "name qtype proto")

MARKERS = ("TIMEOUT", "SERVFAIL")
TYPES = {"A": 1, "NS": 2, "CNAME": 5, "PTR": 12, "MX": 15, "TXT": 16,
         "AAAA": 28, "SPF": 99}
ANY = 255
MAX_CNAME_CHAIN = 8
MAX_TCP_CONNECTIONS = 32
TCP_IDLE_SECONDS = 10
MAX_QUERY_LOG = 100000          # enough for any test, bounded anyway


def _octets(s):
    """str -> bytes: Latin-1 when possible (YAML "\\x96" is one octet)."""
    if isinstance(s, bytes):
        return s
    try:
        return s.encode("latin-1")
    except UnicodeEncodeError:
        return s.encode("utf-8")


def name_key(name):
    """A zone or query name -> tuple of lower-case label octets."""
    if isinstance(name, (tuple, list)):
        labels = [_octets(l) for l in name]
    else:
        n = _octets(name)
        if n.endswith(b".") and n != b".":
            n = n[:-1]
        labels = [] if n in (b"", b".") else n.split(b".")
    return tuple(l.lower() for l in labels)


def _text(labels):
    return ".".join(l.decode("utf-8", "backslashreplace") for l in labels)


def _label(value):
    """A host name in rdata -> DNSLabel, without IDNA surprises."""
    if isinstance(value, DNSLabel):
        return value
    n = _octets(value)
    if n in (b"", b"."):
        return DNSLabel(())
    return DNSLabel(tuple(n.rstrip(b".").split(b".")))


def _txt(value):
    if isinstance(value, (list, tuple)):
        strings = [_octets(s) for s in value]
        if any(len(s) > 255 for s in strings):
            raise ValueError("TXT character-string over 255 octets: %r"
                             % value)
        return TXT(strings)
    b = _octets(value)
    return TXT([b[i:i + 255] for i in range(0, len(b), 255)] or [b""])


def _rdata(rtype, value):
    if rtype == "A":
        return A(str(ipaddress.IPv4Address(value)))
    if rtype == "AAAA":
        return AAAA(str(ipaddress.IPv6Address(value)))
    if rtype == "MX":
        pref, host = value
        return MX(_label(host), int(pref))
    if rtype in ("CNAME", "PTR", "NS"):
        return {"CNAME": CNAME, "PTR": PTR, "NS": NS}[rtype](_label(value))
    if rtype in ("TXT", "SPF"):
        return _txt(value)
    raise ValueError("unsupported record type %r" % rtype)


class _Node:
    """One name: its records by type, and what to do for other types."""

    def __init__(self):
        self.rrs = {}           # qtype -> [rdata] | "TIMEOUT" | "SERVFAIL"
        self.otherwise = None   # None (NODATA) | "TIMEOUT" | "SERVFAIL"


def compile_zone(zone):
    """Check and convert a zone mapping; raises ValueError when bad."""
    nodes = {}
    for name, records in zone.items():
        node = _Node()
        if isinstance(records, str):
            if records not in MARKERS:
                raise ValueError("%s: unknown marker %r" % (name, records))
            node.otherwise = records
        else:
            for rec in records:
                if isinstance(rec, str):
                    if rec not in MARKERS:
                        raise ValueError("%s: unknown marker %r" % (name, rec))
                    node.otherwise = rec
                    continue
                if isinstance(rec, dict):
                    items = list(rec.items())
                else:
                    items = [tuple(rec)]
                for rtype, value in items:
                    rtype = rtype.upper()
                    if rtype not in TYPES:
                        raise ValueError("%s: unsupported type %r"
                                         % (name, rtype))
                    qt = TYPES[rtype]
                    if isinstance(value, str) and value in MARKERS:
                        node.rrs[qt] = value
                        continue
                    lst = node.rrs.setdefault(qt, [])
                    if isinstance(lst, str):
                        continue        # a marker for this type wins
                    lst.append(_rdata(rtype, value))
        if len(node.rrs.get(TYPES["CNAME"], ())) > 1:
            raise ValueError("%s: more than one CNAME" % name)
        key = name_key(name)
        if key in nodes:
            raise ValueError("%s: name given twice" % name)
        nodes[key] = node
    # empty non-terminals: every proper suffix of a name exists (RFC 8020)
    ents = set()
    for key in nodes:
        for i in range(1, len(key)):
            ents.add(key[i:])
    return nodes, ents


def _parse_question(packet):
    """Fallback parser for what dnslib refuses (labels that are not
    UTF-8): header and first question only.  Returns (id, flags, qdcount,
    labels, qtype, qclass) or raises ValueError."""
    if len(packet) < 12:
        raise ValueError("short header")
    qid, flags, qd = struct.unpack("!HHH", packet[:6])
    off, labels = 12, []
    while True:
        if off >= len(packet):
            raise ValueError("truncated name")
        n = packet[off]
        off += 1
        if n == 0:
            break
        if n & 0xC0:
            raise ValueError("compression in a question")
        labels.append(packet[off:off + n])
        off += n
        if off > len(packet) or len(labels) > 127:
            raise ValueError("bad name")
    if off + 4 > len(packet):
        raise ValueError("truncated question")
    qtype, qclass = struct.unpack("!HH", packet[off:off + 4])
    return qid, flags, qd, tuple(labels), qtype, qclass


class TestDNS:
    """See the module docstring."""

    def __init__(self, host="127.0.0.1", port=0, zone=None, udp_limit=512):
        self.host = host
        self.udp_limit = udp_limit
        self.answering = True
        self.queries = []
        self._lock = threading.Lock()
        self._zone = ({}, set())
        if zone is not None:
            self.set_zone(zone)
        self._thread = None
        self._udp = self._tcp = None
        self.port = self._bind(port)

    # --- public API ---
    @property
    def address(self):
        if ":" in self.host:
            return "[%s]:%d" % (self.host, self.port)
        return "%s:%d" % (self.host, self.port)

    def set_zone(self, zone):
        """Replace the whole zone at once (a compiled copy)."""
        self._zone = compile_zone(zone)

    def clear_queries(self):
        with self._lock:
            del self.queries[:]

    def queried(self, name, qtype=None):
        """How many queries for name (and qtype, e.g. "MX") arrived."""
        key = name_key(name)
        with self._lock:
            return sum(1 for q in self.queries if name_key(q.name) == key and
                       (qtype is None or q.qtype == qtype))

    def start(self):
        if self._thread is not None:
            return self
        if self._udp is None:
            self._bind(self.port)
        self._stop_r, self._stop_w = socket.socketpair()
        self._thread = threading.Thread(target=self._serve, daemon=True,
                                        name="testdns:%d" % self.port)
        self._thread.start()
        return self

    def stop(self):
        """Stop serving and close the sockets; returns within a second."""
        if self._thread is not None:
            try:
                self._stop_w.send(b"x")
            except OSError:
                pass
            self._thread.join(1.0)
            self._thread = None
            self._stop_r.close()
            self._stop_w.close()
        for s in (self._udp, self._tcp):
            if s is not None:
                s.close()
        self._udp = self._tcp = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- sockets ---
    def _bind(self, port):
        """Bind UDP and TCP on the same port (a free one if port is 0)."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        for _ in range(50):
            tcp = socket.socket(family, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            udp = socket.socket(family, socket.SOCK_DGRAM)
            try:
                tcp.bind((self.host, port))
                udp.bind((self.host, tcp.getsockname()[1]))
            except OSError:
                tcp.close()
                udp.close()
                if port:
                    raise
                continue
            tcp.listen(16)
            tcp.setblocking(False)
            udp.setblocking(False)
            self._udp, self._tcp = udp, tcp
            return tcp.getsockname()[1]
        raise OSError("no free port for UDP and TCP on " + self.host)

    def _serve(self):
        sel = selectors.DefaultSelector()
        sel.register(self._stop_r, selectors.EVENT_READ, "stop")
        sel.register(self._udp, selectors.EVENT_READ, "udp")
        sel.register(self._tcp, selectors.EVENT_READ, "accept")
        conns = {}      # socket -> [inbuf, outbuf, last activity]
        try:
            while True:
                for key, ev in sel.select(timeout=1.0):
                    what = key.data
                    if what == "stop":
                        return
                    if what == "udp":
                        self._on_udp()
                    elif what == "accept":
                        self._on_accept(sel, conns)
                    else:
                        self._on_tcp(sel, conns, key.fileobj, ev)
                now = time.monotonic()
                for s, c in list(conns.items()):
                    if now - c[2] > TCP_IDLE_SECONDS:
                        self._close(sel, conns, s)
        finally:
            for s in list(conns):
                self._close(sel, conns, s)
            sel.close()

    def _on_udp(self):
        for _ in range(64):                     # drain, but bounded
            try:
                packet, peer = self._udp.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            reply = self._handle(packet, "udp")
            if reply is not None:
                try:
                    self._udp.sendto(reply, peer)
                except OSError:
                    pass

    def _on_accept(self, sel, conns):
        try:
            s, _ = self._tcp.accept()
        except OSError:
            return
        if len(conns) >= MAX_TCP_CONNECTIONS:
            s.close()
            return
        s.setblocking(False)
        conns[s] = [b"", b"", time.monotonic()]
        sel.register(s, selectors.EVENT_READ, "tcp")

    def _close(self, sel, conns, s):
        try:
            sel.unregister(s)
        except (KeyError, ValueError):
            pass
        conns.pop(s, None)
        s.close()

    def _on_tcp(self, sel, conns, s, ev):
        c = conns.get(s)
        if c is None:
            return
        c[2] = time.monotonic()
        if ev & selectors.EVENT_READ:
            try:
                data = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                data = None
            except OSError:
                data = b""
            if data == b"":
                self._close(sel, conns, s)
                return
            if data:
                c[0] += data
            # RFC 1035 4.2.2: two-octet length, then the message
            while len(c[0]) >= 2:
                n = struct.unpack("!H", c[0][:2])[0]
                if len(c[0]) < 2 + n:
                    break
                packet, c[0] = c[0][2:2 + n], c[0][2 + n:]
                reply = self._handle(packet, "tcp")
                if reply is not None:
                    c[1] += struct.pack("!H", len(reply)) + reply
            if len(c[0]) > 65537 + 2:
                self._close(sel, conns, s)
                return
        if c[1]:
            try:
                sent = s.send(c[1])
                c[1] = c[1][sent:]
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                self._close(sel, conns, s)
                return
        sel.modify(s, selectors.EVENT_READ |
                   (selectors.EVENT_WRITE if c[1] else 0), "tcp")

    # --- answering ---
    def _handle(self, packet, proto):
        """One query -> reply octets, or None for no reply at all."""
        try:
            return self._answer(packet, proto)
        except Exception as e:          # never let a query kill the server
            try:
                qid, flags = struct.unpack("!HH", packet[:4])
            except struct.error:
                return None
            import sys
            print("testdns: internal error on a query: %r" % e,
                  file=sys.stderr)
            return struct.pack("!HHHHHH", qid,
                               0x8000 | (flags & 0x7900) | RCODE.SERVFAIL,
                               0, 0, 0, 0)

    def _answer(self, packet, proto):
        edns = None
        try:
            req = DNSRecord.parse(packet)
            qid, flags = req.header.id, req.header.bitmap
            qd = len(req.questions)
            if qd:
                q = req.questions[0]
                labels, qtype, qclass = q.qname.label, q.qtype, q.qclass
            for rr in req.ar:
                if rr.rtype == QTYPE.OPT:
                    edns = rr
        except DNSError:
            try:
                qid, flags, qd, labels, qtype, qclass = \
                    _parse_question(packet)
            except ValueError:
                if len(packet) < 12:
                    return None
                qid, flags = struct.unpack("!HH", packet[:4])
                return self._rcode_only(qid, flags, RCODE.FORMERR)
        if flags & 0x8000:
            return None                 # a response: never answer those
        opcode = (flags >> 11) & 0xF
        if opcode != 0:
            return self._rcode_only(qid, flags, RCODE.NOTIMP)
        if qd != 1 or any(len(l) > 63 for l in labels):
            return self._rcode_only(qid, flags, RCODE.FORMERR)
        with self._lock:
            if len(self.queries) < MAX_QUERY_LOG:
                self.queries.append(Query(_text(labels),
                                          QTYPE.get(qtype), proto))
        if not self.answering:
            return None
        reply = DNSRecord(DNSHeader(id=qid, qr=1, aa=1, rd=(flags >> 8) & 1,
                                    opcode=0),
                          q=DNSQuestion(DNSLabel(labels), qtype, qclass))
        if qclass not in (1, 255):
            reply.header.rcode = RCODE.REFUSED
        else:
            rcode = self._resolve(reply, labels, qtype)
            if rcode is None:
                return None             # TIMEOUT: the client must time out
            reply.header.rcode = rcode
        # RFC 1035 4.2.1: 512 octets over UDP; RFC 6891 6.2.5: with EDNS,
        # what the requestor offers.  udp_limit caps both (tests lower it
        # to force the TCP fallback).
        if edns is None:
            limit = min(512, self.udp_limit)
        else:
            limit = min(max(512, edns.edns_len), self.udp_limit)
            reply.add_ar(EDNS0(udp_len=max(512, self.udp_limit)))
        try:
            data = reply.pack()
        except Exception:
            # e.g. a zone name with an over-long label as a CNAME target
            return self._rcode_only(qid, flags, RCODE.SERVFAIL, labels,
                                    qtype, qclass)
        if proto == "udp" and len(data) > limit:
            reply.rr, reply.auth = [], []       # RFC 2181 9: TC, then TCP
            reply.header.tc = 1
            data = reply.pack()
        elif proto == "tcp" and len(data) > 65535:
            return self._rcode_only(qid, flags, RCODE.SERVFAIL, labels,
                                    qtype, qclass)
        return data

    def _rcode_only(self, qid, flags, rcode, labels=None, qtype=1, qclass=1):
        reply = DNSRecord(DNSHeader(id=qid, qr=1, aa=1, rd=(flags >> 8) & 1,
                                    rcode=rcode))
        if labels is not None:
            reply.add_question(DNSQuestion(DNSLabel(labels), qtype, qclass))
        try:
            return reply.pack()
        except Exception:
            return struct.pack("!HHHHHH", qid, 0x8400 | (flags & 0x0100) |
                               rcode, 0, 0, 0, 0)

    def _resolve(self, reply, labels, qtype):
        """Fill reply's answer/authority; return the rcode, or None for
        no reply at all."""
        nodes, ents = self._zone
        name = labels                   # answered in the case asked
        for _ in range(MAX_CNAME_CHAIN + 1):
            key = tuple(l.lower() for l in name)
            node = nodes.get(key)
            if node is None:
                if key in ents:
                    self._soa(reply, name)
                    return RCODE.NOERROR
                self._soa(reply, name)
                return RCODE.NXDOMAIN
            if qtype == ANY:
                types = [t for t, v in node.rrs.items() if not isinstance(v, str)]
            else:
                types = [qtype] if qtype in node.rrs else []
            own = node.rrs.get(qtype)
            if isinstance(own, str):
                return None if own == "TIMEOUT" else RCODE.SERVFAIL
            cname = node.rrs.get(TYPES["CNAME"])
            if not types and isinstance(cname, list) and qtype != ANY:
                reply.add_answer(RR(DNSLabel(name), TYPES["CNAME"],
                                    ttl=0, rdata=cname[0]))
                name = cname[0].label.label
                continue
            if not types:
                if node.otherwise == "TIMEOUT":
                    return None
                if node.otherwise == "SERVFAIL":
                    return RCODE.SERVFAIL
                self._soa(reply, name)
                return RCODE.NOERROR    # NODATA (RFC 2308 2.2)
            for t in types:
                for rd in node.rrs[t]:
                    reply.add_answer(RR(DNSLabel(name), t, ttl=0, rdata=rd))
            return RCODE.NOERROR
        return RCODE.SERVFAIL           # CNAME chain too long or a loop

    @staticmethod
    def _soa(reply, name):
        apex = DNSLabel(tuple(name[-1:]))     # the TLD, or the root
        reply.add_auth(RR(apex, QTYPE.SOA, ttl=0, rdata=SOA(
            apex.add("ns"), apex.add("hostmaster"), (1, 3600, 600, 86400, 0))))


def _main():
    import argparse
    import signal
    p = argparse.ArgumentParser(description="Test DNS server (loopback)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--zone", help="JSON file: {name: [[TYPE, value], ...]}")
    p.add_argument("--udp-limit", type=int, default=512)
    a = p.parse_args()
    if not (a.host.startswith("127.") or a.host == "::1"):
        p.error("loopback addresses only")
    zone = {}
    if a.zone:
        with open(a.zone) as f:
            zone = json.load(f)
    dns = TestDNS(a.host, a.port, zone, a.udp_limit).start()
    print("testdns: listening on %s (UDP and TCP)" % dns.address, flush=True)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    while not done.wait(0.5):
        pass
    dns.stop()
    for q in dns.queries:
        print("%s %s %s" % (q.proto, q.qtype, q.name))


if __name__ == "__main__":
    _main()
