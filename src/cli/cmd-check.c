/* volrep check [--remote] [--output-format ...]: validate this node's
 * configuration as a run would see it, and say exactly what is wrong.
 *
 * Checks, each reported as one line "ok|warn|error <what>: <detail>":
 *   config dir     exists and is readable (with a cluster store it holds
 *                  only what is node-local, the hooks: may be absent)
 *   store          (cluster store) which one; etcd: each endpoint's
 *                  health, and whether the cluster is quorate
 *   files          nodes.cfg, storage.cfg (present), replication.cfg,
 *                  from the config dir or the cluster store;
 *                  parse warnings (unknown keys, bad lines)
 *   identity       this node is in nodes.cfg
 *   storages       every replicatable storage available on this node is
 *                  present here: the zfs pool dataset, the btrfs path
 *   jobs           each job of a guest on this node: target known, the
 *                  guest's volumes replicatable (the rules of a run); the
 *                  jobs replicating to this node (what it holds)
 *   remote         (--remote [NODE...]) the nodes named, else each target
 *                  of this node's jobs, else every other node: ssh login
 *                  with BatchMode under the node-name host key alias and
 *                  the remote `volrep version`
 * Exit 0 when no error was found, 1 otherwise. */
#include <errno.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/types.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "base/strvec.h"
#include "base/validate.h"
#include "cli/cmds.h"
#include "cluster/store.h"
#include "cli/commands.h"
#include "cli/jobs-output.h"
#include "cli/opts.h"
#include "config/cluster.h"
#include "config/datacenter.h"
#include "config/volrepcfg.h"
#include "engine/remote.h"
#include "exec/spawn.h"
#include "transport/direct.h"
#include "transport/ssh.h"
#include "transport/transport.h"

enum level { CHECK_OK, CHECK_WARN, CHECK_ERROR };

struct report {
	enum output_format fmt;
	json_t *items;
	json_t *store; /* JSON: the cluster store's state, NULL in dir mode */
	int errors, warnings;
};

static void add(struct report *rp, enum level lv, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void add(struct report *rp, enum level lv, const char *what, const char *fmt, ...)
{
	static const char *const names[] = { "ok", "warn", "error" };
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	if (lv == CHECK_ERROR)
		rp->errors++;
	else if (lv == CHECK_WARN)
		rp->warnings++;
	if (rp->fmt == OUTPUT_TEXT) {
		printf("%-5s %s: %s\n", names[lv], what, sb.buf);
	} else {
		json_t *o = json_object();
		json_object_set_new(o, "level", json_string(names[lv]));
		json_object_set_new(o, "check", json_string(what));
		json_object_set_new(o, "message", json_string(sb.buf));
		json_array_append_new(rp->items, o);
	}
	strbuf_release(&sb);
}

static int file_exists(const char *dir, const char *name)
{
	struct strbuf p = STRBUF_INIT;
	struct stat st;
	int r;

	strbuf_addf(&p, "%s/%s", dir, name);
	r = stat(p.buf, &st) == 0;
	strbuf_release(&p);
	return r;
}

static void check_files(struct report *rp, const struct context *ctx)
{
	static const char *const files[] = { "nodes.cfg", "storage.cfg", NULL };

	for (const char *const *f = files; *f; f++) {
		if (file_exists(ctx->config_dir, *f))
			add(rp, CHECK_OK, *f, "'%s/%s' present", ctx->config_dir, *f);
		else
			add(rp, CHECK_ERROR, *f, "missing: looked for '%s/%s' (config dir from %s)", ctx->config_dir,
			    *f, ctx->config_dir_from);
	}
	if (!file_exists(ctx->config_dir, "replication.cfg"))
		add(rp, CHECK_OK, "replication.cfg", "no jobs yet ('%s/replication.cfg' absent)", ctx->config_dir);
}

/* Proxmox VE's migration network (config/datacenter.h): a broken one
 * fails every run, so say it here */
static void check_datacenter(struct report *rp, const struct context *ctx)
{
	struct strbuf e = STRBUF_INIT;
	struct dc_cfg dc;
	const struct dc_net *rn;

	if (dc_cfg_load(&dc, ctx->config_dir, &e) < 0) {
		add(rp, CHECK_ERROR, DATACENTER_CFG_NAME, "%s", e.buf);
	} else {
		rn = dc_replication_net(&dc);
		if (rn->has_network || dc.migration.has_network)
			add(rp, CHECK_OK, DATACENTER_CFG_NAME, "replication traffic over %s%s%s, migration over %s%s%s",
			    rn->has_network ? "network '" : "the nodes' addresses", rn->has_network ? rn->network : "",
			    rn->has_network ? "'" : "", dc.migration.has_network ? "network '" : "the nodes' addresses",
			    dc.migration.has_network ? dc.migration.network : "", dc.migration.has_network ? "'" : "");
	}
	strbuf_release(&e);
}

/* migration-type insecure: the streams leave ssh. With a network, this
 * node (as a target) needs an address in it to listen on: tried (its
 * nodes.cfg address first, as the one sources reach it at). */
static void check_direct(struct report *rp, const struct volrep_cfg *vc, const struct cluster_node *self)
{
	struct direct_listener l = DIRECT_LISTENER_INIT;
	struct strbuf err = STRBUF_INIT;

	if (!vc->migration_network[0]) {
		add(rp, CHECK_OK, "migration", "insecure: streams unencrypted over direct TCP to each target's "
		    "address (no migration-network)");
		return;
	}
	if (direct_listen(&l, vc->migration_network, self ? self->address : NULL, &err) == 0)
		add(rp, CHECK_OK, "migration", "insecure: streams unencrypted over direct TCP on %s (this node "
		    "listens on %s as a target)", vc->migration_network, l.addr);
	else
		add(rp, CHECK_ERROR, "migration", "%s: this node cannot be a target of the direct data path",
		    err.buf);
	direct_close(&l);
	strbuf_release(&err);
}

/* What the storage's tool can do beyond the basics (docs/storage.md),
 * for the features its type lists: features that are off are fine, the
 * line only says so. */
static void storage_features(struct report *rp, const char *what, const struct storage *st)
{
	const struct storage_type *t = st->stype;
	struct backend b = BACKEND_INIT;
	struct backend_storage bs = { .type = t->type };
	struct backend_caps caps;
	struct strbuf line = STRBUF_INIT;

	for (size_t k = 0; k < BACKEND_LOC_MAX; k++)
		bs.loc[k] = st->loc[k];
	if (t->presence.features && backend_open(&b, &bs) == 0 && backend_probe(&b, &caps) == 0) {
		if (t->presence.features & STORAGE_FEAT_RESUME)
			strbuf_addf(&line, "resumable receives %s%s%s", caps.resume_tokens ? "on" : "off (",
				    caps.resume_tokens ? "" : t->tool, caps.resume_tokens ? "" : " has no resume tokens)");
		if (t->presence.features & STORAGE_FEAT_RAW)
			strbuf_addf(&line, "%sraw sends %s%s%s", line.len ? ", " : "", caps.send_raw ? "on" : "off (",
				    caps.send_raw ? "" : t->tool, caps.send_raw ? "" : " has no send -w)");
		add(rp, CHECK_OK, what, "%s", line.buf);
	}
	backend_close(&b);
	strbuf_release(&line);
}

/* Whether st's location is there on this node, as its type's descriptor
 * says to look (backend/types.h): 1, or 0 with the reason in why. */
static int storage_present(const struct storage *st, struct strbuf *why)
{
	const struct storage_type *t = st->stype;
	struct strvec argv = STRVEC_INIT;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct stat sb;
	int ok;

	if (!t->presence.argv)
		return stat(st->loc[0], &sb) == 0 && S_ISDIR(sb.st_mode);
	strvec_pushv(&argv, t->presence.argv);
	strvec_push(&argv, st->loc[0]);
	ok = run_capture((const char *const *)argv.v, NULL, 0, &out, &err, 65536) == 0;
	if (!ok && err.len)
		strbuf_addf(why, ": %.*s", (int)strcspn(err.buf, "\n"), err.buf);
	strvec_clear(&argv);
	strbuf_release(&out);
	strbuf_release(&err);
	return ok;
}

static const char *store_kind_name(const struct store *st)
{
	return st->kind == STORE_ETCD ? "etcd" : st->kind == STORE_PMXCFS ? "pmxcfs" : "dir";
}

/* The files, read from the cluster store as every command reads them. */
static void check_store_files(struct report *rp, struct store *st)
{
	static const char *const files[] = { "nodes.cfg", "storage.cfg", "replication.cfg", NULL };
	struct strbuf text = STRBUF_INIT, err = STRBUF_INIT;

	for (const char *const *f = files; *f; f++) {
		int64_t rev = 0;
		int r;

		strbuf_reset(&err);
		r = store_read(st, *f, 0, &text, &rev, &err);
		if (r == 0)
			add(rp, CHECK_OK, *f, "in the store (%zu bytes, revision %lld)", text.len, (long long)rev);
		else if (r == 1 && !strcmp(*f, "replication.cfg"))
			add(rp, CHECK_OK, *f, "no jobs yet (not in the store)");
		else if (r == 1)
			add(rp, CHECK_ERROR, *f, "missing: not in '%s'", st->where);
		else
			add(rp, CHECK_ERROR, *f, "%s", err.buf);
	}
	if (st->stale)
		add(rp, CHECK_WARN, "store", "cluster not quorate: checking the last configuration read (%s)",
		    st->stale_why ? st->stale_why : "cached");
	strbuf_release(&text);
	strbuf_release(&err);
}

/* Which store, the health of its endpoints, its quorum. */
static void check_store(struct report *rp, struct store *st)
{
	struct strvec health = STRVEC_INIT;
	struct strbuf why = STRBUF_INIT;
	json_t *eps = json_array();
	size_t healthy;
	int quorate;

	add(rp, CHECK_OK, "store", "configuration in '%s' (%s)", st->where, store_kind_name(st));
	healthy = store_endpoint_health(st, &health);
	for (size_t i = 0; i < health.nr; i++) {
		const char *line = health.v[i], *sep = strstr(line, ": ");
		int ok = sep && !strncmp(sep, ": ok (", 6);
		struct strbuf what = STRBUF_INIT, name = STRBUF_INIT;
		json_t *e = json_object();

		strbuf_add(&name, line, sep ? (size_t)(sep - line) : strlen(line));
		strbuf_addf(&what, "endpoint %s", name.buf);
		/* one member down is a degraded cluster, not a broken one: the
		 * quorum line says whether it still works */
		add(rp, ok ? CHECK_OK : CHECK_WARN, what.buf, "%s", sep ? sep + 2 : line);
		json_object_set_new(e, "endpoint", json_string(name.buf));
		json_object_set_new(e, "healthy", json_boolean(ok));
		json_object_set_new(e, "status", json_string(sep ? sep + 2 : line));
		json_array_append_new(eps, e);
		strbuf_release(&what);
		strbuf_release(&name);
	}
	quorate = store_quorate(st, &why);
	if (quorate && health.nr)
		add(rp, CHECK_OK, "quorum", "quorate (%zu of %zu endpoints healthy)", healthy, health.nr);
	else if (quorate)
		add(rp, CHECK_OK, "quorum", "quorate");
	else
		add(rp, CHECK_ERROR, "quorum", "cluster not quorate: %s", why.buf);
	rp->store = json_object();
	json_object_set_new(rp->store, "kind", json_string(store_kind_name(st)));
	json_object_set_new(rp->store, "where", json_string(st->where));
	json_object_set_new(rp->store, "quorate", json_boolean(quorate));
	if (!quorate)
		json_object_set_new(rp->store, "reason", json_string(why.buf));
	if (st->kind == STORE_ETCD)
		json_object_set_new(rp->store, "endpoints", eps);
	else
		json_decref(eps);
	strvec_clear(&health);
	strbuf_release(&why);
}

static void check_storages(struct report *rp, const struct cluster_config *cc, const char *node)
{
	for (size_t i = 0; i < cc->storages.nr; i++) {
		const struct storage *st = &cc->storages.v[i];
		struct strbuf what = STRBUF_INIT, why = STRBUF_INIT;

		if (!storage_can_replicate(st) || !storage_available_on(st, node))
			continue;
		strbuf_addf(&what, "storage '%s'", st->id);
		if (storage_present(st, &why)) {
			add(rp, CHECK_OK, what.buf, "%s '%s' present", st->stype->presence.what, st->loc[0]);
			storage_features(rp, what.buf, st);
		} else {
			add(rp, CHECK_ERROR, what.buf, "%s '%s' %s on this node%s", st->stype->presence.what, st->loc[0],
			    st->stype->presence.missing, why.buf);
		}
		strbuf_release(&why);
		strbuf_release(&what);
	}
}

static void check_jobs(struct report *rp, const struct cluster_config *cc, const char *node, struct strvec *targets)
{
	for (size_t i = 0; i < cc->jobs.nr; i++) {
		const struct repl_job *j = &cc->jobs.v[i];
		const struct guest *g = guests_find(&cc->guests, j->guest);
		struct strbuf what = STRBUF_INIT, err = STRBUF_INIT;
		struct volume_list vols = { 0 };

		strbuf_addf(&what, "job '%s'", j->id);
		if (!g) {
			add(rp, CHECK_WARN, what.buf, "guest %u has no config under nodes/*/", j->guest);
		} else if (strcmp(g->node, node)) {
			/* another node's job: checked there; a target says what it holds */
			if (!strcmp(j->target, node))
				add(rp, CHECK_OK, what.buf, "this node holds the replica of guest %u from '%s'%s",
				    j->guest, g->node, j->disable ? " (job disabled)" : "");
		} else if (!nodes_cfg_find(&cc->nodes, j->target)) {
			add(rp, CHECK_ERROR, what.buf, "target '%s' is not in nodes.cfg", j->target);
		} else if (cluster_guest_volumes(cc, g, j->remove_job ? GUEST_VOL_CLEANUP : 0, &vols, &err) < 0) {
			add(rp, CHECK_ERROR, what.buf, "%s", err.buf);
		} else {
			add(rp, CHECK_OK, what.buf, "%zu volume(s) to '%s'", vols.nr, j->target);
			if (strvec_find(targets, j->target) < 0)
				strvec_push(targets, j->target);
		}
		volume_list_release(&vols);
		strbuf_release(&what);
		strbuf_release(&err);
	}
}

static void check_remote(struct report *rp, const struct context *ctx, const struct cluster_config *cc,
			 const char *target)
{
	const struct cluster_node *n = nodes_cfg_find(&cc->nodes, target);
	const char *const argv[] = { remote_bin(), "version", NULL };
	struct transport t = TRANSPORT_INIT;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT, what = STRBUF_INIT, msg = STRBUF_INIT;
	int r;

	strbuf_addf(&what, "ssh to '%s'", target);
	if (!n) {
		add(rp, CHECK_ERROR, what.buf, "'%s' is not in nodes.cfg", target);
		goto out;
	}
	if (remote_open(&t, &cc->nodes, target, ctx->state_dir, &msg) < 0) {
		add(rp, CHECK_ERROR, what.buf, "%s", msg.len ? msg.buf : "not in nodes.cfg");
		goto out;
	}
	remote_set_persist(&t, ctx->config_dir);
	r = transport_run(&t, argv, NULL, 0, &out, &err, 4096);
	if (r == 0 && !strncmp(out.buf, "volrep ", 7)) {
		out.buf[strcspn(out.buf, "\n")] = '\0';
		add(rp, CHECK_OK, what.buf, "'%s' answers at %s (%s)", target, n->address, out.buf);
	} else if (strstr(err.buf, "Host key verification failed") || strstr(err.buf, "No ED25519 host key") ||
		   strstr(err.buf, "host key")) {
		add(rp, CHECK_ERROR, what.buf,
		    "host key of '%s' not known under the alias '%s': run 'ssh-keyscan %s | sed \"s/^[^ ]*/%s/\" "
		    ">>~/.ssh/known_hosts' after checking the key, or 'volrep ssh-setup %s'", n->address, target,
		    n->address, target, target);
	} else if (strstr(err.buf, "Permission denied")) {
		add(rp, CHECK_ERROR, what.buf,
		    "login refused at %s: this node's key is not in root's authorized_keys there (with "
		    "command=\"volrep serve --peer %s\",restrict): run 'volrep ssh-setup %s'", n->address, ctx->node,
		    target);
	} else if (r == 0) {
		add(rp, CHECK_ERROR, what.buf, "the remote command did not answer 'volrep <version>' but '%.*s': "
		    "is the forced command 'volrep serve' set in authorized_keys? ('volrep ssh-setup %s' sets it)",
		    (int)strcspn(out.buf, "\n"), out.buf, target);
	} else {
		transport_describe(&t, argv, r, err.buf, &msg);
		add(rp, CHECK_ERROR, what.buf, "%s", msg.buf);
	}
	transport_release(&t);
out:
	strbuf_release(&out);
	strbuf_release(&err);
	strbuf_release(&what);
	strbuf_release(&msg);
}

/* The config dir: a directory, or (with a cluster store, which holds the
 * files) absent. Returns 0 when it is neither: nothing more to check. */
static int check_config_dir(struct report *rp, const struct context *ctx)
{
	struct stat st;

	if (stat(ctx->config_dir, &st) == 0 && S_ISDIR(st.st_mode)) {
		add(rp, CHECK_OK, "config dir", "'%s' (from %s)%s", ctx->config_dir, ctx->config_dir_from,
		    store_cluster() ? ", node-local files (hooks)" : "");
		return 1;
	}
	if (!store_cluster()) {
		add(rp, CHECK_ERROR, "config dir", "'%s' (from %s) is not a directory", ctx->config_dir,
		    ctx->config_dir_from);
		return 0;
	}
	add(rp, CHECK_OK, "config dir", "'%s' (from %s) absent: no node-local hooks", ctx->config_dir,
	    ctx->config_dir_from);
	return 1;
}

static void check_volrep_cfg(struct report *rp, const struct context *ctx, const struct cluster_config *cc)
{
	struct volrep_cfg vc;
	struct strbuf e = STRBUF_INIT;

	if (volrep_cfg_load(&vc, ctx->config_dir, &e) < 0)
		add(rp, CHECK_ERROR, VOLREP_CFG_NAME, "%s", e.buf);
	else if (vc.migration_insecure)
		check_direct(rp, &vc, nodes_cfg_find(&cc->nodes, ctx->node));
	strbuf_release(&e);
}

static void check_identity(struct report *rp, const struct context *ctx, const struct cluster_config *cc)
{
	struct strbuf err = STRBUF_INIT;

	if (nodes_cfg_check_self(&cc->nodes, ctx, &err))
		add(rp, CHECK_ERROR, "identity", "%s", err.buf);
	else
		add(rp, CHECK_OK, "identity", "this node is '%s' (from %s)", ctx->node, ctx->node_from);
	strbuf_release(&err);
}

/* --remote: the nodes named, else the targets of the jobs, else (a node
 * being set up) every other node. */
static void check_remotes(struct report *rp, const struct context *ctx, const struct cluster_config *cc,
			  const struct strvec *named, struct strvec *targets)
{
	if (named->nr) {
		strvec_clear(targets);
		for (size_t i = 0; i < named->nr; i++)
			strvec_push(targets, named->v[i]);
	} else if (!targets->nr) {
		for (size_t i = 0; i < cc->nodes.nr; i++)
			if (strcmp(cc->nodes.v[i].name, ctx->node))
				strvec_push(targets, cc->nodes.v[i].name);
	}
	for (size_t i = 0; i < targets->nr; i++)
		check_remote(rp, ctx, cc, targets->v[i]);
}

/* Every check in order, into rp; named: the nodes of --remote. */
static void run_checks(struct report *rp, const struct context *ctx, int remote, const struct strvec *named)
{
	struct strvec targets = STRVEC_INIT;
	struct cluster_config cc = CLUSTER_CONFIG_INIT;
	struct strbuf err = STRBUF_INIT;

	if (!check_config_dir(rp, ctx))
		return;
	/* a cluster store holds the files; the config dir only the hooks */
	if (store_cluster()) {
		check_store(rp, store_cluster());
		check_store_files(rp, store_cluster());
	} else {
		check_files(rp, ctx);
	}
	if (cluster_config_load(&cc, ctx->config_dir, 0, &err) < 0) {
		add(rp, CHECK_ERROR, "config", "%s", err.buf);
		goto out;
	}
	for (size_t i = 0; i < cc.warnings.nr; i++)
		add(rp, CHECK_WARN, "config", "%s", cc.warnings.v[i]);
	check_volrep_cfg(rp, ctx, &cc);
	check_datacenter(rp, ctx);
	check_identity(rp, ctx, &cc);
	check_storages(rp, &cc, ctx->node);
	check_jobs(rp, &cc, ctx->node, &targets);
	if (remote)
		check_remotes(rp, ctx, &cc, named, &targets);
out:
	cluster_config_release(&cc);
	strvec_clear(&targets);
	strbuf_release(&err);
}

static void print_report(const struct report *rp, const struct context *ctx)
{
	if (rp->fmt != OUTPUT_TEXT) {
		json_t *o = json_object();
		json_object_set_new(o, "node", json_string(ctx->node));
		json_object_set_new(o, "errors", json_integer(rp->errors));
		json_object_set_new(o, "warnings", json_integer(rp->warnings));
		json_object_set_new(o, "store", rp->store ? json_incref(rp->store)
							: json_pack("{s:s, s:s, s:b}", "kind", "dir", "where",
								    ctx->config_dir, "quorate", 1));
		json_object_set_new(o, "checks", json_incref(rp->items));
		print_json(o, rp->fmt);
		json_decref(o);
	} else {
		printf("%d error(s), %d warning(s)\n", rp->errors, rp->warnings);
	}
}

int cmd_check(int argc, char **argv, struct context *ctx)
{
	struct opt_spec specs[] = {
		{ "remote", OPT_BOOL, NULL }, { "output-format", OPT_VALUE, NULL }, { NULL, OPT_VALUE, NULL },
	};
	struct strvec pos = STRVEC_INIT;
	struct report rp = { 0 };
	int ret = EXIT_USAGE, remote;

	if (opts_parse(argc, argv, specs, &pos) < 0 || output_format_parse(specs[1].value, &rp.fmt) < 0)
		goto out;
	for (size_t i = 0; i < pos.nr; i++) {
		if (!valid_node_name(pos.v[i])) {
			error("invalid node name '%s'", pos.v[i]);
			goto out;
		}
	}
	remote = specs[0].value && !strcmp(specs[0].value, "1");
	if (pos.nr && !remote) {
		error("node names are only taken with --remote (volrep check --remote [NODE...])");
		goto out;
	}
	rp.items = json_array();
	run_checks(&rp, ctx, remote, &pos);
	print_report(&rp, ctx);
	ret = fflush(stdout) != 0 || rp.errors ? EXIT_FAILED : 0;
out:
	json_decref(rp.items);
	json_decref(rp.store);
	strvec_clear(&pos);
	return ret;
}
