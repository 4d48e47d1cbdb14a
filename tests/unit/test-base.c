/* Unit tests of the base layer: strbuf, strvec, number parsing, name
 * validation, atomic writes and locks, special files, sanitizing, time
 * formats and clocks. (The spawn helpers of src/exec are in test-exec.c.) */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/exit-code.h"
#include "base/fileio.h"
#include "base/parse-util.h"
#include "base/sanitize.h"
#include "base/strbuf.h"
#include "base/time-util.h"
#include "base/strvec.h"
#include "base/validate.h"
#include "engine/joblog.h"
#include "exec/spawn.h"

static void test_strbuf(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	assert_non_null(sb.buf);
	assert_string_equal(sb.buf, "");
	strbuf_addstr(&sb, "abc");
	strbuf_addch(&sb, '-');
	strbuf_addf(&sb, "%d/%s", 42, "x");
	assert_string_equal(sb.buf, "abc-42/x");
	assert_int_equal(sb.len, 8);
	for (int i = 0; i < 1000; i++)
		strbuf_addf(&sb, "%04d", i);
	assert_int_equal(sb.len, 8 + 4000);
	assert_memory_equal(sb.buf + sb.len - 4, "0999", 4);
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "x \t\n");
	strbuf_rtrim(&sb);
	assert_string_equal(sb.buf, "x");
	char *d = strbuf_detach(&sb, NULL);
	assert_string_equal(d, "x");
	assert_string_equal(sb.buf, "");
	free(d);
	strbuf_release(&sb);
}

static void test_strvec(void **state)
{
	struct strvec sv = STRVEC_INIT;

	(void)state;
	assert_null(sv.v[0]);
	strvec_push(&sv, "b");
	strvec_pushf(&sv, "%s", "a");
	strvec_push(&sv, "b");
	assert_int_equal(sv.nr, 3);
	assert_null(sv.v[3]);
	strvec_sort_uniq(&sv);
	assert_int_equal(sv.nr, 2);
	assert_string_equal(sv.v[0], "a");
	assert_string_equal(sv.v[1], "b");
	assert_int_equal(strvec_find(&sv, "b"), 1);
	assert_int_equal(strvec_find(&sv, "c"), -1);
	strvec_clear(&sv);
	strvec_split(&sv, ",x,,y,", ',');
	assert_int_equal(sv.nr, 2);
	assert_string_equal(sv.v[1], "y");
	strvec_clear(&sv);
}

static void test_parse_numbers(void **state)
{
	uint64_t u = 7;
	int64_t i = 7;
	double d = 0;

	(void)state;
	assert_int_equal(parse_u64("123", &u), 0);
	assert_int_equal(u, 123);
	assert_int_equal(parse_u64("-1", &u), -EINVAL);
	assert_int_equal(parse_u64(" 1", &u), -EINVAL);
	assert_int_equal(parse_u64("1x", &u), -EINVAL);
	assert_int_equal(parse_u64("", &u), -EINVAL);
	assert_int_equal(parse_u64("99999999999999999999", &u), -ERANGE);
	assert_int_equal(u, 123); /* untouched on failure */
	assert_int_equal(parse_i64("-5", &i), 0);
	assert_int_equal(i, -5);
	assert_int_equal(parse_uint_range("5", 1, 4, &u), -ERANGE);
	assert_int_equal(parse_double("2.5", &d), 0);
	assert_true(d == 2.5);
	assert_int_equal(parse_double("nan", &d), -EINVAL);
	assert_int_equal(parse_double("inf", &d), -EINVAL);
	assert_int_equal(parse_double("0x10", &d), -EINVAL);
	assert_int_equal(parse_double("1e999", &d), -ERANGE);
}

/* next_text_line: lines without their '\n', an empty one kept, the last one
 * without a '\n' too, then NULL; never past len */
static void test_next_text_line(void **state)
{
	const char text[] = "ab\n\nc\nd";
	size_t pos = 0, llen = 99;
	const char *l;

	(void)state;
	l = next_text_line(text, strlen(text), &pos, &llen);
	assert_ptr_equal(l, text);
	assert_int_equal(llen, 2);
	l = next_text_line(text, strlen(text), &pos, &llen);
	assert_ptr_equal(l, text + 3);
	assert_int_equal(llen, 0);
	l = next_text_line(text, strlen(text), &pos, &llen);
	assert_ptr_equal(l, text + 4);
	assert_int_equal(llen, 1);
	l = next_text_line(text, strlen(text), &pos, &llen);
	assert_ptr_equal(l, text + 6);
	assert_int_equal(llen, 1);
	assert_int_equal(pos, strlen(text));
	assert_null(next_text_line(text, strlen(text), &pos, &llen));
	pos = 0;
	assert_null(next_text_line(text, 0, &pos, &llen));
	pos = 0; /* a length that ends inside a line: the line stops there */
	l = next_text_line(text, 1, &pos, &llen);
	assert_int_equal(llen, 1);
	assert_int_equal(pos, 1);
}

static void test_validate(void **state)
{
	uint32_t g, j;

	(void)state;
	assert_true(valid_node_name("pve1"));
	assert_true(valid_node_name("a"));
	assert_true(valid_node_name("node-2"));
	assert_false(valid_node_name("-x"));
	assert_false(valid_node_name("x-"));
	assert_false(valid_node_name("a;b"));
	assert_false(valid_node_name("a.b"));
	assert_false(valid_node_name(""));
	assert_true(valid_job_id("100-0", &g, &j));
	assert_int_equal(g, 100);
	assert_int_equal(j, 0);
	assert_false(valid_job_id("99-0", NULL, NULL));
	assert_false(valid_job_id("0100-1", NULL, NULL));
	assert_false(valid_job_id("100-", NULL, NULL));
	assert_false(valid_job_id("100-1-2", NULL, NULL));
	assert_false(valid_job_id("1000000000-1", NULL, NULL));
	assert_true(valid_vmid("999999999"));
	assert_false(valid_vmid("99"));
	assert_true(valid_storage_id("local-zfs"));
	assert_false(valid_storage_id("Local"));
	assert_true(valid_dataset("rpool/data/subvol-200-disk-0"));
	assert_false(valid_dataset("rpool/../x"));
	assert_false(valid_dataset("-rpool"));
	assert_false(valid_dataset("rpool//x"));
	assert_false(valid_dataset("rpool/x;rm"));
	assert_false(valid_dataset("rpool/$(x)"));
	assert_true(valid_snapshot_name("__replicate_100-0_1714564800__"));
	assert_false(valid_snapshot_name("a b"));
	assert_false(valid_snapshot_name("-a"));
	assert_true(valid_volname("100/vm-100-disk-0.raw"));
	assert_false(valid_volname("../etc"));
	assert_true(valid_abs_path("/mnt/btrfs"));
	assert_false(valid_abs_path("/mnt/../etc"));
	assert_false(valid_abs_path("mnt"));
	assert_false(valid_abs_path("/mnt/a b"));
}

/* A job's log paths, run k's and the current one's, whatever the
 * length of the log directory (a strbuf, no PATH_MAX cut), and the
 * rotation that shifts them. */
static void test_joblog_paths(void **state)
{
	char dir[] = "/tmp/volrep-unit-joblog.XXXXXX";
	struct strbuf p = STRBUF_INIT, sb = STRBUF_INIT, longdir = STRBUF_INIT;

	(void)state;
	joblog_run_path(&p, "/var/log/volrep", "100-0", 0);
	assert_string_equal(p.buf, "/var/log/volrep/100-0");
	strbuf_addch(&p, ' ');
	joblog_run_path(&p, "/var/log/volrep", "100-0", 12);
	assert_string_equal(p.buf, "/var/log/volrep/100-0 /var/log/volrep/100-0.12");
	for (int i = 0; i < 600; i++)
		strbuf_addstr(&longdir, "/abcdefgh");
	strbuf_reset(&p);
	joblog_run_path(&p, longdir.buf, "100-0", 3);
	assert_int_equal(p.len, longdir.len + strlen("/100-0.3"));

	/* keep 2: the current log becomes .1, .1 becomes .2, .3 goes */
	assert_non_null(mkdtemp(dir));
	for (unsigned k = 0; k <= 3; k++) {
		strbuf_reset(&p);
		joblog_run_path(&p, dir, "100-0", k);
		strbuf_reset(&sb);
		strbuf_addf(&sb, "run %u\n", k);
		assert_int_equal(write_file_atomic(p.buf, sb.buf, sb.len, 0644), 0);
	}
	joblog_rotate(dir, "100-0", 2);
	for (unsigned k = 0; k <= 3; k++) {
		strbuf_reset(&p);
		joblog_run_path(&p, dir, "100-0", k);
		strbuf_reset(&sb);
		if (k == 0 || k == 3) {
			assert_int_equal(strbuf_read_file(&sb, p.buf, 1024), -ENOENT);
			continue;
		}
		assert_int_equal(strbuf_read_file(&sb, p.buf, 1024), 0);
		assert_string_equal(sb.buf, k == 1 ? "run 0\n" : "run 1\n");
		assert_int_equal(unlink(p.buf), 0);
	}
	assert_int_equal(rmdir(dir), 0);
	strbuf_release(&p);
	strbuf_release(&sb);
	strbuf_release(&longdir);
}

/* Symlinks and special files where volrep keeps files: never followed,
 * never blocked on; directories others can write to are refused. */
static void test_special_files(void **state)
{
	char dir[] = "/tmp/volrep-unit-special.XXXXXX";
	struct strbuf p = STRBUF_INIT, q = STRBUF_INIT, sb = STRBUF_INIT, err = STRBUF_INIT;
	struct lock lk = LOCK_INIT;
	struct joblog jl;

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* a FIFO: read, lock, log - all refused at once */
	strbuf_addf(&p, "%s/fifo", dir);
	assert_int_equal(mkfifo(p.buf, 0600), 0);
	assert_int_equal(strbuf_read_file(&sb, p.buf, 1024), -VOLREP_ENOTREG);
	assert_int_equal(lock_acquire(&lk, p.buf, 0), -VOLREP_ENOTREG);
	assert_int_equal(open_regular(p.buf, O_WRONLY, 0, 0), -VOLREP_ENOTREG);
	assert_string_equal(file_strerror(-VOLREP_ENOTREG), "not a regular file");
	assert_string_equal(file_strerror(VOLREP_ENOTREG), "not a regular file");
	assert_string_equal(file_strerror(-ELOOP), "is a symbolic link");
	assert_string_equal(file_strerror(-ENOENT), strerror(ENOENT));
	/* a directory is not a file to read */
	assert_int_equal(strbuf_read_file(&sb, dir, 1024), -VOLREP_ENOTREG);
	/* a symlink as a lock: not followed, its target not created */
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/lock", dir);
	strbuf_addf(&q, "%s/target", dir);
	assert_int_equal(symlink(q.buf, p.buf), 0);
	assert_int_equal(lock_acquire(&lk, p.buf, 0), -ELOOP);
	assert_int_equal(access(q.buf, F_OK), -1);
	/* a symlink as a job log: its target is not truncated */
	assert_int_equal(write_file_atomic(q.buf, "precious", 8, 0644), 0);
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/log", dir);
	assert_int_equal(mkdir(p.buf, 0755), 0);
	strbuf_addstr(&p, "/100-0");
	assert_int_equal(symlink(q.buf, p.buf), 0);
	strbuf_setlen(&p, p.len - strlen("/100-0"));
	assert_int_equal(joblog_open(&jl, p.buf, "100-0", NULL), -ELOOP);
	assert_int_equal(strbuf_read_file(&sb, q.buf, 1024), 0);
	assert_string_equal(sb.buf, "precious");
	/* a regular log file is truncated and written */
	strbuf_addstr(&p, "/100-0");
	assert_int_equal(unlink(p.buf), 0);
	assert_int_equal(write_file_atomic(p.buf, "old run\n", 8, 0644), 0);
	strbuf_setlen(&p, p.len - strlen("/100-0"));
	assert_int_equal(joblog_open(&jl, p.buf, "100-0", NULL), 0);
	joblog_printf(&jl, "new");
	joblog_close(&jl);
	strbuf_addstr(&p, "/100-0");
	strbuf_reset(&sb);
	assert_int_equal(strbuf_read_file(&sb, p.buf, 1024), 0);
	assert_null(strstr(sb.buf, "old run"));
	assert_non_null(strstr(sb.buf, " 100-0: new\n"));
	/* private directories */
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(check_private_dir(dir, "state directory", &err), 0);
	assert_string_equal(err.buf, "");
	assert_int_equal(chmod(dir, 01777), 0);
	assert_int_equal(check_private_dir(dir, "state directory", &err), -EPERM);
	assert_non_null(strstr(err.buf, "is writable by group or others (mode 1777)"));
	strbuf_reset(&err);
	assert_int_equal(chmod(dir, 0775), 0);
	assert_int_equal(check_private_dir(dir, "log directory", &err), -EPERM);
	assert_non_null(strstr(err.buf, "log directory '"));
	strbuf_reset(&err);
	assert_int_equal(chmod(dir, 0700), 0);
	assert_int_equal(check_private_dir(q.buf, "state directory", &err), -ENOTDIR);
	strbuf_reset(&err);
	assert_int_equal(check_private_dir("/nonexistent-volrep-dir", "state directory", &err), -ENOENT);
	strbuf_reset(&err);
	if (geteuid() == 0) {
		assert_int_equal(chown(dir, 12345, 0), 0);
		assert_int_equal(check_private_dir(dir, "state directory", &err), -EPERM);
		assert_non_null(strstr(err.buf, "owned by uid 12345"));
		assert_int_equal(chown(dir, 0, 0), 0);
	}
	assert_int_equal(run_capture((const char *const[]){ "rm", "-rf", dir, NULL }, NULL, 0, NULL, NULL, 1024), 0);
	strbuf_release(&p);
	strbuf_release(&q);
	strbuf_release(&sb);
	strbuf_release(&err);
}

/* What may reach a log, a warning or status from remote or file text. */
static void test_sanitize(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "plain text\twith tab", "plain text\twith tab" },
		{ "esc\x1b[2J bell\a cr\r del\x7f nl\n", "esc?[2J bell? cr? del? nl?" },
		{ "raw csi \x9b" "31m", "raw csi ?31m" },              /* a lone C1 byte: invalid UTF-8 */
		{ "utf8 c1 \xc2\x9b" "31m \xc2\x85", "utf8 c1 ?31m ?" }, /* U+009B, U+0085 */
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
		{ "nbsp \xc2\xa0 kept", "nbsp \xc2\xa0 kept" },       /* U+00A0: after the C1 range */
		{ "overlong \xc0\xaf \xe0\x80\xaf", "overlong ?? ???" },
		{ "surrogate \xed\xa0\x80", "surrogate ???" },
		{ "too big \xf4\x90\x80\x80 \xf5", "too big ???? ?" },
		{ "cut \xe2\x82", "cut ??" },
		{ "stray \x80\xbf", "stray ??" },
		{ "bidi \xe2\x80\xae" "evil \xe2\x81\xa6", "bidi ?evil ?" },
		{ "", "" },
	};
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strbuf_reset(&sb);
		strbuf_add_sanitized(&sb, cases[i].in, strlen(cases[i].in), 0);
		if (strcmp(sb.buf, cases[i].out))
			fail_msg("case %zu: got '%s', want '%s'", i, sb.buf, cases[i].out);
	}
	/* NUL bytes inside the length, newline kept on request */
	strbuf_reset(&sb);
	strbuf_add_sanitized(&sb, "a\0b\nc", 5, SANITIZE_KEEP_NEWLINE);
	assert_string_equal(sb.buf, "a?b\nc");
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "x\x9by");
	strbuf_sanitize(&sb, 0);
	assert_string_equal(sb.buf, "x?y");
	strbuf_release(&sb);
}

static void test_atomic_write_and_lock(void **state)
{
	char dir[] = "/tmp/volrep-unit.XXXXXX";
	struct strbuf path = STRBUF_INIT, sb = STRBUF_INIT;
	struct lock a = LOCK_INIT, b = LOCK_INIT;

	(void)state;
	assert_non_null(mkdtemp(dir));
	strbuf_addf(&path, "%s/sub/dir/file", dir);
	assert_int_equal(mkdir_p(path.buf, 0755), 0); /* creates file as dir... */
	rmdir(path.buf);
	assert_int_equal(write_file_atomic(path.buf, "one", 3, 0644), 0);
	assert_int_equal(write_file_atomic(path.buf, "two!", 4, 0600), 0);
	assert_int_equal(strbuf_read_file(&sb, path.buf, 100), 0);
	assert_string_equal(sb.buf, "two!");
	struct stat st;
	assert_int_equal(stat(path.buf, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	strbuf_reset(&sb);
	assert_int_equal(strbuf_read_file(&sb, path.buf, 2), -EFBIG);

	strbuf_addstr(&path, ".lck");
	assert_int_equal(lock_acquire(&a, path.buf, 0), 0);
	/* flock locks are per open file description: a second open conflicts */
	assert_int_equal(lock_acquire(&b, path.buf, 50), -ETIMEDOUT);
	lock_release(&a);
	assert_int_equal(lock_acquire(&b, path.buf, 0), 0);
	lock_release(&b);

	struct strvec rm = STRVEC_INIT;
	strvec_pushv(&rm, (const char *const[]){ "rm", "-rf", dir, NULL });
	assert_int_equal(run_capture((const char *const *)rm.v, NULL, 0, NULL, NULL, 1024), 0);
	strvec_clear(&rm);
	strbuf_release(&path);
	strbuf_release(&sb);
}

static void test_time_formats(void **state)
{
	static const struct {
		double secs;
		const char *want;
	} d[] = {
		{ 0, "0.0s" }, { 0.44, "0.4s" }, { 3.521842, "3.5s" }, { 59.94, "59.9s" }, { 59.96, "1m" },
		{ 64.4, "1m4s" }, { 3725, "1h2m" }, { 90061, "1d1h" }, { -3, "0.0s" },
	};
	struct strbuf sb = STRBUF_INIT;
	char buf[40];

	(void)state;
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		strbuf_reset(&sb);
		format_duration(d[i].secs, &sb);
		assert_string_equal(sb.buf, d[i].want);
	}
	strbuf_release(&sb);
	setenv("TZ", "Europe/Vienna", 1);
	tzset();
	assert_string_equal(format_time(buf, sizeof(buf), 1714564800), "2024-05-01 14:00:00");
	assert_string_equal(format_iso8601(buf, sizeof(buf), 1714564800), "2024-05-01T14:00:00+02:00");
	assert_string_equal(format_iso8601(buf, sizeof(buf), 1704067200), "2024-01-01T01:00:00+01:00");
	setenv("TZ", "UTC", 1);
	tzset();
	assert_string_equal(format_iso8601(buf, sizeof(buf), 1714564800), "2024-05-01T12:00:00+00:00");
	/* years of four digits; too small a buffer: nothing, never half */
	assert_string_equal(format_iso8601(buf, sizeof(buf), -61517750400LL), "0020-07-31T00:00:00+00:00");
	assert_string_equal(format_iso8601(buf, 25, 1714564800), "");
	unsetenv("TZ");
	tzset();
}

/* The clocks: deadlines on the monotonic one, the wall one in agreement
 * with time(), absolute instants for pthread_cond_timedwait. */
static void test_clocks(void **state)
{
	int64_t d = mono_deadline(60000), left = mono_left_ms(d);
	int64_t ms = wall_ms(), secs = wall_secs();
	struct timespec at = wall_deadline(1500);

	(void)state;
	assert_true(left > 59000 && left <= 60000);
	assert_true(mono_left_ms(mono_deadline(0)) <= 0);
	assert_true(mono_left_ms(mono_deadline(-5)) < 0);
	assert_true(mono_left_ms(mono_ms() - 1000) <= -1000);
	assert_true(secs >= ms / 1000 && secs - ms / 1000 <= 1);
	assert_true(llabs(secs - (int64_t)time(NULL)) <= 1);
	assert_true(at.tv_nsec >= 0 && at.tv_nsec < 1000000000L);
	int64_t at_ms = (int64_t)at.tv_sec * 1000 + at.tv_nsec / 1000000;
	assert_true(at_ms - ms >= 1500 && at_ms - ms < 2500);
	/* VOLREP_NOW moves volrep_now only, never the clocks other nodes read */
	setenv("VOLREP_NOW", "1000", 1);
	assert_int_equal(volrep_now(), 1000);
	assert_true(wall_secs() > 1000);
	unsetenv("VOLREP_NOW");
}

/* One mapping: the caller names the kinds of error that are bad input. */
static void test_exit_code(void **state)
{
	(void)state;
	assert_int_equal(exit_code_of(0, 0), 0);
	assert_int_equal(exit_code_of(1, ERRK_OPS), 0);
	assert_int_equal(exit_code_of(-EINVAL, ERRK_INVALID), EXIT_USAGE);
	assert_int_equal(exit_code_of(-EINVAL, ERRK_MISSING), EXIT_FAILED);
	assert_int_equal(exit_code_of(-ENOENT, ERRK_OPS), EXIT_USAGE);
	assert_int_equal(exit_code_of(-ESTALE, ERRK_OPS), EXIT_USAGE);
	assert_int_equal(exit_code_of(-EEXIST, ERRK_INVALID), EXIT_FAILED);
	assert_int_equal(exit_code_of(-ENOTSUP, ERRK_OPS), EXIT_FAILED);
	assert_int_equal(exit_code_of(-ENOTSUP, ERRK_UNSUPPORTED), EXIT_USAGE);
	assert_int_equal(exit_code_of(-EIO, ERRK_OPS), EXIT_FAILED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strbuf),
		cmocka_unit_test(test_strvec),
		cmocka_unit_test(test_parse_numbers),
		cmocka_unit_test(test_next_text_line),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_atomic_write_and_lock),
		cmocka_unit_test(test_joblog_paths),
		cmocka_unit_test(test_special_files),
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_time_formats),
		cmocka_unit_test(test_clocks),
		cmocka_unit_test(test_exit_code),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
