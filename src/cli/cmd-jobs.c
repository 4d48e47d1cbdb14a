/* Job management: create-local-job, update, delete, enable, disable, list,
 * read (pvesr-behaviour.md §1.3-§1.4). Input is checked completely before
 * anything is written; every check failure is one line and exit 2. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/fileio.h"
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

/* User errors (nothing changed) exit 2, everything else 1. */
static int exit_code_of(int r)
{
	switch (-r) {
	case EINVAL:
	case ENOENT:
	case EEXIST:
	case ESTALE:
		return EXIT_USAGE;
	default:
		return EXIT_FAILED;
	}
}

static int fail(int r, const struct strbuf *msg)
{
	error("%s", msg->buf);
	return exit_code_of(r);
}

static void print_warnings(const struct strvec *w)
{
	for (size_t i = 0; i < w->nr; i++)
		warning("%s", w->v[i]);
}

/* The options create and update share, in pvesr's schema order. */
static const char *const settable[] = { "comment", "disable", "rate", "remove_job", "schedule", "source",
					"compress", "keep", NULL };

/* Check every given option on a scratch job, so that bad input fails
 * before any file is read or written. */
static int check_options(const struct opt_spec *specs, struct strbuf *err)
{
	struct repl_job scratch = { 0 };
	int r = 0;

	for (const struct opt_spec *s = specs; s->name && !r; s++) {
		for (const char *const *k = settable; *k; k++)
			if (s->value && !strcmp(s->name, *k))
				r = job_set_option(&scratch, s->name, s->value, err);
	}
	free(scratch.target);
	free(scratch.schedule);
	free(scratch.rate);
	free(scratch.comment);
	free(scratch.source);
	free(scratch.compress);
	return r;
}

static int apply_options(struct repl_job *job, const struct opt_spec *specs, struct strbuf *err)
{
	for (const struct opt_spec *s = specs; s->name; s++) {
		for (const char *const *k = settable; *k; k++) {
			if (s->value && !strcmp(s->name, *k)) {
				int r = job_set_option(job, s->name, s->value, err);
				if (r < 0)
					return r;
			}
		}
	}
	return 0;
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
		time_t tt = (time_t)next;
		struct tm tm;
		char buf[64] = "?";
		int utc = calendar_is_utc(cal);

		if (utc ? gmtime_r(&tt, &tm) : localtime_r(&tt, &tm))
			strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %Z", &tm);
		info("schedule '%s' means '%s'; next run %s", s->value, norm.buf, buf);
	} else {
		info("schedule '%s' means '%s'; it has no future event", s->value, norm.buf);
	}
	strbuf_release(&norm);
	calendar_free(cal);
}

/* ---- create-local-job ---- */

struct create_data {
	const char *id;
	const char *target;
	const char *source;
	const struct opt_spec *specs;
};

static int create_fn(struct jobs_cfg *jc, void *data, struct strbuf *err)
{
	struct create_data *cd = data;
	struct repl_job *job;
	int r;

	if (jobs_cfg_find(jc, cd->id)) {
		strbuf_addf(err, "replication job '%s' already exists", cd->id);
		return -EEXIST;
	}
	job = jobs_cfg_add(jc, cd->id, cd->target);
	r = apply_options(job, cd->specs, err);
	if (r < 0)
		return r;
	if (!job->source)
		job->source = xstrdup(cd->source);
	return 1;
}

int cmd_create_local_job(int argc, char **argv, struct context *ctx)
{
	static const char *const args[] = { "id", "target" };
	struct opt_spec specs[] = {
		{ "schedule", OPT_VALUE, NULL }, { "rate", OPT_VALUE, NULL },
		{ "comment", OPT_VALUE, NULL }, { "disable", OPT_BOOL, NULL },
		{ "source", OPT_VALUE, NULL }, { "remove_job", OPT_VALUE, NULL },
		{ "compress", OPT_VALUE, NULL }, { "keep", OPT_VALUE, NULL },
		{ NULL, OPT_VALUE, NULL },
	};
	struct strvec pos = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT, id = STRBUF_INIT;
	struct cluster_config cc = CLUSTER_CONFIG_INIT;
	struct volume_list vols = { 0 };
	const struct guest *g;
	const char *target, *source;
	uint32_t guest;
	int r, ret = EXIT_USAGE;

	if (opts_parse(argc, argv, specs, &pos) < 0 || opts_want_args(&pos, args, 2) < 0)
		goto out;
	if ((r = job_id_parse(pos.v[0], &id, &guest, NULL, &err)) < 0) {
		ret = fail(r, &err);
		goto out;
	}
	target = pos.v[1];
	{
		struct repl_job scratch = { 0 };
		r = job_set_option(&scratch, "target", target, &err);
		free(scratch.target);
		if (r < 0 || (r = check_options(specs, &err)) < 0) {
			ret = fail(r, &err);
			goto out;
		}
	}
	r = cluster_config_load(&cc, ctx->config_dir, 0, &err);
	print_warnings(&cc.warnings);
	if (r < 0) {
		ret = fail(r, &err);
		goto out;
	}
	g = guests_find(&cc.guests, guest);
	if (!g) {
		strbuf_addf(&err, "Guest '%u' does not exist.", guest);
		ret = fail(-ENOENT, &err);
		goto out;
	}
	if (!nodes_cfg_find(&cc.nodes, target)) {
		strbuf_addf(&err, "Target '%s' does not exist.", target);
		if (cc.nodes.missing_path)
			strbuf_addf(&err, " There is no nodes.cfg (looked for '%s').", cc.nodes.missing_path);
		ret = fail(-ENOENT, &err);
		goto out;
	}
	source = spec_get(specs, "source")->value;
	if (source && strcmp(source, g->node)) {
		strbuf_addf(&err, "Source '%s' does not match current node of guest '%u' (%s)", source, guest,
			    g->node);
		ret = fail(-EINVAL, &err);
		goto out;
	}
	source = g->node;
	if (!strcmp(source, target)) {
		strbuf_addstr(&err, "Source and target must not be identical");
		ret = fail(-EINVAL, &err);
		goto out;
	}
	{
		size_t shown = cc.warnings.nr;

		r = cluster_guest_volumes_w(&cc, g, 0, &vols, &err, &cc.warnings);
		for (size_t i = shown; i < cc.warnings.nr; i++)
			warning("%s", cc.warnings.v[i]);
	}
	if (r < 0) {
		ret = fail(r == -EINVAL ? r : -EIO, &err);
		goto out;
	}
	if (!vols.nr) {
		strbuf_addstr(&err, "No replicatable volumes found");
		ret = fail(-EINVAL, &err);
		goto out;
	}
	struct create_data cd = { .id = id.buf, .target = target, .source = source, .specs = specs };
	r = jobs_cfg_modify(ctx->config_dir, create_fn, &cd, NULL, &err);
	ret = r < 0 ? fail(r, &err) : 0;
	if (!ret)
		show_schedule(specs);
out:
	volume_list_release(&vols);
	cluster_config_release(&cc);
	strvec_clear(&pos);
	strbuf_release(&err);
	strbuf_release(&id);
	return ret;
}

/* ---- update, enable, disable ---- */

struct update_data {
	const char *id;
	const char *digest;
	const struct strvec *del;
	const struct opt_spec *specs;
};

static int update_fn(struct jobs_cfg *jc, void *data, struct strbuf *err)
{
	struct update_data *ud = data;
	struct repl_job *job;
	int r;

	if (ud->digest && strcmp(ud->digest, jc->digest)) {
		strbuf_addstr(err, "detected modified configuration - file changed by other user? Try again.");
		return -ESTALE;
	}
	job = jobs_cfg_find(jc, ud->id);
	if (!job) {
		strbuf_addf(err, "no such job '%s'", ud->id);
		return -ENOENT;
	}
	for (size_t i = 0; ud->del && i < ud->del->nr; i++) {
		r = job_delete_option(job, ud->del->v[i], err);
		if (r < 0)
			return r == -ENOENT ? -EINVAL : r;
	}
	r = apply_options(job, ud->specs, err);
	return r < 0 ? r : 1;
}

static int run_update(struct context *ctx, const char *raw_id, const char *digest, const struct strvec *del,
		      const struct opt_spec *specs)
{
	struct strbuf err = STRBUF_INIT, id = STRBUF_INIT;
	struct strvec warnings = STRVEC_INIT;
	int r, ret;

	if ((r = job_id_parse_existing(raw_id, &id, NULL, &err)) < 0 || (r = check_options(specs, &err)) < 0) {
		ret = fail(r, &err);
		goto out;
	}
	for (size_t i = 0; del && i < del->nr; i++) {
		struct repl_job scratch = { 0 };
		r = job_delete_option(&scratch, del->v[i], &err);
		if (r < 0) {
			ret = fail(-EINVAL, &err);
			goto out;
		}
	}
	struct update_data ud = { .id = id.buf, .digest = digest, .del = del, .specs = specs };
	r = jobs_cfg_modify(ctx->config_dir, update_fn, &ud, &warnings, &err);
	print_warnings(&warnings);
	ret = r < 0 ? fail(r, &err) : 0;
	if (!ret)
		show_schedule(specs);
out:
	strvec_clear(&warnings);
	strbuf_release(&err);
	strbuf_release(&id);
	return ret;
}

int cmd_update(int argc, char **argv, struct context *ctx)
{
	static const char *const args[] = { "id" };
	struct opt_spec specs[] = {
		{ "schedule", OPT_VALUE, NULL }, { "rate", OPT_VALUE, NULL },
		{ "comment", OPT_VALUE, NULL }, { "disable", OPT_BOOL, NULL },
		{ "source", OPT_VALUE, NULL }, { "remove_job", OPT_VALUE, NULL },
		{ "compress", OPT_VALUE, NULL }, { "keep", OPT_VALUE, NULL },
		{ "delete", OPT_VALUE, NULL }, { "digest", OPT_VALUE, NULL },
		{ "target", OPT_VALUE, NULL },
		{ NULL, OPT_VALUE, NULL },
	};
	struct strvec pos = STRVEC_INIT, del = STRVEC_INIT;
	const char *v;
	int ret = EXIT_USAGE;

	if (opts_parse(argc, argv, specs, &pos) < 0 || opts_want_args(&pos, args, 1) < 0)
		goto out;
	if (spec_get(specs, "target")->value) {
		error("can't change value of fixed parameter 'target'");
		goto out;
	}
	if ((v = spec_get(specs, "digest")->value) && strlen(v) > 64) {
		error("invalid digest '%.64s...' - value may only be 64 characters long", v);
		goto out;
	}
	/* a typo must not read as "file changed by other user" */
	if (v && (strlen(v) != 40 || strspn(v, "0123456789abcdef") != 40)) {
		error("invalid digest '%s' - expected the 40 lower-case hex digits 'volrep read' prints", v);
		goto out;
	}
	if ((v = spec_get(specs, "delete")->value)) {
		/* PVE::Tools::split_list: separators , ; and white space */
		struct strbuf norm = STRBUF_INIT;
		strbuf_addstr(&norm, v);
		for (char *p = norm.buf; *p; p++)
			if (strchr(";, \t\n", *p))
				*p = ',';
		strvec_split(&del, norm.buf, ',');
		strbuf_release(&norm);
		for (size_t i = 0; i < del.nr; i++) {
			const struct opt_spec *s = spec_get(specs, del.v[i]);

			if (s && s->value && strcmp(s->name, "delete") && strcmp(s->name, "digest")) {
				error("option '%s' is both set (--%s) and deleted (--delete %s) - give one of them",
				      del.v[i], del.v[i], del.v[i]);
				goto out;
			}
		}
	}
	ret = run_update(ctx, pos.v[0], spec_get(specs, "digest")->value, &del, specs);
out:
	strvec_clear(&pos);
	strvec_clear(&del);
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
	ret = run_update(ctx, pos.v[0], NULL, NULL, specs);
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

struct delete_data {
	const char *id;
	int force;
	int keep;
};

static int delete_fn(struct jobs_cfg *jc, void *data, struct strbuf *err)
{
	struct delete_data *dd = data;
	struct repl_job *job;

	if (dd->force)
		return jobs_cfg_remove(jc, dd->id);
	job = jobs_cfg_find(jc, dd->id);
	if (!job) {
		strbuf_addf(err, "no such job '%s'", dd->id);
		return -ENOENT;
	}
	job->remove_job = dd->keep ? REMOVE_LOCAL : REMOVE_FULL;
	return 1;
}

int cmd_delete(int argc, char **argv, struct context *ctx)
{
	static const char *const args[] = { "id" };
	struct opt_spec specs[] = {
		{ "keep", OPT_BOOL, NULL }, { "force", OPT_BOOL, NULL }, { NULL, OPT_VALUE, NULL },
	};
	struct strvec pos = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT, id = STRBUF_INIT;
	struct strvec warnings = STRVEC_INIT;
	struct delete_data dd = { 0 };
	int r, ret = EXIT_USAGE;

	if (opts_parse(argc, argv, specs, &pos) < 0 || opts_want_args(&pos, args, 1) < 0)
		goto out;
	dd.keep = specs[0].value && !strcmp(specs[0].value, "1");
	dd.force = specs[1].value && !strcmp(specs[1].value, "1");
	if (dd.keep && dd.force) {
		error("keep: conflicts with parameter 'force'");
		goto out;
	}
	if ((r = job_id_parse_existing(pos.v[0], &id, NULL, &err)) < 0) {
		ret = fail(r, &err);
		goto out;
	}
	dd.id = id.buf;
	r = jobs_cfg_modify(ctx->config_dir, delete_fn, &dd, &warnings, &err);
	print_warnings(&warnings);
	if (r < 0) {
		ret = fail(r, &err);
		goto out;
	}
	if (!dd.force)
		fprintf(stderr, "Replication job removal is a background task and will take some time.\n");
	ret = 0;
out:
	strvec_clear(&warnings);
	strvec_clear(&pos);
	strbuf_release(&err);
	strbuf_release(&id);
	return ret;
}

/* ---- list, read ---- */

int cmd_list(int argc, char **argv, struct context *ctx)
{
	struct opt_spec specs[] = { { "output-format", OPT_VALUE, NULL }, { NULL, OPT_VALUE, NULL } };
	struct strvec pos = STRVEC_INIT, warnings = STRVEC_INIT;
	struct jobs_cfg jc = { 0 };
	struct repl_job **sorted = NULL;
	enum output_format fmt;
	int r, ret = EXIT_USAGE;

	if (opts_parse(argc, argv, specs, &pos) < 0 || opts_want_args(&pos, NULL, 0) < 0 ||
	    output_format_parse(specs[0].value, &fmt) < 0)
		goto out;
	r = jobs_cfg_load(&jc, ctx->config_dir, &warnings);
	print_warnings(&warnings);
	if (r < 0) {
		error("unable to read '%s/replication.cfg' - %s", ctx->config_dir, file_strerror(-r));
		ret = EXIT_FAILED;
		goto out;
	}
	sorted = jobs_sorted(&jc);
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
	strvec_clear(&warnings);
	return ret;
}

int cmd_read(int argc, char **argv, struct context *ctx)
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
	if ((r = job_id_parse_existing(pos.v[0], &id, NULL, &err)) < 0) {
		ret = fail(r, &err);
		goto out;
	}
	r = jobs_cfg_load(&jc, ctx->config_dir, &warnings);
	print_warnings(&warnings);
	if (r < 0) {
		error("unable to read '%s/replication.cfg' - %s", ctx->config_dir, file_strerror(-r));
		ret = EXIT_FAILED;
		goto out;
	}
	job = jobs_cfg_find(&jc, id.buf);
	if (!job) {
		error("no such replication job '%s'", id.buf);
		goto out;
	}
	json_t *o = job_to_json(job);
	json_object_set_new(o, "digest", json_string(jc.digest));
	print_json(o, OUTPUT_JSON_PRETTY);
	json_decref(o);
	ret = fflush(stdout) == 0 ? 0 : EXIT_FAILED;
out:
	jobs_cfg_release(&jc);
	strvec_clear(&pos);
	strvec_clear(&warnings);
	strbuf_release(&err);
	strbuf_release(&id);
	return ret;
}
