"""tls_test.py: who may log on to `bourse serve` (issue 14): a TLS listener
(throwaway self-signed certificate made here with `openssl req`) on which a
Python ssl client trades end to end; passwords from the environment and from
a file; a wrong password, a disallowed address (allowed_hosts) and a plain-TCP
client on the TLS listener are refused and logged; repeated failures from one
address slow its next Logon down; the start-up warning for a session open to
the network without TLS or password.

usage: tls_test.py BOURSE"""
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixclient import Client, Server, cross_pair, crossed, write_config  # noqa: E402


def tls_client(port, comp, cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = False
    raw = socket.create_connection(("127.0.0.1", port))
    return Client(port, comp, sock=ctx.wrap_socket(raw, server_hostname="localhost"))


def main():
    bourse = sys.argv[1]
    work = tempfile.mkdtemp(prefix="brs_tls_")
    errs = []
    try:
        cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                        "-out", cert, "-days", "1", "-subj", "/CN=localhost"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        pwfile = os.path.join(work, "pw2")
        with open(pwfile, "w") as f:
            f.write("secret-two\n")
        cfg = write_config(os.path.join(work, "serve.json"),
                           tls={"cert": cert, "key": key},
                           sessions=[{"target_comp_id": "CLIENT1", "password_env": "BRS_TEST_PW",
                                      "allowed_hosts": ["127.0.0.0/8"]},
                                     {"target_comp_id": "CLIENT2", "password_file": pwfile,
                                      "allowed_hosts": ["10.1.2.3", "192.168.0.0/16"]},
                                     {"target_comp_id": "CLIENT3", "password_file": pwfile}])
        srv = Server(bourse, cfg, work, env={"BRS_TEST_PW": "secret-one"}).start()
        port = srv.port
        # 1. TLS trades end to end
        c = tls_client(port, "CLIENT1", cert)
        c.send("A", [(98, 0), (108, 30), (554, "secret-one")], 1)
        m = c.recv(5)
        if m is None or m.type != "A":
            errs.append("TLS Logon: %r" % m)
        ers = cross_pair(c, "t", 2)
        if ers != crossed("t"):
            errs.append("TLS trade: reports %s" % ers)
        c.send("5", [], 4)
        c.recv(5)
        c.close()
        # 2. the password from a file works (CLIENT3), a wrong one is refused with a Logout
        g = tls_client(port, "CLIENT3", cert)
        g.send("A", [(98, 0), (108, 30), (554, "secret-two")], 1)
        m = g.recv(5)
        if m is None or m.type != "A":
            errs.append("password_file Logon: %r" % m)
        g.close()
        time.sleep(0.2)
        w = tls_client(port, "CLIENT1", cert)
        w.send("A", [(98, 0), (108, 30), (554, "wrong")], 1)
        m = w.recv(5)
        if m is None or m.type != "5":
            errs.append("wrong password: expected a Logout, got %r" % m)
        w.close()
        # 3. a disallowed address (CLIENT2 only from 10.1.2.3 and 192.168/16)
        d = tls_client(port, "CLIENT2", cert)
        d.send("A", [(98, 0), (108, 30), (554, "secret-two")], 1)
        m = d.recv(5)
        if m is not None:
            errs.append("disallowed address: got %r" % m)
        d.close()
        # 4. plain TCP on the TLS listener
        p = Client(port, "CLIENT1")
        p.send("A", [(98, 0), (108, 30), (554, "secret-one")], 1)
        m = p.recv(5)
        if m is not None or not p.closed:
            errs.append("plain TCP on TLS: got %r, closed %s" % (m, p.closed))
        p.close()
        # 5. after these failures the next Logon from 127.0.0.1 waits (then succeeds)
        t = time.time()
        c = tls_client(port, "CLIENT1", cert)
        c.send("A", [(98, 0), (108, 30), (554, "secret-one")], 5)
        m = c.recv(40)
        waited = time.time() - t
        if m is None or m.type != "A":
            errs.append("Logon after failures: %r" % m)
        if waited < 0.9:
            errs.append("Logon after repeated failures answered in %.2f s: not slowed down" % waited)
        c.close()
        srv.stop()
        log = srv.logtext()
        for words in (["Logon refused", "session=CLIENT1", "Password", "peer=127.0.0.1:"],
                      ["Logon refused", "address not allowed", "session=CLIENT2", "peer=127.0.0.1:"],
                      ["TLS failure", "peer=127.0.0.1:"],
                      ["repeated Logon failures", "peer=127.0.0.1:"]):
            if not [l for l in log.splitlines() if all(x in l for x in words)]:
                errs.append("no log line with %s" % words)
        if "without TLS or password" in log:
            errs.append("start-up warning on a loopback TLS listener")
        # 6. the start-up warning: not loopback, no TLS, no password
        cfg2 = write_config(os.path.join(work, "open.json"),
                            listen={"host": "0.0.0.0", "port": 0},
                            sessions=[{"target_comp_id": "OPEN"}])
        srv2 = Server(bourse, cfg2, work, name="open").start()
        srv2.stop()
        if "session open to the network without TLS or password" not in srv2.logtext():
            errs.append("no start-up warning for an open session: " + srv2.logtext())
        print("tls: waited %.2f s for the Logon after failures" % waited)
        if errs:
            errs.append("log: " + log)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for e in errs:
        print("FAIL", e)
    print("access: %d failures" % len(errs))
    sys.exit(1 if errs else 0)


if __name__ == "__main__":
    main()
