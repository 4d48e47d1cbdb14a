#include "cli/commands.h"

#include <stddef.h>

#include "cli/cmds.h"

/* Keep sorted by name: "volrep help" lists them in this order. */
const struct command commands[] = {
	{ "export", cmd_export, "(--zfs-pool POOL | --btrfs-path PATH) [STOREID:]VOLNAME --snapshot SNAP [--base BASE] [--compressed]",
	  "write a volume snapshot stream to stdout" },
	{ "help", cmd_help, "[COMMAND]", "show usage" },
	{ "import", cmd_import, "(--zfs-pool POOL | --btrfs-path PATH) [STOREID:]VOLNAME --snapshot SNAP [--base BASE]",
	  "receive a volume snapshot stream from stdin" },
	{ "version", cmd_version, "", "print the version" },
	{ NULL, NULL, NULL, NULL },
};
