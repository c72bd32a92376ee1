/*
 * spool.h: where a hook's report goes when ocitapd cannot take it, and how
 * ocitapd finds those reports again.
 *
 * One file per report in STATE_DIR/spool/, written atomically, named
 * "<wall ns, 20 digits>-<pid>-<stage>.json" so that name order is time
 * order. ocitapd replays them at start, in that order, and records each
 * file's name in the same transaction as its records, so a report is
 * applied once even if the daemon dies halfway through a replay.
 */
#ifndef OCITAP_SPOOL_H
#define OCITAP_SPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bundle.h"
#include "error.h"

#define OCITAP_SPOOL_NAME_MAX 96

/* The stage a hook binary was invoked as: "ocitap-poststart" (any directory)
 * is poststart. -EINVAL for anything else (e.g. "ocitap-hook"). */
int ocitap_stage_from_program(const char *argv0);

/* Write json as a new spool file in dir (created 0700 if missing), mode 0600.
 * ret_name (may be NULL) gets the file name, at least OCITAP_SPOOL_NAME_MAX bytes. */
int ocitap_spool_write(const char *dir, const char *json, int64_t wall_ns, pid_t pid, enum ocitap_stage stage,
		       char *ret_name, struct ocitap_error *err);

/* The spool files in dir, oldest first (free each and the vector). A missing
 * dir is an empty spool. Temporary files of unfinished writes are skipped. */
int ocitap_spool_list(const char *dir, char ***ret_names, size_t *ret_n, struct ocitap_error *err);
void ocitap_spool_list_free(char **names, size_t n);

#endif
