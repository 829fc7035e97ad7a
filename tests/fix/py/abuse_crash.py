"""abuse_crash.py: the crash cases of the load-and-abuse suite (run by
abuse_test.py: crashpoints, mccrash, sweepcrash, sweepstratcrash, sweepmdcrash,
eodcrash, eodstepcrash): a gateway killed at
each write and sync of a flow (BRS_FAULT_AFTER_WRITES, every other one torn),
restarted, and checked for what it acknowledged."""
import json
import os
import re
import shutil
import sys
import time

from abuse_common import (Client, Session, check, new_server, order_body,  # noqa: F401
                          write_orders_journal)


def case_crashpoints(work):
    """(9) crash safety of the new write boundaries: a checkpoint (temporary
    journal written and synced, old one archived, rename, directory sync) and a
    store compaction after a reset Logon, killed at each write and sync in
    turn (BRS_FAULT_AFTER_WRITES, every other point torn): the restart always
    finds the open orders open and the cancelled ones' ClOrdIDs refused."""
    n = 40
    orders = []
    seq = 2
    for k in range(n):
        orders.append((0, order_body("CLIENT1", seq, "k%d" % k, 1, "9.00", 1)))
        orders.append((0, "35=F\x0134=%d\x0149=CLIENT1\x0152=20261206-10:00:00.000\x0156=EXEC\x01"
                          "11=kc%d\x0141=k%d\x0154=1\x0155=AAPL\x0160=20261206-10:00:00\x01" %
                       (seq + 1, k, k)))
        orders.append((0, order_body("CLIENT1", seq + 2, "g%d" % k, 1, "8.00", 1)))
        seq += 3
    template = os.path.join(work, "template")
    os.makedirs(template)
    write_orders_journal(os.path.join(template, "orders.journal"), orders)
    points = in_ckpt = in_compact = 0
    for fault in range(1, 15):
        state = os.path.join(work, "state%d" % fault)
        shutil.copytree(template, state)
        srv = new_server(work, name="c%d" % fault, state_dir=state, journal_checkpoint_bytes=4096)
        env = {"BRS_FAULT_AFTER_WRITES": str(fault), "BRS_FAULT_TORN": "1" if fault % 2 else "0"}
        srv.start(extra_env=env)
        # the checkpoint's snapshot is written by a child process: the loop
        # finishes it a little later; the reset Logon waits for it (or death)
        t = time.time()
        while (srv.proc.poll() is None and "journal checkpoint:" not in srv.logtext() and
               time.time() - t < 5):
            time.sleep(0.02)
        died = srv.proc.poll() is not None
        if not died and srv.port:
            try:
                c = Session(srv.port, "CLIENT1", reset=True)
                c.order("x1", 1, "7.00", 1)
                c.recv(2)
                c.msg("5", [], wait=False)
                c.recv(2)
                c.close()
            except OSError:
                pass
            try:
                srv.proc.wait(1.5)
                died = True
            except Exception:
                died = False
        points += died
        first = srv.logtext()
        if died and "journal checkpoint:" not in first:
            in_ckpt += 1
        elif died and "store compacted" not in first:
            in_compact += 1
        srv.stop(sig=9)
        srv.start()  # no fault
        check(srv.port is not None, "fault %d: no restart: %s" % (fault, srv.logtext()[-600:]))
        if srv.port is None:
            continue
        c = Session(srv.port, "CLIENT1", reset=True)
        check(c.logon_answer is not None and c.logon_answer.seq == 1,
              "fault %d: reset Logon after the restart: %r" % (fault, c.logon_answer))
        bad = []
        for k in range(n):
            c.send("H", [(11, "g%d" % k), (54, 1), (55, "AAPL")], c.seq)
            c.seq += 1
            m = c.recv(5)
            if m is None or m.get(39) != "0":
                bad.append(("open g%d" % k, m))
            c.order("k%d" % k, 1, "9.00", 1)
            m = c.recv(5)
            if m is None or m.get(150) != "8" or m.get(103) != "6":
                bad.append(("reused k%d" % k, m))
        check(not bad, "fault %d: %d wrong answers after the restart, first %r" %
              (fault, len(bad), bad[:1]))
        left = [f for f in os.listdir(state) if f.endswith(".compact")]
        check(not left, "fault %d: temporaries left: %r" % (fault, left))
        c.close()
        srv.stop()
    print("checkpoint + store compaction: 14 fault points (odd ones torn), the gateway died at "
          "%d of them; every restart had the %d open orders and refused the %d cancelled ClOrdIDs" %
          (points, n, n))
    print("killed before the checkpoint was done: %d; after it, before the store compaction was "
          "done: %d" % (in_ckpt, in_compact))
    check(points >= 6 and in_ckpt >= 2 and in_compact >= 2,
          "only %d fault points inside the flow (%d checkpoint, %d compaction)" %
          (points, in_ckpt, in_compact))


def fault_round(srv, send, exec_type, tag):
    """One run with a fault armed: CLIENT1 logs on and send(session) sends
    the request; the ExecutionReports of ExecType exec_type (150) that come
    back are collected by tag until the gateway goes quiet or dies, then it
    is killed. Returns (the tag values seen, whether the fault struck)."""
    seen = set()
    if srv.proc.poll() is None and srv.port:
        try:
            c = Session(srv.port, "CLIENT1", reset=True)
            send(c)
            while True:
                m = c.recv(1.5)
                if m is None:
                    break
                if m.get(150) == exec_type:
                    seen.add(m.get(tag))
            c.close()
        except OSError:
            pass
    try:
        srv.proc.wait(1.0)
        died = True
    except Exception:
        died = False
    srv.stop(sig=9)
    return seen, died


def case_mccrash(work):
    """(3) a mass cancel streamed over loop turns (max_cancels_per_turn 40,
    300 orders: 8 slices, each journaled) killed at each write and sync in turn
    (BRS_FAULT_AFTER_WRITES, every other one torn, fsync batch): after the
    restart the orders are either all open (the request was never committed)
    or all cancelled, the rest of a half-done one going on by itself; every
    cancelled order's ExecutionReport is in the session store exactly once
    (a ResendRequest from 1 gets them), the OrderMassCancelReport once."""
    n = 300
    template = os.path.join(work, "template")
    os.makedirs(template)
    write_orders_journal(os.path.join(template, "orders.journal"),
                         [(0, order_body("CLIENT1", 2 + k, "m%d" % k, 1, "9.00", 1)) for k in range(n)])
    points = mid = 0
    fault = 0
    while fault < 200:
        fault += 1
        state = os.path.join(work, "state%d" % fault)
        shutil.copytree(template, state)
        srv = new_server(work, name="m%d" % fault, state_dir=state, fsync="batch",
                         max_cancels_per_turn=40)
        env = {"BRS_FAULT_AFTER_WRITES": str(fault), "BRS_FAULT_TORN": "1" if fault % 2 else "0"}
        srv.start(extra_env=env)
        seen, died = fault_round(
            srv, lambda c: c.send("q", [(11, "mc"), (530, 7), (60, "20261206-10:00:00")], c.seq), "4", 11)
        if not died:
            check(len(seen) == n, "no fault: %d of %d cancels" % (len(seen), n))
            break
        points += 1
        mid += 0 < len(seen) < n
        srv.start()  # no fault
        check(srv.port is not None, "fault %d: no restart: %s" % (fault, srv.logtext()[-600:]))
        if srv.port is None:
            continue
        # Logon at 3 (Logon 1 and the request 2 were sent); a request never
        # committed is gap-filled when the gateway asks for it
        c = Client(srv.port, "CLIENT1")
        c.send("A", [(98, 0), (108, 30)], 3)
        cancels, reports, logon, nxt = {}, 0, None, 4
        asked = False
        deadline = time.time() + 20
        while time.time() < deadline:
            m = c.recv(1.0)
            if m is None:
                if logon is None or asked:
                    break
                c.send("2", [(7, 1), (16, 0)], nxt)  # everything it stored
                nxt += 1
                asked = True
                continue
            if m.type == "A":
                logon = m
            elif m.type == "2":  # it did not commit our request: skip it
                c.send("4", [(36, 4), (123, "Y")], int(m.get(7)), possdup=True)
            elif m.type == "r":
                reports += 1
            elif m.type == "8" and m.get(150) == "4":  # live, then again in our resend
                cancels.setdefault(m.get(11), set()).add(m.seq)
        # the order's state now
        c2 = Session(srv.port, "CLIENT2")
        c.send("H", [(11, "m0"), (54, 1), (55, "AAPL")], nxt)
        nxt += 1
        st = None
        while True:
            m = c.recv(3)
            if m is None or (m.type == "8" and m.get(150) == "I"):
                st = m and m.get(39)
                break
        c2.close()
        ok = logon is not None and (
            (reports == 1 and len(cancels) == n and all(len(v) == 1 for v in cancels.values()) and
             st == "4") or
            (reports == 0 and not cancels and st == "0"))
        check(ok, "fault %d: after the restart: Logon %s, %d reports, %d cancels (%d under two MsgSeqNums), "
              "order m0 status %r; %d cancels seen before the crash" %
              (fault, logon is not None, reports, len(cancels),
               sum(1 for v in cancels.values() if len(v) > 1), st, len(seen)))
        c.close()
        srv.stop()
    print("streamed mass cancel of %d orders: killed at %d write/sync points (odd ones torn), %d "
          "of them with part of the cancels already delivered; every restart all-or-none, each "
          "report stored once" % (n, points, mid))
    check(points >= 8 and mid >= 2, "only %d fault points (%d in the middle of the mass cancel)" %
          (points, mid))


def resend_all(port, comp, logon_seq, want_h=None):
    """Logs comp on at logon_seq (no reset), gap-fills what the gateway asks
    for, asks for everything it stored (ResendRequest 1..0) and reads until
    quiet. Returns ({(ClOrdID, ExecID): set of MsgSeqNums of its fill report},
    the OrdStatus of want_h's order asked afterwards (a list of them when
    want_h is a list of ClOrdIDs), whether it logged on)."""
    c = Client(port, comp)
    c.send("A", [(98, 0), (108, 30)], logon_seq)
    fills, logon, nxt, asked = {}, None, logon_seq + 1, False
    deadline = time.time() + 30
    while time.time() < deadline:
        m = c.recv(1.0)
        if m is None:
            if logon is None or asked:
                break
            c.send("2", [(7, 1), (16, 0)], nxt)
            nxt += 1
            asked = True
            continue
        if m.type == "A":
            logon = m
        elif m.type == "2":  # it did not commit what we sent: skip it
            c.send("4", [(36, nxt), (123, "Y")], int(m.get(7)), possdup=True)
        elif m.type == "8" and m.get(150) == "F":
            fills.setdefault((m.get(11), m.get(17)), set()).add(m.seq)
    sts = []
    for cl in ((want_h,) if isinstance(want_h, str) else want_h or ()):
        st = None
        if logon is not None:
            c.send("H", [(11, cl), (54, 1), (55, "AAPL")], nxt)
            nxt += 1
            while True:
                m = c.recv(3)
                if m is None or (m.type == "8" and m.get(150) == "I"):
                    st = m and m.get(39)
                    break
        sts.append(st)
    c.close()
    return fills, (sts[0] if isinstance(want_h, str) else sts) if want_h else None, logon is not None


def case_sweepcrash(work):
    """(3) an IOC sweeping 200 resting orders with max_events_per_turn 30 and
    max_reports_per_turn 40: the order's turn takes 30 runtime events of each
    side into the order state (their reports go out), the other 170 wait and
    are taken 30 a loop turn (EVQ_DELIVERED records), their reports queued and
    delivered 40 a turn (ERQ_DELIVERED). Killed at each write and sync in turn
    (BRS_FAULT_AFTER_WRITES, every other one torn, fsync batch): after the
    restart either the sweep never happened (no fill anywhere, the resting
    orders open, the order unknown) or every fill is reported to the taker
    and to the maker, each in the store exactly once (one MsgSeqNum, live or
    resent), the rest of both queues taken and delivered after the restart by
    itself, the orders filled; the fills the taker saw before the crash are
    among them under the same ExecIDs (the replay deterministic)."""
    sweep_crash(work, 200, "", max_reports_per_turn=40, max_events_per_turn=30)


def case_sweeplatcrash(work):
    """(3) the same, 80 orders (events 20 a turn), with the sweep made by the
    venue's answer 1 ms after the order's message (order-entry latency): the
    match and its events happen in the loop's own runtime step (a CLOCK
    record), the events wait all the same."""
    sweep_crash(work, 80, " after a 1 ms order-entry latency", max_reports_per_turn=40,
                max_events_per_turn=20, latency={"order_entry_ns": 1000000})


def sweep_crash(work, n, what, **cfg):
    """A sweep of n resting orders killed at each write and sync in turn
    (case_sweepcrash, case_sweeplatcrash); cfg: the server's config beside
    fsync batch and two sessions."""
    template = os.path.join(work, "template")
    os.makedirs(template)
    write_orders_journal(os.path.join(template, "orders.journal"),
                         [(1, order_body("CLIENT2", 2 + k, "s%d" % k, 2, "9.00", 1)) for k in range(n)])
    points = mid = 0
    fault = 0
    while fault < 200:
        fault += 1
        state = os.path.join(work, "state%d" % fault)
        shutil.copytree(template, state)
        srv = new_server(work, name="w%d" % fault, state_dir=state, fsync="batch",
                         sessions=[{"target_comp_id": x} for x in ("CLIENT1", "CLIENT2")], **cfg)
        env = {"BRS_FAULT_AFTER_WRITES": str(fault), "BRS_FAULT_TORN": "1" if fault % 2 else "0"}
        srv.start(extra_env=env)
        seen, died = fault_round(srv, lambda c: c.order("sweep", 1, "9.00", n, tif=3), "F", 17)
        if not died:
            check(len(seen) == n, "no fault: %d of %d fills" % (len(seen), n))
            check("runtime events caught up (max_events_per_turn)" in srv.logtext(),
                  "no fault: the sweep's runtime events did not wait over loop turns")
            break
        points += 1
        mid += 0 < len(seen) < n
        srv.start()  # no fault
        check(srv.port is not None, "fault %d: no restart: %s" % (fault, srv.logtext()[-600:]))
        if srv.port is None:
            continue
        # the taker: Logon 1 and the order 2 were sent; the maker never logged on
        tf, tst, tl = resend_all(srv.port, "CLIENT1", 3, want_h="sweep")
        mf, st, ml = resend_all(srv.port, "CLIENT2", 1, want_h="s0")
        taker_once = all(len(v) == 1 for v in tf.values())
        maker_once = all(len(v) == 1 for v in mf.values())
        tn = len(tf)
        mo = len(set(k[0] for k in mf))
        same = seen <= set(k[1] for k in tf)
        ok = tl and ml and same and (
            (tn == n and len(mf) == n and mo == n and taker_once and maker_once and st == "2" and
             tst == "2") or
            (tn == 0 and not mf and st == "0" and tst == "8"))
        check(ok, "fault %d: after the restart: Logons %s/%s, taker %d fill reports (%s), maker %d "
              "orders with fills (%d under two MsgSeqNums), order s0 status %r, sweep %r; %d fills "
              "seen before the crash%s" % (fault, tl, ml, tn, "each once" if taker_once else "repeated",
                                          mo, sum(1 for v in mf.values() if len(v) > 1), st, tst,
                                          len(seen), "" if same else ", not all under the same ExecIDs"))
        srv.stop()
    print("streamed sweep of %d orders%s: killed at %d write/sync points (odd ones torn), %d of them "
          "with part of the fills already delivered; every restart none or all, each report "
          "stored once" % (n, what, points, mid))
    check(points >= 8 and mid >= 2, "only %d fault points (%d in the middle of the sweep)" %
          (points, mid))


SWEEPER = """-- abuse sweepstratcrash: one IOC buy of N lots at 9.00, DELAY ns after start
local M = {}
M.on_start = function(ctx) ctx:timer(%d) end
M.on_timer = function(ctx) ctx:buy{qty = %d, price = 900, tif = "ioc"} end
return M
"""

SWEEP_DELAY = 1.0  # seconds from the gateway's start to the sweep (the maker has logged on)


def case_sweepstratcrash(work):
    """(3) the streamed sweep made by a hosted strategy: a Lua strategy's
    timer (a STRAT record) sends an IOC buying 120 lots at 9.00 over
    CLIENT2's 120 resting sells; the maker's runtime events wait over loop
    turns (20 a turn) and its reports stream (40 a slice). Killed at each
    write and sync, every restart ends with every fill reported to the maker
    once, its orders filled, the fills seen before the crash under the same
    ExecIDs (the timer's step replayed, or made again live when it was never
    committed)."""
    n = 120
    script = os.path.join(work, "sweeper.lua")
    with open(script, "w") as f:
        f.write(SWEEPER % (int(SWEEP_DELAY * 1e9), n))
    sweep_src_crash(work, n, "made by a hosted strategy's IOC (its timer's step)",
                    strategies=[{"file": script, "name": "sweeper", "hot_reload": False}])


def case_sweepmdcrash(work):
    """(3) the same sweep made by replayed market data: a trade print (buyer
    the aggressor, 120 lots at 9.00) paced 1 s after a first print that
    trades with nothing (market_data speed 1); the sim venue replays it as
    an aggressor, which takes CLIENT2's 120 resting sells in the loop's FEED
    step."""
    n = 120
    ticks = trades_file(work, "sweep", [(0, "5.00", 1, "buy"), (int(SWEEP_DELAY * 1e3), "9.00", n, "buy")])
    if ticks:
        sweep_src_crash(work, n, "made by replayed market data (a FEED step)",
                            market_data={"file": ticks, "speed": 1})


def trades_file(work, name, rows):
    """A .ticks.zst of AAPL trade prints (ms after the first, price, qty,
    aggressor side), through `bourse ticks import --format csv`; None when
    the import fails (a check fails)."""
    import subprocess
    csvp = os.path.join(work, name + ".csv")
    with open(csvp, "w") as f:
        f.write("time,price,qty,side\n")
        for ms, px, qty, side in rows:
            f.write("%d,%s,%d,%s\n" % (1700000000000 + ms, px, qty, side))
    mapping = os.path.join(work, name + ".map.json")
    with open(mapping, "w") as f:
        json.dump({"kind": "trade", "time_unit": "ms", "symbol": "AAPL", "price_scale": 100,
                   "qty_scale": 1, "tick_size": 1, "lot_size": 1,
                   "columns": {"time": "time", "price": "price", "qty": "qty", "side": "side"}}, f)
    ticks = os.path.join(work, name + ".ticks.zst")
    r = subprocess.run([sys.argv[1], "ticks", "import", "--format", "csv", "--mapping", mapping, csvp,
                        "-o", ticks], capture_output=True, text=True)
    return ticks if check(r.returncode == 0, "ticks import: %s %s" % (r.stdout, r.stderr)) else None


def maker_round(srv, n):
    """One run with a fault armed: CLIENT2 (the maker) logs on at 1 and
    collects the ExecIDs of its fill reports until it has n, the gateway
    dies or 15 s pass; then the gateway is killed. Returns (ExecIDs seen,
    whether the fault struck)."""
    seen = set()
    if srv.proc.poll() is None and srv.port:
        try:
            c = Client(srv.port, "CLIENT2")
            c.send("A", [(98, 0), (108, 30)], 1)
            deadline = time.time() + 15
            while len(seen) < n and time.time() < deadline:
                m = c.recv(0.5)
                if m is None:
                    if c.closed or srv.proc.poll() is not None:
                        break
                    continue
                if m.type == "8" and m.get(150) == "F":
                    seen.add(m.get(17))
            c.close()
        except OSError:
            pass
    try:
        srv.proc.wait(1.0)
        died = True
    except Exception:
        died = False
    srv.stop(sig=9)
    return seen, died


def sweep_src_crash(work, n, what, **cfg):
    """A sweep of CLIENT2's n resting sells by something else than a client's
    message (cfg: a strategy or market data, beside fsync batch, 20 events a
    turn and 40 reports a slice), killed at each write and sync in turn. The
    sweep comes SWEEP_DELAY after the start whether or not its step was
    committed (a timer or a paced event not replayed is made live), so every
    restart must end with all n fills reported to the maker, each stored
    once, its orders filled, and the fills it saw before the crash among
    them under the same ExecIDs."""
    template = os.path.join(work, "template")
    os.makedirs(template)
    write_orders_journal(os.path.join(template, "orders.journal"),
                         [(1, order_body("CLIENT2", 2 + k, "s%d" % k, 2, "9.00", 1)) for k in range(n)])
    points = mid = 0
    fault = 0
    while fault < 200:
        fault += 1
        state = os.path.join(work, "state%d" % fault)
        shutil.copytree(template, state)
        srv = new_server(work, name="v%d" % fault, state_dir=state, fsync="batch", max_reports_per_turn=40,
                         max_events_per_turn=20,
                         sessions=[{"target_comp_id": x} for x in ("CLIENT1", "CLIENT2")], **cfg)
        env = {"BRS_FAULT_AFTER_WRITES": str(fault), "BRS_FAULT_TORN": "1" if fault % 2 else "0"}
        srv.start(extra_env=env)
        seen, died = maker_round(srv, n)
        if not died:
            check(len(seen) == n, "no fault: %d of %d fills" % (len(seen), n))
            check("runtime events caught up (max_events_per_turn)" in srv.logtext(),
                  "no fault: the sweep's runtime events did not wait over loop turns")
            break
        points += 1
        mid += 0 < len(seen) < n
        srv.start()  # no fault
        check(srv.port is not None, "fault %d: no restart: %s" % (fault, srv.logtext()[-600:]))
        if srv.port is None:
            continue
        time.sleep(SWEEP_DELAY + 1.0)  # a sweep never committed is made again live by now
        mf, st, ml = resend_all(srv.port, "CLIENT2", 2, want_h=("s0", "s%d" % (n - 1)))
        once = all(len(v) == 1 for v in mf.values())
        mo = len(set(k[0] for k in mf))
        same = seen <= set(k[1] for k in mf)
        ok = ml and same and len(mf) == n and mo == n and once and st == ["2", "2"]
        check(ok, "fault %d: after the restart: Logon %s, maker %d fill reports on %d orders (%d under two "
              "MsgSeqNums), orders s0 and s%d status %r; %d fills seen before the crash%s" %
              (fault, ml, len(mf), mo, sum(1 for v in mf.values() if len(v) > 1), n - 1, st, len(seen),
               "" if same else ", not all under the same ExecIDs"))
        srv.stop()
    print("streamed sweep of %d orders %s: killed at %d write/sync points (odd ones torn), %d of them "
          "with part of the fills already delivered; every restart has every fill reported once, the "
          "same ExecIDs" % (n, what, points, mid))
    check(points >= 8 and mid >= 2, "only %d fault points (%d in the middle of the sweep)" %
          (points, mid))


def case_sweepoom(work):
    """(3) memory runs out where a streamed sweep's queues must keep order
    (BRS_FAULT_QUEUE_NOMEM=1: no queue chunk can be allocated): taken at once,
    an event or report would pass the ones queued before it and a replay,
    which has the memory, would queue it. So nothing of the turn is
    committed: the gateway says why, logs every session out and stops, the
    taker sees no fill. Restarted without the fault, the sweep never
    happened: the resting orders open, the order unknown, no fill stored;
    sent again, every resting order fills."""
    n = 200
    state = os.path.join(work, "state")
    os.makedirs(state)
    write_orders_journal(os.path.join(state, "orders.journal"),
                         [(1, order_body("CLIENT2", 2 + k, "s%d" % k, 2, "9.00", 1)) for k in range(n)])
    srv = new_server(work, state_dir=state, fsync="batch", max_reports_per_turn=40, max_events_per_turn=30,
                     sessions=[{"target_comp_id": x} for x in ("CLIENT1", "CLIENT2")])
    srv.start(extra_env={"BRS_FAULT_QUEUE_NOMEM": "1"})
    seen, died = fault_round(srv, lambda c: c.order("sweep", 1, "9.00", n, tif=3), "F", 17)
    log = srv.logtext()
    check(died and not seen, "memory out in the sweep's queues: the gateway %s, the taker saw %d fills" %
          ("stopped" if died else "kept running", len(seen)))
    check("out of memory where a queue must keep order" in log and 'queue="runtime events"' in log and
          "state cannot be made durable" in log,
          "no log line naming the queue and the stop: " + log[-1200:])
    srv.start()
    check(srv.port is not None, "no restart: " + srv.logtext()[-600:])
    tf, tst, tl = resend_all(srv.port, "CLIENT1", 3, want_h="sweep")
    mf, st, ml = resend_all(srv.port, "CLIENT2", 1, want_h="s0")
    check(tl and ml and not tf and not mf and st == "0" and tst == "8",
          "after the restart: Logons %s/%s, taker %d fill reports, maker %d, order s0 status %r, "
          "sweep %r (the sweep must not have happened)" % (tl, ml, len(tf), len(mf), st, tst))
    c = Session(srv.port, "CLIENT1", reset=True)
    c.order("sweep2", 1, "9.00", n, tif=3)
    fills = 0
    while fills < n:
        m = c.recv(5)
        if m is None:
            break
        fills += m.type == "8" and m.get(150) == "F"
    check(fills == n, "the sweep sent again after the restart: %d of %d fills" % (fills, n))
    c.close()
    srv.stop()
    print("sweep of %d orders with no memory for its queues: nothing committed, %d fills seen, gateway "
          "stopped naming the queue; after the restart none happened, sent again all %d filled" %
          (n, len(seen), fills))


def case_eodcrash(work):
    """The end of day's expiry in one slice (max_cancels_per_turn 1024)."""
    eod_crash(work, 40)


def case_eodstepcrash(work):
    """(3, 9) the same end of day in steps: the DAY orders expire 4 a loop
    turn (8 journaled slices), then the old day's orders leave memory over
    loop turns, then the compaction; killed at each write and sync of all of
    it (about 40 points), a restart in the middle goes on with the steps
    where the journal says the killed one was, and ends as consistent."""
    eod_crash(work, 90, max_cancels_per_turn=4, max_forget_per_turn=1024)


def case_eodlatcrash(work):
    """(3, 9) the same with the old day's orders still on their way to the
    venue when the end of day begins and its slices pass them (a 0.8 s
    order-entry and cancel latency; the journal's runtime clock set just
    before each start): they expire all the same, once each, when the venue
    has them (before 2026-12-07 14:00 they rested into the new day: the IOC
    filled 2n). Their acknowledgement came in the new day, so they are kept,
    expired (OrdStatus C). Faults in the loop only (the compaction's child is
    eodstepcrash's)."""
    eod_crash(work, 90, lat_ns=800000000, max_cancels_per_turn=4, max_forget_per_turn=1024)


def case_eodwirecrash(work):
    """(3, 9) eodlatcrash's end of day with CLIENT2's GTC sell of n lots at
    9.00 resting at the venue when the old day's DAY buys at 9.00 (and the GTC
    buys behind each) still on the wire reach it: a DAY order whose day ended
    on its way expires there on arrival without matching (END_OF_DAY mode 7,
    EOD_STEPS_V3), so the GTC buys fill the sell and no DAY buy does, whether
    the slices pass them before they arrive or not, across kill -9 at each
    write and sync and the restart. Before 2026-12-07 17:00 each DAY buy
    arriving ahead of its GTC twin bought the sell in the new day."""
    eod_crash(work, 90, lat_ns=800000000, cross=True, max_cancels_per_turn=4, max_forget_per_turn=1024)


EOD_STRAT = """-- abuse eodstrat: a resting buy at 5.00; its fill answered by an IOC buy at 9.50
local M = {}
local answered = false
M.on_start = function(ctx) ctx:buy{qty = 1, price = 500, tif = "gtc"} end
M.on_fill = function(ctx, ev)
  if not answered and ev.price == 500 then
    answered = true
    ctx:buy{qty = 1, price = 950, tif = "ioc"}
  end
end
return M
"""


EOD_STRAT_REPLACE = """-- abuse eodstratrep: resting buys at 5.00 and 1.00; the fill of the first
-- answered by a replace of the second to 9.50
local M = {}
local low, answered = nil, false
M.on_start = function(ctx)
  ctx:buy{qty = 1, price = 500, tif = "gtc"}
  low = ctx:buy{qty = 1, price = 100, tif = "gtc"}
end
M.on_fill = function(ctx, ev)
  if not answered and ev.price == 500 then
    answered = true
    ctx:replace(low, 950, 1)
  end
end
return M
"""


def stored_reports(port, comp):
    """Logs comp on at 1 (no reset), asks for everything stored (ResendRequest
    1..0) and reads until quiet: {(ClOrdID, ExecType): count}."""
    c = Client(port, comp)
    c.send("A", [(98, 0), (108, 30)], 1)
    c.send("2", [(7, 1), (16, 0)], 2)
    seen = {}
    while True:
        m = c.recv(2.0)
        if m is None:
            break
        if m.type == "8":
            k = (m.get(11), m.get(150))
            seen[k] = seen.get(k, 0) + 1
    c.close()
    return seen


def case_eodstratrep(work):
    """(9) eodstrat with the strategy's answer a replace of its resting buy
    at 1.00 to 9.50 (not a new order): it expires yesterday's DAY sell "ds"
    first all the same (END_OF_DAY mode 7: the runtime's replace hook) and
    fills the GTC sell "gs" behind it, live and after kill -9 and the
    restart. Before 2026-12-07 17:00 the replace bought "ds"."""
    case_eodstrat(work, EOD_STRAT_REPLACE)


def case_eodstrat(work, strategy=EOD_STRAT):
    """(9) a hosted strategy's order sent while the expiry slices run, in
    answer to its own fill (no timer: those wait; no client message of its
    own), meets no DAY order of the old day: yesterday's DAY buys at 1.00
    expire one a loop turn; CLIENT2's IOC sell at 5.00 fills the strategy's
    resting buy, which answers with an IOC buy at 9.50: yesterday's DAY sell
    "ds" at 9.50 expires first, the IOC fills the GTC sell "gs" behind it.
    Then kill -9 while the slices still run and a restart (the replay reruns
    the strategy's steps, the slices go on):
    CLIENT1's store holds gs's fill and ds's expiry, no fill of ds, and the
    book has nothing left at 9.50. Before 2026-12-07 14:00 the IOC filled ds
    (and a buy at 9.50 after the restart filled gs)."""
    with open(sys.argv[1], "rb") as f:
        san = b"libasan" in f.read()
    n = 30000 if san else 100000
    state = os.path.join(work, "state")
    os.makedirs(state)
    bodies = [order_body("CLIENT1", 2 + k, "b%d" % k, 1, "1.00", 1, tif=0) for k in range(n)]
    bodies += [order_body("CLIENT1", 2 + n, "ds", 2, "9.50", 1, tif=0),
               order_body("CLIENT1", 3 + n, "gs", 2, "9.50", 1, tif=1)]
    day_end = yesterday_journal(os.path.join(state, "orders.journal"), bodies)
    script = os.path.join(work, "answer.lua")
    with open(script, "w") as f:
        f.write(strategy)
    srv = new_server(work, state_dir=state, day_end=day_end, max_cancels_per_turn=1, max_orders=1 << 20,
                     sessions=[{"target_comp_id": x} for x in ("CLIENT1", "CLIENT2")],
                     strategies=[{"file": script, "name": "answer", "hot_reload": False}])
    srv.start()
    c2 = Session(srv.port, "CLIENT2")
    c2.order("hit", 2, "5.00", 1, tif=3)
    m = c2.recv(5)
    while m is not None and not (m.type == "8" and m.get(150) in ("F", "4")):
        m = c2.recv(5)
    filled = m is not None and m.get(150) == "F"
    srv.stop(sig=9)  # in the middle of the expiry: the restart replays the strategy's answer
    log = srv.logtext()
    during = "end of day: DAY orders expire and closed" in log and "end of day: DAY orders expired" not in log
    c2.close()
    srv.start()
    t = time.time()
    while "end of day: DAY orders expired" not in srv.logtext() and time.time() - t < 60:
        time.sleep(0.1)
    seen = stored_reports(srv.port, "CLIENT1")
    c2 = Session(srv.port, "CLIENT2")
    c2.order("probe", 1, "9.50", 1, tif=3)
    m = c2.recv(5)
    while m is not None and not (m.type == "8" and m.get(150) in ("F", "4")):
        m = c2.recv(5)
    probe = m and m.get(150)
    c2.close()
    srv.stop()
    got = {k: v for k, v in seen.items() if k[0] in ("ds", "gs")}
    print("end of day of %d DAY buys, 1 a loop turn; CLIENT2's IOC filled the strategy's buy %s (while the "
          "slices ran, killed then: %s); after kill -9 and restart CLIENT1's stored reports of ds and gs %r, a buy at 9.50 "
          "%s" % (n, filled, during, sorted(got.items()), "filled" if probe == "F" else "met nothing"))
    check(filled and during, "CLIENT2's IOC did not fill the strategy's buy, or the slices were over at "
          "the kill: the case tests nothing")
    check(got.get(("gs", "F")) == 1 and not got.get(("ds", "F")) and got.get(("ds", "C")) == 1,
          "the strategy's IOC met yesterday's DAY sell, or the reports are not once each: %r" % got)
    check(probe == "4", "after the restart the book still held %s at 9.50" % probe)


def yesterday_journal(path, bodies):
    """An order journal of yesterday: the day's boundary mark at yesterday's
    (2 min before today's day_end, returned as HH:MM:SS), then CLIENT1's
    messages, committed."""
    import struct
    from fixclient import fixmsg
    now = time.time()
    today = int(now - 120) * 10 ** 9
    with open(path, "wb") as f:
        f.write(struct.pack("<IIqB", 0x7ffffffe, 9, today - 86400 * 10 ** 9, 1))
        for body in bodies:
            m = fixmsg(body)
            f.write(struct.pack("<II", 0, len(m)) + m)
        f.write(struct.pack("<IIQ", 0x7ffffffd, 8, 1))
    return time.strftime("%H:%M:%S", time.gmtime(now - 120))


def log_ms(log, line):
    """Epoch ms of the first log line holding `line` (None: none)."""
    import calendar
    m = re.search(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d+)Z[^\n]*" + re.escape(line), log, re.M)
    if not m:
        return None
    y, mo, d, h, mi, se, frac = m.groups()
    return calendar.timegm((int(y), int(mo), int(d), int(h), int(mi), int(se))) * 1000 + int(frac[:3])


def fix_ms(v):
    """Epoch ms of a FIX UTCTimestamp (YYYYMMDD-HH:MM:SS.sss)."""
    import calendar
    t = calendar.timegm(time.strptime(v[:17], "%Y%m%d-%H:%M:%S"))
    return t * 1000 + (int(v[18:21]) if len(v) > 18 else 0)


def case_eodholdlat(work):
    """(9) eodhold with a venue cancel latency of 0.3 s: the last slices'
    expiries are still on the wire when the slices end; the market data
    replay waits until the last of them has reached the venue (END_OF_DAY
    mode 7), so no print meets an old DAY order meanwhile. Before 2026-12-07
    17:00 it went on at the last slice and the prints of those 0.3 s filled
    old DAY orders whose expiry was on its way."""
    case_eodhold(work, cancel_ns=300000000)


def case_eodhold(work, cancel_ns=0):
    """(9) no DAY order of yesterday trades today: 100,000 DAY buys of
    yesterday at 9.00 meet today's day_end at start and expire one a loop
    turn (max_cancels_per_turn 1: for thousands of turns), while the market
    data replays a trade print every 5 ms for 3 s (a seller the aggressor,
    1 lot at 9.00). The replay waits while the old day's DAY orders may rest
    (brs__fix_gateway_eod_holds): a fill of CLIENT1's is one of yesterday
    (its TransactTime before the end of day began), every other order
    expires, and the expiry ran while prints were due (else the case tests
    nothing). Before, the prints of the expiry's turns filled old orders.
    Under the sanitizers (make check) 30,000 orders and prints for 20 s: the
    replay before the end of day takes several times as long."""
    with open(sys.argv[1], "rb") as f:
        san = b"libasan" in f.read()
    n, window = (30000, 20000) if san else (100000, 3000)
    state = os.path.join(work, "state")
    os.makedirs(state)
    day_end = yesterday_journal(os.path.join(state, "orders.journal"),
                                [order_body("CLIENT1", 2 + k, "d%d" % k, 1, "9.00", 1, tif=0) for k in range(n)])
    ticks = trades_file(work, "prints", [(0, "5.00", 1, "buy")] +
                        [(5 * k, "9.00", 1, "sell") for k in range(1, window // 5)])
    if not ticks:
        return
    extra = {"latency": {"cancel_ns": cancel_ns}} if cancel_ns else {}
    srv = new_server(work, state_dir=state, day_end=day_end, max_cancels_per_turn=1, max_orders=1 << 20,
                     market_data={"file": ticks, "speed": 1}, **extra)
    srv.start()
    t = time.time()
    while "market data replay ended" not in srv.logtext() and time.time() - t < 240:
        time.sleep(0.2)
    log = srv.logtext()
    origin = log_ms(log, "runtime: market data replay file=")
    begin = log_ms(log, "end of day: DAY orders expire and closed orders leave memory")
    end = log_ms(log, "end of day: DAY orders expired")
    m = re.search(r"end of day: DAY orders expired expired=(\d+) loop_turns=(\d+)", log)
    # CLIENT1's reports, all of them (Logon 1 without reset, ResendRequest 1..0)
    c = Client(srv.port, "CLIENT1")
    c.send("A", [(98, 0), (108, 30)], 1)
    c.send("2", [(7, 1), (16, 0)], 2)
    fills, expired = [], 0
    while True:
        r = c.recv(3.0)
        if r is None:
            break
        if r.type == "8" and r.get(150) == "F":
            fills.append(fix_ms(r.get(60)))
        expired += r.type == "8" and r.get(150) == "C"
    c.close()
    late = [f for f in fills if begin is None or f > begin]
    print("end of day of %d DAY orders, 1 a loop turn: expiry from %s to %s ms after the feed's start "
          "(prints due every 5 ms up to %d); %d fills (%d after the end of day began), %d expired; %s" %
          (n, begin and begin - origin, end and end - origin, window, len(fills), len(late), expired,
           m and m.group(0)))
    check(origin and begin and end and end - begin >= 20 and begin - origin < window - 100,
          "the expiry did not run while prints were due: the case tests nothing")
    check(not late, "%d of the old day's DAY orders traded after the end of day began" % len(late))
    check(expired + len(fills) == n and m is not None and int(m.group(1)) == expired,
          "%d expired and %d filled of %d (%r)" % (expired, len(fills), n, m and m.group(0)))
    srv.stop()


def eod_crash(work, max_points, lat_ns=0, cross=False, **cfg):
    """(9) the end of day's compaction through the forked child, killed at
    each write and sync in turn (BRS_FAULT_AFTER_WRITES, every other one
    torn, fsync batch): the expiry reports and the end-of-day record in the
    loop, the snapshot in the child (a fault there kills the child: the loop
    logs the failure and is then killed too), the tail copy, link, rename and
    directory sync in the loop. A journal of yesterday (a boundary mark, then
    n DAY orders, n GTC orders open, n GTC orders cancelled, all at 9.00)
    meets today's day_end at start. After each restart (and its own end of
    day where the killed one had not committed it): the GTC orders open, the
    DAY orders gone (unknown to status requests, and not in the book: an IOC
    selling 3n at 9.00 fills exactly n), each DAY order's expiry report in the
    store exactly once, the cancelled orders' ClOrdIDs free again (a new
    day), no temporary left. cross (with lat_ns): CLIENT2's GTC sell of n
    lots at 9.00 rests before the orders go out: the GTC buys fill it, no
    DAY buy fills (each expires on arrival), the IOC then fills nothing."""
    import struct
    n = 30
    now = time.time()
    day_end = time.strftime("%H:%M:%S", time.gmtime(now - 120))  # passed 2 min ago today
    today = int(now - 120) * 10 ** 9
    yesterday = today - 86400 * 10 ** 9
    template = os.path.join(work, "template")
    os.makedirs(template)
    from fixclient import fixmsg
    if lat_ns:
        cfg["latency"] = {"order_entry_ns": lat_ns, "cancel_ns": lat_ns}
    clock_at = None  # (lat_ns) where the runtime clock of the DAY and GTC orders is, set at each start
    with open(os.path.join(template, "orders.journal"), "wb") as f:
        f.write(struct.pack("<IIqB", 0x7ffffffe, 9, yesterday, 1))  # the day began at yesterday's
        seq = 2

        def put(body):
            m = fixmsg(body)
            f.write(struct.pack("<II", 0, len(m)) + m)

        def cancel(k, seq):
            return ("35=F\x0134=%d\x0149=CLIENT1\x0152=20261206-10:00:00.000\x0156=EXEC\x01"
                    "11=kc%d\x0141=k%d\x0154=1\x0155=AAPL\x0160=20261206-10:00:00\x01" % (seq, k, k))

        if lat_ns:  # the cancelled orders first, acknowledged (CLOCK) before their cancels
            for k in range(n):
                put(order_body("CLIENT1", seq, "k%d" % k, 1, "9.00", 1))
                seq += 1
            # and n DAY buys at 1.00 resting (acknowledged): the slices' work (the
            # orders on the wire expire where they arrive under END_OF_DAY mode 7)
            for k in range(n):
                put(order_body("CLIENT1", seq, "r%d" % k, 1, "1.00", 1, tif=0))
                seq += 1
            f.write(struct.pack("<IIq", 0x7fffffe1, 8, 2 * lat_ns))
            for k in range(n):
                put(cancel(k, seq))
                seq += 1
            f.write(struct.pack("<IIq", 0x7fffffe1, 8, 4 * lat_ns))
            if cross:  # CLIENT2's (session 1) sell, resting before the buys go out
                m = fixmsg(order_body("CLIENT2", 2, "xs", 2, "9.00", n))
                f.write(struct.pack("<II", 1, len(m)) + m)
            clock_at = f.tell() + 8
            f.write(struct.pack("<IIq", 0x7fffffe1, 8, 5 * lat_ns))
        for k in range(n):
            put(order_body("CLIENT1", seq, "d%d" % k, 1, "9.00", 1, tif=0))
            put(order_body("CLIENT1", seq + 1, "g%d" % k, 1, "9.00", 1))
            seq += 2
            if not lat_ns:
                put(order_body("CLIENT1", seq, "k%d" % k, 1, "9.00", 1))
                put(cancel(k, seq + 1))
                seq += 2
        f.write(struct.pack("<IIQ", 0x7ffffffd, 8, 1))
    points = in_child = in_loop = 0
    # two passes: faults in the loop only (the child never dies of one, so
    # the loop's steps after it are reached), then in the child as well
    # (BRS_FAULT_IN_CHILD: it counts on from the loop's steps at the fork)
    # (lat_ns: the loop's pass only; the child's writes are eodstepcrash's, and
    # with the orders' latency before the fork its faults land in the loop)
    runs = [(c, f) for c in ((0,) if lat_ns else (0, 1)) for f in range(1, max_points)]
    goes_on = {"expiry": 0, "forget": 0}
    finished = set()
    for in_ch, fault in runs:
        if in_ch in finished:
            continue
        state = os.path.join(work, "state%d_%d" % (in_ch, fault))
        shutil.copytree(template, state)
        sent = time.time()
        if lat_ns:  # the orders go out now: on their way when the end of day begins
            with open(os.path.join(state, "orders.journal"), "r+b") as f:
                f.seek(clock_at)
                f.write(struct.pack("<q", int(sent * 1e9)))
        srv = new_server(work, name="e%d_%d" % (in_ch, fault), state_dir=state, fsync="batch",
                         day_end=day_end, **cfg)
        env = {"BRS_FAULT_AFTER_WRITES": str(fault), "BRS_FAULT_TORN": "1" if fault % 2 else "0",
               "BRS_FAULT_IN_CHILD": str(in_ch)}
        srv.start(extra_env=env)
        t = time.time()
        while (srv.proc.poll() is None and "journal checkpoint" not in srv.logtext() and
               time.time() - t < 10):
            time.sleep(0.02)
        time.sleep(0.1)
        log = srv.logtext()
        died = srv.proc.poll() is not None
        child = "journal checkpoint failed" in log
        done = "journal checkpoint: the journal is a snapshot" in log
        srv.stop(sig=9)
        if not died and not child:
            check(done, "fault %d: no end of day: %s" % (fault, log[-600:]))
            expired_at = log_ms(log, "end of day: DAY orders expired")
            check(not lat_ns or (expired_at and expired_at < (sent + lat_ns / 1e9) * 1000),
                  "the slices passed the orders after the venue had them: the case tests nothing")
            finished.add(in_ch)
            continue
        points += 1
        in_child += child
        in_loop += died
        srv.start()  # no fault
        check(srv.port is not None, "fault %d: no restart: %s" % (fault, srv.logtext()[-600:]))
        if srv.port is None:
            continue
        t = time.time()  # its own end of day, or the rest of the killed one's steps
        while ("journal checkpoint: the journal is a snapshot" not in srv.logtext() and
               "closed orders of the old day left memory" not in srv.logtext() and time.time() - t < 3):
            time.sleep(0.05)
        for phase in goes_on:
            goes_on[phase] += "an end of day in steps goes on phase=" + phase in srv.logtext()
        if lat_ns:  # the venue has the orders and their expiries
            time.sleep(max(0.0, sent + 2 * lat_ns / 1e9 + 0.5 - time.time()))
        # the store as the gateway holds it: Logon 1 (no reset), everything resent
        c = Client(srv.port, "CLIENT1")
        c.send("A", [(98, 0), (108, 30)], 1)
        expired, logon, nxt, asked = {}, None, 2, False
        fills = set()
        deadline = time.time() + 20
        while time.time() < deadline:
            m = c.recv(1.0)
            if m is None:
                if logon is None or asked:
                    break
                c.send("2", [(7, 1), (16, 0)], nxt)
                nxt += 1
                asked = True
                continue
            if m.type == "A":
                logon = m
            elif m.type == "8" and m.get(150) == "C":
                expired.setdefault(m.get(11), set()).add(m.seq)
            elif m.type == "8" and m.get(150) == "F":
                fills.add(m.get(11))
        bad = []
        if len(expired) != (2 * n if lat_ns else n) or any(len(v) != 1 for v in expired.values()):
            bad.append(("expiry reports", len(expired), sum(1 for v in expired.values() if len(v) > 1)))
        day_fills = sorted(f for f in fills if f.startswith("d"))
        if day_fills:
            bad.append(("DAY buys of the old day filled in the new day", day_fills[:5], len(day_fills)))
        if cross and any("g%d" % k not in fills for k in range(n)):
            bad.append(("GTC buys not filled", sum("g%d" % k not in fills for k in range(n))))
        for k in range(n):  # (cross: the GTC buys filled, closed: after the compaction unknown)
            for cl, want in ((("g%d" % k, "0"),) if not cross else ()) + (("d%d" % k, None),) + (
                    (("r%d" % k, None),) if lat_ns else ()):
                c.send("H", [(11, cl), (54, 1), (55, "AAPL")], nxt)
                nxt += 1
                m = c.recv(5)
                while m is not None and not (m.type == "8" and m.get(150) == "I"):
                    m = c.recv(5)
                if want is not None and (m is None or m.get(39) != want):
                    bad.append(("open " + cl, m))
                if want is None and (m is None or m.get(39) != "8" or m.get(103) != "5") and not (
                        lat_ns and m is not None and m.get(39) == "C"):
                    bad.append(("gone " + cl, m))
        c.send("D", [(11, "k0"), (21, 1), (38, 1), (40, 2), (44, "1.00"), (54, 1), (55, "AAPL"),
                     (59, 1), (60, "20261206-10:00:00")], nxt)
        nxt += 1
        m = c.recv(5)
        while m is not None and m.type != "8":
            m = c.recv(5)
        if m is None or m.get(150) != "0":
            bad.append(("k0 reused on a new day", m))
        c2 = Session(srv.port, "CLIENT2")
        c2.order("sell", 2, "9.00", 3 * n, tif=3)
        filled, m = 0, c2.recv(5)
        while m is not None:
            if m.type == "8" and m.get(150) == "F":
                filled += int(m.get(32))
            if m.type == "8" and m.get(150) == "4":
                break
            m = c2.recv(5)
        if filled != (0 if cross else n):
            bad.append(("the book holds %d at 9.00, not the %d GTC orders" % (filled, 0 if cross else n), None))
        check(logon is not None and not bad, "fault %d: after the restart: %r" % (fault, bad[:3]))
        left = [f for f in os.listdir(state) if f.endswith(".compact")]
        check(not left, "fault %d: temporaries left: %r" % (fault, left))
        c.close()
        c2.close()
        srv.stop()
    print("end of day with %d DAY, %d GTC open, %d cancelled orders (%r): killed at %d write/sync points "
          "(odd ones torn): %d in the snapshot's child, %d in the loop; restarts in the middle of its "
          "steps: %r; every restart consistent" % (n, n, n, cfg, points, in_child, in_loop, goes_on))
    if cfg:
        check(goes_on["expiry"] >= 5 and goes_on["forget"] >= 1,
              "too few restarts in the middle of the steps: %r" % goes_on)
    check(points >= 6 and (in_child >= 2 or lat_ns) and in_loop >= 2,
          "only %d fault points (%d in the child, %d in the loop)" % (points, in_child, in_loop))
