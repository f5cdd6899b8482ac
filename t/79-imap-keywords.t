#!/usr/bin/python3
# IMAP keywords survive a rebuild of the index (issue 14 item 8): as
# Dovecot does, each folder's dovecot-keywords gives keyword i the letter
# 'a' + i, and a message's file name carries its letters after the flags
# (":2,Fab").  STORE, COPY and APPEND name the files so; an index removed
# or damaged is rebuilt with the keywords.  Only 26 letters exist: the
# 27th keyword of a folder works but lives in the index alone.
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import IMAPRaw, TAP, Server  # noqa: E402

U, PW = "pat@example.test", "pat-pw"
t = TAP()
srv = Server(services=("imap",),
             overrides=["auth.allow_plaintext=yes",
                        "auth.failure_delay_max=0"])
srv.setup(users=[(U, PW)])


class Imap(IMAPRaw):
    """A raw client logged in as U, with the checks this test repeats."""

    def __init__(self):
        IMAPRaw.__init__(self, "127.0.0.1", srv.port("imap"))
        self.login(U, PW)

    def ok(self, line):
        un, ok = self.cmd(line)
        if isinstance(line, bytes):
            line = line.split(b"\r\n")[0].decode(errors="replace")
        t.ok(b" OK" in ok, "%s: OK" % line, (un, ok))
        return un

    def append(self, box, subject, flags="()"):
        msg = b"Subject: %s\r\n\r\nbody of %s\r\n" % (subject.encode(),
                                                      subject.encode())
        return self.ok(b'APPEND "%s" %s {%d+}\r\n' % (
            box.encode(), flags.encode(), len(msg)) + msg)


def flags_by_subject(c, box):
    """{subject: set of flags} of every message in box, and the UIDs."""
    c.cmd('SELECT "%s"' % box)
    un, _ = c.cmd("UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS "
                  "(SUBJECT)])")
    out, uids = {}, {}
    for l in un:
        m = re.search(rb"FLAGS \(([^)]*)\)", l)
        s = re.search(rb"Subject: ([^\r\n]*)", l)
        u = re.search(rb"UID (\d+)", l)
        if m and s:
            # \Recent is the session's, not the message's
            out[s.group(1).decode()] = set(m.group(1).decode().split()) - \
                {"\\Recent"}
            uids[s.group(1).decode()] = int(u.group(1)) if u else 0
    return out, uids


def uidvalidity(c, box):
    un, _ = c.cmd('SELECT "%s"' % box)
    m = re.search(rb"UIDVALIDITY (\d+)", b"".join(un))
    return int(m.group(1)) if m else 0


def folder_dir(box):
    md = srv.maildir(U)
    return md if box == "INBOX" else os.path.join(md, "." + box)


def file_of(box, subject):
    """The name in cur/ of the message with this subject."""
    d = os.path.join(folder_dir(box), "cur")
    for name in sorted(os.listdir(d)):
        with open(os.path.join(d, name), "rb") as f:
            if b"Subject: %s\r\n" % subject.encode() in f.read():
                return name
    return ""


def info(name):
    return name.split(":2,", 1)[1] if ":2," in name else None


def kwfile(box):
    try:
        with open(os.path.join(folder_dir(box), "dovecot-keywords")) as f:
            return f.read()
    except OSError:
        return None


def drop_index(damage):
    """As t/70's rebuild test: the index is gone (or garbage)."""
    md = srv.maildir(U)
    time.sleep(0.5)
    for n in os.listdir(md):
        if n.startswith("index.db"):
            os.unlink(os.path.join(md, n))
    if damage:
        with open(os.path.join(md, "index.db"), "wb") as f:
            f.write(b"this is not SQLite at all, not even close..." * 100)


MANY = ["kw%02d" % i for i in range(1, 28)]         # 27 keywords

try:
    srv.start()
    c = Imap()
    c.ok('CREATE "Work"')
    c.ok('CREATE "Many"')
    c.append("INBOX", "one")
    c.append("INBOX", "two", "(\\Seen $Junk)")
    c.append("Many", "many")
    c.ok("SELECT INBOX")
    un = c.ok("STORE 1 +FLAGS ($Forwarded $label1 \\Flagged)")
    t.ok(re.search(rb"FLAGS \(\\Flagged (\\Recent )?\$Forwarded "
                   rb"\$label1\)", b"".join(un)),
         "STORE answers the new flags", un)

    # --- on disk, as Dovecot keeps it ---
    name1, name2 = file_of("INBOX", "one"), file_of("INBOX", "two")
    kw = kwfile("INBOX")
    t.eq(kw, "0 $Junk\n1 $Forwarded\n2 $label1\n",
         "dovecot-keywords: APPEND's $Junk first, then STORE's keywords")
    t.eq(info(name1), "Fbc", "STOREd message: flag letters, then keyword "
         "letters in order (%s)" % name1)
    t.eq(info(name2), "Sa", "APPENDed message with $Junk (%s)" % name2)

    # --- COPY keeps keywords, with the target folder's letters ---
    c.ok('COPY 1 "Work"')
    t.eq(kwfile("Work"), "0 $Forwarded\n1 $label1\n",
         "COPY: Work has its own dovecot-keywords")
    t.eq(info(file_of("Work", "one")), "Fab", "COPY: the copy's name "
         "carries Work's letters")
    f, _ = flags_by_subject(c, "Work")
    t.eq(f.get("one"), {"\\Flagged", "$Forwarded", "$label1"},
         "COPY: FETCH FLAGS in Work shows the keywords")

    # --- 27 keywords: 26 letters, the 27th in the index alone ---
    c.ok('SELECT "Many"')
    un = c.ok("STORE 1 +FLAGS.SILENT (%s)" % " ".join(MANY))
    f, _ = flags_by_subject(c, "Many")
    t.eq(f.get("many"), set(MANY), "27 keywords on one message: FETCH "
         "FLAGS shows all of them")
    t.eq(info(file_of("Many", "many")), "abcdefghijklmnopqrstuvwxyz",
         "its name has the 26 letters")
    lines = (kwfile("Many") or "").splitlines()
    t.ok(len(lines) == 26 and lines[0] == "0 kw01" and
         lines[25] == "25 kw26" and "kw27" not in kwfile("Many"),
         "dovecot-keywords has 26 lines; the 27th keyword is not in it",
         kwfile("Many"))
    un = c.ok("STORE 1 -FLAGS.SILENT (kw02)")
    t.eq(info(file_of("Many", "many")), "acdefghijklmnopqrstuvwxyz",
         "-FLAGS removes that keyword's letter")
    c.ok("STORE 1 +FLAGS.SILENT (kw02)")

    uv = uidvalidity(c, "INBOX")
    before, buids = flags_by_subject(c, "INBOX")
    c.close()

    # --- the index removed: the keywords come back from the names ---
    drop_index(False)
    c = Imap()
    uv2 = uidvalidity(c, "INBOX")
    after, auids = flags_by_subject(c, "INBOX")
    t.eq(after.get("one"), {"\\Flagged", "$Forwarded", "$label1"},
         "index removed: FETCH FLAGS shows the keywords again")
    t.eq(after.get("two"), {"\\Seen", "$Junk"},
         "and those of the APPENDed message")
    t.ok(buids == auids or uv2 > uv, "the UIDs are the same, or "
         "UIDVALIDITY is greater than before (RFC 3501 section 2.3.1.1)",
         "UIDVALIDITY %d -> %d, UIDs %s -> %s" % (uv, uv2, buids, auids))
    un, _ = c.cmd("SELECT INBOX")
    fl = [l for l in un if l.startswith(b"* FLAGS")]
    t.ok(fl and b"$Forwarded" in fl[0] and b"$label1" in fl[0],
         "SELECT announces them in FLAGS", un)
    f, _ = flags_by_subject(c, "Work")
    t.eq(f.get("one"), {"\\Flagged", "$Forwarded", "$label1"},
         "and in the folder COPY went to")
    f, _ = flags_by_subject(c, "Many")
    t.eq(f.get("many"), set(MANY[:26]), "the 26 keywords with letters "
         "come back; the 27th, kept in the index alone, does not")

    # --- changes after the rebuild rename from the right name ---
    c.ok("SELECT INBOX")
    seq = sorted(auids, key=auids.get).index("one") + 1
    c.ok("STORE %d -FLAGS.SILENT ($label1)" % seq)
    t.eq(info(file_of("INBOX", "one")), "Fb",
         "STORE after the rebuild renames the file (%s)" %
         file_of("INBOX", "one"))
    un, _ = c.cmd("FETCH %d BODY.PEEK[TEXT]" % seq)
    t.ok(b"body of one" in b"".join(un), "and the message reads", un)
    c.close()

    # --- the index damaged: set aside, rebuilt, keywords back ---
    drop_index(True)
    c = Imap()
    after, _ = flags_by_subject(c, "INBOX")
    t.eq(after.get("one"), {"\\Flagged", "$Forwarded"},
         "index damaged: the keywords come back after the rebuild")
    t.ok(os.path.exists(os.path.join(srv.maildir(U), "index.db.broken")),
         "the damaged index was set aside")
    c.close()
finally:
    srv.stop()
    srv.cleanup()
t.done()
