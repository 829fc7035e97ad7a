"""flow_test.py: flow control of `bourse serve` by back-pressure (issue 14).
A session store holding N stored ExecutionReports (written by this test in the
store's own record format, as a gateway that sent them would have) is resent
in full to a client reading at normal speed: a ResendRequest 7=1 16=0 over all
N messages must complete, every MsgSeqNum arriving once in order (resent with
PossDupFlag, or gap-filled), while a second session keeps trading (its orders
are acknowledged during the resend, not after it). Prints the gateway's peak
RSS (VmHWM) and the figures; asserts the peak stays far below the store's size
(the resend streams from the store as the socket drains).

usage: flow_test.py BOURSE N"""
import os
import re
import shutil
import socket
import struct
import sys
import tempfile
import multiprocessing
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixclient import Client, Server, checksum, write_config, encode  # noqa: E402


def write_store(path, n):
    """n stored ExecutionReports EXEC -> CLIENT1, MsgSeqNum 1..n."""
    with open(path, "wb") as f:
        chunk = []
        for seq in range(1, n + 1):
            body = (b"35=8\x0134=%d\x0149=EXEC\x0152=20261206-09:00:00.000\x0156=CLIENT1\x01"
                    b"6=0\x0111=R%d\x0114=0\x0117=%d\x0137=%d\x0138=100\x0139=0\x0140=2\x0144=10\x01"
                    b"54=1\x0155=AAPL\x0160=20261206-09:00:00.000\x01150=0\x01151=100\x01"
                    % (seq, seq, seq, seq))
            m = b"8=FIX.4.4\x019=%d\x01" % len(body) + body
            m += b"10=" + checksum(m) + b"\x01"
            chunk.append(b"O" + struct.pack("<II", seq, len(m)) + m)
            if len(chunk) >= 10000:
                f.write(b"".join(chunk))
                chunk = []
        f.write(b"".join(chunk))
    return os.path.getsize(path)


def trade(port, stop, q):
    """CLIENT2: one resting order at a time, each to its acknowledgement."""
    acks, errs = [], []
    c2 = Client(port, "CLIENT2")
    c2.send("A", [(98, 0), (108, 30)], 1)
    if c2.recv(5) is None:
        errs.append("CLIENT2: no Logon")
    seq, k = 2, 0
    while not stop.is_set() and not errs:
        k += 1
        side, px = (1, "9.00") if k % 2 else (2, "11.00")
        c2.send("D", [(11, "T%d" % k), (21, 1), (38, 1), (40, 2), (44, px), (54, side),
                      (55, "AAPL"), (59, 1), (60, "20261206-10:00:00")], seq)
        seq += 1
        while True:
            m = c2.recv(10)
            if m is None:
                errs.append("CLIENT2: no acknowledgement for T%d" % k)
                break
            if m.type == "8" and m.get(11) == "T%d" % k:
                acks.append(time.time())
                break
    q.put((acks, errs))


def vm(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


RX = re.compile(rb"\x0135=([^\x01]+)\x0134=(\d+)\x01(43=Y\x01)?")
NEWSEQ = re.compile(rb"\x0136=(\d+)\x01")


def main():
    bourse, n = sys.argv[1], int(sys.argv[2])
    work = tempfile.mkdtemp(prefix="brs_flow_")
    errs = []
    try:
        state = os.path.join(work, "state")
        os.makedirs(state)
        store_bytes = write_store(os.path.join(state, "EXEC-CLIENT1.store"), n)
        cfg = write_config(os.path.join(work, "serve.json"), state_dir=state)
        srv = Server(bourse, cfg, work).start()
        pid = srv.proc.pid
        rss_start = vm(pid, "VmRSS")

        # the second session trades throughout, from another process (the
        # reader below must not starve it of the interpreter)
        stop = multiprocessing.Event()
        q = multiprocessing.Queue()
        th = multiprocessing.Process(target=trade, args=(srv.port, stop, q))
        th.start()
        time.sleep(0.5)

        # CLIENT1 logs on at 1; the gateway's Logon is n+1: the client asks for all
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.sendall(encode("A", [(98, 0), (108, 30)], "CLIENT1", "EXEC", 1))
        t0 = time.time()
        s.sendall(encode("2", [(7, 1), (16, 0)], "CLIENT1", "EXEC", 2))
        buf = b""
        nxt = 1          # next gateway MsgSeqNum the client expects
        logon_seq = None
        resent = 0
        peak = 0
        last_probe = 0
        done_at = None
        while True:
            d = s.recv(1 << 20)
            if not d:
                errs.append("CLIENT1: connection closed during the resend at %d" % nxt)
                break
            buf += d
            end = buf.rfind(b"\x0110=")
            if end < 0:
                continue
            end = buf.find(b"\x01", end + 4)
            if end < 0:
                continue
            part, buf = buf[:end + 1], buf[end + 1:]
            for mo in RX.finditer(part):
                mt, seq, pd = mo.group(1), int(mo.group(2)), mo.group(3)
                if mt == b"A":
                    logon_seq = seq
                    continue
                if mt == b"4":
                    ns = int(NEWSEQ.search(part, mo.end()).group(1))
                    if seq != nxt:
                        errs.append("gap fill at %d, expected %d" % (seq, nxt))
                    nxt = ns
                    continue
                if pd and seq != nxt:
                    errs.append("resent %d, expected %d" % (seq, nxt))
                    nxt = seq
                if pd:
                    resent += 1
                    nxt = seq + 1
            now = time.time()
            if now - last_probe > 0.2:
                last_probe = now
                peak = max(peak, vm(pid, "VmRSS"))
            if logon_seq and nxt > logon_seq:
                done_at = time.time()
                break
            if len(errs) > 20:
                break
        t1 = time.time()
        stop.set()
        acks, terr = q.get(timeout=30)
        th.join()
        errs += terr
        during = [t for t in acks if t0 <= t <= (done_at or t1)]
        hwm = vm(pid, "VmHWM")
        rc = srv.stop()
        if rc != 0:
            errs.append("gateway exit %s" % rc)
        if resent != n:
            errs.append("resent %d of %d stored messages" % (resent, n))
        if len(during) < 10:
            errs.append("CLIENT2 got %d acknowledgements during the resend: it waited" % len(during))
        # bounded memory: far below the store the resend streams from
        if hwm > store_bytes // 2 + 64 * 1024 * 1024:
            errs.append("gateway peak RSS %.1f MB for a %.1f MB store" % (hwm / 1e6, store_bytes / 1e6))
        secs = (done_at or t1) - t0
        print("resend of %d stored messages (%.1f MB store): %.2f s, %.0f msgs/s; gateway RSS "
              "after start %.1f MB, peak %.1f MB (VmHWM); CLIENT2 acknowledged %d orders during "
              "the resend (%.0f/s), %d in all" %
              (n, store_bytes / 1e6, secs, n / secs if secs else 0, rss_start / 1e6, hwm / 1e6,
               len(during), len(during) / secs if secs else 0, len(acks)))
        log = srv.logtext()
        if "resend" not in log:
            errs.append("no resend log line: " + log[-2000:])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for e in errs[:20]:
        print("FAIL", e)
    sys.exit(1 if errs else 0)


if __name__ == "__main__":
    main()
