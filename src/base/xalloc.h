/* Allocation wrappers that abort on out-of-memory.
 *
 * volrep is a command-line tool and a small daemon: there is no sensible
 * recovery from a failed malloc of a few bytes, so we fail loudly instead of
 * threading ENOMEM through every caller. */
#ifndef VOLREP_BASE_XALLOC_H
#define VOLREP_BASE_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Grow *arr (of *alloc elements of elsize bytes) so that it holds at least
 * nr elements. Overflow-checked. */
void *xgrow(void *arr, size_t nr, size_t *alloc, size_t elsize);

#define ALLOC_GROW(arr, nr, alloc) ((arr) = xgrow((arr), (nr), &(alloc), sizeof(*(arr))))

#endif
