/*
 * runtime-wrap.c: ocitap-runtime's command-line scan, its configuration and
 * its edit of a bundle's config.json (runtime-wrap.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "defaults.h"
#include "json-util.h"
#include "macro.h"
#include "runtime-wrap.h"

#define MAX_ARGS 64

void ocitap_wrap_config_init(struct ocitap_wrap_config *cfg)
{
	*cfg = (struct ocitap_wrap_config){
		.stages = OCITAP_WRAP_DEFAULT_STAGES,
		.hook_timeout = 5,
		.listener = true,
	};
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void ocitap_wrap_config_release(struct ocitap_wrap_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->runtime);
	free_strv(cfg->runtime_args, cfg->n_runtime_args);
	free(cfg->hook);
	free(cfg->socket);
	free(cfg->state_dir);
	free(cfg->policy);
	free(cfg->metadata);
	ocitap_wrap_config_init(cfg);
}

static int take_string(json_object *v, const char *key, bool absolute, char **slot, struct ocitap_error *err)
{
	const char *s;
	char *copy;

	if (!json_object_is_type(v, json_type_string))
		return ocitap_json_wrong_type(err, key, "a string", v);
	s = json_object_get_string(v);
	if (!*s)
		return ocitap_error_set(err, -EINVAL, key, "empty");
	if (absolute && s[0] != '/')
		return ocitap_error_set(err, -EINVAL, key, "'%s' is not an absolute path", s);
	if (!(copy = strdup(s)))
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	free(*slot);
	*slot = copy;
	return 0;
}

static int take_runtime_args(json_object *v, struct ocitap_wrap_config *cfg, struct ocitap_error *err)
{
	size_t n;
	char **args;

	if (!json_object_is_type(v, json_type_array))
		return ocitap_json_wrong_type(err, "runtimeArgs", "an array of strings", v);
	n = json_object_array_length(v);
	if (n > MAX_ARGS)
		return ocitap_error_set(err, -E2BIG, "runtimeArgs", "%zu entries, at most %d", n, MAX_ARGS);
	if (!(args = calloc(n + 1, sizeof(*args))))
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_object *a = json_object_array_get_idx(v, i);

		if (!json_object_is_type(a, json_type_string) || !(args[i] = strdup(json_object_get_string(a)))) {
			free_strv(args, i);
			if (!json_object_is_type(a, json_type_string))
				return ocitap_error_set(err, -EINVAL, "runtimeArgs",
							"entry %zu: expected a string, got %s", i,
							ocitap_json_type_word(a));
			return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
		}
	}
	free_strv(cfg->runtime_args, cfg->n_runtime_args);
	cfg->runtime_args = args;
	cfg->n_runtime_args = n;
	return 0;
}

static int take_stages(json_object *v, struct ocitap_wrap_config *cfg, struct ocitap_error *err)
{
	unsigned stages = 0;

	if (!json_object_is_type(v, json_type_array))
		return ocitap_json_wrong_type(err, "stages", "an array of stage names", v);
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		json_object *s = json_object_array_get_idx(v, i);
		int stage;

		if (!json_object_is_type(s, json_type_string))
			return ocitap_error_set(err, -EINVAL, "stages", "entry %zu: expected a stage name, got %s", i,
						ocitap_json_type_word(s));
		stage = ocitap_stage_from_string(json_object_get_string(s));
		if (stage < 0)
			return ocitap_error_set(err, -EINVAL, "stages",
						"unknown stage '%s' (prestart, createRuntime, createContainer, "
						"startContainer, poststart, poststop)",
						json_object_get_string(s));
		stages |= 1u << stage;
	}
	cfg->stages = stages;
	return 0;
}

static int take_bool(json_object *v, const char *key, bool *slot, struct ocitap_error *err)
{
	if (!json_object_is_type(v, json_type_boolean))
		return ocitap_json_wrong_type(err, key, "true or false", v);
	*slot = json_object_get_boolean(v);
	return 0;
}

static int take_key(const char *key, json_object *v, struct ocitap_wrap_config *cfg, struct ocitap_error *err)
{
	if (strcmp(key, "runtime") == 0)
		return take_string(v, key, false, &cfg->runtime, err);
	if (strcmp(key, "runtimeArgs") == 0)
		return take_runtime_args(v, cfg, err);
	if (strcmp(key, "stages") == 0)
		return take_stages(v, cfg, err);
	if (strcmp(key, "hook") == 0)
		return take_string(v, key, true, &cfg->hook, err);
	if (strcmp(key, "socket") == 0)
		return take_string(v, key, true, &cfg->socket, err);
	if (strcmp(key, "stateDir") == 0)
		return take_string(v, key, true, &cfg->state_dir, err);
	if (strcmp(key, "policy") == 0)
		return take_string(v, key, false, &cfg->policy, err);
	if (strcmp(key, "listenerMetadata") == 0)
		return take_string(v, key, false, &cfg->metadata, err);
	if (strcmp(key, "listener") == 0)
		return take_bool(v, key, &cfg->listener, err);
	if (strcmp(key, "failClosed") == 0)
		return take_bool(v, key, &cfg->fail_closed, err);
	if (strcmp(key, "hookTimeout") == 0) {
		int64_t t = json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : 0;

		if (t < 1 || t > 3600)
			return ocitap_error_set(err, -EINVAL, key, "expected 1 to 3600 seconds, got %s",
						json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
		cfg->hook_timeout = (int)t;
		return 0;
	}
	return ocitap_error_set(err, -EINVAL, key,
				"unknown key (runtime, runtimeArgs, stages, hook, hookTimeout, socket, stateDir, "
				"listener, policy, listenerMetadata, failClosed)");
}

int ocitap_wrap_config_parse(const char *buf, size_t len, struct ocitap_wrap_config *cfg, struct ocitap_error *err)
{
	_cleanup_(json_object_putp) json_object *root = NULL;
	int r;

	if ((r = ocitap_json_parse_object(buf, len, NULL, "the runtime configuration", &root, err)) < 0)
		return r;
	json_object_object_foreach (root, key, v)
		if ((r = take_key(key, v, cfg, err)) < 0)
			return r;
	if (cfg->policy && strpbrk(cfg->policy, ",= \t\n"))
		return ocitap_error_set(err, -EINVAL, "policy", "'%s' is not a policy name", cfg->policy);
	return 0;
}

/* runc's, crun's and runsc's global flags that take a separate value. */
bool ocitap_wrap_takes_value(const char *flag)
{
	static const char *const with_value[] = {
		"root",	       "log",	    "log-format",      "criu",	      "rootless",     "cgroup-manager",
		"log-level",   "debug-log", "panic-log",       "network",     "platform",     "debug-log-format",
		"file-access", "overlay2",  "coverage-report", "profile-cpu", "profile-heap", "strace-syscalls",
	};
	const char *name = flag + (flag[1] == '-' ? 2 : 1);

	if (strchr(name, '='))
		return false;
	for (size_t i = 0; i < sizeof(with_value) / sizeof(with_value[0]); i++)
		if (strcmp(name, with_value[i]) == 0)
			return true;
	return false;
}

int ocitap_wrap_find_command(int argc, char *const *argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0)
			return i + 1 < argc ? i + 1 : -1;
		if (a[0] != '-' || a[1] == '\0')
			return i;
		if (ocitap_wrap_takes_value(a))
			i++;
	}
	return -1;
}

const char *ocitap_wrap_find_bundle(int argc, char *const *argv, int cmd)
{
	for (int i = cmd + 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0)
			break;
		if (strcmp(a, "--bundle") == 0 || strcmp(a, "-bundle") == 0 || strcmp(a, "-b") == 0)
			return i + 1 < argc ? argv[i + 1] : NULL;
		if (strncmp(a, "--bundle=", 9) == 0)
			return a + 9;
		if (strncmp(a, "-bundle=", 8) == 0)
			return a + 8;
		if (strncmp(a, "-b=", 3) == 0)
			return a + 3;
	}
	return NULL;
}

bool ocitap_wrap_edits(const char *command)
{
	return strcmp(command, "create") == 0 || strcmp(command, "run") == 0;
}

/* obj[key] as an object, made when absent; -EINVAL when it is something else. */
static int child_object(json_object *obj, const char *key, const char *field, json_object **ret,
			struct ocitap_error *err)
{
	json_object *v;

	if (json_object_object_get_ex(obj, key, &v) && v) {
		if (!json_object_is_type(v, json_type_object))
			return ocitap_json_wrong_type(err, field, "an object", v);
		*ret = v;
		return 0;
	}
	if (!(v = json_object_new_object()) || json_object_object_add(obj, key, v) < 0)
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	*ret = v;
	return 0;
}

static json_object *new_strv(const char *const *v, size_t n)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; a && i < n; i++) {
		json_object *s = json_object_new_string(v[i]);

		if (!s || json_object_array_add(a, s) < 0) {
			json_object_put(s);
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}

/* The hook entry for one stage: path, args (the stage named), env, timeout. */
static json_object *hook_entry(const struct ocitap_wrap_config *cfg, const char *hook, enum ocitap_stage stage)
{
	_cleanup_free_ char *sock = NULL, *dir = NULL;
	const char *args[6], *env[2];
	size_t n_args = 0, n_env = 0;
	json_object *h = json_object_new_object(), *a, *e;

	args[n_args++] = "ocitap-hook";
	args[n_args++] = ocitap_stage_to_string(stage);
	if (cfg->fail_closed)
		args[n_args++] = "--fail-closed";
	if (cfg->socket && asprintf(&sock, "OCITAP_SOCKET=%s", cfg->socket) >= 0)
		env[n_env++] = sock;
	if (cfg->state_dir && asprintf(&dir, "OCITAP_STATE_DIR=%s", cfg->state_dir) >= 0)
		env[n_env++] = dir;
	a = new_strv(args, n_args);
	e = new_strv(env, n_env);
	if (!h || !a || !e || ocitap_json_add_string(h, "path", hook) < 0 || json_object_object_add(h, "args", a) < 0) {
		json_object_put(h);
		json_object_put(a);
		json_object_put(e);
		return NULL;
	}
	if (n_env == 0)
		json_object_put(e);
	else
		json_object_object_add(h, "env", e);
	json_object_object_add(h, "timeout", json_object_new_int(cfg->hook_timeout));
	return h;
}

static bool has_hook(json_object *list, const char *hook)
{
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *path, *h = json_object_array_get_idx(list, i);

		if (json_object_is_type(h, json_type_object) && json_object_object_get_ex(h, "path", &path) &&
		    json_object_is_type(path, json_type_string) && strcmp(json_object_get_string(path), hook) == 0)
			return true;
	}
	return false;
}

static int add_hooks(json_object *config, const struct ocitap_wrap_config *cfg, const char *hook,
		     struct ocitap_wrap_changes *ch, struct ocitap_error *err)
{
	json_object *hooks = NULL;
	int r;

	if (!cfg->stages)
		return 0;
	if ((r = child_object(config, "hooks", "hooks", &hooks, err)) < 0)
		return r;
	for (int s = 0; s < OCITAP_STAGE_COUNT; s++) {
		const char *name = ocitap_stage_to_string(s);
		json_object *list, *entry;

		if (!(cfg->stages & (1u << s)))
			continue;
		if (json_object_object_get_ex(hooks, name, &list) && list) {
			if (!json_object_is_type(list, json_type_array))
				return ocitap_error_set(err, -EINVAL, "hooks", "%s: expected an array, got %s", name,
							ocitap_json_type_word(list));
		} else if (!(list = json_object_new_array()) || json_object_object_add(hooks, name, list) < 0) {
			return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
		}
		if (has_hook(list, hook))
			continue;
		if (!(entry = hook_entry(cfg, hook, s)) || json_object_array_add(list, entry) < 0) {
			json_object_put(entry);
			return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
		}
		ch->hooks_added |= 1u << s;
	}
	return 0;
}

static bool is_notify(json_object *action)
{
	return json_object_is_type(action, json_type_string) &&
	       strcmp(json_object_get_string(action), "SCMP_ACT_NOTIFY") == 0;
}

/* Does the profile notify: its default action or any rule's? */
static int profile_notifies(json_object *seccomp, bool *ret, struct ocitap_error *err)
{
	json_object *v, *rules;

	*ret = json_object_object_get_ex(seccomp, "defaultAction", &v) && is_notify(v);
	if (*ret || !json_object_object_get_ex(seccomp, "syscalls", &rules) || !rules)
		return 0;
	if (!json_object_is_type(rules, json_type_array))
		return ocitap_json_wrong_type(err, "linux.seccomp.syscalls", "an array", rules);
	for (size_t i = 0; i < json_object_array_length(rules) && !*ret; i++) {
		json_object *rule = json_object_array_get_idx(rules, i);

		*ret = json_object_is_type(rule, json_type_object) && json_object_object_get_ex(rule, "action", &v) &&
		       is_notify(v);
	}
	return 0;
}

static bool has_string(json_object *obj, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(obj, key, &v) && json_object_is_type(v, json_type_string) &&
	       *json_object_get_string(v);
}

static int set_listener(json_object *config, const struct ocitap_wrap_config *cfg, struct ocitap_wrap_changes *ch,
			struct ocitap_error *err)
{
	const char *socket = cfg->socket ? cfg->socket : ocitap_default_path(OCITAP_ENV_SOCKET, OCITAP_DEFAULT_SOCKET);
	json_object *linux_ = NULL, *seccomp = NULL;
	_cleanup_free_ char *meta = NULL;
	bool notifies;
	int r;

	if (!cfg->listener || !json_object_object_get_ex(config, "linux", &linux_) || !linux_)
		return 0;
	if (!json_object_is_type(linux_, json_type_object))
		return ocitap_json_wrong_type(err, "linux", "an object", linux_);
	if (!json_object_object_get_ex(linux_, "seccomp", &seccomp) || !seccomp)
		return 0;
	if (!json_object_is_type(seccomp, json_type_object))
		return ocitap_json_wrong_type(err, "linux.seccomp", "an object", seccomp);
	if ((r = profile_notifies(seccomp, &notifies, err)) < 0)
		return r;
	if (!notifies || has_string(seccomp, "listenerPath"))
		return 0;
	if (ocitap_json_add_string(seccomp, "listenerPath", socket) < 0)
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	ch->listener_set = true;
	if (has_string(seccomp, "listenerMetadata"))
		return 0;
	if (cfg->metadata)
		meta = strdup(cfg->metadata);
	else if (cfg->policy && asprintf(&meta, "policy=%s", cfg->policy) < 0)
		meta = NULL;
	if (!meta)
		return cfg->metadata || cfg->policy ? ocitap_error_set(err, -ENOMEM, NULL, "out of memory") : 0;
	if (ocitap_json_add_string(seccomp, "listenerMetadata", meta) < 0)
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	ch->metadata_set = true;
	return 0;
}

int ocitap_wrap_edit(json_object *config, const struct ocitap_wrap_config *cfg, const char *hook,
		     struct ocitap_wrap_changes *ret, struct ocitap_error *err)
{
	struct ocitap_wrap_changes ch = { 0 };
	int r;

	if (!json_object_is_type(config, json_type_object))
		return ocitap_error_set(err, -EINVAL, NULL, "config.json must be a JSON object, got %s",
					ocitap_json_type_word(config));
	if ((r = add_hooks(config, cfg, hook, &ch, err)) < 0 || (r = set_listener(config, cfg, &ch, err)) < 0)
		return r;
	*ret = ch;
	return 0;
}
