/* Unit tests of the notification policy and formats (src/notify/), the
 * webhook header file parser, the staleness rule (src/metrics/) and
 * format_age. */
#include "unit.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/strvec.h"
#include "base/time-util.h"
#include "metrics/metrics.h"
#include "notify/notify.h"
#include "notify/webhook.h"
#include "state/state.h"

static void test_failcount_rule(void **state)
{
	struct strbuf got = STRBUF_INIT;

	(void)state;
	for (int64_t fc = -1; fc <= 2000; fc++)
		if (notify_failcount_due(fc))
			strbuf_addf(&got, "%lld ", (long long)fc);
	assert_string_equal(got.buf, "1 2 3 48 96 192 384 768 1536 ");
	assert_true(notify_failcount_due(48LL << 20));
	assert_false(notify_failcount_due(48 * 3));
	strbuf_release(&got);
}

static void test_decide(void **state)
{
	int n = 0;

	(void)state;
	/* failures: at due counts only, remembered */
	assert_int_equal(notify_decide(true, false, 1, &n), NOTIFY_FAILED);
	assert_int_equal(n, STATE_NOTIFIED_FAILURE);
	assert_int_equal(notify_decide(true, false, 4, &n), NOTIFY_NONE);
	assert_int_equal(n, STATE_NOTIFIED_FAILURE);
	/* the first success after a notified failure: recovered, once */
	assert_int_equal(notify_decide(false, false, 0, &n), NOTIFY_RECOVERED);
	assert_int_equal(n, 0);
	assert_int_equal(notify_decide(false, false, 0, &n), NOTIFY_NONE);
	/* a failure that was never notified (counted up while notifications
	 * were off, say) recovers silently */
	n = 0;
	assert_int_equal(notify_decide(true, false, 5, &n), NOTIFY_NONE);
	assert_int_equal(notify_decide(false, false, 0, &n), NOTIFY_NONE);
	/* a failing removal: one notice, whatever the count */
	n = STATE_NOTIFIED_FAILURE;
	assert_int_equal(notify_decide(true, true, 7, &n), NOTIFY_REMOVAL_FAILED);
	assert_int_equal(n, STATE_NOTIFIED_REMOVAL);
	assert_int_equal(notify_decide(true, true, 8, &n), NOTIFY_NONE);
	assert_int_equal(notify_decide(true, true, 48, &n), NOTIFY_NONE);
	/* a removal that succeeds: the job is gone, nothing to say */
	assert_int_equal(notify_decide(false, true, 0, &n), NOTIFY_NONE);
}

static const struct notify_event ev0 = {
	.kind = NOTIFY_FAILED, .job_id = "100-0", .guest = 100, .vmtype = "qemu", .source = "pve1",
	.target = "pve2", .schedule = NULL, .fail_count = 3, .last_sync = 1714560000, .next_sync = 1714566600,
	.now = 1714564800, .error = "line one\nline two", .hostname = "pve1.example.com",
};

static void test_formats(void **state)
{
	struct notify_event ev = ev0;
	struct strbuf s = STRBUF_INIT;
	json_t *o;
	char *js;

	(void)state;
	setenv("TZ", "UTC", 1);
	notify_format_subject(&ev, &s);
	assert_string_equal(s.buf, "Replication Job: '100-0' failed");
	strbuf_reset(&s);
	notify_format_body(&ev, &s);
	assert_non_null(strstr(s.buf, "Guest:       100 (qemu)\n"));
	assert_non_null(strstr(s.buf, "Schedule:    */15\n"));
	assert_non_null(strstr(s.buf, "Fail count:  3\n"));
	assert_non_null(strstr(s.buf, "Last sync:   2024-05-01 10:40:00 UTC (1h20m ago)\n"));
	assert_non_null(strstr(s.buf, "Next try:    2024-05-01 12:30:00 UTC (in 30m)\n"));
	assert_non_null(strstr(s.buf, "Host:        pve1.example.com\n"));
	assert_non_null(strstr(s.buf, "\nError:\n    line one\n    line two\n"));
	assert_non_null(strstr(s.buf, "Note: further failures"));
	strbuf_reset(&s);
	notify_format_mail(&ev, "root,a@b.example", &s);
	{
		static const char head[] = "To: root, a@b.example\nSubject: Replication Job: '100-0' failed\nDate: ";

		assert_int_equal(strncmp(s.buf, head, sizeof(head) - 1), 0);
	}
	assert_non_null(strstr(s.buf, "\nContent-Type: text/plain; charset=UTF-8\n"));

	js = notify_format_json(&ev, WEBHOOK_JSON, "http://x/");
	o = json_loads(js, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "job-id")), "100-0");
	assert_string_equal(json_string_value(json_object_get(o, "event")), "failed");
	assert_int_equal(json_integer_value(json_object_get(o, "failure-count")), 3);
	assert_int_equal(json_integer_value(json_object_get(o, "last-sync-age")), 4800);
	assert_int_equal(json_integer_value(json_object_get(o, "next-sync")), 1714566600);
	assert_string_equal(json_string_value(json_object_get(o, "error")), "line one\nline two");
	json_decref(o);
	free(js);

	js = notify_format_json(&ev, WEBHOOK_NTFY, "https://ntfy.example.com/volrep-alerts");
	o = json_loads(js, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(o, "topic")), "volrep-alerts");
	assert_int_equal(json_integer_value(json_object_get(o, "priority")), 4);
	json_decref(o);
	free(js);

	ev.kind = NOTIFY_RECOVERED;
	js = notify_format_json(&ev, WEBHOOK_GOTIFY, "https://g.example/message");
	o = json_loads(js, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(o, "title")), "Replication Job: '100-0' recovered");
	assert_int_equal(json_integer_value(json_object_get(o, "priority")), 4);
	json_decref(o);
	free(js);
	strbuf_release(&s);
}

static void test_headers(void **state)
{
	struct strvec h = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	static const char good[] = "# token\n\nAuthorization: Bearer abc\r\nX-Gotify-Key:k1  \n";

	(void)state;
	assert_int_equal(webhook_parse_headers(good, strlen(good), "h", &h, &err), 0);
	assert_int_equal(h.nr, 2);
	assert_string_equal(h.v[0], "Authorization: Bearer abc");
	assert_string_equal(h.v[1], "X-Gotify-Key: k1");
	strvec_clear(&h);
	assert_int_equal(webhook_parse_headers("no colon\n", 9, "h", &h, &err), -EINVAL);
	assert_string_equal(err.buf, "h:1: expected 'Name: value'");
	strbuf_reset(&err);
	assert_int_equal(webhook_parse_headers("A b: c\n", 7, "h", &h, &err), -EINVAL);
	strbuf_reset(&err);
	assert_int_equal(webhook_parse_headers("A: b\x01\n", 6, "h", &h, &err), -EINVAL);
	assert_string_equal(err.buf, "h:1: control character in a header");
	strbuf_reset(&err);
	assert_int_equal(webhook_parse_headers("A: b\0c\n", 7, "h", &h, &err), -EINVAL);
	strvec_clear(&h);
	strbuf_release(&err);
}

static void test_age_and_stale(void **state)
{
	struct strbuf s = STRBUF_INIT;
	static const struct {
		int64_t secs;
		const char *want;
	} ages[] = { { -5, "0s" }, { 0, "0s" }, { 59, "59s" }, { 60, "1m" }, { 192, "3m12s" }, { 3600, "1h" },
		     { 7500, "2h5m" }, { 86400 * 3 + 3600 * 4 + 5, "3d4h" } };

	(void)state;
	for (size_t i = 0; i < sizeof(ages) / sizeof(ages[0]); i++) {
		strbuf_reset(&s);
		format_age(ages[i].secs, &s);
		assert_string_equal(s.buf, ages[i].want);
	}
	setenv("TZ", "UTC", 1);
	assert_int_equal(metrics_interval(NULL, 1714564800), 900);
	assert_int_equal(metrics_interval("*/5", 1714564800), 300);
	assert_int_equal(metrics_interval("mon 02:00", 1714564800), 7 * 86400);
	assert_int_equal(metrics_interval("bogus schedule", 1714564800), 0);
	assert_int_equal(metrics_lag_limit(0, 900), 1800);
	assert_int_equal(metrics_lag_limit(60, 900), 60);
	assert_false(metrics_is_stale(0, 1800, 1714564800));
	assert_false(metrics_is_stale(1714564800 - 1800, 1800, 1714564800));
	assert_true(metrics_is_stale(1714564800 - 1801, 1800, 1714564800));
	assert_false(metrics_is_stale(1, 0, 1714564800));
	strbuf_release(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failcount_rule), cmocka_unit_test(test_decide),
		cmocka_unit_test(test_formats),	       cmocka_unit_test(test_headers),
		cmocka_unit_test(test_age_and_stale),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
