#include "cli/commands.h"

#include <stddef.h>

#include "cli/cmds.h"

/* Keep sorted by name: "volrep help" lists them in this order. */
const struct command commands[] = {
	{ "help", cmd_help, "[COMMAND]", "show usage" },
	{ "version", cmd_version, "", "print the version" },
	{ NULL, NULL, NULL, NULL },
};
