#!/usr/bin/python3
"""serve_vs_book.py: issue 17's "the same strategy, data and venues in a
book-mode backtest and in `bourse serve` with market_data.speed max and no
clients give the same fills". Each case takes one set of config pieces
(strategy file and params, venues, router, risk, latency, tick file), runs
`bourse backtest` on them (mode book, no flattening) and `bourse serve` on
them (the strategy under "strategies" with "out", market_data max with
stop_at_end, one FIX session nobody connects to), and compares the two run
directories' fills.csv, orders.csv, trades.csv and equity.csv byte for byte.
A control run with one parameter changed must differ, so the comparison can fail.

usage: serve_vs_book.py BOURSE SOURCE_DIR PLUGIN_DIR
"""
import copy
import json
import os
import subprocess
import sys
import tempfile

BOURSE, SRC, PLUGINS = sys.argv[1], sys.argv[2], sys.argv[3]
FILES = ["fills.csv", "orders.csv", "trades.csv", "equity.csv"]


def die(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def instruments(ticks):
    """The tick file's instruments as serve's "instruments" entries."""
    out = subprocess.run([BOURSE, "ticks", "info", ticks], capture_output=True, text=True, check=True).stdout
    res = []
    for line in out.splitlines():
        f = line.split()
        if "price_scale" in f:
            scale = int(f[f.index("price_scale") + 1])
            dec = len(str(scale)) - 1
            if 10 ** dec != scale:
                die("price_scale %d is not a power of ten" % scale)
            res.append({"symbol": f[1], "decimals": dec, "tick_size": int(f[f.index("tick_size") + 1]),
                        "lot_size": int(f[f.index("lot_size") + 1])})
    if not res:
        die("no instruments in " + ticks)
    return res


def run_book(pieces, out, work):
    cfg = {"mode": "book", "data": pieces["data"], "strategy": pieces["strategy"],
           "initial_cash": pieces["initial_cash"], "sample_every_ns": pieces["sample_every_ns"],
           "book": {"venues": pieces["venues"], "latency": pieces["latency"], "flatten_at_end": False}}
    if "router" in pieces:
        cfg["book"]["router"] = pieces["router"]
    if "risk" in pieces:
        cfg["risk"] = pieces["risk"]
    path = os.path.join(work, "book.json")
    json.dump(cfg, open(path, "w"), indent=1)
    r = subprocess.run([BOURSE, "backtest", path, "--out", out], capture_output=True, text=True, cwd=SRC)
    if r.returncode != 0:
        die("bourse backtest failed:\n" + r.stdout + r.stderr)


def run_serve(pieces, out, work):
    strat = dict(pieces["strategy"], out=out, initial_cash=pieces["initial_cash"],
                 sample_every_ns=pieces["sample_every_ns"])
    cfg = {"listen": {"host": "127.0.0.1", "port": 0},
           "sessions": [{"target_comp_id": "NOBODY"}],
           "instruments": instruments(os.path.join(SRC, pieces["data"])),
           "venues": pieces["venues"], "latency": pieces["latency"],
           "market_data": {"file": pieces["data"], "speed": "max", "stop_at_end": True},
           "strategies": [strat]}
    if "router" in pieces:
        cfg["router"] = pieces["router"]
    if "risk" in pieces:
        cfg["risk"] = pieces["risk"]
    path = os.path.join(work, "serve.json")
    json.dump(cfg, open(path, "w"), indent=1)
    env = dict(os.environ)
    env.pop("BOURSE_FIX_PORT", None)
    try:
        r = subprocess.run([BOURSE, "serve", path], capture_output=True, text=True, cwd=SRC, env=env,
                           timeout=120)
    except subprocess.TimeoutExpired:
        die("bourse serve did not stop at the end of the market data (market_data.stop_at_end)")
    if r.returncode != 0:
        die("bourse serve failed:\n" + r.stdout + r.stderr)
    if "market data replayed on the data's clock with the strategies" not in r.stderr:
        die("serve did not replay on the data's clock:\n" + r.stderr)


def rows(path):
    with open(path) as f:
        return f.read().splitlines()


def case(name, pieces, control):
    work = tempfile.mkdtemp(prefix="serve_vs_book-" + name + "-")
    book, serve = os.path.join(work, "book"), os.path.join(work, "serve")
    run_book(pieces, book, work)
    run_serve(pieces, serve, work)
    fills = rows(os.path.join(book, "fills.csv"))
    if len(fills) < 11:
        die("%s: only %d fills in the backtest: nothing to compare" % (name, len(fills) - 1))
    for f in FILES:
        a, b = rows(os.path.join(book, f)), rows(os.path.join(serve, f))
        if a != b:
            for i, (x, y) in enumerate(zip(a, b)):
                if x != y:
                    die("%s: %s differs at line %d:\n  backtest: %s\n  serve:    %s" % (name, f, i + 1, x, y))
            die("%s: %s: %d lines in the backtest, %d in serve" % (name, f, len(a), len(b)))
    print("%s: %d fills, %d orders: backtest and serve identical (%s)" %
          (name, len(fills) - 1, len(rows(os.path.join(book, "orders.csv"))) - 1, ", ".join(FILES)))
    if control:
        other = copy.deepcopy(pieces)
        other["strategy"]["params"].update(control)
        ctl = os.path.join(work, "control")
        run_serve(other, ctl, work)
        if rows(os.path.join(ctl, "fills.csv")) == fills:
            die("%s: the control run (%s) made the same fills: the comparison cannot fail" % (name, control))
        print("%s: control with %s differs, as it must" % (name, control))


mm = json.load(open(os.path.join(SRC, "data/configs/mm_two_venues.json")))
mm_pieces = {"data": mm["data"], "strategy": mm["strategy"], "initial_cash": mm["initial_cash"],
             "sample_every_ns": mm["sample_every_ns"], "venues": mm["book"]["venues"],
             "router": mm["book"]["router"], "latency": mm["book"]["latency"], "risk": mm["risk"]}
# 1. the Lua Avellaneda-Stoikov market maker through the router over lit and alt
case("mm_lua_router", mm_pieces, {"requote_ticks": 2})
# 2. its C twin (plugins/strategies/market_maker), the same pieces
c_pieces = copy.deepcopy(mm_pieces)
c_pieces["strategy"]["file"] = os.path.join(PLUGINS, "market_maker.so")
case("mm_c_router", c_pieces, None)
# 3. book imbalance on one sim venue, no router (a direct venue route), L3 data
bk = json.load(open(os.path.join(SRC, "data/configs/demo-book.json")))
case("imbalance_direct", {"data": bk["data"], "strategy": bk["strategy"], "initial_cash": bk["initial_cash"],
                          "sample_every_ns": bk["sample_every_ns"], "venues": bk["book"]["venues"],
                          "latency": bk["book"]["latency"]}, {"threshold": 0.6})
# 4. a timer strategy: a repeating timer set in on_start counts from the data's
# first instant in both (it used to start at clock 0 in a backtest), market
# orders on it through one venue
timer_lua = os.path.join(tempfile.mkdtemp(prefix="serve_vs_book-lua-"), "ticker.lua")
with open(timer_lua, "w") as f:
    f.write("""-- buys on even ticks, sells on odd ones, every 250 ms of the data's time
local n = 0
return {
  params = { qty = { type = "int", default = 10, min = 1 } },
  on_start = function(ctx) ctx:timer(250000000, 250000000) end,
  on_timer = function(ctx)
    n = n + 1
    if n % 2 == 0 then ctx:buy(ctx.params.qty) else ctx:sell(ctx.params.qty) end
  end,
}
""")
case("timer_direct", {"data": bk["data"], "strategy": {"file": timer_lua, "params": {"qty": 10}},
                      "initial_cash": 100000, "sample_every_ns": 0, "venues": bk["book"]["venues"],
                      "latency": bk["book"]["latency"]}, {"qty": 20})
print("ok")
