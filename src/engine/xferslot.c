#include "engine/xferslot.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/time-util.h"
#include "base/validate.h"
#include "base/xalloc.h"

/* how often a waiting run looks at the slots again (as lock_acquire) */
#define XFER_POLL_NS (10 * 1000 * 1000L)

void xfer_slot_path(struct strbuf *sb, const char *state_dir, const char *target, unsigned k)
{
	strbuf_addf(sb, "%s/lock/transfer-%s.%u.lck", state_dir, target, k);
}

/* One pass over the slots: 1 with *slot set when one was taken, 0 when
 * all are busy, -errno. */
static int try_all(const int *fds, unsigned n, unsigned *slot)
{
	for (unsigned k = 0; k < n; k++) {
		if (flock(fds[k], LOCK_EX | LOCK_NB) == 0) {
			*slot = k;
			return 1;
		}
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
	}
	return 0;
}

int xfer_slot_acquire(struct lock *lk, const char *state_dir, const char *target, unsigned n, unsigned *slot,
		      double *waited)
{
	struct strbuf path = STRBUF_INIT;
	sigset_t stop, old;
	bool slept = false;
	int *fds;
	double t0 = mono_now();
	int r = 0;

	*waited = 0;
	if (!valid_node_name(target) || n < 1 || n > XFER_SLOTS_MAX)
		return -EINVAL;
	strbuf_addf(&path, "%s/lock", state_dir);
	r = mkdir_p(path.buf, 0755);
	if (r < 0) {
		strbuf_release(&path);
		return r;
	}
	fds = xcalloc(n, sizeof(*fds));
	for (unsigned k = 0; k < n; k++)
		fds[k] = -1;
	for (unsigned k = 0; k < n && r == 0; k++) {
		strbuf_reset(&path);
		xfer_slot_path(&path, state_dir, target, k);
		fds[k] = open_regular(path.buf, O_RDWR | O_CREAT, 0600, 1);
		if (fds[k] < 0)
			r = fds[k];
	}
	/* SIGTERM/SIGINT/SIGHUP stay blocked except while sleeping (ppoll
	 * swaps the mask atomically): one that comes during a try is pending
	 * and ends the next sleep, so a stop request is never lost. A process
	 * that catches them (engine/interrupt.h, without SA_RESTART) gets
	 * -EINTR, its handler already run; one that does not dies of them as
	 * before. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGHUP);
	sigprocmask(SIG_BLOCK, &stop, &old);
	while (r == 0) {
		const struct timespec ts = { 0, XFER_POLL_NS };

		r = try_all(fds, n, slot);
		if (r != 0)
			break;
		slept = true;
		if (ppoll(NULL, 0, &ts, &old) < 0 && errno == EINTR)
			r = -EINTR;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	for (unsigned k = 0; k < n; k++)
		if (fds[k] >= 0 && !(r == 1 && k == *slot))
			close(fds[k]);
	if (r == 1) {
		lk->fd = fds[*slot];
		*waited = slept ? mono_now() - t0 : 0;
		r = 0;
	}
	free(fds);
	strbuf_release(&path);
	return r;
}
