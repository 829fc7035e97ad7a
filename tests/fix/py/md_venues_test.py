"""md_venues_test.py: FIX market data per venue (MDMkt) and consolidated, on
data/configs/serve-routed.json (sim venues lit and alt, data/mm.ticks.zst
replayed at max, the Lua market maker, one session routed by the SOR).

- Subscriptions with MDMkt (275) lit or alt get that venue's book, every entry
  carrying 275; one without gets the consolidated book (levels of both venues
  summed by price, no 275 on its levels), which must equal the merge of the
  two venues' books. SecurityExchange (207) names a venue too.
- An unknown venue is refused (Y, 281=0, Text naming it); the subscription
  caps count (symbol, venue) pairs and still bite (281=2 naming the key).
- Known orders: a buy at the third bid level changes exactly one venue's level
  and the consolidated one by its size; a sell of the first three bid levels
  (fills with LastMkt lit and alt) moves both. The books each subscription keeps
  from its X messages equal fresh snapshots afterwards, the consolidated one
  equals the merge of the two venues', and the trade entry of our own resting
  buy names its venue.
- The market maker requotes after the replay: it gets tops from the venues'
  books after each client message once the replay is done, so after the sell
  took its bid its orders.csv has orders with real-clock times (before, it
  sent nothing after the replay).

usage: md_venues_test.py BOURSE SOURCE_DIR"""
import csv
import json
import os
import shutil
import sys
import tempfile
import time
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixclient import Client, Server  # noqa: E402

BOURSE, SRC = sys.argv[1], sys.argv[2]
SYM = "GEN000"
DEPTH = 10   # the consolidated subscriptions' depth
VDEPTH = 20  # the venues': the consolidated first 10 come from their first 10


def die(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def entries(m):
    """The NoMDEntries of a W or X as dicts (tag -> value), in order."""
    out, cur = [], None
    start = 279 if m.type == "X" else 269
    in_group = False
    for t, v in m.fields:
        if t == 268:
            in_group = True
            continue
        if not in_group or t == 10:
            continue
        if t == start:
            cur = {}
            out.append(cur)
        if cur is not None:
            cur[t] = v
    return out


class Book:
    """One subscription's book as its W and X messages build it."""

    def __init__(self):
        self.side = [{}, {}]

    def snapshot(self, m):
        self.side = [{}, {}]
        for e in entries(m):
            if e[269] in "01":
                self.side[int(e[269])][Decimal(e[270])] = int(e[271])

    def update(self, m):
        for e in entries(m):
            if e[269] not in "01":
                continue
            s, px = self.side[int(e[269])], Decimal(e[270])
            if e[279] == "2":
                if px not in s:
                    die("X deletes %s, not in the book: %r" % (px, m))
                del s[px]
            else:
                s[px] = int(e[271])

    def levels(self, side, n):
        ks = sorted(self.side[side], reverse=(side == 0))[:n]
        return [(k, self.side[side][k]) for k in ks]


def merged(a, b, side, n):
    tot = {}
    for bk in (a, b):
        for px, q in bk.levels(side, VDEPTH):
            tot[px] = tot.get(px, 0) + q
    ks = sorted(tot, reverse=(side == 0))[:n]
    return [(k, tot[k]) for k in ks]


class Party:
    def __init__(self, port):
        self.c = Client(port, "CLIENT1")
        self.seq = 1
        self.books = {}
        self.depth = {}
        self.queue = []
        self.send("A", [(98, 0), (108, 30)])
        m = self.c.recv(10)
        if not m or m.type != "A":
            die("no Logon answer: %r" % m)

    def send(self, t, f):
        self.c.send(t, f, self.seq)
        self.seq += 1

    def pump(self, secs):
        """Every message for secs; market data goes to its book."""
        end = time.time() + secs
        got = []
        while True:
            m = self.c.recv(max(0.0, end - time.time()))
            if m is None:
                return got
            got.append(m)
            rid = m.get(262)
            if m.type == "W" and rid in self.books:
                self.books[rid].snapshot(m)
            elif m.type == "X" and rid in self.books:
                self.books[rid].update(m)

    def wait(self, pred, secs=5.0, what="message"):
        """The first message (received before or now) pred holds for."""
        end = time.time() + secs
        while True:
            for i, m in enumerate(self.queue):
                if pred(m):
                    del self.queue[i]
                    return m, None
            if time.time() >= end:
                die("no %s; got %r" % (what, self.queue[-6:]))
            self.queue += self.pump(0.05)

    def md(self, rid, mkt=None, depth=DEPTH, sub=1, types="012", syms=None, tag=275, update="1"):
        f = [(262, rid), (263, sub), (264, depth)]
        if sub == 1:
            f.append((265, update))
        f.append((267, len(types)))
        f += [(269, t) for t in types]
        syms = syms or [(SYM, mkt)]
        f.append((146, len(syms)))
        for s, v in syms:
            f.append((55, s))
            if v:
                f.append((tag, v))
        if sub == 1:
            self.books[rid] = Book()
        self.send("V", f)

    def order(self, clordid, side, px, qty, tif):
        self.send("D", [(11, clordid), (21, 1), (38, qty), (40, 2), (44, px), (54, side), (55, SYM),
                        (59, tif), (60, "20261206-10:00:00")])


def check_mkt(m, want):
    for e in entries(m):
        if e[269] in "01" and e.get(275) != want:
            die("entry %r of %r: MDMkt %r, want %r" % (e, m, e.get(275), want))


def main():
    work = tempfile.mkdtemp(prefix="md_venues-")
    cfg = json.load(open(os.path.join(SRC, "data/configs/serve-routed.json")))
    cfg["market_data"]["file"] = os.path.join(SRC, cfg["market_data"]["file"])
    mm = cfg["strategies"][0]
    mm["file"] = os.path.join(SRC, mm["file"])
    mm["out"] = os.path.join(work, "mm")
    cfg["state_dir"] = os.path.join(work, "state")
    cfg["max_md_subscriptions_per_session"] = 5
    path = os.path.join(work, "serve.json")
    json.dump(cfg, open(path, "w"))
    srv = Server(BOURSE, path, work)
    srv.start_timeout = 120
    srv.start()
    wall0 = time.time_ns()
    p = Party(srv.port)

    # 1. snapshots: each venue's book with MDMkt on every entry, the
    # consolidated one without, equal to their merge
    p.md("l", "lit", VDEPTH)
    p.md("a", "alt", VDEPTH)
    p.md("c", None, DEPTH)
    ws = {}
    for rid in ("l", "a", "c"):
        m, _ = p.wait(lambda m, rid=rid: m.type == "W" and m.get(262) == rid, what="W " + rid)
        ws[rid] = m
    check_mkt(ws["l"], "lit")
    check_mkt(ws["a"], "alt")
    check_mkt(ws["c"], None)
    for side in (0, 1):
        if not p.books["l"].levels(side, 1) or not p.books["a"].levels(side, 1):
            die("a venue's book is empty after the replay")
        want = merged(p.books["l"], p.books["a"], side, DEPTH)
        if p.books["c"].levels(side, DEPTH) != want:
            die("consolidated side %d %r is not the merge of lit and alt %r" %
                (side, p.books["c"].levels(side, DEPTH), want))
    if p.books["l"].levels(0, VDEPTH) == p.books["a"].levels(0, VDEPTH):
        die("lit and alt show the same book: the subscriptions are not per venue")
    print("snapshots: lit %d+%d levels, alt %d+%d, consolidated = their merge" %
          (len(p.books["l"].side[0]), len(p.books["l"].side[1]), len(p.books["a"].side[0]),
           len(p.books["a"].side[1])))

    # 2. an unknown venue is refused by name; SecurityExchange (207) names one too
    p.md("x", "nope")
    m, _ = p.wait(lambda m: m.type == "Y" and m.get(262) == "x", what="Y for an unknown venue")
    if m.get(281) != "0" or "nope" not in m.get(58, "") or "lit" not in m.get(58, ""):
        die("unknown venue: %r" % m)
    del p.books["x"]
    p.md("s", "alt", 5, sub=0, tag=207)
    m, _ = p.wait(lambda m: m.type == "W" and m.get(262) == "s", what="W for SecurityExchange 207")
    check_mkt(m, "alt")
    print("unknown venue refused; SecurityExchange (207) names a venue")

    # 3. the caps count (symbol, venue) pairs: 3 live, a request for 2 more
    # pairs of one symbol is past max_md_subscriptions_per_session 5 ...
    p.md("two", syms=[(SYM, "lit"), (SYM, "alt")], depth=1)
    del p.books["two"]  # two books under one MDReqID: told apart by MDMkt, not followed here
    p.md("three", syms=[(SYM, "lit"), (SYM, "alt"), (SYM, None)], depth=1)
    m, _ = p.wait(lambda m: m.type in "YW" and m.get(262) == "three", what="answer to 'three'")
    if m.type != "Y" or m.get(281) != "2" or "max_md_subscriptions_per_session" not in m.get(58, ""):
        die("the per-session cap did not bite: %r" % m)
    # ... and the same pair listed twice is one subscription (5 of 5 now)
    p.md("dup", syms=[(SYM, "lit"), (SYM, "lit")], depth=1, sub=0)
    p.pump(0.3)
    del p.books["three"]
    print("caps: %s" % m.get(58))

    # the first journaled message gives the market maker its first top from
    # the venues' books (it may move its quotes): a buy far below
    p.order("w1", 1, "150.00", 1, 1)
    p.wait(lambda m: m.type == "8" and m.get(11) == "w1" and m.get(150) == "0", what="ack of w1")
    # 4. a buy at the third bid level: one venue's level and the consolidated one
    # grow by 7, the other venue's book does not change
    p.pump(0.5)
    before = {rid: dict(p.books[rid].side[0]) for rid in ("l", "a", "c")}
    bid = p.books["c"].levels(0, 3)[2][0]  # below the top: the market maker's view keeps still
    p.order("j1", 1, bid, 7, 1)
    p.wait(lambda m: m.type == "8" and m.get(11) == "j1" and m.get(150) == "0", what="ack of j1")
    p.pump(0.5)
    grew = [rid for rid in ("l", "a") if p.books[rid].side[0].get(bid, 0) - before[rid].get(bid, 0) == 7]
    if len(grew) != 1:
        die("the buy of 7 at %s did not show on exactly one venue: lit %s -> %s, alt %s -> %s" %
            (bid, before["l"].get(bid), p.books["l"].side[0].get(bid), before["a"].get(bid),
             p.books["a"].side[0].get(bid)))
    joined = grew[0]
    other = "a" if joined == "l" else "l"
    if p.books[other].side[0] != before[other]:
        die("the other venue's bids changed too")
    if p.books["c"].side[0].get(bid, 0) - before["c"].get(bid, 0) != 7:
        die("the consolidated bid at %s did not grow by 7" % bid)
    print("a buy of 7 at %s: +7 on %s and consolidated" % (bid, {"l": "lit", "a": "alt"}[joined]))

    # 5. a sell taking the first three bid levels of both venues (our own buy
    # and, quoting at the touch, the market maker's bid among them)
    top3 = p.books["c"].levels(0, 3)
    if top3[2][0] != bid:
        die("the third bid level moved: %r" % top3)
    p.order("s1", 2, bid, sum(q for _, q in top3), 3)
    venues, trades = set(), []
    end = time.time() + 5
    while time.time() < end:
        for m in p.pump(0.1):
            if m.type == "8" and m.get(11) == "s1" and m.get(150) == "F":
                venues.add(m.get(30))
            if m.type == "X":
                trades += [(m.get(262), e) for e in entries(m) if e[269] == "2"]
        if "lit" in venues and "alt" in venues and trades:
            break
    if venues != {"lit", "alt"}:
        die("the sell did not fill on both venues: %s" % venues)
    want_mkt = {"l": "lit", "a": "alt"}[joined]
    for rid in ("c", joined):
        mine = [e for r, e in trades if r == rid and e.get(270) and Decimal(e[270]) == bid]
        if not mine or any(e.get(275) != want_mkt for e in mine):
            die("subscription %s: no trade entry at %s with MDMkt %s: %r" % (rid, bid, want_mkt, trades))
    if any(r == other and Decimal(e[270]) == bid and int(e[271]) == 7 for r, e in trades):
        die("our buy's trade shows on the venue it was not on")
    p.pump(1.0)

    # 6. every book the X messages built is what a fresh snapshot says, and the
    # consolidated one is the merge of the venues'
    for side in (0, 1):
        want = merged(p.books["l"], p.books["a"], side, DEPTH)
        if p.books["c"].levels(side, DEPTH) != want:
            die("after the sell, consolidated side %d %r != merge %r" % (side, p.books["c"].levels(side, DEPTH),
                                                                         want))
    for rid, mkt, depth in (("l", "lit", VDEPTH), ("a", "alt", VDEPTH), ("c", None, DEPTH)):
        p.md("snap-" + rid, mkt, depth, sub=0)
        m, _ = p.wait(lambda m, rid=rid: m.type == "W" and m.get(262) == "snap-" + rid, what="snapshot")
        fresh = Book()
        fresh.snapshot(m)
        for side in (0, 1):
            if fresh.levels(side, depth) != p.books[rid].levels(side, depth):
                die("%s side %d: updates built %r, a snapshot says %r" %
                    (rid, side, p.books[rid].levels(side, depth), fresh.levels(side, depth)))
    print("after the sell (fills on lit and alt): every subscription's book = a fresh snapshot")

    srv.stop()
    # 7. the market maker sent orders after the replay (real-clock times)
    rows = list(csv.DictReader(open(os.path.join(work, "mm", "orders.csv"))))
    late = [r for r in rows if int(r["ts"]) >= wall0]
    if not late:
        die("the market maker sent no order after the replay (%d orders, all on the data's clock)" % len(rows))
    print("market maker: %d orders, %d sent after the replay" % (len(rows), len(late)))
    shutil.rmtree(work, ignore_errors=True)
    print("ok")


main()
