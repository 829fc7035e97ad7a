#!/usr/bin/python3
"""serve_strat_crash.py: a strategy's timers and hot reloads in `bourse serve`
are journaled (issue 17; docs/fix-gateway.md, "Strategies beside the
clients"), so after kill -9 the restart replays them at the same points and
the strategy is where it was. The strategy (no market data, no clients)
places a resting buy of one lot on each tick of a 20 ms timer, one tick
higher each time, and logs "placed K vV at T" (its version and ctx:now()).
Mid-run its script is replaced (rename): version 2 carries the count over.
Then serve is killed with SIGKILL. The file now holds version 2; the restart
must start the strategy with version 1 (the journal's START), replay the
timer turns at their times and the reload at its place, so the replayed
placements repeat the first run's exactly (same K, version and time) up to
the last committed turn. The file was edited again while serve was down
(version 3): it is reloaded after the replay, and the live timer goes on
from the next K in version 3. At
SIGTERM every placement is an open order (nothing trades). A control run
shows the check can fail: without the journal (no state_dir) the restart
runs the file's version 2 afresh (k 0, no timer, nothing open).

usage: serve_strat_crash.py BOURSE
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

BOURSE = sys.argv[1]

V1 = """-- crash test, version 1: a resting buy one tick higher per timer tick
local M = { version = 1, k = 0 }
M.on_start = function(ctx) ctx:timer(20000000, 20000000) end
M.on_timer = function(ctx)
  M.k = M.k + 1
  ctx:buy(1, 1000 + M.k)
  ctx:log('placed ' .. M.k .. ' v1 at ' .. ctx:now())
end
M.on_stop = function(ctx) ctx:log('stop k ' .. M.k .. ' open ' .. #ctx:orders()) end
return M
"""

V2 = """-- crash test, version 2: the same, counting on from version 1
local M = { version = 2, k = 0 }
M.on_reload = function(ctx, old) M.k = old.k; ctx:log('v2 loaded at k ' .. M.k) end
M.on_timer = function(ctx)
  M.k = M.k + 1
  ctx:buy(1, 1000 + M.k)
  ctx:log('placed ' .. M.k .. ' v2 at ' .. ctx:now())
end
M.on_stop = function(ctx) ctx:log('stop k ' .. M.k .. ' open ' .. #ctx:orders()) end
return M
"""

V3 = V2.replace("version 2", "version 3").replace("v2", "v3")

PLACED = re.compile(r"placed (\d+) (v\d) at (\d+)")


def die(msg, log=""):
    print("FAIL: " + msg)
    if log:
        print("---- serve's log ----\n" + log[-8000:])
    sys.exit(1)


work = tempfile.mkdtemp(prefix="serve_strat_crash-")
script = os.path.join(work, "ladder.lua")


def write(text):
    with open(script + ".tmp", "w") as f:
        f.write(text)
    os.rename(script + ".tmp", script)


def config(state):
    cfg = {"listen": {"host": "127.0.0.1", "port": 0},
           "sessions": [{"target_comp_id": "NOBODY"}],
           "instruments": [{"symbol": "GEN000", "decimals": 2, "tick_size": 1, "lot_size": 1}],
           "venues": [{"name": "lit", "plugin": "sim"}],
           "strategies": [{"file": script, "name": "ladder", "reload_check_ms": 20}]}
    if state:
        cfg["state_dir"] = os.path.join(work, "state")
    path = os.path.join(work, "serve.json")
    json.dump(cfg, open(path, "w"), indent=1)
    return path


class Serve:
    def __init__(self, cfg, name):
        self.logf = open(os.path.join(work, name + ".log"), "w+")
        env = dict(os.environ)
        env.pop("BOURSE_FIX_PORT", None)
        self.p = subprocess.Popen([BOURSE, "serve", cfg], stdout=self.logf, stderr=subprocess.STDOUT, env=env)

    def log(self):
        self.logf.flush()
        with open(self.logf.name) as f:
            return f.read()

    def wait_for(self, pattern, count=1, timeout=30):
        end = time.time() + timeout
        while time.time() < end:
            text = self.log()
            if len(re.findall(pattern, text)) >= count:
                return text
            if self.p.poll() is not None:
                die("serve exited (%s) waiting for %r" % (self.p.returncode, pattern), text)
            time.sleep(0.02)
        die("timed out waiting for %d x %r" % (count, pattern), self.log())

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            die("serve did not stop on SIGTERM", self.log())
        return self.log()


def placements(text):
    return [(int(k), v, int(t)) for k, v, t in PLACED.findall(text)]


def run(state):
    write(V1)
    cfg = config(state)
    a = Serve(cfg, "first")
    a.wait_for(r"placed \d+ v1", 10)
    write(V2)
    a.wait_for(r"placed \d+ v2", 6)
    a.p.send_signal(signal.SIGKILL)
    a.p.wait()
    first = placements(a.log())
    if state:
        write(V3)  # edited while the server is down
    b = Serve(cfg, "second")
    if state:
        b.wait_for(r"placed \d+ v3", 5)
    else:
        b.wait_for(r"acceptor listening")
        time.sleep(0.5)
    text = b.stop()
    return first, placements(text), text


# the real run: with the journal
first, second, text = run(True)
if not first or [p[0] for p in first] != list(range(1, len(first) + 1)):
    die("first run: placements not 1, 2, ...: %s" % first[:5], text)
n1 = len(first)
replayed = second[:n1]
same = 0
while same < len(replayed) and replayed[same] == first[same]:
    same += 1
# at most the turn being committed when the kill came is not in the journal
if same < n1 - 2:
    die("the restart replayed %d of the first run's %d placements the same (K, version, time); "
        "first differing: %s vs %s" % (same, n1, first[same] if same < n1 else None,
                                       replayed[same] if same < len(replayed) else None), text)
if "the script version of the journal restored strategy=ladder step=start" not in text:
    die("the restart did not start from the journal's version 1 (the file holds version 2)", text)
ks = [p[0] for p in second]
if ks != list(range(1, len(ks) + 1)) or any(p[1] != "v3" for p in second[same:]):
    die("after the replay the placements do not go on %d, %d, ... in version 3 (the file edited while "
        "serve was down): %s" % (same + 1, same + 2, second[same:same + 4]), text)
if "strategy reloaded: its file changed while the server was down strategy=ladder" not in text:
    die("no log line for the reload of the file edited while serve was down", text)
m = re.search(r"stop k (\d+) open (\d+)", text)
if not m or int(m.group(1)) != ks[-1] or int(m.group(2)) != min(ks[-1], 64):
    die("at the stop: %s, want k %d and every placement open" % (m.group(0) if m else None, ks[-1]), text)
s = re.search(r"strategy stopping strategy=ladder .*?open_orders=(\d+)", text)
if not s or int(s.group(1)) != ks[-1]:
    die("strategy stopping: %s open orders, want %d" % (s.group(1) if s else None, ks[-1]), text)
print("ok: first run placed %d (%d in v1), killed; the restart replayed %d the same (K, version, time) "
      "and went on to %d; %d open at the stop" %
      (n1, len([p for p in first if p[1] == "v1"]), same, ks[-1], ks[-1]))

# control: without a journal the restart begins again from the file's version
# 2, which has no on_start: no timer, nothing placed, nothing open (the checks
# above would fail)
first, second, text = run(False)
m = re.search(r"stop k (\d+) open (\d+)", text)
if second or not m or m.group(1) != "0" or m.group(2) != "0":
    die("control: expected a fresh strategy without a journal, got %d placements, %s" %
        (len(second), m.group(0) if m else None), text)
print("ok: control without state_dir: after the kill the strategy started afresh (k 0, nothing open)")
