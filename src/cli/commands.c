#include "cli/commands.h"

#include <stddef.h>

#include "cli/cmds.h"

/* Keep sorted by name: "volrep help" lists them in this order. */
const struct command commands[] = {
	{ "calendar", cmd_calendar, "<spec> [--from EPOCH] [--iterations N] [--output-format text|json]", "show the next events of a schedule" },
	{ "help", cmd_help, "[COMMAND]", "show usage" },
	{ "remote-exec", cmd_remote_exec, "[--address ADDR] [--local] [--stdin [--rate MBPS] [--progress]] <node> <command> [args...]",
	  "run a command on a node through the transport (diagnostics)" },
	{ "serve", cmd_serve, "", "forced command for authorized_keys: run only target-side verbs" },
	{ "version", cmd_version, "", "print the version" },
	{ NULL, NULL, NULL, NULL },
};
