/*
 * test_names.c: a container's names from annotations (containerd's CRI
 * plugin, CRI-O, podman), from its bundle path (containerd, Docker), from a
 * fake Docker data root and a fake podman storage, the files refused
 * (links, FIFOs, too large, another user's), and which container a name or
 * id prefix means.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "ocitap-private.h"
#include "testutil.h"

#define HEX_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEX_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static struct ocitap_error err;
static char dir[64];

static int setup(void **unused)
{
	snprintf(dir, sizeof(dir), "/tmp/ocitap-names-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **unused)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void mkdirs(const char *path)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", path);
	assert_int_equal(system(cmd), 0);
}

#define STR_OR_NULL(s) ((s) ? (s) : "(null)")

static void assert_names(const struct ocitap_names *n, const char *name, const char *pod, const char *ns,
			 const char *manager)
{
	assert_string_equal(STR_OR_NULL(n->name), STR_OR_NULL(name));
	assert_string_equal(STR_OR_NULL(n->pod), STR_OR_NULL(pod));
	assert_string_equal(STR_OR_NULL(n->pod_namespace), STR_OR_NULL(ns));
	assert_string_equal(STR_OR_NULL(n->manager), STR_OR_NULL(manager));
}

/* containerd's CRI plugin: its own annotations (and a sandbox has no container name). */
static void test_cri_annotations(void **unused)
{
	static const struct ocitap_annotation ann[] = {
		{ "io.kubernetes.cri.container-type", "container" },
		{ "io.kubernetes.cri.container-name", "web" },
		{ "io.kubernetes.cri.sandbox-name", "web-7d4b9c-x2x" },
		{ "io.kubernetes.cri.sandbox-namespace", "shop" },
		{ "io.kubernetes.cri.sandbox-id", HEX_B },
	};
	static const struct ocitap_annotation sandbox[] = {
		{ "io.kubernetes.cri.container-type", "sandbox" },
		{ "io.kubernetes.cri.sandbox-name", "web-7d4b9c-x2x" },
		{ "io.kubernetes.cri.sandbox-namespace", "shop" },
	};
	struct ocitap_names_source src = { .id = HEX_A,
					   .bundle = "/run/containerd/io.containerd.runtime.v2.task/k8s.io/" HEX_A,
					   .annotations = ann,
					   .n_annotations = ELEMENTSOF(ann) };
	struct ocitap_names n = { 0 };

	assert_int_equal(ocitap_names_from_annotations(&src, &n), 0);
	assert_names(&n, "web", "web-7d4b9c-x2x", "shop", "kubernetes");
	ocitap_names_release(&n);
	src.annotations = sandbox;
	src.n_annotations = ELEMENTSOF(sandbox);
	assert_int_equal(ocitap_names_derive(&src, &n, &err), 0);
	assert_names(&n, NULL, "web-7d4b9c-x2x", "shop", "kubernetes");
	ocitap_names_release(&n);
}

/* CRI-O: io.container.manager=cri-o and kubelet's labels copied as annotations. */
static void test_crio_annotations(void **unused)
{
	static const struct ocitap_annotation ann[] = {
		{ "io.container.manager", "cri-o" },
		{ "io.kubernetes.cri-o.ContainerType", "container" },
		{ "io.kubernetes.container.name", "db" },
		{ "io.kubernetes.pod.name", "db-0" },
		{ "io.kubernetes.pod.namespace", "data" },
	};
	struct ocitap_names_source src = { .id = HEX_A, .annotations = ann, .n_annotations = ELEMENTSOF(ann) };
	struct ocitap_names n = { 0 };

	assert_int_equal(ocitap_names_from_annotations(&src, &n), 0);
	assert_names(&n, "db", "db-0", "data", "cri-o");
	ocitap_names_release(&n);
	/* kubelet's labels alone (an older CRI-O, dockershim): kubernetes */
	src.annotations = ann + 2;
	src.n_annotations = 3;
	assert_int_equal(ocitap_names_from_annotations(&src, &n), 0);
	assert_names(&n, "db", "db-0", "data", "kubernetes");
	ocitap_names_release(&n);
}

/* A name over OCITAP_NAME_MAX or with a control character is not kept; the
 * other key, when it has a good one, is. */
static void test_bad_names_skipped(void **unused)
{
	char long_name[OCITAP_NAME_MAX + 2];
	struct ocitap_annotation ann[] = {
		{ "io.kubernetes.cri.container-name", long_name },
		{ "io.kubernetes.container.name", "fine" },
		{ "io.kubernetes.pod.name", "evil\033[2J" },
		{ "io.kubernetes.pod.namespace", "" },
	};
	struct ocitap_names_source src = { .id = "x", .annotations = ann, .n_annotations = ELEMENTSOF(ann) };
	struct ocitap_names n = { 0 };

	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(ocitap_names_from_annotations(&src, &n), 0);
	assert_names(&n, "fine", NULL, NULL, "kubernetes");
	ocitap_names_release(&n);
	long_name[OCITAP_NAME_MAX] = '\0'; /* 253 bytes: kept */
	assert_int_equal(ocitap_names_from_annotations(&src, &n), 0);
	assert_string_equal(n.name, long_name);
	ocitap_names_release(&n);
}

/* The bundle path: containerd's task directory says containerd, and its
 * namespace, or docker for its moby namespace (no namespace: that one is
 * Docker's own); only when the last component is the id. */
static void test_bundle_paths(void **unused)
{
	static const struct {
		const char *id, *bundle, *manager, *ns;
	} cases[] = {
		{ "redis", "/run/containerd/io.containerd.runtime.v2.task/default/redis", "containerd", "default" },
		{ HEX_A, "/run/docker/containerd/daemon/io.containerd.runtime.v2.task/moby/" HEX_A, "docker", NULL },
		{ HEX_A, "/run/containerd/io.containerd.runtime.v1.linux/moby/" HEX_A "/", "docker", NULL },
		{ "redis", "/run/containerd/io.containerd.runtime.v2.task/default/other", NULL, NULL },
		{ "redis", "/tmp/moby/redis", NULL, NULL },
		{ "redis", "io.containerd.runtime.v2.task/default/redis", NULL, NULL },
		{ "redis", "/io.containerd.runtime.v2.task//redis", NULL, NULL },
		{ "redis", NULL, NULL, NULL },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct ocitap_names_source src = { .id = cases[i].id, .bundle = cases[i].bundle };
		struct ocitap_names n = { 0 };

		assert_int_equal(ocitap_names_from_annotations(&src, &n), 0);
		if (!cases[i].manager && n.manager)
			fail_msg("%s: manager %s, expected none", STR_OR_NULL(cases[i].bundle), n.manager);
		if (cases[i].manager)
			assert_string_equal(STR_OR_NULL(n.manager), cases[i].manager);
		assert_string_equal(STR_OR_NULL(n.pod_namespace), STR_OR_NULL(cases[i].ns));
		assert_null(n.name);
		ocitap_names_release(&n);
	}
}

/* A fake Docker data root: containers/ID/config.v2.json gives the name
 * (without its "/") and says docker; what is refused says why. */
static void test_docker_root(void **unused)
{
	char root[128], cdir[256], path[320], other[320];
	struct ocitap_names_source src = { .id = HEX_A, .docker_root = root };
	struct ocitap_names n = { 0 };
	char *name = NULL;

	snprintf(root, sizeof(root), "%s/docker", dir);
	snprintf(cdir, sizeof(cdir), "%s/containers/%s", root, HEX_A);
	snprintf(path, sizeof(path), "%s/config.v2.json", cdir);
	mkdirs(cdir);
	write_file(path, "{\"ID\": \"" HEX_A "\", \"Name\": \"/web\", \"State\": {\"Running\": true}}");
	assert_int_equal(ocitap_names_derive(&src, &n, &err), 0);
	assert_names(&n, "web", NULL, NULL, "docker");
	ocitap_names_release(&n);
	/* the bundle says docker first: the same */
	src.bundle = "/run/docker/containerd/daemon/io.containerd.runtime.v2.task/moby/" HEX_A;
	assert_int_equal(ocitap_names_derive(&src, &n, &err), 0);
	assert_names(&n, "web", NULL, NULL, "docker");
	ocitap_names_release(&n);

	/* no record for another id: nothing, and no manager either */
	src = (struct ocitap_names_source){ .id = HEX_B, .docker_root = root };
	ocitap_error_clear(&err);
	assert_int_equal(ocitap_names_derive(&src, &n, &err), 0);
	assert_names(&n, NULL, NULL, NULL, NULL);
	assert_int_equal(err.code, 0);
	/* not a Docker id: not looked for */
	assert_int_equal(ocitap_docker_container_name(root, "../../etc", &name, &err), -ENOENT);

	/* a link as the file, or as the container's directory: refused, not followed */
	snprintf(other, sizeof(other), "%s/elsewhere.json", dir);
	write_file(other, "{\"Name\": \"/stolen\"}");
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink(other, path), 0);
	assert_int_equal(ocitap_docker_container_name(root, HEX_A, &name, &err), -ELOOP);
	assert_non_null(strstr(err.message, "link"));
	src = (struct ocitap_names_source){ .id = HEX_A, .docker_root = root };
	assert_int_equal(ocitap_names_derive(&src, &n, &err), 0);
	assert_null(n.name);
	assert_non_null(strstr(err.message, "config.v2.json"));
	ocitap_names_release(&n);
	assert_int_equal(unlink(path), 0);
	snprintf(other, sizeof(other), "%s/elsewhere", dir);
	mkdirs(other);
	snprintf(path, sizeof(path), "%s/elsewhere/config.v2.json", dir);
	write_file(path, "{\"Name\": \"/stolen\"}");
	snprintf(path, sizeof(path), "%s/containers/%s", root, HEX_B);
	assert_int_equal(symlink(other, path), 0);
	assert_int_equal(ocitap_docker_container_name(root, HEX_B, &name, &err), -ELOOP);

	/* a FIFO: refused at once, never opened */
	snprintf(path, sizeof(path), "%s/config.v2.json", cdir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(ocitap_docker_container_name(root, HEX_A, &name, &err), -EINVAL);
	assert_non_null(strstr(err.message, "not a regular file"));
	assert_int_equal(unlink(path), 0);

	/* too large, and not JSON */
	{
		FILE *f = fopen(path, "we");

		assert_non_null(f);
		assert_int_equal(ftruncate(fileno(f), OCITAP_DOCKER_CONFIG_MAX + 1), 0);
		fclose(f);
	}
	assert_int_equal(ocitap_docker_container_name(root, HEX_A, &name, &err), -EMSGSIZE);
	write_file(path, "{\"Name\": ");
	assert_int_equal(ocitap_docker_container_name(root, HEX_A, &name, &err), -EBADMSG);
	assert_non_null(strstr(err.message, HEX_A "/config.v2.json"));
	assert_null(name);
}

static void test_docker_config_parse(void **unused)
{
	char *name = NULL;

#define PARSE(text) ocitap_docker_config_name(text, strlen(text), &name, &err)
	assert_int_equal(PARSE("{\"Name\": \"/web-1\"}"), 0);
	assert_string_equal(name, "web-1");
	free(name);
	name = NULL;
	assert_int_equal(PARSE("{\"Name\": 7}"), -EINVAL);
	assert_string_equal(err.field, "Name");
	assert_int_equal(PARSE("{\"Config\": {}}"), -ENOENT);
	assert_int_equal(PARSE("{\"Name\": \"/\"}"), -ENOENT);
	assert_int_equal(PARSE("{\"Name\": \"/a\\u0007b\"}"), -ENOENT);
	assert_int_equal(PARSE("{\"Name\": \"/a\\u0000b\"}"), -ENOENT);
	assert_int_equal(PARSE("[\"Name\"]"), -EINVAL);
	assert_null(name);
#undef PARSE
}

/* podman: the name is in containers/storage's containers.json beside the
 * bundle (DRIVER-containers/ID/userdata), which must be root's or the owner's. */
static void test_podman_storage(void **unused)
{
	static const struct ocitap_annotation ann[] = { { "io.container.manager", "libpod" },
							{ "io.kubernetes.cri-o.TTY", "false" } };
	char store[128], bundle[256], path[320];
	struct ocitap_names_source src = { .id = HEX_A, .annotations = ann, .n_annotations = ELEMENTSOF(ann),
					   .bundle = bundle, .owner = -1 };
	struct ocitap_names n = { 0 };
	char *name = NULL;

	snprintf(store, sizeof(store), "%s/storage/overlay-containers", dir);
	snprintf(bundle, sizeof(bundle), "%s/%s/userdata", store, HEX_A);
	snprintf(path, sizeof(path), "%s/containers.json", store);
	mkdirs(bundle);
	write_file(path, "[{\"id\": \"" HEX_B "\", \"names\": [\"other\"]},"
			 " {\"id\": \"" HEX_A "\", \"names\": [\"web\", \"alias\"], \"flags\": {\"Volatile\": true}}]");
	assert_int_equal(ocitap_names_derive(&src, &n, &err), 0);
	assert_names(&n, "web", NULL, NULL, "podman");
	ocitap_names_release(&n);

	/* another user's file: only for that user's runs */
	assert_int_equal(chown(path, 4321, 4321), 0);
	assert_int_equal(ocitap_names_derive(&src, &n, &err), 0);
	assert_names(&n, NULL, NULL, NULL, "podman");
	assert_non_null(strstr(err.message, "uid 4321"));
	ocitap_names_release(&n);
	src.owner = 4321;
	assert_int_equal(ocitap_names_derive(&src, &n, &err), 0);
	assert_names(&n, "web", NULL, NULL, "podman");
	ocitap_names_release(&n);

	/* a bundle that is not in podman's storage: nothing read */
	src.bundle = "/tmp/somewhere/userdata";
	assert_int_equal(ocitap_names_derive(&src, &n, &err), 0);
	assert_null(n.name);
	ocitap_names_release(&n);

#define PARSE(text) ocitap_podman_containers_name(text, strlen(text), HEX_A, &name, &err)
	assert_int_equal(PARSE("[]"), -ENOENT);
	assert_int_equal(PARSE("{}"), -EINVAL);
	assert_int_equal(PARSE("[{\"id\": \"" HEX_A "\", \"names\": []}]"), -ENOENT);
	assert_int_equal(PARSE("[{\"id\": \"" HEX_A "\", \"names\": [1]}]"), -EINVAL);
	assert_int_equal(PARSE("[1, \"x\", {\"id\": 3}, {\"id\": \"" HEX_A "\", \"names\": [\"ok\"]}]"), 0);
	assert_string_equal(name, "ok");
	free(name);
#undef PARSE
}

/* Docker's order: an id, then a name (the live one among several), then a
 * prefix of at least 3; every failure says what it was. */
static void test_ref_resolve(void **unused)
{
	static const struct ocitap_ref_candidate c[] = {
		{ .id = "abc123", .name = "web", .status = "stopped" },
		{ .id = "abd456", .name = "web", .status = "running", .live = true },
		{ .id = "db", .name = "db", .live = true },
		{ .id = "ff00aa", .name = "cache", .status = "stopped" },
		{ .id = "ff00bb", .name = "cache", .status = "stopped" },
		{ .id = "web" }, /* an id that is another's name: the id wins */
	};
	size_t i = 99, m[ELEMENTSOF(c)], k = 0;

	assert_int_equal(ocitap_ref_resolve("abc123", c, ELEMENTSOF(c), &i, m, &k, &err), 0);
	assert_int_equal(i, 0);
	assert_int_equal(ocitap_ref_resolve("web", c, ELEMENTSOF(c), &i, m, &k, &err), 0);
	assert_int_equal(i, 5);
	assert_int_equal(ocitap_ref_resolve("db", c, ELEMENTSOF(c), &i, m, &k, &err), 0);
	assert_int_equal(i, 2);
	assert_int_equal(ocitap_ref_resolve("abd", c, ELEMENTSOF(c), &i, m, &k, &err), 0);
	assert_int_equal(i, 1);
	/* a name shared by stopped containers only */
	assert_int_equal(ocitap_ref_resolve("cache", c, ELEMENTSOF(c), &i, m, &k, &err), -ENOTUNIQ);
	assert_int_equal(k, 2);
	assert_int_equal(m[0], 3);
	assert_int_equal(m[1], 4);
	assert_non_null(strstr(err.message, "ff00aa (cache, stopped)"));
	assert_non_null(strstr(err.message, "ff00bb (cache, stopped)"));
	/* a prefix of two */
	assert_int_equal(ocitap_ref_resolve("ab", c, ELEMENTSOF(c), &i, m, &k, &err), -EINVAL);
	assert_non_null(strstr(err.message, "at least 3"));
	assert_int_equal(ocitap_ref_resolve("ff00", c, ELEMENTSOF(c), &i, NULL, &k, &err), -ENOTUNIQ);
	assert_int_equal(k, 2);
	assert_non_null(strstr(err.message, "start of the ids of 2"));
	assert_int_equal(ocitap_ref_resolve("zzz", c, ELEMENTSOF(c), &i, m, &k, &err), -ENOENT);
	assert_int_equal(ocitap_ref_resolve("zzz", NULL, 0, &i, m, &k, &err), -ENOENT);
	assert_int_equal(i, 1); /* unchanged by the failures */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cri_annotations),
		cmocka_unit_test(test_crio_annotations),
		cmocka_unit_test(test_bad_names_skipped),
		cmocka_unit_test(test_bundle_paths),
		cmocka_unit_test_setup_teardown(test_docker_root, setup, teardown),
		cmocka_unit_test(test_docker_config_parse),
		cmocka_unit_test_setup_teardown(test_podman_storage, setup, teardown),
		cmocka_unit_test(test_ref_resolve),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
