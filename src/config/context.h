/* Where volrep finds its files and who it is: resolved once per command
 * from options, environment and defaults (docs/ARCHITECTURE.md §2). */
#ifndef VOLREP_CONFIG_CONTEXT_H
#define VOLREP_CONFIG_CONTEXT_H

struct context {
	char *config_dir; /* --config-dir, VOLREP_CONFIG_DIR, /etc/volrep */
	char *state_dir;  /* --state-dir, VOLREP_STATE_DIR, /var/lib/volrep */
	char *log_dir;    /* --log-dir, VOLREP_LOG_DIR, /var/log/volrep */
	char *node;       /* --node, VOLREP_NODE, hostname -s */
	char *cluster;    /* --cluster, VOLREP_CLUSTER, unset: dir mode (cluster/store.h) */
	/* where config_dir and node came from, for messages: "--config-dir",
	 * "VOLREP_CONFIG_DIR", "the default" / "--node", "VOLREP_NODE",
	 * "hostname -s" (static strings, set by context_resolve) */
	const char *config_dir_from;
	const char *node_from;
};

/* Fill unset fields from the environment and defaults. Returns 0, or
 * -EINVAL when the node name is not a valid node name. */
int context_resolve(struct context *ctx);
void context_release(struct context *ctx);

/* With a cluster URL, open the etcd store and make it the process's
 * cluster store (store_set_cluster). Returns 0, or -EINVAL after printing
 * "invalid cluster URL ..." */
int context_open_cluster(struct context *ctx);

#endif
