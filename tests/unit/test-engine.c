/* Unit tests of the engine's pure parts: volume ids, the stale snapshot
 * selection of prepare() (docs/pvesr-compat.md §4.4, incl. 100-1 vs 100-10),
 * the base choice, the snapshot map JSON the target sends, the argv of the
 * remote calls and the job_status filters and stolen-guest switch; and,
 * with a fake zfs, which calls the target's finalize makes. */
#include "unit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/xalloc.h"
#include "engine/plan.h"
#include "engine/prepare.h"
#include "engine/remote.h"
#include "engine/replicate.h"
#include "engine/resume.h"
#include "engine/storemap.h"
#include "sched/jobstatus.h"
#include "transport/serve.h"

/* a list from "name:id:creation name:id:creation ..." */
static void mklist(struct backend_snapshot_list *l, const char *spec)
{
	struct strvec toks = STRVEC_INIT;

	strvec_split(&toks, spec, ' ');
	for (size_t i = 0; i < toks.nr; i++) {
		struct strvec f = STRVEC_INIT;
		const char *id, *ts;

		/* "name:id:creation" with a possibly empty id */
		char *c1 = strchr(toks.v[i], ':'), *c2 = strrchr(toks.v[i], ':');
		strvec_push(&f, toks.v[i]);
		f.v[0][c1 - toks.v[i]] = '\0';
		id = c1 + 1;
		ts = c2 + 1;
		*c2 = '\0';
		backend_snapshot_list_add(l, f.v[0], id, strtoll(ts, NULL, 10));
		strvec_clear(&f);
	}
	strvec_clear(&toks);
}

static char *joined(const struct strvec *sv)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < sv->nr; i++)
		strbuf_addf(&sb, "%s%s", i ? " " : "", sv->v[i]);
	return strbuf_detach(&sb, NULL);
}

static void test_volid(void **state)
{
	char sid[STOREID_MAX + 1];
	const char *volname;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	assert_int_equal(volid_parse("local-zfs:vm-100-disk-0", sid, &volname, NULL), 0);
	assert_string_equal(sid, "local-zfs");
	assert_string_equal(volname, "vm-100-disk-0");
	assert_int_equal(volid_parse("local-btrfs:100/vm-100-disk-1.raw", sid, &volname, NULL), 0);
	assert_string_equal(volname, "100/vm-100-disk-1.raw");
	static const char *const bad[] = {
		"vm-100-disk-0", ":vm-100-disk-0", "local-zfs:", "Local:vm-100-disk-0", "local-zfs:-rf",
		"local-zfs:../etc", "local-zfs:vm-100-disk-0;id", "-x:vm-100-disk-0", "a b:vm-100-disk-0",
		"local-zfs:/abs", "x01234567890123456789012345678901234567890123456789012345678901234567:vm-1-disk-0",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strbuf_reset(&err);
		assert_int_equal(volid_parse(bad[i], sid, &volname, &err), -EINVAL);
		assert_non_null(strstr(err.buf, "invalid volume id"));
	}
	strbuf_release(&err);
}

static void test_snapnames(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	repl_snapname(&sb, "100-0", 1714564800);
	assert_string_equal(sb.buf, "__replicate_100-0_1714564800__");
	assert_true(repl_snap_of_job("__replicate_100-1_5__", "100-1"));
	assert_false(repl_snap_of_job("__replicate_100-10_5__", "100-1"));
	assert_false(repl_snap_of_job("__replicate_100-1", "100-1"));
	assert_false(repl_snap_of_job("__replicate_200-1_5__", "100-1"));
	assert_true(repl_snap_any("__replicate_100-10_5__"));
	assert_false(repl_snap_any("before-upgrade"));
	strbuf_release(&sb);
}

/* stale selection: returns "<ok> <warn> <stale names>" */
static char *select_str(const char *snaps, const char *jobid, int64_t last_sync, const char *parent,
			unsigned keep)
{
	struct backend_snapshot_list l = BACKEND_SNAPSHOT_LIST_INIT;
	struct strvec stale = STRVEC_INIT;
	int warn = -1, ok;
	struct strbuf res = STRBUF_INIT;
	char *j;

	mklist(&l, snaps);
	ok = prepare_select(&l, jobid, last_sync, parent, keep, &stale, &warn);
	j = joined(&stale);
	strbuf_addf(&res, "%d %d %s", ok, warn, j);
	free(j);
	strvec_clear(&stale);
	backend_snapshot_list_clear(&l);
	return strbuf_detach(&res, NULL);
}

static void check_select(const char *snaps, const char *jobid, int64_t last_sync, const char *parent,
			 unsigned keep, const char *want, int line)
{
	char *got = select_str(snaps, jobid, last_sync, parent, keep);

	if (strcmp(got, want))
		fail_msg("line %d: got '%s', want '%s'", line, got, want);
	free(got);
}
#define SELECT(s, j, l, p, w) check_select(s, j, l, p, 0, w, __LINE__)
#define SELECT_KEEP(s, j, l, k, w) check_select(s, j, l, NULL, k, w, __LINE__)

static void test_prepare_select(void **state)
{
	const char *s = "__replicate_100-0_100__:a:100 __replicate_100-0_200__:b:200 "
			"__replicate_100-1_150__:c:150 __replicate_100-10_160__:d:160 user:e:170";

	(void)state;
	/* last_sync snapshot present: the job's others are stale, may go */
	SELECT(s, "100-0", 200, NULL, "1 0 __replicate_100-0_100__");
	/* job 100-1 never selects 100-10's snapshots */
	SELECT(s, "100-1", 150, NULL, "1 0 ");
	SELECT(s, "100-1", 999, NULL, "0 1 __replicate_100-1_150__");
	SELECT(s, "100-10", 160, NULL, "1 0 ");
	/* last_sync snapshot missing: nothing goes, and say why */
	SELECT(s, "100-0", 300, NULL, "0 1 __replicate_100-0_100__ __replicate_100-0_200__");
	/* new job / stolen guest: never delete, no warning */
	SELECT(s, "100-0", 0, NULL, "0 0 __replicate_100-0_100__ __replicate_100-0_200__");
	/* last_sync 1: remove all of this job's */
	SELECT(s, "100-0", 1, NULL, "1 0 __replicate_100-0_100__ __replicate_100-0_200__");
	/* the parent snapshot is kept */
	SELECT(s, "100-0", 200, "__replicate_100-0_100__", "1 0 ");
	/* nothing stale: no warning even though last_sync is missing */
	SELECT("user:e:170", "100-0", 300, NULL, "0 0 ");
}

/* retention: the keep newest snapshots older than last_sync stay; newer
 * ones (a failed run's) and the oldest go; other jobs' are not counted */
static void test_prepare_select_keep(void **state)
{
	const char *s = "__replicate_100-0_100__:a:100 __replicate_100-0_200__:b:200 "
			"__replicate_100-0_300__:c:300 __replicate_100-0_400__:d:400 "
			"__replicate_100-0_500__:e:500 __replicate_100-1_450__:f:450 user:g:170";

	(void)state;
	SELECT_KEEP(s, "100-0", 400, 0, "1 0 __replicate_100-0_100__ __replicate_100-0_200__ "
					"__replicate_100-0_300__ __replicate_100-0_500__");
	SELECT_KEEP(s, "100-0", 400, 2, "1 0 __replicate_100-0_100__ __replicate_100-0_500__");
	SELECT_KEEP(s, "100-0", 400, 1, "1 0 __replicate_100-0_100__ __replicate_100-0_200__ __replicate_100-0_500__");
	SELECT_KEEP(s, "100-0", 400, 3, "1 0 __replicate_100-0_500__");
	SELECT_KEEP(s, "100-0", 400, 100, "1 0 __replicate_100-0_500__");
	/* finalize of the newest: its 2 predecessors stay */
	SELECT_KEEP(s, "100-0", 500, 2, "1 0 __replicate_100-0_100__ __replicate_100-0_200__");
	/* remove everything (last_sync 1) keeps nothing */
	SELECT_KEEP(s, "100-0", 1, 2, "1 0 __replicate_100-0_100__ __replicate_100-0_200__ "
				      "__replicate_100-0_300__ __replicate_100-0_400__ __replicate_100-0_500__");
}

static int base_of(const char *local, const char *remote, const char *last, const char *parent,
		   const char **base, struct backend_snapshot_list *keep)
{
	struct backend_snapshot_list r = BACKEND_SNAPSHOT_LIST_INIT;
	int ret;

	mklist(keep, local);
	if (remote)
		mklist(&r, remote);
	*base = NULL;
	ret = plan_base(keep, remote ? &r : NULL, last, parent, base);
	backend_snapshot_list_clear(&r);
	return ret;
}

/* When a plain incremental carries what a package would (snapshots) */
static int plain_of(const char *local, const char *remote, const char *base)
{
	struct backend_snapshot_list l = BACKEND_SNAPSHOT_LIST_INIT, r = BACKEND_SNAPSHOT_LIST_INIT;
	int ret;

	mklist(&l, local);
	mklist(&r, remote);
	ret = plan_plain(&l, &r, base);
	backend_snapshot_list_clear(&l);
	backend_snapshot_list_clear(&r);
	return ret;
}

static void test_plan_plain(void **state)
{
	(void)state;
	/* the common case: base the newest, the target has it (and older) */
	assert_int_equal(plain_of("old:1:100 b:2:200", "old:1:100 b:2:200", "b"), 1);
	assert_int_equal(plain_of("old:1:100 b:2:200", "b:2:200", "b"), 1);
	/* a snapshot after the base (-I would carry it), or in its second */
	assert_int_equal(plain_of("b:2:200 user:3:300", "b:2:200", "b"), 0);
	assert_int_equal(plain_of("user:3:200 b:2:200", "b:2:200", "b"), 0);
	/* the target has one the source no longer has (a package prunes it) */
	assert_int_equal(plain_of("b:2:200", "gone:9:150 b:2:200", "b"), 0);
	/* no base, a base not listed, no target list */
	assert_int_equal(plain_of("b:2:200", "b:2:200", NULL), 0);
	assert_int_equal(plain_of("b:2:200", "b:2:200", "x"), 0);
	assert_int_equal(plan_plain(NULL, NULL, "b"), 0);
}

static void test_plan_base(void **state)
{
	struct backend_snapshot_list l = BACKEND_SNAPSHOT_LIST_INIT;
	const char *base;
	const char *last = "__replicate_100-0_200__";

	(void)state;
	/* absent on the target: full sync */
	assert_int_equal(base_of("__replicate_100-0_200__:a:200", NULL, last, NULL, &base, &l), 0);
	assert_null(base);
	backend_snapshot_list_clear(&l);
	/* the last_sync snapshot on both sides with the same identity */
	assert_int_equal(base_of("__replicate_100-0_100__:x:100 __replicate_100-0_200__:a:200",
				 "__replicate_100-0_100__:x:100 __replicate_100-0_200__:a:200", last, NULL, &base, &l),
			 1);
	assert_string_equal(base, last);
	backend_snapshot_list_clear(&l);
	/* same name, other content: no base from it; falls back to the newest
	 * common replication snapshot of any job */
	assert_int_equal(base_of("__replicate_100-1_50__:m:50 __replicate_100-9_90__:n:90 __replicate_100-0_200__:a:200",
				 "__replicate_100-1_50__:m:50 __replicate_100-9_90__:n:90 __replicate_100-0_200__:Z:200",
				 last, NULL, &base, &l),
			 1);
	assert_string_equal(base, "__replicate_100-9_90__");
	backend_snapshot_list_clear(&l);
	/* an unknown identity (empty id) does not veto */
	assert_int_equal(base_of("__replicate_100-0_200__::200", "__replicate_100-0_200__:a:200", last, NULL, &base, &l),
			 1);
	assert_string_equal(base, last);
	backend_snapshot_list_clear(&l);
	/* the parent snapshot before the fallback */
	assert_int_equal(base_of("snap1:p:10 __replicate_100-9_90__:n:90", "snap1:p:10 __replicate_100-9_90__:n:90",
				 last, "snap1", &base, &l),
			 1);
	assert_string_equal(base, "snap1");
	backend_snapshot_list_clear(&l);
	/* user snapshots in common are no fallback base; nothing common: error */
	assert_int_equal(base_of("user:u:10", "user:u:10", last, NULL, &base, &l), -ENOENT);
	backend_snapshot_list_clear(&l);
	assert_int_equal(base_of("__replicate_100-0_200__:a:200", "", last, NULL, &base, &l), -ENOENT);
	backend_snapshot_list_clear(&l);
}

static void test_no_base_error(void **state)
{
	struct strvec v = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	strvec_push(&v, "local-zfs:vm-100-disk-0");
	strvec_push(&v, "local-zfs:vm-100-disk-1");
	plan_no_base_error(&err, &v, "100-0");
	assert_string_equal(err.buf, "No common base snapshot on volume(s) local-zfs:vm-100-disk-0,local-zfs:vm-100-disk-1\n"
				     "Please remove the problematic volume(s) from the replication target or delete "
				     "and re-create the whole job 100-0");
	strvec_clear(&v);
	strbuf_release(&err);
}

static void test_snap_map_json(void **state)
{
	struct snap_map m = SNAP_MAP_INIT, back = SNAP_MAP_INIT;
	struct strbuf err = STRBUF_INIT;
	char *json, *json2;

	(void)state;
	backend_snapshot_list_add(&snap_map_get(&m, "local-zfs:vm-100-disk-0")->snaps, "__replicate_100-0_5__",
				  "1234567890", 5);
	snap_map_get(&m, "local-btrfs:100/vm-100-disk-1.raw");
	json = snap_map_to_json(&m);
	assert_string_equal(json, "{\"local-btrfs:100/vm-100-disk-1.raw\":{},\"local-zfs:vm-100-disk-0\":"
				  "{\"__replicate_100-0_5__\":{\"id\":\"1234567890\",\"timestamp\":5}}}");
	assert_int_equal(snap_map_from_json(json, strlen(json), &back, &err), 0);
	json2 = snap_map_to_json(&back);
	assert_string_equal(json, json2);
	assert_non_null(snap_map_find(&back, "local-btrfs:100/vm-100-disk-1.raw"));
	assert_null(snap_map_find(&back, "local-zfs:vm-100-disk-9"));
	free(json);
	free(json2);
	snap_map_release(&back);
	snap_map_release(&m);

	/* integer ids (pvesr's guid) are accepted */
	const char *ok = "{\"local-zfs:vm-100-disk-0\":{\"s\":{\"id\":42,\"timestamp\":1}}}";
	assert_int_equal(snap_map_from_json(ok, strlen(ok), &back, &err), 0);
	assert_string_equal(back.v[0].snaps.v[0].id, "42");
	snap_map_release(&back);

	/* hostile answers from a target */
	static const char *const bad[] = {
		"", "[]", "{\"local-zfs:vm-100-disk-0\":[]}", "{\"local-zfs:../x\":{}}",
		"{\"local-zfs:vm-100-disk-0\":{\"-rf\":{\"id\":\"1\",\"timestamp\":1}}}",
		"{\"local-zfs:vm-100-disk-0\":{\"s\":{\"id\":\"a b\",\"timestamp\":1}}}",
		"{\"local-zfs:vm-100-disk-0\":{\"s\":{\"id\":\"1\",\"timestamp\":\"x\"}}}",
		"{\"local-zfs:vm-100-disk-0\":{\"s\":1}}",
		"{\"local-zfs:vm-100-disk-0\":{},\"local-zfs:vm-100-disk-0\":{}}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strbuf_reset(&err);
		if (snap_map_from_json(bad[i], strlen(bad[i]), &back, &err) != -EINVAL)
			fail_msg("accepted '%s'", bad[i]);
		assert_true(err.len > 0);
		snap_map_release(&back);
	}
	strbuf_release(&err);
}

static void assert_argv(const struct strvec *argv, const char *want)
{
	char *got = joined(argv);

	if (strcmp(got, want))
		fail_msg("argv '%s', want '%s'", got, want);
	free(got);
}

static void test_remote_argv(void **state)
{
	struct strvec a = STRVEC_INIT, scan = STRVEC_INIT, vols = STRVEC_INIT;

	(void)state;
	unsetenv("VOLREP_REMOTE_BIN");
	strvec_push(&scan, "local-btrfs");
	strvec_push(&scan, "local-zfs");
	strvec_push(&vols, "local-zfs:vm-100-disk-0");
	strvec_push(&vols, "local-zfs:vm-100-disk-1");
	remote_prepare_argv(&a, "100-0", &scan, &vols, 1714564800, NULL, 0);
	assert_argv(&a, "volrep prepare-local-job 100-0 --scan local-btrfs,local-zfs local-zfs:vm-100-disk-0 "
			"local-zfs:vm-100-disk-1 --last_sync 1714564800");
	strvec_clear(&a);
	/* removal: no volumes, last_sync 1, --force */
	remote_prepare_argv(&a, "100-0", &scan, NULL, 1, NULL, 1);
	assert_argv(&a, "volrep prepare-local-job 100-0 --scan local-btrfs,local-zfs --last_sync 1 --force");
	strvec_clear(&a);
	remote_prepare_argv(&a, "100-0", NULL, &vols, 0, "snap1", 0);
	assert_argv(&a, "volrep prepare-local-job 100-0 local-zfs:vm-100-disk-0 local-zfs:vm-100-disk-1 "
			"--last_sync 0 --parent_snapname snap1");
	strvec_clear(&a);
	remote_finalize_argv(&a, "100-0", &vols, 1714565700);
	assert_argv(&a, "volrep finalize-local-job 100-0 local-zfs:vm-100-disk-0 local-zfs:vm-100-disk-1 "
			"--last_sync 1714565700");
	strvec_clear(&a);
	remote_finalize_argv(&a, "100-0", &vols, 1714565700);
	remote_keep_argv(&a, 0);
	assert_argv(&a, "volrep finalize-local-job 100-0 local-zfs:vm-100-disk-0 local-zfs:vm-100-disk-1 "
			"--last_sync 1714565700");
	remote_keep_argv(&a, 3);
	assert_argv(&a, "volrep finalize-local-job 100-0 local-zfs:vm-100-disk-0 local-zfs:vm-100-disk-1 "
			"--last_sync 1714565700 --keep 3");
	strvec_clear(&a);
	setenv("VOLREP_REMOTE_BIN", "/opt/volrep/bin/volrep", 1);
	remote_import_argv(&a, "local-zfs:vm-100-disk-0", "__replicate_100-0_2__", "__replicate_100-0_1__", NULL);
	assert_argv(&a, "/opt/volrep/bin/volrep import local-zfs:vm-100-disk-0 --snapshot __replicate_100-0_2__ "
			"--base __replicate_100-0_1__");
	unsetenv("VOLREP_REMOTE_BIN");
	strvec_clear(&a);
	remote_import_argv(&a, "local-zfs:vm-100-disk-0", "__replicate_100-0_2__", NULL, NULL);
	assert_argv(&a, "volrep import local-zfs:vm-100-disk-0 --snapshot __replicate_100-0_2__");
	strvec_clear(&a);
	remote_import_argv(&a, "local-zfs:vm-100-disk-0", "__replicate_100-0_2__", NULL, "lz4");
	assert_argv(&a, "volrep import local-zfs:vm-100-disk-0 --snapshot __replicate_100-0_2__ --compress lz4");
	strvec_clear(&a);
	strvec_clear(&scan);
	strvec_clear(&vols);
}

/* a cluster in memory: guests 100, 101 on pve1, 200 on pve2 */
static void mkcluster(struct cluster_config *cc, const char *jobs)
{
	static const struct {
		uint32_t vmid;
		const char *node;
	} gs[] = { { 100, "pve1" }, { 101, "pve1" }, { 200, "pve2" } };
	const char *nodes = "node: pve1\n\taddress 127.0.1.1\n\nnode: pve2\n\taddress 127.0.1.2\n";

	assert_int_equal(jobs_cfg_parse(&cc->jobs, jobs, strlen(jobs), NULL), 0);
	assert_int_equal(nodes_cfg_parse(&cc->nodes, nodes, strlen(nodes), NULL), 0);
	cc->guests.v = calloc(3, sizeof(*cc->guests.v));
	cc->guests.nr = cc->guests.alloc = 3;
	for (size_t i = 0; i < 3; i++) {
		cc->guests.v[i].vmid = gs[i].vmid;
		cc->guests.v[i].type = GUEST_QEMU;
		cc->guests.v[i].node = strdup(gs[i].node);
		cc->guests.v[i].conf_path = strdup("/dev/null");
	}
}

static char *ids_of(const struct job_status *js)
{
	struct strvec v = STRVEC_INIT;
	char *s;

	for (size_t i = 0; i < js->nr; i++)
		strvec_pushf(&v, "%s@%lld", js->v[i].job->id, (long long)js->v[i].next_sync);
	s = joined(&v);
	strvec_clear(&v);
	return s;
}

static void test_job_status(void **state)
{
	struct cluster_config cc = CLUSTER_CONFIG_INIT;
	struct job_status js = JOB_STATUS_INIT;
	char *s;

	(void)state;
	setenv("TZ", "UTC", 1);
	mkcluster(&cc, "local: 100-0\n\ttarget pve2\n\nlocal: 100-1\n\ttarget pve1\n\n"
		       "local: 100-2\n\tdisable\n\ttarget pve3\n\tremove_job full\n\n"
		       "local: 101-0\n\tdisable\n\ttarget pve2\n\nlocal: 101-1\n\ttarget pve1\n\tremove_job local\n\n"
		       "local: 200-0\n\ttarget pve1\n\nlocal: 999-0\n\ttarget pve2\n\n");
	job_status_collect(&js, &cc, NULL, "pve1", 0);
	s = ids_of(&js);
	/* 100-1 targets this node (skipped), 101-0 is disabled, 200-0 and
	 * 999-0 are not here; removals show up anyway (disabled or to this
	 * node), due at once */
	assert_string_equal(s, "100-0@900 100-2@1 101-1@1");
	free(s);
	job_status_release(&js);
	job_status_collect(&js, &cc, NULL, "pve1", JOB_STATUS_DISABLED);
	s = ids_of(&js);
	assert_string_equal(s, "100-0@900 100-2@1 101-0@900 101-1@1");
	free(s);
	assert_non_null(job_status_find(&js, "101-0"));
	assert_null(job_status_find(&js, "100-1"));
	job_status_release(&js);
	cluster_config_release(&cc);
}

static void test_switch_stolen(void **state)
{
	struct jobs_cfg jc = { 0 };
	struct strbuf err = STRBUF_INIT;
	const char *text = "local: 100-0\n\ttarget pve2\n\tsource pve1\n\n"
			   "local: 100-1\n\ttarget pve3\n\tsource pve1\n\n"
			   "local: 101-0\n\ttarget pve2\n\tsource pve1\n\n";

	(void)state;
	assert_int_equal(jobs_cfg_parse(&jc, text, strlen(text), NULL), 0);
	/* guest 100 was recovered on pve2 */
	assert_int_equal(job_status_switch_stolen(&jc, 100, "pve1", "pve2", &err), 2);
	assert_string_equal(jobs_cfg_find(&jc, "100-0")->target, "pve1");
	assert_string_equal(jobs_cfg_find(&jc, "100-0")->source, "pve2");
	assert_string_equal(jobs_cfg_find(&jc, "100-1")->target, "pve3");
	assert_string_equal(jobs_cfg_find(&jc, "100-1")->source, "pve2");
	/* other guests untouched */
	assert_string_equal(jobs_cfg_find(&jc, "101-0")->target, "pve2");
	assert_string_equal(jobs_cfg_find(&jc, "101-0")->source, "pve1");
	jobs_cfg_release(&jc);
	strbuf_release(&err);
}

/* what the source sends passes the target's `volrep serve` whitelist */
static void assert_serve_ok(const struct strvec *argv)
{
	struct strbuf why = STRBUF_INIT;

	if (serve_check((const char *const *)argv->v, &why) < 0) {
		char *j = joined(argv);

		fail_msg("serve refused '%s': %s", j, why.buf);
	}
	strbuf_release(&why);
}

static void test_remote_argv_pass_serve(void **state)
{
	struct strvec a = STRVEC_INIT, scan = STRVEC_INIT, vols = STRVEC_INIT;

	(void)state;
	unsetenv("VOLREP_REMOTE_BIN");
	strvec_push(&scan, "local-btrfs");
	strvec_push(&scan, "local-zfs");
	strvec_push(&vols, "local-zfs:vm-100-disk-0");
	strvec_push(&vols, "local-btrfs:100/vm-100-disk-1.raw");
	remote_prepare_argv(&a, "100-0", &scan, &vols, 1714564800, "snap1", 0);
	assert_serve_ok(&a);
	strvec_clear(&a);
	remote_prepare_argv(&a, "100-0", &scan, NULL, 1, NULL, 1);
	assert_serve_ok(&a);
	strvec_clear(&a);
	remote_prepare_argv(&a, "100-0", NULL, &vols, 0, NULL, 0);
	assert_serve_ok(&a);
	strvec_clear(&a);
	remote_finalize_argv(&a, "100-0", &vols, 1714565700);
	assert_serve_ok(&a);
	remote_keep_argv(&a, 100);
	assert_serve_ok(&a);
	strvec_clear(&a);
	remote_prepare_argv(&a, "100-0", &scan, &vols, 1714564800, "snap1", 0);
	remote_keep_argv(&a, 2);
	assert_serve_ok(&a);
	strvec_clear(&a);
	remote_import_argv(&a, "local-btrfs:100/vm-100-disk-1.raw", "__replicate_100-0_2__", "__replicate_100-0_1__",
			   NULL);
	assert_serve_ok(&a);
	strvec_clear(&a);
	remote_import_argv(&a, "local-zfs:vm-100-disk-0", "__replicate_100-0_2__", NULL, NULL);
	assert_serve_ok(&a);
	strvec_clear(&a);
	remote_import_argv(&a, "local-zfs:vm-100-disk-0", "__replicate_100-0_2__", "__replicate_100-0_1__", "zstd");
	assert_serve_ok(&a);
	strvec_clear(&a);
	remote_set_state_argv(&a, "100", "{\"local/pve1\":{\"last_sync\":5}}");
	assert_serve_ok(&a);
	strvec_clear(&a);
	strvec_clear(&scan);
	strvec_clear(&vols);
}

static void expect_progress(int line, uint64_t bytes, uint64_t total, double elapsed, double eta, int done,
			    const char *want)
{
	struct relay_progress p = { .bytes = bytes, .total = total, .elapsed = elapsed,
				    .rate = elapsed > 0 ? (double)bytes / elapsed : 0, .eta = eta, .done = done };
	struct strbuf sb = STRBUF_INIT;

	run_format_progress("local-zfs:subvol-200-disk-0", &p, &sb);
	if (strcmp(sb.buf, want))
		fail_msg("line %d: got '%s', want '%s'", line, sb.buf, want);
	strbuf_release(&sb);
}

/* The --verbose progress line with and without a size estimate. */
static void test_progress_line(void **state)
{
	(void)state;
	/* the estimate known: percent and ETA */
	expect_progress(__LINE__, 12000000, 40100000, 1.5, 3.5125, 0,
			"local-zfs:subvol-200-disk-0: 12.0 MB of ~40.1 MB (29%), 8.00 MB/s, ETA 4s");
	expect_progress(__LINE__, 0, 40100000, 0, -1, 0,
			"local-zfs:subvol-200-disk-0: 0 B of ~40.1 MB (0%), 0.00 MB/s, ETA ?");
	expect_progress(__LINE__, 1000000, 2000000000, 1, 1999, 0,
			"local-zfs:subvol-200-disk-0: 1.0 MB of ~2.00 GB (0%), 1.00 MB/s, ETA 33m19s");
	expect_progress(__LINE__, 1000000, 20000000000ULL, 1, 19999, 0,
			"local-zfs:subvol-200-disk-0: 1.0 MB of ~20.00 GB (0%), 1.00 MB/s, ETA 5h33m");
	expect_progress(__LINE__, 39999999, 40000000, 5, 0.0000001, 0,
			"local-zfs:subvol-200-disk-0: 40.0 MB of ~40.0 MB (99%), 8.00 MB/s, ETA 0s");
	/* the estimate exceeded: held at 99%, no ETA (the relay says 0 s) */
	expect_progress(__LINE__, 40000000, 40000000, 5, 0, 0,
			"local-zfs:subvol-200-disk-0: 40.0 MB of ~40.0 MB (99%), 8.00 MB/s, ETA ?");
	expect_progress(__LINE__, 50000000, 40000000, 5, 0, 0,
			"local-zfs:subvol-200-disk-0: 50.0 MB of ~40.0 MB (99%), 10.00 MB/s, ETA ?");
	/* no estimate */
	expect_progress(__LINE__, 12000000, 0, 1.5, -1, 0,
			"local-zfs:subvol-200-disk-0: 12.0 MB, 1.5s, 8.00 MB/s");
	/* the end: the real size, with or without the estimate */
	expect_progress(__LINE__, 50000000, 40000000, 5, 0, 1,
			"local-zfs:subvol-200-disk-0: 50.0 MB in 5.0s, 10.00 MB/s");
	expect_progress(__LINE__, 512, 0, 0, -1, 1, "local-zfs:subvol-200-disk-0: 512 B in 0.0s, 0.00 MB/s");
}


/* Resumable transfers: the target's answer and every branch of the
 * decision between attempts. */
static void test_resume_decide(void **state)
{
	struct strbuf t = STRBUF_INIT;

	(void)state;
	assert_int_equal(resume_parse_reply("resume-token -\n", &t), 0);
	assert_int_equal(resume_parse_reply("noise\nresume-token 1-e6-e0-abcd\n", &t), 1);
	assert_string_equal(t.buf, "1-e6-e0-abcd");
	/* hostile or broken answers: nothing usable, token untouched */
	assert_int_equal(resume_parse_reply("", &t), -EINVAL);
	assert_int_equal(resume_parse_reply("resume-token \n", &t), -EINVAL);
	assert_int_equal(resume_parse_reply("resume-token -o\n", &t), -EINVAL);
	assert_int_equal(resume_parse_reply("resume-token 1-e6-e0-ab;reboot\n", &t), -EINVAL);
	assert_int_equal(resume_parse_reply("resume-token 1-e6-e0-ab cd\n", &t), -EINVAL);
	assert_int_equal(resume_parse_reply("resume-token 1-e6-e0-ab\nresume-token 1-e6-e0-cd\n", &t), -EINVAL);
	assert_string_equal(t.buf, "1-e6-e0-abcd");

	/* nothing kept there (zfs-fuse, or the receive left nothing), or the
	 * query failed: the transfer's failure stands */
	assert_int_equal(resume_decide(1, 0, NULL, NULL, 0), RESUME_STOP);
	assert_int_equal(resume_decide(1, -EIO, NULL, NULL, 0), RESUME_STOP);
	assert_int_equal(resume_decide(1, -EINVAL, "1-e6-e0-ab", NULL, 0), RESUME_STOP);
	/* a token: continue from it, as often as RESUME_TRIES */
	assert_int_equal(resume_decide(1, 1, "1-e6-e0-ab", NULL, 0), RESUME_CONTINUE);
	assert_int_equal(resume_decide(RESUME_TRIES, 1, "1-e6-e0-cd", "1-e6-e0-ab", 0), RESUME_CONTINUE);
	assert_int_equal(resume_decide(RESUME_TRIES + 1, 1, "1-e6-e0-ef", "1-e6-e0-cd", 0), RESUME_STOP);
	/* the token did not move: the target refuses it; or this side does:
	 * the partial receive is given up for one fresh stream */
	assert_int_equal(resume_decide(2, 1, "1-e6-e0-ab", "1-e6-e0-ab", 0), RESUME_RESTART);
	assert_int_equal(resume_decide(2, 0, NULL, "1-e6-e0-ab", 1), RESUME_RESTART);
	strbuf_release(&t);
}

/* A run's finalize on the target skips the stale-import check that its
 * prepare makes (in the same zfs get per volume as its snapshot list):
 * the run's imports reset their own properties. A fake zfs in PATH logs
 * each call. */
static void test_finalize_skips_stale_check(void **state)
{
	static const char cfgtext[] = "zfspool: local-zfs\n\tpool rpool/data\n";
	struct storage_cfg sc = { 0 };
	struct strvec vols = STRVEC_INIT;
	struct snap_map out = SNAP_MAP_INIT;
	struct strbuf dir = STRBUF_INIT, p = STRBUF_INIT, err = STRBUF_INIT, log = STRBUF_INIT;
	const struct elog quiet = { 0 };
	char tmpl[] = "/tmp/volrep-unit-engine.XXXXXX", cwd[512], *oldpath;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	strbuf_addf(&p, "%s/zfs", tmpl);
	f = fopen(p.buf, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\necho \"$*\" >>%s/log\n[ \"$1\" != help ] || { cat %s/tests/data/zfs-fuse-help.txt; exit 2; }\nexit 0\n",
		tmpl, cwd);
	fclose(f);
	chmod(p.buf, 0755);
	oldpath = xstrdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	strbuf_addf(&dir, "%s:%s", tmpl, oldpath);
	setenv("PATH", dir.buf, 1);
	assert_int_equal(storage_cfg_parse(&sc, cfgtext, strlen(cfgtext), NULL), 0);
	strvec_push(&vols, "local-zfs:subvol-100-disk-0");

	{
		struct storemap sm = STOREMAP_INIT(&sc, "a");

		assert_int_equal(prepare_volumes(&sm, &vols, "100-0", 5, NULL, 0, &quiet, &out, NULL, &err), 0);
		storemap_release(&sm);
	}
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/log", tmpl);
	assert_int_equal(strbuf_read_file(&log, p.buf, 1 << 16), 0);
	/* one call for the stale check and the snapshots */
	assert_non_null(strstr(log.buf, "get -Hp -r -o name,property,value,source guid,creation,"));
	assert_null(strstr(log.buf, "name,property,value guid,creation"));
	unlink(p.buf);
	{
		struct storemap sm = STOREMAP_INIT(&sc, "a");

		assert_int_equal(finalize_volumes(&sm, &vols, "100-0", 6, 0, &quiet, &err), 0);
		storemap_release(&sm);
	}
	strbuf_reset(&log);
	assert_int_equal(strbuf_read_file(&log, p.buf, 1 << 16), 0);
	assert_null(strstr(log.buf, "value,source"));
	assert_non_null(strstr(log.buf, "get -Hp -r -o name,property,value guid,creation -- rpool/data/subvol-100-disk-0\n"));

	setenv("PATH", oldpath, 1);
	unlink(p.buf);
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/zfs", tmpl);
	unlink(p.buf);
	rmdir(tmpl);
	free(oldpath);
	snap_map_release(&out);
	storage_cfg_release(&sc);
	strvec_clear(&vols);
	strbuf_release(&dir);
	strbuf_release(&p);
	strbuf_release(&err);
	strbuf_release(&log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_volid),
		cmocka_unit_test(test_resume_decide),
		cmocka_unit_test(test_snapnames),
		cmocka_unit_test(test_prepare_select),
		cmocka_unit_test(test_prepare_select_keep),
		cmocka_unit_test(test_plan_base),
		cmocka_unit_test(test_plan_plain),
		cmocka_unit_test(test_no_base_error),
		cmocka_unit_test(test_snap_map_json),
		cmocka_unit_test(test_remote_argv),
		cmocka_unit_test(test_remote_argv_pass_serve),
		cmocka_unit_test(test_job_status),
		cmocka_unit_test(test_switch_stolen),
		cmocka_unit_test(test_progress_line),
		cmocka_unit_test(test_finalize_skips_stale_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
