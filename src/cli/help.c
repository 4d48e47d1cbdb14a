/* `volrep help`, `volrep help <command>` and `<command> --help`: the
 * overview separates the commands people type from the target-side verbs
 * other nodes run over ssh; the per-command text says what each option
 * means, its unit and default, with an example. */
#include "cli/help.h"

#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "cli/cmds.h"
#include "cli/commands.h"

/* Verbs run by another node through `volrep serve` (or for diagnostics):
 * not what a user types day to day. */
static const char *const internal_verbs[] = {
	"export", "finalize-local-job", "guest-start", "import", "migration-ip", "prepare-local-job", "remote-exec",
	"replica-rollback", "replica-snapshots", "serve", "session", "set-state", "ssh-authorize", NULL,
};

int command_is_internal(const char *name)
{
	for (const char *const *v = internal_verbs; *v; v++)
		if (!strcmp(*v, name))
			return 1;
	return 0;
}

struct details {
	const char *name;
	const char *text;
};

#define ID_FORM "  <id>  the job id <vmid>-<jobnum>, e.g. 100-0 (written canonically: 100-0, not 100-00)\n"

static const struct details details[] = {
	{ "api",
	  "  token add ID [--write]  create an API token (ID is USER@REALM!TOKENID, e.g.\n"
	  "                     root@pam!monitor); its secret is printed once on stdout.\n"
	  "                     Without --write the token may only read (GET).\n"
	  "  token list         the tokens and their access\n"
	  "  token remove ID    delete a token\n"
	  "Tokens are kept hashed in <state-dir>/api-tokens (mode 0600). The API is\n"
	  "served by the daemon on volrep.cfg's api-listen (see docs/api.md).\n"
	  "example: volrep api token add root@pam!terraform --write\n" },
	{ "calendar",
	  "  <spec>             a schedule, as in --schedule (e.g. '*/15', 'daily', 'mon..fri 22:00')\n"
	  "  --from EPOCH       start after this time (seconds since 1970; default: now)\n"
	  "  --iterations N     how many events to show (default 10)\n"
	  "  --output-format    text (default) or json\n"
	  "example: volrep calendar 'mon..fri 22:30' --iterations 3\n" },
	{ "check",
	  "  Validate this node's configuration: the config dir and its files, that\n"
	  "  this node is in nodes.cfg, every job's guest, target and volumes, and that\n"
	  "  the storages this node uses exist here (zfs pool, btrfs path). With a\n"
	  "  cluster store (--cluster), the files are checked as read from it, and the\n"
	  "  store, each etcd endpoint's health and the quorum are reported too.\n"
	  "  --remote [NODE...] also connect to the nodes named (default: the targets\n"
	  "                     of this node's jobs, or every other node when there\n"
	  "                     is no job yet): ssh login, host key under the\n"
	  "                     node-name alias, and the remote volrep answering\n"
	  "                     'version'\n"
	  "  --output-format    text (default), json or json-pretty\n"
	  "ssh checks a target's host key under its node name (HostKeyAlias=<node>),\n"
	  "not its address: add it with\n"
	  "  ssh-keyscan ADDRESS | sed 's/^[^ ]*/NODE/' >>/root/.ssh/known_hosts\n"
	  "exit status: 0 all good, 1 a problem was found (each printed on one line)\n"
	  "example: volrep check --remote\n" },
	{ "cluster",
	  "  status             the store (dir or etcd), each etcd endpoint's health,\n"
	  "                     quorate yes/no, every node of nodes.cfg online/offline\n"
	  "                     and since when; --output-format text, json, json-pretty\n"
	  "  import DIR         load a config dir into an empty etcd prefix (refuses to\n"
	  "                     overwrite; hooks stay node-local)\n"
	  "  export DIR         write the etcd store's files into DIR (refuses to overwrite)\n"
	  "  lock NAME          take a cluster lock and hold it: --ttl S (seconds it\n"
	  "                     outlives a crash, default 5), --timeout MS (wait, default\n"
	  "                     0), --hold S (then release, default 0)\n"
	  "The store is chosen by the global option --cluster etcd://HOST:PORT,...[/PREFIX]\n"
	  "(docs/cluster.md) or pmxcfs:///etc/pve (Proxmox VE, docs/proxmox.md), or\n"
	  "VOLREP_CLUSTER; without it, dir mode.\n"
	  "example: volrep --cluster etcd://10.0.0.1:2379 cluster status\n" },
	{ "create-local-job",
	  ID_FORM
	  "  <target>           the node to replicate to (a node of nodes.cfg)\n"
	  "  --schedule S       when to run (calendar event; default '*/15': every 15 minutes)\n"
	  "  --rate MBps        bandwidth limit in megabytes (10^6 bytes) per second, a\n"
	  "                     number >= 1 such as 50 or 12.5 (default: unlimited)\n"
	  "  --comment T        free text\n"
	  "  --disable 0|1      create the job disabled (a bare --disable means 1)\n"
	  "  --source NODE      must match the guest's node if given\n"
	  "  --remove_job local|full  (internal) mark for removal\n"
	  "The guest's volumes are checked now, with the rules every run uses.\n"
	  "example: volrep create-local-job 100-0 pve2 --schedule '*/5' --rate 50\n" },
	{ "delete",
	  ID_FORM
	  "  --keep             keep the replicated volumes on the target\n"
	  "  --force            remove the entry at once, without cleaning up (e.g. when\n"
	  "                     the target is gone for good)\n"
	  "Without --force the next run of the job removes its snapshots (and, without\n"
	  "--keep, the target's volumes) and then the entry.\n"
	  "example: volrep delete 100-0\n" },
	{ "disable", ID_FORM "example: volrep disable 100-0\n" },
	{ "enable", ID_FORM "example: volrep enable 100-0\n" },
	{ "failover",
	  "  <vmid>             the guest whose node is gone\n"
	  "  --to NODE          the replica to start (default: the freshest one)\n"
	  "  --dry-run          show what would happen\n"
	  "  --force            also when the guest's node still answers\n"
	  "  --confirm-down NODE  etcd store: with --force, fail over although NODE (the\n"
	  "                     owner) still holds its liveness key (docs/cluster.md)\n"
	  "example: volrep failover 100 --dry-run\n" },
	{ "ha",
	  "  add <vmid>         manage the guest: when its node's liveness key has been\n"
	  "                     gone for ha-grace seconds (volrep.cfg, default 60), a\n"
	  "                     surviving daemon recovers it on the freshest replica\n"
	  "    --state S        started (default: recovered and started), stopped\n"
	  "                     (recovered, not started), ignored (left alone)\n"
	  "    --group G        preferred nodes when replicas are equally fresh\n"
	  "    --max-relocate N 0..10 (default 1; kept for Proxmox compatibility)\n"
	  "  set <vmid> ...     change those (--group \"\" removes the group)\n"
	  "  remove <vmid>      no longer managed\n"
	  "  group NAME --nodes N1,N2   define a group (preference order); --delete\n"
	  "  list               ha.cfg; --output-format text, json, json-pretty\n"
	  "  status             each guest's owner, state and last recovery (when, from,\n"
	  "                     to, data-loss window); --output-format as list\n"
	  "  recover NODE, resume VMID  what the daemon runs (docs/ha.md)\n"
	  "HA acts only with the etcd store; a node cut off from it stops its HA guests\n"
	  "(stop hook) before they can be recovered elsewhere. failover refuses HA\n"
	  "guests unless --force.\n"
	  "example: volrep ha add 100 --group prefer-b\n" },
	{ "list",
	  "  --output-format    text (default), json or json-pretty\n"
	  "example: volrep list --output-format json-pretty\n" },
	{ "log",
	  ID_FORM
	  "  --run K            an earlier run: 1 the one before the last, ... (volrep.cfg\n"
	  "                     log-keep runs are kept, default 10)\n"
	  "  --list             the kept runs with their start and result\n"
	  "Shows the log of the job's last run on this node.\nexample: volrep log 100-0 --list\n" },
	{ "metrics", "Prints this node's replication metrics (Prometheus text format), as the\n"
	  "daemon serves them on volrep.cfg's metrics-listen.\nexample: volrep metrics\n" },
	{ "notify-test", "Sends a test notification to every notify-mail and notify-webhook target\n"
	  "of volrep.cfg.\nexample: volrep notify-test\n" },
	{ "migrate",
	  "  <vmid>             a stopped guest of this node\n"
	  "  <target>           the node to move it to (a replica makes it a delta sync)\n"
	  "  --online 0         only offline migration is supported\n"
	  "  --verbose          print the replication log\n"
	  "example: volrep migrate 100 pve2\n" },
	{ "read", ID_FORM "example: volrep read 100-0\n" },
	{ "remote-exec",
	  "  <node>             a node of nodes.cfg: its address and port are used\n"
	  "  --address ADDR     connect here instead\n"
	  "  --local            run the command here (the local transport)\n"
	  "  --stdin            stream this command's stdin to the remote command\n"
	  "  --rate MBPS        limit that stream, megabytes per second\n"
	  "  --progress         print the stream's progress on stderr\n"
	  "The ssh options are the ones of a replication run: BatchMode=yes and\n"
	  "HostKeyAlias=<node> (the host key must be known under the node name).\n"
	  "example: volrep remote-exec pve2 volrep version\n" },
	{ "run",
	  "  --id ID            run this job now, ignoring its schedule and backoff\n"
	  "                     (ID: <vmid>-<jobnum>, e.g. 100-0)\n"
	  "  --verbose          print the job log while it runs\n"
	  "  --mail             notify failures (volrep.cfg notify-*), as pvesr; not with --id\n"
	  "Without --id: run every job of this node that is due (what the daemon does).\n"
	  "exit status: 0 all runs succeeded, 1 a job failed (each failure is printed\n"
	  "as '<id>: <error>'), 2 bad arguments\n"
	  "example: volrep run --id 100-0 --verbose\n" },
	{ "schedule-now", ID_FORM "The daemon runs the job at its next tick.\nexample: volrep schedule-now 100-0\n" },
	{ "ssh-setup",
	  "  <node>             the target (a node of nodes.cfg: its address and port)\n"
	  "  --fingerprint FP   the target's host key fingerprint (SHA256:..., from\n"
	  "                     'ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub' there)\n"
	  "                     when ssh does not know the key yet\n"
	  "  --accept-new       record an unknown host key without checking it\n"
	  "  --no-install       only print what to add on the target\n"
	  "Run on each source node, once per target. Steps, one line each:\n"
	  "  key       ~/.ssh/id_volrep (created if missing; used by every run when\n"
	  "            VOLREP_SSH is not set; with VOLREP_SSH its -i file)\n"
	  "  host key  recorded under the node name (volrep's HostKeyAlias) in ssh's\n"
	  "            known_hosts: copied from an entry for the address, else\n"
	  "            scanned and confirmed with --fingerprint or --accept-new\n"
	  "  login     the key runs 'volrep version' through the forced command\n"
	  "  install   else, through your own ssh login as root there (key or\n"
	  "            password), 'volrep ssh-authorize' adds the key with\n"
	  "            command=\"volrep serve --peer <this node>\",restrict; when that\n"
	  "            is impossible the exact line to add is printed; with a cluster\n"
	  "            store (--cluster, VOLREP_CLUSTER) the forced command names it\n"
	  "exit status: 0 ssh works, 1 a step failed (the line says why), 2 bad arguments\n"
	  "example: volrep ssh-setup pve2\n" },
	{ "status",
	  "  --guest VMID       only this guest's jobs\n"
	  "  --output-format    text (default), json, json-pretty, or pvesr (pvesr's exact\n"
	  "                     columns, for scripts)\n"
	  "State: OK, SYNCING, the last error, stale (no sync for twice the interval or\n"
	  "max-lag), removal pending, overdue (due over a minute ago and no daemon runs\n"
	  "on this node; a warning line says so). Times are local, durations 3.5s/1m4s.\n"
	  "example: volrep status --guest 100\n" },
	{ "update",
	  ID_FORM
	  "  --schedule S       calendar event (see 'volrep help calendar'); the stored\n"
	  "                     form and the next run are printed\n"
	  "  --rate MBps        megabytes per second, a number >= 1\n"
	  "  --comment T        free text\n"
	  "  --disable 0|1      1 disables the job\n"
	  "  --delete opt,...   unset options (schedule, rate, comment, disable, source);\n"
	  "                     not together with the same option set\n"
	  "  --digest D         refuse if replication.cfg changed: the 40 hex digits\n"
	  "                     'volrep read' prints\n"
	  "example: volrep update 100-0 --schedule 'mon..fri 22:00' --delete rate\n" },
	{ NULL, NULL },
};

static void print_section(FILE *f, int internal)
{
	for (const struct command *c = commands; c->name; c++)
		if (command_is_internal(c->name) == internal)
			fprintf(f, "  %-20s %s\n", c->name, c->help);
}

void help_overview(FILE *f)
{
	fprintf(f, "usage: volrep [--config-dir DIR] [--state-dir DIR] [--log-dir DIR] [--node NAME] [--cluster URL] <command> [args]\n\n"
		   "commands:\n");
	print_section(f, 0);
	fprintf(f, "\ntarget-side and diagnostic verbs (run by other nodes over ssh):\n");
	print_section(f, 1);
	fprintf(f, "\nglobal options (also VOLREP_CONFIG_DIR, VOLREP_STATE_DIR, VOLREP_LOG_DIR,\n"
		   "VOLREP_NODE, VOLREP_CLUSTER; defaults /etc/volrep, /var/lib/volrep,\n"
		   "/var/log/volrep, hostname -s, no cluster store: dir mode)\n"
		   "go before the command: 'volrep --node pve1 status'.\n"
		   "Between nodes volrep runs ssh with HostKeyAlias=<node name>: host keys\n"
		   "are looked up under node names ('volrep help check').\n"
		   "'volrep help <command>' or 'volrep <command> --help' explains a command.\n");
}

int help_command(const char *name)
{
	const struct command *c;

	for (c = commands; c->name && strcmp(c->name, name); c++)
		;
	if (!c->name) {
		error("unknown command '%s' (see 'volrep help')", name);
		return EXIT_USAGE;
	}
	if (!strcmp(name, "daemon")) {
		cmd_daemon_help();
		return 0;
	}
	printf("usage: volrep %s %s\n  %s\n", c->name, c->usage, c->help);
	for (const struct details *d = details; d->name; d++)
		if (!strcmp(d->name, name))
			printf("\n%s", d->text);
	return fflush(stdout) == 0 ? 0 : EXIT_FAILED;
}

int cmd_help(int argc, char **argv, struct context *ctx)
{
	(void)ctx;
	if (argc < 2) {
		help_overview(stdout);
		return 0;
	}
	if (argc > 2) {
		error("unexpected argument '%s' (usage: volrep help [COMMAND])", argv[2]);
		return EXIT_USAGE;
	}
	return help_command(argv[1]);
}

int help_wanted(int argc, char **argv)
{
	/* remote-exec passes the words after <node> on: only its own options */
	int stop_at_word = !strcmp(argv[0], "remote-exec");

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
		if (stop_at_word && argv[i][0] != '-')
			return 0;
	}
	return 0;
}
