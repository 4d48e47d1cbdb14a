#include "transport/serve.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/cidr.h"
#include "base/parse-util.h"
#include "base/quote.h"
#include "base/validate.h"
#include "config/datacenter.h"
#include "config/guest.h"
#include "engine/prepare.h"
#include "engine/replica.h"
#include "engine/storemap.h"

enum arg_kind {
	ARG_NONE,     /* option without a value (a flag) */
	ARG_JOBID,    /* 100-0 */
	ARG_VMID,     /* 100 */
	ARG_VOLID,    /* <storeid>:<volname> */
	ARG_EPOCH,    /* unsigned decimal, e.g. --last_sync 1714565700 */
	ARG_SIDLIST,  /* sid[,sid...] */
	ARG_SNAPNAME, /* snapshot name */
	ARG_JSON,     /* a JSON object (set-state) */
	ARG_CODEC,    /* zstd | lz4 (import --compress) */
	ARG_KEEP,     /* 1..100 (prepare/finalize --keep) */
	ARG_CIDR,     /* an IP network, 10.1.0.0/24 (import --direct, migration-ip) */
};

struct opt_rule {
	const char *name; /* with the leading "--" */
	enum arg_kind kind;
	int required;
};

struct serve_cmd;
struct serve_policy;
typedef int (*policy_fn)(const struct serve_policy *p, const struct serve_cmd *c, struct strbuf *why);

struct serve_verb {
	const char *name;
	enum arg_kind pos[2];   /* fixed positional arguments, ARG_NONE-terminated */
	enum arg_kind rest;     /* kind of further positionals, ARG_NONE: none allowed */
	size_t min_rest, max_rest;
	const struct opt_rule *opts; /* NULL-name terminated, may be NULL */
	policy_fn policy;       /* ties the command to the peer (below) */
};

/* Exactly the options the source's engine sends (engine/remote.c,
 * engine/failover.c, engine/migrate.c): no backend options, no global
 * options, nothing that names a pool, a path, a node or a config. */
static const struct opt_rule prepare_opts[] = {
	{ "--scan", ARG_SIDLIST, 0 },
	{ "--last_sync", ARG_EPOCH, 1 },
	{ "--parent_snapname", ARG_SNAPNAME, 0 },
	{ "--force", ARG_NONE, 0 },
	{ "--keep", ARG_KEEP, 0 },
	{ NULL, ARG_NONE, 0 },
};

static const struct opt_rule finalize_opts[] = {
	{ "--last_sync", ARG_EPOCH, 1 },
	{ "--keep", ARG_KEEP, 0 },
	{ NULL, ARG_NONE, 0 },
};

static const struct opt_rule import_opts[] = {
	{ "--snapshot", ARG_SNAPNAME, 1 },
	{ "--base", ARG_SNAPNAME, 0 },
	{ "--compress", ARG_CODEC, 0 },
	/* resumable receives: continue, ask for the token of, or discard
	 * an interrupted receive of the same volume and snapshot */
	{ "--resume", ARG_NONE, 0 },
	{ "--resume-token", ARG_NONE, 0 },
	{ "--abort-resume", ARG_NONE, 0 },
	/* a raw stream (zfs send -w) of an encrypted volume */
	{ "--raw", ARG_NONE, 0 },
	/* the stream over a direct TCP connection on this network
	 * (transport/direct.h): the listener is bound to this node's own
	 * address in it, the source must present the one-time token */
	{ "--direct", ARG_CIDR, 0 },
	{ NULL, ARG_NONE, 0 },
};

static int policy_none(const struct serve_policy *p, const struct serve_cmd *c, struct strbuf *why);
static int policy_job(const struct serve_policy *p, const struct serve_cmd *c, struct strbuf *why);
static int policy_import(const struct serve_policy *p, const struct serve_cmd *c, struct strbuf *why);
static int policy_set_state(const struct serve_policy *p, const struct serve_cmd *c, struct strbuf *why);
static int policy_replica_snapshots(const struct serve_policy *p, const struct serve_cmd *c, struct strbuf *why);
static int policy_replica_rollback(const struct serve_policy *p, const struct serve_cmd *c, struct strbuf *why);
static int policy_guest_start(const struct serve_policy *p, const struct serve_cmd *c, struct strbuf *why);

/* The target-side verbs of a replication run (prepare, import,
 * finalize), of a migration (set-state), of a failover
 * (replica-snapshots, replica-rollback, set-state, guest-start),
 * "migration-ip" (this node's address in datacenter.cfg's network) and
 * "version" for probing. Volume lists are bounded: a guest has at most
 * a few dozen. */
static const struct serve_verb verbs[] = {
	{ "finalize-local-job", { ARG_JOBID, ARG_NONE }, ARG_VOLID, 1, SERVE_MAX_VOLUMES, finalize_opts, policy_job },
	{ "guest-start", { ARG_VMID, ARG_NONE }, ARG_NONE, 0, 0, NULL, policy_guest_start },
	{ "import", { ARG_VOLID, ARG_NONE }, ARG_NONE, 0, 0, import_opts, policy_import },
	{ "migration-ip", { ARG_CIDR, ARG_NONE }, ARG_NONE, 0, 0, NULL, policy_none },
	{ "prepare-local-job", { ARG_JOBID, ARG_NONE }, ARG_VOLID, 0, SERVE_MAX_VOLUMES, prepare_opts, policy_job },
	{ "replica-rollback", { ARG_VMID, ARG_SNAPNAME }, ARG_VOLID, 1, SERVE_MAX_VOLUMES, NULL,
	  policy_replica_rollback },
	{ "replica-snapshots", { ARG_VMID, ARG_NONE }, ARG_VOLID, 1, SERVE_MAX_VOLUMES, NULL,
	  policy_replica_snapshots },
	{ "set-state", { ARG_VMID, ARG_JSON }, ARG_NONE, 0, 0, NULL, policy_set_state },
	{ "version", { ARG_NONE, ARG_NONE }, ARG_NONE, 0, 0, NULL, policy_none },
};

/* Quote an offending value for a message: printable, at most 64 bytes. */
static void add_value(struct strbuf *sb, const char *v)
{
	size_t n = 0;

	strbuf_addch(sb, '\'');
	for (; *v && n < 64; v++, n++) {
		unsigned char c = (unsigned char)*v;

		strbuf_addch(sb, c < 0x20 || c >= 0x7f ? '?' : (char)c);
	}
	if (*v)
		strbuf_addstr(sb, "...");
	strbuf_addch(sb, '\'');
}

static int refuse(struct strbuf *why, const char *what, const char *value)
{
	if (why) {
		strbuf_reset(why);
		strbuf_addstr(why, what);
		if (value) {
			strbuf_addch(why, ' ');
			add_value(why, value);
		}
	}
	return -EINVAL;
}

static int valid_volid(const char *s)
{
	const char *colon = strchr(s, ':');
	char sid[65];
	size_t n;

	if (!colon)
		return 0;
	n = (size_t)(colon - s);
	if (n >= sizeof(sid))
		return 0;
	memcpy(sid, s, n);
	sid[n] = '\0';
	return valid_storage_id(sid) && valid_volname(colon + 1);
}

static int valid_sidlist(const char *s)
{
	char sid[65];
	size_t n;

	if (!*s)
		return 0;
	for (;;) {
		n = strcspn(s, ",");
		if (!n || n >= sizeof(sid))
			return 0;
		memcpy(sid, s, n);
		sid[n] = '\0';
		if (!valid_storage_id(sid))
			return 0;
		if (!s[n])
			return 1;
		s += n + 1;
	}
}

static int valid_json_object(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, JSON_REJECT_DUPLICATES, &e);
	int ok = j && json_is_object(j);

	json_decref(j);
	return ok;
}

static int valid_arg(enum arg_kind kind, const char *s)
{
	uint64_t v;

	switch (kind) {
	case ARG_JOBID:
		return valid_job_id(s, NULL, NULL);
	case ARG_VMID:
		return valid_vmid(s);
	case ARG_VOLID:
		return valid_volid(s);
	case ARG_EPOCH:
		/* canonical decimal only: "0" or no leading zero, at most 12 digits */
		return strlen(s) <= 12 && (s[0] != '0' || !s[1]) && strspn(s, "0123456789") == strlen(s) &&
		       parse_u64(s, &v) == 0;
	case ARG_SIDLIST:
		return valid_sidlist(s);
	case ARG_SNAPNAME:
		return valid_snapshot_name(s);
	case ARG_JSON:
		return s[0] == '{' && valid_json_object(s);
	case ARG_CODEC:
		return !strcmp(s, "zstd") || !strcmp(s, "lz4");
	case ARG_KEEP:
		/* canonical decimal, 1..100 (JOB_KEEP_MAX) */
		return strlen(s) <= 3 && s[0] >= '1' && s[0] <= '9' && strspn(s, "0123456789") == strlen(s) &&
		       parse_u64(s, &v) == 0 && v <= 100;
	case ARG_CIDR: {
		struct cidr c;

		return cidr_parse(s, &c) == 0;
	}
	case ARG_NONE:
		break;
	}
	return 0;
}

static const char *kind_name(enum arg_kind kind)
{
	static const char *const names[] = {
		[ARG_NONE] = "flag", [ARG_JOBID] = "job id", [ARG_VMID] = "guest id",
		[ARG_VOLID] = "volume id", [ARG_EPOCH] = "number", [ARG_SIDLIST] = "storage list",
		[ARG_SNAPNAME] = "snapshot name",
		[ARG_JSON] = "JSON object",
		[ARG_CODEC] = "codec (zstd, lz4)",
		[ARG_KEEP] = "snapshot count (1..100)",
		[ARG_CIDR] = "network (address/prefix)",
	};
	return names[kind];
}

void serve_cmd_release(struct serve_cmd *c)
{
	strvec_clear(&c->words);
	memset(c, 0, sizeof(*c));
	c->words = (struct strvec)STRVEC_INIT;
}

static int opt_index(const struct serve_verb *vr, const char *a)
{
	for (size_t k = 0; vr->opts && vr->opts[k].name; k++)
		if (!strcmp(vr->opts[k].name, a))
			return (int)k;
	return -1;
}

/* Fill c from args (after the verb) per the verb's grammar. */
static int parse_args(const struct serve_verb *vr, char *const *args, struct serve_cmd *c, struct strbuf *why)
{
	size_t npos = 0, nfixed = 0;
	struct strbuf msg = STRBUF_INIT;
	int r = 0;

	while (nfixed < 2 && vr->pos[nfixed] != ARG_NONE)
		nfixed++;
	for (size_t i = 0; args[i]; i++) {
		const char *a = args[i];
		enum arg_kind kind;

		if (!strncmp(a, "--", 2)) {
			int k = opt_index(vr, a);

			if (k < 0) {
				strbuf_addf(&msg, "option not allowed for '%s':", vr->name);
				r = refuse(why, msg.buf, a);
				goto out;
			}
			if (c->opt[k]) {
				r = refuse(why, "repeated option", a);
				goto out;
			}
			kind = vr->opts[k].kind;
			if (kind == ARG_NONE) {
				c->opt[k] = "";
				continue;
			}
			if (!args[i + 1]) {
				r = refuse(why, "option needs a value:", a);
				goto out;
			}
			if (!valid_arg(kind, args[++i])) {
				strbuf_addf(&msg, "invalid %s for '%s':", kind_name(kind), a);
				r = refuse(why, msg.buf, args[i]);
				goto out;
			}
			c->opt[k] = args[i];
			continue;
		}
		if (npos < nfixed) {
			kind = vr->pos[npos];
		} else if (vr->rest != ARG_NONE && c->nrest < vr->max_rest) {
			kind = vr->rest;
		} else {
			strbuf_addf(&msg, "too many arguments for '%s':", vr->name);
			r = refuse(why, msg.buf, a);
			goto out;
		}
		if (!valid_arg(kind, a)) {
			strbuf_addf(&msg, "invalid %s for '%s':", kind_name(kind), vr->name);
			r = refuse(why, msg.buf, a);
			goto out;
		}
		if (npos < nfixed)
			c->pos[npos++] = a;
		else
			c->rest[c->nrest++] = a;
	}
	if (npos < nfixed) {
		strbuf_addf(&msg, "missing %s for '%s'", kind_name(vr->pos[npos]), vr->name);
		r = refuse(why, msg.buf, NULL);
		goto out;
	}
	if (c->nrest < vr->min_rest) {
		strbuf_addf(&msg, "missing %s for '%s'", kind_name(vr->rest), vr->name);
		r = refuse(why, msg.buf, NULL);
		goto out;
	}
	for (size_t k = 0; vr->opts && vr->opts[k].name; k++)
		if (vr->opts[k].required && !c->opt[k]) {
			strbuf_addf(&msg, "missing option for '%s':", vr->name);
			r = refuse(why, msg.buf, vr->opts[k].name);
			goto out;
		}
out:
	strbuf_release(&msg);
	return r;
}

static int check_words(char *const *words, struct serve_cmd *c, struct strbuf *why)
{
	if (!words[0])
		return refuse(why, "empty command", NULL);
	if (strcmp(words[0], "volrep"))
		return refuse(why, "not a volrep command:", words[0]);
	if (!words[1])
		return refuse(why, "no verb given", NULL);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(verbs[i].name, words[1])) {
			c->verb = &verbs[i];
			c->name = verbs[i].name;
			return parse_args(&verbs[i], words + 2, c, why);
		}
	return refuse(why, "verb not allowed:", words[1]);
}

static int parse_into(struct strvec *words, struct serve_cmd *c, struct strbuf *why)
{
	int r;

	serve_cmd_release(c);
	c->words = *words;
	*words = (struct strvec)STRVEC_INIT;
	r = check_words(c->words.v, c, why);
	if (r < 0)
		serve_cmd_release(c);
	return r;
}

int serve_parse_cmd(const char *cmd, size_t len, struct serve_cmd *c, struct strbuf *why)
{
	struct strvec words = STRVEC_INIT;
	int r = sq_split_strict(cmd, len, &words, why);

	if (r < 0) {
		strvec_clear(&words);
		serve_cmd_release(c);
		return -EINVAL;
	}
	return parse_into(&words, c, why);
}

const char *serve_cmd_opt(const struct serve_cmd *c, const char *name)
{
	int k = c->verb ? opt_index(c->verb, name) : -1;

	return k < 0 ? NULL : c->opt[k];
}

void serve_cmd_argv(const struct serve_cmd *c, struct strvec *argv)
{
	const struct serve_verb *vr = c->verb;

	strvec_push(argv, vr->name);
	for (size_t i = 0; i < 2 && c->pos[i]; i++)
		strvec_push(argv, c->pos[i]);
	for (size_t i = 0; i < c->nrest; i++)
		strvec_push(argv, c->rest[i]);
	for (size_t k = 0; vr->opts && vr->opts[k].name; k++) {
		if (!c->opt[k])
			continue;
		strvec_push(argv, vr->opts[k].name);
		if (vr->opts[k].kind != ARG_NONE)
			strvec_push(argv, c->opt[k]);
	}
}

int serve_parse(const char *cmd, size_t len, struct strvec *out, struct strbuf *why)
{
	struct serve_cmd c = SERVE_CMD_INIT;
	int r = serve_parse_cmd(cmd, len, &c, why);

	if (r == 0)
		serve_cmd_argv(&c, out);
	serve_cmd_release(&c);
	return r;
}

int serve_check(const char *const *words, struct strbuf *why)
{
	struct serve_cmd c = SERVE_CMD_INIT;
	struct strvec copy = STRVEC_INIT;
	int r;

	strvec_pushv(&copy, words);
	r = parse_into(&copy, &c, why);
	serve_cmd_release(&c);
	return r;
}

/* ---- the policy: what the peer may do with this node's data ----
 *
 * Every check reads this node's own cluster config (p->cc). The peer's
 * key is trusted to speak for the peer node and nothing more: it may
 * replicate the peer's own guests here, and take part in the migration
 * and failover flows of guests it has a stake in (docs/security.md). */

static int deny(struct strbuf *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int deny(struct strbuf *why, const char *fmt, ...)
{
	va_list ap;

	if (why) {
		strbuf_reset(why);
		va_start(ap, fmt);
		strbuf_vaddf(why, fmt, ap);
		va_end(ap);
	}
	return -EACCES;
}

static uint32_t vmid_of(const char *s)
{
	uint64_t v = 0;

	parse_u64(s, &v);
	return (uint32_t)v;
}

/* The guest vmid, which must exist in this node's config. */
static int find_guest(const struct serve_policy *p, uint32_t vmid, const struct guest **g, struct strbuf *why)
{
	*g = guests_find(&p->cc->guests, vmid);
	if (!*g)
		return deny(why, "no guest '%" PRIu32 "' in this node's config", vmid);
	return 0;
}

/* The guest vmid, which must live on the peer. */
static int peer_guest(const struct serve_policy *p, uint32_t vmid, const struct guest **g, struct strbuf *why)
{
	int r = find_guest(p, vmid, g, why);

	if (r < 0)
		return r;
	if (strcmp((*g)->node, p->peer))
		return deny(why, "guest '%" PRIu32 "' lives on '%s', not on peer '%s'", vmid, (*g)->node, p->peer);
	return 0;
}

static int has_job_to(const struct serve_policy *p, uint32_t vmid, const char *node)
{
	return jobs_cfg_find_target(&p->cc->jobs, vmid, node) != NULL;
}

/* A job id of a guest: a configured job must replicate to this node; an
 * unconfigured one is a migration's full copy to a node without a job. */
static int job_here(const struct serve_policy *p, const char *jobid, struct strbuf *why)
{
	const struct repl_job *job = jobs_cfg_find(&p->cc->jobs, jobid);

	if (job && strcmp(job->target, p->self))
		return deny(why, "job '%s' replicates to '%s', not to this node", jobid, job->target);
	return 0;
}

/* Every volid is a volume of g's config, on a storage of storage.cfg,
 * named for g. */
static int guest_volumes(const struct serve_policy *p, const struct guest *g, const char *const *volids, size_t n,
			 struct strbuf *why)
{
	struct volume_list vl = { 0 };
	struct strbuf e = STRBUF_INIT;
	int r = 0;

	if (cluster_guest_volumes(p->cc, g, GUEST_VOL_CLEANUP, &vl, &e) < 0) {
		r = deny(why, "cannot read the volumes of guest '%" PRIu32 "': %s", g->vmid, e.buf);
		goto out;
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		char sid[STOREID_MAX + 1];
		const char *volname;
		const struct storage *st;
		uint32_t owner = 0;
		int is_image = 0, found = 0;

		strbuf_reset(&e);
		if (volid_parse(volids[i], sid, &volname, &e) < 0 || !(st = storage_cfg_find(&p->cc->storages, sid)) ||
		    volname_parse(st->stype, volname, &owner, &is_image) < 0 || owner != g->vmid) {
			r = deny(why, "volume '%s' is not a volume of guest '%" PRIu32 "'", volids[i], g->vmid);
			break;
		}
		for (size_t k = 0; k < vl.nr && !found; k++)
			found = !strcmp(vl.v[k].volid, volids[i]);
		if (!found)
			r = deny(why, "volume '%s' is not in the config of guest '%" PRIu32 "'", volids[i], g->vmid);
	}
out:
	volume_list_release(&vl);
	strbuf_release(&e);
	return r;
}

/* A replication snapshot "__replicate_<jobid>_<t>__" of a job of guest
 * vmid; its job id into jobid. */
static int guest_snapshot(uint32_t vmid, const char *snap, char *jobid, size_t size, struct strbuf *why)
{
	size_t pl = strlen(REPL_SNAP_PREFIX), n;
	uint32_t owner = 0;
	int64_t t;

	if (!repl_snap_time(snap, &t))
		return deny(why, "'%s' is not a replication snapshot", snap);
	n = strcspn(snap + pl, "_");
	if (n >= size)
		return deny(why, "'%s' is not a replication snapshot", snap);
	memcpy(jobid, snap + pl, n);
	jobid[n] = '\0';
	if (!valid_job_id(jobid, &owner, NULL) || owner != vmid)
		return deny(why, "snapshot '%s' is not one of guest '%" PRIu32 "'", snap, vmid);
	return 0;
}

static int policy_none(const struct serve_policy *p, const struct serve_cmd *c, struct strbuf *why)
{
	(void)p;
	(void)c;
	(void)why;
	return 0;
}

/* prepare-local-job, finalize-local-job: a job of a guest of the peer
 * to this node, the guest's own volumes. */
static int policy_job(const struct serve_policy *p, const struct serve_cmd *c, struct strbuf *why)
{
	const struct guest *g;
	uint32_t vmid = 0;
	int r;

	if (!valid_job_id(c->pos[0], &vmid, NULL))
		return deny(why, "invalid job id '%s'", c->pos[0]);
	r = peer_guest(p, vmid, &g, why);
	if (r == 0)
		r = job_here(p, c->pos[0], why);
	if (r == 0)
		r = guest_volumes(p, g, c->rest, c->nrest, why);
	return r;
}

/* import: into a volume of a guest of the peer, a replication snapshot
 * of that guest's job to this node (and its base). */
static int policy_import(const struct serve_policy *p, const struct serve_cmd *c, struct strbuf *why)
{
	const char *volid = c->pos[0], *volname, *base = serve_cmd_opt(c, "--base");
	char sid[STOREID_MAX + 1], jobid[32];
	const struct storage *st;
	const struct guest *g;
	uint32_t owner = 0;
	int is_image = 0, r;

	if (volid_parse(volid, sid, &volname, NULL) < 0 || !(st = storage_cfg_find(&p->cc->storages, sid)))
		return deny(why, "volume '%s' is not on a storage of this node's storage.cfg", volid);
	if (volname_parse(st->stype, volname, &owner, &is_image) < 0 || !owner)
		return deny(why, "volume '%s' does not belong to a guest", volid);
	r = peer_guest(p, owner, &g, why);
	if (r == 0)
		r = guest_volumes(p, g, &volid, 1, why);
	if (r == 0)
		r = guest_snapshot(owner, serve_cmd_opt(c, "--snapshot"), jobid, sizeof(jobid), why);
	if (r == 0)
		r = job_here(p, jobid, why);
	if (r == 0 && base)
		r = guest_snapshot(owner, base, jobid, sizeof(jobid), why);
	return r;
}

/* set-state: the state a migration hands over with a guest of the peer,
 * or the empty state a failover run from a node holding a replica sets
 * before it moves a third node's guest here. */
static int policy_set_state(const struct serve_policy *p, const struct serve_cmd *c, struct strbuf *why)
{
	uint32_t vmid = vmid_of(c->pos[0]);
	const struct guest *g;
	json_t *j;
	int empty, r = find_guest(p, vmid, &g, why);

	if (r < 0)
		return r;
	if (!strcmp(g->node, p->peer))
		return 0;
	if (!strcmp(g->node, p->self))
		return deny(why, "guest '%" PRIu32 "' lives on this node", vmid);
	j = json_loads(c->pos[1], JSON_REJECT_DUPLICATES, NULL);
	empty = j && json_is_object(j) && json_object_size(j) == 0;
	json_decref(j);
	if (!empty)
		return deny(why, "guest '%" PRIu32 "' lives on '%s': peer '%s' may only clear its state", vmid,
			    g->node, p->peer);
	if (!has_job_to(p, vmid, p->self) || !has_job_to(p, vmid, p->peer))
		return deny(why, "guest '%" PRIu32 "' has no replicas on both this node and peer '%s'", vmid, p->peer);
	return 0;
}

/* replica-snapshots (read only): a replica here of a guest that lives
 * elsewhere, asked by its node or a node holding a replica too. */
static int policy_replica_snapshots(const struct serve_policy *p, const struct serve_cmd *c, struct strbuf *why)
{
	uint32_t vmid = vmid_of(c->pos[0]);
	const struct guest *g;
	int r = find_guest(p, vmid, &g, why);

	if (r < 0)
		return r;
	if (!strcmp(g->node, p->self))
		return deny(why, "guest '%" PRIu32 "' lives on this node", vmid);
	if (!has_job_to(p, vmid, p->self))
		return deny(why, "guest '%" PRIu32 "' has no job to this node", vmid);
	if (strcmp(g->node, p->peer) && !has_job_to(p, vmid, p->peer))
		return deny(why, "guest '%" PRIu32 "' has no job to peer '%s'", vmid, p->peer);
	return guest_volumes(p, g, c->rest, c->nrest, why);
}

/* replica-rollback (failover): the replica here of a guest of a third
 * node, asked by a node holding a replica too. The owner of a guest
 * never rolls back a replica remotely (it migrates). */
static int policy_replica_rollback(const struct serve_policy *p, const struct serve_cmd *c, struct strbuf *why)
{
	uint32_t vmid = vmid_of(c->pos[0]);
	const struct guest *g;
	char jobid[32];
	int r = find_guest(p, vmid, &g, why);

	if (r < 0)
		return r;
	if (!strcmp(g->node, p->self))
		return deny(why, "guest '%" PRIu32 "' lives on this node", vmid);
	if (!strcmp(g->node, p->peer))
		return deny(why, "guest '%" PRIu32 "' lives on peer '%s' (a live guest is migrated, not failed over)",
			    vmid, p->peer);
	if (!has_job_to(p, vmid, p->self) || !has_job_to(p, vmid, p->peer))
		return deny(why, "guest '%" PRIu32 "' has no replicas on both this node and peer '%s'", vmid, p->peer);
	r = guest_snapshot(vmid, c->pos[1], jobid, sizeof(jobid), why);
	if (r == 0)
		r = guest_volumes(p, g, c->rest, c->nrest, why);
	return r;
}

/* guest-start (failover's last step): a guest the config now places on
 * this node, with a job to the peer (after the failover's rewrite, the
 * peer's replica job starts here), and without any replication state
 * here: the failover cleared it (set-state '{}') before it moved the
 * config. A guest that has been running jobs from here is not one that
 * was just failed over. */
static int policy_guest_start(const struct serve_policy *p, const struct serve_cmd *c, struct strbuf *why)
{
	uint32_t vmid = vmid_of(c->pos[0]);
	const struct guest *g;
	char *json = NULL;
	int r = find_guest(p, vmid, &g, why);

	if (r < 0)
		return r;
	if (strcmp(g->node, p->self))
		return deny(why, "guest '%" PRIu32 "' does not live on this node", vmid);
	if (!has_job_to(p, vmid, p->peer))
		return deny(why, "guest '%" PRIu32 "' has no job to peer '%s'", vmid, p->peer);
	if (!p->state)
		return deny(why, "no replication state of this node");
	if (state_extract_guest(p->state, vmid, p->peer, p->peer, &json) < 0 || strcmp(json, "{}"))
		r = deny(why, "guest '%" PRIu32 "' has replication state here: it was not just failed over", vmid);
	free(json);
	return r;
}

int serve_verb_needs_config(const struct serve_cmd *c)
{
	return c->verb && c->verb->policy != policy_none;
}

int serve_policy_check(const struct serve_policy *p, const struct serve_cmd *c, struct strbuf *why)
{
	if (!c->verb)
		return deny(why, "no command");
	if (!p->peer || c->verb->policy == policy_none)
		return 0;
	if (!p->cc)
		return deny(why, "no cluster config");
	if (!strcmp(p->peer, p->self))
		return deny(why, "peer '%s' is this node", p->peer);
	if (!nodes_cfg_find(&p->cc->nodes, p->peer))
		return deny(why, "peer '%s' is not a node of this node's nodes.cfg", p->peer);
	return c->verb->policy(p, c, why);
}
