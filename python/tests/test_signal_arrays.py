"""signal_backtest from arrays gives the CLI's summary.json on the same data:
the bars written to a tick file, the same targets handed over by a Lua script
(ctx:set_targets), `bourse backtest` on both; every number to 1e-12."""
import math

import numpy as np
import pandas as pd
import pytest

import bourse
from conftest import run_cli


def random_bars(n, seed, start="2015-01-02", freq="D"):
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.015, n)))
    opn = close * np.exp(rng.normal(0, 0.004, n))
    high = np.maximum(opn, close) * (1 + rng.uniform(0, 0.01, n))
    low = np.minimum(opn, close) * (1 - rng.uniform(0, 0.01, n))
    vol = rng.integers(10_000, 1_000_000, n)
    idx = pd.date_range(start, periods=n, freq=freq, tz="UTC") + pd.Timedelta(days=1)
    return pd.DataFrame({"open": opn, "high": high, "low": low, "close": close, "volume": vol},
                        index=idx).round(4)


def random_targets(n, seed):
    rng = np.random.default_rng(seed)
    t = rng.choice([-1.0, -0.5, 0.0, 0.25, 0.5, 1.0, np.nan], size=n, p=[.1, .1, .2, .1, .1, .2, .2])
    # hold each signal a while, like a real strategy
    return pd.Series(t).where(np.arange(n) % 7 == 0).ffill().to_numpy()


def lua_literal(x):
    return "0/0" if math.isnan(x) else repr(float(x))


def targets_script(path, arrays):
    body = ["local T = {"]
    for a in arrays:
        body.append("  {" + ", ".join(lua_literal(v) for v in a) + "},")
    body.append("}")
    body.append('return { name = "targets", on_start = function(ctx)\n'
                "  for i = 1, #T do ctx:set_targets(T[i], i - 1) end\nend }")
    path.write_text("\n".join(body) + "\n")


def compare(py, cli):
    checked = 0
    for k, v in cli.items():
        if k in ("title", "instruments"):
            continue
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            assert py[k] is not None, k
            assert py[k] == pytest.approx(v, rel=1e-12, abs=1e-12), k
            checked += 1
        else:
            assert py[k] == v, k
    for a, b in zip(py["instruments"], cli["instruments"]):
        for k, v in b.items():
            assert a[k] == (pytest.approx(v, rel=1e-12, abs=1e-12) if isinstance(v, float) else v), k
    assert checked >= 30
    return checked


SIGNAL = {"execution": "next_open",
          "sizing": {"mode": "fraction", "fraction": 0.8},
          "commission": {"per_share": 0.005, "bps": 1.0, "min": 1.0},
          "slippage": {"model": "bps", "bps": 2.0},
          "impact": {"k": 0.1, "window": 20}}


@pytest.mark.parametrize("execution", ["next_open", "same_close"])
@pytest.mark.parametrize("costs", [True, False])
def test_one_instrument_matches_cli(tmp_path, source_dir, execution, costs):
    bars = random_bars(1500, 7)
    targets = random_targets(len(bars), 11)
    sig = dict(SIGNAL, execution=execution) if costs else {"execution": execution}
    r = bourse.signal_backtest(bars, targets, execution=execution,
                               sizing=sig.get("sizing"), commission=sig.get("commission"),
                               slippage=sig.get("slippage"), impact=sig.get("impact"),
                               initial_cash=250000, periods_per_year=252, risk_free_rate=0.01)
    assert r.summary["n_trades"] > 10
    bourse.write_ticks(tmp_path / "bars.ticks.zst", bars, instruments=["SYMBOL"])
    targets_script(tmp_path / "targets.lua", [targets])
    cli, _ = run_cli({"mode": "signal", "data": str(tmp_path / "bars.ticks.zst"),
                      "strategy": {"file": str(tmp_path / "targets.lua")},
                      "initial_cash": 250000, "periods_per_year": 252, "risk_free_rate": 0.01,
                      "signal": sig}, tmp_path)
    compare(r.summary, cli)


def test_several_instruments_match_cli(tmp_path):
    a = random_bars(800, 1)
    b = random_bars(800, 2)
    b = b.iloc[::2]  # different bar times: merged by time
    ta, tb = random_targets(len(a), 3), random_targets(len(b), 4)
    r = bourse.signal_backtest({"AAA": a, "BBB": b}, {"AAA": ta, "BBB": tb},
                               sizing={"mode": "fixed", "qty": 50}, commission=1.5,
                               slippage={"model": "half_spread", "spread_bps": 4})
    recs = np.concatenate([bourse.bars_to_records(a, 0), bourse.bars_to_records(b, 1)])
    recs = recs[np.argsort(recs["ts_exchange"], kind="stable")]
    bourse.write_ticks(tmp_path / "two.ticks.zst", recs, instruments=["AAA", "BBB"])
    targets_script(tmp_path / "targets.lua", [ta, tb])
    cli, _ = run_cli({"mode": "signal", "data": str(tmp_path / "two.ticks.zst"),
                      "strategy": {"file": str(tmp_path / "targets.lua")},
                      "signal": {"sizing": {"mode": "fixed", "qty": 50},
                                 "commission": {"bps": 1.5},
                                 "slippage": {"model": "half_spread", "spread_bps": 4}}}, tmp_path)
    compare(r.summary, cli)
    assert set(r.fills["symbol"]) == {"AAA", "BBB"}


@pytest.mark.parametrize("tspd", [23400, 86400])
def test_intraday_bars_match_cli(tmp_path, tspd):
    """Minute bars over less than two days: the Sharpe is intraday, annualised
    with trading_seconds_per_day, the same from arrays as from the CLI."""
    bars = random_bars(300, 5, start="2024-01-02 14:30", freq="min")  # 14:30-19:30, one day
    targets = random_targets(len(bars), 6)
    r = bourse.signal_backtest(bars, targets, commission=1.0, trading_seconds_per_day=tspd)
    assert r.summary["returns_period_s"] < 86400
    assert r.summary["return_periods_per_year"] == pytest.approx(
        252 * tspd / r.summary["returns_period_s"], rel=1e-15)
    bourse.write_ticks(tmp_path / "bars.ticks.zst", bars, instruments=["SYMBOL"])
    targets_script(tmp_path / "targets.lua", [targets])
    cli, _ = run_cli({"mode": "signal", "data": str(tmp_path / "bars.ticks.zst"),
                      "strategy": {"file": str(tmp_path / "targets.lua")},
                      "trading_seconds_per_day": tspd,
                      "signal": {"commission": {"bps": 1.0}}}, tmp_path)
    compare(r.summary, cli)


def test_result_tables(tmp_path):
    bars = random_bars(300, 5)
    t = np.where(bars["close"] > bars["close"].rolling(20).mean(), 1.0, 0.0)
    r = bourse.signal_backtest(bars, t)
    eq = r.equity
    assert isinstance(eq.index, pd.DatetimeIndex) and str(eq.index.tz) == "UTC"
    assert eq["equity"].dtype == np.float64 and len(eq) == len(bars)
    assert r.fills["qty"].dtype == np.int64 and (r.fills["qty"] > 0).all()
    assert len(r.orders) == r.summary["n_orders"]
    assert len(r.trades) == r.summary["n_trades"]
    assert r.returns.index.is_monotonic_increasing and len(r.returns) == r.summary["n_daily_returns"]
    html = r.report_html()
    assert html.startswith("<!DOCTYPE html>") and "window.brsReport" in html  # the interactive report
    saved = r.save(tmp_path / "kept")
    assert (tmp_path / "kept" / "summary.json").exists()
    assert saved.summary == r.summary
    # the Series index may differ from the bars' when aligned: reindexed, NaN keeps
    s = pd.Series(t, index=bars.index).iloc[5:]
    r2 = bourse.signal_backtest(bars, s)
    assert r2.summary["n_trades"] >= 1


def test_bad_targets_raise_host_errors():
    bars = random_bars(50, 9)
    with pytest.raises(bourse.Error) as e:
        bourse.signal_backtest(bars, np.full(len(bars), 2.0))
    assert "target" in str(e.value)
    with pytest.raises(ValueError):
        bourse.signal_backtest(bars, np.zeros(10))
    with pytest.raises(bourse.InvalError) as e:
        bourse.signal_backtest(bars, np.zeros(len(bars)), execution="tomorrow")
    assert "signal.execution is 'tomorrow'" in str(e.value)
    back = bars.iloc[::-1]
    with pytest.raises(bourse.ParseError) as e:
        bourse.signal_backtest(back, np.zeros(len(bars)))
    assert "back in time" in str(e.value)
