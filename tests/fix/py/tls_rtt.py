"""tls_rtt.py: not a CTest (timings are not assertions): a FIX client's
TestRequest -> Heartbeat round trip on `bourse serve`, plain TCP and TLS,
for docs/performance.md. FIX_RTT_N requests after the Logon; FIX_RTT_TLS=0/1
one listener only. BOURSE may be a wrapper (valgrind) that runs the binary
with the arguments it is given.

usage: tls_rtt.py BOURSE"""
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixclient import Client, Server, write_config  # noqa: E402


def main():
    bourse = sys.argv[1]
    n = int(os.environ.get("FIX_RTT_N", "2000"))
    modes = [int(os.environ["FIX_RTT_TLS"])] if "FIX_RTT_TLS" in os.environ else [0, 1]
    work = tempfile.mkdtemp(prefix="brs_fixrtt_")
    try:
        cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for tls in modes:
            over = {"tls": {"cert": cert, "key": key}} if tls else {}
            cfg = write_config(os.path.join(work, "rtt%d.json" % tls), sessions=[{"target_comp_id": "CLIENT1"}],
                               **over)
            srv = Server(bourse, cfg, work, name="rtt%d" % tls)
            srv.start_timeout = 120.0
            srv.start()
            try:
                raw = socket.create_connection(("127.0.0.1", srv.port), timeout=60)
                raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if tls:
                    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                    ctx.check_hostname = False
                    ctx.verify_mode = ssl.CERT_NONE
                    raw = ctx.wrap_socket(raw, server_hostname="localhost")
                c = Client(srv.port, "CLIENT1", sock=raw)
                c.send("A", [(98, 0), (108, 30)], 1)
                m = c.recv(60)
                assert m is not None and m.type == "A", m
                rt = []
                for k in range(n):
                    t = time.perf_counter()
                    c.send("1", [(112, "t%d" % k)], k + 2)
                    m = c.recv(60)
                    rt.append(time.perf_counter() - t)
                    assert m is not None and m.type == "0", m
                c.send("5", [], n + 2)
                c.recv(10)
                c.close()
            finally:
                srv.stop()
            rt.sort()
            print("%s: TestRequest round trip median %.1f us p99 %.1f us (%d)" %
                  ("tls" if tls else "plain", rt[len(rt) // 2] * 1e6, rt[int(len(rt) * 0.99)] * 1e6, len(rt)))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
