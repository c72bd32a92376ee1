/*
 * names.c: a container's names from its annotations, its bundle path and
 * its engine's own record, and what a name or id prefix on a command line
 * means (names.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"
#include "json-util.h"
#include "macro.h"
#include "names.h"

static const char *annotation(const struct ocitap_names_source *src, const char *key)
{
	for (size_t i = 0; i < src->n_annotations; i++)
		if (src->annotations[i].key && strcmp(src->annotations[i].key, key) == 0)
			return src->annotations[i].value;
	return NULL;
}

/* Kept only when it fits and holds nothing that could drive a terminal. */
static bool name_ok(const char *s)
{
	size_t n = 0;

	if (!s || !*s)
		return false;
	for (; s[n]; n++)
		if ((unsigned char)s[n] < 0x20 || s[n] == 0x7f || n >= OCITAP_NAME_MAX)
			return false;
	return true;
}

/* *slot = a copy of the first of a, b that is a name worth keeping; 0 or -ENOMEM. */
static int take_first(char **slot, const char *a, const char *b)
{
	const char *v = name_ok(a) ? a : name_ok(b) ? b : NULL;

	if (*slot || !v)
		return 0;
	*slot = strdup(v);
	return *slot ? 0 : -ENOMEM;
}

static int set_manager(struct ocitap_names *n, const char *manager)
{
	if (n->manager || !manager)
		return 0;
	n->manager = strdup(manager);
	return n->manager ? 0 : -ENOMEM;
}

/* Docker's ids: 64 lower-case hex digits (podman's look the same). */
static bool docker_id(const char *id)
{
	size_t n = 0;

	for (; id && id[n]; n++)
		if (!((id[n] >= '0' && id[n] <= '9') || (id[n] >= 'a' && id[n] <= 'f')))
			return false;
	return n == 64;
}

/* The last component of path[0, len) (no trailing '/'): its start, *ret_len its length. */
static const char *last_component(const char *path, size_t len, size_t *ret_len)
{
	size_t end = len, start;

	while (end > 1 && path[end - 1] == '/')
		end--;
	start = end;
	while (start > 0 && path[start - 1] != '/')
		start--;
	*ret_len = end - start;
	return path + start;
}

static bool component_is(const char *c, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(c, want, n) == 0;
}

/*
 * A bundle in containerd's task directory, .../io.containerd.runtime.v2.task/
 * NAMESPACE/ID (the v1 shim's io.containerd.runtime.v1.linux too), whose
 * last component is id: NAMESPACE in ns. Docker's containerd namespace is
 * moby.
 */
static bool containerd_namespace(const char *bundle, const char *id, char *ns, size_t size)
{
	size_t len = bundle ? strlen(bundle) : 0, n_id, n_ns, n_task;
	const char *c_id, *c_ns, *c_task;

	if (!len || bundle[0] != '/')
		return false;
	c_id = last_component(bundle, len, &n_id);
	if (!n_id || (id && !component_is(c_id, n_id, id)))
		return false;
	c_ns = last_component(bundle, (size_t)(c_id - bundle), &n_ns);
	if (!n_ns || n_ns >= size)
		return false;
	c_task = last_component(bundle, (size_t)(c_ns - bundle), &n_task);
	if (!component_is(c_task, n_task, "io.containerd.runtime.v2.task") &&
	    !component_is(c_task, n_task, "io.containerd.runtime.v1.linux"))
		return false;
	memcpy(ns, c_ns, n_ns);
	ns[n_ns] = '\0';
	return true;
}

int ocitap_names_from_annotations(const struct ocitap_names_source *src, struct ocitap_names *ret)
{
	_cleanup_(ocitap_names_release) struct ocitap_names n = { 0 };
	const char *manager = annotation(src, OCITAP_ANN_MANAGER);
	char ns[256];
	int r;

	if ((r = take_first(&n.name, annotation(src, OCITAP_ANN_CRI_CONTAINER),
			    annotation(src, OCITAP_ANN_KUBE_CONTAINER))) < 0 ||
	    (r = take_first(&n.pod, annotation(src, OCITAP_ANN_CRI_SANDBOX), annotation(src, OCITAP_ANN_KUBE_POD))) <
		    0 ||
	    (r = take_first(&n.pod_namespace, annotation(src, OCITAP_ANN_CRI_NAMESPACE),
			    annotation(src, OCITAP_ANN_KUBE_POD_NAMESPACE))) < 0)
		return r;
	if (manager && strcmp(manager, "libpod") == 0)
		r = set_manager(&n, OCITAP_MANAGER_PODMAN);
	else if (manager && strcmp(manager, "cri-o") == 0)
		r = set_manager(&n, OCITAP_MANAGER_CRIO);
	/* containerd's CRI plugin sets its own; CRI-O and dockershim copy kubelet's labels */
	else if (annotation(src, OCITAP_ANN_CRI_TYPE) || annotation(src, OCITAP_ANN_CRI_SANDBOX_ID) ||
		 annotation(src, OCITAP_ANN_CRI_CONTAINER) || annotation(src, OCITAP_ANN_CRI_SANDBOX) ||
		 annotation(src, OCITAP_ANN_KUBE_POD) || annotation(src, OCITAP_ANN_KUBE_CONTAINER))
		r = set_manager(&n, OCITAP_MANAGER_KUBERNETES);
	else if (containerd_namespace(src->bundle, src->id, ns, sizeof(ns)) && strcmp(ns, "moby") == 0)
		r = set_manager(&n, OCITAP_MANAGER_DOCKER); /* Docker's containerd namespace: nobody else's */
	else if (containerd_namespace(src->bundle, src->id, ns, sizeof(ns))) /* ctr, nerdctl: its own namespace */
		if ((r = set_manager(&n, OCITAP_MANAGER_CONTAINERD)) == 0)
			r = take_first(&n.pod_namespace, ns, NULL);
	if (r < 0)
		return r;
	*ret = n;
	n = (struct ocitap_names){ 0 };
	return 0;
}

/* A single file name: no '/', not "." or "..". */
static bool plain_component(const char *s)
{
	return *s && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

/*
 * Read dir/names[0]/.../names[n-1], the last a regular file of at most max
 * bytes, the others directories, none of them a link (dir itself may be:
 * it is the operator's or the runtime's path). With owner >= 0 the file
 * must belong to root or to that uid. Nothing blocks: a FIFO or a device
 * is refused before it is opened.
 */
static int read_beneath(const char *dir, const char *const *names, size_t n, size_t max, int64_t owner, char **ret_buf,
			size_t *ret_len, struct ocitap_error *err)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int file = -1;
	struct stat st;

	if (fd < 0)
		return ocitap_error_set(err, -errno, NULL, "cannot open %s: %m", dir);
	for (size_t i = 0; i + 1 < n; i++) {
		int next;

		if (!plain_component(names[i]))
			return ocitap_error_set(err, -EINVAL, NULL, "not a file name: \"%s\"", names[i]);
		next = openat(fd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && (errno == ELOOP || errno == ENOTDIR))
			return ocitap_error_set(err, -ELOOP, NULL, "%s/%s: not a directory (a link is not followed)",
						dir, names[i]);
		if (next < 0)
			return ocitap_error_set(err, -errno, NULL, "cannot open %s/%s: %m", dir, names[i]);
		close(fd);
		fd = next;
	}
	if (!plain_component(names[n - 1]))
		return ocitap_error_set(err, -EINVAL, NULL, "not a file name: \"%s\"", names[n - 1]);
	if (fstatat(fd, names[n - 1], &st, AT_SYMLINK_NOFOLLOW) < 0)
		return ocitap_error_set(err, -errno, NULL, "%s: %m", names[n - 1]);
	if (!S_ISREG(st.st_mode))
		return ocitap_error_set(err, S_ISLNK(st.st_mode) ? -ELOOP : -EINVAL, NULL, "%s: not a regular file%s",
					names[n - 1], S_ISLNK(st.st_mode) ? " (a link is not followed)" : "");
	file = openat(fd, names[n - 1], O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (file < 0)
		return ocitap_error_set(err, -errno, NULL, "cannot open %s: %m", names[n - 1]);
	if (fstat(file, &st) < 0)
		return ocitap_error_set(err, -errno, NULL, "cannot stat %s: %m", names[n - 1]);
	if (!S_ISREG(st.st_mode))
		return ocitap_error_set(err, -EINVAL, NULL, "%s: not a regular file", names[n - 1]);
	if (owner >= 0 && st.st_uid != 0 && (int64_t)st.st_uid != owner)
		return ocitap_error_set(err, -EPERM, NULL,
					"%s belongs to uid %u, neither root nor the run's owner %lld", names[n - 1],
					(unsigned)st.st_uid, (long long)owner);
	if ((uint64_t)st.st_size > max)
		return ocitap_error_set(err, -EMSGSIZE, NULL, "%s is %lld bytes, more than the limit of %zu",
					names[n - 1], (long long)st.st_size, max);
	return ocitap_read_fd(file, max, -1, 0, ret_buf, ret_len, err);
}

int ocitap_docker_config_name(const char *buf, size_t len, char **ret, struct ocitap_error *err)
{
	_cleanup_(json_object_putp) json_object *root = NULL;
	struct ocitap_limits lim;
	json_object *v;
	const char *name;
	int r;

	ocitap_limits_init(&lim);
	lim.max_bytes = OCITAP_DOCKER_CONFIG_MAX;
	r = ocitap_json_parse_object(buf, len, &lim, "a Docker config.v2.json", &root, err);
	if (r < 0)
		return r;
	if (!json_object_object_get_ex(root, "Name", &v) || !v)
		return ocitap_error_set(err, -ENOENT, "Name", "missing");
	if (!json_object_is_type(v, json_type_string))
		return ocitap_json_wrong_type(err, "Name", "a string", v);
	name = json_object_get_string(v);
	if (strlen(name) != (size_t)json_object_get_string_len(v)) /* a NUL inside */
		name = "";
	if (*name == '/') /* Docker keeps the name as a path under / */
		name++;
	if (!name_ok(name))
		return ocitap_error_set(err, -ENOENT, "Name",
					"not kept: empty, over %d bytes, or with a control "
					"character",
					OCITAP_NAME_MAX);
	*ret = strdup(name);
	return *ret ? 0 : ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
}

int ocitap_podman_containers_name(const char *buf, size_t len, const char *id, char **ret, struct ocitap_error *err)
{
	_cleanup_(json_object_putp) json_object *root = NULL;
	struct ocitap_limits lim;
	size_t n;
	int r;

	ocitap_limits_init(&lim);
	lim.max_bytes = OCITAP_PODMAN_CONTAINERS_MAX;
	r = ocitap_json_parse_bounded(buf, len, &lim, &root, err);
	if (r < 0)
		return r;
	if (!json_object_is_type(root, json_type_array))
		return ocitap_json_wrong_type(err, NULL, "an array of containers", root);
	n = json_object_array_length(root);
	for (size_t i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(root, i), *v, *names;

		if (!json_object_is_type(c, json_type_object) || !json_object_object_get_ex(c, "id", &v) ||
		    !json_object_is_type(v, json_type_string) || strcmp(json_object_get_string(v), id) != 0)
			continue;
		if (!json_object_object_get_ex(c, "names", &names) || !json_object_is_type(names, json_type_array) ||
		    json_object_array_length(names) == 0)
			return ocitap_error_set(err, -ENOENT, "names", "container %s has none", id);
		v = json_object_array_get_idx(names, 0);
		if (!json_object_is_type(v, json_type_string))
			return ocitap_json_wrong_type(err, "names[0]", "a string", v);
		if (strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v) ||
		    !name_ok(json_object_get_string(v)))
			return ocitap_error_set(err, -ENOENT, "names[0]",
						"not kept: empty, over %d bytes, or with a control character",
						OCITAP_NAME_MAX);
		*ret = strdup(json_object_get_string(v));
		return *ret ? 0 : ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	}
	return ocitap_error_set(err, -ENOENT, NULL, "no container %s in it", id);
}

int ocitap_docker_container_name(const char *docker_root, const char *id, char **ret, struct ocitap_error *err)
{
	const char *const path[] = { "containers", id, "config.v2.json" };
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r;

	if (!docker_id(id))
		return ocitap_error_set(err, -ENOENT, NULL, "\"%s\" is not a Docker id", id);
	r = read_beneath(docker_root, path, ELEMENTSOF(path), OCITAP_DOCKER_CONFIG_MAX, -1, &buf, &len, err);
	if (r == 0)
		r = ocitap_docker_config_name(buf, len, ret, err);
	return r < 0 ? ocitap_error_prefix(err, "%s/containers/%s/config.v2.json", docker_root, id) : 0;
}

/*
 * podman keeps a container's names in containers/storage's record of every
 * container, DRIVER-containers/containers.json, the directory the bundle
 * (DRIVER-containers/ID/userdata) is in.
 */
static int podman_container_name(const char *bundle, const char *id, int64_t owner, char **ret,
				 struct ocitap_error *err)
{
	const char *const path[] = { "containers.json" };
	size_t len = strlen(bundle), n_user, n_id, n_drv;
	const char *c_user = last_component(bundle, len, &n_user);
	const char *c_id = last_component(bundle, (size_t)(c_user - bundle), &n_id);
	const char *c_drv = last_component(bundle, (size_t)(c_id - bundle), &n_drv);
	_cleanup_free_ char *dir = NULL, *buf = NULL;
	size_t size;
	int r;

	if (bundle[0] != '/' || !component_is(c_user, n_user, "userdata") || !component_is(c_id, n_id, id) ||
	    n_drv <= strlen("-containers") ||
	    memcmp(c_drv + n_drv - strlen("-containers"), "-containers", strlen("-containers")) != 0)
		return ocitap_error_set(err, -ENOENT, NULL, "the bundle %s is not in podman's storage", bundle);
	dir = strndup(bundle, (size_t)(c_drv - bundle) + n_drv);
	if (!dir)
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	r = read_beneath(dir, path, 1, OCITAP_PODMAN_CONTAINERS_MAX, owner < 0 ? 0 : owner, &buf, &size, err);
	if (r == 0)
		r = ocitap_podman_containers_name(buf, size, id, ret, err);
	return r < 0 ? ocitap_error_prefix(err, "%s/containers.json", dir) : 0;
}

int ocitap_names_derive(const struct ocitap_names_source *src, struct ocitap_names *ret, struct ocitap_error *err)
{
	_cleanup_(ocitap_names_release) struct ocitap_names n = { 0 };
	struct ocitap_error why = { 0 };
	char *name = NULL;
	int r = ocitap_names_from_annotations(src, &n);

	if (r < 0)
		return r;
	if (!n.name && src->id && src->docker_root &&
	    ((n.manager && strcmp(n.manager, OCITAP_MANAGER_DOCKER) == 0) || (!n.manager && docker_id(src->id)))) {
		r = ocitap_docker_container_name(src->docker_root, src->id, &name, &why);
		if (r == 0) {
			n.name = name;
			r = set_manager(&n, OCITAP_MANAGER_DOCKER);
		} else if (r == -ENOMEM) {
			return r;
		} else if (r != -ENOENT && err) { /* none there (not Docker's, or gone): nothing to say */
			*err = why;
		}
	} else if (!n.name && src->id && src->bundle && n.manager && strcmp(n.manager, OCITAP_MANAGER_PODMAN) == 0) {
		r = podman_container_name(src->bundle, src->id, src->owner, &name, &why);
		if (r == 0)
			n.name = name;
		else if (r == -ENOMEM)
			return r;
		else if (r != -ENOENT && err) /* gone already (a spooled report): nothing to say */
			*err = why;
	}
	if (r == -ENOMEM)
		return r;
	*ret = n;
	n = (struct ocitap_names){ 0 };
	return 0;
}

void ocitap_names_release(struct ocitap_names *n)
{
	if (!n)
		return;
	free(n->name);
	free(n->pod);
	free(n->pod_namespace);
	free(n->manager);
	*n = (struct ocitap_names){ 0 };
}

/* ---- references ---- */

enum match_by { BY_NAME, BY_PREFIX };

static bool matches(const struct ocitap_ref_candidate *c, const char *ref, size_t len, enum match_by by)
{
	if (by == BY_NAME)
		return c->name && strcmp(c->name, ref) == 0;
	return c->id && strncmp(c->id, ref, len) == 0;
}

/* Several candidates match: -ENOTUNIQ, each listed in err (and ret_matches). */
static int ambiguous(const char *ref, const struct ocitap_ref_candidate *c, size_t n, enum match_by by,
		     size_t *ret_matches, size_t *ret_n, struct ocitap_error *err)
{
	char list[OCITAP_ERROR_MESSAGE_MAX - 128] = "";
	size_t k = 0, used = 0, len = strlen(ref);

	for (size_t i = 0; i < n; i++) {
		int w;

		if (!matches(&c[i], ref, len, by))
			continue;
		if (ret_matches)
			ret_matches[k] = i;
		w = snprintf(list + used, sizeof(list) - used, "%s%s (%s%s%s)", k ? ", " : "", c[i].id,
			     c[i].name ? c[i].name : "no name", c[i].status ? ", " : "",
			     c[i].status ? c[i].status : "");
		if (w > 0 && (size_t)w < sizeof(list) - used)
			used += (size_t)w;
		else
			list[used] = '\0'; /* what does not fit is left out: the count says it */
		k++;
	}
	if (ret_n)
		*ret_n = k;
	return ocitap_error_set(err, -ENOTUNIQ, NULL, "'%s' %s %zu containers: %s", ref,
				by == BY_NAME ? "names" : "is the start of the ids of", k, list);
}

int ocitap_ref_resolve(const char *ref, const struct ocitap_ref_candidate *c, size_t n, size_t *ret_index,
		       size_t *ret_matches, size_t *ret_n, struct ocitap_error *err)
{
	size_t len = strlen(ref), k = 0, live = 0, one = 0, one_live = 0;

	for (size_t i = 0; i < n; i++)
		if (c[i].id && strcmp(c[i].id, ref) == 0) {
			*ret_index = i;
			return 0;
		}
	for (size_t i = 0; i < n; i++)
		if (matches(&c[i], ref, len, BY_NAME)) {
			one = i;
			k++;
			if (c[i].live) {
				one_live = i;
				live++;
			}
		}
	/* a name outlives its containers in the record: the live one is meant */
	if (k == 1 || (k > 1 && live == 1)) {
		*ret_index = k == 1 ? one : one_live;
		return 0;
	}
	if (k > 1)
		return ambiguous(ref, c, n, BY_NAME, ret_matches, ret_n, err);
	if (len < OCITAP_REF_PREFIX_MIN)
		return ocitap_error_set(err, -EINVAL, NULL,
					"no container has the id or name '%s', and an id prefix is at least %d "
					"characters",
					ref, OCITAP_REF_PREFIX_MIN);
	for (size_t i = 0; i < n; i++)
		if (matches(&c[i], ref, len, BY_PREFIX)) {
			one = i;
			k++;
		}
	if (k == 0)
		return ocitap_error_set(err, -ENOENT, NULL, "no container has the id, name or id prefix '%s'", ref);
	if (k > 1)
		return ambiguous(ref, c, n, BY_PREFIX, ret_matches, ret_n, err);
	*ret_index = one;
	return 0;
}
