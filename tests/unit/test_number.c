/*
 * test_number.c: checked number parsing: what is a number, the bounds and
 * the edges of each type, and errno left alone.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "number.h"
#include "testutil.h"

static const struct {
	const char *s;
	int64_t min, max;
	int code;
	int64_t v;
} int64_cases[] = {
	{ "0", 0, 10, 0, 0 },
	{ "7", 0, 10, 0, 7 },
	{ "007", 0, 10, 0, 7 },
	{ "-5", -10, 10, 0, -5 },
	{ "-0", 0, 10, 0, 0 },
	{ "10", 0, 10, 0, 10 },
	{ "11", 0, 10, -ERANGE, 0 },
	{ "-1", 0, 10, -ERANGE, 0 },
	{ "9223372036854775807", INT64_MIN, INT64_MAX, 0, INT64_MAX },
	{ "-9223372036854775808", INT64_MIN, INT64_MAX, 0, INT64_MIN },
	{ "9223372036854775808", INT64_MIN, INT64_MAX, -ERANGE, 0 },
	{ "-9223372036854775809", INT64_MIN, INT64_MAX, -ERANGE, 0 },
	{ "99999999999999999999999999", INT64_MIN, INT64_MAX, -ERANGE, 0 },
	{ "", 0, 10, -EINVAL, 0 },
	{ "-", 0, 10, -EINVAL, 0 },
	{ "+1", 0, 10, -EINVAL, 0 },
	{ " 1", 0, 10, -EINVAL, 0 },
	{ "1 ", 0, 10, -EINVAL, 0 },
	{ "1\n", 0, 10, -EINVAL, 0 },
	{ "1x", 0, 10, -EINVAL, 0 },
	{ "0x10", 0, 100, -EINVAL, 0 },
	{ "1.5", 0, 10, -EINVAL, 0 },
	{ "--1", -10, 10, -EINVAL, 0 },
	{ "1e3", 0, 10000, -EINVAL, 0 },
	{ "99999999999999999999999x", 0, 10, -EINVAL, 0 }, /* not a number before too big */
};

static void test_int64(void **unused)
{
	for (size_t i = 0; i < sizeof(int64_cases) / sizeof(int64_cases[0]); i++) {
		int64_t v = 42;
		int r = ocitap_parse_int64(int64_cases[i].s, int64_cases[i].min, int64_cases[i].max, &v);

		if (r != int64_cases[i].code)
			fail_msg("'%s': %d, expected %d", int64_cases[i].s, r, int64_cases[i].code);
		if (r == 0 && v != int64_cases[i].v)
			fail_msg("'%s': %lld", int64_cases[i].s, (long long)v);
		if (r < 0 && v != 42)
			fail_msg("'%s': *ret set on failure", int64_cases[i].s);
	}
	assert_int_equal(ocitap_parse_int64(NULL, 0, 1, &(int64_t){ 0 }), -EINVAL);
}

static void test_int(void **unused)
{
	int v = 42;

	assert_int_equal(ocitap_parse_int("2147483647", INT_MIN, INT_MAX, &v), 0);
	assert_int_equal(v, INT_MAX);
	assert_int_equal(ocitap_parse_int("-2147483648", INT_MIN, INT_MAX, &v), 0);
	assert_int_equal(v, INT_MIN);
	v = 42;
	assert_int_equal(ocitap_parse_int("2147483648", INT_MIN, INT_MAX, &v), -ERANGE);
	assert_int_equal(ocitap_parse_int("600001", 1, 600000, &v), -ERANGE);
	assert_int_equal(ocitap_parse_int("0", 1, 600000, &v), -ERANGE);
	assert_int_equal(ocitap_parse_int("5ms", 1, 600000, &v), -EINVAL);
	assert_int_equal(v, 42);
	assert_int_equal(ocitap_parse_int("500", 1, 600000, &v), 0);
	assert_int_equal(v, 500);
}

static void test_uint64(void **unused)
{
	uint64_t v = 42;

	assert_int_equal(ocitap_parse_uint64("18446744073709551615", UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	v = 42;
	assert_int_equal(ocitap_parse_uint64("18446744073709551616", UINT64_MAX, &v), -ERANGE);
	assert_int_equal(ocitap_parse_uint64("-0", UINT64_MAX, &v), -EINVAL);
	assert_int_equal(ocitap_parse_uint64("-1", UINT64_MAX, &v), -EINVAL);
	assert_int_equal(ocitap_parse_uint64("11", 10, &v), -ERANGE);
	assert_int_equal(ocitap_parse_uint64("", 10, &v), -EINVAL);
	assert_int_equal(ocitap_parse_uint64(NULL, 10, &v), -EINVAL);
	assert_true(v == 42);
	assert_int_equal(ocitap_parse_uint64("10", 10, &v), 0);
	assert_true(v == 10);
}

static void test_hex64(void **unused)
{
	uint64_t v = 42;

	assert_int_equal(ocitap_parse_hex64("000001ffffffffff", &v), 0);
	assert_true(v == 0x1ffffffffffULL);
	assert_int_equal(ocitap_parse_hex64("ABCdef", &v), 0);
	assert_true(v == 0xabcdefULL);
	assert_int_equal(ocitap_parse_hex64("ffffffffffffffff", &v), 0);
	assert_true(v == UINT64_MAX);
	v = 42;
	assert_int_equal(ocitap_parse_hex64("10000000000000000", &v), -ERANGE);
	assert_int_equal(ocitap_parse_hex64("0x1f", &v), -EINVAL);
	assert_int_equal(ocitap_parse_hex64("1g", &v), -EINVAL);
	assert_int_equal(ocitap_parse_hex64("", &v), -EINVAL);
	assert_true(v == 42);
}

/* The answer is in the return value: errno is the caller's, success or not. */
static void test_errno_untouched(void **unused)
{
	int64_t v;

	errno = EBADF;
	assert_int_equal(ocitap_parse_int64("99999999999999999999", INT64_MIN, INT64_MAX, &v), -ERANGE);
	assert_int_equal(errno, EBADF);
	assert_int_equal(ocitap_parse_int64("12", 0, 100, &v), 0);
	assert_int_equal(errno, EBADF);
	errno = 0;
	assert_int_equal(ocitap_parse_int64("x", 0, 100, &v), -EINVAL);
	assert_int_equal(errno, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_int64),		cmocka_unit_test(test_int),
		cmocka_unit_test(test_uint64),		cmocka_unit_test(test_hex64),
		cmocka_unit_test(test_errno_untouched),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
