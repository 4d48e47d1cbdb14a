#include "ops/jobs.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/fileio.h"
#include "base/parse-util.h"
#include "base/sanitize.h"
#include "base/time-util.h"
#include "base/validate.h"
#include "base/xalloc.h"
#include "config/pvesr.h"
#include "engine/joblog.h"
#include "metrics/metrics.h"

void ops_err_release(struct ops_err *e)
{
	strbuf_release(&e->msg);
	strvec_clear(&e->warnings);
	e->param = NULL;
}

int ops_http_status(int r, const struct ops_err *e)
{
	switch (-r) {
	case 0:
		return 200;
	case EINVAL:
		return 400;
	case ENOENT:
		return e && e->param ? 400 : 404;
	case EEXIST:
	case ESTALE:
		return 409;
	default:
		return 500;
	}
}

static int fail(struct ops_err *e, int r, const char *param)
{
	e->param = param;
	return r;
}

/* ---- option checks ---- */

static void scratch_free(struct repl_job *j)
{
	free(j->target);
	free(j->schedule);
	free(j->rate);
	free(j->comment);
	free(j->source);
	free(j->compress);
}

static const char *kv_get(const struct ops_kv *kv, const char *key)
{
	for (; kv && kv->key; kv++)
		if (!strcmp(kv->key, key))
			return kv->value;
	return NULL;
}

/* The options create and update share. */
static const char *const settable[] = { "comment", "disable", "rate", "remove_job", "schedule", "source",
					"compress", "keep", "raw", NULL };

static const char *settable_name(const char *key)
{
	for (const char *const *k = settable; *k; k++)
		if (!strcmp(key, *k))
			return *k;
	return NULL;
}

/* Check every given option on a scratch job, so that bad input fails
 * before any file is read or written. */
static int check_options(const struct ops_kv *opts, struct ops_err *e)
{
	struct repl_job scratch = { 0 };
	int r = 0;

	for (const struct ops_kv *kv = opts; kv && kv->key && !r; kv++) {
		const char *name = settable_name(kv->key);

		if (name && kv->value) {
			r = job_set_option(&scratch, name, kv->value, &e->msg);
			if (r < 0)
				e->param = name;
		}
	}
	scratch_free(&scratch);
	return r;
}

static int apply_options(struct repl_job *job, const struct ops_kv *opts, struct strbuf *err)
{
	for (const struct ops_kv *kv = opts; kv && kv->key; kv++) {
		const char *name = settable_name(kv->key);

		if (name && kv->value) {
			int r = job_set_option(job, name, kv->value, err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* ---- create ---- */

struct create_data {
	const char *id;
	const char *target;
	const char *source;
	const struct ops_kv *opts;
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
	r = apply_options(job, cd->opts, err);
	if (r < 0)
		return r;
	if (!job->source)
		job->source = xstrdup(cd->source);
	return 1;
}

/* The warnings cluster_config gathered from index from on are the
 * caller's too: it shows them next to the result. */
static void pass_warnings(const struct cluster_config *cc, size_t from, struct ops_err *e)
{
	for (size_t i = from; i < cc->warnings.nr; i++)
		strvec_push(&e->warnings, cc->warnings.v[i]);
}

/* What can be checked without the cluster's config is checked first,
 * so a typo fails at once and names the parameter at fault. */
static int check_create_args(const char *raw_id, const char *target, const struct ops_kv *opts,
			     struct strbuf *id, uint32_t *guest, struct ops_err *e)
{
	struct repl_job scratch = { 0 };
	int r;

	if ((r = job_id_parse(raw_id, id, guest, NULL, &e->msg)) < 0)
		return fail(e, r, "id");
	/* the target's own check, on a job that is thrown away */
	r = job_set_option(&scratch, "target", target, &e->msg);
	scratch_free(&scratch);
	if (r < 0)
		return fail(e, r, "target");
	return check_options(opts, e);
}

/* The guest must exist, and no other tool may replicate it already
 * (docs/proxmox.md): never two tools replicating one guest. */
static int check_guest(const struct context *ctx, const struct cluster_config *cc, uint32_t guest,
		       const struct guest **g, struct ops_err *e)
{
	int r;

	*g = guests_find(&cc->guests, guest);
	if (!*g) {
		strbuf_addf(&e->msg, "Guest '%u' does not exist.", guest);
		return fail(e, -ENOENT, "id");
	}
	if ((r = pvesr_refuse_guest(ctx->config_dir, guest, &e->msg)) < 0)
		return fail(e, r, "id");
	return 0;
}

/* The job replicates from the node the guest is on (a source option may
 * only confirm it) to another node that nodes.cfg knows. */
static int check_nodes(const struct cluster_config *cc, const struct guest *g, const char *target,
		       const struct ops_kv *opts, struct ops_err *e)
{
	const char *source = kv_get(opts, "source");

	if (!nodes_cfg_find(&cc->nodes, target)) {
		strbuf_addf(&e->msg, "Target '%s' does not exist.", target);
		if (cc->nodes.missing_path)
			strbuf_addf(&e->msg, " There is no nodes.cfg (looked for '%s').", cc->nodes.missing_path);
		return fail(e, -ENOENT, "target");
	}
	if (source && strcmp(source, g->node)) {
		strbuf_addf(&e->msg, "Source '%s' does not match current node of guest '%u' (%s)", source, g->vmid,
			    g->node);
		return fail(e, -EINVAL, "source");
	}
	if (!strcmp(g->node, target)) {
		strbuf_addstr(&e->msg, "Source and target must not be identical");
		return fail(e, -EINVAL, "target");
	}
	return 0;
}

/* A job without a volume to replicate would only fail at each run;
 * refusing it now says why. */
static int check_volumes(struct cluster_config *cc, const struct guest *g, struct volume_list *vols,
			 struct ops_err *e)
{
	size_t shown = cc->warnings.nr;
	int r;

	r = cluster_guest_volumes_w(cc, g, 0, vols, &e->msg, &cc->warnings);
	pass_warnings(cc, shown, e);
	if (r < 0)
		return r == -EINVAL ? r : -EIO;
	if (!vols->nr) {
		strbuf_addstr(&e->msg, "No replicatable volumes found");
		return -EINVAL;
	}
	return 0;
}

int ops_job_create(const struct context *ctx, const char *raw_id, const char *target, const struct ops_kv *opts,
		   struct ops_err *e)
{
	struct strbuf id = STRBUF_INIT;
	struct cluster_config cc = CLUSTER_CONFIG_INIT;
	struct volume_list vols = { 0 };
	const struct guest *g = NULL;
	uint32_t guest;
	int r;

	if ((r = check_create_args(raw_id, target, opts, &id, &guest, e)) < 0)
		goto out;
	r = cluster_config_load(&cc, ctx->config_dir, 0, &e->msg);
	pass_warnings(&cc, 0, e);
	if (r < 0)
		goto out;
	if ((r = check_guest(ctx, &cc, guest, &g, e)) < 0 ||
	    (r = check_nodes(&cc, g, target, opts, e)) < 0 ||
	    (r = check_volumes(&cc, g, &vols, e)) < 0)
		goto out;
	struct create_data cd = { .id = id.buf, .target = target, .source = g->node, .opts = opts };
	r = jobs_cfg_modify(ctx->config_dir, create_fn, &cd, NULL, &e->msg);
	if (r == -EEXIST)
		e->param = "id";
	r = r < 0 ? r : 0;
out:
	volume_list_release(&vols);
	cluster_config_release(&cc);
	strbuf_release(&id);
	return r;
}

/* ---- update ---- */

struct update_data {
	const char *id;
	const char *digest;
	const struct strvec *del;
	const struct ops_kv *opts;
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
	r = apply_options(job, ud->opts, err);
	return r < 0 ? r : 1;
}

int ops_job_update(const struct context *ctx, const char *raw_id, const char *target, const char *digest,
		   const char *delete_list, const struct ops_kv *opts, struct ops_err *e)
{
	struct strbuf id = STRBUF_INIT;
	struct strvec del = STRVEC_INIT;
	int r = -EINVAL;

	if (target) {
		strbuf_addstr(&e->msg, "can't change value of fixed parameter 'target'");
		e->param = "target";
		goto out;
	}
	if (digest && strlen(digest) > 64) {
		strbuf_addf(&e->msg, "invalid digest '%.64s...' - value may only be 64 characters long", digest);
		e->param = "digest";
		goto out;
	}
	/* a typo must not read as "file changed by other user" */
	if (digest && (strlen(digest) != 40 || strspn(digest, "0123456789abcdef") != 40)) {
		strbuf_addf(&e->msg, "invalid digest '%s' - expected the 40 lower-case hex digits 'volrep read' prints",
			    digest);
		e->param = "digest";
		goto out;
	}
	if (delete_list) {
		/* PVE::Tools::split_list: separators , ; and white space */
		struct strbuf norm = STRBUF_INIT;
		strbuf_addstr(&norm, delete_list);
		for (char *p = norm.buf; *p; p++)
			if (strchr(";, \t\n", *p))
				*p = ',';
		strvec_split(&del, norm.buf, ',');
		strbuf_release(&norm);
		for (size_t i = 0; i < del.nr; i++) {
			const char *name = settable_name(del.v[i]);

			if (name && kv_get(opts, name)) {
				strbuf_addf(&e->msg,
					    "option '%s' is both set (--%s) and deleted (--delete %s) - give one of them",
					    del.v[i], del.v[i], del.v[i]);
				e->param = "delete";
				goto out;
			}
		}
	}
	if ((r = job_id_parse_existing(raw_id, &id, NULL, &e->msg)) < 0) {
		e->param = "id";
		goto out;
	}
	if ((r = check_options(opts, e)) < 0)
		goto out;
	for (size_t i = 0; i < del.nr; i++) {
		struct repl_job scratch = { 0 };
		r = job_delete_option(&scratch, del.v[i], &e->msg);
		if (r < 0) {
			r = fail(e, -EINVAL, "delete");
			goto out;
		}
	}
	struct update_data ud = { .id = id.buf, .digest = digest, .del = &del, .opts = opts };
	r = jobs_cfg_modify(ctx->config_dir, update_fn, &ud, &e->warnings, &e->msg);
	r = r < 0 ? r : 0;
out:
	strvec_clear(&del);
	strbuf_release(&id);
	return r;
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

int ops_job_delete(const struct context *ctx, const char *raw_id, int keep, int force, struct ops_err *e)
{
	struct strbuf id = STRBUF_INIT;
	struct delete_data dd = { .keep = keep, .force = force };
	int r;

	if (keep && force) {
		strbuf_addstr(&e->msg, "keep: conflicts with parameter 'force'");
		e->param = "keep";
		return -EINVAL;
	}
	if ((r = job_id_parse_existing(raw_id, &id, NULL, &e->msg)) < 0) {
		e->param = "id";
		goto out;
	}
	dd.id = id.buf;
	r = jobs_cfg_modify(ctx->config_dir, delete_fn, &dd, &e->warnings, &e->msg);
	r = r < 0 ? r : 0;
out:
	strbuf_release(&id);
	return r;
}

/* ---- list, read ---- */

static int load_jobs(const struct context *ctx, struct jobs_cfg *jc, struct ops_err *e)
{
	int r = jobs_cfg_load(jc, ctx->config_dir, &e->warnings);

	if (r < 0) {
		strbuf_addf(&e->msg, "unable to read '%s/replication.cfg' - %s", ctx->config_dir, file_strerror(-r));
		return -EIO;
	}
	return 0;
}

int ops_job_list(const struct context *ctx, struct jobs_cfg *jc, struct repl_job ***sorted, struct ops_err *e)
{
	int r = load_jobs(ctx, jc, e);

	*sorted = r < 0 ? NULL : jobs_sorted(jc);
	return r;
}

/* Load the jobs and find id among them: 0 and *job, or -errno (-ENOENT:
 * no such job) with the message in e. */
static int load_job(const struct context *ctx, struct jobs_cfg *jc, const char *id, const struct repl_job **job,
		    struct ops_err *e)
{
	int r = load_jobs(ctx, jc, e);

	if (r < 0)
		return r;
	*job = jobs_cfg_find(jc, id);
	if (!*job) {
		strbuf_addf(&e->msg, "no such replication job '%s'", id);
		return -ENOENT;
	}
	return 0;
}

int ops_job_read(const struct context *ctx, const char *raw_id, json_t **out, struct ops_err *e)
{
	struct strbuf id = STRBUF_INIT;
	struct jobs_cfg jc = { 0 };
	const struct repl_job *job;
	int r;

	*out = NULL;
	if ((r = job_id_parse_existing(raw_id, &id, NULL, &e->msg)) < 0) {
		e->param = "id";
		goto out;
	}
	if ((r = load_job(ctx, &jc, id.buf, &job, e)) < 0)
		goto out;
	*out = job_to_json(job);
	json_object_set_new(*out, "digest", json_string(jc.digest));
out:
	jobs_cfg_release(&jc);
	strbuf_release(&id);
	return r;
}

/* ---- schedule-now ---- */

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

int ops_job_schedule_now(const struct context *ctx, const char *raw_id, struct strbuf *canon, struct ops_err *e)
{
	struct strbuf id = STRBUF_INIT;
	struct jobs_cfg jc = { 0 };
	const struct repl_job *job;
	int r;

	if ((r = job_id_parse(raw_id, &id, NULL, NULL, &e->msg)) < 0) {
		e->param = "id";
		goto out;
	}
	if ((r = load_job(ctx, &jc, id.buf, &job, e)) < 0)
		goto out;
	struct sched_data sd = { .guest = job->guest, .target = job->target };
	r = state_update(ctx->state_dir, schedule_now_fn, &sd, &e->msg);
	if (r < 0) {
		r = -EIO;
		goto out;
	}
	if (canon)
		strbuf_addstr(canon, id.buf);
	r = 0;
out:
	jobs_cfg_release(&jc);
	strbuf_release(&id);
	return r;
}

/* ---- status ---- */

int ops_parse_guest(const char *s, uint64_t *guest, struct ops_err *e)
{
	if (!valid_vmid(s) || parse_u64(s, guest) < 0) {
		strbuf_addf(&e->msg, "invalid guest '%s' - value does not look like a valid VM ID", s);
		e->param = "guest";
		return -EINVAL;
	}
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct job_entry *x = *(const struct job_entry *const *)a, *y = *(const struct job_entry *const *)b;

	if (x->job->guest != y->job->guest)
		return x->job->guest < y->job->guest ? -1 : 1;
	return strcmp(x->job->id, y->job->id);
}

int ops_status_load(struct ops_status *os, const struct context *ctx, struct ops_err *e)
{
	struct strbuf msg = STRBUF_INIT;
	int r;

	memset(os, 0, sizeof(*os));
	os->cc = (struct cluster_config)CLUSTER_CONFIG_INIT;
	os->js = (struct job_status)JOB_STATUS_INIT;
	r = cluster_config_load(&os->cc, ctx->config_dir, 0, &e->msg);
	for (size_t i = 0; i < os->cc.warnings.nr; i++)
		strvec_push(&e->warnings, os->cc.warnings.v[i]);
	if (r < 0)
		return -EIO;
	/* else an empty list looks like "no jobs" */
	if (nodes_cfg_check_self(&os->cc.nodes, ctx, &msg))
		strvec_push(&e->warnings, msg.buf);
	strbuf_reset(&msg);
	r = state_load(ctx->state_dir, &os->st, &e->msg);
	if (r < 0) {
		strbuf_release(&msg);
		return -EIO;
	}
	os->now = volrep_now();
	/* only max-lag is used: an unreadable volrep.cfg means the default */
	if (volrep_cfg_load(&os->vcfg, ctx->config_dir, &msg) < 0) {
		strvec_push(&e->warnings, msg.buf);
		volrep_cfg_init(&os->vcfg);
	}
	strbuf_reset(&msg);
	/* pvesr's status calls job_status, which also records the source
	 * node of new jobs and switches stolen guests; a read-only config
	 * must not break the display */
	if (job_status_fix_sources(&os->cc, ctx->config_dir, ctx->node, &msg) < 0)
		strvec_push(&e->warnings, msg.buf);
	strbuf_release(&msg);
	job_status_collect(&os->js, &os->cc, os->st, ctx->node, JOB_STATUS_DISABLED);
	os->sorted = xcalloc(os->js.nr ? os->js.nr : 1, sizeof(*os->sorted));
	for (size_t i = 0; i < os->js.nr; i++)
		os->sorted[i] = &os->js.v[i];
	if (os->js.nr > 1)
		qsort(os->sorted, os->js.nr, sizeof(*os->sorted), cmp_entry);
	return 0;
}

void ops_status_release(struct ops_status *os)
{
	free(os->sorted);
	os->sorted = NULL;
	job_status_release(&os->js);
	state_free(os->st);
	os->st = NULL;
	cluster_config_release(&os->cc);
}

void ops_printable(struct strbuf *sb, const char *s)
{
	strbuf_reset(sb);
	if (s)
		strbuf_add_sanitized(sb, s, strlen(s), 0);
}

int ops_status_stale(const struct ops_status *os, const struct job_entry *e)
{
	int64_t limit = metrics_lag_limit(os->vcfg.max_lag, metrics_interval(e->job->schedule, os->now));

	return metrics_is_stale(e->state.last_sync, limit, os->now);
}

json_t *ops_status_entry_json(const struct ops_status *os, const struct job_entry *e)
{
	const struct job_state *jst = &e->state;
	json_t *o = job_to_json(e->job);

	json_object_set_new(o, "vmtype", json_string(guest_type_name(e->guest->type)));
	json_object_set_new(o, "next_sync", json_integer(e->next_sync));
	json_object_set_new(o, "last_sync", json_integer(jst->last_sync));
	json_object_set_new(o, "last_try", json_integer(jst->last_try));
	json_object_set_new(o, "fail_count", json_integer(jst->fail_count));
	if (jst->error) {
		struct strbuf t = STRBUF_INIT;

		ops_printable(&t, jst->error);
		json_object_set_new(o, "error", json_string(t.buf));
		strbuf_release(&t);
	}
	if (jst->has_duration)
		json_object_set_new(o, "duration", json_real(jst->duration));
	if (process_running(jst->pid, jst->ptime))
		json_object_set_new(o, "pid", json_integer(jst->pid));
	json_object_set_new(o, "bytes", json_integer((json_int_t)jst->bytes));
	json_object_set_new(o, "lag", jst->last_sync ? json_integer(os->now - jst->last_sync) : json_null());
	json_object_set_new(o, "stale", json_integer(ops_status_stale(os, e)));
	return o;
}

/* ---- log ---- */

int ops_job_log_read(const struct context *ctx, const char *id, unsigned k, struct strbuf *text, struct ops_err *e)
{
	struct strbuf path = STRBUF_INIT;
	int r;

	joblog_run_path(&path, ctx->log_dir, id, k);
	r = strbuf_read_file(text, path.buf, 64u << 20);
	if (r < 0 && r != -ENOENT) {
		strbuf_addf(&e->msg, "unable to read '%s' - %s", path.buf, file_strerror(-r));
		r = -EIO;
	}
	strbuf_release(&path);
	return r < 0 ? r : 0;
}

int ops_job_no_log(const struct context *ctx, const char *id, struct ops_err *e)
{
	struct jobs_cfg jc = { 0 };
	int known = jobs_cfg_load(&jc, ctx->config_dir, NULL) < 0 || jobs_cfg_find(&jc, id);

	jobs_cfg_release(&jc);
	if (!known) {
		strbuf_addf(&e->msg, "no such replication job '%s' (see 'volrep list')", id);
		return -ENOENT;
	}
	strbuf_addf(&e->msg, "no log for job '%s' (it has not run on this node)", id);
	return -ENODATA;
}

/* ---- JSON view ---- */

json_t *job_to_json(const struct repl_job *job)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_string(job->id));
	json_object_set_new(o, "guest", json_integer(job->guest));
	json_object_set_new(o, "jobnum", json_integer(job->jobnum));
	json_object_set_new(o, "type", json_string("local"));
	json_object_set_new(o, "target", json_string(job->target));
	if (job->schedule)
		json_object_set_new(o, "schedule", json_string(job->schedule));
	if (job->rate) {
		double r = job->rate_mbps;
		if (r == floor(r) && r < 9e15)
			json_object_set_new(o, "rate", json_integer((json_int_t)r));
		else
			json_object_set_new(o, "rate", json_real(r));
	}
	if (job->comment && *job->comment)
		json_object_set_new(o, "comment", json_string(job->comment));
	if (job->disable)
		json_object_set_new(o, "disable", json_integer(1));
	if (job->remove_job)
		json_object_set_new(o, "remove_job", json_string(remove_mode_name(job->remove_job)));
	if (job->source)
		json_object_set_new(o, "source", json_string(job->source));
	if (job->compress)
		json_object_set_new(o, "compress", json_string(job->compress));
	if (job->keep)
		json_object_set_new(o, "keep", json_integer(job->keep));
	if (job->raw)
		json_object_set_new(o, "raw", json_integer(1));
	return o;
}

static int cmp_job(const void *a, const void *b)
{
	const struct repl_job *ja = *(const struct repl_job *const *)a;
	const struct repl_job *jb = *(const struct repl_job *const *)b;

	if (ja->guest != jb->guest)
		return ja->guest < jb->guest ? -1 : 1;
	return strcmp(ja->id, jb->id);
}

struct repl_job **jobs_sorted(const struct jobs_cfg *jc)
{
	struct repl_job **v = xcalloc(jc->nr + 1, sizeof(*v));

	for (size_t i = 0; i < jc->nr; i++)
		v[i] = &jc->v[i];
	if (jc->nr > 1)
		qsort(v, jc->nr, sizeof(*v), cmp_job);
	return v;
}
