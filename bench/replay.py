"""The browser's share of a webmail figure: maild's own pages, captured
once, served again from memory by a server that does no work.

bench/webmail.py's browser row times a click on the login button until
the first rows are visible.  To tell the part of that time that is the
browser's (and the test driver's) from the part that is the server's,
the same run also times the same click against a Replay: the login page,
the list page with its rows and the static files, byte for byte as maild
sent them, with their headers (the Content-Security-Policy too), and the
POST of the form answered at once with maild's redirect.  What maild
takes beyond the replay is what its server side costs.  A second
Replay serves bare_pages(): a form and the rows alone, the floor of
the browser and the driver for that click on this machine.

HTTPS with the certificate the test maild serves, HTTP/1.1 keep-alive,
on 127.0.0.1 only; a thread per connection.  Anything not captured is a
404 (the page's live-update stream among them: the browser figure stops
at the rows).
"""
import http.server
import re
import ssl
import threading
import urllib.parse

# Headers of a captured response that describe the transfer, not the page.
SKIP = {"content-length", "transfer-encoding", "connection", "date",
	"keep-alive", "set-cookie"}


class Replay:
	def __init__(self, pages, cert, key, name="replay"):
		"""pages: {path: (status, [(header, value)], body)}; "POST
		/login" is answered with pages["POST /login"]."""
		self.name = name
		self.pages = pages
		replay = self

		class Handler(http.server.BaseHTTPRequestHandler):
			protocol_version = "HTTP/1.1"
			# the headers and the body are two writes: without
			# TCP_NODELAY the body waits for the client's delayed
			# ACK of the headers (40 ms on Linux), as maild's
			# front (which sets it) never does
			disable_nagle_algorithm = True

			def log_message(self, *args):
				pass

			def answer(self, key):
				st, headers, body = replay.pages.get(key,
				    (404, [("Content-Type", "text/plain")],
				    b"not captured\n"))
				self.send_response(st)
				for k, v in headers:
					self.send_header(k, v)
				self.send_header("Content-Length", str(len(body)))
				self.end_headers()
				if self.command != "HEAD":
					self.wfile.write(body)

			def do_GET(self):
				self.answer(urllib.parse.urlsplit(self.path).path)

			def do_HEAD(self):
				self.do_GET()

			def do_POST(self):
				n = int(self.headers.get("Content-Length") or 0)
				self.rfile.read(min(n, 1 << 20))
				self.answer("POST " +
				    urllib.parse.urlsplit(self.path).path)

		self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
		    Handler)
		self.httpd.daemon_threads = True
		ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
		ctx.load_cert_chain(cert, key)
		self.httpd.socket = ctx.wrap_socket(self.httpd.socket,
		    server_side=True)
		self.port = self.httpd.server_address[1]
		self.thread = threading.Thread(target=self.httpd.serve_forever,
		    daemon=True)
		self.thread.start()

	def stop(self):
		self.httpd.shutdown()
		self.httpd.server_close()


def capture(http_class, port, user, password, check):
	"""maild's login page, the POST's redirect, the list page it leads
	to and every /static/ file the two pages name, through a new
	session (http_class(port) as bench/webmail.py's Http)."""
	pages = {}

	def keep(key, st, hd, body):
		pages[key] = (st, [(k, v) for k, v in hd.items()
		    if k.lower() not in SKIP], body)

	h = http_class(port)
	try:
		st, hd, login = h.req("GET", "/login")
		check(st == 200, "replay: GET /login: %d" % st)
		keep("/login", st, hd, login)
		st, hd, _ = h.req("POST", "/login", {"user": user,
		    "password": password}, {"Origin": h.origin})
		check(st == 303, "replay: POST /login: %d" % st)
		loc = urllib.parse.urlsplit(hd.get("Location", "/mail"))
		keep("POST /login", st, hd, b"")
		st, hd, page = h.req("GET", loc.path + ("?" + loc.query
		    if loc.query else ""))
		check(st == 200, "replay: GET %s: %d" % (loc.path, st))
		keep(loc.path, st, hd, page)
		for path in sorted(set(re.findall(rb'(?:href|src)="(/static/'
		    rb'[^"?]+)', login + page))):
			p = path.decode()
			st, hd, body = h.req("GET", p)
			check(st == 200, "replay: GET %s: %d" % (p, st))
			keep(p, st, hd, body)
	finally:
		h.close()
	return pages


def bare_pages(rows):
	"""The least a browser can be given for the same click: a login form
	of two fields and a button, and a list of rows bare (no style, no
	script, no other request): what the browser and the test driver
	take by themselves."""
	html = [("Content-Type", "text/html; charset=utf-8")]
	login = (b"<!doctype html><title>Log in</title><form method=post "
	    b"action=/login><input id=user name=user><input id=password "
	    b"name=password type=password><button type=submit>Log in"
	    b"</button></form>")
	page = (b"<!doctype html><title>Inbox</title><ul class=messages>" +
	    b"".join(b'<li data-uid="%d">Message %d</li>' % (i + 1, i + 1)
	    for i in range(rows)) + b"</ul>")
	return {"/login": (200, html, login),
	    "POST /login": (303, [("Location", "/mail?f=INBOX")], b""),
	    "/mail": (200, html, page)}
