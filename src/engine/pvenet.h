/* Replication and migration traffic over datacenter.cfg's network
 * (config/datacenter.h), as Proxmox VE sends it.
 *
 * PVE (pve-cluster PVE::SSHInfo::get_ssh_info with a network) asks the
 * target over its ordinary address for its own address in that network
 * (`pvecm mtunnel -migration_network <CIDR> -get_migration_ip`, answering
 * "ip: '<addr>'"), which the target finds among its interfaces' addresses
 * that are up (PVE::Network::get_local_ip_from_cidr, `ip address show to
 * <CIDR> up`): none, or two different ones, is an error. volrep does the
 * same with its target verb `volrep migration-ip <CIDR>` (same answer
 * line), checks that the answer is an address inside the network (the
 * target's word is not trusted), and then opens the transport to that
 * address; the host key is still checked against the node's name
 * (HostKeyAlias), whatever address is used.
 *
 * VOLREP_PVE_LOCAL_ADDRS ("addr[,addr...]") replaces the interface
 * addresses of this node (tests, or a node whose migration address is
 * not on a local interface). */
#ifndef VOLREP_ENGINE_PVENET_H
#define VOLREP_ENGINE_PVENET_H

#include "base/strbuf.h"
#include "config/datacenter.h"
#include "config/nodes.h"
#include "engine/elog.h"
#include "transport/transport.h"

/* Target side: this node's address in n into ip. Returns 0, or -ENOENT
 * / -EEXIST with PVE's message in err. */
int pvenet_local_ip(const struct dc_net *n, struct strbuf *ip, struct strbuf *err);

/* Parse the target's answer (one line "ip: '<addr>'"): 0 and the
 * address in ip when it is an address inside n, else -EPROTO with the
 * problem in err. */
int pvenet_parse_answer(const char *out, const struct dc_net *n, struct strbuf *ip, struct strbuf *err);

enum pvenet_use { PVENET_REPLICATION, PVENET_MIGRATION };

/* remote_open() for the traffic of use: when datacenter.cfg (read
 * through the store of config_dir) sets a network for it, t leads to the
 * target's address in that network, and log says so. Returns 0 or -errno
 * with the message in err (t released). */
int remote_open_traffic(struct transport *t, const struct nodes_cfg *nc, const char *config_dir,
			const char *target, const char *state_dir, enum pvenet_use use, const struct elog *log,
			struct strbuf *err);

#endif
