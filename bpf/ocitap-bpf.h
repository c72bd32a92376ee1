/*
 * ocitap-bpf.h: what the BPF programs (lifecycle.bpf.c, syscalls.bpf.c) and
 * the daemon (inspect/ocitapd/tracer.c) share: fixed-width map values and ring
 * buffer events, nothing else.
 *
 * A container is known to the kernel side by the inode number of its init's
 * mount namespace (every process and `exec` session of it shares that) and
 * by its init's thread-group id (for the exec of the user program and the
 * init's exit). The cookie is the daemon's handle for it.
 */
#ifndef OCITAP_BPF_H
#define OCITAP_BPF_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Syscall numbers recorded per ABI: above every table in use (x86_64 ends
 * under 470, aarch64 under 470, the x86 compat table under 470). */
#define OCITAP_BPF_NR_MAX 1024
#define OCITAP_BPF_WORDS  (OCITAP_BPF_NR_MAX / 64)

enum ocitap_bpf_abi {
	OCITAP_BPF_ABI_NATIVE = 0, /* x86_64, aarch64, ... */
	OCITAP_BPF_ABI_COMPAT = 1, /* i386 on x86_64, arm on aarch64 */
	OCITAP_BPF_ABI_COUNT = 2,
};

#define OCITAP_BPF_TRACE_SYSCALLS 0x1u /* record the container's syscall set */

/* containers: mount namespace inode -> this */
struct ocitap_bpf_container {
	__u64 cookie;
	__u32 flags;
	__u32 pad;
	__u64 syscalls[OCITAP_BPF_ABI_COUNT][OCITAP_BPF_WORDS]; /* bit n of ABI a: syscall n was made */
};

/* inits: the init's tgid -> this */
struct ocitap_bpf_init {
	__u64 cookie;
	__u32 execs; /* execs seen: only the first is reported */
	__u32 pad;
};

enum ocitap_bpf_event_kind {
	OCITAP_BPF_EV_EXEC = 1, /* the init exec'd the user program */
	OCITAP_BPF_EV_EXIT = 2, /* the init's last thread exited */
	OCITAP_BPF_EV_OOM = 3,	/* the OOM killer chose a process of the container */
};

struct ocitap_bpf_event {
	__u32 kind;
	__u32 pid;    /* the process (tgid) */
	__s32 status; /* EXIT: the wait(2) status: exit code << 8, or the signal */
	__u32 mntns;
	__u64 cookie;
	__u64 mono_ns; /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	char comm[16];
};

#endif
