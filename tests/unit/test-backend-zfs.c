/* Unit tests of the zfspool backend: output parsers on captured zfs-fuse
 * and OpenZFS output, capability probing from usage texts, exact argv of
 * every command (zvols included: zfs-fuse has none, so this is their only
 * coverage), and name validation before anything runs. */
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/listmemo.h"
#include "backend/zfs-parse.h"
#include "backend/zfs.h"
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

/* argv as one string, words joined by single spaces */
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

static void test_parse_get_zfs_fuse(void **state)
{
	struct backend_snapshot_list l = BACKEND_SNAPSHOT_LIST_INIT;
	char *text = data("zfs-fuse-get-snapshots.txt");

	(void)state;
	assert_int_equal(zfs_parse_snapshot_get(text, "rpool/data/subvol-100-disk-0", &l), 0);
	/* the dataset itself and the child's snapshot are not listed */
	assert_int_equal(l.nr, 2);
	assert_string_equal(l.v[0].name, "__replicate_100-0_1700000000__");
	assert_string_equal(l.v[0].id, "5190097316003454345");
	assert_int_equal(l.v[0].creation, 1795312333);
	assert_string_equal(l.v[1].name, "before-upgrade");
	assert_string_equal(l.v[1].id, "9774447218246250354");
	assert_int_equal(l.v[1].creation, 1795312334);
	assert_non_null(backend_snapshot_list_find(&l, "before-upgrade"));
	assert_null(backend_snapshot_list_find(&l, "x"));
	backend_snapshot_list_clear(&l);
	/* a prefix of the name is another dataset */
	assert_int_equal(zfs_parse_snapshot_get(text, "rpool/data/subvol-100-disk", &l), 0);
	assert_int_equal(l.nr, 0);
	free(text);
}

static void test_parse_list_openzfs(void **state)
{
	struct backend_snapshot_list l = BACKEND_SNAPSHOT_LIST_INIT;
	char *text = data("openzfs-list-snapshots.txt");

	(void)state;
	assert_int_equal(zfs_parse_snapshot_list(text, "rpool/data/vm-100-disk-0", &l), 0);
	/* sorted by creation; the child's and the blank-named one skipped */
	assert_int_equal(l.nr, 2);
	assert_string_equal(l.v[0].name, "first");
	assert_string_equal(l.v[0].id, "17716286345577012344");
	assert_int_equal(l.v[0].creation, 1714500000);
	assert_string_equal(l.v[1].name, "__replicate_100-0_1714565700__");
	backend_snapshot_list_clear(&l);
	free(text);
}

static void test_parse_hostile(void **state)
{
	static const char *const bad_list[] = {
		"rpool/v@a\t123\n",                  /* missing field */
		"rpool/v@a\t123\t5\textra\n",        /* extra field */
		"rpool/v@a\t12x\t5\n",               /* guid not a number */
		"rpool/v@a\t-1\t5\n",                /* negative guid */
		"rpool/v@a\t1\t-5\n",                /* negative time */
		"rpool/v@a\t1\t\n",                  /* empty time */
		"rpool/v@a\t99999999999999999999999\t5\n", /* guid overflow */
		NULL,
	};
	static const char *const bad_get[] = {
		"rpool/v@a\tguid\t1\n",                              /* no creation */
		"rpool/v@a\tcreation\t1\n",                          /* no guid */
		"rpool/v@a\tguid\t1\nrpool/v@a\tguid\t2\nrpool/v@a\tcreation\t1\n", /* twice */
		"rpool/v@a\tguid\tx\nrpool/v@a\tcreation\t1\n",
		"rpool/v@a\tguid\n",
		NULL,
	};
	struct backend_snapshot_list l = BACKEND_SNAPSHOT_LIST_INIT;
	struct strbuf longline = STRBUF_INIT;

	(void)state;
	backend_snapshot_list_add(&l, "keep", "1", 1);
	for (int i = 0; bad_list[i]; i++) {
		assert_int_equal(zfs_parse_snapshot_list(bad_list[i], "rpool/v", &l), -EINVAL);
		assert_int_equal(l.nr, 1); /* untouched on failure */
	}
	for (int i = 0; bad_get[i]; i++) {
		assert_int_equal(zfs_parse_snapshot_get(bad_get[i], "rpool/v", &l), -EINVAL);
		assert_int_equal(l.nr, 1);
	}
	strbuf_addstr(&longline, "rpool/v@");
	for (int i = 0; i < ZFS_LINE_MAX; i++)
		strbuf_addch(&longline, 'a');
	strbuf_addstr(&longline, "\t1\t1\n");
	assert_int_equal(zfs_parse_snapshot_list(longline.buf, "rpool/v", &l), -E2BIG);
	assert_int_equal(l.nr, 1);
	/* empty output, blank lines, no trailing newline: fine */
	assert_int_equal(zfs_parse_snapshot_list("", "rpool/v", &l), 0);
	assert_int_equal(zfs_parse_snapshot_list("\nrpool/v@b\t7\t9", "rpool/v", &l), 0);
	assert_int_equal(l.nr, 2);
	assert_string_equal(l.v[1].name, "b");
	strbuf_release(&longline);
	backend_snapshot_list_clear(&l);
}

static void test_parse_volumes(void **state)
{
	struct strvec v = STRVEC_INIT;
	char *fuse = data("zfs-fuse-list-volumes.txt"), *oz = data("openzfs-list-volumes.txt");

	(void)state;
	assert_int_equal(zfs_parse_volume_list(fuse, "rpool/data", "100", &v), 0);
	ASSERT_ARGV(&v, "subvol-100-disk-0 subvol-100-disk-1");
	assert_int_equal(zfs_parse_volume_list(oz, "rpool/data", "100", &v), 0);
	/* vm-* must be zvols, subvol-* filesystems; vm-1000 is another guest,
	 * rpool/data2 another pool */
	ASSERT_ARGV(&v, "base-100-disk-0 subvol-100-disk-0 vm-100-disk-0 vm-100-disk-1 vm-100-state-snap1");
	assert_int_equal(zfs_parse_volume_list(oz, "rpool/data", "1000", &v), 0);
	ASSERT_ARGV(&v, "vm-1000-disk-0");
	assert_int_equal(zfs_parse_volume_list("rpool/data/vm-100-disk-0\tbookmark\n", "rpool/data", "100", &v), -EINVAL);
	assert_int_equal(zfs_parse_volume_list("rpool/data/vm-100-disk-0\n", "rpool/data", "100", &v), -EINVAL);
	assert_int_equal(zfs_parse_volume_list("-x\tvolume\n", "rpool/data", "100", &v), -EINVAL);
	assert_int_equal(v.nr, 0);
	free(fuse);
	free(oz);
}

static void test_parse_size(void **state)
{
	static const struct {
		const char *in;
		uint64_t want;
	} good[] = {
		{ "0", 0 }, { "5365760", 5365760 }, { "512B", 512 }, { "1K", 1024 },
		{ "40.1M", 42047897 },          /* 40.1 * 2^20 = 42047897.6, rounded down */
		{ "7.12M", 7465861 }, { "1.50G", 1610612736 }, { "2T", 2199023255552ULL },
		{ "0.5K", 512 }, { "1.0001K", 1024 }, { "15E", 15ULL << 60 },
		{ "18446744073709551615", UINT64_MAX },
	};
	static const char *const bad[] = {
		"", "-", "none", "-1", "+1", " 1", "1 ", "1M ", "1.5", "1.5B", "1m", "1KB", "1MiB",
		".5M", "5.M", "1.00001K", "1Z", "1X", "0x10", "1e3", "1,5M", "1\n", "1M\n", "M",
	};
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = 1;
		if (zfs_parse_size(good[i].in, &v) < 0 || v != good[i].want)
			fail_msg("'%s': got %llu, want %llu", good[i].in, (unsigned long long)v,
				 (unsigned long long)good[i].want);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 7;
		if (zfs_parse_size(bad[i], &v) != -EINVAL || v != 7)
			fail_msg("accepted '%s'", bad[i]);
	}
	/* too big for 64 bits */
	assert_int_equal(zfs_parse_size("18446744073709551616", &v), -ERANGE);
	assert_int_equal(zfs_parse_size("16E", &v), -ERANGE);
	assert_int_equal(zfs_parse_size("17179869184G", &v), -ERANGE);
	assert_int_equal(v, 7);

	/* `zfs get -H -o value` output: one value, one line */
	assert_int_equal(zfs_parse_property_size("5365760\n", &v), 0);
	assert_int_equal(v, 5365760);
	assert_int_equal(zfs_parse_property_size("40.1M\n", &v), 0);
	assert_int_equal(v, 42047897);
	assert_int_equal(zfs_parse_property_size("5\n6\n", &v), -EINVAL);
	assert_int_equal(zfs_parse_property_size("5\t6\n", &v), -EINVAL);
	assert_int_equal(zfs_parse_property_size("\n", &v), -EINVAL);
	assert_int_equal(zfs_parse_property_size("-\n", &v), -EINVAL);
	assert_int_equal(v, 42047897);
}

static void test_parse_send_estimate(void **state)
{
	uint64_t v = 3;

	(void)state;
	/* OpenZFS `zfs send -nP -Rp ...`: a line per stream, then the total */
	assert_int_equal(zfs_parse_send_estimate("full\trpool/data/vm-100-disk-0@s1\t5266532\n"
						 "size\t5266532\n", &v), 0);
	assert_int_equal(v, 5266532);
	assert_int_equal(zfs_parse_send_estimate("incremental\ts1\trpool/data/vm-100-disk-0@s2\t1000\n"
						 "incremental\ts2\trpool/data/vm-100-disk-0@s3\t2000\n"
						 "size\t3000", &v), 0);
	assert_int_equal(v, 3000);
	/* no size line, malformed ones */
	v = 3;
	assert_int_equal(zfs_parse_send_estimate("full\trpool/data/vm-100-disk-0@s1\t5266532\n", &v), -EINVAL);
	assert_int_equal(zfs_parse_send_estimate("", &v), -EINVAL);
	assert_int_equal(zfs_parse_send_estimate("size\t\n", &v), -EINVAL);
	assert_int_equal(zfs_parse_send_estimate("size\t12M\n", &v), -EINVAL);
	assert_int_equal(zfs_parse_send_estimate("size\t-1\n", &v), -EINVAL);
	assert_int_equal(zfs_parse_send_estimate("size\t1\t2\n", &v), -EINVAL);
	assert_int_equal(zfs_parse_send_estimate("size\t99999999999999999999\n", &v), -EINVAL);
	assert_int_equal(v, 3);
	/* "sizes" is not "size" */
	assert_int_equal(zfs_parse_send_estimate("sizes\t1\n", &v), -EINVAL);
	{
		struct strbuf big = STRBUF_INIT;

		strbuf_addstr(&big, "size\t");
		for (int i = 0; i < ZFS_LINE_MAX; i++)
			strbuf_addch(&big, '1');
		assert_int_equal(zfs_parse_send_estimate(big.buf, &v), -E2BIG);
		strbuf_release(&big);
	}
	assert_int_equal(v, 3);
}

static void test_usage_probe(void **state)
{
	char *fuse = data("zfs-fuse-help.txt"), *oz = data("openzfs-help.txt");
	struct backend_caps c;
	uint64_t f;

	(void)state;
	f = zfs_usage_flags(fuse, "send");
	assert_true(f & ZFS_FLAG('R'));
	assert_true(f & ZFS_FLAG('D'));
	assert_true(f & ZFS_FLAG('p'));
	assert_false(f & (ZFS_FLAG('U') | ZFS_FLAG('c') | ZFS_FLAG('w') | ZFS_FLAG('v')));
	assert_int_equal(zfs_usage_flags(fuse, "receive"), ZFS_FLAG('v') | ZFS_FLAG('n') | ZFS_FLAG('F') | ZFS_FLAG('d'));
	assert_false(zfs_usage_flags(fuse, "list") & ZFS_FLAG('p'));
	assert_int_equal(zfs_usage_flags(fuse, "nosuchcmd"), 0);
	memset(&c, 0xff, sizeof(c));
	zfs_caps_from_usage(&c, fuse, 0);
	assert_false(c.list_parsable);
	assert_false(c.multi_snapshot);
	assert_true(c.send_replicate);
	assert_true(c.send_props);
	assert_false(c.send_no_encrypt || c.send_compressed || c.send_raw || c.recv_exclude ||
		     c.resume_tokens || c.bookmarks || c.zvols);
	/* zfs-fuse: `get -p` yes, `send -nP` no */
	assert_true(c.get_parsable);
	assert_false(c.send_estimate);

	f = zfs_usage_flags(oz, "send");
	/* continuation lines count: -R and -X are on the second line */
	assert_true(f & ZFS_FLAG('R'));
	assert_true(f & ZFS_FLAG('X'));
	assert_true(f & ZFS_FLAG('t'));
	assert_true(f & ZFS_FLAG('I'));
	memset(&c, 0, sizeof(c));
	zfs_caps_from_usage(&c, oz, 1);
	assert_true(c.list_parsable);
	assert_true(c.multi_snapshot);
	assert_true(c.send_compressed && c.send_raw && c.recv_exclude && c.resume_tokens);
	assert_true(c.recv_exclude_props);
	assert_true(c.bookmarks && c.zvols);
	assert_true(c.send_estimate && c.get_parsable);
	assert_false(c.send_no_encrypt);
	free(fuse);
	free(oz);
}

static void test_argv(void **state)
{
	struct backend_caps fuse = { .send_replicate = 1, .send_props = 1 };
	struct backend_caps oz = { .list_parsable = 1, .multi_snapshot = 1, .send_replicate = 1,
				   .send_props = 1, .send_no_encrypt = 1, .send_compressed = 1,
				   .send_raw = 1, .recv_exclude = 1, .recv_exclude_props = 1, .zvols = 1,
				   .send_estimate = 1,
				   .get_parsable = 1 };
	const char *const ds[] = { "rpool/data/vm-100-disk-0", "rpool/data/vm-100-disk-1",
				   "rpool/data/subvol-100-disk-0" };
	struct strvec v = STRVEC_INIT;

	(void)state;
	zfs_argv_snapshot(&v, "zfs", ds, 3, "__replicate_100-0_1714565700__");
	ASSERT_ARGV(&v, "zfs snapshot rpool/data/vm-100-disk-0@__replicate_100-0_1714565700__ "
			"rpool/data/vm-100-disk-1@__replicate_100-0_1714565700__ "
			"rpool/data/subvol-100-disk-0@__replicate_100-0_1714565700__");
	zfs_argv_send(&v, "zfs", &fuse, ds[0], "s2", NULL, BACKEND_EXPORT_COMPRESSED);
	ASSERT_ARGV(&v, "zfs send -Rp -- rpool/data/vm-100-disk-0@s2");
	zfs_argv_send(&v, "zfs", &fuse, ds[0], "s2", "s1", 0);
	ASSERT_ARGV(&v, "zfs send -Rp -I rpool/data/vm-100-disk-0@s1 -- rpool/data/vm-100-disk-0@s2");
	zfs_argv_send(&v, "/sbin/zfs", &oz, ds[1], "s2", "s1", 0);
	ASSERT_ARGV(&v, "/sbin/zfs send -RpU -I rpool/data/vm-100-disk-1@s1 -- rpool/data/vm-100-disk-1@s2");
	zfs_argv_send(&v, "zfs", &oz, ds[1], "s2", NULL, BACKEND_EXPORT_COMPRESSED);
	ASSERT_ARGV(&v, "zfs send -RpU -c -- rpool/data/vm-100-disk-1@s2");
	/* a job with keep: a plain stream, so that recv -F keeps the
	 * target's older snapshots */
	zfs_argv_send(&v, "zfs", &fuse, ds[0], "s2", "s1", BACKEND_EXPORT_KEEP_TARGET);
	ASSERT_ARGV(&v, "zfs send -i rpool/data/vm-100-disk-0@s1 -- rpool/data/vm-100-disk-0@s2");
	zfs_argv_send(&v, "zfs", &oz, ds[1], "s2", "s1", BACKEND_EXPORT_KEEP_TARGET | BACKEND_EXPORT_COMPRESSED);
	ASSERT_ARGV(&v, "zfs send -U -c -i rpool/data/vm-100-disk-1@s1 -- rpool/data/vm-100-disk-1@s2");
	/* PLAIN (nothing a package would add): -i alone, as for keep */
	zfs_argv_send(&v, "zfs", &fuse, ds[0], "s2", "s1", BACKEND_EXPORT_PLAIN);
	ASSERT_ARGV(&v, "zfs send -i rpool/data/vm-100-disk-0@s1 -- rpool/data/vm-100-disk-0@s2");
	zfs_argv_send(&v, "zfs", &oz, ds[1], "s2", "s1", BACKEND_EXPORT_PLAIN | BACKEND_EXPORT_COMPRESSED);
	ASSERT_ARGV(&v, "zfs send -U -c -i rpool/data/vm-100-disk-1@s1 -- rpool/data/vm-100-disk-1@s2");
	zfs_argv_send(&v, "zfs", &oz, ds[1], "s2", NULL, BACKEND_EXPORT_PLAIN);
	ASSERT_ARGV(&v, "zfs send -RpU -- rpool/data/vm-100-disk-1@s2");
	/* the full stream carries the properties as always */
	zfs_argv_send(&v, "zfs", &oz, ds[1], "s2", NULL, BACKEND_EXPORT_KEEP_TARGET);
	ASSERT_ARGV(&v, "zfs send -RpU -- rpool/data/vm-100-disk-1@s2");
	/* raw sends: -w, no -U (send_no_encrypt) or -c beside it */
	{
		struct backend_caps ou = oz;

		ou.send_no_encrypt = 1;
		zfs_argv_send(&v, "zfs", &ou, ds[1], "s2", NULL, BACKEND_EXPORT_RAW | BACKEND_EXPORT_COMPRESSED);
		ASSERT_ARGV(&v, "zfs send -Rp -w -- rpool/data/vm-100-disk-1@s2");
		zfs_argv_send(&v, "zfs", &ou, ds[1], "s2", "s1", BACKEND_EXPORT_RAW);
		ASSERT_ARGV(&v, "zfs send -Rp -w -I rpool/data/vm-100-disk-1@s1 -- rpool/data/vm-100-disk-1@s2");
		zfs_argv_send(&v, "zfs", &ou, ds[1], "s2", "s1", BACKEND_EXPORT_RAW | BACKEND_EXPORT_KEEP_TARGET);
		ASSERT_ARGV(&v, "zfs send -w -i rpool/data/vm-100-disk-1@s1 -- rpool/data/vm-100-disk-1@s2");
	}
	/* a raw stream brings its own encryption: not excluded */
	zfs_argv_recv(&v, "zfs", &oz, ds[2], 1, 1);
	ASSERT_ARGV(&v, "zfs recv -F -u -x sharenfs -x sharesmb -x exec -x setuid -x devices -x zoned "
			"-x mountpoint -- rpool/data/subvol-100-disk-0");
	zfs_argv_send_estimate(&v, "zfs", &oz, ds[1], "s2", NULL);
	ASSERT_ARGV(&v, "zfs send -nP -RpU -- rpool/data/vm-100-disk-1@s2");
	zfs_argv_send_estimate(&v, "zfs", &oz, ds[0], "s2", "s1");
	ASSERT_ARGV(&v, "zfs send -nP -RpU -I rpool/data/vm-100-disk-0@s1 -- rpool/data/vm-100-disk-0@s2");
	zfs_argv_get_size(&v, "zfs", &oz, "referenced", "rpool/data/vm-100-disk-0@s2");
	ASSERT_ARGV(&v, "zfs get -Hp -o value referenced -- rpool/data/vm-100-disk-0@s2");
	zfs_argv_get_size(&v, "zfs", &fuse, "referenced", "rpool/data/subvol-100-disk-0@s2");
	ASSERT_ARGV(&v, "zfs get -H -o value referenced -- rpool/data/subvol-100-disk-0@s2");
	/* never mounted by the receive; where -x exists, file systems get
	 * none of the stream's placing, sharing or exec properties */
	zfs_argv_recv(&v, "zfs", &fuse, ds[0], 0, 0);
	ASSERT_ARGV(&v, "zfs recv -F -u -- rpool/data/vm-100-disk-0");
	zfs_argv_recv(&v, "zfs", &fuse, ds[2], 1, 0);
	ASSERT_ARGV(&v, "zfs recv -F -u -- rpool/data/subvol-100-disk-0");
	zfs_argv_recv(&v, "zfs", &oz, ds[0], 0, 0);
	ASSERT_ARGV(&v, "zfs recv -F -u -x encryption -- rpool/data/vm-100-disk-0");
	zfs_argv_recv(&v, "zfs", &oz, ds[2], 1, 0);
	ASSERT_ARGV(&v, "zfs recv -F -u -x sharenfs -x sharesmb -x exec -x setuid -x devices -x zoned "
			"-x mountpoint -x encryption -- rpool/data/subvol-100-disk-0");
	/* resumable receives where the tool has tokens */
	{
		struct backend_caps rz = oz;

		rz.resume_tokens = 1;
		zfs_argv_recv(&v, "zfs", &rz, ds[0], 0, 0);
		ASSERT_ARGV(&v, "zfs recv -F -u -s -x encryption -- rpool/data/vm-100-disk-0");
	}
	zfs_argv_send_resume(&v, "zfs", "1-e604ea4bf-e0-789c63a2a1", 0);
	ASSERT_ARGV(&v, "zfs send -t 1-e604ea4bf-e0-789c63a2a1");
	zfs_argv_send_resume(&v, "zfs", "1-e604ea4bf-e0-789c63a2a1", 1);
	ASSERT_ARGV(&v, "zfs send -nvP -t 1-e604ea4bf-e0-789c63a2a1");
	zfs_argv_get_resume_token(&v, "zfs", ds[0]);
	ASSERT_ARGV(&v, "zfs get -H -o value receive_resume_token -- rpool/data/vm-100-disk-0");
	zfs_argv_recv_abort(&v, "zfs", ds[0]);
	ASSERT_ARGV(&v, "zfs recv -A -- rpool/data/vm-100-disk-0");
	zfs_argv_inherit(&v, "zfs", "mountpoint", ds[2]);
	ASSERT_ARGV(&v, "zfs inherit mountpoint rpool/data/subvol-100-disk-0");
	zfs_argv_set(&v, "zfs", "canmount", "on", ds[2]);
	ASSERT_ARGV(&v, "zfs set canmount=on rpool/data/subvol-100-disk-0");
	zfs_argv_list_tree(&v, "zfs", ds[2]);
	ASSERT_ARGV(&v, "zfs list -H -o name,type -t filesystem,volume,snapshot -r -- rpool/data/subvol-100-disk-0");
	zfs_argv_get_mounted(&v, "zfs", ds[2]);
	ASSERT_ARGV(&v, "zfs get -H -o value mounted,mountpoint -- rpool/data/subvol-100-disk-0");
	zfs_argv_get_secure_state(&v, "zfs", ds[2]);
	ASSERT_ARGV(&v, "zfs get -H -o property,value,source sharenfs,sharesmb,exec,setuid,devices,zoned,"
			"mountpoint,canmount,mounted -- rpool/data/subvol-100-disk-0");
	zfs_argv_mount(&v, "zfs", ds[2]);
	ASSERT_ARGV(&v, "zfs mount rpool/data/subvol-100-disk-0");
	zfs_argv_list_snapshots(&v, "zfs", &oz, ds[0]);
	ASSERT_ARGV(&v, "zfs list -Hp -t snapshot -o name,guid,creation -r -- rpool/data/vm-100-disk-0");
	zfs_argv_list_snapshots(&v, "zfs", &fuse, ds[2]);
	ASSERT_ARGV(&v, "zfs get -Hp -r -o name,property,value guid,creation -- rpool/data/subvol-100-disk-0");
	zfs_argv_list_volumes(&v, "zfs", "rpool/data");
	ASSERT_ARGV(&v, "zfs list -H -o name,type -t filesystem,volume -d 1 -- rpool/data");
	zfs_argv_destroy_snapshot(&v, "zfs", ds[0], "s1");
	ASSERT_ARGV(&v, "zfs destroy -- rpool/data/vm-100-disk-0@s1");
	zfs_argv_rollback(&v, "zfs", ds[0], "s1");
	ASSERT_ARGV(&v, "zfs rollback -r -- rpool/data/vm-100-disk-0@s1");
	zfs_argv_destroy_volume(&v, "zfs", ds[0]);
	ASSERT_ARGV(&v, "zfs destroy -r -f -- rpool/data/vm-100-disk-0");
}

static void test_volnames(void **state)
{
	static const char *const good[] = { "vm-100-disk-0", "subvol-100-disk-12", "base-999999999-disk-0",
					    "vm-100-state-snap_1.2", "vm-100-cloudinit", NULL };
	static const char *const bad[] = { "", "vm-100-disk-0;ls", "vm-100-disk-0 x", "-vm-100-disk-0",
					   "vm-99-disk-0", "vm-0100-disk-0", "vm-100-", "vm-100", "vm--disk-0",
					   "vm-100-disk-0/x", "../vm-100-disk-0", "vm-100-..", "vm-100-a..b",
					   "vm-100-disk-0@s", "vm-100-disk-0$(id)", "vm-100-disk-0`id`",
					   "vm-100-disk-0|x", "vm-100-disk-0&", "vm-100-disk-0\n", "VM-100-disk-0",
					   "foo-100-disk-0", "vm-1000000000-disk-0", "100/vm-100-disk-0.raw", NULL };
	uint32_t vmid = 0;

	(void)state;
	for (int i = 0; good[i]; i++)
		assert_true(backend_valid_volname(BACKEND_ZFSPOOL, good[i], NULL));
	for (int i = 0; bad[i]; i++) {
		if (backend_valid_volname(BACKEND_ZFSPOOL, bad[i], NULL))
			fail_msg("accepted '%s'", bad[i]);
	}
	assert_true(backend_valid_volname(BACKEND_ZFSPOOL, "subvol-4242-disk-1", &vmid));
	assert_int_equal(vmid, 4242);
	assert_true(backend_valid_snapname("__replicate_100-0_1714565700__"));
	assert_false(backend_valid_snapname(".."));
	assert_false(backend_valid_snapname(".hidden"));
	assert_false(backend_valid_snapname("-x"));
	assert_false(backend_valid_snapname("a;b"));
}

/* What a received file system's reset skips: only values at their
 * default or inherited from above; anything else (a local or received
 * value, a property missing from the text) is reset. */
static void test_parse_secure_state(void **state)
{
	static const char clean[] = "sharenfs\toff\tdefault\nsharesmb\toff\tdefault\nexec\ton\tdefault\n"
				    "setuid\ton\tdefault\ndevices\ton\tdefault\nzoned\toff\tdefault\n"
				    "mountpoint\t/rpool/data/subvol-100-disk-0\tinherited from rpool/data\n"
				    "canmount\ton\tlocal\nmounted\tyes\t-\n";
	struct zfs_secure_state st = ZFS_SECURE_STATE_INIT;
	struct strbuf t = STRBUF_INIT;
	char *p;

	(void)state;
	assert_int_equal(zfs_parse_secure_state(clean, &st), 0);
	assert_int_equal(st.reset, 0);
	assert_true(st.canmount_on);
	assert_true(st.mounted);
	assert_string_equal(st.mountpoint.buf, "/rpool/data/subvol-100-disk-0");

	/* a received value (here: exec), a local one (setuid), a mountpoint
	 * the stream chose, canmount off, not mounted */
	strbuf_addstr(&t, "sharenfs\toff\tdefault\nsharesmb\toff\tinherited from rpool\nexec\toff\treceived\n"
			  "setuid\toff\tlocal\ndevices\ton\tdefault\nzoned\toff\tdefault\n"
			  "mountpoint\t/root/.ssh\treceived\ncanmount\tnoauto\treceived\nmounted\tno\t-\n");
	assert_int_equal(zfs_parse_secure_state(t.buf, &st), 0);
	assert_int_equal(st.reset, (1u << 2) | (1u << 3) | (1u << 6));
	assert_false(st.canmount_on);
	assert_false(st.mounted);
	assert_string_equal(st.mountpoint.buf, "/root/.ssh");

	/* a property left out (this zfs has no zoned, say): reset anyway */
	strbuf_reset(&t);
	strbuf_addstr(&t, clean);
	p = strstr(t.buf, "zoned");
	memmove(p, p + strlen("zoned\toff\tdefault\n"), strlen(p + strlen("zoned\toff\tdefault\n")) + 1);
	assert_int_equal(zfs_parse_secure_state(t.buf, &st), 0);
	assert_int_equal(st.reset, 1u << 5);

	/* not that text: refused (the caller then resets every one) */
	assert_int_equal(zfs_parse_secure_state("", &st), -EINVAL);
	assert_int_equal(zfs_parse_secure_state("exec\ton\n", &st), -EINVAL);
	assert_int_equal(zfs_parse_secure_state("exec\ton\tdefault\tx\ncanmount\ton\tlocal\nmounted\tyes\t-\n", &st),
			 -EINVAL);
	assert_int_equal(zfs_parse_secure_state("exec\ton\tdefault\n", &st), -EINVAL);
	strbuf_release(&t);
	strbuf_release(&st.mountpoint);
}

/* A fake zfs that logs its argv and prints a chosen usage text: the API
 * end to end without a pool. */
static char fakedir[64];

static void make_fake(const char *usage_file)
{
	struct strbuf sb = STRBUF_INIT;
	char cwd[512];
	FILE *f;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	strbuf_addf(&sb, "%s/zfs", fakedir);
	f = fopen(sb.buf, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\necho \"$*\" >>%s/log\n"
		   "case \"$1\" in help) cat %s/tests/data/%s; exit 2;; list) exit 1;;\n"
		   "get) echo 5365760;; send) [ \"$2\" != -nP ] || printf 'full\\tx@s2\\t9\\nsize\\t123456\\n';; esac\n"
		   "exit 0\n",
		fakedir, cwd, usage_file);
	fclose(f);
	chmod(sb.buf, 0755);
	strbuf_reset(&sb);
	strbuf_addf(&sb, "%s/log", fakedir);
	unlink(sb.buf);
	strbuf_release(&sb);
}

static char *fake_log(void)
{
	struct strbuf sb = STRBUF_INIT, p = STRBUF_INIT;

	strbuf_addf(&p, "%s/log", fakedir);
	if (strbuf_read_file(&sb, p.buf, 1 << 16) < 0)
		strbuf_reset(&sb);
	strbuf_release(&p);
	return strbuf_detach(&sb, NULL);
}

static int setup_fake(void **state)
{
	(void)state;
	snprintf(fakedir, sizeof(fakedir), "/tmp/volrep-unit-zfs.XXXXXX");
	return mkdtemp(fakedir) ? 0 : -1;
}

/* Everything a fake tool left in its directory goes with it (the log,
 * the script, and what a script notes, such as "received"): a test run
 * leaves nothing in /tmp. */
static int teardown_fake(void **state)
{
	struct strbuf p = STRBUF_INIT;
	DIR *d = opendir(fakedir);
	struct dirent *de;

	(void)state;
	while (d && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		strbuf_reset(&p);
		strbuf_addf(&p, "%s/%s", fakedir, de->d_name);
		unlink(p.buf);
	}
	if (d)
		closedir(d);
	strbuf_release(&p);
	return rmdir(fakedir) < 0 ? -1 : 0;
}

static void test_api_with_fake_tool(void **state)
{
	struct backend b = BACKEND_INIT;
	struct backend_storage st = { .type = BACKEND_ZFSPOOL, .pool = "rpool/data", .id = "local-zfs" };
	const char *const zvols[] = { "vm-100-disk-0", "vm-100-disk-1" };
	const char *const bad[] = { "vm-100-disk-0", "vm-100-disk-1;reboot" };
	struct strbuf tool = STRBUF_INIT;
	struct strvec argv = STRVEC_INIT;
	char *log, *volid;
	uint64_t est = 0;

	(void)state;
	strbuf_addf(&tool, "%s/zfs", fakedir);
	st.tool = tool.buf;

	/* OpenZFS: one atomic snapshot call for all zvols */
	make_fake("openzfs-help.txt");
	assert_int_equal(backend_open(&b, &st), 0);
	assert_int_equal(backend_snapshot(&b, zvols, 2, "s1"), 0);
	assert_int_equal(backend_export_argv(&b, "vm-100-disk-1", "s2", "s1", 0, &argv), 0);
	{
		struct strbuf want = STRBUF_INIT;

		strbuf_addf(&want, "%s send -Rp -I rpool/data/vm-100-disk-1@s1 -- rpool/data/vm-100-disk-1@s2", tool.buf);
		ASSERT_ARGV(&argv, want.buf);
		strbuf_release(&want);
	}
	log = fake_log();
	assert_string_equal(log, "help\n"
				 "snapshot rpool/data/vm-100-disk-0@s1 rpool/data/vm-100-disk-1@s1\n");
	free(log);
	/* a size estimate: the dry run of the export */
	make_fake("openzfs-help.txt");
	assert_int_equal(backend_estimate_send_size(&b, "vm-100-disk-1", "s2", "s1", &est), 0);
	assert_int_equal(est, 123456);
	log = fake_log();
	assert_string_equal(log, "send -nP -Rp -I rpool/data/vm-100-disk-1@s1 -- rpool/data/vm-100-disk-1@s2\n");
	free(log);
	volid = backend_volid(&b, "vm-100-disk-0");
	assert_string_equal(volid, "local-zfs:vm-100-disk-0");
	free(volid);

	/* invalid names: -EINVAL before anything runs */
	make_fake("openzfs-help.txt");
	assert_int_equal(backend_snapshot(&b, bad, 2, "s1"), -EINVAL);
	assert_non_null(strstr(backend_errmsg(&b), "vm-100-disk-1;reboot"));
	assert_int_equal(backend_snapshot(&b, zvols, 2, "s1 x"), -EINVAL);
	assert_int_equal(backend_snapshot(&b, (const char *const[]){ "vm-100-disk-0", "vm-100-disk-0" }, 2, "s"), -EINVAL);
	assert_int_equal(backend_import(&b, "vm-100-disk-0", "s2", "$(id)", 0), -EINVAL);
	assert_int_equal(backend_import(&b, "vm-100-disk-0", "s2", "s2", 0), -EINVAL);
	assert_int_equal(backend_delete_snapshot(&b, "vm-100-disk-0", "-r"), -EINVAL);
	assert_int_equal(backend_list_snapshots(&b, "../x", NULL), -EINVAL);
	assert_int_equal(backend_list_volumes(&b, "99", NULL), -EINVAL);
	assert_int_equal(backend_export_argv(&b, "vm-100-disk-0", "s", "-i", 0, &argv), -EINVAL);
	assert_int_equal(backend_estimate_send_size(&b, "vm-100-disk-0", "s", "-i", &est), -EINVAL);
	assert_int_equal(backend_estimate_send_size(&b, "vm-100-disk-0;x", "s", NULL, &est), -EINVAL);
	assert_int_equal(backend_estimate_send_size(&b, "vm-100-disk-0", "s", "s", &est), -EINVAL);
	assert_int_equal(est, 123456);
	log = fake_log();
	assert_string_equal(log, "");
	free(log);
	backend_close(&b);

	/* zfs-fuse: one call per dataset */
	make_fake("zfs-fuse-help.txt");
	assert_int_equal(backend_open(&b, &st), 0);
	assert_int_equal(backend_snapshot(&b, zvols, 2, "s1"), 0);
	log = fake_log();
	assert_string_equal(log, "help\n"
				 "snapshot rpool/data/vm-100-disk-0@s1\nsnapshot rpool/data/vm-100-disk-1@s1\n");
	free(log);
	/* no dry run: a full stream from `referenced`, none for an incremental */
	make_fake("zfs-fuse-help.txt");
	assert_int_equal(backend_estimate_send_size(&b, "subvol-100-disk-0", "s2", NULL, &est), 0);
	assert_int_equal(est, 5365760);
	assert_int_equal(backend_estimate_send_size(&b, "subvol-100-disk-0", "s2", "s1", &est), -ENOTSUP);
	assert_non_null(strstr(backend_errmsg(&b), "incremental"));
	assert_int_equal(est, 5365760);
	log = fake_log();
	assert_string_equal(log, "get -Hp -o value referenced -- rpool/data/subvol-100-disk-0@s2\n");
	free(log);
	backend_close(&b);

	/* bad descriptors */
	st.pool = "rpool/data;x";
	assert_int_equal(backend_open(&b, &st), -EINVAL);
	backend_close(&b);
	st.pool = "-rpool";
	assert_int_equal(backend_open(&b, &st), -EINVAL);
	backend_close(&b);
	st.pool = "rpool/data@s";
	assert_int_equal(backend_open(&b, &st), -EINVAL);
	backend_close(&b);
	st.pool = "rpool/data";
	st.id = "Bad";
	assert_int_equal(backend_open(&b, &st), -EINVAL);
	backend_close(&b);
	strbuf_release(&tool);
}

/* A fake zfs that plays a pool for one import: the volume exists once
 * `recv` has run; with a file "child" in the fake's directory the
 * received tree has a dataset below the volume. $d/state holds the
 * volume's properties after the receive; without it, the fake is a zfs
 * that lacks one of them (the import's one get after the receive fails,
 * so the tree and the properties are listed on their own). */
static void make_fake_pool(const char *usage_file)
{
	struct strbuf sb = STRBUF_INIT;
	char cwd[512];
	FILE *f;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	strbuf_addf(&sb, "%s/zfs", fakedir);
	f = fopen(sb.buf, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\nd=%s\necho \"$*\" >>$d/log\n"
		   "[ \"$5\" != receive_resume_token ] || { echo -; exit 0; }\n"
		   "case \"$1 $4\" in\n"
		   "help*) cat %s/tests/data/%s; exit 2;;\n"
		   "'list name') [ -e $d/received ] && exit 0; echo \"cannot open: dataset does not exist\" >&2; exit 1;;\n"
		   "'list name,type') printf 'rpool/data/subvol-100-disk-0\\tfilesystem\\n';\n"
		   "  [ ! -e $d/child ] || printf 'rpool/data/subvol-100-disk-0/c\\tfilesystem\\n';\n"
		   "  [ ! -e $d/received ] || printf 'rpool/data/subvol-100-disk-0@s1\\tsnapshot\\n'; exit 0;;\n"
		   "'get -o') [ -e $d/state ] || { echo \"bad property list: invalid property 'zoned'\" >&2; exit 2; }\n"
		   "  printf 'rpool/data/subvol-100-disk-0\\ttype\\tfilesystem\\t-\\n';\n"
		   "  [ ! -e $d/child ] || printf 'rpool/data/subvol-100-disk-0/c\\ttype\\tfilesystem\\t-\\n';\n"
		   "  [ ! -e $d/received ] || printf 'rpool/data/subvol-100-disk-0@s1\\ttype\\tsnapshot\\t-\\n';\n"
		   "  sed 's|^|rpool/data/subvol-100-disk-0\t|' $d/state; exit 0;;\n"
		   "'get value') printf 'no\\n/rpool/data/subvol-100-disk-0\\n'; exit 0;;\n"
		   "'get property,value,source') [ -e $d/state ] && { cat $d/state; exit 0; }\n"
		   "  echo \"bad property list: invalid property 'zoned'\" >&2; exit 2;;\n"
		   "recv*) cat >/dev/null; touch $d/received;;\n"
		   "destroy*) [ \"$5\" != rpool/data/subvol-100-disk-0 ] || rm -f $d/received;;\n"
		   "esac\nexit 0\n",
		fakedir, cwd, usage_file);
	fclose(f);
	chmod(sb.buf, 0755);
	strbuf_reset(&sb);
	strbuf_addf(&sb, "%s/log", fakedir);
	unlink(sb.buf);
	strbuf_reset(&sb);
	strbuf_addf(&sb, "%s/received", fakedir);
	unlink(sb.buf);
	strbuf_reset(&sb);
	strbuf_addf(&sb, "%s/state", fakedir);
	unlink(sb.buf);
	strbuf_release(&sb);
}

static void fake_file(const char *name, const char *content);

/* The fake pool's answer to zfs_argv_get_secure_state: the values after a
 * first import's reset, with one line swapped for another */
static void fake_secure_state(const char *from, const char *to)
{
	static const char after[] = "sharenfs\toff\tdefault\nsharesmb\toff\tdefault\nexec\ton\tdefault\n"
				    "setuid\ton\tdefault\ndevices\ton\tdefault\nzoned\toff\tdefault\n"
				    "mountpoint\t/rpool/data/subvol-100-disk-0\tinherited from rpool/data\n"
				    "canmount\ton\tlocal\nmounted\tyes\t-\n";
	struct strbuf t = STRBUF_INIT;
	const char *p = from ? strstr(after, from) : NULL;

	if (from) {
		assert_non_null(p);
		strbuf_add(&t, after, p - after);
		strbuf_addstr(&t, to);
		strbuf_addstr(&t, p + strlen(from));
	} else {
		strbuf_addstr(&t, after);
	}
	fake_file("state", t.buf);
	strbuf_release(&t);
}

static void test_import_with_fake_tool(void **state)
{
	struct backend b = BACKEND_INIT;
	struct backend_storage st = { .type = BACKEND_ZFSPOOL, .pool = "rpool/data" };
	struct strbuf tool = STRBUF_INIT, p = STRBUF_INIT;
	char *log;
	int fd;

	(void)state;
	strbuf_addf(&tool, "%s/zfs", fakedir);
	st.tool = tool.buf;
	fd = open("/dev/null", O_RDONLY);
	assert_true(fd >= 0);

	/* zfs-fuse (no recv -x): -u, then every unsafe property reset
	 * (mountpoint last, after canmount), then mounted in the layout */
	make_fake_pool("zfs-fuse-help.txt");
	assert_int_equal(backend_open(&b, &st), 0);
	assert_int_equal(backend_import(&b, "subvol-100-disk-0", "s1", NULL, fd), 0);
	log = fake_log();
	assert_string_equal(log, "help\n"
				 "list -H -o name -t all -- rpool/data/subvol-100-disk-0\n"
				 "recv -F -u -- rpool/data/subvol-100-disk-0\n"
				 "get -Hp -r -o name,property,value,source type,guid,creation,sharenfs,sharesmb,exec,setuid,devices,"
				 "zoned,mountpoint,canmount,mounted -- rpool/data/subvol-100-disk-0\n"
				 "list -H -o name,type -t filesystem,volume,snapshot -r -- rpool/data/subvol-100-disk-0\n"
				 "get -H -o property,value,source sharenfs,sharesmb,exec,setuid,devices,zoned,"
				 "mountpoint,canmount,mounted -- rpool/data/subvol-100-disk-0\n"
				 "inherit sharenfs rpool/data/subvol-100-disk-0\n"
				 "inherit sharesmb rpool/data/subvol-100-disk-0\n"
				 "inherit exec rpool/data/subvol-100-disk-0\n"
				 "inherit setuid rpool/data/subvol-100-disk-0\n"
				 "inherit devices rpool/data/subvol-100-disk-0\n"
				 "inherit zoned rpool/data/subvol-100-disk-0\n"
				 "set canmount=on rpool/data/subvol-100-disk-0\n"
				 "inherit mountpoint rpool/data/subvol-100-disk-0\n"
				 "get -H -o value mounted,mountpoint -- rpool/data/subvol-100-disk-0\n"
				 "mount rpool/data/subvol-100-disk-0\n");
	free(log);
	backend_close(&b);

	/* the common case, an incremental that changed none of them: one
	 * get after the receive for the tree and the properties, no reset,
	 * no mount */
	make_fake_pool("zfs-fuse-help.txt");
	fake_secure_state(NULL, NULL);
	assert_int_equal(backend_open(&b, &st), 0);
	assert_int_equal(backend_import(&b, "subvol-100-disk-0", "s1", NULL, fd), 0);
	log = fake_log();
	assert_string_equal(log, "help\n"
				 "list -H -o name -t all -- rpool/data/subvol-100-disk-0\n"
				 "recv -F -u -- rpool/data/subvol-100-disk-0\n"
				 "get -Hp -r -o name,property,value,source type,guid,creation,sharenfs,sharesmb,exec,setuid,devices,"
				 "zoned,mountpoint,canmount,mounted -- rpool/data/subvol-100-disk-0\n");
	assert_null(strstr(log, "inherit"));
	assert_null(strstr(log, "set "));
	assert_null(strstr(log, "mount rpool"));
	free(log);
	backend_close(&b);

	/* not mounted: mounted, with no second get */
	make_fake_pool("zfs-fuse-help.txt");
	fake_secure_state("mounted\tyes", "mounted\tno");
	assert_int_equal(backend_open(&b, &st), 0);
	assert_int_equal(backend_import(&b, "subvol-100-disk-0", "s1", NULL, fd), 0);
	log = fake_log();
	assert_non_null(strstr(log, "mountpoint,canmount,mounted -- rpool/data/subvol-100-disk-0\n"
				    "mount rpool/data/subvol-100-disk-0\n"));
	assert_null(strstr(log, "inherit"));
	assert_null(strstr(log, "get -H -o value mounted"));
	free(log);
	backend_close(&b);

	/* the stream set exec and a mountpoint, canmount off: those reset
	 * (canmount before mountpoint), the mount state read anew */
	make_fake_pool("zfs-fuse-help.txt");
	fake_secure_state("exec\ton\tdefault", "exec\toff\treceived");
	assert_int_equal(backend_open(&b, &st), 0);
	assert_int_equal(backend_import(&b, "subvol-100-disk-0", "s1", NULL, fd), 0);
	log = fake_log();
	assert_non_null(strstr(log, "mountpoint,canmount,mounted -- rpool/data/subvol-100-disk-0\n"
				    "inherit exec rpool/data/subvol-100-disk-0\n"
				    "get -H -o value mounted,mountpoint -- rpool/data/subvol-100-disk-0\n"));
	free(log);
	backend_close(&b);
	make_fake_pool("zfs-fuse-help.txt");
	fake_secure_state("mountpoint\t/rpool/data/subvol-100-disk-0\tinherited from rpool/data\n"
			  "canmount\ton\tlocal",
			  "mountpoint\t/root/.ssh\treceived\ncanmount\toff\treceived");
	assert_int_equal(backend_open(&b, &st), 0);
	assert_int_equal(backend_import(&b, "subvol-100-disk-0", "s1", NULL, fd), 0);
	log = fake_log();
	assert_non_null(strstr(log, "mountpoint,canmount,mounted -- rpool/data/subvol-100-disk-0\n"
				    "set canmount=on rpool/data/subvol-100-disk-0\n"
				    "inherit mountpoint rpool/data/subvol-100-disk-0\n"
				    "get -H -o value mounted,mountpoint -- rpool/data/subvol-100-disk-0\n"
				    "mount rpool/data/subvol-100-disk-0\n"));
	assert_null(strstr(log, "inherit exec"));
	free(log);
	backend_close(&b);

	/* a stream without the snapshot asked for: refused, undone */
	make_fake_pool("zfs-fuse-help.txt");
	assert_int_equal(backend_open(&b, &st), 0);
	assert_int_equal(backend_import(&b, "subvol-100-disk-0", "s2", NULL, fd), -EIO);
	assert_non_null(strstr(backend_errmsg(&b), "stream did not contain snapshot 'rpool/data/subvol-100-disk-0@s2'"));
	log = fake_log();
	assert_non_null(strstr(log, "destroy -r -f -- rpool/data/subvol-100-disk-0\n"));
	free(log);
	backend_close(&b);

	/* a dataset below the volume: destroyed, the import undone */
	make_fake_pool("zfs-fuse-help.txt");
	strbuf_addf(&p, "%s/child", fakedir);
	close(open(p.buf, O_WRONLY | O_CREAT, 0600));
	assert_int_equal(backend_open(&b, &st), 0);
	assert_int_equal(backend_import(&b, "subvol-100-disk-0", "s1", NULL, fd), -EIO);
	assert_non_null(strstr(backend_errmsg(&b), "stream contained dataset 'rpool/data/subvol-100-disk-0/c'"));
	log = fake_log();
	assert_non_null(strstr(log, "destroy -r -f -- rpool/data/subvol-100-disk-0/c\n"));
	assert_non_null(strstr(log, "destroy -r -f -- rpool/data/subvol-100-disk-0\n"));
	free(log);
	unlink(p.buf);
	backend_close(&b);

	/* the same from the one get after the receive (a zfs with all the
	 * properties): the child is found in its type rows */
	make_fake_pool("zfs-fuse-help.txt");
	fake_secure_state(NULL, NULL);
	close(open(p.buf, O_WRONLY | O_CREAT, 0600));
	assert_int_equal(backend_open(&b, &st), 0);
	assert_int_equal(backend_import(&b, "subvol-100-disk-0", "s1", NULL, fd), -EIO);
	assert_non_null(strstr(backend_errmsg(&b), "stream contained dataset 'rpool/data/subvol-100-disk-0/c'"));
	log = fake_log();
	assert_null(strstr(log, "list -H -o name,type"));
	assert_non_null(strstr(log, "destroy -r -f -- rpool/data/subvol-100-disk-0/c\n"));
	free(log);
	unlink(p.buf);
	backend_close(&b);
	/* and a stream without the snapshot asked for */
	make_fake_pool("zfs-fuse-help.txt");
	fake_secure_state(NULL, NULL);
	assert_int_equal(backend_open(&b, &st), 0);
	assert_int_equal(backend_import(&b, "subvol-100-disk-0", "s2", NULL, fd), -EIO);
	assert_non_null(strstr(backend_errmsg(&b), "stream did not contain snapshot 'rpool/data/subvol-100-disk-0@s2'"));
	backend_close(&b);

	/* OpenZFS: the receive itself excludes them as well */
	make_fake_pool("openzfs-help.txt");
	assert_int_equal(backend_open(&b, &st), 0);
	assert_int_equal(backend_import(&b, "subvol-100-disk-0", "s1", NULL, fd), 0);
	log = fake_log();
	assert_non_null(strstr(log, "recv -F -u -s -x sharenfs -x sharesmb -x exec -x setuid -x devices "
				    "-x zoned -x mountpoint -x encryption -- rpool/data/subvol-100-disk-0\n"));
	assert_non_null(strstr(log, "inherit mountpoint rpool/data/subvol-100-disk-0\n"));
	free(log);
	backend_close(&b);
	strbuf_addf(&p, "%s/received", fakedir);
	unlink(p.buf);
	close(fd);
	strbuf_release(&tool);
	strbuf_release(&p);
}


/* Resume tokens arrive from the target: only the grammar passes. */
static void test_resume_token_parse(void **state)
{
	static const char *const good[] = { "1-e604ea4bf-e0-789c63a2a1", "1-0-0-00", "123-ffffffffffffffff-1-abcd",
					    NULL };
	static const char *const bad[] = { "", "-", "1", "1-e6-e0", "1-e6-e0-", "1-e6-e0-abc", "-1-e6-e0-ab",
					   "1-E6-e0-ab", "1-e6-e0-ab ", " 1-e6-e0-ab", "1-e6-e0-ab\n", "1-e6-e0-ab;id",
					   "1-e6-e0-ab-cd", "1234-e6-e0-ab", "1-11111111111111111-e0-ab", "x-e6-e0-ab",
					   "1-e6--ab", "1-e6-e0-a$b", NULL };
	struct strbuf t = STRBUF_INIT, big = STRBUF_INIT;

	(void)state;
	for (int i = 0; good[i]; i++)
		if (!zfs_valid_resume_token(good[i]))
			fail_msg("refused '%s'", good[i]);
	for (int i = 0; bad[i]; i++)
		if (zfs_valid_resume_token(bad[i]))
			fail_msg("accepted '%s'", bad[i]);
	assert_false(zfs_valid_resume_token(NULL));
	strbuf_addstr(&big, "1-e6-e0-");
	while (big.len < ZFS_RESUME_TOKEN_MAX)
		strbuf_addstr(&big, "ab");
	assert_true(zfs_valid_resume_token(big.buf) == (big.len <= ZFS_RESUME_TOKEN_MAX));
	strbuf_addstr(&big, "ab");
	assert_false(zfs_valid_resume_token(big.buf));

	assert_int_equal(zfs_parse_resume_property("-\n", &t), 0);
	assert_int_equal(zfs_parse_resume_property("1-e604ea4bf-e0-789c63a2a1\n", &t), 1);
	assert_string_equal(t.buf, "1-e604ea4bf-e0-789c63a2a1");
	assert_int_equal(zfs_parse_resume_property("1-e6-e0-ab\n1-e6-e0-ab\n", &t), -EINVAL);
	assert_int_equal(zfs_parse_resume_property("", &t), -EINVAL);
	assert_int_equal(zfs_parse_resume_property("1-e6-e0-ab;reboot\n", &t), -EINVAL);
	assert_string_equal(t.buf, "1-e604ea4bf-e0-789c63a2a1");

	strbuf_reset(&t);
	assert_int_equal(zfs_parse_resume_toname("resume token contents:\nnvlist version: 0\n\tfromguid = 0x1\n"
						 "\tobject = 0x1\n\ttoname = rpool/data/vm-100-disk-0@s2\n"
						 "incremental\ts1\trpool/data/vm-100-disk-0@s2\t123\nsize\t123\n", &t), 0);
	assert_string_equal(t.buf, "rpool/data/vm-100-disk-0@s2");
	assert_int_equal(zfs_parse_resume_toname("\ttoname = a@b\n\ttoname = a@c\n", &t), -EINVAL);
	assert_int_equal(zfs_parse_resume_toname("size\t1\n", &t), -EINVAL);
	assert_int_equal(zfs_parse_resume_toname("\ttoname = \n", &t), -EINVAL);
	strbuf_release(&t);
	strbuf_release(&big);
}

static void fake_reset(void);

/* A fake OpenZFS with a resumable receive: $d/token holds the partial
 * receive's token (absent: none), $d/toname what a dry run of `send -t`
 * names, $d/fail makes a receive break off (keeping a token), and
 * $d/received marks the volume as there. */
static void make_fake_resume(const char *usage_file)
{
	struct strbuf sb = STRBUF_INIT;
	char cwd[512];
	FILE *f;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	strbuf_addf(&sb, "%s/zfs", fakedir);
	f = fopen(sb.buf, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\nd=%s\necho \"$*\" >>$d/log\n"
		   "case \"$*\" in\n"
		   "help*) cat %s/tests/data/%s; exit 2;;\n"
		   "'get -H -o value receive_resume_token'*) [ -e $d/token ] && cat $d/token || echo -; exit 0;;\n"
		   "'get -H -o value encryption'*) [ -e $d/enc ] && cat $d/enc || echo off; exit 0;;\n"
		   "'recv -A'*) [ -e $d/token ] || { echo \"cannot resume send: 'x' does not have any resumable receive state to abort\" >&2; exit 1; };\n"
		   "  rm -f $d/token $d/received; exit 0;;\n"
		   "'send -nvP -t'*) [ -e $d/toname ] || { echo 'cannot resume send: snapshot does not exist' >&2; exit 1; };\n"
		   "  printf 'resume token contents:\\n\\ttoname = %%s\\n' \"$(cat $d/toname)\"; exit 0;;\n"
		   "'list -H -o name -t all -- rpool/data/vm-100-disk-0') [ -e $d/received ] && exit 0;\n"
		   "  echo 'cannot open: dataset does not exist' >&2; exit 1;;\n"
		   "'list -H -o name -t all -- rpool/data/vm-100-disk-0@s1') exit 0;;\n"
		   "'list -H -o name -t all -- rpool/data/vm-100-disk-0@s2') [ -e $d/got-s2 ] && exit 0;\n"
		   "  echo 'cannot open: dataset does not exist' >&2; exit 1;;\n"
		   "'list -H -o name,type'*) printf 'rpool/data/vm-100-disk-0\\tvolume\\n';\n"
		   "  [ ! -e $d/got-s2 ] || printf 'rpool/data/vm-100-disk-0@s2\\tsnapshot\\n'; exit 0;;\n"
		   "'get -Hp -r -o name,property,value,source'*) printf 'rpool/data/vm-100-disk-0\\ttype\\tvolume\\t-\\n';\n"
		   "  [ ! -e $d/got-s2 ] || printf 'rpool/data/vm-100-disk-0@s2\\ttype\\tsnapshot\\t-\\n'; exit 0;;\n"
		   "'list -H -o name -t all -- rpool/data/vm-100-disk-0@s1 rpool/data/vm-100-disk-0@s2')\n"
		   "  rc=0; if [ -e $d/no-s1 ]; then rc=1; echo \"cannot open 'rpool/data/vm-100-disk-0@s1': dataset does not exist\" >&2;\n"
		   "  else echo rpool/data/vm-100-disk-0@s1; fi; [ -e $d/got-s2 ] && { echo rpool/data/vm-100-disk-0@s2; exit $rc; }\n"
		   "  echo \"cannot open 'rpool/data/vm-100-disk-0@s2': dataset does not exist\" >&2; exit 1;;\n"
		   "recv*) cat >/dev/null; if [ -e $d/fail ]; then echo 1-e6-e0-abcd >$d/token;\n"
		   "  echo 'cannot receive incremental stream: checksum mismatch or incomplete stream' >&2; exit 1; fi;\n"
		   "  rm -f $d/token; touch $d/received $d/got-s2; exit 0;;\n"
		   "esac\nexit 0\n",
		fakedir, cwd, usage_file);
	fclose(f);
	chmod(sb.buf, 0755);
	strbuf_release(&sb);
	fake_reset();
}

static void fake_file(const char *name, const char *content)
{
	struct strbuf p = STRBUF_INIT;
	FILE *f;

	strbuf_addf(&p, "%s/%s", fakedir, name);
	if (!content) {
		unlink(p.buf);
	} else {
		f = fopen(p.buf, "w");
		assert_non_null(f);
		fputs(content, f);
		fclose(f);
	}
	strbuf_release(&p);
}

static void fake_reset(void)
{
	static const char *const files[] = { "log", "token", "toname", "fail", "received", "got-s2", "child", "enc",
					     "no-s1", NULL };

	for (int i = 0; files[i]; i++)
		fake_file(files[i], NULL);
}

static void test_resume_with_fake_tool(void **state)
{
	struct backend b = BACKEND_INIT;
	struct backend_storage st = { .type = BACKEND_ZFSPOOL, .pool = "rpool/data" };
	struct strbuf tool = STRBUF_INIT, token = STRBUF_INIT;
	struct child c = CHILD_INIT;
	char *log;
	int fd;

	(void)state;
	strbuf_addf(&tool, "%s/zfs", fakedir);
	st.tool = tool.buf;
	fd = open("/dev/null", O_RDONLY);
	assert_true(fd >= 0);

	/* zfs-fuse: no tokens. Nothing is asked, no -s, --resume refused */
	make_fake_resume("zfs-fuse-help.txt");
	assert_int_equal(backend_open(&b, &st), 0);
	assert_int_equal(backend_resume_token(&b, "vm-100-disk-0", &token), 0);
	assert_int_equal(backend_import_flags(&b, "vm-100-disk-0", "s2", "s1", BACKEND_IMPORT_RESUME, fd), -ENOTSUP);
	assert_int_equal(backend_resume_abort(&b, "vm-100-disk-0"), -ENOTSUP);
	assert_int_equal(backend_export_resume_start(&b, "vm-100-disk-0", "s2", "1-e6-e0-abcd", &c), -ENOTSUP);
	log = fake_log();
	assert_string_equal(log, "help\n");
	free(log);
	fake_reset();
	fake_file("received", "");
	assert_int_equal(backend_import(&b, "vm-100-disk-0", "s2", "s1", fd), 0);
	log = fake_log();
	assert_non_null(strstr(log, "recv -F -u -- rpool/data/vm-100-disk-0\n"));
	assert_null(strstr(log, "receive_resume_token"));
	free(log);
	/* base there and snapshot not: asked in one call; s2 is there now */
	fake_file("log", NULL);
	assert_int_equal(backend_import(&b, "vm-100-disk-0", "s2", "s1", fd), -EEXIST);
	assert_string_equal(backend_errmsg(&b), "snapshot 'rpool/data/vm-100-disk-0@s2' already exists");
	log = fake_log();
	assert_string_equal(log, "list -H -o name -t all -- rpool/data/vm-100-disk-0@s1 rpool/data/vm-100-disk-0@s2\n");
	free(log);
	fake_file("got-s2", NULL);
	fake_file("no-s1", "");
	assert_int_equal(backend_import(&b, "vm-100-disk-0", "s2", "s1", fd), -ENOENT);
	assert_string_equal(backend_errmsg(&b), "base snapshot 'rpool/data/vm-100-disk-0@s1' doesn't exist");
	fake_file("got-s2", "");
	assert_int_equal(backend_import(&b, "vm-100-disk-0", "s2", "s1", fd), -ENOENT);
	fake_file("no-s1", NULL);
	backend_close(&b);

	/* OpenZFS: an incremental that breaks off keeps its partial state,
	 * and the volume is not rolled back */
	make_fake_resume("openzfs-help.txt");
	fake_file("received", "");
	fake_file("fail", "");
	assert_int_equal(backend_open(&b, &st), 0);
	assert_int_equal(backend_import(&b, "vm-100-disk-0", "s2", "s1", fd), -EIO);
	assert_non_null(strstr(backend_errmsg(&b), "partial receive kept for resuming"));
	log = fake_log();
	assert_non_null(strstr(log, "recv -F -u -s -x encryption -- rpool/data/vm-100-disk-0\n"));
	assert_null(strstr(log, "rollback"));
	assert_null(strstr(log, "recv -A"));
	free(log);
	assert_int_equal(backend_resume_token(&b, "vm-100-disk-0", &token), 1);
	assert_string_equal(token.buf, "1-e6-e0-abcd");

	/* the source: a bad token never runs; one for another snapshot or
	 * one zfs refuses is stale; the right one is sent from */
	fake_file("log", NULL);
	assert_int_equal(backend_export_resume_start(&b, "vm-100-disk-0", "s2", "1-e6-e0-ab;reboot", &c), -EINVAL);
	assert_int_equal(backend_export_resume_start(&b, "vm-100-disk-0", "s2", "-t", &c), -EINVAL);
	log = fake_log();
	assert_string_equal(log, "");
	free(log);
	assert_int_equal(backend_export_resume_start(&b, "vm-100-disk-0", "s2", "1-e6-e0-abcd", &c), -ESTALE);
	assert_non_null(strstr(backend_errmsg(&b), "snapshot does not exist"));
	fake_file("toname", "rpool/data/vm-100-disk-0@s9");
	assert_int_equal(backend_export_resume_start(&b, "vm-100-disk-0", "s2", "1-e6-e0-abcd", &c), -ESTALE);
	assert_non_null(strstr(backend_errmsg(&b), "is for 'rpool/data/vm-100-disk-0@s9'"));
	fake_file("toname", "rpool/data/vm-100-disk-0@s2");
	c.out = CHILD_NULL;
	assert_int_equal(backend_export_resume_start(&b, "vm-100-disk-0", "s2", "1-e6-e0-abcd", &c), 0);
	assert_int_equal(child_finish(&c), 0);
	log = fake_log();
	assert_non_null(strstr(log, "send -nvP -t 1-e6-e0-abcd\nsend -t 1-e6-e0-abcd\n"));
	free(log);

	/* the target: the rest of the stream into the partial receive */
	fake_file("log", NULL);
	fake_file("fail", NULL);
	assert_int_equal(backend_import_flags(&b, "vm-100-disk-0", "s2", "s1", BACKEND_IMPORT_RESUME, fd), 0);
	log = fake_log();
	assert_non_null(strstr(log, "recv -F -u -s -x encryption -- rpool/data/vm-100-disk-0\n"));
	assert_null(strstr(log, "recv -A"));
	free(log);
	/* nothing to resume any more */
	assert_int_equal(backend_import_flags(&b, "vm-100-disk-0", "s3", "s2", BACKEND_IMPORT_RESUME, fd), -ENOENT);
	assert_non_null(strstr(backend_errmsg(&b), "no interrupted receive"));

	/* a fresh stream where a partial receive was left: discarded first
	 * (syncoid's "destination contains partially-complete state") */
	make_fake_resume("openzfs-help.txt");
	fake_file("received", "");
	fake_file("token", "1-e6-e0-abcd\n");
	assert_int_equal(backend_import(&b, "vm-100-disk-0", "s2", "s1", fd), 0);
	log = fake_log();
	assert_non_null(strstr(log, "get -H -o value receive_resume_token -- rpool/data/vm-100-disk-0\n"
				    "recv -A -- rpool/data/vm-100-disk-0\n"));
	free(log);
	/* an explicit abort with nothing to abort is fine */
	assert_int_equal(backend_resume_abort(&b, "vm-100-disk-0"), 0);
	/* a hostile token property is an error, never an argv */
	fake_file("token", "1-e6-e0-ab cd;reboot\n");
	assert_int_equal(backend_resume_token(&b, "vm-100-disk-0", &token), -EIO);
	/* prepare: a partial full receive (a token, no snapshot) is no
	 * replica: discarded, the volume is absent for the run */
	fake_file("log", NULL);
	fake_file("received", "");
	fake_file("token", "1-e6-e0-abcd\n");
	assert_int_equal(backend_clean_stale(&b, "vm-100-disk-0", NULL, NULL), 1);
	log = fake_log();
	assert_non_null(strstr(log, "list -Hp -t snapshot -o name,guid,creation -r -- rpool/data/vm-100-disk-0\n"
				    "recv -A -- rpool/data/vm-100-disk-0\n"));
	free(log);
	/* no token: nothing of it */
	fake_file("log", NULL);
	fake_file("received", "");
	assert_int_equal(backend_clean_stale(&b, "vm-100-disk-0", NULL, NULL), 0);
	log = fake_log();
	assert_null(strstr(log, "recv -A"));
	free(log);
	backend_close(&b);
	fake_reset();
	close(fd);
	strbuf_release(&tool);
	strbuf_release(&token);
}

/* prepare's one get per volume: the sources of the unsafe properties and
 * the snapshots (zfs-fuse's output, with a user snapshot, a child and a
 * hostile name among them) */
static void test_parse_volume_state(void **state)
{
	static const char text[] =
		"rpool/data/subvol-100-disk-0\tguid\t11\t-\n"
		"rpool/data/subvol-100-disk-0\tcreation\t100\t-\n"
		"rpool/data/subvol-100-disk-0\tsharenfs\toff\tdefault\n"
		"rpool/data/subvol-100-disk-0\texec\toff\treceived\n"
		"rpool/data/subvol-100-disk-0\tmountpoint\t/rpool/data/subvol-100-disk-0\tinherited from rpool/data\n"
		"rpool/data/subvol-100-disk-0@__replicate_100-0_7__\tguid\t22\t-\n"
		"rpool/data/subvol-100-disk-0@__replicate_100-0_7__\tcreation\t107\t-\n"
		"rpool/data/subvol-100-disk-0@__replicate_100-0_7__\tsharenfs\t-\t-\n"
		"rpool/data/subvol-100-disk-0@__replicate_100-0_7__\texec\ton\tdefault\n"
		"rpool/data/subvol-100-disk-0@user\tcreation\t103\t-\n"
		"rpool/data/subvol-100-disk-0@user\tguid\t33\t-\n"
		"rpool/data/subvol-100-disk-0@a b\tguid\t44\t-\n"
		"rpool/data/subvol-100-disk-0/c\tguid\t55\t-\n";
	struct backend_snapshot_list l = BACKEND_SNAPSHOT_LIST_INIT;
	struct strbuf src = STRBUF_INIT;

	(void)state;
	assert_int_equal(zfs_parse_volume_state(text, "rpool/data/subvol-100-disk-0", &src, &l), 0);
	assert_string_equal(src.buf, "default\nreceived\ninherited from rpool/data\n");
	assert_int_equal(l.nr, 2);
	assert_string_equal(l.v[0].name, "user");
	assert_string_equal(l.v[0].id, "33");
	assert_string_equal(l.v[1].name, "__replicate_100-0_7__");
	assert_int_equal(l.v[1].creation, 107);
	backend_snapshot_list_clear(&l);
	/* three columns (the form without sources) or a snapshot without
	 * its guid: not a listing of this kind, nothing returned */
	strbuf_reset(&src);
	assert_int_equal(zfs_parse_volume_state("rpool/data/x@s\tguid\t1\n", "rpool/data/x", &src, &l), -EINVAL);
	assert_int_equal(zfs_parse_volume_state("rpool/data/x@s\tcreation\t1\t-\n", "rpool/data/x", &src, &l),
			 -EINVAL);
	assert_int_equal(l.nr, 0);
	strbuf_release(&src);
}

/* The import's one get after a receive: the tree from the type rows, the
 * volume's own properties for the reset */
static void test_parse_received(void **state)
{
	static const char text[] =
		"rpool/data/subvol-100-disk-0\ttype\tfilesystem\t-\n"
		"rpool/data/subvol-100-disk-0\texec\toff\treceived\n"
		"rpool/data/subvol-100-disk-0\tmounted\tno\t-\n"
		"rpool/data/subvol-100-disk-0/c\ttype\tfilesystem\t-\n"
		"rpool/data/subvol-100-disk-0/c\texec\ton\tdefault\n"
		"rpool/data/subvol-100-disk-0@s1\ttype\tsnapshot\t-\n"
		"rpool/data/subvol-100-disk-0@s1\texec\ton\tdefault\n";
	struct strbuf tree = STRBUF_INIT, st = STRBUF_INIT;

	(void)state;
	assert_int_equal(zfs_parse_received(text, "rpool/data/subvol-100-disk-0", &tree, &st), 0);
	assert_string_equal(tree.buf, "rpool/data/subvol-100-disk-0\tfilesystem\n"
				      "rpool/data/subvol-100-disk-0/c\tfilesystem\n"
				      "rpool/data/subvol-100-disk-0@s1\tsnapshot\n");
	assert_string_equal(st.buf, "exec\toff\treceived\nmounted\tno\t-\n");
	assert_int_equal(zfs_parse_received("x\ttype\tfilesystem\n", "x", &tree, &st), -EINVAL);
	strbuf_release(&tree);
	strbuf_release(&st);
}

/* A fake zfs-fuse for prepare: `get` answers the one call for the
 * volume's state (with $d/recvd a value the stream set; with $d/noprop
 * as a zfs without one of the properties), `list` nothing. */
static void make_fake_state(void)
{
	struct strbuf sb = STRBUF_INIT;
	char cwd[512];
	FILE *f;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	strbuf_addf(&sb, "%s/zfs", fakedir);
	f = fopen(sb.buf, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\nd=%s\necho \"$*\" >>$d/log\n"
		   "ds=rpool/data/subvol-100-disk-0\n"
		   "case \"$1 $5\" in\n"
		   "help*) cat %s/tests/data/zfs-fuse-help.txt; exit 2;;\n"
		   "'get -o') cat $d/props;;\n"
		   "'get name,property,value,source')\n"
		   "  [ ! -e $d/noprop ] || { echo \"bad property list: invalid property 'zoned'\" >&2; exit 2; }\n"
		   "  printf '%%s\\tguid\\t1\\t-\\n%%s\\texec\\ton\\tdefault\\n' $ds $ds\n"
		   "  [ ! -e $d/recvd ] || printf '%%s\\tsetuid\\toff\\treceived\\n' $ds\n"
		   "  printf '%%s@s1\\tguid\\t2\\t-\\n%%s@s1\\tcreation\\t5\\t-\\n' $ds $ds;;\n"
		   "get*) printf '%%s@s1\\tguid\\t2\\n%%s@s1\\tcreation\\t5\\n' $ds $ds;;\n"
		   "esac\nexit 0\n",
		fakedir, cwd);
	fclose(f);
	chmod(sb.buf, 0755);
	strbuf_release(&sb);
}

/* clean_stale with a snapshot list asked for: one zfs call gives both
 * (prepare's common case), the reset only where the stream set a value,
 * and a zfs without one of the properties falls back to a listing of its
 * own, as before */
static void test_clean_stale_lists(void **state)
{
	struct backend b = BACKEND_INIT;
	struct backend_storage st = { .type = BACKEND_ZFSPOOL, .pool = "rpool/data" };
	struct backend_snapshot_list l = BACKEND_SNAPSHOT_LIST_INIT;
	struct strbuf tool = STRBUF_INIT;
	char *log;
	int listed = -1;

	(void)state;
	strbuf_addf(&tool, "%s/zfs", fakedir);
	st.tool = tool.buf;
	make_fake_state();
	assert_int_equal(backend_open(&b, &st), 0);
	assert_int_equal(backend_clean_stale(&b, "subvol-100-disk-0", &l, &listed), 0);
	assert_int_equal(listed, 1);
	assert_int_equal(l.nr, 1);
	assert_string_equal(l.v[0].name, "s1");
	assert_string_equal(l.v[0].id, "2");
	backend_snapshot_list_clear(&l);
	log = fake_log();
	assert_string_equal(log, "help\n"
				 "get -Hp -r -o name,property,value,source guid,creation,sharenfs,sharesmb,exec,setuid,"
				 "devices,zoned,mountpoint,canmount -- rpool/data/subvol-100-disk-0\n");
	free(log);

	/* a value the stream set: reset (the snapshots listed all the same) */
	fake_file("log", NULL);
	fake_file("recvd", "");
	assert_int_equal(backend_clean_stale(&b, "subvol-100-disk-0", &l, &listed), 0);
	assert_int_equal(listed, 1);
	assert_int_equal(l.nr, 1);
	backend_snapshot_list_clear(&l);
	log = fake_log();
	assert_non_null(strstr(log, "inherit setuid rpool/data/subvol-100-disk-0\n"));
	free(log);
	fake_file("recvd", NULL);

	/* no such property here: not listed, the caller lists */
	fake_file("log", NULL);
	fake_file("noprop", "");
	assert_int_equal(backend_clean_stale(&b, "subvol-100-disk-0", &l, &listed), 0);
	assert_int_equal(listed, 0);
	assert_int_equal(l.nr, 0);
	assert_int_equal(backend_list_snapshots(&b, "subvol-100-disk-0", &l), 0);
	assert_int_equal(l.nr, 1);
	backend_snapshot_list_clear(&l);
	fake_file("noprop", NULL);

	/* the properties a package carries: local and received ones, sorted */
	{
		struct strbuf props = STRBUF_INIT;

		fake_file("log", NULL);
		fake_file("props", "refquota\t67108864\nacltype\tposixacl\n");
		assert_int_equal(backend_stream_props(&b, "subvol-100-disk-0", &props), 0);
		assert_string_equal(props.buf, "acltype\tposixacl\nrefquota\t67108864\n");
		log = fake_log();
		assert_string_equal(log, "get -Hp -s local,received -o property,value all -- rpool/data/subvol-100-disk-0\n");
		free(log);
		fake_file("props", NULL);
		assert_int_equal(backend_stream_props(&b, "subvol-100-disk-0;x", &props), -EINVAL);
		strbuf_release(&props);
	}
	/* in a session (backend/listmemo.h): prepare's listing is for the
	 * import's check, not for finalize; an import's is for finalize */
	fake_file("log", NULL);
	assert_int_equal(listmemo_share(), 0);
	assert_int_equal(backend_clean_stale(&b, "subvol-100-disk-0", &l, &listed), 0);
	assert_int_equal(listed, 1);
	assert_int_equal(backend_memo_get(&b, "subvol-100-disk-0", LISTMEMO_PREPARE, &l), 1);
	backend_snapshot_list_clear(&l);
	assert_int_equal(backend_list_snapshots_after_import(&b, "subvol-100-disk-0", &l), 0);
	backend_snapshot_list_clear(&l);
	log = fake_log();
	assert_non_null(strstr(log, "get -Hp -r -o name,property,value guid,creation -- rpool/data/subvol-100-disk-0\n"));
	free(log);
	backend_snapshot_list_add(&l, "s7", "7", 7);
	backend_memo_put(&b, "subvol-100-disk-0", LISTMEMO_IMPORT, &l);
	backend_snapshot_list_clear(&l);
	fake_file("log", NULL);
	assert_int_equal(backend_list_snapshots_after_import(&b, "subvol-100-disk-0", &l), 0);
	assert_int_equal(l.nr, 1);
	assert_string_equal(l.v[0].name, "s7");
	backend_snapshot_list_clear(&l);
	log = fake_log();
	assert_string_equal(log, "");
	free(log);
	/* a change drops it */
	assert_int_equal(backend_delete_snapshot(&b, "subvol-100-disk-0", "s1"), 0);
	assert_int_equal(backend_memo_get(&b, "subvol-100-disk-0", LISTMEMO_IMPORT, &l), 0);
	listmemo_drop("zfspool\trpool/data\tsubvol-100-disk-0");
	fake_file("log", NULL);
	backend_close(&b);
	strbuf_release(&tool);
}

/* Raw sends of encrypted volumes: asked only where zfs has send -w,
 * refused with one line where a side cannot do them. */
static void test_raw_with_fake_tool(void **state)
{
	struct backend b = BACKEND_INIT;
	struct backend_storage st = { .type = BACKEND_ZFSPOOL, .pool = "rpool/data" };
	struct strbuf tool = STRBUF_INIT;
	struct strvec argv = STRVEC_INIT;
	char *log;
	int fd;

	(void)state;
	strbuf_addf(&tool, "%s/zfs", fakedir);
	st.tool = tool.buf;
	fd = open("/dev/null", O_RDONLY);
	assert_true(fd >= 0);

	/* zfs-fuse: no encryption, nothing asked; raw either way refused */
	make_fake_resume("zfs-fuse-help.txt");
	assert_int_equal(backend_open(&b, &st), 0);
	assert_int_equal(backend_encrypted(&b, "vm-100-disk-0"), 0);
	assert_int_equal(backend_export_argv(&b, "vm-100-disk-0", "s2", "s1", BACKEND_EXPORT_RAW, &argv), -ENOTSUP);
	assert_string_equal(backend_errmsg(&b), "zfs here has no raw sends (send -w)");
	assert_int_equal(backend_import_flags(&b, "vm-100-disk-0", "s2", "s1", BACKEND_IMPORT_RAW, fd), -ENOTSUP);
	assert_string_equal(backend_errmsg(&b),
			    "cannot receive a raw (encrypted) stream: zfs here has no encryption support");
	log = fake_log();
	assert_string_equal(log, "help\n");
	free(log);
	backend_close(&b);

	/* OpenZFS: the encryption property decides */
	make_fake_resume("openzfs-help.txt");
	assert_int_equal(backend_open(&b, &st), 0);
	assert_int_equal(backend_encrypted(&b, "vm-100-disk-0"), 0);
	fake_file("enc", "aes-256-gcm\n");
	assert_int_equal(backend_encrypted(&b, "vm-100-disk-0"), 1);
	log = fake_log();
	assert_non_null(strstr(log, "get -H -o value encryption -- rpool/data/vm-100-disk-0\n"));
	free(log);
	assert_int_equal(backend_export_argv(&b, "vm-100-disk-0", "s2", "s1", BACKEND_EXPORT_RAW, &argv), 0);
	{
		struct strbuf want = STRBUF_INIT;

		strbuf_addf(&want, "%s send -Rp -w -I rpool/data/vm-100-disk-0@s1 -- rpool/data/vm-100-disk-0@s2",
			    tool.buf);
		ASSERT_ARGV(&argv, want.buf);
		strbuf_release(&want);
	}
	backend_close(&b);

	/* a raw file system is received but not mounted (no key here) */
	make_fake_pool("openzfs-help.txt");
	assert_int_equal(backend_open(&b, &st), 0);
	assert_int_equal(backend_import_flags(&b, "subvol-100-disk-0", "s1", NULL, BACKEND_IMPORT_RAW, fd), 0);
	log = fake_log();
	assert_non_null(strstr(log, "-x mountpoint -- rpool/data/subvol-100-disk-0\n"));
	assert_null(strstr(log, "-x encryption"));
	assert_non_null(strstr(log, "inherit mountpoint rpool/data/subvol-100-disk-0\n"));
	assert_null(strstr(log, "mount rpool/data/subvol-100-disk-0"));
	assert_null(strstr(log, "mounted,mountpoint"));
	free(log);
	backend_close(&b);
	fake_reset();
	close(fd);
	strbuf_release(&tool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_get_zfs_fuse),
		cmocka_unit_test(test_parse_list_openzfs),
		cmocka_unit_test(test_parse_hostile),
		cmocka_unit_test(test_parse_volumes),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_send_estimate),
		cmocka_unit_test(test_usage_probe),
		cmocka_unit_test(test_argv),
		cmocka_unit_test(test_volnames),
		cmocka_unit_test(test_parse_secure_state),
		cmocka_unit_test(test_parse_volume_state),
		cmocka_unit_test(test_parse_received),
		cmocka_unit_test_setup_teardown(test_api_with_fake_tool, setup_fake, teardown_fake),
		cmocka_unit_test_setup_teardown(test_import_with_fake_tool, setup_fake, teardown_fake),
		cmocka_unit_test(test_resume_token_parse),
		cmocka_unit_test_setup_teardown(test_resume_with_fake_tool, setup_fake, teardown_fake),
		cmocka_unit_test_setup_teardown(test_raw_with_fake_tool, setup_fake, teardown_fake),
		/* last: it turns the session's listing memo on for the process */
		cmocka_unit_test_setup_teardown(test_clean_stale_lists, setup_fake, teardown_fake),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
