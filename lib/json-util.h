/*
 * json-util.h: internal helpers for the parsers of libocitap (state.c,
 * bundle.c, policy.c, report.c, profile.c, runtime.c; never installed, never
 * exported). JSON stays inside the parsers: these
 * turn json-c objects into checked C values and name the key that was wrong.
 */
#ifndef OCITAP_JSON_UTIL_H
#define OCITAP_JSON_UTIL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "state.h"

/*
 * What a parsed struct owns: the json-c tree its strings point into, and the
 * arrays allocated for it. Strings are borrowed from the tree (no copies), so
 * a parse costs little more than json-c's own tokenizing.
 */
struct jpool {
	json_object *root;
	size_t n, cap;
	void **ptrs;	      /* inline_ptrs until more are needed */
	void *inline_ptrs[4]; /* a State needs 1, a ContainerProcessState 2 */
};

struct jpool *ocitap_jpool_new(void);
/* Zeroed memory for n elements of size bytes, freed with the pool; NULL if out of memory. */
void *ocitap_jpool_calloc(struct jpool *pool, size_t n, size_t size);
void ocitap_jpool_free(struct jpool *pool);

static inline void jpool_freep(struct jpool **p)
{
	ocitap_jpool_free(*p);
}

static inline void json_object_putp(json_object **o)
{
	if (*o)
		json_object_put(*o);
}

/*
 * Tokenize exactly len bytes into one JSON value, within lim (size, depth,
 * strict syntax, valid UTF-8, nothing but white space after the value).
 * JSON null is *ret NULL (json-c's null), which every type test refuses.
 */
int ocitap_json_parse_bounded(const char *buf, size_t len, const struct ocitap_limits *lim, json_object **ret,
			      struct ocitap_error *err);

/*
 * Every parser's prologue: ocitap_json_parse_bounded() within lim (NULL: the
 * defaults), then the value must be an object, else -EINVAL "WHAT must be a
 * JSON object: expected an object, got an array" (what: "a hook report").
 * *ret is the caller's (json_object_put). Syntax errors name the byte.
 */
int ocitap_json_parse_object(const char *buf, size_t len, const struct ocitap_limits *lim, const char *what,
			     json_object **ret, struct ocitap_error *err);

/*
 * The same into a new pool: (*ret_pool)->root is the object, and the strings a
 * parser borrows from it live as long as the pool. *ret_pool is set only on
 * success (ocitap_jpool_free).
 */
int ocitap_json_parse_pool(const char *buf, size_t len, const struct ocitap_limits *lim, const char *what,
			   struct jpool **ret_pool, struct ocitap_error *err);

/* "a string", "a number", ... for messages. */
const char *ocitap_json_type_word(json_object *o);

/* -EINVAL naming what was expected and what came instead. */
int ocitap_json_wrong_type(struct ocitap_error *err, const char *field, const char *expected, json_object *got);

/* Require an object (field names it in the error). */
int ocitap_json_expect_object(json_object *o, const char *field, struct ocitap_error *err);

/* A string value: type, bound on length, no NUL byte inside. */
int ocitap_json_string_value(json_object *o, const char *field, const struct ocitap_limits *lim, const char **ret,
			     struct ocitap_error *err);

/*
 * Member key of obj as a string. Absent (or JSON null) gives *ret = NULL and
 * returns 0 unless required (then -EINVAL "missing").
 */
int ocitap_json_get_string(json_object *obj, const char *key, bool required, const struct ocitap_limits *lim,
			   const char **ret, struct ocitap_error *err);

/* Member key of obj as an integer within [min, max]; *ret_present says whether it was there. */
int ocitap_json_get_int(json_object *obj, const char *key, int64_t min, int64_t max, bool *ret_present, int64_t *ret,
			struct ocitap_error *err);

/* Member key of obj as a boolean (absent: *ret_present false). */
int ocitap_json_get_bool(json_object *obj, const char *key, bool *ret_present, bool *ret, struct ocitap_error *err);

/*
 * Member key as an array of strings, copied into a pool-owned vector of
 * borrowed pointers (NULL-terminated). Absent: *ret NULL, *ret_n 0.
 */
int ocitap_json_get_string_array(json_object *obj, const char *key, bool required, const struct ocitap_limits *lim,
				 struct jpool *pool, const char *const **ret, size_t *ret_n, struct ocitap_error *err);

/* An "annotations"-style object: string values only, at most lim->max_annotations. */
int ocitap_json_get_annotations(json_object *obj, const char *key, bool strict, const struct ocitap_limits *lim,
				struct jpool *pool, bool *ret_present, const struct ocitap_annotation **ret,
				size_t *ret_n, struct ocitap_error *err);

/* The State to and from a json-c object (state.c), for messages that embed one. */
int ocitap_state_from_json(json_object *obj, unsigned flags, const struct ocitap_limits *lim, struct jpool *pool,
			   struct ocitap_state *st, struct ocitap_error *err);
json_object *ocitap_state_to_object(const struct ocitap_state *st);

/* Build helpers for serializers: add key only when value is non-NULL. */
int ocitap_json_add_string(json_object *obj, const char *key, const char *value);

#endif
