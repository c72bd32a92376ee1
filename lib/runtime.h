/*
 * runtime.h: the Runtime interface: an OCI runtime (runc, crun, runsc)
 * driven by its command line (state, list, create, start, kill, delete),
 * what it says about its containers (the JSON of its `state` and `list`),
 * and its state directory (runc ROOT/ID/state.json, crun ROOT/ID/status,
 * runsc ROOT/SANDBOX_sandbox:ID.state) for when the binary is absent or
 * refuses. From a state directory the status is
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
	char runtime[8]; /* "runc", "crun", "runsc": whose layout it was read in */
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

/*
 * One runtime and one of its roots. Every operation runs BIN --root ROOT
 * ARGS with stdin closed and a deadline (5 s; the binary is killed after).
 */
struct ocitap_runtime {
	const char *name;  /* "runc", "crun", "runsc": its command line and state layout */
	const char *root;  /* its --root */
	const char *bin;   /* the binary; a name is looked up in PATH */
	const char *label; /* where this root is from ("docker/runtime-runc"); NULL: name */
};

/*
 * Where bin is: itself when it has a '/', else the first match in $PATH
 * (a default PATH when unset). not_self skips the running program (a
 * wrapper installed under the runtime's name). 0, -ENOENT, -ELOOP (only
 * the program itself), -ENAMETOOLONG.
 */
int ocitap_runtime_which(const char *bin, bool not_self, char *buf, size_t size);

/*
 * Run it with args (at most 12). *ret_out gets stdout (NUL-terminated),
 * err_line the first line of stderr. Returns the exit status, -ENOENT when
 * the binary is not there, -ETIMEDOUT (it is killed), other -errno.
 */
int ocitap_runtime_run(const struct ocitap_runtime *rt, const char *const *args, char **ret_out, size_t *ret_len,
		       char *err_line, size_t err_size);

/*
 * Every container rt knows. *how says how it was asked ("runc list", or the
 * root when read from the directory). 0 (possibly none), or a negative errno
 * with err saying what both answered when neither the binary nor the
 * directory did (-ENOENT: the root does not exist here at all).
 */
int ocitap_runtime_list(const struct ocitap_runtime *rt, struct ocitap_runtime_container **ret, size_t *ret_n,
			char *how, size_t how_size, struct ocitap_error *err);

/* One container: 0 found; -ENOENT when rt does not know id; another negative
 * errno with err when it has the container but cannot say what it is. */
int ocitap_runtime_state(const struct ocitap_runtime *rt, const char *id, struct ocitap_runtime_container *ret,
			 char *how, size_t how_size, struct ocitap_error *err);

/* The lifecycle operations: 0, or err with the runtime's exit status and first stderr line. */
int ocitap_runtime_create(const struct ocitap_runtime *rt, const char *id, const char *bundle, const char *pid_file,
			  struct ocitap_error *err);
int ocitap_runtime_start(const struct ocitap_runtime *rt, const char *id, struct ocitap_error *err);
int ocitap_runtime_kill(const struct ocitap_runtime *rt, const char *id, int sig, bool all, struct ocitap_error *err);
int ocitap_runtime_delete(const struct ocitap_runtime *rt, const char *id, bool force, struct ocitap_error *err);

/* /run/runc, /run/crun, /var/run/runsc. */
const char *ocitap_runtime_default_root(const char *name);

struct ocitap_runtimes {
	struct ocitap_runtime *v; /* root and label are the set's */
	size_t n;
};

/*
 * The roots containers are kept in on this host: runc's and crun's (the
 * given roots, NULL: the defaults) and, when neither root is given, runsc's,
 * Docker's (/run/docker/runtime-NAME/moby), containerd's runc shim's
 * (/run/containerd/runc/NAMESPACE) and rootless podman's
 * (/run/user/UID/runc, .../crun) where they exist. $OCITAP_RUNC,
 * $OCITAP_CRUN and $OCITAP_RUNSC name the binaries. -ENOMEM only.
 */
int ocitap_runtimes_find(struct ocitap_runtimes *set, const char *runc_root, const char *crun_root);
void ocitap_runtimes_release(struct ocitap_runtimes *set);

#endif
