"""restart_bench.py: how long `bourse serve` takes to restart, and its memory,
with N open orders, or N orders all cancelled (issue 15, point 9).

The journal a gateway writes for N NewOrderSingles (and N cancels) is made
directly, record for record as the gateway journals them (session index,
length, the FIX message as received, a COMMIT record), which stands for
"N orders arrived over FIX" without an hour of client traffic. Then:
  1. the gateway starts on it (a full replay, as before checkpoints) and,
     the journal being past journal_checkpoint_bytes, checkpoints at once;
  2. it is killed (SIGKILL) and started again: that restart, from the
     checkpoint, is what is measured: time from exec to listening (port
     file written) and peak RSS (VmHWM).
Timings are the machine's; this is a measurement tool, not a test.

usage: restart_bench.py BOURSE [--orders N] [--json]"""
import argparse
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

COMMIT = 0x7ffffffd


def fixmsg(body):
    body = body.encode()
    head = b"8=FIX.4.4\x019=%d\x01" % len(body)
    m = head + body
    return m + b"10=%03d\x01" % (sum(m) % 256)


def write_journal(path, n, cancel):
    hdr = "49=CLIENT1\x0156=EXEC\x0152=20261206-10:00:00.000\x01"
    with open(path, "wb", buffering=1 << 22) as f:
        seq = 2
        batch = 1
        for k in range(n):
            px = "%d.%02d" % divmod(10000 - (k % 500), 100)
            m = fixmsg("35=D\x0134=%d\x01%s11=o%d\x0121=1\x0138=1\x0140=2\x0144=%s\x0154=1\x01"
                       "55=AAPL\x0159=1\x0160=20261206-10:00:00\x01" % (seq, hdr, k, px))
            seq += 1
            f.write(struct.pack("<II", 0, len(m)) + m)
            if cancel:
                m = fixmsg("35=F\x0134=%d\x01%s11=c%d\x0141=o%d\x0154=1\x0155=AAPL\x01"
                           "60=20261206-10:00:00\x01" % (seq, hdr, k, k))
                seq += 1
                f.write(struct.pack("<II", 0, len(m)) + m)
            if k % 1000 == 999 or k == n - 1:
                f.write(struct.pack("<IIQ", COMMIT, 8, batch))
                batch += 1
    return os.path.getsize(path)


def start(bourse, cfg, work, name):
    pf = os.path.join(work, name + ".port")
    if os.path.exists(pf):
        os.unlink(pf)
    log = open(os.path.join(work, name + ".log"), "wb")
    t0 = time.monotonic()
    p = subprocess.Popen([bourse, "serve", cfg, "--set", "listen.port=0", "--port-file", pf],
                         stdout=log, stderr=subprocess.STDOUT)
    hwm = 0
    while True:
        try:
            with open("/proc/%d/status" % p.pid) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        hwm = max(hwm, int(line.split()[1]))
        except OSError:
            pass
        if os.path.exists(pf) and os.path.getsize(pf) > 0:
            break
        if p.poll() is not None:
            raise RuntimeError("gateway died: " + open(log.name, "rb").read().decode("latin-1"))
        time.sleep(0.002)
    listening = time.monotonic() - t0
    with open("/proc/%d/stat" % p.pid) as f:
        parts = f.read().rsplit(")", 1)[1].split()
    cpu = (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")
    with open("/proc/%d/status" % p.pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                hwm = max(hwm, int(line.split()[1]))
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return p, listening, hwm / 1024.0, rss / 1024.0, log.name, cpu


def wait_for(logpath, text, timeout):
    t = time.time()
    while time.time() - t < timeout:
        if text in open(logpath, "rb").read().decode("latin-1"):
            return True
        time.sleep(0.05)
    return False


def scenario(bourse, n, cancel):
    work = tempfile.mkdtemp(prefix="brs_restart_")
    try:
        state = os.path.join(work, "state")
        os.makedirs(state)
        jbytes = write_journal(os.path.join(state, "orders.journal"), n, cancel)
        cfg = os.path.join(work, "serve.json")
        with open(cfg, "w") as f:
            json.dump({"listen": {"host": "127.0.0.1", "port": 0}, "state_dir": state,
                       "fsync": "never", "sender_comp_id": "EXEC", "max_orders": 4194304,
                       "journal_checkpoint_bytes": max(4096, min(64 << 20, jbytes // 2)),
                       "sessions": [{"target_comp_id": "CLIENT1"}],
                       "instruments": [{"symbol": "AAPL", "decimals": 2, "tick_size": 1,
                                        "lot_size": 1}]}, f)
        p, full_s, full_hwm, _, log1, full_cpu = start(bourse, cfg, work, "full")
        ok = wait_for(log1, "journal checkpoint:", 600)
        p.send_signal(signal.SIGKILL)
        p.wait()
        if not ok:
            raise RuntimeError("no checkpoint: " + open(log1, "rb").read().decode("latin-1")[-2000:])
        ckpt_bytes = os.path.getsize(os.path.join(state, "orders.journal"))
        # the checkpoint's own figures: ms from start to the journal replaced,
        # loop_ms of it the loop was held (fork and tail copy: the snapshot is
        # written by a child process)
        line = [x for x in open(log1, "rb").read().decode("latin-1").splitlines()
                if "journal checkpoint:" in x][0]
        kv = dict(w.split("=", 1) for w in line.split() if "=" in w)
        p, s, hwm, rss, log2, cpu = start(bourse, cfg, work, "restart")
        p.send_signal(signal.SIGTERM)
        p.wait()
        return {"orders": n, "cancelled": bool(cancel), "journal_bytes_full": jbytes,
                "start_full_replay_s": round(full_s, 3), "start_full_replay_cpu_s": round(full_cpu, 2), "peak_rss_full_replay_mb": round(full_hwm, 1),
                "journal_bytes_checkpointed": ckpt_bytes,
                "checkpoint_ms": float(kv.get("ms", "nan")),
                "checkpoint_loop_ms": float(kv.get("loop_ms", kv.get("ms", "nan"))),
                "checkpoint_parts_ms": dict((k, float(v)) for k, v in kv.items()
                                            if k.endswith("_ms") and k != "loop_ms"), "restart_s": round(s, 3), "restart_cpu_s": round(cpu, 2),
                "restart_peak_rss_mb": round(hwm, 1), "restart_rss_mb": round(rss, 1)}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bourse")
    ap.add_argument("--orders", type=int, default=2000000)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    res = [scenario(a.bourse, a.orders, False), scenario(a.bourse, a.orders, True)]
    if a.json:
        print(json.dumps(res, indent=1))
    else:
        for r in res:
            print("%d orders %s: full replay %.2f s (CPU %.2f s, peak %.0f MB, journal %.0f MB); "
                  "restart from the checkpoint %.3f s to listening (CPU %.2f s), peak RSS %.1f MB, "
                  "RSS %.1f MB (journal %.1f MB)" % (
                      r["orders"], "all cancelled" if r["cancelled"] else "open",
                      r["start_full_replay_s"], r["start_full_replay_cpu_s"],
                      r["peak_rss_full_replay_mb"], r["journal_bytes_full"] / 1e6, r["restart_s"],
                      r["restart_cpu_s"], r["restart_peak_rss_mb"], r["restart_rss_mb"],
                      r["journal_bytes_checkpointed"] / 1e6))


if __name__ == "__main__":
    main()
