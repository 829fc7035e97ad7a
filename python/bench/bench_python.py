#!/usr/bin/env python3
"""bench_python.py: the Python package's benchmarks (what `make bench` runs
after the host's): a 1,000,000-bar signal backtest from NumPy/pandas arrays
end to end against `bourse backtest` on the same bars (sig_momentum, the C
plugin computing the same targets); read_ticks of a 10M-event file as a
DataFrame; the cost of a Python per-event callback against Lua and against
no callback. Median and percentiles of repeated runs; --json-out FILE.

usage: bench_python.py BUILD_DIR [--runs N] [--ticks FILE] [--json-out FILE] [--quick]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def stats(xs):
    xs = sorted(xs)

    def pct(p):
        k = (len(xs) - 1) * p
        lo = int(k)
        hi = min(lo + 1, len(xs) - 1)
        return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)
    return {"runs": len(xs), "median": statistics.median(xs), "p10": pct(0.1), "p90": pct(0.9),
            "min": xs[0], "max": xs[-1]}


def timed(fn, runs):
    """Wall time from the call to the result in hand: the result is dropped
    (a read's 640 MB unmapped) after the clock stops."""
    import resource
    out, cpu = [], []
    for _ in range(runs):
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        r = fn()
        out.append(time.perf_counter() - t0)
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
        del r
    s = stats(out)
    s["cpu_median"] = statistics.median(cpu)
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--ticks", help="a 10M-event tick file (default: BUILD/bench/gen-10M.ticks.zst, made if missing)")
    ap.add_argument("--json-out")
    ap.add_argument("--quick", action="store_true", help="smaller inputs (a smoke run)")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    sys.path.insert(0, os.path.join(build, "python"))
    import numpy as np
    import pandas as pd
    import bourse
    bourse_bin = os.path.join(build, "bourse")
    work = tempfile.mkdtemp(prefix="bourse-bench-py-")
    res = {}
    n_bars = 100_000 if a.quick else 1_000_000

    # ---- 1. signal backtest from arrays vs the CLI ---------------------------
    bars_file = os.path.join(work, "bars.ticks.zst")
    rc, _, err = bourse._bourse.command(["gen", "--bars", "--seed", "7", "--events", str(n_bars),
                                         "-o", bars_file])
    assert rc == 0, err
    ticks = bourse.read_ticks(bars_file, kind="bar", as_frame=True)
    scale = ticks.attrs["instruments"][0]["price_scale"]
    bars = ticks[["open", "high", "low", "close"]] / scale
    bars["volume"] = ticks["volume"]
    lookback = 20

    def py_run():
        c = bars["close"].to_numpy()
        t = np.zeros(len(c))
        t[lookback:] = np.where(c[lookback:] > c[:-lookback], 1.0, -1.0)
        r = bourse.signal_backtest(bars, t, price_scale=scale)
        return r.summary

    def cli_run():
        out = os.path.join(work, "cli-run")
        subprocess.run([bourse_bin, "backtest", "--mode", "signal", "--data", bars_file,
                        "--strategy", "sig_momentum", "--param", "lookback=%d" % lookback,
                        "--out", out, "--quiet"], check=True, capture_output=True,
                       env=dict(os.environ, BOURSE_PLUGIN_PATH=os.path.join(build, "plugins")))
        with open(os.path.join(out, "summary.json")) as f:
            return json.load(f)

    py_sum, cli_sum = py_run(), cli_run()
    same = all(py_sum[k] == cli_sum[k] for k in ("total_return", "sharpe", "n_trades", "fees_paid",
                                                  "end_equity", "max_drawdown"))
    # interleaved, so both see the same machine; wall time and CPU time (the
    # process's own for Python, the child's for the CLI)
    import resource
    walls = {"py": [], "cli": []}
    cpus = {"py": [], "cli": []}
    for _ in range(a.runs):
        for name, fn, who in (("py", py_run, resource.RUSAGE_SELF), ("cli", cli_run, resource.RUSAGE_CHILDREN)):
            r0 = resource.getrusage(who)
            t0 = time.perf_counter()
            fn()
            walls[name].append(time.perf_counter() - t0)
            r1 = resource.getrusage(who)
            cpus[name].append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    py, cli = stats(walls["py"]), stats(walls["cli"])
    pyc, clic = stats(cpus["py"]), stats(cpus["cli"])
    res["signal_arrays"] = {"bars": n_bars, "python_wall_s": py, "cli_wall_s": cli,
                            "python_cpu_s": pyc, "cli_cpu_s": clic,
                            "ratio_wall_median": py["median"] / cli["median"],
                            "ratio_cpu_median": pyc["median"] / clic["median"],
                            "same_summary": same, "n_trades": py_sum["n_trades"]}
    print("signal backtest, %d bars, sig_momentum targets (numpy in Python, C plugin in the CLI),"
          " run directory written by both:" % n_bars)
    print("  python (arrays -> Result.summary)  wall median %.3f s (p10 %.3f, p90 %.3f)  cpu median %.3f s" % (
        py["median"], py["p10"], py["p90"], pyc["median"]))
    print("  bourse backtest (process)          wall median %.3f s (p10 %.3f, p90 %.3f)  cpu median %.3f s" % (
        cli["median"], cli["p10"], cli["p90"], clic["median"]))
    print("  python/cli: wall %.2f, cpu %.2f; same summary: %s" % (
        py["median"] / cli["median"], pyc["median"] / clic["median"], same))

    # ---- 2. read_ticks as a DataFrame -----------------------------------------
    big = a.ticks or os.path.join(build, "bench", "gen-10M.ticks.zst")
    n_ev = 1_000_000 if a.quick else 10_000_000
    if a.quick or not os.path.exists(big):
        if not a.quick:
            os.makedirs(os.path.dirname(big), exist_ok=True)
        else:
            big = os.path.join(work, "gen.ticks.zst")
        rc, _, err = bourse._bourse.command(["gen", "--seed", "1", "--events", str(n_ev), "--symbols", "4",
                                             "-o", big])
        assert rc == 0, err
    events = bourse.tick_info(big)["events"]
    bourse.read_ticks(big)  # page cache warm, as for the replay benchmark
    arr = timed(lambda: bourse.read_ticks(big), a.runs)
    frm = timed(lambda: bourse.read_ticks(big, as_frame=True), a.runs)
    res["read_ticks"] = {"file": big, "events": events, "array_s": arr, "frame_s": frm,
                         "frame_events_per_s": events / frm["median"],
                         "array_events_per_s": events / arr["median"]}
    print("read_ticks, %d events (%s):" % (events, os.path.basename(big)))
    print("  structured array  median %.3f s  %.1f M events/s  (cpu median %.3f s, all threads)" % (
        arr["median"], events / arr["median"] / 1e6, arr["cpu_median"]))
    print("  DataFrame         median %.3f s  %.1f M events/s  (p10 %.3f, p90 %.3f; cpu median %.3f s)" % (
        frm["median"], events / frm["median"] / 1e6, frm["p10"], frm["p90"], frm["cpu_median"]))

    # ---- 3. Python per-event callback cost --------------------------------------
    n_cb = 20_000 if a.quick else 200_000
    cb_file = os.path.join(work, "cb.ticks.zst")
    rc, _, err = bourse._bourse.command(["gen", "--bars", "--seed", "3", "--events", str(n_cb), "-o", cb_file])
    assert rc == 0, err
    lua = os.path.join(work, "empty.lua")
    with open(lua, "w") as f:
        f.write("return { name = 'empty', on_bar = function(ctx, bar) end }\n")
    lua_close = os.path.join(work, "close.lua")
    with open(lua_close, "w") as f:
        f.write("local n = 0\nreturn { name = 'reads', on_bar = function(ctx, bar) n = n + bar.close end }\n")
    base = os.path.join(work, "none.lua")
    with open(base, "w") as f:
        f.write("return { name = 'none', on_start = function(ctx) end }\n")

    class Empty:
        def on_bar(self, ctx, bar):
            pass

    class Reads:
        n = 0

        def on_bar(self, ctx, bar):
            self.n += bar.close

    def cfg(script):
        return {"mode": "signal", "data": cb_file, "strategy": {"file": script}}

    def run_info(config, strategy=None):
        r = bourse.backtest(config, strategy=strategy)
        return r.info["seconds"]  # the event loop alone, as the host measures it

    loops = {}
    for name, config, strat in (("none", cfg(base), None), ("lua_empty", cfg(lua), None),
                                ("lua_reads_close", cfg(lua_close), None),
                                ("python_empty", cfg(base), Empty), ("python_reads_close", cfg(base), Reads)):
        xs = [run_info(config, strat() if strat else None) for _ in range(a.runs)]
        loops[name] = stats(xs)
    per = {k: (v["median"] - loops["none"]["median"]) / n_cb * 1e9 for k, v in loops.items() if k != "none"}
    res["callbacks"] = {"bars": n_cb, "loop_s": loops, "ns_per_event_over_no_callback": per}
    print("per-event callback cost, %d bars (event loop time, minus the same run with no callback):" % n_cb)
    for k, v in per.items():
        print("  %-20s %7.0f ns/bar" % (k, v))
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump(res, f, indent=1)
        print("JSON:", a.json_out)
    import shutil
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
