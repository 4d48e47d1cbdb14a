/* What migration and failover share: handing a guest to another node in
 * the cluster config, and calling volrep's verbs on another node.
 *
 * The owner of a guest is the node whose directory holds its config
 * (docs/ARCHITECTURE.md §2). Handing it over moves the config file and rewrites the
 * guest's jobs as pvesr does after a migration (docs/pvesr-compat.md §5.2):
 * the job that targeted the new owner now targets the old one, and every
 * job of the guest has the new owner as its source; jobs to third nodes
 * keep their target. */
#ifndef VOLREP_ENGINE_HANDOVER_H
#define VOLREP_ENGINE_HANDOVER_H

#include <stdint.h>

#include "base/strbuf.h"
#include "base/strvec.h"
#include "config/cluster.h"
#include "transport/transport.h"

/* Under the config dir lock: rewrite the jobs of g (job_status_switch_
 * stolen(jc, vmid, old_node, new_node)), check that the result is a valid
 * replication.cfg (e.g. not two jobs to one node), then rename g's config
 * to nodes/<new_node>/<qemu-server|lxc>/<vmid>.conf (never replacing an
 * existing file) and write replication.cfg. The new direction of every job
 * of the guest is appended to jobs as "<id> <source> <target>" (may be
 * NULL). Returns 0, or -errno with the message in err: nothing changed
 * when the check or the rename failed; when only writing
 * replication.cfg failed the config has moved and the message says so
 * (the new owner's next run switches the jobs itself, jobstatus.h). */
int guest_hand_over(const char *config_dir, const struct guest *g, const char *old_node, const char *new_node,
		    struct strvec *jobs, struct strbuf *err);

/* The guest's config path on node (appended to sb). */
void guest_conf_path_on(struct strbuf *sb, const char *config_dir, const struct guest *g, const char *node);


#endif
