/*
 * runtime.h: what runc and crun themselves say about their containers:
 * the JSON of their `state` and `list` operations, and their state
 * directories (runc ROOT/ID/state.json, crun ROOT/ID/status) for when the
 * binary is absent or refuses. From a state directory the status is
 * derived as the runtimes do: an exec.fifo means "created"; a live init
 * whose start time is the recorded one means "running"; else "stopped".
 *
 * Ownership: strings in struct ocitap_runtime_container belong to it until
 * ocitap_runtime_container_release().
 */
#ifndef OCITAP_RUNTIME_H
#define OCITAP_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

struct ocitap_runtime_container {
	char runtime[8]; /* "runc", "crun" */
	char *id, *status, *bundle, *rootfs, *created, *owner;
	char *cgroup; /* from the state directory, NULL when unknown */
	pid_t pid;    /* 0 when unknown */
	bool has_start;
	uint64_t start_ticks;	 /* the init's start time as the runtime recorded it */
	int64_t created_wall_ns; /* "created" parsed, 0 when absent or unparsable */
	char *error;		 /* a state directory entry that could not be read: why (status "unknown") */
};

void ocitap_runtime_container_release(struct ocitap_runtime_container *c);
void ocitap_runtime_containers_free(struct ocitap_runtime_container *v, size_t n);

/* The output of `RUNTIME state ID`: {id, pid, status, bundle, rootfs, created, owner}. */
int ocitap_runtime_parse_state(const char *buf, size_t len, const char *runtime, struct ocitap_runtime_container *ret,
			       struct ocitap_error *err);

/* The output of `RUNTIME list --format json`: an array of the same (runc prints null for none). */
int ocitap_runtime_parse_list(const char *buf, size_t len, const char *runtime, struct ocitap_runtime_container **ret,
			      size_t *ret_n, struct ocitap_error *err);

/*
 * A state file: runc's state.json (init_process_pid, init_process_start,
 * created, config.labels "bundle=...", config.rootfs, cgroup_paths) when
 * runtime is "runc"; crun's status (pid, process-start-time, cgroup-path,
 * rootfs, bundle, created, owner) when "crun". id is the directory's name.
 * The status is left NULL (see ocitap_runtime_read_dir).
 */
int ocitap_runtime_parse_state_file(const char *buf, size_t len, const char *runtime, const char *id,
				    struct ocitap_runtime_container *ret, struct ocitap_error *err);

/* Read ROOT/ID's state file and derive the status, looking at proc_root ("/proc"). */
int ocitap_runtime_read_dir(const char *runtime, const char *root, const char *id, const char *proc_root,
			    struct ocitap_runtime_container *ret, struct ocitap_error *err);

/*
 * Every container directory under root. An entry that cannot be read is
 * returned too, with status "unknown" and error set. -ENOENT (err set) when
 * root does not exist.
 */
int ocitap_runtime_list_dir(const char *runtime, const char *root, const char *proc_root,
			    struct ocitap_runtime_container **ret, size_t *ret_n, struct ocitap_error *err);

#endif
