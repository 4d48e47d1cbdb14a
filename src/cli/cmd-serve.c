/* volrep serve --peer NODE: the forced command of NODE's replication key
 * on a target node. authorized_keys, one line per peer:
 *   restrict,command="volrep serve --peer pve1" ssh-ed25519 AAAA... root@pve1
 * sshd puts what the client asked for into SSH_ORIGINAL_COMMAND; only
 * "volrep <target-side verb> <valid arguments>" that the peer's own
 * replication, migration or failover needs (transport/serve.h) is run, as
 * this very binary with an argv built here (no shell), stdin/stdout/stderr
 * passed through. Anything else: one line on stderr (and syslog) naming
 * the peer, exit 2.
 *
 * Who this node is and where its files are comes from serve's own
 * command line (the forced command, written by the admin) and its own
 * environment at startup (sshd's SetEnv, the admin's again), never from
 * the ssh client: the child gets exactly these four values and no other
 * VOLREP_* variable, save the Proxmox VE settings of serve's own startup
 * environment (VOLREP_PVE_*, VOLREP_GUEST_STATE: engine/pvelock.h,
 * pveguest.h, pvenet.h), passed on when their value is plain. --any-peer
 * (no ownership checks, the behaviour of old versions) exists for
 * migrations of existing setups and says so in syslog on every call. See
 * docs/security.md. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/listmemo.h"
#include "base/log.h"
#include "base/quote.h"
#include "base/validate.h"
#include "cli/cmds.h"
#include "cli/commands.h"
#include "config/cluster.h"
#include "exec/spawn.h"
#include "state/state.h"
#include "transport/local.h"
#include "transport/serve.h"
#include "transport/session.h"

extern char **environ;

/* The PVE settings of serve's startup environment (the admin's: sshd's
 * SetEnv, never the client's), kept across the scrub: a plain value, no
 * blanks or controls. */
static int plain(const char *v)
{
	for (; *v; v++)
		if ((unsigned char)*v <= ' ' || (unsigned char)*v >= 0x7f)
			return 0;
	return 1;
}

/* what keep_pve_settings kept, for verb_env */
static struct strvec pve_settings = STRVEC_INIT;

static void keep_pve_settings(struct strvec *keep)
{
	for (char **e = environ; e && *e; e++) {
		const char *v = strchr(*e, '=');

		if (!v || (strncmp(*e, "VOLREP_PVE_", 11) && strncmp(*e, "VOLREP_GUEST_STATE=", 19)))
			continue;
		if (strlen(*e) > 1024 || strspn(*e, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") != (size_t)(v - *e))
			continue;
		if (plain(v + 1))
			strvec_push(keep, *e);
	}
}

/* Drop every inherited VOLREP_* variable: what reaches the child is
 * decided here. */
static void scrub_environment(void)
{
	for (;;) {
		char name[256];
		size_t n;
		int found = 0;

		for (char **e = environ; e && *e; e++) {
			if (strncmp(*e, "VOLREP_", 7))
				continue;
			n = strcspn(*e, "=");
			if (n >= sizeof(name)) {
				/* too long to name: clear the whole environment entry */
				**e = '\0';
				continue;
			}
			memcpy(name, *e, n);
			name[n] = '\0';
			found = 1;
			break;
		}
		if (!found)
			return;
		unsetenv(name);
	}
}

static void audit(const char *peer, const char *fmt, const char *a, const char *b)
{
	openlog("volrep-serve", LOG_PID, LOG_AUTH);
	syslog(LOG_WARNING, fmt, peer ? peer : "*", a, b ? b : "");
	closelog();
}

static int parse_serve_args(int argc, char **argv, const char **peer, int *any)
{
	*peer = NULL;
	*any = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--peer") && i + 1 < argc && !*peer) {
			*peer = argv[++i];
			if (!valid_node_name(*peer)) {
				error("serve: invalid peer node name '%s'", *peer);
				return -1;
			}
		} else if (!strcmp(argv[i], "--any-peer") && !*any) {
			*any = 1;
		} else {
			error("serve: unexpected argument '%s' (usage: serve --peer NODE | --any-peer; the command comes "
			      "from SSH_ORIGINAL_COMMAND)", argv[i]);
			return -1;
		}
	}
	if (*peer && *any) {
		error("serve: --peer and --any-peer exclude each other");
		return -1;
	}
	if (!*peer && !*any) {
		error("serve: refused: no --peer NODE given (authorized_keys: command=\"volrep serve --peer NODE\"; "
		      "see docs/security.md)");
		return -1;
	}
	return 0;
}

/* The gate for one command line: grammar, then (with a peer) the peer's
 * policy against this node's own config. 0 and *sc, or the exit code
 * (EXIT_USAGE: refused, EXIT_FAILED: this node's config unreadable)
 * with the one-line reason in msg ("serve: refused: ..."), logged. */
static int gate(struct context *ctx, const char *peer, int any, const char *cmd, size_t len, struct serve_cmd *sc,
		struct strbuf *msg)
{
	struct cluster_config cc = CLUSTER_CONFIG_INIT;
	struct serve_policy pol = { .cc = NULL, .self = ctx->node, .peer = peer };
	struct strbuf why = STRBUF_INIT, e = STRBUF_INIT;
	struct state *st = NULL;
	int r = 0;

	strbuf_reset(msg);
	if (serve_parse_cmd(cmd, len, sc, &why) < 0) {
		strbuf_addf(msg, "serve: refused: %s (peer '%s')", why.buf, peer ? peer : "*");
		audit(peer, "peer '%s': refused: %s%s", why.buf, NULL);
		r = EXIT_USAGE;
		goto out;
	}
	if (any)
		audit(NULL, "peer '%s': --any-peer: '%s' runs without ownership checks%s", sc->name, NULL);
	if (peer && serve_verb_needs_config(sc)) {
		if (cluster_config_load(&cc, ctx->config_dir, 0, &e) < 0) {
			strbuf_addf(msg, "serve: refused: cannot read this node's config: %s", e.buf);
			r = EXIT_FAILED;
			goto out;
		}
		pol.cc = &cc;
		if (!strcmp(sc->name, "guest-start") && state_load(ctx->state_dir, &st, &e) < 0) {
			strbuf_addf(msg, "serve: refused: cannot read this node's state: %s", e.buf);
			r = EXIT_FAILED;
			goto out;
		}
		pol.state = st;
	}
	if (serve_policy_check(&pol, sc, &why) < 0) {
		strbuf_addf(msg, "serve: refused: %s: %s (peer '%s')", sc->name, why.buf, peer);
		audit(peer, "peer '%s': refused: %s: %s", sc->name, why.buf);
		r = EXIT_USAGE;
	}
out:
	if (r)
		serve_cmd_release(sc);
	cluster_config_release(&cc);
	state_free(st);
	strbuf_release(&why);
	strbuf_release(&e);
	return r;
}

/* the verb's whole context, explicitly: this node's, as serve itself
 * resolved it */
static void verb_env(const struct context *ctx, struct strvec *env)
{
	strvec_pushf(env, "VOLREP_CONFIG_DIR=%s", ctx->config_dir);
	strvec_pushf(env, "VOLREP_STATE_DIR=%s", ctx->state_dir);
	strvec_pushf(env, "VOLREP_LOG_DIR=%s", ctx->log_dir);
	strvec_pushf(env, "VOLREP_NODE=%s", ctx->node);
	if (ctx->cluster)
		strvec_pushf(env, "VOLREP_CLUSTER=%s", ctx->cluster);
	for (size_t i = 0; i < pve_settings.nr; i++)
		strvec_push(env, pve_settings.v[i]);
	strvec_push(env, "SSH_ORIGINAL_COMMAND=");
}

/* ---- one session: every command of a run through this process ---- */

struct session_gate {
	struct context *ctx;
	const char *peer;
	int any;
	int forked; /* a verb has run in a child */
};

struct verb_call {
	struct context *ctx;
	struct strvec argv; /* the verb first, as serve_cmd_argv built it */
};

/* In the forked child: the verb's handler from the command table, in
 * this process image (what the session already loaded and probed is
 * there), with the environment a spawned verb would get. */
static int run_verb(void *arg)
{
	struct verb_call *vc = arg;
	struct strvec env = STRVEC_INIT;

	verb_env(vc->ctx, &env);
	for (size_t i = 0; i < env.nr; i++) {
		char *eq = strchr(env.v[i], '=');

		*eq = '\0';
		setenv(env.v[i], eq + 1, 1);
	}
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(c->name, vc->argv.v[0]))
			return c->fn((int)vc->argv.nr, vc->argv.v, vc->ctx);
	return EXIT_FAILED;
}

static int session_start(void *data, const char *cmd, size_t len, struct child *c, int *code, struct strbuf *why)
{
	struct session_gate *sg = data;
	struct serve_cmd sc = SERVE_CMD_INIT;
	struct verb_call vc = { .ctx = sg->ctx, .argv = STRVEC_INIT };
	struct strbuf msg = STRBUF_INIT;
	int r;

	/* a cluster store's connection (etcd) that a child used is not ours
	 * any more (a TLS session cannot be shared): a fresh one */
	if (sg->forked && sg->ctx->cluster && context_open_cluster(sg->ctx) < 0) {
		*code = EXIT_FAILED;
		strbuf_addstr(why, "volrep: serve: refused: cannot reopen this node's cluster store");
		return -EIO;
	}
	r = gate(sg->ctx, sg->peer, sg->any, cmd, len, &sc, &msg);
	if (r) {
		*code = r;
		strbuf_addf(why, "volrep: %s", msg.buf);
		strbuf_release(&msg);
		return -EACCES;
	}
	serve_cmd_argv(&sc, &vc.argv);
	c->in = c->out = c->err = CHILD_PIPE;
	/* a stopped session stops the verb's receive with it */
	c->new_pgrp = 1;
	r = child_start_fn(c, run_verb, &vc);
	sg->forked = 1;
	if (r < 0) {
		*code = EXIT_FAILED;
		strbuf_addf(why, "volrep: serve: cannot run '%s': %s", sc.name, strerror(-r));
	}
	strvec_clear(&vc.argv);
	serve_cmd_release(&sc);
	strbuf_release(&msg);
	return r;
}

static int serve_session(struct context *ctx, const char *peer, int any)
{
	struct session_gate sg = { .ctx = ctx, .peer = peer, .any = any };
	struct session_server srv = { .start = session_start, .data = &sg, .idle_ms = 0 };
	struct strbuf err = STRBUF_INIT;
	int r;

	/* `zfs help` once per session, not once per command, and a
	 * command's snapshot listing for the next (backend/listmemo.h) */
	backend_caps_cache_share();
	listmemo_share();
	r = session_serve(STDIN_FILENO, STDOUT_FILENO, &srv, &err);
	if (r < 0 && r != -EPIPE) {
		error("session: %s", err.len ? err.buf : strerror(-r));
		if (r == -EPROTO)
			audit(peer, "peer '%s': session ended: %s%s", err.buf, NULL);
	}
	strbuf_release(&err);
	return r < 0 ? EXIT_FAILED : 0;
}

/* SSH_ORIGINAL_COMMAND asks for a session: exactly "volrep session". */
static int wants_session(const char *cmd)
{
	struct strvec words = STRVEC_INIT;
	int yes = sq_split_strict(cmd, strlen(cmd), &words, NULL) == 2 &&
		  !strcmp(words.v[0], "volrep") && !strcmp(words.v[1], "session");

	strvec_clear(&words);
	return yes;
}

/* volrep session: the same protocol without a forced command (the local
 * transport, or a key without serve): every command still passes the
 * verb table's grammar, without a peer to check against. */
int cmd_session(int argc, char **argv, struct context *ctx)
{
	(void)argv;
	if (argc > 1) {
		error("session: no arguments expected (the commands come on stdin, docs/protocol.md)");
		return EXIT_USAGE;
	}
	return serve_session(ctx, NULL, 0);
}

int cmd_serve(int argc, char **argv, struct context *ctx)
{
	const char *cmd = getenv("SSH_ORIGINAL_COMMAND"), *peer;
	struct serve_cmd sc = SERVE_CMD_INIT;
	struct strbuf msg = STRBUF_INIT, exe = STRBUF_INIT;
	struct child c = CHILD_INIT;
	char stbuf[64];
	int r, any;

	if (parse_serve_args(argc, argv, &peer, &any) < 0)
		return EXIT_USAGE;
	keep_pve_settings(&pve_settings);
	scrub_environment();
	if (!cmd) {
		error("serve: refused: no command given (interactive login is not allowed)");
		r = EXIT_USAGE;
		goto out;
	}
	if (wants_session(cmd)) {
		if (any)
			audit(NULL, "peer '%s': --any-peer: a session%s%s", "", NULL);
		r = serve_session(ctx, peer, any);
		goto out;
	}
	r = gate(ctx, peer, any, cmd, strlen(cmd), &sc, &msg);
	if (r) {
		error("%s", msg.buf);
		goto out;
	}
	r = self_exe_path(&exe);
	if (r < 0) {
		error("serve: cannot find own binary: %s", strerror(-r));
		r = EXIT_FAILED;
		goto out;
	}
	strvec_push(&c.args, exe.buf);
	serve_cmd_argv(&sc, &c.args);
	verb_env(ctx, &c.env);
	r = child_start(&c);
	if (r < 0) {
		error("serve: cannot run '%s': %s", exe.buf, strerror(-r));
		child_clear(&c);
		r = EXIT_FAILED;
		goto out;
	}
	r = child_finish(&c);
	if (r < 0) {
		error("serve: '%s' failed: %s", sc.name, exit_status_str(r, stbuf, sizeof(stbuf)));
		r = EXIT_FAILED;
	}
out:
	strvec_clear(&pve_settings);
	serve_cmd_release(&sc);
	strbuf_release(&msg);
	strbuf_release(&exe);
	return r;
}
