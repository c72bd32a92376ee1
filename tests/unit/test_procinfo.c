/*
 * test_procinfo.c: /proc parsing against captured files (tests/data/proc:
 * 100 is a runc container's init as captured, 101 an edited copy with a
 * hostile comm, a seccomp filter, a user namespace map and a broken
 * namespace link, 102 a zombie with only its stat), and capability
 * decoding.
 */
#include <errno.h>
#include <unistd.h>

#include "ocitap-private.h"
#include "procinfo.h"
#include "testutil.h"

#define PROC TEST_DATA_DIR "/proc"

static void test_captured_runc_init(void **unused)
{
	struct ocitap_proc_info p;
	char caps[256];

	assert_int_equal(ocitap_proc_info_read(PROC, 100, &p, NULL), 0);
	assert_int_equal(p.stat_error, 0);
	assert_int_equal(p.pid, 100);
	assert_string_equal(p.comm, "sleep");
	assert_int_equal(p.state, 'S');
	assert_int_equal(p.ppid, 1);
	assert_true(p.start_ticks == 2507605);
	assert_int_equal(p.status_error, 0);
	assert_int_equal(p.seccomp, 0);
	assert_int_equal(p.seccomp_filters, 0);
	assert_int_equal(p.no_new_privs, 1);
	assert_true(p.has_caps);
	assert_true(p.cap_eff == 0x20000420);
	ocitap_caps_format(p.cap_eff, ",", caps, sizeof(caps));
	assert_string_equal(caps, "CAP_KILL,CAP_NET_BIND_SERVICE,CAP_AUDIT_WRITE");
	assert_true(p.cap_amb == 0);
	assert_true(p.has_ids);
	assert_int_equal(p.uid[0], 0);
	assert_string_equal(p.ns[2].name, "mnt");
	assert_int_equal(p.ns[2].error, 0);
	assert_true(p.ns[2].inode == 4026532177ull);
	assert_true(p.ns[3].inode == 4026532181ull); /* net */
	assert_int_equal(p.cgroup_error, 0);
	assert_string_equal(p.cgroup, "/t6"); /* the v2 line of a hybrid layout */
	assert_int_equal(p.maps_error, 0);
	assert_non_null(strstr(p.uid_map, "4294967295"));
	assert_int_equal(p.argc, 2);
	assert_string_equal(p.argv[0], "sleep");
	assert_string_equal(p.argv[1], "3600");
	assert_null(p.argv[2]);
	ocitap_proc_info_release(&p);
}

static void test_hostile_and_partial(void **unused)
{
	struct ocitap_proc_info p;
	char caps[1024];
	size_t need;

	assert_int_equal(ocitap_proc_info_read(PROC, 101, &p, NULL), 0);
	assert_int_equal(p.stat_error, 0);
	assert_string_equal(p.comm, "(my) app)"); /* up to the last ')' */
	assert_int_equal(p.state, 'R');
	assert_int_equal(p.ppid, 7);
	assert_true(p.start_ticks == 12345);
	assert_int_equal(p.seccomp, 2);
	assert_string_equal(ocitap_seccomp_mode_name(p.seccomp), "filter");
	assert_int_equal(p.seccomp_filters, 3);
	assert_int_equal(p.no_new_privs, 0);
	assert_true(p.cap_eff == 0);
	need = ocitap_caps_format(p.cap_bnd, " ", caps, sizeof(caps));
	assert_int_equal(need, strlen(caps));
	assert_non_null(strstr(caps, "CAP_CHOWN "));
	assert_non_null(strstr(caps, " CAP_CHECKPOINT_RESTORE"));
	assert_int_equal(p.uid[1], 1001);
	assert_int_equal(p.uid[3], 1003);
	assert_true(p.ns[2].inode == 4026532999ull);		  /* mnt */
	assert_int_equal(p.ns[3].error, -EINVAL);		  /* net: "garbage" */
	assert_int_equal(p.ns[0].error, -ENOENT);		  /* cgroup: absent */
	assert_string_equal(p.cgroup, "4:memory:/a/b\n1:cpu:/a"); /* no v2 line: all of it */
	assert_non_null(strstr(p.uid_map, "100000"));
	assert_int_equal(p.argc, 3);
	assert_string_equal(p.argv[2], "last-without-nul");
	ocitap_proc_info_release(&p);

	assert_int_equal(ocitap_proc_info_read(PROC, 102, &p, NULL), 0);
	assert_int_equal(p.state, 'Z');
	assert_int_equal(p.status_error, -ENOENT);
	assert_int_equal(p.seccomp, -1);
	assert_false(p.has_caps);
	assert_int_equal(p.cgroup_error, -ENOENT);
	assert_int_equal(p.maps_error, -ENOENT);
	assert_int_equal(p.cmdline_error, -ENOENT);
	assert_null(p.cgroup);
	ocitap_proc_info_release(&p);
}

static void test_no_such_process(void **unused)
{
	struct ocitap_proc_info p;
	struct ocitap_error err = { 0 };
	uint64_t ticks;

	assert_int_equal(ocitap_proc_info_read(PROC, 99999, &p, &err), -ENOENT);
	assert_non_null(strstr(err.message, "99999"));
	assert_int_equal(ocitap_proc_start_ticks(PROC, 99999, &ticks), -ENOENT);
	assert_int_equal(ocitap_proc_start_ticks(PROC, 100, &ticks), 0);
	assert_true(ticks == 2507605);
}

static const struct {
	const char *stat;
	int code;
	unsigned long long start;
} stat_cases[] = {
	{ "1 (init) S 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 42 100 10\n", 0, 42 },
	{ "7 (a b) c) S 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 43 100 10", 0, 43 },
	{ "7 (x) S 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0", -EINVAL, 0 },	    /* cut short */
	{ "7 (x) S 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 4x 1", -EINVAL, 0 }, /* not a number */
	{ "7 x S 0", -EINVAL, 0 },
	{ "(x) S", -EINVAL, 0 },
	{ "-3 (x) S 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 42", -EINVAL, 0 },
	{ "", -EINVAL, 0 },
};

static void test_stat_table(void **unused)
{
	for (size_t i = 0; i < sizeof(stat_cases) / sizeof(stat_cases[0]); i++) {
		struct ocitap_proc_info p = { 0 };
		int r = ocitap_proc_parse_stat(stat_cases[i].stat, strlen(stat_cases[i].stat), &p);

		if (r != stat_cases[i].code)
			fail_msg("case %zu: %d, expected %d", i, r, stat_cases[i].code);
		if (r == 0 && p.start_ticks != stat_cases[i].start)
			fail_msg("case %zu: start %llu", i, (unsigned long long)p.start_ticks);
	}
}

static void test_status_bad_caps(void **unused)
{
	static const char bad[] = "Name:\tx\nCapEff:\tnot-hex\n";
	static const char some[] = "Seccomp:\t1\nCapEff:\t0000000000000001\n";
	struct ocitap_proc_info p = { 0 };

	assert_int_equal(ocitap_proc_parse_status(bad, strlen(bad), &p), -EINVAL);
	memset(&p, 0, sizeof(p));
	assert_int_equal(ocitap_proc_parse_status(some, strlen(some), &p), 0);
	assert_int_equal(p.seccomp, 1);
	assert_int_equal(p.seccomp_filters, -1); /* an older kernel: unknown */
	assert_false(p.has_caps);		 /* one of five sets */
}

static void test_caps_decoding(void **unused)
{
	char buf[64];

	assert_string_equal(ocitap_cap_name(0), "CAP_CHOWN");
	assert_string_equal(ocitap_cap_name(21), "CAP_SYS_ADMIN");
	assert_string_equal(ocitap_cap_name(39), "CAP_BPF");
	assert_string_equal(ocitap_cap_name(OCITAP_CAP_LAST), "CAP_CHECKPOINT_RESTORE");
	assert_null(ocitap_cap_name(OCITAP_CAP_LAST + 1));
	assert_int_equal(ocitap_caps_format(0, ",", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	ocitap_caps_format((1ull << 13) | (1ull << 45), ",", buf, sizeof(buf));
	assert_string_equal(buf, "CAP_NET_RAW,CAP_45");
	/* too small: cut, terminated, and the length it needed */
	assert_int_equal(ocitap_caps_format(0x3, ",", buf, 8), strlen("CAP_CHOWN,CAP_DAC_OVERRIDE"));
	assert_int_equal(strlen(buf), 7);
}

static void test_start_wall_time(void **unused)
{
	int64_t ns;
	long hz = sysconf(_SC_CLK_TCK);

	assert_int_equal(ocitap_proc_start_wall_ns(PROC, (uint64_t)hz * 10 + (uint64_t)hz / 2, &ns), 0);
	assert_true(ns == (1795388293ll + 10) * 1000000000ll + 500000000ll);
	assert_int_equal(ocitap_proc_start_wall_ns("/nonexistent", 1, &ns), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_captured_runc_init), cmocka_unit_test(test_hostile_and_partial),
		cmocka_unit_test(test_no_such_process),	   cmocka_unit_test(test_stat_table),
		cmocka_unit_test(test_status_bad_caps),	   cmocka_unit_test(test_caps_decoding),
		cmocka_unit_test(test_start_wall_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
