#!/usr/bin/python3
# A spool file carries a check (CRC-32 of header and message as first
# written, the digits of "length" and "check" as zeros; global/spool.h).
# A file found after a restart is checked before it is delivered: a
# reused file a crash left written over only in part (never confirmed)
# goes to queue/corrupt/ and is not delivered; one whose check holds, or
# one written before checks, is delivered.  The check is computed here
# with Python's zlib, from the format as documented.
import os
import re
import smtplib
import sys
import time
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import TAP, Server, wait_until  # noqa: E402

U = "u@example.test"
t = TAP()
srv = Server()
srv.setup(users=[(U, "pw")])
queue = os.path.join(srv.data_dir, "queue")


def spool_text(qid, subject, check=True):
    """A spool file as smtpd writes one, with its check filled in."""
    body = "Subject: %s\nMessage-ID: <%s@t>\n\nbody of %s\n" % (
        subject, qid, subject)
    head = ("MAILD-SPOOL 1\nid %s\narrival %d\nsender a@remote.test\n"
            "client 127.0.0.1\nhelo t\nprotocol ESMTP\nbody 7bit\n"
            "rcpt\t%s\t%s\n" % (qid, int(time.time()), U, U))
    if not check:
        return (head + "length %013d\n\n" % len(body) + body).encode()
    zeros = (head + "length %013d\ncheck %08d\n\n" % (0, 0) + body).encode()
    crc = zlib.crc32(zeros)
    return (head + "length %013d\ncheck %08x\n\n" % (len(body), crc) +
            body).encode()


def valid_check(data):
    """Does a spool file's check match its header and message?"""
    m = re.search(rb"\nlength (\d{13})\ncheck ([0-9a-f]{8})\n\n", data)
    if not m:
        return False
    end = m.end() + int(m.group(1))
    z = bytearray(data[:end])
    z[m.start(1):m.end(1)] = b"0" * 13
    z[m.start(2):m.end(2)] = b"0" * 8
    return zlib.crc32(bytes(z)) == int(m.group(2), 16)


def place(qid, data):
    """Put a committed spool file into queue/msg/ as the queue's own."""
    d = os.path.join(queue, "msg")
    st = os.stat(d)
    path = os.path.join(d, qid)
    with open(path, "wb") as f:
        f.write(data)
    os.chown(path, st.st_uid, st.st_gid)
    os.chmod(path, 0o600)


def subjects():
    return sorted(re.search(rb"Subject: (\S+)", m).group(1).decode()
                  for _, m in srv.messages(U))


try:
    srv.start()
    with smtplib.SMTP("127.0.0.1", srv.port(), timeout=30) as s:
        s.sendmail("a@remote.test", [U],
                   b"Subject: sent\r\n\r\n" + b"line of the body\r\n" * 300)
    srv.wait_messages(U, 1)
    free = os.path.join(queue, "free")
    t.ok(wait_until(lambda: os.path.isdir(free) and os.listdir(free), 10),
         "the delivered spool file is kept in queue/free/")
    kept = [open(os.path.join(free, n), "rb").read()
            for n in os.listdir(free)] if os.path.isdir(free) else []
    # A free slot's first line says so; the rest is the message it held.
    t.ok(kept and all(k.startswith(b"MAILD-FREED 1\n") for k in kept),
         "the kept file is marked free", kept[0][:100] if kept else None)
    t.ok(kept and all(valid_check(b"MAILD-SPOOL 1\n" + k[14:])
                      for k in kept),
         "smtpd's spool file carries a check that zlib's CRC-32 confirms",
         kept[0][:400] if kept else None)

    srv.stop()
    good = "00000000000a1" + "00001"
    bad = "00000000000a2" + "00002"
    old = "00000000000a3" + "00003"
    place(good, spool_text(good, "good"))
    torn = bytearray(spool_text(bad, "torn"))
    torn[-6] ^= 0x20            # one octet of the message as before
    place(bad, bytes(torn))
    place(old, spool_text(old, "old", check=False))
    srv.start()

    t.ok(wait_until(lambda: len(srv.messages(U)) >= 3, 15),
         "the good file and the one from before checks are delivered",
         subjects())
    time.sleep(0.5)
    t.eq(subjects(), ["good", "old", "sent"],
         "and the one whose check fails is not")
    corrupt = os.path.join(queue, "corrupt")
    t.ok(os.path.isfile(os.path.join(corrupt, bad)) and
         bad not in srv.queue_files(),
         "it is kept in queue/corrupt/, out of the queue",
         (os.listdir(corrupt) if os.path.isdir(corrupt) else None,
          srv.queue_files()))
    t.like(srv.log(), "qid=%s queue file fails its check" % bad,
           "the log says which and why")
    t.ok(wait_until(lambda: not srv.queue_files(), 10),
         "nothing else is left in the queue", srv.queue_files())
finally:
    srv.stop()
    srv.cleanup()
t.done()
