#include "cli/jobs-output.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/xalloc.h"

int output_format_parse(const char *s, enum output_format *ret)
{
	if (!s || !strcmp(s, "text"))
		*ret = OUTPUT_TEXT;
	else if (!strcmp(s, "json"))
		*ret = OUTPUT_JSON;
	else if (!strcmp(s, "json-pretty"))
		*ret = OUTPUT_JSON_PRETTY;
	else
		return error("invalid output-format '%s' - value must be one of text, json, json-pretty", s);
	return 0;
}

json_t *job_to_json(const struct repl_job *job)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_string(job->id));
	json_object_set_new(o, "guest", json_integer(job->guest));
	json_object_set_new(o, "jobnum", json_integer(job->jobnum));
	json_object_set_new(o, "type", json_string("local"));
	json_object_set_new(o, "target", json_string(job->target));
	if (job->schedule)
		json_object_set_new(o, "schedule", json_string(job->schedule));
	if (job->rate) {
		double r = job->rate_mbps;
		if (r == floor(r) && r < 9e15)
			json_object_set_new(o, "rate", json_integer((json_int_t)r));
		else
			json_object_set_new(o, "rate", json_real(r));
	}
	if (job->comment && *job->comment)
		json_object_set_new(o, "comment", json_string(job->comment));
	if (job->disable)
		json_object_set_new(o, "disable", json_integer(1));
	if (job->remove_job)
		json_object_set_new(o, "remove_job", json_string(remove_mode_name(job->remove_job)));
	if (job->source)
		json_object_set_new(o, "source", json_string(job->source));
	if (job->compress)
		json_object_set_new(o, "compress", json_string(job->compress));
	if (job->keep)
		json_object_set_new(o, "keep", json_integer(job->keep));
	return o;
}

void print_json(const json_t *v, enum output_format fmt)
{
	size_t flags = JSON_SORT_KEYS | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15);
	char *s;

	flags |= fmt == OUTPUT_JSON_PRETTY ? JSON_INDENT(3) : JSON_COMPACT;
	s = json_dumps(v, flags);
	if (s)
		printf("%s\n", s);
	free(s);
}

static int cmp_job(const void *a, const void *b)
{
	const struct repl_job *ja = *(const struct repl_job *const *)a;
	const struct repl_job *jb = *(const struct repl_job *const *)b;

	if (ja->guest != jb->guest)
		return ja->guest < jb->guest ? -1 : 1;
	return strcmp(ja->id, jb->id);
}

struct repl_job **jobs_sorted(const struct jobs_cfg *jc)
{
	struct repl_job **v = xcalloc(jc->nr + 1, sizeof(*v));

	for (size_t i = 0; i < jc->nr; i++)
		v[i] = &jc->v[i];
	if (jc->nr > 1)
		qsort(v, jc->nr, sizeof(*v), cmp_job);
	return v;
}
