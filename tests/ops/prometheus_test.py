"""prometheus_test.py: a real Prometheus (Debian's `prometheus`) scrapes a running
`bourse serve` under order flow (issue 18). The test sends 20 orders that cross
into 20 fills, lets Prometheus scrape at least twice, and asks its HTTP query
API for the values the flow caused: orders, fills, acknowledgements counted by
the latency histogram, NewOrderSingle messages by type, sessions connected.
`promtool check metrics` lints the exposition, and every query of the Grafana
board in data/grafana/ runs against the scraped data. Exit 77 (skipped) only when
Debian's prometheus/promtool are not installed.

usage: prometheus_test.py BOURSE"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "fix", "py"))
from fixclient import Client, Server, write_config  # noqa: E402
sys.path.insert(0, here)
from promlib import get, lint, query, start  # noqa: E402


def logon(port, comp):
    c = Client(port, comp)
    c.send("A", [(98, 0), (108, 30)], 1)
    m = c.recv(10)
    assert m is not None and m.type == "A", m
    return c


def main():
    bourse = sys.argv[1]
    prom, promtool = shutil.which("prometheus"), shutil.which("promtool")
    if not prom or not promtool:
        print("SKIP: Debian's prometheus is not installed (scripts/bootstrap.sh ops)")
        return 77
    work = tempfile.mkdtemp(prefix="brs_prom_")
    srv = pp = None
    errs = []
    try:
        cfg = write_config(os.path.join(work, "serve.json"), metrics={"listen": "127.0.0.1:0"})
        srv = Server(bourse, cfg, work).start()
        mport = None
        for _ in range(200):
            for line in srv.logtext().splitlines():
                if "http: listening" in line and "metrics=/metrics" in line:
                    mport = int(line.split("listen=")[1].split()[0].rsplit(":", 1)[1])
            if mport:
                break
            time.sleep(0.05)
        assert mport, "no metrics listener in the log:\n" + srv.logtext()

        # 10 resting buys from CLIENT1, 10 sells from CLIENT2 that take them
        a, b = logon(srv.port, "CLIENT1"), logon(srv.port, "CLIENT2")
        n = 10
        for i in range(n):
            a.send("D", [(11, "b%d" % i), (21, 1), (38, 5), (40, 2), (44, "10.00"), (54, 1), (55, "AAPL"),
                         (60, "20261206-10:00:00")], 2 + i)
        for i in range(n):
            b.send("D", [(11, "s%d" % i), (21, 1), (38, 5), (40, 2), (44, "10.00"), (54, 2), (55, "AAPL"),
                         (60, "20261206-10:00:00")], 2 + i)
        got = {"CLIENT1": [], "CLIENT2": []}
        for c, name, want in ((a, "CLIENT1", 2 * n), (b, "CLIENT2", 2 * n)):
            while len(got[name]) < want:
                m = c.recv(10)
                assert m is not None, "%s: only %d reports" % (name, len(got[name]))
                if m.type == "8":
                    got[name].append(m.get(150))
        assert got["CLIENT1"].count("F") == n and got["CLIENT2"].count("F") == n, got
        time.sleep(0.3)  # the loop publishes its counters every 100 ms

        text = get("http://127.0.0.1:%d/metrics" % mport)
        with open(os.path.join(work, "metrics.txt"), "w") as f:
            f.write(text)
        bad = lint(promtool, text)
        if bad:
            errs.append("promtool check metrics: " + bad)

        pp, pport, plog = start(prom, work, "bourse", mport)
        scrapes = 0
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                r = query(pport, 'count_over_time(up{job="bourse"}[5m])')
                scrapes = int(float(r[0]["value"][1])) if r else 0
                if scrapes >= 2 and query(pport, 'up{job="bourse"}')[0]["value"][1] == "1":
                    break
            except (OSError, ValueError, IndexError, AssertionError):
                pass
            if pp.poll() is not None:
                break
            time.sleep(0.5)
        if scrapes < 2:
            plog.flush()
            with open(os.path.join(work, "prometheus.log"), "rb") as f:
                errs.append("Prometheus did not scrape twice (%d):\n%s" % (scrapes, f.read().decode()[-3000:]))
        else:
            def value(q):
                r = query(pport, q)
                assert len(r) == 1, (q, r)
                return float(r[0]["value"][1])
            want = {
                'bourse_orders_total{protocol="fix"}': 2 * n,
                'bourse_fills_total{protocol="fix"}': 2 * n,
                'bourse_order_ack_latency_seconds_count{protocol="fix"}': 2 * n,
                'bourse_order_fill_latency_seconds_count{protocol="fix"}': 2 * n,
                'bourse_fix_messages_received_total{msg_type="D"}': 2 * n,
                'bourse_fix_sessions_connected': 2,
                'bourse_open_orders{protocol="fix"}': 0,
                'bourse_fix_next_seq_in{session="CLIENT1"}': n + 2,
            }
            for q, w in want.items():
                try:
                    v = value(q)
                    if v != w:
                        errs.append("%s = %s, want %s" % (q, v, w))
                    else:
                        print("ok: %s = %s" % (q, v))
                except AssertionError as e:
                    errs.append("query %s: %s" % (q, e))
            # latencies are real and positive: the histogram's sum over its count
            s = value('bourse_order_ack_latency_seconds_sum{protocol="fix"}')
            if not (0 < s < 2 * n * 10):
                errs.append("ack latency sum %s out of any sensible range" % s)
            print("Prometheus scraped %d times; mean ack latency %.1f us" % (scrapes, s / (2 * n) * 1e6))
            # every query of the Grafana board (data/grafana/) runs and finds its series
            board = os.path.join(here, "..", "..", "data", "grafana", "bourse-serve.json")
            with open(board) as f:
                exprs = [t["expr"] for p in json.load(f)["panels"] for t in p["targets"]]
            for e in exprs:
                q = e.replace("$instance", ".*")
                try:
                    if not query(pport, q):
                        errs.append("Grafana query finds nothing: " + q)
                except (AssertionError, OSError, ValueError) as x:
                    errs.append("Grafana query fails: %s: %s" % (q, x))
            print("ok: the %d queries of the Grafana board run and find their series" % len(exprs))
        a.close()
        b.close()
    finally:
        if pp:
            pp.terminate()
            try:
                pp.wait(10)
            except subprocess.TimeoutExpired:
                pp.kill()
        if srv and srv.proc and srv.proc.poll() is None:
            srv.proc.terminate()
            srv.proc.wait(10)
    for e in errs:
        print("FAIL: " + e)
    if not errs:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print("work dir kept: " + work)
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
