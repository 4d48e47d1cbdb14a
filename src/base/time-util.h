/* Wall-clock access with a test seam. */
#ifndef VOLREP_BASE_TIME_UTIL_H
#define VOLREP_BASE_TIME_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Current epoch seconds; VOLREP_NOW=<epoch> overrides it (tests walk through
 * time with it). */
int64_t volrep_now(void);
/* The monotonic clock, for durations and deadlines (never the wall
 * clock, which may jump): seconds as a double, milliseconds,
 * nanoseconds. */
double mono_now(void);
int64_t mono_ms(void);
int64_t mono_ns(void);
/* Format t in local time with strftime fmt into buf. Returns buf. */
char *format_localtime(char *buf, size_t size, const char *fmt, int64_t t);

/* A span of seconds for people, the two largest units: "45s", "3m12s",
 * "2h5m", "3d4h" (negative spans as 0s), appended to out. */
struct strbuf;
void format_age(int64_t secs, struct strbuf *out);

#endif
