/*
 * report.h: the hook report, what an ocitap hook sends to ocitapd for one
 * stage (docs/ocitapd-protocol.md). One JSON object per connection, no fds:
 *
 *   {"ocitapReport": 1, "stage": "poststart", "hookPid": 812,
 *    "monoNs": 123456789, "wallNs": 1763856000000000000,
 *    "state": { ...the OCI State the hook read on stdin... }}
 *
 * "stageAmbiguous": true (optional) says the hook was not told its stage and
 * could only tell "prestart or createRuntime" (stage.h): the daemon counts
 * the first such report of a container as prestart, the next as createRuntime.
 *
 * The daemon answers "ok\n" once the report survives a kill of the daemon
 * (its journal, or the store: docs/ocitapd-protocol.md), or
 * "error: <why>\n".
 */
#ifndef OCITAP_REPORT_H
#define OCITAP_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "bundle.h"
#include "error.h"
#include "state.h"

#define OCITAP_REPORT_VERSION 1
#define OCITAP_REPORT_ACK     "ok\n"

struct ocitap_hook_report {
	int version;
	enum ocitap_stage stage;
	pid_t hook_pid;
	int64_t mono_ns, wall_ns;
	bool stage_ambiguous;	   /* "stageAmbiguous": prestart or createRuntime */
	struct ocitap_state state; /* strings owned by the report */

	void *priv_;
};

/* Parse and validate (the embedded State as ocitap_state_parse does). */
OCITAP_EXPORT int ocitap_hook_report_parse(const char *buf, size_t len, const struct ocitap_limits *lim,
					   struct ocitap_hook_report *ret, struct ocitap_error *err);
OCITAP_EXPORT int ocitap_hook_report_to_json(const struct ocitap_hook_report *report, char **ret_json,
					     struct ocitap_error *err);
OCITAP_EXPORT void ocitap_hook_report_release(struct ocitap_hook_report *report);

#endif
