/*
 * profile.c: the io.containers.trace-syscall annotation, and seccomp
 * profiles built from a container's observed syscalls (profile.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io.h"
#include "json-util.h"
#include "macro.h"
#include "profile.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static int name_check(const char *path, bool relative_ok, struct ocitap_error *err)
{
	size_t n = strlen(path);

	if (n == 0)
		return ocitap_error_set(err, -EINVAL, NULL, "the path is empty");
	if (path[0] != '/' && !relative_ok)
		return ocitap_error_set(err, -EINVAL, NULL, "\"%s\" is not an absolute path", path);
	if (n >= PATH_MAX)
		return ocitap_error_set(err, -ENAMETOOLONG, NULL, "the path is longer than %d bytes", PATH_MAX - 1);
	if (path[n - 1] == '/')
		return ocitap_error_set(err, -EINVAL, NULL, "\"%s\" names a directory", path);
	for (const char *p = path; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return ocitap_error_set(err, -EINVAL, NULL, "the path contains a control character");
	for (const char *p = path; *p;) {
		const char *end;
		size_t len;

		while (*p == '/')
			p++;
		end = strchrnul(p, '/');
		len = (size_t)(end - p);
		if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return ocitap_error_set(err, -EINVAL, NULL, "\"%s\" has a \"%.*s\" component", path, (int)len,
						p);
		p = end;
	}
	return 0;
}

int ocitap_profile_path_check(const char *path, struct ocitap_error *err)
{
	return name_check(path, false, err);
}

int ocitap_profile_name_check(const char *path, struct ocitap_error *err)
{
	return name_check(path, true, err);
}

static int spec_path(const char *start, size_t len, const char *which, char *ret, struct ocitap_error *err)
{
	if (len >= PATH_MAX)
		return ocitap_error_set(err, -ENAMETOOLONG, which, "the path is longer than %d bytes", PATH_MAX - 1);
	memcpy(ret, start, len);
	ret[len] = '\0';
	if (ocitap_profile_name_check(ret, err) < 0)
		return ocitap_error_nest(err, which);
	return 0;
}

int ocitap_trace_spec_parse(const char *value, struct ocitap_trace_spec *ret, struct ocitap_error *err)
{
	struct ocitap_trace_spec spec = { .in = "", .out = "" };
	bool have_in = false, have_out = false;
	const char *p = value;

	if (!*value)
		return ocitap_error_set(err, -EINVAL, OCITAP_TRACE_ANNOTATION, "empty; want [if:IN;]of:OUT");
	/* the first form the hook took: the value is OUT itself */
	if (value[0] == '/') {
		int r = spec_path(value, strlen(value), "of", spec.out, err);

		if (r < 0)
			return r;
		*ret = spec;
		return 0;
	}
	while (*p) {
		const char *end = strchrnul(p, ';');
		size_t len = (size_t)(end - p);
		int r;

		if (len >= 3 && strncmp(p, "if:", 3) == 0) {
			if (have_in)
				return ocitap_error_set(err, -EINVAL, OCITAP_TRACE_ANNOTATION, "if: is given twice");
			r = spec_path(p + 3, len - 3, "if", spec.in, err);
			have_in = true;
		} else if (len >= 3 && strncmp(p, "of:", 3) == 0) {
			if (have_out)
				return ocitap_error_set(err, -EINVAL, OCITAP_TRACE_ANNOTATION, "of: is given twice");
			r = spec_path(p + 3, len - 3, "of", spec.out, err);
			have_out = true;
		} else {
			return ocitap_error_set(err, -EINVAL, OCITAP_TRACE_ANNOTATION,
						"\"%.*s\" is neither if:PATH nor of:PATH; want [if:IN;]of:OUT",
						(int)(len < 64 ? len : 64), p);
		}
		if (r < 0)
			return r;
		p = *end ? end + 1 : end;
	}
	if (!have_out)
		return ocitap_error_set(err, -EINVAL, OCITAP_TRACE_ANNOTATION, "of: is missing; want [if:IN;]of:OUT");
	*ret = spec;
	return 0;
}

/* ---- names ---------------------------------------------------------------------- */

struct arch_info {
	uint32_t native, compat; /* libseccomp tokens; compat 0: none */
	const char *names[4];	 /* for "architectures", native first */
};

static const struct arch_info arches[] = {
	{ SCMP_ARCH_X86_64, SCMP_ARCH_X86, { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32" } },
	{ SCMP_ARCH_AARCH64, SCMP_ARCH_ARM, { "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM" } },
	{ SCMP_ARCH_X86, 0, { "SCMP_ARCH_X86" } },
	{ SCMP_ARCH_ARM, 0, { "SCMP_ARCH_ARM" } },
	{ SCMP_ARCH_PPC64LE, 0, { "SCMP_ARCH_PPC64LE" } },
	{ SCMP_ARCH_S390X, 0, { "SCMP_ARCH_S390X", "SCMP_ARCH_S390" } },
	{ SCMP_ARCH_RISCV64, 0, { "SCMP_ARCH_RISCV64" } },
};

static const struct arch_info *arch_here(void)
{
	uint32_t native = seccomp_arch_native();

	for (size_t i = 0; i < ARRAY_SIZE(arches); i++)
		if (arches[i].native == native)
			return &arches[i];
	return NULL;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void ocitap_profile_names_free(char **names)
{
	for (size_t i = 0; names && names[i]; i++)
		free(names[i]);
	free(names);
}

int ocitap_profile_names(const uint64_t *native, const uint64_t *compat, size_t words, char ***ret_names,
			 size_t *ret_unnamed)
{
	const struct arch_info *a = arch_here();
	size_t n = 0, cap = 64, unnamed = 0, out = 0;
	char **v = malloc(cap * sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (int abi = 0; abi < 2; abi++) {
		const uint64_t *bits = abi == 0 ? native : compat;
		uint32_t token = abi == 0 ? seccomp_arch_native() : (a ? a->compat : 0);

		for (size_t w = 0; bits && w < words; w++)
			for (int b = 0; b < 64; b++) {
				char *name;

				if (!(bits[w] & (1ULL << b)))
					continue;
				name = token ? seccomp_syscall_resolve_num_arch(token, (int)(w * 64 + (size_t)b))
					     : NULL;
				if (!name) {
					unnamed++;
					continue;
				}
				if (n + 1 >= cap) {
					char **p = realloc(v, cap * 2 * sizeof(*v));

					if (!p) {
						free(name);
						v[n] = NULL;
						ocitap_profile_names_free(v);
						return -ENOMEM;
					}
					v = p;
					cap *= 2;
				}
				v[n++] = name;
			}
	}
	qsort(v, n, sizeof(*v), cmp_names);
	for (size_t i = 0; i < n; i++) {
		if (out && strcmp(v[out - 1], v[i]) == 0) {
			free(v[i]);
			continue;
		}
		v[out++] = v[i];
	}
	v[out] = NULL;
	*ret_names = v;
	if (ret_unnamed)
		*ret_unnamed = unnamed;
	return (int)out;
}

/* ---- the profile ---------------------------------------------------------------- */

/* A rule's names: "names" (an array), or the older single "name". */
static int rule_names(json_object *rule, const char *field, json_object **ret, struct ocitap_error *err)
{
	json_object *names = NULL, *name = NULL;

	if (json_object_object_get_ex(rule, "names", &names) && names) {
		if (!json_object_is_type(names, json_type_array))
			return ocitap_json_wrong_type(err, field, "an array of syscall names", names);
		for (size_t i = 0; i < json_object_array_length(names); i++)
			if (!json_object_is_type(json_object_array_get_idx(names, i), json_type_string))
				return ocitap_json_wrong_type(err, field, "an array of syscall names",
							      json_object_array_get_idx(names, i));
		*ret = names;
		return 0;
	}
	if (json_object_object_get_ex(rule, "name", &name) && name) {
		if (!json_object_is_type(name, json_type_string))
			return ocitap_json_wrong_type(err, field, "a syscall name", name);
		*ret = name;
		return 0;
	}
	return ocitap_error_set(err, -EINVAL, field, "a rule without \"names\"");
}

static bool empty_member(json_object *rule, const char *key)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(rule, key, &v) || !v)
		return true;
	if (json_object_is_type(v, json_type_array))
		return json_object_array_length(v) == 0;
	if (json_object_is_type(v, json_type_object))
		return json_object_object_length(v) == 0;
	return false;
}

static bool name_in(json_object *names, const char *name)
{
	if (json_object_is_type(names, json_type_string))
		return strcmp(json_object_get_string(names), name) == 0;
	for (size_t i = 0; i < json_object_array_length(names); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(names, i)), name) == 0)
			return true;
	return false;
}

/* A growing vector of borrowed names. */
struct nameset {
	const char **v;
	size_t n, cap;
};

static int nameset_add(struct nameset *set, const char *name)
{
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 64;
		const char **p = realloc(set->v, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		set->v = p;
		set->cap = cap;
	}
	set->v[set->n++] = name;
	return 0;
}

static int add_names(json_object *names, struct nameset *set)
{
	size_t k = json_object_is_type(names, json_type_string) ? 1 : json_object_array_length(names);

	for (size_t i = 0; i < k; i++) {
		json_object *s =
			json_object_is_type(names, json_type_string) ? names : json_object_array_get_idx(names, i);

		if (nameset_add(set, json_object_get_string(s)) < 0)
			return -ENOMEM;
	}
	return 0;
}

/*
 * Allowed in every profile, observed or not: what the runtime's own init may
 * do between loading the filter and executing the program, which one run
 * does and the next may not (a Go runtime, runc's, is preempted by signals
 * and returns from their handlers, parks threads, polls). A profile without
 * rt_sigreturn kills its container with SIGSEGV whenever such a signal
 * arrives in that window (seen with runc here); the program itself needs
 * these too, at one time or another.
 */
static const char *const runtime_floor[] = {
	"rt_sigreturn", "restart_syscall", "rt_sigprocmask", "sigaltstack", "futex",
	"nanosleep",	"sched_yield",	   "epoll_pwait",    "tgkill",	    "getpid",
	"gettid",	"madvise",	   "execve",	     "exit",	    "exit_group",
};

/* IN has a rule for name that is not an unconditional allow (or log): it stays refused. */
static bool blocked_by(json_object *in_rules, const char *name)
{
	for (size_t k = 0; in_rules && k < json_object_array_length(in_rules); k++) {
		json_object *rule = json_object_array_get_idx(in_rules, k), *rn = NULL, *action = NULL;

		rule_names(rule, "", &rn, NULL);
		json_object_object_get_ex(rule, "action", &action);
		if (strcmp(json_object_get_string(action), "SCMP_ACT_ALLOW") != 0 &&
		    strcmp(json_object_get_string(action), "SCMP_ACT_LOG") != 0 && name_in(rn, name))
			return true;
	}
	return false;
}

/* Each of IN's rules (in_rules NULL: none) is an object with names and a
 * string "action": 0, or a negative errno with err naming the rule. */
static int rules_check(json_object *in_rules, struct ocitap_error *err)
{
	for (size_t i = 0; in_rules && i < json_object_array_length(in_rules); i++) {
		json_object *rule = json_object_array_get_idx(in_rules, i), *rn = NULL, *action = NULL;
		char field[48];
		int r;

		snprintf(field, sizeof(field), "syscalls[%zu]", i);
		if (!json_object_is_type(rule, json_type_object))
			return ocitap_json_wrong_type(err, field, "a rule (an object)", rule);
		r = rule_names(rule, field, &rn, err);
		if (r < 0)
			return r;
		if (!json_object_object_get_ex(rule, "action", &action) ||
		    !json_object_is_type(action, json_type_string))
			return ocitap_error_set(err, -EINVAL, field, "a rule without a string \"action\"");
	}
	return 0;
}

/* Appends IN's architectures (in_archs NULL: none) that archs does not list
 * yet; anything not a string is skipped. */
static void archs_add_missing(json_object *archs, json_object *in_archs)
{
	for (size_t i = 0; in_archs && i < json_object_array_length(in_archs); i++) {
		json_object *s = json_object_array_get_idx(in_archs, i);
		bool dup = false;

		if (!json_object_is_type(s, json_type_string))
			continue;
		for (size_t k = 0; k < json_object_array_length(archs) && !dup; k++)
			dup = strcmp(json_object_get_string(json_object_array_get_idx(archs, k)),
				     json_object_get_string(s)) == 0;
		if (!dup)
			json_object_array_add(archs, json_object_get(s));
	}
}

int ocitap_profile_build(char *const *names, const char *in_json, size_t in_len, char **ret_json,
			 struct ocitap_error *err)
{
	_cleanup_(json_object_putp) json_object *in = NULL;
	json_object *out = json_object_new_object(), *archs = json_object_new_array(), *rules = json_object_new_array();
	json_object *allow_names = json_object_new_array(), *allow = json_object_new_object();
	json_object *in_rules = NULL, *in_archs = NULL, *v = NULL;
	const struct arch_info *a = arch_here();
	struct nameset set = { 0 };
	int r = 0;

	if (in_json) {
		struct ocitap_limits lim;

		ocitap_limits_init(&lim);
		lim.max_bytes = OCITAP_PROFILE_IN_MAX;
		lim.max_depth = 32;
		r = ocitap_json_parse_object(in_json, in_len, &lim, "a seccomp profile", &in, err);
		if (r < 0)
			goto out;
		if (json_object_object_get_ex(in, "syscalls", &in_rules) && in_rules &&
		    !json_object_is_type(in_rules, json_type_array)) {
			r = ocitap_json_wrong_type(err, "syscalls", "an array of rules", in_rules);
			goto out;
		}
		if (json_object_object_get_ex(in, "architectures", &in_archs) && in_archs &&
		    !json_object_is_type(in_archs, json_type_array)) {
			r = ocitap_json_wrong_type(err, "architectures", "an array", in_archs);
			goto out;
		}
	}
	/* IN's rules: which names it allows outright, which it blocks */
	r = rules_check(in_rules, err);
	if (r < 0)
		goto out;
	for (size_t i = 0; names && names[i]; i++)
		if (!blocked_by(in_rules, names[i]) && nameset_add(&set, names[i]) < 0) {
			r = -ENOMEM;
			goto out;
		}
	for (size_t i = 0; i < ARRAY_SIZE(runtime_floor); i++)
		if (!blocked_by(in_rules, runtime_floor[i]) && nameset_add(&set, runtime_floor[i]) < 0) {
			r = -ENOMEM;
			goto out;
		}
	for (size_t k = 0; in_rules && k < json_object_array_length(in_rules); k++) {
		json_object *rule = json_object_array_get_idx(in_rules, k), *rn = NULL, *action = NULL;

		rule_names(rule, "", &rn, NULL);
		json_object_object_get_ex(rule, "action", &action);
		if (strcmp(json_object_get_string(action), "SCMP_ACT_ALLOW") == 0 && empty_member(rule, "args") &&
		    empty_member(rule, "includes") && empty_member(rule, "excludes")) {
			if (add_names(rn, &set) < 0) {
				r = -ENOMEM;
				goto out;
			}
		} else
			json_object_array_add(rules, json_object_get(rule)); /* kept as it is */
	}
	if (set.n)
		qsort(set.v, set.n, sizeof(*set.v), cmp_names);
	for (size_t i = 0; i < set.n; i++)
		if (i == 0 || strcmp(set.v[i - 1], set.v[i]) != 0)
			json_object_array_add(allow_names, json_object_new_string(set.v[i]));

	json_object_object_add(out, "defaultAction", json_object_new_string("SCMP_ACT_ERRNO"));
	if (in && json_object_object_get_ex(in, "defaultErrnoRet", &v) && json_object_is_type(v, json_type_int))
		json_object_object_add(out, "defaultErrnoRet", json_object_get(v));
	for (size_t i = 0; a && i < ARRAY_SIZE(a->names) && a->names[i]; i++)
		json_object_array_add(archs, json_object_new_string(a->names[i]));
	archs_add_missing(archs, in_archs);
	json_object_object_add(out, "architectures", json_object_get(archs));
	{
		/* whose it is: ocitapd replaces a file only while this is in it */
		json_object *mark = json_object_new_object();

		json_object_object_add(mark, "writer", json_object_new_string("ocitap"));
		json_object_object_add(mark, "version", json_object_new_string(OCITAP_VERSION));
		json_object_object_add(out, OCITAP_PROFILE_MARKER, mark);
	}
	json_object_object_add(allow, "names", json_object_get(allow_names));
	json_object_object_add(allow, "action", json_object_new_string("SCMP_ACT_ALLOW"));
	{
		/* ours first, then what IN kept */
		json_object *all = json_object_new_array();

		if (json_object_array_length(allow_names))
			json_object_array_add(all, json_object_get(allow));
		for (size_t i = 0; i < json_object_array_length(rules); i++)
			json_object_array_add(all, json_object_get(json_object_array_get_idx(rules, i)));
		json_object_object_add(out, "syscalls", all);
	}
	*ret_json = strdup(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
								       JSON_C_TO_STRING_NOSLASHESCAPE));
	if (!*ret_json)
		r = -ENOMEM;
out:
	free(set.v);
	json_object_put(out);
	json_object_put(archs);
	json_object_put(rules);
	json_object_put(allow_names);
	json_object_put(allow);
	return r;
}
