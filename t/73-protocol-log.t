#!/usr/bin/python3
# A client's trouble leaves a trace: every IMAP NO and BAD and every POP3
# -ERR is logged with the command's name and our reply (never the
# command's arguments), and counted on the disconnect line.
import imaplib
import os
import re
import poplib
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import TAP, Server, client_tls  # noqa: E402

t = TAP()
USER, PW = "u@example.test", "Zq-8830-secret"
srv = Server(services=("imaps", "pop3s"),
             overrides=["auth.failure_delay_max=0"])
srv.setup(users=[(USER, PW)])
srv.start()
try:
    m = imaplib.IMAP4_SSL("127.0.0.1", srv.port("imaps"),
                          ssl_context=client_tls())
    try:
        m.login(USER, "wrong-" + PW)
    except imaplib.IMAP4.error:
        pass
    m.login(USER, PW)
    typ, _ = m.select("NoSuchFolder")
    t.eq(typ, "NO", "SELECT of a folder that does not exist: NO")
    imaplib.Commands["FROBNICATE"] = ("AUTH", "SELECTED")
    try:
        m._simple_command("FROBNICATE")
    except imaplib.IMAP4.error:
        pass
    m.logout()

    p = poplib.POP3_SSL("127.0.0.1", srv.port("pop3s"), context=client_tls())
    p.user(USER)
    p.pass_(PW)
    try:
        p.retr(99)
    except poplib.error_proto:
        pass
    p.quit()
    srv.stop()
    log = srv.log()
    lines = log.splitlines()

    def has(*parts):
        return any(all(x in l for x in parts) for l in lines)
    t.ok(has("imapd[", "command=LOGIN reply=NO [AUTHENTICATIONFAILED]"),
         "IMAP: a failed LOGIN's NO is logged with its code")
    t.ok(has("imapd[", "command=SELECT reply=NO [NONEXISTENT]"),
         "IMAP: SELECT's NO is logged with its code")
    t.ok(has("imapd[", "command=unknown reply=BAD Unknown command"),
         "IMAP: a BAD is logged")
    # the login process and the post-login process each count theirs,
    # on a line with the session's id
    counts = {}
    for l in lines:
        m = re.search(r"imapd\[\d+\]: sid=(\w+) (?:disconnect|login done) "
                      r".* no=(\d+) bad=(\d+)", l)
        if m:
            c = counts.setdefault(m.group(1), [0, 0])
            c[0] += int(m.group(2))
            c[1] += int(m.group(3))
    t.ok([2, 1] in counts.values(),
         "IMAP: the end-of-session lines count them (no=2 bad=1)",
         "\n".join(l for l in lines if "disconnect" in l or
                   "login done" in l))
    t.ok(has("pop3d[", "command=RETR reply=-ERR No such message 99"),
         "POP3: an -ERR is logged with the command")
    t.ok(has("pop3d[", "disconnect", "err=1"),
         "POP3: the end-of-session line counts -ERR replies",
         "\n".join(l for l in lines if "disconnect" in l))
    t.ok(PW not in log, "no password in the log")
finally:
    srv.cleanup()
t.done()
