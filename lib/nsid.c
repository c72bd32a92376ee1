/*
 * nsid.c: a process's namespaces by identity (nsid.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "nsid.h"

static const char *const ns_names[OCITAP_NS_N] = {
	[OCITAP_NS_MNT] = "mnt", [OCITAP_NS_PID] = "pid", [OCITAP_NS_USER] = "user", [OCITAP_NS_NET] = "net"
};

/* kind's namespace file of pid; missing_is_gone: a missing file means no
 * such process (-ESRCH), as it does for the first one looked at */
static int read_one(const char *proc_root, pid_t pid, int kind, bool missing_is_gone, struct ocitap_ns_id *ret,
		    struct ocitap_error *err)
{
	char path[128];
	struct stat st;

	if (pid > 0)
		snprintf(path, sizeof(path), "%s/%d/ns/%s", proc_root, (int)pid, ns_names[kind]);
	else
		snprintf(path, sizeof(path), "%s/self/ns/%s", proc_root, ns_names[kind]);
	if (stat(path, &st) < 0) {
		int e = errno == ENOENT && missing_is_gone ? ESRCH : errno;

		return ocitap_error_set(err, -e, NULL, "%s: %s", path, strerror(e));
	}
	*ret = (struct ocitap_ns_id){ .dev = (uint64_t)st.st_dev, .ino = (uint64_t)st.st_ino };
	return 0;
}

int ocitap_ns_id_read(const char *proc_root, pid_t pid, enum ocitap_ns_kind kind, struct ocitap_ns_id *ret,
		      struct ocitap_error *err)
{
	return read_one(proc_root, pid, kind, true, ret, err);
}

int ocitap_ns_ids_read(const char *proc_root, pid_t pid, struct ocitap_ns_ids *ret, struct ocitap_error *err)
{
	struct ocitap_ns_ids ids = { 0 };

	for (int k = 0; k < OCITAP_NS_N; k++) {
		int r = read_one(proc_root, pid, k, k == 0, &ids.ns[k], err);

		if (r < 0)
			return r;
	}
	*ret = ids;
	return 0;
}

const char *ocitap_ns_ids_differ(const struct ocitap_ns_ids *a, const struct ocitap_ns_ids *b)
{
	for (int k = 0; k < OCITAP_NS_N; k++)
		if (a->ns[k].dev != b->ns[k].dev || a->ns[k].ino != b->ns[k].ino)
			return ns_names[k];
	return NULL;
}

bool ocitap_ns_ids_equal(const struct ocitap_ns_ids *a, const struct ocitap_ns_ids *b)
{
	return ocitap_ns_ids_differ(a, b) == NULL;
}
