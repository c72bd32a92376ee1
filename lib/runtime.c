/*
 * runtime.c: runc's, crun's and runsc's own view of their containers, from the JSON
 * their `state`/`list` print and from their state directories.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "io.h"
#include "json-util.h"
#include "macro.h"
#include "procinfo.h"
#include "runtime.h"

#define MAX_STATE_FILE (8u << 20) /* runc's state.json holds the whole config */

void ocitap_runtime_container_release(struct ocitap_runtime_container *c)
{
	if (!c)
		return;
	free(c->id);
	free(c->status);
	free(c->bundle);
	free(c->rootfs);
	free(c->created);
	free(c->owner);
	free(c->cgroup);
	free(c->error);
	memset(c, 0, sizeof(*c));
}

void ocitap_runtime_containers_free(struct ocitap_runtime_container *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		ocitap_runtime_container_release(&v[i]);
	free(v);
}

static int take_string(json_object *o, const char *key, char **ret, struct ocitap_error *err)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return ocitap_json_wrong_type(err, key, "a string", v);
	*ret = strdup(json_object_get_string(v));
	return *ret ? 0 : ocitap_error_set(err, -ENOMEM, key, "out of memory");
}

static int take_pid(json_object *o, const char *key, pid_t *ret, struct ocitap_error *err)
{
	bool present;
	int64_t v;
	int r;

	if ((r = ocitap_json_get_int(o, key, 0, INT32_MAX, &present, &v, err)) < 0)
		return r;
	*ret = present ? (pid_t)v : 0;
	return 0;
}

static int take_start(json_object *o, const char *key, struct ocitap_runtime_container *c, struct ocitap_error *err)
{
	bool present;
	int64_t v;
	int r;

	if ((r = ocitap_json_get_int(o, key, 0, INT64_MAX, &present, &v, err)) < 0)
		return r;
	c->has_start = present;
	c->start_ticks = (uint64_t)v;
	return 0;
}

static int fill_common(json_object *o, const char *runtime, struct ocitap_runtime_container *c,
		       struct ocitap_error *err)
{
	int r;

	snprintf(c->runtime, sizeof(c->runtime), "%s", runtime);
	if ((r = take_string(o, "id", &c->id, err)) < 0 || (r = take_string(o, "status", &c->status, err)) < 0 ||
	    (r = take_string(o, "bundle", &c->bundle, err)) < 0 ||
	    (r = take_string(o, "rootfs", &c->rootfs, err)) < 0 ||
	    (r = take_string(o, "created", &c->created, err)) < 0 ||
	    (r = take_string(o, "owner", &c->owner, err)) < 0 || (r = take_pid(o, "pid", &c->pid, err)) < 0)
		return r;
	if (c->created)
		ocitap_rfc3339_parse(c->created, &c->created_wall_ns, NULL);
	return 0;
}

/* A runtime's JSON within its bounds; an object named what in errors (NULL: any value). */
static int parse_json(const char *buf, size_t len, const char *what, json_object **ret, struct ocitap_error *err)
{
	struct ocitap_limits lim;

	ocitap_limits_init(&lim);
	lim.max_bytes = MAX_STATE_FILE;
	lim.max_depth = 32;
	return what ? ocitap_json_parse_object(buf, len, &lim, what, ret, err)
		    : ocitap_json_parse_bounded(buf, len, &lim, ret, err);
}

int ocitap_runtime_parse_state(const char *buf, size_t len, const char *runtime, struct ocitap_runtime_container *ret,
			       struct ocitap_error *err)
{
	_cleanup_(json_object_putp) json_object *root = NULL;
	struct ocitap_runtime_container c = { 0 };
	int r;

	if ((r = parse_json(buf, len, "a runtime's state", &root, err)) < 0)
		return r;
	if ((r = fill_common(root, runtime, &c, err)) < 0 ||
	    (!c.id && (r = ocitap_error_set(err, -EINVAL, "id", "missing")) < 0)) {
		ocitap_runtime_container_release(&c);
		return r;
	}
	*ret = c;
	return 0;
}

int ocitap_runtime_parse_list(const char *buf, size_t len, const char *runtime, struct ocitap_runtime_container **ret,
			      size_t *ret_n, struct ocitap_error *err)
{
	_cleanup_(json_object_putp) json_object *root = NULL;
	struct ocitap_runtime_container *v;
	size_t n;
	int r;

	{
		/* runc prints null when there is nothing */
		size_t b = 0, e = len;

		while (b < len && strchr(" \t\r\n", buf[b]))
			b++;
		while (e > b && strchr(" \t\r\n", buf[e - 1]))
			e--;
		if (e - b == 4 && memcmp(buf + b, "null", 4) == 0) {
			*ret = NULL;
			*ret_n = 0;
			return 0;
		}
	}
	if ((r = parse_json(buf, len, NULL, &root, err)) < 0)
		return r;
	if (!json_object_is_type(root, json_type_array))
		return ocitap_json_wrong_type(err, NULL, "an array", root);
	n = json_object_array_length(root);
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(root, i);
		char idx[32];

		snprintf(idx, sizeof(idx), "[%zu]", i);
		if ((r = ocitap_json_expect_object(o, NULL, err)) < 0 ||
		    (r = fill_common(o, runtime, &v[i], err)) < 0 ||
		    (!v[i].id && (r = ocitap_error_set(err, -EINVAL, "id", "missing")) < 0)) {
			ocitap_error_nest(err, idx);
			ocitap_runtime_containers_free(v, n);
			return r;
		}
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static int parse_runc_file(json_object *root, struct ocitap_runtime_container *c, struct ocitap_error *err)
{
	json_object *config = NULL, *labels, *cg;
	int r;

	if ((r = take_pid(root, "init_process_pid", &c->pid, err)) < 0 ||
	    (r = take_start(root, "init_process_start", c, err)) < 0 ||
	    (r = take_string(root, "created", &c->created, err)) < 0)
		return r;
	if (json_object_object_get_ex(root, "config", &config) && config) {
		if (!json_object_is_type(config, json_type_object))
			return ocitap_json_wrong_type(err, "config", "an object", config);
		if ((r = take_string(config, "rootfs", &c->rootfs, err)) < 0)
			return ocitap_error_nest(err, "config");
		if (json_object_object_get_ex(config, "labels", &labels) &&
		    json_object_is_type(labels, json_type_array))
			for (size_t i = 0; i < json_object_array_length(labels); i++) {
				const char *l = json_object_get_string(json_object_array_get_idx(labels, i));

				if (l && strncmp(l, "bundle=", 7) == 0 && !c->bundle && !(c->bundle = strdup(l + 7)))
					return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
			}
	}
	/* the unified hierarchy ("") if there is one, else the first controller's */
	if (json_object_object_get_ex(root, "cgroup_paths", &cg) && json_object_is_type(cg, json_type_object)) {
		json_object *unified;

		if (json_object_object_get_ex(cg, "", &unified) && json_object_is_type(unified, json_type_string))
			c->cgroup = strdup(json_object_get_string(unified));
		else {
			json_object_object_foreach (cg, k, v) {
				(void)k;
				if (json_object_is_type(v, json_type_string)) {
					c->cgroup = strdup(json_object_get_string(v));
					break;
				}
			}
		}
	}
	return 0;
}

static int parse_crun_file(json_object *root, struct ocitap_runtime_container *c, struct ocitap_error *err)
{
	int r;

	if ((r = take_pid(root, "pid", &c->pid, err)) < 0 || (r = take_start(root, "process-start-time", c, err)) < 0 ||
	    (r = take_string(root, "created", &c->created, err)) < 0 ||
	    (r = take_string(root, "bundle", &c->bundle, err)) < 0 ||
	    (r = take_string(root, "rootfs", &c->rootfs, err)) < 0 ||
	    (r = take_string(root, "owner", &c->owner, err)) < 0 ||
	    (r = take_string(root, "cgroup-path", &c->cgroup, err)) < 0)
		return r;
	if (c->cgroup && !*c->cgroup) {
		free(c->cgroup);
		c->cgroup = NULL;
	}
	return 0;
}

/* runsc's ROOT/SANDBOX_sandbox:ID.state: bundleDir, createdAt, owner, status, sandbox.pid. */
static int parse_runsc_file(json_object *root, struct ocitap_runtime_container *c, struct ocitap_error *err)
{
	json_object *sandbox;
	int r;

	if ((r = take_string(root, "bundleDir", &c->bundle, err)) < 0 ||
	    (r = take_string(root, "createdAt", &c->created, err)) < 0 ||
	    (r = take_string(root, "owner", &c->owner, err)) < 0 ||
	    (r = take_string(root, "status", &c->status, err)) < 0)
		return r;
	if (c->owner && !*c->owner) {
		free(c->owner);
		c->owner = NULL;
	}
	if (!json_object_object_get_ex(root, "sandbox", &sandbox) || !sandbox)
		return 0;
	if (!json_object_is_type(sandbox, json_type_object))
		return ocitap_json_wrong_type(err, "sandbox", "an object", sandbox);
	if ((r = take_pid(sandbox, "pid", &c->pid, err)) < 0)
		return ocitap_error_nest(err, "sandbox");
	return 0;
}

int ocitap_runtime_parse_state_file(const char *buf, size_t len, const char *runtime, const char *id,
				    struct ocitap_runtime_container *ret, struct ocitap_error *err)
{
	_cleanup_(json_object_putp) json_object *root = NULL;
	struct ocitap_runtime_container c = { 0 };
	bool runc = strcmp(runtime, "runc") == 0, runsc = strcmp(runtime, "runsc") == 0;
	int r;

	if ((r = parse_json(buf, len, "a runtime's state file", &root, err)) < 0)
		return r;
	snprintf(c.runtime, sizeof(c.runtime), "%s", runtime);
	c.id = strdup(id);
	if (!c.id)
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	r = runc    ? parse_runc_file(root, &c, err)
	    : runsc ? parse_runsc_file(root, &c, err)
		    : parse_crun_file(root, &c, err);
	/* runsc keeps a stopped sandbox's file without a pid */
	if (r == 0 && c.pid <= 0 && !(runsc && c.status && strcmp(c.status, "stopped") == 0))
		r = ocitap_error_set(err, -EINVAL,
				     runc    ? "init_process_pid"
				     : runsc ? "sandbox.pid"
					     : "pid",
				     "missing or not positive");
	if (r < 0) {
		ocitap_runtime_container_release(&c);
		return r;
	}
	if (c.created)
		ocitap_rfc3339_parse(c.created, &c.created_wall_ns, NULL);
	*ret = c;
	return 0;
}

static bool valid_id(const char *id)
{
	return *id && *id != '.' && !strchr(id, '/') && strlen(id) < 1024;
}

/* The id in a runsc state file's name, SANDBOX_sandbox:ID.state; NULL when it is not one. */
static char *runsc_file_id(const char *name)
{
	const char *colon = strstr(name, "_sandbox:");
	size_t len = strlen(name);

	if (!colon || len < 6 || strcmp(name + len - 6, ".state") != 0 || name + len - 6 <= colon + 9)
		return NULL;
	return strndup(colon + 9, (size_t)(name + len - 6 - (colon + 9)));
}

/* runsc: find ID's state file (its sandbox's id is not known here) and read it. */
static int read_runsc(const char *root, const char *id, const char *proc_root, struct ocitap_runtime_container *ret,
		      struct ocitap_error *err)
{
	_cleanup_free_ char *buf = NULL;
	struct ocitap_runtime_container c;
	struct dirent **names = NULL;
	char path[PATH_MAX] = "";
	size_t len;
	int count, r;

	count = scandir(root, &names, NULL, alphasort);
	if (count < 0)
		return ocitap_error_set(err, -errno, NULL, "%s: %s", root, strerror(errno));
	for (int i = 0; i < count; i++) {
		char *fid = runsc_file_id(names[i]->d_name);

		if (fid && strcmp(fid, id) == 0 && !path[0])
			snprintf(path, sizeof(path), "%s/%s", root, names[i]->d_name);
		free(fid);
		free(names[i]);
	}
	free(names);
	if (!path[0])
		return ocitap_error_set(err, -ENOENT, NULL, "%s: no state file for '%s'", root, id);
	if ((r = ocitap_read_regular_file(path, MAX_STATE_FILE, OCITAP_READ_NOFOLLOW, &buf, &len, err)) < 0 ||
	    (r = ocitap_runtime_parse_state_file(buf, len, "runsc", id, &c, err)) < 0) {
		ocitap_error_prefix(err, "%s", path);
		return r;
	}
	/* the sandbox's recorded status, unless its process is gone */
	if (c.status && strcmp(c.status, "running") == 0 &&
	    ocitap_proc_start_ticks(proc_root, c.pid, &(uint64_t){ 0 }) < 0) {
		free(c.status);
		c.status = strdup("stopped");
	}
	if (!c.status && !(c.status = strdup("unknown"))) {
		ocitap_runtime_container_release(&c);
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	}
	*ret = c;
	return 0;
}

int ocitap_runtime_read_dir(const char *runtime, const char *root, const char *id, const char *proc_root,
			    struct ocitap_runtime_container *ret, struct ocitap_error *err)
{
	_cleanup_free_ char *buf = NULL;
	struct ocitap_runtime_container c;
	char path[PATH_MAX];
	uint64_t now_start;
	size_t len;
	int r;

	if (!valid_id(id))
		return ocitap_error_set(err, -EINVAL, NULL, "'%s' is not a container id", id);
	if (strcmp(runtime, "runsc") == 0)
		return read_runsc(root, id, proc_root, ret, err);
	snprintf(path, sizeof(path), "%s/%s/%s", root, id, strcmp(runtime, "runc") == 0 ? "state.json" : "status");
	if ((r = ocitap_read_file(path, MAX_STATE_FILE, -1, &buf, &len, err)) < 0 ||
	    (r = ocitap_runtime_parse_state_file(buf, len, runtime, id, &c, err)) < 0) {
		ocitap_error_prefix(err, "%s", path);
		return r;
	}
	snprintf(path, sizeof(path), "%s/%s/exec.fifo", root, id);
	if (access(path, F_OK) == 0)
		c.status = strdup("created");
	else if (ocitap_proc_start_ticks(proc_root, c.pid, &now_start) == 0 &&
		 (!c.has_start || now_start == c.start_ticks))
		c.status = strdup("running");
	else
		c.status = strdup("stopped");
	if (!c.status) {
		ocitap_runtime_container_release(&c);
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	}
	*ret = c;
	return 0;
}

int ocitap_runtime_list_dir(const char *runtime, const char *root, const char *proc_root,
			    struct ocitap_runtime_container **ret, size_t *ret_n, struct ocitap_error *err)
{
	struct ocitap_runtime_container *v = NULL;
	struct dirent **names = NULL;
	size_t n = 0;
	int count;

	count = scandir(root, &names, NULL, alphasort);
	if (count < 0)
		return ocitap_error_set(err, -errno, NULL, "%s: %s", root, strerror(errno));
	for (int i = 0; i < count; i++) {
		struct ocitap_error e = { 0 };
		struct ocitap_runtime_container *p;
		char path[PATH_MAX];
		struct stat st;

		_cleanup_free_ char *runsc_id = NULL;
		const char *id = names[i]->d_name, *layout = runtime;

		snprintf(path, sizeof(path), "%s/%s", root, names[i]->d_name);
		if (names[i]->d_name[0] == '.' || stat(path, &st) < 0) {
			free(names[i]);
			continue;
		}
		/* runsc's files can be in any root (Docker's, with runsc behind a wrapper) */
		if (S_ISREG(st.st_mode) && (runsc_id = runsc_file_id(names[i]->d_name)))
			id = runsc_id, layout = "runsc";
		else if (!S_ISDIR(st.st_mode) || strcmp(runtime, "runsc") == 0) {
			free(names[i]);
			continue;
		}
		p = realloc(v, (n + 1) * sizeof(*v));
		if (!p)
			goto oom;
		v = p;
		if (ocitap_runtime_read_dir(layout, root, id, proc_root, &v[n], &e) < 0) {
			char msg[OCITAP_ERROR_FIELD_MAX + OCITAP_ERROR_MESSAGE_MAX + 4];

			memset(&v[n], 0, sizeof(v[n]));
			snprintf(v[n].runtime, sizeof(v[n].runtime), "%s", layout);
			v[n].id = strdup(id);
			v[n].status = strdup("unknown");
			v[n].error = strdup(ocitap_error_format(&e, msg, sizeof(msg)));
			if (!v[n].id || !v[n].status || !v[n].error) {
				n++;
				goto oom;
			}
		}
		n++;
		free(names[i]);
		continue;
oom:
		for (; i < count; i++)
			free(names[i]);
		free(names);
		ocitap_runtime_containers_free(v, n);
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	}
	free(names);
	*ret = v;
	*ret_n = n;
	return 0;
}
