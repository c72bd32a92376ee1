/*
 * push.h: every event POSTed to each --push URL in the --push-format
 * (CloudEvents, batched or one per request, or plain JSON records in an
 * array or one per line), from the store, with a cursor per URL kept in the
 * store: at least once, in order, retried with backoff (longer when the
 * receiver refuses with a 4xx), on its own thread (push.c). One struct
 * pusher per daemon; nothing in push.c is file-level state.
 */
#ifndef OCITAPD_PUSH_H
#define OCITAPD_PUSH_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "writer.h"

struct json_object;

/* What a POST carries (--push-format); docs/ocitapd.8.scd, PUSH. */
enum push_format {
	PUSH_CLOUDEVENTS_BATCH, /* the default: a JSON array of CloudEvents, application/cloudevents-batch+json */
	PUSH_CLOUDEVENTS,	/* one structured CloudEvent per request, application/cloudevents+json */
	PUSH_JSON,		/* a JSON array of records, application/json (Fluent Bit, fluentd) */
	PUSH_NDJSON,		/* one record per line, application/x-ndjson */
	PUSH_FORMAT_COUNT
};

#define PUSH_FORMATS_ALLOWED "cloudevents-batch (the default), cloudevents, json or ndjson"

/* The --push-format name of f ("?" out of range). */
static inline const char *push_format_name(enum push_format f)
{
	static const char *const names[] = { [PUSH_CLOUDEVENTS_BATCH] = "cloudevents-batch",
					     [PUSH_CLOUDEVENTS] = "cloudevents",
					     [PUSH_JSON] = "json",
					     [PUSH_NDJSON] = "ndjson" };

	return (unsigned)f < PUSH_FORMAT_COUNT ? names[f] : "?";
}

struct push_config {
	const char *const *urls;
	size_t n_urls;
	const char *token_file; /* NULL: no Authorization header */
	const char *ca_file;	/* NULL: the system's CAs */
	const char *db_path;
	struct writer *writer; /* cursors are written through it */
	int64_t max_backlog;   /* events a receiver may fall behind before the oldest are skipped */
	enum push_format format;
};

/* The push thread and its receivers (push.c). */
struct pusher;

/*
 * Check the URLs and files of cfg, read each receiver's cursor from the
 * store at cfg->db_path and start the push thread: *ret is the caller's
 * until push_stop(). cfg (and what it points to) must stay valid until
 * then. -errno with err filled (a message naming the flag) when it cannot;
 * *ret is then untouched.
 */
int push_start(const struct push_config *cfg, struct pusher **ret, struct ocitap_error *err);
/* Events were committed: send them. Any thread. */
void push_wake(struct pusher *p);
/*
 * The receivers as /healthz shows them, a new object the caller owns:
 * {"ok": BOOL, "format": NAME, "receivers": [{"receiver", "ok",
 * "delivered" (the cursor), "backlog", "rejected" (4xx answers since the
 * start), and while failing "error" (what the receiver or libcurl said),
 * "lastStatus" (its HTTP status, null without an answer) and
 * "retryInSeconds"}]}. p NULL (no --push): {"ok": true, "receivers": []}.
 * Any thread.
 */
struct json_object *push_health_json(struct pusher *p);
/* Stop the thread (a transfer in flight is cut short), queue nothing more,
 * and free p. The writer must still run: the last cursors go through it.
 * NULL is ignored. */
void push_stop(struct pusher *p);

#endif
