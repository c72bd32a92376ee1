/*
 * profile.h: seccomp profiles from observed syscall sets, the way podman
 * users ask for them with oci-seccomp-bpf-hook's annotation
 *
 *   io.containers.trace-syscall=[if:IN;]of:OUT     (or just OUT)
 *
 * OUT (and IN) must be absolute, normalised paths (no "." or ".."
 * components, no control characters). The profile written is an OCI
 * seccomp profile (config.json's linux.seccomp, podman's --security-opt
 * seccomp=FILE): defaultAction SCMP_ACT_ERRNO, the observed syscalls
 * allowed, the architectures of this machine. With IN, IN is the base: its
 * unconditional SCMP_ACT_ALLOW names are allowed too, a syscall IN blocks
 * stays blocked even if it was observed, and IN's other rules are kept.
 */
#ifndef OCITAP_PROFILE_H
#define OCITAP_PROFILE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define OCITAP_TRACE_ANNOTATION "io.containers.trace-syscall"
#define OCITAP_PROFILE_IN_MAX	(4 * 1024 * 1024) /* bytes of IN read at most */

struct ocitap_trace_spec {
	char in[PATH_MAX];  /* "" when not given */
	char out[PATH_MAX]; /* always set on success */
};

/* Parse the annotation's value. -EINVAL with the reason ("of: is missing",
 * "if: must be an absolute path", ...) in err. */
int ocitap_trace_spec_parse(const char *value, struct ocitap_trace_spec *ret, struct ocitap_error *err);

/* 0 when path is absolute and normalised, else -EINVAL naming why. */
int ocitap_profile_path_check(const char *path, struct ocitap_error *err);

/*
 * Syscall numbers to names: bits[0] the native ABI's numbers, bits[1] the
 * compat ABI's (i386 on x86_64, arm on aarch64), words 64-bit words each.
 * Returns how many names, sorted and unique, in a NULL-terminated array
 * (*ret_names, free with ocitap_profile_names_free()); numbers libseccomp
 * cannot name are skipped and counted in *ret_unnamed (may be NULL).
 */
int ocitap_profile_names(const uint64_t *native, const uint64_t *compat, size_t words, char ***ret_names,
			 size_t *ret_unnamed);
void ocitap_profile_names_free(char **names);

/*
 * The profile, as pretty-printed JSON (*ret_json, malloc'd, NUL-terminated):
 * names allowed (sorted, unique), merged with in_json (a profile, may be
 * NULL) as described above. -EINVAL when in_json is not a seccomp profile
 * (err names the field).
 */
int ocitap_profile_build(char *const *names, const char *in_json, size_t in_len, char **ret_json,
			 struct ocitap_error *err);

/* Cheaply, without reading it: IN can be opened for reading and is a
 * regular file of at most OCITAP_PROFILE_IN_MAX bytes. */
int ocitap_profile_input_check(const char *path, struct ocitap_error *err);

/* Read IN and check that it is a profile (so that a bad IN is reported when
 * the container starts, not when it stops). */
int ocitap_profile_load(const char *path, char **ret_json, size_t *ret_len, struct ocitap_error *err);

#endif
