/* Job management: create-local-job, update, delete, enable, disable, list,
 * read (docs/pvesr-compat.md §1.3-§1.4). Input is checked completely before
 * anything is written; every check failure is one line and exit 2. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/strbuf.h"
#include "base/strvec.h"
#include "base/xalloc.h"
#include "cli/cmds.h"
#include "cli/commands.h"
#include "cli/jobs-output.h"
#include "cli/opts.h"
#include "base/time-util.h"
#include "config/calendar.h"
#include "config/cluster.h"
#include "ops/jobs.h"

static void print_warnings(const struct strvec *w)
{
	for (size_t i = 0; i < w->nr; i++)
		warning("%s", w->v[i]);
}

/* Report e (warnings, then the error) and return the exit code of r. */
static int finish(int r, struct ops_err *e)
{
	print_warnings(&e->warnings);
	if (r < 0)
		error("%s", e->msg.buf);
	ops_err_release(e);
	return exit_code_of(r, ERRK_OPS);
}

/* The options create and update share, as ops_kv pairs. */
static void to_kv(const struct opt_spec *specs, struct ops_kv *kv, size_t n)
{
	size_t i = 0;

	for (const struct opt_spec *s = specs; s->name && i + 1 < n; s++)
		kv[i++] = (struct ops_kv){ s->name, s->value };
	kv[i] = (struct ops_kv){ NULL, NULL };
}

static const struct opt_spec *spec_get(const struct opt_spec *specs, const char *name)
{
	for (const struct opt_spec *s = specs; s->name; s++)
		if (!strcmp(s->name, name))
			return s;
	return NULL;
}

/* What a schedule means, on stderr after create/update: "25:00" is
 * stored as typed, so show its normalized form and the next run. */
static void show_schedule(const struct opt_spec *specs)
{
	const struct opt_spec *s = spec_get(specs, "schedule");
	struct calendar *cal = NULL;
	struct strbuf norm = STRBUF_INIT;
	char reason[256];
	int64_t next;

	if (!s || !s->value || calendar_parse(s->value, &cal, reason, sizeof(reason)) < 0)
		return;
	calendar_format(cal, &norm);
	if (calendar_next(cal, volrep_now(), &next)) {
		char buf[64];

		if (!*format_time(buf, sizeof(buf), next))
			snprintf(buf, sizeof(buf), "?");
		info("schedule '%s' means '%s'; next run %s", s->value, norm.buf, buf);
	} else {
		info("schedule '%s' means '%s'; it has no future event", s->value, norm.buf);
	}
	strbuf_release(&norm);
	calendar_free(cal);
}

/* ---- create-local-job ---- */

int cmd_create_local_job(int argc, char **argv, struct context *ctx)
{
	static const char *const args[] = { "id", "target" };
	struct opt_spec specs[] = {
		{ "schedule", OPT_VALUE, NULL }, { "rate", OPT_VALUE, NULL },
		{ "comment", OPT_VALUE, NULL }, { "disable", OPT_BOOL, NULL },
		{ "source", OPT_VALUE, NULL }, { "remove_job", OPT_VALUE, NULL },
		{ "compress", OPT_VALUE, NULL }, { "keep", OPT_VALUE, NULL }, { "raw", OPT_BOOL, NULL },
		{ NULL, OPT_VALUE, NULL },
	};
	struct strvec pos = STRVEC_INIT;
	struct ops_err e = OPS_ERR_INIT;
	struct ops_kv kv[16];
	int ret = EXIT_USAGE;

	if (opts_parse(argc, argv, specs, &pos) < 0 || opts_want_args(&pos, args, 2) < 0)
		goto out;
	to_kv(specs, kv, 16);
	ret = finish(ops_job_create(ctx, pos.v[0], pos.v[1], kv, &e), &e);
	if (!ret)
		show_schedule(specs);
out:
	ops_err_release(&e);
	strvec_clear(&pos);
	return ret;
}

/* ---- update, enable, disable ---- */

static int run_update(struct context *ctx, const char *raw_id, const char *target, const char *digest,
		      const char *del, const struct opt_spec *specs)
{
	struct ops_err e = OPS_ERR_INIT;
	struct ops_kv kv[16];
	int ret;

	to_kv(specs, kv, 16);
	ret = finish(ops_job_update(ctx, raw_id, target, digest, del, kv, &e), &e);
	if (!ret)
		show_schedule(specs);
	return ret;
}

int cmd_update(int argc, char **argv, struct context *ctx)
{
	static const char *const args[] = { "id" };
	struct opt_spec specs[] = {
		{ "schedule", OPT_VALUE, NULL }, { "rate", OPT_VALUE, NULL },
		{ "comment", OPT_VALUE, NULL }, { "disable", OPT_BOOL, NULL },
		{ "source", OPT_VALUE, NULL }, { "remove_job", OPT_VALUE, NULL },
		{ "compress", OPT_VALUE, NULL }, { "keep", OPT_VALUE, NULL }, { "raw", OPT_BOOL, NULL },
		{ "delete", OPT_VALUE, NULL }, { "digest", OPT_VALUE, NULL },
		{ "target", OPT_VALUE, NULL },
		{ NULL, OPT_VALUE, NULL },
	};
	struct strvec pos = STRVEC_INIT;
	int ret = EXIT_USAGE;

	if (opts_parse(argc, argv, specs, &pos) < 0 || opts_want_args(&pos, args, 1) < 0)
		goto out;
	ret = run_update(ctx, pos.v[0], spec_get(specs, "target")->value, spec_get(specs, "digest")->value,
			 spec_get(specs, "delete")->value, specs);
out:
	strvec_clear(&pos);
	return ret;
}

static int enable_disable(int argc, char **argv, struct context *ctx, const char *value)
{
	static const char *const args[] = { "id" };
	struct opt_spec none[] = { { NULL, OPT_VALUE, NULL } };
	struct opt_spec specs[] = { { "disable", OPT_BOOL, value }, { NULL, OPT_VALUE, NULL } };
	struct strvec pos = STRVEC_INIT;
	int ret = EXIT_USAGE;

	if (opts_parse(argc, argv, none, &pos) < 0 || opts_want_args(&pos, args, 1) < 0)
		goto out;
	ret = run_update(ctx, pos.v[0], NULL, NULL, NULL, specs);
out:
	strvec_clear(&pos);
	return ret;
}

int cmd_enable(int argc, char **argv, struct context *ctx)
{
	return enable_disable(argc, argv, ctx, "0");
}

int cmd_disable(int argc, char **argv, struct context *ctx)
{
	return enable_disable(argc, argv, ctx, "1");
}

/* ---- delete ---- */

int cmd_delete(int argc, char **argv, struct context *ctx)
{
	static const char *const args[] = { "id" };
	struct opt_spec specs[] = {
		{ "keep", OPT_BOOL, NULL }, { "force", OPT_BOOL, NULL }, { NULL, OPT_VALUE, NULL },
	};
	struct strvec pos = STRVEC_INIT;
	struct ops_err e = OPS_ERR_INIT;
	int keep, force, ret = EXIT_USAGE;

	if (opts_parse(argc, argv, specs, &pos) < 0 || opts_want_args(&pos, args, 1) < 0)
		goto out;
	keep = specs[0].value && !strcmp(specs[0].value, "1");
	force = specs[1].value && !strcmp(specs[1].value, "1");
	ret = finish(ops_job_delete(ctx, pos.v[0], keep, force, &e), &e);
	if (!ret && !force)
		fprintf(stderr, "Replication job removal is a background task and will take some time.\n");
out:
	strvec_clear(&pos);
	return ret;
}

/* ---- list, read ---- */

int cmd_list(int argc, char **argv, struct context *ctx)
{
	struct opt_spec specs[] = { { "output-format", OPT_VALUE, NULL }, { NULL, OPT_VALUE, NULL } };
	struct strvec pos = STRVEC_INIT;
	struct ops_err e = OPS_ERR_INIT;
	struct jobs_cfg jc = { 0 };
	struct repl_job **sorted = NULL;
	enum output_format fmt;
	int r, ret = EXIT_USAGE;

	if (opts_parse(argc, argv, specs, &pos) < 0 || opts_want_args(&pos, NULL, 0) < 0 ||
	    output_format_parse(specs[0].value, &fmt) < 0)
		goto out;
	r = ops_job_list(ctx, &jc, &sorted, &e);
	if (r < 0) {
		ret = finish(r, &e);
		goto out;
	}
	print_warnings(&e.warnings);
	if (fmt == OUTPUT_TEXT) {
		printf("%-20s %-20s %10s %5s %8s\n", "JobID", "Target", "Schedule", "Rate", "Enabled");
		for (size_t i = 0; i < jc.nr; i++) {
			const struct repl_job *j = sorted[i];
			struct strbuf tgt = STRBUF_INIT;
			strbuf_addf(&tgt, "local/%s", j->target);
			printf("%-20s %-20s %10s %5s %8s\n", j->id, tgt.buf,
			       j->schedule ? j->schedule : JOB_DEFAULT_SCHEDULE, j->rate ? j->rate : "-",
			       j->disable ? "no" : "yes");
			strbuf_release(&tgt);
		}
	} else {
		json_t *arr = json_array();
		for (size_t i = 0; i < jc.nr; i++)
			json_array_append_new(arr, job_to_json(sorted[i]));
		print_json(arr, fmt);
		json_decref(arr);
	}
	ret = fflush(stdout) == 0 ? 0 : EXIT_FAILED;
out:
	free(sorted);
	jobs_cfg_release(&jc);
	strvec_clear(&pos);
	ops_err_release(&e);
	return ret;
}

int cmd_read(int argc, char **argv, struct context *ctx)
{
	static const char *const args[] = { "id" };
	struct opt_spec none[] = { { NULL, OPT_VALUE, NULL } };
	struct strvec pos = STRVEC_INIT;
	struct ops_err e = OPS_ERR_INIT;
	json_t *o = NULL;
	int r, ret = EXIT_USAGE;

	if (opts_parse(argc, argv, none, &pos) < 0 || opts_want_args(&pos, args, 1) < 0)
		goto out;
	r = ops_job_read(ctx, pos.v[0], &o, &e);
	ret = finish(r, &e);
	if (r < 0)
		goto out;
	print_json(o, OUTPUT_JSON_PRETTY);
	ret = fflush(stdout) == 0 ? 0 : EXIT_FAILED;
out:
	json_decref(o);
	ops_err_release(&e);
	strvec_clear(&pos);
	return ret;
}
