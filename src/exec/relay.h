/* Copy a stream from one fd to another (an export's stdout into ssh's
 * stdin), optionally rate limited in-process, counting bytes and reporting
 * progress.
 *
 *   struct relay_opts o = RELAY_OPTS_INIT;
 *   o.rate = 10000000; o.progress = cb; o.data = ctx;
 *   r = relay_copy(send_out, ssh_in, &o, &stats);
 *
 * Plain read/write through a 128 KiB buffer; without a limit and when
 * both ends are pipes, splice(2) moves the pages without copying them
 * through user space (falls back to read/write when the kernel refuses). */
#ifndef VOLREP_EXEC_RELAY_H
#define VOLREP_EXEC_RELAY_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"
#include "exec/wire.h"

#define RELAY_BUFSIZE (128 * 1024)

struct relay_progress {
	uint64_t bytes;   /* copied so far */
	uint64_t total;   /* expected total, 0 = unknown */
	double elapsed;   /* seconds since the start */
	double rate;      /* average bytes per second so far */
	double eta;       /* seconds left, < 0 when unknown */
	int done;         /* 1 on the final call (EOF reached) */
};

struct relay_opts {
	uint64_t rate;            /* bytes per second, 0 = unlimited */
	uint64_t total;           /* expected size for the ETA, 0 = unknown */
	double interval;          /* seconds between progress calls */
	int no_splice;            /* 1: always read/write (benchmarks) */
	/* called at most every interval seconds while data flows, and once at
	 * EOF with done = 1; may be NULL */
	void (*progress)(const struct relay_progress *p, void *data);
	void *data;
	/* when non-NULL and *abort_flag becomes non-zero (a signal handler
	 * sets it: see engine/interrupt.h), relay_pump stops within about
	 * RELAY_ABORT_POLL_MS and returns -EINTR */
	const volatile sig_atomic_t *abort_flag;
	/* relay_pump: when no byte moves (read from in, written to out, read
	 * from a side) for this long, stop and return -ETIMEDOUT; 0 = never */
	long stall_timeout_ms;
	/* relay_pump: when non-NULL, the stream is compressed in chunks of
	 * RELAY_BUFSIZE with it (exec/wire.h) on the way; the rate limit
	 * then applies to the compressed bytes, the bytes on the wire */
	struct wire_enc *enc;
};
#define RELAY_OPTS_INIT { .rate = 0, .total = 0, .interval = 1.0, .no_splice = 0, \
			  .progress = NULL, .data = NULL, .abort_flag = NULL, .stall_timeout_ms = 0, \
			  .enc = NULL }

/* With an abort_flag, the poll loop wakes up at least this often: a signal
 * that arrives just before poll() (so poll does not see EINTR) is noticed
 * this late at most. */
#define RELAY_ABORT_POLL_MS 200

/* Call o->progress (when set) for a copy that started at start (mono_ns)
 * and moved bytes so far: at most every o->interval seconds after *last,
 * the time of the previous call, unless done. */
void relay_report(const struct relay_opts *o, int64_t start, int64_t *last, uint64_t bytes, int done);

struct relay_stats {
	uint64_t bytes;   /* of the stream (read from in; progress counts these) */
	uint64_t wire;    /* written to out: bytes unless compressed */
	double elapsed;
	double slept;     /* seconds spent waiting for the rate limit */
	int spliced;      /* 1 when splice(2) did the copying */
};

/* A pipe that a stream's payload passes through with splice(2), so that
 * its bytes never cross user space: the session's data frames (a header
 * written, then exactly the payload spliced after it). Both ends are
 * non-blocking.
 *
 *   struct relay_pipe p = RELAY_PIPE_INIT;
 *   n = relay_pipe_fill(&p, in, max);     from in into the pipe
 *   n = relay_pipe_drain(&p, out, p.fill); from the pipe to out
 *   relay_pipe_close(&p);
 * Both return the bytes moved, 0 at EOF (fill), or -errno: -EAGAIN (try
 * after poll), -EINVAL or -ENOSYS (this fd cannot be spliced: fall back
 * to read/write, with relay_pipe_read() for what the pipe holds). */
struct relay_pipe {
	int rd, wr;  /* -1 until the first fill */
	size_t fill; /* bytes in the pipe */
	int used;    /* 1 once a byte was spliced */
};
#define RELAY_PIPE_INIT { .rd = -1, .wr = -1, .fill = 0, .used = 0 }
ssize_t relay_pipe_fill(struct relay_pipe *p, int in, size_t max);
ssize_t relay_pipe_drain(struct relay_pipe *p, int out, size_t max);
/* Read at most max of the pipe's bytes into buf. */
ssize_t relay_pipe_read(struct relay_pipe *p, void *buf, size_t max);
/* Close the pipe (what it holds is dropped); it opens again on a fill. */
void relay_pipe_close(struct relay_pipe *p);

/* Copy from in to out until EOF on in. Neither fd is closed. Returns 0,
 * or -errno: a read error, or a write error (-EPIPE when the reader went
 * away: SIGPIPE must be ignored by the caller, volrep's main does). stats
 * (may be NULL) is filled in either case. */
int relay_copy(int in, int out, const struct relay_opts *o, struct relay_stats *stats);

/* A stream read alongside the copy (the remote command's stdout/stderr),
 * so that neither side can block the other on a full pipe. */
struct relay_side {
	int fd;             /* read until EOF, then closed and set to -1 */
	struct strbuf *buf; /* collects the first max bytes (NULL: discard) */
	size_t max;
	int overflow;       /* set when more than max bytes arrived */
};

/* relay_copy() from in to out in a poll loop that also drains the side
 * streams. out is closed at EOF of in (so the reader sees EOF) or when
 * writing fails; then the sides are drained to EOF (the command's last
 * words explain why it stopped reading). out is switched to non-blocking
 * mode. Returns 0 or -errno of the copy (-EPIPE: the reader went away),
 * or -EINTR when o->abort_flag was raised, or -ETIMEDOUT when nothing
 * moved for o->stall_timeout_ms: then out and the sides are closed at
 * once, without draining (the caller kills the command). Uncompressed,
 * the stream is spliced through a relay_pipe (read/write where in or out
 * refuses splice, or with o->no_splice). */
int relay_pump(int in, int out, const struct relay_opts *o, struct relay_side *sides,
	       size_t nsides, struct relay_stats *stats);

#endif
