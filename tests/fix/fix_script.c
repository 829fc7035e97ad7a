/* fix_script.c: runs one scripted FIX session (tests/fix/scripts/NAME.fixs)
 * against a real `bourse serve` started on port 0 in a temporary state
 * directory. The format, one command per line ('|' stands for SOH):
 *
 *   # comment (the header names the rule the script checks)
 *   set KEY=VALUE          a --set for the server (before the first command)
 *   connect                open another client connection and use it (up to 4;
 *                          the others stay open)
 *   use N                  go back to the Nth connection opened (1-based)
 *   > 35=1|34=2|$HDR|112=x|     send, with 8=FIX.4.4, 9 and 10 computed
 *   >[cs=0] ...            ... with CheckSum given literally ("10=0|")
 *   >[bl=+5] / >[bl=200]   ... with BodyLength adjusted / given
 *   >[begin=FIX.4.2] ...   ... with another BeginString
 *   >raw BYTES             send BYTES as they are (after substitutions)
 *   < 35=3|373=5|371=*|!58 expect the next message: every tag=value must
 *                          match (* any value, ~x contains x, !tag absent)
 *   <h 35=1|112=*          the same, skipping Heartbeats before it (timer
 *                          scripts: a loaded machine may shift our ticks)
 *   silence MS             no message may arrive within MS milliseconds
 *   wait MS                sleep
 *   disconnect expected    the server closes the connection (no message first)
 *   close                  the client closes its connection
 *
 * Substitutions: $HDR is "49=CLIENT1|56=EXEC|52=$NOW", $NOW the current UTC
 * time (SendingTime format), $NOW-300 / $NOW+300 that many seconds away.
 * Usage: fix_script BOURSE_BIN SOURCE_DIR SCRIPT. Exit 0 when every line held. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"
#include "fix/codec.h"

static const char *script_path;
static int lineno;
static pid_t server = -1;
static char workdir[] = "/tmp/brs_fix_script_XXXXXX";
static int port;
#define NCONN 4
static int fds[NCONN] = {-1, -1, -1, -1};
static char rbufs[NCONN][1 << 20];
static size_t rlens[NCONN];
static int cur = -1, nconn;
static int fd = -1;     /* fds[cur] */
static char *rbuf;      /* rbufs[cur] */
static size_t rlen;     /* mirrors rlens[cur] while it is current */
static brs__fix_msg got;
static char gotbuf[1 << 16];

/* Stop the server; returns 1 when it exited cleanly (status 0: under the
 * sanitizers a leak or UB report in the server fails the script too). */
static int stop(void)
{
    int clean = 1;
    if (cur >= 0)
        fds[cur] = fd;
    for (int i = 0; i < NCONN; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    if (server > 0) {
        int st = 0;
        kill(server, SIGTERM);
        waitpid(server, &st, 0);
        clean = WIFEXITED(st) && WEXITSTATUS(st) == 0;
        server = -1;
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", workdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", workdir);
    return clean;
}

static void fail(const char *fmt, ...) BRS__PRINTF(1, 2);
static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s:%d: FAILED: ", script_path, lineno);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    stop();
    exit(1);
}

/* The last received message, readable ('|' for SOH). */
static const char *shown(void)
{
    static char s[2048];
    size_t n = got.len < sizeof s - 1 ? got.len : sizeof s - 1;
    for (size_t i = 0; i < n; i++)
        s[i] = got.buf[i] == '\001' ? '|' : got.buf[i];
    s[n] = 0;
    return s;
}

static void start_server(char **sets, int nsets)
{
    if (!mkdtemp(workdir))
        fail("mkdtemp: %s", strerror(errno));
    char portfile[256], stateset[300];
    snprintf(portfile, sizeof portfile, "%s/port", workdir);
    snprintf(stateset, sizeof stateset, "state_dir=%s/state", workdir);
    char *argv[64];
    int a = 0;
    static char cfgpath[1024];
    argv[a++] = (char *)BOURSE_BIN;
    argv[a++] = "serve";
    snprintf(cfgpath, sizeof cfgpath, "%s/data/configs/serve.json", BOURSE_SOURCE_DIR);
    argv[a++] = cfgpath;
    argv[a++] = "--set";
    argv[a++] = "listen.port=0";
    argv[a++] = "--set";
    argv[a++] = stateset;
    for (int i = 0; i < nsets && a < 60; i++) {
        argv[a++] = "--set";
        argv[a++] = sets[i];
    }
    argv[a++] = "--port-file";
    argv[a++] = portfile;
    argv[a] = NULL;
    server = fork();
    if (server == 0) {
        execv(BOURSE_BIN, argv);
        _exit(127);
    }
    for (int i = 0; i < 400 && !port; i++) {
        FILE *f = fopen(portfile, "r");
        if (f) {
            if (fscanf(f, "%d", &port) != 1)
                port = 0;
            fclose(f);
        }
        if (!port) {
            int st;
            if (waitpid(server, &st, WNOHANG) == server) {
                server = -1;
                fail("bourse serve exited before listening");
            }
            usleep(25000);
        }
    }
    if (!port)
        fail("bourse serve did not start");
}

static void use(int i)
{
    if (cur >= 0) {
        fds[cur] = fd;
        rlens[cur] = rlen;
    }
    cur = i;
    fd = fds[i];
    rbuf = rbufs[i];
    rlen = rlens[i];
}

static void do_connect(void)
{
    if (nconn == NCONN)
        fail("at most %d connections", NCONN);
    use(nconn++);
    rlen = 0;
    fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        fail("connect: %s", strerror(errno));
}

/* $HDR, $NOW, $NOW+N, $NOW-N; '|' -> SOH. */
static size_t expand(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    char tmp[8192];
    /* $HDR first, textually */
    size_t t = 0;
    for (const char *p = in; *p && t < sizeof tmp - 64;) {
        if (strncmp(p, "$HDR", 4) == 0) {
            t += (size_t)snprintf(tmp + t, sizeof tmp - t, "49=CLIENT1|56=EXEC|52=$NOW");
            p += 4;
        } else {
            tmp[t++] = *p++;
        }
    }
    tmp[t] = 0;
    for (const char *p = tmp; *p && o < cap - 32;) {
        if (strncmp(p, "$NOW", 4) == 0) {
            p += 4;
            long off = 0;
            if (*p == '+' || *p == '-') {
                char *end;
                off = strtol(p, &end, 10);
                p = end;
            }
            char ts[32];
            brs__fix_format_time(brs__realtime_ns() + (int64_t)off * 1000000000LL, ts);
            memcpy(out + o, ts, 21);
            o += 21;
        } else {
            out[o++] = *p == '|' ? '\001' : *p;
            p++;
        }
    }
    return o;
}

static void send_all(const char *p, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = send(fd, p + done, n - done, MSG_NOSIGNAL);
        if (w <= 0)
            return; /* the server may have closed: the next expectation tells */
        done += (size_t)w;
    }
}

/* ">[opts] body" */
static void do_send(const char *line)
{
    if (fd < 0)
        do_connect();
    char begin[32] = "FIX.4.4", cs[16] = "";
    long bl_set = -1, bl_add = 0;
    const char *p = line + 1;
    if (*p == '[') {
        const char *e = strchr(p, ']');
        if (!e)
            fail("unclosed [");
        char opt[128];
        snprintf(opt, sizeof opt, "%.*s", (int)(e - p - 1), p + 1);
        for (char *tok = strtok(opt, ","); tok; tok = strtok(NULL, ",")) {
            if (strncmp(tok, "cs=", 3) == 0)
                snprintf(cs, sizeof cs, "%s", tok + 3);
            else if (strncmp(tok, "bl=+", 4) == 0 || strncmp(tok, "bl=-", 4) == 0)
                bl_add = strtol(tok + 3, NULL, 10);
            else if (strncmp(tok, "bl=", 3) == 0)
                bl_set = strtol(tok + 3, NULL, 10);
            else if (strncmp(tok, "begin=", 6) == 0)
                snprintf(begin, sizeof begin, "%s", tok + 6);
            else
                fail("unknown send option '%s'", tok);
        }
        p = e + 1;
    }
    while (*p == ' ')
        p++;
    static char body[1 << 16], msg[1 << 16 | 256];
    size_t n = expand(p, body, sizeof body);
    if (n && body[n - 1] != '\001')
        body[n++] = '\001';
    long bl = bl_set >= 0 ? bl_set : (long)n + bl_add;
    int h = snprintf(msg, 64, "8=%s\0019=%ld\001", begin, bl);
    memcpy(msg + h, body, n);
    size_t m = (size_t)h + n;
    if (cs[0])
        m += (size_t)snprintf(msg + m, 32, "10=%s\001", cs);
    else
        m += (size_t)snprintf(msg + m, 32, "10=%03u\001", brs__fix_checksum(msg, m));
    send_all(msg, m);
}

/* Next message within ms: 1 got one, 0 timeout, -1 connection closed. */
static int next_msg(int ms)
{
    int64_t until = brs__monotime_ns() + (int64_t)ms * 1000000;
    for (;;) {
        if (rlen) {
            size_t ml = 0;
            int rc = brs__fix_frame(rbuf, rlen, sizeof rbufs[0], &ml);
            if (rc == BRS__FIX_FRAME_OK) {
                if (ml > sizeof gotbuf)
                    fail("message of %zu bytes too large for the runner", ml);
                memcpy(gotbuf, rbuf, ml);
                memmove(rbuf, rbuf + ml, rlen - ml);
                rlen -= ml;
                if (brs__fix_parse(&got, gotbuf, ml) != BRS_OK)
                    fail("the gateway sent an unreadable message");
                if (getenv("FIX_SCRIPT_TRACE")) /* every message received, for debugging */
                    fprintf(stderr, "%s:%d: < %s\n", script_path, lineno, shown());
                return 1;
            }
            if (rc != BRS__FIX_FRAME_NEED_MORE)
                fail("the gateway sent a garbled message (framer outcome %d)", rc);
        }
        if (fd < 0)
            return -1;
        if (rlen == sizeof rbufs[0])
            fail("receive buffer full");
        int64_t left = (until - brs__monotime_ns()) / 1000000;
        if (left <= 0)
            return 0;
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, (int)left) <= 0)
            return 0;
        ssize_t r = recv(fd, rbuf + rlen, sizeof rbufs[0] - rlen, 0);
        if (r <= 0)
            return -1;
        rlen += (size_t)r;
    }
}

/* Does the last received message match spec? If not, why (in why). */
static int matches(const char *spec, char *why, size_t whylen)
{
    char s[4096];
    snprintf(s, sizeof s, "%s", spec);
    char *save = NULL;
    for (char *tok = strtok_r(s, "|", &save); tok; tok = strtok_r(NULL, "|", &save)) {
        while (*tok == ' ')
            tok++;
        if (!*tok)
            continue;
        if (tok[0] == '!') {
            if (brs__fix_get(&got, (uint32_t)atoi(tok + 1))) {
                snprintf(why, whylen, "tag %s should be absent in %s", tok + 1, shown());
                return 0;
            }
            continue;
        }
        char *eq = strchr(tok, '=');
        if (!eq)
            fail("bad expectation '%s'", tok);
        *eq = 0;
        uint32_t tag = (uint32_t)atoi(tok);
        const char *want = eq + 1;
        char val[2048];
        int have = tag == 35 ? (snprintf(val, sizeof val, "%s", got.msgtype), 1)
                             : brs__fix_str(&got, tag, val, sizeof val);
        if (!have) {
            snprintf(why, whylen, "tag %u missing in %s", tag, shown());
            return 0;
        }
        if (strcmp(want, "*") == 0)
            continue;
        if (want[0] == '~' ? !strstr(val, want + 1) : strcmp(val, want) != 0) {
            snprintf(why, whylen, "tag %u is '%s', want '%s', in %s", tag, val, want, shown());
            return 0;
        }
    }
    return 1;
}

/* The next message must match spec; with skip_heartbeats, Heartbeats that do
 * not match it may come first. */
static void do_expect(const char *spec, int skip_heartbeats)
{
    static char why[4096];
    for (;;) {
        int r = next_msg(5000);
        if (r == 0)
            fail("expected '%s', got nothing within 5 s", spec);
        if (r < 0)
            fail("expected '%s', the connection was closed", spec);
        if (matches(spec, why, sizeof why))
            return;
        if (!skip_heartbeats || strcmp(got.msgtype, "0") != 0)
            fail("%s", why);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fix_script SCRIPT\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    script_path = argv[1];
    brs__fix_msg_init(&got);
    FILE *f = fopen(script_path, "r");
    if (!f) {
        fprintf(stderr, "%s: %s\n", script_path, strerror(errno));
        return 2;
    }
    static char line[1 << 16];
    char *sets[32];
    int nsets = 0, started = 0, ncmds = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
            line[--n] = 0;
        if (n == 0 || line[0] == '#')
            continue;
        if (strncmp(line, "set ", 4) == 0) {
            if (started || nsets == 32)
                fail("'set' after the first command");
            static char setbuf[32][4096];
            snprintf(setbuf[nsets], sizeof setbuf[nsets], "%s", line + 4);
            sets[nsets] = setbuf[nsets];
            nsets++;
            continue;
        }
        if (!started) {
            start_server(sets, nsets);
            started = 1;
        }
        ncmds++;
        if (strcmp(line, "connect") == 0) {
            do_connect();
        } else if (strncmp(line, "use ", 4) == 0) {
            int i = atoi(line + 4);
            if (i < 1 || i > nconn)
                fail("no connection %d", i);
            use(i - 1);
        } else if (line[0] == '>' && strncmp(line, ">raw ", 5) == 0) {
            if (fd < 0)
                do_connect();
            static char out[1 << 16];
            size_t m = expand(line + 5, out, sizeof out);
            send_all(out, m);
        } else if (line[0] == '>') {
            do_send(line);
        } else if (line[0] == '<' && line[1] == 'h') {
            do_expect(line + 2, 1);
        } else if (line[0] == '<') {
            do_expect(line + 1, 0);
        } else if (strncmp(line, "silence ", 8) == 0) {
            int r = next_msg(atoi(line + 8));
            if (r > 0)
                fail("expected silence, got %s", shown());
            if (r < 0)
                fail("expected silence, the connection was closed");
        } else if (strncmp(line, "wait ", 5) == 0) {
            usleep((useconds_t)atoi(line + 5) * 1000);
        } else if (strcmp(line, "disconnect expected") == 0) {
            int r = next_msg(5000);
            if (r > 0)
                fail("expected a disconnect, got %s", shown());
            if (r == 0)
                fail("expected a disconnect, the connection is still open after 5 s");
            close(fd);
            fd = -1;
        } else if (strcmp(line, "close") == 0) {
            if (fd >= 0)
                close(fd);
            fd = -1;
            rlen = 0;
        } else {
            fail("unknown command '%s'", line);
        }
    }
    fclose(f);
    if (ncmds == 0)
        fail("no commands");
    if (!stop()) {
        fprintf(stderr, "%s: FAILED: bourse serve did not exit cleanly after SIGTERM\n",
                script_path);
        return 1;
    }
    printf("%s: %d commands held\n", script_path, ncmds);
    return 0;
}
