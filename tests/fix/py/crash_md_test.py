"""crash_md_test.py: fills that no inbound message caused survive kill -9
(issue 17/18: "anything acknowledged to a client survives kill -9 at any
instruction; nothing unacknowledged comes back live").

`bourse serve` with market data replayed at a numeric speed (data/mm.ticks.zst
at 20x real time) and venue latencies above zero (order entry 3 ms, cancel
1 ms, response 2 ms): a FIX client takes once (its fill arrives a latency
later, outside the message that caused it) and rests a ladder of buys and
sells around the market, which the replayed market data then trades against.
The gateway kills itself right after its Nth write or sync of the journal and
stores (BRS_FAULT_AFTER_WRITES=N, every third write torn in half first), for
N spread over the whole flow. After each crash it restarts on the same state
(the feed goes on from where the journal says it was), the client logs on,
resynchronises (ResendRequest for what it missed), trades a little more and
asks every order's status. Then:
- an ExecID never names two different reports (a fill the client was sent
  and the restarted gateway lost would be numbered again for another);
- every order's fills, in ExecID order, add up: each CumQty is the previous
  one plus its LastQty (a lost fill, or one applied twice, breaks the chain);
- every order's status (CumQty, LeavesQty) is what its last report said;
- every gateway MsgSeqNum was received, resent or gap-filled; no Reject.

usage: crash_md_test.py BOURSE SOURCE_DIR"""
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crash_test import Party  # noqa: E402
from fixclient import Server  # noqa: E402

SYM = "GEN000"


def config(src, work):
    doc = {
        "listen": {"host": "127.0.0.1", "port": 0},
        "fsync": "never",
        "sender_comp_id": "EXEC",
        "sessions": [{"target_comp_id": "CLIENT1"}],
        "instruments": [{"symbol": SYM, "decimals": 4, "tick_size": 100, "lot_size": 1}],
        "venues": [{"name": "lit", "plugin": "sim", "params": {"tick_size": 100}}],
        "latency": {"order_entry_ns": 3000000, "cancel_ns": 1000000, "response_ns": 2000000},
        "market_data": {"file": os.path.join(src, "data", "mm.ticks.zst"), "speed": 20},
    }
    path = os.path.join(work, "serve.json")
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


def nos(cl, side, qty, px, tif="1"):
    return [(11, cl), (21, 1), (38, qty), (40, 2), (44, px), (54, side), (55, SYM), (59, tif),
            (60, "20261206-10:00:00")]


def flow(p, tag, seconds):
    """Take once, then rest a ladder around the price it paid; then let the
    market trade against it. False when the gateway died."""
    cl = "T" + tag
    p.send("D", nos(cl, 1, 3, "999.0000", "3"))
    if not p.pump(lambda m: m.type == "8" and m.get(11) == cl and m.get(150) in ("F", "4"), 3):
        return False
    fills = [m for m in p.ers if m.get(11) == cl and m.get(150) == "F"]
    px = float(fills[0].get(31)) if fills else 164.0
    for k in range(1, 7):
        for side, sign in ((1, -1), (2, 1)):
            c = "%s%s%d" % ("B" if side == 1 else "S", tag, k)
            p.send("D", nos(c, side, 5, "%.4f" % (px + sign * 0.01 * k)))
            if not p.pump(lambda m, c=c: m.type == "8" and m.get(11) == c, 3):
                return False
    return p.pump(None, seconds) and not p.c.closed


def check(p, label):
    errs = ["%s: %s" % (label, b) for b in p.bad]
    want = set(range(1, p.max_seen + 1))
    if not want <= p.covered:
        errs.append("%s: gateway MsgSeqNums never received: %s" % (label, sorted(want - p.covered)[:10]))
    by_exec, orders = {}, {}
    for m in p.ers:
        if m.get(150) == "I":
            continue
        key = (m.get(11), m.get(150), m.get(32), m.get(14), m.get(151))
        x = m.get(17)
        if x in by_exec and by_exec[x] != key:
            errs.append("%s: ExecID %s names two reports: %s and %s" % (label, x, by_exec[x], key))
        by_exec[x] = key
        orders.setdefault(m.get(11), {})[int(x)] = m
    fills_total = 0
    for cl, ers in orders.items():
        cum = 0
        for x in sorted(ers):
            m = ers[x]
            if m.get(150) == "F":
                cum += int(m.get(32))
                fills_total += 1
                if int(m.get(14)) != cum:
                    errs.append("%s: %s fill ExecID %d has CumQty %s, its fills add up to %d" %
                                (label, cl, x, m.get(14), cum))
                    cum = int(m.get(14))
        last = ers[max(ers)]
        st = p.status.get("S-" + cl)
        if st is None:
            errs.append("%s: no status for %s" % (label, cl))
        elif (st.get(14), st.get(151)) != (last.get(14), last.get(151)):
            # a fill may have come between the last report read and the status:
            # then it is in the reports read after the status was asked
            errs.append("%s: %s status CumQty %s LeavesQty %s, its last report says %s %s" %
                        (label, cl, st.get(14), st.get(151), last.get(14), last.get(151)))
    return errs, fills_total


def status_all(p):
    """Status of every order: asked in one go, answered in order with the
    reports, so each answer follows every report of its order sent before it."""
    cls = sorted({m.get(11) for m in p.ers if m.get(150) not in ("I", None) and m.get(37) != "NONE"})
    for cl in cls:
        side = 1 if cl.startswith(("T", "B")) else 2
        p.send("H", [(11, cl), (54, side), (55, SYM), (790, "S-" + cl)])
    p.pump(lambda m: m.type == "8" and m.get(790) == "S-" + cls[-1], 5)
    return cls


def one(bourse, cfg, work, n):
    state = os.path.join(work, "state")
    shutil.rmtree(state, ignore_errors=True)
    srv = Server(bourse, cfg, work, sets=["state_dir=" + state])
    srv.start({"BRS_FAULT_AFTER_WRITES": str(n), "BRS_FAULT_TORN": "1" if n % 3 == 0 else "0"})
    p = Party("CLIENT1")
    died = True
    if srv.port:
        try:
            p.logon(srv.port)
            died = not flow(p, "a", 2.0)
        except (AssertionError, OSError):
            died = True
    if not died:
        srv.stop()
        p.c.close()
        return None
    rc = srv.wait(10)
    if p.c:
        p.pump(None, 0.2)
        p.c.close()
    if rc != -9:
        return ["N=%d: gateway exited %s, not killed by the fault: %s" % (n, rc, srv.logtext())]
    srv.start()
    if not srv.port:
        return ["N=%d: restart failed: %s" % (n, srv.logtext())]
    p.logon(srv.port)
    p.pump(None, 0.5)  # resends both ways, and what the market does meanwhile
    p.policy = "gapfill"
    p.send("1", [(112, "sync")])
    if not p.pump(lambda m: m.type == "0" and m.get(112) == "sync", 5):
        p.bad.append("TestRequest not answered after restart")
    p.pump(None, 0.5)
    srv_log = srv.logtext()
    # what is compared is frozen: the gateway stops, and restarts (a second
    # replay, of a longer journal) with the market data all but paused
    srv.stop()
    p.c.close()
    frozen = Server(bourse, cfg, work, sets=["state_dir=" + state, "market_data.speed=0.000001"], name="frozen")
    frozen.start()
    if not frozen.port:
        return ["N=%d: second restart failed: %s" % (n, frozen.logtext())], 0
    p.logon(frozen.port)
    p.pump(None, 0.3)
    status_all(p)
    errs, fills = check(p, "N=%d%s" % (n, " torn" if n % 3 == 0 else ""))
    frozen.stop()
    p.c.close()
    if errs:
        errs.append("gateway log: " + srv_log[-3000:])
    return errs, fills


def main():
    bourse, src = sys.argv[1], sys.argv[2]
    work = tempfile.mkdtemp(prefix="brs_crashmd_")
    cfg = config(src, work)
    errs, points, fills = [], 0, 0
    n = 2
    while n < 100000:
        r = one(bourse, cfg, work, n)
        if r is None:
            break
        e, f = r if isinstance(r, tuple) else (r, 0)
        errs += e
        points += 1
        fills += f
        print("N=%d: %s (%d fills)" % (n, "FAIL" if e else "ok", f), flush=True)
        n = int(n * 1.7) + 1
    if errs:
        for e in errs:
            print("FAIL:", e)
        print("work dir kept:", work)
        sys.exit(1)
    shutil.rmtree(work, ignore_errors=True)
    print("ok: %d crash points over the flow, %d fill reports checked (ExecIDs unique, CumQty chains, "
          "status = last report)" % (points, fills))


if __name__ == "__main__":
    main()
