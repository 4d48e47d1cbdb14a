#include "engine/pvelock.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "cluster/store.h"

int pve_guest_lock(struct lock *lk, uint32_t vmid, long timeout_ms, struct strbuf *err)
{
	const char *dir = getenv("VOLREP_PVE_LOCK_DIR");
	struct strbuf path = STRBUF_INIT;
	int r;

	if (!store_cluster() || store_cluster()->kind != STORE_PMXCFS)
		return 0;
	if (!dir || !*dir)
		dir = PVE_LOCK_DIR;
	/* PVE makes the folder on first use; so do we, with its mode */
	r = mkdir_p(dir, 0755);
	strbuf_addf(&path, "%s/pve-migrate-%" PRIu32, dir, vmid);
	if (r == 0)
		r = lock_acquire(lk, path.buf, timeout_ms);
	if (r == -ETIMEDOUT || r == -EWOULDBLOCK) {
		strbuf_addf(err, "can't lock file '%s' - got timeout (a Proxmox VE operation holds the guest)",
			    path.buf);
		r = -EBUSY;
	} else if (r < 0) {
		strbuf_addf(err, "can't lock file '%s' - %s", path.buf, file_strerror(r));
	}
	strbuf_release(&path);
	return r;
}
