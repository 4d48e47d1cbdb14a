/* The session protocol (transport/session.h): the frame parser's bounds,
 * and the source side against a real target side over pipes. The target
 * is this very test binary started with "--serve" through the local
 * transport: session_serve() with a start callback that runs small shell
 * commands instead of volrep's verbs. */
#include "unit.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/quote.h"
#include "exec/relay.h"
#include "exec/spawn.h"
#include "exec/wire.h"
#include "transport/local.h"
#include "transport/session.h"

static char *self;

/* ---- the target side (this binary with --serve) ---- */

static int fake_start(void *data, const char *cmd, size_t len, struct child *c, int *code, struct strbuf *why)
{
	static const struct {
		const char *cmd, *sh;
	} table[] = {
		{ "'volrep' 'hello' 'x'", "echo out; echo err >&2; exit 3" },
		{ "'volrep' 'count'", "exec wc -c" },
		{ "'volrep' 'head'", "exec head -c 10 >/dev/null" },
		{ "'volrep' 'sleep'", "exec sleep 30" },
		{ "'volrep' 'die'", "kill -9 $PPID" },
	};

	(void)data;
	(void)len;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (!strcmp(cmd, table[i].cmd)) {
			strvec_pushv(&c->args, (const char *const[]){ "sh", "-c", table[i].sh, NULL });
			c->in = c->out = c->err = CHILD_PIPE;
			c->new_pgrp = 1;
			return child_start(c);
		}
	*code = 2;
	strbuf_addf(why, "refused: %s", cmd);
	return -EACCES;
}

static int serve_main(long idle_ms)
{
	struct session_server srv = { .start = fake_start, .data = NULL, .idle_ms = idle_ms };
	struct strbuf err = STRBUF_INIT;
	int r = session_serve(0, 1, &srv, &err);

	if (r < 0)
		fprintf(stderr, "serve: %s\n", err.buf);
	return r < 0 ? 1 : 0;
}

/* ---- frames ---- */

static void test_parser(void **state)
{
	struct session_parser p = SESSION_PARSER_INIT;
	struct session_frame f;
	struct strbuf in = STRBUF_INIT, why = STRBUF_INIT;
	const uint8_t code[4] = { 0, 0, 0, 7 };

	(void)state;
	session_frame_add(&in, 'H', SESSION_HELLO, strlen(SESSION_HELLO));
	session_frame_add(&in, 'C', "'volrep' 'version'", 18);
	session_frame_add(&in, 'E', NULL, 0);
	session_frame_add(&in, 'X', code, 4);
	/* one byte at a time: a frame appears only when complete */
	for (size_t i = 0; i < in.len; i++) {
		session_parser_feed(&p, in.buf + i, 1);
		if (i == SESSION_HDR + strlen(SESSION_HELLO) - 2)
			assert_int_equal(session_parser_next(&p, &f, &why), 0);
	}
	assert_int_equal(session_parser_next(&p, &f, &why), 1);
	assert_int_equal(f.type, 'H');
	assert_memory_equal(f.data, SESSION_HELLO, f.len);
	assert_int_equal(session_parser_next(&p, &f, &why), 1);
	assert_int_equal(f.type, 'C');
	assert_int_equal(f.len, 18);
	assert_int_equal(session_parser_next(&p, &f, &why), 1);
	assert_int_equal(f.type, 'E');
	assert_int_equal(f.len, 0);
	assert_int_equal(session_parser_next(&p, &f, &why), 1);
	assert_int_equal(f.type, 'X');
	assert_int_equal(session_parser_next(&p, &f, &why), 0);
	assert_false(session_parser_partial(&p));
	session_parser_release(&p);
	strbuf_release(&in);
	strbuf_release(&why);
}

/* A reader that splices data frames: header by header, never past a
 * frame, and a 'D' header taken alone. */
static void test_parser_want(void **state)
{
	struct session_parser p = SESSION_PARSER_INIT;
	struct session_frame f;
	struct strbuf in = STRBUF_INIT, why = STRBUF_INIT;
	uint32_t len = 0;

	(void)state;
	session_frame_add(&in, 'D', "abcde", 5);
	session_frame_add(&in, 'E', NULL, 0);
	assert_int_equal(session_parser_want(&p), SESSION_HDR);
	session_parser_feed(&p, in.buf, 3);
	assert_int_equal(session_parser_want(&p), SESSION_HDR - 3);
	assert_int_equal(session_parser_data_header(&p, &len), 0);
	session_parser_feed(&p, in.buf + 3, SESSION_HDR - 3);
	assert_int_equal(session_parser_want(&p), 5);
	assert_int_equal(session_parser_data_header(&p, &len), 1);
	assert_int_equal(len, 5);
	assert_false(session_parser_partial(&p));
	/* the payload went elsewhere; the E header is not a data header */
	session_parser_feed(&p, in.buf + SESSION_HDR + 5, SESSION_HDR);
	assert_int_equal(session_parser_want(&p), 0);
	assert_int_equal(session_parser_data_header(&p, &len), 0);
	assert_int_equal(session_parser_next(&p, &f, &why), 1);
	assert_int_equal(f.type, 'E');
	/* a header with a payload byte after it is not taken alone */
	session_parser_feed(&p, in.buf, SESSION_HDR + 1);
	assert_int_equal(session_parser_data_header(&p, &len), 0);
	assert_int_equal(session_parser_want(&p), 4);
	session_parser_release(&p);
	strbuf_release(&in);
	strbuf_release(&why);
}

static void expect_bad(const char *hex, const char *msg)
{
	struct session_parser p = SESSION_PARSER_INIT;
	struct session_frame f;
	struct strbuf why = STRBUF_INIT;
	uint8_t b[16];
	size_t n = strlen(hex) / 2;

	for (size_t i = 0; i < n; i++)
		sscanf(hex + 2 * i, "%2hhx", &b[i]);
	session_parser_feed(&p, b, n);
	assert_int_equal(session_parser_next(&p, &f, &why), -EBADMSG);
	if (!strstr(why.buf, msg)) {
		fprintf(stderr, "%s: '%s', want '%s'\n", hex, why.buf, msg);
		fail();
	}
	session_parser_release(&p);
	strbuf_release(&why);
}

static void test_parser_bounds(void **state)
{
	(void)state;
	expect_bad("5a00000000000000", "unknown frame type: type 0x5a");
	expect_bad("4300000100000001", "reserved bytes set");
	expect_bad("4300000000000000", "frame length out of bounds: type 0x43, length 0");
	expect_bad("4300000000010001", "length 65537");
	expect_bad("4400000000040001", "length 262145");
	expect_bad("44000000ffffffff", "length 4294967295");
	expect_bad("4500000000000001", "type 0x45, length 1");
	expect_bad("5800000000000003", "type 0x58, length 3");
	expect_bad("580000000000000400000100", "exit code out of bounds");
}

/* ---- source against target ---- */

struct peer {
	struct transport t;
	struct session *s;
};

static int open_peer(struct peer *pe, const char *mode)
{
	struct strbuf err = STRBUF_INIT;
	int r;

	pe->t = (struct transport)TRANSPORT_INIT;
	pe->s = NULL;
	assert_int_equal(transport_local_init(&pe->t, "pve2", self), 0);
	pe->t.stall_timeout = 10;
	r = session_open(&pe->t, (const char *const[]){ "volrep", mode, NULL }, &pe->s, &err);
	strbuf_release(&err);
	return r;
}

static void close_peer(struct peer *pe)
{
	session_close(pe->s);
	transport_release(&pe->t);
}

static void test_commands(void **state)
{
	struct peer pe;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	(void)state;
	assert_int_equal(open_peer(&pe, "--serve"), 0);
	/* argv[0] is replaced by "volrep" on the wire */
	assert_int_equal(session_run(pe.s, (const char *const[]){ "/opt/volrep", "hello", "x", NULL }, &out, &err, 1024),
			 3);
	assert_string_equal(out.buf, "out\n");
	assert_string_equal(err.buf, "err\n");
	strbuf_reset(&out);
	strbuf_reset(&err);
	assert_int_equal(session_run(pe.s, (const char *const[]){ "volrep", "nope", NULL }, &out, &err, 1024), 2);
	assert_string_equal(err.buf, "refused: 'volrep' 'nope'\n");
	strbuf_reset(&err);
	/* the session goes on after a failure and a refusal */
	assert_int_equal(session_run(pe.s, (const char *const[]){ "volrep", "count", NULL }, &out, &err, 1024), 0);
	assert_string_equal(out.buf, "0\n");
	/* output beyond max */
	strbuf_reset(&out);
	assert_int_equal(session_run(pe.s, (const char *const[]){ "volrep", "hello", "x", NULL }, &out, NULL, 2),
			 -EFBIG);
	assert_false(session_broken(pe.s));
	close_peer(&pe);
	strbuf_release(&out);
	strbuf_release(&err);
}

/* a pipe with len bytes of text-like data written by a child */
/* A stream: what the shell script writes; the pipe's read end */
static int script_pipe(struct child *c, const char *script)
{
	*c = (struct child)CHILD_INIT;
	strvec_pushv(&c->args, (const char *const[]){ "sh", "-c", script, NULL });
	c->out = CHILD_PIPE;
	assert_int_equal(child_start(c), 0);
	return c->out;
}

static int data_pipe(struct child *c, unsigned mb)
{
	char script[128];

	snprintf(script, sizeof(script), "yes 'volrep session data' | head -c %u", mb << 20);
	return script_pipe(c, script);
}

/* 3 MiB through "count" (out: what it counted) */
static void count_stream(struct peer *pe, const struct relay_opts *ro, struct strbuf *out, struct relay_stats *st)
{
	struct child c;
	int fd = data_pipe(&c, 3);

	strbuf_reset(out);
	assert_int_equal(session_stream(pe->s, (const char *const[]){ "volrep", "count", NULL }, fd, ro, out, NULL,
					1024, st),
			 0);
	close(fd);
	assert_int_equal(child_finish(&c), 0);
}

/* SCRIPT's output into "head" (reads 10 bytes, exits 0): the stream's
 * result; *code: the script's exit */
static int into_head(struct peer *pe, const char *script, int *code)
{
	struct relay_opts ro = RELAY_OPTS_INIT;
	struct relay_stats st = { 0 };
	struct child c;
	int fd = script_pipe(&c, script);
	int r = session_stream(pe->s, (const char *const[]){ "volrep", "head", NULL }, fd, &ro, NULL, NULL, 1024, &st);

	close(fd);
	*code = child_finish(&c);
	return r;
}

static void test_stream(void **state)
{
	struct peer pe;
	struct strbuf out = STRBUF_INIT;
	struct relay_opts ro = RELAY_OPTS_INIT;
	struct relay_stats st = { 0 };
	struct child c;
	int code, fd;

	(void)state;
	assert_int_equal(open_peer(&pe, "--serve"), 0);
	count_stream(&pe, &ro, &out, &st);
	assert_string_equal(out.buf, "3145728\n");
	assert_int_equal(st.bytes, 3u << 20);
	assert_int_equal(st.wire, 3u << 20);
	/* pipes at both ends: the frames' payload was spliced */
	assert_true(st.spliced);

	/* the same through read/write */
	strbuf_reset(&out);
	ro.no_splice = 1;
	count_stream(&pe, &ro, &out, &st);
	assert_string_equal(out.buf, "3145728\n");
	assert_false(st.spliced);
	ro.no_splice = 0;

	/* compressed: the target counts the bytes on the wire */
	strbuf_reset(&out);
	ro.enc = wire_enc_new(WIRE_ZSTD, 3);
	/* and rate limited on those: 2 MB/s */
	ro.rate = 2000000;
	count_stream(&pe, &ro, &out, &st);
	assert_int_equal(st.bytes, 3u << 20);
	assert_true(st.wire < st.bytes / 10);
	assert_int_equal(strtoull(out.buf, NULL, 10), st.wire);
	/* so little on the wire that the limit never had to wait */
	assert_true(st.slept < 0.5);
	wire_enc_free(ro.enc);
	ro.enc = NULL;

	/* uncompressed at 8 MB/s: 3 MiB must wait at least 0.3 s */
	strbuf_reset(&out);
	ro.rate = 8000000;
	count_stream(&pe, &ro, &out, &st);
	assert_true(st.slept > 0.2);
	ro.rate = 0;

	/* a command that stops reading early and exits 0: the input was cut */
	assert_int_equal(into_head(&pe, "yes 'volrep session data' | head -c 8388608", &code), -EPIPE);
	assert_false(session_broken(pe.s));
	/* one that read the whole stream and exited before the stream's
	 * end came (zfs recv stops at the end record, zfs send may still
	 * be closing): not cut */
	assert_int_equal(into_head(&pe, "printf 0123456789; sleep 1", &code), 0);
	assert_int_equal(code, 0);
	/* but a byte after its exit is one it did not read */
	assert_int_equal(into_head(&pe, "printf 0123456789; sleep 1; printf x", &code), -EPIPE);
	/* a refused command: its answer at once, not after the stream */
	fd = script_pipe(&c, "exec sleep 30");
	assert_int_equal(session_stream(pe.s, (const char *const[]){ "volrep", "nosuch", NULL }, fd, &ro, NULL, NULL,
					1024, &st),
			 2);
	assert_int_equal(child_try_finish(&c, &code), 0);
	close(fd);
	kill(c.pid, SIGKILL);
	child_finish(&c);
	assert_false(session_broken(pe.s));
	strbuf_reset(&out);
	assert_int_equal(session_run(pe.s, (const char *const[]){ "volrep", "count", NULL }, &out, NULL, 1024), 0);
	assert_string_equal(out.buf, "0\n");
	close_peer(&pe);
	strbuf_release(&out);
}

static void test_failures(void **state)
{
	struct peer pe;
	struct relay_opts ro = RELAY_OPTS_INIT;

	(void)state;
	/* an older target: no hello, an exit code of its own */
	assert_int_equal(open_peer(&pe, "--old"), -EPROTONOSUPPORT);
	assert_null(pe.s);
	transport_release(&pe.t);

	/* the target's server dies mid-command: the link is lost */
	assert_int_equal(open_peer(&pe, "--serve"), 0);
	assert_int_equal(session_run(pe.s, (const char *const[]){ "volrep", "die", NULL }, NULL, NULL, 1024), -ENOTCONN);
	assert_true(session_broken(pe.s));
	assert_int_equal(session_run(pe.s, (const char *const[]){ "volrep", "count", NULL }, NULL, NULL, 1024), -ENOTCONN);
	close_peer(&pe);

	/* a command that never answers: the stall bound */
	assert_int_equal(open_peer(&pe, "--serve"), 0);
	ro.stall_timeout_ms = 300;
	assert_int_equal(session_stream(pe.s, (const char *const[]){ "volrep", "sleep", NULL }, -1, &ro, NULL, NULL, 1024,
					NULL),
			 -ETIMEDOUT);
	assert_true(session_broken(pe.s));
	close_peer(&pe);

	/* a session left idle is closed by the target; the source notices
	 * before its next command */
	assert_int_equal(open_peer(&pe, "--serve-idle"), 0);
	for (int i = 0; i < 100 && session_alive(pe.s); i++)
		usleep(50000);
	assert_false(session_alive(pe.s));
	assert_true(session_broken(pe.s));
	close_peer(&pe);
}

int main(int argc, char **argv)
{
	struct strbuf sb = STRBUF_INIT;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parser),
		cmocka_unit_test(test_parser_bounds),
		cmocka_unit_test(test_parser_want),
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_failures),
	};

	/* as volrep's main: a vanished reader gives EPIPE */
	signal(SIGPIPE, SIG_IGN);
	if (argc > 1 && !strcmp(argv[1], "--serve"))
		return serve_main(20000);
	if (argc > 1 && !strcmp(argv[1], "--serve-idle"))
		return serve_main(100);
	if (argc > 1 && !strcmp(argv[1], "--old")) {
		fprintf(stderr, "volrep: unknown command 'session'\n");
		return 2;
	}
	if (self_exe_path(&sb) < 0)
		return 1;
	self = strbuf_detach(&sb, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
