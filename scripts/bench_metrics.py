#!/usr/bin/python3
"""bench_metrics.py: what metrics cost (issue 18, docs/performance.md). Runs
`bourse bench fix` and `bourse bench backtest` with and without --metrics,
alternated (off, on, off, on, ...) so drifting load on a shared machine hits
both alike, each pinned to one core with taskset, and prints the medians of
each figure and the change (on / off - 1). Also prints the load average before
and after, since the machine may be shared.

usage: bench_metrics.py BOURSE [--pairs N] [--cpu C] [--json]"""
import argparse
import json
import os
import statistics
import subprocess
import sys

ap = argparse.ArgumentParser()
ap.add_argument("bourse")
ap.add_argument("--pairs", type=int, default=5)
ap.add_argument("--cpu", default="1")
ap.add_argument("--json", action="store_true")
a = ap.parse_args()

BENCH = {
    "fix": (["bench", "fix", "--orders", "50000", "--codec", "200000", "--eod-closed", "1000", "--eod-open", "100"],
            ["orders_per_sec", "rtt_p50_us", "rtt_p99_us"]),
    "backtest": (["bench", "backtest", "--events", "1000000", "--bars", "1000000", "--runs", "1"],
                 ["c_events_per_sec", "c_events_per_cpu_sec", "lua_events_per_sec", "lua_events_per_cpu_sec",
                  "signal_bars_per_sec", "signal_bars_per_cpu_sec", "lua_bars_per_sec", "lua_bars_per_cpu_sec"]),
}


def run(args):
    cmd = ["taskset", "-c", a.cpu, a.bourse] + args + ["--json"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("%s failed: %s" % (" ".join(cmd), r.stderr))
    return json.loads(r.stdout.strip().splitlines()[-1])


load0 = os.getloadavg()
out = {"load_before": load0, "pairs": a.pairs, "cpu": a.cpu}
for name, (args, keys) in BENCH.items():
    got = {"off": [], "on": []}
    for _ in range(a.pairs):
        got["off"].append(run(args))
        got["on"].append(run(args + ["--metrics"]))
    res = {}
    for k in keys:
        off = statistics.median(x[k] for x in got["off"] if k in x)
        on = statistics.median(x[k] for x in got["on"] if k in x)
        res[k] = {"off": off, "on": on, "change": on / off - 1 if off else None}
    out[name] = res
out["load_after"] = os.getloadavg()
if a.json:
    print(json.dumps(out, indent=1))
else:
    print("load average before %.2f %.2f %.2f, after %.2f %.2f %.2f; %d alternated pairs, taskset -c %s" %
          (*out["load_before"], *out["load_after"], a.pairs, a.cpu))
    for name in BENCH:
        for k, v in out[name].items():
            print("%-9s %-26s off %14.1f  on %14.1f  %+6.2f%%" % (name, k, v["off"], v["on"], 100 * v["change"]))
