/* The pmxcfs implementation of the store (store.h): a Proxmox VE
 * cluster's /etc/pve, shared with PVE itself. Only store.c calls these,
 * plus pvesr.c for the PVE-owned replication.cfg.
 *
 * Name mapping (names as store.h uses them -> files under root):
 *   nodes.cfg             made from <root>/.members (read only)
 *   storage.cfg           <root>/storage.cfg (PVE's; read only)
 *   datacenter.cfg        <root>/datacenter.cfg (PVE's; read only)
 *   nodes/<n>/...         <root>/nodes/<n>/... (guest configs)
 *   pve/replication.cfg   <root>/replication.cfg (pvesr's jobs; read only)
 *   anything else         <root>/volrep/<name> (replication.cfg, volrep.cfg)
 * Writes need .members to say quorate; locks are pmxcfs lock directories
 * <root>/priv/lock/volrep-<name>. */
#ifndef VOLREP_CLUSTER_STORE_PMXCFS_H
#define VOLREP_CLUSTER_STORE_PMXCFS_H

#include "cluster/store.h"

/* the store name of pvesr's own job file */
#define PMXCFS_PVESR_CFG "pve/replication.cfg"
/* pmxcfs forgets a lock this many seconds old (and so do we) */
#define PMXCFS_LOCK_TIMEOUT_S 120

/* root: an absolute directory ("/etc/pve"). */
int pmxcfs_store_open(const char *root, struct store **out, struct strbuf *err);
int pmxcfs_store_members(struct store *st, const struct strvec *nodes, struct store_member **out,
			 struct strbuf *err);
/* a number that changes when a file the scheduler depends on changes */
int pmxcfs_store_revision(struct store *st, int64_t *rev, struct strbuf *err);
/* the store's root directory */
const char *pmxcfs_store_root(struct store *st);

#endif
