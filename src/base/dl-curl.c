#include "base/dl-curl.h"

#include <pthread.h>

#include "base/dlib.h"

__typeof__(&curl_global_init) sym_curl_global_init;
__typeof__(&curl_global_cleanup) sym_curl_global_cleanup;
__typeof__(&curl_easy_init) sym_curl_easy_init;
__typeof__(&curl_easy_cleanup) sym_curl_easy_cleanup;
__typeof__(&curl_easy_reset) sym_curl_easy_reset;
__typeof__(&curl_easy_setopt) sym_curl_easy_setopt;
__typeof__(&curl_easy_perform) sym_curl_easy_perform;
__typeof__(&curl_easy_getinfo) sym_curl_easy_getinfo;
__typeof__(&curl_easy_strerror) sym_curl_easy_strerror;
__typeof__(&curl_slist_append) sym_curl_slist_append;
__typeof__(&curl_slist_free_all) sym_curl_slist_free_all;
__typeof__(&curl_multi_init) sym_curl_multi_init;
__typeof__(&curl_multi_cleanup) sym_curl_multi_cleanup;
__typeof__(&curl_multi_add_handle) sym_curl_multi_add_handle;
__typeof__(&curl_multi_remove_handle) sym_curl_multi_remove_handle;
__typeof__(&curl_multi_perform) sym_curl_multi_perform;
__typeof__(&curl_multi_poll) sym_curl_multi_poll;
__typeof__(&curl_multi_info_read) sym_curl_multi_info_read;
__typeof__(&curl_multi_wakeup) sym_curl_multi_wakeup;

static const struct dlib_sym syms[] = {
	DLIB_SYM(curl_global_init),
	DLIB_SYM(curl_global_cleanup),
	DLIB_SYM(curl_easy_init),
	DLIB_SYM(curl_easy_cleanup),
	DLIB_SYM(curl_easy_reset),
	DLIB_SYM(curl_easy_setopt),
	DLIB_SYM(curl_easy_perform),
	DLIB_SYM(curl_easy_getinfo),
	DLIB_SYM(curl_easy_strerror),
	DLIB_SYM(curl_slist_append),
	DLIB_SYM(curl_slist_free_all),
	DLIB_SYM(curl_multi_init),
	DLIB_SYM(curl_multi_cleanup),
	DLIB_SYM(curl_multi_add_handle),
	DLIB_SYM(curl_multi_remove_handle),
	DLIB_SYM(curl_multi_perform),
	DLIB_SYM(curl_multi_poll),
	DLIB_SYM(curl_multi_info_read),
	DLIB_SYM(curl_multi_wakeup),
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static void *handle;

int curl_dl_load(struct strbuf *err)
{
	int r = 0;

	/* under the lock: a thread must not see half a table, and
	 * curl_global_init is not thread-safe in every libcurl */
	pthread_mutex_lock(&lock);
	if (!handle) {
		r = dlib_open(&handle, DL_CURL_SONAME, DL_CURL_PACKAGE, syms, sizeof(syms) / sizeof(syms[0]), err);
		if (r == 0)
			sym_curl_global_init(CURL_GLOBAL_DEFAULT);
	}
	pthread_mutex_unlock(&lock);
	return r;
}
