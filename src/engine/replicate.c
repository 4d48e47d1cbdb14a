#include "engine/replicate.h"
#include "engine/pveguest.h"
#include "engine/pvelock.h"
#include "engine/pvenet.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/types.h"
#include "base/cidr.h"
#include "base/fileio.h"
#include "base/log.h"
#include "base/sanitize.h"
#include "base/time-util.h"
#include "base/validate.h"
#include "base/xalloc.h"
#include "sched/schedule.h"
#include "config/volrepcfg.h"
#include "engine/elog.h"
#include "engine/interrupt.h"
#include "engine/joblog.h"
#include "engine/plan.h"
#include "engine/prepare.h"
#include "engine/remote.h"
#include "engine/resume.h"
#include "engine/storemap.h"
#include "engine/streamprops.h"
#include "engine/xferslot.h"
#include "exec/ratelimit.h"
#include "exec/relay.h"
#include "transport/direct.h"
#include "transport/ssh.h"
#include "notify/notify.h"
#include "state/state.h"
#include "transport/session.h"
#include "transport/transport.h"

/* What we keep of a remote command's output: the JSON of a guest with
 * many snapshots fits easily; anything bigger is not a volrep answer. */
/* stderr of an export, for the error message */
#define EXPORT_ERR_MAX 4096

struct run {
	const struct context *ctx;
	const struct cluster_config *cc;
	const struct repl_job *job;
	const struct guest *g;
	const struct run_opts *o;
	struct joblog jl;
	struct elog log;
	struct job_state js;     /* the state as the run started */
	struct strvec storeids;  /* storeid_list to persist */
	int storeids_set;
	struct storemap sm;
	struct transport t;
	int t_open;
	/* one session to the target for the whole run (transport/session.h);
	 * NULL after sess_tried: the target's volrep predates it */
	struct session *sess;
	int sess_tried;
	struct volume_list vols;
	struct strvec volids;
	struct strbuf snap;      /* this run's snapshot name */
	struct strvec made;      /* volids that got this run's snapshot */
	const char *cur_volid;   /* for the progress line */
	double t0;
	uint64_t bytes;          /* streamed to the target by this run */
	enum wire_codec codec;   /* on the wire: the job's compress, else the node's */
	int codec_level;
	/* migration-type insecure: the streams' network (transport/direct.h),
	 * "" = through ssh */
	char direct_net[64];
	/* the volumes' stream properties now (engine/streamprops.h), ""
	 * when not known: recorded when the run ends well */
	char props_digest[STREAMPROPS_HEX];
};

void guest_lock_path(struct strbuf *sb, const char *state_dir, uint32_t vmid)
{
	strbuf_addf(sb, "%s/lock/guest-%" PRIu32 ".lck", state_dir, vmid);
}

static void log_to_joblog(void *data, const char *msg)
{
	struct run *run = data;

	joblog_printf(&run->jl, "%s", msg);
}

/* Log each line of untrusted remote text with a prefix; control
 * characters become '?'. */
static void log_lines(struct run *run, const char *prefix, const char *text)
{
	struct strbuf line = STRBUF_INIT;

	while (text && *text) {
		size_t n = strcspn(text, "\n");

		strbuf_reset(&line);
		/* ssh ends remote lines with \r\n on a tty-less session now
		 * and then: a CR at the end is line noise, not a character;
		 * anything else unprintable becomes '?' (base/sanitize.h) */
		strbuf_add_sanitized(&line, text, n > 1000 ? 1000 : (n && text[n - 1] == '\r' ? n - 1 : n), 0);
		strbuf_rtrim(&line);
		if (line.len)
			elog_printf(&run->log, "%s%s", prefix, line.buf);
		text += n;
		if (*text == '\n')
			text++;
	}
	strbuf_release(&line);
}

/* A signal asked the run to stop (engine/interrupt.h): sets err and
 * returns -EINTR, else 0. */
static int check_interrupt(struct strbuf *err)
{
	int sig = interrupt_signal();

	if (!sig)
		return 0;
	if (!err->len)
		interrupt_describe(sig, err);
	return -EINTR;
}

/* A run that failed while a signal was pending failed because of it
 * (a terminal's ^C also kills the ssh or zfs child that was running):
 * say so first, keeping the step's own message after it. */
static void interrupted_error(struct strbuf *err)
{
	struct strbuf msg = STRBUF_INIT;

	interrupt_describe(interrupt_signal(), &msg);
	if (strcmp(err->buf, msg.buf)) {
		strbuf_addf(&msg, " (%s)", err->buf);
		strbuf_reset(err);
		strbuf_add(err, msg.buf, msg.len);
	}
	strbuf_release(&msg);
}

void run_format_size(uint64_t bytes, struct strbuf *out)
{
	if (bytes < 1000)
		strbuf_addf(out, "%u B", (unsigned)bytes);
	else if (bytes < 1000000)
		strbuf_addf(out, "%.1f kB", (double)bytes / 1e3);
	else if (bytes < 1000000000)
		strbuf_addf(out, "%.1f MB", (double)bytes / 1e6);
	else
		strbuf_addf(out, "%.2f GB", (double)bytes / 1e9);
}

/* ---- state updates ---- */

static int start_fn(struct state *st, void *data, struct strbuf *err)
{
	struct run *run = data;
	int r = state_record_job_start(st, run->job->guest, run->job->target, run->ctx->node, getpid(),
				       run->o->start_time, run->o->iteration);

	if (r == 0)
		r = state_set_scheduled(st, run->job->guest, run->job->target, run->o->scheduled);
	if (r == 0)
		r = state_get_job(st, run->job->guest, run->job->target, &run->js);
	if (r < 0) {
		strbuf_addf(err, "unable to record the start of job '%s'", run->job->id);
		return r;
	}
	return 0;
}

static int sync_end_fn(struct state *st, void *data, struct strbuf *err)
{
	struct run *run = data;
	int r = state_record_sync_end(st, run->job->guest, run->job->target, run->o->start_time);

	if (r == 0 && run->storeids_set)
		r = state_set_storeids(st, run->job->guest, run->job->target, &run->storeids);
	if (r < 0)
		strbuf_addf(err, "unable to record the sync of job '%s'", run->job->id);
	return r;
}

struct end_data {
	struct run *run;
	const char *errmsg;
	double duration;
	/* notifications wanted and configured; then the one decided under
	 * the lock, and the state it reports */
	bool notify;
	enum notify_kind kind;
	struct job_state after;
};

/* Decide on a notification from the state after the end of the run and
 * remember what was sent, in the same locked update. */
static int decide_notice(struct state *st, struct end_data *ed)
{
	struct run *run = ed->run;
	bool removal = run->job->remove_job != REMOVE_NONE;
	int notified, r;

	r = state_get_job(st, run->job->guest, run->job->target, &ed->after);
	if (r < 0)
		return r;
	notified = ed->after.notified;
	ed->kind = notify_decide(ed->errmsg != NULL, removal, ed->after.fail_count, &notified);
	if (ed->kind == NOTIFY_RECOVERED)
		/* the run of failures it reports on (the state now says 0) */
		ed->after.fail_count = run->js.fail_count;
	if (r == 1 && notified != ed->after.notified)
		return state_set_notified(st, run->job->guest, run->job->target, notified);
	return 0;
}

static int end_fn(struct state *st, void *data, struct strbuf *err)
{
	struct end_data *ed = data;
	struct run *run = ed->run;
	int r = 0;

	if (run->storeids_set)
		r = state_set_storeids(st, run->job->guest, run->job->target, &run->storeids);
	if (r == 0)
		r = state_set_bytes(st, run->job->guest, run->job->target, run->bytes);
	/* what this good run's streams left the target with */
	if (r == 0 && !ed->errmsg && !run->job->remove_job)
		r = state_set_props_digest(st, run->job->guest, run->job->target,
					   run->props_digest[0] ? run->props_digest : NULL);
	if (r == 0)
		r = state_record_job_end(st, run->job->guest, run->job->target, run->o->start_time, ed->duration,
					 ed->errmsg, run->job->remove_job != REMOVE_NONE);
	if (r == 0 && ed->notify)
		r = decide_notice(st, ed);
	if (r < 0)
		strbuf_addf(err, "unable to record the end of job '%s'", run->job->id);
	return r;
}

/* ---- remote calls ---- */

/* volrep.cfg ssh-cipher: "auto" picks by the CPU (ssh.h), "default"
 * leaves it to ssh (and its config) */
static void set_cipher(struct run *run, const char *cfg_cipher)
{
	const char *c = cfg_cipher;
	struct strbuf cpu = STRBUF_INIT;

	if (run->t.ops != &ssh_transport_ops || !strcmp(c, "default"))
		return;
	if (!strcmp(c, "auto")) {
		if (strbuf_read_file(&cpu, "/proc/cpuinfo", 1 << 20) < 0)
			strbuf_reset(&cpu);
		c = ssh_cipher_auto(cpu.buf);
	}
	if (transport_ssh_set_cipher(&run->t, c) < 0)
		elog_printf(&run->log, "invalid ssh-cipher '%s', using ssh's default", c);
	strbuf_release(&cpu);
}

/* volrep.cfg migration-type insecure: the network of the direct data
 * path, the target's own address (a /32 or /128) when none is set. */
static int set_direct(struct run *run, const struct volrep_cfg *cfg, struct strbuf *err)
{
	struct cidr net;

	run->direct_net[0] = '\0';
	if (!cfg->migration_insecure)
		return 0;
	if (cfg->migration_network[0]) {
		snprintf(run->direct_net, sizeof(run->direct_net), "%s", cfg->migration_network);
		return 0;
	}
	if (!run->t.address || cidr_parse(run->t.address, &net) < 0) {
		strbuf_addf(err, "migration-type insecure: the address '%s' of node '%s' is not an IP address - set "
			    "migration-network in volrep.cfg", run->t.address ? run->t.address : "", run->job->target);
		return -EINVAL;
	}
	cidr_format(&net, run->direct_net, sizeof(run->direct_net));
	return 0;
}

static int open_transport(struct run *run, struct strbuf *err)
{
	int r;

	if (run->t_open)
		return 0;
	/* datacenter.cfg's replication (migration) network (engine/pvenet.h) */
	r = remote_open_traffic(&run->t, &run->cc->nodes, run->ctx->config_dir, run->job->target, run->ctx->state_dir,
				run->o->migration_traffic ? PVENET_MIGRATION : PVENET_REPLICATION, &run->log, err);
	if (r == 0) {
		struct volrep_cfg cfg;
		struct strbuf cerr = STRBUF_INIT;

		/* every call and stream to the target is bounded by
		 * inactivity: a hung target must not hold the guest's lock */
		volrep_cfg_init(&cfg);
		if (volrep_cfg_load(&cfg, run->ctx->config_dir, &cerr) < 0)
			elog_printf(&run->log, "%s; using stall-timeout %u", cerr.buf, cfg.stall_timeout);
		strbuf_release(&cerr);
		run->t.stall_timeout = cfg.stall_timeout;
		run->codec = (enum wire_codec)cfg.compress;
		if (run->job->compress && wire_codec_parse(run->job->compress, &run->codec) < 0)
			run->codec = WIRE_NONE;
		run->codec_level = (int)cfg.compress_level;
		set_cipher(run, cfg.ssh_cipher);
		r = set_direct(run, &cfg, err);
		run->t_open = r == 0;
		if (r < 0)
			transport_release(&run->t);
	}
	return r;
}

/* The run's session to the target, opened on first use; NULL: none,
 * one transport call per step (an older volrep there, or
 * VOLREP_SESSION=0). Returns 0, or -errno with the message in err when
 * the target cannot be reached at all. */
static int open_session(struct run *run, struct strbuf *err)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf msg = STRBUF_INIT;
	const char *off = getenv("VOLREP_SESSION");
	int r;

	if (run->sess && !session_alive(run->sess)) {
		/* the target closed it while the run waited (for a transfer
		 * slot, say): a new one */
		session_close(run->sess);
		run->sess = NULL;
		run->sess_tried = 0;
	}
	if (run->sess_tried)
		return 0;
	run->sess_tried = 1;
	if (off && !strcmp(off, "0"))
		return 0;
	strvec_push(&argv, remote_bin());
	strvec_push(&argv, "session");
	r = session_open(&run->t, (const char *const *)argv.v, &run->sess, &msg);
	if (r == -EPROTONOSUPPORT) {
		elog_printf(&run->log, "target '%s' does not speak the session protocol - one ssh call per step",
			    run->job->target);
		r = 0;
	} else if (r < 0) {
		strbuf_add(err, msg.buf, msg.len);
	}
	strvec_clear(&argv);
	strbuf_release(&msg);
	return r;
}

/* Run argv on the target, relaying its stderr into the log, each line
 * marked "on target '<node>': " (pvesr names its internal function there).
 * Returns 0 with the output in out, or -1 with the message in err. */
static int target_call(struct run *run, const struct strvec *argv, struct strbuf *out, struct strbuf *err)
{
	struct strbuf rerr = STRBUF_INIT, prefix = STRBUF_INIT;
	int r = open_transport(run, err);

	if (r == 0)
		r = open_session(run, err);
	if (r < 0)
		return r;
	r = remote_call(&run->t, run->sess, argv, out, &rerr, err);
	/* what the target said, marked as such */
	strbuf_addf(&prefix, "on target '%s': ", run->job->target);
	log_lines(run, prefix.buf, rerr.buf);
	strbuf_release(&prefix);
	strbuf_release(&rerr);
	return r < 0 ? -EIO : r;
}

/* The target's prepare-local-job; its JSON (last line of stdout) into
 * *remote. */
static int remote_prepare(struct run *run, const struct strvec *scan, const struct strvec *volids,
			  int64_t last_sync, const char *parent, int force, struct snap_map *remote,
			  struct strbuf *err)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf out = STRBUF_INIT;
	const char *json = NULL;
	int r;

	remote_prepare_argv(&argv, run->job->id, scan, volids, last_sync, parent, force);
	remote_keep_argv(&argv, run->job->keep);
	r = target_call(run, &argv, &out, err);
	if (r == 0) {
		/* the last line that looks like a JSON object */
		strbuf_rtrim(&out);
		for (char *p = out.buf; p; p = strchr(p, '\n')) {
			if (*p == '\n')
				p++;
			if (*p == '{')
				json = p;
		}
		if (!json) {
			strbuf_addstr(err, "prepare remote node failed - no result");
			r = -EIO;
		} else {
			r = snap_map_from_json(json, strlen(json), remote, err);
		}
	}
	strvec_clear(&argv);
	strbuf_release(&out);
	return r;
}

/* ---- snapshots ---- */

/* Remove this run's snapshot from the volumes that got it. */
static void remove_new_snapshots(struct run *run)
{
	for (size_t i = 0; i < run->made.nr; i++) {
		char sid[STOREID_MAX + 1];
		const char *volname;
		struct backend *b;

		elog_printf(&run->log, "delete previous replication snapshot '%s' on %s", run->snap.buf,
			    run->made.v[i]);
		if (volid_parse(run->made.v[i], sid, &volname, NULL) < 0 || storemap_get(&run->sm, sid, &b, NULL) < 0)
			continue;
		if (backend_delete_snapshot(b, volname, run->snap.buf) < 0)
			elog_printf(&run->log, "delete replication snapshot error: %s", backend_errmsg(b));
	}
	strvec_clear(&run->made);
}

/* One backend_snapshot call per storage (volids are sorted, so the
 * volumes of a storage are next to each other). */
static int snapshot_all(struct run *run, struct strbuf *err)
{
	size_t i = 0;
	int r = 0;

	while (i < run->vols.nr && r == 0) {
		const char *sid = run->vols.v[i].storage;
		const char **names = NULL;
		size_t n = 0, alloc = 0, first = i;
		struct backend *b;

		for (; i < run->vols.nr && !strcmp(run->vols.v[i].storage, sid); i++) {
			elog_printf(&run->log, "create snapshot '%s' on %s", run->snap.buf, run->vols.v[i].volid);
			ALLOC_GROW(names, n + 1, alloc);
			names[n++] = run->vols.v[i].volname;
		}
		r = storemap_get(&run->sm, sid, &b, err);
		if (r == 0) {
			r = backend_snapshot(b, names, n, run->snap.buf);
			if (r < 0)
				strbuf_addstr(err, backend_errmsg(b));
		}
		if (r == 0)
			for (size_t k = first; k < i; k++)
				strvec_push(&run->made, run->vols.v[k].volid);
		free(names);
	}
	return r;
}

/* ---- the transfer ---- */

/* "3s", "2m05s", "1h02m" */
static void format_eta(double secs, struct strbuf *out)
{
	uint64_t t = secs < 0 ? 0 : secs > 359999 ? 359999 : (uint64_t)(secs + 0.5);

	if (t < 60)
		strbuf_addf(out, "%us", (unsigned)t);
	else if (t < 3600)
		strbuf_addf(out, "%um%02us", (unsigned)(t / 60), (unsigned)(t % 60));
	else
		strbuf_addf(out, "%uh%02um", (unsigned)(t / 3600), (unsigned)(t % 3600 / 60));
}

void run_format_progress(const char *volid, const struct relay_progress *p, struct strbuf *out)
{
	strbuf_addf(out, "%s: ", volid);
	run_format_size(p->bytes, out);
	if (p->done) {
		/* the real size now: the estimate has served its purpose */
		strbuf_addf(out, " in %.1fs, %.2f MB/s", p->elapsed, p->rate / 1e6);
		return;
	}
	if (!p->total) {
		strbuf_addf(out, ", %.1fs, %.2f MB/s", p->elapsed, p->rate / 1e6);
		return;
	}
	strbuf_addstr(out, " of ~");
	run_format_size(p->total, out);
	/* an estimate exceeded says nothing about the rest: hold at 99%
	 * (100% is for the end) and give no ETA */
	strbuf_addf(out, " (%u%%), %.2f MB/s, ETA ",
		    p->bytes >= p->total ? 99u : (unsigned)(p->bytes * 100.0 / (double)p->total),
		    p->rate / 1e6);
	if (p->bytes < p->total && p->rate > 0 && p->eta >= 0)
		format_eta(p->eta, out);
	else
		strbuf_addch(out, '?');
}

static void show_progress(const struct relay_progress *p, void *data)
{
	struct run *run = data;
	struct strbuf line = STRBUF_INIT;

	run_format_progress(run->cur_volid, p, &line);
	/* "\r" + line, cleared to the end of the terminal line */
	fprintf(stderr, "\r%s\033[K%s", line.buf, p->done ? "\n" : "");
	fflush(stderr);
	strbuf_release(&line);
}

/* How long an export whose reader went away may take to notice it. */
#define EXPORT_STOP_WAIT_MS 3000

/* One stream's pieces, from the start of the export to its end. */
struct xfer {
	const struct guest_volume *v;
	struct backend *b;
	struct child c;         /* the export, its stdout the stream */
	FILE *tf;               /* the export's stderr, for its error message */
	struct relay_opts ro;   /* rate limit, progress, compression */
	struct relay_stats stats;
	struct strvec argv;     /* the target's import */
	struct strbuf out, rerr; /* the import's stdout and stderr */
	struct strbuf why;      /* the direct path's reason for a broken stream */
};

#define XFER_INIT                                                                                      \
	{ .c = CHILD_INIT, .ro = RELAY_OPTS_INIT, .stats = { 0 }, .argv = STRVEC_INIT, .out = STRBUF_INIT, \
	  .rerr = STRBUF_INIT, .why = STRBUF_INIT }

static void xfer_release(struct xfer *x)
{
	/* an export still running here was given up: it goes */
	if (x->c.pid > 0) {
		if (x->c.out >= 0)
			close(x->c.out);
		child_kill(&x->c, SIGTERM);
		child_finish(&x->c);
	}
	if (x->tf)
		fclose(x->tf);
	wire_enc_free(x->ro.enc);
	strvec_clear(&x->argv);
	strbuf_release(&x->out);
	strbuf_release(&x->rerr);
	strbuf_release(&x->why);
}

/* The export of v@snap (from base), or with token the rest of an
 * interrupted one. -ESTALE when this side refuses the token. */
static int start_export(struct run *run, struct xfer *x, const char *base, const char *token, unsigned flags,
			struct strbuf *err)
{
	const char *volname = x->v->volname;
	int r;

	if (run->o->progress && !token) {
		/* for the ETA only: a storage without an estimate (or with a
		 * failing one) just shows no total */
		if (backend_estimate_send_size(x->b, volname, run->snap.buf, base, &x->ro.total) < 0)
			x->ro.total = 0;
	}
	x->c.out = CHILD_PIPE;
	x->c.err = fileno(x->tf);
	/* its own process group: an interrupted run kills it as a whole */
	x->c.new_pgrp = 1;
	if (token)
		r = backend_export_resume_start(x->b, volname, run->snap.buf, token, &x->c);
	else
		r = backend_export_start(x->b, volname, run->snap.buf, base, flags, &x->c);
	if (r < 0) {
		strbuf_addstr(err, backend_errmsg(x->b));
		if (r != -ESTALE)
			r = -EIO;
	}
	return r;
}

/* What the relay does to the stream on its way: the rate limit, the
 * progress line, the wire codec; and the target's import to match. */
static void plan_stream(struct run *run, struct xfer *x, const char *base, uint64_t rate, const char *token,
			unsigned flags)
{
	const struct guest_volume *v = x->v;

	x->ro.rate = rate;
	x->ro.abort_flag = interrupt_flag();
	if (run->o->progress) {
		x->ro.progress = show_progress;
		x->ro.data = run;
		run->cur_volid = v->volid;
	}
	if (run->codec != WIRE_NONE) {
		x->ro.enc = wire_enc_new(run->codec, run->codec_level);
		elog_printf(&run->log, "compressing the stream of '%s' with %s", v->volid, wire_codec_name(run->codec));
	}
	remote_import_argv(&x->argv, v->volid, run->snap.buf, base,
			   run->codec != WIRE_NONE ? wire_codec_name(run->codec) : NULL);
	if (flags & BACKEND_EXPORT_RAW)
		strvec_push(&x->argv, "--raw");
	if (token)
		strvec_push(&x->argv, "--resume");
}

/* The export's stream into the target's import, by the run's way there:
 * a direct TCP connection, the session, or an ssh call of its own. What
 * went over counts whatever the outcome. */
static int relay_stream(struct run *run, struct xfer *x)
{
	const char *const *argv = (const char *const *)x->argv.v;
	int r;

	if (run->direct_net[0])
		r = direct_stream(&run->t, argv, run->direct_net, x->c.out, &x->ro, &x->out, &x->rerr, REMOTE_OUT_MAX,
				  &x->stats, &x->why);
	else if (run->sess)
		r = session_stream(run->sess, argv, x->c.out, &x->ro, &x->out, &x->rerr, REMOTE_OUT_MAX, &x->stats);
	else
		r = transport_stream(&run->t, argv, x->c.out, &x->ro, &x->out, &x->rerr, REMOTE_OUT_MAX, &x->stats);
	close(x->c.out);
	x->c.out = -1;
	run->bytes += x->stats.bytes;
	if (run->o->bytes_sent)
		*run->o->bytes_sent += x->stats.bytes;
	return r;
}

/* A stream that stalled (-ETIMEDOUT) or broke off (-EPROTO): the import
 * side was killed; the export may be the one that hangs: it gets its
 * closed pipe and a moment, then a kill. */
static int stream_broke(struct run *run, struct xfer *x, int r, struct strbuf *err)
{
	child_stop(&x->c, EXPORT_STOP_WAIT_MS);
	log_lines(run, "", x->rerr.buf);
	if (r == -EPROTO && x->why.len) /* the direct path's reason */
		strbuf_add(err, x->why.buf, x->why.len);
	else
		transport_describe(&run->t, (const char *const *)x->argv.v, r, x->rerr.buf, err);
	/* a stalled target is not asked for a resume token */
	return r == -ETIMEDOUT ? -ETIMEDOUT : -EIO;
}

/* The export exited with ex != 0: its stderr's last line says why. */
static int export_failed(struct run *run, struct xfer *x, int ex, struct strbuf *err)
{
	struct strbuf xerr = STRBUF_INIT;
	char st[64], buf[EXPORT_ERR_MAX + 1];
	size_t n;

	rewind(x->tf);
	n = fread(buf, 1, EXPORT_ERR_MAX, x->tf);
	buf[n] = '\0';
	strbuf_add(&xerr, buf, n);
	strbuf_rtrim(&xerr);
	log_lines(run, "", xerr.buf);
	strbuf_addf(err, "export of '%s' failed (%s)", x->v->volid, exit_status_str(ex, st, sizeof(st)));
	if (xerr.len) {
		char *last = strrchr(xerr.buf, '\n');

		strbuf_addf(err, ": %.200s", last ? last + 1 : xerr.buf);
	}
	strbuf_release(&xerr);
	return -EIO;
}

/* How the stream ended (r from relay_stream), the export's exit and
 * the import's answer: 0 only when both sides say it went through. */
static int check_stream(struct run *run, struct xfer *x, int r, struct strbuf *err)
{
	const char *const *argv = (const char *const *)x->argv.v;
	struct strbuf want = STRBUF_INIT;
	int ex;

	if (r == -ETIMEDOUT || r == -EPROTO)
		return stream_broke(run, x, r, err);
	if (r == -EINTR) {
		/* the import side is gone already (transport_stream); the
		 * export sees its pipe closed and ends by itself (killing a
		 * zfs-fuse `zfs send` client leaves the snapshots "busy" in the
		 * daemon for a long time), else it is killed */
		child_stop(&x->c, EXPORT_STOP_WAIT_MS);
		log_lines(run, "", x->rerr.buf);
		check_interrupt(err);
		return r;
	}
	ex = child_finish(&x->c);
	log_lines(run, "", x->rerr.buf);
	log_lines(run, "", x->out.buf);
	if (r != 0 && r != -EPIPE) {
		transport_describe(&run->t, argv, r, x->rerr.buf, err);
		return -EIO;
	}
	if (ex != 0)
		return export_failed(run, x, ex, err);
	if (r == -EPIPE) {
		transport_describe(&run->t, argv, 1, x->rerr.buf, err);
		return -EIO;
	}
	strbuf_addf(&want, "successfully imported '%s'", x->v->volid);
	if (!strstr(x->out.buf, want.buf)) {
		strbuf_addf(err, "unable to get ID of the migrated volume '%s' on '%s'", x->v->volid, run->job->target);
		r = -EIO;
	}
	strbuf_release(&want);
	return r;
}

/* The size, time and speed of a stream, and what compression saved. */
static void log_transferred(struct run *run, const struct xfer *x)
{
	const struct relay_stats *s = &x->stats;
	struct strbuf size = STRBUF_INIT, speed = STRBUF_INIT, took = STRBUF_INIT;

	run_format_size(s->bytes, &size);
	run_format_size(s->elapsed > 0 ? (uint64_t)((double)s->bytes / s->elapsed) : s->bytes, &speed);
	format_duration(s->elapsed, &took);
	elog_printf(&run->log, "transferred %s in %s (%s/s)", size.buf, took.buf, speed.buf);
	if (x->ro.enc) {
		const struct wire_enc_stats *ws = wire_enc_stats(x->ro.enc);

		strbuf_reset(&size);
		run_format_size(s->wire, &size);
		elog_printf(&run->log, "sent %s compressed (ratio %.2f, %" PRIu64 " of %" PRIu64 " chunks raw)", size.buf,
			    s->wire ? (double)s->bytes / (double)s->wire : 0.0, ws->raw_chunks, ws->chunks);
	}
	strbuf_release(&size);
	strbuf_release(&speed);
	strbuf_release(&took);
}

/* export volid@snap (from base) | rate limit | target: volrep import;
 * with token: the rest of an interrupted stream (zfs send -t | import
 * --resume). -ESTALE when this side refuses the token, -ETIMEDOUT when
 * the stream stalled (message in err in every case). */
static int transfer(struct run *run, const struct guest_volume *v, const char *base, uint64_t rate,
		    const char *token, unsigned flags, struct strbuf *err)
{
	struct xfer x = XFER_INIT;
	int r;

	x.v = v;
	r = storemap_get(&run->sm, v->storage, &x.b, err);
	if (r < 0)
		return r;
	r = open_transport(run, err);
	if (r == 0)
		r = open_session(run, err);
	if (r < 0)
		return r;
	x.tf = tmpfile();
	if (!x.tf) {
		strbuf_addf(err, "cannot create a temporary file: %s", strerror(errno));
		return -errno;
	}
	r = start_export(run, &x, base, token, flags, err);
	if (r == 0) {
		plan_stream(run, &x, base, rate, token, flags);
		r = check_stream(run, &x, relay_stream(run, &x), err);
	}
	if (r == 0)
		log_transferred(run, &x);
	xfer_release(&x);
	return r;
}

/* The target's `import --resume-token` (or --abort-resume) for v. The
 * query's result as resume_parse_reply, -EIO when it failed. */
static int remote_resume(struct run *run, const struct guest_volume *v, const char *base, const char *opt,
			 struct strbuf *token)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	int r;

	remote_import_argv(&argv, v->volid, run->snap.buf, base, NULL);
	strvec_push(&argv, opt);
	r = target_call(run, &argv, &out, &err);
	if (r < 0)
		elog_printf(&run->log, "%s", err.buf);
	else if (token && (r = resume_parse_reply(out.buf, token)) < 0)
		elog_printf(&run->log, "invalid answer to the resume token query for '%s' from '%s'", v->volid,
			    run->job->target);
	strvec_clear(&argv);
	strbuf_release(&out);
	strbuf_release(&err);
	return r;
}

/* transfer(), and where both sides have resume tokens, after a stream
 * that broke off: continue from the target's partial receive (up to
 * RESUME_TRIES times), or when a token is refused give the partial
 * receive up and send once more from the start (engine/resume.h). */
static int transfer_resumable(struct run *run, const struct guest_volume *v, const char *base, uint64_t rate,
			      unsigned flags, struct strbuf *err)
{
	struct strbuf token = STRBUF_INIT, prev = STRBUF_INIT, e = STRBUF_INIT;
	struct backend_caps caps;
	struct backend *b;
	int r = transfer(run, v, base, rate, NULL, flags, err), refused = 0;

	/* a stalled target (stopped, hung) would stall the token query too:
	 * the run ends, and does not hold the guest's lock any longer */
	if (r == 0 || r == -EINTR || r == -ETIMEDOUT || storemap_get(&run->sm, v->storage, &b, NULL) < 0 ||
	    backend_probe(b, &caps) < 0 || !caps.resume_tokens)
		return r;
	for (int attempt = 1;; attempt++) {
		int q = refused ? 0 : remote_resume(run, v, base, "--resume-token", &token);
		enum resume_step step = resume_decide(attempt, q, q > 0 ? token.buf : NULL,
						      prev.len ? prev.buf : NULL, refused);

		if (step == RESUME_STOP)
			break;
		if (step == RESUME_RESTART) {
			elog_printf(&run->log, "resume of '%s' refused (%s): discarding the partial receive, sending again",
				    v->volid, err->buf);
			remote_resume(run, v, base, "--abort-resume", NULL);
			strbuf_reset(err);
			r = transfer(run, v, base, rate, NULL, flags, err);
			break;
		}
		elog_printf(&run->log, "transfer of '%s' broke off (%s); resuming from the target's receive token (%d of %d)",
			    v->volid, err->buf, attempt, RESUME_TRIES);
		strbuf_reset(&e);
		r = transfer(run, v, base, rate, token.buf, flags, &e);
		strbuf_reset(err);
		strbuf_add(err, e.buf, e.len);
		if (r == 0 || r == -EINTR || r == -ETIMEDOUT)
			break;
		refused = r == -ESTALE;
		strbuf_reset(&prev);
		strbuf_add(&prev, token.buf, token.len);
	}
	strbuf_release(&token);
	strbuf_release(&prev);
	strbuf_release(&e);
	return r;
}

/* Who lacks raw sends, for the message: a storage type that has them
 * (its descriptor says so) lacks them in this node's tool ("zfs"), the
 * others as a type ("btrfs storage"). */
static void raw_lacking(const struct backend *b, struct strbuf *out)
{
	const struct storage_type *t = storage_type_of(b->type);

	if (!t)
		strbuf_addstr(out, "storage");
	else if (t->presence.features & STORAGE_FEAT_RAW)
		strbuf_addstr(out, t->tool);
	else
		strbuf_addf(out, "%s storage", t->name);
}

/* The export flags of v: the job's keep, and raw (zfs send -w) for an
 * encrypted volume or a job with raw 1, refused with one line where
 * this side cannot send raw streams. */
static int export_flags(struct run *run, const struct guest_volume *v, unsigned *flags, struct strbuf *err)
{
	struct backend_caps caps;
	struct backend *b;
	int enc, r = storemap_get(&run->sm, v->storage, &b, err);

	*flags = run->job->keep ? BACKEND_EXPORT_KEEP_TARGET : 0;
	if (r < 0)
		return r;
	enc = backend_encrypted(b, v->volname);
	if (enc < 0) {
		strbuf_addstr(err, backend_errmsg(b));
		return enc;
	}
	if (!enc && !run->job->raw)
		return 0;
	/* the probe's capability, whatever the storage type: only a
	 * backend that can send raw streams says it can */
	if (backend_probe(b, &caps) < 0 || !caps.send_raw) {
		struct strbuf who = STRBUF_INIT;

		raw_lacking(b, &who);
		if (enc)
			strbuf_addf(err, "volume '%s' is encrypted, but zfs on '%s' has no raw sends (zfs send -w)",
				    v->volid, run->ctx->node);
		else
			strbuf_addf(err, "job option raw: '%s' cannot be sent raw: %s on '%s' has no raw sends (zfs send -w)",
				    v->volid, who.buf, run->ctx->node);
		strbuf_release(&who);
		return -ENOTSUP;
	}
	*flags |= BACKEND_EXPORT_RAW;
	return 0;
}

/* One of the target's transfer slots into lk (max-per-target streams to
 * one node at once); a wait is logged. */
static int take_transfer_slot(struct run *run, struct lock *lk, struct strbuf *err)
{
	unsigned n = run->o->transfer_slots, slot;
	double waited;
	int r;

	if (!n) {
		struct volrep_cfg cfg;
		struct strbuf cerr = STRBUF_INIT;

		volrep_cfg_init(&cfg);
		if (volrep_cfg_load(&cfg, run->ctx->config_dir, &cerr) < 0)
			elog_printf(&run->log, "%s; using max-per-target %u", cerr.buf, cfg.max_per_target);
		strbuf_release(&cerr);
		n = cfg.max_per_target;
	}
	r = check_interrupt(err);
	if (r == 0)
		r = xfer_slot_acquire(lk, run->ctx->state_dir, run->job->target, n, &slot, &waited);
	if (r == -EINTR && check_interrupt(err) < 0)
		return r;
	if (r < 0) {
		strbuf_addf(err, "unable to get a transfer slot for node '%s' - %s", run->job->target,
			    r == -EINTR ? "interrupted" : strerror(-r));
		return r;
	}
	if (waited > 0)
		elog_printf(&run->log, "waited %.1fs for a transfer slot to node '%s' (max-per-target %u)", waited,
			    run->job->target, n);
	return 0;
}

/* ---- the steps ---- */

static void storage_ids_of(const struct volume_list *vols, struct strvec *out)
{
	for (size_t i = 0; i < vols->nr; i++)
		strvec_push(out, vols->v[i].storage);
	strvec_sort_uniq(out);
}

struct remove_data {
	const char *id;
};

static int remove_job_fn(struct jobs_cfg *jc, void *data, struct strbuf *err)
{
	struct remove_data *rd = data;

	(void)err;
	return jobs_cfg_remove(jc, rd->id) ? 1 : 0;
}

/* pvesr §6: the job's snapshots (and, in full mode, its volumes on the
 * target) go, then the job itself. */
static int do_remove(struct run *run, struct strbuf *err)
{
	const struct repl_job *job = run->job;
	struct snap_map local = SNAP_MAP_INIT, remote = SNAP_MAP_INIT;
	struct strvec scan = STRVEC_INIT, existing = STRVEC_INIT;
	struct remove_data rd = { .id = job->id };
	int r = 0;

	elog_printf(&run->log, "start job removal - mode '%s'", remove_mode_name(job->remove_job));
	if (job->remove_job == REMOVE_FULL && strcmp(job->target, run->ctx->node)) {
		storage_ids_of(&run->vols, &scan);
		for (size_t i = 0; i < run->storeids.nr; i++)
			strvec_push(&scan, run->storeids.v[i]);
		strvec_sort_uniq(&scan);
		r = remote_prepare(run, &scan, NULL, 1, NULL, 1, &remote, err);
	}
	/* the job's snapshots on the volumes that still exist here (a
	 * removal must not get stuck on a disk deleted meanwhile) */
	for (size_t i = 0; r == 0 && i < run->vols.nr; i++) {
		struct backend *b;

		if (storemap_get(&run->sm, run->vols.v[i].storage, &b, NULL) == 0 &&
		    backend_volume_exists(b, run->vols.v[i].volname) == 0)
			continue;
		strvec_push(&existing, run->vols.v[i].volid);
	}
	if (r == 0)
		r = prepare_volumes(&run->sm, &existing, job->id, 1, NULL, 0, &run->log, &local, NULL, err);
	if (r == 0) {
		r = jobs_cfg_modify(run->ctx->config_dir, remove_job_fn, &rd, NULL, err);
		if (r >= 0) {
			r = 0;
			elog_printf(&run->log, "job removed");
		}
	}
	/* a target that is gone for good would keep this job forever */
	if (r < 0)
		elog_printf(&run->log, "the removal is retried on the next run; 'volrep delete %s --force' "
			    "removes the job at once without cleaning up", job->id);
	snap_map_release(&local);
	snap_map_release(&remote);
	strvec_clear(&scan);
	strvec_clear(&existing);
	return r;
}

/* ---- one sync, step by step (do_replicate) ---- */

/* What the steps of one sync share: the plan, made before anything
 * changes on either side, and the transfer slot held while the streams
 * run. */
struct sync_plan {
	int running;                   /* the guest runs: its agent freezes the fs */
	struct guest_conf gc;          /* for the parent snapshot and the fs-freeze */
	const char *parent;            /* the guest's current snapshot (in gc), if a valid name */
	struct strbuf last;            /* the last sync's snapshot name */
	struct snap_map local, remote; /* both sides' snapshots, after their clean-up */
	struct strvec bases;           /* per volume: its incremental base, "" = full sync */
	unsigned *xflags;              /* per volume: its export flags */
	uint64_t rate;                 /* bytes per second, 0 = no limit */
	struct lock slot;
};

#define SYNC_PLAN_INIT                                                                                 \
	{ .gc = GUEST_CONF_INIT, .last = STRBUF_INIT, .local = SNAP_MAP_INIT, .remote = SNAP_MAP_INIT, \
	  .bases = STRVEC_INIT, .slot = LOCK_INIT }

static void sync_plan_release(struct sync_plan *sp)
{
	lock_release(&sp->slot);
	free(sp->xflags);
	snap_map_release(&sp->local);
	snap_map_release(&sp->remote);
	guest_conf_release(&sp->gc);
	strbuf_release(&sp->last);
	strvec_clear(&sp->bases);
}

/* The guest's volumes into run->vols and run->volids, logged as pvesr
 * logs them, and the storages to remember: only those still in
 * storage.cfg, as one gone from it would make the target fail forever. */
static int list_volumes(struct run *run, struct sync_plan *sp, struct strbuf *err)
{
	struct strbuf line = STRBUF_INIT;
	int r = cluster_guest_volumes(run->cc, run->g, run->job->remove_job ? GUEST_VOL_CLEANUP : 0, &run->vols, err);

	if (r < 0)
		return r;
	for (size_t i = 0; i < run->vols.nr; i++) {
		strvec_push(&run->volids, run->vols.v[i].volid);
		strbuf_addf(&line, "%s%s", i ? "," : "", run->vols.v[i].volid);
	}
	/* PVE's run files on a PVE node (engine/pveguest.h), else 0 */
	sp->running = pve_guest_state_on() && pve_guest_running(run->g->type, run->g->vmid);
	elog_printf(&run->log, "guest => %s %" PRIu32 ", running => %d", run->g->type == GUEST_LXC ? "CT" : "VM",
		    run->g->vmid, sp->running);
	elog_printf(&run->log, "volumes => %s", line.buf);
	for (size_t i = 0; i < run->js.storeid_list.nr; i++)
		if (storage_cfg_find(&run->cc->storages, run->js.storeid_list.v[i]))
			strvec_push(&run->storeids, run->js.storeid_list.v[i]);
	run->storeids_set = 1;
	strbuf_release(&line);
	return 0;
}

/* find_common_replication_snapshot, its first half: both sides clean
 * up their replication snapshots and say which they have. A signal is
 * looked at before and after the target's part, the slow one. */
static int prepare_both_sides(struct run *run, struct sync_plan *sp, struct strbuf *err)
{
	const int64_t last_sync = run->js.last_sync;
	int r;

	if (guest_conf_load(&sp->gc, run->g, NULL) == 0) {
		sp->parent = guest_conf_get(&sp->gc, "parent");
		if (sp->parent && !valid_snapshot_name(sp->parent))
			sp->parent = NULL;
	}
	repl_snapname(&sp->last, run->job->id, last_sync);
	r = prepare_volumes(&run->sm, &run->volids, run->job->id, last_sync, sp->parent, 0, &run->log, &sp->local,
			    NULL, err);
	if (r < 0)
		return r;
	r = check_interrupt(err);
	if (r == 0)
		r = remote_prepare(run, &run->storeids, &run->volids, last_sync, sp->parent, 0, &sp->remote, err);
	if (r == 0)
		r = check_interrupt(err);
	return r;
}

/* Its second half: the base of every volume, "" for a full sync. All
 * volumes without one are named in a single error. */
static int choose_bases(struct run *run, struct sync_plan *sp, struct strbuf *err)
{
	struct strvec missing = STRVEC_INIT;
	int r = 0;

	for (size_t i = 0; i < run->vols.nr; i++) {
		const char *volid = run->vols.v[i].volid, *base = NULL;
		const struct vol_snaps *rs = snap_map_find(&sp->remote, volid);
		int p = plan_base(&snap_map_find(&sp->local, volid)->snaps, rs ? &rs->snaps : NULL, sp->last.buf,
				  sp->parent, &base);

		if (p < 0)
			strvec_push(&missing, volid);
		strvec_push(&sp->bases, p > 0 ? base : "");
	}
	if (missing.nr) {
		plan_no_base_error(err, &missing, run->job->id);
		r = -ENOENT;
	}
	strvec_clear(&missing);
	return r;
}

/* Which incrementals can go without a stream package
 * (engine/streamprops.h): all of them only while the volumes' stream
 * properties are what the last good run recorded, each where
 * plan_plain() finds no snapshot a package would carry or prune. Not
 * knowing the properties only costs the packages. */
static void plan_plain_streams(struct run *run, struct sync_plan *sp)
{
	struct strbuf e = STRBUF_INIT;

	if (streamprops_digest(&run->sm, &run->vols, run->props_digest, &e) < 0)
		elog_printf(&run->log, "cannot read the volumes' properties (%s): sending stream packages", e.buf);
	strbuf_release(&e);
	if (!run->props_digest[0] || !run->js.props_digest || strcmp(run->js.props_digest, run->props_digest))
		return;
	for (size_t i = 0; i < run->vols.nr; i++) {
		const char *volid = run->vols.v[i].volid;
		const struct vol_snaps *ls = snap_map_find(&sp->local, volid), *rs = snap_map_find(&sp->remote, volid);

		if (*sp->bases.v[i] && !(sp->xflags[i] & (BACKEND_EXPORT_RAW | BACKEND_EXPORT_KEEP_TARGET)) && ls && rs &&
		    plan_plain(&ls->snaps, &rs->snaps, sp->bases.v[i]))
			sp->xflags[i] |= BACKEND_EXPORT_PLAIN;
	}
}

/* Every volume's export flags: raw or not is known (and refused where
 * impossible) before anything is made. */
static int plan_exports(struct run *run, struct sync_plan *sp, struct strbuf *err)
{
	int r = 0;

	sp->xflags = xcalloc(run->vols.nr ? run->vols.nr : 1, sizeof(*sp->xflags));
	for (size_t i = 0; i < run->vols.nr && r == 0; i++)
		r = export_flags(run, &run->vols.v[i], &sp->xflags[i], err);
	if (r == 0)
		plan_plain_streams(run, sp);
	return r;
}

/* This run's snapshot of every volume, inside the guest agent's
 * fs-freeze, thawed at once. */
static int take_snapshots(struct run *run, struct sync_plan *sp, struct strbuf *err)
{
	struct pve_freeze fz = PVE_FREEZE_INIT;
	int r;

	repl_snapname(&run->snap, run->job->id, run->o->start_time);
	pve_freeze(&fz, run->g, &sp->gc, sp->running, &run->log);
	r = snapshot_all(run, err);
	pve_thaw(&fz, &run->log);
	if (r < 0)
		return r;
	return check_interrupt(err);
}

/* The way to the target for the streams, logged in pvesr's words, and
 * one of its transfer slots. */
static int open_streams(struct run *run, struct sync_plan *sp, struct strbuf *err)
{
	const struct repl_job *job = run->job;
	int r;

	if (job->rate && ratelimit_parse_mbps(job->rate, &sp->rate) < 0)
		sp->rate = 0;
	r = open_transport(run, err);
	if (r < 0)
		return r;
	/* insecure: streams over direct TCP (docs/transport.md) */
	elog_printf(&run->log, "using %s transmission, rate limit: %s%s", run->direct_net[0] ? "insecure" : "secure",
		    job->rate && sp->rate ? job->rate : "none", job->rate && sp->rate ? " MByte/s" : "");
	if (run->direct_net[0])
		elog_printf(&run->log, "streams over direct TCP connections on network %s", run->direct_net);
	return take_transfer_slot(run, &sp->slot, err);
}

/* Every volume's stream, one after the other, in the transfer slot. */
static int send_volumes(struct run *run, struct sync_plan *sp, struct strbuf *err)
{
	int r = 0;

	for (size_t i = 0; i < run->vols.nr && r == 0; i++) {
		const struct guest_volume *v = &run->vols.v[i];
		const char *base = *sp->bases.v[i] ? sp->bases.v[i] : NULL;

		if (base)
			elog_printf(&run->log, "incremental sync '%s' (%s => %s)", v->volid, base, run->snap.buf);
		else
			elog_printf(&run->log, "full sync '%s' (%s)", v->volid, run->snap.buf);
		if (sp->rate)
			elog_printf(&run->log, "using a bandwidth limit of %" PRIu64 " bytes per second for transferring '%s'",
				    sp->rate, v->volid);
		r = check_interrupt(err);
		if (r == 0 && (sp->xflags[i] & BACKEND_EXPORT_RAW))
			elog_printf(&run->log, "sending '%s' raw (zfs send -w): blocks as stored, encrypted ones stay encrypted", v->volid);
		if (r == 0)
			r = transfer_resumable(run, v, base, sp->rate, sp->xflags[i], err);
	}
	return r;
}

/* Snapshot, stream every volume, then the last point to give up: once
 * last_sync is recorded the run completes (a few quick steps). On a
 * failure this run's snapshots go here; the target cleans up its part
 * at its next prepare. */
static int sync_volumes(struct run *run, struct sync_plan *sp, struct strbuf *err)
{
	int r = take_snapshots(run, sp, err);

	if (r == 0)
		r = open_streams(run, sp, err);
	if (r == 0)
		r = send_volumes(run, sp, err);
	if (r == 0) {
		lock_release(&sp->slot);
		r = check_interrupt(err);
	}
	if (r < 0)
		remove_new_snapshots(run);
	return r;
}

/* last_sync on disk before the old base goes: a crash after it leaves
 * the new snapshot as the recorded base on both sides. */
static int record_sync(struct run *run, struct strbuf *err)
{
	int r = state_update(run->ctx->state_dir, sync_end_fn, run, err);

	return r < 0 ? r : 0;
}

/* The previous base is no base any longer: it goes here (the target's
 * goes in its finalize). A failure is logged, not fatal: the next
 * prepare removes what is left. */
static void delete_previous_snapshots(struct run *run, struct sync_plan *sp)
{
	if (run->js.last_sync == 0 || !strcmp(sp->last.buf, run->snap.buf))
		return;
	for (size_t i = 0; i < run->vols.nr; i++) {
		const struct guest_volume *v = &run->vols.v[i];
		const struct vol_snaps *ls = snap_map_find(&sp->local, v->volid);
		struct backend *b;

		if (!backend_snapshot_list_find(&ls->snaps, sp->last.buf))
			continue;
		elog_printf(&run->log, "delete previous replication snapshot '%s' on %s", sp->last.buf, v->volid);
		if (storemap_get(&run->sm, v->storage, &b, NULL) == 0 && backend_delete_snapshot(b, v->volname, sp->last.buf) < 0)
			elog_printf(&run->log, "delete previous replication snapshot error: %s", backend_errmsg(b));
	}
}

/* The target's finalize-local-job: it keeps the new snapshot (and the
 * job's keep) and drops the rest. Logged, not fatal, as above. */
static void finalize_target(struct run *run)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf out = STRBUF_INIT, ferr = STRBUF_INIT;

	remote_finalize_argv(&argv, run->job->id, &run->volids, run->o->start_time);
	remote_keep_argv(&argv, run->job->keep);
	if (target_call(run, &argv, &out, &ferr) < 0)
		elog_printf(&run->log, "delete stale replication snapshot error: %s", ferr.buf);
	strvec_clear(&argv);
	strbuf_release(&out);
	strbuf_release(&ferr);
}

static int do_replicate(struct run *run, struct strbuf *err)
{
	const int64_t last_sync = run->js.last_sync, start = run->o->start_time;
	struct sync_plan sp = SYNC_PLAN_INIT;
	int r;

	if (start <= last_sync) {
		strbuf_addf(err, "start time before last sync (%" PRId64 " <= %" PRId64 ") - abort sync", start,
			    last_sync);
		return -EINVAL;
	}
	r = list_volumes(run, &sp, err);
	if (r == 0 && run->job->remove_job) {
		r = do_remove(run, err);
		goto out;
	}
	if (r == 0 && !run->vols.nr) {
		strbuf_addstr(err, "No replicatable volumes found");
		r = -ENOENT;
	}
	/* the whole plan before anything is made */
	if (r == 0)
		r = prepare_both_sides(run, &sp, err);
	if (r == 0)
		r = choose_bases(run, &sp, err);
	if (r == 0) {
		strvec_clear(&run->storeids);
		storage_ids_of(&run->vols, &run->storeids);
		r = plan_exports(run, &sp, err);
	}
	if (r == 0)
		r = sync_volumes(run, &sp, err);
	if (r == 0)
		r = record_sync(run, err);
	if (r == 0) {
		strvec_clear(&run->made);
		delete_previous_snapshots(run, &sp);
		finalize_target(run);
	}
out:
	sync_plan_release(&sp);
	return r;
}

static void log_notice(bool ok, const char *msg, void *data)
{
	struct run *run = data;

	elog_printf(&run->log, "%s", msg);
	/* also where an admin looks: the terminal, or the daemon's journal */
	if (!ok)
		warning("%s: %s", run->job->id, msg);
}

/* Send the notification decided at the end of the run (no lock held). */
static void send_notice(struct run *run, const struct volrep_cfg *cfg, struct end_data *ed)
{
	char host[256] = "";
	struct notify_event ev;

	if (ed->kind == NOTIFY_NONE || !notify_configured(cfg))
		return;
	if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
		snprintf(host, sizeof(host), "%s", run->ctx->node);
	ev = (struct notify_event){
		.kind = ed->kind,
		.job_id = run->job->id,
		.guest = run->job->guest,
		.vmtype = guest_type_name(run->g->type),
		.source = run->ctx->node,
		.target = run->job->target,
		.schedule = run->job->schedule,
		.fail_count = ed->after.fail_count,
		.last_sync = ed->after.last_sync,
		.now = volrep_now(),
		.error = ed->errmsg,
		.hostname = host,
	};
	/* the retry time from the state just recorded */
	if (schedule_next_sync(run->job->schedule, run->job->remove_job != REMOVE_NONE,
			       nodes_cfg_find(&run->cc->nodes, run->job->target) != NULL,
			       ed->kind == NOTIFY_RECOVERED ? 0 : ed->after.fail_count, ed->after.last_try,
			       &ev.next_sync) < 0)
		ev.next_sync = 0;
	notify_send_all(cfg, &ev, log_notice, run);
}

/* Snapshot names hold the start second and a run must start after the
 * last sync: a run in the same second as the previous one (two quick
 * `run --id`, or one that waited for the guest lock) waits for the next
 * second, at most 2 s, instead of failing. Called under the guest lock. */
static int64_t start_after_last_sync(const struct context *ctx, const struct repl_job *job, int64_t start)
{
	struct state *st = NULL;
	struct job_state js = JOB_STATE_INIT;
	int64_t last = 0, now = start;

	if (state_load(ctx->state_dir, &st, NULL) == 0 && state_get_job(st, job->guest, job->target, &js) >= 0)
		last = js.last_sync;
	job_state_release(&js);
	state_free(st);
	if (start > last || last - start > 2)
		return start;
	for (int i = 0; i < 60 && now <= last; i++) {
		struct timespec ts = { 0, 50000000L };

		nanosleep(&ts, NULL);
		now = volrep_now();
	}
	return now > start ? now : start;
}

/* The guest's lock, in a lock directory only we can write to (others
 * could plant the lock files there), then PVE's own guest lock on
 * pmxcfs (engine/pvelock.h). A caller that holds the guest (migrate)
 * holds both already. */
static int lock_guest(const struct context *ctx, const struct repl_job *job, const struct run_opts *o,
		      struct lock *lk, struct lock *pvelk, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	int r;

	strbuf_addf(&path, "%s/lock", ctx->state_dir);
	r = mkdir_p(path.buf, 0755);
	if (r == 0 && (check_private_dir(ctx->state_dir, "state directory", err) < 0 ||
		       check_private_dir(path.buf, "lock directory", err) < 0)) {
		strbuf_release(&path);
		return -EPERM;
	}
	strbuf_reset(&path);
	guest_lock_path(&path, ctx->state_dir, job->guest);
	if (r == 0 && !o->guest_locked)
		r = lock_acquire(lk, path.buf, o->lock_timeout_ms);
	if (r == -ETIMEDOUT || r == -EWOULDBLOCK) {
		strbuf_addf(err, "can't lock file '%s' - got timeout", path.buf);
		r = -EBUSY;
	} else if (r < 0) {
		strbuf_addf(err, "can't lock file '%s' - %s", path.buf, file_strerror(r));
	} else if (!o->guest_locked) {
		r = pve_guest_lock(pvelk, job->guest, o->lock_timeout_ms, err);
	}
	strbuf_release(&path);
	return r;
}

/* The run's start in the state (under the guest lock), a second after
 * the last sync at the earliest: the snapshot names hold the second. */
static int record_start(struct run *run, struct run_opts *oc, struct strbuf *err)
{
	oc->start_time = start_after_last_sync(run->ctx, run->job, oc->start_time);
	return state_update(run->ctx->state_dir, start_fn, run, err);
}

/* volrep.cfg into cfg (its defaults when it is unreadable: that does
 * not stop replication), and the job's log, the previous ones rotated.
 * The log directory must be ours alone: others able to write there
 * could plant the log file (a symlink, a FIFO). The message in lerr. */
static int open_joblog(struct run *run, struct volrep_cfg *cfg, struct strbuf *lerr)
{
	const struct context *ctx = run->ctx;
	struct strbuf cerr = STRBUF_INIT;
	int r;

	if (volrep_cfg_load(cfg, ctx->config_dir, &cerr) < 0)
		volrep_cfg_init(cfg);
	r = mkdir_p(ctx->log_dir, 0755);
	if (r < 0)
		strbuf_addf(lerr, "cannot create log directory '%s' - %s", ctx->log_dir, strerror(-r));
	else
		r = check_private_dir(ctx->log_dir, "log directory", lerr);
	if (r == 0) {
		joblog_rotate(ctx->log_dir, run->job->id, cfg->log_keep);
		r = joblog_open(&run->jl, ctx->log_dir, run->job->id, run->o->echo);
	}
	if (cerr.len)
		elog_printf(&run->log, "%s; using the default settings", cerr.buf);
	if (r < 0 && !lerr->len) {
		struct strbuf path = STRBUF_INIT;

		joblog_run_path(&path, ctx->log_dir, run->job->id, 0);
		strbuf_addf(lerr, "unable to open replication log '%s' - %s", path.buf, file_strerror(r));
		strbuf_release(&path);
	}
	strbuf_release(&cerr);
	return r;
}

/* The job between its first and last log lines. A failure while a
 * signal was pending is put down to the signal. */
static int run_job(struct run *run, struct strbuf *lerr)
{
	int r;

	elog_printf(&run->log, "start replication job");
	r = do_replicate(run, lerr);
	if (r < 0 && !lerr->len)
		strbuf_addf(lerr, "%s", strerror(-r));
	if (r < 0 && interrupt_signal())
		interrupted_error(lerr);
	if (r < 0)
		elog_printf(&run->log, "end replication job with error: %s", lerr->buf);
	else
		elog_printf(&run->log, "end replication job");
	return r;
}

/* The run's end in the state, with its error (r < 0: the message in
 * lerr). A run that went well but cannot be recorded has failed. */
static int record_end(struct run *run, struct end_data *ed, int r, struct strbuf *lerr)
{
	struct strbuf serr = STRBUF_INIT;

	ed->errmsg = r < 0 ? lerr->buf : NULL;
	ed->duration = mono_now() - run->t0;
	if (state_update(run->ctx->state_dir, end_fn, ed, &serr) < 0 && r == 0) {
		strbuf_add(lerr, serr.buf, serr.len);
		r = -EIO;
	}
	strbuf_release(&serr);
	return r;
}

static void run_release(struct run *run)
{
	joblog_close(&run->jl);
	session_close(run->sess);
	storemap_release(&run->sm);
	job_state_release(&run->js);
	if (run->t_open)
		transport_release(&run->t);
	volume_list_release(&run->vols);
	strvec_clear(&run->volids);
	strvec_clear(&run->storeids);
	strvec_clear(&run->made);
	strbuf_release(&run->snap);
}

int run_replication(const struct context *ctx, const struct cluster_config *cc, const struct repl_job *job,
		    const struct run_opts *o_in, struct strbuf *err)
{
	struct run_opts oc = *o_in;
	struct run run = {
		.ctx = ctx, .cc = cc, .job = job, .o = &oc, .js = JOB_STATE_INIT, .storeids = STRVEC_INIT,
		.sm = STOREMAP_INIT(&cc->storages, ctx->node), .t = TRANSPORT_INIT, .volids = STRVEC_INIT,
		.snap = STRBUF_INIT, .made = STRVEC_INIT,
	};
	struct strbuf lerr = STRBUF_INIT;
	struct lock lk = LOCK_INIT, pvelk = LOCK_INIT;
	struct end_data ed = { .run = &run, .errmsg = NULL, .duration = 0, .notify = false, .kind = NOTIFY_NONE,
			       .after = JOB_STATE_INIT };
	struct volrep_cfg cfg;
	int r;

	run.g = guests_find(&cc->guests, job->guest);
	if (!run.g) {
		strbuf_addf(err, "no such guest '%" PRIu32 "'", job->guest);
		return -ENOENT;
	}
	r = lock_guest(ctx, job, &oc, &lk, &pvelk, err);
	if (r >= 0)
		r = record_start(&run, &oc, err);
	if (r >= 0) {
		/* from here on the run is recorded: it ends recorded too */
		run.t0 = mono_now();
		run.log = (struct elog){ .fn = log_to_joblog, .data = &run };
		r = open_joblog(&run, &cfg, &lerr);
		/* without targets nothing is decided or remembered: a target
		 * added later must not get a "recovered" for a failure it
		 * never heard of */
		ed.notify = oc.notify && notify_configured(&cfg);
		if (r == 0)
			r = run_job(&run, &lerr);
		r = record_end(&run, &ed, r, &lerr);
		if (r < 0)
			strbuf_add(err, lerr.buf, lerr.len);
		/* no lock held while a slow mail or web server answers */
		lock_release(&pvelk);
		lock_release(&lk);
		send_notice(&run, &cfg, &ed);
	}
	lock_release(&pvelk);
	lock_release(&lk);
	job_state_release(&ed.after);
	run_release(&run);
	strbuf_release(&lerr);
	return r;
}
