/*
 * event-json.h: a store event as JSON, one shape for every reader: the
 * HTTP API (/v1/events, the timeline, the event stream), the webhook push
 * and `ocitap events` reading the store directly.
 */
#ifndef OCITAP_EVENT_JSON_H
#define OCITAP_EVENT_JSON_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "ocitap.h"

/* {"seq", "container", "kind", "from", "to", "source", "time", "wallNs",
 * "monoNs", and "exitCode"/"signal" when known, "oomKilled" when true}.
 * The caller owns the object. */
struct json_object *event_json(const struct ocitap_event *ev);

/* RFC 3339 in UTC with nanoseconds ("2026-11-23T03:41:37.840161011Z"); an
 * empty string for a time not set (<= 0). */
void format_time(int64_t wall_ns, char *buf, size_t size);

#endif
