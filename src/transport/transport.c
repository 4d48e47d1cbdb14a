#include "transport/transport.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "base/sanitize.h"
#include "exec/relay.h"

/* How long an aborted stream's command may take to end by itself. */
#define TRANSPORT_STOP_WAIT_MS 3000

void transport_release(struct transport *t)
{
	free(t->node);
	free(t->address);
	free(t->control_dir);
	free(t->user);
	strvec_clear(&t->cmd);
	strvec_clear(&t->env);
	t->ops = NULL;
	t->node = t->address = t->control_dir = t->user = NULL;
}

int transport_build_argv(const struct transport *t, const char *const *argv, struct strvec *out)
{
	struct child c = CHILD_INIT;
	int r;

	if (!t->ops || !argv || !argv[0])
		return -EINVAL;
	r = t->ops->prepare(t, argv, &c);
	if (r == 0)
		for (size_t i = 0; i < c.args.nr; i++)
			strvec_push(out, c.args.v[i]);
	child_clear(&c);
	return r;
}

int transport_run(struct transport *t, const char *const *argv, const char *input, size_t inlen,
		  struct strbuf *out, struct strbuf *err, size_t max)
{
	struct child c = CHILD_INIT;
	int r;

	if (!t->ops || !argv || !argv[0])
		return -EINVAL;
	r = t->ops->prepare(t, argv, &c);
	if (r < 0) {
		child_clear(&c);
		return r;
	}
	c.stall_timeout_ms = (long)t->stall_timeout * 1000;
	r = child_capture(&c, input, inlen, out, err, max);
	return r < 0 ? r : t->ops->map_exit(t, r);
}

int transport_start(struct transport *t, const char *const *argv, struct child *c)
{
	int r;

	if (!t->ops || !argv || !argv[0])
		return -EINVAL;
	r = t->ops->prepare(t, argv, c);
	if (r == 0)
		r = child_start(c);
	if (r < 0)
		child_clear(c);
	return r;
}

int transport_finish(struct transport *t, struct child *c)
{
	int r = child_finish(c);

	return r < 0 ? r : t->ops->map_exit(t, r);
}

/* The last non-empty line of untrusted text, made printable and short. */
static void last_line(const char *err, struct strbuf *dst)
{
	const char *end, *start;

	if (!err)
		return;
	end = err + strlen(err);
	while (end > err && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	start = end;
	while (start > err && start[-1] != '\n')
		start--;
	if (end - start > 200)
		end = start + 200;
	strbuf_add_sanitized(dst, start, (size_t)(end - start), 0);
}

void transport_describe(const struct transport *t, const char *const *argv, int r,
			const char *err, struct strbuf *msg)
{
	struct strbuf line = STRBUF_INIT;
	const char *what = argv && argv[0] ? (argv[1] && !strcmp(argv[0], "volrep") ? argv[1] : argv[0]) : "?";
	const char *node = t->node ? t->node : "?";
	char st[64];

	strbuf_reset(msg);
	last_line(err, &line);
	if (r == -ENOTCONN) {
		strbuf_addf(msg, "%s to '%s'", t->ops ? t->ops->name : "transport", node);
		if (t->address)
			strbuf_addf(msg, " (%s)", t->address);
		strbuf_addf(msg, " failed: %s", line.len ? line.buf : "connection failed");
	} else if (r == -ETIMEDOUT) {
		strbuf_addf(msg, "no data for %u s from '%s' on '%s' - transfer stalled", t->stall_timeout, what,
			    node);
	} else if (r == -EFBIG) {
		strbuf_addf(msg, "command '%s' on '%s' produced too much output", what, node);
	} else if (r < 0) {
		strbuf_addf(msg, "cannot run '%s' on '%s': %s", what, node, strerror(-r));
	} else {
		strbuf_addf(msg, "command '%s' on '%s' failed (%s)", what, node,
			    exit_status_str(r, st, sizeof(st)));
		if (line.len)
			strbuf_addf(msg, ": %s", line.buf);
	}
	strbuf_release(&line);
}

int transport_stream(struct transport *t, const char *const *argv, int in_fd,
		     const struct relay_opts *o, struct strbuf *out, struct strbuf *err,
		     size_t max, struct relay_stats *stats)
{
	struct child c = CHILD_INIT;
	struct relay_side sides[2];
	struct relay_opts ro = *o;
	int r, copy;

	c.in = c.out = c.err = CHILD_PIPE;
	/* its own process group: an aborted stream kills ssh (or the local
	 * import and its zfs/btrfs receive) as a whole */
	c.new_pgrp = 1;
	r = transport_start(t, argv, &c);
	if (r < 0)
		return r;
	sides[0] = (struct relay_side){ .fd = c.out, .buf = out, .max = max, .overflow = 0 };
	sides[1] = (struct relay_side){ .fd = c.err, .buf = err, .max = max, .overflow = 0 };
	if (!ro.stall_timeout_ms)
		ro.stall_timeout_ms = (long)t->stall_timeout * 1000;
	copy = relay_pump(in_fd, c.in, &ro, sides, 2, stats);
	if (copy == -ETIMEDOUT) {
		/* a stalled command may be stopped or hung: no grace */
		child_kill(&c, SIGKILL);
		child_finish(&c);
		return -ETIMEDOUT;
	}
	if (copy == -EINTR) {
		/* its stdin is closed: a receive that sees the stream end
		 * cleans up by itself, which is gentler than a kill (zfs-fuse
		 * keeps a killed client's datasets busy) */
		child_stop(&c, TRANSPORT_STOP_WAIT_MS);
		return -EINTR;
	}
	r = transport_finish(t, &c);
	if (r == 0 && copy < 0)
		r = copy;
	return r;
}
