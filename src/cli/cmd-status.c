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

/* What every row of one status needs. */
struct status_view {
	const struct ops_status *os;
	int64_t now;
	int daemon; /* a daemon runs on this node */
	int pvesr;  /* --output-format pvesr */
	enum output_format fmt;
	struct strbuf errtext; /* scratch: the row's error, printable */
};

/* --output-format: text, json, json-pretty or pvesr (pvesr's layout, as
 * text). 0, or -1 after the message. */
static int parse_format(const char *v, struct status_view *sv)
{
	if (v && !strcmp(v, "pvesr")) {
		sv->pvesr = 1;
		return 0;
	}
	if (v && strcmp(v, "text") && strcmp(v, "json") && strcmp(v, "json-pretty")) {
		error("invalid output-format '%s' - value must be one of text, json, json-pretty, pvesr", v);
		return -1;
	}
	return output_format_parse(v, &sv->fmt);
}

static void print_header(const struct status_view *sv)
{
	if (sv->pvesr)
		printf("%-10s %-10s %-20s %20s %20s %10s %10s %s\n", "JobID", "Enabled", "Target", "LastSync",
		       "NextSync", "Duration", "FailCount", "State");
	else
		printf("%-10s %-7s %-16s %19s %9s %19s %10s %9s %s\n", "JobID", "Enabled", "Target", "LastSync",
		       "Age", "NextSync", "Duration", "FailCount", "State");
}

static json_t *entry_json(const struct status_view *sv, const struct job_entry *en)
{
	json_t *o = ops_status_entry_json(sv->os, en);
	char iso[40];

	json_object_set_new(o, "overdue", json_integer(is_overdue(en, sv->now, sv->daemon)));
	/* pvesr's epochs stay; these are for people reading JSON */
	if (en->state.last_sync)
		json_object_set_new(o, "last_sync_time",
				    json_string(format_iso8601(iso, sizeof(iso), en->state.last_sync)));
	if (en->next_sync > 1)
		json_object_set_new(o, "next_sync_time", json_string(format_iso8601(iso, sizeof(iso), en->next_sync)));
	return o;
}

/* The NextSync column: "-" never, "pending" when due (and not overdue). */
static void next_text(char *buf, size_t size, const struct status_view *sv, const struct job_entry *en)
{
	int64_t next = en->next_sync;

	if (next == 0)
		snprintf(buf, size, "-");
	else if (next <= sv->now && (sv->pvesr || !is_overdue(en, sv->now, sv->daemon)))
		snprintf(buf, size, "pending");
	else
		fmt_time(buf, size, next, sv->pvesr);
}

/* The Duration column: pvesr's seconds, or "1m4s". */
static void duration_text(char *buf, size_t size, const struct job_state *jst, int pvesr)
{
	struct strbuf d = STRBUF_INIT;

	if (!jst->has_duration) {
		snprintf(buf, size, "-");
	} else if (pvesr) {
		snprintf(buf, size, "%.15g", jst->duration);
	} else {
		format_duration(jst->duration, &d);
		snprintf(buf, size, "%s", d.buf);
	}
	strbuf_release(&d);
}

/* volrep's State column (pvesr's has only SYNCING, the error or OK). */
static void state_text(struct strbuf *state, const struct status_view *sv, const struct job_entry *en,
		       int syncing)
{
	const struct repl_job *job = en->job;
	const char *err = en->state.error ? sv->errtext.buf : NULL;
	int stale = ops_status_stale(sv->os, en);

	if (syncing)
		strbuf_addstr(state, "SYNCING");
	else if (job->remove_job != REMOVE_NONE && err)
		strbuf_addf(state, "removal pending: %s ('volrep delete %s --force' removes the "
			    "job without cleaning up)", err, job->id);
	else if (job->remove_job != REMOVE_NONE)
		strbuf_addstr(state, "removal pending");
	else if (is_overdue(en, sv->now, sv->daemon))
		strbuf_addf(state, "overdue%s%s%s", stale ? ", stale" : "", err ? ": " : "", err ? err : "");
	else if (stale)
		strbuf_addf(state, "stale%s%s", err ? ": " : "", err ? err : "");
	else
		strbuf_addstr(state, err ? err : "OK");
}

static void print_row(struct status_view *sv, const struct job_entry *en)
{
	const struct repl_job *job = en->job;
	const struct job_state *jst = &en->state;
	struct strbuf age = STRBUF_INIT, state = STRBUF_INIT;
	char last[32], nexts[32], dur[64], tgt[80];
	int syncing = process_running(jst->pid, jst->ptime);

	fmt_time(last, sizeof(last), jst->last_sync, sv->pvesr);
	next_text(nexts, sizeof(nexts), sv, en);
	duration_text(dur, sizeof(dur), jst, sv->pvesr);
	snprintf(tgt, sizeof(tgt), "local/%s", job->target);
	ops_printable(&sv->errtext, jst->error);
	if (sv->pvesr) {
		printf("%-10s %-10s %-20s %20s %20s %10s %10lld %s\n", job->id, job->disable ? "No" : "Yes", tgt,
		       last, nexts, dur, (long long)jst->fail_count,
		       syncing ? "SYNCING" : jst->error ? sv->errtext.buf : "OK");
		return;
	}
	if (jst->last_sync)
		format_age(sv->now - jst->last_sync, &age);
	else
		strbuf_addstr(&age, "-");
	state_text(&state, sv, en, syncing);
	printf("%-10s %-7s %-16s %19s %9s %19s %10s %9lld %s\n", job->id, job->disable ? "No" : "Yes", tgt,
	       last, age.buf, nexts, dur, (long long)jst->fail_count, state.buf);
	strbuf_release(&age);
	strbuf_release(&state);
}

/* After the table: the one line that explains every "overdue". */
static void warn_no_daemon(size_t enabled, size_t overdue)
{
	if (!enabled)
		return;
	if (overdue)
		warning("no volrep daemon is running on this node: %zu job(s) overdue; start it ('systemctl start "
			"volrep') or run the due jobs with 'volrep run'", overdue);
	else
		warning("no volrep daemon is running on this node: jobs run only when started ('systemctl start "
			"volrep', or 'volrep run' for the due ones)");
}

/* The table (or JSON) of the jobs of guest filter (0: all); the exit code. */
static int print_status(struct status_view *sv, uint64_t filter)
{
	int text = sv->fmt == OUTPUT_TEXT;
	json_t *arr = text ? NULL : json_array();
	size_t overdue = 0, enabled = 0;
	int ret;

	if (text)
		print_header(sv);
	for (size_t i = 0; i < sv->os->js.nr; i++) {
		const struct job_entry *en = sv->os->sorted[i];

		if (filter && en->job->guest != filter)
			continue;
		enabled += !en->job->disable;
		overdue += is_overdue(en, sv->now, sv->daemon);
		if (text)
			print_row(sv, en);
		else
			json_array_append_new(arr, entry_json(sv, en));
	}
	if (arr)
		print_json(arr, sv->fmt);
	json_decref(arr);
	ret = fflush(stdout) == 0 ? 0 : EXIT_FAILED;
	if (!sv->daemon && text && !sv->pvesr)
		warn_no_daemon(enabled, overdue);
	return ret;
}

int cmd_status(int argc, char **argv, struct context *ctx)
{
	struct opt_spec specs[] = {
		{ "guest", OPT_VALUE, NULL }, { "output-format", OPT_VALUE, NULL }, { NULL, OPT_VALUE, NULL },
	};
	struct status_view sv = { .fmt = OUTPUT_TEXT, .errtext = STRBUF_INIT };
	struct strvec pos = STRVEC_INIT;
	struct ops_err e = OPS_ERR_INIT;
	struct ops_status os;
	uint64_t filter = 0;
	int r, ret = EXIT_USAGE;

	if (opts_parse(argc, argv, specs, &pos) < 0 || opts_want_args(&pos, NULL, 0) < 0 ||
	    parse_format(specs[1].value, &sv) < 0)
		goto out;
	if (specs[0].value && ops_parse_guest(specs[0].value, &filter, &e) < 0) {
		error("%s", e.msg.buf);
		goto out;
	}
	ret = EXIT_FAILED;
	r = ops_status_load(&os, ctx, &e);
	print_warnings(&e.warnings);
	if (r < 0) {
		error("%s", e.msg.buf);
	} else {
		sv.os = &os;
		sv.now = os.now;
		sv.daemon = daemon_running(ctx->state_dir);
		ret = print_status(&sv, filter);
	}
	ops_status_release(&os);
out:
	ops_err_release(&e);
	strvec_clear(&pos);
	strbuf_release(&sv.errtext);
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
