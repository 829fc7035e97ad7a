/* sweep_where.c: the `--where` constraint of a sweep, e.g. 'fast < slow' or
 * 'slow - fast >= 5 and (stop == 0 or stop > 1.5)'. A small evaluator that can
 * only compute: numbers, grid axis names, + - * / %, comparisons (< <= > >=
 * == != =), and/or/not (&& || !) and parentheses. Nothing else is reachable
 * from the text, input is bounded (length, nodes, depth), and every error
 * names the position. Division by zero gives NaN, and a comparison with NaN is
 * false. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sweep.h"

#define MAX_NODES 512
#define MAX_DEPTH 64

enum { N_NUM, N_AXIS, N_NEG, N_NOT, N_ADD, N_SUB, N_MUL, N_DIV, N_MOD, N_LT, N_LE, N_GT, N_GE,
       N_EQ, N_NE, N_AND, N_OR };

typedef struct node {
    int op;
    int a, b;    /* children */
    double num;  /* N_NUM */
    int axis;    /* N_AXIS */
} node;

struct brs__sweep_expr {
    node n[MAX_NODES];
    int count, root;
};

typedef struct parser {
    const char *text, *p;
    const brs__sweep_grid *g;
    brs__sweep_expr *e;
    brs_error *err;
    int depth, failed;
} parser;

static int fail(parser *ps, const char *what)
{
    if (!ps->failed)
        brs__err(ps->err, BRS_E_INVAL, "--where '%s': %s at position %d", ps->text, what,
                 (int)(ps->p - ps->text) + 1);
    ps->failed = 1;
    return -1;
}

static int mk(parser *ps, int op, int a, int b)
{
    if (ps->failed)
        return -1;
    if (ps->e->count == MAX_NODES)
        return fail(ps, "expression too long");
    node *n = &ps->e->n[ps->e->count];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->a = a;
    n->b = b;
    return ps->e->count++;
}

static void ws(parser *ps)
{
    while (isspace((unsigned char)*ps->p))
        ps->p++;
}

/* the operator at p when it is `s` (words only as whole words) */
static int eat(parser *ps, const char *s)
{
    ws(ps);
    size_t l = strlen(s);
    if (strncmp(ps->p, s, l))
        return 0;
    if (isalpha((unsigned char)s[0]) && (isalnum((unsigned char)ps->p[l]) || ps->p[l] == '_'))
        return 0;
    ps->p += l;
    return 1;
}

static int p_or(parser *ps);

static int is_name_char(int c) { return isalnum(c) || c == '_' || c == '.' || c == '[' || c == ']'; }

static int p_primary(parser *ps)
{
    ws(ps);
    if (ps->failed)
        return -1;
    if (eat(ps, "(")) {
        int x = p_or(ps);
        if (!eat(ps, ")"))
            return fail(ps, "expected ')'");
        return x;
    }
    const char *s = ps->p;
    if (isdigit((unsigned char)*s) || (*s == '.' && isdigit((unsigned char)s[1]))) {
        char *end;
        double v = strtod(s, &end);
        if (!isfinite(v))
            return fail(ps, "bad number");
        ps->p = end;
        int k = mk(ps, N_NUM, -1, -1);
        if (k >= 0)
            ps->e->n[k].num = v;
        return k;
    }
    if (isalpha((unsigned char)*s) || *s == '_') {
        const char *t = s;
        while (is_name_char((unsigned char)*t))
            t++;
        for (int i = 0; i < ps->g->n_ax; i++) {
            const brs__sweep_axis *a = &ps->g->ax[i];
            if (strlen(a->name) != (size_t)(t - s) || strncmp(a->name, s, (size_t)(t - s)))
                continue;
            for (int v = 0; v < a->n; v++)
                if (isnan(a->num[v])) {
                    brs__err(ps->err, BRS_E_INVAL,
                             "--where '%s': %s has the value '%s', which is not a number",
                             ps->text, a->name, a->values[v]);
                    ps->failed = 1;
                    return -1;
                }
            ps->p = t;
            int k = mk(ps, N_AXIS, -1, -1);
            if (k >= 0)
                ps->e->n[k].axis = i;
            return k;
        }
        char msg[200];
        snprintf(msg, sizeof msg, "'%.*s' is not a --grid name", (int)(t - s > 60 ? 60 : t - s), s);
        return fail(ps, msg);
    }
    return fail(ps, *s ? "expected a number, a grid name or '('" : "unexpected end");
}

static int p_unary(parser *ps)
{
    if (++ps->depth > MAX_DEPTH)
        return fail(ps, "nested too deeply");
    int x;
    if (eat(ps, "-"))
        x = mk(ps, N_NEG, p_unary(ps), -1);
    else if (eat(ps, "+"))
        x = p_unary(ps);
    else
        x = p_primary(ps);
    ps->depth--;
    return x;
}

static int p_prod(parser *ps)
{
    int x = p_unary(ps);
    for (;;) {
        if (eat(ps, "*"))
            x = mk(ps, N_MUL, x, p_unary(ps));
        else if (eat(ps, "/"))
            x = mk(ps, N_DIV, x, p_unary(ps));
        else if (eat(ps, "%"))
            x = mk(ps, N_MOD, x, p_unary(ps));
        else
            return x;
    }
}

static int p_sum(parser *ps)
{
    int x = p_prod(ps);
    for (;;) {
        if (eat(ps, "+"))
            x = mk(ps, N_ADD, x, p_prod(ps));
        else if (eat(ps, "-"))
            x = mk(ps, N_SUB, x, p_prod(ps));
        else
            return x;
    }
}

static int p_cmp(parser *ps)
{
    int x = p_sum(ps);
    static const struct { const char *s; int op; } ops[] = {
        {"<=", N_LE}, {">=", N_GE}, {"==", N_EQ}, {"!=", N_NE}, {"<", N_LT}, {">", N_GT}, {"=", N_EQ}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (eat(ps, ops[i].s))
            return mk(ps, ops[i].op, x, p_sum(ps));
    return x;
}

static int p_not(parser *ps)
{
    if (++ps->depth > MAX_DEPTH)
        return fail(ps, "nested too deeply");
    int x;
    if (eat(ps, "not") || (!(ws(ps), ps->p[0] == '!' && ps->p[1] == '=') && eat(ps, "!")))
        x = mk(ps, N_NOT, p_not(ps), -1);
    else
        x = p_cmp(ps);
    ps->depth--;
    return x;
}

static int p_and(parser *ps)
{
    int x = p_not(ps);
    while (eat(ps, "and") || eat(ps, "&&"))
        x = mk(ps, N_AND, x, p_not(ps));
    return x;
}

static int p_or(parser *ps)
{
    if (++ps->depth > MAX_DEPTH)
        return fail(ps, "nested too deeply");
    int x = p_and(ps);
    while (eat(ps, "or") || eat(ps, "||"))
        x = mk(ps, N_OR, x, p_and(ps));
    ps->depth--;
    return x;
}

int brs__sweep_where_parse(brs__sweep_expr **out, const char *text, const brs__sweep_grid *g,
                           brs_error *err)
{
    *out = NULL;
    if (strlen(text) > 4096)
        return brs__err(err, BRS_E_INVAL, "--where: longer than 4096 characters");
    brs__sweep_expr *e = calloc(1, sizeof *e);
    if (!e)
        return brs__err(err, BRS_E_NOMEM, "out of memory");
    parser ps = {.text = text, .p = text, .g = g, .e = e, .err = err};
    e->root = p_or(&ps);
    ws(&ps);
    if (!ps.failed && *ps.p)
        fail(&ps, "unexpected text");
    if (ps.failed) {
        free(e);
        return BRS_E_INVAL;
    }
    *out = e;
    return BRS_OK;
}

static double ev(const brs__sweep_expr *e, int k, const brs__sweep_grid *g, const int *idx)
{
    const node *n = &e->n[k];
    double a, b;
    switch (n->op) {
    case N_NUM: return n->num;
    case N_AXIS: return g->ax[n->axis].num[idx[n->axis]];
    case N_NEG: return -ev(e, n->a, g, idx);
    case N_NOT: a = ev(e, n->a, g, idx); return (a != 0 && !isnan(a)) ? 0 : 1;
    case N_AND:
        a = ev(e, n->a, g, idx);
        if (!(a != 0 && !isnan(a)))
            return 0;
        b = ev(e, n->b, g, idx);
        return b != 0 && !isnan(b);
    case N_OR:
        a = ev(e, n->a, g, idx);
        if (a != 0 && !isnan(a))
            return 1;
        b = ev(e, n->b, g, idx);
        return b != 0 && !isnan(b);
    default: break;
    }
    a = ev(e, n->a, g, idx);
    b = ev(e, n->b, g, idx);
    switch (n->op) {
    case N_ADD: return a + b;
    case N_SUB: return a - b;
    case N_MUL: return a * b;
    case N_DIV: return b == 0 ? NAN : a / b;
    case N_MOD: return b == 0 ? NAN : fmod(a, b);
    case N_LT: return a < b;
    case N_LE: return a <= b;
    case N_GT: return a > b;
    case N_GE: return a >= b;
    case N_EQ: return a == b;
    case N_NE: return !isnan(a) && !isnan(b) && a != b;
    default: return NAN;
    }
}

int brs__sweep_where_eval(const brs__sweep_expr *e, const brs__sweep_grid *g, const int *idx)
{
    double v = ev(e, e->root, g, idx);
    return v != 0 && !isnan(v);
}

void brs__sweep_where_free(brs__sweep_expr *e) { free(e); }
