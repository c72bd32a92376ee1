/*
 * test_profile.c: the io.containers.trace-syscall annotation (good and bad
 * values), syscall numbers to names, and the profile built from them, alone
 * and merged with an input profile; where profiles may be written and read
 * (the profile directory, --profile-allow, never a container's rootfs) and
 * how (no symbolic link, no file ocitap did not write, no directory others
 * may write).
 */
#include <errno.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ocitap-private.h"
#include <linux/openat2.h>
#include <fcntl.h>
#include "testutil.h"

static void test_annotation(void **state)
{
	struct ocitap_trace_spec spec;
	struct ocitap_error err = { 0 };
	static const struct {
		const char *value;
		const char *in, *out; /* NULL: refused */
		const char *message;  /* part of the error */
	} cases[] = {
		{ "of:/tmp/out.json", "", "/tmp/out.json", NULL },
		{ "if:/etc/in.json;of:/tmp/out.json", "/etc/in.json", "/tmp/out.json", NULL },
		{ "of:/tmp/out.json;if:/etc/in.json", "/etc/in.json", "/tmp/out.json", NULL },
		{ "/tmp/out.json", "", "/tmp/out.json", NULL }, /* the hook's first form */
		{ "", NULL, NULL, "empty" },
		{ "of:out.json", "", "out.json", NULL }, /* under the profile directory */
		{ "if:in.json;of:/tmp/o", "in.json", "/tmp/o", NULL },
		{ "of:team/out.json", "", "team/out.json", NULL },
		{ "of:../out.json", NULL, NULL, "\"..\" component" },
		{ "of:team/../../etc/x", NULL, NULL, "\"..\" component" },
		{ "if:./in.json;of:o", NULL, NULL, "\".\" component" },
		{ "if:/etc/in.json", NULL, NULL, "of: is missing" },
		{ "of:/tmp/../etc/passwd", NULL, NULL, "\"..\" component" },
		{ "of:/tmp/./x", NULL, NULL, "\".\" component" },
		{ "of:/tmp/dir/", NULL, NULL, "names a directory" },
		{ "of:", NULL, NULL, "empty" },
		{ "of:/a;of:/b", NULL, NULL, "given twice" },
		{ "out:/tmp/x", NULL, NULL, "neither if:PATH nor of:PATH" },
		{ "of:/tmp/a\nb", NULL, NULL, "control character" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = ocitap_trace_spec_parse(cases[i].value, &spec, &err);

		if (cases[i].out) {
			if (r != 0)
				fail_msg("\"%s\": %s", cases[i].value, err.message);
			assert_string_equal(spec.in, cases[i].in);
			assert_string_equal(spec.out, cases[i].out);
		} else {
			if (r != -EINVAL)
				fail_msg("\"%s\" was accepted (%d)", cases[i].value, r);
			if (!strstr(err.message, cases[i].message))
				fail_msg("\"%s\": \"%s\" does not say \"%s\"", cases[i].value, err.message,
					 cases[i].message);
		}
	}
}

static void test_names(void **state)
{
	uint64_t native[16] = { 0 }, compat[16] = { 0 };
	char **names = NULL;
	size_t unnamed = 0;
	int n;

	native[SYS_getpid / 64] |= 1ULL << (SYS_getpid % 64);
	native[SYS_write / 64] |= 1ULL << (SYS_write % 64);
	native[1000 / 64] |= 1ULL << (1000 % 64); /* no such syscall */
	compat[20 / 64] |= 1ULL << 20;		  /* getpid on i386 too: one name */
	n = ocitap_profile_names(native, compat, 16, &names, &unnamed);
	if (seccomp_arch_native() != SCMP_ARCH_X86_64) {
		ocitap_profile_names_free(names);
		skip();
	}
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "getpid");
	assert_string_equal(names[1], "write");
	assert_null(names[2]);
	assert_int_equal(unnamed, 1);
	ocitap_profile_names_free(names);
}

static json_object *build(char *const *names, const char *in)
{
	struct ocitap_error err = { 0 };
	char *json = NULL;
	json_object *o;

	if (ocitap_profile_build(names, in, in ? strlen(in) : 0, &json, &err) < 0)
		fail_msg("build: %s", err.message);
	o = json_tokener_parse(json);
	assert_non_null(o);
	free(json);
	return o;
}

static const char *allowed_at(json_object *o, size_t i)
{
	json_object *rules, *names;

	assert_true(json_object_object_get_ex(o, "syscalls", &rules));
	assert_true(json_object_object_get_ex(json_object_array_get_idx(rules, 0), "names", &names));
	return i < json_object_array_length(names) ? json_object_get_string(json_object_array_get_idx(names, i)) : NULL;
}

static bool allowed(json_object *o, const char *name)
{
	for (size_t i = 0; allowed_at(o, i); i++)
		if (strcmp(allowed_at(o, i), name) == 0)
			return true;
	return false;
}

/* what every profile allows, observed or not: the runtime's window between
 * loading the filter and the exec (lib/profile.c) */
static const char *const floor_names[] = { "rt_sigreturn", "restart_syscall", "rt_sigprocmask", "sigaltstack",
					   "futex",	   "nanosleep",	      "sched_yield",	"epoll_pwait",
					   "tgkill",	   "getpid",	      "gettid",		"madvise",
					   "execve",	   "exit",	      "exit_group" };

static void test_build(void **state)
{
	char *names[] = { "getpid", "read", "write", NULL };
	json_object *o = build(names, NULL), *v;
	size_t n = 0;

	assert_true(json_object_object_get_ex(o, "defaultAction", &v));
	assert_string_equal(json_object_get_string(v), "SCMP_ACT_ERRNO");
	assert_true(json_object_object_get_ex(o, "architectures", &v));
	assert_true(json_object_array_length(v) >= 1);
	assert_true(allowed(o, "read"));
	assert_true(allowed(o, "write"));
	assert_false(allowed(o, "sysinfo"));
	assert_false(allowed(o, "mkdir"));
	for (size_t i = 0; i < sizeof(floor_names) / sizeof(floor_names[0]); i++)
		if (!allowed(o, floor_names[i]))
			fail_msg("%s is not allowed", floor_names[i]);
	/* sorted, each once: the observed and the floor (getpid is both) */
	for (; allowed_at(o, n); n++)
		if (n && strcmp(allowed_at(o, n - 1), allowed_at(o, n)) >= 0)
			fail_msg("%s before %s", allowed_at(o, n - 1), allowed_at(o, n));
	assert_int_equal(n, sizeof(floor_names) / sizeof(floor_names[0]) + 2);
	json_object_put(o);
}

static void test_merge(void **state)
{
	/* IN allows uname outright, blocks write (kept blocked though observed),
	 * allows personality with an argument condition (kept as it is) */
	const char *in = "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38,"
			 " \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_PPC64LE\"],"
			 " \"syscalls\": ["
			 "  {\"names\": [\"uname\", \"getpid\"], \"action\": \"SCMP_ACT_ALLOW\"},"
			 "  {\"name\": \"write\", \"action\": \"SCMP_ACT_ERRNO\"},"
			 "  {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\","
			 "   \"args\": [{\"index\": 0, \"value\": 0, \"op\": \"SCMP_CMP_EQ\"}]}]}";
	char *names[] = { "getpid", "read", "write", NULL };
	json_object *o = build(names, in), *v, *rules;

	assert_true(allowed(o, "getpid"));
	assert_true(allowed(o, "read"));
	assert_true(allowed(o, "uname"));
	assert_false(allowed(o, "write")); /* stays blocked */
	assert_false(allowed(o, "personality")); /* IN's conditional rule, kept as it is */
	assert_true(json_object_object_get_ex(o, "defaultErrnoRet", &v));
	assert_int_equal(json_object_get_int(v), 38);
	assert_true(json_object_object_get_ex(o, "syscalls", &rules));
	assert_int_equal(json_object_array_length(rules), 3); /* ours, IN's write rule, IN's personality rule */
	assert_true(json_object_object_get_ex(o, "architectures", &v));
	assert_string_equal(json_object_get_string(json_object_array_get_idx(v, json_object_array_length(v) - 1)),
			    "SCMP_ARCH_PPC64LE");
	json_object_put(o);

	/* an IN that refuses one of the floor keeps it refused */
	o = build(names, "{\"syscalls\": [{\"names\": [\"tgkill\"], \"action\": \"SCMP_ACT_KILL\"}]}");
	assert_false(allowed(o, "tgkill"));
	assert_true(allowed(o, "rt_sigreturn"));
	json_object_put(o);
}

static void test_bad_input(void **state)
{
	static const struct {
		const char *in, *message;
	} cases[] = {
		{ "[]", "" },
		{ "{\"syscalls\": {}}", "syscalls" },
		{ "{\"syscalls\": [1]}", "syscalls[0]" },
		{ "{\"syscalls\": [{\"action\": \"SCMP_ACT_ALLOW\"}]}", "syscalls[0]" },
		{ "{\"syscalls\": [{\"names\": [\"read\"]}]}", "syscalls[0]" },
		{ "{\"syscalls\": [{\"names\": [7], \"action\": \"SCMP_ACT_ALLOW\"}]}", "syscalls[0]" },
		{ "{\"architectures\": \"x86\"}", "architectures" },
		{ "{\"defaultAction\": ", "" },
	};
	char *names[] = { "read", NULL };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ocitap_error err = { 0 };
		char *json = NULL;

		if (ocitap_profile_build(names, cases[i].in, strlen(cases[i].in), &json, &err) >= 0)
			fail_msg("%s was accepted", cases[i].in);
		assert_null(json);
		if (!strstr(err.field, cases[i].message))
			fail_msg("%s: field \"%s\", want \"%s\"", cases[i].in, err.field, cases[i].message);
	}
}

static void test_marker(void **state)
{
	char *names[] = { "read", NULL };
	json_object *o = build(names, NULL), *v, *w;

	assert_true(json_object_object_get_ex(o, OCITAP_PROFILE_MARKER, &v));
	assert_true(json_object_object_get_ex(v, "writer", &w));
	assert_string_equal(json_object_get_string(w), "ocitap");
	json_object_put(o);
}

static void test_place(void **state)
{
	static const char *const allow[] = { "/srv/profiles", "/srv/profiles/team" };
	const struct ocitap_profile_rules rules = { .dir = "/var/lib/ocitap/profiles",
						    .allow = allow,
						    .n_allow = 2,
						    .forbidden = { "/srv/profiles/b/rootfs", "/srv/profiles/b" } };
	static const struct {
		const char *path;
		int r;
		const char *base, *rel, *message; /* base NULL: refused */
	} cases[] = {
		{ "x.json", 0, "/var/lib/ocitap/profiles", "x.json", NULL },
		{ "team/x.json", 0, "/var/lib/ocitap/profiles", "team/x.json", NULL },
		{ "/var/lib/ocitap/profiles/y.json", 0, "/var/lib/ocitap/profiles", "y.json", NULL },
		{ "/srv/profiles/x.json", 0, "/srv/profiles", "x.json", NULL },
		{ "/srv/profiles/team/x.json", 0, "/srv/profiles/team", "x.json", NULL }, /* the longest prefix */
		{ "/srv//profiles/x.json", 0, "/srv/profiles", "x.json", NULL },
		{ "/etc/ocitap-attack.json", -EPERM, NULL, NULL, "outside the profile directory" },
		{ "/srv/profilesX/x.json", -EPERM, NULL, NULL, "outside" },
		{ "/srv/profiles", -EPERM, NULL, NULL, "outside" },
		{ "/var/lib/ocitap/x.json", -EPERM, NULL, NULL, "outside" },
		{ "../x.json", -EINVAL, NULL, NULL, "\"..\" component" },
		{ "/srv/profiles/../../etc/x", -EINVAL, NULL, NULL, "\"..\" component" },
		{ "/srv/profiles/b/rootfs/tmp/p/x.json", -EPERM, NULL, NULL, "inside the container's rootfs" },
		{ "/srv/profiles/b/config.json", -EPERM, NULL, NULL, "inside the container's bundle" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ocitap_profile_place p;
		struct ocitap_error err = { 0 };
		int r = ocitap_profile_place(&rules, cases[i].path, &p, &err);

		if (r != cases[i].r)
			fail_msg("%s: %d, want %d (%s)", cases[i].path, r, cases[i].r, err.message);
		if (cases[i].base) {
			assert_string_equal(p.base, cases[i].base);
			assert_string_equal(p.rel, cases[i].rel);
			assert_int_equal(p.in_dir, strcmp(cases[i].base, rules.dir) == 0);
		} else if (!strstr(err.message, cases[i].message)) {
			fail_msg("%s: \"%s\" does not say \"%s\"", cases[i].path, err.message, cases[i].message);
		}
	}
	{
		/* without a profile directory a relative name has nowhere to go */
		const struct ocitap_profile_rules none = { .allow = allow, .n_allow = 1 };
		struct ocitap_profile_place p;
		struct ocitap_error err = { 0 };

		assert_int_equal(ocitap_profile_place(&none, "x.json", &p, &err), -EPERM);
	}
}

/* a fresh directory of root's, 0700, for the file tests */
static void tmpdir(char *buf, size_t size)
{
	snprintf(buf, size, "/tmp/ocitap-test-profile-XXXXXX");
	assert_non_null(mkdtemp(buf));
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *slurp(const char *path)
{
	size_t len = 0;
	char *buf = NULL;

	if (ocitap_read_file(path, 1 << 20, 1000, &buf, &len, NULL) < 0)
		return NULL;
	return buf;
}

static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.' || (e->d_name[1] && strcmp(e->d_name, "..") != 0);
	closedir(d);
	return n;
}

static int place_write(const struct ocitap_profile_rules *rules, const char *path, const char *json,
		       struct ocitap_error *err)
{
	struct ocitap_profile_place p;
	int r = ocitap_profile_place(rules, path, &p, err);

	return r < 0 ? r : ocitap_profile_write(&p, json, strlen(json), 0644, err);
}

static void test_write(void **state)
{
	char t[64], dir[128], path[256], target[256], out[256];
	const char *allow[1];
	struct ocitap_profile_rules rules = { .dir = dir, .allow = allow, .n_allow = 1 };
	struct ocitap_error err = { 0 };
	char *names[] = { "read", NULL }, *json = NULL, *got;
	struct stat st;

	{
		/* valgrind 3.19 (Debian 12) does not emulate openat2 (437): there the
		 * writes cannot run; natively and under ASan they do */
		struct open_how how = { .flags = O_RDONLY | O_DIRECTORY };
		long fd = syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof(how));

		if (fd < 0 && errno == ENOSYS) {
			print_message("# openat2 is not available (ENOSYS): profile writes not tested in this run\n");
			skip();
		}
		if (fd >= 0)
			close((int)fd);
	}
	tmpdir(t, sizeof(t));
	allow[0] = t;
	snprintf(dir, sizeof(dir), "%s/profiles", t); /* not there yet: created */
	assert_int_equal(ocitap_profile_build(names, NULL, 0, &json, &err), 0);

	/* a relative name lands in the profile directory, subdirectories made */
	assert_int_equal(place_write(&rules, "team/x.json", json, &err), 0);
	snprintf(path, sizeof(path), "%s/team/x.json", dir);
	got = slurp(path);
	assert_non_null(got);
	assert_string_equal(got, json);
	free(got);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	/* ours: replaced, and no temporary file left */
	assert_int_equal(place_write(&rules, "team/x.json", json, &err), 0);
	snprintf(path, sizeof(path), "%s/team", dir);
	assert_int_equal(entries(path), 1);

	/* an absolute path under the allowed prefix */
	snprintf(out, sizeof(out), "%s/abs.json", t);
	assert_int_equal(place_write(&rules, out, json, &err), 0);
	assert_int_equal(access(out, F_OK), 0);

	/* a file ocitap did not write is never replaced */
	snprintf(path, sizeof(path), "%s/other.json", t);
	put(path, "{\"defaultAction\": \"SCMP_ACT_ALLOW\"}");
	assert_int_equal(place_write(&rules, path, json, &err), -EPERM);
	assert_non_null(strstr(err.message, "was not written by ocitap"));
	got = slurp(path);
	assert_string_equal(got, "{\"defaultAction\": \"SCMP_ACT_ALLOW\"}");
	free(got);

	/* a symbolic link on the way, or as the file: refused, nothing written there */
	snprintf(target, sizeof(target), "%s/elsewhere", t);
	assert_int_equal(mkdir(target, 0700), 0);
	snprintf(path, sizeof(path), "%s/p", t);
	assert_int_equal(symlink(target, path), 0);
	snprintf(path, sizeof(path), "%s/p/x.json", t);
	assert_int_equal(place_write(&rules, path, json, &err), -EPERM);
	assert_non_null(strstr(err.message, "symbolic link"));
	assert_int_equal(entries(target), 0);
	snprintf(target, sizeof(target), "%s/elsewhere/y.json", t);
	snprintf(path, sizeof(path), "%s/l.json", t);
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(place_write(&rules, path, json, &err), -EPERM);
	assert_non_null(strstr(err.message, "symbolic link"));
	assert_int_not_equal(access(target, F_OK), 0);

	/* a directory others may write: refused; sticky and root's: fine */
	snprintf(path, sizeof(path), "%s/ww", t);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(chmod(path, 0777), 0);
	snprintf(path, sizeof(path), "%s/ww/x.json", t);
	assert_int_equal(place_write(&rules, path, json, &err), -EPERM);
	assert_non_null(strstr(err.message, "writable by other users"));
	snprintf(path, sizeof(path), "%s/ww", t);
	assert_int_equal(chmod(path, 01777), 0);
	snprintf(path, sizeof(path), "%s/ww/x.json", t);
	assert_int_equal(place_write(&rules, path, json, &err), geteuid() == 0 ? 0 : -EPERM);

	/* read: the same rules */
	{
		struct ocitap_profile_place p;
		char *in = NULL;
		size_t len = 0;
		mode_t mode = 0;

		assert_int_equal(ocitap_profile_place(&rules, out, &p, &err), 0);
		assert_int_equal(ocitap_profile_read(&p, &in, &len, &mode, &err), 0);
		assert_string_equal(in, json);
		assert_int_equal(mode, 0644);
		free(in);
		snprintf(path, sizeof(path), "%s/l.json", t);
		assert_int_equal(ocitap_profile_place(&rules, path, &p, &err), 0);
		assert_int_equal(ocitap_profile_read(&p, NULL, NULL, NULL, &err), -EPERM);
		snprintf(path, sizeof(path), "%s/none.json", t);
		assert_int_equal(ocitap_profile_place(&rules, path, &p, &err), 0);
		assert_int_equal(ocitap_profile_read(&p, NULL, NULL, NULL, &err), -ENOENT);
		assert_non_null(strstr(err.message, "cannot read"));
		snprintf(path, sizeof(path), "%s/other.json", t);
		put(path, "[1]");
		assert_int_equal(ocitap_profile_place(&rules, path, &p, &err), 0);
		assert_int_equal(ocitap_profile_read(&p, &in, &len, NULL, &err), -EINVAL);
		assert_non_null(strstr(err.message, "is not a seccomp profile"));
		assert_int_equal(ocitap_profile_place(&rules, t, &p, &err), -EPERM); /* the prefix itself */
	}
	free(json);
	snprintf(path, sizeof(path), "rm -rf '%s'", t);
	assert_int_equal(system(path), 0);
}

/* the rootfs found by its resolved path too: a link to its parent names it otherwise */
static void test_rootfs_resolved(void **state)
{
	char t[64], real[128], link[128], rootfs[160], path[256];
	const char *allow[1] = { t };
	struct ocitap_profile_rules rules = { .allow = allow, .n_allow = 1 };
	struct ocitap_profile_place p;
	struct ocitap_error err = { 0 };

	tmpdir(t, sizeof(t));
	snprintf(real, sizeof(real), "%s/real", t);
	snprintf(link, sizeof(link), "%s/link", t);
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", link);
	assert_int_equal(mkdir(real, 0700), 0);
	assert_int_equal(symlink(real, link), 0);
	snprintf(path, sizeof(path), "%s/rootfs", real);
	assert_int_equal(mkdir(path, 0700), 0);
	rules.forbidden[0] = rootfs;
	snprintf(path, sizeof(path), "%s/rootfs/tmp/x.json", real);
	assert_int_equal(ocitap_profile_place(&rules, path, &p, &err), -EPERM);
	assert_non_null(strstr(err.message, "inside the container's rootfs"));
	snprintf(path, sizeof(path), "%s/x.json", real);
	assert_int_equal(ocitap_profile_place(&rules, path, &p, &err), 0);
	snprintf(path, sizeof(path), "rm -rf '%s'", t);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_annotation), cmocka_unit_test(test_names),     cmocka_unit_test(test_build),
		cmocka_unit_test(test_merge),	   cmocka_unit_test(test_bad_input), cmocka_unit_test(test_marker),
		cmocka_unit_test(test_place),	   cmocka_unit_test(test_write),     cmocka_unit_test(test_rootfs_resolved),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
