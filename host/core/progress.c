/* progress.c: a progress line for long commands, shown on a terminal only
 * (quiet when stderr is piped, so logs and scripts stay clean). */
#include "core.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void brs__progress_start(brs_progress *p, const char *label, uint64_t total)
{
    const char *env = getenv("BOURSE_PROGRESS");
    p->label = label;
    p->total = total;
    p->enabled = env ? strcmp(env, "0") != 0 : isatty(STDERR_FILENO);
    p->start_ns = brs__monotime_ns();
    p->next_ns = p->start_ns;
}

void brs__progress_update(brs_progress *p, uint64_t done)
{
    if (!p->enabled)
        return;
    int64_t now = brs__monotime_ns();
    if (now < p->next_ns)
        return;
    p->next_ns = now + 100000000;
    double secs = (double)(now - p->start_ns) / 1e9;
    double rate = secs > 0 ? (double)done / secs : 0;
    if (p->total)
        fprintf(stderr, "\r%s: %5.1f%%  %llu/%llu  %.3g/s  ", p->label,
                100.0 * (double)done / (double)p->total, (unsigned long long)done,
                (unsigned long long)p->total, rate);
    else
        fprintf(stderr, "\r%s: %llu  %.3g/s  ", p->label, (unsigned long long)done, rate);
    fflush(stderr);
}

void brs__progress_finish(brs_progress *p)
{
    if (p->enabled) {
        fprintf(stderr, "\r\033[K");
        fflush(stderr);
    }
}
