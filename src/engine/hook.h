/* Starting, stopping and asking about guests: volrep moves data and
 * configs, the hypervisor runs the guests. Each guest type has an optional
 * hook, an executable in the cluster config dir (docs/migration.md):
 *
 *     <config_dir>/hooks/qemu   start|stop|status <vmid>
 *     <config_dir>/hooks/lxc    start|stop|status <vmid>
 *
 * run with argv only (no shell), stdin from /dev/null, environment
 * inherited plus VOLREP_NODE=<this node>. Exit codes:
 *   start, stop   0 done (also when the guest already was in that state),
 *                 anything else: failed (the last stderr line is the reason)
 *   status        0 running, 3 stopped (LSB), anything else: unknown (an error)
 * No hook file: start and stop do nothing and succeed, status is
 * "stopped" (a cluster without a hypervisor integration, e.g. tests). */
#ifndef VOLREP_ENGINE_HOOK_H
#define VOLREP_ENGINE_HOOK_H

#include <stdint.h>

#include "base/strbuf.h"
#include "config/guest.h"

#define HOOK_STATUS_RUNNING 0
#define HOOK_STATUS_STOPPED 3

/* Path of the hook of type t into sb (appended). */
void guest_hook_path(struct strbuf *sb, const char *config_dir, enum guest_type t);

/* Run "<hook> start|stop <vmid>" on this node. Returns 0 (also when there
 * is no hook), or -EIO with "hook '<path>' start 100 failed (exit code
 * 1): <last stderr line>" in err, or -errno when it could not run. */
int guest_hook_start(const char *config_dir, const char *node, enum guest_type t, uint32_t vmid,
		     struct strbuf *err);
int guest_hook_stop(const char *config_dir, const char *node, enum guest_type t, uint32_t vmid,
		    struct strbuf *err);

/* "<hook> status <vmid>": 1 running, 0 stopped (or no hook), -EIO with a
 * message for any other answer, -errno when it could not run. */
int guest_hook_running(const char *config_dir, const char *node, enum guest_type t, uint32_t vmid,
		       struct strbuf *err);

#endif
