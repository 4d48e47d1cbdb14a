/* A client of the QEMU guest agent (qemu-ga) of a VM on this node, over
 * the socket qemu-server gives it: /var/run/qemu-server/<vmid>.qga.
 *
 * The protocol is what qemu-server's PVE::QMPClient speaks to it: two JSON
 * lines per command,
 *
 *     {"execute": "guest-sync-delimited", "arguments": {"id": ID}}
 *     {"execute": "guest-fsfreeze-freeze"}
 *
 * and the agent answers a 0xFF byte (after which everything from an
 * earlier, abandoned exchange is gone), then {"return": ID} and the
 * command's reply, {"return": VALUE} or {"error": {"class": ..., "desc":
 * ...}}. A sync reply with a smaller ID is a late answer to an earlier
 * client: skipped, as PVE does.
 *
 * What comes back is written by the guest: hostile. It is read into a
 * bounded buffer within a deadline, each line parsed strictly (one JSON
 * object, no duplicate keys, nothing after it), and only an integer, a
 * short word or a sanitized error text is kept. */
#ifndef VOLREP_ENGINE_QGA_H
#define VOLREP_ENGINE_QGA_H

#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"

/* more than any answer of the commands volrep sends */
#define QGA_REPLY_MAX 65536

enum qga_kind { QGA_RETURN, QGA_ERROR };

struct qga_reply {
	enum qga_kind kind;
	int has_int;      /* "return": an integer (fsfreeze-freeze/-thaw: file systems) */
	int64_t ival;
	char word[32];    /* "return": a short string of [a-z-] ("frozen", "thawed"), else "" */
	char desc[256];   /* "error": its desc, sanitized */
};

/* Parse what the agent sent so far for the exchange with sync id.
 * Returns 1 (*rep filled), 0 when more is needed, or -EPROTO with the
 * problem in err. */
int qga_parse_reply(const char *buf, size_t len, int64_t id, struct qga_reply *rep, struct strbuf *err);

/* Send cmd ("guest-ping", ...) without arguments over the socket at
 * path and wait at most timeout_ms for the answer; an interrupted run
 * (engine/interrupt.h) stops waiting, except for guest-fsfreeze-thaw.
 * Returns 0 (*rep filled, which may be an error reply), -ETIMEDOUT,
 * -EPROTO, -EINTR, or -errno (connecting), the message in err. */
int qga_command(const char *path, const char *cmd, long timeout_ms, struct qga_reply *rep, struct strbuf *err);

#endif
