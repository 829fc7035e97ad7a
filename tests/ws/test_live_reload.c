/* test_live_reload.c: hot reload of a Lua strategy in `bourse live` (issue 17).
 * The replayed feed syncs the book, then stays connected and quiet; the
 * strategy trades on its timer against the paper venue. Mid-run the script is
 * replaced (rename over it): the new version's on_reload gets the old
 * version's table, the position carries over, and the new version trades (it
 * sells what the old one bought). Then a broken edit is written in place: the
 * reload is refused, logged, and the running version keeps trading. At the end
 * the position equals what was bought minus what was sold, and the run's JSON
 * counts one reload and one refusal. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "replay_server.h"
#include "support/subprocess.h"

static const char *const V1 =
    "-- reload test, version 1: buys one lot per timer tick, counts its fills\n"
    "local M = { version = 1, held = 0 }\n"
    "M.params = { lots = { type = 'int', default = 1, min = 1 } }\n"
    "M.on_start = function(ctx) ctx:timer(30000000, 30000000) end\n"
    "M.on_timer = function(ctx) ctx:buy(ctx.params.lots) end\n"
    "M.on_fill = function(ctx, ev)\n"
    "  M.held = M.held + (ev.side == 'buy' and ev.qty or -ev.qty)\n"
    "  ctx:log('v1 bought ' .. M.held)\n"
    "end\n"
    "return M\n";

static const char *const V2 =
    "-- reload test, version 2: takes over the count, sells one lot per tick\n"
    "local M = { version = 2, held = 0, sold = 0, carried = -1 }\n"
    "M.params = { lots = { type = 'int', default = 1, min = 1 } }\n"
    "M.on_reload = function(ctx, old)\n"
    "  M.held, M.carried = old.held, old.held\n"
    "  ctx:log('v2 loaded carried ' .. old.held .. ' position ' .. ctx:position())\n"
    "end\n"
    "M.on_timer = function(ctx)\n"
    "  if ctx:position() > 0 and ctx:sell(1) then\n"
    "    M.sold = M.sold + 1\n"
    "    ctx:log('v2 sold ' .. M.sold)\n"
    "  end\n"
    "end\n"
    "M.on_fill = function(ctx, ev) M.held = M.held + (ev.side == 'buy' and ev.qty or -ev.qty) end\n"
    "M.on_stop = function(ctx)\n"
    "  ctx:log('v2 stop held ' .. M.held .. ' position ' .. ctx:position() .. ' carried ' .. M.carried)\n"
    "end\n"
    "return M\n";

static const char *const BROKEN = "-- a bad edit\nlocal M = {\nM.on_timer = function(ctx) end\n";

static void write_file(const char *path, const char *text, int by_rename)
{
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    const char *p = by_rename ? tmp : path;
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    if (by_rename)
        assert_int_equal(rename(tmp, path), 0);
}

static char *read_all(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return strdup("");
    return slurp(fd);
}

/* Wait up to `secs` for `needle` in the file; returns the file's text (caller frees) or NULL. */
static char *wait_for(const char *path, const char *needle, int secs)
{
    for (int i = 0; i < secs * 20; i++) {
        char *t = read_all(path);
        if (strstr(t, needle))
            return t;
        free(t);
        usleep(50000);
    }
    return NULL;
}

/* The largest N in lines "<prefix>N" of text. */
static long last_count(const char *text, const char *prefix)
{
    long best = -1;
    for (const char *p = text; (p = strstr(p, prefix)) != NULL; p += strlen(prefix)) {
        long n = strtol(p + strlen(prefix), NULL, 10);
        if (n > best)
            best = n;
    }
    return best;
}

/* Print the end of the run's log (cmocka cuts long failure messages). */
static void dump_tail(const char *path)
{
    char *t = read_all(path);
    size_t n = strlen(t);
    fprintf(stderr, "---- end of %s ----\n%s\n----\n", path, n > 4000 ? t + n - 4000 : t);
    free(t);
}

static void test_live_hot_reload(void **st)
{
    (void)st;
    if (!have_python_websockets() || !have_recording())
        skip();
    char dir[] = "/tmp/brs_reload_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cfg[300], script[300], out[300], err[300];
    snprintf(cfg, sizeof cfg, "%s/live.json", dir);
    snprintf(script, sizeof script, "%s/strat.lua", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(err, sizeof err, "%s/err", dir);
    write_file(script, V1, 0);

    server s = {0};
    assert_int_equal(server_start_ex(&s, 1, NULL, NULL, 1), 0); /* sync, then quiet */
    FILE *f = fopen(cfg, "w");
    assert_non_null(f);
    fprintf(f,
            "{\"ws_url\": \"ws://127.0.0.1:%d/stream\",\n"
            " \"rest_url\": \"http://127.0.0.1:%d/fapi/v1/depth?symbol={SYMBOL}&limit=1000\",\n"
            " \"backoff_min_ms\": 50, \"duration_s\": 90,\n"
            " \"symbols\": [{\"symbol\": \"SUSHIUSDT\", \"price_decimals\": 4, \"qty_decimals\": 0}],\n"
            " \"strategy\": {\"file\": \"%s\", \"reload_check_ms\": 50}}\n",
            s.port, s.port, script);
    fclose(f);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600), fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fo, 1);
        dup2(fe, 2);
        execl(BOURSE_BIN, BOURSE_BIN, "live", cfg, "--json", (char *)NULL);
        _exit(127);
    }
    char *t = wait_for(err, "v1 bought 60\n", 60); /* enough for version 2 to sell a while */
    if (!t) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        server_stop(&s);
        dump_tail(err);
        fail_msg("version 1 never bought 60 lots");
    }
    free(t);

    write_file(script, V2, 1); /* an editor's save: a new file renamed over the old */
    t = wait_for(err, "v2 sold 3\n", 30);
    if (!t) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        server_stop(&s);
        dump_tail(err);
        fail_msg("version 2 never loaded or traded");
    }
    /* the position carried over: what version 1 bought is the position version 2 found */
    const char *ln = strstr(t, "v2 loaded carried ");
    assert_non_null(ln);
    long carried = 0, pos = 0;
    assert_int_equal(sscanf(ln, "v2 loaded carried %ld position %ld", &carried, &pos), 2);
    assert_true(carried >= 60);
    assert_int_equal(pos, carried);
    assert_non_null(strstr(t, "strategy reloaded"));
    assert_int_equal(last_count(t, "v1 bought "), carried); /* version 1 is gone after the reload */
    free(t);

    write_file(script, BROKEN, 0); /* a bad edit, in place */
    t = wait_for(err, "strategy reload refused", 30);
    if (!t) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        server_stop(&s);
        dump_tail(err);
        fail_msg("the broken edit was not refused");
    }
    long sold_at_refusal = last_count(t, "v2 sold ");
    free(t);
    /* version 2 keeps trading after the refusal */
    char want[64];
    snprintf(want, sizeof want, "v2 sold %ld\n", sold_at_refusal + 3);
    t = wait_for(err, want, 30);
    if (!t) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        server_stop(&s);
        dump_tail(err);
        fail_msg("version 2 stopped trading after the refused reload");
    }
    free(t);

    kill(pid, SIGINT);
    int status = 0;
    waitpid(pid, &status, 0);
    server_stop(&s);
    char *o = read_all(out), *e = read_all(err);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("bourse live exit %d: %s %s", status, o, e);
    cJSON *j = cJSON_Parse(o);
    if (!j)
        fail_msg("no JSON on stdout: %s / %s", o, e);
    assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(j, "reloads")->valuedouble, 1);
    assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(j, "reloads_refused")->valuedouble, 1);
    assert_null(cJSON_GetObjectItemCaseSensitive(j, "error"));
    const char *stop = strstr(e, "v2 stop held ");
    assert_non_null(stop);
    long held = 0, pos2 = 0, car2 = 0;
    assert_int_equal(sscanf(stop, "v2 stop held %ld position %ld carried %ld", &held, &pos2, &car2), 3);
    assert_int_equal(car2, carried);
    assert_true(last_count(e, "v2 sold ") >= sold_at_refusal + 3);
    /* version 2 followed the position across the reload: what it took over
     * plus its own fills (including an order version 1 left in flight) */
    assert_int_equal(held, pos2);
    assert_true(held <= carried + 1 - (sold_at_refusal + 3));
    cJSON *in0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "instruments"), 0);
    assert_non_null(in0);
    assert_int_equal((long)cJSON_GetObjectItemCaseSensitive(in0, "position")->valuedouble, pos2);
    /* the refusal names the file and says why (a Lua syntax error, with its line) */
    const char *ref = strstr(e, "strategy reload refused");
    assert_non_null(strstr(ref, "strat.lua"));
    cJSON_Delete(j);
    free(o);
    free(e);
    unlink(cfg);
    unlink(script);
    unlink(out);
    unlink(err);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_live_hot_reload)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
