/* NULL-terminated, growable vector of owned strings: the argv of a child
 * process, a list of volume ids, ... (after git's strvec).
 * v is never NULL; v[nr] is always NULL. */
#ifndef VOLREP_BASE_STRVEC_H
#define VOLREP_BASE_STRVEC_H

#include <stddef.h>

struct strvec {
	char **v;
	size_t nr;
	size_t alloc;
};

extern char *strvec_empty[];
#define STRVEC_INIT { .v = strvec_empty, .nr = 0, .alloc = 0 }

void strvec_init(struct strvec *sv);
const char *strvec_push(struct strvec *sv, const char *s);
const char *strvec_pushf(struct strvec *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Push each string of a NULL-terminated array. */
void strvec_pushv(struct strvec *sv, const char *const *items);
void strvec_pop(struct strvec *sv);
void strvec_clear(struct strvec *sv);
/* Index of s in sv, or -1. */
long strvec_find(const struct strvec *sv, const char *s);
/* Sort lexically (strcmp) and drop duplicates. */
void strvec_sort_uniq(struct strvec *sv);
/* Split s at every sep into sv (empty fields are dropped). */
void strvec_split(struct strvec *sv, const char *s, char sep);

#endif
