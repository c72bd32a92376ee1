/*
 * test_spool.c: the stage a hook binary is invoked as, spool files (atomic,
 * listed oldest first, unfinished and set-aside files skipped) and the
 * store's once-only bookkeeping for replays.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ocitap-private.h"
#include "testutil.h"

static struct ocitap_error err;

static void test_stage_from_program(void **unused)
{
	assert_int_equal(ocitap_stage_from_program("ocitap-poststart"), OCITAP_STAGE_POSTSTART);
	assert_int_equal(ocitap_stage_from_program("/usr/local/bin/ocitap-createRuntime"), OCITAP_STAGE_CREATE_RUNTIME);
	assert_int_equal(ocitap_stage_from_program("./ocitap-startContainer"), OCITAP_STAGE_START_CONTAINER);
	assert_int_equal(ocitap_stage_from_program("ocitap-hook"), -EINVAL);
	assert_int_equal(ocitap_stage_from_program("ocitap-PostStop"), -EINVAL);
	assert_int_equal(ocitap_stage_from_program("poststop"), -EINVAL);
	assert_int_equal(ocitap_stage_from_program("/x/ocitap-"), -EINVAL);
	assert_int_equal(ocitap_stage_from_program(NULL), -EINVAL);
}

/* rootless podman's map (0 is the user, 1.. its subordinate ids) and the host's */
static void test_uid_map_outside(void **unused)
{
	const char *podman = "         0       1001          1\n         1     100000      65536\n";
	uid_t out = 7;

	assert_int_equal(ocitap_uid_map_outside(podman, 0, &out), 0);
	assert_int_equal(out, 1001);
	assert_int_equal(ocitap_uid_map_outside(podman, 1, &out), 0);
	assert_int_equal(out, 100000);
	assert_int_equal(ocitap_uid_map_outside(podman, 65536, &out), 0);
	assert_int_equal(out, 165535);
	out = 7;
	assert_int_equal(ocitap_uid_map_outside(podman, 65537, &out), -ENOENT);
	assert_int_equal(out, 7); /* set only on success */
	assert_int_equal(ocitap_uid_map_outside("         0          0 4294967295\n", 1001, &out), 0);
	assert_int_equal(out, 1001);
	assert_int_equal(ocitap_uid_map_outside("", 0, &out), -ENOENT);
	assert_int_equal(ocitap_uid_map_outside("0 1001\n", 0, &out), -EINVAL);
	assert_int_equal(ocitap_uid_map_outside("0 1001 1 junk\n", 0, &out), -EINVAL);
	assert_int_equal(ocitap_uid_map_outside("0 4294967295 1\n", 0, &out), -EINVAL); /* (uid_t)-1 is no uid */
	/* the map of this process: a uid it has maps somewhere */
	{
		char *map = NULL;
		size_t len;

		assert_int_equal(ocitap_read_file("/proc/self/uid_map", 4096, 1000, &map, &len, &err), 0);
		assert_int_equal(ocitap_uid_map_outside(map, geteuid(), &out), 0);
		free(map);
	}
}

static void test_write_and_list(void **unused)
{
	char dir[] = "/tmp/ocitap-spool-XXXXXX", spool[128], name[OCITAP_SPOOL_NAME_MAX], path[256];
	char **names;
	size_t n;
	struct stat st;

	assert_non_null(mkdtemp(dir));
	snprintf(spool, sizeof(spool), "%s/spool", dir);
	/* a missing spool is an empty one */
	assert_int_equal(ocitap_spool_list(spool, &names, &n, &err), 0);
	assert_int_equal(n, 0);
	/* written out of time order: listed in time order */
	assert_int_equal(ocitap_spool_write(spool, "{\"b\":1}", 2000, 7, OCITAP_STAGE_POSTSTART, name, &err), 0);
	assert_string_equal(name, "00000000000000002000-7-poststart.json");
	assert_int_equal(ocitap_spool_write(spool, "{\"a\":1}", 1000, 99999, OCITAP_STAGE_PRESTART, NULL, &err), 0);
	{
		mode_t old = umask(0277); /* what mkostemp would make 0400 */

		assert_int_equal(ocitap_spool_write(spool, "{\"c\":1}", 30000, 1, OCITAP_STAGE_POSTSTOP, NULL, &err),
				 0);
		umask(old);
	}
	/* each report whole under its name, nothing left under a temporary one */
	{
		char *text = NULL;
		size_t len = 0;

		assert_int_equal(ocitap_spool_list(spool, &names, &n, &err), 0);
		assert_int_equal(n, 3);
		ocitap_spool_list_free(names, n);
		snprintf(path, sizeof(path), "ls %s | grep -q tmp", spool);
		assert_int_not_equal(system(path), 0); /* grep found none */
		snprintf(path, sizeof(path), "%s/00000000000000030000-1-poststop.json", spool);
		assert_int_equal(ocitap_read_file(path, 4096, -1, &text, &len, &err), 0);
		assert_int_equal(len, 7);
		assert_memory_equal(text, "{\"c\":1}", 7);
		free(text);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
	}
	/* leftovers of an interrupted write and set-aside files are not reports */
	snprintf(path, sizeof(path), "%s/00000000000000000500-1-prestart.json.tmp.AbCdEf", spool);
	close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
	snprintf(path, sizeof(path), "%s/00000000000000000600-1-prestart.json.bad", spool);
	close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
	assert_int_equal(ocitap_spool_list(spool, &names, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(names[0], "00000000000000001000-99999-prestart.json");
	assert_string_equal(names[1], "00000000000000002000-7-poststart.json");
	assert_string_equal(names[2], "00000000000000030000-1-poststop.json");
	ocitap_spool_list_free(names, n);
	{
		/* by an open directory, twice: the same, the fd left open */
		int dfd = open(spool, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		assert_true(dfd >= 0);
		for (int i = 0; i < 2; i++) {
			assert_int_equal(ocitap_spool_list_at(dfd, &names, &n, &err), 0);
			assert_int_equal(n, 3);
			assert_string_equal(names[0], "00000000000000001000-99999-prestart.json");
			ocitap_spool_list_free(names, n);
		}
		assert_int_equal(fcntl(dfd, F_GETFD), FD_CLOEXEC);
		close(dfd);
		assert_int_equal(ocitap_spool_list_at(dfd, &names, &n, &err), -EBADF);
	}
	snprintf(path, sizeof(path), "%s/%s", spool, name);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(spool, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* no spool directory can be made */
	assert_true(ocitap_spool_write("/nonexistent/a/spool", "{}", 1, 1, OCITAP_STAGE_POSTSTOP, NULL, &err) < 0);
	assert_non_null(strstr(err.message, "spool directory"));
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
}

static void test_store_once(void **unused)
{
	char dir[] = "/tmp/ocitap-spool-XXXXXX", db[128];
	struct ocitap_store *s;

	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/ocitap.db", dir);
	assert_int_equal(ocitap_store_open(db, 0, &s, &err), 0);
	assert_int_equal(ocitap_store_spool_seen(s, "1-1-prestart.json", &err), 0);
	assert_int_equal(ocitap_store_spool_mark(s, "1-1-prestart.json", &err), 0);
	assert_int_equal(ocitap_store_spool_seen(s, "1-1-prestart.json", &err), 1);
	assert_int_equal(ocitap_store_spool_mark(s, "1-1-prestart.json", &err), -EEXIST);
	/* a mark rolled back with its transaction is not a mark */
	assert_int_equal(ocitap_store_begin(s, &err), 0);
	assert_int_equal(ocitap_store_spool_mark(s, "2-1-poststop.json", &err), 0);
	ocitap_store_rollback(s);
	assert_int_equal(ocitap_store_spool_seen(s, "2-1-poststop.json", &err), 0);
	ocitap_store_close(s);
	snprintf(db, sizeof(db), "rm -rf %s", dir);
	assert_int_equal(system(db), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stage_from_program),
		cmocka_unit_test(test_uid_map_outside),
		cmocka_unit_test(test_write_and_list),
		cmocka_unit_test(test_store_once),
	};

	return cmocka_run_group_tests_name("spool", tests, NULL, NULL);
}
