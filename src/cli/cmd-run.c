/* volrep run [--id ID] [--verbose] and volrep log <id>
 * (pvesr-behaviour.md §3.6, §3.7). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/strbuf.h"
#include "cli/cmds.h"
#include "cli/commands.h"
#include "cli/opts.h"
#include "base/parse-util.h"
#include "config/jobs.h"
#include "daemon/worker.h"
#include "engine/interrupt.h"
#include "engine/joblog.h"
#include "engine/replicate.h"
#include "engine/runner.h"
#include "engine/xferslot.h"
#include "state/state.h"

static void report(const char *jobid, const char *msg, void *data)
{
	(void)data;
	fprintf(stderr, "%s: %s\n", jobid, msg);
}

/* --scheduled: a run started by the daemon. Exit 0 ok, 1 failed,
 * RUN_EXIT_BUSY when the guest lock was busy (nothing done). */
static int run_scheduled(const struct context *ctx, const char *id, const char *cap_arg, const char *slots_arg,
			 const char *event_arg)
{
	struct strbuf err = STRBUF_INIT;
	double cap = 0;
	uint64_t slots = 0, event = 0;
	int r;

	if (cap_arg && (parse_double(cap_arg, &cap) < 0 || cap <= 0)) {
		error("invalid rate cap '%s' - expected a positive number of MB/s", cap_arg);
		return EXIT_USAGE;
	}
	if (slots_arg && (parse_uint_range(slots_arg, 1, XFER_SLOTS_MAX, &slots) < 0)) {
		error("invalid transfer slots '%s' - expected 1..%d", slots_arg, XFER_SLOTS_MAX);
		return EXIT_USAGE;
	}
	if (event_arg && parse_uint_range(event_arg, 1, STATE_TIME_MAX, &event) < 0) {
		error("invalid event '%s' - expected an epoch second 1..%lld", event_arg, (long long)STATE_TIME_MAX);
		return EXIT_USAGE;
	}
	r = worker_run(ctx, id, cap, (unsigned)slots, (int64_t)event, &err);
	if (r < 0)
		error("%s", err.buf);
	strbuf_release(&err);
	return r == -EBUSY ? RUN_EXIT_BUSY : r < 0 ? EXIT_FAILED : 0;
}

int cmd_run(int argc, char **argv, struct context *ctx)
{
	struct opt_spec specs[] = {
		{ "id", OPT_VALUE, NULL }, { "verbose", OPT_BOOL, NULL },
		/* the daemon's workers (src/daemon/worker.h) */
		{ "scheduled", OPT_BOOL, NULL }, { "rate-cap", OPT_VALUE, NULL },
		{ "transfer-slots", OPT_VALUE, NULL }, { "event", OPT_VALUE, NULL },
		{ NULL, OPT_VALUE, NULL },
	};
	struct strvec pos = STRVEC_INIT;
	struct strbuf id = STRBUF_INIT, err = STRBUF_INIT;
	FILE *echo = NULL;
	int progress, r, ret = EXIT_USAGE;

	if (opts_parse(argc, argv, specs, &pos) < 0 || opts_want_args(&pos, NULL, 0) < 0)
		goto out;
	/* SIGTERM/SIGINT/SIGHUP abort the run cleanly (engine/interrupt.h) */
	if (interrupt_install() < 0) {
		error("cannot install the signal handlers: %s", strerror(errno));
		ret = EXIT_FAILED;
		goto out;
	}
	if (specs[1].value && !strcmp(specs[1].value, "1"))
		echo = stdout;
	progress = echo && isatty(STDERR_FILENO);
	if (specs[0].value) {
		if (job_id_parse(specs[0].value, &id, NULL, NULL, &err) < 0) {
			error("%s", err.buf);
			goto out;
		}
		if (specs[2].value && !strcmp(specs[2].value, "1")) {
			ret = run_scheduled(ctx, id.buf, specs[3].value, specs[4].value, specs[5].value);
			goto out;
		}
		r = run_single_job(ctx, id.buf, echo, progress, &err);
		if (r < 0) {
			error("%s", err.buf);
			ret = r == -ENOENT ? EXIT_USAGE : EXIT_FAILED;
			goto out;
		}
	} else {
		r = run_jobs(ctx, 0, echo, progress, report, NULL, &err);
		if (r < 0) {
			error("%s", err.buf);
			ret = EXIT_FAILED;
			goto out;
		}
	}
	ret = 0;
out:
	strvec_clear(&pos);
	strbuf_release(&id);
	strbuf_release(&err);
	return ret;
}

int cmd_log(int argc, char **argv, struct context *ctx)
{
	static const char *const names[] = { "id" };
	struct opt_spec none[] = { { NULL, OPT_VALUE, NULL } };
	struct strvec pos = STRVEC_INIT;
	struct strbuf id = STRBUF_INIT, err = STRBUF_INIT, text = STRBUF_INIT;
	char path[4096];
	int r, ret = EXIT_USAGE;

	if (opts_parse(argc, argv, none, &pos) < 0 || opts_want_args(&pos, names, 1) < 0)
		goto out;
	if (job_id_parse(pos.v[0], &id, NULL, NULL, &err) < 0) {
		error("%s", err.buf);
		goto out;
	}
	ret = EXIT_FAILED;
	joblog_path(path, sizeof(path), ctx->log_dir, id.buf);
	r = strbuf_read_file(&text, path, 64u << 20);
	if (r == -ENOENT) {
		error("no log for job '%s' (it has not run on this node)", id.buf);
		goto out;
	} else if (r < 0) {
		error("unable to read '%s' - %s", path, strerror(-r));
		goto out;
	}
	fwrite(text.buf, 1, text.len, stdout);
	ret = fflush(stdout) == 0 ? 0 : EXIT_FAILED;
out:
	strvec_clear(&pos);
	strbuf_release(&id);
	strbuf_release(&err);
	strbuf_release(&text);
	return ret;
}
