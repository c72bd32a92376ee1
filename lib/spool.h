/*
 * spool.h: where a hook's report goes when ocitapd cannot take it, and how
 * ocitapd finds those reports again.
 *
 * One file per report in STATE_DIR/spool/, written atomically (renamed
 * whole into place, then synced: spool.c says what a power loss leaves), named
 * "<wall ns, 20 digits>-<pid>-<stage>.json" so that name order is time
 * order. ocitapd replays them at start, in that order, and records each
 * file's name in the same transaction as its records, so a report is
 * applied once even if the daemon dies halfway through a replay.
 *
 * A hook that cannot write there (rootless podman's: root only inside the
 * user's namespace) spools in its user's runtime directory instead
 * (OCITAP_USER_SPOOL_DIR_NAME), and the file's owner is whom it speaks for.
 */
#ifndef OCITAP_SPOOL_H
#define OCITAP_SPOOL_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bundle.h"
#include "error.h"

#define OCITAP_SPOOL_NAME_MAX 96

/* The stage a hook binary was invoked as: "ocitap-poststart" (any directory)
 * is poststart. -EINVAL for anything else (e.g. "ocitap-hook"). */
int ocitap_stage_from_program(const char *argv0);

/* What ocitap_write_file_atomic and the spool share (io.c). fsync the
 * directory that holds path: 0 or -errno. */
int ocitap_fsync_dir_of(const char *path);
/* A new file next to path (mkostemp: never through a link; its name in
 * tmp) holding exactly len bytes of buf, mode mode; not synced. Its fd, or
 * a negative errno with nothing left behind. */
int ocitap_write_temp_next_to(const char *path, const void *buf, size_t len, mode_t mode, char tmp[PATH_MAX],
			      struct ocitap_error *err);

/* Write json as a new spool file in dir (created 0700 if missing), mode 0600.
 * ret_name (may be NULL) gets the file name, at least OCITAP_SPOOL_NAME_MAX bytes. */
int ocitap_spool_write(const char *dir, const char *json, int64_t wall_ns, pid_t pid, enum ocitap_stage stage,
		       char *ret_name, struct ocitap_error *err);

/* The spool files in dir, oldest first (free each and the vector). A missing
 * dir is an empty spool. Temporary files of unfinished writes are skipped. */
int ocitap_spool_list(const char *dir, char ***ret_names, size_t *ret_n, struct ocitap_error *err);
/* The same, of the directory open as dfd (not closed; its position moves). */
int ocitap_spool_list_at(int dfd, char ***ret_names, size_t *ret_n, struct ocitap_error *err);
void ocitap_spool_list_free(char **names, size_t n);

/*
 * The uid that uid is outside its user namespace, by the namespace's
 * uid_map (map: the text of /proc/PID/uid_map, lines of "inside outside
 * count"): the host's uid for a namespace made from the host's, as
 * rootless podman's is. -ENOENT when uid is not mapped, -EINVAL for a
 * line that is not three numbers.
 */
int ocitap_uid_map_outside(const char *map, uid_t uid, uid_t *ret_outside);

#endif
