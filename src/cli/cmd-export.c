/* volrep export: write a volume's snapshot stream to stdout (the source
 * half of a transfer; pvesm export in spirit). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/backend.h"
#include "base/log.h"
#include "cli/cmds.h"
#include "cli/commands.h"
#include "cli/volume-spec.h"

int cmd_export(int argc, char **argv, struct context *ctx)
{
	struct volume_spec spec;
	struct backend b = BACKEND_INIT;
	struct child c = CHILD_INIT;
	char *volid = NULL;
	char st[64];
	int r, ret;

	ret = volume_spec_open(argc, argv, 1, STDOUT_FILENO, ctx, &spec, &b);
	if (ret)
		return ret;
	ret = EXIT_FAILED;
	volid = backend_volid(&b, spec.volname);
	r = backend_volume_exists(&b, spec.volname);
	if (r <= 0) {
		if (r == 0)
			error("volume '%s' does not exist", volid);
		else
			error("%s", backend_errmsg(&b));
		goto out;
	}
	c.out = STDOUT_FILENO;
	r = backend_export_start(&b, spec.volname, spec.snapshot, spec.base,
				 spec.compressed ? BACKEND_EXPORT_COMPRESSED : 0, &c);
	if (r < 0) {
		error("%s", backend_errmsg(&b));
		goto out;
	}
	r = child_finish(&c);
	if (r != 0) {
		error("export of '%s' failed: %s", volid, exit_status_str(r, st, sizeof(st)));
		goto out;
	}
	ret = 0;
out:
	child_clear(&c);
	free(volid);
	backend_close(&b);
	return ret;
}
