/* Unit tests of src/backend/probe-cache: a probe's result kept across
 * processes for as long as the tool (and volrep) stay the same file. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend/probe-cache.h"
#include "base/strbuf.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/volrep-unit-probe.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	static const char *const names[] = { "tool", "probe.zfspool", "probe.btrfs", NULL };
	struct strbuf p = STRBUF_INIT;

	(void)state;
	probe_cache_set_dir(NULL);
	for (int i = 0; names[i]; i++) {
		strbuf_reset(&p);
		strbuf_addf(&p, "%s/%s", dir, names[i]);
		unlink(p.buf);
	}
	strbuf_release(&p);
	return rmdir(dir);
}

static void write_tool(const char *path, const char *body)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(body, f);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
}

static void test_round_trip(void **state)
{
	unsigned char caps[4] = { 0x12, 0x34, 0xab, 0x00 }, got[4] = { 0 };
	struct strbuf tool = STRBUF_INIT, file = STRBUF_INIT;
	const char *old_path = getenv("PATH");
	char *saved = old_path ? strdup(old_path) : NULL;

	(void)state;
	strbuf_addf(&tool, "%s/tool", dir);
	strbuf_addf(&file, "%s/probe.zfspool", dir);
	write_tool(tool.buf, "#!/bin/sh\nexit 0\n");

	/* no directory set: nothing kept */
	probe_cache_store("zfspool", tool.buf, caps, sizeof(caps));
	assert_int_equal(access(file.buf, F_OK), -1);
	assert_int_equal(probe_cache_load("zfspool", tool.buf, got, sizeof(got)), 0);

	probe_cache_set_dir(dir);
	assert_int_equal(probe_cache_load("zfspool", tool.buf, got, sizeof(got)), 0);
	probe_cache_store("zfspool", tool.buf, caps, sizeof(caps));
	assert_int_equal(probe_cache_load("zfspool", tool.buf, got, sizeof(got)), 1);
	assert_memory_equal(got, caps, sizeof(caps));
	/* another type, another size: not this entry */
	assert_int_equal(probe_cache_load("btrfs", tool.buf, got, sizeof(got)), 0);
	assert_int_equal(probe_cache_load("zfspool", tool.buf, got, 3), 0);

	/* found through PATH as execvp finds it: the same file, same key */
	setenv("PATH", dir, 1);
	memset(got, 0, sizeof(got));
	assert_int_equal(probe_cache_load("zfspool", "tool", got, sizeof(got)), 1);
	assert_memory_equal(got, caps, sizeof(caps));
	if (saved)
		setenv("PATH", saved, 1);
	free(saved);

	/* the tool replaced (an upgrade): probed anew */
	write_tool(tool.buf, "#!/bin/sh\nexit 1\n");
	assert_int_equal(probe_cache_load("zfspool", tool.buf, got, sizeof(got)), 0);
	/* no such tool: nothing */
	assert_int_equal(probe_cache_load("zfspool", "/nonexistent/zfs", got, sizeof(got)), 0);
	strbuf_release(&tool);
	strbuf_release(&file);
}

/* A damaged or planted cache file is no probe result */
static void test_hostile_file(void **state)
{
	unsigned char caps[2] = { 0xff, 0x01 }, got[2] = { 0 };
	struct strbuf tool = STRBUF_INIT, file = STRBUF_INIT, text = STRBUF_INIT;
	FILE *f;

	(void)state;
	strbuf_addf(&tool, "%s/tool", dir);
	strbuf_addf(&file, "%s/probe.zfspool", dir);
	write_tool(tool.buf, "#!/bin/sh\n");
	probe_cache_set_dir(dir);
	probe_cache_store("zfspool", tool.buf, caps, sizeof(caps));
	assert_int_equal(strbuf_read_file(&text, file.buf, 8192), 0);

	/* the hex cut short, or not hex */
	f = fopen(file.buf, "w");
	fwrite(text.buf, 1, text.len - 2, f);
	fputc('\n', f);
	fclose(f);
	assert_int_equal(probe_cache_load("zfspool", tool.buf, got, sizeof(got)), 0);
	text.buf[text.len - 2] = 'x';
	f = fopen(file.buf, "w");
	fputs(text.buf, f);
	fclose(f);
	assert_int_equal(probe_cache_load("zfspool", tool.buf, got, sizeof(got)), 0);

	/* a symlink to a valid one is not followed */
	text.buf[text.len - 2] = '1';
	strbuf_reset(&file);
	strbuf_addf(&file, "%s/probe.btrfs", dir);
	f = fopen(file.buf, "w");
	fputs(text.buf, f);
	fclose(f);
	strbuf_reset(&file);
	strbuf_addf(&file, "%s/probe.zfspool", dir);
	unlink(file.buf);
	assert_int_equal(symlink("probe.btrfs", file.buf), 0);
	assert_int_equal(probe_cache_load("zfspool", tool.buf, got, sizeof(got)), 0);
	assert_memory_equal(got, "\0\0", 2);
	strbuf_release(&tool);
	strbuf_release(&file);
	strbuf_release(&text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
