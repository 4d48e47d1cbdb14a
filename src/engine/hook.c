#include "engine/hook.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
	for (size_t i = 0; start + i < end && i < 200; i++) {
		unsigned char c = (unsigned char)start[i];

		strbuf_addch(out, c < 0x20 || c == 0x7f ? '?' : (char)c);
	}
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
