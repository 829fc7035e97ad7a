/* sweep_grid.c: the grid of a sweep and its one combination order. Axes are
 * value lists or ranges (`fast=2:100:1`); a combination is an id in the full
 * product (the last axis varies fastest), so every process that parses the
 * same grid agrees on what combination 1234 is: the basis of sharding, merge
 * and resume. --where filters, --samples draws a seeded random subset. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sweep.h"

static int push_value(brs__sweep_axis *a, const char *v, size_t len, brs_error *err)
{
    if (a->n == BRS__SWEEP_MAX_VALUES)
        return brs__err(err, BRS_E_RANGE, "--grid %s: more than %d values", a->name,
                        BRS__SWEEP_MAX_VALUES);
    if (a->n == a->cap) {
        int cap = a->cap ? a->cap * 2 : 16;
        char **nv = realloc(a->values, (size_t)cap * sizeof *nv);
        if (!nv)
            return brs__err(err, BRS_E_NOMEM, "out of memory");
        a->values = nv;
        double *nn = realloc(a->num, (size_t)cap * sizeof *nn);
        if (!nn)
            return brs__err(err, BRS_E_NOMEM, "out of memory");
        a->num = nn;
        a->cap = cap;
    }
    char *s = strndup(v, len);
    if (!s)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    a->values[a->n] = s;
    a->num[a->n] = (*s && !*end && !errno && isfinite(d)) ? d : NAN;
    a->n++;
    return BRS_OK;
}

static int parse_num(const char *s, size_t len, double *out, int *is_int)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = 0;
    char *end;
    errno = 0;
    *out = strtod(buf, &end);
    *is_int = !strpbrk(buf, ".eEnN");
    return (*end || errno || !isfinite(*out)) ? -1 : 0;
}

/* START:STOP[:STEP], inclusive of STOP when the steps land on it. Integers
 * stay integers; decimals are START + i * STEP printed with 12 significant
 * digits, so 0.1:0.3:0.1 gives 0.1, 0.2, 0.3 (no 0.30000000000000004). */
static int push_range(brs__sweep_axis *a, const char *p, size_t len, brs_error *err)
{
    const char *c1 = memchr(p, ':', len);
    const char *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - p)) : NULL;
    double lo, hi, step = 1;
    int i1, i2, i3 = 1;
    if (parse_num(p, (size_t)(c1 - p), &lo, &i1) ||
        parse_num(c1 + 1, (size_t)((c2 ? c2 : p + len) - c1 - 1), &hi, &i2) ||
        (c2 && parse_num(c2 + 1, (size_t)(p + len - c2 - 1), &step, &i3)))
        return brs__err(err, BRS_E_INVAL, "--grid %s: range '%.*s': expected START:STOP[:STEP] numbers",
                        a->name, (int)len, p);
    if (!(step > 0) || hi < lo)
        return brs__err(err, BRS_E_INVAL, "--grid %s: range '%.*s': needs STEP > 0 and START <= STOP",
                        a->name, (int)len, p);
    double count = floor((hi - lo) / step * (1 + 1e-12) + 1e-9) + 1;
    if (count > BRS__SWEEP_MAX_VALUES)
        return brs__err(err, BRS_E_RANGE, "--grid %s: range '%.*s' has %.0f values, more than %d",
                        a->name, (int)len, p, count, BRS__SWEEP_MAX_VALUES);
    for (long i = 0; i < (long)count; i++) {
        char v[64];
        double x = lo + (double)i * step;
        if (i1 && i2 && i3)
            snprintf(v, sizeof v, "%lld", (long long)llround(x));
        else
            snprintf(v, sizeof v, "%.12g", x);
        int rc = push_value(a, v, strlen(v), err);
        if (rc)
            return rc;
    }
    return BRS_OK;
}

int brs__sweep_axis_add(brs__sweep_grid *g, const char *spec, brs_error *err)
{
    if (g->n_ax == BRS__SWEEP_MAX_AXES)
        return brs__err(err, BRS_E_RANGE, "at most %d --grid axes", BRS__SWEEP_MAX_AXES);
    brs__sweep_axis *a = &g->ax[g->n_ax];
    memset(a, 0, sizeof *a);
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || !eq[1] || (size_t)(eq - spec) >= sizeof a->name)
        return brs__err(err, BRS_E_INVAL, "--grid '%s': expected NAME=V1,V2,... or NAME=START:STOP:STEP",
                        spec);
    memcpy(a->name, spec, (size_t)(eq - spec));
    a->name[eq - spec] = 0;
    for (int i = 0; i < g->n_ax; i++)
        if (!strcmp(g->ax[i].name, a->name))
            return brs__err(err, BRS_E_INVAL, "--grid %s given twice", a->name);
    size_t nl = (size_t)(eq - spec);
    if (memchr(spec, '.', nl) || memchr(spec, '[', nl))
        snprintf(a->key, sizeof a->key, "%.*s", (int)nl, spec);
    else
        snprintf(a->key, sizeof a->key, "strategy.params.%.*s", (int)nl, spec);
    const char *p = eq + 1;
    int rc = BRS_OK;
    while (!rc) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        if (n == 0) {
            rc = brs__err(err, BRS_E_INVAL, "--grid '%s': empty value", spec);
            break;
        }
        /* a range has a ':' and starts like a number (a value like "a:b" stays text) */
        if (memchr(p, ':', n) && (p[0] == '-' || p[0] == '.' || (p[0] >= '0' && p[0] <= '9')))
            rc = push_range(a, p, n, err);
        else
            rc = push_value(a, p, n, err);
        if (!c)
            break;
        p = c + 1;
    }
    g->n_ax++; /* counted even on failure, so brs__sweep_grid_free frees it */
    if (rc)
        return rc;
    uint64_t total = 1;
    for (int i = 0; i < g->n_ax; i++) {
        total *= (uint64_t)g->ax[i].n;
        if (total > BRS__SWEEP_MAX_GRID)
            return brs__err(err, BRS_E_RANGE, "the grid has more than %d combinations",
                            BRS__SWEEP_MAX_GRID);
    }
    g->total = total;
    return BRS_OK;
}

void brs__sweep_grid_free(brs__sweep_grid *g)
{
    for (int i = 0; i < g->n_ax; i++) {
        for (int v = 0; v < g->ax[i].n; v++)
            free(g->ax[i].values[v]);
        free(g->ax[i].values);
        free(g->ax[i].num);
    }
    g->n_ax = 0;
}

void brs__sweep_decode(const brs__sweep_grid *g, uint64_t id, int *idx)
{
    for (int i = g->n_ax - 1; i >= 0; i--) {
        idx[i] = (int)(id % (uint64_t)g->ax[i].n);
        id /= (uint64_t)g->ax[i].n;
    }
}

void brs__sweep_name(const brs__sweep_grid *g, uint64_t id, char *out, size_t cap)
{
    int idx[BRS__SWEEP_MAX_AXES];
    brs__sweep_decode(g, id, idx);
    size_t l = 0;
    out[0] = 0;
    for (int i = 0; i < g->n_ax && l + 1 < cap; i++) {
        snprintf(out + l, cap - l, "%s%s=", i ? "," : "", g->ax[i].name);
        l = strlen(out);
        for (const char *v = g->ax[i].values[idx[i]]; *v && l + 1 < cap; v++)
            out[l++] = (*v == '/' || *v == ' ' || *v == '"' || *v == ',' || *v == '\\') ? '_' : *v;
        out[l] = 0;
    }
    for (char *p = out; *p; p++)
        if (*p == '/' || *p == ' ' || *p == '"')
            *p = '_';
}

/* splitmix64: a small, well-mixed seeded generator; the draw depends only on the seed. */
static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int brs__sweep_select(const brs__sweep_grid *g, const brs__sweep_expr *where, uint64_t samples,
                      uint64_t seed, int shard_i, int shard_n, uint64_t **ids, uint64_t *n,
                      brs_error *err)
{
    *ids = NULL;
    *n = 0;
    uint64_t cap = 1024, cnt = 0;
    uint64_t *v = malloc(cap * sizeof *v);
    if (!v)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    int idx[BRS__SWEEP_MAX_AXES];
    for (uint64_t id = 0; id < g->total; id++) {
        if (where) {
            brs__sweep_decode(g, id, idx);
            if (!brs__sweep_where_eval(where, g, idx))
                continue;
        }
        if (cnt == cap) {
            uint64_t *nv = realloc(v, 2 * cap * sizeof *nv);
            if (!nv) {
                free(v);
                return brs__err(err, BRS_E_NOMEM, "out of memory");
            }
            v = nv;
            cap *= 2;
        }
        v[cnt++] = id;
    }
    if (samples && samples < cnt) {
        /* the first `samples` of a seeded Fisher-Yates shuffle, back in id order */
        uint64_t s = seed;
        for (uint64_t i = 0; i < samples; i++) {
            uint64_t j = i + mix(&s) % (cnt - i);
            uint64_t t = v[i];
            v[i] = v[j];
            v[j] = t;
        }
        cnt = samples;
        qsort(v, cnt, sizeof *v, cmp_u64);
    }
    if (cnt > BRS__SWEEP_MAX_COMBOS) {
        free(v);
        return brs__err(err, BRS_E_RANGE,
                        "%llu combinations, more than %d: narrow the grid, add --where or --samples",
                        (unsigned long long)cnt, BRS__SWEEP_MAX_COMBOS);
    }
    if (shard_n > 0) {
        uint64_t lo = cnt * (uint64_t)(shard_i - 1) / (uint64_t)shard_n;
        uint64_t hi = cnt * (uint64_t)shard_i / (uint64_t)shard_n;
        memmove(v, v + lo, (hi - lo) * sizeof *v);
        cnt = hi - lo;
    }
    *ids = v;
    *n = cnt;
    return BRS_OK;
}
