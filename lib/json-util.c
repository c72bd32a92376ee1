/*
 * json-util.c: bounded tokenizing and typed, checked access to json-c values.
 *
 * json-c's getters never fail on a wrong type (they coerce), so every access
 * here tests the type first and reports the key by name.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-util.h"
#include "macro.h"

struct jpool *ocitap_jpool_new(void)
{
	struct jpool *pool = malloc(sizeof(*pool));

	if (!pool)
		return NULL;
	pool->root = NULL;
	pool->n = 0;
	pool->cap = ELEMENTSOF(pool->inline_ptrs);
	pool->ptrs = pool->inline_ptrs;
	return pool;
}

void *ocitap_jpool_calloc(struct jpool *pool, size_t n, size_t size)
{
	void *p;

	if (pool->n == pool->cap) {
		size_t ncap = pool->cap * 2;
		void **nptrs = malloc(ncap * sizeof(void *));

		if (!nptrs)
			return NULL;
		memcpy(nptrs, pool->ptrs, pool->n * sizeof(void *));
		if (pool->ptrs != pool->inline_ptrs)
			free(pool->ptrs);
		pool->ptrs = nptrs;
		pool->cap = ncap;
	}
	p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		return NULL;
	pool->ptrs[pool->n++] = p;
	return p;
}

void ocitap_jpool_free(struct jpool *pool)
{
	if (!pool)
		return;
	for (size_t i = 0; i < pool->n; i++)
		free(pool->ptrs[i]);
	if (pool->ptrs != pool->inline_ptrs)
		free(pool->ptrs);
	if (pool->root)
		json_object_put(pool->root);
	free(pool);
}

static bool only_space(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r')
			return false;
	return true;
}

int ocitap_json_parse_bounded(const char *buf, size_t len, const struct ocitap_limits *lim, json_object **ret,
			      struct ocitap_error *err)
{
	json_tokener *tok;
	json_object *obj;
	enum json_tokener_error jerr;
	size_t end;

	if (len > lim->max_bytes)
		return ocitap_error_set(err, -EMSGSIZE, NULL, "message is %zu bytes, more than the limit of %zu bytes",
					len, lim->max_bytes);
	if (len > INT32_MAX)
		return ocitap_error_set(err, -EMSGSIZE, NULL, "message is too large for the JSON parser");
	if (only_space(buf, len))
		return ocitap_error_set(err, -ENODATA, NULL, "empty input: expected a JSON object");

	tok = json_tokener_new_ex(lim->max_depth);
	if (!tok)
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);

	if (!obj && jerr != json_tokener_success) { /* success without an object: the literal null */
		if (jerr == json_tokener_continue)
			return ocitap_error_set(err, -EBADMSG, NULL,
						"invalid JSON: input ends in the middle of a value (%zu bytes)", len);
		if (jerr == json_tokener_error_depth)
			return ocitap_error_set(err, -E2BIG, NULL,
						"invalid JSON: nested deeper than the limit of %d levels",
						lim->max_depth);
		return ocitap_error_set(err, -EBADMSG, NULL, "invalid JSON at byte %zu: %s", end,
					json_tokener_error_desc(jerr));
	}
	if (end < len && !only_space(buf + end, len - end)) {
		json_object_put(obj);
		return ocitap_error_set(err, -EBADMSG, NULL,
					"invalid JSON: unexpected data after the value at byte %zu", end);
	}
	*ret = obj;
	return 0;
}

int ocitap_json_parse_object(const char *buf, size_t len, const struct ocitap_limits *lim, const char *what,
			     json_object **ret, struct ocitap_error *err)
{
	_cleanup_(json_object_putp) json_object *root = NULL;
	struct ocitap_limits dflt;
	int r;

	if (!lim) {
		ocitap_limits_init(&dflt);
		lim = &dflt;
	}
	r = ocitap_json_parse_bounded(buf, len, lim, &root, err);
	if (r < 0)
		return r;
	r = ocitap_json_expect_object(root, NULL, err);
	if (r < 0)
		return ocitap_error_prefix(err, "%s must be a JSON object", what);
	*ret = TAKE_PTR(root);
	return 0;
}

int ocitap_json_parse_pool(const char *buf, size_t len, const struct ocitap_limits *lim, const char *what,
			   struct jpool **ret_pool, struct ocitap_error *err)
{
	_cleanup_(jpool_freep) struct jpool *pool = ocitap_jpool_new();
	int r;

	if (!pool)
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	r = ocitap_json_parse_object(buf, len, lim, what, &pool->root, err);
	if (r < 0)
		return r;
	*ret_pool = TAKE_PTR(pool);
	return 0;
}

const char *ocitap_json_type_word(json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return "a boolean";
	case json_type_double:
		return "a fractional number";
	case json_type_int:
		return "an integer";
	case json_type_string:
		return "a string";
	case json_type_array:
		return "an array";
	case json_type_object:
		return "an object";
	}
	return "an unknown type";
}

int ocitap_json_wrong_type(struct ocitap_error *err, const char *field, const char *expected, json_object *got)
{
	return ocitap_error_set(err, -EINVAL, field, "expected %s, got %s", expected, ocitap_json_type_word(got));
}

int ocitap_json_expect_object(json_object *o, const char *field, struct ocitap_error *err)
{
	if (!json_object_is_type(o, json_type_object))
		return ocitap_json_wrong_type(err, field, "an object", o);
	return 0;
}

int ocitap_json_string_value(json_object *o, const char *field, const struct ocitap_limits *lim, const char **ret,
			     struct ocitap_error *err)
{
	const char *s;
	size_t n;

	if (!json_object_is_type(o, json_type_string))
		return ocitap_json_wrong_type(err, field, "a string", o);
	s = json_object_get_string(o);
	n = (size_t)json_object_get_string_len(o);
	if (n > lim->max_string)
		return ocitap_error_set(err, -E2BIG, field, "string is %zu bytes, more than the limit of %zu bytes", n,
					lim->max_string);
	if (memchr(s, '\0', n))
		return ocitap_error_set(err, -EINVAL, field, "string contains a NUL character");
	*ret = s;
	return 0;
}

/* Member lookup treating JSON null like absence. */
static json_object *member(json_object *obj, const char *key)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(obj, key, &v))
		return NULL;
	return v; /* NULL for JSON null */
}

int ocitap_json_get_string(json_object *obj, const char *key, bool required, const struct ocitap_limits *lim,
			   const char **ret, struct ocitap_error *err)
{
	json_object *v = member(obj, key);

	if (!v) {
		if (required)
			return ocitap_error_set(err, -EINVAL, key, "missing");
		*ret = NULL;
		return 0;
	}
	return ocitap_json_string_value(v, key, lim, ret, err);
}

int ocitap_json_get_int(json_object *obj, const char *key, int64_t min, int64_t max, bool *ret_present, int64_t *ret,
			struct ocitap_error *err)
{
	json_object *v = member(obj, key);
	int64_t x;

	if (!v) {
		*ret_present = false;
		*ret = 0;
		return 0;
	}
	if (!json_object_is_type(v, json_type_int))
		return ocitap_json_wrong_type(err, key, "an integer", v);
	x = json_object_get_int64(v);
	if (x < min) {
		if (min == 0 && x < 0)
			return ocitap_error_set(err, -ERANGE, key, "must not be negative (got %" PRId64 ")", x);
		return ocitap_error_set(err, -ERANGE, key, "must be at least %" PRId64 " (got %" PRId64 ")", min, x);
	}
	if (x == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX)
		return ocitap_error_set(err, -ERANGE, key, "out of range: at most %" PRId64 " (got a number over 2^63)",
					max);
	if (x > max)
		return ocitap_error_set(err, -ERANGE, key, "out of range: at most %" PRId64 " (got %" PRId64 ")", max,
					x);
	*ret_present = true;
	*ret = x;
	return 0;
}

int ocitap_json_get_bool(json_object *obj, const char *key, bool *ret_present, bool *ret, struct ocitap_error *err)
{
	json_object *v = member(obj, key);

	if (!v) {
		*ret_present = false;
		*ret = false;
		return 0;
	}
	if (!json_object_is_type(v, json_type_boolean))
		return ocitap_json_wrong_type(err, key, "a boolean", v);
	*ret_present = true;
	*ret = json_object_get_boolean(v);
	return 0;
}

int ocitap_json_get_string_array(json_object *obj, const char *key, bool required, const struct ocitap_limits *lim,
				 struct jpool *pool, const char *const **ret, size_t *ret_n, struct ocitap_error *err)
{
	json_object *v = member(obj, key);
	const char **vec;
	size_t n;

	if (!v) {
		if (required)
			return ocitap_error_set(err, -EINVAL, key, "missing");
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	if (!json_object_is_type(v, json_type_array))
		return ocitap_json_wrong_type(err, key, "an array of strings", v);
	n = json_object_array_length(v);
	if (n > lim->max_items)
		return ocitap_error_set(err, -E2BIG, key, "%zu entries, more than the limit of %zu", n, lim->max_items);
	vec = ocitap_jpool_calloc(pool, n + 1, sizeof(char *));
	if (!vec)
		return ocitap_error_set(err, -ENOMEM, key, "out of memory");
	for (size_t i = 0; i < n; i++) {
		int r = ocitap_json_string_value(json_object_array_get_idx(v, i), NULL, lim, &vec[i], err);

		if (r < 0) {
			char idx[32];

			snprintf(idx, sizeof(idx), "[%zu]", i);
			ocitap_error_nest(err, idx);
			return ocitap_error_nest(err, key);
		}
	}
	*ret = vec;
	*ret_n = n;
	return 0;
}

int ocitap_json_get_annotations(json_object *obj, const char *key, bool strict, const struct ocitap_limits *lim,
				struct jpool *pool, bool *ret_present, const struct ocitap_annotation **ret,
				size_t *ret_n, struct ocitap_error *err)
{
	json_object *v = member(obj, key);
	struct ocitap_annotation *vec;
	size_t n, i = 0;

	if (!v) {
		*ret_present = false;
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	if (!json_object_is_type(v, json_type_object))
		return ocitap_json_wrong_type(err, key, "an object of strings", v);
	n = (size_t)json_object_object_length(v);
	if (n > lim->max_annotations)
		return ocitap_error_set(err, -E2BIG, key, "%zu entries, more than the limit of %zu", n,
					lim->max_annotations);
	vec = ocitap_jpool_calloc(pool, n + 1, sizeof(*vec));
	if (!vec)
		return ocitap_error_set(err, -ENOMEM, key, "out of memory");
	json_object_object_foreach (v, k, val) {
		size_t klen = strlen(k);
		int r;

		if (klen > lim->max_string)
			return ocitap_error_set(err, -E2BIG, key,
						"a key is %zu bytes, more than the limit of %zu bytes", klen,
						lim->max_string);
		if (strict && klen == 0)
			return ocitap_error_set(err, -EINVAL, key, "keys must not be empty");
		if (!val)
			return ocitap_error_set(err, -EINVAL, key, "value of \"%s\" is null, expected a string", k);
		r = ocitap_json_string_value(val, k, lim, &vec[i].value, err);
		if (r < 0)
			return ocitap_error_nest(err, key);
		vec[i].key = k;
		i++;
	}
	*ret_present = true;
	*ret = vec;
	*ret_n = i;
	return 0;
}

int ocitap_json_add_string(json_object *obj, const char *key, const char *value)
{
	json_object *s;

	if (!value)
		return 0;
	s = json_object_new_string(value);
	if (!s)
		return -ENOMEM;
	if (json_object_object_add(obj, key, s) < 0) {
		json_object_put(s);
		return -ENOMEM;
	}
	return 0;
}
