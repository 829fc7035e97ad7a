"""audit_test.py: `bourse audit` (issue 18) rebuilds what happened to each
order from a `bourse serve` state directory, consistently after a crash.

A scripted flow over two FIX sessions (a resting buy partly filled by a sell,
then replaced and cancelled; an unknown symbol; a risk refusal; a cancel of an
unknown order; a resting sell) ends in kill -9. The audit, as CSV and JSON, must
give each order its full history in order, with times, session, venue and
reasons. The restarted gateway then fills the resting sell, and the audit of the
same directory gives the same history plus that fill. Parent orders through the smart order router
(data/configs/serve-routed.json) show their fills with their venues (LastMkt)
and their child orders (venue, quantity, acknowledgement, fills, cancels),
the same after kill -9 mid-flow and a restart, which cancels exactly the
child the audit showed resting. Then the same flow is
killed inside its writes (BRS_FAULT_AFTER_WRITES, torn writes too): at every
point the audit holds every report the clients received, and nothing a restart
cuts (the audit before and after the restart agree). Last, a sequence reset
moves a session's store into STATE_DIR/archive/; the reports it held are still
in the audit, once.

usage: audit_test.py BOURSE [--routed]   (--routed: only the routed order)"""
import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "fix", "py"))
from fixclient import Client, Server, write_config  # noqa: E402

T = (60, "20261206-10:00:00")
errs = []


def check(cond, msg):
    print(("ok: " if cond else "FAIL: ") + msg)
    if not cond:
        errs.append(msg)


def audit(bourse, state, *args):
    r = subprocess.run([bourse, "audit", state] + list(args), capture_output=True)
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout.decode()


def rows(text):
    return list(csv.DictReader(io.StringIO(text)))


class Flow:
    """The scripted flow; `got` keeps every ExecutionReport / cancel reject a
    client received, as (session, ClOrdID, ExecType or '9', ExecID)."""

    def __init__(self, srv, seq=None):
        self.srv, self.got = srv, set()
        self.seq = dict(seq or {"CLIENT1": 1, "CLIENT2": 1})
        self.a, self.b = self.logon("CLIENT1"), self.logon("CLIENT2")

    def logon(self, comp):
        c = Client(self.srv.port, comp)
        c.comp = comp
        self.send(c, "A", [(98, 0), (108, 30)])
        m = c.recv(10)
        assert m is not None and m.type == "A", m
        return c

    def send(self, c, t, fields):
        c.send(t, fields, self.seq[c.comp])
        self.seq[c.comp] += 1

    def until(self, c, pred):
        while True:
            m = c.recv(5)
            if m is None:
                raise EOFError("%s: no answer" % c.comp)
            if m.type in ("8", "9"):
                self.got.add((c.comp, m.get(11), m.get(150) if m.type == "8" else "9", m.get(17) or ""))
            if pred(m):
                return m

    def order(self, c, cl, side, qty, px, sym="AAPL"):
        self.send(c, "D", [(11, cl), (21, 1), (38, qty), (40, 2), (44, px), (54, side), (55, sym), T])

    def run(self):
        a, b = self.a, self.b
        self.order(a, "b1", 1, 10, "10.00")
        self.until(a, lambda m: m.get(150) == "0")
        self.order(b, "s1", 2, 4, "10.00")
        self.until(b, lambda m: m.get(150) == "F")
        self.until(a, lambda m: m.get(150) == "F")
        self.send(a, "G", [(11, "b1r"), (21, 1), (38, 8), (40, 2), (41, "b1"), (44, "10.00"), (54, 1), (55, "AAPL"), T])
        self.until(a, lambda m: m.get(150) == "5")
        self.send(a, "F", [(11, "c1"), (38, 8), (41, "b1r"), (54, 1), (55, "AAPL"), T])
        self.until(a, lambda m: m.get(150) == "4")
        self.order(a, "bad1", 1, 1, "10.00", "ZZZZ")
        self.until(a, lambda m: m.get(150) == "8")
        self.order(a, "big1", 1, 1000, "10.00")
        self.until(a, lambda m: m.get(150) == "8")
        self.send(a, "F", [(11, "c2"), (38, 1), (41, "nosuch"), (54, 1), (55, "AAPL"), T])
        self.until(a, lambda m: m.type == "9")
        self.order(b, "s2", 2, 3, "11.00")
        self.until(b, lambda m: m.get(150) == "0")


WANT = {  # (session, first ClOrdID) -> events in order
    ("CLIENT1", "b1"): ["received", "acknowledged", "fill", "replace_requested", "replaced", "cancel_requested",
                        "cancelled"],
    ("CLIENT1", "bad1"): ["received", "rejected"],
    ("CLIENT1", "big1"): ["received", "risk_refused", "rejected"],
    ("CLIENT1", "c2"): ["cancel_requested", "cancel_rejected"],
    ("CLIENT2", "s1"): ["received", "acknowledged", "fill"],
    ("CLIENT2", "s2"): ["received", "acknowledged"],
}


def histories(rs):
    h = {}
    for r in rs:
        key = (r["session"], r["order_id"] or r["clordid"])
        h.setdefault(key, []).append(r)
    return {(k[0], v[0]["clordid"]): v for k, v in h.items()}


def children(rs):
    """Child rows of an audit, by child id: (venue, [events], [rows])."""
    ch = {}
    for r in rs:
        if r["child"]:
            v = ch.setdefault(r["child"], {"venue": r["venue"], "events": [], "rows": []})
            v["events"].append(r["event"])
            v["rows"].append(r)
    return ch


def check_children(rs, venues, what):
    """Every child starts routed with a venue and its qty; its fills sum per venue
    to what the client was told; no child fills past its routed qty."""
    ch = children(rs)
    by_venue, ok = {}, bool(ch)
    for cid, v in ch.items():
        first = v["rows"][0]
        ok &= first["event"] == "child_routed" and first["venue"] in ("lit", "alt") and int(first["qty"]) > 0
        filled = sum(int(r["last_qty"]) for r in v["rows"] if r["event"] == "child_fill")
        ok &= filled <= int(first["qty"]) and all(r["venue"] == first["venue"] for r in v["rows"])
        if filled:
            by_venue[first["venue"]] = by_venue.get(first["venue"], 0) + filled
    check(ok and by_venue == venues, "%s: %d children, each routed first with its venue; child fills by venue %s"
          " = the client's fills by venue %s" % (what, len(ch), by_venue, venues))
    return ch


def routed(bourse, work):
    # routed orders (data/configs/serve-routed.json: the smart order router over
    # the venues lit and alt): the audit shows each parent and its children
    # (venue, quantity, acknowledgement, fills, cancels), consistent with what
    # the client was told, the same after kill -9 mid-flow and a restart; the
    # child left resting at the crash is the one the restarted server cancels
    src = os.path.normpath(os.path.join(here, "..", ".."))
    rw = os.path.join(work, "routed")
    os.makedirs(rw)
    rc = json.load(open(os.path.join(src, "data", "configs", "serve-routed.json")))
    rc["state_dir"] = os.path.join(rw, "state")
    rc["market_data"]["file"] = os.path.join(src, "data", "mm.ticks.zst")
    # the routed history of client orders only: the market maker the config
    # also hosts would trade against the parents (its restart semantics are
    # docs/fix-gateway.md's "Strategies beside the clients")
    rc.pop("strategies", None)
    with open(os.path.join(rw, "serve.json"), "w") as fh:
        json.dump(rc, fh)
    rs = Server(bourse, os.path.join(rw, "serve.json"), rw)
    rs.start()
    try:
        c = Client(rs.port, "CLIENT1")
        c.send("A", [(98, 0), (108, 30)], 1)
        assert c.recv(10).type == "A"

        def parent(cl, seq, fields):
            c.send("D", [(11, cl), (21, 1), (54, 1), (55, "GEN000"), T] + fields, seq)
            venues, last, top = {}, None, None
            while True:
                m = c.recv(3)
                if m is None:
                    break
                if m.type == "8" and m.get(150) == "F":
                    venues[m.get(30)] = venues.get(m.get(30), 0) + int(m.get(32))
                    top = max(top or "0", m.get(31), key=float)
                if m.type == "8" and m.get(150) in ("4", "8") or (m.type == "8" and m.get(151) == "0"):
                    last = m
                    break
            return venues, last, top

        venues, last, top = parent("p1", 2, [(38, 150), (40, 1)])
        # a limit parent far larger than both venues hold up to p1's worst price:
        # it takes what is there and its rest rests (posted) on a venue
        venues2, last2, _ = parent("p2", 3, [(38, 200000), (40, 2), (44, "%.2f" % (float(top) + 0.01))])
        rs.proc.send_signal(signal.SIGKILL)
        rs.proc.wait()
        r1 = rows(audit(bourse, rc["state_dir"], "--client-order", "p1"))
        ev = [r["event"] for r in r1 if not r["child"]]
        check(ev[:2] == ["received", "acknowledged"] and ev.count("fill") >= 2 and last is not None and
              ev[-1] == {"4": "cancelled", "8": "rejected"}.get(last.get(150), "fill"),
              "routed parent p1: received > acknowledged > %d fills > %s" % (ev.count("fill"), ev[-1]))
        got = {}
        for r in r1:
            if r["event"] == "fill":
                got[r["venue"]] = got.get(r["venue"], 0) + int(r["last_qty"])
        check(got == venues and len(got) >= 2, "its fills by venue, as the client was told: %s" % got)
        ch1 = check_children(r1, venues, "p1 after kill -9")
        check(all(v["events"][-1] in ("child_fill", "child_cancelled", "child_rejected") for v in ch1.values()),
              "p1's children all ended: %s" % sorted(v["events"][-1] for v in ch1.values()))
        r2 = rows(audit(bourse, rc["state_dir"], "--client-order", "p2"))
        check(last2 is None and [r["event"] for r in r2 if not r["child"]][:2] == ["received", "acknowledged"],
              "p2 rests, partly filled (%s), when the gateway is killed" % venues2)
        check(sum(venues2.values()) > 0, "p2 took some liquidity before it rested")
        ch2 = check_children(r2, venues2, "p2 after kill -9")
        def resting(v):
            filled = sum(int(r["last_qty"]) for r in v["rows"] if r["event"] == "child_fill")
            return v["events"][-1] not in ("child_cancelled", "child_rejected") and filled < int(v["rows"][0]["qty"])
        open2 = {k for k, v in ch2.items() if resting(v)}
        check(len(open2) == 1, "p2 has one child resting at the crash: %s" % {k: ch2[k]["venue"] for k in open2})
        js = json.loads(audit(bourse, rc["state_dir"], "--order", r2[0]["order_id"], "--format", "json"))
        check(len(js) == 1 and sum(1 for e in js[0]["events"] if e.get("child")) == sum(len(v["rows"]) for v in ch2.values()),
              "--order and --format json: p2 and its children's events in one object")

        rs.start()
        c = Client(rs.port, "CLIENT1")
        c.send("A", [(98, 0), (108, 30)], 4)
        m = c.recv(10)
        check(m is not None and m.type == "A", "logon after the restart")
        check(rows(audit(bourse, rc["state_dir"], "--client-order", "p1")) == r1 and
              rows(audit(bourse, rc["state_dir"], "--client-order", "p2")) == r2,
              "the routed orders' histories (children included) are the same after kill -9 and a restart")
        c.send("F", [(11, "p2c"), (38, 200000), (41, "p2"), (54, 1), (55, "GEN000"), T], 5)
        while True:
            m = c.recv(5)
            if m is None or (m.type == "8" and m.get(150) == "4") or m.type == "9":
                break
        check(m is not None and m.type == "8" and m.get(150) == "4", "p2 cancelled after the restart")
        rs.stop()
        r3 = rows(audit(bourse, rc["state_dir"], "--client-order", "p2"))
        ch3 = children(r3)
        cancelled = {k for k, v in ch3.items() if v["events"][-2:] == ["child_cancel_requested", "child_cancelled"]}
        check(r3[:len(r2)] == r2 and cancelled == open2 and set(ch3) == set(ch2),
              "the restarted server cancels exactly the child the audit showed resting (%s), no other child" % cancelled)
    finally:
        if rs.proc and rs.proc.poll() is None:
            rs.proc.kill()
            rs.proc.wait()


def main():
    bourse = sys.argv[1]
    work = tempfile.mkdtemp(prefix="brs_audit_")
    if "--routed" in sys.argv[2:]:
        routed(bourse, work)
        if not errs:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("work dir kept: " + work)
        return 1 if errs else 0
    state = os.path.join(work, "state")
    cfg = write_config(os.path.join(work, "serve.json"), state_dir=state, risk={"max_order_qty": 100},
                       fsync="batch")
    srv = Server(bourse, cfg, work).start()
    try:
        f = Flow(srv)
        f.run()
        srv.proc.send_signal(signal.SIGKILL)
        srv.proc.wait()
        before = audit(bourse, state)
        h = histories(rows(before))
        for key, want in WANT.items():
            got = [r["event"] for r in h.get(key, [])]
            check(got == want, "%s %s: %s" % (key[0], key[1], " > ".join(got) or "(nothing)"))
        b1 = h[("CLIENT1", "b1")]
        check(all(r["order_id"] == "1" for r in b1), "b1's history is OrderID 1 throughout, ClOrdIDs "
              + ",".join(r["clordid"] for r in b1))
        fill = b1[2]
        check(fill["last_qty"] == "4" and fill["last_px"] == "10" and fill["leaves_qty"] == "6",
              "b1's fill: 4 at 10, 6 left")
        check(b1[4]["qty"] == "8" and b1[4]["orig_clordid"] == "b1", "b1 replaced to 8 (orig b1)")
        check(b1[6]["leaves_qty"] == "0" and b1[6]["cum_qty"] == "4", "b1 cancelled with 4 filled")
        check(h[("CLIENT1", "bad1")][1]["reason"] == "unknown symbol", "bad1 rejected: unknown symbol")
        big = h[("CLIENT1", "big1")]
        check(big[2]["reason"].startswith("max_order_qty"), "big1 refused by max_order_qty: " + big[2]["reason"])
        check(h[("CLIENT1", "c2")][1]["reason"] == "unknown order", "cancel of nosuch: unknown order")
        times = [r["time"] for r in rows(before)]
        check(all(t.endswith("Z") and t.startswith("20") for t in times), "every event has a UTC time")
        for k in ("received", "replace_requested", "cancel_requested"):
            check(all(r["client_time"] for r in rows(before) if r["event"] == k), k + " events keep the client's time")
        # filters and JSON
        one = rows(audit(bourse, state, "--client-order", "b1r"))
        check([r["event"] for r in one] == WANT[("CLIENT1", "b1")], "--client-order b1r: the whole history of b1")
        check(rows(audit(bourse, state, "--order", "1")) == one, "--order 1: the same")
        s2 = rows(audit(bourse, state, "--session", "CLIENT2"))
        check({r["session"] for r in s2} == {"CLIENT2"} and len(s2) == 5, "--session CLIENT2: its 5 events")
        check(rows(audit(bourse, state, "--since", "2000-01-01T00:00:00Z", "--until", "2000-01-02T00:00:00Z")) == [],
              "--since/--until around another day: nothing")
        j = json.loads(audit(bourse, state, "--format", "json", "--order", "1"))
        check(len(j) == 1 and j[0]["order_id"] == "1" and j[0]["session"] == "CLIENT1" and
              [e["event"] for e in j[0]["events"]] == WANT[("CLIENT1", "b1")], "JSON: one order with its events")
        check(j[0]["events"][2].get("last_qty") == "4" and "session" not in j[0]["events"][0],
              "JSON events carry the fields that have values")
        # every report the clients received is in the audit
        aud = {(r["session"], r["clordid"], {"acknowledged": "0", "fill": "F", "replaced": "5", "cancelled": "4",
                "rejected": "8", "expired": "C", "cancel_rejected": "9"}[r["event"]],
                r["exec_id"] if r["event"] != "cancel_rejected" else "")
               for r in rows(before) if r["source"].endswith(".store")}
        got = {(s, c, e, x if e != "9" else "") for s, c, e, x in f.got}
        check(got <= aud, "every report the clients received is in the audit (%d of %d)" % (len(got), len(aud)))
        # restart: the same history, then the resting sell fills
        srv.start()
        after = audit(bourse, state)
        check(after == before, "after the restart the audit is unchanged")
        f2 = Flow(srv, f.seq)
        f2.order(f2.a, "b2", 1, 3, "11.00")
        f2.until(f2.a, lambda m: m.get(150) == "F")
        srv.stop()
        h2 = histories(rows(audit(bourse, state)))
        check([r["event"] for r in h2[("CLIENT2", "s2")]] == ["received", "acknowledged", "fill"],
              "s2: received before the crash, filled after the restart")
        check([r["event"] for r in h2[("CLIENT1", "b2")]] == ["received", "acknowledged", "fill"],
              "b2: received, acknowledged, filled")
    finally:
        if srv.proc and srv.proc.poll() is None:
            srv.proc.kill()
            srv.proc.wait()

    # crash inside the writes: the audit holds what the clients were told and
    # nothing a restart would cut
    points = 0
    for n in range(3, 40, 4):
        w = os.path.join(work, "crash%d" % n)
        os.makedirs(w)
        st = os.path.join(w, "state")
        c = write_config(os.path.join(w, "serve.json"), state_dir=st, risk={"max_order_qty": 100}, fsync="batch")
        s = Server(bourse, c, w, env={"BRS_FAULT_AFTER_WRITES": str(n), "BRS_FAULT_TORN": "1" if n % 3 == 0 else "0"})
        s.start()
        fl = None
        try:
            fl = Flow(s)
            fl.run()
        except (EOFError, AssertionError, OSError):
            pass
        s.proc.wait(10)
        if s.proc.returncode != -signal.SIGKILL:
            break  # the flow ended before the Nth write
        points += 1
        rs = rows(audit(bourse, st))
        aud = {(r["session"], r["clordid"], r["exec_id"]) for r in rs if r["source"].endswith(".store") and r["exec_id"]}
        told = {(x[0], x[1], x[3]) for x in (fl.got if fl else set()) if x[3]}
        if not told <= aud:
            errs.append("crash at write %d: reports received but not in the audit: %s" % (n, told - aud))
        s.start()
        again = rows(audit(bourse, st))
        s.stop()
        if again != rs:
            errs.append("crash at write %d: the audit changed across the restart" % n)
    check(points >= 5, "killed inside the writes at %d points: audit = what the clients were told, restart-stable"
          % points)
    # a sequence reset (Logon with ResetSeqNumFlag=Y) moves the session's old
    # store into STATE_DIR/archive/: its reports stay in the audit, once
    aw = os.path.join(work, "archive")
    os.makedirs(aw)
    ast_ = os.path.join(aw, "state")
    s = Server(bourse, write_config(os.path.join(aw, "serve.json"), state_dir=ast_), aw)
    s.start()
    try:
        c = Client(s.port, "CLIENT1")
        c.send("A", [(98, 0), (108, 30)], 1)
        c.recv(5)
        c.send("D", [(11, "r1"), (21, 1), (38, 5), (40, 2), (44, "10.00"), (54, 1), (55, "AAPL"), T], 2)
        c.recv(5)
        c.send("5", [], 3)
        c.recv(5)
        c.close()
        c = Client(s.port, "CLIENT1")
        c.send("A", [(98, 0), (108, 30), (141, "Y")], 1)
        c.recv(5)
        c.send("D", [(11, "r2"), (21, 1), (38, 5), (40, 2), (44, "10.00"), (54, 1), (55, "AAPL"), T], 2)
        c.recv(5)
        c.close()
    finally:
        s.stop()
    arch = os.listdir(os.path.join(ast_, "archive")) if os.path.isdir(os.path.join(ast_, "archive")) else []
    rs = [(r["clordid"], r["event"], r["source"].split(".store")[0]) for r in rows(audit(bourse, ast_))]
    check(len(arch) == 1 and rs == [("r1", "received", "journal"), ("r1", "acknowledged", "archive/EXEC-CLIENT1"),
                                    ("r2", "received", "journal"), ("r2", "acknowledged", "EXEC-CLIENT1")],
          "after a sequence reset: r1's report from the archived store, r2's from the live one, once each: %s" % rs)
    if not errs:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print("work dir kept: " + work)
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
