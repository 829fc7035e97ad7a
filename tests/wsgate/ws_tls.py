#!/usr/bin/python3
"""ws_tls.py: WebSocket order entry over TLS (wss://, `ws.tls`; docs/ws-order-entry.md,
"TLS"), against `bourse serve` with a throwaway self-signed certificate made
here with `openssl req` (as the FIX listener's tests/fix/py/tls_test.py does).

  serve   two TLS clients (Python's ssl module under the bare RFC 6455 client of
          ws_sweep.py) log in, cross a buy and a sell and get their accepted
          and fill reports; all of it while one client holds a TCP connection
          that never starts the TLS handshake and another has sent half a TLS
          record: both still open when the trade is done (and a ping with a
          12 KB message in one TLS write answered), then each closed by
          ws.handshake_timeout_ms and logged (`no TLS handshake in time`). A
          plain-TCP WebSocket client on the TLS listener is refused (closed,
          no 101) and logged (`TLS failure: connection refused`); garbage, a
          peer that closes in the middle of a TLS record, and a TLS 1.2
          renegotiation (`openssl s_client`, its `R` command) end their own
          connection only: the logged-in clients are served after each. A
          200-order sweep with max_queued_bytes 4096 and max_events_per_turn
          30 streams every fill to both accounts through the backlog over
          TLS. TLS failures before a login count as failed logins for the
          address (the FIX listener's rule): after three, a login with the
          right token is refused until the delay (2 s) is over, then served;
          a wrong token is refused as over plain TCP.
  config  ws.tls's errors name the field: an unknown key, cert without key,
          require_client_cert without ca, an unreadable certificate; with
          require_client_cert a client with the CA's certificate logs in and
          one without is refused and logged; the start-up warning for a
          listener off 127.x.x.x without TLS, none with.

Usage: ws_tls.py BOURSE --case NAME   (exit 0 = pass)"""
import os
import re
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fix", "py"))
from abuse_common import ERRS, check  # noqa: E402
from ws_sweep import TOKENS, WS, rest_sells, server, ws_port  # noqa: E402

HANDSHAKE_MS = 3000


def make_cert(work):
    cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=localhost"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def wss(port, cert):
    """A wss:// connection: TLS (the certificate verified against cert), then the upgrade."""
    ctx = ssl.create_default_context(cafile=cert)
    ctx.check_hostname = False
    raw = socket.create_connection(("127.0.0.1", port), timeout=30)
    return WS(port, sock=ctx.wrap_socket(raw, server_hostname="localhost"))


def wss_login(port, cert, acct, token=None):
    w = wss(port, cert)
    w.send({"op": "login", "id": 1, "account": acct, "token": token or TOKENS[acct]})
    return w, w.recv()


def alive(w, what):
    """The logged-in connection w is still served: a query is answered."""
    w.send({"op": "query", "id": 99})
    m = w.recv()
    check(m is not None and m.get("type") == "orders", "%s: the TLS client is not served after it: %r" % (what, m))


def still_open(s):
    """Has the server left this raw socket open (no EOF, no reset, nothing sent)?"""
    s.setblocking(False)
    try:
        d = s.recv(1)
        return False if d == b"" else True
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        s.setblocking(True)


def closed_within(s, secs):
    s.settimeout(secs)
    try:
        while True:
            d = s.recv(4096)
            if not d:
                return True
    except socket.timeout:
        return False
    except OSError:
        return True


def until_event(w, clid, event, timeout=10):
    m, _ = w.until(lambda m: m.get("type") == "order" and m.get("client_order_id") == clid
                   and m.get("event") == event, timeout)
    return m


def case_serve(bourse, work):
    cert, key = make_cert(work)
    srv = server(work, "tls", per_turn=30, accounts=("taker", "maker", "bob"),
                 ws_extra={"tls": {"cert": cert, "key": key}, "handshake_timeout_ms": HANDSHAKE_MS,
                           "max_queued_bytes": 4096})
    srv.start()
    try:
        port = ws_port(srv)
        # two connections that stall the handshake: nothing sent; half a ClientHello record
        stall = socket.create_connection(("127.0.0.1", port))
        half = socket.create_connection(("127.0.0.1", port))
        half.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
        t0 = time.time()
        time.sleep(0.2)
        # 1. two TLS clients trade meanwhile
        a, m = wss_login(port, cert, "taker")
        check(m is not None and m.get("type") == "logged_in", "TLS login taker: %r" % m)
        b, m = wss_login(port, cert, "bob")
        check(m is not None and m.get("type") == "logged_in", "TLS login bob: %r" % m)
        a.send({"op": "place", "id": 2, "client_order_id": "b1", "symbol": "AAPL", "side": "buy",
                "price": "10.00", "qty": 5})
        m = until_event(a, "b1", "accepted")
        check(m is not None and m.get("status") == "new", "taker's buy accepted over TLS: %r" % m)
        b.send({"op": "place", "id": 3, "client_order_id": "s1", "symbol": "AAPL", "side": "sell",
                "price": "10.00", "qty": 5})
        m = until_event(b, "s1", "fill")
        check(m is not None and m.get("last_qty") == 5 and m.get("status") == "filled",
              "bob's sell filled over TLS: %r" % m)
        m = until_event(a, "b1", "fill")
        check(m is not None and m.get("last_qty") == 5 and m.get("last_px") == "10.00"
              and m.get("status") == "filled", "taker's buy filled over TLS: %r" % m)
        served = time.time() - t0
        check(still_open(stall) and still_open(half),
              "the stalled handshakes were closed before the trade was done (%.2f s)" % served)
        check(served < HANDSHAKE_MS / 1000.0,
              "the trade took %.2f s, past the stalled handshakes' %d ms: they held it" % (served, HANDSHAKE_MS))
        # a ping and a 12 KB message in one TLS write: the pong and the answer
        big = ('{"op": "query", "id": 77' + " " * 12000 + "}").encode()
        pong_then = bytearray([0x89, 0x80]) + os.urandom(4)
        mask = os.urandom(4)
        frame = bytes([0x81, 0x80 | 126]) + struct.pack(">H", len(big)) + mask + \
            bytes(x ^ mask[i % 4] for i, x in enumerate(big))
        a.sock.sendall(bytes(pong_then) + frame)
        m = a.recv()
        check(m is not None and m.get("type") == "orders" and m.get("id") == 77,
              "a ping and a 12 KB message in one TLS record: %r" % m)
        # 2. the stalled handshakes are closed by ws.handshake_timeout_ms
        check(closed_within(stall, HANDSHAKE_MS / 1000.0 + 5), "a silent TCP client is never closed")
        check(closed_within(half, HANDSHAKE_MS / 1000.0 + 5), "half a TLS record: never closed")
        waited = time.time() - t0
        check(waited >= HANDSHAKE_MS / 1000.0 - 0.05, "stalled handshakes closed after %.2f s, before "
              "ws.handshake_timeout_ms" % waited)
        stall.close()
        half.close()
        # 3. a TLS peer that closes in the middle of a record (after the upgrade and login)
        c, m = wss_login(port, cert, "maker")
        check(m is not None and m.get("type") == "logged_in", "TLS login maker: %r" % m)
        raw = socket.socket(fileno=os.dup(c.sock.fileno()))
        raw.sendall(b"\x17\x03\x03\x01\x00" + os.urandom(40))  # an application record's first 45 of 261 bytes
        raw.close()
        c.sock.close()
        time.sleep(0.3)
        alive(a, "a peer gone mid-record")
        # 4. a record that does not decrypt, on a logged-in connection
        c, m = wss_login(port, cert, "maker")
        raw = socket.socket(fileno=os.dup(c.sock.fileno()))
        raw.sendall(b"\x17\x03\x03\x00\x40" + os.urandom(64))
        check(closed_within(raw, 5), "a record that does not decrypt: not closed")
        raw.close()
        c.sock.close()
        alive(a, "a bad record")
        # 5. a 200-order sweep streams through the backlog over TLS (max_queued_bytes 4096,
        #    max_events_per_turn 30): every fill reaches both accounts in order
        n = 200
        c, m = wss_login(port, cert, "maker")
        rest_sells(c, n)
        a.send({"op": "place", "id": 5, "client_order_id": "sweep", "symbol": "AAPL", "side": "buy",
                "price": "11.00", "qty": n, "tif": "ioc"})
        cums, mfills = [], 0
        while len(cums) < n:
            m = a.recv(30)
            if m is None:
                break
            if m.get("type") == "order" and m.get("client_order_id") == "sweep" and m.get("event") == "fill":
                cums.append(m["cum_qty"])
        while mfills < n:
            m = c.recv(30)
            if m is None:
                break
            mfills += m.get("type") == "order" and m.get("event") == "fill"
        check(cums == list(range(1, n + 1)), "the sweep's fills over TLS: %d, in order %s" %
              (len(cums), cums == sorted(cums)))
        check(mfills == n, "the maker's fills over TLS: %d of %d" % (mfills, n))
        check(a.close_code is None and c.close_code is None, "closed during the sweep: %r %r" %
              (a.close_code, c.close_code))
        # 6. a TLS 1.2 renegotiation (openssl s_client's R command) is refused; the server goes on
        rn = subprocess.run("(sleep 1; printf 'R\\n'; sleep 1) | openssl s_client -connect 127.0.0.1:%d -tls1_2 "
                            "-CAfile %s -servername localhost" % (port, cert), shell=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        out = rn.stdout.decode("latin-1")
        check("RENEGOTIATING" in out, "s_client did not try to renegotiate: %s" % out[-400:])
        check("no renegotiation" in out, "a renegotiation was not refused: %s" % out[-400:])
        alive(a, "a renegotiation")
        # 7. a plain WebSocket client on the TLS listener: refused, no 101
        try:
            p = WS(port)
            check(False, "plain TCP on the TLS listener was upgraded")
            p.close()
        except OSError as e:
            check("101" not in str(e), "plain TCP on the TLS listener: %s" % e)
        alive(a, "plain TCP refused")
        # 8. garbage: not TLS, not HTTP
        g = socket.create_connection(("127.0.0.1", port))
        g.sendall(os.urandom(3000))
        check(closed_within(g, 5), "garbage on the TLS listener: not closed")
        g.close()
        alive(a, "garbage refused")
        # 9. TLS failures before a login count as failed logins for the address (the
        #    FIX listener's rule): the renegotiation's client, plain TCP, garbage: 3
        t_fail = time.time()
        check(len(re.findall(r"repeated login failures: the address's next login waits", srv.logtext())) >= 2,
              "TLS failures were not counted as failed logins")
        w, m = wss_login(port, cert, "bob")
        check(m is not None and m.get("type") == "error" and "repeated failures" in m.get("error", ""),
              "a login right after 3 failures from the address: %r" % m)
        w.recv()
        check(w.close_code == 1008, "a delayed login: close %r" % w.close_code)
        w.close()
        time.sleep(max(0.0, 2.2 - (time.time() - t_fail)))  # the third failure's delay: 2 s
        w, m = wss_login(port, cert, "bob")
        check(m is not None and m.get("type") == "logged_in", "a login after the delay: %r" % m)
        w.close()
        # 10. a wrong token over TLS: refused as over plain TCP
        w, m = wss_login(port, cert, "bob", token="not-the-token-0123456789")
        check(m is not None and m.get("type") == "error" and m.get("field") == "token"
              and "wrong token" in m.get("error", ""), "wrong token: %r" % m)
        w.recv()
        check(w.close_code == 1008, "wrong token over TLS: close %r" % w.close_code)
        w.close()
        a.close()
        b.close()
        c.close()
    finally:
        srv.stop()
    log = srv.logtext()
    for words in (["WARN", "ws: connection closed", "no TLS handshake in time (ws.handshake_timeout_ms)"],
                  ["TLS failure: connection refused", "peer=127.0.0.1:", "http request"],
                  ["TLS failure: connection refused", "peer=127.0.0.1:", "decryption failed or bad record mac"],
                  ["ws: connection closed", "account=maker", "code=1006", "no TLS close_notify"],
                  ["listening for WebSocket order entry", "tls=on"],
                  ["order events wait over loop turns"],
                  ["login refused: repeated login failures from this address", "account=bob", "wait_ms="]):
        check([ln for ln in log.splitlines() if all(x in ln for x in words)], "no log line with %s" % words)
    check(len(re.findall(r"no TLS handshake in time", log)) >= 2, "both stalled handshakes logged")
    check("without TLS" not in log, "a start-up warning on a loopback TLS listener")
    check("ERROR" not in log and "runtime error" not in log and "AddressSanitizer" not in log,
          "an error in the log: %s" % "\n".join(ln for ln in log.splitlines() if "ERROR" in ln or "runtime" in ln))
    check(srv.proc.returncode == 0, "the server exited %r" % srv.proc.returncode)
    if ERRS:
        print(log[-6000:])


def case_config(bourse, work):
    cert, key = make_cert(work)

    def start_err(name, tls, listen="127.0.0.1:0"):
        srv = server(work, name, ws_extra={"tls": tls} if tls is not None else None)
        srv.config_over = None
        import json
        with open(srv.config) as f:
            cfg = json.load(f)
        cfg["ws_listen"] = listen
        with open(srv.config, "w") as f:
            json.dump(cfg, f)
        srv.start(wait=False)
        try:
            rc = srv.proc.wait(20)
        except subprocess.TimeoutExpired:
            rc = None
        return srv, rc

    for name, tls, want in (("unknown", {"cert": cert, "key": key, "pem": "x"}, "ws.tls"),
                            ("nokey", {"cert": cert}, "ws.tls: cert and key are required"),
                            ("noca", {"cert": cert, "key": key, "require_client_cert": True},
                             "ws.tls.require_client_cert needs ws.tls.ca"),
                            ("badcert", {"cert": os.path.join(work, "missing.pem"), "key": key}, "ws.tls.cert: "),
                            ("badkey", {"cert": cert, "key": cert}, "ws.tls.key: "),
                            ("notobj", "yes", "ws.tls: expected an object")):
        srv, rc = start_err(name, tls)
        if rc is None:
            srv.stop()
        log = srv.logtext()
        check(rc not in (None, 0) and want in log, "ws.tls %s: exit %r, expected %r in: %s" % (name, rc, want, log))
        if name == "unknown":
            check("pem" in log, "the unknown key is not named: %s" % log)
    # required client certificates (ws.tls.ca, require_client_cert): the certificate
    # itself is the CA; a client presenting it logs in, one without any is refused
    srv = server(work, "mtls", ws_extra={"tls": {"cert": cert, "key": key, "ca": cert,
                                                 "require_client_cert": True}})
    srv.start()
    try:
        port = ws_port(srv)
        ctx = ssl.create_default_context(cafile=cert)
        ctx.check_hostname = False
        ctx.load_cert_chain(cert, key)
        w = WS(port, sock=ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=30),
                                          server_hostname="localhost"))
        w.send({"op": "login", "id": 1, "account": "taker", "token": TOKENS["taker"]})
        m = w.recv()
        check(m is not None and m.get("type") == "logged_in", "mTLS: the client with a certificate: %r" % m)
        w.close()
        try:
            w = wss(port, cert)
            w.send({"op": "login", "id": 1, "account": "taker", "token": TOKENS["taker"]})
            m = w.recv()
            check(m is None, "mTLS: a client without a certificate got %r" % m)
            w.close()
        except (OSError, ssl.SSLError):
            pass  # refused in the handshake (TLS 1.2) or after it (1.3: at the first read)
        time.sleep(0.3)
    finally:
        srv.stop()
    check("peer did not return a certificate" in srv.logtext() and "TLS failure: connection refused" in srv.logtext(),
          "mTLS: no TLS failure line for the client without a certificate: %s" % srv.logtext())
    # the start-up warning: off 127.x without TLS; none with TLS
    for name, tls, warn in (("open", None, True), ("opentls", {"cert": cert, "key": key}, False)):
        srv = server(work, name, ws_extra={"tls": tls} if tls else None)
        import json
        with open(srv.config) as f:
            cfg = json.load(f)
        cfg["ws_listen"] = "0.0.0.0:0"
        with open(srv.config, "w") as f:
            json.dump(cfg, f)
        srv.start()
        ws_port(srv)
        srv.stop()
        has = "open to the network without TLS" in srv.logtext()
        check(has == warn, "%s: the start-up warning %s: %s" % (name, "missing" if warn else "logged",
                                                                srv.logtext()))


def case_rtt(bourse, work):
    """Not a CTest (timings are not assertions): connect + login and a `query`
    round trip, plain TCP and TLS, for docs/performance.md. WS_RTT_N requests,
    WS_RTT_CONN connections; WS_RTT_TLS=0/1 one listener only."""
    cert, key = make_cert(work)
    n, nconn = int(os.environ.get("WS_RTT_N", "2000")), int(os.environ.get("WS_RTT_CONN", "50"))
    modes = [int(os.environ["WS_RTT_TLS"])] if "WS_RTT_TLS" in os.environ else [0, 1]
    for tls in modes:
        srv = server(work, "rtt%d" % tls, ws_extra={"tls": {"cert": cert, "key": key}} if tls else None)
        srv.start()
        try:
            port = ws_port(srv)
            conn = []
            for _ in range(nconn):
                t = time.perf_counter()
                w, m = wss_login(port, cert, "taker") if tls else (None, None)
                if not tls:
                    w = WS(port)
                    w.send({"op": "login", "id": 1, "account": "taker", "token": TOKENS["taker"]})
                    m = w.recv()
                conn.append(time.perf_counter() - t)
                check(m is not None and m.get("type") == "logged_in", "rtt login: %r" % m)
                w.close()
            w, m = wss_login(port, cert, "taker") if tls else (WS(port), None)
            if not tls:
                w.send({"op": "login", "id": 1, "account": "taker", "token": TOKENS["taker"]})
                w.recv()
            rt = []
            for k in range(n):
                t = time.perf_counter()
                w.send({"op": "query", "id": k})
                m = w.recv()
                rt.append(time.perf_counter() - t)
            w.close()
        finally:
            srv.stop()
        conn.sort()
        rt.sort()
        print("  percentiles 50/90/95/98/99/99.9 (us):", " ".join("%.0f" % (rt[min(len(rt) - 1, int(len(rt) * q))] * 1e6) for q in (0.5, 0.9, 0.95, 0.98, 0.99, 0.999)))
        print("%s: connect+login median %.3f ms p99 %.3f ms (%d); query round trip median %.1f us p99 %.1f us (%d)" %
              ("tls" if tls else "plain", conn[len(conn) // 2] * 1e3, conn[int(len(conn) * 0.99)] * 1e3, len(conn),
               rt[len(rt) // 2] * 1e6, rt[int(len(rt) * 0.99)] * 1e6, len(rt)))


def main():
    bourse = sys.argv[1]
    case = sys.argv[sys.argv.index("--case") + 1]
    work = tempfile.mkdtemp(prefix="brs_wstls_")
    try:
        {"serve": case_serve, "config": case_config, "rtt": case_rtt}[case](bourse, work)
    finally:
        if os.environ.get("WS_KEEP"):
            print("kept", work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    for e in ERRS:
        print("FAIL", e)
    print("ws_tls %s: %d failures" % (case, len(ERRS)))
    sys.exit(1 if ERRS else 0)


if __name__ == "__main__":
    main()
