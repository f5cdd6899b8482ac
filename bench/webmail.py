#!/usr/bin/python3
"""Webmail benchmark: maild's webmail against Roundcube 1.6 (Debian's
package, on nginx over HTTPS + php-fpm, reading a private Dovecot 2.3 on
loopback), side by side in one run, on copies of the same INBOX of
BENCH_WEBMAIL_MESSAGES (10,000) messages.

The INBOX is one Maildir made here (deterministic, seed 1): messages of
about 10 KB (6-14 KB of text), a quarter multipart/alternative with an
HTML part, a sixth multipart/mixed with a base64 attachment, 5 % with an
encoded UTF-8 subject; 30 % \\Seen, 5 % \\Flagged; dates a few minutes
apart, not in file order.  Both copies are in cur/ with their flags, as
a server that has seen them leaves them.  Both servers serve the same
certificate (maildtest's test CA), HTTP/1.1 over TLS, on 127.0.0.1.

Figures (medians; rounds alternate which server goes first):
  login -> first page  a new keep-alive TLS connection that has loaded
		the login page (not timed); then the POST of the form, the
		redirect followed, and what gives the first 50 rows: maild,
		POST /login (303) + GET of the page with the list; Roundcube,
		POST ?_task=login (302) + GET of the mail page + the list
		request its page's script makes (_action=list, 50
		add_message_row), BENCH_WEBMAIL_LOGINS per round;
  list page, warm  the same session and connection, the list again:
		maild, GET /mail?f=INBOX (the whole page with the rows);
		Roundcube, its list request (only the rows, its cheapest
		way to them), BENCH_WEBMAIL_REPEAT per round;
  open a message  BENCH_WEBMAIL_OPEN different messages (the same ones
		on both, found by Message-ID): maild, GET /mail?f=INBOX&u=
		plus GET /msg/body (the page and its frame, as the browser
		loads them); Roundcube, its preview frame (_action=preview
		&_framed=1, the message's text inline), checked to hold the
		message's own marker;
  list requests/s  wrk, 2 threads, 8 connections (HTTPS keep-alive),
		BENCH_WEBMAIL_WRK_SECONDS, the warm list request of one
		logged-in session; a Lua check counts every response that
		is not a 200 with 50 rows;
  browser       headless Chromium (bench/webmail-browser.js through
		t/browser/lib.js, kept on loopback): click on the login
		button -> the first rows visible, a new context (no cookies,
		no cache) each time, BENCH_WEBMAIL_BROWSER logins each,
		timed by the driver and in the page (the click event to
		the rows painted), through the harness's route (the HTTP
		cache off) and without it (the cache on, as a user's);
  search        the same 5 words on both, each matching hundreds of
		messages (50 rows back), in sender and subject: maild,
		GET /mail?f=INBOX&in=head&q= (the whole page with the
		hits); Roundcube, _action=search on subject and from.
		(maild's default search also reads the text of every
		message the index cannot answer, as IMAP's BODY does:
		not measured here, as Roundcube's default is not.)

Not equalised, and why: Dovecot checks a plain-text password
({PLAIN} in its passwd-file, as in the reference setup) while maild's
auth service checks a yescrypt hash (cached after the first login):
Roundcube logs in to IMAP on every request, so a yescrypt there would
charge it ~50 ms per request that is not its own design.  php-fpm has
Debian's stock pool sizes (5 children), nginx 2 workers; maild its
defaults but webmail.max_sessions_per_user (10 by default: the logins
measured stay logged in, as Roundcube's do, and the eleventh would end
the session the rounds reuse).  Roundcube's defaults are kept (50 rows, no message or IMAP
cache); its list is in arrival order, ours in date order (each one's
default).

Settings: BENCH_WEBMAIL_MESSAGES (10000), BENCH_ROUNDS (3),
BENCH_WEBMAIL_LOGINS (5), BENCH_WEBMAIL_REPEAT (20), BENCH_WEBMAIL_OPEN
(10), BENCH_WEBMAIL_WRK_SECONDS (10), BENCH_WEBMAIL_BROWSER (5, 0: no
browser), BENCH_WEBMAIL_BROWSER_DETAIL (a file for each browser login's
Navigation and Resource Timing); MAILD_BINDIR (bin/).
"""
import base64
import email.utils
import http.client
import imaplib
import json
import os
import pwd
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "t", "lib"))
from dovecot import Dovecot, free_port  # noqa: E402
from roundcube import Roundcube, missing as roundcube_missing  # noqa: E402
from maildtest import Server, client_tls, test_ca  # noqa: E402
from replay import Replay, bare_pages, capture  # noqa: E402
import browser  # noqa: E402

N = int(os.environ.get("BENCH_WEBMAIL_MESSAGES", "10000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
LOGINS = int(os.environ.get("BENCH_WEBMAIL_LOGINS", "5"))
REPEAT = int(os.environ.get("BENCH_WEBMAIL_REPEAT", "20"))
OPEN = int(os.environ.get("BENCH_WEBMAIL_OPEN", "10"))
WRK_SECONDS = int(os.environ.get("BENCH_WEBMAIL_WRK_SECONDS", "10"))
BROWSER = int(os.environ.get("BENCH_WEBMAIL_BROWSER", "5"))
# a file to write the browser's per-login details to (bench/webmail-
# browser.js: the final page's Navigation and Resource Timing)
BROWSER_DETAIL = os.environ.get("BENCH_WEBMAIL_BROWSER_DETAIL", "")
ROWS = 50
DOMAIN = "bench.test"
USER, PASSWORD = "bench@" + DOMAIN, "bench-pw-1"
SEARCH_WORDS = ("invoice", "meeting", "report", "Garcia", "travel")

WORDS = """the of and to in is that it for on with as was at by this be from
or have an are not but had his they you were her all she there would their
we him been has when who will more no if out so said what up its about into
than them can only other new some could time these two may then do first any
my now such like our over man me even most made after also did many before
must through back years where much your way well down should because each
just those people how too little state good very make world still own see
men work long get here between both life being under never day same another
know while last might us great old year off come since against go came right
used take three""".split()
SUBJECT_WORDS = """invoice meeting report travel budget review lunch project
update question photos draft contract schedule holiday order shipping
notes agenda proposal minutes reminder feedback release party offer
ticket account password newsletter results summary plan""".split()
NAMES = """Alice Adams;Bob Brown;Carol Clark;Dan Davis;Eve Evans;Frank Garcia;
Grace Hall;Henry Irwin;Ivy Jones;Jack King;Karen Lopez;Liam Moore;Mia Nash;
Noah Owens;Olga Perez;Paul Quinn;Rita Reed;Sam Scott;Tina Turner;Uma Vance;
Victor White;Wendy Young;Xavier Zhang;Yara Ali;Zoe Baker""".replace(
    "\n", "").split(";")
UTF8_SUBJECTS = ("Grüße aus Köln", "Ação necessária", "Встреча завтра",
    "Café à Paris", "Zürich — Übersicht")


def text_block(rng, size, marker):
	"""About size octets of lines of words, the marker in the first."""
	lines, n = [marker], len(marker)
	while n < size:
		line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8,
		    13))).capitalize() + "."
		lines.append(line)
		n += len(line) + 1
	return "\n".join(lines) + "\n"


def make_messages(dirpath):
	"""N messages in dirpath/cur (flags in their names); returns
	{index: Message-ID} for every message."""
	rng = random.Random(1)
	cur = os.path.join(dirpath, "cur")
	for sub in ("cur", "new", "tmp"):
		os.makedirs(os.path.join(dirpath, sub))
	base = 1795000000	# 2026-11-18
	ids = {}
	for i in range(N):
		when = base + i * 240 + rng.randint(-600, 600)
		name = rng.choice(NAMES)
		addr = name.lower().replace(" ", ".") + "@sender%d.test" % (
		    i % 7)
		if rng.random() < 0.05:
			subject = "=?UTF-8?B?%s?=" % base64.b64encode(
			    rng.choice(UTF8_SUBJECTS).encode()).decode()
		else:
			subject = " ".join(rng.choice(SUBJECT_WORDS) for _ in
			    range(rng.randint(2, 5))).capitalize()
		subject += " #%d" % i
		msgid = "<m%05d.%d@%s>" % (i, when, DOMAIN)
		ids[i] = msgid
		marker = "marker-%05d" % i
		size = rng.randint(6000, 14000)
		head = ("Return-Path: <%s>\nFrom: %s <%s>\nTo: Bench User <%s>\n"
		    "Subject: %s\nDate: %s\nMessage-ID: %s\nMIME-Version: 1.0\n"
		    % (addr, name, addr, USER, subject,
		    email.utils.formatdate(when), msgid))
		kind = rng.random()
		if kind < 1 / 6:
			text = text_block(rng, size - 4500, marker)
			blob = base64.encodebytes(rng.randbytes(3000)).decode()
			body = ("Content-Type: multipart/mixed; boundary=\"b%d\"\n\n"
			    "--b%d\nContent-Type: text/plain; charset=us-ascii\n\n"
			    "%s\n--b%d\nContent-Type: application/pdf; name="
			    "\"report-%d.pdf\"\nContent-Disposition: attachment; "
			    "filename=\"report-%d.pdf\"\nContent-Transfer-"
			    "Encoding: base64\n\n%s\n--b%d--\n" % (i, i, text, i,
			    i, i, blob, i))
		elif kind < 1 / 6 + 1 / 4:
			text = text_block(rng, size // 3, marker)
			html = "".join("<p>%s</p>\n" % p for p in
			    text_block(rng, size // 2, marker).split("\n") if p)
			body = ("Content-Type: multipart/alternative; boundary="
			    "\"a%d\"\n\n--a%d\nContent-Type: text/plain; "
			    "charset=us-ascii\n\n%s\n--a%d\nContent-Type: text/html;"
			    " charset=us-ascii\n\n<html><body style=\"font-family:"
			    " sans-serif\">\n<h2>%s</h2>\n%s</body></html>\n"
			    "--a%d--\n" % (i, i, text, i, name, html, i))
		else:
			body = ("Content-Type: text/plain; charset=us-ascii\n\n"
			    + text_block(rng, size, marker))
		flags = ""
		if rng.random() < 0.05:
			flags += "F"
		if rng.random() < 0.30:
			flags += "S"
		fname = "%d.M%dP%d.bench:2,%s" % (when, i, 1000 + i, flags)
		with open(os.path.join(cur, fname), "w") as f:
			f.write(head + body)
	return ids


def copy_maildir(src, dst, uid, gid):
	if os.path.exists(dst):
		shutil.rmtree(dst)
	shutil.copytree(src, dst)
	for root, dirs, files in os.walk(dst):
		for n in dirs + files:
			os.chown(os.path.join(root, n), uid, gid)
	os.chown(dst, uid, gid)


class Http:
	"""One keep-alive HTTPS connection with a cookie jar."""

	def __init__(self, port):
		self.port = port
		self.origin = "https://127.0.0.1:%d" % port
		self.c = http.client.HTTPSConnection("127.0.0.1", port,
		    context=client_tls(), timeout=120)
		self.c.connect()
		self.cookies = {}

	def req(self, method, path, form=None, headers=None):
		h = dict(headers or {})
		if self.cookies:
			h["Cookie"] = "; ".join("%s=%s" % kv for kv in
			    self.cookies.items())
		body = None
		if form is not None:
			body = urllib.parse.urlencode(form)
			h["Content-Type"] = "application/x-www-form-urlencoded"
		self.c.request(method, path, body=body, headers=h)
		r = self.c.getresponse()
		data = r.read()
		for v in r.headers.get_all("Set-Cookie") or []:
			m = re.match(r"\s*([^=;\s]+)=([^;]*)", v)
			if not m:
				continue
			if m.group(2) in ("", "-del-", "deleted") or \
			    re.search(r"(?i)max-age=0\b", v):
				self.cookies.pop(m.group(1), None)
			else:
				self.cookies[m.group(1)] = m.group(2)
		return r.status, r.headers, data

	def reconnect(self):
		"""A new connection for the same session (untimed): a server
		may close one that stayed idle while the other was measured,
		and a browser would open another."""
		self.c.close()
		self.c.connect()

	def cookie_header(self):
		return "; ".join("%s=%s" % kv for kv in self.cookies.items())

	def close(self):
		self.c.close()


def check(cond, what):
	if not cond:
		raise RuntimeError(what)


# ---- maild's side ----

MAILD_ROW = b'<li data-uid="'


class Maild:
	name = "maild"
	row_pattern = "<li data-uid="	# what wrk's check counts

	def __init__(self, port):
		self.port = port
		self.list_path = "/mail?f=INBOX"
		self.headers = {}

	def login(self):
		"""A logged-in session: (Http, seconds from the POST of the form
		to the first 50 rows)."""
		h = Http(self.port)
		st, _, body = h.req("GET", "/login")
		check(st == 200 and b"<form" in body, "maild: GET /login: %d"
		    % st)
		t0 = time.monotonic()
		st, hd, _ = h.req("POST", "/login", {"user": USER,
		    "password": PASSWORD}, {"Origin": h.origin})
		check(st == 303 and "__Host-maild" in h.cookies,
		    "maild: POST /login: %d" % st)
		loc = urllib.parse.urlsplit(hd.get("Location", ""))
		path = loc.path + ("?" + loc.query if loc.query else "")
		if not path.startswith("/mail"):
			path = self.list_path
		st, _, body = h.req("GET", path)
		dt = time.monotonic() - t0
		check(st == 200 and body.count(MAILD_ROW) == ROWS,
		    "maild: GET %s after login: %d, %d rows" % (path, st,
		    body.count(MAILD_ROW)))
		return h, dt

	def list(self, h):
		t0 = time.monotonic()
		st, _, body = h.req("GET", self.list_path)
		dt = time.monotonic() - t0
		check(st == 200 and body.count(MAILD_ROW) == ROWS,
		    "maild: GET %s: %d, %d rows" % (self.list_path, st,
		    body.count(MAILD_ROW)))
		return dt

	def open(self, h, uid, marker):
		t0 = time.monotonic()
		st, _, page = h.req("GET", "/mail?f=INBOX&u=%d" % uid)
		st2, _, body = h.req("GET", "/msg/body?f=INBOX&u=%d" % uid)
		dt = time.monotonic() - t0
		check(st == 200 and st2 == 200 and marker.encode() in body,
		    "maild: open %d: %d, %d, marker %s" % (uid, st, st2,
		    marker.encode() in body))
		return dt

	def search(self, h, word):
		path = "/mail?f=INBOX&in=head&q=" + urllib.parse.quote(word)
		t0 = time.monotonic()
		st, _, body = h.req("GET", path)
		dt = time.monotonic() - t0
		check(st == 200 and 0 < body.count(MAILD_ROW) <= ROWS,
		    "maild: search %s: %d, %d rows" % (word, st,
		    body.count(MAILD_ROW)))
		return dt

	def wrk_headers(self, h):
		return {"Cookie": h.cookie_header()}


# ---- Roundcube's side ----

RC_ROW = b"add_message_row("


class RoundcubeSide:
	name = "roundcube"
	row_pattern = "add_message_row("

	def __init__(self, port):
		self.port = port
		self.list_path = ("/?_task=mail&_action=list&_refresh=1&_layout="
		    "widescreen&_mbox=INBOX&_page=&_remote=1&_unlock=loading1")

	def login(self):
		h = Http(self.port)
		st, _, body = h.req("GET", "/")
		m = re.search(rb'name="_token" value="([^"]+)"', body)
		check(st == 200 and m, "roundcube: GET /: %d" % st)
		t0 = time.monotonic()
		st, hd, _ = h.req("POST", "/?_task=login", {
		    "_token": m.group(1).decode(), "_task": "login",
		    "_action": "login", "_timezone": "UTC", "_url": "",
		    "_user": USER, "_pass": PASSWORD})
		check(st == 302, "roundcube: POST login: %d (%s)" % (st,
		    hd.get("Location")))
		loc = urllib.parse.urlsplit(hd.get("Location", ""))
		st, _, body = h.req("GET", "/?" + loc.query)
		m = re.search(rb'"request_token":"([^"]+)"', body)
		check(st == 200 and m, "roundcube: the mail page: %d" % st)
		h.token = m.group(1).decode()
		st, _, body = h.req("GET", self.list_path,
		    headers={"X-Roundcube-Request": h.token})
		dt = time.monotonic() - t0
		check(st == 200 and body.count(RC_ROW) == ROWS,
		    "roundcube: list after login: %d, %d rows" % (st,
		    body.count(RC_ROW)))
		return h, dt

	def list(self, h):
		t0 = time.monotonic()
		st, _, body = h.req("GET", self.list_path,
		    headers={"X-Roundcube-Request": h.token})
		dt = time.monotonic() - t0
		check(st == 200 and body.count(RC_ROW) == ROWS,
		    "roundcube: list: %d, %d rows" % (st, body.count(RC_ROW)))
		return dt

	def open(self, h, uid, marker):
		t0 = time.monotonic()
		st, _, body = h.req("GET", "/?_task=mail&_uid=%d&_mbox=INBOX"
		    "&_framed=1&_action=preview" % uid)
		dt = time.monotonic() - t0
		check(st == 200 and marker.encode() in body,
		    "roundcube: preview %d: %d, marker %s" % (uid, st,
		    marker.encode() in body))
		return dt

	def search(self, h, word):
		t0 = time.monotonic()
		st, _, body = h.req("GET", "/?_task=mail&_action=search&_q=%s"
		    "&_headers=subject,from&_layout=widescreen&_mbox=INBOX"
		    "&_scope=base&_filter=ALL&_remote=1&_unlock=loading2"
		    % urllib.parse.quote(word),
		    headers={"X-Roundcube-Request": h.token})
		dt = time.monotonic() - t0
		check(st == 200 and 0 < body.count(RC_ROW) <= ROWS,
		    "roundcube: search %s: %d, %d rows" % (word, st,
		    body.count(RC_ROW)))
		return dt

	def wrk_headers(self, h):
		return {"Cookie": h.cookie_header(),
		    "X-Roundcube-Request": h.token}


# ---- the measurements ----

WRK_LUA = """-- every response must be a 200 with the first page's rows
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) good = 0; bad = 0 end
function response(status, headers, body)
	local n, i = 0, 1
	while true do
		i = string.find(body, "%s", i, true)
		if i == nil then break end
		n = n + 1; i = i + 1
	end
	if status == 200 and n == %d then good = good + 1
	else bad = bad + 1 end
end
function done(summary, latency, requests)
	local g, b = 0, 0
	for _, t in ipairs(threads) do
		g = g + t:get("good"); b = b + t:get("bad")
	end
	io.write(string.format("CHECK good=%%d bad=%%d\\n", g, b))
end
"""


def wrk(side, h, tmp):
	"""(requests/s, p50 seconds, bad responses) of wrk on the list."""
	lua = os.path.join(tmp, "wrk-%s.lua" % side.name)
	with open(lua, "w") as f:
		f.write(WRK_LUA % (side.row_pattern, ROWS))
	cmd = ["wrk", "-t2", "-c8", "-d%ds" % WRK_SECONDS, "--latency",
	    "--timeout", "30s", "-s", lua]
	for k, v in side.wrk_headers(h).items():
		cmd += ["-H", "%s: %s" % (k, v)]
	cmd.append("https://127.0.0.1:%d%s" % (side.port, side.list_path))
	out = subprocess.run(cmd, capture_output=True, text=True,
	    timeout=WRK_SECONDS + 60).stdout
	rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
	p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)\b", out)
	chk = re.search(r"CHECK good=(\d+) bad=(\d+)", out)
	check(rate and p50 and chk, "wrk on %s: %s" % (side.name, out))
	scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0}[p50.group(2)]
	return float(rate.group(1)), float(p50.group(1)) * scale, \
	    int(chk.group(2))


def imap_uids(port, ssl, msgids):
	"""{Message-ID: UID} in INBOX over IMAP."""
	if ssl:
		c = imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=client_tls())
	else:
		c = imaplib.IMAP4("127.0.0.1", port)
	c.login(USER, PASSWORD)
	c.select("INBOX", readonly=True)
	out = {}
	for mid in msgids:
		typ, data = c.uid("SEARCH", "HEADER", "Message-ID", '"%s"' % mid)
		uids = data[0].split()
		check(typ == "OK" and len(uids) == 1, "IMAP %d: %s -> %r" %
		    (port, mid, data))
		out[mid] = int(uids[0])
	c.logout()
	return out


class QuietTAP:
	"""What browser.run() reports to, kept for our own summary."""

	def __init__(self):
		self.n = 0
		self.failures = []

	def ok(self, cond, name, diag=None):
		self.n += 1
		if not cond:
			self.failures.append("%s%s" % (name, "\n" + str(diag)
			    if diag else ""))
		return cond

	def diag(self, msg):
		pass


def run_browser(sides):
	"""({mode: {side name: [ms]}} of login click -> rows visible by the
	driver's clock, {mode: {side name: {"dom"|"painted"|"element":
	[ms]}}} the same in the page, from the click event to the rows in
	the DOM and painted), for the modes "route" (the harness's route,
	the HTTP cache off) and "cache" (no route, the cache on)."""
	why = browser.unavailable()
	if why:
		print("bench: no browser figures: " + why)
		return None, None
	t = QuietTAP()
	r = browser.run(t, "../../bench/webmail-browser.js", {
	    "name": "bench-webmail", "rounds": BROWSER, "rows": ROWS,
	    "detail": bool(BROWSER_DETAIL), "modes": ["route", "cache"],
	    "sides": [{"name": s.name, "url": "https://127.0.0.1:%d" %
	    s.port, "user": USER, "password": PASSWORD} for s in sides]},
	    timeout=60 + 40 * BROWSER)
	for f in t.failures:
		print("bench: browser: FAIL: " + f.strip())
	if t.failures:
		return None, None
	if BROWSER_DETAIL:
		with open(BROWSER_DETAIL, "w") as f:
			json.dump(r.data.get("detail"), f, indent=1)
	return r.data.get("login_to_rows_ms"), r.data.get("inpage_ms")


def fmt(xs):
	return "[" + ", ".join("%.1f" % (x * 1000) for x in xs) + "]"


def med(xs):
	return statistics.median(xs) if xs else float("nan")


def main():
	why = roundcube_missing()
	if why:
		print("bench: webmail: no %s (tools/install-bench-peers installs "
		    "Roundcube, nginx, php8.2-fpm and wrk)" % why)
		return 1
	tmp = tempfile.mkdtemp(prefix="bench-webmail.")
	os.chmod(tmp, 0o755)
	srv = dove = rc = None
	res = {}
	failed = []
	try:
		print("bench: making %d messages of about 10 KB" % N, flush=True)
		msgs = os.path.join(tmp, "messages")
		ids = make_messages(msgs)
		ca = test_ca()

		# every measured login stays logged in (as Roundcube's do):
		# room for them all beside the session the rounds reuse
		srv = Server(services=("webmail", "imaps"),
		    overrides=["server.log_level=info",
		    "webmail.max_sessions_per_user=1000"],
		    data_dir=os.path.join(tmp, "maild-data"))
		srv.setup(domains=(DOMAIN,), users=[(USER, PASSWORD)])
		mw = pwd.getpwnam("maild")
		copy_maildir(msgs, srv.maildir(USER), mw.pw_uid, mw.pw_gid)
		srv.start()

		dove = Dovecot(tmp, ("imap",))
		with open(dove.conf, "a") as f:
			f.write("protocol imap {\n  mail_max_userip_connections"
			    " = 100\n}\n")
		with open(os.path.join(dove.dir, "passwd"), "w") as f:
			f.write("%s:{PLAIN}%s\n" % (USER, PASSWORD))
		copy_maildir(msgs, dove.maildir(USER), dove.uid, dove.gid)
		dove.chown_tree(os.path.dirname(os.path.dirname(
		    dove.maildir(USER))))
		dove.start()
		rc = Roundcube(tmp, free_port(), dove.ports["imap"], ca["cert"],
		    ca["key"])
		rc.start()

		sides = [Maild(srv.port("webmail")), RoundcubeSide(rc.port)]
		for s in sides:
			res[s.name] = {k: [] for k in ("first", "login", "list",
			    "open", "rps", "p50", "bad", "search", "browser")}
		# The first login of each builds its index (maild's on first
		# open, Dovecot's): one figure, not in the goals' medians.
		sess = {}
		for s in sides:
			sess[s.name], dt = s.login()
			res[s.name]["first"].append(dt)
			print("bench: %-9s first login -> first page (index built):"
			    " %.1f ms" % (s.name, dt * 1000), flush=True)
		# the same messages on both: every (N / OPEN)th, by Message-ID
		pick = [ids[i] for i in range(N // (2 * OPEN), N,
		    N // OPEN)][:OPEN]
		markers = {ids[i]: "marker-%05d" % i for i in ids}
		uids = {"maild": imap_uids(srv.port("imaps"), True, pick),
		    "roundcube": imap_uids(dove.ports["imap"], False, pick)}

		for rnd in range(ROUNDS):
			order = sides if rnd % 2 == 0 else sides[::-1]
			for s in order:
				r = res[s.name]
				logins = []
				for _ in range(LOGINS):
					h, dt = s.login()
					logins.append(dt)
					h.close()
				h = sess[s.name]
				h.reconnect()
				lists = [s.list(h) for _ in range(REPEAT)]
				opens = [s.open(h, uids[s.name][m], markers[m])
				    for m in pick]
				rps, p50, bad = wrk(s, h, tmp)
				r["login"] += logins
				r["list"] += lists
				r["open"] += opens
				r["rps"].append(rps)
				r["p50"].append(p50)
				r["bad"].append(bad)
				print("bench: round %d %-9s login -> first page %.1f ms"
				    "  list %.1f ms  open %.1f ms  wrk %.1f req/s "
				    "(p50 %.1f ms%s)" % (rnd + 1, s.name,
				    med(logins) * 1000, med(lists) * 1000,
				    med(opens) * 1000, rps, p50 * 1000,
				    ", %d BAD" % bad if bad else ""), flush=True)
				if bad:
					failed.append("%s: wrk: %d responses without "
					    "the 50 rows" % (s.name, bad))

		if BROWSER > 0:
			# maild's pages served again from memory: the browser's
			# own share of the figure (bench/replay.py)
			replays = [Replay(capture(Http, srv.port("webmail"), USER,
			    PASSWORD, check), ca["cert"], ca["key"]),
			    Replay(bare_pages(ROWS), ca["cert"], ca["key"],
			    "bare")]
			try:
				ms, ip = run_browser(sides + replays)
			finally:
				for rp in replays:
					rp.stop()
			if ms is None:
				failed.append("browser: no figures")
			else:
				for mode in ("route", "cache"):
					sfx = "" if mode == "route" else "_cache"
					for s in replays + sides:
						r = res.setdefault(s.name, {})
						r["browser" + sfx] = [x / 1000 for x in
						    ms[mode].get(s.name, [])]
						for k in ("dom", "painted", "element"):
							r["inpage_" + k + sfx] = [x / 1000
							    for x in ip[mode].get(s.name,
							    {}).get(k, [])]
						print("bench: browser (%s) %-9s login click "
						    "-> rows visible: %s ms; in the page, "
						    "click -> rows in the DOM %s, painted "
						    "%s, Element Timing %s ms" % (mode,
						    s.name, ms[mode].get(s.name),
						    fmt(r["inpage_dom" + sfx]),
						    fmt(r["inpage_painted" + sfx]),
						    fmt(r["inpage_element" + sfx])),
						    flush=True)

		for s in sides:
			h = sess[s.name]
			h.reconnect()
			res[s.name]["search"] = [s.search(h, w)
			    for w in SEARCH_WORDS]
			print("bench: %-9s search (sender, subject) %s: %s ms" %
			    (s.name, ", ".join(SEARCH_WORDS), ", ".join(
			    "%.1f" % (x * 1000) for x in res[s.name]["search"])),
			    flush=True)

		report(res)
	except Exception:
		if srv is not None:
			print("bench: maild's errors:\n" + "\n".join(l for l in
			    srv.log().splitlines() if "error" in l or
			    "sandbox" in l)[-3000:])
		for what, obj in (("Roundcube", rc), ("Dovecot", dove)):
			if obj is not None:
				print("bench: %s's logs:\n%s" % (what,
				    obj.log_text()[-3000:]))
		raise
	finally:
		if rc is not None:
			rc.stop()
		if dove is not None:
			dove.stop()
		if srv is not None:
			srv.stop()
		shutil.rmtree(tmp, ignore_errors=True)
	for f in failed:
		print("FAIL: " + f)
	return 1 if failed else 0


def report(res):
	m, r = res["maild"], res["roundcube"]
	print()
	print("Webmail, %d messages in INBOX, HTTPS on loopback; medians of %d "
	    "rounds" % (N, ROUNDS))
	print("%-46s %11s %11s %8s" % ("", "maild", "Roundcube", "ratio"))
	goals = []

	def row(label, key, rate=False, goal=10.0):
		a, b = med(m[key]), med(r[key])
		if rate:
			ratio = a / b if b > 0 else float("inf")
			fa, fb = "%7.0f/s" % a, "%7.1f/s" % b
		else:
			ratio = b / a if a > 0 else float("inf")
			fa, fb = "%8.1fms" % (a * 1000), "%8.1fms" % (b * 1000)
		print("%-46s %11s %11s %8.1f" % (label, fa, fb, ratio))
		if goal and not ratio >= goal:
			goals.append("%s: %.1f times Roundcube's, not %g" % (
			    label, ratio, goal))
		return a

	row("login -> first page (first ever, index built)", "first",
	    goal=None)
	row("login -> first page of the list", "login")
	lp = row("list page, warm", "list")
	row("open a message (page + body / preview)", "open")
	rps = row("list requests/s, 8 connections (wrk)", "rps", rate=True)
	row("list p50 under wrk, 8 connections", "p50")
	if m["browser"] and r["browser"]:
		for sfx, what in (("", "route, cache off"), ("_cache",
		    "no route, cache on")):
			print("browser, headless Chromium, %s:" % what)
			row("  login click -> rows visible (driver)",
			    "browser" + sfx)
			row("  in the page: click -> rows painted",
			    "inpage_painted" + sfx)
			if m["inpage_element" + sfx] and \
			    r["inpage_element" + sfx]:
				row("  in the page: Element Timing's renderTime",
				    "inpage_element" + sfx, goal=None)
			rb, rp = med(r["browser" + sfx]), med(
			    r["inpage_painted" + sfx])
			for name, label in (("replay", "maild's pages from "
			    "memory"), ("bare", "a bare form, 50 bare rows")):
				if not res.get(name, {}).get("browser" + sfx):
					continue
				fl, fp = med(res[name]["browser" + sfx]), med(
				    res[name]["inpage_painted" + sfx])
				print("%-46s %8.1fms %11s %8.1f" % ("  " + label +
				    " (driver)", fl * 1000, "", rb / fl))
				print("%-46s %8.1fms %11s %8.1f" % ("  " + label +
				    " (in the page)", fp * 1000, "", rp / fp))
	row("search (sender, subject), 5 words", "search")
	print("(ratio = Roundcube / maild for times, maild / Roundcube for "
	    "requests/s: above 1, maild is faster)")
	if lp > 0.005:
		goals.append("list page p50 %.1f ms, not <= 5 ms" % (lp * 1000))
	if rps < 1000:
		goals.append("list requests/s %.0f, not >= 1,000" % rps)
	for g in goals:
		print("goal not met: " + g)
	if not goals:
		print("every goal met: each figure >= 10x Roundcube's, list p50 "
		    "<= 5 ms, >= 1,000 requests/s")


if __name__ == "__main__":
	sys.exit(main())
