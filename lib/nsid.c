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

int ocitap_ns_ids_read(const char *proc_root, pid_t pid, struct ocitap_ns_ids *ret, struct ocitap_error *err)
{
	struct ocitap_ns_ids ids = { 0 };

	for (int k = 0; k < OCITAP_NS_N; k++) {
		char path[128];
		struct stat st;

		if (pid > 0)
			snprintf(path, sizeof(path), "%s/%d/ns/%s", proc_root, (int)pid, ns_names[k]);
		else
			snprintf(path, sizeof(path), "%s/self/ns/%s", proc_root, ns_names[k]);
		if (stat(path, &st) < 0) {
			int e = errno == ENOENT && k == 0 ? ESRCH : errno;

			return ocitap_error_set(err, -e, NULL, "%s: %s", path, strerror(e));
		}
		ids.ns[k] = (struct ocitap_ns_id){ .dev = (uint64_t)st.st_dev, .ino = (uint64_t)st.st_ino };
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
