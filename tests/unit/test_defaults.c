/*
 * test_defaults.c: the names every program agrees on (a contract: users and
 * scripts depend on them) and how the environment overrides them.
 */
#include <stdlib.h>
#include <string.h>

#include "ocitap.h"
#include "testutil.h"

static void test_names(void **unused)
{
	assert_string_equal(OCITAP_DEFAULT_SOCKET, "/run/ocitap/ocitap.sock");
	assert_string_equal(OCITAP_DEFAULT_STATE_DIR, "/var/lib/ocitap");
	assert_string_equal(OCITAP_DEFAULT_HTTP, "127.0.0.1:9476");
	assert_string_equal(OCITAP_STATE_DB_NAME, "ocitap.db");
	assert_string_equal(OCITAP_SPOOL_DIR_NAME, "spool");
	assert_string_equal(OCITAP_DEFAULT_KEEPER_NAME, "keeper.sock");
	assert_string_equal(OCITAP_ENV_SOCKET, "OCITAP_SOCKET");
	assert_string_equal(OCITAP_ENV_STATE_DIR, "OCITAP_STATE_DIR");
	assert_string_equal(OCITAP_ENV_HTTP, "OCITAP_HTTP");
	assert_string_equal(OCITAP_DEFAULT_USER_RUNTIME_DIR, "/run/user");
	assert_string_equal(OCITAP_USER_SPOOL_DIR_NAME, "ocitap/spool");
	assert_string_equal(OCITAP_ENV_USER_RUNTIME_DIR, "OCITAP_USER_RUNTIME_DIR");
}

static void test_environment(void **unused)
{
	unsetenv(OCITAP_ENV_SOCKET);
	assert_string_equal(ocitap_default_path(OCITAP_ENV_SOCKET, OCITAP_DEFAULT_SOCKET), OCITAP_DEFAULT_SOCKET);
	setenv(OCITAP_ENV_SOCKET, "/tmp/t.sock", 1);
	assert_string_equal(ocitap_default_path(OCITAP_ENV_SOCKET, OCITAP_DEFAULT_SOCKET), "/tmp/t.sock");
	setenv(OCITAP_ENV_SOCKET, "", 1); /* set but empty: the default */
	assert_string_equal(ocitap_default_path(OCITAP_ENV_SOCKET, OCITAP_DEFAULT_SOCKET), OCITAP_DEFAULT_SOCKET);
	unsetenv(OCITAP_ENV_SOCKET);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_environment),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
