#!/usr/bin/python3
"""SMTP acceptance benchmark: bin/maild against Postfix, side by side.

smtp-source (from Debian's postfix package) sends N messages of L octets
over S concurrent sessions to each server, once connecting per message and
once keeping its connections open (-d).  Rounds alternate which server goes
first; the table shows medians and the ratio maild/postfix.  After every
send the Maildir's new/ is watched until every accepted message is there.

Both servers listen on 127.0.0.1 only, on free high ports, with their data
in one temporary directory removed at the end.  Postfix is a private
instance (its own config_directory, queue_directory, data_directory); the
system-wide /etc/postfix is only read (postfix-files, as meta_directory)
and the system instance is never started.  Postfix keeps its durability
defaults: queue files are fsync'd before "250".

Settings, from the environment:
  BENCH_MESSAGES (5000)  BENCH_SESSIONS (20)  BENCH_SIZE (4096)
  BENCH_ROUNDS (3)  BENCH_STALL (5: seconds without a new file in the
  Maildir before a delivery wait gives up)  BENCH_KEEP=1 keeps the
  temporary directory (and prints its path) for inspection.
  MAILD_BINDIR (bin/) says where maild's programs are (an older build,
  to measure what a change costs).
"""

import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("MAILD_BINDIR", os.path.join(ROOT, "bin"))
SMTP_SOURCE = "/usr/sbin/smtp-source"
POSTFIX = "/usr/sbin/postfix"

MESSAGES = int(os.environ.get("BENCH_MESSAGES", "5000"))
SESSIONS = int(os.environ.get("BENCH_SESSIONS", "20"))
SIZE = int(os.environ.get("BENCH_SIZE", "4096"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
STALL = float(os.environ.get("BENCH_STALL", "5"))
KEEP = os.environ.get("BENCH_KEEP", "") not in ("", "0")

DOMAIN = "bench.test"
SENDER = "bench@sender.test"
SEND_TIMEOUT = 150		# one smtp-source run, seconds
DELIVERY_CAP = 60		# longest wait for one run's Maildir, seconds
FINAL_WAIT = 75			# at the end, for mail a run's wait gave up on
VARIANTS = [("c", "connect per message", []),
	    ("d", "persistent (-d)", ["-d"])]

failures = []


def fail(msg):
	failures.append(msg)
	print("FAIL " + msg, flush=True)


def note(msg):
	print(msg, flush=True)


class Interrupted(Exception):
	pass


def on_signal(signum, frame):
	raise Interrupted("signal %d" % signum)


def read_text(path):
	"""A log file's text, or "" if it is not there (yet)."""
	try:
		with open(path, errors="replace") as f:
			return f.read()
	except OSError:
		return ""


def free_port():
	with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]


def wait_banner(port, timeout=15.0):
	"""True once the server at 127.0.0.1:port greets with 220."""
	deadline = time.monotonic() + timeout
	while time.monotonic() < deadline:
		try:
			with socket.create_connection(("127.0.0.1", port),
			    timeout=2) as s:
				data = b""
				while b"\n" not in data and len(data) < 4096:
					chunk = s.recv(4096)
					if not chunk:
						break
					data += chunk
				if data.startswith(b"220"):
					s.sendall(b"QUIT\r\n")
					return True
		except OSError:
			pass
		time.sleep(0.1)
	return False


def count_files(d):
	try:
		return sum(1 for _ in os.scandir(d))
	except FileNotFoundError:
		return 0


def users():
	"""Every run has its own mailbox, so a late message from one run
	cannot be counted for another."""
	names = ["warmup"]
	for r in range(1, ROUNDS + 1):
		for v, _, _ in VARIANTS:
			names.append("r%d%s" % (r, v))
	return names


class Maild:
	name = "maild"

	def __init__(self, top):
		self.dir = os.path.join(top, "maild")
		self.data = os.path.join(self.dir, "data")
		self.log = os.path.join(self.dir, "maild.log")
		self.port = None
		self.proc = None
		os.mkdir(self.dir)
		os.chmod(self.dir, 0o755)
		# No TLS: the figure is the store and the protocol, and a
		# fresh checkout has no run/tls/ yet (make run makes it).
		self.conf = ["-c", os.path.join(ROOT, "etc/dev.conf"),
		    "-o", "server.data_dir=" + self.data,
		    "-o", "tls.cert=", "-o", "tls.key="]

	def mailctl(self, args, stdin=None):
		r = subprocess.run([os.path.join(BIN, "mailctl")] +
		    self.conf + args, input=stdin, capture_output=True,
		    text=True, timeout=30)
		if r.returncode != 0:
			raise RuntimeError("mailctl %s: %s" % (" ".join(args),
			    (r.stderr or r.stdout).strip()))

	def start(self):
		self.mailctl(["domain", "add", DOMAIN])
		for u in users():
			self.mailctl(["user", "add", "%s@%s" % (u, DOMAIN)],
			    stdin="secret\n")
		self.port = free_port()
		args = [os.path.join(BIN, "maild")] + self.conf + [
		    "-o", "smtp.listen=127.0.0.1:%d" % self.port,
		    "-o", "smtpd.max_sessions_per_ip=100",
		    "-o", "smtpd.max_sessions=200",
		    "-o", "server.log_level=warn"]
		for svc in ("submission", "submissions", "pop3", "pop3s",
		    "imap", "imaps", "webmail"):
			args += ["-o", svc + ".listen="]
		logf = open(self.log, "w")
		self.proc = subprocess.Popen(args, cwd=ROOT, stdin=subprocess.DEVNULL,
		    stdout=logf, stderr=logf)
		logf.close()
		if not wait_banner(self.port):
			raise RuntimeError("maild did not greet on port %d; "
			    "log:\n%s" % (self.port, self.log_text()))

	def maildir_new(self, user):
		return os.path.join(self.data, "mail", DOMAIN, user, "new")

	def queued(self):
		# queue/msg/ keeps free slots too, each named in queue/free/
		return count_files(os.path.join(self.data, "queue", "msg")) - \
		    count_files(os.path.join(self.data, "queue", "free"))

	def log_text(self):
		return read_text(self.log)

	def log_problems(self):
		return [l for l in self.log_text().splitlines() if l.strip()]

	def stop(self):
		if self.proc is None or self.proc.poll() is not None:
			return
		self.proc.send_signal(signal.SIGTERM)
		try:
			self.proc.wait(timeout=15)
		except subprocess.TimeoutExpired:
			note("maild (pid %d) did not stop on SIGTERM within "
			    "15 s; killing it" % self.proc.pid)
			fail("maild did not exit within 15 s of SIGTERM")
			self.proc.kill()
			self.proc.wait(timeout=10)


MAIN_CF = """\
# Private benchmark instance, written by bench/smtp.py.
compatibility_level = 3.6
queue_directory = {d}/spool
data_directory = {d}/data
maillog_file = {d}/maillog
maillog_file_prefixes = {d}
myhostname = mx.postfix-bench.test
mydomain = postfix-bench.test
myorigin = $myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost =
# Nothing may leave the machine, and nothing is looked up in the DNS.
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
default_transport = error:this benchmark instance sends no mail out
relay_transport = error:this benchmark instance sends no mail out
local_recipient_maps =
alias_maps =
alias_database =
biff = no
# One virtual domain delivered by virtual(8) into Maildirs ("/" at the end).
virtual_mailbox_domains = {domain}
virtual_mailbox_base = {d}/vmail
virtual_mailbox_maps = texthash:{d}/etc/vmailbox
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
# Let 20 sessions from 127.0.0.1 in unthrottled (anvil limits off).
default_process_limit = 200
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
smtpd_client_recipient_rate_limit = 0
smtpd_client_new_tls_session_rate_limit = 0
smtpd_client_event_limit_exceptions = 127.0.0.0/8
"""

# Debian's master.cf.dist with every service out of the chroot, the smtpd
# on 127.0.0.1:PORT and no outbound smtp/lmtp/local/pipe transports.
MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


class Postfix:
	name = "postfix"

	def __init__(self, top):
		self.dir = os.path.join(top, "postfix")
		self.etc = os.path.join(self.dir, "etc")
		self.vmail = os.path.join(self.dir, "vmail")
		self.log = os.path.join(self.dir, "maillog")
		self.port = None
		self.started = False
		self.master_pid = None
		# virtual(8) delivers as this uid/gid (nobody: no login, no
		# files of its own, above virtual_minimum_uid).
		self.uid = self.gid = 65534

	def postfix(self, cmd, timeout=60):
		# postfix(1) reports to syslog, and to stderr only on a
		# terminal; there is no /dev/log here, so give it a pty.
		argv = [POSTFIX, "-c", self.etc, cmd]
		if shutil.which("script"):
			argv = ["script", "-qec", " ".join(argv), "/dev/null"]
		return subprocess.run(argv, capture_output=True, text=True,
		    stdin=subprocess.DEVNULL, timeout=timeout)

	def start(self):
		os.mkdir(self.dir)
		os.chmod(self.dir, 0o755)
		os.mkdir(self.etc)
		os.mkdir(os.path.join(self.dir, "spool"))
		os.mkdir(self.vmail, 0o700)
		os.chown(self.vmail, self.uid, self.gid)
		self.port = free_port()
		with open(os.path.join(self.etc, "main.cf"), "w") as f:
			f.write(MAIN_CF.format(d=self.dir, domain=DOMAIN,
			    uid=self.uid, gid=self.gid))
		with open(os.path.join(self.etc, "master.cf"), "w") as f:
			f.write(MASTER_CF.format(port=self.port))
		with open(os.path.join(self.etc, "vmailbox"), "w") as f:
			for u in users():
				f.write("%s@%s %s/%s/\n" % (u, DOMAIN, DOMAIN, u))
		r = self.postfix("check")
		if r.returncode != 0:
			raise RuntimeError("postfix check: " +
			    (r.stdout + r.stderr).strip())
		r = self.postfix("start")
		self.started = True
		if r.returncode != 0:
			raise RuntimeError("postfix start: " +
			    (r.stdout + r.stderr).strip())
		self.master_pid = self.read_master_pid()
		if not wait_banner(self.port):
			raise RuntimeError("postfix did not greet on port %d; "
			    "maillog:\n%s" % (self.port, self.log_text()))

	def read_master_pid(self):
		try:
			with open(os.path.join(self.dir, "spool", "pid",
			    "master.pid")) as f:
				return int(f.read().strip())
		except (OSError, ValueError):
			return None

	def maildir_new(self, user):
		return os.path.join(self.vmail, DOMAIN, user, "new")

	def queued(self):
		return sum(count_files(os.path.join(self.dir, "spool", q))
		    for q in ("incoming", "active", "deferred", "hold"))

	def log_text(self):
		return read_text(self.log)

	def log_problems(self):
		return [l for l in self.log_text().splitlines()
		    if any(w in l for w in (" warning: ", " error: ",
		    " fatal: ", " panic: ", "status=deferred",
		    "status=bounced"))]

	def stop(self):
		if not self.started:
			return
		self.started = False
		pid = self.master_pid or self.read_master_pid()
		try:
			self.postfix("stop", timeout=30)
		except subprocess.TimeoutExpired:
			pass
		if pid is None:
			return
		deadline = time.monotonic() + 15
		while time.monotonic() < deadline and alive(pid):
			time.sleep(0.1)
		if alive(pid):
			note("postfix master (pid %d) still running; "
			    "postfix abort" % pid)
			try:
				self.postfix("abort", timeout=30)
			except subprocess.TimeoutExpired:
				pass
			deadline = time.monotonic() + 5
			while time.monotonic() < deadline and alive(pid):
				time.sleep(0.1)


def alive(pid):
	try:
		os.kill(pid, 0)
	except ProcessLookupError:
		return False
	except PermissionError:
		return True
	# A zombie is not running; postfix's master is not our child, so
	# it never is one for long.
	try:
		with open("/proc/%d/stat" % pid) as f:
			return f.read().split(") ", 1)[1][:1] != "Z"
	except (OSError, IndexError):
		return False


def send(server, user, extra, count):
	"""One smtp-source run; returns (seconds, accepted ok)."""
	argv = [SMTP_SOURCE] + extra + [
	    "-s", str(SESSIONS), "-m", str(count), "-l", str(SIZE),
	    "-M", "client.bench.test", "-f", SENDER,
	    "-t", "%s@%s" % (user, DOMAIN), "127.0.0.1:%d" % server.port]
	t0 = time.monotonic()
	try:
		r = subprocess.run(argv, capture_output=True, text=True,
		    stdin=subprocess.DEVNULL, timeout=SEND_TIMEOUT)
	except subprocess.TimeoutExpired:
		fail("%s %s: smtp-source did not finish within %d s" %
		    (server.name, user, SEND_TIMEOUT))
		return t0, time.monotonic() - t0, False
	elapsed = time.monotonic() - t0
	if r.returncode != 0:
		fail("%s %s: smtp-source exit %d: %s" % (server.name, user,
		    r.returncode, (r.stderr or r.stdout).strip()[-500:]))
		return t0, elapsed, False
	return t0, elapsed, True


def wait_delivery(server, user, t0, expect):
	"""Seconds from t0 until new/ holds expect files, or None."""
	d = server.maildir_new(user)
	last_n, last_change = -1, time.monotonic()
	cap = time.monotonic() + DELIVERY_CAP
	while True:
		n = count_files(d)
		now = time.monotonic()
		if n >= expect:
			if n > expect:
				fail("%s %s: %d messages in the Maildir, %d "
				    "sent (duplicates)" % (server.name, user,
				    n, expect))
			return now - t0, n
		if n != last_n:
			last_n, last_change = n, now
		if now - last_change > STALL or now > cap:
			return None, n
		time.sleep(0.02)


def run_one(server, user, extra, count):
	t0, elapsed, ok = send(server, user, extra, count)
	done, n = wait_delivery(server, user, t0, count)
	if done is None:
		fail("%s %s: %d of %d messages in the Maildir %.1f s after "
		    "the send began; nothing new for %.0f s, %d still in the "
		    "queue" % (server.name, user, n, count,
		    time.monotonic() - t0, STALL, server.queued()))
	return {"rate": count / elapsed if ok else None,
		"secs": elapsed, "done": done, "user": user}


def fmt_rate(v):
	return "-" if v is None else "%.0f msg/s" % v


def fmt_secs(v):
	return "-" if v is None else "%.2f s" % v


def median(vals, missing_high=False):
	"""Median; a failed run (None) counts as worst."""
	if not vals:
		return None
	worst = float("inf") if missing_high else float("-inf")
	m = statistics.median([worst if v is None else v for v in vals])
	return None if m in (float("inf"), float("-inf")) else m


def main():
	for p in (SMTP_SOURCE, POSTFIX, os.path.join(BIN, "maild"),
	    os.path.join(BIN, "mailctl")):
		if not os.access(p, os.X_OK):
			print("bench: %s missing (run tools/install-deps "
			    "and make)" % p, file=sys.stderr)
			return 2
	if os.geteuid() != 0:
		print("bench: needs root (maild drops to its user, Postfix "
		    "to postfix)", file=sys.stderr)
		return 2

	for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
		signal.signal(s, on_signal)
	top = tempfile.mkdtemp(prefix="maild-bench.")
	os.chmod(top, 0o755)
	# Each server's tree in block groups of its own, as on a host that
	# runs one of them: on ext4 without a journal (this VM's) a new
	# inode skips every one freed in its group in the last 5 minutes
	# (300 s while the inode table block is dirty), so one server's
	# deletes, or /tmp's churn, would be paid by the other's creates.
	# chattr +T makes ext4 spread the subdirectories like top-level
	# ones (Orlov); elsewhere it fails and changes nothing.
	subprocess.run(["chattr", "+T", top], stdout=subprocess.DEVNULL,
	    stderr=subprocess.DEVNULL)
	servers = [Maild(top), Postfix(top)]
	try:
		return bench(servers)
	except Interrupted as e:
		print("bench: interrupted (%s)" % e, file=sys.stderr)
		return 130
	except RuntimeError as e:
		print("bench: " + str(e), file=sys.stderr)
		return 1
	finally:
		signal.signal(signal.SIGINT, signal.SIG_IGN)
		signal.signal(signal.SIGTERM, signal.SIG_IGN)
		for s in servers:
			try:
				s.stop()
			except Exception as e:	# keep cleaning up
				print("bench: stopping %s: %s" % (s.name, e),
				    file=sys.stderr)
		if KEEP:
			print("bench: kept " + top, file=sys.stderr)
		else:
			shutil.rmtree(top, ignore_errors=True)


def bench(servers):
	start = time.monotonic()
	for s in servers:
		s.start()
	note("bench: maild on 127.0.0.1:%d, postfix on 127.0.0.1:%d; "
	    "warming up" % (servers[0].port, servers[1].port))
	for s in servers:
		send(s, "warmup", ["-d"], 200)
		wait_delivery(s, "warmup", time.monotonic(), 200)

	results = {(s.name, v): [] for s in servers for v, _, _ in VARIANTS}
	for r in range(1, ROUNDS + 1):
		order = servers if r % 2 else servers[::-1]
		for v, label, extra in VARIANTS:
			for s in order:
				res = run_one(s, "r%d%s" % (r, v), extra,
				    MESSAGES)
				results[(s.name, v)].append(res)
				note("bench: round %d %-20s %-8s %s, all in "
				    "Maildir after %s" % (r, label, s.name,
				    fmt_rate(res["rate"]), fmt_secs(res["done"])))

	# Mail a run's wait gave up on: is it late, or lost?
	late = [(s, res) for s in servers for v, _, _ in VARIANTS
	    for res in results[(s.name, v)] if res["done"] is None]
	if late:
		note("bench: waiting up to %d s for mail that was not in the "
		    "Maildir yet" % FINAL_WAIT)
		t0 = time.monotonic()
		deadline = t0 + FINAL_WAIT
		while time.monotonic() < deadline:
			if all(count_files(s.maildir_new(res["user"])) >=
			    MESSAGES for s, res in late):
				break
			time.sleep(0.2)
		waited = time.monotonic() - t0
		for s, res in late:
			n = count_files(s.maildir_new(res["user"]))
			if n == MESSAGES:
				print("LATE %s %s: the last of %d messages "
				    "reached the Maildir only during a final "
				    "wait of %.1f s" % (s.name, res["user"],
				    MESSAGES, waited))
			else:
				fail("%s %s: %d of %d messages in the Maildir "
				    "after a final wait of %.1f s; %d still "
				    "in the queue" % (s.name, res["user"], n,
				    MESSAGES, waited, s.queued()))

	print(flush=True)
	print("SMTP acceptance, %d-octet messages, %d sessions, %d messages,"
	    " median of %d" % (SIZE, SESSIONS, MESSAGES, ROUNDS))
	print("%-34s %14s %14s %7s" % ("", "maild", "postfix", "ratio"))
	a, b = servers[0].name, servers[1].name
	for v, label, _ in VARIANTS:
		ra = median([x["rate"] for x in results[(a, v)]])
		rb = median([x["rate"] for x in results[(b, v)]])
		da = median([x["done"] for x in results[(a, v)]], True)
		db = median([x["done"] for x in results[(b, v)]], True)
		ratio = "%.2f" % (ra / rb) if ra and rb else "-"
		print("%-34s %14s %14s %7s" % (label + ", accepted",
		    fmt_rate(ra), fmt_rate(rb), ratio))
		ea = MESSAGES / da if da else None
		eb = MESSAGES / db if db else None
		ratio = "%.2f" % (ea / eb) if ea and eb else "-"
		print("%-34s %14s %14s %7s" % ("  all in Maildir after",
		    fmt_secs(da), fmt_secs(db), ""))
		print("%-34s %14s %14s %7s" % ("  end to end", fmt_rate(ea),
		    fmt_rate(eb), ratio))
	print(flush=True)
	print("per round (accepted msg/s / seconds until all in Maildir, "
	    "from the start of the send; - = not all there):")
	for v, label, _ in VARIANTS:
		for s in servers:
			print("  %-20s %-8s %s" % (label, s.name, "   ".join(
			    "%s / %s" % (fmt_rate(x["rate"]), fmt_secs(x["done"]))
			    for x in results[(s.name, v)])))
	for s in servers:
		probs = s.log_problems()
		if probs:
			print("%s log: %d warning/error line(s), first ones:" %
			    (s.name, len(probs)))
			for l in probs[:5]:
				print("  " + l[:200])
		else:
			print("%s log: no warnings or errors" % s.name)
	print("total %.0f s; %s" % (time.monotonic() - start,
	    "%d FAIL line(s)" % len(failures) if failures else "no failures"))
	return 1 if failures else 0


if __name__ == "__main__":
	sys.exit(main())
