#include "notify/mail.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/time-util.h"
#include "exec/spawn.h"

/* What sendmail said is kept for the message, up to this much. */
#define MAIL_OUTPUT_MAX 4096

static void first_line(const struct strbuf *out, struct strbuf *err)
{
	size_t n = strcspn(out->buf, "\n");

	if (n)
		strbuf_addf(err, ": %.*s", (int)(n > 200 ? 200 : n), out->buf);
}

int mail_send(const char *sendmail, const char *message, unsigned timeout_s, struct strbuf *err)
{
	struct child c = CHILD_INIT;
	struct strbuf out = STRBUF_INIT;
	double deadline = mono_now() + timeout_s;
	size_t len = strlen(message), off = 0;
	int p[2], code = 0, r;
	bool timed_out = false;

	if (pipe2(p, O_CLOEXEC) < 0) {
		strbuf_addf(err, "cannot run '%s' - %s", sendmail, strerror(errno));
		return -errno;
	}
	strvec_pushv(&c.args, (const char *const[]){ sendmail, "-t", "-oi", NULL });
	c.in = CHILD_PIPE;
	c.out = p[1];
	c.err = p[1];
	/* a kill at the timeout reaches what it started, too */
	c.new_pgrp = 1;
	r = child_start(&c);
	close(p[1]);
	if (r < 0) {
		close(p[0]);
		child_clear(&c);
		strbuf_addf(err, "cannot run '%s' - %s", sendmail, strerror(-r));
		return r;
	}
	fcntl(c.in, F_SETFL, fcntl(c.in, F_GETFL) | O_NONBLOCK);
	fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
	/* feed the message and collect the output until both pipes are
	 * done, within the deadline */
	while (c.in >= 0 || p[0] >= 0) {
		struct pollfd pfd[2] = { { .fd = p[0], .events = POLLIN }, { .fd = c.in, .events = POLLOUT } };
		int left = (int)((deadline - mono_now()) * 1000);

		if (left <= 0) {
			timed_out = true;
			break;
		}
		if (poll(pfd, 2, left) < 0 && errno != EINTR)
			break;
		if (c.in >= 0 && pfd[1].revents) {
			ssize_t n = write(c.in, message + off, len - off);

			if (n > 0)
				off += (size_t)n;
			if ((n < 0 && errno != EAGAIN && errno != EINTR) || off == len) {
				close(c.in);
				c.in = -1;
			}
		}
		if (p[0] >= 0 && pfd[0].revents) {
			char buf[1024];
			ssize_t n = read(p[0], buf, sizeof(buf));

			if (n > 0 && out.len < MAIL_OUTPUT_MAX)
				strbuf_add(&out, buf, (size_t)n);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
				close(p[0]);
				p[0] = -1;
			}
		}
	}
	if (c.in >= 0)
		close(c.in);
	c.in = -1;
	if (p[0] >= 0)
		close(p[0]);
	/* the pipes are closed: wait for the exit, still within the deadline */
	while (!timed_out && (r = child_try_finish(&c, &code)) == 0) {
		if (mono_now() >= deadline) {
			timed_out = true;
			break;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	}
	if (timed_out) {
		child_kill(&c, SIGKILL);
		child_finish(&c);
		strbuf_addf(err, "'%s' did not finish within %us", sendmail, timeout_s);
		r = -ETIMEDOUT;
	} else if (r < 0) {
		strbuf_addf(err, "cannot wait for '%s' - %s", sendmail, strerror(-r));
	} else if (code != 0) {
		char st[64];

		strbuf_addf(err, "'%s' failed with %s", sendmail, exit_status_str(code, st, sizeof(st)));
		first_line(&out, err);
		r = -EIO;
	} else {
		r = 0;
	}
	child_clear(&c);
	strbuf_release(&out);
	return r;
}
