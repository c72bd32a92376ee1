/*
 * proc.c: pidfds: open one, and ask the kernel how the process ended.
 */
#include <errno.h>
#include <sched.h>
#include <linux/types.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"

/*
 * Debian 12's headers predate PIDFD_GET_INFO (6.13) and PIDFD_INFO_EXIT
 * (6.15). This is the first version of the uapi struct (64 bytes, the size
 * the kernel accepts as "version 0"), with exit_code where 6.15 put it.
 */
struct pidfd_info_v0 {
	__u64 mask;
	__u64 cgroupid;
	__u32 pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
	__s32 exit_code; /* wait(2) status, valid with PIDFD_INFO_EXIT */
};
_Static_assert(sizeof(struct pidfd_info_v0) == 64, "PIDFD_INFO_SIZE_VER0");

#define OCITAP_PIDFS_IOCTL_MAGIC 0xFF
#define OCITAP_PIDFD_GET_INFO	 _IOWR(OCITAP_PIDFS_IOCTL_MAGIC, 11, struct pidfd_info_v0)
#define OCITAP_PIDFD_INFO_EXIT	 (1ULL << 3)

int ocitap_pidfd_open(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	return fd < 0 ? -errno : fd;
}

int ocitap_pidfd_exit(int pidfd, struct ocitap_exit *ret)
{
	struct pidfd_info_v0 info;

	for (int tries = 0;; tries++) {
		memset(&info, 0, sizeof(info));
		info.mask = OCITAP_PIDFD_INFO_EXIT;
		if (ioctl(pidfd, OCITAP_PIDFD_GET_INFO, &info) == 0)
			break;
		if (errno == ENOTTY || errno == EINVAL)
			return -EOPNOTSUPP;
		if (errno != ESRCH)
			return -errno;
		/* A reap under way: the kernel found the task, then its pid
		 * gone, before it published the status: 1 query in 4 made
		 * as the parent reaps, here. The CPU to the reaper, and again. */
		if (tries == 8)
			return -ESRCH;
		sched_yield();
	}
	if (!(info.mask & OCITAP_PIDFD_INFO_EXIT))
		return -EAGAIN;
	memset(ret, 0, sizeof(*ret));
	if (WIFEXITED(info.exit_code)) {
		ret->exited = true;
		ret->code = WEXITSTATUS(info.exit_code);
	} else if (WIFSIGNALED(info.exit_code)) {
		ret->signaled = true;
		ret->signal = WTERMSIG(info.exit_code);
	}
	return 0;
}
