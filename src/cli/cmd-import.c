/* volrep import: receive a snapshot stream from stdin into a volume (the
 * target half of a transfer; pvesm import in spirit). Prints
 * "successfully imported '<volid>'" on success, which the sending side
 * looks for. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "backend/backend.h"
#include "base/log.h"
#include "cli/cmds.h"
#include "cli/commands.h"
#include "cli/volume-spec.h"
#include "config/guest.h"

/* A receive (zfs recv -F, a rollback first) into a volume of a guest that
 * runs on this node would overwrite its live data: refused, as
 * prepare-local-job refuses such a guest. 0, or -1 after the message. */
static int check_not_local(int argc, char **argv, const struct context *ctx)
{
	struct volume_spec spec;
	struct guest_list gl = { 0 };
	const struct guest *g;
	uint32_t owner;
	int is_image, r = 0;

	if (volume_spec_parse(argc, argv, 0, &spec) < 0)
		return 0; /* volume_spec_open reports it */
	if (!spec.from_config) {
		if (!backend_valid_volname(spec.storage.type, spec.volname, &owner))
			return 0;
	} else if (volname_parse(STORAGE_ZFSPOOL, spec.volname, &owner, &is_image) < 0 &&
		   volname_parse(STORAGE_BTRFS, spec.volname, &owner, &is_image) < 0) {
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

int cmd_import(int argc, char **argv, struct context *ctx)
{
	struct volume_spec spec;
	struct backend b = BACKEND_INIT;
	char *volid;
	int r;

	if (check_not_local(argc, argv, ctx) < 0)
		return EXIT_USAGE;
	r = volume_spec_open(argc, argv, 0, STDIN_FILENO, ctx, &spec, &b);
	if (r)
		return r;
	volid = backend_volid(&b, spec.volname);
	r = backend_import(&b, spec.volname, spec.snapshot, spec.base, STDIN_FILENO);
	if (r < 0)
		error("%s", backend_errmsg(&b));
	else
		printf("successfully imported '%s'\n", volid);
	free(volid);
	backend_close(&b);
	if (r == -EINVAL)
		return EXIT_USAGE;
	return r < 0 ? EXIT_FAILED : 0;
}
