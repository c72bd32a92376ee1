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

/* Where a parse went wrong, for people: line and column (from 1; the
 * column counts bytes) of byte off of buf. */
static void text_position(const char *buf, size_t len, size_t off, unsigned *ret_line, unsigned *ret_col)
{
	unsigned line = 1, col = 1;

	for (size_t i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	*ret_line = line;
	*ret_col = col;
}

/*
 * The offset in buf of the key at path (path[0] a key of the top-level
 * object, path[1] one of the object under it, ...), found by a small scan of
 * the text (json-c keeps no positions). Keys are compared as written, so
 * one with escapes is not found. -ENOENT when not found.
 */
static int key_offset(const char *buf, size_t len, const char *const *path, size_t n_path, size_t *ret)
{
	struct frame {
		bool object, want_key;
		size_t key, key_len; /* the key whose value is being read */
	} st[64];
	int top = -1;

	for (size_t i = 0; i < len; i++) {
		char ch = buf[i];

		if (ch == '{' || ch == '[') {
			if (++top == (int)ELEMENTSOF(st))
				return -ENOENT;
			st[top] = (struct frame){ ch == '{', ch == '{', 0, 0 };
		} else if (ch == '}' || ch == ']') {
			if (top-- < 0)
				return -ENOENT;
		} else if (ch == ',' && top >= 0 && st[top].object) {
			st[top].want_key = true;
		} else if (ch == '"') {
			size_t start = ++i;
			bool match;

			while (i < len && buf[i] != '"')
				i += buf[i] == '\\' ? 2 : 1;
			if (i >= len || top < 0 || !st[top].want_key)
				continue;
			st[top].want_key = false;
			st[top].key = start;
			st[top].key_len = i - start;
			match = (size_t)top + 1 == n_path;
			for (int k = 0; match && k <= top; k++)
				match = strlen(path[k]) == st[k].key_len &&
					memcmp(buf + st[k].key, path[k], st[k].key_len) == 0;
			if (match) {
				*ret = start - 1;
				return 0;
			}
		}
	}
	return -ENOENT;
}

/* Add where the key at path is to err's message: " at line L, column C". */
static int at_key(struct ocitap_error *err, int r, const char *buf, size_t len, const char *a, const char *b,
		  const char *c)
{
	const char *path[3] = { a, b, c };
	size_t n = c ? 3 : b ? 2 : 1, off, used;
	unsigned line, col;

	if (!err || key_offset(buf, len, path, n, &off) < 0)
		return r;
	text_position(buf, len, off, &line, &col);
	used = strlen(err->message);
	snprintf(err->message + used, sizeof(err->message) - used, " at line %u, column %u", line, col);
	return r;
}

/* The keys an object may have: an unknown one is an error naming it (the
 * object's path, a then b, is the caller's to put in err->field). */
static int only_keys(json_object *obj, const char *const *known, const char *expected, const char *buf, size_t len,
		     const char *a, const char *b, struct ocitap_error *err)
{
	json_object_object_foreach (obj, key, val) {
		bool ok = false;

		(void)val;
		for (size_t i = 0; known[i] && !ok; i++)
			ok = strcmp(key, known[i]) == 0;
		if (ok)
			continue;
		ocitap_error_set(err, -EINVAL, NULL, "unknown key \"%s\" (expected %s)", key, expected);
		at_key(err, 0, buf, len, a ? a : key, a ? (b ? b : key) : NULL, a && b ? key : NULL);
		return err ? err->code : -EINVAL;
	}
	return 0;
}

/* A JSON syntax error "... at byte N ..." also says the line and column. */
static int syntax_position(struct ocitap_error *err, int r, const char *buf, size_t len)
{
	const char *at = err ? strstr(err->message, "byte ") : NULL;
	char tail[OCITAP_ERROR_MESSAGE_MAX];
	unsigned long long off;
	unsigned line, col;
	int used;

	if (err && !at && strstr(err->message, "ends in the middle")) {
		text_position(buf, len, len, &line, &col);
		used = (int)strlen(err->message);
		snprintf(err->message + used, sizeof(err->message) - (size_t)used, ", at line %u, column %u", line,
			 col);
		return r;
	}
	if (!at || sscanf(at, "byte %llu%n", &off, &used) != 1)
		return r;
	snprintf(tail, sizeof(tail), "%s", at + used);
	text_position(buf, len, (size_t)off, &line, &col);
	snprintf(err->message + (at - err->message), sizeof(err->message) - (size_t)(at - err->message),
		 "line %u, column %u (byte %llu)%s", line, col, off, tail);
	return r;
}

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

/* The position of syscalls.sc of policy name (a path of four keys). */
static void syscall_position(struct ocitap_error *err, const char *buf, size_t len, const char *name, const char *sc)
{
	const char *path[4] = { "policies", name, "syscalls", sc };
	size_t off, used;
	unsigned line, col;

	if (!err || key_offset(buf, len, path, 4, &off) < 0)
		return;
	text_position(buf, len, off, &line, &col);
	used = strlen(err->message);
	snprintf(err->message + used, sizeof(err->message) - used, " at line %u, column %u", line, col);
}

static int parse_policy(const char *name, json_object *obj, const struct ocitap_limits *lim, struct ocitap_policy *p,
			const char *buf, size_t len, struct ocitap_error *err)
{
	static const char *const keys[] = { "default", "syscalls", "comment", NULL };
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
		return at_key(err, r, buf, len, "policies", name, NULL);
	r = only_keys(obj, keys, "default, syscalls or comment", buf, len, "policies", name, err);
	if (r < 0)
		return r;
	r = ocitap_json_get_string(obj, "default", false, lim, &fallback, err);
	if (r < 0)
		return at_key(err, r, buf, len, "policies", name, "default");
	p->fallback = (struct ocitap_action){ OCITAP_ACTION_CONTINUE, 0 };
	if (fallback) {
		r = ocitap_action_parse(fallback, &p->fallback, err);
		if (r < 0) {
			at_key(err, r, buf, len, "policies", name, "default");
			return ocitap_error_nest(err, "default");
		}
	}
	if (!json_object_object_get_ex(obj, "syscalls", &syscalls) || !syscalls)
		return 0;
	if (!json_object_is_type(syscalls, json_type_object))
		return at_key(err, ocitap_json_wrong_type(err, "syscalls", "an object of syscall: action", syscalls),
			      buf, len, "policies", name, "syscalls");
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
			syscall_position(err, buf, len, name, sc);
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
			syscall_position(err, buf, len, name, sc);
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
		static const char *const keys[] = { "policies", "comment", NULL };

		r = ocitap_json_parse_object(buf, len, lim, "a policy file", &root, err);
		if (r < 0)
			return syntax_position(err, r, buf, len);
		r = only_keys(root, keys, "policies or comment", buf, len, NULL, NULL, err);
		if (r < 0)
			return r;
		if (json_object_object_get_ex(root, "policies", &policies) && policies) {
			if (!json_object_is_type(policies, json_type_object))
				return at_key(err, ocitap_json_wrong_type(err, "policies", "an object", policies), buf,
					      len, "policies", NULL, NULL);
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
				at_key(err,
				       ocitap_error_set(err, -EEXIST, name,
							"a policy of that name is built in or already defined"),
				       buf, len, "policies", name, NULL);
				ocitap_policy_set_free(set);
				return ocitap_error_nest(err, "policies");
			}
			r = parse_policy(name, obj, lim, &set->policies[set->n], buf, len, err);
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

const struct ocitap_policy *ocitap_policy_set_get(const struct ocitap_policy_set *set, size_t i)
{
	return i < set->n ? &set->policies[i] : NULL;
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
