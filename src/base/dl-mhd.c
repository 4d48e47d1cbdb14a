#include "base/dl-mhd.h"

#include <pthread.h>

#include "base/dlib.h"

__typeof__(&MHD_start_daemon) sym_MHD_start_daemon;
__typeof__(&MHD_stop_daemon) sym_MHD_stop_daemon;
__typeof__(&MHD_create_response_from_buffer) sym_MHD_create_response_from_buffer;
__typeof__(&MHD_add_response_header) sym_MHD_add_response_header;
__typeof__(&MHD_queue_response) sym_MHD_queue_response;
__typeof__(&MHD_destroy_response) sym_MHD_destroy_response;
__typeof__(&MHD_lookup_connection_value) sym_MHD_lookup_connection_value;
__typeof__(&MHD_get_connection_values) sym_MHD_get_connection_values;

static const struct dlib_sym syms[] = {
	DLIB_SYM(MHD_start_daemon),
	DLIB_SYM(MHD_stop_daemon),
	DLIB_SYM(MHD_create_response_from_buffer),
	DLIB_SYM(MHD_add_response_header),
	DLIB_SYM(MHD_queue_response),
	DLIB_SYM(MHD_destroy_response),
	DLIB_SYM(MHD_lookup_connection_value),
	DLIB_SYM(MHD_get_connection_values),
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static void *handle;

int mhd_dl_load(struct strbuf *err)
{
	int r = 0;

	/* under the lock: a thread must not see half a table */
	pthread_mutex_lock(&lock);
	if (!handle)
		r = dlib_open(&handle, DL_MHD_SONAME, DL_MHD_PACKAGE, syms, sizeof(syms) / sizeof(syms[0]), err);
	pthread_mutex_unlock(&lock);
	return r;
}
