#!/usr/bin/python3
"""audit_gen.py: a synthetic state directory for `bourse audit`, as large as
asked: the order journal (FIX requests, risk refusals, routed children,
WebSocket requests and reports, commit marks, an uncommitted tail) and the
session stores (ExecutionReports, cancel rejects, batch marks), plus an
archive/ of an older day. Not a server's output, but every record kind and
every link the audit makes: replaces and cancels named by OrigClOrdID,
ClOrdIDs reused within and across sessions, unknown orders, many events in
one millisecond. Deterministic for a seed.

    audit_gen.py OUT_DIR [--orders N] [--seed S]

Used by audit_spill_test.py (spilled vs in-memory output) and for the
figures in docs/performance.md ("bourse audit in bounded memory")."""
import json
import os
import random
import struct
import sys

SOH = "\x01"
J_COMMIT = 0x7FFFFFFD
J_CHILD = 0x7FFFFFE2
J_WS = 0x7FFFFFE3
J_WS_REPORT = 0x7FFFFFE5
J_RISK_REFUSED = 0x80000000
DAY0 = 1796486400_000_000_000  # 2026-12-06T00:00:00Z


def fix(fields):
    body = "".join(f"{t}={v}{SOH}" for t, v in fields)
    head = f"8=FIX.4.4{SOH}9={len(body)}{SOH}"
    msg = head + body
    return (msg + f"10={sum(msg.encode()) % 256:03d}{SOH}").encode()


def ftime(ns):
    s, ms = divmod(ns // 1_000_000, 1000)
    import time
    tm = time.gmtime(s)
    return time.strftime("%Y%m%d-%H:%M:%S", tm) + f".{ms:03d}"


class Day:
    def __init__(self, rnd, t0, sessions, accounts):
        self.rnd = rnd
        self.t = t0
        self.j = bytearray()
        self.stores = {s: bytearray() for s in sessions}
        self.seq_in = {s: 1 for s in sessions}
        self.seq_out = {s: 1 for s in sessions}
        self.sessions = sessions
        self.accounts = accounts
        self.batch = 0
        self.exec_id = 0

    def tick(self):
        # many events share a millisecond
        if self.rnd.random() < 0.6:
            self.t += self.rnd.choice((0, 1_000, 250_000, 1_000_000, 3_000_000))
        return self.t

    def jrec(self, typ, body):
        self.j += struct.pack("<II", typ, len(body)) + body

    def request(self, s, msgtype, fields, refused=False):
        seq = self.seq_in[s]
        self.seq_in[s] += 1
        client_t = self.tick() - self.rnd.randrange(0, 5_000_000)
        m = fix([(35, msgtype), (49, s), (56, "BOURSE"), (34, seq), (52, ftime(client_t))] + fields)
        self.jrec(self.sessions.index(s) | (J_RISK_REFUSED if refused else 0), m)

    def report(self, s, fields, msgtype="8"):
        seq = self.seq_out[s]
        self.seq_out[s] += 1
        t = self.tick()
        m = fix([(35, msgtype), (49, "BOURSE"), (56, s), (34, seq), (52, ftime(t)), (60, ftime(t))] + fields)
        self.stores[s] += struct.pack("<BII", ord("O"), seq, len(m)) + m

    def er(self, s, oid, cl, et, st, sym, side, qty, px, cum, leaves, orig=None, last=None, reason=None):
        self.exec_id += 1
        f = [(37, oid), (11, cl)]
        if orig:
            f.append((41, orig))
        f += [(17, f"E{self.exec_id}"), (150, et), (39, st), (55, sym), (54, side), (38, qty), (44, px),
              (14, cum), (151, leaves)]
        if last:
            f += [(32, last[0]), (31, last[1]), (30, last[2])]
        if reason:
            f.append((58, reason))
        self.report(s, f)

    def child(self, ev, s, oid, venue, child, px, qty, cum, side):
        t = self.tick()
        sb, ob, vb = s.encode(), oid.encode(), venue.encode()
        h = bytearray(56)
        h[0] = ev
        h[1] = side
        h[3] = len(sb)
        struct.pack_into("<qQqqqi", h, 8, t, child, px, qty, cum, 0)
        h[52] = len(ob)
        h[53] = len(vb)
        h[55] = 2
        self.jrec(J_CHILD, bytes(h) + sb + ob + vb)

    def ws(self, acct, req, report=None):
        t = self.tick()
        self.jrec(J_WS, struct.pack("<Iq", acct, t) + json.dumps(req).encode())
        if report:
            name = self.accounts[acct].encode()
            self.jrec(J_WS_REPORT, struct.pack("<IqB", acct, self.tick(), len(name)) + name +
                      json.dumps(report).encode())

    def commit(self):
        self.batch += 1
        for s in self.sessions:
            self.stores[s] += struct.pack("<BII", ord("T"), 0, 8) + struct.pack("<Q", self.batch)
        self.jrec(J_COMMIT, struct.pack("<Q", self.batch))

    def mark(self):
        """the batch being written: reports after it belong to it"""
        for s in self.sessions:
            self.stores[s] += struct.pack("<BII", ord("T"), 0, 8) + struct.pack("<Q", self.batch + 1)


def one_order(d, rnd, i, oid_base, cl_prefix):
    s = rnd.choice(d.sessions)
    sym = rnd.choice(("AAPL", "MSFT", "IBM", "A-VERY-LONG-SYMBOL-NAME-XYZ-123"))
    side = rnd.choice(("1", "2"))
    qty = rnd.randrange(1, 50) * 100
    px = f"{rnd.randrange(9000, 11000) / 100:.2f}"
    # ClOrdIDs repeat now and then (within and across sessions)
    cl = f"{cl_prefix}{i if rnd.random() > 0.02 else rnd.randrange(0, i + 1)}"
    oid = str(oid_base + i)
    kind = rnd.random()
    if kind < 0.04:  # refused by risk
        d.request(s, "D", [(11, cl), (55, sym), (54, side), (38, qty), (40, 2), (44, px)], refused=True)
        d.er(s, "NONE", cl, "8", "8", sym, side, qty, px, 0, 0, reason="risk: notional")
        return
    if kind < 0.07:  # a cancel of an unknown order
        d.request(s, "F", [(11, cl + "x"), (41, "UNKNOWN" + cl), (55, sym), (54, side)])
        d.report(s, [(37, "NONE"), (11, cl + "x"), (41, "UNKNOWN" + cl), (39, "8"), (434, 1),
                     (58, "unknown order")], msgtype="9")
        return
    if kind < 0.12:  # a WebSocket order
        acct = rnd.randrange(0, len(d.accounts))
        wcl = f"w{cl}"
        d.ws(acct, {"op": "place", "client_order_id": wcl, "symbol": sym, "side": "buy", "qty": qty,
                    "price": px},
             {"event": "accepted", "client_order_id": wcl, "symbol": sym, "side": "buy", "qty": qty,
              "price": px, "status": "new", "leaves_qty": qty})
        if rnd.random() < 0.5:
            d.ws(acct, {"op": "cancel", "client_order_id": wcl},
                 {"event": "cancelled", "client_order_id": wcl, "status": "cancelled"})
        if rnd.random() < 0.1:
            d.ws(acct, {"op": "place", "symbol": sym})  # no client_order_id
        return
    d.request(s, "D", [(11, cl), (55, sym), (54, side), (38, qty), (40, 2), (44, px)])
    d.er(s, oid, cl, "0", "0", sym, side, qty, px, 0, qty)
    cum, cur = 0, cl
    if rnd.random() < 0.15:  # routed: children
        for c in range(rnd.randrange(1, 3)):
            child = (i << 4) + c
            d.child(1, s, oid, rnd.choice(("XNAS", "ARCX")), child, 10012, qty // 2, 0, int(side) - 1)
            d.child(3, s, oid, "XNAS", child, 10012, qty // 2, 0, int(side) - 1)
            if rnd.random() < 0.5:
                d.child(4, s, oid, "XNAS", child, 10012, 100, 100, int(side) - 1)
    for _ in range(rnd.randrange(0, 3)):  # fills
        if cum + 100 > qty:
            break
        cum += 100
        d.er(s, oid, cur, "F", "1", sym, side, qty, px, cum, qty - cum, last=(100, px, "XNAS"))
    r = rnd.random()
    if r < 0.25:  # replaced, then maybe cancelled by the new ClOrdID
        new = cur + "r"
        d.request(s, "G", [(11, new), (41, cur), (55, sym), (54, side), (38, qty + 100), (40, 2), (44, px)])
        d.er(s, oid, new, "5", "5", sym, side, qty + 100, px, cum, qty + 100 - cum, orig=cur)
        cur = new
    if r < 0.1 or 0.25 <= r < 0.55:
        cx = cur + "c"
        d.request(s, "F", [(11, cx), (41, cur), (55, sym), (54, side)])
        if rnd.random() < 0.9:
            d.er(s, oid, cx, "4", "4", sym, side, qty, px, cum, 0, orig=cur)
        else:  # answered later, or never (the request keeps the client's time)
            pass


def day(rnd, t0, n, oid_base, cl_prefix, sessions, accounts, tail):
    d = Day(rnd, t0, sessions, accounts)
    d.mark()
    for i in range(n):
        one_order(d, rnd, i, oid_base, cl_prefix)
        if i % 37 == 36:
            d.commit()
            d.mark()
    d.commit()
    if tail:  # after the last commit: never sent, left out
        d.mark()
        for i in range(n, n + 5):
            one_order(d, rnd, i, oid_base, cl_prefix)
    return d


def main():
    out = sys.argv[1]
    n, seed = 1000, 1
    args = sys.argv[2:]
    while args:
        k = args.pop(0)
        if k == "--orders":
            n = int(args.pop(0))
        elif k == "--seed":
            seed = int(args.pop(0))
        else:
            sys.exit(f"audit_gen.py: unknown option {k}")
    rnd = random.Random(seed)
    sessions = [f"CLIENT{k}" for k in range(1, 6)]
    accounts = ["alice", "bob", "carol"]
    os.makedirs(os.path.join(out, "archive"), exist_ok=True)
    # an older day, compacted into the archive
    old = day(rnd, DAY0 - 86_400_000_000_000 + 13 * 3_600_000_000_000, max(1, n // 5), 5_000_000, "A",
              sessions, accounts, False)
    stamp = "20261205-220000.000000000"
    open(os.path.join(out, "archive", f"orders.journal.{stamp}"), "wb").write(old.j)
    for s, b in old.stores.items():
        open(os.path.join(out, "archive", f"{s}.store.{stamp}"), "wb").write(b)
    live = day(rnd, DAY0 + 13 * 3_600_000_000_000, n, 1, "C", sessions, accounts, True)
    open(os.path.join(out, "orders.journal"), "wb").write(live.j)
    for s, b in live.stores.items():
        open(os.path.join(out, f"{s}.store"), "wb").write(b)


if __name__ == "__main__":
    main()
