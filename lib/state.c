/*
 * state.c: parsing, validating and writing the OCI State and the seccomp
 * ContainerProcessState.
 *
 * The parse keeps json-c's tree alive and points the struct's strings into
 * it: no copies, one allocation per array. Validation follows the
 * runtime-spec, relaxed where real runtimes differ (see DESIGN.md and
 * tests/data/ for what runc and crun actually send).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "io.h"
#include "json-util.h"
#include "macro.h"
#include "state.h"

void ocitap_limits_init(struct ocitap_limits *lim)
{
	lim->max_bytes = 1024 * 1024;
	lim->max_depth = 16;
	lim->max_string = 256 * 1024;
	lim->max_annotations = 4096;
	lim->max_items = 4096;
	lim->max_fds = 16;
}

static const struct ocitap_limits *limits_or_default(const struct ocitap_limits *lim, struct ocitap_limits *buf)
{
	if (lim)
		return lim;
	ocitap_limits_init(buf);
	return buf;
}

static const char *const status_names[] = {
	[OCITAP_STATUS_CREATING] = "creating",
	[OCITAP_STATUS_CREATED] = "created",
	[OCITAP_STATUS_RUNNING] = "running",
	[OCITAP_STATUS_STOPPED] = "stopped",
};

const char *ocitap_status_to_string(enum ocitap_status status)
{
	if (status <= OCITAP_STATUS_OTHER || status > OCITAP_STATUS_STOPPED)
		return NULL;
	return status_names[status];
}

enum ocitap_status ocitap_status_from_string(const char *text)
{
	for (size_t i = OCITAP_STATUS_CREATING; i < ELEMENTSOF(status_names); i++)
		if (text && strcmp(text, status_names[i]) == 0)
			return (enum ocitap_status)i;
	return OCITAP_STATUS_OTHER;
}

/*
 * Container ids end up in file names, URLs and log lines. Runtimes allow far
 * less than this (runc: [A-Za-z0-9_+.-]); we refuse only what is dangerous.
 */
static int check_id(const char *id, struct ocitap_error *err)
{
	if (id[0] == '\0')
		return ocitap_error_set(err, -EINVAL, "id", "must not be empty");
	if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return ocitap_error_set(err, -EINVAL, "id", "must not be \".\" or \"..\"");
	if (strlen(id) > OCITAP_ID_MAX)
		return ocitap_error_set(err, -EINVAL, "id", "is %zu bytes, more than the %d an id may have", strlen(id),
					OCITAP_ID_MAX);
	for (const char *p = id; *p; p++) {
		if (*p == '/')
			return ocitap_error_set(err, -EINVAL, "id", "must not contain '/'");
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return ocitap_error_set(err, -EINVAL, "id", "must not contain control characters");
	}
	return 0;
}

static int check_oci_version(const char *v, unsigned flags, struct ocitap_error *err)
{
	if (!v) {
		if (flags & OCITAP_PARSE_STRICT)
			return ocitap_error_set(err, -EINVAL, "ociVersion", "missing");
		return 0;
	}
	if (v[0] == '\0')
		return ocitap_error_set(err, -EINVAL, "ociVersion", "must not be empty");
	return 0;
}

/* Fill *st from obj; strings and arrays belong to pool. */
int ocitap_state_from_json(json_object *obj, unsigned flags, const struct ocitap_limits *lim, struct jpool *pool,
			   struct ocitap_state *st, struct ocitap_error *err)
{
	bool strict = flags & OCITAP_PARSE_STRICT;
	bool has_pid;
	int64_t pid;
	int r;

	r = ocitap_json_expect_object(obj, NULL, err);
	if (r < 0)
		return ocitap_error_prefix(err, "a State must be a JSON object");

	r = ocitap_json_get_string(obj, "ociVersion", false, lim, &st->oci_version, err);
	if (r < 0)
		return r;
	r = check_oci_version(st->oci_version, flags, err);
	if (r < 0)
		return r;

	r = ocitap_json_get_string(obj, "id", true, lim, &st->id, err);
	if (r < 0)
		return r;
	r = check_id(st->id, err);
	if (r < 0)
		return r;

	r = ocitap_json_get_string(obj, "status", true, lim, &st->status_text, err);
	if (r < 0)
		return r;
	if (st->status_text[0] == '\0')
		return ocitap_error_set(err, -EINVAL, "status", "must not be empty");
	st->status = ocitap_status_from_string(st->status_text);

	r = ocitap_json_get_int(obj, "pid", 0, OCITAP_PID_MAX, &has_pid, &pid, err);
	if (r < 0)
		return r;
	st->has_pid = has_pid;
	st->pid = (pid_t)pid;
	if (strict && (st->status == OCITAP_STATUS_CREATED || st->status == OCITAP_STATUS_RUNNING) && st->pid == 0)
		return ocitap_error_set(err, -EINVAL, "pid", "%s while status is %s",
					has_pid ? "must be greater than 0" : "missing", st->status_text);

	r = ocitap_json_get_string(obj, "bundle", strict, lim, &st->bundle, err);
	if (r < 0)
		return r;
	if (st->bundle && st->bundle[0] != '/')
		return ocitap_error_set(err, -EINVAL, "bundle", "must be an absolute path");

	return ocitap_json_get_annotations(obj, "annotations", strict, lim, pool, &st->has_annotations,
					   &st->annotations, &st->n_annotations, err);
}

int ocitap_state_parse(const char *buf, size_t len, unsigned flags, const struct ocitap_limits *lim,
		       struct ocitap_state *ret, struct ocitap_error *err)
{
	_cleanup_(jpool_freep) struct jpool *pool = NULL;
	struct ocitap_limits dflt;
	struct ocitap_state st = { 0 };
	int r;

	lim = limits_or_default(lim, &dflt);
	r = ocitap_json_parse_pool(buf, len, lim, "a State", &pool, err);
	if (r < 0)
		return r;
	r = ocitap_state_from_json(pool->root, flags, lim, pool, &st, err);
	if (r < 0)
		return r;
	st.priv_ = TAKE_PTR(pool);
	*ret = st;
	return 0;
}

static int fds_from_json(json_object *obj, const struct ocitap_limits *lim, struct jpool *pool, size_t n_received,
			 struct ocitap_process_state *ps, struct ocitap_error *err)
{
	struct ocitap_limits fd_lim = *lim;
	int r;

	fd_lim.max_items = lim->max_fds;
	r = ocitap_json_get_string_array(obj, "fds", true, &fd_lim, pool, &ps->fds, &ps->n_fds, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ps->n_fds; i++) {
		char field[32];

		snprintf(field, sizeof(field), "fds[%zu]", i);
		if (ps->fds[i][0] == '\0')
			return ocitap_error_set(err, -EINVAL, field, "fd name must not be empty");
		for (size_t j = 0; j < i; j++)
			if (strcmp(ps->fds[i], ps->fds[j]) == 0)
				return ocitap_error_set(err, -EINVAL, field, "duplicate fd name \"%s\"", ps->fds[i]);
	}
	if (n_received != OCITAP_FDS_UNKNOWN && n_received != ps->n_fds)
		return ocitap_error_set(err, -EBADMSG, "fds", "%zu name%s for %zu fd%s received", ps->n_fds,
					ps->n_fds == 1 ? "" : "s", n_received, n_received == 1 ? "" : "s");
	return 0;
}

int ocitap_process_state_parse(const char *buf, size_t len, unsigned flags, const struct ocitap_limits *lim,
			       size_t n_fds_received, struct ocitap_process_state *ret, struct ocitap_error *err)
{
	_cleanup_(jpool_freep) struct jpool *pool = NULL;
	struct ocitap_process_state ps = { 0 };
	struct ocitap_limits dflt;
	json_object *root, *state;
	bool has_pid;
	int64_t pid;
	int r;

	lim = limits_or_default(lim, &dflt);
	r = ocitap_json_parse_pool(buf, len, lim, "a ContainerProcessState", &pool, err);
	if (r < 0)
		return r;
	root = pool->root;

	r = ocitap_json_get_string(root, "ociVersion", false, lim, &ps.oci_version, err);
	if (r < 0)
		return r;
	r = check_oci_version(ps.oci_version, flags, err);
	if (r < 0)
		return r;
	r = fds_from_json(root, lim, pool, n_fds_received, &ps, err);
	if (r < 0)
		return r;
	r = ocitap_json_get_int(root, "pid", 1, OCITAP_PID_MAX, &has_pid, &pid, err);
	if (r < 0)
		return r;
	if (!has_pid)
		return ocitap_error_set(err, -EINVAL, "pid", "missing");
	ps.pid = (pid_t)pid;
	r = ocitap_json_get_string(root, "metadata", false, lim, &ps.metadata, err);
	if (r < 0)
		return r;

	if (!json_object_object_get_ex(root, "state", &state) || !state)
		return ocitap_error_set(err, -EINVAL, "state", "missing");
	if (!json_object_is_type(state, json_type_object))
		return ocitap_json_wrong_type(err, "state", "an object", state);
	r = ocitap_state_from_json(state, flags, lim, pool, &ps.state, err);
	if (r < 0)
		return ocitap_error_nest(err, "state");

	ps.priv_ = TAKE_PTR(pool);
	*ret = ps;
	return 0;
}

int ocitap_process_state_fd_index(const struct ocitap_process_state *ps, const char *name)
{
	for (size_t i = 0; i < ps->n_fds; i++)
		if (strcmp(ps->fds[i], name) == 0)
			return (int)i;
	return -ENOENT;
}

enum ocitap_doc_kind ocitap_doc_kind_guess(const char *buf, size_t len, const struct ocitap_limits *lim)
{
	_cleanup_(json_object_putp) json_object *o = NULL;
	static const char *const config_objects[] = { "process", "root", "linux" };
	struct ocitap_limits dflt;
	json_object *v;

	lim = limits_or_default(lim, &dflt);
	if (ocitap_json_parse_object(buf, len, lim, "a document", &o, NULL) < 0)
		return OCITAP_DOC_STATE;
	if (json_object_object_get_ex(o, "fds", NULL) ||
	    (json_object_object_get_ex(o, "state", &v) && json_object_is_type(v, json_type_object)))
		return OCITAP_DOC_PROCESS_STATE;
	for (size_t i = 0; i < ELEMENTSOF(config_objects); i++)
		if (json_object_object_get_ex(o, config_objects[i], &v) && json_object_is_type(v, json_type_object))
			return OCITAP_DOC_CONFIG;
	if (json_object_object_get_ex(o, "mounts", NULL) || json_object_object_get_ex(o, "hooks", NULL))
		return OCITAP_DOC_CONFIG;
	return OCITAP_DOC_STATE;
}

void ocitap_state_release(struct ocitap_state *state)
{
	if (!state)
		return;
	ocitap_jpool_free(state->priv_);
	*state = (struct ocitap_state){ 0 };
}

void ocitap_process_state_release(struct ocitap_process_state *ps)
{
	if (!ps)
		return;
	/* the embedded state's strings live in the same pool */
	ocitap_jpool_free(ps->priv_);
	*ps = (struct ocitap_process_state){ 0 };
}

json_object *ocitap_state_to_object(const struct ocitap_state *st)
{
	_cleanup_(json_object_putp) json_object *o = json_object_new_object();
	const char *status = st->status_text ? st->status_text : ocitap_status_to_string(st->status);

	if (!o)
		return NULL;
	if (ocitap_json_add_string(o, "ociVersion", st->oci_version) < 0 ||
	    ocitap_json_add_string(o, "id", st->id) < 0 || ocitap_json_add_string(o, "status", status) < 0)
		return NULL;
	if (st->has_pid || st->pid > 0)
		if (json_object_object_add(o, "pid", json_object_new_int(st->pid)) < 0)
			return NULL;
	if (ocitap_json_add_string(o, "bundle", st->bundle) < 0)
		return NULL;
	if (st->has_annotations || st->n_annotations > 0) {
		json_object *a = json_object_new_object();

		if (!a || json_object_object_add(o, "annotations", a) < 0) {
			json_object_put(a);
			return NULL;
		}
		for (size_t i = 0; i < st->n_annotations; i++)
			if (ocitap_json_add_string(a, st->annotations[i].key, st->annotations[i].value) < 0)
				return NULL;
	}
	return TAKE_PTR(o);
}

static int object_to_string(json_object *o, unsigned flags, char **ret_json, struct ocitap_error *err)
{
	int jflags = JSON_C_TO_STRING_NOSLASHESCAPE;
	const char *s;
	char *copy;

	jflags |= (flags & OCITAP_JSON_PRETTY) ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
					       : JSON_C_TO_STRING_PLAIN;
	s = json_object_to_json_string_ext(o, jflags);
	copy = s ? strdup(s) : NULL;
	if (!copy)
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	*ret_json = copy;
	return 0;
}

int ocitap_state_to_json(const struct ocitap_state *state, unsigned flags, char **ret_json, struct ocitap_error *err)
{
	_cleanup_(json_object_putp) json_object *o = ocitap_state_to_object(state);

	if (!o)
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	return object_to_string(o, flags, ret_json, err);
}

int ocitap_process_state_to_json(const struct ocitap_process_state *ps, unsigned flags, char **ret_json,
				 struct ocitap_error *err)
{
	_cleanup_(json_object_putp) json_object *o = json_object_new_object();
	json_object *fds, *st;

	if (!o || ocitap_json_add_string(o, "ociVersion", ps->oci_version) < 0)
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	fds = json_object_new_array();
	if (!fds || json_object_object_add(o, "fds", fds) < 0) {
		json_object_put(fds);
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	}
	for (size_t i = 0; i < ps->n_fds; i++)
		if (json_object_array_add(fds, json_object_new_string(ps->fds[i])) < 0)
			return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	if (json_object_object_add(o, "pid", json_object_new_int(ps->pid)) < 0 ||
	    ocitap_json_add_string(o, "metadata", ps->metadata) < 0)
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	st = ocitap_state_to_object(&ps->state);
	if (!st || json_object_object_add(o, "state", st) < 0) {
		json_object_put(st);
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	}
	return object_to_string(o, flags, ret_json, err);
}

int ocitap_state_load(const char *path, unsigned flags, const struct ocitap_limits *lim, struct ocitap_state *ret,
		      struct ocitap_error *err)
{
	_cleanup_free_ char *buf = NULL;
	struct ocitap_limits dflt;
	size_t len;
	int r;

	lim = limits_or_default(lim, &dflt);
	r = ocitap_read_file(path, lim->max_bytes, -1, &buf, &len, err);
	if (r < 0)
		return ocitap_error_prefix(err, "%s", path);
	r = ocitap_state_parse(buf, len, flags, lim, ret, err);
	if (r < 0 && err && err->field[0] == '\0')
		ocitap_error_prefix(err, "%s", path);
	return r;
}

int ocitap_state_save(const struct ocitap_state *state, const char *path, struct ocitap_error *err)
{
	_cleanup_free_ char *json = NULL;
	size_t len;
	int r;

	r = ocitap_state_to_json(state, OCITAP_JSON_PRETTY, &json, err);
	if (r < 0)
		return r;
	len = strlen(json);
	json[len] = '\n'; /* replace the NUL: the file ends with a newline */
	return ocitap_write_file_atomic(path, json, len + 1, 0644, err);
}
