/*
 * spawn-bench.c: time whole processes, as a runtime runs a hook: fork, exec
 * with stdin from a file, wait. Two commands alternate run by run (so a
 * noisy neighbour hits both alike); the median of each is reported and the
 * ratio B/A. Usage: spawn-bench RUNS INPUT -- CMD_A... -- CMD_B...
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double run_once(char **argv, const char *input)
{
	struct timespec a, b;
	int status;
	pid_t pid;

	clock_gettime(CLOCK_MONOTONIC, &a);
	pid = fork();
	if (pid == 0) {
		int fd = open(input, O_RDONLY);
		int null = open("/dev/null", O_WRONLY);

		dup2(fd, 0);
		dup2(null, 1);
		dup2(null, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "spawn-bench: %s failed\n", argv[0]);
		exit(1);
	}
	return (b.tv_sec - a.tv_sec) * 1e6 + (b.tv_nsec - a.tv_nsec) / 1e3;
}

static int cmp(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

int main(int argc, char **argv)
{
	char **a = NULL, **b = NULL;
	int runs;
	double *ta, *tb;

	if (argc < 6 || strcmp(argv[3], "--") != 0) {
		fprintf(stderr, "usage: spawn-bench RUNS INPUT -- CMD_A... -- CMD_B...\n");
		return 2;
	}
	runs = atoi(argv[1]);
	a = argv + 4;
	for (int i = 4; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			argv[i] = NULL;
			b = argv + i + 1;
			break;
		}
	if (!b || !*b || runs < 1)
		return 2;
	ta = calloc((size_t)runs, sizeof(double));
	tb = calloc((size_t)runs, sizeof(double));
	for (int i = 0; i < 10; i++) { /* warm up */
		run_once(a, argv[2]);
		run_once(b, argv[2]);
	}
	for (int i = 0; i < runs; i++) {
		ta[i] = run_once(a, argv[2]);
		tb[i] = run_once(b, argv[2]);
	}
	qsort(ta, (size_t)runs, sizeof(double), cmp);
	qsort(tb, (size_t)runs, sizeof(double), cmp);
	printf("%s %.0f us   %s %.0f us   ratio %.2fx (medians of %d)\n", a[0], ta[runs / 2], b[0], tb[runs / 2],
	       tb[runs / 2] / ta[runs / 2], runs);
	return 0;
}
