/*
 * test_error.c: struct ocitap_error: set, nest, prefix, wrap, format, bounds;
 * a failure is never reported as 0.
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

/* Whatever a caller passes, a recorded failure is a negative errno. */
static void test_never_zero(void **unused)
{
	struct ocitap_error err;

	ocitap_error_clear(&err);
	assert_int_equal(ocitap_error_set(&err, 0, "pid", "bad"), -EIO);
	assert_int_equal(err.code, -EIO);
	assert_int_equal(ocitap_error_set(&err, EINVAL, NULL, "positive"), -EINVAL);
	assert_int_equal(err.code, -EINVAL);
	assert_int_equal(ocitap_error_set(NULL, 0, NULL, "x"), -EIO);
	assert_int_equal(ocitap_error_set(NULL, ENOENT, NULL, "x"), -ENOENT);
	/* the wrappers with no error to wrap, or nowhere to keep it */
	assert_int_equal(ocitap_error_nest(NULL, "state"), -EIO);
	assert_int_equal(ocitap_error_prefix(NULL, "file %s", "x"), -EIO);
	ocitap_error_clear(&err);
	assert_int_equal(ocitap_error_nest(&err, "state"), -EIO);
	assert_int_equal(err.code, -EIO); /* what is returned and what err says agree */
	ocitap_error_clear(&err);
	assert_int_equal(ocitap_error_prefix(&err, "context"), -EIO);
	assert_int_equal(err.code, -EIO);
	assert_string_equal(err.message, "context: Input/output error");
	/* an error recorded with a code and no text: the errno speaks */
	ocitap_error_set(&err, -ENOENT, NULL, "%s", "");
	assert_int_equal(ocitap_error_prefix(&err, "cannot open %s", "/x"), -ENOENT);
	assert_string_equal(err.message, "cannot open /x: No such file or directory");
}

/* wrap: context in front, the caller's code back, with or without err. */
static void test_wrap(void **unused)
{
	struct ocitap_error err;
	char line[600];

	ocitap_error_set(&err, -ENOENT, "path", "missing");
	assert_int_equal(ocitap_error_wrap(&err, -ENOENT, "hooks.d %s", "/etc/x.json"), -ENOENT);
	assert_string_equal(ocitap_error_format(&err, line, sizeof(line)), "path: hooks.d /etc/x.json: missing");
	/* a callee that returned -errno and said nothing */
	ocitap_error_clear(&err);
	assert_int_equal(ocitap_error_wrap(&err, -EACCES, "cannot open %s", "/root/a"), -EACCES);
	assert_int_equal(err.code, -EACCES);
	assert_string_equal(err.message, "cannot open /root/a: Permission denied");
	/* without err the code still comes back, never 0 */
	assert_int_equal(ocitap_error_wrap(NULL, -E2BIG, "x"), -E2BIG);
	assert_int_equal(ocitap_error_wrap(NULL, 0, "x"), -EIO);
	assert_int_equal(ocitap_error_wrap(&err, EPERM, "y"), -EPERM);
	assert_int_equal(err.code, -EPERM);
	/* bounded and sanitized like the rest */
	ocitap_error_set(&err, -EINVAL, NULL, "bad");
	ocitap_error_wrap(&err, -EINVAL, "a\nb");
	assert_string_equal(err.message, "a?b: bad");
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
		cmocka_unit_test(test_never_zero),
		cmocka_unit_test(test_wrap),
	};

	return cmocka_run_group_tests_name("error", tests, NULL, NULL);
}
