/* The one mapping from a result to a process exit code (exit-code.h). */
#include "base/exit-code.h"

#include <errno.h>

/* The kind of the error -r, 0 for none of the kinds. */
static unsigned kind_of(int r)
{
	switch (-r) {
	case EINVAL:
		return ERRK_INVALID;
	case ENOENT:
		return ERRK_MISSING;
	case EEXIST:
	case ESTALE:
		return ERRK_CONFLICT;
	case ENOTSUP:
		return ERRK_UNSUPPORTED;
	default:
		return 0;
	}
}

int exit_code_of(int r, unsigned usage)
{
	if (r >= 0)
		return 0;
	return kind_of(r) & usage ? EXIT_USAGE : EXIT_FAILED;
}
