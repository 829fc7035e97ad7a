"""damage_test.py: record checksums of the gateway's durable files
(docs/fix-gateway.md, "Record checksums"). A short `bourse serve` run
(fsync: batch, two sessions, crossing orders, a cancel) leaves a state
directory in version 2. Then, each on a copy of it:
- one bit flipped in each record of the journal (its header, every record of
  every committed batch, the final one too: a flipped bit is not a tear):
  the start is refused naming orders.journal and the record's byte, and the
  file is left as it is;
- one bit flipped in each record of each session store: refused naming the
  store and the byte, nothing cut;
- a sector of zeros in the final committed batch of the journal (the write a
  machine crash interrupted before its sync, never acknowledged): cut back
  to the COMMIT before it, with the stores' records of that batch, and the
  gateway starts; a torn tail (half a record) after it is still cut;
- the old format: the state directory tests/fix/golden/v1-state (written by
  the gateway before checksums: no header) replays as before, its files stay
  in version 1 when appended to, and `bourse audit` reads it.

usage: damage_test.py BOURSE SOURCE_DIR"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixclient import Client, Server, write_config  # noqa: E402

COMMIT = 0x7ffffffd
ORDER = [(21, 1), (38, 10), (40, 2), (55, "AAPL"), (59, 1), (60, "20261206-10:00:00")]
failures = []


def crc32c(b):
    """CRC-32C, bit by bit (for the test's own records)."""
    c = 0xFFFFFFFF
    for x in b:
        c ^= x
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
    return c ^ 0xFFFFFFFF


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def logon(port, comp, seq=1):
    c = Client(port, comp)
    c.send("A", [(98, 0), (108, 30)], seq)
    for _ in range(50):
        m = c.recv(5)
        if m is None or m.type == "A":
            break
    return c


def drain(c, n, timeout=5):
    got = []
    while len(got) < n:
        m = c.recv(timeout)
        if m is None:
            break
        if m.type == "8":
            got.append(m)
    return got


def make_state(bourse, work):
    state = os.path.join(work, "state")
    os.mkdir(state)
    cfg = write_config(os.path.join(work, "cfg.json"), state_dir=state, fsync="batch")
    srv = Server(bourse, cfg, work, name="make").start()
    c1, c2 = logon(srv.port, "CLIENT1"), logon(srv.port, "CLIENT2")
    c1.send("D", [(11, "b1"), (54, 1), (44, "10.00")] + ORDER, 2)
    drain(c1, 1)
    c1.send("D", [(11, "b2"), (54, 1), (44, "9.00")] + ORDER, 3)
    drain(c1, 1)
    c2.send("D", [(11, "s1"), (54, 2), (44, "10.00")] + ORDER, 2)
    drain(c2, 2)
    drain(c1, 1)
    c1.send("F", [(11, "b2c"), (41, "b2"), (54, 1), (55, "AAPL"), (60, "20261206-10:00:00")], 4)
    drain(c1, 1)
    # the final batch: an order with a long Text, so a whole sector lies in it
    c2.send("D", [(11, "s2"), (54, 2), (44, "11.00"), (58, "x" * 1000)] + ORDER, 3)
    drain(c2, 1)
    c1.close()
    c2.close()
    time.sleep(0.2)
    check(srv.stop() == 0, "the first run stops cleanly")
    return cfg, state


def records(data, start, head, lenat):
    """(offset, size) of each record of a version 2 file after its header."""
    out, pos = [(0, start)], start
    while pos + head <= len(data):
        n = struct.unpack_from("<I", data, pos + lenat)[0]
        out.append((pos, head + n + 4))
        pos += head + n + 4
    check(pos == len(data), "the records fill the file")
    return out


def start(bourse, cfg, work, name):
    srv = Server(bourse, cfg, work, name=name).start()
    if srv.proc.poll() is None:
        time.sleep(0.2)
    died = srv.proc.poll() is not None
    srv.stop()
    return died, srv.logtext()


def with_copy(state, fn):
    saved = state + ".orig"
    if not os.path.exists(saved):
        shutil.copytree(state, saved)
    shutil.rmtree(state)
    shutil.copytree(saved, state)
    try:
        fn()
    finally:
        shutil.rmtree(state)
        shutil.copytree(saved, state)


def flip(path, at):
    with open(path, "r+b") as f:
        f.seek(at)
        b = f.read(1)
        f.seek(at)
        f.write(bytes([b[0] ^ 0x10]))


def test_flips(bourse, cfg, work, state):
    jpath = os.path.join(state, "orders.journal")
    data = open(jpath, "rb").read()
    check(data[8:12] == b"BRSJ", "a new journal is of version 2")
    recs = records(data, 20, 8, 4)
    commits = [p for p, s in recs if p and struct.unpack_from("<I", data, p)[0] == COMMIT]
    check(len(commits) >= 5, "several committed batches (%d)" % len(commits))
    for k, (pos, size) in enumerate(recs):
        at = pos + (k * 7 + 3) % size  # a different field of each record
        bad = [None]

        def one():
            flip(jpath, at)
            before = open(jpath, "rb").read()
            died, log = start(bourse, cfg, work, "j%d" % k)
            check(died, "journal record at %d (bit at %d): the start is refused" % (pos, at))
            check("orders.journal: damaged at byte %d:" % pos in log,
                  "journal record at %d: the refusal names the byte: %s" % (pos, log[-400:]))
            check(open(jpath, "rb").read() == before, "journal record at %d: nothing cut" % pos)
            bad[0] = log
        with_copy(state, one)
    print("journal: %d records, each refused with one bit flipped" % len(recs))
    stores = sorted(f for f in os.listdir(state) if f.endswith(".store"))
    check(len(stores) == 2, "two stores")
    n = 0
    for st in stores:
        spath = os.path.join(state, st)
        sdata = open(spath, "rb").read()
        check(sdata[0:1] == b"V" and sdata[9:13] == b"BRSS", "a new store is of version 2")
        for k, (pos, size) in enumerate(records(sdata, 17, 9, 5)):
            at = pos + (k * 5 + 1) % size

            def one():
                flip(spath, at)
                before = open(spath, "rb").read()
                died, log = start(bourse, cfg, work, "s%d" % n)
                check(died, "%s record at %d: the start is refused" % (st, pos))
                check("%s: damaged at byte %d:" % (st, pos) in log,
                      "%s record at %d: the refusal names the byte: %s" % (st, pos, log[-400:]))
                check(open(spath, "rb").read() == before, "%s record at %d: nothing cut" % (st, pos))
            with_copy(state, one)
            n += 1
    print("stores: %d records, each refused with one bit flipped" % n)
    return recs, commits


def test_final_batch(bourse, cfg, work, state, recs, commits):
    """Zeros over a sector of the final batch: cut back to the COMMIT before
    it; then half a record after the final COMMIT: the torn tail, cut."""
    jpath = os.path.join(state, "orders.journal")
    data = open(jpath, "rb").read()
    prev_end = commits[-2] + 20
    final = [(p, s) for p, s in recs if prev_end <= p < commits[-1]]
    check(final, "the final batch holds records")

    def one():
        # a 512-byte sector inside the final batch, zeroed (or the batch's
        # bytes zeroed where it is smaller than a sector)
        lo = (prev_end + 511) // 512 * 512
        buf = bytearray(data)
        check(lo + 512 <= commits[-1], "a whole sector in the final batch")
        buf[lo:lo + 512] = bytes(512)
        open(jpath, "wb").write(bytes(buf))
        stores = {f: os.path.getsize(os.path.join(state, f)) for f in os.listdir(state) if f.endswith(".store")}
        died, log = start(bourse, cfg, work, "final")
        check(not died, "a zero sector in the final batch: the gateway starts: " + log[-400:])
        check("final committed batch fails its check" in log, "the cut is said")
        check(os.path.getsize(jpath) == prev_end, "the journal cut back to the COMMIT before (%d, %d)"
              % (os.path.getsize(jpath), prev_end))
        check(any(os.path.getsize(os.path.join(state, f)) < n for f, n in stores.items()),
              "the batch's store records cut too")
        died, log = start(bourse, cfg, work, "final2")
        check(not died and "damaged" not in log, "it starts again")
        # the same zeros with one more batch after it: a batch synced
        # before a later write began cannot be torn: refused
        buf2 = bytearray(data)
        buf2[lo:lo + 512] = bytes(512)
        buf2 += data[commits[-2]:commits[-2] + 8] + struct.pack("<Q", struct.unpack_from(
            "<Q", data, commits[-1] + 8)[0] + 1)
        buf2 += struct.pack("<I", crc32c(bytes(buf2[-16:])))
        open(jpath, "wb").write(bytes(buf2))
        died, log = start(bourse, cfg, work, "final3")
        check(died and "orders.journal: damaged at byte" in log, "zeros in a batch before the final one: refused")
    with_copy(state, one)

    def torn():
        rec = data[recs[3][0]:recs[3][0] + recs[3][1]]
        with open(jpath, "ab") as f:
            f.write(rec[:len(rec) // 2])
        died, log = start(bourse, cfg, work, "torn")
        check(not died, "a torn tail: the gateway starts")
        check(os.path.getsize(jpath) == len(data), "the torn tail cut")
    with_copy(state, torn)


def test_v1(bourse, src, work):
    """The golden state directory of version 1 (no header): replays, keeps
    appending in version 1, and the audit reads it."""
    gold = os.path.join(src, "tests", "fix", "golden", "v1-state")
    state = os.path.join(work, "v1")
    shutil.copytree(gold, state)
    cfg = write_config(os.path.join(work, "v1.json"), state_dir=state, fsync="batch")
    jpath = os.path.join(state, "orders.journal")
    size0 = os.path.getsize(jpath)
    srv = Server(bourse, cfg, work, name="v1").start()
    check(srv.proc.poll() is None, "the old state directory replays: " + srv.logtext()[-400:])
    if srv.proc.poll() is None:
        c1 = logon(srv.port, "CLIENT1", 5)
        c1.send("H", [(11, "b1"), (54, 1), (55, "AAPL")], 6)
        m = drain(c1, 1)
        check(m and m[0].get(39) == "2", "its filled order is known after the restart: %r" % m)
        c1.send("D", [(11, "n1"), (54, 1), (44, "8.00")] + ORDER, 7)
        check(len(drain(c1, 1)) == 1, "a new order")
        c1.close()
        srv.stop()
    data = open(jpath, "rb").read()
    check(os.path.getsize(jpath) > size0 and data[8:12] != b"BRSJ" and
          struct.unpack_from("<I", data, 0)[0] != 0x7fffffe0, "appends keep version 1")
    out = subprocess.run([bourse, "audit", state], capture_output=True, text=True)
    check(out.returncode == 0 and "b1" in out.stdout and "n1" in out.stdout,
          "bourse audit reads it: %s" % out.stderr[-300:])


def main():
    bourse, src = sys.argv[1], sys.argv[2]
    work = tempfile.mkdtemp(prefix="brs_damage_")
    try:
        cfg, state = make_state(bourse, work)
        out = subprocess.run([bourse, "audit", state], capture_output=True, text=True)
        check(out.returncode == 0 and "s2" in out.stdout, "bourse audit reads version 2")
        recs, commits = test_flips(bourse, cfg, work, state)
        test_final_batch(bourse, cfg, work, state, recs, commits)
        test_v1(bourse, src, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print("%d failed" % len(failures))
        return 1
    print("damage: all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
