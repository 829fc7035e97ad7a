#!/usr/bin/python3
"""ws_sweep.py: a WebSocket account's deep sweep against `bourse serve`
(docs/ws-order-entry.md, "A deep sweep streams"), and the server closing a
connection it has no memory for.

  sweep       a 20,000-lot IOC of one WebSocket account sweeps 20,000 resting
              one-lot sells of another: the taker and the maker get every fill,
              in order (cum_qty up by one each), without a close; each account
              reports max_events_per_turn (1024) events in the order's turn
              and the rest over loop turns (logged, counted); a query the
              taker sent right behind its order is answered after its last
              fill and shows the order filled (it waited behind the stream).
              A FIX session's round trip meanwhile is asserted against its own
              baseline scaled by the load the gateway met (not_held in
              tests/fix/py/abuse_common.py): the build before this change
              (every report made in the order's loop turn) fails it.
  sweepcrash  a 200-order sweep with max_events_per_turn 30 and fsync batch,
              killed at each write and sync of the journal from the sweep on
              (BRS_FAULT_AFTER_WRITES, every third write torn): after each
              restart the taker's order and each maker order are there with
              at least the fills their clients were told, a filled order stays
              filled, nothing the clients never sent is there, and the audit
              trail holds each fill report once, in order, at least those told.
  nomem       BRS_FAULT_WS_NOMEM=3: the third message the server queues (an
              order event to alice) finds no memory: alice's connection is
              closed 1011 and an ERROR line names it; bob (WebSocket) and a
              FIX session are served after it. Then the backlog's memory: a
              100-order sweep with max_queued_bytes 4096, the 160th message
              (the maker's, waiting in its backlog) finds none: the maker is
              closed 1011 in the middle of its fills, the taker gets all 100.
  keepalive   a 400-fill sweep streamed 5 events a turn, each turn slowed
              by 25 ms (BRS_FAULT_WS_STREAM_SLEEP_MS: a sleep in the gateway's
              step while events wait, as a loaded host's slow turn; the test
              asserts from the log that the stream outlasted twice
              ping_interval_ms 50 + pong_timeout_ms 500), every connection
              read by a thread that answers pings: the taker and the maker
              stay connected and get every fill once, in order; the taker's
              query, place and query sent after its first fill run after its
              last fill, in order; its second connection's place and close
              sent then: the close answered during the stream, the place run
              after it (main's build drops it: a closing connection's kept
              messages were not run); /metrics shows events waiting and kept
              bytes during the stream and none after.
  durable     with state_dir, fsync batch and the same slowed stream, bob
              (another account) places an order meanwhile and the server is
              killed (-9) as soon as bob is told `accepted`; after the
              restart the order is there, 3 rounds. Main's build reads
              connections in brs__wss_flush too, after the loop turn's
              commit, so such a message ran there and its answer went out
              before its journal record was committed: lost in every round.

Usage: ws_sweep.py BOURSE --case NAME   (exit 0 = pass)"""
import base64
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fix", "py"))
from abuse_common import ERRS, Probe, check, not_held, not_stalled  # noqa: E402
from fixclient import Server, write_config  # noqa: E402

TOKENS = {"taker": "taker-token-0123456789", "maker": "maker-token-0123456789",
          "bob": "bob-token-0123456789abc"}


class WS:
    """A bare RFC 6455 client on a blocking socket: masked text frames out,
    whole frames in. Raw enough to count a stream's bytes in a forked child."""

    def __init__(self, port, rcvbuf=None, sock=None):
        # sock: a connected socket to use (ws_tls.py: a TLS one)
        self.sock = sock or socket.create_connection(("127.0.0.1", port), timeout=30)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % key).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            d = self.sock.recv(4096)
            if not d:
                raise OSError("closed during the upgrade")
            head += d
        head, self.buf = head.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise OSError("upgrade refused: %r" % head)
        self.close_code = None
        self.pong = False  # answer the server's pings (case keepalive); off: they are read and ignored
        self.pings = []  # when each ping came
        self.lock = threading.Lock()
        self.off = 0  # self.buf[self.off:] is unread (a long stream is parsed without copying it each frame)

    @staticmethod
    def frame(obj, op=1):
        p = json.dumps(obj).encode() if op == 1 else obj
        mask = os.urandom(4)
        n = len(p)
        h = bytes([0x80 | op]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n))
        return h + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(p))

    def send_close(self, code=1000):
        with self.lock:
            self.sock.sendall(self.frame(struct.pack(">H", code), op=8))

    def send(self, *objs):
        with self.lock:
            self.sock.sendall(b"".join(self.frame(o) for o in objs))

    def recv(self, timeout=10):
        """The next message as a dict; None on close (close_code set) or timeout."""
        end = time.time() + timeout
        while True:
            b, o = self.buf, self.off
            if len(b) - o >= 2:
                n, at = b[o + 1] & 0x7F, o + 2
                if n == 126:
                    n, at = (struct.unpack(">H", b[o + 2:o + 4])[0], o + 4) if len(b) - o >= 4 else (None, 0)
                elif n == 127:
                    n, at = (struct.unpack(">Q", b[o + 2:o + 10])[0], o + 10) if len(b) - o >= 10 else (None, 0)
                if n is not None and len(b) >= at + n:
                    op, body, self.off = b[o] & 0x0F, b[at:at + n], at + n
                    if op == 8:
                        self.close_code = struct.unpack(">H", body[:2])[0] if len(body) >= 2 else 1005
                        return None
                    if op == 9:
                        self.pings.append(time.time())
                        if self.pong:
                            with self.lock:
                                self.sock.sendall(self.frame(bytes(body), op=10))
                    if op == 1:
                        return json.loads(body)
                    continue
            if self.off:
                self.buf, self.off = self.buf[self.off:], 0
            left = end - time.time()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                d = self.sock.recv(1 << 20)
            except (socket.timeout, OSError):
                return None
            if not d:
                self.close_code = self.close_code or 1006
                return None
            self.buf += d

    def until(self, pred, timeout=10):
        seen = []
        while True:
            m = self.recv(timeout)
            if m is None or pred(m):
                return m, seen
            seen.append(m)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def login(port, acct, rcvbuf=None):
    w = WS(port, rcvbuf)
    w.send({"op": "login", "id": 1, "account": acct, "token": TOKENS[acct]})
    m = w.recv()
    check(m is not None and m.get("type") == "logged_in", "login %s: %r" % (acct, m))
    return w


def server(work, name, state=None, per_turn=None, fsync="never", env=None, accounts=("taker", "maker", "bob"),
           ws_extra=None, metrics=False):
    over = {"sessions": [{"target_comp_id": "CLIENT1"}], "ws_listen": "127.0.0.1:0",
            "ws": dict({"accounts": [{"name": a, "token": TOKENS[a]} for a in accounts],
                        "max_orders_per_account": 30000, "max_messages_per_sec": 1000000, "burst": 1000000},
                       **(ws_extra or {})),
            "fsync": fsync}
    if state:
        over["state_dir"] = state
    if per_turn:
        over["max_events_per_turn"] = per_turn
    if metrics:
        over["metrics"] = {"listen": "127.0.0.1:0"}
    cfg = write_config(os.path.join(work, name + ".json"), **over)
    srv = Server(sys.argv[1], cfg, work, name=name, env=env)
    srv.start_timeout = 120.0
    return srv


def ws_port(srv, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        m = re.search(r"listening for WebSocket order entry .*port=(\d+)", srv.logtext())
        if m:
            return int(m.group(1))
        time.sleep(0.02)
    raise RuntimeError("no ws port in the log")


def rest_sells(w, n, prefix="m", first_id=0):
    """n one-lot sells at 10.00..10.49, pipelined; waits for every accepted."""
    w.send(*[{"op": "place", "client_order_id": "%s%d" % (prefix, k), "symbol": "AAPL", "side": "sell",
              "price": "%d.%02d" % divmod(1000 + k % 50, 100), "qty": 1} for k in range(first_id, first_id + n)])
    got = 0
    while got < n:
        m = w.recv(30)
        if m is None:
            break
        got += m.get("type") == "order" and m.get("event") == "accepted"
    check(got == n, "the maker's %d resting sells: %d accepted" % (n, got))


def count_fills(sock, buf, n, extra=None, timeout=240):
    """In a child: the raw stream read until n fill events (and the `orders`
    answer when extra), checking cum_qty runs 1..n per order... counted from
    the bytes: fills, fills before the `orders` answer, the answer itself."""
    fills, before, answer, closed = 0, None, None, False
    data = buf
    pat = b'"event":"fill"'
    deadline = time.time() + timeout
    tail = b""
    while time.time() < deadline:
        chunk = tail + data
        if extra and answer is None:
            i = chunk.find(b'"type":"orders"')
            if i >= 0:
                before = fills + chunk[:i].count(pat) - tail.count(pat)
                j = chunk.find(b"]}", i)
                answer = chunk[i:j + 2].decode("latin-1") if j >= 0 else chunk[i:].decode("latin-1")
        fills += chunk.count(pat) - tail.count(pat)
        tail = chunk[-64:]
        if fills >= n and (not extra or answer is not None):
            break
        sock.settimeout(max(0.01, deadline - time.time()))
        try:
            data = sock.recv(1 << 20)
        except socket.timeout:
            break
        if not data:
            closed = True
            break
    return {"fills": fills, "before": before, "answer": answer, "closed": closed}


def forked(fn):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            out = fn()
        except Exception as e:  # noqa: BLE001
            out = {"error": repr(e)}
        os.write(w, json.dumps(out).encode())
        os._exit(0)
    os.close(w)
    return pid, r


def waited(log):
    """account -> (events, loop turns) from the gateway's caught-up lines."""
    out = {}
    for m in re.finditer(r"order events caught up \(max_events_per_turn\) account=(\S+) events=(\d+) "
                         r"loop_turns=(\d+)", log):
        out[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    return out


def case_sweep(work):
    n = int(os.environ.get("WS_SWEEP_N", "20000"))
    per = os.environ.get("WS_EV_PER_TURN")  # another max_events_per_turn, by hand
    srv = server(work, "sweep", state=os.path.join(work, "state"), per_turn=int(per) if per else None).start()
    port = ws_port(srv)
    mk = login(port, "maker", rcvbuf=1 << 16)
    rest_sells(mk, n)
    tk = login(port, "taker", rcvbuf=1 << 16)
    probe = Probe(srv.port, "CLIENT1")
    base = probe.median(40)
    mpid, mr = forked(lambda: count_fills(mk.sock, mk.buf[mk.off:], n))
    t = time.time()
    # the order, and right behind it a query that must wait for its fills
    tk.send({"op": "place", "id": 7, "client_order_id": "sweep", "symbol": "AAPL", "side": "buy",
             "price": "20.00", "qty": n, "tif": "ioc"},
            {"op": "query", "id": 8, "client_order_id": "sweep"})
    time.sleep(0.0005)  # the order on its way first: the probe lands in (or right after) its turn
    probe.launch()
    tpid, tr = forked(lambda: count_fills(tk.sock, tk.buf[tk.off:], n, extra=True))
    left = [mpid, tpid]

    def reading():
        for p in list(left):
            if os.waitpid(p, os.WNOHANG)[0] == p:
                left.remove(p)
        return bool(left)
    # the children are reaped by reading(): read their pipes after
    during = probe.during(reading, pid=srv.proc.pid)
    for p in left:
        os.waitpid(p, 0)

    def out(r):
        d = b""
        while True:
            x = os.read(r, 65536)
            if not x:
                break
            d += x
        os.close(r)
        return json.loads(d.decode())
    taker, maker = out(tr), out(mr)
    print("%d-lot WebSocket sweep of %d resting orders: taker %r, maker %r; %.1f s" %
          (n, n, {k: v for k, v in taker.items() if k != "answer"}, maker, time.time() - t))
    check(taker.get("fills") == n and not taker.get("closed"), "the taker did not get every fill: %r" % taker)
    check(maker.get("fills") == n and not maker.get("closed"), "the maker did not get every fill: %r" % maker)
    ans = taker.get("answer") or ""
    check(taker.get("before") == n and '"cum_qty":%d' % n in ans and '"status":"filled"' in ans,
          "the taker's query did not wait behind its fills: %d fills before it, %r" % (taker.get("before") or 0,
                                                                                        ans[:200]))
    w = waited(srv.logtext())
    print("order events over loop turns (max_events_per_turn %s): %r" % (per or "1024", w))
    check(per or (w.get("taker", (0, 0))[0] == n + 1 - 1024 and w.get("maker", (0, 0))[0] == n - 1024 and
                  min(x for _, x in w.values()) > 1),
          "the sweep's order events did not wait over loop turns: %r" % (w,))
    not_stalled("WebSocket sweep streaming", base, during, probe, worst=False)
    # the probe's worst against its baseline, scaled by the load the gateway
    # met: 50 ms quiet (docs/ws-order-entry.md has the figures of both builds)
    not_held("%d-fill WebSocket sweep" % n, probe, quiet_ms=float(os.environ.get("WS_QUIET_MS", "50")))
    tk.close()
    mk.close()
    probe.s.close()
    srv.stop()


def audit_fills(work, state, acct):
    """The fill reports of an account in the audit trail (CSV): (client_order_id, cum_qty) in order."""
    import csv
    import io
    p = subprocess.run([sys.argv[1], "audit", state, "--session", "ws:" + acct], capture_output=True, timeout=60)
    return [(r["clordid"], int(r["cum_qty"])) for r in csv.DictReader(io.StringIO(p.stdout.decode("latin-1")))
            if r.get("last_qty")]


def case_sweepcrash(work):
    n, per = 200, 30
    tmpl = os.path.join(work, "template")
    srv = server(work, "setup", state=tmpl, per_turn=per, fsync="batch").start()
    mk = login(ws_port(srv), "maker")
    rest_sells(mk, n)
    mk.close()
    check(srv.stop() == 0, "the setup server did not stop cleanly")
    points = partial = audited = 0
    for k in range(1, 200):
        state = os.path.join(work, "crash%d" % k)
        shutil.copytree(tmpl, state)
        srv = server(work, "crash", state=state, per_turn=per, fsync="batch",
                     env={"BRS_FAULT_AFTER_WRITES": str(k), "BRS_FAULT_TORN": "1" if k % 3 == 0 else "0"})
        srv.start()
        told = {}  # client_order_id -> the last order event its client got
        sent = set()
        complete = False
        try:
            if srv.port is None:
                raise OSError("died at start")
            port = ws_port(srv)
            mk, tk = login(port, "maker"), login(port, "taker")
            # the sweep; behind it (waiting for its events) a resting buy and
            # a cancel of a maker order the sweep fills
            sent |= {"sweep", "t2"}
            tk.send({"op": "place", "client_order_id": "sweep", "symbol": "AAPL", "side": "buy",
                     "price": "20.00", "qty": n, "tif": "ioc"},
                    {"op": "place", "client_order_id": "t2", "symbol": "AAPL", "side": "buy",
                     "price": "1.00", "qty": 3})
            mk.send({"op": "cancel", "id": 5, "client_order_id": "m7"})
            last_cum = {}
            need = {"tk": True, "mk": True}
            while any(need.values()):
                for name, w in (("tk", tk), ("mk", mk)):
                    if not need[name]:
                        continue
                    m = w.recv(10)
                    if m is None:
                        raise OSError("closed")
                    if m.get("type") != "order":
                        if name == "mk" and m.get("id") == 5:
                            filled = sum(1 for c, x in told.items() if c.startswith("m") and x["status"] == "filled")
                            check(m.get("type") == "error" and filled == n,
                                  "crash %d: the maker's cancel of a filled order, answered after %d of its %d "
                                  "fills: %r" % (k, filled, n, m))
                            need["mk"] = False
                        continue
                    cl = m["client_order_id"]
                    if m["event"] == "fill":
                        check(m["cum_qty"] == last_cum.get(cl, 0) + m["last_qty"],
                              "crash %d: %s fill out of order: %r after cum %d" % (k, cl, m, last_cum.get(cl, 0)))
                        last_cum[cl] = m["cum_qty"]
                    told[cl] = m
                    if name == "tk" and cl == "t2":
                        need["tk"] = False
            complete = True
        except OSError:
            pass
        if complete:
            srv.stop()
            shutil.rmtree(state)
            break
        srv.wait(20)
        died = srv.proc.returncode == -signal.SIGKILL
        check(died, "crash %d: the server ended with %r, not killed" % (k, srv.proc.returncode))
        points += 1
        tfills = told.get("sweep", {}).get("cum_qty", 0)
        partial += 0 < tfills < n
        # restart, then every order as its client was told, or further on
        srv = server(work, "crash", state=state, per_turn=per, fsync="batch").start()
        port = ws_port(srv)
        restored = {}
        for acct, names in (("taker", ["sweep", "t2", "x"]), ("maker", ["m%d" % i for i in range(n)])):
            w = login(port, acct)
            w.send(*[{"op": "query", "id": 100 + i, "client_order_id": cl} for i, cl in enumerate(names)])
            for _ in names:
                m = w.recv(20)
                if m and m.get("type") == "orders":
                    o = m["orders"][0]
                    restored[o["client_order_id"]] = o
            w.close()
        srv.stop()
        for cl in restored:
            check(cl in sent or cl.startswith("m"), "crash %d: %s is there and was never sent" % (k, cl))
        for cl, m in told.items():
            r = restored.get(cl)
            if not check(r is not None, "crash %d: %s was acknowledged (%s) and is gone" % (k, cl, m["event"])):
                continue
            check(r["cum_qty"] >= m["cum_qty"], "crash %d: %s has cum %d, its client was told %d" %
                  (k, cl, r["cum_qty"], m["cum_qty"]))
            check(m["status"] != "filled" or r["status"] == "filled",
                  "crash %d: %s was filled, now %s" % (k, cl, r["status"]))
        if "sweep" in told:  # its request was committed: the whole sweep happened
            check(restored.get("sweep", {}).get("cum_qty") == n and
                  all(restored.get("m%d" % i, {}).get("status") == "filled" for i in range(n)),
                  "crash %d: the sweep was acknowledged but not every maker order is filled" % k)
        # the audit trail: each fill report once, in order, at least the told ones
        for acct, pre in (("taker", "sweep"), ("maker", "m")):
            rows = audit_fills(work, state, acct)
            seen = set()
            for cl, cum in rows:
                check((cl, cum) not in seen, "crash %d: %s's fill at cum %d is in the audit twice" % (k, cl, cum))
                seen.add((cl, cum))
            for cl, m in told.items():
                if cl.startswith(pre) and m["event"] == "fill":
                    check((cl, m["cum_qty"]) in seen,
                          "crash %d: the fill %s cum %d its client got is not in the audit" % (k, cl, m["cum_qty"]))
        audited += len(audit_fills(work, state, "taker"))
        shutil.rmtree(state)
    print("audit: %d of the taker's fill reports over the crash points" % audited)
    print("killed at each of %d journal writes and syncs of the streamed sweep (every third write torn), %d "
          "with part of the taker's fills delivered: every order back with at least the fills told, filled "
          "kept, nothing never sent, each fill once in the audit" % (points, partial))
    check(points >= 8 and partial >= 3, "crash points %d (%d partial): the sweep should stream over several "
          "journal writes" % (points, partial))


def case_nomem(work):
    srv = server(work, "nomem", env={"BRS_FAULT_WS_NOMEM": "3"}).start()
    port = ws_port(srv)
    alice = login(port, "taker")  # message 1: logged_in
    bob = login(port, "bob")  # message 2
    alice.send({"op": "place", "id": 9, "client_order_id": "a1", "symbol": "AAPL", "side": "buy",
                "price": "5.00", "qty": 1})  # message 3, its `accepted`: no memory
    m = alice.recv(10)
    check(m is None and alice.close_code == 1011, "alice's connection: %r, close %r (want 1011)" %
          (m, alice.close_code))
    time.sleep(0.2)
    log = srv.logtext()
    check(re.search(r"ERROR\s+ws: connection closed: out of memory for its messages .*bytes=", log) is not None,
          "no ERROR line for the close")
    check(re.search(r"connection closed .*account=taker code=1011", log) is not None, "no close line with 1011")
    # others are served: bob places, is answered, queries; a FIX session's order
    bob.send({"op": "place", "id": 10, "client_order_id": "b1", "symbol": "AAPL", "side": "sell",
              "price": "6.00", "qty": 2}, {"op": "query", "id": 11})
    m, _ = bob.until(lambda m: m.get("type") == "order" and m.get("event") == "accepted")
    check(m is not None and m["client_order_id"] == "b1", "bob's order after alice's close: %r" % m)
    m, _ = bob.until(lambda m: m.get("id") == 11)
    check(m is not None and [o["client_order_id"] for o in m.get("orders", [])] == ["b1"], "bob's query: %r" % m)
    probe = Probe(srv.port, "CLIENT1")
    check(probe.rtt() is not None, "the FIX session was not served")
    # alice comes back: her order was carried out, its event lost with the connection
    a2 = login(port, "taker")
    a2.send({"op": "query", "id": 12, "client_order_id": "a1"})
    m = a2.recv(10)
    check(m is not None and m.get("orders", [{}])[0].get("status") == "new", "alice's a1 after the close: %r" % m)
    print("no memory for alice's message: closed 1011, ERROR logged; bob, the FIX session and alice's next "
          "connection served")
    for w in (a2, bob):
        w.close()
    probe.s.close()
    srv.stop()
    # the backlog's memory: a 100-order sweep's reports pass max_queued_bytes
    # (4096) at once, so most wait in each connection's backlog; the 160th
    # message (the maker's 102nd, inside the sweep's turn) finds no memory there
    srv = server(work, "nomem2", env={"BRS_FAULT_WS_NOMEM": "160"}, ws_extra={"max_queued_bytes": 4096}).start()
    port = ws_port(srv)
    mk = login(port, "maker")
    rest_sells(mk, 100)
    tk = login(port, "taker")
    tk.send({"op": "place", "client_order_id": "s", "symbol": "AAPL", "side": "buy", "price": "20.00", "qty": 100,
             "tif": "ioc"})
    got = {}
    for name, w in (("taker", tk), ("maker", mk)):
        fills = 0
        while True:
            m = w.recv(10)
            if m is None:
                break
            fills += m.get("event") == "fill"
            if fills == 100:
                break
        got[name] = (fills, w.close_code)
    time.sleep(0.2)
    log = srv.logtext()
    print("the backlog without memory: %r" % got)
    check(got["taker"] == (100, None) and got["maker"][1] == 1011 and got["maker"][0] < 100,
          "the taker gets all 100 fills, the maker's connection is closed 1011 in the middle: %r" % got)
    check(re.search(r"connection closed .*account=maker code=1011 reason=\"out of memory for the connection's "
                    r"backlog\"", log) is not None and log.count("ERROR ws: connection closed: out of memory") == 1,
          "no ERROR and close line for the backlog")
    tk.close()
    mk.close()
    srv.stop()


class Reader(threading.Thread):
    """Reads a connection for the whole case (so its pings are answered at
    any time): each message with the time it came, None once it closed."""

    def __init__(self, w):
        threading.Thread.__init__(self, daemon=True)
        self.w, self.msgs, self.stop = w, [], False
        self.cv = threading.Condition()
        self.start()

    def run(self):
        while not self.stop:
            m = self.w.recv(0.2)
            if m is None and self.w.close_code is None:
                continue
            with self.cv:
                self.msgs.append((time.time(), m))
                self.cv.notify_all()
            if m is None:
                return

    def wait(self, pred, timeout=60):
        """The first (index, time, message) from the start that pred takes; None at a close or timeout."""
        end = time.time() + timeout
        with self.cv:
            k = 0
            while True:
                while k < len(self.msgs):
                    t, m = self.msgs[k]
                    if m is None:
                        return None
                    if pred(m):
                        return k, t, m
                    k += 1
                left = end - time.time()
                if left <= 0:
                    return None
                self.cv.wait(left)


def case_keepalive(work):
    n = int(os.environ.get("WS_KA_N", "400"))
    per, ping_ms, pong_ms = 5, 50, 500
    sleep_ms = int(os.environ.get("WS_KA_SLEEP_MS", "25"))
    srv = server(work, "keepalive", per_turn=per, env={"BRS_FAULT_WS_STREAM_SLEEP_MS": str(sleep_ms)},
                 ws_extra={"ping_interval_ms": ping_ms, "pong_timeout_ms": pong_ms, "max_queued_bytes": 4096},
                 metrics=True).start()
    port = ws_port(srv)
    mport = int(re.search(r"http: listening listen=\S+:(\d+) metrics=/metrics", srv.logtext()).group(1))

    def gauges():
        """The streaming gauges of /metrics (published every 100 ms)."""
        import urllib.request
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % mport, timeout=5) as r:
            text = r.read().decode()
        found = {k: re.search(r"^%s (\S+)$" % k, text, re.M)
                 for k in ("bourse_ws_events_waiting", "bourse_ws_kept_message_bytes", "bourse_ws_connections_open",
                           "bourse_ws_connections_logged_in", "bourse_ws_connections_closed_waiting")}
        return {k: float(m.group(1)) if m else -1.0 for k, m in found.items()}  # -1: not there
    conns = {}
    for name, acct in (("mk", "maker"), ("tk", "taker"), ("tk2", "taker")):
        w = login(port, acct, rcvbuf=1 << 16)
        w.pong = True
        conns[name] = (w, Reader(w))
    (mk, mr), (tk, tr), (tk2, t2r) = conns["mk"], conns["tk"], conns["tk2"]
    is_fill = lambda m: m.get("type") == "order" and m.get("event") == "fill"  # noqa: E731
    # the maker's resting sells, pipelined: their acceptances stream too
    mk.send(*[{"op": "place", "client_order_id": "m%d" % k, "symbol": "AAPL", "side": "sell",
               "price": "%d.%02d" % divmod(1000 + k % 50, 100), "qty": 1} for k in range(n)])
    acc = mr.wait(lambda m: m.get("client_order_id") == "m%d" % (n - 1) and m.get("event") == "accepted")
    check(acc is not None, "the maker's %d resting sells were not all accepted (close %r)" % (n, mk.close_code))
    # the sweep; once its first fill is in, the taker's next messages (kept
    # behind the stream) and, on its second connection, an order then a close
    tk.send({"op": "place", "id": 7, "client_order_id": "sweep", "symbol": "AAPL", "side": "buy",
             "price": "20.00", "qty": n, "tif": "ioc"})
    first = tr.wait(is_fill)
    check(first is not None, "no first fill for the taker (close %r)" % tk.close_code)
    tk.send({"op": "query", "id": 20, "client_order_id": "sweep"},
            {"op": "place", "id": 21, "client_order_id": "k1", "symbol": "AAPL", "side": "buy", "price": "1.00",
             "qty": 2},
            {"op": "query", "id": 22, "client_order_id": "k1"})
    tk2.send({"op": "place", "id": 30, "client_order_id": "c1", "symbol": "AAPL", "side": "buy", "price": "1.00",
              "qty": 1})
    tk2.send_close(1000)
    t_close_sent = time.time()
    # the gauges while the stream goes on: events wait, messages are kept
    seen = {}
    end = time.time() + 1.0
    while time.time() < end and not (seen.get("bourse_ws_events_waiting") and
                                     seen.get("bourse_ws_kept_message_bytes")):
        time.sleep(0.05)
        for k, v in gauges().items():
            seen[k] = max(seen.get(k, 0), v)
    # once the second connection's close is answered (its kept order still
    # waits for the stream): two connections open and logged in, one closed
    # with messages waiting, while the stream goes on
    t2r.wait(lambda m: False, timeout=10)
    time.sleep(0.25)  # (the gauges are published every 100 ms)
    during = []
    while len(during) < 3:
        g = gauges()
        if not g["bourse_ws_events_waiting"] > 0:
            break
        during.append(g)
        time.sleep(0.05)
    last = tr.wait(lambda m: is_fill(m) and m.get("cum_qty") == n)
    q22 = tr.wait(lambda m: m.get("id") == 22)
    mlast = mr.wait(lambda m: is_fill(m) and m.get("client_order_id") == "m%d" % (n - 1))
    closed2 = t2r.wait(lambda m: False, timeout=10)  # its messages up to the server's close answer
    check(last is not None and q22 is not None, "the taker did not get its last fill and the answers behind it "
          "(close %r)" % tk.close_code)
    check(mlast is not None, "the maker did not get its fills (close %r)" % mk.close_code)
    # the kept order of the closed connection ran after the stream
    tk.send({"op": "query", "id": 23, "client_order_id": "c1"})
    q23 = tr.wait(lambda m: m.get("id") == 23, timeout=20)
    time.sleep(0.3)
    after = gauges()
    for r in (mr, tr, t2r):
        r.stop = True
    log = srv.logtext()
    srv.stop()
    if last is None or q22 is None or mlast is None:
        return
    msgs = [m for _, m in tr.msgs if m is not None]
    fills = [m for m in msgs if is_fill(m)]
    check([m["cum_qty"] for m in fills] == list(range(1, n + 1)),
          "the taker's fills are not each once in order: %d fills" % len(fills))
    mfills = [m["client_order_id"] for _, m in mr.msgs if m is not None and is_fill(m)]
    check(sorted(mfills) == sorted("m%d" % k for k in range(n)), "the maker's fills: %d, not each once" % len(mfills))
    ix = {}
    for i, m in enumerate(msgs):
        key = m.get("id") if m.get("type") != "order" else (m.get("client_order_id"), m.get("event"))
        ix.setdefault(key, i)
    i_last = max(i for i, m in enumerate(msgs) if is_fill(m))
    order = [ix.get(20, -1), ix.get(("k1", "accepted"), -1), ix.get(22, -1)]
    check(i_last < order[0] < order[1] < order[2],
          "the kept messages did not run after the stream, in order: last fill at %d, query/k1/query at %r" %
          (i_last, order))
    a20 = msgs[ix[20]] if 20 in ix else {}
    check(a20.get("orders", [{}])[0].get("cum_qty") == n and a20["orders"][0].get("status") == "filled",
          "the query behind the stream: %r" % a20)
    check(q22[2].get("orders", [{}])[0].get("status") == "new", "k1 after the stream: %r" % (q22[2],))
    check(q23 is not None and q23[2].get("orders", [{}])[0].get("status") == "new",
          "c1, kept on the connection that closed during the stream, did not run after it: %r" % (q23,))
    t_first, t_last = first[1], last[1]
    pings = [t for t in tk.pings if t_first <= t <= t_last]
    check(len(pings) >= 2, "the taker got %d pings during the stream (%.0f ms): the stream did not test the "
          "keepalive" % (len(pings), (t_last - t_first) * 1e3))
    check(tk2.close_code == 1000 and closed2 is None and t2r.msgs and t2r.msgs[-1][1] is None and
          t2r.msgs[-1][0] < t_last,
          "the second connection's close was not answered during the stream: code %r, %.0f ms after it was sent, "
          "the stream ended %.0f ms after" % (tk2.close_code, ((t2r.msgs[-1][0] if t2r.msgs else 0) - t_close_sent)
                                               * 1e3, (t_last - t_close_sent) * 1e3))
    stream = {m.group(1): float(m.group(2)) for m in re.finditer(
        r"order events caught up \(max_events_per_turn\) account=(\S+) events=\d+ loop_turns=\d+ ms=([\d.]+)", log)}
    check(stream.get("taker", 0) > 2 * (ping_ms + pong_ms),
          "the taker's stream took %r ms, not past twice ping_interval_ms + pong_timeout_ms (%d): it did not test "
          "the keepalive" % (stream.get("taker"), 2 * (ping_ms + pong_ms)))
    check("no pong in time" not in log, "a connection was dropped for its pong")
    check(seen.get("bourse_ws_events_waiting", 0) > 0 and seen.get("bourse_ws_kept_message_bytes", 0) > 0 and
          after == {"bourse_ws_events_waiting": 0, "bourse_ws_kept_message_bytes": 0, "bourse_ws_connections_open": 2,
                    "bourse_ws_connections_logged_in": 2, "bourse_ws_connections_closed_waiting": 0},
          "/metrics: during the stream %r, after it %r" % (seen, after))
    conns_during = [(g["bourse_ws_connections_open"], g["bourse_ws_connections_logged_in"],
                     g["bourse_ws_connections_closed_waiting"]) for g in during]
    check(conns_during and all(x == (2, 2, 1) for x in conns_during),
          "/metrics: with the second connection closed and its kept order waiting for the stream, (open, logged in, "
          "closed waiting) = %r, want (2, 2, 1) each" % conns_during)
    print("keepalive: a %d-fill stream over %.0f ms (ping_interval_ms %d, pong_timeout_ms %d, %d ms a turn): "
          "%d pings answered during it, every fill once in order, the kept messages after it in order, the "
          "second connection's close answered %.0f ms after it was sent and its kept order run; /metrics during "
          "it %r" % (n, stream.get("taker", 0), ping_ms, pong_ms, sleep_ms, len(pings),
           (t2r.msgs[-1][0] - t_close_sent) * 1e3 if t2r.msgs else -1, seen))
    for w in (mk, tk, tk2):
        w.close()


def case_durable(work):
    """Another account's order sent while a stream's turns are slowed: the
    answer its client gets is committed (it is there after a kill -9)."""
    rounds = 3
    lost = []
    for k in range(rounds):
        state = os.path.join(work, "st%d" % k)
        srv = server(work, "durable%d" % k, state=state, per_turn=5, fsync="batch",
                     env={"BRS_FAULT_WS_STREAM_SLEEP_MS": "25"})
        srv.start()
        port = ws_port(srv)
        mk = login(port, "maker")
        mk.pong = True
        rest_sells(mk, 100)
        tk, bob = login(port, "taker"), login(port, "bob")
        tk.send({"op": "place", "client_order_id": "s", "symbol": "AAPL", "side": "buy", "price": "20.00",
                 "qty": 100, "tif": "ioc"})
        m = tk.recv(10)
        check(m is not None and m.get("event") == "accepted", "round %d: the sweep: %r" % (k, m))
        time.sleep(0.01)  # inside the stream: 20 turns of 25 ms
        bob.send({"op": "place", "id": 5, "client_order_id": "b1", "symbol": "AAPL", "side": "buy",
                  "price": "1.00", "qty": 1})
        m, _ = bob.until(lambda m: m.get("client_order_id") == "b1")
        os.kill(srv.proc.pid, signal.SIGKILL)  # as soon as bob is told
        srv.wait(10)
        check(m is not None and m.get("event") == "accepted", "round %d: bob's b1: %r" % (k, m))
        srv = server(work, "durable%d" % k, state=state, per_turn=5, fsync="batch").start()
        b2 = login(ws_port(srv), "bob")
        b2.send({"op": "query", "id": 6, "client_order_id": "b1"})
        q = b2.recv(10)
        if not (q and q.get("type") == "orders"):
            lost.append(k)
        b2.close()
        srv.stop()
        for w in (mk, tk, bob):
            w.close()
    check(not lost, "bob was told b1 was accepted and it is gone after a kill -9 in rounds %r of %d: its "
          "answer was written before its journal record was committed" % (lost, rounds))
    print("durable: %d rounds, bob's order told accepted during a slowed stream and there after each kill -9" %
          rounds)


def main():
    case = sys.argv[sys.argv.index("--case") + 1]
    work = tempfile.mkdtemp(prefix="brs_wssweep_")
    try:
        {"sweep": case_sweep, "sweepcrash": case_sweepcrash, "nomem": case_nomem,
         "keepalive": case_keepalive, "durable": case_durable}[case](work)
    finally:
        if not ERRS and not os.environ.get("WS_KEEP"):  # WS_KEEP=1: the logs stay, by hand
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("kept", work)
    if ERRS:
        print("FAILED:", len(ERRS))
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
