/* Fuzz target: the session protocol's target side (transport/session.c)
 * on arbitrary bytes from the peer, with the command gate of serve
 * (grammar and peer policy, against the cluster of fuzz/serve-fixture.h:
 * this node "b", the peer "a").
 *   1. The frame parser, fed in pieces of varying size: every frame it
 *      returns is of a known type and within that type's bounds, and the
 *      bytes it buffers never exceed SESSION_FRAME_MAX.
 *   2. session_serve() itself on the same bytes (stdin a memfd, stdout
 *      /dev/null): the start callback runs each command through the gate
 *      and starts nothing; it must only ever see a command after the
 *      hello, as a NUL-terminated copy no longer than SESSION_CMD_MAX,
 *      and an accepted command must pass the gate again in its
 *      canonical form.
 * Any violation aborts. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/quote.h"
#include "config/cluster.h"
#include "serve-fixture.h"
#include "transport/serve.h"
#include "transport/session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cluster_config cc = CLUSTER_CONFIG_INIT;
static struct state *st;
static char *fixture_dir;

static void cleanup(void)
{
	cluster_config_release(&cc);
	state_free(st);
	serve_fixture_remove(fixture_dir);
	free(fixture_dir);
}

static void load(void)
{
	if (fixture_dir)
		return;
	fixture_dir = serve_fixture_write();
	if (!fixture_dir || cluster_config_load(&cc, fixture_dir, 0, NULL) < 0 ||
	    state_parse(serve_fixture_state, strlen(serve_fixture_state), "fixture", &st, NULL) < 0)
		abort();
	atexit(cleanup);
}

static void check_frames(const uint8_t *data, size_t size)
{
	struct session_parser p = SESSION_PARSER_INIT;
	struct session_frame f;
	struct strbuf why = STRBUF_INIT;
	size_t off = 0, step = size ? (size_t)data[0] % 17 + 1 : 1;
	int r = 0;

	while (off < size && r >= 0) {
		size_t n = size - off < step ? size - off : step;

		off += session_parser_feed(&p, data + off, n);
		while ((r = session_parser_next(&p, &f, &why)) > 0) {
			switch (f.type) {
			case 'H':
				if (!f.len || f.len > SESSION_HELLO_MAX)
					abort();
				break;
			case 'C':
				if (!f.len || f.len > SESSION_CMD_MAX)
					abort();
				break;
			case 'D':
				if (!f.len || f.len > SESSION_DATA_MAX)
					abort();
				break;
			case 'E':
				if (f.len)
					abort();
				break;
			case 'O':
			case 'R':
				if (!f.len || f.len > SESSION_OUT_MAX)
					abort();
				break;
			case 'X':
				if (f.len != 4 || f.data[0] || f.data[1] || f.data[2])
					abort();
				break;
			default:
				abort();
			}
		}
		if (p.len > SESSION_FRAME_MAX)
			abort();
		if (r < 0 && !why.len)
			abort();
	}
	session_parser_release(&p);
	strbuf_release(&why);
}

struct gate_data {
	int commands;
};

static int fake_start(void *data, const char *cmd, size_t len, struct child *c, int *code, struct strbuf *why)
{
	struct gate_data *g = data;
	struct serve_policy pol = { .cc = &cc, .self = "b", .peer = "a", .state = st };
	struct serve_cmd sc = SERVE_CMD_INIT, sc2 = SERVE_CMD_INIT;
	struct strvec av = STRVEC_INIT, back = STRVEC_INIT;
	struct strbuf q = STRBUF_INIT;

	(void)c;
	g->commands++;
	if (!len || len > SESSION_CMD_MAX || cmd[len] != '\0')
		abort();
	*code = 2;
	if (serve_parse_cmd(cmd, len, &sc, why) == 0 && serve_policy_check(&pol, &sc, why) == 0) {
		serve_cmd_argv(&sc, &av);
		strvec_push(&back, "volrep");
		strvec_pushv(&back, (const char *const *)av.v);
		sq_quote_argv(&q, (const char *const *)back.v);
		if (serve_parse_cmd(q.buf, q.len, &sc2, NULL) != 0 || serve_policy_check(&pol, &sc2, NULL) != 0)
			abort();
		/* accepted: report it without running anything */
		*code = 0;
		strbuf_addstr(why, "accepted");
	}
	serve_cmd_release(&sc);
	serve_cmd_release(&sc2);
	strvec_clear(&av);
	strvec_clear(&back);
	strbuf_release(&q);
	return -EACCES;
}

static void run_server(const uint8_t *data, size_t size)
{
	struct gate_data g = { 0 };
	struct session_server srv = { .start = fake_start, .data = &g, .idle_ms = 1000 };
	struct strbuf err = STRBUF_INIT;
	int in = memfd_create("fuzz-session", MFD_CLOEXEC), out = open("/dev/null", O_WRONLY | O_CLOEXEC);
	int r;

	if (in < 0 || out < 0 || (size && write(in, data, size) != (ssize_t)size) || lseek(in, 0, SEEK_SET) < 0)
		abort();
	r = session_serve(in, out, &srv, &err);
	/* a command is only seen after the hello, which is the first frame */
	if (g.commands && (size < SESSION_HDR + strlen(SESSION_HELLO) || data[0] != 'H' ||
			   memcmp(data + SESSION_HDR, SESSION_HELLO, strlen(SESSION_HELLO))))
		abort();
	if (r < 0 && r != -EPROTO && r != -EPIPE)
		abort();
	close(in);
	close(out);
	strbuf_release(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	load();
	check_frames(data, size);
	run_server(data, size);
	return 0;
}
