/* nodes.cfg: the cluster members and how to reach them.
 *
 *     node: pve2
 *     \taddress 127.0.1.2
 *     \tport 2222
 *
 * A node without address is reached by its name; port is optional (ssh's
 * -p). An address is a host name or an IP address, never "host:port". Sections with an invalid
 * node name or address are skipped with a warning, as Proxmox skips bad
 * sections. */
#ifndef VOLREP_CONFIG_NODES_H
#define VOLREP_CONFIG_NODES_H

#include <stddef.h>

#include "base/strbuf.h"
#include "base/strvec.h"

struct cluster_node {
	char *name;
	char *address; /* never NULL: the name when no address is configured */
	unsigned port; /* ssh port, 0: ssh's default (or ~/.ssh/config) */
};

struct nodes_cfg {
	struct cluster_node *v; /* in file order */
	size_t nr, alloc;
	char *missing_path; /* nodes_cfg_load: the path looked for when the file is absent, else NULL */
};

/* Parse nodes.cfg text (warnings appended to *warnings, may be NULL).
 * Returns 0 or -EFBIG. */
int nodes_cfg_parse(struct nodes_cfg *nc, const char *text, size_t len, struct strvec *warnings);
/* Read <config_dir>/nodes.cfg; a missing file is an empty cluster.
 * Returns 0 or -errno. */
int nodes_cfg_load(struct nodes_cfg *nc, const char *config_dir, struct strvec *warnings);
const struct cluster_node *nodes_cfg_find(const struct nodes_cfg *nc, const char *name);
void nodes_cfg_release(struct nodes_cfg *nc);

struct context;
/* Is this node (ctx->node) a member? Returns 0 when it is listed, else 1
 * with one line in *msg saying which name was looked for (and where the
 * name came from), in which file, and how to fix it: a missing nodes.cfg
 * and a name not in it are told apart. */
int nodes_cfg_check_self(const struct nodes_cfg *nc, const struct context *ctx, struct strbuf *msg);

/* ssh host: a host name or an IPv4/IPv6 address, [A-Za-z0-9.:_-], not
 * starting with '-', at most 253 characters. Returns 1 when valid. */
int valid_host_address(const char *s);

#endif
