/*
 * runtimes.h: asking runc and crun about their containers for `ocitap ps`
 * and `ocitap inspect`: their own `list`/`state` first (with a deadline),
 * their state directories when the binary is absent or fails, and the
 * state directory's start time and cgroup added either way.
 */
#ifndef OCITAP_RUNTIMES_H
#define OCITAP_RUNTIMES_H

#include <stddef.h>

#include "ocitap-private.h"

struct runtime_source {
	const char *name; /* "runc", "crun" */
	const char *root; /* --runc-root / --crun-root */
	const char *bin;  /* $OCITAP_RUNC / $OCITAP_CRUN, else the name (found in PATH) */
};

/* The two runtimes with their roots (NULL: the default) and binaries. */
void runtimes_init(struct runtime_source rt[2], const char *runc_root, const char *crun_root);

/*
 * Every container rt knows. *ret_how says how it was asked ("runc list",
 * "/run/runc" when read from the directory). Returns 0 (possibly none), or
 * a negative errno with err saying what both answered when neither the
 * binary nor the directory did (-ENOENT: the runtime has no root directory
 * here at all).
 */
int runtime_list(const struct runtime_source *rt, struct ocitap_runtime_container **ret, size_t *ret_n, char *how,
		 size_t how_size, struct ocitap_error *err);

/*
 * One container. 0 found; -ENOENT when rt does not know id; another
 * negative errno with err when it has the container but cannot say what it is.
 */
int runtime_get(const struct runtime_source *rt, const char *id, struct ocitap_runtime_container *ret, char *how,
		size_t how_size, struct ocitap_error *err);

#endif
