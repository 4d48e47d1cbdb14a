/* The command table: one entry per subcommand (after git.c / btrfs.c).
 * A handler gets argv with argv[0] = the command name and returns the exit
 * status: 0 success, 1 the operation failed, 2 invalid arguments or input
 * (and then nothing was changed). */
#ifndef VOLREP_CLI_COMMANDS_H
#define VOLREP_CLI_COMMANDS_H

#include "base/exit-code.h" /* EXIT_FAILED, EXIT_USAGE, exit_code_of() */
#include "config/context.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv, struct context *ctx);
	const char *usage; /* one line: arguments after the command name */
	const char *help;  /* one line */
};

extern const struct command commands[];

#endif
