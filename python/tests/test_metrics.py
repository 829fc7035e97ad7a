"""bourse.metrics applies the run summary's conventions to any equity curve:
on a run's own equity it reproduces the summary's equity-based metrics."""
import os

import numpy as np
import pandas as pd
import pytest

import bourse


def test_metrics_match_the_summary(source_dir, monkeypatch):
    monkeypatch.chdir(source_dir)
    r = bourse.backtest("data/configs/demo-signal.json")
    m = bourse.metrics(r.equity, periods_per_year=252, risk_free_rate=0.02)
    for k in ("total_return", "cagr", "ann_volatility", "sharpe", "sortino", "max_drawdown",
              "max_drawdown_days", "calmar", "start_equity", "end_equity", "years",
              "n_daily_returns", "n_samples"):
        assert m[k] == pytest.approx(r.summary[k], rel=1e-12, abs=1e-12), k
    assert m["n_trades"] == 0


def test_metrics_of_an_outside_curve():
    idx = pd.date_range("2021-01-01", periods=253, freq="D", tz="UTC")
    eq = pd.Series(100 * 1.001 ** np.arange(253), index=idx)
    m = bourse.metrics(eq, periods_per_year=365)
    assert m["total_return"] == pytest.approx(1.001 ** 252 - 1, rel=1e-12)
    assert m["max_drawdown"] == 0
    assert m["ann_volatility"] == pytest.approx(0, abs=1e-9)


def test_returns_for_quantstats_style_tools(source_dir, monkeypatch):
    monkeypatch.chdir(source_dir)
    r = bourse.backtest("data/configs/demo-signal.json")
    ret = r.returns
    assert isinstance(ret.index, pd.DatetimeIndex) and ret.dtype == np.float64
    eq = r.equity["equity"]
    assert (1 + ret).prod() == pytest.approx(eq.iloc[-1] / eq.iloc[0], rel=1e-12)


@pytest.mark.parametrize("tspd", [23400, 86400, 3600])
def test_intraday_metrics_match_the_cli(source_dir, tmp_path, tspd):
    """A book run of minutes has no two daily returns: its Sharpe is intraday,
    annualised with trading_seconds_per_day. bourse.metrics on the CLI's
    equity.csv with the same setting gives the CLI's summary."""
    import json
    from conftest import run_cli
    with open(os.path.join(source_dir, "data", "configs", "demo-book.json")) as f:
        cfg = json.load(f)
    cfg["trading_seconds_per_day"] = tspd
    summary, out = run_cli(cfg, tmp_path)
    assert summary["returns_period_s"] < 86400  # the intraday path, or this proves nothing
    eq = pd.read_csv(out / "equity.csv")
    ts_col = eq.columns[0]
    idx = pd.DatetimeIndex(pd.to_datetime(eq[ts_col].to_numpy(np.int64), unit="ns", utc=True))
    m = bourse.metrics(pd.Series(eq["equity"].to_numpy(np.float64), index=idx),
                       periods_per_year=cfg["periods_per_year"], trading_seconds_per_day=tspd)
    assert m["return_periods_per_year"] == pytest.approx(252 * tspd / summary["returns_period_s"], rel=1e-15)
    for k in ("returns_period_s", "return_periods_per_year", "ann_volatility", "sharpe", "sortino",
              "total_return", "max_drawdown", "n_samples"):
        assert m[k] == pytest.approx(summary[k], rel=1e-12, abs=1e-12), k


def test_trading_seconds_per_day_range():
    idx = pd.date_range("2021-01-01", periods=100, freq="s", tz="UTC")
    eq = pd.Series(100.0 + np.arange(100) % 3, index=idx)
    for bad in (0, -1, 86401):
        with pytest.raises(bourse.RangeError, match="trading_seconds_per_day must be in"):
            bourse.metrics(eq, trading_seconds_per_day=bad)
    a = bourse.metrics(eq, trading_seconds_per_day=23400)
    b = bourse.metrics(eq, trading_seconds_per_day=86400)
    assert b["sharpe"] == pytest.approx(a["sharpe"] * (86400 / 23400) ** 0.5, rel=1e-12)
