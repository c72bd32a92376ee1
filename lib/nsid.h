/*
 * nsid.h: which namespaces a process is in, by the identity of each
 * namespace file under /proc/PID/ns (device and inode), so that two
 * processes can be compared: a peer on a socket is "in the host's
 * namespaces" when its namespaces are the reader's own, and "inside a
 * container" when they are that container's init's. Internal to libocitap.
 */
#ifndef OCITAP_NSID_H
#define OCITAP_NSID_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

enum ocitap_ns_kind { OCITAP_NS_MNT, OCITAP_NS_PID, OCITAP_NS_USER, OCITAP_NS_NET, OCITAP_NS_N };

struct ocitap_ns_id {
	uint64_t dev, ino; /* 0, 0: not read */
};

struct ocitap_ns_ids {
	struct ocitap_ns_id ns[OCITAP_NS_N];
};

/* The namespaces of pid (0: the calling process) as proc_root ("/proc")
 * shows them. -ESRCH when there is no such process, -errno otherwise; err
 * names the file. */
int ocitap_ns_ids_read(const char *proc_root, pid_t pid, struct ocitap_ns_ids *ret, struct ocitap_error *err);

/* One of them (kind), as ocitap_ns_ids_read() reads it. */
int ocitap_ns_id_read(const char *proc_root, pid_t pid, enum ocitap_ns_kind kind, struct ocitap_ns_id *ret,
		      struct ocitap_error *err);

/* True when every namespace read in both is the same. */
bool ocitap_ns_ids_equal(const struct ocitap_ns_ids *a, const struct ocitap_ns_ids *b);

/* The first namespace kind in which a and b differ ("mnt", "pid", ...), or NULL. */
const char *ocitap_ns_ids_differ(const struct ocitap_ns_ids *a, const struct ocitap_ns_ids *b);

#endif
