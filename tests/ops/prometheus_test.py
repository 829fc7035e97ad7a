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
sys.path.insert(0, os.path.join(here, "..", "wsgate"))
from ws_sweep import WS  # noqa: E402

WS_TOKENS = {"alice": "alice-token-0123456789", "bob": "bob-token-0123456789ab"}


def logon(port, comp):
    c = Client(port, comp)
    c.send("A", [(98, 0), (108, 30)], 1)
    m = c.recv(10)
    assert m is not None and m.type == "A", m
    return c


def ws_session(port):
    """A scripted WebSocket session (the gateway's series): a login refused,
    alice's resting buy and bob's sell that fills it, then six queries from
    alice past her rate limit (1 a second, burst 4). Returns what the clients
    saw: the rate-limit errors and the fills."""
    bad = WS(port)
    bad.send({"op": "login", "id": 1, "account": "alice", "token": "not-alice-token-0123456"})
    m = bad.recv(10)
    assert m and m.get("type") == "error" and m.get("field") == "token", m
    assert bad.recv(10) is None and bad.close_code == 1008, bad.close_code
    bad.close()
    ws = {}
    for acct in ("alice", "bob"):
        w = ws[acct] = WS(port)
        w.send({"op": "login", "id": 1, "account": acct, "token": WS_TOKENS[acct]})
        m = w.recv(10)
        assert m and m.get("type") == "logged_in", m
    al, bo = ws["alice"], ws["bob"]
    al.send({"op": "place", "id": 2, "client_order_id": "a1", "symbol": "AAPL", "side": "buy", "price": "11.00",
             "qty": 3})
    m = al.recv(10)
    assert m and m.get("event") == "accepted", m
    bo.send({"op": "place", "id": 2, "client_order_id": "b1", "symbol": "AAPL", "side": "sell", "price": "11.00",
             "qty": 3})
    fills = 0
    for w in (bo, al):
        m, _ = w.until(lambda m: m.get("event") == "fill")
        assert m and m.get("status") == "filled", m
        fills += 1
    al.send(*[{"op": "query", "id": 10 + k} for k in range(6)])
    limited = answered = 0
    while limited + answered < 6:
        m = al.recv(10)
        assert m is not None, "alice's queries: %d answered, %d limited" % (answered, limited)
        answered += m.get("type") == "orders"
        limited += m.get("type") == "error" and "rate limit" in m.get("error", "")
    assert limited >= 1, "no query was rate-limited"
    print("WebSocket session: a login refused, 2 fills, %d of 6 queries rate-limited" % limited)
    return {"limited": limited, "fills": fills, "conns": ws}


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
        cfg = write_config(os.path.join(work, "serve.json"), metrics={"listen": "127.0.0.1:0"},
                           ws_listen="127.0.0.1:0",
                           ws={"accounts": [{"name": a, "token": t} for a, t in WS_TOKENS.items()],
                               "max_messages_per_sec": 1, "burst": 4})
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
        wport = None
        for line in srv.logtext().splitlines():
            if "listening for WebSocket order entry" in line:
                wport = int(line.split(" port=")[1].split()[0])
        assert wport, "no WebSocket listener in the log"
        wss = ws_session(wport)
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
            # the WebSocket gateway's series after the scripted session
            lim = wss["limited"]
            want.update({
                'bourse_orders_total{protocol="ws"}': 2,
                'bourse_fills_total{protocol="ws"}': 2,
                'bourse_ws_connections_total': 3,
                'bourse_ws_logins_total': 2,
                'bourse_ws_login_failures_total': 1,
                'bourse_ws_requests_total': 1 + 2 + 6 + 2,
                'bourse_ws_errors_total': 1 + lim,
                'bourse_ws_rate_limited_total': lim,
                'bourse_ws_reports_total': 4,
                'bourse_ws_limit_closes_total': 0,
                'bourse_ws_connections_open': 2,
                'bourse_ws_connections_logged_in': 2,
                'bourse_ws_connections_closed_waiting': 0,
                'bourse_ws_events_waiting': 0,
                'bourse_ws_kept_message_bytes': 0,
                'bourse_order_ack_latency_seconds_count{protocol="ws"}': 2,
                'bourse_order_fill_latency_seconds_count{protocol="ws"}': 2,
            })
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
            ws_s = value('bourse_order_ack_latency_seconds_sum{protocol="ws"}')
            ws_f = value('bourse_order_fill_latency_seconds_sum{protocol="ws"}')
            if not (0 < ws_s < 2 * 10 and 0 < ws_f < 2 * 10):
                errs.append("WebSocket latency sums %s, %s out of any sensible range" % (ws_s, ws_f))
            print("WebSocket: mean ack latency %.1f us, mean fill latency %.1f us" % (ws_s / 2 * 1e6, ws_f / 2 * 1e6))
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
        for w in wss["conns"].values():
            w.close()
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
