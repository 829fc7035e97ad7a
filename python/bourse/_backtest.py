"""Backtests from Python through the host's run (the code behind `bourse
backtest`): signal_backtest() from NumPy/pandas arrays, backtest() from a
config (C, Lua or Python strategies, signal or book mode). The engine runs on a
worker thread with the GIL released; Ctrl-C stops it and removes what the run
had started to write."""
import json
import os
import shutil

import numpy as np

from . import _bourse
from ._result import Result, _temp_dir
from ._ticks import bars_to_records


class Strategy:
    """Optional base class of a Python strategy (any object with the callbacks
    works). Define only the callbacks you need: on_start(ctx), on_stop(ctx),
    on_bar(ctx, bar), on_top(ctx, top), on_trade(ctx, trade), on_depth(ctx,
    instrument), on_fill(ctx, ev), on_order(ctx, ev), on_timer(ctx, id, now).
    ``params`` declares parameters with their defaults (int, float, bool, str),
    set per run through the config's strategy.params; read them as
    ``ctx.params[name]``. ``name`` names the strategy in the run."""
    name = None
    params = {}


def _run(config, source, sets, out, **given):
    """Run through the host into `out` (a temporary directory when None)."""
    temporary = out is None
    path = _temp_dir() if temporary else str(out)
    existed = os.path.exists(path) and not temporary
    try:
        info = _bourse.run(json.dumps(config), source, sets, path, **given)
    except BaseException:
        # a failed or interrupted run leaves nothing behind
        if temporary or not existed:
            shutil.rmtree(path, ignore_errors=True)
        raise
    return Result(path, info, temporary=temporary)


def _sets(set_, overrides):
    out = []
    items = list((set_ or {}).items()) + list(overrides.items())
    for k, v in items:
        out.append("%s=%s" % (k.replace("__", "."), v if isinstance(v, str) else json.dumps(v)))
    return out


def _load(config_or_path):
    """(config dict, source name for messages) from a dict or a JSON file."""
    if isinstance(config_or_path, dict):
        return json.loads(json.dumps(config_or_path)), "<config>"
    source = str(config_or_path)
    with open(source, encoding="utf-8") as f:
        return json.load(f), source


def backtest(config_or_path, strategy=None, out=None, set=None, **overrides):
    """Run a backtest from a config (a dict, or the path of a JSON file; the
    same keys as `bourse backtest`, docs/backtesting.md). Overrides are
    `--set KEY=VALUE`s: backtest(cfg, **{"strategy.params.fast": 5}) or
    backtest(cfg, strategy__params__fast=5) ("__" stands for "."), or
    set={"signal.slippage.bps": 2}. strategy: a Python strategy object run
    through the strategy vtable instead of the config's strategy.file.
    out: keep the run directory there (default: a temporary one, removed with
    the Result unless saved). Returns a Result; raises a bourse.Error subclass
    with the host's message on bad input or a failed strategy, or the Python
    strategy's own exception."""
    config, source = _load(config_or_path)
    if strategy is not None:
        st = config.setdefault("strategy", {})
        if not isinstance(st, dict):
            raise TypeError("config['strategy'] must be an object")
        nm = getattr(strategy, "name", None) or type(strategy).__name__
        st.setdefault("file", "python:%s" % nm)
        st["file"] = "python:%s" % nm
    return _run(config, source, _sets(set, overrides), out, strategy=strategy)


def _opt(value, key, keys):
    if value is None:
        return None
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, str):
        return {keys[0]: value}
    return {key: float(value)}


def signal_backtest(bars, targets, *, execution="next_open", sizing=None, commission=None,
                    slippage=None, impact=None, initial_cash=100000.0, periods_per_year=252,
                    risk_free_rate=0.0, price_scale=1_000_000, title=None, out=None,
                    trading_seconds_per_day=23400):
    """A signal-mode backtest from arrays, with the rules and numbers of
    `bourse backtest --mode signal` and no Python call per bar.

    bars: an OHLCV DataFrame (prices in currency, DatetimeIndex of bar END
    times) or a dict {symbol: DataFrame}. targets: the position wanted after
    each bar's close, in [-1, 1] (NaN keeps the previous one): a Series or
    ndarray for one instrument, a DataFrame (one column per symbol) or a dict
    for several; executed at the next bar's open ("next_open") or at the same
    close ("same_close", opt-in look-ahead). sizing: "fraction"/"fixed", a
    number (fraction of equity for target 1), or {"mode", "fraction", "qty"}.
    commission: bps of notional, or {"per_share", "bps", "min"}. slippage: bps,
    or {"model": "bps"|"half_spread", "bps", "spread_bps"}. impact: k of the
    square-root model, or {"k", "window"}. Prices are rounded to
    1/price_scale (the Yahoo importer's 10^6 by default).
    trading_seconds_per_day: the config key of that name, annualising the
    intraday returns of a run shorter than two days (docs/analytics.md)."""
    import pandas as pd
    if isinstance(bars, pd.DataFrame):
        frames = {"SYMBOL": bars} if not getattr(bars, "name", None) else {bars.name: bars}
        symbols = list(frames)
        if isinstance(targets, pd.DataFrame):
            targets = targets.iloc[:, 0]
        tlist = [targets]
    elif isinstance(bars, dict):
        frames = dict(bars)
        symbols = list(frames)
        if isinstance(targets, pd.DataFrame):
            tlist = [targets[s] for s in symbols]
        elif isinstance(targets, dict):
            tlist = [targets[s] for s in symbols]
        else:
            t = np.asarray(targets, dtype=np.float64)
            if t.ndim != 2 or t.shape[1] != len(symbols):
                raise ValueError("targets: one column per symbol (%d)" % len(symbols))
            tlist = [t[:, i] for i in range(len(symbols))]
    else:
        raise TypeError("bars must be a DataFrame or a dict of DataFrames")
    records, tarrays = [], []
    for i, (sym, frame) in enumerate(frames.items()):
        rec = bars_to_records(frame, i, price_scale)
        t = tlist[i]
        if isinstance(t, pd.Series):
            t = t.reindex(frame.index) if not t.index.equals(frame.index) else t
            t = t.to_numpy(np.float64)
        t = np.ascontiguousarray(np.asarray(t, dtype=np.float64).reshape(-1))
        if len(t) != len(rec):
            raise ValueError("targets of %s: %d values for %d bars" % (sym, len(t), len(rec)))
        records.append(rec.view(np.uint8))
        tarrays.append(t)
    instruments = [{"symbol": str(s), "price_scale": int(price_scale)} for s in symbols]
    signal = {"execution": execution}
    for name, value, key, keys in (("sizing", sizing, "fraction", ["mode"]),
                                   ("commission", commission, "bps", ["per_share"]),
                                   ("slippage", slippage, "bps", ["model"]),
                                   ("impact", impact, "k", ["k"])):
        o = _opt(value, key, keys)
        if o is not None:
            if name == "slippage" and "model" not in o:
                o["model"] = "bps"
            signal[name] = o
    config = {"mode": "signal", "data": "<arrays>", "strategy": {"file": "<arrays>"},
              "initial_cash": float(initial_cash), "periods_per_year": periods_per_year,
              "risk_free_rate": risk_free_rate, "trading_seconds_per_day": trading_seconds_per_day,
              "signal": signal}
    if title:
        config["title"] = title
    return _run(config, "<signal_backtest>", [], out,
                bars=(instruments, records), targets=tarrays)
