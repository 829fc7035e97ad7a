"""crash_test.py: crash consistency of `bourse serve` (issue 14, "one atomic step
per inbound message"). A scripted order flow over two sessions runs against a
gateway that kills itself (SIGKILL) right after its Nth write or sync of the
journal and stores (BRS_FAULT_AFTER_WRITES=N; every third N the Nth write is
torn in half first), for every N until the flow completes without a crash.
Each time the gateway restarts on the same state and the clients log on again
and resynchronise as FIX clients do (ResendRequest for what they miss;
answering the gateway's ResendRequest by resending their orders with
PossDupFlag=Y for odd N, by gap-filling them for even N). Then for every order:
the gateway knows it after restart iff the client holds an acknowledgement
(received before the crash or resent since); its CumQty and status are what
the client's reports say; never two OrderIDs for one ClOrdID; both sides'
sequence numbers continue (every gateway MsgSeqNum received, resent or
gap-filled, no Reject, no Logout, a TestRequest answered).

usage: crash_test.py BOURSE SOURCE_DIR never|batch"""
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixclient import Client, Server, write_config  # noqa: E402

ADMIN = {"0", "1", "2", "3", "4", "5", "A"}


class Party:
    """One FIX client with its session state kept across connections."""

    def __init__(self, comp):
        self.comp = comp
        self.out_seq = 1
        self.sent = {}        # seq -> (msgtype, fields)
        self.covered = set()  # gateway MsgSeqNums received, resent or gap-filled
        self.max_seen = 0
        self.ers = []         # every ExecutionReport received
        self.bad = []         # Rejects, Logouts, sequence errors
        self.hb = set()
        self.status = {}      # 790 -> ER
        self.c = None
        self.policy = "resend"

    def expected(self):
        n = 1
        while n in self.covered:
            n += 1
        return n

    def connect(self, port):
        self.c = Client(port, self.comp)
        self.asked = False
        self.c_logouts = []

    def send(self, mt, fields):
        seq = self.out_seq
        self.out_seq += 1
        self.sent[seq] = (mt, fields)
        try:
            self.c.send(mt, fields, seq)
        except OSError:
            pass  # the gateway died: the message counts as sent (it may be asked again)

    def handle(self, m):
        mt, seq = m.type, m.seq
        possdup = m.get(43) == "Y"
        exp = self.expected()
        if seq < exp and not possdup and not (mt == "4" and m.get(123) != "Y"):
            self.bad.append("MsgSeqNum too low %d < %d: %r" % (seq, exp, m))
        self.max_seen = max(self.max_seen, seq)
        if seq > exp and not possdup and not self.asked:
            self.asked = True  # one ResendRequest per gap, EndSeqNo 0
            self.send("2", [(7, exp), (16, 0)])
        if mt == "4":
            new = int(m.get(36))
            if m.get(123) == "Y":
                self.covered.update(range(seq, new))
            else:
                self.covered.update(range(1, new))
            return
        self.covered.add(seq)
        if mt == "8":
            self.ers.append(m)
            if m.get(150) == "I" and m.get(790):
                self.status[m.get(790)] = m
        elif mt == "2":
            self.answer_resend(int(m.get(7)), int(m.get(16)))
        elif mt == "1":
            try:
                self.c.send("0", [(112, m.get(112))], self.out_seq)
            except OSError:
                pass
            self.sent[self.out_seq] = ("0", [])
            self.out_seq += 1
        elif mt == "0" and m.get(112):
            self.hb.add(m.get(112))
        elif mt in ("3", "j"):
            self.bad.append("reject: %r" % m)
        elif mt == "5":
            self.c_logouts.append(m)
            self.bad.append("logout: %r" % m)

    def answer_resend(self, b, e):
        last = self.out_seq - 1
        if e == 0 or e > last:
            e = last
        for q in range(b, e + 1):
            mt, fields = self.sent.get(q, ("0", []))
            if mt not in ADMIN and self.policy == "resend":
                self.c.send(mt, fields, q, possdup=True)
            else:
                self.c.send("4", [(123, "Y"), (36, q + 1)], q, possdup=True)

    def pump(self, until=None, timeout=3.0):
        """Handle messages until until(m) is true for one, or timeout / close."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = self.c.recv(max(0.01, deadline - time.time()))
            if m is None:
                if self.c.closed:
                    return False
                continue
            self.handle(m)
            if until and until(m):
                return True
        return until is None

    def logon(self, port):
        self.connect(port)
        self.send("A", [(98, 0), (108, 30)])
        ok = self.pump(lambda m: m.type == "A", 5)
        if not ok:
            raise AssertionError("%s: no Logon answer" % self.comp)
        return True


def order_flow():
    """(party index, msgtype, fields): the scripted flow; party 1 is CLIENT2."""
    def nos(cl, side, qty, px, tif="1"):
        return ("D", [(11, cl), (21, 1), (38, qty), (40, 2), (44, px), (54, side), (55, "AAPL"),
                      (59, tif), (60, "20261206-10:00:00")])
    f = []
    f.append((1,) + nos("B1", 2, 40, "10.05"))
    f.append((0,) + nos("A1", 1, 100, "10.00"))
    f.append((0,) + nos("A2", 1, 50, "10.01"))
    f.append((0, "F", [(11, "A1c"), (41, "A1"), (54, 1), (55, "AAPL"), (60, "20261206-10:00:00")]))
    f.append((0,) + nos("A3", 2, 30, "10.01"))
    f.append((0, "G", [(11, "A2r"), (21, 1), (38, 80), (40, 2), (41, "A2"), (44, "10.01"), (54, 1),
                       (55, "AAPL"), (59, 1), (60, "20261206-10:00:00")]))
    f.append((0,) + nos("A4", 2, 200, "9.00", "3"))
    f.append((0,) + nos("A5", 1, 10, "9.50"))
    f.append((0,) + nos("A6", 1, 40, "10.05"))
    return f


ROOTS = {"A1": ["A1", "A1c"], "A2": ["A2", "A2r"], "A3": ["A3"], "A4": ["A4"], "A5": ["A5"],
         "A6": ["A6"], "B1": ["B1"]}


def run_flow(parties, port):
    """The flow until it ends or the gateway dies; True when it died."""
    try:
        for p in parties:
            p.logon(port)
    except (AssertionError, OSError):
        return True
    for who, mt, fields in order_flow():
        p = parties[who]
        cl = dict(fields)[11]
        p.send(mt, fields)
        if not p.pump(lambda m, cl=cl: m.type == "8" and m.get(11) == cl, 3):
            return True
    return False


def check(parties, label):
    errs = []
    for p in parties:
        errs += ["%s %s: %s" % (label, p.comp, b) for b in p.bad]
        want = set(range(1, p.max_seen + 1))
        if not want <= p.covered:
            errs.append("%s %s: gateway MsgSeqNums never received: %s" %
                        (label, p.comp, sorted(want - p.covered)[:10]))
    for p in parties:
        for root, chain in ROOTS.items():
            if (root[0] == "B") != (p.comp == "CLIENT2"):
                continue
            ers = [m for m in p.ers if m.get(11) in chain or m.get(41) in chain]
            ids = {m.get(37) for m in ers if m.get(37) not in (None, "NONE", "0")}
            if len(ids) > 1:
                errs.append("%s %s: %s has OrderIDs %s" % (label, p.comp, root, ids))
            acked = any(m.get(11) == root and m.get(150) != "I" and m.get(37) != "NONE"
                        for m in ers)
            st = p.status.get("S-" + root)
            if st is None:
                errs.append("%s %s: no status for %s" % (label, p.comp, root))
                continue
            known = st.get(37) != "NONE"
            if known != acked:
                errs.append("%s %s: %s known after restart: %s, acknowledged to the client: %s" %
                            (label, p.comp, root, known, acked))
            if known:
                fills = sum(int(m.get(32)) for m in ers if m.get(150) == "F")
                if int(st.get(14)) != fills:
                    errs.append("%s %s: %s CumQty %s, the client's fills say %d" %
                                (label, p.comp, root, st.get(14), fills))
                canceled = any(m.get(150) == "4" for m in ers)
                if canceled != (st.get(39) == "4"):
                    errs.append("%s %s: %s OrdStatus %s, client saw a cancel: %s" %
                                (label, p.comp, root, st.get(39), canceled))
    return errs


def one(bourse, cfg, work, fsync, n, fail=False):
    state = os.path.join(work, "state")
    shutil.rmtree(state, ignore_errors=True)
    srv = Server(bourse, cfg, work, sets=["state_dir=" + state, "fsync=" + fsync])
    env = {"BRS_FAULT_AFTER_WRITES": str(n)}
    if n % 3 == 0:
        env["BRS_FAULT_TORN"] = "1"
    if fail:  # the Nth write or sync fails (EIO) instead
        env = {"BRS_FAULT_FAIL_AT": str(n)}
    srv.start(env)
    parties = [Party("CLIENT1"), Party("CLIENT2")]
    for p in parties:
        p.policy = "resend" if n % 2 else "gapfill"
    died = True
    if srv.port:
        died = run_flow(parties, srv.port)
    if not died:
        # the flow ran through: n is past the last write of the flow
        srv.stop()
        for p in parties:
            p.c.close()
        return False, []
    rc = srv.wait(10)
    for p in parties:
        if p.c:
            p.pump(None, 0.2)  # what the gateway sent before it went
            p.c.close()
    if fail:
        # a failed write or sync: the gateway says why, logs the sessions out
        # and exits 1. The Logout takes the first MsgSeqNum not committed,
        # which a restarted gateway uses again (docs/fix-gateway.md): the
        # client, told of the failure, takes our next Logon at that number.
        log = srv.logtext()
        errs = []
        if rc != 1 or "state cannot be made durable" not in log:
            errs.append("N=%d: storage failure: exit %s, log: %s" % (n, rc, log))
        for p in parties:
            outs = [m for m in p.c_logouts if "storage failure" in (m.get(58) or "")] if p.c else []
            told = "session logged out: storage failure session=%s " % p.comp in log
            if told and not outs:
                errs.append("N=%d: %s got no Logout saying why" % (n, p.comp))
            for m in outs:
                p.covered.discard(m.seq)
                if m.seq == p.max_seen:
                    p.max_seen -= 1
            p.bad = [b for b in p.bad if not (b.startswith("logout") and "storage failure" in b)]
        if errs:
            return True, errs
    elif rc != -9:
        return True, ["N=%d: gateway exited %s, not killed by the fault: %s" % (n, rc, srv.logtext())]
    srv.start()
    if not srv.port:
        return True, ["N=%d: restart failed: %s" % (n, srv.logtext())]
    for p in parties:
        p.logon(srv.port)
    for p in parties:
        p.pump(None, 0.3)  # resends both ways
    for p in parties:
        p.send("1", [(112, "sync")])
        if not p.pump(lambda m: m.type == "0" and m.get(112) == "sync", 5):
            p.bad.append("TestRequest not answered after restart")
    for p in parties:
        for root in ROOTS:
            if (root[0] == "B") != (p.comp == "CLIENT2"):
                continue
            p.send("H", [(11, root), (54, 2 if root in ("A3", "A4", "B1") else 1), (55, "AAPL"),
                         (790, "S-" + root)])
            p.pump(lambda m, r=root: m.type == "8" and m.get(790) == "S-" + r, 5)
    errs = check(parties, "N=%d (%s%s)" % (n, parties[0].policy, ", torn" if n % 3 == 0 else ""))
    recovered = srv.logtext()
    if "recovery: order journal replayed" not in recovered:
        errs.append("N=%d: no recovery log line: %s" % (n, recovered))
    rc = srv.stop()
    if rc != 0:
        errs.append("N=%d: gateway exit %s after SIGTERM" % (n, rc))
    for p in parties:
        p.c.close()
    if errs:
        errs.append("gateway log: " + recovered)
    return True, errs


def possdup_check(bourse, fsync):
    """A NewOrderSingle resent with PossDupFlag=Y whose ClOrdID is known: not
    applied twice, the client gets the order's state (ExecType I)."""
    work = tempfile.mkdtemp(prefix="brs_possdup_")
    errs = []
    try:
        cfg = write_config(os.path.join(work, "serve.json"))
        srv = Server(bourse, cfg, work, sets=["state_dir=" + os.path.join(work, "s"),
                                              "fsync=" + fsync]).start()
        p = Party("CLIENT1")
        p.logon(srv.port)
        fields = [(11, "P1"), (21, 1), (38, 10), (40, 2), (44, "10.00"), (54, 1), (55, "AAPL"),
                  (59, 1), (60, "20261206-10:00:00")]
        p.send("D", fields)
        p.pump(lambda m: m.type == "8" and m.get(11) == "P1", 5)
        seq = p.out_seq  # at the expected MsgSeqNum, PossDupFlag Y
        p.out_seq += 1
        p.sent[seq] = ("D", fields)
        p.c.send("D", fields, seq, possdup=True)
        p.pump(lambda m: m.type == "8" and m.get(150) == "I", 5)
        p.c.send("D", fields, 2, possdup=True)  # below the expected MsgSeqNum
        p.pump(lambda m: m.type == "8" and len([x for x in p.ers if x.get(150) == "I"]) == 2, 5)
        kinds = [(m.get(150), m.get(37)) for m in p.ers]
        if kinds != [("0", "1"), ("I", "1"), ("I", "1")]:
            errs.append("PossDup of a known ClOrdID: reports %s, want New then twice status" % kinds)
        p.send("D", [(11, "P2")] + fields[1:])
        p.pump(lambda m: m.type == "8" and m.get(11) == "P2", 5)
        if p.ers[-1].get(37) != "2":
            errs.append("the next order got OrderID %s, not 2" % p.ers[-1].get(37))
        errs += ["possdup: " + b for b in p.bad]
        p.c.close()
        srv.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return errs


def main():
    bourse, src, fsync = sys.argv[1], sys.argv[2], sys.argv[3]
    work = tempfile.mkdtemp(prefix="brs_crash_")
    cfg = write_config(os.path.join(work, "serve.json"))
    errs = []
    n = 1
    crashes = 0
    if True:
        while True:
            crashed, e = one(bourse, cfg, work, fsync, n)
            errs += e
            if not crashed:
                break
            crashes += 1
            n += 1
            if n > 2000:
                errs.append("the flow never ran through")
                break
    # a write or sync that fails instead of dying, at a few points of the flow
    fails = 0
    try:
        for n in range(3, max(4, crashes), 4):
            crashed, e = one(bourse, cfg, work, fsync, n, fail=True)
            errs += e
            fails += crashed
    finally:
        shutil.rmtree(work, ignore_errors=True)
    errs += possdup_check(bourse, fsync)
    print("fsync=%s: %d crash points (every write and sync of the flow), %d failing-write "
          "points, %d failures" % (fsync, crashes, fails, len(errs)))
    for e in errs[:40]:
        print("FAIL", e)
    sys.exit(1 if errs or crashes < 10 else 0)


if __name__ == "__main__":
    main()
