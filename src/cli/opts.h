/* Option parsing for the subcommands, the one parser of them all (the
 * volume options of export/import and calendar's included): "--opt
 * value", "--opt=value", boolean flags ("--force", "--force 1",
 * "--force=0") and positional arguments. Errors are one line on stderr;
 * the caller exits 2. */
#ifndef VOLREP_CLI_OPTS_H
#define VOLREP_CLI_OPTS_H

#include <stdint.h>

#include "base/strvec.h"

enum opt_kind {
	OPT_VALUE,    /* needs a value */
	OPT_BOOL,     /* bare means 1; a following "0" or "1" is taken as its value */
	OPT_NONEMPTY, /* needs a value that is not empty */
	OPT_FLAG,     /* bare means 1, never takes the next word; "--x=0" and "--x=1" */
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

/* opts_parse for a caller that keeps pointers into argv: each positional
 * argument is handed to fn (in order) instead of copied. flags:
 * OPTS_DASH_ARGS takes a word of one dash ("-5") as an argument, where
 * opts_parse refuses it as an unknown option. */
#define OPTS_DASH_ARGS 0x1u
typedef void opts_positional_fn(void *data, const char *arg);
int opts_parse_each(int argc, char **argv, struct opt_spec *specs, unsigned flags, opts_positional_fn *fn,
		    void *data);

/* An opts_positional_fn for a command of one argument: it keeps the first
 * positional argument in arg, the second (for the caller to refuse, with
 * its own words) in extra. */
struct opts_first {
	const char *arg, *extra;
};
void opts_keep_first(void *data, const char *arg);

/* The positional count must be exactly n: prints "missing argument
 * '<name>'" or "unexpected argument '<arg>'" and returns -1 otherwise.
 * names lists the n argument names. */
int opts_want_args(const struct strvec *pos, const char *const *names, size_t n);

/* A guest id argument (100..999999999) into *vmid: 0, or -1 after
 * "invalid guest id '<s>'" followed by hint (may be ""). */
int opts_vmid_arg(const char *s, const char *hint, uint32_t *vmid);

#endif
