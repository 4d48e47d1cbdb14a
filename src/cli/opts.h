/* Option parsing for the subcommands: "--opt value", "--opt=value",
 * boolean flags ("--force", "--force 1", "--force=0") and positional
 * arguments. Errors are one line on stderr; the caller exits 2. */
#ifndef VOLREP_CLI_OPTS_H
#define VOLREP_CLI_OPTS_H

#include "base/strvec.h"

enum opt_kind {
	OPT_VALUE, /* needs a value */
	OPT_BOOL,  /* bare means 1; a following "0" or "1" is taken as its value */
};

struct opt_spec {
	const char *name;  /* without the leading "--" */
	enum opt_kind kind;
	const char *value; /* out: NULL when not given; points into argv or "1" */
};

/* Parse argv[1..argc-1] (argv[0] is the command name). Options may stand
 * anywhere; "--" ends them. Positional arguments go to *pos (copied).
 * Unknown options, missing values, options given twice and bad boolean
 * values are errors. Returns 0 or -1 (message printed). */
int opts_parse(int argc, char **argv, struct opt_spec *specs, struct strvec *pos);

/* The positional count must be exactly n: prints "missing argument
 * '<name>'" or "unexpected argument '<arg>'" and returns -1 otherwise.
 * names lists the n argument names. */
int opts_want_args(const struct strvec *pos, const char *const *names, size_t n);

#endif
