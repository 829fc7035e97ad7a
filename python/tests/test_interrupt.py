"""Ctrl-C during a long run: the engine runs on a worker thread with the GIL
released; the waiting thread sees the signal, asks the engine to stop, waits
for it and raises KeyboardInterrupt, leaving no run directory, no temporary
files and no thread behind. Checked in-process (interrupt_main) and with a
real SIGINT to a child process."""
import _thread
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

import pytest

import bourse

SLOW_LUA = """
-- a strategy slow enough that the run lasts long: busy work per bar; it logs
-- every 10000 bars, so a test sees how far a run got
local n = 0
return { name = "slow", on_bar = function(ctx, bar)
  local x = 0
  for i = 1, 3000 do x = x + i % 7 end
  n = n + 1
  if n % 10000 == 0 then ctx:log("bars", n) end
end }
"""
N_BARS = 400000


def bars_reached(stderr_text):
    """The last bar count the slow strategy logged."""
    import re
    seen = [int(m) for m in re.findall(r"bars (\d+)", stderr_text)]
    return max(seen) if seen else 0


@pytest.fixture
def slow_config(tmp_path):
    bars = tmp_path / "bars.ticks.zst"
    rc, out, err = bourse._bourse.command(["gen", "--bars", "--events", str(N_BARS), "--seed", "3",
                                            "-o", str(bars)])
    assert rc == 0, err
    (tmp_path / "slow.lua").write_text(SLOW_LUA)
    return {"mode": "signal", "data": str(bars), "strategy": {"file": str(tmp_path / "slow.lua")}}


def threads_now():
    return len(os.listdir("/proc/self/task"))


def test_ctrl_c_in_process(slow_config, tmp_path, capfd):
    before = threads_now()
    out = tmp_path / "run"
    timer = threading.Timer(0.5, _thread.interrupt_main)
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        bourse.backtest(slow_config, out=out)
    timer.join()
    reached = bars_reached(capfd.readouterr().err)
    assert reached < N_BARS  # the engine stopped early, not at the end of the data
    assert not out.exists()
    assert os.listdir(tempfile.gettempdir()) == []
    assert threads_now() == before
    # the interrupted run did not poison the next one
    bars = bourse.read_ticks(slow_config["data"])[:1000]
    small = tmp_path / "small.ticks.zst"
    bourse.write_ticks(small, bars, instruments=bourse.tick_info(slow_config["data"])["instruments"])
    r = bourse.backtest(dict(slow_config, data=str(small)), out=tmp_path / "again")
    assert r.summary["n_samples"] == 1000


def test_ctrl_c_python_strategy(source_dir, monkeypatch):
    monkeypatch.chdir(source_dir)

    class Slow(bourse.Strategy):
        n = 0

        def on_top(self, ctx, top):
            Slow.n += 1
            if Slow.n == 20:  # Ctrl-C once the run is surely under way, however loaded the machine
                _thread.interrupt_main()
            time.sleep(0.002)

    with pytest.raises(KeyboardInterrupt):
        bourse.backtest("data/configs/demo-book.json", strategy=Slow(), set={"strategy.params": {}})
    assert 20 <= Slow.n < 1000
    assert os.listdir(tempfile.gettempdir()) == []
    # and the next run works
    r = bourse.backtest("data/configs/demo-book.json")
    assert r.summary["n_fills"] > 0


def test_real_sigint_to_a_child(slow_config, tmp_path):
    out = tmp_path / "child-run"
    tmp = tmp_path / "child-tmp"
    tmp.mkdir()
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent("""
        import json, os, sys, time
        import bourse
        cfg = json.loads(sys.argv[1])
        print("ready", flush=True)
        t0 = time.monotonic()
        try:
            bourse.backtest(cfg, out=sys.argv[2])
            print("finished", flush=True)
        except KeyboardInterrupt:
            print("interrupted %.2f %s" % (time.monotonic() - t0, os.path.exists(sys.argv[2])),
                  flush=True)
            sys.exit(3)
    """))
    import json
    env = dict(os.environ, TMPDIR=str(tmp))
    p = subprocess.Popen([sys.executable, str(script), json.dumps(slow_config), str(out)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert p.stdout.readline().strip() == "ready"
    time.sleep(0.8)
    p.send_signal(signal.SIGINT)
    stdout, stderr = p.communicate(timeout=60)
    assert p.returncode == 3, (stdout, stderr)
    words = stdout.split()
    assert words[0] == "interrupted" and words[2] == "False", stdout
    assert bars_reached(stderr) < N_BARS  # stopped early
    assert not out.exists() and os.listdir(tmp) == []


def test_slow_strategy_logs_its_progress(slow_config, tmp_path, capfd):
    """What the tests above read: run a tenth of the bars to the end and see
    every 10000th logged."""
    bars = bourse.read_ticks(slow_config["data"])
    part = tmp_path / "part.ticks.zst"
    bourse.write_ticks(part, bars[: N_BARS // 10],
                       instruments=bourse.tick_info(slow_config["data"])["instruments"])
    bourse.backtest(dict(slow_config, data=str(part)))
    assert bars_reached(capfd.readouterr().err) == N_BARS // 10
