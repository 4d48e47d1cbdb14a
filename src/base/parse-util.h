/* Strict number parsing: the whole string must be a number, no leading
 * whitespace or sign surprises, overflow detected. All return 0 on success
 * and -EINVAL / -ERANGE on failure, leaving *out untouched. */
#ifndef VOLREP_BASE_PARSE_UTIL_H
#define VOLREP_BASE_PARSE_UTIL_H

#include <stddef.h>
#include <stdint.h>

int parse_u64(const char *s, uint64_t *out);
int parse_i64(const char *s, int64_t *out);
/* Unsigned value in [min, max]. */
int parse_uint_range(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Finite decimal floating point number ("1", "2.5", "1e3"). */
int parse_double(const char *s, double *out);
/* The value of a hex digit (0-9, a-f, A-F), -1 for anything else. */
int hex_digit(char c);

/* The line of text[0..len) that starts at *pos, without its '\n': returns
 * its start, sets *llen to its length and moves *pos past it. NULL once
 * *pos has reached len. The line parsers of the config files walk their
 * text with it. */
const char *next_text_line(const char *text, size_t len, size_t *pos, size_t *llen);

#endif
