#!/usr/bin/python3
"""binance_replay.py: a loopback Binance USD-M look-alike for the WebSocket tests.

Built on Debian's python3-websockets (10.x). One port serves:
  GET /fapi/v1/depth?symbol=X  the server's CURRENT book of X as a REST snapshot
                               (starts as the recorded snapshot; every update the
                               stream has reached is applied, sent or lost)
  GET /final                   every book after the whole recording (the
                               independent reference the C test compares with)
  GET /closes                  close codes the server received on /bad/* paths
  WS  /stream                  the recorded session, line by line, from a cursor
                               shared by all connections. With --drop-after N the
                               first connection is aborted (no close frame) after N
                               frames and --lose K further frames are never sent
                               (they happened "while the client was away").
                               At the end: close 1000.
  WS  /bad/<kind>              protocol violations: rsv, masked, utf8, toobig,
                               ctrlfrag, badopcode, close1; /frag sends a fragmented
                               message and a ping, then closes 1000.
Books are kept with exact decimal strings (Decimal), independent of the C code.
"""
import argparse
import asyncio
import http
import json
import os
import signal
import struct
import sys
from decimal import Decimal
from urllib.parse import urlparse, parse_qs

import logging
import websockets
logging.basicConfig(level=logging.DEBUG if os.environ.get("WSDEBUG") else logging.WARNING)

ap = argparse.ArgumentParser()
ap.add_argument("--ws")  # without the recording only /bad/* and /frag work
ap.add_argument("--http")
ap.add_argument("--port-file", required=True)
ap.add_argument("--drop-after", type=int, default=0)
ap.add_argument("--lose", type=int, default=0)
ap.add_argument("--timeout", type=float, default=60.0)
ap.add_argument("--tls-cert")
ap.add_argument("--tls-key")
ap.add_argument("--end-idle", action="store_true", help="stay connected and silent after the replay instead of closing 1000")
args = ap.parse_args()


def load():
    frames = []
    if not args.ws or not args.http:
        return [], {}
    with open(args.ws) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("ws"):
                continue
            ts, js = line.split(": ", 1)
            frames.append(js)
    snaps = {}
    with open(args.http) as f:
        for line in f:
            if not line.strip():
                continue
            url, rest = line.split(" -> ", 1)
            ts, js = rest.split(":", 1)
            sym = parse_qs(urlparse(url).query)["symbol"][0].upper()
            snaps[sym] = json.loads(js)
    return frames, snaps


class Book:
    def __init__(self, snap):
        self.last = snap["lastUpdateId"]
        self.side = {"b": {}, "a": {}}
        for k, key in (("b", "bids"), ("a", "asks")):
            for p, q in snap[key]:
                if Decimal(q) != 0:
                    self.side[k][Decimal(p)] = (p, q)

    def apply(self, d):
        if d["u"] < self.last:
            return  # already in the snapshot
        for k in ("b", "a"):
            for p, q in d[k]:
                if Decimal(q) == 0:
                    self.side[k].pop(Decimal(p), None)
                else:
                    self.side[k][Decimal(p)] = (p, q)
        self.last = d["u"]

    def json(self):
        bids = [list(self.side["b"][p]) for p in sorted(self.side["b"], reverse=True)]
        asks = [list(self.side["a"][p]) for p in sorted(self.side["a"])]
        return {"lastUpdateId": self.last, "bids": bids, "asks": asks}


frames, snaps = load()
parsed = [json.loads(f)["data"] for f in frames]
books = {s: Book(v) for s, v in snaps.items()}
final = {s: Book(v) for s, v in snaps.items()}
for d in parsed:
    if d.get("e") == "depthUpdate" and d["s"] in final:
        final[d["s"]].apply(d)
cursor = 0
closes = {}
connections = 0


def advance():
    """Move the shared cursor by one frame, applying it to the live books."""
    global cursor
    d = parsed[cursor]
    if d.get("e") == "depthUpdate" and d["s"] in books:
        books[d["s"]].apply(d)
    cursor += 1


async def process_request(path, headers):
    if headers.get("Upgrade", "").lower() == "websocket":
        return None
    u = urlparse(path)
    if u.path == "/fapi/v1/depth":
        sym = parse_qs(u.query).get("symbol", [""])[0]
        if sym not in books:
            return (http.HTTPStatus.BAD_REQUEST, [("Content-Type", "application/json")], b'{"code":-1121,"msg":"Invalid symbol."}')
        body = json.dumps(books[sym].json()).encode()
    elif u.path == "/final":
        body = json.dumps({s: b.json() for s, b in final.items()}).encode()
    elif u.path == "/closes":
        body = json.dumps(closes).encode()
    else:
        return (http.HTTPStatus.NOT_FOUND, [], b"not found")
    return (http.HTTPStatus.OK, [("Content-Type", "application/json")], body)


def frame(opcode, payload, fin=True, rsv=0, mask=False):
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload)
    if n < 126:
        hdr = struct.pack("!BB", b0, n | (0x80 if mask else 0))
    elif n < 65536:
        hdr = struct.pack("!BBH", b0, 126 | (0x80 if mask else 0), n)
    else:
        hdr = struct.pack("!BBQ", b0, 127 | (0x80 if mask else 0), n)
    if mask:
        key = b"\x01\x02\x03\x04"
        payload = bytes(c ^ key[i % 4] for i, c in enumerate(payload))
        hdr += key
    return hdr + payload


async def bad(ws, kind):
    t = ws.transport
    if kind == "rsv":
        t.write(frame(0x1, b"hi", rsv=4))
    elif kind == "masked":
        t.write(frame(0x1, b"hi", mask=True))
    elif kind == "utf8":
        t.write(frame(0x1, b'{"e":"\xc3\x28"}'))
    elif kind == "utf8frag":  # invalid sequence split across fragments
        t.write(frame(0x1, b'{"a":"\xe2\x82', fin=False) + frame(0x0, b'\xff"}'))
    elif kind == "toobig":
        try:
            await ws.send("x" * 70000)
        except websockets.ConnectionClosed:
            pass
    elif kind == "ctrlfrag":
        t.write(frame(0x9, b"p", fin=False))
    elif kind == "badopcode":
        t.write(frame(0x3, b"??"))
    elif kind == "close1":  # a close body of 1 byte: protocol error (RFC 6455 5.5.1)
        t.write(frame(0x8, b"\x03"))
    try:
        await asyncio.wait_for(ws.wait_closed(), 5)
    except asyncio.TimeoutError:
        pass
    closes[kind] = ws.close_code


async def frag(ws):
    t = ws.transport
    t.write(frame(0x1, b'{"part":', fin=False))
    t.write(frame(0x9, b"keepalive"))  # a ping between fragments is legal
    t.write(frame(0x0, b'"one",', fin=False) + frame(0x0, '"two":"\u00e9\u20ac"}'.encode()))
    await ws.send(b"\x00\x01binary")
    await asyncio.sleep(0.2)
    await ws.close(1000, "done")
    closes["frag"] = ws.close_code


async def stream(ws):
    global connections
    connections += 1
    first = connections == 1
    try:  # the client subscribes first; answer like Binance
        msg = await asyncio.wait_for(ws.recv(), 2)
        req = json.loads(msg)
        if first:  # the tests read what the client subscribed to
            with open(args.port_file + ".sub", "w") as f:
                f.write(msg)
        await ws.send(json.dumps({"result": None, "id": req.get("id")}))
    except (asyncio.TimeoutError, ValueError):
        pass
    sent = 0
    while cursor < len(frames):
        if first and args.drop_after and sent >= args.drop_after:
            for _ in range(args.lose):
                if cursor < len(frames):
                    advance()
            ws.transport.abort()  # the network fails: no close frame
            return
        await ws.send(frames[cursor])
        advance()
        sent += 1
        if sent % 20 == 0:
            await asyncio.sleep(0.002)  # let REST requests in, like a real exchange
    if args.end_idle:
        await ws.wait_closed()
    else:
        await ws.close(1000, "replay done")


async def handler(ws, path):
    try:
        if path.startswith("/bad/"):
            await bad(ws, path[5:])
        elif path == "/frag":
            await frag(ws)
        else:
            await stream(ws)
    except websockets.ConnectionClosed:
        pass  # the client went away (killed, or failing the connection on purpose)


async def main():
    ssl_ctx = None
    if args.tls_cert:  # wss:// and https:// on the same port
        import ssl
        ssl_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ssl_ctx.load_cert_chain(args.tls_cert, args.tls_key)
    async with websockets.serve(handler, "127.0.0.1", 0, process_request=process_request,
                                max_size=2**20, ping_interval=None, ssl=ssl_ctx) as server:
        port = server.sockets[0].getsockname()[1]
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(port))
        os.rename(tmp, args.port_file)
        stop = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
        try:
            await asyncio.wait_for(stop, args.timeout)
        except asyncio.TimeoutError:
            pass


asyncio.run(main())
