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

/* sendmail -t reads the recipients from the message; its stdout and
 * stderr share one pipe (*outfd), which is all the message needs.
 * Both pipe ends this side are non-blocking for relay_message. */
static int start_sendmail(const char *sendmail, struct child *c, int *outfd, struct strbuf *err)
{
	int p[2], r;

	if (pipe2(p, O_CLOEXEC) < 0) {
		strbuf_addf(err, "cannot run '%s' - %s", sendmail, strerror(errno));
		return -errno;
	}
	strvec_pushv(&c->args, (const char *const[]){ sendmail, "-t", "-oi", NULL });
	c->in = CHILD_PIPE;
	c->out = p[1];
	c->err = p[1];
	/* a kill at the timeout reaches what it started, too */
	c->new_pgrp = 1;
	r = child_start(c);
	close(p[1]);
	if (r < 0) {
		close(p[0]);
		child_clear(c);
		strbuf_addf(err, "cannot run '%s' - %s", sendmail, strerror(-r));
		return r;
	}
	fcntl(c->in, F_SETFL, fcntl(c->in, F_GETFL) | O_NONBLOCK);
	fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
	*outfd = p[0];
	return 0;
}

/* One write of what is left of the message; the pipe is closed (-1)
 * once all is written or it fails, which tells sendmail the end. */
static void feed_some(int *fd, const char *message, size_t len, size_t *off)
{
	ssize_t n = write(*fd, message + *off, len - *off);

	if (n > 0)
		*off += (size_t)n;
	if ((n < 0 && errno != EAGAIN && errno != EINTR) || *off == len) {
		close(*fd);
		*fd = -1;
	}
}

/* One read of sendmail's output, kept up to MAIL_OUTPUT_MAX but always
 * drained so that sendmail never blocks on a full pipe. */
static void collect_some(int *fd, struct strbuf *out)
{
	char buf[1024];
	ssize_t n = read(*fd, buf, sizeof(buf));

	if (n > 0 && out->len < MAIL_OUTPUT_MAX)
		strbuf_add(out, buf, (size_t)n);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		close(*fd);
		*fd = -1;
	}
}

/* Feeds the message and collects the output until both pipes are done,
 * within the deadline (both at once: sendmail may answer before it has
 * read everything). Closes both pipes; returns true on a timeout. */
static bool relay_message(struct child *c, int outfd, const char *message, double deadline, struct strbuf *out)
{
	size_t len = strlen(message), off = 0;
	bool timed_out = false;

	while (c->in >= 0 || outfd >= 0) {
		struct pollfd pfd[2] = { { .fd = outfd, .events = POLLIN }, { .fd = c->in, .events = POLLOUT } };
		int left = (int)((deadline - mono_now()) * 1000);

		if (left <= 0) {
			timed_out = true;
			break;
		}
		if (poll(pfd, 2, left) < 0 && errno != EINTR)
			break;
		if (c->in >= 0 && pfd[1].revents)
			feed_some(&c->in, message, len, &off);
		if (outfd >= 0 && pfd[0].revents)
			collect_some(&outfd, out);
	}
	if (c->in >= 0)
		close(c->in);
	c->in = -1;
	if (outfd >= 0)
		close(outfd);
	return timed_out;
}

/* The pipes are closed: waits for the exit, still within the deadline.
 * Returns child_try_finish's result (1 exited, <0 failed) or 0 with
 * *timed_out set. */
static int wait_exit(struct child *c, double deadline, int *code, bool *timed_out)
{
	int r = 0;

	while (!*timed_out && (r = child_try_finish(c, code)) == 0) {
		if (mono_now() >= deadline) {
			*timed_out = true;
			break;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	}
	return r;
}

int mail_send(const char *sendmail, const char *message, unsigned timeout_s, struct strbuf *err)
{
	struct child c = CHILD_INIT;
	struct strbuf out = STRBUF_INIT;
	double deadline = mono_now() + timeout_s;
	int outfd = -1, code = 0, r;
	bool timed_out;

	if ((r = start_sendmail(sendmail, &c, &outfd, err)) < 0)
		return r;
	timed_out = relay_message(&c, outfd, message, deadline, &out);
	r = wait_exit(&c, deadline, &code, &timed_out);
	if (timed_out) {
		/* the process group: what sendmail started goes too */
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
