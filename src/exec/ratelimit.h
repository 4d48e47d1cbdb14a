/* Bandwidth limit applied in-process (after openssh's bandwidth_limit()):
 * a token bucket on the monotonic clock, called once per chunk of the
 * relay loop between an export's stdout and ssh's stdin. No extra pipe
 * process (pvesr runs cstream for this).
 *
 *   struct ratelimit rl;
 *   ratelimit_init(&rl, 10 * 1000 * 1000, 128 * 1024);   10 MB/s
 *   loop { n = read(...); write(...); ratelimit_account(&rl, n); }
 *
 * Rates are bytes per second; a job's "rate" option is in MB/s with
 * 1 MB = 1e6 bytes (pvesr: int(1000000 * rate)). */
#ifndef VOLREP_EXEC_RATELIMIT_H
#define VOLREP_EXEC_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "base/time-util.h" /* mono_ns(), the clock of the limiter */

struct ratelimit {
	uint64_t rate;    /* bytes per second, 0 = unlimited */
	uint64_t burst;   /* bucket size in bytes */
	int64_t paid_ns;  /* monotonic time up to which the sent bytes are paid for */
	uint64_t slept_ns; /* total time spent sleeping (for statistics) */
};

/* Limit to bytes_per_sec (0: no limit). burst is the most that may pass
 * without waiting after an idle period (e.g. the relay's buffer size): a
 * larger bucket lets a stalled stream catch up in a burst, a smaller one
 * forces sleeping in tiny steps. */
void ratelimit_init(struct ratelimit *rl, uint64_t bytes_per_sec, uint64_t burst);
/* Account n bytes just sent; sleeps (retrying EINTR) until sending them
 * fits the rate. */
void ratelimit_account(struct ratelimit *rl, uint64_t n);
/* The chunk size a relay should use at this rate so that the limit is
 * smooth (about 1/16 s worth of data) but syscalls stay cheap: between
 * 4 KiB and bufsize. */
size_t ratelimit_chunk(const struct ratelimit *rl, size_t bufsize);

/* Convert a job's rate in MB/s ("10", "2.5") to bytes per second as pvesr
 * does: int(1e6 * rate). Returns 0 and stores the result, or -EINVAL for
 * anything that is not a positive finite number, -ERANGE when it rounds
 * to 0 or overflows. */
int ratelimit_parse_mbps(const char *s, uint64_t *bytes_per_sec);

/* Sleep ns nanoseconds, resuming after signals. */
void sleep_ns(int64_t ns);

#endif
