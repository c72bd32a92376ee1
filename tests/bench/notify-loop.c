/*
 * notify-loop.c: the workload of the notification round-trip benchmark.
 * Runs as a container's process (linked statically): calls getpgid(0), which
 * the container's seccomp profile notifies, N times and prints the mean time
 * per call in ns. getpgid is used because nothing else in a container start
 * calls it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 10000;
	struct timespec a, b;

	syscall(SYS_getpgid, 0); /* warm up */
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++)
		syscall(SYS_getpgid, 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("ns_per_call=%.0f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / (double)n);
	return 0;
}
