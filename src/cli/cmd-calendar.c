/* volrep calendar <spec> [--from EPOCH] [--iterations N] [--output-format text|json]
 *
 * Shows the next events of a schedule, like `systemd-analyze calendar`.
 * Text: a header line, then one line per event, "<date> <time> <zone>  <epoch>",
 * in the zone the event is evaluated in (UTC for a "UTC" spec, else local).
 * JSON: {"spec":"<spec>","next":[epoch,...]}, fewer entries (possibly none)
 * when the schedule ends. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "base/log.h"
#include "base/parse-util.h"
#include "base/strbuf.h"
#include "base/time-util.h"
#include "cli/cmds.h"
#include "cli/commands.h"
#include "cli/opts.h"
#include "config/calendar.h"

#define MAX_ITERATIONS 100000

static int print_text(const char *spec, const struct calendar *cal, const int64_t *ev, size_t n)
{
	struct strbuf sb = STRBUF_INIT;

	calendar_format(cal, &sb);
	printf("next elapses of '%s' (normalized: %s):\n", spec, sb.buf);
	strbuf_release(&sb);
	for (size_t i = 0; i < n; i++) {
		char buf[64];

		/* local time, as status and the job logs show times (a UTC
		 * schedule's events too: the epoch beside it is exact) */
		if (!*format_time(buf, sizeof(buf), ev[i]))
			snprintf(buf, sizeof(buf), "(not representable)");
		printf("%s  %" PRId64 "\n", buf, ev[i]);
	}
	if (!n)
		printf("no further event\n");
	return fflush(stdout) ? EXIT_FAILED : 0;
}

static int print_json(const char *spec, const int64_t *ev, size_t n)
{
	json_t *root = json_object(), *next = json_array(), *times = json_array();
	char *s;
	int ret = 0;

	json_object_set_new(root, "spec", json_string(spec));
	for (size_t i = 0; i < n; i++) {
		char iso[40];

		json_array_append_new(next, json_integer((json_int_t)ev[i]));
		/* the same instants for people: ISO 8601, local offset */
		json_array_append_new(times, json_string(format_iso8601(iso, sizeof(iso), ev[i])));
	}
	json_object_set_new(root, "next", next);
	json_object_set_new(root, "next_time", times);
	s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!s || printf("%s\n", s) < 0 || fflush(stdout))
		ret = EXIT_FAILED;
	free(s);
	json_decref(root);
	return ret;
}

int cmd_calendar(int argc, char **argv, struct context *ctx)
{
	struct opt_spec specs[] = { { "from", OPT_VALUE, NULL },
				    { "iterations", OPT_VALUE, NULL },
				    { "output-format", OPT_VALUE, NULL },
				    { NULL, OPT_VALUE, NULL } };
	struct opts_first a = { NULL, NULL };
	const char *spec, *from_s, *iter_s, *format;
	struct calendar *cal = NULL;
	char err[160];
	int64_t from, *ev;
	uint64_t iterations = 10;
	size_t n = 0;
	int ret, r;

	(void)ctx;
	if (opts_parse_each(argc, argv, specs, OPTS_DASH_ARGS, opts_keep_first, &a) < 0)
		return EXIT_USAGE;
	if (a.extra) {
		error("unexpected argument '%s' (quote the calendar event)", a.extra);
		return EXIT_USAGE;
	}
	spec = a.arg;
	from_s = specs[0].value;
	iter_s = specs[1].value;
	format = specs[2].value ? specs[2].value : "text";
	if (!spec) {
		error("usage: volrep calendar <spec> [--from EPOCH] [--iterations N] [--output-format text|json]");
		return EXIT_USAGE;
	}
	if (strcmp(format, "text") && strcmp(format, "json")) {
		error("invalid output format '%s' (text or json)", format);
		return EXIT_USAGE;
	}
	if (iter_s && parse_uint_range(iter_s, 1, MAX_ITERATIONS, &iterations) < 0) {
		error("invalid iterations '%s' (1..%d)", iter_s, MAX_ITERATIONS);
		return EXIT_USAGE;
	}
	if (from_s) {
		if (parse_i64(from_s, &from) < 0) {
			error("invalid epoch '%s'", from_s);
			return EXIT_USAGE;
		}
	} else {
		from = volrep_now();
	}
	r = calendar_parse(spec, &cal, err, sizeof(err));
	if (r < 0) {
		error("invalid calendar event '%s' - %s", spec, err);
		return EXIT_USAGE;
	}
	ev = calloc(iterations, sizeof(*ev));
	if (!ev) {
		calendar_free(cal);
		error("out of memory");
		return EXIT_FAILED;
	}
	for (int64_t t = from; n < iterations && calendar_next(cal, t, &ev[n]); t = ev[n++])
		;
	if (!strcmp(format, "json"))
		ret = print_json(spec, ev, n);
	else
		ret = print_text(spec, cal, ev, n);
	if (ret)
		error("cannot write output: %s", strerror(errno));
	free(ev);
	calendar_free(cal);
	return ret;
}
