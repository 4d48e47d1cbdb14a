/* The clocks, in one place (nothing else calls clock_gettime): the wall
 * clock with a test seam, the raw wall clock, the monotonic clock and
 * deadlines on either. */
#ifndef VOLREP_BASE_TIME_UTIL_H
#define VOLREP_BASE_TIME_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Current epoch seconds; VOLREP_NOW=<epoch> overrides it (tests walk through
 * time with it). */
int64_t volrep_now(void);
/* The monotonic clock, for durations and deadlines (never the wall
 * clock, which may jump): seconds as a double, milliseconds,
 * nanoseconds. */
double mono_now(void);
int64_t mono_ms(void);
int64_t mono_ns(void);
/* A deadline timeout_ms from now on the monotonic clock (as mono_ms), and
 * the milliseconds left until it (<= 0: passed). */
int64_t mono_deadline(int64_t timeout_ms);
int64_t mono_left_ms(int64_t deadline);

/* The wall clock without the VOLREP_NOW seam, for what other processes
 * and nodes read (liveness records, timestamps compared across daemons):
 * epoch milliseconds and seconds. */
int64_t wall_ms(void);
int64_t wall_secs(void);
/* The wall-clock instant ms from now as a timespec: the absolute time
 * pthread_cond_timedwait takes (its default clock is CLOCK_REALTIME). */
struct timespec wall_deadline(int64_t ms);
/* Format t in local time with strftime fmt into buf. Returns buf. */
char *format_localtime(char *buf, size_t size, const char *fmt, int64_t t);

/* A span of seconds for people, the two largest units: "45s", "3m12s",
 * "2h5m", "3d4h" (negative spans as 0s), appended to out. */
struct strbuf;
void format_age(int64_t secs, struct strbuf *out);

/* The one format of times shown to people (status, job logs, calendar,
 * create/update): local time, "2026-12-02 03:04:05". */
#define TIME_FORMAT "%Y-%m-%d %H:%M:%S"
/* t as TIME_FORMAT into buf (size >= 20). Returns buf. */
char *format_time(char *buf, size_t size, int64_t t);
/* t as ISO 8601 with the local offset, "2026-12-02T03:04:05+01:00" (JSON;
 * size >= 26; "" when it does not fit). Returns buf. */
char *format_iso8601(char *buf, size_t size, int64_t t);
/* A duration for people: "0.4s", "3.2s", "59.9s" under a minute, then as
 * format_age ("1m4s", "2h5m"), appended to out. */
void format_duration(double secs, struct strbuf *out);

#endif
