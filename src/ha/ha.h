/* High availability (docs/ha.md): which guests of a dead node to recover,
 * where, and the record of what was done.
 *
 * The decisions are pure functions (unit-tested); ha_recover_node() does a
 * recovery with failover's own steps (engine/failover.h: freshest complete
 * replica, rollback, guarded config move, job rewrite, start hook on the
 * new owner), under the cluster lock "ha-manager", so that of all the
 * surviving daemons that saw a node die exactly one recovers its guests at
 * a time; failover's lock "guest-<vmid>" and its owner check make a second
 * recovery of the same guest change nothing.
 *
 * The record, cluster file ha-status.json, one entry per guest (its last
 * recovery):
 *   {"100": {"from": "a", "to": "b", "when": T, "node_lost": T0,
 *            "snapshot": "__replicate_100-0_T1__", "snapshot_time": T1,
 *            "data_loss_window": T0 - T1, "result": "started"}} */
#ifndef VOLREP_HA_HA_H
#define VOLREP_HA_HA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/strbuf.h"
#include "base/strvec.h"
#include "cluster/store.h"
#include "config/context.h"
#include "config/guest.h"
#include "config/hacfg.h"

#define HA_STATUS_FILE "ha-status.json"
#define HA_MANAGER_LOCK "ha-manager"

/* --- pure decisions --- */

/* When each node was last seen without its liveness key, as this daemon
 * watched it (per observer: a daemon that starts later waits the whole
 * grace period again). */
struct ha_watch {
	struct ha_watch_node {
		char *node;
		int64_t offline_since; /* 0: online */
	} *v;
	size_t nr, alloc;
};
#define HA_WATCH_INIT { 0 }

/* Fold the members' online states seen at now into w. */
void ha_watch_update(struct ha_watch *w, const struct store_member *m, size_t n, int64_t now);
/* 0 unless node has been offline for at least grace seconds at now; then
 * the time it was first seen offline. */
int64_t ha_watch_dead_since(const struct ha_watch *w, const char *node, int64_t now, unsigned grace);
void ha_watch_release(struct ha_watch *w);

/* The HA guests that a recovery of node moves: in hc with state started
 * or stopped (ignored: left alone) and owned by node in gl. vmids in
 * ascending order into out (cleared first). */
void ha_guests_of(const struct ha_cfg *hc, const struct guest_list *gl, const char *node, uint32_t **out,
		  size_t *n);
/* The guests this node must stop when it fences itself: owned by node and
 * state started. */
void ha_started_of(const struct ha_cfg *hc, const struct guest_list *gl, const char *node, uint32_t **out,
		   size_t *n);
/* The preferred nodes of r (its group's nodes, in order) without dead. */
void ha_preferred(const struct ha_cfg *hc, const struct ha_resource *r, const char *dead, struct strvec *out);

/* --- the record --- */

struct ha_recovery {
	uint32_t vmid;
	char *from, *to, *snapshot, *result;
	int64_t when, node_lost, snapshot_time, window;
};

struct ha_status {
	struct ha_recovery *v;
	size_t nr, alloc;
};
#define HA_STATUS_INIT { 0 }

/* Parse the record's JSON (untrusted: bad entries are dropped). */
int ha_status_parse(struct ha_status *hs, const char *text, size_t len);
void ha_status_format(const struct ha_status *hs, struct strbuf *out);
const struct ha_recovery *ha_status_find(const struct ha_status *hs, uint32_t vmid);
void ha_status_release(struct ha_status *hs);
int ha_status_load(const char *config_dir, unsigned store_flags, struct ha_status *hs, int64_t *rev,
		   struct strbuf *err);
/* Replace vmid's entry with rec (compare-and-swap, retried). */
int ha_status_record(const char *config_dir, const struct ha_recovery *rec, struct strbuf *err);

/* --- doing it --- */

/* Recover every HA guest of the dead node (ha_guests_of) that node_lost
 * (when the node's liveness key was first seen gone) and the record say
 * is not recovered yet. Holds HA_MANAGER_LOCK: returns -EBUSY at once when
 * another node holds it. Each guest: failover_guest (force: the node's
 * lease ran out, so it fenced itself; its key must still be gone), with
 * the group's preferred nodes, no start for state stopped; the result is
 * recorded, logged to out and notified (volrep.cfg's notify targets) with
 * its data-loss window. Returns 0 when every guest was recovered (or
 * there was nothing to do), -EIO when one failed (messages in err),
 * other -errno. */
int ha_recover_node(const struct context *ctx, const char *node, int64_t node_lost, FILE *out,
		    struct strbuf *err);

/* A node that fenced itself and still owns vmid, quorate and alive
 * again: start the guest, under failover's lock "guest-<vmid>" and after
 * a fresh check of the owner (a recovery holds that lock while it moves
 * the guest, and refuses while this node's liveness key exists). Returns
 * 0 started, -EALREADY the guest belongs to another node now, -errno. */
int ha_resume_guest(const struct context *ctx, uint32_t vmid, struct strbuf *err);

#endif
