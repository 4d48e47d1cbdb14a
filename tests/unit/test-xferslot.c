/* Unit tests of the transfer slots (src/engine/xferslot.c) with forked
 * processes: never more than n holders of one target's slots at once, n
 * reached when runs queue, targets independent, a dead holder's slot
 * freed, a signal ends the wait, bad arguments refused. */
#include "unit.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/xferslot.h"

/* counters the children share: holders now, most holders seen, children
 * started and done (per target), of how many */
struct shared {
	atomic_int cur[2];
	atomic_int max[2];
	atomic_int waited;
	atomic_int started[2];
	atomic_int done[2];
	int nchild;
};

static char dir[] = "/tmp/volrep-xferslot.XXXXXX";
static struct shared *sh;

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return sh == MAP_FAILED ? -1 : 0;
}

static int teardown(void **state)
{
	char lockdir[256];

	(void)state;
	munmap(sh, sizeof(*sh));
	/* our own mkdtemp dir: the lock files, lock/, the dir */
	snprintf(lockdir, sizeof(lockdir), "%s/lock", dir);
	for (unsigned t = 0; t < 2; t++)
		for (unsigned k = 0; k < 8; k++) {
			char p[512];

			snprintf(p, sizeof(p), "%s/transfer-%s.%u.lck", lockdir, t ? "pve3" : "pve2", k);
			unlink(p);
		}
	rmdir(lockdir);
	rmdir(dir);
	return 0;
}

/* A run's transfer: take a slot of target t, count itself as a holder,
 * hold the slot until every child has started and as many slots as can
 * be are taken (all n, or all the children not done yet), then hold_ms
 * longer, leave. Holding by these conditions rather than for a time is
 * what makes "n at once" and "the others waited" certain on a loaded
 * machine, where children may start far apart. Exit 0, 1 when the slot
 * call failed, 2 when the condition did not come within 20 s. */
static void child_transfer(const char *target, int t, unsigned n, long hold_ms)
{
	struct lock lk = LOCK_INIT;
	unsigned slot;
	double waited;
	int c, m, want, i;

	atomic_fetch_add(&sh->started[t], 1);
	if (xfer_slot_acquire(&lk, dir, target, n, &slot, &waited) < 0 || slot >= n)
		_exit(1);
	c = atomic_fetch_add(&sh->cur[t], 1) + 1;
	m = atomic_load(&sh->max[t]);
	while (c > m && !atomic_compare_exchange_weak(&sh->max[t], &m, c))
		;
	if (waited > 0)
		atomic_fetch_add(&sh->waited, 1);
	for (i = 0; i < 2000; i++) {
		want = sh->nchild - atomic_load(&sh->done[t]);
		if (want > (int)n)
			want = (int)n;
		if (atomic_load(&sh->started[t]) == sh->nchild && atomic_load(&sh->cur[t]) >= want)
			break;
		sleep_ms(10);
	}
	if (i == 2000)
		_exit(2);
	sleep_ms(hold_ms);
	atomic_fetch_sub(&sh->cur[t], 1);
	atomic_fetch_add(&sh->done[t], 1);
	lock_release(&lk);
	_exit(0);
}

static void reset_counts(void)
{
	for (int t = 0; t < 2; t++) {
		atomic_store(&sh->cur[t], 0);
		atomic_store(&sh->max[t], 0);
		atomic_store(&sh->started[t], 0);
		atomic_store(&sh->done[t], 0);
	}
	atomic_store(&sh->waited, 0);
}

/* Fork nchild transfers to pve2 (and as many to pve3 when both), wait
 * for all; asserts each exited 0. */
static void run_children(unsigned n, int nchild, long hold_ms, int both)
{
	pid_t pids[32];
	int np = 0;

	sh->nchild = nchild;
	for (int i = 0; i < nchild; i++)
		for (int t = 0; t <= both; t++) {
			pid_t p = fork();

			assert_true(p >= 0);
			if (p == 0)
				child_transfer(t ? "pve3" : "pve2", t, n, hold_ms);
			pids[np++] = p;
		}
	for (int i = 0; i < np; i++) {
		int st;

		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
}

static void test_limit(void **state)
{
	(void)state;
	/* six runs, two slots: never three at once, but two do overlap */
	reset_counts();
	run_children(2, 6, 150, 0);
	assert_int_equal(atomic_load(&sh->max[0]), 2);
	/* four of the six had to wait for a slot */
	assert_true(atomic_load(&sh->waited) >= 4);
	/* one slot: one after another */
	reset_counts();
	run_children(1, 3, 100, 0);
	assert_int_equal(atomic_load(&sh->max[0]), 1);
	/* as many slots as runs: nobody waits */
	reset_counts();
	run_children(4, 4, 150, 0);
	assert_int_equal(atomic_load(&sh->max[0]), 4);
	assert_int_equal(atomic_load(&sh->waited), 0);
}

static void test_targets_independent(void **state)
{
	(void)state;
	reset_counts();
	run_children(1, 3, 150, 1);
	assert_int_equal(atomic_load(&sh->max[0]), 1);
	assert_int_equal(atomic_load(&sh->max[1]), 1);
}

static void test_files_and_reuse(void **state)
{
	struct lock a = LOCK_INIT, b = LOCK_INIT, c = LOCK_INIT;
	struct strbuf p = STRBUF_INIT;
	struct stat st;
	unsigned s1, s2, s3;
	double w;

	(void)state;
	assert_int_equal(xfer_slot_acquire(&a, dir, "pve2", 2, &s1, &w), 0);
	assert_int_equal(xfer_slot_acquire(&b, dir, "pve2", 2, &s2, &w), 0);
	assert_int_not_equal(s1, s2);
	assert_true(w == 0);
	xfer_slot_path(&p, dir, "pve2", 1);
	assert_int_equal(stat(p.buf, &st), 0);
	assert_non_null(strstr(p.buf, "/lock/transfer-pve2.1.lck"));
	/* a freed slot is taken again at once */
	lock_release(&a);
	assert_int_equal(xfer_slot_acquire(&c, dir, "pve2", 2, &s3, &w), 0);
	assert_int_equal(s3, s1);
	lock_release(&b);
	lock_release(&c);
	strbuf_release(&p);
}

static void note(int sig)
{
	(void)sig;
}

static void test_dead_holder_and_signal(void **state)
{
	struct lock lk = LOCK_INIT;
	unsigned slot;
	double w;
	int st, ready[2];
	char c;
	pid_t holder, waiter, r;

	(void)state;
	/* a holder killed with -9 leaves no stale slot (killed once it holds
	 * the slot: it says so through a pipe) */
	assert_int_equal(pipe(ready), 0);
	holder = fork();
	assert_true(holder >= 0);
	if (holder == 0) {
		struct lock h = LOCK_INIT;

		close(ready[0]);
		if (xfer_slot_acquire(&h, dir, "pve3", 1, &slot, &w) < 0)
			_exit(1);
		if (write(ready[1], "h", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	kill(holder, SIGKILL);
	waitpid(holder, &st, 0);
	assert_int_equal(xfer_slot_acquire(&lk, dir, "pve3", 1, &slot, &w), 0);
	/* a waiter that catches SIGTERM (as the daemon's workers do) gives up
	 * the wait with -EINTR */
	assert_int_equal(pipe(ready), 0);
	waiter = fork();
	assert_true(waiter >= 0);
	if (waiter == 0) {
		struct sigaction sa;
		struct lock h = LOCK_INIT;

		close(ready[0]);
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = note;
		sigaction(SIGTERM, &sa, NULL);
		if (write(ready[1], "w", 1) != 1)
			_exit(1);
		_exit(xfer_slot_acquire(&h, dir, "pve3", 1, &slot, &w) == -EINTR ? 0 : 1);
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	sleep_ms(100);
	assert_int_equal(waitpid(waiter, &st, WNOHANG), 0); /* still waiting */
	/* a SIGTERM that came before the wait began is caught and ignored
	 * like any other: send it again until the wait gives up (20 s) */
	r = 0;
	for (int i = 0; i < 200 && (r = waitpid(waiter, &st, WNOHANG)) == 0; i++) {
		kill(waiter, SIGTERM);
		sleep_ms(100);
	}
	if (r == 0) {
		kill(waiter, SIGKILL);
		waitpid(waiter, &st, 0);
		fail_msg("the waiter did not give up its wait on SIGTERM");
	}
	assert_int_equal(r, waiter);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	lock_release(&lk);
}

static void test_bad_arguments(void **state)
{
	struct lock lk = LOCK_INIT;
	unsigned slot;
	double w;

	(void)state;
	assert_int_equal(xfer_slot_acquire(&lk, dir, "../pve2", 2, &slot, &w), -EINVAL);
	assert_int_equal(xfer_slot_acquire(&lk, dir, "", 2, &slot, &w), -EINVAL);
	assert_int_equal(xfer_slot_acquire(&lk, dir, "pve2", 0, &slot, &w), -EINVAL);
	assert_int_equal(xfer_slot_acquire(&lk, dir, "pve2", XFER_SLOTS_MAX + 1, &slot, &w), -EINVAL);
	assert_int_equal(lk.fd, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_targets_independent),
		cmocka_unit_test(test_files_and_reuse),
		cmocka_unit_test(test_dead_holder_and_signal),
		cmocka_unit_test(test_bad_arguments),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
