/*
 * procinfo.c: reading a process from /proc (or a directory laid out like
 * it), one part at a time, so that a part the caller may not read (another
 * user's maps, a zombie's cmdline) does not hide the others.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io.h"
#include "macro.h"
#include "number.h"
#include "procinfo.h"

#define MAX_PROC_FILE (256u << 10)

static const char *const cap_names[OCITAP_CAP_LAST + 1] = {
	"CAP_CHOWN",
	"CAP_DAC_OVERRIDE",
	"CAP_DAC_READ_SEARCH",
	"CAP_FOWNER",
	"CAP_FSETID",
	"CAP_KILL",
	"CAP_SETGID",
	"CAP_SETUID",
	"CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST",
	"CAP_NET_ADMIN",
	"CAP_NET_RAW",
	"CAP_IPC_LOCK",
	"CAP_IPC_OWNER",
	"CAP_SYS_MODULE",
	"CAP_SYS_RAWIO",
	"CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE",
	"CAP_SYS_PACCT",
	"CAP_SYS_ADMIN",
	"CAP_SYS_BOOT",
	"CAP_SYS_NICE",
	"CAP_SYS_RESOURCE",
	"CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG",
	"CAP_MKNOD",
	"CAP_LEASE",
	"CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL",
	"CAP_SETFCAP",
	"CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN",
	"CAP_SYSLOG",
	"CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND",
	"CAP_AUDIT_READ",
	"CAP_PERFMON",
	"CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
};

static const char *const ns_names[OCITAP_PROC_N_NS] = { "cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts" };

const char *ocitap_cap_name(unsigned cap)
{
	return cap <= OCITAP_CAP_LAST ? cap_names[cap] : NULL;
}

size_t ocitap_caps_format(uint64_t mask, const char *sep, char *buf, size_t size)
{
	size_t used = 0;

	if (size)
		buf[0] = '\0';
	for (unsigned bit = 0; bit < 64; bit++) {
		char unknown[16];
		const char *name;
		int n;

		if (!(mask & (UINT64_C(1) << bit)))
			continue;
		name = ocitap_cap_name(bit);
		if (!name) {
			snprintf(unknown, sizeof(unknown), "CAP_%u", bit);
			name = unknown;
		}
		n = snprintf(used < size ? buf + used : NULL, used < size ? size - used : 0, "%s%s", used ? sep : "",
			     name);
		used += (size_t)n;
	}
	return used;
}

const char *ocitap_seccomp_mode_name(int mode)
{
	switch (mode) {
	case 0:
		return "disabled";
	case 1:
		return "strict";
	case 2:
		return "filter";
	default:
		return "unknown";
	}
}

int ocitap_proc_parse_stat(const char *buf, size_t len, struct ocitap_proc_info *ret)
{
	_cleanup_free_ char *copy = strndup(buf, len);
	char *open, *close, *field, *save = NULL;
	long long pid;
	int i;

	if (!copy)
		return -ENOMEM;
	/* "PID (COMM) STATE PPID ...": comm is whatever lies between the first
	 * '(' and the last ')' */
	open = strchr(copy, '(');
	close = strrchr(copy, ')');
	if (!open || !close || close < open || sscanf(copy, "%lld", &pid) != 1 || pid <= 0 || pid > INT_MAX)
		return -EINVAL;
	*close = '\0';
	snprintf(ret->comm, sizeof(ret->comm), "%s", open + 1);
	ret->pid = (pid_t)pid;
	/* field 3 is the state; field 22 the start time */
	for (i = 3, field = strtok_r(close + 1, " \n", &save); field; field = strtok_r(NULL, " \n", &save), i++) {
		if (i == 3)
			ret->state = field[0];
		else if (i == 4) {
			int ppid;

			ret->ppid = ocitap_parse_int(field, 0, INT_MAX, &ppid) == 0 ? ppid : 0;
		} else if (i == 22)
			return ocitap_parse_uint64(field, UINT64_MAX, &ret->start_ticks) < 0 ? -EINVAL : 0;
	}
	return -EINVAL;
}

int ocitap_proc_parse_status(const char *buf, size_t len, struct ocitap_proc_info *ret)
{
	_cleanup_free_ char *copy = strndup(buf, len);
	char *line, *save = NULL;
	unsigned caps = 0;

	if (!copy)
		return -ENOMEM;
	ret->seccomp = ret->seccomp_filters = ret->no_new_privs = -1;
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *v = strchr(line, ':');
		uint64_t *cap = NULL;

		if (!v)
			continue;
		*v++ = '\0';
		v += strspn(v, " \t");
		/* a value that is not a number stays -1: not known */
		if (strcmp(line, "Seccomp") == 0)
			ocitap_parse_int(v, 0, INT_MAX, &ret->seccomp);
		else if (strcmp(line, "Seccomp_filters") == 0)
			ocitap_parse_int(v, 0, INT_MAX, &ret->seccomp_filters);
		else if (strcmp(line, "NoNewPrivs") == 0)
			ocitap_parse_int(v, 0, 1, &ret->no_new_privs);
		else if (strcmp(line, "CapInh") == 0)
			cap = &ret->cap_inh;
		else if (strcmp(line, "CapPrm") == 0)
			cap = &ret->cap_prm;
		else if (strcmp(line, "CapEff") == 0)
			cap = &ret->cap_eff;
		else if (strcmp(line, "CapBnd") == 0)
			cap = &ret->cap_bnd;
		else if (strcmp(line, "CapAmb") == 0)
			cap = &ret->cap_amb;
		else if (strcmp(line, "Uid") == 0 || strcmp(line, "Gid") == 0) {
			long *ids = line[0] == 'U' ? ret->uid : ret->gid;

			if (sscanf(v, "%ld %ld %ld %ld", &ids[0], &ids[1], &ids[2], &ids[3]) == 4)
				ret->has_ids = true;
		}
		if (cap) {
			if (ocitap_parse_hex64(v, cap) < 0)
				return -EINVAL;
			caps++;
		}
	}
	ret->has_caps = caps == 5;
	return 0;
}

static int read_part(const char *proc_root, pid_t pid, const char *name, char **ret, size_t *ret_len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%d/%s", proc_root, (int)pid, name);
	return ocitap_read_file(path, MAX_PROC_FILE, -1, ret, ret_len, NULL);
}

int ocitap_proc_start_ticks(const char *proc_root, pid_t pid, uint64_t *ret)
{
	_cleanup_free_ char *buf = NULL;
	struct ocitap_proc_info info = { 0 };
	size_t len;
	int r;

	if ((r = read_part(proc_root, pid, "stat", &buf, &len)) < 0)
		return r;
	if ((r = ocitap_proc_parse_stat(buf, len, &info)) < 0)
		return r;
	*ret = info.start_ticks;
	return 0;
}

int ocitap_proc_start_wall_ns(const char *proc_root, uint64_t start_ticks, int64_t *ret)
{
	_cleanup_free_ char *buf = NULL;
	char path[PATH_MAX], *p;
	long hz = sysconf(_SC_CLK_TCK);
	long long btime;
	size_t len;
	int r;

	snprintf(path, sizeof(path), "%s/stat", proc_root);
	if ((r = ocitap_read_file(path, MAX_PROC_FILE, -1, &buf, &len, NULL)) < 0)
		return r;
	p = strstr(buf, "\nbtime ");
	if (!p || sscanf(p + 7, "%lld", &btime) != 1 || hz <= 0)
		return -EINVAL;
	*ret = (int64_t)btime * 1000000000 + (int64_t)(start_ticks / (uint64_t)hz) * 1000000000 +
	       (int64_t)(start_ticks % (uint64_t)hz) * (1000000000 / hz);
	return 0;
}

static void read_ns(const char *proc_root, pid_t pid, struct ocitap_proc_ns *ns)
{
	char path[PATH_MAX], target[128];
	unsigned long long inode;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%d/ns/%s", proc_root, (int)pid, ns->name);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0) {
		ns->error = -errno;
		return;
	}
	target[n] = '\0';
	{
		char *open = strchr(target, '[');

		if (!open || sscanf(open + 1, "%llu]", &inode) != 1) {
			ns->error = -EINVAL;
			return;
		}
	}
	ns->inode = inode;
}

/* The cgroup v2 path of a cgroup file, else the file without its last newline. */
static char *cgroup_path(char *buf)
{
	char *v2 = strncmp(buf, "0::", 3) == 0 ? buf : strstr(buf, "\n0::");

	if (v2) {
		v2 += v2 == buf ? 3 : 4;
		v2[strcspn(v2, "\n")] = '\0';
		return strdup(v2);
	}
	buf[strcspn(buf, "\0")] = '\0';
	if (*buf && buf[strlen(buf) - 1] == '\n')
		buf[strlen(buf) - 1] = '\0';
	return strdup(buf);
}

int ocitap_proc_cgroup(const char *proc_root, pid_t pid, char **ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r;

	if ((r = read_part(proc_root, pid, "cgroup", &buf, &len)) < 0)
		return r;
	*ret = cgroup_path(buf);
	return *ret ? 0 : -ENOMEM;
}

int ocitap_proc_info_read(const char *proc_root, pid_t pid, struct ocitap_proc_info *ret, struct ocitap_error *err)
{
	struct ocitap_proc_info info = { 0 };
	_cleanup_free_ char *stat = NULL, *status = NULL, *cgroup = NULL, *cmdline = NULL;
	char path[PATH_MAX];
	size_t len;
	int r;

	snprintf(path, sizeof(path), "%s/%d", proc_root, (int)pid);
	if (access(path, F_OK) < 0)
		return ocitap_error_set(err, -errno, NULL, "%s: %s", path, strerror(errno));
	info.pid = pid;
	info.seccomp = info.seccomp_filters = info.no_new_privs = -1;
	r = read_part(proc_root, pid, "stat", &stat, &len);
	info.stat_error = r < 0 ? r : ocitap_proc_parse_stat(stat, len, &info);
	if (info.stat_error == 0 && info.pid != pid)
		info.stat_error = -EINVAL;
	r = read_part(proc_root, pid, "status", &status, &len);
	info.status_error = r < 0 ? r : ocitap_proc_parse_status(status, len, &info);
	for (int i = 0; i < OCITAP_PROC_N_NS; i++) {
		info.ns[i].name = ns_names[i];
		read_ns(proc_root, pid, &info.ns[i]);
	}
	r = read_part(proc_root, pid, "cgroup", &cgroup, &len);
	if (r < 0)
		info.cgroup_error = r;
	else if (!(info.cgroup = cgroup_path(cgroup)))
		info.cgroup_error = -ENOMEM;
	r = read_part(proc_root, pid, "uid_map", &info.uid_map, &len);
	if (r >= 0)
		r = read_part(proc_root, pid, "gid_map", &info.gid_map, &len);
	info.maps_error = r < 0 ? r : 0;
	r = read_part(proc_root, pid, "cmdline", &cmdline, &len);
	if (r < 0) {
		info.cmdline_error = r;
	} else {
		size_t n = 0;

		for (size_t i = 0; i < len; i++)
			n += cmdline[i] == '\0';
		if (len && cmdline[len - 1] != '\0')
			n++; /* a process that rewrote its argv without the final NUL */
		info.argv = calloc(n + 1, sizeof(char *));
		if (!info.argv) {
			info.cmdline_error = -ENOMEM;
		} else {
			for (size_t i = 0; i < len && info.argc < n; i += strlen(cmdline + i) + 1)
				if (!(info.argv[info.argc++] = strdup(cmdline + i)))
					info.cmdline_error = -ENOMEM;
		}
	}
	*ret = info;
	return 0;
}

void ocitap_proc_info_release(struct ocitap_proc_info *info)
{
	if (!info)
		return;
	free(info->cgroup);
	free(info->uid_map);
	free(info->gid_map);
	for (size_t i = 0; info->argv && i < info->argc; i++)
		free(info->argv[i]);
	free(info->argv);
	memset(info, 0, sizeof(*info));
}
