/* libmicrohttpd (libmicrohttpd.so.12), loaded on first use (base/dlib.h):
 * the HTTP server (http/server.c) calls it through these pointers, after
 * mhd_dl_load(). */
#ifndef VOLREP_BASE_DL_MHD_H
#define VOLREP_BASE_DL_MHD_H

#include <microhttpd.h>

#include "base/strbuf.h"

#define DL_MHD_SONAME "libmicrohttpd.so.12"
#define DL_MHD_PACKAGE "libmicrohttpd12"

extern __typeof__(&MHD_start_daemon) sym_MHD_start_daemon;
extern __typeof__(&MHD_stop_daemon) sym_MHD_stop_daemon;
extern __typeof__(&MHD_create_response_from_buffer) sym_MHD_create_response_from_buffer;
extern __typeof__(&MHD_add_response_header) sym_MHD_add_response_header;
extern __typeof__(&MHD_queue_response) sym_MHD_queue_response;
extern __typeof__(&MHD_destroy_response) sym_MHD_destroy_response;
extern __typeof__(&MHD_lookup_connection_value) sym_MHD_lookup_connection_value;
extern __typeof__(&MHD_get_connection_values) sym_MHD_get_connection_values;

/* Load libmicrohttpd once per process; thread-safe. Returns 0, or < 0
 * with one line in *err naming the library and its Debian package
 * (base/dlib.h), and then no sym_ pointer may be used. */
int mhd_dl_load(struct strbuf *err);

#endif
