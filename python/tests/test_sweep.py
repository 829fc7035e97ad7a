"""bourse.sweep: one row per combination, each equal to the run made alone;
a failing combination is a row with its error, not a crash."""
import pytest

import bourse


def test_sweep_rows_equal_single_runs(source_dir, monkeypatch):
    monkeypatch.chdir(source_dir)
    grid = {"fast": [5, 10, 50], "slow": [20, 40]}
    t = bourse.sweep("data/configs/demo-signal.json", grid=grid, jobs=2)
    assert list(t[["fast", "slow"]].itertuples(index=False, name=None)) == [
        (5, 20), (5, 40), (10, 20), (10, 40), (50, 20), (50, 40)]
    ok = t[t["error"].isna()]
    assert len(ok) == 4
    bad = t[t["error"].notna()]
    assert all("must be below slow" in e for e in bad["error"])
    for _, row in ok.iterrows():
        r = bourse.backtest("data/configs/demo-signal.json",
                            **{"strategy.params.fast": int(row["fast"]), "strategy.params.slow": int(row["slow"])})
        assert row["sharpe"] == r.summary["sharpe"] and row["n_trades"] == r.summary["n_trades"]
    s = bourse.sweep("data/configs/demo-signal.json", grid={"signal.slippage.bps": [0, 10]}, jobs=1,
                     sort="total_return")
    assert s["total_return"].iloc[0] > s["total_return"].iloc[1]
    assert list(s["signal.slippage.bps"]) == [0, 10]
