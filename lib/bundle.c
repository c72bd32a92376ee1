/*
 * bundle.c: the typed subset of config.json that ocitap uses.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "bundle.h"
#include "io.h"
#include "json-util.h"
#include "macro.h"

static const char *const stage_names[OCITAP_STAGE_COUNT] = {
	[OCITAP_STAGE_PRESTART] = "prestart",
	[OCITAP_STAGE_CREATE_RUNTIME] = "createRuntime",
	[OCITAP_STAGE_CREATE_CONTAINER] = "createContainer",
	[OCITAP_STAGE_START_CONTAINER] = "startContainer",
	[OCITAP_STAGE_POSTSTART] = "poststart",
	[OCITAP_STAGE_POSTSTOP] = "poststop",
};

const char *ocitap_stage_to_string(enum ocitap_stage stage)
{
	if ((unsigned)stage >= OCITAP_STAGE_COUNT)
		return NULL;
	return stage_names[stage];
}

int ocitap_stage_from_string(const char *name)
{
	for (int i = 0; i < OCITAP_STAGE_COUNT; i++)
		if (name && strcmp(name, stage_names[i]) == 0)
			return i;
	return -EINVAL;
}

/* Optional member that must be an object when present (JSON null: absent). */
static int get_object(json_object *obj, const char *key, json_object **ret, struct ocitap_error *err)
{
	json_object *v = NULL;

	*ret = NULL;
	if (!json_object_object_get_ex(obj, key, &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_object))
		return ocitap_json_wrong_type(err, key, "an object", v);
	*ret = v;
	return 0;
}

/* Optional member that must be an array of at most lim->max_items. */
static int get_array(json_object *obj, const char *key, const struct ocitap_limits *lim, json_object **ret,
		     size_t *ret_n, struct ocitap_error *err)
{
	json_object *v = NULL;

	*ret = NULL;
	*ret_n = 0;
	if (!json_object_object_get_ex(obj, key, &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_array))
		return ocitap_json_wrong_type(err, key, "an array", v);
	*ret_n = json_object_array_length(v);
	if (*ret_n > lim->max_items)
		return ocitap_error_set(err, -E2BIG, key, "%zu entries, more than the limit of %zu", *ret_n,
					lim->max_items);
	*ret = v;
	return 0;
}

static int nest_index(struct ocitap_error *err, size_t i, const char *key)
{
	char idx[32];

	snprintf(idx, sizeof(idx), "[%zu]", i);
	ocitap_error_nest(err, idx);
	return ocitap_error_nest(err, key);
}

static int parse_hook(json_object *o, const struct ocitap_limits *lim, struct jpool *pool, struct ocitap_hook *h,
		      struct ocitap_error *err)
{
	bool has;
	int64_t t;
	int r;

	r = ocitap_json_expect_object(o, NULL, err);
	if (r < 0)
		return r;
	r = ocitap_json_get_string(o, "path", true, lim, &h->path, err);
	if (r < 0)
		return r;
	if (h->path[0] != '/')
		return ocitap_error_set(err, -EINVAL, "path", "must be an absolute path");
	r = ocitap_json_get_string_array(o, "args", false, lim, pool, &h->args, &h->n_args, err);
	if (r < 0)
		return r;
	r = ocitap_json_get_string_array(o, "env", false, lim, pool, &h->env, &h->n_env, err);
	if (r < 0)
		return r;
	r = ocitap_json_get_int(o, "timeout", 1, INT_MAX, &has, &t, err);
	if (r < 0)
		return r;
	h->has_timeout = has;
	h->timeout = (int)t;
	return 0;
}

static int parse_hooks(json_object *root, const struct ocitap_limits *lim, struct jpool *pool,
		       struct ocitap_config *cfg, struct ocitap_error *err)
{
	json_object *hooks;
	int r;

	r = get_object(root, "hooks", &hooks, err);
	if (r < 0 || !hooks)
		return r;
	for (int s = 0; s < OCITAP_STAGE_COUNT; s++) {
		struct ocitap_hook *vec;
		json_object *arr;
		size_t n;

		r = get_array(hooks, stage_names[s], lim, &arr, &n, err);
		if (r < 0)
			return ocitap_error_nest(err, "hooks");
		if (!arr)
			continue;
		vec = ocitap_jpool_calloc(pool, n, sizeof(*vec));
		if (!vec)
			return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
		for (size_t i = 0; i < n; i++) {
			r = parse_hook(json_object_array_get_idx(arr, i), lim, pool, &vec[i], err);
			if (r < 0) {
				nest_index(err, i, stage_names[s]);
				return ocitap_error_nest(err, "hooks");
			}
		}
		cfg->hooks[s] = vec;
		cfg->n_hooks[s] = n;
	}
	return 0;
}

static int parse_rule(json_object *o, const struct ocitap_limits *lim, struct jpool *pool,
		      struct ocitap_seccomp_rule *rule, struct ocitap_error *err)
{
	bool has;
	int64_t e;
	int r;

	r = ocitap_json_expect_object(o, NULL, err);
	if (r < 0)
		return r;
	r = ocitap_json_get_string_array(o, "names", true, lim, pool, &rule->names, &rule->n_names, err);
	if (r < 0)
		return r;
	r = ocitap_json_get_string(o, "action", true, lim, &rule->action, err);
	if (r < 0)
		return r;
	r = ocitap_json_get_int(o, "errnoRet", 0, UINT32_MAX, &has, &e, err);
	if (r < 0)
		return r;
	rule->has_errno_ret = has;
	rule->errno_ret = (unsigned)e;
	return 0;
}

static int parse_seccomp(json_object *root, unsigned flags, const struct ocitap_limits *lim, struct jpool *pool,
			 struct ocitap_config *cfg, struct ocitap_error *err)
{
	struct ocitap_seccomp *sc = &cfg->seccomp;
	json_object *linux_, *seccomp, *rules;
	struct ocitap_seccomp_rule *vec;
	size_t n;
	int r;

	r = get_object(root, "linux", &linux_, err);
	if (r < 0 || !linux_)
		return r;
	r = get_object(linux_, "seccomp", &seccomp, err);
	if (r < 0)
		return ocitap_error_nest(err, "linux");
	if (!seccomp)
		return 0;
	cfg->has_seccomp = true;

	r = ocitap_json_get_string(seccomp, "defaultAction", flags & OCITAP_PARSE_STRICT, lim, &sc->default_action,
				   err);
	if (r >= 0)
		r = ocitap_json_get_string(seccomp, "listenerPath", false, lim, &sc->listener_path, err);
	if (r >= 0)
		r = ocitap_json_get_string(seccomp, "listenerMetadata", false, lim, &sc->listener_metadata, err);
	if (r >= 0 && sc->listener_metadata && !sc->listener_path)
		r = ocitap_error_set(err, -EINVAL, "listenerMetadata", "set without listenerPath");
	if (r >= 0 && sc->listener_path && sc->listener_path[0] == '\0')
		r = ocitap_error_set(err, -EINVAL, "listenerPath", "must not be empty");
	if (r >= 0)
		r = ocitap_json_get_string_array(seccomp, "architectures", false, lim, pool, &sc->architectures,
						 &sc->n_architectures, err);
	if (r >= 0)
		r = get_array(seccomp, "syscalls", lim, &rules, &n, err);
	if (r < 0)
		goto nest;
	if (rules) {
		vec = ocitap_jpool_calloc(pool, n, sizeof(*vec));
		if (!vec)
			return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
		for (size_t i = 0; i < n; i++) {
			r = parse_rule(json_object_array_get_idx(rules, i), lim, pool, &vec[i], err);
			if (r < 0) {
				nest_index(err, i, "syscalls");
				goto nest;
			}
		}
		sc->rules = vec;
		sc->n_rules = n;
	}
	return 0;
nest:
	ocitap_error_nest(err, "seccomp");
	return ocitap_error_nest(err, "linux");
}

static int parse_mounts(json_object *root, const struct ocitap_limits *lim, struct jpool *pool,
			struct ocitap_config *cfg, struct ocitap_error *err)
{
	struct ocitap_mount *vec;
	json_object *arr;
	size_t n;
	int r;

	r = get_array(root, "mounts", lim, &arr, &n, err);
	if (r < 0 || !arr)
		return r;
	vec = ocitap_jpool_calloc(pool, n, sizeof(*vec));
	if (!vec)
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_object *m = json_object_array_get_idx(arr, i);

		r = ocitap_json_expect_object(m, NULL, err);
		if (r >= 0)
			r = ocitap_json_get_string(m, "destination", true, lim, &vec[i].destination, err);
		if (r >= 0)
			r = ocitap_json_get_string(m, "type", false, lim, &vec[i].type, err);
		if (r >= 0)
			r = ocitap_json_get_string(m, "source", false, lim, &vec[i].source, err);
		if (r >= 0)
			r = ocitap_json_get_string_array(m, "options", false, lim, pool, &vec[i].options,
							 &vec[i].n_options, err);
		if (r < 0)
			return nest_index(err, i, "mounts");
	}
	cfg->mounts = vec;
	cfg->n_mounts = n;
	return 0;
}

int ocitap_config_parse(const char *buf, size_t len, unsigned flags, const struct ocitap_limits *lim,
			struct ocitap_config *ret, struct ocitap_error *err)
{
	_cleanup_(jpool_freep) struct jpool *pool = NULL;
	struct ocitap_config cfg = { 0 };
	struct ocitap_limits dflt;
	json_object *root, *sub;
	int r;

	if (!lim) {
		ocitap_limits_init(&dflt);
		lim = &dflt;
	}
	r = ocitap_json_parse_pool(buf, len, lim, "a config.json", &pool, err);
	if (r < 0)
		return r;
	root = pool->root;

	r = ocitap_json_get_string(root, "ociVersion", flags & OCITAP_PARSE_STRICT, lim, &cfg.oci_version, err);
	if (r < 0)
		return r;

	r = get_object(root, "root", &sub, err);
	if (r >= 0 && sub) {
		r = ocitap_json_get_string(sub, "path", flags & OCITAP_PARSE_STRICT, lim, &cfg.root_path, err);
		if (r < 0)
			ocitap_error_nest(err, "root");
	}
	if (r < 0)
		return r;

	r = get_object(root, "process", &sub, err);
	if (r >= 0 && sub) {
		r = ocitap_json_get_string_array(sub, "args", false, lim, pool, &cfg.args, &cfg.n_args, err);
		if (r < 0)
			ocitap_error_nest(err, "process");
	}
	if (r < 0)
		return r;

	r = ocitap_json_get_annotations(root, "annotations", flags & OCITAP_PARSE_STRICT, lim, pool,
					&cfg.has_annotations, &cfg.annotations, &cfg.n_annotations, err);
	if (r < 0)
		return r;
	r = parse_hooks(root, lim, pool, &cfg, err);
	if (r < 0)
		return r;
	r = parse_seccomp(root, flags, lim, pool, &cfg, err);
	if (r < 0)
		return r;
	r = parse_mounts(root, lim, pool, &cfg, err);
	if (r < 0)
		return r;

	cfg.priv_ = TAKE_PTR(pool);
	*ret = cfg;
	return 0;
}

int ocitap_bundle_load_config(const char *bundle, unsigned flags, const struct ocitap_limits *lim,
			      struct ocitap_config *ret, struct ocitap_error *err)
{
	_cleanup_free_ char *buf = NULL;
	struct ocitap_limits dflt;
	char path[PATH_MAX];
	size_t len;
	int r, n;

	if (!lim) {
		ocitap_limits_init(&dflt);
		lim = &dflt;
	}
	n = snprintf(path, sizeof(path), "%s/config.json", bundle);
	if (n < 0 || (size_t)n >= sizeof(path))
		return ocitap_error_set(err, -ENAMETOOLONG, NULL, "bundle path too long");
	/* a regular file only: a FIFO planted as config.json would block
	 * whoever reads it (ocitapd's loop, for a traced container) */
	r = ocitap_read_regular_file(path, lim->max_bytes, 0, &buf, &len, err);
	if (r < 0)
		return ocitap_error_prefix(err, "%s", path);
	if ((flags & OCITAP_CONFIG_ANNOTATIONS_ONLY) && !memmem(buf, len, "annotations", 11) &&
	    !memmem(buf, len, "\\u", 2)) {
		*ret = (struct ocitap_config){ 0 };
		return 0;
	}
	r = ocitap_config_parse(buf, len, flags & ~OCITAP_CONFIG_ANNOTATIONS_ONLY, lim, ret, err);
	if (r < 0 && err && err->field[0] == '\0')
		ocitap_error_prefix(err, "%s", path);
	return r;
}

const char *ocitap_config_annotation(const struct ocitap_config *cfg, const char *key)
{
	for (size_t i = 0; i < cfg->n_annotations; i++)
		if (strcmp(cfg->annotations[i].key, key) == 0)
			return cfg->annotations[i].value;
	return NULL;
}

void ocitap_config_release(struct ocitap_config *cfg)
{
	if (!cfg)
		return;
	ocitap_jpool_free(cfg->priv_);
	*cfg = (struct ocitap_config){ 0 };
}

/* ---- normalized output ------------------------------------------------- */

static json_object *strings_to_array(const char *const *v, size_t n)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; a && i < n; i++)
		if (json_object_array_add(a, json_object_new_string(v[i])) < 0) {
			json_object_put(a);
			return NULL;
		}
	return a;
}

/* Add value under key, taking ownership; false (and value freed) on failure. */
static bool add(json_object *o, const char *key, json_object *value)
{
	if (!value)
		return false;
	if (json_object_object_add(o, key, value) < 0) {
		json_object_put(value);
		return false;
	}
	return true;
}

static bool add_strings(json_object *o, const char *key, const char *const *v, size_t n)
{
	return !v || add(o, key, strings_to_array(v, n));
}

static bool add_hooks(json_object *o, const struct ocitap_config *cfg)
{
	json_object *hooks = NULL;

	for (int s = 0; s < OCITAP_STAGE_COUNT; s++) {
		json_object *arr;

		if (!cfg->hooks[s])
			continue;
		if (!hooks) {
			hooks = json_object_new_object();
			if (!add(o, "hooks", hooks))
				return false;
		}
		arr = json_object_new_array();
		if (!add(hooks, stage_names[s], arr))
			return false;
		for (size_t i = 0; i < cfg->n_hooks[s]; i++) {
			const struct ocitap_hook *h = &cfg->hooks[s][i];
			json_object *ho = json_object_new_object();

			if (!ho || json_object_array_add(arr, ho) < 0) {
				json_object_put(ho);
				return false;
			}
			if (ocitap_json_add_string(ho, "path", h->path) < 0 ||
			    !add_strings(ho, "args", h->args, h->n_args) || !add_strings(ho, "env", h->env, h->n_env))
				return false;
			if (h->has_timeout && !add(ho, "timeout", json_object_new_int(h->timeout)))
				return false;
		}
	}
	return true;
}

static bool add_seccomp(json_object *o, const struct ocitap_config *cfg)
{
	const struct ocitap_seccomp *sc = &cfg->seccomp;
	json_object *linux_, *seccomp, *rules;

	if (!cfg->has_seccomp)
		return true;
	linux_ = json_object_new_object();
	if (!add(o, "linux", linux_))
		return false;
	seccomp = json_object_new_object();
	if (!add(linux_, "seccomp", seccomp))
		return false;
	if (ocitap_json_add_string(seccomp, "defaultAction", sc->default_action) < 0 ||
	    ocitap_json_add_string(seccomp, "listenerPath", sc->listener_path) < 0 ||
	    ocitap_json_add_string(seccomp, "listenerMetadata", sc->listener_metadata) < 0 ||
	    !add_strings(seccomp, "architectures", sc->architectures, sc->n_architectures))
		return false;
	if (!sc->rules)
		return true;
	rules = json_object_new_array();
	if (!add(seccomp, "syscalls", rules))
		return false;
	for (size_t i = 0; i < sc->n_rules; i++) {
		json_object *ro = json_object_new_object();

		if (!ro || json_object_array_add(rules, ro) < 0) {
			json_object_put(ro);
			return false;
		}
		if (!add_strings(ro, "names", sc->rules[i].names, sc->rules[i].n_names) ||
		    ocitap_json_add_string(ro, "action", sc->rules[i].action) < 0)
			return false;
		if (sc->rules[i].has_errno_ret && !add(ro, "errnoRet", json_object_new_int64(sc->rules[i].errno_ret)))
			return false;
	}
	return true;
}

static bool add_mounts(json_object *o, const struct ocitap_config *cfg)
{
	json_object *arr;

	if (!cfg->mounts)
		return true;
	arr = json_object_new_array();
	if (!add(o, "mounts", arr))
		return false;
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		const struct ocitap_mount *m = &cfg->mounts[i];
		json_object *mo = json_object_new_object();

		if (!mo || json_object_array_add(arr, mo) < 0) {
			json_object_put(mo);
			return false;
		}
		if (ocitap_json_add_string(mo, "destination", m->destination) < 0 ||
		    ocitap_json_add_string(mo, "type", m->type) < 0 ||
		    ocitap_json_add_string(mo, "source", m->source) < 0 ||
		    !add_strings(mo, "options", m->options, m->n_options))
			return false;
	}
	return true;
}

int ocitap_config_to_json(const struct ocitap_config *cfg, unsigned flags, char **ret_json, struct ocitap_error *err)
{
	_cleanup_(json_object_putp) json_object *o = json_object_new_object();
	int jflags = JSON_C_TO_STRING_NOSLASHESCAPE;
	const char *s;
	bool ok;

	ok = o && ocitap_json_add_string(o, "ociVersion", cfg->oci_version) >= 0;
	if (ok && cfg->root_path) {
		json_object *root = json_object_new_object();

		ok = add(o, "root", root) && ocitap_json_add_string(root, "path", cfg->root_path) >= 0;
	}
	if (ok && cfg->args) {
		json_object *process = json_object_new_object();

		ok = add(o, "process", process) && add_strings(process, "args", cfg->args, cfg->n_args);
	}
	ok = ok && add_hooks(o, cfg) && add_seccomp(o, cfg) && add_mounts(o, cfg);
	if (ok && (cfg->has_annotations || cfg->n_annotations)) {
		json_object *a = json_object_new_object();

		ok = add(o, "annotations", a);
		for (size_t i = 0; ok && i < cfg->n_annotations; i++)
			ok = ocitap_json_add_string(a, cfg->annotations[i].key, cfg->annotations[i].value) >= 0;
	}
	if (!ok)
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	jflags |= (flags & OCITAP_JSON_PRETTY) ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
					       : JSON_C_TO_STRING_PLAIN;
	s = json_object_to_json_string_ext(o, jflags);
	*ret_json = s ? strdup(s) : NULL;
	if (!*ret_json)
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	return 0;
}
