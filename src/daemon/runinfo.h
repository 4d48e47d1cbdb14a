/* What the daemon reads back from a finished run for its one-line report:
 * the bytes sent, from the run's job log (<log_dir>/<jobid>, which holds
 * only the last run). The engine writes one line per transferred volume,
 *     <date> <time> <jobid>: transferred <N> bytes in <S>s ...
 * and the daemon adds up the N. */
#ifndef VOLREP_DAEMON_RUNINFO_H
#define VOLREP_DAEMON_RUNINFO_H

#include <stdint.h>

#include "base/strbuf.h"

/* A job log larger than this is not read for the report (a normal one is
 * a few KiB; the cap bounds the work on a hostile or runaway file). */
#define RUNINFO_LOG_MAX (4 * 1024 * 1024)

/* Sum of the "transferred <N> bytes" lines of the job's log. Returns 0
 * and *ret, -ENOENT when the log has no such line (or does not exist),
 * or another -errno. */
int runinfo_bytes(const char *log_dir, const char *jobid, uint64_t *ret);

/* Parse a job log text (as runinfo_bytes; for tests). */
int runinfo_parse_bytes(const char *text, const char *jobid, uint64_t *ret);

/* "0 B", "512 B", "10.5 MB", "1.20 GB" (decimal units, as the rate). */
void runinfo_format_size(uint64_t bytes, struct strbuf *out);

#endif
