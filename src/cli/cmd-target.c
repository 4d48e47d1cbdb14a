/* The target-side verbs the source runs over ssh (docs/pvesr-compat.md
 * §4.5; contract in engine/remote.h):
 *   volrep prepare-local-job <jobid> [--scan <sid,...>] [<volid> ...]
 *          --last_sync <n> [--parent_snapname <name>] [--force]
 *   volrep finalize-local-job <jobid> <volid>... --last_sync <n>
 *   volrep set-state <vmid> <json>
 * and those of migration and failover (docs/migration.md):
 *   volrep replica-snapshots <vmid> <volid>...
 *   volrep replica-rollback <vmid> <snap> <volid>...
 *   volrep guest-start <vmid>
 * Messages go to stderr without volrep's prefix, as pvesr prints them: the
 * source relays them into its job log. prepare-local-job prints one line
 * of JSON on stdout, {"<volid>":{"<snap>":{"id":..,"timestamp":..}}}. */
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
#include "config/cluster.h"
#include "config/jobs.h"
#include "engine/elog.h"
#include "engine/hook.h"
#include "engine/replica.h"
#include "engine/target.h"
#include "state/state.h"

static int parse_last_sync(const char *s, int64_t *ret)
{
	*ret = 0;
	if (s && (parse_i64(s, ret) < 0 || *ret < 0)) {
		error("invalid last_sync '%s' - must be a non-negative integer", s);
		return -1;
	}
	return 0;
}

/* --keep N: extra restore points of the job kept here (0..JOB_KEEP_MAX) */
static int parse_keep(const char *s, unsigned *ret)
{
	uint64_t v = 0;

	*ret = 0;
	if (s && parse_uint_range(s, 0, JOB_KEEP_MAX, &v) < 0) {
		error("invalid keep '%s' - expected a number of snapshots, 0..%d", s, JOB_KEEP_MAX);
		return -1;
	}
	*ret = (unsigned)v;
	return 0;
}

static int parse_jobid(const char *s, struct strbuf *canon)
{
	struct strbuf err = STRBUF_INIT;
	int r = job_id_parse(s, canon, NULL, NULL, &err);

	if (r < 0)
		error("%s", err.buf);
	strbuf_release(&err);
	return r;
}

static int load_config(struct cluster_config *cc, const struct context *ctx)
{
	struct strbuf err = STRBUF_INIT;
	int r = cluster_config_load(cc, ctx->config_dir, 0, &err);

	if (r < 0)
		error("%s", err.buf);
	strbuf_release(&err);
	return r;
}

/* The exit code of a verb's result r, after err's message when it failed. */
static int verb_result(int r, const struct strbuf *err)
{
	if (r < 0)
		error("%s", err->buf);
	return exit_code_of(r, ERRK_INVALID);
}

/* The snapshots found, one line of JSON on stdout; the exit code. */
static int print_snaps(const struct snap_map *m)
{
	char *json = snap_map_to_json(m);

	printf("%s\n", json);
	free(json);
	return fflush(stdout) == 0 ? 0 : EXIT_FAILED;
}

int cmd_prepare_local_job(int argc, char **argv, struct context *ctx)
{
	struct opt_spec specs[] = {
		{ "scan", OPT_VALUE, NULL }, { "last_sync", OPT_VALUE, NULL },
		{ "parent_snapname", OPT_VALUE, NULL }, { "force", OPT_BOOL, NULL },
		{ "keep", OPT_VALUE, NULL },
		{ NULL, OPT_VALUE, NULL },
	};
	struct strvec pos = STRVEC_INIT, scan = STRVEC_INIT, volids = STRVEC_INIT;
	struct strbuf id = STRBUF_INIT, err = STRBUF_INIT;
	struct cluster_config cc = CLUSTER_CONFIG_INIT;
	struct snap_map out = SNAP_MAP_INIT;
	struct target_prepare_args a = { 0 };
	int r, ret = EXIT_USAGE;

	log_set_prefix("");
	if (opts_parse(argc, argv, specs, &pos) < 0)
		goto out;
	if (!pos.nr) {
		error("missing argument 'id'");
		goto out;
	}
	if (parse_jobid(pos.v[0], &id) < 0 || parse_last_sync(specs[1].value, &a.last_sync) < 0 ||
	    parse_keep(specs[4].value, &a.keep) < 0)
		goto out;
	if (specs[0].value) {
		strvec_split(&scan, specs[0].value, ',');
		for (size_t i = 0; i < scan.nr; i++)
			if (!valid_storage_id(scan.v[i])) {
				error("invalid storage id '%s' in --scan", scan.v[i]);
				goto out;
			}
	}
	if (specs[2].value && !valid_snapshot_name(specs[2].value)) {
		error("invalid snapshot name '%s'", specs[2].value);
		goto out;
	}
	for (size_t i = 1; i < pos.nr; i++)
		strvec_push(&volids, pos.v[i]);
	a.jobid = id.buf;
	a.scan = &scan;
	a.volids = &volids;
	a.parent = specs[2].value;
	a.force = specs[3].value && !strcmp(specs[3].value, "1");
	ret = EXIT_FAILED;
	if (load_config(&cc, ctx) < 0)
		goto out;
	r = target_prepare(&cc, ctx->node, &a, &elog_stderr, &out, &err);
	ret = r < 0 ? verb_result(r, &err) : print_snaps(&out);
out:
	snap_map_release(&out);
	cluster_config_release(&cc);
	strvec_clear(&pos);
	strvec_clear(&scan);
	strvec_clear(&volids);
	strbuf_release(&id);
	strbuf_release(&err);
	return ret;
}

int cmd_finalize_local_job(int argc, char **argv, struct context *ctx)
{
	struct opt_spec specs[] = { { "last_sync", OPT_VALUE, NULL }, { "keep", OPT_VALUE, NULL },
				    { NULL, OPT_VALUE, NULL } };
	struct strvec pos = STRVEC_INIT, volids = STRVEC_INIT;
	struct strbuf id = STRBUF_INIT, err = STRBUF_INIT;
	struct cluster_config cc = CLUSTER_CONFIG_INIT;
	int64_t last_sync;
	unsigned keep;
	int ret = EXIT_USAGE;

	log_set_prefix("");
	if (opts_parse(argc, argv, specs, &pos) < 0)
		goto out;
	if (!pos.nr) {
		error("missing argument 'id'");
		goto out;
	}
	if (parse_jobid(pos.v[0], &id) < 0 || parse_last_sync(specs[0].value, &last_sync) < 0 ||
	    parse_keep(specs[1].value, &keep) < 0)
		goto out;
	for (size_t i = 1; i < pos.nr; i++)
		strvec_push(&volids, pos.v[i]);
	ret = EXIT_FAILED;
	if (load_config(&cc, ctx) < 0)
		goto out;
	ret = verb_result(target_finalize(&cc, ctx->node, id.buf, &volids, last_sync, keep, &elog_stderr, &err), &err);
out:
	cluster_config_release(&cc);
	strvec_clear(&pos);
	strvec_clear(&volids);
	strbuf_release(&id);
	strbuf_release(&err);
	return ret;
}

struct set_state_data {
	uint32_t vmid;
	const char *json;
};

static int set_state_fn(struct state *st, void *data, struct strbuf *err)
{
	struct set_state_data *sd = data;

	return state_set_guest_json(st, sd->vmid, sd->json, err);
}

int cmd_set_state(int argc, char **argv, struct context *ctx)
{
	static const char *const names[] = { "vmid", "state" };
	struct opt_spec none[] = { { NULL, OPT_VALUE, NULL } };
	struct strvec pos = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	struct set_state_data sd;
	int ret = EXIT_USAGE;

	log_set_prefix("");
	if (opts_parse(argc, argv, none, &pos) < 0 || opts_want_args(&pos, names, 2) < 0 ||
	    opts_vmid_arg(pos.v[0], "", &sd.vmid) < 0)
		goto out;
	sd.json = pos.v[1];
	ret = verb_result(state_update(ctx->state_dir, set_state_fn, &sd, &err), &err);
out:
	strvec_clear(&pos);
	strbuf_release(&err);
	return ret;
}

/* <vmid> [<snap>] <volid>... */
static int target_args(int argc, char **argv, int with_snap, struct strvec *pos, uint32_t *vmid,
		       struct strvec *volids)
{
	struct opt_spec none[] = { { NULL, OPT_VALUE, NULL } };
	size_t first = with_snap ? 2 : 1;

	log_set_prefix("");
	if (opts_parse(argc, argv, none, pos) < 0)
		return -1;
	if (pos->nr < first) {
		error("missing argument '%s'", pos->nr ? "snapshot" : "vmid");
		return -1;
	}
	if (opts_vmid_arg(pos->v[0], "", vmid) < 0)
		return -1;
	if (with_snap && !valid_snapshot_name(pos->v[1])) {
		error("invalid snapshot name '%s'", pos->v[1]);
		return -1;
	}
	for (size_t i = first; i < pos->nr; i++)
		strvec_push(volids, pos->v[i]);
	return 0;
}

/* replica-snapshots <vmid> <volid>... and (rollback) replica-rollback
 * <vmid> <snap> <volid>... */
static int replica_verb(int argc, char **argv, struct context *ctx, int rollback)
{
	struct strvec pos = STRVEC_INIT, volids = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	struct cluster_config cc = CLUSTER_CONFIG_INIT;
	struct snap_map out = SNAP_MAP_INIT;
	uint32_t vmid;
	int r, ret = EXIT_USAGE;

	if (target_args(argc, argv, rollback, &pos, &vmid, &volids) < 0)
		goto out;
	ret = EXIT_FAILED;
	if (load_config(&cc, ctx) < 0)
		goto out;
	if (rollback) {
		r = replica_rollback(&cc, ctx->node, vmid, pos.v[1], &volids, &elog_stderr, &err);
		ret = verb_result(r, &err);
	} else {
		r = replica_list(&cc, ctx->node, vmid, &volids, &out, &err);
		ret = r < 0 ? verb_result(r, &err) : print_snaps(&out);
	}
out:
	snap_map_release(&out);
	cluster_config_release(&cc);
	strvec_clear(&pos);
	strvec_clear(&volids);
	strbuf_release(&err);
	return ret;
}

int cmd_replica_snapshots(int argc, char **argv, struct context *ctx)
{
	return replica_verb(argc, argv, ctx, 0);
}

int cmd_replica_rollback(int argc, char **argv, struct context *ctx)
{
	return replica_verb(argc, argv, ctx, 1);
}

int cmd_guest_start(int argc, char **argv, struct context *ctx)
{
	static const char *const names[] = { "vmid" };
	struct opt_spec none[] = { { NULL, OPT_VALUE, NULL } };
	struct strvec pos = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	struct cluster_config cc = CLUSTER_CONFIG_INIT;
	const struct guest *g;
	uint32_t vmid;
	int ret = EXIT_USAGE;

	log_set_prefix("");
	if (opts_parse(argc, argv, none, &pos) < 0 || opts_want_args(&pos, names, 1) < 0 ||
	    opts_vmid_arg(pos.v[0], "", &vmid) < 0)
		goto out;
	ret = EXIT_FAILED;
	if (load_config(&cc, ctx) < 0)
		goto out;
	g = guests_find(&cc.guests, vmid);
	if (!g || strcmp(g->node, ctx->node)) {
		error("guest '%" PRIu32 "' is not on local node", vmid);
		ret = EXIT_USAGE;
		goto out;
	}
	if (guest_hook_start(ctx->config_dir, ctx->node, g->type, vmid, &err) < 0) {
		error("%s", err.buf);
		goto out;
	}
	ret = 0;
out:
	cluster_config_release(&cc);
	strvec_clear(&pos);
	strbuf_release(&err);
	return ret;
}
