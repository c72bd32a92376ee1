/*
 * perfbuf-tracer PID: for `make bench BENCH=bpf` only. Traces the syscalls
 * of PID's mount namespace the way oci-seccomp-bpf-hook does (one perf
 * event per syscall, the set built in user space) until SIGTERM, then
 * prints how many events and distinct syscalls it saw. Prints "ready" once
 * attached.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <bpf/libbpf.h>

#include "perfbuf.skel.h"

static volatile sig_atomic_t stop;
static unsigned long long seen;
static unsigned char set[1024];

static void on_term(int sig)
{
	stop = 1;
}

static void on_event(void *ctx, int cpu, void *data, __u32 size)
{
	unsigned nr = *(unsigned *)data;

	seen++;
	if (nr < sizeof(set))
		set[nr] = 1;
}

int main(int argc, char **argv)
{
	struct perfbuf_bpf *skel;
	struct perf_buffer *pb;
	char path[64];
	struct stat st;
	int distinct = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: perfbuf-tracer PID\n");
		return 2;
	}
	snprintf(path, sizeof(path), "/proc/%s/ns/mnt", argv[1]);
	if (stat(path, &st) < 0) {
		perror(path);
		return 1;
	}
	skel = perfbuf_bpf__open();
	if (!skel)
		return 1;
	skel->rodata->target_mntns = (__u32)st.st_ino;
	if (perfbuf_bpf__load(skel) || perfbuf_bpf__attach(skel)) {
		fprintf(stderr, "perfbuf-tracer: cannot load or attach\n");
		return 1;
	}
	pb = perf_buffer__new(bpf_map__fd(skel->maps.events), 64, on_event, NULL, NULL, NULL);
	if (!pb)
		return 1;
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	printf("ready\n");
	fflush(stdout);
	while (!stop)
		perf_buffer__poll(pb, 100);
	perf_buffer__consume(pb);
	for (size_t i = 0; i < sizeof(set); i++)
		distinct += set[i];
	printf("events=%llu distinct=%d\n", seen, distinct);
	perf_buffer__free(pb);
	perfbuf_bpf__destroy(skel);
	return 0;
}
