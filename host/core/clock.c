/* clock.c: wall and monotonic clocks, and ISO-8601 time parsing/formatting. */
#include "core.h"

#include <errno.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t brs__realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t brs__monotime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int brs__parse_time(const char *s, int64_t *ns)
{
    if (!s || !*s)
        return BRS_E_PARSE;
    const char *p = s;
    int all_digits = 1;
    for (const char *q = (*p == '-' ? p + 1 : p); *q; q++)
        if (!isdigit((unsigned char)*q))
            all_digits = 0;
    if (all_digits) {
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (*end)
            return BRS_E_PARSE;
        if (errno == ERANGE)
            return BRS_E_RANGE; /* not clamped to INT64_MAX in silence */
        *ns = v;
        return BRS_OK;
    }
    int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
    if (sscanf(p, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || mo < 1 || mo > 12 || d < 1 || d > 31)
        return BRS_E_PARSE;
    p += n;
    int64_t frac = 0;
    if (*p == 'T' || *p == ' ') {
        p++;
        if (sscanf(p, "%2d:%2d:%2d%n", &h, &mi, &sec, &n) != 3 || h > 23 || mi > 59 || sec > 60)
            return BRS_E_PARSE;
        p += n;
        if (*p == '.') {
            p++;
            int digits = 0;
            while (isdigit((unsigned char)*p)) {
                if (digits < 9) {
                    frac = frac * 10 + (*p - '0');
                    digits++;
                }
                p++;
            }
            while (digits++ < 9)
                frac *= 10;
        }
    }
    if (*p == 'Z')
        p++;
    if (*p)
        return BRS_E_PARSE;
    int64_t days = days_from_civil(y, mo, d);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec;
    /* int64 nanoseconds reach 1677-09-21 .. 2262-04-11: beyond, out of range */
    if (secs <= INT64_MIN / 1000000000 || secs >= INT64_MAX / 1000000000)
        return BRS_E_RANGE;
    *ns = secs * 1000000000 + frac;
    return BRS_OK;
}

void brs__format_time(int64_t ns, char *buf, size_t len)
{
    int64_t secs = ns / 1000000000;
    int64_t frac = ns % 1000000000;
    if (frac < 0) {
        frac += 1000000000;
        secs--;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long long)frac);
}
