/* Unit tests of the loader of optional libraries (src/base/dlib.c) and
 * of its two users' tables (base/dl-curl.c, base/dl-mhd.c): a missing
 * library or symbol gives one error line and sets nothing; a present one
 * resolves and its functions can be called. */
#include "unit.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "base/dl-curl.h"
#include "base/dl-mhd.h"
#include "base/dlib.h"
#include "base/strbuf.h"

static __typeof__(&cos) sym_cos;
static __typeof__(&sin) sym_sin;

static void test_missing_library(void **state)
{
	static const struct dlib_sym syms[] = { DLIB_SYM(cos) };
	struct strbuf err = STRBUF_INIT;
	void *h = NULL;

	(void)state;
	sym_cos = NULL;
	assert_int_equal(dlib_open(&h, "libvolrep-missing.so.0", "volrep-missing", syms, 1, &err), -ENOENT);
	assert_null(h);
	assert_null(sym_cos);
	assert_string_equal(err.buf, "cannot load libvolrep-missing.so.0 - install the Debian package volrep-missing "
				     "(libvolrep-missing.so.0: cannot open shared object file: No such file or directory)");
	assert_null(strchr(err.buf, '\n'));
	strbuf_release(&err);
}

static void test_missing_symbol(void **state)
{
	static __typeof__(&cos) sym_volrep_no_such_function;
	static const struct dlib_sym syms[] = { DLIB_SYM(cos), DLIB_SYM(volrep_no_such_function) };
	struct strbuf err = STRBUF_INIT;
	void *h = NULL;

	(void)state;
	sym_cos = NULL;
	assert_int_equal(dlib_open(&h, "libm.so.6", "libc6", syms, 2, &err), -ENOSYS);
	/* all or nothing: the symbol that was there is not set either */
	assert_null(h);
	assert_null(sym_cos);
	assert_null(sym_volrep_no_such_function);
	assert_string_equal(err.buf, "cannot load libm.so.6: it has no volrep_no_such_function - install a newer libc6");
	strbuf_release(&err);
}

static void test_present(void **state)
{
	static const struct dlib_sym syms[] = { DLIB_SYM(cos), DLIB_SYM(sin) };
	struct strbuf err = STRBUF_INIT;
	void *h = NULL;

	(void)state;
	assert_int_equal(dlib_open(&h, "libm.so.6", "libc6", syms, 2, &err), 0);
	assert_non_null(h);
	assert_string_equal(err.buf, "");
	assert_true(sym_cos(0.0) == 1.0);
	assert_true(sym_sin(0.0) == 0.0);
	strbuf_release(&err);
}

/* the two real tables: every symbol is in the installed libraries, and a
 * second load is a no-op */
static void test_curl_mhd(void **state)
{
	struct strbuf err = STRBUF_INIT;

	(void)state;
	assert_int_equal(curl_dl_load(&err), 0);
	assert_int_equal(curl_dl_load(&err), 0);
	assert_string_equal(sym_curl_easy_strerror(CURLE_OK), "No error");
	assert_int_equal(mhd_dl_load(&err), 0);
	assert_int_equal(mhd_dl_load(&err), 0);
	assert_non_null(sym_MHD_start_daemon);
	assert_string_equal(err.buf, "");
	sym_curl_global_cleanup();
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_library),
		cmocka_unit_test(test_missing_symbol),
		cmocka_unit_test(test_present),
		cmocka_unit_test(test_curl_mhd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
