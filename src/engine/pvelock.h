/* Proxmox VE's guest locks, taken by volrep on the pmxcfs store so that
 * it never works on a guest in the middle of a PVE operation:
 *
 *   - the migration lock, flock on /var/lock/pve-manager/pve-migrate-<vmid>
 *     (pve-guest-common PVE::GuestHelpers::guest_migration_lock): PVE
 *     holds it while it migrates a guest, rolls back or deletes a
 *     snapshot, and pvesr holds it for every replication run
 *     (PVE::Replication::run_replication, 2 s wait). volrep takes it for
 *     runs, migrations and the rollback of a failover.
 *   - the config lock, flock on /var/lock/qemu-server/lock-<vmid>.conf
 *     (VMs, PVE::QemuConfig::config_file_lock) or
 *     /run/lock/lxc/pve-config-<vmid>.lock (CTs, PVE::LXC::Config), which
 *     every change of a guest config takes (PVE::AbstractConfig
 *     lock_config, 10 s wait). A PVE migration holds it for its whole
 *     length (PVE::AbstractMigrate::migrate -> lock_vm); so does volrep's.
 *   - the `lock:` property of the guest config (backup, snapshot,
 *     migrate, ...): a long PVE operation marks the config with it;
 *     PVE::AbstractConfig::check_lock refuses to migrate such a guest,
 *     and so does volrep.
 *
 * VOLREP_PVE_LOCK_DIR, VOLREP_PVE_QEMU_LOCK_DIR and VOLREP_PVE_LXC_LOCK_DIR
 * replace the three directories (tests). */
#ifndef VOLREP_ENGINE_PVELOCK_H
#define VOLREP_ENGINE_PVELOCK_H

#include <stdint.h>

#include "base/fileio.h"
#include "base/strbuf.h"
#include "config/guest.h"

#define PVE_LOCK_DIR "/var/lock/pve-manager"
#define PVE_QEMU_LOCK_DIR "/var/lock/qemu-server"
#define PVE_LXC_LOCK_DIR "/run/lock/lxc"
/* PVE's own waits: a migration and lock_config wait 10 s */
#define PVE_LOCK_TIMEOUT_MS 10000L

/* Is the cluster store pmxcfs (the PVE integration is on)? */
int pve_mode(void);

/* Take the migration lock when the cluster store is pmxcfs (else
 * nothing, 0), waiting up to timeout_ms. -EBUSY with "can't lock file
 * '...' - got timeout" in *err when PVE holds it. */
int pve_guest_lock(struct lock *lk, uint32_t vmid, long timeout_ms, struct strbuf *err);

/* The config lock of guest vmid of type t, the same way. */
int pve_config_lock(struct lock *lk, enum guest_type t, uint32_t vmid, long timeout_ms, struct strbuf *err);

/* PVE::AbstractConfig::check_lock on the current state of gc: 0, or
 * -EBUSY with "VM 100 is locked (backup)..." in err. */
int pve_check_conf_lock(const struct guest_conf *gc, enum guest_type t, uint32_t vmid, struct strbuf *err);

/* Is the `lock:` value one PVE's HA recovery removes after fencing the
 * guest's node (PVE::HA::Manager: backup, mounted, migrate, clone,
 * rollback, snapshot, snapshot-delete, suspending, suspended)? */
int pve_lock_removable(const char *lock);

/* Drop the `lock:` line of the current state from the guest config
 * `name` in the store st (what PVE's HA recovery does with a removable
 * lock left by a fenced node). Returns 0 (also when there is none) or
 * -errno with the message in err. */
struct store;
int pve_remove_conf_lock(struct store *st, const char *name, struct strbuf *err);

#endif
