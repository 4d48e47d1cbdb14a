/* Rate limiter and relay (exec/ratelimit.h, exec/relay.h). Timing checks
 * are short and loose (the +-5 % figure belongs to bench-ratelimit); they
 * still fail when the limit is not applied at all or overshoots. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/interrupt.h"
#include "exec/ratelimit.h"
#include "exec/relay.h"

static void test_parse_mbps(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_int_equal(ratelimit_parse_mbps("10", &v), 0);
	assert_int_equal(v, 10000000);
	assert_int_equal(ratelimit_parse_mbps("2.5", &v), 0);
	assert_int_equal(v, 2500000);
	/* pvesr: int(1000000 * rate), truncating */
	assert_int_equal(ratelimit_parse_mbps("0.0000015", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(ratelimit_parse_mbps("2.3", &v), 0);
	assert_int_equal(v, (uint64_t)(1000000 * 2.3));
	v = 7;
	assert_int_equal(ratelimit_parse_mbps("0", &v), -EINVAL);
	assert_int_equal(ratelimit_parse_mbps("-1", &v), -EINVAL);
	assert_int_equal(ratelimit_parse_mbps("abc", &v), -EINVAL);
	assert_int_equal(ratelimit_parse_mbps("10M", &v), -EINVAL);
	assert_int_equal(ratelimit_parse_mbps("", &v), -EINVAL);
	assert_int_equal(ratelimit_parse_mbps("nan", &v), -EINVAL);
	assert_int_equal(ratelimit_parse_mbps("0.0000001", &v), -ERANGE);
	assert_int_equal(ratelimit_parse_mbps("1e300", &v), -ERANGE);
	assert_int_equal(v, 7);
}

static void test_chunk(void **state)
{
	struct ratelimit rl;

	(void)state;
	ratelimit_init(&rl, 0, 131072);
	assert_int_equal(ratelimit_chunk(&rl, 131072), 131072);
	ratelimit_init(&rl, 1000, 131072);
	assert_int_equal(ratelimit_chunk(&rl, 131072), 4096);
	ratelimit_init(&rl, 1600000, 131072);
	assert_int_equal(ratelimit_chunk(&rl, 131072), 100000);
	ratelimit_init(&rl, 100000000, 131072);
	assert_int_equal(ratelimit_chunk(&rl, 131072), 131072);
}

static void test_account_paces(void **state)
{
	struct ratelimit rl;
	int64_t t0;
	uint64_t slept;
	double el;

	(void)state;
	/* 2 MB at 4 MB/s: ~0.5 s, no matter how it is chunked. Upper sides
	 * are on what the limiter slept, not on the wall clock: a loaded
	 * machine makes the loop slower, never the sleeps longer (each sleep
	 * is what is still owed, so together they are at most the cost of
	 * the bytes) */
	ratelimit_init(&rl, 4000000, 65536);
	t0 = mono_ns();
	for (int i = 0; i < 200; i++)
		ratelimit_account(&rl, 10000);
	el = (double)(mono_ns() - t0) / 1e9;
	assert_true(el > 0.47);
	assert_true(rl.slept_ns <= 500000000);
	/* after an idle period one bucket (64 KiB = 16 ms) is free, no more */
	sleep_ns(200000000);
	slept = rl.slept_ns;
	t0 = mono_ns();
	ratelimit_account(&rl, 65536);
	assert_true(rl.slept_ns == slept);
	ratelimit_account(&rl, 400000); /* 0.1 s worth */
	el = (double)(mono_ns() - t0) / 1e9;
	assert_true(el > 0.08);
	assert_true(rl.slept_ns - slept <= 100000000);
	/* unlimited never sleeps */
	ratelimit_init(&rl, 0, 65536);
	ratelimit_account(&rl, 1ull << 40);
	assert_true(rl.slept_ns == 0);
}

struct prog {
	int calls, done;
	uint64_t last;
};

static void on_progress(const struct relay_progress *p, void *data)
{
	struct prog *pr = data;

	pr->calls++;
	pr->done += p->done;
	assert_true(p->bytes >= pr->last);
	pr->last = p->bytes;
	if (p->done)
		assert_true(p->eta == 0);
}

static void test_relay_rate_and_progress(void **state)
{
	struct relay_opts o = RELAY_OPTS_INIT;
	struct relay_stats st;
	struct prog pr = { 0, 0, 0 };
	int zero = open("/dev/zero", O_RDONLY), null = open("/dev/null", O_WRONLY), p[2];
	pid_t pid;

	(void)state;
	assert_true(zero >= 0 && null >= 0);
	/* 1.2 MB from a pipe fed by a writer, at 1 MB/s: ~1.2 s; progress
	 * every 0.25 s, so about 4 calls plus the final one */
	assert_int_equal(pipe(p), 0);
	pid = fork();
	if (pid == 0) {
		static char buf[1200000];
		ssize_t unused = write(p[1], buf, sizeof(buf));
		(void)unused;
		_exit(0);
	}
	close(p[1]);
	o.rate = 1000000;
	o.total = 1200000;
	o.interval = 0.25;
	o.progress = on_progress;
	o.data = &pr;
	assert_int_equal(relay_copy(p[0], null, &o, &st), 0);
	close(p[0]);
	waitpid(pid, NULL, 0);
	assert_int_equal(st.bytes, 1200000);
	/* at least the time the bytes cost; the sleeps at most that (the
	 * wall clock only grows on a loaded machine) */
	assert_true(st.elapsed > 1.1);
	assert_true(st.slept > 0.8 && st.slept <= 1.2);
	assert_int_equal(pr.done, 1);
	/* one call per interval plus the last: as many as the time taken */
	assert_true(pr.calls >= 4 && pr.calls <= (int)(st.elapsed / o.interval) + 2);
	assert_int_equal(pr.last, 1200000);
	close(zero);
	close(null);
}

static void test_relay_unlimited_splice(void **state)
{
	struct relay_opts o = RELAY_OPTS_INIT;
	struct relay_stats st;
	int a[2], b[2];
	pid_t w, r;

	(void)state;
	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	w = fork();
	if (w == 0) {
		static char buf[1 << 20];
		close(a[0]);
		for (int i = 0; i < 8; i++)
			if (write(a[1], buf, sizeof(buf)) < 0)
				_exit(1);
		_exit(0);
	}
	r = fork();
	if (r == 0) {
		static char buf[1 << 16];
		ssize_t n, total = 0;
		close(b[1]);
		close(a[0]);
		close(a[1]);
		while ((n = read(b[0], buf, sizeof(buf))) > 0)
			total += n;
		_exit(total == 8 << 20 ? 0 : 1);
	}
	close(a[1]);
	close(b[0]);
	assert_int_equal(relay_copy(a[0], b[1], &o, &st), 0);
	close(a[0]);
	close(b[1]);
	assert_int_equal(st.bytes, 8 << 20);
	assert_int_equal(st.spliced, 1);
	int status;
	waitpid(w, NULL, 0);
	waitpid(r, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_relay_epipe(void **state)
{
	struct relay_opts o = RELAY_OPTS_INIT;
	struct relay_stats st;
	int zero = open("/dev/zero", O_RDONLY), p[2];

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(pipe(p), 0);
	close(p[0]);
	assert_int_equal(relay_copy(zero, p[1], &o, &st), -EPIPE);
	close(p[1]);
	close(zero);
}

static void test_pump_sides(void **state)
{
	struct relay_opts o = RELAY_OPTS_INIT;
	struct relay_stats st;
	struct strbuf out = STRBUF_INIT;
	struct relay_side side;
	int in[2], data[2], talk[2];
	pid_t pid;

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(data), 0);
	assert_int_equal(pipe(talk), 0);
	/* a "remote" that reads 100 bytes, then talks a lot (more than a pipe
	 * holds) and exits without reading the rest: the pump must keep
	 * draining the talk while writing, then report EPIPE */
	pid = fork();
	if (pid == 0) {
		static char buf[300000];
		close(in[0]);
		close(in[1]);
		close(data[1]);
		close(talk[0]);
		if (read(data[0], buf, 100) < 0)
			_exit(1);
		memset(buf, 'e', sizeof(buf));
		if (write(talk[1], buf, sizeof(buf)) < 0)
			_exit(1);
		_exit(0);
	}
	close(data[0]);
	close(talk[1]);
	int zero = open("/dev/zero", O_RDONLY);
	side = (struct relay_side){ .fd = talk[0], .buf = &out, .max = 1000, .overflow = 0 };
	assert_int_equal(relay_pump(zero, data[1], &o, &side, 1, &st), -EPIPE);
	assert_int_equal(side.fd, -1);
	assert_int_equal(out.len, 1000);
	assert_int_equal(side.overflow, 1);
	waitpid(pid, NULL, 0);
	close(zero);
	close(in[0]);
	close(in[1]);
	strbuf_release(&out);
}

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The abort flag of engine/interrupt.h stops a pump that waits for data
 * (an idle export): a signal arriving while poll() blocks, and a flag
 * raised before the call (the race poll() alone would miss). */
static void test_pump_abort(void **state)
{
	struct relay_opts o = RELAY_OPTS_INIT;
	struct relay_stats st;
	struct strbuf out = STRBUF_INIT;
	struct relay_side side;
	int in[2], data[2], talk[2];
	double t0;
	pid_t pid;

	(void)state;
	o.abort_flag = interrupt_flag();
	interrupt_reset();
	assert_int_equal(interrupt_install(), 0);
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(data), 0);
	assert_int_equal(pipe(talk), 0);
	pid = fork();
	if (pid == 0) {
		struct timespec ts = { 0, 200000000L };

		nanosleep(&ts, NULL);
		kill(getppid(), SIGHUP);
		_exit(0);
	}
	side = (struct relay_side){ .fd = talk[0], .buf = &out, .max = 1000, .overflow = 0 };
	t0 = now_sec();
	/* in[1] stays open: without the signal this would wait forever */
	assert_int_equal(relay_pump(in[0], data[1], &o, &side, 1, &st), -EINTR);
	assert_true(now_sec() - t0 < 2.0);
	assert_int_equal(interrupt_signal(), SIGHUP);
	assert_int_equal(side.fd, -1); /* closed without draining */
	waitpid(pid, NULL, 0);
	{
		struct strbuf d = STRBUF_INIT;

		interrupt_describe(SIGHUP, &d);
		assert_string_equal(d.buf, "interrupted by SIGHUP");
		strbuf_reset(&d);
		interrupt_describe(SIGTERM, &d);
		assert_string_equal(d.buf, "interrupted by SIGTERM");
		strbuf_release(&d);
	}

	/* raised before the call: returns at once, nothing copied */
	assert_int_equal(pipe(data), 0);
	assert_int_equal(pipe(talk), 0);
	interrupt_raise_flag(SIGTERM);
	side = (struct relay_side){ .fd = talk[0], .buf = &out, .max = 1000, .overflow = 0 };
	t0 = now_sec();
	assert_int_equal(relay_pump(in[0], data[1], &o, &side, 1, &st), -EINTR);
	assert_true(now_sec() - t0 < 1.0);
	assert_int_equal(st.bytes, 0);

	/* no flag: the pump copies to EOF as before */
	interrupt_reset();
	assert_int_equal(pipe(data), 0);
	assert_int_equal(write(in[1], "abc", 3), 3);
	close(in[1]);
	assert_int_equal(relay_pump(in[0], data[1], &o, NULL, 0, &st), 0);
	assert_int_equal(st.bytes, 3);
	close(in[0]);
	close(data[0]);
	close(talk[1]);
	signal(SIGHUP, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	strbuf_release(&out);
}

/* Pipes at both ends: the stream is spliced, byte for byte as with
 * read/write (o.no_splice). */
static void test_pump_splice(void **state)
{
	(void)state;
	for (int no_splice = 0; no_splice < 2; no_splice++) {
		struct relay_opts o = RELAY_OPTS_INIT;
		struct relay_stats st;
		int in[2], out[2];
		char buf[64] = { 0 };

		o.no_splice = no_splice;
		assert_int_equal(pipe(in), 0);
		assert_int_equal(pipe(out), 0);
		assert_int_equal(write(in[1], "spliced or not", 14), 14);
		close(in[1]);
		assert_int_equal(relay_pump(in[0], out[1], &o, NULL, 0, &st), 0);
		assert_int_equal(read(out[0], buf, sizeof(buf)), 14);
		assert_string_equal(buf, "spliced or not");
		assert_int_equal(st.bytes, 14);
		assert_int_equal(st.wire, 14);
		assert_int_equal(st.spliced, !no_splice);
		close(in[0]);
		close(out[0]);
	}
}

/* No byte moves for stall_timeout_ms: -ETIMEDOUT, the output and the
 * sides closed. A receiver that stopped reading (a stopped import behind
 * a live connection), an input that never sends, and data trickling in
 * slower than the copy but faster than the timeout (no stall). */
static void test_pump_stall(void **state)
{
	struct relay_opts o = RELAY_OPTS_INIT;
	struct relay_stats st;
	struct strbuf out = STRBUF_INIT;
	struct relay_side side;
	int zero, in[2], data[2], talk[2];
	double t0;
	pid_t pid;

	(void)state;
	o.stall_timeout_ms = 300;
	/* endless input, nobody reads the output: the pipe fills, then
	 * nothing moves */
	zero = open("/dev/zero", O_RDONLY);
	assert_true(zero >= 0);
	assert_int_equal(pipe(data), 0);
	assert_int_equal(pipe(talk), 0);
	side = (struct relay_side){ .fd = talk[0], .buf = &out, .max = 1000, .overflow = 0 };
	t0 = now_sec();
	assert_int_equal(relay_pump(zero, data[1], &o, &side, 1, &st), -ETIMEDOUT);
	assert_true(now_sec() - t0 >= 0.3);
	assert_true(st.bytes >= 4096); /* it did copy until the pipe was full */
	assert_int_equal(side.fd, -1);
	close(zero);
	close(data[0]);
	close(talk[1]);

	/* an input that stays open and silent */
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(data), 0);
	assert_int_equal(relay_pump(in[0], data[1], &o, NULL, 0, &st), -ETIMEDOUT);
	assert_int_equal(st.bytes, 0);
	close(data[0]);

	/* a byte every 50 ms for 0.5 s: never 300 ms without data */
	assert_int_equal(pipe(data), 0);
	pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 10; i++) {
			struct timespec ts = { 0, 50000000L };

			nanosleep(&ts, NULL);
			if (write(in[1], "x", 1) != 1)
				_exit(1);
		}
		_exit(0);
	}
	close(in[1]);
	assert_int_equal(relay_pump(in[0], data[1], &o, NULL, 0, &st), 0);
	assert_int_equal(st.bytes, 10);
	waitpid(pid, NULL, 0);
	close(in[0]);
	close(data[0]);
	strbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_mbps),
		cmocka_unit_test(test_chunk),
		cmocka_unit_test(test_account_paces),
		cmocka_unit_test(test_relay_rate_and_progress),
		cmocka_unit_test(test_relay_unlimited_splice),
		cmocka_unit_test(test_relay_epipe),
		cmocka_unit_test(test_pump_sides),
		cmocka_unit_test(test_pump_abort),
		cmocka_unit_test(test_pump_splice),
		cmocka_unit_test(test_pump_stall),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
