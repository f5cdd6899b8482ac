#!/usr/bin/python3
"""IMAP benchmark: maild's imapd against Dovecot's imap, side by side on
copies of the same Maildir of 10,000 messages.

Figures (each a median over rounds; rounds alternate which server goes
first):
  open, cold   LOGIN + SELECT INBOX + UID FETCH 1:* (FLAGS) on a fresh
	       copy of the Maildir (every message in new/, no index: each
	       server builds its index), what a client does when it opens a
	       mailbox for the first time;
  open, warm   the same again, index in place;
  headers, cold FETCH 1:* (ENVELOPE BODYSTRUCTURE), the first time (each
	       server parses every message and fills its cache);
  headers, warm the same again (from the cache);
  SORT (DATE)  SORT (DATE) UTF-8 ALL in a selected INBOX, the first
	       time since the copy (after the FETCHes above: each server
	       has its index; the sent dates are not asked for yet), and
	       again;
  THREAD=REFERENCES  THREAD REFERENCES UTF-8 ALL the same way (after
	       the SORTs: the References: are not asked for yet);
  memory       the sum of PSS (and RSS) of every process of the server
	       (the master and everything below it), before and after
	       opening BENCH_IMAP_IDLE connections that LOGIN, SELECT INBOX
	       and stay, divided by their number;
  logins       connections per second of connect + greeting + LOGIN +
	       LOGOUT, each a new TCP connection, by 1 client and by 8
	       concurrent clients (processes), each looping for
	       BENCH_IMAP_LOGIN_SECONDS; logins/s is the logins completed
	       over the time until the last client stopped.  A login that
	       fails (tagged NO or BAD, a refused connection, one closed or
	       timed out early) is counted apart and printed as FAIL, and
	       the script then exits 1.

"cold" is about the servers' own indexes and caches; the page cache is
not dropped (that would touch the whole machine).  Both servers run
without TLS on loopback (auth.allow_plaintext here, ssl = no there), so
the figures are the store and the protocol, not the cipher.  Dovecot keeps
its defaults except for the per-user connection limit, raised so the idle
connections fit (mail_max_userip_connections), as imapd.max_sessions_per_*
are raised here.

Logins: both servers check the very same yescrypt hash (crypt(3),
"$y$", made by mailctl user add; dovecot.py copies it from users.db into
Dovecot's passwd-file as {CRYPT}; main() checks it is there).  maild's
auth service has a login cache on by default (auth.cache_ttl, 1h: a
repeated good password is not hashed again), Dovecot's is off by default
(auth_cache_size = 0), so a Dovecot login pays a yescrypt and a maild
login (after the first) does not.  Dovecot is therefore measured both
ways: its defaults ("dovecot"), and restarted with its cache on
("dovecot+cache": auth_cache_size = 10M, auth_cache_ttl = 1 hour), then
restarted back to its defaults for everything else.  Expect no gain
there: Dovecot's cache keeps the passdb's answer (the hash) and verifies
the password against it again on a hit, and its passwd-file passdb has
no cache key, so the cache is not even consulted (auth_debug shows no
cache lines); no setting of Dovecot 2.3 skips the yescrypt.  On maild's
side nothing limits successful logins: the auth limits
(auth.max_failures, auth.failure_delay_max and the "under attack" turns)
act on failures only, and the per-address and per-user session limits
are raised as above.  The process pools keep their defaults
(server.min_idle, imapd.max_use); a post-login process serves one client
and exits, so every login makes one (forked by the post-login parent).  Not equalised: maild runs at
server.log_level = warn (no line per login), Dovecot at its default,
which logs a line at login and one at logout.

A third of the messages are multipart/mixed with a text part and a small
base64 attachment, the rest text/plain, all about BENCH_IMAP_SIZE octets.

Settings: BENCH_IMAP_MESSAGES (10000), BENCH_IMAP_SIZE (4096),
BENCH_IMAP_IDLE (50), BENCH_IMAP_LOGIN_SECONDS (5), BENCH_ROUNDS (3);
MAILD_BINDIR (bin/) says where maild's programs are.
"""
import base64
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dovecot import Dovecot, fill, free_port  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("MAILD_BINDIR", os.path.join(ROOT, "bin"))
N = int(os.environ.get("BENCH_IMAP_MESSAGES", "10000"))
SIZE = int(os.environ.get("BENCH_IMAP_SIZE", "4096"))
IDLE = int(os.environ.get("BENCH_IMAP_IDLE", "50"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
LOGIN_SECONDS = float(os.environ.get("BENCH_IMAP_LOGIN_SECONDS", "5"))
LOGIN_CLIENTS = (1, 8)
LOGIN_GRACE = 10	# seconds a login under way at the end may still take
LOGIN_SERVERS = ("maild", "dovecot", "dovecot+cache")
DOVECOT_CACHE = "auth_cache_size = 10M\nauth_cache_ttl = 1 hour\n"
USER, PASSWORD = "bench@bench.test", "bench-pw"


def make_messages(dirpath):
	"""N messages (LF line ends, as delivered) in dirpath."""
	os.makedirs(dirpath)
	line = "The quick brown fox jumps over the lazy dog 0123456789\n"
	attach = base64.encodebytes(bytes(range(256)) * 4).decode()
	for i in range(N):
		head = ("Return-Path: <sender%d@remote.test>\n"
		    "From: Sender %d <sender%d@remote.test>\n"
		    "To: Bench User <%s>\nCc: list@lists.test\n"
		    "Subject: benchmark message %d\n"
		    "Date: Mon, 23 Nov 2026 12:%02d:%02d +0000\n"
		    "Message-ID: <%d@bench.test>\nMIME-Version: 1.0\n"
		    % (i % 97, i % 97, i % 97, USER, i, i // 60 % 60, i % 60, i))
		if i % 3 == 0:
			text = (line * (SIZE // len(line)))[:max(SIZE - 2000, 200)]
			body = ("Content-Type: multipart/mixed; boundary=\"b%d\"\n\n"
			    "--b%d\nContent-Type: text/plain; charset=utf-8\n"
			    "Content-Transfer-Encoding: 8bit\n\n%s\n--b%d\n"
			    "Content-Type: application/octet-stream; "
			    "name=\"data.bin\"\nContent-Disposition: attachment; "
			    "filename=\"data.bin\"\nContent-Transfer-Encoding: "
			    "base64\n\n%s\n--b%d--\n" % (i, i, text, i, attach, i))
		else:
			text = (line * (SIZE // len(line) + 1))[:SIZE - 400]
			body = ("Content-Type: text/plain; charset=us-ascii\n\n"
			    + text)
		name = "%d.M%dP1.bench" % (1795000000 + i, i)
		with open(os.path.join(dirpath, name), "w") as f:
			f.write(head + body)


class Client:
	"""A minimal IMAP client: one command at a time, answers read in
	bulk (the client must not be the bottleneck)."""

	def __init__(self, port):
		self.s = socket.create_connection(("127.0.0.1", port), 60)
		self.n = 0
		self.read_until(b"\r\n")

	def read_until(self, end):
		chunks, tail = [], b""
		while True:
			chunk = self.s.recv(1 << 20)
			if not chunk:
				raise RuntimeError("connection closed")
			chunks.append(chunk)
			tail = (tail + chunk)[-4096:]
			if end(tail) if callable(end) else tail.endswith(end):
				return b"".join(chunks)

	def cmd(self, text):
		self.n += 1
		tag = b"b%d " % self.n
		self.s.sendall(tag + text.encode() + b"\r\n")

		def done(tail):
			if not tail.endswith(b"\r\n"):
				return False
			last = tail[:-2].rsplit(b"\r\n", 1)[-1]
			return last.startswith(tag)
		data = self.read_until(done)
		last = data[:-2].rsplit(b"\r\n", 1)[-1]
		if not last.startswith(tag + b"OK"):
			raise RuntimeError("%s -> %r" % (text, last[:200]))
		return data

	def close(self):
		try:
			self.cmd("LOGOUT")
		except (OSError, RuntimeError):
			pass
		self.s.close()


def count_fetch(data):
	return data.count(b" FETCH (")


def open_mailbox(port):
	"""LOGIN, SELECT INBOX, UID FETCH 1:* (FLAGS): seconds."""
	t0 = time.monotonic()
	c = Client(port)
	c.cmd('LOGIN "%s" "%s"' % (USER, PASSWORD))
	c.cmd("SELECT INBOX")
	n = count_fetch(c.cmd("UID FETCH 1:* (FLAGS)"))
	dt = time.monotonic() - t0
	c.close()
	if n != N:
		raise RuntimeError("UID FETCH 1:* (FLAGS) gave %d messages, not "
		    "%d" % (n, N))
	return dt


def fetch_headers(port):
	"""FETCH 1:* (ENVELOPE BODYSTRUCTURE) in a selected INBOX: seconds
	of the FETCH alone, and the octets of the answer."""
	c = Client(port)
	c.cmd('LOGIN "%s" "%s"' % (USER, PASSWORD))
	c.cmd("SELECT INBOX")
	t0 = time.monotonic()
	data = c.cmd("FETCH 1:* (ENVELOPE BODYSTRUCTURE)")
	dt = time.monotonic() - t0
	c.close()
	n = count_fetch(data)
	if n != N or data.count(b"\"MIXED\"") + data.count(b"\"mixed\"") \
	    < N // 3:
		raise RuntimeError("FETCH 1:* (ENVELOPE BODYSTRUCTURE): %d "
		    "answers" % n)
	return dt, len(data)


def sort_thread(port):
	"""SORT (DATE) and THREAD=REFERENCES of the whole INBOX, each
	twice in a row (cold, warm): seconds of each command alone."""
	c = Client(port)
	c.cmd('LOGIN "%s" "%s"' % (USER, PASSWORD))
	c.cmd("SELECT INBOX")
	r = {}
	for key, cmd in (("sort-cold", "SORT (DATE) UTF-8 ALL"),
	    ("sort-warm", "SORT (DATE) UTF-8 ALL"),
	    ("thr-cold", "THREAD REFERENCES UTF-8 ALL"),
	    ("thr-warm", "THREAD REFERENCES UTF-8 ALL")):
		t0 = time.monotonic()
		data = c.cmd(cmd)
		r[key] = time.monotonic() - t0
		line = data.split(b"\r\n", 1)[0]
		n = len(line.split()) - 2 if key.startswith("sort") else \
		    line.count(b"(")
		if n != N:
			raise RuntimeError("%s: %d messages, not %d" % (cmd, n,
			    N))
	c.close()
	return r


def tree(pid):
	"""pid and every process below it."""
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
	out, todo = [pid], [pid]
	while todo:
		for c in children.get(todo.pop(), []):
			out.append(c)
			todo.append(c)
	return out


def memory(pid):
	"""(PSS, RSS) in KiB summed over the process tree of pid."""
	pss = rss = 0
	for p in tree(pid):
		try:
			with open("/proc/%d/smaps_rollup" % p) as f:
				for line in f:
					if line.startswith("Pss:"):
						pss += int(line.split()[1])
					elif line.startswith("Rss:"):
						rss += int(line.split()[1])
		except OSError:
			pass
	return pss, rss


def idle_memory(port, pid):
	"""KiB of PSS and RSS per idle logged-in connection (SELECT INBOX
	done), and how many processes the server had with them open."""
	time.sleep(0.5)
	before = memory(pid)
	conns = []
	try:
		for i in range(IDLE):
			c = Client(port)
			c.cmd('LOGIN "%s" "%s"' % (USER, PASSWORD))
			c.cmd("SELECT INBOX")
			conns.append(c)
		time.sleep(1)
		after = memory(pid)
		nproc = len(tree(pid))
	finally:
		for c in conns:
			c.close()
	return ((after[0] - before[0]) / IDLE, (after[1] - before[1]) / IDLE,
	    nproc)


def login_once(port, deadline):
	"""connect, greeting, LOGIN, LOGOUT on a new connection: None, or
	why it failed.  No step waits past deadline (monotonic)."""
	def line(f, s):
		s.settimeout(max(deadline - time.monotonic(), 0.001))
		return f.readline(8192)

	def tagged(f, s, tag):
		bye = False
		while True:
			got = line(f, s)
			if not got:
				return b"BYE" if bye else None
			if got.startswith(tag):
				return got
			bye |= got.startswith(b"* BYE")

	try:
		with socket.create_connection(("127.0.0.1", port),
		    max(deadline - time.monotonic(), 0.001)) as s, \
		    s.makefile("rb") as f:
			got = line(f, s)
			if not got.startswith(b"* OK"):
				return "greeting %r" % got[:100]
			s.sendall(b'a LOGIN "%s" "%s"\r\n' % (USER.encode(),
			    PASSWORD.encode()))
			got = tagged(f, s, b"a ")
			if got is None or not got.startswith(b"a OK"):
				return "LOGIN -> %r" % (got or b"closed")[:100]
			s.sendall(b"b LOGOUT\r\n")
			# the tagged OK, or the close after a BYE (RFC 3501
			# 6.1.3), which tagged() returns as b"BYE"
			got = tagged(f, s, b"b ")
			if got != b"BYE" and (got is None or
			    not got.startswith(b"b OK")):
				return "LOGOUT -> %r" % (got or
				    b"closed")[:100]
	except OSError as e:
		return "%s: %s" % (type(e).__name__, e)
	return None


def login_loop(args):
	"""One client: logins one after another from start to end (the
	monotonic clock is the same in every process): the number that
	succeeded and failed, the first failure, and when it stopped."""
	port, start, end = args
	time.sleep(max(start - time.monotonic(), 0))
	ok = failed = 0
	why = None
	while time.monotonic() < end:
		err = login_once(port, end + LOGIN_GRACE)
		if err is None:
			ok += 1
		else:
			failed += 1
			why = why or err
	return ok, failed, why, time.monotonic()


def login_rate(port, clients):
	"""Logins per second of clients processes (processes, not threads,
	so the client is not the bottleneck), the failures (a warm-up
	login included) and the first reason."""
	failed, why = 0, login_once(port, time.monotonic() + LOGIN_GRACE)
	if why is not None:
		failed = 1
	with multiprocessing.get_context("fork").Pool(clients) as pool:
		start = time.monotonic() + 0.1
		res = pool.map_async(login_loop, [(port, start,
		    start + LOGIN_SECONDS)] * clients).get(LOGIN_SECONDS +
		    LOGIN_GRACE + 30)
	ok = sum(r[0] for r in res)
	failed += sum(r[1] for r in res)
	why = why or next((r[2] for r in res if r[2] is not None), None)
	return ok / (max(r[3] for r in res) - start), failed, why


def dovecot_restart(dove, base, cache):
	"""Dovecot restarted with its auth cache on, or at its default
	(off); base is its configuration without it."""
	dove.stop()
	with open(dove.conf, "w") as f:
		f.write(base + (DOVECOT_CACHE if cache else ""))
	dove.start()


def wait_port(port, what, log):
	deadline = time.monotonic() + 20
	while time.monotonic() < deadline:
		try:
			socket.create_connection(("127.0.0.1", port), 1).close()
			return
		except OSError:
			time.sleep(0.05)
	raise RuntimeError("%s did not start\n%s" % (what, log()))


def clients_text(n):
	return "%d client%s" % (n, "s" if n > 1 else "")


def login_round(rnd, port, dove, base, logins):
	"""This round's login rates of maild, Dovecot and Dovecot with its
	auth cache, in turn (reversed every other round); Dovecot is left
	at its defaults."""
	order = list(LOGIN_SERVERS)
	if rnd % 2:
		order.reverse()
	cache = False
	for name in order:
		if name != "maild" and (name == "dovecot+cache") != cache:
			cache = not cache
			dovecot_restart(dove, base, cache)
		p = port if name == "maild" else dove.ports["imap"]
		out = []
		for n in LOGIN_CLIENTS:
			rate, failed, why = login_rate(p, n)
			logins[(name, n)].append((rate, failed, why))
			out.append("%s %.0f/s%s" % (clients_text(n), rate,
			    " FAIL: %d failed (%s)" % (failed, why)
			    if failed else ""))
		print("bench: round %d %-13s LOGIN+LOGOUT %s" % (rnd + 1, name,
		    ", ".join(out)), flush=True)
	if cache:
		dovecot_restart(dove, base, False)


def print_logins(logins):
	"""The login table; the number of its rows that had failures."""
	print()
	print("IMAP logins, %g s per point, median of %d (ratio = maild / "
	    "dovecot: above 1, maild is faster)" % (LOGIN_SECONDS, ROUNDS))
	print("%-48s %10s %10s %7s %14s %7s" % ("", "maild", "dovecot",
	    "ratio", "dovecot+cache", "ratio"))
	fails = []
	for n in LOGIN_CLIENTS:
		med, mark = {}, ""
		for s in LOGIN_SERVERS:
			rs = logins[(s, n)]
			med[s] = statistics.median(r[0] for r in rs)
			failed = sum(r[1] for r in rs)
			if failed:
				mark = " FAIL"
				why = next(r[2] for r in rs if r[1])
				fails.append("FAIL: %s, %s: %d logins failed, "
				    "the first: %s" % (s, clients_text(n),
				    failed, why))
		m, d, dc = med["maild"], med["dovecot"], med["dovecot+cache"]
		print("%-48s %8.0f/s %8.0f/s %7.2f %12.0f/s %7.2f%s" % (
		    "LOGIN+LOGOUT per second, " + clients_text(n),
		    m, d, m / d if d > 0 else float("inf"), dc,
		    m / dc if dc > 0 else float("inf"), mark))
	print("(maild: its auth cache on, its default (auth.cache_ttl = 1h), "
	    "no line logged per login\n dovecot: its defaults, auth cache "
	    "off (auth_cache_size = 0), a yescrypt per login\n dovecot+cache:"
	    " auth_cache_size = 10M, auth_cache_ttl = 1 hour, which spares "
	    "no yescrypt\n (passwd-file is not cached; a hit is verified "
	    "again); Dovecot logs two lines per login)")
	for f in fails:
		print(f)
	return len(fails)


def main():
	tmp = tempfile.mkdtemp(prefix="bench-imap.")
	os.chmod(tmp, 0o755)
	maild = dove = None
	keys = ("open-cold", "open-warm", "hdr-cold", "hdr-warm", "pss", "rss",
	    "sort-cold", "sort-warm", "thr-cold", "thr-warm")
	results = {(s, k): [] for s in ("maild", "dovecot") for k in keys}
	logins = {(s, n): [] for s in LOGIN_SERVERS for n in LOGIN_CLIENTS}
	failed = 0
	try:
		msgs = os.path.join(tmp, "messages")
		print("bench: making %d messages of about %d octets" % (N, SIZE),
		    flush=True)
		make_messages(msgs)

		data = os.path.join(tmp, "maild-data")
		port = free_port()
		args = ["-c", os.path.join(ROOT, "etc", "dev.conf"),
		    "-o", "server.data_dir=" + data,
		    "-o", "server.log_level=warn", "-o", "auth.allow_plaintext=yes",
		    "-o", "imap.listen=127.0.0.1:%d" % port,
		    "-o", "imapd.max_sessions_per_user=%d" % (IDLE + 50),
		    "-o", "imapd.max_sessions_per_ip=%d" % (IDLE + 50),
		    "-o", "tls.cert=", "-o", "tls.key="]
		for s in ("smtp", "submission", "submissions", "pop3", "pop3s",
		    "imaps", "webmail"):
			args += ["-o", s + ".listen="]
		ctl = [os.path.join(BIN, "mailctl")] + args
		subprocess.run(ctl + ["domain", "add", "bench.test"], check=True)
		subprocess.run(ctl + ["user", "add", USER], check=True,
		    input=PASSWORD + "\n", text=True)
		mlog = os.path.join(tmp, "maild.log")
		maild = subprocess.Popen([os.path.join(BIN, "maild")] +
		    args, stderr=open(mlog, "w"))
		wait_port(port, "maild", lambda: open(mlog).read()[-2000:])
		dove = Dovecot(tmp, ("imap",))
		with open(dove.conf, "a") as f:
			f.write("protocol imap {\n  mail_max_userip_connections"
			    " = %d\n}\n" % (IDLE + 50))
		dove.add_user(USER, data)
		# the hash maild made, as it is: both pay the same yescrypt
		with open(os.path.join(dove.dir, "passwd")) as f:
			if "{CRYPT}$y$" not in f.read():
				raise RuntimeError("no yescrypt hash in "
				    "Dovecot's passwd-file")
		with open(dove.conf) as f:
			base = f.read()
		dove.start()
		ours = os.path.join(data, "mail", "bench.test", "bench")
		theirs = dove.maildir(USER)
		for rnd in range(ROUNDS):
			order = [("maild", ours, port, maild.pid),
			    ("dovecot", theirs, dove.ports["imap"], dove.proc.pid)]
			if rnd % 2:
				order.reverse()
			for name, maildir, p, pid in order:
				# a fresh copy: no index, every message in new/
				wipe = maildir if name == "maild" else \
				    os.path.dirname(maildir)
				shutil.rmtree(wipe, ignore_errors=True)
				fill(maildir, msgs, dove.uid, dove.gid)
				if name == "dovecot":
					dove.chown_tree(wipe)
				r = {"open-cold": open_mailbox(p),
				    "open-warm": open_mailbox(p)}
				r["hdr-cold"], octets = fetch_headers(p)
				r["hdr-warm"], _ = fetch_headers(p)
				r["pss"], r["rss"], nproc = idle_memory(p, pid)
				r.update(sort_thread(p))
				for k in keys:
					results[(name, k)].append(r[k])
				print("bench: round %d %-8s open cold %.2fs warm %.2fs"
				    "  headers cold %.2fs warm %.2fs (%d KB)  idle "
				    "conn %.0f KiB PSS %.0f KiB RSS (%d processes)" %
				    (rnd + 1, name, r["open-cold"], r["open-warm"],
				    r["hdr-cold"], r["hdr-warm"], octets >> 10,
				    r["pss"], r["rss"], nproc), flush=True)
				print("bench: round %d %-8s SORT (DATE) cold %.3fs "
				    "warm %.3fs  THREAD=REFERENCES cold %.3fs warm "
				    "%.3fs" % (rnd + 1, name, r["sort-cold"],
				    r["sort-warm"], r["thr-cold"], r["thr-warm"]),
				    flush=True)
			login_round(rnd, port, dove, base, logins)
		print()
		print("IMAP, %d messages of about %d octets, median of %d" %
		    (N, SIZE, ROUNDS))
		print("%-48s %10s %10s %7s" % ("", "maild", "dovecot", "ratio"))
		for k, label in (
		    ("open-cold", "LOGIN+SELECT+UID FETCH 1:* (FLAGS), cold"),
		    ("open-warm", "LOGIN+SELECT+UID FETCH 1:* (FLAGS), warm"),
		    ("hdr-cold", "FETCH 1:* (ENVELOPE BODYSTRUCTURE), cold"),
		    ("hdr-warm", "FETCH 1:* (ENVELOPE BODYSTRUCTURE), warm"),
		    ("sort-cold", "SORT (DATE) UTF-8 ALL, cold"),
		    ("sort-warm", "SORT (DATE) UTF-8 ALL, warm"),
		    ("thr-cold", "THREAD REFERENCES UTF-8 ALL, cold"),
		    ("thr-warm", "THREAD REFERENCES UTF-8 ALL, warm")):
			m = statistics.median(results[("maild", k)])
			d = statistics.median(results[("dovecot", k)])
			print("%-48s %9.3fs %9.3fs %7.2f" % (label, m, d,
			    d / m if m > 0 else float("inf")))
		for k, label in (("pss", "memory per idle connection (PSS)"),
		    ("rss", "memory per idle connection (RSS)")):
			m = statistics.median(results[("maild", k)])
			d = statistics.median(results[("dovecot", k)])
			print("%-48s %7.0fKiB %7.0fKiB %7.2f" % (label, m, d,
			    d / m if m > 0 else float("inf")))
		print("(ratio = dovecot / maild: above 1, maild is faster or "
		    "smaller)")
		failed = print_logins(logins)
	finally:
		if maild is not None:
			maild.terminate()
			maild.wait(30)
		if dove is not None:
			dove.stop()
		shutil.rmtree(tmp, ignore_errors=True)
	return 1 if failed else 0


if __name__ == "__main__":
	sys.exit(main())
