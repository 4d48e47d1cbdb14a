/* Unit tests of the node-local job state (src/state/state.c). */
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/strbuf.h"
#include "base/strvec.h"
#include "state/state.h"

/* ---- helpers ----------------------------------------------------------- */

struct fixture {
	char dir[64];
	char file[128];
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	snprintf(fx->dir, sizeof(fx->dir), "/tmp/volrep-test-state.XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	snprintf(fx->file, sizeof(fx->file), "%s/%s", fx->dir, STATE_FILE_NAME);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	DIR *d = opendir(fx->dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		struct strbuf p = STRBUF_INIT;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		strbuf_addf(&p, "%s/%s", fx->dir, de->d_name);
		unlink(p.buf);
		strbuf_release(&p);
	}
	if (d)
		closedir(d);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static void put_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static char *get_file(const char *path)
{
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(strbuf_read_file(&sb, path, 4 << 20), 0);
	return strbuf_detach(&sb, NULL);
}

/* Names in dir other than the state file and its lock. */
static int stray_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    strcmp(de->d_name, STATE_FILE_NAME) && strcmp(de->d_name, STATE_LOCK_NAME))
			n++;
	closedir(d);
	return n;
}

static struct state *open_locked(const char *dir)
{
	struct strbuf err = STRBUF_INIT;
	struct state *st = NULL;
	int r = state_open_locked(dir, 1000, &st, &err);

	if (r < 0)
		fail_msg("state_open_locked: %d %s", r, err.buf);
	strbuf_release(&err);
	return st;
}

static void commit(struct state *st)
{
	struct strbuf err = STRBUF_INIT;
	int r = state_commit(st, &err);

	if (r < 0)
		fail_msg("state_commit: %d %s", r, err.buf);
	strbuf_release(&err);
}

static struct state *load(const char *dir)
{
	struct strbuf err = STRBUF_INIT;
	struct state *st = NULL;
	int r = state_load(dir, &st, &err);

	if (r < 0)
		fail_msg("state_load: %d %s", r, err.buf);
	strbuf_release(&err);
	return st;
}

static struct state *parse(const char *json)
{
	struct strbuf err = STRBUF_INIT;
	struct state *st = NULL;
	int r = state_parse(json, strlen(json), "test", &st, &err);

	if (r < 0)
		fail_msg("state_parse: %d %s", r, err.buf);
	strbuf_release(&err);
	return st;
}

static void assert_format(const struct state *st, const char *expected)
{
	char *s = state_format(st);

	assert_string_equal(s, expected);
	free(s);
}

/* ---- tests ------------------------------------------------------------- */

static void test_missing_and_empty(void **state)
{
	struct fixture *fx = *state;
	struct job_state js = JOB_STATE_INIT;
	struct strbuf sub = STRBUF_INIT;
	struct state *st;

	/* missing directory and missing file: empty state, defaults */
	strbuf_addf(&sub, "%s/not/there", fx->dir);
	st = load(sub.buf);
	assert_format(st, "{}");
	assert_int_equal(state_get_job(st, 100, "pve2", &js), 0);
	assert_int_equal(js.last_sync, 0);
	assert_int_equal(js.last_try, 0);
	assert_int_equal(js.last_iteration, 0);
	assert_int_equal(js.fail_count, 0);
	assert_false(js.has_duration);
	assert_null(js.error);
	assert_null(js.last_node);
	assert_int_equal(js.storeid_list.nr, 0);
	assert_int_equal(js.pid, 0);
	job_state_release(&js);
	state_free(st);

	/* an empty file is an empty state */
	put_file(fx->file, "", 0);
	st = load(fx->dir);
	assert_format(st, "{}");
	state_free(st);

	/* open_locked creates the directory; commit writes the file */
	st = open_locked(sub.buf);
	commit(st);
	state_free(st);
	strbuf_addstr(&sub, "/" STATE_FILE_NAME);
	char *c = get_file(sub.buf);
	assert_string_equal(c, "{}\n");
	free(c);
	unlink(sub.buf);
	strbuf_setlen(&sub, sub.len - strlen("/" STATE_FILE_NAME));
	strbuf_addstr(&sub, "/" STATE_LOCK_NAME);
	unlink(sub.buf);
	strbuf_setlen(&sub, sub.len - strlen("/" STATE_LOCK_NAME));
	rmdir(sub.buf);
	strbuf_setlen(&sub, sub.len - strlen("/there"));
	rmdir(sub.buf);
	strbuf_release(&sub);
}

/* A file as pvesr writes it (ptime a string, as its Perl does), plus an
 * unknown field, reads with the right values and is written back with the
 * unknown field kept and ptime as an integer. */
static void test_pvesr_file_round_trip(void **state)
{
	struct fixture *fx = *state;
	static const char pvesr[] =
		"{\"100\":{\"local/pve2\":{\"last_iteration\":1714564800,\"last_try\":1714564800,"
		"\"last_sync\":1714564700,\"fail_count\":2,\"last_node\":\"pve1\","
		"\"storeid_list\":[\"local-zfs\",\"tank\"],\"duration\":3.521842,"
		"\"error\":\"boom\",\"pid\":4242,\"ptime\":\"987654\",\"future\":{\"x\":[1,2]}}},"
		"\"200\":{\"local/pve3\":{\"last_sync\":null}}}";
	struct job_state js = JOB_STATE_INIT;
	struct state *st;

	put_file(fx->file, pvesr, strlen(pvesr));
	st = open_locked(fx->dir);
	assert_int_equal(state_get_job(st, 100, "pve2", &js), 1);
	assert_int_equal(js.last_iteration, 1714564800);
	assert_int_equal(js.last_try, 1714564800);
	assert_int_equal(js.last_sync, 1714564700);
	assert_int_equal(js.fail_count, 2);
	assert_string_equal(js.last_node, "pve1");
	assert_int_equal(js.storeid_list.nr, 2);
	assert_string_equal(js.storeid_list.v[0], "local-zfs");
	assert_string_equal(js.storeid_list.v[1], "tank");
	assert_true(js.has_duration);
	assert_true(js.duration == 3.521842);
	assert_string_equal(js.error, "boom");
	assert_int_equal(js.pid, 4242);
	assert_int_equal(js.ptime, 987654);
	job_state_release(&js);
	assert_int_equal(state_get_job(st, 200, "pve3", &js), 1);
	assert_int_equal(js.last_sync, 0); /* null reads as absent */
	job_state_release(&js);
	assert_int_equal(state_get_job(st, 100, "pve3", &js), 0);
	job_state_release(&js);
	commit(st);
	state_free(st);

	char *c = get_file(fx->file);
	assert_string_equal(c,
		"{\"100\":{\"local/pve2\":{\"duration\":3.521842,\"error\":\"boom\",\"fail_count\":2,"
		"\"future\":{\"x\":[1,2]},\"last_iteration\":1714564800,\"last_node\":\"pve1\","
		"\"last_sync\":1714564700,\"last_try\":1714564800,\"pid\":4242,\"ptime\":\"987654\","
		"\"storeid_list\":[\"local-zfs\",\"tank\"]}},\"200\":{\"local/pve3\":{\"last_sync\":null}}}\n");
	free(c);
	assert_int_equal(stray_files(fx->dir), 0);

	/* and the written file loads to the same text again */
	st = load(fx->dir);
	c = get_file(fx->file);
	char *f = state_format(st);
	c[strlen(c) - 1] = '\0';
	assert_string_equal(f, c);
	free(f);
	free(c);
	state_free(st);
}

static const struct bad_file {
	const char *data;
	int err;
	const char *msg; /* expected substring */
} bad_files[] = {
	{ "x", -EINVAL, "invalid json data in '" },
	{ "{", -EINVAL, "invalid json data in '" },
	{ "[]", -EINVAL, "not a JSON object" },
	{ "{} {}", -EINVAL, "invalid json data" },
	{ "{\"100\":{}}garbage", -EINVAL, "invalid json data" },
	{ "   ", -EINVAL, "invalid json data" },
	{ "{\"100\":1}", -EINVAL, "guest '100': value is not an object" },
	{ "{\"abc\":{}}", -EINVAL, "invalid guest id 'abc'" },
	{ "{\"99\":{}}", -EINVAL, "invalid guest id '99'" },
	{ "{\"0100\":{}}", -EINVAL, "invalid guest id '0100'" },
	{ "{\"100\":{\"pve2\":{}}}", -EINVAL, "invalid target 'pve2'" },
	{ "{\"100\":{\"local/-x\":{}}}", -EINVAL, "invalid target 'local/-x'" },
	{ "{\"100\":{\"local/a b\":{}}}", -EINVAL, "invalid target" },
	{ "{\"100\":{\"remote/pve2\":{}}}", -EINVAL, "invalid target" },
	{ "{\"100\":{\"local/pve2\":[]}}", -EINVAL, "job state is not an object" },
	{ "{\"100\":{\"local/pve2\":{\"fail_count\":\"x\"}}}", -EINVAL, "field 'fail_count'" },
	{ "{\"100\":{\"local/pve2\":{\"fail_count\":-1}}}", -EINVAL, "field 'fail_count'" },
	{ "{\"100\":{\"local/pve2\":{\"fail_count\":1.5}}}", -EINVAL, "field 'fail_count'" },
	{ "{\"100\":{\"local/pve2\":{\"last_sync\":true}}}", -EINVAL, "field 'last_sync'" },
	{ "{\"100\":{\"local/pve2\":{\"last_try\":99999999999999999}}}", -EINVAL, "field 'last_try'" },
	{ "{\"100\":{\"local/pve2\":{\"last_try\":999999999999999999999999}}}", -EINVAL, "invalid json" },
	{ "{\"100\":{\"local/pve2\":{\"duration\":\"3\"}}}", -EINVAL, "field 'duration'" },
	{ "{\"100\":{\"local/pve2\":{\"duration\":-1}}}", -EINVAL, "field 'duration'" },
	{ "{\"100\":{\"local/pve2\":{\"error\":5}}}", -EINVAL, "field 'error'" },
	{ "{\"100\":{\"local/pve2\":{\"last_node\":\"a;b\"}}}", -EINVAL, "field 'last_node'" },
	{ "{\"100\":{\"local/pve2\":{\"storeid_list\":\"local\"}}}", -EINVAL, "field 'storeid_list'" },
	{ "{\"100\":{\"local/pve2\":{\"storeid_list\":[\"../x\"]}}}", -EINVAL, "field 'storeid_list'" },
	{ "{\"100\":{\"local/pve2\":{\"storeid_list\":[1]}}}", -EINVAL, "field 'storeid_list'" },
	{ "{\"100\":{\"local/pve2\":{\"pid\":{}}}}", -EINVAL, "field 'pid'" },
	{ "{\"100\":{\"local/pve2\":{\"pid\":\"-5\"}}}", -EINVAL, "field 'pid'" },
	{ "{\"100\":{\"local/pve2\":{\"ptime\":\"12a\"}}}", -EINVAL, "field 'ptime'" },
	{ "{\"100\":{\"local/pve2\":{\"bytes\":-1}}}", -EINVAL, "field 'bytes'" },
	{ "{\"100\":{\"local/pve2\":{\"bytes\":1.5}}}", -EINVAL, "field 'bytes'" },
	{ "{\"100\":{},\"100\":{}}", -EINVAL, "duplicate" },
	{ "{\"100\":{\"local/pve2\":{\"error\":\"a\\u0000b\"}}}", -EINVAL, "invalid json" },
	{ "{\"100\":{\"local/pve2\":{\"error\":\"\xff\"}}}", -EINVAL, "invalid json" },
	{ "{\"\\u001b[31m\":{}}", -EINVAL, "invalid guest id '?[31m'" },
	{ "{\"\x1b\":{}}", -EINVAL, "invalid json data" },
};

static void test_bad_files(void **state)
{
	struct fixture *fx = *state;

	for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		const struct bad_file *b = &bad_files[i];
		struct strbuf err = STRBUF_INIT;
		struct state *st = NULL;
		int r;

		put_file(fx->file, b->data, strlen(b->data));
		r = state_load(fx->dir, &st, &err);
		if (r != b->err || !strstr(err.buf, b->msg) || !strstr(err.buf, fx->file) || st)
			fail_msg("case %zu '%s': r=%d err='%s'", i, b->data, r, err.buf);
		/* the writer path refuses too, and leaves the file alone */
		strbuf_reset(&err);
		r = state_open_locked(fx->dir, 1000, &st, &err);
		assert_int_equal(r, b->err);
		assert_null(st);
		assert_non_null(strstr(err.buf, fx->file));
		char *c = get_file(fx->file);
		assert_string_equal(c, b->data);
		free(c);
		strbuf_release(&err);
	}
	/* the failed opens released the lock */
	struct state *st = NULL;
	put_file(fx->file, "{}", 2);
	assert_int_equal(state_open_locked(fx->dir, 0, &st, NULL), 0);
	state_free(st);
}

static void test_oversized(void **state)
{
	struct fixture *fx = *state;
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;
	struct state *st = NULL;

	/* valid JSON, but one byte over the cap */
	strbuf_addstr(&sb, "{\"100\":{\"local/pve2\":{\"error\":\"");
	while (sb.len < STATE_FILE_MAX - 4)
		strbuf_addch(&sb, 'x');
	strbuf_addstr(&sb, "\"}}}");
	assert_int_equal(sb.len, STATE_FILE_MAX);
	put_file(fx->file, sb.buf, sb.len);
	st = load(fx->dir);
	st = state_free(st);

	strbuf_addch(&sb, '\n');
	put_file(fx->file, sb.buf, sb.len);
	assert_int_equal(state_load(fx->dir, &st, &err), -EFBIG);
	assert_null(st);
	assert_non_null(strstr(err.buf, fx->file));
	assert_non_null(strstr(err.buf, "larger than"));
	strbuf_reset(&err);
	assert_int_equal(state_open_locked(fx->dir, 1000, &st, &err), -EFBIG);
	char *c = get_file(fx->file);
	assert_int_equal(strlen(c), sb.len);
	free(c);

	/* a state that would not fit is not written */
	put_file(fx->file, "{}", 2);
	st = open_locked(fx->dir);
	for (uint32_t vmid = 100; vmid < 1100; vmid++) {
		struct strbuf big = STRBUF_INIT;

		while (big.len < STATE_ERROR_MAX)
			strbuf_addch(&big, 'e');
		assert_int_equal(state_record_job_end(st, vmid, "pve2", 1, 1.0, big.buf, false), 0);
		strbuf_release(&big);
	}
	strbuf_reset(&err);
	assert_int_equal(state_commit(st, &err), -EFBIG);
	assert_non_null(strstr(err.buf, "would be larger"));
	state_free(st);
	c = get_file(fx->file);
	assert_string_equal(c, "{}");
	free(c);
	assert_int_equal(stray_files(fx->dir), 0);
	strbuf_release(&sb);
	strbuf_release(&err);
}

/* docs/pvesr-compat.md §4.1 steps 2 and 6. */
static void test_record_transitions(void **state)
{
	struct fixture *fx = *state;
	struct job_state js = JOB_STATE_INIT;
	struct strvec ids = STRVEC_INIT;
	struct state *st;
	uint64_t myptime;

	assert_int_equal(proc_starttime(getpid(), &myptime), 0);
	st = open_locked(fx->dir);

	/* start */
	assert_int_equal(state_record_job_start(st, 100, "pve2", "pve1", getpid(), 1000, 990), 0);
	assert_int_equal(state_get_job(st, 100, "pve2", &js), 1);
	assert_int_equal(js.pid, getpid());
	assert_int_equal(js.ptime, myptime);
	assert_true(process_running(js.pid, js.ptime));
	assert_string_equal(js.last_node, "pve1");
	assert_int_equal(js.last_try, 1000);
	assert_int_equal(js.last_iteration, 990);
	assert_int_equal(js.last_sync, 0);
	assert_int_equal(js.fail_count, 0);
	assert_false(js.has_duration);
	job_state_release(&js);
	/* storeid_list defaults to [] at start */
	char *s = state_format(st);
	assert_non_null(strstr(s, "\"storeid_list\":[]"));
	free(s);

	/* storage ids: sorted, unique, validated */
	strvec_push(&ids, "tank");
	strvec_push(&ids, "local-zfs");
	strvec_push(&ids, "tank");
	assert_int_equal(state_set_storeids(st, 100, "pve2", &ids), 0);
	strvec_push(&ids, "-bad");
	assert_int_equal(state_set_storeids(st, 100, "pve2", &ids), -EINVAL);
	strvec_clear(&ids);

	/* failure: fail_count + 1, error chomped, pid/ptime gone, last_sync kept */
	assert_int_equal(state_record_job_end(st, 100, "pve2", 1000, 2.5, "no route\n", false), 0);
	assert_format(st, "{\"100\":{\"local/pve2\":{\"duration\":2.5,\"error\":\"no route\","
			  "\"fail_count\":1,\"last_iteration\":990,\"last_node\":\"pve1\","
			  "\"last_try\":1000,\"storeid_list\":[\"local-zfs\",\"tank\"]}}}");
	assert_int_equal(state_record_job_start(st, 100, "pve2", "pve1", getpid(), 1300, 1300), 0);
	assert_int_equal(state_record_job_end(st, 100, "pve2", 1300, 0.1234567, "again", false), 0);
	assert_int_equal(state_get_job(st, 100, "pve2", &js), 1);
	assert_int_equal(js.fail_count, 2);
	assert_string_equal(js.error, "again");
	assert_true(js.duration == 0.123457); /* microseconds */
	assert_int_equal(js.pid, 0);
	assert_int_equal(js.ptime, 0);
	assert_int_equal(js.last_sync, 0);
	job_state_release(&js);

	/* bytes: volrep's own field, kept across the end of a run */
	assert_int_equal(state_set_bytes(st, 100, "pve2", 10500000), 0);
	assert_int_equal(state_set_bytes(st, 100, "bad node", 1), -EINVAL);
	assert_int_equal(state_record_job_end(st, 100, "pve2", 1300, 0.5, "again", false), 0);
	assert_int_equal(state_get_job(st, 100, "pve2", &js), 1);
	assert_int_equal(js.bytes, 10500000);
	assert_int_equal(js.fail_count, 3);
	job_state_release(&js);

	/* props_digest: volrep's own, 64 hex digits or removed */
	{
		static const char d[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

		assert_int_equal(state_set_props_digest(st, 100, "pve2", d), 0);
		assert_int_equal(state_get_job(st, 100, "pve2", &js), 1);
		assert_string_equal(js.props_digest, d);
		job_state_release(&js);
		assert_int_equal(state_set_props_digest(st, 100, "pve2", "0123"), -EINVAL);
		assert_int_equal(state_set_props_digest(st, 100, "pve2", "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"),
				 -EINVAL);
		assert_int_equal(state_set_props_digest(st, 100, "pve2", NULL), 0);
		assert_int_equal(state_get_job(st, 100, "pve2", &js), 1);
		assert_null(js.props_digest);
		job_state_release(&js);
	}

	/* sync end sets last_sync only */
	assert_int_equal(state_record_job_start(st, 100, "pve2", "pve1", getpid(), 2000, 2000), 0);
	assert_int_equal(state_record_sync_end(st, 100, "pve2", 2000), 0);
	assert_int_equal(state_get_job(st, 100, "pve2", &js), 1);
	assert_int_equal(js.last_sync, 2000);
	assert_int_equal(js.fail_count, 3);
	assert_string_equal(js.error, "again");
	assert_int_equal(js.pid, getpid());
	job_state_release(&js);

	/* success: last_sync = start, fail_count 0, error removed */
	assert_int_equal(state_record_job_end(st, 100, "pve2", 2000, 3.521842, NULL, false), 0);
	assert_format(st, "{\"100\":{\"local/pve2\":{\"bytes\":10500000,\"duration\":3.521842,\"fail_count\":0,"
			  "\"last_iteration\":2000,\"last_node\":\"pve1\",\"last_sync\":2000,"
			  "\"last_try\":2000,\"storeid_list\":[\"local-zfs\",\"tank\"]}}}");

	/* empty error text, invalid UTF-8, overlong text */
	assert_int_equal(state_record_job_end(st, 100, "pve3", 1, 1, "", false), 0);
	assert_int_equal(state_get_job(st, 100, "pve3", &js), 1);
	assert_string_equal(js.error, "unknown error");
	assert_int_equal(js.fail_count, 1);
	job_state_release(&js);
	assert_int_equal(state_record_job_end(st, 100, "pve3", 1, 1, "a\xff\xc3\xa9\xc3 \xed\xa0\x80z\n\n", false), 0);
	assert_int_equal(state_get_job(st, 100, "pve3", &js), 1);
	/* one line for status: an inner newline, C0 and C1 controls become
	 * '?' as invalid bytes do; valid UTF-8 stays */
	assert_string_equal(js.error, "a?\xc3\xa9? ???z");
	job_state_release(&js);
	assert_int_equal(state_record_job_end(st, 100, "pve9", 1, 1, "x\x1b[2J\xc2\x9b" "1m\x9b\ry\nz", false), 0);
	assert_int_equal(state_get_job(st, 100, "pve9", &js), 1);
	assert_string_equal(js.error, "x?[2J?1m??y?z");
	job_state_release(&js);
	assert_int_equal(state_record_job_end(st, 100, "pve9", 1, 1, NULL, true), 0);
	struct strbuf big = STRBUF_INIT;
	strbuf_addch(&big, 'x');
	while (big.len < 2 * STATE_ERROR_MAX)
		strbuf_addstr(&big, "\xc3\xa9");
	assert_int_equal(state_record_job_end(st, 100, "pve3", 1, 1, big.buf, false), 0);
	assert_int_equal(state_get_job(st, 100, "pve3", &js), 1);
	assert_int_equal(strlen(js.error), STATE_ERROR_MAX - 1); /* no half character */
	assert_int_equal(js.fail_count, 3);
	job_state_release(&js);
	strbuf_release(&big);

	/* a failed removal run counts as a failure */
	assert_int_equal(state_record_job_end(st, 100, "pve3", 5, 1, "target gone", true), 0);
	assert_int_equal(state_get_job(st, 100, "pve3", &js), 1);
	assert_int_equal(js.fail_count, 4);
	job_state_release(&js);
	/* a successful removal run deletes the entry, then the guest key */
	assert_int_equal(state_record_job_end(st, 100, "pve3", 6, 1, NULL, true), 0);
	assert_int_equal(state_get_job(st, 100, "pve3", &js), 0);
	job_state_release(&js);
	assert_int_equal(state_get_job(st, 100, "pve2", &js), 1);
	job_state_release(&js);
	assert_int_equal(state_record_job_end(st, 100, "pve2", 7, 1, NULL, true), 0);
	assert_format(st, "{}");
	/* and on a job without state it is a no-op */
	assert_int_equal(state_record_job_end(st, 100, "pve2", 8, 1, NULL, true), 0);
	assert_format(st, "{}");

	/* the event a scheduled run serves: set, read back, removed by a run
	 * that serves none; never part of what migration transfers */
	assert_int_equal(state_record_job_start(st, 100, "pve2", "pve1", getpid(), 2005, 2005), 0);
	assert_int_equal(state_set_scheduled(st, 100, "pve2", 2000), 0);
	assert_int_equal(state_get_job(st, 100, "pve2", &js), 1);
	assert_int_equal(js.scheduled, 2000);
	job_state_release(&js);
	{
		char *t = NULL;

		assert_int_equal(state_extract_guest(st, 100, "pve2", "pve2", &t), 0);
		assert_null(strstr(t, "scheduled"));
		free(t);
	}
	assert_int_equal(state_set_scheduled(st, 100, "pve2", 0), 0);
	assert_int_equal(state_get_job(st, 100, "pve2", &js), 1);
	assert_int_equal(js.scheduled, 0);
	job_state_release(&js);
	s = state_format(st);
	assert_null(strstr(s, "scheduled"));
	free(s);
	assert_int_equal(state_set_scheduled(st, 100, "pve2", -1), -EINVAL);
	assert_int_equal(state_set_scheduled(st, 99, "pve2", 1), -EINVAL);
	assert_int_equal(state_record_job_end(st, 100, "pve2", 8, 1, NULL, true), 0);
	assert_format(st, "{}");

	/* invalid arguments */
	assert_int_equal(state_record_job_start(st, 99, "pve2", "pve1", getpid(), 1, 1), -EINVAL);
	assert_int_equal(state_record_job_start(st, 100, "-x", "pve1", getpid(), 1, 1), -EINVAL);
	assert_int_equal(state_record_job_start(st, 100, "pve2", "a/b", getpid(), 1, 1), -EINVAL);
	assert_int_equal(state_record_job_start(st, 100, "pve2", "pve1", getpid(), -1, 1), -EINVAL);
	assert_int_equal(state_record_job_start(st, 100, "pve2", "pve1", 0, 1, 1), -ESRCH);
	assert_int_equal(state_record_sync_end(st, 1000000000, "pve2", 1), -EINVAL);
	assert_int_equal(state_record_job_end(st, 100, "", 1, 1, NULL, false), -EINVAL);
	assert_int_equal(state_get_job(st, 100, "local/pve2", &js), -EINVAL);
	assert_format(st, "{}");

	commit(st);
	state_free(st);
	assert_int_equal(stray_files(fx->dir), 0);
}

static void test_schedule_now_delete_purge(void **state)
{
	struct fixture *fx = *state;
	struct job_state js = JOB_STATE_INIT;
	struct state *st = parse("{\"100\":{\"local/a\":{\"last_try\":50},\"local/b\":{\"last_try\":60}},"
				 "\"200\":{\"local/a\":{\"last_try\":70}},\"300\":{\"local/c\":{}}}");

	(void)fx;
	assert_int_equal(state_schedule_now(st, 100, "a"), 1);
	assert_int_equal(state_get_job(st, 100, "a", &js), 1);
	assert_int_equal(js.last_try, 0);
	job_state_release(&js);
	assert_int_equal(state_schedule_now(st, 100, "zz"), 0);
	assert_int_equal(state_get_job(st, 100, "zz", &js), 0); /* not created */
	job_state_release(&js);
	assert_int_equal(state_schedule_now(st, 1, "a"), -EINVAL);

	assert_int_equal(state_delete_guest(st, 300), 1);
	assert_int_equal(state_delete_guest(st, 300), 0);
	assert_int_equal(state_delete_guest(st, 5), -EINVAL);
	state_free(st);
}

struct keep_set {
	const char *keys[4]; /* "vmid target" */
	int calls;
};

static bool keep_in_set(uint32_t vmid, const char *target, void *data)
{
	struct keep_set *ks = data;
	struct strbuf k = STRBUF_INIT;
	bool keep = false;

	ks->calls++;
	strbuf_addf(&k, "%u %s", (unsigned)vmid, target);
	for (int i = 0; ks->keys[i]; i++)
		if (!strcmp(ks->keys[i], k.buf))
			keep = true;
	strbuf_release(&k);
	return keep;
}

static void test_purge(void **state)
{
	struct state *st = parse("{\"100\":{\"local/a\":{\"last_try\":50},\"local/b\":{\"last_try\":60}},"
				 "\"200\":{\"local/a\":{\"last_try\":70}},\"300\":{\"local/c\":{}}}");
	struct keep_set ks = { .keys = { "100 b", "300 c", NULL } };

	(void)state;
	assert_int_equal(state_purge(st, keep_in_set, &ks), 2);
	assert_int_equal(ks.calls, 4);
	assert_format(st, "{\"100\":{\"local/b\":{\"last_try\":60}},\"300\":{\"local/c\":{}}}");
	ks.keys[0] = NULL;
	assert_int_equal(state_purge(st, keep_in_set, &ks), 2);
	assert_format(st, "{}");
	state_free(st);
}

static void test_migration_transfer(void **state)
{
	struct state *st = parse(
		"{\"100\":{\"local/b\":{\"last_sync\":500,\"last_try\":\"600\",\"fail_count\":0,"
		"\"last_node\":\"a\",\"storeid_list\":[\"local-zfs\"],\"duration\":1.5,\"pid\":77,"
		"\"ptime\":\"88\",\"unknown\":1,"
		"\"props_digest\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"},"
		"\"local/c\":{\"last_sync\":400}},"
		"\"200\":{\"local/b\":{}}}");
	struct strbuf err = STRBUF_INIT;
	char *j = NULL;

	(void)state;
	/* source side: rename local/b -> local/a, normalized, no pid/ptime,
	 * no props_digest (what this node's streams carried) */
	assert_int_equal(state_extract_guest(st, 100, "b", "a", &j), 0);
	assert_string_equal(j, "{\"local/a\":{\"duration\":1.5,\"fail_count\":0,\"last_iteration\":0,"
			       "\"last_node\":\"a\",\"last_sync\":500,\"last_try\":600,"
			       "\"storeid_list\":[\"local-zfs\"]},"
			       "\"local/c\":{\"fail_count\":0,\"last_iteration\":0,\"last_sync\":400,"
			       "\"last_try\":0,\"storeid_list\":[]}}");
	/* target side accepts exactly that */
	struct state *tgt = parse("{\"100\":{\"local/x\":{}},\"300\":{}}");
	assert_int_equal(state_set_guest_json(tgt, 100, j, &err), 0);
	char *f = state_format(tgt);
	struct strbuf expect = STRBUF_INIT;
	strbuf_addf(&expect, "{\"100\":%s,\"300\":{}}", j);
	assert_string_equal(f, expect.buf);
	free(f);
	free(j);
	strbuf_release(&expect);

	/* no state: "{}", which deletes the guest's state on the target */
	assert_int_equal(state_extract_guest(st, 999, "b", "a", &j), 0);
	assert_string_equal(j, "{}");
	assert_int_equal(state_set_guest_json(tgt, 100, j, &err), 0);
	assert_format(tgt, "{\"300\":{}}");
	free(j);
	/* the renamed entry wins over an existing one of the new name */
	assert_int_equal(state_extract_guest(st, 100, "c", "b", &j), 0);
	assert_string_equal(j, "{\"local/b\":{\"fail_count\":0,\"last_iteration\":0,\"last_sync\":400,"
			       "\"last_try\":0,\"storeid_list\":[]}}");
	free(j);
	assert_int_equal(state_extract_guest(st, 100, "b", "-a", &j), -EINVAL);
	state_free(tgt);
	state_free(st);
	strbuf_release(&err);
}

static void test_set_state_validation(void **state)
{
	static const struct {
		const char *json;
		const char *msg;
	} bad[] = {
		{ "", "invalid state for guest '100' - " },
		{ "[]", "invalid state for guest '100' - " },
		{ "1", "invalid state for guest '100' - " },
		{ "{\"local/a\":{}} x", "invalid state for guest '100' - " },
		{ "{\"a\":{}}", "invalid target 'a'" },
		{ "{\"local/a;rm\":{}}", "invalid target" },
		{ "{\"local/a\":[]}", "not an object" },
		{ "{\"local/a\":{\"bogus\":1}}", "unknown field 'bogus'" },
		{ "{\"local/a\":{\"last_sync\":null}}", "field 'last_sync'" },
		{ "{\"local/a\":{\"last_sync\":\"5\"}}", "field 'last_sync'" },
		{ "{\"local/a\":{\"fail_count\":1e3}}", "field 'fail_count'" },
		{ "{\"local/a\":{\"storeid_list\":[\"UP\"]}}", "field 'storeid_list'" },
		{ "{\"local/a\":{},\"local/a\":{}}", "duplicate" },
		/* a running job of another node is never handed over */
		{ "{\"local/a\":{\"pid\":1}}", "field 'pid' cannot be set" },
		{ "{\"local/a\":{\"ptime\":1}}", "field 'ptime' cannot be set" },
		{ "{\"local/a\":{\"props_digest\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}}",
		  "field 'props_digest' cannot be set" },
		{ "{\"local/a\":{\"fail_count\":-1}}", "field 'fail_count'" },
		{ "{\"local/a\":{\"last_sync\":99999999999999}}", "field 'last_sync'" },
	};
	struct state *st = parse("{\"100\":{\"local/a\":{\"last_sync\":5}}}");
	struct strbuf err = STRBUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strbuf_reset(&err);
		int r = state_set_guest_json(st, 100, bad[i].json, &err);
		if (r != -EINVAL || !strstr(err.buf, bad[i].msg))
			fail_msg("case %zu '%s': r=%d err='%s'", i, bad[i].json, r, err.buf);
		assert_format(st, "{\"100\":{\"local/a\":{\"last_sync\":5}}}");
	}
	strbuf_reset(&err);
	assert_int_equal(state_set_guest_json(st, 99, "{}", &err), -EINVAL);
	assert_non_null(strstr(err.buf, "invalid guest id '99'"));
	assert_int_equal(state_set_guest_json(st, 200, "{\"local/b\":{\"last_sync\":7,\"error\":\"e\"}}", NULL), 0);
	assert_format(st, "{\"100\":{\"local/a\":{\"last_sync\":5}},"
			  "\"200\":{\"local/b\":{\"error\":\"e\",\"last_sync\":7}}}");
	/* error texts: no terminal escapes stored, bounded */
	assert_int_equal(state_set_guest_json(st, 300, "{\"local/b\":{\"error\":\"a\\u001b[31mb\\u009bc\\nd\\u00e9\"}}",
					      NULL), 0);
	{
		char *j = state_format(st);

		if (!strstr(j, "\"error\":\"a?[31mb??c?d??\""))
			fail_msg("%s", j);
		free(j);
	}
	{
		struct strbuf big = STRBUF_INIT;

		strbuf_addstr(&big, "{\"local/b\":{\"error\":\"");
		for (int i = 0; i < STATE_ERROR_MAX + 1; i++)
			strbuf_addch(&big, 'x');
		strbuf_addstr(&big, "\"}}");
		strbuf_reset(&err);
		assert_int_equal(state_set_guest_json(st, 300, big.buf, &err), -EINVAL);
		assert_non_null(strstr(err.buf, "longer than"));
		strbuf_release(&big);
	}
	state_free(st);
	strbuf_release(&err);
}

static void test_process_running(void **state)
{
	uint64_t t;
	pid_t child;
	int status;

	(void)state;
	assert_int_equal(proc_starttime(getpid(), &t), 0);
	assert_true(t > 0);
	assert_true(process_running(getpid(), t));
	assert_false(process_running(getpid(), t + 1));
	assert_false(process_running(0, t));
	assert_false(process_running(-1, t));
	/* a reaped child's pid is gone */
	child = fork();
	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_int_equal(proc_starttime(child, &t), -ESRCH);
	assert_false(process_running(child, t));
	/* an exited child not reaped yet (a zombie) is not running either */
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		pause();
		_exit(0);
	}
	assert_int_equal(proc_starttime(child, &t), 0);
	assert_true(process_running(child, t));
	kill(child, SIGKILL);
	assert_int_equal(waitid(P_PID, (id_t)child, NULL, WEXITED | WNOWAIT), 0);
	assert_false(process_running(child, t));
	assert_int_equal(waitpid(child, &status, 0), child);
}

static void test_lock_timeout(void **state)
{
	struct fixture *fx = *state;
	struct strbuf err = STRBUF_INIT, expect = STRBUF_INIT;
	struct state *st = NULL;
	int ready[2], go[2];
	pid_t child;
	char c;

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct state *cst = NULL;

		if (state_open_locked(fx->dir, 1000, &cst, NULL) < 0)
			_exit(1);
		if (write(ready[1], "x", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(1);
		state_free(cst);
		_exit(0);
	}
	assert_int_equal(read(ready[0], &c, 1), 1);
	assert_int_equal(state_open_locked(fx->dir, 100, &st, &err), -ETIMEDOUT);
	assert_null(st);
	strbuf_addf(&expect, "can't lock file '%s/%s' - got timeout", fx->dir, STATE_LOCK_NAME);
	assert_string_equal(err.buf, expect.buf);
	/* a state opened without the lock cannot be committed */
	st = load(fx->dir);
	assert_int_equal(state_commit(st, NULL), -ENOLCK);
	st = state_free(st);
	assert_int_equal(write(go[1], "x", 1), 1);
	int status;
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* released when the holder is done */
	assert_int_equal(state_open_locked(fx->dir, 1000, &st, NULL), 0);
	state_free(st);
	for (int i = 0; i < 2; i++) {
		close(ready[i]);
		close(go[i]);
	}
	strbuf_release(&err);
	strbuf_release(&expect);
}

/* Concurrency: several processes update different jobs through the
 * read-modify-write helper; no update may get lost. */
#define WORKERS 6
#define ROUNDS 30

struct bump {
	uint32_t vmid;
	int round;
};

static int bump_job(struct state *st, void *data, struct strbuf *err)
{
	struct bump *b = data;
	int r;

	(void)err;
	/* each round: a start and a failed end, so fail_count counts rounds */
	r = state_record_job_start(st, b->vmid, "pve2", "pve1", getpid(), 1000 + b->round, b->round);
	if (!r)
		r = state_record_job_end(st, b->vmid, "pve2", 1000 + b->round, 0.5, "failed", false);
	return r;
}

static void test_concurrent_updates(void **state)
{
	struct fixture *fx = *state;
	pid_t pids[WORKERS];
	struct state *st;

	for (int w = 0; w < WORKERS; w++) {
		pids[w] = fork();
		assert_true(pids[w] >= 0);
		if (pids[w] == 0) {
			for (int i = 1; i <= ROUNDS; i++) {
				struct bump b = { .vmid = 100 + (uint32_t)w, .round = i };
				struct strbuf err = STRBUF_INIT;

				if (state_update(fx->dir, bump_job, &b, &err) < 0) {
					fprintf(stderr, "worker %d: %s\n", w, err.buf);
					_exit(1);
				}
				strbuf_release(&err);
			}
			_exit(0);
		}
	}
	for (int w = 0; w < WORKERS; w++) {
		int status;

		assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	st = load(fx->dir);
	for (int w = 0; w < WORKERS; w++) {
		struct job_state js = JOB_STATE_INIT;

		assert_int_equal(state_get_job(st, 100 + (uint32_t)w, "pve2", &js), 1);
		assert_int_equal(js.fail_count, ROUNDS);
		assert_int_equal(js.last_iteration, ROUNDS);
		assert_int_equal(js.last_try, 1000 + ROUNDS);
		assert_int_equal(js.pid, 0);
		job_state_release(&js);
	}
	state_free(st);
	assert_int_equal(stray_files(fx->dir), 0);
}

static int fail_update(struct state *st, void *data, struct strbuf *err)
{
	(void)data;
	state_record_sync_end(st, 100, "pve2", 123);
	strbuf_addstr(err, "changed my mind");
	return -EPERM;
}

static int ok_update(struct state *st, void *data, struct strbuf *err)
{
	(void)data;
	(void)err;
	return state_record_sync_end(st, 100, "pve2", 456) == 0 ? 7 : -1;
}

static void test_notified(void **state)
{
	struct state *st = parse("{\"100\":{\"local/pve2\":{\"fail_count\":1}}}");
	struct job_state js = JOB_STATE_INIT;
	struct strbuf err = STRBUF_INIT;
	struct state *bad = NULL;

	(void)state;
	assert_int_equal(state_get_job(st, 100, "pve2", &js), 1);
	assert_int_equal(js.notified, 0);
	job_state_release(&js);
	assert_int_equal(state_set_notified(st, 100, "pve2", STATE_NOTIFIED_FAILURE), 0);
	assert_format(st, "{\"100\":{\"local/pve2\":{\"fail_count\":1,\"notified\":1}}}");
	assert_int_equal(state_get_job(st, 100, "pve2", &js), 1);
	assert_int_equal(js.notified, STATE_NOTIFIED_FAILURE);
	job_state_release(&js);
	assert_int_equal(state_set_notified(st, 100, "pve2", 0), 0);
	assert_format(st, "{\"100\":{\"local/pve2\":{\"fail_count\":1}}}");
	/* clearing where there is no entry creates none */
	assert_int_equal(state_set_notified(st, 101, "pve2", 0), 0);
	assert_format(st, "{\"100\":{\"local/pve2\":{\"fail_count\":1}}}");
	assert_int_equal(state_set_notified(st, 100, "pve2", -1), -EINVAL);
	/* a wrong type is an error naming the field */
	static const char badjson[] = "{\"100\":{\"local/pve2\":{\"notified\":\"yes\"}}}";
	assert_int_equal(state_parse(badjson, strlen(badjson), "t", &bad, &err), -EINVAL);
	assert_non_null(strstr(err.buf, "'notified'"));
	strbuf_release(&err);
	state_free(st);
}

static void test_update_helper(void **state)
{
	struct fixture *fx = *state;
	struct strbuf err = STRBUF_INIT;

	/* an update whose callback fails writes nothing */
	assert_int_equal(state_update(fx->dir, fail_update, NULL, &err), -EPERM);
	assert_string_equal(err.buf, "changed my mind");
	assert_int_equal(access(fx->file, F_OK), -1);
	assert_int_equal(state_update(fx->dir, ok_update, NULL, &err), 7);
	char *c = get_file(fx->file);
	assert_string_equal(c, "{\"100\":{\"local/pve2\":{\"last_sync\":456}}}\n");
	free(c);
	/* a corrupt file stops the update with the loader's error */
	put_file(fx->file, "{\"100\":", 7);
	strbuf_reset(&err);
	assert_int_equal(state_update(fx->dir, ok_update, NULL, &err), -EINVAL);
	assert_non_null(strstr(err.buf, "invalid json data in '"));
	c = get_file(fx->file);
	assert_string_equal(c, "{\"100\":");
	free(c);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_missing_and_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pvesr_file_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_transitions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schedule_now_delete_purge, setup, teardown),
		cmocka_unit_test(test_purge),
		cmocka_unit_test(test_migration_transfer),
		cmocka_unit_test(test_set_state_validation),
		cmocka_unit_test(test_process_running),
		cmocka_unit_test_setup_teardown(test_lock_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_updates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_helper, setup, teardown),
		cmocka_unit_test(test_notified),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
