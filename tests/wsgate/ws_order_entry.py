#!/usr/bin/python3
"""ws_order_entry.py: WebSocket order entry with a real client (python3-websockets)
against `bourse serve` (the gateway in serve's loop beside the FIX acceptor, one
sim venue).

A wrong token is refused (error, close 1008) and nothing is placed; a request
before login is refused. Alice places a resting buy, replaces it (new price and
size), Bob sells into it: both receive their own fills (LastPx, LastQty, the
venue, cum/leaves/avg), Alice's reports never reach Bob's connection and the
other way round; Alice cancels the rest; query shows what is open; a book
subscription sends the venue's book; an oversized message closes with 1009 and
a malformed one is answered with the field at fault. A second gateway with
tight limits: HTTP 503 past ws.max_connections, requests past
ws.max_messages_per_sec answered with an error, close 1008 without a login.

Restart (with a state_dir: WebSocket requests share the FIX order journal):
Alice and Bob trade and a FIX session rests a sell; kill -9; after the restart
a query shows every order as the clients were told (open orders, fills,
replaced price), a used client_order_id is refused, the FIX sell and Alice's
orders trade again in the same books. Then the same flow is killed at every
write of the journal (BRS_FAULT_AFTER_WRITES, every third one torn): after each
restart every order the client was told about is there with at least the fills
it was told and its final state (filled, cancelled) kept, and no order the
client never sent is there.
Usage: ws_order_entry.py --serve PATH/TO/bourse   (exit 0 = pass)"""
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import websockets

ALICE = "alice-token-0123456789abcdef"
BOB = "bob-token-0123456789abcdef"
CAROL = "carol-token-0123456789abcdef"


def fail(msg):
    print("FAIL:", msg, flush=True)
    sys.exit(1)


async def recv_json(ws, timeout=5.0):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def until(ws, pred, what, timeout=5.0):
    """Messages until one matches pred; returns (match, everything seen before it)."""
    seen = []
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0:
            fail(f"timed out waiting for {what}; got {seen}")
        m = await recv_json(ws, left)
        if pred(m):
            return m, seen
        seen.append(m)


async def login(url, account, token):
    ws = await websockets.connect(url, max_size=1 << 20, close_timeout=1)
    await ws.send(json.dumps({"op": "login", "id": 1, "account": account, "token": token}))
    m = await recv_json(ws)
    if m.get("type") != "logged_in" or m.get("id") != 1:
        fail(f"login {account}: {m}")
    return ws


async def main(url):
    # a request before login is refused
    ws = await websockets.connect(url)
    await ws.send(json.dumps({"op": "query", "id": 5}))
    m = await recv_json(ws)
    if m.get("type") != "error" or m.get("id") != 5 or m.get("field") != "op":
        fail(f"query before login: {m}")
    # a wrong token: refused, the connection closed with 1008, nothing placed
    await ws.send(json.dumps({"op": "login", "id": 2, "account": "bob", "token": "x" * 26}))
    m = await recv_json(ws)
    if m.get("type") != "error" or m.get("field") != "token":
        fail(f"wrong token: {m}")
    try:
        await asyncio.wait_for(ws.recv(), 5)
        fail("the connection stayed open after a wrong token")
    except websockets.ConnectionClosed as e:
        if e.code != 1008:
            fail(f"wrong token closed with {e.code}, want 1008")

    alice = await login(url, "alice", ALICE)
    bob = await login(url, "bob", BOB)
    await bob.send(json.dumps({"op": "query", "id": 3}))
    m = await recv_json(bob)
    if m.get("type") != "orders" or m.get("orders") != []:
        fail(f"the refused login placed something: {m}")

    # book subscription: the venue's book comes (empty first)
    await alice.send(json.dumps({"op": "subscribe", "id": 4, "channel": "book", "symbol": "XYZ", "depth": 5}))
    await until(alice, lambda m: m.get("type") == "subscribed" and m.get("id") == 4, "subscribed")

    # Alice: a resting buy, then a replace (price up, size down)
    await alice.send(json.dumps({"op": "place", "id": 10, "client_order_id": "a1", "symbol": "XYZ",
                                 "side": "buy", "price": "100.00", "qty": 10}))
    m, _ = await until(alice, lambda m: m.get("type") == "order", "a1 accepted")
    if m["event"] != "accepted" or m["client_order_id"] != "a1" or m["leaves_qty"] != 10 or m["venue"] != "lit":
        fail(f"a1 accepted: {m}")
    book, _ = await until(alice, lambda m: m.get("type") == "book" and m["bids"], "the book with a1")
    if book["bids"][0] != ["100.00", 10] or book["venue"] != "lit":
        fail(f"book: {book}")
    await alice.send(json.dumps({"op": "replace", "id": 11, "client_order_id": "a1", "price": "100.05", "qty": 8}))
    m, _ = await until(alice, lambda m: m.get("type") == "order", "a1 replaced")
    if m["event"] != "replaced" or m["price"] != "100.05" or m["qty"] != 8 or m["leaves_qty"] != 8:
        fail(f"a1 replaced: {m}")

    # Bob sells 5 into it: both get their own fill, and only their own
    await bob.send(json.dumps({"op": "place", "id": 12, "client_order_id": "b1", "symbol": "XYZ",
                               "side": "sell", "price": "100.05", "qty": 5, "tif": "ioc"}))
    fb, seen_b = await until(bob, lambda m: m.get("type") == "order" and m["event"] == "fill", "b1 fill")
    if fb["client_order_id"] != "b1" or fb["last_px"] != "100.05" or fb["last_qty"] != 5 or fb["venue"] != "lit" \
            or fb["cum_qty"] != 5 or fb["avg_px"] != "100.05" or fb["status"] != "filled" or fb["liquidity"] != "taker":
        fail(f"b1 fill: {fb}")
    fa, _ = await until(alice, lambda m: m.get("type") == "order" and m["event"] == "fill", "a1 fill")
    if fa["client_order_id"] != "a1" or fa["last_px"] != "100.05" or fa["last_qty"] != 5 or fa["cum_qty"] != 5 \
            or fa["leaves_qty"] != 3 or fa["status"] != "partially_filled" or fa["liquidity"] != "maker":
        fail(f"a1 fill: {fa}")

    # Alice queries, then cancels the rest
    await alice.send(json.dumps({"op": "query", "id": 13}))
    q, _ = await until(alice, lambda m: m.get("type") == "orders" and m.get("id") == 13, "query")
    if len(q["orders"]) != 1 or q["orders"][0]["client_order_id"] != "a1" or q["orders"][0]["leaves_qty"] != 3:
        fail(f"query: {q}")
    await alice.send(json.dumps({"op": "cancel", "id": 14, "client_order_id": "a1"}))
    m, _ = await until(alice, lambda m: m.get("type") == "order" and m["event"] == "cancelled", "a1 cancelled")
    if m["leaves_qty"] != 0 or m["cum_qty"] != 5 or m["status"] != "cancelled":
        fail(f"a1 cancelled: {m}")
    await alice.send(json.dumps({"op": "cancel", "id": 15, "client_order_id": "a1"}))
    m, _ = await until(alice, lambda m: m.get("type") == "error", "cancel of a cancelled order")
    if m.get("id") != 15 or m.get("field") != "client_order_id":
        fail(f"second cancel: {m}")

    # each account's reports only on its own connections
    await bob.send(json.dumps({"op": "query", "id": 16}))
    m, seen = await until(bob, lambda m: m.get("type") == "orders" and m.get("id") == 16, "bob query")
    for x in seen_b + seen:
        if x.get("client_order_id") == "a1":
            fail(f"bob saw alice's report: {x}")
    # a malformed request names its field; an oversized one closes with 1009
    await bob.send(json.dumps({"op": "place", "id": 17, "client_order_id": "b2", "symbol": "XYZ",
                               "side": "sell", "price": "100.001", "qty": 1}))
    m, _ = await until(bob, lambda m: m.get("type") == "error", "bad price")
    if m.get("field") != "price" or m.get("id") != 17:
        fail(f"bad price: {m}")
    await bob.send("x" * 70000)
    try:
        while True:
            await asyncio.wait_for(bob.recv(), 5)
    except websockets.ConnectionClosed as e:
        if e.code != 1009:
            fail(f"an oversized message closed with {e.code}, want 1009")
    await alice.close()
    print("ok: refused login placed nothing; place, replace, fill on both sides, query, cancel; "
          "reports per account; field errors; 1009", flush=True)


async def limits(url):
    """max_connections 1, 2 messages/s with a burst of 2, login within 300 ms."""
    ws = await websockets.connect(url)
    try:
        await websockets.connect(url)
        fail("a second connection was accepted past ws.max_connections")
    except websockets.InvalidStatusCode as e:
        if e.status_code != 503:
            fail(f"past max_connections: HTTP {e.status_code}, want 503")
    await ws.send(json.dumps({"op": "login", "id": 1, "account": "alice", "token": ALICE}))
    await until(ws, lambda m: m.get("type") == "logged_in", "login")
    for i in range(4):
        await ws.send(json.dumps({"op": "query", "id": 10 + i}))
    answers = [await recv_json(ws) for _ in range(4)]
    limited = [m for m in answers if m.get("type") == "error" and "rate limit" in m.get("error", "")]
    if not limited or len(limited) == 4:
        fail(f"rate limit: {answers}")
    await ws.close()
    await asyncio.sleep(0.2)
    ws = await websockets.connect(url)  # no login: closed 1008 after login_timeout_ms
    try:
        await asyncio.wait_for(ws.recv(), 5)
        fail("a connection that never logged in got a message")
    except websockets.ConnectionClosed as e:
        if e.code != 1008:
            fail(f"no login: closed with {e.code}, want 1008")
    print("ok: 503 past max_connections, rate limit, login timeout", flush=True)


def start(host, d, name, ws_extra, state_dir=None, env=None, keep_cfg=False, ws_port=None, venues=None):
    cfg, portfile = os.path.join(d, name + ".json"), os.path.join(d, name + ".port")
    ws = {"accounts": [{"name": "alice", "token": ALICE, "route": "venue:lit"},
                       {"name": "bob", "token": BOB, "route": "venue:lit"}],
          "max_message_bytes": 65536, "max_frame_bytes": 65536}
    ws.update(ws_extra)
    doc = {"venues": venues or [{"name": "lit", "plugin": "sim"}], "ws_listen": "127.0.0.1:0", "ws": ws}
    if SERVE:
        doc.update({"listen": {"host": "127.0.0.1", "port": 0}, "sender_comp_id": "EXEC",
                    "sessions": [{"target_comp_id": "CLIENT1"}],
                    "instruments": [{"symbol": "XYZ", "decimals": 2, "tick_size": 1, "lot_size": 1}],
                    "ws_listen": "127.0.0.1:%d" % (ws_port or free_port())})
    if state_dir:
        doc["state_dir"] = state_dir
    with open(cfg, "w") as f:
        json.dump(doc, f)
    p = subprocess.Popen([host, "serve", cfg, "--port-file", portfile],
                         env=dict(os.environ, **(env or {})), stderr=subprocess.DEVNULL if env else None)
    for _ in range(200):
        if os.path.exists(portfile) and open(portfile).read().strip():
            break
        if p.poll() is not None:
            if env:  # fault injection: it may die while it starts
                return p, None
            fail(f"{host} exited {p.returncode}")
        time.sleep(0.05)
    port = int(doc["ws_listen"].rsplit(":", 1)[1])
    fix_port = int(open(portfile).read())
    os.unlink(cfg)
    os.unlink(portfile)
    p.fix_port = fix_port  # the port file is written once every listener is open
    return p, f"ws://127.0.0.1:{port}/"


def free_port():
    """A port free a moment ago (bourse serve's ws_listen takes a port number)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fix_logon(port, seq=1):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fix", "py"))
    from fixclient import Client
    c = Client(port, "CLIENT1")
    c.send("A", [(98, 0), (108, 30)], seq)
    m = c.recv(10)
    if m is None or m.type != "A":
        fail(f"FIX logon: {m}")
    return c


async def order_events(ws, told, until_pred, what, timeout=5.0):
    """Messages until until_pred; every order event updates told[clid]."""
    def pred(m):
        if m.get("type") == "order":
            told[m["client_order_id"]] = m
        return until_pred(m)
    return await until(ws, pred, what, timeout)


async def before_crash(url, fix_port):
    told = {}
    alice = await login(url, "alice", ALICE)
    bob = await login(url, "bob", BOB)
    for cl, px, q in (("a1", "100.00", 10), ("a2", "99.00", 5)):
        await alice.send(json.dumps({"op": "place", "client_order_id": cl, "symbol": "XYZ", "side": "buy",
                                     "price": px, "qty": q}))
        await order_events(alice, told, lambda m, cl=cl: m.get("client_order_id") == cl, cl + " accepted")
    await bob.send(json.dumps({"op": "place", "client_order_id": "b1", "symbol": "XYZ", "side": "sell",
                               "price": "100.00", "qty": 4, "tif": "ioc"}))
    await order_events(bob, told, lambda m: m.get("event") == "fill", "b1 fill")
    await order_events(alice, told, lambda m: m.get("event") == "fill", "a1 fill")
    await alice.send(json.dumps({"op": "replace", "client_order_id": "a2", "price": "99.50", "qty": 6}))
    await order_events(alice, told, lambda m: m.get("event") == "replaced", "a2 replaced")
    fx = fix_logon(fix_port)  # a FIX sell resting in the same book, the same journal
    fx.send("D", [(11, "s1"), (21, 1), (38, 3), (40, 2), (44, "101.00"), (54, 2), (55, "XYZ"),
                  (60, "20261206-10:00:00")], 2)
    m = fx.recv(5)
    if m is None or m.get(150) != "0":
        fail(f"FIX s1 New: {m}")
    await alice.close()
    await bob.close()
    return told, fx


async def after_restart(url, told, fix_port):
    alice = await login(url, "alice", ALICE)
    bob = await login(url, "bob", BOB)
    await alice.send(json.dumps({"op": "query", "id": 1}))
    q, _ = await until(alice, lambda m: m.get("type") == "orders", "query after the restart")
    got = {o["client_order_id"]: o for o in q["orders"]}
    if set(got) != {"a1", "a2"}:
        fail(f"open orders after the restart: {q}")
    for cl in ("a1", "a2"):
        for k in ("price", "qty", "cum_qty", "leaves_qty", "status", "avg_px"):
            if got[cl][k] != told[cl][k]:
                fail(f"{cl}.{k} after the restart: {got[cl][k]}, the client was told {told[cl][k]}")
    await bob.send(json.dumps({"op": "query", "id": 2, "client_order_id": "b1"}))
    q, _ = await until(bob, lambda m: m.get("type") == "orders", "b1 query")
    if q["orders"][0]["status"] != "filled" or q["orders"][0]["cum_qty"] != 4:
        fail(f"b1 after the restart: {q}")
    await alice.send(json.dumps({"op": "place", "id": 3, "client_order_id": "a1", "symbol": "XYZ", "side": "buy",
                                 "price": "1.00", "qty": 1}))
    m, _ = await until(alice, lambda m: m.get("type") == "error", "a1 reused")
    if m.get("field") != "client_order_id":
        fail(f"a reused client_order_id after the restart: {m}")
    # the books came back: Bob's sell fills Alice's a1 first (price), Alice's buy takes the FIX sell
    await bob.send(json.dumps({"op": "place", "client_order_id": "b2", "symbol": "XYZ", "side": "sell",
                               "price": "99.50", "qty": 6, "tif": "ioc"}))
    m, _ = await until(alice, lambda m: m.get("type") == "order" and m["event"] == "fill", "a1 fill after restart")
    if m["client_order_id"] != "a1" or m["cum_qty"] != 10 or m["status"] != "filled" or m["last_px"] != "100.00":
        fail(f"a1 after the restart: {m}")
    fx = fix_logon(fix_port, 3)  # the FIX session back before Alice takes its sell
    await alice.send(json.dumps({"op": "place", "client_order_id": "a3", "symbol": "XYZ", "side": "buy",
                                 "price": "101.00", "qty": 3, "tif": "ioc"}))
    m, _ = await until(alice, lambda m: m.get("type") == "order" and m["event"] == "fill", "a3 fill")
    if m["client_order_id"] != "a3" or m["last_qty"] != 3 or m["last_px"] != "101.00":
        fail(f"a3 against the FIX sell restored from the journal: {m}")
    while True:
        x = fx.recv(5)
        if x is None or (x.get(150) == "F" and x.get(11) == "s1"):
            break
    if x is None or x.get(32) != "3" or x.get(14) != "3":
        fail(f"the FIX sell's fill by a WebSocket order after the restart: {x}")
    fx.close()
    await alice.send(json.dumps({"op": "cancel", "client_order_id": "a2"}))
    m, _ = await until(alice, lambda m: m.get("type") == "order" and m["event"] == "cancelled", "a2 cancelled")
    await alice.close()
    await bob.close()
    print("ok: after kill -9 and a restart the WebSocket orders are as told (query), a used "
          "client_order_id is refused, they trade again and cross the FIX order of the same journal", flush=True)


def restart(bourse, d):
    state = os.path.join(d, "state")
    wsp = free_port()
    p, url = start(bourse, d, "journaled", {}, state_dir=state, ws_port=wsp)
    told, fx = asyncio.run(before_crash(url, p.fix_port))
    p.send_signal(signal.SIGKILL)
    p.wait()
    fx.close()
    p, url = start(bourse, d, "journaled", {}, state_dir=state, ws_port=wsp)
    try:
        asyncio.run(after_restart(url, told, p.fix_port))
    finally:
        p.terminate()
        p.wait(10)
    audit_ws(bourse, state)
    shutil.rmtree(state)


def audit_ws(bourse, state):
    """`bourse audit` tells the WebSocket orders' histories across the kill -9:
    every request and every report once (replay reports nothing again)."""
    def rows(*args):
        r = subprocess.run([bourse, "audit", state, "--format", "json", *args], capture_output=True, text=True,
                           timeout=60)
        if r.returncode != 0:
            fail(f"bourse audit {args}: {r.stderr}")
        return [row for order in json.loads(r.stdout) for row in order["events"]]

    a1 = rows("--session", "ws:alice", "--client-order", "a1")
    got = [(x["event"], x.get("last_qty", ""), x.get("cum_qty", ""), x.get("status", "")) for x in a1]
    want = [("received", "", "", ""), ("acknowledged", "", "0", "new"), ("fill", "4", "4", "partially_filled"),
            ("received", "", "", ""), ("refused", "", "", ""), ("fill", "6", "10", "filled")]
    if got != want:
        fail(f"audit of alice's a1 across the crash: {got}, expected {want}")
    if "client_order_id" not in a1[4].get("reason", ""):
        fail(f"the refused reuse of a1 without its reason: {a1[4]}")
    if any(x.get("venue") != "lit" for x in a1 if x["event"] == "fill"):
        fail(f"audit fills without their venue: {a1}")
    a2 = [x["event"] for x in rows("--session", "ws:alice", "--client-order", "a2")]
    if a2 != ["received", "acknowledged", "replace_requested", "replaced", "cancel_requested", "cancelled"]:
        fail(f"audit of alice's a2: {a2}")
    b1 = [(x["event"], x.get("side", ""), x.get("last_px", "")) for x in rows("--session", "ws:bob", "--client-order", "b1")]
    if b1 != [("received", "sell", ""), ("acknowledged", "sell", ""), ("fill", "sell", "100.00")]:
        fail(f"audit of bob's b1: {b1}")
    print("ok: bourse audit shows the WebSocket orders' requests and reports, each once, across the kill -9",
          flush=True)


async def crash_flow(url, told, sent):
    """Alice's orders, one request at a time, each waiting for its answer;
    sent lists the requests in order. Ends when the gateway dies."""
    try:
        alice = await login(url, "alice", ALICE)
        bob = await login(url, "bob", BOB)
        steps = [(alice, {"op": "place", "client_order_id": "c1", "symbol": "XYZ", "side": "buy", "price": "100.00", "qty": 10}),
                 (alice, {"op": "place", "client_order_id": "c2", "symbol": "XYZ", "side": "buy", "price": "99.00", "qty": 5}),
                 (bob, {"op": "place", "client_order_id": "d1", "symbol": "XYZ", "side": "sell", "price": "99.00", "qty": 12, "tif": "ioc"}),
                 (alice, {"op": "replace", "client_order_id": "c2", "price": "99.50", "qty": 8}),
                 (alice, {"op": "place", "client_order_id": "c3", "symbol": "XYZ", "side": "buy", "price": "98.00", "qty": 2}),
                 (alice, {"op": "cancel", "client_order_id": "c3"}),
                 (bob, {"op": "place", "client_order_id": "d2", "symbol": "XYZ", "side": "sell", "price": "99.50", "qty": 1, "tif": "ioc"})]
        for ws, req in steps:
            sent.append(req)
            await ws.send(json.dumps(req))
            last = {"place": "accepted", "replace": "replaced", "cancel": "cancelled"}[req["op"]]
            cl = req["client_order_id"]
            await order_events(ws, told, lambda m, cl=cl, last=last: m.get("client_order_id") == cl and
                               (m.get("event") == last or m.get("status") in ("filled", "cancelled")), cl)
        return True
    except (websockets.ConnectionClosed, OSError, SystemExit, asyncio.TimeoutError):
        return False


async def check_crash(url, told, sent, n):
    alice = await login(url, "alice", ALICE)
    bob = await login(url, "bob", BOB)
    restored = {}
    for ws in (alice, bob):
        for cl in ("c1", "c2", "c3", "d1", "d2"):
            await ws.send(json.dumps({"op": "query", "id": 9, "client_order_id": cl}))
            m, _ = await until(ws, lambda m: m.get("id") == 9, "query " + cl)
            if m.get("type") == "orders":
                restored[cl] = m["orders"][0]
    await alice.close()
    await bob.close()
    asked = {r["client_order_id"] for r in sent if r["op"] == "place"}
    if not set(restored) <= asked:
        fail(f"crash at write {n}: orders the client never sent are there: {set(restored) - asked}")
    for cl, m in told.items():
        r = restored.get(cl)
        if r is None:
            fail(f"crash at write {n}: {cl} was acknowledged ({m['event']}) and is gone")
        if r["cum_qty"] < m["cum_qty"]:
            fail(f"crash at write {n}: {cl} has cum {r['cum_qty']}, the client was told {m['cum_qty']}")
        if m["status"] in ("filled", "cancelled") and r["status"] != m["status"]:
            fail(f"crash at write {n}: {cl} was {m['status']}, now {r['status']}")
    return len(told), len(restored)


async def consolidated(url):
    """Two venues: the book of one, and the consolidated book ("venue": "*",
    every venue's levels merged by price, quantities summed)."""
    alice = await login(url, "alice", ALICE)  # routed to lit
    carol = await login(url, "carol", CAROL)  # routed to dark
    await alice.send(json.dumps({"op": "subscribe", "id": 40, "channel": "book", "symbol": "XYZ", "venue": "*",
                                 "depth": 5}))
    await until(alice, lambda m: m.get("type") == "subscribed" and m.get("id") == 40, "subscribed to *")
    await alice.send(json.dumps({"op": "subscribe", "id": 41, "channel": "book", "symbol": "XYZ", "venue": "dark"}))
    await until(alice, lambda m: m.get("type") == "subscribed" and m.get("id") == 41, "subscribed to dark")
    await alice.send(json.dumps({"op": "subscribe", "id": 42, "channel": "book", "symbol": "XYZ", "venue": "nope"}))
    m, _ = await until(alice, lambda m: m.get("id") == 42, "unknown venue")
    if m.get("type") != "error" or m.get("field") != "venue":
        fail(f"book of an unknown venue: {m}")
    for ws, cl, px, q in ((alice, "x1", "100.00", 10), (carol, "y1", "100.00", 7), (carol, "y2", "99.00", 3),
                          (alice, "x2", "101.00", 2)):
        await ws.send(json.dumps({"op": "place", "client_order_id": cl, "symbol": "XYZ",
                                  "side": "sell" if cl == "x2" else "buy", "price": px, "qty": q}))
        await until(ws, lambda m, cl=cl: m.get("type") == "order" and m.get("client_order_id") == cl, cl)
    want = {"*": ([["100.00", 17], ["99.00", 3]], [["101.00", 2]]), "dark": ([["100.00", 7], ["99.00", 3]], [])}
    got = {}
    while set(got) != set(want):
        b, _ = await until(alice, lambda m: m.get("type") == "book", "books")
        if (b["bids"], b["asks"]) == want.get(b["venue"]):
            got[b["venue"]] = b
    await alice.close()
    await carol.close()
    print("ok: consolidated book (venue *) sums both venues' levels by price; one venue's book its own", flush=True)


def crashes(bourse, d):
    """The flow killed at its Nth write of the journal, for every N until it completes."""
    points = died = 0
    for n in range(1, 40):
        state = os.path.join(d, "crash%d" % n)
        wsp = free_port()
        p, url = start(bourse, d, "crash", {}, state_dir=state, ws_port=wsp,
                       env={"BRS_FAULT_AFTER_WRITES": str(n), "BRS_FAULT_TORN": "1" if n % 3 == 0 else "0"})
        told, sent = {}, []
        done = url is not None and asyncio.run(crash_flow(url, told, sent))
        if done:
            p.terminate()
            p.wait(10)
            shutil.rmtree(state)
            break
        p.wait(10)
        died += p.returncode == -signal.SIGKILL
        p, url = start(bourse, d, "crash", {}, state_dir=state, ws_port=wsp)
        try:
            asyncio.run(check_crash(url, told, sent, n))
        finally:
            p.terminate()
            p.wait(10)
        shutil.rmtree(state)
        points += 1
    if points < 5 or died != points:
        fail(f"crash points: {points} (killed by SIGKILL {died}); the flow should die at each write")
    print(f"ok: killed at each of {points} journal writes (every third torn): every order the client was "
          "told of is back with at least its told fills, its end state kept, nothing it never sent", flush=True)


SERVE = True  # the gateway's only host is `bourse serve` (--serve is kept for the CTest line)


async def burst(url, fix_port):
    """A FIX session rests N one-lot sells; Alice's one buy sweeps them: her N
    fill reports (about 1 MB) pass max_queued_bytes (64 KB here) many times
    over and wait in the connection's backlog, reaching her in order while she
    reads. Before, the burst closed her connection with 1008 "reads too
    slowly" within the turn, and she got none of them."""
    n = 3000
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fix", "py"))
    from fixclient import encode
    c = fix_logon(fix_port)
    seq, batch = 2, []
    for k in range(n):
        batch.append(encode("D", [(11, "r%d" % k), (21, 1), (38, 1), (40, 2), (44, "50.00"), (54, 2),
                                  (55, "XYZ"), (59, 1), (60, "20261206-10:00:00")], "CLIENT1", "EXEC", seq))
        seq += 1
    c.send_raw(b"".join(batch))
    acks = 0
    while acks < n:
        m = c.recv(10)
        if m is None:
            fail(f"the FIX sells: {acks} of {n} acknowledged")
        acks += m.type == "8" and m.get(150) == "0"
    alice = await login(url, "alice", ALICE)
    await alice.send(json.dumps({"op": "place", "id": 70, "client_order_id": "sweep", "symbol": "XYZ",
                                 "side": "buy", "price": "50.00", "qty": n}))
    fills, last_cum = 0, 0
    while fills < n:
        try:
            m = await recv_json(alice, 20)
        except websockets.ConnectionClosed as e:
            fail(f"the sweep's reports: closed {e.code} {e.reason!r} after {fills} of {n} fills")
        if m.get("type") == "order" and m.get("event") == "fill":
            fills += 1
            if m["cum_qty"] != last_cum + 1:
                fail(f"fill {fills}: cum_qty {m['cum_qty']} after {last_cum} (out of order)")
            last_cum = m["cum_qty"]
    if m["status"] != "filled" or m["leaves_qty"] != 0:
        fail(f"the last fill: {m}")
    await alice.close()
    c.close()
    print(f"burst: {n} fill reports through max_queued_bytes 65536, in order, no close")


def run():
    host = [a for a in sys.argv[1:] if a != "--serve"][0]
    d = tempfile.mkdtemp(prefix="brs_wsgate_")
    procs = []
    try:
        p, url = start(host, d, "main", {})
        procs.append(p)
        asyncio.run(main(url))
        p, url = start(host, d, "limits", {"max_connections": 1, "max_messages_per_sec": 2, "burst": 2,
                                            "login_timeout_ms": 300})
        procs.append(p)
        asyncio.run(limits(url))
        p, url = start(host, d, "two", {"accounts": [{"name": "alice", "token": ALICE, "route": "venue:lit"},
                                                       {"name": "carol", "token": CAROL, "route": "venue:dark"}]},
                       venues=[{"name": "lit", "plugin": "sim"}, {"name": "dark", "plugin": "sim"}])
        procs.append(p)
        asyncio.run(consolidated(url))
        if SERVE:
            p, url = start(host, d, "burst", {"max_queued_bytes": 65536})
            procs.append(p)
            asyncio.run(burst(url, p.fix_port))
        if SERVE:
            restart(host, d)
            crashes(host, d)
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)
        os.rmdir(d)


if __name__ == "__main__":
    run()
