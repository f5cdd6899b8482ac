#!/usr/bin/python3
"""POP3 benchmark: download and delete 10,000 messages (UIDL, RETR of
each, DELE of each, QUIT), maild's pop3d against Dovecot's, side by side
on copies of the same Maildir.

Both servers run without TLS on loopback (auth.allow_plaintext here,
ssl = no there), so the figure is the mail store and the protocol, not
the cipher.  The client pipelines (both servers announce PIPELINING):
commands go out in batches of 100 and replies are scanned in bulk, so
the client does not hide the servers' speed.

"cold": the first login after the messages were dropped into new/
(each server builds its index); "warm": the index is already there.
Rounds alternate which server goes first; medians are reported.

Settings: BENCH_POP3_MESSAGES (10000), BENCH_POP3_SIZE (4096),
BENCH_ROUNDS (3).
"""
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
N = int(os.environ.get("BENCH_POP3_MESSAGES", "10000"))
SIZE = int(os.environ.get("BENCH_POP3_SIZE", "4096"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
USER, PASSWORD = "bench@bench.test", "bench-pw"


def make_messages(dirpath):
	"""N messages of SIZE octets (LF line ends, as delivered) in dirpath."""
	os.makedirs(dirpath)
	line = "The quick brown fox jumps over the lazy dog 0123456789\n"
	body = (line * (SIZE // len(line) + 1))[:SIZE - 300]
	for i in range(N):
		text = ("Return-Path: <sender@remote.test>\n"
		    "From: Sender <sender@remote.test>\nTo: %s\n"
		    "Subject: benchmark message %d\n"
		    "Date: Mon, 23 Nov 2026 12:00:00 +0000\n"
		    "Message-ID: <%d@bench.test>\n\n%s" % (USER, i, i, body))
		name = "%d.M%dP1.bench" % (1795000000 + i, i)
		with open(os.path.join(dirpath, name), "w") as f:
			f.write(text)


class Pipe:
	def __init__(self, port):
		self.s = socket.create_connection(("127.0.0.1", port), 30)
		self.buf = b""

	def until(self, count, marker):
		"""Read until `marker` was seen `count` times; return the data."""
		seen, data = 0, b""
		while True:
			i = self.buf.find(marker)
			if i >= 0:
				seen += 1
				data += self.buf[:i + len(marker)]
				self.buf = self.buf[i + len(marker):]
				if seen == count:
					return data
				continue
			chunk = self.s.recv(1 << 20)
			if not chunk:
				raise RuntimeError("connection closed")
			self.buf += chunk

	def cmd(self, line):
		self.s.sendall(line.encode() + b"\r\n")
		return self.until(1, b"\r\n")


def session(port, delete):
	"""Log in, UIDL, RETR all, DELE all (if delete), QUIT: seconds."""
	start = time.monotonic()
	p = Pipe(port)
	p.until(1, b"\r\n")
	p.cmd("USER " + USER)
	r = p.cmd("PASS " + PASSWORD)
	if not r.startswith(b"+OK"):
		raise RuntimeError("login failed: %r" % r)
	p.s.sendall(b"UIDL\r\n")
	uidl = p.until(1, b"\r\n.\r\n")
	n = uidl.count(b"\r\n") - 2
	if n != N:
		raise RuntimeError("UIDL listed %d messages, not %d" % (n, N))
	octets = 0
	for first in range(1, n + 1, 100):
		batch = range(first, min(first + 100, n + 1))
		p.s.sendall(b"".join(b"RETR %d\r\n" % i for i in batch))
		octets += len(p.until(len(batch), b"\r\n.\r\n"))
	if delete:
		for first in range(1, n + 1, 100):
			batch = range(first, min(first + 100, n + 1))
			p.s.sendall(b"".join(b"DELE %d\r\n" % i for i in batch))
			p.until(len(batch), b"\r\n")
	r = p.cmd("QUIT")
	if not r.startswith(b"+OK"):
		raise RuntimeError("QUIT failed: %r" % r)
	p.s.close()
	return time.monotonic() - start, octets


def main():
	tmp = tempfile.mkdtemp(prefix="bench-pop3.")
	os.chmod(tmp, 0o755)
	maild = dove = None
	results = {("maild", "cold"): [], ("maild", "warm"): [],
	    ("dovecot", "cold"): [], ("dovecot", "warm"): []}
	try:
		msgs = os.path.join(tmp, "messages")
		print("bench: making %d messages of %d octets" % (N, SIZE),
		    flush=True)
		make_messages(msgs)

		data = os.path.join(tmp, "maild-data")
		port = free_port()
		args = ["-c", os.path.join(ROOT, "etc", "dev.conf"),
		    "-o", "server.data_dir=" + data,
		    "-o", "server.log_level=warn", "-o", "auth.allow_plaintext=yes",
		    "-o", "pop3.listen=127.0.0.1:%d" % port,
		    "-o", "tls.cert=", "-o", "tls.key="]
		for s in ("smtp", "submission", "submissions", "pop3s", "imap",
		    "imaps", "webmail"):
			args += ["-o", s + ".listen="]
		ctl = [os.path.join(ROOT, "bin", "mailctl")] + args
		subprocess.run(ctl + ["domain", "add", "bench.test"], check=True)
		subprocess.run(ctl + ["user", "add", USER], check=True,
		    input=PASSWORD + "\n", text=True)
		maild = subprocess.Popen([os.path.join(ROOT, "bin", "maild")] +
		    args, stderr=open(os.path.join(tmp, "maild.log"), "w"))
		time.sleep(1)
		dove = Dovecot(tmp, ("pop3",))
		dove.add_user(USER, data)
		dove.start()
		ours = os.path.join(data, "mail", "bench.test", "bench")
		theirs = dove.maildir(USER)
		for rnd in range(ROUNDS):
			order = [("maild", ours, port),
			    ("dovecot", theirs, dove.ports["pop3"])]
			if rnd % 2:
				order.reverse()
			for name, maildir, p in order:
				# a fresh copy: no index, every message in new/
				wipe = maildir if name == "maild" else \
				    os.path.dirname(maildir)
				shutil.rmtree(wipe, ignore_errors=True)
				fill(maildir, msgs, dove.uid, dove.gid)
				if name == "dovecot":
					dove.chown_tree(wipe)
				cold, octets = session(p, False)
				warm, _ = session(p, True)
				results[(name, "cold")].append(cold)
				results[(name, "warm")].append(warm)
				print("bench: round %d %-8s cold %.2fs (UIDL+RETR "
				    "%d MB)  warm %.2fs (UIDL+RETR+DELE+QUIT)" %
				    (rnd + 1, name, cold, octets >> 20, warm),
				    flush=True)
		print()
		print("POP3, %d messages of %d octets, median of %d" %
		    (N, SIZE, ROUNDS))
		print("%-44s %10s %10s %7s" % ("", "maild", "dovecot", "ratio"))
		for kind, label in (("cold", "first login: UIDL + RETR all"),
		    ("warm", "then: UIDL + RETR all + DELE all + QUIT")):
			m = statistics.median(results[("maild", kind)])
			d = statistics.median(results[("dovecot", kind)])
			print("%-44s %9.2fs %9.2fs %7.2f" % (label, m, d, d / m))
		print("(ratio = dovecot time / maild time: above 1, maild is "
		    "faster)")
	finally:
		if maild is not None:
			maild.terminate()
			maild.wait(30)
		if dove is not None:
			dove.stop()
		shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
	main()
