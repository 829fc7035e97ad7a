"""live_browser.py: `bourse serve`'s live dashboard (/live on the metrics
listener) in a real browser (CTest test_live_browser, issue 18). Starts the
gateway with metrics on and at most two dashboard streams, and hands its
addresses to live_browser.cjs, which drives headless Chromium (Playwright,
Debian's /usr/bin/chromium) and two FIX sessions: a fill the test causes must
show as a position change within a second, without a page reload. Then checks
that the server logged what it refused. Screenshots and the server's log stay
in OUT (build/test-output/live). Exit 77: skipped (node, playwright-core or
chromium missing).

usage: live_browser.py BOURSE SOURCE_DIR OUT NODE"""
import os
import shutil
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "fix", "py"))
from fixclient import Server, write_config  # noqa: E402


def main():
    bourse, src, out = sys.argv[1:4]
    node = sys.argv[4] if len(sys.argv) > 4 else ""
    pw = os.path.join(src, ".deps", "npm", "node_modules", "playwright-core")
    if not node or not os.access(node, os.X_OK):
        print("SKIP: node is not installed (scripts/bootstrap.sh report)")
        return 77
    if not os.path.exists(os.path.join(pw, "package.json")):
        print("SKIP: playwright-core is not in .deps/npm (scripts/bootstrap.sh report)")
        return 77
    if not os.access("/usr/bin/chromium", os.X_OK):
        print("SKIP: /usr/bin/chromium is not installed (scripts/bootstrap.sh report)")
        return 77
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(os.path.join(out, "shots"))
    os.makedirs(os.path.join(out, "state"))
    cfg = write_config(os.path.join(out, "serve.json"), state_dir=os.path.join(out, "state"),
                       metrics={"listen": "127.0.0.1:0", "max_dashboard_clients": 2})
    srv = Server(bourse, cfg, out).start()
    try:
        mport = None
        for _ in range(200):
            for line in srv.logtext().splitlines():
                if "http: listening" in line and "metrics=/metrics" in line:
                    mport = int(line.split("listen=")[1].split()[0].rsplit(":", 1)[1])
            if mport:
                break
            time.sleep(0.05)
        if not mport:
            print("FAIL: no metrics listener in the log:\n" + srv.logtext())
            return 1
        rc = subprocess.call([node, os.path.join(here, "live_browser.cjs"), "http://127.0.0.1:%d/live" % mport,
                              str(srv.port), out, pw])
    finally:
        srv.stop()
    if rc != 0:
        return rc
    log = srv.logtext()
    fails = 0
    for line in ("live dashboard ready", "event stream refused: limit reached", "key=metrics.max_dashboard_clients",
                 "request from another origin refused"):
        if line not in log:
            print("FAIL: the server's log has no '%s' line" % line)
            fails += 1
    if fails:
        print(log)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
