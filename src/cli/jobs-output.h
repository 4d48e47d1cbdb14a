/* Shared output helpers of the job commands (list, read, status):
 * --output-format, pvesr's JSON view of a job, pvesr's sort order. */
#ifndef VOLREP_CLI_JOBS_OUTPUT_H
#define VOLREP_CLI_JOBS_OUTPUT_H

#include <jansson.h>

#include "config/jobs.h"
#include "ops/jobs.h" /* job_to_json, jobs_sorted */

enum output_format { OUTPUT_TEXT, OUTPUT_JSON, OUTPUT_JSON_PRETTY };

/* NULL means text. Prints "invalid output-format '<s>' ..." and returns
 * -1 for anything but text, json, json-pretty. */
int output_format_parse(const char *s, enum output_format *ret);

/* Print v to stdout, compact (json) or indented (json-pretty), keys
 * sorted, with a final newline. */
void print_json(const json_t *v, enum output_format fmt);

#endif
