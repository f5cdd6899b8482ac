#!/usr/bin/python3
# The real-browser harness itself, without the webmail: Debian's chromium,
# driven by playwright-core (t/browser/harness.js through t/lib/browser.py),
# loads a page from an HTTPS server on 127.0.0.1 whose certificate is the
# test CA's: its external script runs, its image on remote.example is
# recorded and blocked and never reaches any server, a screenshot is kept.
# A self-signed certificate chromium was not told of is refused; with the
# route left out, a remote request ends at the loopback proxy trap.
import http.server
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import browser  # noqa: E402
from maildtest import TAP, test_ca  # noqa: E402

browser.skip_all_unless_available()
t = TAP()

PAGES = {
    "/": ("text/html", b"<!doctype html><html><head><title>harness</title>"
          b"<script src=\"/ok.js\"></script></head><body>"
          b"<h1>maild browser harness</h1>"
          b"<p>The image below is on a remote host and must not load.</p>"
          b"<img id=\"remote\" src=\"https://remote.example/x.png\" alt=\"\">"
          b"</body></html>"),
    "/ok.js": ("text/javascript", b"window.__ok = 1;\n"),
    "/plain": ("text/html", b"<!doctype html><title>plain</title><p>plain"),
}


def https_server(cert, key):
    """An HTTPS server on 127.0.0.1 serving PAGES; .seen lists the paths
    asked for."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.server.seen.append(self.path)
            ctype, body = PAGES.get(self.path, ("text/plain", None))
            self.send_response(200 if body is not None else 404)
            body = body if body is not None else b"not found"
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.seen = []
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


ca = test_ca()
good = https_server(ca["cert"], ca["key"])

# A self-signed certificate for 127.0.0.1 of its own, made here.
tmp = tempfile.mkdtemp(prefix="maildtest-selfsigned.")
other_cert = os.path.join(tmp, "cert.pem")
other_key = os.path.join(tmp, "key.pem")
subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj",
                "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                "-keyout", other_key, "-out", other_cert],
               check=True, capture_output=True, timeout=60)
other = https_server(other_cert, other_key)

base = "https://127.0.0.1:%d" % good.server_address[1]
r = browser.run(t, "harness.js", {
    "url": base + "/",
    "plain_url": base + "/plain",
    "other_url": "https://127.0.0.1:%d/" % other.server_address[1],
}, timeout=45)

# What the servers saw: the page, its script, the plain page (and the
# browser's own /favicon.ico); nothing for the remote image, and no
# request past the refused handshake.
t.eq(sorted(set(good.seen) - {"/favicon.ico"}), ["/", "/ok.js", "/plain"],
     "the loopback server served the page, its script and the plain page")
t.eq(other.seen, [], "the untrusted server got no request")

shot = r.data.get("shot")
t.ok(shot and os.path.isfile(shot), "the screenshot is kept", shot)
png = b""
if shot and os.path.isfile(shot):
    with open(shot, "rb") as f:
        png = f.read()
t.ok(png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000,
     "it is a non-empty PNG (%d bytes)" % len(png))
t.ok(os.path.realpath(shot or "").startswith(
    os.path.realpath(browser.ARTEFACTS) + os.sep),
    "under the artefacts directory (%s)" % browser.ARTEFACTS, shot)

good.shutdown()
other.shutdown()
shutil.rmtree(tmp, ignore_errors=True)
t.done()
