/*
 * bpf-prog: a container's whole program for tests/integration/bpf.sh,
 * linked statically so that a rootfs holding only it runs. Each mode makes
 * a small fixed set of syscalls, by number, so that the test knows what
 * the profile must allow:
 *
 *   exit3    write, getppid, uname, then exit with 3
 *   extra    the same, plus sysinfo: exit 4 when it was refused (printing
 *            the errno), 3 when it was allowed
 *   sleep    wait to be killed
 *   oom      touch memory until the OOM killer comes
 *   loop N   getpid N times, print the nanoseconds per call (benchmark)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static void say(const char *s)
{
	syscall(SYS_write, 1, s, strlen(s));
}

static int fixed_set(void)
{
	struct utsname u;

	say("bpf-prog: hello\n");
	syscall(SYS_getppid);
	syscall(SYS_uname, &u);
	return 3;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "exit3";

	if (strcmp(mode, "exit3") == 0) {
		syscall(SYS_exit_group, fixed_set());
	} else if (strcmp(mode, "extra") == 0) {
		char buf[128];
		char info[256];

		fixed_set();
		if (syscall(SYS_sysinfo, info) < 0) {
			snprintf(buf, sizeof(buf), "bpf-prog: sysinfo refused: errno %d\n", errno);
			say(buf);
			syscall(SYS_exit_group, 4);
		}
		syscall(SYS_exit_group, 3);
	} else if (strcmp(mode, "sleep") == 0) {
		for (;;) {
			struct timespec ts = { 1, 0 };

			syscall(SYS_nanosleep, &ts, NULL);
		}
	} else if (strcmp(mode, "oom") == 0) {
		for (;;) {
			char *p = malloc(1 << 20);

			if (p)
				memset(p, 1, 1 << 20);
		}
	} else if (strcmp(mode, "loop") == 0 && argc > 2) {
		long n = atol(argv[2]);
		struct timespec a, b;
		char buf[64];

		clock_gettime(CLOCK_MONOTONIC, &a);
		for (long i = 0; i < n; i++)
			syscall(SYS_getpid);
		clock_gettime(CLOCK_MONOTONIC, &b);
		snprintf(buf, sizeof(buf), "%.1f\n",
			 ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / (double)n);
		say(buf);
		return 0;
	}
	return 2;
}
