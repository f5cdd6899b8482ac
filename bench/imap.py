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
  memory       the sum of PSS (and RSS) of every process of the server
	       (the master and everything below it), before and after
	       opening BENCH_IMAP_IDLE connections that LOGIN, SELECT INBOX
	       and stay, divided by their number.

"cold" is about the servers' own indexes and caches; the page cache is
not dropped (that would touch the whole machine).  Both servers run
without TLS on loopback (auth.allow_plaintext here, ssl = no there), so
the figures are the store and the protocol, not the cipher.  Dovecot keeps
its defaults except for the per-user connection limit, raised so the idle
connections fit (mail_max_userip_connections), as imapd.max_sessions_per_*
are raised here.

A third of the messages are multipart/mixed with a text part and a small
base64 attachment, the rest text/plain, all about BENCH_IMAP_SIZE octets.

Settings: BENCH_IMAP_MESSAGES (10000), BENCH_IMAP_SIZE (4096),
BENCH_IMAP_IDLE (50), BENCH_ROUNDS (3); MAILD_BINDIR (bin/) says where
maild's programs are.
"""
import base64
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


def wait_port(port, what, log):
	deadline = time.monotonic() + 20
	while time.monotonic() < deadline:
		try:
			socket.create_connection(("127.0.0.1", port), 1).close()
			return
		except OSError:
			time.sleep(0.05)
	raise RuntimeError("%s did not start\n%s" % (what, log()))


def main():
	tmp = tempfile.mkdtemp(prefix="bench-imap.")
	os.chmod(tmp, 0o755)
	maild = dove = None
	keys = ("open-cold", "open-warm", "hdr-cold", "hdr-warm", "pss", "rss")
	results = {(s, k): [] for s in ("maild", "dovecot") for k in keys}
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
				for k in keys:
					results[(name, k)].append(r[k])
				print("bench: round %d %-8s open cold %.2fs warm %.2fs"
				    "  headers cold %.2fs warm %.2fs (%d KB)  idle "
				    "conn %.0f KiB PSS %.0f KiB RSS (%d processes)" %
				    (rnd + 1, name, r["open-cold"], r["open-warm"],
				    r["hdr-cold"], r["hdr-warm"], octets >> 10,
				    r["pss"], r["rss"], nproc), flush=True)
		print()
		print("IMAP, %d messages of about %d octets, median of %d" %
		    (N, SIZE, ROUNDS))
		print("%-48s %10s %10s %7s" % ("", "maild", "dovecot", "ratio"))
		for k, label in (
		    ("open-cold", "LOGIN+SELECT+UID FETCH 1:* (FLAGS), cold"),
		    ("open-warm", "LOGIN+SELECT+UID FETCH 1:* (FLAGS), warm"),
		    ("hdr-cold", "FETCH 1:* (ENVELOPE BODYSTRUCTURE), cold"),
		    ("hdr-warm", "FETCH 1:* (ENVELOPE BODYSTRUCTURE), warm")):
			m = statistics.median(results[("maild", k)])
			d = statistics.median(results[("dovecot", k)])
			print("%-48s %9.2fs %9.2fs %7.2f" % (label, m, d,
			    d / m if m > 0 else float("inf")))
		for k, label in (("pss", "memory per idle connection (PSS)"),
		    ("rss", "memory per idle connection (RSS)")):
			m = statistics.median(results[("maild", k)])
			d = statistics.median(results[("dovecot", k)])
			print("%-48s %7.0fKiB %7.0fKiB %7.2f" % (label, m, d,
			    d / m if m > 0 else float("inf")))
		print("(ratio = dovecot / maild: above 1, maild is faster or "
		    "smaller)")
	finally:
		if maild is not None:
			maild.terminate()
			maild.wait(30)
		if dove is not None:
			dove.stop()
		shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
	main()
