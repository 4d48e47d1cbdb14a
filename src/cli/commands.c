#include "cli/commands.h"

#include <stddef.h>

#include "cli/cmds.h"

/* Keep sorted by name: "volrep help" lists them in this order. */
const struct command commands[] = {
	{ "calendar", cmd_calendar, "<spec> [--from EPOCH] [--iterations N] [--output-format text|json]", "show the next events of a schedule" },
	{ "create-local-job", cmd_create_local_job, "<id> <target> [--schedule S] [--rate MBps] [--comment T] [--disable 0|1] [--source NODE]", "create a replication job" },
	{ "daemon", cmd_daemon, "[--help]", "run the replication scheduler service (foreground)" },
	{ "delete", cmd_delete, "<id> [--keep] [--force]", "mark a replication job for removal (--force: remove the entry at once)" },
	{ "disable", cmd_disable, "<id>", "disable a replication job" },
	{ "enable", cmd_enable, "<id>", "enable a replication job" },
	{ "help", cmd_help, "[COMMAND]", "show usage" },
	{ "list", cmd_list, "[--output-format text|json|json-pretty]", "list the replication jobs" },
	{ "read", cmd_read, "<id>", "show a replication job's configuration (JSON)" },
	{ "remote-exec", cmd_remote_exec, "[--address ADDR] [--local] [--stdin [--rate MBPS] [--progress]] <node> <command> [args...]",
	  "run a command on a node through the transport (diagnostics)" },
	{ "schedule-now", cmd_schedule_now, "<id>", "run a replication job at the next scheduler tick" },
	{ "serve", cmd_serve, "", "forced command for authorized_keys: run only target-side verbs" },
	{ "status", cmd_status, "[--guest VMID] [--output-format text|json|json-pretty]", "show the state of this node's replication jobs" },
	{ "update", cmd_update, "<id> [--schedule S] [--rate N] [--comment T] [--disable 0|1] [--delete opt,...] [--digest D]", "change a replication job" },
	{ "version", cmd_version, "", "print the version" },
	{ NULL, NULL, NULL, NULL },
};
