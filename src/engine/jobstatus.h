/* Which replication jobs belong to this node, with their state and when
 * they are due (pvesr job_status, docs/pvesr-compat.md §3.3). One
 * implementation for `volrep status`, `volrep run` and the daemon.
 *
 *   job_status_fix_sources(&cc, ctx->config_dir, ctx->node, &err);  (writes)
 *   struct job_status js = JOB_STATUS_INIT;
 *   job_status_collect(&js, &cc, st, ctx->node, 0);
 *   for (i = 0; i < js.nr; i++) js.v[i].job, .guest, .state, .next_sync
 *   job_status_release(&js);
 */
#ifndef VOLREP_ENGINE_JOBSTATUS_H
#define VOLREP_ENGINE_JOBSTATUS_H

#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"
#include "base/strvec.h"
#include "config/cluster.h"
#include "state/state.h"

struct job_entry {
	const struct repl_job *job;  /* points into cc->jobs */
	const struct guest *guest;   /* points into cc->guests */
	struct job_state state;      /* defaults when the job has none */
	int has_state;               /* 1 when the state file has an entry */
	int64_t next_sync;           /* 0 = never, 1 = at once */
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
 * state) and next_sync (config/schedule.h; a target missing from
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

#endif
