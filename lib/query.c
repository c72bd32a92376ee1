/*
 * query.c: the HTTP API's query arguments (query.h).
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "number.h"
#include "query.h"

void ocitap_query_init(struct ocitap_query *q)
{
	*q = (struct ocitap_query){ .limit = OCITAP_QUERY_DEFAULT_LIMIT };
}

void ocitap_query_release(struct ocitap_query *q)
{
	for (size_t i = 0; i < q->n_annotations; i++) {
		free(q->ann_key[i]);
		free(q->ann_value[i]);
	}
	free(q->id);
	free(q->after);
	free(q->name);
	free(q->pod);
	free(q->pod_namespace);
	free(q->manager);
	ocitap_query_init(q);
}

/* name=, pod=, namespace=, manager=: the first counts; 1 to OCITAP_NAME_MAX bytes. */
static int add_name(char **slot, const char *key, const char *value, struct ocitap_error *err)
{
	if (*slot)
		return 0;
	if (!value || !*value || strlen(value) > OCITAP_NAME_MAX)
		return ocitap_error_set(err, -EINVAL, key, "expected 1 to %d bytes", OCITAP_NAME_MAX);
	*slot = strdup(value);
	return *slot ? 0 : -ENOMEM;
}

int ocitap_query_add(struct ocitap_query *q, const char *key, const char *value, struct ocitap_error *err)
{
	if (strcmp(key, "status") == 0) {
		if (q->has_status)
			return 0;
		for (int p = OCITAP_PHASE_UNKNOWN; value && p < OCITAP_PHASE_COUNT; p++)
			if (strcmp(value, ocitap_phase_to_string(p)) == 0) {
				q->has_status = true;
				q->status = p;
				return 0;
			}
		if (value && strcmp(value, "failed") == 0) {
			q->has_status = q->status_failed = true;
			q->status = OCITAP_PHASE_STOPPED;
			return 0;
		}
		return ocitap_error_set(err, -EINVAL, "status",
					"expected unknown, creating, created, running, stopped or failed");
	}
	if (strcmp(key, "annotation") == 0) {
		const char *eq;
		size_t i = q->n_annotations;

		if (!value || !*value || *value == '=')
			return ocitap_error_set(err, -EINVAL, "annotation", "expected KEY or KEY=VALUE");
		if (i == OCITAP_QUERY_MAX_ANNOTATIONS)
			return ocitap_error_set(err, -E2BIG, "annotation", "at most %d filters",
						OCITAP_QUERY_MAX_ANNOTATIONS);
		eq = strchr(value, '=');
		q->ann_key[i] = eq ? strndup(value, (size_t)(eq - value)) : strdup(value);
		q->ann_value[i] = eq ? strdup(eq + 1) : NULL;
		if (!q->ann_key[i] || (eq && !q->ann_value[i])) {
			free(q->ann_key[i]);
			free(q->ann_value[i]);
			return -ENOMEM;
		}
		q->n_annotations++;
		return 0;
	}
	if (strcmp(key, "after") == 0) {
		if (q->after)
			return 0;
		if (!value || !*value || strlen(value) > OCITAP_QUERY_ID_MAX + 24)
			return ocitap_error_set(err, -EINVAL, "after",
						"expected the \"next\" of a page or a container id");
		/* a number is also /v1/events' since= */
		if (!q->has_since && ocitap_parse_int64(value, 0, INT64_MAX, &q->since) == 0)
			q->has_since = true;
		q->after = strdup(value);
		return q->after ? 0 : -ENOMEM;
	}
	if (strcmp(key, "since") == 0) {
		if (q->has_since)
			return 0;
		if (ocitap_parse_int64(value, 0, INT64_MAX, &q->since) < 0)
			return ocitap_error_set(err, -EINVAL, "since", "expected a sequence number (0 or more)");
		q->has_since = true;
		return 0;
	}
	if (strcmp(key, "limit") == 0) {
		if (q->has_limit)
			return 0;
		if (ocitap_parse_int64(value, 1, OCITAP_QUERY_MAX_LIMIT, &q->limit) < 0)
			return ocitap_error_set(err, -EINVAL, "limit", "expected 1 to %d", OCITAP_QUERY_MAX_LIMIT);
		q->has_limit = true;
		return 0;
	}
	if (strcmp(key, "run") == 0) {
		if (q->run)
			return 0;
		if (ocitap_parse_int64(value, 1, INT64_MAX, &q->run) < 0)
			return ocitap_error_set(err, -EINVAL, "run", "expected a run number (1 or more)");
		return 0;
	}
	if (strcmp(key, "name") == 0)
		return add_name(&q->name, key, value, err);
	if (strcmp(key, "pod") == 0)
		return add_name(&q->pod, key, value, err);
	if (strcmp(key, "namespace") == 0)
		return add_name(&q->pod_namespace, key, value, err);
	if (strcmp(key, "manager") == 0)
		return add_name(&q->manager, key, value, err);
	if (strcmp(key, "id") == 0) {
		if (q->id)
			return 0;
		if (!value || !*value || strlen(value) > OCITAP_QUERY_ID_MAX)
			return ocitap_error_set(err, -EINVAL, "id", "expected 1 to %d bytes", OCITAP_QUERY_ID_MAX);
		q->id = strdup(value);
		return q->id ? 0 : -ENOMEM;
	}
	return 0;
}

int ocitap_query_last_event_id(struct ocitap_query *q, const char *value, struct ocitap_error *err)
{
	if (ocitap_parse_int64(value, 0, INT64_MAX, &q->since) < 0)
		return ocitap_error_set(err, -EINVAL, "Last-Event-ID", "expected a sequence number");
	q->has_since = true;
	return 0;
}

/* Decode [s, s + n) into a new string; NULL with *bad set on a bad escape or a NUL. */
static char *decode(const char *s, size_t n, bool *bad)
{
	char *out = malloc(n + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi = i + 2 < n ? ocitap_hex_digit(s[i + 1]) : -1;
			int lo = i + 2 < n ? ocitap_hex_digit(s[i + 2]) : -1;

			if (hi < 0 || lo < 0) {
				*bad = true;
				free(out);
				return NULL;
			}
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (c == '\0') {
			*bad = true;
			free(out);
			return NULL;
		}
		*o++ = c;
	}
	*o = '\0';
	return out;
}

int ocitap_query_parse_string(struct ocitap_query *q, const char *raw, size_t len, struct ocitap_error *err)
{
	const char *p = raw, *end = raw + len;

	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));
		bool bad = false;
		char *key, *value = NULL;
		int r;

		if (stop == p) { /* "&&" */
			p = stop + 1;
			continue;
		}
		key = decode(p, (size_t)((eq ? eq : stop) - p), &bad);
		if (key && eq)
			value = decode(eq + 1, (size_t)(stop - eq - 1), &bad);
		if (!key || (eq && !value)) {
			free(key);
			free(value);
			if (bad)
				return ocitap_error_set(err, -EINVAL, NULL, "bad %%-escape or NUL in the query string");
			return -ENOMEM;
		}
		r = ocitap_query_add(q, key, value, err);
		free(key);
		free(value);
		if (r < 0)
			return r;
		p = amp ? amp + 1 : end;
	}
	return 0;
}

bool ocitap_query_annotations_match(const struct ocitap_query *q, const char *annotations_json)
{
	json_object *ann;
	bool ok = true;

	if (!q->n_annotations)
		return true;
	ann = annotations_json ? json_tokener_parse(annotations_json) : NULL;
	for (size_t i = 0; ok && i < q->n_annotations; i++) {
		json_object *v = NULL;

		if (!json_object_object_get_ex(ann, q->ann_key[i], &v))
			ok = false;
		else if (q->ann_value[i] && strcmp(json_object_get_string(v), q->ann_value[i]) != 0)
			ok = false;
	}
	json_object_put(ann);
	return ok;
}

static bool name_matches(const char *want, const char *have)
{
	return !want || (have && strcmp(want, have) == 0);
}

bool ocitap_query_names_match(const struct ocitap_query *q, const char *name, const char *pod,
			      const char *pod_namespace, const char *manager)
{
	return name_matches(q->name, name) && name_matches(q->pod, pod) &&
	       name_matches(q->pod_namespace, pod_namespace) && name_matches(q->manager, manager);
}
