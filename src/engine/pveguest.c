#include "engine/pveguest.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/parse-util.h"
#include "base/strbuf.h"
#include "engine/pvelock.h"
#include "engine/qga.h"

/* PVE's own waits (PVE::QMPClient, PVE::QemuServer::Agent) */
#define QGA_PING_MS 3000L
#define QGA_DEFAULT_MS 5000L
#define QGA_FREEZE_MS (10L * 60 * 1000)

int pve_guest_state_on(void)
{
	const char *e = getenv("VOLREP_GUEST_STATE");

	return pve_mode() || (e && !strcmp(e, "pve"));
}

static const char *run_dir(void)
{
	const char *d = getenv("VOLREP_PVE_RUN_DIR");

	return d && *d ? d : PVE_RUN_DIR;
}

int pve_unix_table_has_ct(const char *text, size_t len, uint32_t vmid)
{
	char want[64];
	const char *p = text, *end = text + len;

	snprintf(want, sizeof(want), "@/var/lib/lxc/%" PRIu32 "/command", vmid);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *f[9];
		size_t fl[9], nf = 0;
		const char *q = p;

		/* "Num RefCount Protocol Flags Type St Inode Path": the inode a
		 * number, the path the last field (pve-container's pattern) */
		while (q < le && nf < 9) {
			while (q < le && (*q == ' ' || *q == '\t'))
				q++;
			if (q == le)
				break;
			f[nf] = q;
			while (q < le && *q != ' ' && *q != '\t')
				q++;
			fl[nf] = (size_t)(q - f[nf]);
			nf++;
		}
		if (nf == 8 && fl[0] >= 2 && f[0][fl[0] - 1] == ':' && strspn(f[0], "0123456789abcdef") == fl[0] - 1 &&
		    strspn(f[6], "0123456789") == fl[6] && fl[7] == strlen(want) && !memcmp(f[7], want, fl[7]))
			return 1;
		p = nl ? nl + 1 : end;
	}
	return 0;
}

int pve_qemu_cmdline_matches(const char *cmdline, size_t len, const char *pidfile)
{
	const char *p = cmdline, *end = cmdline + len, *a0, *slash;
	int pending_pidfile = 0;
	size_t n;

	if (!len)
		return 0;
	a0 = cmdline;
	n = strnlen(a0, len);
	/* argv[0]: ...kvm, or qemu-<something> as the last path component */
	slash = memrchr(a0, '/', n);
	slash = slash ? slash + 1 : a0;
	if (!(n >= 3 && !memcmp(a0 + n - 3, "kvm", 3)) &&
	    !((size_t)(a0 + n - slash) > 5 && !memcmp(slash, "qemu-", 5)))
		return 0;
	p += n + 1;
	while (p < end) {
		size_t m = strnlen(p, (size_t)(end - p));

		if (m && p[0] == '-') {
			const char *opt = p + 1 + (m > 1 && p[1] == '-');

			pending_pidfile = (size_t)(p + m - opt) == 7 && !memcmp(opt, "pidfile", 7);
		} else if (m && pending_pidfile) {
			if (m == strlen(pidfile) && !memcmp(p, pidfile, m))
				return 1;
			pending_pidfile = 0;
		} else if (m) {
			pending_pidfile = 0;
		}
		p += m + 1;
	}
	return 0;
}

static int qemu_running(uint32_t vmid)
{
	struct strbuf pidfile = STRBUF_INIT, sb = STRBUF_INIT, path = STRBUF_INIT;
	uint64_t pid = 0;
	int running = 0;

	strbuf_addf(&pidfile, "%s/%" PRIu32 ".pid", run_dir(), vmid);
	if (strbuf_read_file(&sb, pidfile.buf, 64) < 0)
		goto out;
	/* Perl's m/^(\d+)$/: digits and at most a final newline */
	if (sb.len && sb.buf[sb.len - 1] == '\n')
		strbuf_setlen(&sb, sb.len - 1);
	if (!sb.len || strspn(sb.buf, "0123456789") != sb.len || parse_uint_range(sb.buf, 1, 4194304, &pid) < 0)
		goto out;
	strbuf_addf(&path, "/proc/%" PRIu64 "/cmdline", pid);
	strbuf_reset(&sb);
	if (strbuf_read_file(&sb, path.buf, 1u << 20) < 0 || !pve_qemu_cmdline_matches(sb.buf, sb.len, pidfile.buf))
		goto out;
	/* PVE::ProcFSTools::check_process_running: there, and not a zombie */
	strbuf_reset(&path);
	strbuf_reset(&sb);
	strbuf_addf(&path, "/proc/%" PRIu64 "/stat", pid);
	if (strbuf_read_file(&sb, path.buf, 4096) == 0) {
		const char *rp = strrchr(sb.buf, ')');

		running = rp && rp[1] == ' ' && rp[2] && rp[2] != 'Z';
	}
out:
	strbuf_release(&pidfile);
	strbuf_release(&sb);
	strbuf_release(&path);
	return running;
}

static int ct_running(uint32_t vmid)
{
	const char *path = getenv("VOLREP_PVE_PROC_NET_UNIX");
	struct strbuf sb = STRBUF_INIT;
	int r = 0;

	if (!path || !*path)
		path = "/proc/net/unix";
	if (strbuf_read_file(&sb, path, 64u << 20) == 0)
		r = pve_unix_table_has_ct(sb.buf, sb.len, vmid);
	strbuf_release(&sb);
	return r;
}

int pve_guest_running(enum guest_type t, uint32_t vmid)
{
	return t == GUEST_QEMU ? qemu_running(vmid) : ct_running(vmid);
}

/* PVE::JSONSchema::parse_boolean */
static int parse_bool(const char *s, size_t n)
{
	static const char *const yes[] = { "1", "on", "yes", "true" }, *const no[] = { "0", "off", "no", "false" };

	for (size_t i = 0; i < 4; i++) {
		if (n == strlen(yes[i]) && !strncasecmp(s, yes[i], n))
			return 1;
		if (n == strlen(no[i]) && !strncasecmp(s, no[i], n))
			return 0;
	}
	return -EINVAL;
}

int pve_agent_freeze_wanted(const char *agent)
{
	const char *p = agent;
	int enabled = -1, freeze = -1, first = 1;

	if (!agent)
		return 0;
	/* a property string: "[enabled=]<bool>[,key=value...]", each key once */
	while (*p) {
		size_t n = strcspn(p, ","), kl;
		const char *eq = memchr(p, '=', n), *v;

		if (!eq && first) {
			if ((enabled = parse_bool(p, n)) < 0)
				return -EINVAL;
		} else if (!eq) {
			return -EINVAL;
		} else {
			kl = (size_t)(eq - p);
			v = eq + 1;
			if (kl == 7 && !strncmp(p, "enabled", kl)) {
				if (enabled >= 0 || (enabled = parse_bool(v, n - kl - 1)) < 0)
					return -EINVAL;
			} else if ((kl == 9 && !strncmp(p, "freeze-fs", kl)) ||
				   (kl == 19 && !strncmp(p, "freeze-fs-on-backup", kl)) ||
				   (kl == 14 && !strncmp(p, "guest-fsfreeze", kl))) {
				if (freeze >= 0 || (freeze = parse_bool(v, n - kl - 1)) < 0)
					return -EINVAL;
			} else if (kl == 19 && !strncmp(p, "fstrim_cloned_disks", kl)) {
				if (parse_bool(v, n - kl - 1) < 0)
					return -EINVAL;
			} else if (kl == 4 && !strncmp(p, "type", kl)) {
				if (!(n - kl - 1 == 6 && !strncmp(v, "virtio", 6)) && !(n - kl - 1 == 3 && !strncmp(v, "isa", 3)))
					return -EINVAL;
			} else {
				return -EINVAL;
			}
		}
		first = 0;
		p += n;
		if (*p == ',') {
			p++;
			if (!*p)
				return -EINVAL;
		}
	}
	if (enabled < 0)
		enabled = 0;
	return enabled && freeze != 0;
}

static int agent(const struct pve_freeze *fz, const char *cmd, long ms, struct qga_reply *rep, struct strbuf *err)
{
	int r = qga_command(fz->sock, cmd, ms, rep, err);

	if (r == 0 && rep->kind == QGA_ERROR) {
		strbuf_addstr(err, rep->desc);
		r = -EIO;
	}
	return r;
}

void pve_freeze(struct pve_freeze *fz, const struct guest *g, const struct guest_conf *gc, int running,
		const struct elog *log)
{
	struct strbuf e = STRBUF_INIT;
	struct qga_reply rep;
	int want;

	fz->frozen = 0;
	if (!running || g->type != GUEST_QEMU)
		return;
	want = pve_agent_freeze_wanted(guest_conf_get(gc, "agent"));
	if (want < 0)
		elog_printf(log, "unable to parse the agent option of VM %" PRIu32 " - guest agent taken as disabled",
			    g->vmid);
	if (want <= 0) {
		if (want == 0 && guest_conf_get(gc, "agent"))
			elog_printf(log, "skipping guest filesystem freeze - disabled in VM options");
		return;
	}
	snprintf(fz->sock, sizeof(fz->sock), "%s/%" PRIu32 ".qga", run_dir(), g->vmid);
	if (agent(fz, "guest-ping", QGA_PING_MS, &rep, &e) < 0) {
		elog_printf(log, "skipping guest filesystem freeze - agent configured but not running? (%s)", e.buf);
		goto out;
	}
	strbuf_reset(&e);
	if (agent(fz, "guest-fsfreeze-status", QGA_DEFAULT_MS, &rep, &e) < 0) {
		elog_printf(log, "unable to check guest fs freeze status - %s", e.buf);
	} else if (!strcmp(rep.word, "frozen")) {
		elog_printf(log, "skipping guest filesystem freeze - already frozen");
		goto out;
	}
	elog_printf(log, "freeze guest filesystem");
	/* sent: whatever the answer, the guest may be frozen now */
	fz->frozen = 1;
	strbuf_reset(&e);
	if (agent(fz, "guest-fsfreeze-freeze", QGA_FREEZE_MS, &rep, &e) < 0)
		elog_printf(log, "unable to freeze guest fs - %s", e.buf);
out:
	strbuf_release(&e);
}

void pve_thaw(struct pve_freeze *fz, const struct elog *log)
{
	struct strbuf e = STRBUF_INIT;
	struct qga_reply rep;

	if (!fz->frozen)
		return;
	fz->frozen = 0;
	elog_printf(log, "thaw guest filesystem");
	if (agent(fz, "guest-fsfreeze-thaw", QGA_DEFAULT_MS, &rep, &e) < 0)
		elog_printf(log, "guest-fsfreeze-thaw problems - %s", e.buf);
	strbuf_release(&e);
}
