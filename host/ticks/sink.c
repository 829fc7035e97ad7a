/* sink.c: where importers put their events. The tick file needs the whole
 * instrument table before its first event, and importers learn instruments as
 * they go, so events wait here: up to buf_max in memory, the rest in an
 * unlinked temporary file next to the output (memory stays bounded however
 * long the input; a crash leaves nothing behind). brs__sink_write replays them
 * into the writer in the order added, so spilling never changes the output. */
#include "ticks/import.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UNRESOLVED UINT32_MAX

static const char *spill_dir(const brs_import_sink *s)
{
    return s->spill_dir && s->spill_dir[0] ? s->spill_dir : ".";
}

/* An unlinked temporary file in dir, or -1 with errno set. */
static int temp_in(const char *dir) { return brs__temp_fd(dir, "bourse-import"); }

/* Next to the output first (same file system, usually the most room); when
 * that directory takes no files (the output is /dev/stdout, say), $TMPDIR or
 * /tmp. */
static int spill_open(brs_import_sink *s, brs_error *err)
{
    const char *dir = spill_dir(s);
    int fd = temp_in(dir);
    int e = errno;
    if (fd < 0) {
        const char *tmp = getenv("TMPDIR");
        if (!tmp || !*tmp)
            tmp = "/tmp";
        if ((fd = temp_in(tmp)) < 0)
            return brs__err(err, BRS_E_IO,
                            "cannot create the import's temporary spill file (about 64 bytes per "
                            "event) in %s (the output's directory: %s) nor in %s: %s",
                            dir, strerror(e), tmp, strerror(errno));
        s->spill_dir = tmp;
    }
    s->spill = fdopen(fd, "w+b");
    if (!s->spill) {
        e = errno;
        close(fd);
        return brs__err(err, BRS_E_IO, "temporary spill file in %s: %s", spill_dir(s), strerror(e));
    }
    return BRS_OK;
}

/* Move the buffered events to the spill file (raw records, this process
 * reads them back). */
static int spill(brs_import_sink *s, brs_error *err)
{
    if (!s->spill) {
        int rc = spill_open(s, err);
        if (rc)
            return rc;
    }
    if (s->n && fwrite(s->ev, sizeof *s->ev, s->n, s->spill) != s->n)
        return brs__err(err, BRS_E_IO, "temporary spill file in %s: write failed after %llu events: %s",
                        spill_dir(s), (unsigned long long)s->spilled, strerror(errno));
    s->spilled += s->n;
    s->n = 0;
    return BRS_OK;
}

int brs__sink_add(brs_import_sink *s, const brs_market_event *e, brs_error *err)
{
    size_t max = s->buf_max ? s->buf_max : BRS_IMPORT_BUF_DEFAULT;
    if (s->n == s->cap) {
        if (s->cap >= max) {
            int rc = spill(s, err);
            if (rc)
                return rc;
        } else {
            size_t nc = s->cap ? s->cap * 2 : 4096;
            if (nc > max)
                nc = max;
            brs_market_event *ne = realloc(s->ev, nc * sizeof *ne);
            if (!ne)
                return brs__err(err, BRS_E_NOMEM, "out of memory (%zu events)", s->n);
            s->ev = ne;
            s->cap = nc;
        }
    }
    s->ev[s->n++] = *e;
    s->total++;
    return BRS_OK;
}

int brs__sink_instrument(brs_import_sink *s, const char *symbol, int64_t price_scale,
                         int64_t tick_size, int64_t lot_size, uint32_t *index, brs_error *err)
{
    for (uint32_t i = 0; i < s->n_instr; i++)
        if (strcmp(s->instr[i].symbol, symbol) == 0) {
            *index = i;
            return BRS_OK;
        }
    size_t len = strlen(symbol);
    if (len == 0 || len >= BRS_SYMBOL_MAX)
        return brs__err(err, BRS_E_INVAL, "symbol '%s' must be 1..%d characters", symbol, BRS_SYMBOL_MAX - 1);
    for (size_t i = 0; i < len; i++)
        if (symbol[i] <= ' ' || symbol[i] > '~' || symbol[i] == ',' || symbol[i] == '"')
            return brs__err(err, BRS_E_INVAL, "symbol '%s' has a character that is not printable ASCII", symbol);
    if (s->n_instr == BRS_TICK_MAX_INSTRUMENTS)
        return brs__err(err, BRS_E_LIMIT, "more than %u instruments", BRS_TICK_MAX_INSTRUMENTS);
    if (s->n_instr == s->instr_cap) {
        uint32_t nc = s->instr_cap ? s->instr_cap * 2 : 8;
        brs_instrument *ni = realloc(s->instr, nc * sizeof *ni);
        if (!ni)
            return brs__err(err, BRS_E_NOMEM, "out of memory");
        s->instr = ni;
        s->instr_cap = nc;
    }
    brs_instrument *in = &s->instr[s->n_instr];
    memset(in, 0, sizeof *in);
    in->id = s->n_instr;
    memcpy(in->symbol, symbol, len + 1);
    in->price_scale = price_scale;
    in->tick_size = tick_size > 0 ? tick_size : 1;
    in->lot_size = lot_size > 0 ? lot_size : 1;
    *index = s->n_instr++;
    return BRS_OK;
}

int brs__sink_late_set(brs_import_sink *s, uint32_t k, uint32_t index, brs_error *err)
{
    if (k >= BRS_SINK_LATE)
        return brs__err(err, BRS_E_LIMIT, "too many provisional instruments");
    if (k >= s->late_cap) {
        uint32_t nc = s->late_cap ? s->late_cap : 16;
        while (nc <= k)
            nc *= 2;
        uint32_t *nl = realloc(s->late, nc * sizeof *nl);
        if (!nl)
            return brs__err(err, BRS_E_NOMEM, "out of memory");
        for (uint32_t i = s->late_cap; i < nc; i++)
            nl[i] = UNRESOLVED;
        s->late = nl;
        s->late_cap = nc;
    }
    s->late[k] = index;
    if (k >= s->n_late)
        s->n_late = k + 1;
    /* the events still in memory get their final id now */
    for (size_t i = 0; i < s->n; i++)
        if (s->ev[i].instrument == BRS_SINK_LATE + k)
            s->ev[i].instrument = index;
    return BRS_OK;
}

static int resolve(const brs_import_sink *s, brs_market_event *e, brs_error *err)
{
    if (e->instrument < BRS_SINK_LATE)
        return BRS_OK;
    uint32_t k = e->instrument - BRS_SINK_LATE;
    if (k >= s->late_cap || s->late[k] == UNRESOLVED)
        return brs__err(err, BRS_E_STATE, "internal: event with unresolved provisional instrument %u", k);
    e->instrument = s->late[k];
    return BRS_OK;
}

int brs__sink_write(brs_import_sink *s, const char *out, const brs_tick_writer_opts *wo, brs_error *err)
{
    if (s->total == 0)
        return brs__err(err, BRS_E_INVAL, "no events in the input");
    int rc = BRS_OK;
    if (s->spill) { /* the rest goes after what spilled, then read it all back */
        rc = spill(s, err);
        if (!rc && (fflush(s->spill) != 0 || fseek(s->spill, 0, SEEK_SET) != 0))
            rc = brs__err(err, BRS_E_IO, "temporary spill file in %s: %s", spill_dir(s), strerror(errno));
        if (rc)
            return rc;
    }
    brs_tick_writer *w = NULL;
    rc = brs__tick_writer_open(&w, out, s->instr, s->n_instr, wo, err);
    if (!s->spill) {
        for (size_t i = 0; !rc && i < s->n; i++)
            if (!(rc = resolve(s, &s->ev[i], err)))
                rc = brs__tick_writer_add(w, &s->ev[i], err);
    } else {
        /* s->ev is free again: it is the read buffer */
        uint64_t left = s->spilled;
        while (!rc && left) {
            size_t want = left < s->cap ? (size_t)left : s->cap;
            size_t k = fread(s->ev, sizeof *s->ev, want, s->spill);
            if (k == 0) {
                rc = ferror(s->spill)
                         ? brs__err(err, BRS_E_IO, "temporary spill file in %s: read failed: %s",
                                    spill_dir(s), strerror(errno))
                         : brs__err(err, BRS_E_IO, "temporary spill file in %s: ends after %llu of %llu events",
                                    spill_dir(s), (unsigned long long)(s->spilled - left),
                                    (unsigned long long)s->spilled);
                break;
            }
            for (size_t i = 0; !rc && i < k; i++)
                if (!(rc = resolve(s, &s->ev[i], err)))
                    rc = brs__tick_writer_add(w, &s->ev[i], err);
            left -= k;
        }
    }
    if (w)
        rc = rc ? (brs__tick_writer_abort(w), rc) : brs__tick_writer_close(w, err);
    return rc;
}

void brs__sink_free(brs_import_sink *s)
{
    free(s->ev);
    free(s->instr);
    free(s->late);
    if (s->spill)
        fclose(s->spill);
    s->ev = NULL;
    s->instr = NULL;
    s->late = NULL;
    s->spill = NULL;
    s->n = s->cap = 0;
    s->n_instr = s->instr_cap = 0;
    s->n_late = s->late_cap = 0;
}
