/* Fuzz target: arbitrary bytes as Proxmox VE's datacenter.cfg
 * (dc_cfg_parse, src/config/datacenter.h; a file every node of the
 * cluster can write), and as a target's answer to migration-ip
 * (pvenet_parse_answer, src/engine/pvenet.h; hostile).
 * Invariants checked (abort on violation):
 *  - a failure says "fuzz:<line>: ..."; success sets only valid
 *    networks (family, prefix 8..32 or 8..128, the network contains its
 *    own address) and the fallback picks replication, else migration;
 *  - an accepted answer is an ssh-safe address inside the network, a
 *    rejected one leaves no address and says why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include "base/strbuf.h"
#include "config/datacenter.h"
#include "engine/pvenet.h"
#include "transport/ssh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_net(const struct dc_net *n)
{
	char a[64];

	if (!n->set)
		return;
	if (n->type != DC_SECURE && n->type != DC_INSECURE)
		abort();
	if (!n->has_network)
		return;
	if ((n->net.family == AF_INET && (n->net.prefix < 8 || n->net.prefix > 32)) ||
	    (n->net.family == AF_INET6 && (n->net.prefix < 8 || n->net.prefix > 128)) ||
	    (n->net.family != AF_INET && n->net.family != AF_INET6))
		abort();
	if (!inet_ntop(n->net.family, n->net.addr, a, sizeof(a)) || !dc_net_contains(n, a))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf err = STRBUF_INIT, ip = STRBUF_INIT;
	struct dc_cfg dc;
	struct dc_net n;
	char *s;

	if (dc_cfg_parse(&dc, "fuzz", (const char *)data, size, &err) < 0) {
		if (strncmp(err.buf, "fuzz:", 5))
			abort();
	} else {
		check_net(&dc.migration);
		check_net(&dc.replication);
		if (dc_replication_net(&dc) != (dc.replication.set ? &dc.replication : &dc.migration))
			abort();
	}
	strbuf_reset(&err);
	s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = 0;
	if (dc_parse_cidr("10.1.0.0/16", &n) < 0)
		abort();
	if (pvenet_parse_answer(s, &n, &ip, &err) == 0) {
		if (!dc_net_contains(&n, ip.buf) || !ssh_valid_address(ip.buf) || ip.buf[0] == '-')
			abort();
	} else if (ip.len || !err.len) {
		abort();
	}
	free(s);
	strbuf_release(&err);
	strbuf_release(&ip);
	return 0;
}
