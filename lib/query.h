/*
 * query.h: the query arguments of ocitapd's HTTP API, checked in one place
 * and without a server library (so that they can be unit-tested and
 * fuzzed). The server hands over each argument already percent-decoded;
 * ocitap_query_parse_string() decodes a raw query string itself.
 *
 *   /v1/containers      status=PHASE|failed, annotation=KEY[=VALUE] (repeatable, at most 16: all must match),
 *                       name=, pod=, namespace=, manager= (each equal to the container's, names.h)
 *                       limit=N (1..10000; none: every container), after=CURSOR (the "next" of the
 *                       page before, or a container id: the containers created after it)
 *   /v1/containers/ID   run=N (1..: that run instead of the latest)
 *   /v1/events          since=SEQ (0..; after=SEQ the same), limit=N (1..10000, default 1000), id=ID,
 *                       run=N (with id)
 *   /v1/events/stream   since=SEQ, or the Last-Event-ID header
 *
 * The first occurrence of a non-repeatable argument counts; unknown
 * arguments are ignored.
 */
#ifndef OCITAP_QUERY_H
#define OCITAP_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "lifecycle.h"
#include "state.h"

#define OCITAP_QUERY_MAX_ANNOTATIONS 16
#define OCITAP_QUERY_DEFAULT_LIMIT   1000
#define OCITAP_QUERY_MAX_LIMIT	     10000
#define OCITAP_QUERY_ID_MAX	     OCITAP_ID_MAX

struct ocitap_query {
	bool has_status;
	enum ocitap_phase status;
	bool status_failed; /* status=failed: stopped before its program started (status is STOPPED) */
	size_t n_annotations;
	char *ann_key[OCITAP_QUERY_MAX_ANNOTATIONS];
	char *ann_value[OCITAP_QUERY_MAX_ANNOTATIONS]; /* NULL: the key must be present */
	bool has_since;
	int64_t since;
	bool has_limit;
	int64_t limit; /* OCITAP_QUERY_DEFAULT_LIMIT unless given */
	char *id;      /* NULL unless given */
	char *after;   /* /v1/containers' page cursor, NULL unless given */
	int64_t run;   /* 0 unless given */
	/* the names a container must have (names.h), each NULL unless given */
	char *name, *pod, *pod_namespace, *manager;
};

void ocitap_query_init(struct ocitap_query *q);
void ocitap_query_release(struct ocitap_query *q);

/*
 * One decoded argument (value NULL: the key came without '='). 0, or
 * -EINVAL with err naming the argument and what it expects ("status:
 * expected unknown, creating, ..."), or -E2BIG for a 17th annotation.
 */
int ocitap_query_add(struct ocitap_query *q, const char *key, const char *value, struct ocitap_error *err);

/* The Last-Event-ID header: a sequence number (0 or more), stored as since. */
int ocitap_query_last_event_id(struct ocitap_query *q, const char *value, struct ocitap_error *err);

/* A raw query string ("a=1&b=%20x", '+' is a space), len bytes, each
 * argument decoded and added. -EINVAL also for a bad %-escape or a NUL. */
int ocitap_query_parse_string(struct ocitap_query *q, const char *raw, size_t len, struct ocitap_error *err);

/* Does an annotations object (as the store keeps it: JSON text, may be
 * NULL) match every annotation filter? */
bool ocitap_query_annotations_match(const struct ocitap_query *q, const char *annotations_json);

/* Does a container with these names (each NULL: not known) match every
 * name filter? An unknown name matches no filter of it. */
bool ocitap_query_names_match(const struct ocitap_query *q, const char *name, const char *pod,
			      const char *pod_namespace, const char *manager);

#endif
