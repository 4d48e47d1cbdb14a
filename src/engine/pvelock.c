#include "engine/pvelock.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/store.h"

int pve_mode(void)
{
	return store_cluster() && store_cluster()->kind == STORE_PMXCFS;
}

static const char *dir_of(const char *env, const char *dflt)
{
	const char *d = getenv(env);

	return d && *d ? d : dflt;
}

/* flock path (in dir, made with PVE's mode on first use as PVE does) */
static int take(struct lock *lk, const char *dir, const char *path, long timeout_ms, struct strbuf *err)
{
	int r = mkdir_p(dir, 0755);

	if (r == 0)
		r = lock_acquire(lk, path, timeout_ms);
	if (r == -ETIMEDOUT || r == -EWOULDBLOCK) {
		strbuf_addf(err, "can't lock file '%s' - got timeout (a Proxmox VE operation holds the guest)", path);
		r = -EBUSY;
	} else if (r < 0) {
		strbuf_addf(err, "can't lock file '%s' - %s", path, file_strerror(r));
	}
	return r;
}

int pve_guest_lock(struct lock *lk, uint32_t vmid, long timeout_ms, struct strbuf *err)
{
	const char *dir = dir_of("VOLREP_PVE_LOCK_DIR", PVE_LOCK_DIR);
	struct strbuf path = STRBUF_INIT;
	int r;

	if (!pve_mode())
		return 0;
	strbuf_addf(&path, "%s/pve-migrate-%" PRIu32, dir, vmid);
	r = take(lk, dir, path.buf, timeout_ms, err);
	strbuf_release(&path);
	return r;
}

int pve_config_lock(struct lock *lk, enum guest_type t, uint32_t vmid, long timeout_ms, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	const char *dir;
	int r;

	if (!pve_mode())
		return 0;
	if (t == GUEST_QEMU) {
		dir = dir_of("VOLREP_PVE_QEMU_LOCK_DIR", PVE_QEMU_LOCK_DIR);
		strbuf_addf(&path, "%s/lock-%" PRIu32 ".conf", dir, vmid);
	} else {
		dir = dir_of("VOLREP_PVE_LXC_LOCK_DIR", PVE_LXC_LOCK_DIR);
		strbuf_addf(&path, "%s/pve-config-%" PRIu32 ".lock", dir, vmid);
	}
	r = take(lk, dir, path.buf, timeout_ms, err);
	strbuf_release(&path);
	return r;
}

int pve_check_conf_lock(const struct guest_conf *gc, enum guest_type t, uint32_t vmid, struct strbuf *err)
{
	const char *lock = guest_conf_get(gc, "lock");

	if (!lock || !*lock)
		return 0;
	/* the value comes from a file others write: print only a safe one */
	if (strspn(lock, "abcdefghijklmnopqrstuvwxyz-") != strlen(lock) || strlen(lock) > 32)
		lock = "?";
	strbuf_addf(err, "%s %" PRIu32 " is locked (%s) - a Proxmox VE operation is in progress ('%s unlock %" PRIu32
		    "' if it was left behind)", t == GUEST_QEMU ? "VM" : "CT", vmid, lock, t == GUEST_QEMU ? "qm" : "pct",
		    vmid);
	return -EBUSY;
}

int pve_lock_removable(const char *lock)
{
	static const char *const removable[] = { "backup",   "mounted",	 "migrate",	"clone",     "rollback",
						 "snapshot", "snapshot-delete", "suspending", "suspended" };

	for (size_t i = 0; i < sizeof(removable) / sizeof(removable[0]); i++)
		if (!strcmp(lock, removable[i]))
			return 1;
	return 0;
}

int pve_remove_conf_lock(struct store *st, const char *name, struct strbuf *err)
{
	struct strbuf conf = STRBUF_INIT, out = STRBUF_INIT;
	int64_t rev = 0;
	int r = store_read(st, name, STORE_FRESH, &conf, &rev, err), found = 0, current = 1;
	const char *p = conf.buf, *end = conf.buf + conf.len;

	if (r == 1) {
		strbuf_addf(err, "guest config '%s' does not exist", name);
		r = -ENOENT;
	}
	while (r == 0 && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);

		/* snapshot sections keep the lock they were taken with */
		if (*p == '[')
			current = 0;
		if (current && !found && n >= 5 && !strncmp(p, "lock:", 5))
			found = 1;
		else
			strbuf_add(&out, p, n);
		p += n;
	}
	if (r == 0 && found)
		r = store_write(st, name, out.buf, out.len, rev, err);
	strbuf_release(&conf);
	strbuf_release(&out);
	return r;
}
