#!/usr/bin/python3
"""serve_reload.py: hot reload of a Lua strategy hosted by `bourse serve`
(issue 17), through the same watcher `bourse live` uses (strategy/
reload_watch.c, keys hot_reload / reload_check_ms / reload_max_bytes on the
"strategies" entry). serve replays a tick file into one sim venue (max), then
the strategy trades on its timer on the real clock: version 1 buys a lot per
tick. Mid-run the script is replaced by rename: version 2's on_reload gets the
old table (the count carries over), the position stays, and version 2 trades
(it sells). Then a broken edit is written in place: the reload is refused and
logged, and version 2 keeps selling. At SIGTERM the strategy stops and its run
directory ("out") is written: the position equals buys minus sells of its
fills.csv, and every sell comes after the reload. With metrics.listen, the
strategy's series (mode="serve") are in serve's /metrics and its position
gauge follows the strategy's position.

usage: serve_reload.py BOURSE SOURCE_DIR
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

BOURSE, SRC = sys.argv[1], sys.argv[2]

# Trade only on the real clock: the replayed data is of 2024 (ns ~1.704e18).
V1 = """-- serve reload test, version 1: buys one lot per timer tick
local M = { version = 1, held = 0 }
M.on_start = function(ctx) ctx:timer(30000000, 30000000) end
M.on_timer = function(ctx)
  if ctx:now() > 1.75e18 then ctx:buy(1) end
end
M.on_fill = function(ctx, ev)
  M.held = M.held + (ev.side == 'buy' and ev.qty or -ev.qty)
  ctx:log('v1 bought ' .. M.held)
end
return M
"""

V2 = """-- serve reload test, version 2: takes over the count, sells one lot per tick
-- (on through zero: it keeps trading whatever the position)
local M = { version = 2, held = 0, sold = 0, carried = -1 }
M.on_reload = function(ctx, old)
  M.held, M.carried = old.held, old.held
  ctx:log('v2 loaded carried ' .. old.held .. ' position ' .. ctx:position())
end
M.on_timer = function(ctx)
  if ctx:sell(1) then
    M.sold = M.sold + 1
    ctx:log('v2 sold ' .. M.sold)
  end
end
M.on_fill = function(ctx, ev) M.held = M.held + (ev.side == 'buy' and ev.qty or -ev.qty) end
M.on_stop = function(ctx)
  ctx:log('v2 stop held ' .. M.held .. ' position ' .. ctx:position() .. ' carried ' .. M.carried)
end
return M
"""

BROKEN = "-- a bad edit\nlocal M = {\nM.on_timer = function(ctx) end\n"


def die(msg, log=""):
    print("FAIL: " + msg)
    if log:
        print("---- serve's log ----\n" + log[-6000:])
    sys.exit(1)


def write(path, text, by_rename):
    p = path + ".tmp" if by_rename else path
    with open(p, "w") as f:
        f.write(text)
    if by_rename:
        os.rename(p, path)


work = tempfile.mkdtemp(prefix="serve_reload-")
script = os.path.join(work, "reloadee.lua")
write(script, V1, False)
out = os.path.join(work, "run")
cfg = {"listen": {"host": "127.0.0.1", "port": 0},
       "sessions": [{"target_comp_id": "NOBODY"}],
       "instruments": [{"symbol": "GEN000", "decimals": 4, "tick_size": 100, "lot_size": 1}],
       "venues": [{"name": "lit", "plugin": "sim", "params": {"tick_size": 100}}],
       "market_data": {"file": os.path.join(SRC, "data/mm.ticks.zst"), "speed": "max"},
       "metrics": {"listen": "127.0.0.1:0"},
       "strategies": [{"file": script, "name": "reloadee", "out": out, "reload_check_ms": 50}]}
path = os.path.join(work, "serve.json")
json.dump(cfg, open(path, "w"), indent=1)
logf = open(os.path.join(work, "serve.log"), "w+")
env = dict(os.environ)
env.pop("BOURSE_FIX_PORT", None)
srv = subprocess.Popen([BOURSE, "serve", path], stdout=logf, stderr=subprocess.STDOUT, env=env)


def log():
    logf.flush()
    with open(logf.name) as f:
        return f.read()


def wait_for(pattern, count=1, timeout=30, after=0):
    end = time.time() + timeout
    while time.time() < end:
        text = log()
        if len(re.findall(pattern, text[after:])) >= count:
            return text
        if srv.poll() is not None:
            die("serve exited (%s) waiting for %r" % (srv.returncode, pattern), text)
        time.sleep(0.05)
    die("timed out waiting for %d x %r" % (count, pattern), log())


try:
    text = wait_for(r"v1 bought \d+", 5)
    write(script, V2, True)  # an editor's write-and-rename
    text = wait_for(r"reload: strategy reloaded strategy=reloadee")
    text = wait_for(r"v2 sold \d+", 3)
    m = re.search(r"v2 loaded carried (\d+) position (-?\d+)", text)
    if not m:
        die("v2's on_reload did not run", text)
    carried, pos_at_reload = int(m.group(1)), int(m.group(2))
    if carried < 5 or carried != pos_at_reload:
        die("carried %d, position %d at the reload: want the old count and the same position" %
            (carried, pos_at_reload), text)
    # the strategy's series in serve's /metrics: its position as it trades
    port = int(re.search(r"live dashboard ready path=/live port=(\d+)", text).group(1))
    series = r'bourse_position\{mode="serve",strategy="reloadee",instrument="GEN000"\} (-?[0-9.e+]+)'
    for _ in range(100):
        body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5).read().decode()
        g = re.search(series, body)
        if not g:
            die("no %s in /metrics:\n%s" % (series, body[:3000]), log())
        if float(g.group(1)) < carried:  # v2 sold below what it carried: the gauge moves
            break
        time.sleep(0.05)
    else:
        die("bourse_position of the strategy stayed at %s" % g.group(1), log())
    if not re.search(r'bourse_fills_total\{mode="serve",strategy="reloadee"\} [1-9]', body):
        die("no fills counted for the strategy in /metrics", log())
    print("metrics: bourse_position %s while v2 sells" % g.group(1))
    mark = len(log())
    time.sleep(0.1)
    write(script, BROKEN, False)  # an in-place save of a broken edit
    text = wait_for(r"strategy reload refused; the running version stays strategy=reloadee", after=mark)
    refused_at = text.index("strategy reload refused", mark)
    text = wait_for(r"v2 sold \d+", 3, after=refused_at)  # the old (v2) version keeps trading
finally:
    if srv.poll() is None:
        srv.send_signal(signal.SIGTERM)
    try:
        srv.wait(timeout=30)
    except subprocess.TimeoutExpired:
        srv.kill()
        die("serve did not stop on SIGTERM", log())

text = log()
if srv.returncode != 0:
    die("serve exited with %d" % srv.returncode, text)
m = re.search(r"v2 stop held (-?\d+) position (-?\d+) carried (-?\d+)", text)
if not m:
    die("v2's on_stop did not run", text)
held, pos, carried2 = int(m.group(1)), int(m.group(2)), int(m.group(3))
if held != pos or carried2 != carried:
    die("at the stop: held %d, position %d, carried %d (want held == position, carried %d)" %
        (held, pos, carried2, carried), text)
if "reloads=1 reloads_refused=1" not in text:
    die("serve's final line does not count one reload and one refusal", text)
fills = open(os.path.join(out, "fills.csv")).read().splitlines()[1:]
buys = sum(int(r.split(",")[5]) for r in fills if r.split(",")[4] == "buy")
sells = sum(int(r.split(",")[5]) for r in fills if r.split(",")[4] == "sell")
# a sell already sent when SIGTERM came (open_orders of the stopping line) may
# fill after on_stop reported the position: fills.csv has it, the position not
st = re.search(r"strategy stopping strategy=reloadee .*?open_orders=(\d+)", text)
in_flight = int(st.group(1)) if st else 0
if not (pos - in_flight <= buys - sells <= pos) or sells < 6 or buys < carried:
    die("fills.csv: %d bought, %d sold, position %d at on_stop, %d in flight" % (buys, sells, pos, in_flight),
        text)
sides = [r.split(",")[4] for r in fills]
if "sell" in sides and "buy" in sides[sides.index("sell"):]:
    die("fills.csv: a buy after the first sell: version 1 traded after the reload", text)
print("ok: v1 bought %d, reloaded (carried %d), v2 sold %d (3+ after a refused broken edit); position %d"
      % (buys, carried, sells, pos))
