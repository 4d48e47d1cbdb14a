/* Unit tests of the btrfs backend: `btrfs subvolume show` / `--version`
 * parsers on captured output, the Proxmox layout of volume names, exact
 * argv, and name validation. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/btrfs-parse.h"
#include "backend/btrfs.h"
#include "base/fileio.h"
#include "base/strbuf.h"
#include "base/strvec.h"

static char *data(const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	char path[256];

	snprintf(path, sizeof(path), "tests/data/%s", name);
	assert_int_equal(strbuf_read_file(&sb, path, 1 << 20), 0);
	return strbuf_detach(&sb, NULL);
}

static char *joined(const struct strvec *v)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < v->nr; i++)
		strbuf_addf(&sb, "%s%s", i ? " " : "", v->v[i]);
	return strbuf_detach(&sb, NULL);
}

#define ASSERT_ARGV(v, expect)                          \
	do {                                            \
		char *j_ = joined(v);                   \
		assert_string_equal(j_, expect);        \
		free(j_);                               \
		strvec_clear(v);                        \
	} while (0)

static void test_parse_show(void **state)
{
	struct btrfs_subvol_info snap, recv, vol;
	char *t1 = data("btrfs-show-snapshot.txt"), *t2 = data("btrfs-show-received.txt"),
	     *t3 = data("btrfs-show-volume.txt");

	(void)state;
	assert_int_equal(btrfs_parse_subvolume_show(t1, &snap), 0);
	assert_string_equal(snap.uuid, "10f94eda-6535-204c-b916-ec034ad6f6b1");
	assert_string_equal(snap.parent_uuid, "d7a2a5d9-7d6b-7242-9c0b-000dab60bcd6");
	assert_string_equal(snap.received_uuid, "");
	assert_int_equal(snap.creation, 1795312334);
	assert_true(snap.readonly);

	assert_int_equal(btrfs_parse_subvolume_show(t2, &recv), 0);
	/* the receiver's identity of the snapshot is the sender's UUID */
	assert_string_equal(recv.received_uuid, snap.uuid);
	assert_string_not_equal(recv.uuid, snap.uuid);
	assert_true(recv.readonly);

	assert_int_equal(btrfs_parse_subvolume_show(t3, &vol), 0);
	assert_false(vol.readonly);
	assert_string_equal(vol.parent_uuid, "");
	free(t1);
	free(t2);
	free(t3);
}

static void test_parse_show_hostile(void **state)
{
	static const char *const bad[] = {
		"",
		"\tUUID: abc\n\tCreation time: 2026-11-22 01:52:10 +0000\n\tFlags: -\n",
		"\tUUID: 9fa1c9c0-4d59-f94c-aec7-73532c8414c5\n\tFlags: -\n", /* no time */
		"\tUUID: 9fa1c9c0-4d59-f94c-aec7-73532c8414c5\n\tCreation time: 2026-11-22 01:52:10 +0000\n", /* no flags */
		"\tUUID: 9fa1c9c0-4d59-f94c-aec7-73532c8414c5\n\tUUID: 9fa1c9c0-4d59-f94c-aec7-73532c8414c5\n"
		"\tCreation time: 2026-11-22 01:52:10 +0000\n\tFlags: -\n", /* twice */
		"\tUUID: 9fa1c9c0-4d59-f94c-aec7-73532c8414c5\n\tCreation time: yesterday\n\tFlags: -\n",
		"\tUUID: 9fa1c9c0-4d59-f94c-aec7-73532c8414c5\n\tReceived UUID: x;rm\n"
		"\tCreation time: 2026-11-22 01:52:10 +0000\n\tFlags: -\n",
		"\tUUID: -\n\tCreation time: 2026-11-22 01:52:10 +0000\n\tFlags: -\n",
		NULL,
	};
	struct btrfs_subvol_info info;
	struct strbuf big = STRBUF_INIT;

	(void)state;
	for (int i = 0; bad[i]; i++)
		if (btrfs_parse_subvolume_show(bad[i], &info) != -EINVAL)
			fail_msg("accepted case %d", i);
	for (int i = 0; i < 5000; i++)
		strbuf_addch(&big, 'x');
	assert_int_equal(btrfs_parse_subvolume_show(big.buf, &info), -EINVAL);
	strbuf_release(&big);
	assert_true(btrfs_valid_uuid("9fa1c9c0-4d59-f94c-aec7-73532c8414c5"));
	assert_false(btrfs_valid_uuid("9fa1c9c0-4d59-f94c-aec7-73532c8414c"));
	assert_false(btrfs_valid_uuid("9fa1c9c0-4d59-f94c-aec7-73532c8414c5a"));
	assert_false(btrfs_valid_uuid("9fa1c9c0x4d59-f94c-aec7-73532c8414c5"));
}

static void test_parse_time_version(void **state)
{
	int64_t t = 0;
	unsigned ma = 0, mi = 0;
	char *v = data("btrfs-version.txt");

	(void)state;
	assert_int_equal(btrfs_parse_time("1970-01-01 00:00:00 +0000", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(btrfs_parse_time("2026-11-22 01:52:10 +0000", &t), 0);
	assert_int_equal(t, 1795312330);
	assert_int_equal(btrfs_parse_time("2026-11-22 03:22:10 +0130", &t), 0);
	assert_int_equal(t, 1795312330);
	assert_int_equal(btrfs_parse_time("2026-11-21 20:52:10 -0500", &t), 0);
	assert_int_equal(t, 1795312330);
	assert_int_equal(btrfs_parse_time("2026-13-22 01:52:10 +0000", &t), -EINVAL);
	assert_int_equal(btrfs_parse_time("2026-11-22 01:52:10", &t), -EINVAL);
	assert_int_equal(btrfs_parse_time("2026-11-22T01:52:10 +0000", &t), -EINVAL);
	assert_int_equal(btrfs_parse_version(v, &ma, &mi), 0);
	assert_int_equal(ma, 6);
	assert_int_equal(mi, 2);
	assert_int_equal(btrfs_parse_version("btrfs-progs v5.16.2\n", &ma, &mi), 0);
	assert_int_equal(ma, 5);
	assert_int_equal(mi, 16);
	assert_int_equal(btrfs_parse_version("btrfs v5\n", &ma, &mi), -EINVAL);
	free(v);
}

static void test_layout_and_argv(void **state)
{
	struct strbuf dir = STRBUF_INIT, sv = STRBUF_INIT;
	struct backend_caps c62 = { .recv_chroot = 1 }, old = { 0 }, comp = { .recv_chroot = 1, .send_compressed = 1 };
	struct strvec v = STRVEC_INIT;

	(void)state;
	btrfs_volume_dir("/mnt/btrfs", "100/vm-100-disk-0.raw", &dir, &sv);
	assert_string_equal(dir.buf, "/mnt/btrfs/images/100");
	assert_string_equal(sv.buf, "vm-100-disk-0");
	strbuf_reset(&dir);
	strbuf_reset(&sv);
	btrfs_volume_dir("/mnt/btrfs/", "200/subvol-200-disk-1", &dir, &sv);
	assert_string_equal(dir.buf, "/mnt/btrfs/images/200");
	assert_string_equal(sv.buf, "subvol-200-disk-1");

	btrfs_argv_snapshot(&v, "btrfs", "/mnt/btrfs/images/100/vm-100-disk-0", "__replicate_100-0_1__");
	ASSERT_ARGV(&v, "btrfs subvolume snapshot -r -- /mnt/btrfs/images/100/vm-100-disk-0 "
			"/mnt/btrfs/images/100/vm-100-disk-0@__replicate_100-0_1__");
	btrfs_argv_delete(&v, "btrfs", "/mnt/btrfs/images/100/vm-100-disk-0@s1");
	ASSERT_ARGV(&v, "btrfs subvolume delete -- /mnt/btrfs/images/100/vm-100-disk-0@s1");
	btrfs_argv_send(&v, "btrfs", &c62, "/m/images/100/vm-100-disk-0", "s2", NULL, BACKEND_EXPORT_COMPRESSED);
	ASSERT_ARGV(&v, "btrfs send -q -- /m/images/100/vm-100-disk-0@s2");
	btrfs_argv_send(&v, "btrfs", &comp, "/m/images/100/vm-100-disk-0", "s2", "s1", BACKEND_EXPORT_COMPRESSED);
	ASSERT_ARGV(&v, "btrfs send -q --compressed-data -p /m/images/100/vm-100-disk-0@s1 -- "
			"/m/images/100/vm-100-disk-0@s2");
	btrfs_argv_receive(&v, "btrfs", &c62, "/m/images/100");
	ASSERT_ARGV(&v, "btrfs receive -q -C -- /m/images/100");
	btrfs_argv_receive(&v, "/usr/bin/btrfs", &old, "/m/images/100");
	ASSERT_ARGV(&v, "/usr/bin/btrfs receive -q -- /m/images/100");
	btrfs_argv_show(&v, "btrfs", "/m/images/100/vm-100-disk-0@s1");
	ASSERT_ARGV(&v, "btrfs subvolume show -- /m/images/100/vm-100-disk-0@s1");
	strbuf_release(&dir);
	strbuf_release(&sv);
}

static void test_volnames(void **state)
{
	static const char *const good[] = { "100/vm-100-disk-0.raw", "100/subvol-100-disk-1",
					    "999999999/base-999999999-disk-0.raw", "100/vm-100-state-x_1.raw", NULL };
	static const char *const bad[] = {
		"", "vm-100-disk-0.raw", "100/vm-100-disk-0", "100/subvol-100-disk-1.raw",
		"101/vm-100-disk-0.raw", "100/vm-101-disk-0.raw", "/100/vm-100-disk-0.raw",
		"100//vm-100-disk-0.raw", "100/vm-100-disk-0.raw/x", "../100/vm-100-disk-0.raw",
		"100/../vm-100-disk-0.raw", "100/vm-100-disk-0;x.raw", "100/vm-100-disk-0 x.raw",
		"100/vm-100-disk-0@s.raw", "-100/vm-100-disk-0.raw", "100/vm-100-.raw", "100/vm-100-..raw",
		"0100/vm-100-disk-0.raw", "100/subvol-100-a..b", "100/vm-100-disk-0$(x).raw", NULL,
	};
	uint32_t vmid = 0;

	(void)state;
	for (int i = 0; good[i]; i++)
		if (!backend_valid_volname(BACKEND_BTRFS, good[i], NULL))
			fail_msg("rejected '%s'", good[i]);
	for (int i = 0; bad[i]; i++)
		if (backend_valid_volname(BACKEND_BTRFS, bad[i], NULL))
			fail_msg("accepted '%s'", bad[i]);
	assert_true(backend_valid_volname(BACKEND_BTRFS, "4242/subvol-4242-disk-3", &vmid));
	assert_int_equal(vmid, 4242);
}

static void test_open(void **state)
{
	static const char *const bad_paths[] = { "mnt/btrfs", "/mnt/../etc", "/mnt/b trfs", "/mnt/b;x",
						 "/mnt/b$(x)", "/mnt/b@s", "", NULL };
	struct backend b = BACKEND_INIT;
	struct backend_storage st = { .type = BACKEND_BTRFS, .path = "/mnt/btrfs" };
	struct strbuf p = STRBUF_INIT;

	(void)state;
	assert_int_equal(backend_open(&b, &st), 0);
	assert_int_equal(backend_volume_path(&b, "100/vm-100-disk-0.raw", &p), 0);
	assert_string_equal(p.buf, "/mnt/btrfs/images/100/vm-100-disk-0");
	assert_int_equal(backend_volume_path(&b, "100/vm-100-disk-0", &p), -EINVAL);
	assert_int_equal(backend_import(&b, "100/vm-100-disk-0.raw", "..", NULL, 0), -EINVAL);
	backend_close(&b);
	for (int i = 0; bad_paths[i]; i++) {
		st.path = bad_paths[i];
		if (backend_open(&b, &st) != -EINVAL)
			fail_msg("accepted path '%s'", bad_paths[i]);
		backend_close(&b);
	}
	strbuf_release(&p);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static uint64_t allocated(const char *dir, const char *name)
{
	struct strbuf p = STRBUF_INIT;
	struct stat st;

	strbuf_addf(&p, "%s/%s", dir, name);
	assert_int_equal(lstat(p.buf, &st), 0);
	strbuf_release(&p);
	return (uint64_t)st.st_blocks * 512;
}

static void write_file(const char *path, size_t len, off_t size)
{
	char buf[4096];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	memset(buf, 'x', sizeof(buf));
	for (size_t n = 0; n < len; n += sizeof(buf))
		assert_true(write(fd, buf, len - n < sizeof(buf) ? len - n : sizeof(buf)) > 0);
	if (size)
		assert_int_equal(ftruncate(fd, size), 0);
	assert_int_equal(fsync(fd), 0);
	close(fd);
}

/* The walk behind the estimate of a full btrfs send, on any file system:
 * allocated blocks, not apparent sizes; symlinks not followed; bounded. */
static void test_allocated_size(void **state)
{
	char dir[] = "/tmp/volrep-unit-btrfs.XXXXXX";
	struct strbuf p = STRBUF_INIT;
	uint64_t v = 1, want;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	strbuf_addf(&p, "%s/disk.raw", dir);
	write_file(p.buf, 8192, 64 << 20); /* sparse: 8 KiB of 64 MiB written */
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/sub", dir);
	assert_int_equal(mkdir(p.buf, 0700), 0);
	strbuf_addstr(&p, "/f");
	write_file(p.buf, 100000, 0);
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/link", dir);
	assert_int_equal(symlink("/usr", p.buf), 0);
	want = allocated(dir, "disk.raw") + allocated(dir, "sub/f") + allocated(dir, "link");
	assert_int_equal(btrfs_allocated_size(dir, 100, &v), 0);
	assert_int_equal(v, want);
	assert_true(v >= 100000 && v < (16 << 20));
	/* past the entry bound: no estimate */
	v = 1;
	assert_int_equal(btrfs_allocated_size(dir, 3, &v), -E2BIG);
	assert_int_equal(btrfs_allocated_size(dir, 4, &v), 0);
	assert_int_equal(v, want);
	/* past the depth bound */
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	for (int i = 0; i <= BTRFS_ESTIMATE_MAX_DEPTH; i++) {
		int sub;

		assert_int_equal(mkdirat(fd, "d", 0700), 0);
		sub = openat(fd, "d", O_RDONLY | O_DIRECTORY);
		assert_true(sub >= 0);
		close(fd);
		fd = sub;
	}
	close(fd);
	assert_int_equal(btrfs_allocated_size(dir, 1000, &v), -E2BIG);
	assert_int_equal(btrfs_allocated_size("/nonexistent-volrep", 1000, &v), -ENOENT);
	assert_int_equal(btrfs_allocated_size(dir, 1000, &v), -E2BIG);
	assert_int_equal(v, want);

	/* the backend op: only a subvolume snapshot is walked */
	{
		struct backend b = BACKEND_INIT;
		struct backend_storage st = { .type = BACKEND_BTRFS, .path = dir };

		assert_int_equal(backend_open(&b, &st), 0);
		assert_int_equal(backend_estimate_send_size(&b, "100/vm-100-disk-0.raw", "s2", "s1", &v), -ENOTSUP);
		assert_non_null(strstr(backend_errmsg(&b), "incremental"));
		assert_int_equal(backend_estimate_send_size(&b, "100/vm-100-disk-0.raw", "s2", NULL, &v), -ENOENT);
		strbuf_reset(&p);
		strbuf_addf(&p, "%s/images", dir);
		assert_int_equal(mkdir(p.buf, 0700), 0);
		strbuf_addstr(&p, "/100");
		assert_int_equal(mkdir(p.buf, 0700), 0);
		strbuf_addstr(&p, "/vm-100-disk-0@s2");
		assert_int_equal(mkdir(p.buf, 0700), 0);
		/* a plain directory is not a snapshot */
		assert_int_equal(backend_estimate_send_size(&b, "100/vm-100-disk-0.raw", "s2", NULL, &v), -ENOTDIR);
		assert_int_equal(backend_estimate_send_size(&b, "100/vm-100-disk-0.raw", "s2;x", NULL, &v), -EINVAL);
		assert_int_equal(v, want);
		backend_close(&b);
	}
	assert_int_equal(nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
	strbuf_release(&p);
}

/* What killed imports left: a staging directory nobody holds is removed
 * (its subvolumes through the tool), one that is locked is left alone,
 * and nothing else in the directory is touched. A fake btrfs whose
 * `subvolume delete` removes the directory. */
static void test_clean_stale_with_fake_tool(void **state)
{
	char dir[] = "/tmp/volrep-unit-btrfs-stale.XXXXXX";
	struct backend b = BACKEND_INIT;
	struct backend_storage st = { .type = BACKEND_BTRFS };
	struct strbuf p = STRBUF_INIT, tool = STRBUF_INIT, log = STRBUF_INIT, want = STRBUF_INIT;
	FILE *f;
	int busy;

	(void)state;
	assert_non_null(mkdtemp(dir));
	st.path = dir;
	strbuf_addf(&tool, "%s/btrfs", dir);
	st.tool = tool.buf;
	f = fopen(tool.buf, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\necho \"$*\" >>%s/log\n"
		   "[ \"$1 $2\" != \"subvolume delete\" ] || rm -rf \"$4\"\n", dir);
	fclose(f);
	assert_int_equal(chmod(tool.buf, 0755), 0);
	strbuf_addf(&p, "%s/images/100/.volrep-recv-stale/subvol-100-disk-0@s1", dir);
	assert_int_equal(mkdir_p(p.buf, 0700), 0);
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/images/100/.volrep-recv-busy/subvol-100-disk-0@s2", dir);
	assert_int_equal(mkdir_p(p.buf, 0700), 0);
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/images/100/subvol-100-disk-0@s0", dir);
	assert_int_equal(mkdir_p(p.buf, 0700), 0);
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/images/100/.volrep-recv-busy", dir);
	busy = open(p.buf, O_RDONLY | O_DIRECTORY);
	assert_true(busy >= 0);
	assert_int_equal(flock(busy, LOCK_EX), 0);

	assert_int_equal(backend_open(&b, &st), 0);
	assert_int_equal(backend_clean_stale(&b, "100/subvol-100-disk-0", NULL, NULL), 0);
	assert_int_equal(backend_clean_stale(&b, "100/subvol-100-disk-0;x", NULL, NULL), -EINVAL);
	backend_close(&b);

	strbuf_reset(&p);
	strbuf_addf(&p, "%s/images/100/.volrep-recv-stale", dir);
	assert_int_equal(access(p.buf, F_OK), -1);
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/images/100/.volrep-recv-busy/subvol-100-disk-0@s2", dir);
	assert_int_equal(access(p.buf, F_OK), 0);
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/images/100/subvol-100-disk-0@s0", dir);
	assert_int_equal(access(p.buf, F_OK), 0);
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/log", dir);
	assert_int_equal(strbuf_read_file(&log, p.buf, 1 << 16), 0);
	strbuf_addf(&want, "subvolume delete -- %s/images/100/.volrep-recv-stale/subvol-100-disk-0@s1\n", dir);
	assert_string_equal(log.buf, want.buf);

	close(busy);
	assert_int_equal(nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
	strbuf_release(&p);
	strbuf_release(&tool);
	strbuf_release(&log);
	strbuf_release(&want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_show),
		cmocka_unit_test(test_parse_show_hostile),
		cmocka_unit_test(test_parse_time_version),
		cmocka_unit_test(test_layout_and_argv),
		cmocka_unit_test(test_volnames),
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_allocated_size),
		cmocka_unit_test(test_clean_stale_with_fake_tool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
