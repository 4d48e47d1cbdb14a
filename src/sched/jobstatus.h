/* The job view: which replication jobs belong to this node, with their
 * state and when they are due (pvesr job_status, docs/pvesr-compat.md
 * §3.3). One implementation for `volrep status`, `volrep run`, the
 * daemon and the API.
 *
 * A scheduling pass loads it once (config + fixed sources + purged state
 * + next_sync) and decides from it alone (sched/pass.h):
 *
 *   struct job_view v = JOB_VIEW_INIT;
 *   if (job_view_load(&v, ctx, JOB_VIEW_PURGE, &err) < 0) ...
 *   for (i = 0; i < v.js.nr; i++) v.js.v[i].job, .guest, .state, .next_sync
 *   job_view_release(&v);
 *
 * Front ends that hold their own config use the steps directly:
 *
 *   job_status_fix_sources(&cc, ctx->config_dir, ctx->node, &err);  (writes)
 *   struct job_status js = JOB_STATUS_INIT;
 *   job_status_collect(&js, &cc, st, ctx->node, 0);
 *   job_status_release(&js);
 */
#ifndef VOLREP_SCHED_JOBSTATUS_H
#define VOLREP_SCHED_JOBSTATUS_H

#include <stdbool.h>

#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"
#include "base/strvec.h"
#include "config/cluster.h"
#include "config/context.h"
#include "state/state.h"

struct job_entry {
	const struct repl_job *job;  /* points into cc->jobs */
	const struct guest *guest;   /* points into cc->guests */
	struct job_state state;      /* defaults when the job has none */
	int has_state;               /* 1 when the state file has an entry */
	int64_t next_sync;           /* 0 = never, 1 = at once */
	bool target_online;          /* the target is a node of nodes.cfg */
};

struct job_status {
	struct job_entry *v; /* in job id order */
	size_t nr, alloc;
};
#define JOB_STATUS_INIT { .v = NULL, .nr = 0, .alloc = 0 }

/* Include disabled jobs (the status display). */
#define JOB_STATUS_DISABLED 1u

/* pvesr job_status steps 1, 2, 5-7 over the jobs of cc: jobs whose guest
 * lives on node; a job targeting node only when it is marked for removal;
 * a disabled job only when marked for removal or with
 * JOB_STATUS_DISABLED; with the job's state from st (may be NULL: no
 * state) and next_sync (sched/schedule.h; a target missing from
 * nodes.cfg counts as offline). */
void job_status_collect(struct job_status *js, const struct cluster_config *cc, const struct state *st,
			const char *node, unsigned flags);
void job_status_release(struct job_status *js);
const struct job_entry *job_status_find(const struct job_status *js, const char *id);

/* pvesr job_status steps 3 and 4, the only part that writes
 * replication.cfg: for the jobs of guests on node, set source = node where
 * unset, and apply job_status_switch_stolen() where the source is another
 * node. Writes through jobs_cfg_modify() and then reloads cc->jobs (so
 * pointers into it are invalidated). Returns the number of jobs changed,
 * or -errno with the message in err (cc unchanged). */
int job_status_fix_sources(struct cluster_config *cc, const char *config_dir, const char *node,
			   struct strbuf *err);

/* The "stolen guest" switch (§3.3 step 4, §5.3): guest's config moved to
 * node without a migration (HA recovery, manual move), its jobs still say
 * source = old_source. For every job of guest in jc: a job targeting node
 * now targets old_source, and source becomes node. Returns the number of
 * jobs changed, or -EINVAL with the message in err. */
int job_status_switch_stolen(struct jobs_cfg *jc, uint32_t guest, const char *old_source, const char *node,
			     struct strbuf *err);

/* next_sync of e as if it had last been tried at last_try (the daemon's
 * deferral: "its next due time after a run that recorded nothing").
 * Returns 0 when never. */
int64_t job_entry_next_after(const struct job_entry *e, int64_t last_try);

/* One pass's view: the cluster config, read once, and its job entries. */
struct job_view {
	struct cluster_config cc;
	struct job_status js;   /* entries point into cc */
	struct strvec warnings; /* parse warnings of the config files, a source fix that failed */
};
#define JOB_VIEW_INIT { .cc = CLUSTER_CONFIG_INIT, .js = JOB_STATUS_INIT, .warnings = STRVEC_INIT }

/* Also drop the state entries of jobs that do not run here (pvesr's
 * purge_old_states: the job is gone, or its guest lives on another
 * node). The state file is written only when there is something to drop. */
#define JOB_VIEW_PURGE 2u

/* Load the view of ctx->node: read the cluster config, fix job sources
 * as pvesr's every tick does (job_status_fix_sources; a read-only config
 * must not stop replication, so a failure is only a warning), purge
 * stale state with JOB_VIEW_PURGE, read the state and collect the jobs
 * (flags as job_status_collect, JOB_STATUS_DISABLED included). Returns 0,
 * or -errno with the message in err (config or state unreadable, the
 * purge failed; v then holds no jobs). */
int job_view_load(struct job_view *v, const struct context *ctx, unsigned flags, struct strbuf *err);
void job_view_release(struct job_view *v);

#endif
