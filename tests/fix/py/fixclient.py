"""fixclient.py: a small FIX 4.4 initiator for the gateway's Python tests (crash
consistency, flow control, TLS). Raw sockets, no validation beyond framing and
CheckSum, so a test sees exactly what the gateway sent. Also starts and stops
`bourse serve` with its own state directory on a free port."""
import json
import os
import signal
import socket
import subprocess
import time

SOH = b"\x01"


def checksum(b):
    return b"%03d" % (sum(b) % 256)


def utc_now():
    t = time.time()
    return time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(t)) + ".%03d" % int((t % 1) * 1000)


def encode(msgtype, fields, sender, target, seq, possdup=False, orig_time=None):
    now = utc_now()  # one reading: OrigSendingTime never after SendingTime
    hdr = [(35, msgtype), (34, seq), (49, sender), (52, now), (56, target)]
    if possdup:
        hdr.insert(2, (43, "Y"))
        hdr.append((122, orig_time or now))
    body = b"".join(b"%d=%s\x01" % (t, str(v).encode()) for t, v in hdr + list(fields))
    head = b"8=FIX.4.4\x019=%d\x01" % len(body)
    m = head + body
    return m + b"10=" + checksum(m) + SOH


class Msg:
    def __init__(self, raw):
        self.raw = raw
        self.fields = []
        for part in raw.split(SOH):
            if not part:
                continue
            t, _, v = part.partition(b"=")
            self.fields.append((int(t), v.decode("latin-1")))
        self.d = {}
        for t, v in self.fields:
            self.d.setdefault(t, v)

    def get(self, tag, default=None):
        return self.d.get(tag, default)

    @property
    def type(self):
        return self.d.get(35)

    @property
    def seq(self):
        return int(self.d.get(34, "0"))

    def __repr__(self):
        return self.raw.replace(SOH, b"|").decode("latin-1")


class Client:
    def __init__(self, port, comp, target="EXEC", host="127.0.0.1", sock=None, rcvbuf=None):
        self.comp, self.target = comp, target
        if sock is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            if rcvbuf:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.connect((host, port))
        self.sock = sock
        self.buf = b""
        self.closed = False

    def send_raw(self, b):
        self.sock.sendall(b)

    def send(self, msgtype, fields, seq, possdup=False):
        self.send_raw(encode(msgtype, fields, self.comp, self.target, seq, possdup))

    def _frame(self):
        b = self.buf
        i = b.find(b"8=FIX")
        if i < 0:
            return None
        b = b[i:]
        j = b.find(b"\x019=")
        if j < 0:
            return None
        k = b.find(SOH, j + 3)
        if k < 0:
            return None
        blen = int(b[j + 3:k])
        end = k + 1 + blen + 7
        if len(b) < end:
            return None
        raw = b[:end]
        self.buf = b[end:]
        assert raw[-7:-4] == b"10=" and raw[-4:-1] == checksum(raw[:-7]), raw
        return Msg(raw)

    def recv(self, timeout=5.0):
        """The next message, or None on timeout or when the peer closed."""
        deadline = time.time() + timeout
        while True:
            m = self._frame()
            if m:
                return m
            if self.closed:
                return None
            left = deadline - time.time()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                d = self.sock.recv(1 << 16)
            except socket.timeout:
                return None
            except (ConnectionResetError, OSError):
                d = b""
            if not d:
                self.closed = True
            else:
                self.buf += d

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Server:
    """`bourse serve` on a free port with its state in state_dir."""

    def __init__(self, bourse, config, workdir, sets=(), env=None, name="srv"):
        self.bourse, self.config, self.workdir = bourse, config, workdir
        self.sets, self.env, self.name = list(sets), env, name
        self.proc = None
        self.port = None
        self.n = 0

    def start(self, extra_env=None, wait=True):
        self.n += 1
        pf = os.path.join(self.workdir, "%s.port" % self.name)
        if os.path.exists(pf):
            os.unlink(pf)
        args = [self.bourse, "serve", self.config, "--set", "listen.port=0", "--port-file", pf]
        for s in self.sets:
            args += ["--set", s]
        env = dict(os.environ)
        for k in ("BRS_FAULT_AFTER_WRITES", "BRS_FAULT_TORN", "BRS_FAULT_FAIL_AT", "BRS_FAULT_IN_CHILD"):
            env.pop(k, None)
        env.update(self.env or {})
        env.update(extra_env or {})
        self.log = open(os.path.join(self.workdir, "%s.%d.log" % (self.name, self.n)), "wb")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        self.port = None
        if not wait:
            return self
        for _ in range(int(getattr(self, "start_timeout", 4.0) * 100)):
            if os.path.exists(pf):
                with open(pf) as f:
                    t = f.read().strip()
                if t:
                    self.port = int(t)
                    return self
            if self.proc.poll() is not None:
                return self  # died (a fault at start)
            time.sleep(0.01)
        raise RuntimeError("server did not start: " + self.logtext())

    def logtext(self):
        p = os.path.join(self.workdir, "%s.%d.log" % (self.name, self.n))
        with open(p, "rb") as f:
            return f.read().decode("latin-1")

    def wait(self, timeout=10):
        return self.proc.wait(timeout)

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None


def write_config(path, **over):
    cfg = {
        "listen": {"host": "127.0.0.1", "port": 0},
        "state_dir": "",
        "fsync": "never",
        "sender_comp_id": "EXEC",
        "sessions": [{"target_comp_id": "CLIENT1"}, {"target_comp_id": "CLIENT2"}],
        "instruments": [{"symbol": "AAPL", "decimals": 2, "tick_size": 1, "lot_size": 1}],
    }
    cfg.update(over)
    with open(path, "w") as f:
        json.dump(cfg, f)
    return path


def fixmsg(body):
    """A whole FIX 4.4 message around body ('\x01'-separated fields after 9=)."""
    body = body.encode() if isinstance(body, str) else body
    m = b"8=FIX.4.4\x019=%d\x01" % len(body) + body
    return m + b"10=" + checksum(m) + SOH


def write_orders_journal(path, orders, first_batch=1):
    """An order journal as the gateway writes it (docs/fix-gateway.md, "Journal
    records"): for each (session_index, body) a record holding the message as
    received, a COMMIT record every 1000. Stands for "these orders arrived over
    FIX" when a test needs a big book fast."""
    import struct
    with open(path, "wb", buffering=1 << 22) as f:
        batch = first_batch
        for k, (si, body) in enumerate(orders):
            m = fixmsg(body)
            f.write(struct.pack("<II", si, len(m)) + m)
            if k % 1000 == 999:
                f.write(struct.pack("<IIQ", 0x7ffffffd, 8, batch))
                batch += 1
        f.write(struct.pack("<IIQ", 0x7ffffffd, 8, batch))
    return os.path.getsize(path)


def order_body(comp, seq, clordid, side, px, qty, tif=1, sym="AAPL"):
    return ("35=D\x0134=%d\x0149=%s\x0152=20261206-10:00:00.000\x0156=EXEC\x0111=%s\x0121=1\x01"
            "38=%d\x0140=2\x0144=%s\x0154=%d\x0155=%s\x0159=%d\x0160=20261206-10:00:00\x01" %
            (seq, comp, clordid, qty, px, side, sym, tif))


def cross_pair(c, prefix, seq):
    """Sends a buy and a sell of 10 AAPL at 10.00 (ClOrdIDs prefix1, prefix2;
    MsgSeqNums seq, seq+1) on a logged-on client and returns the sorted
    (ClOrdID, ExecType) of the first four execution reports: a venue that works
    answers [(p1, '0'), (p1, 'F'), (p2, '0'), (p2, 'F')]."""
    order = [(21, 1), (38, 10), (40, 2), (44, "10.00"), (55, "AAPL"), (59, 1),
             (60, "20261206-10:00:00")]
    c.send("D", [(11, prefix + "1"), (54, 1)] + order, seq)
    c.send("D", [(11, prefix + "2"), (54, 2)] + order, seq + 1)
    ers = []
    while len(ers) < 4:
        m = c.recv(5)
        if m is None:
            break
        if m.type == "8":
            ers.append((m.get(11), m.get(150)))
    return sorted(ers)


def crossed(prefix):
    """What cross_pair returns when both orders were acknowledged and filled."""
    return sorted([(prefix + "1", "0"), (prefix + "1", "F"), (prefix + "2", "0"), (prefix + "2", "F")])
