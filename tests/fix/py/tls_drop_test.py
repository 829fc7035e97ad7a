"""tls_drop_test.py: on the FIX TLS listener, a client that drops its TCP
connection without a TLS close_notify (OpenSSL 3's "unexpected eof while
reading": a monitoring probe, a load balancer's health check) is a
disconnect as over plain TCP, never a TLS failure nor a failed Logon for its
address; a client that sends what is not TLS still is both.

Drops, all from 127.0.0.1: connect and close at once; half a ClientHello then
close; a whole handshake then close; a whole handshake and half a Logon then
close; a reset (SO_LINGER 0) after the handshake; a logged-on session's close
without close_notify. Then a good client logs on at once (before the change
each drop counted: the address's Logon waited 8 s and more). Then three
clients send garbage (not TLS, a bad handshake record): each is logged
`TLS failure` and counted, and the next good Logon waits.

usage: tls_drop_test.py BOURSE"""
import os
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixclient import Client, Server, encode, write_config  # noqa: E402

PW = "secret-one"


def ctx_client():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class MemTLS:
    """A TLS client over a raw socket through memory BIOs: what goes on the
    wire is exactly what we write (never a close_notify unless asked)."""

    def __init__(self, port):
        self.raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = ctx_client().wrap_bio(self.inc, self.out, server_hostname="localhost")

    def hello(self):
        """The ClientHello's bytes (not sent)."""
        try:
            self.obj.do_handshake()
        except ssl.SSLWantReadError:
            pass
        return self.out.read()

    def handshake(self):
        while True:
            try:
                self.obj.do_handshake()
                self.raw.sendall(self.out.read())
                return
            except ssl.SSLWantReadError:
                self.raw.sendall(self.out.read())
                d = self.raw.recv(65536)
                if not d:
                    raise ConnectionError("server closed during the handshake")
                self.inc.write(d)

    def send(self, b):
        self.obj.write(b)
        self.raw.sendall(self.out.read())

    def recv_msg(self, timeout=5.0):
        """Decrypted bytes up to one whole FIX message (or what came before a close or timeout)."""
        end, buf = time.time() + timeout, b""
        while time.time() < end and b"\x0110=" not in buf:
            try:
                buf += self.obj.read(65536)
                continue
            except ssl.SSLWantReadError:
                pass
            except (ssl.SSLError, ssl.SSLZeroReturnError):
                break
            self.raw.settimeout(max(0.01, end - time.time()))
            try:
                d = self.raw.recv(65536)
            except socket.timeout:
                break
            if not d:
                break
            self.inc.write(d)
        return buf

    def drain(self, wait=0.1):
        """Take what the server sent (TLS 1.3 session tickets): a close with
        unread bytes would be a reset, not the FIN this test means."""
        end = time.time() + wait
        while time.time() < end:
            self.raw.settimeout(max(0.01, end - time.time()))
            try:
                d = self.raw.recv(65536)
            except socket.timeout:
                return
            if not d:
                return
            self.inc.write(d)

    def drop(self, reset=False):
        if not reset:
            self.drain()
        if reset:
            self.raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.raw.close()


def logon(comp, seq=1, pw=PW):
    return encode("A", [(98, 0), (108, 30), (554, pw)], comp, "EXEC", seq)


def good_logon(port, errs, what):
    """A good client's Logon: (answered, seconds it took)."""
    t = time.time()
    c = MemTLS(port)
    c.handshake()
    c.send(logon("CLIENT1"))
    m = c.recv_msg(6)
    took = time.time() - t
    ok = b"\x0135=A\x01" in m
    if not ok:
        errs.append("%s: the good client's Logon got %r after %.2f s" % (what, m[:200], took))
    c.send(encode("5", [], "CLIENT1", "EXEC", 2))
    c.recv_msg(2)
    c.drop()
    return ok, took


def main():
    bourse = sys.argv[1]
    work = tempfile.mkdtemp(prefix="brs_tlsdrop_")
    errs = []
    srv = None
    try:
        cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cfg = write_config(os.path.join(work, "serve.json"), tls={"cert": cert, "key": key},
                           sessions=[{"target_comp_id": "CLIENT1", "password": PW,
                                      "reset_on_disconnect": True}])
        srv = Server(bourse, cfg, work).start()
        port = srv.port
        # 1. drops without close_notify, two rounds of each kind
        drops = 0
        for _ in range(2):
            MemTLS(port).drop()  # connect, close
            c = MemTLS(port)
            h = c.hello()
            c.raw.sendall(h[:len(h) // 2])  # half a ClientHello
            c.drop()
            c = MemTLS(port)
            c.handshake()  # a whole handshake
            c.drop()
            c = MemTLS(port)
            c.handshake()
            m = logon("CLIENT1")
            c.send(m[:len(m) // 2])  # half a Logon
            c.drop()
            c = MemTLS(port)
            c.handshake()
            time.sleep(0.05)
            c.drop(reset=True)  # a reset
            drops += 5
        # a logged-on session's drop
        c = MemTLS(port)
        c.handshake()
        c.send(logon("CLIENT1"))
        if b"\x0135=A\x01" not in c.recv_msg():
            errs.append("the logged-on drop's Logon was not answered")
        c.drop()
        drops += 1
        time.sleep(0.3)
        # 2. the next Logon from the address is answered at once
        ok, took_drops = good_logon(port, errs, "after %d drops" % drops)
        log = srv.logtext()
        for bad in ("TLS failure", "repeated Logon failures"):
            lines = [l for l in log.splitlines() if bad in l]
            if lines:
                errs.append("after the drops, %d '%s' lines: %s" % (len(lines), bad, lines[0]))
        by_peer = [l for l in log.splitlines() if "disconnected" in l and "by=peer" in l]
        if len(by_peer) < drops - 2:  # (the resets are ended by the gateway's read error)
            errs.append("after %d drops, %d 'disconnected ... by=peer' lines" % (drops, len(by_peer)))
        # 3. garbage stays a TLS failure, counted per address
        mark = len(log)
        for g in (b"8=FIX.4.4\x019=5\x0135=A\x0110=000\x01",          # plain FIX on the TLS port
                  b"\x16\x03\x01\x00\x05hello",                        # a handshake record that is not one
                  b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"):               # not TLS at all
            p = Client(port, "CLIENT1")
            p.send_raw(g)
            m = p.recv(5)
            if m is not None or not p.closed:
                errs.append("garbage %r: got %r, closed %s" % (g[:16], m, p.closed))
            p.close()
        ok, took_garbage = good_logon(port, errs, "after garbage")
        if took_garbage < 0.9:
            errs.append("the Logon after three TLS failures was answered in %.2f s: not slowed down" % took_garbage)
        srv.stop()
        tail = srv.logtext()[mark:]
        fails = [l for l in tail.splitlines() if "TLS failure: connection refused" in l]
        if len(fails) != 3:
            errs.append("garbage: %d 'TLS failure' lines, want 3" % len(fails))
        if "repeated Logon failures" not in tail:
            errs.append("garbage: no 'repeated Logon failures' line")
        print("tls drops: %d drops without close_notify, then a Logon in %.2f s; 3 garbage clients, then a Logon "
              "in %.2f s" % (drops, took_drops, took_garbage))
        if errs:
            errs.append("log: " + srv.logtext())
    finally:
        if srv:
            srv.stop()
        shutil.rmtree(work, ignore_errors=True)
    for e in errs:
        print("FAIL", e)
    print("tls drops: %d failures" % len(errs))
    sys.exit(1 if errs else 0)


if __name__ == "__main__":
    main()
