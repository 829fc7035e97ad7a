"""mtls_test.py: required client certificates on the TLS listener (issue 14,
`tls: {"ca": ..., "require_client_cert": true}`). Certificates are made here
with `openssl` (no network): a CA, the server's certificate and a client
certificate signed by it, and a second CA with a client certificate of its
own. A client presenting the CA's certificate logs on and trades (a buy and
a sell that cross: New and Fill for both); a client with no certificate and
one whose certificate comes from the other CA get no FIX message, are
disconnected, and each is logged as a TLS failure with OpenSSL's reason.

usage: mtls_test.py BOURSE"""
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixclient import Client, Server, cross_pair, crossed, write_config  # noqa: E402


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def make_ca(work, name):
    key, cert = os.path.join(work, name + ".key"), os.path.join(work, name + ".pem")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=" + name,
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=keyCertSign")
    return cert, key


def make_leaf(work, name, ca, ca_key, usage):
    key, csr, cert = (os.path.join(work, name + x) for x in (".key", ".csr", ".pem"))
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", csr, "-subj", "/CN=" + name)
    ext = os.path.join(work, name + ".ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\nextendedKeyUsage=%s\n" % usage)
        if usage == "serverAuth":
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
            "-out", cert, "-days", "1", "-extfile", ext)
    return cert, key


def connect(port, comp, ca, cert=None, key=None):
    """A TLS client; (Client, None) or (None, the handshake's error)."""
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = False
    if cert:
        ctx.load_cert_chain(cert, key)
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s = ctx.wrap_socket(raw, server_hostname="localhost")
    except (ssl.SSLError, OSError) as e:
        raw.close()
        return None, str(e)
    return Client(port, comp, sock=s), None


def refused(port, ca, cert=None, key=None):
    """Connect, send a Logon: '' when refused (no FIX message, closed), else why not.
    With TLS 1.3 the client's handshake ends before the server has checked
    its certificate, so the refusal shows on the first read."""
    c, e = connect(port, "CLIENT1", ca, cert, key)
    if c is None:
        return ""  # refused in the handshake
    try:
        c.send("A", [(98, 0), (108, 30)], 1)
    except (ssl.SSLError, OSError):
        c.close()
        return ""
    m = c.recv(5)
    closed = c.closed
    c.close()
    if m is not None:
        return "got a message: %r" % m
    if not closed:
        return "connection still open after 5 s"
    return ""


def main():
    bourse = sys.argv[1]
    work = tempfile.mkdtemp(prefix="brs_mtls_")
    errs = []
    try:
        ca, ca_key = make_ca(work, "desk-ca")
        other, other_key = make_ca(work, "other-ca")
        srv_cert, srv_key = make_leaf(work, "server", ca, ca_key, "serverAuth")
        good, good_key = make_leaf(work, "client1", ca, ca_key, "clientAuth")
        bad, bad_key = make_leaf(work, "stranger", other, other_key, "clientAuth")
        cfg = write_config(os.path.join(work, "serve.json"),
                           tls={"cert": srv_cert, "key": srv_key, "ca": ca,
                                "require_client_cert": True})
        srv = Server(bourse, cfg, work).start()
        port = srv.port
        # 1. a certificate signed by the CA: logs on and trades
        c, e = connect(port, "CLIENT1", ca, good, good_key)
        if c is None:
            errs.append("client with the CA's certificate: handshake failed: %s" % e)
        else:
            c.send("A", [(98, 0), (108, 30)], 1)
            m = c.recv(5)
            if m is None or m.type != "A":
                errs.append("client with the CA's certificate: Logon answered %r" % m)
            ers = cross_pair(c, "m", 2)
            if ers != crossed("m"):
                errs.append("client with the CA's certificate: reports %s" % ers)
            c.send("5", [], 4)
            m = c.recv(5)
            if m is None or m.type != "5":
                errs.append("Logout not answered: %r" % m)
            c.close()
        # 2. no client certificate
        why = refused(port, ca)
        if why:
            errs.append("client without a certificate: " + why)
        # 3. a certificate from another CA
        why = refused(port, ca, bad, bad_key)
        if why:
            errs.append("client with another CA's certificate: " + why)
        srv.stop()
        log = srv.logtext()
        fails = [l for l in log.splitlines() if "TLS failure" in l and "peer=127.0.0.1:" in l]
        if len(fails) != 2:
            errs.append("expected 2 'TLS failure' lines (no certificate, unknown CA), got %d" % len(fails))
        else:
            # OpenSSL's reasons: "peer did not return a certificate" (TLS 1.3:
            # "certificate required"), then "certificate verify failed"
            if "certificate" not in fails[0]:
                errs.append("the no-certificate line names no reason: " + fails[0])
            if "verify failed" not in fails[1] and "unknown ca" not in fails[1]:
                errs.append("the other-CA line does not say the certificate failed: " + fails[1])
        logons = [l for l in log.splitlines() if " logon " in l and "session=CLIENT1" in l]
        if len(logons) != 1:
            errs.append("expected exactly one logon line, got %d" % len(logons))
        for l in fails:
            print("log:", l)
        if errs:
            errs.append("log: " + log)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for e in errs:
        print("FAIL", e)
    print("mtls: %d failures" % len(errs))
    sys.exit(1 if errs else 0)


if __name__ == "__main__":
    main()
