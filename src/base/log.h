/* Diagnostics to stderr.
 *
 * Convention (systemd): library layers return -errno and do not print;
 * the CLI/daemon layer prints one line and picks the exit code.
 * Messages are lower case, no final period, subjects quoted. */
#ifndef VOLREP_BASE_LOG_H
#define VOLREP_BASE_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Messages above this level are dropped. Default INFO; VOLREP_DEBUG=1 in the
 * environment raises it to DEBUG at startup (log_init). */
extern enum log_level log_max_level;
void log_init(void);

/* Prefix each line with "volrep: " (default) or not (set by front ends that
 * print pvesr-style plain messages). */
void log_set_prefix(const char *prefix);

/* Start every line with its syslog priority, "<3>" errors, "<4>"
 * warnings, "<6>" info, "<7>" debug (systemd's SyslogLevelPrefix, on by
 * default: journald files the line under that priority and strips the
 * prefix, so `journalctl -p err -u volrep` shows the failures). */
void log_set_priority_prefix(int on);
/* Turn the priority prefix on when stderr is the journal: JOURNAL_STREAM
 * ("<dev>:<inode>", set by systemd) names stderr's file. Returns 1 when
 * turned on. */
int log_priority_prefix_auto(void);

/* All return -1 so that "return error(...)" works. */
int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print and exit(code). */
_Noreturn void die_code(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An invariant was broken: a bug in volrep, not a user error. */
#define BUG(...) die_code(70, "BUG: " __VA_ARGS__)

#endif
