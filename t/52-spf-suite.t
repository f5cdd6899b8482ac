#!/usr/bin/python3
# The RFC 7208 test suite (t/data/rfc7208-tests.yml, openspf.org, BSD
# licence) run against "mailctl spf check": the verdict smtpd reaches,
# through the same code and resolver.  Each scenario's zone is served by
# a real DNS server on loopback (t/lib/testdns.py); every test is one
# mailctl process.  Tests that fail because of libspf2 itself are listed,
# with the reason, in t/data/rfc7208-known-failures and reported as TODO.
#
#   prove --exec '' t/52-spf-suite.t           the whole suite
#   SPF_SUITE_ONLY=name,name t/52-spf-suite.t  some tests, with their DNS
#                                              queries shown
import os
import shutil
import subprocess
import sys
import tempfile
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
from maildtest import BINDIR, TAP  # noqa: E402
from testdns import TestDNS  # noqa: E402

SUITE = os.path.join(HERE, "data", "rfc7208-tests.yml")
KNOWN = os.path.join(HERE, "data", "rfc7208-known-failures")
MAILCTL = os.path.join(BINDIR, "mailctl")
DNS_TIMEOUT = "1s"     # one try: a TIMEOUT test costs one second


def suite_zone(zonedata):
    """The suite's zonedata as a TestDNS zone.

    The suite's header: records are written as type SPF (99) and "other
    sections rely on auto-magic duplication of SPF to TXT records (by
    test suite drivers)".  The reference driver (pyspf's testspf.py) adds
    a TXT copy of a name's SPF records unless the name has TXT records of
    its own, "TXT: NONE" (which only says: no TXT here) included, and
    does so in every section: the "Selecting records" tests expect it too
    (e.g. "empty", an SPF-only "v=spf1", is neutral, not none).  Since
    only TXT is looked up (RFC 7208 3.1, 4.4), this is how SPF-written
    records reach an implementation.  TIMEOUT: queries for types the name
    has no records of go unanswered (the driver puts the copies after the
    marker, where they are never reached, so a name with TIMEOUT gets
    none).
    """
    zone = {}
    for name, records in zonedata.items():
        out, spf, has_txt, timeout = [], [], False, False
        for r in records:
            if r == "TIMEOUT":
                timeout = True
                out.append("TIMEOUT")
                continue
            for rtype, value in r.items():
                if rtype == "TXT":
                    has_txt = True
                if value == "NONE":
                    continue
                if rtype in ("TXT", "SPF") and isinstance(value, str):
                    value = [value]         # one character-string
                out.append((rtype, value))
                if rtype == "SPF":
                    spf.append(("TXT", value))
        if not has_txt and not timeout:
            out += spf
        zone[name] = out
    return zone


def printable(name):
    """A queried name for a diagnostic: octets outside visible ASCII
    escaped."""
    return "".join(chr(c) if 0x20 < c < 0x7f else "\\x%02x" % c
                   for c in name.encode("utf-8", "backslashreplace"))


def known_failures():
    known = {}
    if os.path.exists(KNOWN):
        with open(KNOWN) as f:
            for n, line in enumerate(f, 1):
                line = line.rstrip("\n")
                if not line.strip() or line.startswith("#"):
                    continue
                name, _, reason = line.partition("\t")
                if not reason.strip():
                    raise SystemExit("%s:%d: no reason given" % (KNOWN, n))
                known[name.strip()] = reason.strip()
    return known


def mailctl_spf(conf, dns, host, mailfrom, helo):
    """Run mailctl spf check; returns (exit status, {key: value}, raw)."""
    args = [MAILCTL, "-c", conf, "-o", "dns.resolver=" + dns.address,
            "-o", "dns.timeout=" + DNS_TIMEOUT, "-o", "dns.attempts=1",
            "spf", "check", host,
            mailfrom, helo]
    try:
        p = subprocess.run(args, capture_output=True, timeout=60)
    except subprocess.TimeoutExpired as e:
        return None, {}, "timed out after 60 s: %r" % e
    out = p.stdout.decode("utf-8", "replace")
    fields = {}
    for line in out.splitlines():
        key, sep, value = line.partition(": ")
        if sep and key not in fields:
            fields[key] = value
    raw = "$ %s\n%s%s(exit %d)" % (
        " ".join(repr(a) if (" " in a or not a) else a for a in args[1:]),
        out, p.stderr.decode("utf-8", "replace"), p.returncode)
    return p.returncode, fields, raw


def main():
    t = TAP()
    with open(SUITE, "rb") as f:
        scenarios = list(yaml.safe_load_all(f))
    known = known_failures()
    all_names = {n for s in scenarios for n in s["tests"]}
    for n in sorted(set(known) - all_names):
        t.ok(False, "known-failures names a test the suite lacks: " + n)
    only = set(filter(None, os.environ.get("SPF_SUITE_ONLY", "").split(",")))

    tmp = tempfile.mkdtemp(prefix="spfsuite.")
    conf = os.path.join(tmp, "maild.conf")
    with open(conf, "w") as f:
        # %{r} and the headers name the receiver
        f.write("[server]\nhostname = mx.receiver.test\n"
                "data_dir = %s\n" % os.path.join(tmp, "data"))
    dns = TestDNS().start()
    passed = total = 0
    started = time.monotonic()
    try:
        # The wiring first: mailctl must ask our server, and a verdict
        # must depend on what it answers.
        dns.set_zone({"wired.test": [("TXT", "v=spf1 ip4:192.0.2.7 -all")]})
        rc, got, raw = mailctl_spf(conf, dns, "192.0.2.7", "a@wired.test",
                                   "h.wired.test")
        t.ok(rc == 0 and got.get("result") == "pass" and
             dns.queried("wired.test", "TXT") >= 1,
             "harness: mailctl asks the test DNS server (pass)", raw)
        rc, got, raw = mailctl_spf(conf, dns, "192.0.2.8", "a@wired.test",
                                   "h.wired.test")
        t.ok(rc == 0 and got.get("result") == "fail",
             "harness: another address fails against the same record", raw)

        for sc in scenarios:
            desc = sc["description"]
            zone = suite_zone(sc.get("zonedata") or {})
            for name, test in sc["tests"].items():
                if only and name not in only:
                    continue
                dns.set_zone(zone)
                dns.clear_queries()
                host = str(test["host"])
                mailfrom = str(test.get("mailfrom", ""))
                helo = str(test.get("helo", ""))
                rc, got, raw = mailctl_spf(conf, dns, host, mailfrom, helo)
                queries = list(dns.queries)
                want = test["result"]
                want = want if isinstance(want, list) else [want]
                result = got.get("result")
                ok = rc == 0 and result in want
                exp_want = test.get("explanation")
                exp_got = got.get("explanation")
                if ok and exp_want is not None:
                    if exp_want == "DEFAULT":
                        # The suite's "the receiver's own explanation":
                        # what mailctl says for a plain -all of the same
                        # identity, with no exp= anywhere.
                        dom = mailfrom.rpartition("@")[2] if "@" in \
                            mailfrom else helo
                        dns.set_zone({dom: [("TXT", "v=spf1 -all")]})
                        _, ref, _ = mailctl_spf(conf, dns, host, mailfrom,
                                                helo)
                        exp_want = ref.get("explanation")
                        ok = exp_want is not None and exp_got == exp_want
                    else:
                        ok = exp_got == exp_want
                total += 1
                passed += ok
                diag = ("%s (RFC 7208 %s)\nwant: %s%s\ngot:  %s%s\n%s\n"
                        "DNS queries: %s" % (
                            test.get("description", "").strip(),
                            test.get("spec"), " or ".join(want),
                            "" if exp_want is None else
                            ", explanation %r" % exp_want, result,
                            "" if exp_want is None else
                            ", explanation %r" % exp_got, raw,
                            ", ".join("%s %s%s" % (q.qtype, printable(q.name),
                                                   "" if q.proto == "udp"
                                                   else " (tcp)")
                                      for q in queries) or "none"))
                tap_name = "%s: %s" % (desc, name)
                if name in known:
                    # TAP: a TODO test's failure is reported, not counted
                    failed = t.failed
                    t.ok(ok, tap_name + " # TODO " + known[name], diag)
                    t.failed = failed
                else:
                    t.ok(ok, tap_name, diag)
                if only and ok:
                    t.diag(diag)
    finally:
        dns.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    t.diag("RFC 7208 suite: %d of %d pass (%.1f s)" % (
        passed, total, time.monotonic() - started))
    t.done()


main()
