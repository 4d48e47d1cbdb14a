/* volrep notify-test: one test message to every notification target of
 * volrep.cfg (notify/notify.h), each outcome on its own line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/strbuf.h"
#include "base/time-util.h"
#include "cli/cmds.h"
#include "cli/commands.h"
#include "cli/opts.h"
#include "config/volrepcfg.h"
#include "notify/notify.h"

static void show(bool ok, const char *msg, void *data)
{
	(void)data;
	if (ok)
		printf("%s\n", msg);
	else
		error("%s", msg);
}

int cmd_notify_test(int argc, char **argv, struct context *ctx)
{
	struct opt_spec none[] = { { NULL, OPT_VALUE, NULL } };
	struct strvec pos = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	struct volrep_cfg cfg;
	struct notify_event ev;
	char host[256] = "";
	int ret = EXIT_USAGE;

	if (opts_parse(argc, argv, none, &pos) < 0 || opts_want_args(&pos, NULL, 0) < 0)
		goto out;
	ret = EXIT_FAILED;
	if (volrep_cfg_load(&cfg, ctx->config_dir, &err) < 0) {
		error("%s", err.buf);
		goto out;
	}
	if (!notify_configured(&cfg)) {
		error("no notification targets in '%s/%s' - add notify-mail or notify-webhook", ctx->config_dir,
		      VOLREP_CFG_NAME);
		goto out;
	}
	if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
		snprintf(host, sizeof(host), "%s", ctx->node);
	ev = (struct notify_event){ .kind = NOTIFY_TEST, .job_id = "test", .source = ctx->node, .now = volrep_now(),
				    .hostname = host };
	ret = notify_send_all(&cfg, &ev, show, NULL) ? EXIT_FAILED : 0;
	fflush(stdout);
out:
	strvec_clear(&pos);
	strbuf_release(&err);
	return ret;
}
