/* Handlers of the command table (see commands.h for the contract). */
#ifndef VOLREP_CLI_CMDS_H
#define VOLREP_CLI_CMDS_H

#include "config/context.h"

int cmd_check(int argc, char **argv, struct context *ctx);
int cmd_api(int argc, char **argv, struct context *ctx);
int cmd_calendar(int argc, char **argv, struct context *ctx);
int cmd_cluster(int argc, char **argv, struct context *ctx);
int cmd_create_local_job(int argc, char **argv, struct context *ctx);
int cmd_daemon(int argc, char **argv, struct context *ctx);
void cmd_daemon_help(void);
int cmd_delete(int argc, char **argv, struct context *ctx);
int cmd_disable(int argc, char **argv, struct context *ctx);
int cmd_enable(int argc, char **argv, struct context *ctx);
int cmd_export(int argc, char **argv, struct context *ctx);
int cmd_failover(int argc, char **argv, struct context *ctx);
int cmd_finalize_local_job(int argc, char **argv, struct context *ctx);
int cmd_guest_start(int argc, char **argv, struct context *ctx);
int cmd_ha(int argc, char **argv, struct context *ctx);
int cmd_help(int argc, char **argv, struct context *ctx);
int cmd_import(int argc, char **argv, struct context *ctx);
int cmd_list(int argc, char **argv, struct context *ctx);
int cmd_log(int argc, char **argv, struct context *ctx);
int cmd_metrics(int argc, char **argv, struct context *ctx);
int cmd_migrate(int argc, char **argv, struct context *ctx);
int cmd_notify_test(int argc, char **argv, struct context *ctx);
int cmd_prepare_local_job(int argc, char **argv, struct context *ctx);
int cmd_read(int argc, char **argv, struct context *ctx);
int cmd_remote_exec(int argc, char **argv, struct context *ctx);
int cmd_replica_rollback(int argc, char **argv, struct context *ctx);
int cmd_replica_snapshots(int argc, char **argv, struct context *ctx);
int cmd_migration_ip(int argc, char **argv, struct context *ctx);
int cmd_run(int argc, char **argv, struct context *ctx);
int cmd_schedule_now(int argc, char **argv, struct context *ctx);
int cmd_session(int argc, char **argv, struct context *ctx);
int cmd_serve(int argc, char **argv, struct context *ctx);
int cmd_set_state(int argc, char **argv, struct context *ctx);
int cmd_ssh_authorize(int argc, char **argv, struct context *ctx);
int cmd_ssh_setup(int argc, char **argv, struct context *ctx);
int cmd_status(int argc, char **argv, struct context *ctx);
int cmd_update(int argc, char **argv, struct context *ctx);
int cmd_version(int argc, char **argv, struct context *ctx);

#endif
