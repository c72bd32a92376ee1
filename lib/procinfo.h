/*
 * procinfo.h: a process as /proc shows it, for `ocitap inspect`:
 * namespaces (inode ids), cgroup, seccomp mode and filter count,
 * NoNewPrivs, capability sets, ids and id maps, command line, and the start
 * time that tells a container's init from a later process given its pid.
 *
 * Every reader takes proc_root ("/proc", or a directory laid out the same
 * way, for tests and for looking at a captured process). Each part is read
 * on its own: a part that cannot be read records -errno and the rest is
 * still filled in.
 */
#ifndef OCITAP_PROCINFO_H
#define OCITAP_PROCINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

#define OCITAP_PROC_N_NS 8 /* cgroup ipc mnt net pid time user uts */

struct ocitap_proc_ns {
	const char *name; /* "mnt", ... (static) */
	uint64_t inode;	  /* from the link "mnt:[4026531840]" */
	int error;	  /* 0 or -errno */
};

struct ocitap_proc_info {
	pid_t pid, ppid;
	char comm[64];
	char state;	      /* 'R', 'S', 'Z', ... */
	uint64_t start_ticks; /* field 22 of stat: clock ticks after boot */
	int stat_error;

	int status_error;
	int seccomp;	     /* 0 disabled, 1 strict, 2 filter; -1 unknown */
	int seccomp_filters; /* -1 unknown (kernels before 5.9) */
	int no_new_privs;    /* 0/1; -1 unknown */
	bool has_caps;
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	bool has_ids;
	long uid[4], gid[4]; /* real, effective, saved, filesystem */

	struct ocitap_proc_ns ns[OCITAP_PROC_N_NS];

	char *cgroup; /* the cgroup v2 path ("0::" line), else the whole file; NULL when unreadable */
	int cgroup_error;
	char *uid_map, *gid_map; /* as the kernel prints them */
	int maps_error;
	char **argv; /* NULL-terminated */
	size_t argc;
	int cmdline_error;
};

/*
 * Read what proc_root/PID shows. -ENOENT (err says so) when there is no
 * such process; otherwise 0, with per-part errors inside ret. Release with
 * ocitap_proc_info_release().
 */
int ocitap_proc_info_read(const char *proc_root, pid_t pid, struct ocitap_proc_info *ret, struct ocitap_error *err);
void ocitap_proc_info_release(struct ocitap_proc_info *info);

/* Parse /proc/PID/stat (the comm may hold spaces and parentheses). -EINVAL when malformed. */
int ocitap_proc_parse_stat(const char *buf, size_t len, struct ocitap_proc_info *ret);
/* Parse /proc/PID/status into the seccomp, NoNewPrivs, capability and id fields. */
int ocitap_proc_parse_status(const char *buf, size_t len, struct ocitap_proc_info *ret);

/* Only the start time of PID (field 22 of stat): 0 or -errno. */
int ocitap_proc_start_ticks(const char *proc_root, pid_t pid, uint64_t *ret);

/* Only the cgroup of PID (its v2 path, else the whole file), malloc'ed: 0 or -errno. */
int ocitap_proc_cgroup(const char *proc_root, pid_t pid, char **ret);

/* Wall-clock time (ns since the epoch) of a start time in ticks, from btime in proc_root/stat. */
int ocitap_proc_start_wall_ns(const char *proc_root, uint64_t start_ticks, int64_t *ret);

/* "CAP_CHOWN" ... "CAP_CHECKPOINT_RESTORE" for 0..40; NULL beyond. */
const char *ocitap_cap_name(unsigned cap);
/* The highest capability number this table knows (40). */
#define OCITAP_CAP_LAST 40
/*
 * Names of the bits of mask separated by sep ("CAP_KILL,CAP_NET_RAW"); bits
 * past the table as "CAP_41"... Returns the length it needed (like
 * snprintf); "" for an empty set.
 */
size_t ocitap_caps_format(uint64_t mask, const char *sep, char *buf, size_t size);

/* "disabled", "strict", "filter" or "unknown" */
const char *ocitap_seccomp_mode_name(int mode);

#endif
