/* Help texts: the command overview and each command's options. */
#ifndef VOLREP_CLI_HELP_H
#define VOLREP_CLI_HELP_H

#include <stdio.h>

/* 1 for the verbs other nodes run over ssh (serve, prepare-local-job, ...). */
int command_is_internal(const char *name);
/* The usage line, the user commands, then the internal verbs. */
void help_overview(FILE *f);
/* The usage and option details of one command on stdout; exit status
 * (2 with a message for an unknown command). */
int help_command(const char *name);
/* 1 when argv (argv[0] = the command) asks for help: "--help" or "-h"
 * before any "--". */
int help_wanted(int argc, char **argv);

#endif
