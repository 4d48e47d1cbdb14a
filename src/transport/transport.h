/* Running volrep's target-side verbs on another node (docs/ARCHITECTURE.md §1, §3).
 *
 * A transport turns "run this argv on node X" into a local child process:
 * ssh (transport/ssh.h: the real thing, one multiplexed connection per
 * target) or local (transport/local.h: the command runs on this machine,
 * for tests and single-host setups). The engine only sees this header.
 *
 * Calling sequence:
 *   struct transport t = TRANSPORT_INIT;
 *   transport_ssh_init(&t, node, address, state_dir);   (or _local_init)
 *   r = transport_run(&t, argv, NULL, 0, &out, &err, max);
 *   if (r) { transport_describe(&t, argv, r, err.buf, &msg); ... }
 *   ... or, to stream an export into "volrep import" there:
 *   struct child c = CHILD_INIT; c.in = CHILD_PIPE;
 *   transport_start(&t, argv, &c); relay_copy(export_fd, c.in, ...);
 *   close(c.in); r = transport_finish(&t, &c);
 *   transport_release(&t);
 *
 * argv is the command as it should run on the target, e.g.
 * { "volrep", "prepare-local-job", "100-0", ..., NULL }; the transport
 * takes care of quoting. Results: >= 0 is the exit code of the remote
 * command (128+n when it was killed by signal n); negative values:
 *   -ENOTCONN  the link failed (ssh could not connect, authenticate, or
 *              lost the connection: ssh's exit code 255)
 *   -EFBIG     output larger than max (run only; the child was killed)
 *   -ETIMEDOUT nothing moved for t->stall_timeout seconds (the command
 *              and, for a stream, its input relay were stopped; the
 *              local child was killed)
 *   other      -errno from starting the local child (-ENOENT: no ssh) */
#ifndef VOLREP_TRANSPORT_TRANSPORT_H
#define VOLREP_TRANSPORT_TRANSPORT_H

#include <stddef.h>

#include "base/strbuf.h"
#include "base/strvec.h"
#include "exec/spawn.h"

struct transport;

struct transport_ops {
	const char *name; /* "ssh", "local" */
	/* Fill c->args (and c->env) so that starting c runs argv on the
	 * target. Returns 0 or -errno (nothing added then). */
	int (*prepare)(const struct transport *t, const char *const *argv, struct child *c);
	/* Map the local child's exit code to the result convention above. */
	int (*map_exit)(const struct transport *t, int code);
};

struct transport {
	const struct transport_ops *ops;
	char *node;        /* target node name (validated) */
	char *address;     /* ssh: host address (validated); local: NULL */
	struct strvec cmd; /* ssh: program + extra options; local: the volrep binary */
	char *control_dir; /* ssh: private socket directory, NULL: no multiplexing */
	unsigned control_persist; /* ssh: seconds the control master outlives its last use */
	char *user;        /* ssh: remote user ("root") */
	struct strvec env; /* local: "KEY=VALUE" set for the command */
	/* seconds without a byte from (or to) the command before it is
	 * killed and -ETIMEDOUT returned; set to TRANSPORT_STALL_DEFAULT
	 * by the init functions (volrep.cfg stall-timeout overrides) */
	unsigned stall_timeout;
};
#define TRANSPORT_STALL_DEFAULT 300
#define TRANSPORT_INIT { .ops = NULL, .node = NULL, .address = NULL, .cmd = STRVEC_INIT, \
			 .control_dir = NULL, .control_persist = 0, .user = NULL, .env = STRVEC_INIT, .stall_timeout = 0 }

/* Free what an init function allocated; t can be initialized again. */
void transport_release(struct transport *t);

/* The local argv that runs argv on the target (what transport_start would
 * exec), appended to out. Returns 0 or -errno. Exposed for tests and for
 * "volrep --verbose" style diagnostics. */
int transport_build_argv(const struct transport *t, const char *const *argv, struct strvec *out);

/* Run argv on the target with input (may be NULL) as its stdin, capturing
 * stdout/stderr into out/err (each may be NULL, each capped at max bytes).
 * Returns as described at the top of this file. */
int transport_run(struct transport *t, const char *const *argv, const char *input, size_t inlen,
		  struct strbuf *out, struct strbuf *err, size_t max);

/* Start argv on the target as child c. The caller sets c->in / c->out /
 * c->err / c->new_pgrp first (usually c->in = CHILD_PIPE for streaming);
 * args and env are filled here. Returns 0 or -errno (c is then cleared). */
int transport_start(struct transport *t, const char *const *argv, struct child *c);
/* Wait for a child from transport_start; returns as transport_run. */
int transport_finish(struct transport *t, struct child *c);

/* Run argv on the target with its stdin fed from in_fd through
 * relay_pump() (rate limit, progress: see exec/relay.h), while collecting
 * its stdout/stderr into out/err (may be NULL; at most max bytes each,
 * the rest is discarded). in_fd is not closed. stats may be NULL.
 * Returns as transport_run; when the command exits 0 but the copy failed
 * (e.g. -EPIPE) the copy's error is returned. The command runs in its own
 * process group; when o->abort_flag stops the copy (-EINTR from
 * relay_pump) its stdin is closed, it gets a few seconds to end by itself
 * before its group gets SIGTERM (child_stop), and -EINTR is returned. */
struct relay_opts;
struct relay_stats;
int transport_stream(struct transport *t, const char *const *argv, int in_fd,
		     const struct relay_opts *o, struct strbuf *out, struct strbuf *err,
		     size_t max, struct relay_stats *stats);

/* One-line message for a non-zero result r of transport_run/_finish, with
 * the last non-empty line of the command's stderr (err, may be NULL; it is
 * untrusted remote text: control characters are replaced and it is cut to
 * 200 bytes). Examples:
 *   ssh to 'pve2' (10.0.0.2) failed: ssh: connect to host ... refused
 *   command 'prepare-local-job' on 'pve2' failed (exit code 1): <line>
 * The message replaces the content of msg. */
void transport_describe(const struct transport *t, const char *const *argv, int r,
			const char *err, struct strbuf *msg);

#endif
