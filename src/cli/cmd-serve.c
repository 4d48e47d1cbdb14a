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
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "base/log.h"
#include "base/validate.h"
#include "cli/cmds.h"
#include "cli/commands.h"
#include "config/cluster.h"
#include "exec/spawn.h"
#include "state/state.h"
#include "transport/local.h"
#include "transport/serve.h"

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

int cmd_serve(int argc, char **argv, struct context *ctx)
{
	const char *cmd = getenv("SSH_ORIGINAL_COMMAND"), *peer;
	struct serve_cmd sc = SERVE_CMD_INIT;
	struct cluster_config cc = CLUSTER_CONFIG_INIT;
	struct serve_policy pol = { .cc = NULL, .self = ctx->node, .peer = NULL };
	struct strbuf why = STRBUF_INIT, exe = STRBUF_INIT, e = STRBUF_INIT;
	struct child c = CHILD_INIT;
	struct strvec pve = STRVEC_INIT;
	struct state *st = NULL;
	char stbuf[64];
	int r, any;

	if (parse_serve_args(argc, argv, &peer, &any) < 0)
		return EXIT_USAGE;
	pol.peer = peer;
	keep_pve_settings(&pve);
	scrub_environment();
	if (!cmd) {
		error("serve: refused: no command given (interactive login is not allowed)");
		strvec_clear(&pve);
		return EXIT_USAGE;
	}
	if (serve_parse_cmd(cmd, strlen(cmd), &sc, &why) < 0) {
		error("serve: refused: %s (peer '%s')", why.buf, peer ? peer : "*");
		audit(peer, "peer '%s': refused: %s%s", why.buf, NULL);
		r = EXIT_USAGE;
		goto out;
	}
	if (any)
		audit(NULL, "peer '%s': --any-peer: '%s' runs without ownership checks%s", sc.name, NULL);
	if (peer && serve_verb_needs_config(&sc)) {
		if (cluster_config_load(&cc, ctx->config_dir, 0, &e) < 0) {
			error("serve: refused: cannot read this node's config: %s", e.buf);
			r = EXIT_FAILED;
			goto out;
		}
		pol.cc = &cc;
		if (!strcmp(sc.name, "guest-start") && state_load(ctx->state_dir, &st, &e) < 0) {
			error("serve: refused: cannot read this node's state: %s", e.buf);
			r = EXIT_FAILED;
			goto out;
		}
		pol.state = st;
	}
	if (serve_policy_check(&pol, &sc, &why) < 0) {
		error("serve: refused: %s: %s (peer '%s')", sc.name, why.buf, peer);
		audit(peer, "peer '%s': refused: %s: %s", sc.name, why.buf);
		r = EXIT_USAGE;
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
	/* the verb's whole context, explicitly: this node's, as serve itself
	 * resolved it */
	strvec_pushf(&c.env, "VOLREP_CONFIG_DIR=%s", ctx->config_dir);
	strvec_pushf(&c.env, "VOLREP_STATE_DIR=%s", ctx->state_dir);
	strvec_pushf(&c.env, "VOLREP_LOG_DIR=%s", ctx->log_dir);
	strvec_pushf(&c.env, "VOLREP_NODE=%s", ctx->node);
	if (ctx->cluster)
		strvec_pushf(&c.env, "VOLREP_CLUSTER=%s", ctx->cluster);
	for (size_t i = 0; i < pve.nr; i++)
		strvec_push(&c.env, pve.v[i]);
	strvec_push(&c.env, "SSH_ORIGINAL_COMMAND=");
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
	strvec_clear(&pve);
	serve_cmd_release(&sc);
	cluster_config_release(&cc);
	state_free(st);
	strbuf_release(&why);
	strbuf_release(&exe);
	strbuf_release(&e);
	return r;
}
