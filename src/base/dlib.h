/* Optional shared libraries, opened on first use (after systemd's
 * dlfcn-util): libcurl and libmicrohttpd, with their ~28 dependencies
 * (gnutls, krb5, ldap, ...), cost ~8 ms of relocation at every process
 * start when linked, and most runs use neither. Each library has a table
 * of function pointers (sym_<name>, typed with __typeof__(&<name>) so every
 * call is still checked against the library's header) that one call
 * fills: base/dl-curl.h and base/dl-mhd.h.
 *
 *     static const struct dlib_sym syms[] = { DLIB_SYM(curl_easy_init), ... };
 *     r = dlib_open(&handle, "libcurl-gnutls.so.4", "libcurl3-gnutls", syms,
 *                   ARRAY_SIZE(syms), err);
 *
 * The library stays loaded for the life of the process (RTLD_NODELETE),
 * so a pointer once resolved never dangles. */
#ifndef VOLREP_BASE_DLIB_H
#define VOLREP_BASE_DLIB_H

#include <stddef.h>

#include "base/strbuf.h"

struct dlib_sym {
	void *slot;       /* the function pointer to set: &sym_<name> */
	const char *name; /* the symbol */
};
/* An entry for sym_<name>: dlsym's void * is copied into the pointer's
 * bytes (POSIX makes them the same), so the pointer keeps its type. */
#define DLIB_SYM(name) { &sym_##name, #name }

/* Open soname (RTLD_NOW: a missing symbol of its own dependencies shows
 * here, not at a later call) and resolve all n symbols. On failure
 * nothing is set, the library is closed again and *err gets one line
 * naming the library, the Debian package that ships it and dlerror()'s
 * words; returns -ENOENT (no such library) or -ENOSYS (a symbol missing:
 * too old a version). Not thread-safe by itself: callers serialize
 * (base/dl-curl.c, base/dl-mhd.c). */
int dlib_open(void **handle, const char *soname, const char *package, const struct dlib_sym *syms, size_t n,
	      struct strbuf *err);

#endif
