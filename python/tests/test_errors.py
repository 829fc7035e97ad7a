"""Errors raise bourse.Error subclasses (one per BRS_E_ code) carrying the
host's message: bad configs name the key and the file, a Lua error names the
script and line, a missing plugin names what was looked for."""
import json

import pytest

import bourse
from bourse import _bourse


def test_one_class_per_code():
    codes = _bourse.errors_by_code
    assert len(codes) >= 30
    for code, cls in codes.items():
        assert issubclass(cls, bourse.Error) and cls is not bourse.Error
        assert getattr(bourse, cls.__name__) is cls
    assert codes[-1] is bourse.InvalError and codes[-4] is bourse.NotfoundError
    assert codes[-40] is bourse.ScriptError


def test_config_errors_name_key_and_file(tmp_path, source_dir, monkeypatch):
    monkeypatch.chdir(source_dir)
    with pytest.raises(bourse.InvalError) as e:
        bourse.backtest("data/configs/demo-signal.json", signal__sizing__mood="x")
    # the bad key came from an override, and the message says so (issue 19's provenance)
    assert "signal.sizing.mood" in str(e.value) and "--set" in str(e.value)
    assert e.value.code == -1 and e.value.name == "BRS_E_INVAL"
    with pytest.raises(bourse.Error) as e:
        bourse.backtest("data/configs/demo-signal.json", initial_cash="lots")
    assert "initial_cash" in str(e.value)
    with pytest.raises(bourse.RangeError) as e:
        bourse.backtest("data/configs/demo-signal.json", initial_cash=-5)
    assert "initial_cash must be > 0" in str(e.value)
    with pytest.raises(bourse.InvalError) as e:
        bourse.backtest({"mode": "signal"})
    assert "missing key 'data'" in str(e.value)
    bad = tmp_path / "bad.json"
    bad.write_text('{"mode": "signal",\n  "data": }')
    with pytest.raises(json.JSONDecodeError):
        bourse.backtest(str(bad))


def test_strategy_errors(tmp_path, source_dir, monkeypatch):
    monkeypatch.chdir(source_dir)
    (tmp_path / "bad.lua").write_text('return { on_bar = function(ctx, bar)\n  local x = nil\n  return x.y\nend }\n')
    with pytest.raises(bourse.ScriptError) as e:
        bourse.backtest("data/configs/demo-signal.json", set={"strategy": {"file": str(tmp_path / "bad.lua")}})
    assert "bad.lua:3" in str(e.value)
    with pytest.raises(bourse.NotfoundError) as e:
        bourse.backtest("data/configs/demo-signal.json", set={"strategy": {"file": "no_such_plugin"}})
    assert "no_such_plugin" in str(e.value)
    with pytest.raises(bourse.Error) as e:
        bourse.backtest("data/configs/demo-signal.json", strategy__params__fast=0)
    assert "fast" in str(e.value)


def test_metrics_errors():
    import numpy as np
    import pandas as pd
    idx = pd.date_range("2020-01-01", periods=3, freq="D", tz="UTC")
    with pytest.raises(bourse.RangeError):
        bourse.metrics(pd.Series([1.0, 2.0, 3.0], index=idx), periods_per_year=0)
    with pytest.raises(bourse.InvalError):
        bourse.metrics(pd.Series([1.0, 2.0, 3.0], index=idx[::-1]))
    with pytest.raises(ValueError):
        bourse.metrics(pd.Series([1.0, np.nan, 3.0], index=idx))
