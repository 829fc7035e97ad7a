"""abuse_test.py: issue 15 points 1 and 4 against `bourse serve`:
(1) a socket that sends part of a Logon and half-closes is closed at once
(not kept until logon_timeout_ms, which spun the loop), and the gateway's CPU
stays idle meanwhile; a client rate-limited by max_msgs_per_sec whose FIN
arrives while reading is paused does not spin either;
(4) with max_msgs_per_sec 1000, a client that sends 1,500 orders and a Logout
and then half-closes gets every order answered and the Logout answered.

usage: abuse_test.py BOURSE"""
import os
import shutil
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixclient import Client, Server, encode, write_config  # noqa: E402


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def main():
    bourse = sys.argv[1]
    work = tempfile.mkdtemp(prefix="brs_abuse_")
    errs = []
    try:
        cfg = write_config(os.path.join(work, "serve.json"), max_msgs_per_sec=1000,
                           logon_timeout_ms=20000)
        srv = Server(bourse, cfg, work).start()
        pid = srv.proc.pid
        # (1) half a Logon, then FIN
        logon = encode("A", [(98, 0), (108, 30)], "CLIENT1", "EXEC", 1)
        half = socket.create_connection(("127.0.0.1", srv.port))
        half.sendall(logon[:30])
        half.shutdown(socket.SHUT_WR)
        half.settimeout(5)
        t = time.time()
        try:
            got = half.recv(100)
        except socket.timeout:
            got = None
        if got != b"" or time.time() - t > 3:
            errs.append("half-closed partial Logon: not closed at once (%r after %.1f s)" %
                        (got, time.time() - t))
        half.close()
        # (4) 1,500 orders and a Logout, then FIN, at 1,000 messages a second
        c = Client(srv.port, "CLIENT1")
        c.send("A", [(98, 0), (108, 30)], 1)
        if c.recv(5) is None:
            errs.append("no Logon answer")
        batch = []
        for k in range(1500):
            side, px = (1, "9.00") if k % 2 else (2, "11.00")
            batch.append(encode("D", [(11, "h%d" % k), (21, 1), (38, 1), (40, 2), (44, px),
                                      (54, side), (55, "AAPL"), (59, 1),
                                      (60, "20261206-10:00:00")], "CLIENT1", "EXEC", 2 + k))
        batch.append(encode("5", [], "CLIENT1", "EXEC", 1502))
        c.send_raw(b"".join(batch))
        c.sock.shutdown(socket.SHUT_WR)
        time.sleep(0.3)  # reading is paused by the rate limit now, the FIN waits
        c0 = cpu_s(pid)
        time.sleep(0.5)
        busy = cpu_s(pid) - c0
        acks, logout = set(), None
        while True:
            m = c.recv(5)
            if m is None:
                break
            if m.type == "8":
                acks.add(m.get(11))
            elif m.type == "5":
                logout = m
        if len(acks) != 1500:
            errs.append("after a half-close under the rate limit: %d of 1500 orders answered" %
                        len(acks))
        if logout is None:
            errs.append("the Logout after the orders was not answered")
        # a paused reader with a FIN must not spin the loop: well under a core
        if busy > 0.35:
            errs.append("gateway used %.2f s of CPU in 0.5 s while a half-closed client was "
                        "paused" % busy)
        print("half-close under the rate limit: %d orders answered, Logout %s; gateway CPU %.2f s "
              "in 0.5 s while paused" % (len(acks), "answered" if logout else "lost", busy))
        c.close()
        srv.stop()
        if errs:
            errs.append("log: " + srv.logtext())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for e in errs:
        print("FAIL", e)
    sys.exit(1 if errs else 0)


if __name__ == "__main__":
    main()
