/* The process exit code of a result, in one place for every command:
 * 0 success, EXIT_FAILED the operation failed, EXIT_USAGE invalid
 * arguments or input (and then nothing was changed). Library functions
 * return 0 or -errno; which errno values count as the caller's bad input
 * depends on what the caller asked, so the caller names those kinds. */
#ifndef VOLREP_BASE_EXIT_CODE_H
#define VOLREP_BASE_EXIT_CODE_H

#define EXIT_FAILED 1
#define EXIT_USAGE 2

/* Kinds of -errno that mean "invalid input" to exit_code_of(). */
#define ERRK_INVALID 0x1u     /* -EINVAL: a bad value */
#define ERRK_MISSING 0x2u     /* -ENOENT: no such job / guest / token */
#define ERRK_CONFLICT 0x4u    /* -EEXIST, -ESTALE: exists already, digest mismatch */
#define ERRK_UNSUPPORTED 0x8u /* -ENOTSUP: not possible in this setup */
/* The error classes of the job operations (src/ops/jobs.h). */
#define ERRK_OPS (ERRK_INVALID | ERRK_MISSING | ERRK_CONFLICT)

/* 0 when r >= 0, EXIT_USAGE when -r is of one of the kinds in usage,
 * EXIT_FAILED otherwise. */
int exit_code_of(int r, unsigned usage);

#endif
