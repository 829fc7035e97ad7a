"""log_test.py: the session log of `bourse serve` an operator reads (issue 14):
connection, logon, Logon refused for a wrong TargetCompID (named as such, not
as an unknown SenderCompID), unknown SenderCompID, wrong password, garbled
input, Reject, logout with its reason, disconnect, each line with the peer
address and CompIDs; SIGHUP reopens --log-file (logrotate); SIGTERM logs every
session out with a Text and exits 0.

usage: log_test.py BOURSE"""
import os
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixclient import Client, Server, write_config  # noqa: E402


def lines(path):
    with open(path) as f:
        return f.read().splitlines()


def find(ls, *words):
    return [l for l in ls if all(w in l for w in words)]


def main():
    bourse = sys.argv[1]
    work = tempfile.mkdtemp(prefix="brs_log_")
    errs = []
    try:
        logf = os.path.join(work, "gw.log")
        cfg = write_config(os.path.join(work, "serve.json"),
                           sessions=[{"target_comp_id": "CLIENT1"},
                                     {"target_comp_id": "CLIENT2", "username": "u2",
                                      "password": "p2"}])
        srv = Server(bourse, cfg, work, env={"BRS_LOG_FILE": logf}).start()
        port = srv.port
        # a good logon, a garbled message, a Reject, a Logout
        c = Client(port, "CLIENT1")
        c.send("A", [(98, 0), (108, 30)], 1)
        assert c.recv(5).type == "A"
        c.send_raw(b"8=FIX.4.4\x019=5\x0135=0\x0110=000\x01")  # garbled: wrong CheckSum
        c.send("D", [(11, "x1"), (21, 1), (38, 10), (40, 2), (44, "10.00"), (54, 9), (55, "AAPL"),
                     (60, "20261206-10:00:00")], 2)  # Side 9: Reject
        m = c.recv(5)
        if m is None or m.type != "3":
            errs.append("no Reject: %r" % m)
        c.send("5", [], 3)
        m = c.recv(5)
        if m is None or m.type != "5":
            errs.append("no Logout answer: %r" % m)
        c.close()
        # Logon with a wrong TargetCompID; with an unknown SenderCompID; a wrong password
        w = Client(port, "CLIENT1", target="WRONG")
        w.send("A", [(98, 0), (108, 30)], 1)
        w.recv(2)
        w.close()
        u = Client(port, "NOBODY")
        u.send("A", [(98, 0), (108, 30)], 1)
        u.recv(2)
        u.close()
        p = Client(port, "CLIENT2")
        p.send("A", [(98, 0), (108, 30), (553, "u2"), (554, "bad")], 1)
        p.recv(2)
        p.close()
        time.sleep(0.5)
        # logrotate: the file is moved, SIGHUP, the new lines go to a new file
        os.rename(logf, logf + ".1")
        srv.proc.send_signal(signal.SIGHUP)
        time.sleep(0.3)
        # a session logged on at SIGTERM gets a Logout with a Text
        c = Client(port, "CLIENT1")
        c.send("A", [(98, 0), (108, 30), (141, "Y")], 1)
        if c.recv(5) is None:
            errs.append("no Logon answer after SIGHUP")
        srv.proc.send_signal(signal.SIGTERM)
        m = c.recv(5)
        if m is None or m.type != "5" or "shutting down" not in (m.get(58) or ""):
            errs.append("at SIGTERM: expected a Logout with a Text, got %r" % m)
        rc = srv.wait(10)
        if rc != 0:
            errs.append("exit status %s after SIGTERM" % rc)
        old, new = lines(logf + ".1"), lines(logf)
        want = [
            (old, ["connection accepted", "peer=127.0.0.1:"]),
            (old, ["logon", "session=CLIENT1", "sender=EXEC", "peer=127.0.0.1:"]),
            (old, ["garbled input dropped", "session=CLIENT1", "peer=127.0.0.1:"]),
            (old, ["Reject sent", "session=CLIENT1", "peer=127.0.0.1:"]),
            (old, ["logged out", "session=CLIENT1", "peer=127.0.0.1:"]),
            (old, ["disconnected", "peer=127.0.0.1:"]),
            (old, ["Logon refused", "wrong TargetCompID", "target_comp_id=WRONG",
                   "sender_comp_id=CLIENT1", "peer=127.0.0.1:"]),
            (old, ["Logon refused", "unknown SenderCompID", "sender_comp_id=NOBODY"]),
            (old, ["Logon refused", "session=CLIENT2", "Password", "peer=127.0.0.1:"]),
            (new, ["log file reopened"]),
            (new, ["logged out", "session=CLIENT1", "gateway shutting down"]),
            (new, ["stopping: sessions logged out", "sessions=1"]),
        ]
        for ls, words in want:
            if not find(ls, *words):
                errs.append("no log line with %s" % words)
        if find(old, "unknown SenderCompID", "sender_comp_id=CLIENT1"):
            errs.append("a wrong TargetCompID logged as an unknown SenderCompID")
        if errs:
            errs.append("log before SIGHUP:\n" + "\n".join(old) + "\nafter:\n" + "\n".join(new))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for e in errs:
        print("FAIL", e)
    print("session log: %d failures" % len(errs))
    sys.exit(1 if errs else 0)


if __name__ == "__main__":
    main()
