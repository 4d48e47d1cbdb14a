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

int cmd_remote_exec(int argc, char **argv, struct context *ctx)
{
	const char *address = NULL, *node;
	int local = 0, use_stdin = 0, i, r;
	struct relay_opts o = RELAY_OPTS_INIT;
	struct relay_stats stats;
	struct transport t = TRANSPORT_INIT;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT, msg = STRBUF_INIT;
	const char *const *rargv;

	for (i = 1; i < argc && !strncmp(argv[i], "--", 2); i++) {
		if (!strcmp(argv[i], "--local")) {
			local = 1;
		} else if (!strcmp(argv[i], "--stdin")) {
			use_stdin = 1;
		} else if (!strcmp(argv[i], "--progress")) {
			o.progress = show_progress;
		} else if (!strcmp(argv[i], "--address") && i + 1 < argc) {
			address = argv[++i];
		} else if (!strcmp(argv[i], "--rate") && i + 1 < argc) {
			if (ratelimit_parse_mbps(argv[++i], &o.rate) < 0) {
				error("invalid rate '%s' (MB/s, a positive number)", argv[i]);
				return EXIT_USAGE;
			}
		} else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else {
			error("unknown option '%s'", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (argc - i < 2) {
		error("usage: volrep remote-exec [--address ADDR] [--local] [--stdin [--rate MBPS] [--progress]] <node> <command> [args...]");
		return EXIT_USAGE;
	}
	node = argv[i];
	rargv = (const char *const *)argv + i + 1;
	/* the address and port of nodes.cfg, as a run uses them; --address wins */
	unsigned port = 0;
	if (!local && !address && valid_node_name(node)) {
		struct nodes_cfg nc = { 0 };
		const struct cluster_node *n;

		if (nodes_cfg_load(&nc, ctx->config_dir, NULL) == 0 && (n = nodes_cfg_find(&nc, node))) {
			strbuf_addstr(&msg, n->address);
			address = msg.buf;
			port = n->port;
		}
		nodes_cfg_release(&nc);
	}
	if (local)
		r = transport_local_init(&t, node, NULL);
	else
		r = transport_ssh_init(&t, node, address ? address : node, ctx->state_dir);
	if (r == 0 && port)
		r = transport_ssh_set_port(&t, port);
	/* volrep.cfg ssh-persist, as a run uses it */
	if (r == 0)
		remote_set_persist(&t, ctx->config_dir);
	if (r < 0) {
		error("invalid node '%s' or address '%s'", node, address ? address : node);
		strbuf_release(&msg);
		return EXIT_USAGE;
	}
	address = NULL;
	strbuf_reset(&msg);
	if (use_stdin)
		r = transport_stream(&t, rargv, STDIN_FILENO, &o, &out, &err, REMOTE_OUTPUT_MAX, &stats);
	else
		r = transport_run(&t, rargv, NULL, 0, &out, &err, REMOTE_OUTPUT_MAX);
	fwrite(out.buf, 1, out.len, stdout);
	fflush(stdout);
	fwrite(err.buf, 1, err.len, stderr);
	if (use_stdin && o.rate)
		info("relayed %llu bytes in %.2f s (%.3f MB/s, limit %.3f MB/s)",
		     (unsigned long long)stats.bytes, stats.elapsed,
		     stats.elapsed > 0 ? (double)stats.bytes / stats.elapsed / 1e6 : 0, (double)o.rate / 1e6);
	if (r < 0 || r >= 128) {
		transport_describe(&t, rargv, r, err.buf, &msg);
		error("%s", msg.buf);
		r = EXIT_FAILED;
	}
	transport_release(&t);
	strbuf_release(&out);
	strbuf_release(&err);
	strbuf_release(&msg);
	return r;
}
