"""abuse_test.py: the load-and-abuse suite of issue 15 against a real `bourse
serve` (loopback, port 0, its own temp dir), one case per CTest, each bounded
in count and time. Where the point is "the venue is not stalled", a probe
session (CLIENT2) measures its round trip (an IOC that cannot trade: New and
Canceled back) before and during the abuse in the same run: the median
within a ratio of the baseline's, and (where the abuse runs long) the worst
round trip of the whole abuse within a ratio of the baseline's worst, so one
loop turn holding every session for seconds fails; the figures are printed.

cases (issue 15 point):
  halfclose     (1, 4) a half-closed partial Logon is closed at once; 2,000 of
                them leave the loop idle and the probe fine; 1,500 orders and a
                Logout then a FIN at max_msgs_per_sec 1000 are all answered
  emfile        (1) at the descriptor limit the listener rests (no spin) and
                serves a Logon once descriptors are free
  mdflood       (2, 5) MD subscriptions over the caps and a 600-symbol request
                are refused with 281=2 (not dropped as garbled), probe fine
  masscancel    (3) a mass cancel of 200,000 orders streams to a reading client
                (max_output_bytes 64 KB) without a disconnect; the probe runs
                for the whole flood, its worst round trip against its own
                baseline (no loop turn holds the others)
  ckptflood     (3, 9) a checkpoint ending in the middle of a mass cancel: its
                150,000+ closed orders leave memory in bounded steps; the
                probe's worst round trip against its own baseline
  sweep         (3, 6) one 40,000-lot order sweeping 40,000 resting orders:
                every fill reported to taker and maker, no disconnect, and the
                40,000 trades reach a market data subscriber (split X); the
                reports stream (max_reports_per_turn): the probe's worst
                round trip against its own baseline
  sweeplat      (3) the same (20,000 orders) made by the venue's answer a
                latency after the order's message: the events wait too
  oversize      (6) 16 KB ClOrdID, 20 KB Symbol, 20 KB TestReqID: a Reject
                naming the tag each, sequence intact
  limits        (8, 10, 11) AvgPx of the largest trade, HeartBtInt=0 refused
                without locking the session, a level overflow Rejected
  preflood      (9) 2,000 pre-Logon sockets: small buffers, RSS back after
  storereset    (9) 50 Logon/Logout cycles with ResetSeqNumFlag=Y: the store
                does not grow, history goes to the archive
  checkpoint    (9) 20,000 orders cancelled: after a checkpoint the restart
                holds no order and still refuses their ClOrdIDs
  crashpoints   (9) a checkpoint and a store compaction killed at each of their
                writes and syncs: every restart is consistent
  queuefull     a full runtime queue refuses order actions (380=4) and
                recovers; the refused ones are not journaled
  mccrash       (3) a streamed mass cancel killed at each of its writes and
                syncs: all or none of the orders cancelled after the restart,
                each report stored once
  eodcrash      (9) the end of day's compaction (a forked child writes the
                snapshot) killed at each write and sync: every restart has the
                GTC orders open, the DAY orders gone, each expiry stored once
  eodlatcrash   (9) the end of day in steps killed at each write and sync
                while the old day's orders are still on their way to the
                venue (0.8 s latency): each expires once, the book holds the
                GTC orders only
  eodwirecrash  (9) the same with a GTC sell resting where the old day's DAY
                buys on the wire arrive: they expire there, never matching
  eodstrat      (9) a hosted strategy's IOC sent in answer to its own fill
                while the slices run expires yesterday's DAY sell it would
                meet first, live and after kill -9 and a restart
  eodstratrep   (9) the same with the strategy's answer a replace of its
                resting buy to the crossing price
  sweepcrash    (3) a sweep whose runtime events and reports stream over loop
                turns killed at each write and sync: no fill or every fill
                reported to both sides after the restart, each report stored
                once, the same ExecIDs
  sweeplatcrash (3) the same with the sweep made after an order-entry latency
  sweepstratcrash (3) a sweep of a session's resting orders made by a hosted
                strategy's IOC (its timer's step): every restart has every
                fill reported to the maker once, under the same ExecIDs
  sweepmdcrash  (3) the same made by replayed market data (a trade print)
  eodhold       (9) yesterday's DAY orders expiring over loop turns while
                market data prints trade at their price: none of them trades
  eodholdlat    (9) the same with a cancel latency: the prints wait until the
                last expiry has reached the venue

usage: abuse_test.py BOURSE CASE"""
import os
import re
import resource
import shutil
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from abuse_common import *  # noqa: E402,F401,F403 (the shared helpers and ERRS, SERVERS)
import abuse_crash  # noqa: E402


# ---- cases ------------------------------------------------------------------

def case_halfclose(work):
    raise_nofile()
    srv = new_server(work, max_msgs_per_sec=1000, logon_timeout_ms=20000).start()
    pid = srv.proc.pid
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
    check(got == b"" and time.time() - t < 3,
          "half-closed partial Logon: not closed at once (%r after %.1f s)" % (got, time.time() - t))
    half.close()
    # 2,000 of them while a probe trades (the probe runs at max_msgs_per_sec 1000 too)
    probe = Probe(srv.port)
    base = probe.median(40)
    socks = []
    t0 = time.time()
    for _ in range(2000):
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.sendall(logon[:30])
        s.shutdown(socket.SHUT_WR)
        socks.append(s)
    c0 = cpu_s(pid)
    during = probe.median(40)
    time.sleep(0.5)
    busy = cpu_s(pid) - c0
    closed = 0
    for s in socks:
        s.settimeout(max(0.1, 10 - (time.time() - t0)))
        try:
            closed += s.recv(10) == b""
        except (socket.timeout, OSError):
            pass
        s.close()
    print("2,000 half-closed partial Logons: %d closed by the gateway within %.1f s; gateway CPU "
          "%.2f s during the probe's 40 round trips + 0.5 s" % (closed, time.time() - t0, busy))
    check(closed == 2000, "only %d of 2,000 half-closed partial Logons closed" % closed)
    not_stalled("2,000 half-closed partial Logons", base, during, probe)
    probe.s.close()
    # (4) 1,500 orders and a Logout, then FIN, at 1,000 messages a second
    c = Client(srv.port, "CLIENT1")
    c.send("A", [(98, 0), (108, 30)], 1)
    check(c.recv(5) is not None, "no Logon answer")
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
    check(len(acks) == 1500, "after a half-close under the rate limit: %d of 1500 orders answered" %
          len(acks))
    check(logout is not None, "the Logout after the orders was not answered")
    check(busy <= 0.35, "gateway used %.2f s of CPU in 0.5 s while a half-closed client was paused"
          % busy)
    print("half-close under the rate limit: %d orders answered, Logout %s; gateway CPU %.2f s "
          "in 0.5 s while paused" % (len(acks), "answered" if logout else "lost", busy))
    check("key=max_msgs_per_sec" in srv.logtext(), "no log line when max_msgs_per_sec bit")
    c.close()
    srv.stop()


def case_emfile(work):
    srv = new_server(work, logon_timeout_ms=1000)

    def low():
        resource.setrlimit(resource.RLIMIT_NOFILE, (48, 48))
    import subprocess
    real = subprocess.Popen

    def popen(*a, **k):
        k["preexec_fn"] = low
        return real(*a, **k)
    subprocess.Popen = popen
    try:
        srv.start()
    finally:
        subprocess.Popen = real
    pid = srv.proc.pid
    idle = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(90)]
    time.sleep(0.5)
    c0 = cpu_s(pid)
    time.sleep(1.0)
    busy = cpu_s(pid) - c0
    check(busy < 0.3, "at EMFILE the gateway used %.2f s of CPU in 1 s" % busy)
    check("listener paused" in srv.logtext(), "no log line when accept fails with EMFILE")
    for s in idle:
        s.close()
    t = time.time()
    c = Session(srv.port, "CLIENT1")
    took = time.time() - t
    check(c.logon_answer is not None and c.logon_answer.type == "A",
          "after EMFILE a Logon was not answered")
    print("EMFILE (RLIMIT_NOFILE 48, 90 idle sockets): gateway CPU %.2f s in 1 s; a Logon after "
          "the sockets closed answered in %.2f s" % (busy, took))
    c.close()
    srv.stop()


def md_request(s, reqid, symbols, typ=1):
    f = [(262, reqid), (263, typ), (264, 1), (265, 1), (267, 2), (269, 0), (269, 1),
         (146, len(symbols))] + [(55, x) for x in symbols]
    s.send("V", f, s.seq)
    s.seq += 1


def case_mdflood(work):
    srv = new_server(work).start()
    probe = Probe(srv.port)
    base = probe.median(40)
    c = Session(srv.port, "CLIENT1")
    md_request(c, "big", ["AAPL"] * 600)  # 600 symbols: answered, never taken as garbled
    m = c.recv(5)
    check(m is not None and m.type == "Y" and m.get(281) == "2" and
          "max_md_symbols_per_request" in (m.get(58) or ""),
          "600-symbol MarketDataRequest: %r" % m)
    md_request(c, "r65", ["AAPL"] * 65)
    m = c.recv(5)
    check(m is not None and m.type == "Y" and m.get(281) == "2", "65 symbols: %r" % m)
    for k in range(64):
        md_request(c, "s%d" % k, ["AAPL"])
        m = c.recv(5)
        check(m is not None and m.type == "W", "subscription %d: %r" % (k, m))
    md_request(c, "s64", ["AAPL"])
    m = c.recv(5)
    check(m is not None and m.type == "Y" and m.get(281) == "2" and
          "max_md_subscriptions_per_session" in (m.get(58) or ""), "65th subscription: %r" % m)
    # the sequence went on: an order is answered, no ResendRequest
    c.order("after", 1, "5.00", 1)
    m = c.recv(5)
    check(m is not None and m.type == "8" and m.get(11) == "after", "order after the flood: %r" % m)
    # 64 live subscriptions fan out every book change; the flooder reads them
    stop = []

    def drain():
        while not stop:
            c.recv(0.2)
            c.buf = b""
    th = threading.Thread(target=drain)
    th.start()
    during = probe.median(40)
    stop.append(1)
    th.join()
    check("market data request refused" in srv.logtext(), "no log line for the refusals")
    not_stalled("64 subscriptions + refused flood", base, during, probe)
    c.close()
    probe.s.close()
    srv.stop()


def case_masscancel(work):
    # ABUSE_MC_N: another size for a measurement by hand (2,000,000: issue 15)
    n = int(os.environ.get("ABUSE_MC_N", "200000"))
    state = preload(work, ((0, order_body("CLIENT1", 2 + k, "o%d" % k, 1,
                                          "%d.%02d" % divmod(9000 - k % 400, 100), 1))
                           for k in range(n)))
    srv = new_server(work, state_dir=state, max_output_bytes=65536, max_orders=max(1 << 20, 2 * n),
                     max_cancels_per_turn=int(os.environ.get("ABUSE_MC_PER_TURN", "1024"))).start()
    probe = Probe(srv.port)
    base = probe.median(40)
    c = Session(srv.port, "CLIENT1", rcvbuf=1 << 16)
    c.send("q", [(11, "mc"), (530, 7), (60, "20261206-10:00:00")], c.seq)
    c.seq += 1
    # the reader is another process, so the probe's timing is the gateway's,
    # not this interpreter's lock
    pats = [b"\x0135=r\x01", b"\x01150=4\x01", b"\x0135=5\x01"]
    rfd, wfd = os.pipe()
    t = time.time()
    pid = os.fork()
    if pid == 0:
        os.close(rfd)
        counts, closed = stream_count(c.sock, pats, lambda k: k[pats[1]] >= n, 240 + n // 2000)
        os.write(wfd, repr(([counts[p] for p in pats], closed)).encode())
        os._exit(0)
    os.close(wfd)
    reader = []

    def reading():
        if not reader and os.waitpid(pid, os.WNOHANG)[0] == pid:
            reader.append(1)
        return not reader
    during = probe.during(reading)
    if not reader:
        os.waitpid(pid, 0)
    took = time.time() - t
    got, closed = eval(os.read(rfd, 4096).decode())
    os.close(rfd)
    res = {"counts": dict(zip(pats, got)), "closed": closed}
    k = res["counts"]
    print("mass cancel of %d: report %d, cancels %d, Logout %d, closed %s, %.1f s" %
          (n, k[b"\x0135=r\x01"], k[b"\x01150=4\x01"], k[b"\x0135=5\x01"], res["closed"], took))
    check(k[b"\x0135=r\x01"] == 1 and k[b"\x01150=4\x01"] == n and not res["closed"] and
          k[b"\x0135=5\x01"] == 0, "the mass cancel did not reach the reading client whole")
    c.buf = b""
    c.msg("1", [(112, "still-there")], wait=False)
    m = c.recv(10)
    while m is not None and m.type != "0":
        m = c.recv(10)
    check(m is not None and m.get(112) == "still-there", "no Heartbeat after the mass cancel")
    not_stalled("200k mass cancel streaming", base, during, probe)
    c.close()
    probe.s.close()
    srv.stop()


def case_ckptflood(work):
    """(3, 9) the large case of a mass cancel: a checkpoint that starts just
    before it ends in the middle of the flood, and its closed orders (150,000
    cancelled before, and those the mass cancel closed so far) leave memory
    in bounded steps (max_forget_per_turn), not in one loop turn (a 2M-order
    mass cancel held every session for 6.9 s that way). The probe runs from
    the checkpoint's start to the end of both, its worst round trip against
    its own baseline's worst."""
    nc, no = 150000, 50000
    orders = []
    for k in range(nc):
        orders.append((0, order_body("CLIENT1", 2 + 2 * k, "c%d" % k, 1, "8.00", 1)))
        orders.append((0, "35=F\x0134=%d\x0149=CLIENT1\x0152=20261206-10:00:00.000\x0156=EXEC\x01"
                          "11=x%d\x0141=c%d\x0154=1\x0155=AAPL\x0160=20261206-10:00:00\x01" %
                       (3 + 2 * k, k, k)))
    seq = 2 + 2 * nc
    for k in range(no):
        orders.append((0, order_body("CLIENT1", seq + k, "o%d" % k, 1,
                                     "%d.%02d" % divmod(9000 - k % 400, 100), 1)))
    state = preload(work, orders)
    jsize = os.path.getsize(os.path.join(state, "orders.journal"))
    # no checkpoint at the start: the journal is just under the limit; the
    # burst below passes it
    # ABUSE_FG_PER_TURN, ABUSE_MC_PER_TURN: another max_forget_per_turn or
    # max_cancels_per_turn for a comparison by hand (1000000000, 1000000: the
    # forgetting in a few turns, the mass cancel in one)
    srv = new_server(work, state_dir=state, max_output_bytes=65536, max_orders=1 << 20,
                     journal_checkpoint_bytes=jsize + 65536,
                     max_cancels_per_turn=int(os.environ.get("ABUSE_MC_PER_TURN", "1024")),
                     max_forget_per_turn=int(os.environ.get("ABUSE_FG_PER_TURN", "16384"))).start()
    probe = Probe(srv.port)
    base = probe.median(40)
    base_xs = probe.last
    c = Session(srv.port, "CLIENT1", rcvbuf=1 << 16)
    burst = 1000
    batch = []
    for k in range(burst):
        batch.append(encode("D", [(11, "b%d" % k), (21, 1), (38, 1), (40, 2), (44, "7.00"), (54, 1),
                                  (55, "AAPL"), (59, 1), (60, "20261206-10:00:00")],
                            "CLIENT1", "EXEC", c.seq))
        c.seq += 1
    c.send_raw(b"".join(batch))
    acks = 0
    while acks < burst:  # the turn of the last one starts the checkpoint, before it answers
        m = c.recv(20)
        if m is None:
            break
        acks += m.type == "8" and m.get(150) == "0"
    check(acks == burst, "the burst: %d of %d acknowledged" % (acks, burst))
    c.send("q", [(11, "mc"), (530, 7), (60, "20261206-10:00:00")], c.seq)
    c.seq += 1
    want = no + burst
    pats = [b"\x0135=r\x01", b"\x01150=4\x01", b"\x0135=5\x01"]
    rfd, wfd = os.pipe()
    t = time.time()
    pid = os.fork()
    if pid == 0:
        os.close(rfd)
        counts, closed = stream_count(c.sock, pats, lambda k: k[pats[1]] >= want, 240)
        os.write(wfd, repr(([counts[p] for p in pats], closed)).encode())
        os._exit(0)
    os.close(wfd)
    state_ = {"reader": True, "forgot_during_flood": None}

    def busy():
        if state_["reader"] and os.waitpid(pid, os.WNOHANG)[0] == pid:
            state_["reader"] = False
        done = "closed orders left memory" in srv.logtext()
        if done and state_["forgot_during_flood"] is None:
            state_["forgot_during_flood"] = state_["reader"]
        return (state_["reader"] or not done) and time.time() - t < 240
    during = probe.during(busy, pid=srv.proc.pid)
    xs = probe.last
    if state_["reader"]:
        os.waitpid(pid, 0)
    got, closed = eval(os.read(rfd, 4096).decode())
    os.close(rfd)
    log = srv.logtext()
    line = [x for x in log.splitlines() if "closed orders left memory" in x]
    fields = dict(f.split("=", 1) for f in (line[0].split() if line else []) if "=" in f)
    forgot, turns = int(fields.get("orders_forgotten", "0")), int(fields.get("loop_turns", "0"))
    print("checkpoint in a mass cancel: %d cancels of %d streamed (closed %s), %.1f s; the "
          "checkpoint forgot %d closed orders over %d loop turns%s" %
          (got[1], want, closed, time.time() - t, forgot, turns,
           " (the flood still running when it ended)" if state_["forgot_during_flood"] else ""))
    check(got[0] == 1 and got[1] == want and not closed and got[2] == 0,
          "the mass cancel did not reach the reading client whole: %r" % (got,))
    check("journal checkpoint: the journal is a snapshot" in log, "no checkpoint")
    check(forgot >= nc and turns > 1, "the checkpoint's forgetting: %d orders over %d turns" %
          (forgot, turns))
    check("closed orders leave memory over loop turns (max_forget_per_turn)" in log,
          "no log line when max_forget_per_turn bit")
    # the probe's worst during the checkpoint and the flood against its
    # baseline, scaled by the load the gateway met (measured meanwhile, not
    # guessed: in full parallel runs at load ~20 a fixed bound failed)
    probe.prev, probe.last = base_xs, xs
    not_stalled("checkpoint ending in a mass cancel", base, during, probe, worst=False)
    not_held("checkpoint ending in a mass cancel", probe,
             quiet_ms=float(os.environ.get("ABUSE_QUIET_MS", "120")), ratio=20.0)
    c.close()
    probe.s.close()
    srv.stop()


def case_sweep(work):
    n = 40000
    state = preload(work, ((1, order_body("CLIENT2", 2 + k, "s%d" % k, 2,
                                          "%d.%02d" % divmod(1000 + k % 50, 100), 1))
                           for k in range(n)))
    # ABUSE_RQ_PER_TURN: another max_reports_per_turn for a comparison by hand
    # (1000000000: the whole sweep's reports in the order's loop turn, as before)
    # ABUSE_EV_PER_TURN: another max_events_per_turn (1000000000: every runtime
    # event taken into the order state in the order's turn, as before)
    ev = {"max_events_per_turn": int(os.environ["ABUSE_EV_PER_TURN"])} if "ABUSE_EV_PER_TURN" in os.environ else {}
    srv = new_server(work, state_dir=state, max_output_bytes=65536,
                     max_reports_per_turn=int(os.environ.get("ABUSE_RQ_PER_TURN", "1024")),
                     sessions=[{"target_comp_id": x} for x in ("CLIENT1", "CLIENT2", "CLIENT3")], **ev).start()
    # the maker subscribes to the book and its trades: 40,000 trades in one
    # message's market data (split over several X, each within 16 KB)
    mk = Session(srv.port, "CLIENT2", rcvbuf=1 << 16)
    mk.send("V", [(262, "md"), (263, 1), (264, 5), (265, 1), (267, 3), (269, 0), (269, 1),
                  (269, 2), (146, 1), (55, "AAPL")], mk.seq)
    mk.seq += 1
    m = mk.recv(5)
    check(m is not None and m.type == "W", "the maker's subscription: %r" % m)
    pats = [b"\x01269=2\x01", b"\x01150=F\x01", b"\x0135=5\x01"]
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(rfd)
        counts, closed = stream_count(mk.sock, pats,
                                      lambda k: k[pats[0]] >= n and k[pats[1]] >= n, 240)
        os.write(wfd, repr(([counts[p] for p in pats], closed)).encode())
        os._exit(0)
    os.close(wfd)
    c = Session(srv.port, "CLIENT1", rcvbuf=1 << 16)
    probe = Probe(srv.port, "CLIENT3")
    base = probe.median(40)
    # the taker reads in another process too, so the probe's timing is the gateway's
    tr, tw = os.pipe()
    t = time.time()
    c.order("sweep", 1, "20.00", n, tif=3)
    time.sleep(0.0005)  # the order on its way first: the probe lands in (or right after) its turn
    probe.launch()
    tpid = os.fork()
    if tpid == 0:
        os.close(tr)
        counts, closed = stream_count(c.sock, [b"\x01150=F\x01", b"\x0139=2\x01", b"\x0135=5\x01"],
                                      lambda k: k[b"\x0139=2\x01"] >= 1, 240)
        os.write(tw, repr((counts, closed)).encode())
        os._exit(0)
    os.close(tw)
    left = [pid, tpid]

    def reading():
        for p in list(left):
            if os.waitpid(p, os.WNOHANG)[0] == p:
                left.remove(p)
        return bool(left)
    during = probe.during(reading, pid=srv.proc.pid)
    for p in left:
        os.waitpid(p, 0)
    counts, closed = eval(os.read(tr, 4096).decode())
    os.close(tr)
    (mtrades, mfills, mlogout), mclosed = eval(os.read(rfd, 4096).decode())
    os.close(rfd)
    print("40,000-lot sweep of %d resting orders: taker %d fill reports, filled %d, closed %s; "
          "maker %d fill reports, %d trade entries in its market data, closed %s; %.1f s" %
          (n, counts[b"\x01150=F\x01"], counts[b"\x0139=2\x01"], closed, mfills, mtrades,
           mclosed, time.time() - t))
    check(counts[b"\x01150=F\x01"] == n and counts[b"\x0139=2\x01"] == 1 and not closed and
          counts[b"\x0135=5\x01"] == 0, "the sweep's fills did not all reach the taker")
    check(mfills == n and mtrades == n and not mclosed and mlogout == 0,
          "the maker did not get every fill and every trade in its market data")
    check("answer larger than the output buffer" not in srv.logtext(),
          "an answer was too large to send")
    # the order's loop turn makes the match and takes the first
    # max_events_per_turn (1024) runtime events per session into the order
    # state; the rest wait and are taken a slice a turn (their reports
    # streaming as each socket drains): deterministic, so counted
    waited = late_events(srv.logtext())
    per = os.environ.get("ABUSE_EV_PER_TURN", "1024")
    print("runtime events taken over loop turns (max_events_per_turn %s): %s" %
          (per, ", ".join("%s %d in %d turns" % (k, e, t) for k, (e, t) in sorted(waited.items()))))
    check(os.environ.get("ABUSE_EV_PER_TURN") or
          (waited.get("CLIENT1", (0, 0))[0] == n + 1 - 1024 and waited.get("CLIENT2", (0, 0))[0] == n - 1024 and
           min(t for _, t in waited.values()) > 1),
          "the sweep's runtime events did not wait over loop turns: %r" % (waited,))
    not_stalled("40,000-order sweep streaming", base, during, probe, worst=False)
    # the probe's worst against its baseline, scaled by the load the gateway
    # met: 50 ms quiet (the order's turn before max_events_per_turn, the match
    # and 80,000 events taken in it, gave 102-128 ms per unit of slowdown at
    # load 13-17: it fails; this one 15-35; at load 2.5 both pass)
    not_held("40,000-order sweep", probe, quiet_ms=float(os.environ.get("ABUSE_QUIET_MS", "50")))
    c.close()
    mk.close()
    probe.s.close()
    srv.stop()


def case_sweeplat(work):
    """(3) a sweep no client message makes: with an order-entry latency of 1 ms
    the 20,000-lot IOC reaches the venue a loop turn after its message, and
    the match and its 40,000 runtime events happen in the loop's own runtime
    step (a CLOCK record). Its events wait and are taken over loop turns as a
    message's are, every fill reaches both sides, the probe is not held."""
    n = 20000
    state = preload(work, ((1, order_body("CLIENT2", 2 + k, "s%d" % k, 2,
                                          "%d.%02d" % divmod(1000 + k % 50, 100), 1))
                           for k in range(n)))
    srv = new_server(work, state_dir=state, max_output_bytes=65536,
                     latency={"order_entry_ns": 1000000},
                     sessions=[{"target_comp_id": x} for x in ("CLIENT1", "CLIENT2", "CLIENT3")]).start()
    mk = Session(srv.port, "CLIENT2", rcvbuf=1 << 16)
    c = Session(srv.port, "CLIENT1", rcvbuf=1 << 16)
    probe = Probe(srv.port, "CLIENT3")
    base = probe.median(40)
    # the preloaded journal has no CLOCK records: its orders reach the venue
    # (1 ms later) after the replay, and their 20,000 acknowledgements wait
    # over loop turns too; the sweep's are counted from here
    t = time.time()
    while "runtime events caught up" not in srv.logtext() and time.time() - t < 60:
        time.sleep(0.05)
    log0 = len(srv.logtext())
    res = {}
    readers = []
    for name, sess, pats, until in (
            ("taker", c, [b"\x01150=F\x01", b"\x0139=2\x01"], lambda k: k[b"\x0139=2\x01"] >= 1),
            ("maker", mk, [b"\x01150=F\x01"], lambda k: k[b"\x01150=F\x01"] >= n)):
        rfd, wfd = os.pipe()
        if name == "taker":
            c.order("sweep", 1, "20.00", n, tif=3)
        pid = os.fork()
        if pid == 0:
            os.close(rfd)
            counts, closed = stream_count(sess.sock, pats, until, 240)
            os.write(wfd, repr(([counts[p] for p in pats], closed)).encode())
            os._exit(0)
        os.close(wfd)
        readers.append((name, pid, rfd))
    left = [pid for _, pid, _ in readers]

    def reading():
        for p in list(left):
            if os.waitpid(p, os.WNOHANG)[0] == p:
                left.remove(p)
        return bool(left)
    during = probe.during(reading, pid=srv.proc.pid)
    for p in left:
        os.waitpid(p, 0)
    for name, _, rfd in readers:
        res[name] = eval(os.read(rfd, 4096).decode())
        os.close(rfd)
    (tf, tfilled), tclosed = res["taker"]
    (mf,), mclosed = res["maker"]
    waited = late_events(srv.logtext()[log0:])
    print("%d-lot sweep after a 1 ms order-entry latency: taker %d fill reports, filled %d; maker %d "
          "fill reports; runtime events taken over loop turns: %s" %
          (n, tf, tfilled, mf, ", ".join("%s %d in %d turns" % (k, e, t) for k, (e, t) in sorted(waited.items()))))
    check(tf == n and tfilled == 1 and mf == n and not tclosed and not mclosed,
          "the sweep's fills did not all reach taker and maker")
    check(waited.get("CLIENT1", (0, 0))[0] == n + 1 - 1024 and waited.get("CLIENT2", (0, 0))[0] == n - 1024,
          "the sweep's runtime events did not wait over loop turns: %r" % (waited,))
    not_stalled("sweep after a latency", base, during, probe, worst=False)
    not_held("sweep after a latency", probe, quiet_ms=float(os.environ.get("ABUSE_QUIET_MS", "50")))
    c.close()
    mk.close()
    probe.s.close()
    srv.stop()


def late_events(log):
    """{session: (events, loop_turns)} of the "runtime events caught up" lines
    (app_events.c: events a session took over loop turns, max_events_per_turn)."""
    out = {}
    for x in log.splitlines():
        if "runtime events caught up (max_events_per_turn)" in x:
            f = dict(kv.split("=", 1) for kv in x.split() if "=" in kv)
            e, t = out.get(f.get("session"), (0, 0))
            out[f.get("session")] = (e + int(f.get("events", "0")), t + int(f.get("loop_turns", "0")))
    return out


def case_oversize(work):
    srv = new_server(work).start()
    c = Session(srv.port, "CLIENT1")
    sent = [("D", [(11, "x" * 16384), (21, 1), (38, 1), (40, 2), (44, "10.00"), (54, 1),
                   (55, "AAPL"), (59, 1), (60, "20261206-10:00:00")], "11"),
            ("D", [(11, "y"), (21, 1), (38, 1), (40, 2), (44, "10.00"), (54, 1),
                   (55, "Z" * 20000), (59, 1), (60, "20261206-10:00:00")], "55"),
            ("1", [(112, "T" * 20000)], "112")]
    for mt, f, tag in sent:
        seq = c.seq
        m = c.msg(mt, f)
        check(m is not None and m.type == "3" and m.get(371) == tag and m.get(373) == "5" and
              m.get(45) == str(seq) and "max_field_bytes" in (m.get(58) or ""),
              "tag %s over max_field_bytes: %r" % (tag, m))
    m = c.msg("1", [(112, "T" * 1024)])  # at the limit: echoed whole
    check(m is not None and m.type == "0" and len(m.get(112) or "") == 1024,
          "1 KB TestReqID not echoed")
    c.order("after", 1, "5.00", 1)
    m = c.recv(5)
    check(m is not None and m.type == "8" and m.get(11) == "after",
          "the order after the oversize fields: %r" % m)
    check("field over max_field_bytes rejected" in srv.logtext(), "no log line")
    print("oversize fields: each answered with a Reject naming its tag; the session went on")
    c.close()
    srv.stop()


def case_limits(work):
    srv = new_server(work).start()
    # (10) HeartBtInt=0 is refused, and does not lock the session
    c = Client(srv.port, "CLIENT1")
    c.send("A", [(98, 0), (108, 0), (141, "Y")], 1)
    m = c.recv(5)
    check(m is not None and m.type == "5" and "min_heartbeat_s" in (m.get(58) or ""),
          "HeartBtInt=0: %r" % m)
    c.close()
    c = Session(srv.port, "CLIENT1")
    check(c.logon_answer is not None and c.logon_answer.type == "A",
          "Logon after a refused HeartBtInt=0: %r" % c.logon_answer)
    # (8) AvgPx of the largest trade
    from decimal import Decimal
    c.order("big-s", 2, "999999999999999.99", 99999999999999999)
    m = c.recv(5)
    c.order("big-b", 1, "999999999999999.99", 99999999999999999)
    fills = []
    while len(fills) < 2:
        m = c.recv(5)
        if m is None:
            break
        if m.get(150) == "F":
            fills.append(m)
    check(len(fills) == 2 and all(Decimal(f.get(6)) == Decimal("999999999999999.99")
                                  for f in fills),
          "AvgPx of the largest trade: %r" % [f.get(6) for f in fills])
    # (11) the order that would push a level past its limit (INT64_MAX) is Rejected
    big = 99999999999999999
    first_refused = None
    for k in range(100):
        c.order("lv%d" % k, 2, "50.00", big)
        m = c.recv(5)
        if m is None or m.get(150) != "0":
            first_refused = (k, m)
            break
    k, m = first_refused if first_refused else (None, None)
    check(k == (2 ** 63 - 1) // big and m is not None and m.get(150) == "8" and
          m.get(39) == "8" and "limit" in (m.get(58) or ""),
          "level overflow: order %r answered %r" % (k, m))
    m = c.recv(0.5)
    check(m is None, "level overflow: more than the Rejected: %r" % m)
    print("HeartBtInt=0 refused, next Logon served; AvgPx %s; level overflow Rejected" %
          (fills[0].get(6) if fills else None))
    c.close()
    srv.stop()


def case_preflood(work):
    raise_nofile()
    srv = new_server(work, logon_timeout_ms=30000).start()
    pid = srv.proc.pid
    time.sleep(0.3)
    base = rss_mb(pid)
    logon = encode("A", [(98, 0), (108, 30)], "CLIENT1", "EXEC", 1)
    socks = []
    for _ in range(2000):
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.sendall(logon[:30])
        socks.append(s)
    time.sleep(1.0)
    during = rss_mb(pid)
    for s in socks:
        s.close()
    time.sleep(1.5)
    after = rss_mb(pid)
    print("2,000 pre-Logon sockets: gateway RSS %.1f MB before, %.1f MB with them, %.1f MB after "
          "they closed" % (base, during, after))
    check(during - base < 48, "2,000 pre-Logon sockets cost %.1f MB" % (during - base))
    check(after - base < 12, "RSS stayed %.1f MB up after the sockets closed" % (after - base))
    c = Session(srv.port, "CLIENT1")
    check(c.logon_answer is not None, "no Logon after the flood")
    c.close()
    srv.stop()


def case_storereset(work):
    state = os.path.join(work, "state")
    srv = new_server(work, state_dir=state).start()
    store = os.path.join(state, "EXEC-CLIENT1.store")
    sizes = []
    for k in range(50):
        c = Session(srv.port, "CLIENT1", reset=True)
        check(c.logon_answer is not None and c.logon_answer.get(141) == "Y", "reset Logon %d" % k)
        c.order("r%d" % k, 1, "5.00", 1)
        c.recv(5)
        c.msg("5", [])
        c.close()
        time.sleep(0.05)
        sizes.append(os.path.getsize(store))
    arch = os.listdir(os.path.join(state, "archive"))
    print("50 Logon(ResetSeqNumFlag=Y)/Logout cycles: store %d bytes after the 1st, %d after the "
          "50th; %d archived segments" % (sizes[0], sizes[-1], len(arch)))
    check(sizes[-1] <= sizes[0] + 64, "the store grew from %d to %d bytes" % (sizes[0], sizes[-1]))
    check(len(arch) >= 49, "%d archived store segments" % len(arch))
    srv.stop()
    srv.start()  # the compacted store is the store: a reset Logon continues at 1
    c = Session(srv.port, "CLIENT1", reset=True)
    check(c.logon_answer is not None and c.logon_answer.seq == 1, "no Logon after the restart")
    c.close()
    srv.stop()


def case_checkpoint(work):
    n = 20000
    orders = []
    for k in range(n):
        orders.append((0, order_body("CLIENT1", 2 + 2 * k, "o%d" % k, 1, "9.00", 1)))
        orders.append((0, "35=F\x0134=%d\x0149=CLIENT1\x0152=20261206-10:00:00.000\x0156=EXEC\x01"
                          "11=c%d\x0141=o%d\x0154=1\x0155=AAPL\x0160=20261206-10:00:00\x01" %
                       (3 + 2 * k, k, k)))
    state = preload(work, orders)
    srv = new_server(work, state_dir=state, journal_checkpoint_bytes=65536).start()
    t = time.time()
    while "journal checkpoint:" not in srv.logtext() and time.time() - t < 60:
        time.sleep(0.05)
    check("journal checkpoint:" in srv.logtext(), "no checkpoint")
    srv.stop(sig=9)
    jbytes = os.path.getsize(os.path.join(state, "orders.journal"))
    srv.start()
    log = srv.logtext()
    check("orders_held=0" in log, "the restart holds orders: " + log[-800:])
    c = Session(srv.port, "CLIENT1")
    for cl in ("o5", "c19999"):
        c.order(cl, 1, "9.00", 1)
        m = c.recv(5)
        check(m is not None and m.get(150) == "8" and m.get(103) == "6",
              "ClOrdID %s of a cancelled order not refused after the checkpoint: %r" % (cl, m))
    print("20,000 orders cancelled: journal %d bytes after the checkpoint, restart holds 0 orders, "
          "their ClOrdIDs still refused; archive: %s" %
          (jbytes, os.listdir(os.path.join(state, "archive"))))
    c.close()
    srv.stop()


def case_eodserve(work):
    """(3, 9) the end of day of a big day keeps serving: ABUSE_EOD_N orders
    of CLIENT1 in the journal (default 200,000: half DAY orders resting on
    400 levels, half IOC orders closed at once), and the gateway's day_end a
    little after it has replayed them. The probe (CLIENT2's IOCs) runs from
    before the end of day until its compaction is done; its worst round trip
    is asserted with not_held (50 ms quiet, scaled by the gateway's
    slowdown): the expiry of every DAY order and the forgetting of every
    closed one in one loop turn fails it. Then: every DAY order expired (the
    log's count), none held, a ClOrdID of the old day taken again, a DAY
    order of it unknown."""
    with open(sys.argv[1], "rb") as f:  # the sanitizers' build replays several times slower
        san = b"libasan" in f.read()
    n = int(os.environ.get("ABUSE_EOD_N", "100000" if san else "400000"))
    lead = float(os.environ.get("ABUSE_EOD_LEAD", str(20 + n / 10000.0)))
    orders = ((0, order_body("CLIENT1", 2 + k, "e%d" % k, 1,
                             "%d.%02d" % divmod(9000 - (k // 2) % 400, 100) if k % 2 == 0 else "1.00", 1,
                             tif=0 if k % 2 == 0 else 3))
              for k in range(n))
    state = preload(work, orders)
    at = time.time() + lead
    day_end = time.strftime("%H:%M:%S", time.gmtime(at))
    # no checkpoint within the day: the closed orders are still held at its end
    srv = new_server(work, state_dir=state, max_orders=max(1 << 20, 2 * n), day_end=day_end,
                     journal_checkpoint_bytes=0).start()
    probe = Probe(srv.port)
    probe.median(40)
    check("end of day" not in srv.logtext(),
          "the end of day began before the probe's baseline: set ABUSE_EOD_LEAD above %.0f s" % lead)
    while time.time() < at - 1.0:  # (its IOCs are orders of the old day too)
        probe.rtt()
        time.sleep(0.01)
    t = time.time()

    def busy():  # until the end of day's compaction is done
        return ("journal checkpoint: the journal is a snapshot" not in srv.logtext() and
                time.time() - t < 120 + n / 2000)
    check("journal checkpoint" not in srv.logtext(), "a checkpoint before the end of day")
    probe.during(busy, pid=srv.proc.pid)
    took = time.time() - t
    log = srv.logtext()
    m = re.search(r"end of day: DAY orders expired expired=(\d+) loop_turns=(\d+)", log)
    f = re.search(r"closed orders of the old day left memory orders_held=(\d+) orders_open=(\d+) "
                  r"orders_forgotten=(\d+) loop_turns=(\d+)", log)
    print("end of day of %d orders (%d DAY open): expired %s over %s loop turns, forgotten %s over %s "
          "loop turns, compacted after %.1f s; %d probe round trips" %
          (n, (n + 1) // 2, m and m.group(1), m and m.group(2), f and f.group(3), f and f.group(4), took,
           len(probe.last)))
    check(m is not None and int(m.group(1)) == (n + 1) // 2, "not every DAY order expired: %r" %
          (m and m.group(0)))
    check(f is not None and int(f.group(1)) < 1000 and int(f.group(3)) >= n,
          "the old day's orders still held: %r" % (f and f.group(0)))
    not_held("end of day of %d orders" % n, probe, 40)
    c = Session(srv.port, "CLIENT1")
    c.order("e1", 1, "1.00", 1, tif=3)  # an IOC of the old day's: its ClOrdID is free
    r = c.recv(5)
    check(r is not None and r.get(150) == "0", "a ClOrdID of the old day refused: %r" % r)
    c.send("H", [(11, "e0"), (54, 1), (55, "AAPL")], c.seq)
    c.seq += 1
    r = c.recv(5)
    while r is not None and not (r.type == "8" and r.get(150) == "I"):
        r = c.recv(5)
    check(r is not None and r.get(39) == "8", "a DAY order of the old day still known: %r" % r)
    c.close()
    probe.s.close()
    srv.stop()



def case_queuefull(work):
    """A full runtime queue (queue_capacity 16, 50 ms order latency): 40
    orders sent at once, the first 16 are taken, the rest are refused with a
    BusinessMessageReject 380=4 naming the key (nothing else changes, nothing
    is journaled); the runtime is not stopped: once the queue drained the
    next order is taken, and the 16 are acknowledged, also after a restart."""
    state = os.path.join(work, "state")
    srv = new_server(work, state_dir=state, queue_capacity=16,
                     latency={"order_entry_ns": 50000000, "response_ns": 0}).start()
    c = Session(srv.port, "CLIENT1")
    batch = []
    for k in range(40):
        batch.append(encode("D", [(11, "f%d" % k), (21, 1), (38, 1), (40, 2), (44, "9.00"), (54, 1),
                                  (55, "AAPL"), (59, 1), (60, "20261206-10:00:00")],
                            "CLIENT1", "EXEC", c.seq))
        c.seq += 1
    c.send_raw(b"".join(batch))
    acks, busy, other = set(), 0, []
    t = time.time()
    while time.time() - t < 5 and len(acks) + busy < 40:
        m = c.recv(2)
        if m is None:
            break
        if m.type == "8" and m.get(150) == "0":
            acks.add(m.get(11))
        elif m.type == "j" and m.get(380) == "4" and "queue_capacity" in (m.get(58) or ""):
            busy += 1
        else:
            other.append(m)
    check(len(acks) == 16 and busy == 24 and not other,
          "40 orders at queue_capacity 16: %d acknowledged, %d refused busy, other %r" %
          (len(acks), busy, other[:2]))
    c.order("after", 1, "9.00", 1)
    m = c.recv(5)
    check(m is not None and m.type == "8" and m.get(11) == "after" and m.get(150) == "0",
          "the order after the queue drained: %r" % m)
    check("queue full, client action refused" in srv.logtext() and "key=queue_capacity" in srv.logtext(),
          "no log line naming queue_capacity")
    c.close()
    srv.stop()
    srv.start()
    c = Session(srv.port, "CLIENT1", reset=True)
    open_after = 0
    for k in list(range(16)) + [39]:
        c.send("H", [(11, "f%d" % k), (54, 1), (55, "AAPL")], c.seq)
        c.seq += 1
        m = c.recv(5)
        open_after += m is not None and m.get(39) == "0"
    check(open_after == 16, "after a restart %d of the 16 taken orders open (and f39: refused, "
          "unknown)" % open_after)
    print("queue_capacity 16: 40 orders at once, %d taken, %d refused (380=4), the next taken; "
          "after a restart the %d taken are open" % (len(acks), busy, open_after))
    c.close()
    srv.stop()


def main():
    case = sys.argv[2] if len(sys.argv) > 2 else "halfclose"
    work = tempfile.mkdtemp(prefix="brs_abuse_")
    t = time.time()
    try:
        (globals().get("case_" + case) or getattr(abuse_crash, "case_" + case))(work)
    finally:
        for srv in SERVERS:
            if srv.proc and srv.proc.poll() is None:
                srv.proc.kill()
                srv.proc.wait()
        if ERRS:
            for f in sorted(os.listdir(work)):
                if f.endswith(".log"):
                    with open(os.path.join(work, f), "rb") as fh:
                        print("---", f, "(tail)\n" + fh.read().decode("latin-1")[-3000:])
        shutil.rmtree(work, ignore_errors=True)
    print("%s: %.1f s, %s" % (case, time.time() - t, "FAIL" if ERRS else "ok"))
    sys.exit(1 if ERRS else 0)


if __name__ == "__main__":
    main()
