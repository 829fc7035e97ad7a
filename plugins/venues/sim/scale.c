/* scale.c: see scale.h. */
#include "scale.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int simx_init(simx *x, double k)
{
    memset(x, 0, sizeof *x);
    x->k = k;
    x->cap = 1024;
    x->t = calloc(x->cap, sizeof *x->t);
    return x->t ? 0 : -1;
}

void simx_free(simx *x)
{
    free(x->t);
    memset(x, 0, sizeof *x);
}

int64_t simx_scale(const simx *x, int64_t u)
{
    if (u <= 0)
        return 0;
    double v = (double)u * x->k;
    if (v >= 9.2e18)
        return INT64_MAX;
    int64_t r = llround(v);
    return r < 1 ? 1 : r;
}

static uint32_t slot(const simx *x, uint64_t id)
{
    return (uint32_t)((id * 0x9e3779b97f4a7c15ull) >> 32) & (x->cap - 1);
}

static simx_order *find(simx *x, uint64_t id)
{
    for (uint32_t i = slot(x, id);; i = (i + 1) & (x->cap - 1)) {
        if (x->t[i].id == id)
            return &x->t[i];
        if (!x->t[i].id)
            return NULL;
    }
}

static void drop(simx *x, simx_order *o)
{
    uint32_t i = (uint32_t)(o - x->t), j = i;
    x->t[i].id = 0;
    x->n--;
    for (;;) {
        j = (j + 1) & (x->cap - 1);
        if (!x->t[j].id)
            return;
        uint32_t h = slot(x, x->t[j].id);
        /* move j back to i unless its home lies cyclically in (i, j] */
        int stays = i <= j ? (h > i && h <= j) : (h > i || h <= j);
        if (!stays) {
            x->t[i] = x->t[j];
            x->t[j].id = 0;
            i = j;
        }
    }
}

static int grow(simx *x)
{
    uint32_t nc = x->cap * 2;
    simx_order *nt = calloc(nc, sizeof *nt);
    if (!nt)
        return -1;
    simx_order *old = x->t;
    uint32_t oc = x->cap;
    x->t = nt;
    x->cap = nc;
    for (uint32_t i = 0; i < oc; i++)
        if (old[i].id) {
            uint32_t j = slot(x, old[i].id);
            while (x->t[j].id)
                j = (j + 1) & (x->cap - 1);
            x->t[j] = old[i];
        }
    free(old);
    return 0;
}

int64_t simx_add(simx *x, uint64_t id, int64_t u)
{
    int64_t q = simx_scale(x, u);
    simx_order *o = find(x, id);
    if (o) {
        if (u <= 0) {
            drop(x, o);
            return 0;
        }
        o->u = u;
        o->q = q;
        return q;
    }
    if (u <= 0 || ((x->n + 1) * 2 > x->cap && grow(x) != 0))
        return q;
    uint32_t i = slot(x, id);
    while (x->t[i].id)
        i = (i + 1) & (x->cap - 1);
    x->t[i] = (simx_order){id, u, q};
    x->n++;
    return q;
}

int64_t simx_take(simx *x, uint64_t id, int64_t dx)
{
    simx_order *o = find(x, id);
    if (!o)
        return simx_scale(x, dx);
    if (dx <= 0)
        return 0;
    int64_t u = o->u > dx ? o->u - dx : 0;
    int64_t q = simx_scale(x, u);
    int64_t gone = o->q - q;
    if (u == 0)
        drop(x, o);
    else {
        o->u = u;
        o->q = q;
    }
    return gone;
}

int64_t simx_remove(simx *x, uint64_t id, int64_t dx)
{
    simx_order *o = find(x, id);
    if (!o)
        return simx_scale(x, dx);
    int64_t q = o->q;
    drop(x, o);
    return q;
}
