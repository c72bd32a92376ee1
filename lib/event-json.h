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

/* {"seq", "container", "run", "kind", "from", "to", "source", "time", "wallNs",
 * "monoNs", and "exitCode"/"signal" when known, "oomKilled" when true}.
 * The caller owns the object. */
struct json_object *ocitap_event_json(const struct ocitap_event *ev);

/* {"id", "run" (which run of id: from 1), "runs" (how many the store
 * holds), "name", "pod", "namespace", "manager" (names.h; each null when
 * not known), "owner" (the uid that began the run; null: not known), "status"
 * (a phase, or "failed": stopped before its program started), "pid",
 * "bundle", "annotations", "created", "updated", "error" (why it failed,
 * else null), "exit" (null when failed), "notifyFds" (null when notify_fds
 * < 0: not known), "profile" (what became of the syscall profile its
 * io.containers.trace-syscall annotation asked for: {"status":
 * pending|written|refused|failed, "path", "error"}, or null) and
 * "lastEvent" (an event without "container"; read from store when given)}:
 * a container as GET /v1/containers shows it. The caller owns the object. */
struct json_object *ocitap_container_json(const struct ocitap_store_container *c, struct ocitap_store *store,
					  int notify_fds);

/* One run of a container (the latest when run is 0) with its "init" (the
 * kernel facts it is bound to: {pid, startTicks, mntNs, pidNs, cgroup}, or
 * null), "timeline" (its events, transitions with "sincePreviousSeconds")
 * and "notifications" ([{syscall, action, count}]): GET /v1/containers/ID.
 * notify_fds counts for the latest run only. -ENOENT when the store does
 * not know id (or that run of it). */
int ocitap_container_detail_json(struct ocitap_store *store, const char *id, int64_t run, int notify_fds,
				 struct json_object **ret, struct ocitap_error *err);

/* {"id", "runs": [every run of id, oldest first, as ocitap_container_json()
 * shows it, with "init"]}: GET /v1/containers/ID/runs. -ENOENT when the
 * store does not know id. */
int ocitap_container_runs_json(struct ocitap_store *store, const char *id, int notify_fds, struct json_object **ret,
			       struct ocitap_error *err);

#endif
