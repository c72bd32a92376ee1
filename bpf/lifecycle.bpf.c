// SPDX-License-Identifier: GPL-2.0
/*
 * lifecycle.bpf.c: the moments of a registered container the daemon cannot
 * see from outside: its init exec'ing the user program (created -> running),
 * the init's exit with its status, and the OOM killer choosing any process
 * of the container. Each is one ring buffer event; nothing runs per syscall.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "ocitap-bpf.h"

#define SIGNAL_GROUP_EXIT 0x00000004 /* include/linux/sched/signal.h */

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct ocitap_bpf_container);
} containers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct ocitap_bpf_init);
} inits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* events the ring had no room for (the daemon stalled): counted, not lost silently */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

static __always_inline void emit(__u32 kind, struct task_struct *task, __u64 cookie, __s32 status)
{
	struct ocitap_bpf_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		__u32 zero = 0;
		__u64 *n = bpf_map_lookup_elem(&lost, &zero);

		if (n)
			__sync_fetch_and_add(n, 1);
		return;
	}
	e->kind = kind;
	e->pid = task->tgid;
	e->status = status;
	e->mntns = task->nsproxy ? task->nsproxy->mnt_ns->ns.inum : 0;
	e->cookie = cookie;
	e->mono_ns = bpf_ktime_get_ns();
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), task->comm);
	bpf_ringbuf_submit(e, 0);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(sched_process_exec, struct task_struct *p)
{
	__u32 tgid = p->tgid;
	struct ocitap_bpf_init *in = bpf_map_lookup_elem(&inits, &tgid);

	if (!in || __sync_fetch_and_add(&in->execs, 1) != 0)
		return 0;
	emit(OCITAP_BPF_EV_EXEC, p, in->cookie, 0);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(sched_process_exit, struct task_struct *p)
{
	__u32 tgid = p->tgid;
	struct ocitap_bpf_init *in = bpf_map_lookup_elem(&inits, &tgid);
	struct signal_struct *sig = p->signal;
	__s32 status;

	if (!in || sig->live.counter != 0) /* not the init, or not its last thread */
		return 0;
	status = (sig->flags & SIGNAL_GROUP_EXIT) ? sig->group_exit_code : p->exit_code;
	emit(OCITAP_BPF_EV_EXIT, p, in->cookie, status);
	bpf_map_delete_elem(&inits, &tgid);
	return 0;
}

/* oom:mark_victim, (task, uid) since Linux 6.8; older kernels fall back to
 * the next program (the loader picks the one that loads). */
SEC("tp_btf/mark_victim")
int BPF_PROG(mark_victim, struct task_struct *victim)
{
	__u32 mntns = victim->nsproxy ? victim->nsproxy->mnt_ns->ns.inum : 0;
	struct ocitap_bpf_container *c = bpf_map_lookup_elem(&containers, &mntns);

	if (c)
		emit(OCITAP_BPF_EV_OOM, victim, c->cookie, 0);
	return 0;
}
