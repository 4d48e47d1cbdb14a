#include "exec/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/time-util.h"
#include "base/xalloc.h"

extern char **environ;

static char **build_env(const struct strvec *extra)
{
	size_t n = 0, out = 0;
	char **env;

	while (environ[n])
		n++;
	env = xcalloc(n + extra->nr + 1, sizeof(*env));
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t klen = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
		int replaced = 0;

		for (size_t j = 0; j < extra->nr; j++)
			if (!strncmp(extra->v[j], environ[i], klen) && extra->v[j][klen] == '=')
				replaced = 1;
		if (!replaced)
			env[out++] = environ[i];
	}
	for (size_t j = 0; j < extra->nr; j++)
		env[out++] = extra->v[j];
	env[out] = NULL;
	return env;
}

/* The exec case: posix_spawnp, not fork, because a fork copies this
 * process's page tables only for the exec to throw them away, which
 * cost about as much CPU as the zfs call itself (glibc spawns with
 * CLONE_VM|CLONE_VFORK). Same child as a fork would give: no signal
 * blocked or handled, the process group, stdin/stdout/stderr in place
 * (a dup2 onto itself clears CLOEXEC), everything else closed by
 * CLOEXEC. glibc reports a failed exec as the return value and reaps
 * that child; it never retries through /bin/sh. */
static int spawn_exec(struct child *c, char **env, const int fds[3])
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
	int r;

	sigemptyset(&none);
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	if ((r = posix_spawnattr_init(&attr)))
		return -r;
	if ((r = posix_spawn_file_actions_init(&fa))) {
		posix_spawnattr_destroy(&attr);
		return -r;
	}
	if (c->new_pgrp)
		flags |= POSIX_SPAWN_SETPGROUP;
	r = posix_spawnattr_setflags(&attr, flags);
	if (!r)
		r = posix_spawnattr_setsigmask(&attr, &none);
	if (!r)
		r = posix_spawnattr_setsigdefault(&attr, &all);
	if (!r && c->new_pgrp)
		r = posix_spawnattr_setpgroup(&attr, 0);
	for (int i = 0; i < 3 && !r; i++)
		if (fds[i] >= 0)
			r = posix_spawn_file_actions_adddup2(&fa, fds[i], i);
	if (!r)
		r = posix_spawnp(&c->pid, c->args.v[0], &fa, &attr, c->args.v, env);
	if (r)
		c->pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return -r;
}

/* child_start_fn's child: the same descriptors as child_exec, then fn
 * in this very process image (no exec: the caller's state, its parsed
 * config and caches, is inherited). */
static _Noreturn void child_run_fn(struct child *c, int fds[3], const int parent_end[3],
				   int (*fn)(void *), void *arg)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (c->new_pgrp)
		setpgid(0, 0);
	/* without an exec CLOEXEC closes nothing: the parent's ends of our
	 * own pipes must go, or our stdin never sees EOF */
	for (int i = 0; i < 3; i++)
		if (parent_end[i] >= 0)
			close(parent_end[i]);
	for (int i = 0; i < 3; i++) {
		if (fds[i] == i)
			fcntl(i, F_SETFD, 0);
		else if (fds[i] >= 0 && dup2(fds[i], i) < 0)
			_exit(127);
	}
	for (int i = 0; i < 3; i++)
		if (fds[i] > 2)
			close(fds[i]);
	int code = fn(arg);
	fflush(NULL);
	_exit(code & 0xff);
}

static int open_null(int flags)
{
	return open("/dev/null", flags | O_CLOEXEC);
}

static int start_common(struct child *c, int (*fn)(void *), void *arg);

int child_start(struct child *c)
{
	return start_common(c, NULL, NULL);
}

int child_start_fn(struct child *c, int (*fn)(void *), void *arg)
{
	return fn ? start_common(c, fn, arg) : -EINVAL;
}

/* Stdin, stdout or stderr (slot i) as the child is to get it (want, a
 * CHILD_* value or a descriptor): *fd is what it gets, *own our copy
 * of a descriptor we made for it (closed once it has its own), and
 * *parent_end our end of a pipe. */
static int setup_slot(int i, int want, int *fd, int *own, int *parent_end)
{
	int p[2];

	switch (want) {
	case CHILD_INHERIT:
		*fd = i;
		break;
	case CHILD_NULL:
		*own = open_null(i == 0 ? O_RDONLY : O_WRONLY);
		if (*own < 0)
			return -errno;
		*fd = *own;
		break;
	case CHILD_PIPE:
		if (pipe2(p, O_CLOEXEC) < 0)
			return -errno;
		*fd = *own = i == 0 ? p[0] : p[1];
		*parent_end = i == 0 ? p[1] : p[0];
		break;
	default:
		*fd = want;
	}
	return 0;
}

/* Forks for child_start_fn; the child never comes back from here (it
 * runs fn, then _exits). */
static int fork_child(struct child *c, int (*fn)(void *), void *arg, int fds[3],
		      const int parent_end[3])
{
	/* else what stdio holds unwritten would be written twice */
	fflush(NULL);
	c->pid = fork();
	if (c->pid < 0)
		return -errno;
	if (c->pid == 0)
		child_run_fn(c, fds, parent_end, fn, arg);
	if (c->new_pgrp)
		setpgid(c->pid, c->pid); /* both sides, to avoid the race */
	return 0;
}

/* A failed start leaves no descriptor behind. */
static void close_ends(const int own[3], const int parent_end[3])
{
	for (int i = 0; i < 3; i++) {
		if (own[i] >= 0)
			close(own[i]);
		if (parent_end[i] >= 0)
			close(parent_end[i]);
	}
}

static int start_common(struct child *c, int (*fn)(void *), void *arg)
{
	int *slots[3] = { &c->in, &c->out, &c->err };
	int fds[3] = { 0, 1, 2 }, parent_end[3] = { -1, -1, -1 }, own[3] = { -1, -1, -1 };
	int r = 0;

	if (!c->args.nr && !fn)
		return -EINVAL;
	for (int i = 0; i < 3 && r == 0; i++)
		r = setup_slot(i, *slots[i], &fds[i], &own[i], &parent_end[i]);
	if (r == 0 && fn) {
		r = fork_child(c, fn, arg, fds, parent_end);
	} else if (r == 0) {
		char **env = build_env(&c->env);

		r = spawn_exec(c, env, fds);
		free(env);
	}
	if (r < 0) {
		close_ends(own, parent_end);
		return r;
	}
	/* started: our copies of the child's ends go, our pipe ends take
	 * the place of the CHILD_PIPE requests */
	for (int i = 0; i < 3; i++) {
		if (own[i] >= 0)
			close(own[i]);
		if (parent_end[i] >= 0)
			*slots[i] = parent_end[i];
	}
	return 0;
}

void child_kill(struct child *c, int sig)
{
	if (c->pid <= 0)
		return;
	if (c->new_pgrp)
		kill(-c->pid, sig);
	else
		kill(c->pid, sig);
}

void child_clear(struct child *c)
{
	strvec_clear(&c->args);
	strvec_clear(&c->env);
}

int child_finish(struct child *c)
{
	int status, r;

	if (c->pid <= 0) {
		child_clear(c);
		return -ECHILD;
	}
	while ((r = waitpid(c->pid, &status, 0)) < 0 && errno == EINTR)
		;
	c->pid = -1;
	child_clear(c);
	if (r < 0)
		return -errno;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int child_try_finish(struct child *c, int *code)
{
	int status, r;

	if (c->pid <= 0)
		return -ECHILD;
	while ((r = waitpid(c->pid, &status, WNOHANG)) < 0 && errno == EINTR)
		;
	if (r < 0)
		return -errno;
	if (r == 0)
		return 0;
	c->pid = -1;
	child_clear(c);
	*code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	return 1;
}

int child_stop(struct child *c, long wait_ms)
{
	int64_t end = mono_ms() + wait_ms;
	int code, r;

	for (;;) {
		struct timespec ts = { 0, 20000000L };

		r = child_try_finish(c, &code);
		if (r != 0)
			return r < 0 ? r : code;
		if (mono_ms() >= end)
			break;
		nanosleep(&ts, NULL);
	}
	child_kill(c, SIGTERM);
	/* a stopped child (SIGSTOP, a stalled export) would keep SIGTERM
	 * pending and child_finish wait forever */
	child_kill(c, SIGCONT);
	return child_finish(c);
}

int run_capture(const char *const *argv, const char *input, size_t inlen,
		struct strbuf *out, struct strbuf *err, size_t max)
{
	struct child c = CHILD_INIT;

	strvec_pushv(&c.args, argv);
	return child_capture(&c, input, inlen, out, err, max);
}

/* child_capture's state: pfd[0] our end of the child's stdin (-1 once
 * done or without input), pfd[1..2] its stdout and stderr. */
struct capture {
	struct pollfd pfd[3];
	const char *input;
	size_t inlen, off;
	struct strbuf *dst[3];
	size_t count[3], max;
	int too_big, stalled;
	int64_t last_io;
};

/* The poll timeout that ends at the stall timeout (-1: none). A child
 * that neither reads nor writes (a remote side that never answers) is
 * killed, and cp->stalled stops waiting for its pipes, which a
 * grandchild may hold open. */
static int capture_timeout(struct child *c, struct capture *cp)
{
	int64_t left;

	if (c->stall_timeout_ms <= 0)
		return -1;
	left = cp->last_io + c->stall_timeout_ms - mono_ms();
	if (left <= 0) {
		cp->stalled = 1;
		child_kill(c, SIGKILL);
		return -1;
	}
	return left > 60000 ? 60000 : (int)left;
}

/* One write of the input; stdin is closed once all is written (the
 * child's EOF) or the write fails. */
static void capture_feed(struct capture *cp)
{
	ssize_t n = write(cp->pfd[0].fd, cp->input + cp->off, cp->inlen - cp->off);

	if (n > 0) {
		cp->off += (size_t)n;
		cp->last_io = mono_ms();
	}
	if (n < 0 || cp->off == cp->inlen) {
		close(cp->pfd[0].fd);
		cp->pfd[0].fd = -1;
	}
}

/* One read of stdout or stderr (i 1 or 2). Past max in either the child
 * is killed: its output would not be kept anyway. */
static void capture_read(struct child *c, struct capture *cp, int i)
{
	char buf[8192];
	ssize_t n = read(cp->pfd[i].fd, buf, sizeof(buf));

	if (n < 0 && errno == EINTR)
		return;
	if (n <= 0) {
		close(cp->pfd[i].fd);
		cp->pfd[i].fd = -1;
		return;
	}
	cp->last_io = mono_ms();
	cp->count[i] += (size_t)n;
	if (cp->count[i] > cp->max) {
		cp->too_big = 1;
		child_kill(c, SIGKILL);
	} else if (cp->dst[i]) {
		strbuf_add(cp->dst[i], buf, (size_t)n);
	}
}

/* Writing stdin and reading both outputs in one poll loop: a child
 * that fills one pipe while we block on another cannot deadlock us. */
static void capture_loop(struct child *c, struct capture *cp)
{
	struct pollfd *pfd = cp->pfd;

	while (pfd[0].fd >= 0 || pfd[1].fd >= 0 || pfd[2].fd >= 0) {
		int timeout = capture_timeout(c, cp), n_ready;

		if (cp->stalled)
			break;
		n_ready = poll(pfd, 3, timeout);
		if (n_ready < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (n_ready == 0)
			continue;
		if (pfd[0].fd >= 0 && pfd[0].revents)
			capture_feed(cp);
		for (int i = 1; i < 3; i++)
			if (pfd[i].fd >= 0 && pfd[i].revents)
				capture_read(c, cp, i);
	}
	for (int i = 0; i < 3; i++)
		if (pfd[i].fd >= 0)
			close(pfd[i].fd);
}

int child_capture(struct child *c, const char *input, size_t inlen,
		  struct strbuf *out, struct strbuf *err, size_t max)
{
	/* the time the start takes counts towards the stall timeout */
	struct capture cp = { .input = input, .inlen = inlen, .dst = { NULL, out, err }, .max = max,
			      .last_io = mono_ms() };
	int r;

	c->in = input ? CHILD_PIPE : CHILD_NULL;
	c->out = CHILD_PIPE;
	c->err = CHILD_PIPE;
	r = child_start(c);
	if (r < 0) {
		child_clear(c);
		return r;
	}
	cp.pfd[0] = (struct pollfd){ .fd = input ? c->in : -1, .events = POLLOUT };
	cp.pfd[1] = (struct pollfd){ .fd = c->out, .events = POLLIN };
	cp.pfd[2] = (struct pollfd){ .fd = c->err, .events = POLLIN };
	/* nothing to write: the child's EOF at once */
	if (input && !inlen) {
		close(c->in);
		cp.pfd[0].fd = -1;
	}
	capture_loop(c, &cp);
	r = child_finish(c);
	if (cp.stalled)
		return -ETIMEDOUT;
	return cp.too_big ? -EFBIG : r;
}

const char *exit_status_str(int code, char *buf, size_t size)
{
	if (code > 128 && code < 128 + NSIG)
		snprintf(buf, size, "killed by signal %d", code - 128);
	else if (code < 0)
		snprintf(buf, size, "%s", strerror(-code));
	else
		snprintf(buf, size, "exit code %d", code);
	return buf;
}
