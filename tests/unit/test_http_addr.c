/*
 * test_http_addr.c: how a client finds ocitapd's HTTP API (lib/http-addr.h):
 * the address forms, wildcards made the loopback, the http.addr file, and
 * the order of the sources: --http, $OCITAP_HTTP, the configuration file,
 * http.addr beside the socket, the default; a broken file is skipped and
 * said, a bad flag or variable is an error.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "defaults.h"
#include "http-addr.h"
#include "testutil.h"

static void test_normalize(void **state)
{
	static const struct {
		const char *in, *out; /* out NULL: refused */
	} cases[] = {
		{ "127.0.0.1:9476", "127.0.0.1:9476" },
		{ "localhost:80", "localhost:80" },
		{ ":9476", "127.0.0.1:9476" },
		{ "0.0.0.0:1", "127.0.0.1:1" },
		{ "[::]:9476", "[::1]:9476" },
		{ "[::1]:9476", "[::1]:9476" },
		{ "unix:/run/ocitap/http.sock", "unix:/run/ocitap/http.sock" },
		{ "off", "off" },
		{ "", NULL },
		{ "127.0.0.1", NULL },
		{ "127.0.0.1:", NULL },
		{ "127.0.0.1:0", NULL },
		{ "127.0.0.1:65536", NULL },
		{ "127.0.0.1:9x", NULL },
		{ "unix:relative", NULL },
		{ "http://127.0.0.1:9476", NULL },
		{ "a b:1", NULL },
		{ "user@host:1", NULL },
		{ "[]:1", NULL },
		{ "[zz]:1", NULL },
		{ "::1:9476", NULL },
		{ "host\n:1", NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ocitap_error err = { 0 };
		char buf[OCITAP_HTTP_ADDR_MAX] = "";
		int r = ocitap_http_addr_normalize(cases[i].in, buf, sizeof(buf), &err);

		if (cases[i].out) {
			assert_int_equal(r, 0);
			assert_string_equal(buf, cases[i].out);
		} else {
			if (r != -EINVAL)
				fail_msg("'%s' was taken as '%s'", cases[i].in, buf);
			assert_true(err.message[0] != '\0');
		}
	}
}

static void test_parse_file(void **state)
{
	char buf[OCITAP_HTTP_ADDR_MAX];

	assert_int_equal(ocitap_http_addr_parse("127.0.0.1:5\n", 12, buf, sizeof(buf), NULL), 0);
	assert_string_equal(buf, "127.0.0.1:5");
	assert_int_equal(ocitap_http_addr_parse("off", 3, buf, sizeof(buf), NULL), 0);
	assert_string_equal(buf, "off");
	assert_int_equal(ocitap_http_addr_parse("1.2.3.4:5\n6.7.8.9:1\n", 20, buf, sizeof(buf), NULL), -EINVAL);
	assert_int_equal(ocitap_http_addr_parse("1.2.3.4:5\0", 10, buf, sizeof(buf), NULL), -EINVAL);
	assert_int_equal(ocitap_http_addr_parse("\n", 1, buf, sizeof(buf), NULL), -EINVAL);
	assert_int_equal(ocitap_http_addr_path("/run/ocitap/ocitap.sock", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/run/ocitap/" OCITAP_HTTP_ADDR_NAME);
	assert_int_equal(ocitap_http_addr_path("ocitap.sock", buf, sizeof(buf)), 0);
	assert_string_equal(buf, OCITAP_HTTP_ADDR_NAME);
}

static char dir[PATH_MAX];

static void write_file(const char *name, const char *text)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "we"));
	fputs(text, f);
	fclose(f);
}

static void remove_file(const char *name)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
}

static int setup(void **state)
{
	char path[PATH_MAX + 64];

	snprintf(dir, sizeof(dir), "/tmp/test_http_addr.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ocitap.sock", dir);
	setenv(OCITAP_ENV_SOCKET, path, 1);
	snprintf(path, sizeof(path), "%s/ocitapd.conf", dir);
	setenv(OCITAP_ENV_CONFIG, path, 1);
	unsetenv(OCITAP_ENV_HTTP);
	return 0;
}

static int teardown(void **state)
{
	remove_file("ocitapd.conf");
	remove_file(OCITAP_HTTP_ADDR_NAME);
	rmdir(dir);
	return 0;
}

/* Each source wins over those after it; each is used when those before say nothing. */
static void test_discover_order(void **state)
{
	struct ocitap_http_found f;
	struct ocitap_error err = { 0 };
	char path[PATH_MAX + 64];

	assert_int_equal(ocitap_http_discover(NULL, &f, &err), 0);
	assert_string_equal(f.addr, OCITAP_DEFAULT_HTTP);
	assert_string_equal(f.source, "the default");

	write_file(OCITAP_HTTP_ADDR_NAME, "127.0.0.1:4444\n");
	assert_int_equal(ocitap_http_discover(NULL, &f, &err), 0);
	assert_string_equal(f.addr, "127.0.0.1:4444");
	snprintf(path, sizeof(path), "%s/%s", dir, OCITAP_HTTP_ADDR_NAME);
	assert_string_equal(f.source, path);

	/* a configuration without http says nothing; with it, it wins */
	write_file("ocitapd.conf", "socket = /elsewhere.sock\n");
	assert_int_equal(ocitap_http_discover(NULL, &f, &err), 0);
	assert_string_equal(f.addr, "127.0.0.1:4444");
	write_file("ocitapd.conf", "# mine\nhttp = :3333\n");
	assert_int_equal(ocitap_http_discover(NULL, &f, &err), 0);
	assert_string_equal(f.addr, "127.0.0.1:3333");
	snprintf(path, sizeof(path), "%s/ocitapd.conf", dir);
	assert_string_equal(f.source, path);
	assert_string_equal(f.skipped, "");

	setenv(OCITAP_ENV_HTTP, "unix:/run/x.sock", 1);
	assert_int_equal(ocitap_http_discover(NULL, &f, &err), 0);
	assert_string_equal(f.addr, "unix:/run/x.sock");
	assert_string_equal(f.source, "$OCITAP_HTTP");

	assert_int_equal(ocitap_http_discover("off", &f, &err), 0);
	assert_string_equal(f.addr, "off");
	assert_string_equal(f.source, "--http");
	unsetenv(OCITAP_ENV_HTTP);

	setenv(OCITAP_ENV_CONFIG, "off", 1);
	assert_int_equal(ocitap_http_discover(NULL, &f, &err), 0);
	assert_string_equal(f.addr, "127.0.0.1:4444");
	snprintf(path, sizeof(path), "%s/ocitapd.conf", dir);
	setenv(OCITAP_ENV_CONFIG, path, 1);
}

static void test_discover_broken(void **state)
{
	struct ocitap_http_found f;
	struct ocitap_error err = { 0 };

	/* a broken configuration is skipped, and why is kept */
	write_file("ocitapd.conf", "http = 127.0.0.1:3333\nnonsense\n");
	write_file(OCITAP_HTTP_ADDR_NAME, "127.0.0.1:4444\n");
	assert_int_equal(ocitap_http_discover(NULL, &f, &err), 0);
	assert_string_equal(f.addr, "127.0.0.1:4444");
	assert_non_null(strstr(f.skipped, "ocitapd.conf:2: expected KEY = VALUE"));

	write_file("ocitapd.conf", "http = http://x:1\n");
	assert_int_equal(ocitap_http_discover(NULL, &f, &err), 0);
	assert_string_equal(f.addr, "127.0.0.1:4444");
	assert_non_null(strstr(f.skipped, "http: 'http://x:1'"));

	/* so is an http.addr that is not one address */
	remove_file("ocitapd.conf");
	write_file(OCITAP_HTTP_ADDR_NAME, "garbage\n");
	assert_int_equal(ocitap_http_discover(NULL, &f, &err), 0);
	assert_string_equal(f.addr, OCITAP_DEFAULT_HTTP);
	assert_non_null(strstr(f.skipped, OCITAP_HTTP_ADDR_NAME ": 'garbage'"));

	/* what the user typed is never skipped over */
	assert_int_equal(ocitap_http_discover("127.0.0.1", &f, &err), -EINVAL);
	assert_non_null(strstr(err.message, "--http: '127.0.0.1'"));
	setenv(OCITAP_ENV_HTTP, "nonsense", 1);
	assert_int_equal(ocitap_http_discover(NULL, &f, &err), -EINVAL);
	assert_non_null(strstr(err.message, "$OCITAP_HTTP: 'nonsense'"));
	unsetenv(OCITAP_ENV_HTTP);
	remove_file(OCITAP_HTTP_ADDR_NAME);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_parse_file),
		cmocka_unit_test_setup_teardown(test_discover_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discover_broken, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
