// SPDX-License-Identifier: GPL-2.0
/*
 * syscalls.bpf.c: the set of syscalls each traced container makes, as a
 * bitmap per ABI in its entry of the containers map (shared with
 * lifecycle.bpf.c). Runs on every syscall of every process while attached,
 * so the first thing it does is leave: one lookup of the caller's mount
 * namespace, and a set bit is never written again.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "ocitap-bpf.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct ocitap_bpf_container);
} containers SEC(".maps");

static __always_inline __u32 abi_of(struct pt_regs *regs, long *nr)
{
#if defined(__TARGET_ARCH_x86)
	/* a 64-bit task runs in the __USER_CS segment; x32 numbers carry bit 30 */
	if (regs->cs != 0x33)
		return OCITAP_BPF_ABI_COMPAT;
	*nr &= ~0x40000000L;
#elif defined(__TARGET_ARCH_arm64)
	if (regs->pstate & 0x10) /* PSR_MODE32_BIT */
		return OCITAP_BPF_ABI_COMPAT;
#endif
	return OCITAP_BPF_ABI_NATIVE;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter, struct pt_regs *regs, long id)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 mntns = task->nsproxy->mnt_ns->ns.inum;
	struct ocitap_bpf_container *c = bpf_map_lookup_elem(&containers, &mntns);
	__u64 n, bit, *word;
	__u32 abi;

	if (!c || !(c->flags & OCITAP_BPF_TRACE_SYSCALLS))
		return 0;
	abi = abi_of(regs, &id);
	if (id < 0 || id >= OCITAP_BPF_NR_MAX)
		return 0;
	n = (__u64)id;
	word = &c->syscalls[abi & 1][(n / 64) & (OCITAP_BPF_WORDS - 1)];
	bit = 1ULL << (n & 63);
	if (!(*word & bit))
		__sync_fetch_and_or(word, bit);
	return 0;
}
