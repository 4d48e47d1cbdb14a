/* volrep serve: the forced command of the replication key on a target
 * node. authorized_keys:
 *   restrict,command="volrep serve" ssh-ed25519 AAAA... root@pve1
 * sshd puts what the client asked for into SSH_ORIGINAL_COMMAND; only
 * "volrep <target-side verb> <valid arguments>" (transport/serve.h) is run,
 * as this very binary with an argv (no shell), stdin/stdout/stderr passed
 * through. Anything else: one line on stderr, exit 2. */
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "cli/cmds.h"
#include "cli/commands.h"
#include "exec/spawn.h"
#include "transport/local.h"
#include "transport/serve.h"

int cmd_serve(int argc, char **argv, struct context *ctx)
{
	const char *cmd = getenv("SSH_ORIGINAL_COMMAND");
	struct strvec words = STRVEC_INIT;
	struct strbuf why = STRBUF_INIT, exe = STRBUF_INIT;
	struct child c = CHILD_INIT;
	char st[64];
	int r;

	(void)argv;
	if (argc > 1) {
		error("serve: takes no arguments (it reads SSH_ORIGINAL_COMMAND)");
		return EXIT_USAGE;
	}
	if (!cmd) {
		error("serve: refused: no command given (interactive login is not allowed)");
		return EXIT_USAGE;
	}
	if (serve_parse(cmd, strlen(cmd), &words, &why) < 0) {
		error("serve: refused: %s", why.buf);
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
	strvec_pushv(&c.args, (const char *const *)words.v);
	/* the global options of the forced command line (if any) reach the
	 * verb through the environment it resolves its context from */
	strvec_pushf(&c.env, "VOLREP_CONFIG_DIR=%s", ctx->config_dir);
	strvec_pushf(&c.env, "VOLREP_STATE_DIR=%s", ctx->state_dir);
	strvec_pushf(&c.env, "VOLREP_LOG_DIR=%s", ctx->log_dir);
	strvec_pushf(&c.env, "VOLREP_NODE=%s", ctx->node);
	if (ctx->cluster)
		strvec_pushf(&c.env, "VOLREP_CLUSTER=%s", ctx->cluster);
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
		error("serve: '%s' failed: %s", words.v[0], exit_status_str(r, st, sizeof(st)));
		r = EXIT_FAILED;
	}
out:
	strvec_clear(&words);
	strbuf_release(&why);
	strbuf_release(&exe);
	return r;
}
