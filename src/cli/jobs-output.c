#include "cli/jobs-output.h"

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
