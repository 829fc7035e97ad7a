"""bourse.metrics applies the run summary's conventions to any equity curve:
on a run's own equity it reproduces the summary's equity-based metrics."""
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
