/* sq_quote and the strict splitter of "volrep serve" (base/quote.h). */
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/quote.h"

static void test_sq_quote(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	const char *argv[] = { "volrep", "it's", "", "a b", "'", NULL };

	(void)state;
	sq_quote_buf(&sb, "abc");
	assert_string_equal(sb.buf, "'abc'");
	strbuf_reset(&sb);
	sq_quote_buf(&sb, "it's");
	assert_string_equal(sb.buf, "'it'\\''s'");
	strbuf_reset(&sb);
	sq_quote_argv(&sb, argv);
	assert_string_equal(sb.buf, "'volrep' 'it'\\''s' '' 'a b' ''\\'''");
	strbuf_release(&sb);
}

static void roundtrip(const char *const *argv)
{
	struct strbuf sb = STRBUF_INIT;
	struct strvec sv = STRVEC_INIT;
	size_t n = 0;

	while (argv[n])
		n++;
	sq_quote_argv(&sb, argv);
	assert_int_equal(sq_split_strict(sb.buf, sb.len, &sv, NULL), (int)n);
	assert_int_equal(sv.nr, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(sv.v[i], argv[i]);
	strvec_clear(&sv);
	strbuf_release(&sb);
}

static void test_roundtrip(void **state)
{
	static const char *const a1[] = { "volrep", "prepare-local-job", "100-0", "local-zfs:vm-100-disk-0",
					  "--last_sync", "0", "--scan", "a,b", NULL };
	static const char *const a2[] = { "volrep", "set-state", "100",
					  "{\"local/b\":{\"error\":\"it's $(bad) `x` ; | & > < * ? ~ # ! \\\"\"}}", NULL };
	static const char *const a3[] = { "''", "'\\''", "\\", "", "x'y'z", "\xc3\xa4", NULL };
	char all[256];
	size_t k = 0;

	(void)state;
	roundtrip(a1);
	roundtrip(a2);
	roundtrip(a3);
	/* every printable byte and every high byte survives the round trip */
	for (int c = 0x20; c < 0x100; c++)
		if (c != 0x7f)
			all[k++] = (char)c;
	all[k] = '\0';
	const char *a4[] = { all, all + 100, NULL };
	roundtrip(a4);
}

static void test_split_plain(void **state)
{
	struct strvec sv = STRVEC_INIT;
	const char *s = "volrep   version  a=b,c:d/e@f+g%h-i_j.k '' ";

	(void)state;
	assert_int_equal(sq_split_strict(s, strlen(s), &sv, NULL), 4);
	assert_string_equal(sv.v[0], "volrep");
	assert_string_equal(sv.v[1], "version");
	assert_string_equal(sv.v[2], "a=b,c:d/e@f+g%h-i_j.k");
	assert_string_equal(sv.v[3], "");
	strvec_clear(&sv);
	/* empty and blank input: no words */
	assert_int_equal(sq_split_strict("", 0, &sv, NULL), 0);
	assert_int_equal(sq_split_strict("   ", 3, &sv, NULL), 0);
	/* concatenated pieces form one word */
	s = "ab'c d'\\''e'f";
	assert_int_equal(sq_split_strict(s, strlen(s), &sv, NULL), 1);
	assert_string_equal(sv.v[0], "abc d'ef");
	strvec_clear(&sv);
}

static void must_refuse(const char *s, size_t len, int line)
{
	struct strvec sv = STRVEC_INIT;
	struct strbuf why = STRBUF_INIT;

	strvec_push(&sv, "keep");
	if (sq_split_strict(s, len, &sv, &why) != -EINVAL) {
		fprintf(stderr, "line %d: accepted: %.*s\n", line, (int)len, s);
		fail();
	}
	assert_true(why.len > 0);
	/* out untouched on refusal */
	assert_int_equal(sv.nr, 1);
	assert_string_equal(sv.v[0], "keep");
	strvec_clear(&sv);
	strbuf_release(&why);
}
#define REFUSE(s) must_refuse((s), strlen(s), __LINE__)

static void test_split_hostile(void **state)
{
	static const char *const bad[] = {
		"volrep version; rm -rf /", "volrep version && id", "volrep version || id",
		"volrep version | sh", "volrep version > /etc/passwd", "volrep version < /etc/shadow",
		"volrep $(id)", "volrep `id`", "volrep ${IFS}", "volrep $HOME", "volrep version &",
		"volrep (version)", "volrep {a,b}", "volrep *", "volrep ?", "volrep [a]", "volrep ~root",
		"volrep #x", "volrep !x", "volrep \"version\"", "volrep \\v", "volrep ver\\", "volrep 'version",
		"volrep version'", "volrep 'a'\\", "volrep 'a'\\x'", "volrep\tversion", "volrep\nversion",
		"volrep version\n", "volrep\rversion", "volrep 'a\nb'", "volrep 'a\tb'", "volrep 'a\x7f'",
		"volrep \x1b[2J", "volrep \xc3\xa4", "volrep a^b", "volrep a;b", "'volrep' 'x'; 'y'",
		"volrep 'x'$(id)", "volrep 'x'`id`",
	};
	char *big;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		must_refuse(bad[i], strlen(bad[i]), __LINE__ * 1000 + (int)i);
	/* NUL inside and outside quotes */
	must_refuse("volrep\0version", 14, __LINE__);
	must_refuse("volrep 'a\0b'", 12, __LINE__);
	/* overlong input */
	big = malloc(SQ_SPLIT_MAX_LEN + 2);
	memset(big, 'a', SQ_SPLIT_MAX_LEN + 1);
	big[SQ_SPLIT_MAX_LEN + 1] = '\0';
	must_refuse(big, SQ_SPLIT_MAX_LEN + 1, __LINE__);
	/* exactly at the limit is fine */
	{
		struct strvec sv = STRVEC_INIT;

		assert_int_equal(sq_split_strict(big, SQ_SPLIT_MAX_LEN, &sv, NULL), 1);
		strvec_clear(&sv);
	}
	/* too many words */
	for (size_t i = 0; i < SQ_SPLIT_MAX_WORDS + 1; i++) {
		big[2 * i] = 'a';
		big[2 * i + 1] = ' ';
	}
	must_refuse(big, 2 * (SQ_SPLIT_MAX_WORDS + 1), __LINE__);
	free(big);
	REFUSE("'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sq_quote),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_split_plain),
		cmocka_unit_test(test_split_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
