/* volrep ha: which guests the daemons recover when their node dies
 * (docs/ha.md), and what they did.
 *   volrep ha add <vmid> [--state started|stopped|ignored] [--group G] [--max-relocate N]
 *   volrep ha set <vmid> [--state S] [--group G|""] [--max-relocate N]
 *   volrep ha remove <vmid>
 *   volrep ha group <name> --nodes N1,N2,... | --delete
 *   volrep ha list [--output-format text|json|json-pretty]
 *   volrep ha status [--output-format text|json|json-pretty]
 * and what the daemon runs (etcd mode):
 *   volrep ha recover <node> [--since EPOCH]
 *   volrep ha resume <vmid>
 * Exit status: 0 done, 2 bad input (nothing changed), 1 failed. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/parse-util.h"
#include "base/time-util.h"
#include "base/validate.h"
#include "cli/cmds.h"
#include "cli/commands.h"
#include "cli/jobs-output.h"
#include "cli/opts.h"
#include "cluster/store.h"
#include "config/cluster.h"
#include "config/hacfg.h"
#include "config/volrepcfg.h"
#include "ha/ha.h"

#define HA_SUBCOMMANDS "add, set, remove, group, list, status, recover, resume"

/* Its guest ids name the accepted range. */
static int parse_vmid_arg(const char *s, uint32_t *vmid)
{
	return opts_vmid_arg(s, " - expected a number from 100 to 999999999", vmid);
}

/* The changes of add/set, checked before anything is read. */
struct ha_change {
	int add;
	uint32_t vmid;
	enum guest_type type;
	const char *state, *group, *relocate;
	enum ha_state st;
	uint64_t max_relocate;
	/* group */
	const char *gname, *gnodes;
	int gdelete;
};

static int check_change(struct ha_change *c)
{
	if (c->state && ha_state_parse(c->state, &c->st) < 0) {
		error("invalid state '%s' - expected started, stopped or ignored", c->state);
		return -1;
	}
	if (c->group && *c->group && !ha_valid_group_name(c->group)) {
		error("invalid group name '%s' - expected a letter, then letters, digits, '_', '.', '-' (64 at most)",
		      c->group);
		return -1;
	}
	if (c->relocate && parse_uint_range(c->relocate, 0, HA_MAX_RELOCATE_LIMIT, &c->max_relocate) < 0) {
		error("invalid max-relocate '%s' - expected a number from 0 to %d", c->relocate, HA_MAX_RELOCATE_LIMIT);
		return -1;
	}
	return 0;
}

static int apply_change(struct ha_cfg *hc, void *data, struct strbuf *err)
{
	struct ha_change *c = data;
	struct ha_resource *r = ha_cfg_find(hc, c->vmid);

	if (c->group && *c->group && !ha_cfg_group(hc, c->group)) {
		strbuf_addf(err, "no such HA group '%s' (create it with: volrep ha group %s --nodes NODE,...)", c->group,
			    c->group);
		return -EINVAL;
	}
	if (c->add && r) {
		strbuf_addf(err, "guest %" PRIu32 " is already managed by HA (use ha set)", c->vmid);
		return -EINVAL;
	}
	if (!c->add && !r) {
		strbuf_addf(err, "guest %" PRIu32 " is not managed by HA (use ha add)", c->vmid);
		return -EINVAL;
	}
	if (c->add)
		r = ha_cfg_add(hc, c->vmid, c->type);
	if (c->state)
		r->state = c->st;
	if (c->group)
		ha_resource_set_group(r, c->group);
	if (c->relocate)
		r->max_relocate = (unsigned)c->max_relocate;
	return 1;
}

static int apply_remove(struct ha_cfg *hc, void *data, struct strbuf *err)
{
	uint32_t vmid = *(uint32_t *)data;

	if (!ha_cfg_remove(hc, vmid)) {
		strbuf_addf(err, "guest %" PRIu32 " is not managed by HA", vmid);
		return -EINVAL;
	}
	return 1;
}

static int apply_group(struct ha_cfg *hc, void *data, struct strbuf *err)
{
	struct ha_change *c = data;

	if (c->gdelete) {
		for (size_t i = 0; i < hc->nres; i++)
			if (hc->res[i].group && !strcmp(hc->res[i].group, c->gname)) {
				strbuf_addf(err, "HA group '%s' is used by guest %" PRIu32, c->gname, hc->res[i].vmid);
				return -EINVAL;
			}
		for (size_t i = 0; i < hc->ngroups; i++)
			if (!strcmp(hc->groups[i].name, c->gname)) {
				free(hc->groups[i].name);
				strvec_clear(&hc->groups[i].nodes);
				memmove(&hc->groups[i], &hc->groups[i + 1], (hc->ngroups - i - 1) * sizeof(*hc->groups));
				hc->ngroups--;
				return 1;
			}
		strbuf_addf(err, "no such HA group '%s'", c->gname);
		return -EINVAL;
	}
	ha_cfg_set_group(hc, c->gname, c->gnodes);
	return 1;
}

static int run_modify(const struct context *ctx, ha_modify_fn *fn, void *data)
{
	struct strbuf err = STRBUF_INIT;
	int r = ha_cfg_modify(ctx->config_dir, fn, data, &err);

	if (r < 0)
		error("%s", err.buf);
	strbuf_release(&err);
	return exit_code_of(r, ERRK_INVALID);
}

static int ha_add_set(int argc, char **argv, struct context *ctx, int add)
{
	static const char *const names[] = { "vmid" };
	struct opt_spec specs[] = {
		{ "state", OPT_VALUE, NULL }, { "group", OPT_VALUE, NULL }, { "max-relocate", OPT_VALUE, NULL },
		{ NULL, OPT_VALUE, NULL },
	};
	struct strvec pos = STRVEC_INIT;
	struct ha_change c = { .add = add };
	int ret = EXIT_USAGE;

	if (opts_parse(argc, argv, specs, &pos) < 0 || opts_want_args(&pos, names, 1) < 0 ||
	    parse_vmid_arg(pos.v[0], &c.vmid) < 0)
		goto out;
	c.state = specs[0].value;
	c.group = specs[1].value;
	c.relocate = specs[2].value;
	if (check_change(&c) < 0)
		goto out;
	if (add) {
		struct cluster_config cc = CLUSTER_CONFIG_INIT;
		struct strbuf err = STRBUF_INIT;
		const struct guest *g = NULL;

		if (cluster_config_load(&cc, ctx->config_dir, 0, &err) < 0) {
			error("%s", err.buf);
			ret = EXIT_FAILED;
		} else if (!(g = guests_find(&cc.guests, c.vmid))) {
			error("no such guest '%" PRIu32 "' (no qemu-server or lxc config in any node folder)", c.vmid);
		} else {
			c.type = g->type;
		}
		cluster_config_release(&cc);
		strbuf_release(&err);
		if (!g)
			goto out;
	}
	ret = run_modify(ctx, apply_change, &c);
out:
	strvec_clear(&pos);
	return ret;
}

static int ha_remove(int argc, char **argv, struct context *ctx)
{
	static const char *const names[] = { "vmid" };
	struct opt_spec specs[] = { { NULL, OPT_VALUE, NULL } };
	struct strvec pos = STRVEC_INIT;
	uint32_t vmid;
	int ret = EXIT_USAGE;

	if (opts_parse(argc, argv, specs, &pos) == 0 && opts_want_args(&pos, names, 1) == 0 &&
	    parse_vmid_arg(pos.v[0], &vmid) == 0)
		ret = run_modify(ctx, apply_remove, &vmid);
	strvec_clear(&pos);
	return ret;
}

static int ha_group(int argc, char **argv, struct context *ctx)
{
	static const char *const names[] = { "name" };
	struct opt_spec specs[] = { { "nodes", OPT_VALUE, NULL }, { "delete", OPT_BOOL, NULL }, { NULL, OPT_VALUE, NULL } };
	struct strvec pos = STRVEC_INIT, nodes = STRVEC_INIT;
	struct ha_change c = { 0 };
	int ret = EXIT_USAGE;

	if (opts_parse(argc, argv, specs, &pos) < 0 || opts_want_args(&pos, names, 1) < 0)
		goto out;
	c.gname = pos.v[0];
	c.gnodes = specs[0].value;
	c.gdelete = specs[1].value && !strcmp(specs[1].value, "1");
	if (!ha_valid_group_name(c.gname)) {
		error("invalid group name '%s' - expected a letter, then letters, digits, '_', '.', '-' (64 at most)",
		      c.gname);
		goto out;
	}
	if (!c.gdelete == !c.gnodes) {
		error("ha group %s: give either --nodes N1,N2,... or --delete", c.gname);
		goto out;
	}
	if (c.gnodes) {
		strvec_split(&nodes, c.gnodes, ',');
		for (size_t i = 0; i <= nodes.nr; i++) {
			int dup = 0;

			for (size_t k = 0; i < nodes.nr && k < i; k++)
				dup |= !strcmp(nodes.v[i], nodes.v[k]);
			if (i == nodes.nr ? nodes.nr == 0 || nodes.nr > HA_GROUP_NODES_MAX
					  : !valid_node_name(nodes.v[i]) || dup) {
				error("invalid nodes '%s' - expected a comma-separated list of distinct node names",
				      c.gnodes);
				goto out;
			}
		}
	}
	ret = run_modify(ctx, apply_group, &c);
out:
	strvec_clear(&pos);
	strvec_clear(&nodes);
	return ret;
}

static json_t *resource_json(const struct ha_resource *r)
{
	return json_pack("{s:I,s:s,s:s,s:o,s:I}", "vmid", (json_int_t)r->vmid, "type", ha_type_name(r->type), "state",
			 ha_state_name(r->state), "group", r->group ? json_string(r->group) : json_null(),
			 "max_relocate", (json_int_t)r->max_relocate);
}

static int load_all(const struct context *ctx, struct ha_cfg *hc, struct cluster_config *cc, struct ha_status *hs)
{
	struct strbuf err = STRBUF_INIT;
	struct strvec w = STRVEC_INIT;
	int r = ha_cfg_load(ctx->config_dir, 0, hc, NULL, &w, &err);

	for (size_t i = 0; i < w.nr; i++)
		warning("%s", w.v[i]);
	if (r == 0 && cc)
		r = cluster_config_load(cc, ctx->config_dir, 0, &err);
	if (r == 0 && hs)
		r = ha_status_load(ctx->config_dir, 0, hs, NULL, &err);
	if (r < 0)
		error("%s", err.buf);
	strvec_clear(&w);
	strbuf_release(&err);
	return r;
}

static int ha_list(int argc, char **argv, struct context *ctx)
{
	struct opt_spec specs[] = { { "output-format", OPT_VALUE, NULL }, { NULL, OPT_VALUE, NULL } };
	struct strvec pos = STRVEC_INIT;
	struct ha_cfg hc = HA_CFG_INIT;
	enum output_format fmt;
	int ret = EXIT_USAGE;

	if (opts_parse(argc, argv, specs, &pos) < 0 || opts_want_args(&pos, NULL, 0) < 0 ||
	    output_format_parse(specs[0].value, &fmt) < 0)
		goto out;
	ret = EXIT_FAILED;
	if (load_all(ctx, &hc, NULL, NULL) < 0)
		goto out;
	if (fmt == OUTPUT_TEXT) {
		for (size_t i = 0; i < hc.ngroups; i++) {
			printf("group: %s nodes ", hc.groups[i].name);
			for (size_t k = 0; k < hc.groups[i].nodes.nr; k++)
				printf("%s%s", k ? "," : "", hc.groups[i].nodes.v[k]);
			printf("\n");
		}
		for (size_t i = 0; i < hc.nres; i++)
			printf("%s:%" PRIu32 " state %s group %s max-relocate %u\n", ha_type_name(hc.res[i].type),
			       hc.res[i].vmid, ha_state_name(hc.res[i].state), hc.res[i].group ? hc.res[i].group : "-",
			       hc.res[i].max_relocate);
	} else {
		json_t *a = json_array();

		for (size_t i = 0; i < hc.nres; i++)
			json_array_append_new(a, resource_json(&hc.res[i]));
		print_json(a, fmt);
		json_decref(a);
	}
	ret = 0;
out:
	ha_cfg_release(&hc);
	strvec_clear(&pos);
	return ret;
}

static void fmt_when(char *buf, size_t size, int64_t t)
{
	if (!t || !*format_time(buf, size, t))
		snprintf(buf, size, "-");
}

static int ha_status(int argc, char **argv, struct context *ctx)
{
	struct opt_spec specs[] = { { "output-format", OPT_VALUE, NULL }, { NULL, OPT_VALUE, NULL } };
	struct strvec pos = STRVEC_INIT;
	struct ha_cfg hc = HA_CFG_INIT;
	struct cluster_config cc = CLUSTER_CONFIG_INIT;
	struct ha_status hs = HA_STATUS_INIT;
	struct store *st = store_get(ctx->config_dir);
	enum output_format fmt;
	json_t *a = NULL;
	int ret = EXIT_USAGE;

	if (opts_parse(argc, argv, specs, &pos) < 0 || opts_want_args(&pos, NULL, 0) < 0 ||
	    output_format_parse(specs[0].value, &fmt) < 0)
		goto out;
	ret = EXIT_FAILED;
	if (load_all(ctx, &hc, &cc, &hs) < 0)
		goto out;
	if (fmt == OUTPUT_TEXT)
		printf("HA %s\n", st->kind == STORE_ETCD ? "active (etcd store: the daemons recover guests of dead nodes)"
							 : "inactive (needs the etcd store)");
	else
		a = json_array();
	for (size_t i = 0; i < hc.nres; i++) {
		const struct ha_resource *r = &hc.res[i];
		const struct guest *g = guests_find(&cc.guests, r->vmid);
		const char *node = g && g->type == r->type ? g->node : NULL;
		const struct ha_recovery *rec = ha_status_find(&hs, r->vmid);

		if (fmt == OUTPUT_TEXT) {
			char when[64];

			printf("%s:%" PRIu32 " node %s state %s", ha_type_name(r->type), r->vmid, node ? node : "-",
			       ha_state_name(r->state));
			if (rec) {
				fmt_when(when, sizeof(when), rec->when);
				printf("  last recovery %s %s -> %s, data-loss window %" PRId64 " s: %s", when, rec->from,
				       rec->to ? rec->to : "-", rec->window, rec->result ? rec->result : "");
			}
			printf("\n");
			continue;
		}
		json_t *o = resource_json(r);

		json_object_set_new(o, "node", node ? json_string(node) : json_null());
		if (rec)
			json_object_set_new(
				o, "last_recovery",
				json_pack("{s:I,s:s,s:o,s:I,s:o,s:I,s:I,s:o}", "when", (json_int_t)rec->when, "from",
					  rec->from, "to", rec->to ? json_string(rec->to) : json_null(), "node_lost",
					  (json_int_t)rec->node_lost, "snapshot",
					  rec->snapshot ? json_string(rec->snapshot) : json_null(), "snapshot_time",
					  (json_int_t)rec->snapshot_time, "data_loss_window", (json_int_t)rec->window,
					  "result", rec->result ? json_string(rec->result) : json_null()));
		else
			json_object_set_new(o, "last_recovery", json_null());
		json_array_append_new(a, o);
	}
	if (a)
		print_json(a, fmt);
	ret = 0;
out:
	json_decref(a);
	ha_cfg_release(&hc);
	cluster_config_release(&cc);
	ha_status_release(&hs);
	strvec_clear(&pos);
	return ret;
}

static int ha_recover(int argc, char **argv, struct context *ctx)
{
	static const char *const names[] = { "node" };
	struct opt_spec specs[] = { { "since", OPT_VALUE, NULL }, { NULL, OPT_VALUE, NULL } };
	struct strvec pos = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	uint64_t since = 0;
	int r, ret = EXIT_USAGE;

	if (opts_parse(argc, argv, specs, &pos) < 0 || opts_want_args(&pos, names, 1) < 0)
		goto out;
	if (!valid_node_name(pos.v[0])) {
		error("invalid node name '%s'", pos.v[0]);
		goto out;
	}
	if (specs[0].value && parse_u64(specs[0].value, &since) < 0) {
		error("invalid time '%s' for '--since' - expected seconds since the epoch", specs[0].value);
		goto out;
	}
	r = ha_recover_node(ctx, pos.v[0], since ? (int64_t)since : volrep_now(), stdout, &err);
	fflush(stdout);
	if (r == -EBUSY) {
		info("%s", err.buf);
		ret = 3;
	} else if (r < 0) {
		error("%s", err.buf);
		ret = exit_code_of(r, ERRK_INVALID | ERRK_UNSUPPORTED);
	} else {
		ret = 0;
	}
out:
	strvec_clear(&pos);
	strbuf_release(&err);
	return ret;
}

static int ha_resume(int argc, char **argv, struct context *ctx)
{
	static const char *const names[] = { "vmid" };
	struct opt_spec specs[] = { { NULL, OPT_VALUE, NULL } };
	struct strvec pos = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	uint32_t vmid;
	int r, ret = EXIT_USAGE;

	if (opts_parse(argc, argv, specs, &pos) < 0 || opts_want_args(&pos, names, 1) < 0 ||
	    parse_vmid_arg(pos.v[0], &vmid) < 0)
		goto out;
	r = ha_resume_guest(ctx, vmid, &err);
	if (r < 0) {
		error("%s", err.buf);
		ret = r == -EALREADY ? 3 : EXIT_FAILED;
	} else {
		printf("guest %" PRIu32 " started on '%s' again\n", vmid, ctx->node);
		ret = 0;
	}
out:
	strvec_clear(&pos);
	strbuf_release(&err);
	return ret;
}

int cmd_ha(int argc, char **argv, struct context *ctx)
{
	if (argc < 2) {
		error("missing argument 'subcommand' (" HA_SUBCOMMANDS ")");
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "add") || !strcmp(argv[1], "set"))
		return ha_add_set(argc - 1, argv + 1, ctx, !strcmp(argv[1], "add"));
	if (!strcmp(argv[1], "remove"))
		return ha_remove(argc - 1, argv + 1, ctx);
	if (!strcmp(argv[1], "group"))
		return ha_group(argc - 1, argv + 1, ctx);
	if (!strcmp(argv[1], "list"))
		return ha_list(argc - 1, argv + 1, ctx);
	if (!strcmp(argv[1], "status"))
		return ha_status(argc - 1, argv + 1, ctx);
	if (!strcmp(argv[1], "recover"))
		return ha_recover(argc - 1, argv + 1, ctx);
	if (!strcmp(argv[1], "resume"))
		return ha_resume(argc - 1, argv + 1, ctx);
	error("unknown ha subcommand '%s' (" HA_SUBCOMMANDS ")", argv[1]);
	return EXIT_USAGE;
}
