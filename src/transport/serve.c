#include "transport/serve.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "base/parse-util.h"
#include "base/quote.h"
#include "base/validate.h"

enum arg_kind {
	ARG_NONE,     /* option without a value (a flag) */
	ARG_JOBID,    /* 100-0 */
	ARG_VMID,     /* 100 */
	ARG_VOLID,    /* <storeid>:<volname> */
	ARG_EPOCH,    /* unsigned decimal, e.g. --last_sync 1714565700 */
	ARG_SIDLIST,  /* sid[,sid...] */
	ARG_SNAPNAME, /* snapshot name */
	ARG_BOOL,     /* 0 or 1 */
	ARG_WORD,     /* [a-z0-9]+, e.g. a stream format "zfs" */
	ARG_TOKEN,    /* conservative catch-all: [A-Za-z0-9_.:,@+=/-], no leading '-', no ".." */
	ARG_JSON,     /* a JSON object (set-state) */
};

struct opt_rule {
	const char *name; /* with the leading "--" */
	enum arg_kind kind;
};

struct verb_rule {
	const char *name;
	enum arg_kind pos[2];   /* fixed positional arguments, ARG_NONE-terminated */
	enum arg_kind rest;     /* kind of further positionals, ARG_NONE: none allowed */
	size_t max_rest;
	const struct opt_rule *opts; /* NULL-name terminated, may be NULL */
	/* also accept unlisted "--name value" options (name [a-z][a-z0-9_-]*,
	 * value ARG_TOKEN): import's options belong to the storage backends,
	 * and every value is still checked here and again by the verb */
	int open_opts;
};

static const struct opt_rule prepare_opts[] = {
	{ "--scan", ARG_SIDLIST },
	{ "--last_sync", ARG_EPOCH },
	{ "--parent_snapname", ARG_SNAPNAME },
	{ "--force", ARG_NONE },
	{ NULL, ARG_NONE },
};

static const struct opt_rule finalize_opts[] = {
	{ "--last_sync", ARG_EPOCH },
	{ NULL, ARG_NONE },
};

static const struct opt_rule import_opts[] = {
	{ "--snapshot", ARG_SNAPNAME },
	{ "--base", ARG_SNAPNAME },
	{ "--with-snapshots", ARG_BOOL },
	{ "--allow-rename", ARG_BOOL },
	{ "--format", ARG_WORD },
	{ "--jobid", ARG_JOBID },
	{ NULL, ARG_NONE },
};

/* The target-side verbs (pvesr-behaviour.md §4.5, §4.6), those of failover
 * (engine/replica.h, guest-start) and "version" for probing. Volume lists are bounded: a guest has at most a few dozen. */
static const struct verb_rule verbs[] = {
	{ "finalize-local-job", { ARG_JOBID, ARG_NONE }, ARG_VOLID, 256, finalize_opts, 0 },
	{ "guest-start", { ARG_VMID, ARG_NONE }, ARG_NONE, 0, NULL, 0 },
	{ "import", { ARG_VOLID, ARG_NONE }, ARG_NONE, 0, import_opts, 1 },
	{ "prepare-local-job", { ARG_JOBID, ARG_NONE }, ARG_VOLID, 256, prepare_opts, 0 },
	{ "replica-rollback", { ARG_VMID, ARG_SNAPNAME }, ARG_VOLID, 256, NULL, 0 },
	{ "replica-snapshots", { ARG_VMID, ARG_NONE }, ARG_VOLID, 256, NULL, 0 },
	{ "set-state", { ARG_VMID, ARG_JSON }, ARG_NONE, 0, NULL, 0 },
	{ "version", { ARG_NONE, ARG_NONE }, ARG_NONE, 0, NULL, 0 },
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

static int valid_token(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 255 || s[0] == '-' || strstr(s, ".."))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      strchr("_.:,@+=/-", *s)))
			return 0;
	return 1;
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
	case ARG_BOOL:
		return !strcmp(s, "0") || !strcmp(s, "1");
	case ARG_WORD:
		return *s && strlen(s) <= 32 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789") == strlen(s);
	case ARG_TOKEN:
		return valid_token(s);
	case ARG_JSON:
		return s[0] == '{' && valid_json_object(s);
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
		[ARG_SNAPNAME] = "snapshot name", [ARG_BOOL] = "0 or 1", [ARG_WORD] = "word",
		[ARG_TOKEN] = "value", [ARG_JSON] = "JSON object",
	};
	return names[kind];
}

static int valid_open_opt_name(const char *s)
{
	size_t n;

	if (strncmp(s, "--", 2) || !(s[2] >= 'a' && s[2] <= 'z'))
		return 0;
	n = strlen(s + 2);
	return n <= 32 && strspn(s + 2, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/* Options of the verbs that name a storage location outright instead of
 * a storage of storage.cfg: a caller of the gate would choose where data
 * lands (any pool, any directory), bypassing the node's storage checks. */
static const char *const location_opts[] = { "--zfs-pool", "--btrfs-path", NULL };

static int location_opt(const char *a)
{
	for (size_t k = 0; location_opts[k]; k++)
		if (!strcmp(location_opts[k], a))
			return 1;
	return 0;
}

static int check_verb(const struct verb_rule *vr, const char *const *args, struct strbuf *why)
{
	const char *seen[64];
	size_t nseen = 0, npos = 0, nrest = 0, nfixed = 0;
	struct strbuf msg = STRBUF_INIT;
	int r = 0;

	while (nfixed < 2 && vr->pos[nfixed] != ARG_NONE)
		nfixed++;
	for (size_t i = 0; args[i]; i++) {
		const char *a = args[i];

		if (!strncmp(a, "--", 2)) {
			const struct opt_rule *o = NULL;
			enum arg_kind kind;

			for (size_t k = 0; vr->opts && vr->opts[k].name; k++)
				if (!strcmp(vr->opts[k].name, a))
					o = &vr->opts[k];
			if (o)
				kind = o->kind;
			else if (vr->open_opts && valid_open_opt_name(a) && !location_opt(a))
				kind = ARG_TOKEN;
			else {
				strbuf_addf(&msg, "option not allowed for '%s':", vr->name);
				r = refuse(why, msg.buf, a);
				goto out;
			}
			for (size_t k = 0; k < nseen; k++)
				if (!strcmp(seen[k], a)) {
					r = refuse(why, "repeated option", a);
					goto out;
				}
			if (nseen == sizeof(seen) / sizeof(seen[0])) {
				r = refuse(why, "too many options", NULL);
				goto out;
			}
			seen[nseen++] = a;
			if (kind == ARG_NONE)
				continue;
			if (!args[i + 1]) {
				r = refuse(why, "option needs a value:", a);
				goto out;
			}
			if (!valid_arg(kind, args[++i])) {
				strbuf_addf(&msg, "invalid %s for '%s':", kind_name(kind), a);
				r = refuse(why, msg.buf, args[i]);
				goto out;
			}
			continue;
		}
		enum arg_kind kind;

		if (npos < nfixed) {
			kind = vr->pos[npos++];
		} else if (vr->rest != ARG_NONE && nrest < vr->max_rest) {
			kind = vr->rest;
			nrest++;
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
	}
	if (npos < nfixed) {
		strbuf_addf(&msg, "missing %s for '%s'", kind_name(vr->pos[npos]), vr->name);
		r = refuse(why, msg.buf, NULL);
	}
out:
	strbuf_release(&msg);
	return r;
}

int serve_check(const char *const *words, struct strbuf *why)
{
	if (!words[0])
		return refuse(why, "empty command", NULL);
	if (strcmp(words[0], "volrep"))
		return refuse(why, "not a volrep command:", words[0]);
	if (!words[1])
		return refuse(why, "no verb given", NULL);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(verbs[i].name, words[1]))
			return check_verb(&verbs[i], words + 2, why);
	return refuse(why, "verb not allowed:", words[1]);
}

int serve_parse(const char *cmd, size_t len, struct strvec *out, struct strbuf *why)
{
	struct strvec words = STRVEC_INIT;
	int r = sq_split_strict(cmd, len, &words, why);

	if (r >= 0)
		r = serve_check((const char *const *)words.v, why);
	if (r >= 0) {
		strvec_pushv(out, (const char *const *)words.v + 1);
		r = 0;
	}
	strvec_clear(&words);
	return r;
}
