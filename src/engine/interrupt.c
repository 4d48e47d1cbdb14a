#include "engine/interrupt.h"

#include <errno.h>
#include <string.h>

static volatile sig_atomic_t received;

static void on_signal(int sig)
{
	received = sig;
}

int interrupt_install(void)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: poll/read/nanosleep return EINTR */
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) < 0)
			return -errno;
	return 0;
}

int interrupt_signal(void)
{
	return received;
}

const volatile sig_atomic_t *interrupt_flag(void)
{
	return &received;
}

void interrupt_describe(int sig, struct strbuf *sb)
{
	switch (sig) {
	case SIGTERM:
		strbuf_addstr(sb, "interrupted by SIGTERM");
		break;
	case SIGINT:
		strbuf_addstr(sb, "interrupted by SIGINT");
		break;
	case SIGHUP:
		strbuf_addstr(sb, "interrupted by SIGHUP");
		break;
	default:
		strbuf_addf(sb, "interrupted by signal %d", sig);
	}
}

void interrupt_reset(void)
{
	received = 0;
}

void interrupt_raise_flag(int sig)
{
	received = sig;
}
