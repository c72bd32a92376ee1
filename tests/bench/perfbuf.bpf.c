// SPDX-License-Identifier: GPL-2.0
/*
 * perfbuf.bpf.c: for `make bench BENCH=bpf` only, the design ocitap's
 * syscalls.bpf.c is measured against (oci-seccomp-bpf-hook's): on every
 * syscall of the traced container, one perf event with the syscall number,
 * sent to user space, which builds the set there.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 target_mntns = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter, struct pt_regs *regs, long id)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 nr = (__u32)id;

	if (task->nsproxy->mnt_ns->ns.inum != target_mntns)
		return 0;
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &nr, sizeof(nr));
	return 0;
}
