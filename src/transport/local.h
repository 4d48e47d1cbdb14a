/* The local transport: the "target" command runs on this machine, directly
 * (no ssh, no shell). argv[0] == "volrep" is replaced by the volrep binary
 * (exe, or this process's own binary when exe is NULL); any other argv[0]
 * is run as given (looked up in PATH). The environment gets
 * VOLREP_NODE=<node> plus whatever the caller pushes to t->env (e.g.
 * VOLREP_STATE_DIR of the pretend target). Used by tests and single-host
 * setups; the result convention is the same as ssh's, except that no
 * exit code means a link failure. */
#ifndef VOLREP_TRANSPORT_LOCAL_H
#define VOLREP_TRANSPORT_LOCAL_H

#include "transport/transport.h"

extern const struct transport_ops local_transport_ops;

/* Returns 0, -EINVAL (bad node name) or -errno (reading /proc/self/exe). */
int transport_local_init(struct transport *t, const char *node, const char *exe);

/* The absolute path of the running binary (readlink /proc/self/exe) into
 * sb. Returns 0 or -errno. */
int self_exe_path(struct strbuf *sb);

#endif
