/* Failure notifications of replication jobs (docs/monitoring.md).
 *
 * When (notify_decide): as pvesr, a failed run notifies at fail counts 1,
 * 2 and 3 and then only at 48·2^k (48, 96, 192, ...: about 1, 2, 4 days
 * of 30-minute retries); never at fail count 0 (a busy guest lock is not
 * a failure and records nothing). Beyond pvesr: the first good run after a
 * notified failure sends one "recovered" notice, and a failing removal
 * sends one notice (removals retry every few minutes, forever). What was
 * sent is remembered in the job state ("notified", state/state.h), which
 * the engine updates under the state lock at the end of the run.
 *
 * Where: in the process that ran the job (the daemon's worker, `volrep run
 * --mail`), after the guest lock is released, never in the daemon's main
 * loop; every delivery is bounded by volrep.cfg's notify-timeout. A
 * notice that cannot be delivered is logged and changes nothing else:
 * the run's result and state are already recorded.
 *
 * Targets (volrep.cfg): notify-mail (sendmail -t -oi, notify/mail.h) and
 * up to 8 notify-webhook URLs (JSON POST, notify/webhook.h). */
#ifndef VOLREP_NOTIFY_NOTIFY_H
#define VOLREP_NOTIFY_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "base/strbuf.h"
#include "config/volrepcfg.h"

/* NOTIFY_HA_RECOVERED: a guest of a dead node was recovered elsewhere
 * (ha/ha.h); source/target are the old and new owner, error holds the
 * description with the data-loss window. */
enum notify_kind { NOTIFY_NONE, NOTIFY_FAILED, NOTIFY_RECOVERED, NOTIFY_REMOVAL_FAILED, NOTIFY_TEST,
		   NOTIFY_HA_RECOVERED };

struct notify_event {
	enum notify_kind kind;
	const char *job_id;
	uint32_t guest;
	const char *vmtype;    /* "qemu", "lxc" */
	const char *source;    /* node */
	const char *target;    /* node */
	const char *schedule;  /* as configured, NULL = the default */
	int64_t fail_count;
	int64_t last_sync;     /* 0 = never */
	int64_t next_sync;     /* 0 = never, 1 = at once */
	int64_t now;           /* when it happened (epoch) */
	const char *error;     /* NULL when none */
	const char *hostname;
};

/* pvesr's rule: 1..3, then 48·2^k. */
bool notify_failcount_due(int64_t fail_count);

/* What to send after a run, from the state after its end: failed, was it
 * a removal, the fail count and the "notified" value. *notified gets the
 * value to store. */
enum notify_kind notify_decide(bool failed, bool removal, int64_t fail_count, int *notified);

/* Whether cfg names any target. */
bool notify_configured(const struct volrep_cfg *cfg);

/* "Replication Job: '100-0' failed" (pvesr's subject), "... recovered",
 * "... removal failed", "volrep notification test". */
void notify_format_subject(const struct notify_event *ev, struct strbuf *out);
/* The plain-text body (mail, and "message" of the JSON). */
void notify_format_body(const struct notify_event *ev, struct strbuf *out);
/* The JSON body of a webhook in the given format (caller frees). */
char *notify_format_json(const struct notify_event *ev, enum webhook_format fmt, const char *url);
/* A complete mail message (headers and body) to recipients. */
void notify_format_mail(const struct notify_event *ev, const char *recipients, struct strbuf *out);

/* Deliver ev to every target of cfg. Each outcome is one line given to
 * fn ("sent mail to root", "webhook 'URL' failed: ..."), ok = delivered.
 * Returns the number of targets that failed. */
typedef void notify_log_fn(bool ok, const char *msg, void *data);
int notify_send_all(const struct volrep_cfg *cfg, const struct notify_event *ev, notify_log_fn *fn, void *data);

#endif
