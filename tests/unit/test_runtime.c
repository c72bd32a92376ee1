/*
 * test_runtime.c: what runc and crun print (`state`, `list`) and keep on
 * disk (runc state.json, crun status), as captured from real containers;
 * the status derived from a state directory against a fake /proc
 * (tests/data/proc: pid 100 started at tick 2507605), including a pid that
 * now belongs to another process; runsc's state files (SANDBOX_sandbox:ID.state,
 * found in any root); the runtime operations' command lines against a fake
 * runtime that records its argv.
 */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ocitap-private.h"
#include "runtime.h"
#include "testutil.h"

#define PROC TEST_DATA_DIR "/proc"

static void test_state_output(void **unused)
{
	struct ocitap_runtime_container c;
	struct ocitap_error err = { 0 };
	size_t len;
	char *buf = read_test_data("runc-state-cmd.json", &len);

	assert_int_equal(ocitap_runtime_parse_state(buf, len, "runc", &c, &err), 0);
	assert_string_equal(c.runtime, "runc");
	assert_string_equal(c.id, "t3");
	assert_int_equal(c.pid, 3104);
	assert_string_equal(c.status, "running");
	assert_string_equal(c.bundle, "/tmp/exp/b");
	assert_true(c.created_wall_ns == 1795392797899797430ll);
	ocitap_runtime_container_release(&c);
	free(buf);

	buf = read_test_data("crun-state-cmd.json", &len);
	assert_int_equal(ocitap_runtime_parse_state(buf, len, "crun", &c, &err), 0);
	assert_string_equal(c.runtime, "crun");
	assert_non_null(c.id);
	ocitap_runtime_container_release(&c);
	free(buf);
}

static void test_list_output(void **unused)
{
	struct ocitap_runtime_container *v;
	struct ocitap_error err = { 0 };
	size_t n, len;
	char *buf = read_test_data("runtime/crun-list.json", &len);

	assert_int_equal(ocitap_runtime_parse_list(buf, len, "crun", &v, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].status, "created");
	assert_string_equal(v[1].status, "stopped");
	assert_int_equal(v[1].pid, 0);
	ocitap_runtime_containers_free(v, n);
	free(buf);

	buf = read_test_data("runtime/runc-list.json", &len);
	assert_int_equal(ocitap_runtime_parse_list(buf, len, "runc", &v, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].owner, "root");
	ocitap_runtime_containers_free(v, n);
	free(buf);

	/* runc prints null when it has no containers */
	assert_int_equal(ocitap_runtime_parse_list("null\n", 5, "runc", &v, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(ocitap_runtime_parse_list("[{\"pid\":1}]", 11, "runc", &v, &n, &err), -EINVAL);
	assert_string_equal(err.field, "[0].id");
	assert_int_equal(ocitap_runtime_parse_list("[{\"id\":\"a\",\"pid\":\"1\"}]", 22, "runc", &v, &n, &err),
			 -EINVAL);
	assert_string_equal(err.field, "[0].pid");
	assert_int_equal(ocitap_runtime_parse_list("{}", 2, "runc", &v, &n, &err), -EINVAL);
	assert_true(ocitap_runtime_parse_list("[", 1, "runc", &v, &n, &err) < 0);
}

static void test_state_files(void **unused)
{
	struct ocitap_runtime_container c;
	struct ocitap_error err = { 0 };
	size_t len;
	char *buf = read_test_data("runtime/runc-state-dir.json", &len);

	assert_int_equal(ocitap_runtime_parse_state_file(buf, len, "runc", "t6", &c, &err), 0);
	assert_string_equal(c.id, "t6");
	assert_int_equal(c.pid, 28460);
	assert_true(c.has_start);
	assert_true(c.start_ticks == 2507605);
	assert_string_equal(c.bundle, "/tmp/rt/b");
	assert_string_equal(c.rootfs, "/tmp/rt/b/rootfs");
	assert_string_equal(c.cgroup, "/sys/fs/cgroup/unified/t6");
	assert_null(c.status);
	ocitap_runtime_container_release(&c);
	free(buf);

	buf = read_test_data("runtime/crun-status-dir.json", &len);
	assert_int_equal(ocitap_runtime_parse_state_file(buf, len, "crun", "c6", &c, &err), 0);
	assert_int_equal(c.pid, 27642);
	assert_true(c.start_ticks == 2458427);
	assert_string_equal(c.bundle, "/tmp/rt/cb");
	assert_null(c.cgroup); /* "" with --cgroup-manager=disabled */
	assert_true(c.created_wall_ns > 0);
	ocitap_runtime_container_release(&c);
	free(buf);

	assert_int_equal(ocitap_runtime_parse_state_file("{\"pid\":-4}", 10, "crun", "x", &c, &err), -ERANGE);
	assert_string_equal(err.field, "pid");
	assert_int_equal(ocitap_runtime_parse_state_file("{}", 2, "runc", "x", &c, &err), -EINVAL);
	assert_string_equal(err.field, "init_process_pid");
	assert_int_equal(ocitap_runtime_parse_state_file("{\"init_process_pid\":5,\"init_process_start\":\"x\"}", 47,
							 "runc", "x", &c, &err),
			 -EINVAL);
	assert_string_equal(err.field, "init_process_start");
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_status_from_dir(void **unused)
{
	char root[] = "/tmp/test_runtime.XXXXXX", p[600];
	struct ocitap_runtime_container c, *v;
	struct ocitap_error err = { 0 };
	size_t n;

	assert_non_null(mkdtemp(root));
	/* pid 100 runs, started at the recorded tick: running */
	snprintf(p, sizeof(p), "%s/live", root);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/live/state.json", root);
	put(p, "{\"init_process_pid\":100,\"init_process_start\":2507605,\"created\":\"2026-11-23T05:47:50Z\"}");
	assert_int_equal(ocitap_runtime_read_dir("runc", root, "live", PROC, &c, &err), 0);
	assert_string_equal(c.status, "running");
	ocitap_runtime_container_release(&c);
	/* pid 100 now is another process (another start time): stopped */
	snprintf(p, sizeof(p), "%s/reused", root);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/reused/state.json", root);
	put(p, "{\"init_process_pid\":100,\"init_process_start\":999}");
	assert_int_equal(ocitap_runtime_read_dir("runc", root, "reused", PROC, &c, &err), 0);
	assert_string_equal(c.status, "stopped");
	ocitap_runtime_container_release(&c);
	/* an exec.fifo: created */
	snprintf(p, sizeof(p), "%s/new", root);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/new/state.json", root);
	put(p, "{\"init_process_pid\":100,\"init_process_start\":2507605}");
	snprintf(p, sizeof(p), "%s/new/exec.fifo", root);
	put(p, "");
	assert_int_equal(ocitap_runtime_read_dir("runc", root, "new", PROC, &c, &err), 0);
	assert_string_equal(c.status, "created");
	ocitap_runtime_container_release(&c);
	/* malformed: listed, with the reason */
	snprintf(p, sizeof(p), "%s/bad", root);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/bad/state.json", root);
	put(p, "{\"init_process_pid\": tru");
	assert_true(ocitap_runtime_read_dir("runc", root, "bad", PROC, &c, &err) < 0);
	assert_non_null(strstr(err.message, "bad/state.json"));
	assert_int_equal(ocitap_runtime_read_dir("runc", root, "../etc", PROC, &c, &err), -EINVAL);
	assert_int_equal(ocitap_runtime_read_dir("runc", root, "absent", PROC, &c, &err), -ENOENT);

	assert_int_equal(ocitap_runtime_list_dir("runc", root, PROC, &v, &n, &err), 0);
	assert_int_equal(n, 4);
	assert_string_equal(v[0].id, "bad");
	assert_string_equal(v[0].status, "unknown");
	assert_non_null(v[0].error);
	assert_string_equal(v[1].id, "live");
	assert_string_equal(v[2].status, "created");
	assert_string_equal(v[3].status, "stopped");
	ocitap_runtime_containers_free(v, n);
	snprintf(p, sizeof(p), "%s/none", root);
	assert_int_equal(ocitap_runtime_list_dir("runc", p, PROC, &v, &n, &err), -ENOENT);
	snprintf(p, sizeof(p), "rm -rf '%s'", root);
	assert_int_equal(system(p), 0);
}

static void test_runsc(void **unused)
{
	char root[] = "/tmp/test_runtime.XXXXXX", p[700];
	struct ocitap_runtime_container c, *v;
	struct ocitap_error err = { 0 };
	size_t len, n;
	char *buf = read_test_data("runsc-state-file.json", &len);

	assert_int_equal(ocitap_runtime_parse_state_file(buf, len, "runsc", "fbb867d9c2d3", &c, &err), 0);
	assert_string_equal(c.runtime, "runsc");
	assert_int_equal(c.pid, 100);
	assert_string_equal(c.status, "running");
	assert_string_equal(c.bundle, "/run/containerd/io.containerd.runtime.v2.task/moby/fbb867d9c2d3");
	assert_null(c.owner); /* "" */
	assert_true(c.created_wall_ns > 0);
	ocitap_runtime_container_release(&c);
	assert_int_equal(ocitap_runtime_parse_state_file("{\"sandbox\": 3}", 14, "runsc", "x", &c, &err), -EINVAL);
	assert_string_equal(err.field, "sandbox");
	assert_int_equal(ocitap_runtime_parse_state_file("{\"status\": \"running\"}", 21, "runsc", "x", &c, &err),
			 -EINVAL);
	assert_string_equal(err.field, "sandbox.pid");

	/* in a runc root (Docker's, with runsc behind a wrapper), next to a runc container */
	assert_non_null(mkdtemp(root));
	snprintf(p, sizeof(p), "%s/sb1_sandbox:fbb867d9c2d3.state", root);
	put(p, buf);
	snprintf(p, sizeof(p), "%s/sb1_sandbox:fbb867d9c2d3.lock", root);
	put(p, "");
	snprintf(p, sizeof(p), "%s/r1", root);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/r1/state.json", root);
	put(p, "{\"init_process_pid\":100,\"init_process_start\":2507605}");
	assert_int_equal(ocitap_runtime_list_dir("runc", root, PROC, &v, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].id, "r1");
	assert_string_equal(v[0].runtime, "runc");
	assert_string_equal(v[1].id, "fbb867d9c2d3");
	assert_string_equal(v[1].runtime, "runsc");
	assert_string_equal(v[1].status, "running"); /* pid 100 lives in the fake /proc */
	ocitap_runtime_containers_free(v, n);
	assert_int_equal(ocitap_runtime_read_dir("runsc", root, "fbb867d9c2d3", PROC, &c, &err), 0);
	assert_string_equal(c.status, "running");
	ocitap_runtime_container_release(&c);
	assert_int_equal(ocitap_runtime_read_dir("runsc", root, "other", PROC, &c, &err), -ENOENT);
	free(buf);
	snprintf(p, sizeof(p), "rm -rf '%s'", root);
	assert_int_equal(system(p), 0);
}

/* The fake runtime's argv, one per line. */
static char *ran(const char *dir)
{
	char p[600], *buf = NULL;
	size_t len;

	snprintf(p, sizeof(p), "%s/argv", dir);
	assert_int_equal(ocitap_read_file(p, 65536, -1, &buf, &len, NULL), 0);
	return buf;
}

static void test_operations(void **unused)
{
	char dir[] = "/tmp/test_runtime_ops.XXXXXX", bin[600], script[1400];
	struct ocitap_runtime rt = { .name = "runc", .root = "/r", .bin = bin };
	struct ocitap_error err = { 0 };
	char *a;

	assert_non_null(mkdtemp(dir));
	snprintf(bin, sizeof(bin), "%s/fake", dir);
	snprintf(script, sizeof(script),
		 "#!/bin/sh\nfor a in \"$@\"; do echo \"$a\"; done > %s/argv\n[ \"$4\" = fail ] && { echo 'no such thing' >&2; exit 3; }\nexit 0\n",
		 dir);
	put(bin, script);
	assert_int_equal(chmod(bin, 0755), 0);
	assert_int_equal(ocitap_runtime_create(&rt, "c1", "/b", "/p", &err), 0);
	assert_string_equal(a = ran(dir), "--root\n/r\ncreate\n--bundle\n/b\n--pid-file\n/p\nc1\n");
	free(a);
	assert_int_equal(ocitap_runtime_create(&rt, "c1", "/b", NULL, &err), 0);
	assert_string_equal(a = ran(dir), "--root\n/r\ncreate\n--bundle\n/b\nc1\n");
	free(a);
	assert_int_equal(ocitap_runtime_start(&rt, "c1", &err), 0);
	assert_string_equal(a = ran(dir), "--root\n/r\nstart\nc1\n");
	free(a);
	assert_int_equal(ocitap_runtime_kill(&rt, "c1", 15, false, &err), 0);
	assert_string_equal(a = ran(dir), "--root\n/r\nkill\nc1\n15\n");
	free(a);
	assert_int_equal(ocitap_runtime_kill(&rt, "c1", 9, true, &err), 0);
	assert_string_equal(a = ran(dir), "--root\n/r\nkill\n--all\nc1\n9\n");
	free(a);
	assert_int_equal(ocitap_runtime_delete(&rt, "c1", true, &err), 0);
	assert_string_equal(a = ran(dir), "--root\n/r\ndelete\n--force\nc1\n");
	free(a);
	/* a failure carries the exit status and stderr's first line */
	assert_int_equal(ocitap_runtime_start(&rt, "fail", &err), -EIO);
	assert_non_null(strstr(err.message, "start: exit 3: no such thing"));
	rt.bin = "/nonexistent/runc";
	assert_int_equal(ocitap_runtime_delete(&rt, "c1", false, &err), -ENOENT);
	assert_non_null(strstr(err.message, "not installed"));
	snprintf(script, sizeof(script), "rm -rf '%s'", dir);
	assert_int_equal(system(script), 0);
}

static void test_roots(void **unused)
{
	struct ocitap_runtimes set;

	assert_int_equal(ocitap_runtimes_find(&set, "/x/runc", NULL), 0);
	assert_int_equal(set.n, 2); /* a named root: only runc's and crun's */
	assert_string_equal(set.v[0].root, "/x/runc");
	assert_string_equal(set.v[1].root, "/run/crun");
	assert_string_equal(set.v[1].label, "crun");
	ocitap_runtimes_release(&set);
	assert_int_equal(ocitap_runtimes_find(&set, NULL, NULL), 0);
	assert_true(set.n >= 2);
	for (size_t i = 2; i < set.n; i++) /* whatever this host has: each a directory that exists */
		assert_int_equal(access(set.v[i].root, F_OK), 0);
	ocitap_runtimes_release(&set);
	assert_string_equal(ocitap_runtime_default_root("runsc"), "/var/run/runsc");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_output), cmocka_unit_test(test_list_output),
		cmocka_unit_test(test_state_files),  cmocka_unit_test(test_status_from_dir),
		cmocka_unit_test(test_runsc),	     cmocka_unit_test(test_operations),
		cmocka_unit_test(test_roots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
