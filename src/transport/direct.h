/* The direct data path (PVE's `migration: type=insecure`): control stays
 * on ssh, the stream of a volume goes over a plain TCP connection on the
 * migration network (volrep.cfg migration-type / migration-network,
 * docs/transport.md). Not encrypted; authenticated with a one-time token.
 *
 * Target (volrep import --direct CIDR):
 *   struct direct_listener l = DIRECT_LISTENER_INIT;
 *   direct_listen(&l, cidr, prefer, err);       ephemeral port on its
 *                                                address in the network
 *   print direct_announce(&l) on stdout (to the source, over ssh)
 *   fd = direct_accept(&l, ...);                 exactly one connection,
 *                                                its token checked
 *   ... receive from fd ...; close(fd)
 * Source:
 *   read the announce line, direct_parse_announce() (the target is
 *   hostile: the address must lie in the network, the token is 64 hex
 *   digits), fd = direct_connect(...), stream into fd.
 * direct_stream() does the source's half with a command run through a
 * transport (ssh), with the same results as transport_stream().
 *
 * The token is 32 random bytes (getrandom) in hex, good for one
 * connection: the listener accepts one connection and closes, whatever
 * that connection sends; a wrong token fails the import (a peer on the
 * network can stop a transfer, never feed it). Every wait is bounded. */
#ifndef VOLREP_TRANSPORT_DIRECT_H
#define VOLREP_TRANSPORT_DIRECT_H

#include <netinet/in.h>
#include <stddef.h>

#include "base/strbuf.h"
#include "transport/transport.h"

#define DIRECT_TOKEN_BYTES 32
#define DIRECT_TOKEN_HEX (2 * DIRECT_TOKEN_BYTES)
/* how long the target waits for the source's connection, and then for
 * its token */
#define DIRECT_ACCEPT_TIMEOUT_MS 30000
#define DIRECT_TOKEN_TIMEOUT_MS 10000
/* how long the source waits for its connect */
#define DIRECT_CONNECT_TIMEOUT_MS 10000
/* the announce line: "direct-listen <address> <port> <token>" */
#define DIRECT_ANNOUNCE "direct-listen"
#define DIRECT_LINE_MAX 256

struct direct_listener {
	int fd;
	char addr[INET6_ADDRSTRLEN];
	unsigned port;
	char token[DIRECT_TOKEN_HEX + 1];
};
#define DIRECT_LISTENER_INIT { .fd = -1, .addr = "", .port = 0, .token = "" }

/* Listen on this node's address in network (a CIDR, base/cidr.h): prefer
 * (an IP address, may be NULL: e.g. the server side of the ssh
 * connection) when it lies in the network, else the first address of an
 * interface that does. Port 0 (ephemeral), backlog 1, a fresh token.
 * Returns 0, or -errno with one line in err ("no address of this node in
 * migration network '10.1.0.0/24'"). */
int direct_listen(struct direct_listener *l, const char *network, const char *prefer, struct strbuf *err);
/* The announce line for l (without newline) into out. */
void direct_announce(const struct direct_listener *l, struct strbuf *out);
/* Accept one connection within accept_ms, close the listener, read the
 * token line within token_ms and compare it in constant time. Returns the
 * connection's fd (blocking, close-on-exec), or -errno with one line in
 * err (-ETIMEDOUT, -EACCES for a wrong token). */
int direct_accept(struct direct_listener *l, int accept_ms, int token_ms, struct strbuf *err);
void direct_close(struct direct_listener *l);

/* Parse an announce line from the target (hostile): the address must be
 * an IP address inside network, the port 1..65535, the token exactly
 * DIRECT_TOKEN_HEX lower-case hex digits. Returns 0, or -EPROTO with one
 * line in err. addr needs INET6_ADDRSTRLEN bytes, token
 * DIRECT_TOKEN_HEX + 1. */
int direct_parse_announce(const char *line, const char *network, char *addr, unsigned *port, char *token,
			  struct strbuf *err);
/* Connect to addr:port within timeout_ms and send the token line.
 * Returns the fd or -errno with one line in err. */
int direct_connect(const char *addr, unsigned port, const char *token, int timeout_ms, struct strbuf *err);

/* transport_stream() over the direct path: run argv + "--direct network"
 * on the target, wait for its announce line (bounded by the transport's
 * stall timeout), connect and pump in_fd into the connection with o.
 * out starts with "direct data path: <address> port <port>" (the
 * announce itself, with its token, is not kept).
 * Returns as transport_stream(); its own failures (no or a bad announce,
 * a failed connect) return -EPROTO with one line in why. */
struct relay_opts;
struct relay_stats;
int direct_stream(struct transport *t, const char *const *argv, const char *network, int in_fd,
		  const struct relay_opts *o, struct strbuf *out, struct strbuf *err, size_t max,
		  struct relay_stats *stats, struct strbuf *why);

#endif
