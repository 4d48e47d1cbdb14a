/* The daemon's part of high availability (docs/ha.md), etcd mode only:
 *
 *  - watching: once a second, the liveness keys of the nodes of nodes.cfg;
 *    a node whose key has been gone for volrep.cfg's ha-grace and that
 *    still owns HA guests gets `volrep ha recover <node> --since T` run by
 *    this daemon (a child process, so that the loop keeps renewing the
 *    liveness key meanwhile); of all the daemons doing so, the one whose
 *    child takes the cluster lock "ha-manager" recovers (ha/ha.h);
 *  - fencing: a thread of its own (it must act even when the loop hangs in
 *    a store call) stops this node's HA guests (state started) through
 *    their stop hooks when the liveness key has not been renewed for
 *    HA_FENCE_MS, measured from the moment the last successful renewal
 *    was sent: the key's lease cannot have expired before then, so the
 *    guests are down before any other node may recover them. A stop hook
 *    that fails is retried every second until it succeeds; such a guest
 *    is never started again by this node;
 *  - resuming: when the key is renewed again, the guests it fenced that
 *    this node still owns are started again (`volrep ha resume <vmid>`,
 *    under the guest's cluster lock); guests that were recovered elsewhere
 *    are left alone: this node's volumes are their replicas now;
 *  - stopping: a daemon that stops (SIGTERM) stops its HA guests first:
 *    without it nothing fences the node, and its liveness key goes. */
#ifndef VOLREP_DAEMON_HA_H
#define VOLREP_DAEMON_HA_H

#include <stdint.h>

#include "cluster/store.h"
#include "config/context.h"
#include "config/volrepcfg.h"

/* lease TTL of the liveness key is the daemon's MEMBER_TTL_S (5 s) */
#define HA_FENCE_MS 3000

struct ha_daemon;

/* NULL unless st is an etcd store. prog: the volrep binary for children. */
struct ha_daemon *ha_daemon_start(const struct context *ctx, struct store *st, const char *prog);
/* The monotonic clock of HA, in ms: read it just before a renewal is sent. */
int64_t ha_clock_ms(void);
/* The outcome of a liveness key renewal sent at sent_ms (ha_clock_ms). */
void ha_daemon_heartbeat(struct ha_daemon *h, int ok, int64_t sent_ms);
/* Watch, start and reap recoveries and resumes; call every loop turn. */
void ha_daemon_tick(struct ha_daemon *h, const struct volrep_cfg *cfg);
/* timeout (ms) shortened to the next tick that has something to do */
int64_t ha_daemon_timeout(const struct ha_daemon *h, int64_t timeout);
void ha_daemon_stop(struct ha_daemon *h);

#endif
