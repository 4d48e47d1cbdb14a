/* The per-job run log: <log_dir>/<jobid>, one file per job holding the last
 * run only (pvesr truncates it at every start). Lines are
 *   YYYY-MM-DD HH:MM:SS <jobid>: <message>
 * in local time, like pvesr, so admins' habits and scripts carry over.
 *
 * The logs of earlier runs are kept next to it as <jobid>.1 (the run
 * before), <jobid>.2, ... up to volrep.cfg's log-keep (default 10):
 * joblog_rotate() before each run shifts them by one. `volrep log <id>
 * --list / --run K` reads them. */
#ifndef VOLREP_ENGINE_JOBLOG_H
#define VOLREP_ENGINE_JOBLOG_H

#include <stddef.h>
#include <stdio.h>

#include "base/strbuf.h"

struct joblog {
	FILE *f;
	char jobid[32];
	/* also print each message to this stream (volrep run --verbose) */
	FILE *echo;
};

/* Create the log dir if needed and truncate/open the job's log. Returns 0 or
 * -errno (the caller reports "unable to open replication log '<file>'"). */
int joblog_open(struct joblog *jl, const char *log_dir, const char *jobid, FILE *echo);
/* Append one message; embedded newlines start new prefixed lines. Flushed
 * at once so that `volrep log` and tail -f see progress. */
void joblog_printf(struct joblog *jl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void joblog_close(struct joblog *jl);

/* Append the path of the log of run k to sb: 0 = the current (last)
 * run, <log_dir>/<jobid>; 1 = the one before, <log_dir>/<jobid>.1; ... */
void joblog_run_path(struct strbuf *sb, const char *log_dir, const char *jobid, unsigned k);

/* Keep the current log as <jobid>.1 and shift the older ones, dropping
 * what is beyond keep (keep 0: no earlier logs, as pvesr). Errors are
 * ignored: a log that cannot be rotated is overwritten, the run goes on. */
void joblog_rotate(const char *log_dir, const char *jobid, unsigned keep);

#endif
