/* feed_log.c: the log lines of the live feed session for `bourse record` and
 * `bourse live`, through host/core/log.h (kept out of cmd_live.c, which sees
 * the plugin API's log levels). Every reconnect attempt is one warning with
 * its attempt number and delay, so a dead endpoint and the backoff both show. */
#include "core/log.h"
#include "record/feed_config.h"

void brs__feed_log(const char *component, int quiet, int level, const char *msg)
{
    if (level >= BRS_LOG_WARN || !quiet)
        BRS_LOG0((brs__log_level)level, component, msg);
}

void brs__feed_log_retry(const char *component, uint64_t attempt, int64_t delay_ns, const char *why)
{
    BRS_LOG(BRS_LOG_WARN, component, "feed disconnected, reconnecting", BRS_KV_U("attempt", attempt),
            BRS_KV_I("delay_ms", delay_ns / 1000000), BRS_KV_S("error", why));
}
