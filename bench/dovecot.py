"""A private Dovecot instance for side-by-side benchmarks.

Its own base_dir, state, log and passwd-file in a temporary directory,
listening on 127.0.0.1 only; the system /etc/dovecot is never read and
the system instance never started.  Mail is Maildir under
<dir>/home/<user>/Maildir, owned by the user our own server runs as, so
the same message files can be given to both servers.
"""
import os
import pwd
import shutil
import signal
import socket
import sqlite3
import subprocess
import time

DOVECOT = "/usr/sbin/dovecot"


def free_port():
	with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]


def fill(maildir, msgs, uid, gid):
	"""A fresh Maildir whose new/ holds the messages."""
	if os.path.exists(maildir):
		shutil.rmtree(maildir)
	for sub in ("tmp", "cur"):
		os.makedirs(os.path.join(maildir, sub))
	shutil.copytree(msgs, os.path.join(maildir, "new"))
	for root, dirs, files in os.walk(maildir):
		for n in dirs + files:
			os.chown(os.path.join(root, n), uid, gid)
	os.chown(maildir, uid, gid)


class Dovecot:
	def __init__(self, tmp, protocols=("pop3",), user="maild"):
		self.dir = os.path.join(tmp, "dovecot")
		os.makedirs(self.dir)
		os.chmod(self.dir, 0o755)
		self.ports = {p: free_port() for p in protocols}
		self.user = user
		pw = pwd.getpwnam(user)
		self.uid, self.gid = pw.pw_uid, pw.pw_gid
		self.conf = os.path.join(self.dir, "dovecot.conf")
		self.log = os.path.join(self.dir, "dovecot.log")
		self.proc = None
		listeners = ""
		for proto in ("pop3", "imap"):
			port = self.ports.get(proto, 0)
			listeners += ("service %s-login {\n  inet_listener %s {\n"
			    "    address = 127.0.0.1\n    port = %d\n  }\n"
			    "  inet_listener %ss {\n    port = 0\n  }\n}\n"
			    % (proto, proto, port, proto))
		with open(self.conf, "w") as f:
			f.write("""base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
instance_name = maild-bench
protocols = {protos}
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
default_internal_user = {u}
default_login_user = dovenull
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={d}/home/%u
}}
mail_location = maildir:~/Maildir
pop3_uidl_format = %08Xu%08Xv
{listeners}""".format(d=self.dir, protos=" ".join(protocols), u=user,
			    uid=self.uid, gid=self.gid, listeners=listeners))

	def add_user(self, address, data_dir):
		"""The user with the very hash maild stores (crypt(3), yescrypt),
		so both servers pay the same for a login."""
		# Read-only: the last read-write connection to close deletes
		# users.db-wal and -shm, which maild makes at start and its auth
		# service (not root, in root's directory) cannot make again.
		db = sqlite3.connect("file:%s?mode=ro" % os.path.join(data_dir,
		    "users.db"), uri=True)
		(hashed,) = db.execute("SELECT password FROM users WHERE "
		    "address = ?", (address,)).fetchone()
		db.close()
		with open(os.path.join(self.dir, "passwd"), "a") as f:
			f.write("%s:{CRYPT}%s\n" % (address, hashed))
		return self.maildir(address)

	def maildir(self, address):
		return os.path.join(self.dir, "home", address, "Maildir")

	def chown_tree(self, top):
		for root, dirs, files in os.walk(top):
			for n in dirs + files:
				os.chown(os.path.join(root, n), self.uid, self.gid)
		os.chown(top, self.uid, self.gid)

	def start(self):
		self.proc = subprocess.Popen([DOVECOT, "-F", "-c", self.conf],
		    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
		deadline = time.monotonic() + 15
		for port in self.ports.values():
			while time.monotonic() < deadline:
				try:
					socket.create_connection(("127.0.0.1",
					    port), 1).close()
					break
				except OSError:
					time.sleep(0.05)
			else:
				raise RuntimeError("dovecot did not start: "
				    + self.log_text()[-2000:])

	def log_text(self):
		try:
			with open(self.log, errors="replace") as f:
				return f.read()
		except OSError:
			return ""

	def stop(self):
		"""SIGTERM to the master we started (it stops its children)."""
		if self.proc is None:
			return
		self.proc.send_signal(signal.SIGTERM)
		try:
			self.proc.wait(20)
		except subprocess.TimeoutExpired:
			self.proc.kill()
			self.proc.wait(10)
		self.proc = None
