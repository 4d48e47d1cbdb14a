#include "cli/commands.h"

#include <stddef.h>

#include "cli/cmds.h"

/* Keep sorted by name: "volrep help" lists them in this order. */
const struct command commands[] = {
	{ "calendar", cmd_calendar, "<spec> [--from EPOCH] [--iterations N] [--output-format text|json]", "show the next events of a schedule" },
	{ "check", cmd_check, "[--remote [NODE...]] [--output-format text|json|json-pretty]",
	  "validate this node's configuration (and, with --remote, ssh to its targets)" },
	{ "create-local-job", cmd_create_local_job, "<vmid>-<jobnum> <target> [--schedule S] [--rate MBps] [--comment T] [--disable 0|1] [--source NODE] [--compress none|zstd|lz4] [--keep N]", "create a replication job" },
	{ "daemon", cmd_daemon, "[--help]", "run the replication scheduler service (foreground)" },
	{ "delete", cmd_delete, "<id> [--keep] [--force]", "mark a replication job for removal (--force: remove the entry at once)" },
	{ "disable", cmd_disable, "<id>", "disable a replication job" },
	{ "enable", cmd_enable, "<id>", "enable a replication job" },
	{ "export", cmd_export, "(STOREID:VOLNAME | (--zfs-pool POOL | --btrfs-path PATH) [STOREID:]VOLNAME) --snapshot SNAP [--base BASE] [--compressed]",
	  "write a volume snapshot stream to stdout" },
	{ "failover", cmd_failover, "<vmid> [--to NODE] [--snapshot SNAP] [--dry-run] [--force]",
	  "start a guest from its freshest replica when its node is gone" },
	{ "finalize-local-job", cmd_finalize_local_job, "<id> <volid>... --last_sync N", "target side: remove the job's older snapshots (over ssh)" },
	{ "guest-start", cmd_guest_start, "<vmid>", "target side: start a guest of this node through its hook (failover)" },
	{ "help", cmd_help, "[COMMAND]", "show usage" },
	{ "import", cmd_import, "(STOREID:VOLNAME | (--zfs-pool POOL | --btrfs-path PATH) [STOREID:]VOLNAME) --snapshot SNAP [--base BASE] [--compress zstd|lz4]",
	  "receive a volume snapshot stream from stdin" },
	{ "list", cmd_list, "[--output-format text|json|json-pretty]", "list the replication jobs" },
	{ "log", cmd_log, "<id> [--run K | --list]", "show the log of the last run of a job on this node (--run K: K runs before)" },
	{ "metrics", cmd_metrics, "", "print the replication metrics of this node (Prometheus text format)" },
	{ "migrate", cmd_migrate, "<vmid> <target> [--online 0] [--verbose]",
	  "move a stopped guest to another node (delta sync to a replica), reversing its jobs" },
	{ "notify-test", cmd_notify_test, "", "send a test notification to every target of volrep.cfg" },
	{ "prepare-local-job", cmd_prepare_local_job, "<id> [--scan SID,...] [<volid>...] --last_sync N [--parent_snapname S] [--force]",
	  "target side: clean up and list a job's snapshots as JSON (over ssh)" },
	{ "read", cmd_read, "<id>", "show a replication job's configuration (JSON)" },
	{ "remote-exec", cmd_remote_exec, "[--address ADDR] [--local] [--stdin [--rate MBPS] [--progress]] <node> <command> [args...]",
	  "run a command on a node through the transport (diagnostics)" },
	{ "replica-rollback", cmd_replica_rollback, "<vmid> <snap> <volid>...",
	  "target side: roll a replica's volumes back to a replication snapshot (failover)" },
	{ "replica-snapshots", cmd_replica_snapshots, "<vmid> <volid>...",
	  "target side: list a replica's replication snapshots as JSON (failover)" },
	{ "run", cmd_run, "[--id ID] [--verbose] [--mail]", "run the due replication jobs now (or one job, ignoring its schedule); exit 1 if one failed" },
	{ "schedule-now", cmd_schedule_now, "<id>", "run a replication job at the next scheduler tick" },
	{ "serve", cmd_serve, "--peer NODE | --any-peer", "forced command for authorized_keys: run only the target-side verbs of NODE's jobs" },
	{ "set-state", cmd_set_state, "<vmid> <json>", "target side: replace a guest's replication state (migration)" },
	{ "status", cmd_status, "[--guest VMID] [--output-format text|json|json-pretty|pvesr]", "show the state of this node's replication jobs" },
	{ "update", cmd_update, "<vmid>-<jobnum> [--schedule S] [--rate MBps] [--comment T] [--disable 0|1] [--source NODE] [--compress none|zstd|lz4] [--keep N] [--delete opt,...] [--digest D]", "change a replication job" },
	{ "version", cmd_version, "", "print the version" },
	{ NULL, NULL, NULL, NULL },
};
