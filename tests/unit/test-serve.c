/* The serve policy (transport/serve.h): what the key of peer "a" may run
 * on node "b", against the cluster of fuzz/serve-fixture.h. */
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../fuzz/serve-fixture.h"
#include "config/cluster.h"
#include "transport/serve.h"

static char *dir;
static struct cluster_config cc = CLUSTER_CONFIG_INIT;
static struct state *st;

static int setup(void **state)
{
	struct strbuf err = STRBUF_INIT;

	(void)state;
	dir = serve_fixture_write();
	if (!dir || cluster_config_load(&cc, dir, 0, &err) < 0 ||
	    state_parse(serve_fixture_state, strlen(serve_fixture_state), "fixture", &st, &err) < 0) {
		fprintf(stderr, "fixture: %s\n", err.buf);
		return -1;
	}
	strbuf_release(&err);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cluster_config_release(&cc);
	state_free(st);
	serve_fixture_remove(dir);
	free(dir);
	return 0;
}

/* check cmd as peer's: want NULL = allowed, else the reason must contain it */
static void check(const char *peer, const char *cmd, const char *want, int line)
{
	struct serve_policy p = { .cc = &cc, .self = "b", .peer = peer, .state = st };
	struct serve_cmd c = SERVE_CMD_INIT;
	struct strbuf why = STRBUF_INIT;
	int r = serve_parse_cmd(cmd, strlen(cmd), &c, &why);

	if (r < 0)
		fail_msg("line %d: does not parse (%s): %s", line, why.buf, cmd);
	r = serve_policy_check(&p, &c, &why);
	if (!want && r != 0)
		fail_msg("line %d: refused (%s): %s", line, why.buf, cmd);
	if (want && (r != -EACCES || !strstr(why.buf, want)))
		fail_msg("line %d: r=%d why '%s' lacks '%s': %s", line, r, why.buf, want, cmd);
	serve_cmd_release(&c);
	strbuf_release(&why);
}
#define OK(cmd) check("a", (cmd), NULL, __LINE__)
#define NO(cmd, why) check("a", (cmd), (why), __LINE__)

/* a replication run of the peer's own guest 100 (job 100-0 a -> b) */
static void test_replication(void **state)
{
	(void)state;
	OK("volrep prepare-local-job 100-0 --scan local-zfs,local-btrfs local-zfs:vm-100-disk-0 "
	   "local-btrfs:100/vm-100-disk-1.raw --last_sync 1714564800 --parent_snapname __replicate_100-0_1__");
	OK("volrep prepare-local-job 100-0 --scan local-zfs --last_sync 1 --force");
	OK("volrep import local-zfs:vm-100-disk-0 --snapshot __replicate_100-0_2__ --base __replicate_100-0_1__");
	OK("volrep import local-btrfs:100/vm-100-disk-1.raw --snapshot __replicate_100-0_2__");
	/* a compressed stream: the codec names only */
	OK("volrep import local-zfs:vm-100-disk-0 --snapshot __replicate_100-0_2__ --compress zstd");
	OK("volrep import local-zfs:vm-100-disk-0 --snapshot __replicate_100-0_2__ --compress lz4");
	/* resumable receives: the same ownership checks as the stream */
	OK("volrep import local-zfs:vm-100-disk-0 --snapshot __replicate_100-0_2__ --base __replicate_100-0_1__ --resume");
	OK("volrep import local-zfs:vm-100-disk-0 --snapshot __replicate_100-0_2__ --resume-token");
	OK("volrep import local-zfs:vm-100-disk-0 --snapshot __replicate_100-0_2__ --abort-resume");
	OK("volrep import local-zfs:vm-100-disk-0 --snapshot __replicate_100-0_2__ --raw --resume");
	NO("volrep import local-zfs:vm-400-disk-0 --snapshot __replicate_400-0_9__ --resume-token",
	   "lives on 'c', not on peer 'a'");
	OK("volrep finalize-local-job 100-0 local-zfs:vm-100-disk-0 --last_sync 2");
	OK("volrep version");
	/* datacenter.cfg's migration network: a CIDR, nothing else */
	OK("volrep migration-ip 10.1.0.0/24");
	OK("volrep migration-ip fd00:1::/64");
	/* a migration's full copy to a node without a job: a job id no job has */
	OK("volrep prepare-local-job 500-1 local-zfs:vm-500-disk-0 --last_sync 0");
	OK("volrep import local-zfs:vm-500-disk-0 --snapshot __replicate_500-1_5__");
	OK("volrep finalize-local-job 500-1 local-zfs:vm-500-disk-0 --last_sync 1");
}

/* the attack: the target's own guest 300 */
static void test_own_guests_refused(void **state)
{
	(void)state;
	NO("volrep import local-zfs:subvol-300-disk-0 --snapshot __replicate_300-0_9__ --base __replicate_300-0_1__",
	   "guest '300' lives on 'b', not on peer 'a'");
	NO("volrep prepare-local-job 300-0 local-zfs:subvol-300-disk-0 --last_sync 1 --force", "lives on 'b'");
	NO("volrep finalize-local-job 300-0 local-zfs:subvol-300-disk-0 --last_sync 1", "lives on 'b'");
	NO("volrep set-state 300 '{\"local/a\":{\"last_sync\":1}}'", "guest '300' lives on this node");
	NO("volrep set-state 300 '{}'", "lives on this node");
	NO("volrep replica-snapshots 300 local-zfs:subvol-300-disk-0", "lives on this node");
	NO("volrep replica-rollback 300 __replicate_300-0_1__ local-zfs:subvol-300-disk-0", "lives on this node");
	/* a third node's guest, written as if it were the peer's */
	NO("volrep import local-zfs:vm-400-disk-0 --snapshot __replicate_400-0_9__", "lives on 'c', not on peer 'a'");
	NO("volrep prepare-local-job 400-0 local-zfs:vm-400-disk-0 --last_sync 1", "lives on 'c'");
	NO("volrep set-state 400 '{\"local/b\":{\"last_sync\":1}}'", "may only clear its state");
	/* unknown guests */
	NO("volrep import local-zfs:vm-999-disk-0 --snapshot __replicate_999-0_9__", "no guest '999'");
	NO("volrep set-state 999 '{}'", "no guest '999'");
}

/* the volume, snapshot and job must all be the guest's */
static void test_ownership_ties(void **state)
{
	(void)state;
	/* another guest's volume under the peer's job id */
	NO("volrep prepare-local-job 100-0 local-zfs:subvol-300-disk-0 --last_sync 1", "not a volume of guest '100'");
	NO("volrep finalize-local-job 100-0 local-zfs:vm-100-disk-0 local-zfs:vm-300-disk-0 --last_sync 1",
	   "not a volume of guest '100'");
	/* a volume of the guest's id that its config does not have */
	NO("volrep import local-zfs:vm-100-disk-7 --snapshot __replicate_100-0_2__", "not in the config of guest '100'");
	/* storage not in storage.cfg */
	NO("volrep import nosuch:vm-100-disk-0 --snapshot __replicate_100-0_2__", "not on a storage");
	/* snapshots of another guest, or not replication snapshots at all */
	NO("volrep import local-zfs:vm-100-disk-0 --snapshot __replicate_300-0_2__", "not one of guest '100'");
	NO("volrep import local-zfs:vm-100-disk-0 --snapshot evil", "not a replication snapshot");
	NO("volrep import local-zfs:vm-100-disk-0 --snapshot __replicate_100-0_2__ --base __replicate_300-0_1__",
	   "not one of guest '100'");
	/* a configured job that replicates elsewhere */
	NO("volrep prepare-local-job 500-0 local-zfs:vm-500-disk-0 --last_sync 1", "replicates to 'c'");
	NO("volrep import local-zfs:vm-500-disk-0 --snapshot __replicate_500-0_2__", "replicates to 'c'");
}

/* migration: the state of the peer's own guest; failover: the flows of
 * docs/security.md */
static void test_migrate_failover(void **state)
{
	(void)state;
	OK("volrep set-state 100 '{\"local/a\":{\"last_sync\":5}}'");
	OK("volrep set-state 100 '{}'");
	/* failover of c's guest 400 run on a (which holds a replica too) */
	OK("volrep replica-snapshots 400 local-zfs:vm-400-disk-0");
	OK("volrep replica-rollback 400 __replicate_400-0_7__ local-zfs:vm-400-disk-0");
	OK("volrep set-state 400 '{}'");
	NO("volrep replica-rollback 400 __replicate_600-0_7__ local-zfs:vm-400-disk-0", "not one of guest '400'");
	NO("volrep replica-rollback 400 __replicate_400-0_7__ local-zfs:vm-600-disk-0", "not a volume of guest '400'");
	/* 600 has no replica on a: a is no party to its failover */
	NO("volrep replica-snapshots 600 local-zfs:vm-600-disk-0", "no job to peer 'a'");
	NO("volrep replica-rollback 600 __replicate_600-0_7__ local-zfs:vm-600-disk-0", "no replicas on both");
	NO("volrep set-state 600 '{}'", "no replicas on both");
	/* the owner never rolls back its replica here: a live guest migrates */
	NO("volrep replica-rollback 100 __replicate_100-0_7__ local-zfs:vm-100-disk-0", "lives on peer 'a'");
	OK("volrep replica-snapshots 100 local-zfs:vm-100-disk-0");
	/* 500 has no replica here */
	NO("volrep replica-snapshots 500 local-zfs:vm-500-disk-0", "no job to this node");
	/* guest-start: only a guest now on this node with a job to the peer */
	OK("volrep guest-start 700");
	/* this node's own guest, running jobs from here: not a failover's */
	NO("volrep guest-start 300", "has replication state here");
	NO("volrep guest-start 800", "no job to peer 'a'");
	NO("volrep guest-start 100", "does not live on this node");
	NO("volrep guest-start 400", "does not live on this node");
	NO("volrep guest-start 999", "no guest '999'");
}

static void test_peer_itself(void **state)
{
	(void)state;
	check("b", "volrep set-state 100 '{}'", "peer 'b' is this node", __LINE__);
	check("zz", "volrep set-state 100 '{}'", "peer 'zz' is not a node", __LINE__);
	check("zz", "volrep version", NULL, __LINE__);
	/* --any-peer: the grammar only */
	check(NULL, "volrep import local-zfs:subvol-300-disk-0 --snapshot x", NULL, __LINE__);
}

/* --compress: a codec name, and on import only */
static void parse_refused(const char *cmd, const char *want, int line)
{
	struct serve_cmd c = SERVE_CMD_INIT;
	struct strbuf why = STRBUF_INIT;

	if (serve_parse_cmd(cmd, strlen(cmd), &c, &why) >= 0 || !strstr(why.buf, want))
		fail_msg("line %d: parsed, or why '%s' lacks '%s': %s", line, why.buf, want, cmd);
	serve_cmd_release(&c);
	strbuf_release(&why);
}

static void test_import_compress(void **state)
{
	(void)state;
	parse_refused("volrep import local-zfs:vm-100-disk-0 --snapshot __replicate_100-0_2__ --compress gzip",
		      "'gzip'", __LINE__);
	parse_refused("volrep import local-zfs:vm-100-disk-0 --snapshot __replicate_100-0_2__ --compress none",
		      "'none'", __LINE__);
	parse_refused("volrep import local-zfs:vm-100-disk-0 --snapshot __replicate_100-0_2__ --compress",
		      "--compress", __LINE__);
	parse_refused("volrep finalize-local-job 100-0 local-zfs:vm-100-disk-0 --last_sync 2 --compress zstd",
		      "--compress", __LINE__);
	parse_refused("volrep export local-zfs:vm-100-disk-0 --snapshot __replicate_100-0_2__ --compress zstd",
		      "export", __LINE__);
}

/* migration-ip: exactly one CIDR PVE would accept */
static void test_migration_ip(void **state)
{
	(void)state;
	parse_refused("volrep migration-ip 10.1.0.0/33", "'10.1.0.0/33'", __LINE__);
	parse_refused("volrep migration-ip host.example/24", "'host.example/24'", __LINE__);
	parse_refused("volrep migration-ip -oProxyCommand=x", "-oProxyCommand", __LINE__);
	parse_refused("volrep migration-ip", "migration-ip", __LINE__);
	parse_refused("volrep migration-ip 10.1.0.0/24 10.2.0.0/24", "10.2.0.0/24", __LINE__);
}

/* --keep: 1..100 in canonical decimal, on prepare and finalize only */
static void test_keep(void **state)
{
	(void)state;
	OK("volrep finalize-local-job 100-0 local-zfs:vm-100-disk-0 --last_sync 2 --keep 3");
	OK("volrep finalize-local-job 100-0 local-zfs:vm-100-disk-0 --last_sync 2 --keep 100");
	OK("volrep prepare-local-job 100-0 local-zfs:vm-100-disk-0 --last_sync 2 --keep 1");
	parse_refused("volrep finalize-local-job 100-0 local-zfs:vm-100-disk-0 --last_sync 2 --keep 101", "'101'",
		      __LINE__);
	parse_refused("volrep finalize-local-job 100-0 local-zfs:vm-100-disk-0 --last_sync 2 --keep 0", "'0'",
		      __LINE__);
	parse_refused("volrep finalize-local-job 100-0 local-zfs:vm-100-disk-0 --last_sync 2 --keep 03", "'03'",
		      __LINE__);
	parse_refused("volrep finalize-local-job 100-0 local-zfs:vm-100-disk-0 --last_sync 2 --keep -1", "'-1'",
		      __LINE__);
	parse_refused("volrep import local-zfs:vm-100-disk-0 --snapshot __replicate_100-0_2__ --keep 2", "--keep",
		      __LINE__);
}

/* the child's argv: the table's options only, in its order */
static void test_child_argv(void **state)
{
	struct serve_cmd c = SERVE_CMD_INIT;
	struct strvec av = STRVEC_INIT;
	const char *cmd = "volrep import local-zfs:vm-100-disk-0 --base __replicate_100-0_1__ --snapshot "
			  "__replicate_100-0_2__";
	const char *want[] = { "import", "local-zfs:vm-100-disk-0", "--snapshot", "__replicate_100-0_2__", "--base",
			       "__replicate_100-0_1__", NULL };

	(void)state;
	assert_int_equal(serve_parse_cmd(cmd, strlen(cmd), &c, NULL), 0);
	serve_cmd_argv(&c, &av);
	for (size_t i = 0; want[i]; i++)
		assert_string_equal(av.v[i], want[i]);
	assert_null(av.v[6]);
	assert_string_equal(serve_cmd_opt(&c, "--snapshot"), "__replicate_100-0_2__");
	assert_null(serve_cmd_opt(&c, "--node"));
	strvec_clear(&av);
	serve_cmd_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replication),
		cmocka_unit_test(test_own_guests_refused),
		cmocka_unit_test(test_ownership_ties),
		cmocka_unit_test(test_migrate_failover),
		cmocka_unit_test(test_peer_itself),
		cmocka_unit_test(test_child_argv),
		cmocka_unit_test(test_import_compress),
		cmocka_unit_test(test_migration_ip),
		cmocka_unit_test(test_keep),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
