/*
 * exit-text.c: words for how a run ended and what an event changed, shared
 * by ps, inspect and events so that they say it the same way (and name
 * signals as ocitapd's metrics do).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "exit-text.h"

const char *exit_signal_name(int sig, char *buf, size_t size)
{
	const char *name = sig > 0 ? sigabbrev_np(sig) : NULL;

	if (name)
		snprintf(buf, size, "SIG%s", name);
	else
		snprintf(buf, size, "signal %d", sig);
	return buf;
}

static bool member_int(struct json_object *o, const char *key, int *ret)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*ret = json_object_get_int(v);
	return true;
}

static bool member_true(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_boolean) &&
	       json_object_get_boolean(v);
}

static bool run_ended(const char *status)
{
	return status &&
	       (strcmp(status, "stopped") == 0 || strcmp(status, "failed") == 0 || strcmp(status, "unknown") == 0);
}

const char *exit_column_text(struct json_object *exit, const char *status, const char *error, char *buf, size_t size)
{
	bool oom = json_object_is_type(exit, json_type_object) && member_true(exit, "oomKilled");
	char sig_name[32];
	int code, sig = 0;

	if (json_object_is_type(exit, json_type_object) && member_int(exit, "code", &code)) {
		if (member_int(exit, "signal", &sig) && sig > 0)
			snprintf(buf, size, "killed (%s%s)", exit_signal_name(sig, sig_name, sizeof(sig_name)),
				 oom ? ", OOM" : "");
		else
			snprintf(buf, size, "exited %d%s", code, oom ? " (OOM)" : "");
	} else if (error || (status && strcmp(status, "failed") == 0)) {
		snprintf(buf, size, "failed");
	} else if (oom) {
		snprintf(buf, size, "killed (OOM)");
	} else {
		snprintf(buf, size, "%s", run_ended(status) ? "?" : "-");
	}
	return buf;
}

const char *exit_event_text(struct json_object *ev, char *buf, size_t size)
{
	bool oom = member_true(ev, "oomKilled");
	char sig_name[32];
	int code, sig = 0;

	buf[0] = '\0';
	if (member_int(ev, "exitCode", &code)) {
		if (member_int(ev, "signal", &sig) && sig > 0)
			snprintf(buf, size, "killed (%s)%s", exit_signal_name(sig, sig_name, sizeof(sig_name)),
				 oom ? ", OOM-killed" : "");
		else
			snprintf(buf, size, "exit %d%s", code, oom ? ", OOM-killed" : "");
	} else if (oom) {
		snprintf(buf, size, "OOM-killed");
	}
	return buf;
}

static const char *member_string(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

const char *exit_event_change_text(struct json_object *ev, char *buf, size_t size)
{
	const char *kind = member_string(ev, "kind"), *from = member_string(ev, "from"), *to = member_string(ev, "to");

	if (kind && strcmp(kind, "late") == 0 && to)
		snprintf(buf, size, "report arrived late: %s (after %s)", to, from ? from : "a later stage");
	else
		snprintf(buf, size, "%-8s -> %-8s", from ? from : "-", to ? to : "-");
	return buf;
}
