/* Transfer slots: at most max-per-target runs stream data to one target
 * node at once (docs/pvesr-compat.md §10, docs/daemon.md).
 *
 * The limit is on the transfer stage of a run (export -> ssh -> import of
 * its volumes), not on whole runs: the daemon starts up to max-workers
 * runs whatever their target, and their locking, state updates, prepare
 * calls and snapshots overlap freely; only the streams queue. A slot is
 * an flock on <state_dir>/lock/transfer-<target>.<k>.lck for one k < n,
 * so slots are shared by every process of the node (daemon workers and
 * manual `volrep run`s alike) and vanish with a process that dies. */
#ifndef VOLREP_ENGINE_XFERSLOT_H
#define VOLREP_ENGINE_XFERSLOT_H

#include "base/fileio.h"
#include "base/strbuf.h"

/* Upper bound of n (= volrep.cfg's bound for max-per-target) */
#define XFER_SLOTS_MAX 256

/* Path of slot k of target into sb. */
void xfer_slot_path(struct strbuf *sb, const char *state_dir, const char *target, unsigned k);

/* Take one of the n (1..XFER_SLOTS_MAX) transfer slots of target (a valid
 * node name): tries every slot without blocking, then polls them all
 * every 10 ms until one is free. On success lk holds the slot (release it
 * with lock_release()), *slot is its index and *waited the seconds spent
 * waiting (0 when one was free at once). Returns 0, -EINVAL (bad target
 * or n), -EINTR when SIGTERM, SIGINT or SIGHUP, caught by a handler
 * (engine/interrupt.h), came during the wait (no signal is lost: they are
 * blocked except while sleeping), or another -errno from creating or
 * opening the lock files. */
int xfer_slot_acquire(struct lock *lk, const char *state_dir, const char *target, unsigned n, unsigned *slot,
		      double *waited);

#endif
