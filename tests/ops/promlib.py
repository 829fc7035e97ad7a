"""promlib.py: what the Prometheus tests share: starting Debian's `prometheus`
on a free port with a 1-second scrape of one target, its HTTP query API, and
`promtool check metrics` on an exposition. Used by prometheus_test.py (serve)
and run_metrics_test.py (live and backtest runs)."""
import json
import os
import socket
import subprocess
import urllib.parse
import urllib.request


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
    """The result vector of an instant query (AssertionError if it failed)."""
    u = "http://127.0.0.1:%d/api/v1/query?%s" % (pport, urllib.parse.urlencode({"query": q}))
    d = json.loads(get(u))
    assert d["status"] == "success", d
    return d["data"]["result"]


def value(pport, q):
    """The one sample's value of an instant query, or None when not exactly one."""
    r = query(pport, q)
    return float(r[0]["value"][1]) if len(r) == 1 else None


def lint(promtool, text):
    """promtool's complaint about an exposition, or None when it passes."""
    r = subprocess.run([promtool, "check", "metrics"], input=text.encode(), capture_output=True)
    return None if r.returncode == 0 else (r.stdout + r.stderr).decode()


def start(prom, work, job, target_port):
    """Starts Prometheus in `work` (config, tsdb and prometheus.log there)
    scraping 127.0.0.1:target_port every second as `job`; returns (process,
    its query port, its open log file)."""
    pport = free_port()
    cfg = os.path.join(work, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                "scrape_configs:\n  - job_name: %s\n    static_configs:\n"
                "      - targets: ['127.0.0.1:%d']\n" % (job, target_port))
    plog = open(os.path.join(work, "prometheus.log"), "wb")
    pp = subprocess.Popen([prom, "--config.file=" + cfg,
                           "--storage.tsdb.path=" + os.path.join(work, "tsdb"),
                           "--web.listen-address=127.0.0.1:%d" % pport],
                          stdout=plog, stderr=subprocess.STDOUT)
    return pp, pport, plog
