/* Migration and failover (docs/migration.md):
 *   volrep migrate <vmid> <target> [--online 0] [--verbose]
 *   volrep failover <vmid> [--to NODE] [--dry-run] [--force]
 * (the target-side verbs they use on other nodes are in cmd-target.c).
 * Exit status: 0 done; 2 refused before anything changed because of the
 * arguments or the configuration; 1 refused because of the guest's or the
 * cluster's state (running guest, old node still answering, no complete
 * replica), or a step failed (the message says where things stand). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/parse-util.h"
#include "base/validate.h"
#include "cli/cmds.h"
#include "cli/commands.h"
#include "cli/opts.h"
#include "cluster/store.h"
#include "config/cluster.h"
#include "config/hacfg.h"
#include "engine/failover.h"
#include "engine/migrate.h"
#include "engine/prepare.h"

static const char *human_bytes(uint64_t n, char *buf, size_t size)
{
	if (n < 10000)
		snprintf(buf, size, "%" PRIu64 " B", n);
	else if (n < 10000000)
		snprintf(buf, size, "%.1f KB", (double)n / 1e3);
	else
		snprintf(buf, size, "%.1f MB", (double)n / 1e6);
	return buf;
}

int cmd_migrate(int argc, char **argv, struct context *ctx)
{
	static const char *const names[] = { "vmid", "target" };
	struct opt_spec specs[] = {
		{ "online", OPT_BOOL, NULL }, { "verbose", OPT_BOOL, NULL }, { NULL, OPT_VALUE, NULL },
	};
	struct strvec pos = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	struct migrate_opts o = { 0 };
	struct migrate_result res = MIGRATE_RESULT_INIT;
	char hb[32];
	int r, ret = EXIT_USAGE;

	if (opts_parse(argc, argv, specs, &pos) < 0 || opts_want_args(&pos, names, 2) < 0)
		goto out;
	if (opts_vmid_arg(pos.v[0], "", &o.vmid) < 0)
		goto out;
	if (!valid_node_name(pos.v[1])) {
		error("invalid node name '%s'", pos.v[1]);
		goto out;
	}
	o.target = pos.v[1];
	o.online = specs[0].value && !strcmp(specs[0].value, "1");
	o.echo = specs[1].value && !strcmp(specs[1].value, "1") ? stdout : NULL;
	r = migrate_guest(ctx, &o, &res, &err);
	if (r < 0) {
		error("%s", err.buf);
		ret = exit_code_of(r, ERRK_INVALID);
		goto out;
	}
	if (err.len)
		warning("%s", err.buf);
	printf("migrated guest %" PRIu32 " from '%s' to '%s'\n", o.vmid, ctx->node, o.target);
	if (!res.synced)
		printf("final sync: none (the guest has no replicated volumes)\n");
	else if (res.full)
		printf("final sync: full copy of %zu volume%s (the target held no replica), %" PRIu64 " bytes (%s) sent\n",
		       res.volumes.nr, res.volumes.nr == 1 ? "" : "s", res.bytes_sent,
		       human_bytes(res.bytes_sent, hb, sizeof(hb)));
	else
		printf("final sync: job %s, %zu volume%s, %" PRIu64 " bytes (%s) sent\n", res.sync_job, res.volumes.nr,
		       res.volumes.nr == 1 ? "" : "s", res.bytes_sent, human_bytes(res.bytes_sent, hb, sizeof(hb)));
	for (size_t i = 0; i < res.jobs.nr; i++) {
		struct strvec w = STRVEC_INIT;

		strvec_split(&w, res.jobs.v[i], ' ');
		if (w.nr == 3)
			printf("job %s: now %s -> %s\n", w.v[0], w.v[1], w.v[2]);
		strvec_clear(&w);
	}
	if (res.synced)
		printf("the volumes on '%s' are kept%s\n", ctx->node,
		       res.full ? "" : " as the replica of the reversed job");
	ret = 0;
out:
	migrate_result_release(&res);
	strvec_clear(&pos);
	strbuf_release(&err);
	return ret;
}

/* While HA is active (etcd store, the guest in ha.cfg and not ignored),
 * the daemons recover the guest themselves: a failover by hand would race
 * them (docs/ha.md). */
static int ha_refuses(const struct context *ctx, uint32_t vmid)
{
	struct ha_cfg hc = HA_CFG_INIT;
	struct strbuf err = STRBUF_INIT;
	const struct ha_resource *r;
	int ret = 0;

	if (store_get(ctx->config_dir)->kind != STORE_ETCD)
		return 0;
	if (ha_cfg_load(ctx->config_dir, 0, &hc, NULL, NULL, &err) < 0) {
		ret = error("%s", err.buf);
	} else if ((r = ha_cfg_find(&hc, vmid)) && r->state != HA_IGNORED) {
		ret = error("guest %" PRIu32 " is managed by HA (state %s): the daemons recover it when its node dies "
			    "- refusing a manual failover (--force to do it anyway, or 'volrep ha set %" PRIu32
			    " --state ignored' first)", vmid, ha_state_name(r->state), vmid);
	}
	ha_cfg_release(&hc);
	strbuf_release(&err);
	return ret;
}

int cmd_failover(int argc, char **argv, struct context *ctx)
{
	static const char *const names[] = { "vmid" };
	struct opt_spec specs[] = {
		{ "to", OPT_VALUE, NULL }, { "dry-run", OPT_BOOL, NULL }, { "force", OPT_BOOL, NULL },
		{ "confirm-down", OPT_VALUE, NULL }, { "snapshot", OPT_VALUE, NULL },
		{ NULL, OPT_VALUE, NULL },
	};
	struct strvec pos = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	struct failover_opts o = { 0 };
	int r, ret = EXIT_USAGE;

	if (opts_parse(argc, argv, specs, &pos) < 0 || opts_want_args(&pos, names, 1) < 0)
		goto out;
	if (opts_vmid_arg(pos.v[0], "", &o.vmid) < 0)
		goto out;
	if (specs[0].value && !valid_node_name(specs[0].value)) {
		error("invalid node name '%s'", specs[0].value);
		goto out;
	}
	if (specs[4].value && !repl_snap_any(specs[4].value)) {
		error("invalid snapshot '%s' - expected a replication snapshot (__replicate_<id>_<time>__)",
		      specs[4].value);
		goto out;
	}
	o.to = specs[0].value;
	o.snapshot = specs[4].value;
	o.dry_run = specs[1].value && !strcmp(specs[1].value, "1");
	o.force = specs[2].value && !strcmp(specs[2].value, "1");
	if (specs[3].value && !valid_node_name(specs[3].value)) {
		error("invalid node name '%s'", specs[3].value);
		goto out;
	}
	o.confirm_down = specs[3].value;
	o.out = stdout;
	if (!o.force && ha_refuses(ctx, o.vmid) < 0) {
		ret = EXIT_FAILED;
		goto out;
	}
	r = failover_guest(ctx, &o, &err);
	if (r < 0) {
		error("%s", err.buf);
		ret = exit_code_of(r, ERRK_INVALID);
		goto out;
	}
	ret = 0;
out:
	strvec_clear(&pos);
	strbuf_release(&err);
	return ret;
}
