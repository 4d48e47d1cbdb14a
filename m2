# HELP volrep_up 1 when volrep could read its configuration and state.
# TYPE volrep_up gauge
volrep_up 1
# HELP volrep_daemon_jobs_configured Replication jobs to run on this node (enabled, or marked for removal).
# TYPE volrep_daemon_jobs_configured gauge
volrep_daemon_jobs_configured 2
# HELP volrep_daemon_workers_running Replication runs in progress on this node.
# TYPE volrep_daemon_workers_running gauge
volrep_daemon_workers_running 0
# HELP volrep_replication_info Replication job: its guest, type, source, target and schedule; always 1.
# TYPE volrep_replication_info gauge
volrep_replication_info{id="100-0",guest="100",vmtype="qemu",source="pve1",target="pve2",schedule="*/15"} 1
volrep_replication_info{id="200-0",guest="200",vmtype="lxc",source="pve1",target="pve2",schedule="*/15"} 1
# HELP volrep_replication_last_sync_timestamp_seconds Start of the last successful sync (epoch seconds); 0 = never synced.
# TYPE volrep_replication_last_sync_timestamp_seconds gauge
volrep_replication_last_sync_timestamp_seconds{id="100-0"} 0
volrep_replication_last_sync_timestamp_seconds{id="200-0"} 0
# HELP volrep_replication_last_try_timestamp_seconds Start of the last attempt (epoch seconds); 0 = never tried.
# TYPE volrep_replication_last_try_timestamp_seconds gauge
volrep_replication_last_try_timestamp_seconds{id="100-0"} 1796170539
volrep_replication_last_try_timestamp_seconds{id="200-0"} 1796170539
# HELP volrep_replication_next_sync_timestamp_seconds When the job runs next (epoch seconds); 0 = not scheduled, 1 = at once.
# TYPE volrep_replication_next_sync_timestamp_seconds gauge
volrep_replication_next_sync_timestamp_seconds{id="100-0"} 1796170839
volrep_replication_next_sync_timestamp_seconds{id="200-0"} 1796170839
# HELP volrep_replication_duration_seconds Duration of the last run in seconds.
# TYPE volrep_replication_duration_seconds gauge
volrep_replication_duration_seconds{id="100-0"} 0.001261
volrep_replication_duration_seconds{id="200-0"} 0.00032499999999999999
# HELP volrep_replication_failed_syncs Consecutive failed runs (the fail count); 0 after a good run.
# TYPE volrep_replication_failed_syncs gauge
volrep_replication_failed_syncs{id="100-0"} 1
volrep_replication_failed_syncs{id="200-0"} 1
# HELP volrep_replication_last_bytes Bytes the last run streamed to the target.
# TYPE volrep_replication_last_bytes gauge
volrep_replication_last_bytes{id="100-0"} 0
volrep_replication_last_bytes{id="200-0"} 0
# HELP volrep_replication_running 1 while a run of the job is in progress.
# TYPE volrep_replication_running gauge
volrep_replication_running{id="100-0"} 0
volrep_replication_running{id="200-0"} 0
# HELP volrep_replication_removal_pending 1 when the job is marked for removal and its clean-up has not finished.
# TYPE volrep_replication_removal_pending gauge
volrep_replication_removal_pending{id="100-0"} 0
volrep_replication_removal_pending{id="200-0"} 0
# HELP volrep_replication_interval_seconds Seconds between the next two events of the job's schedule; 0 = unknown.
# TYPE volrep_replication_interval_seconds gauge
volrep_replication_interval_seconds{id="100-0"} 900
volrep_replication_interval_seconds{id="200-0"} 900
# HELP volrep_replication_stale 1 when the last sync is older than max-lag (volrep.cfg) or twice the interval.
# TYPE volrep_replication_stale gauge
volrep_replication_stale{id="100-0"} 0
volrep_replication_stale{id="200-0"} 0
