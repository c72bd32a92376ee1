/*
 * test_json_util.c: the prologue every parser shares (bounded parse, an
 * object, errors naming the byte and the document) and the pool it fills.
 */
#include <errno.h>
#include <string.h>

#include "json-util.h"
#include "testutil.h"

static void expect_refused(const char *json, int code, const char *says)
{
	struct ocitap_error err = { 0 };
	json_object *o = (json_object *)0x1;
	struct jpool *pool = (struct jpool *)0x1;

	if (ocitap_json_parse_object(json, strlen(json), NULL, "a thing", &o, &err) != code)
		fail_msg("%s: not %d (%s)", json, code, err.message);
	assert_ptr_equal(o, (json_object *)0x1); /* untouched */
	if (!strstr(err.message, says))
		fail_msg("%s: \"%s\" does not say \"%s\"", json, err.message, says);
	ocitap_error_clear(&err);
	assert_int_equal(ocitap_json_parse_pool(json, strlen(json), NULL, "a thing", &pool, &err), code);
	assert_ptr_equal(pool, (struct jpool *)0x1);
	assert_non_null(strstr(err.message, says));
}

static void test_refused(void **unused)
{
	expect_refused("[]", -EINVAL, "a thing must be a JSON object: expected an object, got an array");
	expect_refused("\"x\"", -EINVAL, "a thing must be a JSON object: expected an object, got a string");
	expect_refused("null ", -EINVAL, "got null");
	expect_refused("7\n", -EINVAL, "got an integer");
	expect_refused("", -ENODATA, "empty input");
	expect_refused("  \n", -ENODATA, "empty input");
	expect_refused("{\"a\":1,}", -EBADMSG, "at byte 7");
	expect_refused("{\"a\":1} x", -EBADMSG, "at byte 8");
	expect_refused("{\"a\":", -EBADMSG, "ends in the middle");
}

static void test_bounds(void **unused)
{
	struct ocitap_limits lim;
	struct ocitap_error err = { 0 };
	json_object *o = NULL;
	const char *deep = "{\"a\":{\"b\":{\"c\":{}}}}";

	ocitap_limits_init(&lim);
	lim.max_bytes = 8;
	assert_int_equal(ocitap_json_parse_object("{\"ab\":12345}", 12, &lim, "a thing", &o, &err), -EMSGSIZE);
	assert_non_null(strstr(err.message, "limit of 8 bytes"));
	ocitap_limits_init(&lim);
	lim.max_depth = 3;
	assert_int_equal(ocitap_json_parse_object(deep, strlen(deep), &lim, "a thing", &o, &err), -E2BIG);
	lim.max_depth = 4;
	assert_int_equal(ocitap_json_parse_object(deep, strlen(deep), &lim, "a thing", &o, &err), 0);
	json_object_put(o);
}

static void test_accepted(void **unused)
{
	const char *json = " {\"id\":\"c1\",\"n\":3}\n";
	struct ocitap_error err = { 0 };
	struct jpool *pool = NULL;
	json_object *o = NULL;
	const char *id;

	assert_int_equal(ocitap_json_parse_object(json, strlen(json), NULL, "a thing", &o, &err), 0);
	assert_true(json_object_is_type(o, json_type_object));
	json_object_put(o);

	assert_int_equal(ocitap_json_parse_pool(json, strlen(json), NULL, "a thing", &pool, &err), 0);
	assert_non_null(pool);
	assert_int_equal(
		ocitap_json_get_string(pool->root, "id", true, &(struct ocitap_limits){ .max_string = 16 }, &id, &err),
		0);
	assert_string_equal(id, "c1"); /* borrowed from the pool's tree */
	ocitap_jpool_free(pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_accepted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
