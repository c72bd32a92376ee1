/*
 * profile.h: seccomp profiles from observed syscall sets, the way podman
 * users ask for them with oci-seccomp-bpf-hook's annotation
 *
 *   io.containers.trace-syscall=[if:IN;]of:OUT     (or just OUT)
 *
 * OUT (and IN) are normalised paths (no "." or ".." components, no
 * control characters): relative to the profile directory, or absolute
 * under a prefix the operator allowed (struct ocitap_profile_rules,
 * ocitap_profile_place()); they are opened beneath that directory without
 * following any symbolic link, and a file is replaced only when ocitap
 * wrote it (OCITAP_PROFILE_MARKER). The profile written is an OCI
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
#include <sys/types.h>

#include "error.h"

#define OCITAP_TRACE_ANNOTATION "io.containers.trace-syscall"
#define OCITAP_PROFILE_IN_MAX	(4 * 1024 * 1024) /* bytes of IN read at most */
/* The key every profile ocitap builds carries: a file without it is never replaced. */
#define OCITAP_PROFILE_MARKER	 "x-ocitap"
#define OCITAP_PROFILE_ALLOW_MAX 16 /* --profile-allow prefixes */

struct ocitap_trace_spec {
	char in[PATH_MAX];  /* "" when not given */
	char out[PATH_MAX]; /* always set on success */
};

/* Parse the annotation's value: each path absolute or relative, and
 * normalised (ocitap_profile_name_check()). -EINVAL with the reason ("of: is
 * missing", "has a \"..\" component", ...) in err. Where the paths may
 * lead is ocitap_profile_place()'s to say. */
int ocitap_trace_spec_parse(const char *value, struct ocitap_trace_spec *ret, struct ocitap_error *err);

/* 0 when path is absolute and normalised, else -EINVAL naming why. */
int ocitap_profile_path_check(const char *path, struct ocitap_error *err);
/* 0 when path is absolute or relative, and normalised (no "." or ".."
 * component, no control character, not a directory), else -EINVAL. */
int ocitap_profile_name_check(const char *path, struct ocitap_error *err);

/*
 * Where a container's annotation may make ocitapd write or read: relative
 * names under dir; absolute paths under dir or under one of the allowed
 * prefixes; never under one of the forbidden trees (the container's rootfs
 * and its bundle), even when allowed. Every path here is absolute and
 * normalised (ocitap_profile_path_check()); the strings are borrowed.
 */
struct ocitap_profile_rules {
	const char *dir;	  /* --profile-dir; NULL: relative names are refused */
	const char *const *allow; /* --profile-allow prefixes */
	size_t n_allow;
	const char *forbidden[2]; /* the rootfs, the bundle; NULL: unknown */
};

/* A path the rules accept: the allowed directory it is under, and the rest. */
struct ocitap_profile_place {
	char path[PATH_MAX]; /* as the annotation named it, for messages (relative ones under dir) */
	char base[PATH_MAX]; /* dir or the longest allowed prefix holding path */
	char rel[PATH_MAX];  /* beneath base: relative, normalised, not empty */
	bool in_dir;	     /* base is the profile directory: missing directories may be created */
};

/*
 * Place path (absolute, or relative to rules->dir) by the rules: 0 and
 * *ret, or -EPERM with the reason in err (outside every allowed place,
 * inside a forbidden tree: compared as given and with the symbolic links
 * of base and of the forbidden trees resolved, which touches the disk),
 * or -EINVAL for a path that is not normalised.
 */
int ocitap_profile_place(const struct ocitap_profile_rules *rules, const char *path, struct ocitap_profile_place *ret,
			 struct ocitap_error *err);

/*
 * Replace the file at place with len bytes of json, mode mode: its
 * directory is opened from base one component at a time with openat2()
 * (RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH | RESOLVE_NO_XDEV), created when
 * missing only under the profile directory (0755); every directory, base
 * included, must be owned by root or by us and writable by no one else (a
 * sticky root-owned directory like /tmp excepted); an existing file is
 * replaced only when it is a regular file holding OCITAP_PROFILE_MARKER;
 * the bytes go to a temporary name in the same directory, fsync'd, renamed
 * over the file, the directory fsync'd. -EPERM with the reason when a rule
 * refuses (a symbolic link, a file ocitap did not write, a directory others
 * may write); other -errno when the disk fails. Nothing is left behind.
 */
int ocitap_profile_write(const struct ocitap_profile_place *place, const char *json, size_t len, mode_t mode,
			 struct ocitap_error *err);

/*
 * Open the file at place for reading under the same rules as
 * ocitap_profile_write() (no directory created): a regular file of at most
 * OCITAP_PROFILE_IN_MAX bytes. With ret_json, read it and check that it is
 * a seccomp profile (*ret_json malloc'd, NUL-terminated, *ret_len bytes);
 * without, only open and check it (cheap, for the container's start).
 * *ret_mode (may be NULL): its permission bits. -EPERM when a rule refuses.
 */
int ocitap_profile_read(const struct ocitap_profile_place *place, char **ret_json, size_t *ret_len, mode_t *ret_mode,
			struct ocitap_error *err);

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
 * NULL) as described above, with OCITAP_PROFILE_MARKER (which version of
 * ocitap built it). -EINVAL when in_json is not a seccomp profile (err
 * names the field).
 */
int ocitap_profile_build(char *const *names, const char *in_json, size_t in_len, char **ret_json,
			 struct ocitap_error *err);

#endif
