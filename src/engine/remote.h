/* The calls the source makes on the target (docs/pvesr-compat.md §4.5):
 * argv of each target-side verb, and the transport to the target.
 *
 * Contract of the target-side verbs (also the whitelist of `volrep serve`,
 * src/transport/serve.c):
 *   volrep prepare-local-job <jobid> [--scan <sid,...>] [<volid> ...]
 *          --last_sync <n> [--parent_snapname <name>] [--force]
 *   volrep finalize-local-job <jobid> <volid>... --last_sync <n>
 *   volrep import <volid> --snapshot <snap> [--base <base>]   (stream on stdin)
 *   volrep set-state <vmid> <json>
 *
 * A run sends all of these through one session (transport/session.h,
 * docs/protocol.md) when the target speaks it; VOLREP_SESSION=0 makes
 * it use one transport call per step, as for an older target.
 *
 * Environment (tests): VOLREP_REMOTE_BIN replaces "volrep" as the program
 * run on the target. VOLREP_TRANSPORT=local runs the target's commands on
 * this machine through transport/local.h instead of ssh; the target then
 * gets VOLREP_CONFIG_DIR / VOLREP_STATE_DIR / VOLREP_LOG_DIR from
 * VOLREP_TARGET_CONFIG_DIR / _STATE_DIR / _LOG_DIR when those are set (a
 * second "node" with its own storage.cfg on one host). */
#ifndef VOLREP_ENGINE_REMOTE_H
#define VOLREP_ENGINE_REMOTE_H

#include <stdint.h>

#include "base/strbuf.h"
#include "base/strvec.h"
#include "config/nodes.h"
#include "transport/transport.h"

/* What the target runs: $VOLREP_REMOTE_BIN or "volrep". */
const char *remote_bin(void);

/* Append the argv of the verbs to argv (which stays NULL-terminated).
 * scan, volids may be NULL or empty; parent may be NULL. */
void remote_prepare_argv(struct strvec *argv, const char *jobid, const struct strvec *scan,
			 const struct strvec *volids, int64_t last_sync, const char *parent, int force);
/* Append "--keep N" to a prepare or finalize argv when keep > 0 (the
 * job's retention on the target). */
void remote_keep_argv(struct strvec *argv, unsigned keep);
void remote_finalize_argv(struct strvec *argv, const char *jobid, const struct strvec *volids,
			  int64_t last_sync);
/* compress: "zstd"/"lz4" when the stream is framed (exec/wire.h), else NULL */
void remote_import_argv(struct strvec *argv, const char *volid, const char *snap, const char *base,
			const char *compress);
void remote_set_state_argv(struct strvec *argv, const char *vmid, const char *json);

/* Set up t for node target: its address from nodes.cfg (a node without
 * address is reached by its name), ssh with control sockets under
 * state_dir (or the local transport, see above). Returns 0, or -errno with
 * the message in err ("no such cluster node '<t>'"). */
int remote_open(struct transport *t, const struct nodes_cfg *nc, const char *target,
		const char *state_dir, struct strbuf *err);

/* volrep.cfg ssh-persist of config_dir for t (an ssh transport; nothing
 * for others). An unreadable volrep.cfg leaves the default: whoever runs
 * with it reports the error. */
void remote_set_persist(struct transport *t, const char *config_dir);

/* The most a verb's stdout may hold (a prepare's snapshot list, say). */
#define REMOTE_OUT_MAX (4u << 20)

struct session;
/* Run argv, a verb of volrep on the node t leads to (through sess, the
 * run's session, when not NULL), its stdout into out (may be NULL; at
 * most REMOTE_OUT_MAX bytes) and its stderr into rerr (may be NULL). On
 * failure the message (transport_describe) is appended to err. Returns
 * 0, -ENOTCONN when the node could not be reached, -EIO when the command
 * failed. The one way the engine runs a verb on another node. */
int remote_call(struct transport *t, struct session *sess, const struct strvec *argv, struct strbuf *out,
		struct strbuf *rerr, struct strbuf *err);

#endif
