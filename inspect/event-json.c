/*
 * event-json.c: see event-json.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "event-json.h"

void format_time(int64_t wall_ns, char *buf, size_t size)
{
	time_t s = (time_t)(wall_ns / 1000000000);
	struct tm tm;

	if (wall_ns <= 0 || !gmtime_r(&s, &tm)) {
		snprintf(buf, size, "%s", "");
		return;
	}
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%09" PRId64 "Z", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, wall_ns % 1000000000);
}

struct json_object *event_json(const struct ocitap_event *ev)
{
	struct json_object *o = json_object_new_object();
	char when[64];

	format_time(ev->wall_ns, when, sizeof(when));
	json_object_object_add(o, "seq", json_object_new_int64(ev->seq));
	json_object_object_add(o, "container", json_object_new_string(ev->container_id ? ev->container_id : ""));
	json_object_object_add(o, "kind", json_object_new_string(ev->kind ? ev->kind : ""));
	json_object_object_add(o, "from", json_object_new_string(ocitap_phase_to_string(ev->from)));
	json_object_object_add(o, "to", json_object_new_string(ocitap_phase_to_string(ev->to)));
	if (ev->source)
		json_object_object_add(o, "source", json_object_new_string(ev->source));
	json_object_object_add(o, "time", when[0] ? json_object_new_string(when) : NULL);
	json_object_object_add(o, "wallNs", json_object_new_int64(ev->wall_ns));
	json_object_object_add(o, "monoNs", json_object_new_int64(ev->mono_ns));
	if (ev->has_exit) {
		json_object_object_add(o, "exitCode", json_object_new_int(ev->exit_code));
		json_object_object_add(o, "signal", json_object_new_int(ev->signal));
	}
	if (ev->oom)
		json_object_object_add(o, "oomKilled", json_object_new_boolean(true));
	return o;
}
