#!/usr/bin/python3
# 50 concurrent SMTP sessions send 1,000 messages; each must be delivered
# exactly once, and the queue must be empty afterwards.
import os
import smtplib
import sys
import threading
import time
from collections import Counter

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from maildtest import TAP, Server, wait_until  # noqa: E402

SESSIONS, PER_SESSION = 50, 20
USERS = ["u%d@example.test" % i for i in range(5)]
t = TAP()
srv = Server(overrides=["smtpd.max_sessions_per_ip=100",
                        "smtpd.max_sessions=200"])
srv.setup(users=[(u, "pw") for u in USERS])
srv.start()
accepted, errors, lock = [], [], threading.Lock()


def client(n):
    # even sessions keep one connection, odd ones connect per message
    conn = None
    try:
        for i in range(PER_SESSION):
            token = "msg-%03d-%02d" % (n, i)
            rcpt = USERS[(n + i) % len(USERS)]
            data = ("Subject: %s\r\nMessage-Id: <%s@load.test>\r\n\r\n%s\r\n"
                    % (token, token, token * 50)).encode()
            if conn is None:
                conn = smtplib.SMTP("127.0.0.1", srv.port(), timeout=60)
            conn.sendmail("load@remote.test", [rcpt], data)
            with lock:
                accepted.append((token, rcpt))
            if n % 2:
                conn.quit()
                conn = None
        if conn is not None:
            conn.quit()
    except Exception as e:
        with lock:
            errors.append("%s: %r" % (n, e))


try:
    start = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,))
               for n in range(SESSIONS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(300)
    elapsed = time.monotonic() - start
    t.ok(not errors and len(accepted) == SESSIONS * PER_SESSION,
         "%d sessions: all %d messages got 250" % (SESSIONS,
                                                   SESSIONS * PER_SESSION),
         "\n".join(errors[:10]))
    t.diag("accepted %d messages in %.2fs" % (len(accepted), elapsed))

    def all_delivered():
        return sum(len(srv.messages(u)) for u in USERS) >= len(accepted)
    wait_until(all_delivered, 120, 0.2)
    seen = Counter()
    wrong_box = []
    for u in USERS:
        for name, data in srv.messages(u):
            token = data.split(b"Subject: ", 1)[1].split(b"\n", 1)[0].decode()
            seen[token] += 1
            if (token, u) not in accepted:
                wrong_box.append((token, u))
    dups = [k for k, v in seen.items() if v > 1]
    missing = [tok for tok, _ in accepted if tok not in seen]
    t.eq(len(missing), 0, "every accepted message delivered (missing: %s)"
         % missing[:5])
    t.eq(dups, [], "no message delivered twice")
    t.eq(wrong_box, [], "every message in its recipient's Maildir")
    t.ok(wait_until(lambda: srv.queue_files() == [], 30),
         "queue empty afterwards", srv.queue_files()[:5])
finally:
    srv.cleanup()
t.done()
