/* volrep import: receive a snapshot stream from stdin into a volume (the
 * target half of a transfer; pvesm import in spirit). Prints
 * "successfully imported '<volid>'" on success, which the sending side
 * looks for. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <fcntl.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/types.h"
#include "base/cidr.h"
#include "base/log.h"
#include "cli/cmds.h"
#include "cli/commands.h"
#include "cli/volume-spec.h"
#include "config/guest.h"
#include "exec/wire.h"
#include "transport/direct.h"

/* A receive (zfs recv -F, a rollback first) into a volume of a guest that
 * runs on this node would overwrite its live data: refused, as
 * prepare-local-job refuses such a guest. 0, or -1 after the message. */
static int check_not_local(const struct volume_spec *spec, const struct context *ctx)
{
	struct guest_list gl = { 0 };
	const struct guest *g;
	uint32_t owner;
	int r = 0;

	if (!spec->from_config) {
		if (!backend_valid_volname(spec->storage.type, spec->volname, &owner))
			return 0;
	} else if (storage_type_any_owner(spec->volname, &owner) < 0) {
		return 0;
	}
	if (guests_scan(&gl, ctx->config_dir, NULL) < 0) {
		error("cannot read the guest configs in '%s'", ctx->config_dir);
		r = -1;
	} else if ((g = guests_find(&gl, owner)) && !strcmp(g->node, ctx->node)) {
		error("guest '%" PRIu32 "' is on local node", owner);
		r = -1;
	}
	guests_release(&gl);
	return r;
}

/* --compress CODEC: the stream on stdin is framed and compressed
 * (exec/wire.h). A thread decodes it into a pipe that the receive reads,
 * so that the storage tool sees the plain stream; a bad or truncated
 * stream closes the pipe early (the receive fails on the cut stream) and
 * fails the import in any case. */
struct decoder {
	enum wire_codec codec;
	int in, out;
	int r;
	int done; /* set (atomically) once r and msg are final */
	char msg[200];
};

static int emit_all(void *data, const void *buf, size_t len)
{
	struct decoder *d = data;
	const char *p = buf;

	while (len) {
		ssize_t n = write(d->out, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void *decode_thread(void *arg)
{
	struct decoder *d = arg;
	struct wire_dec *dec = wire_dec_new(d->codec);
	char *buf = malloc(WIRE_CHUNK_MAX);
	int r = buf ? 0 : -ENOMEM;

	while (!r) {
		ssize_t n = read(d->in, buf, WIRE_CHUNK_MAX);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			snprintf(d->msg, sizeof(d->msg), "cannot read the stream: %s", strerror(errno));
			break;
		}
		if (n == 0) {
			r = wire_dec_finish(dec);
			break;
		}
		r = wire_dec_feed(dec, buf, (size_t)n, emit_all, d);
	}
	if (r < 0 && !d->msg[0])
		snprintf(d->msg, sizeof(d->msg), "%s", wire_dec_error(dec));
	d->r = r;
	__atomic_store_n(&d->done, 1, __ATOMIC_RELEASE);
	close(d->out);
	free(buf);
	wire_dec_free(dec);
	return NULL;
}

/* What the import does besides a plain receive (taken out of argv). */
enum import_mode {
	IMPORT_RECEIVE,      /* receive the stream on stdin */
	IMPORT_RESUME,       /* --resume: it continues an interrupted receive */
	IMPORT_QUERY_TOKEN,  /* --resume-token: print the partial receive's token */
	IMPORT_ABORT_RESUME, /* --abort-resume: discard the partial receive */
};

/* import's own options, parsed with the volume's (volume-spec.h). */
enum { IO_COMPRESS, IO_DIRECT, IO_RAW, IO_RESUME, IO_RESUME_TOKEN, IO_ABORT_RESUME, IO_N };

static void import_options(struct opt_spec *o)
{
	static const struct opt_spec specs[IO_N + 1] = {
		[IO_COMPRESS] = { "compress", OPT_VALUE, NULL },
		[IO_DIRECT] = { "direct", OPT_VALUE, NULL },
		[IO_RAW] = { "raw", OPT_FLAG, NULL },
		[IO_RESUME] = { "resume", OPT_FLAG, NULL },
		[IO_RESUME_TOKEN] = { "resume-token", OPT_FLAG, NULL },
		[IO_ABORT_RESUME] = { "abort-resume", OPT_FLAG, NULL },
		[IO_N] = { NULL, OPT_VALUE, NULL },
	};

	memcpy(o, specs, sizeof(specs));
}

static int flag_set(const struct opt_spec *o)
{
	return o->value && !strcmp(o->value, "1");
}

/* "--compress CODEC", "--raw" (a raw stream of an encrypted volume),
 * "--direct NET" and the resume options, checked. 0, or -1 after the
 * message for a bad value. */
static int import_settings(const struct opt_spec *o, enum wire_codec *codec, enum import_mode *mode, int *raw,
			   const char **direct)
{
	static const char *const modes[] = { [IMPORT_RESUME] = "--resume", [IMPORT_QUERY_TOKEN] = "--resume-token",
					     [IMPORT_ABORT_RESUME] = "--abort-resume" };
	const char *v = o[IO_COMPRESS].value;
	struct cidr net;

	*codec = WIRE_NONE;
	*mode = IMPORT_RECEIVE;
	*raw = flag_set(&o[IO_RAW]);
	*direct = NULL;
	if (v && (wire_codec_parse(v, codec) < 0 || *codec == WIRE_NONE))
		return error("invalid --compress '%s': expected zstd or lz4", v);
	v = o[IO_DIRECT].value;
	if (v && cidr_parse(v, &net) < 0)
		return error("invalid --direct '%s': expected a network address/prefix, e.g. 10.1.0.0/24", v);
	*direct = v;
	for (int k = IMPORT_RESUME; k <= IMPORT_ABORT_RESUME; k++) {
		if (!flag_set(&o[IO_RESUME + k - IMPORT_RESUME]))
			continue;
		if (*mode != IMPORT_RECEIVE)
			return error("'%s' and '%s' exclude each other", modes[*mode], modes[k]);
		*mode = (enum import_mode)k;
	}
	return 0;
}

static int import_stream(struct backend *b, const struct volume_spec *spec, enum wire_codec codec,
			 unsigned flags, int in_fd)
{
	struct decoder d = { .codec = codec, .in = in_fd };
	pthread_t th;
	int fds[2], r;

	if (codec == WIRE_NONE) {
		r = backend_import_flags(b, spec->volname, spec->snapshot, spec->base, flags, in_fd);
		if (r < 0)
			error("%s", backend_errmsg(b));
		return r;
	}
	if (pipe2(fds, O_CLOEXEC) < 0) {
		error("cannot create a pipe: %s", strerror(errno));
		return -EIO;
	}
	d.out = fds[1];
	if (pthread_create(&th, NULL, decode_thread, &d)) {
		close(fds[0]);
		close(fds[1]);
		error("cannot start the decoder");
		return -EIO;
	}
	r = backend_import_flags(b, spec->volname, spec->snapshot, spec->base, flags, fds[0]);
	close(fds[0]);
	if (r < 0) {
		/* the decoder may be blocked reading stdin: not waited for
		 * (the process exits) */
		error("%s", backend_errmsg(b));
		if (__atomic_load_n(&d.done, __ATOMIC_ACQUIRE) && d.r < 0)
			error("%s", d.msg);
		return r;
	}
	/* the receive read its whole stream; the decoder checks the end
	 * frame that follows */
	pthread_join(th, NULL);
	if (d.r < 0) {
		error("%s", d.msg);
		return -EIO;
	}
	return 0;
}

/* --resume-token / --abort-resume: no stream; one line on stdout
 * ("resume-token <token>" or "resume-token -", "aborted '<volid>'"). */
static int resume_query(struct backend *b, const struct volume_spec *spec, enum import_mode mode,
			const char *volid)
{
	struct strbuf token = STRBUF_INIT;
	int r;

	if (mode == IMPORT_QUERY_TOKEN) {
		r = backend_resume_token(b, spec->volname, &token);
		if (r >= 0)
			printf("resume-token %s\n", r > 0 ? token.buf : "-");
	} else {
		r = backend_resume_abort(b, spec->volname);
		if (r >= 0)
			printf("aborted '%s'\n", volid);
	}
	if (r < 0)
		error("%s", backend_errmsg(b));
	strbuf_release(&token);
	return r;
}

/* The server side of the ssh connection we run under (sshd sets
 * SSH_CONNECTION "client port server port"): the address the source
 * reached this node at, preferred for the direct data path. */
static const char *ssh_server_ip(char *buf, size_t size)
{
	const char *s = getenv("SSH_CONNECTION"), *p = s;

	for (int field = 0; p && field < 2; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (!p || !*p)
		return NULL;
	snprintf(buf, size, "%.*s", (int)strcspn(p, " "), p);
	return buf;
}

/* --direct NET: listen, tell the source where (one line on stdout),
 * take its one connection. The stream's fd, or -1 after the message. */
static int open_direct(const char *network)
{
	struct direct_listener l = DIRECT_LISTENER_INIT;
	struct strbuf err = STRBUF_INIT, line = STRBUF_INIT;
	char ip[64];
	int fd = direct_listen(&l, network, ssh_server_ip(ip, sizeof(ip)), &err);

	if (fd == 0) {
		direct_announce(&l, &line);
		printf("%s\n", line.buf);
		fflush(stdout);
		fd = direct_accept(&l, DIRECT_ACCEPT_TIMEOUT_MS, DIRECT_TOKEN_TIMEOUT_MS, &err);
	}
	if (fd < 0) {
		error("%s", err.buf);
		fd = -1;
	}
	direct_close(&l);
	strbuf_release(&err);
	strbuf_release(&line);
	return fd;
}

int cmd_import(int argc, char **argv, struct context *ctx)
{
	struct opt_spec io[IO_N + 1];
	struct volume_spec spec;
	struct backend b = BACKEND_INIT;
	enum wire_codec codec;
	enum import_mode mode;
	char *volid;
	const char *direct;
	int r, raw, in_fd = STDIN_FILENO;

	import_options(io);
	if (volume_spec_parse(argc, argv, 0, io, &spec) < 0 || import_settings(io, &codec, &mode, &raw, &direct) < 0 ||
	    check_not_local(&spec, ctx) < 0)
		return EXIT_USAGE;
	r = volume_spec_bind(&spec, STDIN_FILENO, ctx, &b);
	if (r)
		return r;
	volid = backend_volid(&b, spec.volname);
	if (mode == IMPORT_QUERY_TOKEN || mode == IMPORT_ABORT_RESUME) {
		r = resume_query(&b, &spec, mode, volid);
	} else {
		if (direct && (in_fd = open_direct(direct)) < 0)
			r = -EIO;
		else
			r = import_stream(&b, &spec, codec,
					  (mode == IMPORT_RESUME ? BACKEND_IMPORT_RESUME : 0) |
					  (raw ? BACKEND_IMPORT_RAW : 0), in_fd);
		if (in_fd > STDIN_FILENO)
			close(in_fd);
		if (r >= 0)
			printf("successfully imported '%s'\n", volid);
	}
	free(volid);
	backend_close(&b);
	return exit_code_of(r, ERRK_INVALID);
}
