/* What Proxmox VE knows about a guest on this node, asked the way PVE
 * itself asks (used on the pmxcfs store, or with VOLREP_GUEST_STATE=pve):
 *
 *   - is a VM running: qemu-server's vm_running_locally
 *     (PVE::QemuServer::Helpers): /var/run/qemu-server/<vmid>.pid holds a
 *     pid, /proc/<pid>/cmdline is a kvm or qemu-* program started with
 *     `-pidfile` that very file, and the process is not a zombie;
 *   - is a CT running: pve-container's check_running (PVE::LXC
 *     list_active_containers): /proc/net/unix lists lxc's command socket
 *     "@/var/lib/lxc/<vmid>/command";
 *   - freeze a running VM's file systems around the replication snapshot
 *     when its config says `agent: 1` and freeze-fs (formerly
 *     freeze-fs-on-backup) is not 0, through the guest agent
 *     (engine/qga.h), as PVE::Replication does with
 *     PVE::QemuServer::Agent: guest-ping (3 s) and guest-fsfreeze-status
 *     first (not running or already frozen: skipped), guest-fsfreeze-freeze
 *     (10 min), and after the snapshot always guest-fsfreeze-thaw. A
 *     failing freeze or thaw is logged, and the run goes on, as in PVE.
 *
 * VOLREP_PVE_RUN_DIR replaces /var/run/qemu-server (pid files and agent
 * sockets), VOLREP_PVE_PROC_NET_UNIX replaces /proc/net/unix (tests). */
#ifndef VOLREP_ENGINE_PVEGUEST_H
#define VOLREP_ENGINE_PVEGUEST_H

#include <stddef.h>
#include <stdint.h>

#include "config/guest.h"
#include "engine/elog.h"

#define PVE_RUN_DIR "/var/run/qemu-server"

/* Ask PVE's run files: the pmxcfs store, or VOLREP_GUEST_STATE=pve. */
int pve_guest_state_on(void);

/* 1 when guest vmid of type t runs on this node, else 0 (also when it
 * cannot be told: PVE's checks read the same way). */
int pve_guest_running(enum guest_type t, uint32_t vmid);

/* The pure parts, for tests and fuzzing. */
/* Does the /proc/net/unix text list lxc's command socket of vmid? */
int pve_unix_table_has_ct(const char *text, size_t len, uint32_t vmid);
/* Is cmdline (NUL-separated argv, len bytes) a QEMU started with
 * -pidfile pidfile? */
int pve_qemu_cmdline_matches(const char *cmdline, size_t len, const char *pidfile);
/* The `agent:` property string (PVE::QemuServer::Agent::should_fs_freeze):
 * 1 when enabled and freeze-fs is not 0, 0 when not, -EINVAL when it
 * does not parse (PVE then takes the agent as disabled). */
int pve_agent_freeze_wanted(const char *agent);

struct pve_freeze {
	int frozen;          /* guest-fsfreeze-freeze was sent: thaw */
	char sock[256];
};
#define PVE_FREEZE_INIT { .frozen = 0, .sock = "" }

/* Before the snapshot of guest g (config gc, running as told): freeze
 * when that applies, logging what it does in PVE's words. */
void pve_freeze(struct pve_freeze *fz, const struct guest *g, const struct guest_conf *gc, int running,
		const struct elog *log);
/* After it (whether it worked or not): thaw when pve_freeze froze. */
void pve_thaw(struct pve_freeze *fz, const struct elog *log);

#endif
