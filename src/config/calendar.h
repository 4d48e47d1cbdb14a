/* Calendar events: the `schedule` of a replication job.
 *
 * Grammar and semantics: shared/reference/calendar-events.md (Proxmox's
 * calendar events), except that the next event is always the earliest
 * matching second (no overflow-skip quirk). Pure functions: no I/O, the
 * only outside input is the process time zone (TZ) for local-time events. */
#ifndef VOLREP_CONFIG_CALENDAR_H
#define VOLREP_CONFIG_CALENDAR_H

#include <stddef.h>
#include <stdint.h>

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

void calendar_free(struct calendar *cal);

#endif
