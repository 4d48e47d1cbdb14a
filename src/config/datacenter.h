/* The migration and replication network of Proxmox VE's datacenter.cfg
 * (pve-cluster PVE::DataCenterConfig):
 *
 *     migration: [type=]secure|insecure[,network=<CIDR>]
 *     replication: [type=]secure|insecure[,network=<CIDR>]
 *
 * A replication run uses `replication` when it is set, else `migration`
 * (PVE::Replication::replicate); a migration uses `migration`
 * (PVE::AbstractMigrate::migrate). With a network, the traffic goes to
 * the target's address in that network (engine/pvenet.h); `type` is
 * parsed and kept for the transports (insecure: a direct TCP data path).
 *
 * The file is PVE's: read through the store as "datacenter.cfg" (pmxcfs:
 * <root>/datacenter.cfg; dir and etcd: the cluster config's
 * datacenter.cfg, same format). Other keys are PVE's business and
 * skipped, as are lines that are not "key: value" (PVE warns about and
 * ignores those too). The two keys volrep acts on are parsed strictly: a
 * value that does not parse, a CIDR PVE would refuse (IPv4 prefix 8..32,
 * IPv6 8..128) or a key given twice is an error "<file>:<line>: ...",
 * never a silent fall back to another network. */
#ifndef VOLREP_CONFIG_DATACENTER_H
#define VOLREP_CONFIG_DATACENTER_H

#include <stddef.h>

#include "base/cidr.h"
#include "base/strbuf.h"

#define DATACENTER_CFG_NAME "datacenter.cfg"
#define DATACENTER_CFG_MAX (1024 * 1024)

enum dc_net_type { DC_SECURE, DC_INSECURE };

struct dc_net {
	int set;                 /* the key is in the file */
	enum dc_net_type type;   /* default secure */
	int has_network;
	char network[64];        /* the CIDR as written */
	struct cidr net;         /* the network (base/cidr.h) */
};

struct dc_cfg {
	struct dc_net migration, replication;
};

/* Parse text (name is used in messages). Returns 0 and fills *dc, or
 * -EINVAL with "<name>:<line>: ..." in err. */
int dc_cfg_parse(struct dc_cfg *dc, const char *name, const char *text, size_t len, struct strbuf *err);
/* Read datacenter.cfg from the store of config_dir (missing: nothing
 * set). Returns 0 or -errno/-EINVAL with the message in err. */
int dc_cfg_load(struct dc_cfg *dc, const char *config_dir, struct strbuf *err);

/* What replication traffic uses: `replication`, else `migration`. */
const struct dc_net *dc_replication_net(const struct dc_cfg *dc);

/* Parse "<addr>/<prefix>" as PVE's CIDR format. Returns 0 or -EINVAL. */
int dc_parse_cidr(const char *s, struct dc_net *n);
/* Is the address text ip (IPv4 or IPv6, nothing else) inside n's network? */
int dc_net_contains(const struct dc_net *n, const char *ip);

#endif
