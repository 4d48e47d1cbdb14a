/* The membership file pmxcfs writes, <root>/.members: which nodes form
 * the Proxmox VE cluster, their addresses, whether each is online and
 * whether the cluster has quorum. A file, but made from what other nodes
 * announce over corosync: parsed strictly, and anything odd is an error
 * naming the key, not a guess.
 *
 *   {"nodename": "pve1", "version": 7,
 *    "cluster": {"name": "c", "version": 3, "nodes": 3, "quorate": 1},
 *    "nodelist": {"pve1": {"id": 1, "online": 1, "ip": "10.0.0.1"}, ...}}
 *
 * A standalone node (no cluster configured) has only nodename and
 * version: it is its own quorum. */
#ifndef VOLREP_CLUSTER_PVE_MEMBERS_H
#define VOLREP_CLUSTER_PVE_MEMBERS_H

#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"

#define PVE_MEMBERS_MAX_FILE (256 * 1024)
#define PVE_MEMBERS_MAX_NODES 1024

struct pve_member {
	char *name;
	int64_t id;
	int online;
	char *ip; /* NULL when pmxcfs did not give one */
};

struct pve_members {
	char *nodename;
	int64_t version;
	int clustered;      /* a "cluster" object was present */
	char *cluster_name; /* NULL standalone */
	int64_t cluster_version;
	int64_t expected_nodes;
	int quorate;
	struct pve_member *nodes; /* sorted by name */
	size_t nr;
};
#define PVE_MEMBERS_INIT { 0 }

/* Returns 0, or -EINVAL with "invalid .members: ..." in *err (pm left
 * empty). */
int pve_members_parse(struct pve_members *pm, const char *text, size_t len, struct strbuf *err);
const struct pve_member *pve_members_find(const struct pve_members *pm, const char *name);
void pve_members_release(struct pve_members *pm);

#endif
