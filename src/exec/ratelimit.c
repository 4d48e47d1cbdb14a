#include "exec/ratelimit.h"

#include <errno.h>
#include <math.h>
#include <time.h>

#include "base/parse-util.h"

#define NSEC 1000000000LL

void sleep_ns(int64_t ns)
{
	struct timespec ts, rem;

	if (ns <= 0)
		return;
	ts.tv_sec = (time_t)(ns / NSEC);
	ts.tv_nsec = (long)(ns % NSEC);
	while (nanosleep(&ts, &rem) < 0 && errno == EINTR)
		ts = rem;
}

void ratelimit_init(struct ratelimit *rl, uint64_t bytes_per_sec, uint64_t burst)
{
	rl->rate = bytes_per_sec;
	rl->burst = burst;
	rl->slept_ns = 0;
	rl->paid_ns = mono_ns();
}

void ratelimit_account(struct ratelimit *rl, uint64_t n)
{
	int64_t now, cost, floor_ns, wait;

	if (!rl->rate)
		return;
	now = mono_ns();
	/* an idle (or slow-consumer) period earns at most one bucket of
	 * credit: otherwise a stalled stream would afterwards run unlimited
	 * until it caught up with the average */
	floor_ns = now - (int64_t)((double)rl->burst * NSEC / (double)rl->rate);
	if (rl->paid_ns < floor_ns)
		rl->paid_ns = floor_ns;
	cost = (int64_t)((double)n * NSEC / (double)rl->rate);
	rl->paid_ns += cost;
	wait = rl->paid_ns - now;
	if (wait > 0) {
		sleep_ns(wait);
		rl->slept_ns += (uint64_t)wait;
	}
}

size_t ratelimit_chunk(const struct ratelimit *rl, size_t bufsize)
{
	uint64_t c;

	if (!rl->rate)
		return bufsize;
	c = rl->rate / 16;
	if (c < 4096)
		c = 4096;
	return c < bufsize ? (size_t)c : bufsize;
}

int ratelimit_parse_mbps(const char *s, uint64_t *bytes_per_sec)
{
	double v, b;
	int r = parse_double(s, &v);

	if (r < 0)
		return -EINVAL;
	if (!(v > 0))
		return -EINVAL;
	b = floor(v * 1e6);
	if (b < 1 || b > 9.0e15)
		return -ERANGE;
	*bytes_per_sec = (uint64_t)b;
	return 0;
}
