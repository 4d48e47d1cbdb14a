/* The jobs the scheduler considers on this node, with their state and
 * next_sync: pvesr's job_status() (docs/pvesr-compat.md §3.3) for enabled
 * jobs. One call reads the whole cluster config and the node-local state
 * afresh, so every scheduler pass sees new, changed, disabled and deleted
 * jobs and guests that moved to or from this node without any cache to
 * invalidate.
 *
 * Which jobs belong here is the engine's job_status (engine/jobstatus.h,
 * the same as `volrep status` and `volrep run`); this module copies what
 * the scheduler needs out of it, so that its loop holds no pointers into
 * a config it reloads at every pass. */
#ifndef VOLREP_SCHED_JOBLIST_H
#define VOLREP_SCHED_JOBLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"
#include "base/strvec.h"
#include "config/jobs.h"
#include "state/state.h"

struct jobinfo {
	char *id;
	uint32_t guest;
	char *target;
	char *schedule;           /* NULL: the default */
	enum remove_mode remove_job;
	double rate_mbps;         /* 0: unlimited */
	bool target_online;       /* target is a configured node */
	struct job_state state;   /* defaults when it never ran */
	int64_t next_sync;        /* 0 = never */
};

struct joblist {
	struct jobinfo *v;
	size_t nr, alloc;
};
#define JOBLIST_INIT { NULL, 0, 0 }

/* Fill jl (empty on entry) with the jobs of config_dir whose guest lives
 * on node and that would run there: enabled, target not this node, or
 * marked for removal (then always). Sorted by job id. Like pvesr's tick
 * it first fixes job sources (sets missing ones, switches the jobs of a
 * stolen guest; this writes replication.cfg when needed). Parse warnings
 * of the config files are appended to warnings. Returns 0, or -errno with
 * the message in err (unreadable config or state; jl stays empty). */
int joblist_load(struct joblist *jl, const char *config_dir, const char *state_dir, const char *node,
		 struct strvec *warnings, struct strbuf *err);

const struct jobinfo *joblist_find(const struct joblist *jl, const char *id);
void joblist_release(struct joblist *jl);

/* next_sync of a job as if it had last been tried at last_try (the
 * daemon's deferral: "its next due time after a run that recorded
 * nothing"). Returns 0 when never. */
int64_t jobinfo_next_after(const struct jobinfo *j, int64_t last_try);

#endif
