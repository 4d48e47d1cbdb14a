/* volrep: storage replication for VM and container volumes.
 * Entry point: global options, then dispatch through the command table. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/probe-cache.h"
#include "base/log.h"
#include "base/validate.h"
#include "base/xalloc.h"
#include "cli/cmds.h"
#include "cli/commands.h"
#include "cli/help.h"
#include "config/context.h"

#ifndef VOLREP_VERSION
#define VOLREP_VERSION "0.1.0"
#endif

int cmd_version(int argc, char **argv, struct context *ctx)
{
	(void)argc;
	(void)argv;
	(void)ctx;
	printf("volrep %s\n", VOLREP_VERSION);
	return 0;
}

static const char *const global_opts[] = { "--config-dir", "--state-dir", "--log-dir", "--node", "--cluster", NULL };

/* Take the global options from the front of argv, before the command
 * name: "volrep --node a list". After the command name every word
 * belongs to the command, so that nothing a command's caller passes as
 * its arguments (volrep serve's child above all) can change who this
 * node is or where its config and state live. */
static int strip_global_options(int *argc, char **argv, struct context *ctx)
{
	char **fields[] = { &ctx->config_dir, &ctx->state_dir, &ctx->log_dir, &ctx->node, &ctx->cluster };
	int i = 1, out = 1;

	for (; i < *argc; i++) {
		const char *a = argv[i];
		int matched = -1;
		const char *val = NULL;

		for (int k = 0; global_opts[k]; k++) {
			size_t n = strlen(global_opts[k]);

			if (!strncmp(a, global_opts[k], n) && (a[n] == '\0' || a[n] == '=')) {
				matched = k;
				val = a[n] == '=' ? a + n + 1 : NULL;
				break;
			}
		}
		if (matched < 0)
			break;
		if (!val) {
			if (i + 1 >= *argc) {
				error("option '%s' needs a value", a);
				return -1;
			}
			val = argv[++i];
		}
		if (!*val) {
			error("option '%s' needs a non-empty value", global_opts[matched]);
			return -1;
		}
		free(*fields[matched]);
		*fields[matched] = xstrdup(val);
	}
	while (i < *argc)
		argv[out++] = argv[i++];
	*argc = out;
	argv[out] = NULL;
	return 0;
}

int main(int argc, char **argv)
{
	struct context ctx = { 0 };
	int ret;

	/* a vanished reader must give us EPIPE, not kill us mid-write */
	signal(SIGPIPE, SIG_IGN);
	log_init();
	if (strip_global_options(&argc, argv, &ctx) < 0) {
		context_release(&ctx);
		return EXIT_USAGE;
	}
	if (argc < 2) {
		help_overview(stderr);
		context_release(&ctx);
		return EXIT_USAGE;
	}
	static char help_cmd[] = "help", version_cmd[] = "version";
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		argv[1] = help_cmd;
	else if (!strcmp(argv[1], "--version"))
		argv[1] = version_cmd;
	else if (argv[1][0] == '-') {
		error("unknown global option '%s' (the global options are --config-dir DIR, --state-dir DIR, "
		      "--log-dir DIR, --node NAME and --cluster URL, before the command)", argv[1]);
		context_release(&ctx);
		return EXIT_USAGE;
	}
	if (context_resolve(&ctx) < 0) {
		error("invalid node name '%s'", ctx.node);
		context_release(&ctx);
		return EXIT_USAGE;
	}
	if (context_open_cluster(&ctx) < 0) {
		context_release(&ctx);
		return EXIT_USAGE;
	}
	/* `zfs help` once per tool and volrep binary, not once per process */
	probe_cache_set_dir(ctx.state_dir);
	for (const struct command *c = commands; c->name; c++) {
		if (!strcmp(c->name, argv[1])) {
			ret = help_wanted(argc - 1, argv + 1) ? help_command(c->name) : c->fn(argc - 1, argv + 1, &ctx);
			context_release(&ctx);
			return ret;
		}
	}
	error("unknown command '%s' (see 'volrep help')", argv[1]);
	context_release(&ctx);
	return EXIT_USAGE;
}
