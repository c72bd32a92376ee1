/*
 * test_keeper.c: the ocitapd <-> ocitap-fdkeeper messages, both ways, what
 * the keeper refuses, and the rules of the secret file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ocitap-private.h"
#include "testutil.h"

static const struct {
	const char *line;
	int code;
	enum ocitap_keeper_verb verb;
	const char *key, *id;
} cases[] = {
	{ "KEEP fd-1 ctr-a", 0, OCITAP_KEEPER_KEEP, "fd-1", "ctr-a" },
	{ "KEEP fd-1 ctr-a\n", 0, OCITAP_KEEPER_KEEP, "fd-1", "ctr-a" },
	{ "DROP k", 0, OCITAP_KEEPER_DROP, "k", "" },
	{ "GIVE", 0, OCITAP_KEEPER_GIVE, "", "" },
	{ "FD k 0123abcdef", 0, OCITAP_KEEPER_FD, "k", "0123abcdef" },
	{ "END 3", 0, OCITAP_KEEPER_END, "", "" },
	{ "OK", 0, OCITAP_KEEPER_OK, "", "" },
	{ "ERR not a seccomp notify fd", 0, OCITAP_KEEPER_ERR, "", "" },
	{ "HELLO 00ff", 0, OCITAP_KEEPER_HELLO, "00ff", "" },
	{ "HELLO", -EINVAL, 0, NULL, NULL },
	{ "HELLO a b", -EINVAL, 0, NULL, NULL },
	{ "KEEP fd-1", -EINVAL, 0, NULL, NULL },
	{ "KEEP fd-1 ctr a", -EINVAL, 0, NULL, NULL },
	{ "GIVE now", -EINVAL, 0, NULL, NULL },
	{ "keep a b", -EINVAL, 0, NULL, NULL },
	{ "END", -EINVAL, 0, NULL, NULL },
	{ "END -1", -EINVAL, 0, NULL, NULL },
	{ "END 1x", -EINVAL, 0, NULL, NULL },
	{ "DROP a\nDROP b", -EINVAL, 0, NULL, NULL },
	{ "KEEP a\tb c", -EINVAL, 0, NULL, NULL },
	{ "", -EINVAL, 0, NULL, NULL },
};

static void test_parse_table(void **unused)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ocitap_keeper_msg m;
		struct ocitap_error err = { 0 };
		int r = ocitap_keeper_parse(cases[i].line, strlen(cases[i].line), &m, &err);

		if (r != cases[i].code)
			fail_msg("\"%s\": %d (%s), expected %d", cases[i].line, r, err.message, cases[i].code);
		if (r < 0) {
			assert_true(err.message[0] != '\0');
			continue;
		}
		assert_int_equal(m.verb, cases[i].verb);
		assert_string_equal(m.key, cases[i].key);
		assert_string_equal(m.id, cases[i].id);
	}
}

static void test_limits_and_round_trip(void **unused)
{
	char line[OCITAP_KEEPER_MSG_MAX + 8], name[OCITAP_KEEPER_NAME_MAX + 2];
	struct ocitap_keeper_msg m = { .verb = OCITAP_KEEPER_FD }, back;
	int n;

	memset(name, 'k', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0'; /* 256 bytes: one too many */
	snprintf(line, sizeof(line), "DROP %s", name);
	assert_int_equal(ocitap_keeper_parse(line, strlen(line), &back, NULL), -EINVAL);
	name[OCITAP_KEEPER_NAME_MAX] = '\0';
	snprintf(line, sizeof(line), "DROP %s", name);
	assert_int_equal(ocitap_keeper_parse(line, strlen(line), &back, NULL), 0);
	assert_int_equal(ocitap_keeper_parse("GIVE", OCITAP_KEEPER_MSG_MAX + 1, &back, NULL), -EINVAL);
	assert_int_equal(ocitap_keeper_parse("GI\0E", 4, &back, NULL), -EINVAL);

	strcpy(m.key, "fd-7");
	strcpy(m.id, "web");
	n = ocitap_keeper_format(&m, line, sizeof(line));
	assert_int_equal(n, (int)strlen("FD fd-7 web"));
	assert_int_equal(ocitap_keeper_parse(line, (size_t)n, &back, NULL), 0);
	assert_string_equal(back.id, "web");
	strcpy(m.id, "has space");
	assert_int_equal(ocitap_keeper_format(&m, line, sizeof(line)), -EINVAL);
	m = (struct ocitap_keeper_msg){ .verb = OCITAP_KEEPER_ERR };
	strcpy(m.reason, "two\nlines");
	n = ocitap_keeper_format(&m, line, sizeof(line));
	assert_string_equal(line, "ERR two?lines");
	m = (struct ocitap_keeper_msg){ .verb = OCITAP_KEEPER_END, .count = 12 };
	n = ocitap_keeper_format(&m, line, sizeof(line));
	assert_int_equal(ocitap_keeper_parse(line, (size_t)n, &back, NULL), 0);
	assert_int_equal(back.count, 12);
}

/* ocitapd's keys: what a restarted daemon reads back of each fd */
static void test_keys(void **unused)
{
	char key[OCITAP_KEEPER_NAME_MAX + 1], policy[OCITAP_KEEPER_NAME_MAX + 1], long_name[100];
	struct ocitap_keeper_msg m = { .verb = OCITAP_KEEPER_KEEP }, back;
	char line[OCITAP_KEEPER_MSG_MAX + 1];
	uint64_t serial;
	bool init;
	int n;

	assert_int_equal(ocitap_keeper_key_format(key, sizeof(key), 42, true, "audit"), 0);
	assert_string_equal(key, "42.i.audit");
	assert_int_equal(ocitap_keeper_key_parse(key, &serial, &init, policy, sizeof(policy)), 0);
	assert_true(serial == 42 && init);
	assert_string_equal(policy, "audit");
	/* a policy name with what keeper names may not hold: escaped, and back */
	assert_int_equal(ocitap_keeper_key_format(key, sizeof(key), UINT64_MAX, false, "my policy\t100%\xc3\xa9"), 0);
	assert_string_equal(key, "18446744073709551615.e.my%20policy%09100%25%C3%A9");
	strcpy(m.key, key);
	strcpy(m.id, "c1");
	n = ocitap_keeper_format(&m, line, sizeof(line));
	assert_true(n > 0);
	assert_int_equal(ocitap_keeper_parse(line, (size_t)n, &back, NULL), 0);
	assert_int_equal(ocitap_keeper_key_parse(back.key, &serial, &init, policy, sizeof(policy)), 0);
	assert_true(serial == UINT64_MAX && !init);
	assert_string_equal(policy, "my policy\t100%\xc3\xa9");
	/* 63 bytes that all need escaping still fit a keeper name */
	memset(long_name, 0x01, 63);
	long_name[63] = '\0';
	assert_int_equal(ocitap_keeper_key_format(key, sizeof(key), 1, true, long_name), 0);
	assert_true(strlen(key) <= OCITAP_KEEPER_NAME_MAX);
	assert_int_equal(ocitap_keeper_key_format(key, 8, 1, true, "audit"), -ENAMETOOLONG);
	/* not ours */
	const char *bad[] = { "",	  "fd-7",	"7",	      "7.x.audit",
			      "7.i.",	  "-1.i.audit", " 7.i.audit", "7.i.a%2",
			      "7.i.a%zz", "7.i.a%00b",	"7.i.a b",    "99999999999999999999999.i.audit" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ocitap_keeper_key_parse(bad[i], &serial, &init, policy, sizeof(policy)) != -EINVAL)
			fail_msg("\"%s\" was accepted", bad[i]);
	assert_int_equal(ocitap_keeper_key_parse("1.i.abcdef", &serial, &init, policy, 4), -ENAMETOOLONG);
	/* up to OCITAP_KEEPER_NAME_MAX exactly: a plain byte takes one, an escaped one three
	 * (found by the fuzz_runtime campaign: a 255-byte key parsed and did not format back) */
	{
		char long_policy[300], out[OCITAP_KEEPER_NAME_MAX + 8];

		memset(long_policy, 'p', 251);
		long_policy[251] = '\0'; /* "1.i." + 251 = 255 bytes */
		assert_int_equal(ocitap_keeper_key_format(out, sizeof(out), 1, true, long_policy), 0);
		assert_int_equal(strlen(out), OCITAP_KEEPER_NAME_MAX);
		long_policy[251] = 'p';
		long_policy[252] = '\0';
		assert_int_equal(ocitap_keeper_key_format(out, sizeof(out), 1, true, long_policy), -ENAMETOOLONG);
		long_policy[249] = ' '; /* escaped: 3 bytes where 1 was */
		long_policy[250] = '\0';
		assert_int_equal(ocitap_keeper_key_format(out, sizeof(out), 1, true, long_policy), -ENAMETOOLONG);
	}
}

/* The secret: made once (0600, 64 hex digits), read back the same; a file
 * others can read, a link, a directory or one that is not a secret is
 * refused, naming the rule. */
static void test_secret_file(void **unused)
{
	char dir[] = "/tmp/ocitap-secret-XXXXXX", path[64], link[80], a[OCITAP_KEEPER_SECRET_LEN + 1],
	     b[OCITAP_KEEPER_SECRET_LEN + 1];
	struct ocitap_error err = { 0 };
	struct stat st;
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/keeper.key", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	assert_int_equal(ocitap_keeper_secret_load(path, false, a, &err), -ENOENT);
	assert_int_equal(ocitap_keeper_secret_load(path, true, a, &err), 0);
	assert_int_equal(strlen(a), OCITAP_KEEPER_SECRET_LEN);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(ocitap_keeper_secret_load(path, true, b, &err), 0); /* there: not made again */
	assert_string_equal(a, b);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(ocitap_keeper_secret_load(link, false, b, &err), -ELOOP);
	assert_non_null(strstr(err.message, "symbolic link"));
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(ocitap_keeper_secret_load(path, false, b, &err), -EPERM);
	assert_non_null(strstr(err.message, "readable by nobody else"));
	assert_int_equal(chmod(path, 0600), 0);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not-hex\n", 8), 8);
	close(fd);
	assert_int_equal(ocitap_keeper_secret_load(path, false, b, &err), -EINVAL);
	assert_non_null(strstr(err.message, "not a keeper secret"));
	assert_int_equal(ocitap_keeper_secret_load(dir, false, b, &err), -EINVAL);
	unlink(link);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_limits_and_round_trip),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_secret_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
