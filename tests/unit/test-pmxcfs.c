/* The pmxcfs store: .members parsing (strict), the name mapping onto a
 * /etc/pve tree, nodes.cfg made from .members, writes refused without
 * quorum or onto PVE's own files, pmxcfs-style lock directories and
 * their 120 s expiry, and pvesr's jobs as a reason to refuse a guest. */
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include "base/fileio.h"
#include "cluster/pve-members.h"
#include "cluster/store-pmxcfs.h"
#include "cluster/store.h"
#include "exec/spawn.h"
#include "config/pvesr.h"

static char dir[64];

static const char members_ok[] =
	"{\n\"nodename\": \"pve1\",\n\"version\": 9,\n"
	"\"cluster\": { \"name\": \"lab\", \"version\": 3, \"nodes\": 3, \"quorate\": 1 },\n"
	"\"nodelist\": {\n"
	"  \"pve2\": { \"id\": 2, \"online\": 0, \"ip\": \"10.0.0.2\"},\n"
	"  \"pve1\": { \"id\": 1, \"online\": 1, \"ip\": \"10.0.0.1\"},\n"
	"  \"pve3\": { \"id\": 3, \"online\": 1, \"ip\": \"\"}\n  }\n}\n";

static void put(const char *name, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	*strrchr(p, '/') = '\0';
	assert_int_equal(mkdir_p(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/volrep-test-pmxcfs.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	put(".members", members_ok);
	put("storage.cfg", "zfspool: local-zfs\n\tpool rpool/data\n\tcontent images,rootdir\n\n");
	put("replication.cfg", "local: 100-0\n\ttarget pve2\n\tschedule */15\n\n");
	put("nodes/pve1/qemu-server/100.conf", "scsi0: local-zfs:vm-100-disk-0,size=1G\n");
	put("nodes/pve1/lxc/200.conf", "rootfs: local-zfs:subvol-200-disk-0,size=1G\n");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return run_capture((const char *const[]){ "rm", "-rf", "--", dir, NULL }, NULL, 0, NULL, NULL, 1024) == 0
		       ? 0
		       : -1;
}

static void test_members_parse(void **state)
{
	struct pve_members pm;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	assert_int_equal(pve_members_parse(&pm, members_ok, strlen(members_ok), &err), 0);
	assert_string_equal(pm.nodename, "pve1");
	assert_string_equal(pm.cluster_name, "lab");
	assert_int_equal(pm.quorate, 1);
	assert_int_equal(pm.nr, 3);
	/* sorted, whatever order pmxcfs wrote */
	assert_string_equal(pm.nodes[0].name, "pve1");
	assert_string_equal(pm.nodes[1].ip, "10.0.0.2");
	assert_int_equal(pm.nodes[1].online, 0);
	assert_null(pm.nodes[2].ip);
	pve_members_release(&pm);
}

static void test_members_standalone(void **state)
{
	static const char t[] = "{ \"nodename\": \"solo\", \"version\": 0 }";
	struct pve_members pm;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	assert_int_equal(pve_members_parse(&pm, t, strlen(t), &err), 0);
	assert_int_equal(pm.clustered, 0);
	assert_int_equal(pm.quorate, 1);
	assert_int_equal(pm.nr, 1);
	assert_string_equal(pm.nodes[0].name, "solo");
	pve_members_release(&pm);
}

static void expect_bad(const char *t, const char *msg)
{
	struct pve_members pm;
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(pve_members_parse(&pm, t, strlen(t), &err), -EINVAL);
	if (!strstr(err.buf, msg))
		fail_msg("'%s': got '%s', expected '%s'", t, err.buf, msg);
	assert_null(pm.nodes);
	strbuf_release(&err);
}

static void test_members_hostile(void **state)
{
	(void)state;
	expect_bad("", "invalid .members");
	expect_bad("[]", "the top level is not an object");
	expect_bad("{\"version\": 1}", "'nodename' is missing");
	expect_bad("{\"nodename\": \"a;b\"}", "'nodename' is missing or not a valid node name");
	expect_bad("{\"nodename\": \"a\", \"cluster\": {\"name\": \"c\", \"quorate\": 2}, \"nodelist\": {}}",
		   "'cluster' 'quorate' is not an integer from 0 to 1");
	expect_bad("{\"nodename\": \"a\", \"cluster\": {\"name\": \"c\", \"quorate\": \"1\"}, \"nodelist\": {}}",
		   "'cluster' 'quorate' is not an integer");
	expect_bad("{\"nodename\": \"a\", \"cluster\": {\"name\": \"c\"}, \"nodelist\": {}}",
		   "'cluster' 'quorate' is missing");
	expect_bad("{\"nodename\": \"a\", \"cluster\": {\"name\": \"c\", \"quorate\": 1}}", "'nodelist' is missing");
	expect_bad("{\"nodename\": \"a\", \"cluster\": {\"name\": \"c\", \"quorate\": 1}, "
		   "\"nodelist\": {\"-oProxy\": {\"online\": 1}}}",
		   "node '-oProxy' is not a valid node name");
	expect_bad("{\"nodename\": \"a\", \"cluster\": {\"name\": \"c\", \"quorate\": 1}, "
		   "\"nodelist\": {\"b\": {\"online\": 1, \"ip\": \"-oProxyCommand=x\"}}}",
		   "node 'b' 'ip' is not a host address");
	expect_bad("{\"nodename\": \"a\", \"cluster\": {\"name\": \"c\", \"quorate\": 1}, "
		   "\"nodelist\": {\"b\": {\"online\": 1}, \"b\": {\"online\": 0}}}",
		   "duplicate object key");
	expect_bad("{\"nodename\": \"a\", \"nodelist\": {}}", "'nodelist' without 'cluster'");
}

static struct store *open_store(void)
{
	struct store *st = NULL;
	struct strbuf err = STRBUF_INIT, url = STRBUF_INIT;

	strbuf_addf(&url, "pmxcfs://%s", dir);
	assert_int_equal(store_open_url(url.buf, "/nonexistent", &st, &err), 0);
	assert_int_equal(st->kind, STORE_PMXCFS);
	strbuf_release(&url);
	strbuf_release(&err);
	return st;
}

static void test_store_mapping(void **state)
{
	struct store *st = open_store();
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct strvec names = STRVEC_INIT;
	char p[256];

	(void)state;
	assert_int_equal(store_read(st, "nodes.cfg", 0, &out, NULL, &err), 0);
	assert_string_equal(out.buf, "node: pve1\n\taddress 10.0.0.1\n\nnode: pve2\n\taddress 10.0.0.2\n\n"
				     "node: pve3\n\n");
	assert_int_equal(store_read(st, "storage.cfg", 0, &out, NULL, &err), 0);
	assert_non_null(strstr(out.buf, "rpool/data"));
	/* volrep's jobs are not pvesr's */
	assert_int_equal(store_read(st, "replication.cfg", 0, &out, NULL, &err), 1);
	assert_int_equal(store_read(st, PMXCFS_PVESR_CFG, 0, &out, NULL, &err), 0);
	assert_non_null(strstr(out.buf, "local: 100-0"));
	assert_int_equal(store_list(st, "nodes/pve1/lxc", &names, &err), 0);
	assert_int_equal(names.nr, 1);
	assert_string_equal(names.v[0], "200.conf");
	assert_int_equal(store_write(st, "replication.cfg", "x\n", 2, STORE_REV_ABSENT, &err), 0);
	snprintf(p, sizeof(p), "%s/volrep/replication.cfg", dir);
	assert_int_equal(access(p, F_OK), 0);
	assert_int_equal(store_write(st, "volrep.cfg", "y\n", 2, STORE_REV_ANY, &err), 0);
	/* PVE's files stay PVE's */
	strbuf_reset(&err);
	assert_int_equal(store_write(st, "storage.cfg", "x", 1, STORE_REV_ANY, &err), -EPERM);
	assert_non_null(strstr(err.buf, "'storage.cfg' belongs to Proxmox VE"));
	assert_int_equal(store_write(st, PMXCFS_PVESR_CFG, "x", 1, STORE_REV_ANY, &err), -EPERM);
	assert_int_equal(store_write(st, "nodes.cfg", "x", 1, STORE_REV_ANY, &err), -EPERM);
	/* a guest moves between node folders, never over another config */
	assert_int_equal(store_move(st, "nodes/pve1/lxc/200.conf", NULL, 0, STORE_REV_ANY, "nodes/pve2/lxc/200.conf",
				    &err), 0);
	put("nodes/pve1/lxc/200.conf", "rootfs: local-zfs:subvol-200-disk-0,size=1G\n");
	assert_int_equal(store_move(st, "nodes/pve1/lxc/200.conf", NULL, 0, STORE_REV_ANY, "nodes/pve2/lxc/200.conf",
				    &err), -EEXIST);
	strvec_clear(&names);
	strbuf_release(&out);
	strbuf_release(&err);
	store_free(st);
}

static void test_store_revision(void **state)
{
	struct store *st = open_store();
	struct strbuf err = STRBUF_INIT;
	int64_t r1, r2, r3, r4;

	(void)state;
	assert_int_equal(store_revision(st, &r1, &err), 0);
	assert_int_equal(store_revision(st, &r2, &err), 0);
	assert_true(r1 == r2 && r1 != 0);
	assert_int_equal(store_write(st, "replication.cfg", "local: 200-0\n\ttarget pve2\n", 26, STORE_REV_ANY, &err),
			 0);
	assert_int_equal(store_revision(st, &r3, &err), 0);
	assert_true(r3 != r2);
	/* a guest config appearing on another node (pmxcfs: no inotify) */
	put("nodes/pve2/qemu-server/300.conf", "scsi0: local-zfs:vm-300-disk-0,size=1G\n");
	assert_int_equal(store_revision(st, &r4, &err), 0);
	assert_true(r4 != r3);
	strbuf_release(&err);
	store_free(st);
}

static void test_store_quorum(void **state)
{
	struct store *st = open_store();
	struct strbuf err = STRBUF_INIT;
	struct store_lock lk = STORE_LOCK_INIT;
	struct store_member *m = NULL;
	struct strvec nodes = STRVEC_INIT;
	char *q0 = strdup(members_ok);

	(void)state;
	strvec_push(&nodes, "pve1");
	strvec_push(&nodes, "pve2");
	strvec_push(&nodes, "pve9");
	assert_int_equal(store_members(st, &nodes, 1, &m, &err), 0);
	assert_int_equal(m[0].online, 1);
	assert_int_equal(m[1].online, 0);
	assert_int_equal(m[2].online, 0);
	store_members_release(m, nodes.nr);
	*strstr(q0, "\"quorate\": 1") = '\0';
	{
		struct strbuf t = STRBUF_INIT;

		strbuf_addf(&t, "%s\"quorate\": 0 },\"nodelist\": {}}", q0);
		put(".members", t.buf);
		strbuf_release(&t);
	}
	assert_int_equal(store_quorate(st, &err), 0);
	strbuf_reset(&err);
	assert_int_equal(store_write(st, "replication.cfg", "z\n", 2, STORE_REV_ANY, &err), -ENOTCONN);
	assert_non_null(strstr(err.buf, "cluster not quorate: "));
	assert_non_null(strstr(err.buf, "says cluster 'lab' has no quorum"));
	assert_int_equal(store_lock(st, "config", 0, 0, &lk, &err), -ENOTCONN);
	/* no .members: pmxcfs is not running */
	put(".members", "");
	strbuf_reset(&err);
	assert_int_equal(store_require_quorum(st, &err), -ENOTCONN);
	assert_non_null(strstr(err.buf, "invalid .members"));
	put(".members", members_ok);
	assert_int_equal(store_require_quorum(st, &err), 0);
	free(q0);
	strvec_clear(&nodes);
	strbuf_release(&err);
	store_free(st);
}

static void test_store_locks(void **state)
{
	struct store *st = open_store();
	struct strbuf err = STRBUF_INIT;
	struct store_lock a = STORE_LOCK_INIT, b = STORE_LOCK_INIT;
	struct utimbuf old = { time(NULL) - PMXCFS_LOCK_TIMEOUT_S - 10, time(NULL) - PMXCFS_LOCK_TIMEOUT_S - 10 };
	char p[256];

	(void)state;
	/* pmxcfs not mounted: no priv/lock */
	assert_int_equal(store_lock(st, "config", 0, 0, &a, &err), -ENOENT);
	assert_non_null(strstr(err.buf, "priv/lock' is missing"));
	snprintf(p, sizeof(p), "%s/priv", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/priv/lock", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(store_lock(st, "config", 0, 0, &a, &err), 0);
	snprintf(p, sizeof(p), "%s/priv/lock/volrep-config", dir);
	assert_int_equal(access(p, F_OK), 0);
	strbuf_reset(&err);
	assert_int_equal(store_lock(st, "config", 200, 0, &b, &err), -ETIMEDOUT);
	assert_non_null(strstr(err.buf, "got timeout"));
	store_unlock(st, &a);
	assert_int_equal(access(p, F_OK), -1);
	/* a holder gone for more than 120 s: pmxcfs would have dropped it */
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(utime(p, &old), 0);
	assert_int_equal(store_lock(st, "config", 0, 0, &b, &err), 0);
	store_unlock(st, &b);
	strbuf_release(&err);
	store_free(st);
}

static void test_pvesr_refuse(void **state)
{
	struct store *st = open_store();
	struct strbuf err = STRBUF_INIT;
	struct jobs_cfg jc = { 0 };
	struct strvec w = STRVEC_INIT;

	(void)state;
	store_set_cluster(st);
	assert_int_equal(pvesr_refuse_guest(dir, 200, &err), 0);
	assert_int_equal(pvesr_refuse_guest(dir, 100, &err), -EEXIST);
	assert_non_null(strstr(err.buf, "guest '100' is replicated by pvesr job '100-0'"));
	assert_non_null(strstr(err.buf, "pvesr delete 100-0 --force"));
	static const char jt[] = "local: 100-3\n\ttarget pve3\n\nlocal: 200-0\n\ttarget pve2\n";

	assert_int_equal(jobs_cfg_parse(&jc, jt, strlen(jt), NULL), 0);
	pvesr_warn_overlap(&jc, dir, &w);
	assert_int_equal(w.nr, 1);
	assert_non_null(strstr(w.v[0], "guest '100' has volrep job '100-3' and pvesr job '100-0'"));
	jobs_cfg_release(&jc);
	strvec_clear(&w);
	store_set_cluster(NULL);
	/* the dir store knows nothing of pvesr */
	assert_int_equal(pvesr_refuse_guest(dir, 100, &err), 0);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_members_parse),
		cmocka_unit_test(test_members_standalone),
		cmocka_unit_test(test_members_hostile),
		cmocka_unit_test(test_store_mapping),
		cmocka_unit_test(test_store_revision),
		cmocka_unit_test(test_store_quorum),
		cmocka_unit_test(test_store_locks),
		cmocka_unit_test(test_pvesr_refuse),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
