/* volrep import: receive a snapshot stream from stdin into a volume (the
 * target half of a transfer; pvesm import in spirit). Prints
 * "successfully imported '<volid>'" on success, which the sending side
 * looks for. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "backend/backend.h"
#include "base/log.h"
#include "cli/cmds.h"
#include "cli/commands.h"
#include "cli/volume-spec.h"

int cmd_import(int argc, char **argv, struct context *ctx)
{
	struct volume_spec spec;
	struct backend b = BACKEND_INIT;
	char *volid;
	int r;

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
