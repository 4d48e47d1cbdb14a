/* The backend API against real storage, driven by the integration tests
 * (t3000-zfs-*, t4000-btrfs-*) after their export/import steps, inside
 * their private namespace. Standalone (no VOLREP_TEST_* environment) every
 * test is skipped.
 *
 *   VOLREP_TEST_TYPE=zfspool|btrfs
 *   VOLREP_TEST_SRC / VOLREP_TEST_DST   pool or path of the two storages
 *   VOLREP_TEST_VOL    a volume replicated to DST with snapshots s1..s4
 *   VOLREP_TEST_VOL2   a second volume on SRC only, with snapshot "a"
 *   VOLREP_TEST_VMID / VOLREP_TEST_VMID2   their guests */
#include "unit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/backend.h"

struct live {
	struct backend src, dst;
	const char *vol, *vol2, *vmid, *vmid2;
	int zfs;
};

static int setup(void **state)
{
	const char *type = getenv("VOLREP_TEST_TYPE");
	struct backend_storage s = { 0 }, d = { 0 };
	struct live *l;

	if (!type || !getenv("VOLREP_TEST_SRC") || !getenv("VOLREP_TEST_DST")) {
		*state = NULL;
		return 0;
	}
	l = calloc(1, sizeof(*l));
	l->zfs = !strcmp(type, "zfspool");
	s.type = d.type = l->zfs ? BACKEND_ZFSPOOL : BACKEND_BTRFS;
	if (l->zfs) {
		s.pool = getenv("VOLREP_TEST_SRC");
		d.pool = getenv("VOLREP_TEST_DST");
	} else {
		s.path = getenv("VOLREP_TEST_SRC");
		d.path = getenv("VOLREP_TEST_DST");
	}
	l->src = (struct backend)BACKEND_INIT;
	l->dst = (struct backend)BACKEND_INIT;
	if (backend_open(&l->src, &s) < 0 || backend_open(&l->dst, &d) < 0)
		return -1;
	l->vol = getenv("VOLREP_TEST_VOL");
	l->vol2 = getenv("VOLREP_TEST_VOL2");
	l->vmid = getenv("VOLREP_TEST_VMID");
	l->vmid2 = getenv("VOLREP_TEST_VMID2");
	*state = l;
	return 0;
}

static int teardown(void **state)
{
	struct live *l = *state;

	if (l) {
		backend_close(&l->src);
		backend_close(&l->dst);
		free(l);
	}
	return 0;
}

#define LIVE(state)                                   \
	struct live *l = *(state);                    \
	if (!l)                                       \
		skip();

static void test_probe(void **state)
{
	struct backend_caps c;

	LIVE(state);
	assert_int_equal(backend_probe(&l->src, &c), 0);
	if (l->zfs) {
		/* zfs-fuse: none of the optional features */
		assert_true(c.send_replicate);
		assert_false(c.list_parsable || c.multi_snapshot || c.zvols || c.bookmarks ||
			     c.resume_tokens || c.send_compressed || c.send_raw || c.send_no_encrypt);
	} else {
		assert_true(c.recv_chroot);
	}
}

static void test_list_volumes_and_space(void **state)
{
	struct strvec v = STRVEC_INIT;
	uint64_t space = 0;

	LIVE(state);
	assert_int_equal(backend_list_volumes(&l->src, l->vmid, &v), 0);
	assert_true(strvec_find(&v, l->vol) >= 0);
	assert_true(strvec_find(&v, l->vol2) < 0 || !strcmp(l->vmid, l->vmid2));
	strvec_clear(&v);
	assert_int_equal(backend_list_volumes(&l->src, l->vmid2, &v), 0);
	assert_true(strvec_find(&v, l->vol2) >= 0);
	strvec_clear(&v);
	assert_int_equal(backend_list_volumes(&l->dst, "999", &v), 0);
	assert_int_equal(v.nr, 0);
	assert_int_equal(backend_volume_exists(&l->dst, l->vol), 1);
	assert_int_equal(backend_volume_exists(&l->dst, l->vol2), 0);
	assert_int_equal(backend_free_space(&l->src, &space), 0);
	assert_true(space > 1000000);
}

/* Both sides list the replicated snapshots with the same identities. */
static void test_snapshot_identity(void **state)
{
	struct backend_snapshot_list a = BACKEND_SNAPSHOT_LIST_INIT, b = BACKEND_SNAPSHOT_LIST_INIT;
	const char *const names[] = { "s1", "s2", "s3", "s4" };

	LIVE(state);
	assert_int_equal(backend_list_snapshots(&l->src, l->vol, &a), 0);
	assert_int_equal(backend_list_snapshots(&l->dst, l->vol, &b), 0);
	for (int i = 0; i < 4; i++) {
		const struct backend_snapshot *x = backend_snapshot_list_find(&a, names[i]);
		const struct backend_snapshot *y = backend_snapshot_list_find(&b, names[i]);

		assert_non_null(x);
		assert_non_null(y);
		assert_true(*x->id);
		assert_string_equal(x->id, y->id);
		assert_true(x->creation > 1000000000);
	}
	/* different snapshots differ */
	assert_string_not_equal(backend_snapshot_list_find(&a, "s1")->id, backend_snapshot_list_find(&a, "s2")->id);
	backend_snapshot_list_clear(&a);
	backend_snapshot_list_clear(&b);
	assert_int_equal(backend_list_snapshots(&l->dst, l->vol2, &a), -ENOENT);
}

static int has_snap(struct backend *b, const char *vol, const char *snap)
{
	struct backend_snapshot_list s = BACKEND_SNAPSHOT_LIST_INIT;
	int r;

	assert_int_equal(backend_list_snapshots(b, vol, &s), 0);
	r = backend_snapshot_list_find(&s, snap) != NULL;
	backend_snapshot_list_clear(&s);
	return r;
}

static void test_snapshot_delete(void **state)
{
	LIVE(state);
	const char *const both[] = { l->vol, l->vol2 };
	const char *const rev[] = { l->vol2, l->vol };

	assert_int_equal(backend_snapshot(&l->src, both, 2, "multi"), 0);
	assert_true(has_snap(&l->src, l->vol, "multi"));
	assert_true(has_snap(&l->src, l->vol2, "multi"));
	/* all or nothing: vol already has "p", so vol2's "p" must go again */
	assert_int_equal(backend_snapshot(&l->src, both, 1, "p"), 0);
	assert_true(backend_snapshot(&l->src, rev, 2, "p") < 0);
	assert_true(*backend_errmsg(&l->src));
	assert_false(has_snap(&l->src, l->vol2, "p"));
	assert_true(has_snap(&l->src, l->vol, "p"));
	assert_int_equal(backend_delete_snapshot(&l->src, l->vol, "p"), 0);
	assert_int_equal(backend_delete_snapshot(&l->src, l->vol, "multi"), 0);
	assert_int_equal(backend_delete_snapshot(&l->src, l->vol2, "multi"), 0);
	assert_false(has_snap(&l->src, l->vol, "multi"));
	assert_int_equal(backend_delete_snapshot(&l->src, l->vol, "multi"), -ENOENT);
	assert_int_equal(backend_snapshot(&l->src, (const char *const[]){ l->vol2 }, 1, "a"), -EIO);
}

/* The engine's path: export_start with a pipe, import reading it. */
static void test_export_pipe_import(void **state)
{
	struct child c = CHILD_INIT;
	struct backend_snapshot_list a = BACKEND_SNAPSHOT_LIST_INIT, b = BACKEND_SNAPSHOT_LIST_INIT;

	LIVE(state);
	c.out = CHILD_PIPE;
	c.err = CHILD_NULL;
	assert_int_equal(backend_export_start(&l->src, l->vol2, "a", NULL, 0, &c), 0);
	assert_int_equal(backend_import(&l->dst, l->vol2, "a", NULL, c.out), 0);
	close(c.out);
	assert_int_equal(child_finish(&c), 0);
	assert_int_equal(backend_list_snapshots(&l->src, l->vol2, &a), 0);
	assert_int_equal(backend_list_snapshots(&l->dst, l->vol2, &b), 0);
	assert_int_equal(b.nr, 1);
	assert_string_equal(b.v[0].name, "a");
	assert_string_equal(backend_snapshot_list_find(&a, "a")->id, b.v[0].id);
	backend_snapshot_list_clear(&a);
	backend_snapshot_list_clear(&b);
	/* a second full import of it is refused */
	c = (struct child)CHILD_INIT;
	c.out = CHILD_PIPE;
	c.err = CHILD_NULL;
	assert_int_equal(backend_export_start(&l->src, l->vol2, "a", NULL, 0, &c), 0);
	assert_int_equal(backend_import(&l->dst, l->vol2, "a", NULL, c.out), -EEXIST);
	assert_non_null(strstr(backend_errmsg(&l->dst), "already exists"));
	close(c.out);
	child_finish(&c);
}

/* The bytes of the export stream of volname@snap (from base). */
static uint64_t stream_size(struct backend *b, const char *volname, const char *snap, const char *base)
{
	struct child c = CHILD_INIT;
	char buf[65536];
	uint64_t n = 0;
	ssize_t k;

	c.out = CHILD_PIPE;
	c.err = CHILD_NULL;
	assert_int_equal(backend_export_start(b, volname, snap, base, 0, &c), 0);
	while ((k = read(c.out, buf, sizeof(buf))) != 0) {
		if (k < 0) {
			assert_int_equal(errno, EINTR);
			continue;
		}
		n += (uint64_t)k;
	}
	close(c.out);
	assert_int_equal(child_finish(&c), 0);
	return n;
}

/* The estimate is good for a progress line: within a factor of 2 of the
 * real stream (these volumes hold 1 MiB of random data). */
static void assert_near(uint64_t est, uint64_t real)
{
	print_message("estimate %llu, stream %llu\n", (unsigned long long)est, (unsigned long long)real);
	if (est < real / 2 || est > real * 2)
		fail_msg("estimate %llu is not near the real size %llu", (unsigned long long)est,
			 (unsigned long long)real);
}

static void test_estimate_send_size(void **state)
{
	struct backend_snapshot_list s = BACKEND_SNAPSHOT_LIST_INIT;
	uint64_t est = 0, real;
	int r;

	LIVE(state);
	/* full stream */
	assert_int_equal(backend_estimate_send_size(&l->src, l->vol2, "a", NULL, &est), 0);
	real = stream_size(&l->src, l->vol2, "a", NULL);
	assert_true(real > 1000000);
	assert_near(est, real);
	/* the first snapshot of the other volume (a VM disk on btrfs) */
	assert_int_equal(backend_estimate_send_size(&l->src, l->vol, "s1", NULL, &est), 0);
	assert_near(est, stream_size(&l->src, l->vol, "s1", NULL));
	/* incremental: exact where the tool has a dry run, else none */
	assert_int_equal(backend_list_snapshots(&l->src, l->vol, &s), 0);
	assert_non_null(backend_snapshot_list_find(&s, "s3"));
	assert_non_null(backend_snapshot_list_find(&s, "s4"));
	backend_snapshot_list_clear(&s);
	est = 42;
	r = backend_estimate_send_size(&l->src, l->vol, "s4", "s3", &est);
	if (r == 0) {
		assert_near(est, stream_size(&l->src, l->vol, "s4", "s3"));
	} else {
		assert_int_equal(r, -ENOTSUP);
		assert_int_equal(est, 42);
		assert_non_null(strstr(backend_errmsg(&l->src), "incremental"));
	}
	/* a missing snapshot */
	assert_int_equal(backend_estimate_send_size(&l->src, l->vol2, "nosuch", NULL, &est), -ENOENT);
	assert_int_equal(est, 42);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_list_volumes_and_space),
		cmocka_unit_test(test_snapshot_identity),
		cmocka_unit_test(test_snapshot_delete),
		cmocka_unit_test(test_estimate_send_size),
		cmocka_unit_test(test_export_pipe_import),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
