#!/usr/bin/python3
"""bench_metrics.py: what metrics cost (issue 18, docs/performance.md, "Metrics
on and off"). Two measurements:

* time: `bourse bench backtest --metrics-ab N` and `bourse bench fix
  --metrics-ab N`, pinned to one core (taskset): inside one process each run is
  taken with metrics off and on back to back, N pairs alternating which goes
  first, and each figure is the median of the N per-pair ratios on / off with
  its quartiles and a bootstrap 95% interval. Load that drifts over minutes
  hits both runs of a pair alike. Printed with the load average before and
  after: on a shared machine mark the figures as loaded.
* instructions (--instructions, needs valgrind): the same benches with one pair
  under callgrind, each run cut out as its own profile part (dump before and
  after the run's function), so each path's instruction count with metrics off
  and on is exact and independent of the load. Per thread: the loop thread,
  the read-ahead thread, the metrics HTTP thread. Valgrind runs ~50x slower
  than native, so work paid per unit of time (the 100 ms publication, the HTTP
  thread's wakeups) shows ~50x bigger per event than in a real run.

usage: bench_metrics.py BOURSE [--pairs N] [--cpu C] [--events N] [--orders N]
                        [--instructions] [--no-time] [--json]"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

ap = argparse.ArgumentParser()
ap.add_argument("bourse")
ap.add_argument("--pairs", type=int, default=20, help="pairs per bench (default 20)")
ap.add_argument("--cpu", default="1", help="taskset -c CPU (default 1)")
ap.add_argument("--events", type=int, default=1000000, help="L3 events and bars per backtest run (default 1M)")
ap.add_argument("--orders", type=int, default=20000, help="orders per round trip (default 20000)")
ap.add_argument("--instructions", action="store_true", help="also count instructions under callgrind")
ap.add_argument("--vg-events", type=int, default=200000, help="events and bars under callgrind (default 200k)")
ap.add_argument("--vg-orders", type=int, default=5000, help="orders under callgrind (default 5000)")
ap.add_argument("--no-time", action="store_true", help="skip the timed pairs")
ap.add_argument("--json", action="store_true")
a = ap.parse_args()
bourse = os.path.abspath(a.bourse)

BT = [("c", "book mode, C noop", "c_events"), ("lua", "book mode, Lua on_top", "lua_events"),
      ("signal", "signal mode, C precomputed", "signal_bars"), ("lua_bars", "signal mode, Lua per bar", "lua_bars")]
FIX = ["orders_per_sec", "orders_per_cpu_sec", "rtt_p50_us", "rtt_p99_us", "rtt_p999_us"]


def run_json(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("%s failed: %s" % (" ".join(cmd), r.stderr))
    return json.loads(r.stdout.strip().splitlines()[-1])


def timed():
    pin = ["taskset", "-c", a.cpu, bourse]
    bt = run_json(pin + ["bench", "backtest", "--events", str(a.events), "--bars", str(a.events),
                         "--metrics-ab", str(a.pairs), "--json"])
    fx = run_json(pin + ["bench", "fix", "--orders", str(a.orders), "--metrics-ab", str(a.pairs), "--json"])
    return {"backtest": bt["metrics_ab"], "fix": fx["metrics_ab"]}


def part_info(path):
    """(part number, trigger, instructions) of one callgrind profile part."""
    part, trig, ir = 0, "", 0
    with open(path) as f:
        for line in f:
            if line.startswith("part:"):
                part = int(line.split()[1])
            elif line.startswith("desc: Trigger:"):
                trig = line.split("Trigger:", 1)[1].strip()
            elif line.startswith("totals:") or line.startswith("summary:"):
                ir = int(line.split()[1])
                break
    return part, trig, ir


# the threads, by the function each runs (a dump when it returns: the thread's
# whole life as one profile part)
THREADS = {"ahead_main": "read_ahead", "loader_main": "bar_loader", "serve": "http", "serve_main": "gateway"}


def callgrind(args, start, end, nruns, tmp, tag):
    """Run bourse ARGS under callgrind; returns [{thread: instructions}] for
    each of the bench's runs, in order. A run is the main thread from a call
    of `start` to the next call of `end` or of `start` (a dump before each),
    plus the threads that ended in between and before the next run (a dump
    after each thread's function: a thread's whole life is one profile part)."""
    out = os.path.join(tmp, tag)
    trig = ["--dump-before=" + start, "--dump-before=" + end]
    trig += ["--dump-after=" + fn for fn in THREADS]
    cmd = ["valgrind", "--tool=callgrind", "--separate-threads=yes", "--dump-instr=no",
           "--callgrind-out-file=" + out] + trig + [bourse] + args
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("%s failed: %s" % (" ".join(cmd), r.stderr[-2000:]))
    parts = sorted(part_info(p) for p in glob.glob(out + ".*") if re.search(r"\.\d+-\d+$", p))
    starts = "--dump-before=" + start.rstrip("*")
    runs, cur, in_run = [], None, False
    for _, t, ir in parts:
        t = re.sub(r"\.(constprop|part|isra)\.\d+", "", t)
        if t == starts:
            if cur is not None and in_run:  # the previous run's main thread ends here
                cur["main"] = ir
            cur = {}
            runs.append(cur)
            in_run = True
        elif cur is not None and in_run and t == "--dump-before=" + end:
            cur["main"] = ir
            in_run = False
        elif cur is not None:
            for fn, name in THREADS.items():
                if t == "--dump-after=" + fn:
                    cur[name] = cur.get(name, 0) + ir
    if len(runs) != nruns:
        sys.exit("callgrind: expected %d runs, found %d (%s)" % (nruns, len(runs), out))
    return runs


def instructions(tmp):
    ev = str(a.vg_events)
    # 8 warm-up runs (bench backtest's uncounted first round), then the pair
    bt = callgrind(["bench", "backtest", "--events", ev, "--bars", ev, "--metrics-ab", "1"],
                   "brs__bt_run_config_ex", "brs__an_compute_ex", 16, tmp, "bt")[8:]
    res = {"events": a.vg_events, "orders": a.vg_orders, "backtest": {}, "fix": {}}
    for p, (key, label, _) in enumerate(BT):
        side = {}
        for j in range(2):
            m = (p + j) & 1  # the bench's order in its first counted round
            side["on" if m else "off"] = bt[2 * p + j]
        res["backtest"][key] = side
    # bench fix: a warm-up pair, then off, on; the last run's main thread ends
    # where the bench starts its statistics
    fx = callgrind(["bench", "fix", "--orders", str(a.vg_orders), "--metrics-ab", "1"],
                   "round_trip*", "brs__ab_compute", 4, tmp, "fix")[2:]
    res["fix"] = {"off": fx[0], "on": fx[1]}
    return res


def fmt_ab(x):
    return "%.4f [%.4f-%.4f] (%.4f-%.4f)" % (x["ratio"], x["ratio_q1"], x["ratio_q3"], x["ratio_lo95"],
                                             x["ratio_hi95"])


out = {"pairs": a.pairs, "cpu": a.cpu, "events": a.events, "orders": a.orders, "load_before": os.getloadavg()}
if not a.no_time:
    out.update(timed())
if a.instructions:
    with tempfile.TemporaryDirectory(prefix="bourse-bench-metrics-") as tmp:
        out["instructions"] = instructions(tmp)
out["load_after"] = os.getloadavg()
if a.json:
    print(json.dumps(out, indent=1))
    sys.exit(0)
print("load average before %.2f %.2f %.2f, after %.2f %.2f %.2f" % (*out["load_before"], *out["load_after"]))
if not a.no_time:
    print("metrics on / off, median of %d per-pair ratios [quartiles] (bootstrap 95%% interval), taskset -c %s"
          % (a.pairs, a.cpu))
    print("bench backtest, %d events / bars per run:" % a.events)
    for key, label, fig in BT:
        print("  %-28s wall %s  per CPU s %s" % (label, fmt_ab(out["backtest"][fig + "_per_sec"]),
                                                   fmt_ab(out["backtest"][fig + "_per_cpu_sec"])))
    print("bench fix, round trip of %d orders:" % a.orders)
    for k in FIX:
        print("  %-20s %s   off %.1f on %.1f" % (k, fmt_ab(out["fix"][k]), out["fix"][k]["off"], out["fix"][k]["on"]))
if a.instructions:
    ins = out["instructions"]
    print("instructions (callgrind), off -> on: whole run (all threads) and its threads")

    def row(label, s):
        off, on = sum(s["off"].values()), sum(s["on"].values())
        th = " ".join("%s %d -> %d" % (k, s["off"].get(k, 0), s["on"].get(k, 0))
                      for k in sorted(set(s["off"]) | set(s["on"])))
        print("  %-34s %13d -> %13d  %+.3f%%   %s" % (label, off, on, 100.0 * (on / off - 1), th))
    for key, label, _ in BT:
        row(label + " (%d)" % a.vg_events, ins["backtest"][key])
    row("fix round trip (%d orders)" % a.vg_orders, ins["fix"])
