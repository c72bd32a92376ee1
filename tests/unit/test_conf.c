/*
 * test_conf.c: the KEY = VALUE lines of ocitap's configuration files
 * (lib/conf.h): blanks and comments, values cut in place, the line an error
 * names, and the last line for a key winning.
 */
#include <errno.h>
#include <string.h>

#include "conf.h"
#include "testutil.h"

static void test_lines(void **state)
{
	char text[] = "# a comment\n\n  socket = /run/x.sock  \r\nhttp=127.0.0.1:1\n\tempty =\nlast = no newline";
	struct ocitap_conf_reader r;
	struct ocitap_error err = { 0 };
	const char *k, *v;

	ocitap_conf_reader_init(&r, text, strlen(text));
	assert_int_equal(ocitap_conf_next(&r, "f", &k, &v, &err), 1);
	assert_string_equal(k, "socket");
	assert_string_equal(v, "/run/x.sock");
	assert_int_equal(r.lineno, 3);
	assert_int_equal(ocitap_conf_next(&r, "f", &k, &v, &err), 1);
	assert_string_equal(k, "http");
	assert_string_equal(v, "127.0.0.1:1");
	assert_int_equal(ocitap_conf_next(&r, "f", &k, &v, &err), 1);
	assert_string_equal(k, "empty");
	assert_string_equal(v, "");
	assert_int_equal(ocitap_conf_next(&r, "f", &k, &v, &err), 1);
	assert_string_equal(k, "last");
	assert_string_equal(v, "no newline");
	assert_int_equal(r.lineno, 6);
	assert_int_equal(ocitap_conf_next(&r, "f", &k, &v, &err), 0);
	assert_int_equal(ocitap_conf_next(&r, "f", &k, &v, &err), 0);
}

static void test_errors_name_the_line(void **state)
{
	static const struct {
		const char *text;
		size_t len; /* 0: strlen */
		const char *field, *message;
	} cases[] = {
		{ "a = 1\nno equals sign\n", 0, "x.conf:2", "expected KEY = VALUE, got 'no equals sign'" },
		{ "\n\n = 3\n", 0, "x.conf:3", "no key before '='" },
		{ "a = 1\nb = \0x\n", 11, "x.conf:2", "a NUL byte in the line" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[64];
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);
		struct ocitap_conf_reader r;
		struct ocitap_error err = { 0 };
		const char *k, *v;
		int n;

		memcpy(text, cases[i].text, len);
		text[len] = '\0';
		ocitap_conf_reader_init(&r, text, len);
		while ((n = ocitap_conf_next(&r, "x.conf", &k, &v, &err)) > 0)
			;
		assert_int_equal(n, -EINVAL);
		assert_string_equal(err.field, cases[i].field);
		assert_string_equal(err.message, cases[i].message);
	}
}

static void test_lookup(void **state)
{
	char twice[] = "http = 127.0.0.1:1\nsocket = /s\nhttp = unix:/run/h.sock\n";
	char none[] = "socket = /s\n# http = 1.2.3.4:5\n";
	char broken[] = "http = 127.0.0.1:1\nbroken\n";
	struct ocitap_error err = { 0 };
	const char *v = NULL;

	assert_int_equal(ocitap_conf_lookup(twice, strlen(twice), "c", "http", &v, &err), 1);
	assert_string_equal(v, "unix:/run/h.sock"); /* the last wins, as for ocitapd */
	v = NULL;
	assert_int_equal(ocitap_conf_lookup(none, strlen(none), "c", "http", &v, &err), 0);
	assert_null(v);
	/* a file the daemon would refuse says so, even after the key */
	assert_int_equal(ocitap_conf_lookup(broken, strlen(broken), "c", "http", &v, &err), -EINVAL);
	assert_string_equal(err.field, "c:2");
	assert_null(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_errors_name_the_line),
		cmocka_unit_test(test_lookup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
