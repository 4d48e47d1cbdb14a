#include "engine/elog.h"

#include <stdarg.h>
#include <stdio.h>

#include "base/strbuf.h"

void elog_printf(const struct elog *l, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	if (!l || !l->fn)
		return;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	l->fn(l->data, sb.buf);
	strbuf_release(&sb);
}

static void to_stderr(void *data, const char *msg)
{
	(void)data;
	fprintf(stderr, "%s\n", msg);
	fflush(stderr);
}

const struct elog elog_stderr = { .fn = to_stderr, .data = NULL };
