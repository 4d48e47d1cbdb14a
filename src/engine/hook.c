#include "engine/hook.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/sanitize.h"
#include "exec/spawn.h"

/* what we keep of a hook's output: a message, not a log */
#define HOOK_OUTPUT_MAX 65536
/* run_hook: no hook file (beyond every exit code and 128 + signal) */
#define HOOK_MISSING 1000

void guest_hook_path(struct strbuf *sb, const char *config_dir, enum guest_type t)
{
	strbuf_addf(sb, "%s/hooks/%s", config_dir, guest_type_name(t));
}

/* The last non-empty line of text, printable, at most 200 bytes. */
static void last_line(struct strbuf *out, const char *text)
{
	const char *end = text + strlen(text), *start;

	while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	start = end;
	while (start > text && start[-1] != '\n')
		start--;
	strbuf_add_sanitized(out, start, end - start > 200 ? 200 : (size_t)(end - start), 0);
}

/* A hook runs as root: it and its directory must be root's (or the
 * user's) and writable by no one else, or whoever can write there runs
 * code as root. */
static int check_hook(const char *path, const struct stat *st, struct strbuf *msg)
{
	struct strbuf dir = STRBUF_INIT, why = STRBUF_INIT;
	int r = 0;

	strbuf_add(&dir, path, (size_t)(strrchr(path, '/') - path));
	if (!S_ISREG(st->st_mode)) {
		strbuf_addf(msg, "hook '%s' is not a regular file - not run", path);
		r = -EPERM;
	} else if ((st->st_uid != 0 && st->st_uid != geteuid()) || (st->st_mode & (S_IWGRP | S_IWOTH))) {
		strbuf_addf(msg, "hook '%s' is writable by others than root (uid %u, mode %04o) - not run", path,
			    (unsigned)st->st_uid, (unsigned)(st->st_mode & 07777));
		r = -EPERM;
	} else if (check_private_dir(dir.buf, "hook directory", &why) < 0) {
		strbuf_addf(msg, "%s - hook not run", why.buf);
		r = -EPERM;
	}
	strbuf_release(&dir);
	strbuf_release(&why);
	return r;
}

/* Run the hook; returns its exit code, HOOK_MISSING when there is none, or
 * -errno. */
static int run_hook(const char *config_dir, const char *node, enum guest_type t, const char *action,
		    uint32_t vmid, struct strbuf *errout, struct strbuf *msg)
{
	struct strbuf path = STRBUF_INIT;
	struct child c = CHILD_INIT;
	struct stat st;
	int r;

	guest_hook_path(&path, config_dir, t);
	if (stat(path.buf, &st) < 0 && errno == ENOENT) {
		strbuf_release(&path);
		return HOOK_MISSING;
	}
	r = check_hook(path.buf, &st, msg);
	if (r < 0) {
		strbuf_release(&path);
		return r;
	}
	strvec_push(&c.args, path.buf);
	strvec_push(&c.args, action);
	strvec_pushf(&c.args, "%" PRIu32, vmid);
	strvec_pushf(&c.env, "VOLREP_NODE=%s", node);
	r = child_capture(&c, NULL, 0, NULL, errout, HOOK_OUTPUT_MAX);
	if (r < 0)
		strbuf_addf(msg, "cannot run hook '%s': %s", path.buf, strerror(-r));
	strbuf_release(&path);
	return r;
}

static void describe(struct strbuf *err, const char *config_dir, enum guest_type t, const char *action,
		     uint32_t vmid, int code, const char *stderr_text)
{
	char st[64];

	strbuf_addstr(err, "hook '");
	guest_hook_path(err, config_dir, t);
	strbuf_addf(err, "' %s %" PRIu32 " failed (%s)", action, vmid, exit_status_str(code, st, sizeof(st)));
	if (stderr_text && *stderr_text) {
		strbuf_addstr(err, ": ");
		last_line(err, stderr_text);
	}
}

static int start_stop(const char *config_dir, const char *node, enum guest_type t, const char *action,
		      uint32_t vmid, struct strbuf *err)
{
	struct strbuf e = STRBUF_INIT;
	int r = run_hook(config_dir, node, t, action, vmid, &e, err);

	if (r == HOOK_MISSING || r == 0) {
		r = 0;
	} else if (r > 0) {
		describe(err, config_dir, t, action, vmid, r, e.buf);
		r = -EIO;
	}
	strbuf_release(&e);
	return r;
}

int guest_hook_start(const char *config_dir, const char *node, enum guest_type t, uint32_t vmid,
		     struct strbuf *err)
{
	return start_stop(config_dir, node, t, "start", vmid, err);
}

int guest_hook_stop(const char *config_dir, const char *node, enum guest_type t, uint32_t vmid,
		    struct strbuf *err)
{
	return start_stop(config_dir, node, t, "stop", vmid, err);
}

int guest_hook_running(const char *config_dir, const char *node, enum guest_type t, uint32_t vmid,
		       struct strbuf *err)
{
	struct strbuf e = STRBUF_INIT;
	int r = run_hook(config_dir, node, t, "status", vmid, &e, err);

	if (r == HOOK_MISSING || r == HOOK_STATUS_STOPPED) {
		r = 0;
	} else if (r == HOOK_STATUS_RUNNING) {
		r = 1;
	} else if (r > 0) {
		describe(err, config_dir, t, "status", vmid, r, e.buf);
		r = -EIO;
	}
	strbuf_release(&e);
	return r;
}
