#!/usr/bin/python3
# mailctl: domains, users, aliases, the queue and the configuration, with
# clear errors and a non-zero status for every kind of bad input.
import os
import sqlite3
import stat
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import TAP, Server  # noqa: E402

t = TAP()
srv = Server()
ctl = srv.mailctl


def fails(args, needle, name, input=None):
    rc, out, err = ctl(*args, input=input)
    t.ok(rc != 0 and needle in err, name,
         "rc=%d\nstdout: %s\nstderr: %s" % (rc, out, err))


try:
    rc, out, err = ctl("domain", "add", "Example.TEST")
    t.ok(rc == 0, "domain add", err)
    ctl("domain", "add", "second.test")
    rc, out, err = ctl("domain", "list")
    t.eq(out.split(), ["example.test", "second.test"], "domain list, lower-cased")
    fails(["domain", "add", "example.test"], "already exists", "duplicate domain")
    fails(["domain", "add", "bad_domain!"], "invalid domain", "invalid domain")
    fails(["domain", "add", "a" * 64 + ".test"], "invalid domain",
          "label over 63 octets")
    fails(["domain", "del", "nosuch.test"], "no such domain", "del unknown domain")

    rc, out, err = ctl("user", "add", "Alice@Example.test", input="s3cret\n")
    t.ok(rc == 0, "user add (password on stdin)", err)
    db = sqlite3.connect(os.path.join(srv.data_dir, "users.db"))
    row = db.execute("SELECT address, password FROM users").fetchone()
    t.eq(row[0], "alice@example.test", "stored lower-case")
    t.ok(row[1].startswith("$y$") and "s3cret" not in row[1],
         "password stored as a yescrypt crypt(3) hash", row[1])
    fails(["user", "add", "alice@example.test"], "already exists",
          "duplicate user", input="x\n")
    fails(["user", "add", "bob@nosuch.test"], "not a local domain",
          "user in an unknown domain", input="x\n")
    fails(["user", "add", "not-an-address"], "invalid address",
          "invalid address", input="x\n")
    fails(["user", "add", "../etc@example.test"], "invalid address",
          "path tricks in a local part", input="x\n")
    fails(["user", "add", '"a b"@example.test'], "plain dot-atom",
          "quoted local part refused for a mailbox", input="x\n")
    fails(["user", "add", "bob@example.test"], "no password", "empty stdin",
          input="")
    fails(["user", "add", "bob@example.test"], "too long",
          "password over 1024 octets", input="x" * 2000 + "\n")
    rc, out, err = ctl("user", "passwd", "alice@example.test", input="new\n")
    row2 = db.execute("SELECT password FROM users").fetchone()
    t.ok(rc == 0 and row2[0] != row[1] and row2[0].startswith("$y$"),
         "user passwd changes the hash", err)
    fails(["user", "passwd", "nobody@example.test"], "no such user",
          "passwd of unknown user", input="x\n")
    ctl("user", "add", "carol@second.test", input="pw\n")
    rc, out, err = ctl("user", "list")
    t.eq(out.split(), ["alice@example.test", "carol@second.test"], "user list")
    rc, out, err = ctl("user", "list", "second.test")
    t.eq(out.split(), ["carol@second.test"], "user list DOMAIN")
    fails(["domain", "del", "second.test"], "still has 1 user",
          "domain with users cannot be deleted")

    rc, out, err = ctl("alias", "add", "team@example.test",
                       "alice@example.test", "Ext@Remote.Test")
    t.ok(rc == 0, "alias with two targets, one remote", err)
    rc, out, err = ctl("alias", "add", "@second.test", "carol@second.test")
    t.ok(rc == 0, "catch-all alias", err)
    rc, out, err = ctl("alias", "list")
    t.eq(out.splitlines(), ["team@example.test -> Ext@remote.test",
                            "team@example.test -> alice@example.test",
                            "@second.test -> carol@second.test"],
         "alias list (remote local part keeps its case)")
    fails(["alias", "add", "team@example.test", "alice@example.test"],
          "already exists", "duplicate alias")
    fails(["alias", "add", "x@nosuch.test", "alice@example.test"],
          "not a local domain", "alias in an unknown domain")
    fails(["alias", "add", "x@example.test", "bad target"], "invalid target",
          "invalid target")
    fails(["alias", "add", "@bad_domain", "alice@example.test"],
          "invalid catch-all", "invalid catch-all")
    rc, out, err = ctl("alias", "del", "team@example.test", "ext@remote.test")
    t.ok(rc != 0, "alias del is exact about remote targets' local part")
    rc, out, err = ctl("alias", "del", "team@example.test", "Ext@remote.test")
    t.ok(rc == 0, "alias del one target", err)
    rc, out, err = ctl("alias", "del", "team@example.test")
    t.ok(rc == 0, "alias del all targets", err)
    fails(["alias", "del", "team@example.test"], "no such alias",
          "del unknown alias")

    rc, out, err = ctl("user", "del", "carol@second.test")
    t.ok(rc == 0 and "mail store is kept" in out, "user del", err)
    fails(["user", "del", "carol@second.test"], "no such user",
          "del unknown user")
    fails(["domain", "del", "second.test"], "still has 1 alias",
          "domain with aliases cannot be deleted")
    ctl("alias", "del", "@second.test")
    rc, out, err = ctl("domain", "del", "second.test")
    t.ok(rc == 0, "domain del once empty", err)

    rc, out, err = ctl("queue", "list")
    t.ok(rc == 0 and "0 message(s) in the queue" in out, "queue list (empty)",
         out + err)
    rc, out, err = ctl("queue", "flush")
    t.ok(rc != 0 and "is maild running" in err, "queue flush without a "
         "running server says so", err)
    rc, out, err = ctl("config", "check")
    t.ok(rc == 0 and "OK" in out, "config check", err)
    rc, out, err = ctl("config", "describe")
    t.ok(rc == 0 and "max_message_size = 35M" in out and
         "# largest message accepted" in out, "config describe documents "
         "every key with its default")
    rc, out, err = ctl("config", "dump")
    t.like(out, "server.data_dir = " + srv.data_dir, "config dump shows "
           "effective values")
    fails(["-o", "smtpd.nosuch=1", "config", "check"], "unknown key",
          "bad -o override")
    bad = os.path.join(srv.tmp, "bad.conf")
    with open(bad, "w") as f:
        f.write("[server]\nhostname = x\n\n[smtpd]\nmax_recipients = lots\n")
    srv2 = Server(conf=bad)
    rc, out, err = srv2.mailctl("config", "check")
    t.ok(rc != 0 and "bad.conf:5: smtpd.max_recipients" in err,
         "config error names file and line", err)
    srv2.cleanup()
    fails(["frobnicate"], "usage", "unknown command")
    fails(["user"], "usage", "missing subcommand")

    st = os.stat(os.path.join(srv.data_dir, "users.db"))
    t.eq(stat.S_IMODE(st.st_mode) & 0o077, 0, "users.db is not readable by "
         "others")
    if os.geteuid() == 0:
        import pwd
        t.eq(pwd.getpwuid(st.st_uid).pw_name, "maild-auth", "users.db "
             "belongs to the auth service's user when mailctl runs as root "
             "(the only one that may read password hashes)")
        owners = {pwd.getpwuid(os.stat(os.path.join(srv.data_dir, f))
                               .st_uid).pw_name
                  for f in ("users.db", "users.db-wal", "users.db-shm")}
        t.eq(owners, {"maild-auth"}, "and so do its WAL files")
finally:
    srv.cleanup()
t.done()
