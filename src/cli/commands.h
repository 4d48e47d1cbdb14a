/* The command table: one entry per subcommand (after git.c / btrfs.c).
 * A handler gets argv with argv[0] = the command name and returns the exit
 * status: 0 success, 1 the operation failed, 2 invalid arguments or input
 * (and then nothing was changed). */
#ifndef VOLREP_CLI_COMMANDS_H
#define VOLREP_CLI_COMMANDS_H

#include "config/context.h"

#define EXIT_FAILED 1
#define EXIT_USAGE 2

struct command {
	const char *name;
	int (*fn)(int argc, char **argv, struct context *ctx);
	const char *usage; /* one line: arguments after the command name */
	const char *help;  /* one line */
};

extern const struct command commands[];

#endif
