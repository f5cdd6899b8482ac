"""A private Roundcube (Debian's roundcube 1.6) for side-by-side benchmarks:
nginx over HTTPS and php-fpm, each a master of our own with its own
configuration, pid file and logs in a temporary directory, on 127.0.0.1
only, reading a Dovecot on loopback (bench/dovecot.py).  The system's
nginx and php8.2-fpm are never started, and nothing under /etc is
changed: Roundcube reads /etc/roundcube/ (as installed) and then a
config.inc.php of ours (RCUBE_CONFIG_PATH, set in php-fpm's pool), which
points it at our Dovecot, at a copy of the database the package made,
and at our own temp and log directories.  tools/install-bench-peers
installs the packages.
"""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time

NGINX = "/usr/sbin/nginx"
PHP_FPM = "/usr/sbin/php-fpm8.2"
WEBROOT = "/var/lib/roundcube/public_html"
PACKAGE_DB = "/var/lib/dbconfig-common/sqlite3/roundcube/roundcube"
USER = "www-data"	# as Debian's pool: the package's files are its


def missing():
	"""What of Roundcube's stack is not installed, or None."""
	for p in (NGINX, PHP_FPM, WEBROOT, PACKAGE_DB, "/usr/bin/wrk"):
		if not os.path.exists(p):
			return p
	return None


class Roundcube:
	def __init__(self, tmp, port, imap_port, cert, key):
		self.dir = os.path.join(tmp, "roundcube")
		self.port = port
		self.pids = {}
		pw = pwd.getpwnam(USER)
		d = self.dir
		for sub in ("", "config", "run", "temp", "logs", "nginx",
		    "nginx/tmp"):
			os.makedirs(os.path.join(d, sub), exist_ok=True)
		os.chmod(d, 0o755)
		db = os.path.join(d, "roundcube.db")
		shutil.copyfile(PACKAGE_DB, db)
		for p in (db, os.path.join(d, "temp"), os.path.join(d, "logs"),
		    os.path.join(d, "config")):
			os.chown(p, pw.pw_uid, pw.pw_gid)
		# the directory of the database too: sqlite makes its journal
		# beside it
		os.chown(d, pw.pw_uid, pw.pw_gid)
		with open(os.path.join(d, "config", "config.inc.php"), "w") as f:
			f.write("""<?php
// bench/roundcube.py: read after /etc/roundcube/config.inc.php
$config['imap_host'] = '127.0.0.1:{imap}';
$config['smtp_host'] = '127.0.0.1:9';
$config['db_dsnw'] = 'sqlite:///{db}?mode=0640';
$config['temp_dir'] = '{d}/temp';
$config['log_dir'] = '{d}/logs';
""".format(imap=imap_port, db=db, d=d))
		self.fpm_conf = os.path.join(d, "php-fpm.conf")
		sock = os.path.join(d, "run", "php-fpm.sock")
		with open(self.fpm_conf, "w") as f:
			f.write("""; a private php-fpm master: a unix socket, no TCP
[global]
pid = {d}/run/php-fpm.pid
error_log = {d}/logs/php-fpm.log
daemonize = no

[roundcube]
user = {u}
group = {u}
listen = {sock}
listen.owner = {u}
listen.group = {u}
listen.mode = 0660
; the process manager as Debian's stock /etc/php/8.2/fpm/pool.d/www.conf
pm = dynamic
pm.max_children = 5
pm.start_servers = 2
pm.min_spare_servers = 1
pm.max_spare_servers = 3
; Debian's configuration directory (as iniset.php names it: listed
; first, it is not appended again after ours), then ours
env[RCUBE_CONFIG_PATH] = /var/lib/roundcube/config/:{d}/config/
""".format(d=d, u=USER, sock=sock))
		self.nginx_conf = os.path.join(d, "nginx.conf")
		with open(self.nginx_conf, "w") as f:
			f.write("""# a private nginx master: 127.0.0.1:{port}, HTTPS only
user {u};
worker_processes auto;
pid {d}/run/nginx.pid;
daemon off;
error_log {d}/logs/nginx-error.log;
events {{ worker_connections 768; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    keepalive_requests 100000;
    access_log off;
    client_body_temp_path {d}/nginx/tmp/body;
    fastcgi_temp_path     {d}/nginx/tmp/fastcgi;
    proxy_temp_path       {d}/nginx/tmp/proxy;
    uwsgi_temp_path       {d}/nginx/tmp/uwsgi;
    scgi_temp_path        {d}/nginx/tmp/scgi;
    gzip on;
    client_max_body_size 25m;
    ssl_protocols TLSv1.2 TLSv1.3;

    server {{
        listen 127.0.0.1:{port} ssl;
        server_name localhost;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        root {root};
        index index.php;

        location ~ /\\. {{ deny all; }}
        location ~ ^/(config|temp|logs|SQL|bin|installer)(/|$) {{ deny all; }}

        location ~ \\.php$ {{
            try_files $uri =404;
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
            fastcgi_param HTTPS on;
            fastcgi_pass unix:{sock};
        }}
        location / {{
            try_files $uri $uri/ /index.php$is_args$args;
        }}
    }}
}}
""".format(d=d, u=USER, port=port, cert=cert, key=key, root=WEBROOT,
			    sock=sock))
		self.procs = []

	def start(self):
		"""php-fpm and nginx in the foreground (children of ours, so
		their PIDs are known); waits until nginx answers."""
		log = open(os.path.join(self.dir, "logs", "masters.log"), "ab")
		self.procs.append(subprocess.Popen([PHP_FPM, "-F", "-y",
		    self.fpm_conf], stdout=log, stderr=log))
		self.procs.append(subprocess.Popen([NGINX, "-p",
		    os.path.join(self.dir, "nginx") + "/", "-e",
		    os.path.join(self.dir, "logs", "nginx-error.log"), "-c",
		    self.nginx_conf], stdout=log, stderr=log))
		deadline = time.monotonic() + 20
		while time.monotonic() < deadline:
			for p in self.procs:
				if p.poll() is not None:
					raise RuntimeError("roundcube: %s exited: %s"
					    % (p.args[0], self.log_text()))
			try:
				socket.create_connection(("127.0.0.1",
				    self.port), 1).close()
				if os.path.exists(os.path.join(self.dir, "run",
				    "php-fpm.sock")):
					return
			except OSError:
				pass
			time.sleep(0.05)
		raise RuntimeError("roundcube: nginx did not listen: "
		    + self.log_text())

	def master_pids(self):
		return [p.pid for p in self.procs]

	def log_text(self):
		out = ""
		logs = os.path.join(self.dir, "logs")
		for n in sorted(os.listdir(logs)):
			try:
				with open(os.path.join(logs, n),
				    errors="replace") as f:
					out += "== %s\n%s" % (n, f.read()[-2000:])
			except OSError:
				pass
		return out

	def stop(self):
		"""SIGTERM (SIGQUIT for nginx: graceful) to the masters we
		started; they stop their workers."""
		for p in reversed(self.procs):
			if p.poll() is None:
				p.send_signal(signal.SIGQUIT if p.args[0] == NGINX
				    else signal.SIGTERM)
			try:
				p.wait(20)
			except subprocess.TimeoutExpired:
				p.kill()
				p.wait(10)
		self.procs = []
