/* Shared output helpers of the job commands (list, read, status):
 * --output-format, pvesr's JSON view of a job, pvesr's sort order. */
#ifndef VOLREP_CLI_JOBS_OUTPUT_H
#define VOLREP_CLI_JOBS_OUTPUT_H

#include <jansson.h>

#include "config/jobs.h"

enum output_format { OUTPUT_TEXT, OUTPUT_JSON, OUTPUT_JSON_PRETTY };

/* NULL means text. Prints "invalid output-format '<s>' ..." and returns
 * -1 for anything but text, json, json-pretty. */
int output_format_parse(const char *s, enum output_format *ret);

/* The job as pvesr's API returns it: id guest jobnum type target and the
 * options that are set (schedule, rate, comment, disable, remove_job,
 * source). New reference. */
json_t *job_to_json(const struct repl_job *job);

/* Print v to stdout, compact (json) or indented (json-pretty), keys
 * sorted, with a final newline. */
void print_json(const json_t *v, enum output_format fmt);

/* The jobs ordered as pvesr prints them: by guest (numeric), then id.
 * Caller frees the array (not the jobs). */
struct repl_job **jobs_sorted(const struct jobs_cfg *jc);

#endif
