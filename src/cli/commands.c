#include "cli/commands.h"

#include <stddef.h>

#include "cli/cmds.h"

/* Keep sorted by name: "volrep help" lists them in this order. */
const struct command commands[] = {
	{ "calendar", cmd_calendar, "<spec> [--from EPOCH] [--iterations N] [--output-format text|json]", "show the next events of a schedule" },
	{ "help", cmd_help, "[COMMAND]", "show usage" },
	{ "version", cmd_version, "", "print the version" },
	{ NULL, NULL, NULL, NULL },
};
