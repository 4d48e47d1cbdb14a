/* status and schedule-now: the jobs of this node with their node-local
 * state (pvesr-behaviour.md §3.3, §3.5, §3.7).
 *
 * Text output: pvesr's columns plus Age (time since the last sync), and a
 * State that says "stale" when the last sync is older than volrep.cfg's
 * max-lag or twice the schedule's interval (metrics/metrics.h), and
 * "removal pending" for a job marked for removal. --output-format pvesr
 * prints pvesr's exact layout for scripts that parse it. JSON has
 * pvesr's fields plus bytes (last run), lag (seconds since last_sync,
 * null when never) and stale (0/1). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/parse-util.h"
#include "base/strbuf.h"
#include "base/time-util.h"
#include "base/validate.h"
#include "base/xalloc.h"
#include "cli/cmds.h"
#include "cli/commands.h"
#include "cli/jobs-output.h"
#include "cli/opts.h"
#include "config/cluster.h"
#include "config/volrepcfg.h"
#include "engine/jobstatus.h"
#include "metrics/metrics.h"
#include "state/state.h"

static void fmt_time(char *buf, size_t size, int64_t t)
{
	if (t == 0)
		snprintf(buf, size, "-");
	else
		format_localtime(buf, size, "%Y-%m-%d_%H:%M:%S", t);
}

/* pvesr prints the rows sorted by guest (numeric); ties keep job id order */
/* An error text of the state file (which a migration's peer may have
 * handed over): shown with every control character and every byte
 * outside ASCII as '?' (C1 controls such as 0x9b are escapes on some
 * terminals), so that status never prints a terminal escape. */
static void printable(struct strbuf *sb, const char *s)
{
	strbuf_reset(sb);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++)
		strbuf_addch(sb, *p < 0x20 || *p >= 0x7f ? '?' : (char)*p);
}

static int cmp_entry(const void *a, const void *b)
{
	const struct job_entry *x = *(const struct job_entry *const *)a, *y = *(const struct job_entry *const *)b;

	if (x->job->guest != y->job->guest)
		return x->job->guest < y->job->guest ? -1 : 1;
	return strcmp(x->job->id, y->job->id);
}

int cmd_status(int argc, char **argv, struct context *ctx)
{
	struct opt_spec specs[] = {
		{ "guest", OPT_VALUE, NULL }, { "output-format", OPT_VALUE, NULL }, { NULL, OPT_VALUE, NULL },
	};
	struct strvec pos = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT, errtext = STRBUF_INIT;
	struct cluster_config cc = CLUSTER_CONFIG_INIT;
	struct state *st = NULL;
	struct job_status js = JOB_STATUS_INIT;
	const struct job_entry **sorted = NULL;
	enum output_format fmt = OUTPUT_TEXT;
	struct volrep_cfg vcfg;
	uint64_t filter = 0;
	json_t *arr = NULL;
	int64_t now;
	int pvesr = 0, r, ret = EXIT_USAGE;

	if (opts_parse(argc, argv, specs, &pos) < 0 || opts_want_args(&pos, NULL, 0) < 0)
		goto out;
	if (specs[1].value && !strcmp(specs[1].value, "pvesr")) {
		pvesr = 1;
	} else if (specs[1].value && strcmp(specs[1].value, "text") && strcmp(specs[1].value, "json") &&
		   strcmp(specs[1].value, "json-pretty")) {
		error("invalid output-format '%s' - value must be one of text, json, json-pretty, pvesr", specs[1].value);
		goto out;
	} else if (output_format_parse(specs[1].value, &fmt) < 0) {
		goto out;
	}
	if (specs[0].value) {
		if (!valid_vmid(specs[0].value) || parse_u64(specs[0].value, &filter) < 0) {
			error("invalid guest '%s' - value does not look like a valid VM ID", specs[0].value);
			goto out;
		}
	}
	ret = EXIT_FAILED;
	r = cluster_config_load(&cc, ctx->config_dir, 0, &err);
	for (size_t i = 0; i < cc.warnings.nr; i++)
		warning("%s", cc.warnings.v[i]);
	if (r < 0) {
		error("%s", err.buf);
		goto out;
	}
	if (nodes_cfg_check_self(&cc.nodes, ctx, &err)) /* else an empty list looks like "no jobs" */
		warning("%s", err.buf);
	strbuf_reset(&err);
	r = state_load(ctx->state_dir, &st, &err);
	if (r < 0) {
		error("%s", err.buf);
		goto out;
	}
	now = volrep_now();
	/* only max-lag is used: an unreadable volrep.cfg means the default */
	{
		struct strbuf cerr = STRBUF_INIT;

		if (volrep_cfg_load(&vcfg, ctx->config_dir, &cerr) < 0) {
			warning("%s", cerr.buf);
			volrep_cfg_init(&vcfg);
		}
		strbuf_release(&cerr);
	}
	/* pvesr's status calls job_status, which also records the source
	 * node of new jobs and switches stolen guests; a read-only config
	 * must not break the display */
	if (job_status_fix_sources(&cc, ctx->config_dir, ctx->node, &err) < 0)
		warning("%s", err.buf);
	job_status_collect(&js, &cc, st, ctx->node, JOB_STATUS_DISABLED);
	sorted = xcalloc(js.nr ? js.nr : 1, sizeof(*sorted));
	for (size_t i = 0; i < js.nr; i++)
		sorted[i] = &js.v[i];
	qsort(sorted, js.nr, sizeof(*sorted), cmp_entry);
	if (pvesr)
		printf("%-10s %-10s %-20s %20s %20s %10s %10s %s\n", "JobID", "Enabled", "Target", "LastSync",
		       "NextSync", "Duration", "FailCount", "State");
	else if (fmt == OUTPUT_TEXT)
		printf("%-10s %-7s %-16s %19s %9s %19s %10s %9s %s\n", "JobID", "Enabled", "Target", "LastSync",
		       "Age", "NextSync", "Duration", "FailCount", "State");
	else
		arr = json_array();
	for (size_t i = 0; i < js.nr; i++) {
		const struct job_entry *e = sorted[i];
		const struct repl_job *job = e->job;
		const struct job_state *jst = &e->state;
		int64_t next = e->next_sync;
		int64_t limit = metrics_lag_limit(vcfg.max_lag, metrics_interval(job->schedule, now));
		int syncing, stale;

		if (filter && job->guest != filter)
			continue;
		syncing = process_running(jst->pid, jst->ptime);
		stale = metrics_is_stale(jst->last_sync, limit, now);
		if (fmt == OUTPUT_TEXT) {
			char last[32], nexts[32], dur[64], tgt[80];

			fmt_time(last, sizeof(last), jst->last_sync);
			if (next == 0)
				snprintf(nexts, sizeof(nexts), "-");
			else if (next <= now)
				snprintf(nexts, sizeof(nexts), "pending");
			else
				fmt_time(nexts, sizeof(nexts), next);
			if (jst->has_duration)
				snprintf(dur, sizeof(dur), "%.15g", jst->duration);
			else
				snprintf(dur, sizeof(dur), "-");
			snprintf(tgt, sizeof(tgt), "local/%s", job->target);
			printable(&errtext, jst->error);
			if (pvesr) {
				printf("%-10s %-10s %-20s %20s %20s %10s %10lld %s\n", job->id,
				       job->disable ? "No" : "Yes", tgt, last, nexts, dur, (long long)jst->fail_count,
				       syncing ? "SYNCING" : jst->error ? errtext.buf : "OK");
			} else {
				struct strbuf age = STRBUF_INIT, state = STRBUF_INIT;

				if (jst->last_sync)
					format_age(now - jst->last_sync, &age);
				else
					strbuf_addstr(&age, "-");
				if (syncing)
					strbuf_addstr(&state, "SYNCING");
				else if (job->remove_job != REMOVE_NONE)
					strbuf_addf(&state, "removal pending%s%s", jst->error ? ": " : "",
						    jst->error ? errtext.buf : "");
				else if (stale)
					strbuf_addf(&state, "stale%s%s", jst->error ? ": " : "",
						    jst->error ? errtext.buf : "");
				else
					strbuf_addstr(&state, jst->error ? errtext.buf : "OK");
				printf("%-10s %-7s %-16s %19s %9s %19s %10s %9lld %s\n", job->id,
				       job->disable ? "No" : "Yes", tgt, last, age.buf, nexts, dur,
				       (long long)jst->fail_count, state.buf);
				strbuf_release(&age);
				strbuf_release(&state);
			}
		} else {
			json_t *o = job_to_json(job);

			json_object_set_new(o, "vmtype", json_string(guest_type_name(e->guest->type)));
			json_object_set_new(o, "next_sync", json_integer(next));
			json_object_set_new(o, "last_sync", json_integer(jst->last_sync));
			json_object_set_new(o, "last_try", json_integer(jst->last_try));
			json_object_set_new(o, "fail_count", json_integer(jst->fail_count));
			if (jst->error) {
				printable(&errtext, jst->error);
				json_object_set_new(o, "error", json_string(errtext.buf));
			}
			if (jst->has_duration)
				json_object_set_new(o, "duration", json_real(jst->duration));
			if (syncing)
				json_object_set_new(o, "pid", json_integer(jst->pid));
			json_object_set_new(o, "bytes", json_integer((json_int_t)jst->bytes));
			json_object_set_new(o, "lag", jst->last_sync ? json_integer(now - jst->last_sync) : json_null());
			json_object_set_new(o, "stale", json_integer(stale));
			json_array_append_new(arr, o);
		}
	}
	if (arr)
		print_json(arr, fmt);
	ret = fflush(stdout) == 0 ? 0 : EXIT_FAILED;
out:
	json_decref(arr);
	free(sorted);
	job_status_release(&js);
	state_free(st);
	cluster_config_release(&cc);
	strvec_clear(&pos);
	strbuf_release(&errtext);
	strbuf_release(&err);
	return ret;
}

struct sched_data {
	uint32_t guest;
	const char *target;
};

static int schedule_now_fn(struct state *st, void *data, struct strbuf *err)
{
	struct sched_data *sd = data;
	int r = state_schedule_now(st, sd->guest, sd->target);

	if (r < 0)
		strbuf_addf(err, "unable to update the state of guest '%u'", sd->guest);
	return r;
}

int cmd_schedule_now(int argc, char **argv, struct context *ctx)
{
	static const char *const args[] = { "id" };
	struct opt_spec none[] = { { NULL, OPT_VALUE, NULL } };
	struct strvec pos = STRVEC_INIT, warnings = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT, id = STRBUF_INIT;
	struct jobs_cfg jc = { 0 };
	const struct repl_job *job;
	int r, ret = EXIT_USAGE;

	if (opts_parse(argc, argv, none, &pos) < 0 || opts_want_args(&pos, args, 1) < 0)
		goto out;
	if (job_id_parse(pos.v[0], &id, NULL, NULL, &err) < 0) {
		error("%s", err.buf);
		goto out;
	}
	r = jobs_cfg_load(&jc, ctx->config_dir, &warnings);
	for (size_t i = 0; i < warnings.nr; i++)
		warning("%s", warnings.v[i]);
	if (r < 0) {
		error("unable to read '%s/replication.cfg' - %s", ctx->config_dir, strerror(-r));
		ret = EXIT_FAILED;
		goto out;
	}
	job = jobs_cfg_find(&jc, id.buf);
	if (!job) {
		error("no such replication job '%s'", id.buf);
		goto out;
	}
	struct sched_data sd = { .guest = job->guest, .target = job->target };
	r = state_update(ctx->state_dir, schedule_now_fn, &sd, &err);
	if (r < 0) {
		error("%s", err.buf);
		ret = EXIT_FAILED;
		goto out;
	}
	ret = 0;
out:
	jobs_cfg_release(&jc);
	strvec_clear(&pos);
	strvec_clear(&warnings);
	strbuf_release(&err);
	strbuf_release(&id);
	return ret;
}
