/* Compression on the wire through a rate-limited link: the effective
 * rate (stream bytes per second) of relay_pump with zstd and lz4 against
 * no compression, on text-like and on incompressible (random) data. The
 * link is the relay's own rate limit, which counts the bytes on the wire,
 * as a job's rate does. Yardsticks: on text-like data >= 2x the
 * uncompressed rate; on random data within 5 % of it (the encoder sends
 * such chunks raw and stops trying). */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec/ratelimit.h"
#include "exec/relay.h"
#include "exec/wire.h"

#define DATA_LEN (16u << 20)
#define RATE (10u * 1000 * 1000)
#define SECONDS 3.0

struct pump {
	int fd;
	const uint8_t *data;
	volatile int stop;
};

static void *producer(void *arg)
{
	struct pump *p = arg;
	size_t off = 0;

	while (!p->stop) {
		ssize_t n = write(p->fd, p->data + off, 65536);

		if (n <= 0)
			break;
		off = (off + (size_t)n) % (DATA_LEN - 65536);
	}
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

static void *stopper(void *arg)
{
	struct pump *p = arg;

	sleep_ns((int64_t)(SECONDS * 1e9));
	p->stop = 1;
	return NULL;
}

/* stream bytes per second through the limited link */
static double run(const uint8_t *data, enum wire_codec c, double *ratio)
{
	int a[2], b[2];
	struct pump prod = { .data = data }, cons = { 0 };
	pthread_t tp, tc, ts;
	struct relay_opts o = RELAY_OPTS_INIT;
	struct relay_stats st;

	if (pipe(a) < 0 || pipe(b) < 0) {
		perror("pipe");
		exit(1);
	}
	prod.fd = a[1];
	cons.fd = b[0];
	pthread_create(&tp, NULL, producer, &prod);
	pthread_create(&tc, NULL, consumer, &cons);
	pthread_create(&ts, NULL, stopper, &prod);
	o.rate = RATE;
	if (c != WIRE_NONE)
		o.enc = wire_enc_new(c, 3);
	if (relay_pump(a[0], b[1], &o, NULL, 0, &st) < 0) {
		perror("relay_pump");
		exit(1);
	}
	close(a[0]);
	pthread_join(ts, NULL);
	pthread_join(tp, NULL);
	pthread_join(tc, NULL);
	wire_enc_free(o.enc);
	*ratio = st.wire ? (double)st.bytes / (double)st.wire : 0;
	return (double)st.bytes / st.elapsed;
}

static uint8_t *make_text(void)
{
	uint8_t *p = malloc(DATA_LEN);
	size_t off = 0;
	unsigned long i = 0;

	while (off < DATA_LEN) {
		char line[96];
		int k = snprintf(line, sizeof(line), "%lu replication of volume vm-%lu-disk-0 at offset %lu\n", i,
				 100 + i % 50, i * 4096);

		for (int j = 0; j < k && off < DATA_LEN; j++)
			p[off++] = (uint8_t)line[j];
		i++;
	}
	return p;
}

static uint8_t *make_random(void)
{
	uint8_t *p = malloc(DATA_LEN);
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	for (size_t i = 0; i < DATA_LEN; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)(x >> 32);
	}
	return p;
}

int main(void)
{
	static const struct {
		const char *what;
		int random;
		double want;   /* least ratio to the uncompressed rate */
	} kinds[] = { { "text-like", 0, 2.0 }, { "random", 1, 0.95 } };
	int missed = 0;

	signal(SIGPIPE, SIG_IGN);
	printf("compression on the wire: effective rate through a %.0f MB/s link (%.0f s each)\n", RATE / 1e6,
	       SECONDS);
	for (size_t k = 0; k < 2; k++) {
		uint8_t *data = kinds[k].random ? make_random() : make_text();
		double r0, c0, rz, cz, rl, cl;

		r0 = run(data, WIRE_NONE, &c0);
		rz = run(data, WIRE_ZSTD, &cz);
		rl = run(data, WIRE_LZ4, &cl);
		printf("  %-10s none %6.2f MB/s   zstd %7.2f MB/s (wire ratio %5.2f)   lz4 %7.2f MB/s (wire ratio %5.2f)\n",
		       kinds[k].what, r0 / 1e6, rz / 1e6, cz, rl / 1e6, cl);
		for (int c = 0; c < 2; c++) {
			double ratio = (c ? rl : rz) / r0;
			int ok = ratio >= kinds[k].want;

			printf("  %-10s %s vs none: %.2fx (goal >= %.2fx) %s\n", kinds[k].what, c ? "lz4 " : "zstd", ratio,
			       kinds[k].want, ok ? "OK" : "MISSED");
			missed |= !ok;
		}
		free(data);
	}
	return missed;
}
