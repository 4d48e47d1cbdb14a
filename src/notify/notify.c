#include "notify/notify.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/strvec.h"
#include "base/time-util.h"
#include "sched/schedule.h"
#include "notify/mail.h"
#include "notify/webhook.h"
#include "state/state.h"

bool notify_failcount_due(int64_t fail_count)
{
	if (fail_count <= 0)
		return false;
	if (fail_count <= 3)
		return true;
	if (fail_count % 48)
		return false;
	fail_count /= 48;
	/* a power of two */
	return (fail_count & (fail_count - 1)) == 0;
}

enum notify_kind notify_decide(bool failed, bool removal, int64_t fail_count, int *notified)
{
	if (failed && removal) {
		if (*notified == STATE_NOTIFIED_REMOVAL)
			return NOTIFY_NONE;
		*notified = STATE_NOTIFIED_REMOVAL;
		return NOTIFY_REMOVAL_FAILED;
	}
	if (failed) {
		if (!notify_failcount_due(fail_count))
			return NOTIFY_NONE;
		*notified = STATE_NOTIFIED_FAILURE;
		return NOTIFY_FAILED;
	}
	if (*notified && !removal) {
		*notified = 0;
		return NOTIFY_RECOVERED;
	}
	*notified = 0;
	return NOTIFY_NONE;
}

bool notify_configured(const struct volrep_cfg *cfg)
{
	return cfg->notify_mail[0] || cfg->nwebhooks;
}

static const char *kind_name(enum notify_kind k)
{
	switch (k) {
	case NOTIFY_FAILED:
		return "failed";
	case NOTIFY_RECOVERED:
		return "recovered";
	case NOTIFY_REMOVAL_FAILED:
		return "removal-failed";
	case NOTIFY_TEST:
		return "test";
	case NOTIFY_HA_RECOVERED:
		return "ha-recovered";
	case NOTIFY_NONE:
		break;
	}
	return "none";
}

void notify_format_subject(const struct notify_event *ev, struct strbuf *out)
{
	switch (ev->kind) {
	case NOTIFY_RECOVERED:
		strbuf_addf(out, "Replication Job: '%s' recovered", ev->job_id);
		break;
	case NOTIFY_REMOVAL_FAILED:
		strbuf_addf(out, "Replication Job: '%s' removal failed", ev->job_id);
		break;
	case NOTIFY_TEST:
		strbuf_addf(out, "volrep notification test from %s", ev->hostname);
		break;
	case NOTIFY_HA_RECOVERED:
		strbuf_addf(out, "HA: guest %u recovered on '%s' from '%s'", ev->guest, ev->target ? ev->target : "?",
			    ev->source ? ev->source : "?");
		break;
	default:
		strbuf_addf(out, "Replication Job: '%s' failed", ev->job_id);
		break;
	}
}

static void add_time(struct strbuf *out, int64_t t, int64_t now)
{
	char buf[64];

	format_localtime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %Z", t);
	strbuf_addstr(out, buf);
	if (t <= now) {
		strbuf_addstr(out, " (");
		format_age(now - t, out);
		strbuf_addstr(out, " ago)");
	} else {
		strbuf_addstr(out, " (in ");
		format_age(t - now, out);
		strbuf_addch(out, ')');
	}
}

void notify_format_body(const struct notify_event *ev, struct strbuf *out)
{
	if (ev->kind == NOTIFY_TEST) {
		strbuf_addf(out, "This is a test notification of volrep on %s.\n"
				 "Replication failures on this node will be reported here.\n", ev->hostname);
		return;
	}
	if (ev->kind == NOTIFY_HA_RECOVERED) {
		strbuf_addf(out, "%s\n\nHost:        %s\n", ev->error ? ev->error : "", ev->hostname);
		return;
	}
	switch (ev->kind) {
	case NOTIFY_RECOVERED:
		strbuf_addf(out, "Replication job '%s' is working again after %lld failed run(s).\n\n", ev->job_id,
			    (long long)ev->fail_count);
		break;
	case NOTIFY_REMOVAL_FAILED:
		strbuf_addf(out, "Removing replication job '%s' failed; it is retried, but not reported again.\n\n",
			    ev->job_id);
		break;
	default:
		strbuf_addf(out, "Replication job '%s' failed (failure count %lld).\n\n", ev->job_id,
			    (long long)ev->fail_count);
		break;
	}
	strbuf_addf(out, "Job:         %s\n", ev->job_id);
	strbuf_addf(out, "Guest:       %u (%s)\n", ev->guest, ev->vmtype ? ev->vmtype : "?");
	strbuf_addf(out, "Source:      %s\n", ev->source ? ev->source : "?");
	strbuf_addf(out, "Target:      %s\n", ev->target ? ev->target : "?");
	strbuf_addf(out, "Schedule:    %s\n", ev->schedule ? ev->schedule : SCHEDULE_DEFAULT);
	if (ev->kind != NOTIFY_RECOVERED)
		strbuf_addf(out, "Fail count:  %lld\n", (long long)ev->fail_count);
	strbuf_addstr(out, "Last sync:   ");
	if (ev->last_sync)
		add_time(out, ev->last_sync, ev->now);
	else
		strbuf_addstr(out, "never");
	strbuf_addch(out, '\n');
	strbuf_addstr(out, ev->kind == NOTIFY_RECOVERED ? "Next sync:   " : "Next try:    ");
	if (ev->next_sync == 0)
		strbuf_addstr(out, "none scheduled");
	else if (ev->next_sync == 1)
		strbuf_addstr(out, "at once");
	else
		add_time(out, ev->next_sync, ev->now);
	strbuf_addch(out, '\n');
	strbuf_addf(out, "Host:        %s\n", ev->hostname);
	if (ev->error && ev->kind != NOTIFY_RECOVERED) {
		const char *p = ev->error;

		strbuf_addstr(out, "\nError:\n");
		while (*p) {
			size_t n = strcspn(p, "\n");

			strbuf_addf(out, "    %.*s\n", (int)n, p);
			p += n + (p[n] == '\n');
		}
	}
	if (ev->kind == NOTIFY_FAILED && ev->fail_count == 3)
		strbuf_addstr(out, "\nNote: further failures are reported only at failure counts 48, 96, 192, ...\n"
				   "(about 1, 2, 4 days of retries), as the job appears to be stuck.\n");
}

static json_t *time_or_null(int64_t t)
{
	return t > 1 ? json_integer(t) : json_null();
}

char *notify_format_json(const struct notify_event *ev, enum webhook_format fmt, const char *url)
{
	struct strbuf subject = STRBUF_INIT, body = STRBUF_INIT;
	bool bad = ev->kind == NOTIFY_FAILED || ev->kind == NOTIFY_REMOVAL_FAILED;
	json_t *o = json_object();
	char *s;

	notify_format_subject(ev, &subject);
	notify_format_body(ev, &body);
	switch (fmt) {
	case WEBHOOK_NTFY: {
		/* ntfy's JSON publishing: POST to the server root, the topic
		 * in the body (taken from the URL's path) */
		const char *host = strstr(url, "://");
		const char *path = host ? strchr(host + 3, '/') : NULL;

		json_object_set_new(o, "topic", json_string(path && path[1] ? path + 1 : "volrep"));
		json_object_set_new(o, "title", json_string(subject.buf));
		json_object_set_new(o, "message", json_string(body.buf));
		json_object_set_new(o, "priority", json_integer(bad ? 4 : 3));
		json_object_set_new(o, "tags", json_pack("[s]", bad ? "warning" : "white_check_mark"));
		break;
	}
	case WEBHOOK_GOTIFY:
		json_object_set_new(o, "title", json_string(subject.buf));
		json_object_set_new(o, "message", json_string(body.buf));
		json_object_set_new(o, "priority", json_integer(bad ? 8 : 4));
		break;
	case WEBHOOK_JSON:
		json_object_set_new(o, "type", json_string("replication"));
		json_object_set_new(o, "event", json_string(kind_name(ev->kind)));
		json_object_set_new(o, "severity", json_string(bad ? "error" : "info"));
		json_object_set_new(o, "title", json_string(subject.buf));
		json_object_set_new(o, "message", json_string(body.buf));
		json_object_set_new(o, "hostname", json_string(ev->hostname));
		json_object_set_new(o, "timestamp", json_integer(ev->now));
		if (ev->kind != NOTIFY_TEST) {
			json_object_set_new(o, "job-id", json_string(ev->job_id));
			json_object_set_new(o, "guest", json_integer(ev->guest));
			json_object_set_new(o, "vmtype", json_string(ev->vmtype ? ev->vmtype : ""));
			json_object_set_new(o, "job-source", json_string(ev->source ? ev->source : ""));
			json_object_set_new(o, "job-target", json_string(ev->target ? ev->target : ""));
			json_object_set_new(o, "job-schedule",
					    json_string(ev->schedule ? ev->schedule : SCHEDULE_DEFAULT));
			json_object_set_new(o, "failure-count", json_integer(ev->fail_count));
			json_object_set_new(o, "last-sync", json_integer(ev->last_sync));
			json_object_set_new(o, "last-sync-age",
					    ev->last_sync ? json_integer(ev->now - ev->last_sync) : json_null());
			json_object_set_new(o, "next-sync", time_or_null(ev->next_sync));
			json_object_set_new(o, "error", ev->error ? json_string(ev->error) : json_null());
		}
		break;
	}
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	strbuf_release(&subject);
	strbuf_release(&body);
	return s;
}

void notify_format_mail(const struct notify_event *ev, const char *recipients, struct strbuf *out)
{
	char date[64];

	strbuf_addstr(out, "To: ");
	for (const char *p = recipients; *p; p++) {
		if (*p == ',')
			strbuf_addstr(out, ", ");
		else
			strbuf_addch(out, *p);
	}
	strbuf_addstr(out, "\nSubject: ");
	notify_format_subject(ev, out);
	format_localtime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", ev->now);
	strbuf_addf(out, "\nDate: %s\n", date);
	strbuf_addstr(out, "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n"
			   "Content-Transfer-Encoding: 8bit\nAuto-Submitted: auto-generated\n\n");
	notify_format_body(ev, out);
}

/* The URL for messages: without its query, which may hold a token. */
static void shown_url(const char *url, struct strbuf *out)
{
	strbuf_add(out, url, strcspn(url, "?#"));
	if (url[strcspn(url, "?#")])
		strbuf_addstr(out, "?...");
}

int notify_send_all(const struct volrep_cfg *cfg, const struct notify_event *ev, notify_log_fn *fn, void *data)
{
	struct strbuf msg = STRBUF_INIT, err = STRBUF_INIT, line = STRBUF_INIT;
	int failed = 0;

	if (cfg->notify_mail[0]) {
		notify_format_mail(ev, cfg->notify_mail, &msg);
		if (mail_send(cfg->sendmail, msg.buf, cfg->notify_timeout, &err) < 0) {
			strbuf_addf(&line, "notification mail to '%s' failed: %s", cfg->notify_mail, err.buf);
			failed++;
			fn(false, line.buf, data);
		} else {
			strbuf_addf(&line, "notification mail sent to '%s'", cfg->notify_mail);
			fn(true, line.buf, data);
		}
	}
	for (unsigned i = 0; i < cfg->nwebhooks; i++) {
		const struct volrep_webhook *w = &cfg->webhook[i];
		struct strvec headers = STRVEC_INIT;
		char *body = notify_format_json(ev, w->format, w->url);
		const char *url = w->url;
		struct strbuf root = STRBUF_INIT, shown = STRBUF_INIT;
		int r = 0;

		shown_url(w->url, &shown);
		strbuf_reset(&err);
		strbuf_reset(&line);
		if (w->format == WEBHOOK_NTFY) {
			/* the topic went into the body: post to the root */
			const char *host = strstr(url, "://");
			const char *path = host ? strchr(host + 3, '/') : NULL;

			strbuf_add(&root, url, path ? (size_t)(path - url) : strlen(url));
			strbuf_addch(&root, '/');
			url = root.buf;
		}
		if (w->header_file[0])
			r = webhook_load_headers(w->header_file, &headers, &err);
		if (r == 0 && body)
			r = webhook_post(url, &headers, body, cfg->notify_timeout, &err);
		if (r < 0 || !body) {
			strbuf_addf(&line, "notification webhook '%s' failed: %s", shown.buf,
				    body ? err.buf : "out of memory");
			failed++;
			fn(false, line.buf, data);
		} else {
			strbuf_addf(&line, "notification webhook '%s' delivered", shown.buf);
			fn(true, line.buf, data);
		}
		free(body);
		strvec_clear(&headers);
		strbuf_release(&root);
		strbuf_release(&shown);
	}
	strbuf_release(&msg);
	strbuf_release(&err);
	strbuf_release(&line);
	return failed;
}
