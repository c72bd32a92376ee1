/*
 * exit-text.h: how the ocitap CLI words the end of a run and a lifecycle
 * event for people: "exited 3", "killed (SIGKILL)", a late report as what
 * it is. The same signal names as ocitapd's metrics (SIGKILL, not 9).
 * Pure functions of the record's JSON (event-json.h): no I/O.
 */
#ifndef OCITAP_EXIT_TEXT_H
#define OCITAP_EXIT_TEXT_H

#include <json-c/json.h>
#include <stddef.h>

/* "SIGKILL" for 9, "signal 64" for a number without a name; buf returned. */
const char *exit_signal_name(int sig, char *buf, size_t size);

/*
 * The EXIT column of `ocitap ps`: "exited 3", "killed (SIGKILL)", "killed
 * (SIGKILL, OOM)", "exited 137 (OOM)", "failed" (a start that failed before
 * its program ran), "-" for a run that has not ended (status running,
 * created, ...), "?" for one that ended without a known exit. exit is the
 * record's "exit" member (NULL or JSON null when there is none), status its
 * "status", error its "error" (NULL when none). buf returned.
 */
const char *exit_column_text(struct json_object *exit, const char *status, const char *error, char *buf, size_t size);

/*
 * An event's exit as a short phrase: "exit 3", "killed (SIGKILL)", with
 * ", OOM-killed" when so; "" when the event has no "exitCode". buf returned.
 */
const char *exit_event_text(struct json_object *ev, char *buf, size_t size);

/*
 * What an event changed, for a column of events and inspect: "created ->
 * running" for a transition; for a late report (kind "late": an earlier
 * stage reported after a later one), "report arrived late: created (after
 * running)"; else "from -> to" with "-" for what is missing. buf returned.
 */
const char *exit_event_change_text(struct json_object *ev, char *buf, size_t size);

#endif
