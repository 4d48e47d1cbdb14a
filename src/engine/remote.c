#include "engine/remote.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "config/volrepcfg.h"
#include "transport/local.h"
#include "transport/session.h"
#include "transport/ssh.h"

const char *remote_bin(void)
{
	const char *s = getenv("VOLREP_REMOTE_BIN");

	return s && *s ? s : "volrep";
}

static void push_list(struct strvec *argv, const struct strvec *l)
{
	for (size_t i = 0; l && i < l->nr; i++)
		strvec_push(argv, l->v[i]);
}

void remote_prepare_argv(struct strvec *argv, const char *jobid, const struct strvec *scan,
			 const struct strvec *volids, int64_t last_sync, const char *parent, int force)
{
	strvec_push(argv, remote_bin());
	strvec_push(argv, "prepare-local-job");
	strvec_push(argv, jobid);
	if (scan && scan->nr) {
		struct strbuf sb = STRBUF_INIT;

		for (size_t i = 0; i < scan->nr; i++)
			strbuf_addf(&sb, "%s%s", i ? "," : "", scan->v[i]);
		strvec_push(argv, "--scan");
		strvec_push(argv, sb.buf);
		strbuf_release(&sb);
	}
	push_list(argv, volids);
	strvec_push(argv, "--last_sync");
	strvec_pushf(argv, "%" PRId64, last_sync);
	if (parent) {
		strvec_push(argv, "--parent_snapname");
		strvec_push(argv, parent);
	}
	if (force)
		strvec_push(argv, "--force");
}

void remote_keep_argv(struct strvec *argv, unsigned keep)
{
	if (!keep)
		return;
	strvec_push(argv, "--keep");
	strvec_pushf(argv, "%u", keep);
}

void remote_finalize_argv(struct strvec *argv, const char *jobid, const struct strvec *volids,
			  int64_t last_sync)
{
	strvec_push(argv, remote_bin());
	strvec_push(argv, "finalize-local-job");
	strvec_push(argv, jobid);
	push_list(argv, volids);
	strvec_push(argv, "--last_sync");
	strvec_pushf(argv, "%" PRId64, last_sync);
}

void remote_import_argv(struct strvec *argv, const char *volid, const char *snap, const char *base,
			const char *compress)
{
	strvec_push(argv, remote_bin());
	strvec_push(argv, "import");
	strvec_push(argv, volid);
	strvec_push(argv, "--snapshot");
	strvec_push(argv, snap);
	if (base) {
		strvec_push(argv, "--base");
		strvec_push(argv, base);
	}
	if (compress) {
		strvec_push(argv, "--compress");
		strvec_push(argv, compress);
	}
}

void remote_set_state_argv(struct strvec *argv, const char *vmid, const char *json)
{
	strvec_push(argv, remote_bin());
	strvec_push(argv, "set-state");
	strvec_push(argv, vmid);
	strvec_push(argv, json);
}

static void pass_env(struct transport *t, const char *from, const char *to)
{
	const char *v = getenv(from);

	if (v && *v)
		strvec_pushf(&t->env, "%s=%s", to, v);
}

int remote_open(struct transport *t, const struct nodes_cfg *nc, const char *target,
		const char *state_dir, struct strbuf *err)
{
	const struct cluster_node *n = nodes_cfg_find(nc, target);
	const char *mode = getenv("VOLREP_TRANSPORT");
	int r;

	if (mode && !strcmp(mode, "local")) {
		r = transport_local_init(t, target, NULL);
		if (r < 0) {
			strbuf_addf(err, "cannot set up the local transport to '%s': %s", target, strerror(-r));
			return r;
		}
		pass_env(t, "VOLREP_TARGET_CONFIG_DIR", "VOLREP_CONFIG_DIR");
		pass_env(t, "VOLREP_TARGET_STATE_DIR", "VOLREP_STATE_DIR");
		pass_env(t, "VOLREP_TARGET_LOG_DIR", "VOLREP_LOG_DIR");
		return 0;
	}
	if (!n) {
		strbuf_addf(err, "no such cluster node '%s'", target);
		return -ENOENT;
	}
	r = transport_ssh_init(t, target, n->address, state_dir);
	if (r < 0)
		strbuf_addf(err, "invalid ssh address '%s' of node '%s'", n->address, target);
	else if (n->port)
		r = transport_ssh_set_port(t, n->port);
	return r;
}

void remote_set_persist(struct transport *t, const char *config_dir)
{
	struct volrep_cfg cfg;
	struct strbuf err = STRBUF_INIT;

	if (t->ops != &ssh_transport_ops)
		return;
	volrep_cfg_init(&cfg);
	volrep_cfg_load(&cfg, config_dir, &err);
	transport_ssh_set_persist(t, cfg.ssh_persist);
	strbuf_release(&err);
}

int remote_call(struct transport *t, struct session *sess, const struct strvec *argv, struct strbuf *out,
		struct strbuf *rerr, struct strbuf *err)
{
	const char *const *av = (const char *const *)argv->v;
	struct strbuf own = STRBUF_INIT, *e = rerr ? rerr : &own;
	int r;

	if (sess)
		r = session_run(sess, av, out, e, REMOTE_OUT_MAX);
	else
		r = transport_run(t, av, NULL, 0, out, e, REMOTE_OUT_MAX);
	if (r != 0) {
		struct strbuf msg = STRBUF_INIT;

		transport_describe(t, av, r, e->buf, &msg);
		strbuf_add(err, msg.buf, msg.len);
		strbuf_release(&msg);
		r = r == -ENOTCONN ? -ENOTCONN : -EIO;
	}
	strbuf_release(&own);
	return r;
}
