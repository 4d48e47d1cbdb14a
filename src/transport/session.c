#include "transport/session.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/quote.h"
#include "base/xalloc.h"
#include "exec/ratelimit.h"
#include "exec/relay.h"
#include "exec/wire.h"

_Static_assert(WIRE_HEADER_LEN + WIRE_FRAME_HDR + WIRE_CHUNK_MAX + 1024 <= SESSION_DATA_MAX,
	       "a compressed chunk fits a data frame");

/* ssh's own stderr kept for messages */
#define LINK_ERR_MAX 8192
/* how long a closed session's ssh may take to end by itself */
#define SESSION_CLOSE_WAIT_MS 3000

/* ---- frames ---- */

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void session_frame_add(struct strbuf *out, char type, const void *data, size_t len)
{
	uint8_t h[SESSION_HDR] = { (uint8_t)type, 0, 0, 0 };

	put_be32(h + 4, (uint32_t)len);
	strbuf_add(out, h, sizeof(h));
	if (len)
		strbuf_add(out, data, len);
}

/* The bounds of a frame type's payload; 0 for an unknown type. */
static int frame_bounds(char type, uint32_t *min, uint32_t *max)
{
	switch (type) {
	case 'H':
		*min = 1, *max = SESSION_HELLO_MAX;
		return 1;
	case 'C':
		*min = 1, *max = SESSION_CMD_MAX;
		return 1;
	case 'D':
		*min = 1, *max = SESSION_DATA_MAX;
		return 1;
	case 'E':
		*min = 0, *max = 0;
		return 1;
	case 'O':
	case 'R':
		*min = 1, *max = SESSION_OUT_MAX;
		return 1;
	case 'X':
		*min = 4, *max = 4;
		return 1;
	}
	return 0;
}

void session_parser_release(struct session_parser *p)
{
	free(p->buf);
	*p = (struct session_parser)SESSION_PARSER_INIT;
}

static void drop_consumed(struct session_parser *p)
{
	if (!p->consumed)
		return;
	memmove(p->buf, p->buf + p->consumed, p->len - p->consumed);
	p->len -= p->consumed;
	p->consumed = 0;
}

uint8_t *session_parser_space(struct session_parser *p, size_t *room)
{
	drop_consumed(p);
	if (!p->buf)
		p->buf = xmalloc(SESSION_FRAME_MAX);
	*room = SESSION_FRAME_MAX - p->len;
	return p->buf + p->len;
}

void session_parser_added(struct session_parser *p, size_t n)
{
	p->len += n;
}

size_t session_parser_feed(struct session_parser *p, const void *buf, size_t n)
{
	size_t room;
	uint8_t *dst = session_parser_space(p, &room);

	if (n > room)
		n = room;
	memcpy(dst, buf, n);
	session_parser_added(p, n);
	return n;
}

int session_parser_partial(const struct session_parser *p)
{
	return p->len > p->consumed;
}

static int bad_frame(struct strbuf *why, const char *what, unsigned type, uint32_t len)
{
	if (why) {
		strbuf_reset(why);
		strbuf_addf(why, "%s: type 0x%02x, length %lu", what, type, (unsigned long)len);
	}
	return -EBADMSG;
}

/* The buffered header's checks, from the header alone: 0 and the
 * payload's length, or -EBADMSG. */
static int check_header(const uint8_t *h, uint32_t *lenp, struct strbuf *why)
{
	uint32_t len = get_be32(h + 4), min, max;

	if (!frame_bounds((char)h[0], &min, &max))
		return bad_frame(why, "unknown frame type", h[0], len);
	if (h[1] || h[2] || h[3])
		return bad_frame(why, "reserved bytes set in a frame", h[0], len);
	if (len < min || len > max)
		return bad_frame(why, "frame length out of bounds", h[0], len);
	*lenp = len;
	return 0;
}

size_t session_parser_want(const struct session_parser *p)
{
	size_t have = p->len - p->consumed;
	uint32_t len;

	if (have < SESSION_HDR)
		return SESSION_HDR - have;
	if (check_header(p->buf + p->consumed, &len, NULL) < 0)
		return 0;
	return SESSION_HDR + (size_t)len > have ? SESSION_HDR + (size_t)len - have : 0;
}

int session_parser_data_header(struct session_parser *p, uint32_t *len)
{
	if (p->len - p->consumed != SESSION_HDR || p->buf[p->consumed] != 'D' ||
	    check_header(p->buf + p->consumed, len, NULL) < 0)
		return 0;
	p->consumed = p->len;
	return 1;
}

int session_parser_next(struct session_parser *p, struct session_frame *f, struct strbuf *why)
{
	const uint8_t *h;
	uint32_t len;

	drop_consumed(p);
	if (p->len < SESSION_HDR)
		return 0;
	h = p->buf;
	if (check_header(h, &len, why) < 0)
		return -EBADMSG;
	if (p->len < SESSION_HDR + (size_t)len)
		return 0;
	f->type = (char)h[0];
	f->data = h + SESSION_HDR;
	f->len = len;
	if (f->type == 'X' && get_be32(f->data) > 255)
		return bad_frame(why, "exit code out of bounds", 'X', get_be32(f->data));
	p->consumed = SESSION_HDR + len;
	return 1;
}

/* ---- source side ---- */

struct session {
	struct transport *t;
	struct child c;
	int to, from, errfd; /* the transport's stdin, stdout, stderr */
	struct session_parser p;
	struct strbuf link_err;
	int broken;
};

static void set_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Read what the transport said on its stderr (never blocks). */
static void drain_link_err(struct session *s)
{
	char buf[2048];
	ssize_t n;

	while (s->errfd >= 0) {
		n = read(s->errfd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			close_fd(&s->errfd);
			return;
		}
		if (s->link_err.len < LINK_ERR_MAX)
			strbuf_add(&s->link_err, buf,
				   (size_t)n < LINK_ERR_MAX - s->link_err.len ? (size_t)n : LINK_ERR_MAX - s->link_err.len);
	}
}

/* Stop the transport at once (the session cannot be resynchronized);
 * returns the transport's result for it. */
static int kill_link(struct session *s, int sig)
{
	int r;

	close_fd(&s->to);
	if (s->c.pid > 0) {
		if (sig)
			child_kill(&s->c, sig);
		r = child_stop(&s->c, sig ? 0 : SESSION_CLOSE_WAIT_MS);
	} else {
		r = -ECHILD;
	}
	drain_link_err(s);
	close_fd(&s->from);
	close_fd(&s->errfd);
	s->broken = 1;
	return r < 0 ? r : s->t->ops->map_exit(s->t, r);
}

/* The link ended before the command did: ssh's result, as -ENOTCONN
 * unless the other side ended it with a status of its own. */
static int link_lost(struct session *s, struct strbuf *err)
{
	int r = kill_link(s, 0);

	if (err)
		strbuf_addstr(err, s->link_err.buf);
	return r == -ENOTCONN || r >= 0 ? -ENOTCONN : r;
}

static long stall_ms(const struct session *s, const struct relay_opts *o)
{
	if (o && o->stall_timeout_ms)
		return o->stall_timeout_ms;
	return (long)s->t->stall_timeout * 1000;
}

/* Read the target's hello, within the stall bound: 0, or -EPROTO,
 * -ETIMEDOUT, -EPROTONOSUPPORT, -ENOTCONN (the link is stopped) with the
 * message in err. */
static int wait_hello(struct session *s, const char *const *argv, struct strbuf *why, struct strbuf *err)
{
	struct transport *t = s->t;
	int64_t deadline = mono_ns() + (int64_t)stall_ms(s, NULL) * 1000000;

	for (;;) {
		struct pollfd pfd[2] = { { .fd = s->from, .events = POLLIN }, { .fd = s->errfd, .events = POLLIN } };
		struct session_frame f;
		int64_t left = deadline - mono_ns();
		size_t room;
		uint8_t *dst;
		ssize_t n;
		int r = session_parser_next(&s->p, &f, why);

		if (r < 0) {
			strbuf_addf(err, "session to '%s': %s", t->node, why->buf);
			return -EPROTO;
		}
		if (r > 0 && f.type != 'H') {
			strbuf_addf(err, "session to '%s': a '%c' frame before the hello", t->node, f.type);
			return -EPROTO;
		}
		if (r > 0)
			return f.len == strlen(SESSION_HELLO) && !memcmp(f.data, SESSION_HELLO, f.len) ? 0
													   : -EPROTONOSUPPORT;
		if (left <= 0) {
			strbuf_addf(err, "no data for %u s from 'session' on '%s' - transfer stalled", t->stall_timeout,
				    t->node);
			return -ETIMEDOUT;
		}
		if (poll(pfd, 2, (int)(left / 1000000) + 1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pfd[1].revents)
			drain_link_err(s);
		if (!pfd[0].revents)
			continue;
		dst = session_parser_space(&s->p, &room);
		n = read(s->from, dst, room);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			/* the other side ended without a hello: an older
			 * volrep (serve refused the verb), or a dead link */
			r = kill_link(s, 0);
			if (r != -ENOTCONN)
				return -EPROTONOSUPPORT;
			transport_describe(t, argv, r, s->link_err.buf, why);
			strbuf_addstr(err, why->buf);
			return r;
		}
		session_parser_added(&s->p, (size_t)n);
	}
}

int session_open(struct transport *t, const char *const *argv, struct session **sp, struct strbuf *err)
{
	struct session *s = xcalloc(1, sizeof(*s));
	struct strbuf hello = STRBUF_INIT, why = STRBUF_INIT;
	int r;

	*sp = NULL;
	s->t = t;
	s->c = (struct child)CHILD_INIT;
	s->c.in = s->c.out = s->c.err = CHILD_PIPE;
	s->c.new_pgrp = 1;
	s->p = (struct session_parser)SESSION_PARSER_INIT;
	s->link_err = (struct strbuf)STRBUF_INIT;
	r = transport_start(t, argv, &s->c);
	if (r < 0) {
		strbuf_addf(err, "cannot start the session to '%s': %s", t->node ? t->node : "?", strerror(-r));
		free(s);
		return r;
	}
	s->to = s->c.in;
	s->from = s->c.out;
	s->errfd = s->c.err;
	set_nonblock(s->from);
	set_nonblock(s->errfd);
	session_frame_add(&hello, 'H', SESSION_HELLO, strlen(SESSION_HELLO));
	/* a pipe takes the hello at once; an old target may have gone
	 * already (EPIPE): its answer below tells */
	if (write(s->to, hello.buf, hello.len) != (ssize_t)hello.len && errno != EPIPE)
		r = -errno;
	if (r == 0) {
		set_nonblock(s->to);
		/* room for whole data frames (best effort) */
		fcntl(s->to, F_SETPIPE_SZ, 1 << 20);
		r = wait_hello(s, argv, &why, err);
	}
	strbuf_release(&hello);
	strbuf_release(&why);
	if (r == 0) {
		*sp = s;
		return 0;
	}
	if (!s->broken)
		kill_link(s, SIGKILL);
	session_parser_release(&s->p);
	strbuf_release(&s->link_err);
	free(s);
	return r;
}

int session_broken(const struct session *s)
{
	return !s || s->broken;
}

int session_alive(struct session *s)
{
	struct pollfd pfd = { .fd = s->from, .events = POLLIN };

	if (s->broken)
		return 0;
	/* between commands the target says nothing: anything readable is
	 * its end (it closed an idle session) or a protocol error */
	if (poll(&pfd, 1, 0) > 0) {
		kill_link(s, SIGKILL);
		return 0;
	}
	return 1;
}

const char *session_link_errors(const struct session *s)
{
	return s ? s->link_err.buf : "";
}

void session_close(struct session *s)
{
	if (!s)
		return;
	if (!s->broken)
		kill_link(s, 0);
	session_parser_release(&s->p);
	strbuf_release(&s->link_err);
	free(s);
}

struct xchg {
	struct session *s;
	const struct relay_opts *o;
	int in_fd;            /* the stream, -1: none */
	struct strbuf wq;     /* frames to write */
	size_t woff;
	uint64_t wq_wire;     /* payload bytes of the data frames in wq */
	uint64_t wq_raw;      /* stream bytes they carry */
	uint8_t *raw, *enc;   /* with o->enc: the chunk being collected, its encoding */
	size_t raw_have;
	/* raw data frames: the header in wq, the payload in sp (spliced
	 * from the stream, spliced on to the link) while splice works */
	struct relay_pipe sp;
	int splice;
	int in_eof, in_done, exited, code, overflow, input_cut;
	int cut_at_exit;      /* the exit came: the rest goes nowhere */
	int lost;             /* the link ended mid-command (it is stopped) */
	struct strbuf *out, *err;
	size_t max;
	struct strbuf why;    /* a protocol error */
	struct ratelimit rl;
	size_t chunk;
	long stall;
	int64_t last_io;
	/* progress */
	int64_t start, last_report;
	uint64_t bytes, wire;
};

static void report(struct xchg *x, int done)
{
	if (x->o)
		relay_report(x->o, x->start, &x->last_report, x->bytes, done);
}

/* Whether frames wait to be written. */
static int has_queued(const struct xchg *x)
{
	return x->wq.len > x->woff || x->sp.fill;
}

static void keep(struct strbuf *dst, const uint8_t *data, size_t n, size_t max, int *overflow)
{
	size_t room;

	if (!dst)
		return;
	room = max > dst->len ? max - dst->len : 0;
	if (n > room)
		*overflow = 1;
	strbuf_add(dst, data, n < room ? n : room);
}

/* The target's frames: output, then the exit code. */
static int take_frames(struct xchg *x, struct strbuf *why)
{
	struct session_frame f;
	int r;

	while ((r = session_parser_next(&x->s->p, &f, why)) > 0) {
		if (x->exited) {
			strbuf_addf(why, "a '%c' frame after the exit code", f.type);
			return -EPROTO;
		}
		switch (f.type) {
		case 'O':
			keep(x->out, f.data, f.len, x->max, &x->overflow);
			break;
		case 'R':
			keep(x->err, f.data, f.len, x->max, &x->overflow);
			break;
		case 'X':
			x->code = (int)get_be32(f.data);
			x->exited = 1;
			/* a failed command wants no more; a data frame
			 * still queued, or a chunk being collected, never
			 * reached the command */
			x->cut_at_exit = !x->in_done && (x->code != 0 || has_queued(x) || x->raw_have);
			break;
		default:
			strbuf_addf(why, "unexpected '%c' frame from the target", f.type);
			return -EPROTO;
		}
	}
	return r < 0 ? -EPROTO : 0;
}

static void queue_data_header(struct xchg *x, size_t len)
{
	uint8_t h[SESSION_HDR] = { 'D', 0, 0, 0 };

	put_be32(h + 4, (uint32_t)len);
	strbuf_add(&x->wq, h, sizeof(h));
	x->wq_wire = x->wq_raw = len;
}

/* The end of the stream: the encoder's end frame, then E. */
static void queue_end(struct xchg *x)
{
	const struct relay_opts *o = x->o;

	if (o && o->enc) {
		size_t n = wire_enc_finish(o->enc, x->enc);

		session_frame_add(&x->wq, 'D', x->enc, n);
		x->wq_wire += n;
	}
	session_frame_add(&x->wq, 'E', NULL, 0);
	x->in_done = 1;
}

/* A raw data frame whose payload is spliced into x->sp: 1 (queued, or
 * the end), 0 when the stream cannot be spliced (nothing was taken), or
 * -errno. */
static int take_spliced(struct xchg *x, int in_fd, size_t chunk)
{
	ssize_t got = relay_pipe_fill(&x->sp, in_fd, chunk);

	if (got == -EINVAL || got == -ENOSYS) {
		relay_pipe_close(&x->sp);
		x->splice = 0;
		return 0;
	}
	if (got == -EAGAIN)
		return 1;
	if (got < 0)
		return (int)got;
	if (got == 0) {
		x->in_eof = 1;
		queue_end(x);
	} else {
		queue_data_header(x, (size_t)got);
	}
	return 1;
}

/* A raw data frame read into place after a header's room. */
static int take_read(struct xchg *x, int in_fd, size_t chunk)
{
	ssize_t got;

	strbuf_grow(&x->wq, SESSION_HDR + chunk);
	got = read(in_fd, x->wq.buf + SESSION_HDR, chunk);
	if (got < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -errno;
	if (got == 0) {
		x->in_eof = 1;
		queue_end(x);
		return 0;
	}
	queue_data_header(x, (size_t)got);
	strbuf_setlen(&x->wq, SESSION_HDR + (size_t)got);
	return 0;
}

/* Collect a full chunk (a chunk per read would compress badly), then
 * queue its encoding. */
static int take_encoded(struct xchg *x, int in_fd)
{
	const struct relay_opts *o = x->o;
	ssize_t got = read(in_fd, x->raw + x->raw_have, RELAY_BUFSIZE - x->raw_have);
	size_t n;

	if (got < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -errno;
	if (got == 0)
		x->in_eof = 1;
	x->raw_have += (size_t)got;
	if (x->raw_have == RELAY_BUFSIZE || (x->in_eof && x->raw_have)) {
		n = wire_enc_chunk(o->enc, x->raw, x->raw_have, x->enc);
		session_frame_add(&x->wq, 'D', x->enc, n);
		x->wq_wire += n;
		x->wq_raw += x->raw_have;
		x->raw_have = 0;
	}
	if (x->in_eof)
		queue_end(x);
	return 0;
}

/* The command ended before the stream did: what else comes decides.
 * Nothing (the end of the stream) means it read all of it, the last read
 * and the exit crossing (zfs recv ends at the stream's end record, while
 * zfs send may still be closing its side); a byte more means it stopped
 * early and the rest is cut (the export then sees EPIPE, as through a
 * plain pipe). Either way the target gets the end of its input. */
static int take_rest(struct xchg *x, int in_fd)
{
	uint8_t buf[4096];
	ssize_t got = read(in_fd, buf, sizeof(buf));

	if (got < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -errno;
	if (got == 0)
		x->in_eof = 1;
	else
		x->input_cut = 1;
	session_frame_add(&x->wq, 'E', NULL, 0);
	x->in_done = 1;
	return 0;
}

/* Read the next piece of the stream and queue it as frames (the queue is
 * empty). */
static int take_input(struct xchg *x, int in_fd, size_t chunk)
{
	int r;

	if (x->o && x->o->enc)
		return take_encoded(x, in_fd);
	if (x->splice && (r = take_spliced(x, in_fd, chunk)) != 0)
		return r < 0 ? r : 0;
	return take_read(x, in_fd, chunk);
}

/* The link refuses splice: the payload goes after its header in wq. */
static int unsplice(struct xchg *x)
{
	while (x->sp.fill) {
		size_t n = x->sp.fill;
		ssize_t got;

		strbuf_grow(&x->wq, n);
		got = relay_pipe_read(&x->sp, x->wq.buf + x->wq.len, n);
		if (got < 0 && got != -EAGAIN)
			return (int)got;
		if (got > 0)
			strbuf_setlen(&x->wq, x->wq.len + (size_t)got);
	}
	relay_pipe_close(&x->sp);
	x->splice = 0;
	return 0;
}

/* Write what the queue holds: the frames in wq, then a spliced payload.
 * 1 when something moved, 0 when not, -errno when the link failed. */
static int send_queued(struct xchg *x)
{
	ssize_t n;

	if (x->wq.len > x->woff) {
		n = write(x->s->to, x->wq.buf + x->woff, x->wq.len - x->woff);
		if (n < 0)
			return errno == EINTR || errno == EAGAIN ? 0 : -errno;
		x->woff += (size_t)n;
		return 1;
	}
	n = relay_pipe_drain(&x->sp, x->s->to, x->sp.fill);
	if (n == -EINVAL || n == -ENOSYS)
		return unsplice(x);
	if (n == -EAGAIN)
		return 0;
	return n < 0 ? (int)n : 1;
}

/* The command line for argv: argv[0] names the program on the target;
 * inside the session the target's own volrep runs the verb, and the gate
 * wants "volrep" there. 0 or -E2BIG. */
static int command_line(const char *const *argv, struct strbuf *line)
{
	size_t n = 0;
	const char **words;

	while (argv[n])
		n++;
	words = xcalloc(n + 1, sizeof(*words));
	for (size_t i = 1; i < n; i++)
		words[i] = argv[i];
	words[0] = "volrep";
	sq_quote_argv(line, words);
	free(words);
	return line->len && line->len <= SESSION_CMD_MAX ? 0 : -E2BIG;
}

static void xchg_start(struct xchg *x, const struct strbuf *line)
{
	const struct relay_opts *o = x->o;

	x->start = x->last_report = x->last_io = mono_ns();
	x->stall = stall_ms(x->s, o);
	ratelimit_init(&x->rl, o ? o->rate : 0, RELAY_BUFSIZE);
	x->splice = x->in_fd >= 0 && !(o && (o->enc || o->no_splice));
	/* spliced frames cost a few syscalls each, not a copy: the
	 * largest frame unless the rate limit wants them smaller */
	x->chunk = ratelimit_chunk(&x->rl, x->splice ? SESSION_DATA_MAX : RELAY_BUFSIZE);
	session_frame_add(&x->wq, 'C', line->buf, line->len);
	if (x->in_fd < 0) {
		session_frame_add(&x->wq, 'E', NULL, 0);
		x->in_done = 1;
	}
	if (o && o->enc) {
		x->raw = xmalloc(RELAY_BUFSIZE);
		x->enc = xmalloc(wire_enc_bound(RELAY_BUFSIZE) + WIRE_HEADER_LEN + WIRE_FRAME_HDR + 8);
	}
	/* fewer, fuller reads or frames (best effort: not a pipe, or no room) */
	if (x->in_fd >= 0 && (x->splice || x->raw))
		fcntl(x->in_fd, F_SETPIPE_SZ, 1 << 20);
}

/* The queue went out: the rate limit counts the bytes on the wire. */
static void sent(struct xchg *x)
{
	ratelimit_account(&x->rl, x->wq_wire);
	x->bytes += x->wq_raw;
	x->wire += x->wq_wire;
	x->wq_wire = x->wq_raw = 0;
	strbuf_reset(&x->wq);
	x->woff = 0;
	report(x, 0);
}

static void write_link(struct xchg *x)
{
	int n = send_queued(x);

	if (n < 0) {
		/* the link went away: its stdout tells the rest */
		close_fd(&x->s->to);
		strbuf_reset(&x->wq);
		relay_pipe_close(&x->sp);
		x->woff = 0;
		x->in_done = 1;
	} else if (n > 0) {
		x->last_io = mono_ns();
		if (!has_queued(x))
			sent(x);
	}
}

/* The target's bytes: 0, or -EPROTO, or the link's end (x->lost). */
static int read_link(struct xchg *x)
{
	size_t room;
	uint8_t *dst = session_parser_space(&x->s->p, &room);
	ssize_t n = read(x->s->from, dst, room);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0) {
		x->lost = 1;
		return link_lost(x->s, x->err);
	}
	session_parser_added(&x->s->p, (size_t)n);
	x->last_io = mono_ns();
	return take_frames(x, &x->why);
}

/* poll's timeout: the abort flag's period, the stall bound; -ETIMEDOUT
 * when the bound is over. */
static int xchg_timeout(const struct xchg *x, int *timeout)
{
	*timeout = x->o && x->o->abort_flag ? RELAY_ABORT_POLL_MS : -1;
	if (x->stall > 0) {
		int64_t left = x->last_io + (int64_t)x->stall * 1000000 - mono_ns();

		if (left <= 0)
			return -ETIMEDOUT;
		if (*timeout < 0 || left / 1000000 < *timeout)
			*timeout = (int)(left / 1000000) + 1;
	}
	return 0;
}

/* One round of the command: 1 to go on, 0 when it ended, -errno. */
static int xchg_step(struct xchg *x)
{
	struct session *s = x->s;
	struct pollfd pfd[4];
	int timeout, r, queued = has_queued(x);

	if (x->o && x->o->abort_flag && *x->o->abort_flag)
		return -EINTR;
	if (x->exited && !x->in_done && !queued && x->cut_at_exit) {
		/* the command failed, or ended before it had what was read
		 * for it: the rest of the stream is not sent (the export
		 * gets EPIPE) */
		session_frame_add(&x->wq, 'E', NULL, 0);
		x->in_done = x->input_cut = 1;
		queued = 1;
	}
	if (x->exited && x->in_done && !queued)
		return 0;
	pfd[0] = (struct pollfd){ .fd = !queued && !x->in_done ? x->in_fd : -1, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = queued ? s->to : -1, .events = POLLOUT };
	pfd[2] = (struct pollfd){ .fd = s->from, .events = POLLIN };
	pfd[3] = (struct pollfd){ .fd = s->errfd, .events = POLLIN };
	r = xchg_timeout(x, &timeout);
	if (r < 0)
		return r;
	if (poll(pfd, 4, timeout) < 0)
		return errno == EINTR ? 1 : -errno;
	if (pfd[3].revents)
		drain_link_err(s);
	if (pfd[0].fd >= 0 && pfd[0].revents) {
		r = x->exited ? take_rest(x, x->in_fd) : take_input(x, x->in_fd, x->chunk);
		if (r < 0)
			return r;
		x->last_io = mono_ns();
	}
	if (pfd[1].fd >= 0 && pfd[1].revents)
		write_link(x);
	if (pfd[2].revents) {
		r = read_link(x);
		if (r < 0)
			return r;
	}
	return 1;
}

/* The command's result from the loop's r. */
static int xchg_result(struct xchg *x, int r)
{
	if (x->lost)
		return r;
	if (r == -EPROTO && x->err)
		strbuf_addf(x->err, "session protocol error: %s\n", x->why.buf);
	if (r < 0) {
		/* mid-command: the session cannot go on */
		kill_link(x->s, SIGKILL);
		return r;
	}
	r = x->overflow ? -EFBIG : x->code;
	if (r == 0 && x->input_cut)
		r = -EPIPE;
	if (x->in_eof)
		report(x, 1);
	return r;
}

static int exchange(struct session *s, const char *const *argv, int in_fd, const struct relay_opts *o,
		    struct strbuf *out, struct strbuf *err, size_t max, struct relay_stats *stats)
{
	struct xchg x = { .s = s, .o = o, .in_fd = in_fd, .wq = STRBUF_INIT, .sp = RELAY_PIPE_INIT, .out = out,
			  .err = err, .max = max, .why = STRBUF_INIT };
	struct strbuf line = STRBUF_INIT;
	int r;

	if (s->broken)
		return -ENOTCONN;
	r = command_line(argv, &line);
	if (r < 0) {
		strbuf_release(&line);
		return r;
	}
	xchg_start(&x, &line);
	while ((r = xchg_step(&x)) > 0)
		;
	r = xchg_result(&x, r);
	if (stats) {
		stats->bytes = x.bytes;
		stats->wire = x.wire;
		stats->elapsed = (double)(mono_ns() - x.start) / 1e9;
		stats->slept = (double)x.rl.slept_ns / 1e9;
		stats->spliced = x.sp.used;
	}
	relay_pipe_close(&x.sp);
	free(x.raw);
	free(x.enc);
	strbuf_release(&x.wq);
	strbuf_release(&line);
	strbuf_release(&x.why);
	return r;
}

int session_run(struct session *s, const char *const *argv, struct strbuf *out, struct strbuf *err, size_t max)
{
	return exchange(s, argv, -1, NULL, out, err, max, NULL);
}

int session_stream(struct session *s, const char *const *argv, int in_fd, const struct relay_opts *o,
		   struct strbuf *out, struct strbuf *err, size_t max, struct relay_stats *stats)
{
	return exchange(s, argv, in_fd, o, out, err, max, stats);
}

/* ---- target side ---- */

struct srv {
	int in, out;
	const struct session_server *ops;
	struct session_parser p;
	struct child c;
	int running, input_open, hello, peer_eof, peer_gone;
	int child_in, child_out, child_err;
	uint8_t *pend;        /* data for the command's stdin */
	size_t pend_len, pend_off;
	/* a raw data frame's payload goes from in to the command's stdin
	 * through sp with splice (while both take it): data_left of it is
	 * still to come from in */
	struct relay_pipe sp;
	int splice;
	uint32_t data_left;
};

/* The command's stdin is closed, what waited for it dropped. */
static void srv_drop_input(struct srv *v)
{
	close_fd(&v->child_in);
	v->pend_len = v->pend_off = 0;
	relay_pipe_close(&v->sp);
}

static int write_frame(struct srv *v, char type, const void *data, size_t len)
{
	struct strbuf f = STRBUF_INIT;
	const char *p;
	size_t left;

	if (v->peer_gone)
		return -EPIPE;
	session_frame_add(&f, type, data, len);
	p = f.buf;
	left = f.len;
	while (left) {
		ssize_t n = write(v->out, p, left);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* the peer is gone: the command runs to its end
			 * unheard, as it would after a dropped ssh */
			v->peer_gone = 1;
			strbuf_release(&f);
			return -errno;
		}
		p += n;
		left -= (size_t)n;
	}
	strbuf_release(&f);
	return 0;
}

static void send_exit(struct srv *v, int code)
{
	uint8_t b[4];

	put_be32(b, (uint32_t)(code < 0 || code > 255 ? 255 : code));
	write_frame(v, 'X', b, 4);
}

static int srv_command(struct srv *v, const struct session_frame *f, struct strbuf *err)
{
	struct strbuf why = STRBUF_INIT;
	char *cmd;
	int code = 1, r;

	if (v->input_open || v->running) {
		strbuf_addstr(err, "a command before the end of the previous one's input");
		return -EPROTO;
	}
	v->input_open = 1;
	cmd = xmalloc(f->len + 1);
	memcpy(cmd, f->data, f->len);
	cmd[f->len] = '\0';
	v->c = (struct child)CHILD_INIT;
	r = v->ops->start(v->ops->data, cmd, f->len, &v->c, &code, &why);
	free(cmd);
	if (r < 0) {
		strbuf_addch(&why, '\n');
		write_frame(v, 'R', why.buf, why.len > SESSION_OUT_MAX ? SESSION_OUT_MAX : why.len);
		send_exit(v, code);
	} else {
		v->running = 1;
		v->child_in = v->c.in;
		v->child_out = v->c.out;
		v->child_err = v->c.err;
		set_nonblock(v->child_in);
		/* room for whole data frames (best effort) */
		fcntl(v->child_in, F_SETPIPE_SZ, 1 << 20);
	}
	strbuf_release(&why);
	return 0;
}

static int srv_frame(struct srv *v, const struct session_frame *f, struct strbuf *err)
{
	if (!v->hello) {
		if (f->type != 'H' || f->len != strlen(SESSION_HELLO) || memcmp(f->data, SESSION_HELLO, f->len)) {
			strbuf_addstr(err, "expected the hello '" SESSION_HELLO "'");
			return -EPROTO;
		}
		v->hello = 1;
		return write_frame(v, 'H', SESSION_HELLO, strlen(SESSION_HELLO)) < 0 ? -EPIPE : 0;
	}
	switch (f->type) {
	case 'C':
		return srv_command(v, f, err);
	case 'D':
		if (!v->input_open)
			break;
		if (v->child_in >= 0) {
			memcpy(v->pend, f->data, f->len);
			v->pend_len = f->len;
			v->pend_off = 0;
		}
		/* else: the command stopped reading (or was refused):
		 * the rest of its stream is dropped */
		return 0;
	case 'E':
		if (!v->input_open)
			break;
		v->input_open = 0;
		srv_drop_input(v);
		return 0;
	}
	strbuf_addf(err, "unexpected '%c' frame%s", f->type, f->type == 'D' || f->type == 'E' ? " outside a command" : "");
	return -EPROTO;
}

/* Forward a chunk of the command's stdout or stderr. */
static void srv_output(struct srv *v, int *fd, char type)
{
	char buf[SESSION_OUT_MAX];
	ssize_t n = read(*fd, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close_fd(fd);
		return;
	}
	write_frame(v, type, buf, (size_t)n);
}

static void srv_stop_child(struct srv *v)
{
	srv_drop_input(v);
	close_fd(&v->child_out);
	close_fd(&v->child_err);
	if (v->running)
		child_stop(&v->c, SESSION_CLOSE_WAIT_MS);
	v->running = 0;
}

/* Whether a data frame's payload is still on its way to the command. */
static int srv_input_busy(const struct srv *v)
{
	return v->pend_len || v->sp.fill || v->data_left;
}

/* Whether the peer's next data frames may be spliced to the command:
 * then its frames are read one at a time, header first. */
static int srv_splicing(const struct srv *v)
{
	return v->splice && v->running && v->input_open && v->child_in >= 0;
}

/* The frames buffered, as far as they can be taken now: 0, or -EPROTO
 * (the reason in err), or -EPIPE (the peer is gone). */
static int srv_take_frames(struct srv *v, struct strbuf *err)
{
	struct session_frame f;
	int r;

	/* the frames after a command's E belong to the next command:
	 * they wait until this one has ended */
	while (!srv_input_busy(v) && !(v->running && !v->input_open)) {
		if (srv_splicing(v) && session_parser_data_header(&v->p, &v->data_left))
			return 0;
		r = session_parser_next(&v->p, &f, err);
		if (r <= 0)
			return r < 0 ? -EPROTO : 0;
		r = srv_frame(v, &f, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The next part of a data frame's payload: spliced into sp, or read into
 * pend (dropped when the command stopped reading). As read(2). */
static ssize_t srv_read_payload(struct srv *v)
{
	ssize_t n;

	if (v->splice && v->child_in >= 0) {
		n = relay_pipe_fill(&v->sp, v->in, v->data_left);
		if (n >= 0) {
			v->data_left -= (uint32_t)n;
			return n;
		}
		if (n != -EINVAL && n != -ENOSYS) {
			errno = (int)-n;
			return -1;
		}
		relay_pipe_close(&v->sp);
		v->splice = 0;
	}
	n = read(v->in, v->pend, v->data_left);
	if (n > 0) {
		v->data_left -= (uint32_t)n;
		if (v->child_in >= 0)
			v->pend_len = (size_t)n, v->pend_off = 0;
	}
	return n;
}

static void srv_read_peer(struct srv *v)
{
	ssize_t n;

	if (v->data_left) {
		n = srv_read_payload(v);
	} else {
		size_t room, want;
		uint8_t *dst = session_parser_space(&v->p, &room);

		if (srv_splicing(v) && (want = session_parser_want(&v->p)) && want < room)
			room = want;
		n = read(v->in, dst, room);
		if (n > 0)
			session_parser_added(&v->p, (size_t)n);
	}
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		/* the source is gone: a running command sees the end of
		 * its input and ends by itself */
		v->peer_eof = 1;
		srv_drop_input(v);
	}
}

/* The command does not take splice: what sp holds goes to pend. */
static void srv_unsplice(struct srv *v)
{
	v->pend_len = v->pend_off = 0;
	while (v->sp.fill) {
		ssize_t n = relay_pipe_read(&v->sp, v->pend + v->pend_len, v->sp.fill);

		if (n < 0 && n != -EAGAIN) {
			srv_drop_input(v);
			return;
		}
		if (n > 0)
			v->pend_len += (size_t)n;
	}
	relay_pipe_close(&v->sp);
	v->splice = 0;
}

static void srv_write_child(struct srv *v)
{
	ssize_t n;

	if (!v->pend_len) {
		n = relay_pipe_drain(&v->sp, v->child_in, v->sp.fill);
		if (n == -EINVAL || n == -ENOSYS)
			srv_unsplice(v);
		else if (n < 0 && n != -EAGAIN)
			srv_drop_input(v); /* it stopped reading: drop its stream */
		return;
	}
	n = write(v->child_in, v->pend + v->pend_off, v->pend_len - v->pend_off);
	if (n < 0 && errno != EINTR && errno != EAGAIN)
		srv_drop_input(v);
	else if (n > 0 && (v->pend_off += (size_t)n) == v->pend_len)
		v->pend_len = v->pend_off = 0;
}

/* After a protocol error: the reason goes to the peer too. */
static void srv_report(struct srv *v, int r, const struct strbuf *err)
{
	struct strbuf m = STRBUF_INIT;

	if (r != -EPROTO || !err->len)
		return;
	strbuf_addf(&m, "volrep: session: protocol error: %s\n", err->buf);
	write_frame(v, 'R', m.buf, m.len);
	strbuf_release(&m);
}

/* One step of the session: 1 to go on, 0 when it ended, -errno. */
static int srv_step(struct srv *v, long idle, struct strbuf *err)
{
	struct pollfd pfd[4];
	int r;

	if (v->running && v->child_out < 0 && v->child_err < 0) {
		srv_drop_input(v);
		send_exit(v, child_finish(&v->c));
		v->running = 0;
	}
	r = srv_take_frames(v, err);
	if (r < 0)
		return r;
	if (v->peer_eof && !v->running) {
		if (v->input_open || session_parser_partial(&v->p)) {
			strbuf_addstr(err, "the peer left in the middle of a command");
			return -EPROTO;
		}
		return 0;
	}
	pfd[0] = (struct pollfd){ .fd = !v->peer_eof && !v->pend_len && !v->sp.fill && !(v->running && !v->input_open)
						? v->in
						: -1,
				  .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = v->pend_len || v->sp.fill ? v->child_in : -1, .events = POLLOUT };
	pfd[2] = (struct pollfd){ .fd = v->child_out, .events = POLLIN };
	pfd[3] = (struct pollfd){ .fd = v->child_err, .events = POLLIN };
	r = poll(pfd, 4, !v->running && !v->input_open ? (int)idle : -1);
	if (r < 0)
		return errno == EINTR ? 1 : -errno;
	if (r == 0) {
		strbuf_addf(err, "no command for %ld s: session closed", idle / 1000);
		return -ETIMEDOUT;
	}
	if (pfd[0].fd >= 0 && pfd[0].revents)
		srv_read_peer(v);
	if (pfd[1].fd >= 0 && pfd[1].revents)
		srv_write_child(v);
	if (pfd[2].fd >= 0 && pfd[2].revents)
		srv_output(v, &v->child_out, 'O');
	if (pfd[3].fd >= 0 && pfd[3].revents)
		srv_output(v, &v->child_err, 'R');
	return 1;
}

int session_serve(int in, int out, const struct session_server *ops, struct strbuf *err)
{
	struct srv v = { .in = in, .out = out, .ops = ops, .p = SESSION_PARSER_INIT, .c = CHILD_INIT,
			 .child_in = -1, .child_out = -1, .child_err = -1, .sp = RELAY_PIPE_INIT, .splice = 1 };
	long idle = ops->idle_ms > 0 ? ops->idle_ms : SESSION_IDLE_MS;
	int r;

	v.pend = xmalloc(SESSION_DATA_MAX);
	while ((r = srv_step(&v, idle, err)) > 0)
		;
	srv_report(&v, r, err);
	srv_stop_child(&v);
	session_parser_release(&v.p);
	free(v.pend);
	return r;
}
