/* Calendar events: the `schedule` of a replication job.
 *
 * Grammar and semantics: docs/calendar.md (Proxmox's
 * calendar events), except that the next event is always the earliest
 * matching second (no overflow-skip quirk). Pure functions: no I/O, the
 * only outside input is the process time zone (TZ) for local-time events.
 *
 * Local time (no "UTC" suffix): the fields are matched against the wall
 * clock of the process time zone. A wall-clock time that does not exist
 * (spring-forward gap) never fires; one that occurs twice (fall-back) fires
 * once, at its first occurrence. Precisely: an instant t is an event when
 * its wall-clock time matches and is later than every wall-clock time shown
 * before t. Assumes, as every real zone does, that UTC offset changes are
 * less than 26 hours and that no two of them lie within 26 hours. */
#ifndef VOLREP_CONFIG_CALENDAR_H
#define VOLREP_CONFIG_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/strbuf.h"

/* Longest accepted spec, as pvesr's schema (maxLength 128). */
#define CALENDAR_SPEC_MAX 128

struct calendar;

/* Parse spec (leading/trailing whitespace trimmed as PVE does). On success
 * returns 0 and *ret owns a new event. On failure returns -EINVAL and
 * writes the reason (e.g. "value '61' out of range") into errbuf. */
int calendar_parse(const char *spec, struct calendar **ret, char *errbuf, size_t errlen);

/* The first event strictly after `after`. Returns 1 and sets *next, or 0
 * when there is none (e.g. "02-30", a date in the past). Bounded: returns
 * quickly for every spec. */
int calendar_next(const struct calendar *cal, int64_t after, int64_t *next);

/* NULL-tolerant. */
void calendar_free(struct calendar *cal);

/* Append the canonical form to sb: "[weekdays ]Y-M-D H:M:S[ UTC]", e.g.
 * "mon..fri *-*-* 22:30:00 UTC". It parses back to the same event
 * (provided it fits CALENDAR_SPEC_MAX) and formats to the same text. */
void calendar_format(const struct calendar *cal, struct strbuf *sb);

/* Whether the event is evaluated in UTC (spec ended in "UTC"). */
bool calendar_is_utc(const struct calendar *cal);

/* Whether the broken-down time tm (tm_year, tm_mon, tm_mday, tm_wday,
 * tm_hour, tm_min, tm_sec as from gmtime_r/localtime_r) matches all fields.
 * A slow, direct check for tests and fuzzing; calendar_next never returns
 * an instant whose broken-down time does not match. */
bool calendar_matches(const struct calendar *cal, const struct tm *tm);

#endif
