/*
 * policy.c: seccomp notify policies: parsing the policy file and
 * listenerMetadata, and deciding by (arch, syscall number).
 */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>

#include "io.h"
#include "json-util.h"
#include "macro.h"
#include "number.h"
#include "policy.h"

#define MAX_POLICIES 256
#define MAX_RULES    1024

struct rule {
	uint32_t arch;
	int nr;
	struct ocitap_action action;
};

struct ocitap_policy {
	char name[OCITAP_POLICY_NAME_MAX];
	struct ocitap_action fallback; /* for syscalls without a rule */
	struct rule *rules;	       /* sorted by (arch, nr) */
	size_t n_rules;
};

struct ocitap_policy_set {
	struct ocitap_policy *policies; /* [0] audit, [1] deny, then the file's */
	size_t n;
};

int ocitap_action_parse(const char *text, struct ocitap_action *ret, struct ocitap_error *err)
{
	if (strcmp(text, "continue") == 0) {
		*ret = (struct ocitap_action){ OCITAP_ACTION_CONTINUE, 0 };
		return 0;
	}
	if (strcmp(text, "kill") == 0) {
		*ret = (struct ocitap_action){ OCITAP_ACTION_KILL, 0 };
		return 0;
	}
	if (strncmp(text, "errno:", 6) == 0) {
		const char *e = text + 6;
		int v;

		if (*e >= '0' && *e <= '9') {
			if (ocitap_parse_int(e, 1, 4095, &v) == 0) {
				*ret = (struct ocitap_action){ OCITAP_ACTION_ERRNO, v };
				return 0;
			}
		} else {
			for (int i = 1; i < 4096; i++) {
				const char *name = strerrorname_np(i);

				if (name && strcmp(name, e) == 0) {
					*ret = (struct ocitap_action){ OCITAP_ACTION_ERRNO, i };
					return 0;
				}
			}
		}
		return ocitap_error_set(err, -EINVAL, NULL, "unknown errno \"%s\" (expected a name such as EPERM)", e);
	}
	return ocitap_error_set(err, -EINVAL, NULL, "unknown action \"%s\" (expected continue, errno:NAME or kill)",
				text);
}

const char *ocitap_action_format(const struct ocitap_action *a, char *buf, size_t size)
{
	switch (a->kind) {
	case OCITAP_ACTION_CONTINUE:
		snprintf(buf, size, "continue");
		break;
	case OCITAP_ACTION_KILL:
		snprintf(buf, size, "kill");
		break;
	case OCITAP_ACTION_ERRNO: {
		const char *name = strerrorname_np(a->errno_value);

		if (name)
			snprintf(buf, size, "errno:%s", name);
		else
			snprintf(buf, size, "errno:%d", a->errno_value);
		break;
	}
	}
	return buf;
}

static int rule_cmp(const void *a, const void *b)
{
	const struct rule *x = a, *y = b;

	if (x->arch != y->arch)
		return x->arch < y->arch ? -1 : 1;
	return (x->nr > y->nr) - (x->nr < y->nr);
}

/* The architectures a container on this host can make syscalls in. */
static size_t host_arches(uint32_t *arches, size_t max)
{
	uint32_t native = seccomp_arch_native();
	size_t n = 0;

	arches[n++] = native;
	if (native == SCMP_ARCH_X86_64 && n + 2 <= max) {
		arches[n++] = SCMP_ARCH_X86;
		arches[n++] = SCMP_ARCH_X32;
	} else if (native == SCMP_ARCH_AARCH64 && n + 1 <= max) {
		arches[n++] = SCMP_ARCH_ARM;
	}
	return n;
}

static int parse_policy(const char *name, json_object *obj, const struct ocitap_limits *lim, struct ocitap_policy *p,
			struct ocitap_error *err)
{
	uint32_t arches[4];
	size_t n_arches = host_arches(arches, ELEMENTSOF(arches));
	const char *fallback;
	json_object *syscalls = NULL;
	size_t n, k = 0;
	int r;

	if (strlen(name) >= sizeof(p->name) || name[0] == '\0')
		return ocitap_error_set(err, -EINVAL, NULL, "policy names must be 1 to %zu bytes", sizeof(p->name) - 1);
	snprintf(p->name, sizeof(p->name), "%s", name);
	r = ocitap_json_expect_object(obj, NULL, err);
	if (r < 0)
		return r;
	r = ocitap_json_get_string(obj, "default", false, lim, &fallback, err);
	if (r < 0)
		return r;
	p->fallback = (struct ocitap_action){ OCITAP_ACTION_CONTINUE, 0 };
	if (fallback) {
		r = ocitap_action_parse(fallback, &p->fallback, err);
		if (r < 0)
			return ocitap_error_nest(err, "default");
	}
	if (!json_object_object_get_ex(obj, "syscalls", &syscalls) || !syscalls)
		return 0;
	if (!json_object_is_type(syscalls, json_type_object))
		return ocitap_json_wrong_type(err, "syscalls", "an object of syscall: action", syscalls);
	n = (size_t)json_object_object_length(syscalls);
	if (n > MAX_RULES)
		return ocitap_error_set(err, -E2BIG, "syscalls", "%zu rules, more than the limit of %d", n, MAX_RULES);
	p->rules = calloc(n * n_arches + 1, sizeof(struct rule));
	if (!p->rules)
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	json_object_object_foreach (syscalls, sc, val) {
		struct ocitap_action action;
		const char *text;
		bool known = false;

		r = ocitap_json_string_value(val, sc, lim, &text, err);
		if (r >= 0)
			r = ocitap_action_parse(text, &action, err);
		if (r < 0) {
			if (!err || !err->field[0])
				ocitap_error_nest(err, sc);
			return ocitap_error_nest(err, "syscalls");
		}
		for (size_t a = 0; a < n_arches; a++) {
			int nr = seccomp_syscall_resolve_name_arch(arches[a], sc);

			if (nr < 0)
				continue;
			known = true;
			p->rules[k++] = (struct rule){ arches[a], nr, action };
		}
		if (!known) {
			ocitap_error_set(err, -EINVAL, sc, "unknown syscall");
			return ocitap_error_nest(err, "syscalls");
		}
	}
	p->n_rules = k;
	qsort(p->rules, k, sizeof(struct rule), rule_cmp);
	return 0;
}

static void set_builtins(struct ocitap_policy_set *set)
{
	snprintf(set->policies[0].name, sizeof(set->policies[0].name), "audit");
	set->policies[0].fallback = (struct ocitap_action){ OCITAP_ACTION_CONTINUE, 0 };
	snprintf(set->policies[1].name, sizeof(set->policies[1].name), "deny");
	set->policies[1].fallback = (struct ocitap_action){ OCITAP_ACTION_ERRNO, EPERM };
	set->n = 2;
}

int ocitap_policy_set_parse(const char *buf, size_t len, const struct ocitap_limits *lim,
			    struct ocitap_policy_set **ret, struct ocitap_error *err)
{
	_cleanup_(json_object_putp) json_object *root = NULL;
	struct ocitap_policy_set *set;
	struct ocitap_limits dflt;
	json_object *policies = NULL;
	size_t n = 0;
	int r;

	if (!lim) {
		ocitap_limits_init(&dflt);
		lim = &dflt;
	}
	if (buf && len > 0) {
		r = ocitap_json_parse_object(buf, len, lim, "a policy file", &root, err);
		if (r < 0)
			return r;
		if (json_object_object_get_ex(root, "policies", &policies) && policies) {
			if (!json_object_is_type(policies, json_type_object))
				return ocitap_json_wrong_type(err, "policies", "an object", policies);
			n = (size_t)json_object_object_length(policies);
			if (n > MAX_POLICIES)
				return ocitap_error_set(err, -E2BIG, "policies",
							"%zu policies, more than the limit of %d", n, MAX_POLICIES);
		}
	}
	set = calloc(1, sizeof(*set));
	if (!set)
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	set->policies = calloc(n + 2, sizeof(struct ocitap_policy));
	if (!set->policies) {
		free(set);
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	}
	set_builtins(set);
	if (policies) {
		json_object_object_foreach (policies, name, obj) {
			if (ocitap_policy_set_find(set, name)) {
				ocitap_error_set(err, -EEXIST, name,
						 "a policy of that name is built in or already defined");
				ocitap_policy_set_free(set);
				return ocitap_error_nest(err, "policies");
			}
			r = parse_policy(name, obj, lim, &set->policies[set->n], err);
			set->n++; /* counted even on failure: free() releases its rules */
			if (r < 0) {
				if (err && strcmp(err->field, name) != 0 &&
				    strncmp(err->field, name, strlen(name)) != 0)
					ocitap_error_nest(err, name);
				ocitap_policy_set_free(set);
				return ocitap_error_nest(err, "policies");
			}
		}
	}
	*ret = set;
	return 0;
}

int ocitap_policy_set_load(const char *path, struct ocitap_policy_set **ret, struct ocitap_error *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r;

	if (path) {
		r = ocitap_read_file(path, 1024 * 1024, -1, &buf, &len, err);
		if (r < 0)
			return ocitap_error_prefix(err, "%s", path);
		if (len == 0)
			return ocitap_error_set(err, -ENODATA, NULL, "%s: empty policy file", path);
	}
	return ocitap_policy_set_parse(buf, len, NULL, ret, err);
}

void ocitap_policy_set_free(struct ocitap_policy_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++)
		free(set->policies[i].rules);
	free(set->policies);
	free(set);
}

const struct ocitap_policy *ocitap_policy_set_find(const struct ocitap_policy_set *set, const char *name)
{
	for (size_t i = 0; name && i < set->n; i++)
		if (strcmp(set->policies[i].name, name) == 0)
			return &set->policies[i];
	return NULL;
}

const struct ocitap_policy *ocitap_policy_set_default(const struct ocitap_policy_set *set)
{
	return &set->policies[0];
}

size_t ocitap_policy_set_count(const struct ocitap_policy_set *set)
{
	return set->n;
}

const char *ocitap_policy_name(const struct ocitap_policy *p)
{
	return p->name;
}

static bool same_action(const struct ocitap_action *a, const struct ocitap_action *b)
{
	return a->kind == b->kind && a->errno_value == b->errno_value;
}

struct ocitap_action ocitap_policy_blind(const struct ocitap_policy *p, bool *exact)
{
	bool uniform = true;

	for (size_t i = 0; i < p->n_rules && uniform; i++)
		uniform = same_action(&p->rules[i].action, &p->fallback);
	*exact = uniform;
	if (uniform && p->fallback.kind != OCITAP_ACTION_KILL)
		return p->fallback;
	if (p->fallback.kind == OCITAP_ACTION_ERRNO)
		return p->fallback;
	for (size_t i = 0; i < p->n_rules; i++)
		if (p->rules[i].action.kind == OCITAP_ACTION_ERRNO)
			return p->rules[i].action;
	*exact = false;
	return (struct ocitap_action){ OCITAP_ACTION_ERRNO, EPERM };
}

struct ocitap_action ocitap_policy_decide(const struct ocitap_policy *p, uint32_t arch, int nr)
{
	size_t lo = 0, hi = p->n_rules;
	struct rule key = { arch, nr, { 0, 0 } };

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = rule_cmp(&key, &p->rules[mid]);

		if (c == 0)
			return p->rules[mid].action;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return p->fallback;
}

int ocitap_metadata_policy(const char *metadata, char *ret_name, size_t size)
{
	const char *p = metadata;

	while (p && *p) {
		size_t n;

		while (*p == ' ' || *p == ';' || *p == '\t')
			p++;
		n = strcspn(p, " ;\t");
		if (n > 7 && strncmp(p, "policy=", 7) == 0) {
			if (n - 7 >= size)
				return -ENAMETOOLONG;
			memcpy(ret_name, p + 7, n - 7);
			ret_name[n - 7] = '\0';
			return 1;
		}
		if (n == 7 && strncmp(p, "policy=", 7) == 0)
			return -EINVAL;
		p += n;
	}
	return 0;
}
