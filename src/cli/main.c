/* volrep: storage replication for VM and container volumes.
 * Entry point: global options, then dispatch through the command table. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/validate.h"
#include "base/xalloc.h"
#include "cli/cmds.h"
#include "cli/commands.h"
#include "config/context.h"

#ifndef VOLREP_VERSION
#define VOLREP_VERSION "0.1.0"
#endif

static void usage(FILE *f)
{
	fprintf(f, "usage: volrep [--config-dir DIR] [--state-dir DIR] [--log-dir DIR] [--node NAME] [--cluster URL] <command> [args]\n\ncommands:\n");
	for (const struct command *c = commands; c->name; c++)
		fprintf(f, "  %-20s %s\n", c->name, c->help);
	fprintf(f, "\n'volrep help <command>' shows a command's arguments.\n");
}

int cmd_help(int argc, char **argv, struct context *ctx)
{
	(void)ctx;
	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	for (const struct command *c = commands; c->name; c++) {
		if (!strcmp(c->name, argv[1])) {
			printf("usage: volrep %s %s\n  %s\n", c->name, c->usage, c->help);
			return 0;
		}
	}
	error("unknown command '%s'", argv[1]);
	return EXIT_USAGE;
}

int cmd_version(int argc, char **argv, struct context *ctx)
{
	(void)argc;
	(void)argv;
	(void)ctx;
	printf("volrep %s\n", VOLREP_VERSION);
	return 0;
}

static const char *const global_opts[] = { "--config-dir", "--state-dir", "--log-dir", "--node", "--cluster", NULL };

/* Take the global options out of argv wherever they stand (before a "--"),
 * so that both "volrep --node a list" and "volrep list --node a" work. */
static int strip_global_options(int *argc, char **argv, struct context *ctx)
{
	char **fields[] = { &ctx->config_dir, &ctx->state_dir, &ctx->log_dir, &ctx->node, &ctx->cluster };
	int out = 1;

	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i];
		int matched = -1;
		const char *val = NULL;

		if (!strcmp(a, "--")) {
			while (i < *argc)
				argv[out++] = argv[i++];
			break;
		}
		for (int k = 0; global_opts[k]; k++) {
			size_t n = strlen(global_opts[k]);

			if (!strncmp(a, global_opts[k], n) && (a[n] == '\0' || a[n] == '=')) {
				matched = k;
				val = a[n] == '=' ? a + n + 1 : NULL;
				break;
			}
		}
		if (matched < 0) {
			argv[out++] = argv[i];
			continue;
		}
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
		usage(stderr);
		context_release(&ctx);
		return EXIT_USAGE;
	}
	static char help_cmd[] = "help", version_cmd[] = "version";
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		argv[1] = help_cmd;
	else if (!strcmp(argv[1], "--version"))
		argv[1] = version_cmd;
	if (context_resolve(&ctx) < 0) {
		error("invalid node name '%s'", ctx.node);
		context_release(&ctx);
		return EXIT_USAGE;
	}
	if (context_open_cluster(&ctx) < 0) {
		context_release(&ctx);
		return EXIT_USAGE;
	}
	for (const struct command *c = commands; c->name; c++) {
		if (!strcmp(c->name, argv[1])) {
			ret = c->fn(argc - 1, argv + 1, &ctx);
			context_release(&ctx);
			return ret;
		}
	}
	error("unknown command '%s' (see 'volrep help')", argv[1]);
	context_release(&ctx);
	return EXIT_USAGE;
}
