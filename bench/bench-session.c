/* Throughput of the session's data frames (transport/session.h): N MB of
 * zeros from a producer thread, through session_stream() on the source
 * side, a pipe pair to this very binary started with "--serve" (the local
 * transport, as tests/unit/test-session.c does), session_serve() there
 * and a command's stdin ("wc -c", which checks the count).
 *
 *   build/bench/bench-session [MB]      (default 2000; BENCH_SESSION_MB too)
 *
 * Prints MB/s with the frames spliced (the default) and with read/write
 * on the source side (relay_opts.no_splice). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec/relay.h"
#include "exec/spawn.h"
#include "transport/local.h"
#include "transport/session.h"

struct producer {
	int fd;
	uint64_t bytes;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	static char zeros[1 << 17];
	uint64_t left = p->bytes;

	while (left) {
		size_t n = left < sizeof(zeros) ? (size_t)left : sizeof(zeros);
		ssize_t w = write(p->fd, zeros, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		left -= (uint64_t)w;
	}
	close(p->fd);
	return NULL;
}

static int sink_start(void *data, const char *cmd, size_t len, struct child *c, int *code, struct strbuf *why)
{
	(void)data;
	(void)len;
	if (strcmp(cmd, "'volrep' 'sink'")) {
		*code = 2;
		strbuf_addf(why, "refused: %s", cmd);
		return -EACCES;
	}
	strvec_pushv(&c->args, (const char *const[]){ "wc", "-c", NULL });
	c->in = c->out = c->err = CHILD_PIPE;
	return child_start(c);
}

static int serve_main(void)
{
	struct session_server srv = { .start = sink_start, .data = NULL, .idle_ms = 60000 };
	struct strbuf err = STRBUF_INIT;
	int r = session_serve(0, 1, &srv, &err);

	if (r < 0)
		fprintf(stderr, "serve: %s\n", err.buf);
	return r < 0 ? 1 : 0;
}

/* One stream of mb MB; returns MB/s (0 on failure). */
static double run(struct session *s, uint64_t mb, int no_splice)
{
	struct relay_opts o = RELAY_OPTS_INIT;
	struct relay_stats st = { 0 };
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct producer p = { .bytes = mb * 1000000 };
	pthread_t tp;
	int fds[2], r;

	if (pipe(fds) < 0) {
		perror("pipe");
		exit(1);
	}
	p.fd = fds[1];
	pthread_create(&tp, NULL, produce, &p);
	o.no_splice = no_splice;
	r = session_stream(s, (const char *const[]){ "volrep", "sink", NULL }, fds[0], &o, &out, &err, 1024, &st);
	close(fds[0]);
	pthread_join(tp, NULL);
	if (r != 0 || strtoull(out.buf, NULL, 10) != p.bytes) {
		fprintf(stderr, "session_stream: %d, target counted '%s' (%s)\n", r, out.buf, err.buf);
		r = -1;
	}
	strbuf_release(&out);
	strbuf_release(&err);
	return r < 0 ? 0 : (double)st.bytes / 1e6 / st.elapsed;
}

int main(int argc, char **argv)
{
	struct transport t = TRANSPORT_INIT;
	struct strbuf err = STRBUF_INIT;
	struct session *s;
	const char *env = getenv("BENCH_SESSION_MB");
	uint64_t mb = argc > 1 ? strtoull(argv[1], NULL, 10) : env ? strtoull(env, NULL, 10) : 2000;
	double sp, rw;

	signal(SIGPIPE, SIG_IGN);
	if (argc > 1 && !strcmp(argv[1], "--serve"))
		return serve_main();
	if (transport_local_init(&t, "bench", NULL) < 0)
		return 1;
	t.stall_timeout = 60;
	if (session_open(&t, (const char *const[]){ "volrep", "--serve", NULL }, &s, &err) < 0) {
		fprintf(stderr, "session_open: %s\n", err.buf);
		return 1;
	}
	printf("session data frames: %llu MB through session_stream/session_serve\n", (unsigned long long)mb);
	sp = run(s, mb, 0);
	printf("  %-12s %10.0f MB/s\n", "default", sp);
	rw = run(s, mb, 1);
	printf("  %-12s %10.0f MB/s\n", "read/write", rw);
	session_close(s);
	transport_release(&t);
	strbuf_release(&err);
	return sp > 0 && rw > 0 ? 0 : 1;
}
