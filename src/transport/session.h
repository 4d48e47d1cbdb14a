/* One session per run: every target-side command of a replication run
 * (prepare-local-job, each volume's import stream, finalize-local-job)
 * through one ssh session and one `volrep serve` process on the target,
 * in a small framed protocol (docs/protocol.md).
 *
 *   frame = type(1) 0 0 0 length(4, big endian) payload[length]
 *   source -> target:  'H' hello   "volrep-session 1"
 *                      'C' command (the words quoted as for ssh: base/quote.h)
 *                      'D' data    (the command's stdin; 1..SESSION_DATA_MAX)
 *                      'E' end of the command's stdin (empty)
 *   target -> source:  'H' hello   (the same text: the version is spoken)
 *                      'O' stdout, 'R' stderr of the command (1..SESSION_OUT_MAX)
 *                      'X' exit code (4 bytes, 0..255)
 * A session is: hello, hello, then commands one after the other; each is
 * C, any number of D, one E from the source, and O/R ... X from the
 * target (X may come before E: the source then stops sending data and
 * sends E). The source closing its side at a command boundary ends the
 * session. Anything else is a protocol error that ends the session.
 *
 * The target gates each command exactly as a forced command line (serve.h:
 * grammar, then the peer's policy, then the argv rebuilt from parsed
 * values); the session adds no command of its own.
 *
 * Source side:
 *   struct session *s;
 *   r = session_open(&t, argv_of_volrep_session, &s, &err);
 *     -EPROTONOSUPPORT: the target does not speak it (an older volrep):
 *     use transport_run/transport_stream per command instead
 *   r = session_run(s, argv, &out, &err, max);        as transport_run
 *   r = session_stream(s, argv, fd, &ro, &out, &err, max, &stats);
 *                                                     as transport_stream
 *   session_close(s);
 * After -ETIMEDOUT, -EINTR, -ENOTCONN or -EPROTO the session is broken
 * (its ssh was stopped) and further calls return -ENOTCONN. SIGPIPE must
 * be ignored on both sides (volrep's main does). */
#ifndef VOLREP_TRANSPORT_SESSION_H
#define VOLREP_TRANSPORT_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"
#include "exec/spawn.h"
#include "transport/transport.h"

#define SESSION_HELLO "volrep-session 1"
#define SESSION_HDR 8
#define SESSION_HELLO_MAX 64
#define SESSION_CMD_MAX (64 * 1024)
#define SESSION_DATA_MAX (256 * 1024)
#define SESSION_OUT_MAX (64 * 1024)
/* the largest frame of any type, header included */
#define SESSION_FRAME_MAX (SESSION_HDR + SESSION_DATA_MAX)
/* serve ends a session that sits between commands this long */
#define SESSION_IDLE_MS (15 * 60 * 1000L)

/* ---- frames ---- */

struct session_frame {
	char type;
	const uint8_t *data; /* valid until the next session_parser call */
	uint32_t len;
};

/* Incremental parser of the peer's bytes, at most SESSION_FRAME_MAX
 * buffered. */
struct session_parser {
	uint8_t *buf;
	size_t len, consumed;
};
#define SESSION_PARSER_INIT { .buf = NULL, .len = 0, .consumed = 0 }
void session_parser_release(struct session_parser *p);
/* Where to read the next bytes into: *room bytes at the returned
 * pointer (> 0 unless a whole frame is buffered and not yet taken). */
uint8_t *session_parser_space(struct session_parser *p, size_t *room);
/* n bytes were read into the space. */
void session_parser_added(struct session_parser *p, size_t n);
/* Feed bytes (copying; for tests and the fuzzer): at most the room. */
size_t session_parser_feed(struct session_parser *p, const void *buf, size_t n);
/* The next complete frame: 1 (in *f), 0 (need more bytes), or -EBADMSG
 * with the reason in why (unknown type, reserved bytes set, a length out
 * of the type's bounds: checked from the header alone, before any of
 * the payload is buffered). */
int session_parser_next(struct session_parser *p, struct session_frame *f, struct strbuf *why);
/* How many more bytes complete the next frame (its header first): a
 * reader that takes no more never buffers bytes of the frame after it.
 * 0 when a whole frame is buffered. */
size_t session_parser_want(const struct session_parser *p);
/* When what is buffered is exactly the header of a valid 'D' frame:
 * take it (1, its payload length in *len; the caller reads the payload
 * itself, e.g. splices it on). Otherwise 0 and nothing changes. */
int session_parser_data_header(struct session_parser *p, uint32_t *len);
/* Whether bytes of an incomplete frame are buffered. */
int session_parser_partial(const struct session_parser *p);

/* Append a frame (the caller keeps to the type's bounds). */
void session_frame_add(struct strbuf *out, char type, const void *data, size_t len);

/* ---- source side ---- */

struct session;
struct relay_opts;
struct relay_stats;

/* Start argv (the target's `volrep session`) through t and exchange
 * hellos, within t->stall_timeout. 0 and *s, or -EPROTONOSUPPORT (the
 * target refused or does not know it: fall back), or -ENOTCONN (the
 * link failed) / other -errno with a one-line message in err. */
int session_open(struct transport *t, const char *const *argv, struct session **s, struct strbuf *err);
int session_run(struct session *s, const char *const *argv, struct strbuf *out, struct strbuf *err, size_t max);
/* in_fd's bytes (compressed with o->enc, rate limited on wire bytes,
 * progress, abort flag and stall bound as relay_pump) as the command's
 * stdin. in_fd is not closed. */
int session_stream(struct session *s, const char *const *argv, int in_fd, const struct relay_opts *o,
		   struct strbuf *out, struct strbuf *err, size_t max, struct relay_stats *stats);
int session_broken(const struct session *s);
/* Between commands: whether the target still holds the session (serve
 * closes one left idle for SESSION_IDLE_MS); 0 after marking it broken,
 * so that the caller can open a new one. */
int session_alive(struct session *s);
/* The transport's own stderr so far (ssh's complaints), for messages. */
const char *session_link_errors(const struct session *s);
/* End the session (the target's serve exits) and free s (NULL: nothing). */
void session_close(struct session *s);

/* ---- target side ---- */

struct session_server {
	/* Gate and start the command line cmd (len bytes, not
	 * NUL-terminated in the frame; a NUL-terminated copy is passed).
	 * 0: *c runs, with in/out/err pipes. < 0: refused or failed, with
	 * the exit code to report in *code and a one-line reason in why. */
	int (*start)(void *data, const char *cmd, size_t len, struct child *c, int *code, struct strbuf *why);
	void *data;
	long idle_ms; /* between commands; 0: SESSION_IDLE_MS */
};

/* Serve a session on in/out (serve's stdin/stdout) until the peer
 * closes it between commands (0), or a protocol error (-EPROTO, the
 * reason in err; sent to the peer too), or the idle bound (-ETIMEDOUT).
 * SIGPIPE must be ignored (volrep's main does). */
int session_serve(int in, int out, const struct session_server *srv, struct strbuf *err);

#endif
