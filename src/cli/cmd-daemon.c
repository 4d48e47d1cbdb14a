/* `volrep daemon`: option handling; the service is in src/daemon/. */
#include <stdio.h>
#include <string.h>

#include "base/strbuf.h"
#include "cli/cmds.h"
#include "cli/commands.h"
#include "cli/opts.h"
#include "base/log.h"
#include "config/nodes.h"
#include "config/volrepcfg.h"
#include "daemon/daemon.h"

void cmd_daemon_help(void)
{
	struct strbuf s = STRBUF_INIT;

	volrep_cfg_describe(&s);
	printf("usage: volrep daemon\n"
	       "  Run the replication scheduler in the foreground (a systemd service,\n"
	       "  Type=notify): each job runs when due, as its own `volrep run --id`\n"
	       "  process. Logs go to stderr. SIGHUP reloads; SIGTERM stops after the\n"
	       "  running jobs (see shutdown-grace).\n"
	       "  Up to max-workers runs at once, whatever their target, never two\n"
	       "  of one guest; max-per-target limits only their transfers: each run\n"
	       "  holds one of the target's transfer slots (flock on\n"
	       "  <state-dir>/lock/transfer-<target>.<k>.lck) while it streams.\n"
	       "\n"
	       "settings in <config-dir>/%s, one \"key value\" per line:\n%s",
	       VOLREP_CFG_NAME, s.buf);
	strbuf_release(&s);
}

int cmd_daemon(int argc, char **argv, struct context *ctx)
{
	struct opt_spec specs[] = { { "help", OPT_BOOL, NULL }, { NULL, OPT_VALUE, NULL } };
	struct strvec pos = STRVEC_INIT;
	int ret = EXIT_USAGE;

	if (opts_parse(argc, argv, specs, &pos) < 0 || opts_want_args(&pos, NULL, 0) < 0)
		goto out;
	if (specs[0].value && strcmp(specs[0].value, "0")) {
		cmd_daemon_help();
		ret = 0;
		goto out;
	}
	/* a daemon under the wrong name runs nothing, silently: refuse */
	{
		struct nodes_cfg nc = { 0 };
		struct strbuf msg = STRBUF_INIT;
		int bad = nodes_cfg_load(&nc, ctx->config_dir, NULL) < 0 || nodes_cfg_check_self(&nc, ctx, &msg);

		if (bad)
			error("%s", msg.len ? msg.buf : "unable to read nodes.cfg");
		nodes_cfg_release(&nc);
		strbuf_release(&msg);
		if (bad) {
			ret = EXIT_FAILED;
			goto out;
		}
	}
	ret = daemon_run(ctx);
out:
	strvec_clear(&pos);
	return ret;
}
