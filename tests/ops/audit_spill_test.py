#!/usr/bin/python3
"""audit_spill_test.py BOURSE: `bourse audit` in bounded memory (--mem-limit,
--spill-dir). A generated state directory (audit_gen.py: journal, stores and
an archived day; links by ClOrdID and OrigClOrdID, WebSocket and routed rows,
an uncommitted tail) is audited all in memory and with a 64K limit, which
sends the same rows through the spill path (sorted runs in temporary files,
merged in several passes): the outputs must be byte-identical for each format
and filter, the spill must have happened (its log lines), and the spill
directory must be empty afterwards. A spill directory that cannot take files,
or a spill write that fails (a file-size limit standing in for a full disk),
is an error naming the directory, a non-zero exit and no output."""
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
FAILED = []


def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg)
    if not cond:
        FAILED.append(msg)


def run(bourse, *args, preexec=None):
    p = subprocess.run([bourse, "audit", *args], capture_output=True, timeout=300, preexec_fn=preexec)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def main():
    bourse = sys.argv[1]
    work = tempfile.mkdtemp(prefix="audit-spill-")
    try:
        state = os.path.join(work, "state")
        subprocess.run([sys.executable, os.path.join(HERE, "audit_gen.py"), state, "--orders", "3000",
                        "--seed", "7"], check=True)
        spill = os.path.join(work, "spill")
        os.mkdir(spill, 0o700)
        cases = [
            [],
            ["--format", "json"],
            ["--session", "CLIENT2"],
            ["--session", "ws:bob", "--format", "json"],
            ["--order", "17", "--format", "json"],
            ["--client-order", "C40r"],
            ["--since", "2026-12-06T05:00:01Z", "--until", "2026-12-06T05:00:03Z"],
            ["--since", "2026-12-06T05:00:01Z", "--format", "json"],
        ]
        for args in cases:
            rc_m, out_m, err_m = run(bourse, state, *args)
            rc_s, out_s, err_s = run(bourse, state, *args, "--mem-limit", "64K", "--spill-dir", spill)
            what = " ".join(args) or "(csv, no filter)"
            check(rc_m == 0 and rc_s == 0, f"{what}: both exit 0 ({rc_m}, {rc_s})")
            lines = out_m.count(b"\n")
            check(lines > 3, f"{what}: the audit has rows ({lines} lines)")
            check(out_m == out_s, f"{what}: spilled output byte-identical to in-memory")
            check("spilled a sorted run" not in err_m, f"{what}: the default limit holds it in memory")
            done = re.search(r"done through temporary files rows=(\d+) runs=(\d+)", err_s)
            check(done is not None and int(done.group(2)) >= 10,
                  f"{what}: spilled through several runs ({done.group(0) if done else err_s[-300:]})")
            check("merged runs into one" in err_s, f"{what}: runs merged in more than one pass")
            check(f"dir={spill}" in err_s, f"{what}: the log names the spill directory")
            check(os.listdir(spill) == [], f"{what}: nothing left in the spill directory")
        # a limit too small to mean anything is refused
        rc, out, err = run(bourse, state, "--mem-limit", "1K")
        check(rc == 2 and "--mem-limit" in err, f"--mem-limit 1K refused ({rc}: {err.strip()[:120]})")
        # a spill directory that cannot take files: error naming it, non-zero, no output
        for bad in (os.path.join(work, "missing"), os.path.join(state, "orders.journal")):
            rc, out, err = run(bourse, state, "--mem-limit", "64K", "--spill-dir", bad)
            check(rc != 0 and bad in err and out == b"",
                  f"spill dir {os.path.basename(bad)}: exit {rc}, names it, no output ({err.strip()[-160:]})")
        # a write that fails half-way (a file-size limit: EFBIG, as a full disk's ENOSPC)
        def small_files():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))
        rc, out, err = run(bourse, state, "--mem-limit", "1M", "--spill-dir", spill, preexec=small_files)
        check(rc != 0 and spill in err and "write failed" in err and out == b"",
              f"a failed spill write: exit {rc}, names the directory, no output ({err.strip()[-160:]})")
        check(os.listdir(spill) == [], "nothing left after the failed write")
        # Ctrl-C while it spills: the runs were unlinked as they were made
        p = subprocess.Popen([bourse, "audit", state, "--mem-limit", "64K", "--spill-dir", spill],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        line = p.stderr.readline().decode(errors="replace")
        while line and "spilled a sorted run" not in line:
            line = p.stderr.readline().decode(errors="replace")
        during = os.listdir(spill)
        p.send_signal(signal.SIGINT)
        p.stderr.close()
        rc = p.wait(timeout=60)
        check("spilled a sorted run" in line and during == [],
              f"while spilling, the spill directory shows no file ({during})")
        check(rc != 0 and os.listdir(spill) == [],
              f"Ctrl-C while spilling: exit {rc}, nothing left in the spill directory")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if FAILED:
        print(f"{len(FAILED)} failed")
        sys.exit(1)
    print("all passed")


if __name__ == "__main__":
    main()
