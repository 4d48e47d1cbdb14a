/* Fuzz target: arbitrary bytes as volrep.cfg (volrep_cfg_parse,
 * src/config/volrepcfg.h).
 * Invariants checked (abort on violation):
 *  - a failure explains itself as "<name>:<line>: ..." and leaves the
 *    settings untouched;
 *  - accepted settings are within their documented limits;
 *  - parse -> format -> parse gives the same settings, and formatting is
 *    then stable. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "config/volrepcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_limits(const struct volrep_cfg *c)
{
	if (c->max_workers < 1 || c->max_workers > VOLREP_CFG_WORKERS_LIMIT)
		abort();
	if (c->max_per_target < 1 || c->max_per_target > VOLREP_CFG_WORKERS_LIMIT)
		abort();
	if (c->shutdown_grace > VOLREP_CFG_GRACE_LIMIT)
		abort();
	if (c->stall_timeout < 1 || c->stall_timeout > VOLREP_CFG_GRACE_LIMIT)
		abort();
	/* none, or 1..1e6 MB/s (never NaN or infinite) */
	if (c->bwlimit != 0 && !(c->bwlimit >= 1 && c->bwlimit <= 1e6))
		abort();
	if (c->nwebhooks > VOLREP_CFG_WEBHOOKS_MAX || c->log_keep > VOLREP_CFG_LOG_KEEP_LIMIT ||
	    c->notify_timeout < 1 || c->notify_timeout > VOLREP_CFG_NOTIFY_TIMEOUT_LIMIT || c->max_lag < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct volrep_cfg cfg, before, again;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT, out2 = STRBUF_INIT;

	memset(&cfg, 0x5a, sizeof(cfg));
	volrep_cfg_init(&cfg);
	before = cfg;
	if (volrep_cfg_parse(&cfg, "fuzz.cfg", (const char *)data, size, &err) == 0) {
		check_limits(&cfg);
		volrep_cfg_format(&cfg, &out);
		volrep_cfg_init(&again);
		if (volrep_cfg_parse(&again, "fuzz.cfg", out.buf, out.len, NULL) != 0)
			abort();
		if (again.max_workers != cfg.max_workers || again.max_per_target != cfg.max_per_target ||
		    again.bwlimit != cfg.bwlimit || again.shutdown_grace != cfg.shutdown_grace ||
		    memcmp(&again, &cfg, sizeof(cfg)))
			abort();
		volrep_cfg_format(&again, &out2);
		if (strcmp(out.buf, out2.buf))
			abort();
	} else {
		if (strncmp(err.buf, "fuzz.cfg:", 9) || memcmp(&cfg, &before, sizeof(cfg)))
			abort();
	}
	strbuf_release(&err);
	strbuf_release(&out);
	strbuf_release(&out2);
	return 0;
}
