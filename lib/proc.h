/*
 * proc.h: what the kernel says about a process, through a pidfd.
 */
#ifndef OCITAP_PROC_H
#define OCITAP_PROC_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

/* pidfd_open(2) with CLOEXEC; returns the fd or -errno. */
int ocitap_pidfd_open(pid_t pid);

struct ocitap_exit {
	bool exited;   /* ended with exit(): code is valid */
	int code;      /* 0..255 */
	bool signaled; /* killed: signal is valid */
	int signal;
};

/*
 * How the process behind pidfd ended, from PIDFD_GET_INFO/PIDFD_INFO_EXIT
 * (Linux 6.15+; any process may ask, not only the parent, and the answer
 * stays after the process is reaped). -EAGAIN while it still runs,
 * -EOPNOTSUPP when the kernel cannot tell, -ESRCH when it has nothing:
 * reaped before 6.15's exit information, or still being reaped (worth
 * asking again a moment later).
 */
int ocitap_pidfd_exit(int pidfd, struct ocitap_exit *ret);

#endif
