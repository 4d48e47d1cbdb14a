/* Aborting a run on SIGTERM, SIGINT or SIGHUP (`volrep run`, and the
 * daemon's workers `volrep run --id X --scheduled`, which the daemon
 * stops with SIGTERM to their process group).
 *
 *   interrupt_install();          once, in the command, before the run
 *   ... run_replication() ...     checks interrupt_signal() between steps;
 *                                 the relay loop watches interrupt_flag()
 *
 * The handler only stores the signal number in a sig_atomic_t; all the
 * work (killing the export and transport children, removing this run's
 * snapshots, recording the failure) is done by the engine's ordinary
 * error path once it notices the flag. The handlers are installed without
 * SA_RESTART, so blocking calls return EINTR and the loops look at the
 * flag at once. A second signal changes nothing: the cleanup is bounded
 * (busy retries of the snapshot removal included). */
#ifndef VOLREP_ENGINE_INTERRUPT_H
#define VOLREP_ENGINE_INTERRUPT_H

#include <signal.h>

#include "base/strbuf.h"

/* Install the handlers for SIGTERM, SIGINT and SIGHUP. Returns 0 or
 * -errno. */
int interrupt_install(void);

/* The signal received since installation (or the last reset), 0 when
 * none. Async-signal-safe. */
int interrupt_signal(void);

/* The flag itself, for exec/relay.h's abort_flag (non-zero: stop). */
const volatile sig_atomic_t *interrupt_flag(void);

/* Append "interrupted by SIGTERM" (or SIGINT, SIGHUP, "signal N") for sig
 * to sb. */
void interrupt_describe(int sig, struct strbuf *sb);

/* Forget a received signal (tests; a process that goes on after a
 * handled interruption). */
void interrupt_reset(void);

/* Pretend sig was received (tests). */
void interrupt_raise_flag(int sig);

#endif
