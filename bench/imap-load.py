#!/usr/bin/python3
"""IMAP under a mixed load of many clients: maild's imapd against
Dovecot's imap, side by side, on copies of the same mailboxes.

BENCH_LOAD_USERS users each have an INBOX of BENCH_LOAD_MESSAGES
messages (about 4 KB, a third multipart with an attachment).  10 and
then 20 clients (processes; client i is user i mod USERS, so several
clients share each mailbox, as one person's phone and laptop do) run
for BENCH_LOAD_SECONDS each.  A client logs in, selects INBOX and then
draws commands at random:

  30 %  UID FETCH u (FLAGS ENVELOPE BODY.PEEK[])   one known message
  20 %  FETCH a:a+49 (FLAGS)                       by sequence number
  15 %  UID STORE u +FLAGS / -FLAGS (\\Flagged)
  10 %  APPEND (4 KB, LITERAL+)
   8 %  UID STORE u +FLAGS.SILENT (\\Deleted), UID EXPUNGE u
   7 %  NOOP
  10 %  LOGOUT, then a new connection, LOGIN and SELECT (BENCH_LOAD_CHURN)

and every 25 commands UID SEARCH ALL.  Every reply is checked against
the state the client tracks: each tagged reply is OK (a NO
[EXPUNGEISSUED] for a message another client expunged is allowed, RFC
2180 §4.1, and counted apart); EXISTS never goes down; an EXPUNGE or a
FETCH never names a sequence number beyond the messages the session
knows; FETCH a:b answers for every message of the range (unless
EXPUNGEISSUED says some went); a body fetched is a message (a header,
an empty line); a STORE's FETCH shows the flag set or cleared; APPEND
answers APPENDUID; and UID SEARCH ALL gives as many UIDs as EXISTS
minus the EXPUNGEs announced before its hits, give or take two
(messages another client expunged or appended whose EXPUNGE or EXISTS
is still to come: RFC 2180 §4.3 lets a server leave the expunged out;
counted apart).  Anything else is an error, listed; the script
exits 1 when maild has one.

The figure is commands per second, all clients together, over the
run's time.  Both servers without TLS on loopback, plaintext LOGIN
allowed, the very same yescrypt hash for each user (maild's auth cache
on by default, Dovecot's off by default: see bench/imap.py); Dovecot's
per-user connection limit and maild's session limits raised so that
every client fits.  The mailboxes are filled again before each run and
opened once (index built, untimed) before the clock starts.

A login is where the two differ most: Dovecot pays a yescrypt for each
(about 10 a second on this machine, bench/imap.py), maild's auth cache
does not after the first.  BENCH_LOAD_CHURN (percent of commands that
log out and in again, 10 by default, at most 17: the NOOPs give way)
set to 0 measures the sessions alone.

Settings: BENCH_LOAD_USERS (4), BENCH_LOAD_MESSAGES (2000),
BENCH_LOAD_SECONDS (20), BENCH_LOAD_CHURN (10), BENCH_ROUNDS (1: rounds
alternate which server goes first); MAILD_BINDIR (bin/).
"""
import base64
import multiprocessing
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dovecot import Dovecot, fill, free_port  # noqa: E402
from imap import wait_port  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("MAILD_BINDIR", os.path.join(ROOT, "bin"))
USERS = int(os.environ.get("BENCH_LOAD_USERS", "4"))
MESSAGES = int(os.environ.get("BENCH_LOAD_MESSAGES", "2000"))
SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "20"))
CHURN = float(os.environ.get("BENCH_LOAD_CHURN", "10")) / 100
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "1"))
CLIENTS = (10, 20)
DOMAIN = "bench.test"
PASSWORD = "load-pw-1"
TIMEOUT = 60		# seconds for one reply before the client gives up
SEARCH_EVERY = 25
GOAL = 1.5

ALLOWED_NO = re.compile(rb"^\S+ NO \[EXPUNGEISSUED\]")
RE_EXISTS = re.compile(rb"^\* (\d+) EXISTS")
RE_EXPUNGE = re.compile(rb"^\* (\d+) EXPUNGE")
RE_FETCH = re.compile(rb"^\* (\d+) FETCH \(")
RE_UID = re.compile(rb"\bUID (\d+)")
RE_FLAGS = re.compile(rb"\bFLAGS \(([^)]*)\)")
RE_APPENDUID = re.compile(rb"\[APPENDUID \d+ (\d+)\]")
RE_LITERAL = re.compile(rb"\{(\d+)\}\r\n$")


def user(i):
	return "load%d@%s" % (i, DOMAIN)


def message(i, tag=""):
	line = "The quick brown fox jumps over the lazy dog 0123456789\n"
	head = ("From: Sender %d <sender%d@remote.test>\nTo: <%s>\n"
	    "Subject: load message %d%s\nDate: Mon, 23 Nov 2026 12:%02d:%02d"
	    " +0000\nMessage-ID: <%d.%s@load.test>\nMIME-Version: 1.0\n"
	    % (i % 89, i % 89, user(0), i, tag, i // 60 % 60, i % 60, i,
	    tag or "m"))
	if i % 3 == 0:
		att = base64.encodebytes(bytes(range(256)) * 4).decode()
		body = ("Content-Type: multipart/mixed; boundary=\"b%d\"\n\n"
		    "--b%d\nContent-Type: text/plain\n\n%s\n--b%d\n"
		    "Content-Type: application/octet-stream\n"
		    "Content-Transfer-Encoding: base64\n\n%s--b%d--\n" % (
		    i, i, line * 30, i, att, i))
	else:
		body = "Content-Type: text/plain\n\n" + line * 65
	return head + body


def make_messages(d):
	os.makedirs(d)
	for i in range(MESSAGES):
		with open(os.path.join(d, "%d.M%dP1.load" % (1795000000 + i, i)),
		    "w") as f:
			f.write(message(i))


class Conn:
	"""One IMAP connection: a command and what came back for it."""

	def __init__(self, port):
		self.s = socket.create_connection(("127.0.0.1", port), 10)
		self.s.settimeout(TIMEOUT)
		self.buf = b""
		self.n = 0
		greeting = self.line()
		if not greeting.startswith(b"* OK"):
			raise Proto("greeting: %r" % greeting[:100])

	def line(self):
		while b"\r\n" not in self.buf:
			data = self.s.recv(65536)
			if not data:
				raise Proto("connection closed")
			self.buf += data
		i = self.buf.index(b"\r\n") + 2
		out, self.buf = self.buf[:i], self.buf[i:]
		return out

	def take(self, n):
		while len(self.buf) < n:
			data = self.s.recv(max(65536, n - len(self.buf)))
			if not data:
				raise Proto("connection closed in a literal")
			self.buf += data
		out, self.buf = self.buf[:n], self.buf[n:]
		return out

	def response(self):
		"""One response: its text with literals cut out, and them."""
		text, lits = b"", []
		while True:
			ln = self.line()
			m = RE_LITERAL.search(ln)
			if m is None:
				return text + ln, lits
			text += ln[:m.start()] + b"{}"
			lits.append(self.take(int(m.group(1))))

	def cmd(self, text, literal=None):
		"""(untagged responses, the tagged line)."""
		self.n += 1
		tag = b"a%d" % self.n
		if literal is None:
			self.s.sendall(tag + b" " + text + b"\r\n")
		else:
			self.s.sendall(tag + b" " + text + b" {%d+}\r\n" %
			    len(literal) + literal + b"\r\n")
		untagged = []
		while True:
			r = self.response()
			if r[0].startswith(tag + b" "):
				return untagged, r[0]
			untagged.append(r)

	def close(self):
		try:
			self.s.close()
		except OSError:
			pass


class Proto(Exception):
	pass


class Session:
	"""A logged-in client with INBOX selected, and what it knows."""

	def __init__(self, port, who, stats):
		self.stats = stats
		self.c = Conn(port)
		self.count = 0		# EXISTS less the EXPUNGEs since
		self.uids = []
		self.ok(b"LOGIN %s %s" % (who.encode(), PASSWORD.encode()))
		self.ok(b"SELECT INBOX")
		self.search()

	def error(self, what):
		self.stats["errors"].append(what)

	def track(self, untagged, allow_fetch_beyond=False):
		for text, lits in untagged:
			m = RE_EXISTS.match(text)
			if m:
				n = int(m.group(1))
				if n < self.count:
					self.error("EXISTS went down: %d after %d"
					    % (n, self.count))
				self.count = n
				continue
			m = RE_EXPUNGE.match(text)
			if m:
				n = int(m.group(1))
				if n < 1 or n > self.count:
					self.error("EXPUNGE %d of %d messages" %
					    (n, self.count))
				self.count -= 1
				continue
			m = RE_FETCH.match(text)
			if m and int(m.group(1)) > self.count:
				self.error("FETCH %s of %d messages" % (
				    m.group(1).decode(), self.count))

	def ok(self, text, literal=None):
		"""The untagged responses of a command that must succeed."""
		self.stats["commands"] += 1
		untagged, tagged = self.c.cmd(text, literal)
		self.track(untagged)
		word = tagged.split(b" ", 2)[1:2]
		if word == [b"OK"]:
			return untagged, tagged
		if ALLOWED_NO.match(tagged):
			self.stats["expungeissued"] += 1
			return untagged, tagged
		self.error("%s -> %s" % (text[:40].decode(errors="replace"),
		    tagged.strip()[:120].decode(errors="replace")))
		return untagged, tagged

	def search(self):
		"""UID SEARCH ALL: its hits against the messages known when
		the hits came (what is announced after them is later news)."""
		self.stats["commands"] += 1
		untagged, tagged = self.c.cmd(b"UID SEARCH ALL")
		uids, known = None, None
		for r in untagged:
			if r[0].startswith(b"* SEARCH"):
				uids = [int(x) for x in r[0].split()[2:]]
				known = self.count
			else:
				self.track([r])
		if tagged.split(b" ", 2)[1:2] != [b"OK"] or uids is None:
			self.error("UID SEARCH ALL -> %r" % tagged.strip()[:100])
			return
		# Fewer or more: expunged or appended by another session
		# meanwhile and not yet announced (RFC 2180 §4.3 lets a server
		# leave the expunged out).  Counted, not errors, unless more
		# than two off.
		if abs(len(uids) - known) > 2:
			self.error("UID SEARCH ALL: %d UIDs, %d messages known" %
			    (len(uids), known))
		elif len(uids) != known:
			self.stats["short"] += 1
		self.uids = uids

	def some_uid(self, rng):
		return rng.choice(self.uids) if self.uids else 1

	def fetch_full(self, rng):
		u = self.some_uid(rng)
		untagged, _ = self.ok(b"UID FETCH %d (FLAGS ENVELOPE BODY.PEEK[])"
		    % u)
		for text, lits in untagged:
			if RE_FETCH.match(text) and RE_UID.search(text) and \
			    int(RE_UID.search(text).group(1)) == u:
				body = lits[-1] if lits else b""
				if b"\r\n\r\n" not in body:
					self.error("UID %d: BODY[] is no message "
					    "(%d octets)" % (u, len(body)))
				return
		self.stats["gone"] += 1

	def fetch_flags(self, rng):
		if self.count == 0:
			return
		a = rng.randint(1, self.count)
		b = min(self.count, a + 49)
		untagged, tagged = self.ok(b"FETCH %d:%d (FLAGS)" % (a, b))
		# every message of the range answers (another session's flag
		# change may add an unsolicited FETCH: numbers, not answers,
		# are counted), unless some were expunged elsewhere
		seqs = set(int(RE_FETCH.match(t).group(1)) for t, _ in untagged
		    if RE_FETCH.match(t) and RE_FLAGS.search(t))
		missing = [n for n in range(a, b + 1) if n not in seqs]
		if missing and b"EXPUNGEISSUED" not in tagged:
			self.error("FETCH %d:%d (FLAGS): no answer for %d of them"
			    % (a, b, len(missing)))

	def store(self, rng):
		u = self.some_uid(rng)
		add = rng.random() < 0.5
		untagged, _ = self.ok(b"UID STORE %d %sFLAGS (\\Flagged)" % (
		    u, b"+" if add else b"-"))
		for text, _ in untagged:
			m = RE_UID.search(text)
			if RE_FETCH.match(text) and m and int(m.group(1)) == u:
				f = RE_FLAGS.search(text)
				has = f is not None and b"\\Flagged" in f.group(1)
				if has != add:
					self.error("UID STORE %d %sFLAGS: FLAGS %r"
					    % (u, "+" if add else "-",
					    f.group(1) if f else None))

	def append(self, rng):
		n = rng.randint(0, 10 ** 9)
		msg = message(n, ".%d" % n).replace("\n", "\r\n").encode()
		_, tagged = self.ok(b"APPEND INBOX (\\Seen)", msg)
		m = RE_APPENDUID.search(tagged)
		if m is None:
			self.error("APPEND: no APPENDUID: %r" % tagged[:100])
		else:
			self.uids.append(int(m.group(1)))

	def expunge(self, rng):
		if not self.uids:
			return
		u = self.uids.pop(rng.randrange(len(self.uids)))
		self.ok(b"UID STORE %d +FLAGS.SILENT (\\Deleted)" % u)
		self.ok(b"UID EXPUNGE %d" % u)

	def logout(self):
		self.stats["commands"] += 1
		untagged, tagged = self.c.cmd(b"LOGOUT")
		if not tagged.split(b" ")[1:2] == [b"OK"] or not any(
		    t.startswith(b"* BYE") for t, _ in untagged):
			self.error("LOGOUT: %r" % tagged[:100])
		self.c.close()


def client(args):
	port, who, seconds, seed = args
	rng = random.Random(seed)
	stats = {"commands": 0, "errors": [], "expungeissued": 0, "gone": 0,
	    "logins": 0, "short": 0}
	deadline = time.monotonic() + seconds
	s = None
	ops = [(0.30, "fetch_full"), (0.20, "fetch_flags"), (0.15, "store"),
	    (0.10, "append"), (0.08, "expunge"), (0.17 - CHURN, "noop"),
	    (CHURN, "churn")]
	k = 0
	try:
		while time.monotonic() < deadline:
			if s is None:
				s = Session(port, who, stats)
				stats["logins"] += 1
			k += 1
			if k % SEARCH_EVERY == 0:
				s.search()
				continue
			x, op = rng.random(), "noop"
			for p, name in ops:
				if x < p:
					op = name
					break
				x -= p
			if op == "noop":
				s.ok(b"NOOP")
			elif op == "churn":
				s.logout()
				s = None
			else:
				getattr(s, op)(rng)
		if s is not None:
			s.logout()
	except (OSError, Proto) as e:
		stats["errors"].append("%s: %s" % (type(e).__name__, e))
	return stats


def run_load(port, clients, seconds):
	args = [(port, user(i % USERS), seconds, 1000 * clients + i)
	    for i in range(clients)]
	t0 = time.monotonic()
	with multiprocessing.Pool(clients) as pool:
		results = pool.map(client, args)
	elapsed = time.monotonic() - t0
	total = {"commands": 0, "errors": [], "expungeissued": 0, "gone": 0,
	    "logins": 0, "short": 0}
	for r in results:
		for k in total:
			total[k] += r[k]
	total["rate"] = total["commands"] / elapsed
	return total


def warm(port):
	"""Each mailbox opened once: indexes built before the clock."""
	for i in range(USERS):
		c = Conn(port)
		for cmd in (b"LOGIN %s %s" % (user(i).encode(), PASSWORD.encode()),
		    b"SELECT INBOX", b"FETCH 1:* (FLAGS ENVELOPE)", b"LOGOUT"):
			_, tagged = c.cmd(cmd)
			if b" OK" not in tagged:
				raise RuntimeError("warm-up %s: %r" % (cmd, tagged))
		c.close()


def main():
	tmp = tempfile.mkdtemp(prefix="bench-imap-load.")
	os.chmod(tmp, 0o755)
	maild = dove = None
	res = {(s, n): [] for s in ("maild", "dovecot") for n in CLIENTS}
	try:
		msgs = os.path.join(tmp, "messages")
		print("bench: %d users, %d messages each" % (USERS, MESSAGES),
		    flush=True)
		make_messages(msgs)
		data = os.path.join(tmp, "maild-data")
		port = free_port()
		limit = max(CLIENTS) + 20
		args = ["-c", os.path.join(ROOT, "etc", "dev.conf"),
		    "-o", "server.data_dir=" + data,
		    "-o", "server.log_level=warn", "-o", "auth.allow_plaintext=yes",
		    "-o", "imap.listen=127.0.0.1:%d" % port,
		    "-o", "imapd.max_sessions_per_user=%d" % limit,
		    "-o", "imapd.max_sessions_per_ip=%d" % limit,
		    "-o", "tls.cert=", "-o", "tls.key="]
		for s in ("smtp", "submission", "submissions", "pop3", "pop3s",
		    "imaps", "webmail"):
			args += ["-o", s + ".listen="]
		ctl = [os.path.join(BIN, "mailctl")] + args
		subprocess.run(ctl + ["domain", "add", DOMAIN], check=True)
		for i in range(USERS):
			subprocess.run(ctl + ["user", "add", user(i)], check=True,
			    input=PASSWORD + "\n", text=True)
		mlog = os.path.join(tmp, "maild.log")
		maild = subprocess.Popen([os.path.join(BIN, "maild")] + args,
		    stderr=open(mlog, "w"))
		wait_port(port, "maild", lambda: open(mlog).read()[-2000:])
		dove = Dovecot(tmp, ("imap",))
		with open(dove.conf, "a") as f:
			f.write("protocol imap {\n  mail_max_userip_connections"
			    " = %d\n}\n" % limit)
		for i in range(USERS):
			dove.add_user(user(i), data)
		dove.start()
		sides = {"maild": port, "dovecot": dove.ports["imap"]}
		for rnd in range(ROUNDS):
			order = ["maild", "dovecot"]
			if rnd % 2:
				order.reverse()
			for n in CLIENTS:
				for name in order:
					for i in range(USERS):
						if name == "maild":
							md = os.path.join(data, "mail",
							    DOMAIN, "load%d" % i)
							shutil.rmtree(md,
							    ignore_errors=True)
						else:
							md = dove.maildir(user(i))
						fill(md, msgs, dove.uid, dove.gid)
						if name == "dovecot":
							dove.chown_tree(os.path.dirname(
							    md))
					warm(sides[name])
					r = run_load(sides[name], n, SECONDS)
					res[(name, n)].append(r)
					print("bench: round %d %-8s %2d clients: %.0f "
					    "commands/s, %d logins, %d errors, %d NO "
					    "[EXPUNGEISSUED], %d fetched after an "
					    "expunge, %d searches one off" % (rnd + 1, name, n,
					    r["rate"], r["logins"], len(r["errors"]),
					    r["expungeissued"], r["gone"], r["short"]),
					    flush=True)
					for e in r["errors"][:10]:
						print("  %s error: %s" % (name, e))
	finally:
		if maild is not None:
			maild.terminate()
			maild.wait(30)
		if dove is not None:
			dove.stop()
		shutil.rmtree(tmp, ignore_errors=True)

	print()
	print("IMAP mixed load, %d users x %d messages, %.0f s per run, %.0f %% "
	    "logins, median of %d" % (USERS, MESSAGES, SECONDS, CHURN * 100,
	    ROUNDS))
	print("%-34s %12s %12s %7s" % ("", "maild", "dovecot", "ratio"))
	bad = 0
	for n in CLIENTS:
		m = statistics.median(r["rate"] for r in res[("maild", n)])
		d = statistics.median(r["rate"] for r in res[("dovecot", n)])
		em = sum(len(r["errors"]) for r in res[("maild", n)])
		ed = sum(len(r["errors"]) for r in res[("dovecot", n)])
		ratio = m / d if d > 0 else float("inf")
		print("%-34s %10.0f/s %10.0f/s %7.2f" % ("commands/s, %d clients"
		    % n, m, d, ratio))
		print("%-34s %12d %12d" % ("errors, %d clients" % n, em, ed))
		bad += em
		if ratio < GOAL:
			print("goal not met: %d clients: %.2f times Dovecot's, "
			    "not %g" % (n, ratio, GOAL))
	print("(ratio = maild / dovecot: above 1, maild is faster)")
	return 1 if bad else 0


if __name__ == "__main__":
	sys.exit(main())
