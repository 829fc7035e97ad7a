/* suggest.c: "did you mean" for unknown commands, options and configuration
 * keys: the closest candidate by edit distance (adjacent swaps count as one),
 * offered only when it is close enough to be a likely typo. */
#include "core.h"

#include <ctype.h>
#include <string.h>

/* Optimal string alignment distance, case-insensitive, capped at 64 bytes. */
static int distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 64 || m > 64)
        return 1000;
    int d[65][65];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            int cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            int v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v)
                v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    return d[n][m];
}

void brs__suggest_init(brs_suggest *s, const char *word)
{
    s->word = word;
    s->best = NULL;
    s->best_d = 1000;
}

void brs__suggest_add(brs_suggest *s, const char *cand)
{
    if (!cand || !s->word)
        return;
    int d = distance(s->word, cand);
    /* a third of the word's length, at least 1, never the whole candidate */
    size_t len = strlen(s->word);
    int limit = len >= 6 ? (int)(len / 3) : (len >= 3 ? 1 : 0);
    if (limit < 1 && len >= 2)
        limit = 1;
    if (d > limit || d >= (int)strlen(cand) || !strcmp(s->word, cand))
        return;
    if (d < s->best_d) { /* 0: the same word in another case */
        s->best_d = d;
        s->best = cand;
    }
}

const char *brs__suggest_best(const brs_suggest *s) { return s->best; }

const char *brs__closest(const char *word, const char *const *cands)
{
    brs_suggest s;
    brs__suggest_init(&s, word);
    for (; cands && *cands; cands++)
        brs__suggest_add(&s, *cands);
    return s.best;
}
