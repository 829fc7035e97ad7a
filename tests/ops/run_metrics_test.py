"""run_metrics_test.py: the metrics of strategy runs (issue 18), scraped by a
real Prometheus (Debian's `prometheus`).

`bourse live --metrics 127.0.0.1:0` runs tests/ws/scripts/live_taker.lua on the
recorded Binance session replayed by tests/ws/binance_replay.py (the strategy
buys 1000 SUSHIUSDT, walking the book, then sells it back). Prometheus scrapes
it every second; once the strategy is flat the test stops it (SIGINT) and
checks through the query API that orders, fills, the position, realized PnL,
callbacks (every one timed: the histogram's count equals the counter), venue up
and feed lag are what the run itself reports (its --json summary).
`promtool check metrics` lints the exposition.

`bourse backtest --metrics 127.0.0.1:0` on the demo signal config: it listens,
and the run's config.json, trades.csv and summary.json are the same with and
without --metrics (timings aside); a bad address is refused naming
metrics.listen. (A backtest registers the same series through the same code,
host/ops/run_metrics.c, as the live run checked here.)

usage: run_metrics_test.py BOURSE SHARED_DIR      (exit 77: skipped)"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

here = os.path.dirname(os.path.abspath(__file__))
src = os.path.normpath(os.path.join(here, "..", ".."))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def query(pport, q):
    u = "http://127.0.0.1:%d/api/v1/query?%s" % (pport, urllib.parse.urlencode({"query": q}))
    d = json.loads(get(u))
    assert d["status"] == "success", d
    return d["data"]["result"]


def value(pport, q):
    r = query(pport, q)
    return float(r[0]["value"][1]) if len(r) == 1 else None


def wait_listen(path, proc, what):
    for _ in range(300):
        if os.path.exists(path):
            with open(path, "rb") as f:
                m = re.search(rb"http: listening listen=\S+:(\d+) metrics=/metrics", f.read())
            if m:
                return int(m.group(1))
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    with open(path, "rb") as f:
        raise AssertionError("%s: no metrics listener in the log:\n%s" % (what, f.read().decode()))


def test_live(bourse, shared, promtool, prom, work, errs):
    ws = os.path.join(shared, "data", "binance", "cryptofeed_BINANCE_FUTURES.ws.1.0")
    rest = os.path.join(shared, "data", "binance", "cryptofeed_BINANCE_FUTURES.http.0.0")
    if not (os.path.exists(ws) and os.path.exists(rest)):
        print("SKIP (live part): the recorded Binance session is not in %s" % shared)
        return
    pf = os.path.join(work, "replay.port")
    rp = subprocess.Popen(["/usr/bin/python3", os.path.join(src, "tests", "ws", "binance_replay.py"),
                           "--ws", ws, "--http", rest, "--port-file", pf, "--timeout", "120", "--end-idle"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    live = pp = None
    try:
        for _ in range(200):
            if os.path.exists(pf) and open(pf).read().strip():
                break
            time.sleep(0.05)
        port = int(open(pf).read().strip())
        syms = [("SUSHIUSDT", 4), ("AKROUSDT", 5), ("KEEPUSDT", 4), ("CTKUSDT", 5)]
        cfg = {"ws_url": "ws://127.0.0.1:%d/stream" % port,
               "rest_url": "http://127.0.0.1:%d/fapi/v1/depth?symbol={SYMBOL}&limit=1000" % port,
               "backoff_min_ms": 50, "duration_s": 120, "stop_on_server_close": False,
               "symbols": [{"symbol": s, "price_decimals": d, "qty_decimals": 0} for s, d in syms]}
        with open(os.path.join(work, "live.json"), "w") as f:
            json.dump(cfg, f)
        log = os.path.join(work, "live.log")
        out = open(os.path.join(work, "live.out"), "wb")
        live = subprocess.Popen([bourse, "live", os.path.join(work, "live.json"), "--strategy",
                                 os.path.join(src, "tests", "ws", "scripts", "live_taker.lua"),
                                 "--param", "after=15", "--param", "qty=1000", "--metrics", "127.0.0.1:0", "--json"],
                                stdout=out, stderr=open(log, "wb"))
        mport = wait_listen(log, live, "bourse live")
        text = get("http://127.0.0.1:%d/metrics" % mport)
        lint = subprocess.run([promtool, "check", "metrics"], input=text.encode(), capture_output=True)
        if lint.returncode != 0:
            errs.append("promtool check metrics (live): " + (lint.stdout + lint.stderr).decode())
        pport = free_port()
        with open(os.path.join(work, "prometheus.yml"), "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: live\n    static_configs:\n"
                    "      - targets: ['127.0.0.1:%d']\n" % mport)
        plog = open(os.path.join(work, "prometheus.log"), "wb")
        pp = subprocess.Popen([prom, "--config.file=" + os.path.join(work, "prometheus.yml"),
                               "--storage.tsdb.path=" + os.path.join(work, "tsdb"),
                               "--web.listen-address=127.0.0.1:%d" % pport], stdout=plog, stderr=subprocess.STDOUT)
        lab = '{mode="live",strategy="live_taker"}'
        pos_q = 'bourse_position{mode="live",strategy="live_taker",instrument="SUSHIUSDT"}'
        deadline, stable, last = time.time() + 90, 0, None
        while time.time() < deadline and live.poll() is None:
            time.sleep(1)
            try:
                scrapes = value(pport, 'count_over_time(up{job="live"}[5m])') or 0
                fills, pos = value(pport, "bourse_fills_total" + lab), value(pport, pos_q)
                orders = value(pport, "bourse_orders_total" + lab)
            except (OSError, ValueError, AssertionError):
                continue
            now = (fills, pos, orders)
            # flat after its buy and its sell, and the same for three scrapes
            stable = stable + 1 if now == last and orders == 2 and pos == 0 and fills else 0
            last = now
            if scrapes >= 2 and stable >= 3:
                break
        live.send_signal(signal.SIGINT)
        live.wait(30)
        out.close()
        summary = json.loads(open(os.path.join(work, "live.out")).read())
        if stable < 3:
            errs.append("live: the strategy never ended flat under Prometheus's eyes: last %s; %s" % (last, summary))
            return
        sushi = [x for x in summary["instruments"] if x["symbol"] == "SUSHIUSDT"][0]
        want = {
            "bourse_orders_total" + lab: 2,
            "bourse_fills_total" + lab: summary["fills"],
            pos_q: 0,
            'bourse_realized_pnl{mode="live",strategy="live_taker",instrument="SUSHIUSDT"}': sushi["realized_pnl"] / 1e4,
            'bourse_venue_up{venue="binance"}': 1,
            'bourse_open_orders' + lab: 0,
        }
        for q, w in want.items():
            v = value(pport, q)
            if v is None or abs(v - w) > 1e-9 * max(1, abs(w)):
                errs.append("live: %s = %s, want %s" % (q, v, w))
            else:
                print("ok: live %s = %s" % (q, v))
        cb = value(pport, "bourse_strategy_callbacks_total" + lab)
        cbn = value(pport, "bourse_strategy_callback_seconds_count" + lab)
        if not cb or cb != cbn:
            errs.append("live: callbacks %s, timed %s (every one should be timed)" % (cb, cbn))
        else:
            print("ok: live: %d callbacks, each timed" % cb)
        lag = value(pport, 'bourse_feed_lag_seconds{venue="binance"}')
        if lag is None:
            errs.append("live: no bourse_feed_lag_seconds series")
        else:
            print("ok: live: feed lag %.3f s (replayed data: exchange times are from the recording)" % lag)
        # every query of the strategy board (data/grafana/bourse-strategy.json) runs and finds its series
        with open(os.path.join(src, "data", "grafana", "bourse-strategy.json")) as f:
            exprs = [t["expr"] for p in json.load(f)["panels"] for t in p["targets"]]
        for e in exprs:
            q = e.replace("$instance", ".*").replace("$strategy", ".*")
            try:
                if not query(pport, q):
                    errs.append("Grafana query finds nothing: " + q)
            except (AssertionError, OSError, ValueError) as x:
                errs.append("Grafana query fails: %s: %s" % (q, x))
        print("ok: the %d queries of the strategy board run and find their series" % len(exprs))
    finally:
        for p in (live, pp, rp):
            if p and p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()


def test_backtest(bourse, promtool, work, errs):
    cfg = os.path.join(src, "data", "configs", "demo-signal.json")
    runs = []
    for i, extra in enumerate(([], ["--metrics", "127.0.0.1:0"])):
        out = os.path.join(work, "bt%d" % i)
        r = subprocess.run([bourse, "backtest", cfg, "--out", out, "--quiet"] + extra, cwd=src,
                           capture_output=True)
        if r.returncode != 0:
            errs.append("backtest %s failed: %s" % (extra, r.stderr.decode()))
            return
        runs.append(out)
        if extra and b"http: listening" not in r.stderr:
            errs.append("backtest --metrics: no listening line: " + r.stderr.decode())
    for f in ("config.json", "trades.csv", "summary.json"):
        a, b = (open(os.path.join(d, f), "rb").read() for d in runs)
        if f == "summary.json":  # wall-clock timings differ run to run
            a, b = (re.sub(rb'"[a-z_]*seconds[a-z_]*": *[0-9.e+-]+', b"", x) for x in (a, b))
        if a != b:
            errs.append("backtest: %s differs with --metrics" % f)
        else:
            print("ok: backtest: %s identical with and without --metrics" % f)
    r = subprocess.run([bourse, "backtest", cfg, "--out", os.path.join(work, "bt-bad"), "--metrics", "nonsense"],
                       cwd=src, capture_output=True)
    if r.returncode == 0 or b"metrics.listen" not in r.stderr:
        errs.append("backtest --metrics nonsense: want an error naming metrics.listen, got %d %s" %
                    (r.returncode, r.stderr.decode()))
    else:
        print("ok: backtest --metrics nonsense is refused: " + r.stderr.decode().strip().splitlines()[-1])


def main():
    bourse, shared = sys.argv[1], sys.argv[2]
    prom, promtool = shutil.which("prometheus"), shutil.which("promtool")
    if not prom or not promtool:
        print("SKIP: Debian's prometheus is not installed (scripts/bootstrap.sh ops)")
        return 77
    work = tempfile.mkdtemp(prefix="brs_runm_")
    errs = []
    try:
        test_backtest(bourse, promtool, work, errs)
        test_live(bourse, shared, promtool, prom, work, errs)
    finally:
        if not errs:
            shutil.rmtree(work, ignore_errors=True)
    for e in errs:
        print("FAIL: " + e)
    if errs:
        print("(work dir kept: %s)" % work)
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
