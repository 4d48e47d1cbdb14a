/* Fuzz target: the guest config parser and the volume rules, for a VM and
 * a container, normal and cleanup mode. */
#include <stdint.h>
#include <string.h>

#include "backend/backend.h"
#include "base/log.h"
#include "base/validate.h"
#include "config/guest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char storage_text[] = "zfspool: local-zfs\n\tpool rpool/data\n\n"
				   "btrfs: local-btrfs\n\tpath /mnt/btrfs\n\n"
				   "dir: local\n\tpath /var/lib/vz\n\n"
				   "rbd: ceph\n\tpool vms\n\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct storage_cfg sc = { 0 };
	struct guest_conf gc = GUEST_CONF_INIT;
	struct strvec w = STRVEC_INIT;

	storage_cfg_parse(&sc, storage_text, strlen(storage_text), NULL);
	if (guest_conf_parse(&gc, "VM 100", (const char *)data, size, &w) == 0) {
		for (int t = 0; t < 2; t++) {
			for (unsigned flags = 0; flags < 2; flags++) {
				struct volume_list vl = { 0 };
				struct strbuf err = STRBUF_INIT;

				if (guest_replicatable_volumes(&sc, 100, t ? GUEST_LXC : GUEST_QEMU, &gc, flags, &vl,
							       &err) == 0) {
					/* whatever comes out may reach a command line */
					for (size_t i = 0; i < vl.nr; i++)
						if (!valid_storage_id(vl.v[i].storage) || !valid_volname(vl.v[i].volname))
							BUG("unsafe volume '%s'", vl.v[i].volid);
					/* and it is a name every run accepts (one grammar) */
					for (size_t i = 0; i < vl.nr; i++) {
						const char *sid = vl.v[i].storage;
						enum backend_type bt = !strcmp(sid, "local-btrfs") ? BACKEND_BTRFS : BACKEND_ZFSPOOL;

						if (!backend_valid_volname(bt, vl.v[i].volname, NULL))
							BUG("volume '%s' accepted but no run would take it", vl.v[i].volid);
					}
				}
				volume_list_release(&vl);
				strbuf_release(&err);
			}
		}
	}
	guest_conf_release(&gc);
	storage_cfg_release(&sc);
	strvec_clear(&w);
	return 0;
}
