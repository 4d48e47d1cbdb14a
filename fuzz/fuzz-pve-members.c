/* Fuzz target: arbitrary bytes as pmxcfs's .members (pve_members_parse,
 * src/cluster/pve-members.h), which carries what every cluster node
 * announced over corosync.
 * Invariants checked (abort on violation):
 *  - a failure says "invalid .members: ..." and leaves nothing allocated
 *    behind (nodes NULL, nr 0);
 *  - an accepted file has a valid nodename, quorate 0 or 1, at most
 *    PVE_MEMBERS_MAX_NODES nodes, sorted and unique, every name a valid
 *    node name and every ip a safe host address (never an ssh option);
 *  - standalone (no cluster) means exactly one node, online, quorate. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/validate.h"
#include "cluster/pve-members.h"
#include "config/nodes.h"
#include "transport/ssh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pve_members pm;
	struct strbuf err = STRBUF_INIT;

	if (pve_members_parse(&pm, (const char *)data, size, &err) < 0) {
		if (strncmp(err.buf, "invalid .members: ", 18) || pm.nodes || pm.nr || pm.nodename)
			abort();
		strbuf_release(&err);
		return 0;
	}
	if (!valid_node_name(pm.nodename) || (pm.quorate != 0 && pm.quorate != 1) || pm.nr > PVE_MEMBERS_MAX_NODES)
		abort();
	if (!pm.clustered && (pm.nr != 1 || !pm.quorate || !pm.nodes[0].online || strcmp(pm.nodes[0].name, pm.nodename)))
		abort();
	for (size_t i = 0; i < pm.nr; i++) {
		const struct pve_member *m = &pm.nodes[i];

		if (!valid_node_name(m->name) || (m->online != 0 && m->online != 1))
			abort();
		if (m->ip && (!valid_host_address(m->ip) || !ssh_valid_address(m->ip) || m->ip[0] == '-'))
			abort();
		if (i && strcmp(pm.nodes[i - 1].name, m->name) >= 0)
			abort();
	}
	pve_members_release(&pm);
	strbuf_release(&err);
	return 0;
}
