/* Replication metrics of this node in the Prometheus text exposition
 * format (docs/monitoring.md): what `volrep metrics` prints and the
 * daemon serves as GET /metrics. Names and meaning follow
 * prometheus-pve-exporter's pve_replication_* where it has one, so alert
 * rules carry over by renaming the prefix.
 *
 * The values come from the same place as `volrep status --output-format
 * json` (sched/jobstatus.h over the config and the node-local state), so
 * both always agree. Also the staleness rule shared with `volrep status`:
 * a job is stale when its last sync is older than max-lag (volrep.cfg),
 * or twice its schedule's interval when max-lag is 0. */
#ifndef VOLREP_METRICS_METRICS_H
#define VOLREP_METRICS_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/strbuf.h"
#include "config/context.h"

/* What only the daemon knows; NULL outside it. */
struct metrics_daemon {
	unsigned workers_running;
};

/* The seconds between the two schedule events after now (NULL: the
 * default schedule), 0 when it has fewer than two left or does not
 * parse. */
int64_t metrics_interval(const char *schedule, int64_t now);

/* The lag allowed before a replica is stale: max_lag when set, else twice
 * the interval (0: no limit known). */
int64_t metrics_lag_limit(long long max_lag, int64_t interval);

/* Stale: synced once, and longer ago than limit (> 0). A job that never
 * synced is not stale (lag unknown); its failures show in fail_count. */
bool metrics_is_stale(int64_t last_sync, int64_t limit, int64_t now);

/* Append the exposition text to out. Returns 0, or -errno with the reason
 * in err when the config or the state cannot be read: out then still
 * holds a valid exposition with volrep_up 0. */
int metrics_render(const struct context *ctx, const struct metrics_daemon *d, struct strbuf *out,
		   struct strbuf *err);

#endif
