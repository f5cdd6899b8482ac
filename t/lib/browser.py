"""Real-browser tests from a Python .t: run a Node script of t/browser/
(Debian's chromium driven by playwright-core, see t/browser/lib.js) and
turn what it reports into the .t's TAP.

    from maildtest import TAP, Server
    import browser
    browser.skip_all_unless_available()
    t = TAP()
    srv = Server(services=("webmail",)); srv.setup(...); srv.start()
    r = browser.run(t, "webmail-login.js",
                    {"url": "https://127.0.0.1:%d/" % srv.port("webmail")})
    t.done()

The script's checks become numbered TAP lines, then one more: that it ran
to its end.  Screenshots go to $MAILD_ARTEFACTS (default t/artefacts/)
under <.t name>/<script name>/.  Chromium trusts despite errors only the
keys of the certificates given (default: the certificate of maildtest's
test CA that every test maild serves; chromium matches the keys of the
certificates the server sends, so the leaf's, not the CA's).  The script
stops itself after timeout seconds; it and its browser run in a process
group of their own, killed whole if they are still there 15 s later.
"""
import base64
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DIR = os.path.join(REPO, "t", "browser")
CHROMIUM = os.environ.get("MAILD_CHROMIUM", "/usr/bin/chromium")
# MAILD_BROWSER=firefox: Debian's Firefox ESR instead (see t/browser/lib.js)
FIREFOX = os.environ.get("MAILD_FIREFOX", "/usr/bin/firefox-esr")
KIND = "firefox" if os.environ.get("MAILD_BROWSER") == "firefox" \
    else "chromium"
ARTEFACTS = os.environ.get("MAILD_ARTEFACTS",
                           os.path.join(REPO, "t", "artefacts"))


def unavailable():
    """Why no browser test can run here, or None."""
    exe = FIREFOX if KIND == "firefox" else CHROMIUM
    if not os.access(exe, os.X_OK):
        return ("no %s (tools/install-deps installs Debian's %s)"
                % (exe, "firefox-esr" if KIND == "firefox" else "chromium"))
    if shutil.which("node") is None:
        return "no node (tools/install-deps installs it)"
    if not os.path.isfile(os.path.join(DIR, "node_modules", "playwright-core",
                                       "package.json")):
        return "no t/browser/node_modules (tools/install-deps installs it)"
    return None


def skip_all_unless_available():
    """Skip the whole .t, with its reason, when the browser cannot run at all.
    A browser that is there but fails is a failure, not a skip."""
    why = unavailable()
    if why:
        print("1..0 # SKIP " + why)
        sys.exit(0)


def spki(cert_file):
    """base64 of the SHA-256 of a PEM certificate's public key, as
    chromium's --ignore-certificate-errors-spki-list wants it."""
    pem = subprocess.run(["openssl", "x509", "-in", cert_file, "-pubkey",
                          "-noout"], check=True, capture_output=True,
                         timeout=30).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"],
                         input=pem, check=True, capture_output=True,
                         timeout=30).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


class Result:
    def __init__(self, rc, events, stderr):
        self.rc = rc
        self.events = events
        self.stderr = stderr
        self.shots = [e["path"] for e in events if e.get("t") == "shot"]
        self.completed = any(e.get("t") == "end" for e in events)
        self.failed = rc != 0 or not self.completed or any(
            e.get("t") == "ok" and not e.get("ok") for e in events)
        # what the script passed to t.data({...})
        self.data = {}
        for e in events:
            if e.get("t") == "data":
                self.data.update(e.get("data") or {})


def _test_name():
    """The .t's name, for its artefacts (MAILD_TEST_NAME when a .t runs
    another's code, as t/82 runs t/81's)."""
    return os.environ.get("MAILD_TEST_NAME") or os.path.splitext(
        os.path.basename(sys.argv[0] or "browser"))[0]


def run(t, script, params=None, timeout=60, trust=None):
    """Run t/browser/<script> with params (a JSON-able dict); its checks go
    to t (a maildtest.TAP).  trust: certificate files whose keys chromium
    accepts (default: the one maildtest's servers use).  Returns a
    Result."""
    if trust is None:
        from maildtest import test_ca
        trust = [test_ca()["cert"]]
    name = os.path.join(_test_name(), os.path.splitext(script)[0])
    params = dict(params or {})
    params.setdefault("name", name)
    params.setdefault("timeout_ms", int(timeout * 1000))
    shots = os.path.join(ARTEFACTS, name)
    if os.path.isdir(shots):      # last run's screenshots would mislead
        for f in os.listdir(shots):
            if f.endswith(".png"):
                os.unlink(os.path.join(shots, f))
    home = tempfile.mkdtemp(prefix="maildtest-browser.")
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in ("http_proxy", "https_proxy", "all_proxy",
                                "no_proxy", "node_options")}
    # the browser's profile, caches and crash reports in a throw-away home
    env.update(HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"),
               XDG_CACHE_HOME=os.path.join(home, ".cache"),
               MAILD_CHROMIUM=CHROMIUM, MAILD_FIREFOX=FIREFOX,
               MAILD_BROWSER=KIND, MAILD_ARTEFACTS=ARTEFACTS,
               MAILD_BROWSER_SPKI=",".join(spki(c) for c in trust))
    p = subprocess.Popen(["node", os.path.join(DIR, script),
                          json.dumps(params)], cwd=DIR, env=env,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    try:
        # the script has its own limit (timeout_ms); this one is for a
        # script that cannot even keep that
        out, err = p.communicate(timeout=timeout + 15)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate(timeout=30)
        err += b"\n(killed after %d s)" % (timeout + 15)
    # nothing of the browser may outlive the script
    try:
        os.killpg(p.pid, signal.SIGKILL)
        t.diag("%s left processes behind; killed" % script)
    except ProcessLookupError:
        pass
    shutil.rmtree(home, ignore_errors=True)
    err = err.decode(errors="replace")
    events = []
    for line in out.decode(errors="replace").splitlines():
        try:
            ev = json.loads(line)
        except ValueError:
            t.diag(line)
            continue
        events.append(ev)
        kind = ev.get("t")
        if kind == "ok":
            t.ok(ev.get("ok"), ev.get("name", "?"), ev.get("diag"))
        elif kind == "skip":
            t.n += 1
            print("ok %d - %s # SKIP %s" % (t.n, ev.get("name", "?"),
                                            ev.get("reason", "")))
        elif kind == "diag":
            t.diag(ev.get("msg", ""))
        elif kind == "shot":
            t.diag("screenshot: " + os.path.relpath(ev["path"], REPO))
    r = Result(p.returncode, events, err)
    failed = any(e.get("t") == "ok" and not e.get("ok") for e in events)
    t.ok(r.completed and p.returncode == (1 if failed else 0),
         "%s ran to its end (exit %s)" % (script, p.returncode),
         err[-4000:] if err.strip() else "(nothing on stderr)")
    return r
