// fix_client.cpp: QuickFIX (C++) initiator that drives `bourse serve` and checks
// what comes back, field by field. It starts the gateway itself (ephemeral port,
// private state directory) so it can also kill and restart it.
//   fix_client SCENARIO FIX44.xml WORKDIR      SCENARIO: orders | gap | restart | bench
//   fix_client bench FIX44.xml WORKDIR [N INFLIGHT SESSIONS [mixed|rest]]
// The bench prints one JSON line. Workload "mixed" (default): buys rest and each
// sell crosses the buy before it (two extra fill reports per pair); "rest":
// every order rests, one acknowledgement each. The initiator runs with QuickFIX's
// own defaults: data-dictionary validation on, Nagle on (SocketNodelay=N).
// Environment: BOURSE_BENCH_VALIDATE=0 turns validation off, BOURSE_BENCH_NODELAY=Y
// sets TCP_NODELAY, BOURSE_BENCH_QF="Key=Value;Key=Value" adds QuickFIX settings,
// BOURSE_BENCH_ROUTE=sor|venue:sim turns the gateway's router on and gives every
// session that route (the gateway's one sim venue: through the smart order router
// or straight to the venue; scripts/bench_routed.py compares the two). The JSON
// line also carries the gateway process's CPU time per order (from /proc) and
// the initiator's own.
// Exit 0 when every expectation holds; otherwise prints the first mismatch.
#include <quickfix/Application.h>
#include <quickfix/FileLog.h>
#include <quickfix/FileStore.h>
#include <quickfix/MessageStore.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketInitiator.h>
#include <quickfix/ThreadedSocketInitiator.h>
#include <quickfix/fix44/MarketDataRequest.h>
#include <quickfix/fix44/NewOrderSingle.h>
#include <quickfix/fix44/OrderCancelReplaceRequest.h>
#include <quickfix/fix44/OrderCancelRequest.h>
#include <quickfix/fix44/OrderMassCancelRequest.h>
#include <quickfix/fix44/OrderStatusRequest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <functional>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <set>
#include <signal.h>
#include <sstream>
#include <string>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

std::string g_work, g_dict;
pid_t g_server = -1;
int g_port = 0;

[[noreturn]] void die(const std::string &why)
{
    std::cerr << "FAIL: " << why << std::endl;
    if (g_server > 0) {
        kill(g_server, SIGKILL);
        waitpid(g_server, nullptr, 0);
    }
    std::_Exit(1);
}

bool env_is(const char *name, const char *value)
{
    const char *v = std::getenv(name);
    return v && std::strcmp(v, value) == 0;
}

// ---- the gateway process ---------------------------------------------------

int g_sessions = 1; // bench: CLIENT1..CLIENTn configured on the gateway
std::vector<std::string> g_extra_sets; // more `--set key=value` for the gateway
std::string g_config = "data/configs/serve.json"; // under BOURSE_SOURCE_DIR
bool g_keep_sessions = false; // the config's own sessions (their routes), not CLIENT1..n

void start_server(int port)
{
    std::string pf = g_work + "/port";
    unlink(pf.c_str());
    g_server = fork();
    if (g_server < 0)
        die("fork");
    if (g_server == 0) {
        std::string cfg = std::string(BOURSE_SOURCE_DIR) + "/" + g_config;
        std::string setp = "listen.port=" + std::to_string(port);
        std::string sets = "state_dir=" + g_work + "/state";
        std::string logf = g_work + "/server.log";
        FILE *f = freopen(logf.c_str(), "a", stderr);
        (void)f;
        unsetenv("BOURSE_FIX_PORT");
        const char *route = std::getenv("BOURSE_BENCH_ROUTE");
        std::string sess = "sessions=[";
        for (int i = 1; i <= g_sessions; i++)
            sess += std::string(i > 1 ? "," : "") + "{\"target_comp_id\":\"CLIENT" +
                    std::to_string(i) + "\"" +
                    (route && *route ? std::string(",\"route\":\"") + route + "\"" : "") + "}";
        sess += "]";
        std::vector<std::string> args = {BOURSE_BIN, "serve", cfg, "--set", setp, "--set", sets,
                                         "--port-file", pf};
        if (!g_keep_sessions) {
            args.push_back("--set");
            args.push_back(sess);
        }
        if (route && *route) { // both routes with the router on, so only the route differs
            args.push_back("--set");
            args.push_back("router.enabled=true");
        }
        for (const auto &x : g_extra_sets) {
            args.push_back("--set");
            args.push_back(x);
        }
        std::vector<char *> argv;
        for (auto &x : args)
            argv.push_back(&x[0]);
        argv.push_back(nullptr);
        execv(BOURSE_BIN, argv.data());
        _exit(127);
    }
    for (int i = 0; i < 1200; i++) { // 60 s: a config's replay at start (serve-routed's market maker) under sanitizers
        std::ifstream in(pf);
        int p = 0;
        if (in >> p && p > 0) {
            g_port = p;
            return;
        }
        int st;
        if (waitpid(g_server, &st, WNOHANG) == g_server)
            die("bourse serve exited at start (see " + g_work + "/server.log)");
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    die("bourse serve did not start listening");
}

void kill_server()
{
    kill(g_server, SIGKILL);
    waitpid(g_server, nullptr, 0);
    g_server = -1;
}

void stop_server()
{
    kill(g_server, SIGTERM);
    int st = 0;
    waitpid(g_server, &st, 0);
    g_server = -1;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        die("bourse serve did not stop cleanly");
}

// ---- the QuickFIX application ----------------------------------------------

struct App : FIX::Application {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<FIX::Message> q;
    std::atomic<int> logons{0}, logouts{0};
    std::atomic<int> last_logon_seq{0};
    FIX::SessionID sid;
    // bench mode: the QuickFIX thread itself sends the next order on each ack,
    // so no thread hand-off per message distorts the measurement
    std::function<bool(const FIX::Message &, const FIX::SessionID &)> on_app;

    void onCreate(const FIX::SessionID &s) override { sid = s; }
    void onLogon(const FIX::SessionID &) override
    {
        logons++;
        cv.notify_all();
    }
    void onLogout(const FIX::SessionID &) override
    {
        logouts++;
        cv.notify_all();
    }
    void toAdmin(FIX::Message &, const FIX::SessionID &) override {}
    void toApp(FIX::Message &, const FIX::SessionID &) throw(FIX::DoNotSend) override {}
    void fromAdmin(const FIX::Message &m, const FIX::SessionID &) throw(
        FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
        FIX::RejectLogon) override
    {
        std::string mt = m.getHeader().getField(35);
        if (mt == "A")
            last_logon_seq = std::atoi(m.getHeader().getField(34).c_str());
        if (mt == "3") { // a session Reject from the gateway is never expected here
            std::lock_guard<std::mutex> l(mu);
            q.push_back(m);
            cv.notify_all();
        }
    }
    void fromApp(const FIX::Message &m, const FIX::SessionID &sid_) throw(
        FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
        FIX::UnsupportedMessageType) override
    {
        if (on_app && on_app(m, sid_))
            return;
        std::lock_guard<std::mutex> l(mu);
        q.push_back(m);
        cv.notify_all();
    }

    FIX::Message next(const std::string &type, int ms = 5000)
    {
        std::unique_lock<std::mutex> l(mu);
        if (!cv.wait_for(l, std::chrono::milliseconds(ms), [&] { return !q.empty(); }))
            die("timed out waiting for MsgType " + type);
        FIX::Message m = q.front();
        q.pop_front();
        std::string mt = m.getHeader().getField(35);
        if (mt != type)
            die("expected MsgType " + type + ", got " + m.toString());
        return m;
    }
    void none(int ms = 300)
    {
        std::unique_lock<std::mutex> l(mu);
        if (cv.wait_for(l, std::chrono::milliseconds(ms), [&] { return !q.empty(); }))
            die("unexpected message " + q.front().toString());
    }
    void wait_logons(int n, int ms = 10000)
    {
        std::unique_lock<std::mutex> l(mu);
        if (!cv.wait_for(l, std::chrono::milliseconds(ms), [&] { return logons >= n; }))
            die("no Logon");
    }
    void wait_logouts(int n, int ms = 10000)
    {
        std::unique_lock<std::mutex> l(mu);
        if (!cv.wait_for(l, std::chrono::milliseconds(ms), [&] { return logouts >= n; }))
            die("no Logout");
    }
};

std::string field(const FIX::Message &m, int tag)
{
    if (m.isSetField(tag))
        return m.getField(tag);
    if (m.getHeader().isSetField(tag))
        return m.getHeader().getField(tag);
    die("tag " + std::to_string(tag) + " missing in " + m.toString());
}

void eq(const FIX::Message &m, int tag, const std::string &want)
{
    std::string got = field(m, tag);
    if (got != want)
        die("tag " + std::to_string(tag) + ": want '" + want + "', got '" + got + "' in " +
            m.toString());
}

void num(const FIX::Message &m, int tag, double want)
{
    std::string got = field(m, tag);
    if (std::fabs(std::atof(got.c_str()) - want) > 1e-9)
        die("tag " + std::to_string(tag) + ": want " + std::to_string(want) + ", got '" + got +
            "' in " + m.toString());
}

std::set<std::string> g_execids;

// An ExecutionReport with every field the gateway promises.
FIX::Message er(App &app, const std::string &clordid, char exec_type, char status, char side,
                const std::string &sym, double qty, double px, double leaves, double cum,
                double avgpx, double last_qty = 0, double last_px = 0,
                const std::string &orig = "")
{
    FIX::Message m = app.next("8");
    eq(m, 11, clordid);
    eq(m, 150, std::string(1, exec_type));
    eq(m, 39, std::string(1, status));
    eq(m, 54, std::string(1, side));
    eq(m, 55, sym);
    num(m, 38, qty);
    if (px > 0)
        num(m, 44, px);
    num(m, 151, leaves);
    num(m, 14, cum);
    num(m, 6, avgpx);
    if (exec_type == 'F') {
        num(m, 32, last_qty);
        num(m, 31, last_px);
    }
    if (!orig.empty())
        eq(m, 41, orig);
    std::string execid = field(m, 17);
    if (exec_type != 'I' && !g_execids.insert(execid).second) // status reports: ExecID 0
        die("ExecID " + execid + " repeated");
    if (field(m, 37).empty())
        die("empty OrderID");
    field(m, 60);
    return m;
}

void send(FIX::Message &m, const FIX::SessionID &sid)
{
    if (!FIX::Session::sendToTarget(m, sid))
        die("sendToTarget failed");
}

void nos_to(const FIX::SessionID &sid, const std::string &id, char side, const std::string &sym,
            double qty, double px, char tif = FIX::TimeInForce_DAY)
{
    FIX44::NewOrderSingle o(FIX::ClOrdID(id), FIX::Side(side), FIX::TransactTime{},
                            FIX::OrdType(px > 0 ? FIX::OrdType_LIMIT : FIX::OrdType_MARKET));
    o.set(FIX::Symbol(sym));
    o.set(FIX::OrderQty(qty));
    if (px > 0)
        o.set(FIX::Price(px));
    o.set(FIX::TimeInForce(tif));
    send(o, sid);
}

void nos(App &app, const std::string &id, char side, const std::string &sym, double qty,
         double px, char tif = FIX::TimeInForce_DAY)
{
    nos_to(app.sid, id, side, sym, qty, px, tif);
}

void cancel(App &app, const std::string &id, const std::string &orig, char side,
            const std::string &sym)
{
    FIX44::OrderCancelRequest c(FIX::OrigClOrdID(orig), FIX::ClOrdID(id), FIX::Side(side),
                                FIX::TransactTime{});
    c.set(FIX::Symbol(sym));
    send(c, app.sid);
}

void replace(App &app, const std::string &id, const std::string &orig, char side,
             const std::string &sym, double qty, double px)
{
    FIX44::OrderCancelReplaceRequest r(FIX::OrigClOrdID(orig), FIX::ClOrdID(id), FIX::Side(side),
                                       FIX::TransactTime{}, FIX::OrdType(FIX::OrdType_LIMIT));
    r.set(FIX::Symbol(sym));
    r.set(FIX::OrderQty(qty));
    r.set(FIX::Price(px));
    send(r, app.sid);
}

void status_req(App &app, const std::string &id, const std::string &reqid, char side,
                const std::string &sym)
{
    FIX44::OrderStatusRequest r{FIX::ClOrdID(id), FIX::Side(side)};
    r.set(FIX::Symbol(sym));
    r.set(FIX::OrdStatusReqID(reqid));
    send(r, app.sid);
}

// MassCancelRequestType 7 (all) or 1 (one security, sym)
void mass_cancel(App &app, const std::string &id, char type, const std::string &sym)
{
    FIX44::OrderMassCancelRequest r(FIX::ClOrdID(id), FIX::MassCancelRequestType(type),
                                    FIX::TransactTime{});
    if (!sym.empty())
        r.set(FIX::Symbol(sym));
    send(r, app.sid);
}

void mdreq(App &app, const std::string &id, char type, int depth, const std::string &sym,
           bool trades = false, const std::string &mkt = "")
{
    FIX44::MarketDataRequest r{FIX::MDReqID(id), FIX::SubscriptionRequestType(type),
                               FIX::MarketDepth(depth)};
    if (type == '1')
        r.set(FIX::MDUpdateType(1));
    FIX44::MarketDataRequest::NoMDEntryTypes t;
    t.set(FIX::MDEntryType('0'));
    r.addGroup(t);
    t.set(FIX::MDEntryType('1'));
    r.addGroup(t);
    if (trades) {
        t.set(FIX::MDEntryType('2'));
        r.addGroup(t);
    }
    FIX44::MarketDataRequest::NoRelatedSym s;
    s.set(FIX::Symbol(sym));
    if (!mkt.empty()) /* one venue's book (Bourse's extension of V: docs/fix-gateway.md) */
        s.setField(FIX::MDMkt(mkt));
    r.addGroup(s);
    send(r, app.sid);
}

// MD entry k of a W or X (groups read through FieldMap::getGroupRef by position).
std::string md(const FIX::Message &m, int k, int tag)
{
    FIX::FieldMap &g = const_cast<FIX::Message &>(m).getGroupRef((unsigned)k, 268);
    if (!g.isSetField(tag))
        die("MD entry " + std::to_string(k) + " lacks tag " + std::to_string(tag) + " in " +
            m.toString());
    return g.getField(tag);
}

struct Client {
    App app;
    FIX::SessionSettings *settings = nullptr;
    FIX::FileStoreFactory *store = nullptr;
    FIX::MemoryStoreFactory mem;
    FIX::FileLogFactory *log = nullptr;
    FIX::SocketInitiator *init = nullptr;

    // fast: no message log, memory store (the bench; nothing is resent there)
    FIX::ThreadedSocketInitiator *tinit = nullptr;
    void start(bool reset, bool fast = false, int nsess = 1)
    {
        std::ostringstream s;
        s << "[DEFAULT]\nConnectionType=initiator\nReconnectInterval=1\nHeartBtInt=30\n"
          << "StartTime=00:00:00\nEndTime=00:00:00\n"
          // The bench may turn dictionary validation off (BOURSE_BENCH_VALIDATE=0),
          // as throughput-minded initiators do; the interop scenarios always validate.
          << "UseDataDictionary=" << (fast && env_is("BOURSE_BENCH_VALIDATE", "0") ? "N" : "Y")
          << "\n"
          << "DataDictionary=" << g_dict << "\nFileLogPath=" << g_work << "/qflog\nFileStorePath=" << g_work << "/qfstore\n"
          << "ValidateUserDefinedFields=N\n"
          // The interop scenarios ask for TCP_NODELAY (request and reply, one at a
          // time). The bench keeps QuickFIX's own default, Nagle on, unless
          // BOURSE_BENCH_NODELAY says Y or N.
          << (!fast ? "SocketNodelay=Y\n"
              : env_is("BOURSE_BENCH_NODELAY", "Y") ? "SocketNodelay=Y\n"
              : env_is("BOURSE_BENCH_NODELAY", "N") ? "SocketNodelay=N\n"
                                                    : "")
          << "SocketConnectHost=127.0.0.1\nSocketConnectPort=" << g_port << "\n"
          << "ResetOnLogon=" << (reset ? "Y" : "N") << "\n"
          // the bench never resends, so its store need not keep what it sent
          << "PersistMessages=" << (fast ? "N" : "Y") << "\n";
        // bench only: more QuickFIX settings, ';'-separated (BOURSE_BENCH_QF)
        if (fast && std::getenv("BOURSE_BENCH_QF")) {
            std::string extra = std::getenv("BOURSE_BENCH_QF");
            std::replace(extra.begin(), extra.end(), ';', '\n');
            s << extra << "\n";
        }
        for (int i = 1; i <= nsess; i++)
            s << "[SESSION]\nBeginString=FIX.4.4\nSenderCompID=CLIENT" << i
              << "\nTargetCompID=EXEC\n";
        std::istringstream in(s.str());
        settings = new FIX::SessionSettings(in);
        log = new FIX::FileLogFactory(*settings);
        // FileStore, not MemoryStore: QuickFIX 1.15's MemoryStore::get() finds
        // nothing when the first requested number is missing, so it would
        // gap-fill over real messages on a ResendRequest that starts in a gap.
        store = new FIX::FileStoreFactory(*settings);
        if (nsess > 1) { // one thread per session
            tinit = new FIX::ThreadedSocketInitiator(app, mem, *settings);
            tinit->start();
        } else {
            if (fast)
                init = new FIX::SocketInitiator(app, mem, *settings);
            else
                init = new FIX::SocketInitiator(app, *store, *settings, *log);
            init->start();
        }
        app.wait_logons(nsess);
    }
    FIX::Session *session() { return FIX::Session::lookupSession(app.sid); }
    void stop()
    {
        if (tinit) {
            tinit->stop();
            delete tinit;
        } else {
            init->stop();
            delete init;
        }
        delete log;
        delete store;
        delete settings;
    }
};

// ---- scenarios ---------------------------------------------------------------

void scenario_orders()
{
    start_server(0);
    Client c;
    c.start(true);
    App &a = c.app;
    // a resting buy
    nos(a, "c1", '1', "AAPL", 100, 150.00);
    FIX::Message n1 = er(a, "c1", '0', '0', '1', "AAPL", 100, 150, 100, 0, 0);
    std::string o1 = field(n1, 37);
    // a sell that crosses 40 of it: maker fill reported first, then the taker's
    nos(a, "c2", '2', "AAPL", 40, 150.00);
    er(a, "c2", '0', '0', '2', "AAPL", 40, 150, 40, 0, 0);
    FIX::Message f1 = er(a, "c1", 'F', '1', '1', "AAPL", 100, 150, 60, 40, 150, 40, 150);
    eq(f1, 37, o1);
    er(a, "c2", 'F', '2', '2', "AAPL", 40, 150, 0, 40, 150, 40, 150);
    // replace the rest: 80 at 149.50
    replace(a, "c3", "c1", '1', "AAPL", 80, 149.50);
    FIX::Message r = er(a, "c3", '5', '1', '1', "AAPL", 80, 149.5, 40, 40, 150, 0, 0, "c1");
    eq(r, 37, o1);
    // cross the replaced order at its new price
    nos(a, "c4", '2', "AAPL", 10, 149.50);
    er(a, "c4", '0', '0', '2', "AAPL", 10, 149.5, 10, 0, 0);
    er(a, "c3", 'F', '1', '1', "AAPL", 80, 149.5, 30, 50, 149.9, 10, 149.5);
    er(a, "c4", 'F', '2', '2', "AAPL", 10, 149.5, 0, 10, 149.5, 10, 149.5);
    // cancel it
    cancel(a, "c5", "c3", '1', "AAPL");
    FIX::Message x = er(a, "c5", '4', '4', '1', "AAPL", 80, 149.5, 0, 50, 149.9, 0, 0, "c3");
    eq(x, 37, o1);
    // cancel again: too late; cancel of an unknown order
    cancel(a, "c6", "c5", '1', "AAPL");
    FIX::Message cr = a.next("9");
    eq(cr, 434, "1");
    eq(cr, 102, "0");
    eq(cr, 39, "4");
    eq(cr, 37, o1);
    eq(cr, 11, "c6");
    eq(cr, 41, "c5");
    cancel(a, "c7", "nope", '1', "AAPL");
    cr = a.next("9");
    eq(cr, 102, "1");
    eq(cr, 37, "NONE");
    // business rejects
    nos(a, "c8", '1', "ZZZZ", 10, 1.00);
    FIX::Message rj = a.next("8");
    eq(rj, 150, "8");
    eq(rj, 39, "8");
    eq(rj, 103, "1");
    eq(rj, 11, "c8");
    nos(a, "c9", '1', "AAPL", 10, 150.123);
    rj = a.next("8");
    eq(rj, 150, "8");
    eq(rj, 103, "99");
    nos(a, "c2", '1', "AAPL", 10, 150.00); // duplicate ClOrdID
    rj = a.next("8");
    eq(rj, 150, "8");
    eq(rj, 103, "6");
    // market data: subscribe to MSFT (empty), then watch it fill in
    mdreq(a, "md1", '1', 5, "MSFT");
    FIX::Message w = a.next("W");
    eq(w, 262, "md1");
    eq(w, 55, "MSFT");
    eq(w, 268, "0");
    nos(a, "m1", '1', "MSFT", 10, 300.00);
    er(a, "m1", '0', '0', '1', "MSFT", 10, 300, 10, 0, 0);
    FIX::Message xu = a.next("X");
    eq(xu, 262, "md1");
    eq(xu, 268, "1");
    if (md(xu, 1, 279) != "0" || md(xu, 1, 269) != "0" || std::atof(md(xu, 1, 270).c_str()) != 300 ||
        md(xu, 1, 271) != "10" || md(xu, 1, 55) != "MSFT")
        die("bad incremental refresh " + xu.toString());
    nos(a, "m2", '1', "MSFT", 5, 300.00);
    er(a, "m2", '0', '0', '1', "MSFT", 5, 300, 5, 0, 0);
    xu = a.next("X");
    if (md(xu, 1, 279) != "1" || md(xu, 1, 271) != "15")
        die("bad incremental change " + xu.toString());
    nos(a, "m3", '2', "MSFT", 7, 301.00);
    er(a, "m3", '0', '0', '2', "MSFT", 7, 301, 7, 0, 0);
    xu = a.next("X");
    if (md(xu, 1, 279) != "0" || md(xu, 1, 269) != "1" || md(xu, 1, 271) != "7")
        die("bad offer update " + xu.toString());
    mdreq(a, "md2", '0', 5, "MSFT");
    w = a.next("W");
    eq(w, 262, "md2");
    eq(w, 268, "2");
    if (md(w, 1, 269) != "0" || md(w, 1, 271) != "15" || md(w, 2, 269) != "1" ||
        std::atof(md(w, 2, 270).c_str()) != 301)
        die("bad snapshot " + w.toString());
    mdreq(a, "md3", '0', 5, "NOPE");
    FIX::Message y = a.next("Y");
    eq(y, 262, "md3");
    eq(y, 281, "0");
    mdreq(a, "md1", '1', 5, "MSFT");
    y = a.next("Y");
    eq(y, 281, "1");
    cancel(a, "m4", "m1", '1', "MSFT");
    er(a, "m4", '4', '4', '1', "MSFT", 10, 300, 0, 0, 0, 0, 0, "m1");
    xu = a.next("X");
    if (md(xu, 1, 279) != "1" || md(xu, 1, 271) != "5")
        die("bad update after cancel " + xu.toString());
    // order status: an open order, a cancelled one, an unknown one
    status_req(a, "m2", "s1", '1', "MSFT");
    FIX::Message st = er(a, "m2", 'I', '0', '1', "MSFT", 5, 300, 5, 0, 0);
    eq(st, 17, "0");
    eq(st, 790, "s1");
    status_req(a, "m4", "s2", '1', "MSFT");
    st = er(a, "m4", 'I', '4', '1', "MSFT", 10, 300, 0, 0, 0);
    status_req(a, "zz", "s3", '1', "MSFT");
    st = a.next("8");
    eq(st, 150, "I");
    eq(st, 39, "8");
    eq(st, 103, "5");
    eq(st, 790, "s3");
    // mass cancel: an unknown security is refused; then everything open goes
    mass_cancel(a, "k1", '1', "NOPE");
    FIX::Message mc = a.next("r");
    eq(mc, 531, "0");
    eq(mc, 532, "1");
    mass_cancel(a, "k2", '7', "");
    mc = a.next("r");
    eq(mc, 11, "k2");
    eq(mc, 530, "7");
    eq(mc, 531, "7");
    eq(mc, 533, "2");
    er(a, "m2", '4', '4', '1', "MSFT", 5, 300, 0, 0, 0);
    er(a, "m3", '4', '4', '2', "MSFT", 7, 301, 0, 0, 0);
    xu = a.next("X"); // both sides of MSFT gone from md1's book
    eq(xu, 268, "2");
    // trades in market data (MDEntryType 2): the trade first, then the book it left
    mdreq(a, "md5", '1', 5, "AAPL", true);
    w = a.next("W");
    eq(w, 262, "md5");
    nos(a, "t1", '1', "AAPL", 5, 150.00);
    er(a, "t1", '0', '0', '1', "AAPL", 5, 150, 5, 0, 0);
    xu = a.next("X");
    if (md(xu, 1, 279) != "0" || md(xu, 1, 269) != "0" || md(xu, 1, 271) != "5")
        die("bad bid for md5 " + xu.toString());
    nos(a, "t2", '2', "AAPL", 3, 150.00);
    er(a, "t2", '0', '0', '2', "AAPL", 3, 150, 3, 0, 0);
    er(a, "t1", 'F', '1', '1', "AAPL", 5, 150, 2, 3, 150, 3, 150);
    er(a, "t2", 'F', '2', '2', "AAPL", 3, 150, 0, 3, 150, 3, 150);
    xu = a.next("X");
    eq(xu, 268, "2");
    if (md(xu, 1, 279) != "0" || md(xu, 1, 269) != "2" || std::atof(md(xu, 1, 270).c_str()) != 150 ||
        md(xu, 1, 271) != "3" || md(xu, 1, 55) != "AAPL")
        die("bad trade entry " + xu.toString());
    if (md(xu, 2, 279) != "1" || md(xu, 2, 269) != "0" || md(xu, 2, 271) != "2")
        die("bad bid change after the trade " + xu.toString());
    mass_cancel(a, "k3", '1', "AAPL");
    mc = a.next("r");
    eq(mc, 533, "1");
    er(a, "t1", '4', '4', '1', "AAPL", 5, 150, 0, 3, 150);
    xu = a.next("X"); // the bid gone
    a.none();
    c.stop();
    stop_server();
}

void scenario_gap()
{
    start_server(0);
    Client c;
    c.start(true);
    App &a = c.app;
    nos(a, "g1", '1', "AAPL", 1, 100);
    er(a, "g1", '0', '0', '1', "AAPL", 1, 100, 1, 0, 0);
    // client -> gateway gap: skip 5 sequence numbers; the gateway must ask for
    // them, get a GapFill and the resent order, and then answer it.
    FIX::Session *s = c.session();
    s->setNextSenderMsgSeqNum(s->getExpectedSenderNum() + 5);
    nos(a, "g2", '1', "AAPL", 1, 101);
    er(a, "g2", '0', '0', '1', "AAPL", 1, 101, 1, 0, 0);
    // gateway -> client gap: forget the last 2 messages received; the client's
    // ResendRequest must bring the ExecutionReport back with PossDupFlag.
    int expect = s->getExpectedTargetNum();
    s->setNextTargetMsgSeqNum(expect - 2);
    nos(a, "g3", '1', "AAPL", 1, 102);
    bool saw_possdup = false;
    for (int i = 0; i < 3; i++) {
        FIX::Message m = a.next("8");
        std::string id = field(m, 11);
        if (m.getHeader().isSetField(43) && m.getHeader().getField(43) == "Y") {
            if (!m.getHeader().isSetField(122))
                die("resent message without OrigSendingTime");
            saw_possdup = true;
            continue;
        }
        if (id != "g3")
            die("unexpected ExecutionReport " + m.toString());
        break;
    }
    if (!saw_possdup)
        die("no PossDup resend seen");
    // QuickFIX moves its target number on after fromApp returns: give it a moment
    for (int i = 0; i < 100 && s->getExpectedTargetNum() <= expect; i++)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (s->getExpectedTargetNum() <= expect)
        die("target sequence did not move on after the resend");
    nos(a, "g4", '1', "AAPL", 1, 103);
    er(a, "g4", '0', '0', '1', "AAPL", 1, 103, 1, 0, 0);
    a.none();
    c.stop();
    stop_server();
}

void scenario_restart()
{
    start_server(0);
    int port = g_port;
    Client c;
    c.start(false);
    App &a = c.app;
    nos(a, "r1", '1', "AAPL", 100, 120);
    FIX::Message n1 = er(a, "r1", '0', '0', '1', "AAPL", 100, 120, 100, 0, 0);
    nos(a, "r2", '2', "MSFT", 30, 310);
    FIX::Message n2 = er(a, "r2", '0', '0', '2', "MSFT", 30, 310, 30, 0, 0);
    FIX::Session *s = c.session();
    // Both sides have sent exactly Logon + 2 application messages (HeartBtInt is
    // 30 s, far longer than this run). QuickFIX moves its counters on only after
    // fromApp returns, which on a loaded machine can take a while: wait for the
    // counts these messages imply instead of sleeping a fixed time.
    for (int i = 0; i < 500 && (s->getExpectedTargetNum() < 4 || s->getExpectedSenderNum() < 4); i++)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    a.none(100);
    int sender_before = s->getExpectedSenderNum();
    int target_before = s->getExpectedTargetNum();
    if (sender_before != 4 || target_before != 4)
        die("before the restart: sender " + std::to_string(sender_before) + ", target " +
            std::to_string(target_before) + ", want 4 and 4");
    kill_server(); // SIGKILL: nothing is flushed at exit
    a.wait_logouts(1);
    start_server(port);
    a.wait_logons(2, 15000);
    if (a.last_logon_seq != target_before)
        die("gateway Logon MsgSeqNum " + std::to_string(a.last_logon_seq) + ", want " +
            std::to_string(target_before));
    if (s->getExpectedSenderNum() != sender_before + 1)
        die("client sender sequence moved unexpectedly");
    // the resting orders survived: cancel one, trade against the other
    cancel(a, "r3", "r1", '1', "AAPL");
    FIX::Message x = er(a, "r3", '4', '4', '1', "AAPL", 100, 120, 0, 0, 0, 0, 0, "r1");
    eq(x, 37, field(n1, 37));
    nos(a, "r4", '1', "MSFT", 30, 310);
    er(a, "r4", '0', '0', '1', "MSFT", 30, 310, 30, 0, 0);
    FIX::Message f = er(a, "r2", 'F', '2', '2', "MSFT", 30, 310, 0, 30, 310, 30, 310);
    eq(f, 37, field(n2, 37));
    er(a, "r4", 'F', '2', '1', "MSFT", 30, 310, 0, 30, 310, 30, 310);
    a.none();
    c.stop();
    stop_server();
}

// reset_at_day_end against QuickFIX: the gateway ends the session at day_end
// (Logout); the client, as its own daily schedule would, starts the new day
// with fresh sequence numbers (its store emptied) and logs on at MsgSeqNum 1
// without ResetSeqNumFlag. The gateway accepts it; its Logon comes with
// MsgSeqNum 2, so QuickFIX asks for 1 and gets the expiry of the DAY order
// left open over the end of day, resent with PossDupFlag.
// ---- orders through the smart order router (data/configs/serve-routed.json) --

// What arrives within ms (nothing dies on silence).
std::vector<FIX::Message> take(App &app, int ms)
{
    std::vector<FIX::Message> out;
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    std::unique_lock<std::mutex> l(app.mu);
    while (app.cv.wait_until(l, until, [&] { return !app.q.empty(); })) {
        out.push_back(app.q.front());
        app.q.pop_front();
    }
    return out;
}

// A book as a MarketDataRequest snapshot: one venue's (MDMkt, every entry
// carrying it) or the consolidated one (mkt ""): qty at side/price (0: none),
// and the best price of a side.
struct Book {
    std::vector<std::pair<double, double>> bids, asks; // price, qty; best first
    double qty(char side, double px) const
    {
        for (const auto &l : side == '0' ? bids : asks)
            if (std::fabs(l.first - px) < 1e-9)
                return l.second;
        return 0;
    }
};

Book snapshot(App &a, const std::string &id, const std::string &mkt = "")
{
    mdreq(a, id, '0', 10, "GEN000", false, mkt);
    FIX::Message w = a.next("W");
    eq(w, 262, id);
    Book b;
    int n = std::atoi(field(w, 268).c_str());
    for (int k = 1; k <= n; k++) {
        FIX::FieldMap &g = w.getGroupRef((unsigned)k, 268);
        if (mkt.empty() ? g.isSetField(275) : md(w, k, 275) != mkt)
            die("entry " + std::to_string(k) + " of " + id + " is not of " + (mkt.empty() ? "the consolidated book" : mkt) +
                ": " + w.toString());
        double px = std::atof(md(w, k, 270).c_str()), q = std::atof(md(w, k, 271).c_str());
        (md(w, k, 269) == "0" ? b.bids : b.asks).push_back({px, q});
    }
    if (b.asks.empty() || b.bids.empty())
        die("the replayed book has an empty side: " + w.toString());
    return b;
}

// Every report of one routed parent until it ends (Filled, Canceled) or, with
// resting, until nothing more comes: fills name their venue in LastMkt, CumQty
// is the sum of LastQty, AvgPx their average, never over the order's quantity.
struct Parent {
    double cum = 0, notional = 0, leaves = -1;
    char status = 0;
    std::set<std::string> venues;
    std::string order_id;
};

// The market maker serve hosts (strategies[0], "mm"): its last "strategy
// stopping" line in server.log: fills per venue and the quotes it had open.
struct MmSeen {
    long lit = -1, alt = -1, open_orders = -1;
};

MmSeen mm_stopping()
{
    std::ifstream in(g_work + "/server.log");
    std::string line, last;
    while (std::getline(in, line))
        if (line.find("strategy stopping strategy=mm ") != std::string::npos)
            last = line;
    MmSeen m;
    if (last.empty())
        die("server.log: the market maker never stopped (no 'strategy stopping strategy=mm')");
    std::size_t v = last.find("filled_by_venue=lit:"), o = last.find("open_orders=");
    if (v == std::string::npos || o == std::string::npos)
        die("server.log: unexpected line " + last);
    std::sscanf(last.c_str() + v, "filled_by_venue=lit:%ld,alt:%ld", &m.lit, &m.alt);
    std::sscanf(last.c_str() + o, "open_orders=%ld", &m.open_orders);
    return m;
}

Parent follow(App &a, const std::string &id, double qty, bool resting)
{
    Parent p;
    for (;;) {
        std::vector<FIX::Message> got = take(a, resting ? 1500 : 5000);
        if (got.empty()) {
            if (resting)
                return p;
            die("routed parent " + id + ": no end");
        }
        for (const auto &m : got) {
            if (field(m, 35) != "8")
                die("routed parent " + id + ": unexpected " + m.toString());
            eq(m, 11, id);
            if (p.order_id.empty())
                p.order_id = field(m, 37);
            eq(m, 37, p.order_id);
            num(m, 38, qty);
            std::string et = field(m, 150);
            if (et == "F") {
                std::string mkt = field(m, 30);
                if (mkt != "lit" && mkt != "alt")
                    die("LastMkt " + mkt + " in " + m.toString());
                p.venues.insert(mkt);
                double lq = std::atof(field(m, 32).c_str()), lp = std::atof(field(m, 31).c_str());
                p.cum += lq;
                p.notional += lq * lp;
                num(m, 14, p.cum);
                if (std::fabs(std::atof(field(m, 6).c_str()) - p.notional / p.cum) > 1e-4)
                    die("AvgPx " + field(m, 6) + ", fills average " + std::to_string(p.notional / p.cum));
            } else if (et != "0" && et != "4") {
                die("routed parent " + id + ": ExecType " + et + " in " + m.toString());
            }
            p.leaves = std::atof(field(m, 151).c_str());
            if (p.cum + p.leaves > qty + 1e-9 && et != "4")
                die("CumQty + LeavesQty above OrderQty in " + m.toString());
            p.status = field(m, 39)[0];
            if (p.status == '2' || p.status == '4')
                return p;
        }
    }
}

void scenario_routed()
{
    g_config = "data/configs/serve-routed.json";
    g_keep_sessions = true;
    g_extra_sets = {"market_data.file=" + std::string(BOURSE_SOURCE_DIR) + "/data/mm.ticks.zst",
                    "strategies[0].file=" + std::string(BOURSE_SOURCE_DIR) + "/strategies-lua/market_maker.lua",
                    /* the market maker sees the books the client's orders leave (after
                     * each message, docs/fix-gateway.md "Market data after the replay")
                     * and would move its quotes onto the levels checked below: it keeps
                     * them in place, and still quotes anew where one was taken */
                    "strategies[0].params.requote_ticks=1000000"};
    start_server(0);
    Client c;
    c.start(true);
    App &a = c.app;
    // 1. a marketable buy larger than either venue's touch: fills on both
    Book b = snapshot(a, "md1");
    double ask = b.asks[0].first, touch = b.asks[0].second;
    double q1 = touch + 5;
    nos(a, "p1", '1', "GEN000", q1, ask + 0.05, FIX::TimeInForce_IMMEDIATE_OR_CANCEL);
    Parent p1 = follow(a, "p1", q1, false);
    if (p1.venues.size() != 2)
        die("p1 filled on " + std::to_string(p1.venues.size()) + " venue(s), want lit and alt");
    if (p1.status != '2' || p1.cum != q1)
        die("p1 ended with status " + std::string(1, p1.status) + ", cum " + std::to_string(p1.cum));
    std::cout << "p1: " << q1 << " filled on lit and alt, avg " << p1.notional / p1.cum << std::endl;
    // 2. a buy at the best ask for more than both venues hold there: it takes what
    // is there and the rest rests on a venue (lit: same maker fee, lower index);
    // its cancel cancels that child: the bid leaves lit's book (MDMkt lit)
    b = snapshot(a, "md2");
    double ask2 = b.asks[0].first, q2 = b.asks[0].second + 40;
    double bid_before = snapshot(a, "md2l", "lit").qty('0', ask2);
    nos(a, "p2", '1', "GEN000", q2, ask2, FIX::TimeInForce_DAY);
    Parent p2 = follow(a, "p2", q2, true);
    if (p2.cum <= 0 || p2.cum >= q2 || p2.status != '1')
        die("p2: want partly filled and working, cum " + std::to_string(p2.cum));
    Book posted = snapshot(a, "md3", "lit");
    if (posted.qty('0', ask2) != bid_before + (q2 - p2.cum))
        die("p2's rest is not resting on lit: bid " + std::to_string(posted.qty('0', ask2)));
    // 3. kill -9 with that parent working; the restart restores it and its child
    kill_server();
    a.wait_logouts(1);
    start_server(g_port);
    a.wait_logons(2, 15000);
    Book again = snapshot(a, "md4", "lit");
    if (again.qty('0', ask2) != posted.qty('0', ask2))
        die("after kill -9 the child rests with " + std::to_string(again.qty('0', ask2)) + ", was " +
            std::to_string(posted.qty('0', ask2)));
    cancel(a, "p2c", "p2", '1', "GEN000");
    FIX::Message x = a.next("8");
    eq(x, 11, "p2c");
    eq(x, 150, "4");
    eq(x, 41, "p2");
    num(x, 14, p2.cum);
    num(x, 151, 0);
    Book after = snapshot(a, "md5", "lit");
    if (after.qty('0', ask2) != bid_before)
        die("p2's child still rests after the cancel: bid " + std::to_string(after.qty('0', ask2)));
    a.none();
    c.stop();
    stop_server();
    // the market maker quoted on both venues beside the client: it traded on
    // lit and alt during the replay and still had its quotes out at the stop
    MmSeen mm = mm_stopping();
    if (mm.lit <= 0 || mm.alt <= 0 || mm.open_orders < 1)
        die("the market maker: filled lit " + std::to_string(mm.lit) + ", alt " + std::to_string(mm.alt) +
            ", open quotes " + std::to_string(mm.open_orders) + "; want fills on both and quotes out");
    std::cout << "mm: filled " << mm.lit << " on lit, " << mm.alt << " on alt, " << mm.open_orders
              << " quotes open at the stop" << std::endl;
    // 4. alt refuses every order (fault injection): the parent completes on lit
    g_extra_sets.push_back("venues[1].params.reject_rate=1");
    g_extra_sets.push_back("state_dir=" + g_work + "/state-fault"); /* a journal of its own */
    start_server(0);
    Client c2;
    c2.start(true);
    App &a2 = c2.app;
    b = snapshot(a2, "md6");
    double q3 = b.asks[0].second + 3;
    nos(a2, "p3", '1', "GEN000", q3, b.asks[0].first + 0.05, FIX::TimeInForce_IMMEDIATE_OR_CANCEL);
    Parent p3 = follow(a2, "p3", q3, false);
    if (p3.status != '2' || p3.cum != q3 || p3.venues.size() != 1 || !p3.venues.count("lit"))
        die("p3: want filled on lit alone, cum " + std::to_string(p3.cum));
    a2.none();
    c2.stop();
    stop_server();
}

void scenario_dayreset()
{
    std::time_t now = std::time(nullptr);
    long eod = ((long)now + 5) % 86400;
    char de[32];
    std::snprintf(de, sizeof de, "day_end=%02ld:%02ld:%02ld", eod / 3600, eod / 60 % 60, eod % 60);
    g_extra_sets = {de, "reset_at_day_end=true"};
    start_server(0);
    {
        Client c;
        c.start(false);
        App &a = c.app;
        nos(a, "d1", '1', "AAPL", 10, 101); // DAY
        er(a, "d1", '0', '0', '1', "AAPL", 10, 101, 10, 0, 0);
        if (std::time(nullptr) >= now + 5)
            die("the order went in after the day ended (machine too slow?)");
        a.wait_logouts(1, 15000); // the gateway ends the session
        c.stop();
    }
    // the client's new day: its store starts over at 1
    std::string rm = "rm -rf '" + g_work + "/qfstore'";
    if (std::system(rm.c_str()) != 0)
        die("cannot empty the client's store");
    Client c2;
    c2.start(false);
    App &b = c2.app;
    if (b.last_logon_seq != 2)
        die("gateway Logon MsgSeqNum " + std::to_string(b.last_logon_seq) + ", want 2");
    FIX::Message x = b.next("8", 10000); // resent after QuickFIX's ResendRequest
    eq(x, 11, "d1");
    eq(x, 150, "C");
    eq(x, 39, "C");
    if (x.getHeader().getField(43) != "Y")
        die("expiry report not marked PossDup: " + x.toString());
    b.none();
    c2.stop();
    stop_server();
    g_extra_sets.clear();
}

// The gateway process's user + system CPU time so far (/proc, clock ticks).
double server_cpu_seconds()
{
    std::ifstream in("/proc/" + std::to_string(g_server) + "/stat");
    std::string line;
    std::getline(in, line);
    size_t rp = line.rfind(')'); // the command name may hold spaces
    if (rp == std::string::npos)
        return 0;
    std::istringstream f(line.substr(rp + 2));
    std::string x;
    unsigned long long ut = 0, st = 0;
    for (int field = 3; field <= 15 && (f >> x); field++) {
        if (field == 14)
            ut = std::strtoull(x.c_str(), nullptr, 10);
        else if (field == 15)
            st = std::strtoull(x.c_str(), nullptr, 10);
    }
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

// This process's own user + system CPU time so far (the initiator, all threads).
double self_cpu_seconds()
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

// Round trip: `inflight` orders outstanding, each timed to its acknowledgement
// (ExecutionReport ExecType New). Buys rest and each sell trades against the buy
// before it, so both resting and crossing orders are in the stream.
void scenario_bench(int total, int inflight, int nsess, bool rest)
{
    g_sessions = nsess;
    const char *rt = std::getenv("BOURSE_BENCH_ROUTE");
    if (rt && *rt) { // every order may rest: the router's pools hold them all
        int pool = std::min(total + inflight + 16, (1 << 20) - 1);
        g_extra_sets.push_back("router.max_parents=" + std::to_string(pool));
        g_extra_sets.push_back("router.max_children=" + std::to_string(pool));
    }
    start_server(0);
    Client c;
    std::vector<FIX::SessionID> sids;
    for (int i = 1; i <= nsess; i++)
        sids.emplace_back("FIX.4.4", "CLIENT" + std::to_string(i), "EXEC");
    c.start(true, true, nsess);
    App &a = c.app;
    std::vector<double> lat((size_t)total);
    std::vector<std::chrono::steady_clock::time_point> sent((size_t)total);
    std::atomic<int> next{0}, done{0};
    std::mutex fin;
    std::condition_variable fincv;
    bool finished = false;
    // Each session keeps inflight/nsess orders outstanding; an order's round trip
    // ends at its acknowledgement (ExecType New). Within a session buys rest and
    // each sell trades with a buy, so resting and crossing orders are both there.
    // One NewOrderSingle per session, built once and refilled per order, as an
    // order-entry application does: ClOrdID, Side and TransactTime change; price
    // and quantity are decimal strings (no binary floating point on the way).
    // The lock only matters while the first orders go out from this thread.
    struct Slot {
        std::mutex mu;
        FIX::Session *session = nullptr;
        FIX44::NewOrderSingle order;
    };
    std::vector<std::unique_ptr<Slot>> slots;
    for (const auto &sid : sids) {
        auto sl = std::make_unique<Slot>();
        sl->session = FIX::Session::lookupSession(sid);
        if (!sl->session)
            die("no QuickFIX session " + sid.toString());
        sl->order.set(FIX::Symbol("AAPL"));
        sl->order.set(FIX::OrdType(FIX::OrdType_LIMIT));
        sl->order.setField(FIX::FIELD::OrderQty, "1");
        sl->order.setField(FIX::FIELD::Price, "100");
        sl->order.set(FIX::TimeInForce(FIX::TimeInForce_DAY));
        slots.push_back(std::move(sl));
    }
    auto send_one = [&](size_t si) {
        int k = next++;
        if (k >= total)
            return;
        Slot &sl = *slots[si];
        std::lock_guard<std::mutex> l(sl.mu);
        sl.order.set(FIX::ClOrdID("b" + std::to_string(k)));
        sl.order.set(FIX::Side((k % 2 && !rest) ? FIX::Side_SELL : FIX::Side_BUY));
        sl.order.set(FIX::TransactTime{});
        sent[(size_t)k] = std::chrono::steady_clock::now();
        if (!sl.session->send(sl.order))
            die("send failed");
    };
    a.on_app = [&](const FIX::Message &m, const FIX::SessionID &sid) {
        if (m.getHeader().getField(35) != "8" || m.getField(150) != "0")
            return true;
        int k = std::atoi(m.getField(11).c_str() + 1);
        lat[(size_t)k] = std::chrono::duration<double, std::micro>(
                             std::chrono::steady_clock::now() - sent[(size_t)k])
                             .count();
        if (++done == total) {
            std::lock_guard<std::mutex> l(fin);
            finished = true;
            fincv.notify_all();
        } else {
            send_one((size_t)(std::find(sids.begin(), sids.end(), sid) - sids.begin()));
        }
        return true;
    };
    double cpu0 = server_cpu_seconds(), self0 = self_cpu_seconds();
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < inflight && i < total; i++)
        send_one((size_t)(i % nsess));
    {
        std::unique_lock<std::mutex> l(fin);
        if (!fincv.wait_for(l, std::chrono::seconds(180), [&] { return finished; }))
            die("bench did not finish");
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double cpu = server_cpu_seconds() - cpu0, self_cpu = self_cpu_seconds() - self0;
    a.on_app = nullptr;
    std::sort(lat.begin(), lat.end());
    auto pct = [&](double p) {
        return lat[(size_t)std::min<double>((double)lat.size() - 1, p * (double)lat.size())];
    };
    const char *route = std::getenv("BOURSE_BENCH_ROUTE");
    std::printf("{\"client\":\"quickfix\",\"workload\":\"%s\",\"validate\":%s,\"nodelay\":%s,\"route\":\"%s\",\"sessions\":%d,\"orders\":%d,\"inflight\":%d,"
                "\"seconds\":%.3f,\"orders_per_sec\":%.0f,\"p50_us\":%.1f,\"p90_us\":%.1f,"
                "\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f,\"server_cpu_us_per_order\":%.2f,"
                "\"client_cpu_us_per_order\":%.2f}\n",
                rest ? "rest" : "mixed", env_is("BOURSE_BENCH_VALIDATE", "0") ? "false" : "true",
                env_is("BOURSE_BENCH_NODELAY", "Y") ? "true" : "false",
                route && *route ? route : "default", nsess, total, inflight,
                secs, total / secs, pct(0.5), pct(0.9), pct(0.99), pct(0.999), lat.back(),
                cpu * 1e6 / total, self_cpu * 1e6 / total);
    c.stop();
    stop_server();
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 4) {
        std::cerr << "usage: fix_client orders|gap|restart|bench FIX44.xml WORKDIR [N INFLIGHT SESSIONS [mixed|rest]]\n";
        return 2;
    }
    std::string sc = argv[1];
    g_dict = argv[2];
    g_work = argv[3];
    std::string cmd = "rm -rf '" + g_work + "' && mkdir -p '" + g_work + "'";
    if (std::system(cmd.c_str()) != 0)
        die("cannot make " + g_work);
    signal(SIGPIPE, SIG_IGN);
    if (sc == "orders")
        scenario_orders();
    else if (sc == "gap")
        scenario_gap();
    else if (sc == "restart")
        scenario_restart();
    else if (sc == "dayreset")
        scenario_dayreset();
    else if (sc == "routed")
        scenario_routed();
    else if (sc == "bench")
        scenario_bench(argc > 4 ? std::atoi(argv[4]) : 20000, argc > 5 ? std::atoi(argv[5]) : 100,
                       argc > 6 ? std::max(1, std::atoi(argv[6])) : 1,
                       argc > 7 && std::string(argv[7]) == "rest");
    else {
        std::cerr << "unknown scenario " << sc << "\n";
        return 2;
    }
    std::cout << "ok: " << sc << std::endl;
    return 0;
}
