/* volrep run [--id ID] [--verbose] [--mail] and volrep log <id> [--run K | --list]
 * (docs/pvesr-compat.md §3.6, §3.7). */
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
#include "config/volrepcfg.h"
#include "config/nodes.h"
#include "daemon/worker.h"
#include "engine/interrupt.h"
#include "engine/joblog.h"
#include "engine/replicate.h"
#include "engine/runner.h"
#include "engine/xferslot.h"
#include "state/state.h"
#include "ops/jobs.h"

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
	return r == -EBUSY ? RUN_EXIT_BUSY : exit_code_of(r, 0);
}

/* Under a name not in nodes.cfg a run finds no guests of its own: say so. */
static void warn_identity(const struct context *ctx)
{
	struct nodes_cfg nc = { 0 };
	struct strbuf msg = STRBUF_INIT;

	if (nodes_cfg_load(&nc, ctx->config_dir, NULL) == 0 && nodes_cfg_check_self(&nc, ctx, &msg))
		warning("%s", msg.buf);
	nodes_cfg_release(&nc);
	strbuf_release(&msg);
}

int cmd_run(int argc, char **argv, struct context *ctx)
{
	struct opt_spec specs[] = {
		{ "id", OPT_VALUE, NULL }, { "verbose", OPT_BOOL, NULL },
		/* the daemon's workers (src/daemon/worker.h) */
		{ "scheduled", OPT_BOOL, NULL }, { "rate-cap", OPT_VALUE, NULL },
		{ "transfer-slots", OPT_VALUE, NULL }, { "event", OPT_VALUE, NULL },
		/* pvesr's: notify failures (volrep.cfg's targets) */
		{ "mail", OPT_BOOL, NULL }, { NULL, OPT_VALUE, NULL },
	};
	struct strvec pos = STRVEC_INIT;
	struct strbuf id = STRBUF_INIT, err = STRBUF_INIT;
	FILE *echo = NULL;
	int progress, mail, r, ret = EXIT_USAGE;

	if (opts_parse(argc, argv, specs, &pos) < 0 || opts_want_args(&pos, NULL, 0) < 0)
		goto out;
	mail = specs[6].value && !strcmp(specs[6].value, "1");
	if (mail && specs[0].value) {
		/* pvesr's rule: a manual run reports to the admin who ran it */
		error("Mail and id are mutually exclusive!");
		goto out;
	}
	/* SIGTERM/SIGINT/SIGHUP abort the run cleanly (engine/interrupt.h) */
	if (interrupt_install() < 0) {
		error("cannot install the signal handlers: %s", strerror(errno));
		ret = EXIT_FAILED;
		goto out;
	}
	if (!(specs[2].value && !strcmp(specs[2].value, "1")))
		warn_identity(ctx);
	if (specs[1].value && !strcmp(specs[1].value, "1"))
		echo = stdout;
	progress = echo && isatty(STDERR_FILENO);
	if (specs[0].value) {
		if (job_id_parse_existing(specs[0].value, &id, NULL, &err) < 0) {
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
			ret = exit_code_of(r, ERRK_MISSING);
			goto out;
		}
	} else {
		r = run_jobs(ctx, 0, echo, progress, mail, report, NULL, &err);
		if (r < 0) {
			error("%s", err.buf);
			ret = EXIT_FAILED;
			goto out;
		}
		/* cron and monitoring must see a failed job (each was reported) */
		if (r > 0) {
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

/* One line of `volrep log --list`: run k, its start (the stamp of its
 * first line) and how it ended (its "end replication job" line). */
static void list_run(unsigned k, const struct strbuf *text)
{
	const char *end = NULL, *p = text->buf;
	char start[20] = "-";
	struct strbuf result = STRBUF_INIT;

	if (text->len >= 19)
		snprintf(start, sizeof(start), "%.19s", text->buf);
	while ((p = strstr(p, ": end replication job"))) {
		end = p;
		p++;
	}
	static const char failed[] = ": end replication job with error: ";
	const size_t flen = sizeof(failed) - 1;

	if (end && !strncmp(end, failed, flen))
		strbuf_addf(&result, "error: %.*s", (int)strcspn(end + flen, "\n"), end + flen);
	else if (end)
		strbuf_addstr(&result, "OK");
	else if (strstr(text->buf, ": job removed\n"))
		strbuf_addstr(&result, "removed");
	else
		strbuf_addstr(&result, "no end recorded (running, or interrupted)");
	printf("%-4u %-19s  %s\n", k, start, result.buf);
	strbuf_release(&result);
}

/* A job without a log: a job that has not run here, or no job at all. */
static int no_log(const struct context *ctx, const char *id)
{
	struct ops_err e = OPS_ERR_INIT;
	int r = ops_job_no_log(ctx, id, &e);

	error("%s", e.msg.buf);
	ops_err_release(&e);
	return exit_code_of(r, ERRK_OPS);
}

/* Run k's log into text: 0, -ENOENT (none), or -EIO (said). */
static int read_run(const struct context *ctx, const char *id, unsigned k, struct strbuf *text)
{
	struct ops_err e = OPS_ERR_INIT;
	int r = ops_job_log_read(ctx, id, k, text, &e);

	if (r < 0 && r != -ENOENT)
		error("%s", e.msg.buf);
	ops_err_release(&e);
	return r;
}

int cmd_log(int argc, char **argv, struct context *ctx)
{
	static const char *const names[] = { "id" };
	struct opt_spec specs[] = { { "run", OPT_VALUE, NULL }, { "list", OPT_BOOL, NULL }, { NULL, OPT_VALUE, NULL } };
	struct strvec pos = STRVEC_INIT;
	struct strbuf id = STRBUF_INIT, err = STRBUF_INIT, text = STRBUF_INIT;
	uint64_t k = 0;
	int list, r, ret = EXIT_USAGE;

	if (opts_parse(argc, argv, specs, &pos) < 0 || opts_want_args(&pos, names, 1) < 0)
		goto out;
	if (job_id_parse_existing(pos.v[0], &id, NULL, &err) < 0) {
		error("%s", err.buf);
		goto out;
	}
	list = specs[1].value && !strcmp(specs[1].value, "1");
	if (specs[0].value && (list || parse_uint_range(specs[0].value, 0, VOLREP_CFG_LOG_KEEP_LIMIT, &k) < 0)) {
		if (list)
			error("--run and --list are mutually exclusive");
		else
			error("invalid run '%s' - expected 0 (the last run) to %d", specs[0].value,
			      VOLREP_CFG_LOG_KEEP_LIMIT);
		goto out;
	}
	ret = EXIT_FAILED;
	if (list) {
		unsigned n = 0;

		printf("%-4s %-19s  %s\n", "Run", "Started", "Result");
		for (unsigned i = 0; i <= VOLREP_CFG_LOG_KEEP_LIMIT; i++) {
			strbuf_reset(&text);
			r = read_run(ctx, id.buf, i, &text);
			if (r == -ENOENT)
				break;
			if (r < 0)
				goto out;
			list_run(i, &text);
			n++;
		}
		if (!n) {
			ret = no_log(ctx, id.buf);
			goto out;
		}
		ret = fflush(stdout) == 0 ? 0 : EXIT_FAILED;
		goto out;
	}
	r = read_run(ctx, id.buf, (unsigned)k, &text);
	if (r == -ENOENT && k) {
		error("no log of run %u for job '%s' (see volrep log %s --list)", (unsigned)k, id.buf, id.buf);
		goto out;
	} else if (r == -ENOENT) {
		ret = no_log(ctx, id.buf);
		goto out;
	} else if (r < 0) {
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
