/* Unit tests of the pure parts of migration and failover: replication
 * snapshot times, the freshest complete replica, the refusals, the job
 * rewrite with the config hand-over, and the guest hooks. */
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/strbuf.h"
#include "base/strvec.h"
#include "config/cluster.h"
#include "engine/handover.h"
#include "engine/hook.h"
#include "sched/jobstatus.h"
#include "engine/migrate.h"
#include "engine/replica.h"
#include "exec/spawn.h"

/* ---- helpers ----------------------------------------------------------- */

static void add_snaps(struct snap_map *m, const char *volid, const char *const *names)
{
	struct vol_snaps *vs = snap_map_get(m, volid);

	for (; *names; names++)
		backend_snapshot_list_add(&vs->snaps, *names, "1", 0);
}

static void write_text(const char *dir, const char *name, const char *text)
{
	struct strbuf p = STRBUF_INIT;
	char *slash;

	strbuf_addf(&p, "%s/%s", dir, name);
	slash = strrchr(p.buf, '/');
	*slash = '\0';
	assert_int_equal(mkdir_p(p.buf, 0755), 0);
	*slash = '/';
	assert_int_equal(write_file_atomic(p.buf, text, strlen(text), 0644), 0);
	strbuf_release(&p);
}

static char *read_text(const char *dir, const char *name)
{
	struct strbuf p = STRBUF_INIT, t = STRBUF_INIT;

	strbuf_addf(&p, "%s/%s", dir, name);
	if (strbuf_read_file(&t, p.buf, 1 << 20) < 0) {
		strbuf_release(&p);
		strbuf_release(&t);
		return NULL;
	}
	strbuf_release(&p);
	return strbuf_detach(&t, NULL);
}

static int exists(const char *dir, const char *name)
{
	struct strbuf p = STRBUF_INIT;
	struct stat st;
	int r;

	strbuf_addf(&p, "%s/%s", dir, name);
	r = stat(p.buf, &st) == 0;
	strbuf_release(&p);
	return r;
}

static void rm_rf(const char *dir)
{
	const char *argv[] = { "rm", "-rf", "--", dir, NULL };

	run_capture(argv, NULL, 0, NULL, NULL, 4096);
}

/* A cluster of nodes a, b, c; guest 100 (lxc) on a with one ZFS volume;
 * jobs 100-0 -> b, 100-1 -> c; guest 101 on a with 101-0 -> b marked for
 * removal; guest 102 on b. */
static int setup_cluster(void **state)
{
	char *dir = strdup("/tmp/volrep-test-migrate.XXXXXX");

	if (!mkdtemp(dir))
		return -1;
	write_text(dir, "nodes.cfg", "node: a\n\taddress 127.0.0.1\n\nnode: b\n\taddress 127.0.0.2\n\n"
				     "node: c\n\taddress 127.0.0.3\n");
	write_text(dir, "storage.cfg", "zfspool: local-zfs\n\tpool rpool/data\n\tcontent images,rootdir\n");
	write_text(dir, "replication.cfg", "local: 100-0\n\ttarget b\n\tsource a\n\n"
					   "local: 100-1\n\ttarget c\n\tsource a\n\trate 10\n\n"
					   "local: 101-0\n\ttarget b\n\tremove_job full\n\n"
					   "local: 102-0\n\ttarget a\n\tsource b\n");
	write_text(dir, "nodes/a/lxc/100.conf", "rootfs: local-zfs:subvol-100-disk-0,size=8G\n");
	write_text(dir, "nodes/a/lxc/101.conf", "rootfs: local-zfs:subvol-101-disk-0,size=8G\n");
	write_text(dir, "nodes/b/qemu-server/102.conf", "scsi0: local-zfs:vm-102-disk-0,size=8G\n");
	*state = dir;
	return 0;
}

static int teardown_cluster(void **state)
{
	rm_rf(*state);
	free(*state);
	return 0;
}

static void load(struct cluster_config *cc, const char *dir)
{
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(cluster_config_load(cc, dir, 0, &err), 0);
	strbuf_release(&err);
}

/* ---- replication snapshot times ---------------------------------------- */

static void test_repl_snap_time(void **state)
{
	int64_t t = -1;

	(void)state;
	assert_int_equal(repl_snap_time("__replicate_100-0_1714564800__", &t), 1);
	assert_int_equal(t, 1714564800);
	assert_int_equal(repl_snap_time("__replicate_999999999-12_0__", &t), 1);
	assert_int_equal(t, 0);
	t = 7;
	assert_int_equal(repl_snap_time("__replicate_100-0_1714564800_", &t), 0);
	assert_int_equal(repl_snap_time("__replicate_100-0___", &t), 0);
	assert_int_equal(repl_snap_time("__replicate__1714564800__", &t), 0);
	assert_int_equal(repl_snap_time("__replicate_99-0_1714564800__", &t), 0);
	assert_int_equal(repl_snap_time("__replicate_100-0_17x4564800__", &t), 0);
	assert_int_equal(repl_snap_time("__replicate_100_0_1714564800__", &t), 0);
	assert_int_equal(repl_snap_time("before-upgrade", &t), 0);
	assert_int_equal(repl_snap_time("", &t), 0);
	assert_int_equal(t, 7);
}

/* ---- the newest complete snapshot -------------------------------------- */

static void test_newest_complete(void **state)
{
	struct snap_map m = SNAP_MAP_INIT;
	struct strvec vols = STRVEC_INIT;
	const char *snap = NULL;
	int64_t t = 0;

	(void)state;
	strvec_push(&vols, "local-zfs:subvol-100-disk-0");
	strvec_push(&vols, "local-zfs:subvol-100-disk-1");
	/* disk-0 got the run of 300 too, disk-1 did not (the run failed
	 * half-way): 200 is the newest consistent state */
	add_snaps(&m, vols.v[0], (const char *const[]){ "__replicate_100-0_100__", "__replicate_100-1_200__",
							"__replicate_100-1_300__", "mine", NULL });
	add_snaps(&m, vols.v[1], (const char *const[]){ "__replicate_100-0_100__", "__replicate_100-1_200__", "mine",
							NULL });
	assert_int_equal(replica_newest_complete(&m, &vols, &snap, &t), 1);
	assert_string_equal(snap, "__replicate_100-1_200__");
	assert_int_equal(t, 200);

	/* a volume missing: no complete replica */
	strvec_push(&vols, "local-zfs:subvol-100-disk-2");
	assert_int_equal(replica_newest_complete(&m, &vols, &snap, &t), 0);
	/* present but with no replication snapshot in common */
	add_snaps(&m, vols.v[2], (const char *const[]){ "mine", "__replicate_100-1_300__", NULL });
	assert_int_equal(replica_newest_complete(&m, &vols, &snap, &t), 0);
	strvec_clear(&vols);
	assert_int_equal(replica_newest_complete(&m, &vols, &snap, &t), 0);
	snap_map_release(&m);
}

/* ---- choosing the replica ---------------------------------------------- */

static void cand(struct replica_candidate *c, const char *node, int reachable, const char *const *names)
{
	*c = (struct replica_candidate){ .node = strdup(node), .reachable = reachable, .snaps = SNAP_MAP_INIT };
	if (names)
		add_snaps(&c->snaps, "local-zfs:subvol-100-disk-0", names);
	if (!reachable)
		c->error = strdup("ssh failed");
}

static void test_choose(void **state)
{
	struct replica_candidate c[4];
	struct strvec vols = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	strvec_push(&vols, "local-zfs:subvol-100-disk-0");
	cand(&c[0], "b", 1, (const char *const[]){ "__replicate_100-0_100__", NULL });
	cand(&c[1], "c", 1, (const char *const[]){ "__replicate_100-0_100__", "__replicate_100-1_250__", NULL });
	cand(&c[2], "d", 0, NULL);
	cand(&c[3], "e", 1, (const char *const[]){ "snap", NULL });

	/* the freshest complete one */
	assert_int_equal(replica_choose(c, 4, 100, &vols, NULL, "b", &err), 1);
	assert_true(c[1].complete);
	assert_string_equal(c[1].snap, "__replicate_100-1_250__");
	assert_int_equal(c[1].time, 250);
	assert_true(c[0].complete);
	assert_false(c[2].complete);
	assert_false(c[3].complete);
	/* forced */
	assert_int_equal(replica_choose(c, 4, 100, &vols, "b", NULL, &err), 0);
	assert_int_equal(replica_choose(c, 4, 100, &vols, "e", NULL, &err), -ENOENT);
	assert_string_equal(err.buf, "node 'e' has no complete replica of guest '100'");
	strbuf_reset(&err);
	assert_int_equal(replica_choose(c, 4, 100, &vols, "d", NULL, &err), -ENOENT);
	strbuf_reset(&err);
	/* order does not matter */
	assert_int_equal(replica_choose(c + 1, 3, 100, &vols, NULL, NULL, &err), 0);
	/* only unusable ones */
	assert_int_equal(replica_choose(c + 2, 2, 100, &vols, NULL, NULL, &err), -ENOENT);
	assert_string_equal(err.buf, "no complete replica of guest '100' on any reachable node");
	strbuf_reset(&err);
	/* a tie: the preferred node (this one), else the first name */
	replica_candidate_release(&c[0]);
	cand(&c[0], "b", 1, (const char *const[]){ "__replicate_100-1_250__", NULL });
	assert_int_equal(replica_choose(c, 2, 100, &vols, NULL, "c", &err), 1);
	assert_int_equal(replica_choose(c, 2, 100, &vols, NULL, "b", &err), 0);
	assert_int_equal(replica_choose(c, 2, 100, &vols, NULL, NULL, &err), 0);
	assert_int_equal(replica_choose(c, 2, 100, &vols, NULL, "x", &err), 0);
	for (int i = 0; i < 4; i++)
		replica_candidate_release(&c[i]);
	strvec_clear(&vols);
	strbuf_release(&err);
}

/* ---- the job rewrite ---------------------------------------------------- */

static void test_rewrite(void **state)
{
	const char *text = "local: 100-0\n\ttarget b\n\tsource a\n\n"
			   "local: 100-1\n\ttarget c\n\tsource a\n\n"
			   "local: 200-0\n\ttarget b\n\tsource a\n";
	struct jobs_cfg jc = { 0 };
	struct strbuf err = STRBUF_INIT;

	(void)state;
	assert_int_equal(jobs_cfg_parse(&jc, text, strlen(text), NULL), 0);
	/* migrate 100 from a to b: the job to b returns to a, the one to c
	 * keeps its target, both start from b; guest 200 is untouched */
	assert_int_equal(job_status_switch_stolen(&jc, 100, "a", "b", &err), 2);
	assert_string_equal(jobs_cfg_find(&jc, "100-0")->target, "a");
	assert_string_equal(jobs_cfg_find(&jc, "100-0")->source, "b");
	assert_string_equal(jobs_cfg_find(&jc, "100-1")->target, "c");
	assert_string_equal(jobs_cfg_find(&jc, "100-1")->source, "b");
	assert_string_equal(jobs_cfg_find(&jc, "200-0")->target, "b");
	assert_string_equal(jobs_cfg_find(&jc, "200-0")->source, "a");
	/* failover from a (gone) to c: the job to c now targets a */
	assert_int_equal(job_status_switch_stolen(&jc, 100, "b", "c", &err), 2);
	assert_string_equal(jobs_cfg_find(&jc, "100-0")->target, "a");
	assert_string_equal(jobs_cfg_find(&jc, "100-1")->target, "b");
	assert_string_equal(jobs_cfg_find(&jc, "100-1")->source, "c");
	jobs_cfg_release(&jc);
	strbuf_release(&err);
}

/* ---- refusals ------------------------------------------------------------ */

static void test_migrate_check(void **state)
{
	struct cluster_config cc = CLUSTER_CONFIG_INIT;
	struct strbuf err = STRBUF_INIT;
	const struct guest *g = NULL;

	load(&cc, *state);
#define REFUSED(node, vmid, target, online, msg) \
	do { \
		strbuf_reset(&err); \
		assert_int_equal(migrate_check(&cc, node, vmid, target, online, &g, &err), -EINVAL); \
		assert_string_equal(err.buf, msg); \
	} while (0)
	REFUSED("a", 999, "b", 0, "no such guest '999'");
	REFUSED("b", 100, "c", 0, "guest '100' is not on local node 'b' (its config is on 'a')");
	REFUSED("a", 100, "x", 0, "no such cluster node 'x'");
	REFUSED("a", 100, "a", 0, "target 'a' is the local node");
	REFUSED("a", 100, "b", 1, "online migration is not supported - stop the guest and migrate it offline");
	REFUSED("a", 101, "b", 0, "refusing to migrate replicated VM whose replication job is marked for removal");
#undef REFUSED
	/* a job to another node marked for removal does not matter */
	strbuf_reset(&err);
	assert_int_equal(migrate_check(&cc, "a", 101, "c", 0, &g, &err), 0);
	assert_int_equal(migrate_check(&cc, "a", 100, "b", 0, &g, &err), 0);
	assert_int_equal(g->vmid, 100);
	cluster_config_release(&cc);
	strbuf_release(&err);
}

/* ---- the hand-over ------------------------------------------------------- */

static void test_hand_over(void **state)
{
	const char *dir = *state;
	struct cluster_config cc = CLUSTER_CONFIG_INIT;
	struct strvec jobs = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	char *before, *after;

	load(&cc, dir);
	assert_int_equal(guest_hand_over(dir, guests_find(&cc.guests, 100), "a", "b", &jobs, &err), 0);
	assert_false(exists(dir, "nodes/a/lxc/100.conf"));
	assert_true(exists(dir, "nodes/b/lxc/100.conf"));
	assert_int_equal(jobs.nr, 2);
	assert_string_equal(jobs.v[0], "100-0 b a");
	assert_string_equal(jobs.v[1], "100-1 b c");
	after = read_text(dir, "replication.cfg");
	assert_non_null(strstr(after, "local: 100-0\n\ttarget a\n\tsource b\n"));
	assert_non_null(strstr(after, "local: 100-1\n\ttarget c\n\trate 10\n\tsource b\n"));
	assert_non_null(strstr(after, "local: 102-0\n\ttarget a\n\tsource b\n"));
	free(after);
	cluster_config_release(&cc);

	/* a (skipped) job to the guest's own node b: the rewrite would give
	 * guest 102 two jobs to b, so nothing changes */
	write_text(dir, "replication.cfg", "local: 102-0\n\ttarget b\n\tsource b\n\nlocal: 102-1\n\ttarget c\n\tsource b\n");
	write_text(dir, "nodes/c/qemu-server/.keep", "");
	load(&cc, dir);
	before = read_text(dir, "replication.cfg");
	strbuf_reset(&err);
	assert_true(guest_hand_over(dir, guests_find(&cc.guests, 102), "b", "c", NULL, &err) < 0);
	assert_non_null(strstr(err.buf, "already exists"));
	after = read_text(dir, "replication.cfg");
	assert_string_equal(before, after);
	assert_true(exists(dir, "nodes/b/qemu-server/102.conf"));
	assert_false(exists(dir, "nodes/c/qemu-server/102.conf"));
	free(before);
	free(after);

	/* a config already at the destination is never replaced */
	write_text(dir, "nodes/a/qemu-server/102.conf", "scsi0: local-zfs:vm-102-disk-9,size=1G\n");
	before = read_text(dir, "replication.cfg");
	strbuf_reset(&err);
	assert_int_equal(guest_hand_over(dir, guests_find(&cc.guests, 102), "b", "a", NULL, &err), -EEXIST);
	assert_non_null(strstr(err.buf, "cannot move"));
	after = read_text(dir, "replication.cfg");
	assert_string_equal(before, after);
	assert_true(exists(dir, "nodes/b/qemu-server/102.conf"));
	free(before);
	free(after);
	cluster_config_release(&cc);
	strvec_clear(&jobs);
	strbuf_release(&err);
}

/* ---- hooks ---------------------------------------------------------------- */

static void write_hook(const char *dir, const char *body)
{
	struct strbuf p = STRBUF_INIT;

	write_text(dir, "hooks/lxc", body);
	strbuf_addf(&p, "%s/hooks/lxc", dir);
	assert_int_equal(chmod(p.buf, 0755), 0);
	strbuf_release(&p);
}

static void test_hooks(void **state)
{
	const char *dir = *state;
	struct strbuf err = STRBUF_INIT;
	char *calls;

	/* no hook: nothing runs, the guest counts as stopped */
	assert_int_equal(guest_hook_running(dir, "a", GUEST_LXC, 100, &err), 0);
	assert_int_equal(guest_hook_start(dir, "a", GUEST_LXC, 100, &err), 0);
	assert_int_equal(guest_hook_stop(dir, "a", GUEST_QEMU, 100, &err), 0);
	assert_int_equal(err.len, 0);

	write_hook(dir, "#!/bin/sh\necho \"$VOLREP_NODE $*\" >>\"$(dirname \"$0\")/calls\"\n"
			"case $1 in status) exit 0;; start) exit 0;; stop) echo \"cannot stop\" >&2; exit 4;; esac\n");
	assert_int_equal(guest_hook_running(dir, "a", GUEST_LXC, 100, &err), 1);
	assert_int_equal(guest_hook_start(dir, "a", GUEST_LXC, 100, &err), 0);
	assert_int_equal(guest_hook_stop(dir, "a", GUEST_LXC, 100, &err), -EIO);
	assert_non_null(strstr(err.buf, "/hooks/lxc' stop 100 failed (exit code 4): cannot stop"));
	calls = read_text(dir, "hooks/calls");
	assert_string_equal(calls, "a status 100\na start 100\na stop 100\n");
	free(calls);

	write_hook(dir, "#!/bin/sh\nexit 3\n");
	strbuf_reset(&err);
	assert_int_equal(guest_hook_running(dir, "a", GUEST_LXC, 100, &err), 0);
	write_hook(dir, "#!/bin/sh\nexit 1\n");
	assert_int_equal(guest_hook_running(dir, "a", GUEST_LXC, 100, &err), -EIO);
	assert_non_null(strstr(err.buf, "status 100 failed (exit code 1)"));
	/* the qemu hook is another file */
	assert_int_equal(guest_hook_running(dir, "a", GUEST_QEMU, 100, &err), 0);

	/* a hook others can write to, or in a directory others can write
	 * to, is not run */
	{
		struct strbuf p = STRBUF_INIT;

		write_hook(dir, "#!/bin/sh\ntouch \"$(dirname \"$0\")/ran\"\nexit 0\n");
		strbuf_addf(&p, "%s/hooks/lxc", dir);
		assert_int_equal(chmod(p.buf, 0757), 0);
		strbuf_reset(&err);
		assert_int_equal(guest_hook_start(dir, "a", GUEST_LXC, 100, &err), -EPERM);
		/* the file is the user's who runs the tests: root in make check,
		 * anyone in make unit */
		strbuf_reset(&p);
		strbuf_addf(&p, "/hooks/lxc' is writable by others than root (uid %u, mode 0757) - not run",
			    (unsigned)geteuid());
		assert_non_null(strstr(err.buf, p.buf));
		strbuf_reset(&p);
		strbuf_addf(&p, "%s/hooks/lxc", dir);
		assert_int_equal(chmod(p.buf, 0755), 0);
		strbuf_setlen(&p, p.len - strlen("/lxc"));
		assert_int_equal(chmod(p.buf, 0777), 0);
		strbuf_reset(&err);
		assert_int_equal(guest_hook_running(dir, "a", GUEST_LXC, 100, &err), -EPERM);
		assert_non_null(strstr(err.buf, "hook directory '"));
		assert_int_equal(chmod(p.buf, 0755), 0);
		assert_false(exists(dir, "hooks/ran"));
		strbuf_reset(&err);
		assert_int_equal(guest_hook_start(dir, "a", GUEST_LXC, 100, &err), 0);
		assert_true(exists(dir, "hooks/ran"));
		strbuf_release(&p);
	}
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_repl_snap_time),
		cmocka_unit_test(test_newest_complete),
		cmocka_unit_test(test_choose),
		cmocka_unit_test(test_rewrite),
		cmocka_unit_test_setup_teardown(test_migrate_check, setup_cluster, teardown_cluster),
		cmocka_unit_test_setup_teardown(test_hand_over, setup_cluster, teardown_cluster),
		cmocka_unit_test_setup_teardown(test_hooks, setup_cluster, teardown_cluster),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
