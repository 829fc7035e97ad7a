/* lua_pattern.c: the sandbox's string.find/match/gmatch/gsub, written from the
 * Lua 5.4 manual (§6.4, §6.4.1): stock Lua matches in C where the count hook never
 * fires, so this one charges its steps to the instruction budget instead. */
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "lua_internal.h"

enum {
    PAT_MAX_CAPS = 32,   /* LUA_MAXCAPTURES: "too many captures" past it */
    PAT_MAX_DEPTH = 200, /* nested matcher calls before "pattern too complex" */
};

/* Capture lengths that are not lengths. */
#define PAT_OPEN ((ptrdiff_t)-1) /* opened, not closed yet */
#define PAT_POS ((ptrdiff_t)-2)  /* position capture "()" */

/* Steps between two charges when no budget is set (only resets the countdown). */
#define PAT_FREE_CHUNK (1u << 30)

typedef struct pat_cap {
    const char *at;
    ptrdiff_t len;
} pat_cap;

typedef struct pat_state {
    const char *s0, *s_end; /* the subject */
    const char *p_end;      /* end of the pattern */
    lua_State *L;
    brs__lua_strategy *owner;
    uint32_t left;  /* steps until the next charge */
    uint32_t chunk; /* steps charged at a time */
    int depth;
    int ncap;
    pat_cap cap[PAT_MAX_CAPS];
} pat_state;

/* ---- the budget ---------------------------------------------------------- */

static void pat_budget_start(pat_state *m, lua_State *L)
{
    brs__lua_strategy *o = brs__lua_self(L);
    m->L = L;
    m->owner = o;
    if (o->killed)
        brs__lua_budget_kill(L);
    if (o->instr_limit == UINT64_MAX)
        m->chunk = PAT_FREE_CHUNK;
    else /* as often as the hook charges VM instructions: a kill is at most that late */
        m->chunk = o->hook_step > 0 ? (uint32_t)o->hook_step : 1;
    m->left = m->chunk;
}

/* Charge n steps; past the limit the strategy is killed (raises). */
static void pat_charge(pat_state *m, uint64_t n)
{
    brs__lua_strategy *o = m->owner;
    if (o->instr_limit == UINT64_MAX)
        return;
    o->instr_used += n;
    if (o->instr_used > o->instr_limit)
        brs__lua_budget_kill(m->L);
}

/* The countdown ran out: charge a whole chunk. */
static void pat_tick(pat_state *m)
{
    m->left = m->chunk;
    pat_charge(m, m->chunk);
}

/* One step of work: a character class test, a matcher call, a start position. */
#define PAT_STEP(m)                                                                                  \
    do {                                                                                             \
        if (--(m)->left == 0)                                                                        \
            pat_tick(m);                                                                             \
    } while (0)

/* Work proportional to n bytes scanned by memchr/memcmp: about 16 bytes a
 * step (callers scale n up for slower, byte-by-byte loops). */
static void pat_steps(pat_state *m, size_t n)
{
    size_t k = n / 16 + 1;
    while (k >= m->left) {
        k -= m->left;
        pat_tick(m);
    }
    m->left -= (uint32_t)k;
}

/* Charge what the countdown has used since the last whole chunk. */
static void pat_budget_end(pat_state *m)
{
    uint32_t used = m->chunk - m->left;
    m->left = m->chunk;
    pat_charge(m, used);
}

/* ---- single characters ----------------------------------------------------- */

/* Does c belong to the class %cl? An upper-case letter is the complement; any
 * other character after '%' stands for itself. */
static int pat_class_has(int c, int cl)
{
    int in;
    switch (tolower(cl)) {
    case 'a': in = isalpha(c); break;
    case 'c': in = iscntrl(c); break;
    case 'd': in = isdigit(c); break;
    case 'g': in = isgraph(c); break;
    case 'l': in = islower(c); break;
    case 'p': in = ispunct(c); break;
    case 's': in = isspace(c); break;
    case 'u': in = isupper(c); break;
    case 'w': in = isalnum(c); break;
    case 'x': in = isxdigit(c); break;
    case 'z': in = c == 0; break; /* gone from the manual since 5.2, still in stock 5.4 */
    default: return cl == c;
    }
    if (isupper(cl))
        return !in;
    return in != 0;
}

/* Does c belong to the set that opens at p ('[') and closes at close (']')? */
static int pat_set_has(int c, const char *p, const char *close)
{
    int yes = 1;
    const char *q = p + 1;
    if (*q == '^') {
        yes = 0;
        q++;
    }
    while (q < close) {
        if (*q == '%') {
            q++;
            if (pat_class_has(c, (unsigned char)*q))
                return yes;
            q++;
        } else if (q + 2 < close && q[1] == '-') {
            if ((unsigned char)q[0] <= c && c <= (unsigned char)q[2])
                return yes;
            q += 3;
        } else {
            if ((unsigned char)*q == c)
                return yes;
            q++;
        }
    }
    return !yes;
}

/* End of the single-character item at p (a character, '.', %x or a set).
 * Malformed items are found only when the matcher reaches them, as in Lua. */
static const char *pat_item_end(pat_state *m, const char *p)
{
    const char *e = m->p_end;
    char c = *p++;
    if (c == '%') {
        if (p == e)
            luaL_error(m->L, "malformed pattern (ends with '%%')");
        return p + 1;
    }
    if (c == '[') {
        const char *open = p - 1;
        if (p < e && *p == '^')
            p++;
        /* the first member is taken as is (so "[]]" holds ']'); '%' escapes */
        do {
            if (p == e)
                luaL_error(m->L, "malformed pattern (missing ']')");
            c = *p++;
            if (c == '%' && p < e)
                p++;
        } while (p == e || *p != ']');
        if (p - open > 16) /* finding the end of a long set is work too */
            pat_steps(m, (size_t)(p - open) * 4);
        return p + 1;
    }
    return p;
}

/* Does the subject character c match the item p..ep? */
static int pat_single(pat_state *m, int c, const char *p, const char *ep)
{
    PAT_STEP(m);
    switch (*p) {
    case '.': return 1;
    case '%': return pat_class_has(c, (unsigned char)p[1]);
    case '[': /* a set costs its length: a huge one must not be one cheap step */
        if (ep - p > 16)
            pat_steps(m, (size_t)(ep - p) * 4);
        return pat_set_has(c, p, ep - 1);
    default: return (unsigned char)*p == c;
    }
}

/* ---- the matcher ----------------------------------------------------------- */

static const char *pat_match(pat_state *m, const char *s, const char *p);

/* Item p..ep repeated as often as possible from s, then fewer, until the rest
 * of the pattern (after the quantifier at ep) matches. */
static const char *pat_greedy(pat_state *m, const char *s, const char *p, const char *ep)
{
    ptrdiff_t n = 0;
    while (s + n < m->s_end && pat_single(m, (unsigned char)s[n], p, ep))
        n++;
    for (; n >= 0; n--) {
        const char *r = pat_match(m, s + n, ep + 1);
        if (r)
            return r;
    }
    return NULL;
}

/* Item p..ep repeated as few times as possible. */
static const char *pat_lazy(pat_state *m, const char *s, const char *p, const char *ep)
{
    for (;;) {
        const char *r = pat_match(m, s, ep + 1);
        if (r)
            return r;
        if (s < m->s_end && pat_single(m, (unsigned char)*s, p, ep))
            s++;
        else
            return NULL;
    }
}

static const char *pat_open(pat_state *m, const char *s, const char *p, ptrdiff_t kind)
{
    if (m->ncap >= PAT_MAX_CAPS)
        luaL_error(m->L, "too many captures");
    m->cap[m->ncap].at = s;
    m->cap[m->ncap].len = kind;
    m->ncap++;
    const char *r = pat_match(m, s, p);
    if (!r)
        m->ncap--;
    return r;
}

/* ')' closes the innermost capture still open. */
static const char *pat_close(pat_state *m, const char *s, const char *p)
{
    int i = m->ncap - 1;
    while (i >= 0 && m->cap[i].len != PAT_OPEN)
        i--;
    if (i < 0)
        luaL_error(m->L, "invalid pattern capture");
    m->cap[i].len = s - m->cap[i].at;
    const char *r = pat_match(m, s, p);
    if (!r)
        m->cap[i].len = PAT_OPEN;
    return r;
}

/* %bxy at s; p points at x. */
static const char *pat_balance(pat_state *m, const char *s, const char *p)
{
    if (p + 1 >= m->p_end)
        luaL_error(m->L, "malformed pattern (missing arguments to '%%b')");
    if (s >= m->s_end || *s != p[0])
        return NULL;
    char open = p[0], close = p[1];
    int level = 1;
    for (const char *t = s + 1; t < m->s_end; t++) {
        PAT_STEP(m);
        if (*t == close) {
            if (--level == 0)
                return t + 1;
        } else if (*t == open) {
            level++;
        }
    }
    return NULL;
}

/* %1..%9 (and the invalid %0): the text of an earlier, closed capture again. */
static const char *pat_backref(pat_state *m, const char *s, int digit)
{
    int i = digit - '1';
    if (i < 0 || i >= m->ncap || m->cap[i].len == PAT_OPEN)
        luaL_error(m->L, "invalid capture index %%%d", i + 1);
    if (m->cap[i].len == PAT_POS) /* a position is no text: never matches */
        return NULL;
    size_t len = (size_t)m->cap[i].len;
    pat_steps(m, len);
    if ((size_t)(m->s_end - s) >= len && memcmp(m->cap[i].at, s, len) == 0)
        return s + len;
    return NULL;
}

/* Match pattern p..p_end at s: the end of the match, or NULL. Items that end
 * the work at this level loop; quantifiers and captures recurse (bounded). */
static const char *pat_walk(pat_state *m, const char *s, const char *p)
{
    for (;;) {
        if (p == m->p_end)
            return s;
        switch (*p) {
        case '(':
            if (p + 1 < m->p_end && p[1] == ')')
                return pat_open(m, s, p + 2, PAT_POS);
            return pat_open(m, s, p + 1, PAT_OPEN);
        case ')':
            return pat_close(m, s, p + 1);
        case '$':
            if (p + 1 == m->p_end)
                return s == m->s_end ? s : NULL;
            break; /* elsewhere '$' is an ordinary character */
        case '%': {
            int nx = p + 1 < m->p_end ? (unsigned char)p[1] : 0;
            if (nx == 'b') {
                s = pat_balance(m, s, p + 2);
                if (!s)
                    return NULL;
                p += 4;
                continue;
            }
            if (nx == 'f') {
                p += 2;
                if (p == m->p_end || *p != '[')
                    luaL_error(m->L, "missing '[' after '%%f' in pattern");
                const char *ep = pat_item_end(m, p);
                int before = s == m->s0 ? 0 : (unsigned char)s[-1];
                int here = s < m->s_end ? (unsigned char)*s : 0;
                pat_steps(m, (size_t)(ep - p) * 4);
                if (pat_set_has(before, p, ep - 1) || !pat_set_has(here, p, ep - 1))
                    return NULL;
                p = ep;
                continue;
            }
            if (nx >= '0' && nx <= '9') {
                s = pat_backref(m, s, nx);
                if (!s)
                    return NULL;
                p += 2;
                continue;
            }
            break;
        }
        default: break;
        }
        /* a single-character item, maybe with a quantifier */
        const char *ep = pat_item_end(m, p);
        int q = ep < m->p_end ? *ep : 0;
        int hit = s < m->s_end && pat_single(m, (unsigned char)*s, p, ep);
        if (!hit) {
            if (q == '*' || q == '?' || q == '-') { /* zero times will do */
                p = ep + 1;
                continue;
            }
            return NULL;
        }
        switch (q) {
        case '?': {
            const char *r = pat_match(m, s + 1, ep + 1);
            if (r)
                return r;
            p = ep + 1;
            continue;
        }
        case '+': return pat_greedy(m, s + 1, p, ep);
        case '*': return pat_greedy(m, s, p, ep);
        case '-': return pat_lazy(m, s, p, ep);
        default:
            s++;
            p = ep;
            continue;
        }
    }
}

static const char *pat_match(pat_state *m, const char *s, const char *p)
{
    if (++m->depth > PAT_MAX_DEPTH)
        luaL_error(m->L, "pattern too complex");
    PAT_STEP(m);
    const char *r = pat_walk(m, s, p);
    m->depth--;
    return r;
}

/* Match at one start position, with no captures yet. */
static const char *pat_try(pat_state *m, const char *s, const char *p)
{
    m->ncap = 0;
    m->depth = 0;
    return pat_match(m, s, p);
}

/* ---- results ----------------------------------------------------------------- */

/* Push capture i (the whole match s..e when there are no captures and i == 0). */
static void pat_push_cap(pat_state *m, int i, const char *s, const char *e)
{
    if (i >= m->ncap) {
        if (i != 0)
            luaL_error(m->L, "invalid capture index %%%d", i + 1);
        lua_pushlstring(m->L, s, (size_t)(e - s));
        return;
    }
    ptrdiff_t len = m->cap[i].len;
    if (len == PAT_OPEN)
        luaL_error(m->L, "unfinished capture");
    if (len == PAT_POS)
        lua_pushinteger(m->L, (lua_Integer)(m->cap[i].at - m->s0) + 1);
    else
        lua_pushlstring(m->L, m->cap[i].at, (size_t)len);
}

/* Push every capture, or the whole match when there are none (and s is set). */
static int pat_push_caps(pat_state *m, const char *s, const char *e)
{
    int n = (m->ncap == 0 && s) ? 1 : m->ncap;
    luaL_checkstack(m->L, n, "too many captures");
    for (int i = 0; i < n; i++)
        pat_push_cap(m, i, s, e);
    return n;
}

/* ---- find / match ------------------------------------------------------------ */

/* A 1-based start position, negative from the end, clamped below to 1. */
static size_t pat_start(lua_Integer pos, size_t len)
{
    if (pos > 0)
        return (size_t)pos;
    if (pos == 0 || pos < -(lua_Integer)len)
        return 1;
    return len + (size_t)pos + 1;
}

/* find() searches plainly when the pattern holds none of these. */
static int pat_is_plain(const char *p, size_t lp)
{
    static const char specials[] = "^$*+?.([%-";
    for (size_t i = 0; i < lp; i++)
        if (p[i] && memchr(specials, p[i], sizeof specials - 1))
            return 0;
    return 1;
}

/* First occurrence of p (lp bytes) in h (lh bytes). */
static const char *pat_plain_find(pat_state *m, const char *h, size_t lh, const char *p, size_t lp)
{
    if (lp == 0)
        return h;
    if (lp > lh)
        return NULL;
    const char *last = h + (lh - lp); /* the last place p can start */
    const char *at = h;
    while (at <= last) {
        const char *hit = memchr(at, p[0], (size_t)(last - at) + 1);
        if (!hit) {
            pat_steps(m, (size_t)(last - at));
            return NULL;
        }
        pat_steps(m, (size_t)(hit - at) + lp);
        if (memcmp(hit + 1, p + 1, lp - 1) == 0)
            return hit;
        at = hit + 1;
    }
    return NULL;
}

static int pat_find_or_match(lua_State *L, int find)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = pat_start(luaL_optinteger(L, 3, 1), ls);
    if (init > ls + 1) {
        luaL_pushfail(L);
        return 1;
    }
    pat_state m;
    pat_budget_start(&m, L);
    m.s0 = s;
    m.s_end = s + ls;
    pat_steps(&m, lp); /* looking for specials, or at the pattern's first item */
    if (find && (lua_toboolean(L, 4) || pat_is_plain(p, lp))) {
        const char *at = pat_plain_find(&m, s + init - 1, ls - (init - 1), p, lp);
        pat_budget_end(&m);
        if (!at) {
            luaL_pushfail(L);
            return 1;
        }
        lua_pushinteger(L, (lua_Integer)(at - s) + 1);
        lua_pushinteger(L, (lua_Integer)(at - s) + (lua_Integer)lp);
        return 2;
    }
    int anchored = lp > 0 && *p == '^';
    if (anchored) {
        p++;
        lp--;
    }
    m.p_end = p + lp;
    const char *at = s + init - 1;
    do {
        const char *e = pat_try(&m, at, p);
        if (e) {
            pat_budget_end(&m);
            if (!find)
                return pat_push_caps(&m, at, e);
            lua_pushinteger(L, (lua_Integer)(at - s) + 1);
            lua_pushinteger(L, (lua_Integer)(e - s));
            return pat_push_caps(&m, NULL, NULL) + 2;
        }
    } while (at++ < m.s_end && !anchored);
    pat_budget_end(&m);
    luaL_pushfail(L);
    return 1;
}

static int pat_find(lua_State *L) { return pat_find_or_match(L, 1); }
static int pat_match_fn(lua_State *L) { return pat_find_or_match(L, 0); }

/* ---- gmatch ------------------------------------------------------------------ */

/* Where the iteration goes on, as offsets (the strings live in upvalues). */
typedef struct pat_iter {
    size_t next;     /* where the next search starts */
    size_t last_end; /* end of the last match, SIZE_MAX before the first */
} pat_iter;

static int pat_gmatch_next(lua_State *L)
{
    size_t ls, lp;
    const char *s = lua_tolstring(L, lua_upvalueindex(1), &ls);
    const char *p = lua_tolstring(L, lua_upvalueindex(2), &lp);
    pat_iter *it = lua_touserdata(L, lua_upvalueindex(3));
    pat_state m;
    pat_budget_start(&m, L);
    m.s0 = s;
    m.s_end = s + ls;
    m.p_end = p + lp;
    /* '^' is no anchor here: it would stop the iteration; it matches itself */
    for (size_t at = it->next; at <= ls; at++) {
        const char *e = pat_try(&m, s + at, p);
        /* 5.4: an empty match right where the last match ended does not count */
        if (e && (size_t)(e - s) != it->last_end) {
            it->next = it->last_end = (size_t)(e - s);
            pat_budget_end(&m);
            return pat_push_caps(&m, s + at, e);
        }
    }
    it->next = ls + 1; /* nothing more: later calls do no work */
    pat_budget_end(&m);
    return 0;
}

static int pat_gmatch(lua_State *L)
{
    size_t ls;
    luaL_checklstring(L, 1, &ls);
    luaL_checkstring(L, 2);
    size_t init = pat_start(luaL_optinteger(L, 3, 1), ls);
    lua_settop(L, 2);
    pat_iter *it = lua_newuserdatauv(L, sizeof *it, 0);
    it->next = init > ls + 1 ? ls + 1 : init - 1; /* past the end: no matches at all */
    it->last_end = SIZE_MAX;
    lua_pushcclosure(L, pat_gmatch_next, 3);
    return 1;
}

/* ---- gsub -------------------------------------------------------------------- */

/* Append the replacement string (argument 3) for the match s..e: %0 the match,
 * %1..%9 captures, %% a percent sign. */
static void pat_add_string(pat_state *m, luaL_Buffer *b, const char *s, const char *e)
{
    lua_State *L = m->L;
    size_t lr;
    const char *r = lua_tolstring(L, 3, &lr);
    const char *end = r + lr;
    pat_steps(m, lr);
    for (;;) {
        const char *pc = memchr(r, '%', (size_t)(end - r));
        if (!pc)
            break;
        luaL_addlstring(b, r, (size_t)(pc - r));
        int c = pc + 1 < end ? (unsigned char)pc[1] : 0;
        if (c == '%') {
            luaL_addchar(b, '%');
        } else if (c == '0') {
            luaL_addlstring(b, s, (size_t)(e - s));
        } else if (c >= '1' && c <= '9') {
            int i = c - '1';
            if (i < m->ncap && m->cap[i].len >= 0) {
                luaL_addlstring(b, m->cap[i].at, (size_t)m->cap[i].len);
            } else { /* a position, the whole match, or an error */
                pat_push_cap(m, i, s, e);
                luaL_addvalue(b);
            }
        } else {
            luaL_error(L, "invalid use of '%c' in replacement string", '%');
        }
        r = pc + 2;
    }
    luaL_addlstring(b, r, (size_t)(end - r));
}

/* Append the replacement for s..e; 0 when the original text was kept. */
static int pat_add_value(pat_state *m, luaL_Buffer *b, const char *s, const char *e, int tr)
{
    lua_State *L = m->L;
    if (tr == LUA_TFUNCTION) {
        lua_pushvalue(L, 3);
        int n = pat_push_caps(m, s, e);
        lua_call(L, n, 1);
    } else if (tr == LUA_TTABLE) {
        pat_push_cap(m, 0, s, e);
        lua_gettable(L, 3);
    } else {
        pat_add_string(m, b, s, e);
        return 1;
    }
    if (!lua_toboolean(L, -1)) { /* false or nil: keep the match as it was */
        lua_pop(L, 1);
        luaL_addlstring(b, s, (size_t)(e - s));
        return 0;
    }
    if (!lua_isstring(L, -1))
        return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    luaL_addvalue(b);
    return 1;
}

static int pat_gsub(lua_State *L)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    int tr = lua_type(L, 3);
    lua_Integer max_n = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
    luaL_argexpected(L, tr == LUA_TNUMBER || tr == LUA_TSTRING || tr == LUA_TFUNCTION || tr == LUA_TTABLE,
                     3, "string/function/table");
    int anchored = lp > 0 && *p == '^';
    if (anchored) {
        p++;
        lp--;
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    pat_state m;
    pat_budget_start(&m, L);
    m.s0 = s;
    m.s_end = s + ls;
    m.p_end = p + lp;
    const char *at = s, *last_end = NULL;
    lua_Integer n = 0;
    int changed = 0;
    while (n < max_n) {
        const char *e = pat_try(&m, at, p);
        if (e && e != last_end) { /* 5.4: no empty match where the last one ended */
            n++;
            changed |= pat_add_value(&m, &b, at, e, tr);
            at = last_end = e;
        } else if (at < m.s_end) {
            luaL_addchar(&b, *at++);
        } else {
            break;
        }
        if (anchored)
            break;
    }
    pat_budget_end(&m);
    if (!changed) {
        lua_pushvalue(L, 1);
    } else {
        luaL_addlstring(&b, at, (size_t)(m.s_end - at));
        luaL_pushresult(&b);
    }
    lua_pushinteger(L, n);
    return 2;
}

void brs__lua_pattern_install(lua_State *L)
{
    static const luaL_Reg fns[] = {{"find", pat_find},
                                   {"match", pat_match_fn},
                                   {"gmatch", pat_gmatch},
                                   {"gsub", pat_gsub},
                                   {NULL, NULL}};
    luaL_setfuncs(L, fns, 0);
}
