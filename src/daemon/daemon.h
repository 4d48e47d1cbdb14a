/* `volrep daemon`: the scheduler service (docs/ARCHITECTURE.md §1, docs/pvesr-compat.md §10).
 *
 * A foreground process (systemd Type=notify; see docs/daemon.md) that
 * sleeps until the next job is due and runs due jobs as separate worker
 * processes, `volrep run --id <jobid>` of its own binary
 * (/proc/self/exe), so a crashed or killed worker never takes the daemon
 * down and scheduled runs share the engine code path with manual ones.
 *
 * Each scheduler pass re-reads the cluster config, volrep.cfg and the
 * node-local state, so changes apply without a restart. A pass runs when
 * the next job is due, when a worker ends, when inotify reports a change
 * in the config dir, this node's guest config dirs or the state file,
 * on SIGHUP, and at least once a minute (config dirs on FUSE file systems
 * such as /etc/pve give no inotify events for remote changes).
 *
 * A worker is `volrep --config-dir .. --state-dir .. --log-dir .. --node ..
 * run --id <jobid> --scheduled --transfer-slots=<max-per-target>
 * [--rate-cap=<MB/s>]` (daemon/worker.h): --scheduled skips a busy guest
 * lock (exit RUN_EXIT_BUSY, defined by the engine in engine/replicate.h;
 * nothing recorded); --transfer-slots is how many runs stream to one
 * target at once (engine/xferslot.h; the daemon itself starts up to
 * max-workers runs whatever their target); --rate-cap, given only with
 * bwlimit, is the worker's share of the node-wide cap, and the run uses
 * min(job rate, cap).
 * Test seam: VOLREP_DAEMON_WORKER=<program> runs that program instead of
 * the own binary, with the same arguments.
 *
 * Monitoring (docs/monitoring.md): with volrep.cfg's metrics-listen the
 * daemon serves GET /metrics (metrics/metrics.h) on an HTTP server
 * thread (http/server.h), restarted when the address changes; the number
 * of running workers is handed to it atomically. When stderr is the
 * journal (JOURNAL_STREAM), every line carries its syslog priority, and
 * failed runs are logged as errors. Notifications are sent by the workers.
 *
 * Signals: SIGHUP forces a reload; SIGTERM/SIGINT stop taking jobs, give
 * running workers shutdown-grace seconds, then SIGTERM their process
 * groups, SIGKILL DAEMON_KILL_TIMEOUT seconds later; a second SIGTERM or
 * SIGINT ends the grace period at once. Exits 0 after the last worker. */
#ifndef VOLREP_DAEMON_DAEMON_H
#define VOLREP_DAEMON_DAEMON_H

#include "config/context.h"

/* Node-local lock against a second daemon for the same state dir; holds
 * the daemon's pid as text. */
#define DAEMON_LOCK_NAME "daemon.lck"
/* How long terminated workers get for their cleanup (removing this run's
 * snapshots, recording the error) before SIGKILL. The systemd unit's
 * TimeoutStopSec must exceed shutdown-grace plus this. */
#define DAEMON_KILL_TIMEOUT 30

/* Run the daemon until SIGTERM/SIGINT. Returns the exit status: 0 after an
 * orderly stop, 1 when it cannot start (another daemon holds the lock,
 * unreadable dirs), 2 for an invalid volrep.cfg at start. */
int daemon_run(const struct context *ctx);

#endif
