/*
 * event-json.h: a store event as JSON, one shape for every reader: the
 * HTTP API (/v1/events, the timeline, the event stream), the webhook push
 * and `ocitap events` reading the store directly; containers as the API
 * shows them, for the daemon and for the CLI reading the store itself.
 */
#ifndef OCITAP_EVENT_JSON_H
#define OCITAP_EVENT_JSON_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h" /* ocitap_time_format(), which these use */
#include "store.h"

/* {"seq", "container", "kind", "from", "to", "source", "time", "wallNs",
 * "monoNs", and "exitCode"/"signal" when known, "oomKilled" when true}.
 * The caller owns the object. */
struct json_object *ocitap_event_json(const struct ocitap_event *ev);

/* {"id", "status" (a phase, or "failed": stopped before its program
 * started), "pid", "bundle", "annotations", "created", "updated", "error"
 * (why it failed, else null), "exit" (null when failed), "notifyFds" (null when notify_fds < 0: not known), and
 * "lastEvent" (an event without "container"; read from store when given)}:
 * a container as GET /v1/containers shows it. The caller owns the object. */
struct json_object *ocitap_container_json(const struct ocitap_store_container *c, struct ocitap_store *store,
					  int notify_fds);

/* A container with its "timeline" (every event, transitions with
 * "sincePreviousSeconds") and "notifications" ([{syscall, action, count}]):
 * GET /v1/containers/ID. -ENOENT when the store does not know id. */
int ocitap_container_detail_json(struct ocitap_store *store, const char *id, int notify_fds, struct json_object **ret,
				 struct ocitap_error *err);

#endif
