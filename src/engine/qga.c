#include "engine/qga.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/sanitize.h"
#include "base/time-util.h"
#include "engine/interrupt.h"

/* One line (without its line end) as exactly one JSON object. */
static json_t *parse_line(const char *s, size_t n, struct strbuf *err)
{
	json_error_t je;
	json_t *o;

	if (n && s[n - 1] == '\r')
		n--;
	o = json_loadb(s, n, JSON_REJECT_DUPLICATES, &je);
	if (!o || !json_is_object(o)) {
		strbuf_addf(err, "guest agent sent %s", o ? "a JSON line that is not an object" : "a line that is not JSON");
		json_decref(o);
		return NULL;
	}
	return o;
}

static int fill_reply(json_t *o, struct qga_reply *rep, struct strbuf *err)
{
	json_t *ret = json_object_get(o, "return"), *e = json_object_get(o, "error");

	memset(rep, 0, sizeof(*rep));
	if ((ret && e) || json_object_size(o) != 1 || (!ret && !e)) {
		strbuf_addstr(err, "guest agent sent a reply with neither exactly 'return' nor 'error'");
		return -EPROTO;
	}
	if (ret) {
		rep->kind = QGA_RETURN;
		if (json_is_integer(ret)) {
			rep->has_int = 1;
			rep->ival = json_integer_value(ret);
		} else if (json_is_string(ret)) {
			const char *w = json_string_value(ret);
			size_t n = strlen(w);

			if (n < sizeof(rep->word) && strspn(w, "abcdefghijklmnopqrstuvwxyz-") == n)
				memcpy(rep->word, w, n + 1);
		}
		return 0;
	}
	rep->kind = QGA_ERROR;
	if (json_is_object(e) && json_is_string(json_object_get(e, "desc"))) {
		struct strbuf d = STRBUF_INIT;
		const char *s = json_string_value(json_object_get(e, "desc"));

		strbuf_add_sanitized(&d, s, strnlen(s, sizeof(rep->desc) - 1), 0);
		snprintf(rep->desc, sizeof(rep->desc), "%s", d.buf);
		strbuf_release(&d);
	} else {
		snprintf(rep->desc, sizeof(rep->desc), "unknown");
	}
	return 0;
}

int qga_parse_reply(const char *buf, size_t len, int64_t id, struct qga_reply *rep, struct strbuf *err)
{
	const char *p = buf, *end = buf + len;

	for (;;) {
		const char *ff = memchr(p, 0xff, (size_t)(end - p)), *l1, *nl1, *l2, *nl2;
		json_t *o, *v;
		int64_t got;
		int r;

		if (!ff)
			break;
		l1 = ff + 1;
		nl1 = memchr(l1, '\n', (size_t)(end - l1));
		if (!nl1)
			break;
		l2 = nl1 + 1;
		nl2 = memchr(l2, '\n', (size_t)(end - l2));
		if (!nl2)
			break;
		o = parse_line(l1, (size_t)(nl1 - l1), err);
		if (!o)
			return -EPROTO;
		v = json_object_get(o, "return");
		if (json_object_size(o) != 1 || !json_is_integer(v)) {
			json_decref(o);
			strbuf_addstr(err, "guest agent sent a sync reply without an integer id");
			return -EPROTO;
		}
		got = json_integer_value(v);
		json_decref(o);
		if (got < id) {
			/* a late answer to an earlier client: skip it */
			p = nl2 + 1;
			continue;
		}
		if (got != id) {
			strbuf_addf(err, "guest agent sent the wrong sync id %" PRId64 " (expected %" PRId64 ")", got, id);
			return -EPROTO;
		}
		o = parse_line(l2, (size_t)(nl2 - l2), err);
		if (!o)
			return -EPROTO;
		r = fill_reply(o, rep, err);
		json_decref(o);
		return r < 0 ? r : 1;
	}
	if (len >= QGA_REPLY_MAX) {
		strbuf_addf(err, "guest agent sent more than %d bytes without a complete reply", QGA_REPLY_MAX);
		return -EPROTO;
	}
	return 0;
}

/* Wait for events on fd until the deadline: 1 ready, 0 timed out,
 * -EINTR when the run is interrupted and stop says to give up then. */
static int wait_fd(int fd, short events, int64_t deadline, int stop)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		int64_t left = mono_left_ms(deadline);
		int n;

		if (stop && interrupt_signal())
			return -EINTR;
		if (left <= 0)
			return 0;
		n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

int qga_command(const char *path, const char *cmd, long timeout_ms, struct qga_reply *rep, struct strbuf *err)
{
	static unsigned seq;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char req[256], buf[QGA_REPLY_MAX];
	int64_t deadline;
	size_t len = 0, sent = 0, reqlen;
	int64_t id = (int64_t)getpid() * 1000 + (++seq % 1000);
	/* a signal ends the wait, except for the thaw: that one must go */
	int stop = strcmp(cmd, "guest-fsfreeze-thaw") != 0;
	int fd, r = 0;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		strbuf_addf(err, "guest agent socket path '%s' is too long", path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	reqlen = (size_t)snprintf(req, sizeof(req),
				  "{\"execute\": \"guest-sync-delimited\", \"arguments\": {\"id\": %" PRId64 "}}\n"
				  "{\"execute\": \"%s\"}\n", id, cmd);
	deadline = mono_deadline(timeout_ms);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS &&
		       errno != EAGAIN)) {
		r = -errno;
		strbuf_addf(err, "unable to connect to the guest agent socket '%s' - %s", path, strerror(errno));
		goto out;
	}
	while (sent < reqlen) {
		ssize_t n;

		if ((r = wait_fd(fd, POLLOUT, deadline, stop)) <= 0)
			goto timeout;
		n = send(fd, req + sent, reqlen - sent, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			r = -errno;
			strbuf_addf(err, "guest agent socket '%s': %s", path, strerror(errno));
			goto out;
		}
		if (n > 0)
			sent += (size_t)n;
	}
	for (;;) {
		ssize_t n;

		r = qga_parse_reply(buf, len, id, rep, err);
		if (r != 0)
			break;
		if ((r = wait_fd(fd, POLLIN, deadline, stop)) <= 0)
			goto timeout;
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n == 0) {
			strbuf_addf(err, "guest agent closed '%s' without a reply", path);
			r = -EPROTO;
			break;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			r = -errno;
			strbuf_addf(err, "guest agent socket '%s': %s", path, strerror(errno));
			break;
		}
		if (n > 0)
			len += (size_t)n;
	}
	r = r > 0 ? 0 : r;
	goto out;
timeout:
	if (r == 0) {
		r = -ETIMEDOUT;
		strbuf_addf(err, "guest agent command '%s' got timeout after %ld ms", cmd, timeout_ms);
	} else {
		strbuf_addf(err, "guest agent socket '%s': %s", path, strerror(-r));
	}
out:
	if (fd >= 0)
		close(fd);
	return r;
}
