/* The ssh transport: volrep's target-side verbs run as
 *   ssh [VOLREP_SSH options] -e none -T -x -a -o BatchMode=yes
 *       -o HostKeyAlias=<node> -o ConnectTimeout=5
 *       -o ServerAliveInterval=5 -o ServerAliveCountMax=3
 *       -o ControlMaster=auto -o ControlPersist=900 -o ControlPath=<dir>/%C
 *       -- root@<address> 'volrep' 'verb' 'arg' ...
 * Every remote word is single-quoted (sshd always hands the command line to
 * the user's shell, or to "volrep serve" as SSH_ORIGINAL_COMMAND). One
 * multiplexed connection per target is shared by every call of a run and,
 * for ControlPersist seconds (volrep.cfg ssh-persist), by later runs: a
 * replication makes 3+ ssh calls per volume and the handshake dominates
 * small incremental runs.
 * A dead node fails within ConnectTimeout (no answer) or
 * ServerAliveInterval * ServerAliveCountMax (connection went silent). */
#ifndef VOLREP_TRANSPORT_SSH_H
#define VOLREP_TRANSPORT_SSH_H

#include "transport/transport.h"

#define SSH_CONNECT_TIMEOUT 5
#define SSH_ALIVE_INTERVAL 5
#define SSH_ALIVE_COUNT 3
/* the default of volrep.cfg ssh-persist (config/volrepcfg.h) */
#define SSH_CONTROL_PERSIST 900
/* sun_path is 108 bytes; ssh expands %C to 40 hex digits and appends a
 * 17-character temporary suffix while it binds the socket */
#define SSH_CONTROL_DIR_MAX 48
#define SSH_CONTROL_DIR_FALLBACK "/run/volrep/ssh"

extern const struct transport_ops ssh_transport_ops;

/* 1 when s is usable as an ssh host: a DNS name (labels of [A-Za-z0-9-],
 * not starting or ending with '-', at most 253 characters), an IPv4
 * address or an IPv6 address (without brackets). Never starts with '-',
 * never contains '@', ':' outside IPv6, spaces or shell characters. */
int ssh_valid_address(const char *s);

/* Set up t for node (a valid node name) at address (ssh_valid_address).
 * Without VOLREP_SSH, the command is "ssh", plus "-i <key>" when the
 * dedicated key of ssh_volrep_key() exists (volrep ssh-setup creates it).
 * Environment:
 *   VOLREP_SSH              the ssh program and extra options, split at
 *                           blanks (no quoting), placed before volrep's own
 *                           options so they win (ssh keeps the first value
 *                           of an option): "ssh -F /x/ssh_config -i /x/key"
 *   VOLREP_SSH_CONTROL_DIR  socket directory; empty string: no multiplexing
 * Otherwise the control sockets live in <state_dir>/ssh, or in
 * SSH_CONTROL_DIR_FALLBACK when that path is too long for a socket. The
 * directory is created 0700 on first use and refused when it is not a
 * directory owned by us with mode 0700.
 * Returns 0, or -EINVAL (bad node, address or VOLREP_SSH). */
int transport_ssh_init(struct transport *t, const char *node, const char *address,
		       const char *state_dir);

/* The dedicated key volrep uses when VOLREP_SSH is not set:
 * "<home>/.ssh/id_volrep", home from the password database (as ssh
 * itself finds ~, also under systemd without $HOME). Replaces path's
 * content. Returns 0, or -ENOENT when the user has no home. */
int ssh_volrep_key(struct strbuf *path);

/* Connect to port (1..65535, nodes.cfg "port") instead of ssh's default:
 * "-p <port>" after the VOLREP_SSH words. Returns 0 or -EINVAL. */
int transport_ssh_set_port(struct transport *t, unsigned port);

/* volrep.cfg ssh-persist: the control master outlives its last use by
 * seconds (1..); 0: no connection sharing at all (ControlMaster=no, as
 * with VOLREP_SSH_CONTROL_DIR empty). Returns 0 or -EINVAL (not ssh). */
int transport_ssh_set_persist(struct transport *t, unsigned seconds);

/* ssh -c: the cipher of the connection (volrep.cfg ssh-cipher). */
#define SSH_CIPHER_AES "aes128-gcm@openssh.com"
#define SSH_CIPHER_CHACHA "chacha20-poly1305@openssh.com"
/* 1 when s looks like an OpenSSH cipher name ([a-z0-9.@-], not starting
 * with '-', at most 64 characters). */
int ssh_valid_cipher(const char *s);
/* The default for a CPU described by cpuinfo (the text of /proc/cpuinfo,
 * may be NULL): SSH_CIPHER_AES when its flags have "aes", else
 * SSH_CIPHER_CHACHA. */
const char *ssh_cipher_auto(const char *cpuinfo);
/* "-c <cipher>" after the VOLREP_SSH words. Returns 0 or -EINVAL. */
int transport_ssh_set_cipher(struct transport *t, const char *cipher);

/* Make sure dir exists, is a real directory (not a symlink), owned by the
 * effective uid with no group/other permissions; creates it (and missing
 * parents, 0755 for those) with mode 0700. Returns 0 or -errno
 * (-EPERM when it exists with the wrong owner or mode). */
int ssh_private_dir(const char *dir);

/* Whether ssh's stderr (of a call that exited 255) says the host could
 * not be reached at all: no route to host, connection refused, connection
 * timed out. Everything else ssh fails with (a changed host key, a
 * refused key, an unknown name, a dropped connection) says nothing about
 * whether the node is down: 0. */
int ssh_unreachable(const char *err);

#endif
