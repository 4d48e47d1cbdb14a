/* volrep migration-ip <CIDR>: the target side of datacenter.cfg's
 * migration network (engine/pvenet.h), answering as PVE's `pvecm mtunnel
 * -get_migration_ip` does: "ip: '<address>'". */
#include <stdio.h>

#include "base/log.h"
#include "base/strbuf.h"
#include "base/strvec.h"
#include "cli/cmds.h"
#include "cli/commands.h"
#include "cli/opts.h"
#include "config/datacenter.h"
#include "engine/pvenet.h"

int cmd_migration_ip(int argc, char **argv, struct context *ctx)
{
	struct opt_spec none[] = { { NULL, OPT_VALUE, NULL } };
	struct strvec pos = STRVEC_INIT;
	struct strbuf ip = STRBUF_INIT, err = STRBUF_INIT;
	struct dc_net n;
	int ret = EXIT_USAGE;

	(void)ctx;
	log_set_prefix("");
	if (opts_parse(argc, argv, none, &pos) < 0)
		goto out;
	if (pos.nr != 1) {
		error("usage: volrep migration-ip <CIDR>");
		goto out;
	}
	if (dc_parse_cidr(pos.v[0], &n) < 0) {
		error("invalid network '%s' - expected <address>/<prefix> (IPv4 prefix 8..32, IPv6 8..128)", pos.v[0]);
		goto out;
	}
	ret = EXIT_FAILED;
	if (pvenet_local_ip(&n, &ip, &err) < 0) {
		error("%s", err.buf);
		goto out;
	}
	printf("ip: '%s'\n", ip.buf);
	ret = fflush(stdout) == 0 ? 0 : EXIT_FAILED;
out:
	strvec_clear(&pos);
	strbuf_release(&ip);
	strbuf_release(&err);
	return ret;
}
