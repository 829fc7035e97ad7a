"""abuse_common.py: what the cases of the load-and-abuse suite share
(abuse_test.py, abuse_crash.py): the failure list, logged-on sessions, the
probe and its verdict, a raw stream counter, servers on port 0 in the
test's own directory, a preloaded journal."""
import os
import resource
import socket
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixclient import (Client, Server, encode, order_body, write_config,  # noqa: E402,F401
                       write_orders_journal)


ERRS = []
SERVERS = []  # stopped at the end whatever happens


def check(cond, what):
    if not cond:
        ERRS.append(what)
        print("FAIL", what)
    return cond


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 16384
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, 16384), hard))


class Session(Client):
    """A logged-on client that numbers its own messages."""

    def __init__(self, port, comp, reset=True, hb=30, rcvbuf=None):
        Client.__init__(self, port, comp, rcvbuf=rcvbuf)
        self.seq = 1
        fields = [(98, 0), (108, hb)] + ([(141, "Y")] if reset else [])
        self.logon_answer = self.msg("A", fields)

    def msg(self, mt, fields, wait=True):
        self.send(mt, fields, self.seq)
        self.seq += 1
        return self.recv(10) if wait else None

    def order(self, clordid, side, px, qty, tif=1, ordtype=2):
        f = [(11, clordid), (21, 1), (38, qty), (40, ordtype)]
        if ordtype == 2:
            f.append((44, px))
        f += [(54, side), (55, "AAPL"), (59, tif), (60, "20261206-10:00:00")]
        self.send("D", f, self.seq)
        self.seq += 1


class Probe:
    """CLIENT2 (or another session): round trips of an IOC that cannot trade
    (New, Canceled)."""

    def __init__(self, port, comp="CLIENT2"):
        self.s = Session(port, comp)
        self.n = 0
        self.last = []
        self.prev = []

    def launch(self):
        """Send a probe order now without waiting: the next rtt() times it from
        now. Sent right after an abusive message, it is in flight when the
        gateway takes that message's turn, so a turn that holds every session
        shows in the first round trip however soon it is over."""
        self.n += 1
        self.pending = ("p%d" % self.n, time.perf_counter())
        self.s.order(self.pending[0], 1, "0.01", 1, tif=3)

    def rtt(self):
        if getattr(self, "pending", None):
            (cl, t), self.pending = self.pending, None
        else:
            self.n += 1
            cl = "p%d" % self.n
            t = time.perf_counter()
            self.s.order(cl, 1, "0.01", 1, tif=3)
        while True:
            m = self.s.recv(30)
            if m is None:
                return None
            if m.type == "8" and m.get(11) == cl and m.get(150) == "4":
                return time.perf_counter() - t

    def median(self, n=60):
        return self.record([self.rtt() for _ in range(n)])

    def during(self, busy, at_least=40, pid=None):
        """Round trips for as long as busy() holds (at least at_least), so a
        stall anywhere in the abuse is sampled, not just its first moments.
        With the gateway's pid, its CPU share meanwhile is measured too
        (self.slowdown, see gateway_slowdown)."""
        xs = []
        s0 = schedstat(pid) if pid else None
        self.gw_pid = pid
        while len(xs) < at_least or busy():
            xs.append(self.rtt())
            if xs[-1] is None:
                break
        self.slowdown = gateway_slowdown(s0, schedstat(pid)) if pid else 1.0
        return self.record(xs)

    def record(self, xs):
        self.prev, self.last = self.last, xs
        if not xs or any(x is None for x in xs):
            return None
        return statistics.median(xs)


def schedstat(pid):
    """The gateway's loop thread (its main thread): nanoseconds run on a CPU
    and waited runnable for one, from /proc (schedstat: run, wait, slices)."""
    try:
        with open("/proc/%d/task/%d/schedstat" % (pid, pid)) as f:
            run, wait = f.read().split()[:2]
        return int(run), int(wait)
    except (OSError, ValueError):
        return None


def gateway_slowdown(a, b):
    """How much longer than its CPU time the gateway's work took between two
    schedstat samples because it waited for a CPU: (run + wait) / run, at
    least 1. The load as the gateway met it, measured in the same run as the
    round trips (a loop turn of C ms of CPU holds the other sessions for
    about C times this)."""
    if not a or not b or b[0] - a[0] <= 0:
        return 1.0
    run, wait = b[0] - a[0], b[1] - a[1]
    return max(1.0, (run + wait) / float(run))


def sanitized(pid):
    """The gateway runs the AddressSanitizer build (make check): its loop
    turns take several times their instructions' usual time."""
    try:
        with open("/proc/%d/maps" % pid) as f:
            return "libasan" in f.read()
    except OSError:
        return False


def not_held(name, probe, quiet_ms, ratio=10.0):
    """No loop turn held the probe for long: the worst round trip during the
    abuse at most max(ratio x the baseline's worst, quiet_ms x the gateway's
    slowdown meanwhile). quiet_ms is what a quiet machine allows (chosen so
    the behaviour being fixed fails it there); the slowdown (probe.during
    with the gateway's pid) scales it with the CPU share the gateway actually
    got, so a loaded machine passes while one turn holding every session for
    several times quiet_ms of CPU still fails. Under the sanitizers (make
    check) quiet_ms is 4 times as long."""
    worst = max([x for x in probe.last if x is not None] or [0])
    bworst = max([x for x in probe.prev if x is not None] or [0])
    slow = getattr(probe, "slowdown", 1.0)
    if getattr(probe, "gw_pid", None) and sanitized(probe.gw_pid):
        quiet_ms *= 4  # ASan + UBSan: 2-4 times the instructions' time
    bound = max(ratio * bworst, quiet_ms / 1e3 * slow)
    print("%s: probe worst round trip %.1f ms during against %.1f ms before; the gateway's "
          "slowdown meanwhile %.2f (load average %.1f): bound max(%.0f x %.1f, %.0f x %.2f) = %.1f ms" %
          (name, worst * 1e3, bworst * 1e3, slow, os.getloadavg()[0], ratio, bworst * 1e3, quiet_ms,
           slow, bound * 1e3))
    check(worst <= bound, "%s: one probe round trip took %.1f ms (bound %.1f ms): a loop turn held "
          "every session" % (name, worst * 1e3, bound * 1e3))


def not_stalled(name, base, during, probe, ratio=20.0, slack=0.25, worst_slack=0.5, worst=True):
    """The probe's round trips during the abuse against its own baseline (the
    run before): the median at most ratio times the baseline's or baseline +
    slack, and the worst at most ratio times the baseline's worst or that +
    worst_slack (seconds; the shared machine's scheduling alone costs tens of
    ms under load, while a loop turn that holds every session shows as a
    round trip of seconds)."""
    worst_check = worst
    ok = during is not None and during <= max(base * ratio, base + slack)
    worst = max([x for x in probe.last if x is not None] or [0])
    bworst = max([x for x in probe.prev if x is not None] or [0])
    print("%s: probe round trip median %.3f ms before, %s during; worst %.1f ms before, %.1f ms "
          "during (%d round trips during)" %
          (name, base * 1e3, "%.3f ms" % (during * 1e3) if during is not None else "none",
           bworst * 1e3, worst * 1e3, len(probe.last)))
    check(ok, "%s: the probe was stalled (%.3f ms before, %r during)" % (name, base * 1e3, during))
    check(not worst_check or worst <= max(bworst * ratio, bworst + worst_slack),
          "%s: one probe round trip took %.1f ms (worst before: %.1f ms): a loop turn held every "
          "session" % (name, worst * 1e3, bworst * 1e3))


def stream_count(sock, patterns, until, timeout):
    """Reads the raw stream, counting each pattern, until until(counts) or
    timeout; returns (counts, closed). Fast: no per-message parsing."""
    counts = dict((p, 0) for p in patterns)
    tail = b""
    keep = max(len(p) for p in patterns)
    deadline = time.time() + timeout
    closed = False
    while not until(counts) and time.time() < deadline:
        sock.settimeout(max(0.01, deadline - time.time()))
        try:
            d = sock.recv(1 << 20)
        except socket.timeout:
            break
        if not d:
            closed = True
            break
        buf = tail + d
        for p in patterns:
            counts[p] += buf.count(p) - tail.count(p)
        tail = buf[-keep:]
    return counts, closed


def new_server(work, name="srv", **cfg):
    cfgp = write_config(os.path.join(work, name + ".json"), **cfg)
    srv = Server(sys.argv[1], cfgp, work, name=name)
    srv.start_timeout = 180.0  # a preloaded journal replays first; the machine may be busy
    SERVERS.append(srv)
    return srv


def preload(work, orders):
    state = os.path.join(work, "state")
    os.makedirs(state, exist_ok=True)
    write_orders_journal(os.path.join(state, "orders.journal"), orders)
    return state
