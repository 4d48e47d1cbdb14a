/* volrep metrics: this node's replication metrics in the Prometheus text
 * format on stdout (metrics/metrics.h), e.g. for node_exporter's textfile
 * collector from a timer. Exit 1 (with volrep_up 0 printed) when the
 * config or the state cannot be read. */
#include <stdio.h>
#include <stdlib.h>

#include "base/log.h"
#include "base/strbuf.h"
#include "cli/cmds.h"
#include "cli/commands.h"
#include "cli/opts.h"
#include "metrics/metrics.h"

int cmd_metrics(int argc, char **argv, struct context *ctx)
{
	struct opt_spec none[] = { { NULL, OPT_VALUE, NULL } };
	struct strvec pos = STRVEC_INIT;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	int ret = EXIT_USAGE;

	if (opts_parse(argc, argv, none, &pos) < 0 || opts_want_args(&pos, NULL, 0) < 0)
		goto out;
	ret = metrics_render(ctx, NULL, &out, &err) < 0 ? EXIT_FAILED : 0;
	if (ret)
		error("%s", err.buf);
	fwrite(out.buf, 1, out.len, stdout);
	if (fflush(stdout) != 0)
		ret = EXIT_FAILED;
out:
	strvec_clear(&pos);
	strbuf_release(&out);
	strbuf_release(&err);
	return ret;
}
