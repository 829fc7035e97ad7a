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
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
src = os.path.normpath(os.path.join(here, "..", ".."))
sys.path.insert(0, here)
from promlib import get, lint, query, start, value  # noqa: E402


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
        bad = lint(promtool, text)
        if bad:
            errs.append("promtool check metrics (live): " + bad)
        pp, pport, plog = start(prom, work, "live", mport)
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
        # read everything while the run is up (a stopped target's series go stale at once)
        qs = ["bourse_orders_total" + lab, "bourse_fills_total" + lab, pos_q,
              'bourse_realized_pnl{mode="live",strategy="live_taker",instrument="SUSHIUSDT"}',
              'bourse_venue_up{venue="binance"}', 'bourse_open_orders' + lab,
              "bourse_strategy_callbacks_total" + lab, "bourse_strategy_callback_seconds_count" + lab,
              'bourse_feed_lag_seconds{venue="binance"}']
        seen = {q: value(pport, q) for q in qs}
        with open(os.path.join(src, "data", "grafana", "bourse-strategy.json")) as f:
            exprs = [t["expr"] for p in json.load(f)["panels"] for t in p["targets"]]
        board = {}
        for e in exprs:
            q = e.replace("$instance", ".*").replace("$strategy", ".*")
            try:
                board[q] = bool(query(pport, q))
            except (AssertionError, OSError, ValueError) as x:
                board[q] = x
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
            v = seen[q]
            if v is None or abs(v - w) > 1e-9 * max(1, abs(w)):
                errs.append("live: %s = %s, want %s" % (q, v, w))
            else:
                print("ok: live %s = %s" % (q, v))
        cb = seen["bourse_strategy_callbacks_total" + lab]
        cbn = seen["bourse_strategy_callback_seconds_count" + lab]
        if not cb or cb != cbn:
            errs.append("live: callbacks %s, timed %s (every one should be timed)" % (cb, cbn))
        else:
            print("ok: live: %d callbacks, each timed" % cb)
        lag = seen['bourse_feed_lag_seconds{venue="binance"}']
        if lag is None:
            errs.append("live: no bourse_feed_lag_seconds series")
        else:
            print("ok: live: feed lag %.3f s (replayed data: exchange times are from the recording)" % lag)
        # every query of the strategy board (data/grafana/bourse-strategy.json) runs and finds its series
        for q, r in board.items():
            if r is not True:
                errs.append("Grafana query %s: %s" % ("finds nothing" if r is False else "fails", q))
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
