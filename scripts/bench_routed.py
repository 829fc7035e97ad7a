#!/usr/bin/python3
"""bench_routed.py: the QuickFIX round trip through the smart order router
against the direct route to the same venue (issue 17, docs/performance.md,
"Routed against direct"). Runs the QuickFIX initiator bench
(build/tests/interop/fix_client bench) with BOURSE_BENCH_ROUTE=venue:sim and
=sor alternated (direct, routed, direct, routed, ...) so drifting load on a
shared machine hits both alike, optionally pinned with taskset (the initiator
and the gateway it forks share the cores given), and prints per route the
median orders/s, round-trip percentiles and the CPU time per order of the
gateway and of the initiator,
then routed / direct. Also the load average before and after.

usage: bench_routed.py BUILD [--pairs N] [--orders N] [--inflight N]
                       [--sessions N] [--workload rest|mixed ...] [--cpu C]
                       [--json] [--json-out FILE] [--dict FIX44.xml]"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ap = argparse.ArgumentParser()
ap.add_argument("build")
ap.add_argument("--pairs", type=int, default=3)
ap.add_argument("--orders", type=int, default=100000)
ap.add_argument("--inflight", type=int, default=100)
ap.add_argument("--sessions", type=int, default=2)
ap.add_argument("--workload", action="append", choices=["rest", "mixed"])
ap.add_argument("--cpu", default=None, help="taskset -c CPU (default: not pinned)")
ap.add_argument("--json", action="store_true")
ap.add_argument("--json-out", default=None)
ap.add_argument("--dict", default=None, help="FIX44.xml (default: jspurefix's, .deps/npm)")
a = ap.parse_args()
workloads = a.workload or ["rest", "mixed"]

fixc = os.path.join(a.build, "tests", "interop", "fix_client")
dict_ = a.dict or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".deps", "npm",
                                "node_modules", "jspurefix", "data", "FIX44.xml")
if not os.access(fixc, os.X_OK) or not os.path.isfile(dict_):
    sys.exit("bench_routed: %s or %s missing (needs libquickfix-dev and the interop tests built)"
             % (fixc, dict_))

ROUTES = [("direct", "venue:sim"), ("routed", "sor")]
KEYS = ["orders_per_sec", "p50_us", "p90_us", "p99_us", "server_cpu_us_per_order", "client_cpu_us_per_order"]


def run(route, workload, work):
    cmd = [fixc, "bench", dict_, work, str(a.orders), str(a.inflight), str(a.sessions), workload]
    if a.cpu is not None:
        cmd = ["taskset", "-c", a.cpu] + cmd
    env = dict(os.environ, BOURSE_BENCH_ROUTE=route)
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    lines = [x for x in r.stdout.splitlines() if x.startswith("{")]
    if r.returncode != 0 or not lines:
        sys.exit("%s (route %s) failed: %s%s" % (" ".join(cmd), route, r.stdout[-2000:], r.stderr[-2000:]))
    return json.loads(lines[-1])


out = {"load_before": os.getloadavg(), "pairs": a.pairs, "orders": a.orders, "inflight": a.inflight,
       "sessions": a.sessions, "cpu": a.cpu, "workloads": {}}
with tempfile.TemporaryDirectory(prefix="bench_routed.") as tmp:
    for wl in workloads:
        got = {name: [] for name, _ in ROUTES}
        for i in range(a.pairs):
            for name, route in ROUTES:
                got[name].append(run(route, wl, os.path.join(tmp, "%s-%s-%d" % (wl, name, i))))
        res = {}
        for name, _ in ROUTES:
            res[name] = {k: statistics.median(x[k] for x in got[name]) for k in KEYS}
            res[name]["runs_orders_per_sec"] = [x["orders_per_sec"] for x in got[name]]
        d, r = res["direct"]["orders_per_sec"], res["routed"]["orders_per_sec"]
        res["routed_over_direct"] = r / d if d else None
        dc, rc = res["direct"]["server_cpu_us_per_order"], res["routed"]["server_cpu_us_per_order"]
        res["cpu_routed_over_direct"] = rc / dc if dc else None
        out["workloads"][wl] = res
out["load_after"] = os.getloadavg()

if a.json_out:
    with open(a.json_out, "w") as f:
        json.dump(out, f, indent=1)
if a.json:
    print(json.dumps(out, indent=1))
else:
    print("QuickFIX round trip, routed (sor) against direct (venue:sim): %d orders, %d in flight, "
          "%d sessions, %d alternated pairs%s" % (a.orders, a.inflight, a.sessions, a.pairs,
                                                  ", taskset -c " + a.cpu if a.cpu else ""))
    print("load average before %.2f %.2f %.2f, after %.2f %.2f %.2f" % (*out["load_before"], *out["load_after"]))
    for wl, res in out["workloads"].items():
        for name, _ in ROUTES:
            x = res[name]
            print("  %-5s %-6s %8.0f orders/s (runs %s)  p50 %7.1f us  p90 %7.1f  p99 %8.1f  "
                  "CPU us/order: gateway %5.2f, initiator %5.2f" %
                  (wl, name, x["orders_per_sec"], ", ".join("%.0f" % v for v in x["runs_orders_per_sec"]),
                   x["p50_us"], x["p90_us"], x["p99_us"], x["server_cpu_us_per_order"],
                   x["client_cpu_us_per_order"]))
        print("  %-5s routed / direct: rate %.2f, gateway CPU per order %.2f" %
              (wl, res["routed_over_direct"], res["cpu_routed_over_direct"]))
