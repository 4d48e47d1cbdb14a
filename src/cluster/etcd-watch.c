#include "cluster/etcd-watch.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/dl-curl.h"
#include "base/time-util.h"
#include "base/validate.h"
#include "base/xalloc.h"
#include "cluster/etcd.h"

/* One answer of the stream carries the events of a revision, file values
 * included: bounded like a range answer. */
#define LINE_MAX_BYTES (64u << 20)
/* how often the member's quorum is checked while the stream is quiet */
#define CHECK_MS 5000
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define MEMBERS_SUB ".members/"

struct etcd_watch {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;              /* under mu */
	int pipe[2];
	CURLM *multi;          /* the thread's; others only wake it */
	struct etcd_client *one; /* a client per endpoint, for the quorum checks */
	size_t n;
	char *prefix;
	size_t plen;
	struct store_watch_news news; /* under mu */
	/* the stream being read (thread only) */
	struct strbuf line, fail;
	int created;
	size_t cur;
};

static const char *endpoint_name(const char *url)
{
	const char *p = strstr(url, "://");
	return p ? p + 3 : url;
}

static int stopping(struct etcd_watch *w)
{
	int s;

	pthread_mutex_lock(&w->mu);
	s = w->stop;
	pthread_mutex_unlock(&w->mu);
	return s;
}

static void poke(struct etcd_watch *w)
{
	char c = 1;

	/* a full pipe already says there is news */
	if (write(w->pipe[1], &c, 1) < 0) {
	}
}

/* Sleep ms, or less when told to stop. */
static void nap(struct etcd_watch *w, long ms)
{
	struct timespec ts = wall_deadline(ms);

	pthread_mutex_lock(&w->mu);
	if (!w->stop)
		pthread_cond_timedwait(&w->cv, &w->mu, &ts);
	pthread_mutex_unlock(&w->mu);
}

static void set_text(char *dst, size_t size, const char *s)
{
	snprintf(dst, size, "%s", s);
}

static void lost(struct etcd_watch *w, const char *why)
{
	int was;

	pthread_mutex_lock(&w->mu);
	was = w->news.connected;
	w->news.connected = 0;
	set_text(w->news.error, sizeof(w->news.error), why);
	if (was)
		w->news.lost++;
	pthread_mutex_unlock(&w->mu);
	if (was)
		poke(w);
}

/* A linearizable read of the range on endpoint i: answered only by a
 * member with a quorum behind it. */
static int quorum_check(struct etcd_watch *w, size_t i, struct strbuf *err)
{
	struct strbuf end = STRBUF_INIT;
	json_t *req = json_object(), *reply = NULL;
	int r;

	etcd_prefix_end(w->prefix, w->plen, &end);
	json_object_set_new(req, "key", etcd_b64_json(w->prefix, w->plen));
	json_object_set_new(req, "range_end", etcd_b64_json(end.buf, end.len));
	json_object_set_new(req, "count_only", json_true());
	r = etcd_call(&w->one[i], "kv/range", req, 1, &reply, err);
	json_decref(reply);
	strbuf_release(&end);
	return r;
}

/* What an event means to the reader: a file changed, or a node's
 * liveness key went. Keys outside the prefix are not what was asked for. */
static int take_event(struct etcd_watch *w, const struct etcd_event *ev)
{
	const char *rest;
	size_t ml = strlen(MEMBERS_SUB);

	if (ev->key_len < w->plen || memcmp(ev->key, w->prefix, w->plen))
		return -EINVAL;
	rest = ev->key + w->plen;
	if (*rest != '.') {
		w->news.files++;
		return 1;
	}
	if (ev->type != ETCD_EVENT_DELETE || strncmp(rest, MEMBERS_SUB, ml) || !valid_node_name(rest + ml) ||
	    strlen(rest + ml) >= sizeof(w->news.gone[0].node) || w->news.ngone >= STORE_WATCH_GONE_MAX)
		return 0;
	set_text(w->news.gone[w->news.ngone].node, sizeof(w->news.gone[0].node), rest + ml);
	w->news.gone[w->news.ngone++].rev = ev->mod_rev;
	return 1;
}

/* One answer of the stream; < 0 ends the stream (the reason in w->fail). */
static int take_line(struct etcd_watch *w, const char *p, size_t len)
{
	struct etcd_watch_msg m = ETCD_WATCH_MSG_INIT;
	int news = 0, r = 0;

	while (len && (p[len - 1] == '\r' || p[len - 1] == ' '))
		len--;
	if (!len)
		return 0;
	if (etcd_watch_parse(p, len, &m, &w->fail) < 0)
		return -1;
	if (m.canceled) {
		strbuf_addstr(&w->fail, "etcd watch canceled by the server");
		if (m.compact_revision)
			strbuf_addf(&w->fail, " (history compacted up to revision %lld)", (long long)m.compact_revision);
		else if (m.cancel_reason && *m.cancel_reason)
			strbuf_addf(&w->fail, " (%s)", m.cancel_reason);
		etcd_watch_msg_release(&m);
		return -1;
	}
	if (!m.created && !w->created) {
		strbuf_addstr(&w->fail, "etcd watch: events before the watch was created");
		etcd_watch_msg_release(&m);
		return -1;
	}
	pthread_mutex_lock(&w->mu);
	if (m.created) {
		w->created = 1;
		w->news.connected = 1;
		w->news.resync = 1;
		w->news.error[0] = '\0';
		set_text(w->news.endpoint, sizeof(w->news.endpoint), endpoint_name(w->one[w->cur].endpoints.v[0]));
		news = 1;
	}
	for (size_t i = 0; i < m.nr && r >= 0; i++) {
		r = take_event(w, &m.ev[i]);
		news |= r > 0;
	}
	if (m.revision > w->news.revision)
		w->news.revision = m.revision;
	pthread_mutex_unlock(&w->mu);
	etcd_watch_msg_release(&m);
	if (r < 0) {
		strbuf_addstr(&w->fail, "etcd watch: event for a key outside the watched prefix");
		return -1;
	}
	if (news)
		poke(w);
	return 0;
}

static size_t on_stream(char *p, size_t size, size_t n, void *data)
{
	struct etcd_watch *w = data;
	size_t len = size * n, start = 0;
	char *nl;

	strbuf_add(&w->line, p, len);
	while ((nl = memchr(w->line.buf + start, '\n', w->line.len - start))) {
		size_t l = (size_t)(nl - (w->line.buf + start));

		if (take_line(w, w->line.buf + start, l) < 0)
			return 0;
		start += l + 1;
	}
	memmove(w->line.buf, w->line.buf + start, w->line.len - start);
	strbuf_setlen(&w->line, w->line.len - start);
	if (w->line.len > LINE_MAX_BYTES) {
		strbuf_addstr(&w->fail, "etcd watch: answer too large");
		return 0;
	}
	return len;
}

/* Open the watch on endpoint i and read it until it breaks, the member
 * loses its quorum, or we are told to stop. */
static void stream(struct etcd_watch *w, size_t i)
{
	struct strbuf url = STRBUF_INIT, end = STRBUF_INIT, err = STRBUF_INIT;
	struct curl_slist *hdr = sym_curl_slist_append(NULL, "Content-Type: application/json");
	json_t *req = json_object(), *create = json_object();
	char *body;
	CURL *h = sym_curl_easy_init();
	int64_t next_check = mono_ms() + CHECK_MS;
	int running = 1;

	etcd_prefix_end(w->prefix, w->plen, &end);
	json_object_set_new(create, "key", etcd_b64_json(w->prefix, w->plen));
	json_object_set_new(create, "range_end", etcd_b64_json(end.buf, end.len));
	json_object_set_new(req, "create_request", create);
	body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	strbuf_addf(&url, "%s/v3/watch", w->one[i].endpoints.v[0]);
	strbuf_reset(&w->line);
	strbuf_reset(&w->fail);
	w->created = 0;
	w->cur = i;
	if (!h || !body || !hdr) {
		lost(w, "out of memory");
		goto out;
	}
	sym_curl_easy_setopt(h, CURLOPT_URL, url.buf);
	sym_curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	sym_curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, body);
	sym_curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_stream);
	sym_curl_easy_setopt(h, CURLOPT_WRITEDATA, w);
	etcd_curl_options(h, &w->one[i]);
	/* a member whose host is gone sends no FIN: let TCP find out */
	sym_curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	sym_curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 5L);
	sym_curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 2L);
	sym_curl_multi_add_handle(w->multi, h);
	while (running && !w->fail.len && !stopping(w)) {
		if (sym_curl_multi_perform(w->multi, &running) != CURLM_OK)
			break;
		if (!running || w->fail.len)
			break;
		if (mono_ms() >= next_check) {
			strbuf_reset(&err);
			if (quorum_check(w, i, &err) < 0) {
				strbuf_addf(&w->fail, "member without quorum: %s", err.buf);
				break;
			}
			next_check = mono_ms() + CHECK_MS;
		}
		sym_curl_multi_poll(w->multi, NULL, 0, 1000, NULL);
	}
	if (!w->fail.len) {
		int left;
		CURLMsg *msg;
		long status = 0;

		strbuf_addf(&w->fail, "%s: ", endpoint_name(w->one[i].endpoints.v[0]));
		while ((msg = sym_curl_multi_info_read(w->multi, &left)))
			if (msg->msg == CURLMSG_DONE && msg->data.result != CURLE_OK)
				strbuf_addstr(&w->fail, sym_curl_easy_strerror(msg->data.result));
		sym_curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		if (status && status != 200)
			strbuf_addf(&w->fail, "HTTP %ld", status);
		else if (w->fail.buf[w->fail.len - 1] == ' ')
			strbuf_addstr(&w->fail, "the watch stream ended");
	}
	sym_curl_multi_remove_handle(w->multi, h);
	lost(w, w->fail.buf);
out:
	if (h)
		sym_curl_easy_cleanup(h);
	sym_curl_slist_free_all(hdr);
	free(body);
	strbuf_release(&url);
	strbuf_release(&end);
	strbuf_release(&err);
}

static void *watch_main(void *arg)
{
	struct etcd_watch *w = arg;
	long backoff = BACKOFF_MIN_MS;
	size_t i = 0;

	while (!stopping(w)) {
		struct strbuf err = STRBUF_INIT;

		if (quorum_check(w, i, &err) == 0) {
			stream(w, i);
			/* a watch that worked: the next member is likely fine */
			if (w->created)
				backoff = BACKOFF_MIN_MS;
		} else {
			lost(w, err.buf);
		}
		strbuf_release(&err);
		i = (i + 1) % w->n;
		nap(w, backoff);
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
	}
	return NULL;
}

static void watch_free(struct etcd_watch *w)
{
	for (size_t i = 0; i < w->n; i++)
		etcd_client_release(&w->one[i]);
	free(w->one);
	if (w->multi)
		sym_curl_multi_cleanup(w->multi);
	if (w->pipe[0] >= 0)
		close(w->pipe[0]);
	if (w->pipe[1] >= 0)
		close(w->pipe[1]);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	strbuf_release(&w->line);
	strbuf_release(&w->fail);
	free(w->prefix);
	free(w);
}

int etcd_watch_start(struct etcd_watch **out, const char *hosts, int tls, const char *prefix, struct strbuf *err)
{
	struct etcd_watch *w = xcalloc(1, sizeof(*w));
	struct etcd_client all = ETCD_CLIENT_INIT;
	int r;

	*out = NULL;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	strbuf_init(&w->line, 0);
	strbuf_init(&w->fail, 0);
	w->pipe[0] = w->pipe[1] = -1;
	w->prefix = xstrdup(prefix);
	w->plen = strlen(prefix);
	r = etcd_client_init(&all, hosts, tls, err);
	if (r < 0)
		goto fail;
	w->n = all.endpoints.nr;
	w->one = xcalloc(w->n, sizeof(*w->one));
	for (size_t i = 0; i < w->n; i++) {
		w->one[i] = (struct etcd_client)ETCD_CLIENT_INIT;
		strvec_push(&w->one[i].endpoints, all.endpoints.v[i]);
		w->one[i].timeout_ms = 2000;
		w->one[i].cacert = all.cacert ? xstrdup(all.cacert) : NULL;
		w->one[i].cert = all.cert ? xstrdup(all.cert) : NULL;
		w->one[i].key = all.key ? xstrdup(all.key) : NULL;
	}
	etcd_client_release(&all);
	/* before the thread: libcurl is loaded and set up here, once (-EIO:
	 * -ENOENT means an expired lease to the callers of the store) */
	if (curl_dl_load(err) < 0) {
		r = -EIO;
		goto fail;
	}
	w->multi = sym_curl_multi_init();
	if (!w->multi) {
		strbuf_addstr(err, "cannot set up an etcd watch: out of memory");
		r = -ENOMEM;
		goto fail;
	}
	if (pipe2(w->pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		r = -errno;
		strbuf_addf(err, "cannot set up an etcd watch: %s", strerror(errno));
		goto fail;
	}
	r = -pthread_create(&w->thread, NULL, watch_main, w);
	if (r < 0) {
		strbuf_addf(err, "cannot start the etcd watch thread: %s", strerror(-r));
		goto fail;
	}
	*out = w;
	return 0;
fail:
	etcd_client_release(&all);
	watch_free(w);
	return r;
}

int etcd_watch_fd(const struct etcd_watch *w)
{
	return w->pipe[0];
}

void etcd_watch_drain(struct etcd_watch *w, struct store_watch_news *news)
{
	char buf[256];

	while (read(w->pipe[0], buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&w->mu);
	*news = w->news;
	w->news.files = 0;
	w->news.resync = 0;
	w->news.lost = 0;
	w->news.ngone = 0;
	pthread_mutex_unlock(&w->mu);
}

void etcd_watch_stop(struct etcd_watch *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	sym_curl_multi_wakeup(w->multi);
	pthread_join(w->thread, NULL);
	watch_free(w);
}
