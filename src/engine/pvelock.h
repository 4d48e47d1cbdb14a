/* Proxmox VE's per-guest migration lock: PVE holds an flock on
 * /var/lock/pve-manager/pve-migrate-<vmid> while it migrates a guest, and
 * pvesr holds it for every replication run. volrep on the pmxcfs store
 * takes the same lock for a run, so that it never snapshots a guest in
 * the middle of a PVE operation (and never runs beside pvesr on one
 * guest). VOLREP_PVE_LOCK_DIR replaces the directory (tests). */
#ifndef VOLREP_ENGINE_PVELOCK_H
#define VOLREP_ENGINE_PVELOCK_H

#include <stdint.h>

#include "base/fileio.h"
#include "base/strbuf.h"

#define PVE_LOCK_DIR "/var/lock/pve-manager"

/* Take it when the cluster store is pmxcfs (else nothing, 0), waiting up
 * to timeout_ms. -EBUSY with "can't lock file '...' - got timeout" in
 * *err when PVE holds it. */
int pve_guest_lock(struct lock *lk, uint32_t vmid, long timeout_ms, struct strbuf *err);

#endif
