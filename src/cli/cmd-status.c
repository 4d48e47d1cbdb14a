/* status and schedule-now: the jobs of this node with their node-local
 * state (docs/pvesr-compat.md §3.3, §3.5, §3.7).
 *
 * Text output: pvesr's columns plus Age (time since the last sync), and a
 * State that says "stale" when the last sync is older than volrep.cfg's
 * max-lag or twice the schedule's interval (metrics/metrics.h), and
 * "removal pending" for a job marked for removal (pointing to `delete
 * --force` when the removal fails), "overdue" for a job due more than
 * OVERDUE_GRACE seconds ago while no daemon runs on this node (one
 * warning line then says so). Times are TIME_FORMAT (base/time-util.h),
 * durations "3.5s"/"1m4s". --output-format pvesr prints pvesr's exact
 * layout for scripts that parse it. JSON has pvesr's fields plus bytes
 * (last run), lag (seconds since last_sync, null when never), stale
 * (0/1), last_sync_time/next_sync_time (ISO 8601) and overdue (0/1). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
#include "daemon/daemon.h"
#include "sched/jobstatus.h"
#include "metrics/metrics.h"
#include "ops/jobs.h"
#include "state/state.h"

/* A job due this long ago with no daemon to run it is overdue. */
#define OVERDUE_GRACE 60

static void fmt_time(char *buf, size_t size, int64_t t, int pvesr)
{
	if (t == 0)
		snprintf(buf, size, "-");
	else if (pvesr)
		format_localtime(buf, size, "%Y-%m-%d_%H:%M:%S", t);
	else
		format_time(buf, size, t);
}

/* Whether a daemon holds its lock in state_dir: the kernel's list of
 * flock locks (/proc/locks) has one on the lock file's inode. Looking
 * there takes no lock itself, so a daemon starting at this very moment
 * never finds its lock taken by a status. */
static int daemon_running(const char *state_dir)
{
	struct strbuf path = STRBUF_INIT, locks = STRBUF_INIT;
	struct stat st;
	int found = 0;

	strbuf_addf(&path, "%s/%s", state_dir, DAEMON_LOCK_NAME);
	if (stat(path.buf, &st) == 0 && strbuf_read_file(&locks, "/proc/locks", 16u << 20) == 0) {
		/* "1: FLOCK  ADVISORY  WRITE 4711 fd:01:123456 0 EOF" */
		for (const char *l = locks.buf; *l && !found; l += strcspn(l, "\n"), l += !!*l) {
			unsigned long long ino;
			char kind[16], mode[16];
			int pid;

			if (sscanf(l, "%*d: %15s %*s %15s %d %*x:%*x:%llu", kind, mode, &pid, &ino) == 4 &&
			    !strcmp(kind, "FLOCK") && !strcmp(mode, "WRITE") && ino == (unsigned long long)st.st_ino)
				found = 1;
		}
	}
	strbuf_release(&path);
	strbuf_release(&locks);
	return found;
}

static int is_overdue(const struct job_entry *en, int64_t now, int daemon)
{
	/* a job never tried (new, or after schedule-now: last_try 0) is due,
	 * but since when is not known */
	return !daemon && !en->job->disable && en->state.last_try > 0 && en->next_sync > 1 &&
	       en->next_sync + OVERDUE_GRACE < now;
}

static void print_warnings(const struct strvec *w)
{
	for (size_t i = 0; i < w->nr; i++)
		warning("%s", w->v[i]);
}

int cmd_status(int argc, char **argv, struct context *ctx)
{
	struct opt_spec specs[] = {
		{ "guest", OPT_VALUE, NULL }, { "output-format", OPT_VALUE, NULL }, { NULL, OPT_VALUE, NULL },
	};
	struct strvec pos = STRVEC_INIT;
	struct strbuf errtext = STRBUF_INIT;
	struct ops_err e = OPS_ERR_INIT;
	struct ops_status os;
	enum output_format fmt = OUTPUT_TEXT;
	uint64_t filter = 0;
	json_t *arr = NULL;
	int64_t now;
	int loaded = 0, pvesr = 0, daemon, r, ret = EXIT_USAGE;
	size_t overdue = 0, enabled = 0;

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
	if (specs[0].value && ops_parse_guest(specs[0].value, &filter, &e) < 0) {
		error("%s", e.msg.buf);
		goto out;
	}
	ret = EXIT_FAILED;
	r = ops_status_load(&os, ctx, &e);
	loaded = 1;
	print_warnings(&e.warnings);
	if (r < 0) {
		error("%s", e.msg.buf);
		goto out;
	}
	now = os.now;
	daemon = daemon_running(ctx->state_dir);
	if (pvesr)
		printf("%-10s %-10s %-20s %20s %20s %10s %10s %s\n", "JobID", "Enabled", "Target", "LastSync",
		       "NextSync", "Duration", "FailCount", "State");
	else if (fmt == OUTPUT_TEXT)
		printf("%-10s %-7s %-16s %19s %9s %19s %10s %9s %s\n", "JobID", "Enabled", "Target", "LastSync",
		       "Age", "NextSync", "Duration", "FailCount", "State");
	else
		arr = json_array();
	for (size_t i = 0; i < os.js.nr; i++) {
		const struct job_entry *en = os.sorted[i];
		const struct repl_job *job = en->job;
		const struct job_state *jst = &en->state;
		int64_t next = en->next_sync;
		int syncing, stale;

		if (filter && job->guest != filter)
			continue;
		enabled += !job->disable;
		overdue += is_overdue(en, now, daemon);
		if (fmt != OUTPUT_TEXT) {
			json_t *o = ops_status_entry_json(&os, en);

			char iso[40];

			json_object_set_new(o, "overdue", json_integer(is_overdue(en, now, daemon)));
			/* pvesr's epochs stay; these are for people reading JSON */
			if (jst->last_sync)
				json_object_set_new(o, "last_sync_time",
						    json_string(format_iso8601(iso, sizeof(iso), jst->last_sync)));
			if (next > 1)
				json_object_set_new(o, "next_sync_time",
						    json_string(format_iso8601(iso, sizeof(iso), next)));
			json_array_append_new(arr, o);
			continue;
		}
		syncing = process_running(jst->pid, jst->ptime);
		stale = ops_status_stale(&os, en);
		{
			char last[32], nexts[32], dur[64], tgt[80];

			fmt_time(last, sizeof(last), jst->last_sync, pvesr);
			if (next == 0)
				snprintf(nexts, sizeof(nexts), "-");
			else if (next <= now && (pvesr || !is_overdue(en, now, daemon)))
				snprintf(nexts, sizeof(nexts), "pending");
			else
				fmt_time(nexts, sizeof(nexts), next, pvesr);
			if (!jst->has_duration) {
				snprintf(dur, sizeof(dur), "-");
			} else if (pvesr) {
				snprintf(dur, sizeof(dur), "%.15g", jst->duration);
			} else {
				struct strbuf d = STRBUF_INIT;

				format_duration(jst->duration, &d);
				snprintf(dur, sizeof(dur), "%s", d.buf);
				strbuf_release(&d);
			}
			snprintf(tgt, sizeof(tgt), "local/%s", job->target);
			ops_printable(&errtext, jst->error);
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
				else if (job->remove_job != REMOVE_NONE && jst->error)
					strbuf_addf(&state, "removal pending: %s ('volrep delete %s --force' removes the "
						    "job without cleaning up)", errtext.buf, job->id);
				else if (job->remove_job != REMOVE_NONE)
					strbuf_addstr(&state, "removal pending");
				else if (is_overdue(en, now, daemon))
					strbuf_addf(&state, "overdue%s%s%s", stale ? ", stale" : "", jst->error ? ": " : "",
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
		}
	}
	if (arr)
		print_json(arr, fmt);
	ret = fflush(stdout) == 0 ? 0 : EXIT_FAILED;
	/* after the table: the one line that explains every "overdue" */
	if (!daemon && enabled && fmt == OUTPUT_TEXT && !pvesr && overdue)
		warning("no volrep daemon is running on this node: %zu job(s) overdue; start it ('systemctl start "
			"volrep') or run the due jobs with 'volrep run'", overdue);
	else if (!daemon && enabled && fmt == OUTPUT_TEXT && !pvesr)
		warning("no volrep daemon is running on this node: jobs run only when started ('systemctl start "
			"volrep', or 'volrep run' for the due ones)");
out:
	json_decref(arr);
	if (loaded)
		ops_status_release(&os);
	ops_err_release(&e);
	strvec_clear(&pos);
	strbuf_release(&errtext);
	return ret;
}

int cmd_schedule_now(int argc, char **argv, struct context *ctx)
{
	static const char *const args[] = { "id" };
	struct opt_spec none[] = { { NULL, OPT_VALUE, NULL } };
	struct strvec pos = STRVEC_INIT;
	struct ops_err e = OPS_ERR_INIT;
	int r, ret = EXIT_USAGE;

	if (opts_parse(argc, argv, none, &pos) < 0 || opts_want_args(&pos, args, 1) < 0)
		goto out;
	r = ops_job_schedule_now(ctx, pos.v[0], NULL, &e);
	for (size_t i = 0; i < e.warnings.nr; i++)
		warning("%s", e.warnings.v[i]);
	if (r < 0)
		error("%s", e.msg.buf);
	ret = exit_code_of(r, ERRK_OPS);
out:
	ops_err_release(&e);
	strvec_clear(&pos);
	return ret;
}
