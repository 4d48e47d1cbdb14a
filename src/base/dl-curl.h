/* libcurl (libcurl-gnutls.so.4), loaded on first use (base/dlib.h): the
 * webhooks (notify/webhook.c) and the etcd store (cluster/etcd*.c) call
 * it through these pointers, after curl_dl_load().
 *
 * curl's headers make curl_easy_setopt and curl_easy_getinfo macros that
 * check the argument's type against the option's; a call through a
 * pointer would skip that, so the two sym_ names below are macros too,
 * with a check of their own: a long option takes a long (an int is the
 * classic varargs bug on LP64), a pointer option a pointer, a curl_off_t
 * option a curl_off_t; a getinfo result goes to a pointer of its type.
 * The option must be a constant (a CURLOPT_ or CURLINFO_ name). */
#ifndef VOLREP_BASE_DL_CURL_H
#define VOLREP_BASE_DL_CURL_H

#include <curl/curl.h>

#include "base/strbuf.h"

#define DL_CURL_SONAME "libcurl-gnutls.so.4"
#define DL_CURL_PACKAGE "libcurl3-gnutls"

extern __typeof__(&curl_global_init) sym_curl_global_init;
extern __typeof__(&curl_global_cleanup) sym_curl_global_cleanup;
extern __typeof__(&curl_easy_init) sym_curl_easy_init;
extern __typeof__(&curl_easy_cleanup) sym_curl_easy_cleanup;
extern __typeof__(&curl_easy_reset) sym_curl_easy_reset;
extern __typeof__(&curl_easy_setopt) sym_curl_easy_setopt;
extern __typeof__(&curl_easy_perform) sym_curl_easy_perform;
extern __typeof__(&curl_easy_getinfo) sym_curl_easy_getinfo;
extern __typeof__(&curl_easy_strerror) sym_curl_easy_strerror;
extern __typeof__(&curl_slist_append) sym_curl_slist_append;
extern __typeof__(&curl_slist_free_all) sym_curl_slist_free_all;
extern __typeof__(&curl_multi_init) sym_curl_multi_init;
extern __typeof__(&curl_multi_cleanup) sym_curl_multi_cleanup;
extern __typeof__(&curl_multi_add_handle) sym_curl_multi_add_handle;
extern __typeof__(&curl_multi_remove_handle) sym_curl_multi_remove_handle;
extern __typeof__(&curl_multi_perform) sym_curl_multi_perform;
extern __typeof__(&curl_multi_poll) sym_curl_multi_poll;
extern __typeof__(&curl_multi_info_read) sym_curl_multi_info_read;
extern __typeof__(&curl_multi_wakeup) sym_curl_multi_wakeup;

/* Load libcurl and run curl_global_init once per process; thread-safe.
 * Returns 0, or < 0 with one line in *err naming the library and its
 * Debian package (base/dlib.h), and then no sym_ pointer may be used. */
int curl_dl_load(struct strbuf *err);

#define DL_CURL_IS_PTR(v) (__builtin_classify_type(v) == 5 /* pointer_type_class */)
#define DL_CURL_OPT_OK(opt, v)                                                                                   \
	((opt) < CURLOPTTYPE_OBJECTPOINT ? __builtin_types_compatible_p(__typeof__(v), long)                           \
	 : (opt) < CURLOPTTYPE_OFF_T	  ? DL_CURL_IS_PTR(v)                                                      \
	 : (opt) < CURLOPTTYPE_BLOB	  ? __builtin_types_compatible_p(__typeof__(v), curl_off_t)                    \
					  : DL_CURL_IS_PTR(v))
#define DL_CURL_INFO_OK(info, p)                                                                                 \
	(((info) & CURLINFO_TYPEMASK) == CURLINFO_LONG	   ? __builtin_types_compatible_p(__typeof__(p), long *)     \
	 : ((info) & CURLINFO_TYPEMASK) == CURLINFO_STRING ? __builtin_types_compatible_p(__typeof__(p), char **) ||   \
							     __builtin_types_compatible_p(__typeof__(p), const char **) \
	 : ((info) & CURLINFO_TYPEMASK) == CURLINFO_DOUBLE ? __builtin_types_compatible_p(__typeof__(p), double *)   \
	 : ((info) & CURLINFO_TYPEMASK) == CURLINFO_OFF_T  ? __builtin_types_compatible_p(__typeof__(p), curl_off_t *) \
							   : DL_CURL_IS_PTR(p))

/* The macro's own name inside is not expanded again: it calls the pointer. */
#define sym_curl_easy_setopt(h, opt, v)                                                                          \
	__extension__({                                                                                            \
		_Static_assert(DL_CURL_OPT_OK(opt, v), "curl_easy_setopt: wrong type of value for " #opt);        \
		sym_curl_easy_setopt(h, opt, v);                                                                   \
	})
#define sym_curl_easy_getinfo(h, info, p)                                                                        \
	__extension__({                                                                                            \
		_Static_assert(DL_CURL_INFO_OK(info, p), "curl_easy_getinfo: wrong type of result for " #info);   \
		sym_curl_easy_getinfo(h, info, p);                                                                 \
	})

#endif
