/*
 * hooksd.c: oci-hooks(5) files read, validated, masked, ordered and matched
 * against a bundle as containers/common (podman, CRI-O, Buildah) does it;
 * see hooksd.h for the rules and docs/ocitap.1.scd for what users see.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "goregex.h"
#include "hooksd.h"
#include "io.h"
#include "json-util.h"
#include "macro.h"

/* ---- reading a file --------------------------------------------------------------- */

/* Member key as Go's encoding/json finds it: exact name first, then any
 * case. JSON null counts as absent. */
static json_object *member(json_object *obj, const char *key)
{
	json_object *v = NULL;

	if (!obj || !json_object_is_type(obj, json_type_object))
		return NULL;
	if (json_object_object_get_ex(obj, key, &v))
		return v;
	json_object_object_foreach (obj, k, val) {
		if (strcasecmp(k, key) == 0)
			return val;
	}
	return NULL;
}

static int dup_string(json_object *v, const char *field, char **ret, struct ocitap_error *err)
{
	if (!json_object_is_type(v, json_type_string))
		return ocitap_json_wrong_type(err, field, "a string", v);
	*ret = strdup(json_object_get_string(v));
	return *ret ? 0 : ocitap_error_set(err, -ENOMEM, field, "out of memory");
}

static void strv_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Append the strings of array v (an error naming field if it is not one) to *strv. */
static int append_strings(json_object *v, const char *field, char ***strv, size_t *n, struct ocitap_error *err)
{
	size_t add, i;
	char **p;

	if (!json_object_is_type(v, json_type_array))
		return ocitap_json_wrong_type(err, field, "an array of strings", v);
	add = json_object_array_length(v);
	if (add > 4096)
		return ocitap_error_set(err, -E2BIG, field, "%zu entries, more than the limit of 4096", add);
	p = realloc(*strv, (*n + add + 1) * sizeof(char *));
	if (!p)
		return ocitap_error_set(err, -ENOMEM, field, "out of memory");
	*strv = p;
	for (i = 0; i < add; i++) {
		json_object *s = json_object_array_get_idx(v, i);
		char idx[160];

		snprintf(idx, sizeof(idx), "%s[%zu]", field, i);
		p[*n] = NULL;
		if (dup_string(s, idx, &p[*n], err) < 0)
			return err ? err->code : -EINVAL;
		(*n)++;
	}
	p[*n] = NULL;
	return 0;
}

static int get_bool(json_object *obj, const char *key, const char *field, bool *ret_has, bool *ret,
		    struct ocitap_error *err)
{
	json_object *v = member(obj, key);

	*ret_has = false;
	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return ocitap_json_wrong_type(err, field, "true or false", v);
	*ret_has = true;
	*ret = json_object_get_boolean(v);
	return 0;
}

static int add_annotation(struct ocitap_hooksd_file *f, const char *key, const char *value, struct ocitap_error *err)
{
	struct ocitap_hooksd_annotation *p = realloc(f->annotations, (f->n_annotations + 1) * sizeof(*f->annotations));

	if (!p)
		return ocitap_error_set(err, -ENOMEM, "when.annotations", "out of memory");
	f->annotations = p;
	memset(&p[f->n_annotations], 0, sizeof(*p));
	p[f->n_annotations].key_pattern = strdup(key);
	p[f->n_annotations].value_pattern = strdup(value);
	f->n_annotations++;
	if (!p[f->n_annotations - 1].key_pattern || !p[f->n_annotations - 1].value_pattern)
		return ocitap_error_set(err, -ENOMEM, "when.annotations", "out of memory");
	return 0;
}

static int read_current(json_object *root, struct ocitap_hooksd_file *f, struct ocitap_error *err)
{
	json_object *hook = member(root, "hook"), *when = member(root, "when"), *v;
	int r;

	if (hook && !json_object_is_type(hook, json_type_object))
		return ocitap_json_wrong_type(err, "hook", "an object", hook);
	if (when && !json_object_is_type(when, json_type_object))
		return ocitap_json_wrong_type(err, "when", "an object", when);
	if ((v = member(hook, "path")) && (r = dup_string(v, "hook.path", &f->hook_path, err)) < 0)
		return r;
	if ((v = member(hook, "args")) && (r = append_strings(v, "hook.args", &f->args, &f->n_args, err)) < 0)
		return r;
	if ((v = member(hook, "env")) && (r = append_strings(v, "hook.env", &f->env, &f->n_env, err)) < 0)
		return r;
	if ((v = member(hook, "timeout"))) {
		int64_t t = json_object_get_int64(v);

		if (!json_object_is_type(v, json_type_int))
			return ocitap_json_wrong_type(err, "hook.timeout", "an integer", v);
		if (t < INT_MIN || t > INT_MAX)
			return ocitap_error_set(err, -ERANGE, "hook.timeout", "%lld is out of range", (long long)t);
		f->has_timeout = true;
		f->timeout = (int)t;
	}
	if ((r = get_bool(when, "always", "when.always", &f->has_always, &f->always, err)) < 0)
		return r;
	if ((r = get_bool(when, "hasBindMounts", "when.hasBindMounts", &f->has_bind_mounts_cond, &f->bind_mounts,
			  err)) < 0)
		return r;
	if ((v = member(when, "annotations"))) {
		if (!json_object_is_type(v, json_type_object))
			return ocitap_json_wrong_type(err, "when.annotations", "an object of strings", v);
		json_object_object_foreach (v, key, val) {
			char field[192];

			snprintf(field, sizeof(field), "when.annotations[\"%.120s\"]", key);
			if (!json_object_is_type(val, json_type_string))
				return ocitap_json_wrong_type(err, field, "a string", val);
			if ((r = add_annotation(f, key, json_object_get_string(val), err)) < 0)
				return r;
		}
	}
	if ((v = member(when, "commands")) &&
	    (r = append_strings(v, "when.commands", &f->commands, &f->n_commands, err)) < 0)
		return r;
	if ((v = member(root, "stages"))) {
		f->has_stages = true;
		if ((r = append_strings(v, "stages", &f->stages, &f->n_stages, err)) < 0)
			return r;
	}
	return 0;
}

/* 0.1.0: {hook, arguments, stages|stage, cmds|cmd, annotations|annotation, hasbindmounts} */
static int read_legacy(json_object *root, struct ocitap_hooksd_file *f, struct ocitap_error *err)
{
	json_object *v, *stages = member(root, "stages"), *stage = member(root, "stage");
	int r;

	f->legacy = true;
	if (!(v = member(root, "hook")))
		return ocitap_error_set(err, -EINVAL, "hook", "missing required property (schema 0.1.0)");
	if ((r = dup_string(v, "hook", &f->hook_path, err)) < 0)
		return r;
	if ((v = member(root, "arguments"))) {
		/* the runtime's argv: the hook itself, then the arguments */
		f->args = calloc(2, sizeof(char *));
		if (!f->args || !(f->args[0] = strdup(f->hook_path)))
			return ocitap_error_set(err, -ENOMEM, "arguments", "out of memory");
		f->n_args = 1;
		if ((r = append_strings(v, "arguments", &f->args, &f->n_args, err)) < 0)
			return r;
	}
	if (stages && stage)
		return ocitap_error_set(err, -EINVAL, "stage", "cannot set both 'stage' and 'stages'");
	if (stages || stage) {
		f->has_stages = true;
		if ((r = append_strings(stages ? stages : stage, stages ? "stages" : "stage", &f->stages, &f->n_stages,
					err)) < 0)
			return r;
	}
	for (int i = 0; i < 2; i++) {
		const char *key = i ? "cmd" : "cmds";

		if ((v = member(root, key)) && (r = append_strings(v, key, &f->commands, &f->n_commands, err)) < 0)
			return r;
	}
	{
		char **ann = NULL;
		size_t n = 0;
		bool present = false;

		for (int i = 0; i < 2; i++) {
			const char *key = i ? "annotation" : "annotations";

			if (!(v = member(root, key)))
				continue;
			present = true;
			if ((r = append_strings(v, key, &ann, &n, err)) < 0) {
				strv_free(ann, n);
				return r;
			}
		}
		if (present) {
			/* one condition: any annotation key, values matching any pattern */
			struct rebuf joined = { 0 };

			ocitap_re_puts(&joined, "");
			for (size_t i = 0; i < n; i++) {
				if (i)
					ocitap_re_puts(&joined, "|");
				ocitap_re_puts(&joined, ann[i]);
			}
			strv_free(ann, n);
			r = joined.oom ? ocitap_error_set(err, -ENOMEM, "annotations", "out of memory")
				       : add_annotation(f, ".*", joined.s, err);
			free(joined.s);
			if (r < 0)
				return r;
		}
	}
	return get_bool(root, "hasbindmounts", "hasbindmounts", &f->has_bind_mounts_cond, &f->bind_mounts, err);
}

static const char *const known_stages[] = {
	"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

/* A pattern that does not compile: name the field and the pattern. */
static int regex_error(struct ocitap_error *err, int r, const char *field, const char *what, const char *pattern)
{
	ocitap_error_nest(err, field);
	ocitap_error_prefix(err, "%s \"%.100s\"", what, pattern);
	return r;
}

static int validate(struct ocitap_hooksd_file *f, struct ocitap_error *err)
{
	struct stat st;
	int r;

	if (!f->hook_path || !*f->hook_path)
		return ocitap_error_set(err, -EINVAL, f->legacy ? "hook" : "hook.path", "missing required property");
	if (stat(f->hook_path, &st) < 0)
		return ocitap_error_set(err, -errno, f->legacy ? "hook" : "hook.path", "%s: %s", f->hook_path,
					strerror(errno));
	for (size_t i = 0; i < f->n_annotations; i++) {
		struct ocitap_hooksd_annotation *a = &f->annotations[i];
		char field[192];

		if (f->legacy)
			snprintf(field, sizeof(field), "annotations");
		else
			snprintf(field, sizeof(field), "when.annotations[\"%.120s\"]", a->key_pattern);
		if ((r = ocitap_regex_compile(a->key_pattern, &a->key_re, err)) < 0)
			return regex_error(err, r, field, "key pattern", a->key_pattern);
		if ((r = ocitap_regex_compile(a->value_pattern, &a->value_re, err)) < 0)
			return regex_error(err, r, field, "value pattern", a->value_pattern);
	}
	if (f->n_commands) {
		f->command_res = calloc(f->n_commands, sizeof(*f->command_res));
		if (!f->command_res)
			return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	}
	for (size_t i = 0; i < f->n_commands; i++) {
		char field[64];

		snprintf(field, sizeof(field), "%s[%zu]", f->legacy ? "cmds" : "when.commands", i);
		if ((r = ocitap_regex_compile(f->commands[i], &f->command_res[i], err)) < 0)
			return regex_error(err, r, field, "pattern", f->commands[i]);
	}
	if (!f->has_stages)
		return ocitap_error_set(err, -EINVAL, "stages", "missing required property");
	for (size_t i = 0; i < f->n_stages; i++) {
		bool known = false;

		for (size_t k = 0; k < ELEMENTSOF(known_stages); k++)
			known |= strcmp(f->stages[i], known_stages[k]) == 0;
		if (!known) {
			char field[32];

			snprintf(field, sizeof(field), "stages[%zu]", i);
			return ocitap_error_set(err, -EINVAL, field,
						"unknown stage \"%.100s\" (known: prestart, createRuntime, "
						"createContainer, startContainer, poststart, poststop)",
						f->stages[i]);
		}
	}
	return 0;
}

int ocitap_hooksd_parse(const char *buf, size_t len, const char *path, struct ocitap_hooksd_file *ret,
			struct ocitap_error *err)
{
	_cleanup_(json_object_putp) json_object *root = NULL;
	struct ocitap_limits lim;
	const char *slash = strrchr(path, '/');
	json_object *v;
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->path = strdup(path);
	ret->name = strdup(slash ? slash + 1 : path);
	if (!ret->path || !ret->name)
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	ocitap_limits_init(&lim);
	lim.max_bytes = OCITAP_HOOKSD_MAX_FILE;
	if ((r = ocitap_json_parse_bounded(buf, len, &lim, &root, err)) < 0)
		return r;
	if (!json_object_is_type(root, json_type_object))
		return ocitap_json_wrong_type(err, NULL, "an object", root);
	v = member(root, "version");
	if (v && !json_object_is_type(v, json_type_string))
		return ocitap_json_wrong_type(err, "version", "a string", v);
	ret->version = strdup(v ? json_object_get_string(v) : "");
	if (!ret->version)
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	if (strcmp(ret->version, "1.0.0") == 0)
		r = read_current(root, ret, err);
	else if (strcmp(ret->version, "0.1.0") == 0 || !*ret->version)
		r = read_legacy(root, ret, err);
	else
		return ocitap_error_set(err, -EINVAL, "version",
					"unrecognized hook version \"%.60s\" (known: 1.0.0, and 0.1.0 or none for "
					"the legacy schema)",
					ret->version);
	if (r < 0)
		return r;
	return validate(ret, err);
}

void ocitap_hooksd_file_release(struct ocitap_hooksd_file *f)
{
	if (!f)
		return;
	free(f->name);
	free(f->path);
	free(f->version);
	free(f->hook_path);
	strv_free(f->args, f->n_args);
	strv_free(f->env, f->n_env);
	for (size_t i = 0; i < f->n_annotations; i++) {
		free(f->annotations[i].key_pattern);
		free(f->annotations[i].value_pattern);
		ocitap_regex_release(&f->annotations[i].key_re);
		ocitap_regex_release(&f->annotations[i].value_re);
	}
	free(f->annotations);
	if (f->command_res)
		for (size_t i = 0; i < f->n_commands; i++)
			ocitap_regex_release(&f->command_res[i]);
	free(f->command_res);
	strv_free(f->commands, f->n_commands);
	strv_free(f->stages, f->n_stages);
	free(f->masked_by);
	memset(f, 0, sizeof(*f));
}

/* ---- directories ---------------------------------------------------------------------- */

/*
 * Go sorts the names with a Unicode collator ignoring case: punctuation
 * first (in the collation's order), then digits, then letters. A rank per
 * byte gives the same order for the names people use.
 */
static int collation_rank(unsigned char c)
{
	static const char punct[] = "_-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$";
	const char *p;

	if (c >= 'A' && c <= 'Z')
		c = (unsigned char)(c - 'A' + 'a');
	if (c >= 'a' && c <= 'z')
		return 200 + (c - 'a');
	if (c >= '0' && c <= '9')
		return 100 + (c - '0');
	if (c && (p = strchr(punct, c)))
		return 10 + (int)(p - punct);
	return 300 + c;
}

static int name_order(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;

	for (; *x && *y; x++, y++) {
		int d = collation_rank(*x) - collation_rank(*y);

		if (d)
			return d;
	}
	if (*x || *y)
		return *x ? 1 : -1;
	return strcmp(a, b);
}

static int file_order(const void *pa, const void *pb)
{
	const struct ocitap_hooksd_file *a = pa, *b = pb;
	bool ua = a->loaded && !a->masked_by, ub = b->loaded && !b->masked_by;

	if (ua != ub)
		return ua ? -1 : 1;
	if (ua)
		return name_order(a->name, b->name);
	return strcmp(a->path, b->path);
}

static bool ends_with_json(const char *name)
{
	size_t n = strlen(name);

	return n >= 5 && strcmp(name + n - 5, ".json") == 0;
}

static int load_one(const char *dir, const char *name, struct ocitap_hooksd_file *f)
{
	_cleanup_free_ char *buf = NULL;
	struct ocitap_error e = { 0 };
	char path[PATH_MAX];
	size_t len = 0;
	int r;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	/* podman follows links here, so do we; but a FIFO, a socket, a device
	 * or a directory named *.json is reported, never opened blocking */
	r = ocitap_read_regular_file(path, OCITAP_HOOKSD_MAX_FILE, 0, &buf, &len, &e);
	if (r < 0) {
		memset(f, 0, sizeof(*f));
		f->path = strdup(path);
		f->name = strdup(name);
		f->error = e;
		if (r == -ENOENT)
			ocitap_error_set(&f->error, r, NULL, "dangling symbolic link (podman skips it silently)");
		return f->path && f->name ? 0 : -ENOMEM;
	}
	r = ocitap_hooksd_parse(buf, len, path, f, &e);
	f->error = e;
	if (r == -ENOMEM && (!f->path || !f->name))
		return -ENOMEM;
	f->loaded = r == 0;
	return 0;
}

int ocitap_hooksd_load(const char *const *dirs, size_t n_dirs, struct ocitap_hooksd_set *ret, struct ocitap_error *err)
{
	struct ocitap_hooksd_set set = { 0 };

	set.dirs = calloc(n_dirs ? n_dirs : 1, sizeof(*set.dirs));
	if (!set.dirs)
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	set.n_dirs = n_dirs;
	for (size_t d = 0; d < n_dirs; d++) {
		struct dirent **names = NULL;
		int n;

		set.dirs[d].path = strdup(dirs[d]);
		if (!set.dirs[d].path)
			goto oom;
		n = scandir(dirs[d], &names, NULL, alphasort);
		if (n < 0) {
			set.dirs[d].error = -errno;
			continue;
		}
		for (int i = 0; i < n; i++) {
			struct ocitap_hooksd_file *p, *f;

			if (!ends_with_json(names[i]->d_name)) {
				free(names[i]);
				continue;
			}
			set.dirs[d].n_json++;
			p = realloc(set.files, (set.n_files + 1) * sizeof(*set.files));
			if (!p)
				goto oom_names;
			set.files = p;
			f = &set.files[set.n_files];
			memset(f, 0, sizeof(*f));
			if (load_one(dirs[d], names[i]->d_name, f) < 0)
				goto oom_names;
			set.n_files++;
			/* a later directory's valid file masks the earlier ones of its name */
			if (f->loaded)
				for (size_t k = 0; k + 1 < set.n_files; k++)
					if (strcmp(set.files[k].name, f->name) == 0 && !set.files[k].masked_by) {
						set.files[k].masked_by = strdup(f->path);
						if (!set.files[k].masked_by)
							goto oom_names;
					}
			free(names[i]);
			continue;
oom_names:
			for (; i < n; i++)
				free(names[i]);
			free(names);
			goto oom;
		}
		free(names);
	}
	if (set.n_files)
		qsort(set.files, set.n_files, sizeof(*set.files), file_order);
	*ret = set;
	return 0;
oom:
	ocitap_hooksd_set_release(&set);
	return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
}

void ocitap_hooksd_set_release(struct ocitap_hooksd_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n_dirs; i++)
		free(set->dirs[i].path);
	free(set->dirs);
	for (size_t i = 0; i < set->n_files; i++)
		ocitap_hooksd_file_release(&set->files[i]);
	free(set->files);
	memset(set, 0, sizeof(*set));
}

/* ---- matching ------------------------------------------------------------------------------ */

static struct ocitap_hooksd_reason *reason(struct ocitap_hooksd_verdict *v, const char *condition, bool matched)
{
	struct ocitap_hooksd_reason *r;

	if (v->n_reasons == OCITAP_HOOKSD_MAX_REASONS)
		v->n_reasons--; /* keep the last (deciding) one */
	r = &v->reasons[v->n_reasons++];
	r->condition = condition;
	r->matched = matched;
	r->detail[0] = '\0';
	return r;
}

/* A search that gave no answer: the field as validate() names it, the
 * pattern, the text. */
static int search_error(struct ocitap_error *err, int r, const struct ocitap_hooksd_file *f,
			const struct ocitap_hooksd_annotation *a, size_t command, const char *pattern, const char *text)
{
	char field[192];

	if (a && f->legacy)
		snprintf(field, sizeof(field), "annotations");
	else if (a)
		snprintf(field, sizeof(field), "when.annotations[\"%.120s\"]", a->key_pattern);
	else
		snprintf(field, sizeof(field), "%s[%zu]", f->legacy ? "cmds" : "when.commands", command);
	return ocitap_error_set(err, r, field, "pattern \"%.80s\" on \"%.60s\": %s", pattern, text,
				r == -ERANGE ? "the search gave up at its backtracking limit (no verdict)"
					     : strerror(-r));
}

int ocitap_hooksd_match(const struct ocitap_hooksd_file *f, const struct ocitap_config *cfg, bool has_bind_mounts,
			struct ocitap_hooksd_verdict *ret, struct ocitap_error *err)
{
	struct ocitap_hooksd_verdict v = { 0 };
	struct ocitap_hooksd_reason *why;
	bool or = f->legacy;
	int matches = 0;

	if (f->has_always) {
		why = reason(&v, "always", f->always);
		snprintf(why->detail, sizeof(why->detail), "always is %s", f->always ? "true" : "false");
		if (f->always) {
			if (or)
				goto matched;
			matches++;
		} else if (! or) {
			goto done;
		}
	}
	if (f->has_bind_mounts_cond) {
		bool ok = f->bind_mounts && has_bind_mounts;

		why = reason(&v, "hasBindMounts", ok);
		if (!f->bind_mounts)
			snprintf(why->detail, sizeof(why->detail), "hasBindMounts is false, which never matches");
		else
			snprintf(why->detail, sizeof(why->detail), "the container %s bind mounts",
				 has_bind_mounts ? "has" : "has no");
		if (ok) {
			if (or)
				goto matched;
			matches++;
		} else if (! or) {
			goto done;
		}
	}
	for (size_t i = 0; i < f->n_annotations; i++) {
		const struct ocitap_hooksd_annotation *a = &f->annotations[i];
		bool ok = false;
		const char *hit_key = NULL, *key_only = NULL;

		for (size_t k = 0; cfg && k < cfg->n_annotations && !ok; k++) {
			const struct ocitap_annotation *an = &cfg->annotations[k];
			const char *value = an->value ? an->value : "";
			int r = ocitap_regex_search(&a->key_re, an->key);

			if (r < 0)
				return search_error(err, r, f, a, 0, a->key_pattern, an->key);
			if (r == 0)
				continue;
			key_only = an->key;
			r = ocitap_regex_search(&a->value_re, value);
			if (r < 0)
				return search_error(err, r, f, a, 0, a->value_pattern, value);
			if (r > 0) {
				ok = true;
				hit_key = an->key;
			}
		}
		why = reason(&v, "annotations", ok);
		if (ok)
			snprintf(why->detail, sizeof(why->detail), "annotation \"%.80s\" matches /%.40s/=/%.60s/",
				 hit_key, a->key_pattern, a->value_pattern);
		else if (key_only)
			snprintf(why->detail, sizeof(why->detail),
				 "keys match /%.40s/ (\"%.60s\") but no value matches /%.80s/", a->key_pattern,
				 key_only, a->value_pattern);
		else
			snprintf(why->detail, sizeof(why->detail),
				 "no annotation key matches /%.80s/ (%zu annotations)", a->key_pattern,
				 cfg ? cfg->n_annotations : 0);
		if (ok) {
			if (or)
				goto matched;
			matches++;
		} else if (! or) {
			goto done;
		}
	}
	if (cfg && cfg->args && f->n_commands) {
		if (cfg->n_args == 0)
			return ocitap_error_set(err, -EINVAL, "process.args",
						"must have at least one argument for \"commands\" to be matched");
		v.decided_by_commands = true;
		for (size_t i = 0; i < f->n_commands; i++) {
			int r = ocitap_regex_search(&f->command_res[i], cfg->args[0]);

			if (r < 0)
				return search_error(err, r, f, NULL, i, f->commands[i], cfg->args[0]);
			if (r > 0) {
				why = reason(&v, "commands", true);
				snprintf(why->detail, sizeof(why->detail), "process.args[0] \"%.80s\" matches /%.80s/",
					 cfg->args[0], f->commands[i]);
				goto matched;
			}
		}
		why = reason(&v, "commands", false);
		snprintf(why->detail, sizeof(why->detail), "process.args[0] \"%.80s\" matches none of %zu pattern%s",
			 cfg->args[0], f->n_commands, f->n_commands == 1 ? "" : "s");
		goto done;
	}
	if (f->n_commands) {
		why = reason(&v, "commands", false);
		snprintf(why->detail, sizeof(why->detail), "not looked at: the bundle has no process");
	}
	if (matches > 0)
		goto matched;
	if (v.n_reasons == 0) {
		why = reason(&v, "when", false);
		snprintf(why->detail, sizeof(why->detail), "no condition that can match (\"when\" is empty)");
	}
	goto done;
matched:
	v.match = true;
done:
	*ret = v;
	return 0;
}

const char *ocitap_hooksd_injected_stage(const char *stage)
{
	return strcmp(stage, "prestart") == 0 ? "createRuntime" : stage;
}

const char *ocitap_hooksd_injected_stage_under(const char *stage, const struct ocitap_hooksd_rules *rules)
{
	return rules && !rules->prestart_as_create_runtime ? stage : ocitap_hooksd_injected_stage(stage);
}

int ocitap_hooksd_rules_for_podman(const char *version, struct ocitap_hooksd_rules *rules, struct ocitap_error *err)
{
	int part[3] = { 0, 0, 0 }, n = 0;
	const char *p = version;

	while (n < 3 && *p >= '0' && *p <= '9') {
		long v = 0;

		while (*p >= '0' && *p <= '9' && v < 100000)
			v = v * 10 + (*p++ - '0');
		part[n++] = (int)v;
		if (*p != '.')
			break;
		p++;
	}
	if (n < 2 || (*p && *p != '-' && *p != '+') || part[0] >= 100000 || part[1] >= 100000 || part[2] >= 100000)
		return ocitap_error_set(err, -EINVAL, "podman version", "expected X.Y or X.Y.Z, got '%.40s'", version);
	*rules = (struct ocitap_hooksd_rules){ .major = part[0], .minor = part[1], .patch = part[2] };
	rules->prestart_as_create_runtime = part[0] >= 5;
	rules->common = rules->prestart_as_create_runtime ? "v0.58.0 or later" : "before v0.58.0";
	return 0;
}

bool ocitap_hooksd_bundle_has_bind_mounts(const struct ocitap_config *cfg)
{
	static const char *const engine_own[] = {
		"/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/run/.containerenv", "/run/secrets", "/dev/shm",
	};

	for (size_t i = 0; cfg && i < cfg->n_mounts; i++) {
		const struct ocitap_mount *m = &cfg->mounts[i];
		bool bind = m->type && strcmp(m->type, "bind") == 0, own = false;

		for (size_t k = 0; k < m->n_options && !bind; k++)
			bind = strcmp(m->options[k], "bind") == 0 || strcmp(m->options[k], "rbind") == 0;
		for (size_t k = 0; k < ELEMENTSOF(engine_own) && m->destination; k++)
			own |= strcmp(m->destination, engine_own[k]) == 0;
		if (bind && !own)
			return true;
	}
	return false;
}
