"""Result: one finished run, backed by its run directory (summary.json,
equity.csv, trades.csv, orders.csv, fills.csv, config.json, report.html),
written by the host exactly as `bourse backtest` writes it. Tables load
lazily as DataFrames with a UTC DatetimeIndex. A run made in a temporary
directory is removed when the Result is garbage collected, unless saved."""
import json
import os
import shutil
import tempfile
import weakref

import numpy as np


def _temp_dir():
    return tempfile.mkdtemp(prefix="bourse-run-")


def _time_index(frame, col="ts", name="time"):
    import pandas as pd
    idx = pd.DatetimeIndex(frame[col].to_numpy(np.int64).view("datetime64[ns]"), tz="UTC", name=name)
    frame = frame.drop(columns=[c for c in (col, "time") if c in frame.columns])
    frame.index = idx
    return frame


class Result:
    """A finished run. ``summary`` (dict, summary.json), ``equity``, ``trades``,
    ``orders``, ``fills`` (DataFrames), ``returns`` (daily returns Series),
    ``report_html()``, ``save(dir)``; ``info`` has the run's counters (events,
    fills, orders, seconds) and ``path`` the run directory."""

    def __init__(self, path, info=None, temporary=False):
        self.path = str(path)
        self.info = info or {}
        self._cache = {}
        self._finalizer = (weakref.finalize(self, shutil.rmtree, self.path, True)
                           if temporary else None)

    def __repr__(self):
        s = self.summary
        return "<bourse.Result %s: total_return=%s sharpe=%s n_trades=%s>" % (
            s.get("title", ""), s.get("total_return"), s.get("sharpe"), s.get("n_trades"))

    def _file(self, name):
        return os.path.join(self.path, name)

    @property
    def summary(self):
        if "summary" not in self._cache:
            with open(self._file("summary.json")) as f:
                self._cache["summary"] = json.load(f)
        return self._cache["summary"]

    @property
    def config(self):
        with open(self._file("config.json")) as f:
            return json.load(f)

    def _csv(self, name, dtypes, time_col):
        import pandas as pd
        if name not in self._cache:
            f = pd.read_csv(self._file(name + ".csv"), dtype=dtypes, keep_default_na=False,
                            na_values={c: [""] for c, t in dtypes.items() if t == "float64"})
            self._cache[name] = _time_index(f, time_col) if time_col else f
        return self._cache[name]

    @property
    def equity(self):
        """Equity curve: equity, cash, drawdown, position_<SYM>, price_<SYM>."""
        return self._csv("equity", {"ts": "int64", "time": str, "equity": "float64", "cash": "float64",
                                    "drawdown": "float64"}, "ts")

    @property
    def fills(self):
        return self._csv("fills", {"ts": "int64", "time": str, "order_id": "uint64", "symbol": str,
                                   "side": "category", "qty": "int64", "price": "float64",
                                   "fee": "float64", "liquidity": str}, "ts")

    @property
    def orders(self):
        return self._csv("orders", {"order_id": "uint64", "ts": "int64", "time": str, "symbol": str,
                                    "side": "category", "type": "category", "tif": "category",
                                    "price": "float64", "qty": "int64", "filled_qty": "int64",
                                    "avg_fill_price": "float64", "fees": "float64", "n_fills": "int64",
                                    "n_replaces": "int64", "status": "category", "reason": str,
                                    "last_ts": "int64"}, "ts")

    @property
    def trades(self):
        """Round trips (FIFO): entry and exit times as UTC timestamps, index = exit time."""
        import pandas as pd
        if "trades" not in self._cache:
            f = pd.read_csv(self._file("trades.csv"), dtype={
                "trade_id": "int64", "symbol": str, "side": "category", "qty": "int64",
                "entry_ts": "int64", "entry_time": str, "entry_price": "float64", "exit_ts": "int64",
                "exit_time": str, "exit_price": "float64", "gross_pnl": "float64", "fees": "float64",
                "net_pnl": "float64", "return": "float64", "holding_seconds": "float64",
                "entry_order_id": "uint64", "exit_order_id": "uint64"})
            for c in ("entry", "exit"):
                f[c + "_time"] = pd.DatetimeIndex(f[c + "_ts"].to_numpy(np.int64).view("datetime64[ns]"),
                                                  tz="UTC")
            f.index = pd.DatetimeIndex(f["exit_time"], name="time")
            self._cache["trades"] = f
        return self._cache["trades"]

    @property
    def returns(self):
        """Daily simple returns of the equity curve (last sample of each UTC day),
        as QuantStats/empyrical-style tools take them."""
        eq = self.equity["equity"]
        daily = eq.groupby(eq.index.normalize()).last()
        r = daily.pct_change().dropna()
        r.name = "returns"
        return r

    def report_html(self):
        """report.html as text (one self-contained page)."""
        with open(self._file("report.html"), encoding="utf-8") as f:
            return f.read()

    def save(self, directory):
        """Copy the run directory to `directory` (created; must not exist) and
        keep it; returns a Result for it."""
        shutil.copytree(self.path, str(directory))
        return Result(directory, dict(self.info))
