#!/usr/bin/python3
"""ws_order_entry.py: WebSocket order entry with a real client (python3-websockets)
against the gateway on a runtime (tests/wsgate/wsgate_host.c, one sim venue).

A wrong token is refused (error, close 1008) and nothing is placed; a request
before login is refused. Alice places a resting buy, replaces it (new price and
size), Bob sells into it: both receive their own fills (LastPx, LastQty, the
venue, cum/leaves/avg), Alice's reports never reach Bob's connection and the
other way round; Alice cancels the rest; query shows what is open; a book
subscription sends the venue's book; an oversized message closes with 1009 and
a malformed one is answered with the field at fault. A second gateway with
tight limits: HTTP 503 past ws.max_connections, requests past
ws.max_messages_per_sec answered with an error, close 1008 without a login.
Usage: ws_order_entry.py PATH/TO/wsgate_host   (exit 0 = pass)
       ws_order_entry.py --serve PATH/TO/bourse  (the same through `bourse serve`,
       whose loop hosts the gateway beside the FIX acceptor; and ws_listen beside
       a state_dir is refused, since WebSocket orders are not journaled yet)."""
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

import websockets

ALICE = "alice-token-0123456789abcdef"
BOB = "bob-token-0123456789abcdef"


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
    ws = await websockets.connect(url, max_size=1 << 20)
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


def start(host, d, name, ws_extra):
    cfg, portfile = os.path.join(d, name + ".json"), os.path.join(d, name + ".port")
    ws = {"accounts": [{"name": "alice", "token": ALICE, "route": "venue:lit"},
                       {"name": "bob", "token": BOB, "route": "venue:lit"}],
          "max_message_bytes": 65536, "max_frame_bytes": 65536}
    ws.update(ws_extra)
    doc = {"venues": [{"name": "lit", "plugin": "sim"}], "ws_listen": "127.0.0.1:0", "ws": ws}
    if SERVE:
        doc.update({"listen": {"host": "127.0.0.1", "port": 0}, "sender_comp_id": "EXEC",
                    "sessions": [{"target_comp_id": "CLIENT1"}],
                    "instruments": [{"symbol": "XYZ", "decimals": 2, "tick_size": 1, "lot_size": 1}],
                    "ws_listen": "127.0.0.1:%d" % free_port()})
    with open(cfg, "w") as f:
        json.dump(doc, f)
    p = subprocess.Popen([host, "serve", cfg, "--port-file", portfile] if SERVE else [host, cfg, portfile])
    for _ in range(200):
        if os.path.exists(portfile) and open(portfile).read().strip():
            break
        if p.poll() is not None:
            fail(f"{host} exited {p.returncode}")
        time.sleep(0.05)
    port = int(open(portfile).read()) if not SERVE else int(doc["ws_listen"].rsplit(":", 1)[1])
    os.unlink(cfg)
    os.unlink(portfile)
    return p, f"ws://127.0.0.1:{port}/"


def free_port():
    """A port free a moment ago (bourse serve's ws_listen takes a port number)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def refuses_state_dir(bourse, d):
    cfg = os.path.join(d, "journaled.json")
    with open(cfg, "w") as f:
        json.dump({"listen": {"host": "127.0.0.1", "port": 0}, "sender_comp_id": "EXEC", "state_dir": d,
                   "sessions": [{"target_comp_id": "CLIENT1"}],
                   "instruments": [{"symbol": "XYZ", "decimals": 2, "tick_size": 1, "lot_size": 1}],
                   "ws_listen": "127.0.0.1:0", "ws": {"accounts": [{"name": "a", "token": ALICE}]}}, f)
    r = subprocess.run([bourse, "serve", cfg], capture_output=True, text=True, timeout=30)
    os.unlink(cfg)
    if r.returncode == 0 or "ws_listen" not in r.stderr or "state_dir" not in r.stderr:
        fail(f"ws_listen beside state_dir: exit {r.returncode}, {r.stderr!r}")
    print("ok: ws_listen beside a state_dir is refused, naming both", flush=True)


SERVE = "--serve" in sys.argv[1:]


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
        if SERVE:
            refuses_state_dir(host, d)
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)
        os.rmdir(d)


if __name__ == "__main__":
    run()
