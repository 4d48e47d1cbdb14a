/* Accuracy of the in-process rate limit, and raw relay throughput.
 *
 * A producer thread writes zeros into a pipe as fast as it can, a consumer
 * thread drains a second pipe; relay_copy() sits in between, as it does
 * between "zfs send" and ssh. For each target rate the achieved rate is
 * printed with its error; the limited runs add up to >= 10 s, and one of
 * them alone lasts 10 s (the docs/ARCHITECTURE.md §6 yardstick: +-5 % over >= 10 s).
 * Finally the unlimited throughput with splice(2) and with read/write. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec/ratelimit.h"
#include "exec/relay.h"

struct pump {
	int fd;
	volatile int stop;
};

static void *producer(void *arg)
{
	struct pump *p = arg;
	static char zeros[1 << 16];

	while (!p->stop)
		if (write(p->fd, zeros, sizeof(zeros)) < 0)
			break;
	close(p->fd);
	return NULL;
}

static void *consumer(void *arg)
{
	struct pump *p = arg;
	static char sink[1 << 16];

	while (read(p->fd, sink, sizeof(sink)) > 0)
		;
	close(p->fd);
	return NULL;
}

struct timer {
	struct pump *prod;
	double seconds;
};

static void *stopper(void *arg)
{
	struct timer *t = arg;

	sleep_ns((int64_t)(t->seconds * 1e9));
	t->prod->stop = 1;
	return NULL;
}

/* Relay for about seconds at rate (0: unlimited); returns achieved B/s */
static double run(uint64_t rate, double seconds, int no_splice, struct relay_stats *st)
{
	int a[2], b[2];
	struct pump prod, cons;
	struct timer tm;
	pthread_t tp, tc, ts;
	struct relay_opts o = RELAY_OPTS_INIT;

	if (pipe(a) < 0 || pipe(b) < 0) {
		perror("pipe");
		exit(1);
	}
	prod.fd = a[1];
	prod.stop = 0;
	cons.fd = b[0];
	tm.prod = &prod;
	tm.seconds = seconds;
	pthread_create(&tp, NULL, producer, &prod);
	pthread_create(&tc, NULL, consumer, &cons);
	pthread_create(&ts, NULL, stopper, &tm);
	o.rate = rate;
	o.no_splice = no_splice;
	if (relay_copy(a[0], b[1], &o, st) < 0) {
		perror("relay_copy");
		exit(1);
	}
	close(a[0]);
	close(b[1]);
	pthread_join(ts, NULL);
	pthread_join(tp, NULL);
	pthread_join(tc, NULL);
	return (double)st->bytes / st->elapsed;
}

int main(void)
{
	static const struct {
		double mbps, seconds;
	} cases[] = { { 10, 10 }, { 1, 3 }, { 50, 3 }, { 200, 3 }, { 0.2, 3 } };
	struct relay_stats st;
	double worst = 0;

	signal(SIGPIPE, SIG_IGN);
	printf("rate limit accuracy (relay_copy through pipes, token bucket)\n");
	printf("%10s %8s %14s %12s %8s\n", "target", "seconds", "bytes", "achieved", "error");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t rate = (uint64_t)(cases[i].mbps * 1e6);
		double got = run(rate, cases[i].seconds, 0, &st);
		double err = (got - (double)rate) / (double)rate * 100;

		if (err < 0 ? -err > worst : err > worst)
			worst = err < 0 ? -err : err;
		printf("%7.1fMB/s %8.2f %14llu %8.2fMB/s %+7.2f%%\n", cases[i].mbps, st.elapsed,
		       (unsigned long long)st.bytes, got / 1e6, err);
	}
	printf("worst error: %.2f%% (yardstick: 5%%)\n", worst);
	printf("\nunlimited throughput (2 s each)\n");
	double sp = run(0, 2, 0, &st);
	printf("  %-12s %10.0f MB/s%s\n", "splice", sp / 1e6, st.spliced ? "" : " (splice unavailable: read/write)");
	double rw = run(0, 2, 1, &st);
	printf("  %-12s %10.0f MB/s\n", "read/write", rw / 1e6);
	return worst <= 5.0 ? 0 : 1;
}
