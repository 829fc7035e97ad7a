"""Python strategies per event run through the strategy vtable: each twin of a
shipped Lua strategy makes exactly the Lua script's fills (book mode on the
bundled L3 file, signal mode on bars), parameters come from the config, and a
Python exception stops the run and reaches the caller as itself."""
import copy
import json
import os

import pandas as pd
import pytest

import bourse


class BookImbalance(bourse.Strategy):
    """The twin of strategies-lua/book_imbalance.lua."""
    name = "book_imbalance_py"
    params = {"threshold": 0.6, "max_pos": 5, "min_qty": 1, "qty": 1}

    def __init__(self):
        self.working = {}
        self.pos = {}

    def on_top(self, ctx, top):
        i = top.instrument
        p = ctx.params
        if self.working.get(i) or top.bid_qty < p["min_qty"] or top.ask_qty < p["min_qty"]:
            return
        if top.bid_qty == 0 or top.ask_qty == 0:
            return
        imb = (top.bid_qty - top.ask_qty) / (top.bid_qty + top.ask_qty)
        pos = self.pos.get(i, 0)
        th, lim, q = p["threshold"], p["max_pos"], p["qty"]
        oid = None
        if imb > th and pos < lim:
            oid = ctx.buy(min(q, lim - pos), price=top.ask, tif="ioc", instrument=i)
        elif imb < -th and pos > -lim:
            oid = ctx.sell(min(q, lim + pos), price=top.bid, tif="ioc", instrument=i)
        elif imb * pos < 0 and abs(imb) > th / 2:
            if pos > 0:
                oid = ctx.sell(pos, price=top.bid, tif="ioc", instrument=i)
            else:
                oid = ctx.buy(-pos, price=top.ask, tif="ioc", instrument=i)
        if oid is not None:
            self.working[i] = True

    def on_order(self, ctx, ev):
        i = ev.instrument
        if ev.kind == "fill":
            self.pos[i] = self.pos.get(i, 0) + (ev.qty if ev.side == "buy" else -ev.qty)
        if ev.kind in ("rejected", "cancelled") or (ev.kind == "fill" and ev.leaves == 0):
            self.working[i] = False


class MaCross(bourse.Strategy):
    """The twin of strategies-lua/ma_cross.lua (signal mode: targets)."""
    name = "ma_cross_py"
    params = {"fast": 10, "slow": 30, "qty": 1, "allow_short": False}

    def on_start(self, ctx):
        p = ctx.params
        self.fast, self.slow = bourse.SMA(p["fast"]), bourse.SMA(p["slow"])
        self.short = -1 if p["allow_short"] else 0
        self.signal = ctx.target(0)

    def on_bar(self, ctx, bar):
        f, s = self.fast.update(bar.close), self.slow.update(bar.close)
        if s is None:
            return
        assert self.signal
        ctx.target(1 if f > s else (-1 if self.short else 0))


def fills_table(r):
    f = r.fills.reset_index()
    return f[["time", "order_id", "symbol", "side", "qty", "price", "fee", "liquidity"]]


def test_book_mode_twin_same_fills(source_dir, monkeypatch):
    monkeypatch.chdir(source_dir)
    cfg = json.load(open(os.path.join(source_dir, "data", "configs", "demo-book.json")))
    lua = bourse.backtest(cfg)
    py = bourse.backtest(copy.deepcopy(cfg), strategy=BookImbalance())
    assert lua.summary["n_fills"] > 20
    pd.testing.assert_frame_equal(fills_table(lua), fills_table(py))
    assert py.summary["net_pnl"] == lua.summary["net_pnl"]
    assert py.config["strategy"]["file"] == "python:book_imbalance_py"
    # parameters come from the config, as for Lua
    lua2 = bourse.backtest(cfg, **{"strategy.params.threshold": 0.3})
    py2 = bourse.backtest(copy.deepcopy(cfg), strategy=BookImbalance(), strategy__params__threshold=0.3)
    pd.testing.assert_frame_equal(fills_table(lua2), fills_table(py2))
    assert len(lua2.fills) != len(lua.fills)


def test_signal_mode_twin_same_fills(source_dir, monkeypatch):
    monkeypatch.chdir(source_dir)
    cfg = json.load(open(os.path.join(source_dir, "data", "configs", "demo-signal.json")))
    cfg["strategy"] = {"file": "strategies-lua/ma_cross.lua",
                       "params": {"fast": 5, "slow": 20, "allow_short": True}}
    lua = bourse.backtest(cfg)
    py = bourse.backtest(copy.deepcopy(cfg), strategy=MaCross())
    assert lua.summary["n_fills"] > 20
    pd.testing.assert_frame_equal(fills_table(lua), fills_table(py))
    assert py.summary["sharpe"] == lua.summary["sharpe"]


class Boom(bourse.Strategy):
    def __init__(self):
        self.n = 0

    def on_bar(self, ctx, bar):
        self.n += 1
        if self.n == 17:
            raise ZeroDivisionError("bar seventeen")


def test_undeclared_param_is_refused(source_dir, monkeypatch):
    monkeypatch.chdir(source_dir)
    with pytest.raises(bourse.InvalError, match="strategy.params.threshold: unknown parameter"):
        bourse.backtest("data/configs/demo-book.json", strategy=Boom())


def test_python_exception_reaches_the_caller(source_dir, monkeypatch, tmp_path):
    monkeypatch.chdir(source_dir)
    s = Boom()
    with pytest.raises(ZeroDivisionError, match="bar seventeen"):
        bourse.backtest("data/configs/demo-signal.json", strategy=s, out=tmp_path / "run",
                        set={"strategy.params": {}})
    assert s.n == 17  # stopped at once
    assert not (tmp_path / "run").exists()  # a failed run writes nothing


class Services(bourse.Strategy):
    """Exercises ctx: orders, position, pnl, timers, instrument, log."""
    def __init__(self):
        self.seen = {}

    def on_start(self, ctx):
        self.seen["instrument"] = ctx.instrument()
        self.seen["timers"] = 0

    def on_top(self, ctx, top):
        if "timer" not in self.seen and top.bid_qty and top.ask_qty:
            self.seen["timer"] = ctx.timer(1_000_000_000, 1_000_000_000)

    def on_timer(self, ctx, tid, now):
        self.seen["timers"] += 1
        if self.seen["timers"] == 2:
            top = ctx.top()
            self.seen["top"] = top
            self.seen["order"] = ctx.buy(2, price=top.ask, tif="ioc")
        if self.seen["timers"] == 5:
            self.seen["position"] = ctx.position()
            self.seen["pnl"] = ctx.pnl()
            self.seen["cancel_timer"] = ctx.cancel_timer(tid)
            self.seen["depth"] = ctx.depth("bid", 3)
            self.seen["now"] = ctx.now()
            ctx.log("five timers", 5)

    def on_fill(self, ctx, ev):
        self.seen.setdefault("fills", []).append((ev.kind, ev.side, ev.qty, ev.liquidity))


def test_ctx_services(source_dir, monkeypatch):
    monkeypatch.chdir(source_dir)
    s = Services()
    r = bourse.backtest("data/configs/demo-book.json", strategy=s, set={"strategy.params": {}})
    seen = s.seen
    assert seen["instrument"]["symbol"] == "GEN000"
    assert seen["timers"] == 5  # cancelled at the fifth
    assert seen["order"] is not None and seen["fills"][0][:3] == ("fill", "buy", 2)
    assert seen["position"][0] == 2 and seen["position"][1] == seen["top"].ask
    assert isinstance(seen["depth"], list)  # filled only for strategies that take depth
    assert r.summary["n_fills"] >= 2
    with pytest.raises(RuntimeError):
        seen["ctx_after"] = None
        Services.on_start(Services(), _stale_ctx(s))


def _stale_ctx(s):
    class Grab(bourse.Strategy):
        def on_start(self, ctx):
            self.ctx = ctx
    g = Grab()
    bourse.backtest("data/configs/demo-signal.json", strategy=g, set={"strategy.params": {}})
    return g.ctx  # ctx outside its run: its services refuse


class Nested(bourse.Strategy):
    def on_start(self, ctx):
        self.error = None
        try:
            bourse.backtest("data/configs/demo-signal.json")
        except RuntimeError as e:
            self.error = str(e)


def test_runs_take_turns(source_dir, monkeypatch):
    monkeypatch.chdir(source_dir)
    s = Nested()
    bourse.backtest("data/configs/demo-signal.json", strategy=s, set={"strategy.params": {}})
    assert "cannot start another run" in s.error
    import threading
    out = {}

    def one(k):
        out[k] = bourse.backtest("data/configs/demo-signal.json").summary["sharpe"]
    ts = [threading.Thread(target=one, args=(k,)) for k in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert len(set(out.values())) == 1 and len(out) == 3


class Vectorized(bourse.Strategy):
    """ctx.bars and ctx.set_targets: the Python form of sig_momentum."""
    name = "momentum_py"

    def on_start(self, ctx):
        import numpy as np
        b = ctx.bars()
        c = b["close"]
        t = np.zeros(len(b))
        t[20:] = np.where(c[20:] > c[:-20], 1.0, -1.0)
        assert ctx.set_targets(t)


def test_vectorized_python_equals_c_plugin(source_dir, monkeypatch):
    monkeypatch.chdir(source_dir)
    cfg = {"mode": "signal", "data": "data/bars/DEMO.csv", "strategy": {"file": "sig_momentum"}}
    c = bourse.backtest(cfg)
    py = bourse.backtest(cfg, strategy=Vectorized())
    assert c.summary["n_trades"] > 5
    pd.testing.assert_frame_equal(fills_table(c), fills_table(py))
