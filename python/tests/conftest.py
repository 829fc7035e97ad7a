"""Shared fixtures of the bourse package tests: where the source tree and the
bourse binary are (CTest sets BOURSE_SOURCE_DIR and BOURSE_BIN), and running
the CLI on the same data for comparisons."""
import json
import os
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("BOURSE_SOURCE_DIR", os.path.dirname(os.path.dirname(HERE)))
BOURSE_BIN = os.environ.get("BOURSE_BIN", os.path.join(SOURCE_DIR, "build", "bourse"))


@pytest.fixture
def source_dir():
    return SOURCE_DIR


@pytest.fixture(autouse=True)
def _isolated_tmp(tmp_path, monkeypatch):
    """Each test's temporary run directories go to its own tmp_path/tmp, so a
    test can check that nothing was left behind."""
    import tempfile
    t = tmp_path / "tmp"
    t.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(t))
    yield


def run_cli(config, tmp_path, name="cli"):
    """`bourse backtest` on config (a dict); returns the run directory's summary."""
    cfg = tmp_path / (name + ".json")
    cfg.write_text(json.dumps(config))
    out = tmp_path / (name + "-run")
    p = subprocess.run([BOURSE_BIN, "backtest", str(cfg), "--out", str(out), "--quiet"],
                       capture_output=True, text=True, cwd=SOURCE_DIR)
    assert p.returncode == 0, p.stderr
    with open(out / "summary.json") as f:
        return json.load(f), out
