#include "engine/pvenet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/sanitize.h"
#include "base/strvec.h"
#include "engine/remote.h"
#include "transport/ssh.h"

/* The addresses of this node that are up, in interface order. */
static void local_addrs(struct strvec *out)
{
	const char *env = getenv("VOLREP_PVE_LOCAL_ADDRS");
	struct ifaddrs *ifa = NULL;

	if (env && *env) {
		strvec_split(out, env, ',');
		return;
	}
	if (getifaddrs(&ifa) < 0)
		return;
	for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
		char buf[INET6_ADDRSTRLEN];
		const void *a;

		if (!i->ifa_addr || !(i->ifa_flags & IFF_UP))
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			a = &((const struct sockaddr_in *)(const void *)i->ifa_addr)->sin_addr;
		else if (i->ifa_addr->sa_family == AF_INET6)
			a = &((const struct sockaddr_in6 *)(const void *)i->ifa_addr)->sin6_addr;
		else
			continue;
		if (inet_ntop(i->ifa_addr->sa_family, a, buf, sizeof(buf)))
			strvec_push(out, buf);
	}
	freeifaddrs(ifa);
}

int pvenet_local_ip(const struct dc_net *n, struct strbuf *ip, struct strbuf *err)
{
	struct strvec all = STRVEC_INIT;
	const char *first = NULL;
	int r = 0;

	local_addrs(&all);
	for (size_t i = 0; i < all.nr && r == 0; i++) {
		if (!dc_net_contains(n, all.v[i]))
			continue;
		if (!first)
			first = all.v[i];
		else if (strcmp(first, all.v[i]))
			r = -EEXIST;
	}
	if (r == -EEXIST) {
		strbuf_addf(err, "could not get migration ip: multiple, different, IP address configured for network '%s'",
			    n->network);
	} else if (!first) {
		strbuf_addf(err, "could not get migration ip: no IP address configured on local node for network '%s'",
			    n->network);
		r = -ENOENT;
	} else {
		strbuf_addstr(ip, first);
	}
	strvec_clear(&all);
	return r;
}

int pvenet_parse_answer(const char *out, const struct dc_net *n, struct strbuf *ip, struct strbuf *err)
{
	size_t len = strlen(out), al;
	const char *a;

	if (len && out[len - 1] == '\n')
		len--;
	if (len < 7 || strncmp(out, "ip: '", 5) || out[len - 1] != '\'' || memchr(out, '\n', len)) {
		strbuf_addstr(err, "unexpected answer '");
		strbuf_add_sanitized(err, out, len > 80 ? 80 : len, 0);
		strbuf_addstr(err, "' (expected \"ip: '<address>'\")");
		return -EPROTO;
	}
	a = out + 5;
	al = len - 6;
	strbuf_add(ip, a, al);
	if (strlen(ip->buf) != al || !dc_net_contains(n, ip->buf) || !ssh_valid_address(ip->buf)) {
		strbuf_reset(ip);
		strbuf_addstr(err, "the answer '");
		strbuf_add_sanitized(err, a, al > 64 ? 64 : al, 0);
		strbuf_addf(err, "' is not an address in network '%s'", n->network);
		return -EPROTO;
	}
	return 0;
}

static int open_traffic(struct transport *t, const struct nodes_cfg *nc, const char *config_dir,
			const char *target, const char *state_dir, enum pvenet_use use, const struct elog *log,
			struct strbuf *err)
{
	const struct cluster_node *node = nodes_cfg_find(nc, target);
	struct strbuf out = STRBUF_INIT, e = STRBUF_INIT, ip = STRBUF_INIT;
	struct strvec argv = STRVEC_INIT;
	const struct dc_net *net;
	struct dc_cfg dc;
	int r = remote_open(t, nc, target, state_dir, err);

	/* the local transport (tests) has no addresses */
	if (r < 0 || t->ops != &ssh_transport_ops)
		return r;
	r = dc_cfg_load(&dc, config_dir, err);
	if (r < 0)
		goto fail;
	net = use == PVENET_MIGRATION ? &dc.migration : dc_replication_net(&dc);
	if (!net->set || !net->has_network)
		return 0;
	/* a hung target must not hold the caller: volrep.cfg's default */
	if (!t->stall_timeout)
		t->stall_timeout = 300;
	strvec_push(&argv, remote_bin());
	strvec_push(&argv, "migration-ip");
	strvec_push(&argv, net->network);
	r = remote_call(t, NULL, &argv, &out, NULL, &e);
	if (r == 0)
		r = pvenet_parse_answer(out.buf, net, &ip, &e);
	if (r < 0) {
		strbuf_addf(err, "failed to get ip for node '%s' in network '%s' - %s", target, net->network, e.buf);
		goto fail;
	}
	transport_release(t);
	r = transport_ssh_init(t, target, ip.buf, state_dir);
	if (r == 0 && node && node->port)
		r = transport_ssh_set_port(t, node->port);
	if (r < 0) {
		strbuf_addf(err, "invalid ssh address '%s' of node '%s'", ip.buf, target);
		goto fail;
	}
	elog_printf(log, "use dedicated network address for sending %s traffic (%s)",
		    use == PVENET_MIGRATION ? "migration" : "replication", ip.buf);
	goto out;
fail:
	transport_release(t);
out:
	strvec_clear(&argv);
	strbuf_release(&out);
	strbuf_release(&e);
	strbuf_release(&ip);
	return r;
}

int remote_open_traffic(struct transport *t, const struct nodes_cfg *nc, const char *config_dir,
			const char *target, const char *state_dir, enum pvenet_use use, const struct elog *log,
			struct strbuf *err)
{
	int r = open_traffic(t, nc, config_dir, target, state_dir, use, log, err);

	if (r == 0)
		remote_set_persist(t, config_dir);
	return r;
}
