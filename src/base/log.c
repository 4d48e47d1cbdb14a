#include "base/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/sanitize.h"

enum log_level log_max_level = LOG_LVL_INFO;
static const char *log_prefix = "volrep: ";
static int log_priority;

void log_set_priority_prefix(int on)
{
	log_priority = on;
}

int log_priority_prefix_auto(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat sb;
	char c;

	if (!js || sscanf(js, "%llu:%llu%c", &dev, &ino, &c) != 2 || fstat(STDERR_FILENO, &sb) < 0 ||
	    (unsigned long long)sb.st_dev != dev || (unsigned long long)sb.st_ino != ino)
		return 0;
	log_priority = 1;
	return 1;
}

void log_init(void)
{
	const char *d = getenv("VOLREP_DEBUG");

	if (d && *d && strcmp(d, "0"))
		log_max_level = LOG_LVL_DEBUG;
}

void log_set_prefix(const char *prefix)
{
	log_prefix = prefix ? prefix : "";
}

static void vlog(enum log_level lvl, const char *tag, const char *fmt, va_list ap)
{
	if (lvl > log_max_level)
		return;
	/* one fprintf per line keeps lines whole when several workers log;
	 * messages quote remote and file text: no control characters, C1
	 * or invalid UTF-8 reach the terminal or the journal */
	static const char *const prio[] = { [LOG_LVL_ERROR] = "<3>", [LOG_LVL_WARN] = "<4>",
					    [LOG_LVL_INFO] = "<6>", [LOG_LVL_DEBUG] = "<7>" };
	char line[4096];
	struct strbuf clean = STRBUF_INIT;
	int n = vsnprintf(line, sizeof(line), fmt, ap);

	if (n < 0)
		n = 0;
	strbuf_add_sanitized(&clean, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1, 0);
	fprintf(stderr, "%s%s%s%s\n", log_priority ? prio[lvl] : "", log_prefix, tag, clean.buf);
	strbuf_release(&clean);
}

int error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_ERROR, "", fmt, ap);
	va_end(ap);
	return -1;
}

int warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_WARN, "warning: ", fmt, ap);
	va_end(ap);
	return -1;
}

void info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_INFO, "", fmt, ap);
	va_end(ap);
}

void debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_DEBUG, "debug: ", fmt, ap);
	va_end(ap);
}

void die_code(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_ERROR, "", fmt, ap);
	va_end(ap);
	exit(code);
}
