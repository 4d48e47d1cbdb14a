/* volrep remote-exec: run a command on a node through volrep's transport,
 * exactly as the replication engine would (diagnostics, and the seam the
 * ssh tests use):
 *   volrep remote-exec [--address ADDR] [--local] [--stdin [--rate MBPS]
 *                      [--progress]] <node> <command> [args...]
 * The address (and port) default to the node's in nodes.cfg, else the
 * node name. With --stdin this command's
 * stdin is streamed to the remote command through the rate limiter.
 * Remote stdout/stderr are printed; the exit code is the remote command's,
 * 1 with a message when the link failed. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "cli/cmds.h"
#include "cli/commands.h"
#include "config/nodes.h"
#include "engine/remote.h"
#include "base/validate.h"
#include "exec/ratelimit.h"
#include "exec/relay.h"
#include "transport/local.h"
#include "transport/ssh.h"

#define REMOTE_OUTPUT_MAX (16u << 20)

static void show_progress(const struct relay_progress *p, void *data)
{
	(void)data;
	fprintf(stderr, "%s%llu bytes, %.1f s, %.2f MB/s", p->done ? "done: " : "",
		(unsigned long long)p->bytes, p->elapsed, p->rate / 1e6);
	if (p->eta >= 0)
		fprintf(stderr, ", eta %.0f s", p->eta);
	fputc('\n', stderr);
}

struct rexec_args {
	const char *address;
	int local, use_stdin;
	struct relay_opts o;
};

/* The options before <node>; returns the index of <node>, or -1 (after
 * the message) for a usage error. */
static int parse_args(int argc, char **argv, struct rexec_args *a)
{
	int i;

	for (i = 1; i < argc && !strncmp(argv[i], "--", 2); i++) {
		if (!strcmp(argv[i], "--local")) {
			a->local = 1;
		} else if (!strcmp(argv[i], "--stdin")) {
			a->use_stdin = 1;
		} else if (!strcmp(argv[i], "--progress")) {
			a->o.progress = show_progress;
		} else if (!strcmp(argv[i], "--address") && i + 1 < argc) {
			a->address = argv[++i];
		} else if (!strcmp(argv[i], "--rate") && i + 1 < argc) {
			if (ratelimit_parse_mbps(argv[++i], &a->o.rate) < 0) {
				error("invalid rate '%s' (MB/s, a positive number)", argv[i]);
				return -1;
			}
		} else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else {
			error("unknown option '%s'", argv[i]);
			return -1;
		}
	}
	if (argc - i < 2) {
		error("usage: volrep remote-exec [--address ADDR] [--local] [--stdin [--rate MBPS] [--progress]] <node> <command> [args...]");
		return -1;
	}
	return i;
}

/* The address and port of nodes.cfg, as a run uses them; returns 0
 * when nodes.cfg does not list the node (or cannot be read). */
static int node_address(const struct context *ctx, const char *node, struct strbuf *addr, unsigned *port)
{
	struct nodes_cfg nc = { 0 };
	const struct cluster_node *n;
	int found = 0;

	if (nodes_cfg_load(&nc, ctx->config_dir, NULL) == 0 && (n = nodes_cfg_find(&nc, node))) {
		strbuf_addstr(addr, n->address);
		*port = n->port;
		found = 1;
	}
	nodes_cfg_release(&nc);
	return found;
}

/* The transport a run would use for node: --address wins over
 * nodes.cfg, which wins over the node name. */
static int open_transport(const struct context *ctx, const char *node, const struct rexec_args *a,
			  struct transport *t)
{
	struct strbuf cfg_addr = STRBUF_INIT;
	const char *address = a->address;
	unsigned port = 0;
	int r;

	if (!a->local && !address && valid_node_name(node) && node_address(ctx, node, &cfg_addr, &port))
		address = cfg_addr.buf;
	if (a->local)
		r = transport_local_init(t, node, NULL);
	else
		r = transport_ssh_init(t, node, address ? address : node, ctx->state_dir);
	if (r == 0 && port)
		r = transport_ssh_set_port(t, port);
	/* volrep.cfg ssh-persist, as a run uses it */
	if (r == 0)
		remote_set_persist(t, ctx->config_dir);
	if (r < 0)
		error("invalid node '%s' or address '%s'", node, address ? address : node);
	strbuf_release(&cfg_addr);
	return r;
}

/* Runs the command and passes its output on; returns its exit code, or
 * EXIT_FAILED (after the transport's explanation) when the link failed. */
static int run_remote(struct transport *t, const char *const *rargv, struct rexec_args *a)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT, msg = STRBUF_INIT;
	struct relay_stats stats;
	int r;

	if (a->use_stdin)
		r = transport_stream(t, rargv, STDIN_FILENO, &a->o, &out, &err, REMOTE_OUTPUT_MAX, &stats);
	else
		r = transport_run(t, rargv, NULL, 0, &out, &err, REMOTE_OUTPUT_MAX);
	fwrite(out.buf, 1, out.len, stdout);
	fflush(stdout);
	fwrite(err.buf, 1, err.len, stderr);
	if (a->use_stdin && a->o.rate)
		info("relayed %llu bytes in %.2f s (%.3f MB/s, limit %.3f MB/s)",
		     (unsigned long long)stats.bytes, stats.elapsed,
		     stats.elapsed > 0 ? (double)stats.bytes / stats.elapsed / 1e6 : 0, (double)a->o.rate / 1e6);
	if (r < 0 || r >= 128) {
		transport_describe(t, rargv, r, err.buf, &msg);
		error("%s", msg.buf);
		r = EXIT_FAILED;
	}
	strbuf_release(&out);
	strbuf_release(&err);
	strbuf_release(&msg);
	return r;
}

int cmd_remote_exec(int argc, char **argv, struct context *ctx)
{
	struct rexec_args a = { .o = RELAY_OPTS_INIT };
	struct transport t = TRANSPORT_INIT;
	const char *node;
	int i, r;

	if ((i = parse_args(argc, argv, &a)) < 0)
		return EXIT_USAGE;
	node = argv[i];
	if (open_transport(ctx, node, &a, &t) < 0)
		return EXIT_USAGE;
	r = run_remote(&t, (const char *const *)argv + i + 1, &a);
	transport_release(&t);
	return r;
}
