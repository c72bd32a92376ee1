/*
 * test_error.c: struct ocitap_error: set, nest, prefix, format, bounds.
 */
#include <errno.h>

#include "ocitap.h"
#include "testutil.h"

static void test_set_and_format(void **unused)
{
	struct ocitap_error err;
	char line[600];

	ocitap_error_clear(&err);
	assert_string_equal(ocitap_error_format(&err, line, sizeof(line)), "no error");
	assert_int_equal(ocitap_error_set(&err, -EINVAL, "pid", "must not be negative (got %d)", -3), -EINVAL);
	assert_string_equal(ocitap_error_format(&err, line, sizeof(line)), "pid: must not be negative (got -3)");
	assert_int_equal(ocitap_error_set(NULL, -ENOMEM, "x", "y"), -ENOMEM);
	ocitap_error_set(&err, -ENOENT, NULL, "%s", "");
	assert_string_equal(ocitap_error_format(&err, line, sizeof(line)), "No such file or directory");
}

static void test_nest_and_prefix(void **unused)
{
	struct ocitap_error err;

	ocitap_error_set(&err, -EINVAL, "path", "missing");
	ocitap_error_nest(&err, "[2]");
	assert_string_equal(err.field, "[2].path");
	ocitap_error_nest(&err, "poststop");
	ocitap_error_nest(&err, "hooks");
	assert_string_equal(err.field, "hooks.poststop[2].path");
	ocitap_error_set(&err, -EINVAL, NULL, "bad");
	ocitap_error_nest(&err, "state");
	assert_string_equal(err.field, "state");
	assert_int_equal(ocitap_error_prefix(&err, "file %s", "x.json"), -EINVAL);
	assert_string_equal(err.message, "file x.json: bad");
}

/* Hostile text cannot reach a terminal raw, and long text is cut visibly. */
static void test_sanitized_and_bounded(void **unused)
{
	struct ocitap_error err;
	char big[2000];
	char line[16];

	ocitap_error_set(&err, -EINVAL, "a\x1b[31mb", "c\nd\x7f");
	assert_string_equal(err.field, "a?[31mb");
	assert_string_equal(err.message, "c?d?");
	memset(big, 'k', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ocitap_error_set(&err, -EINVAL, big, "%s", big);
	assert_int_equal(strlen(err.field), OCITAP_ERROR_FIELD_MAX - 1);
	assert_string_equal(err.field + OCITAP_ERROR_FIELD_MAX - 4, "...");
	assert_string_equal(err.message + OCITAP_ERROR_MESSAGE_MAX - 4, "...");
	ocitap_error_nest(&err, "parent");
	assert_int_equal(strlen(err.field), OCITAP_ERROR_FIELD_MAX - 1);
	ocitap_error_format(&err, line, sizeof(line));
	assert_int_equal(strlen(line), sizeof(line) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_and_format),
		cmocka_unit_test(test_nest_and_prefix),
		cmocka_unit_test(test_sanitized_and_bounded),
	};

	return cmocka_run_group_tests_name("error", tests, NULL, NULL);
}
