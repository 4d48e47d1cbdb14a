/* Running other programs, never through a shell.
 *
 * This is the only place in volrep that forks or execs (a grep in the test
 * suite enforces that). argv is always an array: nothing is ever
 * re-parsed by /bin/sh on this machine. Calling sequence (after git's
 * run-command.h):
 *   1. struct child c = CHILD_INIT; strvec_push(&c.args, "zfs"); ...
 *   2. set c.in / c.out / c.err: CHILD_INHERIT (default), CHILD_PIPE (a pipe
 *      is made, the parent's end is stored back into the field after
 *      child_start()), CHILD_NULL (/dev/null) or an fd >= 0 to dup in.
 *   3. child_start(&c); use the pipe ends; close them;
 *   4. child_finish(&c) -> exit code (128+signal when killed).
 * run_capture() does all of it for the common "run, collect output" case. */
#ifndef VOLREP_EXEC_SPAWN_H
#define VOLREP_EXEC_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

#include "base/strbuf.h"
#include "base/strvec.h"

#define CHILD_INHERIT (-1)
#define CHILD_PIPE (-2)
#define CHILD_NULL (-3)

struct child {
	struct strvec args;
	/* "KEY=VALUE" entries added to (or replacing in) the environment */
	struct strvec env;
	int in, out, err;
	/* put the child in its own process group (so a kill reaches its
	 * children, e.g. ssh's) */
	int new_pgrp;
	/* child_capture(): when no byte moves on any of its pipes for this
	 * long, the child (its group with new_pgrp) gets SIGKILL and
	 * child_capture returns -ETIMEDOUT; 0 = wait forever */
	long stall_timeout_ms;
	pid_t pid;
};
#define CHILD_INIT { .args = STRVEC_INIT, .env = STRVEC_INIT, .in = CHILD_INHERIT, \
		     .out = CHILD_INHERIT, .err = CHILD_INHERIT, .new_pgrp = 0, \
		     .stall_timeout_ms = 0, .pid = -1 }

/* Start the child. Returns 0, or -errno (-ENOENT when the program does not
 * exist: posix_spawnp reports a failed exec). */
int child_start(struct child *c);
/* Like child_start, but the child runs fn(arg) in a copy of this process
 * (fork without exec; c->args and c->env are not used) and exits with its
 * return value (0..255) after flushing stdio. For a server that runs its
 * own verbs: cheaper than starting the binary again, and what the parent
 * has loaded and probed is there already. Returns 0 or -errno. */
int child_start_fn(struct child *c, int (*fn)(void *), void *arg);
/* Wait for the child; returns its exit code, 128+signal if it was killed,
 * or -errno. Frees args/env. */
int child_finish(struct child *c);
/* child_finish() without blocking, for event loops (the daemon's workers):
 * returns 1 and the exit code in *code (as child_finish; args/env freed)
 * when the child has ended, 0 while it runs, or -errno. */
int child_try_finish(struct child *c, int *code);
/* Stop a child whose input was closed (an aborted stream): give it up to
 * wait_ms to exit by itself (it sees EOF or EPIPE and cleans up), then
 * child_kill(SIGTERM), SIGCONT (so that a stopped child gets it) and
 * wait. Returns as child_finish. */
int child_stop(struct child *c, long wait_ms);
/* Kill the child (SIGTERM to its process group if new_pgrp) */
void child_kill(struct child *c, int sig);
void child_clear(struct child *c);

/* Run argv with stdin from input (NULL: /dev/null), collecting stdout and
 * stderr into out/err (either may be NULL: discarded), each capped at max
 * bytes (-EFBIG when exceeded; the child is killed). Returns the exit code
 * as child_finish() does, or -errno. */
int run_capture(const char *const *argv, const char *input, size_t inlen,
		struct strbuf *out, struct strbuf *err, size_t max);

/* run_capture() for a prepared child (args, env, new_pgrp,
 * stall_timeout_ms set by the caller; in/out/err are overwritten). Frees
 * args/env like child_finish. -ETIMEDOUT: the child stalled and was
 * killed (what it wrote until then is in out/err). */
int child_capture(struct child *c, const char *input, size_t inlen,
		  struct strbuf *out, struct strbuf *err, size_t max);

/* Describe an exit code from child_finish for messages:
 * "exit code 1", "killed by signal 9". */
const char *exit_status_str(int code, char *buf, size_t size);

#endif
