"""slog_test.py: per-session event and message log files (`log_dir`, issue 14).

A scripted session (Logon, an order, a sequence gap the gateway asks to be
resent and the client gap-fills, garbled input, a message the dictionary
rejects, Logout) must leave in LOG_DIR/EXEC-CLIENT1.messages.log every message
the client sent ("in") and every message it received ("out"), byte for byte,
in order, each on a timestamped line; and in EXEC-CLIENT1.event.log the logon,
the ResendRequest, the gap fill, the garbled input, the Reject, the Logout and
the disconnect. The other session's files stay empty. Then both files are
renamed and SIGHUP reopens them: the next session's lines go to new files,
none to the old ones. Last, with log_max_bytes 4096, 200 orders rotate the
files: no file passes 4096 bytes, NAME.1 exists and the host log says so.

usage: slog_test.py BOURSE"""
import os
import re
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixclient import Client, Server, encode, write_config  # noqa: E402

STAMP = re.compile(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z (in |out) ")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def messages(path):
    """[(dir, raw)] of a message log; raises on a line without a timestamp."""
    out = []
    for line in read(path).split(b"\n"):
        if not line:
            continue
        m = STAMP.match(line)
        if not m:
            raise ValueError("message log line without timestamp/direction: %r" % line[:80])
        out.append((m.group(1).strip().decode(), line[m.end():].lstrip(b" ")))
    return out


class Recorder(Client):
    """A client that remembers the raw bytes of what it sent and received."""

    def __init__(self, *a, **k):
        Client.__init__(self, *a, **k)
        self.sent, self.got = [], []

    def send_raw(self, b, framed=True):
        if framed:
            self.sent.append(b)
        Client.send_raw(self, b)

    def recv(self, timeout=5.0):
        m = Client.recv(self, timeout)
        if m is not None:
            self.got.append(m.raw)
        return m

    def expect(self, mtype, errs, what):
        m = self.recv(5)
        while m is not None and m.type == "0" and mtype != "0":
            m = self.recv(5)  # a Heartbeat may come first
        if m is None or m.type != mtype:
            errs.append("%s: expected 35=%s, got %r" % (what, mtype, m))
        return m


def main():
    bourse = sys.argv[1]
    work = tempfile.mkdtemp(prefix="brs_slog_")
    errs = []
    logs = os.path.join(work, "logs")
    ev1 = os.path.join(logs, "EXEC-CLIENT1.event.log")
    ms1 = os.path.join(logs, "EXEC-CLIENT1.messages.log")
    try:
        cfg = write_config(os.path.join(work, "serve.json"), log_dir=logs)
        srv = Server(bourse, cfg, work).start()
        c = Recorder(srv.port, "CLIENT1")
        c.send("A", [(98, 0), (108, 30)], 1)
        c.expect("A", errs, "Logon")
        order = [(11, "o1"), (21, 1), (38, 10), (40, 2), (44, "10.00"), (54, 1), (55, "AAPL"),
                 (59, 1), (60, "20261206-10:00:00")]
        c.send("D", order, 2)
        c.expect("8", errs, "order")
        # a gap: 3 and 4 missing; the gateway asks for them, the client gap-fills
        c.send("1", [(112, "late")], 5)
        m = c.expect("2", errs, "ResendRequest after a gap")
        if m is not None and (m.get(7), m.get(16)) != ("3", "0"):
            errs.append("ResendRequest range %s..%s" % (m.get(7), m.get(16)))
        c.send_raw(encode("4", [(123, "Y"), (36, 5)], "CLIENT1", "EXEC", 3, possdup=True))
        c.send("1", [(112, "late")], 5, possdup=True)
        c.expect("0", errs, "Heartbeat for the resent TestRequest")
        # garbled: a bad CheckSum (dropped, no sequence number used)
        bad = encode("1", [(112, "x")], "CLIENT1", "EXEC", 6)
        c.send_raw(bad[:-4] + b"000\x01", framed=False)
        # a Reject: Side outside its enumeration
        c.send("D", [(11, "o2"), (21, 1), (38, 10), (40, 2), (44, "10.00"), (54, "Z"), (55, "AAPL"),
                     (60, "20261206-10:00:00")], 6)
        m = c.expect("3", errs, "Reject")
        c.send("5", [], 7)
        c.expect("5", errs, "Logout answer")
        c.close()
        time.sleep(0.3)  # the loop turn that writes the files

        msgs = messages(ms1)
        ins = [raw for d, raw in msgs if d == "in"]
        outs = [raw for d, raw in msgs if d == "out"]
        if ins != c.sent:
            errs.append("inbound messages logged %d, sent %d (or different bytes)" % (len(ins), len(c.sent)))
        if outs != c.got:
            errs.append("outbound messages logged %d, received %d (or different bytes)" % (len(outs), len(c.got)))
        if [d for d, _ in msgs][:4] != ["in", "out", "in", "out"]:
            errs.append("a message is logged after its answer: %s" % [d for d, _ in msgs][:4])
        if any(raw == bad for _, raw in msgs):
            errs.append("the garbled message is in the message log as a message")
        ev = read(ev1).decode()
        for words in (["logon", "next_seq_in"], ["ResendRequest sent", "from=3"],
                      ["gap fill received", "new_seq=5"], ["garbled input dropped"],
                      ["Reject sent"], ["logged out"], ["disconnected", "by="]):
            if not [l for l in ev.splitlines() if all(w in l for w in words) and "session=CLIENT1" in l]:
                errs.append("event log: no line with %s" % words)
        if not all(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z ", l) for l in ev.splitlines()):
            errs.append("event log line without a timestamp")
        if "CLIENT2" in ev or read(os.path.join(logs, "EXEC-CLIENT2.event.log")) or \
                read(os.path.join(logs, "EXEC-CLIENT2.messages.log")):
            errs.append("the other session's lines leaked")

        # SIGHUP after the files were moved
        os.rename(ev1, ev1 + ".old")
        os.rename(ms1, ms1 + ".old")
        srv.proc.send_signal(signal.SIGHUP)
        for _ in range(200):
            if "session log files reopened" in srv.logtext():
                break
            time.sleep(0.02)
        else:
            errs.append("no 'session log files reopened' line after SIGHUP")
        c = Recorder(srv.port, "CLIENT1")
        c.send("A", [(98, 0), (108, 30)], 8)
        c.expect("A", errs, "Logon after SIGHUP")
        c.send("5", [], 9)
        c.expect("5", errs, "Logout after SIGHUP")
        c.close()
        time.sleep(0.3)
        if not os.path.exists(ms1) or [r for d, r in messages(ms1) if d == "in"] != c.sent:
            errs.append("after SIGHUP the new message log lacks the new session's messages")
        if "logon" not in read(ev1).decode():
            errs.append("after SIGHUP the new event log lacks the logon")
        if len(messages(ms1 + ".old")) != len(msgs) or b"34=8\x01" in read(ms1 + ".old"):
            errs.append("the moved message log got lines after SIGHUP")
        srv.stop()

        # the size bound
        small = os.path.join(work, "small")
        cfg2 = write_config(os.path.join(work, "small.json"), log_dir=small, log_max_bytes=4096)
        srv2 = Server(bourse, cfg2, work, name="small").start()
        c = Client(srv2.port, "CLIENT1")
        c.send("A", [(98, 0), (108, 30)], 1)
        c.recv(5)
        for i in range(200):
            c.send("D", [(11, "s%d" % i), (21, 1), (38, 10), (40, 2), (44, "10.00"), (54, 1),
                         (55, "AAPL"), (59, 1), (60, "20261206-10:00:00")], 2 + i)
        n = 0
        while n < 200 and c.recv(5) is not None:
            n += 1
        c.close()
        srv2.stop()
        base = os.path.join(small, "EXEC-CLIENT1.messages.log")
        sizes = [os.path.getsize(p) for p in (base, base + ".1") if os.path.exists(p)]
        if len(sizes) != 2:
            errs.append("log_max_bytes 4096: no rotated file after 200 orders (%s)" % os.listdir(small))
        elif max(sizes) > 4096:
            errs.append("log_max_bytes 4096: a file has %d bytes" % max(sizes))
        if "session log file reached log_max_bytes" not in srv2.logtext():
            errs.append("no log line when log_max_bytes bites")
        print("slog: %d messages logged in the scripted session, rotated sizes %s" % (len(msgs), sizes))
        if errs:
            errs.append("host log: " + srv.logtext())
            errs.append("event log: " + read(ev1 + ".old").decode())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for e in errs:
        print("FAIL", e)
    print("session log files: %d failures" % len(errs))
    sys.exit(1 if errs else 0)


if __name__ == "__main__":
    main()
