/*
 * test_json_scan.c: the strict JSON scanner (lib/json-scan.h): what it
 * accepts and refuses (RFC 8259, UTF-8 as RFC 3629 has it), where it says
 * objects and arrays close, its depth bound, and what a string as written
 * means (ocitap_jstr_is).
 */
#include "json-scan.h"
#include "macro.h"
#include "testutil.h"

/* The whole text is one value and nothing but white space after it. */
static bool whole_value(const char *text)
{
	struct ocitap_jscan sc = { .p = text, .end = text + strlen(text) };

	if (!ocitap_jscan_value(&sc))
		return false;
	ocitap_jscan_skip_ws(&sc);
	return sc.p == sc.end;
}

static void test_accepts(void **unused)
{
	const char *const good[] = {
		"{}",
		" [ ] ",
		"0",
		"-0",
		"-12.5e+3",
		"1E-7",
		"true",
		"false",
		"null",
		"\"\"",
		"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\"",
		"{\"a\":[1,{\"b\":null}],\"c\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}",
		"\t{\r\n\"a\" : 1 }\n",
		"\"\x7f\"",
	};

	for (size_t i = 0; i < ELEMENTSOF(good); i++)
		if (!whole_value(good[i]))
			fail_msg("refused: %s", good[i]);
}

static void test_refuses(void **unused)
{
	const char *const bad[] = {
		"",	     "{",	 "[1,]",	 "{\"a\":1,}",	  "{\"a\"}",	   "{1:2}",	  "01",
		"1.",	     ".5",	 "-",		 "1e",		  "+1",		   "tru",	  "nul",
		"'a'",	     "\"\x01\"", "\"\\x\"",	 "\"\\u12\"",	  "\"\\ud800\"",   "\"\\uDFFF\"", "\"\xc0\xaf\"",
		"\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xe2\x82\"", "\"\xff\"", "[1 2]", "\"abc",	  "NaN",
	};

	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		if (whole_value(bad[i]))
			fail_msg("accepted: %s", bad[i]);
	/* a value with more after it is the caller's to see */
	assert_false(whole_value("{} {}"));
	assert_false(whole_value("1\f"));
}

static void test_walk(void **unused)
{
	const char *text = "{\"k\": [1, 2] , \"e\": {}}";
	struct ocitap_jscan sc = { .p = text, .end = text + strlen(text) };
	struct ocitap_jspot top, arr, obj;
	struct ocitap_jstr key;
	size_t count = 0, n = 0, m = 0;

	assert_true(ocitap_jscan_open(&sc, '{'));
	assert_int_equal(ocitap_jscan_next_member(&sc, &count, &key, &top), 1);
	assert_int_equal(ocitap_jstr_is(&key, "k"), 1);
	assert_int_equal(ocitap_jscan_kind(&sc), OCITAP_J_ARRAY);
	assert_true(ocitap_jscan_open(&sc, '['));
	while (ocitap_jscan_next_item(&sc, ']', &n, &arr) > 0)
		assert_true(ocitap_jscan_value(&sc));
	assert_int_equal(n, 2);
	assert_true(arr.nonempty);
	assert_int_equal(arr.close - text, 11);
	assert_int_equal(ocitap_jscan_next_member(&sc, &count, &key, &top), 1);
	assert_true(ocitap_jscan_open(&sc, '{'));
	assert_int_equal(ocitap_jscan_next_member(&sc, &m, &key, &obj), 0);
	assert_false(obj.nonempty);
	assert_int_equal(obj.close - text, 21);
	assert_int_equal(ocitap_jscan_next_member(&sc, &count, &key, &top), 0);
	assert_int_equal(top.close - text, 22);
	assert_int_equal(sc.depth, 0);
}

static void test_depth(void **unused)
{
	char deep[2 * (OCITAP_JSCAN_MAX_DEPTH + 1) + 1];

	for (int d = OCITAP_JSCAN_MAX_DEPTH; d <= OCITAP_JSCAN_MAX_DEPTH + 1; d++) {
		memset(deep, '[', (size_t)d);
		memset(deep + d, ']', (size_t)d);
		deep[2 * d] = '\0';
		assert_int_equal(whole_value(deep), d <= OCITAP_JSCAN_MAX_DEPTH);
	}
}

static void test_jstr_is(void **unused)
{
	struct {
		const char *text, *word;
		int want;
	} cases[] = {
		{ "hooks", "hooks", 1 },
		{ "hook", "hooks", 0 },
		{ "hooksx", "hooks", 0 },
		{ "hoo\\u006bs", "hooks", 1 },
		{ "\\/usr\\/bin", "/usr/bin", 1 },
		{ "a\\tb", "a\tb", 1 },
		{ "hooks\\u0000", "hooks", -1 }, /* json-c's C string ends there */
		{ "hooks\\u00e9", "hooks", -1 },
		{ "x\\u00e9", "hooks", 0 }, /* differs before the escape */
		{ "", "", 1 },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct ocitap_jstr s = { .s = cases[i].text,
					 .n = strlen(cases[i].text),
					 .escaped = strchr(cases[i].text, '\\') != NULL };

		if (ocitap_jstr_is(&s, cases[i].word) != cases[i].want)
			fail_msg("\"%s\" as \"%s\": want %d", cases[i].text, cases[i].word, cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts), cmocka_unit_test(test_refuses), cmocka_unit_test(test_walk),
		cmocka_unit_test(test_depth),	cmocka_unit_test(test_jstr_is),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
